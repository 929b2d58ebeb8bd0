//! Refute only accusations (`gossip-refute`).
//!
//! SWIM (Das, Gupta & Motivala, DSN 2002) §4.2: a member's incarnation number is raised by
//! that member alone, and only to refute — "if a member `Mj` receives a Suspect message about
//! itself, it increments its incarnation number and disseminates an Alive message". Here,
//! with memberlist's handling of the member's own older lives, a member raises its incarnation
//! in a handler only when the message that handler delivered carries news about itself that
//! is
//!
//! - an accusation — Suspect or Failed — at its current incarnation or a later one, or
//! - any other news (an Alive) at a *later* incarnation than it holds: word of an earlier life
//!   of its own, before a crash wiped its memory, that it must outbid;
//!
//! and then to no more than one above the highest such incarnation. An Alive about itself at
//! its own incarnation is its own news coming back, not an accusation: raising the incarnation
//! on it makes every member re-learn it for nothing, and the news of the new incarnation comes
//! back in turn. Timers, client operations and boots never raise it.
//!
//! The checker reads the incarnation before and after each handler from the member's view of
//! itself and what the handler heard from the message the simulator delivered to it.

use super::msg::{GossipMsg, Status};
use super::node::GossipNode;
use super::witness::updates;
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::fmt_nanos;

/// See the module docs.
#[derive(Debug)]
pub struct Refutation {
    /// Each member's incarnation after its last handler.
    incarnation: Vec<u32>,
    /// Per member: the highest incarnation of news about itself, in the message delivered to
    /// its current handler, that licenses a refutation.
    licence: Vec<Option<u32>>,
    /// Refutations judged.
    pub judged: u64,
}

impl Refutation {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-refute";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        Refutation {
            incarnation: vec![0; n as usize],
            licence: vec![None; n as usize],
            judged: 0,
        }
    }
}

impl Checker<GossipNode> for Refutation {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_refutations_judged", self.judged as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        let held = self.incarnation[to as usize];
        self.licence[to as usize] = updates(msg)
            .0
            .iter()
            .filter(|u| u.subject == to)
            .filter(|u| match u.status {
                Status::Suspect | Status::Failed => u.incarnation >= held,
                Status::Alive => u.incarnation > held,
                Status::Unknown | Status::Left => false,
            })
            .map(|u| u.incarnation)
            .max();
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let i = node as usize;
        let before = self.incarnation[i];
        let now = state.membership().get(node).incarnation;
        let licence = self.licence[i].take();
        self.incarnation[i] = now;
        if now <= before {
            return Ok(());
        }
        self.judged += 1;
        match licence {
            Some(l) if now <= l.saturating_add(1) => Ok(()),
            Some(l) => Err(format!(
                "n{node} raised its incarnation from {before} to {now} at {}, but the news about itself it heard licenses at most {} (one above incarnation {l}; SWIM §4.2)",
                fmt_nanos(t_ns),
                l.saturating_add(1)
            )),
            None => Err(format!(
                "n{node} raised its incarnation from {before} to {now} at {} though nothing in this handler accused it (no Suspect or Failed about it at incarnation {before} or later, no news of it at a later incarnation): SWIM §4.2 raises an incarnation only to refute",
                fmt_nanos(t_ns)
            )),
        }
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.incarnation[node as usize] = 0;
        self.licence[node as usize] = None;
    }
}
