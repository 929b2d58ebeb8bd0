//! Running a SWIM member inside another node, so that the other protocol can take its
//! membership from gossip (the quorum node's `membership=gossip`, the simulator's IAM
//! workload's `mode=swim`).
//!
//! The embedded [`GossipNode`] runs unchanged: its handlers get a context of their own, and this
//! module forwards their effects to the host's context — each send through a host callback (which
//! wraps the SWIM message in the host's message type), each timer as it is. SWIM's timer ids are
//! `kind << 56 | payload` with small kinds, so they sit in `[SWIM_TIMER_MIN, SWIM_TIMER_END)`; a
//! host keeps its own timer ids outside that range and routes the ones inside it here.

use crate::gossip::msg::GossipMsg;
use crate::gossip::node::GossipNode;
use crate::{Ctx, Effects, Node, NodeId, TimerId};

/// The smallest timer id the embedded SWIM member uses.
pub const SWIM_TIMER_MIN: TimerId = 1 << 56;
/// One past the largest timer id it uses.
pub const SWIM_TIMER_END: TimerId = 1 << 62;

/// Whether a timer id belongs to the embedded SWIM member.
pub fn is_swim_timer(t: TimerId) -> bool {
    (SWIM_TIMER_MIN..SWIM_TIMER_END).contains(&t)
}

/// Run one SWIM handler `f` for the host node behind `ctx`, then forward its effects: sends via
/// `emit(ctx, to, msg)`, timers to the host's context. `fx` is the member's reusable effect
/// buffer.
pub fn run<N: Node>(
    swim: &mut GossipNode,
    fx: &mut Effects<GossipNode>,
    ctx: &mut Ctx<'_, N>,
    f: impl FnOnce(&mut GossipNode, &mut Ctx<'_, GossipNode>),
    mut emit: impl FnMut(&mut Ctx<'_, N>, NodeId, GossipMsg),
) {
    f(swim, &mut ctx.embedded(fx));
    for (to, msg) in fx.sends.drain(..) {
        emit(ctx, to, msg);
    }
    for (delay_ns, t) in fx.timers.drain(..) {
        assert!(is_swim_timer(t), "SWIM timer id {t} outside its range");
        ctx.set_timer(delay_ns, t); // Both in the node's local time.
    }
    fx.replies.clear(); // An embedded member serves no client operations.
}
