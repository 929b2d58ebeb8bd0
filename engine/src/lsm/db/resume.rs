//! Coming back from a full disk without a restart (RocksDB's `DB::Resume` after a no-space
//! error).
//!
//! A write, flush or compaction that fails poisons the database (`DbInner::set_bg_error`): its
//! log or manifest may now end in a partial record, and appending after one would hide every
//! later record from recovery (a log cut short must be the last with records). Most errors
//! stay fatal until the database is reopened — after a failed `fsync` nobody knows what the
//! device kept. A **full disk** is different: nothing went wrong on the device, the write was
//! refused whole or in part, and once space is back the database can carry on if it first
//! puts every file it appends to behind a clean start:
//!
//! 1. a new log (the old one may end in a partial record), its memtable queued for flushing
//!    (not if the log is empty: an earlier attempt made it);
//! 2. a fresh manifest holding one snapshot of the tree as the database knows it (the old
//!    one may end in a partial edit; an edit that failed is not in the snapshot);
//! 3. every immutable memtable flushed, so that the logs before the new one are no longer
//!    needed and are removed (recovery never meets the partial record);
//! 4. the tables of flushes and compactions that failed (not in the tree) removed.
//!
//! Only then is the error cleared. A step that fails for lack of space again leaves the
//! database read-only as it was (a later attempt starts over); one that fails otherwise makes
//! that error the database's, and it stays read-only until reopened. Reads are served
//! throughout: a failed write never reached the memtable.
//!
//! A write that finds the database poisoned by a full disk tries this first
//! (`DbInner::write`), so a store recovers at its first write after space is freed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{lock, DbInner, WriteState};
use crate::lsm::error::{LsmError, Result};
use crate::lsm::manifest::{manifest_file_name, ManifestWriter};
use crate::lsm::stats::Stats;

impl DbInner {
    /// Clear a no-space background error (module docs); `Ok` if there was none. Any other
    /// background error is returned as it is.
    pub(super) fn resume(&self) -> Result<()> {
        // Lock order: write → work (mod.rs). Holding both, no group commits and no flush or
        // compaction runs meanwhile.
        let mut w = lock(&self.write);
        let work = lock(&self.work);
        if self.closed.load(Ordering::Acquire) {
            return Err(LsmError::Closed);
        }
        let Some(cause) = lock(&self.bg_error).clone() else {
            return Ok(());
        };
        if !cause.is_no_space() {
            return Err(LsmError::BackgroundError(cause));
        }
        if let Err(e) = self.restart_files(&mut w) {
            if e.is_no_space() {
                // Still full: read-only as before, and the caller learns what it lacks.
                return Err(LsmError::NoSpaceToResume {
                    cause,
                    resume: Arc::new(e),
                });
            }
            // Something worse than a full disk happened on the way: that is now the reason.
            *lock(&self.bg_error) = Some(Arc::new(e.duplicate()));
            return Err(LsmError::BackgroundError(Arc::new(e)));
        }
        *lock(&self.bg_error) = None;
        self.poisoned.store(false, Ordering::Release);
        Stats::add(&self.stats.resumes, 1);
        drop(work);
        drop(w);
        self.wake_bg();
        self.stall_cv.notify_all();
        Ok(())
    }

    /// Steps 1–4 of the module docs. The caller holds `write` (as `w`) and `work`.
    fn restart_files(&self, w: &mut WriteState) -> Result<()> {
        // A log nothing was written to (an earlier attempt's) is a clean start already: a
        // disk that stays full must not collect a log and a memtable per attempt. One whose
        // write failed is not, even if it counts no bytes: part of the record may be there.
        if w.log_failed || w.wal.len_bytes() > 0 {
            self.rotate(w)?;
        }
        {
            let mut vs = lock(&self.versions);
            let number = self.next_file.fetch_add(1, Ordering::Relaxed);
            vs.mirror.next_file_number = self.next_file.load(Ordering::Relaxed);
            let old = vs.manifest.path().to_path_buf();
            match ManifestWriter::create(&*self.fs, &self.dir, number, &vs.mirror) {
                Ok(m) => vs.manifest = m,
                Err(e) => {
                    // Not current (CURRENT still names the old one): its file is garbage.
                    let _ = self
                        .fs
                        .remove_file(&self.dir.join(manifest_file_name(number)));
                    let _ = self.fs.remove_file(&self.dir.join("CURRENT.tmp"));
                    return Err(e);
                }
            }
            let _ = self.fs.remove_file(&old);
        }
        // The tables of edits that never reached the (now replaced) manifest.
        for f in lock(&self.failed_outputs).drain(..) {
            f.mark_obsolete();
        }
        // Bound: each flush removes one immutable memtable.
        loop {
            let st = self.current();
            let Some(imm) = st.imms.first().cloned() else {
                break;
            };
            self.flush_imm(&st, &imm)?;
        }
        Ok(())
    }
}
