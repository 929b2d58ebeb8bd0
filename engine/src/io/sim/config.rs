//! What a simulated disk does wrong, how slow it is, and what a crash may do to unsynced state.
//!
//! Every probability is per operation and drawn from the disk's seeded RNG, so a run with the
//! same seed, configuration and operation sequence injects exactly the same faults. Values
//! outside `0..=1` are clamped (a configuration is never a reason to panic). Every struct
//! (de)serialises with serde, missing fields taking their defaults, so a run's configuration
//! can live in a TOML or JSON file next to its seed.

use serde::{Deserialize, Serialize};

/// The full configuration of a simulated disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Faults injected while the disk runs, and what a crash does. Switchable mid-run with
    /// [`super::SimFs::set_faults`].
    pub faults: SimFaults,
    /// How much virtual time each operation costs.
    pub latency: SimLatency,
}

/// Faults the disk injects, as probabilities per operation, plus its capacity and its crash
/// behaviour. `SimFaults::default()` injects nothing (but crashes still decide the fate of
/// unsynced writes: see [`SimCrash`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimFaults {
    /// A successful read returns data with one bit flipped (the stored bytes stay intact):
    /// what a flaky cable or a bad DRAM cell on the controller looks like. Checksums catch it.
    pub read_bit_flip: f64,
    /// A read fails with EIO and returns nothing.
    pub read_eio: f64,
    /// A write fails with EIO and changes nothing.
    pub write_eio: f64,
    /// A write lands only partially: a prefix cut at a 512-byte sector boundary of the file
    /// offset (possibly nothing), and the call reports EIO.
    pub torn_write: f64,
    /// `sync_data`/`sync_all`/`sync_dir` fail with EIO. A failed file sync behaves like Linux
    /// since 4.13 ("fsyncgate"): the pending writes are written back as well as the device
    /// managed (each kept, torn or dropped, as in a crash) and then forgotten, so a retried
    /// sync succeeds without making the lost bytes durable. A failed `sync_dir` leaves the
    /// directory's changes pending.
    pub sync_eio: f64,
    /// Writes that would make the live files' bytes exceed this fail with ENOSPC (nothing
    /// written). `None` = unlimited.
    pub capacity_bytes: Option<u64>,
    /// Directories whose disk has died: every operation on a path under one of them (open,
    /// create, read, write, sync, list, rename, remove, lock, and `exists` below the directory)
    /// fails with EIO, while the directory itself still looks present ([`crate::io::Fs::exists`]
    /// answers for it, as for a mount point). What a disk that fails
    /// under a mounted file system looks like to the process using it — as against one whose
    /// directory is gone. An object store's disk directories are the natural ones to list.
    pub dead_dirs: Vec<std::path::PathBuf>,
    /// What [`super::SimFs::crash`] does to state that was never synced.
    pub crash: SimCrash,
}

impl SimFaults {
    /// No faults at all; crashes use the default (adversarial) [`SimCrash`].
    pub fn none() -> Self {
        SimFaults::default()
    }

    /// Every runtime fault kind at probability `p` (clamped to 0..=1), no capacity limit.
    /// Handy for swarm tests that turn "everything a little" on.
    pub fn uniform(p: f64) -> Self {
        let p = clamp_probability(p);
        SimFaults {
            read_bit_flip: p,
            read_eio: p,
            write_eio: p,
            torn_write: p,
            sync_eio: p,
            capacity_bytes: None,
            dead_dirs: Vec::new(),
            crash: SimCrash::default(),
        }
    }

    /// True if any runtime fault can fire (crash behaviour aside).
    pub fn any_runtime_fault(&self) -> bool {
        self.read_bit_flip > 0.0
            || self.read_eio > 0.0
            || self.write_eio > 0.0
            || self.torn_write > 0.0
            || self.sync_eio > 0.0
            || self.capacity_bytes.is_some()
            || !self.dead_dirs.is_empty()
    }

    /// The same faults with every probability clamped into `0..=1`.
    pub(crate) fn clamped(&self) -> SimFaults {
        SimFaults {
            read_bit_flip: clamp_probability(self.read_bit_flip),
            read_eio: clamp_probability(self.read_eio),
            write_eio: clamp_probability(self.write_eio),
            torn_write: clamp_probability(self.torn_write),
            sync_eio: clamp_probability(self.sync_eio),
            capacity_bytes: self.capacity_bytes,
            dead_dirs: self.dead_dirs.clone(),
            crash: self.crash.clamped(),
        }
    }
}

/// What a crash does to each piece of unsynced state. For an unsynced write, the disk keeps it
/// with probability `keep_write`, tears it (keeps whole leading sectors) with `tear_write`, and
/// drops it otherwise. An unsynced truncate is kept with `keep_write` (it cannot tear). Each
/// unsynced directory change (create, rename, remove) is lost with `lose_dir_change`, and a
/// change that depends on a lost one is lost with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimCrash {
    /// Probability an unsynced write survives whole.
    pub keep_write: f64,
    /// Probability an unsynced write survives as a prefix of whole sectors.
    pub tear_write: f64,
    /// Probability an unsynced directory-entry change is reverted.
    pub lose_dir_change: f64,
}

impl Default for SimCrash {
    /// A third each of keep / tear / drop, and a coin flip per directory change: the most
    /// varied outcomes, which is what a crash test wants.
    fn default() -> Self {
        SimCrash {
            keep_write: 1.0 / 3.0,
            tear_write: 1.0 / 3.0,
            lose_dir_change: 0.5,
        }
    }
}

impl SimCrash {
    /// A crash that keeps everything unsynced: models a clean power-off after writeback.
    pub fn keep_all() -> Self {
        SimCrash {
            keep_write: 1.0,
            tear_write: 0.0,
            lose_dir_change: 0.0,
        }
    }

    /// A crash that loses everything unsynced: the strictest reading of POSIX.
    pub fn lose_all() -> Self {
        SimCrash {
            keep_write: 0.0,
            tear_write: 0.0,
            lose_dir_change: 1.0,
        }
    }

    /// Probabilities clamped into `0..=1`, with `keep + tear` scaled down to at most 1.
    pub(crate) fn clamped(&self) -> SimCrash {
        let mut keep = clamp_probability(self.keep_write);
        let mut tear = clamp_probability(self.tear_write);
        if keep + tear > 1.0 {
            let sum = keep + tear;
            keep /= sum;
            tear /= sum;
        }
        SimCrash {
            keep_write: keep,
            tear_write: tear,
            lose_dir_change: clamp_probability(self.lose_dir_change),
        }
    }
}

/// Virtual time charged per operation to the disk's clock:
/// `base + bytes * per_kib_ns / 1024 + jitter`, where jitter is uniform in
/// `0..=jitter_ns_max` from the disk's own "latency" RNG stream (so turning jitter on never
/// changes which faults fire or what a crash keeps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimLatency {
    /// Base cost of a read.
    pub read_ns: u64,
    /// Base cost of a write, append or truncate.
    pub write_ns: u64,
    /// Cost of a file sync or directory sync.
    pub sync_ns: u64,
    /// Cost of a namespace operation (open, create, rename, remove, list).
    pub metadata_ns: u64,
    /// Transfer cost per KiB moved.
    pub per_kib_ns: u64,
    /// Upper bound of the uniform random extra per operation; 0 = none.
    pub jitter_ns_max: u64,
}

impl Default for SimLatency {
    /// Roughly a datacenter NVMe drive: 10 µs reads and writes, 50 µs syncs, ~3 GiB/s.
    fn default() -> Self {
        SimLatency {
            read_ns: 10_000,
            write_ns: 10_000,
            sync_ns: 50_000,
            metadata_ns: 5_000,
            per_kib_ns: 300,
            jitter_ns_max: 0,
        }
    }
}

impl SimLatency {
    /// No latency at all: virtual time never moves because of the disk.
    pub fn zero() -> Self {
        SimLatency {
            read_ns: 0,
            write_ns: 0,
            sync_ns: 0,
            metadata_ns: 0,
            per_kib_ns: 0,
            jitter_ns_max: 0,
        }
    }

    /// The cost without jitter of moving `bytes` with base cost `base_ns`.
    pub(crate) fn cost_ns(&self, base_ns: u64, bytes: u64) -> u64 {
        let transfer_ns = u128::from(bytes) * u128::from(self.per_kib_ns) / 1024;
        base_ns.saturating_add(u64::try_from(transfer_ns).unwrap_or(u64::MAX))
    }
}

/// NaN counts as 0: a fault that cannot be described does not fire.
fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_never_panics_and_normalises() {
        let c = SimCrash {
            keep_write: 0.9,
            tear_write: 0.9,
            lose_dir_change: f64::NAN,
        }
        .clamped();
        assert!((c.keep_write + c.tear_write - 1.0).abs() < 1e-12);
        assert_eq!(c.lose_dir_change, 0.0);
        let f = SimFaults::uniform(7.0).clamped();
        assert_eq!(f.read_eio, 1.0);
        assert!(SimFaults::uniform(0.1).any_runtime_fault());
        assert!(!SimFaults::none().any_runtime_fault());
    }

    #[test]
    fn latency_cost_scales_with_bytes() {
        let l = SimLatency::default();
        assert_eq!(l.cost_ns(10, 0), 10);
        assert_eq!(l.cost_ns(10, 1024), 10 + l.per_kib_ns);
        assert_eq!(SimLatency::zero().cost_ns(0, 1 << 30), 0);
    }
}
