//! Metrics of IAM runs: stale-allow windows, propagation times, messages per change — per
//! run, and summed over a sweep per fault setting.
//!
//! The checkers fill a [`RunMetrics`] during a run and hand it over when the run ends
//! ([`publish`], a thread-local slot: runs on one thread are sequential, so the slot holds
//! the run that just ended on this thread). [`run_seed`] runs one seed and takes it;
//! [`IamSweep`] sums seeds, grouped by the fault setting each seed drew.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::RunConfig;
use crate::error::SimError;
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::registry;
use crate::time::NANOS_PER_MS;
use crate::world::RunOutcome;

/// Samples kept per fault setting, at most (beyond that, counted but not kept).
pub const SAMPLES_MAX: usize = 1 << 20;
/// Failures listed in a sweep, at most.
pub const FAILURES_LISTED_MAX: usize = 100;

/// What one run measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunMetrics {
    /// The fault setting the run drew ([`fault_setting`]).
    pub setting: &'static str,
    /// Protocol messages the nodes handed to the network (copies the network made not
    /// counted).
    pub messages: u64,
    /// Changes the leader committed.
    pub changes: u64,
    /// Allow decisions made with a view older than a revoke of what they allowed.
    pub stale_allows: u64,
    /// Revokes that some node allowed after they were committed.
    pub revokes_with_stale_allow: u64,
    /// Per (revoke, request) pair that had stale allows: the longest, nanoseconds.
    pub stale_allow_ns: Vec<u64>,
    /// Per change: commit → the leader reports every node holds it, nanoseconds (observed at
    /// the leader's next authorization reply, so a few milliseconds coarse).
    pub propagation_ns: Vec<u64>,
    /// The longest stale allow, in words (where to look in a timeline).
    pub longest: Option<(u64, String)>,
}

impl RunMetrics {
    /// One paragraph for `seedbed sim run`.
    pub fn summary(&self) -> String {
        let mut p = self.propagation_ns.clone();
        p.sort_unstable();
        let mut s = format!(
            "iam: {} changes, {} messages ({:.1}/change), propagation p50 {:.1} ms max {:.1} ms; {} stale allows over {} revokes",
            self.changes,
            self.messages,
            if self.changes == 0 { 0.0 } else { self.messages as f64 / self.changes as f64 },
            ms(percentile(&p, 50)),
            ms(p.last().copied().unwrap_or(0)),
            self.stale_allows,
            self.revokes_with_stale_allow,
        );
        if let Some((_, what)) = &self.longest {
            s.push_str(&format!("\n  longest stale allow: {what}"));
        }
        s
    }
}

thread_local! {
    static LAST: RefCell<Option<RunMetrics>> = const { RefCell::new(None) };
    static MESSAGES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A node sent a message. Counted on the side (a per-thread counter the checkers reset when a
/// run starts and read when it ends): nodes lose their memory at crashes, the count must not.
/// It is only read for metrics, never by protocol code, so it cannot change a run.
pub fn count_message() {
    MESSAGES.with(|m| m.set(m.get() + 1));
}

/// Messages counted so far in this run.
pub fn messages() -> u64 {
    MESSAGES.with(|m| m.get())
}

/// Reset the message counter (a run starts) and return what it held.
pub fn reset_messages() -> u64 {
    MESSAGES.with(|m| m.replace(0))
}

/// Store the metrics of the run that just ended on this thread.
pub fn publish(m: RunMetrics) {
    LAST.with(|l| *l.borrow_mut() = Some(m));
}

/// Take the metrics of the last IAM run on this thread.
pub fn take_last() -> Option<RunMetrics> {
    LAST.with(|l| l.borrow_mut().take())
}

/// The fault setting a run drew, coarsely: the most disruptive kind present.
pub fn fault_setting(plan: &FaultPlan, schedule: &[ScheduledFault]) -> &'static str {
    let has = |k: &str| schedule.iter().any(|f| f.fault.name() == k);
    if has("partition") {
        "partitions"
    } else if has("crash") {
        "crashes"
    } else if has("pause")
        || schedule
            .iter()
            .any(|f| matches!(f.fault, Fault::ClockJump { .. }))
    {
        "pauses-clocks"
    } else if plan.net.drop > 0.0 || plan.net.reorder > 0.0 || plan.net.slow_link_factor_max > 1 {
        "lossy-net"
    } else {
        "clean"
    }
}

/// Run one seed of `base` and take its metrics (`None` when the workload is not IAM).
pub fn run_seed(base: &RunConfig, seed: u64) -> Result<(RunOutcome, Option<RunMetrics>), SimError> {
    let mut config = base.clone();
    config.seed = seed;
    let _ = take_last();
    let outcome = registry::run(&config, None)?;
    Ok((outcome, take_last()))
}

/// `p`-th percentile (0..=100) of sorted samples, nearest rank; 0 when empty.
pub fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[derive(Clone, Debug, Default)]
struct Acc {
    seeds: u64,
    failed: u64,
    changes: u64,
    messages: u64,
    stale_allows: u64,
    revokes_with_stale_allow: u64,
    stale: Vec<u64>,
    propagation: Vec<u64>,
}

/// One fault setting's line in a sweep.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SettingSummary {
    /// The setting ([`fault_setting`]).
    pub setting: String,
    /// Seeds that drew it.
    pub seeds: u64,
    /// Of which failed.
    pub failed: u64,
    /// Changes committed.
    pub changes: u64,
    /// Stale allow decisions.
    pub stale_allows: u64,
    /// Revokes allowed after their commit somewhere.
    pub revokes_with_stale_allow: u64,
    /// Stale-allow window per (revoke, request), milliseconds.
    pub stale_allow_ms_p50: f64,
    /// 99th percentile.
    pub stale_allow_ms_p99: f64,
    /// Maximum.
    pub stale_allow_ms_max: f64,
    /// Propagation time per change, milliseconds.
    pub propagation_ms_p50: f64,
    /// 99th percentile.
    pub propagation_ms_p99: f64,
    /// Maximum.
    pub propagation_ms_max: f64,
    /// Messages sent per committed change (all propagation traffic).
    pub messages_per_change: f64,
}

/// A failing seed.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SweepFailure {
    /// The seed.
    pub seed: u64,
    /// The checker and what it saw.
    pub violation: String,
}

/// An IAM sweep: metrics per fault setting (`"kind": "sim-iam"` in JSON).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IamSweep {
    /// Always `sim-iam`, for `seedbed report`.
    pub kind: &'static str,
    /// The propagation mode.
    pub mode: String,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// One line per fault setting, by name.
    pub settings: Vec<SettingSummary>,
    /// The first failures, by seed.
    pub failures: Vec<SweepFailure>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / NANOS_PER_MS as f64
}

/// Sums seeds into per-setting lines.
#[derive(Debug, Default)]
pub struct SweepAcc {
    by: BTreeMap<&'static str, Acc>,
    failures: Vec<SweepFailure>,
}

impl SweepAcc {
    /// Add the run of `seed`: its metrics, and its violation if it failed.
    pub fn add(&mut self, seed: u64, m: &RunMetrics, violation: Option<String>) {
        let a = self.by.entry(m.setting).or_default();
        a.seeds += 1;
        if let Some(v) = violation {
            a.failed += 1;
            if self.failures.len() < FAILURES_LISTED_MAX {
                self.failures.push(SweepFailure { seed, violation: v });
            }
            return; // A failed run stops early: its metrics would skew the setting.
        }
        a.messages += m.messages;
        a.changes += m.changes;
        a.stale_allows += m.stale_allows;
        a.revokes_with_stale_allow += m.revokes_with_stale_allow;
        for (dst, src) in [
            (&mut a.stale, &m.stale_allow_ns),
            (&mut a.propagation, &m.propagation_ns),
        ] {
            let room = SAMPLES_MAX.saturating_sub(dst.len());
            dst.extend(src.iter().take(room));
        }
    }

    /// Add another part (a worker's) to this one. Order-independent: samples are sorted at
    /// [`SweepAcc::finish`], failures by seed.
    pub fn merge(&mut self, other: SweepAcc) {
        for (k, b) in other.by {
            let a = self.by.entry(k).or_default();
            a.seeds += b.seeds;
            a.failed += b.failed;
            a.changes += b.changes;
            a.messages += b.messages;
            a.stale_allows += b.stale_allows;
            a.revokes_with_stale_allow += b.revokes_with_stale_allow;
            for (dst, src) in [(&mut a.stale, b.stale), (&mut a.propagation, b.propagation)] {
                let room = SAMPLES_MAX.saturating_sub(dst.len());
                dst.extend(src.into_iter().take(room));
            }
        }
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.seed);
        self.failures.truncate(FAILURES_LISTED_MAX);
    }

    /// The summary.
    pub fn finish(self, mode: &str) -> IamSweep {
        let mut seeds = 0;
        let mut failed = 0;
        let settings = self
            .by
            .into_iter()
            .map(|(setting, mut a)| {
                seeds += a.seeds;
                failed += a.failed;
                a.stale.sort_unstable();
                a.propagation.sort_unstable();
                SettingSummary {
                    setting: setting.to_string(),
                    seeds: a.seeds,
                    failed: a.failed,
                    changes: a.changes,
                    stale_allows: a.stale_allows,
                    revokes_with_stale_allow: a.revokes_with_stale_allow,
                    stale_allow_ms_p50: ms(percentile(&a.stale, 50)),
                    stale_allow_ms_p99: ms(percentile(&a.stale, 99)),
                    stale_allow_ms_max: ms(a.stale.last().copied().unwrap_or(0)),
                    propagation_ms_p50: ms(percentile(&a.propagation, 50)),
                    propagation_ms_p99: ms(percentile(&a.propagation, 99)),
                    propagation_ms_max: ms(a.propagation.last().copied().unwrap_or(0)),
                    messages_per_change: if a.changes == 0 {
                        0.0
                    } else {
                        a.messages as f64 / a.changes as f64
                    },
                }
            })
            .collect();
        let mut failures = self.failures;
        failures.sort_by_key(|f| f.seed);
        IamSweep {
            kind: "sim-iam",
            mode: mode.to_string(),
            seeds,
            failed,
            settings,
            failures,
        }
    }
}

impl IamSweep {
    /// Run `seeds` of `base` on this thread.
    pub fn run(base: &RunConfig, seeds: std::ops::Range<u64>) -> Result<IamSweep, SimError> {
        let mut acc = SweepAcc::default();
        for seed in seeds {
            let (o, m) = run_seed(base, seed)?;
            let v = o.violation.map(|v| format!("{}: {}", v.checker, v.message));
            if let Some(m) = m {
                acc.add(seed, &m, v);
            }
        }
        let mode = base
            .params
            .get("mode")
            .cloned()
            .unwrap_or_else(|| "log".into());
        Ok(acc.finish(&mode))
    }

    /// A short table for terminals.
    pub fn table(&self) -> String {
        let mut s = format!(
            "iam sweep ({} mode): {} seeds, {} failed\n{:<14} {:>5} {:>6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
            self.mode, self.seeds, self.failed,
            "faults", "seeds", "failed", "revokes*", "stale p50", "stale p99", "stale max", "prop p50", "prop p99", "msgs/chg"
        );
        for l in &self.settings {
            s.push_str(&format!(
                "{:<14} {:>5} {:>6} {:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>8.1}\n",
                l.setting, l.seeds, l.failed, l.revokes_with_stale_allow, l.stale_allow_ms_p50,
                l.stale_allow_ms_p99, l.stale_allow_ms_max, l.propagation_ms_p50,
                l.propagation_ms_p99, l.messages_per_change
            ));
        }
        s.push_str("(revokes*: revokes some node still allowed after their commit)\n");
        for f in &self.failures {
            s.push_str(&format!("  seed {}: {}\n", f.seed, f.violation));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
