//! The fjall peer (`--engine fjall`, cargo feature `fjall`, fjall 3.1): one database with one
//! keyspace, set as close to seedbed's defaults as fjall allows —
//! - WAL ("journal") on: without `--sync always`, `manual_journal_persist(false)` hands each
//!   write to the OS before it returns (fjall's `PersistMode::Buffer`); with `--sync always`
//!   each write is followed by `Database::persist(PersistMode::SyncData)`;
//! - `--write-buffer-mib` memtable (`max_memtable_size`); the database-wide write-buffer cap
//!   stays at fjall's default (none);
//! - `--bloom-bits` bits/key bloom filters on every level (`filter_policy`);
//! - 4 KiB data blocks (`data_block_size_policy`);
//! - a `--cache-mib` cache (`cache_size`, fjall's one cache for data, index and filter blocks;
//!   fjall pins L0 filters and L0/L1 index blocks by default, outside that budget);
//! - `--compression` none or lz4 on data blocks (fjall has no zstd); index blocks raw;
//! - two worker threads for flushes and compactions (`worker_threads`; RocksDB: two background
//!   jobs; seedbed: one background thread);
//! - leveled compaction with seedbed's shape: L0 trigger 4, 64 MiB target tables, size ratio
//!   10 (fjall's `Leveled` defaults, set explicitly); fjall derives its level base from them
//!   (4 x 64 MiB = 256 MiB, seedbed's level base).
//!
//! fjall lacks: a separate index-block size, a choice of cache policy, a cap on immutable
//! memtables other than the database write-buffer size, and zstd.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use fjall::compaction::Leveled;
use fjall::config::{
    BlockSizePolicy, BloomConstructionPolicy, CompressionPolicy, FilterPolicy, FilterPolicyEntry,
};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::{StatsSnapshot, SyncPolicy};

use super::{Engine, Tree};
use crate::bench::lsm::LsmArgs;

/// Data block size, bytes: seedbed's and the RocksDB peer's.
const BLOCK_BYTES: u32 = 4096;

/// An open fjall database and its keyspace.
pub struct FjallEngine {
    // Dropped before `db` (fields drop in order), which then joins its workers.
    ks: Keyspace,
    db: Database,
    /// Sync the journal after every write (`--sync always`).
    sync_each: bool,
}

/// Open fjall in `dir` with `args`' settings.
pub fn open(dir: &Path, args: &LsmArgs) -> Result<FjallEngine> {
    // fjall asserts on some settings; check them here so bad flags are errors, not panics.
    let memtable_bytes = u64::try_from(args.write_buffer_mib << 20)
        .ok()
        .filter(|&b| b >= 1 << 20)
        .with_context(|| {
            format!(
                "--write-buffer-mib {}: fjall needs at least 1 MiB",
                args.write_buffer_mib
            )
        })?;
    let sync_each = match args.sync {
        SyncPolicy::Never => false,
        SyncPolicy::Always => true,
        SyncPolicy::Group { .. } => bail!("--sync group: fjall's peer maps only never and always"),
    };
    let compression = match args.compression {
        Compression::None => CompressionType::None,
        Compression::Lz4 => CompressionType::Lz4,
        Compression::Zstd(_) => bail!("--compression zstd: fjall has no zstd (use none or lz4)"),
    };
    let db = Database::builder(dir)
        .manual_journal_persist(false)
        .cache_size((args.cache_mib as u64) << 20)
        .worker_threads(2)
        .open()
        .with_context(|| format!("fjall: opening database {}", dir.display()))?;
    let bloom =
        FilterPolicyEntry::Bloom(BloomConstructionPolicy::BitsPerKey(args.bloom_bits as f32));
    let ks = db
        .keyspace("bench", || {
            KeyspaceCreateOptions::default()
                .max_memtable_size(memtable_bytes)
                .filter_policy(FilterPolicy::all(bloom))
                .data_block_size_policy(BlockSizePolicy::all(BLOCK_BYTES))
                .data_block_compression_policy(CompressionPolicy::all(compression))
                .index_block_compression_policy(CompressionPolicy::disabled())
                .compaction_strategy(Arc::new(
                    Leveled::default()
                        .with_l0_threshold(4)
                        .with_table_target_size(64 << 20)
                        .with_level_ratio_policy(vec![10.0]),
                ))
                .manual_journal_persist(false)
        })
        .context("fjall: opening keyspace 'bench'")?;
    Ok(FjallEngine { ks, db, sync_each })
}

impl Engine for FjallEngine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.ks.insert(key, value)?;
        if self.sync_each {
            self.db
                .persist(PersistMode::SyncData)
                .context("fjall: syncing the journal")?;
        }
        Ok(())
    }
    fn get(&self, key: &[u8]) -> Result<bool> {
        Ok(self.ks.get(key)?.is_some())
    }
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)> {
        // fjall has no cursor: a range from `key` gives the seek, `next` the steps.
        let mut it = self.ks.range(key..);
        let first = match it.next() {
            None => return Ok((false, 0)),
            Some(g) => &*g.key()? == key,
        };
        // Like the other engines: the entry at the seek position counts as the first step.
        let mut visited = 0u64;
        if n > 0 {
            visited = 1;
            while visited < n as u64 {
                match it.next() {
                    Some(g) => {
                        g.key()?;
                        visited += 1;
                    }
                    None => break,
                }
            }
        }
        Ok((first, visited))
    }
    fn scan_from_first(&self, limit: u64) -> Result<u64> {
        let mut n = 0;
        for g in self.ks.iter() {
            if n >= limit {
                break;
            }
            g.into_inner()?;
            n += 1;
        }
        Ok(n)
    }
    fn stats(&self) -> Option<StatsSnapshot> {
        None
    }
    fn tree(&self) -> Result<Tree> {
        // fjall counts its tables but not per level; its disk space includes blob files,
        // which this benchmark's small values never create.
        Ok(Tree {
            tables_per_level: None,
            tables: self.ks.table_count() as u64,
            table_bytes: self.ks.disk_space(),
        })
    }
    fn close(self: Box<Self>) -> Result<()> {
        // Hand the journal's tail to the OS, as the other engines do on close.
        self.db
            .persist(PersistMode::Buffer)
            .context("fjall: persisting the journal on close")?;
        Ok(())
    }
}
