//! The quorum workload's sweep summary: the staleness table per (N, R, W)
//! ([`super::check::staleness`]), from the checkers' counters summed over the seeds, and its heatmap.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::check::staleness;
use crate::summary::{Chart, Finished, Plot, Summary};
use crate::world::RunOutcome;
use crate::RunConfig;

/// Counters summed over seeds, by metric name (`n3r2w2/reads`, ...).
#[derive(Clone, Debug, Default)]
pub struct StalenessSummary {
    counts: BTreeMap<String, u64>,
}

impl Summary for StalenessSummary {
    fn new(_base: &RunConfig) -> Self {
        StalenessSummary::default()
    }

    fn add(&mut self, outcome: &RunOutcome) {
        // The counters are whole numbers; sum them as integers, exactly.
        for (k, v) in &outcome.metrics.scalars {
            *self.counts.entry(k.clone()).or_default() += *v as u64;
        }
    }

    fn merge(&mut self, other: Self) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
    }

    fn finish(self) -> Finished {
        let rows = staleness::table(&self.counts);
        if rows.is_empty() {
            return Finished::default();
        }
        let mut json = Map::new();
        json.insert(
            "staleness".into(),
            serde_json::to_value(&rows).expect("rows serialise"),
        );
        Finished {
            text: staleness::render(&rows),
            json,
        }
    }

    /// P(a read returns the latest acknowledged write) for each (R, W) at the N with the most
    /// reads, vector-clock mode, summed over every sweep that reported a table.
    fn charts(records: &[&Value]) -> Result<Vec<Chart>, String> {
        // (n, r, w) → (fresh reads, reads).
        let mut cells: BTreeMap<(u64, u64, u64), (f64, f64)> = BTreeMap::new();
        for r in records {
            let Some(rows) = r.get("staleness").and_then(Value::as_array) else {
                continue;
            };
            for row in rows {
                if row.get("mode").and_then(Value::as_str) != Some("vclock") {
                    continue;
                }
                let get = |f: &str| row.get(f).and_then(Value::as_f64).unwrap_or(0.0);
                let reads = get("reads");
                let e = cells
                    .entry((get("n") as u64, get("r") as u64, get("w") as u64))
                    .or_default();
                e.0 += get("p_fresh") * reads;
                e.1 += reads;
            }
        }
        let mut by_n: BTreeMap<u64, f64> = BTreeMap::new();
        for ((n, _, _), (_, reads)) in &cells {
            *by_n.entry(*n).or_default() += reads;
        }
        let Some((&n, _)) = by_n.iter().max_by(|a, b| a.1.total_cmp(b.1)) else {
            return Ok(Vec::new());
        };
        let values = (1..=n)
            .map(|r| {
                (1..=n)
                    .map(|w| match cells.get(&(n, r, w)) {
                        Some((fresh, reads)) if *reads > 0.0 => fresh / reads,
                        _ => f64::NAN,
                    })
                    .collect()
            })
            .collect();
        Ok(vec![Chart {
            file: "quorum-staleness.svg".into(),
            title: "Quorum: staleness against (N, R, W)".into(),
            caption: "With R + W > N every read quorum overlaps every write quorum, so a read \
                      should see the latest acknowledged write — except when sloppy quorums and \
                      hinted handoff put the write on nodes outside the preference list. With \
                      R + W <= N a read can miss it: the probability here is measured over whole \
                      simulated runs with faults, the probabilistically-bounded-staleness (PBS) \
                      view."
                .into(),
            command: "seedbed sim sweep --workload quorum --seeds 0..200 --json quorum-sweep.json"
                .into(),
            plot: Plot::Heatmap {
                title: format!("Quorum: P(read sees the latest acknowledged write), N = {n}"),
                x_label: "W (write acknowledgements)".into(),
                y_label: "R (read replies)".into(),
                columns: (1..=n).map(|w| format!("W={w}")).collect(),
                rows: (1..=n).map(|r| format!("R={r}")).collect(),
                values,
            },
        }])
    }
}
