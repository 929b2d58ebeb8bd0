//! Determinism checks: run a seed twice, compare hashes, and on a mismatch name the first event
//! that differs.
//!
//! A third, hash-only run checks that rendering the trace does not change the hash — sweeps run
//! hash-only, and their hashes must match a `--trace` rerun's.

use serde::Serialize;

use crate::config::RunConfig;
use crate::error::SimError;
use crate::registry;
use crate::trace::diff::{first_divergence, Divergence};
use crate::trace::{hash_hex, MemorySink};

/// The result of checking one seed.
#[derive(Clone, Debug, Serialize)]
pub struct DeterminismReport {
    /// The seed.
    pub seed: u64,
    /// Hash of the first run.
    pub hash_first: String,
    /// Hash of the second run.
    pub hash_second: String,
    /// Hash of the hash-only run.
    pub hash_untraced: String,
    /// Events in the first run.
    pub events: u64,
    /// Where the traces part, if they do.
    pub divergence: Option<Divergence>,
}

impl DeterminismReport {
    /// Whether all three runs agree.
    pub fn deterministic(&self) -> bool {
        self.divergence.is_none()
            && self.hash_first == self.hash_second
            && self.hash_first == self.hash_untraced
    }
}

/// Check `config` (one seed).
pub fn check(config: &RunConfig) -> Result<DeterminismReport, SimError> {
    let mut a = MemorySink::default();
    let first = registry::run(config, Some(&mut a))?;
    let mut b = MemorySink::default();
    let second = registry::run(config, Some(&mut b))?;
    let untraced = registry::run(config, None)?;
    Ok(DeterminismReport {
        seed: config.seed,
        hash_first: hash_hex(first.hash),
        hash_second: hash_hex(second.hash),
        hash_untraced: hash_hex(untraced.hash),
        events: first.events,
        divergence: first_divergence(&a.lines, &b.lines),
    })
}
