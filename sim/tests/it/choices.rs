//! Recording a run's random draws changes nothing, and replaying the record (from its TOML form)
//! is the same run, while an edited record is another: the ground the choice-sequence shrinker
//! stands on.

use seedbed_sim::choices::ChoiceRecord;
use seedbed_sim::{registry, RunConfig};

fn run(c: &RunConfig) -> seedbed_sim::RunOutcome {
    registry::run(c, None).expect("config is valid")
}

#[test]
fn recording_changes_no_run_and_the_record_replays_it() {
    for w in registry::REGISTRY {
        for seed in 0..2 {
            let plain = RunConfig::new(w.name, seed);
            let a = run(&plain);
            assert!(a.choices.is_none(), "nothing recorded unless asked");
            let mut rec = plain.clone();
            rec.record_choices = true;
            let b = run(&rec);
            assert_eq!(
                a.hash, b.hash,
                "{} seed {seed}: recording changed the run",
                w.name
            );
            let record = b.choices.expect("recorded");
            assert!(!record.is_empty(), "{} seed {seed} drew nothing", w.name);

            let mut replay = plain.clone();
            replay.faults = seedbed_sim::FaultSource::Plan(Box::new(b.plan.clone()));
            replay.schedule = Some(b.schedule.clone());
            replay.choices = Some(ChoiceRecord(record.clone()));
            let text = replay.to_toml().expect("writes");
            let back = RunConfig::from_toml(&text).expect("reads back");
            assert_eq!(back, replay, "{}: the TOML form round-trips", w.name);
            let c = run(&back);
            assert_eq!(
                (c.hash, c.events),
                (a.hash, a.events),
                "{} seed {seed}: the replayed record is another run",
                w.name
            );
            // The replay draws no plan and no schedule (both explicit now); everything else it
            // drew is what it replayed.
            let mut drawn = record.clone();
            drawn
                .streams
                .retain(|name, _| !name.starts_with("swarm/") && !name.starts_with("schedule/"));
            assert!(
                c.choices.as_ref() == Some(&drawn),
                "{} seed {seed}: a replay records other draws than it replayed",
                w.name
            );
        }
    }
}

#[test]
fn the_record_decides_the_draws() {
    let mut c = RunConfig::new("register", 3);
    c.record_choices = true;
    let a = run(&c);
    // Every drop and duplication switched off, every other draw left: another run.
    let mut record = a.choices.clone().expect("recorded");
    let mut fired = 0;
    for list in record
        .streams
        .get_mut("net")
        .expect("the network drew")
        .values_mut()
    {
        for ch in list.iter_mut() {
            if ch.fired() {
                *ch = ch.zeroed().expect("a chance has a simplest value");
                fired += 1;
            }
        }
    }
    assert!(fired > 0, "seed 3 drops or duplicates some message");
    c.faults = seedbed_sim::FaultSource::Plan(Box::new(a.plan.clone()));
    c.schedule = Some(a.schedule.clone());
    c.choices = Some(ChoiceRecord(record));
    let b = run(&c);
    assert_ne!(a.hash, b.hash, "the edited record made no difference");
    assert!(b.net.lost < a.net.lost || b.net.duplicated < a.net.duplicated);
}

#[test]
fn a_bad_record_is_refused_by_name() {
    let text = "workload = \"register\"\nseed = 1\n[choices.net]\n\"op/3\" = \"b5:9\"\n";
    let e = RunConfig::from_toml(text).unwrap_err().to_string();
    assert!(
        e.contains("choices.\"net\".\"op/3\"") && e.contains("b5:9"),
        "{e}"
    );
    let text = "workload = \"register\"\nseed = 1\n[choices.net]\n\"oops\" = \"b5:1\"\n";
    let e = RunConfig::from_toml(text).unwrap_err().to_string();
    assert!(e.contains("'oops' is not a span"), "{e}");
}
