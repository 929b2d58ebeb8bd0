//! The RocksDB peer (`--engine rocksdb`, cargo feature `rocksdb`: rust-rocksdb 0.25, RocksDB
//! 11.8 built from source): the same settings as seedbed's defaults — WAL on, each write
//! handed to the OS (`--sync always`: `WriteOptions::sync`, an fsync per write group), a
//! `--write-buffer-mib` write buffer, `--bloom-bits` bits/key bloom filters, 4 KiB blocks, an
//! LRU block cache of `--cache-mib`, `--compression` none, lz4 or zstd[:LEVEL] on every level,
//! two background jobs; everything else RocksDB's defaults (L0 trigger 4, 64 MiB target files,
//! 256 MiB level base, size ratio 10, dynamic level bytes, two write buffers).

use std::path::Path;

use anyhow::{bail, Result};
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::{StatsSnapshot, SyncPolicy};

use super::{Engine, Tree};
use crate::bench::lsm::LsmArgs;

/// An open RocksDB database and the write options every put uses.
pub struct RocksEngine {
    db: rocksdb::DB,
    write: rocksdb::WriteOptions,
}

/// Open RocksDB in `dir` with `args`' settings.
pub fn open(dir: &Path, args: &LsmArgs) -> Result<RocksEngine> {
    let mut bbo = rocksdb::BlockBasedOptions::default();
    bbo.set_block_size(4096);
    bbo.set_bloom_filter(f64::from(args.bloom_bits), false);
    let cache = rocksdb::Cache::new_lru_cache(args.cache_mib << 20);
    bbo.set_block_cache(&cache);
    let mut o = rocksdb::Options::default();
    o.create_if_missing(true);
    o.set_block_based_table_factory(&bbo);
    o.set_write_buffer_size(args.write_buffer_mib << 20);
    match args.compression {
        Compression::None => o.set_compression_type(rocksdb::DBCompressionType::None),
        Compression::Lz4 => o.set_compression_type(rocksdb::DBCompressionType::Lz4),
        Compression::Zstd(level) => {
            o.set_compression_type(rocksdb::DBCompressionType::Zstd);
            // window bits (zstd ignores them), level, strategy, dictionary bytes.
            o.set_compression_options(-14, level, 0, 0);
        }
    }
    o.set_max_background_jobs(2);
    let mut write = rocksdb::WriteOptions::default();
    match args.sync {
        SyncPolicy::Never => write.set_sync(false),
        SyncPolicy::Always => write.set_sync(true),
        SyncPolicy::Group { .. } => {
            bail!("--sync group: RocksDB's peer maps only never and always")
        }
    }
    let db = rocksdb::DB::open(&o, dir).map_err(|e| anyhow::anyhow!("rocksdb open: {e}"))?;
    Ok(RocksEngine { db, write })
}

impl Engine for RocksEngine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.db
            .put_opt(key, value, &self.write)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
    fn get(&self, key: &[u8]) -> Result<bool> {
        Ok(self
            .db
            .get_pinned(key)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_some())
    }
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)> {
        let mut it = self.db.raw_iterator();
        it.seek(key);
        let first = it.valid() && it.key() == Some(key);
        let mut visited = 0;
        while it.valid() && visited < n as u64 {
            visited += 1;
            it.next();
        }
        it.status().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((first, visited))
    }
    fn scan_from_first(&self, limit: u64) -> Result<u64> {
        let mut it = self.db.raw_iterator();
        it.seek_to_first();
        let mut n = 0;
        while it.valid() && n < limit {
            n += 1;
            it.next();
        }
        it.status().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(n)
    }
    fn stats(&self) -> Option<StatsSnapshot> {
        None
    }
    fn tree(&self) -> Result<Tree> {
        let int = |name: &str| -> Result<u64> {
            self.db
                .property_int_value(name)
                .map_err(|e| anyhow::anyhow!("rocksdb property {name}: {e}"))?
                .ok_or_else(|| anyhow::anyhow!("rocksdb property {name}: not available"))
        };
        // RocksDB's default number of levels.
        let levels = (0..7)
            .map(|l| int(&format!("rocksdb.num-files-at-level{l}")))
            .collect::<Result<Vec<u64>>>()?;
        Ok(Tree {
            tables: levels.iter().sum(),
            table_bytes: int("rocksdb.total-sst-files-size")?,
            tables_per_level: Some(levels),
        })
    }
    fn close(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
