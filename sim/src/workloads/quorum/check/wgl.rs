//! A Wing–Gong linearizability search for one key's register history, with memoisation
//! (Lowe's refinement, as in Porcupine and Knossos), and a shrinker to a minimal failing
//! sub-history.
//!
//! The search linearizes operations one at a time: an operation may go next if it was invoked
//! before every not-yet-linearized operation returned. A read may go only if it returns the
//! register's current value; a write sets it. Configurations already explored — (set of
//! linearized operations, register value) — are remembered and never explored twice. An
//! operation whose outcome is unknown (it failed or its node crashed) never returned: it may be
//! linearized any time after its invocation, or never. The search gives up after a bound on
//! configurations and says so ([`Verdict::Unknown`]) rather than guess.

use std::collections::HashSet;

use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;

/// Completion time of an operation whose outcome is unknown.
pub const NEVER: u64 = u64::MAX;

/// What an operation did to the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A read that returned this value (`None`: absent or deleted).
    Read(Option<u64>),
    /// A write of this value (`None`: a delete).
    Write(Option<u64>),
}

/// One operation of a key's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HOp {
    /// The client operation.
    pub id: OpId,
    /// The node it went to.
    pub node: NodeId,
    /// Invoked at, virtual nanoseconds.
    pub inv_ns: u64,
    /// Returned at, or [`NEVER`].
    pub ret_ns: u64,
    /// What it did.
    pub kind: Kind,
}

/// The search's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations explains every result.
    Linearizable,
    /// No order does.
    NotLinearizable,
    /// The search hit its bound.
    Unknown,
}

struct Search<'a> {
    ops: &'a [HOp],
    memo: HashSet<(Vec<u64>, Option<u64>)>,
    states: usize,
    states_max: usize,
}

impl Search<'_> {
    /// Depth-first search from (`done`, `value`); `Some(true)` found, `Some(false)` not
    /// possible from here, `None` out of budget.
    fn dfs(&mut self, done: &mut Vec<u64>, value: Option<u64>) -> Option<bool> {
        let is_done = |done: &Vec<u64>, i: usize| done[i / 64] & (1 << (i % 64)) != 0;
        let mut min_ret = NEVER;
        let mut all_done = true;
        for (i, op) in self.ops.iter().enumerate() {
            if !is_done(done, i) {
                min_ret = min_ret.min(op.ret_ns);
                if op.ret_ns != NEVER {
                    all_done = false;
                }
            }
        }
        if all_done {
            return Some(true);
        }
        if !self.memo.insert((done.clone(), value)) {
            return Some(false);
        }
        self.states += 1;
        if self.states > self.states_max {
            return None;
        }
        for i in 0..self.ops.len() {
            let op = self.ops[i];
            if op.inv_ns > min_ret {
                break; // sorted by invocation: no later one can go next either
            }
            if is_done(done, i) {
                continue;
            }
            let next = match op.kind {
                Kind::Read(v) if v == value => value,
                Kind::Read(_) => continue,
                Kind::Write(v) => v,
            };
            done[i / 64] |= 1 << (i % 64);
            let r = self.dfs(done, next);
            done[i / 64] &= !(1 << (i % 64));
            match r {
                Some(false) => {}
                other => return other,
            }
        }
        Some(false)
    }
}

/// Drop writes that never returned and whose value no read saw: they may be left out of any
/// linearization, so keeping them only widens the search.
fn prune(ops: &[HOp]) -> Vec<HOp> {
    let read = |v: Option<u64>| ops.iter().any(|o| o.kind == Kind::Read(v));
    let mut out: Vec<HOp> = ops
        .iter()
        .copied()
        .filter(|o| !(o.ret_ns == NEVER && matches!(o.kind, Kind::Write(v) if !read(v))))
        .collect();
    out.sort_by_key(|o| (o.inv_ns, o.id));
    out
}

/// Check one key's history, exploring at most `states_max` configurations.
pub fn check(ops: &[HOp], states_max: usize) -> Verdict {
    let ops = prune(ops);
    let mut s = Search {
        ops: &ops,
        memo: HashSet::new(),
        states: 0,
        states_max,
    };
    let mut done = vec![0u64; ops.len().div_ceil(64).max(1)];
    match s.dfs(&mut done, None) {
        Some(true) => Verdict::Linearizable,
        Some(false) => Verdict::NotLinearizable,
        None => Verdict::Unknown,
    }
}

/// Every read of a written value still has a write of it: a sub-history that keeps its
/// reads' sources, so shrinking does not invent "read of a value nobody wrote".
fn sources_kept(ops: &[HOp]) -> bool {
    ops.iter().all(|o| match o.kind {
        Kind::Read(Some(v)) => ops.iter().any(|w| w.kind == Kind::Write(Some(v))),
        _ => true,
    })
}

/// Shrink a non-linearizable history to a 1-minimal one: removing any single operation (that
/// keeps every read's source) makes it linearizable or leaves the search undecided.
pub fn minimize(ops: &[HOp], states_max: usize) -> Vec<HOp> {
    let mut cur = prune(ops);
    for _pass in 0..4 {
        let mut changed = false;
        let mut i = cur.len();
        while i > 0 {
            i -= 1;
            let mut cand = cur.clone();
            cand.remove(i);
            if sources_kept(&cand) && check(&cand, states_max) == Verdict::NotLinearizable {
                cur = cand;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    cur
}

/// One line per operation, for failure messages.
pub fn render(ops: &[HOp]) -> String {
    let mut s = String::new();
    for o in ops {
        let what = match o.kind {
            Kind::Read(Some(v)) => format!("get -> {v}"),
            Kind::Read(None) => "get -> (none)".to_string(),
            Kind::Write(Some(v)) => format!("put {v}"),
            Kind::Write(None) => "delete".to_string(),
        };
        let ret = if o.ret_ns == NEVER {
            "unknown".to_string()
        } else {
            fmt_nanos(o.ret_ns)
        };
        s.push_str(&format!(
            "\n    op {} at n{}: {what}  [{} .. {ret}]",
            o.id,
            o.node,
            fmt_nanos(o.inv_ns)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: u64, inv: u64, ret: u64, kind: Kind) -> HOp {
        HOp {
            id,
            node: 0,
            inv_ns: inv,
            ret_ns: ret,
            kind,
        }
    }

    #[test]
    fn sequential_and_concurrent_histories() {
        let h = [
            op(0, 0, 10, Kind::Write(Some(1))),
            op(1, 20, 30, Kind::Read(Some(1))),
        ];
        assert_eq!(check(&h, 1000), Verdict::Linearizable);
        // A read overlapping a write may see either value.
        let h = [
            op(0, 0, 10, Kind::Write(Some(1))),
            op(1, 20, 40, Kind::Write(Some(2))),
            op(2, 25, 30, Kind::Read(Some(1))),
            op(3, 35, 50, Kind::Read(Some(2))),
        ];
        assert_eq!(check(&h, 1000), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_is_caught_and_shrunk() {
        let h = [
            op(0, 0, 10, Kind::Write(Some(1))),
            op(1, 12, 14, Kind::Read(Some(1))),
            op(2, 20, 30, Kind::Write(Some(2))),
            op(3, 40, 50, Kind::Read(Some(1))),
            op(4, 60, 70, Kind::Read(Some(2))),
        ];
        assert_eq!(check(&h, 1000), Verdict::NotLinearizable);
        let m = minimize(&h, 1000);
        let ids: Vec<u64> = m.iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![0, 2, 3], "write 1, write 2, then a read of 1");
        assert!(render(&m).contains("get -> 1"));
    }

    #[test]
    fn unknown_writes_may_or_may_not_happen() {
        let h = [
            op(0, 0, NEVER, Kind::Write(Some(1))),
            op(1, 20, 30, Kind::Read(None)),
            op(2, 40, 50, Kind::Read(Some(1))),
        ];
        assert_eq!(check(&h, 1000), Verdict::Linearizable);
        let h = [
            op(0, 0, NEVER, Kind::Write(Some(1))),
            op(1, 20, 30, Kind::Read(Some(1))),
            op(2, 40, 50, Kind::Read(None)),
        ];
        assert_eq!(check(&h, 1000), Verdict::NotLinearizable);
    }

    #[test]
    fn the_budget_is_reported() {
        let h: Vec<HOp> = (0..40)
            .map(|i| op(i, 0, 1_000, Kind::Write(Some(i))))
            .chain(std::iter::once(op(
                99,
                2_000,
                2_001,
                Kind::Read(Some(7_777)),
            )))
            .collect();
        assert_eq!(check(&h, 100), Verdict::Unknown);
    }
}
