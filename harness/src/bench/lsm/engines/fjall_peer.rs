//! The fjall peer (`--engine fjall`, cargo feature `fjall`, fjall 2.x): one keyspace with
//! one partition, set as close to seedbed's defaults as fjall allows —
//! - WAL ("journal") on without per-write sync: `manual_journal_persist(false)` hands each
//!   write to the OS before it returns (fjall's `PersistMode::Buffer`), no `fsync_ms` thread;
//!   `--sync` is not mapped (the comparison runs with seedbed's default `never`);
//! - `--write-buffer-mib` memtable (fjall: `max_memtable_size`, per partition); the keyspace's
//!   `max_write_buffer_size` (all memtables together) is twice that, so one memtable can
//!   flush while the next fills, like seedbed's one immutable memtable;
//! - `--bloom-bits` bits/key bloom filters (fjall: `bloom_filter_bits`, public but hidden
//!   from its docs; at most 20);
//! - 4 KiB blocks (fjall: `block_size`, which sets data and index blocks alike);
//! - a `--cache-mib` cache (fjall: `cache_size`, one cache shared by blocks and blobs);
//! - no compression (`CompressionType::None`; the crate is built without lz4/miniz);
//! - one flush worker and one compaction worker (RocksDB: two background jobs; seedbed: one
//!   background thread);
//! - leveled compaction with seedbed's shape: L0 trigger 4, 64 MiB target files, size ratio
//!   10 (fjall's `Leveled` defaults, set explicitly); fjall derives the level base from
//!   them (4 x 64 MiB = 256 MiB, seedbed's level base) rather than taking it as a setting.
//!
//! fjall lacks: a separate index-block size (`block_size` sets both), a choice of cache
//! policy, and a cap on immutable memtables other than the keyspace write-buffer size.
use std::path::Path;

use anyhow::{Context, Result};
use seedbed_engine::lsm::StatsSnapshot;

use super::Engine;
use crate::bench::lsm::LsmArgs;
use fjall::compaction::{Leveled, Strategy};
use fjall::{CompressionType, Config, Keyspace, PartitionCreateOptions, PartitionHandle};

/// Data and index block size, bytes: seedbed's and the RocksDB peer's.
const BLOCK_BYTES: u32 = 4096;

pub struct FjallEngine {
    // Dropped before `keyspace` (fields drop in order), which then joins its workers.
    part: PartitionHandle,
    keyspace: Keyspace,
}

pub fn open(dir: &Path, args: &LsmArgs) -> Result<FjallEngine> {
    // fjall asserts on some settings; check them here so bad flags are errors, not panics.
    let memtable_bytes = u32::try_from(args.write_buffer_mib << 20)
        .ok()
        .filter(|&b| b >= 1 << 20)
        .with_context(|| {
            format!(
                "--write-buffer-mib {}: fjall needs 1..4095 MiB",
                args.write_buffer_mib
            )
        })?;
    let bloom_bits = u8::try_from(args.bloom_bits)
        .ok()
        .filter(|&b| b <= 20)
        .with_context(|| format!("--bloom-bits {}: fjall supports 0..=20", args.bloom_bits))?;
    let keyspace = Config::new(dir)
        .manual_journal_persist(false)
        .fsync_ms(None)
        .max_write_buffer_size(2 * u64::from(memtable_bytes))
        .cache_size((args.cache_mib as u64) << 20)
        .flush_workers(1)
        .compaction_workers(1)
        .open()
        .with_context(|| format!("fjall: opening keyspace {}", dir.display()))?;
    let opts = PartitionCreateOptions::default()
        .max_memtable_size(memtable_bytes)
        .bloom_filter_bits(Some(bloom_bits))
        .block_size(BLOCK_BYTES)
        .compression(CompressionType::None)
        .compaction_strategy(Strategy::Leveled(Leveled {
            l0_threshold: 4,
            target_size: 64 << 20,
            level_ratio: 10,
        }))
        .manual_journal_persist(false);
    let part = keyspace
        .open_partition("bench", opts)
        .context("fjall: opening partition 'bench'")?;
    Ok(FjallEngine { part, keyspace })
}

impl Engine for FjallEngine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.part.insert(key, value)?)
    }
    fn get(&self, key: &[u8]) -> Result<bool> {
        Ok(self.part.get(key)?.is_some())
    }
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)> {
        // fjall has no cursor: a range from `key` gives the seek, `next` the steps.
        let mut it = self.part.range(key..);
        let first = match it.next() {
            None => return Ok((false, 0)),
            Some(kv) => &*kv?.0 == key,
        };
        // Like the other engines: the entry at the seek position counts as the first step.
        let mut visited = 0u64;
        if n > 0 {
            visited = 1;
            while visited < n as u64 {
                match it.next() {
                    Some(kv) => {
                        kv?;
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
        for kv in self.part.iter() {
            if n >= limit {
                break;
            }
            kv?;
            n += 1;
        }
        Ok(n)
    }
    fn stats(&self) -> Option<StatsSnapshot> {
        None
    }
    fn close(self: Box<Self>) -> Result<()> {
        // Hand the journal's tail to the OS, as the other engines do on close.
        self.keyspace
            .persist(fjall::PersistMode::Buffer)
            .context("fjall: persisting the journal on close")?;
        Ok(())
    }
}
