//! The LSM under each stateful role (producer, queue, table): the engine's real `Db` on the
//! node's simulated disk, opened at boot, scanned into the role's in-memory index, and written
//! in batches.
//!
//! Memory is only an index of what the disk holds: a role updates it after a write returned,
//! and rebuilds it from a scan at every boot and after every failed write (the store is
//! dropped and reopened — see [`Store::open`]), so memory never claims more than the disk.
//!
//! Dropping a store *abandons* the LSM (no closing sync): a crashed process runs no shutdown
//! code. The options are tiny (a 4 KiB memtable, manual maintenance) so flushes and compactions
//! happen in every run, deterministically, as explicit steps after each write.

use std::path::Path;

use seedbed_engine::clock::ClockHandle;
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, LsmError, Options, ReadOptions, WriteBatch, WriteOptions};

/// Entries one prefix scan returns at most (a run stores a few hundred).
pub const SCAN_MAX: usize = 1 << 16;

/// Why a store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The LSM failed (I/O error, corruption it detected, full disk).
    #[error("lsm: {0}")]
    Lsm(#[from] LsmError),
    /// A stored record does not decode.
    #[error("record {key:02x?}: {detail}")]
    Corrupt {
        /// The LSM key.
        key: Vec<u8>,
        /// What is wrong.
        detail: String,
    },
}

/// A stored record: (LSM key, value).
pub type Record = (Vec<u8>, Vec<u8>);

/// LSM options for a role's store: tiny and deterministic.
pub fn options() -> Options {
    let mut o = Options::small_for_tests();
    o.write_buffer_bytes = 4 << 10;
    o.block_cache_bytes = 16 << 10;
    o.target_file_bytes = 8 << 10;
    o.level_base_bytes = 32 << 10;
    o
}

/// One open store; see the module docs.
pub struct Store {
    /// Always `Some` until dropped.
    db: Option<Db>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            db.abandon();
        }
    }
}

impl Store {
    /// Open (or create) the database in `dir`, recovering from its WAL and manifest.
    pub fn open(fs: &FsHandle, dir: &str, clock: ClockHandle) -> Result<Store, StoreError> {
        let path = Path::new(dir);
        let db = match Db::open(fs.clone(), path, options(), clock.clone()) {
            Ok(db) => db,
            Err(LsmError::BadDatabase { .. }) if never_created(fs, path) => {
                // A first open failed half way (a disk error while creating the manifest).
                // CURRENT is durable before the first open returns, so nothing here was ever
                // written through it: clear the leftovers and create afresh.
                for name in fs.list(path).map_err(LsmError::from)? {
                    fs.remove_file(&path.join(&name)).map_err(LsmError::from)?;
                }
                Db::open(fs.clone(), path, options(), clock)?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Store { db: Some(db) })
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("open until dropped")
    }

    /// Every (key, value) under `prefix`, in key order.
    pub fn scan(&self, prefix: &[u8]) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let mut it = self.db().iter_prefix(ReadOptions::default(), prefix);
        it.seek_to_first()?;
        while it.valid() {
            if out.len() >= SCAN_MAX {
                return Err(StoreError::Corrupt {
                    key: prefix.to_vec(),
                    detail: format!("more than {SCAN_MAX} records"),
                });
            }
            out.push((it.key().to_vec(), it.value().to_vec()));
            it.next()?;
        }
        Ok(out)
    }

    /// The value of `key`, if stored.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db().get(key)?.map(|b| b.to_vec()))
    }

    /// Write `batch` atomically (one WAL record); with `sync`, durable before returning. Then
    /// one maintenance step (a flush or compaction, if due).
    pub fn write(&self, batch: WriteBatch, sync: bool) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.db().write(batch, WriteOptions { sync: Some(sync) })?;
        self.db().maintenance()?;
        Ok(())
    }
}

/// Whether `dir` has no `CURRENT` file: no open of it ever completed.
fn never_created(fs: &FsHandle, dir: &Path) -> bool {
    fs.list(dir)
        .map(|names| !names.iter().any(|n| n == "CURRENT"))
        .unwrap_or(false)
}

/// `tag` · `id` big-endian (so a prefix scan lists ids in order).
pub fn key_u64(tag: u8, id: u64) -> [u8; 9] {
    let mut k = [tag, 0, 0, 0, 0, 0, 0, 0, 0];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

/// `tag` · `id` big-endian.
pub fn key_u32(tag: u8, id: u32) -> [u8; 5] {
    let mut k = [tag, 0, 0, 0, 0];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

/// The big-endian id after a one-byte tag, checking the length.
pub fn id_of(key: &[u8], width: usize) -> Result<u64, StoreError> {
    if key.len() != 1 + width {
        return Err(StoreError::Corrupt {
            key: key.to_vec(),
            detail: format!("key is {} bytes, expected {}", key.len(), 1 + width),
        });
    }
    let mut w = [0u8; 8];
    w[8 - width..].copy_from_slice(&key[1..]);
    Ok(u64::from_be_bytes(w))
}

/// A decode error as a store error about `key`.
pub fn corrupt(key: &[u8], detail: String) -> StoreError {
    StoreError::Corrupt {
        key: key.to_vec(),
        detail,
    }
}
