//! Counters a researcher wants from an LSM: amplification, bytes per level, stalls, cache and
//! bloom filter effectiveness. Updated with relaxed atomics on the hot paths; read as a
//! [`StatsSnapshot`] (serde-serialisable, printed by `seedbed kv stats` and the benchmarks).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Number of levels (L0..L6).
pub const NUM_LEVELS: usize = 7;

/// Stripes of a [`Counter`] (a power of two).
const STRIPES: usize = 8;

/// One stripe, alone on its cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Stripe(AtomicU64);

/// Which stripe this thread adds to: threads are numbered as they first count something.
fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    INDEX.with(|i| *i)
}

/// A counter the read path bumps from many threads at once. One shared atomic would bounce
/// its cache line between cores on every lookup — readers would serialise on it even though
/// no lock is taken — so each thread adds to one of [`STRIPES`] cache-line-sized stripes and a
/// read sums them. (In the simulator there is one thread, hence one stripe.)
#[derive(Debug, Default)]
pub struct Counter {
    stripes: [Stripe; STRIPES],
}

impl Counter {
    /// Add `v`.
    #[inline]
    pub fn add(&self, v: u64) {
        self.stripes[stripe_index()]
            .0
            .fetch_add(v, Ordering::Relaxed);
    }

    /// The total so far.
    pub fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// Something [`Stats::add`] can add to.
pub trait Add {
    /// Add `v`.
    fn add_value(&self, v: u64);
}

impl Add for AtomicU64 {
    #[inline]
    fn add_value(&self, v: u64) {
        self.fetch_add(v, Ordering::Relaxed);
    }
}

impl Add for Counter {
    #[inline]
    fn add_value(&self, v: u64) {
        self.add(v);
    }
}

/// Live counters. The write path's are plain atomics (one leader at a time writes them); the
/// read path's are striped [`Counter`]s.
#[derive(Debug, Default)]
pub struct Stats {
    /// User key + value bytes accepted by writes.
    pub user_bytes_written: AtomicU64,
    /// Operations written (puts + deletes).
    pub keys_written: AtomicU64,
    /// Write calls (batches) committed.
    pub writes: AtomicU64,
    /// Group commits: each wrote one WAL record for one or more writes.
    pub write_groups: AtomicU64,
    /// Bytes appended to the WAL.
    pub wal_bytes_written: AtomicU64,
    /// WAL syncs performed.
    pub wal_syncs: AtomicU64,
    /// Point lookups.
    pub gets: Counter,
    /// Point lookups that found a value.
    pub get_hits: Counter,
    /// Data blocks read from disk.
    pub block_reads: Counter,
    /// Bytes read from disk for data blocks.
    pub block_read_bytes: Counter,
    /// Bloom filter checks.
    pub bloom_checks: Counter,
    /// Checks that said "absent" (a table read avoided).
    pub bloom_useful: Counter,
    /// Checks that said "maybe" but the table did not hold the key.
    pub bloom_false_positives: Counter,
    /// Memtable flushes.
    pub flushes: AtomicU64,
    /// Compactions run (including trivial moves).
    pub compactions: AtomicU64,
    /// Compactions that just moved a file down a level.
    pub trivial_moves: AtomicU64,
    /// Bytes written by flushes (into L0).
    pub flush_bytes: AtomicU64,
    /// Data block contents written to tables, before compression.
    pub data_raw_bytes_written: AtomicU64,
    /// The same blocks as stored (compressed or not; trailers not counted).
    pub data_stored_bytes_written: AtomicU64,
    /// Bytes read by compactions, by input level.
    pub compaction_read_bytes: [AtomicU64; NUM_LEVELS],
    /// Bytes written by compactions, by output level.
    pub compaction_written_bytes: [AtomicU64; NUM_LEVELS],
    /// Write stalls.
    pub stalls: AtomicU64,
    /// Time spent stalled, microseconds.
    pub stall_micros: AtomicU64,
    /// Why the last stall happened.
    pub last_stall_reason: Mutex<Option<String>>,
    /// Times the database came back from a no-space error (`Db::resume`).
    pub resumes: AtomicU64,
}

/// A point-in-time copy of [`Stats`] plus derived ratios and the shape of the tree.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StatsSnapshot {
    /// User key + value bytes written.
    pub user_bytes_written: u64,
    /// Operations written.
    pub keys_written: u64,
    /// Write calls (batches) committed.
    pub writes: u64,
    /// Group commits (one WAL record each); `writes / write_groups` is the mean group size.
    pub write_groups: u64,
    /// Bytes appended to the WAL.
    pub wal_bytes_written: u64,
    /// WAL syncs.
    pub wal_syncs: u64,
    /// Point lookups.
    pub gets: u64,
    /// Point lookups that found a value.
    pub get_hits: u64,
    /// Data blocks read from disk.
    pub block_reads: u64,
    /// Bytes read from disk for data blocks.
    pub block_read_bytes: u64,
    /// Block cache hits.
    pub cache_hits: u64,
    /// Block cache misses.
    pub cache_misses: u64,
    /// hits / (hits + misses).
    pub cache_hit_rate: f64,
    /// Bloom checks.
    pub bloom_checks: u64,
    /// Bloom checks that avoided a table read.
    pub bloom_useful: u64,
    /// Bloom "maybe" answers for keys not in the table.
    pub bloom_false_positives: u64,
    /// Flushes.
    pub flushes: u64,
    /// Compactions.
    pub compactions: u64,
    /// Trivial moves among them.
    pub trivial_moves: u64,
    /// Bytes flushed into L0.
    pub flush_bytes: u64,
    /// Data block contents written to tables (flushes and compactions), before compression.
    pub data_raw_bytes_written: u64,
    /// The same blocks as stored.
    pub data_stored_bytes_written: u64,
    /// `data_raw_bytes_written / data_stored_bytes_written` (1 without compression, 0 before
    /// any table is written).
    pub compression_ratio: f64,
    /// Compaction bytes read, by input level.
    pub compaction_read_bytes: Vec<u64>,
    /// Compaction bytes written, by output level.
    pub compaction_written_bytes: Vec<u64>,
    /// Write stalls.
    pub stalls: u64,
    /// Time stalled, microseconds.
    pub stall_micros: u64,
    /// Times the database came back from a no-space error.
    pub resumes: u64,
    /// Why the last stall happened.
    pub last_stall_reason: Option<String>,
    /// Table files per level.
    pub level_files: Vec<usize>,
    /// Table bytes per level.
    pub level_bytes: Vec<u64>,
    /// (flush + compaction bytes written) / user bytes written.
    pub write_amplification: f64,
    /// Data blocks read from disk per point lookup.
    pub read_amplification: f64,
    /// All table bytes / bytes in the last non-empty level.
    pub space_amplification: f64,
    /// Memtable bytes (active + immutable).
    pub memtable_bytes: u64,
    /// Block cache bytes in use.
    pub cache_bytes: u64,
    /// Index blocks of the live tables, kept in memory outside the cache.
    pub index_bytes: u64,
    /// Bloom filters of the live tables, kept in memory outside the cache.
    pub filter_bytes: u64,
    /// Last sequence number written.
    pub last_sequence: u64,
}

fn ld(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

impl Stats {
    /// Add to a counter.
    #[inline]
    pub fn add(c: &impl Add, v: u64) {
        c.add_value(v);
    }

    /// Copy the counters (derived fields and the tree's shape are filled by the caller).
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            user_bytes_written: ld(&self.user_bytes_written),
            keys_written: ld(&self.keys_written),
            writes: ld(&self.writes),
            write_groups: ld(&self.write_groups),
            wal_bytes_written: ld(&self.wal_bytes_written),
            wal_syncs: ld(&self.wal_syncs),
            gets: self.gets.get(),
            get_hits: self.get_hits.get(),
            block_reads: self.block_reads.get(),
            block_read_bytes: self.block_read_bytes.get(),
            bloom_checks: self.bloom_checks.get(),
            bloom_useful: self.bloom_useful.get(),
            bloom_false_positives: self.bloom_false_positives.get(),
            flushes: ld(&self.flushes),
            compactions: ld(&self.compactions),
            trivial_moves: ld(&self.trivial_moves),
            flush_bytes: ld(&self.flush_bytes),
            data_raw_bytes_written: ld(&self.data_raw_bytes_written),
            data_stored_bytes_written: ld(&self.data_stored_bytes_written),
            compaction_read_bytes: self.compaction_read_bytes.iter().map(ld).collect(),
            compaction_written_bytes: self.compaction_written_bytes.iter().map(ld).collect(),
            stalls: ld(&self.stalls),
            stall_micros: ld(&self.stall_micros),
            resumes: ld(&self.resumes),
            last_stall_reason: self
                .last_stall_reason
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            ..StatsSnapshot::default()
        }
    }
}
