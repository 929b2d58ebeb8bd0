//! DynamoDB's typed values: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
//!
//! Sets are held sorted and without duplicates (strings and binaries bytewise, numbers
//! numerically), so two equal sets are equal values and every output is deterministic;
//! DynamoDB itself promises no order for set members. Maps are `BTreeMap`s for the same reason.
//! Item sizes follow DynamoDB's published rules ([`AttributeValue::size_bytes`]), because they
//! decide the 400 KB item limit, the 1 MB page and the capacity units a request consumes.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use super::number::Number;

/// An item: attribute name → value.
pub type Item = BTreeMap<String, AttributeValue>;

/// Largest item, bytes (names plus values, DynamoDB's rule).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// One attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    /// A UTF-8 string.
    S(String),
    /// A number.
    N(Number),
    /// Bytes.
    B(Vec<u8>),
    /// `true` or `false`.
    Bool(bool),
    /// The null value (always `true` on the wire).
    Null,
    /// A map of named values.
    M(BTreeMap<String, AttributeValue>),
    /// A list of values.
    L(Vec<AttributeValue>),
    /// A string set (sorted, unique, non-empty).
    Ss(Vec<String>),
    /// A number set (sorted, unique, non-empty).
    Ns(Vec<Number>),
    /// A binary set (sorted, unique, non-empty).
    Bs(Vec<Vec<u8>>),
}

/// The type of a value, named as DynamoDB's wire format names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
    /// Boolean.
    Bool,
    /// Null.
    Null,
    /// Map.
    M,
    /// List.
    L,
    /// String set.
    Ss,
    /// Number set.
    Ns,
    /// Binary set.
    Bs,
}

impl ValueType {
    /// The wire name: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Bool => "BOOL",
            ValueType::Null => "NULL",
            ValueType::M => "M",
            ValueType::L => "L",
            ValueType::Ss => "SS",
            ValueType::Ns => "NS",
            ValueType::Bs => "BS",
        }
    }

    /// The long name some DynamoDB messages use (`STRING`, `NUMBER`, `BINARY`, `BOOLEAN`,
    /// `NULL`, `MAP`, `LIST`, `STRING_SET`, `NUMBER_SET`, `BINARY_SET`).
    pub fn long_name(self) -> &'static str {
        match self {
            ValueType::S => "STRING",
            ValueType::N => "NUMBER",
            ValueType::B => "BINARY",
            ValueType::Bool => "BOOLEAN",
            ValueType::Null => "NULL",
            ValueType::M => "MAP",
            ValueType::L => "LIST",
            ValueType::Ss => "STRING_SET",
            ValueType::Ns => "NUMBER_SET",
            ValueType::Bs => "BINARY_SET",
        }
    }

    /// Parse a wire name.
    pub fn from_name(s: &str) -> Option<ValueType> {
        Some(match s {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "BOOL" => ValueType::Bool,
            "NULL" => ValueType::Null,
            "M" => ValueType::M,
            "L" => ValueType::L,
            "SS" => ValueType::Ss,
            "NS" => ValueType::Ns,
            "BS" => ValueType::Bs,
            _ => return None,
        })
    }

    /// Whether this is one of the three key types (`S`, `N`, `B`).
    pub fn is_scalar_key_type(self) -> bool {
        matches!(self, ValueType::S | ValueType::N | ValueType::B)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AttributeValue {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Bool(_) => ValueType::Bool,
            AttributeValue::Null => ValueType::Null,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::Ss(_) => ValueType::Ss,
            AttributeValue::Ns(_) => ValueType::Ns,
            AttributeValue::Bs(_) => ValueType::Bs,
        }
    }

    /// A string value.
    pub fn s(v: impl Into<String>) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    /// A number value from an integer.
    pub fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(v))
    }

    /// A string set from any strings (sorted and deduplicated here).
    pub fn ss<I: IntoIterator<Item = S>, S: Into<String>>(v: I) -> AttributeValue {
        let mut v: Vec<String> = v.into_iter().map(Into::into).collect();
        v.sort();
        v.dedup();
        AttributeValue::Ss(v)
    }

    /// A number set (sorted and deduplicated here).
    pub fn ns(mut v: Vec<Number>) -> AttributeValue {
        v.sort();
        v.dedup();
        AttributeValue::Ns(v)
    }

    /// A binary set (sorted and deduplicated here).
    pub fn bs(mut v: Vec<Vec<u8>>) -> AttributeValue {
        v.sort();
        v.dedup();
        AttributeValue::Bs(v)
    }

    /// DynamoDB's size of this value (without its name): strings and binaries by length,
    /// numbers one byte per two significant digits plus one, booleans and null one byte, sets
    /// the sum of their members, lists and maps 3 bytes plus their members (map members with
    /// their names) plus one byte per member.
    pub fn size_bytes(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size_bytes(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(m) => {
                3 + m
                    .iter()
                    .map(|(k, v)| k.len() + v.size_bytes() + 1)
                    .sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size_bytes() + 1).sum::<usize>(),
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Ns(v) => v.iter().map(Number::size_bytes).sum(),
            AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
        }
    }

    /// Order of two values of the same scalar type (`S` and `B` bytewise, `N` numerically);
    /// `None` for other types or mixed types — DynamoDB's `<`, `<=`, `>`, `>=`, `BETWEEN`.
    pub fn scalar_cmp(&self, other: &AttributeValue) -> Option<Ordering> {
        match (self, other) {
            (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
            (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&BTreeMap<String, AttributeValue>> {
        match self {
            AttributeValue::M(m) => Some(m),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_s(&self) -> Option<&str> {
        match self {
            AttributeValue::S(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_n(&self) -> Option<&Number> {
        match self {
            AttributeValue::N(n) => Some(n),
            _ => None,
        }
    }
}

/// DynamoDB's size of an item: each attribute's name (UTF-8 bytes) plus its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size_bytes()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_published_rules() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::s("abc"));
        item.insert("n".into(), AttributeValue::n(12345));
        item.insert("ok".into(), AttributeValue::Bool(true));
        assert_eq!(item_size(&item), (2 + 3) + (1 + 4) + (2 + 1));
        let mut m = BTreeMap::new();
        m.insert("a".into(), AttributeValue::s("xy"));
        assert_eq!(AttributeValue::M(m).size_bytes(), 3 + (1 + 2 + 1));
        assert_eq!(AttributeValue::L(vec![]).size_bytes(), 3);
        assert_eq!(
            AttributeValue::ss(["b", "a", "b"]),
            AttributeValue::Ss(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn scalar_order_only_within_a_type() {
        use AttributeValue as V;
        assert_eq!(V::n(-10).scalar_cmp(&V::n(3)), Some(Ordering::Less));
        assert_eq!(V::s("b").scalar_cmp(&V::s("a")), Some(Ordering::Greater));
        assert_eq!(V::s("1").scalar_cmp(&V::n(1)), None);
        assert_eq!(V::Bool(true).scalar_cmp(&V::Bool(true)), None);
    }
}
