//! A node's view, persisted in the real LSM engine on the node's simulated disk.
//!
//! Each applied log entry is one key, `e/` + the version as 8 big-endian bytes (so keys sort
//! by version), whose value is the 19-byte [`Entry`] encoding. Applying a batch of entries is
//! one [`WriteBatch`], written with `sync` so it is durable before the node acknowledges it.
//! Recovery scans `e/` in order and replays the chain from version 0; it stops at the first
//! entry whose `prev` does not continue the chain (a correct node never writes one).
//!
//! The options are tiny (a 4 KiB memtable, 512-byte blocks, manual maintenance): a node's
//! whole log is a few kilobytes, and one sweep opens thousands of databases.

use std::path::Path;

use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, LsmError, Options, ReadOptions, WriteBatch, WriteOptions};

use super::store::{Entry, View};

const DIR: &str = "/iam";
const PREFIX: &[u8] = b"e/";
/// Entries recovered at most (a run logs far fewer).
pub const ENTRIES_MAX: usize = 1 << 16;

/// Why the view could not be persisted or recovered.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The LSM engine failed (I/O error, corruption it detected).
    #[error("lsm: {0}")]
    Lsm(#[from] LsmError),
    /// A stored entry does not decode.
    #[error("entry under key {key:02x?}: {detail}")]
    Corrupt {
        /// The key.
        key: Vec<u8>,
        /// What is wrong.
        detail: String,
    },
    /// More entries than [`ENTRIES_MAX`].
    #[error("more than {ENTRIES_MAX} entries")]
    TooMany,
}

/// LSM options for a node's view: tiny and deterministic.
pub fn options() -> Options {
    let mut o = Options::small_for_tests();
    o.write_buffer_bytes = 4 << 10;
    o.block_cache_bytes = 16 << 10;
    o.target_file_bytes = 8 << 10;
    o.level_base_bytes = 32 << 10;
    o
}

fn key(id: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[..2].copy_from_slice(PREFIX);
    k[2..].copy_from_slice(&id.to_be_bytes());
    k
}

/// Open (or create) the node's database and replay its view. Returns the database, the view
/// and the entries it holds (oldest first).
pub fn open(
    fs: &FsHandle,
    clock: seedbed_engine::clock::ClockHandle,
) -> Result<(Db, View, Vec<Entry>), PersistError> {
    let db = Db::open(fs.clone(), Path::new(DIR), options(), clock)?;
    let mut view = View::default();
    let mut entries = Vec::new();
    {
        let mut it = db.iter_prefix(ReadOptions::default(), PREFIX);
        it.seek_to_first()?;
        while it.valid() {
            if entries.len() >= ENTRIES_MAX {
                return Err(PersistError::TooMany);
            }
            let e = Entry::decode(it.value()).map_err(|detail| PersistError::Corrupt {
                key: it.key().to_vec(),
                detail,
            })?;
            if it.key() != key(e.id) {
                return Err(PersistError::Corrupt {
                    key: it.key().to_vec(),
                    detail: format!("holds entry {}", e.id),
                });
            }
            if e.prev != view.version {
                break; // The chain ends here; nothing after it was acknowledged.
            }
            view.apply(&e);
            entries.push(e);
            it.next()?;
        }
    }
    Ok((db, view, entries))
}

/// Write `entries` in one batch; with `sync`, durably before returning.
pub fn append(db: &Db, entries: &[Entry], sync: bool) -> Result<(), PersistError> {
    let mut batch = WriteBatch::new();
    for e in entries {
        batch.put(&key(e.id), &e.encode());
    }
    db.write(batch, WriteOptions { sync: Some(sync) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{GlobalTime, NodeClock};
    use crate::workloads::iam::store::Change;
    use seedbed_engine::io::sim::{SimConfig, SimFs};
    use std::sync::Arc;

    #[test]
    fn synced_entries_survive_a_crash_and_replay_in_order() {
        let fs = Arc::new(SimFs::new(7, SimConfig::default()));
        let handle: FsHandle = fs.clone();
        let clock = Arc::new(NodeClock::new(Arc::new(GlobalTime::new()), 0, 0));
        let (db, view, got) = open(&handle, clock.clone()).unwrap();
        assert_eq!((view.version, got.len()), (0, 0));
        let e1 = Entry {
            id: 2,
            prev: 0,
            change: Change::DeletePolicy { policy: 0 },
        };
        let e2 = Entry {
            id: 5,
            prev: 2,
            change: Change::CreatePolicy { policy: 0 },
        };
        append(&db, &[e1, e2], true).unwrap();
        db.abandon();
        fs.crash();
        let (_db, view, got) = open(&handle, clock).unwrap();
        assert_eq!(got, vec![e1, e2]);
        assert_eq!(view.version, 5);
    }
}
