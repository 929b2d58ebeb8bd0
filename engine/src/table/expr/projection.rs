//! ProjectionExpression (and the legacy AttributesToGet): keep only the listed paths of an
//! item. Nested paths keep their place: `a.b` gives `{a: {b: …}}`, and list elements picked by
//! index keep their order (`a[2], a[0]` gives `{a: [a0, a2]}`). Paths that lead nowhere add
//! nothing.

use std::collections::BTreeMap;

use super::ast::Elem;
use super::PathExpr;
use crate::table::value::{AttributeValue, Item};

#[derive(Debug, Default)]
struct Node {
    /// The whole value at this node is wanted.
    whole: bool,
    names: BTreeMap<String, Node>,
    indexes: BTreeMap<u32, Node>,
}

impl Node {
    fn insert(&mut self, path: &[Elem<String>]) {
        let Some((first, rest)) = path.split_first() else {
            self.whole = true;
            return;
        };
        let child = match first {
            Elem::Name(n) => self.names.entry(n.clone()).or_default(),
            Elem::Index(i) => self.indexes.entry(*i).or_default(),
        };
        child.insert(rest);
    }

    fn apply(&self, v: &AttributeValue) -> Option<AttributeValue> {
        if self.whole {
            return Some(v.clone());
        }
        match v {
            AttributeValue::M(m) if !self.names.is_empty() => {
                let out: BTreeMap<String, AttributeValue> = self
                    .names
                    .iter()
                    .filter_map(|(k, n)| Some((k.clone(), n.apply(m.get(k)?)?)))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) if !self.indexes.is_empty() => {
                let out: Vec<AttributeValue> = self
                    .indexes
                    .iter()
                    .filter_map(|(i, n)| n.apply(l.get(*i as usize)?))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

/// The parts of `item` that `paths` name.
pub fn project(item: &Item, paths: &[PathExpr]) -> Item {
    let mut root = Node::default();
    for p in paths {
        root.insert(p);
    }
    root.names
        .iter()
        .filter_map(|(k, n)| Some((k.clone(), n.apply(item.get(k)?)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_keep_their_place() {
        let mut inner = BTreeMap::new();
        inner.insert("b".to_string(), AttributeValue::n(1));
        inner.insert("c".to_string(), AttributeValue::n(2));
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::M(inner));
        item.insert(
            "l".into(),
            AttributeValue::L((0..4).map(AttributeValue::n).collect()),
        );
        item.insert("x".into(), AttributeValue::s("x"));
        let paths = vec![
            vec![Elem::Name("a".to_string()), Elem::Name("b".to_string())],
            vec![Elem::Name("l".to_string()), Elem::Index(2)],
            vec![Elem::Name("l".to_string()), Elem::Index(0)],
            vec![Elem::Name("l".to_string()), Elem::Index(9)],
            vec![Elem::Name("x".to_string()), Elem::Name("y".to_string())],
            vec![Elem::Name("nope".to_string())],
        ];
        let got = project(&item, &paths);
        let mut want = Item::new();
        want.insert(
            "a".into(),
            AttributeValue::M([("b".to_string(), AttributeValue::n(1))].into()),
        );
        want.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::n(0), AttributeValue::n(2)]),
        );
        assert_eq!(got, want);
    }
}
