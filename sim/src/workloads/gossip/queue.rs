//! The dissemination queue: updates waiting to ride on probes and acknowledgements.
//!
//! SWIM spreads membership changes epidemically by piggybacking them on the messages the
//! failure detector sends anyway. Each update is sent a bounded number of times —
//! `λ·⌈log₁₀(n+1)⌉` (memberlist's rule) — which is enough for it to reach every member with high
//! probability, while keeping per-message size constant. The least-sent updates go first (new
//! news spreads fastest), newest first among equals. Only the latest update per member is kept:
//! a newer one about the same member replaces the older, whose news is stale.

use std::collections::{BTreeMap, BTreeSet};

use super::msg::Update;
use crate::node::NodeId;

#[derive(Clone, Copy, Debug)]
struct Entry {
    update: Update,
    sent: u32,
    seq: u64,
}

/// The queue; see the module docs. Holds at most one update per member, so at most `n`.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    by_subject: BTreeMap<NodeId, Entry>,
    /// (times sent, newest first, subject): the order updates are picked in.
    order: BTreeSet<(u32, std::cmp::Reverse<u64>, NodeId)>,
    next_seq: u64,
}

/// How many times each update is sent, at most, in a cluster of `nodes`: `λ·⌈log₁₀(n+1)⌉`.
pub fn retransmit_limit(lambda: u32, nodes: u32) -> u32 {
    let digits = (f64::from(nodes) + 1.0).log10().ceil() as u32;
    lambda.saturating_mul(digits.max(1))
}

impl Queue {
    /// An empty queue.
    pub fn new() -> Self {
        Queue::default()
    }

    /// Updates waiting.
    pub fn len(&self) -> usize {
        self.by_subject.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.by_subject.is_empty()
    }

    /// Queue `u`, replacing any older update about the same member.
    pub fn push(&mut self, u: Update) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(old) = self.by_subject.remove(&u.subject) {
            self.order
                .remove(&(old.sent, std::cmp::Reverse(old.seq), u.subject));
        }
        self.by_subject.insert(
            u.subject,
            Entry {
                update: u,
                sent: 0,
                seq,
            },
        );
        self.order.insert((0, std::cmp::Reverse(seq), u.subject));
        debug_assert_eq!(self.order.len(), self.by_subject.len());
    }

    /// Take up to `max` updates for one message, least-sent first, counting each as sent once
    /// more; an update sent `limit` times leaves the queue. `first` (if queued) goes first —
    /// Lifeguard's buddy system puts a suspicion on the ping to the suspect this way.
    pub fn take(&mut self, max: usize, limit: u32, first: Option<NodeId>, out: &mut Vec<Update>) {
        out.clear();
        let mut picked: Vec<(u32, std::cmp::Reverse<u64>, NodeId)> = Vec::with_capacity(max);
        if let Some(e) = first.and_then(|s| self.by_subject.get(&s)) {
            if max > 0 {
                picked.push((e.sent, std::cmp::Reverse(e.seq), e.update.subject));
            }
        }
        for k in self.order.iter() {
            if picked.len() >= max {
                break;
            }
            if Some(k.2) != first {
                picked.push(*k);
            }
        }
        for k in picked {
            self.order.remove(&k);
            let e = self.by_subject.get_mut(&k.2).expect("order and map agree");
            out.push(e.update);
            e.sent += 1;
            if e.sent >= limit {
                self.by_subject.remove(&k.2);
            } else {
                self.order.insert((e.sent, k.1, k.2));
            }
        }
        debug_assert_eq!(self.order.len(), self.by_subject.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::gossip::msg::Status;

    fn up(subject: NodeId, incarnation: u32) -> Update {
        Update {
            subject,
            status: Status::Alive,
            incarnation,
            by: 0,
        }
    }

    #[test]
    fn least_sent_first_bounded_and_one_per_member() {
        assert_eq!(retransmit_limit(3, 9), 3);
        assert_eq!(retransmit_limit(3, 1_000), 12);
        let mut q = Queue::new();
        q.push(up(1, 0));
        q.push(up(2, 0));
        q.push(up(1, 1)); // replaces the older news about 1
        assert_eq!(q.len(), 2);
        let mut out = Vec::new();
        q.take(1, 2, None, &mut out);
        assert_eq!(out, [up(1, 1)], "newest of the least-sent first");
        q.take(1, 2, None, &mut out);
        assert_eq!(out, [up(2, 0)]);
        q.take(5, 2, Some(2), &mut out);
        assert_eq!(out, [up(2, 0), up(1, 1)], "buddy first");
        assert!(q.is_empty(), "each sent twice: the limit");
    }
}
