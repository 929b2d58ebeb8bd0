//! Coverage (`quorum-coverage`): the quorum store's interesting events, counted per run so a
//! sweep can say in how many seeds each happened ([`crate::sometimes`]). Never fails a run.
//!
//! Each event is read off what a checker can see — messages delivered, replies, restarts —
//! not from counters in the node: a hint handed off is a `HandoffAck` that reached its holder,
//! a read repair a `Repair` that reached a stale replica.

use std::collections::BTreeMap;

use super::order;
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::sometimes::Sometimes;
use crate::workloads::quorum::msg::{Msg, Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Siblings};

/// A sloppy quorum's fallback stored a write for an unreachable replica.
pub const HINT_STORED: &str = "hint-stored";
/// A hint reached its replica and the holder heard it was merged durably.
pub const HINT_HANDED_OFF: &str = "hint-handed-off";
/// A read found a stale replica and repaired it.
pub const READ_REPAIR: &str = "read-repair";
/// Anti-entropy found differing Merkle buckets and exchanged keys.
pub const ANTI_ENTROPY_REPAIR: &str = "anti-entropy-repair";
/// A read returned concurrent versions (siblings).
pub const SIBLINGS_SEEN: &str = "siblings-seen";
/// A write superseded every sibling an earlier read of its key returned.
pub const SIBLINGS_MERGED: &str = "siblings-merged";
/// A node booted again after a crash and rejoined with what its disk kept.
pub const RESTARTED: &str = "node-restarted";

/// What the quorum workload declares (see [`crate::sometimes`]).
pub const SOMETIMES: &[Sometimes] = &[
    Sometimes::new(
        HINT_STORED,
        "a sloppy quorum's fallback stored a write for an unreachable replica",
    ),
    Sometimes::new(
        HINT_HANDED_OFF,
        "a hint reached its replica, which merged it durably",
    ),
    Sometimes::new(READ_REPAIR, "a read repaired a stale replica"),
    Sometimes::new(
        ANTI_ENTROPY_REPAIR,
        "anti-entropy found differing Merkle buckets and exchanged their keys",
    ),
    Sometimes::new(SIBLINGS_SEEN, "a read returned concurrent versions"),
    Sometimes::new(
        SIBLINGS_MERGED,
        "a write superseded every sibling an earlier read returned",
    ),
    Sometimes::new(RESTARTED, "a node restarted after a crash"),
];

/// See the module docs.
#[derive(Debug)]
pub struct Coverage {
    mode: Mode,
    /// Open client operations' keys.
    keys: BTreeMap<OpId, u32>,
    /// Per key: the last sibling set (two or more versions) a read returned, until a write
    /// supersedes it.
    siblings: BTreeMap<u32, Siblings>,
    counts: BTreeMap<&'static str, u64>,
}

impl Coverage {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-coverage";

    /// For a run in `mode`.
    pub fn new(mode: Mode) -> Self {
        Coverage {
            mode,
            keys: BTreeMap::new(),
            siblings: BTreeMap::new(),
            counts: BTreeMap::new(),
        }
    }

    fn saw(&mut self, event: &'static str) {
        *self.counts.entry(event).or_default() += 1;
    }
}

impl Checker<QuorumNode> for Coverage {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn invoke(&mut self, _t: u64, op_id: OpId, _node: NodeId, op: &Op) -> Result<(), String> {
        if let Op::Get { key, all: false } | Op::Put { key, .. } | Op::Delete { key } = *op {
            self.keys.insert(op_id, key);
        }
        Ok(())
    }

    fn complete(&mut self, _t: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some(key) = self.keys.remove(&op_id) else {
            return Ok(());
        };
        match reply {
            Reply::Got(sibs, _) if sibs.versions().len() >= 2 => {
                self.saw(SIBLINGS_SEEN);
                self.siblings.insert(key, sibs.clone());
            }
            Reply::Written(v, _) => {
                let merged = self.siblings.get(&key).is_some_and(|s| {
                    s.versions()
                        .iter()
                        .all(|old| order::covers(v, old, self.mode) && v != old)
                });
                if merged {
                    self.siblings.remove(&key);
                    self.saw(SIBLINGS_MERGED);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn lost(&mut self, _t: u64, op_id: OpId) {
        self.keys.remove(&op_id);
    }

    fn deliver(&mut self, _t: u64, _from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        match msg {
            Msg::Store {
                hint_for: Some(intended),
                ..
            } if *intended != to => self.saw(HINT_STORED),
            Msg::HandoffAck { .. } => self.saw(HINT_HANDED_OFF),
            Msg::Repair { .. } => self.saw(READ_REPAIR),
            Msg::AeKeys { entries, .. } if !entries.is_empty() => self.saw(ANTI_ENTROPY_REPAIR),
            _ => {}
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
