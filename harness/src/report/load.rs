//! Reading result files: every `*.json` and `*.jsonl` in a directory, each record classified by
//! what produced it.
//!
//! A results file is JSON lines (one record per line) or one JSON document (an object, or an
//! array of records). A line `{"seedbed_meta": {"command": "...", ...}}` may say which command
//! produced the records after it; the report prints that command under each chart. Anything
//! that does not parse, or whose shape no chart knows, is an error naming the file and line —
//! a report silently missing half its data would teach the wrong thing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;

/// What produced a record, told from its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `seedbed bench io`.
    BenchIo,
    /// `seedbed bench object`.
    BenchObject,
    /// `seedbed bench lsm`.
    BenchLsm,
    /// `seedbed bench iam` / the IAM evaluation benchmark.
    BenchIam,
    /// `seedbed bench s3` cells.
    BenchS3,
    /// `seedbed bench s3 --compare` cases.
    BenchS3Compare,
    /// `seedbed bench cluster` cells.
    BenchCluster,
    /// `seedbed cluster compare`: the simulator's and a real run's figures side by side.
    ClusterCompare,
    /// `seedbed sim sweep` summaries.
    SimSweep,
    /// The tour's own summary.
    TourSummary,
}

impl Kind {
    /// The command that produces this kind of record, for charts whose files carry none.
    pub fn default_command(self) -> &'static str {
        match self {
            Kind::BenchIo => "seedbed bench io --json bench-io.jsonl",
            Kind::BenchObject => "seedbed bench object --json bench-object.jsonl",
            Kind::BenchLsm => "seedbed bench lsm --json bench-lsm.jsonl",
            Kind::BenchIam => "seedbed bench iam --json bench-iam.jsonl",
            Kind::BenchS3 => "seedbed bench s3 --json bench-s3.jsonl",
            Kind::BenchS3Compare => "seedbed bench s3 --compare --json bench-s3-compare.jsonl",
            Kind::BenchCluster => "seedbed bench cluster --json bench-cluster.jsonl",
            Kind::ClusterCompare => "seedbed cluster compare --json cluster-compare.jsonl",
            Kind::SimSweep => "seedbed sim sweep --workload W --seeds 0..100 --json sweep.json",
            Kind::TourSummary => "seedbed tour",
        }
    }
}

/// One record and where it came from.
#[derive(Clone, Debug)]
pub struct Record {
    /// The record.
    pub value: Value,
    /// The command that produced it, when its file said.
    pub command: Option<String>,
}

/// Everything loaded, by kind.
#[derive(Debug, Default)]
pub struct Results {
    /// Records of each kind, in file then line order.
    pub by_kind: BTreeMap<Kind, Vec<Record>>,
    /// Files read.
    pub files: Vec<PathBuf>,
}

impl Results {
    /// The records of one kind.
    pub fn of(&self, kind: Kind) -> &[Record] {
        self.by_kind.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The command that produced a kind's records: the first one a file named, or the default.
    pub fn command(&self, kind: Kind) -> String {
        self.of(kind)
            .iter()
            .find_map(|r| r.command.clone())
            .unwrap_or_else(|| kind.default_command().to_string())
    }
}

/// Tell a record's kind from its fields.
pub fn classify(v: &Value) -> Option<Kind> {
    let has = |k: &str| v.get(k).is_some();
    match v.get("bench").and_then(Value::as_str) {
        Some("s3") => return Some(Kind::BenchS3),
        Some("s3-vs-inprocess") => return Some(Kind::BenchS3Compare),
        _ => {}
    }
    if let Some(kind) = v.get("kind").and_then(Value::as_str) {
        return match kind {
            "bench-io" => Some(Kind::BenchIo),
            "bench-object" => Some(Kind::BenchObject),
            "bench-lsm" => Some(Kind::BenchLsm),
            "bench-iam" => Some(Kind::BenchIam),
            "bench-cluster" => Some(Kind::BenchCluster),
            "cluster-compare" => Some(Kind::ClusterCompare),
            "sim-sweep" => Some(Kind::SimSweep),
            "tour-summary" => Some(Kind::TourSummary),
            _ => None,
        };
    }
    if has("case") && has("qd") && has("iops") {
        Some(Kind::BenchIo)
    } else if has("object_bytes") && has("goodput_mb_per_s") {
        Some(Kind::BenchObject)
    } else if has("engine") && has("results") && has("stats") {
        Some(Kind::BenchLsm)
    } else if has("statements") && has("median_ns") {
        Some(Kind::BenchIam)
    } else if has("seeds") && has("failed_by_checker") {
        Some(Kind::SimSweep)
    } else {
        None
    }
}

/// Load every result file in `dir`.
pub fn load_dir(dir: &Path) -> anyhow::Result<Results> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the results directory {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("json" | "jsonl")
                )
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!(
            "{} holds no *.json or *.jsonl result files; run a benchmark with --json FILE \
             (or `seedbed tour`) first",
            dir.display()
        );
    }
    let mut results = Results::default();
    for path in paths {
        load_file(&path, &mut results)?;
        results.files.push(path);
    }
    Ok(results)
}

fn load_file(path: &Path, results: &mut Results) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let trimmed = text.trim_start();
    let is_document = trimmed.starts_with('[')
        || (trimmed.starts_with('{')
            && serde_json::from_str::<Value>(trimmed).is_ok()
            && text.lines().filter(|l| !l.trim().is_empty()).count() > 1);
    let mut records: Vec<(usize, Value)> = Vec::new();
    if is_document {
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?;
        match v {
            Value::Array(items) => records.extend(items.into_iter().map(|v| (1, v))),
            v => records.push((1, v)),
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).with_context(|| {
                format!(
                    "{}:{}: not valid JSON (a partial or damaged results file?)",
                    path.display(),
                    i + 1
                )
            })?;
            records.push((i + 1, v));
        }
    }
    let mut command: Option<String> = None;
    for (line, v) in records {
        if let Some(meta) = v.get("seedbed_meta") {
            command = meta
                .get("command")
                .and_then(Value::as_str)
                .map(str::to_string);
            continue;
        }
        let kind = classify(&v).with_context(|| {
            format!(
                "{}:{line}: a record no chart knows (expected results of seedbed bench io, \
                 bench object, bench lsm, bench iam, bench cluster, cluster compare or sim sweep)",
                path.display()
            )
        })?;
        results.by_kind.entry(kind).or_default().push(Record {
            value: v,
            command: command.clone(),
        });
    }
    Ok(())
}

/// A field as f64, or an error naming the field and the kind.
pub fn num(r: &Record, field: &str) -> anyhow::Result<f64> {
    r.value
        .get(field)
        .and_then(Value::as_f64)
        .with_context(|| format!("a record lacks the number '{field}': {}", r.value))
}

/// A field as a string, or an error.
pub fn text<'a>(r: &'a Record, field: &str) -> anyhow::Result<&'a str> {
    r.value
        .get(field)
        .and_then(Value::as_str)
        .with_context(|| format!("a record lacks the text '{field}': {}", r.value))
}
