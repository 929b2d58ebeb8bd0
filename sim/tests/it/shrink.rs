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

/// Seed 1 fails late (operation 49 of 50); the seed-based shrinker of old got it to 49
/// operations, because every operation it removed shifted the draws of all later ones.
/// Shrinking the recorded draws keeps the rest of the run in place.
#[test]
fn removing_operations_keeps_the_other_draws_in_place() {
    let r = shrink(&planted(1), 400).unwrap();
    assert_eq!(r.checker, "register-linearizable");
    assert_eq!(r.size_before.ops, 50);
    assert!(
        r.size_after.ops <= 5 && r.size_after.faults == 0,
        "{} -> {}",
        r.size_before,
        r.size_after
    );
    assert!(r.runs <= 400 && r.draws_after < r.draws_before);
    let text = r.config.to_toml().unwrap();
    assert!(text.contains("[choices."), "the repro carries its draws");
    let again = registry::run(&RunConfig::from_toml(&text).unwrap(), None).unwrap();
    assert_eq!(again.hash, r.outcome.hash);
}

#[test]
fn a_passing_seed_has_nothing_to_shrink() {
    let c = RunConfig::new("register", 2);
    assert!(matches!(
        shrink(&c, 10),
        Err(SimError::NothingToShrink { .. })
    ));
}
