//! `seedbed bench object`: PUT and GET throughput and latency of the parity object store on a
//! real disk, per object size and I/O backend, beside the device's own sequential bandwidth
//! measured in the same run.
//!
//! For each backend and size it creates a fresh store, PUTs enough objects to move
//! `--bytes-per-size` bytes (at least `--min-objects`), evicts the store's files from the page
//! cache (`posix_fadvise(DONTNEED)` after a sync), then GETs every object once. So a GET reads
//! the device, as it would for a cold object, and the comparison with the device's sequential
//! read bandwidth is fair.
//!
//! With several `--missing-disks` counts and `--read-io` modes, the same store's objects are
//! read once per (count, mode) pair — healthy first, then with disks removed (they do not come
//! back), each mode after a fresh eviction — so that healthy and degraded GETs, direct and
//! through the page cache, are compared within one run.
//!
//! Goodput counts object bytes only; the device also writes the M parity shards, so the most a
//! PUT can reach is `device write bandwidth × K / (K + M)`, which the table prints beside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::{self, BackendKind};
use seedbed_engine::object::blob::PipelineStats;
use seedbed_engine::object::layout::Layout;
use seedbed_engine::object::sse::{CustomerKey, SseRequest};
use seedbed_engine::object::{lsm_meta, GetOptions, ObjectStore, PutOptions, StoreOptions};
use seedbed_engine::rng::DetRng;
use serde::Serialize;

use crate::bench::io::{human_bytes, parse_size, Histogram, IoArgs};
use crate::output::progress;

/// Options of `seedbed bench object`.
#[derive(Debug, Clone, clap::Args)]
pub struct ObjectBenchArgs {
    /// Backends, comma-separated: std, uring, mmap.
    #[arg(long, value_delimiter = ',', default_value = "std,uring")]
    pub io: Vec<BackendKind>,
    /// Object sizes, comma-separated (e.g. 4KiB,64KiB,1MiB,16MiB,64MiB).
    #[arg(long, value_delimiter = ',', value_parser = parse_size,
          default_value = "4KiB,64KiB,1MiB,16MiB,64MiB")]
    pub sizes: Vec<u64>,
    /// Data shards per stripe.
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Parity shards per stripe.
    #[arg(long, default_value_t = 2)]
    pub m: usize,
    /// Largest shard (a multiple of 4 KiB).
    #[arg(long, value_parser = parse_size, default_value = "1MiB")]
    pub shard_size: u64,
    /// Object bytes to PUT (and GET) per size and backend.
    #[arg(long, value_parser = parse_size, default_value = "512MiB")]
    pub bytes_per_size: u64,
    /// At least this many objects per size.
    #[arg(long, default_value_t = 64)]
    pub min_objects: u64,
    /// At most this many objects per size (bounds small-object runs, where per-request cost
    /// dominates and a few thousand requests already give stable figures).
    #[arg(long, default_value_t = 5000)]
    pub max_objects: u64,
    /// Sync data and metadata before acknowledging each PUT (`--sync false`: the page cache
    /// holds the writes; S3 semantics need true).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sync: bool,
    /// Skip the device measurement (bench io's sequential cases) that the goodput is set
    /// beside.
    #[arg(long)]
    pub no_device: bool,
    /// Directory for the stores. Default: a fresh ./seedbed-bench-object-<pid>, removed after.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep each store (DIR/store-BACKEND-SIZE, with its bucket `bench`) after the run, for
    /// `seedbed object --store` to look into. Needs --dir.
    #[arg(long, requires = "dir")]
    pub keep: bool,
    /// Write one JSON record per case (JSON lines) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Small and fast (4 KiB and 1 MiB objects, 16 MiB per size): a smoke test.
    #[arg(long)]
    pub quick: bool,
    /// PUTs (and then GETs) in flight at once, each from its own thread. The PUT limit becomes
    /// min(device write × K/(K+M), min(C, cores) × one core's MD5).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Before the GETs, remove this many shard directories (data shards first, the worst case:
    /// every stripe is rebuilt from parity). At most M. Several, comma-separated (`0,2`): the
    /// GETs run once per count, in increasing order, on the same store.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub missing_disks: Vec<usize>,
    /// How GETs read the shard files of large objects: `direct` (O_DIRECT, the store's
    /// default) or `cached` (through the page cache). Both, comma-separated: the GETs run
    /// once per mode, on the same objects, each after evicting them from the page cache.
    #[arg(long, value_delimiter = ',', default_value = "direct")]
    pub read_io: Vec<ReadIo>,
    /// Also time each part of a PUT on its own (MD5, SHA-256, parity, CRCs, file creation,
    /// writes, syncs, metadata commit) for one object of each size, medians of 5.
    #[arg(long)]
    pub breakdown: bool,
    /// Server-side encryption of the objects: `none`, `s3` (SSE-S3) or `c` (SSE-C, with a
    /// fixed test key): what AES-256-CTR and the plaintext digests add to PUT and GET.
    #[arg(long, value_enum, default_value_t = Sse::None)]
    pub sse: Sse,
}

/// Server-side encryption in a run (`--sse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sse {
    /// Stored in clear.
    None,
    /// SSE-S3.
    S3,
    /// SSE-C.
    C,
}

impl Sse {
    fn name(self) -> &'static str {
        match self {
            Sse::None => "none",
            Sse::S3 => "sse-s3",
            Sse::C => "sse-c",
        }
    }

    /// The PUT's and the GET's options.
    fn options(self) -> anyhow::Result<(PutOptions, GetOptions)> {
        let key = CustomerKey::from_bytes(&[0x5e; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (put, read) = match self {
            Sse::None => (None, None),
            Sse::S3 => (Some(SseRequest::S3), None),
            Sse::C => (Some(SseRequest::Customer(key.clone())), Some(key)),
        };
        Ok((
            PutOptions {
                sse: put,
                ..PutOptions::default()
            },
            GetOptions {
                sse_customer: read,
                ..GetOptions::default()
            },
        ))
    }
}

impl ObjectBenchArgs {
    /// The defaults the command line would give.
    pub fn defaults() -> Self {
        ObjectBenchArgs {
            io: vec![BackendKind::Std, BackendKind::Uring],
            sizes: vec![4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20],
            k: 4,
            m: 2,
            shard_size: 1 << 20,
            bytes_per_size: 512 << 20,
            min_objects: 64,
            max_objects: 5000,
            sync: true,
            no_device: false,
            dir: None,
            keep: false,
            json: None,
            quick: false,
            concurrency: 1,
            missing_disks: vec![0],
            read_io: vec![ReadIo::Direct],
            breakdown: false,
            sse: Sse::None,
        }
    }
}

/// How GETs read shard files (`--read-io`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadIo {
    /// Direct I/O (`O_DIRECT`), as the store does by default.
    Direct,
    /// Through the page cache.
    Cached,
}

/// One measured case.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectRecord {
    /// Backend.
    pub backend: String,
    /// `put` or `get`.
    pub op: String,
    /// Object size.
    pub object_bytes: u64,
    /// K data shards.
    pub k: usize,
    /// M parity shards.
    pub m: usize,
    /// Whether PUTs synced.
    pub sync: bool,
    /// Operations in flight at once.
    pub concurrency: usize,
    /// Shard directories removed before the GETs.
    pub missing_disks: usize,
    /// Server-side encryption: `none`, `sse-s3` or `sse-c`.
    pub sse: String,
    /// GET only: how the shard files were read — `direct`, `cached`, or `cached (no O_DIRECT
    /// here)` when direct reads were asked for and the file system refused them.
    pub read_io: Option<String>,
    /// Objects moved.
    pub objects: u64,
    /// Seconds.
    pub secs: f64,
    /// Object bytes per second, MB/s.
    pub goodput_mb_per_s: f64,
    /// Operations per second.
    pub ops_per_s: f64,
    /// Latency percentiles, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// The ceiling from the device figures: seq write × K/(K+M) for PUT, seq read for GET.
    pub device_limit_mb_per_s: Option<f64>,
    /// PUT only: MD5's speed on one core of this machine, measured in the same run, times
    /// min(concurrency, cores). A PUT's ETag is one sequential MD5 chain over the object, so no
    /// single PUT can go faster than one core's MD5.
    pub md5_limit_mb_per_s: Option<f64>,
    /// PUT only, objects of more than one stripe: the PUT pipeline's MD5 thread's busy time as
    /// a share of the PUTs' wall time (100 %: MD5 never waited).
    pub md5_busy_pct: Option<f64>,
}

/// Run the benchmark; returns its records.
pub fn run(args: &ObjectBenchArgs) -> anyhow::Result<Vec<ObjectRecord>> {
    let mut args = args.clone();
    if args.quick {
        args.sizes = vec![4 << 10, 1 << 20];
        args.bytes_per_size = 16 << 20;
        args.min_objects = 16;
        args.max_objects = 64;
    }
    if args.io.contains(&BackendKind::Sim) {
        bail!("bench object measures a real disk; --io sim is not one (use std, uring or mmap)");
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if let Some(&n) = args.missing_disks.iter().find(|&&n| n > args.m) {
        bail!(
            "--missing-disks {n} is more than M = {}: no GET could succeed",
            args.m
        );
    }
    args.missing_disks.sort_unstable();
    args.missing_disks.dedup();
    if args.missing_disks.is_empty() {
        args.missing_disks.push(0);
    }
    if args.read_io.is_empty() {
        args.read_io.push(ReadIo::Direct);
    }
    let (dir, ours) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::current_dir()?.join(format!("seedbed-bench-object-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the benchmark directory {}", dir.display()))?;
    let result = run_in(&args, &dir);
    if ours {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let records = result?;
    print_table(&records);
    if let Some(path) = &args.json {
        write_json(path, &records)?;
        println!("results: {}", path.display());
    }
    Ok(records)
}

fn run_in(args: &ObjectBenchArgs, dir: &Path) -> anyhow::Result<Vec<ObjectRecord>> {
    let mut records = Vec::new();
    let md5 = md5_speed();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let streams = args.concurrency.min(cores);
    println!(
        "cpu: MD5 {md5:.0} MB/s on one core — a PUT's ETag is one MD5 chain, so no single PUT \
         can go faster; {} PUT(s) at once on {cores} core(s): MD5 limit {:.0} MB/s",
        args.concurrency,
        md5 * streams as f64
    );
    for &backend in &args.io {
        let fs = io::open_backend(backend)?;
        let device = if args.no_device {
            None
        } else {
            Some(device_sequential(backend, dir, args.quick)?)
        };
        for &size in &args.sizes {
            if args.breakdown {
                crate::bench::object_breakdown::print(fs.clone(), args, dir, size)?;
            }
            let root = dir.join(format!("store-{backend}-{size}"));
            let (put, gets, stats) = run_size(args, fs.clone(), &root, size)?;
            if stats.puts > 0 {
                print_pipeline(size, &stats);
            }
            if !args.keep {
                let _ = std::fs::remove_dir_all(&root);
            }
            let width = (args.k + args.m) as f64;
            let mk = |op: &str,
                      h: &Histogram,
                      secs: f64,
                      limit: Option<f64>,
                      missing: usize,
                      read_io: Option<String>| ObjectRecord {
                backend: backend.to_string(),
                op: op.into(),
                object_bytes: size,
                k: args.k,
                m: args.m,
                sync: args.sync,
                concurrency: args.concurrency,
                missing_disks: missing,
                sse: args.sse.name().into(),
                read_io,
                objects: h.count(),
                secs,
                goodput_mb_per_s: (h.count() * size) as f64 / secs / 1e6,
                ops_per_s: h.count() as f64 / secs,
                p50_us: h.quantile_us(0.5),
                p99_us: h.quantile_us(0.99),
                p999_us: h.quantile_us(0.999),
                device_limit_mb_per_s: limit,
                md5_limit_mb_per_s: (op == "put").then_some(md5 * streams as f64),
                md5_busy_pct: (op == "put" && stats.puts > 0)
                    .then(|| 100.0 * stats.md5.as_secs_f64() / stats.wall.as_secs_f64()),
            };
            records.push(mk(
                "put",
                &put.0,
                put.1,
                device.map(|d| d.write_mb_per_s * args.k as f64 / width),
                0,
                None,
            ));
            for g in gets {
                records.push(mk(
                    "get",
                    &g.timed.0,
                    g.timed.1,
                    device.map(|d| d.read_mb_per_s),
                    g.missing,
                    Some(g.read_io),
                ));
            }
        }
    }
    Ok(records)
}

/// MD5 throughput on one core, MB/s: the best of three passes over 32 MiB.
fn md5_speed() -> f64 {
    use md5::{Digest, Md5};
    let data: Vec<u8> = (0..32u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    (0..3)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(Md5::digest(&data));
            data.len() as f64 / t.elapsed().as_secs_f64() / 1e6
        })
        .fold(0.0, f64::max)
}

/// The device's sequential bandwidth through `backend`, from `bench io`'s own cases.
#[derive(Clone, Copy, Debug)]
struct Device {
    write_mb_per_s: f64,
    read_mb_per_s: f64,
}

fn device_sequential(backend: BackendKind, dir: &Path, quick: bool) -> anyhow::Result<Device> {
    println!("device: sequential 1 MiB writes and reads through {backend} (bench io)");
    std::fs::create_dir_all(dir.join("device"))
        .with_context(|| format!("cannot create {}", dir.join("device").display()))?;
    let records = crate::bench::io::run(&IoArgs {
        io: Some(vec![backend]),
        dir: Some(dir.join("device")),
        size: Some(if quick { 64 << 20 } else { 1 << 30 }),
        runtime_secs: Some(if quick { 0.5 } else { 3.0 }),
        cases: Some(vec!["seqwrite-qd1".into(), "seqread-qd1".into()]),
        ..IoArgs::default()
    })?;
    let _ = std::fs::remove_dir_all(dir.join("device"));
    let find = |case: &str| {
        records
            .iter()
            .find(|r| r.case == case)
            .map(|r| r.mb_per_s)
            .with_context(|| format!("bench io did not report {case}"))
    };
    Ok(Device {
        write_mb_per_s: find("seqwrite")?,
        read_mb_per_s: find("seqread")?,
    })
}

type Timed = (Histogram, f64);

/// One pass of GETs over every object.
struct GetPass {
    missing: usize,
    read_io: String,
    timed: Timed,
}

fn run_size(
    args: &ObjectBenchArgs,
    fs: io::FsHandle,
    root: &Path,
    size: u64,
) -> anyhow::Result<(Timed, Vec<GetPass>, PipelineStats)> {
    let count = (args.bytes_per_size / size.max(1))
        .max(args.min_objects)
        .min(args.max_objects.max(1));
    let clock = Arc::new(RealClock::new());
    // The metadata as `seedbed object` keeps it: a copy on every disk.
    let disks: Vec<PathBuf> = (0..args.k + args.m)
        .map(|i| root.join(format!("disk{i}")))
        .collect();
    let layout =
        Layout::new(args.k, args.m, args.shard_size, disks.clone()).map_err(anyhow::Error::msg)?;
    let (meta, _) = lsm_meta::open_replicated(
        fs.clone(),
        root,
        &layout,
        lsm_meta::metadata_options(),
        clock.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    let store = ObjectStore::create(
        fs,
        root,
        args.k,
        args.m,
        args.shard_size,
        Some(disks),
        meta,
        clock,
        DetRng::new(size),
        StoreOptions {
            sync: args.sync,
            ..StoreOptions::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .create_bucket("bench")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut data = vec![0u8; size as usize];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i as u64).wrapping_mul(0x9E37_79B9) as u8;
    }
    let passes = (args.missing_disks.len() * args.read_io.len()) as u64;
    let bar = progress(count * (1 + passes), &human_bytes(size));
    let key = |i: u64| format!("obj-{i:08}");
    let (put_opts, get_opts) = args.sse.options()?;
    let put = in_parallel(args.concurrency, count, |i| {
        store
            .put_object("bench", &key(i), &mut data.as_slice(), size, &put_opts)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.inc(1);
        Ok(())
    })?;
    let stats = store.blobs().pipeline_stats();
    let mut gets = Vec::new();
    let mut removed = 0;
    for &missing in &args.missing_disks {
        // Sorted, at most M: each count removes the next directories (data shards first).
        for d in &store.layout().disks[removed..missing] {
            std::fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
        }
        removed = missing;
        for &mode in &args.read_io {
            store.blobs().set_direct_reads(mode == ReadIo::Direct);
            evict_from_page_cache(root)?;
            let timed = in_parallel(args.concurrency, count, |i| {
                store
                    .open_object("bench", &key(i), &get_opts)
                    .and_then(|r| r.read_to(&mut std::io::sink()))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                bar.inc(1);
                Ok(())
            })?;
            let read_io = match (mode, store.blobs().direct_reads()) {
                (ReadIo::Direct, true) => "direct",
                (ReadIo::Direct, false) => "cached (no O_DIRECT here)",
                (ReadIo::Cached, _) => "cached",
            };
            gets.push(GetPass {
                missing,
                read_io: read_io.into(),
                timed,
            });
        }
    }
    bar.finish_and_clear();
    Ok((put, gets, stats))
}

/// Run `op(i)` for `i` in `0..count` on `threads` threads (thread `t` takes every `threads`-th
/// `i` from `t`), timing each call. Returns the merged latencies and the wall time.
fn in_parallel(
    threads: usize,
    count: u64,
    op: impl Fn(u64) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<Timed> {
    let start = Instant::now();
    let hists: Vec<anyhow::Result<Histogram>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let op = &op;
                scope.spawn(move || {
                    let mut h = Histogram::default();
                    let mut i = t;
                    while i < count {
                        let at = Instant::now();
                        op(i)?;
                        h.record(at.elapsed().as_nanos() as u64);
                        i += threads as u64;
                    }
                    Ok(h)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread does not panic"))
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut all = Histogram::default();
    for h in hists {
        all.merge(&h?);
    }
    Ok((all, secs))
}

/// Where the pipelined PUTs' time went, per PUT.
fn print_pipeline(size: u64, s: &PipelineStats) {
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e3 / s.puts as f64;
    println!(
        "pipeline, {} PUT, ms per PUT (threads overlap): wall {:.1} | MD5 thread {:.1} ({:.0}% busy, \
         {:.1} on CPU) | reader ({:.1} on CPU): read {:.1}, SHA-256 {:.1}, encrypt {:.1}, parity {:.1}, \
         CRC+trailer {:.1}, waiting {:.1} | I/O thread ({:.1} on CPU): writes {:.1} | syncs {:.1}",
        human_bytes(size),
        per(s.wall),
        per(s.md5),
        100.0 * s.md5.as_secs_f64() / s.wall.as_secs_f64(),
        per(s.md5_cpu),
        per(s.read_cpu),
        per(s.read),
        per(s.sha256),
        per(s.seal),
        per(s.encode),
        per(s.crc),
        per(s.wait),
        per(s.write_cpu),
        per(s.write),
        per(s.sync),
    );
}

/// Write back and drop every file under `dir` from the page cache, so reads go to the device.
fn evict_from_page_cache(dir: &Path) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let mut stack = vec![dir.to_path_buf()];
    // Bounded by the number of directories under `dir`.
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let f = std::fs::File::open(&path)?;
                f.sync_data()?;
                // SAFETY: a valid open descriptor; DONTNEED only drops clean cached pages.
                unsafe {
                    libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
                }
            }
        }
    }
    Ok(())
}

fn print_table(records: &[ObjectRecord]) {
    println!(
        "{:<6} {:<4} {:<6} {:>4} {:>8} {:>5} {:>3} {:>7} {:>10} {:>9} {:>10} {:>10} {:>10}  {:>14}  {:>12}",
        "io",
        "op",
        "read",
        "miss",
        "size",
        "K+M",
        "C",
        "objects",
        "MB/s",
        "ops/s",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "device limit",
        "MD5 limit"
    );
    for r in records {
        let pct = |l: Option<f64>| {
            l.map(|l| format!("{l:.0} ({:.0}%)", 100.0 * r.goodput_mb_per_s / l))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "{:<6} {:<4} {:<6} {:>4} {:>8} {:>5} {:>3} {:>7} {:>10.1} {:>9.0} {:>10.0} {:>10.0} {:>10.0}  {:>14}  {:>12}",
            r.backend,
            r.op,
            r.read_io.as_deref().map_or("-", |s| s.split(' ').next().unwrap_or(s)),
            r.missing_disks,
            human_bytes(r.object_bytes),
            format!("{}+{}", r.k, r.m),
            r.concurrency,
            r.objects,
            r.goodput_mb_per_s,
            r.ops_per_s,
            r.p50_us,
            r.p99_us,
            r.p999_us,
            pct(r.device_limit_mb_per_s),
            pct(r.md5_limit_mb_per_s)
        );
    }
    if records.iter().any(|r| !r.sync) {
        println!("(sync off: PUTs were acknowledged before reaching the disk)");
    }
    if let Some(r) = records.iter().find(|r| r.sse != "none") {
        println!(
            "(server-side encryption: every object {}; the MD5 limit is the plaintext's MD5, which an \
             encrypted PUT computes beside the encryption)",
            r.sse
        );
    }
    if records.iter().any(|r| r.missing_disks > 0) {
        println!(
            "(miss: shard directories removed before those GETs, data shards first: every \
             stripe rebuilt from parity)"
        );
    }
    if records
        .iter()
        .any(|r| r.read_io.as_deref() == Some("cached (no O_DIRECT here)"))
    {
        println!(
            "(direct reads were asked for, but this file system refuses O_DIRECT: those GETs \
             read through the page cache)"
        );
    }
}

fn write_json(path: &Path, records: &[ObjectRecord]) -> anyhow::Result<()> {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
