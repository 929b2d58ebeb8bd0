//! What a handler sees of its runtime: [`Ctx`], and the [`Effects`] it collects.
//!
//! Everything here is runtime-neutral. The clock is the engine's
//! [`Clock`](seedbed_engine::clock::Clock) (the simulator's skewed virtual clock, or the
//! machine's monotonic one); the random stream is a [`DetRng`] (seeded from the world, or from
//! the OS with the seed printed); the disk is an [`FsHandle`] (the engine's `sim` backend, or
//! `std`/`uring` on a real drive); [`Buggify`] is a hook that the simulator answers and a real
//! runtime answers "no" ([`NoBuggify`]). Sends, timers and replies are not carried out here:
//! they are collected in [`Effects`], which the runtime drains after the handler returns.

use std::sync::Arc;

use seedbed_engine::clock::ClockHandle;
use seedbed_engine::io::FsHandle;
use seedbed_engine::rng::DetRng;

use crate::{Node, NodeId, OpId, TimerId};

/// Sends, timers or replies one handler call may ask for, at most: a bound that catches a
/// runaway loop in protocol code.
pub const EFFECTS_PER_EVENT_MAX: usize = 4_096;

/// Effects a handler asked for, carried out by the runtime after it returns (in order: sends,
/// then timers, then replies). The buffers are reused from event to event, so a handler that
/// sends allocates nothing in steady state.
#[derive(Debug)]
pub struct Effects<N: Node> {
    /// (to, message), in the order sent.
    pub sends: Vec<(NodeId, N::Msg)>,
    /// (delay in nanoseconds of the node's local clock, timer id). The runtime converts the
    /// delay to its own time (the simulator: through the node's drift).
    pub timers: Vec<(u64, TimerId)>,
    /// (operation, reply).
    pub replies: Vec<(OpId, N::Reply)>,
}

impl<N: Node> Default for Effects<N> {
    fn default() -> Self {
        Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            replies: Vec::new(),
        }
    }
}

impl<N: Node> Effects<N> {
    /// Whether the handler asked for nothing (or everything was drained).
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.timers.is_empty() && self.replies.is_empty()
    }
}

/// The simulator's buggify, as a hook: "take the rare path at `site` now?" Protocol code asks
/// through [`Ctx::buggify`]; a real runtime answers with [`NoBuggify`].
pub trait Buggify {
    /// True, rarely, when the runtime wants the rare path taken at `site`.
    fn hit(&mut self, site: &'static str) -> bool;
}

/// A runtime that never buggifies (a real one).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBuggify;

impl Buggify for NoBuggify {
    fn hit(&mut self, _site: &'static str) -> bool {
        false
    }
}

/// What a handler sees of its runtime: its id, its clock, its random stream, its disk, and the
/// calls that act. The runtime builds one per handler call with [`Ctx::new`].
pub struct Ctx<'a, N: Node> {
    id: NodeId,
    nodes: u32,
    clock: &'a ClockHandle,
    rng: &'a mut DetRng,
    disk: &'a FsHandle,
    buggify: &'a mut dyn Buggify,
    effects: &'a mut Effects<N>,
}

impl<'a, N: Node> Ctx<'a, N> {
    /// A context for node `id` of `nodes`, over the node's own clock, random stream and disk;
    /// effects go to `effects`.
    pub fn new(
        id: NodeId,
        nodes: u32,
        clock: &'a ClockHandle,
        rng: &'a mut DetRng,
        disk: &'a FsHandle,
        buggify: &'a mut dyn Buggify,
        effects: &'a mut Effects<N>,
    ) -> Self {
        assert!(id < nodes, "node {id} of {nodes}");
        Ctx {
            id,
            nodes,
            clock,
            rng,
            disk,
            buggify,
            effects,
        }
    }

    /// The same node's context for another node type `M` running inside it (a SWIM member in a
    /// quorum node, see [`crate::gossip::embed`]): same id, clock, stream, disk and buggify,
    /// effects into `effects` for the host to forward.
    pub fn embedded<'b, M: Node>(&'b mut self, effects: &'b mut Effects<M>) -> Ctx<'b, M> {
        Ctx {
            id: self.id,
            nodes: self.nodes,
            clock: self.clock,
            rng: &mut *self.rng,
            disk: self.disk,
            buggify: &mut *self.buggify,
            effects,
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Nodes in the cluster (ids are `0..node_count()`).
    pub fn node_count(&self) -> u32 {
        self.nodes
    }

    /// The node's local clock in nanoseconds (in the simulator: skewed, drifting, maybe
    /// jumped).
    pub fn local_ns(&self) -> u64 {
        self.clock.now_nanos()
    }

    /// The node's clock as the engine's `Clock`, to hand to engine code.
    pub fn clock(&self) -> ClockHandle {
        Arc::clone(self.clock)
    }

    /// The node's random stream (its own: other nodes' draws do not move it).
    pub fn rng(&mut self) -> &mut DetRng {
        self.rng
    }

    /// The node's disk: the engine's file interface, so engine code runs on it unchanged.
    pub fn disk(&self) -> &FsHandle {
        self.disk
    }

    /// Send `msg` to node `to` (to itself too: loopback is reliable).
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        assert!(to < self.nodes, "send to node {to} of {}", self.nodes);
        assert!(
            self.effects.sends.len() < EFFECTS_PER_EVENT_MAX,
            "send storm"
        );
        self.effects.sends.push((to, msg));
    }

    /// Fire [`Node::on_timer`] with `timer` after `delay_ns` of this node's local time. Timers
    /// die with the node: a crash cancels them all.
    pub fn set_timer(&mut self, delay_ns: u64, timer: TimerId) {
        assert!(
            self.effects.timers.len() < EFFECTS_PER_EVENT_MAX,
            "timer storm"
        );
        self.effects.timers.push((delay_ns, timer));
    }

    /// Answer client operation `op_id`. Answer each operation once.
    pub fn reply(&mut self, op_id: OpId, reply: N::Reply) {
        assert!(
            self.effects.replies.len() < EFFECTS_PER_EVENT_MAX,
            "reply storm"
        );
        self.effects.replies.push((op_id, reply));
    }

    /// Buggify: true, rarely, at `site` when the runtime enables it — take the rare path (a
    /// shorter timeout, an extra retry, a reordered step) that tests would otherwise never
    /// reach. Always false in a real runtime, and outside the simulator's fault period.
    pub fn buggify(&mut self, site: &'static str) -> bool {
        self.buggify.hit(site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::clock::VirtualClock;
    use seedbed_engine::io::sim::{SimConfig, SimFs};

    /// A node that answers every operation with its local time and pings node 1.
    struct Probe;

    impl Node for Probe {
        type Msg = ();
        type Op = ();
        type Reply = u64;
        fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
        fn on_restart(&mut self, _ctx: &mut Ctx<'_, Self>) {}
        fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}
        fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId) {}
        fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op: OpId, _: ()) {
            ctx.send(1, ());
            ctx.set_timer(5, 7);
            assert!(!ctx.buggify("site"));
            let now = ctx.local_ns();
            ctx.reply(op, now);
        }
    }

    #[test]
    fn a_handler_acts_only_through_effects_the_runtime_drains() {
        let vclock = Arc::new(VirtualClock::new());
        vclock.advance(42);
        let clock: ClockHandle = vclock;
        let disk: FsHandle = Arc::new(SimFs::new(1, SimConfig::default()));
        let mut rng = DetRng::new(1);
        let mut never = NoBuggify;
        let mut fx = Effects::<Probe>::default();
        let mut ctx = Ctx::new(0, 2, &clock, &mut rng, &disk, &mut never, &mut fx);
        Probe.on_client(&mut ctx, 9, ());
        assert_eq!(fx.sends, vec![(1, ())]);
        assert_eq!(fx.timers, vec![(5, 7)]);
        assert_eq!(fx.replies, vec![(9, 42)]);
    }
}
