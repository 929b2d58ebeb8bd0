//! A replica's durable store: the engine's LSM on the node's disk (simulated or real).
//!
//! Layout of LSM keys (big-endian ids, so a prefix scan lists them in order):
//! - `d` · key:u32 → the key's [`Siblings`] (see [`super::version`] for the value encoding);
//! - `h` · intended:u32 · key:u32 → a *hint*: versions this node holds for `intended` while it
//!   is unreachable (sloppy quorum), until handed off;
//! - `e` → the node's boot epoch (u64), bumped and synced at every boot so the vector-clock
//!   counters a node hands out after a crash never repeat ones from before it.
//!
//! A replica acknowledges a write only after the LSM has synced its WAL record: each write's
//! own (`WriteOptions { sync: Some(true) }`, `sync=always`) or one [`Store::sync`] for a group
//! (`sync=group`, see [`super::group`]); the planted bug `ack-before-sync` skips that. LSM
//! maintenance (flushes, compactions) runs as explicit steps, so runs stay deterministic.

use std::path::Path;

use seedbed_engine::clock::ClockHandle;
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, LsmError, Options, ReadOptions, WriteBatch, WriteOptions};

use super::version::Siblings;

/// The database directory on the node's disk.
pub const DIR: &str = "/quorum";
const EPOCH_KEY: &[u8] = b"e";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The LSM failed (I/O error, corruption, full disk).
    #[error("lsm: {0}")]
    Lsm(#[from] LsmError),
    /// A stored value does not decode.
    #[error("key {key}: {detail}")]
    Corrupt {
        /// Which LSM key.
        key: String,
        /// What is wrong.
        detail: String,
    },
}

/// Small LSM options: a few KiB of memtable so flushes and compactions happen in every run,
/// manual maintenance for determinism, a small block cache.
pub fn lsm_options() -> Options {
    lsm_options_at(MEMTABLE_RUNGS - 1)
}

/// How many memtable sizes a replica may run with: 1, 2, 4 and 8 KiB (the top rung, what every
/// run uses unless a shrinker turned it down; the LSM refuses less than 1 KiB).
pub const MEMTABLE_RUNGS: u64 = 4;

/// [`lsm_options`] with the memtable at `rung` of [`MEMTABLE_RUNGS`]: `8 KiB >> (top - rung)`.
/// The node asks its generator for the rung ([`DetRng::setting`]): the shrinker lowers it so
/// that a failure at a memtable rotation needs a few writes instead of thirty to get there.
///
/// [`DetRng::setting`]: seedbed_engine::rng::DetRng::setting
pub fn lsm_options_at(rung: u64) -> Options {
    let mut o = Options::small_for_tests();
    let down = (MEMTABLE_RUNGS - 1).saturating_sub(rung);
    o.write_buffer_bytes = (8 << 10) >> down;
    o.block_cache_bytes = 64 << 10;
    o
}

/// One node's store.
///
/// Dropping it *abandons* the LSM (no closing sync): a crashed process runs no shutdown code,
/// and the simulator drops a node's memory only after crashing its disk, whose dead handles
/// would refuse the sync anyway.
pub struct Store {
    /// Always `Some` until dropped.
    db: Option<Db>,
    buf: Vec<u8>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            db.abandon();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn data_key(key: u32) -> [u8; 5] {
    let mut k = [b'd', 0, 0, 0, 0];
    k[1..].copy_from_slice(&key.to_be_bytes());
    k
}

fn hint_key(intended: u32, key: u32) -> [u8; 9] {
    let mut k = [b'h', 0, 0, 0, 0, 0, 0, 0, 0];
    k[1..5].copy_from_slice(&intended.to_be_bytes());
    k[5..].copy_from_slice(&key.to_be_bytes());
    k
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn decode(lsm_key: &[u8], bytes: &[u8]) -> Result<Siblings, StoreError> {
    Siblings::decode(bytes).map_err(|e| StoreError::Corrupt {
        key: format!("{lsm_key:?}"),
        detail: e.to_string(),
    })
}

impl Store {
    /// Open (recovering from the WAL and manifest) and bump the boot epoch durably.
    /// Returns the store and the new epoch.
    pub fn open(fs: FsHandle, clock: ClockHandle) -> Result<(Store, u64), StoreError> {
        Self::open_with(fs, clock, lsm_options())
    }

    /// [`Store::open`] with these LSM options.
    pub fn open_with(
        fs: FsHandle,
        clock: ClockHandle,
        options: Options,
    ) -> Result<(Store, u64), StoreError> {
        let db = match Db::open(fs.clone(), Path::new(DIR), options.clone(), clock.clone()) {
            Ok(db) => db,
            Err(LsmError::BadDatabase { .. }) if Self::never_created(&fs) => {
                // A first open failed half way (a disk error while creating the manifest):
                // the LSM refuses a directory with files but no CURRENT. CURRENT is made
                // durable before the first open returns, so nothing here was ever
                // acknowledged: clear the leftovers and create afresh.
                for name in fs.list(Path::new(DIR)).map_err(LsmError::from)? {
                    fs.remove_file(&Path::new(DIR).join(&name))
                        .map_err(LsmError::from)?;
                }
                Db::open(fs, Path::new(DIR), options, clock)?
            }
            Err(e) => return Err(e.into()),
        };
        let epoch = match db.get(EPOCH_KEY)? {
            None => 0,
            Some(b) if b.len() == 8 => u64::from_le_bytes(b[..].try_into().expect("8 bytes")),
            Some(_) => {
                return Err(StoreError::Corrupt {
                    key: "e".into(),
                    detail: "epoch is not 8 bytes".into(),
                })
            }
        } + 1;
        let mut batch = WriteBatch::new();
        batch.put(EPOCH_KEY, &epoch.to_le_bytes());
        db.write(batch, WriteOptions { sync: Some(true) })?;
        Ok((
            Store {
                db: Some(db),
                buf: Vec::with_capacity(256),
            },
            epoch,
        ))
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("open until dropped")
    }

    /// Whether the database directory has no `CURRENT` file: no open of it ever completed.
    fn never_created(fs: &FsHandle) -> bool {
        fs.list(Path::new(DIR))
            .map(|names| !names.iter().any(|n| n == "CURRENT"))
            .unwrap_or(false)
    }

    /// The sibling set of `key` (empty if never written here).
    pub fn get(&self, key: u32) -> Result<Siblings, StoreError> {
        let k = data_key(key);
        match self.db().get(&k)? {
            None => Ok(Siblings::default()),
            Some(b) => decode(&k, &b),
        }
    }

    fn put_raw(&mut self, k: &[u8], s: &Siblings, sync: bool) -> Result<(), StoreError> {
        s.encode(&mut self.buf);
        let mut batch = WriteBatch::with_capacity(self.buf.len() + 16);
        batch.put(k, &self.buf);
        self.db().write(batch, WriteOptions { sync: Some(sync) })?;
        Ok(())
    }

    /// Store `s` as `key`'s sibling set; durable on return when `sync`.
    pub fn put(&mut self, key: u32, s: &Siblings, sync: bool) -> Result<(), StoreError> {
        self.put_raw(&data_key(key), s, sync)
    }

    /// The bytes [`Store::put`] last encoded (for the Merkle digest, without re-encoding).
    pub fn last_encoded(&self) -> &[u8] {
        &self.buf
    }

    /// Hold `s` for `intended` (a hinted write); durable on return when `sync`.
    pub fn put_hint(
        &mut self,
        intended: u32,
        key: u32,
        s: &Siblings,
        sync: bool,
    ) -> Result<(), StoreError> {
        self.put_raw(&hint_key(intended, key), s, sync)
    }

    /// The hint for (`intended`, `key`), if held.
    pub fn get_hint(&self, intended: u32, key: u32) -> Result<Option<Siblings>, StoreError> {
        let k = hint_key(intended, key);
        match self.db().get(&k)? {
            None => Ok(None),
            Some(b) => decode(&k, &b).map(Some),
        }
    }

    /// Forget a handed-off hint (synced: a resurrected hint would only be delivered again).
    pub fn delete_hint(&mut self, intended: u32, key: u32) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        batch.delete(&hint_key(intended, key));
        self.db().write(batch, WriteOptions { sync: Some(false) })?;
        Ok(())
    }

    /// Every hint held, as (intended, key, versions), at most `limit`.
    pub fn hints(&self, limit: usize) -> Result<Vec<(u32, u32, Siblings)>, StoreError> {
        let mut out = Vec::new();
        let mut it = self.db().iter_prefix(ReadOptions::default(), b"h");
        it.seek_to_first()?;
        while it.valid() && out.len() < limit {
            let k = it.key();
            if k.len() != 9 {
                return Err(StoreError::Corrupt {
                    key: format!("{k:?}"),
                    detail: "hint key is not 9 bytes".into(),
                });
            }
            out.push((u32_at(k, 1), u32_at(k, 5), decode(k, it.value())?));
            it.next()?;
        }
        Ok(out)
    }

    /// Every stored key with its encoded sibling set, in key order (to rebuild the Merkle trees
    /// at boot).
    pub fn scan(&self, mut f: impl FnMut(u32, &[u8])) -> Result<(), StoreError> {
        let mut it = self.db().iter_prefix(ReadOptions::default(), b"d");
        it.seek_to_first()?;
        while it.valid() {
            let k = it.key();
            if k.len() != 5 {
                return Err(StoreError::Corrupt {
                    key: format!("{k:?}"),
                    detail: "data key is not 5 bytes".into(),
                });
            }
            decode(k, it.value())?;
            f(u32_at(k, 1), it.value());
            it.next()?;
        }
        Ok(())
    }

    /// Sync the WAL: every write so far is durable on return (group commit's one sync).
    pub fn sync(&self) -> Result<(), StoreError> {
        Ok(self.db().sync_wal()?)
    }

    /// One LSM maintenance step (flush or compaction) if any is due.
    pub fn maintenance(&self) -> Result<bool, StoreError> {
        Ok(self.db().maintenance()?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use seedbed_engine::clock::VirtualClock;
    use seedbed_engine::io::sim::{SimConfig, SimFs};

    use super::super::version::{Mode, Version};
    use super::*;

    #[test]
    fn memtable_rungs_halve_down_from_8_kib() {
        assert_eq!(lsm_options().write_buffer_bytes, 8 << 10);
        let sizes: Vec<usize> = (0..MEMTABLE_RUNGS)
            .map(|r| lsm_options_at(r).write_buffer_bytes)
            .collect();
        assert_eq!(sizes, [1 << 10, 2 << 10, 4 << 10, 8 << 10]);
        for r in 0..MEMTABLE_RUNGS {
            assert_eq!(lsm_options_at(r).validate(), Ok(()), "rung {r}");
        }
        // A rung above the top (a hand-edited record) is the top.
        assert_eq!(
            lsm_options_at(MEMTABLE_RUNGS + 3).write_buffer_bytes,
            8 << 10
        );
    }

    fn sibs(v: u64) -> Siblings {
        let mut s = Siblings::default();
        let mut clock = super::super::vclock::VClock::default();
        clock.tick(1, v, v);
        s.add(
            Version {
                clock,
                ts_ns: v,
                writer: 1,
                value: Some(v),
            },
            Mode::VClock,
        );
        s
    }

    #[test]
    fn synced_writes_survive_a_crash_and_the_epoch_grows() {
        let fs = Arc::new(SimFs::new(3, SimConfig::default()));
        let clock: ClockHandle = Arc::new(VirtualClock::new());
        let (mut st, e1) = Store::open(fs.clone(), clock.clone()).unwrap();
        for k in 0..200 {
            st.put(k, &sibs(u64::from(k) + 1), true).unwrap();
            st.maintenance().unwrap();
        }
        st.put_hint(4, 7, &sibs(9), true).unwrap();
        drop(st);
        fs.crash();
        let (st, e2) = Store::open(fs.clone(), clock).unwrap();
        assert!(e2 > e1);
        assert_eq!(st.get(17).unwrap(), sibs(18));
        let mut n = 0;
        st.scan(|_, _| n += 1).unwrap();
        assert_eq!(n, 200);
        assert_eq!(st.hints(10).unwrap(), vec![(4, 7, sibs(9))]);
    }
}

#[cfg(test)]
mod unsynced_tests {
    use std::sync::Arc;

    use seedbed_engine::clock::VirtualClock;
    use seedbed_engine::io::sim::{SimConfig, SimFs};

    use super::*;

    #[test]
    fn unsynced_writes_can_be_lost_in_a_crash() {
        let mut cfg = SimConfig::default();
        cfg.faults.crash.keep_write = 0.0;
        cfg.faults.crash.tear_write = 0.0;
        let fs = Arc::new(SimFs::new(3, cfg));
        let clock: ClockHandle = Arc::new(VirtualClock::new());
        let (mut st, _) = Store::open(fs.clone(), clock.clone()).unwrap();
        st.put(1, &Siblings::default(), false).unwrap();
        drop(st);
        fs.crash();
        let (st, _) = Store::open(fs.clone(), clock).unwrap();
        let mut n = 0;
        st.scan(|_, _| n += 1).unwrap();
        assert_eq!(n, 0, "the unsynced write is gone");
    }
}
