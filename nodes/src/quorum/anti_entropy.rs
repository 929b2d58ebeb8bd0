//! Anti-entropy: replicas of a range compare Merkle trees and exchange what differs.
//!
//! Every [`super::params::Params::ae_every_ns`] a node takes the next range it replicates
//! (round robin) and the next peer replica of it (round robin too, starting at an offset of its
//! own id so that the replicas of a range do not all call the same peer), and sends its root
//! (`AeRoot`). Equal roots:
//! done. Otherwise the peer sends its leaves (`AeLeaves`); the node sends its keys of the
//! buckets that differ (`AeKeys`, `reply`); the peer merges them and answers with its own keys
//! of those buckets, which the node merges. Both sides end up with the merge of both, so after
//! the faults stop every pair converges, and with it every range. The same timer drives the
//! LSM's maintenance steps.
//!
//! Why round robin and not a random peer: with rotation, a version that reaches one replica
//! is at every replica of its range within N − 1 of that replica's visits to the range, so
//! convergence has a bound ([`converge_bound_ns`]) a checker can hold the protocol to. With a
//! random peer the same replica may keep calling the one peer that already has the version
//! (seed 6485 of `quorum --set sync=group --set membership=gossip` did, twice in a row).

use super::merkle::{self, Leaves};
use super::msg::Msg;
use super::node::QuorumNode;
use super::version::Siblings;
use crate::{Ctx, NodeId};

/// Ticks in which a node visits all of its ranges (so with more ranges per node — a larger N —
/// it visits several per tick, and convergence time does not grow with N).
pub const AE_CYCLE_TICKS: usize = 24;

/// Keys sent in one `AeKeys`, at most (the rest wait for the next round).
pub const AE_KEYS_MAX: usize = 256;

/// The longest one node takes to visit every range it replicates once, in its local time:
/// [`AE_CYCLE_TICKS`] timer periods (the timer re-arms after each tick without jitter).
pub fn cycle_ns(ae_every_ns: u64) -> u64 {
    ae_every_ns.saturating_mul(AE_CYCLE_TICKS as u64)
}

/// How long after a version lands on one replica every replica of its range has it, when no
/// message is lost: that replica calls each of its N − 1 peers once in N − 1 cycles, and every
/// exchange leaves both sides with the merge of both. The first of those visits may be up to a
/// cycle away, which the N − 1 cycles already include (the k-th visit falls inside the k-th
/// cycle). `exchange_ns` is the time one exchange takes (four messages and the merges' writes).
pub fn converge_bound_ns(n: u32, ae_every_ns: u64, exchange_ns: u64) -> u64 {
    let rounds = u64::from(n.saturating_sub(1));
    rounds.saturating_mul(cycle_ns(ae_every_ns).saturating_add(exchange_ns))
}

impl QuorumNode {
    pub(crate) fn anti_entropy_tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(o) = self.open.as_ref() else { return };
        if o.store.maintenance().is_err() {
            return self.store_failed(ctx);
        }
        // Visit every range at least once per `AE_CYCLE_TICKS` ticks, however many there are.
        let per_tick = self.my_ranges.len().div_ceil(AE_CYCLE_TICKS);
        for _ in 0..per_tick {
            self.anti_entropy_one(ctx);
        }
    }

    fn anti_entropy_one(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(o) = self.open.as_ref() else { return };
        if self.my_ranges.is_empty() {
            return;
        }
        let range = self.my_ranges[self.ae_next % self.my_ranges.len()];
        // How many times this range was visited before: the peer rotates with it.
        let visit = self.ae_next / self.my_ranges.len();
        self.ae_next += 1;
        let me = ctx.id();
        let peers: Vec<NodeId> = self
            .p
            .ring
            .preference(range)
            .iter()
            .copied()
            .filter(|&n| n != me)
            .collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[(visit + me as usize) % peers.len()];
        let root = o.forest.root(range);
        ctx.send(
            peer,
            Msg::AeRoot {
                range: range as u32,
                root,
            },
        );
    }

    fn entries(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        range: usize,
        buckets: u32,
    ) -> Option<Vec<(u32, Siblings)>> {
        let o = self.open.as_ref()?;
        let mut out = Vec::new();
        for key in o
            .forest
            .keys_in(range, buckets)
            .into_iter()
            .take(AE_KEYS_MAX)
        {
            match o.store.get(key) {
                Ok(s) => out.push((key, s)),
                Err(_) => {
                    self.store_failed(ctx);
                    return None;
                }
            }
        }
        Some(out)
    }

    pub(crate) fn on_ae_root(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        range: u32,
        root: u64,
    ) {
        let r = range as usize;
        let Some(o) = self.open.as_ref() else { return };
        if r >= self.p.ring.ranges() || !self.p.ring.replicates(ctx.id(), r) {
            return;
        }
        if o.forest.root(r) != root {
            let leaves = Box::new(*o.forest.leaves(r));
            ctx.send(from, Msg::AeLeaves { range, leaves });
        }
    }

    pub(crate) fn on_ae_leaves(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        range: u32,
        leaves: &Leaves,
    ) {
        let r = range as usize;
        let Some(o) = self.open.as_ref() else { return };
        if r >= self.p.ring.ranges() {
            return;
        }
        let buckets = merkle::differing(o.forest.leaves(r), leaves);
        if buckets == 0 {
            return;
        }
        if let Some(entries) = self.entries(ctx, r, buckets) {
            ctx.send(
                from,
                Msg::AeKeys {
                    range,
                    buckets,
                    entries,
                    reply: true,
                },
            );
        }
    }

    pub(crate) fn on_ae_keys(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        range: u32,
        buckets: u32,
        entries: Vec<(u32, Siblings)>,
        reply: bool,
    ) {
        let r = range as usize;
        if self.open.is_none() || r >= self.p.ring.ranges() || !self.p.ring.replicates(ctx.id(), r)
        {
            return;
        }
        for (key, sibs) in &entries {
            if self.p.ring.range_of(*key) != r {
                continue;
            }
            if self.merge_into_store(ctx, *key, sibs, true).is_err() {
                return;
            }
        }
        if reply {
            if let Some(entries) = self.entries(ctx, r, buckets) {
                ctx.send(
                    from,
                    Msg::AeKeys {
                        range,
                        buckets,
                        entries,
                        reply: false,
                    },
                );
            }
        }
    }
}
