//! Gossip's checkers, one property each.
//!
//! - [`Detection`] (`gossip-detection`): a member that crashes, stops or leaves and stays down
//!   is held failed (or left) by every member that stays up and knew it, within
//!   [`Params::detection_bound_ns`] — extended, per observer, by the time that observer spent
//!   paused. Completeness with a deadline, derived from the parameters, not a guess. One
//!   subtlety: news of the departed member's last refutation may still be travelling after it
//!   went down, and an observer that had already failed it revives it on hearing it (a newer
//!   incarnation wins; that is the protocol working). The deadline then counts from that stale
//!   news reaching the observer. This cannot go on forever: each revival needs a higher
//!   incarnation, and the departed member raises its incarnation no more.
//! - [`NoFalsePositives`] (`gossip-no-false-positives`): in a run without faults that can delay
//!   or lose messages (no loss, reordering, slow links, partitions, crashes, pauses, buggify),
//!   no member that is up is ever declared failed. Accuracy.
//! - [`Convergence`] (`gossip-convergence`): at the end of the quiet period, after partitions
//!   healed and crashed members restarted, every member that is up holds every other member
//!   that is up alive. Refutation, rejoin and anti-entropy must have repaired every wrong
//!   belief. Asked only of a network configured prompt ([`super::prompt`]): links configured
//!   slower than the probe timeout stay slow in the quiet period too.

use std::collections::BTreeMap;

use super::msg::Status;
use super::node::{GossipNode, Note};
use super::params::Params;
use super::truth::{Life, Truth};
use crate::check::Checker;
use crate::faults::Fault;
use crate::node::NodeId;
use crate::time::fmt_nanos;

/// Departures followed at once, at most.
pub const PENDING_MAX: usize = 1 << 16;

#[derive(Clone, Copy, Debug)]
struct Departure {
    subject: NodeId,
    at_ns: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct Detection {
    truth: Truth,
    bound_ns: u64,
    pending: Vec<Departure>,
    /// (observer, departed member) → when stale news revived the member at the observer.
    revived_ns: BTreeMap<(NodeId, NodeId), u64>,
}

impl Detection {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-detection";

    /// For a cluster of `n` running with `p`.
    pub fn new(n: u32, p: &Params) -> Self {
        Detection {
            truth: Truth::new(n),
            bound_ns: p.detection_bound_ns(n),
            pending: Vec::new(),
            revived_ns: BTreeMap::new(),
        }
    }

    fn depart(&mut self, subject: NodeId, at_ns: u64) {
        if self.pending.len() < PENDING_MAX {
            self.pending.push(Departure { subject, at_ns });
        }
    }

    /// Judge every departure whose deadline passed by `t_ns`.
    fn judge(&mut self, t_ns: u64) -> Result<(), String> {
        let mut i = 0;
        while i < self.pending.len() {
            let d = self.pending[i];
            if t_ns < d.at_ns + self.bound_ns {
                i += 1;
                continue;
            }
            let still_down = match self.truth.life(d.subject) {
                Life::Up => false,
                Life::Crashed => self.truth.since_ns(d.subject) == d.at_ns,
                Life::Gone(_) => true,
            };
            if !still_down {
                self.forget(d.subject);
                self.pending.swap_remove(i);
                continue;
            }
            let mut waiting = false;
            for y in 0..self.truth.n() {
                if y == d.subject
                    || self.truth.life(y) != Life::Up
                    || self.truth.since_ns(y) > d.at_ns
                {
                    continue;
                }
                let from = self
                    .revived_ns
                    .get(&(y, d.subject))
                    .copied()
                    .unwrap_or(0)
                    .max(d.at_ns);
                let deadline = from + self.bound_ns + self.truth.paused_ns(y, d.at_ns, t_ns);
                if t_ns < deadline {
                    waiting = true;
                    continue;
                }
                let seen = self.truth.view(y, d.subject);
                if !matches!(seen, Status::Failed | Status::Left | Status::Unknown) {
                    return Err(format!(
                        "n{} went down at {} and stayed down, but n{y} still holds it {seen:?} at {} (bound {}, n{y} up since {})",
                        d.subject,
                        fmt_nanos(d.at_ns),
                        fmt_nanos(t_ns),
                        fmt_nanos(self.bound_ns),
                        fmt_nanos(self.truth.since_ns(y)),
                    ));
                }
            }
            if waiting {
                i += 1;
            } else {
                self.forget(d.subject);
                self.pending.swap_remove(i);
            }
        }
        Ok(())
    }

    fn forget(&mut self, subject: NodeId) {
        self.revived_ns.retain(|&(_, x), _| x != subject);
    }
}

impl Checker<GossipNode> for Detection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let was_up = self.truth.life(node) == Life::Up;
        let notes = self.truth.observe(t_ns, node, state);
        if was_up && notes.iter().any(|n| matches!(n, Note::Gone(_))) {
            self.depart(node, t_ns);
        }
        if !self.pending.is_empty() {
            for n in notes {
                if let Note::View {
                    subject,
                    status: Status::Alive | Status::Suspect,
                    ..
                } = *n
                {
                    if self.pending.iter().any(|d| d.subject == subject) {
                        self.revived_ns.insert((node, subject), t_ns);
                    }
                }
            }
        }
        self.judge(t_ns)
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        let crash_of_up =
            matches!(*f, Fault::Crash { node, .. } if self.truth.life(node) == Life::Up);
        self.truth.fault(t_ns, f);
        if let (true, Fault::Crash { node, .. }) = (crash_of_up, f) {
            self.depart(*node, t_ns);
        }
    }

    fn restarted(&mut self, t_ns: u64, node: NodeId) {
        self.truth.restarted(t_ns, node);
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        self.judge(t_ns)
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct NoFalsePositives {
    truth: Truth,
    enabled: bool,
}

impl NoFalsePositives {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-no-false-positives";

    /// For a cluster of `n`; `enabled` when the run has no message-delaying faults.
    pub fn new(n: u32, enabled: bool) -> Self {
        NoFalsePositives {
            truth: Truth::new(n),
            enabled,
        }
    }
}

impl Checker<GossipNode> for NoFalsePositives {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        let notes = self.truth.observe(t_ns, node, state);
        for n in notes {
            if let Note::View {
                subject,
                status: Status::Failed,
                incarnation,
            } = *n
            {
                if self.truth.life(subject) == Life::Up {
                    return Err(format!(
                        "n{node} declared n{subject} failed (incarnation {incarnation}) at {}, but it is up and no faults are on",
                        fmt_nanos(t_ns)
                    ));
                }
            }
        }
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        self.truth.fault(t_ns, f);
    }

    fn restarted(&mut self, t_ns: u64, node: NodeId) {
        self.truth.restarted(t_ns, node);
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Convergence {
    truth: Truth,
    enabled: bool,
}

impl Convergence {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-convergence";

    /// For a cluster of `n`; `enabled` when the configured network is prompt.
    pub fn new(n: u32, enabled: bool) -> Self {
        Convergence {
            truth: Truth::new(n),
            enabled,
        }
    }
}

impl Checker<GossipNode> for Convergence {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.truth.observe(t_ns, node, state);
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        self.truth.fault(t_ns, f);
    }

    fn restarted(&mut self, t_ns: u64, node: NodeId) {
        self.truth.restarted(t_ns, node);
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        let n = self.truth.n();
        let up: Vec<NodeId> = (0..n).filter(|&x| self.truth.life(x) == Life::Up).collect();
        let mut wrong = 0u64;
        let mut first = None;
        for &y in &up {
            for &x in &up {
                let seen = self.truth.view(y, x);
                if x != y && seen != Status::Alive {
                    wrong += 1;
                    first.get_or_insert((y, x, seen));
                }
            }
        }
        match first {
            None => Ok(()),
            Some((y, x, seen)) => Err(format!(
                "after the quiet period n{y} holds n{x} {seen:?} though both are up ({wrong} of {} beliefs between live members are wrong)",
                up.len() * up.len().saturating_sub(1)
            )),
        }
    }
}
