//! Request life (`quorum-request-life`): every request a coordinator starts ends within the
//! deadlines the protocol gives it, and gives up no sooner than they allow.
//!
//! The protocol's own rule (`nodes/src/quorum/coordinator.rs`, [`Params::phase_tries`]): a
//! request runs a fetch phase and, for a put or delete, a store phase; each phase arms a
//! deadline of [`Params::timeout_ns`] on the coordinator's clock when it starts and at each
//! deadline it survives, and fails once `phase_tries` deadlines passed without its quorum. So
//! every phase
//! - **ends** (reaches its quorum, gives up, or — a get already answered — hands over to read
//!   repair) within `phase_tries` deadlines, unless its coordinator crashes (which ends every
//!   request it held); a request with no deadline armed, or one that never counts its tries,
//!   stays open for ever;
//! - **gives up** only after all `phase_tries` deadlines: a phase that fails at its first
//!   deadline fails operations that one more resend would have saved (Dynamo §4.5: the
//!   coordinator waits out its timeout before it declares a replica unreachable). The one
//!   exception is the protocol's own: a put whose coordinator has no open store (a disk error,
//!   reopening) fails at once rather than hand out a dot below its old ones.
//!
//! The bounds come from the parameters alone ([`phase_bounds_ns`]). The checker takes the
//! requests from the coordinator's state after each of its handlers (when one appears, when it
//! moves to its store phase, when it is gone) and learns that a request gave up from the client
//! library: its operation is waiting out a backoff, or is answered `Failed`, in the same step.
//! A paused coordinator's timers wait for the pause to end, so a phase's upper bound grows by
//! the pauses of its coordinator that began during it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::Checker;
use crate::clock::DRIFT_PPM_MAX;
use crate::faults::Fault;
use crate::node::{NodeId, OpId};
use crate::time::{fmt_nanos, ms};
use crate::workloads::quorum::coordinator::Phase;
use crate::workloads::quorum::msg::Reply;
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::params::Params;

/// How long one phase of a request lasts in world time, at least if it gives up and at most in
/// any case: `(min, max)` nanoseconds.
///
/// Why: a phase is `phase_tries` deadlines of `timeout_ns` each, one after the other (each armed
/// when the one before it fired), and the coordinator's timers run on its local clock. The world
/// turns a local delay into world time through the node's drift (`NodeClock::to_global_delay`:
/// `local · 10⁶ / (10⁶ + drift_ppm)`, rounded down), and draws drift within
/// ±[`DRIFT_PPM_MAX`]; so one deadline lasts between `timeout · 10⁶ / (10⁶ + max)` (the fastest
/// clock, rounded down as the world rounds) and `timeout · 10⁶ / (10⁶ − max)` (the slowest,
/// rounded up). Clock jumps move no timer (a timer is a duration), and skew does not change a
/// duration. Pauses are not in these bounds: the checker adds them to the upper one.
pub fn phase_bounds_ns(p: &Params) -> (u64, u64) {
    let local = u128::from(p.timeout_ns) * 1_000_000;
    let max_ppm = DRIFT_PPM_MAX as u128;
    let fastest = local / (1_000_000 + max_ppm);
    let slowest = local.div_ceil(1_000_000 - max_ppm);
    let tries = u128::from(p.phase_tries);
    let clamp = |x: u128| u64::try_from(x).unwrap_or(u64::MAX);
    (clamp(fastest * tries), clamp(slowest * tries))
}

/// A request being watched.
#[derive(Clone, Debug)]
struct Watched {
    op_id: OpId,
    client_try: u32,
    store: bool,
    /// When the phase it is in began.
    since_ns: u64,
}

/// A request that ended in the last step watched: (node, request, what it was).
type Ended = (NodeId, u64, Watched);

/// See the module docs.
#[derive(Debug)]
pub struct RequestLife {
    min_ns: u64,
    max_ns: u64,
    tries: u32,
    timeout_ns: u64,
    /// Per coordinator: its open requests.
    live: BTreeMap<NodeId, BTreeMap<u64, Watched>>,
    /// Per node: the pauses that struck it, (start, end).
    pauses: BTreeMap<NodeId, Vec<(u64, u64)>>,
    /// When the fault period ended (every pause ends then too).
    faults_end_ns: u64,
    /// The requests that ended in the step just observed, to be matched by a `Failed` reply
    /// to their operation in the same step.
    ended: Vec<Ended>,
    ended_at_ns: u64,
}

impl RequestLife {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-request-life";

    /// For a run with parameters `p`.
    pub fn new(p: &Arc<Params>) -> Self {
        let (min_ns, max_ns) = phase_bounds_ns(p);
        RequestLife {
            min_ns,
            max_ns,
            tries: p.phase_tries,
            timeout_ns: p.timeout_ns,
            live: BTreeMap::new(),
            pauses: BTreeMap::new(),
            faults_end_ns: u64::MAX,
            ended: Vec::new(),
            ended_at_ns: 0,
        }
    }

    /// World time `node` spent paused since `since_ns` (an upper bound: overlapping pauses
    /// count twice).
    fn paused_since(&self, node: NodeId, since_ns: u64) -> u64 {
        self.pauses.get(&node).map_or(0, |v| {
            v.iter()
                .filter(|&&(start, _)| start >= since_ns)
                .map(|&(start, end)| end.min(self.faults_end_ns).saturating_sub(start))
                .sum()
        })
    }

    fn phase_name(store: bool) -> &'static str {
        if store {
            "store"
        } else {
            "fetch"
        }
    }

    fn overdue(&self, t_ns: u64, node: NodeId, req: u64, w: &Watched) -> Result<(), String> {
        let paused = self.paused_since(node, w.since_ns);
        let due = w
            .since_ns
            .saturating_add(self.max_ns)
            .saturating_add(paused);
        if t_ns <= due {
            return Ok(());
        }
        Err(format!(
            "n{node}'s request {req} (op {}, client try {}) has been in its {} phase since {}, past {} deadlines of {} ms local time (at most {} of world time{}): it should have reached its quorum or given up by {}",
            w.op_id,
            w.client_try,
            Self::phase_name(w.store),
            fmt_nanos(w.since_ns),
            self.tries,
            self.timeout_ns as f64 / ms(1) as f64,
            fmt_nanos(self.max_ns),
            if paused > 0 { format!(", + {} paused", fmt_nanos(paused)) } else { String::new() },
            fmt_nanos(due),
        ))
    }

    /// Request `req` of `node`, in the phase `w` describes, gave up at `t_ns`.
    fn gave_up(&self, t_ns: u64, node: NodeId, req: u64, w: &Watched) -> Result<(), String> {
        let waited = t_ns.saturating_sub(w.since_ns);
        if waited >= self.min_ns {
            return Ok(());
        }
        Err(format!(
            "n{node}'s request {req} (op {}, client try {}) gave its {} phase up at {} after {} — before its {} deadlines of {} ms local time could pass (at least {} of world time)",
            w.op_id,
            w.client_try,
            Self::phase_name(w.store),
            fmt_nanos(t_ns),
            fmt_nanos(waited),
            self.tries,
            self.timeout_ns as f64 / ms(1) as f64,
            fmt_nanos(self.min_ns),
        ))
    }

    fn forget(&mut self, node: NodeId) {
        self.live.remove(&node);
        self.ended.retain(|e| e.0 != node);
    }
}

impl Checker<QuorumNode> for RequestLife {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &QuorumNode) -> Result<(), String> {
        self.ended.clear();
        self.ended_at_ns = t_ns;
        let reqs = state.requests();
        let mut live = self.live.remove(&node).unwrap_or_default();
        // Gone since the last step: ended (a quorum, read repair, or giving up).
        let mut gone = Vec::new();
        live.retain(|req, w| {
            if reqs.contains_key(req) {
                true
            } else {
                gone.push((*req, w.clone()));
                false
            }
        });
        // New, or in a new phase.
        for (&req, rq) in reqs {
            let store = matches!(rq.phase, Phase::Store { .. });
            match live.get_mut(&req) {
                Some(w) if w.store == store => {}
                Some(w) => {
                    w.store = store;
                    w.since_ns = t_ns;
                }
                None => {
                    live.insert(
                        req,
                        Watched {
                            op_id: rq.op_id,
                            client_try: rq.client_try,
                            store,
                            since_ns: t_ns,
                        },
                    );
                }
            }
        }
        let mut result = Ok(());
        for (req, w) in &live {
            result = result.and(self.overdue(t_ns, node, *req, w));
        }
        for (req, w) in gone {
            // A put without an open store fails at once, by the protocol's own rule.
            if !state.is_serving() {
                continue;
            }
            if state.backing_off(w.op_id) {
                // Gave up; the client library waits before its next try.
                result = result.and(self.gave_up(t_ns, node, req, &w));
            } else {
                // Gave up if its operation is answered `Failed` in this same step.
                self.ended.push((node, req, w));
            }
        }
        self.live.insert(node, live);
        result
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        if *reply != Reply::Failed || t_ns != self.ended_at_ns {
            return Ok(());
        }
        let Some(i) = self.ended.iter().position(|e| e.2.op_id == op_id) else {
            return Ok(());
        };
        let (node, req, w) = self.ended.swap_remove(i);
        self.gave_up(t_ns, node, req, &w)
    }

    fn fault(&mut self, t_ns: u64, fault: &Fault) {
        match *fault {
            Fault::Crash { node, .. } => self.forget(node),
            Fault::Pause { node, duration_ms } => self
                .pauses
                .entry(node)
                .or_default()
                .push((t_ns, t_ns.saturating_add(ms(duration_ms)))),
            _ => {}
        }
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.forget(node);
    }

    fn faults_end(&mut self, t_ns: u64) {
        self.faults_end_ns = t_ns;
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        for (&node, reqs) in &self.live {
            for (&req, w) in reqs {
                self.overdue(t_ns, node, req, w)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::quorum::ring::Ring;
    use crate::workloads::quorum::version::Mode;

    fn params(timeout_ns: u64, phase_tries: u32) -> Params {
        Params {
            n: 3,
            r: 2,
            w: 2,
            mode: Mode::VClock,
            bug: crate::workloads::quorum::Bug::None,
            sloppy: true,
            gossip: false,
            ring: Ring::new(5, 8, 3),
            timeout_ns,
            phase_tries,
            client_retries: 2,
            backoff_ns: ms(5),
            concurrency: 64,
            ae_every_ns: ms(10),
            handoff_every_ns: ms(20),
            sync: crate::workloads::quorum::params::SyncMode::Always,
            group_delay_ns: 0,
        }
    }

    /// Three deadlines of 20 ms on clocks drifting at most ±1000 ppm: 3 · 20 ms / 1.001 rounded
    /// down per deadline, and 3 · 20 ms / 0.999 rounded up.
    #[test]
    fn a_phase_is_phase_tries_deadlines_stretched_by_the_largest_drift() {
        let (min, max) = phase_bounds_ns(&params(ms(20), 3));
        assert_eq!(DRIFT_PPM_MAX, 1_000);
        assert_eq!(min, 3 * 19_980_019);
        assert_eq!(max, 3 * 20_020_021);
        // The world's own conversion stays inside, at both extremes of drift.
        let g = Arc::new(crate::clock::GlobalTime::new());
        for drift in [-DRIFT_PPM_MAX, 0, DRIFT_PPM_MAX] {
            let c = crate::clock::NodeClock::new(g.clone(), 0, drift);
            let one = c.to_global_delay(ms(20));
            assert!(min <= 3 * one && 3 * one <= max, "drift {drift}: {one}");
        }
        assert_eq!(phase_bounds_ns(&params(ms(20), 1)), (min / 3, max / 3));
    }

    fn rl() -> RequestLife {
        RequestLife::new(&Arc::new(params(ms(20), 3)))
    }

    #[test]
    fn a_pause_stretches_the_upper_bound_until_the_faults_end() {
        let mut c = rl();
        let w = Watched {
            op_id: 1,
            client_try: 0,
            store: false,
            since_ns: ms(100),
        };
        assert!(c.overdue(ms(100) + c.max_ns, 0, 7, &w).is_ok());
        let late = c.overdue(ms(100) + c.max_ns + 1, 0, 7, &w).unwrap_err();
        assert!(late.contains("fetch phase since"), "{late}");
        c.fault(
            ms(110),
            &Fault::Pause {
                node: 0,
                duration_ms: 50,
            },
        );
        assert!(c.overdue(ms(150) + c.max_ns, 0, 7, &w).is_ok());
        c.faults_end(ms(130));
        assert!(c.overdue(ms(121) + c.max_ns, 0, 7, &w).is_err());
        // Another node's pause does not count.
        assert_eq!(c.paused_since(1, 0), 0);
    }

    #[test]
    fn giving_up_before_the_last_deadline_fails() {
        let c = rl();
        let w = Watched {
            op_id: 1,
            client_try: 1,
            store: true,
            since_ns: ms(100),
        };
        let early = c.gave_up(ms(121), 2, 7, &w).unwrap_err();
        assert!(early.contains("gave its store phase up"), "{early}");
        assert!(c.gave_up(ms(100) + c.min_ns, 2, 7, &w).is_ok());
    }
}
