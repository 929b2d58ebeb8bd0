//! Every update reaches every member in time (`gossip-dissemination`).
//!
//! SWIM (Das, Gupta & Motivala, DSN 2002) §4.1: membership updates ride, infection-style, on
//! the failure detector's own pings and acks; an update piggybacked `λ·log n` times by each
//! member that learns it reaches every member with high probability within `O(log n)`
//! protocol periods. This checker holds the protocol to a bound of that shape.
//!
//! **What is tracked.** An *update* is a belief about a member `x` — `(status, incarnation)` —
//! that no member held before: a suspicion raised, a refutation, a failure declared, a join,
//! a leave. SWIM's precedence (memberlist's, [`super::member`]) orders the beliefs about `x`
//! totally, by incarnation and then Alive < Suspect < Failed < Left; an update is *created*
//! when some member's view of `x` first rises above every belief any member held about `x`.
//! An observer `y` has *learned* it once `y` holds it or anything above it (a newer
//! incarnation, a failure after the suspicion). `x` itself is not asked: it refutes news
//! about itself rather than holding it.
//!
//! **The bound.** Every member that is up when the update is created (and stays up: see
//! below) learns it within `K = G + P` protocol periods of *every* member — the deadline is
//! the moment each member up has begun `K` periods of its own since the update was created —
//! plus, for a failure, the longest suspicion `S`:
//!
//! ```text
//! K = G + P periods, then S (failures only; plus 0.1 % and 1 ms for clock drift)
//! G = limit · ⌈n / piggyback_max⌉ + ⌈log₂ n⌉     (infection-style dissemination)
//! P = push_pull_periods + 1                       (anti-entropy, the backstop)
//! ```
//!
//! - `G`: a member sends each queued update on its next `limit = λ·⌈log₁₀(n+1)⌉` messages,
//!   at least one a period (its ping), least-sent first, `piggyback_max` to a message — so with
//!   at most `n` updates queued (one per member) it is done with this one within
//!   `limit·⌈n/piggyback_max⌉` of its periods. SWIM's analysis (§4.1, after Bailey's epidemic
//!   model) is that, over those retransmissions, the members that know it double at least
//!   every period while few know it, so `⌈log₂ n⌉` periods of hops more reach all but a
//!   vanishing fraction — "with high probability", not always.
//! - `P`: the rest — members the epidemic missed — is anti-entropy's: every member swaps its
//!   whole table with a random member it knows every `push_pull_periods` of its periods, one
//!   more for the exchange to land. That is the slack the "with high probability" needs, and
//!   it is derived, not tuned: a member the infection missed learns at its next push-pull
//!   with any member that did, which after `G` is nearly every one.
//! - `S`: anti-entropy carries a failure only as a suspicion (each member decides failure
//!   itself, [`super::node`]), so a failure learned that way takes one more suspicion timeout.
//! - Periods are counted as the members really began them (their ticks), not as multiples of
//!   `T`: Lifeguard's local health awareness stretches a member's period by its score plus
//!   one, and a member's clock may drift; counting each member's own periods takes both as
//!   they were: the update's deadline is when the last member up begins its `K`-th period
//!   since the update was created.
//!
//! **When the bound is a promise.** Only in a window in which nothing loses, delays or
//! withholds messages: no message faults in force (loss, reordering, slow links, buggify —
//! they act all through the fault period, so there only in a plan without them; the quiet
//! period is free of them), a prompt network ([`super::prompt`]), and no partition, crash,
//! pause or departure (`Stop`, `Leave`: a member that goes silent takes the updates it was
//! still to send with it) from the update's creation to its deadline. An update whose window
//! a fault touches is excused; so is one created while a fault is still in force. The
//! deadline counts from creation.
//!
//! Caught by it: a member that piggybacks each update once instead of `limit` times — the
//! epidemic dies out at once and every update waits for anti-entropy's random pairings
//! (`--set bug=piggyback-once`, the mutant `GossipNode::limit -> 1`).
//!
//! **How tight.** At the defaults (`n = 16`, `λ = 3`, `piggyback_max = 16`,
//! `push_pull_periods = 10`) `K = 6 + 4 + 11 = 21`. Over seeds `0..300` of the default sweep
//! (1,810 updates judged) the correct protocol's slowest full dissemination took 5 periods of
//! its slowest member (a failure: 1, before its `S`); with `piggyback-once` they spread over
//! 2–21+ periods and 8 of the 300 seeds overran `K` (the first, seed 74). Metrics:
//! `dissemination_judged`, `dissemination_slowest_periods` (virtual time in `T`),
//! `dissemination_slowest_periods_counted` and `..._failure_periods_counted` (periods of the
//! slowest member, as judged).

use super::msg::Status;
use super::node::{GossipNode, Note};
use super::params::Params;
use super::queue::retransmit_limit;
use super::truth::{Life, Truth};
use crate::check::Checker;
use crate::config::Resolved;
use crate::faults::{Fault, FaultPlan};
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::{fmt_nanos, ms};

/// A belief's place in SWIM's precedence: incarnation, then Alive < Suspect < Failed < Left.
/// `None` for Unknown (below everything).
fn rank(status: Status, incarnation: u32) -> Option<(u32, u8)> {
    let r = match status {
        Status::Unknown => return None,
        Status::Alive => 0,
        Status::Suspect => 1,
        Status::Failed => 2,
        Status::Left => 3,
    };
    Some((incarnation, r))
}

/// The newest update about one member.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    key: (u32, u8),
    status: Status,
    created_ns: u64,
    /// Who created it.
    by: NodeId,
    /// Judged: created in a clean window, untouched by faults since, not yet learned by all.
    judged: bool,
    /// Observers still to learn it (when judged).
    remaining: u32,
}

/// An update judged, waiting for its `K` periods.
#[derive(Clone, Debug)]
struct Pending {
    subject: NodeId,
    created_ns: u64,
    /// Each member's periods begun when it was created.
    ticks: Vec<u64>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Dissemination {
    truth: Truth,
    n: u32,
    /// `key[observer * n + subject]`: what the observer holds, ranked.
    key: Vec<Option<(u32, u8)>>,
    latest: Vec<Option<Tracked>>,
    /// Updates judged, in creation order — stale once `latest` moved on.
    pending: std::collections::VecDeque<Pending>,
    /// Members up still to begin their `K`-th period since the first of `pending` was created
    /// (`None`: not counted yet).
    front_need: Option<u32>,
    /// Failures whose `K` periods passed, waiting out `S`: (subject, created, deadline).
    suspicions: std::collections::VecDeque<(NodeId, u64, u64)>,
    period_ns: u64,
    /// `K = G + P`, and the parts of `G`.
    limit_n: u32,
    piggyback_max: u32,
    hops: u64,
    push_pull_periods: u64,
    suspicion_max_ns: u64,
    /// Per member: periods begun since it booted.
    ticks: Vec<u64>,
    /// Whether message faults act through the fault period (they stop at its end).
    continuous: bool,
    /// Whether the configured network is prompt.
    prompt: bool,
    fault_end_ns: u64,
    /// A discrete fault is in force until then.
    dirty_until_ns: u64,
    /// Updates judged, and the slowest full dissemination seen, in periods (×100).
    pub judged: u64,
    slowest_centi_periods: u64,
    /// The most periods (of the slowest member) a full dissemination took: other updates,
    /// failures.
    slowest_periods: [u64; 2],
}

impl Dissemination {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-dissemination";

    /// For a cluster of `n` running with `p`; `prompt` when the configured network is.
    pub fn new(n: u32, p: &Params, prompt: bool) -> Self {
        Dissemination {
            truth: Truth::new(n),
            n,
            key: vec![None; n as usize * n as usize],
            latest: vec![None; n as usize],
            pending: std::collections::VecDeque::new(),
            suspicions: std::collections::VecDeque::new(),
            period_ns: p.period_ns,
            limit_n: retransmit_limit(p.lambda, n.max(1)),
            piggyback_max: p.piggyback_max,
            hops: u64::from(n.max(2).next_power_of_two().trailing_zeros()),
            push_pull_periods: u64::from(p.push_pull_periods),
            suspicion_max_ns: p.suspicion_max_ns(n),
            continuous: true,
            prompt,
            fault_end_ns: 0,
            dirty_until_ns: u64::MAX,
            front_need: None,
            ticks: vec![0; n as usize],
            judged: 0,
            slowest_centi_periods: 0,
            slowest_periods: [0; 2],
        }
    }

    /// The suspicion timeout a failure may wait on top, with slack for clock drift.
    fn suspicion_ns(&self) -> u64 {
        self.suspicion_max_ns + self.suspicion_max_ns / 1_000 + ms(1)
    }

    /// Whether a window opening at `t_ns` is clean.
    fn clean_at(&self, t_ns: u64) -> bool {
        self.prompt
            && t_ns >= self.dirty_until_ns
            && (!self.continuous || t_ns >= self.fault_end_ns)
    }

    /// A fault touches every open window: excuse them all.
    fn excuse_all(&mut self) {
        for t in self.latest.iter_mut().flatten() {
            t.judged = false;
        }
        self.pending.clear();
        self.front_need = None;
        self.suspicions.clear();
    }

    /// `node` ran a handler and has begun `ticks` periods since it booted.
    fn tick(&mut self, node: NodeId, ticks: u64) {
        let i = node as usize;
        let before = self.ticks[i];
        self.ticks[i] = ticks;
        let k = self.periods();
        if let (Some(need), Some(p)) = (self.front_need, self.pending.front()) {
            let since = p.ticks[i];
            if before.saturating_sub(since) < k && ticks.saturating_sub(since) >= k {
                self.front_need = Some(need.saturating_sub(1));
            }
        }
    }

    /// Periods the slowest member up has begun since `p` was created.
    fn periods_since(&self, p: &Pending) -> u64 {
        (0..self.n)
            .filter(|&y| self.truth.life(y) == Life::Up)
            .map(|y| self.ticks[y as usize].saturating_sub(p.ticks[y as usize]))
            .min()
            .unwrap_or(0)
    }

    /// Observers of an update about `subject`: members up (since before it), not `subject`.
    fn observer(&self, y: NodeId, subject: NodeId) -> bool {
        y != subject && self.truth.life(y) == Life::Up
    }

    /// `node`'s view of `subject` became `status` at `incarnation`.
    fn view(&mut self, t_ns: u64, node: NodeId, subject: NodeId, status: Status, inc: u32) {
        let n = self.n as usize;
        let k = rank(status, inc);
        self.key[node as usize * n + subject as usize] = k;
        let Some(k) = k else { return };
        let s = subject as usize;
        match self.latest[s] {
            Some(mut t) if k <= t.key => {
                if t.judged && k >= t.key && self.observer(node, subject) {
                    t.remaining = t.remaining.saturating_sub(1);
                    if t.remaining == 0 {
                        t.judged = false;
                        let took = t_ns - t.created_ns;
                        let centi = took * 100 / self.period_ns.max(1);
                        self.slowest_centi_periods = self.slowest_centi_periods.max(centi);
                        let slot = usize::from(t.status == Status::Failed);
                        if let Some(p) = self
                            .pending
                            .iter()
                            .find(|p| p.subject == subject && p.created_ns == t.created_ns)
                        {
                            let periods = self.periods_since(p);
                            self.slowest_periods[slot] = self.slowest_periods[slot].max(periods);
                        }
                    }
                    self.latest[s] = Some(t);
                }
            }
            _ => {
                // New news about `subject`: nobody held anything this high.
                let clean = self.clean_at(t_ns);
                let remaining = if clean {
                    (0..self.n)
                        .filter(|&y| {
                            self.observer(y, subject) && self.key[y as usize * n + s] < Some(k)
                        })
                        .count() as u32
                } else {
                    0
                };
                let judged = clean && remaining > 0;
                self.latest[s] = Some(Tracked {
                    key: k,
                    status,
                    created_ns: t_ns,
                    by: node,
                    judged,
                    remaining,
                });
                if judged {
                    self.judged += 1;
                    self.pending.push_back(Pending {
                        subject,
                        created_ns: t_ns,
                        ticks: self.ticks.clone(),
                    });
                }
            }
        }
    }

    /// `K`, in periods.
    fn periods(&self) -> u64 {
        let gossip = if self.piggyback_max == 0 {
            0 // Nothing rides on probes: anti-entropy alone.
        } else {
            u64::from(self.limit_n) * u64::from(self.n.div_ceil(self.piggyback_max)) + self.hops
        };
        gossip + self.push_pull_periods + 1
    }

    /// The update about `subject` created at `created`, if it is still judged.
    fn open(&self, subject: NodeId, created: u64) -> Option<Tracked> {
        self.latest[subject as usize].filter(|t| t.created_ns == created && t.judged)
    }

    /// Judge every update whose deadline passed by `t_ns`.
    fn judge(&mut self, t_ns: u64) -> Result<(), String> {
        let k = self.periods();
        while let Some(p) = self.pending.front() {
            let (subject, created) = (p.subject, p.created_ns);
            let Some(t) = self.open(subject, created) else {
                self.pending.pop_front();
                self.front_need = None;
                continue;
            };
            let need = match self.front_need {
                Some(need) => need,
                None => {
                    let need = (0..self.n)
                        .filter(|&y| {
                            self.truth.life(y) == Life::Up
                                && self.ticks[y as usize].saturating_sub(p.ticks[y as usize]) < k
                        })
                        .count() as u32;
                    self.front_need = Some(need);
                    need
                }
            };
            if need > 0 {
                break;
            }
            self.pending.pop_front();
            self.front_need = None;
            if t.status == Status::Failed {
                let deadline = t_ns + self.suspicion_ns();
                self.suspicions.push_back((subject, created, deadline));
            } else {
                self.verdict(t_ns, subject, t, "")?;
            }
        }
        while let Some(&(subject, created, deadline)) = self.suspicions.front() {
            let Some(t) = self.open(subject, created) else {
                self.suspicions.pop_front();
                continue;
            };
            if t_ns < deadline {
                break;
            }
            self.suspicions.pop_front();
            let s = format!(
                " and then the longest suspicion, {}",
                fmt_nanos(self.suspicion_ns())
            );
            self.verdict(t_ns, subject, t, &s)?;
        }
        Ok(())
    }

    /// Every observer must have learned `t` by now.
    fn verdict(
        &mut self,
        t_ns: u64,
        subject: NodeId,
        t: Tracked,
        extra: &str,
    ) -> Result<(), String> {
        let n = self.n as usize;
        let missing: Vec<NodeId> = (0..self.n)
            .filter(|&y| {
                self.observer(y, subject)
                    && self.key[y as usize * n + subject as usize] < Some(t.key)
            })
            .collect();
        let Some(&y) = missing.first() else {
            return Ok(());
        };
        let (inc, _) = t.key;
        Err(format!(
            "n{} created the update n{subject} {:?} (incarnation {inc}) at {}, but at {} n{y} (and {} other member(s) up) had still not learned it or anything newer: every member up has begun {} periods since{extra} (SWIM §4.1: {} of piggybacking and epidemic hops, {} of anti-entropy), and no fault touched the window",
            t.by,
            t.status,
            fmt_nanos(t.created_ns),
            fmt_nanos(t_ns),
            missing.len() - 1,
            self.periods(),
            self.periods() - self.push_pull_periods - 1,
            self.push_pull_periods + 1,
        ))
    }
}

impl Checker<GossipNode> for Dissemination {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn begin(&mut self, plan: &FaultPlan, run: &Resolved) {
        self.continuous = plan.net.drop > 0.0
            || plan.net.reorder > 0.0
            || plan.net.slow_link_factor_max > 1
            || plan.buggify;
        self.fault_end_ns = run.fault_end_ns;
        self.dirty_until_ns = 0;
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("dissemination_judged", self.judged as f64);
        out.scalar(
            "dissemination_slowest_periods",
            self.slowest_centi_periods as f64 / 100.0,
        );
        out.scalar(
            "dissemination_slowest_periods_counted",
            self.slowest_periods[0] as f64,
        );
        out.scalar(
            "dissemination_slowest_failure_periods_counted",
            self.slowest_periods[1] as f64,
        );
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let notes = self.truth.observe(t_ns, node, state);
        for note in notes {
            match *note {
                Note::View {
                    subject,
                    status,
                    incarnation,
                } => self.view(t_ns, node, subject, status, incarnation),
                Note::Gone(_) => {
                    self.excuse_all();
                    self.dirty_until_ns = self.dirty_until_ns.max(t_ns);
                }
                Note::Refuted => {}
            }
        }
        self.tick(node, state.ticks());
        self.judge(t_ns)
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        self.truth.fault(t_ns, f);
        let until = match *f {
            Fault::Partition { duration_ms, .. } => t_ns + ms(duration_ms),
            Fault::Crash { down_ms, .. } => t_ns + ms(down_ms),
            Fault::Pause { duration_ms, .. } => t_ns + ms(duration_ms),
            Fault::ClockJump { .. } => return,
        };
        self.excuse_all();
        self.dirty_until_ns = self.dirty_until_ns.max(until);
    }

    fn restarted(&mut self, t_ns: u64, node: NodeId) {
        self.truth.restarted(t_ns, node);
        let n = self.n as usize;
        let i = node as usize;
        self.key[i * n..(i + 1) * n].fill(None);
        self.ticks[i] = 0;
        self.excuse_all();
        self.dirty_until_ns = self.dirty_until_ns.max(t_ns);
    }

    fn faults_end(&mut self, t_ns: u64) {
        // Partitions heal, pauses end, crashed members restart now (each restart excuses
        // what is open again).
        self.excuse_all();
        self.dirty_until_ns = t_ns;
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        self.judge(t_ns)
    }
}
