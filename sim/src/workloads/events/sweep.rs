//! The events workload's sweep summary: its runs' metrics ([`super::metrics`]) summed per
//! fault setting — end-to-end latency percentiles, duplicate deliveries per 1,000 events, the
//! dead-letter rate — printed as a table, written as `"events": {"kind": "sim-events", ...}`
//! in the sweep's JSON, and drawn by `seedbed report` as bars per setting.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::metrics::{
    ms, percentile, COMMITTED, DEAD_LETTERED, DELIVERIES, DUPLICATES, E2E_NS, FAULT_SETTING,
};
use crate::summary::{Chart, Finished, Plot, Summary};
use crate::world::RunOutcome;
use crate::RunConfig;

/// Latency samples kept per fault setting, at most.
pub const SAMPLES_MAX: usize = 1 << 20;
/// Failures listed in a sweep, at most.
pub const FAILURES_LISTED_MAX: usize = 100;

#[derive(Clone, Debug, Default)]
struct Acc {
    seeds: u64,
    failed: u64,
    committed: u64,
    deliveries: u64,
    duplicates: u64,
    dead: u64,
    e2e: Vec<u64>,
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
    /// Changes committed (passing seeds).
    pub committed: u64,
    /// End-to-end latency (commit → effect), median, milliseconds.
    pub e2e_ms_p50: f64,
    /// 99th percentile.
    pub e2e_ms_p99: f64,
    /// Maximum.
    pub e2e_ms_max: f64,
    /// Duplicate deliveries per 1,000 committed events.
    pub duplicates_per_1000: f64,
    /// Deliveries per committed event.
    pub deliveries_per_event: f64,
    /// Dead-lettered messages per committed event.
    pub dlq_rate: f64,
}

/// A failing seed.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SweepFailure {
    /// The seed.
    pub seed: u64,
    /// The checker and what it saw.
    pub violation: String,
}

/// An events sweep (`"kind": "sim-events"` in JSON).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventsSweep {
    /// Always `sim-events`, for `seedbed report`.
    pub kind: &'static str,
    /// The planted bug (`none` for the correct pipeline).
    pub bug: String,
    /// The visibility timeout, as configured (milliseconds).
    pub visibility_ms: String,
    /// The queue's kind: `standard` or `fifo`.
    pub queue: &'static str,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// One line per fault setting, by name.
    pub settings: Vec<SettingSummary>,
    /// The first failures, by seed.
    pub failures: Vec<SweepFailure>,
}

impl EventsSweep {
    /// A short table for terminals.
    pub fn table(&self) -> String {
        let mut s = format!(
            "events sweep (bug {}, visibility {} ms, {} queue): {} seeds, {} failed\n{:<14} {:>5} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}\n",
            self.bug, self.visibility_ms, self.queue, self.seeds, self.failed,
            "faults", "seeds", "failed", "events", "e2e p50", "e2e p99", "e2e max", "dups/1000", "dlq %"
        );
        for l in &self.settings {
            s.push_str(&format!(
                "{:<14} {:>5} {:>6} {:>9} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>10.1} {:>8.2}\n",
                l.setting,
                l.seeds,
                l.failed,
                l.committed,
                l.e2e_ms_p50,
                l.e2e_ms_p99,
                l.e2e_ms_max,
                l.duplicates_per_1000,
                l.dlq_rate * 100.0
            ));
        }
        for f in &self.failures {
            s.push_str(&format!("  seed {}: {}\n", f.seed, f.violation));
        }
        s
    }
}

/// Sums seeds into per-setting lines; the events workload's [`Summary`].
#[derive(Debug, Default)]
pub struct EventsSummary {
    bug: String,
    visibility_ms: String,
    queue: &'static str,
    by: BTreeMap<String, Acc>,
    failures: Vec<SweepFailure>,
}

fn extend_capped(dst: &mut Vec<u64>, src: impl IntoIterator<Item = u64>) {
    let room = SAMPLES_MAX.saturating_sub(dst.len());
    dst.extend(src.into_iter().take(room));
}

impl EventsSummary {
    /// The summary so far, finished.
    pub fn sweep(self) -> EventsSweep {
        let mut seeds = 0;
        let mut failed = 0;
        let settings = self
            .by
            .into_iter()
            .map(|(setting, mut a)| {
                seeds += a.seeds;
                failed += a.failed;
                a.e2e.sort_unstable();
                let per = |n: u64| {
                    if a.committed == 0 {
                        0.0
                    } else {
                        n as f64 / a.committed as f64
                    }
                };
                SettingSummary {
                    setting,
                    seeds: a.seeds,
                    failed: a.failed,
                    committed: a.committed,
                    e2e_ms_p50: ms(percentile(&a.e2e, 50)),
                    e2e_ms_p99: ms(percentile(&a.e2e, 99)),
                    e2e_ms_max: ms(a.e2e.last().copied().unwrap_or(0)),
                    duplicates_per_1000: per(a.duplicates) * 1000.0,
                    deliveries_per_event: per(a.deliveries),
                    dlq_rate: per(a.dead),
                }
            })
            .collect();
        let mut failures = self.failures;
        failures.sort_by_key(|f| f.seed);
        EventsSweep {
            kind: "sim-events",
            bug: self.bug,
            visibility_ms: self.visibility_ms,
            queue: self.queue,
            seeds,
            failed,
            settings,
            failures,
        }
    }
}

impl Summary for EventsSummary {
    fn new(base: &RunConfig) -> Self {
        let get = |k: &str, d: &str| base.params.get(k).cloned().unwrap_or_else(|| d.into());
        let bug = get("bug", "none");
        // As the workload decides it (`fifo=true`, or the planted bug that implies it).
        let fifo = get("fifo", "false") == "true" || bug == "fifo-group-unlocked";
        EventsSummary {
            bug,
            visibility_ms: get("visibility_ms", "200"),
            queue: if fifo { "fifo" } else { "standard" },
            ..EventsSummary::default()
        }
    }

    fn add(&mut self, o: &RunOutcome) {
        let m = &o.metrics;
        let Some(setting) = m.label_of(FAULT_SETTING) else {
            return; // Not an events run's outcome.
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
        a.committed += count(COMMITTED);
        a.deliveries += count(DELIVERIES);
        a.duplicates += count(DUPLICATES);
        a.dead += count(DEAD_LETTERED);
        extend_capped(&mut a.e2e, m.samples_of(E2E_NS).iter().copied());
    }

    /// Order-independent: samples are sorted when finished, failures by seed.
    fn merge(&mut self, other: Self) {
        for (k, b) in other.by {
            let a = self.by.entry(k).or_default();
            a.seeds += b.seeds;
            a.failed += b.failed;
            a.committed += b.committed;
            a.deliveries += b.deliveries;
            a.duplicates += b.duplicates;
            a.dead += b.dead;
            extend_capped(&mut a.e2e, b.e2e);
        }
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|f| f.seed);
        self.failures.truncate(FAILURES_LISTED_MAX);
    }

    fn finish(self) -> Finished {
        let sweep = self.sweep();
        let mut json = Map::new();
        json.insert(
            "events".into(),
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

    /// Duplicates and latency per (visibility timeout, fault setting), one bar group each.
    fn charts(records: &[&Value]) -> Result<Vec<Chart>, String> {
        let mut categories = Vec::new();
        let fields = [
            ("e2e p50 (ms)", "e2e_ms_p50"),
            ("e2e p99 (ms)", "e2e_ms_p99"),
            ("duplicates per 1,000", "duplicates_per_1000"),
        ];
        let mut series: Vec<(String, Vec<f64>)> = fields
            .iter()
            .map(|(n, _)| (n.to_string(), Vec::new()))
            .collect();
        for r in records {
            let Some(ev) = r.get("events") else { continue };
            let vis = ev
                .get("visibility_ms")
                .and_then(Value::as_str)
                .unwrap_or("200");
            let bug = ev.get("bug").and_then(Value::as_str).unwrap_or("none");
            let lines = ev
                .get("settings")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("an events sweep lacks 'settings': {ev}"))?;
            for line in lines {
                let setting = line
                    .get("setting")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("a record lacks the text 'setting': {line}"))?;
                let bug = if bug == "none" {
                    String::new()
                } else {
                    format!(" {bug}")
                };
                categories.push(format!("vis {vis} ms{bug}: {setting}"));
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
            file: "sim-events.svg".into(),
            title: "Events → queue → functions: latency and duplicates per fault setting".into(),
            caption: "Each bar group is one fault setting of a simulator sweep, labelled with the \
                      queue's visibility timeout. End-to-end latency runs from the commit to the \
                      effect in the table; duplicate deliveries are what at-least-once delivery \
                      costs, and what the idempotency table absorbs. Every number reruns from its \
                      seed (docs/events.md)."
                .into(),
            command: "seedbed sim sweep --workload events --seeds 0..200 --json events-sweep.json"
                .into(),
            plot: Plot::Bars {
                title: "events: end-to-end latency and duplicate deliveries".into(),
                y_label: "ms / per 1,000 events".into(),
                categories,
                series,
                log_y: false,
            },
        }])
    }
}
