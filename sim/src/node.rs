//! Nodes: the processes of the simulated world, and the context their handlers act through.
//!
//! A node is a state machine the world drives with four kinds of event — start, message, timer,
//! restart — plus client operations. Handlers never block and never touch the world directly:
//! they call [`Ctx`] to send, set timers and reply, and the world applies those effects after the
//! handler returns. That keeps every effect in one place where it is traced, faulted and ordered.
//!
//! **Crash and restart.** When a node crashes, the world drops the node value (all memory is
//! lost) and crashes its disk (unsynced writes are kept, dropped or torn). At restart it builds a
//! fresh value with the workload's `build_node` and calls [`Node::on_restart`], which must rebuild
//! state from the disk. A protocol that keeps anything important only in memory fails here.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use seedbed_engine::io::FsHandle;
use seedbed_engine::rng::DetRng;

use crate::clock::NodeClock;
use crate::faults::buggify::Buggify;

/// A node's index, `0..nodes`.
pub type NodeId = u32;

/// Nodes per run, at most. Partitions are bitsets of any size; the bound keeps the network's
/// per-link state (`nodes²` links, 16 bytes each: 16 MiB at this bound) in memory. Workloads
/// with their own limits (the register's acknowledgement masks hold 64 nodes) check them in
/// `Workload::new`.
pub const MAX_NODES: u32 = 1_024;

/// A client operation's id, unique within a run.
pub type OpId = u64;

/// A timer's id, chosen by the node; the world hands it back when the timer fires.
pub type TimerId = u64;

/// What messages, client operations and replies must be: cloneable (duplication), printable
/// (traces) and hashable (the trace hash — derive `Hash`; the world hashes with its own
/// [`StableHasher`](crate::hash::StableHasher), never std's randomised one).
pub trait Payload: Clone + Debug + Hash + 'static {}
impl<T: Clone + Debug + Hash + 'static> Payload for T {}

/// What messages between nodes are, beyond a [`Payload`]: each has a kind, so the world can
/// count sends per kind ([`crate::metrics::Traffic`]) — counts that survive crashes, which a
/// node's own counters would not — and, where the workload models it, a size on the wire.
pub trait Message: Payload {
    /// A short name for this message's kind, the same for every message of a variant
    /// (`"ping"`, `"fetch-reply"`): a string literal.
    fn kind(&self) -> &'static str;

    /// Bytes this message would take on a real network, as the workload models its encoding
    /// (0, the default: not modelled).
    fn wire_bytes(&self) -> u64 {
        0
    }
}

/// Nodes that never message each other (one node alone, a disk test) use `()`.
impl Message for () {
    fn kind(&self) -> &'static str {
        "unit"
    }
}

/// A simulated process; see the module docs.
pub trait Node: Sized + 'static {
    /// Messages between nodes: keep them a small enum (they sit in the event heap).
    type Msg: Message;
    /// Client operations this node serves.
    type Op: Payload;
    /// Replies to client operations.
    type Reply: Payload;

    /// First boot, on an empty disk.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);

    /// Boot after a crash: memory is fresh, the disk holds what survived. Rebuild from it.
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>);

    /// A message from `from` arrived.
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId);

    /// A client asks for `op`; answer (now or later) with [`Ctx::reply`] and `op_id`.
    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Self::Op);
}

/// Effects a handler asked for, applied by the world after it returns. The buffers are reused
/// from event to event, so a handler that sends allocates nothing in steady state.
#[derive(Debug)]
pub struct Effects<N: Node> {
    pub(crate) sends: Vec<(NodeId, N::Msg)>,
    /// (delay in world nanoseconds, timer id).
    pub(crate) timers: Vec<(u64, TimerId)>,
    pub(crate) replies: Vec<(OpId, N::Reply)>,
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

/// Sends, timers or replies one handler call may ask for, at most: a bound that catches a
/// runaway loop in protocol code.
pub const EFFECTS_PER_EVENT_MAX: usize = 4_096;

/// What a handler sees of the world: its id, its clock, its random stream, its disk, and the
/// calls that act.
pub struct Ctx<'a, N: Node> {
    pub(crate) id: NodeId,
    pub(crate) nodes: u32,
    pub(crate) now_ns: u64,
    pub(crate) clock: &'a Arc<NodeClock>,
    pub(crate) rng: &'a mut DetRng,
    pub(crate) disk: &'a FsHandle,
    pub(crate) buggify: &'a mut Buggify,
    pub(crate) effects: &'a mut Effects<N>,
}

impl<N: Node> Ctx<'_, N> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Nodes in the run (ids are `0..node_count()`).
    pub fn node_count(&self) -> u32 {
        self.nodes
    }

    /// The node's local clock in nanoseconds (skewed, drifting, maybe jumped).
    pub fn local_ns(&self) -> u64 {
        self.clock.local_at(self.now_ns)
    }

    /// The node's clock as the engine's `Clock`, to hand to engine code.
    pub fn clock(&self) -> Arc<NodeClock> {
        Arc::clone(self.clock)
    }

    /// The node's random stream (its own: other nodes' draws do not move it).
    pub fn rng(&mut self) -> &mut DetRng {
        self.rng
    }

    /// The node's disk: the engine's `sim` backend, so engine code runs on it unchanged.
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
        let global = self.clock.to_global_delay(delay_ns);
        self.effects.timers.push((global, timer));
    }

    /// Answer client operation `op_id`. Answer each operation once.
    pub fn reply(&mut self, op_id: OpId, reply: N::Reply) {
        assert!(
            self.effects.replies.len() < EFFECTS_PER_EVENT_MAX,
            "reply storm"
        );
        self.effects.replies.push((op_id, reply));
    }

    /// Buggify: true, rarely, at `site` when this seed enables it — take the rare path (a
    /// shorter timeout, an extra retry, a reordered step) that tests would otherwise never reach.
    /// Always false outside fault time and in runs that do not enable buggify.
    pub fn buggify(&mut self, site: &'static str) -> bool {
        self.buggify.hit(site)
    }
}
