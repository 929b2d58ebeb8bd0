//! Shrinking a planted failure: smaller, same checker, and the written config reproduces it.

use seedbed_engine::rng::tape::Choice;
use seedbed_sim::choices::ChoiceRecord;
use seedbed_sim::config::FaultSource;
use seedbed_sim::faults::FaultPlan;
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

/// A replica's memtable size is a setting (`DetRng::setting`): every ordinary run uses the top
/// rung (8 KiB) and draws nothing for it, the record carries it, and a record that turns it
/// down reaches every replica's LSM — the lever the shrinker pulls when a failure needs many
/// writes only to fill a memtable (seed 2207 before its fix: 32 operations, then 6).
#[test]
fn a_recorded_memtable_rung_reaches_every_replica() {
    // A disk whose writes may fail, at odds that never come up in one run: every table write
    // draws a fault chance, so the record counts the flushes.
    let mut plan = FaultPlan::none();
    plan.disk.write_eio = 1e-12;
    let config = || {
        let mut c = RunConfig::new("quorum", 3);
        c.faults = FaultSource::Plan(Box::new(plan.clone()));
        c
    };
    let mut c = config();
    c.record_choices = true;
    let first = registry::run(&c, None).unwrap();
    let plain = registry::run(&config(), None).unwrap();
    assert_eq!(first.hash, plain.hash, "recording the rung changes nothing");
    let record = first.choices.clone().expect("a record");
    let rungs = |r: &seedbed_engine::rng::Choices| -> Vec<Choice> {
        r.streams
            .iter()
            .filter(|(name, _)| name.ends_with("/memtable"))
            .flat_map(|(_, spans)| spans.values().flatten().copied())
            .collect()
    };
    // One rung per replica for the whole run (reopens replay it), at the top.
    assert_eq!(rungs(&record), vec![Choice::Setting { n: 4, v: 3 }; 5]);

    let replay = |rec: seedbed_engine::rng::Choices| {
        let mut c = config();
        c.choices = Some(ChoiceRecord(rec));
        registry::run(&c, None).unwrap()
    };
    assert_eq!(
        replay(record.clone()).hash,
        first.hash,
        "the record replays the run"
    );
    let mut low = record.clone();
    for (name, spans) in low.streams.iter_mut() {
        if name.ends_with("/memtable") {
            for c in spans.values_mut().flatten() {
                *c = c.zeroed().unwrap();
            }
        }
    }
    let lowered = replay(low);
    assert!(lowered.violation.is_none(), "{:?}", lowered.violation);
    let after = lowered.choices.clone().unwrap();
    assert_eq!(rungs(&after), vec![Choice::Setting { n: 4, v: 0 }; 5]);
    // 1 KiB memtables flush eight times as often: more table writes, each with its disk
    // fault draws (the trace cannot tell: flushes send no message and take no virtual time).
    let table_draws = |r: &seedbed_engine::rng::Choices| -> usize {
        r.streams
            .iter()
            .filter(|(name, _)| name.ends_with("#.sst"))
            .flat_map(|(_, spans)| spans.values())
            .map(Vec::len)
            .sum()
    };
    assert!(
        table_draws(&after) > table_draws(&record) + table_draws(&record) / 2,
        "{} -> {}",
        table_draws(&record),
        table_draws(&after)
    );
}
