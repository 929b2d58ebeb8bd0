//! The metadata on every disk: one copy of the metadata database in each of the K + M disk
//! directories (`diskN/meta`), written together, so that losing any M disks — or the rot of a
//! copy — loses no bucket, version or upload.
//!
//! - **Writes** go to every live copy (concurrently on a real disk); a commit is acknowledged
//!   when at least `quorum` copies (K by default: every copy but M) have it durably. A copy that
//!   fails a write is taken out of service until it is rebuilt — it may lack that commit — and
//!   so is one whose directory is gone when a group of commits starts (its disk lost under the
//!   running store: its open files would take the commits and count toward the quorum), or
//!   whose disk the store's check ([`ReplicatedMeta::with_check`]) refuses — another disk put
//!   at its path, where the copy's next log or table file, made by path, would land.
//! - **Reads** come from the first live copy; the LSM checks every block's CRC, and when a read
//!   fails the next copy answers (the copy stays in service: the error may be passing; scrub
//!   finds a copy that stays bad).
//! - **Which copy is current.** Every commit also writes `#mseq` (this commit's number) and
//!   `#mlast` (the commit itself, encoded). A crash can interrupt a commit between copies, so at
//!   open the copies may differ by that one commit: a copy one behind is rolled forward from
//!   another's `#mlast`; a copy further behind (a replaced disk starts empty) is rebuilt whole
//!   from a current one. So after a restart every live copy agrees.
//! - **A full disk** takes a copy out of service like any failed write, but the copy stays
//!   open: it holds every commit up to the one refused and none after (the LSM refused the
//!   whole batch), so while no commit has been acknowledged since, it may still answer reads
//!   — a store whose disks are all full keeps serving GETs. Before each commit, such a copy
//!   is asked to take writes again (`MetaStore::resume`); once one can (space was freed),
//!   it is back in service and brought up to date as at open (rolled forward, or rebuilt).
//!   No restart is needed.
//! - **Rebuild** (at open for a stale copy; by `scrub` and `repair` for a lost or corrupt one)
//!   builds a new database beside the copy (`DIR.rebuild`), marked `#mrebuild` until it is
//!   complete, copies every entry of a current copy into it, ends with `#mseq` and `#mlast` in
//!   its last, synced batch, and only then replaces the copy (remove, rename, sync the parent).
//!   A rebuild that fails leaves the old copy as it was; a crash mid-way leaves either the old
//!   copy or none (then the next open rebuilds it again), never a partial one taken for whole.
//!
//! These three keys sort before every record key the store uses (`B`, `O`, `P`, `U`, `#seq`
//! is apart: `#m…` < `#s…`), and no listing scans them.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::meta::{MetaSnapshot, MetaStore, Rows, Submitted};
use super::meta_error::{CopyFailure, MetaError};
use crate::commit_gate::{Group, GroupQueue};
use crate::io::{BackendKind, Fs, FsHandle};

/// This commit's number, 8 bytes big-endian.
pub const MSEQ_KEY: &[u8] = b"#mseq";
/// The last commit, encoded ([`encode_ops`]): what a copy one behind applies to catch up.
pub const MLAST_KEY: &[u8] = b"#mlast";
/// Present while a copy is being rebuilt: the copy is incomplete.
pub const MREBUILD_KEY: &[u8] = b"#mrebuild";

/// Opens (creating if needed) one copy's database in a directory.
pub type Opener = Arc<dyn Fn(&Path) -> Result<Arc<dyn MetaStore>, MetaError> + Send + Sync>;

/// Why a copy's directory must take no more writes now (`None`: it may): asked of every live
/// copy when a group of commits starts, in place of the look at whether its directory is
/// there (which it must make too).
pub type DirCheck = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// One copy: in service, or out with the reason.
#[derive(Clone)]
enum Slot {
    Live(Arc<dyn MetaStore>),
    Down(String),
    /// Out because its disk was full (module docs): still open, holding every commit up to
    /// `held` (`None`: not a usable state, e.g. mid-rebuild), to be resumed.
    Full {
        copy: Arc<dyn MetaStore>,
        held: Option<u64>,
        why: String,
        /// The refusal itself, for the errors of commits that find the copy still out.
        error: Arc<MetaError>,
    },
}

impl Slot {
    /// Why the copy is out of service; `None` if it is in.
    fn problem(&self) -> Option<String> {
        match self {
            Slot::Live(_) => None,
            Slot::Down(why) | Slot::Full { why, .. } => Some(why.clone()),
        }
    }
}

/// What state one copy is in, for reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CopyState {
    /// The copy's directory.
    pub dir: PathBuf,
    /// Whether it serves reads and takes writes.
    pub live: bool,
    /// Why not, if not.
    pub problem: Option<String>,
}

/// The metadata, replicated over several directories ([module docs](self)).
pub struct ReplicatedMeta {
    fs: FsHandle,
    dirs: Vec<PathBuf>,
    opener: Opener,
    quorum: usize,
    slots: RwLock<Vec<Slot>>,
    /// The newest commit acknowledged (that reached `quorum` copies), or found at open: a copy
    /// out for a full disk answers reads only if it holds this one.
    acked: AtomicU64,
    /// The last commit's number; held while committing, so commits are numbered in order.
    /// Whoever holds it writes every commit queued ([`MetaStore::wait`]).
    mseq: Mutex<u64>,
    /// Commits submitted and not yet written, and results not yet collected: the group
    /// commit (`crate::commit_gate::GroupQueue`). Six copies each syncing their log make a
    /// commit cost the slowest of six `fdatasync`s; with `C` writers at once, a group shares
    /// that cost `C` ways. The leader's lock is `mseq`.
    queue: GroupQueue<(Ops, bool), MetaError>,
    /// The store's check of a copy's directory ([`ReplicatedMeta::with_check`]).
    check: Option<DirCheck>,
}

impl std::fmt::Debug for ReplicatedMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedMeta")
            .field("dirs", &self.dirs)
            .field("quorum", &self.quorum)
            .finish()
    }
}

/// What opening the copies found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenReport {
    /// Copies rolled forward by one commit (a crash between copies).
    pub rolled_forward: Vec<PathBuf>,
    /// Copies rebuilt whole because they were behind (a replaced disk, an interrupted rebuild).
    pub rebuilt: Vec<PathBuf>,
    /// Copies that could not be opened or read, with why.
    pub down: Vec<(PathBuf, String)>,
}

/// A length or count of a metadata commit as the record's `u32`: keys and records are at most
/// KiBs (object keys are at most 1,024 bytes; a version's metadata is JSON of a few KiB), and
/// a commit holds a handful of them.
fn meta_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a metadata commit's keys, records and counts are far below 4 GiB")
}

/// Why a copy whose directory was deleted under the running store is out of service.
pub(crate) const DIR_GONE: &str = "its directory is gone (deleted while the store ran)";

/// A commit's operations: puts (`Some`) and deletes (`None`).
pub type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Encode a commit's operations: `count u32`, then per op `key_len u32 | key | 0 (delete) or
/// 1 (put) | [value_len u32 | value]`, all little-endian.
pub fn encode_ops(ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&meta_u32(ops.len()).to_le_bytes());
    for (k, v) in ops {
        b.extend_from_slice(&meta_u32(k.len()).to_le_bytes());
        b.extend_from_slice(k);
        match v {
            None => b.push(0),
            Some(v) => {
                b.push(1);
                b.extend_from_slice(&meta_u32(v.len()).to_le_bytes());
                b.extend_from_slice(v);
            }
        }
    }
    b
}

/// Decode [`encode_ops`]; the error says where it stopped making sense.
pub fn decode_ops(b: &[u8]) -> Result<Ops, MetaError> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], MetaError> {
        let s = b.get(at..at + n).ok_or_else(|| {
            MetaError::corrupt(MLAST_KEY, format!("ends at byte {at}, {n} more needed"))
        })?;
        at += n;
        Ok(s)
    };
    let u32_of = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4 bytes")) as usize;
    let count = u32_of(take(4)?);
    let mut ops = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        let kl = u32_of(take(4)?);
        let k = take(kl)?.to_vec();
        let v = match take(1)?[0] {
            0 => None,
            1 => {
                let vl = u32_of(take(4)?);
                Some(take(vl)?.to_vec())
            }
            t => {
                return Err(MetaError::corrupt(
                    MLAST_KEY,
                    format!("op tag {t} is neither 0 nor 1"),
                ))
            }
        };
        ops.push((k, v));
    }
    Ok(ops)
}

/// End (exclusive) of every key the store uses.
const KEYS_END: &[u8] = &[0xFF];

/// Rows per chunk when copying a whole database.
const CHUNK: usize = 512;

fn is_replication_key(k: &[u8]) -> bool {
    k == MSEQ_KEY || k == MLAST_KEY || k == MREBUILD_KEY
}

impl ReplicatedMeta {
    /// Open a copy in each of `dirs` (with `opener`) and bring the stale ones up to date
    /// ([module docs](self)). Commits need `quorum` copies (at least 1). Fails only if no copy
    /// can be read at all.
    pub fn open(
        fs: FsHandle,
        dirs: Vec<PathBuf>,
        quorum: usize,
        opener: Opener,
    ) -> Result<(Self, OpenReport), MetaError> {
        assert!(!dirs.is_empty(), "at least one metadata copy");
        let mut slots = Vec::with_capacity(dirs.len());
        for d in &dirs {
            slots.push(match opener(d) {
                Ok(s) => Slot::Live(s),
                // Another process has the store open: say so once (not once per copy), and
                // open no copy beside it — the copies it does not hold would get a second
                // writer.
                Err(e) if e.is_locked() => return Err(e),
                Err(e) => Slot::Down(format!("cannot open: {e}")),
            });
        }
        let meta = ReplicatedMeta {
            fs,
            dirs,
            opener,
            quorum: quorum.max(1),
            slots: RwLock::new(slots),
            acked: AtomicU64::new(0),
            mseq: Mutex::new(0),
            queue: GroupQueue::default(),
            check: None,
        };
        let report = meta.reconcile()?;
        Ok((meta, report))
    }

    /// Ask `check` of each live copy's directory before each group of commits (and in
    /// [`MetaStore::check`]), instead of whether it is there: a copy it refuses is taken out of
    /// service. The store's is that the directory is there and its disk still the store's
    /// (`blob/disk_id.rs`).
    pub fn with_check(mut self, check: DirCheck) -> Self {
        self.check = Some(check);
        self
    }

    /// Commits need this many copies.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Each copy's state.
    pub fn copies(&self) -> Vec<CopyState> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        self.dirs
            .iter()
            .zip(slots.iter())
            .map(|(d, s)| CopyState {
                dir: d.clone(),
                live: matches!(s, Slot::Live(_)),
                problem: s.problem(),
            })
            .collect()
    }

    /// Why copy `i`'s directory takes no more writes, if it does not: the store's check, or,
    /// without one, it is gone (only when the file system says so, since a failed look
    /// proves nothing).
    fn refused(&self, i: usize) -> Option<String> {
        match &self.check {
            Some(check) => check(&self.dirs[i]),
            None => matches!(self.fs.exists(&self.dirs[i]), Ok(false)).then(|| DIR_GONE.into()),
        }
    }

    fn set_down(&self, i: usize, why: String) {
        self.slots.write().unwrap_or_else(|p| p.into_inner())[i] = Slot::Down(why);
    }

    fn live(&self) -> Vec<(usize, Arc<dyn MetaStore>)> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Live(m) => Some((i, Arc::clone(m))),
                Slot::Down(_) | Slot::Full { .. } => None,
            })
            .collect()
    }

    /// Take copy `i` (in service as `copy`) out after `error`: kept open for a full disk
    /// (module docs), holding commits up to `held`; closed otherwise, or if the slot no longer
    /// holds `copy` (a rebuild that failed half-way replaced it).
    fn take_out(
        &self,
        i: usize,
        copy: &Arc<dyn MetaStore>,
        held: Option<u64>,
        why: String,
        error: &MetaError,
    ) {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let same = matches!(&slots[i], Slot::Live(c) if Arc::ptr_eq(c, copy));
        slots[i] = if error.is_no_space() && same {
            Slot::Full {
                copy: Arc::clone(copy),
                held,
                why,
                error: Arc::new(error.duplicate()),
            }
        } else {
            Slot::Down(why)
        };
    }

    /// Why each copy out of service (and not among `asked`) could not take part: for a copy
    /// out for a full disk its refusal (so that the whole error still says "no space"), else
    /// its reason.
    fn out_of_service(&self, asked: &[usize]) -> Vec<CopyFailure> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .enumerate()
            .filter(|(i, _)| !asked.contains(i))
            .filter_map(|(i, s)| {
                let error = match s {
                    Slot::Live(_) => return None,
                    Slot::Full { error, .. } => error.duplicate(),
                    Slot::Down(why) => MetaError::Unavailable(format!("out of service: {why}")),
                };
                Some(CopyFailure {
                    dir: self.dirs[i].clone(),
                    error,
                })
            })
            .collect()
    }

    /// Whether copy `i` is out for a full disk.
    fn is_full(&self, i: usize) -> bool {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        matches!(slots[i], Slot::Full { .. })
    }

    /// The copies out for a full disk: index, copy, the last commit each holds.
    fn full_copies(&self) -> Vec<(usize, Arc<dyn MetaStore>, Option<u64>)> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Full { copy, held, .. } => Some((i, Arc::clone(copy), *held)),
                _ => None,
            })
            .collect()
    }

    /// Copies out for a full disk that hold every acknowledged commit, newest first: they may
    /// answer reads when no copy in service can.
    fn readable_full(&self) -> Vec<(usize, Arc<dyn MetaStore>)> {
        let acked = self.acked.load(Ordering::Acquire);
        let mut full: Vec<(u64, usize, Arc<dyn MetaStore>)> = self
            .full_copies()
            .into_iter()
            .filter_map(|(i, copy, held)| held.filter(|h| *h >= acked).map(|h| (h, i, copy)))
            .collect();
        full.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        full.into_iter().map(|(_, i, c)| (i, c)).collect()
    }

    /// Ask each copy a full disk took out to take writes again; bring those that can back
    /// into service and up to date (as at open). Holds the commit lock (`mseq`).
    fn revive(&self, mseq: &mut u64) {
        let mut back = false;
        for (i, copy, _) in self.full_copies() {
            if copy.resume().is_ok() {
                self.slots.write().unwrap_or_else(|p| p.into_inner())[i] = Slot::Live(copy);
                back = true;
            }
        }
        if back {
            // A copy that cannot be brought up to date is out again, with why; if none is
            // readable, the commit that follows fails and says so.
            let _ = self.reconcile_locked(mseq);
        }
    }

    /// A copy's commit number: `#mseq`; `None` for a copy mid-rebuild (incomplete); 1 for a
    /// database with records but no number (written before replication: the old `STORE/meta`).
    fn copy_mseq(copy: &dyn MetaStore) -> Result<Option<u64>, MetaError> {
        if copy.get(MREBUILD_KEY)?.is_some() {
            return Ok(None);
        }
        match copy.get(MSEQ_KEY)? {
            Some(b) if b.len() == 8 => Ok(Some(u64::from_be_bytes(b.try_into().expect("8 bytes")))),
            Some(b) => Err(MetaError::corrupt(
                MSEQ_KEY,
                format!("{} bytes, not 8", b.len()),
            )),
            None => Ok(Some(u64::from(!copy.scan(b"", KEYS_END, 1)?.is_empty()))),
        }
    }

    /// Bring every live copy to the newest commit (module docs).
    fn reconcile(&self) -> Result<OpenReport, MetaError> {
        let mut mseq = self.mseq.lock().unwrap_or_else(|p| p.into_inner());
        self.reconcile_locked(&mut mseq)
    }

    /// [`Self::reconcile`] with the commit lock held (`mseq`, set to the newest commit).
    fn reconcile_locked(&self, mseq: &mut u64) -> Result<OpenReport, MetaError> {
        let mut report = OpenReport::default();
        let mut seqs: Vec<(usize, Arc<dyn MetaStore>, Option<u64>)> = Vec::new();
        for (i, copy) in self.live() {
            match Self::copy_mseq(&*copy) {
                Ok(s) => seqs.push((i, copy, s)),
                Err(e) => self.take_out(i, &copy, None, format!("cannot read: {e}"), &e),
            }
        }
        let Some(newest) = seqs.iter().filter_map(|(_, _, s)| *s).max() else {
            let why: Vec<String> = self
                .copies()
                .into_iter()
                .map(|c| format!("{}: {}", c.dir.display(), c.problem.unwrap_or_default()))
                .collect();
            return Err(MetaError::Unavailable(format!(
                "no metadata copy is readable and complete: {}",
                why.join("; ")
            )));
        };
        let (src_i, src) = seqs
            .iter()
            .find(|(_, _, s)| *s == Some(newest))
            .map(|(i, c, _)| (*i, Arc::clone(c)))
            .expect("the newest exists");
        for (i, copy, s) in &seqs {
            if *i == src_i || *s == Some(newest) {
                continue;
            }
            let dir = self.dirs[*i].clone();
            if newest > 0 && *s == Some(newest - 1) {
                if let Ok(true) = self.roll_forward(&*src, &**copy) {
                    report.rolled_forward.push(dir);
                    continue;
                }
            }
            match self.rebuild_from(&*src, *i) {
                Ok(()) => report.rebuilt.push(dir),
                Err(e) => self.take_out(*i, copy, *s, format!("rebuild failed: {e}"), &e),
            }
        }
        for c in self.copies() {
            if let Some(why) = c.problem {
                report.down.push((c.dir, why));
            }
        }
        *mseq = newest;
        self.acked.store(newest, Ordering::Release);
        Ok(report)
    }

    /// Apply the newest copy's last commit to a copy one behind. `Ok(false)` if the source has
    /// no usable `#mlast`.
    fn roll_forward(&self, src: &dyn MetaStore, dst: &dyn MetaStore) -> Result<bool, MetaError> {
        let (Some(last), Some(seq)) = (src.get(MLAST_KEY)?, src.get(MSEQ_KEY)?) else {
            return Ok(false);
        };
        let mut ops = decode_ops(&last)?;
        ops.push((MSEQ_KEY.to_vec(), Some(seq)));
        ops.push((MLAST_KEY.to_vec(), Some(last)));
        dst.commit(ops, true)?;
        Ok(true)
    }

    /// Replace copy `i` with a fresh copy of `src` (module docs). The caller holds the commit
    /// lock, so `src` does not change meanwhile. On failure copy `i` is left as it was.
    fn rebuild_from(&self, src: &dyn MetaStore, i: usize) -> Result<(), MetaError> {
        let dir = self.dirs[i].clone();
        let mut tmp_name = dir.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".rebuild");
        let tmp = dir.with_file_name(tmp_name);
        remove_tree(&*self.fs, &tmp)?;
        let built = self.copy_into(src, &tmp);
        if let Err(e) = built {
            let _ = remove_tree(&*self.fs, &tmp);
            return Err(e);
        }
        // Out of service from here: its directory is about to be replaced.
        self.set_down(i, "being rebuilt".into());
        remove_tree(&*self.fs, &dir)?;
        let parent = dir.parent().unwrap_or(Path::new("/"));
        // The I/O error names the rename (or the parent's sync) and its paths.
        self.fs
            .rename(&tmp, &dir)
            .and_then(|()| self.fs.sync_dir(parent))?;
        let copy = (self.opener)(&dir)?;
        self.slots.write().unwrap_or_else(|p| p.into_inner())[i] = Slot::Live(copy);
        Ok(())
    }

    /// A new database in `dir` with every entry of `src`, marked incomplete until its last
    /// (synced) batch. Returns nothing: the database is closed when this returns.
    fn copy_into(&self, src: &dyn MetaStore, dir: &Path) -> Result<(), MetaError> {
        let dst = (self.opener)(dir)?;
        dst.commit(vec![(MREBUILD_KEY.to_vec(), Some(vec![1]))], true)?;
        let mut next = Vec::new();
        loop {
            let rows = src.scan(&next, KEYS_END, CHUNK)?;
            let done = rows.len() < CHUNK;
            if let Some((k, _)) = rows.last() {
                next = k.clone();
                next.push(0);
            }
            let ops: Ops = rows
                .into_iter()
                .filter(|(k, _)| !is_replication_key(k))
                .map(|(k, v)| (k, Some(v)))
                .collect();
            if !ops.is_empty() {
                dst.commit(ops, false)?;
            }
            if done {
                break;
            }
        }
        let mut last = vec![(MREBUILD_KEY.to_vec(), None)];
        for key in [MSEQ_KEY, MLAST_KEY] {
            if let Some(v) = src.get(key)? {
                last.push((key.to_vec(), Some(v)));
            }
        }
        dst.commit(last, true)?;
        Ok(())
    }

    /// Check every copy against the first live one, entry by entry; with `heal`, rebuild each
    /// copy that differs or is out of service. Returns what it found.
    pub fn verify(&self, heal: bool) -> Result<VerifyReport, MetaError> {
        let mut commits = self.mseq.lock().unwrap_or_else(|p| p.into_inner());
        // Copies a full disk took out come back first if they can.
        self.revive(&mut commits);
        let mut report = VerifyReport {
            copies: self.dirs.len() as u64,
            ..VerifyReport::default()
        };
        // A copy whose directory was deleted under the running store (its disk lost) still
        // answers from memory and its open files, and would compare equal: what it writes
        // from now on goes to files nobody can open again. Look at the disk, not the database.
        let mut bad: Vec<(usize, String)> = Vec::new();
        let mut live = Vec::new();
        for (i, copy) in self.live() {
            if let Some(why) = self.refused(i) {
                bad.push((i, why));
            } else {
                live.push((i, copy));
            }
        }
        let Some((_, src)) = live.first().cloned() else {
            return Err(MetaError::Unavailable(
                "no metadata copy is in service".into(),
            ));
        };
        for (i, s) in self.slot_states() {
            if let Some(why) = s {
                bad.push((i, why));
            }
        }
        for (i, copy) in live.iter().skip(1) {
            match same_entries(&*src, &**copy) {
                Ok(None) => {}
                Ok(Some(diff)) => bad.push((*i, diff)),
                Err(e) => bad.push((*i, format!("cannot read: {e}"))),
            }
        }
        bad.sort();
        for (i, why) in bad {
            report.bad.push((self.dirs[i].clone(), why));
            if heal {
                match self.rebuild_from(&*src, i) {
                    Ok(()) => report.healed.push(self.dirs[i].clone()),
                    // Still full: it stays as it was, to be resumed later.
                    Err(e) if e.is_no_space() && self.is_full(i) => {}
                    Err(e) => self.set_down(i, format!("rebuild failed: {e}")),
                }
            }
        }
        Ok(report)
    }

    fn slot_states(&self) -> Vec<(usize, Option<String>)> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.problem()))
            .collect()
    }

    /// Run `f` on each live copy in turn until one answers; if none can, on the copies a full
    /// disk took out that hold every acknowledged commit (module docs).
    fn read<T>(&self, f: impl Fn(&dyn MetaStore) -> Result<T, MetaError>) -> Result<T, MetaError> {
        let mut failures = Vec::new();
        let mut asked = Vec::new();
        // (The full copies are looked for only when every live one has failed: reads are hot.)
        let full = std::iter::once_with(|| self.readable_full()).flatten();
        for (i, copy) in self.live().into_iter().chain(full) {
            asked.push(i);
            match f(&*copy) {
                Ok(v) => return Ok(v),
                Err(error) => failures.push(CopyFailure {
                    dir: self.dirs[i].clone(),
                    error,
                }),
            }
        }
        // And why the others were not asked.
        failures.extend(self.out_of_service(&asked));
        Err(MetaError::Copies {
            what: "no metadata copy could answer".into(),
            failures,
        })
    }
}

/// Remove `dir` and everything under it (the I/O layer has no `remove_dir_all`); a missing
/// directory is fine. Recursion is bounded by the depth of the tree (an LSM directory is flat).
fn remove_tree(fs: &dyn Fs, dir: &Path) -> Result<(), MetaError> {
    if !fs.exists(dir)? {
        return Ok(());
    }
    for name in fs.list(dir)? {
        let path = dir.join(&name);
        if fs.remove_file(&path).is_err() {
            remove_tree(fs, &path)?;
        }
    }
    Ok(fs.remove_dir(dir)?)
}

/// What [`ReplicatedMeta::verify`] found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Copies there are.
    pub copies: u64,
    /// Copies that differed from the first live one, or were out of service, with why.
    pub bad: Vec<(PathBuf, String)>,
    /// Copies rebuilt.
    pub healed: Vec<PathBuf>,
}

/// `None` when both hold the same entries (replication keys included); else the first
/// difference.
fn same_entries(a: &dyn MetaStore, b: &dyn MetaStore) -> Result<Option<String>, MetaError> {
    let mut next = Vec::new();
    loop {
        let ra = a.scan(&next, KEYS_END, CHUNK)?;
        let rb = b.scan(&next, KEYS_END, CHUNK)?;
        for (x, y) in ra.iter().zip(&rb) {
            if x.0 != y.0 {
                let first = x.0.clone().min(y.0.clone());
                return Ok(Some(format!(
                    "key {:?} is in one copy only",
                    String::from_utf8_lossy(&first)
                )));
            }
            if x.1 != y.1 {
                return Ok(Some(format!(
                    "key {:?} has another value",
                    String::from_utf8_lossy(&x.0)
                )));
            }
        }
        if ra.len() != rb.len() {
            return Ok(Some("one copy has more entries".into()));
        }
        if ra.len() < CHUNK {
            return Ok(None);
        }
        next = ra.last().expect("a full chunk").0.clone();
        next.push(0);
    }
}

impl MetaStore for ReplicatedMeta {
    fn verify_copies(&self, heal: bool) -> Result<Option<VerifyReport>, MetaError> {
        self.verify(heal).map(Some)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        self.read(|c| c.get(key))
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError> {
        self.read(|c| c.scan(start, end, limit))
    }

    /// The first live copy's: every live copy holds every acknowledged commit, as for a read.
    /// A copy taken out of service or rebuilt while the view is read can make its scans fail
    /// (the caller falls back to reading the store).
    fn snapshot(&self) -> Option<Box<dyn MetaSnapshot>> {
        self.live()
            .into_iter()
            .find_map(|(_, copy)| copy.snapshot())
    }

    fn commit(&self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>, sync: bool) -> Result<(), MetaError> {
        let submitted = self.submit(ops, sync);
        self.wait(submitted)
    }

    fn submit(&self, ops: Ops, sync: bool) -> Submitted {
        Submitted::Queued(self.queue.submit((ops, sync)))
    }

    fn wait(&self, submitted: Submitted) -> Result<(), MetaError> {
        let ticket = match submitted {
            Submitted::Done(result) => return result,
            Submitted::Queued(ticket) => ticket,
        };
        let write = |mseq: &mut u64, group: Vec<(Ops, bool)>| {
            let sync = group.iter().any(|(_, s)| *s);
            let ops = group.into_iter().flat_map(|(o, _)| o).collect();
            self.write_group(mseq, ops, sync)
        };
        let how = Group {
            duplicate: &MetaError::duplicate,
            unknown: &|t| {
                MetaError::Unavailable(format!("metadata commit {t} is neither queued nor done"))
            },
        };
        self.queue.wait(ticket, &self.mseq, write, &how)
    }
}

impl ReplicatedMeta {
    /// Write one commit (a group's operations, in submission order) to every live copy, under
    /// `mseq`: numbered, with itself as `#mlast`, so that a copy that missed it rolls forward.
    fn write_group(&self, mseq: &mut u64, ops: Ops, sync: bool) -> Result<(), MetaError> {
        self.revive(mseq);
        let next = *mseq + 1;
        let last = encode_ops(&ops);
        let mut all = ops;
        all.push((MSEQ_KEY.to_vec(), Some(next.to_be_bytes().to_vec())));
        all.push((MLAST_KEY.to_vec(), Some(last)));
        // A copy whose directory was deleted under the running store (its disk lost) would
        // take this commit into files nobody can open again and still count toward the
        // quorum: out of service it goes, until scrub rebuilds it on the disk as it is then.
        // One look per copy per group of commits.
        let mut live = self.live();
        live.retain(|&(i, _)| {
            let Some(why) = self.refused(i) else {
                return true;
            };
            self.set_down(i, why);
            false
        });
        let results: Vec<Result<(), MetaError>> =
            if self.fs.kind() == BackendKind::Sim || live.len() < 2 {
                live.iter()
                    .map(|(_, c)| c.commit(all.clone(), sync))
                    .collect()
            } else {
                crate::parallel::run_indexed(live.len(), |i| live[i].1.commit(all.clone(), sync))
            };
        // Numbered even if it failed: it may have reached some copies.
        *mseq = next;
        let mut ok = 0;
        let mut failures = Vec::new();
        for ((i, copy), r) in live.iter().zip(results) {
            match r {
                Ok(()) => ok += 1,
                Err(error) => {
                    // It holds every commit before this one (the LSM refused the batch whole).
                    let why = format!("a commit failed: {error}");
                    self.take_out(*i, copy, Some(next - 1), why, &error);
                    failures.push(CopyFailure {
                        dir: self.dirs[*i].clone(),
                        error,
                    });
                }
            }
        }
        if ok >= self.quorum {
            self.acked.store(next, Ordering::Release);
            Ok(())
        } else {
            // And why the copies already out before this commit could not take it.
            let asked: Vec<usize> = live.iter().map(|(i, _)| *i).collect();
            failures.extend(self.out_of_service(&asked));
            Err(MetaError::Copies {
                what: format!(
                    "the metadata commit reached {ok} of {} copies, {} needed",
                    self.dirs.len(),
                    self.quorum
                ),
                failures,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::io::sim::{SimConfig, SimFs};
    use crate::io::IoError;
    use crate::lsm::{LsmError, Options};

    /// A copy on a disk that reads (as empty) but fails every write with EIO.
    #[derive(Debug)]
    struct FailingDisk(PathBuf);

    impl FailingDisk {
        fn eio(&self, op: &'static str) -> MetaError {
            MetaError::Io(IoError::eio(op, &self.0, "injected"))
        }
    }

    impl MetaStore for FailingDisk {
        fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
            Ok(None)
        }
        fn commit(&self, _ops: Ops, _sync: bool) -> Result<(), MetaError> {
            Err(self.eio("write"))
        }
        fn scan(&self, _start: &[u8], _end: &[u8], _limit: usize) -> Result<Rows, MetaError> {
            Ok(Vec::new())
        }
    }

    /// Three copies, commits need two; the copies in `failing` sit on dying disks.
    fn three_copies(failing: &'static [&'static str]) -> ReplicatedMeta {
        let sim = Arc::new(SimFs::new(7, SimConfig::default()));
        let fs: FsHandle = sim.clone();
        let clock = sim.clock();
        let opener_fs = fs.clone();
        let opener: Opener = Arc::new(move |dir: &Path| {
            if failing.iter().any(|f| dir == Path::new(f)) {
                return Ok(Arc::new(FailingDisk(dir.to_path_buf())) as Arc<dyn MetaStore>);
            }
            super::super::lsm_meta::open_with(
                opener_fs.clone(),
                dir,
                Options::small_for_tests(),
                clock.clone(),
            )
        });
        let dirs = ["/a", "/b", "/c"].map(PathBuf::from).to_vec();
        // The dying disks are there (a copy whose directory is gone is taken out before it is
        // asked to write).
        for f in failing {
            fs.create_dir_all(Path::new(f)).unwrap();
        }
        ReplicatedMeta::open(fs, dirs, 2, opener).unwrap().0
    }

    #[test]
    fn a_commit_short_of_its_quorum_names_each_copy_and_keeps_its_error() {
        let meta = three_copies(&["/b"]);
        meta.commit(vec![(b"k".to_vec(), Some(b"v".to_vec()))], true)
            .expect("two copies of three are in service");
        let meta = three_copies(&["/b", "/c"]);
        let err = meta
            .commit(vec![(b"k".to_vec(), Some(b"v".to_vec()))], true)
            .unwrap_err();
        assert!(
            !err.is_corruption(),
            "a dying disk is not corruption: {err}"
        );
        let MetaError::Copies { what, failures } = &err else {
            panic!("expected the copies' failures, got {err:?}");
        };
        assert_eq!(what, "the metadata commit reached 1 of 3 copies, 2 needed");
        let dirs: Vec<&Path> = failures.iter().map(|f| f.dir.as_path()).collect();
        assert_eq!(dirs, [Path::new("/b"), Path::new("/c")]);
        for f in failures {
            assert!(
                matches!(f.error, MetaError::Io(IoError::Os { .. })),
                "{f:?}"
            );
        }
        assert!(err.to_string().contains("/c: "), "{err}");
        // Both are out of service now: the next commit does not wait on them.
        assert_eq!(meta.copies().iter().filter(|c| c.live).count(), 1);
    }

    fn put(k: &str, v: &str) -> Ops {
        vec![(k.as_bytes().to_vec(), Some(v.as_bytes().to_vec()))]
    }

    #[test]
    fn commits_queued_meanwhile_are_written_as_one_in_submission_order() {
        let meta = three_copies(&[]);
        let first = meta.submit(put("a", "1"), true);
        let second = meta.submit([put("a", "2"), put("b", "1")].concat(), true);
        let third = meta.submit(vec![(b"b".to_vec(), None)], false);
        // The first waiter leads: all three go to every copy as one numbered commit.
        meta.wait(second).expect("the group is written");
        for (_, copy) in meta.live() {
            assert_eq!(ReplicatedMeta::copy_mseq(&*copy).unwrap(), Some(1));
            assert_eq!(copy.get(b"a").unwrap().as_deref(), Some(&b"2"[..]));
            assert_eq!(copy.get(b"b").unwrap(), None, "the later delete wins");
            // A copy that missed the group would roll forward from all of it.
            let last = decode_ops(&copy.get(MLAST_KEY).unwrap().unwrap()).unwrap();
            assert_eq!(last.len(), 4);
        }
        // The others find their results waiting.
        meta.wait(first).expect("written by the leader");
        meta.wait(third).expect("written by the leader");
        assert_eq!(meta.queue.uncollected(), 0);
        // A ticket is collected once.
        let again = meta.wait(Submitted::Queued(0)).unwrap_err();
        assert!(
            again.to_string().contains("neither queued nor done"),
            "{again}"
        );
        // The next commit is a group of its own.
        meta.commit(put("c", "1"), true).unwrap();
        let (_, copy) = &meta.live()[0];
        assert_eq!(ReplicatedMeta::copy_mseq(&**copy).unwrap(), Some(2));
    }

    #[test]
    fn every_commit_of_a_failed_group_gets_the_failure() {
        let meta = three_copies(&["/b", "/c"]);
        let first = meta.submit(put("a", "1"), true);
        let second = meta.submit(put("b", "1"), true);
        let led = meta.wait(first).unwrap_err();
        let followed = meta.wait(second).unwrap_err();
        assert_eq!(led.to_string(), followed.to_string());
        assert!(
            followed
                .to_string()
                .starts_with("the metadata commit reached 1 of 3 copies, 2 needed"),
            "{followed}"
        );
    }

    #[test]
    fn a_record_that_does_not_parse_is_corruption_with_its_key() {
        let err = decode_ops(&[3, 0, 0, 0, 1]).unwrap_err();
        assert!(err.is_corruption());
        assert!(
            matches!(&err, MetaError::Corrupt { key, .. } if key == "#mlast"),
            "{err:?}"
        );
        let lsm = MetaError::from(LsmError::corruption(
            "/a/000005.sst",
            "data block",
            0,
            "crc",
        ));
        assert!(lsm.is_corruption());
    }
}
