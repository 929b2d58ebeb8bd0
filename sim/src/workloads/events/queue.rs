//! The queue's state machine: SQS standard-queue (or FIFO) semantics, as a fold over the
//! replicated log's entries ([`super::replica`] keeps the log and serves the clients).
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
//! Every change is an [`Entry`] of the log, applied in log order by [`State::apply`] on every
//! replica — so replicas that hold the same log hold the same queue, receive counts included.
//! The leader decides what an entry does (which messages a receive hands out, which it moves
//! to the dead-letter queue) and writes the decision into the entry; applying it decides
//! nothing new, except what a send enqueues, which depends only on the state and the entry.
//!
//! Visibility deadlines are not in the log: they are the leader's local clock, in memory. A
//! new leader, or a leader after a crash, finds every message visible — more redelivery, never
//! less. Deadlines further away than the timeout itself mean the clock jumped back, and count
//! as passed.
//!
//! **FIFO mode** (`fifo=true`, SQS FIFO queues): each key is a message group. A receive hands
//! out only a group's oldest message, and nothing of a group whose oldest message is in flight
//! (hidden), so a group's messages go out one at a time, in order; the next goes out once the
//! one before is deleted or dead-lettered. The sequencer is the deduplication id: the queue
//! remembers each id it enqueued for [`DEDUP_WINDOW_NS`] (five minutes, of the leader's clock
//! when it appended the send — the time is in the entry, so every replica agrees) and accepts
//! a resend within the window without enqueuing it again — even after the message was deleted,
//! which a standard queue would enqueue afresh.

use std::collections::{BTreeMap, BTreeSet};

use super::event::{u32_at, u64_at, Event, EVENT_BYTES};
use super::params::DEDUP_WINDOW_NS;

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
    /// Hidden until this local time (the leader's memory; 0 on followers).
    pub visible_at: u64,
}

/// One change to the queue: an entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A new leader's first entry: commits what earlier leaders left (see `replica`).
    Noop,
    /// `SendMessageBatch`, at the leader's local time `now` (for the FIFO window).
    Send {
        /// The leader's local time.
        now: u64,
        /// The events, as sent.
        events: Vec<Event>,
    },
    /// `ReceiveMessage`: these messages were handed out (one receive more each), those moved
    /// to the dead-letter queue.
    Receive {
        /// Sequencers handed out.
        grants: Vec<u64>,
        /// Sequencers moved to the dead-letter queue.
        dead: Vec<u64>,
    },
    /// `DeleteMessageBatch` by (sequencer, receipt); a stale receipt deletes nothing.
    Delete {
        /// (sequencer, receipt).
        entries: Vec<(u64, u32)>,
    },
}

const NOOP: u8 = 0;
const SEND: u8 = 1;
const RECEIVE: u8 = 2;
const DELETE: u8 = 3;

fn u64s(out: &mut Vec<u8>, v: &[u64]) {
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Reads a little-endian layout, failing on a short or long record.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.b.len() - self.at < n {
            return Err(format!("entry ends at byte {} of {}", self.at, self.at + n));
        }
        self.at += n;
        Ok(&self.b[self.at - n..self.at])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32_at(self.take(4)?, 0))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64_at(self.take(8)?, 0))
    }
    fn count(&mut self, each: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(each) > self.b.len() - self.at {
            return Err(format!("entry claims {n} items"));
        }
        Ok(n)
    }
    fn u64s(&mut self) -> Result<Vec<u64>, String> {
        let n = self.count(8)?;
        (0..n).map(|_| self.u64()).collect()
    }
}

impl Entry {
    /// tag (1) · payload, little-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        match self {
            Entry::Noop => out.push(NOOP),
            Entry::Send { now, events } => {
                out.push(SEND);
                out.extend_from_slice(&now.to_le_bytes());
                out.extend_from_slice(&(events.len() as u32).to_le_bytes());
                for e in events {
                    out.extend_from_slice(&e.encode());
                }
            }
            Entry::Receive { grants, dead } => {
                out.push(RECEIVE);
                u64s(&mut out, grants);
                u64s(&mut out, dead);
            }
            Entry::Delete { entries } => {
                out.push(DELETE);
                out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
                for (s, r) in entries {
                    out.extend_from_slice(&s.to_le_bytes());
                    out.extend_from_slice(&r.to_le_bytes());
                }
            }
        }
        out
    }

    /// The inverse of [`Entry::encode`]; a short, long or unknown record is an error.
    pub fn decode(b: &[u8]) -> Result<Entry, String> {
        let mut r = Reader { b, at: 0 };
        let e = match r.take(1)?[0] {
            NOOP => Entry::Noop,
            SEND => {
                let now = r.u64()?;
                let n = r.count(EVENT_BYTES)?;
                let mut events = Vec::with_capacity(n);
                for _ in 0..n {
                    events.push(Event::decode(r.take(EVENT_BYTES)?)?);
                }
                Entry::Send { now, events }
            }
            RECEIVE => Entry::Receive {
                grants: r.u64s()?,
                dead: r.u64s()?,
            },
            DELETE => {
                let n = r.count(12)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    entries.push((r.u64()?, r.u32()?));
                }
                Entry::Delete { entries }
            }
            t => return Err(format!("unknown entry tag {t}")),
        };
        if r.at != b.len() {
            return Err(format!("{} bytes after the entry", b.len() - r.at));
        }
        Ok(e)
    }
}

/// The queue as a fold of the log: messages, dead letters, deduplication ids.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Messages in the queue (visible or not).
    pub queued: BTreeMap<u64, Queued>,
    /// The dead-letter queue: sequencer → (event, receive count).
    pub dead: BTreeMap<u64, (Event, u32)>,
    /// FIFO: deduplication id (sequencer) → leader's local time it was first enqueued.
    pub dedup: BTreeMap<u64, u64>,
    /// Every sequencer a send entry carried: what the log knows it was sent.
    pub known: BTreeSet<u64>,
    /// Bumped whenever `dead` changes (so a checker knows when to look again).
    pub dead_version: u64,
    /// FIFO: sends accepted without enqueuing (a duplicate within the window).
    pub deduplicated: u64,
    /// FIFO: sends of an id whose window had expired, enqueued afresh.
    pub dedup_expired: u64,
}

impl State {
    /// Apply one entry (see the module docs).
    pub fn apply(&mut self, entry: &Entry, fifo: bool) {
        match entry {
            Entry::Noop => {}
            Entry::Send { now, events } => {
                if fifo {
                    // Ids past the window are forgotten.
                    self.dedup.retain(|_, first| !dedup_expired(*first, *now));
                }
                for e in events {
                    let again = !self.known.insert(e.seq);
                    if self.queued.contains_key(&e.seq) || self.dead.contains_key(&e.seq) {
                        continue;
                    }
                    if fifo {
                        if self.dedup.contains_key(&e.seq) {
                            // Sent within the window (and deleted since): accepted, not
                            // enqueued again.
                            self.deduplicated += 1;
                            continue;
                        }
                        if again {
                            self.dedup_expired += 1;
                        }
                        self.dedup.insert(e.seq, *now);
                    }
                    let q = Queued {
                        event: *e,
                        receives: 0,
                        visible_at: 0,
                    };
                    self.queued.insert(e.seq, q);
                }
            }
            Entry::Receive { grants, dead } => {
                for s in grants {
                    if let Some(q) = self.queued.get_mut(s) {
                        q.receives += 1;
                    }
                }
                for s in dead {
                    if let Some(q) = self.queued.remove(s) {
                        self.dead.insert(*s, (q.event, q.receives));
                        self.dead_version += 1;
                    }
                }
            }
            Entry::Delete { entries } => {
                for (s, receipt) in entries {
                    if self.queued.get(s).is_some_and(|q| q.receives == *receipt) {
                        self.queued.remove(s);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::event::Kind;
    use super::*;
    use crate::time::ms;

    #[test]
    fn the_dedup_window_is_five_minutes_and_errs_long_after_a_backward_jump() {
        let t = ms(1_000);
        assert!(!dedup_expired(t, t));
        assert!(!dedup_expired(t, t + DEDUP_WINDOW_NS - 1));
        assert!(dedup_expired(t, t + DEDUP_WINDOW_NS));
        assert!(!dedup_expired(t, t - 1), "a clock jumped back keeps the id");
    }

    fn ev(seq: u64) -> Event {
        Event {
            seq,
            key: 1,
            kind: Kind::Created,
            poison: seq.is_multiple_of(2),
        }
    }

    #[test]
    fn entries_round_trip_and_bad_records_are_errors() {
        for e in [
            Entry::Noop,
            Entry::Send {
                now: 7,
                events: vec![ev(1), ev(2)],
            },
            Entry::Receive {
                grants: vec![1, 2],
                dead: vec![9],
            },
            Entry::Delete {
                entries: vec![(3, 4)],
            },
        ] {
            let b = e.encode();
            assert_eq!(Entry::decode(&b).unwrap(), e);
            assert!(Entry::decode(&b[..b.len() - 1]).is_err() || b.len() == 1);
            let mut long = b.clone();
            long.push(0);
            assert!(Entry::decode(&long).is_err());
        }
        assert!(Entry::decode(&[9]).is_err());
        assert!(Entry::decode(&[]).is_err());
    }

    #[test]
    fn receive_counts_and_receipts_follow_the_log() {
        let mut s = State::default();
        s.apply(
            &Entry::Send {
                now: 0,
                events: vec![ev(1)],
            },
            false,
        );
        s.apply(
            &Entry::Receive {
                grants: vec![1],
                dead: vec![],
            },
            false,
        );
        s.apply(
            &Entry::Receive {
                grants: vec![1],
                dead: vec![],
            },
            false,
        );
        // A stale receipt deletes nothing; the latest does.
        s.apply(
            &Entry::Delete {
                entries: vec![(1, 1)],
            },
            false,
        );
        assert_eq!(s.queued[&1].receives, 2);
        s.apply(
            &Entry::Delete {
                entries: vec![(1, 2)],
            },
            false,
        );
        assert!(s.queued.is_empty());
        // A standard queue enqueues a resend after the delete afresh.
        s.apply(
            &Entry::Send {
                now: 1,
                events: vec![ev(1)],
            },
            false,
        );
        assert_eq!(s.queued[&1].receives, 0);
    }
}
