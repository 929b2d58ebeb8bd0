//! `repair`: bring a store's metadata copies back — the stale ones rolled forward or rebuilt
//! when they are opened, the lost and corrupt ones rebuilt from a good copy — and say plainly
//! what could not be brought back.
//!
//! When every copy of the metadata is gone (the copies are empty but the disks hold blobs), or
//! when asked (`from_shards`), the metadata is rebuilt from the shards themselves: every blob
//! written since format 2 describes its version (`describe.rs`, `rebuild.rs`). What cannot be
//! rebuilt is listed. Until then `open` refuses such a store rather than letting the orphan
//! sweep delete those blobs.

use std::path::{Path, PathBuf};

use super::blob::BlobStore;
use super::error::ObjectError;
use super::layout::Layout;
use super::lsm_meta;
use super::meta::MetaStore;
use super::rebuild::{self, RebuildReport};
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
    /// When every copy of the metadata was empty and the disks held blobs, or when asked: the
    /// rebuild from the shards.
    pub rebuilt: Option<RebuildReport>,
}

impl RepairReport {
    /// Copies still out of service.
    pub fn copies_down(&self) -> Vec<&CopyState> {
        self.copies.iter().filter(|c| !c.live).collect()
    }

    /// Whether the metadata is whole again: every copy live, nothing lost.
    pub fn whole(&self) -> bool {
        self.copies_down().is_empty()
            && self
                .rebuilt
                .as_ref()
                .is_none_or(|r| r.not_rebuilt.is_empty())
    }
}

/// Repair the metadata copies of the store in `root` (see the module docs). `from_shards`:
/// rebuild from the shards even if a copy survives — which only fills an empty metadata; with
/// records present it is an error (see [`rebuild::rebuild`]).
pub fn repair(
    fs: FsHandle,
    root: &Path,
    opts: Options,
    clock: ClockHandle,
    from_shards: bool,
) -> Result<RepairReport, ObjectError> {
    let layout: Layout = ObjectStore::read_layout(&*fs, root)?;
    // Emptied disks formatted first, so that their copies are made (`blob/disk_id.rs`).
    let now_ms = clock.unix_millis();
    BlobStore::new(fs.clone(), layout.clone())
        .with_store_root(root)
        .check_disks(|| {
            crate::object::blob::store_id_from(&format!("{}|{now_ms}", root.display()))
        })?;
    let (meta, opened) = lsm_meta::open_replicated(fs.clone(), root, &layout, opts, clock)
        .map_err(ObjectError::from)?;
    let verified = meta.verify(true).map_err(ObjectError::from)?;
    let empty = meta
        .scan(b"", &[0xFF], 1)
        .map_err(ObjectError::from)?
        .is_empty();
    let blobs = BlobStore::new(fs, layout).with_store_root(root);
    let rebuilt = if from_shards || (empty && !blobs.list()?.is_empty()) {
        Some(rebuild::rebuild(&*meta, &blobs)?)
    } else {
        None
    };
    Ok(RepairReport {
        opened,
        verified,
        copies: meta.copies(),
        rebuilt,
    })
}

/// The directories `repair` looks at, for messages.
pub fn copy_dirs(fs: &FsHandle, root: &Path) -> Result<Vec<PathBuf>, ObjectError> {
    let layout = ObjectStore::read_layout(&**fs, root)?;
    lsm_meta::copy_dirs(fs, root, &layout).map_err(ObjectError::from)
}
