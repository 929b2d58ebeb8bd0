//! DynamoDB's JSON form of attribute values — `{"S": "x"}`, `{"N": "1.5"}`, `{"B": "<base64>"}`,
//! `{"BOOL": true}`, `{"NULL": true}`, `{"M": {…}}`, `{"L": […]}`, `{"SS": […]}`, `{"NS": […]}`,
//! `{"BS": […]}` — both ways, refusing malformed values with DynamoDB's messages.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use seedbed_engine::table::{AttributeValue, Item, Number};

use crate::errors::WireError;

fn ser(msg: impl Into<String>) -> WireError {
    WireError::Serialization(msg.into())
}

fn val(msg: impl Into<String>) -> WireError {
    WireError::Validation(msg.into())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "list",
        Value::Object(_) => "structure",
    }
}

fn string(v: &Value) -> Result<&str, WireError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Array(_) => Err(ser("Start of list found where not expected")),
        Value::Object(_) => Err(ser("Start of structure or map found where not expected.")),
        other => Err(ser(format!(
            "class {} can not be converted to an String",
            type_name(other)
        ))),
    }
}

fn blob(v: &Value) -> Result<Vec<u8>, WireError> {
    let s = match v {
        Value::String(s) => s,
        Value::Array(_) => return Err(ser("Start of list found where not expected")),
        Value::Object(_) => return Err(ser("Start of structure or map found where not expected.")),
        other => {
            return Err(ser(format!(
                "class {} can not be converted to a Blob",
                type_name(other)
            )))
        }
    };
    STANDARD
        .decode(s)
        .map_err(|e| ser(format!("'{s}' can not be converted to a Blob: {e}")))
}

fn array(v: &Value) -> Result<&Vec<Value>, WireError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(_) => Err(ser("Start of structure or map found where not expected.")),
        _ => Err(ser("Expected list or null")),
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
    let obj = match v {
        Value::Object(o) => o,
        Value::Array(_) => return Err(ser("Start of list found where not expected")),
        _ => return Err(ser("Unexpected value type in payload")),
    };
    let known: Vec<(&String, &Value)> = obj
        .iter()
        .filter(|(k, v)| {
            matches!(
                k.as_str(),
                "S" | "N" | "B" | "BOOL" | "NULL" | "M" | "L" | "SS" | "NS" | "BS"
            ) && !v.is_null()
        })
        .collect();
    if known.is_empty() {
        return Err(val(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ));
    }
    if known.len() > 1 {
        return Err(val(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ));
    }
    let (k, x) = known[0];
    Ok(match k.as_str() {
        "S" => AttributeValue::S(string(x)?.to_string()),
        "N" => AttributeValue::N(number(string(x)?)?),
        "B" => AttributeValue::B(blob(x)?),
        "BOOL" => match x {
            Value::Bool(b) => AttributeValue::Bool(*b),
            other => return Err(ser(format!("class {} can not be converted to an Boolean", type_name(other)))),
        },
        "NULL" => match x {
            Value::Bool(true) => AttributeValue::Null,
            Value::Bool(false) => {
                return Err(val("One or more parameter values were invalid: Null attribute value types must have the value of true"))
            }
            other => return Err(ser(format!("class {} can not be converted to an Boolean", type_name(other)))),
        },
        "M" => match x {
            Value::Object(m) => AttributeValue::M(item_from_json(m)?),
            Value::Array(_) => return Err(ser("Start of list found where not expected")),
            _ => return Err(ser("Expected map or null")),
        },
        "L" => AttributeValue::L(array(x)?.iter().map(value_from_json).collect::<Result<_, _>>()?),
        "SS" => {
            let v: Vec<String> = array(x)?.iter().map(|e| string(e).map(String::from)).collect::<Result<_, _>>()?;
            if duplicates(&v) {
                return Err(val(format!(
                    "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                    v.join(", ")
                )));
            }
            AttributeValue::ss(v)
        }
        "NS" => {
            let raw: Vec<&str> = array(x)?.iter().map(string).collect::<Result<_, _>>()?;
            let v: Vec<Number> = raw.iter().map(|s| number(s)).collect::<Result<_, _>>()?;
            if duplicates(&v) {
                return Err(val("Input collection contains duplicates"));
            }
            AttributeValue::ns(v)
        }
        "BS" => {
            let v: Vec<Vec<u8>> = array(x)?.iter().map(blob).collect::<Result<_, _>>()?;
            if duplicates(&v) {
                return Err(val("One or more parameter values were invalid: Input collection contains duplicates."));
            }
            AttributeValue::bs(v)
        }
        _ => unreachable!("filtered above"),
    })
}

/// Parse a map of attribute values (an item, a key, ExpressionAttributeValues).
pub fn item_from_json(m: &Map<String, Value>) -> Result<Item, WireError> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), value_from_json(v)?)))
        .collect()
}

/// Parse a JSON value that must be a map of attribute values.
pub fn item_from_value(v: &Value) -> Result<Item, WireError> {
    match v {
        Value::Object(m) => item_from_json(m),
        Value::Array(_) => Err(ser("Start of list found where not expected")),
        _ => Err(ser("Expected map or null")),
    }
}

/// The JSON form of a value.
pub fn value_to_json(v: &AttributeValue) -> Value {
    let mut o = Map::new();
    let (k, x) = match v {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.to_string())),
        AttributeValue::B(b) => ("B", Value::String(STANDARD.encode(b))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null => ("NULL", Value::Bool(true)),
        AttributeValue::M(m) => ("M", item_to_json(m)),
        AttributeValue::L(l) => ("L", Value::Array(l.iter().map(value_to_json).collect())),
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
    o.insert(k.to_string(), x);
    Value::Object(o)
}

/// The JSON form of an item.
pub fn item_to_json(item: &BTreeMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert_eq!(
            e(json!({"N": "dog"})),
            val("The parameter cannot be converted to a numeric value: dog")
        );
        assert!(matches!(e(json!({"N": 5})), WireError::Serialization(_)));
        assert_eq!(e(json!({"SS": ["a", "a"]})), val("One or more parameter values were invalid: Input collection [a, a] contains duplicates."));
        assert_eq!(e(json!({"NULL": false})), val("One or more parameter values were invalid: Null attribute value types must have the value of true"));
        assert!(matches!(e(json!({"B": "!!"})), WireError::Serialization(_)));
    }
}
