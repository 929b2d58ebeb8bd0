//! Lifeguard's local health score, recomputed by an observer (`gossip-health`).
//!
//! Lifeguard (Dadgar, Phillips & Currey, 2018) §IV-A, *local health multiplier*: each member
//! keeps a score `S` in `[0, S_max]` of evidence that it is itself the slow one, and stretches
//! its probe period and probe timeout by `S + 1`. The score moves only by these rules:
//!
//! | event | change |
//! |---|---|
//! | a probe answered (an ack with its number arrived, directly or relayed, before the next period) | −1 |
//! | a probe failed, no relay asked | +1 |
//! | a probe failed after `r` relays were asked (ping-req) and `k` of them nacked | +(r − k), the nacks missed |
//! | the member refutes an accusation about itself at its current incarnation | +1 |
//!
//! clamped after each change to `[0, awareness_max − 1]` (memberlist's awareness: the
//! multiplier `S + 1` is at most `awareness_max`); with `lha=off` the score stays 0.
//!
//! The checker does not take the member's word for any of it. It follows each member's probe
//! from its messages ([`super::witness::Probes`]: the ping sent when a period began, the
//! ping-reqs sent for it, the acks and nacks delivered for its number), closes it when the
//! next period begins, counts refutations of accusations from the message each refutation
//! answered, and after every handler requires the score the member reports to equal the score
//! so recomputed. A score that moves by the wrong amount, at the wrong time, or not at all
//! fails at that handler.

use super::msg::{GossipMsg, Status};
use super::node::{GossipNode, Note};
use super::params::Params;
use super::witness::{updates, ProbeSeen, Probes};
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::fmt_nanos;

/// See the module docs.
#[derive(Debug)]
pub struct Health {
    lha: bool,
    /// The highest score: `awareness_max − 1`.
    cap: u32,
    probes: Probes,
    /// The score each member should report.
    score: Vec<u32>,
    /// Each member's incarnation after its last handler.
    incarnation: Vec<u32>,
    /// Per member: for each refutation the message delivered to its current handler calls
    /// for, in order, whether it answers an accusation at the incarnation then held.
    refutes: Vec<Vec<bool>>,
    /// Score changes judged.
    pub judged: u64,
}

impl Health {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-health";

    /// For a cluster of `n` running with `p`.
    pub fn new(n: u32, p: &Params) -> Self {
        Health {
            lha: p.lifeguard.lha,
            cap: p.awareness_max.saturating_sub(1),
            probes: Probes::new(n),
            score: vec![0; n as usize],
            incarnation: vec![0; n as usize],
            refutes: vec![Vec::new(); n as usize],
            judged: 0,
        }
    }

    fn apply(&mut self, node: NodeId, delta: i64) {
        if !self.lha {
            return;
        }
        let s = &mut self.score[node as usize];
        *s = (i64::from(*s) + delta).clamp(0, i64::from(self.cap)) as u32;
        self.judged += 1;
    }
}

/// The change a closed probe asks for (see the module docs).
fn verdict(p: &ProbeSeen, lha: bool) -> i64 {
    if p.acked {
        -1
    } else if lha && p.relays > 0 {
        i64::from(p.relays.saturating_sub(p.nacks))
    } else {
        1
    }
}

impl Checker<GossipNode> for Health {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_health_moves_judged", self.judged as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        self.probes.deliver(to, msg);
        // The refutations this message calls for, replayed in order: each raises the
        // incarnation to one above what it answers.
        let out = &mut self.refutes[to as usize];
        out.clear();
        let mut inc = self.incarnation[to as usize];
        for u in updates(msg).0.iter().filter(|u| u.subject == to) {
            let accusation = matches!(u.status, Status::Suspect | Status::Failed);
            let accused = accusation && u.incarnation == inc;
            let stale_self = u.status == Status::Alive && u.incarnation > inc;
            if accused || (accusation && u.incarnation > inc) || stale_self {
                out.push(accused);
                inc = u.incarnation.saturating_add(1);
            }
        }
        Ok(())
    }

    fn send(
        &mut self,
        _t_ns: u64,
        from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        self.probes.send(from, to, msg);
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let i = node as usize;
        let before = self.score[i];
        let closed = self.probes.observe(node, state.ticks()).flatten();
        if let Some(p) = &closed {
            self.apply(node, verdict(p, self.lha));
        }
        let refuted = state
            .journal()
            .iter()
            .filter(|n| matches!(n, Note::Refuted))
            .count();
        let accused = self.refutes[i].iter().take(refuted).filter(|&&a| a).count();
        self.refutes[i].clear();
        for _ in 0..accused {
            self.apply(node, 1);
        }
        self.incarnation[i] = state.membership().get(node).incarnation;
        let want = self.score[i];
        let got = state.awareness();
        if got == want {
            return Ok(());
        }
        let why = match (&closed, accused) {
            (Some(p), _) => format!(
                "its probe of n{} (#{}) closed as this period began: {}, {} relay(s) asked, {} nack(s), so {:+}",
                p.target,
                p.seq,
                if p.acked { "answered" } else { "not answered" },
                p.relays,
                p.nacks,
                verdict(p, self.lha)
            ),
            (None, 0) => "nothing in this handler moves the score".into(),
            (None, a) => format!("it refuted {a} accusation(s) about itself, so +{a}"),
        };
        Err(format!(
            "n{node}'s local health score is {got} at {}, but Lifeguard's rules give {want}: it was {before} and {why} (clamped to 0..={}; Lifeguard §IV-A)",
            fmt_nanos(t_ns),
            self.cap
        ))
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        let i = node as usize;
        self.probes.reset(node);
        self.score[i] = 0;
        self.incarnation[i] = 0;
        self.refutes[i].clear();
    }
}
