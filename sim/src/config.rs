//! What defines a run: workload, seed, sizes, faults, network. Same config + same binary →
//! same trace.
//!
//! Sizes left `None` take the workload's defaults ([`WorkloadDefaults`]), so a config file only
//! says what it changes. The whole config is written in a trace's header line, which is how
//! `replay` reruns a trace.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::choices::ChoiceRecord;
use crate::error::SimError;
use crate::faults::{FaultPlan, ScheduledFault};
use crate::net::NetConfig;
use crate::node::MAX_NODES;
use crate::time::{ms, us};

/// Where a run's faults come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultSource {
    /// A random subset of fault kinds per seed ([`crate::faults::swarm`]).
    #[default]
    Swarm,
    /// No faults at all.
    None,
    /// This plan.
    Plan(Box<FaultPlan>),
}

/// A run's full description; see the module docs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// The workload's registered name.
    pub workload: String,
    /// The seed every random choice derives from.
    pub seed: u64,
    /// Nodes in the cluster.
    pub nodes: Option<u32>,
    /// Client operations issued during the fault period.
    pub ops: Option<u64>,
    /// Issue only these client operations, by index (sorted). The others are still drawn but
    /// skipped, so the kept ones keep their times, targets and values. Written by the shrinker.
    pub only_ops: Option<Vec<u64>>,
    /// Mean gap between client operations, in microseconds.
    pub op_gap_us: Option<u64>,
    /// Length of the fault period, in virtual milliseconds.
    pub fault_ms: Option<u64>,
    /// Length of the quiet period after it (no faults; liveness is judged here).
    pub quiet_ms: Option<u64>,
    /// Events per run, at most; a run that needs more is reported as a livelock.
    pub max_events: u64,
    /// Where faults come from.
    pub faults: FaultSource,
    /// An explicit fault schedule (written by the shrinker); replaces the plan's drawn one.
    pub schedule: Option<Vec<ScheduledFault>>,
    /// The network's shape.
    pub net: NetConfig,
    /// Workload parameters (`--set key=value`), such as `bug = "stale-quorum"`.
    pub params: BTreeMap<String, String>,
    /// Replay these random draws instead of drawing fresh ones (written by the shrinker; see
    /// [`crate::choices`]). The seed still decides every draw the record does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<ChoiceRecord>,
    /// Record every random draw into [`crate::RunOutcome::choices`] (the shrinker's runs).
    /// Recording changes no draw; it is not part of what the run is, so it is never written.
    #[serde(skip)]
    pub record_choices: bool,
}

/// Default event budget per run.
pub const MAX_EVENTS_DEFAULT: u64 = 50_000_000;

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            workload: String::new(),
            seed: 0,
            nodes: None,
            ops: None,
            only_ops: None,
            op_gap_us: None,
            fault_ms: None,
            quiet_ms: None,
            max_events: MAX_EVENTS_DEFAULT,
            faults: FaultSource::Swarm,
            schedule: None,
            net: NetConfig::default(),
            params: BTreeMap::new(),
            choices: None,
            record_choices: false,
        }
    }
}

/// A workload's sizes when the config leaves them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadDefaults {
    /// Nodes.
    pub nodes: u32,
    /// Fewest nodes the workload makes sense with (the shrinker stops here).
    pub nodes_min: u32,
    /// Client operations.
    pub ops: u64,
    /// Mean gap between operations, in microseconds.
    pub op_gap_us: u64,
    /// Fault period, in milliseconds.
    pub fault_ms: u64,
    /// Quiet period, in milliseconds.
    pub quiet_ms: u64,
}

/// A config with every size decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Nodes.
    pub nodes: u32,
    /// Client operations.
    pub ops: u64,
    /// Mean gap between operations, in nanoseconds.
    pub op_gap_ns: u64,
    /// End of the fault period, in nanoseconds.
    pub fault_end_ns: u64,
    /// End of the run, in nanoseconds.
    pub end_ns: u64,
}

impl RunConfig {
    /// A config for `workload` and `seed` with everything else default.
    pub fn new(workload: &str, seed: u64) -> Self {
        RunConfig {
            workload: workload.to_string(),
            seed,
            ..RunConfig::default()
        }
    }

    /// Decide every size, checking ranges; errors name the field.
    pub fn resolve(&self, d: &WorkloadDefaults) -> Result<Resolved, SimError> {
        let nodes = self.nodes.unwrap_or(d.nodes);
        if nodes < d.nodes_min || nodes > MAX_NODES {
            return Err(SimError::Config(format!(
                "nodes = {nodes}: workload '{}' needs {}..={MAX_NODES}",
                self.workload, d.nodes_min
            )));
        }
        let fault_ms = self.fault_ms.unwrap_or(d.fault_ms);
        let quiet_ms = self.quiet_ms.unwrap_or(d.quiet_ms);
        if fault_ms + quiet_ms == 0 || fault_ms > 86_400_000 || quiet_ms > 86_400_000 {
            return Err(SimError::Config(format!(
                "fault_ms = {fault_ms}, quiet_ms = {quiet_ms}: each at most a day, not both zero"
            )));
        }
        let op_gap_us = self.op_gap_us.unwrap_or(d.op_gap_us);
        if op_gap_us == 0 {
            return Err(SimError::Config("op_gap_us must be at least 1".into()));
        }
        if let Some(only) = &self.only_ops {
            if only.windows(2).any(|w| w[0] >= w[1]) {
                return Err(SimError::Config(
                    "only_ops must be sorted and without repeats".into(),
                ));
            }
        }
        if self.max_events == 0 {
            return Err(SimError::Config("max_events must be at least 1".into()));
        }
        if let FaultSource::Plan(p) = &self.faults {
            p.validate().map_err(SimError::Config)?;
        }
        self.net.validate(nodes).map_err(SimError::Config)?;
        Ok(Resolved {
            nodes,
            ops: self.ops.unwrap_or(d.ops),
            op_gap_ns: us(op_gap_us),
            fault_end_ns: ms(fault_ms),
            end_ns: ms(fault_ms + quiet_ms),
        })
    }

    /// Parse a config from TOML; errors name the field and line.
    pub fn from_toml(text: &str) -> Result<Self, SimError> {
        toml::from_str(text).map_err(|e| SimError::Config(e.to_string()))
    }

    /// The config as TOML (what the shrinker writes).
    pub fn to_toml(&self) -> Result<String, SimError> {
        toml::to_string(self).map_err(|e| SimError::Config(format!("cannot write as TOML: {e}")))
    }

    /// Whether the command-line flags of [`RunConfig::flags`] say everything, so a repro line
    /// needs no config file.
    pub fn fits_flags(&self) -> bool {
        self.schedule.is_none()
            && self.only_ops.is_none()
            && self.choices.is_none()
            && !matches!(self.faults, FaultSource::Plan(_))
            && self.net == NetConfig::default()
            && self.max_events == MAX_EVENTS_DEFAULT
    }

    /// The flags that recreate this config (when [`RunConfig::fits_flags`]), after
    /// `seedbed sim run`.
    pub fn flags(&self) -> String {
        let mut s = format!("--workload {} --seed {}", self.workload, self.seed);
        let opt = |s: &mut String, name: &str, v: Option<u64>| {
            if let Some(v) = v {
                s.push_str(&format!(" --{name} {v}"));
            }
        };
        opt(&mut s, "nodes", self.nodes.map(u64::from));
        opt(&mut s, "ops", self.ops);
        opt(&mut s, "op-gap-us", self.op_gap_us);
        opt(&mut s, "fault-ms", self.fault_ms);
        opt(&mut s, "quiet-ms", self.quiet_ms);
        if self.faults == FaultSource::None {
            s.push_str(" --faults none");
        }
        for (k, v) in &self.params {
            s.push_str(&format!(" --set {k}={v}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, Periodic};

    const D: WorkloadDefaults = WorkloadDefaults {
        nodes: 3,
        nodes_min: 1,
        ops: 10,
        op_gap_us: 100,
        fault_ms: 100,
        quiet_ms: 100,
    };

    #[test]
    fn toml_round_trip_with_plan_and_schedule() {
        let mut c = RunConfig::new("register", 7);
        c.nodes = Some(4);
        c.params.insert("bug".into(), "stale-quorum".into());
        c.faults = FaultSource::Plan(Box::new(FaultPlan {
            crashes: Some(Periodic {
                every_ms: 10,
                duration_ms_max: 5,
            }),
            ..FaultPlan::default()
        }));
        c.schedule = Some(vec![ScheduledFault {
            at_ms: 3,
            fault: Fault::Crash {
                node: 1,
                down_ms: 4,
            },
        }]);
        let text = c.to_toml().unwrap();
        assert_eq!(RunConfig::from_toml(&text).unwrap(), c);
        assert!(!c.fits_flags());
    }

    #[test]
    fn resolve_checks_ranges() {
        let mut c = RunConfig::new("w", 1);
        assert_eq!(c.resolve(&D).unwrap().nodes, 3);
        c.nodes = Some(MAX_NODES + 1);
        let e = c.resolve(&D).unwrap_err().to_string();
        assert!(e.contains(&format!("nodes = {}", MAX_NODES + 1)), "{e}");
        c.nodes = Some(MAX_NODES);
        assert_eq!(c.resolve(&D).unwrap().nodes, MAX_NODES);
        assert!(RunConfig::from_toml("sed = 3")
            .unwrap_err()
            .to_string()
            .contains("sed"));
    }

    #[test]
    fn flags_name_what_differs() {
        let mut c = RunConfig::new("register", 9);
        c.ops = Some(12);
        c.params.insert("bug".into(), "x".into());
        assert_eq!(
            c.flags(),
            "--workload register --seed 9 --ops 12 --set bug=x"
        );
        assert!(c.fits_flags());
    }
}
