//! # seedbed-engine
//!
//! What one Seedbed storage node runs. Everything here reaches the outside world through three
//! injected seams — the I/O backend ([`io`]), the [`clock`] and the [`rng`] — so that the same
//! code runs on an NVMe drive and inside the deterministic simulator.

#![warn(missing_docs)]

pub mod cast;
pub mod clock;
pub(crate) mod commit_gate;
pub mod iam;
pub mod io;
pub mod lsm;
pub mod object;
pub mod parallel;
pub mod records;
pub mod rng;
pub mod table;
