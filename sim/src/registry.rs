//! The workload registry: names to runners, so the command line can pick a workload by name.
//!
//! Workloads are generic (`run::<W>`); the registry erases the type behind function pointers —
//! to run one, to sum its sweeps ([`crate::summary`]), to print and chart its results — so the
//! sweep and the harness reach every workload the same way and name none. Adding a workload
//! is one line in [`REGISTRY`].

use crate::config::{RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::sometimes::Sometimes;
use crate::summary::{new_erased, AnySummary, Chart, Summary};
use crate::trace::TraceSink;
use crate::workload::Workload;
use crate::workloads::{
    events::Events, gossip::Gossip, iam::Iam, ping::Ping, quorum::Quorum, register::Register,
};
use crate::world::{self, RunOutcome};

/// Runs one config with a trace sink.
pub type RunFn = fn(&RunConfig, Option<&mut dyn TraceSink>) -> Result<RunOutcome, SimError>;

/// A registered workload: what the command line, the sweep and the report call it through.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadEntry {
    /// Its name (`--workload NAME`).
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// Its default sizes.
    pub defaults: fn() -> WorkloadDefaults,
    /// Run it.
    pub run: RunFn,
    /// A fresh sweep summary of its own for a sweep of a base config ([`Workload::Summary`]).
    pub summary: fn(&RunConfig) -> Box<dyn AnySummary>,
    /// What `seedbed sim run` prints about one run beyond the generic lines
    /// ([`Summary::run_text`]).
    pub run_text: fn(&RunOutcome) -> Option<String>,
    /// Its charts from sweep records, for `seedbed report` ([`Summary::charts`]).
    pub charts: fn(&[&serde_json::Value]) -> Result<Vec<Chart>, String>,
    /// The interesting events it declares ([`Workload::SOMETIMES`]).
    pub sometimes: &'static [Sometimes],
}

const fn entry<W: Workload>(about: &'static str) -> WorkloadEntry {
    WorkloadEntry {
        name: W::NAME,
        about,
        defaults: W::defaults,
        run: world::run::<W>,
        summary: new_erased::<W::Summary>,
        run_text: <W::Summary as Summary>::run_text,
        charts: <W::Summary as Summary>::charts,
        sometimes: W::SOMETIMES,
    }
}

/// Every workload, by name.
pub const REGISTRY: &[WorkloadEntry] = &[
    entry::<Ping>("nodes bounce pings: message-only, measures simulator speed"),
    entry::<Register>("replicated register (ABD); --set bug=stale-quorum plants a bug"),
    entry::<Gossip>("SWIM membership + Lifeguard; --set lifeguard=off, --set bug=no-refute"),
    entry::<Iam>("IAM policy propagation (log or gossip) on the LSM; stale-allow windows; --set bug=stale-cache"),
    entry::<Quorum>("Dynamo-style quorum KV store on the LSM (N/R/W, vector clocks, repair)"),
    entry::<Events>("object events -> queue -> functions on the LSM: at-least-once, DLQ, idempotency; --set bug=NAME"),
];

/// The workload called `name`.
pub fn find(name: &str) -> Result<&'static WorkloadEntry, SimError> {
    REGISTRY
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| SimError::UnknownWorkload {
            name: name.to_string(),
            known: REGISTRY
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Run `config` with the workload it names.
pub fn run(config: &RunConfig, sink: Option<&mut dyn TraceSink>) -> Result<RunOutcome, SimError> {
    (find(&config.workload)?.run)(config, sink)
}
