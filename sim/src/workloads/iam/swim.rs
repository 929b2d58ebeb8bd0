//! Gossip piggybacked on SWIM (`mode=swim`): the IAM node embeds the `gossip` workload's SWIM
//! member ([`GossipNode`], with Lifeguard) and lets the policy store's version ride on every
//! SWIM message — probes, acknowledgements, indirect probes.
//!
//! The receiver of a SWIM message compares the version it carries with its own: if the sender
//! is behind, it answers with the entries after the sender's version; if the sender is ahead,
//! it asks with a `Digest`. So the failure detector's steady traffic (one probe per member per
//! 50 ms period) doubles as anti-entropy, and no separate gossip rounds are needed. New entries
//! are still pushed as rumours at commit (as in `mode=gossip`), to members SWIM believes alive.
//!
//! The SWIM member runs unchanged through [`embed`]: sends are wrapped in [`IamMsg::Swim`],
//! timers (SWIM's ids are ≥ 2⁵⁶, the IAM node's are small) go to the world as they are.

use rand::RngCore;

use super::msg::IamMsg;
use super::node::IamNode;
use super::propagation::entries_after;
use crate::node::{Ctx, Node, NodeId, TimerId};
use crate::workloads::gossip::embed;
use crate::workloads::gossip::msg::GossipMsg;
use crate::workloads::gossip::node::GossipNode;
use crate::workloads::gossip::Params;

/// Timer ids at or above this belong to the SWIM member.
pub const SWIM_TIMER_MIN: TimerId = embed::SWIM_TIMER_MIN;

/// Run a SWIM handler and forward its effects, the version riding on every send.
fn call(
    node: &mut IamNode,
    ctx: &mut Ctx<'_, IamNode>,
    f: impl FnOnce(&mut GossipNode, &mut Ctx<'_, GossipNode>),
) {
    let version = node.view.version;
    let Some(swim) = node.swim.as_mut() else {
        return;
    };
    embed::run(swim, &mut node.swim_fx, ctx, f, |ctx, to, msg| {
        ctx.send(to, IamMsg::Swim { msg, version })
    });
}

/// Boot (or reboot, with fresh memory) the embedded SWIM member.
pub fn boot(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>, restart: bool) {
    node.swim = Some(GossipNode::new(Params::default(), ctx.node_count(), None));
    if restart {
        call(node, ctx, |s, c| s.on_restart(c));
    } else {
        call(node, ctx, |s, c| s.on_start(c));
    }
}

/// A SWIM timer fired.
pub fn on_timer(node: &mut IamNode, ctx: &mut Ctx<'_, IamNode>, t: TimerId) {
    call(node, ctx, |s, c| s.on_timer(c, t));
}

/// A SWIM message arrived with the sender's version riding on it.
pub fn on_message(
    node: &mut IamNode,
    ctx: &mut Ctx<'_, IamNode>,
    from: NodeId,
    msg: GossipMsg,
    version: u64,
) {
    call(node, ctx, |s, c| s.on_message(c, from, msg));
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

/// A random peer SWIM does not consider failed (any peer if it considers them all failed).
pub fn live_peer(node: &IamNode, ctx: &mut Ctx<'_, IamNode>) -> Option<NodeId> {
    let n = ctx.node_count();
    let me = ctx.id();
    if n < 2 {
        return None;
    }
    let start = (ctx.rng().next_u64() % u64::from(n)) as NodeId;
    let members = node.swim.as_ref().map(|s| s.membership());
    for k in 0..n {
        let p = (start + k) % n;
        if p != me && members.is_none_or(|m| !m.is_failed(p)) {
            return Some(p);
        }
    }
    Some((me + 1 + start % (n - 1)) % n)
}

/// A random peer SWIM holds failed, if any: the policy store's way back to members the failure
/// detector gave up on. SWIM never probes a member it declared failed, so a partition that
/// left each side holding the other failed leaves them silent for good; Serf meets the same
/// gap by trying to reconnect to failed members now and then, and so does the IAM node
/// ([`super::propagation::on_tick`]).
pub fn failed_peer(node: &IamNode, ctx: &mut Ctx<'_, IamNode>) -> Option<NodeId> {
    let members = node.swim.as_ref()?.membership();
    let me = ctx.id();
    let failed: Vec<NodeId> = (0..ctx.node_count())
        .filter(|&p| p != me && members.is_failed(p))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let k = (ctx.rng().next_u64() % failed.len() as u64) as usize;
    failed.get(k).copied()
}
