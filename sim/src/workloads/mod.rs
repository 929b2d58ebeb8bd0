//! Workloads that ship with the simulator.
//!
//! - [`ping`] — message-only, for measuring the simulator's speed.
//! - [`register`] — a replicated register with a planted bug, to prove the machinery end to end.
//! - [`gossip`] — SWIM membership with Lifeguard's options: checked and measured.
//!
//! - [`iam`] — eventually consistent IAM: policy changes propagating, stale allows measured.
//! - [`events`] — object events → queue → functions: at-least-once delivery, idempotency, order.
//!
//! The quorum (LSM) and gossip (SWIM) workloads arrive in their own modules.

pub mod events;
pub mod gossip;
pub mod iam;
pub mod ping;
pub mod quorum;
pub mod register;
