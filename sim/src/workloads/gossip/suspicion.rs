//! The suspicion's bounds: no member declares a suspect failed before the shortest suspicion
//! the configuration allows it (`gossip-suspicion-floor`), nor keeps suspecting it past the
//! longest (`gossip-suspicion-ceiling`).
//!
//! SWIM (Das, Gupta & Motivala, DSN 2002) §4.2 gives a suspect time to refute before it is
//! declared failed; Lifeguard (Dadgar, Phillips & Currey, 2018) §IV-B makes that time depend
//! on how many members independently suspect the same thing. With `n` members live in the
//! observer's view, `α = suspicion_mult`, `β = suspicion_max_mult` and period `T`:
//!
//! - `min = α · max(1, log₁₀ n) · T` (memberlist's suspicion timeout);
//! - without dynamic suspicion (`dsus=off`), every suspicion lasts `min`;
//! - with it, `max = β · min`, `K = α − 2` confirmations are expected (none when `n < K + 2`),
//!   and after `C` independent confirmations a suspicion lasts
//!   `max(min, max − (max − min) · ln(C + 1) / ln(K + 1))` (`min` at once when `K = 0`).
//!
//! The checker follows every suspicion from the handler where the observer's view of a member
//! became Suspect at incarnation `i` to the timer handler (not a delivered message: that is
//! news, not a decision) where it became Failed at `i`, and requires the time between them to
//! be at least the formula's value for
//!
//! - every accuser the observer could have counted by then: the senders named on each Suspect
//!   about that member at `i` delivered to it (and, from a push-pull, a Failed, which it takes
//!   as the sender's suspicion), and itself when a probe of its own to that member went
//!   unanswered — more accusers can only shorten the bound; and
//! - the fewest members it held live at any step since the suspicion began — fewer members can
//!   only shorten it too (the formula grows with `n`);
//!
//! less the clock's allowance: a suspicion is timed on the member's own clock, which may run
//! 0.1% fast ([`crate::clock::DRIFT_PPM_MAX`]) and may jump forward (each forward jump of its
//! clock while the suspicion ran is subtracted), and a microsecond for rounding. A Failed
//! declared by a timer with no suspicion running at that incarnation fails too.
//!
//! **The ceiling** is the same formula read the other way. Lifeguard arms the suspicion's
//! timer when it begins (one accuser, the first) and, with dynamic suspicion, again at each
//! new independent confirmation `C`, for what is left of the shorter timeout — at once if
//! none is left; the first timer to fire declares the member failed. So a suspicion still
//! running (not refuted, not replaced by newer news) must end by
//! `min over arms (max(t_arm, since + timeout(C_arm, n)))`, with `C_arm` the accusers the
//! observer had heard of at that arm (the same senders the floor counts, which are exactly
//! the confirmations a member folds in) and `n` the *most* members it held live meanwhile —
//! both err towards a later deadline. Plus the clock's allowance the other way: 0.1% for a
//! slow clock, every backward jump of its clock meanwhile (the remaining time is measured on
//! it), every pause that began meanwhile (a paused member fires its timers when it resumes),
//! and a microsecond. Checked after each of the observer's handlers — a member runs one
//! every period, so a suspicion kept too long fails within a period of its deadline. A member
//! that stopped or left decides nothing more and is not judged. Caught by it: a member that
//! never folds in confirmations (`GossipNode::confirm` → `()`), or a timer that never fires
//! (`--set bug=suspicion-never-expires`).

use std::collections::{BTreeMap, BTreeSet};

use super::msg::{GossipMsg, Status};
use super::node::GossipNode;
use super::params::Params;
use super::witness::{updates, Probes, Step, Views};
use crate::check::Checker;
use crate::faults::Fault;
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::{fmt_nanos, us, NANOS_PER_MS};

/// Forward clock jumps remembered per member, at most (a fault schedule draws far fewer);
/// past it the member's suspicions are no longer judged.
pub const JUMPS_MAX: usize = 1 << 12;

/// One suspicion an observer runs.
#[derive(Clone, Debug)]
struct Running {
    incarnation: u32,
    since_ns: u64,
    accusers: BTreeSet<NodeId>,
    /// The fewest members the observer held live since the suspicion began.
    live_min: u32,
    /// The most.
    live_max: u32,
    /// When the observer heard of each new count of accusers: (time, count).
    arms: Vec<(u64, u32)>,
}

/// See the module docs: one checker for each bound.
#[derive(Debug)]
pub struct Suspicion {
    /// Whether this one judges the ceiling (else the floor).
    ceiling: bool,
    period_ns: u64,
    mult: u32,
    max_mult: u32,
    dynamic: bool,
    views: Views,
    probes: Probes,
    /// (observer, suspect) → the suspicion.
    running: BTreeMap<(NodeId, NodeId), Running>,
    /// Per member: whether its current handler is a delivered message.
    delivered: Vec<bool>,
    /// Per member: the accusations (suspect, incarnation, accuser) the message delivered to
    /// its current handler carries about others.
    heard: Vec<Vec<(NodeId, u32, NodeId)>>,
    /// Per member: its clock's forward jumps (when, how far).
    jumps: Vec<Vec<(u64, u64)>>,
    /// Per member: its clock's backward jumps and its pauses (when, how long), for the
    /// ceiling.
    delays: Vec<Vec<(u64, u64)>>,
    steps: Vec<Step>,
    /// Declarations judged.
    pub judged: u64,
}

impl Suspicion {
    /// The floor's name.
    pub const FLOOR: &'static str = "gossip-suspicion-floor";
    /// The ceiling's name.
    pub const CEILING: &'static str = "gossip-suspicion-ceiling";

    /// The floor, for a cluster of `n` running with `p`.
    pub fn floor(n: u32, p: &Params) -> Self {
        Self::new(n, p, false)
    }

    /// The ceiling, for a cluster of `n` running with `p`.
    pub fn ceiling(n: u32, p: &Params) -> Self {
        Self::new(n, p, true)
    }

    fn new(n: u32, p: &Params, ceiling: bool) -> Self {
        Suspicion {
            ceiling,
            period_ns: p.period_ns,
            mult: p.suspicion_mult,
            max_mult: p.suspicion_max_mult,
            dynamic: p.lifeguard.dynamic_suspicion,
            views: Views::new(n),
            probes: Probes::new(n),
            running: BTreeMap::new(),
            delivered: vec![false; n as usize],
            heard: vec![Vec::new(); n as usize],
            jumps: vec![Vec::new(); n as usize],
            delays: vec![Vec::new(); n as usize],
            steps: Vec::new(),
            judged: 0,
        }
    }

    /// The shortest suspicion with `accusers` independent accusers known (the first one
    /// included) and `live` members in the observer's view: the formula of the module docs,
    /// written from the papers, not taken from the node.
    pub fn floor_ns(&self, accusers: u32, live: u32) -> u64 {
        let n = f64::from(live.max(1));
        let min = f64::from(self.mult) * n.log10().max(1.0) * self.period_ns as f64;
        if !self.dynamic {
            return min as u64;
        }
        let max = f64::from(self.max_mult) * min;
        let expected = self.mult.saturating_sub(2);
        if expected == 0 || live < expected + 2 {
            return min as u64;
        }
        let confirmations = f64::from(accusers.saturating_sub(1));
        let shrink = (confirmations + 1.0).ln() / (f64::from(expected) + 1.0).ln();
        (max - shrink * (max - min)).max(min) as u64
    }

    /// How far `node`'s clock jumped forward in `[from_ns, to_ns]`; `None` when jumps were
    /// lost.
    fn jumped_ns(&self, node: NodeId, from_ns: u64, to_ns: u64) -> Option<u64> {
        let jumps = &self.jumps[node as usize];
        if jumps.len() >= JUMPS_MAX {
            return None;
        }
        Some(
            jumps
                .iter()
                .filter(|&&(at, _)| at >= from_ns && at <= to_ns)
                .map(|&(_, d)| d)
                .sum(),
        )
    }

    /// The ceiling: every suspicion `node` still runs must not have outlived the last moment
    /// Lifeguard lets it run (see the module docs).
    fn overdue(&self, t_ns: u64, node: NodeId) -> Result<(), String> {
        let delays = &self.delays[node as usize];
        if delays.len() >= JUMPS_MAX {
            return Ok(());
        }
        for (&(_, subject), r) in self.running.range((node, 0)..=(node, NodeId::MAX)) {
            let deadline = r
                .arms
                .iter()
                .map(|&(at, count)| at.max(r.since_ns + self.floor_ns(count, r.live_max)))
                .min()
                .unwrap_or(r.since_ns + self.floor_ns(1, r.live_max));
            let delayed: u64 = delays
                .iter()
                .filter(|&&(at, _)| at >= r.since_ns && at <= t_ns)
                .map(|&(_, d)| d)
                .sum();
            let allowance = (deadline - r.since_ns) / 1_000 + delayed + us(1);
            if t_ns > deadline + allowance {
                let accusers = r.arms.last().map_or(1, |&(_, c)| c);
                return Err(format!(
                    "n{node} still suspects n{subject} (incarnation {}) at {}, {} after suspecting it at {}; with {accusers} independent accuser(s) heard of ({:?}, the count rising at {:?}) and at most {} members live in its view, Lifeguard's timeout declares it failed by {} (§IV-B: each confirmation re-arms the timer for what is left of the shorter timeout; allowance {:.3} ms for a slow clock, backward jumps and pauses)",
                    r.incarnation,
                    fmt_nanos(t_ns),
                    fmt_nanos(t_ns - r.since_ns),
                    fmt_nanos(r.since_ns),
                    r.accusers,
                    r.arms.iter().map(|&(at, c)| (fmt_nanos(at), c)).collect::<Vec<_>>(),
                    r.live_max,
                    fmt_nanos(deadline),
                    allowance as f64 / NANOS_PER_MS as f64,
                ));
            }
        }
        Ok(())
    }

    fn declared(
        &mut self,
        t_ns: u64,
        node: NodeId,
        subject: NodeId,
        incarnation: u32,
    ) -> Result<(), String> {
        let Some(r) = self.running.remove(&(node, subject)) else {
            return Err(format!(
                "n{node} declared n{subject} failed (incarnation {incarnation}) at {} on a timer, without suspecting it first (SWIM §4.2)",
                fmt_nanos(t_ns)
            ));
        };
        if r.incarnation != incarnation {
            return Err(format!(
                "n{node} declared n{subject} failed at incarnation {incarnation} at {} on a timer, but suspected it at incarnation {} (SWIM §4.2)",
                fmt_nanos(t_ns),
                r.incarnation
            ));
        }
        let Some(jumped) = self.jumped_ns(node, r.since_ns, t_ns) else {
            return Ok(());
        };
        self.judged += 1;
        let accusers = r.accusers.len().max(1) as u32;
        let floor = self.floor_ns(accusers, r.live_min);
        // The clock may run 0.1% fast and jump forward; a microsecond for rounding.
        let allowance = floor / 1_000 + jumped + jumped / 500 + us(1);
        let lasted = t_ns - r.since_ns;
        if lasted + allowance < floor {
            return Err(format!(
                "n{node} declared n{subject} failed (incarnation {incarnation}) at {}, {} after suspecting it at {}; with {accusers} independent accuser(s) known ({:?}) and at least {} members live in its view the suspicion lasts at least {:.3} ms (Lifeguard §IV-B, SWIM §4.2; allowance {:.3} ms for clock drift{})",
                fmt_nanos(t_ns),
                fmt_nanos(lasted),
                fmt_nanos(r.since_ns),
                r.accusers,
                r.live_min,
                floor as f64 / NANOS_PER_MS as f64,
                allowance as f64 / NANOS_PER_MS as f64,
                if jumped > 0 { " and forward clock jumps" } else { "" },
            ));
        }
        Ok(())
    }
}

impl Checker<GossipNode> for Suspicion {
    fn name(&self) -> &'static str {
        if self.ceiling {
            Self::CEILING
        } else {
            Self::FLOOR
        }
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        let name = if self.ceiling {
            "rule_suspicion_ceilings_judged"
        } else {
            "rule_suspicions_timed"
        };
        out.scalar(name, self.judged as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        self.probes.deliver(to, msg);
        self.delivered[to as usize] = true;
        let (list, pulled) = updates(msg);
        let heard = &mut self.heard[to as usize];
        heard.clear();
        for u in list.iter().filter(|u| u.subject != to) {
            match u.status {
                Status::Suspect => heard.push((u.subject, u.incarnation, u.by)),
                Status::Failed if pulled => heard.push((u.subject, u.incarnation, from)),
                _ => {}
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
        let delivered = std::mem::take(&mut self.delivered[i]);
        let closed = self.probes.observe(node, state.ticks());
        if self.ceiling {
            if state.gone().is_some() {
                // Stopped or left: it decides nothing more.
                self.running.retain(|&(observer, _), _| observer != node);
            } else {
                self.overdue(t_ns, node)?;
            }
        }
        let mut live_min = self.views.live(node);
        let mut live_max = live_min;
        let mut steps = std::mem::take(&mut self.steps);
        self.views.fold(node, state.journal(), &mut steps);
        let mut failed = Ok(());
        for s in &steps {
            live_min = live_min.min(s.live);
            live_max = live_max.max(s.live);
            if s.subject == node {
                continue;
            }
            let key = (node, s.subject);
            match s.after.status {
                Status::Suspect => {
                    self.running.insert(
                        key,
                        Running {
                            incarnation: s.after.incarnation,
                            since_ns: t_ns,
                            accusers: BTreeSet::new(),
                            live_min: s.live,
                            live_max: s.live,
                            arms: Vec::new(),
                        },
                    );
                }
                Status::Failed if !delivered && !self.ceiling => {
                    if failed.is_ok() {
                        failed = self.declared(t_ns, node, s.subject, s.after.incarnation);
                    }
                }
                _ => {
                    // The ceiling judged it at every handler while it ran: count it once.
                    if self.running.remove(&key).is_some() && self.ceiling {
                        self.judged += 1;
                    }
                }
            }
        }
        self.steps = steps;
        failed?;
        // Its own accusation: the probe this period closed went unanswered.
        if let Some(Some(p)) = closed {
            if !p.acked {
                if let Some(r) = self.running.get_mut(&(node, p.target)) {
                    r.accusers.insert(node);
                }
            }
        }
        for &(subject, inc, by) in &self.heard[i] {
            if let Some(r) = self.running.get_mut(&(node, subject)) {
                if r.incarnation == inc {
                    r.accusers.insert(by);
                }
            }
        }
        self.heard[i].clear();
        for (_, r) in self.running.range_mut((node, 0)..=(node, NodeId::MAX)) {
            r.live_min = r.live_min.min(live_min);
            r.live_max = r.live_max.max(live_max);
            // A new count of accusers re-arms the timer (the first arm counts one at least).
            let count = (r.accusers.len() as u32).max(1);
            if r.arms.last().is_none_or(|&(_, c)| c < count) {
                r.arms.push((t_ns, count));
            }
        }
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        match *f {
            Fault::ClockJump { node, delta_ms } => {
                let list = if delta_ms > 0 {
                    &mut self.jumps[node as usize]
                } else {
                    &mut self.delays[node as usize]
                };
                if list.len() < JUMPS_MAX {
                    list.push((t_ns, delta_ms.unsigned_abs() * NANOS_PER_MS));
                }
            }
            Fault::Pause { node, duration_ms } => {
                let delays = &mut self.delays[node as usize];
                if delays.len() < JUMPS_MAX {
                    delays.push((t_ns, duration_ms * NANOS_PER_MS));
                }
            }
            _ => {}
        }
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        let i = node as usize;
        self.views.reset(node);
        self.probes.reset(node);
        self.running.retain(|&(observer, _), _| observer != node);
        self.delivered[i] = false;
        self.heard[i].clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::gossip::lifeguard::{suspicion_min_ns, suspicion_timeout_ns};

    #[test]
    fn the_floor_is_lifeguards_formula_and_shrinks_with_accusers_not_members() {
        let p = Params::default();
        let f = Suspicion::floor(16, &p);
        for n in 1..=40 {
            for c in 1..=6 {
                let min = suspicion_min_ns(p.suspicion_mult, n, p.period_ns);
                let k = p.suspicion_mult - 2;
                let k = if n < k + 2 { 0 } else { k };
                let node = suspicion_timeout_ns(min, min * 6, k, c - 1);
                let got = f.floor_ns(c, n);
                assert!(got.abs_diff(node) <= 8, "n={n} c={c}: {got} vs {node}");
                assert!(f.floor_ns(c + 1, n) <= got && f.floor_ns(c, n + 1) >= got);
            }
        }
        // 16 members: min = 4·log₁₀16·50 ms ≈ 240.8 ms; one accuser waits 6× that, three min.
        assert_eq!(f.floor_ns(3, 16), 240_823_996);
        assert!(f.floor_ns(1, 16) > 1_440_000_000);
        // Fewer than K + 2 = 4 members: no confirmations expected, `min` (4·T) at once.
        assert_eq!(f.floor_ns(1, 3), 200_000_000);
        let mut off = p;
        off.lifeguard.dynamic_suspicion = false;
        let g = Suspicion::floor(16, &off);
        assert_eq!(g.floor_ns(1, 16), g.floor_ns(5, 16));
    }
}
