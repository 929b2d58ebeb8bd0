//! Sweeps: many seeds of one workload, summarised by checker.
//!
//! This module decides *which* seeds a sweep (or one shard of it) runs and how results are
//! summed up; it runs nothing in parallel itself — the harness runs [`Sweep::run_seed`] on as
//! many workers as `--jobs` says, each seed on one core, each worker adding to its own
//! [`Sweep`] (the generic [`SweepSummary`] and the workload's own summary), merged at the end. Every part of the summary is order-independent (sums,
//! counts, failure lists sorted by seed, a fingerprint that adds per-seed hashes), so it is the
//! same whatever `--jobs` or `--shard`, and its memory does not grow with the seed count.

use std::collections::BTreeMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::check::Violation;
use crate::config::RunConfig;
use crate::error::SimError;
use crate::hash::StableHasher;
use crate::registry;
use crate::run::repro::{self, Sources};
use crate::summary::{AnySummary, Finished};
use crate::trace::hash_hex;
use crate::world::RunOutcome;

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
    /// The workload's scalar measurements ([`crate::RunOutcome::metrics`]).
    pub metrics: BTreeMap<String, f64>,
    /// The interesting events that happened, and how often ([`crate::sometimes`]).
    pub sometimes: BTreeMap<String, u64>,
}

/// One measurement summed over a sweep's seeds: order-independent, so mergeable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSum {
    /// Seeds that reported it.
    pub seeds: u64,
    /// Sum of the seeds' values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl MetricSum {
    fn add(&mut self, v: f64) {
        if self.seeds == 0 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.seeds += 1;
        self.sum += v;
    }

    fn merge(&mut self, o: &MetricSum) {
        if o.seeds == 0 {
            return;
        }
        if self.seeds == 0 {
            *self = *o;
            return;
        }
        self.seeds += o.seeds;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// The mean over the seeds that reported it.
    pub fn mean(&self) -> f64 {
        if self.seeds == 0 {
            0.0
        } else {
            self.sum / self.seeds as f64
        }
    }
}

/// Run seed `seed` of `base` (hash-only); the outcome and, if it failed, its repro line.
fn run_outcome(
    base: &RunConfig,
    seed: u64,
    sources: &Sources,
) -> Result<(RunOutcome, Option<String>), SimError> {
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
    Ok((outcome, repro))
}

impl SeedResult {
    fn new(outcome: RunOutcome, repro: Option<String>) -> SeedResult {
        SeedResult {
            seed: outcome.config.seed,
            hash: hash_hex(outcome.hash),
            events: outcome.events,
            violation: outcome.violation,
            repro,
            metrics: outcome.metrics.scalars,
            sometimes: outcome.metrics.sometimes,
        }
    }
}

/// Run seed `seed` of `base` (hash-only).
pub fn run_seed(base: &RunConfig, seed: u64, sources: &Sources) -> Result<SeedResult, SimError> {
    let (outcome, repro) = run_outcome(base, seed, sources)?;
    Ok(SeedResult::new(outcome, repro))
}

/// A sweep in progress — one worker's part, or the whole: the generic [`SweepSummary`] and
/// the workload's own summary ([`crate::summary`]), fed the same seeds.
pub struct Sweep {
    /// The generic part.
    pub summary: SweepSummary,
    own: Box<dyn AnySummary>,
}

impl std::fmt::Debug for Sweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweep")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Sweep {
    /// An empty sweep of `base`'s workload.
    pub fn new(base: &RunConfig) -> Result<Sweep, SimError> {
        let entry = registry::find(&base.workload)?;
        let mut summary = SweepSummary::empty(&base.workload);
        for s in entry.sometimes {
            summary.sometimes.insert(s.name.to_string(), 0);
        }
        Ok(Sweep {
            summary,
            own: (entry.summary)(base),
        })
    }

    /// Run seed `seed` of `base` and count it in; true when it failed.
    pub fn run_seed(
        &mut self,
        base: &RunConfig,
        seed: u64,
        sources: &Sources,
    ) -> Result<bool, SimError> {
        let (outcome, repro) = run_outcome(base, seed, sources)?;
        self.own.add(&outcome);
        let failed = outcome.violation.is_some();
        self.summary.add(SeedResult::new(outcome, repro));
        Ok(failed)
    }

    /// Fold in another part of the same sweep (another worker, in any order).
    pub fn merge(&mut self, other: Sweep) {
        self.summary.merge(other.summary);
        self.own.merge_any(other.own);
    }

    /// The generic summary (failure lists in seed order) and the workload's own, finished.
    pub fn finish(mut self) -> (SweepSummary, Finished) {
        self.summary.finish();
        (self.summary, self.own.finish_any())
    }
}

/// A failure in the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailureLine {
    /// The seed.
    pub seed: u64,
    /// What the checker saw.
    pub message: String,
    /// The command that reruns it.
    pub repro: String,
}

/// Failures listed per checker, at most (the smallest seeds); the rest are counted. Keeps a
/// million-seed sweep's memory bounded by this, not by its failures.
pub const FAILURES_LISTED_MAX: usize = 100;

/// A sweep's summary, built seed by seed ([`SweepSummary::add`]) and merged across workers and
/// shards ([`SweepSummary::merge`]); see the module docs for why the order never matters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The workload.
    pub workload: String,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// Events simulated in all.
    pub events: u64,
    /// Failing seeds per checker.
    pub failed_by_checker: BTreeMap<String, u64>,
    /// Failures per checker: the [`FAILURES_LISTED_MAX`] smallest seeds, in seed order.
    pub failures: BTreeMap<String, Vec<FailureLine>>,
    /// An order-independent hash over every (seed, trace hash): equal fingerprints mean equal
    /// sweeps, however they were split.
    #[serde(serialize_with = "as_hex", deserialize_with = "from_hex")]
    pub fingerprint: u64,
    /// The workload's measurements, summed per name over the seeds (empty for workloads that
    /// measure nothing). Sums of floats may differ in the last bits with the order of
    /// addition, so they are not part of the fingerprint.
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricSum>,
    /// Per interesting event ([`crate::sometimes`]): the seeds it happened in. Every event the
    /// workload declares is here, with 0 when it never happened ([`SweepSummary::never`]).
    #[serde(default)]
    pub sometimes: BTreeMap<String, u64>,
}

fn as_hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hash_hex(*v))
}

fn from_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    u64::from_str_radix(&text, 16)
        .map_err(|_| serde::de::Error::custom(format!("fingerprint '{text}' is not 16 hex digits")))
}

impl SweepSummary {
    /// A summary of nothing yet.
    pub fn empty(workload: &str) -> Self {
        SweepSummary {
            workload: workload.to_string(),
            seeds: 0,
            failed: 0,
            events: 0,
            failed_by_checker: BTreeMap::new(),
            failures: BTreeMap::new(),
            fingerprint: 0,
            metrics: BTreeMap::new(),
            sometimes: BTreeMap::new(),
        }
    }

    /// Sum up `results` (any order).
    pub fn new(workload: &str, results: Vec<SeedResult>) -> Self {
        let mut s = SweepSummary::empty(workload);
        for r in results {
            s.add(r);
        }
        s
    }

    /// Count one seed in.
    pub fn add(&mut self, r: SeedResult) {
        let mut h = StableHasher::new();
        h.word(r.seed);
        h.write(r.hash.as_bytes());
        // Addition commutes: the fingerprint is the same in any order.
        self.fingerprint = self.fingerprint.wrapping_add(h.finish());
        self.seeds += 1;
        self.events += r.events;
        for (k, v) in &r.metrics {
            self.metrics.entry(k.clone()).or_default().add(*v);
        }
        for (k, &times) in &r.sometimes {
            if times > 0 {
                *self.sometimes.entry(k.clone()).or_default() += 1;
            }
        }
        if let Some(v) = r.violation {
            self.failed += 1;
            *self.failed_by_checker.entry(v.checker.clone()).or_default() += 1;
            let list = self.failures.entry(v.checker).or_default();
            list.push(FailureLine {
                seed: r.seed,
                message: v.message,
                repro: r.repro.unwrap_or_default(),
            });
            if list.len() > 2 * FAILURES_LISTED_MAX {
                Self::trim(list);
            }
        }
    }

    fn trim(list: &mut Vec<FailureLine>) {
        list.sort_by_key(|f| f.seed);
        list.truncate(FAILURES_LISTED_MAX);
    }

    /// Fold another part of the same sweep in (another worker, another shard).
    pub fn merge(&mut self, other: SweepSummary) {
        assert_eq!(
            self.workload, other.workload,
            "merging sweeps of different workloads"
        );
        self.fingerprint = self.fingerprint.wrapping_add(other.fingerprint);
        self.seeds += other.seeds;
        self.failed += other.failed;
        self.events += other.events;
        for (k, n) in other.failed_by_checker {
            *self.failed_by_checker.entry(k).or_default() += n;
        }
        for (k, m) in &other.metrics {
            self.metrics.entry(k.clone()).or_default().merge(m);
        }
        for (k, n) in other.sometimes {
            *self.sometimes.entry(k).or_default() += n;
        }
        for (k, mut list) in other.failures {
            self.failures.entry(k).or_default().append(&mut list);
        }
        self.finish();
    }

    /// The declared interesting events that happened in no seed of the sweep: the faults
    /// never reached them, or the code that makes them happen is dead.
    pub fn never(&self) -> Vec<&str> {
        self.sometimes
            .iter()
            .filter(|(_, &n)| n == 0)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Put failure lists in seed order and cut them to [`FAILURES_LISTED_MAX`]; call before
    /// printing.
    pub fn finish(&mut self) {
        for list in self.failures.values_mut() {
            Self::trim(list);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(seed: u64, failed: bool) -> SeedResult {
        SeedResult {
            seed,
            hash: hash_hex(seed * 7),
            events: 10,
            violation: failed.then(|| Violation {
                checker: "c".into(),
                at_ns: 0,
                message: format!("seed {seed}"),
            }),
            repro: None,
            metrics: [("m".to_string(), seed as f64)].into_iter().collect(),
            sometimes: [("odd".to_string(), seed % 2)].into_iter().collect(),
        }
    }

    #[test]
    fn summaries_merge_in_any_order_and_stay_bounded() {
        let all: Vec<SeedResult> = (0..1_000).map(|s| result(s, s % 3 == 0)).collect();
        let whole = SweepSummary::new("w", all.clone());
        let mut a = SweepSummary::new(
            "w",
            all.iter()
                .rev()
                .filter(|r| r.seed % 2 == 0)
                .cloned()
                .collect(),
        );
        a.merge(SweepSummary::new(
            "w",
            all.iter().filter(|r| r.seed % 2 == 1).cloned().collect(),
        ));
        let mut whole_sorted = whole.clone();
        whole_sorted.finish();
        assert_eq!(a.fingerprint, whole.fingerprint);
        assert_eq!((a.seeds, a.failed, a.events), (1_000, 334, 10_000));
        assert_eq!(a.failed_by_checker["c"], 334);
        let m = a.metrics["m"];
        assert_eq!(
            (m.seeds, m.min, m.max, m.mean()),
            (1_000, 0.0, 999.0, 499.5)
        );
        assert_eq!(
            a.sometimes["odd"], 500,
            "seeds where it happened, not times"
        );
        let seeds = |s: &SweepSummary| s.failures["c"].iter().map(|f| f.seed).collect::<Vec<_>>();
        assert_eq!(seeds(&a), seeds(&whole_sorted));
        assert_eq!(seeds(&a).len(), FAILURES_LISTED_MAX);
        assert_eq!(seeds(&a)[..3], [0, 3, 6]);
        let json = serde_json::to_string(&a).unwrap();
        let back: SweepSummary = serde_json::from_str(&json).unwrap();
        assert_eq!((back.fingerprint, back.failed), (a.fingerprint, a.failed));
        let mut other = SweepSummary::new("w", vec![result(5000, false)]);
        other.merge(SweepSummary::empty("w"));
        assert_ne!(
            other.fingerprint,
            SweepSummary::new("w", vec![result(5001, false)]).fingerprint
        );
    }

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
