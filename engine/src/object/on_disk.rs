//! A store on a real disk: the one way the `seedbed object` command, its benchmark and the S3
//! server create and open a store, so that all three get the same metadata copies (one per
//! disk, [`crate::object::replicated`]), the real clock and a fresh random seed for version ids.
//!
//! The simulator builds its stores itself, with its own clock, RNG and `sim` disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::RealClock;
use crate::io::FsHandle;
use crate::rng::{os_seed, DetRng};

use super::blob::{store_id_from, BlobStore};
use super::layout::Layout;
use super::lsm_meta;
use super::replicated::OpenReport;
use super::store::{ObjectStore, StoreOptions, LAYOUT_FILE};
use super::ObjectError;

/// Whether `dir` holds a store (its layout file exists).
pub fn is_store(dir: &Path) -> bool {
    dir.join(LAYOUT_FILE).exists()
}

/// Open the metadata copies of a store with `layout` rooted at `dir`.
fn open_meta(
    fs: &FsHandle,
    dir: &Path,
    layout: &Layout,
) -> Result<(Arc<dyn super::MetaStore>, OpenReport), ObjectError> {
    let (meta, report) = lsm_meta::open_replicated(
        fs.clone(),
        dir,
        layout,
        lsm_meta::metadata_options(),
        Arc::new(RealClock::new()),
    )
    .map_err(|source| ObjectError::OpenMetadata {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok((meta, report))
}

/// Open the existing store in `dir`. The report says which metadata copies opening rolled
/// forward, rebuilt, or found out of service; callers show it.
pub fn open(fs: FsHandle, dir: &Path) -> Result<(ObjectStore, OpenReport), ObjectError> {
    open_with(fs, dir, StoreOptions::default())
}

/// [`open`] with store options (a test server that does not sync, say).
pub fn open_with(
    fs: FsHandle,
    dir: &Path,
    options: StoreOptions,
) -> Result<(ObjectStore, OpenReport), ObjectError> {
    // Read the layout before opening the metadata, which would create directories in a
    // directory that is not a store.
    let layout = ObjectStore::read_layout(&*fs, dir)?;
    // The disks' identity files before the metadata copies, which would be made in an empty
    // mount point (`blob/disk_id.rs`): a new disk is formatted (so its copy is rebuilt), a
    // disk not mounted left out, a disk in the wrong place refused.
    BlobStore::new(fs.clone(), layout.clone())
        .with_store_root(dir)
        .check_disks(|| store_id_from(&format!("{} {}", dir.display(), os_seed())))?;
    let (meta, report) = open_meta(&fs, dir, &layout)?;
    let store = ObjectStore::open(
        fs,
        dir,
        meta,
        Arc::new(RealClock::new()),
        DetRng::new(os_seed()),
        options,
    )?;
    Ok((store, report))
}

/// Create a store in `dir` with K data and M parity shards of up to `shard_len_max` bytes, on
/// `disks` (default: `dir/disk0 .. dir/disk{K+M-1}`). Refuses a directory that holds a store.
pub fn create(
    fs: FsHandle,
    dir: &Path,
    k: usize,
    m: usize,
    shard_len_max: u64,
    disks: Option<Vec<PathBuf>>,
) -> Result<ObjectStore, ObjectError> {
    create_with(fs, dir, k, m, shard_len_max, disks, StoreOptions::default())
}

/// [`create`] with store options.
pub fn create_with(
    fs: FsHandle,
    dir: &Path,
    k: usize,
    m: usize,
    shard_len_max: u64,
    disks: Option<Vec<PathBuf>>,
    options: StoreOptions,
) -> Result<ObjectStore, ObjectError> {
    if is_store(dir) {
        return Err(ObjectError::InvalidArgument(format!(
            "{} already holds a store (its layout is fixed at creation)",
            dir.display()
        )));
    }
    let disks = disks.unwrap_or_else(|| (0..k + m).map(|i| dir.join(format!("disk{i}"))).collect());
    // Checked before anything is made on disk; `create` checks it again.
    let layout =
        Layout::new(k, m, shard_len_max, disks.clone()).map_err(ObjectError::InvalidLayout)?;
    let (meta, _) = open_meta(&fs, dir, &layout)?;
    ObjectStore::create(
        fs,
        dir,
        k,
        m,
        shard_len_max,
        Some(disks),
        meta,
        Arc::new(RealClock::new()),
        DetRng::new(os_seed()),
        options,
    )
}
