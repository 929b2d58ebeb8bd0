//! The CSV columns a query reads. A query that names its columns (`SELECT s.name … WHERE
//! s.city = …`) needs only those of each record; the others are kept in their places — `_N`
//! still finds the Nth — but empty and nameless, so a wide CSV costs the columns asked for,
//! not all of them. A query that uses the record whole (`SELECT *`, the alias alone, a FROM
//! path) reads every column.

use std::collections::BTreeSet;

use super::eval::positional;
use super::sql::{Expr, Projection, Query, Step};

/// The columns a query reads: by name (`true`: matched exactly, else case-insensitively, as
/// a path matches a member) and by position (`_N`, 0-based).
#[derive(Debug, Default)]
pub(super) struct Columns {
    names: Vec<(String, bool)>,
    positions: BTreeSet<usize>,
}

impl Columns {
    /// What `q` reads of each record; `None`: all of it.
    pub(super) fn of(q: &Query) -> Option<Columns> {
        let Projection::Items(items) = &q.projection else {
            return None;
        };
        if !q.from.is_empty() {
            return None;
        }
        let mut c = Columns::default();
        for e in items.iter().map(|(e, _)| e).chain(&q.filter) {
            if !c.visit(e, q.alias.as_deref()) {
                return None;
            }
        }
        Some(c)
    }

    /// Whether column `k`, named `name`, is read.
    pub(super) fn wants(&self, k: usize, name: &str) -> bool {
        self.positions.contains(&k)
            || self.names.iter().any(|(n, exact)| {
                if *exact {
                    n == name
                } else {
                    n.eq_ignore_ascii_case(name)
                }
            })
    }

    /// Whether column `k` is read by position (`_N`): all a column without a header name
    /// can be found by.
    pub(super) fn wants_position(&self, k: usize) -> bool {
        self.positions.contains(&k)
    }

    /// Note the columns `e` reads; `false` if it needs the whole record.
    fn visit(&mut self, e: &Expr, alias: Option<&str>) -> bool {
        match e {
            Expr::Lit(_) | Expr::Aggregate(_, None) => true,
            Expr::Path(steps) => self.path(steps, alias),
            Expr::Neg(x)
            | Expr::Not(x)
            | Expr::IsNull(x, _)
            | Expr::IsMissing(x, _)
            | Expr::Cast(x, _)
            | Expr::Aggregate(_, Some(x)) => self.visit(x, alias),
            Expr::Bin(_, a, b) | Expr::Like(a, b, ..) => {
                self.visit(a, alias) && self.visit(b, alias)
            }
            Expr::Between(a, b, c, _) => {
                self.visit(a, alias) && self.visit(b, alias) && self.visit(c, alias)
            }
            Expr::In(x, list, _) => {
                self.visit(x, alias) && list.iter().all(|e| self.visit(e, alias))
            }
            Expr::Call(_, args) => args.iter().all(|e| self.visit(e, alias)),
        }
    }

    /// The column a path starts at, after the alias (the same rule as the evaluator's).
    fn path(&mut self, steps: &[Step], alias: Option<&str>) -> bool {
        let rest = match (steps.first(), alias) {
            (Some(Step::Member(first, exact)), Some(a))
                if (*exact && first == a) || (!*exact && first.eq_ignore_ascii_case(a)) =>
            {
                &steps[1..]
            }
            _ => steps,
        };
        match rest.first() {
            Some(Step::Member(n, exact)) => {
                if let Some(k) = positional(n) {
                    self.positions.insert(k);
                }
                self.names.push((n.clone(), *exact));
                true
            }
            // The record itself, or a step a column cannot answer: read it whole.
            _ => false,
        }
    }
}
