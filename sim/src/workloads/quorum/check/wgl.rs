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

/// splitmix64: the Zobrist key of operation `i` (fixed, so runs are reproducible).
fn zobrist(i: usize, salt: u64) -> u64 {
    let mut z = (i as u64 ^ salt).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A cheap fixed hasher for the memo's already-random keys (membership only, never iterated).
#[derive(Default)]
struct MemoHasher(u64);

impl std::hash::Hasher for MemoHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Visited configurations. A `HashSet` is allowed here by the determinism rules: its hasher is
/// fixed (`MemoHasher`, no per-process random seed) and the set is only probed with `insert`,
/// never iterated, so nothing about a run depends on its internal order.
type Memo = HashSet<(u64, u64, Option<u64>), std::hash::BuildHasherDefault<MemoHasher>>;

struct Search<'a> {
    ops: &'a [HOp],
    done: Vec<bool>,
    /// Operations with a known return still to linearize.
    completed_left: usize,
    /// Every operation before this index is linearized.
    first_undone: usize,
    /// Two independent Zobrist hashes of the linearized set (128 bits: a collision, which
    /// could hide a linearization, is out of reach).
    z: (u64, u64),
    memo: Memo,
    states: usize,
    states_max: usize,
}

impl Search<'_> {
    /// Depth-first search from the current configuration with register `value`; `Some(true)`
    /// found, `Some(false)` not possible from here, `None` out of budget.
    fn dfs(&mut self, value: Option<u64>) -> Option<bool> {
        if self.completed_left == 0 {
            return Some(true);
        }
        self.states += 1;
        if self.states > self.states_max {
            return None;
        }
        // The earliest return among undone operations: only operations invoked before it may
        // go next. Operations are sorted by invocation and return after they are invoked, so
        // the scan stops at the first invocation past the running minimum.
        let mut min_ret = NEVER;
        let mut candidates = 0;
        for i in self.first_undone..self.ops.len() {
            let op = &self.ops[i];
            if op.inv_ns > min_ret {
                break;
            }
            if !self.done[i] {
                min_ret = min_ret.min(op.ret_ns);
                candidates += 1;
            }
        }
        // Remember configurations where the search branches: one reached again by another
        // path is not explored twice. (A configuration with one way on leads straight to the
        // next branching one, which is remembered; skipping those keeps the table small.)
        if candidates > 1 && !self.memo.insert((self.z.0, self.z.1, value)) {
            return Some(false);
        }
        let first_undone = self.first_undone;
        for i in first_undone..self.ops.len() {
            let op = self.ops[i];
            if op.inv_ns > min_ret {
                break;
            }
            if self.done[i] {
                continue;
            }
            let next = match op.kind {
                Kind::Read(v) if v == value => value,
                Kind::Read(_) => continue,
                Kind::Write(v) => v,
            };
            let (z0, z1) = (zobrist(i, 1), zobrist(i, 2));
            self.done[i] = true;
            self.z = (self.z.0 ^ z0, self.z.1 ^ z1);
            let completed = op.ret_ns != NEVER;
            self.completed_left -= usize::from(completed);
            while self.first_undone < self.ops.len() && self.done[self.first_undone] {
                self.first_undone += 1;
            }
            let r = self.dfs(next);
            self.done[i] = false;
            self.z = (self.z.0 ^ z0, self.z.1 ^ z1);
            self.completed_left += usize::from(completed);
            self.first_undone = first_undone;
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
        done: vec![false; ops.len()],
        completed_left: ops.iter().filter(|o| o.ret_ns != NEVER).count(),
        first_undone: 0,
        z: (0, 0),
        memo: Memo::default(),
        states: 0,
        states_max,
    };
    match s.dfs(None) {
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
