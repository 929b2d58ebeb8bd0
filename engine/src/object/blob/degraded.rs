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
//! Only a **missing disk directory** makes a shard absent: the disk was removed, unmounted or
//! deleted. Any other failure — a disk that is there but fails its I/O, a full one — fails the
//! write as before, with nothing half-written: a disk that answers with errors is not one to
//! guess about, and a full disk is the space reserve's business (`space.rs`). A blob is never
//! written onto a disk directory re-created by the write itself (a mount point whose disk is
//! gone would take it on the wrong file system); scrub makes it and writes it whole (and opening
//! the store makes it for the disk's metadata copy).

use std::path::PathBuf;

use super::{BlobError, BlobStore};
use crate::io::{File, FileHandle};

/// The files a blob is written to, one per shard in shard order: `None` where the shard's
/// disk was missing when the blob's files were made.
pub(super) type ShardSet = Vec<Option<FileHandle>>;

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

impl BlobStore {
    /// Whether disk `shard`'s directory is gone (removed or unmounted while the store runs).
    /// A directory that cannot even be looked at counts as there: its error is the write's.
    pub(super) fn disk_missing(&self, shard: usize) -> bool {
        matches!(self.fs.exists(&self.layout.disks[shard]), Ok(false))
    }

    /// The disks whose directory is gone, in layout order.
    pub fn missing_disks(&self) -> Vec<PathBuf> {
        (0..self.layout.width())
            .filter(|&i| self.disk_missing(i))
            .map(|i| self.layout.disks[i].clone())
            .collect()
    }

    /// Check that a blob's files reach at least K disks; else the error naming the missing
    /// ones.
    pub(super) fn enough_disks(&self, files: &[Option<FileHandle>]) -> Result<(), BlobError> {
        let reached = files.iter().flatten().count();
        if reached >= self.layout.k {
            return Ok(());
        }
        let missing: Vec<PathBuf> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_none())
            .map(|(i, _)| self.layout.disks[i].clone())
            .collect();
        Err(BlobError::TooFewDisks {
            reached,
            width: self.layout.width(),
            needed: self.layout.k,
            missing,
        })
    }
}
