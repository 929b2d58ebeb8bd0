//! The IAM workload's checkers. All four watch one shared record of the client history
//! ([`Shared`]); the first in the list does the bookkeeping, each reports its own property.
//!
//! 1. [`PROPAGATED`] — once the leader has said every node holds version `v` durably (the
//!    `all_acked` of its replies), no decision invoked afterwards, at any node, uses a view
//!    older than `v`, so none can decide against it.
//! 2. [`STALE_WINDOW`] — the stale-allow window: when a node allows a request with a view
//!    older than a revoke of it (a committed version at which the global view denies what
//!    the version before allowed), the time since that revoke was committed is one sample of
//!    the window. Samples feed the metrics; a sample above the configured bound fails the run
//!    if no partition, crash, pause or clock jump overlapped the window and the disk had no
//!    faults (the network stayed connected; message loss, duplication, reordering and slow
//!    links are allowed — retries must cover them).
//! 3. [`ACK_DURABLE`] — a node never decides with a view older than a version it had
//!    acknowledged as durable (the `acked` of its earlier replies) — in particular after a
//!    crash and restart.
//! 4. [`MATCHES`] — every decision equals what the real engine decides on the global view as
//!    of the version the node used; and that view really is the log's prefix up to that
//!    version (its digest says which versions it holds).
//! 5. [`CONVERGED`] — propagation's liveness: when the run ends (after the quiet period, with
//!    every partition healed and every crashed node restarted), every node holds the leader's
//!    version, and the leader has learned so (its record of what each node holds durably,
//!    which `all_acked` and so checker (1) rest on, shows that version). The first four judge what a node decides with the view it has; without this
//!    one, a change that never reaches a node passes unless a revoked permission happens to be
//!    asked for there. Judged in every mode. Gossip and SWIM promise convergence only
//!    eventually; within the 1 s quiet period they reach it because a node that applies a
//!    full batch asks for the rest at once, and a SWIM-mode node sends digests to members SWIM
//!    holds failed (`propagation`'s module docs). Before those two (2026-12-02/03), `mode=swim`
//!    failed this check in 15–28 of seeds 0..1000: nodes hundreds of versions behind, either
//!    fed 16 entries per SWIM exchange or, after partitions that left every member holding
//!    the others failed, never spoken to again.

use std::cell::RefCell;
use std::rc::Rc;

use super::catalog::describe;
use super::metrics as im;
use super::model::ChangeLog;
use super::msg::{IamOp, IamReply};
use super::node::{IamNode, LEADER};
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::time::{fmt_nanos, NANOS_PER_MS};

/// Checker (1)'s name.
pub const PROPAGATED: &str = "iam-propagated-holds";
/// Checker (2)'s name.
pub const STALE_WINDOW: &str = "iam-stale-window";
/// Checker (3)'s name.
pub const ACK_DURABLE: &str = "iam-ack-durable";
/// Checker (4)'s name.
pub const MATCHES: &str = "iam-decision-matches";
/// Checker (5)'s name.
pub const CONVERGED: &str = "iam-converged";

const NAMES: [&str; 4] = [ACK_DURABLE, PROPAGATED, MATCHES, STALE_WINDOW];

/// Operations followed at once, at most.
pub const OPS_TRACKED_MAX: usize = 1 << 20;
/// Distinct (revoke, request) windows recorded, at most.
pub const WINDOWS_MAX: usize = 1 << 16;

#[derive(Debug)]
struct Open {
    node: NodeId,
    op: IamOp,
    /// The node's acknowledged version as known when the operation was invoked.
    node_floor: u64,
    /// The version every node was known to hold when the operation was invoked.
    global_floor: u64,
}

/// An interval `[start_ns, end_ns)` during which some fault could disconnect the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSpan {
    /// Start, world nanoseconds.
    pub start_ns: u64,
    /// End, world nanoseconds.
    pub end_ns: u64,
}

/// What checker (2) needs to know of the run.
#[derive(Clone, Debug, Default)]
pub struct WindowRules {
    /// The configured propagation bound.
    pub bound_ns: u64,
    /// Spans with partitions, crashes, pauses or clock jumps.
    pub faults: Vec<FaultSpan>,
    /// Disk faults are on: the bound is not enforced (a node may wait to reopen its disk).
    pub disk_faults: bool,
    /// The fault setting, for the metrics.
    pub setting: &'static str,
}

impl WindowRules {
    fn connected(&self, from_ns: u64, to_ns: u64) -> bool {
        !self.disk_faults
            && !self
                .faults
                .iter()
                .any(|f| f.start_ns <= to_ns && from_ns <= f.end_ns)
    }
}

/// The history the four checkers share.
#[derive(Debug)]
pub struct Shared {
    log: ChangeLog,
    open: std::collections::BTreeMap<OpId, Open>,
    node_floor: Vec<u64>,
    global_floor: u64,
    rules: WindowRules,
    /// Per (revoke version, request): the longest stale allow seen, nanoseconds.
    windows: std::collections::BTreeMap<(u64, u16), u64>,
    measured: Measured,
    /// This step's verdicts, by checker (index into `NAMES`).
    verdicts: [Option<String>; 4],
}

/// What the run measured so far (reported at its end, see [`super::metrics`]).
#[derive(Debug, Default)]
struct Measured {
    /// Changes the leader committed.
    changes: u64,
    /// Stale allow decisions.
    stale_allows: u64,
    /// Per change: commit → the leader reports every node holds it, nanoseconds.
    propagation_ns: Vec<u64>,
    /// The longest stale allow, and where to look for it.
    longest: Option<(u64, String)>,
    /// Nodes that booted again after a crash.
    restarts: u64,
}

impl Shared {
    /// Report the run's measurements (see [`super::metrics`] for the names).
    fn report(&self, traffic: &Traffic, out: &mut Metrics) {
        let changes = self.measured.changes;
        out.scalar(im::CHANGES, changes as f64);
        out.scalar(im::STALE_ALLOWS, self.measured.stale_allows as f64);
        out.scalar(
            im::STALE_ALLOW_MS_MAX,
            im::ms(self.windows.values().copied().max().unwrap_or(0)),
        );
        out.scalar(
            im::PROPAGATION_MS_MAX,
            im::ms(
                self.measured
                    .propagation_ns
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0),
            ),
        );
        out.scalar(
            im::MESSAGES_PER_CHANGE,
            if changes == 0 {
                0.0
            } else {
                traffic.total().sent as f64 / changes as f64
            },
        );
        let revokes = self
            .windows
            .keys()
            .map(|&(v, _)| v)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        out.scalar(im::REVOKES_WITH_STALE_ALLOW, revokes as f64);
        out.samples(im::STALE_ALLOW_NS, self.windows.values().copied());
        out.samples(
            im::PROPAGATION_NS,
            self.measured.propagation_ns.iter().copied(),
        );
        out.label(im::FAULT_SETTING, self.rules.setting);
        out.happened(im::STALE_ALLOW_SEEN, self.windows.len() as u64);
        out.happened(
            im::CHANGE_PROPAGATED,
            self.measured.propagation_ns.len() as u64,
        );
        out.happened(im::RESTARTED, self.measured.restarts);
        if let Some((_, what)) = &self.measured.longest {
            out.label(im::LONGEST_STALE_ALLOW, what.clone());
        }
    }
}

impl Shared {
    fn invoke(&mut self, op_id: OpId, node: NodeId, op: &IamOp) -> Result<(), String> {
        if self.open.len() >= OPS_TRACKED_MAX {
            return Err(format!("more than {OPS_TRACKED_MAX} operations open"));
        }
        self.open.insert(
            op_id,
            Open {
                node,
                op: *op,
                node_floor: self.node_floor[node as usize],
                global_floor: self.global_floor,
            },
        );
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &IamReply) {
        self.verdicts = Default::default();
        let Some(open) = self.open.remove(&op_id) else {
            return;
        };
        let bad = |v: &mut [Option<String>; 4], i: usize, m: String| v[i] = Some(m);
        match (open.op, *reply) {
            (IamOp::Change { id, change }, IamReply::Committed { version }) => {
                if version != id {
                    bad(
                        &mut self.verdicts,
                        2,
                        format!("change {id} was committed as version {version}"),
                    );
                    return;
                }
                if let Err(e) = self.log.commit(version, change, t_ns) {
                    bad(&mut self.verdicts, 2, e);
                }
                self.measured.changes += 1;
            }
            (IamOp::Change { id, change }, IamReply::Rejected { maybe }) => {
                if maybe {
                    self.log.maybe(id, change);
                }
            }
            (
                IamOp::Authorize { req },
                IamReply::Decided {
                    allow,
                    version,
                    digest,
                    acked,
                    all_acked,
                },
            ) => {
                self.decided(t_ns, &open, req, allow, version, digest);
                let n = open.node as usize;
                self.node_floor[n] = self.node_floor[n].max(acked);
                if open.node == LEADER && all_acked > self.global_floor {
                    self.propagated(t_ns, all_acked);
                }
            }
            (IamOp::Authorize { .. }, IamReply::Unavailable) => {}
            (op, r) => bad(
                &mut self.verdicts,
                2,
                format!("op {op_id} {op:?} got the wrong kind of reply {r:?}"),
            ),
        }
    }

    /// The leader now says every node holds `all_acked`: record propagation times.
    fn propagated(&mut self, t_ns: u64, all_acked: u64) {
        for (_, l) in self
            .log
            .committed()
            .range(self.global_floor + 1..=all_acked)
        {
            if let Some(c) = l.commit_ns {
                self.measured.propagation_ns.push(t_ns.saturating_sub(c));
            }
        }
        self.global_floor = all_acked;
    }

    fn decided(
        &mut self,
        t_ns: u64,
        open: &Open,
        req: u16,
        allow: bool,
        version: u64,
        digest: u64,
    ) {
        let node = open.node;
        let what = if allow { "Allow" } else { "Deny" };
        if version < open.node_floor {
            self.verdicts[0] = Some(format!(
                "n{node} decided {what} for {} with view v{version}, but it had acknowledged v{} as durable before",
                describe(req),
                open.node_floor
            ));
            return;
        }
        if version < open.global_floor {
            self.verdicts[1] = Some(format!(
                "n{node} decided {what} for {} with view v{version}, after the leader reported every node holds v{}",
                describe(req),
                open.global_floor
            ));
            return;
        }
        match self.log.view(version, digest) {
            Err(e) => {
                self.verdicts[2] =
                    Some(format!("n{node} decided {what} for {}: {e}", describe(req)));
                return;
            }
            Ok(memo) => {
                let expected = memo.allows(req);
                if expected != allow {
                    self.verdicts[2] = Some(format!(
                        "n{node} decided {what} for {} with view v{version}, but the engine on the global view at v{version} says {}",
                        describe(req),
                        if expected { "Allow" } else { "Deny" }
                    ));
                    return;
                }
            }
        }
        if allow {
            self.stale_allow(t_ns, node, req, version);
        }
    }

    /// An Allow with view `version`: was `req` revoked by a later committed version?
    fn stale_allow(&mut self, t_ns: u64, node: NodeId, req: u16, version: u64) {
        let later: Vec<(u64, Option<u64>)> = self
            .log
            .committed()
            .range(version + 1..)
            .map(|(&v, l)| (v, l.commit_ns))
            .collect();
        for (v, commit_ns) in later {
            if self.log.unsettled_upto(v) {
                return;
            }
            let Ok(memo) = self.log.at(v) else { return };
            if memo.allows(req) {
                continue;
            }
            // `v` is the first version after the node's that denies: the revoke.
            let Some(c) = commit_ns else { return };
            let window = t_ns.saturating_sub(c);
            self.measured.stale_allows += 1;
            if self
                .measured
                .longest
                .as_ref()
                .is_none_or(|(w, _)| window > *w)
            {
                self.measured.longest = Some((
                    window,
                    format!(
                        "{} ms: n{node} allowed {} at {} with view v{version}; v{v} revoked it at {}",
                        window / NANOS_PER_MS,
                        describe(req),
                        fmt_nanos(t_ns),
                        fmt_nanos(c)
                    ),
                ));
            }
            if self.windows.len() < WINDOWS_MAX || self.windows.contains_key(&(v, req)) {
                let w = self.windows.entry((v, req)).or_insert(0);
                *w = (*w).max(window);
            }
            if window > self.rules.bound_ns && self.rules.connected(c, t_ns) {
                self.verdicts[3] = Some(format!(
                    "n{node} allowed {} with view v{version} {} ms after v{v} revoked it (committed at {}), beyond the {} ms propagation bound, though no partition, crash, pause or clock jump overlapped",
                    describe(req),
                    window / NANOS_PER_MS,
                    fmt_nanos(c),
                    self.rules.bound_ns / NANOS_PER_MS
                ));
            }
            return;
        }
    }
}

/// One of the four checkers (index into the names), all over the same [`Shared`].
pub struct IamChecker {
    which: usize,
    shared: Rc<RefCell<Shared>>,
}

/// The checkers of one run: the four over the shared history, convergence, then the
/// dissemination rules ([`super::rumours`]).
pub fn checkers(nodes: u32, rules: WindowRules) -> Vec<Box<dyn Checker<IamNode>>> {
    let shared = Rc::new(RefCell::new(Shared {
        log: ChangeLog::default(),
        open: Default::default(),
        node_floor: vec![0; nodes as usize],
        global_floor: 0,
        rules,
        windows: Default::default(),
        measured: Measured::default(),
        verdicts: Default::default(),
    }));
    let mut all: Vec<Box<dyn Checker<IamNode>>> = (0..NAMES.len())
        .map(|which| {
            Box::new(IamChecker {
                which,
                shared: shared.clone(),
            }) as Box<dyn Checker<IamNode>>
        })
        .collect();
    all.push(Box::new(Converged {
        version: vec![None; nodes as usize],
        leader_knows: Vec::new(),
    }));
    all.push(Box::new(super::rumours::Rumours::new(nodes)));
    all
}

/// Checker (5): each node's view version as of its last handler.
pub struct Converged {
    /// `None`: the node restarted with fresh memory and has run no handler since.
    version: Vec<Option<u64>>,
    /// What the leader last believed each node holds durably (its `peer_acked`).
    leader_knows: Vec<u64>,
}

impl Checker<IamNode> for Converged {
    fn name(&self) -> &'static str {
        CONVERGED
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &IamNode) -> Result<(), String> {
        if let Some(v) = self.version.get_mut(node as usize) {
            *v = Some(state.view.version);
        }
        if node == LEADER {
            self.leader_knows.clone_from(&state.peer_acked);
        }
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        if let Some(v) = self.version.get_mut(node as usize) {
            *v = None;
        }
        if node == LEADER {
            self.leader_knows.clear();
        }
    }

    fn finish(&mut self, t_ns: u64) -> Result<(), String> {
        let Some(&Some(leader)) = self.version.get(LEADER as usize) else {
            return Ok(());
        };
        let behind: Vec<String> = self
            .version
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != Some(leader))
            .map(|(n, v)| match v {
                Some(v) => format!("n{n} at v{v}"),
                None => format!("n{n} ran nothing since its restart"),
            })
            .collect();
        if !behind.is_empty() {
            return Err(format!(
                "at the end ({}), after the quiet period, the leader holds v{leader} but {}",
                fmt_nanos(t_ns),
                behind.join(", ")
            ));
        }
        // Every node holds it; the leader must have learned so (what `all_acked`, and so
        // `iam-propagated-holds`, rests on).
        let unknown: Vec<String> = (0..self.version.len())
            .filter(|&n| n != LEADER as usize)
            .filter(|&n| self.leader_knows.get(n) != Some(&leader))
            .map(|n| match self.leader_knows.get(n) {
                Some(v) => format!("n{n} at v{v}"),
                None => format!("n{n} unknown"),
            })
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "at the end ({}), every node holds the leader's v{leader}, but the leader \
                 believes {}",
                fmt_nanos(t_ns),
                unknown.join(", ")
            ))
        }
    }
}

impl Checker<IamNode> for IamChecker {
    fn name(&self) -> &'static str {
        NAMES[self.which]
    }

    fn invoke(&mut self, _t_ns: u64, op_id: OpId, node: NodeId, op: &IamOp) -> Result<(), String> {
        if self.which == 0 {
            self.shared.borrow_mut().invoke(op_id, node, op)?;
        }
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &IamReply) -> Result<(), String> {
        let mut s = self.shared.borrow_mut();
        if self.which == 0 {
            s.complete(t_ns, op_id, reply);
        }
        match s.verdicts[self.which].take() {
            Some(m) => Err(m),
            None => Ok(()),
        }
    }

    fn restarted(&mut self, _t_ns: u64, _node: NodeId) {
        if self.which == 0 {
            self.shared.borrow_mut().measured.restarts += 1;
        }
    }

    /// Checker 0 reports for all four (they share one record).
    fn metrics(&self, traffic: &Traffic, out: &mut Metrics) {
        if self.which == 0 {
            self.shared.borrow().report(traffic, out);
        }
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        if self.which != 0 {
            return;
        }
        let mut s = self.shared.borrow_mut();
        if let Some(Open {
            op: IamOp::Change { id, change },
            ..
        }) = s.open.remove(&op_id)
        {
            s.log.maybe(id, change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::iam::store::{id_mix, Change};

    fn decided(version: u64, allow: bool, acked: u64, all_acked: u64) -> IamReply {
        let digest = (1..=version)
            .filter(|v| *v == 1 || *v == 2)
            .fold(0u64, |d, v| d.wrapping_add(id_mix(v)));
        IamReply::Decided {
            allow,
            version,
            digest,
            acked,
            all_acked,
        }
    }

    /// Runs ops through the four checkers as the world would; returns the first verdict.
    struct Harness {
        cs: Vec<Box<dyn Checker<IamNode>>>,
        next: OpId,
    }

    impl Harness {
        fn new(rules: WindowRules) -> Self {
            Harness {
                cs: checkers(3, rules),
                next: 0,
            }
        }

        fn op(&mut self, t: u64, node: NodeId, op: IamOp, reply: IamReply) -> Result<(), String> {
            let id = self.next;
            self.next += 1;
            for c in &mut self.cs {
                c.invoke(t, id, node, &op)?;
            }
            for c in &mut self.cs {
                c.complete(t, id, &reply)
                    .map_err(|m| format!("{}: {m}", c.name()))?;
            }
            Ok(())
        }
    }

    // u0 s3:GetObject b0/k: allowed initially; revoked by detaching s3-read and deleting the
    // bucket policy (versions 1 and 2).
    const REQ: u16 = 0;

    fn setup() -> Harness {
        let mut h = Harness::new(WindowRules {
            bound_ns: 5_000_000,
            ..WindowRules::default()
        });
        let c1 = Change::DetachUserPolicy { user: 0, policy: 0 };
        let c2 = Change::DeleteBucketPolicy { bucket: 0 };
        h.op(
            10,
            0,
            IamOp::Change { id: 1, change: c1 },
            IamReply::Committed { version: 1 },
        )
        .unwrap();
        h.op(
            20,
            0,
            IamOp::Change { id: 2, change: c2 },
            IamReply::Committed { version: 2 },
        )
        .unwrap();
        h
    }

    #[test]
    fn a_decision_on_the_right_view_passes_and_a_wrong_one_fails() {
        let mut h = setup();
        h.op(
            30,
            1,
            IamOp::Authorize { req: REQ },
            decided(2, false, 2, 0),
        )
        .unwrap();
        let e = h
            .op(31, 1, IamOp::Authorize { req: REQ }, decided(2, true, 2, 0))
            .unwrap_err();
        assert!(e.starts_with(MATCHES), "{e}");
    }

    #[test]
    fn going_below_an_acknowledged_version_fails() {
        let mut h = setup();
        h.op(
            30,
            1,
            IamOp::Authorize { req: REQ },
            decided(2, false, 2, 0),
        )
        .unwrap();
        let e = h
            .op(40, 1, IamOp::Authorize { req: REQ }, decided(1, true, 1, 0))
            .unwrap_err();
        assert!(e.starts_with(ACK_DURABLE), "{e}");
    }

    #[test]
    fn going_below_a_fully_propagated_version_fails() {
        let mut h = setup();
        h.op(
            30,
            0,
            IamOp::Authorize { req: REQ },
            decided(2, false, 2, 2),
        )
        .unwrap();
        let e = h
            .op(40, 2, IamOp::Authorize { req: REQ }, decided(1, true, 1, 0))
            .unwrap_err();
        assert!(e.starts_with(PROPAGATED), "{e}");
    }

    #[test]
    fn a_stale_allow_beyond_the_bound_fails_only_on_a_connected_network() {
        // Allowed with view 1 (bucket policy still there) 10 ms after version 2 revoked it.
        let mut h = setup();
        let e = h
            .op(
                10_000_020,
                1,
                IamOp::Authorize { req: REQ },
                decided(1, true, 1, 0),
            )
            .unwrap_err();
        assert!(e.starts_with(STALE_WINDOW), "{e}");
        let mut h = Harness::new(WindowRules {
            bound_ns: 5_000_000,
            faults: vec![FaultSpan {
                start_ns: 0,
                end_ns: 1_000_000,
            }],
            ..WindowRules::default()
        });
        let c1 = Change::DetachUserPolicy { user: 0, policy: 0 };
        let c2 = Change::DeleteBucketPolicy { bucket: 0 };
        h.op(
            10,
            0,
            IamOp::Change { id: 1, change: c1 },
            IamReply::Committed { version: 1 },
        )
        .unwrap();
        h.op(
            20,
            0,
            IamOp::Change { id: 2, change: c2 },
            IamReply::Committed { version: 2 },
        )
        .unwrap();
        h.op(
            10_000_020,
            1,
            IamOp::Authorize { req: REQ },
            decided(1, true, 1, 0),
        )
        .unwrap();
    }

    fn node_at(version: u64) -> IamNode {
        let mut n = IamNode::new(crate::workloads::iam::node::NodeConfig {
            mode: crate::workloads::iam::Mode::Log,
            bug: crate::workloads::iam::Bug::None,
            tick_ns: NANOS_PER_MS,
        });
        n.view.version = version;
        n
    }

    #[test]
    fn every_node_at_the_leaders_version_converged_and_one_behind_did_not() {
        let mut c = Converged {
            version: vec![None; 3],
            leader_knows: Vec::new(),
        };
        let mut leader = node_at(7);
        leader.peer_acked = vec![7, 7, 7];
        c.observe(1, 0, &leader).unwrap();
        for (node, v) in [(1, 7), (2, 7)] {
            c.observe(1, node, &node_at(v)).unwrap();
        }
        assert_eq!(c.finish(9), Ok(()));
        c.observe(2, 2, &node_at(5)).unwrap();
        let err = c.finish(9).unwrap_err();
        assert!(err.contains("the leader holds v7 but n2 at v5"), "{err}");
        // A node that restarted and ran nothing since has not caught up either.
        c.observe(3, 2, &node_at(7)).unwrap();
        c.restarted(4, 1);
        let err = c.finish(9).unwrap_err();
        assert!(err.contains("n1 ran nothing since its restart"), "{err}");
        // SWIM dissemination is judged as the replicated log is.
        let mut swim = node_at(1);
        swim.cfg.mode = crate::workloads::iam::Mode::Swim;
        c.observe(5, 1, &swim).unwrap();
        let err = c.finish(9).unwrap_err();
        assert!(err.contains("n1 at v1"), "{err}");
        // Everyone at v7, but the leader has not learned that n2 is.
        c.observe(6, 1, &node_at(7)).unwrap();
        leader.peer_acked = vec![7, 7, 6];
        c.observe(6, 0, &leader).unwrap();
        let err = c.finish(9).unwrap_err();
        assert!(err.contains("the leader believes n2 at v6"), "{err}");
    }
}
