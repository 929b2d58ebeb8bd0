//! The engines a workload can drive: seedbed's own LSM and, behind cargo features, its peers
//! RocksDB and fjall. Each implements [`Engine`], so every engine runs exactly the same
//! operations in the same order.

use std::path::Path;

use anyhow::{bail, Result};
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::StatsSnapshot;

use super::LsmArgs;

#[cfg(feature = "fjall")]
mod fjall_peer;
#[cfg(feature = "rocksdb")]
mod rocks_peer;
mod seedbed;

/// What a workload needs from an engine, so that peers run exactly the same operations.
/// `Sync`: client threads (`--threads`) share one engine.
pub trait Engine: Sync {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()>;
    /// Whether `key` is present.
    fn get(&self, key: &[u8]) -> Result<bool>;
    /// Seek to `key`, then step forward `n` times (or until the end); returns whether the first
    /// key equals `key`, and how many entries were visited (`n + 1` at most... fewer at the end).
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)>;
    /// Iterate from the first key, visiting at most `limit` entries; returns the count.
    fn scan_from_first(&self, limit: u64) -> Result<u64>;
    fn stats(&self) -> Option<StatsSnapshot>;
    /// The engine's tables at the end of a run, as the engine itself counts them: the shape
    /// behind its read figures (a seek positions itself in every L0 table and one table per
    /// deeper level).
    fn tree(&self) -> Result<Tree>;
    fn close(self: Box<Self>) -> Result<()>;
}

/// An engine's tables at one moment.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Tree {
    /// Tables per level, L0 first (`None` where the engine gives only a total: fjall).
    pub tables_per_level: Option<Vec<u64>>,
    /// Tables in all.
    pub tables: u64,
    /// Bytes of the tables on disk.
    pub table_bytes: u64,
}

impl std::fmt::Display for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tables, {:.1} MiB",
            self.tables,
            self.table_bytes as f64 / f64::from(1u32 << 20)
        )?;
        if let Some(levels) = &self.tables_per_level {
            let last = levels.iter().rposition(|&n| n > 0).map_or(0, |i| i + 1);
            let shown: Vec<String> = levels[..last.max(1)]
                .iter()
                .enumerate()
                .map(|(i, n)| format!("L{i} {n}"))
                .collect();
            write!(f, " ({})", shown.join(", "))?;
        }
        Ok(())
    }
}

/// Open `--engine` in `dir` (`fs` is seedbed's I/O backend; peers do their own I/O).
pub fn open_engine(fs: &FsHandle, dir: &Path, args: &LsmArgs) -> Result<Box<dyn Engine>> {
    match args.engine.as_str() {
        "seedbed" => Ok(Box::new(seedbed::open(fs, dir, args)?)),
        #[cfg(feature = "rocksdb")]
        "rocksdb" => Ok(Box::new(rocks_peer::open(dir, args)?)),
        #[cfg(feature = "fjall")]
        "fjall" => Ok(Box::new(fjall_peer::open(dir, args)?)),
        #[cfg(not(feature = "rocksdb"))]
        "rocksdb" => bail!(not_built("rocksdb")),
        #[cfg(not(feature = "fjall"))]
        "fjall" => bail!(not_built("fjall")),
        other => bail!("unknown engine '{other}': expected seedbed, rocksdb or fjall"),
    }
}

/// The error for a peer whose cargo feature this binary was built without.
#[allow(dead_code)] // unused when every peer's feature is on
fn not_built(engine: &str) -> String {
    format!(
        "engine '{engine}' is not built into this binary: peers sit behind cargo features \
         (`cargo build --release -p seedbed --features {engine}`); use --engine seedbed"
    )
}
