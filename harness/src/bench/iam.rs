//! `seedbed bench iam`: IAM evaluation latency for policy sets of growing size, on the fast
//! path (`decide`) and with an explanation (`explain`), timed in batches so that the clock's own
//! cost does not swamp sub-microsecond decisions.
//!
//! The policy sets are `seedbed_engine::iam::sample::policy_set_input(n)`: every statement has
//! two conditions and only the last one matches, so every statement is examined. The criterion
//! bench (`cargo bench -p seedbed-benches --bench iam`, with `--features cedar` beside
//! cedar-policy) measures the same sets.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use seedbed_engine::iam::{decide, explain, parse_input, sample, Decision};
use serde::Serialize;

/// Options of `seedbed bench iam`.
#[derive(Debug, Clone, clap::Args)]
pub struct IamBenchArgs {
    /// Statement counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100")]
    pub statements: Vec<usize>,
    /// Time per size, seconds.
    #[arg(long, default_value_t = 2.0)]
    pub secs: f64,
    /// Write one JSON record per size (JSON lines) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One measured policy-set size.
#[derive(Clone, Debug, Serialize)]
pub struct IamBenchRecord {
    /// Always `bench-iam`, so that `seedbed report` knows the record.
    pub kind: &'static str,
    /// Statements in the set.
    pub statements: usize,
    /// Median time of one `decide`, nanoseconds (median over batches).
    pub median_ns: f64,
    /// Fastest batch's time per decision, nanoseconds.
    pub min_ns: f64,
    /// Median time of one `explain`, nanoseconds.
    pub explain_median_ns: f64,
    /// Decisions timed.
    pub decisions: u64,
}

/// Time `f` in batches for about `budget`; returns (median, min) nanoseconds per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> (f64, f64, u64) {
    // Size a batch to take about 1 ms, so Instant's cost is noise.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed() >= Duration::from_micros(500) || batch >= 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    // Bounded: at least 5 and at most 10,000 batches.
    while samples.len() < 5 || (start.elapsed() < budget && samples.len() < 10_000) {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[0],
        batch * samples.len() as u64,
    )
}

/// Measure each size for about `budget`.
pub fn latency_bench(sizes: &[usize], budget: Duration) -> anyhow::Result<Vec<IamBenchRecord>> {
    let mut out = Vec::new();
    for &n in sizes {
        anyhow::ensure!(n >= 1, "a policy set needs at least one statement");
        let (set, ctx) = parse_input(&sample::policy_set_input(n))
            .map_err(|e| anyhow::anyhow!("sample policy set of {n} statements: {e}"))?;
        anyhow::ensure!(
            decide(&set, &ctx).0 == Decision::Allow,
            "the sample set of {n} statements must allow (its last statement matches)"
        );
        let (median_ns, min_ns, decisions) = time_per_call(budget, || {
            black_box(decide(black_box(&set), black_box(&ctx)));
        });
        let (explain_median_ns, _, _) = time_per_call(budget / 4, || {
            black_box(explain(black_box(&set), black_box(&ctx)));
        });
        out.push(IamBenchRecord {
            kind: "bench-iam",
            statements: n,
            median_ns,
            min_ns,
            explain_median_ns,
            decisions,
        });
    }
    Ok(out)
}

/// Run `seedbed bench iam`.
pub fn run(args: &IamBenchArgs) -> anyhow::Result<Vec<IamBenchRecord>> {
    anyhow::ensure!(
        args.secs > 0.0 && args.secs <= 600.0,
        "--secs must be in (0, 600]"
    );
    let records = latency_bench(&args.statements, Duration::from_secs_f64(args.secs))?;
    println!(
        "{:>10} {:>14} {:>12} {:>16}",
        "statements", "decide median", "decide min", "explain median"
    );
    for r in &records {
        println!(
            "{:>10} {:>11.0} ns {:>9.0} ns {:>13.0} ns",
            r.statements, r.median_ns, r.min_ns, r.explain_median_ns
        );
    }
    if let Some(path) = &args.json {
        let mut text = String::new();
        for r in &records {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(records)
}
