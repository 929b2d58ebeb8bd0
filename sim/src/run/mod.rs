//! The verbs above a single run: repro lines, determinism checks, shrinking and sweeps.
//!
//! Everything here is sequential and deterministic; the harness runs many seeds on many
//! cores by calling these per seed.

pub mod determinism;
pub mod repro;
pub mod shrink;
pub mod sweep;
