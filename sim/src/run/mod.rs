//! The verbs above a single run: repro lines, determinism checks, shrinking and sweeps.
//!
//! Everything here is single-threaded and deterministic; the harness runs many seeds on many
//! threads by calling these per seed.

pub mod determinism;
pub mod repro;
pub mod shrink;
pub mod sweep;
