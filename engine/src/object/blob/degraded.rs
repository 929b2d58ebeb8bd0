//! Writing past a lost disk: a blob whose shard cannot be placed because its disk's directory
//! is gone is written to the disks that are there, as long as at least K of them are.
//!
//! Why K: a blob reads back from any K of its shards, and the metadata side already
//! acknowledges a commit once K of its K + M copies have it (`replicated.rs`), so with this
//! losing M disks blocks neither half of a write. The price is redundancy, not data: a blob
//! written with `a` disks absent survives `M - a` more losses until scrub rebuilds its missing
//! shards onto the disk as it is then (the same repair as for a blob written before the loss),
//! and every GET before that rebuilds the missing shards' bytes from parity. MinIO's erasure
//! sets do the same (their write quorum is K, K + 1 when K = M).
//!
//! Two things make a shard absent:
//!
//! - **An absent disk**: its identity file is not there (`disk_id.rs`) — the disk was
//!   removed, deleted, or is not mounted (its mount point left empty on the root file system).
//!   A blob is never written onto a directory without the file, nor onto one made by the write
//!   itself; once the store has formatted the disk (a new disk mounted in its place, or a plain
//!   directory made again: at open, or when scrub starts), scrub writes its shards whole.
//! - **A disk that fails the shard's I/O** ([`crate::io::IoError::is_device_failure`]: EIO, a
//!   file system gone read-only after errors, a device gone away): the shard is dropped from
//!   the blob where it failed — at its file's creation, any block write, or its `fdatasync` —
//!   and its file removed if the blob has files of its own (best effort: the disk may refuse
//!   that too; a GET then finds the shard's CRCs wrong and rebuilds it, as for any rot). After
//!   a failed `fdatasync` the file's contents are unknown (the kernel may have dropped the
//!   pages it could not write: "fsyncgate"), so the shard is not counted whatever a retry says.
//!   A pack whose file failed takes no more records; the next pack is made on the disks that
//!   take a file (`pack.rs`). The metadata side does the same with a copy whose commit fails
//!   (`replicated.rs`).
//!
//! Any other failure fails the write as before, with nothing half-written: a full disk is the
//! space reserve's business (`space.rs`), and a bad request or too many open files would fail
//! on every disk alike.

use std::path::{Path, PathBuf};

use super::{BlobError, BlobStore, DataId, DiskState};
use crate::io::{File, FileHandle};

/// The files a blob is written to, one per shard in shard order: `None` where the shard's
/// disk was missing when the blob's files were made.
pub(super) type ShardSet = Vec<Option<FileHandle>>;

/// A disk that failed writes, as [`BlobStore::disk_failures`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskFailure {
    /// The disk's directory.
    pub disk: PathBuf,
    /// Shards written without it since the last report.
    pub shards: u64,
    /// The last error it gave.
    pub last_error: String,
}

/// Each file that is there, with the item of the same shard, in shard order.
pub(super) fn present<T>(
    files: &[Option<FileHandle>],
    items: impl IntoIterator<Item = T>,
) -> impl Iterator<Item = (&dyn File, T)> {
    files
        .iter()
        .zip(items)
        .filter_map(|(f, t)| f.as_deref().map(|f| (f, t)))
}

/// The shard indices [`present`] yields items for, in the same order.
pub(super) fn present_shards(files: &[Option<FileHandle>]) -> Vec<usize> {
    (0..files.len()).filter(|&i| files[i].is_some()).collect()
}

impl BlobStore {
    /// Settle a batch of requests to shards `shards` (in order) of blob `id`: a shard whose
    /// disk failed its request is dropped from `files` (and its file removed, if the blob has
    /// files of its own), as long as K shards are left; any other error fails the write, as
    /// does a device failure that leaves fewer than K.
    pub(super) fn settle<T>(
        &self,
        id: &DataId,
        files: &mut ShardSet,
        shards: &[usize],
        results: Vec<crate::io::Result<T>>,
    ) -> Result<(), BlobError> {
        debug_assert_eq!(shards.len(), results.len());
        let mut first = None;
        for (&i, r) in shards.iter().zip(results) {
            match r {
                Ok(_) => {}
                Err(e) if e.is_device_failure() => {
                    self.drop_shard(id, files, i, &e.to_string());
                    first.get_or_insert(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        match first {
            Some(e) if files.iter().flatten().count() < self.layout.k => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The names in directory `dir` on one of the store's disks: none if it is not there, or
    /// if its disk fails to list it — what only that disk holds is found once it works (every
    /// blob and every pack has files on K disks or more).
    pub(super) fn list_if_working(&self, dir: &Path) -> Result<Vec<String>, BlobError> {
        match self.fs.list(dir) {
            Ok(names) => Ok(names),
            Err(e) if e.is_not_found() || e.is_device_failure() => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Remember which shards of blob `id`, just written, are absent, for its description.
    pub(super) fn note_absent_shards(&self, id: &DataId, files: &[Option<FileHandle>]) {
        let mask = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_none())
            .fold(0u32, |m, (i, _)| m | 1 << i);
        if mask != 0 {
            let mut absent = self.absent_shards.lock().unwrap_or_else(|p| p.into_inner());
            absent.insert(*id, mask);
        }
    }

    /// The shards of blob `id` its write went on without (bit `i`: shard `i`), forgotten.
    pub(super) fn take_absent_shards(&self, id: &DataId) -> u32 {
        let mut absent = self.absent_shards.lock().unwrap_or_else(|p| p.into_inner());
        absent.remove(id).unwrap_or(0)
    }

    /// Take shard `shard` out of blob `id` after its disk failed `why`.
    pub(super) fn drop_shard(&self, id: &DataId, files: &mut ShardSet, shard: usize, why: &str) {
        if files[shard].take().is_none() {
            return;
        }
        self.note_disk_failure(shard, why);
        match id.pack_place() {
            Some(place) => self.pack_sync(place.pack).fail_file(shard, why.to_owned()),
            None => {
                let _ = self.fs.remove_file(&self.shard_path(id, shard));
            }
        }
    }

    /// Count a shard dropped because disk `shard` failed `why`, for [`BlobStore::disk_failures`].
    pub(super) fn note_disk_failure(&self, shard: usize, why: &str) {
        let mut failures = self.disk_failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.entry(shard).or_insert_with(|| (0, String::new()));
        entry.0 += 1;
        entry.1 = why.to_owned();
    }

    /// The disks that failed a write since the last call, with how many shards each cost and
    /// the last error: shards that writes went on without (this module's docs). A server logs
    /// them; scrub puts the shards back once the disk works.
    pub fn disk_failures(&self) -> Vec<DiskFailure> {
        let taken =
            std::mem::take(&mut *self.disk_failures.lock().unwrap_or_else(|p| p.into_inner()));
        taken
            .into_iter()
            .map(|(i, (shards, last_error))| DiskFailure {
                disk: self.layout.disks[i].clone(),
                shards,
                last_error,
            })
            .collect()
    }

    /// Check that a blob's files reach at least K disks; else the error naming the missing
    /// ones.
    pub(super) fn enough_disks(&self, files: &[Option<FileHandle>]) -> Result<(), BlobError> {
        let reached = files.iter().flatten().count();
        if reached >= self.layout.k {
            return Ok(());
        }
        // One look at every disk, for the message (`disk_id.rs`).
        let states = self.disk_states().unwrap_or_default();
        let failures = self.disk_failures.lock().unwrap_or_else(|p| p.into_inner());
        let absent: Vec<String> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_none())
            .map(|(i, _)| {
                let disk = self.layout.disks[i].display();
                let state = states.get(i);
                if let Some(DiskState::Foreign(what)) = state {
                    return format!("{disk} (another disk is at its path: {what})");
                }
                match (state.and_then(DiskState::why_absent), failures.get(&i)) {
                    (Some(why), _) => format!("{disk} ({why})"),
                    (None, Some((_, why))) => format!("{disk} (failing: {why})"),
                    (None, None) => format!("{disk} (failing)"),
                }
            })
            .collect();
        Err(BlobError::TooFewDisks {
            reached,
            width: self.layout.width(),
            needed: self.layout.k,
            absent,
        })
    }
}
