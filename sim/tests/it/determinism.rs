//! Same seed + same config → same trace hash; different seeds → different hashes; rendering
//! the trace does not change the hash; sweep summaries do not depend on the order seeds ran in.

use seedbed_sim::run::determinism;
use seedbed_sim::run::repro::Sources;
use seedbed_sim::run::sweep::{run_seed, SweepSummary};
use seedbed_sim::trace::MemorySink;
use seedbed_sim::{registry, FaultSource, RunConfig};

#[test]
fn same_seed_same_hash_different_seeds_differ() {
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 0..6 {
        let c = RunConfig::new("register", seed);
        let a = registry::run(&c, None).unwrap();
        let b = registry::run(&c, None).unwrap();
        assert_eq!(a.hash, b.hash, "seed {seed} ran two different ways");
        assert_eq!(a.events, b.events);
        assert!(a.events > 100, "seed {seed} did almost nothing");
        hashes.insert(a.hash);
    }
    assert_eq!(hashes.len(), 6, "two seeds gave the same trace");
}

#[test]
fn traced_and_untraced_runs_hash_alike_and_traces_are_identical() {
    let mut c = RunConfig::new("register", 11);
    c.params.insert("bug".into(), "stale-quorum".into());
    let r = determinism::check(&c).unwrap();
    assert!(r.deterministic(), "{r:?}");
    let mut a = MemorySink::default();
    let mut b = MemorySink::default();
    registry::run(&c, Some(&mut a)).unwrap();
    registry::run(&c, Some(&mut b)).unwrap();
    assert_eq!(a.lines, b.lines, "byte-identical traces");
    assert!(a.lines.last().unwrap().contains(&r.hash_first));
}

#[test]
fn ping_is_deterministic_and_its_params_matter() {
    let mut c = RunConfig::new("ping", 3);
    c.faults = FaultSource::None;
    c.fault_ms = Some(50);
    let a = registry::run(&c, None).unwrap();
    assert_eq!(a.hash, registry::run(&c, None).unwrap().hash);
    c.params.insert("fanout".into(), "2".into());
    let b = registry::run(&c, None).unwrap();
    assert_ne!(a.hash, b.hash);
    assert!(b.events < a.events);
}

#[test]
fn sweep_summary_is_independent_of_run_order() {
    let base = RunConfig::new("register", 0);
    let sources = Sources::default();
    let forward: Vec<_> = (0..8)
        .map(|s| run_seed(&base, s, &sources).unwrap())
        .collect();
    let backward: Vec<_> = (0..8)
        .rev()
        .map(|s| run_seed(&base, s, &sources).unwrap())
        .collect();
    let a = SweepSummary::new("register", forward);
    let b = SweepSummary::new("register", backward);
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.events, b.events);
}

#[test]
fn adding_a_node_does_not_reshuffle_the_fault_plan() {
    // The swarm plan is drawn from its own streams: the node count does not move it.
    let c3 = RunConfig::new("register", 21);
    let mut c4 = c3.clone();
    c4.nodes = Some(4);
    let a = registry::run(&c3, None).unwrap();
    let b = registry::run(&c4, None).unwrap();
    assert_eq!(a.plan, b.plan);
}
