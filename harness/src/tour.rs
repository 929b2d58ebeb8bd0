//! `seedbed` with no arguments: the tour. A short, bounded pass over everything the testbed
//! does, leaving a report behind:
//!
//! 1. the device probe (`bench io`, short) — what this disk can do, per I/O backend;
//! 2. the LSM engine (`bench lsm`, small) — fill, read and scan;
//! 3. the object store (`bench object`, small) — PUT/GET goodput beside the device;
//! 4. IAM evaluation latency for 1, 10 and 100 statements;
//! 5. simulator sweeps, including a planted bug caught, shrunk, and its one-line repro;
//! 6. the report: `index.html` with one chart per result, in `--out`.
//!
//! Everything it writes goes under `--out` (default `./seedbed-report`); scratch data lives in
//! `--out/scratch` and is removed at the end, whatever happened.

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
}

impl Default for TourArgs {
    fn default() -> Self {
        TourArgs {
            out: PathBuf::from("seedbed-report"),
            quick: false,
            full: false,
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
        "Seedbed tour ({}): a short pass over the testbed; results in {}/\n",
        match size {
            Size::Quick => "quick",
            Size::Default => "default, about 3 minutes",
            Size::Full => "full sizes",
        },
        out.display()
    );
    let started = Instant::now();
    let result = steps(size, out, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let (rows, failures) = result?;
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

type Step = fn(Size, &Path, &Path) -> anyhow::Result<Vec<Row>>;

/// Run each step; a failed step is reported and the tour goes on to the next.
fn steps(size: Size, out: &Path, scratch: &Path) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let all: [(&str, &str, Step); 5] = [
        (
            "device",
            "the disk through each I/O backend (bench io)",
            device,
        ),
        ("lsm", "the LSM engine: fill, read, scan (bench lsm)", lsm),
        (
            "object",
            "the object store: PUT/GET beside the device (bench object)",
            object,
        ),
        ("iam", "IAM policy evaluation latency", iam),
        (
            "sim",
            "simulator sweeps, a planted bug caught and shrunk",
            sim,
        ),
    ];
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, (name, what, step)) in all.iter().enumerate() {
        println!("[{}/{}] {what}", i + 1, all.len());
        let t = Instant::now();
        match step(size, out, scratch) {
            Ok(r) => rows.extend(r),
            Err(e) => {
                println!("  {name} failed: {e:#}");
                failures.push(format!("{name}: {e:#}"));
            }
        }
        println!("  ({:.1} s)\n", t.elapsed().as_secs_f64());
    }
    Ok((rows, failures))
}

fn device(size: Size, out: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let records = match size {
        Size::Full => bench::io::run(&bench::io::IoArgs {
            dir: Some(scratch.join("io")),
            json: Some(out.join("bench-io.jsonl")),
            ..bench::io::IoArgs::default()
        })?,
        _ => bench::io::run_quick(out)?,
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

fn lsm(size: Size, out: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let num = match size {
        Size::Quick => 20_000,
        Size::Default => 100_000,
        Size::Full => 1_000_000,
    };
    let args = bench::lsm::LsmArgs {
        num,
        // A small write buffer at small sizes, so that flushes and compactions happen and the
        // report's level chart has levels to show.
        write_buffer_mib: if size == Size::Full { 64 } else { 1 },
        dir: Some(scratch.join("lsm")),
        json: false,
        ..bench::lsm::LsmArgs::default()
    };
    let report = bench::lsm::run(&args)?;
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

fn object(size: Size, out: &Path, scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let mut args = bench::object::ObjectBenchArgs::defaults();
    args.dir = Some(scratch.join("object"));
    args.json = Some(out.join("bench-object.jsonl"));
    args.io = vec![seedbed_engine::io::BackendKind::Std];
    match size {
        Size::Quick => args.quick = true,
        Size::Default => {
            args.sizes = vec![4 << 10, 1 << 20, 16 << 20];
            args.bytes_per_size = 96 << 20;
            args.min_objects = 16;
            args.max_objects = 400;
        }
        Size::Full => {}
    }
    let records = bench::object::run(&args)?;
    // Small objects with sync off: the per-request cost of a PUT (pack records, metadata
    // commit) rather than the disk's flush latency.
    let mut small = bench::object::ObjectBenchArgs::defaults();
    small.dir = Some(scratch.join("object-small"));
    small.json = Some(out.join("bench-object-small.jsonl"));
    small.io = args.io.clone();
    small.sizes = vec![4 << 10];
    small.sync = false;
    small.no_device = true;
    small.max_objects = if matches!(size, Size::Quick) {
        500
    } else {
        5000
    };
    small.min_objects = small.max_objects;
    small.bytes_per_size = small.max_objects * (4 << 10);
    let small_records = bench::object::run(&small)?;
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

fn iam(size: Size, out: &Path, _scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let budget = match size {
        Size::Quick => Duration::from_millis(300),
        Size::Default => Duration::from_secs(1),
        Size::Full => Duration::from_secs(3),
    };
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

fn sim(size: Size, out: &Path, _scratch: &Path) -> anyhow::Result<Vec<Row>> {
    let budget = match size {
        Size::Quick => Duration::from_secs(3),
        Size::Default => Duration::from_secs(8),
        Size::Full => Duration::from_secs(60),
    };
    let sweep = crate::sim::short_sweep(out, budget)?;
    sweep.print();
    Ok(sweep
        .summary_rows()
        .into_iter()
        .map(|(figure, value, reference)| row("sim", figure, value, reference))
        .collect())
}
