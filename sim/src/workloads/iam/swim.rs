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
//! The SWIM member runs unchanged: its handlers get a context of their own whose effects this
//! module forwards — sends wrapped in [`IamMsg::Swim`], timers (SWIM's ids are ≥ 2⁵⁶, the IAM
//! node's are small) handed to the world as they are.

use rand::RngCore;

use super::msg::IamMsg;
use super::node::IamNode;
use super::propagation::{entries_after, send};
use crate::node::{Ctx, Effects, Node, NodeId, TimerId, EFFECTS_PER_EVENT_MAX};
use crate::workloads::gossip::msg::GossipMsg;
use crate::workloads::gossip::node::GossipNode;
use crate::workloads::gossip::Params;

/// Timer ids at or above this belong to the SWIM member.
pub const SWIM_TIMER_MIN: TimerId = 1 << 56;

/// Run a SWIM handler and forward its effects.
fn call(
    node: &mut IamNode,
    ctx: &mut Ctx<'_, IamNode>,
    f: impl FnOnce(&mut GossipNode, &mut Ctx<'_, GossipNode>),
) {
    let Some(swim) = node.swim.as_mut() else {
        return;
    };
    let mut fx: Effects<GossipNode> = std::mem::take(&mut node.swim_fx);
    {
        let mut sctx = Ctx::<GossipNode> {
            id: ctx.id,
            nodes: ctx.nodes,
            now_ns: ctx.now_ns,
            clock: ctx.clock,
            rng: &mut *ctx.rng,
            disk: ctx.disk,
            buggify: &mut *ctx.buggify,
            effects: &mut fx,
        };
        f(swim, &mut sctx);
    }
    let version = node.view.version;
    for (to, msg) in fx.sends.drain(..) {
        send(ctx, to, IamMsg::Swim { msg, version });
    }
    for (delay_ns, t) in fx.timers.drain(..) {
        assert!(
            t >= SWIM_TIMER_MIN,
            "SWIM timer id {t} collides with the IAM node's"
        );
        assert!(
            ctx.effects.timers.len() < EFFECTS_PER_EVENT_MAX,
            "timer storm"
        );
        ctx.effects.timers.push((delay_ns, t)); // Already converted to world time.
    }
    fx.replies.clear(); // SWIM serves no client operations here.
    node.swim_fx = fx;
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
            send(ctx, from, IamMsg::Append { entries });
        }
    } else if node.view.version < version {
        send(
            ctx,
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
