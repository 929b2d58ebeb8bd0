//! Workloads: what a simulated cluster runs and what must hold of it.
//!
//! A workload names itself, says its default sizes, builds its nodes, generates client
//! operations, and brings its checkers. The world does the rest: time, network, faults, crash
//! and restart, tracing, liveness. To add one (quorum on the LSM, SWIM gossip, IAM propagation):
//! implement [`Workload`] in `workloads/<name>/` and add a line to
//! [`crate::registry::REGISTRY`]. What it measures travels back in the run's outcome
//! ([`crate::metrics`]) and is summed over sweeps by its [`Workload::Summary`]
//! ([`crate::summary`]); nothing outside its folder and that line names it.
//!
//! The shrinker's size measure is the world's, not the workload's: nodes, client operations,
//! scheduled faults and fault kinds, and the length of the fault period
//! ([`crate::world::RunSize`]). A workload only has to stay meaningful as those shrink, and
//! say its fewest nodes in [`WorkloadDefaults::nodes_min`].

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{Resolved, RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::node::{Node, NodeId};
use crate::sometimes::Sometimes;
use crate::summary::Summary;

/// A client operation for a node.
pub type OpFor<W> = <<W as Workload>::Node as Node>::Op;

/// A simulated workload; see the module docs.
pub trait Workload: Sized + 'static {
    /// The process every node runs.
    type Node: Node;

    /// Its own sweep summary beyond the generic one (tables, percentiles, charts; see
    /// [`crate::summary`]), or [`NoSummary`](crate::summary::NoSummary).
    type Summary: Summary;

    /// The registered name (`--workload NAME`).
    const NAME: &'static str;

    /// The interesting events its checkers report ([`crate::sometimes`]): a sweep says in how
    /// many seeds each happened and flags those that never did.
    const SOMETIMES: &'static [Sometimes] = &[];

    /// Sizes when the config leaves them out.
    fn defaults() -> WorkloadDefaults;

    /// Sizes when the config leaves them out, for this config's parameters: a mode that needs
    /// a longer quiet period to converge says so here. The world resolves with this.
    fn defaults_for(_config: &RunConfig) -> WorkloadDefaults {
        Self::defaults()
    }

    /// Build from a config (read `config.params` here; reject unknown keys by name) for a
    /// cluster of `nodes`.
    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError>;

    /// A fresh process for node `id` — at first boot and after every crash (memory is lost).
    fn build_node(&self, id: NodeId) -> Self::Node;

    /// Client operation number `index` and the node it goes to, drawn from the clients' stream.
    fn next_op(&mut self, rng: &mut DetRng, index: u64) -> (NodeId, OpFor<Self>);

    /// Operations issued early in the quiet period, as liveness probes: each must complete
    /// before the run ends.
    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)>;

    /// How long after the faults stop the workload's repair mechanisms need, derived from
    /// their own periods, before the probes of [`Self::quiet_ops`] may expect a repaired
    /// cluster. The probes go out then (at most three quarters into the quiet period, so they
    /// can still complete). `None`, the default: a quarter of the quiet period.
    fn settle_ns(&self, _run: &Resolved) -> Option<u64> {
        None
    }

    /// Fresh checkers for one run.
    fn checkers(&self) -> Vec<Box<dyn Checker<Self::Node>>>;
}

/// Reject params other than `known`, naming the first unknown one.
pub fn check_params(
    workload: &'static str,
    config: &RunConfig,
    known: &[&str],
) -> Result<(), SimError> {
    for key in config.params.keys() {
        if !known.contains(&key.as_str()) {
            return Err(SimError::Param {
                workload,
                key: key.clone(),
                detail: format!("unknown; known parameters: {}", known.join(", ")),
            });
        }
    }
    Ok(())
}
