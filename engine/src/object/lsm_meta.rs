//! Object metadata in Seedbed's own LSM engine: [`MetaStore`] for [`Db`].
//!
//! Every metadata change is one atomic write batch; with `sync` the batch is in the synced WAL
//! before the call returns, which is the "metadata durable" half of a PUT's acknowledgement.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::layout::Layout;
use super::meta::{MetaSnapshot, MetaStore, Rows};
use super::meta_error::MetaError;
use super::replicated::{OpenReport, Opener, ReplicatedMeta};
use crate::clock::{ClockHandle, RealClock};
use crate::io::FsHandle;
use crate::lsm::{Db, Options, ReadOptions, Snapshot, WriteBatch, WriteOptions};

impl MetaStore for Db {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        Db::get(self, key)
            .map(|v| v.map(|b| b.to_vec()))
            .map_err(MetaError::from)
    }

    fn commit(&self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>, sync: bool) -> Result<(), MetaError> {
        let mut batch = WriteBatch::new();
        for (k, v) in &ops {
            match v {
                Some(v) => batch.put(k, v),
                None => batch.delete(k),
            }
        }
        self.write(batch, WriteOptions { sync: Some(sync) })
            .map_err(MetaError::from)
    }

    fn resume(&self) -> Result<(), MetaError> {
        Db::resume(self).map_err(MetaError::from)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, MetaError> {
        let mut it = self.iter(ReadOptions::default(), Some(start), Some(end));
        it.seek_to_first()?;
        Ok(it.collect_forward(limit)?)
    }

    fn snapshot(&self) -> Option<Box<dyn MetaSnapshot>> {
        Some(Box::new(Db::snapshot(self)))
    }
}

/// The LSM's own snapshot: compaction keeps the versions it reads until it is dropped.
impl MetaSnapshot for Snapshot {
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError> {
        let mut it = self.iter(Some(start), Some(end));
        it.seek_to_first()?;
        Ok(it.collect_forward(limit)?)
    }
}

/// Open (or create) the metadata database in `dir` with background maintenance, on a real disk.
pub fn open(fs: FsHandle, dir: &Path) -> Result<Arc<dyn MetaStore>, MetaError> {
    open_with(fs, dir, metadata_options(), Arc::new(RealClock::new()))
}

/// Open (or create) the metadata database with explicit options and clock (the simulator
/// passes manual maintenance and its virtual clock).
pub fn open_with(
    fs: FsHandle,
    dir: &Path,
    opts: Options,
    clock: ClockHandle,
) -> Result<Arc<dyn MetaStore>, MetaError> {
    crate::io::create_dir_all_durable(&*fs, dir)?;
    let db = Db::open(fs, dir, opts, clock)?;
    Ok(Arc::new(db))
}

/// The directories of a store's metadata copies: `DISK/meta` on each of the layout's disks,
/// then `root/meta` if it exists (where a store made before the metadata was replicated kept
/// its only copy; it stays one of the copies).
pub fn copy_dirs(fs: &FsHandle, root: &Path, layout: &Layout) -> Result<Vec<PathBuf>, MetaError> {
    let mut dirs: Vec<PathBuf> = layout.disks.iter().map(|d| d.join("meta")).collect();
    let legacy = root.join("meta");
    if fs.exists(&legacy)? {
        dirs.push(legacy);
    }
    Ok(dirs)
}

/// Open a store's metadata, one copy per disk ([`copy_dirs`]), reconciled
/// ([`ReplicatedMeta::open`]); a commit needs K copies, so any M disks may be lost.
pub fn open_replicated(
    fs: FsHandle,
    root: &Path,
    layout: &Layout,
    opts: Options,
    clock: ClockHandle,
) -> Result<(Arc<ReplicatedMeta>, OpenReport), MetaError> {
    let dirs = copy_dirs(&fs, root, layout)?;
    let opener_fs = fs.clone();
    let gate_layout = layout.clone();
    let opener: Opener = Arc::new(move |dir: &Path| {
        // Never made in a mount point whose disk is not mounted, nor on another disk put at
        // its disk's path (`blob/disk_id.rs`).
        if let Some(why) = super::blob::copy_refusal(&*opener_fs, &gate_layout, dir) {
            return Err(MetaError::Unavailable(why));
        }
        open_with(opener_fs.clone(), dir, opts.clone(), clock.clone())
    });
    let (meta, report) = ReplicatedMeta::open(fs.clone(), dirs, layout.k, opener)?;
    // While the store runs, a copy whose disk is replaced by another is taken out.
    let meta = meta.with_check(super::blob::copy_check(fs, layout.clone()));
    Ok((Arc::new(meta), report))
}

/// Metadata records are small and few next to the data: a modest write buffer and cache.
pub fn metadata_options() -> Options {
    Options {
        write_buffer_bytes: 4 << 20,
        target_file_bytes: 4 << 20,
        level_base_bytes: 16 << 20,
        block_cache_bytes: 8 << 20,
        ..Options::default()
    }
}
