//! Checkers: the properties a run must keep.
//!
//! A checker watches the client history as it happens — each operation's invocation, its reply,
//! or its loss with a crashed node — and may fail the run at any step (safety: nothing bad
//! happens) or at the end (what must hold after the quiet period). The world itself checks
//! liveness ([`LIVENESS`]): after faults stop, every operation still pending must complete
//! before the run ends.
//!
//! Workloads bring their own checkers (a register's linearizability, a gossip's convergence);
//! they live beside the workload.

use serde::Serialize;

use crate::config::Resolved;
use crate::faults::{Fault, FaultPlan};
use crate::metrics::{Metrics, Traffic};
use crate::node::{Node, NodeId, OpId};

/// The world's own liveness checker's name.
pub const LIVENESS: &str = "liveness";
/// The name used when a run blows its event budget (a livelock or message storm).
pub const EVENT_BUDGET: &str = "event-budget";
/// The name used when a node breaks the client protocol (replies twice, or to nothing).
pub const CLIENT_PROTOCOL: &str = "client-protocol";

/// A property of a run; see the module docs. Return `Err(explanation)` to fail the run.
pub trait Checker<N: Node> {
    /// The checker's name, printed with its failures and matched by the shrinker.
    fn name(&self) -> &'static str;

    /// The run begins, before any node boots: the fault plan in force (its message, disk and
    /// clock faults act all through the fault period; its discrete faults arrive one by one
    /// through [`Checker::fault`]) and the run's sizes (when the fault period ends). Lets a
    /// checker tell the stretches of a run in which nothing is wrong.
    fn begin(&mut self, _plan: &FaultPlan, _run: &Resolved) {}

    /// Operation `op_id` was handed to `node` at `t_ns`.
    fn invoke(
        &mut self,
        _t_ns: u64,
        _op_id: OpId,
        _node: NodeId,
        _op: &N::Op,
    ) -> Result<(), String> {
        Ok(())
    }

    /// Operation `op_id` completed at `t_ns` with `reply`.
    fn complete(&mut self, _t_ns: u64, _op_id: OpId, _reply: &N::Reply) -> Result<(), String> {
        Ok(())
    }

    /// Operation `op_id`'s node crashed before answering: it may or may not have taken effect.
    fn lost(&mut self, _t_ns: u64, _op_id: OpId) {}

    /// A message from `from` is about to reach `to`'s handler at `t_ns` (it was not lost, and
    /// `to` is up). Lets a checker hold a protocol to what it can know: an acknowledgement
    /// counts only once the messages behind it were delivered. Called for every delivery, so
    /// keep it cheap.
    fn deliver(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        _to: NodeId,
        _msg: &N::Msg,
    ) -> Result<(), String> {
        Ok(())
    }

    /// `from` sends `msg` to `to` at `t_ns`, from the handler [`Checker::observe`] was just
    /// called for (the world applies a handler's effects after observing it). Called for every
    /// message sent, whether or not the network then delivers it, so a checker can hold a
    /// protocol to what it did as well as to what it believes: whom a failure detector probed,
    /// and through whom. Keep it cheap.
    fn send(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        _to: NodeId,
        _msg: &N::Msg,
    ) -> Result<(), String> {
        Ok(())
    }

    /// A handler of `node` just ran at `t_ns` and left it in `state`. Lets a checker watch a
    /// protocol's internal state (a gossip member's view of the group) as well as its client
    /// history. Called after every handler, so keep it cheap.
    fn observe(&mut self, _t_ns: u64, _node: NodeId, _state: &N) -> Result<(), String> {
        Ok(())
    }

    /// A scheduled fault strikes at `t_ns` (before it takes effect; a crash of a node already
    /// down changes nothing).
    fn fault(&mut self, _t_ns: u64, _fault: &Fault) {}

    /// `node` boots again after a crash, at `t_ns`, with fresh memory.
    fn restarted(&mut self, _t_ns: u64, _node: NodeId) {}

    /// The fault period ends at `t_ns`: partitions heal and crashed nodes restart now.
    fn faults_end(&mut self, _t_ns: u64) {}

    /// Report this run's measurements into `out` — scalars, sample sets, labels (see
    /// [`crate::metrics`]) — at its end, whether or not it failed. `traffic` is what the world
    /// counted of the nodes' messages. Everything lands in [`crate::RunOutcome::metrics`];
    /// a later checker's value of the same name replaces an earlier one's.
    fn metrics(&self, _traffic: &Traffic, _out: &mut Metrics) {}

    /// The run ended at `t_ns` without an earlier failure.
    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        Ok(())
    }
}

/// A failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The checker that failed.
    pub checker: String,
    /// When, in virtual nanoseconds.
    pub at_ns: u64,
    /// What it saw.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.checker,
            crate::time::fmt_nanos(self.at_ns),
            self.message
        )
    }
}
