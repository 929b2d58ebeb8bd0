//! The database: the write path (batch → WAL → memtable), the read path (memtables, then
//! levels), flushes, compactions, snapshots and recovery, tied together.
//!
//! One file per concern, in the order a reader meets them:
//! - this file: the shared state ([`LsmState`], `DbInner`) and the public API ([`Db`],
//!   [`Snapshot`]), each method a short delegate to the file that does the work;
//! - `recovery.rs`: `Db::open`'s steps — lock, manifest, tables, log replay, fresh manifest,
//!   garbage;
//! - `write_queue.rs`: concurrent writers line up; the one in front commits a group for all;
//! - `write.rs`: a group's way into the WAL and the memtable, syncs, memtable rotation;
//! - `backpressure.rs`: when a write must wait for (or, in manual mode, do) a flush or
//!   compaction;
//! - `read.rs`: point lookups, batched lookups, iterators;
//! - `maintenance.rs`: flushes, compactions, manifest commits and the background thread;
//! - `resume.rs`: carrying on after a full disk, without a restart.
//!
//! Locks, always taken in this order: `write` (one group leader at a time: WAL and active
//! memtable) → `work` (one flush or compaction at a time) → `versions` (manifest) → `state`
//! (the `RwLock` swapped to publish new memtables and versions). The writer queue's own lock
//! is taken alone or after `write`, never before it. Readers only clone `state`.

mod backpressure;
mod maintenance;
mod read;
mod recovery;
mod resume;
#[cfg(test)]
mod tests;
mod write;
mod write_queue;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

use bytes::Bytes;

use crate::clock::ClockHandle;
use crate::io::FsHandle;

use super::batch::WriteBatch;
use super::cache::BlockCache;
use super::error::{LsmError, Result};
use super::iter::DbIterator;
use super::manifest::{ManifestState, ManifestWriter};
use super::memtable::MemTable;
use super::options::{MaintenanceMode, Options, ReadOptions, WriteOptions};
use super::stats::{Stats, StatsSnapshot, NUM_LEVELS};
use super::version::{TableFile, Version};
use super::wal::WalWriter;

/// What readers see: the memtables and the table version, swapped atomically.
#[derive(Debug)]
pub struct LsmState {
    /// The memtable taking writes.
    pub mem: Arc<MemTable>,
    /// Full memtables waiting to be flushed, oldest first.
    pub imms: Vec<Arc<MemTable>>,
    /// The tables.
    pub version: Arc<Version>,
}

#[derive(Debug)]
struct WriteState {
    wal: WalWriter,
    mem: Arc<MemTable>,
    last_sync_nanos: u64,
    /// The leader's group, reused from write to write (no allocation per write).
    group: Vec<Arc<write_queue::Writer>>,
    /// A write or sync of this log failed: it may hold part of a record, so no record may
    /// follow it there (`resume.rs` starts a new log).
    log_failed: bool,
}

#[derive(Debug)]
struct VersionSet {
    manifest: ManifestWriter,
    mirror: ManifestState,
    pointers: Vec<Vec<u8>>,
}

struct DbInner {
    dir: PathBuf,
    fs: FsHandle,
    clock: ClockHandle,
    opts: Options,
    cache: Arc<BlockCache>,
    stats: Arc<Stats>,
    state: RwLock<Arc<LsmState>>,
    write: Mutex<WriteState>,
    /// Writers waiting for a group commit; the front one leads.
    writers: write_queue::WriteQueue,
    stall_cv: Condvar,
    work: Mutex<()>,
    versions: Mutex<VersionSet>,
    next_file: AtomicU64,
    last_seq: AtomicU64,
    snapshots: Mutex<BTreeMap<u64, usize>>,
    bg_error: Mutex<Option<Arc<LsmError>>>,
    /// Tables written by a flush or compaction whose manifest edit failed: they may be named
    /// by the manifest's partial last record, so they stay until `resume` has replaced the
    /// manifest (or the next open removes them as orphans).
    failed_outputs: Mutex<Vec<Arc<TableFile>>>,
    /// Whether `bg_error` is set: the write path checks this on every write without locking.
    poisoned: AtomicBool,
    /// Tables in L0 of the current version, kept beside `state` so that a write can see that
    /// it need not stall without cloning the state.
    l0_tables: AtomicUsize,
    bg_wake: Mutex<bool>,
    bg_cv: Condvar,
    shutdown: AtomicBool,
    closed: AtomicBool,
    /// `LOCK` in the directory, held until the database is closed: a second process opening
    /// it would write the same WAL and tables.
    dir_lock: Mutex<Option<crate::io::FileLock>>,
}

/// An open LSM database. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Db {
    inner: Arc<DbInner>,
    bg: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("dir", &self.inner.dir).finish()
    }
}

/// A consistent read view: reads with its sequence number see exactly the writes made before
/// it was taken. Compaction keeps the versions it needs until it is dropped.
pub struct Snapshot {
    seq: u64,
    inner: Arc<DbInner>,
}

impl Snapshot {
    /// The snapshot's sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Read options reading at this snapshot.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            snapshot_seq: Some(self.seq),
            ..ReadOptions::default()
        }
    }

    /// An iterator over `[lower, upper)` as of this snapshot, unpositioned (as [`Db::iter`]).
    /// The snapshot owns what it reads, so it can outlive the borrow of its [`Db`].
    pub fn iter(&self, lower: Option<&[u8]>, upper: Option<&[u8]>) -> DbIterator {
        self.inner.iter(
            self.read_options(),
            lower.map(<[u8]>::to_vec),
            upper.map(<[u8]>::to_vec),
        )
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let mut s = lock(&self.inner.snapshots);
        if let Some(n) = s.get_mut(&self.seq) {
            *n -= 1;
            if *n == 0 {
                s.remove(&self.seq);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Db {
    /// Open (or create) the database in `dir` on file system `fs`, recovering from the
    /// manifest and replaying the WAL.
    pub fn open(
        fs: FsHandle,
        dir: impl AsRef<Path>,
        opts: Options,
        clock: ClockHandle,
    ) -> Result<Db> {
        opts.validate().map_err(LsmError::InvalidArgument)?;
        let dir = dir.as_ref().to_path_buf();
        let inner = Arc::new(DbInner::recover(fs, dir, opts, clock)?);
        let bg = if inner.opts.maintenance == MaintenanceMode::Background {
            let i2 = inner.clone();
            let h = std::thread::Builder::new()
                .name("seedbed-lsm-bg".into())
                .spawn(move || maintenance::bg_loop(i2))
                .map_err(|e| {
                    LsmError::InvalidArgument(format!("cannot start background thread: {e}"))
                })?;
            Some(h)
        } else {
            None
        };
        Ok(Db {
            inner,
            bg: Mutex::new(bg),
        })
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// Set `key` to `value`.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut b = WriteBatch::with_capacity(WriteBatch::put_bytes(key, value));
        b.put(key, value);
        self.write(b, WriteOptions::default())
    }

    /// Delete `key`.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let mut b = WriteBatch::new();
        b.delete(key);
        self.write(b, WriteOptions::default())
    }

    /// Apply a batch atomically.
    pub fn write(&self, batch: WriteBatch, wo: WriteOptions) -> Result<()> {
        self.inner.write(batch, wo)
    }

    /// The newest value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.inner.get(key, ReadOptions::default())
    }

    /// The value of `key` as of the read options' snapshot.
    pub fn get_opt(&self, key: &[u8], ro: ReadOptions) -> Result<Option<Bytes>> {
        self.inner.get(key, ro)
    }

    /// Look up many keys at once. Data blocks that are not cached are read in batches through
    /// [`crate::io::Fs::submit`] (one submission per round on io_uring).
    pub fn multi_get(&self, keys: &[&[u8]], ro: ReadOptions) -> Result<Vec<Option<Bytes>>> {
        self.inner.multi_get(keys, ro)
    }

    /// An iterator over `[lower, upper)` (either bound optional), unpositioned: call
    /// `seek_to_first`, `seek_to_last`, `seek` or `seek_for_prev` first.
    pub fn iter(&self, ro: ReadOptions, lower: Option<&[u8]>, upper: Option<&[u8]>) -> DbIterator {
        self.inner
            .iter(ro, lower.map(<[u8]>::to_vec), upper.map(<[u8]>::to_vec))
    }

    /// An iterator over the keys starting with `prefix`.
    pub fn iter_prefix(&self, ro: ReadOptions, prefix: &[u8]) -> DbIterator {
        self.inner
            .iter(ro, Some(prefix.to_vec()), prefix_successor(prefix))
    }

    /// Take a snapshot.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = lock(&self.inner.snapshots);
        let seq = self.inner.last_seq.load(Ordering::Acquire);
        *s.entry(seq).or_insert(0) += 1;
        Snapshot {
            seq,
            inner: self.inner.clone(),
        }
    }

    /// The sequence number of the newest write.
    pub fn last_sequence(&self) -> u64 {
        self.inner.last_seq.load(Ordering::Acquire)
    }

    /// Make every write so far durable.
    pub fn sync_wal(&self) -> Result<()> {
        let mut w = lock(&self.inner.write);
        self.inner.sync_locked(&mut w)
    }

    /// Come back from a full disk: if a write, flush or compaction failed for lack of space
    /// (the database is read-only, [`LsmError::BackgroundError`]), start a new log and a
    /// fresh manifest and flush what is in memory, then take writes again (`resume.rs`).
    /// `Ok` if nothing was wrong; the background error if it was not a full disk, or if there
    /// is still no space. A write does this by itself, so calling it is only needed to find
    /// out whether the database can write again.
    pub fn resume(&self) -> Result<()> {
        self.inner.resume()
    }

    /// One explicit maintenance step: flush one immutable memtable, or run one compaction,
    /// or a due group-commit sync. Returns whether a flush or compaction ran. This is how the
    /// simulator (and `MaintenanceMode::Manual`) drives background work deterministically.
    pub fn maintenance(&self) -> Result<bool> {
        self.inner.group_commit_tick()?;
        self.inner.maintenance_step()
    }

    /// Run maintenance until nothing is left to do (bounded).
    pub fn maintenance_until_idle(&self) -> Result<()> {
        self.inner.maintenance_until_idle()
    }

    /// Switch to a new memtable and flush everything in memory to L0, waiting for it.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush_all()
    }

    /// Flush, then compact until no level is over its target.
    pub fn compact(&self) -> Result<()> {
        self.inner.compact()
    }

    /// Flush, then compact every level into the next until all tables sit in the deepest
    /// non-empty level (RocksDB's full `CompactRange`): tombstones and expired values are
    /// dropped, and space amplification returns to about 1.
    pub fn compact_all(&self) -> Result<()> {
        self.inner.compact_all()
    }

    /// Counters and the tree's shape.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats_snapshot()
    }

    /// The current memtables and version (for inspection).
    pub fn state(&self) -> Arc<LsmState> {
        self.inner.current()
    }

    /// Sync the WAL, stop background work and release the database. Also done on drop.
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.shutdown.store(true, Ordering::Release);
        self.inner.wake_bg();
        if let Some(h) = lock(&self.bg).take() {
            let _ = h.join();
        }
        let mut w = lock(&self.inner.write);
        let synced = self.inner.sync_locked(&mut w);
        // Nothing writes any more: another opener may have the directory.
        lock(&self.inner.dir_lock).take();
        synced
    }
}

impl Db {
    /// Drop the database without syncing or any further write, as a crash would leave it.
    /// Crash tests call this after crashing the simulated disk.
    pub fn abandon(self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.shutdown.store(true, Ordering::Release);
        self.inner.wake_bg();
        if let Some(h) = lock(&self.bg).take() {
            let _ = h.join();
        }
        lock(&self.inner.dir_lock).take();
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None` if there is
/// none (prefix all 0xff).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last < 0xff {
            p.push(last + 1);
            return Some(p);
        }
    }
    None
}

impl DbInner {
    fn current(&self) -> Arc<LsmState> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replace the state with one computed from the current one, atomically. The writer
    /// (rotating the memtable) and maintenance (publishing a version) each change their own
    /// part of the state; were each to read the state and store a new one separately, the
    /// second store would undo the first — a lost version makes a compaction delete a table
    /// the manifest no longer has, and a lost rotation hides the newest writes.
    fn update_state(&self, f: impl FnOnce(&LsmState) -> LsmState) {
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        let next = f(&st);
        self.l0_tables
            .store(next.version.levels[0].len(), Ordering::Release);
        *st = Arc::new(next);
    }

    fn check_bg_error(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(LsmError::Closed);
        }
        if !self.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        match &*lock(&self.bg_error) {
            Some(e) => Err(LsmError::BackgroundError(Arc::clone(e))),
            None => Ok(()),
        }
    }

    fn set_bg_error(&self, e: &LsmError) {
        let mut g = lock(&self.bg_error);
        if g.is_none() {
            *g = Some(Arc::new(e.duplicate()));
            self.poisoned.store(true, Ordering::Release);
        }
    }

    fn wake_bg(&self) {
        *lock(&self.bg_wake) = true;
        self.bg_cv.notify_one();
    }

    fn bg_error_is_set(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    fn stats_snapshot(&self) -> StatsSnapshot {
        let mut s = self.stats.snapshot();
        let (hits, misses) = self.cache.hits_misses();
        s.cache_hits = hits;
        s.cache_misses = misses;
        s.cache_hit_rate = if hits + misses == 0 {
            0.0
        } else {
            hits as f64 / (hits + misses) as f64
        };
        s.cache_bytes = self.cache.used_bytes() as u64;
        let st = self.current();
        s.level_files = st.version.levels.iter().map(Vec::len).collect();
        s.level_bytes = (0..NUM_LEVELS).map(|l| st.version.level_bytes(l)).collect();
        for f in st.version.levels.iter().flatten() {
            let (index, filter) = f.reader.pinned_bytes();
            s.index_bytes += index as u64;
            s.filter_bytes += filter as u64;
        }
        s.memtable_bytes = (st.mem.approx_bytes()
            + st.imms.iter().map(|m| m.approx_bytes()).sum::<usize>())
            as u64;
        let written = s.flush_bytes + s.compaction_written_bytes.iter().sum::<u64>();
        s.write_amplification = if s.user_bytes_written == 0 {
            0.0
        } else {
            written as f64 / s.user_bytes_written as f64
        };
        s.read_amplification = if s.gets == 0 {
            0.0
        } else {
            s.block_reads as f64 / s.gets as f64
        };
        let total: u64 = s.level_bytes.iter().sum();
        let last = s
            .level_bytes
            .iter()
            .rev()
            .copied()
            .find(|&b| b > 0)
            .unwrap_or(0);
        s.space_amplification = if last == 0 {
            0.0
        } else {
            total as f64 / last as f64
        };
        s.compression_ratio = if s.data_stored_bytes_written == 0 {
            0.0
        } else {
            s.data_raw_bytes_written as f64 / s.data_stored_bytes_written as f64
        };
        s.last_sequence = self.last_seq.load(Ordering::Acquire);
        s
    }
}
