//! The write path: a batch joins the writer queue (`write_queue.rs`); the leader of its group
//! gives the group's batches consecutive sequence numbers, writes them to the WAL as one record
//! (synced as the `SyncPolicy` and the writers ask), inserts them into the active memtable, and
//! publishes them by advancing `last_seq`. A write that finds nobody queued and the write lock
//! free skips the queue and commits itself as a group of one. A full memtable is rotated: the
//! old log synced, a new log created, the memtable queued for flushing. When a write must wait
//! for room, see `backpressure.rs`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard, TryLockError};

use super::write_queue::{Turn, Writer};
use super::{lock, DbInner, LsmState, WriteState};
use crate::lsm::batch::WriteBatch;
use crate::lsm::error::{LsmError, Result};
use crate::lsm::memtable::MemTable;
use crate::lsm::options::{SyncPolicy, WriteOptions};
use crate::lsm::stats::Stats;
use crate::lsm::wal::{create_log, log_path, WalWriter};

impl DbInner {
    pub(super) fn sync_locked(&self, w: &mut WriteState) -> Result<()> {
        if w.wal.unsynced_bytes() > 0 {
            w.wal.sync()?;
            Stats::add(&self.stats.wal_syncs, 1);
        }
        w.last_sync_nanos = self.clock.now_nanos();
        Ok(())
    }

    pub(super) fn group_commit_tick(&self) -> Result<()> {
        if let SyncPolicy::Group { interval_ms, .. } = self.opts.sync {
            let mut w = lock(&self.write);
            let due =
                self.clock.now_nanos().saturating_sub(w.last_sync_nanos) >= interval_ms * 1_000_000;
            if due && w.wal.unsynced_bytes() > 0 {
                if let Err(e) = self.sync_locked(&mut w) {
                    w.log_failed = true;
                    self.set_bg_error(&e);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Apply `batch`: join the writer queue, and either be committed by a leader or lead a
    /// group (see `write_queue.rs`).
    pub(super) fn write(&self, batch: WriteBatch, wo: WriteOptions) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        batch.validate().map_err(LsmError::InvalidArgument)?;
        if let Err(e) = self.check_bg_error() {
            // Read-only after a full disk: space may be back (`resume.rs`).
            if !e.is_no_space() {
                return Err(e);
            }
            self.resume()?;
        }
        // Alone: no writer queued, and no leader (or lone writer) committing. The queue would
        // hand this write straight back as the leader of a group of one, at the price of an
        // allocation, five lock round trips and the queue's bookkeeping on every put of a
        // single writer. A writer arriving meanwhile finds the write lock taken and queues
        // as before; its leader takes the write lock after this write, as after any leader.
        if self.writers.is_empty() {
            let alone = match self.write.try_lock() {
                Ok(w) => Some(w),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(w) = alone {
                return self.write_alone(w, batch, wo.sync);
            }
        }
        let me = Arc::new(Writer::new(batch, wo.sync));
        match self.writers.join(&me) {
            Turn::Done(r) => r,
            Turn::Lead => self.lead(&me),
        }
    }

    /// Commit one batch that bypassed the queue, holding the write lock (`w`).
    fn write_alone(
        &self,
        w: MutexGuard<'_, WriteState>,
        batch: WriteBatch,
        sync: Option<bool>,
    ) -> Result<()> {
        let mut w = self.make_room(w)?;
        let seq = self.last_seq.load(Ordering::Relaxed) + 1;
        let (count, bytes) = (u64::from(batch.len()), batch.size_bytes() as u64);
        let rep = batch.into_rep(seq);
        self.commit_rep(&mut w, rep, seq, (count, bytes, 1), |policy_sync| {
            sync.unwrap_or(policy_sync)
        })
    }

    /// As leader: make room, take a group, commit it, wake the next leader and the followers.
    fn lead(&self, me: &Arc<Writer>) -> Result<()> {
        let w = lock(&self.write);
        let mut w = match self.make_room(w) {
            Ok(w) => w,
            Err(e) => {
                // No group formed: only this writer fails; the next one leads and tries.
                let r = Err(e);
                self.writers.finish(std::slice::from_ref(me), &r);
                return r;
            }
        };
        let mut group = std::mem::take(&mut w.group);
        self.writers.take_group(me, self.opts.sync, &mut group);
        let result = self.commit_group(&mut w, &group);
        // Still holding the write lock: the next leader, woken first, waits for it while the
        // followers are woken, and the followers that write again at once are queued by the
        // time it forms its group. (Letting go first was measured: the next leader then
        // takes only the writers that were not in this group — 4.3 of 8 per group instead of
        // 6, and fewer writes per second — docs/benchmarks.md.)
        self.writers.finish(&group, &result);
        group.clear();
        w.group = group;
        result
    }

    /// Write the group's batches as one WAL record, sync it if any member needs that, insert
    /// it into the memtable and publish its sequence numbers.
    fn commit_group(&self, w: &mut WriteState, group: &[Arc<Writer>]) -> Result<()> {
        let seq = self.last_seq.load(Ordering::Relaxed) + 1;
        let (rep, count, user_bytes) = if let [only] = group {
            // A group of one (every write when there is no contention): no list, no copy.
            let b = only.take_batch();
            let (count, bytes) = (u64::from(b.len()), b.size_bytes() as u64);
            (b.into_rep(seq), count, bytes)
        } else {
            let batches: Vec<WriteBatch> = group.iter().map(|m| m.take_batch()).collect();
            let count: u64 = batches.iter().map(|b| u64::from(b.len())).sum();
            let bytes: u64 = batches.iter().map(|b| b.size_bytes() as u64).sum();
            (WriteBatch::merge_into_rep(batches, seq), count, bytes)
        };
        let writes = group.len() as u64;
        self.commit_rep(w, rep, seq, (count, user_bytes, writes), |policy_sync| {
            group.iter().any(|m| m.sync().unwrap_or(policy_sync))
        })
    }

    /// Write `rep` (the encoded batches of `writes` writes: `count` operations numbered from
    /// `seq`, `user_bytes` of them) as one WAL record, sync it if `wants_sync` says so given
    /// the policy's own answer, insert it into the memtable and publish its sequence numbers.
    fn commit_rep(
        &self,
        w: &mut WriteState,
        rep: Vec<u8>,
        seq: u64,
        (count, user_bytes, writes): (u64, u64, u64),
        wants_sync: impl FnOnce(bool) -> bool,
    ) -> Result<()> {
        let before = w.wal.len_bytes();
        // Hand the record to the OS before acknowledging (like RocksDB's default): a process
        // crash then loses nothing; only a machine crash can lose unsynced writes.
        if let Err(e) = w.wal.add_record(&rep).and_then(|_| w.wal.flush()) {
            // The log may now hold a partial record: refuse further writes until reopened.
            // And drop what did not reach the file: a later sync (at close) must not write a
            // record whose write was reported as failed — requests answered since then did
            // not see it, and a restart would replay it.
            w.wal.discard_unwritten();
            w.log_failed = true;
            self.set_bg_error(&e);
            return Err(e);
        }
        Stats::add(&self.stats.wal_bytes_written, w.wal.len_bytes() - before);
        let policy_sync = match self.opts.sync {
            SyncPolicy::Always => true,
            SyncPolicy::Never => false,
            SyncPolicy::Group { interval_ms, bytes } => {
                w.wal.unsynced_bytes() >= bytes
                    || self.clock.now_nanos().saturating_sub(w.last_sync_nanos)
                        >= interval_ms * 1_000_000
            }
        };
        if wants_sync(policy_sync) {
            if let Err(e) = self.sync_locked(w) {
                w.log_failed = true;
                self.set_bg_error(&e);
                return Err(e);
            }
        }
        w.mem
            .insert_owned(rep)
            .map_err(|e| LsmError::InvalidArgument(e.to_string()))?;
        self.last_seq.store(seq + count - 1, Ordering::Release);
        Stats::add(&self.stats.keys_written, count);
        Stats::add(&self.stats.user_bytes_written, user_bytes);
        Stats::add(&self.stats.writes, writes);
        Stats::add(&self.stats.write_groups, 1);
        Ok(())
    }

    pub(super) fn rotate(&self, w: &mut WriteState) -> Result<()> {
        // Sync the old log first: a later log must never be durable ahead of an earlier one,
        // or a crash could keep a write while losing one before it.
        self.sync_locked(w)?;
        let number = self.next_file.fetch_add(1, Ordering::Relaxed);
        let preallocate = self.opts.wal_preallocate_bytes(&*self.fs);
        let path = log_path(&self.dir, number);
        let file = create_log(&*self.fs, &path, preallocate)
            .and_then(|f| {
                self.fs.sync_dir(&self.dir)?;
                Ok(f)
            })
            .inspect_err(|_| {
                // Never written to: a full disk retried at every write must not fill the
                // directory with empty logs.
                let _ = self.fs.remove_file(&path);
            })?;
        w.wal = WalWriter::preallocated(file, preallocate);
        w.log_failed = false;
        let mem = Arc::new(MemTable::new(number));
        let full = std::mem::replace(&mut w.mem, mem.clone());
        self.update_state(|old| {
            let mut imms = old.imms.clone();
            imms.push(full);
            LsmState {
                mem,
                imms,
                version: old.version.clone(),
            }
        });
        self.wake_bg();
        Ok(())
    }
}
