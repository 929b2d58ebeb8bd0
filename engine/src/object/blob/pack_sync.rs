//! One `fdatasync` of a pack's files for every record written meanwhile (group sync).
//!
//! Every small PUT appends a record to the same K + M pack files and must have it durable
//! before it is acknowledged. An `fdatasync` flushes everything written to the file before it
//! started, whoever wrote it — so K + M syncs per PUT, with C PUTs at once, are C − 1 rounds
//! too many: on this project's 2-vCPU VM 4 KiB PUTs went no faster with 8 clients than with 1.
//!
//! So each record, once written, takes a **ticket** (a count of completed writes to the pack),
//! and asks for the pack to be synced through it: the first to get the pack's sync lock syncs
//! every file and marks everything counted *before it started* as synced; the writers that
//! waited meanwhile find their tickets covered and return without a sync of their own.
//!
//! **A failed sync fails the file for good.** After a failed `fdatasync` the kernel may have
//! dropped the dirty pages it could not write and marked them clean, and it reports the error
//! once per open file: a later sync of the same file can succeed without the data
//! ("fsyncgate"). So a pack file whose sync failed because its disk did
//! ([`crate::io::IoError::is_device_failure`]) is *failed*: every writer whose record that
//! sync was to cover, and every later one, counts its shard in that file as lost — the record
//! is acknowledged on the other files if K of them hold it (`degraded.rs`) — and the writer
//! moves on to a fresh pack (`pack.rs`). Any other sync error **poisons** the pack: every
//! writer whose record it was to cover gets the failure, and so does every later sync. Records
//! acknowledged before a failure were synced; nothing after it is acknowledged from there
//! without the K files it needs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use super::BlobError;
use crate::io::IoError;

/// The sync state of one pack.
#[derive(Debug, Default)]
pub(super) struct PackSync {
    /// Records written to the pack (their writes completed) — the tickets handed out.
    written: AtomicU64,
    /// Tickets up to this one are durable; held through a sync, which makes it the group lock.
    synced: Mutex<u64>,
    /// A sync failed other than by a disk's failure: nothing more in this pack is
    /// acknowledged.
    poisoned: AtomicBool,
    /// Pack files (by shard) whose disk failed a sync, with the error: lost to every record
    /// not synced before.
    failed: Mutex<BTreeMap<usize, String>>,
    /// Whether `failed` has any (read without its lock by the writer choosing a pack).
    any_failed: AtomicBool,
}

/// One file's sync, as the closure given to [`PackSync::sync_through`] reports it: the
/// file's shard index and the result.
pub(super) type FileSync = (usize, Result<(), IoError>);

impl PackSync {
    /// After a record's write completed: its ticket.
    pub(super) fn written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether a sync of this pack has failed, whole or for one of its files (the writer then
    /// starts a new pack).
    pub(super) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst) || self.any_failed.load(Ordering::SeqCst)
    }

    /// The pack files failed so far, with their errors.
    fn failed_files(&self) -> Vec<(usize, String)> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.iter().map(|(&i, e)| (i, e.clone())).collect()
    }

    /// Fail pack file `shard` for good: its disk failed a write to it (`degraded.rs`), so the
    /// writer leaves the pack for a fresh one, and no later record counts its shard there.
    pub(super) fn fail_file(&self, shard: usize, why: String) {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.entry(shard).or_insert(why);
        self.any_failed.store(true, Ordering::SeqCst);
    }

    /// Take a sync's results in: files whose disk failed are failed for good; any other error
    /// poisons the pack and is returned.
    fn absorb(&self, results: Vec<FileSync>) -> Result<(), BlobError> {
        let mut other = None;
        for (i, r) in results {
            match r {
                Ok(()) => {}
                Err(e) if e.is_device_failure() => {
                    let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
                    failed.insert(i, e.to_string());
                    self.any_failed.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    other.get_or_insert(e);
                }
            }
        }
        match other {
            Some(e) => {
                self.poisoned.store(true, Ordering::SeqCst);
                Err(e.into())
            }
            None => Ok(()),
        }
    }

    /// Make every record up to `ticket` durable: return at once if a sync that started after
    /// it already did, else run `sync` (every file of the pack that has not failed) for
    /// everything written so far. Returns the pack's failed files: the record's shards in
    /// them are lost. `pack` (its first file) names the pack in the error of a poisoned one.
    pub(super) fn sync_through(
        &self,
        ticket: u64,
        pack: &Path,
        sync: impl FnOnce() -> Vec<FileSync>,
    ) -> Result<Vec<(usize, String)>, BlobError> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(poisoned(pack));
        }
        if *synced < ticket {
            // Every ticket counted now belongs to a write that has completed.
            let through = self.written.load(Ordering::SeqCst);
            self.absorb(sync())?;
            *synced = through;
        }
        Ok(self.failed_files())
    }

    /// Sync some of the pack's files for one writer, covering no one else — but a failure
    /// fails the file (or poisons the pack) all the same: the pages the kernel dropped may be
    /// anyone's.
    pub(super) fn sync_alone(
        &self,
        pack: &Path,
        sync: impl FnOnce() -> Vec<FileSync>,
    ) -> Result<Vec<(usize, String)>, BlobError> {
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(poisoned(pack));
        }
        self.absorb(sync())?;
        Ok(self.failed_files())
    }
}

fn poisoned(pack: &Path) -> BlobError {
    BlobError::Io(IoError::eio(
        "fdatasync",
        pack,
        "an earlier fdatasync of this pack failed, so records written to it since its last \
         good sync may not be on disk; new records go to a fresh pack",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(files: usize) -> Vec<FileSync> {
        (0..files).map(|i| (i, Ok(()))).collect()
    }

    /// File `bad` fails its sync with `err`; the others succeed.
    fn one_fails(files: usize, bad: usize, err: IoError) -> Vec<FileSync> {
        let mut err = Some(err);
        (0..files)
            .map(|i| match i == bad {
                true => (i, Err(err.take().expect("one file"))),
                false => (i, Ok(())),
            })
            .collect()
    }

    fn eio() -> IoError {
        IoError::eio("fdatasync", Path::new("/d/packs/00000007.1"), "injected")
    }

    fn not_a_disk_failure() -> IoError {
        IoError::invalid("fdatasync", Path::new("/d/packs/00000007.1"), "bad handle")
    }

    #[test]
    fn one_sync_covers_every_record_written_before_it_started() {
        let s = PackSync::default();
        let (a, b) = (s.written(), s.written());
        let mut syncs = 0;
        s.sync_through(a, Path::new("/p"), || {
            syncs += 1;
            ok(3)
        })
        .unwrap();
        // `b` was written before that sync started: covered.
        s.sync_through(b, Path::new("/p"), || panic!("b was covered"))
            .unwrap();
        let c = s.written();
        s.sync_through(c, Path::new("/p"), || {
            syncs += 1;
            ok(3)
        })
        .unwrap();
        assert_eq!(syncs, 2);
    }

    #[test]
    fn a_disk_that_fails_a_sync_loses_its_file_for_every_record_not_synced_before() {
        let s = PackSync::default();
        let a = s.written();
        assert!(s
            .sync_through(a, Path::new("/p"), || ok(3))
            .unwrap()
            .is_empty());
        let (b, c) = (s.written(), s.written());
        let failed = s
            .sync_through(b, Path::new("/p"), || one_fails(3, 1, eio()))
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, 1);
        assert!(failed[0].1.contains("00000007.1"), "{failed:?}");
        // The writer leaves the pack.
        assert!(s.is_poisoned());
        // `c` was covered by that sync: its shard in file 1 is lost too, however a later
        // sync of that file goes.
        let failed = s
            .sync_through(c, Path::new("/p"), || panic!("c was covered"))
            .unwrap();
        assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), [1]);
        let d = s.written();
        let failed = s.sync_through(d, Path::new("/p"), || ok(3)).unwrap();
        assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_failed_write_fails_the_file_for_later_records() {
        let s = PackSync::default();
        s.fail_file(2, "write: EIO".into());
        assert!(s.is_poisoned());
        let a = s.written();
        let failed = s.sync_through(a, Path::new("/p"), || ok(3)).unwrap();
        assert_eq!(failed, [(2, "write: EIO".to_string())]);
    }

    #[test]
    fn any_other_sync_error_fails_every_record_it_was_to_cover_and_every_later_one() {
        let s = PackSync::default();
        let (a, b) = (s.written(), s.written());
        assert!(s
            .sync_through(a, Path::new("/d/packs/00000007.0"), || {
                one_fails(3, 0, not_a_disk_failure())
            })
            .is_err());
        assert!(s.is_poisoned());
        // `b` may have been in the pages the kernel dropped: no sync may acknowledge it.
        let err = s
            .sync_through(b, Path::new("/d/packs/00000007.0"), || ok(3))
            .unwrap_err();
        assert!(err.to_string().contains("00000007.0"), "{err}");
        assert!(err.to_string().contains("an earlier fdatasync"), "{err}");
        let c = s.written();
        assert!(s
            .sync_through(c, Path::new("/d/packs/00000007.0"), || ok(3))
            .is_err());
    }

    #[test]
    fn a_failed_sync_of_some_files_fails_them_for_the_pack_too() {
        let s = PackSync::default();
        let a = s.written();
        assert!(s.sync_alone(Path::new("/p"), || ok(2)).unwrap().is_empty());
        assert!(!s.is_poisoned());
        let failed = s
            .sync_alone(Path::new("/p"), || one_fails(2, 0, eio()))
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert!(s.is_poisoned());
        let failed = s.sync_through(a, Path::new("/p"), || ok(3)).unwrap();
        assert_eq!(failed.len(), 1);
        assert!(s
            .sync_alone(Path::new("/p"), || one_fails(2, 1, not_a_disk_failure()))
            .is_err());
        assert!(s.sync_through(a, Path::new("/p"), || ok(3)).is_err());
    }
}
