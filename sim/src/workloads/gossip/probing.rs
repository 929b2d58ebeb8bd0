//! Whom a member probes and through whom: SWIM's round-robin probe order
//! (`gossip-round-robin`), indirect probes when a probe goes unanswered
//! (`gossip-indirect-probes`), through live members only (`gossip-relays`). With whom it
//! swaps tables, how often and how it joins is [`super::push_pull`]'s.
//!
//! **Round-robin** (SWIM, Das, Gupta & Motivala, DSN 2002, §4.3): each protocol period a
//! member probes the next member of a list of the members it knows, shuffled; when the list
//! runs out it is rebuilt from the members it then holds live (alive or suspect) and shuffled
//! again; a member learned mid-round goes in at a random place among those not yet probed this
//! round. So within one round a member probes every other member it holds live at most once,
//! and at least once each one it held live for the whole round. The checker replays the rounds
//! from the pings each member sends when a period begins and from its view, and keeps, per
//! member, the members still *owed* a probe this round: all it held live when the round
//! began, and each one learned since (a first word of it, Unknown to alive or suspect). A
//! member it stops holding live is no longer owed (the list skips it), though it may still be
//! probed this round. A probe of a member not owed and not skippable begins a new round, which
//! is allowed only when no member it holds live is still owed — otherwise the member was
//! probed twice in one round, or some member was left out of it. A period that begins with a
//! live member to probe must probe someone.
//!
//! One case the observer cannot tell apart: a member that was skipped (not live when its turn
//! came), is live again and is probed when no owed member is left may be the last of the old
//! round or the first of a new one. The checker then owes nothing until the next probe that
//! can only begin a round, which is sound for either reading.
//!
//! **Indirect probes** (`gossip-indirect-probes`; SWIM §3.1 and §4.1): a probe whose ack has
//! not come by the probe timeout is retried through `k` other members — ping-req — so that
//! one lossy link between prober and target does not become a suspicion. Held from the
//! messages: a probe that closes unanswered (no ack with its number delivered by the next
//! period) had ping-reqs sent for it, at least `min(k, m)` of them, with `m` the fewest
//! members other than itself and the target the prober held alive while the probe was in
//! flight, and never more than `k`; no ping-req goes out for a probe already acked; and a
//! member asked by ping-req pings the target from that very handler (unless it is gone, or
//! has been asked more often than it may keep relays open, [`RELAYS_MAX`]). The probe
//! timeout is shorter than the period (the parameters refuse otherwise) and both stretch by
//! the same health score, so the timeout's handler runs before the next period's — unless the
//! prober was paused meanwhile: the world fires a paused member's overdue timers when it
//! resumes, and with two overlapping pauses not necessarily in the order they fell due (seed
//! 7801: the period began before the probe's timeout), so a probe a pause overlapped is not
//! judged.
//!
//! **Relays** (SWIM §4.1, memberlist's `kRandomNodes` and Lifeguard's nacks): the `k` members
//! asked to probe a target indirectly (ping-req) are members the prober holds *alive* — not
//! suspect, failed or gone — other than itself and the target. A suspect relay is likely the
//! reason the probe will fail, so asking it turns one slow member into a false suspicion of
//! another.

use super::detector::RELAYS_MAX;
use super::msg::{GossipMsg, Status};
use super::node::GossipNode;
use super::witness::{live, Probes, Step, Views};
use crate::check::Checker;
use crate::faults::Fault;
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::{fmt_nanos, ms};

/// Not in this round.
const OUT: u8 = 0;
/// Owed a probe this round.
const OWED: u8 = 1;
/// May be probed once more this round, not owed (skipped, or an ambiguous round boundary).
const MAY: u8 = 2;

/// See the module docs.
#[derive(Debug)]
pub struct RoundRobin {
    views: Views,
    probes: Probes,
    /// `round[observer * n + subject]`: [`OUT`], [`OWED`] or [`MAY`].
    round: Vec<u8>,
    /// Per member: how many are [`OWED`].
    owed: Vec<u32>,
    steps: Vec<Step>,
    /// Probes judged.
    pub judged: u64,
    /// Rounds completed (a probe that began a new round).
    pub rounds: u64,
}

impl RoundRobin {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-round-robin";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        RoundRobin {
            views: Views::new(n),
            probes: Probes::new(n),
            round: vec![OUT; n as usize * n as usize],
            owed: vec![0; n as usize],
            steps: Vec::new(),
            judged: 0,
            rounds: 0,
        }
    }

    fn idx(&self, observer: NodeId, subject: NodeId) -> usize {
        observer as usize * self.views.n() as usize + subject as usize
    }

    fn set(&mut self, observer: NodeId, subject: NodeId, to: u8) {
        let i = self.idx(observer, subject);
        let from = self.round[i];
        if from == OWED {
            self.owed[observer as usize] -= 1;
        }
        if to == OWED {
            self.owed[observer as usize] += 1;
        }
        self.round[i] = to;
    }

    /// The first member `observer` still owes a probe this round, other than `but`.
    fn first_owed(&self, observer: NodeId, but: NodeId) -> Option<NodeId> {
        (0..self.views.n()).find(|&s| s != but && self.round[self.idx(observer, s)] == OWED)
    }

    /// `node` probed `target` at the start of a period.
    fn probed(&mut self, t_ns: u64, node: NodeId, target: NodeId) -> Result<(), String> {
        self.judged += 1;
        let held = self.views.get(node, target).status;
        if target == node || !live(held) {
            return Err(format!(
                "n{node} probed n{target} at {}, which it holds {held:?}: SWIM's round-robin probes only members held alive or suspect",
                fmt_nanos(t_ns)
            ));
        }
        match self.round[self.idx(node, target)] {
            OWED => self.set(node, target, OUT),
            MAY if self.owed[node as usize] > 0 => self.set(node, target, OUT),
            MAY => {
                // The last of this round or the first of the next: owe nothing until a probe
                // that can only begin a round.
                for s in 0..self.views.n() {
                    let i = self.idx(node, s);
                    let keep =
                        self.round[i] != OUT || (s != node && live(self.views.get(node, s).status));
                    self.round[i] = if keep { MAY } else { OUT };
                }
                self.owed[node as usize] = 0;
                let t = self.idx(node, target);
                self.round[t] = OUT;
            }
            _ => {
                if let Some(s) = self.first_owed(node, target) {
                    return Err(format!(
                        "n{node} probed n{target} at {}, which it already probed this round (or never put in it), while n{s}, held {:?} by it since the round began or since it learned of it, was not probed yet ({} owed): SWIM §4.3 probes each member once per round",
                        fmt_nanos(t_ns),
                        self.views.get(node, s).status,
                        self.owed[node as usize]
                    ));
                }
                self.rounds += 1;
                for s in 0..self.views.n() {
                    let owed = s != node && s != target && live(self.views.get(node, s).status);
                    self.set(node, s, if owed { OWED } else { OUT });
                }
            }
        }
        Ok(())
    }

    /// The period `node` began at its last handler sent no probe: it had no one to probe.
    fn idle_period(&mut self, t_ns: u64, node: NodeId) -> Result<(), String> {
        let others = self.views.others_live(node);
        if others > 0 {
            return Err(format!(
                "n{node} began a protocol period before {} and probed no one, though it holds {others} other member(s) alive or suspect (SWIM §4.3: one probe per period)",
                fmt_nanos(t_ns)
            ));
        }
        for s in 0..self.views.n() {
            self.set(node, s, OUT);
        }
        Ok(())
    }
}

impl Checker<GossipNode> for RoundRobin {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_probes_judged", self.judged as f64);
        out.scalar("rule_rounds_completed", self.rounds as f64);
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        match self.probes.send(from, to, msg) {
            Some(target) => self.probed(t_ns, from, target),
            None => Ok(()),
        }
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        if self.probes.period_open(node) {
            self.idle_period(t_ns, node)?;
        }
        self.probes.observe(node, state.ticks());
        let mut steps = std::mem::take(&mut self.steps);
        self.views.fold(node, state.journal(), &mut steps);
        for s in &steps {
            if s.subject == node {
                continue;
            }
            let slot = self.round[self.idx(node, s.subject)];
            if s.before.status == Status::Unknown && live(s.after.status) {
                self.set(node, s.subject, OWED); // Learned mid-round: into this round.
            } else if !live(s.after.status) && slot == OWED {
                self.set(node, s.subject, MAY); // Skipped if its turn comes now.
            }
        }
        self.steps = steps;
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.views.reset(node);
        self.probes.reset(node);
        for s in 0..self.views.n() {
            self.set(node, s, OUT);
        }
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        for node in 0..self.views.n() {
            if self.probes.period_open(node) {
                self.idle_period(t_ns, node)?;
            }
        }
        Ok(())
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Relays {
    views: Views,
    steps: Vec<Step>,
    /// Ping-reqs judged.
    pub judged: u64,
}

impl Relays {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-relays";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        Relays {
            views: Views::new(n),
            steps: Vec::new(),
            judged: 0,
        }
    }
}

impl Checker<GossipNode> for Relays {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_relays_judged", self.judged as f64);
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        let GossipMsg::PingReq { target, .. } = *msg else {
            return Ok(());
        };
        self.judged += 1;
        let held = self.views.get(from, to).status;
        if to == from || to == target || held != Status::Alive {
            return Err(format!(
                "n{from} asked n{to} at {} to probe n{target} for it, but holds n{to} {held:?}: indirect probes go through other members held alive (SWIM §4.1, memberlist)",
                fmt_nanos(t_ns)
            ));
        }
        Ok(())
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.views.fold(node, state.journal(), &mut self.steps);
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.views.reset(node);
    }
}

/// See the module docs ("Indirect probes").
#[derive(Debug)]
pub struct Indirect {
    k: u32,
    views: Views,
    probes: Probes,
    steps: Vec<Step>,
    /// Per member: the fewest members (not itself, not the target) it held alive while its
    /// probe was in flight.
    helpers_min: Vec<u32>,
    /// Per member: when its probe in flight was sent.
    sent_ns: Vec<u64>,
    /// Per member: when its latest pause ends.
    paused_until: Vec<u64>,
    /// Per member: ping-reqs delivered to it since it booted.
    asked: Vec<u64>,
    /// Per member: the target of the ping-req delivered to its current handler.
    asked_now: Vec<Option<NodeId>>,
    /// The relay the last handler owes: (relay, target, when); settled at the next event.
    owed: Option<(NodeId, NodeId, u64)>,
    /// Probes judged (closed unanswered with helpers to ask).
    pub judged: u64,
}

impl Indirect {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-indirect-probes";

    /// For a cluster of `n` running with `k` relays a probe.
    pub fn new(n: u32, k: u32) -> Self {
        Indirect {
            k,
            views: Views::new(n),
            probes: Probes::new(n),
            steps: Vec::new(),
            helpers_min: vec![0; n as usize],
            sent_ns: vec![0; n as usize],
            paused_until: vec![0; n as usize],
            asked: vec![0; n as usize],
            asked_now: vec![None; n as usize],
            owed: None,
            judged: 0,
        }
    }

    /// Members `node` holds alive other than itself and `target`.
    fn helpers(&self, node: NodeId, target: NodeId) -> u32 {
        (0..self.views.n())
            .filter(|&m| m != node && m != target)
            .filter(|&m| self.views.get(node, m).status == Status::Alive)
            .count() as u32
    }

    /// The last handler's relay duty, now that all it sent has been seen.
    fn settle(&mut self) -> Result<(), String> {
        match self.owed.take() {
            Some((relay, target, t_ns)) => Err(format!(
                "n{relay} was asked by ping-req at {} to probe n{target} and did not ping it: a member asked to probe indirectly pings the target at once and relays its ack (SWIM §3.1)",
                fmt_nanos(t_ns)
            )),
            None => Ok(()),
        }
    }
}

impl Checker<GossipNode> for Indirect {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_indirect_probes_judged", self.judged as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        self.settle()?;
        self.probes.deliver(to, msg);
        if let GossipMsg::PingReq { target, .. } = *msg {
            self.asked[to as usize] += 1;
            if target < self.views.n() && self.asked[to as usize] <= RELAYS_MAX as u64 {
                self.asked_now[to as usize] = Some(target);
            }
        }
        Ok(())
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        match *msg {
            // The relay pinged the target it was asked to: its duty is done.
            GossipMsg::Ping { .. }
                if self
                    .owed
                    .is_some_and(|(r, target, _)| r == from && target == to) =>
            {
                self.owed = None;
            }
            GossipMsg::PingReq { seq, target, .. } => {
                if let Some(p) = self.probes.in_flight(from).filter(|p| p.seq == seq) {
                    if p.acked {
                        return Err(format!(
                            "n{from} asked n{to} at {} to probe n{target}, but the ack for that probe (#{seq}) had already reached it: ping-req is for a probe the target did not answer in time (SWIM §3.1)",
                            fmt_nanos(t_ns)
                        ));
                    }
                    if p.relays >= self.k {
                        return Err(format!(
                            "n{from} sent a ping-req for probe #{seq} of n{target} to n{to} at {}, one more than the k = {} relays a probe asks (SWIM §3.1)",
                            fmt_nanos(t_ns),
                            self.k
                        ));
                    }
                }
            }
            _ => {}
        }
        if self.probes.send(from, to, msg).is_some() {
            self.helpers_min[from as usize] = self.helpers(from, to);
            self.sent_ns[from as usize] = t_ns;
        }
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.settle()?;
        let i = node as usize;
        let closed = self.probes.observe(node, state.ticks());
        self.views.fold(node, state.journal(), &mut self.steps);
        let asked = self.asked_now[i].take();
        if state.gone().is_some() {
            return Ok(());
        }
        if let Some(Some(p)) = closed {
            let want = self.k.min(self.helpers_min[i]);
            let paused = self.paused_until[i] >= self.sent_ns[i];
            if !p.acked && want > 0 && !paused {
                self.judged += 1;
                if p.relays < want {
                    return Err(format!(
                        "n{node}'s probe #{} of n{} went unanswered until its next period at {}, and it asked {} member(s) to probe indirectly; holding at least {} other member(s) alive all along, it asks min(k = {}, that) (SWIM §3.1)",
                        p.seq,
                        p.target,
                        fmt_nanos(t_ns),
                        p.relays,
                        self.helpers_min[i],
                        self.k
                    ));
                }
            }
        }
        // The helpers change only with the prober's view: recount (O(n)) only then.
        if let Some(p) = self
            .probes
            .in_flight(node)
            .filter(|_| !self.steps.is_empty())
        {
            let now = self.helpers(node, p.target);
            self.helpers_min[i] = self.helpers_min[i].min(now);
        }
        if let Some(target) = asked {
            self.owed = Some((node, target, t_ns));
        }
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        if let Fault::Pause { node, duration_ms } = *f {
            let until = &mut self.paused_until[node as usize];
            *until = (*until).max(t_ns + ms(duration_ms));
        }
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        let i = node as usize;
        self.views.reset(node);
        self.probes.reset(node);
        self.asked[i] = 0;
        self.asked_now[i] = None;
        self.helpers_min[i] = 0;
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        self.settle()
    }
}
