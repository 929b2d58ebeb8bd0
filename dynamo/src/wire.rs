//! DynamoDB's JSON form of attribute values — `{"S": "x"}`, `{"N": "1.5"}`, `{"B": "<base64>"}`,
//! `{"BOOL": true}`, `{"NULL": true}`, `{"M": {…}}`, `{"L": […]}`, `{"SS": […]}`, `{"NS": […]}`,
//! `{"BS": […]}` — both ways, refusing malformed values with DynamoDB's messages. A request's
//! values have been read against the model already ([`crate::shape::check`]); the kind checks
//! here serve the other readers (ImportTable's files) and word it the same way.

use std::fmt::Display;

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use base64::engine::GeneralPurpose;
use base64::Engine;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use seedbed_engine::table::{value_rules, AttributeValue, Item, Number};

use crate::errors::WireError;
use crate::shape::{self, At, Shape, ATTRIBUTE_VALUE, ITEM};
use crate::tree::{Json, Obj};

fn ser(msg: impl Into<String>) -> WireError {
    WireError::Serialization(msg.into())
}

fn val(msg: impl Into<String>) -> WireError {
    WireError::Validation(msg.into())
}

fn string<'a>(v: &'a Json<'_>) -> Result<&'a str, WireError> {
    match v {
        Json::String(s) => Ok(s.as_ref()),
        other => Err(shape::mismatch(&Shape::String, other, At::Member)),
    }
}

fn blob(v: &Json<'_>) -> Result<Vec<u8>, WireError> {
    let s = match v {
        Json::String(s) => s,
        other => return Err(shape::mismatch(&Shape::Blob, other, At::Member)),
    };
    shape::base64(s)?;
    // What `shape::base64` accepts decodes; the engine's own words, should it not.
    STANDARD
        .decode(s.as_bytes())
        .map_err(|e| ser(e.to_string()))
}

/// SS, NS, BS, L: a list (whose messages do not depend on what it holds).
fn array<'a, 'b>(v: &'a Json<'b>) -> Result<&'a Vec<Json<'b>>, WireError> {
    match v {
        Json::Array(a) => Ok(a),
        other => Err(shape::mismatch(
            &Shape::List(&ATTRIBUTE_VALUE),
            other,
            At::Member,
        )),
    }
}

fn number(s: &str) -> Result<Number, WireError> {
    Number::parse(s).map_err(|e| val(e.to_string()))
}

fn duplicates<T: Ord + Clone>(v: &[T]) -> bool {
    let mut s = v.to_vec();
    s.sort();
    s.windows(2).any(|w| w[0] == w[1])
}

/// Parse one attribute value.
pub fn value_from_json(v: &Value) -> Result<AttributeValue, WireError> {
    value_from_tree(&Json::from(v))
}

/// Parse one attribute value from a request body's tree.
pub fn value_from_tree(v: &Json<'_>) -> Result<AttributeValue, WireError> {
    let obj = match v {
        Json::Object(o) => o,
        other => return Err(shape::mismatch(&ATTRIBUTE_VALUE, other, At::Element)),
    };
    let mut known = obj.iter().filter(|(k, v)| {
        matches!(
            *k,
            "S" | "N" | "B" | "BOOL" | "NULL" | "M" | "L" | "SS" | "NS" | "BS"
        ) && !v.is_null()
    });
    let Some((k, x)) = known.next() else {
        return Err(val(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ));
    };
    if known.next().is_some() {
        // Numbers are read before the types are counted: `{"S": "a", "N": "b"}` is refused
        // for its number (dynalite's tests, checked against DynamoDB).
        for (k, x) in obj.iter() {
            match (k, x) {
                ("N", Json::String(n)) => {
                    number(n)?;
                }
                ("NS", Json::Array(a)) => {
                    for e in a {
                        if let Json::String(n) = e {
                            number(n)?;
                        }
                    }
                }
                _ => {}
            }
        }
        return Err(val(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ));
    }
    Ok(match k {
        "S" => AttributeValue::S(string(x)?.to_string()),
        "N" => AttributeValue::N(number(string(x)?)?),
        "B" => AttributeValue::B(blob(x)?),
        "BOOL" => match shape::boolean(x) {
            Some(b) => AttributeValue::Bool(b),
            None => return Err(shape::mismatch(&Shape::Boolean, x, At::Member)),
        },
        "NULL" => match shape::boolean(x) {
            Some(true) => AttributeValue::Null,
            Some(false) => {
                return Err(val("One or more parameter values were invalid: Null attribute value types must have the value of true"))
            }
            None => return Err(shape::mismatch(&Shape::Boolean, x, At::Member)),
        },
        "M" => match x {
            Json::Object(m) => AttributeValue::M(item_from_obj(m)?),
            other => return Err(shape::mismatch(&ITEM, other, At::Member)),
        },
        "L" => AttributeValue::L(array(x)?.iter().map(value_from_tree).collect::<Result<_, _>>()?),
        // An empty set is refused here with the value's other faults (DynamoDB checks a
        // value whole before the request's later parameters; the table API checks it again).
        "SS" => {
            let v: Vec<String> = array(x)?.iter().map(|e| string(e).map(String::from)).collect::<Result<_, _>>()?;
            if v.is_empty() {
                return Err(val(value_rules::EMPTY_SS));
            }
            if duplicates(&v) {
                // The members as JSON strings (DynamoDB's wording since mid-2026, in every
                // region the DynamoDB Conformance Suite samples: `["a", "a"]`, it was `[a, a]`).
                let quoted: Vec<String> = v.iter().map(|s| serde_json::to_string(s).unwrap_or_default()).collect();
                return Err(val(format!(
                    "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                    quoted.join(", ")
                )));
            }
            AttributeValue::ss(v)
        }
        "NS" => {
            let raw: Vec<&str> = array(x)?.iter().map(string).collect::<Result<_, _>>()?;
            let v: Vec<Number> = raw.iter().map(|s| number(s)).collect::<Result<_, _>>()?;
            if v.is_empty() {
                return Err(val(value_rules::EMPTY_NS));
            }
            if duplicates(&v) {
                return Err(val("Input collection contains duplicates"));
            }
            AttributeValue::ns(v)
        }
        "BS" => {
            let v: Vec<Vec<u8>> = array(x)?.iter().map(blob).collect::<Result<_, _>>()?;
            if v.is_empty() {
                return Err(val(value_rules::EMPTY_BS));
            }
            if duplicates(&v) {
                // The members as given, as JSON strings with no space between them, and none
                // before "of" (`["",""]of type BS`: DynamoDB since mid-2026, the DynamoDB
                // Conformance Suite's captures).
                let given: Vec<String> = array(x)?.iter().filter_map(|e| match e {
                    Json::String(s) => Some(serde_json::to_string(&**s).unwrap_or_default()),
                    _ => None,
                }).collect();
                return Err(val(format!(
                    "One or more parameter values were invalid: Input collection [{}]of type BS contains duplicates.",
                    given.join(",")
                )));
            }
            AttributeValue::bs(v)
        }
        _ => unreachable!("filtered above"),
    })
}

/// Parse a map of attribute values (an item, a key, ExpressionAttributeValues) from a request
/// body's tree.
pub fn item_from_obj(m: &Obj<'_>) -> Result<Item, WireError> {
    // Members come in key order, so collecting builds the map in one sorted pass.
    m.iter()
        .map(|(k, v)| Ok((k.to_string(), value_from_tree(v)?)))
        .collect()
}

/// Parse a JSON value that must be a map of attribute values.
pub fn item_from_value(v: &Value) -> Result<Item, WireError> {
    item_from_tree(&Json::from(v))
}

/// Parse a tree that must be a map of attribute values.
pub fn item_from_tree(v: &Json<'_>) -> Result<Item, WireError> {
    match v {
        Json::Object(m) => item_from_obj(m),
        other => Err(shape::mismatch(&ITEM, other, At::Element)),
    }
}

/// An item in the wire form, serialized straight from the engine's types: responses are
/// written to bytes with no `Value` tree in between (the protocol's main cost for reads).
pub struct WireItem<'a>(pub &'a Item);

/// One attribute value in the wire form (see [`WireItem`]).
pub struct WireValue<'a>(pub &'a AttributeValue);

/// A list of items in the wire form (`Items`, `Responses`).
pub struct WireItems<'a>(pub &'a [Item]);

/// A value written as a JSON string through its `Display` (numbers: no `String` in between).
struct Shown<T>(T);

impl<T: Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

fn b64(b: &[u8]) -> Shown<Base64Display<'_, '_, GeneralPurpose>> {
    Shown(Base64Display::new(b, &STANDARD))
}

/// A list serialized from an iterator made on demand.
struct SeqOf<F>(F);

impl<F, I> Serialize for SeqOf<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

impl Serialize for WireItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, WireValue(v))))
    }
}

impl Serialize for WireItems<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(WireItem))
    }
}

impl Serialize for WireValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(x) => m.serialize_entry("S", x)?,
            AttributeValue::N(n) => m.serialize_entry("N", &Shown(n))?,
            AttributeValue::B(b) => m.serialize_entry("B", &b64(b))?,
            AttributeValue::Bool(b) => m.serialize_entry("BOOL", b)?,
            AttributeValue::Null => m.serialize_entry("NULL", &true)?,
            AttributeValue::M(x) => m.serialize_entry("M", &WireItem(x))?,
            AttributeValue::L(l) => m.serialize_entry("L", &SeqOf(|| l.iter().map(WireValue)))?,
            AttributeValue::Ss(x) => m.serialize_entry("SS", x)?,
            AttributeValue::Ns(x) => m.serialize_entry("NS", &SeqOf(|| x.iter().map(Shown)))?,
            AttributeValue::Bs(x) => {
                m.serialize_entry("BS", &SeqOf(|| x.iter().map(|b| b64(b))))?
            }
        }
        m.end()
    }
}

/// The JSON form of a value.
pub fn value_to_json(v: &AttributeValue) -> Value {
    // Serializing into a `Value` cannot fail: every map key here is a string.
    serde_json::to_value(WireValue(v)).unwrap_or_else(|_| Value::Object(Map::new()))
}

/// The JSON form of an item.
pub fn item_to_json(item: &Item) -> Value {
    serde_json::to_value(WireItem(item)).unwrap_or_else(|_| Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The `Value`-building renderer this module had before items were serialized straight
    /// to bytes: the reference the byte renderer must agree with.
    fn reference(v: &AttributeValue) -> Value {
        let (k, x) = match v {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", Value::String(STANDARD.encode(b))),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::M(m) => ("M", reference_item(m)),
            AttributeValue::L(l) => ("L", Value::Array(l.iter().map(reference).collect())),
            AttributeValue::Ss(s) => (
                "SS",
                Value::Array(s.iter().cloned().map(Value::String).collect()),
            ),
            AttributeValue::Ns(s) => (
                "NS",
                Value::Array(s.iter().map(|n| Value::String(n.to_string())).collect()),
            ),
            AttributeValue::Bs(s) => (
                "BS",
                Value::Array(
                    s.iter()
                        .map(|b| Value::String(STANDARD.encode(b)))
                        .collect(),
                ),
            ),
        };
        let mut o = Map::new();
        o.insert(k.to_string(), x);
        Value::Object(o)
    }

    fn reference_item(item: &Item) -> Value {
        Value::Object(
            item.iter()
                .map(|(k, v)| (k.clone(), reference(v)))
                .collect(),
        )
    }

    fn number() -> impl Strategy<Value = Number> {
        (any::<i64>(), 0u32..6, any::<bool>()).prop_map(|(m, scale, neg)| {
            let digits = m.unsigned_abs().to_string();
            let text = if scale as usize >= digits.len() {
                digits
            } else {
                let (a, b) = digits.split_at(digits.len() - scale as usize);
                format!("{a}.{b}")
            };
            let text = if neg { format!("-{text}") } else { text };
            Number::parse(&text).unwrap_or_else(|_| Number::from_i64(0))
        })
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            any::<String>().prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::vec(any::<String>(), 1..4).prop_map(AttributeValue::ss),
            proptest::collection::vec(number(), 1..4).prop_map(AttributeValue::ns),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..9), 1..4)
                .prop_map(AttributeValue::bs),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map(any::<String>(), inner, 0..4)
                    .prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        /// Items written straight to bytes read back as the JSON the `Value` renderer built,
        /// and parse back to the same item.
        #[test]
        fn byte_rendering_matches_the_value_rendering(
            item in proptest::collection::btree_map(any::<String>(), value(), 0..6)
        ) {
            let bytes = serde_json::to_vec(&WireItem(&item)).unwrap();
            let read: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(&read, &reference_item(&item));
            prop_assert_eq!(item_to_json(&item), reference_item(&item));
            let tree = crate::tree::from_slice(&bytes).unwrap();
            prop_assert_eq!(item_from_tree(&tree).unwrap(), item);
        }
    }

    #[test]
    fn round_trip_every_type() {
        let j = json!({
            "s": {"S": "x"}, "n": {"N": "-1.50"}, "b": {"B": "AAEC"}, "t": {"BOOL": true}, "z": {"NULL": true},
            "m": {"M": {"a": {"L": [{"S": "y"}, {"N": "2"}]}}},
            "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["10", "2"]}, "bs": {"BS": ["AQ=="]}
        });
        let item = item_from_value(&j).unwrap();
        assert_eq!(item["n"], AttributeValue::N(Number::parse("-1.5").unwrap()));
        assert_eq!(item["b"], AttributeValue::B(vec![0, 1, 2]));
        let back = item_to_json(&item);
        assert_eq!(back["n"], json!({"N": "-1.5"}));
        assert_eq!(back["ns"], json!({"NS": ["2", "10"]}));
        assert_eq!(item_from_value(&back).unwrap(), item);
    }

    #[test]
    fn malformed_values_get_dynamodb_s_errors() {
        let e = |j: Value| value_from_json(&j).unwrap_err();
        assert_eq!(e(json!({})), val("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"));
        assert_eq!(e(json!({"S": "a", "N": "1"})), val("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"));
        // A number is read before the types are counted; duplicate binaries are named as given.
        assert_eq!(
            e(json!({"S": "a", "N": "b"})),
            val("The parameter cannot be converted to a numeric value: b")
        );
        assert_eq!(
            e(json!({"S": "", "NS": ["1", "x"]})),
            val("The parameter cannot be converted to a numeric value: x")
        );
        assert_eq!(
            e(json!({"BS": ["Yg==", "Yg=="]})),
            val("One or more parameter values were invalid: Input collection [\"Yg==\",\"Yg==\"]of type BS contains duplicates.")
        );
        assert_eq!(
            e(json!({"N": "dog"})),
            val("The parameter cannot be converted to a numeric value: dog")
        );
        assert!(matches!(e(json!({"N": 5})), WireError::Serialization(_)));
        assert_eq!(e(json!({"SS": ["a", "a"]})), val("One or more parameter values were invalid: Input collection [\"a\", \"a\"] contains duplicates."));
        assert_eq!(e(json!({"NULL": false})), val("One or more parameter values were invalid: Null attribute value types must have the value of true"));
        assert!(matches!(e(json!({"B": "!!"})), WireError::Serialization(_)));
    }
}
