//! The IAM workload end to end: the correct protocol passes in both propagation modes, each
//! planted bug is caught by the checker meant for it and shrinks, runs are deterministic, and
//! the sweep's metrics say what a partition does to the stale-allow window.

use seedbed_sim::run::shrink::shrink;
use seedbed_sim::workloads::iam::checker::{ACK_DURABLE, MATCHES};
use seedbed_sim::workloads::iam::metrics::{run_seed, IamSweep};
use seedbed_sim::{registry, FaultSource, RunConfig};

fn config(seed: u64, params: &[(&str, &str)]) -> RunConfig {
    let mut c = RunConfig::new("iam", seed);
    for (k, v) in params {
        c.params.insert((*k).into(), (*v).into());
    }
    c
}

/// The first seed in `seeds` that fails, with its checker.
fn first_failure(params: &[(&str, &str)], seeds: std::ops::Range<u64>) -> Option<(u64, String)> {
    seeds.into_iter().find_map(|s| {
        let o = registry::run(&config(s, params), None).unwrap();
        o.violation.map(|v| (s, v.checker))
    })
}

#[test]
fn the_correct_protocol_passes_in_every_mode() {
    for mode in ["log", "gossip", "swim"] {
        for seed in 0..4 {
            let o = registry::run(&config(seed, &[("mode", mode)]), None).unwrap();
            assert!(
                o.violation.is_none(),
                "mode {mode} seed {seed}: {:?}",
                o.violation
            );
            assert!(
                o.ops_completed > 1_900,
                "mode {mode} seed {seed}: {}",
                o.ops_completed
            );
        }
    }
}

#[test]
fn a_stale_cache_is_caught_by_the_decision_checker() {
    let (_, checker) = first_failure(&[("bug", "stale-cache")], 0..3).expect("caught");
    assert_eq!(checker, MATCHES);
}

#[test]
fn out_of_order_application_is_caught_by_the_digest() {
    let (_, checker) = first_failure(&[("bug", "out-of-order")], 0..12).expect("caught");
    assert_eq!(checker, MATCHES);
}

#[test]
fn acking_before_persisting_is_caught_after_a_crash() {
    // Seed 3 draws crashes that drop unsynced writes (see the sweep in docs/iam.md).
    let o = registry::run(&config(3, &[("bug", "ack-before-persist")]), None).unwrap();
    let v = o.violation.expect("caught");
    assert_eq!(v.checker, ACK_DURABLE, "{}", v.message);
    assert!(o.crashes > 0);
    // The same seed without the bug passes: the crash alone is harmless.
    let ok = registry::run(&config(3, &[]), None).unwrap();
    assert!(ok.violation.is_none(), "{:?}", ok.violation);
}

#[test]
fn a_planted_bug_shrinks_and_the_shrunk_config_reproduces() {
    let c = config(0, &[("bug", "stale-cache")]);
    let r = shrink(&c, 120).unwrap();
    assert_eq!(r.checker, MATCHES);
    assert!(
        r.size_after < r.size_before,
        "{} -> {}",
        r.size_before,
        r.size_after
    );
    assert!(r.size_after.ops < r.size_before.ops);
    let text = r.config.to_toml().unwrap();
    let again = registry::run(&RunConfig::from_toml(&text).unwrap(), None).unwrap();
    assert_eq!(again.hash, r.outcome.hash);
    assert_eq!(again.violation.unwrap().checker, MATCHES);
}

#[test]
fn same_seed_same_trace_in_every_mode() {
    for mode in ["log", "gossip", "swim"] {
        let a = registry::run(&config(5, &[("mode", mode)]), None).unwrap();
        let b = registry::run(&config(5, &[("mode", mode)]), None).unwrap();
        assert_eq!(a.hash, b.hash, "mode {mode}");
        assert_eq!(a.events, b.events);
    }
}

#[test]
fn bad_parameters_are_refused_by_name() {
    for (k, v) in [
        ("mode", "carrier-pigeon"),
        ("bug", "nope"),
        ("bound_ms", "0"),
        ("colour", "red"),
    ] {
        let e = registry::run(&config(0, &[(k, v)]), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(k), "{k}={v}: {e}");
    }
}

#[test]
fn metrics_come_out_per_fault_setting() {
    let sweep = IamSweep::run(&config(0, &[]), 0..6).unwrap();
    assert_eq!(sweep.kind, "sim-iam");
    assert_eq!((sweep.seeds, sweep.failed), (6, 0));
    let changes: u64 = sweep.settings.iter().map(|s| s.changes).sum();
    assert!(changes > 6 * 80, "{changes} changes");
    for s in &sweep.settings {
        assert!(s.messages_per_change > 0.0, "{s:?}");
        assert!(
            s.stale_allow_ms_p50 <= s.stale_allow_ms_p99
                && s.stale_allow_ms_p99 <= s.stale_allow_ms_max
        );
    }
    let json = serde_json::to_value(&sweep).unwrap();
    assert_eq!(json["kind"], "sim-iam");
    assert!(json["settings"][0]["stale_allow_ms_p99"].is_number());
    assert!(sweep.table().contains("stale p99"));
}

/// A partition that isolates a node keeps its stale allows going until it heals: the windows
/// are far longer than on a clean network.
#[test]
fn a_partition_stretches_the_stale_allow_window() {
    let plan = r#"
[partitions]
every_ms = 300
duration_ms_max = 400
"#;
    let mut partitioned = config(1, &[]);
    partitioned.faults = FaultSource::Plan(Box::new(
        seedbed_sim::faults::FaultPlan::from_toml(plan).unwrap(),
    ));
    let mut clean = config(1, &[]);
    clean.faults = FaultSource::None;
    let (po, pm) = run_seed(&partitioned, 1).unwrap();
    let (co, cm) = run_seed(&clean, 1).unwrap();
    assert!(po.violation.is_none() && co.violation.is_none());
    let (pm, cm) = (pm.unwrap(), cm.unwrap());
    let max = |v: &[u64]| v.iter().copied().max().unwrap_or(0);
    assert!(pm.stale_allows > 0);
    assert!(
        max(&pm.stale_allow_ns) > 10 * max(&cm.stale_allow_ns).max(1_000_000),
        "partitioned {} ns vs clean {} ns",
        max(&pm.stale_allow_ns),
        max(&cm.stale_allow_ns)
    );
}

/// docs/iam.md shows this run's output; the text must stay what the binary prints.
#[test]
fn the_documented_partition_repro_still_says_what_the_docs_say() {
    let plan = include_str!("../../docs/sim/iam-partitions.toml");
    let doc = include_str!("../../docs/iam.md");
    let mut c = config(1, &[]);
    c.faults = FaultSource::Plan(Box::new(
        seedbed_sim::faults::FaultPlan::from_toml(plan).unwrap(),
    ));
    let (o, m) = run_seed(&c, 1).unwrap();
    assert!(o.violation.is_none());
    let summary = m.unwrap().summary();
    for line in summary.lines() {
        assert!(doc.contains(line.trim()), "docs/iam.md lacks: {line}");
    }
    assert!(doc.contains(&format!("trace hash {}", o.hash_hex())));
}

/// Checker (2) fails a stale allow longer than the bound on a connected network (here a
/// 3 ms bound against a reordered message), and the failure shrinks.
#[test]
fn a_bound_shorter_than_the_network_fails_the_window_checker() {
    use seedbed_sim::workloads::iam::checker::STALE_WINDOW;
    let c = config(25, &[("bound_ms", "3")]);
    let o = registry::run(&c, None).unwrap();
    let v = o.violation.expect("caught");
    assert_eq!(v.checker, STALE_WINDOW, "{}", v.message);
    assert!(
        v.message.contains("beyond the 3 ms propagation bound"),
        "{}",
        v.message
    );
    // The default bound (1 s) is far above it: the same seed passes.
    assert!(registry::run(&config(25, &[]), None)
        .unwrap()
        .violation
        .is_none());
}

/// SWIM mode: the planted bugs are caught there too.
#[test]
fn swim_mode_catches_the_planted_bugs() {
    let (_, checker) =
        first_failure(&[("mode", "swim"), ("bug", "out-of-order")], 0..6).expect("caught");
    assert_eq!(checker, MATCHES);
    let (_, checker) =
        first_failure(&[("mode", "swim"), ("bug", "stale-cache")], 0..3).expect("caught");
    assert_eq!(checker, MATCHES);
}
