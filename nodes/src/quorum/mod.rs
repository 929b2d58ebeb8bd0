//! The quorum store's node: a Dynamo-style replicated key-value store on the real LSM. The
//! simulator's `quorum` workload drives it (and holds its checkers); a real runtime can drive
//! the same node. See `docs/quorum.md` for the tour.
//!
//! One concept per file: [`ring`] (consistent hashing, preference lists), [`vclock`] and
//! [`version`] (causality, siblings, last-writer-wins), [`store`] (the LSM on the node's
//! disk), [`merkle`] (hash trees over ranges), [`node`] (boot, replica), [`coordinator`] (R/W
//! quorums, sloppy quorum), [`read_repair`], [`handoff`], [`anti_entropy`], [`group`] (group commit), [`client`]
//! (retries, backoff, reconciliation), [`membership`] (the seam for gossip), [`msg`] (what
//! travels), [`params`] (the node's settings and planted bugs), [`history`] (a client history
//! as JSON lines, the same from either runtime).

pub mod anti_entropy;
pub mod client;
pub mod coordinator;
pub mod group;
pub mod handoff;
pub mod history;
pub mod membership;
pub mod merkle;
pub mod msg;
pub mod node;
pub mod params;
pub mod read_repair;
pub mod ring;
pub mod store;
pub mod vclock;
pub mod version;

pub use node::QuorumNode;
pub use params::{Bug, Params, SyncMode};
