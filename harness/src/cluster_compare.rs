//! `seedbed cluster compare`: the simulator against reality, for one (N, R, W) and fault mix.
//!
//! It runs `seedbed cluster test` (real processes, the nemesis, the simulator's checkers)
//! while sampling every node's SWIM view, and the simulator on the same settings: the quorum
//! workload (same N, R, W, node count, SWIM membership, sloppiness, sync policy) and the gossip
//! workload (SWIM alone, same node count), both with a fault plan of the nemesis's kinds. It
//! prints, side by side, the staleness table and SWIM's detection times and false positives,
//! and writes them as JSON lines (`kind: cluster-compare`) that `seedbed report` draws.
//!
//! **What is measured alike.**
//! - Staleness: the same checker (`quorum-staleness`) over the same operation mix; real reads
//!   come from the recorded history, simulated ones from the world.
//! - Detection: from a crash to the first member holding it failed, and to every other member
//!   holding it failed. Real: the nemesis's `kill` (SIGKILL) to the first view sample showing
//!   `F`, views sampled every `--watch-ms` and stamped on arrival (an upper bound, off by at
//!   most one sampling interval plus a status round trip). Simulated: the gossip workload's
//!   crash-stops, exact in virtual time.
//! - False positives: `failed` declarations about a member whose process was alive — paused
//!   or cut off counts as alive, the simulator's rule (slow is not dead) — per 1,000
//!   member-periods. Real: counted from the samples, so a declaration refuted between two
//!   samples is missed (a lower bound).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use seedbed_cluster::admin::AdminError;
use seedbed_cluster::nemesis::parse_nemesis;
use seedbed_cluster::nemesis::FaultKind;
use seedbed_cluster::testrun::{TestRun, ViewSample};
use seedbed_sim::config::FaultSource;
use seedbed_sim::faults::plan::{FaultPlan, Periodic};
use seedbed_sim::workloads::gossip::msg::Status;
use seedbed_sim::workloads::gossip::Params as GossipParams;
use seedbed_sim::workloads::quorum::check::staleness::{self, Row};
use seedbed_sim::workloads::quorum::history::NEMESIS;
use seedbed_sim::{NodeId, RunConfig};

use crate::cluster_test::TestArgs;

/// Arguments of `seedbed cluster compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub(crate) test: TestArgs,
    /// Simulator seeds for each of its two workloads, like 0..100.
    #[arg(long, default_value = "0..100")]
    sim_seeds: String,
    /// How often every node's SWIM view is sampled during the real run, in milliseconds.
    #[arg(long, default_value_t = 20)]
    watch_ms: u64,
    /// Write the comparison as JSON lines to this file, for `seedbed report`.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One side's staleness row.
#[derive(Clone, Debug, Serialize)]
pub struct StalenessRecord {
    /// Always `cluster-compare`.
    pub kind: &'static str,
    /// Always `staleness`.
    pub section: &'static str,
    /// `real` or `sim`.
    pub source: &'static str,
    /// Node count.
    pub nodes: u32,
    /// The table's row.
    #[serde(flatten)]
    pub row: Row,
}

/// One side's SWIM measurements.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SwimRecord {
    /// Always `cluster-compare`.
    pub kind: &'static str,
    /// Always `swim`.
    pub section: &'static str,
    /// `real` or `sim`.
    pub source: &'static str,
    /// Node count.
    pub nodes: u32,
    /// Crashes measured.
    pub crashes: u64,
    /// Mean time from a crash to the first member suspecting it, ms.
    pub first_suspect_ms: Option<f64>,
    /// Mean time from a crash to the first member declaring it failed, ms.
    pub first_failed_ms: Option<f64>,
    /// Mean time from a crash to every other member holding it failed, ms (over crashes that
    /// got there).
    pub all_failed_ms: Option<f64>,
    /// `failed` declarations about members whose process was alive.
    pub false_positives: u64,
    /// The same per 1,000 member-periods.
    pub fp_per_1k_node_periods: f64,
    /// Member-periods observed.
    pub node_periods: f64,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// `A..B` seeds.
fn parse_seeds(s: &str) -> Result<std::ops::Range<u64>, AdminError> {
    let bad = || AdminError::Invalid(format!("--sim-seeds '{s}': expected A..B like 0..100"));
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a >= b || b - a > 100_000 {
        return Err(bad());
    }
    Ok(a..b)
}

/// The simulator's fault plan for the nemesis's kinds. The real nemesis injects one fault at
/// a time, 0.3–1.2 s apart, each held 0.5–2 s: one every ~2 s, lasting up to 2 s.
fn plan_for(kinds: &[FaultKind]) -> FaultPlan {
    let every = Some(Periodic {
        every_ms: 2_000,
        duration_ms_max: 2_000,
    });
    let mut p = FaultPlan::none();
    for k in kinds {
        match k {
            FaultKind::Kill => p.crashes = every,
            FaultKind::Pause => p.pauses = every,
            FaultKind::Partition => p.partitions = every,
            FaultKind::Skew => p.clock.skew_ms_max = 1_000,
        }
    }
    p
}

/// Run the simulator's quorum workload over `seeds`; the staleness table of the sum.
fn sim_staleness(
    seeds: std::ops::Range<u64>,
    nodes: u32,
    params: &BTreeMap<String, String>,
    plan: &FaultPlan,
) -> Result<Vec<Row>, AdminError> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for seed in seeds {
        let mut c = RunConfig::new("quorum", seed);
        c.nodes = Some(nodes);
        c.params = params.clone();
        c.faults = FaultSource::Plan(Box::new(plan.clone()));
        // Four seconds of faults and operations, so a run holds a couple of faults of ~2 s.
        c.fault_ms = Some(4_000);
        c.ops = Some(4_000);
        let out = seedbed_sim::registry::run(&c, None)
            .map_err(|e| AdminError::Invalid(format!("the simulator: {e}")))?;
        for (k, v) in &out.metrics.scalars {
            *counts.entry(k.clone()).or_default() += *v as u64;
        }
    }
    Ok(staleness::table(&counts))
}

/// The gossip workload's fault period per run, virtual milliseconds (its default).
const GOSSIP_FAULT_MS: u64 = 10_000;

/// Run the simulator's gossip workload over `seeds`; its detection and false-positive
/// measurements, stop-weighted means over the runs.
fn sim_swim(
    seeds: std::ops::Range<u64>,
    nodes: u32,
    plan: &FaultPlan,
) -> Result<SwimRecord, AdminError> {
    let period_ms = GossipParams::default().period_ns as f64 / 1e6;
    let (mut crashes, mut fp, mut node_periods) = (0u64, 0u64, 0.0);
    let mut sums = [(0.0, 0u64); 3];
    for seed in seeds {
        let mut c = RunConfig::new("gossip", seed);
        c.nodes = Some(nodes);
        c.faults = FaultSource::Plan(Box::new(plan.clone()));
        c.fault_ms = Some(GOSSIP_FAULT_MS);
        let out = seedbed_sim::registry::run(&c, None)
            .map_err(|e| AdminError::Invalid(format!("the simulator: {e}")))?;
        let m = &out.metrics.scalars;
        let stops = m.get("stops").copied().unwrap_or(0.0) as u64;
        crashes += stops;
        for (i, name) in [
            "first_suspect_periods",
            "first_failed_periods",
            "all_failed_periods",
        ]
        .iter()
        .enumerate()
        {
            if let Some(v) = m.get(*name) {
                sums[i].0 += v * stops as f64;
                sums[i].1 += stops;
            }
        }
        fp += m.get("false_positives").copied().unwrap_or(0.0) as u64;
        // Member-periods of the fault period only, as the real run counts its nemesis time
        // (the quiet period after it would dilute the rate).
        node_periods += f64::from(nodes) * (GOSSIP_FAULT_MS as f64 / period_ms);
    }
    let avg = |i: usize| (sums[i].1 > 0).then(|| sums[i].0 / sums[i].1 as f64 * period_ms);
    Ok(SwimRecord {
        kind: "cluster-compare",
        section: "swim",
        source: "sim",
        nodes,
        crashes,
        first_suspect_ms: avg(0),
        first_failed_ms: avg(1),
        all_failed_ms: avg(2),
        false_positives: fp,
        fp_per_1k_node_periods: fp as f64 * 1_000.0 / node_periods.max(1.0),
        node_periods,
    })
}

/// `kill nX` … `restart nX` intervals from the history's nemesis lines: (node, from, to).
fn crash_intervals(run: &TestRun) -> Vec<(NodeId, u64, u64)> {
    let mut open: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut out = Vec::new();
    let node_of = |s: &str| s.trim().strip_prefix('n').and_then(|n| n.parse().ok());
    for l in run.history.iter().filter(|l| l.event == NEMESIS) {
        if let Some(n) = l.detail.strip_prefix("kill ").and_then(node_of) {
            open.insert(n, l.t_ns);
        } else if let Some(n) = l.detail.strip_prefix("restart ").and_then(node_of) {
            if let Some(from) = open.remove(&n) {
                out.push((n, from, l.t_ns));
            }
        }
    }
    out
}

/// SWIM's detection and false positives from the sampled views of a real run.
fn real_swim(run: &TestRun, nodes: u32, run_ns: u64) -> SwimRecord {
    let period_ms = GossipParams::default().period_ns as f64 / 1e6;
    let crashes = crash_intervals(run);
    let dead_at = |x: NodeId, t: u64| crashes.iter().any(|&(n, a, b)| n == x && a <= t && t <= b);
    let mut by_observer: BTreeMap<NodeId, Vec<&ViewSample>> = BTreeMap::new();
    for s in &run.views {
        by_observer.entry(s.observer).or_default().push(s);
    }
    for v in by_observer.values_mut() {
        v.sort_by_key(|s| s.t_ns);
    }
    let (mut first_suspect, mut first_failed, mut all_failed) =
        (Vec::new(), Vec::new(), Vec::new());
    for &(x, from, to) in &crashes {
        let mut suspect_at = Vec::new();
        let mut failed_at = Vec::new();
        let mut all = true;
        for (&y, samples) in &by_observer {
            if y == x {
                continue;
            }
            let during = || samples.iter().filter(|s| s.t_ns >= from && s.t_ns <= to);
            let of = |s: &&&ViewSample| s.view.get(x as usize).copied();
            if let Some(s) =
                during().find(|s| matches!(of(s), Some(Status::Suspect | Status::Failed)))
            {
                suspect_at.push(s.t_ns);
            }
            match during().find(|s| of(s) == Some(Status::Failed)) {
                Some(s) => failed_at.push(s.t_ns),
                None => all = false,
            }
        }
        let ms = |t: u64| (t - from) as f64 / 1e6;
        if let Some(&t) = suspect_at.iter().min() {
            first_suspect.push(ms(t));
        }
        if let Some(&t) = failed_at.iter().min() {
            first_failed.push(ms(t));
        }
        if all && !failed_at.is_empty() {
            all_failed.push(ms(*failed_at.iter().max().expect("non-empty")));
        }
    }
    // False positives: an observer's view of a live member turning to Failed.
    let mut fp = 0;
    for (&y, samples) in &by_observer {
        let mut prev: Vec<Status> = Vec::new();
        for s in samples {
            for x in 0..nodes {
                let now = s.view.get(x as usize).copied();
                let before = prev.get(x as usize).copied();
                if x != y
                    && now == Some(Status::Failed)
                    && before != Some(Status::Failed)
                    && !dead_at(x, s.t_ns)
                {
                    fp += 1;
                }
            }
            prev.clone_from(&s.view);
        }
    }
    let node_periods = f64::from(nodes) * (run_ns as f64 / 1e6 / period_ms);
    SwimRecord {
        kind: "cluster-compare",
        section: "swim",
        source: "real",
        nodes,
        crashes: crashes.len() as u64,
        first_suspect_ms: mean(&first_suspect),
        first_failed_ms: mean(&first_failed),
        all_failed_ms: mean(&all_failed),
        false_positives: fp,
        fp_per_1k_node_periods: fp as f64 * 1_000.0 / node_periods.max(1.0),
        node_periods,
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.0}"))
}

/// Run `seedbed cluster compare`. Returns whether the real run passed its checkers.
pub fn run(dir: Option<&Path>, exe: &Path, a: CompareArgs) -> Result<bool, AdminError> {
    let seeds = parse_seeds(&a.sim_seeds)?;
    if !(1..=10_000).contains(&a.watch_ms) {
        return Err(AdminError::Invalid(format!(
            "--watch-ms {}: expected 1..=10000",
            a.watch_ms
        )));
    }
    let kinds = parse_nemesis(&a.test.nemesis).map_err(AdminError::Invalid)?;
    let t = &a.test;
    // The simulator's quorum parameters: the real run's, as `cluster test` passes them.
    let mut params = BTreeMap::new();
    for (k, v) in [("n", t.q.n), ("r", t.q.r), ("w", t.q.w)] {
        params.insert(k.to_string(), v.to_string());
    }
    params.insert("membership".into(), "gossip".into());
    params.insert("sync".into(), t.q.sync.clone());
    for p in &t.params {
        if let Some((k, v)) = p.split_once('=') {
            if matches!(k.trim(), "sloppy" | "keys" | "dist" | "mix") {
                params.insert(k.trim().into(), v.trim().into());
            }
        }
    }
    let plan = plan_for(&kinds);
    println!(
        "simulator: quorum and gossip workloads, seeds {}, {} nodes, faults {:?}",
        a.sim_seeds,
        t.nodes,
        kinds.iter().map(|k| k.name()).collect::<Vec<_>>()
    );
    let sim_rows = sim_staleness(seeds.clone(), t.nodes, &params, &plan)?;
    let sim_swim = sim_swim(seeds, t.nodes, &plan)?;

    let checked =
        crate::cluster_test::run_checked(dir, exe, t, Some(Duration::from_millis(a.watch_ms)))?;
    let real_rows = staleness::table_of_run(&checked.verdict.metrics.scalars);
    let run_ns = checked
        .run
        .history
        .iter()
        .filter(|l| l.event == NEMESIS && l.detail == "quiet period begins")
        .map(|l| l.t_ns)
        .next()
        .unwrap_or(0);
    let real = real_swim(&checked.run, t.nodes, run_ns);

    println!();
    println!("staleness — the simulator's table beside the real run's (same checker):");
    println!(
        "  source {}",
        staleness::render(&sim_rows)
            .lines()
            .nth(1)
            .unwrap_or("")
            .trim_start()
    );
    let rows_of = |src: &str, rows: &[Row]| {
        for line in staleness::render(rows).lines().skip(2) {
            println!("  {src:<6} {}", line.trim_start());
        }
    };
    rows_of("sim", &sim_rows);
    rows_of("real", &real_rows);
    println!();
    println!("SWIM — crash to detection (ms), false `failed` declarations about live members:");
    println!(
        "  {:<6} {:>7} {:>14} {:>14} {:>12} {:>9} {:>12}",
        "source",
        "crashes",
        "first suspect",
        "first failed",
        "all failed",
        "false pos",
        "per 1k m-T"
    );
    for s in [&sim_swim, &real] {
        println!(
            "  {:<6} {:>7} {:>14} {:>14} {:>12} {:>9} {:>12.2}",
            s.source,
            s.crashes,
            opt(s.first_suspect_ms),
            opt(s.first_failed_ms),
            opt(s.all_failed_ms),
            s.false_positives,
            s.fp_per_1k_node_periods
        );
    }
    println!(
        "  (real: views sampled every {} ms, stamped on arrival; history {})",
        a.watch_ms,
        checked.history.display()
    );
    if let Some(path) = &a.json {
        let mut text = format!(
            "{}\n",
            serde_json::json!({"seedbed_meta": {"command": std::iter::once("seedbed".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")}})
        );
        let stale = |source, rows: &[Row]| -> Vec<StalenessRecord> {
            rows.iter()
                .map(|r| StalenessRecord {
                    kind: "cluster-compare",
                    section: "staleness",
                    source,
                    nodes: t.nodes,
                    row: r.clone(),
                })
                .collect()
        };
        for r in stale("sim", &sim_rows)
            .iter()
            .chain(stale("real", &real_rows).iter())
        {
            text.push_str(&json_line(r));
        }
        text.push_str(&json_line(&sim_swim));
        text.push_str(&json_line(&real));
        std::fs::write(path, text)
            .map_err(|e| AdminError::Invalid(format!("--json {}: {e}", path.display())))?;
        println!("wrote the comparison to {}", path.display());
    }
    Ok(checked.verdict.passed())
}

/// A record as one JSON line.
fn json_line(r: &impl Serialize) -> String {
    format!("{}\n", serde_json::to_string(r).expect("records serialise"))
}
