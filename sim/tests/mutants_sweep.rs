//! The sweeps `scripts/mutants.sh` runs against every mutant of the protocol code: the default
//! sweep of one workload (its default parameters and swarm faults), seed after seed, failing
//! at the first seed whose checkers or liveness check fail, with that seed's repro line.
//!
//! They are `#[ignore]`d: a plain `cargo test` would spend minutes on them and learns nothing
//! the 10,000-seed sweeps of docs/simulation.md §8 do not. The mutation run asks for them by
//! name (`--ignored --exact`). `SEEDBED_MUTANTS_SEEDS` sets how many seeds (`0..N`); the default
//! is the size the mutation score in docs/simulation.md was measured with.

use seedbed_sim::{registry, RunConfig};

/// Seeds per sweep unless `SEEDBED_MUTANTS_SEEDS` says otherwise.
const SEEDS_DEFAULT: u64 = 150;

fn seeds() -> u64 {
    match std::env::var("SEEDBED_MUTANTS_SEEDS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("SEEDBED_MUTANTS_SEEDS={s:?} is not a number of seeds")),
        Err(_) => SEEDS_DEFAULT,
    }
}

/// Runs seeds `0..n` of `workload` with `params`; panics at the first failing seed.
fn sweep(workload: &str, params: &[(&str, &str)], n: u64) {
    for seed in 0..n {
        let mut c = RunConfig::new(workload, seed);
        for (k, v) in params {
            c.params.insert((*k).into(), (*v).into());
        }
        let o = registry::run(&c, None).expect("the default config is valid");
        if let Some(v) = o.violation {
            let sets: String = params.iter().map(|(k, v)| format!(" --set {k}={v}")).collect();
            panic!(
                "{workload} seed {seed} fails {}: {}\n  repro: seedbed sim run --workload {workload} --seed {seed}{sets}",
                v.checker, v.message
            );
        }
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
