//! # seedbed-nodes
//!
//! Seedbed's protocol nodes — the Dynamo-style quorum store and SWIM gossip — and the contract
//! they are written against. A node is a state machine whose handlers act only through a
//! [`Ctx`]: send a message, set a timer, reply to a client, read its clock, draw from its
//! random stream, use its disk. Who drives the handlers and carries out what they ask is a
//! *runtime*'s business, and this crate knows none:
//!
//! - the **simulator** (`seedbed-sim`): one event loop over virtual time, a simulated network
//!   and disks, faults, checkers, traces;
//! - a **real runtime** (a process per node, TCP on loopback, the monotonic clock, the engine's
//!   `std`/`uring` disk), which needs this crate and the engine, not the simulator's world.
//!
//! That is FoundationDB's lesson applied: the code the simulator tests is the code that runs.
//! The layering stays one way — `seedbed-engine` ← `seedbed-nodes` ← `seedbed-sim` ← harness.
//!
//! Map (one concept per file):
//! - [`node`] — the [`Node`] trait, [`Message`], [`Payload`], ids; [`ctx`] — [`Ctx`],
//!   [`Effects`], the [`Buggify`] hook; [`time`] — nanosecond helpers; [`param`] — parameter
//!   errors.
//! - [`quorum`] — the quorum store's node (replica, coordinator, client library, repair);
//!   [`gossip`] — the SWIM member with Lifeguard, and [`gossip::embed`] to run one inside
//!   another node.
//!
//! Messages, operations and replies of [`quorum`] and [`gossip`] derive serde's `Serialize`
//! and `Deserialize`, for a transport that puts them on a wire.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod ctx;
pub mod gossip;
pub mod node;
pub mod param;
pub mod quorum;
pub mod time;

pub use ctx::{Buggify, Ctx, Effects, NoBuggify, EFFECTS_PER_EVENT_MAX};
pub use node::{Message, Node, NodeId, OpId, Payload, TimerId, MAX_NODES};
pub use param::ParamError;
