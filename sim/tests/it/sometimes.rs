//! Coverage you can see (`seedbed_sim::sometimes`): every workload's checkers report only the
//! events it declares, a sweep counts the seeds each happened in, and flags the declared
//! events that happened in none.

use seedbed_sim::registry::REGISTRY;
use seedbed_sim::run::repro::Sources;
use seedbed_sim::run::sweep::Sweep;
use seedbed_sim::RunConfig;

#[test]
fn sweeps_count_declared_events_and_flag_the_ones_that_never_happened() {
    for w in REGISTRY.iter().filter(|w| !w.sometimes.is_empty()) {
        let base = RunConfig::new(w.name, 0);
        let mut sweep = Sweep::new(&base).unwrap();
        // Before any seed, every declared event is flagged as never having happened.
        let declared: Vec<&str> = w.sometimes.iter().map(|s| s.name).collect();
        let mut sorted = declared.clone();
        sorted.sort_unstable();
        assert_eq!(sweep.summary.never(), sorted, "{}", w.name);
        for seed in 0..4 {
            sweep.run_seed(&base, seed, &Sources::default()).unwrap();
        }
        let (summary, _) = sweep.finish();
        for (name, &seeds) in &summary.sometimes {
            assert!(
                declared.contains(&name.as_str()),
                "{}: event {name} reported but not declared",
                w.name
            );
            assert!(
                seeds <= summary.seeds,
                "{}: {name} in {seeds} seeds",
                w.name
            );
        }
        assert!(
            summary.never().len() < declared.len(),
            "{}: none of {declared:?} happened in 4 swarm seeds",
            w.name
        );
    }
}

#[test]
fn events_travel_in_the_run_outcome_not_the_trace() {
    let c = RunConfig::new("quorum", 1);
    let o = seedbed_sim::registry::run(&c, None).unwrap();
    assert!(
        !o.metrics.sometimes.is_empty(),
        "a swarm run of the quorum store saw nothing"
    );
    assert!(o.metrics.sometimes.values().all(|&n| n > 0));
}
