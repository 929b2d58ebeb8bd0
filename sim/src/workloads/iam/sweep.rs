//! The IAM workload's sweep summary: its runs' metrics ([`super::metrics`]) summed per fault
//! setting — stale-allow windows and propagation times as percentiles, messages per change —
//! printed as a table, written as `"iam": {"kind": "sim-iam", ...}` in the sweep's JSON, and
//! drawn by `seedbed report` as bars per setting.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::metrics::{
    ms, percentile, CHANGES, FAULT_SETTING, PROPAGATION_NS, REVOKES_WITH_STALE_ALLOW, STALE_ALLOWS,
    STALE_ALLOW_NS,
};
use crate::summary::{Chart, Finished, Plot, Summary};
use crate::world::RunOutcome;
use crate::RunConfig;

/// Samples kept per fault setting, at most (beyond that, counted but not kept).
pub const SAMPLES_MAX: usize = 1 << 20;
/// Failures listed in a sweep, at most.
pub const FAILURES_LISTED_MAX: usize = 100;

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
    /// The setting ([`super::metrics::fault_setting`]).
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

impl IamSweep {
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

/// Sums seeds into per-setting lines; the IAM workload's [`Summary`].
#[derive(Debug, Default)]
pub struct IamSummary {
    mode: String,
    by: BTreeMap<String, Acc>,
    failures: Vec<SweepFailure>,
}

impl IamSummary {
    /// The summary so far, finished.
    pub fn sweep(self) -> IamSweep {
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
                    setting,
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
            mode: self.mode,
            seeds,
            failed,
            settings,
            failures,
        }
    }
}

fn extend_capped(dst: &mut Vec<u64>, src: impl IntoIterator<Item = u64>) {
    let room = SAMPLES_MAX.saturating_sub(dst.len());
    dst.extend(src.into_iter().take(room));
}

impl Summary for IamSummary {
    fn new(base: &RunConfig) -> Self {
        IamSummary {
            mode: base
                .params
                .get("mode")
                .cloned()
                .unwrap_or_else(|| "log".into()),
            ..IamSummary::default()
        }
    }

    /// Add a seed's run: its metrics, and its violation if it failed.
    fn add(&mut self, o: &RunOutcome) {
        let m = &o.metrics;
        let Some(setting) = m.label_of(FAULT_SETTING) else {
            return; // Not an IAM run's outcome.
        };
        let a = self.by.entry(setting.to_string()).or_default();
        a.seeds += 1;
        if let Some(v) = &o.violation {
            a.failed += 1;
            if self.failures.len() < FAILURES_LISTED_MAX {
                self.failures.push(SweepFailure {
                    seed: o.config.seed,
                    violation: format!("{}: {}", v.checker, v.message),
                });
            }
            return; // A failed run stops early: its metrics would skew the setting.
        }
        let count = |name: &str| m.get(name).unwrap_or(0.0) as u64;
        a.messages += o.messages.total().sent;
        a.changes += count(CHANGES);
        a.stale_allows += count(STALE_ALLOWS);
        a.revokes_with_stale_allow += count(REVOKES_WITH_STALE_ALLOW);
        extend_capped(&mut a.stale, m.samples_of(STALE_ALLOW_NS).iter().copied());
        extend_capped(
            &mut a.propagation,
            m.samples_of(PROPAGATION_NS).iter().copied(),
        );
    }

    /// Order-independent: samples are sorted when finished, failures by seed.
    fn merge(&mut self, other: Self) {
        for (k, b) in other.by {
            let a = self.by.entry(k).or_default();
            a.seeds += b.seeds;
            a.failed += b.failed;
            a.changes += b.changes;
            a.messages += b.messages;
            a.stale_allows += b.stale_allows;
            a.revokes_with_stale_allow += b.revokes_with_stale_allow;
            extend_capped(&mut a.stale, b.stale);
            extend_capped(&mut a.propagation, b.propagation);
        }
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.seed);
        self.failures.truncate(FAILURES_LISTED_MAX);
    }

    fn finish(self) -> Finished {
        let sweep = self.sweep();
        let mut json = Map::new();
        json.insert(
            "iam".into(),
            serde_json::to_value(&sweep).expect("the summary serialises"),
        );
        Finished {
            text: sweep.table(),
            json,
        }
    }

    fn run_text(outcome: &RunOutcome) -> Option<String> {
        super::metrics::run_text(outcome)
    }

    /// Stale-allow windows per fault setting (the `"iam"` part of each sweep record), one bar
    /// group per (mode, setting).
    fn charts(records: &[&Value]) -> Result<Vec<Chart>, String> {
        let mut categories = Vec::new();
        let fields = [
            ("stale p50", "stale_allow_ms_p50"),
            ("stale p99", "stale_allow_ms_p99"),
            ("stale max", "stale_allow_ms_max"),
            ("propagation p99", "propagation_ms_p99"),
        ];
        let mut series: Vec<(String, Vec<f64>)> = fields
            .iter()
            .map(|(n, _)| (n.to_string(), Vec::new()))
            .collect();
        for r in records {
            let Some(iam) = r.get("iam") else { continue };
            let mode = iam.get("mode").and_then(Value::as_str).unwrap_or("log");
            let lines = iam
                .get("settings")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("an iam sweep lacks 'settings': {iam}"))?;
            for line in lines {
                let setting = line
                    .get("setting")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("a record lacks the text 'setting': {line}"))?;
                categories.push(format!("{mode}: {setting}"));
                for (i, (_, f)) in fields.iter().enumerate() {
                    let v = line
                        .get(f)
                        .and_then(Value::as_f64)
                        .ok_or_else(|| format!("a record lacks the number '{f}': {line}"))?;
                    series[i].1.push(v);
                }
            }
        }
        if categories.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Chart {
            file: "sim-iam-stale.svg".into(),
            title: "IAM propagation: how long revoked access is still allowed somewhere".into(),
            caption: "Each bar group is one fault setting of a simulator sweep. A stale allow is \
                      a node allowing a request with a view older than the revoke of it; the \
                      window is the time since the revoke was committed. On a connected network \
                      it is a message delay or a retransmission; a partition stretches it to the \
                      cut's length. Every number reruns from its seed (docs/iam.md, \
                      Propagation)."
                .into(),
            command: "seedbed sim sweep --workload iam --seeds 0..200 --json iam-sweep.json".into(),
            plot: Plot::Bars {
                title: "IAM: stale-allow window after a revoke, per fault setting".into(),
                y_label: "ms".into(),
                categories,
                series,
                log_y: false,
            },
        }])
    }
}
