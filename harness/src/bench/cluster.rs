//! `seedbed bench cluster`: what replication costs on a real disk. Throughput and
//! p50/p99/p99.9 latency of quorum gets and puts for several (N, R, W), with each replica
//! syncing every write (`--sync always`) or a group per event-loop turn (`--sync group`), at
//! several client counts; beside them, in the same run, the node's own LSM with the same sync
//! policy and no network, the baseline each cluster figure is divided by.
//!
//! ```text
//! seedbed bench cluster                                   # about a minute
//! seedbed bench cluster --configs 3/2/2 --sync group --concurrency 64 --secs 5 --json c.jsonl
//! ```
//!
//! **A cell** is one (target, sync, op, concurrency): `concurrency` client threads, each with
//! one connection to one node (client i talks to node i mod nodes, so every node coordinates),
//! each running one operation at a time for `--secs`. Keys are uniform over `--keys`, all
//! written before the first cell, so a get finds its key; every put writes a new value. An
//! operation answered `Failed`/`Busy`, or not answered, is an error and not in the latency.
//!
//! **The baseline** is the same LSM a replica runs (`store::lsm_options()`: 8 KiB memtables;
//! but flushes and compactions on the LSM's background thread, where the node runs one step
//! after each write on its event loop) on the same disk, called from
//! the client threads directly: `always` = every write syncs on its own (writers take turns,
//! one `fdatasync` each, as a node's single event loop does); `group` = concurrent writers
//! share a sync through the LSM's write queue (LevelDB's leader/follower group), each
//! returning only once the sync that covers it is done — durable before acknowledged, like the
//! node's group commit. Values are the node's encoding of one version (a vector clock and a
//! u64), so records are the size a replica writes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use serde::Serialize;

use seedbed_cluster::admin::{self, UpOptions};
use seedbed_cluster::client::{status_of, Client};
use seedbed_cluster::config::{ClusterConfig, NODES_MAX};
use seedbed_cluster::disk::RootedFs;
use seedbed_cluster::testrun::NodesGuard;
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::io::BackendKind;
use seedbed_engine::lsm::{Db, MaintenanceMode, WriteBatch, WriteOptions};
use seedbed_engine::rng::DetRng;
use seedbed_server::bench::workload::Percentiles;
use seedbed_sim::workloads::quorum::msg::{Op, Reply};
use seedbed_sim::workloads::quorum::store;
use seedbed_sim::workloads::quorum::vclock::VClock;
use seedbed_sim::workloads::quorum::version::{Siblings, Version};

/// Options of `seedbed bench cluster`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterBenchArgs {
    /// Quorum settings to measure, N/R/W each (a cluster of N nodes per setting).
    #[arg(long, value_delimiter = ',', default_value = "1/1/1,3/2/2,3/1/3,5/3/3")]
    pub configs: Vec<String>,
    /// Sync policies: always (each replica write syncs before its acknowledgement) and/or
    /// group (one sync per event-loop turn, acknowledgements after it).
    #[arg(long, value_delimiter = ',', default_value = "always,group")]
    pub sync: Vec<String>,
    /// Client counts (each client runs one operation at a time).
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub concurrency: Vec<usize>,
    /// Seconds per cell (a cell: one target, sync policy, operation and client count).
    #[arg(long, default_value_t = 0.5)]
    pub secs: f64,
    /// Key space (all written before the first cell).
    #[arg(long, default_value_t = 256)]
    pub keys: u32,
    /// Disk backend of every node and of the baseline: std or uring.
    #[arg(long, default_value = "std")]
    pub io: String,
    /// Where the clusters and the baseline keep their disks (default: a new directory in the
    /// current one — on the real disk, not a tmpfs — removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write one JSON record per cell (JSON lines) to this file, for `seedbed report`.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One measured cell.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterBenchRecord {
    /// Always `bench-cluster`, so that `seedbed report` knows the record.
    pub kind: &'static str,
    /// `cluster`, or `lsm` for the baseline.
    pub target: &'static str,
    /// Node processes (1 for the baseline).
    pub nodes: u32,
    /// Replicas per key (1 for the baseline).
    pub n: u32,
    /// Read quorum.
    pub r: u32,
    /// Write quorum.
    pub w: u32,
    /// `always` or `group`.
    pub sync: String,
    /// `std` or `uring`.
    pub io: String,
    /// `get` or `put`.
    pub op: &'static str,
    /// Clients.
    pub concurrency: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Operations answered successfully.
    pub ops: u64,
    /// Operations that failed or got no answer.
    pub errors: u64,
    /// Successful operations per second.
    pub ops_per_s: f64,
    /// Latency of the successful operations.
    pub latency_ms: Percentiles,
    /// Puts with `sync=group`: store writes per WAL sync over all nodes (the batching the
    /// group commit achieved); 1.0 is no batching.
    pub writes_per_sync: Option<f64>,
    /// Cluster cells: ops/s divided by the baseline's for the same sync, op and clients.
    pub vs_lsm_throughput: Option<f64>,
    /// Cluster cells: p50 divided by the baseline's.
    pub vs_lsm_p50: Option<f64>,
}

/// One (N, R, W).
#[derive(Clone, Copy, Debug)]
struct Nrw {
    n: u32,
    r: u32,
    w: u32,
}

fn parse_config(s: &str) -> anyhow::Result<Nrw> {
    let parts: Vec<Option<u32>> = s.trim().split('/').map(|x| x.parse().ok()).collect();
    let [Some(n), Some(r), Some(w)] = parts.as_slice() else {
        bail!("--configs '{s}': expected N/R/W like 3/2/2");
    };
    let (n, r, w) = (*n, *r, *w);
    ensure!(
        (1..=NODES_MAX).contains(&n),
        "--configs '{s}': N must be in 1..={NODES_MAX}"
    );
    ensure!(
        (1..=n).contains(&r) && (1..=n).contains(&w),
        "--configs '{s}': R and W must be in 1..=N"
    );
    Ok(Nrw { n, r, w })
}

/// What the client threads of a cell share.
struct Cell {
    stop: AtomicBool,
    /// Successful operations' latencies, nanoseconds (an in-process get takes well under a
    /// microsecond).
    lat_ns: Mutex<Vec<u64>>,
    ok: AtomicU64,
    errors: AtomicU64,
    /// The first error, to print.
    first_error: Mutex<Option<String>>,
}

impl Cell {
    fn new() -> Arc<Cell> {
        Arc::new(Cell {
            stop: AtomicBool::new(false),
            lat_ns: Mutex::new(Vec::new()),
            ok: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
        })
    }

    fn error(&self, what: impl FnOnce() -> String) {
        if self.errors.fetch_add(1, Ordering::Relaxed) == 0 {
            *self.first_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(what());
        }
    }

    /// Run `clients` threads of `body(client, cell)` for `secs`; each thread records its own
    /// latencies and hands them over at the end.
    fn run(
        clients: usize,
        secs: f64,
        body: impl Fn(usize, &Cell, &mut Vec<u64>) + Send + Sync + 'static,
    ) -> (f64, u64, u64, Percentiles, Option<String>) {
        let cell = Cell::new();
        let body = Arc::new(body);
        let start = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|i| {
                let (cell, body) = (Arc::clone(&cell), Arc::clone(&body));
                std::thread::spawn(move || {
                    let mut mine = Vec::with_capacity(4096);
                    body(i, &cell, &mut mine);
                    cell.lat_ns
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(mine);
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        cell.stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
        let elapsed = start.elapsed().as_secs_f64();
        let mut lat = std::mem::take(&mut *cell.lat_ns.lock().unwrap_or_else(|e| e.into_inner()));
        let first_error = cell
            .first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        (
            elapsed,
            cell.ok.load(Ordering::Relaxed),
            cell.errors.load(Ordering::Relaxed),
            percentiles(&mut lat),
            first_error,
        )
    }
}

fn nanos(t: Instant) -> u64 {
    t.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64
}

/// Percentiles (milliseconds) of samples in nanoseconds.
fn percentiles(ns: &mut [u64]) -> Percentiles {
    if ns.is_empty() {
        return Percentiles::default();
    }
    ns.sort_unstable();
    let at = |q: f64| {
        let i = ((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1;
        ns[i] as f64 / 1e6
    };
    Percentiles {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        p999: at(0.999),
        mean: ns.iter().map(|&x| x as f64).sum::<f64>() / ns.len() as f64 / 1e6,
        max: *ns.last().expect("non-empty") as f64 / 1e6,
    }
}

/// A put's value: unique per client and operation.
fn unique(client: usize, i: u64) -> u64 {
    ((client as u64) << 40 | i) + 1
}

/// The baseline's stored record for `key`: one version, as a replica encodes it.
fn encoded(value: u64, buf: &mut Vec<u8>) {
    let mut clock = VClock::default();
    clock.tick(0, value, value);
    let s = Siblings::one(Version {
        clock,
        ts_ns: value,
        writer: 0,
        value: Some(value),
    });
    s.encode(buf);
}

fn lsm_key(key: u32) -> [u8; 5] {
    let mut k = [b'd', 0, 0, 0, 0];
    k[1..].copy_from_slice(&key.to_be_bytes());
    k
}

/// The baseline: the replica's LSM in this process.
struct Baseline {
    db: Arc<Db>,
    /// `always`: writers take turns, one sync each.
    turn: Arc<Mutex<()>>,
    group: bool,
}

impl Baseline {
    fn open(kind: BackendKind, dir: &Path, group: bool) -> anyhow::Result<Baseline> {
        let fs = RootedFs::open(kind, dir).with_context(|| format!("{}", dir.display()))?;
        let clock: ClockHandle = Arc::new(RealClock::new());
        // The replica's options, but flushes and compactions on the LSM's background thread:
        // the node runs one step after each write on its event loop, which with many client
        // threads here would race (a stalled writer finds the step taken by another).
        let mut o = store::lsm_options();
        o.maintenance = MaintenanceMode::Background;
        let db = Db::open(fs, Path::new(store::DIR), o, clock)
            .with_context(|| format!("opening the baseline LSM in {}", dir.display()))?;
        Ok(Baseline {
            db: Arc::new(db),
            turn: Arc::new(Mutex::new(())),
            group,
        })
    }

    fn put(&self, key: u32, value: u64, buf: &mut Vec<u8>) -> Result<(), String> {
        encoded(value, buf);
        let mut batch = WriteBatch::with_capacity(buf.len() + 16);
        batch.put(&lsm_key(key), buf);
        let wo = WriteOptions { sync: Some(true) };
        let res = if self.group {
            self.db.write(batch, wo)
        } else {
            let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
            self.db.write(batch, wo)
        };
        res.map_err(|e| format!("write: {e}"))
    }

    fn cell(&self, op: &'static str, clients: usize, secs: f64, keys: u32) -> CellResult {
        let me = Baseline {
            db: Arc::clone(&self.db),
            turn: Arc::clone(&self.turn),
            group: self.group,
        };
        let (secs, ok, errors, lat, first_error) =
            Cell::run(clients, secs, move |c, cell, mine| {
                let mut rng = DetRng::new(c as u64 + 1);
                let mut buf = Vec::with_capacity(128);
                let mut i = 0u64;
                while !cell.stop.load(Ordering::Relaxed) {
                    let key = rng.below(u64::from(keys)) as u32;
                    let t = Instant::now();
                    let res = match op {
                        "put" => {
                            i += 1;
                            me.put(key, unique(c, i), &mut buf)
                        }
                        _ => me
                            .db
                            .get(&lsm_key(key))
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                    };
                    match res {
                        Ok(()) => {
                            mine.push(nanos(t));
                            cell.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => cell.error(|| e),
                    }
                }
            });
        CellResult {
            secs,
            ok,
            errors,
            lat,
            first_error,
        }
    }
}

struct CellResult {
    secs: f64,
    ok: u64,
    errors: u64,
    lat: Percentiles,
    first_error: Option<String>,
}

/// Client cell against a running cluster: client `c` talks to node `c % nodes`.
fn cluster_cell(
    cfg: &ClusterConfig,
    op: &'static str,
    clients: usize,
    secs: f64,
    keys: u32,
) -> CellResult {
    let addrs: Vec<_> = (0..cfg.nodes()).map(|i| cfg.addr(i)).collect();
    let (secs, ok, errors, lat, first_error) = Cell::run(clients, secs, move |c, cell, mine| {
        let addr = addrs[c % addrs.len()];
        let mut rng = DetRng::new(c as u64 + 1);
        let mut conn: Option<Client> = None;
        let mut i = 0u64;
        while !cell.stop.load(Ordering::Relaxed) {
            if conn.is_none() {
                match Client::connect(addr, Duration::from_secs(5)) {
                    Ok(k) => conn = Some(k),
                    Err(e) => {
                        cell.error(|| e.to_string());
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                }
            }
            let key = rng.below(u64::from(keys)) as u32;
            let o = match op {
                "put" => {
                    i += 1;
                    Op::Put {
                        key,
                        value: unique(c, i),
                    }
                }
                _ => Op::Get { key, all: false },
            };
            let t = Instant::now();
            match conn.as_mut().expect("connected").op(o) {
                Ok(Reply::Written(..) | Reply::Got(..)) => {
                    mine.push(nanos(t));
                    cell.ok.fetch_add(1, Ordering::Relaxed);
                }
                Ok(other) => cell.error(|| format!("answered {other:?}")),
                Err(e) => {
                    cell.error(|| e.to_string());
                    conn = None;
                }
            }
        }
    });
    CellResult {
        secs,
        ok,
        errors,
        lat,
        first_error,
    }
}

/// (group syncs, group writes) summed over the running nodes.
fn group_counts(cfg: &ClusterConfig) -> (u64, u64) {
    (0..cfg.nodes())
        .filter_map(|i| status_of(cfg.addr(i), Duration::from_secs(2)).ok())
        .fold((0, 0), |(s, w), st| {
            (s + st.group_syncs, w + st.group_writes)
        })
}

/// Write every key once, `clients` at a time, so gets find them.
fn preload(keys: u32, clients: usize, put: impl Fn(usize, u32) + Send + Sync + 'static) {
    let next = Arc::new(AtomicU64::new(0));
    let put = Arc::new(put);
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (next, put) = (Arc::clone(&next), Arc::clone(&put));
            std::thread::spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= u64::from(keys) {
                    break;
                }
                put(c, k as u32);
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    target: &'static str,
    nrw: Nrw,
    sync: &str,
    io: &str,
    op: &'static str,
    concurrency: usize,
    c: CellResult,
    writes_per_sync: Option<f64>,
) -> ClusterBenchRecord {
    ClusterBenchRecord {
        kind: "bench-cluster",
        target,
        nodes: nrw.n,
        n: nrw.n,
        r: nrw.r,
        w: nrw.w,
        sync: sync.to_string(),
        io: io.to_string(),
        op,
        concurrency,
        secs: c.secs,
        ops: c.ok,
        errors: c.errors,
        ops_per_s: c.ok as f64 / c.secs.max(1e-9),
        latency_ms: c.lat,
        writes_per_sync,
        vs_lsm_throughput: None,
        vs_lsm_p50: None,
    }
}

/// Run `seedbed bench cluster`.
pub fn run(args: &ClusterBenchArgs) -> anyhow::Result<Vec<ClusterBenchRecord>> {
    let configs: Vec<Nrw> = args
        .configs
        .iter()
        .map(|s| parse_config(s))
        .collect::<anyhow::Result<_>>()?;
    for s in &args.sync {
        ensure!(
            matches!(s.as_str(), "always" | "group"),
            "--sync {s}: expected always or group"
        );
    }
    ensure!(
        !configs.is_empty() && !args.sync.is_empty() && !args.concurrency.is_empty(),
        "--configs, --sync and --concurrency each need at least one value"
    );
    for &c in &args.concurrency {
        ensure!(
            (1..=256).contains(&c),
            "--concurrency {c}: expected 1..=256"
        );
    }
    ensure!(
        args.secs > 0.0 && args.secs <= 600.0,
        "--secs {}: expected a number in (0, 600]",
        args.secs
    );
    ensure!(
        (1..=1 << 20).contains(&args.keys),
        "--keys {}: expected 1..=1048576",
        args.keys
    );
    let kind: BackendKind = args
        .io
        .parse()
        .map_err(|e| anyhow::anyhow!("--io {}: {e}", args.io))?;
    ensure!(
        matches!(kind, BackendKind::Std | BackendKind::Uring),
        "--io {}: expected std or uring (a real disk)",
        args.io
    );
    let exe = std::env::current_exe().context("this program's path")?;
    let (root, remove_after) = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("{}", d.display()))?;
            (d.clone(), false)
        }
        None => (
            tempfile::Builder::new()
                .prefix("seedbed-bench-cluster-")
                .tempdir_in(".")
                .context("a directory for the clusters' disks")?
                .keep(),
            true,
        ),
    };
    let root = std::fs::canonicalize(&root)?;
    let result = measure(args, &configs, kind, &exe, &root);
    if remove_after {
        let _ = std::fs::remove_dir_all(&root);
    }
    let mut records = result?;
    // Ratios against the baseline of the same sync, op and clients.
    let base: Vec<ClusterBenchRecord> = records
        .iter()
        .filter(|r| r.target == "lsm")
        .cloned()
        .collect();
    for r in records.iter_mut().filter(|r| r.target == "cluster") {
        if let Some(b) = base
            .iter()
            .find(|b| b.sync == r.sync && b.op == r.op && b.concurrency == r.concurrency)
        {
            r.vs_lsm_throughput = Some(r.ops_per_s / b.ops_per_s.max(1e-9));
            r.vs_lsm_p50 = Some(r.latency_ms.p50 / b.latency_ms.p50.max(1e-6));
        }
    }
    print_table(&records);
    if let Some(path) = &args.json {
        let mut text = format!(
            "{}\n",
            serde_json::json!({"seedbed_meta": {"command": command_line()}})
        );
        for r in &records {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} records to {}", records.len(), path.display());
    }
    Ok(records)
}

fn command_line() -> String {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.insert(0, "seedbed".into());
    args.join(" ")
}

fn measure(
    args: &ClusterBenchArgs,
    configs: &[Nrw],
    kind: BackendKind,
    exe: &Path,
    root: &Path,
) -> anyhow::Result<Vec<ClusterBenchRecord>> {
    let mut records = Vec::new();
    let one = Nrw { n: 1, r: 1, w: 1 };
    for sync in &args.sync {
        let group = sync == "group";
        let dir = root.join(format!("lsm-{sync}"));
        let b = Baseline::open(kind, &dir, group)?;
        let db = Arc::clone(&b.db);
        preload(args.keys, 8, move |c, k| {
            let mut buf = Vec::new();
            encoded(unique(c, u64::from(k)), &mut buf);
            let mut batch = WriteBatch::new();
            batch.put(&lsm_key(k), &buf);
            let _ = db.write(batch, WriteOptions { sync: Some(false) });
        });
        b.db.sync_wal()?;
        for &c in &args.concurrency {
            for op in ["put", "get"] {
                let res = b.cell(op, c, args.secs, args.keys);
                let first = res.first_error.clone();
                let r = record("lsm", one, sync, &args.io, op, c, res, None);
                progress(&r, first.as_deref());
                records.push(r);
            }
        }
        b.db.close()?;
    }
    for &nrw in configs {
        for sync in &args.sync {
            let dir = root.join(format!("n{}r{}w{}-{sync}", nrw.n, nrw.r, nrw.w));
            std::fs::create_dir_all(&dir)?;
            let _guard = NodesGuard::new(&dir, nrw.n);
            let up = UpOptions {
                nodes: nrw.n,
                n: nrw.n,
                r: nrw.r,
                w: nrw.w,
                io: args.io.clone(),
                membership: "gossip".into(),
                vnodes: 8,
                timeout_ms: 1_000,
                bug: "none".into(),
                sloppy: true,
                sync: sync.clone(),
            };
            admin::up(&dir, exe, &up).map_err(|e| anyhow::anyhow!("cluster up: {e}"))?;
            let cfg = ClusterConfig::load(&dir).map_err(|e| anyhow::anyhow!(e))?;
            let addrs: Vec<_> = (0..cfg.nodes()).map(|i| cfg.addr(i)).collect();
            preload(args.keys, 8, move |c, k| {
                if let Ok(mut cl) = Client::connect(addrs[c % addrs.len()], Duration::from_secs(5))
                {
                    let _ = cl.op(Op::Put {
                        key: k,
                        value: unique(c, u64::from(k)),
                    });
                }
            });
            for &c in &args.concurrency {
                for op in ["put", "get"] {
                    let before = group_counts(&cfg);
                    let res = cluster_cell(&cfg, op, c, args.secs, args.keys);
                    let after = group_counts(&cfg);
                    let wps = (sync == "group" && op == "put" && after.0 > before.0).then(|| {
                        (after.1 - before.1.min(after.1)) as f64 / (after.0 - before.0) as f64
                    });
                    let first = res.first_error.clone();
                    let r = record("cluster", nrw, sync, &args.io, op, c, res, wps);
                    progress(&r, first.as_deref());
                    records.push(r);
                }
            }
            admin::down(&dir).map_err(|e| anyhow::anyhow!("cluster down: {e}"))?;
        }
    }
    Ok(records)
}

fn label(r: &ClusterBenchRecord) -> String {
    if r.target == "lsm" {
        format!("lsm {}", r.sync)
    } else {
        format!("{}/{}/{} {}", r.n, r.r, r.w, r.sync)
    }
}

fn progress(r: &ClusterBenchRecord, first_error: Option<&str>) {
    eprintln!(
        "  {:<14} {:<3} x{:<3} {:>9.0} ops/s  p50 {:.3} ms  p99 {:.3} ms  ({} errors{})",
        label(r),
        r.op,
        r.concurrency,
        r.ops_per_s,
        r.latency_ms.p50,
        r.latency_ms.p99,
        r.errors,
        first_error.map_or(String::new(), |e| format!("; the first: {e}"))
    );
}

fn ratio(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| {
        if v >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    })
}

fn print_table(records: &[ClusterBenchRecord]) {
    println!();
    println!(
        "{:<14} {:<4} {:>4} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>7}",
        "N/R/W sync",
        "op",
        "cli",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "÷lsm op/s",
        "÷lsm p50",
        "wr/sync"
    );
    for r in records {
        println!(
            "{:<14} {:<4} {:>4} {:>10.0} {:>9.4} {:>9.3} {:>9.3} {:>7} {:>8} {:>8} {:>7}",
            label(r),
            r.op,
            r.concurrency,
            r.ops_per_s,
            r.latency_ms.p50,
            r.latency_ms.p99,
            r.latency_ms.p999,
            r.errors,
            ratio(r.vs_lsm_throughput),
            ratio(r.vs_lsm_p50),
            r.writes_per_sync.map_or("-".into(), |v| format!("{v:.1}"))
        );
    }
    println!(
        "÷lsm: the cluster's figure divided by the node's own LSM (same sync policy, op and \
         clients, no network); wr/sync: store writes per WAL sync over all nodes (sync=group)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_keep_sub_microsecond_samples() {
        let mut v: Vec<u64> = (1..=1000).collect();
        let p = percentiles(&mut v);
        assert_eq!(p.p50, 500.0 / 1e6);
        assert_eq!(p.p999, 999.0 / 1e6);
        assert_eq!(p.max, 1000.0 / 1e6);
        assert_eq!(percentiles(&mut []).p50, 0.0);
    }

    #[test]
    fn configs_parse_and_bad_ones_are_named() {
        let c = parse_config("3/2/2").unwrap();
        assert_eq!((c.n, c.r, c.w), (3, 2, 2));
        for bad in ["3/2", "3/4/1", "0/1/1", "a/b/c", "3/0/1"] {
            let e = parse_config(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
