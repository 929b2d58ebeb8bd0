//! Applying a resolved update expression to an item.
//!
//! Every right-hand side is evaluated against the item as it was before the update (so
//! `SET x = :v, y = x` reads the old `x`), and list indexes refer to the old positions: SET
//! actions run first, in path order (so `SET a[84] = …, a[17] = …` past the end appends the
//! `[17]` value first), then ADD and DELETE, then REMOVE from the highest index down. The
//! error messages are DynamoDB's.

use std::cmp::Ordering;

use super::ast::{Clause, Elem, Operand, SetValue};
use super::eval::get_path;
use super::{OperandExpr, PathExpr, UpdateExpr};
use crate::table::error::ValidationError;
use crate::table::value::{AttributeValue, Item};

/// DynamoDB's message for a path operand that is missing from the item.
pub const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";
/// DynamoDB's message for an operand of the wrong type at run time.
pub const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
/// DynamoDB's message for a path whose parent is missing or not a map/list.
pub const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";

fn path_cmp(a: &PathExpr, b: &PathExpr) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Elem::Name(p), Elem::Name(q)) => p.cmp(q),
            (Elem::Index(p), Elem::Index(q)) => p.cmp(q),
            (Elem::Name(_), Elem::Index(_)) => Ordering::Less,
            (Elem::Index(_), Elem::Name(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn eval_operand(o: &OperandExpr, old: &Item) -> Result<AttributeValue, ValidationError> {
    match o {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Path(p) => get_path(old, p)
            .cloned()
            .ok_or_else(|| ValidationError::new(MISSING_ATTRIBUTE)),
        Operand::Call(c) => match c.name.as_str() {
            "if_not_exists" => match &c.args[0] {
                Operand::Path(p) if get_path(old, p).is_some() => {
                    Ok(get_path(old, p).cloned().unwrap_or(AttributeValue::Null))
                }
                _ => eval_operand(&c.args[1], old),
            },
            "list_append" => {
                let a = eval_operand(&c.args[0], old)?;
                let b = eval_operand(&c.args[1], old)?;
                match (a, b) {
                    (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                        x.extend(y);
                        Ok(AttributeValue::L(x))
                    }
                    _ => Err(ValidationError::new(WRONG_TYPE)),
                }
            }
            other => Err(ValidationError(format!(
                "Invalid function name; function: {other}"
            ))),
        },
    }
}

fn eval_set_value(
    v: &SetValue<String, AttributeValue>,
    old: &Item,
) -> Result<AttributeValue, ValidationError> {
    match v {
        SetValue::One(o) => eval_operand(o, old),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (x, y) = (eval_operand(a, old)?, eval_operand(b, old)?);
            let (AttributeValue::N(x), AttributeValue::N(y)) = (x, y) else {
                return Err(ValidationError::new(WRONG_TYPE));
            };
            let r = if matches!(v, SetValue::Plus(..)) {
                x.add(&y)
            } else {
                x.sub(&y)
            };
            r.map(AttributeValue::N)
                .map_err(|e| ValidationError(e.to_string()))
        }
    }
}

/// The container holding the last element of `path`, created by nothing: a missing or
/// wrongly typed parent is [`INVALID_PATH`].
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &[Elem<String>],
) -> Result<&'a mut AttributeValue, ValidationError> {
    let bad = || ValidationError::new(INVALID_PATH);
    let (first, rest) = path.split_first().ok_or_else(bad)?;
    let Elem::Name(n) = first else {
        return Err(bad());
    };
    let mut v = item.get_mut(n).ok_or_else(bad)?;
    for e in rest {
        v = match (e, v) {
            (Elem::Name(n), AttributeValue::M(m)) => m.get_mut(n).ok_or_else(bad)?,
            (Elem::Index(i), AttributeValue::L(l)) => l.get_mut(*i as usize).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
    }
    Ok(v)
}

/// Put `value` at `path` (a list index past the end appends).
pub fn set_path(
    item: &mut Item,
    path: &[Elem<String>],
    value: AttributeValue,
) -> Result<(), ValidationError> {
    if let [Elem::Name(n)] = path {
        item.insert(n.clone(), value);
        return Ok(());
    }
    let (last, parent) = path
        .split_last()
        .ok_or_else(|| ValidationError::new(INVALID_PATH))?;
    match (last, parent_mut(item, parent)?) {
        (Elem::Name(n), AttributeValue::M(m)) => {
            m.insert(n.clone(), value);
        }
        (Elem::Index(i), AttributeValue::L(l)) => {
            if (*i as usize) < l.len() {
                l[*i as usize] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(ValidationError::new(INVALID_PATH)),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &[Elem<String>]) -> Result<(), ValidationError> {
    if let [Elem::Name(n)] = path {
        item.remove(n);
        return Ok(());
    }
    let (last, parent) = path
        .split_last()
        .ok_or_else(|| ValidationError::new(INVALID_PATH))?;
    match (last, parent_mut(item, parent)?) {
        (Elem::Name(n), AttributeValue::M(m)) => {
            m.remove(n);
        }
        (Elem::Index(i), AttributeValue::L(l)) => {
            if (*i as usize) < l.len() {
                l.remove(*i as usize);
            }
        }
        _ => return Err(ValidationError::new(INVALID_PATH)),
    }
    Ok(())
}

fn union<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut v: Vec<T> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}

fn minus<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter()
        .filter(|x| b.binary_search(x).is_err())
        .cloned()
        .collect()
}

fn add_values(
    old: Option<&AttributeValue>,
    v: &AttributeValue,
) -> Result<AttributeValue, ValidationError> {
    use AttributeValue as V;
    Ok(match (old, v) {
        (None, v) => v.clone(),
        (Some(V::N(a)), V::N(b)) => V::N(a.add(b).map_err(|e| ValidationError(e.to_string()))?),
        (Some(V::Ss(a)), V::Ss(b)) => V::Ss(union(a, b)),
        (Some(V::Ns(a)), V::Ns(b)) => V::Ns(union(a, b)),
        (Some(V::Bs(a)), V::Bs(b)) => V::Bs(union(a, b)),
        _ => return Err(ValidationError::new(WRONG_TYPE)),
    })
}

fn delete_values(
    old: &AttributeValue,
    v: &AttributeValue,
) -> Result<Option<AttributeValue>, ValidationError> {
    use AttributeValue as V;
    let r = match (old, v) {
        (V::Ss(a), V::Ss(b)) => V::Ss(minus(a, b)),
        (V::Ns(a), V::Ns(b)) => V::Ns(minus(a, b)),
        (V::Bs(a), V::Bs(b)) => V::Bs(minus(a, b)),
        _ => return Err(ValidationError::new(WRONG_TYPE)),
    };
    let empty = match &r {
        V::Ss(s) => s.is_empty(),
        V::Ns(s) => s.is_empty(),
        V::Bs(s) => s.is_empty(),
        _ => false,
    };
    Ok(if empty { None } else { Some(r) })
}

/// Apply `u` to `item` (`existed`: whether the item was there before; removing a nested path
/// of an item that did not exist is quietly nothing, as in DynamoDB). Returns the paths the
/// update touched (for `UPDATED_OLD` / `UPDATED_NEW`). On error the item may be half-updated:
/// callers work on a copy.
pub fn apply(
    u: &UpdateExpr,
    item: &mut Item,
    existed: bool,
) -> Result<Vec<PathExpr>, ValidationError> {
    let old = item.clone();
    let mut sets: Vec<(PathExpr, AttributeValue)> = Vec::new();
    let mut adds = Vec::new();
    let mut deletes = Vec::new();
    let mut removes: Vec<PathExpr> = Vec::new();
    for c in &u.clauses {
        match c {
            Clause::Set(actions) => {
                for (p, v) in actions {
                    sets.push((p.clone(), eval_set_value(v, &old)?));
                }
            }
            Clause::Remove(paths) => removes.extend(paths.iter().cloned()),
            Clause::Add(actions) => adds.extend(actions.iter().cloned()),
            Clause::Delete(actions) => deletes.extend(actions.iter().cloned()),
        }
    }
    sets.sort_by(|a, b| path_cmp(&a.0, &b.0));
    removes.sort_by(|a, b| path_cmp(b, a));
    let mut touched: Vec<PathExpr> = Vec::new();
    for (p, v) in sets {
        set_path(item, &p, v)?;
        touched.push(p);
    }
    for (p, v) in adds {
        let new = add_values(get_path(&old, &p), &v)?;
        set_path(item, &p, new)?;
        touched.push(p);
    }
    for (p, v) in deletes {
        match get_path(&old, &p) {
            None => {
                if p.len() > 1 {
                    parent_mut(item, &p[..p.len() - 1])?;
                }
            }
            Some(cur) => match delete_values(cur, &v)? {
                Some(rest) => set_path(item, &p, rest)?,
                None => remove_path(item, &p)?,
            },
        }
        touched.push(p);
    }
    for p in removes {
        match remove_path(item, &p) {
            Err(_) if !existed => {}
            r => r?,
        }
        touched.push(p);
    }
    Ok(touched)
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse_update;
    use super::super::{resolve, Placeholders};
    use super::*;
    use std::collections::BTreeMap;

    fn run(src: &str, item: &mut Item) -> Result<(), String> {
        let values: BTreeMap<String, AttributeValue> = [
            (":v".to_string(), AttributeValue::n(17)),
            (":one".to_string(), AttributeValue::n(1)),
            (":a1".to_string(), AttributeValue::s("a1")),
            (":a2".to_string(), AttributeValue::s("a2")),
            (":set".to_string(), AttributeValue::ss(["x", "y"])),
            (
                ":l".to_string(),
                AttributeValue::L(vec![AttributeValue::n(9)]),
            ),
        ]
        .into();
        let mut ph = Placeholders::new(None, Some(&values));
        let u = resolve::update(&parse_update(src).map_err(|e| e.message)?, &mut ph)
            .map_err(|e| e.message)?;
        apply(&u, item, true).map(|_| ()).map_err(|e| e.0)
    }

    fn list(xs: &[i64]) -> AttributeValue {
        AttributeValue::L(xs.iter().map(|&x| AttributeValue::n(x)).collect())
    }

    #[test]
    fn list_indexes_refer_to_the_old_positions() {
        let mut item = Item::new();
        item.insert("a".into(), list(&[2, 3, 4, 5, 6, 7]));
        run("REMOVE a[1] SET a[3] = :v", &mut item).unwrap();
        assert_eq!(item["a"], list(&[2, 4, 17, 6, 7]));
        run("SET a[84] = :a1, a[17] = :a2", &mut item).unwrap();
        let AttributeValue::L(l) = &item["a"] else {
            panic!()
        };
        assert_eq!(&l[5..], &[AttributeValue::s("a2"), AttributeValue::s("a1")]);
    }

    #[test]
    fn reads_see_the_old_item_and_errors_are_dynamodb_s() {
        let mut item = Item::new();
        item.insert("n".into(), AttributeValue::n(2));
        run("SET m = n + :one, n = :v", &mut item).unwrap();
        assert_eq!(
            (item["m"].clone(), item["n"].clone()),
            (AttributeValue::n(3), AttributeValue::n(17))
        );
        assert_eq!(
            run("SET x = :one, y = x", &mut item).unwrap_err(),
            MISSING_ATTRIBUTE
        );
        item.insert("str".into(), AttributeValue::s("x"));
        assert_eq!(
            run("SET z = str + :one", &mut item).unwrap_err(),
            WRONG_TYPE
        );
        assert_eq!(run("SET q.r = :one", &mut item).unwrap_err(), INVALID_PATH);
        run("ADD s :set, c :one", &mut item).unwrap();
        run("ADD c :one DELETE s :set", &mut item).unwrap();
        assert_eq!(item.get("c"), Some(&AttributeValue::n(2)));
        assert!(!item.contains_key("s"), "emptied set is removed");
        run("SET l = list_append(if_not_exists(l, :l), :l)", &mut item).unwrap();
        assert_eq!(item["l"], list(&[9, 9]));
        assert_eq!(run("ADD n :set", &mut item).unwrap_err(), WRONG_TYPE);
    }
}
