//! seedbed's own LSM engine, opened with the benchmark's settings.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, Options, ReadOptions, StatsSnapshot, WriteBatch, WriteOptions};

use super::{Engine, Tree};
use crate::bench::lsm::LsmArgs;

/// An open seedbed database.
pub struct SeedbedEngine(Db);

impl Engine for SeedbedEngine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut b = WriteBatch::with_capacity(WriteBatch::put_bytes(key, value));
        b.put(key, value);
        Ok(self.0.write(b, WriteOptions::default())?)
    }
    fn get(&self, key: &[u8]) -> Result<bool> {
        Ok(self.0.get_opt(key, ReadOptions::default())?.is_some())
    }
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)> {
        let mut it = self.0.iter(ReadOptions::default(), None, None);
        it.seek(key)?;
        let first = it.valid() && it.key() == key;
        let mut visited = 0;
        while it.valid() && visited < n as u64 {
            visited += 1;
            it.next()?;
        }
        Ok((first, visited))
    }
    fn scan_from_first(&self, limit: u64) -> Result<u64> {
        let mut it = self.0.iter(ReadOptions::default(), None, None);
        it.seek_to_first()?;
        let mut n = 0;
        while it.valid() && n < limit {
            n += 1;
            it.next()?;
        }
        Ok(n)
    }
    fn stats(&self) -> Option<StatsSnapshot> {
        Some(self.0.stats())
    }
    fn tree(&self) -> Result<Tree> {
        let s = self.0.stats();
        let per_level: Vec<u64> = s.level_files.iter().map(|&n| n as u64).collect();
        Ok(Tree {
            tables: per_level.iter().sum(),
            table_bytes: s.level_bytes.iter().sum(),
            tables_per_level: Some(per_level),
        })
    }
    fn close(self: Box<Self>) -> Result<()> {
        Ok(self.0.close()?)
    }
}

/// Open a database in `dir` with `args`' settings.
pub fn open(fs: &FsHandle, dir: &Path, args: &LsmArgs) -> Result<SeedbedEngine> {
    Ok(SeedbedEngine(open_db(fs, dir, args)?))
}

fn open_db(fs: &FsHandle, dir: &Path, args: &LsmArgs) -> Result<Db> {
    let mut o = Options {
        write_buffer_bytes: args.write_buffer_mib << 20,
        block_cache_bytes: args.cache_mib << 20,
        sync: args.sync,
        ..Options::default()
    };
    o.table.bloom_bits_per_key = args.bloom_bits;
    o.table.compression = args.compression;
    Db::open(fs.clone(), dir, o, Arc::new(RealClock::new()))
        .with_context(|| format!("opening {}", dir.display()))
}
