//! Swarm testing: each seed switches on a random subset of fault kinds at random intensities.
//!
//! Why not every fault at once, always? Because faults mask each other: a run that drops 20% of
//! messages never builds the long uninterrupted history a subtle reordering bug needs, and a
//! cluster that is always partitioned never gets far enough to crash mid-commit. Drawing the
//! subset per seed (Groce et al., "Swarm Testing", ISSTA 2012) finds more bugs across a sweep
//! than any single fixed mix. Each kind has its own sub-stream, so adding a kind later does not
//! change which kinds earlier seeds switch on.

use seedbed_engine::rng::DetRng;

use super::plan::{ClockFaults, DiskFaults, FaultPlan, Periodic};
use crate::net::NetFaults;

/// Chance that each fault kind is on in a swarm plan.
pub const KIND_ON_P: f64 = 0.5;

fn on(root: &DetRng, kind: &str) -> Option<DetRng> {
    let mut rng = root.fork(&format!("swarm/{kind}"));
    if rng.chance(KIND_ON_P) {
        Some(rng)
    } else {
        None
    }
}

fn periodic(rng: &mut DetRng, every_lo: u64, every_hi: u64, dur_hi: u64) -> Periodic {
    Periodic {
        every_ms: rng.range_inclusive(every_lo, every_hi),
        duration_ms_max: rng.range_inclusive(1, dur_hi),
    }
}

/// The swarm plan of the run whose root stream is `root`.
pub fn plan(root: &DetRng) -> FaultPlan {
    let mut net = NetFaults::default();
    if let Some(mut r) = on(root, "drop") {
        net.drop = r.range_inclusive(1, 100) as f64 / 1_000.0; // 0.1% ..= 10%
    }
    if let Some(mut r) = on(root, "duplicate") {
        net.duplicate = r.range_inclusive(1, 100) as f64 / 1_000.0;
    }
    if let Some(mut r) = on(root, "reorder") {
        net.reorder = r.range_inclusive(1, 300) as f64 / 1_000.0;
        net.reorder_window_us = r.range_inclusive(100, 20_000);
    }
    if let Some(mut r) = on(root, "slow-links") {
        net.slow_link_factor_max = r.range_inclusive(2, 20);
    }
    let partitions = on(root, "partitions").map(|mut r| periodic(&mut r, 100, 1_000, 800));
    let crashes = on(root, "crashes").map(|mut r| periodic(&mut r, 150, 1_500, 500));
    let pauses = on(root, "pauses").map(|mut r| periodic(&mut r, 150, 1_500, 400));
    let clock_jumps = on(root, "clock-jumps").map(|mut r| periodic(&mut r, 200, 2_000, 5_000));
    let clock = match on(root, "clock-skew") {
        Some(mut r) => ClockFaults {
            skew_ms_max: r.range_inclusive(1, 500),
            drift_ppm_max: r.range_inclusive(1, 500),
        },
        None => ClockFaults::default(),
    };
    let mut disk = DiskFaults::default();
    if let Some(mut r) = on(root, "disk") {
        let mut p = |max_per_10k: u64| r.range_inclusive(0, max_per_10k) as f64 / 10_000.0;
        disk.bit_flip = p(10);
        disk.torn_write = p(10);
        disk.read_eio = p(10);
        disk.write_eio = p(10);
        disk.sync_eio = p(10);
        if r.chance(0.2) {
            disk.capacity_kib = Some(r.range_inclusive(1, 64));
        }
    }
    if let Some(mut r) = on(root, "crash-fates") {
        // Lean towards one fate, so some seeds keep everything and some lose everything.
        let keep = r.range_inclusive(0, 100) as f64 / 100.0;
        disk.crash_keep = keep;
        disk.crash_tear = r.range_inclusive(0, 100) as f64 / 100.0 * (1.0 - keep);
        disk.crash_lose_dir = r.range_inclusive(0, 100) as f64 / 100.0;
    }
    let buggify = on(root, "buggify").is_some();
    let plan = FaultPlan {
        net,
        partitions,
        crashes,
        pauses,
        clock_jumps,
        clock,
        disk,
        buggify,
    };
    assert!(
        plan.validate().is_ok(),
        "swarm drew an invalid plan: {plan:?}"
    );
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_switch_on_different_subsets() {
        let plans: Vec<_> = (0..32).map(|s| plan(&DetRng::new(s))).collect();
        assert!(plans.iter().all(|p| p.validate().is_ok()));
        let kinds: std::collections::BTreeSet<_> = plans.iter().map(|p| p.kinds()).collect();
        assert!(
            kinds.len() > 16,
            "only {} distinct subsets in 32 seeds",
            kinds.len()
        );
        assert_eq!(plan(&DetRng::new(5)), plan(&DetRng::new(5)));
    }
}
