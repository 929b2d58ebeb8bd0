//! A fault plan: which kinds of fault a run injects, and how hard.
//!
//! A plan comes from swarm testing (drawn from the seed, [`super::swarm`]) or from a TOML file
//! (`--faults FILE`). Message and disk faults are rates in force for the whole fault period;
//! partitions, crashes, pauses and clock jumps are discrete events drawn into a schedule
//! ([`super::schedule`]) before the run starts, so that shrinking can remove them one by one.
//!
//! ```toml
//! buggify = true
//! [net]
//! drop = 0.02
//! duplicate = 0.01
//! reorder = 0.1
//! reorder_window_us = 2000
//! [partitions]
//! every_ms = 400
//! duration_ms_max = 300
//! [crashes]
//! every_ms = 700
//! duration_ms_max = 200
//! [disk]
//! bit_flip = 0.0001
//! ```

use serde::{Deserialize, Serialize};

use crate::net::NetFaults;

/// Discrete faults of one kind: on average one every `every_ms`, each lasting up to
/// `duration_ms_max` (how long a partition stands, a node stays down or paused; the largest
/// jump, for clock jumps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Periodic {
    /// Mean gap between two faults of this kind, in virtual milliseconds (at least 1).
    pub every_ms: u64,
    /// Largest duration (or jump) in milliseconds (at least 1).
    pub duration_ms_max: u64,
}

/// Clock disagreement between nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockFaults {
    /// Each node's clock starts up to this far ahead of or behind the world.
    pub skew_ms_max: u64,
    /// Each node's clock drifts by up to this many parts per million.
    pub drift_ppm_max: u64,
}

/// Disk faults of the `sim` backend, as probabilities per operation, plus what a crash does to
/// unsynced writes. Mapped one to one onto the engine's `SimFaults`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskFaults {
    /// A read returns data with one flipped bit (the medium stays intact).
    pub bit_flip: f64,
    /// A write lands only partly (whole leading sectors) and fails with EIO.
    pub torn_write: f64,
    /// A read fails with EIO.
    pub read_eio: f64,
    /// A write fails with EIO, nothing written.
    pub write_eio: f64,
    /// A sync fails with EIO (and, as on Linux, the pending writes may be gone).
    pub sync_eio: f64,
    /// The disk holds at most this many KiB; writes beyond fail with ENOSPC. `None`: unlimited.
    pub capacity_kib: Option<u64>,
    /// At a crash, an unsynced write survives whole with this probability...
    pub crash_keep: f64,
    /// ...or as a torn prefix with this one (and is dropped otherwise).
    pub crash_tear: f64,
    /// At a crash, an unsynced create/rename/remove is reverted with this probability.
    pub crash_lose_dir: f64,
}

impl Default for DiskFaults {
    /// No runtime faults; crashes keep, tear or drop unsynced writes a third each and revert
    /// half the unsynced directory changes (the engine's adversarial default).
    fn default() -> Self {
        DiskFaults {
            bit_flip: 0.0,
            torn_write: 0.0,
            read_eio: 0.0,
            write_eio: 0.0,
            sync_eio: 0.0,
            capacity_kib: None,
            crash_keep: 1.0 / 3.0,
            crash_tear: 1.0 / 3.0,
            crash_lose_dir: 0.5,
        }
    }
}

impl DiskFaults {
    /// Whether any runtime disk fault is on (crash behaviour aside).
    pub fn any(&self) -> bool {
        self.bit_flip > 0.0
            || self.torn_write > 0.0
            || self.read_eio > 0.0
            || self.write_eio > 0.0
            || self.sync_eio > 0.0
            || self.capacity_kib.is_some()
    }

    fn probabilities(&self) -> [(&'static str, f64); 8] {
        [
            ("bit_flip", self.bit_flip),
            ("torn_write", self.torn_write),
            ("read_eio", self.read_eio),
            ("write_eio", self.write_eio),
            ("sync_eio", self.sync_eio),
            ("crash_keep", self.crash_keep),
            ("crash_tear", self.crash_tear),
            ("crash_lose_dir", self.crash_lose_dir),
        ]
    }
}

/// A whole fault plan; see the module docs. The default injects nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Message faults.
    pub net: NetFaults,
    /// Network partitions (all four shapes).
    pub partitions: Option<Periodic>,
    /// Node crashes followed by restarts.
    pub crashes: Option<Periodic>,
    /// Node pauses (a stop-the-world GC, a VM migration): the node hears and does nothing.
    pub pauses: Option<Periodic>,
    /// Clock jumps, forwards or backwards.
    pub clock_jumps: Option<Periodic>,
    /// Clock skew and drift.
    pub clock: ClockFaults,
    /// Disk faults of the `sim` backend.
    pub disk: DiskFaults,
    /// Let protocol code take its rare `buggify` paths.
    pub buggify: bool,
}

/// Upper bound on a fault's duration: an hour of virtual time is beyond any sensible run.
pub const FAULT_DURATION_MS_MAX: u64 = 3_600_000;

impl FaultPlan {
    /// A plan that injects nothing.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// Check every field; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.net.validate()?;
        for (name, p) in [
            ("partitions", self.partitions),
            ("crashes", self.crashes),
            ("pauses", self.pauses),
            ("clock_jumps", self.clock_jumps),
        ] {
            if let Some(p) = p {
                if p.every_ms == 0 || p.duration_ms_max == 0 {
                    return Err(format!(
                        "faults.{name}: every_ms and duration_ms_max must be at least 1"
                    ));
                }
                if p.duration_ms_max > FAULT_DURATION_MS_MAX {
                    return Err(format!(
                        "faults.{name}.duration_ms_max = {} exceeds {FAULT_DURATION_MS_MAX}",
                        p.duration_ms_max
                    ));
                }
            }
        }
        if self.clock.drift_ppm_max > crate::clock::DRIFT_PPM_MAX as u64 {
            return Err(format!(
                "faults.clock.drift_ppm_max = {} exceeds {}",
                self.clock.drift_ppm_max,
                crate::clock::DRIFT_PPM_MAX
            ));
        }
        for (name, p) in self.disk.probabilities() {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("faults.disk.{name} = {p} is not a probability"));
            }
        }
        if self.disk.crash_keep + self.disk.crash_tear > 1.0 {
            return Err("faults.disk: crash_keep + crash_tear exceeds 1".into());
        }
        Ok(())
    }

    /// Parse a plan from TOML; errors name the field and line.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let plan: FaultPlan = toml::from_str(text).map_err(|e| e.to_string())?;
        plan.validate()?;
        Ok(plan)
    }

    /// The fault kinds that act all through the fault period (message, clock, disk faults and
    /// buggify), as opposed to the discrete ones drawn into the schedule.
    pub fn continuous_kinds(&self) -> usize {
        let discrete = ["partitions", "crashes", "pauses", "clock-jumps"];
        self.kinds()
            .iter()
            .filter(|k| !discrete.contains(k))
            .count()
    }

    /// The fault kinds switched on, by name (for summaries and `--json`).
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        if self.net.drop > 0.0 {
            k.push("drop");
        }
        if self.net.duplicate > 0.0 {
            k.push("duplicate");
        }
        if self.net.reorder > 0.0 {
            k.push("reorder");
        }
        if self.net.slow_link_factor_max > 1 {
            k.push("slow-links");
        }
        if self.partitions.is_some() {
            k.push("partitions");
        }
        if self.crashes.is_some() {
            k.push("crashes");
        }
        if self.pauses.is_some() {
            k.push("pauses");
        }
        if self.clock_jumps.is_some() {
            k.push("clock-jumps");
        }
        if self.clock.skew_ms_max > 0 || self.clock.drift_ppm_max > 0 {
            k.push("clock-skew");
        }
        if self.disk.any() {
            k.push("disk");
        }
        if self.buggify {
            k.push("buggify");
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_typed_errors() {
        let text =
            "buggify = true\n[net]\ndrop = 0.1\n[crashes]\nevery_ms = 100\nduration_ms_max = 50\n";
        let p = FaultPlan::from_toml(text).unwrap();
        assert!(p.buggify && p.net.drop == 0.1 && p.crashes.unwrap().every_ms == 100);
        assert_eq!(p.kinds(), ["drop", "crashes", "buggify"]);
        let back = FaultPlan::from_toml(&toml::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);

        let bad = FaultPlan::from_toml("[net]\ndrop = 1.5\n").unwrap_err();
        assert!(bad.contains("faults.net.drop"), "{bad}");
        let unknown = FaultPlan::from_toml("[net]\ndorp = 0.1\n").unwrap_err();
        assert!(unknown.contains("dorp"), "{unknown}");
    }
}
