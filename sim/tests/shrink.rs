//! Shrinking a planted failure: smaller, same checker, and the written config reproduces it.

use seedbed_sim::run::shrink::shrink;
use seedbed_sim::{registry, RunConfig, SimError};

fn planted(seed: u64) -> RunConfig {
    let mut c = RunConfig::new("register", seed);
    c.params.insert("bug".into(), "stale-quorum".into());
    c
}

#[test]
fn shrinks_a_planted_bug_and_the_result_reproduces() {
    let c = planted(2);
    let r = shrink(&c, 300).unwrap();
    assert_eq!(r.checker, "register-linearizable");
    let (b, a) = (r.size_before, r.size_after);
    assert!(
        a.ops <= b.ops && a.nodes <= b.nodes && a.faults <= b.faults && a.fault_ms <= b.fault_ms
    );
    assert!(
        a < b && a.ops < b.ops && a.fault_ms < b.fault_ms,
        "no progress: {b} -> {a}"
    );
    assert!(r.runs <= 300);

    // The config, written as TOML and read back, fails the same way with the same trace.
    let text = r.config.to_toml().unwrap();
    let again = registry::run(&RunConfig::from_toml(&text).unwrap(), None).unwrap();
    assert_eq!(again.hash, r.outcome.hash);
    assert_eq!(again.violation.unwrap().checker, r.checker);
}

#[test]
fn a_passing_seed_has_nothing_to_shrink() {
    let c = RunConfig::new("register", 2);
    assert!(matches!(
        shrink(&c, 10),
        Err(SimError::NothingToShrink { .. })
    ));
}
