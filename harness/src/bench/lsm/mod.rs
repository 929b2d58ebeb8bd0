//! `seedbed bench lsm`: db_bench-style workloads on the LSM engine and its peers.
//!
//! - `workload.rs`: the workloads (db_bench's names, YCSB A–F) and the loop that runs one;
//! - `keys.rs`: keys, values and key distributions (sequential, uniform, Zipfian, latest);
//! - `engines/`: seedbed and, behind cargo features, RocksDB and fjall, behind one trait.
//!
//! This file holds the command's options, the run over the chosen workloads and the report.
//! No compression unless `--compression` asks for it.

mod engines;
mod keys;
mod workload;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use seedbed_engine::io::{open_backend, BackendKind, FsHandle};
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::wal::create_log;
use seedbed_engine::lsm::{StatsSnapshot, SyncPolicy};
use serde::Serialize;

use engines::{open_engine, Engine};
use keys::Gen;
pub use workload::Workload;

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
    /// Data block compression: none, lz4, zstd, zstd:LEVEL (fjall has no zstd).
    #[arg(long, default_value = "none")]
    pub compression: Compression,
    /// Values compress to about this fraction of their size (db_bench's
    /// `--compression_ratio`): each 100-byte piece of the value pool is a random string this
    /// long, repeated.
    #[arg(long, default_value_t = 0.5)]
    pub compression_ratio: f64,
    /// Seed for keys and values.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Client threads, each running every workload's whole operation count with its own
    /// random stream (db_bench's `--threads`); throughput counts all of them.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
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
            compression: Compression::None,
            compression_ratio: 0.5,
            seed: 42,
            threads: 1,
            json: false,
        }
    }
}

/// One workload's result.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    /// Workload name.
    pub name: String,
    /// Client threads (`--threads`).
    pub threads: u64,
    /// Operations done by all threads (entries for scans).
    pub ops: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// CPU time the whole process used meanwhile (clients and the engine's background
    /// threads), seconds.
    pub cpu_secs: f64,
    /// Operations per CPU-second: the work per operation, much less sensitive than
    /// `ops_per_sec` to other load on the machine.
    pub ops_per_cpu_sec: f64,
    /// User bytes (key + value) moved per second, MB/s.
    pub mb_per_sec: f64,
    /// Median latency per operation, microseconds.
    pub latency_us_p50: f64,
    /// 99th percentile latency, microseconds.
    pub latency_us_p99: f64,
    /// Keys found, for read workloads.
    pub found: u64,
    /// The device's fsync rate around this workload (writing workloads under `--sync always`).
    pub fsync_probe: Option<FsyncProbe>,
    /// Durable-write figures (seedbed under `--sync always`).
    pub sync: Option<SyncFigures>,
    /// Resident memory when the workload ended, MiB (VmRSS).
    pub rss_mib_after: f64,
    /// Peak resident memory of the process up to the workload's end, MiB (VmHWM).
    pub peak_rss_mib_after: f64,
}

/// How close a syncing workload came to what the device allows: with group commit each
/// fsync covers a batch of writes, so the most writes per second is the device's fsync rate
/// (measured by the probe in the same run) times the writes one fsync covers. (A sync covers
/// every group appended before it began, so a batch may be several groups: `writes_per_sync`,
/// not `mean_group_size`, is the batch.)
#[derive(Debug, Clone, Serialize)]
pub struct SyncFigures {
    /// WAL syncs during the workload.
    pub wal_syncs: u64,
    /// Write calls per group (one WAL record).
    pub mean_group_size: f64,
    /// Write calls per WAL sync: the batch one fsync makes durable.
    pub writes_per_sync: f64,
    /// The probe's fsyncs per second times `writes_per_sync`.
    pub fsync_bound_ops_per_sec: f64,
    /// `ops_per_sec / fsync_bound_ops_per_sec`.
    pub of_fsync_bound: f64,
}

/// The device's fsync rate, measured right before and right after each writing workload when
/// every write syncs, through the same I/O backend, in two ways: appends of one entry's size to
/// a fresh file beside the database, and the same writes into a file created at its full
/// length first (as the engine creates its logs: `Options::wal_preallocate`). On ext4 the
/// second is faster — an append's `fdatasync` must also commit the file's new length — so the
/// bound a syncing workload is held to is the faster of the two.
#[derive(Debug, Clone, Serialize)]
pub struct FsyncProbe {
    /// Writes of each kind, each synced.
    pub syncs: u64,
    /// Bytes per write.
    pub append_bytes: usize,
    /// Synced appends per second (the file grows with each).
    pub append_syncs_per_sec: f64,
    /// Synced writes per second inside a file already at its full length.
    pub preallocated_syncs_per_sec: f64,
    /// The faster of the two: the device's fsync-bound limit.
    pub syncs_per_sec: f64,
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
    /// Whether `stats` is the engine's (seedbed's); a peer's are left at zero.
    #[serde(skip)]
    pub has_stats: bool,
    /// Engine statistics at the end (seedbed only; zero for a peer).
    pub stats: StatsSnapshot,
    /// The engine's tables at the end, as it counts them (every engine).
    pub tree: Option<engines::Tree>,
    /// Peak resident memory of this process, MiB (from /proc/self/status VmHWM).
    pub peak_rss_mib: f64,
    /// Where the memory is at the end of the run (seedbed only; peers report RSS alone).
    pub memory: MemoryBreakdown,
}

/// Where an engine's memory goes, at the end of a run: the parts the engine accounts for,
/// and the rest of the process's resident memory (allocator slack and fragmentation, the
/// harness's own buffers, code).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryBreakdown {
    /// Resident memory now, MiB (VmRSS).
    pub rss_mib: f64,
    /// Memtables, active and immutable, as charged against the write buffer, MiB.
    pub memtables_mib: f64,
    /// Block cache in use, MiB.
    pub block_cache_mib: f64,
    /// Index blocks of the live tables (kept outside the cache), MiB.
    pub index_blocks_mib: f64,
    /// Bloom filters of the live tables (kept outside the cache), MiB.
    pub filters_mib: f64,
    /// `rss_mib` less the parts above, MiB.
    pub other_mib: f64,
}

impl MemoryBreakdown {
    fn of(stats: Option<&StatsSnapshot>) -> Self {
        let rss_mib = proc_status_mib("VmRSS:");
        let Some(s) = stats else {
            return MemoryBreakdown {
                rss_mib,
                ..MemoryBreakdown::default()
            };
        };
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let mut m = MemoryBreakdown {
            rss_mib,
            memtables_mib: mib(s.memtable_bytes),
            block_cache_mib: mib(s.cache_bytes),
            index_blocks_mib: mib(s.index_bytes),
            filters_mib: mib(s.filter_bytes),
            other_mib: 0.0,
        };
        m.other_mib =
            rss_mib - m.memtables_mib - m.block_cache_mib - m.index_blocks_mib - m.filters_mib;
        m
    }
}

/// Most client threads `--threads` accepts.
const THREADS_MAX: usize = 1024;
/// Synced appends the fsync probe makes.
const FSYNC_PROBE_SYNCS: u64 = 500;

/// Measure the device's fsync rate next to `dir` (see [`FsyncProbe`]).
fn probe_fsync(fs: &FsHandle, dir: &Path, append_bytes: usize) -> Result<FsyncProbe> {
    let append = probe_fsync_kind(fs, dir, append_bytes, false)?;
    let preallocated = probe_fsync_kind(fs, dir, append_bytes, true)?;
    Ok(FsyncProbe {
        syncs: FSYNC_PROBE_SYNCS,
        append_bytes,
        append_syncs_per_sec: append,
        preallocated_syncs_per_sec: preallocated,
        syncs_per_sec: append.max(preallocated),
    })
}

/// Synced writes of `bytes` per second, one after another from the start of a fresh file —
/// appends, or writes inside the file's length if `preallocate`.
fn probe_fsync_kind(fs: &FsHandle, dir: &Path, bytes: usize, preallocate: bool) -> Result<f64> {
    let path = dir.with_extension("fsync-probe");
    // Created as the engine creates its logs.
    let length = if preallocate {
        FSYNC_PROBE_SYNCS * bytes as u64
    } else {
        0
    };
    let file = create_log(&**fs, &path, length)
        .with_context(|| format!("fsync probe: creating {}", path.display()))?;
    let buf = vec![0x5au8; bytes];
    let start = Instant::now();
    for i in 0..FSYNC_PROBE_SYNCS {
        file.write_at(&buf, i * bytes as u64)
            .and_then(|()| file.sync_data())
            .with_context(|| format!("fsync probe: writing {}", path.display()))?;
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    drop(file);
    let _ = fs.remove_file(&path);
    Ok(FSYNC_PROBE_SYNCS as f64 / secs)
}

/// The durable-write figures of workload `r`, from the engine's counters before and after it
/// (`None` if it wrote nothing).
fn sync_figures(
    r: &WorkloadResult,
    probe: &FsyncProbe,
    before: &StatsSnapshot,
    after: &StatsSnapshot,
) -> Option<SyncFigures> {
    let writes = after.writes - before.writes;
    let groups = after.write_groups - before.write_groups;
    if writes == 0 || groups == 0 {
        return None;
    }
    let wal_syncs = after.wal_syncs - before.wal_syncs;
    let writes_per_sync = writes as f64 / wal_syncs.max(1) as f64;
    let bound = probe.syncs_per_sec * writes_per_sync;
    Some(SyncFigures {
        wal_syncs,
        mean_group_size: writes as f64 / groups as f64,
        writes_per_sync,
        fsync_bound_ops_per_sec: bound,
        of_fsync_bound: r.ops_per_sec / bound,
    })
}

/// `--benchmarks`: comma-separated workload names, or `all`.
fn parse_workloads(list: &str) -> Result<Vec<Workload>> {
    if list == "all" {
        return Ok(Workload::all());
    }
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(name.parse::<Workload>().map_err(anyhow::Error::msg)?);
    }
    Ok(out)
}

/// A `kB` line of /proc/self/status (`VmRSS:`, `VmHWM:`), MiB; 0 where there is none.
fn proc_status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn peak_rss_mib() -> f64 {
    proc_status_mib("VmHWM:")
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
    let workloads = parse_workloads(&args.benchmarks)?;
    let fs = open_backend(args.io).with_context(|| format!("I/O backend {}", args.io))?;
    let (dir, remove_after) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            PathBuf::from(format!("seedbed-bench-lsm-{}", std::process::id())),
            true,
        ),
    };
    if !(args.compression_ratio > 0.0 && args.compression_ratio <= 1.0) {
        bail!(
            "--compression-ratio {}: expected a fraction in (0, 1]",
            args.compression_ratio
        );
    }
    if args.threads == 0 || args.threads > THREADS_MAX {
        bail!("--threads {}: expected 1..={THREADS_MAX}", args.threads);
    }
    // Thread 0 draws exactly what a single-threaded run draws.
    let mut gens: Vec<Gen> = (0..args.threads as u64)
        .map(|t| {
            let seed = args
                .seed
                .wrapping_add(t.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            Gen::new(seed, args.key_size, args.value_size, args.compression_ratio)
        })
        .collect();
    let probing = args.sync == SyncPolicy::Always;
    let entry_bytes = args.key_size + args.value_size;
    let mut fsync_probes: Vec<FsyncProbe> = Vec::new();
    let mut db: Option<Box<dyn Engine>> = None;
    let mut results = Vec::new();
    for &w in &workloads {
        if w.starts_empty() || db.is_none() {
            if let Some(old) = db.take() {
                old.close()?;
            }
            if w.starts_empty() && dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("clearing {}", dir.display()))?;
            }
            db = Some(open_engine(&fs, &dir, args)?);
        }
        let d = db.as_ref().expect("open");
        // The device's fsync rate right before and right after the workload (other load on
        // the machine moves it), averaged.
        let probe_before = if probing && w.writes() {
            Some(probe_fsync(&fs, &dir, entry_bytes)?)
        } else {
            None
        };
        let before = d.stats();
        let mut r = workload::run_one(&**d, w, args, &mut gens)?;
        r.rss_mib_after = proc_status_mib("VmRSS:");
        r.peak_rss_mib_after = peak_rss_mib();
        let after = d.stats();
        if let Some(p0) = probe_before {
            let p1 = probe_fsync(&fs, &dir, entry_bytes)?;
            let append = (p0.append_syncs_per_sec + p1.append_syncs_per_sec) / 2.0;
            let preallocated =
                (p0.preallocated_syncs_per_sec + p1.preallocated_syncs_per_sec) / 2.0;
            let probe = FsyncProbe {
                syncs: p0.syncs + p1.syncs,
                append_bytes: entry_bytes,
                append_syncs_per_sec: append,
                preallocated_syncs_per_sec: preallocated,
                syncs_per_sec: append.max(preallocated),
            };
            if let (Some(b), Some(a)) = (before, after) {
                r.sync = sync_figures(&r, &probe, &b, &a);
            }
            r.fsync_probe = Some(probe.clone());
            fsync_probes.push(probe);
        }
        if !args.json {
            eprintln!(
                "{:<12} {:>10} ops {:>9.2} s {:>12.0} ops/s {:>8.1} MB/s  p50 {:>7.2} us  p99 {:>8.2} us{}",
                r.name, r.ops, r.secs, r.ops_per_sec, r.mb_per_sec, r.latency_us_p50, r.latency_us_p99,
                r.sync.as_ref().map(sync_line).unwrap_or_default()
            );
        }
        results.push(r);
    }
    let end_stats = db.as_ref().and_then(|d| d.stats());
    let tree = db.as_ref().map(|d| d.tree()).transpose()?;
    let memory = MemoryBreakdown::of(end_stats.as_ref());
    let end_stats_present = end_stats.is_some();
    let stats = end_stats.unwrap_or_default();
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
            "cache_mib": args.cache_mib, "bloom_bits": args.bloom_bits, "compression": args.compression.to_string(),
            "compression_ratio": args.compression_ratio,
            "threads": args.threads,
        }),
        results,
        has_stats: end_stats_present,
        stats,
        tree,
        peak_rss_mib: peak_rss_mib(),
        memory,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(report)
}

/// The durable-write figures as a suffix for a result line.
fn sync_line(s: &SyncFigures) -> String {
    format!(
        "  groups of {:.1}, {:.1} writes per fsync, {:.0}% of fsync bound {:.0} ops/s",
        s.mean_group_size,
        s.writes_per_sync,
        s.of_fsync_bound * 100.0,
        s.fsync_bound_ops_per_sec
    )
}

fn print_table(r: &LsmReport) {
    println!("seedbed bench lsm — engine {}, {}", r.engine, r.settings);
    println!(
        "{:<12} {:>10} {:>9} {:>12} {:>12} {:>9} {:>10} {:>10} {:>10}",
        "workload", "ops", "secs", "ops/s", "ops/cpu-s", "MB/s", "p50 us", "p99 us", "found"
    );
    for w in &r.results {
        println!(
            "{:<12} {:>10} {:>9.2} {:>12.0} {:>12.0} {:>9.1} {:>10.2} {:>10.2} {:>10}",
            w.name,
            w.ops,
            w.secs,
            w.ops_per_sec,
            w.ops_per_cpu_sec,
            w.mb_per_sec,
            w.latency_us_p50,
            w.latency_us_p99,
            w.found
        );
        if let Some(sf) = &w.sync {
            println!("{:<12}{}", "", sync_line(sf));
        }
        if let Some(p) = &w.fsync_probe {
            println!(
                "{:<12}  fsync probe: {:.0} synced appends/s, {:.0} synced writes/s into a preallocated file ({} of each, {} bytes, before and after)",
                "", p.append_syncs_per_sec, p.preallocated_syncs_per_sec, p.syncs, p.append_bytes
            );
        }
    }
    if let Some(t) = &r.tree {
        println!("tables at the end: {t}");
    }
    let m = &r.memory;
    if !r.has_stats {
        // A peer: its own parts are not known here, only the process's memory.
        println!(
            "memory at the end: RSS {:.0} MiB  peak RSS {:.0} MiB",
            m.rss_mib, r.peak_rss_mib
        );
        return;
    }
    println!(
        "memory at the end: RSS {:.0} MiB = memtables {:.1} + block cache {:.1} + index blocks {:.1} + bloom filters {:.1} + other {:.1} (MiB)",
        m.rss_mib, m.memtables_mib, m.block_cache_mib, m.index_blocks_mib, m.filters_mib, m.other_mib
    );
    let s = &r.stats;
    println!(
        "levels (files) {:?}  write-amp {:.2}  read-amp {:.2}  space-amp {:.2}  cache hit {:.1}%  bloom useful {} fp {}  stalls {} ({} ms)  peak RSS {:.0} MiB",
        s.level_files, s.write_amplification, s.read_amplification, s.space_amplification, s.cache_hit_rate * 100.0,
        s.bloom_useful, s.bloom_false_positives, s.stalls, s.stall_micros / 1000, r.peak_rss_mib
    );
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

    #[test]
    fn client_threads_each_run_the_workload_and_sync_figures_are_reported() {
        let t = tempfile::tempdir().unwrap();
        let args = LsmArgs {
            num: 400,
            benchmarks: "fillrandom,readrandom,ycsb-d".into(),
            threads: 4,
            sync: SyncPolicy::Always,
            dir: Some(t.path().join("db")),
            json: true,
            ..LsmArgs::default()
        };
        let r = run(&args).unwrap();
        let get = |n: &str| r.results.iter().find(|w| w.name == n).unwrap().clone();
        // Every thread runs the whole workload.
        assert_eq!(get("fillrandom").ops, 4 * 400);
        assert_eq!(get("readrandom").ops, 4 * 400);
        assert!(get("readrandom").found > 0);
        // Every write synced, and the figures say how close to the device's bound it came.
        let probe = get("fillrandom")
            .fsync_probe
            .expect("a probe under --sync always");
        assert_eq!(probe.syncs, 2 * FSYNC_PROBE_SYNCS);
        assert!(probe.append_syncs_per_sec > 0.0 && probe.preallocated_syncs_per_sec > 0.0);
        assert_eq!(
            probe.syncs_per_sec,
            probe
                .append_syncs_per_sec
                .max(probe.preallocated_syncs_per_sec),
            "the bound is the faster kind"
        );
        assert!(
            get("readrandom").fsync_probe.is_none(),
            "reads are not probed"
        );
        let sf = get("fillrandom").sync.expect("sync figures");
        assert!(sf.wal_syncs >= 1 && sf.mean_group_size >= 1.0);
        assert!(
            sf.writes_per_sync >= sf.mean_group_size,
            "a sync covers whole groups"
        );
        assert!(r.stats.writes > 4 * 400, "the fill plus YCSB-D's inserts");
        assert_eq!(r.stats.keys_written, r.stats.writes);
    }

    #[test]
    fn compressed_runs_read_what_they_wrote() {
        for c in ["lz4", "zstd"] {
            let t = tempfile::tempdir().unwrap();
            let args = LsmArgs {
                benchmarks: "fillrandom,readrandom".into(),
                num: 20_000,
                compression: c.parse().unwrap(),
                write_buffer_mib: 1,
                dir: Some(t.path().join("db")),
                json: true,
                ..LsmArgs::default()
            };
            let r = run(&args).unwrap();
            assert_eq!(r.settings["compression"], c);
            assert!(r.results[1].found > 20_000 / 2, "{c}");
            // Tables were written, and values made to compress to half did shrink.
            assert!(r.stats.data_stored_bytes_written > 0, "{c}");
            assert!(
                r.stats.compression_ratio > 1.3,
                "{c}: {}",
                r.stats.compression_ratio
            );
        }
    }

    #[test]
    fn bad_thread_counts_are_rejected_by_name() {
        let args = LsmArgs {
            threads: 0,
            ..LsmArgs::default()
        };
        let e = run(&args).unwrap_err().to_string();
        assert!(e.contains("--threads 0"), "{e}");
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
