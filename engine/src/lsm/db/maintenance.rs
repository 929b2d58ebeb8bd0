//! Background work: flushing immutable memtables to L0, compactions, committing their edits
//! to the manifest and publishing the new version, and the thread that runs them in
//! `MaintenanceMode::Background` (under the simulator, explicit `Db::maintenance` steps).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{lock, DbInner, LsmState};
use crate::io::FsHandle;
use crate::lsm::cache::BlockCache;
use crate::lsm::compaction::{self, CompactionContext, TableSink};
use crate::lsm::error::{CorruptionDetail, LsmError, Result};
use crate::lsm::key::append_internal_key;
use crate::lsm::manifest::{FileMeta, ManifestWriter, VersionEdit};
use crate::lsm::memtable::MemTable;
use crate::lsm::options::{MaintenanceMode, Options, SyncPolicy};
use crate::lsm::stats::Stats;
use crate::lsm::version::{TableFile, Version};
use crate::lsm::wal::log_path;

/// Manifest size after which a fresh manifest (one snapshot record) replaces it.
const MANIFEST_ROLL_BYTES: u64 = 64 << 20;
/// Steps `maintenance_until_idle` runs at most.
const MAINTENANCE_STEPS_MAX: usize = 100_000;

/// The background thread: run maintenance steps while there is work, the group-commit tick,
/// then sleep until woken (a rotation, a stalled writer, shutdown) or the tick is due.
pub(super) fn bg_loop(inner: Arc<DbInner>) {
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
                    // Read-only until resumed (`resume.rs`) or reopened; steps do nothing
                    // meanwhile, so the thread only sleeps until then.
                    inner.set_bg_error(&e);
                    inner.stall_cv.notify_all();
                    break;
                }
            }
        }
        if !inner.bg_error_is_set() {
            if let Err(e) = inner.group_commit_tick() {
                inner.set_bg_error(&e);
            }
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
    /// Run maintenance until nothing is left to do (bounded).
    pub(super) fn maintenance_until_idle(&self) -> Result<()> {
        for _ in 0..MAINTENANCE_STEPS_MAX {
            if !self.maintenance_step()? {
                return Ok(());
            }
        }
        Err(LsmError::InvalidArgument(
            "maintenance did not converge".into(),
        ))
    }

    /// Switch to a new memtable and flush everything in memory to L0, waiting for it.
    pub(super) fn flush_all(&self) -> Result<()> {
        {
            let mut w = lock(&self.write);
            if !w.mem.is_empty() {
                self.rotate(&mut w)?;
            }
        }
        self.wait_for(|st| st.imms.is_empty())
    }

    /// Flush, then compact until no level is over its target.
    pub(super) fn compact(&self) -> Result<()> {
        self.flush_all()?;
        match self.opts.maintenance {
            MaintenanceMode::Manual => self.maintenance_until_idle(),
            MaintenanceMode::Background => {
                let opts = self.opts.clone();
                self.wait_for(move |st| {
                    st.imms.is_empty() && compaction::best_score(&st.version, &opts).1 < 1.0
                })
            }
        }
    }

    /// Flush, then compact every level into the next until all tables sit in the deepest
    /// non-empty level (RocksDB's full `CompactRange`): tombstones and expired values are
    /// dropped, and space amplification returns to about 1.
    pub(super) fn compact_all(&self) -> Result<()> {
        self.flush_all()?;
        let deepest = |st: &LsmState| st.version.levels.iter().rposition(|l| !l.is_empty());
        let Some(target) = deepest(&self.current()).map(|d| d.max(1)) else {
            return Ok(());
        };
        for level in 0..target {
            // Bound: each compaction removes at least one table from `level`.
            for _ in 0..=self.current().version.levels[level].len() {
                if self.current().version.levels[level].is_empty() {
                    break;
                }
                self.compact_level(level)?;
            }
        }
        Ok(())
    }

    /// Block until `done` holds for the current state: run maintenance steps inline in
    /// manual mode, wake the background thread and poll in background mode.
    fn wait_for(&self, done: impl Fn(&LsmState) -> bool) -> Result<()> {
        loop {
            self.check_bg_error()?;
            let st = self.current();
            if done(&st) {
                return Ok(());
            }
            match self.opts.maintenance {
                MaintenanceMode::Manual => {
                    if !self.maintenance_step()? {
                        return Ok(());
                    }
                }
                MaintenanceMode::Background => {
                    self.wake_bg();
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    fn commit(
        &self,
        edit: VersionEdit,
        added: &[Arc<TableFile>],
        remove_imm: Option<&Arc<MemTable>>,
    ) -> Result<()> {
        let mut vs = lock(&self.versions);
        let mut edit = edit;
        edit.next_file_number = Some(self.next_file.load(Ordering::Relaxed));
        // The tree the edit makes is checked before the edit reaches the manifest: a bad edit
        // (a compaction bug) stops here, with the database poisoned and the manifest, the
        // files and the published version as they were, instead of being found at the next
        // open — or never.
        self.current()
            .version
            .preview(&edit, added)
            .check_invariants()
            .map_err(|e| {
                LsmError::corruption(
                    vs.manifest.path(),
                    "version edit",
                    0,
                    CorruptionDetail::RefusedEdit(e),
                )
            })?;
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

    pub(super) fn maintenance_step(&self) -> Result<bool> {
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

    pub(super) fn flush_imm(&self, st: &LsmState, imm: &Arc<MemTable>) -> Result<()> {
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
        }
        let next_log = st.imms.get(1).map_or(st.mem.log_number, |m| m.log_number);
        edit.log_number = Some(next_log);
        edit.last_sequence = Some(self.last_seq.load(Ordering::Acquire));
        self.record_outputs(edit, &added, Some(imm))?;
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
            for f in &task.inputs {
                edit.added.push((out_level, f.meta.clone()));
            }
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
        let written: u64 = outputs.iter().map(|f| f.meta.size_bytes).sum();
        for f in &outputs {
            edit.added.push((out_level, f.meta.clone()));
        }
        self.record_outputs(edit, &outputs, None)?;
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

    /// Make a flush's or compaction's new tables durable and record them in the manifest. On
    /// failure they must not linger as dead weight on a disk that may be full: tables whose
    /// directory entries did not sync are removed at once; those of an edit the manifest
    /// failed to take are kept until `resume` has replaced the manifest (its last, partial
    /// record may name them — see `resume.rs`), then removed.
    fn record_outputs(
        &self,
        edit: VersionEdit,
        outputs: &[Arc<TableFile>],
        remove_imm: Option<&Arc<MemTable>>,
    ) -> Result<()> {
        if !outputs.is_empty() {
            if let Err(e) = self.fs.sync_dir(&self.dir) {
                outputs.iter().for_each(|f| f.mark_obsolete());
                return Err(e.into());
            }
        }
        self.commit(edit, outputs, remove_imm).inspect_err(|_| {
            lock(&self.failed_outputs).extend(outputs.iter().cloned());
        })
    }

    fn smallest_snapshot(&self) -> u64 {
        let s = lock(&self.snapshots);
        s.keys()
            .next()
            .copied()
            .unwrap_or_else(|| self.last_seq.load(Ordering::Acquire))
    }
}

pub(super) fn write_memtable(
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
