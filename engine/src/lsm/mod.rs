//! A leveled LSM tree: the write path (batches → WAL → memtable → immutable memtables → L0
//! tables), leveled compaction, snapshots, bidirectional merging iterators, a bloom filter per
//! table and a byte-bounded block cache. Everything reaches the disk through [`crate::io`],
//! time through [`crate::clock`], so the same code runs on a drive and in the simulator.
//!
//! Start with [`Db::open`]; the design is explained in `docs/lsm.md` and the file formats in
//! `docs/formats/sstable.md` and `docs/formats/wal.md`.

pub mod batch;
pub mod cache;
pub mod coding;
pub mod compaction;
pub mod db;
pub mod error;
pub mod iter;
pub mod key;
pub mod manifest;
pub mod memtable;
pub mod options;
pub mod sstable;
pub mod stats;
pub mod version;
pub mod wal;

pub use batch::WriteBatch;
pub use db::{prefix_successor, Db, LsmState, Snapshot};
pub use error::{CorruptionDetail, LsmError, Result};
pub use iter::DbIterator;
pub use options::{
    CompactionFilter, MaintenanceMode, Options, ReadOptions, SyncPolicy, WriteOptions,
};
pub use stats::StatsSnapshot;
