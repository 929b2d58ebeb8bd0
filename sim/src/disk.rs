//! A node's disk: the engine's `sim` backend, held by the world so it can crash it.
//!
//! The node sees only an [`FsHandle`] — the same trait object engine code takes on a real disk —
//! so engine code runs unchanged inside a node. The world keeps the concrete [`SimFs`] to crash
//! it (unsynced writes kept, dropped or torn, as the disk's own seed decides) and to switch its
//! faults off for the quiet period.
//!
//! Disk latency is zero: the simulated disk charges latency to its own clock, and the world's
//! time moves only between events, so a handler's disk calls take no world time.
//! Slow disks are modelled where they matter to protocols — as slow links and pauses.

use std::sync::Arc;

use seedbed_engine::io::sim::{CrashReport, SimConfig, SimCrash, SimFaults, SimFs, SimLatency};
use seedbed_engine::io::FsHandle;
use seedbed_engine::rng::{DetRng, Tape};

use crate::faults::DiskFaults;

/// One node's disk.
#[derive(Debug)]
pub struct NodeDisk {
    fs: Arc<SimFs>,
    handle: FsHandle,
    crash: SimCrash,
}

/// The engine's fault settings for a plan's disk faults.
pub fn sim_faults(f: &DiskFaults) -> SimFaults {
    SimFaults {
        read_bit_flip: f.bit_flip,
        read_eio: f.read_eio,
        write_eio: f.write_eio,
        torn_write: f.torn_write,
        sync_eio: f.sync_eio,
        capacity_bytes: f.capacity_kib.map(|k| k.saturating_mul(1024)),
        dead_dirs: Vec::new(),
        crash: SimCrash {
            keep_write: f.crash_keep,
            tear_write: f.crash_tear,
            lose_dir_change: f.crash_lose_dir,
        },
    }
}

impl NodeDisk {
    /// A fresh, empty disk of node `node` seeded by `seed` with `faults` on; its draws go on
    /// `tape` (as streams `node/<i>/disk/sim/...`) when the run records them.
    pub fn new(seed: u64, faults: &DiskFaults, tape: Option<&Arc<Tape>>, node: u32) -> Self {
        let config = SimConfig {
            faults: sim_faults(faults),
            latency: SimLatency::zero(),
        };
        let root = match tape {
            Some(t) => DetRng::new(seed).taped(t.clone(), &format!("node/{node}/disk/sim")),
            None => DetRng::new(seed),
        };
        let clock = Arc::new(seedbed_engine::clock::VirtualClock::new());
        let fs = Arc::new(SimFs::with_rng(root, config, clock));
        let handle: FsHandle = fs.clone();
        NodeDisk {
            fs,
            handle,
            crash: sim_faults(faults).crash,
        }
    }

    /// The handle the node uses.
    pub fn handle(&self) -> &FsHandle {
        &self.handle
    }

    /// The concrete disk (tests corrupt it on purpose).
    pub fn sim(&self) -> &Arc<SimFs> {
        &self.fs
    }

    /// Crash: what was not synced is kept, dropped or torn, as the disk's seed decides.
    pub fn crash(&self) -> CrashReport {
        self.fs.crash()
    }

    /// Switch runtime disk faults off (the quiet period); crashes keep their behaviour.
    pub fn faults_off(&self) {
        self.fs.set_faults(SimFaults {
            crash: self.crash.clone(),
            ..SimFaults::none()
        });
    }
}

/// A crash report in one line for the trace.
pub fn crash_summary(r: &CrashReport) -> String {
    format!(
        "{} unsynced writes kept, {} torn, {} dropped; {} dir changes kept, {} lost",
        r.writes_kept, r.writes_torn, r.writes_dropped, r.dir_changes_kept, r.dir_changes_lost
    )
}
