//! The queue: SQS standard-queue semantics on one node's LSM.
//!
//! - **At-least-once.** A message stays in the queue until a worker deletes it. Receiving it
//!   only hides it for the *visibility timeout*; if no delete comes in time it is handed out
//!   again — to the same worker or another.
//! - **Receive count and receipts.** Every receive adds one to the message's receive count; the
//!   count at that receive is the delivery's *receipt*, and only the latest receipt deletes the
//!   message (an older delivery's delete is ignored, as SQS ignores a stale receipt handle).
//! - **Dead-letter queue.** A receive that finds a message already received
//!   `max_receive` times moves it to the dead-letter queue instead of handing it out
//!   (`maxReceiveCount` of a redrive policy).
//! - **Batches and long polling.** Sends, receives and deletes carry up to ten messages; a
//!   receive that finds nothing waits up to its `wait_ms` for a message to arrive.
//!
//! Durability: a batch of sends is synced before it is acknowledged, and so is every move to
//! the dead-letter queue. Receive counts and deletes are written unsynced: a crash may lose
//! them, which only means a message is handed out again. A receive whose count write fails
//! hands its messages out all the same (the write may have reached the disk): so counts only
//! err low, and a message is never dead-lettered before the queue handed it out
//! `max_receive` times — what SQS promises of `maxReceiveCount`, counted by the queue (a
//! receive whose answer the network lost counts, as SQS counts it). Visibility deadlines live
//! in memory: after a crash every message is visible at once — more redelivery, never less.
//! Deadlines are in the queue's local time; one further away than the timeout itself means the
//! clock jumped back, and counts as passed.
//!
//! **FIFO mode** (`fifo=true`, SQS FIFO queues): each key is a message group. A receive hands
//! out only a group's oldest message, and nothing of a group whose oldest message is in flight
//! (hidden), so a group's messages go out one at a time, in order; the next goes out once the
//! one before is deleted or dead-lettered. The sequencer is the deduplication id: the queue
//! remembers each id it enqueued for [`DEDUP_WINDOW_NS`] (five minutes, synced with the send)
//! and accepts a resend within the window without enqueuing it again — even after the message
//! was deleted, which a standard queue would enqueue afresh.
//!
//! One queue node, not replicated: the replicated log with majority acks is not built
//! yet (see docs/events.md).
//!
//! Layout: `m` · sequencer → event + receive count (the queue); `d` · sequencer → event +
//! receive count (the dead-letter queue); `u` · sequencer → local time first enqueued (FIFO
//! deduplication ids).

use std::collections::{BTreeMap, BTreeSet};

use seedbed_engine::lsm::WriteBatch;

use super::event::{u32_at, u64_at, Event, EVENT_BYTES};
use super::msg::Msg;
use super::node::{EventsNode, Seen};
use super::params::{Bug, Params, DEDUP_WINDOW_NS};
use super::store::{corrupt, id_of, key_u64, Store, StoreError};
use crate::node::{Ctx, NodeId, TimerId};
use crate::time::ms;

/// The database directory.
pub const DIR: &str = "/queue";
const QUEUED: u8 = b'm';
const DEAD: u8 = b'd';
const DEDUP: u8 = b'u';
const TIMER_TICK: TimerId = 1;
const TIMER_OPEN: TimerId = 2;
/// Local time between attempts to open the store.
pub const OPEN_RETRY_NS: u64 = ms(20);
/// Long polls held at once, at most (beyond, a poll is answered empty at once).
pub const HELD_MAX: usize = 64;

/// Whether a deduplication id first enqueued at local time `first` is past the window at
/// `now`. A clock jumped back (`now < first`) keeps it: the window errs long, never short.
pub fn dedup_expired(first: u64, now: u64) -> bool {
    now >= first && now - first >= DEDUP_WINDOW_NS
}

/// A message in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queued {
    /// The event.
    pub event: Event,
    /// Receives so far (the latest delivery's receipt).
    pub receives: u32,
    /// Hidden until this local time.
    pub visible_at: u64,
}

/// What a receive took from the queue.
enum Take {
    /// The store is not open: nothing.
    Closed,
    /// These messages, their receive counts written (not synced).
    Written(Vec<(Event, u32)>),
    /// These messages, though the write of their receive counts failed: the store must be
    /// reopened. See [`Queue::take`].
    Failed(Vec<(Event, u32)>),
}

#[derive(Clone, Copy, Debug)]
struct Held {
    from: NodeId,
    poll: u64,
    max: u32,
    until: u64,
}

/// The queue's state: an index of what its store holds, plus visibility deadlines.
#[derive(Debug)]
pub struct Queue {
    p: Params,
    store: Option<Store>,
    queued: BTreeMap<u64, Queued>,
    dead: BTreeMap<u64, (Event, u32)>,
    /// FIFO: deduplication id (sequencer) → local time it was first enqueued.
    dedup: BTreeMap<u64, u64>,
    held: Vec<Held>,
    ticking: bool,
}

fn record(e: &Event, receives: u32) -> [u8; EVENT_BYTES + 4] {
    let mut b = [0u8; EVENT_BYTES + 4];
    b[..EVENT_BYTES].copy_from_slice(&e.encode());
    b[EVENT_BYTES..].copy_from_slice(&receives.to_le_bytes());
    b
}

fn decode(k: &[u8], v: &[u8]) -> Result<(u64, Event, u32), StoreError> {
    let seq = id_of(k, 8)?;
    if v.len() != EVENT_BYTES + 4 {
        return Err(corrupt(k, format!("record is {} bytes", v.len())));
    }
    let e = Event::decode(v).map_err(|d| corrupt(k, d))?;
    if e.seq != seq {
        return Err(corrupt(k, format!("holds event {}", e.seq)));
    }
    Ok((seq, e, u32_at(v, EVENT_BYTES)))
}

impl Queue {
    /// A queue with nothing open yet.
    pub fn new(p: Params) -> Self {
        Queue {
            p,
            store: None,
            queued: BTreeMap::new(),
            dead: BTreeMap::new(),
            dedup: BTreeMap::new(),
            held: Vec::new(),
            ticking: false,
        }
    }

    /// The dead-letter queue as the disk holds it: sequencer → (event, receive count).
    pub fn dead_letters(&self) -> &BTreeMap<u64, (Event, u32)> {
        &self.dead
    }

    /// Messages in the queue (visible or not).
    pub fn queued(&self) -> &BTreeMap<u64, Queued> {
        &self.queued
    }

    /// Whether the store is open (the queue serves).
    pub fn is_open(&self) -> bool {
        self.store.is_some()
    }

    /// Open the store and rebuild the index (every message visible); retry on failure.
    pub fn boot(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.held.clear();
        if self.open(ctx).is_err() {
            self.store = None;
            ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
            return;
        }
        if !self.ticking {
            self.ticking = true;
            ctx.set_timer(self.p.queue_tick_ns, TIMER_TICK);
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> Result<(), StoreError> {
        let store = Store::open(ctx.disk(), DIR, ctx.clock())?;
        self.queued.clear();
        self.dead.clear();
        for (k, v) in store.scan(&[QUEUED])? {
            let (seq, event, receives) = decode(&k, &v)?;
            let q = Queued {
                event,
                receives,
                visible_at: 0,
            };
            self.queued.insert(seq, q);
        }
        for (k, v) in store.scan(&[DEAD])? {
            let (seq, event, receives) = decode(&k, &v)?;
            self.dead.insert(seq, (event, receives));
        }
        self.dedup.clear();
        for (k, v) in store.scan(&[DEDUP])? {
            if v.len() != 8 {
                return Err(corrupt(&k, format!("dedup record is {} bytes", v.len())));
            }
            self.dedup.insert(id_of(&k, 8)?, u64_at(&v, 0));
        }
        self.store = Some(store);
        Ok(())
    }

    fn failed(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.held.clear();
        ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
    }

    /// Enqueue a batch durably, then acknowledge it. An event already queued or dead-lettered
    /// is not stored twice; one deleted earlier is queued again (the queue keeps no memory of
    /// deleted messages, as SQS standard queues keep none).
    fn on_send(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        batch_id: u64,
        events: &[Event],
        seen: &mut Seen,
    ) {
        let Some(store) = self.store.as_ref() else {
            return;
        };
        let mut batch = WriteBatch::new();
        let mut fresh = Vec::new();
        let now = ctx.local_ns();
        // FIFO: ids past the deduplication window are forgotten (in the same synced batch).
        let expired: Vec<u64> = self
            .dedup
            .iter()
            .filter(|(_, &first)| dedup_expired(first, now))
            .map(|(s, _)| *s)
            .collect();
        for s in &expired {
            batch.delete(&key_u64(DEDUP, *s));
        }
        for e in events {
            if self.queued.contains_key(&e.seq) || self.dead.contains_key(&e.seq) {
                continue;
            }
            if fresh.iter().any(|f: &Event| f.seq == e.seq) {
                continue;
            }
            if self.p.fifo && self.dedup.contains_key(&e.seq) && !expired.contains(&e.seq) {
                // Sent within the window (and deleted since): accepted, not enqueued again.
                continue;
            }
            batch.put(&key_u64(QUEUED, e.seq), &record(e, 0));
            if self.p.fifo {
                batch.put(&key_u64(DEDUP, e.seq), &now.to_le_bytes());
            }
            fresh.push(*e);
        }
        if store.write(batch, true).is_err() {
            self.failed(ctx);
            return;
        }
        for s in expired {
            self.dedup.remove(&s);
        }
        if self.p.fifo {
            for e in &fresh {
                self.dedup.insert(e.seq, now);
            }
        }
        for e in fresh {
            let q = Queued {
                event: e,
                receives: 0,
                visible_at: 0,
            };
            self.queued.insert(e.seq, q);
        }
        let seqs = events.iter().map(|e| e.seq).collect();
        ctx.send(
            from,
            Msg::SendAck {
                batch: batch_id,
                seqs,
            },
        );
        self.serve_held(ctx, seen);
    }

    /// Hand out up to `max` visible messages: each gets one more receive and hides for the
    /// visibility timeout — or, if it was received `max_receive` times already, moves to the
    /// dead-letter queue.
    ///
    /// A failed write still hands its messages out ([`Take::Failed`]): a write that returned
    /// an error may have reached the disk all the same (its WAL record written, the sync or
    /// the maintenance after it failed), and the reopen would then find receive counts raised
    /// by a receive that never happened — a "ghost" receive that dead-letters a message one
    /// receive early (issue #20, seed 944). Handing the messages out makes every count the
    /// disk can hold a receive that did happen: counts err low (a lost write), never high.
    fn take(&mut self, ctx: &mut Ctx<'_, EventsNode>, max: u32, seen: &mut Seen) -> Take {
        let Some(store) = self.store.as_ref() else {
            return Take::Closed;
        };
        let now = ctx.local_ns();
        let mut batch = WriteBatch::new();
        let mut grants = Vec::new();
        let mut dead = Vec::new();
        let mut groups = BTreeSet::new();
        for (seq, q) in &self.queued {
            if grants.len() >= max as usize {
                break;
            }
            // FIFO: only a group's oldest message may go out, so a group with a message in
            // flight (hidden) hands out nothing; the planted bug forgets the lock.
            let head = groups.insert(q.event.key);
            if self.p.fifo && !head && self.p.bug != Bug::FifoGroupUnlocked {
                continue;
            }
            // Hidden, unless the clock jumped back past the receive that hid it.
            let hidden_for = q.visible_at.saturating_sub(now);
            if hidden_for > 0 && hidden_for <= self.p.queue_visibility_ns() {
                continue;
            }
            if q.receives >= self.p.max_receive {
                batch.delete(&key_u64(QUEUED, *seq));
                batch.put(&key_u64(DEAD, *seq), &record(&q.event, q.receives));
                dead.push((*seq, q.event, q.receives));
            } else {
                batch.put(&key_u64(QUEUED, *seq), &record(&q.event, q.receives + 1));
                grants.push((q.event, q.receives + 1));
            }
        }
        // Moves to the dead-letter queue are synced; a lost receive count only errs low.
        if store.write(batch, !dead.is_empty()).is_err() {
            // Memory is not updated: the caller drops the store and the reopen rebuilds the
            // index from whatever the disk kept (every message visible, as after a crash; the
            // dead-letter moves done or not). The receives happen all the same; see above.
            for (e, receipt) in &grants {
                seen.granted.push((e.seq, *receipt));
            }
            return Take::Failed(grants);
        }
        let until = now.saturating_add(self.p.queue_visibility_ns());
        for (e, receipt) in &grants {
            let q = self.queued.get_mut(&e.seq).expect("granted from the queue");
            q.receives = *receipt;
            q.visible_at = until;
            seen.granted.push((e.seq, *receipt));
        }
        for (seq, e, receives) in dead {
            self.queued.remove(&seq);
            self.dead.insert(seq, (e, receives));
            seen.dead_lettered.push((seq, receives));
        }
        Take::Written(grants)
    }

    /// The FIFO deduplication ids, as the disk holds them: sequencer → local time first sent.
    pub fn dedup_ids(&self) -> &BTreeMap<u64, u64> {
        &self.dedup
    }

    fn on_receive(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        poll: u64,
        max: u32,
        wait_ms: u64,
        seen: &mut Seen,
    ) {
        let msgs = match self.take(ctx, max, seen) {
            Take::Closed => return,
            Take::Failed(msgs) => {
                ctx.send(from, Msg::Messages { poll, msgs });
                return self.failed(ctx);
            }
            Take::Written(msgs) => msgs,
        };
        if msgs.is_empty() && wait_ms > 0 && self.held.len() < HELD_MAX {
            let until = ctx.local_ns().saturating_add(ms(wait_ms));
            self.held.push(Held {
                from,
                poll,
                max,
                until,
            });
            return;
        }
        ctx.send(from, Msg::Messages { poll, msgs });
    }

    /// Answer held long polls that now have messages, or whose wait is over.
    fn serve_held(&mut self, ctx: &mut Ctx<'_, EventsNode>, seen: &mut Seen) {
        let mut i = 0;
        while i < self.held.len() {
            let h = self.held[i];
            let msgs = match self.take(ctx, h.max, seen) {
                Take::Closed => return,
                Take::Failed(msgs) => {
                    ctx.send(h.from, Msg::Messages { poll: h.poll, msgs });
                    return self.failed(ctx); // Drops the other held polls: they poll again.
                }
                Take::Written(msgs) => msgs,
            };
            let left = h.until.saturating_sub(ctx.local_ns());
            if msgs.is_empty() && left > 0 && left <= ms(self.p.wait_ms) {
                i += 1;
                continue;
            }
            self.held.remove(i);
            ctx.send(h.from, Msg::Messages { poll: h.poll, msgs });
        }
    }

    /// Delete messages by (sequencer, receipt); a stale receipt deletes nothing.
    fn on_delete(&mut self, ctx: &mut Ctx<'_, EventsNode>, entries: &[(u64, u32)]) {
        let Some(store) = self.store.as_ref() else {
            return;
        };
        let mut batch = WriteBatch::new();
        let mut gone = Vec::new();
        for (seq, receipt) in entries {
            if self.queued.get(seq).is_some_and(|q| q.receives == *receipt) && !gone.contains(seq) {
                batch.delete(&key_u64(QUEUED, *seq));
                gone.push(*seq);
            }
        }
        if store.write(batch, false).is_err() {
            self.failed(ctx);
            return;
        }
        for seq in gone {
            self.queued.remove(&seq);
        }
    }

    /// Messages from producers and workers.
    pub fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        msg: Msg,
        seen: &mut Seen,
    ) {
        match msg {
            Msg::Send { batch, events } => self.on_send(ctx, from, batch, &events, seen),
            Msg::Receive { poll, max, wait_ms } => {
                self.on_receive(ctx, from, poll, max, wait_ms, seen)
            }
            Msg::Delete { entries } => self.on_delete(ctx, &entries),
            _ => {}
        }
    }

    /// Timers: the long-poll tick, and reopening the store.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, timer: TimerId, seen: &mut Seen) {
        match timer {
            TIMER_TICK => {
                ctx.set_timer(self.p.queue_tick_ns, TIMER_TICK);
                self.serve_held(ctx, seen);
            }
            TIMER_OPEN if self.store.is_none() => self.boot(ctx),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dedup_window_is_five_minutes_and_errs_long_after_a_backward_jump() {
        let t = ms(1_000);
        assert!(!dedup_expired(t, t));
        assert!(!dedup_expired(t, t + DEDUP_WINDOW_NS - 1));
        assert!(dedup_expired(t, t + DEDUP_WINDOW_NS));
        assert!(!dedup_expired(t, t - 1), "a clock jumped back keeps the id");
    }
}
