//! How changes travel from the leader to every node: a replicated log, or gossip.
//!
//! **Replicated log** (`mode=log`). On commit the leader sends the new entry to every
//! follower. A follower applies what continues its chain, persists, and answers `Ack` with
//! its durable version. Every tick the leader resends, to each follower whose last `Ack` is
//! behind, the entries after it (at most [`ENTRIES_PER_MSG_MAX`]). Cost: about two messages
//! per follower per change when nothing is lost; time: one round trip, or a tick per loss.
//!
//! **Gossip** (`mode=gossip`). The leader pushes the new entry to [`FANOUT`] random peers;
//! whoever applies something new pushes it on to one random peer (rumour mongering). Every
//! tick every node sends its version to one random peer (`Digest`); a peer that is ahead
//! answers with the entries after it, one that is behind answers with its own `Digest` (push-
//! pull anti-entropy, as in Demers et al., *Epidemic algorithms for replicated database
//! maintenance*, 1987). The entries ride on the gossip traffic — piggybacked — and nodes tell
//! the leader their durable version with an `Ack` when it changes (and every 8th round, so a
//! restarted leader relearns it). The rounds pick uniform random peers, with no failure
//! detector.
//!
//! **Gossip on SWIM** (`mode=swim`, [`super::swim`]). The version rides on the failure
//! detector's messages instead of rounds, and rumours go to members SWIM believes alive. SWIM
//! never talks again to a member it declared failed, so every [`RECONNECT_EVERY_TICKS`] rounds
//! a node also sends a digest to one of those: without it, a partition that left each side
//! holding the other failed would leave them apart for good.
//!
//! **Catching up** (both gossip modes). Each message carries at most
//! [`ENTRIES_PER_MSG_MAX`] entries. A node that applies a full batch asks its sender for the
//! rest at once, so a node hundreds of versions behind catches up in as many round trips as it
//! misses batches, not in as many rounds.

use rand::RngCore;

use super::msg::{IamMsg, ENTRIES_PER_MSG_MAX};
use super::node::{IamNode, LEADER};
use super::store::Entry;
use super::Mode;
use crate::node::{Ctx, NodeId};

/// Peers the leader pushes a new entry to in gossip mode.
pub const FANOUT: u32 = 2;
/// Gossip rounds between unconditional `Ack`s to the leader.
pub const ACK_EVERY_TICKS: u64 = 8;
/// SWIM mode: rounds between digests to a member SWIM holds failed.
pub const RECONNECT_EVERY_TICKS: u64 = 8;

/// A peer for a rumour: any in gossip mode, one SWIM believes alive in SWIM mode.
fn peer(node: &IamNode, ctx: &mut Ctx<'_, IamNode>) -> Option<NodeId> {
    match node.cfg.mode {
        Mode::Swim => super::swim::live_peer(node, ctx),
        _ => random_peer(ctx),
    }
}

fn random_peer(ctx: &mut Ctx<'_, IamNode>) -> Option<NodeId> {
    let n = ctx.node_count();
    if n < 2 {
        return None;
    }
    let me = ctx.id();
    let k = (ctx.rng().next_u64() % u64::from(n - 1)) as NodeId;
    Some(if k >= me { k + 1 } else { k })
}

/// The entries after `version` this node holds, at most [`ENTRIES_PER_MSG_MAX`].
pub(crate) fn entries_after(node: &IamNode, version: u64) -> Vec<Entry> {
    node.log
        .range(version + 1..)
        .take(ENTRIES_PER_MSG_MAX)
        .map(|(_, e)| *e)
        .collect()
}

/// The leader logged `entry`: start it on its way.
pub fn on_commit(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>, entry: Entry) {
    match node.cfg.mode {
        Mode::Log => {
            for to in 0..ctx.node_count() {
                if to != ctx.id() {
                    ctx.send(
                        to,
                        IamMsg::Append {
                            entries: vec![entry],
                        },
                    );
                }
            }
        }
        Mode::Gossip | Mode::Swim => {
            let mut sent = 0u64;
            for _ in 0..FANOUT {
                let Some(to) = peer(node, ctx) else { break };
                if sent & (1 << to) == 0 {
                    sent |= 1 << to;
                    ctx.send(
                        to,
                        IamMsg::Append {
                            entries: vec![entry],
                        },
                    );
                }
            }
        }
    }
}

/// Entries arrived from `from`.
pub fn on_append(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>, from: NodeId, entries: &[Entry]) {
    let fresh = node.receive(ctx, entries);
    match node.cfg.mode {
        Mode::Log => {
            if ctx.id() != LEADER {
                // Always answer, even with nothing new: a restarted leader relearns from it.
                ctx.send(
                    from,
                    IamMsg::Ack {
                        version: node.acked,
                    },
                );
            }
        }
        Mode::Gossip | Mode::Swim => {
            if fresh.is_empty() {
                return;
            }
            if ctx.id() != LEADER {
                ctx.send(
                    LEADER,
                    IamMsg::Ack {
                        version: node.acked,
                    },
                );
                node.ack_reported = node.acked;
            }
            // A full batch from a peer that was ahead: it may hold more. Ask for the rest at
            // once (a pull chained on the answer) rather than waiting for the next round's
            // digest: a node that fell hundreds of versions behind — cut off by a partition,
            // or declared failed by SWIM and so left out of rumours — then catches up in as
            // many round trips as it misses batches, not in as many gossip rounds.
            if entries.len() >= ENTRIES_PER_MSG_MAX {
                ctx.send(
                    from,
                    IamMsg::Digest {
                        version: node.view.version,
                    },
                );
            }
            if let Some(to) = peer(node, ctx) {
                if to != from {
                    ctx.send(to, IamMsg::Append { entries: fresh });
                }
            }
        }
    }
}

/// Gossip: `from` is at `version`.
pub fn on_digest(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>, from: NodeId, version: u64) {
    if node.view.version > version {
        let entries = entries_after(node, version);
        if !entries.is_empty() {
            ctx.send(from, IamMsg::Append { entries });
        }
    } else if node.view.version < version {
        ctx.send(
            from,
            IamMsg::Digest {
                version: node.view.version,
            },
        );
    }
}

/// A propagation round.
pub fn on_tick(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>) {
    match node.cfg.mode {
        Mode::Log => {
            if ctx.id() != LEADER {
                return;
            }
            for to in 0..ctx.node_count() {
                let behind = node.peer_acked[to as usize];
                if to != LEADER && behind < node.view.version {
                    let entries = entries_after(node, behind);
                    if !entries.is_empty() {
                        ctx.send(to, IamMsg::Append { entries });
                    }
                }
            }
        }
        Mode::Gossip | Mode::Swim => {
            // In SWIM mode the version rides on SWIM's own messages instead of rounds — but
            // SWIM falls silent towards members it declared failed, so every few rounds a
            // digest goes to one of those (see `swim::failed_peer`).
            let to = match node.cfg.mode {
                Mode::Gossip => random_peer(ctx),
                _ if node.ticks.is_multiple_of(RECONNECT_EVERY_TICKS) => {
                    super::swim::failed_peer(node, ctx)
                }
                _ => None,
            };
            if let Some(to) = to {
                ctx.send(
                    to,
                    IamMsg::Digest {
                        version: node.view.version,
                    },
                );
            }
            if ctx.id() != LEADER
                && (node.acked != node.ack_reported || node.ticks.is_multiple_of(ACK_EVERY_TICKS))
            {
                ctx.send(
                    LEADER,
                    IamMsg::Ack {
                        version: node.acked,
                    },
                );
                node.ack_reported = node.acked;
            }
        }
    }
}
