//! The gossip workload end to end: correct runs pass (without faults and under swarm faults),
//! every planted bug is caught by the checker meant for it, runs are deterministic, metrics
//! are measured, and clusters beyond 64 nodes work, partitions included.

use seedbed_sim::faults::{FaultPlan, Periodic};
use seedbed_sim::run::determinism;
use seedbed_sim::{registry, FaultSource, RunConfig, RunOutcome};

fn gossip(seed: u64, params: &[(&str, &str)]) -> RunConfig {
    let mut c = RunConfig::new("gossip", seed);
    for (k, v) in params {
        c.params.insert(k.to_string(), v.to_string());
    }
    c
}

fn run(c: &RunConfig) -> RunOutcome {
    registry::run(c, None).unwrap()
}

#[test]
fn fault_free_runs_pass_and_measure_detection() {
    for seed in 0..3 {
        let mut c = gossip(seed, &[]);
        c.faults = FaultSource::None;
        let o = run(&c);
        assert!(o.violation.is_none(), "seed {seed}: {:?}", o.violation);
        let m = &o.metrics.scalars;
        assert_eq!(m["false_positives"], 0.0, "seed {seed}");
        assert!(m["msgs_per_node_period"] > 1.0, "seed {seed}: {m:?}");
        if m["stops"] > 0.0 {
            let first = m["first_suspect_periods"];
            let failed = m["first_failed_periods"];
            assert!(first > 0.0 && first <= failed, "seed {seed}: {m:?}");
            assert!(m["all_failed_periods"] >= failed, "seed {seed}: {m:?}");
        }
    }
}

#[test]
fn swarm_faults_with_and_without_lifeguard_pass() {
    for seed in 0..6 {
        for lifeguard in ["on", "off"] {
            let o = run(&gossip(seed, &[("lifeguard", lifeguard)]));
            assert!(
                o.violation.is_none(),
                "seed {seed} lifeguard={lifeguard}: {:?}",
                o.violation
            );
        }
    }
}

/// The first of `seeds` where `bug` (with `params`) fails, and the checker that caught it.
fn caught(
    bug: &str,
    params: &[(&str, &str)],
    faults: FaultSource,
    seeds: std::ops::Range<u64>,
) -> Option<(u64, String)> {
    seeds.into_iter().find_map(|seed| {
        let mut c = gossip(seed, &[("bug", bug)]);
        for (k, v) in params {
            c.params.insert(k.to_string(), v.to_string());
        }
        c.faults = faults.clone();
        run(&c).violation.map(|v| (seed, v.checker))
    })
}

#[test]
fn every_planted_bug_is_caught_by_its_checker() {
    for (bug, params, faults, checker) in [
        (
            "no-refute",
            &[][..],
            FaultSource::Swarm,
            "gossip-convergence",
        ),
        // A restarted member's refutation reaches a member holding it failed, which refuses
        // it: the news outranks what it holds, and it must take it.
        (
            "failed-is-final",
            &[],
            FaultSource::Swarm,
            "gossip-news-taken",
        ),
        // A suspicion kept past Lifeguard's timeout fails at the suspect's next handler, long
        // before the detection deadline for a departed member runs out.
        (
            "suspicion-never-expires",
            &[],
            FaultSource::None,
            "gossip-suspicion-ceiling",
        ),
        // The verdict on a probe comes at its timeout, not at the next period: the health
        // score moves off the period's beat before any false positive happens ...
        ("timeout-units", &[], FaultSource::None, "gossip-health"),
        // ... and without local health awareness, the probe given up at its timeout without
        // asking anyone to probe indirectly (before any false positive shows).
        (
            "timeout-units",
            &[("lha", "off")],
            FaultSource::None,
            "gossip-indirect-probes",
        ),
        (
            "alive-clears-suspicion",
            &[],
            FaultSource::None,
            "gossip-transitions",
        ),
        ("slow-probe", &[], FaultSource::None, "gossip-detection"),
        (
            "short-suspicion",
            &[],
            FaultSource::None,
            "gossip-suspicion-floor",
        ),
        // Without dynamic suspicion the floor is `min` itself.
        (
            "short-suspicion",
            &[("dsus", "off")],
            FaultSource::None,
            "gossip-suspicion-floor",
        ),
        // Without faults a failed probe's relays all nack (+0), so the score never rises: it
        // takes message loss for a probe to fail without nacks.
        (
            "health-never-heals",
            &[],
            FaultSource::Swarm,
            "gossip-health",
        ),
        ("refute-alive", &[], FaultSource::None, "gossip-refute"),
        (
            "late-newcomers",
            &[],
            FaultSource::None,
            "gossip-round-robin",
        ),
        ("relays-suspects", &[], FaultSource::Swarm, "gossip-relays"),
    ] {
        let got = caught(bug, params, faults, 0..8);
        assert!(
            matches!(&got, Some((_, c)) if c == checker),
            "bug {bug} {params:?}: expected {checker}, got {got:?}"
        );
    }
}

/// The dissemination bound (SWIM §4.1) fails a member that piggybacks each update once, and
/// the same seeds pass without the bug, with updates judged. Under the bug news still spreads
/// by anti-entropy, mostly within the bound: of the default sweep's seeds `0..300`, 8 fail,
/// the first 74 (in the quiet period, after faults).
#[test]
fn dissemination_bound_fails_piggyback_once_only() {
    let seeds = 70..78;
    let mut failed = 0;
    let mut judged = 0.0;
    for seed in seeds.clone() {
        let o = run(&gossip(seed, &[]));
        assert!(o.violation.is_none(), "seed {seed}: {:?}", o.violation);
        judged += o.metrics.scalars["dissemination_judged"];
        if let Some(v) = run(&gossip(seed, &[("bug", "piggyback-once")])).violation {
            assert_eq!(
                v.checker, "gossip-dissemination",
                "seed {seed}: {}",
                v.message
            );
            failed += 1;
        }
    }
    assert!(judged > 0.0, "no update judged in seeds {seeds:?}");
    assert!(failed > 0, "piggyback-once passed seeds {seeds:?}");
}

/// The rule checkers judge something in an ordinary run: they are not vacuous.
#[test]
fn the_rule_checkers_judge_clean_runs() {
    let mut totals = std::collections::BTreeMap::<&str, f64>::new();
    for seed in 0..4 {
        let o = run(&gossip(seed, &[]));
        assert!(o.violation.is_none(), "seed {seed}: {:?}", o.violation);
        for name in [
            "rule_health_moves_judged",
            "rule_suspicions_timed",
            "rule_refutations_judged",
            "rule_probes_judged",
            "rule_rounds_completed",
            "rule_relays_judged",
            "rule_push_pulls_judged",
            "rule_joins_judged",
            "rule_news_taken_judged",
            "rule_news_held_judged",
            "rule_departures_judged",
            "rule_indirect_probes_judged",
            "rule_suspicion_ceilings_judged",
            "dissemination_judged",
        ] {
            *totals.entry(name).or_default() += o.metrics.scalars[name];
        }
    }
    for (name, total) in &totals {
        assert!(*total > 0.0, "{name} is 0 over seeds 0..4: {totals:?}");
    }
    // Every probe is judged, and rounds are as long as the group: 16 members, so about one
    // round per 15 probes.
    let probes = totals["rule_probes_judged"];
    let rounds = totals["rule_rounds_completed"];
    assert!(
        rounds * 10.0 < probes && rounds * 20.0 > probes,
        "{totals:?}"
    );
}

#[test]
fn same_seed_same_run() {
    for seed in [1, 5] {
        let r = determinism::check(&gossip(seed, &[])).unwrap();
        assert!(r.deterministic(), "{r:?}");
    }
    let a = run(&gossip(3, &[]));
    let b = run(&gossip(4, &[]));
    assert_ne!(a.hash, b.hash);
}

#[test]
fn clusters_beyond_64_nodes_partition_and_converge() {
    let mut c = gossip(2, &[]);
    c.nodes = Some(100);
    c.fault_ms = Some(2_000);
    c.quiet_ms = Some(3_000);
    c.ops = Some(0);
    c.faults = FaultSource::Plan(Box::new(FaultPlan {
        partitions: Some(Periodic {
            every_ms: 500,
            duration_ms_max: 400,
        }),
        ..FaultPlan::default()
    }));
    let o = run(&c);
    assert!(o.violation.is_none(), "{:?}", o.violation);
    assert!(!o.schedule.is_empty(), "no partitions drawn");
    assert!(o.net.partitioned > 0, "no message was cut");
    assert!(
        o.metrics.scalars["false_suspicions"] > 0.0,
        "partitions went unnoticed"
    );
}

#[test]
fn bad_parameters_are_named() {
    for (k, v, want) in [
        ("bogus", "1", "bogus"),
        ("bug", "nope", "nope"),
        ("lifeguard", "maybe", "lifeguard"),
        ("period_ms", "0", "period_ms"),
    ] {
        let e = registry::run(&gossip(0, &[(k, v)]), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{k}={v}: {e}");
    }
    let mut c = RunConfig::new("register", 0);
    c.nodes = Some(65);
    let e = registry::run(&c, None).unwrap_err().to_string();
    assert!(e.contains("64"), "{e}");
}
