//! # seedbed-cluster
//!
//! The real runtime: the quorum node of `seedbed-nodes` — the same value the simulator drives,
//! with its embedded SWIM member — as a process per node on loopback TCP and a real disk.
//! FoundationDB's lesson applied to the network and the process: the code the simulator tests
//! is the code that runs. This crate depends on the node contract and the engine, never on the
//! simulator's world.
//!
//! Map (one concept per file):
//! - [`runtime`] — the event loop of one node process (the world, cut down to one node);
//! - [`transport`] — TCP: an acceptor, a reader per connection, a writer per peer;
//! - [`frame`] — length, version byte, CRC32, CBOR body; [`wire`] — what a frame carries;
//! - [`disk`] — the engine's `std`/`uring` backend rooted at the node's directory;
//! - [`clock`] — the machine's monotonic clock with a settable skew;
//! - [`faults`] — partitions and skews, as a file every node watches;
//! - [`config`] — a cluster's settings and directory layout;
//! - [`process`] — pids and signals (kill, pause, resume);
//! - [`client`] — a client over the same frames: operations and status;
//! - [`admin`] — what `seedbed cluster` does: up, down, status, faults;
//! - [`testrun`] — `seedbed cluster test`: clients, a [`nemesis`], a recorded history.

#![warn(missing_docs)]

pub mod admin;
pub mod client;
pub mod clock;
pub mod config;
pub mod disk;
pub mod faults;
pub mod frame;
pub mod nemesis;
pub mod process;
pub mod runtime;
pub mod testrun;
pub mod transport;
pub mod wire;
