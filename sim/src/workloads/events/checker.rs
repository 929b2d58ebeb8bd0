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
//!    queue's visibility timeout since the receive it applies under ran out. (Not judged in
//!    runs with clock jumps: a lease is a promise about clocks, and a jumped clock breaks it —
//!    which idempotency, checker 2, must then absorb. A skewed clock is judged.)
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
    /// The dead-letter queue as last seen: sequencer → receive count.
    pub dead: BTreeMap<u64, u32>,
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
    fn judge_group_order(&mut self, t_ns: u64, granted: &[(u64, u32)], q: &super::queue::Queue) {
        for &(seq, receipt) in granted {
            let Some(key) = q.queued().get(&seq).map(|m| m.event.key) else {
                continue;
            };
            let waiting = self.committed.range(..seq).find(|(s, (e, _))| {
                e.key == key && !self.first_effect.contains_key(s) && !self.dead.contains_key(s)
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
    let mut names = vec![NO_LOST_CHANGE, EXACTLY_ONCE, KEY_ORDER, DEAD_LETTER, LEASE];
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
        match role(node) {
            Role::Queue => {
                for &(seq, receipt) in &seen.granted {
                    h.granted.insert((seq, receipt), t_ns);
                    *h.grants.entry(seq).or_insert(0) += 1;
                }
                // Every message new in the dead-letter queue — moved by this handler, or found
                // there by a reopen after a failed write — is judged.
                let mut moved: Vec<(u64, u32)> = seen.dead_lettered.clone();
                if let Some(q) = state.queue() {
                    if q.dead_letters().len() != h.dead.len() {
                        for (s, (_, r)) in q.dead_letters() {
                            if !h.dead.contains_key(s) && !moved.iter().any(|(m, _)| m == s) {
                                moved.push((*s, *r));
                            }
                        }
                        h.dead = q
                            .dead_letters()
                            .iter()
                            .map(|(s, (_, r))| (*s, *r))
                            .collect();
                    }
                }
                for (seq, receives) in moved {
                    let grants = h.grants.get(&seq).copied().unwrap_or(0);
                    if grants < self.rules.max_receive || receives < self.rules.max_receive {
                        h.fail(
                            DEAD_LETTER,
                            t_ns,
                            format!(
                                "e{seq} moved to the dead-letter queue after {grants} receives (its count said {receives}); maxReceiveCount is {}",
                                self.rules.max_receive
                            ),
                        );
                    }
                }
                if self.rules.fifo {
                    if let Some(q) = state.queue() {
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
                        let expired = granted + self.rules.visibility_ns;
                        if t_ns > expired {
                            h.fail(
                                LEASE,
                                t_ns,
                                format!(
                                    "worker {node} applied e{seq} under receipt {receipt}, handed out at {}, after its visibility timeout ran out at {} — another worker may hold it now",
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
