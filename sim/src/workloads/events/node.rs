//! One pipeline node: a role ([`Role`]) chosen by its id, and what the checkers may watch of it.
//!
//! Every node runs the same type so that the world can drive the cluster; the enum hands each
//! event to its role. Roles keep no state across a crash but what their LSM holds (workers
//! hold none at all: a function is stateless, its effects live in the table).
//!
//! [`Seen`] is what the checkers learn from a handler, beyond the client history: which
//! messages the queue handed out or dead-lettered, which deliveries a worker got and which
//! applies it issued. It is cleared before every handler and read by
//! [`crate::Checker::observe`] after it, so it only ever holds one handler's doings.

use super::msg::{Msg, Op, Reply};
use super::params::{Params, Role};
use super::producer::Producer;
use super::replica::Queue;
use super::table::Table;
use super::worker::Worker;
use crate::node::{Ctx, Node, NodeId, OpId, TimerId};

/// What one handler did that the checkers watch; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Queue: (sequencer, receipt) of each message handed out.
    pub granted: Vec<(u64, u32)>,
    /// Queue: (sequencer, receive count) of each message moved to the dead-letter queue.
    pub dead_lettered: Vec<(u64, u32)>,
    /// Worker: sequencer of each message delivered to it.
    pub delivered: Vec<u64>,
    /// Worker: (sequencer, receipt) of each apply it sent to the table.
    pub applies: Vec<(u64, u32)>,
    /// Queue leader: sequencers of the sends it acknowledged to the producer.
    pub acked: Vec<u64>,
    /// Queue leader: (sequencer, receipt) of each delivery whose visibility it extended.
    pub extended: Vec<(u64, u32)>,
}

impl Seen {
    fn clear(&mut self) {
        self.granted.clear();
        self.dead_lettered.clear();
        self.delivered.clear();
        self.applies.clear();
        self.acked.clear();
        self.extended.clear();
    }
}

/// A role's state.
#[derive(Debug)]
pub enum Part {
    /// Node 0.
    Producer(Producer),
    /// Nodes 1..=replicas (boxed: the largest part by far).
    Queue(Box<Queue>),
    /// Node replicas + 1.
    Table(Table),
    /// Nodes from replicas + 2 on.
    Worker(Worker),
}

/// One pipeline node; see the module docs.
#[derive(Debug)]
pub struct EventsNode {
    /// Its role's state.
    pub part: Part,
    /// What its last handler did, for the checkers.
    pub seen: Seen,
}

impl EventsNode {
    /// A fresh process for node `id`.
    pub fn new(p: Params, id: NodeId) -> Self {
        let part = match p.role(id) {
            Role::Producer => Part::Producer(Producer::new(p)),
            Role::Queue => Part::Queue(Box::new(Queue::new(p))),
            Role::Table => Part::Table(Table::new(p)),
            Role::Worker => Part::Worker(Worker::new(p)),
        };
        EventsNode {
            part,
            seen: Seen::default(),
        }
    }

    /// The queue replica's state, if this is one.
    pub fn queue(&self) -> Option<&Queue> {
        match &self.part {
            Part::Queue(q) => Some(q.as_ref()),
            _ => None,
        }
    }

    /// The table's state, if this is the table.
    pub fn table(&self) -> Option<&Table> {
        match &self.part {
            Part::Table(t) => Some(t),
            _ => None,
        }
    }
}

impl Node for EventsNode {
    type Msg = Msg;
    type Op = Op;
    type Reply = Reply;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_restart(ctx);
        if let (Part::Queue(q), super::params::QUEUE) = (&mut self.part, ctx.id()) {
            q.stand_first(ctx);
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.seen.clear();
        let seen = &mut self.seen;
        match &mut self.part {
            Part::Producer(n) => n.boot(ctx),
            Part::Queue(n) => n.boot(ctx),
            Part::Table(n) => n.boot(ctx),
            Part::Worker(n) => n.boot(ctx, seen),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.seen.clear();
        let seen = &mut self.seen;
        match &mut self.part {
            Part::Producer(n) => n.on_message(ctx, msg, seen),
            Part::Queue(n) => n.on_message(ctx, from, msg, seen),
            Part::Table(n) => n.on_message(ctx, from, msg),
            Part::Worker(n) => n.on_message(ctx, from, msg, seen),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId) {
        self.seen.clear();
        let seen = &mut self.seen;
        match &mut self.part {
            Part::Producer(n) => n.on_timer(ctx, timer),
            Part::Queue(n) => n.on_timer(ctx, timer, seen),
            Part::Table(n) => n.on_timer(ctx, timer),
            Part::Worker(n) => n.on_timer(ctx, timer, seen),
        }
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Op) {
        self.seen.clear();
        match &mut self.part {
            Part::Producer(n) => n.on_client(ctx, op_id, op),
            // Clients write to the producer only; anything else is refused, not dropped.
            _ => ctx.reply(op_id, Reply::Unavailable),
        }
    }
}
