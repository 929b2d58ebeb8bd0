//! Faults: what can go wrong in a run, chosen per seed or by a plan file.
//!
//! - [`plan`] — the kinds of fault and their intensities (TOML-loadable).
//! - [`swarm`] — a random plan per seed (swarm testing).
//! - [`schedule`] — a plan's discrete faults as a timed list (what the shrinker edits).
//! - [`buggify`] — rare paths inside protocol code.

pub mod buggify;
pub mod plan;
pub mod schedule;
pub mod swarm;

pub use plan::{ClockFaults, DiskFaults, FaultPlan, Periodic};
pub use schedule::{Fault, ScheduledFault};
