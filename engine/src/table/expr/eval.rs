//! Evaluating a resolved condition against an item (or against no item: a missing item has no
//! attributes, so `attribute_not_exists(pk)` holds and every comparison is false).
//!
//! DynamoDB's rules: `<`, `<=`, `>`, `>=` and `BETWEEN` compare only two `S`, two `N` or two
//! `B` values and are false otherwise; `=` compares any two values; `<>` is true when the
//! values differ, including when one is missing; `IN` is `=` against any of the list;
//! `contains` looks for a substring in a string, a member in a set or an element in a list;
//! `size` is the length of a string or binary and the member count of a set, list or map.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{CmpOp, Cond, Elem, Operand};
use super::{CondExpr, OperandExpr};
use crate::table::number::Number;
use crate::table::value::{AttributeValue, Item, ValueType};

/// The value at `path` in `item`, if there is one.
pub fn get_path<'a>(item: &'a Item, path: &[Elem<String>]) -> Option<&'a AttributeValue> {
    let (first, rest) = path.split_first()?;
    let Elem::Name(n) = first else { return None };
    let mut v = item.get(n)?;
    for e in rest {
        v = match (e, v) {
            (Elem::Name(n), AttributeValue::M(m)) => m.get(n)?,
            (Elem::Index(i), AttributeValue::L(l)) => l.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The value of an operand (`None` when its path is missing or `size` has no answer).
pub fn operand<'a>(o: &'a OperandExpr, item: Option<&'a Item>) -> Option<Cow<'a, AttributeValue>> {
    match o {
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Path(p) => item.and_then(|i| get_path(i, p)).map(Cow::Borrowed),
        Operand::Call(c) if c.name == "size" => {
            let v = operand(c.args.first()?, item)?;
            let n = match v.as_ref() {
                AttributeValue::S(s) => s.len(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::M(m) => m.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(n as i64))))
        }
        Operand::Call(_) => None,
    }
}

fn compare(op: CmpOp, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match op {
        CmpOp::Eq => matches!((a, b), (Some(x), Some(y)) if x == y),
        CmpOp::Ne => !matches!((a, b), (Some(x), Some(y)) if x == y),
        _ => {
            let Some(ord) = a.zip(b).and_then(|(x, y)| x.scalar_cmp(y)) else {
                return false;
            };
            match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
                CmpOp::Eq | CmpOp::Ne => unreachable!(),
            }
        }
    }
}

/// Whether `hay` contains `needle` in DynamoDB's sense.
pub fn contains(hay: &AttributeValue, needle: &AttributeValue) -> bool {
    match (hay, needle) {
        (AttributeValue::S(h), AttributeValue::S(n)) => h.contains(n.as_str()),
        (AttributeValue::B(h), AttributeValue::B(n)) => {
            n.is_empty() || h.windows(n.len()).any(|w| w == n.as_slice())
        }
        (AttributeValue::Ss(h), AttributeValue::S(n)) => h.binary_search(n).is_ok(),
        (AttributeValue::Ns(h), AttributeValue::N(n)) => h.binary_search(n).is_ok(),
        (AttributeValue::Bs(h), AttributeValue::B(n)) => h.binary_search(n).is_ok(),
        (AttributeValue::L(l), n) => l.contains(n),
        _ => false,
    }
}

/// Whether `v` begins with `prefix` (two strings or two binaries).
pub fn begins_with(v: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (v, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
        _ => false,
    }
}

/// Evaluate a condition against an item (`None`: the item does not exist).
pub fn condition(c: &CondExpr, item: Option<&Item>) -> bool {
    match c {
        Cond::Cmp(op, a, b) => {
            let (x, y) = (operand(a, item), operand(b, item));
            compare(*op, x.as_deref(), y.as_deref())
        }
        Cond::Between(a, lo, hi) => {
            let (Some(x), Some(l), Some(h)) =
                (operand(a, item), operand(lo, item), operand(hi, item))
            else {
                return false;
            };
            matches!(x.scalar_cmp(&l), Some(Ordering::Greater | Ordering::Equal))
                && matches!(x.scalar_cmp(&h), Some(Ordering::Less | Ordering::Equal))
        }
        Cond::In(a, list) => {
            let Some(x) = operand(a, item) else {
                return false;
            };
            list.iter()
                .any(|o| operand(o, item).is_some_and(|y| *y == *x))
        }
        Cond::Call(call) => {
            let arg = |k: usize| call.args.get(k).and_then(|o| operand(o, item));
            match call.name.as_str() {
                "attribute_exists" => arg(0).is_some(),
                "attribute_not_exists" => arg(0).is_none(),
                "attribute_type" => match (arg(0), arg(1)) {
                    (Some(v), Some(t)) => t
                        .as_s()
                        .and_then(ValueType::from_name)
                        .is_some_and(|t| t == v.value_type()),
                    _ => false,
                },
                "begins_with" => {
                    matches!((arg(0), arg(1)), (Some(v), Some(p)) if begins_with(&v, &p))
                }
                "contains" => matches!((arg(0), arg(1)), (Some(v), Some(n)) if contains(&v, &n)),
                _ => false,
            }
        }
        Cond::Not(x) => !condition(x, item),
        Cond::And(a, b) => condition(a, item) && condition(b, item),
        Cond::Or(a, b) => condition(a, item) || condition(b, item),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse_condition;
    use super::super::{resolve, Placeholders};
    use super::*;
    use std::collections::BTreeMap;

    fn check(src: &str, item: Option<&Item>) -> bool {
        let values: BTreeMap<String, AttributeValue> = [
            (":one".to_string(), AttributeValue::n(1)),
            (":ten".to_string(), AttributeValue::n(10)),
            (":ab".to_string(), AttributeValue::s("ab")),
            (":S".to_string(), AttributeValue::s("S")),
            (":L".to_string(), AttributeValue::s("L")),
        ]
        .into();
        let mut ph = Placeholders::new(None, Some(&values));
        let c = resolve::condition(&parse_condition(src).unwrap(), &mut ph).unwrap();
        condition(&c, item)
    }

    #[test]
    fn semantics() {
        let mut item = Item::new();
        item.insert("n".into(), AttributeValue::n(5));
        item.insert("s".into(), AttributeValue::s("abc"));
        item.insert("tags".into(), AttributeValue::ss(["x", "ab"]));
        item.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::n(1), AttributeValue::s("ab")]),
        );
        let i = Some(&item);
        assert!(check("n BETWEEN :one AND :ten", i));
        assert!(!check("n < :one", i));
        assert!(!check("s < :one", i), "mixed types compare false");
        assert!(check("s <> :one", i));
        assert!(
            check("absent <> :one", i),
            "<> holds against a missing attribute"
        );
        assert!(!check("absent = :one", i));
        assert!(check(
            "begins_with(s, :ab) AND contains(tags, :ab) AND contains(l, :one)",
            i
        ));
        assert!(check("contains(s, :ab)", i));
        // (size 3 > 1 AND size 2 = 1) OR 5 IN (1, 10): false.
        assert!(!check(
            "size(s) > :one AND size(tags) = :one OR n IN (:one, :ten)",
            i
        ));
        assert!(check("size(l) > :one AND size(tags) > :one", i));
        assert!(check("attribute_type(s, :S) AND attribute_type(l, :L)", i));
        assert!(check("attribute_not_exists(n)", None));
        assert!(!check("NOT attribute_not_exists(n)", None));
        assert!(check("NOT (n = :one OR n = :ten)", i));
    }
}
