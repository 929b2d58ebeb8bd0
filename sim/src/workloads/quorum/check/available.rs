//! Availability when healthy (`quorum-available`): with nothing wrong, every operation
//! succeeds, at its first try, without a hint.
//!
//! Dynamo §2 and §4.6 promise an "always writeable" store: a put fails only when the
//! coordinator cannot reach enough nodes. The checkable core of that promise is the healthy
//! case: an operation that begins once the cluster has been healthy for the settle time, and
//! ends before anything goes wrong again, must
//! - be answered `Written` (a put or delete), `Got` (a get) or with a digest — not `Failed`, and
//!   not `Busy` unless its node already ran `concurrency` operations (admission control is the
//!   protocol's own rule) — ;
//! - need no second try: no try of it gives up (a coordinator's request for it with a client
//!   try above 0 shows one did);
//! - write no hint: no fallback stands in for a preference-list replica (§4.6: hints are for
//!   replicas "temporarily down or unreachable"), whichever membership decides.
//!
//! And the sloppy quorum's half of "always writeable" (§4.6), where nodes are down but the
//! network is sound: a **store phase** (`sloppy=true`) that begins while no partition or pause
//! is in force, in a run whose plan loses, delays or reorders no message, slows no link, fails
//! no disk operation and takes no buggify path (or in the quiet period), and during which no
//! node crashes or restarts and no fault strikes, must not give up if at least W of its key's
//! preference-list and fallback nodes are up. Why it can always succeed: while it is short of
//! W some target is silent, and each deadline stands the next unused fallback in for each
//! silent target; with no more fallbacks than `phase_tries − 1` (5 nodes and N = 3: two), all
//! of them are targets by the last deadline, and every node that is up acknowledges within a
//! network round trip. (A fetch phase has no stand-ins: a get or a put's read needs R of the N
//! replicas themselves.) Not judged either: a store phase whose first targets already have a
//! fallback standing in for a replica that is up — a suspicion left from a healed partition.
//! The coordinator never goes back to a replica it skipped, so with the fallbacks used up and
//! another replica down it gives up though that replica is up (seed 2347 of the default sweep:
//! W = 3, n2 down, n0 and n3 suspected since a partition; a limit of the protocol, not judged).
//!
//! **Healthy** is judged from the fault plan and the schedule, never from the protocol's own
//! view: during the fault period, only in runs whose plan loses, delays or reorders no message,
//! slows no link, fails no disk operation and takes no buggify path (duplicates and clock skew
//! and drift are allowed — they are in force in the quiet period too); and at least the settle
//! time ([`crate::workloads::quorum::settle_ns`]: membership believing every node up again,
//! hints handed off, anti-entropy done) after the end of every partition, crash, pause and clock
//! jump so far (all of them end when the fault period does). The settle time is longer than
//! strictly needed for availability — a suspicion from a request that began during a fault
//! ends within its two phases' deadlines plus the detector's suspicion (or SWIM's push-pull
//! round) — and conservative on purpose. Every run's quiet-period audit reads (issued at that
//! settle time after the faults stop) are judged; in the fault period the operations of the
//! runs whose plan holds only discrete faults, between them, and of runs with no faults at all.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::check::Checker;
use crate::config::Resolved;
use crate::faults::{Fault, FaultPlan};
use crate::node::{NodeId, OpId};
use crate::time::{fmt_nanos, ms};
use crate::workloads::quorum::coordinator::Phase;
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::params::Params;

/// An operation being judged.
#[derive(Clone, Debug)]
struct Judged {
    node: NodeId,
    at_ns: u64,
    op: Op,
    /// Operations its node held when it arrived.
    busy_before: u32,
}

/// A store phase being judged: (operation, when it began), or `None` once something
/// disqualified it.
type StoreJudged = Option<(OpId, u64)>;

/// See the module docs.
#[derive(Debug)]
pub struct Availability {
    p: Arc<Params>,
    settle_ns: u64,
    /// The plan holds a fault that acts all through the fault period and can fail an
    /// operation on its own.
    continuous: bool,
    faults_end_ns: u64,
    /// The latest end of a discrete fault so far (clamped to the fault period's end).
    last_fault_end_ns: Option<u64>,
    /// Operations begun while healthy and not over yet; cleared when a fault strikes.
    judged: BTreeMap<OpId, Judged>,
    /// Per node: client operations handed to it and not answered yet.
    in_flight: BTreeMap<NodeId, BTreeSet<OpId>>,
    /// The nodes down now (crashed, not restarted yet).
    down: BTreeSet<NodeId>,
    /// When the last partition or pause so far ends (clamped to the fault period's end).
    cut_until_ns: u64,
    /// (coordinator, request) → its store phase, as judged.
    stores: BTreeMap<(NodeId, u64), StoreJudged>,
    /// Store phases that ended in the step just observed, to be matched by a `Failed` reply in
    /// the same step: (operation, coordinator, request, when the phase began).
    ended: Vec<(OpId, NodeId, u64, u64)>,
}

impl Availability {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-available";

    /// For a run with parameters `p` (the plan and sizes arrive with [`Checker::begin`]).
    pub fn new(p: Arc<Params>) -> Self {
        Availability {
            p,
            settle_ns: 0,
            continuous: true,
            faults_end_ns: u64::MAX,
            last_fault_end_ns: None,
            judged: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            down: BTreeSet::new(),
            cut_until_ns: 0,
            stores: BTreeMap::new(),
            ended: Vec::new(),
        }
    }

    /// Whether a store phase of `range` that begins at `t_ns` is held to succeed (see the
    /// module docs): sound network, no more fallbacks than deadlines to stand them in, and W
    /// of the key's nodes up.
    fn store_judged(&self, t_ns: u64, range: usize) -> bool {
        let sound = !(self.continuous && t_ns < self.faults_end_ns)
            && t_ns >= self.cut_until_ns.min(self.faults_end_ns);
        let fallbacks = self.p.ring.fallbacks(range);
        if !sound || !self.p.sloppy || fallbacks.len() as u32 >= self.p.phase_tries {
            return false;
        }
        let up = self
            .p
            .ring
            .preference(range)
            .iter()
            .chain(fallbacks)
            .filter(|&&n| !self.down.contains(&n))
            .count();
        up as u32 >= self.p.w
    }

    /// A store phase judged writeable gave up at `t_ns`.
    fn store_gave_up(&self, t_ns: u64, node: NodeId, req: u64, op_id: OpId, since: u64) -> String {
        format!(
            "n{node}'s request {req} (op {op_id}) gave its store phase up at {} (begun at {}), though no fault struck meanwhile, the network was sound and at least W = {} of its key's nodes were up (down: {:?}): a sloppy quorum must reach them (Dynamo §4.6, \"always writeable\")",
            fmt_nanos(t_ns),
            fmt_nanos(since),
            self.p.w,
            self.down,
        )
    }

    /// Disqualify every store phase in flight (a fault struck, a node came back).
    fn disturb(&mut self) {
        for s in self.stores.values_mut() {
            *s = None;
        }
    }

    /// Whether the fault plan has a kind that, in force all through the fault period, can fail
    /// an operation by itself: lost, reordered or slowed messages, disk errors, buggify paths.
    pub fn plan_can_fail_operations(plan: &FaultPlan) -> bool {
        plan.net.drop > 0.0
            || plan.net.reorder > 0.0
            || plan.net.slow_link_factor_max > 1
            || plan.disk.any()
            || plan.buggify
    }

    /// Whether the cluster has been healthy long enough at `t_ns` for an operation that begins
    /// then to be judged.
    fn healthy_at(&self, t_ns: u64) -> bool {
        match self.last_fault_end() {
            None => true,
            Some(end) => t_ns >= end.saturating_add(self.settle_ns),
        }
    }

    /// When the last fault so far ends: the fault period's end if the plan's continuous faults
    /// can fail operations (they stop only then), else the latest end of a discrete fault,
    /// clamped to the fault period's (where every fault stops).
    fn last_fault_end(&self) -> Option<u64> {
        if self.continuous {
            Some(self.faults_end_ns)
        } else {
            self.last_fault_end_ns.map(|e| e.min(self.faults_end_ns))
        }
    }

    fn describe(&self, op_id: OpId, j: &Judged) -> String {
        format!(
            "op {op_id} ({:?}) sent to n{} at {}, with every node up and no fault since {}",
            j.op,
            j.node,
            fmt_nanos(j.at_ns),
            match self.last_fault_end() {
                None => "the run began".to_string(),
                Some(e) => format!(
                    "{} (at least the settle time {} before it began)",
                    fmt_nanos(e),
                    fmt_nanos(self.settle_ns)
                ),
            }
        )
    }
}

impl Checker<QuorumNode> for Availability {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn begin(&mut self, plan: &FaultPlan, run: &Resolved) {
        self.continuous = Self::plan_can_fail_operations(plan);
        self.faults_end_ns = run.fault_end_ns;
        self.settle_ns = crate::workloads::quorum::settle_ns(&self.p, run.ops);
    }

    fn invoke(&mut self, t_ns: u64, op_id: OpId, node: NodeId, op: &Op) -> Result<(), String> {
        let held = self.in_flight.entry(node).or_default();
        let busy_before = held.len() as u32;
        held.insert(op_id);
        if self.healthy_at(t_ns) {
            self.judged.insert(
                op_id,
                Judged {
                    node,
                    at_ns: t_ns,
                    op: op.clone(),
                    busy_before,
                },
            );
        }
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        if *reply == Reply::Failed {
            if let Some(&(_, node, req, since)) = self.ended.iter().find(|e| e.0 == op_id) {
                return Err(self.store_gave_up(t_ns, node, req, op_id, since));
            }
        }
        for held in self.in_flight.values_mut() {
            if held.remove(&op_id) {
                break;
            }
        }
        let Some(j) = self.judged.remove(&op_id) else {
            return Ok(());
        };
        let ok = match reply {
            Reply::Written(..) | Reply::Got(..) | Reply::Digest { .. } => true,
            Reply::Busy => j.busy_before >= self.p.concurrency,
            Reply::Failed => false,
        };
        if ok {
            return Ok(());
        }
        Err(format!(
            "{}, was answered {reply:?} at {}: a healthy cluster must serve it (its node held {} other operation(s), concurrency {})",
            self.describe(op_id, &j),
            fmt_nanos(t_ns),
            j.busy_before,
            self.p.concurrency,
        ))
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        self.judged.remove(&op_id);
        for held in self.in_flight.values_mut() {
            held.remove(&op_id);
        }
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &QuorumNode) -> Result<(), String> {
        self.ended.clear();
        let reqs = state.requests();
        // Store phases: gone since the last step (a quorum, or giving up), and new ones.
        let mine: Vec<(u64, StoreJudged)> = self
            .stores
            .range((node, 0)..=(node, u64::MAX))
            .map(|(&(_, req), &s)| (req, s))
            .collect();
        for (req, s) in mine {
            if reqs.contains_key(&req) {
                continue;
            }
            self.stores.remove(&(node, req));
            let Some((op_id, since)) = s else { continue };
            if state.backing_off(op_id) {
                return Err(self.store_gave_up(t_ns, node, req, op_id, since));
            }
            self.ended.push((op_id, node, req, since));
        }
        for (&req, rq) in reqs {
            let Phase::Store { targets, .. } = &rq.phase else {
                continue;
            };
            if !self.stores.contains_key(&(node, req)) {
                // A fallback chosen at the start for a replica that is up (a suspicion left
                // over from a healed partition) uses up a fallback the argument counts on, and
                // the coordinator never goes back to the replica itself: not judged (seed 2347).
                let stale = targets
                    .iter()
                    .any(|t| t.1.is_some_and(|r| !self.down.contains(&r)));
                let judged = !stale && self.store_judged(t_ns, rq.range);
                self.stores
                    .insert((node, req), judged.then_some((rq.op_id, t_ns)));
            }
        }
        if self.judged.is_empty() {
            return Ok(());
        }
        for rq in reqs.values() {
            let Some(j) = self.judged.get(&rq.op_id) else {
                continue;
            };
            if j.node != node {
                continue;
            }
            if rq.client_try > 0 {
                return Err(format!(
                    "{}: at {} it is at its client try {} — an earlier try gave up in a healthy cluster",
                    self.describe(rq.op_id, j),
                    fmt_nanos(t_ns),
                    rq.client_try
                ));
            }
            if let Phase::Store { targets, .. } = &rq.phase {
                if let Some(&(f, Some(replica))) = targets.iter().find(|t| t.1.is_some()) {
                    return Err(format!(
                        "{}: at {} fallback n{f} stands in for n{replica} (a hint written while every node is up and answering; targets {targets:?})",
                        self.describe(rq.op_id, j),
                        fmt_nanos(t_ns),
                    ));
                }
            }
        }
        Ok(())
    }

    fn fault(&mut self, t_ns: u64, fault: &Fault) {
        // Whatever is in flight now sees the fault.
        self.judged.clear();
        self.disturb();
        let end = t_ns.saturating_add(match *fault {
            Fault::Partition { duration_ms, .. } | Fault::Pause { duration_ms, .. } => {
                ms(duration_ms)
            }
            Fault::Crash { down_ms, .. } => ms(down_ms),
            Fault::ClockJump { .. } => 0,
        });
        match *fault {
            Fault::Partition { .. } | Fault::Pause { .. } => {
                self.cut_until_ns = self.cut_until_ns.max(end);
            }
            Fault::Crash { node, .. } => {
                self.down.insert(node);
            }
            Fault::ClockJump { .. } => {}
        }
        self.last_fault_end_ns = Some(self.last_fault_end_ns.map_or(end, |e| e.max(end)));
    }

    fn faults_end(&mut self, t_ns: u64) {
        self.faults_end_ns = t_ns;
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        // Its operations were lost at the crash; nothing in flight is left to count.
        self.in_flight.remove(&node);
        self.down.remove(&node);
        self.disturb();
        self.stores.retain(|k, _| k.0 != node);
        self.ended.retain(|e| e.1 != node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::quorum::ring::Ring;
    use crate::workloads::quorum::version::Mode;
    use crate::workloads::quorum::Bug;

    fn checker(plan: &FaultPlan) -> Availability {
        let p = Params {
            n: 3,
            r: 2,
            w: 2,
            mode: Mode::VClock,
            bug: Bug::None,
            sloppy: true,
            gossip: false,
            ring: Ring::new(5, 8, 3),
            timeout_ns: ms(20),
            phase_tries: 3,
            client_retries: 2,
            backoff_ns: ms(5),
            concurrency: 2,
            ae_every_ns: ms(10),
            handoff_every_ns: ms(20),
            sync: crate::workloads::quorum::params::SyncMode::Always,
            group_delay_ns: 0,
        };
        let mut a = Availability::new(Arc::new(p));
        a.begin(
            plan,
            &Resolved {
                nodes: 5,
                ops: 100,
                op_gap_ns: ms(1),
                fault_end_ns: ms(1_000),
                end_ns: ms(3_000),
            },
        );
        a
    }

    const GET: Op = Op::Get { key: 1, all: false };

    #[test]
    fn a_failed_operation_in_a_healthy_run_fails_the_check() {
        let mut a = checker(&FaultPlan::none());
        a.invoke(ms(5), 0, 1, &GET).unwrap();
        let e = a.complete(ms(9), 0, &Reply::Failed).unwrap_err();
        assert!(e.contains("op 0") && e.contains("must serve it"), "{e}");
        // Busy is fine only beyond the node's concurrency (2 here).
        a.invoke(ms(10), 1, 1, &GET).unwrap();
        a.invoke(ms(10), 2, 1, &GET).unwrap();
        a.invoke(ms(10), 3, 1, &GET).unwrap();
        a.complete(ms(11), 3, &Reply::Busy).unwrap();
        assert!(a.complete(ms(11), 2, &Reply::Busy).is_err());
    }

    #[test]
    fn faults_and_the_settle_time_after_them_are_not_judged() {
        let mut a = checker(&FaultPlan::none());
        a.invoke(ms(5), 0, 1, &GET).unwrap();
        a.fault(
            ms(6),
            &Fault::Crash {
                node: 2,
                down_ms: 100,
            },
        );
        a.complete(ms(7), 0, &Reply::Failed).unwrap();
        // Within the settle time after the crash's end: not judged.
        a.invoke(ms(106) + a.settle_ns - 1, 1, 1, &GET).unwrap();
        a.complete(ms(200) + a.settle_ns, 1, &Reply::Failed)
            .unwrap();
        // After it: judged.
        a.invoke(ms(106) + a.settle_ns, 2, 1, &GET).unwrap();
        assert!(a
            .complete(ms(200) + a.settle_ns, 2, &Reply::Failed)
            .is_err());

        // A plan that drops messages: nothing in the fault period is judged, the quiet period
        // is (from the settle time after the faults stop).
        let mut lossy = FaultPlan::none();
        lossy.net.drop = 0.01;
        let mut a = checker(&lossy);
        a.invoke(ms(5), 0, 1, &GET).unwrap();
        a.complete(ms(7), 0, &Reply::Failed).unwrap();
        a.faults_end(ms(1_000));
        a.invoke(ms(1_000), 1, 1, &GET).unwrap();
        a.complete(ms(1_001), 1, &Reply::Failed).unwrap();
        let quiet = ms(1_000) + a.settle_ns;
        a.invoke(quiet, 2, 1, &GET).unwrap();
        assert!(a.complete(quiet + 1, 2, &Reply::Failed).is_err());
    }
}
