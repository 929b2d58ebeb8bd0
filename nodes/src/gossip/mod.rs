//! The SWIM member (Das, Gupta, Motivala, 2002) with Lifeguard's options: a failure detector
//! and membership protocol. The simulator's `gossip` workload drives it (and holds its
//! checkers and measurements); the quorum node embeds it for its membership, as can any node
//! ([`embed`]). `docs/gossip.md` teaches the protocol.
//!
//! Map (one concept per file): [`msg`] (updates, messages, wire sizes), [`member`] (the
//! membership table and SWIM's precedence rule — [`Membership`] is the reusable view),
//! [`queue`] (piggyback dissemination, `λ·log n` retransmissions), [`detector`] (round-robin
//! probe order, probes, suspicions), [`lifeguard`] (local health, dynamic suspicion, buddy),
//! [`params`] (parameters and planted bugs), [`node`] (the member), [`embed`] (a member inside
//! another node).

pub mod detector;
pub mod embed;
pub mod lifeguard;
pub mod member;
pub mod msg;
pub mod node;
pub mod params;
pub mod queue;

pub use member::Membership;
pub use node::GossipNode;
pub use params::{Bug, Params};
