//! The sweeps `scripts/mutants.sh` runs against every mutant of the protocol code: the default
//! sweep of one workload (its default parameters and swarm faults), seed after seed, failing
//! at the first seed whose checkers or liveness check fail, with that seed's repro line.
//!
//! They are `#[ignore]`d: a plain `cargo test` would spend minutes on them and learns nothing
//! the 10,000-seed sweeps of docs/simulation.md §8 do not. The mutation run asks for them by
//! name (`--ignored --exact`). `SEEDBED_MUTANTS_SEEDS` sets how many seeds (`0..N`); the default
//! is the size the mutation score in docs/simulation.md was measured with.
//!
//! A binary of its own on purpose, not a module of `tests/it` with the crate's other
//! integration tests: cargo-mutants rebuilds the test it runs for each of ~490 mutants
//! (`--cargo-arg=--test=mutants_sweep` in scripts/mutants.sh), and this file alone compiles and
//! links in a fraction of the time the sixteen modules of `tests/it` take. Its tests are
//! ignored, so it adds one link and no run time to `cargo test`.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

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

/// Runs seeds `0..n` of `workload` with `params`; panics at the first failing seed, and after
/// the last if an interesting event the workload declares (its "sometimes" events: a hint
/// handed off, a suspicion refuted, ...) happened in none of them — what a sweep flags as code
/// no seed reached (docs/simulation.md §5). Every one of them happens in dozens of the first
/// 100 seeds of each default sweep, so a sweep that sees one in none has broken it.
fn sweep(workload: &str, params: &[(&str, &str)], n: u64) {
    let declared = registry::find(workload).expect("a workload").sometimes;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for seed in 0..n {
        let mut c = RunConfig::new(workload, seed);
        for (k, v) in params {
            c.params.insert((*k).into(), (*v).into());
        }
        let o = registry::run(&c, None).expect("the default config is valid");
        seen.extend(o.metrics.sometimes.keys().cloned());
        if let Some(v) = o.violation {
            let sets: String = params
                .iter()
                .map(|(k, v)| format!(" --set {k}={v}"))
                .collect();
            panic!(
                "{workload} seed {seed} fails {}: {}\n  repro: seedbed sim run --workload {workload} --seed {seed}{sets}",
                v.checker, v.message
            );
        }
    }
    let sets: String = params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
    for event in declared {
        assert!(
            seen.contains(event.name),
            "{workload}{sets}: \"{}\" ({}) happened in none of seeds 0..{n}",
            event.name,
            event.about
        );
    }
}

/// The quorum workload's default sweep: the coordinator, replica store, versions and vector
/// clocks of `nodes/src/quorum/`.
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn quorum_default_sweep() {
    sweep("quorum", &[], seeds());
}

/// The gossip workload's default sweep: SWIM's member and node in `nodes/src/gossip/`.
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn gossip_default_sweep() {
    sweep("gossip", &[], seeds());
}

/// The IAM workload's default sweep in each propagation mode (`log` is the default; `gossip`
/// and `swim` run the rest of `propagation.rs`), a third of the seeds each.
#[test]
#[ignore = "mutation testing only (scripts/mutants.sh)"]
fn iam_default_sweep() {
    let n = seeds().div_ceil(3);
    for mode in ["log", "gossip", "swim"] {
        sweep("iam", &[("mode", mode)], n);
    }
}
