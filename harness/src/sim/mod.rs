//! `seedbed sim ...`: the deterministic simulator from the command line.
//!
//! Verbs, by what a bug hunter does: `run` one seed (and look at its trace or timeline), `sweep`
//! many seeds to find failures, `shrink` a failure to its smallest form, `replay` a trace file
//! to prove it still reproduces, `check-determinism` to prove the same seed gives the same run.
//! Every failure prints the one-line command that reruns it.

mod args;
pub mod sweep;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use seedbed_sim::config::{FaultSource, RunConfig};
use seedbed_sim::run::repro::{self, Sources};
use seedbed_sim::run::sweep::{seeds, SeedRange, Shard, SweepSummary};
use seedbed_sim::run::{determinism, shrink};
use seedbed_sim::trace::{self, diff, timeline, MemorySink, TraceSink};
use seedbed_sim::{registry, RunOutcome};

pub use args::ConfigArgs;

/// The simulator's verbs.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// List the workloads.
    List,
    /// Run one seed; print its trace hash, and on failure the violation and a repro line.
    ///
    /// `--trace FILE` writes the trace as JSON lines (virtual time, node, event, detail; the
    /// first line holds the config, the last the hash). `--timeline` prints a per-node timeline.
    Run {
        /// The seed.
        #[arg(long, short = 's')]
        seed: Option<u64>,
        #[command(flatten)]
        config: ConfigArgs,
        /// Write the trace to FILE (JSON lines).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Print a readable per-node timeline.
        #[arg(long)]
        timeline: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a range of seeds on all cores and summarise failures per checker.
    ///
    /// Results do not depend on --jobs or --shard: shard i/n runs every n-th seed from A+i, so n
    /// machines (a Slurm array, a Kubernetes indexed Job) cover A..B exactly once.
    Sweep {
        /// Seeds: A..B (B excluded), A..=B, or one seed.
        #[arg(long, default_value = "0..100")]
        seeds: SeedRange,
        /// Threads (each seed runs on one) [default: all cores].
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        /// Run only shard i of n (0-based), e.g. 3/8.
        #[arg(long, value_name = "i/n")]
        shard: Option<Shard>,
        #[command(flatten)]
        config: ConfigArgs,
        /// Print the summary as JSON (with every failure's repro line).
        #[arg(long)]
        json: bool,
    },
    /// Merge the `--json` outputs of a sharded sweep (one file per shard) into one summary.
    Merge {
        /// The shards' JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the merged summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rerun a trace file's seed and config (from its first line) and check the hash matches.
    Replay {
        /// The trace file (`sim run --trace FILE`).
        #[arg(long, value_name = "FILE")]
        trace: PathBuf,
        /// Also print the timeline.
        #[arg(long)]
        timeline: bool,
    },
    /// Cut a failing seed down — fewer ops, nodes, faults, an earlier stop — while the same
    /// checker still fails; write the smallest config and print its repro line.
    Shrink {
        /// The failing seed.
        #[arg(long, short = 's')]
        seed: Option<u64>,
        #[command(flatten)]
        config: ConfigArgs,
        /// Runs to spend at most.
        #[arg(long, default_value_t = shrink::RUNS_MAX_DEFAULT)]
        runs_max: u32,
        /// Where to write the shrunk config [default: seedbed-sim-repro/<workload>-<seed>.toml].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run each seed twice (and once untraced), compare hashes, and name the first differing
    /// event on a mismatch.
    CheckDeterminism {
        /// Seeds: A..B, A..=B, or one seed.
        #[arg(long, default_value = "0..4")]
        seeds: SeedRange,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Marks an error as the user's input being wrong — an unknown workload, a bad parameter, an
/// unreadable config, trace or sweep file — as opposed to an operation that failed (a failing
/// seed, a replay that does not match). Shown as `invalid input: ...`.
#[derive(Debug, Clone, Copy)]
pub struct InvalidInput;

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid input")
    }
}

/// Exit code for invalid input.
pub const EXIT_INVALID_INPUT: u8 = 2;

/// The exit code an error of a `sim` verb deserves: 2 for invalid input ([`InvalidInput`], or
/// any [`SimError`]: the simulator's errors are all about what it was asked), 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let invalid = e.downcast_ref::<InvalidInput>().is_some()
        || e.chain().any(|c| c.is::<seedbed_sim::SimError>());
    if invalid {
        EXIT_INVALID_INPUT
    } else {
        1
    }
}

/// Run one `sim` verb; returns the exit code: 0, 1 when the operation failed (a seed failed, a
/// replay did not match), 2 for invalid input.
pub fn run(cmd: SimCommand) -> ExitCode {
    match run_verb(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            if code == EXIT_INVALID_INPUT && e.downcast_ref::<InvalidInput>().is_none() {
                eprintln!("error: {InvalidInput}: {e:#}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(code)
        }
    }
}

fn run_verb(cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::List => {
            for w in registry::REGISTRY {
                let d = (w.defaults)();
                println!(
                    "{:<10} {} ({} nodes, {} ops by default)",
                    w.name, w.about, d.nodes, d.ops
                );
            }
            Ok(())
        }
        SimCommand::Run {
            seed,
            config,
            trace,
            timeline,
            json,
        } => cmd_run(seed, &config, trace.as_deref(), timeline, json),
        SimCommand::Sweep {
            seeds: range,
            jobs,
            shard,
            config,
            json,
        } => {
            let (base, sources) = config.build(None)?;
            let list: Vec<u64> = seeds(range, shard.unwrap_or_default()).collect();
            let jobs = jobs.unwrap_or_else(default_jobs);
            let report = sweep::run(&base, &sources, &list, jobs, None, !json)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                sweep::print(&report);
            }
            if report.summary.failed > 0 {
                bail!(
                    "{} of {} seeds failed",
                    report.summary.failed,
                    report.summary.seeds
                );
            }
            Ok(())
        }
        SimCommand::Merge { files, json } => cmd_merge(&files, json),
        SimCommand::Replay { trace, timeline } => cmd_replay(&trace, timeline),
        SimCommand::Shrink {
            seed,
            config,
            runs_max,
            out,
        } => cmd_shrink(seed, &config, runs_max, out),
        SimCommand::CheckDeterminism {
            seeds: range,
            config,
        } => {
            let (base, _) = config.build(None)?;
            let mut bad = 0;
            for seed in seeds(range, Shard::default()) {
                let mut c = base.clone();
                c.seed = seed;
                let r = determinism::check(&c)?;
                if r.deterministic() {
                    println!(
                        "seed {seed}: {} ({} events) x3 — deterministic",
                        r.hash_first, r.events
                    );
                } else {
                    bad += 1;
                    println!(
                        "seed {seed}: NOT deterministic: hashes {} / {} / {} (untraced)",
                        r.hash_first, r.hash_second, r.hash_untraced
                    );
                    if let Some(d) = &r.divergence {
                        println!("  first difference at trace line {}:", d.line);
                        println!(
                            "    run 1: {}",
                            d.first.as_deref().unwrap_or("<end of trace>")
                        );
                        println!(
                            "    run 2: {}",
                            d.second.as_deref().unwrap_or("<end of trace>")
                        );
                    }
                }
            }
            if bad > 0 {
                bail!("{bad} seeds were not deterministic");
            }
            Ok(())
        }
    }
}

/// Worker threads for sweeps when `--jobs` is not given: every core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes trace lines to a file, remembering the first error.
struct FileSink {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl TraceSink for FileSink {
    fn line(&mut self, line: String) {
        if self.error.is_none() {
            if let Err(e) = writeln!(self.out, "{line}") {
                self.error = Some(e);
            }
        }
    }
}

/// Lines to both a file and memory (for `--trace` with `--timeline`).
struct Tee<'a> {
    file: Option<&'a mut FileSink>,
    mem: Option<&'a mut MemorySink>,
}

impl TraceSink for Tee<'_> {
    fn line(&mut self, line: String) {
        match (&mut self.file, &mut self.mem) {
            (Some(f), Some(m)) => {
                f.line(line.clone());
                m.line(line);
            }
            (Some(f), None) => f.line(line),
            (None, Some(m)) => m.line(line),
            (None, None) => {}
        }
    }
}

fn print_timeline(lines: &[String], nodes: u32) -> anyhow::Result<()> {
    let parsed = trace::parse(&lines.join("\n")).map_err(|e| anyhow::anyhow!(e))?;
    let text = timeline::render(&parsed.events, nodes);
    // A reader piping into `head` closes the pipe early; that is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn describe(o: &RunOutcome) {
    println!(
        "{} seed {}: {} events, {} virtual, {} nodes, {} ops ({} completed), {} crashes, faults: [{}] + {} scheduled",
        o.config.workload,
        o.config.seed,
        o.events,
        seedbed_sim::time::fmt_nanos(o.end_ns),
        o.size.nodes,
        o.size.ops,
        o.ops_completed,
        o.crashes,
        o.plan.kinds().join(", "),
        o.schedule.len()
    );
    println!("trace hash {}", o.hash_hex());
    if !o.metrics.scalars.is_empty() {
        let line: Vec<String> = o
            .metrics
            .scalars
            .iter()
            .map(|(k, v)| format!("{k}={}", fmt_metric(*v)))
            .collect();
        println!("metrics: {}", line.join(" "));
    }
}

fn fmt_metric(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn repro_line(c: &RunConfig, sources: &Sources) -> anyhow::Result<String> {
    if let Some(line) = repro::command(c, sources) {
        return Ok(line);
    }
    let path = repro_dir().join(format!("{}-{}.toml", c.workload, c.seed));
    write_config(&path, c)?;
    Ok(format!("seedbed sim run --config {}", path.display()))
}

fn repro_dir() -> PathBuf {
    PathBuf::from("seedbed-sim-repro")
}

fn write_config(path: &Path, c: &RunConfig) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, c.to_toml()?).with_context(|| format!("writing {}", path.display()))
}

fn cmd_run(
    seed: Option<u64>,
    args: &ConfigArgs,
    trace_path: Option<&Path>,
    want_timeline: bool,
    json: bool,
) -> anyhow::Result<()> {
    let (c, sources) = args.build(seed)?;
    let mut file = match trace_path {
        Some(p) => Some(FileSink {
            out: std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("creating {}", p.display()))
                    .context(InvalidInput)?,
            ),
            error: None,
        }),
        None => None,
    };
    let mut mem = want_timeline.then(MemorySink::default);
    let mut tee = Tee {
        file: file.as_mut(),
        mem: mem.as_mut(),
    };
    let sink: Option<&mut dyn TraceSink> = if tee.file.is_some() || tee.mem.is_some() {
        Some(&mut tee)
    } else {
        None
    };
    let o = registry::run(&c, sink)?;
    if let Some(f) = file {
        if let Some(e) = f.error {
            return Err(e).context("writing the trace");
        }
        let mut out = f.out;
        out.flush().context("writing the trace")?;
    }
    if let Some(m) = &mem {
        print_timeline(&m.lines, o.size.nodes)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
    } else {
        describe(&o);
        if let Some(text) = (registry::find(&c.workload)?.run_text)(&o) {
            println!("{text}");
        }
        if let Some(p) = trace_path {
            println!("trace written to {}", p.display());
        }
    }
    if let Some(v) = &o.violation {
        println!("FAILED {v}");
        println!("repro: {}", repro_line(&c, &sources)?);
        bail!("seed {} failed checker '{}'", c.seed, v.checker);
    }
    Ok(())
}

fn cmd_merge(files: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let mut total: Option<SweepSummary> = None;
    for f in files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))
            .context(InvalidInput)?;
        let part: SweepSummary = serde_json::from_str(&text)
            .with_context(|| format!("{}: not the --json output of `sim sweep`", f.display()))
            .context(InvalidInput)?;
        match &mut total {
            None => total = Some(part),
            Some(t) if t.workload != part.workload => {
                return Err(anyhow::anyhow!(
                    "{}: a sweep of '{}', the others are of '{}'",
                    f.display(),
                    part.workload,
                    t.workload
                )
                .context(InvalidInput))
            }
            Some(t) => t.merge(part),
        }
    }
    let mut total = total.context("no files").context(InvalidInput)?;
    total.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&total)?);
    } else {
        sweep::print_summary(&total);
    }
    if total.failed > 0 {
        bail!("{} of {} seeds failed", total.failed, total.seeds);
    }
    Ok(())
}

fn cmd_replay(path: &Path, want_timeline: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))
        .context(InvalidInput)?;
    let parsed = trace::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        .context(InvalidInput)?;
    let Some(end) = &parsed.end else {
        return Err(anyhow::anyhow!(
            "{}: the trace has no end line (was the run cut short?)",
            path.display()
        )
        .context(InvalidInput));
    };
    let mut mem = MemorySink::default();
    let o = registry::run(&parsed.config, Some(&mut mem))?;
    if want_timeline {
        print_timeline(&mem.lines, o.size.nodes)?;
    }
    describe(&o);
    if o.hash_hex() != end.hash {
        let recorded: Vec<String> = text.lines().map(String::from).collect();
        println!(
            "MISMATCH: the trace says {}, this binary gives {}",
            end.hash,
            o.hash_hex()
        );
        if let Some(d) = diff::first_divergence(&recorded, &mem.lines) {
            println!("first difference at line {}:", d.line);
            println!("  recorded: {}", d.first.as_deref().unwrap_or("<end>"));
            println!("  replayed: {}", d.second.as_deref().unwrap_or("<end>"));
        }
        bail!(
            "replay of {} did not reproduce (different binary or config?)",
            path.display()
        );
    }
    let recorded: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    if let Some(d) = diff::first_divergence(&recorded, &mem.lines) {
        println!(
            "the hash matches but the file's text does not (edited by hand?); line {}:",
            d.line
        );
        println!("  in file:  {}", d.first.as_deref().unwrap_or("<end>"));
        println!("  replayed: {}", d.second.as_deref().unwrap_or("<end>"));
        bail!("{} differs from its replay", path.display());
    }
    println!(
        "replay matches: hash {} ({} events), every line identical",
        end.hash, end.events
    );
    if let Some(v) = &o.violation {
        println!("the run fails, as recorded: {v}");
    }
    Ok(())
}

fn cmd_shrink(
    seed: Option<u64>,
    args: &ConfigArgs,
    runs_max: u32,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (c, _) = args.build(seed)?;
    println!(
        "shrinking {} seed {} (at most {runs_max} runs)...",
        c.workload, c.seed
    );
    let r = shrink::shrink(&c, runs_max)?;
    let path =
        out.unwrap_or_else(|| repro_dir().join(format!("{}-{}-shrunk.toml", c.workload, c.seed)));
    write_config(&path, &r.config)?;
    // Prove the written file reproduces the failure before printing it as the repro.
    let reread = RunConfig::from_toml(&std::fs::read_to_string(&path)?)?;
    let again = registry::run(&reread, None)?;
    let same = again
        .violation
        .as_ref()
        .is_some_and(|v| v.checker == r.checker);
    println!("checker {} fails; {} runs spent", r.checker, r.runs);
    println!(
        "  before: {} ({} random draws)",
        r.size_before, r.draws_before
    );
    println!(
        "  after:  {} ({} random draws)",
        r.size_after, r.draws_after
    );
    if let Some(v) = &r.outcome.violation {
        println!("  {v}");
    }
    if let FaultSource::Plan(p) = &r.config.faults {
        println!(
            "  fault kinds left: [{}], scheduled faults: {}",
            p.kinds().join(", "),
            r.outcome.schedule.len()
        );
    }
    if !same {
        bail!(
            "the shrunk config in {} did not fail again — please report this",
            path.display()
        );
    }
    println!(
        "smallest repro: seedbed sim run --config {} --timeline",
        path.display()
    );
    Ok(())
}

/// What the tour's short sweep found.
#[derive(Debug)]
pub struct ShortSweep {
    /// `(label, report)` per sweep: the correct register, each planted bug, and every other
    /// registered workload's default configuration.
    pub sweeps: Vec<(String, sweep::SweepReport)>,
    /// Per planted bug that failed: its label, its smallest shrunk failure, and the config
    /// file that reruns it.
    pub shrunk: Vec<(String, shrink::ShrinkReport, PathBuf)>,
}

/// A planted bug the tour catches, shrinks and prints the repro of.
struct Planted {
    workload: &'static str,
    bug: &'static str,
    /// Seeds swept (`0..seeds`).
    seeds: u64,
    /// How many of the first failing seeds are shrunk (the smallest result is kept).
    shrink_first: usize,
}

/// The planted bugs of the tour: a quorum that is not one (the register: linearizability), and
/// a function that applies an event without its idempotency record (events: exactly-once).
const PLANTED: &[Planted] = &[
    Planted {
        workload: "register",
        bug: "stale-quorum",
        seeds: 8,
        shrink_first: 3,
    },
    Planted {
        workload: "events",
        bug: "no-idempotency",
        seeds: 4,
        shrink_first: 1,
    },
];

/// Runs each shrink may spend in the tour.
const TOUR_SHRINK_RUNS: u32 = 150;

impl ShortSweep {
    /// Print the sweeps for people.
    pub fn print(&self) {
        for (label, report) in &self.sweeps {
            println!("sweep {label}:");
            sweep::print(report);
        }
        for (label, s, path) in &self.shrunk {
            println!(
                "planted bug caught ({label}): {} fails; shrunk from {} to {} in {} runs",
                s.checker, s.size_before, s.size_after, s.runs
            );
            println!(
                "  repro: seedbed sim run --config {} --timeline",
                path.display()
            );
        }
    }

    /// Summary lines for the tour: (figure, value, reference).
    pub fn summary_rows(&self) -> Vec<(String, String, String)> {
        let mut rows = Vec::new();
        for (label, r) in &self.sweeps {
            let s = &r.summary;
            rows.push((
                format!("sweep {label}"),
                format!("{}/{} seeds failed", s.failed, s.seeds),
                format!("{:.1} M events/s/core", r.events_per_s_per_core / 1e6),
            ));
        }
        for (label, s, _) in &self.shrunk {
            rows.push((
                format!("planted bug shrunk ({label})"),
                format!("{} ops", s.size_after.ops),
                format!("from {} ops; checker {}", s.size_before.ops, s.checker),
            ));
        }
        rows
    }
}

/// The short sweep the tour runs: the register workload (correct protocol) over swarm faults,
/// each [`PLANTED`] bug (caught, then its first failures shrunk), and every other registered
/// workload at its defaults; all within about `budget`. Writes `sim-sweep.jsonl`
/// (one sweep report per line) into `out_dir`.
pub fn short_sweep(out_dir: &Path, budget: Duration) -> anyhow::Result<ShortSweep> {
    if !out_dir.as_os_str().is_empty() {
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("creating {}", out_dir.display()))?;
    }
    let jobs = default_jobs();
    let mut plans: Vec<(String, RunConfig, u64)> =
        vec![("register".into(), RunConfig::new("register", 0), 64)];
    for p in PLANTED {
        let mut planted = RunConfig::new(p.workload, 0);
        planted.params.insert("bug".into(), p.bug.into());
        let label = format!("{} --set bug={}", p.workload, p.bug);
        plans.push((label, planted, p.seeds));
    }
    for w in registry::REGISTRY {
        if !["register", "ping"].contains(&w.name) {
            plans.push((w.name.to_string(), RunConfig::new(w.name, 0), 16));
        }
    }
    let each = budget / plans.len() as u32;
    let mut sweeps = Vec::new();
    let mut lines = String::new();
    for (label, config, count) in &plans {
        let seeds: Vec<u64> = (0..*count).collect();
        let report = sweep::run(config, &Sources::default(), &seeds, jobs, Some(each), false)?;
        let mut json = serde_json::to_value(&report)?;
        json["kind"] = "sim-sweep".into();
        json["label"] = label.clone().into();
        lines.push_str(&serde_json::to_string(&json)?);
        lines.push('\n');
        sweeps.push((label.clone(), report));
    }
    let path = out_dir.join("sim-sweep.jsonl");
    std::fs::write(&path, lines).with_context(|| format!("writing {}", path.display()))?;
    // Shrink each planted bug's first few failing seeds and keep the smallest: the bug
    // hunter's loop, end to end.
    let mut shrunk = Vec::new();
    for (i, p) in PLANTED.iter().enumerate() {
        let (label, report) = &sweeps[1 + i];
        let failing: std::collections::BTreeSet<u64> = report
            .summary
            .failures
            .values()
            .flatten()
            .map(|f| f.seed)
            .collect();
        let mut best: Option<(shrink::ShrinkReport, PathBuf)> = None;
        for &seed in failing.iter().take(p.shrink_first) {
            let mut c = plans[1 + i].1.clone();
            c.seed = seed;
            let r = shrink::shrink(&c, TOUR_SHRINK_RUNS).map_err(|e| anyhow::anyhow!("{e}"))?;
            if best
                .as_ref()
                .is_none_or(|(b, _)| r.size_after.ops < b.size_after.ops)
            {
                let path = out_dir.join(format!("{}-shrunk.toml", c.workload));
                write_config(&path, &r.config)?;
                best = Some((r, path));
            }
        }
        if let Some((r, path)) = best {
            shrunk.push((label.clone(), r, path));
        }
    }
    Ok(ShortSweep { sweeps, shrunk })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(params: &[&str]) -> ConfigArgs {
        ConfigArgs {
            workload: Some("register".into()),
            config: None,
            faults: None,
            nodes: None,
            ops: Some(40),
            op_gap_us: None,
            fault_ms: Some(200),
            quiet_ms: None,
            params: params.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_trace_replays_and_a_tampered_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        cmd_run(Some(4), &args(&[]), Some(&path), false, false).unwrap();
        cmd_replay(&path, false).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("\"event\":\"deliver\"", "\"event\":\"drop\"", 1);
        assert_ne!(edited, text);
        std::fs::write(&path, &edited).unwrap();
        let e = cmd_replay(&path, false).unwrap_err().to_string();
        assert!(e.contains("differs from its replay"), "{e}");

        let (head, _) = text.rsplit_once("\"hash\":\"").unwrap();
        std::fs::write(&path, format!("{head}\"hash\":\"0000000000000000\"}}}}\n")).unwrap();
        let e = cmd_replay(&path, false).unwrap_err().to_string();
        assert!(e.contains("did not reproduce"), "{e}");
    }

    #[test]
    fn a_failing_run_fails_the_command() {
        let e = cmd_run(Some(2), &args(&["bug=stale-quorum"]), None, false, false).unwrap_err();
        assert!(e.to_string().contains("register-linearizable"), "{e}");
    }
}
