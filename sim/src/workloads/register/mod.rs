//! `register`: a replicated register (ABD over majorities, durable replicas), the example
//! workload that proves the simulator end to end — with a planted bug switchable by a flag.
//!
//! ```text
//! seedbed sim run --workload register --seed 1                          # passes
//! seedbed sim run --workload register --seed 1 --set bug=stale-quorum   # the checker fails
//! seedbed sim shrink --workload register --seed 1 --set bug=stale-quorum
//! ```
//!
//! Parameters (`--set key=value`): `bug` = `none` | `stale-quorum` | `no-write-back` |
//! `no-fsync` (see [`Bug`]).

pub mod checker;
pub mod coverage;
pub mod msg;
pub mod node;
pub mod store;

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::node::NodeId;
use crate::workload::{check_params, OpFor, Workload};
use msg::RegOp;
use node::RegisterNode;

/// The planted bugs, one precaution removed each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The correct protocol.
    None,
    /// A write is acknowledged once one replica (the coordinator's own) stored it, not a
    /// majority: a read at another majority misses it. Found in seconds, no faults needed.
    StaleQuorum,
    /// Reads skip the write-back phase: a read may see a half-finished write that a later read
    /// does not. Needs concurrency and some bad luck.
    NoWriteBack,
    /// Replicas acknowledge without syncing: a crash may lose an acknowledged write. Needs
    /// crashes.
    NoFsync,
}

impl Bug {
    /// Parse the `bug` parameter.
    pub fn parse(s: &str) -> Option<Bug> {
        match s {
            "none" => Some(Bug::None),
            "stale-quorum" => Some(Bug::StaleQuorum),
            "no-write-back" => Some(Bug::NoWriteBack),
            "no-fsync" => Some(Bug::NoFsync),
            _ => None,
        }
    }
}

/// The register workload.
#[derive(Debug)]
pub struct Register {
    nodes: u32,
    bug: Bug,
}

impl Workload for Register {
    type Node = RegisterNode;
    type Summary = crate::summary::NoSummary;
    const NAME: &'static str = "register";
    const SOMETIMES: &'static [crate::sometimes::Sometimes] = coverage::SOMETIMES;

    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 3,
            nodes_min: 1,
            ops: 200,
            op_gap_us: 2_000,
            fault_ms: 1_000,
            quiet_ms: 1_500,
        }
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(Self::NAME, config, &["bug"])?;
        if nodes > 64 {
            return Err(SimError::Config(format!(
                "nodes = {nodes}: the register's acknowledgement masks hold at most 64 nodes"
            )));
        }
        let bug = match config.params.get("bug") {
            None => Bug::None,
            Some(v) => Bug::parse(v).ok_or_else(|| SimError::Param {
                workload: Self::NAME,
                key: "bug".into(),
                detail: format!("'{v}': expected none, stale-quorum, no-write-back or no-fsync"),
            })?,
        };
        Ok(Register { nodes, bug })
    }

    fn build_node(&self, _id: NodeId) -> RegisterNode {
        RegisterNode::new(self.bug)
    }

    fn next_op(&mut self, rng: &mut DetRng, index: u64) -> (NodeId, OpFor<Self>) {
        let node = rng.below(u64::from(self.nodes)) as NodeId;
        // Values are unique (index + 1), so a read says exactly which write it saw.
        let op = if rng.chance(0.5) {
            RegOp::Write(index + 1)
        } else {
            RegOp::Read
        };
        (node, op)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        (0..self.nodes).map(|n| (n, RegOp::Read)).collect()
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<RegisterNode>>> {
        vec![
            Box::new(checker::LinearizableRegister::default()),
            Box::new(coverage::Coverage::default()),
        ]
    }
}
