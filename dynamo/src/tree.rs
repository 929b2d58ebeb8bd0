//! A borrowed JSON tree for request bodies. The parser needs what `serde_json::Value` gives it
//! — objects iterated in key order, the last of duplicate keys winning, numbers as
//! [`serde_json::Number`], `null` told apart from a missing member — because DynamoDB's error
//! messages (and which of several problems is reported) depend on it. `Value` pays for that
//! with an owned `String` per key and string and a B-tree per object, which the parser then
//! copies again into the engine's types. This tree keeps the same semantics with strings
//! borrowed from the body (unless they hold escapes) and each object one sorted `Vec`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A JSON value, borrowing its strings from the text it was read from.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as serde_json reads it (integers exact, the rest `f64`).
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object.
    Object(Obj<'a>),
}

impl Json<'_> {
    /// Whether this is `null` (which DynamoDB reads as an absent member).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

/// A JSON object: members sorted by key, keys unique (the last duplicate wins), as in
/// `serde_json::Map` without `preserve_order`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Obj<'a> {
    fn from_members(mut members: Vec<(Cow<'a, str>, Json<'a>)>) -> Obj<'a> {
        // A stable sort keeps duplicates in document order, so the last of a run wins.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Cow<'a, str>, Json<'a>)> = Vec::with_capacity(members.len());
        for m in members {
            if out.last().is_some_and(|l| l.0 == m.0) {
                out.pop();
            }
            out.push(m);
        }
        Obj(out)
    }

    /// The member named `key`.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.0
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// The members in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Read JSON text (serde_json's reader, so its syntax errors and nesting limit are the same as
/// `serde_json::from_slice::<Value>`'s).
pub fn from_slice(text: &[u8]) -> Result<Json<'_>, serde_json::Error> {
    serde_json::from_slice(text)
}

impl<'a> From<&'a Value> for Json<'a> {
    fn from(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s.as_str())),
            Value::Array(a) => Json::Array(a.iter().map(Json::from).collect()),
            // Already sorted and unique.
            Value::Object(o) => Json::Object(Obj(o
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from(v)))
                .collect())),
        }
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

// Mirrors serde_json's own visitor for `Value`, number for number.
impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_u64<E: Error>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_f64<E: Error>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: Error>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }
    fn visit_unit<E: Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Json::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Json::Object(Obj::from_members(members)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree agrees with `Value` on everything the parser looks at.
    fn same(text: &str) {
        let v: Value = serde_json::from_str(text).unwrap();
        let t = from_slice(text.as_bytes()).unwrap();
        assert_eq!(t, Json::from(&v), "{text}");
    }

    #[test]
    fn agrees_with_value() {
        same(r#"{"b":1,"a":[true,null,-2,1.5,18446744073709551616],"c":"x\"y"}"#);
        same(r#"{"k":1,"j":2,"k":3}"#);
        same(r#"{"\u0041":{"z":{},"y":[]}}"#);
        same("\"plain\"");
    }

    #[test]
    fn errors_are_serde_json_s() {
        for bad in ["{", "{\"a\":}", "[1,]", "{} x", "\"\\x\""] {
            let a = serde_json::from_str::<Value>(bad).unwrap_err().to_string();
            let b = from_slice(bad.as_bytes()).unwrap_err().to_string();
            assert_eq!(a, b, "{bad}");
        }
    }
}
