//! Running a SWIM member inside another workload's node, so that the other protocol can take
//! its membership from gossip (the quorum workload's `membership=gossip`, the IAM workload's
//! `mode=swim`).
//!
//! The embedded [`GossipNode`] runs unchanged: its handlers get a context of their own, and this
//! module forwards their effects to the host's context — each send through a host callback (which
//! wraps the SWIM message in the host's message type), each timer as it is. SWIM's timer ids are
//! `kind << 56 | payload` with small kinds, so they sit in `[SWIM_TIMER_MIN, SWIM_TIMER_END)`; a
//! host keeps its own timer ids outside that range and routes the ones inside it here.

use crate::node::{Ctx, Effects, Node, NodeId, TimerId, EFFECTS_PER_EVENT_MAX};
use crate::workloads::gossip::msg::GossipMsg;
use crate::workloads::gossip::node::GossipNode;

/// The smallest timer id the embedded SWIM member uses.
pub const SWIM_TIMER_MIN: TimerId = 1 << 56;
/// One past the largest timer id it uses.
pub const SWIM_TIMER_END: TimerId = 1 << 62;

/// Whether a timer id belongs to the embedded SWIM member.
pub fn is_swim_timer(t: TimerId) -> bool {
    (SWIM_TIMER_MIN..SWIM_TIMER_END).contains(&t)
}

/// Run one SWIM handler `f` for the host node behind `ctx`, then forward its effects: sends via
/// `emit(ctx, to, msg)`, timers to the world. `fx` is the member's reusable effect buffer.
pub fn run<N: Node>(
    swim: &mut GossipNode,
    fx: &mut Effects<GossipNode>,
    ctx: &mut Ctx<'_, N>,
    f: impl FnOnce(&mut GossipNode, &mut Ctx<'_, GossipNode>),
    mut emit: impl FnMut(&mut Ctx<'_, N>, NodeId, GossipMsg),
) {
    {
        let mut sctx = Ctx::<GossipNode> {
            id: ctx.id,
            nodes: ctx.nodes,
            now_ns: ctx.now_ns,
            clock: ctx.clock,
            rng: &mut *ctx.rng,
            disk: ctx.disk,
            buggify: &mut *ctx.buggify,
            effects: fx,
        };
        f(swim, &mut sctx);
    }
    for (to, msg) in fx.sends.drain(..) {
        emit(ctx, to, msg);
    }
    for (delay_ns, t) in fx.timers.drain(..) {
        assert!(is_swim_timer(t), "SWIM timer id {t} outside its range");
        assert!(
            ctx.effects.timers.len() < EFFECTS_PER_EVENT_MAX,
            "timer storm"
        );
        ctx.effects.timers.push((delay_ns, t)); // Already in world time.
    }
    fx.replies.clear(); // An embedded member serves no client operations.
}
