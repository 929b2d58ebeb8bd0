//! The schedule: a plan's discrete faults drawn into a list of timed events before the run.
//!
//! Drawing them up front, rather than rolling dice as the run goes, is what lets the shrinker
//! delete one fault and rerun: every other fault keeps its time and target. Each kind draws
//! from its own sub-stream, so switching partitions on does not move the crashes.

use seedbed_engine::rng::DetRng;
use serde::{Deserialize, Serialize};

use super::plan::{FaultPlan, Periodic};
use crate::net::{Partition, PartitionKind};
use crate::node::NodeId;
use crate::time::{ms, NANOS_PER_MS};

/// One discrete fault.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Cut links for a while.
    Partition {
        /// Which links.
        partition: Partition,
        /// How long until it heals, in milliseconds.
        duration_ms: u64,
    },
    /// Crash a node; it restarts after `down_ms`.
    Crash {
        /// The node.
        node: NodeId,
        /// Downtime in milliseconds.
        down_ms: u64,
    },
    /// Freeze a node: its events wait until the pause ends.
    Pause {
        /// The node.
        node: NodeId,
        /// Pause length in milliseconds.
        duration_ms: u64,
    },
    /// Step a node's clock.
    ClockJump {
        /// The node.
        node: NodeId,
        /// Jump in milliseconds (negative: backwards).
        delta_ms: i64,
    },
}

impl Fault {
    /// A short name for traces and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Partition { .. } => "partition",
            Fault::Crash { .. } => "crash",
            Fault::Pause { .. } => "pause",
            Fault::ClockJump { .. } => "clock-jump",
        }
    }

    /// This fault in a run of `nodes` nodes, or `None` if it no longer applies.
    pub fn restricted_to(&self, nodes: u32) -> Option<Fault> {
        match self {
            Fault::Partition {
                partition,
                duration_ms,
            } => partition.restricted_to(nodes).map(|p| Fault::Partition {
                partition: p,
                duration_ms: *duration_ms,
            }),
            Fault::Crash { node, .. }
            | Fault::Pause { node, .. }
            | Fault::ClockJump { node, .. } => (*node < nodes).then(|| self.clone()),
        }
    }
}

/// A fault and its time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// When it strikes, in virtual milliseconds from the start.
    pub at_ms: u64,
    /// What strikes.
    pub fault: Fault,
}

/// Faults per schedule, at most.
pub const SCHEDULE_MAX: usize = 10_000;

fn arrivals(rng: &mut DetRng, p: Periodic, until_ns: u64, mut each: impl FnMut(u64, &mut DetRng)) {
    let mut t_ns = 0u64;
    for _ in 0..SCHEDULE_MAX {
        // Uniform gap with mean `every_ms`.
        t_ns += rng.range_inclusive(NANOS_PER_MS, ms(2 * p.every_ms).max(NANOS_PER_MS));
        if t_ns >= until_ns {
            return;
        }
        each(t_ns / NANOS_PER_MS, rng);
    }
}

fn shuffled(rng: &mut DetRng, nodes: u32) -> Vec<NodeId> {
    let mut v: Vec<NodeId> = (0..nodes).collect();
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

fn draw_partition(rng: &mut DetRng, nodes: u32) -> Partition {
    let order = shuffled(rng, nodes);
    let kind = match rng.below(4) {
        0 => PartitionKind::Isolate,
        1 => PartitionKind::Split,
        2 => PartitionKind::Symmetric,
        _ => PartitionKind::Asymmetric,
    };
    let side = match kind {
        PartitionKind::Isolate => 1,
        PartitionKind::Split => (nodes / 2).max(1),
        _ => rng.range_inclusive(1, u64::from(nodes - 1)) as u32,
    } as usize;
    let mut from = order[..side].to_vec();
    let mut to = order[side..].to_vec();
    from.sort_unstable();
    to.sort_unstable();
    Partition {
        kind,
        from,
        to,
        both_ways: kind != PartitionKind::Asymmetric,
    }
}

/// Draw the schedule of `plan` for `nodes` nodes over `[0, until_ms)`, sorted by time.
pub fn generate(plan: &FaultPlan, nodes: u32, until_ms: u64, root: &DetRng) -> Vec<ScheduledFault> {
    let until_ns = ms(until_ms);
    let mut out = Vec::new();
    if let (Some(p), true) = (plan.partitions, nodes >= 2) {
        arrivals(
            &mut root.fork("schedule/partitions"),
            p,
            until_ns,
            |at_ms, r| {
                let partition = draw_partition(r, nodes);
                let duration_ms = r.range_inclusive(1, p.duration_ms_max);
                out.push(ScheduledFault {
                    at_ms,
                    fault: Fault::Partition {
                        partition,
                        duration_ms,
                    },
                });
            },
        );
    }
    if let Some(p) = plan.crashes {
        arrivals(
            &mut root.fork("schedule/crashes"),
            p,
            until_ns,
            |at_ms, r| {
                let node = r.below(u64::from(nodes)) as NodeId;
                let down_ms = r.range_inclusive(1, p.duration_ms_max);
                out.push(ScheduledFault {
                    at_ms,
                    fault: Fault::Crash { node, down_ms },
                });
            },
        );
    }
    if let Some(p) = plan.pauses {
        arrivals(
            &mut root.fork("schedule/pauses"),
            p,
            until_ns,
            |at_ms, r| {
                let node = r.below(u64::from(nodes)) as NodeId;
                let duration_ms = r.range_inclusive(1, p.duration_ms_max);
                out.push(ScheduledFault {
                    at_ms,
                    fault: Fault::Pause { node, duration_ms },
                });
            },
        );
    }
    if let Some(p) = plan.clock_jumps {
        arrivals(
            &mut root.fork("schedule/clock-jumps"),
            p,
            until_ns,
            |at_ms, r| {
                let node = r.below(u64::from(nodes)) as NodeId;
                let size = r.range_inclusive(1, p.duration_ms_max) as i64;
                let delta_ms = if r.chance(0.5) { size } else { -size };
                out.push(ScheduledFault {
                    at_ms,
                    fault: Fault::ClockJump { node, delta_ms },
                });
            },
        );
    }
    out.truncate(SCHEDULE_MAX);
    // Stable: equal times keep kind order, which is fixed.
    out.sort_by_key(|f| f.at_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> FaultPlan {
        let p = Periodic {
            every_ms: 50,
            duration_ms_max: 100,
        };
        FaultPlan {
            partitions: Some(p),
            crashes: Some(p),
            pauses: Some(p),
            clock_jumps: Some(p),
            ..FaultPlan::default()
        }
    }

    #[test]
    fn schedule_is_sorted_bounded_and_in_range() {
        let s = generate(&plan(), 5, 2_000, &DetRng::new(9));
        assert!(s.len() > 40, "only {} faults", s.len());
        assert!(s.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert!(s
            .iter()
            .all(|f| f.at_ms < 2_000 && f.fault.restricted_to(5).is_some()));
        let kinds: std::collections::BTreeSet<_> = s.iter().map(|f| f.fault.name()).collect();
        assert_eq!(kinds.len(), 4);
    }

    #[test]
    fn one_kind_does_not_move_another() {
        let only_crashes = FaultPlan {
            crashes: plan().crashes,
            ..FaultPlan::default()
        };
        let a: Vec<_> = generate(&only_crashes, 5, 2_000, &DetRng::new(9));
        let b: Vec<_> = generate(&plan(), 5, 2_000, &DetRng::new(9))
            .into_iter()
            .filter(|f| f.fault.name() == "crash")
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_shorter_period_keeps_the_prefix() {
        let long = generate(&plan(), 5, 2_000, &DetRng::new(3));
        let short = generate(&plan(), 5, 1_000, &DetRng::new(3));
        let prefix: Vec<_> = long.into_iter().filter(|f| f.at_ms < 1_000).collect();
        assert_eq!(prefix, short);
    }
}
