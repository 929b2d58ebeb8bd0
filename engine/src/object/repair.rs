//! `repair`: bring a store's metadata copies back — the stale ones rolled forward or rebuilt
//! when they are opened, the lost and corrupt ones rebuilt from a good copy — and say plainly
//! what could not be brought back.
//!
//! Rebuilding from the shards themselves, when every copy of the metadata is gone, is not done:
//! a blob's shard and pack headers name the blob, its size and its layout, but not the bucket,
//! key, version or user metadata it belongs to. So a store whose every copy is lost is reported
//! as such (with the number of blobs still on the disks), and `open` refuses it rather than
//! letting the orphan sweep delete those blobs.

use std::path::{Path, PathBuf};

use super::blob::BlobStore;
use super::error::ObjectError;
use super::layout::Layout;
use super::lsm_meta;
use super::meta::MetaStore;
use super::replicated::{CopyState, OpenReport, VerifyReport};
use super::store::ObjectStore;
use crate::clock::ClockHandle;
use crate::io::FsHandle;
use crate::lsm::Options;

/// What `repair` found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepairReport {
    /// Opening the copies: which were rolled forward or rebuilt because they were behind.
    pub opened: OpenReport,
    /// Comparing and healing the copies.
    pub verified: VerifyReport,
    /// Every copy afterwards.
    pub copies: Vec<CopyState>,
    /// When every copy of the metadata is empty: the blobs still on the disks, which cannot be
    /// turned back into objects (their records are not in the shards).
    pub unrecoverable_blobs: Option<u64>,
}

impl RepairReport {
    /// Copies still out of service.
    pub fn copies_down(&self) -> Vec<&CopyState> {
        self.copies.iter().filter(|c| !c.live).collect()
    }

    /// Whether the metadata is whole again: every copy live, nothing lost.
    pub fn whole(&self) -> bool {
        self.copies_down().is_empty() && self.unrecoverable_blobs.is_none()
    }
}

/// Repair the metadata copies of the store in `root` (see the module docs).
pub fn repair(
    fs: FsHandle,
    root: &Path,
    opts: Options,
    clock: ClockHandle,
) -> Result<RepairReport, ObjectError> {
    let layout: Layout = ObjectStore::read_layout(&*fs, root)?;
    let (meta, opened) = lsm_meta::open_replicated(fs.clone(), root, &layout, opts, clock)
        .map_err(ObjectError::Internal)?;
    let verified = meta.verify(true).map_err(ObjectError::Internal)?;
    let empty = meta
        .scan(b"", &[0xFF], 1)
        .map_err(ObjectError::Internal)?
        .is_empty();
    let unrecoverable_blobs = if empty {
        let blobs = BlobStore::new(fs, layout).list()?.len() as u64;
        (blobs > 0).then_some(blobs)
    } else {
        None
    };
    Ok(RepairReport {
        opened,
        verified,
        copies: meta.copies(),
        unrecoverable_blobs,
    })
}

/// The directories `repair` looks at, for messages.
pub fn copy_dirs(fs: &FsHandle, root: &Path) -> Result<Vec<PathBuf>, ObjectError> {
    let layout = ObjectStore::read_layout(&**fs, root)?;
    lsm_meta::copy_dirs(fs, root, &layout).map_err(ObjectError::Internal)
}
