//! The database: the write path (batch → WAL → memtable), the read path (memtables, then
//! levels), flushes, compactions, snapshots and recovery, tied together.
//!
//! Locks, always taken in this order: `write` (one writer at a time: WAL and active memtable)
//! → `work` (one flush or compaction at a time) → `versions` (manifest) → `state` (the
//! `RwLock` swapped to publish new memtables and versions). Readers only clone `state`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;

use crate::clock::ClockHandle;
use crate::io::{FsHandle, OpenOptions};

use super::batch::{BatchOps, WriteBatch};
use super::cache::BlockCache;
use super::compaction::{self, CompactionContext, TableSink};
use super::error::{LsmError, Result};
use super::iter::{DbIterator, InternalIterator, MemTableIter, MergingIterator};
use super::key::{append_internal_key, ValueKind, KIND_FOR_SEEK};
use super::manifest::{self, FileMeta, ManifestState, ManifestWriter, VersionEdit};
use super::memtable::MemTable;
use super::options::{MaintenanceMode, Options, ReadOptions, SyncPolicy, WriteOptions};
use super::sstable::filter::key_hash;
use super::sstable::{table_file_name, Found, TableIter, TableReader};
use super::stats::{Stats, StatsSnapshot, NUM_LEVELS};
use super::version::{LevelIter, TableFile, Version};
use super::wal::{log_path, read_log_file, WalWriter};

/// Manifest size after which a fresh manifest (one snapshot record) replaces it.
const MANIFEST_ROLL_BYTES: u64 = 64 << 20;
/// Longest a stalled writer sleeps before re-checking (background mode).
const STALL_WAIT: Duration = Duration::from_millis(5);
/// Steps `maintenance_until_idle` runs at most.
const MAINTENANCE_STEPS_MAX: usize = 100_000;

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
    stall_cv: Condvar,
    work: Mutex<()>,
    versions: Mutex<VersionSet>,
    next_file: AtomicU64,
    last_seq: AtomicU64,
    snapshots: Mutex<BTreeMap<u64, usize>>,
    bg_error: Mutex<Option<String>>,
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
        }
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

/// Parse `NNNNNN.ext` file names.
fn parse_numbered(name: &str, ext: &str) -> Option<u64> {
    name.strip_suffix(ext)?.parse().ok()
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
                .spawn(move || bg_loop(i2))
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

    /// One explicit maintenance step: flush one immutable memtable, or run one compaction,
    /// or a due group-commit sync. Returns whether a flush or compaction ran. This is how the
    /// simulator (and `MaintenanceMode::Manual`) drives background work deterministically.
    pub fn maintenance(&self) -> Result<bool> {
        self.inner.group_commit_tick()?;
        self.inner.maintenance_step()
    }

    /// Run maintenance until nothing is left to do (bounded).
    pub fn maintenance_until_idle(&self) -> Result<()> {
        for _ in 0..MAINTENANCE_STEPS_MAX {
            if !self.inner.maintenance_step()? {
                return Ok(());
            }
        }
        Err(LsmError::InvalidArgument(
            "maintenance did not converge".into(),
        ))
    }

    /// Switch to a new memtable and flush everything in memory to L0, waiting for it.
    pub fn flush(&self) -> Result<()> {
        {
            let mut w = lock(&self.inner.write);
            if !w.mem.is_empty() {
                self.inner.rotate(&mut w)?;
            }
        }
        self.wait_for(|st| st.imms.is_empty())
    }

    /// Flush, then compact until no level is over its target.
    pub fn compact(&self) -> Result<()> {
        self.flush()?;
        match self.inner.opts.maintenance {
            MaintenanceMode::Manual => self.maintenance_until_idle(),
            MaintenanceMode::Background => {
                let opts = self.inner.opts.clone();
                self.wait_for(move |st| {
                    st.imms.is_empty() && compaction::best_score(&st.version, &opts).1 < 1.0
                })
            }
        }
    }

    /// Flush, then compact every level into the next until all tables sit in the deepest
    /// non-empty level (RocksDB's full `CompactRange`): tombstones and expired values are
    /// dropped, and space amplification returns to about 1.
    pub fn compact_all(&self) -> Result<()> {
        self.flush()?;
        let deepest = |st: &LsmState| st.version.levels.iter().rposition(|l| !l.is_empty());
        let Some(target) = deepest(&self.inner.current()).map(|d| d.max(1)) else {
            return Ok(());
        };
        for level in 0..target {
            // Bound: each compaction removes at least one table from `level`.
            for _ in 0..=self.inner.current().version.levels[level].len() {
                if self.inner.current().version.levels[level].is_empty() {
                    break;
                }
                self.inner.compact_level(level)?;
            }
        }
        Ok(())
    }

    fn wait_for(&self, done: impl Fn(&LsmState) -> bool) -> Result<()> {
        loop {
            self.inner.check_bg_error()?;
            let st = self.inner.current();
            if done(&st) {
                return Ok(());
            }
            match self.inner.opts.maintenance {
                MaintenanceMode::Manual => {
                    if !self.inner.maintenance_step()? {
                        return Ok(());
                    }
                }
                MaintenanceMode::Background => {
                    self.inner.wake_bg();
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
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

fn bg_loop(inner: Arc<DbInner>) {
    let tick = match inner.opts.sync {
        SyncPolicy::Group { interval_ms, .. } => Duration::from_millis(interval_ms.max(1)),
        _ => Duration::from_millis(100),
    };
    while !inner.shutdown.load(Ordering::Acquire) {
        // Bound: each step makes progress (a flush or compaction) or ends the inner loop.
        loop {
            if inner.shutdown.load(Ordering::Acquire) {
                break;
            }
            match inner.maintenance_step() {
                Ok(true) => inner.stall_cv.notify_all(),
                Ok(false) => break,
                Err(e) => {
                    inner.set_bg_error(&e);
                    inner.stall_cv.notify_all();
                    return;
                }
            }
        }
        if let Err(e) = inner.group_commit_tick() {
            inner.set_bg_error(&e);
            return;
        }
        let mut woken = lock(&inner.bg_wake);
        if !*woken {
            woken = inner
                .bg_cv
                .wait_timeout(woken, tick)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        *woken = false;
    }
}

impl DbInner {
    fn recover(fs: FsHandle, dir: PathBuf, opts: Options, clock: ClockHandle) -> Result<DbInner> {
        let bad = |detail: String| LsmError::BadDatabase {
            dir: dir.clone(),
            detail,
        };
        if !fs.exists(&dir)? {
            if !opts.create_if_missing {
                return Err(bad("does not exist (create_if_missing is off)".into()));
            }
            fs.create_dir_all(&dir)?;
        }
        // The directory's own entry must be durable too, or a crash loses the database. Synced
        // at every open, not only the one that creates it: an open that created the directory
        // and then failed to sync its parent (an EIO) leaves a directory that exists but may
        // vanish in a crash, and a retry that finds it must not take its entry for durable
        // (simulator seed `quorum 6414` lost a whole replica that way).
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs.sync_dir(parent)?;
        }
        let lock = fs.lock(&dir.join("LOCK"))?;
        let mut names = fs.list(&dir)?;
        let cache = Arc::new(BlockCache::new(opts.block_cache_bytes));
        let stats = Arc::new(Stats::default());
        let (mut mstate, old_manifest) = if names.iter().any(|n| n == "CURRENT") {
            let (s, n) = manifest::recover(&*fs, &dir)?;
            (s, Some(n))
        } else {
            if names.iter().any(|n| n.ends_with(".sst")) {
                return Err(bad("has table files but no CURRENT file".into()));
            }
            // Manifests without CURRENT and without tables are what a creation interrupted
            // before its CURRENT was durable leaves behind: the database never opened, so no
            // write was ever acknowledged. Clear them and create it afresh.
            for n in names.iter().filter(|n| n.starts_with("MANIFEST-")) {
                fs.remove_file(&dir.join(n))?;
            }
            names.retain(|n| !n.starts_with("MANIFEST-"));
            if !opts.create_if_missing {
                return Err(bad("no database here (create_if_missing is off)".into()));
            }
            (ManifestState::new(), None)
        };
        let mut max_number = 0u64;
        for n in &names {
            let num = parse_numbered(n, ".log")
                .or_else(|| parse_numbered(n, ".sst"))
                .or_else(|| n.strip_prefix("MANIFEST-").and_then(|s| s.parse().ok()));
            if let Some(num) = num {
                max_number = max_number.max(num);
            }
        }
        let next_file = AtomicU64::new(mstate.next_file_number.max(max_number + 1));
        // Open every table the manifest names.
        let mut version = Version::empty();
        for (level, files) in mstate.levels.iter().enumerate() {
            for meta in files.values() {
                let path = dir.join(table_file_name(meta.number));
                let reader =
                    TableReader::open(&*fs, &path, meta.number, cache.clone(), stats.clone())
                        .map_err(|e| match e {
                            LsmError::Io(io) if io.is_not_found() => bad(format!(
                                "table {} named by the manifest is missing",
                                path.display()
                            )),
                            other => other,
                        })?;
                version.levels[level].push(Arc::new(TableFile::new(
                    meta.clone(),
                    Arc::new(reader),
                    fs.clone(),
                    cache.clone(),
                )));
            }
        }
        version.sort();
        version
            .check_invariants()
            .map_err(|e| bad(format!("manifest describes an invalid tree: {e}")))?;
        // Replay the logs the manifest does not cover.
        let mut logs: Vec<u64> = names
            .iter()
            .filter_map(|n| parse_numbered(n, ".log"))
            .filter(|&n| n >= mstate.log_number)
            .collect();
        logs.sort_unstable();
        let mem = Arc::new(MemTable::new(0));
        let mut last_seq = mstate.last_sequence;
        let mut cut_in: Option<(PathBuf, u64)> = None;
        for &log in &logs {
            let path = log_path(&dir, log);
            let contents = read_log_file(&*fs, &path)?;
            if !contents.records.is_empty() {
                if let Some((p, at)) = &cut_in {
                    return Err(LsmError::corruption(
                        p,
                        "wal record",
                        *at,
                        "log was cut here but a later log has records",
                    ));
                }
            }
            for (offset, rec) in contents.records {
                let rep = Bytes::from(rec);
                let ops = BatchOps::new(&rep)
                    .map_err(|e| LsmError::corruption(&path, "wal record", offset, e))?;
                let (first, count) = (ops.first_seq, u64::from(ops.op_count()));
                if count == 0 {
                    continue;
                }
                if first <= last_seq && first + count - 1 > mstate.last_sequence {
                    return Err(LsmError::corruption(
                        &path,
                        "wal record",
                        offset,
                        format!("sequence {first} goes backwards (last {last_seq})"),
                    ));
                }
                mem.insert_batch(&rep)
                    .map_err(|e| LsmError::corruption(&path, "wal record", offset, e))?;
                last_seq = last_seq.max(first + count - 1);
            }
            if let Some((at, _)) = contents.cut {
                cut_in = Some((path, at));
            }
        }
        // Write what the logs held to L0, so the new log starts empty and old logs can go.
        let new_log = next_file.fetch_add(1, Ordering::Relaxed);
        let mut added = Vec::new();
        if !mem.is_empty() {
            let number = next_file.fetch_add(1, Ordering::Relaxed);
            let f = write_memtable(&fs, &dir, &opts, &cache, &stats, &mem, number)?;
            mstate.levels[0].insert(number, f.meta.clone());
            added.push(f);
        }
        for f in added {
            version.levels[0].push(f);
        }
        version.sort();
        let log_file = fs.open(&log_path(&dir, new_log), OpenOptions::create_truncate())?;
        mstate.log_number = new_log;
        mstate.last_sequence = last_seq;
        let manifest_number = next_file.fetch_add(1, Ordering::Relaxed);
        mstate.next_file_number = next_file.load(Ordering::Relaxed);
        let manifest = ManifestWriter::create(&*fs, &dir, manifest_number, &mstate)?;
        // Everything older is now garbage: old manifests, replayed logs, orphan tables.
        let live: std::collections::BTreeSet<u64> = mstate
            .levels
            .iter()
            .flat_map(|l| l.keys().copied())
            .collect();
        for n in &names {
            let garbage = match (parse_numbered(n, ".log"), parse_numbered(n, ".sst")) {
                (Some(l), _) => l != new_log,
                (_, Some(t)) => !live.contains(&t),
                _ => {
                    n == "CURRENT.tmp"
                        || (n.starts_with("MANIFEST-")
                            && Some(n.as_str())
                                != Some(manifest::manifest_file_name(manifest_number).as_str()))
                }
            };
            if garbage {
                fs.remove_file(&dir.join(n))?;
            }
        }
        let _ = old_manifest;
        fs.sync_dir(&dir)?;
        let mem = Arc::new(MemTable::new(new_log));
        let state = LsmState {
            mem: mem.clone(),
            imms: Vec::new(),
            version: Arc::new(version),
        };
        let now = clock.now_nanos();
        Ok(DbInner {
            dir,
            fs,
            clock,
            cache,
            stats,
            state: RwLock::new(Arc::new(state)),
            write: Mutex::new(WriteState {
                wal: WalWriter::new(log_file),
                mem,
                last_sync_nanos: now,
            }),
            stall_cv: Condvar::new(),
            work: Mutex::new(()),
            versions: Mutex::new(VersionSet {
                manifest,
                mirror: mstate,
                pointers: vec![Vec::new(); NUM_LEVELS],
            }),
            next_file,
            last_seq: AtomicU64::new(last_seq),
            snapshots: Mutex::new(BTreeMap::new()),
            bg_error: Mutex::new(None),
            bg_wake: Mutex::new(false),
            bg_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            opts,
            dir_lock: Mutex::new(Some(lock)),
        })
    }

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
        *st = Arc::new(next);
    }

    fn check_bg_error(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(LsmError::Closed);
        }
        match &*lock(&self.bg_error) {
            Some(e) => Err(LsmError::BackgroundError(e.clone())),
            None => Ok(()),
        }
    }

    fn set_bg_error(&self, e: &LsmError) {
        let mut g = lock(&self.bg_error);
        if g.is_none() {
            *g = Some(e.to_string());
        }
    }

    fn wake_bg(&self) {
        *lock(&self.bg_wake) = true;
        self.bg_cv.notify_one();
    }

    fn sync_locked(&self, w: &mut WriteState) -> Result<()> {
        if w.wal.unsynced_bytes() > 0 {
            w.wal.sync()?;
            Stats::add(&self.stats.wal_syncs, 1);
        }
        w.last_sync_nanos = self.clock.now_nanos();
        Ok(())
    }

    fn group_commit_tick(&self) -> Result<()> {
        if let SyncPolicy::Group { interval_ms, .. } = self.opts.sync {
            let mut w = lock(&self.write);
            let due =
                self.clock.now_nanos().saturating_sub(w.last_sync_nanos) >= interval_ms * 1_000_000;
            if due && w.wal.unsynced_bytes() > 0 {
                if let Err(e) = self.sync_locked(&mut w) {
                    self.set_bg_error(&e);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn write(&self, batch: WriteBatch, wo: WriteOptions) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        batch.validate().map_err(LsmError::InvalidArgument)?;
        self.check_bg_error()?;
        let w = lock(&self.write);
        let mut w = self.make_room(w)?;
        let count = u64::from(batch.len());
        let user_bytes = batch.size_bytes() as u64;
        let seq = self.last_seq.load(Ordering::Relaxed) + 1;
        let rep = batch.into_rep(seq);
        let before = w.wal.len_bytes();
        // Hand the record to the OS before acknowledging (like RocksDB's default): a process
        // crash then loses nothing; only a machine crash can lose unsynced writes.
        if let Err(e) = w.wal.add_record(&rep).and_then(|_| w.wal.flush()) {
            // The log may now hold a partial record: refuse further writes until reopened.
            // And drop what did not reach the file: a later sync (at close) must not write a
            // record whose write was reported as failed — requests answered since then did
            // not see it, and a restart would replay it.
            w.wal.discard_unwritten();
            self.set_bg_error(&e);
            return Err(e);
        }
        Stats::add(&self.stats.wal_bytes_written, w.wal.len_bytes() - before);
        let sync = match wo.sync {
            Some(s) => s,
            None => match self.opts.sync {
                SyncPolicy::Always => true,
                SyncPolicy::Never => false,
                SyncPolicy::Group { interval_ms, bytes } => {
                    w.wal.unsynced_bytes() >= bytes
                        || self.clock.now_nanos().saturating_sub(w.last_sync_nanos)
                            >= interval_ms * 1_000_000
                }
            },
        };
        if sync {
            if let Err(e) = self.sync_locked(&mut w) {
                self.set_bg_error(&e);
                return Err(e);
            }
        }
        let rep = Bytes::from(rep);
        w.mem
            .insert_batch(&rep)
            .map_err(|e| LsmError::InvalidArgument(e.to_string()))?;
        self.last_seq.store(seq + count - 1, Ordering::Release);
        Stats::add(&self.stats.keys_written, count);
        Stats::add(&self.stats.user_bytes_written, user_bytes);
        Ok(())
    }

    /// Wait (or, in manual mode, work) until the active memtable has room.
    fn make_room<'a>(
        &'a self,
        mut w: MutexGuard<'a, WriteState>,
    ) -> Result<MutexGuard<'a, WriteState>> {
        let mut stalled_since: Option<u64> = None;
        let result = loop {
            if let Err(e) = self.check_bg_error() {
                break Err(e);
            }
            let st = self.current();
            let l0 = st.version.levels[0].len();
            let reason = if l0 >= self.opts.l0_stop_writes_trigger {
                Some(format!(
                    "L0 has {l0} tables (stop trigger {})",
                    self.opts.l0_stop_writes_trigger
                ))
            } else if w.mem.approx_bytes() < self.opts.write_buffer_bytes {
                break Ok(());
            } else if st.imms.len() >= self.opts.max_immutable_memtables {
                Some(format!(
                    "{} immutable memtables waiting for flush (limit {})",
                    st.imms.len(),
                    self.opts.max_immutable_memtables
                ))
            } else {
                if let Err(e) = self.rotate(&mut w) {
                    self.set_bg_error(&e);
                    break Err(e);
                }
                break Ok(());
            };
            let reason = reason.expect("stalled");
            if stalled_since.is_none() {
                stalled_since = Some(self.clock.now_nanos());
                Stats::add(&self.stats.stalls, 1);
                *lock(&self.stats.last_stall_reason) = Some(reason);
            }
            match self.opts.maintenance {
                MaintenanceMode::Background => {
                    self.wake_bg();
                    w = self
                        .stall_cv
                        .wait_timeout(w, STALL_WAIT)
                        .map(|r| r.0)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                MaintenanceMode::Manual => match self.maintenance_step() {
                    Ok(true) => {}
                    Ok(false) => {
                        break Err(LsmError::InvalidArgument(
                            "write stalled and maintenance cannot make progress".into(),
                        ))
                    }
                    Err(e) => break Err(e),
                },
            }
        };
        if let Some(t) = stalled_since {
            Stats::add(
                &self.stats.stall_micros,
                self.clock.now_nanos().saturating_sub(t) / 1000,
            );
        }
        result.map(|()| w)
    }

    /// Make the active memtable immutable and start a new one with a new log.
    fn rotate(&self, w: &mut WriteState) -> Result<()> {
        // Sync the old log first: a later log must never be durable ahead of an earlier one,
        // or a crash could keep a write while losing one before it.
        self.sync_locked(w)?;
        let number = self.next_file.fetch_add(1, Ordering::Relaxed);
        let file = self
            .fs
            .open(&log_path(&self.dir, number), OpenOptions::create_truncate())?;
        self.fs.sync_dir(&self.dir)?;
        w.wal = WalWriter::new(file);
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

    fn smallest_snapshot(&self) -> u64 {
        let s = lock(&self.snapshots);
        s.keys()
            .next()
            .copied()
            .unwrap_or_else(|| self.last_seq.load(Ordering::Acquire))
    }

    /// Record an edit in the manifest, then publish the new version.
    fn commit(
        &self,
        edit: VersionEdit,
        added: &[Arc<TableFile>],
        remove_imm: Option<&Arc<MemTable>>,
    ) -> Result<()> {
        let mut vs = lock(&self.versions);
        let mut edit = edit;
        edit.next_file_number = Some(self.next_file.load(Ordering::Relaxed));
        if vs.manifest.len_bytes() > MANIFEST_ROLL_BYTES {
            // A clone, so that an edit the mirror refuses leaves the mirror as it was.
            let mut mirror = vs.mirror.clone();
            mirror
                .apply(&edit)
                .map_err(|e| LsmError::corruption(vs.manifest.path(), "manifest edit", 0, e))?;
            let number = self.next_file.fetch_add(1, Ordering::Relaxed);
            mirror.next_file_number = self.next_file.load(Ordering::Relaxed);
            let old = vs.manifest.path().to_path_buf();
            vs.manifest = ManifestWriter::create(&*self.fs, &self.dir, number, &mirror)?;
            vs.mirror = mirror;
            let _ = self.fs.remove_file(&old);
        } else {
            vs.manifest.log_edit(&edit)?;
            vs.mirror
                .apply(&edit)
                .map_err(|e| LsmError::corruption(vs.manifest.path(), "manifest edit", 0, e))?;
        }
        self.update_state(|old| {
            let version = Arc::new(old.version.apply(&edit, added));
            debug_assert!(
                version.check_invariants().is_ok(),
                "{:?}",
                version.check_invariants()
            );
            let imms = match remove_imm {
                Some(m) => old
                    .imms
                    .iter()
                    .filter(|x| !Arc::ptr_eq(x, m))
                    .cloned()
                    .collect(),
                None => old.imms.clone(),
            };
            LsmState {
                mem: old.mem.clone(),
                imms,
                version,
            }
        });
        Ok(())
    }

    /// One flush or compaction; `Ok(false)` when there is nothing to do.
    fn maintenance_step(&self) -> Result<bool> {
        let _work = lock(&self.work);
        let r = self.maintenance_step_locked();
        if let Err(e) = &r {
            self.set_bg_error(e);
        }
        r
    }

    fn maintenance_step_locked(&self) -> Result<bool> {
        if self.bg_error_is_set() {
            return Ok(false);
        }
        let st = self.current();
        if let Some(imm) = st.imms.first().cloned() {
            self.flush_imm(&st, &imm)?;
            return Ok(true);
        }
        let task = {
            let mut vs = lock(&self.versions);
            compaction::pick(&st.version, &self.opts, &mut vs.pointers)
        };
        let Some(task) = task else { return Ok(false) };
        self.run_compaction(&st.version, &task)?;
        Ok(true)
    }

    /// Run one compaction of `level` into the next, whatever the scores say.
    fn compact_level(&self, level: usize) -> Result<()> {
        let _work = lock(&self.work);
        let st = self.current();
        let task = {
            let mut vs = lock(&self.versions);
            compaction::pick_at(&st.version, level, &mut vs.pointers)
        };
        if let Some(task) = task {
            if let Err(e) = self.run_compaction(&st.version, &task) {
                self.set_bg_error(&e);
                return Err(e);
            }
        }
        Ok(())
    }

    fn bg_error_is_set(&self) -> bool {
        lock(&self.bg_error).is_some()
    }

    fn flush_imm(&self, st: &LsmState, imm: &Arc<MemTable>) -> Result<()> {
        let mut added = Vec::new();
        let mut edit = VersionEdit::default();
        if !imm.is_empty() {
            let number = self.next_file.fetch_add(1, Ordering::Relaxed);
            let f = write_memtable(
                &self.fs,
                &self.dir,
                &self.opts,
                &self.cache,
                &self.stats,
                imm,
                number,
            )?;
            Stats::add(&self.stats.flush_bytes, f.meta.size_bytes);
            edit.added.push((0, f.meta.clone()));
            added.push(f);
            self.fs.sync_dir(&self.dir)?;
        }
        let next_log = st.imms.get(1).map_or(st.mem.log_number, |m| m.log_number);
        edit.log_number = Some(next_log);
        edit.last_sequence = Some(self.last_seq.load(Ordering::Acquire));
        self.commit(edit, &added, Some(imm))?;
        Stats::add(&self.stats.flushes, 1);
        // The flushed memtable's log is no longer needed.
        let _ = self.fs.remove_file(&log_path(&self.dir, imm.log_number));
        Ok(())
    }

    fn run_compaction(
        &self,
        version: &Arc<Version>,
        task: &compaction::CompactionTask,
    ) -> Result<()> {
        let mut edit = VersionEdit::default();
        let out_level = task.output_level() as u8;
        for f in &task.inputs {
            edit.deleted.push((task.level as u8, f.meta.number));
        }
        for f in &task.next_inputs {
            edit.deleted.push((out_level, f.meta.number));
        }
        if task.is_trivial_move() {
            edit.added.push((out_level, task.inputs[0].meta.clone()));
            self.commit(edit, &[], None)?;
            Stats::add(&self.stats.trivial_moves, 1);
            Stats::add(&self.stats.compactions, 1);
            return Ok(());
        }
        let next_file = || self.next_file.fetch_add(1, Ordering::Relaxed);
        let ctx = CompactionContext {
            fs: &self.fs,
            dir: &self.dir,
            opts: &self.opts,
            cache: &self.cache,
            stats: &self.stats,
            smallest_snapshot: self.smallest_snapshot(),
            new_file_number: &next_file,
            version,
        };
        let outputs = compaction::run(task, &ctx)?;
        self.fs.sync_dir(&self.dir)?;
        let written: u64 = outputs.iter().map(|f| f.meta.size_bytes).sum();
        for f in &outputs {
            edit.added.push((out_level, f.meta.clone()));
        }
        self.commit(edit, &outputs, None)?;
        Stats::add(&self.stats.compactions, 1);
        Stats::add(
            &self.stats.compaction_read_bytes[task.level],
            task.inputs.iter().map(|f| f.meta.size_bytes).sum(),
        );
        Stats::add(
            &self.stats.compaction_read_bytes[task.level + 1],
            task.next_inputs.iter().map(|f| f.meta.size_bytes).sum(),
        );
        Stats::add(
            &self.stats.compaction_written_bytes[task.level + 1],
            written,
        );
        Ok(())
    }

    fn read_seq(&self, ro: ReadOptions) -> u64 {
        ro.snapshot_seq
            .unwrap_or_else(|| self.last_seq.load(Ordering::Acquire))
    }

    fn get(&self, key: &[u8], ro: ReadOptions) -> Result<Option<Bytes>> {
        Stats::add(&self.stats.gets, 1);
        let seq = self.read_seq(ro);
        let st = self.current();
        let found = self.get_in(&st, key, seq)?;
        if found.is_some() {
            Stats::add(&self.stats.get_hits, 1);
        }
        Ok(found)
    }

    fn get_in(&self, st: &LsmState, key: &[u8], seq: u64) -> Result<Option<Bytes>> {
        let live = |kind: ValueKind, v: Bytes| {
            if kind == ValueKind::Put {
                Some(v)
            } else {
                None
            }
        };
        if let Some(v) = st.mem.get(key, seq) {
            return Ok(live(v.kind, v.value));
        }
        for m in st.imms.iter().rev() {
            if let Some(v) = m.get(key, seq) {
                return Ok(live(v.kind, v.value));
            }
        }
        let mut lookup = Vec::with_capacity(key.len() + 8);
        append_internal_key(&mut lookup, key, seq, KIND_FOR_SEEK);
        let hash = key_hash(key);
        for f in &st.version.levels[0] {
            if f.overlaps(key, key) {
                if let Some(Found { kind, value, .. }) = f.reader.get(&lookup, hash)? {
                    return Ok(live(kind, value));
                }
            }
        }
        for lvl in &st.version.levels[1..] {
            let i = Version::find_table(lvl, key);
            if i < lvl.len() && lvl[i].smallest_user() <= key {
                if let Some(Found { kind, value, .. }) = lvl[i].reader.get(&lookup, hash)? {
                    return Ok(live(kind, value));
                }
            }
        }
        Ok(None)
    }

    fn multi_get(&self, keys: &[&[u8]], ro: ReadOptions) -> Result<Vec<Option<Bytes>>> {
        Stats::add(&self.stats.gets, keys.len() as u64);
        let seq = self.read_seq(ro);
        let st = self.current();
        let mut out: Vec<Option<Bytes>> = vec![None; keys.len()];
        // Per key: the tables still to search, in search order.
        struct Pending {
            idx: usize,
            lookup: Vec<u8>,
            hash: u64,
            tables: Vec<Arc<TableFile>>,
            next: usize,
        }
        let mut pending: Vec<Pending> = Vec::new();
        'keys: for (idx, key) in keys.iter().enumerate() {
            for m in std::iter::once(&st.mem).chain(st.imms.iter().rev()) {
                if let Some(v) = m.get(key, seq) {
                    out[idx] = (v.kind == ValueKind::Put).then_some(v.value);
                    continue 'keys;
                }
            }
            let mut tables: Vec<Arc<TableFile>> = st.version.levels[0]
                .iter()
                .filter(|f| f.overlaps(key, key))
                .cloned()
                .collect();
            for lvl in &st.version.levels[1..] {
                let i = Version::find_table(lvl, key);
                if i < lvl.len() && lvl[i].smallest_user() <= *key {
                    tables.push(lvl[i].clone());
                }
            }
            let mut lookup = Vec::with_capacity(key.len() + 8);
            append_internal_key(&mut lookup, key, seq, KIND_FOR_SEEK);
            pending.push(Pending {
                idx,
                lookup,
                hash: key_hash(key),
                tables,
                next: 0,
            });
        }
        // Each round reads, in one batch, the next candidate block of every unresolved key.
        // Bound: a key drops out after its last table, so rounds <= tables per key.
        while !pending.is_empty() {
            let mut wanted = Vec::new();
            let mut still = Vec::new();
            for mut p in pending {
                let mut chosen = None;
                while p.next < p.tables.len() {
                    let t = p.tables[p.next].clone();
                    p.next += 1;
                    if !t.reader.may_contain(p.hash) {
                        continue;
                    }
                    if let Some(h) = t.reader.block_for(&p.lookup)? {
                        chosen = Some((t, h));
                        break;
                    }
                }
                if let Some(c) = chosen {
                    wanted.push(c);
                    still.push(p);
                }
            }
            let reqs: Vec<(&TableReader, _)> =
                wanted.iter().map(|(t, h)| (&*t.reader, *h)).collect();
            let blocks = TableReader::read_blocks_batch(&*self.fs, &reqs);
            let mut next_round = Vec::new();
            for ((p, (t, h)), block) in still.into_iter().zip(wanted.iter()).zip(blocks) {
                match t.reader.get_in_block(block?, *h, &p.lookup)? {
                    Some(f) => out[p.idx] = (f.kind == ValueKind::Put).then_some(f.value),
                    None => next_round.push(p),
                }
            }
            pending = next_round;
        }
        Stats::add(
            &self.stats.get_hits,
            out.iter().filter(|o| o.is_some()).count() as u64,
        );
        Ok(out)
    }

    fn iter(&self, ro: ReadOptions, lower: Option<Vec<u8>>, upper: Option<Vec<u8>>) -> DbIterator {
        let seq = self.read_seq(ro);
        let st = self.current();
        let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
        children.push(Box::new(MemTableIter::new(st.mem.clone())));
        for m in st.imms.iter().rev() {
            children.push(Box::new(MemTableIter::new(m.clone())));
        }
        for f in &st.version.levels[0] {
            children.push(Box::new(TableIter::new(f.reader.clone())));
        }
        for lvl in &st.version.levels[1..] {
            if !lvl.is_empty() {
                children.push(Box::new(LevelIter::new(lvl.clone())));
            }
        }
        DbIterator::new(
            Box::new(MergingIterator::new(children)),
            seq,
            lower,
            upper,
            Box::new(st),
        )
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
        s.last_sequence = self.last_seq.load(Ordering::Acquire);
        s
    }
}

/// Write a memtable to table `number` and open it.
fn write_memtable(
    fs: &FsHandle,
    dir: &Path,
    opts: &Options,
    cache: &Arc<BlockCache>,
    stats: &Arc<Stats>,
    mem: &MemTable,
    number: u64,
) -> Result<Arc<TableFile>> {
    let taken = std::cell::Cell::new(false);
    let alloc = || {
        assert!(!taken.replace(true), "a flush writes one table");
        number
    };
    let version = Version::empty();
    let ctx = CompactionContext {
        fs,
        dir,
        opts,
        cache,
        stats,
        smallest_snapshot: 0,
        new_file_number: &alloc,
        version: &version,
    };
    let mut sink = TableSink::new(&ctx);
    let mut ikey = Vec::new();
    mem.for_each(|k, v| {
        ikey.clear();
        append_internal_key(&mut ikey, &k.user, k.seq, v.kind);
        sink.add(&ikey, &v.value)
    })?;
    let mut out = sink.finish()?;
    assert_eq!(out.len(), 1);
    let _: &FileMeta = &out[0].meta;
    Ok(out.remove(0))
}
