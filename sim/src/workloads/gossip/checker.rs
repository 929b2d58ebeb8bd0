//! Gossip's checkers, one property each.
//!
//! - [`Detection`] (`gossip-detection`): a member that crashes, stops or leaves and stays down
//!   is held failed (or left) by every member that stays up and knew it, within
//!   [`Params::detection_bound_ns`] with each period stretched only as far as that observer's
//!   local health awareness really stretched it (not the most it could) — extended, per
//!   observer, by the time that observer spent paused. Completeness with a deadline, derived
//!   from the parameters, not a guess. And the pace behind the deadline: every member that is
//!   up begins each protocol period no later than one period (stretched by its own health
//!   score at the time, and by pauses) after the last, so a detector slower than its
//!   configuration fails at its first late period, not only when a departure happens. One
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

/// Awareness changes remembered per member, at most (older ones are folded into a floor).
pub const AWARENESS_CHANGES_MAX: usize = 1 << 12;

/// See the module docs.
#[derive(Debug)]
pub struct Detection {
    truth: Truth,
    /// The bound with every period at its configured length (awareness 0).
    base_bound_ns: u64,
    /// The parts of the bound: probe periods to reach any member, the period, the longest
    /// suspicion, and how far local health awareness may stretch a period.
    periods: u64,
    period_ns: u64,
    suspicion_max_ns: u64,
    stretch_max: u64,
    pending: Vec<Departure>,
    /// (observer, departed member) → when stale news revived the member at the observer.
    revived_ns: BTreeMap<(NodeId, NodeId), u64>,
    /// Per member: (since, awareness score) at each change, oldest first.
    awareness: Vec<Vec<(u64, u32)>>,
    /// Per member: its last protocol period's start, tick count, and the length of the period
    /// it armed then (the configured one stretched by its awareness at that moment).
    last_tick: Vec<Option<(u64, u64, u64)>>,
}

impl Detection {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-detection";

    /// For a cluster of `n` running with `p`.
    pub fn new(n: u32, p: &Params) -> Self {
        let periods = 2 * u64::from(n) + 2;
        let suspicion_max_ns = p.suspicion_max_ns(n);
        Detection {
            truth: Truth::new(n),
            base_bound_ns: slack(periods * p.period_ns + suspicion_max_ns),
            periods,
            period_ns: p.period_ns,
            suspicion_max_ns,
            stretch_max: p.stretch_max(),
            pending: Vec::new(),
            revived_ns: BTreeMap::new(),
            awareness: vec![vec![(0, 0)]; n as usize],
            last_tick: vec![None; n as usize],
        }
    }

    /// The pace of the protocol: each member that is up begins a protocol period (SWIM's
    /// `T'`) exactly one period after the last, stretched by `score + 1` under local health
    /// awareness (Lifeguard §IV-A) and by the time it was paused — never later (but for
    /// [`slack`]: a period is local time, and a slow clock's drift stretches it a little). A detector
    /// whose periods run longer than its configuration and its own health allow misses this
    /// at its first period, long before any detection deadline.
    fn pace(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let i = node as usize;
        let ticks = state.ticks();
        if let Some((at, seen, _)) = self.last_tick[i] {
            if ticks == seen {
                return Ok(());
            }
            let (_, _, armed) = self.last_tick[i].expect("checked");
            let due = at + slack(armed) + self.truth.paused_ns(node, at, t_ns);
            if ticks == seen + 1 && t_ns > due {
                return Err(format!(
                    "n{node} began a protocol period at {}, {} after the last (at {}): its period is {} (configured {} stretched by awareness {}), so it was late by {}",
                    fmt_nanos(t_ns),
                    fmt_nanos(t_ns - at),
                    fmt_nanos(at),
                    fmt_nanos(armed),
                    fmt_nanos(self.period_ns),
                    armed / self.period_ns.max(1) - 1,
                    fmt_nanos(t_ns - due),
                ));
            }
        }
        if ticks > 0 {
            let armed = self.period_ns * (u64::from(state.awareness()) + 1);
            self.last_tick[i] = Some((t_ns, ticks, armed));
        }
        Ok(())
    }

    /// Every member that is up and past its first period must begin the next one in time,
    /// whether or not anything else happens to it.
    fn overdue(&self, t_ns: u64) -> Result<(), String> {
        for (i, last) in self.last_tick.iter().enumerate() {
            let node = i as NodeId;
            let Some((at, _, armed)) = *last else {
                continue;
            };
            if self.truth.life(node) != Life::Up {
                continue;
            }
            let due = at + slack(armed) + self.truth.paused_ns(node, at, t_ns);
            if t_ns > due {
                return Err(format!(
                    "n{node} is up but began no protocol period since {} (its period is {}; due by {})",
                    fmt_nanos(at),
                    fmt_nanos(armed),
                    fmt_nanos(due),
                ));
            }
        }
        Ok(())
    }

    /// The bound for observer `y` judged over `[from_ns, t_ns]`: [`Params::detection_bound_ns`]
    /// with each period stretched not by the most local health awareness *could* stretch it
    /// (`awareness_max`), but by the most `y`'s awareness *did* while the departed member was
    /// to be detected — from one fully stretched period before `from_ns` (the tick timer armed
    /// then) to `t_ns`. A detector slower than its configuration and its own health allow
    /// misses this deadline; the loose bound would give it up to `awareness_max` times longer.
    fn bound_ns(&self, y: NodeId, from_ns: u64, t_ns: u64) -> u64 {
        let since = from_ns.saturating_sub(self.period_ns * self.stretch_max);
        let changes = &self.awareness[y as usize];
        // The score in force at `since` (the last change at or before it), and every later one.
        let start = changes
            .partition_point(|&(at, _)| at <= since)
            .saturating_sub(1);
        let a = changes[start..]
            .iter()
            .take_while(|&&(at, _)| at <= t_ns)
            .map(|&(_, a)| u64::from(a))
            .max()
            .unwrap_or(0);
        let stretch = (a + 1).min(self.stretch_max);
        slack(self.periods * self.period_ns * stretch + self.suspicion_max_ns)
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
            if t_ns < d.at_ns + self.base_bound_ns {
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
                let bound_ns = self.bound_ns(y, from, t_ns);
                let deadline = from + bound_ns + self.truth.paused_ns(y, d.at_ns, t_ns);
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
                        fmt_nanos(bound_ns),
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
        self.awareness_now(t_ns, node, state.awareness());
        let was_up = self.truth.life(node) == Life::Up;
        if was_up {
            self.pace(t_ns, node, state)?;
        }
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
        self.overdue(t_ns)?;
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
        self.awareness_now(t_ns, node, 0);
        self.last_tick[node as usize] = None;
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        self.overdue(t_ns)?;
        self.judge(t_ns)
    }
}

impl Detection {
    /// Remember `node`'s awareness score from `t_ns` on.
    fn awareness_now(&mut self, t_ns: u64, node: NodeId, score: u32) {
        let changes = &mut self.awareness[node as usize];
        if changes.last().is_some_and(|&(_, a)| a == score) {
            return;
        }
        if changes.len() >= AWARENESS_CHANGES_MAX {
            // Fold the oldest half into one entry holding their highest score: the bound only
            // grows, never wrongly shrinks.
            let half = changes.len() / 2;
            let floor = changes[..half].iter().map(|&(_, a)| a).max().unwrap_or(0);
            let at = changes[half - 1].0;
            changes.drain(..half);
            changes.insert(0, (at, floor));
        }
        changes.push((t_ns, score));
    }
}

/// The bound plus 0.1% and a millisecond for clock drift.
fn slack(raw_ns: u64) -> u64 {
    raw_ns + raw_ns / 1_000 + crate::time::ms(1)
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
