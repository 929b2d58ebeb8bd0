//! The nemesis of `seedbed cluster test`: faults injected on a seeded schedule, one at a
//! time, each undone before the next — kill then restart, pause then resume, partition then
//! heal, skew a node's clock then set it right. The schedule's random choices (which fault, which node, which sides, how long) come
//! from a [`DetRng`] whose seed the run prints; the times they land at are the machine's.

use std::time::Duration;

use seedbed_engine::rng::DetRng;
use seedbed_nodes::NodeId;

/// A kind of fault the nemesis injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL a node, later restart it on its disk.
    Kill,
    /// SIGSTOP a node, later SIGCONT it.
    Pause,
    /// Cut the cluster in two, later heal.
    Partition,
    /// Offset one node's clock (what the timestamps it writes read), later clear the offset.
    Skew,
}

impl FaultKind {
    /// Every kind, by name.
    pub const ALL: &'static [(&'static str, FaultKind)] = &[
        ("kill", FaultKind::Kill),
        ("pause", FaultKind::Pause),
        ("partition", FaultKind::Partition),
        ("skew", FaultKind::Skew),
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Skew => "skew",
        }
    }
}

/// Parse `--nemesis kill,pause,partition` (or `none`): each name at most once.
pub fn parse_nemesis(spec: &str) -> Result<Vec<FaultKind>, String> {
    let spec = spec.trim();
    if spec == "none" || spec.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = FaultKind::ALL.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let Some(&(_, k)) = FaultKind::ALL.iter().find(|(n, _)| *n == part) else {
            return Err(format!(
                "--nemesis '{spec}': unknown fault '{part}'; expected a comma-separated list of {} (or none)",
                names.join(", ")
            ));
        };
        if out.contains(&k) {
            return Err(format!("--nemesis '{spec}': '{part}' is named twice"));
        }
        out.push(k);
    }
    Ok(out)
}

/// One fault of the schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Kill node, restart it after the hold.
    Kill(NodeId),
    /// Pause node, resume it after the hold.
    Pause(NodeId),
    /// Partition into these sides (a spec like `0,1/2,3,4`), heal after the hold.
    Partition(String),
    /// Offset node's clock by this many milliseconds (either sign), clear it after the hold.
    Skew(NodeId, i64),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Kill(n) => write!(f, "kill n{n}"),
            Fault::Pause(n) => write!(f, "pause n{n}"),
            Fault::Partition(s) => write!(f, "partition {s}"),
            Fault::Skew(n, ms) => write!(f, "skew n{n} {ms:+}ms"),
        }
    }
}

/// One step of the schedule: wait `gap`, inject `fault`, hold it for `hold`, undo it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Calm before the fault.
    pub gap: Duration,
    /// The fault.
    pub fault: Fault,
    /// How long it lasts.
    pub hold: Duration,
}

/// The seeded schedule: an endless stream of steps drawn from `kinds` over `nodes` nodes.
pub struct Schedule {
    rng: DetRng,
    kinds: Vec<FaultKind>,
    nodes: u32,
}

impl Schedule {
    /// A schedule from `seed`; `kinds` must not be empty and `nodes` ≥ 2.
    pub fn new(seed: u64, kinds: &[FaultKind], nodes: u32) -> Schedule {
        Schedule {
            rng: DetRng::new(seed).fork("cluster/nemesis"),
            kinds: kinds.to_vec(),
            nodes,
        }
    }

    /// The next step.
    pub fn next_step(&mut self) -> Step {
        let r = &mut self.rng;
        let gap = Duration::from_millis(r.range_inclusive(300, 1_200));
        let hold = Duration::from_millis(r.range_inclusive(500, 2_000));
        let kind = self.kinds[r.below(self.kinds.len() as u64) as usize];
        let fault = match kind {
            FaultKind::Kill => Fault::Kill(r.below(u64::from(self.nodes)) as NodeId),
            FaultKind::Pause => Fault::Pause(r.below(u64::from(self.nodes)) as NodeId),
            FaultKind::Partition => {
                // A random minority (at least one node) against the rest.
                let mut order: Vec<NodeId> = (0..self.nodes).collect();
                for i in (1..order.len()).rev() {
                    let j = r.below(i as u64 + 1) as usize;
                    order.swap(i, j);
                }
                let cut = 1 + r.below(u64::from(self.nodes / 2).max(1)) as usize;
                let (mut a, mut b) = (order[..cut].to_vec(), order[cut..].to_vec());
                a.sort_unstable();
                b.sort_unstable();
                let side = |s: &[NodeId]| {
                    s.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                Fault::Partition(format!("{}/{}", side(&a), side(&b)))
            }
            FaultKind::Skew => {
                // 0.1–1 s either way: well past a write's duration, so timestamps written by
                // the skewed node order wrongly against the others' (what last-writer-wins
                // and the client's reconciliation compare).
                let node = r.below(u64::from(self.nodes)) as NodeId;
                let ms = r.range_inclusive(100, 1_000) as i64;
                Fault::Skew(node, if r.below(2) == 0 { ms } else { -ms })
            }
        };
        Step { gap, fault, hold }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nemesis_names_parse_or_say_what_is_wrong() {
        assert_eq!(
            parse_nemesis("kill,pause,partition").unwrap(),
            vec![FaultKind::Kill, FaultKind::Pause, FaultKind::Partition]
        );
        assert_eq!(parse_nemesis("none").unwrap(), vec![]);
        let e = parse_nemesis("kill,explode").unwrap_err();
        assert!(
            e.contains("unknown fault 'explode'") && e.contains("kill, pause, partition, skew")
        );
        assert!(parse_nemesis("kill,kill").unwrap_err().contains("twice"));
        assert!(parse_nemesis("kill,")
            .unwrap_err()
            .contains("unknown fault ''"));
    }

    #[test]
    fn a_schedule_is_a_function_of_its_seed_and_partitions_cut_a_minority() {
        let kinds = [
            FaultKind::Kill,
            FaultKind::Pause,
            FaultKind::Partition,
            FaultKind::Skew,
        ];
        let steps = |seed| {
            let mut s = Schedule::new(seed, &kinds, 5);
            (0..50).map(|_| s.next_step()).collect::<Vec<_>>()
        };
        assert_eq!(steps(7), steps(7));
        assert_ne!(steps(7), steps(8));
        for st in steps(7) {
            match st.fault {
                Fault::Kill(n) | Fault::Pause(n) => assert!(n < 5),
                Fault::Skew(n, ms) => assert!(n < 5 && (100..=1_000).contains(&ms.abs())),
                Fault::Partition(spec) => {
                    let (a, b) = spec.split_once('/').unwrap();
                    let (a, b) = (a.split(',').count(), b.split(',').count());
                    assert!((1..=2).contains(&a) && a + b == 5, "{spec}");
                }
            }
        }
    }
}
