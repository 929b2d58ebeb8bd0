//! `seedbed sim sweep`: many seeds on all cores, each seed single-threaded.
//!
//! Threads pull the next seed from a shared counter and add its result to their own summary;
//! the summaries are merged at the end. Summaries are order-independent, so the result does not
//! depend on `--jobs`, and memory does not grow with the number of seeds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use seedbed_sim::config::RunConfig;
use seedbed_sim::run::repro::Sources;
use seedbed_sim::run::sweep::{Sweep, SweepSummary};
use serde::Serialize;

use crate::output;

/// A finished sweep: the deterministic summary plus how fast it ran on this machine.
#[derive(Debug, Serialize)]
pub struct SweepReport {
    /// The summary (independent of `--jobs` and of the machine).
    #[serde(flatten)]
    pub summary: SweepSummary,
    /// Threads used.
    pub jobs: usize,
    /// Wall time of the sweep, in seconds.
    pub elapsed_s: f64,
    /// Simulated events per second per core: events / the threads' busy time.
    pub events_per_s_per_core: f64,
    /// Seeds skipped because the time budget ran out (0 without a budget).
    pub skipped: u64,
    /// Seeds per second per core (seeds / the threads' busy time).
    pub seeds_per_s_per_core: f64,
    /// The workload's own summary's fields (its `Summary`'s JSON: the IAM workload's
    /// `"iam": {"kind": "sim-iam", ...}`, the quorum workload's `"staleness": [...]`).
    #[serde(flatten)]
    pub workload: serde_json::Map<String, serde_json::Value>,
    /// The workload's own summary as text, printed after the generic one.
    #[serde(skip)]
    pub workload_text: String,
}

/// Run `seeds` of `base` on `jobs` threads; stop taking new seeds after `budget` if given.
pub fn run(
    base: &RunConfig,
    sources: &Sources,
    seeds: &[u64],
    jobs: usize,
    budget: Option<Duration>,
    show_progress: bool,
) -> anyhow::Result<SweepReport> {
    let jobs = jobs.clamp(1, 1024);
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Sweep::new(base)?);
    let busy_ns = Mutex::new(0u128);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let bar = if show_progress {
        output::progress(seeds.len() as u64, "sweep")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let mut mine = Duration::ZERO;
                let mut part = Sweep::new(base).expect("the workload was found above");
                loop {
                    if budget.is_some_and(|b| start.elapsed() >= b) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else { break };
                    let t = Instant::now();
                    let r = part.run_seed(base, seed, sources);
                    mine += t.elapsed();
                    match r {
                        Ok(failed) => {
                            if failed {
                                bar.set_message(format!("seed {seed} failed"));
                            }
                        }
                        Err(e) => {
                            first_error
                                .lock()
                                .expect("no panics while held")
                                .get_or_insert(
                                    anyhow::Error::new(e).context(format!("seed {seed}")),
                                );
                            break;
                        }
                    }
                    bar.inc(1);
                }
                *busy_ns.lock().expect("no panics while held") += mine.as_nanos();
                total.lock().expect("no panics while held").merge(part);
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = first_error.into_inner().expect("threads joined") {
        return Err(e).context("sweep stopped");
    }
    let (summary, own) = total.into_inner().expect("threads joined").finish();
    let ran = summary.seeds;
    let busy_s = busy_ns.into_inner().expect("threads joined") as f64 / 1e9;
    Ok(SweepReport {
        workload: own.json,
        workload_text: own.text,
        events_per_s_per_core: if busy_s > 0.0 {
            summary.events as f64 / busy_s
        } else {
            0.0
        },
        seeds_per_s_per_core: if busy_s > 0.0 {
            summary.seeds as f64 / busy_s
        } else {
            0.0
        },
        summary,
        jobs,
        elapsed_s: start.elapsed().as_secs_f64(),
        skipped: seeds.len() as u64 - ran,
    })
}

/// Print a sweep report for people.
pub fn print(report: &SweepReport) {
    let s = &report.summary;
    println!(
        "sweep {}: {} seeds, {} failed, {} events in {:.2}s on {} threads — {:.0} events/s per core",
        s.workload,
        s.seeds,
        s.failed,
        s.events,
        report.elapsed_s,
        report.jobs,
        report.events_per_s_per_core
    );
    if report.skipped > 0 {
        println!("  ({} seeds skipped: time budget reached)", report.skipped);
    }
    print_metrics(s);
    print_sometimes(s);
    print_failures(s);
    println!("  {:.1} seeds/s per core", report.seeds_per_s_per_core);
    print!("{}", report.workload_text);
}

/// Print the workload's measurements, if any: one row per metric, mean over the seeds that
/// reported it, with the smallest and largest.
pub fn print_metrics(s: &SweepSummary) {
    if s.metrics.is_empty() {
        return;
    }
    println!(
        "  {:<30} {:>7} {:>12} {:>12} {:>12}",
        "metric", "seeds", "mean", "min", "max"
    );
    for (name, m) in &s.metrics {
        println!(
            "  {:<30} {:>7} {:>12.3} {:>12.3} {:>12.3}",
            name,
            m.seeds,
            m.mean(),
            m.min,
            m.max
        );
    }
}

/// Print the interesting events the workload declares: in how many seeds each happened, and
/// a flag on each that happened in none (`seedbed_sim::sometimes`).
pub fn print_sometimes(s: &SweepSummary) {
    if s.sometimes.is_empty() {
        return;
    }
    let about = seedbed_sim::registry::find(&s.workload)
        .map(|e| e.sometimes)
        .unwrap_or(&[]);
    println!(
        "  {:<30} {:>7}  (sometimes: seeds it happened in)",
        "event", "seeds"
    );
    for (name, &n) in &s.sometimes {
        let what = about
            .iter()
            .find(|d| d.name == name)
            .map_or("(not declared by the workload)", |d| d.about);
        let flag = if n == 0 { "NEVER  " } else { "" };
        println!("  {name:<30} {n:>7}  {flag}{what}");
    }
    let never = s.never();
    if !never.is_empty() {
        println!(
            "  never happened in {} seeds: {} (faults never reach it, or its code is dead)",
            s.seeds,
            never.join(", ")
        );
    }
}

/// Print a summary without timings (`sim merge`).
pub fn print_summary(s: &SweepSummary) {
    println!(
        "sweep {}: {} seeds, {} failed, {} events",
        s.workload, s.seeds, s.failed, s.events
    );
    print_metrics(s);
    print_sometimes(s);
    print_failures(s);
}

fn print_failures(s: &SweepSummary) {
    println!(
        "  fingerprint {} (equal for equal sweeps, whatever --jobs)",
        seedbed_sim::trace::hash_hex(s.fingerprint)
    );
    for (checker, fails) in &s.failures {
        let count = s.failed_by_checker.get(checker).copied().unwrap_or(0);
        println!("  {checker}: {count} failing seeds");
        for f in fails.iter().take(5) {
            println!("    seed {}: {}", f.seed, f.message);
            println!("      repro: {}", f.repro);
        }
        if count > 5 {
            println!("    ... and {} more (see --json)", count - 5);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_do_not_depend_on_jobs() {
        let mut base = RunConfig::new("register", 0);
        base.params.insert("bug".into(), "stale-quorum".into());
        let seeds: Vec<u64> = (0..12).collect();
        let one = run(&base, &Sources::default(), &seeds, 1, None, false).unwrap();
        let three = run(&base, &Sources::default(), &seeds, 3, None, false).unwrap();
        assert_eq!(one.summary.fingerprint, three.summary.fingerprint);
        assert_eq!(one.summary.events, three.summary.events);
        assert!(one.summary.failed > 0, "the planted bug was not caught");
        let a = serde_json::to_string(&one.summary.failures).unwrap();
        let b = serde_json::to_string(&three.summary.failures).unwrap();
        assert_eq!(a, b, "same failures, same order, same repro lines");
        assert!(a.contains("seedbed sim run --workload register --seed"));
    }

    /// Every workload's own summary (the IAM table, the staleness table, ...) comes out the
    /// same whatever the number of workers, and lands in the JSON record.
    #[test]
    fn workload_summaries_do_not_depend_on_jobs() {
        let seeds: Vec<u64> = (0..3).collect();
        for w in seedbed_sim::registry::REGISTRY {
            let base = RunConfig::new(w.name, 0);
            let one = run(&base, &Sources::default(), &seeds, 1, None, false).unwrap();
            let two = run(&base, &Sources::default(), &seeds, 2, None, false).unwrap();
            assert_eq!(one.workload, two.workload, "{}", w.name);
            assert_eq!(one.workload_text, two.workload_text, "{}", w.name);
            let json = serde_json::to_value(&one).unwrap();
            for (k, v) in &one.workload {
                assert_eq!(&json[k], v, "{}: '{k}' is a field of the record", w.name);
            }
        }
    }

    #[test]
    fn shards_cover_the_range_once() {
        use seedbed_sim::run::sweep::{seeds, SeedRange, Shard};
        let base = RunConfig::new("register", 0);
        let range: SeedRange = "0..6".parse().unwrap();
        let whole: Vec<u64> = seeds(range, Shard::default()).collect();
        let full = run(&base, &Sources::default(), &whole, 2, None, false).unwrap();
        let mut parts = Vec::new();
        for i in 0..3 {
            let list: Vec<u64> = seeds(range, Shard { index: i, count: 3 }).collect();
            parts.push(run(&base, &Sources::default(), &list, 1, None, false).unwrap());
        }
        assert_eq!(parts.iter().map(|p| p.summary.seeds).sum::<u64>(), 6);
        assert_eq!(
            parts.iter().map(|p| p.summary.events).sum::<u64>(),
            full.summary.events
        );
    }
}
