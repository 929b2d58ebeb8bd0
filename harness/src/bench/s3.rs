//! `seedbed bench s3`: load against an S3 endpoint in the spirit of MinIO's warp — PUT, GET,
//! mixed and LIST cells per object size and concurrency, each bounded by time, with objects/s,
//! MiB/s, latency percentiles, GET time to first byte and errors — and `--compare`, the
//! protocol's cost on one store (the same GETs in-process and over HTTP).
//!
//! Without `--endpoint` it starts a server in this process on a fresh store (loopback, a free
//! port) and removes it afterwards. The generator only sends to loopback addresses.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use seedbed_server::bench::{self, client::Endpoint, workload, Target};

use crate::bench::io::{human_bytes, parse_size};

/// Options of `seedbed bench s3`.
#[derive(Debug, Clone, clap::Args)]
pub struct S3BenchArgs {
    /// The endpoint (http://127.0.0.1:PORT). Omit to bench a server started in this process on
    /// a fresh store.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Access key ID (default: $AWS_ACCESS_KEY_ID).
    #[arg(long)]
    pub access_key: Option<String>,
    /// Secret access key (default: $AWS_SECRET_ACCESS_KEY).
    #[arg(long)]
    pub secret_key: Option<String>,
    /// Signing region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Bucket to use (created if missing).
    #[arg(long, default_value = "seedbed-bench")]
    pub bucket: String,
    /// Operations, comma-separated: put, get, mixed, list (with --compare: put and get; the
    /// others have no in-process twin and are skipped).
    #[arg(long, value_delimiter = ',', default_value = "put,get,mixed,list")]
    pub ops: Vec<String>,
    /// Object sizes, comma-separated (4KiB to 64MiB).
    #[arg(long, value_delimiter = ',', value_parser = parse_size, default_value = "4KiB,1MiB,16MiB")]
    pub sizes: Vec<u64>,
    /// Concurrent clients, comma-separated (1 to 64).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub concurrency: Vec<usize>,
    /// How long each cell runs (e.g. 10s, 500ms, 1m).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub duration: Duration,
    /// Objects prepared per size for GET and mixed (bounded to --budget bytes).
    #[arg(long, default_value_t = 256)]
    pub objects: usize,
    /// Objects prepared for LIST.
    #[arg(long, default_value_t = 1000)]
    pub list_objects: usize,
    /// Most bytes a size's objects may occupy in the store.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    pub budget: u64,
    /// Compare GETs and PUTs in-process and over HTTP on one store instead (the protocol's
    /// cost). Both sides need the same store, and a store is open in one process at a time,
    /// so the comparison starts its own server on it: it cannot be pointed at --endpoint.
    #[arg(long, conflicts_with = "endpoint")]
    pub compare: bool,
    /// Read objects through the page cache instead of with O_DIRECT (the store's default), in
    /// the server this command starts (and, with --compare, on the in-process side too).
    #[arg(long, conflicts_with = "endpoint")]
    pub cached_reads: bool,
    /// Alternating rounds per --compare case (the median counts).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Directory for an in-process store (default: ./seedbed-bench-s3-<pid>, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write one JSON record per cell (JSON lines) to this file, for `seedbed report`.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A short run: 4 KiB and 1 MiB, concurrency 1 and 8, 2 s per cell.
    #[arg(long)]
    pub quick: bool,
}

/// `10s`, `500ms`, `1m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 10s, 500ms or 1m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("'{s}': the unit must be ms, s or m")),
    };
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(format!("'{s}': a cell runs between 1 ms and 1 hour"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn scratch(args: &S3BenchArgs) -> anyhow::Result<(PathBuf, bool)> {
    match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("--dir {}", d.display()))?;
            Ok((d.clone(), false))
        }
        None => {
            let d = PathBuf::from(format!("seedbed-bench-s3-{}", std::process::id()));
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            Ok((d, true))
        }
    }
}

fn write_json<T: serde::Serialize>(path: &Option<PathBuf>, records: &[T]) -> anyhow::Result<()> {
    if let Some(p) = path {
        let mut text = String::new();
        for r in records {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// Run `seedbed bench s3`.
pub fn run(args: &S3BenchArgs) -> anyhow::Result<Vec<workload::Record>> {
    let mut args = args.clone();
    if args.quick {
        args.sizes = vec![4 << 10, 1 << 20];
        args.concurrency = vec![1, 8];
        args.duration = Duration::from_secs(2);
        args.objects = args.objects.min(64);
        args.list_objects = args.list_objects.min(200);
    }
    for &c in &args.concurrency {
        if !(1..=64).contains(&c) {
            bail!("--concurrency {c}: give 1 to 64 clients");
        }
    }
    for &s in &args.sizes {
        if !(1..=(64 << 20)).contains(&s) {
            bail!("--sizes {}: give 1 byte to 64 MiB", human_bytes(s));
        }
    }
    if args.compare {
        run_compare(&args)?;
        return Ok(Vec::new());
    }
    let ops = args
        .ops
        .iter()
        .map(|o| workload::Op::parse(o))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (target, cleanup) = match &args.endpoint {
        Some(url) => {
            let key = args
                .access_key
                .clone()
                .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok())
                .context("give --access-key (or set AWS_ACCESS_KEY_ID)")?;
            let secret = args
                .secret_key
                .clone()
                .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok())
                .context("give --secret-key (or set AWS_SECRET_ACCESS_KEY)")?;
            (
                Target::Endpoint(Endpoint::parse(url, &key, &secret, &args.region)?),
                None,
            )
        }
        None => {
            let (d, remove) = scratch(&args)?;
            (
                Target::InProcess(d.clone(), !args.cached_reads),
                remove.then_some(d),
            )
        }
    };
    let cfg = workload::Config {
        endpoint: Endpoint::parse("http://127.0.0.1:1", "", "", &args.region)?,
        bucket: args.bucket.clone(),
        ops,
        sizes: args.sizes.clone(),
        concurrency: args.concurrency.clone(),
        duration: args.duration,
        objects: args.objects.max(1),
        list_objects: args.list_objects.max(1),
        budget_bytes: args.budget,
    };
    println!(
        "{:<6} {:>8} {:>5} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "op",
        "size",
        "conc",
        "objects/s",
        "MiB/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "ttfb p50",
        "errors"
    );
    let result = bench::run_load(target, cfg, |r| {
        println!(
            "{:<6} {:>8} {:>5} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>7}",
            r.op,
            if r.object_bytes == 0 {
                "-".to_string()
            } else {
                human_bytes(r.object_bytes)
            },
            r.concurrency,
            r.ops_per_s,
            r.mib_per_s,
            r.latency_ms.p50,
            r.latency_ms.p90,
            r.latency_ms.p99,
            r.latency_ms.p999,
            r.ttfb_ms
                .as_ref()
                .map(|t| format!("{:.2}", t.p50))
                .unwrap_or_else(|| "-".into()),
            r.errors
        );
        if let Some(e) = &r.first_error {
            println!("       first error: {e}");
        }
    });
    if let Some(d) = cleanup {
        let _ = std::fs::remove_dir_all(d);
    }
    let records = result?;
    write_json(&args.json, &records)?;
    Ok(records)
}

fn run_compare(args: &S3BenchArgs) -> anyhow::Result<()> {
    let ops: Vec<workload::Op> = args
        .ops
        .iter()
        .map(|o| workload::Op::parse(o))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .filter(|op| matches!(op, workload::Op::Get | workload::Op::Put))
        .collect();
    if ops.is_empty() {
        bail!("--compare measures put and get: give --ops put, get or put,get");
    }
    let (dir, remove) = scratch(args)?;
    let cases: Vec<(u64, usize)> = args
        .sizes
        .iter()
        .flat_map(|s| args.concurrency.iter().map(move |c| (*s, *c)))
        .collect();
    println!(
        "In-process engine vs HTTP (SigV4, s3s, loopback), {} round(s) of {:?} each, objects read {}, median:",
        args.rounds,
        args.duration,
        if args.cached_reads {
            "through the page cache"
        } else {
            "with O_DIRECT"
        }
    );
    println!(
        "{:<4} {:>8} {:>5} {:>14} {:>14} {:>12} {:>12} {:>7}",
        "op", "size", "conc", "in-process/s", "HTTP/s", "in-proc MiB/s", "HTTP MiB/s", "ratio"
    );
    let result = bench::run_compare(
        &dir,
        !args.cached_reads,
        &cases,
        &ops,
        args.objects.max(1),
        args.rounds.max(1),
        args.duration,
        |r| {
            println!(
                "{:<4} {:>8} {:>5} {:>14.1} {:>14.1} {:>12.1} {:>12.1} {:>6.0}%",
                r.op,
                human_bytes(r.object_bytes),
                r.concurrency,
                r.inprocess_median,
                r.http_median,
                r.inprocess_mib_s,
                r.http_mib_s,
                r.ratio * 100.0
            );
        },
    );
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let records = result?;
    write_json(&args.json, &records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: S3BenchArgs,
    }

    /// `--cached-reads` configures the server this command starts; against someone else's
    /// endpoint it would silently do nothing, so clap refuses the pair.
    #[test]
    fn cached_reads_only_for_a_server_of_our_own() {
        use clap::Parser;
        let ok = Cli::try_parse_from(["s3", "--compare", "--cached-reads"]).unwrap();
        assert!(ok.args.cached_reads);
        let err = Cli::try_parse_from([
            "s3",
            "--cached-reads",
            "--endpoint",
            "http://127.0.0.1:9000",
        ])
        .unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(err.to_string().contains("--cached-reads"), "{err}");
    }

    #[test]
    fn compare_refuses_an_endpoint_instead_of_ignoring_it() {
        use clap::Parser;
        let ok = Cli::try_parse_from(["s3", "--compare", "--ops", "get"]).unwrap();
        assert!(ok.args.compare && ok.args.endpoint.is_none());
        let err = Cli::try_parse_from(["s3", "--compare", "--endpoint", "http://127.0.0.1:9000"])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("--compare") && msg.contains("--endpoint"),
            "{msg}"
        );
    }
}
