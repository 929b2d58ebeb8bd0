//! The writer queue — LevelDB's `writers_` deque, RocksDB's `WriteThread` — that turns
//! concurrent writes into group commits.
//!
//! A write that finds another one committing joins the back of the queue (a write alone skips
//! it, see below). The writer at the front is the *leader*: it takes the batches of the
//! writers queued behind it (up to a byte limit), and `write.rs` writes them as one WAL
//! record, syncs once if any of them needs a sync, and inserts them into the memtable.
//! Only then does the leader [`WriteQueue::finish`] the group: the next writer in line is
//! woken to lead, then each follower with the group's outcome. While one leader waits for its
//! fsync, the writers arriving meanwhile queue up and form the next group, so under load one
//! fsync covers many writes — that is the whole point.
//!
//! Durability is exact: a follower is acknowledged only after the leader's sync covering its
//! record (when it asked for one; see [`WriteQueue::take_group`] for who may join whom), and a
//! failed WAL write or sync fails every writer of the group. A thread writing alone never
//! queues: finding the queue empty and the write lock free, it commits its write itself
//! (`write.rs`), which is also how the simulator (no threads) runs every write.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::lock;
use crate::lsm::batch::WriteBatch;
use crate::lsm::error::Result;
use crate::lsm::options::SyncPolicy;

/// Most bytes of batches one group may carry (RocksDB's `max_write_batch_group_size_bytes`).
pub(super) const GROUP_BYTES_MAX: usize = 1 << 20;
/// A leader whose own batch is at most this big caps its group at its size plus this much, so a
/// small write is not delayed behind a megabyte of others (RocksDB's rule).
const SMALL_LEADER_BYTES: usize = 128 << 10;

/// Where a queued writer stands, set by the leader that wakes it.
#[derive(Debug)]
enum Standing {
    /// Queued behind a leader.
    Waiting,
    /// At the front: it leads the next group.
    Lead,
    /// A leader committed its write: the outcome.
    Done(Result<()>),
}

/// One write waiting in the queue.
#[derive(Debug)]
pub(super) struct Writer {
    /// The batch, until a leader takes it.
    batch: Mutex<Option<WriteBatch>>,
    /// Its encoded size (the batch may already be taken when a leader sizes a group).
    bytes: usize,
    /// `WriteOptions::sync`.
    sync: Option<bool>,
    /// Set by the leader that commits this write or hands it the lead. A writer waits on its
    /// own lock, not the queue's: the woken followers of a group do not queue up on the lock
    /// the next leader needs to form its group.
    standing: Mutex<Standing>,
    /// Wakes this writer when `standing` changes.
    wake: Condvar,
}

impl Writer {
    /// A writer for `batch` with the write's sync override.
    pub(super) fn new(batch: WriteBatch, sync: Option<bool>) -> Self {
        Writer {
            bytes: batch.size_bytes(),
            batch: Mutex::new(Some(batch)),
            sync,
            standing: Mutex::new(Standing::Waiting),
            wake: Condvar::new(),
        }
    }

    /// The batch (a leader takes each member's batch exactly once).
    pub(super) fn take_batch(&self) -> WriteBatch {
        lock(&self.batch)
            .take()
            .expect("a queued writer's batch is taken once")
    }

    /// Whether this write must be synced before it is acknowledged, as far as can be known
    /// before it is written (`Group` decides after the append, in `write.rs`).
    fn needs_sync(&self, policy: SyncPolicy) -> bool {
        self.sync.unwrap_or(matches!(policy, SyncPolicy::Always))
    }

    /// This write's own sync override.
    pub(super) fn sync(&self) -> Option<bool> {
        self.sync
    }

    /// Tell this writer where it stands now, and wake it.
    fn tell(&self, standing: Standing) {
        *lock(&self.standing) = standing;
        self.wake.notify_one();
    }

    /// Wait until a leader commits this write or hands it the lead.
    fn wait(&self) -> Turn {
        let mut s = lock(&self.standing);
        // Bound: each `tell` ends the wait; a spurious wake-up finds `Waiting` and waits again.
        loop {
            match std::mem::replace(&mut *s, Standing::Waiting) {
                Standing::Waiting => s = self.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
                Standing::Lead => return Turn::Lead,
                Standing::Done(r) => return Turn::Done(r),
            }
        }
    }
}

/// What [`WriteQueue::join`] returns.
pub(super) enum Turn {
    /// A leader committed this write: its outcome.
    Done(Result<()>),
    /// This writer is at the front: it leads the next group.
    Lead,
}

/// The queue of writers.
#[derive(Debug, Default)]
pub(super) struct WriteQueue {
    writers: Mutex<VecDeque<Arc<Writer>>>,
    /// The queue's length, readable without its lock (`write.rs`'s lone-writer test: a hint,
    /// never needed for correctness, which the write lock gives).
    queued: AtomicUsize,
}

impl WriteQueue {
    /// Queue `me` and wait until a leader has committed it or it is at the front. The writer
    /// at the front of the queue is the one leader: a writer finding the queue empty leads at
    /// once, any other is handed the lead by [`WriteQueue::finish`] when the group before it
    /// leaves the queue.
    pub(super) fn join(&self, me: &Arc<Writer>) -> Turn {
        let front = {
            let mut q = lock(&self.writers);
            q.push_back(Arc::clone(me));
            self.queued.store(q.len(), Ordering::Relaxed);
            q.len() == 1
        };
        if front {
            return Turn::Lead;
        }
        me.wait()
    }

    /// Fill `group` with the group `leader` (at the front) commits: itself and the writers
    /// right behind it, in order, up to the byte limit. A leader that need not sync stops before the first writer
    /// that must (LevelDB's rule: that writer leads its own group and syncs it), so a write
    /// that asked for no sync never waits for someone else's fsync; a syncing leader takes
    /// everyone, and its one sync covers them all.
    pub(super) fn take_group(
        &self,
        leader: &Arc<Writer>,
        policy: SyncPolicy,
        group: &mut Vec<Arc<Writer>>,
    ) {
        group.clear();
        let q = lock(&self.writers);
        assert!(
            q.front().is_some_and(|f| Arc::ptr_eq(f, leader)),
            "only the writer at the front leads"
        );
        let limit = if leader.bytes <= SMALL_LEADER_BYTES {
            leader.bytes + SMALL_LEADER_BYTES
        } else {
            GROUP_BYTES_MAX.max(leader.bytes)
        };
        let leader_syncs = leader.needs_sync(policy);
        group.push(Arc::clone(leader));
        let mut bytes = leader.bytes;
        for w in q.iter().skip(1) {
            if bytes + w.bytes > limit || (!leader_syncs && w.needs_sync(policy)) {
                break;
            }
            bytes += w.bytes;
            group.push(Arc::clone(w));
        }
    }

    /// The leader is done with `group` (taken by [`WriteQueue::take_group`], or just the
    /// leader if it failed before forming one): remove it from the queue, wake the next
    /// leader, then hand each follower a copy of `result`.
    ///
    /// The wake-ups happen after the queue's lock is released, the next leader's first: it is
    /// on the path to the next fsync, the followers only return. Each writer waits on its own
    /// lock, so the woken followers do not pile up on the queue's lock, which the next leader
    /// needs to form its group; and a wake-up after the queue changed cannot be lost, since
    /// the woken writer reads its standing, not the queue.
    pub(super) fn finish(&self, group: &[Arc<Writer>], result: &Result<()>) {
        let next = {
            let mut q = lock(&self.writers);
            for member in group {
                let front = q.pop_front().expect("a group is at the front of the queue");
                assert!(
                    Arc::ptr_eq(&front, member),
                    "the queue's front is the group, in order"
                );
            }
            self.queued.store(q.len(), Ordering::Relaxed);
            q.front().cloned()
        };
        if let Some(next) = next {
            next.tell(Standing::Lead);
        }
        for member in group.iter().skip(1) {
            let copy = match result {
                Ok(()) => Ok(()),
                Err(e) => Err(e.duplicate()),
            };
            member.tell(Standing::Done(copy));
        }
    }

    /// Whether no writer is queued (a moment ago: writers may join at any time).
    pub(super) fn is_empty(&self) -> bool {
        self.queued.load(Ordering::Relaxed) == 0
    }

    /// Writers queued now (leader included).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        lock(&self.writers).len()
    }
}
