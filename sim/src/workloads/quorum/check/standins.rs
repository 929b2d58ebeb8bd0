//! Stand-ins (`quorum-stand-ins`): a fallback node stands in for a preference-list replica (and
//! holds a hint for it) only when the coordinator had reason to believe that replica
//! unreachable.
//!
//! Dynamo §4.6: "if node A is temporarily down or unreachable during a write operation then a
//! replica that would normally have lived on A will now be sent to node D". The protocol's own
//! rule (`nodes/src/quorum/coordinator.rs`, `membership.rs`) says when A counts as unreachable,
//! and the checker holds every stand-in to it, from the messages delivered:
//!
//! - **At a put's start** (its store phase's first targets, `membership=local`): the
//!   coordinator C may send A's copy to a fallback only if A *missed a deadline* of C — A was
//!   one of a request's replicas (a fetch) or targets (a store) when that request's deadline
//!   passed, and A's reply to it (a `FetchReply` with versions, a positive `StoreAck`) had not
//!   reached C — and no message from A has reached C since. The protocol also lets the
//!   suspicion expire after `SUSPECT_NS`; the checker does not hold it to that (a fallback
//!   used a little longer than needed is not judged), only to having had a reason at all. In
//!   particular, with every node up and answering, no hint is written. And the converse, the
//!   protocol's rule: where the checker can tell what C's detector holds (a replica that
//!   missed a deadline of C and has not been heard from since is held down until C's
//!   membership time, moved at each handoff tick, passes `SUSPECT_NS`; one never missed or
//!   heard from since is up), the first targets are exactly the preference list with each
//!   replica held down stood in for by the next fallback not held down. With
//!   `membership=gossip` SWIM's view decides instead: a replica the coordinator's SWIM
//!   member holds failed or left is down, any other up (read from its table, not through the
//!   `is_failed` accessor the coordinator uses).
//! - **At a store deadline**: a fallback newly added to a store phase stands in for a replica
//!   whose own target in that phase (the replica itself, or a fallback already holding its
//!   hint) has not acknowledged the store. And the converse, the protocol's rule for a store
//!   that is not given up (sloppy quorums, either membership): every target that has not
//!   acknowledged gets a stand-in, in target order, the next fallback of the range that is
//!   not a target yet — until the fallbacks run out. A coordinator that stops standing in
//!   (Dynamo §4.6) leaves a put with a replica down to fail after its last deadline.
//!
//! - **At any deadline that does not end its request**: the coordinator resends the request's
//!   `Fetch` to exactly the preference-list replicas whose reply has not arrived, or its
//!   `Store` to exactly the targets that have not acknowledged (and sends each stand-in it
//!   adds its copy) — the protocol's retry rule (`coordinator.rs`), checked from the messages
//!   the deadline's handler sends.
//!
//! The checker follows each coordinator's requests in its state after every handler: a request
//! whose tries went up, or that disappeared in a step that was not a message's delivery or a
//! client's call, passed a deadline there (nothing else removes a request outside a message
//! handler).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::Checker;
use crate::clock::DRIFT_PPM_MAX;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;
use crate::workloads::gossip::msg::Status;
use crate::workloads::quorum::coordinator::Phase;
use crate::workloads::quorum::membership::SUSPECT_NS;
use crate::workloads::quorum::msg::{Msg, Op};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::params::Params;

/// What the checker last saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    range: usize,
    tries: u32,
    /// The store phase's targets, (node, the replica it stands in for); `None` in the fetch
    /// phase.
    targets: Option<Vec<(NodeId, Option<NodeId>)>>,
}

/// The resends a deadline that did not end its request calls for, and those the handler sent.
#[derive(Clone, Debug)]
struct Resend {
    coord: NodeId,
    req: u64,
    store: bool,
    at_ns: u64,
    expect: Vec<NodeId>,
    sent: Vec<NodeId>,
}

/// What kind of step the next observation of a node follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Message,
    Client,
}

/// See the module docs.
#[derive(Debug)]
pub struct StandIns {
    p: Arc<Params>,
    /// A counter of steps, to order what happens at one instant.
    step: u64,
    /// The kind of the step about to run on a node (set by `deliver` and `invoke`).
    next: Option<(NodeId, Step)>,
    /// (coordinator, replica) → the step a message from the replica last reached it.
    heard: BTreeMap<(NodeId, NodeId), u64>,
    /// (coordinator, replica) → (step, time) of the replica's last missed deadline.
    missed: BTreeMap<(NodeId, NodeId), (u64, u64)>,
    /// (coordinator, request, store phase) → the nodes whose reply (in the fetch phase a fetch
    /// reply with versions, in the store phase a positive acknowledgement) reached it, one bit
    /// each.
    answered: BTreeMap<(NodeId, u64, bool), u64>,
    /// Per coordinator: its requests as last seen.
    seen: BTreeMap<NodeId, BTreeMap<u64, Seen>>,
    /// The resends of the last step's deadline, judged at the next step.
    resends: Vec<Resend>,
}

impl StandIns {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-stand-ins";

    /// For a run with parameters `p`.
    pub fn new(p: Arc<Params>) -> Self {
        StandIns {
            p,
            step: 0,
            next: None,
            heard: BTreeMap::new(),
            missed: BTreeMap::new(),
            answered: BTreeMap::new(),
            seen: BTreeMap::new(),
            resends: Vec::new(),
        }
    }

    /// The last step's deadline sent its request's `Fetch` (or `Store`) to exactly the nodes
    /// that had not answered (and to the stand-ins it added).
    fn settle(&mut self) -> Result<(), String> {
        for r in std::mem::take(&mut self.resends) {
            let (mut expect, mut sent) = (r.expect, r.sent);
            expect.sort_unstable();
            sent.sort_unstable();
            if expect != sent {
                let (phase, msg, who) = if r.store {
                    (
                        "store",
                        "Store",
                        "targets that had not acknowledged, and the stand-ins added",
                    )
                } else {
                    (
                        "fetch",
                        "Fetch",
                        "preference-list replicas whose reply had not arrived",
                    )
                };
                return Err(format!(
                    "at a {phase} deadline of request {} at {}, n{} resent its {msg} to {sent:?}, but the {who} are {expect:?}",
                    r.req,
                    fmt_nanos(r.at_ns),
                    r.coord,
                ));
            }
        }
        Ok(())
    }

    fn answered(&self, coord: NodeId, req: u64, store: bool, node: NodeId) -> bool {
        self.answered
            .get(&(coord, req, store))
            .is_some_and(|m| m & (1 << node) != 0)
    }

    /// A deadline of `req` (as last seen) passed at `coord`: every replica or target that had
    /// not answered missed it.
    fn deadline(&mut self, t_ns: u64, coord: NodeId, req: u64, s: &Seen) {
        let silent: Vec<NodeId> = match &s.targets {
            None => self.p.ring.preference(s.range).to_vec(),
            Some(targets) => targets.iter().map(|t| t.0).collect(),
        };
        let store = s.targets.is_some();
        for node in silent {
            if !self.answered(coord, req, store, node) {
                self.missed.insert((coord, node), (self.step, t_ns));
            }
        }
    }

    fn forget(&mut self, node: NodeId) {
        self.seen.remove(&node);
        self.heard.retain(|k, _| k.0 != node);
        self.missed.retain(|k, _| k.0 != node);
        self.answered.retain(|k, _| k.0 != node);
    }

    /// Whether `coord` holds `node` down at `t_ns` by its local detector: `Some(false)` when
    /// certainly not (`node` never missed a deadline of `coord`, or has been heard from
    /// since), `Some(true)` when certainly (it missed one at `at` and has not been heard from
    /// since, and `coord`'s membership time — which moves [`Params::handoff_every_ns`] at a
    /// time, at each handoff tick — cannot have reached the end of the suspicion,
    /// [`SUSPECT_NS`], since then: at most `⌊(t − at) / P_min⌋ + 1` ticks fit, `P_min` the
    /// tick's period on the fastest clock the world draws), `None` when the checker cannot tell.
    fn holds_down(&self, t_ns: u64, coord: NodeId, node: NodeId) -> Option<bool> {
        let heard = self.heard.get(&(coord, node)).copied();
        match self.missed.get(&(coord, node)) {
            None => Some(false),
            Some(&(step, _)) if heard.is_some_and(|h| h > step) => Some(false),
            Some(&(_, at)) => {
                let p = self.p.handoff_every_ns;
                let p_min =
                    (u128::from(p) * 1_000_000 / (1_000_000 + DRIFT_PPM_MAX as u128)).max(1) as u64;
                let ticks = t_ns.saturating_sub(at) / p_min + 1;
                (ticks.saturating_mul(p) < SUSPECT_NS).then_some(true)
            }
        }
    }

    /// The first targets of a store phase a coordinator begins in `range` by the protocol's
    /// rule: each preference-list replica in turn, or — with sloppy quorums, when the
    /// coordinator holds it down (`holds_down`: its local detector, or SWIM's view) — the next
    /// fallback it does not hold down, as a stand-in (the replica itself when none is left).
    /// `None` when whether the coordinator holds one of the nodes that decide it down cannot be
    /// told.
    fn first_targets(
        &self,
        range: usize,
        holds_down: impl Fn(NodeId) -> Option<bool>,
    ) -> Option<Vec<(NodeId, Option<NodeId>)>> {
        let mut fallbacks = self.p.ring.fallbacks(range).iter();
        let mut expect = Vec::new();
        for &to in self.p.ring.preference(range) {
            if self.p.sloppy && holds_down(to)? {
                let mut stand_in = None;
                for &f in fallbacks.by_ref() {
                    if !holds_down(f)? {
                        stand_in = Some(f);
                        break;
                    }
                }
                if let Some(f) = stand_in {
                    expect.push((f, Some(to)));
                    continue;
                }
            }
            expect.push((to, None));
        }
        Some(expect)
    }

    /// The stand-ins a store deadline of `coord`'s request `req` (in `range`, with targets
    /// `old`) adds with sloppy quorums: for each target that has not acknowledged, in order,
    /// the next fallback of the range that is not a target yet, standing in for the replica
    /// that target holds the copy of (none when the fallbacks are used up).
    fn deadline_stand_ins(
        &self,
        coord: NodeId,
        req: u64,
        range: usize,
        old: &[(NodeId, Option<NodeId>)],
    ) -> Vec<(NodeId, Option<NodeId>)> {
        let mut all = old.to_vec();
        for &(to, hint_for) in old {
            if self.answered(coord, req, true, to) {
                continue;
            }
            let next = self
                .p
                .ring
                .fallbacks(range)
                .iter()
                .copied()
                .find(|f| !all.iter().any(|t| t.0 == *f));
            if let Some(f) = next {
                all.push((f, Some(hint_for.unwrap_or(to))));
            }
        }
        all.split_off(old.len())
    }

    /// `coord` had fallback `f` stand in for `replica` when request `req` of `op` began to
    /// store.
    fn believed_down(
        &self,
        t_ns: u64,
        coord: NodeId,
        req: u64,
        op: OpId,
        f: NodeId,
        replica: NodeId,
    ) -> Result<(), String> {
        let heard = self.heard.get(&(coord, replica)).copied();
        match self.missed.get(&(coord, replica)) {
            Some(&(step, _)) if heard.is_none_or(|h| h < step) => Ok(()),
            Some(&(_, at)) => Err(format!(
                "n{coord} had fallback n{f} stand in for n{replica} when op {op} (request {req}) began to store at {}, but a message from n{replica} had reached n{coord} since n{replica} last missed one of its deadlines (at {}): nothing said n{replica} was unreachable",
                fmt_nanos(t_ns),
                fmt_nanos(at)
            )),
            None => Err(format!(
                "n{coord} had fallback n{f} stand in for n{replica} when op {op} (request {req}) began to store at {}, but n{replica} never missed a deadline of n{coord}: nothing said it was unreachable",
                fmt_nanos(t_ns)
            )),
        }
    }
}

impl Checker<QuorumNode> for StandIns {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn invoke(&mut self, _t: u64, _op_id: OpId, node: NodeId, _op: &Op) -> Result<(), String> {
        self.settle()?;
        self.next = Some((node, Step::Client));
        Ok(())
    }

    fn send(&mut self, _t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        let (req, store) = match msg {
            Msg::Fetch { req, .. } => (*req, false),
            Msg::Store { req, .. } => (*req, true),
            _ => return Ok(()),
        };
        for r in &mut self.resends {
            if r.coord == from && r.req == req && r.store == store {
                r.sent.push(to);
            }
        }
        Ok(())
    }

    fn finish(&mut self, _t: u64) -> Result<(), String> {
        self.settle()
    }

    fn deliver(&mut self, _t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        self.settle()?;
        self.step += 1;
        self.heard.insert((to, from), self.step);
        self.next = Some((to, Step::Message));
        let (req, store) = match msg {
            Msg::FetchReply { req, sibs: Some(_) } => (*req, false),
            Msg::StoreAck { req, ok: true } => (*req, true),
            _ => return Ok(()),
        };
        // Only for requests the coordinator holds (the others are over).
        if self.seen.get(&to).is_some_and(|r| r.contains_key(&req)) {
            *self.answered.entry((to, req, store)).or_insert(0) |= 1 << from;
        }
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &QuorumNode) -> Result<(), String> {
        self.settle()?;
        self.step += 1;
        let step = match self.next.take() {
            Some((n, s)) if n == node => Some(s),
            _ => None,
        };
        let timer = step.is_none();
        let reqs = state.requests();
        let mut seen = self.seen.remove(&node).unwrap_or_default();
        // Gone in a timer's step: its deadline passed (giving up, or a get's read repair).
        let gone: Vec<(u64, Seen)> = seen
            .iter()
            .filter(|(req, _)| !reqs.contains_key(req))
            .map(|(&req, s)| (req, s.clone()))
            .collect();
        for (req, s) in gone {
            seen.remove(&req);
            if timer {
                self.deadline(t_ns, node, req, &s);
            }
            self.answered.remove(&(node, req, false));
            self.answered.remove(&(node, req, true));
        }
        let mut result = Ok(());
        for (&req, rq) in reqs {
            let targets = match &rq.phase {
                Phase::Store { targets, .. } => Some(targets),
                Phase::Fetch { .. } => None,
            };
            let before = seen.get(&req);
            let mut deadline = false;
            if let Some(b) = before {
                if rq.tries > b.tries && b.targets.is_some() == targets.is_some() {
                    self.deadline(t_ns, node, req, b);
                    deadline = true;
                }
            }
            if let Some(targets) = targets {
                match before.and_then(|b| b.targets.as_ref()) {
                    // The store phase began here: its first targets.
                    None => {
                        if !self.p.gossip {
                            for &(f, hint_for) in targets {
                                if let Some(replica) = hint_for {
                                    result = result.and(
                                        self.believed_down(t_ns, node, req, rq.op_id, f, replica),
                                    );
                                }
                            }
                            let expect =
                                self.first_targets(rq.range, |n| self.holds_down(t_ns, node, n));
                            if let Some(expect) = expect {
                                if *targets != expect {
                                    result = result.and(Err(format!(
                                        "n{node} began to store op {} (request {req}) at {} with targets {targets:?}, but its detector calls for {expect:?}: a replica that missed a deadline of n{node} not long before and has not been heard from since is held down (SUSPECT_NS), and a fallback stands in for it at once (Dynamo §4.6)",
                                        rq.op_id,
                                        fmt_nanos(t_ns),
                                    )));
                                }
                            }
                        } else if let Some(swim) = state.gossip() {
                            // SWIM's view, read from its table (not through the accessor the
                            // coordinator asks): failed or left is down.
                            let view = swim.membership();
                            let down = |n: NodeId| {
                                Some(matches!(view.status(n), Status::Failed | Status::Left))
                            };
                            if let Some(expect) = self.first_targets(rq.range, down) {
                                if *targets != expect {
                                    result = result.and(Err(format!(
                                        "n{node} began to store op {} (request {req}) at {} with targets {targets:?}, but its SWIM member's view calls for {expect:?}: a replica held failed or left is stood in for by the next fallback not held so (Dynamo §4.6 with SWIM's membership)",
                                        rq.op_id,
                                        fmt_nanos(t_ns),
                                    )));
                                }
                            }
                        }
                    }
                    // Stand-ins added at a deadline.
                    Some(old) => {
                        for &(f, hint_for) in &targets[old.len().min(targets.len())..] {
                            let Some(replica) = hint_for else { continue };
                            let silent = old.iter().any(|&(to, h)| {
                                h.unwrap_or(to) == replica && !self.answered(node, req, true, to)
                            });
                            if !silent {
                                result = result.and(Err(format!(
                                    "n{node} had fallback n{f} stand in for n{replica} at a deadline of op {} (request {req}) at {}, but n{replica}'s copy had been acknowledged (targets were {old:?})",
                                    rq.op_id,
                                    fmt_nanos(t_ns)
                                )));
                            }
                        }
                        if deadline && self.p.sloppy {
                            let expect = self.deadline_stand_ins(node, req, rq.range, old);
                            let added = &targets[old.len().min(targets.len())..];
                            if added != &expect[..] {
                                result = result.and(Err(format!(
                                    "at a deadline of op {} (request {req}) at {}, n{node} added stand-ins {added:?} to targets {old:?}, but the targets that had not acknowledged call for {expect:?}: each gets the next fallback of the range not yet a target ({:?})",
                                    rq.op_id,
                                    fmt_nanos(t_ns),
                                    self.p.ring.fallbacks(rq.range),
                                )));
                            }
                        }
                    }
                }
            }
            // The resends this deadline calls for (a request still held kept its phase going).
            if deadline {
                let expect: Vec<NodeId> = match (targets, before.and_then(|b| b.targets.as_ref())) {
                    (None, _) => self
                        .p
                        .ring
                        .preference(rq.range)
                        .iter()
                        .copied()
                        .filter(|&to| !self.answered(node, req, false, to))
                        .collect(),
                    (Some(now), Some(old)) => old
                        .iter()
                        .map(|t| t.0)
                        .filter(|&to| !self.answered(node, req, true, to))
                        .chain(now[old.len().min(now.len())..].iter().map(|t| t.0))
                        .collect(),
                    (Some(_), None) => Vec::new(),
                };
                self.resends.push(Resend {
                    coord: node,
                    req,
                    store: targets.is_some(),
                    at_ns: t_ns,
                    expect,
                    sent: Vec::new(),
                });
            }
            // Remember it, copying the targets only when they changed (they only grow within
            // a phase).
            match seen.get_mut(&req) {
                Some(s) => {
                    s.tries = rq.tries;
                    let changed = match (&s.targets, targets) {
                        (None, None) => false,
                        (Some(old), Some(new)) => old.len() != new.len(),
                        _ => true,
                    };
                    if changed {
                        s.targets = targets.cloned();
                    }
                }
                None => {
                    seen.insert(
                        req,
                        Seen {
                            range: rq.range,
                            tries: rq.tries,
                            targets: targets.cloned(),
                        },
                    );
                }
            }
        }
        self.seen.insert(node, seen);
        result
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.forget(node);
    }
}
