//! The sweeps `scripts/mutants.sh` runs against every mutant of the protocol code: the default
//! sweep of the workload the code belongs to (its default parameters and swarm faults), plus
//! a quarter as many seeds of each other setting or workload that runs the same code — the
//! quorum store's group commit and last-writer-wins; SWIM as the quorum workload's membership
//! and as IAM's propagation; IAM in each propagation mode — on every core, failing at the
//! first seed whose checkers or liveness check fail, with that seed's repro line.
//!
//! They are `#[ignore]`d: a plain `cargo test` would spend minutes on them and learns nothing
//! the 10,000-seed sweeps of docs/simulation.md §8 do not. The mutation run asks for them by
//! name (`--ignored --exact`). `SEEDBED_MUTANTS_SEEDS` sets how many seeds (`0..N`); the default
//! is the size the mutation score in docs/simulation.md was measured with.
//!
//! A binary of its own on purpose, not a module of `tests/it` with the crate's other
//! integration tests: cargo-mutants rebuilds the test it runs for each of ~510 mutants
//! (`--cargo-arg=--test=mutants_sweep` in scripts/mutants.sh), and this file alone compiles and
//! links in a fraction of the time the sixteen modules of `tests/it` take. Its tests are
//! ignored, so it adds one link and no run time to `cargo test`.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use seedbed_sim::{registry, RunConfig};

/// Seeds per sweep unless `SEEDBED_MUTANTS_SEEDS` says otherwise.
const SEEDS_DEFAULT: u64 = 100;

fn seeds() -> u64 {
    match std::env::var("SEEDBED_MUTANTS_SEEDS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("SEEDBED_MUTANTS_SEEDS={s:?} is not a number of seeds")),
        Err(_) => SEEDS_DEFAULT,
    }
}

/// One part of a sweep: a range of seeds of a workload with these parameters.
struct Part<'a> {
    workload: &'a str,
    params: &'a [(&'a str, &'a str)],
    seeds: std::ops::Range<u64>,
    /// Whether every "sometimes" event the workload declares must happen within this part
    /// alone (not in a setting where some cannot: no siblings under last-writer-wins).
    all_events: bool,
}

/// Threads a sweep runs on: `SEEDBED_MUTANTS_JOBS`, or one per core.
fn jobs() -> usize {
    match std::env::var("SEEDBED_MUTANTS_JOBS") {
        Ok(s) => s
            .parse()
            .ok()
            .filter(|&j| j > 0)
            .unwrap_or_else(|| panic!("SEEDBED_MUTANTS_JOBS={s:?} is not a number of threads")),
        Err(_) => std::thread::available_parallelism().map_or(1, usize::from),
    }
}

/// Runs each part's seeds; panics with the first failing seed (in part and seed order), and
/// after a part that must show every event if an interesting event the workload declares (its
/// "sometimes" events: a hint handed off, a suspicion refuted, ...) happened in none of its
/// seeds — what a sweep flags as code no seed reached (docs/simulation.md §5). Every one of
/// them happens in dozens of the first 100 seeds of each default sweep, so a sweep that sees one
/// in none has broken it.
///
/// Seeds run on [`jobs`] threads, each simulation alone on its thread (a run is deterministic
/// whatever else runs beside it), taking the next (part, seed) in order, so the first seeds —
/// where most mutants fail — run first on every core; once a seed fails, no thread starts
/// another. Every (part, seed) before a failing one was taken before it and runs to its end,
/// so the failure reported — the earliest in that order — is the one a sweep on one thread
/// would report, whichever thread was faster.
fn sweep(parts: &[Part<'_>]) {
    let work: Vec<(usize, u64)> = parts
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.seeds.clone().map(move |seed| (i, seed)))
        .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let seen: Mutex<Vec<BTreeSet<String>>> = Mutex::new(vec![BTreeSet::new(); parts.len()]);
    let failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs().min(work.len().max(1)) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let w = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(i, seed)) = work.get(w) else {
                        break;
                    };
                    let part = &parts[i];
                    let mut c = RunConfig::new(part.workload, seed);
                    for (k, v) in part.params {
                        c.params.insert((*k).into(), (*v).into());
                    }
                    let o = registry::run(&c, None).expect("the default config is valid");
                    seen.lock().unwrap()[i].extend(o.metrics.sometimes.keys().cloned());
                    if let Some(v) = o.violation {
                        let sets: String = part
                            .params
                            .iter()
                            .map(|(k, v)| format!(" --set {k}={v}"))
                            .collect();
                        let workload = part.workload;
                        failures.lock().unwrap().push((
                            w,
                            format!(
                                "{workload} seed {seed} fails {}: {}\n  repro: seedbed sim run --workload {workload} --seed {seed}{sets}",
                                v.checker, v.message
                            ),
                        ));
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    if let Some((_, message)) = failures.into_inner().unwrap().into_iter().min() {
        panic!("{message}");
    }
    let seen = seen.into_inner().unwrap();
    for (part, seen) in parts.iter().zip(&seen) {
        if !part.all_events {
            continue;
        }
        let declared = registry::find(part.workload).expect("a workload").sometimes;
        let sets: String = part
            .params
            .iter()
            .map(|(k, v)| format!(" --set {k}={v}"))
            .collect();
        for event in declared {
            assert!(
                seen.contains(event.name),
                "{}{sets}: \"{}\" ({}) happened in none of seeds {:?}",
                part.workload,
                event.name,
                event.about,
                part.seeds
            );
        }
    }
}

/// The quorum workload's default sweep: the coordinator, replica store, versions and vector
/// clocks of `nodes/src/quorum/`.
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn quorum_default_sweep() {
    let n = seeds();
    sweep(&[
        Part {
            workload: "quorum",
            params: &[],
            seeds: 0..n,
            all_events: true,
        },
        // The store's other sync mode and the other version mode, a quarter as many seeds
        // each: group commit (`Store::sync`) and last-writer-wins (`Version::covers` by
        // timestamp) run only there.
        Part {
            workload: "quorum",
            params: &[("sync", "group")],
            seeds: 0..n.div_ceil(4),
            all_events: false,
        },
        Part {
            workload: "quorum",
            params: &[("mode", "lww")],
            seeds: 0..n.div_ceil(4),
            all_events: false,
        },
    ]);
}

/// The gossip workload's default sweep: SWIM's member and node in `nodes/src/gossip/`. The
/// same code serves two other workloads, so a quarter as many seeds of each run too: the
/// quorum workload with gossip membership (its coordinators ask SWIM who is down) and IAM
/// propagation on SWIM. And a quarter with a single seed member, where joining differs (the
/// seed has nobody to join; everyone else has one member to reach).
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn gossip_default_sweep() {
    let n = seeds();
    sweep(&[
        Part {
            workload: "gossip",
            params: &[],
            seeds: 0..n,
            all_events: true,
        },
        Part {
            workload: "quorum",
            params: &[("membership", "gossip")],
            seeds: 0..n.div_ceil(4),
            all_events: false,
        },
        Part {
            workload: "iam",
            params: &[("mode", "swim")],
            seeds: 0..n.div_ceil(4),
            all_events: false,
        },
        Part {
            workload: "gossip",
            params: &[("seeds", "1")],
            seeds: 0..n.div_ceil(4),
            all_events: false,
        },
    ]);
}

/// The IAM workload's default sweep in each propagation mode (`log` is the default; `gossip`
/// and `swim` run the rest of `propagation.rs`), a third of the seeds each.
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn iam_default_sweep() {
    let n = seeds().div_ceil(3);
    let modes: [&[(&str, &str)]; 3] = [
        &[("mode", "log")],
        &[("mode", "gossip")],
        &[("mode", "swim")],
    ];
    let mut parts: Vec<Part<'_>> = modes
        .into_iter()
        .map(|params| Part {
            workload: "iam",
            params,
            seeds: 0..n,
            all_events: true,
        })
        .collect();
    // The regression seeds of SWIM mode (sim/tests/it/regressions.rs): partitions that leave
    // every member holding the others failed, which 1 to 2 % of seeds draw.
    for seed in [70, 236] {
        parts.push(Part {
            workload: "iam",
            params: &[("mode", "swim")],
            seeds: seed..seed + 1,
            all_events: false,
        });
    }
    sweep(&parts);
}
