//! The IAM workload end to end: the correct protocol passes in both propagation modes, each
//! planted bug is caught by the checker meant for it and shrinks, runs are deterministic, and
//! the sweep's metrics say what a partition does to the stale-allow window.

use seedbed_sim::run::repro::Sources;
use seedbed_sim::run::shrink::shrink;
use seedbed_sim::run::sweep::Sweep;
use seedbed_sim::workloads::iam::checker::{ACK_DURABLE, MATCHES};
use seedbed_sim::workloads::iam::metrics::{
    run_text, FAULT_SETTING, MESSAGES_PER_CHANGE, PROPAGATION_NS, STALE_ALLOWS, STALE_ALLOW_NS,
};
use seedbed_sim::{registry, FaultSource, RunConfig, RunOutcome};

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

/// Run one seed of `c`.
fn run(c: &RunConfig) -> RunOutcome {
    registry::run(c, None).unwrap()
}

#[test]
fn a_run_reports_its_metrics_in_its_outcome() {
    let o = run(&config(0, &[]));
    let m = &o.metrics;
    assert!(m.label_of(FAULT_SETTING).is_some(), "{m:?}");
    assert!(!m.samples_of(PROPAGATION_NS).is_empty(), "{m:?}");
    // Messages per change use the world's count, which survives crashes.
    let per_change = m.get(MESSAGES_PER_CHANGE).unwrap();
    let changes = m.get("iam_changes").unwrap();
    assert!(changes > 80.0);
    assert_eq!(per_change, o.messages.total().sent as f64 / changes);
    assert!(o.messages.kind("append").sent > 0, "{:?}", o.messages);
}

#[test]
fn metrics_come_out_per_fault_setting() {
    let base = config(0, &[]);
    let mut sweep = Sweep::new(&base).unwrap();
    for seed in 0..6 {
        sweep.run_seed(&base, seed, &Sources::default()).unwrap();
    }
    let (summary, own) = sweep.finish();
    assert_eq!((summary.seeds, summary.failed), (6, 0));
    let json = &own.json["iam"];
    assert_eq!(json["kind"], "sim-iam");
    assert_eq!(
        (json["seeds"].as_u64(), json["failed"].as_u64()),
        (Some(6), Some(0))
    );
    let settings = json["settings"].as_array().unwrap();
    let changes: u64 = settings
        .iter()
        .map(|s| s["changes"].as_u64().unwrap())
        .sum();
    assert!(changes > 6 * 80, "{changes} changes");
    for s in settings {
        let f = |k: &str| s[k].as_f64().unwrap();
        assert!(f("messages_per_change") > 0.0, "{s}");
        assert!(
            f("stale_allow_ms_p50") <= f("stale_allow_ms_p99")
                && f("stale_allow_ms_p99") <= f("stale_allow_ms_max")
        );
    }
    assert!(own.text.contains("stale p99"), "{}", own.text);
    // The report draws it from the record.
    let record = serde_json::Value::Object(own.json.clone());
    let charts = (registry::find("iam").unwrap().charts)(&[&record]).unwrap();
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].file, "sim-iam-stale.svg");
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
    let po = run(&partitioned);
    let co = run(&clean);
    assert!(po.violation.is_none() && co.violation.is_none());
    let (pm, cm) = (&po.metrics, &co.metrics);
    let max = |v: &[u64]| v.iter().copied().max().unwrap_or(0);
    assert!(pm.get(STALE_ALLOWS).unwrap() > 0.0);
    let (p, c) = (
        max(pm.samples_of(STALE_ALLOW_NS)),
        max(cm.samples_of(STALE_ALLOW_NS)),
    );
    assert!(
        p > 10 * c.max(1_000_000),
        "partitioned {p} ns vs clean {c} ns"
    );
}

/// docs/iam.md shows this run's output; the text must stay what the binary prints.
#[test]
fn the_documented_partition_repro_still_says_what_the_docs_say() {
    let plan = include_str!("../../../docs/sim/iam-partitions.toml");
    let doc = include_str!("../../../docs/iam.md");
    let mut c = config(1, &[]);
    c.faults = FaultSource::Plan(Box::new(
        seedbed_sim::faults::FaultPlan::from_toml(plan).unwrap(),
    ));
    let o = run(&c);
    assert!(o.violation.is_none());
    let summary = run_text(&o).unwrap();
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
