//! Coverage (`register-coverage`): the register's interesting events, counted per run so a
//! sweep can say in how many seeds each happened ([`crate::sometimes`]). Never fails a run.

use std::collections::BTreeMap;

use super::msg::{RegMsg, RegReply, Stamp};
use super::node::RegisterNode;
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::sometimes::Sometimes;

/// A coordinator's query phase heard two stamps: the replicas disagreed, and only the second
/// (write-back) phase keeps the read from going back in time.
pub const DISAGREED: &str = "replicas-disagreed";
/// No quorum answered an operation in time.
pub const TIMED_OUT: &str = "op-timed-out";
/// A node booted again after a crash.
pub const RESTARTED: &str = "node-restarted";

/// What the register workload declares (see [`crate::sometimes`]).
pub const SOMETIMES: &[Sometimes] = &[
    Sometimes::new(
        DISAGREED,
        "a query phase heard replicas with different stamps (the write-back mattered)",
    ),
    Sometimes::new(TIMED_OUT, "no quorum answered an operation in time"),
    Sometimes::new(RESTARTED, "a node booted again after a crash"),
];

/// Query phases followed at once, at most (older ones are forgotten: a bound on memory).
pub const QUERIES_TRACKED_MAX: usize = 1 << 12;

/// See the module docs.
#[derive(Debug, Default)]
pub struct Coverage {
    /// (coordinator, request) → the first stamp its query phase heard.
    queries: BTreeMap<(NodeId, u64), Stamp>,
    counts: BTreeMap<&'static str, u64>,
}

impl Coverage {
    /// The checker's name.
    pub const NAME: &'static str = "register-coverage";

    fn saw(&mut self, event: &'static str) {
        *self.counts.entry(event).or_default() += 1;
    }
}

impl Checker<RegisterNode> for Coverage {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn deliver(&mut self, _t: u64, _from: NodeId, to: NodeId, msg: &RegMsg) -> Result<(), String> {
        if let RegMsg::QueryReply { req, stamp, .. } = *msg {
            match self.queries.get(&(to, req)) {
                Some(&first) if first != stamp => {
                    self.queries.remove(&(to, req));
                    self.saw(DISAGREED);
                }
                Some(_) => {}
                None => {
                    if self.queries.len() >= QUERIES_TRACKED_MAX {
                        self.queries.pop_first();
                    }
                    self.queries.insert((to, req), stamp);
                }
            }
        }
        Ok(())
    }

    fn complete(&mut self, _t: u64, _op_id: OpId, reply: &RegReply) -> Result<(), String> {
        if *reply == RegReply::TimedOut {
            self.saw(TIMED_OUT);
        }
        Ok(())
    }

    fn restarted(&mut self, _t: u64, _node: NodeId) {
        self.saw(RESTARTED);
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        for (name, n) in &self.counts {
            out.happened(*name, *n);
        }
    }
}
