//! The node contract: a process as a state machine, and the types its events carry.
//!
//! A node is driven with five kinds of event — start, message, timer, client operation,
//! restart. Handlers never block and never reach the runtime directly: they call [`Ctx`] to
//! send, set timers and reply, and the runtime carries those effects out after the handler
//! returns. In the simulator that keeps every effect in one place where it is traced, faulted
//! and ordered; in a real runtime it keeps handlers free of sockets and event loops.
//!
//! **Crash and restart.** When a node crashes, its runtime drops the node value (all memory is
//! lost) and the disk keeps only what was synced. At restart the runtime builds a fresh value
//! and calls [`Node::on_restart`], which must rebuild state from the disk. A protocol that keeps
//! anything important only in memory fails here.

use std::fmt::Debug;
use std::hash::Hash;

use crate::ctx::Ctx;

/// A node's index, `0..nodes`.
pub type NodeId = u32;

/// Nodes per cluster, at most. The simulator's partitions are bitsets of any size; the bound
/// keeps its network's per-link state (`nodes²` links, 16 bytes each: 16 MiB at this bound) in
/// memory. Protocols with their own limits check them when they are built.
pub const MAX_NODES: u32 = 1_024;

/// A client operation's id, unique within a run.
pub type OpId = u64;

/// A timer's id, chosen by the node; the runtime hands it back when the timer fires.
pub type TimerId = u64;

/// What messages, client operations and replies must be: cloneable (a network may duplicate),
/// printable (traces) and hashable (the simulator's trace hash — derive `Hash`; the simulator
/// hashes with its own fixed-seed hasher, never std's randomised one).
pub trait Payload: Clone + Debug + Hash + 'static {}
impl<T: Clone + Debug + Hash + 'static> Payload for T {}

/// What messages between nodes are, beyond a [`Payload`]: each has a kind, so a runtime can
/// count sends per kind — counts that survive crashes, which a node's own counters would not —
/// and, where the protocol models it, a size on the wire.
pub trait Message: Payload {
    /// A short name for this message's kind, the same for every message of a variant
    /// (`"ping"`, `"fetch-reply"`): a string literal.
    fn kind(&self) -> &'static str;

    /// Bytes this message would take on a real network, as the protocol models its encoding
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

/// A process; see the module docs.
pub trait Node: Sized + 'static {
    /// Messages between nodes: keep them a small enum (the simulator keeps them in its event
    /// heap).
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
