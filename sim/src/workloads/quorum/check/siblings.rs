//! Siblings are concurrent (`quorum-siblings`): no sibling set holds a version and an ancestor
//! of it.
//!
//! Dynamo §4.4: when one version's clock descends another's, "the first is an ancestor of the
//! second and can be forgotten" — the system reconciles it itself (syntactic reconciliation);
//! only versions on divergent branches reach the client as siblings to reconcile. The node
//! promises as much (`version.rs`: a set holds "the versions no other version in the set
//! descends"). Checked on every set a replica sends in reply to a read (`FetchReply`, as
//! delivered) and on every answer a get returns, with the checkers' own comparison
//! ([`super::order`]). Vector-clock mode only: with last-writer-wins a set holds one version.

use super::order;
use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::workloads::quorum::msg::{Msg, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Siblings, Version};

/// A version of `s` and another version of `s` it supersedes, if any.
fn ancestor_in(s: &Siblings) -> Option<(&Version, &Version)> {
    let vs = s.versions();
    vs.iter().enumerate().find_map(|(i, a)| {
        vs.iter()
            .enumerate()
            .find(|&(j, b)| i != j && order::dominates(&a.clock, &b.clock))
            .map(|(_, b)| (a, b))
    })
}

/// See the module docs.
#[derive(Debug)]
pub struct SiblingsConcurrent {
    active: bool,
    /// Sets with two or more versions looked at.
    pub judged: u64,
}

impl SiblingsConcurrent {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-siblings";

    /// For a run in `mode`; idle with last-writer-wins.
    pub fn new(mode: Mode) -> SiblingsConcurrent {
        SiblingsConcurrent {
            active: mode == Mode::VClock,
            judged: 0,
        }
    }

    fn judge(&mut self, s: &Siblings, whose: impl FnOnce() -> String) -> Result<(), String> {
        if !self.active || s.versions().len() < 2 {
            return Ok(());
        }
        self.judged += 1;
        match ancestor_in(s) {
            None => Ok(()),
            Some((a, b)) => Err(format!(
                "{} holds {b} beside {a}, which supersedes it: {s:?} (Dynamo §4.4: an ancestor is forgotten, only concurrent versions are siblings)",
                whose()
            )),
        }
    }
}

impl Checker<QuorumNode> for SiblingsConcurrent {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn deliver(&mut self, _t_ns: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        match msg {
            Msg::FetchReply { req, sibs: Some(s) } => self.judge(s, || {
                format!("n{from}'s reply to n{to}'s read (request {req})")
            }),
            _ => Ok(()),
        }
    }

    fn complete(&mut self, _t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        match reply {
            Reply::Got(s, _) => self.judge(s, || format!("the answer to op {op_id}")),
            _ => Ok(()),
        }
    }
}
