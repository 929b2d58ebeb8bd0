//! Opening a database: `DbInner::recover` runs these steps in order, each its own function.
//!
//! 0. [`prepare_dir`]: create the directory if allowed (and make its entry durable), take
//!    `DIR/LOCK` so a second process gets `IoError::Locked` instead of sharing the WAL;
//! 1. [`read_manifest`]: replay the manifest `CURRENT` names, or start a fresh one (clearing
//!    what an interrupted creation left);
//! 2. [`open_tables`]: open every table the manifest names and check the tree's invariants;
//! 3. [`replay_logs`]: replay every log the manifest does not cover into a memtable;
//! 4. [`flush_replayed`] and [`write_fresh_manifest`]: write that memtable to L0, start a new
//!    log, and record the result in a new manifest holding one snapshot record;
//! 5. [`remove_garbage`]: delete old logs, old manifests and orphan tables.
//!
//! After step 4 the replayed logs are redundant, so a crash anywhere in step 5 (or before the
//! new manifest is current) recovers the same state again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use bytes::Bytes;

use super::maintenance::write_memtable;
use super::{DbInner, LsmState, VersionSet, WriteState};
use crate::clock::ClockHandle;
use crate::io::{FileLock, FsHandle};
use crate::lsm::batch::BatchOps;
use crate::lsm::cache::BlockCache;
use crate::lsm::error::{LsmError, Result};
use crate::lsm::manifest::{self, ManifestState, ManifestWriter};
use crate::lsm::memtable::MemTable;
use crate::lsm::options::Options;
use crate::lsm::sstable::{table_file_name, TableReader};
use crate::lsm::stats::{Stats, NUM_LEVELS};
use crate::lsm::version::{TableFile, Version};
use crate::lsm::wal::{create_log, log_path, read_log_file, WalWriter};

/// What is shared by the recovery steps.
struct Recovery<'a> {
    fs: &'a FsHandle,
    dir: &'a Path,
    opts: &'a Options,
    cache: &'a Arc<BlockCache>,
    stats: &'a Arc<Stats>,
}

impl Recovery<'_> {
    fn bad(&self, detail: impl Into<String>) -> LsmError {
        bad(self.dir, detail)
    }
}

fn bad(dir: &Path, detail: impl Into<String>) -> LsmError {
    LsmError::BadDatabase {
        dir: dir.to_path_buf(),
        detail: detail.into(),
    }
}

/// Parse `NNNNNN.ext` file names.
fn parse_numbered(name: &str, ext: &str) -> Option<u64> {
    name.strip_suffix(ext)?.parse().ok()
}

impl DbInner {
    pub(super) fn recover(
        fs: FsHandle,
        dir: PathBuf,
        opts: Options,
        clock: ClockHandle,
    ) -> Result<DbInner> {
        let lock = prepare_dir(&fs, &dir, &opts)?;
        let mut names = fs.list(&dir)?;
        let cache = Arc::new(BlockCache::new(opts.block_cache_bytes));
        let stats = Arc::new(Stats::default());
        let r = Recovery {
            fs: &fs,
            dir: &dir,
            opts: &opts,
            cache: &cache,
            stats: &stats,
        };
        let mut mstate = read_manifest(&r, &mut names)?;
        let next_file = AtomicU64::new(mstate.next_file_number.max(max_file_number(&names) + 1));
        let mut version = open_tables(&r, &mstate)?;
        let (replayed, last_seq) = replay_logs(&r, &names, &mstate)?;
        let new_log = next_file.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = flush_replayed(&r, &replayed, &next_file)? {
            mstate.levels[0].insert(f.meta.number, f.meta.clone());
            version.levels[0].push(f);
        }
        version.sort();
        let preallocate = opts.wal_preallocate_bytes(&*fs);
        let log_file = create_log(&*fs, &log_path(&dir, new_log), preallocate)?;
        mstate.log_number = new_log;
        mstate.last_sequence = last_seq;
        let manifest = write_fresh_manifest(&r, &mut mstate, &next_file)?;
        remove_garbage(&r, &names, &mstate, new_log, manifest.number())?;
        fs.sync_dir(&dir)?;
        let mem = Arc::new(MemTable::new(new_log));
        let l0_tables = version.levels[0].len();
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
                wal: WalWriter::preallocated(log_file, preallocate),
                mem,
                last_sync_nanos: now,
                group: Vec::new(),
                log_failed: false,
            }),
            writers: Default::default(),
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
            failed_outputs: Mutex::new(Vec::new()),
            poisoned: AtomicBool::new(false),
            l0_tables: AtomicUsize::new(l0_tables),
            bg_wake: Mutex::new(false),
            bg_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            opts,
            dir_lock: Mutex::new(Some(lock)),
        })
    }
}

/// Step 0: create the directory if it is missing (and allowed), sync its parent, then take
/// its `LOCK`.
fn prepare_dir(fs: &FsHandle, dir: &Path, opts: &Options) -> Result<FileLock> {
    if !fs.exists(dir)? {
        if !opts.create_if_missing {
            return Err(bad(dir, "does not exist (create_if_missing is off)"));
        }
        fs.create_dir_all(dir)?;
    }
    // The directory's own entry must be durable too, or a crash loses the database. Synced at
    // every open, not only the one that creates it: an open that created the directory and
    // then failed to sync its parent (an EIO) leaves a directory that exists but may vanish in
    // a crash, and a retry that finds it must not take its entry for durable (simulator seed
    // `quorum 6414` lost a whole replica that way).
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs.sync_dir(parent)?;
    }
    Ok(fs.lock(&dir.join("LOCK"))?)
}

/// Step 1: the manifest's state, or a fresh one for a new database. Removes (from disk and
/// from `names`) the manifests an interrupted creation left.
fn read_manifest(r: &Recovery<'_>, names: &mut Vec<String>) -> Result<ManifestState> {
    if names.iter().any(|n| n == "CURRENT") {
        let (state, _number) = manifest::recover(&**r.fs, r.dir)?;
        return Ok(state);
    }
    if names.iter().any(|n| n.ends_with(".sst")) {
        return Err(r.bad("has table files but no CURRENT file"));
    }
    // Manifests without CURRENT and without tables are what a creation interrupted before its
    // CURRENT was durable leaves behind: the database never opened, so no write was ever
    // acknowledged. Clear them and create it afresh.
    for n in names.iter().filter(|n| n.starts_with("MANIFEST-")) {
        r.fs.remove_file(&r.dir.join(n))?;
    }
    names.retain(|n| !n.starts_with("MANIFEST-"));
    if !r.opts.create_if_missing {
        return Err(r.bad("no database here (create_if_missing is off)"));
    }
    Ok(ManifestState::new())
}

/// The largest file number in use by any log, table or manifest in the directory (0 if none):
/// new files must be numbered above it even if the manifest never heard of them.
fn max_file_number(names: &[String]) -> u64 {
    names
        .iter()
        .filter_map(|n| {
            parse_numbered(n, ".log")
                .or_else(|| parse_numbered(n, ".sst"))
                .or_else(|| n.strip_prefix("MANIFEST-").and_then(|s| s.parse().ok()))
        })
        .max()
        .unwrap_or(0)
}

/// Step 2: open every table the manifest names (a missing one is a `BadDatabase` error, not
/// silence) and check that they form a valid tree.
fn open_tables(r: &Recovery<'_>, mstate: &ManifestState) -> Result<Version> {
    let mut version = Version::empty();
    for (level, files) in mstate.levels.iter().enumerate() {
        for meta in files.values() {
            let path = r.dir.join(table_file_name(meta.number));
            let reader = TableReader::open(
                &**r.fs,
                &path,
                meta.number,
                r.cache.clone(),
                r.stats.clone(),
            )
            .map_err(|e| match e {
                LsmError::Io(io) if io.is_not_found() => r.bad(format!(
                    "table {} named by the manifest is missing",
                    path.display()
                )),
                other => other,
            })?;
            version.levels[level].push(Arc::new(TableFile::new(
                meta.clone(),
                Arc::new(reader),
                r.fs.clone(),
                r.cache.clone(),
            )));
        }
    }
    version.sort();
    version
        .check_invariants()
        .map_err(|e| r.bad(format!("manifest describes an invalid tree: {e}")))?;
    Ok(version)
}

/// Step 3: replay every log numbered at or above the manifest's `log_number`, oldest first,
/// into one memtable; returns it with the largest sequence number seen. Torn tails are cut;
/// records after a cut log, or sequence numbers going backwards, are corruption.
fn replay_logs(
    r: &Recovery<'_>,
    names: &[String],
    mstate: &ManifestState,
) -> Result<(MemTable, u64)> {
    let mut logs: Vec<u64> = names
        .iter()
        .filter_map(|n| parse_numbered(n, ".log"))
        .filter(|&n| n >= mstate.log_number)
        .collect();
    logs.sort_unstable();
    let mem = MemTable::new(0);
    let mut last_seq = mstate.last_sequence;
    let mut cut_in: Option<(PathBuf, u64)> = None;
    for &log in &logs {
        let path = log_path(r.dir, log);
        let contents = read_log_file(&**r.fs, &path)?;
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
    Ok((mem, last_seq))
}

/// Step 4a: write what the logs held to an L0 table (none if they held nothing), so the new
/// log starts empty and the old logs can go.
fn flush_replayed(
    r: &Recovery<'_>,
    mem: &MemTable,
    next_file: &AtomicU64,
) -> Result<Option<Arc<TableFile>>> {
    if mem.is_empty() {
        return Ok(None);
    }
    let number = next_file.fetch_add(1, Ordering::Relaxed);
    let f = write_memtable(r.fs, r.dir, r.opts, r.cache, r.stats, mem, number)?;
    Ok(Some(f))
}

/// Step 4b: a new manifest holding one snapshot record of `mstate`, made current atomically.
fn write_fresh_manifest(
    r: &Recovery<'_>,
    mstate: &mut ManifestState,
    next_file: &AtomicU64,
) -> Result<ManifestWriter> {
    let manifest_number = next_file.fetch_add(1, Ordering::Relaxed);
    mstate.next_file_number = next_file.load(Ordering::Relaxed);
    ManifestWriter::create(&**r.fs, r.dir, manifest_number, mstate)
}

/// Step 5: everything older than the new manifest is garbage — old manifests, replayed logs,
/// orphan tables (tables a crash left behind before their manifest edit), `CURRENT.tmp`.
fn remove_garbage(
    r: &Recovery<'_>,
    names: &[String],
    mstate: &ManifestState,
    new_log: u64,
    manifest_number: u64,
) -> Result<()> {
    let live: BTreeSet<u64> = mstate
        .levels
        .iter()
        .flat_map(|l| l.keys().copied())
        .collect();
    let live_manifest = manifest::manifest_file_name(manifest_number);
    for n in names {
        let garbage = match (parse_numbered(n, ".log"), parse_numbered(n, ".sst")) {
            (Some(l), _) => l != new_log,
            (_, Some(t)) => !live.contains(&t),
            _ => n == "CURRENT.tmp" || (n.starts_with("MANIFEST-") && *n != live_manifest),
        };
        if garbage {
            r.fs.remove_file(&r.dir.join(n))?;
        }
    }
    Ok(())
}
