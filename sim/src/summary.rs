//! A workload's own summary of a sweep — the second half of the workload-metrics contract
//! (the first is [`crate::metrics`], what one run measured).
//!
//! The generic sweep summary ([`crate::run::sweep::SweepSummary`]) counts seeds, failures per
//! checker and events, and sums every scalar metric; for many workloads that is all there is.
//! A workload that wants more — percentiles of sample sets, seeds grouped by a label, a table
//! of its own — says so with its [`Workload::Summary`](crate::Workload::Summary) type, which
//! implements [`Summary`]: an accumulator the sweep feeds every seed's
//! [`RunOutcome`], merges across workers in any order, and finishes into
//! - **text** printed after the generic summary (`seedbed sim sweep`), and
//! - **JSON fields** added to the sweep's `--json` record (`"iam": {...}`,
//!   `"staleness": [...]`), which `seedbed report` reads back to draw the workload's
//!   [`Chart`]s with [`Summary::charts`].
//!
//! It also says what `seedbed sim run` prints about one run beyond the generic lines
//! ([`Summary::run_text`]). The sweep and the harness call these through the registry and
//! know no workload by name.

use std::any::Any;

use serde_json::{Map, Value};

use crate::config::RunConfig;
use crate::world::RunOutcome;

/// A workload's sweep summary; see the module docs.
///
/// Order independence is the contract: adding seeds in any order and merging parts in any
/// grouping must finish to the same result, so the result does not depend on `--jobs`. Keep
/// memory bounded by a constant, not by the seed count (cap sample sets, list few failures).
pub trait Summary: Send + 'static {
    /// An empty summary for a sweep of `base` (the config every seed shares but its seed).
    fn new(base: &RunConfig) -> Self
    where
        Self: Sized;

    /// Count one seed's outcome in (failing seeds too: `outcome.violation` says).
    fn add(&mut self, outcome: &RunOutcome);

    /// Fold in another part of the same sweep (another worker's).
    fn merge(&mut self, other: Self)
    where
        Self: Sized;

    /// The finished summary.
    fn finish(self) -> Finished
    where
        Self: Sized;

    /// What `seedbed sim run` prints about one run after its generic lines (nothing by
    /// default).
    fn run_text(_outcome: &RunOutcome) -> Option<String>
    where
        Self: Sized,
    {
        None
    }

    /// The charts `seedbed report` draws from this workload's sweep records (the JSON objects
    /// `seedbed sim sweep --json` printed, one per sweep, possibly from several files; each
    /// holds the generic summary and this summary's [`Finished::json`] fields). `Err` names
    /// what a malformed record lacks.
    fn charts(_records: &[&Value]) -> Result<Vec<Chart>, String>
    where
        Self: Sized,
    {
        Ok(Vec::new())
    }
}

/// A finished workload summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Finished {
    /// Printed after the generic sweep summary; empty for nothing.
    pub text: String,
    /// Added to the sweep's JSON record, by field name.
    pub json: Map<String, Value>,
}

/// The summary of a workload that keeps none beyond the generic one.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSummary;

impl Summary for NoSummary {
    fn new(_base: &RunConfig) -> Self {
        NoSummary
    }

    fn add(&mut self, _outcome: &RunOutcome) {}

    fn merge(&mut self, _other: Self) {}

    fn finish(self) -> Finished {
        Finished::default()
    }
}

/// A [`Summary`] with its type erased, as the registry hands it out.
pub trait AnySummary: Send {
    /// [`Summary::add`].
    fn add(&mut self, outcome: &RunOutcome);

    /// [`Summary::merge`]; panics if `other` is another workload's summary (a caller bug).
    fn merge_any(&mut self, other: Box<dyn AnySummary>);

    /// [`Summary::finish`].
    fn finish_any(self: Box<Self>) -> Finished;

    /// For [`AnySummary::merge_any`]'s downcast.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<S: Summary> AnySummary for S {
    fn add(&mut self, outcome: &RunOutcome) {
        Summary::add(self, outcome);
    }

    fn merge_any(&mut self, other: Box<dyn AnySummary>) {
        let other = other
            .into_any()
            .downcast::<S>()
            .unwrap_or_else(|_| panic!("merging summaries of different workloads"));
        self.merge(*other);
    }

    fn finish_any(self: Box<Self>) -> Finished {
        (*self).finish()
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A fresh erased summary of type `S` (what a registry entry points to).
pub fn new_erased<S: Summary>(base: &RunConfig) -> Box<dyn AnySummary> {
    Box::new(S::new(base))
}

/// One chart for `seedbed report`: data only (the harness draws it).
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The SVG file name (unique per report: prefix it with the workload's name).
    pub file: String,
    /// The heading on the page.
    pub title: String,
    /// What the chart teaches, in a sentence or three.
    pub caption: String,
    /// The command that produces its data.
    pub command: String,
    /// What to draw.
    pub plot: Plot,
}

/// The shapes a workload's chart can take.
#[derive(Clone, Debug, PartialEq)]
pub enum Plot {
    /// Grouped bars: one group per category, one bar per series.
    Bars {
        /// The title inside the chart.
        title: String,
        /// The y axis label.
        y_label: String,
        /// Group labels along x.
        categories: Vec<String>,
        /// (series name, one value per category; NaN for none).
        series: Vec<(String, Vec<f64>)>,
        /// A logarithmic y axis.
        log_y: bool,
    },
    /// A grid of values coloured by size.
    Heatmap {
        /// The title inside the chart.
        title: String,
        /// The x axis label.
        x_label: String,
        /// The y axis label.
        y_label: String,
        /// Column labels.
        columns: Vec<String>,
        /// Row labels.
        rows: Vec<String>,
        /// `values[row][column]`; NaN for no data.
        values: Vec<Vec<f64>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(u64);

    impl Summary for Count {
        fn new(_: &RunConfig) -> Self {
            Count(0)
        }
        fn add(&mut self, _: &RunOutcome) {
            self.0 += 1;
        }
        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
        fn finish(self) -> Finished {
            Finished {
                text: format!("{} seeds", self.0),
                json: Map::new(),
            }
        }
    }

    #[test]
    fn erased_summaries_merge_and_finish_as_their_type() {
        let base = RunConfig::new("ping", 0);
        let mut a = new_erased::<Count>(&base);
        let b = new_erased::<Count>(&base);
        let o = crate::registry::run(&base, None).unwrap();
        a.add(&o);
        a.add(&o);
        a.merge_any(b);
        assert_eq!(a.finish_any().text, "2 seeds");
    }

    #[test]
    #[should_panic(expected = "different workloads")]
    fn merging_another_workloads_summary_is_a_bug() {
        let base = RunConfig::new("ping", 0);
        let mut a = new_erased::<Count>(&base);
        a.merge_any(new_erased::<NoSummary>(&base));
    }
}
