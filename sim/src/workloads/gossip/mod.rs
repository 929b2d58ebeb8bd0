//! `gossip`: SWIM membership (Das, Gupta, Motivala, 2002) with Lifeguard's options, on the
//! simulated network — a failure detector whose completeness, accuracy and convergence are
//! checked, and whose detection time, false positives and cost are measured per run.
//!
//! ```text
//! seedbed sim run   --workload gossip --seed 1
//! seedbed sim run   --workload gossip --seed 1 --nodes 1000 --faults none
//! seedbed sim sweep --workload gossip --seeds 0..200 --set lifeguard=off
//! seedbed sim sweep --workload gossip --seeds 0..200 --set bug=no-refute
//! ```
//!
//! The member — what a real runtime would run too — lives in `seedbed-nodes`
//! (`nodes/src/gossip/`) and is re-exported here: [`msg`] (updates, messages, wire sizes),
//! [`member`] (the membership table and SWIM's precedence rule — [`Membership`] is the reusable
//! view), [`queue`] (piggyback dissemination, `λ·log n` retransmissions), [`detector`]
//! (round-robin probe order, probes, suspicions), [`lifeguard`] (local health, dynamic
//! suspicion, buddy), [`params`] (parameters and planted bugs), [`node`] (the member),
//! [`embed`] (a member inside another node). What only the simulator needs lives here: the
//! workload, [`truth`] (what really happened), [`checker`], [`transitions`] and [`taken`]
//! (detection, accuracy, convergence, SWIM's state machine both ways), [`departure`] (stop and
//! leave as acknowledged), the rule checkers that judge each member by
//! what it sent and heard ([`witness`]: [`suspicion`], [`health`], [`refute`], [`probing`]),
//! the dissemination bound ([`dissemination`]),
//! [`metrics`], [`summary`] (its chart).
//!
//! Client operations are the workload's faults of its own: `Stop` (crash-stop: silent for the
//! rest of the run — the world's crashes restart, SWIM's failure model does not) and `Leave`
//! (graceful), each to a random non-seed member. `docs/gossip.md` teaches the protocol and
//! sets the measurements beside the papers'.

pub mod checker;
pub mod departure;
pub mod dissemination;
pub mod health;
pub mod metrics;
pub mod probing;
pub mod push_pull;
pub mod refute;
pub mod summary;
pub mod suspicion;
pub mod taken;
pub mod transitions;
pub mod truth;
pub mod witness;

pub use seedbed_nodes::gossip::{
    detector, embed, lifeguard, member, msg, node, params, queue, Bug, Membership, Params,
};

use std::collections::BTreeMap;

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{FaultSource, RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::faults::{swarm, FaultPlan};
use crate::net::{Latency, NetConfig};
use crate::node::NodeId;
use crate::workload::{check_params, OpFor, Workload};
use msg::GossipOp;
use node::{Gone, GossipNode};

/// The workload's registered name.
pub const NAME: &str = "gossip";

/// The gossip workload.
#[derive(Debug)]
pub struct Gossip {
    nodes: u32,
    params: Params,
    /// Whether the run has no fault that delays or loses messages (the accuracy checker's
    /// precondition).
    benign: bool,
    /// Whether the configured network is prompt (the convergence checker's precondition).
    prompt: bool,
    /// Members sent `Stop` or `Leave`: a restart after a world crash keeps them silent.
    gone: BTreeMap<NodeId, Gone>,
}

fn latency_max_us(l: &Latency) -> u64 {
    match *l {
        Latency::Fixed { us } => us,
        Latency::Uniform { max_us, .. } => max_us,
        Latency::Tail {
            tail_max_us,
            max_us,
            ..
        } => tail_max_us.max(max_us),
    }
}

/// Whether every link of `net` answers well within the probe timeout (a round trip under
/// half of it). A network configured slower than that is degraded for the whole run, quiet
/// period included, so neither accuracy nor convergence can be asked of it.
pub fn prompt(net: &NetConfig, p: &Params) -> bool {
    let slowest_us = net
        .links
        .iter()
        .map(|l| latency_max_us(&l.latency))
        .chain([latency_max_us(&net.latency)])
        .max()
        .unwrap_or(0);
    crate::time::us(slowest_us) * 4 < p.probe_timeout_ns
}

/// Whether `plan` and `net` leave every message delivered, promptly: no loss, reordering,
/// slow links, partitions, crashes, pauses or buggify, and a [`prompt`] network. Clock skew,
/// jumps, duplicates and disk faults do not matter to gossip.
pub fn benign(plan: &FaultPlan, net: &NetConfig, p: &Params) -> bool {
    prompt(net, p)
        && plan.net.drop == 0.0
        && plan.net.reorder == 0.0
        && plan.net.slow_link_factor_max <= 1
        && plan.partitions.is_none()
        && plan.crashes.is_none()
        && plan.pauses.is_none()
        && !plan.buggify
}

impl Workload for Gossip {
    type Node = GossipNode;
    type Summary = summary::GossipSummary;
    const NAME: &'static str = NAME;
    const SOMETIMES: &'static [crate::sometimes::Sometimes] = metrics::SOMETIMES;

    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 16,
            nodes_min: 2,
            ops: 2,
            op_gap_us: 1_000_000,
            fault_ms: 10_000,
            quiet_ms: 10_000,
        }
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(NAME, config, params::KNOWN)?;
        let params = Params::parse(&config.params).map_err(|e| SimError::Param {
            workload: NAME,
            key: e.key,
            detail: e.detail,
        })?;
        // The same plan the world draws: swarm plans derive from the seed alone.
        let plan = match &config.faults {
            FaultSource::Swarm => swarm::plan(&DetRng::new(config.seed)),
            FaultSource::None => FaultPlan::none(),
            FaultSource::Plan(p) => (**p).clone(),
        };
        Ok(Gossip {
            nodes,
            benign: benign(&plan, &config.net, &params),
            prompt: prompt(&config.net, &params),
            params,
            gone: BTreeMap::new(),
        })
    }

    fn build_node(&self, id: NodeId) -> GossipNode {
        GossipNode::new(self.params, self.nodes, self.gone.get(&id).copied())
    }

    fn next_op(&mut self, rng: &mut DetRng, _index: u64) -> (NodeId, OpFor<Self>) {
        let seeds = self.params.seeds.min(self.nodes);
        if self.nodes <= seeds {
            return (0, GossipOp::View);
        }
        let node = seeds + rng.below(u64::from(self.nodes - seeds)) as NodeId;
        let (op, gone) = if rng.chance(0.5) {
            (GossipOp::Stop, Gone::Stopped)
        } else {
            (GossipOp::Leave, Gone::Left)
        };
        self.gone.entry(node).or_insert(gone);
        (node, op)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        vec![(0, GossipOp::View)]
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<GossipNode>>> {
        let n = self.nodes;
        vec![
            Box::new(checker::Detection::new(n, &self.params)),
            Box::new(checker::NoFalsePositives::new(n, self.benign)),
            Box::new(checker::Convergence::new(n, self.prompt)),
            Box::new(transitions::Transitions::new(n)),
            Box::new(taken::NewsTaken::new(n)),
            Box::new(taken::NewsHeld::new(n)),
            Box::new(departure::Departure::new(n, &self.params)),
            Box::new(suspicion::Suspicion::floor(n, &self.params)),
            Box::new(suspicion::Suspicion::ceiling(n, &self.params)),
            Box::new(health::Health::new(n, &self.params)),
            Box::new(refute::Refutation::new(n)),
            Box::new(probing::RoundRobin::new(n)),
            Box::new(probing::Indirect::new(n, self.params.indirect_k)),
            Box::new(probing::Relays::new(n)),
            Box::new(push_pull::PushPullPartners::new(n, &self.params)),
            Box::new(dissemination::Dissemination::new(
                n,
                &self.params,
                self.prompt,
            )),
            Box::new(metrics::Metrics::new(n, self.params.period_ns)),
        ]
    }
}
