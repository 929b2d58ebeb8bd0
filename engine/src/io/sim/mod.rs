//! The `sim` backend: a simulated disk, in memory, deterministic from a seed.
//!
//! It honours the same contract as the real backends (`tests/it/io_conformance.rs` runs against
//! it) and adds three things a real disk will not give a test on demand:
//!
//! - **An exact durability model.** Each file has durable bytes and an ordered list of unsynced
//!   writes; the namespace has a durable and a current view. `sync_data`/`sync_all` make a
//!   file's writes durable; only `sync_dir` of the parent makes a create, rename or remove
//!   durable. [`SimFs::crash`] then keeps, tears (whole leading sectors only) or drops each
//!   unsynced write, and keeps or reverts each unsynced directory change, from the seed.
//!   Note: `sync_all` of a newly created file does NOT make its directory entry durable (it
//!   does on some Linux file systems, not by POSIX); code that relies on it loses the file in
//!   a crash here, which is the point.
//! - **Faults** ([`SimFaults`]): bit flips on read, EIO on read/write/sync, torn writes, ENOSPC
//!   past a capacity; switchable mid-run with [`SimFs::set_faults`].
//! - **Virtual latency** ([`SimLatency`]) charged to a [`VirtualClock`].
//!
//! After a crash every handle opened before it is dead: each call returns an error saying the
//! handle predates a crash. Engine code must reopen its files, as it would after a reboot.
//!
//! Determinism: all state sits in `BTreeMap`s behind one mutex; randomness comes from
//! [`DetRng`](crate::rng::DetRng) streams forked from the seed by purpose (`"faults"`,
//! `"crash"`, `"latency"`, `"batch"`), so turning latency jitter on never reshuffles which
//! faults fire or what a crash keeps. The same seed and the same sequence of calls give the same results.
//!
//! `docs/sim-disk.md` explains the model byte by byte and how engine code should sync.

mod config;
mod content;
mod disk;
mod file;
mod namespace;
mod report;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use config::{SimConfig, SimCrash, SimFaults, SimLatency};
pub use content::{Fate, OpFate, FILE_BYTES_MAX, SECTOR_BYTES};
pub use disk::Unsynced;
pub use file::SimFile;
pub use report::{CrashReport, FaultCounts, FileCrash, SimStats};

use super::{BackendKind, FileHandle, Fs, FsSpace, IoError, IoOp, OpenOptions, Result};
use crate::clock::VirtualClock;
use crate::rng::DetRng;
use disk::{Disk, OpClass};

/// True if `err` is the error a handle opened before a crash returns: engine code that sees
/// it must reopen its files (the simulator's equivalent of a reboot).
pub fn is_stale_handle(err: &IoError) -> bool {
    matches!(err, IoError::InvalidInput { detail, .. } if detail.contains(disk::STALE_HANDLE))
}

/// What a [`SimFs`] and its open files share.
#[derive(Debug)]
pub(crate) struct Shared {
    disk: Mutex<Disk>,
    seed: u64,
    clock: Arc<VirtualClock>,
}

impl Shared {
    /// The disk, locked. A panic while holding the lock (a failed assertion) leaves the state
    /// as it was; carrying on is better than a second panic in a destructor.
    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An in-memory, seeded, simulated disk. Cheap to share: clone the `Arc` it is wrapped in.
///
/// ```
/// use std::path::Path;
/// use seedbed_engine::io::sim::{SimConfig, SimCrash, SimFaults, SimFs};
/// use seedbed_engine::io::{read_file, Fs, OpenOptions};
///
/// let fs = SimFs::new(42, SimConfig::default());
/// let crash_loses_everything = SimFaults { crash: SimCrash::lose_all(), ..SimFaults::none() };
/// fs.set_faults(crash_loses_everything);
///
/// let f = fs.open(Path::new("/log"), OpenOptions::create_new())?;
/// fs.sync_dir(Path::new("/"))?; // the name is durable
/// f.append(b"acked")?;
/// f.sync_data()?; // the data is durable
/// f.append(b" + not synced")?;
///
/// let report = fs.crash();
/// assert_eq!(report.writes_dropped, 1);
/// assert!(f.len().is_err(), "handles die in a crash");
/// assert_eq!(read_file(&fs, Path::new("/log"))?, b"acked");
/// # Ok::<(), seedbed_engine::io::IoError>(())
/// ```
#[derive(Debug)]
pub struct SimFs {
    shared: Arc<Shared>,
}

impl SimFs {
    /// A simulated disk with its own virtual clock.
    pub fn new(seed: u64, config: SimConfig) -> Self {
        SimFs::with_clock(seed, config, Arc::new(VirtualClock::new()))
    }

    /// A simulated disk that charges its latency to `clock` (the simulated node's clock).
    pub fn with_clock(seed: u64, config: SimConfig, clock: Arc<VirtualClock>) -> Self {
        SimFs::with_rng(DetRng::new(seed), config, clock)
    }

    /// A simulated disk whose random streams (faults, crash fates, latency, batch order)
    /// fork from `root`: the simulator passes a taped generator here, so that a shrinker can
    /// record and replay every choice the disk makes ([`crate::rng::tape`]).
    pub fn with_rng(root: DetRng, config: SimConfig, clock: Arc<VirtualClock>) -> Self {
        let seed = root.seed();
        SimFs {
            shared: Arc::new(Shared {
                disk: Mutex::new(Disk::new(root, config, Arc::clone(&clock))),
                seed,
                clock,
            }),
        }
    }

    /// The seed the disk was made from (print it with any failure).
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The clock the disk charges latency to.
    pub fn clock(&self) -> Arc<VirtualClock> {
        Arc::clone(&self.shared.clock)
    }

    /// Replace the fault settings (and crash behaviour) from now on. Tests build a state with
    /// no faults, then switch them on.
    pub fn set_faults(&self, faults: SimFaults) {
        self.shared.disk().set_faults(faults);
    }

    /// The fault settings in force (probabilities as clamped).
    pub fn faults(&self) -> SimFaults {
        self.shared.disk().faults().clone()
    }

    /// Crash the disk: decide the fate of every unsynced write and directory change from the
    /// seed, make the survivors durable, and kill every open handle.
    pub fn crash(&self) -> CrashReport {
        self.shared.disk().crash()
    }

    /// How many crashes this disk has been through (the epoch of handles opened now).
    pub fn epoch(&self) -> u64 {
        self.shared.disk().epoch()
    }

    /// Counters since the disk was made.
    pub fn stats(&self) -> SimStats {
        self.shared.disk().stats()
    }

    /// How much unsynced state the disk holds now.
    pub fn unsynced(&self) -> Unsynced {
        self.shared.disk().unsynced()
    }

    /// XOR the byte at `offset` of the file at `path` with `xor_mask`, both on the medium and
    /// in the page cache: bit rot, on purpose, for tests of checksums and repair. A later
    /// unsynced write over the same sector may replace it. Fails if the file is missing or
    /// the offset is past its end.
    pub fn corrupt(&self, path: &Path, offset: u64, xor_mask: u8) -> Result<()> {
        self.shared.disk().corrupt(path, offset, xor_mask)
    }

    /// The durable bytes of the file at `path`: what survives a crash that loses every
    /// unsynced write (provided the file's entry is durable).
    pub fn durable_content(&self, path: &Path) -> Result<Vec<u8>> {
        self.shared.disk().durable_content(path)
    }
}

impl Fs for SimFs {
    fn kind(&self) -> BackendKind {
        BackendKind::Sim
    }

    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        let info = self.shared.disk().open(path, opts)?;
        Ok(Arc::new(SimFile {
            shared: Arc::clone(&self.shared),
            info,
        }))
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.shared.disk().create_dir_all(path)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.shared.disk().remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.shared.disk().remove_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.shared.disk().rename(from, to)
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.shared.disk().list(dir)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.shared.disk().exists(path)
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.shared.disk().sync_dir(dir)
    }

    /// No lock is needed on one simulated disk (one process); but a lock file on a dead disk
    /// (`SimFaults::dead_dirs`) cannot be opened, as on a real one.
    fn lock(&self, path: &Path) -> Result<crate::io::FileLock> {
        self.shared.disk().check_dead("lock", path)?;
        Ok(crate::io::FileLock { _file: None })
    }

    /// One file system of `capacity_bytes` (every path shares it); `None` without a capacity.
    fn space(&self, _path: &Path) -> Result<Option<FsSpace>> {
        Ok(self.shared.disk().space())
    }

    /// Runs the requests in a seeded random order — the contract lets a batch complete in any
    /// order, and running it shuffled is what exposes a batch that reads what it writes — and
    /// charges latency as a device with a deep queue would: one base latency (the largest among
    /// the batch's kinds) plus the transfer time of all bytes, instead of one base latency per
    /// request. Results come back in request order. Requests on files of another disk run
    /// through their own methods.
    fn submit(&self, ops: &mut [IoOp<'_>]) -> Vec<Result<usize>> {
        let mut disk = self.shared.disk();
        disk.count_batch();
        let order = disk.batch_order(ops.len());
        let mut results: Vec<Result<usize>> = (0..ops.len()).map(|_| Ok(0)).collect();
        let mut base_ns = 0u64;
        let mut bytes = 0u64;
        for i in order {
            let result = match &mut ops[i] {
                IoOp::Read { file, offset, buf } => match file.as_any().downcast_ref::<SimFile>() {
                    Some(f) if f.is_on(&self.shared) => {
                        base_ns = base_ns.max(disk.base_ns(OpClass::Read));
                        bytes += buf.len() as u64;
                        disk.read(&f.info, buf, *offset, false)
                    }
                    _ => {
                        drop(disk);
                        let r = file.read_at(buf, *offset);
                        disk = self.shared.disk();
                        r
                    }
                },
                IoOp::Write { file, offset, buf } => {
                    match file.as_any().downcast_ref::<SimFile>() {
                        Some(f) if f.is_on(&self.shared) => {
                            base_ns = base_ns.max(disk.base_ns(OpClass::Write));
                            bytes += buf.len() as u64;
                            disk.write(&f.info, buf, Some(*offset), false)
                                .map(|_| buf.len())
                        }
                        _ => {
                            drop(disk);
                            let r = file.write_at(buf, *offset).map(|()| buf.len());
                            disk = self.shared.disk();
                            r
                        }
                    }
                }
            };
            results[i] = result;
        }
        if bytes > 0 || base_ns > 0 {
            let cost_ns = disk.latency().cost_ns(base_ns, bytes);
            disk.charge_ns(cost_ns);
        }
        results
    }
}
