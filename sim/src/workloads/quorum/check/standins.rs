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
//!   particular, with every node up and answering, no hint is written. With
//!   `membership=gossip` SWIM's view decides instead, and this half is not checked.
//! - **At a store deadline**: a fallback newly added to a store phase stands in for a replica
//!   whose own target in that phase (the replica itself, or a fallback already holding its
//!   hint) has not acknowledged the store.
//!
//! The checker follows each coordinator's requests in its state after every handler: a request
//! whose tries went up, or that disappeared in a step that was not a message's delivery or a
//! client's call, passed a deadline there (nothing else removes a request outside a message
//! handler).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;
use crate::workloads::quorum::coordinator::Phase;
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
        }
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
        self.next = Some((node, Step::Client));
        Ok(())
    }

    fn deliver(&mut self, _t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
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
            if let Some(b) = before {
                if rq.tries > b.tries && b.targets.is_some() == targets.is_some() {
                    self.deadline(t_ns, node, req, b);
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
                        }
                    }
                    // Stand-ins added at a deadline.
                    Some(old) if targets.len() > old.len() => {
                        for &(f, hint_for) in &targets[old.len()..] {
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
                    }
                    Some(_) => {}
                }
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
