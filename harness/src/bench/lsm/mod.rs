//! `seedbed bench lsm`: db_bench-style workloads on the LSM engine.
//!
//! Workloads (names as in LevelDB/RocksDB `db_bench`): `fillseq` and `fillrandom` start from an
//! empty database; `overwrite`, `readrandom`, `readseq`, `seekrandom`, `scan` and `ycsb-a` ..
//! `ycsb-f` run on whatever the previous workload left. Keys are decimal numbers zero-padded to
//! `--key-size`, values are `--value-size` bytes sliced from a seeded random pool. No
//! compression anywhere. `scan` is `num / 100` range scans of 100 entries from random keys,
//! reported in entries per second.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::{open_backend, BackendKind, FsHandle};
use seedbed_engine::lsm::{
    Db, Options, ReadOptions, StatsSnapshot, SyncPolicy, WriteBatch, WriteOptions,
};
use seedbed_engine::rng::DetRng;
use serde::Serialize;

use crate::output::progress;

/// Every workload, in the order `--benchmarks all` runs them.
pub const ALL_WORKLOADS: &[&str] = &[
    "fillseq",
    "fillrandom",
    "overwrite",
    "readrandom",
    "readseq",
    "seekrandom",
    "scan",
    "ycsb-a",
    "ycsb-b",
    "ycsb-c",
    "ycsb-d",
    "ycsb-e",
    "ycsb-f",
];

/// Options of `seedbed bench lsm`.
#[derive(Debug, Clone, clap::Args)]
pub struct LsmArgs {
    /// Comma-separated workloads, or `all`.
    #[arg(
        long,
        default_value = "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,scan"
    )]
    pub benchmarks: String,
    /// Number of keys.
    #[arg(long, default_value_t = 1_000_000)]
    pub num: u64,
    /// Operations of read and YCSB workloads (default: `--num`).
    #[arg(long)]
    pub reads: Option<u64>,
    /// Key size in bytes.
    #[arg(long, default_value_t = 16)]
    pub key_size: usize,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    pub value_size: usize,
    /// I/O backend: std, uring, mmap.
    #[arg(long, default_value = "std")]
    pub io: BackendKind,
    /// WAL sync policy: always, never, group, group:MS[:BYTES].
    #[arg(long, default_value = "never")]
    pub sync: SyncPolicy,
    /// Database directory (default: a fresh temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Engine: `seedbed` (peers `rocksdb` and `fjall` need their cargo features).
    #[arg(long, default_value = "seedbed")]
    pub engine: String,
    /// Memtable size, MiB.
    #[arg(long, default_value_t = 64)]
    pub write_buffer_mib: usize,
    /// Block cache, MiB.
    #[arg(long, default_value_t = 32)]
    pub cache_mib: usize,
    /// Bloom filter bits per key.
    #[arg(long, default_value_t = 10)]
    pub bloom_bits: u32,
    /// Seed for keys and values.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
}

impl Default for LsmArgs {
    fn default() -> Self {
        LsmArgs {
            benchmarks: "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,scan".into(),
            num: 1_000_000,
            reads: None,
            key_size: 16,
            value_size: 100,
            io: BackendKind::Std,
            sync: SyncPolicy::Never,
            dir: None,
            engine: "seedbed".into(),
            write_buffer_mib: 64,
            cache_mib: 32,
            bloom_bits: 10,
            seed: 42,
            json: false,
        }
    }
}

/// One workload's result.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    /// Workload name.
    pub name: String,
    /// Operations done (entries for scans).
    pub ops: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// User bytes (key + value) moved per second, MB/s.
    pub mb_per_sec: f64,
    /// Median latency per operation, microseconds.
    pub latency_us_p50: f64,
    /// 99th percentile latency, microseconds.
    pub latency_us_p99: f64,
    /// Keys found, for read workloads.
    pub found: u64,
}

/// A whole run's report.
#[derive(Debug, Clone, Serialize)]
pub struct LsmReport {
    /// Engine name.
    pub engine: String,
    /// Settings used.
    pub settings: serde_json::Value,
    /// Per workload.
    pub results: Vec<WorkloadResult>,
    /// Engine statistics at the end.
    pub stats: StatsSnapshot,
    /// Peak resident memory of this process, MiB (from /proc/self/status VmHWM).
    pub peak_rss_mib: f64,
}

/// Keys, values and randomness shared by workloads.
struct Gen {
    key_size: usize,
    pool: Vec<u8>,
    value_size: usize,
    rng: DetRng,
}

impl Gen {
    fn new(args: &LsmArgs) -> Self {
        let mut rng = DetRng::new(args.seed);
        let mut pool = vec![0u8; (1 << 20) + args.value_size];
        for chunk in pool.chunks_mut(8) {
            let x = rng.range_inclusive(0, u64::MAX).to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
        Gen {
            key_size: args.key_size,
            pool,
            value_size: args.value_size,
            rng,
        }
    }

    fn key(&self, k: u64, buf: &mut Vec<u8>) {
        buf.clear();
        use std::io::Write;
        let _ = write!(buf, "{:0width$}", k, width = self.key_size);
        buf.truncate(self.key_size);
    }

    fn value(&mut self) -> &[u8] {
        let off = self.rng.below(1 << 20) as usize;
        &self.pool[off..off + self.value_size]
    }
}

/// Latency samples (nanoseconds) of one workload.
struct Lat(Vec<u32>);

impl Lat {
    fn pct(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let i = ((self.0.len() as f64 - 1.0) * p) as usize;
        f64::from(self.0[i]) / 1000.0
    }
}

/// A Zipfian generator (YCSB's, theta 0.99) over `0..n`.
struct Zipf {
    n: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

impl Zipf {
    fn new(n: u64) -> Self {
        let theta = 0.99;
        let zeta = |n: u64| (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum::<f64>();
        let zetan = zeta(n);
        let zeta2 = zeta(2);
        let alpha = 1.0 / (1.0 - theta);
        let eta = (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Zipf {
            n,
            theta,
            alpha,
            zetan,
            eta,
        }
    }

    fn next(&self, rng: &mut DetRng) -> u64 {
        let u = rng.unit();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let v = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        // Scatter hot keys over the key space, as YCSB's "scrambled" Zipfian does.
        v.min(self.n - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) % self.n
    }
}

/// What a workload needs from an engine, so that peers run exactly the same operations.
trait Engine {
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()>;
    /// Whether `key` is present.
    fn get(&self, key: &[u8]) -> Result<bool>;
    /// Seek to `key`, then step forward `n` times (or until the end); returns whether the first
    /// key equals `key`, and how many entries were visited (`n + 1` at most... fewer at the end).
    fn seek_next(&self, key: &[u8], n: usize) -> Result<(bool, u64)>;
    /// Iterate from the first key, visiting at most `limit` entries; returns the count.
    fn scan_from_first(&self, limit: u64) -> Result<u64>;
    fn stats(&self) -> Option<StatsSnapshot>;
    fn close(self: Box<Self>) -> Result<()>;
}

struct SeedbedEngine(Db);

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
    fn close(self: Box<Self>) -> Result<()> {
        Ok(self.0.close()?)
    }
}

#[cfg(feature = "rocksdb")]
mod rocks {
    //! The RocksDB peer (`--engine rocksdb`, cargo feature `rocksdb`): the same settings as
    //! seedbed's defaults — WAL on without per-write sync, 64 MiB write buffer, 10 bits/key
    //! bloom filters, 4 KiB blocks, an LRU block cache of `--cache-mib`, no compression.
    use super::*;

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
}

#[cfg(feature = "fjall")]
mod fjall_peer {
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
    use super::*;
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
}

fn open_engine(fs: &FsHandle, dir: &Path, args: &LsmArgs) -> Result<Box<dyn Engine>> {
    match args.engine.as_str() {
        "seedbed" => Ok(Box::new(SeedbedEngine(open_db(fs, dir, args)?))),
        #[cfg(feature = "rocksdb")]
        "rocksdb" => Ok(Box::new(rocks::open(dir, args)?)),
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

fn open_db(fs: &FsHandle, dir: &Path, args: &LsmArgs) -> Result<Db> {
    let mut o = Options {
        write_buffer_bytes: args.write_buffer_mib << 20,
        block_cache_bytes: args.cache_mib << 20,
        sync: args.sync,
        ..Options::default()
    };
    o.table.bloom_bits_per_key = args.bloom_bits;
    Db::open(fs.clone(), dir, o, Arc::new(RealClock::new()))
        .with_context(|| format!("opening {}", dir.display()))
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Run the workloads; print a table (or JSON) and return the report.
pub fn run(args: &LsmArgs) -> Result<LsmReport> {
    if args.key_size < 8 || args.num == 0 || args.value_size == 0 {
        bail!("--key-size must be >= 8, --num and --value-size > 0");
    }
    if (args.num as f64).log10() >= args.key_size as f64 {
        bail!(
            "--key-size {} is too small to hold {} distinct decimal keys",
            args.key_size,
            args.num
        );
    }
    let workloads: Vec<String> = if args.benchmarks == "all" {
        ALL_WORKLOADS.iter().map(|s| s.to_string()).collect()
    } else {
        args.benchmarks
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    for w in &workloads {
        if !ALL_WORKLOADS.contains(&w.as_str()) {
            bail!(
                "unknown workload '{w}': expected one of {}",
                ALL_WORKLOADS.join(", ")
            );
        }
    }
    let fs = open_backend(args.io).with_context(|| format!("I/O backend {}", args.io))?;
    let (dir, remove_after) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            PathBuf::from(format!("seedbed-bench-lsm-{}", std::process::id())),
            true,
        ),
    };
    let mut gen = Gen::new(args);
    let mut db: Option<Box<dyn Engine>> = None;
    let mut results = Vec::new();
    for w in &workloads {
        if w == "fillseq" || w == "fillrandom" || db.is_none() {
            if let Some(old) = db.take() {
                old.close()?;
            }
            if w.starts_with("fill") && dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("clearing {}", dir.display()))?;
            }
            db = Some(open_engine(&fs, &dir, args)?);
        }
        let d = db.as_ref().expect("open");
        let r = run_one(&**d, w, args, &mut gen)?;
        if !args.json {
            eprintln!(
                "{:<12} {:>10} ops {:>9.2} s {:>12.0} ops/s {:>8.1} MB/s  p50 {:>7.2} us  p99 {:>8.2} us",
                r.name, r.ops, r.secs, r.ops_per_sec, r.mb_per_sec, r.latency_us_p50, r.latency_us_p99
            );
        }
        results.push(r);
    }
    let stats = db.as_ref().and_then(|d| d.stats()).unwrap_or_default();
    if let Some(d) = db.take() {
        d.close()?;
    }
    if remove_after {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = LsmReport {
        engine: args.engine.clone(),
        settings: serde_json::json!({
            "num": args.num, "key_size": args.key_size, "value_size": args.value_size,
            "io": args.io.name(), "sync": args.sync.to_string(), "write_buffer_mib": args.write_buffer_mib,
            "cache_mib": args.cache_mib, "bloom_bits": args.bloom_bits, "compression": "none",
        }),
        results,
        stats,
        peak_rss_mib: peak_rss_mib(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(report)
}

fn print_table(r: &LsmReport) {
    println!("seedbed bench lsm — engine {}, {}", r.engine, r.settings);
    println!(
        "{:<12} {:>10} {:>9} {:>12} {:>9} {:>10} {:>10} {:>10}",
        "workload", "ops", "secs", "ops/s", "MB/s", "p50 us", "p99 us", "found"
    );
    for w in &r.results {
        println!(
            "{:<12} {:>10} {:>9.2} {:>12.0} {:>9.1} {:>10.2} {:>10.2} {:>10}",
            w.name,
            w.ops,
            w.secs,
            w.ops_per_sec,
            w.mb_per_sec,
            w.latency_us_p50,
            w.latency_us_p99,
            w.found
        );
    }
    let s = &r.stats;
    println!(
        "levels (files) {:?}  write-amp {:.2}  read-amp {:.2}  space-amp {:.2}  cache hit {:.1}%  bloom useful {} fp {}  stalls {} ({} ms)  peak RSS {:.0} MiB",
        s.level_files, s.write_amplification, s.read_amplification, s.space_amplification, s.cache_hit_rate * 100.0,
        s.bloom_useful, s.bloom_false_positives, s.stalls, s.stall_micros / 1000, r.peak_rss_mib
    );
}

fn run_one(db: &dyn Engine, name: &str, args: &LsmArgs, gen: &mut Gen) -> Result<WorkloadResult> {
    let num = args.num;
    let reads = args.reads.unwrap_or(num);
    let mut key = Vec::with_capacity(args.key_size);
    let mut lat = Lat(Vec::with_capacity(reads.max(num) as usize));
    let mut found = 0u64;
    let entry_bytes = (args.key_size + args.value_size) as f64;
    let ops = match name {
        "fillseq" | "fillrandom" | "overwrite" => num,
        "scan" => (reads / 100).max(1),
        _ => reads,
    };
    let bar = progress(ops, name);
    let zipf = if name.starts_with("ycsb") {
        Some(Zipf::new(num))
    } else {
        None
    };
    let mut inserted = num;
    let start = Instant::now();
    let mut counted = 0u64;
    if name == "readseq" {
        counted = db.scan_from_first(ops)?;
        found = counted;
        lat.0
            .push((start.elapsed().as_nanos() / u128::from(counted.max(1))) as u32);
    } else {
        for i in 0..ops {
            let t = Instant::now();
            match name {
                "fillseq" => {
                    gen.key(i, &mut key);
                    let v = gen.value();
                    db.put(&key, v)?;
                }
                "fillrandom" | "overwrite" => {
                    let k = gen.rng.below(num);
                    gen.key(k, &mut key);
                    let v = gen.value();
                    db.put(&key, v)?;
                }
                "readrandom" => {
                    let k = gen.rng.below(num);
                    gen.key(k, &mut key);
                    found += u64::from(db.get(&key)?);
                }
                "seekrandom" => {
                    let k = gen.rng.below(num);
                    gen.key(k, &mut key);
                    found += u64::from(db.seek_next(&key, 0)?.0);
                }
                "scan" => {
                    let k = gen.rng.below(num);
                    gen.key(k, &mut key);
                    let (_, n) = db.seek_next(&key, 100)?;
                    found += n;
                    counted += n;
                }
                _ => {
                    let z = zipf.as_ref().expect("ycsb");
                    let r = gen.rng.unit();
                    let (read_p, kind) = match name {
                        "ycsb-a" => (0.5, 'u'),
                        "ycsb-b" => (0.95, 'u'),
                        "ycsb-c" => (1.0, 'u'),
                        "ycsb-d" => (0.95, 'i'),
                        "ycsb-e" => (0.95, 'i'),
                        _ => (0.5, 'm'),
                    };
                    if r < read_p {
                        let k = if name == "ycsb-d" {
                            inserted - 1 - z.next(&mut gen.rng).min(inserted - 1)
                        } else {
                            z.next(&mut gen.rng)
                        };
                        gen.key(k, &mut key);
                        if name == "ycsb-e" {
                            let len = 1 + gen.rng.below(100) as usize;
                            found += u64::from(db.seek_next(&key, len)?.1 > 0);
                        } else {
                            found += u64::from(db.get(&key)?);
                        }
                    } else {
                        let k = match kind {
                            'i' => {
                                inserted += 1;
                                inserted - 1
                            }
                            _ => z.next(&mut gen.rng),
                        };
                        gen.key(k, &mut key);
                        if kind == 'm' {
                            let _ = db.get(&key)?;
                        }
                        let v = gen.value();
                        db.put(&key, v)?;
                    }
                }
            }
            lat.0
                .push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
            if i % 4096 == 0 {
                bar.set_position(i);
            }
        }
        if name != "scan" {
            counted = ops;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();
    Ok(WorkloadResult {
        name: name.to_string(),
        ops: counted,
        secs,
        ops_per_sec: counted as f64 / secs,
        mb_per_sec: counted as f64 * entry_bytes / secs / 1e6,
        latency_us_p50: lat.pct(0.5),
        latency_us_p99: lat.pct(0.99),
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_run_reads_what_it_wrote() {
        let t = tempfile::tempdir().unwrap();
        let args = LsmArgs {
            num: 3000,
            benchmarks: "all".into(),
            dir: Some(t.path().join("db")),
            json: true,
            ..LsmArgs::default()
        };
        let r = run(&args).unwrap();
        let get = |n: &str| r.results.iter().find(|w| w.name == n).unwrap().clone();
        assert_eq!(get("readseq").found, get("readseq").ops);
        assert!(
            get("readrandom").found > 3000 / 2,
            "fillrandom + overwrite cover most keys"
        );
        assert_eq!(get("fillseq").ops, 3000);
    }

    #[test]
    fn unknown_engine_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let args = LsmArgs {
            num: 10,
            engine: "leveldb".into(),
            dir: Some(t.path().join("db")),
            json: true,
            ..LsmArgs::default()
        };
        let e = run(&args).unwrap_err().to_string();
        assert!(e.contains("unknown engine 'leveldb'"), "{e}");
    }

    #[cfg(feature = "fjall")]
    #[test]
    fn fjall_peer_reads_what_it_wrote() {
        let t = tempfile::tempdir().unwrap();
        let args = LsmArgs {
            num: 3000,
            benchmarks: "fillseq,readrandom,readseq,seekrandom,scan,ycsb-e".into(),
            engine: "fjall".into(),
            dir: Some(t.path().join("db")),
            json: true,
            ..LsmArgs::default()
        };
        let r = run(&args).unwrap();
        let get = |n: &str| r.results.iter().find(|w| w.name == n).unwrap().clone();
        // fillseq writes every key, so every read and exact seek finds its key.
        assert_eq!(get("readrandom").found, 3000);
        assert_eq!(get("readseq").found, 3000);
        assert_eq!(get("seekrandom").found, 3000);
        assert!(get("scan").found > 0);
    }
}
