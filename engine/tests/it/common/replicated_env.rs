//! A real-disk store with its metadata on every disk (K = 4, M = 2, 4 KiB shards), for the
//! tests of the metadata copies and of rebuilding them from the shards.

use std::path::PathBuf;
use std::sync::Arc;

use seedbed_engine::clock::{ClockHandle, VirtualClock};
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::layout::Layout;
use seedbed_engine::object::replicated::ReplicatedMeta;
use seedbed_engine::object::{lsm_meta, MetaError, MetaStore, ObjectStore, StoreOptions};
use seedbed_engine::rng::DetRng;

/// The store's directory, file system and clock; the temporary directory lives as long as it.
pub struct Env {
    pub root: PathBuf,
    pub fs: FsHandle,
    pub clock: ClockHandle,
    _tmp: tempfile::TempDir,
}

/// A fresh environment in a temporary directory named after `prefix`.
pub fn env(prefix: &str) -> Env {
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    Env {
        root: tmp.path().join("store"),
        fs: Arc::new(PosixFs::new()),
        clock: Arc::new(VirtualClock::new()),
        _tmp: tmp,
    }
}

/// Synced writes; parts of any size (so multipart tests stay small).
pub fn options() -> StoreOptions {
    StoreOptions {
        sync: true,
        min_part_size: 1,
        ..StoreOptions::default()
    }
}

impl Env {
    /// Delete the metadata directory of every disk (the shards stay).
    pub fn lose_every_metadata_copy(&self) {
        for i in 0..6 {
            std::fs::remove_dir_all(self.disk(i).join("meta")).unwrap();
        }
    }

    /// `repair`: with every metadata copy lost, rebuild the metadata from the shards.
    pub fn repair_from_shards(&self) -> seedbed_engine::object::repair::RepairReport {
        seedbed_engine::object::repair::repair(
            self.fs.clone(),
            &self.root,
            Options::small_for_tests(),
            self.clock.clone(),
            false,
        )
        .unwrap()
    }

    /// Disk directory `i`.
    pub fn disk(&self, i: usize) -> PathBuf {
        self.root.join(format!("disk{i}"))
    }

    /// Open the store's metadata copies, one on each disk of `layout`.
    fn metadata(&self, layout: &Layout) -> Result<Arc<ReplicatedMeta>, MetaError> {
        lsm_meta::open_replicated(
            self.fs.clone(),
            &self.root,
            layout,
            Options::small_for_tests(),
            self.clock.clone(),
        )
        .map(|(meta, _)| meta)
    }

    /// Create the store, with its metadata on every disk.
    pub fn create(&self) -> ObjectStore {
        let disks: Vec<PathBuf> = (0..6).map(|i| self.disk(i)).collect();
        let layout = Layout::new(4, 2, 4096, disks.clone()).unwrap();
        let meta = self.metadata(&layout).unwrap();
        ObjectStore::create(
            self.fs.clone(),
            &self.root,
            4,
            2,
            4096,
            Some(disks),
            meta as Arc<dyn MetaStore>,
            self.clock.clone(),
            DetRng::new(1),
            options(),
        )
        .unwrap()
    }

    /// Reopen the store, as a restart does.
    pub fn open(&self) -> Result<ObjectStore, String> {
        let layout = ObjectStore::read_layout(&*self.fs, &self.root).map_err(|e| e.to_string())?;
        let meta = self.metadata(&layout).map_err(|e| e.to_string())?;
        ObjectStore::open(
            self.fs.clone(),
            &self.root,
            meta,
            self.clock.clone(),
            DetRng::new(2),
            options(),
        )
        .map_err(|e| e.to_string())
    }
}

/// `len` bytes that differ with `salt`.
pub fn data(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}
