//! Plain JSON documents as items — the "document" view boto3's resource layer and the
//! `seedbed table` command use: strings are `S`, numbers `N` (kept exactly as written), booleans
//! `BOOL`, null `NULL`, arrays `L` and objects `M`. (JSON text is read with serde_json, so a
//! number with more digits than an `i64`/`u64`/`f64` holds is rounded on the way in; use the
//! typed wire form for those.) Going back, sets become arrays and binaries
//! base64 strings, and numbers are printed as JSON numbers with every digit.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use seedbed_engine::table::number::NumberError;
use seedbed_engine::table::{AttributeValue, Item, Number};

/// Why a JSON document is not an item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// A JSON number DynamoDB cannot store (out of range, too many digits); DynamoDB's words.
    #[error(transparent)]
    Number(#[from] NumberError),
    /// The top level is not an object.
    #[error("an item must be a JSON object")]
    NotAnObject,
}

/// A JSON value as an attribute value (numbers must fit DynamoDB's range and precision).
pub fn value_from_document(v: &Value) -> Result<AttributeValue, DocumentError> {
    Ok(match v {
        Value::Null => AttributeValue::Null,
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(Number::parse(&n.to_string())?),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(
            a.iter()
                .map(value_from_document)
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => AttributeValue::M(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), value_from_document(v)?)))
                .collect::<Result<_, DocumentError>>()?,
        ),
    })
}

/// A JSON object as an item.
pub fn item_from_document(v: &Value) -> Result<Item, DocumentError> {
    match value_from_document(v)? {
        AttributeValue::M(m) => Ok(m),
        _ => Err(DocumentError::NotAnObject),
    }
}

fn write_value(out: &mut String, v: &AttributeValue) {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    match v {
        AttributeValue::S(s) => out.push_str(&quote(s)),
        AttributeValue::N(n) => out.push_str(&n.to_string()),
        AttributeValue::B(b) => out.push_str(&quote(&STANDARD.encode(b))),
        AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttributeValue::Null => out.push_str("null"),
        AttributeValue::M(m) => write_map(out, m),
        AttributeValue::L(l) => write_list(
            out,
            l.iter().map(|x| {
                Box::new(move |o: &mut String| write_value(o, x)) as Box<dyn Fn(&mut String)>
            }),
        ),
        AttributeValue::Ss(s) => write_list(
            out,
            s.iter().map(|x| {
                Box::new(move |o: &mut String| o.push_str(&quote(x))) as Box<dyn Fn(&mut String)>
            }),
        ),
        AttributeValue::Ns(s) => write_list(
            out,
            s.iter().map(|x| {
                Box::new(move |o: &mut String| o.push_str(&x.to_string()))
                    as Box<dyn Fn(&mut String)>
            }),
        ),
        AttributeValue::Bs(s) => write_list(
            out,
            s.iter().map(|x| {
                Box::new(move |o: &mut String| o.push_str(&quote(&STANDARD.encode(x))))
                    as Box<dyn Fn(&mut String)>
            }),
        ),
    }
}

fn write_list<'a>(out: &mut String, items: impl Iterator<Item = Box<dyn Fn(&mut String) + 'a>>) {
    out.push('[');
    for (i, f) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out);
    }
    out.push(']');
}

fn write_map(out: &mut String, m: &std::collections::BTreeMap<String, AttributeValue>) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        write_value(out, v);
    }
    out.push('}');
}

/// An item as compact JSON text (numbers with every digit).
pub fn item_to_document(item: &Item) -> String {
    let mut s = String::new();
    write_map(&mut s, item);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_round_trip_with_exact_numbers() {
        let text = r#"{"a":1234567890123456789,"b":[1.5,"x",true,null],"c":{"d":-0.001}}"#;
        let item = item_from_document(&serde_json::from_str(text).unwrap_or(json!({}))).unwrap();
        assert_eq!(item_to_document(&item), text);
    }
}
