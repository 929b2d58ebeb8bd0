//! `seedbed` with no arguments: the tour. A short, bounded pass over everything the testbed
//! does, leaving a report behind:
//!
//! 1. the device probe (`bench io`, short) — what this disk can do, per I/O backend;
//! 2. the LSM engine (`bench lsm`, small) — fill, read and scan;
//! 3. the object store (`bench object`, small) — PUT/GET goodput beside the device;
//! 4. the S3 endpoint (`bench s3`, short) — `seedbed serve` started in-process on a free
//!    loopback port, PUTs and GETs through real HTTP with SigV4, stopped;
//! 5. IAM evaluation latency for 1, 10 and 100 statements;
//! 6. simulator sweeps, including a planted bug caught, shrunk, and its one-line repro;
//! 7. the report: `index.html` with one chart per result, in `--out`.
//!
//! Everything it writes goes under `--out` (default `./seedbed-report`); scratch data lives in
//! `--out/scratch` and is removed at the end, whatever happened.
//!
//! Each step is first *set up* ([`Plan`]: its arguments for the size, its directories made,
//! its inputs checked) and then run. `--dry-run` stops after the set-up, which is how the tests
//! cover every size — the full one included — without its long work.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::bench;

/// Options of the tour.
#[derive(Debug, Clone, clap::Args)]
pub struct TourArgs {
    /// Where results, charts and the report go.
    #[arg(long, default_value = "seedbed-report")]
    pub out: PathBuf,
    /// Under a minute: the smallest sizes that still show each part working.
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// The real sizes (1 GiB device file, 1,000,000 keys, objects to 64 MiB): many minutes.
    #[arg(long)]
    pub full: bool,
    /// Set every step up (its directories, its arguments, checked as the step would check
    /// them) and print what it would run, without running it; with --quick, --full or neither.
    #[arg(long)]
    pub dry_run: bool,
}

impl Default for TourArgs {
    fn default() -> Self {
        TourArgs {
            out: PathBuf::from("seedbed-report"),
            quick: false,
            full: false,
            dry_run: false,
        }
    }
}

/// How big the tour runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Size {
    Quick,
    Default,
    Full,
}

/// One line of the closing summary: a figure beside its reference.
struct Row {
    step: &'static str,
    figure: String,
    value: String,
    reference: String,
}

fn row(
    step: &'static str,
    figure: impl Into<String>,
    value: String,
    reference: impl Into<String>,
) -> Row {
    Row {
        step,
        figure: figure.into(),
        value,
        reference: reference.into(),
    }
}

/// Run the tour.
pub fn run(args: &TourArgs) -> anyhow::Result<()> {
    let size = if args.quick {
        Size::Quick
    } else if args.full {
        Size::Full
    } else {
        Size::Default
    };
    let out = &args.out;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the report directory {}", out.display()))?;
    let scratch = out.join("scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    println!(
        "Seedbed tour ({}){}: a short pass over the testbed; results in {}/\n",
        match size {
            Size::Quick => "quick",
            Size::Default => "default, about 3 minutes",
            Size::Full => "full sizes",
        },
        if args.dry_run { ", dry run" } else { "" },
        out.display()
    );
    let started = Instant::now();
    let result = steps(size, out, &scratch, args.dry_run);
    let _ = std::fs::remove_dir_all(&scratch);
    let (rows, failures) = result?;
    if args.dry_run {
        println!("dry run: every step set up; nothing measured, no report written");
        if !failures.is_empty() {
            anyhow::bail!(
                "{} tour step(s) could not be set up: {}",
                failures.len(),
                failures.join("; ")
            );
        }
        return Ok(());
    }
    let page = crate::report::build(out, out);
    println!("\nSummary ({:.0} s)", started.elapsed().as_secs_f64());
    println!("{:<8} {:<44} {:>16}  reference", "step", "figure", "value");
    for r in &rows {
        println!(
            "{:<8} {:<44} {:>16}  {}",
            r.step, r.figure, r.value, r.reference
        );
    }
    match page {
        Ok(p) => println!("\nreport: {}", p.display()),
        Err(e) => println!("\nreport: not written: {e:#}"),
    }
    if !failures.is_empty() {
        anyhow::bail!(
            "{} tour step(s) failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

/// One step, set up and ready to run: its arguments decided from the size, the directories it
/// needs created, its inputs checked. `--dry-run` stops here, so the set-up of every size —
/// the full one too — is tested without the long work.
enum Plan {
    /// `bench io` with the real sizes in `--out/scratch/io`, or (`None`) the quick probe.
    Device(Option<bench::io::IoArgs>),
    /// `bench lsm`.
    Lsm(bench::lsm::LsmArgs),
    /// `bench object` at the step's sizes, and the small-object pass with sync off (boxed:
    /// the arguments are large beside the other steps').
    Object {
        sizes: Box<bench::object::ObjectBenchArgs>,
        small: Box<bench::object::ObjectBenchArgs>,
    },
    /// `bench s3` against a server started in-process on a fresh store.
    S3(Box<bench::s3::S3BenchArgs>),
    /// IAM evaluation latency, each policy size for this long.
    Iam(Duration),
    /// The simulator's short sweep, within this budget.
    Sim(Duration),
}

impl Plan {
    /// What the step will run, in a line.
    fn describe(&self) -> String {
        let dir = |d: &Option<PathBuf>| d.as_ref().map_or("-".into(), |d| d.display().to_string());
        match self {
            Plan::Device(Some(a)) => format!(
                "bench io --dir {} (a 1 GiB file, every backend, 5 s per case)",
                dir(&a.dir)
            ),
            Plan::Device(None) => "bench io --quick (a 64 MiB file under --out)".into(),
            Plan::Lsm(a) => format!(
                "bench lsm --num {} --write-buffer-mib {} --dir {}",
                a.num,
                a.write_buffer_mib,
                dir(&a.dir)
            ),
            Plan::Object { sizes, small } => format!(
                "bench object --sizes {} --dir {}; then {} small PUTs with sync off in {}",
                sizes
                    .sizes
                    .iter()
                    .map(|&b| bench::io::human_bytes(b))
                    .collect::<Vec<_>>()
                    .join(","),
                dir(&sizes.dir),
                small.max_objects,
                dir(&small.dir)
            ),
            Plan::S3(a) => format!(
                "serve (in-process, a free loopback port) + bench s3 --ops {} --sizes {} \
                 --concurrency {} --duration {}ms --dir {}",
                a.ops.join(","),
                a.sizes
                    .iter()
                    .map(|&b| bench::io::human_bytes(b))
                    .collect::<Vec<_>>()
                    .join(","),
                a.concurrency
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                a.duration.as_millis(),
                dir(&a.dir)
            ),
            Plan::Iam(budget) => format!(
                "IAM evaluation of 1, 10, 100 statements, {} ms each",
                budget.as_millis()
            ),
            Plan::Sim(budget) => format!(
                "simulator sweeps of every workload within {} s, two planted bugs caught and shrunk",
                budget.as_secs()
            ),
        }
    }
}

/// Set step `name` up for `size`.
fn set_up(name: &str, size: Size, out: &Path, scratch: &Path) -> anyhow::Result<Plan> {
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))
    };
    Ok(match name {
        "device" => Plan::Device(match size {
            Size::Full => {
                // The benchmark wants an existing directory: it never guesses at a typo'd
                // --dir. The tour makes its own.
                let dir = scratch.join("io");
                mkdir(&dir)?;
                let args = bench::io::IoArgs {
                    dir: Some(dir),
                    json: Some(out.join("bench-io.jsonl")),
                    ..bench::io::IoArgs::default()
                };
                bench::io::check(&args)?;
                Some(args)
            }
            _ => None,
        }),
        "lsm" => Plan::Lsm(bench::lsm::LsmArgs {
            num: match size {
                Size::Quick => 20_000,
                Size::Default => 100_000,
                Size::Full => 1_000_000,
            },
            // A small write buffer at small sizes, so that flushes and compactions happen and
            // the report's level chart has levels to show.
            write_buffer_mib: if size == Size::Full { 64 } else { 1 },
            dir: Some(scratch.join("lsm")),
            json: false,
            ..bench::lsm::LsmArgs::default()
        }),
        "object" => {
            let mut sizes = bench::object::ObjectBenchArgs::defaults();
            sizes.dir = Some(scratch.join("object"));
            sizes.json = Some(out.join("bench-object.jsonl"));
            sizes.io = vec![seedbed_engine::io::BackendKind::Std];
            match size {
                Size::Quick => sizes.quick = true,
                Size::Default => {
                    sizes.sizes = vec![4 << 10, 1 << 20, 16 << 20];
                    sizes.bytes_per_size = 96 << 20;
                    sizes.min_objects = 16;
                    sizes.max_objects = 400;
                }
                Size::Full => {}
            }
            // Small objects with sync off: the per-request cost of a PUT (pack records,
            // metadata commit) rather than the disk's flush latency.
            let mut small = bench::object::ObjectBenchArgs::defaults();
            small.dir = Some(scratch.join("object-small"));
            small.json = Some(out.join("bench-object-small.jsonl"));
            small.io = sizes.io.clone();
            small.sizes = vec![4 << 10];
            small.sync = false;
            small.no_device = true;
            small.max_objects = if size == Size::Quick { 500 } else { 5000 };
            small.min_objects = small.max_objects;
            small.bytes_per_size = small.max_objects * (4 << 10);
            Plan::Object {
                sizes: Box::new(sizes),
                small: Box::new(small),
            }
        }
        "s3" => {
            let dir = scratch.join("s3");
            mkdir(&dir)?;
            Plan::S3(Box::new(bench::s3::S3BenchArgs {
                endpoint: None,
                access_key: None,
                secret_key: None,
                region: "us-east-1".into(),
                bucket: "seedbed-tour".into(),
                ops: vec!["put".into(), "get".into()],
                sizes: match size {
                    Size::Quick => vec![4 << 10],
                    Size::Default => vec![4 << 10, 1 << 20],
                    Size::Full => vec![4 << 10, 1 << 20, 16 << 20],
                },
                concurrency: vec![1, 8],
                duration: match size {
                    Size::Quick => Duration::from_millis(500),
                    Size::Default => Duration::from_secs(1),
                    Size::Full => Duration::from_secs(5),
                },
                objects: 64,
                list_objects: 1,
                budget: 256 << 20,
                compare: false,
                cached_reads: false,
                rounds: 1,
                dir: Some(dir),
                json: Some(out.join("bench-s3.jsonl")),
                quick: false,
            }))
        }
        "iam" => Plan::Iam(match size {
            Size::Quick => Duration::from_millis(300),
            Size::Default => Duration::from_secs(1),
            Size::Full => Duration::from_secs(3),
        }),
        "sim" => Plan::Sim(match size {
            Size::Quick => Duration::from_secs(3),
            Size::Default => Duration::from_secs(8),
            Size::Full => Duration::from_secs(60),
        }),
        other => anyhow::bail!("no tour step '{other}'"),
    })
}

/// Run a step that was set up.
fn execute(plan: Plan, out: &Path) -> anyhow::Result<Vec<Row>> {
    match plan {
        Plan::Device(args) => device(args, out),
        Plan::Lsm(args) => lsm(&args, out),
        Plan::Object { sizes, small } => object(&sizes, &small),
        Plan::S3(args) => s3(&args),
        Plan::Iam(budget) => iam(budget, out),
        Plan::Sim(budget) => sim(budget, out),
    }
}

/// The steps in order: (name, what it shows).
const STEPS: [(&str, &str); 6] = [
    ("device", "the disk through each I/O backend (bench io)"),
    ("lsm", "the LSM engine: fill, read, scan (bench lsm)"),
    (
        "object",
        "the object store: PUT/GET beside the device (bench object)",
    ),
    (
        "s3",
        "the S3 endpoint: serve on a loopback port, PUT/GET over HTTP (bench s3)",
    ),
    ("iam", "IAM policy evaluation latency"),
    ("sim", "simulator sweeps, planted bugs caught and shrunk"),
];

/// Set up and run each step (only set up, with `dry`); a failed step is reported and the tour
/// goes on to the next.
fn steps(
    size: Size,
    out: &Path,
    scratch: &Path,
    dry: bool,
) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, (name, what)) in STEPS.iter().enumerate() {
        println!("[{}/{}] {what}", i + 1, STEPS.len());
        let t = Instant::now();
        let result = set_up(name, size, out, scratch).and_then(|plan| {
            if dry {
                println!("  would run: {}", plan.describe());
                Ok(Vec::new())
            } else {
                execute(plan, out)
            }
        });
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => {
                println!("  {name} failed: {e:#}");
                failures.push(format!("{name}: {e:#}"));
            }
        }
        if !dry {
            println!("  ({:.1} s)\n", t.elapsed().as_secs_f64());
        }
    }
    Ok((rows, failures))
}

fn device(args: Option<bench::io::IoArgs>, out: &Path) -> anyhow::Result<Vec<Row>> {
    let records = match args {
        Some(args) => bench::io::run(&args)?,
        None => bench::io::run_quick(out)?,
    };
    // Device figures come from requests that reached the device (direct I/O), not from the
    // page cache (mmap reads, buffered runs).
    let find = |case: &str, qd: usize, backend: Option<&str>| {
        records
            .iter()
            .filter(|r| r.case == case && r.qd == qd && r.served_from == "device")
            .filter(|r| backend.is_none_or(|b| r.backend == b))
            .max_by(|a, b| a.mb_per_s.total_cmp(&b.mb_per_s))
    };
    let mut rows = Vec::new();
    for (case, label) in [
        ("seqwrite", "sequential write, 1 MiB"),
        ("seqread", "sequential read, 1 MiB"),
    ] {
        if let Some(r) = find(case, 1, None) {
            rows.push(row(
                "device",
                label,
                format!("{:.0} MB/s", r.mb_per_s),
                format!("{}, O_DIRECT", r.backend),
            ));
        }
    }
    let std_qd1 = find("randread", 1, Some("std"));
    if let Some(r) = find("randread", 32, Some("uring")) {
        let reference = match std_qd1 {
            Some(s) => format!(
                "{:.1}x std at QD1 ({:.0} IOPS); goal 2x",
                r.iops / s.iops,
                s.iops
            ),
            None => "uring".to_string(),
        };
        rows.push(row(
            "device",
            "random read 4 KiB, uring QD32",
            format!("{:.0} IOPS", r.iops),
            reference,
        ));
    } else if let Some(s) = std_qd1 {
        rows.push(row(
            "device",
            "random read 4 KiB, std QD1",
            format!("{:.0} IOPS", s.iops),
            "uring unavailable",
        ));
    }
    Ok(rows)
}

fn lsm(args: &bench::lsm::LsmArgs, out: &Path) -> anyhow::Result<Vec<Row>> {
    let num = args.num;
    let report = bench::lsm::run(args)?;
    let mut json = serde_json::to_value(&report)?;
    json["kind"] = "bench-lsm".into();
    std::fs::write(
        out.join("bench-lsm.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    let mut rows = Vec::new();
    for w in &report.results {
        if ["fillseq", "fillrandom", "readrandom", "scan"].contains(&w.name.as_str()) {
            rows.push(row(
                "lsm",
                format!("{} ({} keys)", w.name, num),
                format!("{:.0} ops/s", w.ops_per_sec),
                format!("p99 {:.1} µs", w.latency_us_p99),
            ));
        }
    }
    rows.push(row(
        "lsm",
        "peak memory",
        format!("{:.0} MiB", report.peak_rss_mib),
        "RocksDB: build with --features rocksdb",
    ));
    Ok(rows)
}

fn object(
    args: &bench::object::ObjectBenchArgs,
    small: &bench::object::ObjectBenchArgs,
) -> anyhow::Result<Vec<Row>> {
    let records = bench::object::run(args)?;
    let small_records = bench::object::run(small)?;
    let small_rows = small_records.iter().filter(|r| r.op == "put").map(|r| {
        row(
            "object",
            format!("PUT 4.0 KiB ({}+{}), sync off", r.k, r.m),
            format!("{:.0} ops/s", r.ops_per_s),
            "goal ≥ 5,000 PUT/s; small objects are pack records",
        )
    });
    Ok(records
        .iter()
        .filter(|r| r.object_bytes >= 1 << 20 || r.op == "put")
        .map(|r| {
            let mut reference = match r.device_limit_mb_per_s {
                Some(l) => format!(
                    "{:.0}% of device limit {l:.0} MB/s",
                    100.0 * r.goodput_mb_per_s / l
                ),
                None => String::new(),
            };
            if let (Some(l), true) = (r.md5_limit_mb_per_s, r.object_bytes >= 1 << 20) {
                reference += &format!(
                    "; {:.0}% of one core's MD5 ({l:.0} MB/s)",
                    100.0 * r.goodput_mb_per_s / l
                );
            }
            row(
                "object",
                format!(
                    "{} {} ({}+{})",
                    r.op.to_uppercase(),
                    bench::io::human_bytes(r.object_bytes),
                    r.k,
                    r.m
                ),
                format!("{:.1} MB/s", r.goodput_mb_per_s),
                if r.object_bytes < 1 << 20 {
                    format!("{:.0} ops/s", r.ops_per_s)
                } else {
                    reference
                },
            )
        })
        .chain(small_rows)
        .collect())
}

fn s3(args: &bench::s3::S3BenchArgs) -> anyhow::Result<Vec<Row>> {
    let records = bench::s3::run(args)?;
    if let Some(r) = records.iter().find(|r| r.errors > 0) {
        anyhow::bail!(
            "{} {} ×{}: {} of {} requests failed: {}",
            r.op,
            bench::io::human_bytes(r.object_bytes),
            r.concurrency,
            r.errors,
            r.requests,
            r.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(records
        .iter()
        .filter(|r| r.concurrency > 1)
        .map(|r| {
            row(
                "s3",
                format!(
                    "{} {} over HTTP, {} clients",
                    r.op.to_uppercase(),
                    bench::io::human_bytes(r.object_bytes),
                    r.concurrency
                ),
                if r.object_bytes >= 1 << 20 {
                    format!("{:.1} MiB/s", r.mib_per_s)
                } else {
                    format!("{:.0} ops/s", r.ops_per_s)
                },
                format!(
                    "p99 {:.1} ms; `bench s3 --compare` sets it beside in-process",
                    r.latency_ms.p99
                ),
            )
        })
        .collect())
}

fn iam(budget: Duration, out: &Path) -> anyhow::Result<Vec<Row>> {
    let results = bench::iam::latency_bench(&[1, 10, 100], budget)?;
    let mut lines = String::new();
    for r in &results {
        lines.push_str(&serde_json::to_string(r)?);
        lines.push('\n');
    }
    std::fs::write(out.join("bench-iam.jsonl"), lines)?;
    Ok(results
        .iter()
        .map(|r| {
            row(
                "iam",
                format!("evaluate, {} statements", r.statements),
                format!("{:.2} µs", r.median_ns / 1000.0),
                if r.statements == 10 {
                    "goal: 1 µs".to_string()
                } else {
                    String::new()
                },
            )
        })
        .collect())
}

fn sim(budget: Duration, out: &Path) -> anyhow::Result<Vec<Row>> {
    let sweep = crate::sim::short_sweep(out, budget)?;
    sweep.print();
    Ok(sweep
        .summary_rows()
        .into_iter()
        .map(|(figure, value, reference)| row("sim", figure, value, reference))
        .collect())
}
