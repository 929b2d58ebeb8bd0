//! The values a query sees: JSON's, with objects kept in their order (a record's fields come
//! out in the order they went in), plus `Missing` — what a path to nothing yields, which SQL's
//! `NULL` is not (`s.x IS MISSING` differs from `s.x IS NULL`).

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A path that leads nowhere.
    Missing,
    /// JSON `null`; an empty CSV field.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// Text.
    Str(String),
    /// A JSON array.
    List(Vec<Value>),
    /// A JSON object, its members in order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `name` of an object (exact name first, then ignoring ASCII case, as S3
    /// Select matches unquoted names); `Missing` for anything else.
    pub fn member(&self, name: &str, exact: bool) -> Value {
        self.member_ref(name, exact)
            .cloned()
            .unwrap_or(Value::Missing)
    }

    /// [`Value::member`], borrowed (`None`: missing).
    pub fn member_ref(&self, name: &str, exact: bool) -> Option<&Value> {
        let Value::Object(m) = self else {
            return None;
        };
        m.iter()
            .find(|(k, _)| k == name)
            .or_else(|| {
                (!exact)
                    .then(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                    .flatten()
            })
            .map(|(_, v)| v)
    }

    /// Whether the value is SQL's "no value" (`NULL` or `MISSING`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Missing | Value::Null)
    }

    /// As a number, if it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// SQL's comparison: numbers with numbers, text with text, booleans with booleans;
    /// `None` for values that do not compare (and so make a comparison false).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            _ => self.number()?.partial_cmp(&other.number()?),
        }
    }

    /// The value as a CSV field: text as is, numbers and booleans written out, `NULL` and
    /// `MISSING` empty, lists and objects as JSON.
    pub fn to_field(&self) -> String {
        match self {
            Value::Missing | Value::Null => String::new(),
            Value::Str(s) => s.clone(),
            other => other.to_json(),
        }
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Missing | Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) if f.is_finite() => {
                let _ = write!(out, "{f}");
            }
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                let mut first = true;
                for (k, v) in m.iter().filter(|(_, v)| *v != Value::Missing) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: Vec<(String, Value)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            // A repeated name: the last one counts, in the first one's place (as JSON parsers
            // that keep order do).
            match out.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_member_order_and_round_trips() {
        let src = r#"{"z":1,"a":[true,null,2.5,"x\"y"],"m":{"b":{},"a":-3}}"#;
        let v: Value = serde_json::from_str(src).unwrap();
        assert_eq!(v.to_json(), src);
        assert_eq!(v.member("Z", false), Value::Int(1));
        assert_eq!(v.member("Z", true), Value::Missing);
        assert_eq!(
            Value::Int(2).compare(&Value::Float(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Str("2".into()).compare(&Value::Int(2)), None);
    }
}
