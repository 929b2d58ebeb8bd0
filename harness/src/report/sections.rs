//! Which charts each kind of result gets, and what each one teaches.

use std::collections::BTreeMap;
use std::path::Path;

use seedbed_sim::registry;
use seedbed_sim::summary::Plot;
use serde_json::Value;

use super::charts::{Bars, Heatmap, Lines};
use super::load::{num, text, Kind, Record, Results};
use super::Figure;

/// Draw every chart the results support; returns them in page order.
pub fn draw_all(results: &Results, out: &Path) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    if !results.of(Kind::BenchIo).is_empty() {
        io(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchLsm).is_empty() {
        lsm(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchObject).is_empty() {
        object(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchIam).is_empty() {
        iam(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchS3).is_empty() {
        s3(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchS3Compare).is_empty() {
        s3_compare(results, out, &mut figures)?;
    }
    if !results.of(Kind::BenchCluster).is_empty() {
        super::cluster::bench(results, out, &mut figures)?;
    }
    if !results.of(Kind::ClusterCompare).is_empty() {
        super::cluster::compare(results, out, &mut figures)?;
    }
    if !results.of(Kind::SimSweep).is_empty() {
        sim(results, out, &mut figures)?;
        workload_charts(results, out, &mut figures)?;
    }
    if figures.is_empty() {
        anyhow::bail!(
            "the result files hold no data any chart draws (found only: {:?})",
            results.by_kind.keys().collect::<Vec<_>>()
        );
    }
    Ok(figures)
}

/// Distinct values of a text field, in first-seen order.
fn distinct(records: &[Record], field: &str) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        let v = text(r, field)?.to_string();
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn io_label(r: &Record) -> anyhow::Result<String> {
    let case = text(r, "case")?;
    let bs = num(r, "block_size_bytes")? as u64;
    let qd = num(r, "qd")? as u64;
    let size = if bs >= 1 << 20 {
        format!("{}M", bs >> 20)
    } else {
        format!("{}K", bs >> 10)
    };
    Ok(if case.starts_with("seq") {
        format!("{case} {size}")
    } else {
        format!("{case} {size} qd{qd}")
    })
}

fn io(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchIo);
    let command = results.command(Kind::BenchIo);
    let backends = distinct(recs, "backend")?;
    // (label → backend → record)
    let mut table: BTreeMap<String, BTreeMap<String, &Record>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in recs {
        let label = io_label(r)?;
        if !order.contains(&label) {
            order.push(label.clone());
        }
        table
            .entry(label)
            .or_default()
            .insert(text(r, "backend")?.to_string(), r);
    }
    let pick = |labels: &[String], field: &str| -> anyhow::Result<Vec<(String, Vec<f64>)>> {
        backends
            .iter()
            .map(|b| {
                let vals = labels
                    .iter()
                    .map(|l| {
                        table[l]
                            .get(b)
                            .map(|r| num(r, field))
                            .transpose()
                            .map(|v| v.unwrap_or(f64::NAN))
                    })
                    .collect::<anyhow::Result<Vec<f64>>>()?;
                Ok((b.clone(), vals))
            })
            .collect()
    };
    let seq: Vec<String> = order
        .iter()
        .filter(|l| l.starts_with("seq"))
        .cloned()
        .collect();
    let rand: Vec<String> = order
        .iter()
        .filter(|l| !l.starts_with("seq"))
        .cloned()
        .collect();
    if !seq.is_empty() {
        Bars {
            title: "Sequential bandwidth (1 MiB requests)",
            y_label: "MB/s",
            categories: seq.clone(),
            series: pick(&seq, "mb_per_s")?,
            log_y: false,
        }
        .draw(&out.join("io-sequential.svg"))?;
        figures.push(Figure {
            file: "io-sequential.svg".into(),
            title: "Device: sequential bandwidth per backend".into(),
            caption: "Large sequential requests are where every backend should meet the device's \
                      limit: the bars show how close each comes. A backend far below the others \
                      here is paying per-request overhead that big blocks should hide."
                .into(),
            command: command.clone(),
        });
    }
    if !rand.is_empty() {
        Bars {
            title: "Random 4 KiB requests per second",
            y_label: "IOPS (log)",
            categories: rand.clone(),
            series: pick(&rand, "iops")?,
            log_y: true,
        }
        .draw(&out.join("io-random.svg"))?;
        figures.push(Figure {
            file: "io-random.svg".into(),
            title: "Device: random 4 KiB IOPS at queue depth 1 and 32".into(),
            caption: "At queue depth 1 every backend waits for one request at a time, so IOPS is \
                      the inverse of latency. At depth 32 only a backend that keeps many requests \
                      in flight (io_uring) lets an NVMe device work on them in parallel; \
                      synchronous backends stay where they were."
                .into(),
            command: command.clone(),
        });
        let mut series = Vec::new();
        for (field, name) in [("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")] {
            for (b, vals) in pick(&rand, field)? {
                series.push((format!("{b} {name}"), vals));
            }
        }
        Bars {
            title: "Latency percentiles of random 4 KiB requests",
            y_label: "µs (log)",
            categories: rand,
            series,
            log_y: true,
        }
        .draw(&out.join("io-latency.svg"))?;
        figures.push(Figure {
            file: "io-latency.svg".into(),
            title: "Device: latency percentiles per backend and case".into(),
            caption: "The median says what a typical request costs; p99 and p99.9 say what a \
                      request waiting behind a flush, a queue or a noisy neighbour costs. Deep \
                      queues raise per-request latency while they raise throughput: Little's law."
                .into(),
            command,
        });
    }
    Ok(())
}

/// Byte counts on a log axis, whose ticks fall on powers of ten: `10 kB`, `1 MB`.
fn human(bytes: f64) -> String {
    let (v, unit) = if bytes >= 1e9 {
        (bytes / 1e9, "GB")
    } else if bytes >= 1e6 {
        (bytes / 1e6, "MB")
    } else if bytes >= 1e3 {
        (bytes / 1e3, "kB")
    } else {
        (bytes, "B")
    };
    format!("{} {unit}", super::charts::tidy(v))
}

fn object(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchObject);
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut limits: BTreeMap<String, f64> = BTreeMap::new();
    for r in recs {
        let name = format!("{} {}", text(r, "backend")?, text(r, "op")?);
        series
            .entry(name.clone())
            .or_default()
            .push((num(r, "object_bytes")?, num(r, "goodput_mb_per_s")?));
        if let Some(l) = r
            .value
            .get("device_limit_mb_per_s")
            .and_then(|v| v.as_f64())
        {
            let what = if text(r, "op")? == "put" {
                format!("{} device write × K/(K+M)", text(r, "backend")?)
            } else {
                format!("{} device read", text(r, "backend")?)
            };
            limits.insert(what, l);
        }
    }
    for pts in series.values_mut() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Lines {
        title: "Object store goodput against object size",
        x_label: "object size (log)",
        y_label: "MB/s of object data",
        series: series.into_iter().collect(),
        references: limits.into_iter().collect(),
        log_x: true,
        log_y: false,
        x_format: human,
    }
    .draw(&out.join("object-goodput.svg"))?;
    figures.push(Figure {
        file: "object-goodput.svg".into(),
        title: "Object store: goodput against object size".into(),
        caption: "Small objects are bound by per-request costs — metadata commits, file creation, \
                  syncs — so their goodput is low however fast the disk. Large objects should \
                  approach the dashed lines: for PUT the device's write bandwidth times K/(K+M), \
                  since parity is written too; for GET the device's read bandwidth."
            .into(),
        command: results.command(Kind::BenchObject),
    });
    Ok(())
}

/// `bench lsm` reports: one per engine run, each with `results[]` and `stats`.
fn lsm(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchLsm);
    let command = results.command(Kind::BenchLsm);
    let mut workloads: Vec<String> = Vec::new();
    // (engine, [(workload, ops/s, p50 µs, p99 µs)])
    type Point = (String, f64, f64, f64);
    let mut series: Vec<(String, Vec<Point>)> = Vec::new();
    for r in recs {
        let engine = r
            .value
            .get("engine")
            .and_then(|v| v.as_str())
            .unwrap_or("seedbed")
            .to_string();
        let rows = r
            .value
            .get("results")
            .and_then(|v| v.as_array())
            .ok_or_else(|| anyhow::anyhow!("a bench lsm report lacks 'results': {}", r.value))?;
        let mut points = Vec::new();
        for w in rows {
            let name = w
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string();
            let get = |f: &str| w.get(f).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            if !workloads.contains(&name) {
                workloads.push(name.clone());
            }
            points.push((
                name,
                get("ops_per_sec"),
                get("latency_us_p50"),
                get("latency_us_p99"),
            ));
        }
        series.push((engine, points));
    }
    let column = |pick: fn(&Point) -> f64| -> Vec<(String, Vec<f64>)> {
        series
            .iter()
            .map(|(engine, pts)| {
                let vals = workloads
                    .iter()
                    .map(|w| pts.iter().find(|p| &p.0 == w).map(pick).unwrap_or(f64::NAN))
                    .collect();
                (engine.clone(), vals)
            })
            .collect()
    };
    Bars {
        title: "LSM throughput per workload",
        y_label: "operations/s (log)",
        categories: workloads.clone(),
        series: column(|p| p.1),
        log_y: true,
    }
    .draw(&out.join("lsm-throughput.svg"))?;
    figures.push(Figure {
        file: "lsm-throughput.svg".into(),
        title: "LSM engine: throughput per workload".into(),
        caption: "Writes are cheap in an LSM tree: a WAL append and a memtable insert. Point \
                  reads cost a memtable probe plus, per level, a bloom filter check and maybe a \
                  block read; scans merge every level. Build with --features rocksdb and run \
                  bench lsm --engine rocksdb into the same directory to draw RocksDB beside it."
            .into(),
        command: command.clone(),
    });
    let mut lat = Vec::new();
    for (engine, vals) in column(|p| p.2) {
        lat.push((format!("{engine} p50"), vals));
    }
    for (engine, vals) in column(|p| p.3) {
        lat.push((format!("{engine} p99"), vals));
    }
    Bars {
        title: "LSM latency per workload",
        y_label: "µs (log)",
        categories: workloads,
        series: lat,
        log_y: true,
    }
    .draw(&out.join("lsm-latency.svg"))?;
    figures.push(Figure {
        file: "lsm-latency.svg".into(),
        title: "LSM engine: latency percentiles".into(),
        caption: "The gap between p50 and p99 is where an LSM tree shows its background work: \
                  a write that waits for a memtable switch or an L0 stall, a read that misses \
                  the block cache and goes to disk."
            .into(),
        command: command.clone(),
    });
    // Shape of the tree after the run: bytes per level and the three amplifications.
    if let Some(stats) = recs.last().and_then(|r| r.value.get("stats")) {
        let levels: Vec<f64> = stats
            .get("level_bytes")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default();
        let n = levels.iter().rposition(|b| *b > 0.0).map_or(1, |i| i + 1);
        let amp = |f: &str| stats.get(f).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        Bars {
            title: "LSM shape after the run: bytes per level",
            y_label: "MiB",
            categories: (0..n).map(|i| format!("L{i}")).collect(),
            series: vec![(
                "bytes".into(),
                levels[..n.min(levels.len())]
                    .iter()
                    .map(|b| b / (1 << 20) as f64)
                    .collect(),
            )],
            log_y: false,
        }
        .draw(&out.join("lsm-levels.svg"))?;
        figures.push(Figure {
            file: "lsm-levels.svg".into(),
            title: "LSM engine: bytes per level".into(),
            caption: format!(
                "Leveled compaction keeps each level about ten times the one above, so most \
                 data sits in the deepest level. After this run: write amplification {:.2} \
                 (bytes written to disk per user byte), read amplification {:.2}, space \
                 amplification {:.2}; {} write stalls for {:.1} ms in all{}.",
                amp("write_amplification"),
                amp("read_amplification"),
                amp("space_amplification"),
                amp("stalls"),
                amp("stall_micros") / 1000.0,
                stats
                    .get("last_stall_reason")
                    .and_then(|v| v.as_str())
                    .map(|r| format!(" (last: {r})"))
                    .unwrap_or_default()
            ),
            command,
        });
    }
    Ok(())
}

/// `bench iam` records: one per policy-set size.
fn iam(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchIam);
    let mut cats = Vec::new();
    let (mut decide, mut explain) = (Vec::new(), Vec::new());
    for r in recs {
        cats.push(format!("{} statements", num(r, "statements")?));
        decide.push(num(r, "median_ns")? / 1000.0);
        explain.push(
            r.value
                .get("explain_median_ns")
                .and_then(|v| v.as_f64())
                .map_or(f64::NAN, |v| v / 1000.0),
        );
    }
    Bars {
        title: "IAM evaluation latency per policy size",
        y_label: "µs per request (log)",
        categories: cats,
        series: vec![
            ("decide".into(), decide),
            ("decide + explain".into(), explain),
        ],
        log_y: true,
    }
    .draw(&out.join("iam-latency.svg"))?;
    figures.push(Figure {
        file: "iam-latency.svg".into(),
        title: "IAM: evaluation latency per policy size".into(),
        caption: "Every statement is matched against the request (action, resource, conditions) \
                  before the answer is known, so latency grows with the policy set; policies are \
                  precompiled at parse time so that a decision allocates nothing. An explanation \
                  costs more, which is why the fast path builds none."
            .into(),
        command: results.command(Kind::BenchIam),
    });
    Ok(())
}

/// `bench s3` cells: throughput against concurrency per operation and size, and the latency
/// spread of each cell.
fn s3(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchS3);
    let label = |r: &Record| -> anyhow::Result<String> {
        let size = num(r, "object_bytes")?;
        Ok(if size == 0.0 {
            text(r, "op")?.to_string()
        } else {
            format!("{} {}", text(r, "op")?, human(size))
        })
    };
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut cats = Vec::new();
    let (mut p50, mut p99, mut p999) = (Vec::new(), Vec::new(), Vec::new());
    for r in recs {
        series
            .entry(label(r)?)
            .or_default()
            .push((num(r, "concurrency")?, num(r, "ops_per_s")?));
        let lat = r.value.get("latency_ms");
        let q = |k: &str| {
            lat.and_then(|l| l.get(k))
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        cats.push(format!("{} ×{}", label(r)?, num(r, "concurrency")?));
        p50.push(q("p50"));
        p99.push(q("p99"));
        p999.push(q("p999"));
    }
    for pts in series.values_mut() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Lines {
        title: "S3 over HTTP: requests per second against clients",
        x_label: "concurrent clients (log)",
        y_label: "successful requests/s (log)",
        series: series.into_iter().collect(),
        references: Vec::new(),
        log_x: true,
        log_y: true,
        x_format: |x| format!("{x:.0}"),
    }
    .draw(&out.join("s3-throughput.svg"))?;
    figures.push(Figure {
        file: "s3-throughput.svg".into(),
        title: "S3 endpoint: throughput against concurrency".into(),
        caption: "Each line is one operation and object size, each point a time-bounded cell of \
                  `seedbed bench s3` (one keep-alive connection per client, SigV4-signed). Small \
                  objects scale with clients until the per-request work — routing, signature, \
                  IAM decision, metadata commit — saturates the cores; large ones until the \
                  disk's bandwidth does. PUTs sync before answering, so they trail GETs."
            .into(),
        command: results.command(Kind::BenchS3),
    });
    Bars {
        title: "S3 over HTTP: latency per cell",
        y_label: "milliseconds (log)",
        categories: cats,
        series: vec![
            ("p50".into(), p50),
            ("p99".into(), p99),
            ("p99.9".into(), p999),
        ],
        log_y: true,
    }
    .draw(&out.join("s3-latency.svg"))?;
    figures.push(Figure {
        file: "s3-latency.svg".into(),
        title: "S3 endpoint: latency percentiles".into(),
        caption: "The tail grows with concurrency well before the median does: requests queue \
                  for the cores, the blocking threads that run the engine, and the disk's \
                  syncs. p99.9 of a short cell rests on a handful of requests."
            .into(),
        command: results.command(Kind::BenchS3),
    });
    Ok(())
}

/// `bench s3 --compare`: the same GETs and PUTs in-process and over HTTP.
fn s3_compare(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchS3Compare);
    let mut cats = Vec::new();
    let (mut inproc, mut http) = (Vec::new(), Vec::new());
    for r in recs {
        // Records written before PUTs were compared carry no op: they are GETs.
        let op = r.value.get("op").and_then(|v| v.as_str()).unwrap_or("get");
        cats.push(format!(
            "{} {} ×{} ({:.0}%)",
            op.to_uppercase(),
            human(num(r, "object_bytes")?),
            num(r, "concurrency")?,
            num(r, "ratio")? * 100.0
        ));
        inproc.push(num(r, "inprocess_median")?);
        http.push(num(r, "http_median")?);
    }
    Bars {
        title: "In-process engine against HTTP (S3 API), same store",
        y_label: "operations/s (log)",
        categories: cats,
        series: vec![("in-process".into(), inproc), ("HTTP".into(), http)],
        log_y: true,
    }
    .draw(&out.join("s3-protocol-cost.svg"))?;
    figures.push(Figure {
        file: "s3-protocol-cost.svg".into(),
        title: "S3 endpoint: what the protocol costs".into(),
        caption: "The same objects read (or written) at the same concurrency, alternating rounds, \
                  medians; the percentage is HTTP over in-process. Large objects lose little (the bytes cross \
                  the socket once more); small ones pay per request for HTTP parsing, the SigV4 \
                  check, XML-free but header-heavy responses and the hand-off between the async \
                  side and the engine's blocking threads."
            .into(),
        command: results.command(Kind::BenchS3Compare),
    });
    Ok(())
}

/// `sim sweep` reports: failing seeds per checker, per sweep.
fn sim(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::SimSweep);
    let mut labels = Vec::new();
    let mut checkers: Vec<String> = Vec::new();
    for r in recs {
        let label = r
            .value
            .get("label")
            .or_else(|| r.value.get("workload"))
            .and_then(|v| v.as_str())
            .unwrap_or("sweep")
            .to_string();
        labels.push(label);
        if let Some(m) = r.value.get("failed_by_checker").and_then(|v| v.as_object()) {
            for k in m.keys() {
                if !checkers.contains(k) {
                    checkers.push(k.clone());
                }
            }
        }
    }
    let mut series: Vec<(String, Vec<f64>)> = vec![(
        "seeds run".to_string(),
        recs.iter()
            .map(|r| num(r, "seeds"))
            .collect::<anyhow::Result<_>>()?,
    )];
    for c in &checkers {
        let vals = recs
            .iter()
            .map(|r| {
                r.value
                    .get("failed_by_checker")
                    .and_then(|m| m.get(c))
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0)
            })
            .collect();
        series.push((format!("failed: {c}"), vals));
    }
    Bars {
        title: "Simulator sweeps: seeds run and anomalies found per checker",
        y_label: "seeds",
        categories: labels.clone(),
        series,
        log_y: false,
    }
    .draw(&out.join("sim-anomalies.svg"))?;
    figures.push(Figure {
        file: "sim-anomalies.svg".into(),
        title: "Simulator: anomalies found per checker".into(),
        caption: "Each seed is one whole run of a cluster under faults chosen by the seed (swarm \
                  testing). A correct protocol should show no failures; a planted bug should be \
                  caught by its checker in some seeds — each with a one-line repro, and shrunk \
                  to the smallest run that still fails."
            .into(),
        command: results.command(Kind::SimSweep),
    });
    sometimes(recs, &labels, out, figures)
}

/// `sim sweep` reports' interesting events (`seedbed_sim::sometimes`): the share of seeds each
/// happened in, per sweep. A bar at zero is an event no seed reached.
fn sometimes(
    recs: &[super::load::Record],
    labels: &[String],
    out: &Path,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let mut events: Vec<String> = Vec::new();
    for r in recs {
        let w = r
            .value
            .get("workload")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        if let Some(m) = r.value.get("sometimes").and_then(|v| v.as_object()) {
            for k in m.keys() {
                let name = format!("{w}: {k}");
                if !events.contains(&name) {
                    events.push(name);
                }
            }
        }
    }
    if events.is_empty() {
        return Ok(());
    }
    let series = recs
        .iter()
        .zip(labels)
        .map(|(r, label)| {
            let w = r
                .value
                .get("workload")
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            let seeds = r.value.get("seeds").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let vals = events
                .iter()
                .map(|e| {
                    let (ew, name) = e.split_once(": ").expect("built above");
                    let n = (ew == w)
                        .then(|| r.value.get("sometimes").and_then(|m| m.get(name)))
                        .flatten()
                        .and_then(|v| v.as_f64());
                    match n {
                        Some(n) if seeds > 0.0 => 100.0 * n / seeds,
                        _ => f64::NAN,
                    }
                })
                .collect();
            (label.clone(), vals)
        })
        .collect();
    Bars {
        title: "Simulator sweeps: seeds in which each interesting event happened",
        y_label: "% of seeds",
        categories: events,
        series,
        log_y: false,
    }
    .draw(&out.join("sim-sometimes.svg"))?;
    figures.push(Figure {
        file: "sim-sometimes.svg".into(),
        title: "Simulator: coverage of interesting events (\"sometimes\")".into(),
        caption: "Each workload declares what should sometimes happen under faults — a hint \
                  handed off, a read repair, a suspicion refuted. A passing sweep means little \
                  for an event no seed reached: a bar at zero is code the faults never drove."
            .into(),
        command: "seedbed sim sweep --workload W --seeds 0..1000 --json sweep.json".into(),
    });
    Ok(())
}

/// Each simulator workload's own charts, from its sweep records: the workload says what to
/// draw (`Summary::charts` in `seedbed-sim`), this draws it. No workload is named here.
fn workload_charts(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    for entry in registry::REGISTRY {
        let records: Vec<&Value> = results
            .of(Kind::SimSweep)
            .iter()
            .filter(|r| r.value.get("workload").and_then(Value::as_str) == Some(entry.name))
            .map(|r| &r.value)
            .collect();
        if records.is_empty() {
            continue;
        }
        let charts = (entry.charts)(&records)
            .map_err(|e| anyhow::anyhow!("a {} sweep record: {e}", entry.name))?;
        for chart in charts {
            draw(&chart.plot, &out.join(&chart.file))?;
            figures.push(Figure {
                file: chart.file,
                title: chart.title,
                caption: chart.caption,
                command: chart.command,
            });
        }
    }
    Ok(())
}

/// Draw a workload's chart data with the report's chart shapes.
fn draw(plot: &Plot, path: &Path) -> anyhow::Result<()> {
    match plot {
        Plot::Bars {
            title,
            y_label,
            categories,
            series,
            log_y,
        } => Bars {
            title,
            y_label,
            categories: categories.clone(),
            series: series.clone(),
            log_y: *log_y,
        }
        .draw(path),
        Plot::Heatmap {
            title,
            x_label,
            y_label,
            columns,
            rows,
            values,
        } => Heatmap {
            title,
            x_label,
            y_label,
            columns: columns.clone(),
            rows: rows.clone(),
            values: values.clone(),
        }
        .draw(path),
    }
}
