//! Database and per-operation options.

use std::fmt;
use std::str::FromStr;

use super::sstable::TableOptions;

/// Largest `block_bytes`: the reader takes blocks of up to 64 MiB (and offsets inside a block
/// are `u32`s on disk).
pub const BLOCK_BYTES_MAX: usize = 64 << 20;

/// When WAL appends are made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Sync after every write before it is acknowledged: no acknowledged write is ever lost.
    Always,
    /// Group commit: sync when `interval_ms` has passed since the last sync or `bytes` have
    /// accumulated, checked on every write and by background maintenance. A write is durable
    /// once the next group sync has happened ([`super::Db::sync_wal`] forces one).
    Group {
        /// Longest time between syncs, milliseconds (virtual under the simulator).
        interval_ms: u64,
        /// Unsynced bytes that force a sync.
        bytes: u64,
    },
    /// Never sync on write. Each write is handed to the OS before it is acknowledged, so a
    /// process crash loses nothing; a machine crash may lose recent writes (but never a
    /// non-prefix of them). The log is synced at memtable rotation and on close.
    Never,
}

impl fmt::Display for SyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncPolicy::Always => f.write_str("always"),
            SyncPolicy::Never => f.write_str("never"),
            SyncPolicy::Group { interval_ms, bytes } => write!(f, "group:{interval_ms}ms:{bytes}"),
        }
    }
}

impl FromStr for SyncPolicy {
    type Err = String;

    /// `always`, `never`, `group` (5 ms, 1 MiB), or `group:MS` / `group:MS:BYTES`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "bad sync policy '{s}': expected always, never, group, group:MS or group:MS:BYTES"
            )
        };
        match s {
            "always" => return Ok(SyncPolicy::Always),
            "never" => return Ok(SyncPolicy::Never),
            "group" => {
                return Ok(SyncPolicy::Group {
                    interval_ms: 5,
                    bytes: 1 << 20,
                })
            }
            _ => {}
        }
        let rest = s.strip_prefix("group:").ok_or_else(bad)?;
        let mut parts = rest.split(':');
        let interval_ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let bytes = match parts.next() {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 1 << 20,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(SyncPolicy::Group { interval_ms, bytes })
    }
}

/// How the database runs its flushes and compactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintenanceMode {
    /// A background thread flushes and compacts (real disks).
    Background,
    /// Nothing happens unless the caller runs [`super::Db::maintenance`]; writes that would
    /// stall run the needed step inline instead. Deterministic: the simulator's mode.
    Manual,
}

/// Decides, during compaction, that a value has expired (the table API's TTL). An expired value
/// is dropped under the same rule as a tombstone: only when no older version of its key can lie
/// in a deeper level and no snapshot can still see it. Reads must hide expired values
/// themselves; compaction only reclaims the space.
pub trait CompactionFilter: Send + Sync + std::fmt::Debug {
    /// Whether the value stored under `key` has expired.
    fn is_expired(&self, key: &[u8], value: &[u8]) -> bool;
}

/// Options fixed when a database is opened.
#[derive(Clone, Debug)]
pub struct Options {
    /// Create the directory and an empty database if none exists.
    pub create_if_missing: bool,
    /// Memtable size that triggers a switch to a new memtable, bytes.
    pub write_buffer_bytes: usize,
    /// Create each write-ahead log at the memtable's size before writing to it
    /// (`wal::create_log`), so a synced write's `fdatasync` has no file length to commit.
    /// `None`: on for real file systems, off on the simulated disk (which models no
    /// file-system journal, so it would change nothing but the simulator's runs).
    pub wal_preallocate: Option<bool>,
    /// Immutable memtables allowed to wait for flushing before writes stall.
    pub max_immutable_memtables: usize,
    /// L0 table count that triggers an L0 → L1 compaction.
    pub l0_compaction_trigger: usize,
    /// L0 table count at which writes stall until compaction catches up.
    pub l0_stop_writes_trigger: usize,
    /// Target size of L1, bytes.
    pub level_base_bytes: u64,
    /// Each level's target is this many times the previous one's.
    pub level_size_ratio: u64,
    /// Compaction output files are cut near this size, bytes.
    pub target_file_bytes: u64,
    /// Block size, restart interval, bloom bits per key.
    pub table: TableOptions,
    /// Block cache capacity, bytes.
    pub block_cache_bytes: usize,
    /// WAL sync policy.
    pub sync: SyncPolicy,
    /// Background thread or explicit maintenance steps.
    pub maintenance: MaintenanceMode,
    /// Drops expired values during compaction (see [`CompactionFilter`]).
    pub compaction_filter: Option<std::sync::Arc<dyn CompactionFilter>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create_if_missing: true,
            write_buffer_bytes: 64 << 20,
            wal_preallocate: None,
            max_immutable_memtables: 1,
            l0_compaction_trigger: 4,
            l0_stop_writes_trigger: 12,
            level_base_bytes: 256 << 20,
            level_size_ratio: 10,
            target_file_bytes: 64 << 20,
            table: TableOptions::default(),
            block_cache_bytes: 32 << 20,
            sync: SyncPolicy::Never,
            maintenance: MaintenanceMode::Background,
            compaction_filter: None,
        }
    }
}

impl Options {
    /// How many bytes to preallocate each write-ahead log with on `fs` (0: none). See
    /// [`Options::wal_preallocate`].
    pub fn wal_preallocate_bytes(&self, fs: &dyn crate::io::Fs) -> u64 {
        let on = self
            .wal_preallocate
            .unwrap_or(fs.kind() != crate::io::BackendKind::Sim);
        if !on {
            return 0;
        }
        // The memtable's size in whole log blocks (records carry a little more than the
        // memtable counts; past the end the log simply grows), at most 1 GiB.
        (self.write_buffer_bytes as u64)
            .min(1 << 30)
            .next_multiple_of(crate::lsm::wal::BLOCK_BYTES as u64)
    }

    /// Small buffers and files so tests exercise flushes and compactions with little data;
    /// manual (deterministic) maintenance.
    pub fn small_for_tests() -> Self {
        Options {
            write_buffer_bytes: 16 << 10,
            level_base_bytes: 64 << 10,
            level_size_ratio: 4,
            target_file_bytes: 16 << 10,
            table: TableOptions {
                block_bytes: 512,
                restart_interval: 4,
                bloom_bits_per_key: 10,
                ..TableOptions::default()
            },
            block_cache_bytes: 256 << 10,
            maintenance: MaintenanceMode::Manual,
            ..Options::default()
        }
    }

    /// Reject inconsistent settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.write_buffer_bytes < 1024 {
            return Err("write_buffer_bytes must be at least 1024".into());
        }
        if self.max_immutable_memtables == 0 {
            return Err("max_immutable_memtables must be at least 1".into());
        }
        if self.l0_compaction_trigger == 0
            || self.l0_stop_writes_trigger <= self.l0_compaction_trigger
        {
            return Err("need 0 < l0_compaction_trigger < l0_stop_writes_trigger".into());
        }
        if self.level_size_ratio < 2 {
            return Err("level_size_ratio must be at least 2".into());
        }
        if self.table.block_bytes < 64 || self.table.restart_interval == 0 {
            return Err("block_bytes must be >= 64 and restart_interval >= 1".into());
        }
        if self.table.block_bytes > BLOCK_BYTES_MAX {
            return Err(format!("block_bytes must be <= {BLOCK_BYTES_MAX}"));
        }
        self.table.compression.check()?;
        Ok(())
    }
}

/// Options for one write.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Override the database's sync policy: `Some(true)` syncs this write, `Some(false)` skips
    /// the sync even under `always`.
    pub sync: Option<bool>,
}

/// Options for one read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Read as of this sequence number (a [`super::Snapshot`]); `None` reads the latest.
    pub snapshot_seq: Option<u64>,
    /// Answer from memory only — the memtables, the tables' in-memory index and filter, and
    /// the block cache (RocksDB's `kBlockCacheTier`): a point lookup that would have to read
    /// a data block from the device fails with [`super::LsmError::NotInCache`] instead. A
    /// server tries a small read this way on the thread that parsed the request, and hands it
    /// to a thread that may block only when the device is needed. Honoured by `get` and
    /// `get_opt`; iterators and `multi_get` read the device as usual.
    pub cache_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_policy_parses() {
        assert_eq!("always".parse(), Ok(SyncPolicy::Always));
        assert_eq!(
            "group:10:4096".parse(),
            Ok(SyncPolicy::Group {
                interval_ms: 10,
                bytes: 4096
            })
        );
        assert!("sometimes".parse::<SyncPolicy>().is_err());
        assert!("group:x".parse::<SyncPolicy>().is_err());
    }
}
