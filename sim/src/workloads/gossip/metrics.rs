//! Measurements of one run (a checker that never fails): how fast a crash-stop is detected and
//! disseminated, how often live members are wrongly declared failed, and what the protocol
//! costs per member per period. They land in `RunOutcome::metrics` and, summed over seeds, in
//! a sweep's summary.
//!
//! | metric | meaning |
//! |---|---|
//! | `stops` | crash-stops (`Stop` operations) measured |
//! | `first_suspect_periods` | stop → first member suspects it (SWIM's "first detection"), mean, in periods `T` |
//! | `first_failed_periods` | stop → first member declares it failed, mean |
//! | `all_failed_periods` | stop → every member up since before the stop holds it failed (full dissemination), mean over stops that got there |
//! | `false_positives` | "failed" declarations about members that were up (paused ones included: slow is not dead) |
//! | `false_suspicions` | suspicions of members that were up |
//! | `fp_per_1k_node_periods` | `false_positives` per 1,000 member-periods |
//! | `msgs_per_node_period`, `bytes_per_node_period` | all sends (as the world counted them), per member per period |
//! | `probe_bytes_per_node_period` | the same without push-pull tables (the part SWIM says is independent of group size) |
//! | `awareness_max_seen` | the highest local health score any member reached |
//!
//! It also counts the interesting events the workload declares ([`SOMETIMES`], see
//! [`crate::sometimes`]): a suspicion refuted, a crash-stop detected, a graceful leave, a
//! member's health score raised, a restart.

use std::collections::BTreeMap;

use super::msg::{Status, PUSH_PULL};
use super::node::{Gone, GossipNode, Note};
use super::truth::{Life, Truth};
use crate::check::Checker;
use crate::faults::Fault;
use crate::metrics::{self as m, Traffic};
use crate::node::NodeId;
use crate::sometimes::Sometimes;

fn saw(events: &mut BTreeMap<&'static str, u64>, event: &'static str) {
    *events.entry(event).or_default() += 1;
}

/// A member was suspected (rightly or not).
pub const SUSPECTED: &str = "member-suspected";
/// A member refuted a suspicion about itself with a newer incarnation.
pub const REFUTED: &str = "suspicion-refuted";
/// A member declared a crash-stopped member failed.
pub const STOP_DETECTED: &str = "crash-stop-detected";
/// A member left gracefully.
pub const LEFT: &str = "member-left";
/// Lifeguard's local health awareness slowed a member down (score above 0).
pub const AWARENESS_RAISED: &str = "awareness-raised";
/// A member booted again after a crash.
pub const RESTARTED: &str = "member-restarted";

/// What the gossip workload declares (see [`crate::sometimes`]).
pub const SOMETIMES: &[Sometimes] = &[
    Sometimes::new(SUSPECTED, "a member was suspected"),
    Sometimes::new(
        REFUTED,
        "a suspected member refuted it with a newer incarnation",
    ),
    Sometimes::new(STOP_DETECTED, "a crash-stopped member was declared failed"),
    Sometimes::new(LEFT, "a member left gracefully"),
    Sometimes::new(
        AWARENESS_RAISED,
        "Lifeguard's health score slowed a member down",
    ),
    Sometimes::new(RESTARTED, "a member booted again after a crash"),
];

#[derive(Clone, Copy, Debug, Default)]
struct Stop {
    at_ns: u64,
    first_suspect_ns: Option<u64>,
    first_failed_ns: Option<u64>,
    all_failed_ns: Option<u64>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Metrics {
    truth: Truth,
    period_ns: u64,
    stops: BTreeMap<NodeId, Stop>,
    false_positives: u64,
    false_suspicions: u64,
    last_ns: u64,
    awareness_max: u32,
    events: BTreeMap<&'static str, u64>,
}

impl Metrics {
    /// The (never failing) checker's name.
    pub const NAME: &'static str = "gossip-metrics";

    /// For a cluster of `n` with protocol period `period_ns`.
    pub fn new(n: u32, period_ns: u64) -> Self {
        Metrics {
            truth: Truth::new(n),
            period_ns,
            stops: BTreeMap::new(),
            false_positives: 0,
            false_suspicions: 0,
            last_ns: 0,
            awareness_max: 0,
            events: BTreeMap::new(),
        }
    }

    fn all_failed(&self, x: NodeId, at_ns: u64) -> bool {
        (0..self.truth.n()).all(|y| {
            y == x
                || self.truth.life(y) != Life::Up
                || self.truth.since_ns(y) > at_ns
                || matches!(self.truth.view(y, x), Status::Failed | Status::Left)
        })
    }
}

impl Checker<GossipNode> for Metrics {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.last_ns = t_ns;
        if state.awareness() > self.awareness_max {
            saw(&mut self.events, AWARENESS_RAISED);
        }
        self.awareness_max = self.awareness_max.max(state.awareness());
        let was_up = self.truth.life(node) == Life::Up;
        let notes = self.truth.observe(t_ns, node, state);
        for n in notes {
            match *n {
                Note::Refuted => saw(&mut self.events, REFUTED),
                Note::Gone(Gone::Left) if was_up => saw(&mut self.events, LEFT),
                Note::Gone(Gone::Stopped) if was_up => {
                    self.stops.insert(
                        node,
                        Stop {
                            at_ns: t_ns,
                            ..Stop::default()
                        },
                    );
                }
                Note::View {
                    subject, status, ..
                } if subject != node => {
                    let up = self.truth.life(subject) == Life::Up;
                    match status {
                        Status::Suspect if up => self.false_suspicions += 1,
                        Status::Failed if up => self.false_positives += 1,
                        _ => {}
                    }
                    if status == Status::Suspect {
                        saw(&mut self.events, SUSPECTED);
                    }
                    let Some(s) = self.stops.get(&subject).copied() else {
                        continue;
                    };
                    if status == Status::Failed && s.first_failed_ns.is_none() {
                        saw(&mut self.events, STOP_DETECTED);
                    }
                    let mut s2 = s;
                    if matches!(status, Status::Suspect | Status::Failed) {
                        s2.first_suspect_ns.get_or_insert(t_ns);
                    }
                    if status == Status::Failed {
                        s2.first_failed_ns.get_or_insert(t_ns);
                        if s2.all_failed_ns.is_none() && self.all_failed(subject, s.at_ns) {
                            s2.all_failed_ns = Some(t_ns);
                        }
                    }
                    self.stops.insert(subject, s2);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, f: &Fault) {
        self.truth.fault(t_ns, f);
    }

    fn restarted(&mut self, t_ns: u64, node: NodeId) {
        self.truth.restarted(t_ns, node);
        saw(&mut self.events, RESTARTED);
    }

    fn metrics(&self, traffic: &Traffic, out: &mut m::Metrics) {
        for (name, n) in &self.events {
            out.happened(*name, *n);
        }
        let sent = traffic.total();
        let push_pull_bytes = traffic.kind(PUSH_PULL).bytes;
        let named = || -> Vec<(&'static str, f64)> {
            let periods = |ns: u64| ns as f64 / self.period_ns as f64;
            let mean = |f: &dyn Fn(&Stop) -> Option<u64>| {
                let v: Vec<f64> = self
                    .stops
                    .values()
                    .filter_map(|s| f(s).map(|t| periods(t - s.at_ns)))
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let node_periods = f64::from(self.truth.n()) * periods(self.last_ns).max(1.0);
            let mut out = vec![
                ("stops", self.stops.len() as f64),
                ("false_positives", self.false_positives as f64),
                ("false_suspicions", self.false_suspicions as f64),
                (
                    "fp_per_1k_node_periods",
                    self.false_positives as f64 * 1_000.0 / node_periods,
                ),
                ("msgs_per_node_period", sent.sent as f64 / node_periods),
                ("bytes_per_node_period", sent.bytes as f64 / node_periods),
                (
                    "probe_bytes_per_node_period",
                    (sent.bytes - push_pull_bytes) as f64 / node_periods,
                ),
                ("awareness_max_seen", f64::from(self.awareness_max)),
            ];
            for (name, v) in [
                ("first_suspect_periods", mean(&|s| s.first_suspect_ns)),
                ("first_failed_periods", mean(&|s| s.first_failed_ns)),
                ("all_failed_periods", mean(&|s| s.all_failed_ns)),
            ] {
                if let Some(v) = v {
                    out.push((name, v));
                }
            }
            out
        };
        for (k, v) in named() {
            out.scalar(k, v);
        }
    }
}
