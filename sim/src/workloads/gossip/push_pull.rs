//! Anti-entropy and joining (`gossip-push-pull`): SWIM §4.1's "push-pull" as memberlist runs
//! it, which is also how a member joins and how Lifeguard repairs a healed partition.
//!
//! **Partners.** A member opens a push-pull exchange — a `PushPull` that asks for a reply —
//! only with *another* member it holds alive, suspect or failed (failed included: that is how
//! the two sides of a healed partition find each other again), never with itself or with a
//! member it holds left — a member that left is gone for good, and an exchange with it is an
//! exchange with nobody. The one exception is joining: a member contacts the seeds (ids
//! `0..seeds`) before it has heard of them.
//!
//! **Pace.** Outside joining, a member opens one exchange every `push_pull_periods` of its
//! protocol periods, from the handler that begins the period — never two closer than that,
//! and none skipped while it holds a partner.
//!
//! **Joining** (memberlist's `Join`): when a member boots (at the start, or with fresh memory
//! after a crash) it sends a `PushPull` asking for a reply to every seed other than itself, at
//! once; until some `PushPull` reaches it (an answer, or another member's exchange), it
//! retries the same every 5 of its periods `T` — no sooner, and not later than its clock,
//! pauses and a microsecond allow — and once one has reached it, it retries no more. The only
//! seed of a one-seed group has nobody to join. A member that stopped or left sends nothing
//! ([`super::departure`]) and is not judged here.

use super::msg::{GossipMsg, Status};
use super::node::GossipNode;
use super::params::Params;
use super::witness::{Step, Views};
use crate::check::Checker;
use crate::faults::Fault;
use crate::metrics::{Metrics, Traffic};
use crate::node::NodeId;
use crate::time::{fmt_nanos, ms, us};

/// Join retries come every this many periods.
pub const JOIN_RETRY_PERIODS: u64 = 5;

/// Pauses remembered per member, at most; past it the member's join is no longer timed.
const PAUSES_MAX: usize = 1 << 12;

/// One handler of one member, as its sends show it; judged when the next event comes.
#[derive(Debug, Default)]
struct Handler {
    node: NodeId,
    t_ns: u64,
    /// Its first (boot or reboot) handler.
    boot: bool,
    /// It began a protocol period.
    tick: bool,
    /// Seeds (other than itself) it opened an exchange with, as a bit set.
    seeds_asked: u64,
    /// Exchanges it opened.
    opened: u32,
}

/// A member's join, as its messages show it.
#[derive(Clone, Copy, Debug, Default)]
struct Join {
    /// A `PushPull` has reached it since it booted.
    heard: bool,
    /// When it last asked the seeds.
    asked_ns: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct PushPullPartners {
    views: Views,
    steps: Vec<Step>,
    seeds: u32,
    periods: u64,
    period_ns: u64,
    booted: Vec<bool>,
    gone: Vec<bool>,
    ticks: Vec<u64>,
    /// Per member: the period in which it last opened an exchange outside joining.
    last_ticks: Vec<Option<u64>>,
    join: Vec<Join>,
    pauses: Vec<Vec<(u64, u64)>>,
    handler: Option<Handler>,
    /// Exchanges judged.
    pub judged: u64,
    /// Join attempts judged (boots and retries).
    pub joins: u64,
}

impl PushPullPartners {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-push-pull";

    /// For a cluster of `n` running with `p`.
    pub fn new(n: u32, p: &Params) -> Self {
        PushPullPartners {
            views: Views::new(n),
            steps: Vec::new(),
            seeds: p.seeds.min(n),
            periods: u64::from(p.push_pull_periods.max(1)),
            period_ns: p.period_ns,
            booted: vec![false; n as usize],
            gone: vec![false; n as usize],
            ticks: vec![0; n as usize],
            last_ticks: vec![None; n as usize],
            join: vec![Join::default(); n as usize],
            pauses: vec![Vec::new(); n as usize],
            handler: None,
            judged: 0,
            joins: 0,
        }
    }

    /// The seeds other than `node`, as a bit set (seeds are ids below 64: a handful).
    fn seed_set(&self, node: NodeId) -> u64 {
        (0..self.seeds.min(64))
            .filter(|&s| s != node)
            .fold(0, |set, s| set | 1 << s)
    }

    /// Whether `node` holds some other member it may open an exchange with.
    fn has_partner(&self, node: NodeId) -> bool {
        (0..self.views.n()).any(|m| {
            m != node
                && matches!(
                    self.views.get(node, m).status,
                    Status::Alive | Status::Suspect | Status::Failed
                )
        })
    }

    /// Judge the last handler, now that all it sent has been seen.
    fn settle(&mut self) -> Result<(), String> {
        let Some(h) = self.handler.take() else {
            return Ok(());
        };
        let i = h.node as usize;
        let node = h.node;
        let seeds = self.seed_set(node);
        if h.boot {
            self.joins += 1;
            if h.seeds_asked != seeds {
                return Err(format!(
                    "n{node} booted at {} and opened exchanges with seeds {:?}; a member joins by asking every seed other than itself ({:?}) at once",
                    fmt_nanos(h.t_ns),
                    ids(h.seeds_asked),
                    ids(seeds)
                ));
            }
            self.join[i] = Join {
                heard: seeds == 0,
                asked_ns: h.t_ns,
            };
            return Ok(());
        }
        // A join retry asks every seed from a handler that began no period.
        if !h.tick && seeds != 0 && h.seeds_asked == seeds && h.opened == seeds.count_ones() {
            self.joins += 1;
            let j = self.join[i];
            if j.heard {
                return Err(format!(
                    "n{node} asked the seeds {:?} again at {}, though a push-pull had already reached it: a member retries its join only until it has heard from the group",
                    ids(seeds),
                    fmt_nanos(h.t_ns)
                ));
            }
            let soonest = (JOIN_RETRY_PERIODS * self.period_ns) * 999 / 1_000;
            if h.t_ns < j.asked_ns + soonest {
                return Err(format!(
                    "n{node} retried its join at {}, {} after asking the seeds at {}: retries come every {JOIN_RETRY_PERIODS} periods ({})",
                    fmt_nanos(h.t_ns),
                    fmt_nanos(h.t_ns - j.asked_ns),
                    fmt_nanos(j.asked_ns),
                    fmt_nanos(JOIN_RETRY_PERIODS * self.period_ns)
                ));
            }
            self.join[i].asked_ns = h.t_ns;
            return Ok(());
        }
        if h.tick {
            let now = self.ticks[i];
            if h.opened > 0 {
                if let Some(last) = self.last_ticks[i] {
                    if h.opened > 1 || now - last < self.periods {
                        return Err(format!(
                            "n{node} opened {} push-pull exchange(s) at {} in its period {now}, after one in period {last}: one exchange every {} periods",
                            h.opened,
                            fmt_nanos(h.t_ns),
                            self.periods
                        ));
                    }
                }
                self.last_ticks[i] = Some(now);
            } else if let Some(last) = self.last_ticks[i] {
                // Due every `periods` after the last; skipped only with nobody to ask.
                if (now - last).is_multiple_of(self.periods) && self.has_partner(node) {
                    return Err(format!(
                        "n{node} began its period {now} at {} without a push-pull exchange, its last in period {last}, though it holds members to exchange with: one exchange every {} periods",
                        fmt_nanos(h.t_ns),
                        self.periods
                    ));
                }
            }
        }
        Ok(())
    }

    /// A member that has not heard from the group must have retried its join by now.
    fn join_due(&self, t_ns: u64, node: NodeId) -> Result<(), String> {
        let i = node as usize;
        let j = self.join[i];
        if j.heard || self.pauses[i].len() >= PAUSES_MAX {
            return Ok(());
        }
        let due = JOIN_RETRY_PERIODS * self.period_ns;
        let paused: u64 = self.pauses[i]
            .iter()
            .filter(|&&(at, _)| at >= j.asked_ns)
            .map(|&(_, d)| d)
            .sum();
        let latest = j.asked_ns + due + due / 1_000 + paused + us(1);
        if t_ns > latest {
            return Err(format!(
                "n{node} asked the seeds {:?} at {} and no push-pull has reached it since, but it had not asked again by {}: a member retries its join every {JOIN_RETRY_PERIODS} periods until it hears from the group",
                ids(self.seed_set(node)),
                fmt_nanos(j.asked_ns),
                fmt_nanos(t_ns)
            ));
        }
        Ok(())
    }
}

fn ids(set: u64) -> Vec<NodeId> {
    (0..64).filter(|b| set >> b & 1 == 1).collect()
}

impl Checker<GossipNode> for PushPullPartners {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_push_pulls_judged", self.judged as f64);
        out.scalar("rule_joins_judged", self.joins as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        _from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        self.settle()?;
        if matches!(msg, GossipMsg::PushPull { .. }) {
            self.join[to as usize].heard = true;
        }
        Ok(())
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        let GossipMsg::PushPull { reply: true, .. } = *msg else {
            return Ok(());
        };
        self.judged += 1;
        let held = self.views.get(from, to).status;
        let partner = matches!(held, Status::Alive | Status::Suspect | Status::Failed);
        let joining = to < self.seeds && held == Status::Unknown;
        if to == from || !(partner || joining) {
            return Err(format!(
                "n{from} opened a push-pull exchange with n{to} at {}, but holds n{to} {held:?}: anti-entropy partners are other members held alive, suspect or failed (or, to join, a seed not yet heard of)",
                fmt_nanos(t_ns)
            ));
        }
        if let Some(h) = self.handler.as_mut().filter(|h| h.node == from) {
            h.opened += 1;
            if to < self.seeds.min(64) && to != from {
                h.seeds_asked |= 1 << to;
            }
        }
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.settle()?;
        let i = node as usize;
        self.views.fold(node, state.journal(), &mut self.steps);
        let boot = !std::mem::replace(&mut self.booted[i], true);
        if state.gone().is_some() {
            self.gone[i] = true;
        }
        if self.gone[i] {
            return Ok(());
        }
        if !boot {
            self.join_due(t_ns, node)?;
        }
        let ticks = state.ticks();
        let tick = ticks != self.ticks[i];
        self.ticks[i] = ticks;
        self.handler = Some(Handler {
            node,
            t_ns,
            boot,
            tick,
            ..Handler::default()
        });
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        if let Fault::Pause { node, duration_ms } = *f {
            let p = &mut self.pauses[node as usize];
            if p.len() < PAUSES_MAX {
                p.push((t_ns, ms(duration_ms)));
            }
        }
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        let i = node as usize;
        self.views.reset(node);
        self.booted[i] = false;
        self.ticks[i] = 0;
        self.last_ticks[i] = None;
        self.join[i] = Join::default();
        if self.handler.as_ref().is_some_and(|h| h.node == node) {
            self.handler = None;
        }
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        self.settle()
    }
}
