//! What one run of the pipeline measures, reported through the metrics contract
//! ([`crate::metrics`]) by the checkers' recorder at the end of the run.
//!
//! - end-to-end latency: from the client hearing "committed" to the event's effect appearing
//!   in the table — one sample per committed event that took effect;
//! - duplicate deliveries: deliveries to workers beyond the first, per 1,000 committed events
//!   (what idempotency has to absorb);
//! - the dead-letter rate: messages dead-lettered per committed event.

use super::checker::History;
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::metrics::Metrics;
use crate::time::NANOS_PER_MS;
use crate::world::RunOutcome;

/// Scalar: changes committed (acknowledged to the client).
pub const COMMITTED: &str = "events_committed";
/// Scalar: committed changes whose effect is in the table.
pub const APPLIED: &str = "events_applied";
/// Scalar: messages in the dead-letter queue.
pub const DEAD_LETTERED: &str = "events_dead_lettered";
/// Scalar: deliveries to workers, all told.
pub const DELIVERIES: &str = "events_deliveries";
/// Scalar: deliveries beyond each event's first.
pub const DUPLICATES: &str = "events_duplicate_deliveries";
/// Scalar: duplicate deliveries per 1,000 committed events.
pub const DUPLICATES_PER_1000: &str = "events_duplicates_per_1000";
/// Scalar: dead-lettered messages per committed event.
pub const DLQ_RATE: &str = "events_dlq_rate";
/// Scalar: end-to-end latency, median, milliseconds.
pub const E2E_MS_P50: &str = "events_e2e_ms_p50";
/// Scalar: end-to-end latency, 99th percentile, milliseconds.
pub const E2E_MS_P99: &str = "events_e2e_ms_p99";
/// Samples: end-to-end latency per event, nanoseconds.
pub const E2E_NS: &str = "events_e2e_ns";
/// Scalar: queue leaders elected (one per term won; the first election counts).
pub const ELECTIONS: &str = "events_queue_elections";
/// Scalar: visibility extensions the queue granted (`ChangeMessageVisibility`).
pub const EXTENSIONS: &str = "events_visibility_extensions";
/// Label: the fault setting the run drew ([`fault_setting`]).
pub const FAULT_SETTING: &str = "events_fault_setting";

/// The fault setting a run drew, coarsely: the most disruptive kind present.
pub fn fault_setting(plan: &FaultPlan, schedule: &[ScheduledFault]) -> &'static str {
    let has = |k: &str| schedule.iter().any(|f| f.fault.name() == k);
    if has("crash") {
        "crashes"
    } else if has("partition") {
        "partitions"
    } else if has("pause")
        || schedule
            .iter()
            .any(|f| matches!(f.fault, Fault::ClockJump { .. }))
    {
        "pauses-clocks"
    } else if plan.net.drop > 0.0 || plan.net.duplicate > 0.0 {
        "lossy-net"
    } else if plan.net.reorder > 0.0 || plan.net.slow_link_factor_max > 1 {
        "slow-net"
    } else {
        "clean"
    }
}

/// `p`-th percentile (0..=100) of sorted samples, nearest rank; 0 when empty.
pub fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Nanoseconds as milliseconds.
pub fn ms(ns: u64) -> f64 {
    ns as f64 / NANOS_PER_MS as f64
}

/// Report `h`'s measurements into `out`.
pub fn report(h: &History, setting: &'static str, out: &mut Metrics) {
    let committed = h.committed.len() as u64;
    let mut e2e: Vec<u64> = h
        .committed
        .iter()
        .filter_map(|(s, (_, t))| h.first_effect.get(s).map(|f| f.saturating_sub(*t)))
        .collect();
    let applied = e2e.len() as u64;
    e2e.sort_unstable();
    let deliveries: u64 = h.delivered.values().map(|&n| u64::from(n)).sum();
    let duplicates: u64 = h
        .delivered
        .values()
        .map(|&n| u64::from(n.saturating_sub(1)))
        .sum();
    let dead = h.dead.len() as u64;
    let per = |n: u64, scale: f64| {
        if committed == 0 {
            0.0
        } else {
            n as f64 * scale / committed as f64
        }
    };
    out.scalar(COMMITTED, committed as f64);
    out.scalar(APPLIED, applied as f64);
    out.scalar(DEAD_LETTERED, dead as f64);
    out.scalar(DELIVERIES, deliveries as f64);
    out.scalar(DUPLICATES, duplicates as f64);
    out.scalar(DUPLICATES_PER_1000, per(duplicates, 1000.0));
    out.scalar(DLQ_RATE, per(dead, 1.0));
    out.scalar(E2E_MS_P50, ms(percentile(&e2e, 50)));
    out.scalar(E2E_MS_P99, ms(percentile(&e2e, 99)));
    out.samples(E2E_NS, e2e);
    out.scalar(ELECTIONS, h.leaders_seen as f64);
    out.scalar(EXTENSIONS, h.extensions as f64);
    out.label(FAULT_SETTING, setting);
}

/// One paragraph for `seedbed sim run` (`None` if the run reported no pipeline metrics).
pub fn run_text(o: &RunOutcome) -> Option<String> {
    let m = &o.metrics;
    let setting = m.label_of(FAULT_SETTING)?;
    let count = |name: &str| m.get(name).unwrap_or(0.0);
    Some(format!(
        "events ({setting}): {} committed, {} applied, {} dead-lettered ({:.1}%); {} deliveries, {:.0} duplicates per 1,000 events; end-to-end p50 {:.1} ms, p99 {:.1} ms",
        count(COMMITTED),
        count(APPLIED),
        count(DEAD_LETTERED),
        count(DLQ_RATE) * 100.0,
        count(DELIVERIES),
        count(DUPLICATES_PER_1000),
        count(E2E_MS_P50),
        count(E2E_MS_P99),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&[], 50), 0);
    }
}
