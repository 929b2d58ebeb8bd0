//! The producer: an object store that emits an event for every committed change, through a
//! transactional outbox.
//!
//! A PUT or DELETE is one LSM write batch, synced before the client hears "committed": the
//! object's new version (`o` · key), the commit counter (`n`), and the event in the outbox
//! (`x` · sequencer). Either all three survive a crash or none do, so no committed change can
//! lose its event. A sender drains the outbox on a timer: it sends the oldest events to the
//! queue in a batch and deletes them from the outbox only when the queue says it holds them
//! durably. A lost ack means the batch is sent again — the queue may hold an event twice over
//! time, which is why the function must be idempotent.
//!
//! The planted bug `outbox-after-commit-unsynced` writes the outbox entry in a second,
//! unsynced write to a separate outbox store, after the commit was synced and acknowledged: a
//! crash then keeps the change and drops its event.

use std::collections::BTreeMap;

use rand::RngCore;
use seedbed_engine::lsm::WriteBatch;

use super::event::{u64_at, Event, Kind, EVENT_BYTES};
use super::msg::{Msg, Op, Reply};
use super::node::{EventsNode, Seen};
use super::params::{Bug, Params, QUEUE};
use super::store::{corrupt, id_of, key_u32, key_u64, Store, StoreError};
use crate::node::{Ctx, NodeId, OpId, TimerId};
use crate::time::ms;

/// The database directory.
pub const DIR: &str = "/producer";
/// The outbox's own directory under the planted bug.
pub const BUGGY_OUTBOX_DIR: &str = "/outbox";
const COUNTER_KEY: &[u8] = b"n";
const OUTBOX: u8 = b'x';
const OBJECT: u8 = b'o';

const TIMER_SEND: TimerId = 1;
const TIMER_OPEN: TimerId = 2;
/// Local time between attempts to open the store.
pub const OPEN_RETRY_NS: u64 = ms(20);
/// A batch not acknowledged within this is sent again.
pub const RESEND_NS: u64 = ms(50);

/// The queue replica after `n` (round robin over 1..=replicas).
pub fn next_replica(n: NodeId, replicas: u32) -> NodeId {
    n % replicas + QUEUE
}

/// The producer's state: an index of what its store holds.
#[derive(Debug)]
pub struct Producer {
    p: Params,
    store: Option<Store>,
    /// The outbox's own store under the planted bug.
    buggy_outbox: Option<Store>,
    /// The next sequencer to hand out.
    next_seq: u64,
    /// Events not yet acknowledged by the queue, by sequencer.
    outbox: BTreeMap<u64, Event>,
    /// The batch in flight: (id, local time sent).
    in_flight: Option<(u64, u64)>,
    /// The sender's timer is set (one chain per process).
    ticking: bool,
    /// The queue replica believed to lead.
    queue: NodeId,
}

impl Producer {
    /// A producer with nothing open yet.
    pub fn new(p: Params) -> Self {
        Producer {
            p,
            store: None,
            buggy_outbox: None,
            next_seq: 1,
            outbox: BTreeMap::new(),
            in_flight: None,
            ticking: false,
            queue: QUEUE,
        }
    }

    /// Events waiting in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Open the store and rebuild the index; retry on a timer if the disk refuses.
    pub fn boot(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.buggy_outbox = None;
        self.in_flight = None;
        match self.open(ctx) {
            Ok(()) if !self.ticking => {
                self.ticking = true;
                ctx.set_timer(self.p.send_every_ns, TIMER_SEND);
            }
            Ok(()) => {}
            Err(_) => {
                self.store = None;
                self.buggy_outbox = None;
                ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
            }
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> Result<(), StoreError> {
        let store = Store::open(ctx.disk(), DIR, ctx.clock())?;
        self.next_seq = match store.get(COUNTER_KEY)? {
            None => 1,
            Some(b) if b.len() == 8 => u64_at(&b, 0),
            Some(_) => return Err(corrupt(COUNTER_KEY, "counter is not 8 bytes".into())),
        };
        let outbox_store = if self.p.bug == Bug::OutboxAfterCommitUnsynced {
            Some(Store::open(ctx.disk(), BUGGY_OUTBOX_DIR, ctx.clock())?)
        } else {
            None
        };
        self.outbox.clear();
        for (k, v) in outbox_store.as_ref().unwrap_or(&store).scan(&[OUTBOX])? {
            let seq = id_of(&k, 8)?;
            let e = Event::decode(&v).map_err(|d| corrupt(&k, d))?;
            if e.seq != seq {
                return Err(corrupt(&k, format!("holds event {}", e.seq)));
            }
            self.outbox.insert(seq, e);
        }
        self.store = Some(store);
        self.buggy_outbox = outbox_store;
        Ok(())
    }

    /// A write failed: drop the store (memory may be ahead of the disk) and reopen it.
    fn failed(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.buggy_outbox = None;
        ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
    }

    /// A client's PUT or DELETE: commit it with its event, durably, then answer.
    pub fn on_client(&mut self, ctx: &mut Ctx<'_, EventsNode>, op_id: OpId, op: Op) {
        let Some(store) = self.store.as_ref() else {
            ctx.reply(op_id, Reply::Unavailable);
            return;
        };
        let event = match op {
            Op::Put { key, poison } => Event {
                seq: self.next_seq,
                key,
                kind: Kind::Created,
                poison,
            },
            Op::Delete { key } => Event {
                seq: self.next_seq,
                key,
                kind: Kind::Removed,
                poison: false,
            },
        };
        let mut batch = WriteBatch::with_capacity(64);
        let mut version = [0u8; 9];
        version[..8].copy_from_slice(&event.seq.to_le_bytes());
        version[8] = u8::from(event.kind == Kind::Removed);
        batch.put(&key_u32(OBJECT, event.key), &version);
        batch.put(COUNTER_KEY, &(event.seq + 1).to_le_bytes());
        let separate_outbox = self.p.bug == Bug::OutboxAfterCommitUnsynced;
        if !separate_outbox {
            batch.put(&key_u64(OUTBOX, event.seq), &event.encode());
        }
        if store.write(batch, true).is_err() {
            // The sync failed: the change may or may not be on the disk. Reopening tells.
            ctx.reply(op_id, Reply::Unknown);
            self.failed(ctx);
            return;
        }
        self.next_seq = event.seq + 1;
        if separate_outbox {
            // The planted bug: the event goes to the outbox in a second write, unsynced.
            let mut batch = WriteBatch::with_capacity(9 + EVENT_BYTES + 8);
            batch.put(&key_u64(OUTBOX, event.seq), &event.encode());
            let written = self
                .buggy_outbox
                .as_ref()
                .is_some_and(|o| o.write(batch, false).is_ok());
            ctx.reply(op_id, Reply::Committed(event));
            if written {
                self.outbox.insert(event.seq, event);
            } else {
                self.failed(ctx);
            }
            return;
        }
        self.outbox.insert(event.seq, event);
        ctx.reply(op_id, Reply::Committed(event));
    }

    /// Send the oldest outbox entries to the queue, unless a batch is in flight and young.
    fn drain(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        if self.store.is_none() || self.outbox.is_empty() {
            return;
        }
        let now = ctx.local_ns();
        if let Some((_, sent)) = self.in_flight {
            // Young: hold. (A clock that jumped back, `now < sent`, counts as old.)
            if now >= sent && now - sent < RESEND_NS {
                return;
            }
            // Unanswered: the replica may be down or cut off; try the next one (a follower
            // points back at the leader).
            self.queue = next_replica(self.queue, self.p.replicas);
        }
        let events: Vec<Event> = self
            .outbox
            .values()
            .take(self.p.batch as usize)
            .copied()
            .collect();
        let batch = ctx.rng().next_u64();
        self.in_flight = Some((batch, now));
        ctx.send(self.queue, Msg::Send { batch, events });
    }

    /// The queue holds these events: drop them from the outbox (unsynced: if the delete is
    /// lost in a crash, the events are sent again, and duplicates are the function's
    /// business).
    fn acked(&mut self, ctx: &mut Ctx<'_, EventsNode>, batch_id: u64, seqs: &[u64]) {
        if self.in_flight.is_some_and(|(b, _)| b == batch_id) {
            self.in_flight = None;
        }
        let store = match (&self.buggy_outbox, &self.store) {
            (Some(o), _) => o,
            (None, Some(s)) => s,
            (None, None) => return,
        };
        let mut batch = WriteBatch::new();
        for s in seqs {
            if self.outbox.contains_key(s) {
                batch.delete(&key_u64(OUTBOX, *s));
            }
        }
        if store.write(batch, false).is_err() {
            self.failed(ctx);
            return;
        }
        for s in seqs {
            self.outbox.remove(s);
        }
        self.drain(ctx);
    }

    /// Messages: acks from the queue, and redirects from a replica that does not lead.
    pub fn on_message(&mut self, ctx: &mut Ctx<'_, EventsNode>, msg: Msg, _seen: &mut Seen) {
        match msg {
            Msg::SendAck { batch, seqs } => self.acked(ctx, batch, &seqs),
            // A replica that knows no leader says so; the resend tries the next replica.
            Msg::NotLeader { leader: Some(to) } if to != self.queue => {
                // Send the batch again to the leader named, at once.
                self.queue = to;
                if self.in_flight.take().is_some() {
                    self.drain(ctx);
                }
            }
            _ => {}
        }
    }

    /// Timers: the sender's tick, and reopening the store.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, timer: TimerId) {
        match timer {
            TIMER_SEND => {
                ctx.set_timer(self.p.send_every_ns, TIMER_SEND);
                self.drain(ctx);
            }
            TIMER_OPEN if self.store.is_none() => self.boot(ctx),
            _ => {}
        }
    }
}
