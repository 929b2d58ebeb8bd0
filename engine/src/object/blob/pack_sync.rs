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
//! **A failed sync poisons the pack.** After a failed `fdatasync` the kernel may have dropped
//! the dirty pages it could not write and marked them clean, and it reports the error once per
//! open file: a later sync of the same file can succeed without the data ("fsyncgate"). So
//! every writer whose record the failed sync was to cover gets the failure, every later sync
//! of the pack fails too, and the writer moves on to a fresh pack (`pack.rs`). Records
//! acknowledged before the failure were synced; nothing after it is acknowledged from there.

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
    /// A sync failed: nothing more in this pack is acknowledged.
    poisoned: AtomicBool,
}

impl PackSync {
    /// After a record's write completed: its ticket.
    pub(super) fn written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether a sync of this pack has failed (the writer then starts a new pack).
    pub(super) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Make every record up to `ticket` durable: return at once if a sync that started after
    /// it already did, else run `sync` (every file of the pack) for everything written so far.
    /// `pack` (its first file) names the pack in the error of a poisoned one.
    pub(super) fn sync_through(
        &self,
        ticket: u64,
        pack: &Path,
        sync: impl FnOnce() -> Result<(), BlobError>,
    ) -> Result<(), BlobError> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_poisoned() {
            return Err(poisoned(pack));
        }
        if *synced >= ticket {
            return Ok(());
        }
        // Every ticket counted now belongs to a write that has completed.
        let through = self.written.load(Ordering::SeqCst);
        match sync() {
            Ok(()) => {
                *synced = through;
                Ok(())
            }
            Err(e) => {
                self.poisoned.store(true, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Sync some of the pack's files for one writer, covering no one else — but a failure
    /// poisons the pack all the same: the pages the kernel dropped may be anyone's.
    pub(super) fn sync_alone(
        &self,
        pack: &Path,
        sync: impl FnOnce() -> Result<(), BlobError>,
    ) -> Result<(), BlobError> {
        if self.is_poisoned() {
            return Err(poisoned(pack));
        }
        sync().inspect_err(|_| self.poisoned.store(true, Ordering::SeqCst))
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

    fn eio() -> BlobError {
        BlobError::Io(IoError::eio("fdatasync", Path::new("/p"), "injected"))
    }

    #[test]
    fn one_sync_covers_every_record_written_before_it_started() {
        let s = PackSync::default();
        let (a, b) = (s.written(), s.written());
        let mut syncs = 0;
        s.sync_through(a, Path::new("/p"), || {
            syncs += 1;
            Ok(())
        })
        .unwrap();
        // `b` was written before that sync started: covered.
        s.sync_through(b, Path::new("/p"), || panic!("b was covered"))
            .unwrap();
        let c = s.written();
        s.sync_through(c, Path::new("/p"), || {
            syncs += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(syncs, 2);
    }

    #[test]
    fn a_failed_sync_fails_every_record_it_was_to_cover_and_every_later_one() {
        let s = PackSync::default();
        let (a, b) = (s.written(), s.written());
        assert!(s
            .sync_through(a, Path::new("/d/packs/00000007.0"), || Err(eio()))
            .is_err());
        assert!(s.is_poisoned());
        // `b` may have been in the pages the kernel dropped: no sync may acknowledge it.
        let err = s
            .sync_through(b, Path::new("/d/packs/00000007.0"), || Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("00000007.0"), "{err}");
        assert!(err.to_string().contains("an earlier fdatasync"), "{err}");
        let c = s.written();
        assert!(s
            .sync_through(c, Path::new("/d/packs/00000007.0"), || Ok(()))
            .is_err());
    }

    #[test]
    fn a_failed_sync_of_some_files_poisons_the_pack_too() {
        let s = PackSync::default();
        let a = s.written();
        s.sync_alone(Path::new("/p"), || Ok(())).unwrap();
        assert!(!s.is_poisoned());
        assert!(s.sync_alone(Path::new("/p"), || Err(eio())).is_err());
        assert!(s.is_poisoned());
        assert!(s.sync_through(a, Path::new("/p"), || Ok(())).is_err());
    }
}
