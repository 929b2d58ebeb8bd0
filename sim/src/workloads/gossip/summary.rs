//! The gossip workload's sweep summary: nothing to sum beyond the generic scalars (detection
//! times, false positives, cost — see [`super::metrics`]), and one chart drawn from them.

use serde_json::Value;

use crate::summary::{Chart, Finished, Plot, Summary};
use crate::world::RunOutcome;
use crate::RunConfig;

/// See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct GossipSummary;

/// Detection times, with their chart labels.
const DETECTION: [(&str, &str); 3] = [
    ("first_suspect_periods", "first suspicion"),
    ("first_failed_periods", "first declared failed"),
    ("all_failed_periods", "failed at every member"),
];

impl Summary for GossipSummary {
    fn new(_base: &RunConfig) -> Self {
        GossipSummary
    }

    fn add(&mut self, _outcome: &RunOutcome) {}

    fn merge(&mut self, _other: Self) {}

    fn finish(self) -> Finished {
        Finished::default()
    }

    /// Detection times over a sweep, in protocol periods, beside the SWIM paper's expectation
    /// for the first detection, and the false-positive rate (from the first sweep that
    /// measured a detection).
    fn charts(records: &[&Value]) -> Result<Vec<Chart>, String> {
        let Some(r) = records
            .iter()
            .find(|r| r.pointer("/metrics/first_failed_periods").is_some())
        else {
            return Ok(Vec::new());
        };
        // A scalar's mean, min or max over the sweep's seeds (`MetricSum` in JSON).
        let metric = |name: &str, what: &str| -> f64 {
            let m = r.pointer(&format!("/metrics/{name}"));
            let get = |f: &str| m.and_then(|m| m.get(f)).and_then(Value::as_f64);
            match what {
                "mean" => match (get("sum"), get("seeds")) {
                    (Some(s), Some(n)) if n > 0.0 => s / n,
                    _ => f64::NAN,
                },
                other => get(other).unwrap_or(f64::NAN),
            }
        };
        let e = std::f64::consts::E;
        let series = ["mean", "min", "max"]
            .iter()
            .map(|w| {
                (
                    format!("per-seed {w}"),
                    DETECTION.iter().map(|(n, _)| metric(n, w)).collect(),
                )
            })
            .chain(std::iter::once((
                "SWIM expectation e/(e-1)".to_string(),
                vec![e / (e - 1.0), f64::NAN, f64::NAN],
            )))
            .collect();
        let fp = metric("fp_per_1k_node_periods", "mean");
        let msgs = metric("msgs_per_node_period", "mean");
        Ok(vec![Chart {
            file: "gossip-detection.svg".into(),
            title: "Gossip (SWIM): time to detect a crash".into(),
            caption: format!(
                "SWIM probes one member per period, so a crashed member is first suspected after \
                 about e/(e-1) ≈ 1.58 periods whatever the group size, then declared failed after \
                 the suspicion timeout, and the news spreads by piggybacking in O(log n) periods. \
                 In this sweep: {fp:.2} false positives per 1,000 member-periods, {msgs:.2} messages \
                 per member per period (constant in n: SWIM's load claim). docs/gossip.md compares \
                 Lifeguard on and off."
            ),
            command: "seedbed sim sweep --workload gossip --seeds 0..200 --json".into(),
            plot: Plot::Bars {
                title: "Gossip: time from a crash to its detection".into(),
                y_label: "protocol periods".into(),
                categories: DETECTION.iter().map(|(_, l)| l.to_string()).collect(),
                series,
                log_y: false,
            },
        }])
    }
}
