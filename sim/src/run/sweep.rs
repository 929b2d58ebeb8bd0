//! Sweeps: many seeds of one workload, summarised by checker.
//!
//! This module decides *which* seeds a sweep (or one shard of it) runs and how results are
//! summed up; it runs nothing in parallel itself — the harness runs [`run_seed`] on as many
//! workers as `--jobs` says, each seed on one core. Results are sorted by seed before they
//! are summarised, so the summary (and its [`SweepSummary::fingerprint`]) is the same whatever
//! `--jobs` or `--shard`.

use std::collections::BTreeMap;
use std::hash::Hasher;

use serde::Serialize;

use crate::check::Violation;
use crate::config::RunConfig;
use crate::error::SimError;
use crate::hash::StableHasher;
use crate::registry;
use crate::run::repro::{self, Sources};
use crate::trace::hash_hex;

/// Seeds per sweep, at most (a bound on memory for results).
pub const SEEDS_MAX: u64 = 100_000_000;

/// A half-open range of seeds, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// First seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl std::str::FromStr for SeedRange {
    type Err = String;

    /// `A..B` (B excluded), `A..=B`, or a single seed `A`.
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("seed range '{s}': '{t}' is not a number"))
        };
        let (start, end) = if let Some((a, b)) = s.split_once("..=") {
            (
                num(a)?,
                num(b)?.checked_add(1).ok_or("seed range end overflows")?,
            )
        } else if let Some((a, b)) = s.split_once("..") {
            (num(a)?, num(b)?)
        } else {
            let a = num(s)?;
            (a, a + 1)
        };
        if start >= end {
            return Err(format!("seed range '{s}' is empty"));
        }
        if end - start > SEEDS_MAX {
            return Err(format!("seed range '{s}' has more than {SEEDS_MAX} seeds"));
        }
        Ok(SeedRange { start, end })
    }
}

/// One shard of a sweep: `index` of `count` (`--shard i/n`, 0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard '{s}': expected i/n, like 0/4"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("shard '{s}': '{i}' is not a number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard '{s}': '{n}' is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard '{s}': need 0 <= i < n"));
        }
        Ok(Shard { index, count })
    }
}

/// The seeds of `range` that shard `shard` runs: every `count`-th, from `start + index`. The
/// shards of one range are disjoint and together cover it.
pub fn seeds(range: SeedRange, shard: Shard) -> impl Iterator<Item = u64> {
    (range.start + shard.index..range.end).step_by(shard.count as usize)
}

/// One seed's result.
#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Its trace hash.
    pub hash: String,
    /// Events simulated.
    pub events: u64,
    /// The violation, if it failed.
    pub violation: Option<Violation>,
    /// The command that reruns it (when it failed).
    pub repro: Option<String>,
}

/// Run seed `seed` of `base` (hash-only).
pub fn run_seed(base: &RunConfig, seed: u64, sources: &Sources) -> Result<SeedResult, SimError> {
    let mut config = base.clone();
    config.seed = seed;
    let outcome = registry::run(&config, None)?;
    let repro = outcome.violation.as_ref().map(|_| {
        repro::command(&config, sources).unwrap_or_else(|| {
            format!(
                "(config not expressible as flags; seed {seed}) seedbed sim run {}",
                config.flags()
            )
        })
    });
    Ok(SeedResult {
        seed,
        hash: hash_hex(outcome.hash),
        events: outcome.events,
        violation: outcome.violation,
        repro,
    })
}

/// A failure in the summary.
#[derive(Clone, Debug, Serialize)]
pub struct FailureLine {
    /// The seed.
    pub seed: u64,
    /// What the checker saw.
    pub message: String,
    /// The command that reruns it.
    pub repro: String,
}

/// A sweep's summary.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// The workload.
    pub workload: String,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// Events simulated in all.
    pub events: u64,
    /// Failures per checker, by seed.
    pub failures: BTreeMap<String, Vec<FailureLine>>,
    /// A hash over every (seed, trace hash): equal fingerprints mean equal sweeps.
    pub fingerprint: String,
}

impl SweepSummary {
    /// Sum up `results` (any order).
    pub fn new(workload: &str, mut results: Vec<SeedResult>) -> Self {
        results.sort_by_key(|r| r.seed);
        let mut h = StableHasher::new();
        let mut failures: BTreeMap<String, Vec<FailureLine>> = BTreeMap::new();
        let mut events = 0;
        for r in &results {
            h.word(r.seed);
            h.write(r.hash.as_bytes());
            events += r.events;
            if let Some(v) = &r.violation {
                failures
                    .entry(v.checker.clone())
                    .or_default()
                    .push(FailureLine {
                        seed: r.seed,
                        message: v.message.clone(),
                        repro: r.repro.clone().unwrap_or_default(),
                    });
            }
        }
        SweepSummary {
            workload: workload.to_string(),
            seeds: results.len() as u64,
            failed: results.iter().filter(|r| r.violation.is_some()).count() as u64,
            events,
            failures,
            fingerprint: hash_hex(h.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_shards_parse_and_partition() {
        let r: SeedRange = "10..20".parse().unwrap();
        assert_eq!(r, SeedRange { start: 10, end: 20 });
        assert_eq!(
            "3..=3".parse::<SeedRange>().unwrap(),
            SeedRange { start: 3, end: 4 }
        );
        assert!("5..5".parse::<SeedRange>().is_err());
        assert!("a..5".parse::<SeedRange>().unwrap_err().contains("'a'"));
        assert!("3/3".parse::<Shard>().is_err());
        let mut all: Vec<u64> = (0..3)
            .flat_map(|i| seeds(r, Shard { index: i, count: 3 }))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..20).collect::<Vec<_>>());
    }
}
