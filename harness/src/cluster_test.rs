//! `seedbed cluster test`: the simulator's quorum workload against real processes. The run
//! (cluster, clients, nemesis, history) is `seedbed_cluster::testrun`'s; the operations are
//! the simulator's own generator (`Quorum::next_op`: its key distribution, mix and unique
//! values); the verdict is the simulator's own checkers, fed the recorded history
//! (`seedbed_sim::workloads::quorum::check::history`). This file joins the two, which only
//! the command line may: the real runtime never depends on the simulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::cluster_cmd::QuorumParams;

use seedbed_cluster::admin::AdminError;
use seedbed_cluster::nemesis::parse_nemesis;
use seedbed_cluster::testrun::{self, OpSource, TestOptions, TestRun};
use seedbed_engine::rng::{os_seed, DetRng};
use seedbed_sim::time::fmt_nanos;
use seedbed_sim::workloads::quorum::check::history::{check_history, ops_named, HistoryVerdict};
use seedbed_sim::workloads::quorum::history::{HistoryLine, INVOKE};
use seedbed_sim::workloads::quorum::msg::{Op, Reply};
use seedbed_sim::workloads::quorum::Quorum;
use seedbed_sim::{NodeId, RunConfig, Workload};

/// The `--set` keys a test takes: the operation mix and the planted bug. (The protocol's other
/// settings are `up`'s options; timings are the cluster's.)
const SET_KEYS: &[&str] = &["bug", "sloppy", "lin", "keys", "dist", "mix"];

/// Arguments of `seedbed cluster test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// How long clients and nemesis run (10s, 500ms, 2m); a quiet period follows.
    #[arg(long, default_value = "60s")]
    pub(crate) time: String,
    /// Faults to inject, one at a time on a seeded schedule: a comma-separated list of kill
    /// (SIGKILL, later restart), pause (SIGSTOP, later SIGCONT), partition (a random minority
    /// cut off, later healed), skew (one node's clock offset by 0.1–1 s either way, later
    /// cleared); or none.
    #[arg(long, default_value = "kill,pause,partition")]
    pub(crate) nemesis: String,
    /// Node processes.
    #[arg(long, default_value_t = 5)]
    pub(crate) nodes: u32,
    #[command(flatten)]
    pub(crate) q: QuorumParams,
    /// Concurrent clients (each runs one operation at a time).
    #[arg(long, default_value_t = 4)]
    pub(crate) clients: u32,
    /// Seed of the operations and of the nemesis schedule (default: from the OS, printed).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// How long the quiet period waits for the replicas to converge before it probes them.
    #[arg(long, default_value = "10s")]
    pub(crate) quiet: String,
    /// A parameter of the simulator's quorum workload, KEY=VALUE (repeatable): bug (a planted
    /// bug, passed to every node), lin (measure, or enforce: a key that is not linearizable
    /// fails the run), sloppy (true, or false: strict quorums, under which the
    /// regular-register checker runs when R + W > N), keys, dist (zipf, uniform), mix
    /// (get:put:delete weights).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) params: Vec<String>,
    /// Where to write the history (JSON lines; default: history.jsonl in the cluster
    /// directory).
    #[arg(long)]
    pub(crate) history: Option<PathBuf>,
}

/// `10s`, `500ms`, `2m`.
fn parse_duration(flag: &str, s: &str) -> Result<Duration, AdminError> {
    let bad = || {
        AdminError::Invalid(format!(
            "{flag} '{s}': expected a duration like 10s, 500ms or 2m, from 1ms to 1h"
        ))
    };
    let t = s.trim();
    let i = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let n: f64 = t[..i].parse().map_err(|_| bad())?;
    let secs = match &t[i..] {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(bad()),
    };
    if !(0.001..=3600.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The simulator's quorum workload as the test's operation source.
struct SimOps {
    q: Quorum,
    rng: DetRng,
}

impl OpSource for SimOps {
    fn next_op(&mut self, index: u64) -> (NodeId, Op) {
        self.q.next_op(&mut self.rng, index)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, Op)> {
        self.q.quiet_ops()
    }
}

/// Run `seedbed cluster test` in `dir` (a fresh temporary directory, kept, when `None`).
/// Returns whether the checkers passed.
pub fn run(dir: Option<&Path>, exe: &Path, a: TestArgs) -> Result<bool, AdminError> {
    let c = run_checked(dir, exe, &a, None)?;
    report(&c.run, &c.verdict, &c.params, &c.history);
    Ok(c.verdict.passed())
}

/// A checked run: what it recorded and what the checkers said.
pub struct Checked {
    /// The run.
    pub run: TestRun,
    /// The checkers' verdict and measurements.
    pub verdict: HistoryVerdict,
    /// The protocol settings the nodes ran.
    pub params: std::sync::Arc<seedbed_sim::workloads::quorum::params::Params>,
    /// Where the history was written.
    pub history: PathBuf,
}

/// Run a test and its checkers without printing the report; `watch_views` samples the
/// nodes' SWIM views that often (see `TestOptions::watch_views`).
pub fn run_checked(
    dir: Option<&Path>,
    exe: &Path,
    a: &TestArgs,
    watch_views: Option<Duration>,
) -> Result<Checked, AdminError> {
    let invalid = AdminError::Invalid;
    let time = parse_duration("--time", &a.time)?;
    let quiet = parse_duration("--quiet", &a.quiet)?;
    let nemesis = parse_nemesis(&a.nemesis).map_err(invalid)?;
    let mut params = BTreeMap::new();
    for p in &a.params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(invalid(format!("--set {p}: expected KEY=VALUE")));
        };
        let k = k.trim();
        if !SET_KEYS.contains(&k) {
            return Err(invalid(format!(
                "--set {p}: unknown key '{k}'; a cluster test takes {} (N, R, W and timings are options of their own)",
                SET_KEYS.join(", ")
            )));
        }
        params.insert(k.to_string(), v.trim().to_string());
    }
    let enforce_lin = match params.get("lin").map(String::as_str) {
        None | Some("measure") => false,
        Some("enforce") => true,
        Some(v) => {
            return Err(invalid(format!(
                "--set lin={v}: expected measure or enforce"
            )))
        }
    };
    let bug = params.get("bug").cloned().unwrap_or_else(|| "none".into());
    let sloppy = match params.get("sloppy").map(String::as_str) {
        None | Some("true") => true,
        Some("false") => false,
        Some(v) => return Err(invalid(format!("--set sloppy={v}: expected true or false"))),
    };
    let seed = a.seed.unwrap_or_else(os_seed);
    let up = a.q.up_options(a.nodes, "gossip", 8, &bug, sloppy);
    // The simulator's workload, built as `sim run --workload quorum --set ...` builds it; its
    // parameter checks name what is wrong (an unknown bug, a bad mix).
    let mut config = RunConfig::new("quorum", seed);
    config.params = params;
    for (k, v) in [("n", a.q.n), ("r", a.q.r), ("w", a.q.w)] {
        config.params.insert(k.into(), v.to_string());
    }
    config.params.insert("membership".into(), "gossip".into());
    if a.nodes == 0 || a.nodes > seedbed_cluster::config::NODES_MAX {
        return Err(invalid(format!(
            "--nodes {}: expected 1..={}",
            a.nodes,
            seedbed_cluster::config::NODES_MAX
        )));
    }
    let q = Quorum::new(&config, a.nodes).map_err(|e| invalid(e.to_string()))?;
    if let Some(h) = &a.history {
        let parent = h.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) || h.is_dir() {
            return Err(invalid(format!(
                "--history {}: not a file in an existing directory",
                h.display()
            )));
        }
    }
    let source = SimOps {
        q,
        rng: DetRng::new(seed).fork("clients"),
    };

    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => tempfile::Builder::new()
            .prefix("seedbed-cluster-test-")
            .tempdir()
            .map_err(|e| AdminError::Failed(format!("a temporary directory: {e}")))?
            .keep(),
    };
    let history = a
        .history
        .clone()
        .unwrap_or_else(|| dir.join("history.jsonl"));
    let o = TestOptions {
        up,
        time,
        clients: a.clients,
        nemesis: nemesis.clone(),
        seed,
        quiet,
        request_timeout: Duration::from_secs(3),
        history: history.clone(),
        watch_views,
    };
    let names: Vec<&str> = nemesis.iter().map(|k| k.name()).collect();
    println!(
        "cluster test: {} nodes (N={} R={} W={}, {} quorums, io {}, sync {}), {} clients, {:?}, nemesis {}, seed {seed}, bug {bug}",
        a.nodes,
        a.q.n,
        a.q.r,
        a.q.w,
        if sloppy { "sloppy" } else { "strict" },
        a.q.io,
        a.q.sync,
        a.clients,
        time,
        if names.is_empty() { "none".into() } else { names.join(",") },
    );
    let run = testrun::run_test(&dir, exe, &o, Box::new(source))?;
    let params = run.config.params();
    let verdict = check_history(&params, &run.history, enforce_lin).map_err(AdminError::Failed)?;
    Ok(Checked {
        run,
        verdict,
        params,
        history,
    })
}

fn secs(t_ns: u64) -> String {
    format!("{:.3}s", t_ns as f64 / 1e9)
}

fn report(
    run: &TestRun,
    v: &HistoryVerdict,
    p: &seedbed_sim::workloads::quorum::params::Params,
    history: &Path,
) {
    let mut by_reply = [0u64; 4]; // written, got, failed, busy
    for l in &run.history {
        match &l.reply {
            Some(Reply::Written(..)) => by_reply[0] += 1,
            Some(Reply::Got(..)) => by_reply[1] += 1,
            Some(Reply::Failed) => by_reply[2] += 1,
            Some(Reply::Busy) => by_reply[3] += 1,
            _ => {}
        }
    }
    println!();
    println!(
        "operations: {} invoked; {} answered ({} writes acknowledged, {} reads answered, {} failed, {} busy); {} lost (outcome unknown); {} rejected (node down)",
        v.invoked, v.replied, by_reply[0], by_reply[1], by_reply[2], by_reply[3], v.lost, v.rejected
    );
    println!("faults injected: {}", run.faults);
    match run.converged_after {
        Some(d) => println!(
            "replicas converged {:.1}s after the faults stopped",
            d.as_secs_f64()
        ),
        None => println!("replicas had NOT converged when the quiet period ended"),
    }
    let (keys, bad) = v.linearizability(p);
    println!(
        "linearizability (measured): {bad} of {keys} keys not linearizable (Dynamo-style quorums promise no more; --set lin=enforce fails on it)"
    );
    print!("{}", v.staleness_table());
    let failed: Vec<&str> = v.violations.iter().map(|x| x.checker.as_str()).collect();
    let states: Vec<String> = v
        .checkers
        .iter()
        .map(|c| {
            let s = if failed.contains(c) {
                "FAILED"
            } else if *c == "quorum-regular" && p.sloppy {
                "idle (sloppy quorums promise no regular register; --set sloppy=false)"
            } else if *c == "quorum-regular" && p.r + p.w <= p.n {
                "idle (R + W <= N promises no regular register)"
            } else {
                "ok"
            };
            format!("{c} {s}")
        })
        .collect();
    println!("checkers: {}", states.join(", "));
    for x in &v.violations {
        println!();
        println!(
            "ANOMALY {} at {}: {}",
            x.checker,
            fmt_nanos(x.at_ns),
            x.message
        );
        let ids = ops_named(&x.message);
        if !ids.is_empty() {
            println!("  operations involved:");
        }
        for id in ids {
            for l in run.history.iter().filter(|l| l.op_id == Some(id)) {
                println!("{}", line(l));
            }
        }
    }
    println!();
    println!(
        "verdict: {}",
        if v.passed() {
            "PASS — the history passes the simulator's checkers"
        } else {
            "FAIL"
        }
    );
    println!("history: {}", history.display());
}

fn line(l: &HistoryLine) -> String {
    let who = match (l.client, l.node) {
        (Some(c), Some(n)) => format!("client {c} -> n{n}"),
        (None, Some(n)) => format!("n{n}"),
        _ => String::new(),
    };
    let mut detail = l.detail.clone();
    if l.event != INVOKE {
        if let Some((cut, _)) = detail.char_indices().nth(400) {
            detail.truncate(cut);
            detail.push_str(" …");
        }
    }
    format!(
        "    {:>9} {:<8} {:<16} {}",
        secs(l.t_ns),
        l.event,
        who,
        detail
    )
}
