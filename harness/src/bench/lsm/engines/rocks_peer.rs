//! The RocksDB peer (`--engine rocksdb`, cargo feature `rocksdb`): the same settings as
//! seedbed's defaults — WAL on without per-write sync, 64 MiB write buffer, 10 bits/key
//! bloom filters, 4 KiB blocks, an LRU block cache of `--cache-mib`, no compression.

use std::path::Path;

use anyhow::Result;
use seedbed_engine::lsm::StatsSnapshot;

use super::Engine;
use crate::bench::lsm::LsmArgs;

pub struct RocksEngine(pub rocksdb::DB);

pub fn open(dir: &Path, args: &LsmArgs) -> Result<RocksEngine> {
    let mut bbo = rocksdb::BlockBasedOptions::default();
    bbo.set_block_size(4096);
    bbo.set_bloom_filter(f64::from(args.bloom_bits), false);
    let cache = rocksdb::Cache::new_lru_cache(args.cache_mib << 20)
        .map_err(|e| anyhow::anyhow!("rocksdb cache: {e}"))?;
    bbo.set_block_cache(&cache);
    let mut o = rocksdb::Options::default();
    o.create_if_missing(true);
    o.set_block_based_table_factory(&bbo);
    o.set_write_buffer_size(args.write_buffer_mib << 20);
    o.set_compression_type(rocksdb::DBCompressionType::None);
    o.set_max_background_jobs(2);
    Ok(RocksEngine(
        rocksdb::DB::open(&o, dir).map_err(|e| anyhow::anyhow!("rocksdb open: {e}"))?,
    ))
}

impl Engine for RocksEngine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.put(key, value).map_err(|e| anyhow::anyhow!("{e}"))
    }
    fn get(&self, key: &[u8]) -> Result<bool> {
        Ok(self
            .0
            .get_pinned(key)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_some())
    }
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)> {
        let mut it = self.0.raw_iterator();
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
        let mut it = self.0.raw_iterator();
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
    fn close(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
