//! Nodes: the processes of the simulated world, and the context their handlers act through.
//!
//! The contract itself — [`Node`], [`Ctx`], [`Effects`], [`Message`], the ids — lives in
//! `seedbed-nodes`, so that a real runtime can drive the same nodes without this crate; it is
//! re-exported here whole. What the simulator adds is the runtime: the world ([`crate::world`])
//! builds each handler's [`Ctx`] over the node's skewed clock ([`crate::clock::NodeClock`]), its
//! random stream, its simulated disk ([`crate::disk`]) and buggify
//! ([`crate::faults::buggify`]), then carries out the [`Effects`] through the simulated network
//! and timers, traced and faulted.
//!
//! **Crash and restart.** When a node crashes, the world drops the node value (all memory is
//! lost) and crashes its disk (unsynced writes are kept, dropped or torn). At restart it builds a
//! fresh value with the workload's `build_node` and calls [`Node::on_restart`], which must rebuild
//! state from the disk. A protocol that keeps anything important only in memory fails here.

pub use seedbed_nodes::{
    Buggify as BuggifyHook, Ctx, Effects, Message, Node, NodeId, OpId, Payload, TimerId,
    EFFECTS_PER_EVENT_MAX, MAX_NODES,
};
