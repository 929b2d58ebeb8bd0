//! The pipeline's checkers. All watch one shared [`History`], kept by the first in the list
//! ([`Recorder`]); each reports its own property.
//!
//! 1. [`NO_LOST_CHANGE`] — every change the producer acknowledged as committed has, by the
//!    end of the quiet period, its effect in the table or its message in the dead-letter queue.
//! 2. [`EXACTLY_ONCE`] — no event's effect is in the table's effect log twice, however often
//!    it was delivered (checked after every write of the table).
//! 3. [`KEY_ORDER`] — the derived table holds, for every key, the event with the highest
//!    sequencer among those applied to it — never an older one that arrived late (checked
//!    after every write of the table).
//! 4. [`DEAD_LETTER`] — a message reaches the dead-letter queue only after the queue handed it
//!    out `max_receive` times, and its stored receive count says so. This is SQS's promise for
//!    `maxReceiveCount`: receives as the queue counts them — a receive whose answer the network
//!    lost counts (the worker never saw it), and a count lost in a crash errs low (more
//!    receives before the move, never fewer). Every receive the queue handed out is counted
//!    here, whether its count reached the disk or not; a message found in the dead-letter
//!    queue after a reopen is judged like one moved before the checker's eyes.
//! 5. [`LEASE`] — a worker applies an effect only while it holds the message: before the
//!    queue's visibility timeout since the receive it applies under — or since the latest
//!    extension of that delivery's visibility (`ChangeMessageVisibility`) — ran out. (Not judged in
//!    runs with clock jumps: a lease is a promise about clocks, and a jumped clock breaks it —
//!    which idempotency, checker 2, must then absorb. A skewed clock is judged.)
//! 7. [`QUEUE_DURABLE`] — a send the queue acknowledged is never lost across a leader
//!    failover: the replica leading the newest term holds every acknowledged send in its log —
//!    judged when it is elected and whenever more sends are acknowledged. (The producer drops
//!    an acknowledged event from its outbox: the queue's log is then its only copy.)
//! 6. [`GROUP_ORDER`] (FIFO mode only) — per message group (key), the queue hands out a message
//!    only after every earlier committed change of the group took effect or was
//!    dead-lettered: in order, one in flight at a time. A message handed out again after its
//!    effect (a delete lost in a queue crash) is no breach: nothing earlier is waiting.
//!
//! The recorder also measures the run ([`super::metrics`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::event::{Event, Kind};
use super::metrics as em;
use super::msg::{Op, Reply};
use super::node::EventsNode;
use super::params::{role, Role};
use super::replica::Queue;
use crate::check::Checker;
use crate::faults::Fault;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;

/// Checker (1)'s name.
pub const NO_LOST_CHANGE: &str = "events-no-lost-change";
/// Checker (2)'s name.
pub const EXACTLY_ONCE: &str = "events-exactly-once";
/// Checker (3)'s name.
pub const KEY_ORDER: &str = "events-key-order";
/// Checker (4)'s name.
pub const DEAD_LETTER: &str = "events-dead-letter";
/// Checker (5)'s name.
pub const LEASE: &str = "events-lease";
/// Checker (6)'s name (FIFO mode only).
pub const GROUP_ORDER: &str = "events-group-order";
/// Checker (7)'s name.
pub const QUEUE_DURABLE: &str = "events-queue-durable";

/// What the checkers need to know of the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// The queue's visibility timeout in force.
    pub visibility_ns: u64,
    /// Receives before dead-lettering.
    pub max_receive: u32,
    /// A FIFO queue: judge [`GROUP_ORDER`].
    pub fifo: bool,
    /// The run's fault setting, for the metrics.
    pub setting: &'static str,
    /// Queue replicas (for the roles by node id).
    pub replicas: u32,
}

/// Everything the checkers saw; see the module docs.
#[derive(Debug, Default)]
pub struct History {
    /// Committed events by sequencer, with the time the client heard so.
    pub committed: BTreeMap<u64, (Event, u64)>,
    /// (sequencer, receipt) → when the queue handed it out (the latest such grant).
    pub granted: BTreeMap<(u64, u32), u64>,
    /// Grants per sequencer.
    pub grants: BTreeMap<u64, u32>,
    /// Deliveries workers got, per sequencer.
    pub delivered: BTreeMap<u64, u32>,
    /// The dead-letter queue as the latest leader holds it: sequencer → receive count.
    pub dead: BTreeMap<u64, u32>,
    /// Every message any replica ever held in its dead-letter queue.
    pub dead_ever: std::collections::BTreeSet<u64>,
    /// Per replica: the dead-letter queue's version last looked at, and its messages.
    pub dead_views: BTreeMap<NodeId, (u64, BTreeMap<u64, u32>)>,
    /// The latest leader seen: (term, node).
    pub leader: Option<(u64, NodeId)>,
    /// Sends the queue acknowledged.
    pub acked: std::collections::BTreeSet<u64>,
    /// Elections won (leaders seen, one per term).
    pub leaders_seen: u64,
    /// Acknowledged sends when the leader was last checked against them.
    pub acked_checked: usize,
    /// (sequencer, receipt) → when the queue last extended that delivery's visibility.
    pub extended: BTreeMap<(u64, u32), u64>,
    /// Visibility extensions granted.
    pub extensions: u64,
    /// The table's version last looked at.
    pub table_version: Option<u64>,
    /// Effects in the table's log per sequencer, as last seen.
    pub effects: BTreeMap<u64, u32>,
    /// When each event's effect was first seen in the table.
    pub first_effect: BTreeMap<u64, u64>,
    /// The derived table as last seen.
    pub derived: BTreeMap<u32, (u64, Kind)>,
    /// A clock was jumped: the lease checker stands down.
    pub clock_jumped: bool,
    /// The first safety failures seen by the recorder, per checker (reported by each).
    pub failures: BTreeMap<&'static str, (u64, String)>,
}

impl History {
    /// FIFO: a group's message goes out only once every earlier committed change of the group
    /// took effect or was dead-lettered — the queue deletes a message only after its effect,
    /// and unlocks the group only on that delete or a move to the dead-letter queue.
    fn judge_group_order(&mut self, t_ns: u64, granted: &[(u64, u32)], q: &Queue) {
        for &(seq, receipt) in granted {
            let Some(key) = q.queued().get(&seq).map(|m| m.event.key) else {
                continue;
            };
            let waiting = self.committed.range(..seq).find(|(s, (e, _))| {
                e.key == key && !self.first_effect.contains_key(s) && !self.dead_ever.contains(s)
            });
            if let Some((&before, _)) = waiting {
                self.fail(
                    GROUP_ORDER,
                    t_ns,
                    format!(
                        "e{seq} (group k{key}) handed out with receipt {receipt} while e{before} of the same group had neither taken effect nor reached the dead-letter queue — a FIFO queue hands out a group's next message only after the one before it"
                    ),
                );
            }
        }
    }

    fn fail(&mut self, checker: &'static str, t_ns: u64, message: String) {
        self.failures.entry(checker).or_insert((t_ns, message));
    }

    /// Look at the table again if it changed: effect counts and the per-key order.
    fn look_at_table(&mut self, t_ns: u64, node: &EventsNode) {
        let Some(table) = node.table() else { return };
        if self.table_version == Some(table.version()) {
            return;
        }
        self.table_version = Some(table.version());
        self.effects.clear();
        let mut newest: BTreeMap<u32, (u64, Kind)> = BTreeMap::new();
        for e in table.effects() {
            let n = self.effects.entry(e.seq).or_insert(0);
            *n += 1;
            if *n == 2 {
                let delivered = self.delivered.get(&e.seq).copied().unwrap_or(0);
                self.fail(
                    EXACTLY_ONCE,
                    t_ns,
                    format!(
                        "event {e:?}'s effect was applied twice (delivered {delivered} times); the idempotency table should have stopped the second"
                    ),
                );
            }
            self.first_effect.entry(e.seq).or_insert(t_ns);
            let slot = newest.entry(e.key).or_insert((e.seq, e.kind));
            if e.seq > slot.0 {
                *slot = (e.seq, e.kind);
            }
        }
        for (key, want) in &newest {
            let have = table.derived().get(key).copied();
            if have != Some(*want) {
                let have = have.map_or("nothing".into(), |(s, k)| format!("e{s} ({k:?})"));
                self.fail(
                    KEY_ORDER,
                    t_ns,
                    format!(
                        "key {key}: the derived table holds {have}, but the newest event applied to it is e{} ({:?}) — an older event that arrived later overwrote it",
                        want.0, want.1
                    ),
                );
            }
        }
        self.derived = table.derived().clone();
    }
}

/// The bookkeeper: records the history every checker reads, and measures the run.
pub struct Recorder {
    h: Rc<RefCell<History>>,
    rules: Rules,
}

/// One property over the shared history.
pub struct Property {
    name: &'static str,
    h: Rc<RefCell<History>>,
    rules: Rules,
}

/// The workload's checkers, the recorder first.
pub fn checkers(rules: Rules) -> Vec<Box<dyn Checker<EventsNode>>> {
    let h = Rc::new(RefCell::new(History::default()));
    let mut v: Vec<Box<dyn Checker<EventsNode>>> = vec![Box::new(Recorder {
        h: h.clone(),
        rules,
    })];
    let mut names = vec![
        NO_LOST_CHANGE,
        EXACTLY_ONCE,
        KEY_ORDER,
        DEAD_LETTER,
        LEASE,
        QUEUE_DURABLE,
    ];
    if rules.fifo {
        names.push(GROUP_ORDER);
    }
    for name in names {
        v.push(Box::new(Property {
            name,
            h: h.clone(),
            rules,
        }));
    }
    v
}

impl Recorder {
    /// One replica after a handler: its dead-letter queue ([`DEAD_LETTER`]), its log against
    /// the acknowledged sends ([`QUEUE_DURABLE`]), and whether it is a new leader.
    fn judge_replica(&self, h: &mut History, t_ns: u64, node: NodeId, q: &Queue) {
        let st = q.state();
        // Every message new in this replica's dead-letter queue — moved by its leader, applied
        // from the log, or found there by a reopen — is judged.
        let version = st.dead_version;
        let view = h.dead_views.entry(node).or_default();
        if view.0 != version || view.1.len() != st.dead.len() {
            let fresh: Vec<(u64, u32)> = st
                .dead
                .iter()
                .filter(|(s, _)| !view.1.contains_key(s))
                .map(|(s, (_, r))| (*s, *r))
                .collect();
            *view = (
                version,
                st.dead.iter().map(|(s, (_, r))| (*s, *r)).collect(),
            );
            for (seq, receives) in fresh {
                h.dead_ever.insert(seq);
                let grants = h.grants.get(&seq).copied().unwrap_or(0);
                if grants < self.rules.max_receive || receives < self.rules.max_receive {
                    h.fail(
                        DEAD_LETTER,
                        t_ns,
                        format!(
                            "e{seq} in replica {node}'s dead-letter queue after {grants} receives (its count said {receives}); maxReceiveCount is {}",
                            self.rules.max_receive
                        ),
                    );
                }
            }
        }
        // The replica leading the newest term must hold every send acknowledged so far: looked
        // at when it is elected, and again whenever more sends were acknowledged (by it, or by
        // a deposed leader that has not heard of the new term yet).
        if q.is_leader() && h.leader.is_none_or(|(t, _)| q.term() >= t) {
            let fresh_term = h.leader.is_none_or(|(t, _)| q.term() > t);
            if fresh_term {
                h.leaders_seen += 1;
            }
            h.leader = Some((q.term(), node));
            if fresh_term || h.acked_checked != h.acked.len() {
                h.acked_checked = h.acked.len();
                if let Some(s) = h.acked.iter().find(|s| !st.known.contains(s)) {
                    h.fail(
                        QUEUE_DURABLE,
                        t_ns,
                        format!(
                            "replica {node} leads term {} without the acknowledged send of e{s} in its log: the send was acknowledged before a majority of replicas held it, and the producer has dropped it from its outbox",
                            q.term()
                        ),
                    );
                }
            }
        }
        if h.leader.is_some_and(|(_, n)| n == node) {
            h.dead = h.dead_views[&node].1.clone();
        }
    }
}

impl Checker<EventsNode> for Recorder {
    fn name(&self) -> &'static str {
        "events-recorder"
    }

    fn complete(&mut self, t_ns: u64, _op_id: OpId, reply: &Reply) -> Result<(), String> {
        if let Reply::Committed(e) = reply {
            self.h.borrow_mut().committed.insert(e.seq, (*e, t_ns));
        }
        Ok(())
    }

    fn invoke(&mut self, _t: u64, _op: OpId, _node: NodeId, _o: &Op) -> Result<(), String> {
        Ok(())
    }

    fn fault(&mut self, _t_ns: u64, fault: &Fault) {
        if matches!(fault, Fault::ClockJump { .. }) {
            self.h.borrow_mut().clock_jumped = true;
        }
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &EventsNode) -> Result<(), String> {
        let mut h = self.h.borrow_mut();
        let seen = &state.seen;
        match role(node, self.rules.replicas) {
            Role::Queue => {
                for &(seq, receipt) in &seen.granted {
                    h.granted.insert((seq, receipt), t_ns);
                    *h.grants.entry(seq).or_insert(0) += 1;
                }
                for &k in &seen.extended {
                    h.extended.insert(k, t_ns);
                    h.extensions += 1;
                }
                h.acked.extend(seen.acked.iter().copied());
                if let Some(q) = state.queue() {
                    self.judge_replica(&mut h, t_ns, node, q);
                    if self.rules.fifo {
                        h.judge_group_order(t_ns, &seen.granted, q);
                    }
                }
            }
            Role::Table => h.look_at_table(t_ns, state),
            Role::Worker => {
                for &seq in &seen.delivered {
                    *h.delivered.entry(seq).or_insert(0) += 1;
                }
                if !h.clock_jumped {
                    for &(seq, receipt) in &seen.applies {
                        let Some(&granted) = h.granted.get(&(seq, receipt)) else {
                            continue;
                        };
                        let extended = h.extended.get(&(seq, receipt)).copied().unwrap_or(0);
                        let granted = granted.max(extended);
                        let expired = granted + self.rules.visibility_ns;
                        if t_ns > expired {
                            h.fail(
                                LEASE,
                                t_ns,
                                format!(
                                    "worker {node} applied e{seq} under receipt {receipt}, handed out (or last extended) at {}, after its visibility timeout ran out at {} — another worker may hold it now",
                                    fmt_nanos(granted),
                                    fmt_nanos(expired)
                                ),
                            );
                        }
                    }
                }
            }
            Role::Producer => {}
        }
        Ok(())
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        em::report(&self.h.borrow(), self.rules.setting, out);
    }
}

impl Checker<EventsNode> for Property {
    fn name(&self) -> &'static str {
        self.name
    }

    fn observe(&mut self, _t: u64, _node: NodeId, _state: &EventsNode) -> Result<(), String> {
        match self.h.borrow().failures.get(self.name) {
            Some((t, m)) => Err(format!("{m} (at {})", fmt_nanos(*t))),
            None => Ok(()),
        }
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        let h = self.h.borrow();
        if let Some((t, m)) = h.failures.get(self.name) {
            return Err(format!("{m} (at {})", fmt_nanos(*t)));
        }
        if self.name != NO_LOST_CHANGE {
            return Ok(());
        }
        let lost: Vec<&(Event, u64)> = h
            .committed
            .iter()
            .filter(|(s, _)| !h.effects.contains_key(s) && !h.dead.contains_key(s))
            .map(|(_, v)| v)
            .collect();
        if let Some((e, t)) = lost.first() {
            let grants = h.grants.get(&e.seq).copied().unwrap_or(0);
            return Err(format!(
                "{} committed change(s) never took effect nor reached the dead-letter queue; first: {e:?}, committed at {}, handed out {grants} times (max_receive {})",
                lost.len(),
                fmt_nanos(*t),
                self.rules.max_receive
            ));
        }
        Ok(())
    }
}
