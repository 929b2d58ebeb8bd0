//! The simulated disk's state and every operation on it, behind one mutex in [`super::SimFs`].
//!
//! Each operation follows the same order, so that the same sequence of calls always draws the
//! same random numbers: check the handle and the arguments (no randomness), count it, charge
//! latency (the "latency" stream), decide faults (the "faults" stream), then act. Crashes draw
//! from the "crash" stream only, batch orders from the "batch" stream.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::aligned::check_direct;
use super::super::{FsSpace, IoError, OpenOptions, Result};
use super::config::{SimConfig, SimCrash, SimFaults, SimLatency};
use super::content::{check_size, SECTOR_BYTES};
use super::namespace::{errno, InodeId, Namespace, Node};
use super::report::{CrashReport, SimStats};
use crate::clock::VirtualClock;
use crate::rng::DetRng;

/// The words every stale-handle error carries; see [`super::is_stale_handle`].
pub(crate) const STALE_HANDLE: &str = "predates a crash";

/// What a file handle knows about itself; the disk checks it on every call.
#[derive(Clone, Debug)]
pub(crate) struct HandleInfo {
    pub inode: InodeId,
    /// The crash epoch the handle was opened in; a crash kills older handles.
    pub epoch: u64,
    pub path: PathBuf,
    pub writable: bool,
    pub direct: bool,
}

/// Which base latency an operation pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpClass {
    Read,
    Write,
    Sync,
    Metadata,
}

/// How much unsynced state the disk holds right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Unsynced {
    /// Files with at least one unsynced write or truncate.
    pub files: u64,
    /// Unsynced writes and truncates over all files.
    pub file_ops: u64,
    /// Unsynced namespace changes (creates, renames, removes).
    pub dir_changes: u64,
}

/// The whole simulated disk.
#[derive(Debug)]
pub(crate) struct Disk {
    ns: Namespace,
    /// Crashes so far; handles carry the epoch they were opened in.
    epoch: u64,
    /// Open handles per inode: an unlinked file lives while a handle holds it.
    open: BTreeMap<InodeId, u32>,
    faults: SimFaults,
    latency: SimLatency,
    fault_rng: DetRng,
    crash_rng: DetRng,
    latency_rng: DetRng,
    batch_rng: DetRng,
    clock: Arc<VirtualClock>,
    stats: SimStats,
    /// Events (closes, directory syncs) since the last garbage collection; see
    /// [`Disk::maybe_collect_garbage`].
    gc_debt: u64,
}

impl Disk {
    /// A disk whose random streams fork from `root` (taped or not).
    pub fn new(root: DetRng, config: SimConfig, clock: Arc<VirtualClock>) -> Self {
        Disk {
            ns: Namespace::new(),
            epoch: 0,
            open: BTreeMap::new(),
            faults: config.faults.clamped(),
            latency: config.latency,
            fault_rng: root.fork("faults"),
            crash_rng: root.fork("crash"),
            latency_rng: root.fork("latency"),
            batch_rng: root.fork("batch"),
            clock,
            stats: SimStats::default(),
            gc_debt: 0,
        }
    }

    pub fn set_faults(&mut self, faults: SimFaults) {
        self.faults = faults.clamped();
    }

    pub fn faults(&self) -> &SimFaults {
        &self.faults
    }

    pub fn stats(&self) -> SimStats {
        self.stats.clone()
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Advance the virtual clock by one operation's cost.
    pub fn charge(&mut self, class: OpClass, bytes: u64) {
        let base_ns = match class {
            OpClass::Read => self.latency.read_ns,
            OpClass::Write => self.latency.write_ns,
            OpClass::Sync => self.latency.sync_ns,
            OpClass::Metadata => self.latency.metadata_ns,
        };
        self.charge_ns(self.latency.cost_ns(base_ns, bytes));
    }

    /// Advance the virtual clock by `ns` plus jitter.
    pub fn charge_ns(&mut self, ns: u64) {
        let jitter_ns = match self.latency.jitter_ns_max {
            0 => 0,
            max => self.latency_rng.range_inclusive(0, max),
        };
        let total_ns = ns.saturating_add(jitter_ns);
        self.clock.advance(total_ns);
        self.stats.latency_ns_total = self.stats.latency_ns_total.saturating_add(total_ns);
    }

    /// The base latency of one class (for batches, which pay it once).
    pub fn base_ns(&self, class: OpClass) -> u64 {
        match class {
            OpClass::Read => self.latency.read_ns,
            OpClass::Write => self.latency.write_ns,
            OpClass::Sync => self.latency.sync_ns,
            OpClass::Metadata => self.latency.metadata_ns,
        }
    }

    pub fn latency(&self) -> &SimLatency {
        &self.latency
    }

    /// A seeded permutation of `0..n`: the order a batch's requests run in.
    pub fn batch_order(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.batch_rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        order
    }

    pub fn count_batch(&mut self) {
        self.stats.batches += 1;
    }

    /// Free inodes nothing can reach any more, amortised: a collection walks the whole tree,
    /// so it runs once per `max(64, inodes / 4)` events that may have freed something. Until
    /// then garbage is invisible (nothing can name it, `live_bytes` does not count it) and a
    /// crash collects everything anyway.
    fn maybe_collect_garbage(&mut self) {
        self.gc_debt += 1;
        if self.gc_debt >= (self.ns.nodes.len() as u64 / 4).max(64) {
            self.gc_debt = 0;
            self.ns.collect_garbage(&self.pinned());
        }
    }

    /// Inodes held in memory (live and not yet collected).
    #[cfg(test)]
    pub fn inode_count(&self) -> usize {
        self.ns.nodes.len()
    }

    /// The space left under the capacity, counted as ENOSPC counts it (open files included).
    pub(crate) fn space(&self) -> Option<FsSpace> {
        let capacity = self.faults.capacity_bytes?;
        let used = self.ns.live_bytes(&self.pinned());
        Some(FsSpace {
            id: 0,
            total: capacity,
            available: capacity.saturating_sub(used),
        })
    }

    fn pinned(&self) -> BTreeSet<InodeId> {
        self.open.keys().copied().collect()
    }

    /// File the fault draws of an operation on `path` under the kind of file it is: its name
    /// without digits (`.log`, `.sst`, `MANIFEST-`). Changes no draw (see
    /// [`DetRng::file_under`]); a shrinker replaying a run with fewer tables finds the draws
    /// for the write-ahead log's reads where they were.
    fn label_faults(&mut self, path: &Path) {
        if self.fault_rng.tape().is_none() {
            return;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let kind: String = name.chars().filter(|c| !c.is_ascii_digit()).collect();
        self.fault_rng.file_under(&kind);
    }

    fn eio(&self, op: &'static str, path: &Path, what: &str) -> IoError {
        IoError::eio(
            op,
            path,
            &format!(
                "{what} injected by the simulated disk (seed {})",
                self.fault_rng.seed()
            ),
        )
    }

    /// EIO if `path` is on a dead disk (`SimFaults::dead_dirs`).
    pub fn check_dead(&mut self, op: &'static str, path: &Path) -> Result<()> {
        if self.faults.dead_dirs.iter().any(|d| path.starts_with(d)) {
            self.stats.faults.dead_disk_ops += 1;
            return Err(self.eio(op, path, "dead disk"));
        }
        Ok(())
    }

    /// Refuse a handle from before the last crash, or whose file is gone.
    fn check_alive(&self, op: &'static str, h: &HandleInfo) -> Result<()> {
        if h.epoch != self.epoch {
            return Err(IoError::invalid(
                op,
                &h.path,
                format!(
                    "this handle {STALE_HANDLE} of the simulated disk (opened in epoch {}, \
                     disk now at epoch {}); reopen the file after a crash",
                    h.epoch, self.epoch
                ),
            ));
        }
        if self.ns.file(h.inode).is_none() {
            return Err(IoError::invalid(
                op,
                &h.path,
                "the handle's file no longer exists",
            ));
        }
        Ok(())
    }

    // ----- namespace -----

    pub fn open(&mut self, path: &Path, opts: OpenOptions) -> Result<HandleInfo> {
        opts.validate(path)?;
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("open", path)?;
        let inode = match self.ns.lookup("open", path)? {
            Some(_) if opts.create_new => return Err(errno("open", path, libc::EEXIST)),
            Some(id) if self.ns.is_dir(id) => return Err(errno("open", path, libc::EISDIR)),
            Some(id) => {
                if opts.truncate {
                    let f = self.ns.file_mut(id).expect("lookup found a file");
                    if f.len() > 0 {
                        f.set_len(0);
                    }
                }
                id
            }
            None if !opts.create => return Err(errno("open", path, libc::ENOENT)),
            None => {
                let (dir, name) = self.ns.parent_of("open", path)?;
                self.ns.create_file(dir, name, path)
            }
        };
        *self.open.entry(inode).or_insert(0) += 1;
        Ok(HandleInfo {
            inode,
            epoch: self.epoch,
            path: path.to_path_buf(),
            writable: opts.write,
            direct: opts.direct,
        })
    }

    /// A handle was dropped.
    pub fn close(&mut self, h: &HandleInfo) {
        if h.epoch != self.epoch {
            return; // the crash already forgot every handle
        }
        if let Some(n) = self.open.get_mut(&h.inode) {
            *n -= 1;
            if *n == 0 {
                self.open.remove(&h.inode);
                self.maybe_collect_garbage();
            }
        }
    }

    pub fn create_dir_all(&mut self, path: &Path) -> Result<()> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("create_dir_all", path)?;
        self.ns.create_dir_all("create_dir_all", path)
    }

    pub fn remove_file(&mut self, path: &Path) -> Result<()> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("remove_file", path)?;
        self.ns.remove_file("remove_file", path)
    }

    pub fn remove_dir(&mut self, path: &Path) -> Result<()> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("remove_dir", path)?;
        self.ns.remove_dir("remove_dir", path)
    }

    pub fn rename(&mut self, from: &Path, to: &Path) -> Result<()> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("rename", from)?;
        self.check_dead("rename", to)?;
        self.ns.rename("rename", from, to)
    }

    pub fn list(&mut self, dir: &Path) -> Result<Vec<String>> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        self.check_dead("list", dir)?;
        self.ns.list("list", dir)
    }

    pub fn exists(&mut self, path: &Path) -> Result<bool> {
        self.stats.metadata_ops += 1;
        self.charge(OpClass::Metadata, 0);
        // A dead disk's directory itself still answers (its mount point), what is below not.
        if !self.faults.dead_dirs.iter().any(|d| d == path) {
            self.check_dead("exists", path)?;
        }
        match self.ns.lookup("exists", path) {
            Ok(found) => Ok(found.is_some()),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn sync_dir(&mut self, path: &Path) -> Result<()> {
        let op = "sync_dir";
        let id = self
            .ns
            .lookup(op, path)?
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        if !self.ns.is_dir(id) {
            return Err(errno(op, path, libc::ENOTDIR));
        }
        self.stats.dir_syncs += 1;
        self.charge(OpClass::Sync, 0);
        self.check_dead(op, path)?;
        self.label_faults(path);
        if self.fault_rng.chance(self.faults.sync_eio) {
            self.stats.faults.sync_eios += 1;
            return Err(self.eio(op, path, "sync EIO"));
        }
        self.ns.sync_dir(id);
        self.maybe_collect_garbage();
        Ok(())
    }

    // ----- files -----

    pub fn read(
        &mut self,
        h: &HandleInfo,
        buf: &mut [u8],
        offset: u64,
        charge: bool,
    ) -> Result<usize> {
        let op = "read";
        self.check_alive(op, h)?;
        if h.direct {
            check_direct(op, &h.path, buf.as_ptr(), buf.len(), offset)?;
        }
        self.stats.reads += 1;
        if charge {
            self.charge(OpClass::Read, buf.len() as u64);
        }
        self.check_dead(op, &h.path)?;
        self.label_faults(&h.path);
        if self.fault_rng.chance(self.faults.read_eio) {
            self.stats.faults.read_eios += 1;
            return Err(self.eio(op, &h.path, "read EIO"));
        }
        let n = self
            .ns
            .file(h.inode)
            .expect("checked alive")
            .read(buf, offset);
        if n > 0 && self.fault_rng.chance(self.faults.read_bit_flip) {
            // Drawn as `below(n)`, taped as the distance from the end of what was read: a
            // shrunk run that reads a shorter file (fewer appends before the one that matters)
            // flips the same byte of the same last record (see `rng::tape`).
            let at = self.fault_rng.position_from_end(n as u64) as usize;
            let bit = self.fault_rng.below(8) as u32;
            buf[at] ^= 1u8 << bit;
            self.stats.faults.read_bit_flips += 1;
        }
        self.stats.bytes_read += n as u64;
        Ok(n)
    }

    /// Write `buf` at `offset`, or at the end of the file if `offset` is `None` (append).
    /// Returns the offset written at.
    pub fn write(
        &mut self,
        h: &HandleInfo,
        buf: &[u8],
        offset: Option<u64>,
        charge: bool,
    ) -> Result<u64> {
        let op = if offset.is_some() { "write" } else { "append" };
        self.check_alive(op, h)?;
        if !h.writable {
            return Err(IoError::invalid(op, &h.path, "file was opened read-only"));
        }
        let len = self.ns.file(h.inode).expect("checked alive").len();
        let offset = offset.unwrap_or(len);
        if h.direct {
            check_direct(op, &h.path, buf.as_ptr(), buf.len(), offset)?;
        }
        let end = check_size(op, &h.path, offset.checked_add(buf.len() as u64))?;
        self.stats.writes += 1;
        if charge {
            self.charge(OpClass::Write, buf.len() as u64);
        }
        self.check_dead(op, &h.path)?;
        if let Some(capacity) = self.faults.capacity_bytes {
            if end > len && self.ns.live_bytes(&self.pinned()) + (end - len) > capacity {
                self.stats.faults.enospc += 1;
                return Err(errno(op, &h.path, libc::ENOSPC));
            }
        }
        self.label_faults(&h.path);
        if self.fault_rng.chance(self.faults.write_eio) {
            self.stats.faults.write_eios += 1;
            return Err(self.eio(op, &h.path, "write EIO"));
        }
        if self.fault_rng.chance(self.faults.torn_write) {
            // Land a prefix ending at a sector boundary: the start itself (nothing lands) or any
            // boundary strictly inside the write.
            let first_boundary = (offset + 1).next_multiple_of(SECTOR_BYTES);
            let inner = if first_boundary < end {
                (end - 1 - first_boundary) / SECTOR_BYTES + 1
            } else {
                0
            };
            let pick = self.fault_rng.below(inner + 1);
            let cut = if pick == 0 {
                offset
            } else {
                first_boundary + (pick - 1) * SECTOR_BYTES
            };
            debug_assert!(cut >= offset && cut < end.max(offset + 1));
            let landed = (cut - offset) as usize;
            self.ns
                .file_mut(h.inode)
                .expect("checked alive")
                .write(&buf[..landed], offset);
            self.stats.faults.torn_writes += 1;
            self.stats.bytes_written += landed as u64;
            return Err(self.eio(
                op,
                &h.path,
                &format!("torn write ({landed} of {} bytes landed)", buf.len()),
            ));
        }
        self.ns
            .file_mut(h.inode)
            .expect("checked alive")
            .write(buf, offset);
        self.stats.bytes_written += buf.len() as u64;
        Ok(offset)
    }

    pub fn truncate(&mut self, h: &HandleInfo, new_len: u64) -> Result<()> {
        let op = "truncate";
        self.check_alive(op, h)?;
        if !h.writable {
            return Err(IoError::invalid(op, &h.path, "file was opened read-only"));
        }
        check_size(op, &h.path, Some(new_len))?;
        self.stats.writes += 1;
        self.charge(OpClass::Write, 0);
        self.check_dead(op, &h.path)?;
        let len = self.ns.file(h.inode).expect("checked alive").len();
        if let Some(capacity) = self.faults.capacity_bytes {
            if new_len > len && self.ns.live_bytes(&self.pinned()) + (new_len - len) > capacity {
                self.stats.faults.enospc += 1;
                return Err(errno(op, &h.path, libc::ENOSPC));
            }
        }
        self.ns
            .file_mut(h.inode)
            .expect("checked alive")
            .set_len(new_len);
        Ok(())
    }

    pub fn len(&self, h: &HandleInfo) -> Result<u64> {
        self.check_alive("len", h)?;
        Ok(self.ns.file(h.inode).expect("checked alive").len())
    }

    /// `sync_data` and `sync_all` (the simulated disk keeps no metadata apart from the length,
    /// which both make durable). Neither makes the file's directory entry durable.
    pub fn sync_file(&mut self, op: &'static str, h: &HandleInfo) -> Result<()> {
        self.check_alive(op, h)?;
        self.stats.file_syncs += 1;
        self.charge(OpClass::Sync, 0);
        self.check_dead(op, &h.path)?;
        self.label_faults(&h.path);
        if self.fault_rng.chance(self.faults.sync_eio) {
            self.stats.faults.sync_eios += 1;
            let policy: SimCrash = self.faults.crash.clone();
            let file = self.ns.file_mut(h.inode).expect("checked alive");
            // The writeback that failed: decided from the faults stream, so a sync fault never
            // shifts what a later crash decides.
            file.fail_sync(&mut self.fault_rng, &policy);
            return Err(self.eio(
                op,
                &h.path,
                "sync EIO (unsynced writes may be lost for good)",
            ));
        }
        self.ns.file_mut(h.inode).expect("checked alive").sync();
        Ok(())
    }

    // ----- whole-disk operations -----

    pub fn crash(&mut self) -> CrashReport {
        self.epoch += 1;
        self.stats.crashes += 1;
        self.open.clear();
        let paths = self.ns.current_paths();
        let policy = self.faults.crash.clone();
        let lose_p = policy.lose_dir_change;
        let rng = &mut self.crash_rng;
        let ns_crash = self.ns.crash(|| rng.chance(lose_p));
        let mut report = CrashReport {
            epoch: self.epoch,
            inodes_lost: ns_crash.inodes_lost,
            ..CrashReport::default()
        };
        for (what, kept) in ns_crash.changes {
            if kept {
                report.dir_changes_kept += 1;
            } else {
                report.dir_changes_lost += 1;
            }
            report.dir_changes.push((what, kept));
        }
        for (id, node) in self.ns.nodes.iter_mut() {
            if let Node::File(f) = node {
                let fates = f.crash(&mut self.crash_rng, &policy);
                let path = paths
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("<unlinked inode {id}>"));
                report.add_file(path, fates);
            }
        }
        report
    }

    pub fn corrupt(&mut self, path: &Path, offset: u64, xor_mask: u8) -> Result<()> {
        let op = "corrupt";
        let id = self
            .ns
            .lookup(op, path)?
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        let Some(file) = self.ns.file_mut(id) else {
            return Err(errno(op, path, libc::EISDIR));
        };
        if !file.corrupt(offset, xor_mask) {
            return Err(IoError::invalid(
                op,
                path,
                format!(
                    "offset {offset} is past the end of the file ({} bytes)",
                    file.len()
                ),
            ));
        }
        Ok(())
    }

    pub fn unsynced(&self) -> Unsynced {
        let mut out = Unsynced {
            dir_changes: self.ns.pending_changes() as u64,
            ..Unsynced::default()
        };
        for node in self.ns.nodes.values() {
            if let Node::File(f) = node {
                if f.pending_ops() > 0 {
                    out.files += 1;
                    out.file_ops += f.pending_ops() as u64;
                }
            }
        }
        out
    }

    /// The durable bytes of the file at `path` (what a crash that loses everything unsynced
    /// would leave, if its entry is durable too).
    pub fn durable_content(&self, path: &Path) -> Result<Vec<u8>> {
        let op = "durable_content";
        let id = self
            .ns
            .lookup(op, path)?
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        let file = self
            .ns
            .file(id)
            .ok_or_else(|| errno(op, path, libc::EISDIR))?;
        Ok(file.durable().to_vec())
    }
}
