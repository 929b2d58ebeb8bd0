//! # seedbed-sim
//!
//! Seedbed's deterministic simulator, in the spirit of FoundationDB's simulator and
//! TigerBeetle's VOPR: a whole cluster — nodes, network, disks, clocks — runs on one core over
//! virtual time, every random choice drawn from one seeded ChaCha stream. The same seed, config
//! and binary give a byte-identical trace, so a failure found once is a failure found forever.
//!
//! Map of the crate (one concept per file):
//! - [`world`] — the event loop; [`event`] — the queue; [`time`], [`clock`] — virtual time and
//!   each node's skewed clock; [`node`] — the node contract (`Node`, `Ctx`, `Effects`), which
//!   lives in `seedbed-nodes` so a real runtime can drive the same nodes; [`disk`] — a node's
//!   simulated disk (the engine's `sim` backend).
//! - [`net`] — latency, loss, duplication, reordering, partitions, bounded queues.
//! - [`faults`] — plans, swarm testing, schedules, buggify.
//! - [`check`] — checkers and violations; [`workload`], [`registry`], [`workloads`].
//! - [`metrics`] — what a run measured (scalars, samples, labels, messages per kind);
//!   [`sometimes`] — the interesting events a workload declares, counted per sweep;
//!   [`summary`] — a workload's own summary of a sweep: tables and chart data.
//! - [`trace`] — JSON lines, the trace hash, timelines; [`hash`] — the stable hash.
//! - [`run`] — repro lines, determinism checks, shrinking, sweeps (the harness's verbs);
//!   [`span`] — the root cause each event descends from; [`choices`] — a run's recorded
//!   random draws, as a shrunk config carries them.
//!
//! Layering: `seedbed-engine` ← `seedbed-nodes` (the contract and the quorum and gossip nodes)
//! ← this crate ← the harness. The quorum and gossip workloads here hold what only a test needs
//! (clients, checkers, metrics) and re-export their nodes' modules.
//!
//! Determinism rules for this crate: time only from the world, randomness only from its
//! streams, no parallel workers, only ordered maps. `docs/simulation.md` teaches the whole thing.

#![warn(missing_docs)]
// Nothing here needs unsafe: the engine owns every raw I/O path.
#![forbid(unsafe_code)]

pub mod check;
pub mod choices;
pub mod clock;
pub mod config;
pub mod disk;
pub mod error;
pub mod event;
pub mod faults;
pub mod hash;
pub mod metrics;
pub mod net;
pub mod node;
pub mod registry;
pub mod run;
pub mod sometimes;
pub mod span;
pub mod summary;
pub use seedbed_nodes::time;
pub mod trace;
pub mod workload;
pub mod workloads;
pub mod world;

pub use check::{Checker, Violation};
pub use config::{FaultSource, RunConfig};
pub use error::SimError;
pub use metrics::{Metrics, Traffic};
pub use node::{Ctx, Message, Node, NodeId};
pub use summary::{Finished, NoSummary, Summary};
pub use workload::Workload;
pub use world::{RunOutcome, RunSize};
