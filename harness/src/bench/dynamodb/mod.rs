//! `seedbed bench dynamodb`: YCSB A–F against a DynamoDB table, through the in-process table API
//! (`engine`), through DynamoDB's JSON protocol in process (`json`), and through an HTTP
//! endpoint (`http`, `--endpoint`), at several client concurrencies, with p50 / p99 / p99.9
//! latencies. Rounds interleave the targets so a noisy machine hurts them alike; the report
//! gives, per workload and concurrency, each target's ops/s and its ratio to `engine`.
//!
//! ```sh
//! seedbed bench dynamodb --records 20000 --ops 20000 --concurrency 1,8,32
//! seedbed serve --dynamodb-addr 127.0.0.1:8000 ... &
//! seedbed bench dynamodb --endpoint http://127.0.0.1:8000 --concurrency 32 --json
//! ```

pub mod client;
pub mod ycsb;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::rng::DetRng;
use seedbed_engine::table::Tables;

use super::io::histogram::Histogram;
use client::{Credentials, Engine, Http, Json, Store};
use ycsb::{Op, Workload};

/// Options of `seedbed bench dynamodb`.
#[derive(Debug, Clone, clap::Args)]
pub struct DynamoBenchArgs {
    /// An HTTP endpoint to measure (http://HOST:PORT); adds the `http` target.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Targets, comma-separated: engine (in-process API), json (JSON protocol in process),
    /// http (the endpoint). Default: engine,json, plus http with --endpoint.
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Records loaded before the workloads.
    #[arg(long, default_value_t = 10_000)]
    pub records: u64,
    /// Operations per (workload, concurrency, target, round).
    #[arg(long, default_value_t = 20_000)]
    pub ops: u64,
    /// Workloads, comma-separated, from a b c d e f.
    #[arg(long, value_delimiter = ',', default_value = "a,b,c,d,e,f")]
    pub workloads: Vec<char>,
    /// Client threads, comma-separated (each 1..=64).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub concurrency: Vec<u64>,
    /// Bytes per record, in ten fields.
    #[arg(long, default_value_t = 1000)]
    pub value_size: usize,
    /// Rounds; targets take turns within each round.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Directory for the in-process database (a temporary one if absent).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// WAL sync policy of the in-process database (match the server's for a fair ratio).
    #[arg(long, default_value = "never")]
    pub sync: SyncPolicy,
    /// Access key for signing HTTP requests (default: $AWS_ACCESS_KEY_ID; unsigned if unset).
    #[arg(long)]
    pub access_key: Option<String>,
    /// Secret key (default: $AWS_SECRET_ACCESS_KEY).
    #[arg(long)]
    pub secret_key: Option<String>,
    /// Region in signatures.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Seed of the operation streams.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct DynamoResult {
    /// `engine`, `json` or `http`.
    pub target: String,
    /// YCSB workload letter.
    pub workload: String,
    /// Client threads.
    pub concurrency: u64,
    /// Round number.
    pub round: u32,
    /// Operations done.
    pub ops: u64,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Median latency, microseconds.
    pub latency_us_p50: f64,
    /// 99th percentile, microseconds.
    pub latency_us_p99: f64,
    /// 99.9th percentile, microseconds.
    pub latency_us_p999: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct DynamoReport {
    /// Settings.
    pub settings: serde_json::Value,
    /// Every measurement.
    pub results: Vec<DynamoResult>,
    /// Per (workload, concurrency, target): median ops/s over rounds and its ratio to engine.
    pub summary: Vec<serde_json::Value>,
    /// Peak resident memory of this process, MiB.
    pub peak_rss_mib: f64,
}

fn fields(rng: &mut DetRng, value_size: usize) -> Vec<String> {
    let per = (value_size / 10).max(1);
    (0..10)
        .map(|_| {
            (0..per)
                .map(|_| (b'a' + rng.below(26) as u8) as char)
                .collect()
        })
        .collect()
}

fn run_one(
    store: &mut dyn Store,
    w: &mut Workload,
    ops: u64,
    value_size: usize,
    rng: &mut DetRng,
    h: &mut Histogram,
) -> Result<()> {
    for _ in 0..ops {
        let op = w.next_op();
        let t = Instant::now();
        match op {
            Op::Read(n) => {
                store.get(n)?;
            }
            Op::Update(n) => {
                let v = fields(rng, 10).remove(0);
                store.update(n, rng.below(10) as usize, &v)?;
            }
            Op::Insert(n) => store.put(n, &fields(rng, value_size))?,
            Op::Scan(n, len) => {
                store.scan(n, len)?;
            }
            Op::ReadModifyWrite(n) => {
                store.get(n)?;
                store.put(n, &fields(rng, value_size))?;
            }
        }
        h.record(t.elapsed().as_nanos() as u64);
    }
    Ok(())
}

fn make_store(
    target: &str,
    tables: &Option<Arc<Tables>>,
    args: &DynamoBenchArgs,
    creds: &Option<Credentials>,
) -> Result<Box<dyn Store>> {
    Ok(match target {
        "engine" => Box::new(Engine(tables.clone().context("no in-process tables")?)),
        "json" => Box::new(Json(tables.clone().context("no in-process tables")?)),
        "http" => Box::new(Http::connect(
            args.endpoint.as_deref().context("http needs --endpoint")?,
            creds.clone(),
        )?),
        other => bail!("unknown target '{other}': expected engine, json or http"),
    })
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Run the benchmark.
pub fn run(args: &DynamoBenchArgs) -> Result<DynamoReport> {
    let mut targets = args.targets.clone();
    if targets.is_empty() {
        targets = vec!["engine".into(), "json".into()];
        if args.endpoint.is_some() {
            targets.push("http".into());
        }
    }
    for c in &args.concurrency {
        if !(1..=64).contains(c) {
            bail!("concurrency {c} outside 1..=64");
        }
    }
    for w in &args.workloads {
        if !('a'..='f').contains(w) {
            bail!("unknown workload '{w}': expected a..f");
        }
    }
    if args.records < 2 {
        bail!("--records must be at least 2");
    }
    let creds = match (
        args.access_key
            .clone()
            .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok()),
        args.secret_key
            .clone()
            .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok()),
    ) {
        (Some(a), Some(s)) => Some(Credentials {
            access_key: a,
            secret: s,
            region: args.region.clone(),
        }),
        _ => None,
    };
    let in_process = targets.iter().any(|t| t == "engine" || t == "json");
    let tmp;
    let tables = if in_process {
        let dir = match &args.dir {
            Some(d) => d.clone(),
            None => {
                tmp = tempfile::Builder::new()
                    .prefix("seedbed-bench-dynamodb-")
                    .tempdir()?;
                tmp.path().to_path_buf()
            }
        };
        let clock: ClockHandle = Arc::new(RealClock::new());
        let opts = Options {
            sync: args.sync,
            ..Options::default()
        };
        let db = Db::open(Arc::new(PosixFs::new()), &dir, opts, clock.clone())?;
        let t = Arc::new(Tables::open(Arc::new(db), clock)?);
        let create = seedbed_dynamo::parse::request("CreateTable", &client::create_table_body())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match t.execute(&create) {
            Ok(_) => {}
            Err(e) if e.kind == seedbed_engine::table::ErrorKind::ResourceInUse => {}
            Err(e) => return Err(e.into()),
        }
        Some(t)
    } else {
        None
    };
    let mut rng = DetRng::new(args.seed).fork("load");
    // Load: every target's store gets the same records.
    if let Some(t) = &tables {
        let mut e = Engine(t.clone());
        for n in 0..args.records {
            e.put(n, &fields(&mut rng, args.value_size))?;
        }
    }
    if targets.iter().any(|t| t == "http") {
        let mut h = Http::connect(
            args.endpoint.as_deref().context("http needs --endpoint")?,
            creds.clone(),
        )?;
        if let Err(e) = h.call("CreateTable", &client::create_table_body()) {
            if !e.to_string().contains("ResourceInUseException") {
                return Err(e);
            }
        }
        let mut rng = DetRng::new(args.seed).fork("load");
        for n in 0..args.records {
            h.put(n, &fields(&mut rng, args.value_size))?;
        }
    }
    let mut results = Vec::new();
    for round in 0..args.rounds {
        for &w in &args.workloads {
            for &c in &args.concurrency {
                for target in &targets {
                    let per_thread = args.ops.div_ceil(c);
                    let started = Instant::now();
                    let hists: Vec<Result<Histogram>> = std::thread::scope(|s| {
                        let handles: Vec<_> = (0..c)
                            .map(|i| {
                                let tables = &tables;
                                let creds = &creds;
                                let target = target.as_str();
                                s.spawn(move || -> Result<Histogram> {
                                    let mut store = make_store(target, tables, args, creds)?;
                                    let mut wl = Workload::new(
                                        w,
                                        args.records,
                                        i,
                                        c,
                                        args.seed ^ u64::from(round),
                                    );
                                    let mut rng =
                                        DetRng::new(args.seed).fork(&format!("values-{i}"));
                                    let mut h = Histogram::default();
                                    run_one(
                                        store.as_mut(),
                                        &mut wl,
                                        per_thread,
                                        args.value_size,
                                        &mut rng,
                                        &mut h,
                                    )?;
                                    Ok(h)
                                })
                            })
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| {
                                h.join().unwrap_or_else(|_| {
                                    Err(anyhow::anyhow!("client thread panicked"))
                                })
                            })
                            .collect()
                    });
                    let secs = started.elapsed().as_secs_f64();
                    let mut h = Histogram::default();
                    for x in hists {
                        h.merge(&x?);
                    }
                    let r = DynamoResult {
                        target: target.clone(),
                        workload: w.to_string(),
                        concurrency: c,
                        round,
                        ops: h.count(),
                        ops_per_sec: h.count() as f64 / secs,
                        latency_us_p50: h.quantile_us(0.5),
                        latency_us_p99: h.quantile_us(0.99),
                        latency_us_p999: h.quantile_us(0.999),
                    };
                    if !args.json {
                        println!(
                            "round {round} workload {w} c={c:<2} {:<6} {:>10.0} ops/s  p50 {:>8.1} us  p99 {:>8.1} us  p99.9 {:>8.1} us",
                            r.target, r.ops_per_sec, r.latency_us_p50, r.latency_us_p99, r.latency_us_p999
                        );
                    }
                    results.push(r);
                }
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let mut summary = Vec::new();
    for &w in &args.workloads {
        for &c in &args.concurrency {
            let ops = |t: &str| {
                let mut v: Vec<f64> = results
                    .iter()
                    .filter(|r| r.target == t && r.workload == w.to_string() && r.concurrency == c)
                    .map(|r| r.ops_per_sec)
                    .collect();
                median(&mut v)
            };
            let base = ops("engine");
            for t in &targets {
                let o = ops(t);
                summary.push(serde_json::json!({
                    "workload": w.to_string(), "concurrency": c, "target": t,
                    "ops_per_sec_median": o,
                    "ratio_to_engine": if base > 0.0 { Some(o / base) } else { None },
                }));
            }
        }
    }
    let report = DynamoReport {
        settings: serde_json::json!({
            "records": args.records, "ops": args.ops, "value_size": args.value_size,
            "rounds": args.rounds, "sync": args.sync.to_string(), "targets": targets,
            "endpoint": args.endpoint, "signed": creds.is_some(),
        }),
        results,
        summary,
        peak_rss_mib: peak_rss_mib(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "\nmedian ops/s over {} round(s), ratio to engine:",
            args.rounds
        );
        for s in &report.summary {
            println!(
                "  {} c={:<2} {:<6} {:>10.0}  {}",
                s["workload"].as_str().unwrap_or(""),
                s["concurrency"],
                s["target"].as_str().unwrap_or(""),
                s["ops_per_sec_median"].as_f64().unwrap_or(0.0),
                s["ratio_to_engine"]
                    .as_f64()
                    .map(|r| format!("{:.0}%", r * 100.0))
                    .unwrap_or_default()
            );
        }
        println!("peak RSS {:.0} MiB", report.peak_rss_mib);
    }
    Ok(report)
}
