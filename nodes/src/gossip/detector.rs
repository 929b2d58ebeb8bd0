//! The failure detector's bookkeeping: which member to probe next, the probe in flight,
//! probes relayed for others, and running suspicions.
//!
//! **Probe order.** Each period the node probes one member, taken round-robin from a shuffled
//! list of the members it knows; when the list runs out it is rebuilt and reshuffled (SWIM
//! §4.3). Picking uniformly at random would leave a member unprobed for arbitrarily long;
//! round-robin bounds it: every member is probed at least once in any `2(n−1)` consecutive
//! periods, which is what makes the detection bound of
//! [`super::params::Params::detection_bound_ns`] a bound and not an expectation. Members
//! learned mid-round go in at a random place of the rest of the round.

use std::collections::{BTreeMap, BTreeSet};

use seedbed_engine::rng::DetRng;

use super::params::Bug;
use crate::NodeId;

/// Relayed probes a node keeps at once, at most (each lives one probe timeout).
pub const RELAYS_MAX: usize = 4_096;

/// The shuffled round-robin order; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct ProbeOrder {
    list: Vec<NodeId>,
    next: usize,
    /// The `late-newcomers` bug: [`ProbeOrder::insert`] does nothing.
    late_newcomers: bool,
}

impl ProbeOrder {
    /// An empty order, with the planted `bug` if it is one of the order's
    /// ([`Bug::LateNewcomers`]).
    pub fn planted(bug: Bug) -> Self {
        ProbeOrder {
            late_newcomers: bug == Bug::LateNewcomers,
            ..ProbeOrder::default()
        }
    }

    /// The next member to probe for which `eligible` holds; `rebuild` lists every candidate
    /// when a round ends. `None` when there is no one to probe.
    pub fn next(
        &mut self,
        rng: &mut DetRng,
        eligible: impl Fn(NodeId) -> bool,
        rebuild: impl FnOnce() -> Vec<NodeId>,
    ) -> Option<NodeId> {
        if let Some(n) = self.advance(&eligible) {
            return Some(n);
        }
        self.list = rebuild();
        shuffle(rng, &mut self.list);
        self.next = 0;
        self.advance(&eligible)
    }

    fn advance(&mut self, eligible: &impl Fn(NodeId) -> bool) -> Option<NodeId> {
        while self.next < self.list.len() {
            let n = self.list[self.next];
            self.next += 1;
            if eligible(n) {
                return Some(n);
            }
        }
        None
    }

    /// A member just learned: put it at a random place among those not yet probed this round.
    pub fn insert(&mut self, rng: &mut DetRng, n: NodeId) {
        if self.late_newcomers {
            return; // The planted bug: it waits for the rebuild at the end of the round.
        }
        let rest = (self.list.len() - self.next) as u64;
        let at = self.next + rng.below(rest + 1) as usize;
        self.list.insert(at, n);
    }
}

/// Fisher–Yates with the node's own stream.
pub fn shuffle(rng: &mut DetRng, v: &mut [NodeId]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// The probe this node has in flight (one per period).
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// Its number.
    pub seq: u32,
    /// The member probed.
    pub target: NodeId,
    /// Whether an ack came (directly or relayed).
    pub acked: bool,
    /// Relays asked (ping-req), so nacks expected when Lifeguard is on.
    pub relays: u32,
    /// Nacks received.
    pub nacks: u32,
}

/// A probe run for another member (it sent us a ping-req).
#[derive(Clone, Copy, Debug)]
pub struct Relay {
    /// Who asked.
    pub origin: NodeId,
    /// Its probe number.
    pub origin_seq: u32,
}

/// A running suspicion of one member.
#[derive(Clone, Debug)]
pub struct Suspicion {
    /// The suspected incarnation.
    pub incarnation: u32,
    /// When it began (world-independent: the node's local clock).
    pub start_local_ns: u64,
    /// Members who independently suspect it (the first accuser included).
    pub accusers: BTreeSet<NodeId>,
    /// Bumped on every reschedule: a timer carrying an older generation is stale.
    pub generation: u32,
}

/// Every suspicion a node runs, by member.
pub type Suspicions = BTreeMap<NodeId, Suspicion>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_probes_everyone_each_round() {
        let mut rng = DetRng::new(3);
        let mut order = ProbeOrder::default();
        let all = || (1..=5).collect::<Vec<NodeId>>();
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(order.next(&mut rng, |_| true, all).unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        // Ineligible members are skipped; an empty candidate list gives None.
        let only_three = order.next(&mut rng, |n| n == 3, all);
        assert_eq!(only_three, Some(3));
        let mut empty = ProbeOrder::default();
        assert_eq!(empty.next(&mut rng, |_| true, Vec::new), None);
        empty.insert(&mut rng, 9);
        assert_eq!(empty.next(&mut rng, |_| true, Vec::new), Some(9));
    }
}
