//! What one IAM run measures: stale-allow windows, propagation times, messages per change.
//!
//! The checkers ([`super::checker`]) report them at the end of the run through the metrics
//! contract ([`crate::metrics`]): the names below, in the run's outcome. The message count is
//! the world's ([`crate::metrics::Traffic`]), so crashes do not lose it. [`super::sweep`]
//! sums runs into a table per fault setting; [`run_text`] is `seedbed sim run`'s paragraph.

use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::time::NANOS_PER_MS;
use crate::world::RunOutcome;

/// Scalar: changes the leader committed.
pub const CHANGES: &str = "iam_changes";
/// Scalar: allow decisions made with a view older than a revoke of what they allowed.
pub const STALE_ALLOWS: &str = "iam_stale_allows";
/// Scalar: revokes that some node allowed after they were committed.
pub const REVOKES_WITH_STALE_ALLOW: &str = "iam_revokes_with_stale_allow";
/// Scalar: the longest stale-allow window, milliseconds.
pub const STALE_ALLOW_MS_MAX: &str = "iam_stale_allow_ms_max";
/// Scalar: the longest propagation time, milliseconds.
pub const PROPAGATION_MS_MAX: &str = "iam_propagation_ms_max";
/// Scalar: messages sent per committed change (all propagation traffic).
pub const MESSAGES_PER_CHANGE: &str = "iam_messages_per_change";
/// Samples: per (revoke, request) pair that had stale allows, the longest, nanoseconds.
pub const STALE_ALLOW_NS: &str = "iam_stale_allow_ns";
/// Samples: per change, commit → the leader reports every node holds it, nanoseconds
/// (observed at the leader's next authorization reply, so a few milliseconds coarse).
pub const PROPAGATION_NS: &str = "iam_propagation_ns";
/// Label: the fault setting the run drew ([`fault_setting`]).
pub const FAULT_SETTING: &str = "iam_fault_setting";
/// Label: the longest stale allow, in words (where to look in a timeline).
pub const LONGEST_STALE_ALLOW: &str = "iam_longest_stale_allow";

/// Sometimes: a node allowed a request with a view older than a revoke of it, within the
/// window the rules permit (the stale-allow window opened, and closed).
pub const STALE_ALLOW_SEEN: &str = "stale-allow-window";
/// Sometimes: the leader saw a change reach every node.
pub const CHANGE_PROPAGATED: &str = "change-propagated";
/// Sometimes: a node booted again after a crash.
pub const RESTARTED: &str = "node-restarted";

/// What the IAM workload declares (see [`crate::sometimes`]).
pub const SOMETIMES: &[crate::sometimes::Sometimes] = &[
    crate::sometimes::Sometimes::new(
        STALE_ALLOW_SEEN,
        "a revoked permission was still allowed for a while, then the window closed",
    ),
    crate::sometimes::Sometimes::new(
        CHANGE_PROPAGATED,
        "the leader saw a change reach every node",
    ),
    crate::sometimes::Sometimes::new(RESTARTED, "a node booted again after a crash"),
];

/// The fault setting a run drew, coarsely: the most disruptive kind present.
pub fn fault_setting(plan: &FaultPlan, schedule: &[ScheduledFault]) -> &'static str {
    let has = |k: &str| schedule.iter().any(|f| f.fault.name() == k);
    if has("partition") {
        "partitions"
    } else if has("crash") {
        "crashes"
    } else if has("pause")
        || schedule
            .iter()
            .any(|f| matches!(f.fault, Fault::ClockJump { .. }))
    {
        "pauses-clocks"
    } else if plan.net.drop > 0.0 || plan.net.reorder > 0.0 || plan.net.slow_link_factor_max > 1 {
        "lossy-net"
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

/// One paragraph for `seedbed sim run` (`None` if the run reported no IAM metrics).
pub fn run_text(o: &RunOutcome) -> Option<String> {
    let m = &o.metrics;
    m.label_of(FAULT_SETTING)?;
    let count = |name: &str| m.get(name).unwrap_or(0.0) as u64;
    let changes = count(CHANGES);
    let messages = o.messages.total().sent;
    let mut p = m.samples_of(PROPAGATION_NS).to_vec();
    p.sort_unstable();
    let mut s = format!(
        "iam: {} changes, {} messages ({:.1}/change), propagation p50 {:.1} ms max {:.1} ms; {} stale allows over {} revokes",
        changes,
        messages,
        if changes == 0 { 0.0 } else { messages as f64 / changes as f64 },
        ms(percentile(&p, 50)),
        ms(p.last().copied().unwrap_or(0)),
        count(STALE_ALLOWS),
        count(REVOKES_WITH_STALE_ALLOW),
    );
    if let Some(what) = m.label_of(LONGEST_STALE_ALLOW) {
        s.push_str(&format!("\n  longest stale allow: {what}"));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
