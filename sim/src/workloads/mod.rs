//! Workloads that ship with the simulator.
//!
//! - [`ping`] — message-only, for measuring the simulator's speed.
//! - [`register`] — a replicated register with a planted bug, to prove the machinery end to end.
//!
//! The quorum (LSM), gossip (SWIM) and IAM workloads arrive in their own modules.

pub mod ping;
pub mod quorum;
pub mod register;
