//! Which directories are the store's disks: each holds an identity file, `seedbed-disk.json`,
//! naming the store and the disk's place in it.
//!
//! A disk's directory being there proves little. The commonest way to lose a disk on a server
//! is for it not to be mounted (it failed, was pulled, or did not come up at boot): its mount
//! point stays, an empty directory on the root file system. Without a mark, the store took
//! that directory for the disk: a PUT wrote its shard there, scrub "healed" onto it, the
//! metadata copy was rebuilt there — filling the root file system, and all of it hidden again
//! once the disk was mounted back over it. So the write path counts a disk as there only if its
//! identity file is (one `stat`, where it used to look at the directory), and nothing is written
//! to a directory without one until the store has *formatted* it (written the file):
//!
//! - at creation, every disk;
//! - when the store opens and when scrub starts, a directory without the file that may be
//!   taken: a new disk mounted in place of a dead one (the directory is a mount point), or a
//!   directory gone or made again where the disk was a plain directory;
//! - never a directory that is *not* a mount point where the disk was one: that is a mount
//!   point whose disk is not mounted, and it stays absent (GETs read around it, PUTs go on
//!   past it while K disks take their shard: `degraded.rs`) until the disk is mounted. Which
//!   disks are mount points (on a file system other than the store directory's: mounted at
//!   the disk's path, or above it, as `/mnt/disk3/store` on a disk mounted at `/mnt/disk3`)
//!   is recorded in every disk's file — when it is written, and again when the store opens
//!   and finds a disk mounted since — so the others tell it when one is missing.
//!
//! Opening also checks what each file says: a disk of another store, or the store's disks in
//! the wrong places (two swapped in `store.json`, or in the mounts), refuse to open, naming
//! them, rather than reading shards where other shards are. MinIO keeps `format.json` on each
//! drive and refuses the root drive for the same reasons. Scrub refuses likewise.
//!
//! A disk can also change under a store that is running: pulled, and another put in its slot
//! (another server's, say, moved here by mistake), or mounted over with `umount -l`. Open files
//! keep writing to the disk they were opened on (or fail, with it gone), but every file the
//! store *creates* by path — a large blob's shard file, a new pack file, the metadata copy's
//! next log or table — would land on the disk now there: another store's data mixed into
//! it, and a shard acknowledged on a disk about to leave. So the store keeps its id once it
//! knows it, and its write paths check the identity file's *contents* before they create a
//! file on a disk (a `stat`, as before, and a read only when the file is not the one last
//! found to be the store's: [`VerifiedIds`]): a disk whose file names another store or
//! another place is [`DiskState::Foreign`], absent to writes as a disk not mounted is (PUTs
//! go on past it while K disks take their shard), until it is put back. The
//! metadata copy on it is taken out of service at its next commit (`replicated.rs`), and the
//! probe that brings a failing disk back refuses it. Small blobs append to pack files opened
//! earlier, with no file created: the pack is left for one without the disk when a look at
//! the disks (a PUT of a large blob, or the server's, every `--disk-check` seconds) finds it.
//!
//! A store made before the files existed gets them when it first opens: every disk holding
//! the store's directories (`meta`, `blobs` or `packs`) is formatted then, and every disk is
//! recorded as a mount point if any of them is one then.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::{BlobError, BlobStore};
use crate::io::{self, FileKey, Fs};
use crate::object::layout::Layout;

/// The identity file in each disk's directory.
pub const DISK_ID_FILE: &str = "seedbed-disk.json";

/// The file [`BlobStore::probe_disk`] writes and removes in a disk's directory.
pub const PROBE_FILE: &str = "seedbed-probe.tmp";

/// The identity file's format version.
const DISK_ID_FORMAT: u32 = 1;

/// What a disk's identity file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct DiskId {
    /// [`DISK_ID_FORMAT`].
    format: u32,
    /// The store's id (a UUID), the same on all its disks.
    store: String,
    /// This disk's place in the layout (its shard index).
    disk: usize,
    /// K + M.
    disks: usize,
    /// Which of the store's disks are mount points (on a file system other than the store
    /// directory's), as far as the store knew when it wrote this file: a disk recorded as one
    /// whose directory is not one is not mounted. Every disk's file holds the whole list, so
    /// that a disk's absence can be told from the files of the others.
    #[serde(default)]
    mount_points: Vec<bool>,
}

/// What is at one of the layout's disk directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskState {
    /// The store's disk: it holds the identity file.
    Formatted,
    /// The directory is gone. Opening the store and scrub make it again (and format it)
    /// where the disk was a plain directory; never where it was a mount point.
    Gone,
    /// A directory without the identity file that is no mount point, where the store's
    /// disk was one (an empty mount point): the disk is not mounted.
    NotMounted,
    /// A directory without the identity file that the store may take and format: a new disk
    /// mounted in place of a dead one, or a plain directory made again where the disk was
    /// one.
    New,
    /// Its identity file could not be read (a failing disk: its writes say the rest).
    Failing(String),
    /// Its identity file names another store, or another of this store's places: another disk
    /// was put at its path while the store ran (module docs). Absent to writes until put
    /// back; opening the store and scrub refuse it, naming it. Says what the file names.
    Foreign(String),
}

impl DiskState {
    /// Whether writes go on past this disk (its shards are absent until it is formatted).
    pub fn is_absent(&self) -> bool {
        matches!(
            self,
            DiskState::Gone | DiskState::NotMounted | DiskState::New | DiskState::Foreign(_)
        )
    }

    /// Why the disk takes no shard, for messages; `None` for a disk that does.
    pub fn why_absent(&self) -> Option<&'static str> {
        match self {
            DiskState::Gone => Some("its directory is gone"),
            DiskState::NotMounted => {
                Some("not mounted: its directory is no mount point, and the disk was one")
            }
            DiskState::New => Some("a new or emptied directory, not yet formatted (scrub does)"),
            DiskState::Foreign(_) => {
                Some("another disk is at its path (another store's, or another place's)")
            }
            DiskState::Formatted | DiskState::Failing(_) => None,
        }
    }
}

/// Disk `i`'s identity file.
fn id_path(layout: &Layout, i: usize) -> PathBuf {
    layout.disks[i].join(DISK_ID_FILE)
}

/// Whether disk directory `dir` is on a file system of its own: another than the store
/// directory `root`'s (or, for a blob store without one, its parent's) — a mount point at the
/// disk's path, or above it (`/mnt/disk3/store` with the disk mounted at `/mnt/disk3`). `false`
/// where the backend cannot tell (the simulated disk), or for a directory that is not there.
fn is_mount_point(fs: &dyn Fs, dir: &Path, root: Option<&Path>) -> bool {
    let Some(base) = root.or(dir.parent()) else {
        return false;
    };
    match (fs.space(dir), fs.space(base)) {
        (Ok(Some(d)), Ok(Some(p))) => d.id != p.id,
        _ => false,
    }
}

/// Read disk `i`'s identity: `Ok(None)` if it has none.
fn read_id(fs: &dyn Fs, layout: &Layout, i: usize) -> Result<Option<DiskId>, BlobError> {
    let path = id_path(layout, i);
    let bytes = match io::read_file(fs, &path) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        BlobError::DiskIdentity(format!(
            "{}: not an identity file this build reads ({e}); if the disk is this store's, \
             remove the file and open the store again to write it anew",
            path.display()
        ))
    })
}

/// Write disk `i`'s identity file, durably (its directory made first, if it is gone): to a
/// temporary name, then renamed, so that a crash leaves the file whole or not there.
fn format_disk(
    fs: &dyn Fs,
    layout: &Layout,
    i: usize,
    store: &str,
    mount_points: &[bool],
) -> Result<(), BlobError> {
    let dir = &layout.disks[i];
    io::create_dir_all_durable(fs, dir)?;
    let id = DiskId {
        format: DISK_ID_FORMAT,
        store: store.to_owned(),
        disk: i,
        disks: layout.width(),
        mount_points: mount_points.to_vec(),
    };
    let json = serde_json::to_vec_pretty(&id).expect("a disk id serialises");
    let tmp = dir.join(format!("{DISK_ID_FILE}.tmp"));
    io::write_file_durable(fs, &tmp, &json)?;
    fs.rename(&tmp, &id_path(layout, i))?;
    fs.sync_dir(dir)?;
    Ok(())
}

/// Whether disk `i`'s directory holds the store's own directories (a disk of a store made
/// before identity files).
fn holds_store_dirs(fs: &dyn Fs, layout: &Layout, i: usize) -> bool {
    ["meta", "blobs", "packs"]
        .iter()
        .any(|d| matches!(fs.exists(&layout.disks[i].join(d)), Ok(true)))
}

/// Every disk's state, and the store's id where a disk names it.
struct Survey {
    states: Vec<DiskState>,
    store: Option<String>,
    /// Which disks are mount points: recorded in any disk's file, or one now (what a disk
    /// formatted now records).
    mount_points: Vec<bool>,
    /// Formatted disks whose file lacks some of `mount_points` (a disk mounted since it was
    /// written): written again, so that every file knows every mount point.
    stale: Vec<usize>,
}

/// How [`survey`] takes a disk at another's place: opening and scrub refuse it, a look at the
/// disks while the store runs reports it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Misplaced {
    /// `Err` naming every such disk.
    Refuse,
    /// [`DiskState::Foreign`].
    Report,
}

/// Look at every disk: read its identity, check it names this store and this place (`Err`
/// naming the disks that do not, or [`DiskState::Foreign`]: `misplaced`), and classify the
/// rest (module docs). The store's id is `known`, where the store knows it, else the one most
/// disks name. `legacy`: treat a disk holding the store's directories as formatted (a store
/// made before identity files).
fn survey(
    fs: &dyn Fs,
    layout: &Layout,
    root: Option<&Path>,
    legacy: bool,
    misplaced: Misplaced,
    known: Option<&str>,
) -> Result<Survey, BlobError> {
    let width = layout.width();
    let mut ids: Vec<Option<DiskId>> = Vec::with_capacity(width);
    let mut states: Vec<Option<DiskState>> = vec![None; width];
    for (i, state) in states.iter_mut().enumerate() {
        match read_id(fs, layout, i) {
            Ok(id) => ids.push(id),
            Err(BlobError::Io(e)) => {
                *state = Some(DiskState::Failing(e.to_string()));
                ids.push(None);
            }
            Err(e) if misplaced == Misplaced::Report => {
                *state = Some(DiskState::Foreign(e.to_string()));
                ids.push(None);
            }
            Err(e) => return Err(e),
        }
    }
    // The store's id: the one most disks name (a disk of another store put in place of one
    // is the odd one out); every file must name it, and each must sit at its own place.
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for id in ids.iter().flatten() {
        *counts.entry(&id.store).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let store: Option<String> = known.map(str::to_owned).or_else(|| {
        ids.iter()
            .flatten()
            .map(|id| id.store.as_str())
            .find(|s| counts[s] == most)
            .map(str::to_owned)
    });
    let mut wrong = Vec::new();
    for (i, id) in ids.iter_mut().enumerate() {
        let Some(found) = id else { continue };
        let Some(why) = misplacement(found, i, width, store.as_deref()) else {
            continue;
        };
        let why = format!("{} {why}", layout.disks[i].display());
        match misplaced {
            Misplaced::Refuse => wrong.push(why),
            Misplaced::Report => {
                states[i] = Some(DiskState::Foreign(why));
                *id = None;
            }
        }
    }
    if !wrong.is_empty() {
        return Err(BlobError::DiskIdentity(format!(
            "the disks are not where the store's layout says: {}; put each disk back at its \
             path (store.json lists them in order), or mount the right one",
            wrong.join("; ")
        )));
    }
    let formatted = |i: usize| {
        ids[i].is_some() || (legacy && states[i].is_none() && holds_store_dirs(fs, layout, i))
    };
    let known: Vec<usize> = (0..width).filter(|&i| formatted(i)).collect();
    // Which disks were mount points: what any file recorded. A store made before identity
    // files recorded nothing: there, a disk is taken to be one if any of its disks is now.
    let mut recorded = vec![false; width];
    for id in ids.iter().flatten() {
        for (r, &m) in recorded.iter_mut().zip(&id.mount_points) {
            *r |= m;
        }
    }
    if legacy
        && known
            .iter()
            .any(|&i| is_mount_point(fs, &layout.disks[i], root))
    {
        recorded = vec![true; width];
    }
    let now: Vec<bool> = (0..width)
        .map(|i| is_mount_point(fs, &layout.disks[i], root))
        .collect();
    let states = states
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if let Some(s) = s {
                return s;
            }
            if known.contains(&i) {
                return DiskState::Formatted;
            }
            let dir = &layout.disks[i];
            match fs.exists(dir) {
                Ok(false) => DiskState::Gone,
                Err(e) => DiskState::Failing(e.to_string()),
                Ok(true) if recorded[i] && !now[i] => DiskState::NotMounted,
                Ok(true) => DiskState::New,
            }
        })
        .collect();
    let mount_points: Vec<bool> = recorded.iter().zip(&now).map(|(r, n)| *r || *n).collect();
    let stale = (0..width)
        .filter(|&i| {
            ids[i].as_ref().is_some_and(|id| {
                (0..width)
                    .any(|j| mount_points[j] && !id.mount_points.get(j).copied().unwrap_or(false))
            })
        })
        .collect();
    Ok(Survey {
        states,
        store,
        mount_points,
        stale,
    })
}

/// What is wrong with identity `id` found at disk `i`'s path, for a store of `width` disks
/// whose id is `store` (where known); `None` if it is that disk's.
fn misplacement(id: &DiskId, i: usize, width: usize, store: Option<&str>) -> Option<String> {
    let mut wrong = Vec::new();
    if id.disks != width || id.disk != i {
        wrong.push(format!(
            "holds disk {} of {} (this store's layout puts disk {i} of {width} there)",
            id.disk, id.disks
        ));
    }
    if let Some(s) = store.filter(|s| *s != id.store) {
        wrong.push(format!(
            "belongs to store {} (the store's other disks to {s})",
            id.store
        ));
    }
    (!wrong.is_empty()).then(|| wrong.join(" and "))
}

/// What disk `i`'s identity file says of it, now.
pub(super) enum Identity {
    /// This store's disk `i`.
    Ours,
    /// No identity file (gone, not mounted, not yet formatted).
    NoFile,
    /// Another disk's (why).
    Foreign(String),
    /// The file could not be read: a failing disk, whose writes say the rest.
    Unreadable,
}

/// The identity files found to be the store's, by which file each was read from
/// ([`crate::io::FileKey`]): a look that finds the same file, unchanged, needs a `stat` and no
/// read — what the write paths pay per disk, as they paid for a `stat` before the contents were
/// checked. A file replaced (by rename, or by another file system mounted over the disk's
/// path) or rewritten is read again.
#[derive(Debug, Default)]
pub(crate) struct VerifiedIds(std::sync::Mutex<std::collections::BTreeMap<usize, FileKey>>);

impl VerifiedIds {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<usize, FileKey>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Say whether disk `i` is store `store`'s disk `i` now: unread if `seen` holds its file,
/// unchanged; else read. A file that names another disk is read a second time, and foreign
/// only if that says so too, and one that does not parse is unreadable, not foreign: a read
/// can come back damaged (a flipped bit), and a copy or shard taken out on one bad read would
/// cost redundancy until the next scrub.
fn identity(fs: &dyn Fs, layout: &Layout, i: usize, store: &str, seen: &VerifiedIds) -> Identity {
    let path = id_path(layout, i);
    // A look that fails (the file gone, say) gives no key: the read says what is there.
    let key = fs.file_key(&path).ok().flatten();
    if key.is_some() && seen.lock().get(&i) == key.as_ref() {
        return Identity::Ours;
    }
    let read = || match read_id(fs, layout, i) {
        Ok(None) => Identity::NoFile,
        Ok(Some(id)) => match misplacement(&id, i, layout.width(), Some(store)) {
            None => Identity::Ours,
            Some(why) => Identity::Foreign(format!("{} {why}", layout.disks[i].display())),
        },
        Err(_) => Identity::Unreadable,
    };
    let verdict = match read() {
        Identity::Foreign(_) => read(),
        v => v,
    };
    match (&verdict, key) {
        (Identity::Ours, Some(key)) => seen.lock().insert(i, key),
        _ => seen.lock().remove(&i),
    };
    verdict
}

/// The store id most of the disks' identity files name (`None` if none has one).
/// Ties go to the first disk's, as in [`survey`].
pub(crate) fn store_named(fs: &dyn Fs, layout: &Layout) -> Option<String> {
    let ids: Vec<String> = (0..layout.width())
        .filter_map(|i| read_id(fs, layout, i).ok().flatten())
        .map(|id| id.store)
        .collect();
    let count = |s: &String| ids.iter().filter(|t| *t == s).count();
    let most = ids.iter().map(count).max()?;
    ids.iter().find(|s| count(s) == most).cloned()
}

/// A store id (shaped as a version-4 UUID) drawn from `seed`: what the store's creation or
/// first opening makes unique (its directory, the time, a seed), not the OS's randomness.
pub fn store_id_from(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// What [`BlobStore::check_disks`] found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskCheck {
    /// Disks formatted now: new ones, or every one of a store made before identity files.
    pub formatted: Vec<PathBuf>,
    /// Disks that take no shard, and why (their writes go on past them).
    pub absent: Vec<(PathBuf, &'static str)>,
}

impl BlobStore {
    /// Make a new store's disks: each disk's `blobs` directory, durably, and its identity file
    /// naming store `store`. Refuses a disk that already has one: it is another store's. The
    /// 256 fan-out directories under `blobs` (by the first byte of the blob id) are made on
    /// first use by `open_new_shard`.
    pub fn create_dirs(&self, store: &str) -> Result<(), BlobError> {
        for i in 0..self.layout.width() {
            if let Some(id) = read_id(&*self.fs, &self.layout, i)? {
                return Err(BlobError::DiskIdentity(format!(
                    "{} is disk {} of store {} already; a new store needs disks of its own \
                     (if that store is gone for good, remove the disk's {DISK_ID_FILE})",
                    self.layout.disks[i].display(),
                    id.disk,
                    id.store
                )));
            }
        }
        for disk in &self.layout.disks {
            io::create_dir_all_durable(&*self.fs, &disk.join("blobs"))?;
        }
        let mount_points: Vec<bool> = (self.layout.disks.iter())
            .map(|d| is_mount_point(&*self.fs, d, self.root.as_deref()))
            .collect();
        for i in 0..self.layout.width() {
            format_disk(&*self.fs, &self.layout, i, store, &mount_points)?;
        }
        self.learn_store_id(store);
        Ok(())
    }

    /// Check the disks' identity files and format the disks the store may take (module docs):
    /// when the store opens, and when scrub starts. `new_store_id` names a store none of whose
    /// disks has a file yet (one made before identity files). Fails, naming them, if a disk
    /// belongs to another store or sits at another disk's place.
    pub fn check_disks(
        &self,
        new_store_id: impl FnOnce() -> String,
    ) -> Result<DiskCheck, BlobError> {
        let (fs, layout) = (&*self.fs, &self.layout);
        let root = self.root.as_deref();
        let known = self.store_id.get().map(String::as_str);
        let survey = survey(fs, layout, root, false, Misplaced::Refuse, known)?;
        let (survey, store) = match survey.store {
            Some(ref s) => {
                let s = s.clone();
                (survey, s)
            }
            None => (
                survey_legacy(fs, layout, root, Misplaced::Refuse)?,
                new_store_id(),
            ),
        };
        self.learn_store_id(&store);
        let mut check = DiskCheck::default();
        for (i, state) in survey.states.iter().enumerate() {
            let dir = &layout.disks[i];
            let legacy_disk = matches!(fs.exists(&id_path(layout, i)), Ok(false))
                && *state == DiskState::Formatted;
            let gone_plain = *state == DiskState::Gone && !survey.mount_points[i];
            let format = *state == DiskState::New || gone_plain || legacy_disk;
            // Written again with what the store now knows of its mount points.
            let rewrite = survey.stale.contains(&i);
            if !(format || rewrite) {
                if let Some(why) = state.why_absent() {
                    check.absent.push((dir.clone(), why));
                }
                continue;
            }
            match format_disk(fs, layout, i, &store, &survey.mount_points) {
                Ok(()) if format => check.formatted.push(dir.clone()),
                Ok(()) => {}
                // A disk that fails its I/O: the store opens without it, as with any write
                // to it (`degraded.rs`); a disk never formatted stays absent.
                Err(BlobError::Io(e)) if e.is_device_failure() => {
                    if format {
                        check.absent.push((
                            dir.clone(),
                            "failing: its identity file could not be written",
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(check)
    }

    /// Each disk's state, in layout order (what [`BlobStore::check_disks`] would do with it).
    /// A disk at another's place is [`DiskState::Foreign`] here, not an error (module docs):
    /// a store watching its disks sees that one, and the others, as they are. Takes note of
    /// the foreign ones, for the pack being appended to (`pack.rs`).
    pub fn disk_states(&self) -> Result<Vec<DiskState>, BlobError> {
        let root = self.root.as_deref();
        let report = Misplaced::Report;
        // Against the id this store knows, where it knows one: disks of another store in
        // place of most of its own are still foreign to it.
        let known = self.store_id.get().map(String::as_str);
        let mut survey = survey(&*self.fs, &self.layout, root, false, report, known)?;
        if survey.store.is_none() {
            survey = survey_legacy(&*self.fs, &self.layout, root, report)?;
        }
        for (i, state) in survey.states.iter_mut().enumerate() {
            // One read said so: a second must too (`identity`).
            if let (DiskState::Foreign(_), Some(store)) = (&*state, known) {
                match identity(&*self.fs, &self.layout, i, store, &self.verified_ids) {
                    Identity::Ours => *state = DiskState::Formatted,
                    Identity::Unreadable => {
                        *state = DiskState::Failing(format!(
                            "{}: its identity file reads back damaged",
                            id_path(&self.layout, i).display()
                        ))
                    }
                    Identity::Foreign(_) | Identity::NoFile => {}
                }
            }
            self.note_foreign(i, matches!(state, DiskState::Foreign(_)));
        }
        Ok(survey.states)
    }

    /// Remember store id `store` (from the disks' files, or made for them), against which the
    /// write paths check each disk (module docs). The first one learnt stays.
    pub(super) fn learn_store_id(&self, store: &str) {
        let _ = self.store_id.set(store.to_owned());
    }

    /// Mark disk `i` foreign (or not) for the pack being appended to.
    fn note_foreign(&self, i: usize, foreign: bool) {
        let bit = 1u32 << i;
        if foreign {
            self.foreign_disks.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.foreign_disks.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Whether the last look found disk `i` foreign ([`BlobStore::disk_states`],
    /// [`BlobStore::disk_absent`]).
    pub(super) fn seen_foreign(&self, i: usize) -> bool {
        self.foreign_disks.load(Ordering::Relaxed) & (1 << i) != 0
    }

    /// Whether disk `shard` takes no shard: its identity file is not there (its directory is
    /// gone, not mounted, or not yet formatted), or names another disk (module docs). A file
    /// that cannot even be read counts as there: its error is the write's. Before the store
    /// knows its id (a blob store used alone), only whether the file is there.
    pub(super) fn disk_absent(&self, shard: usize) -> bool {
        let Some(store) = self.store_id.get() else {
            return matches!(self.fs.exists(&id_path(&self.layout, shard)), Ok(false));
        };
        match identity(&*self.fs, &self.layout, shard, store, &self.verified_ids) {
            Identity::Ours => {
                self.note_foreign(shard, false);
                false
            }
            Identity::Foreign(_) => {
                self.note_foreign(shard, true);
                true
            }
            Identity::NoFile => true,
            Identity::Unreadable => false,
        }
    }

    /// Whether disk `shard` works: its identity file read back, and a small file written,
    /// synced, read back and removed in its directory — the requests a shard's write makes.
    /// What a server asks of a disk that failed writes (`degraded.rs`), so as to rebuild what
    /// the writes went on without once the disk works again (a cable reseated, a controller
    /// reset, a file system remounted read-write), without waiting for anyone to run scrub.
    /// Never writes to a disk without its identity file (an empty mount point stays empty).
    /// The read-back may come from the page cache: the synced write is what the probe proves.
    pub fn probe_disk(&self, shard: usize) -> Result<(), BlobError> {
        let dir = &self.layout.disks[shard];
        let failed = |detail: String| BlobError::DiskProbe {
            disk: dir.clone(),
            detail,
        };
        match read_id(&*self.fs, &self.layout, shard)? {
            None => {
                return Err(failed(format!(
                    "no identity file ({DISK_ID_FILE}): gone, not mounted, or not yet formatted"
                )))
            }
            // Another disk in its place: nothing is to be written to it, let alone rebuilt.
            Some(id) => {
                let store = self.store_id.get().map(String::as_str);
                if let Some(why) = misplacement(&id, shard, self.layout.width(), store) {
                    self.note_foreign(shard, true);
                    return Err(failed(format!(
                        "another disk is at its path: it {why}; put this store's disk back"
                    )));
                }
            }
        }
        let path = dir.join(PROBE_FILE);
        // A block of the disk's own name, so a write landing on another disk's file reads wrong.
        let mut bytes = format!("seedbed disk probe: {}\n", dir.display()).into_bytes();
        bytes.resize(4096, b'.');
        io::write_file_durable(&*self.fs, &path, &bytes)?;
        let back = io::read_file(&*self.fs, &path);
        let removed = self.fs.remove_file(&path);
        if back? != bytes {
            return Err(failed(format!(
                "{} read back other bytes than were written to it",
                path.display()
            )));
        }
        removed?;
        Ok(())
    }
}

/// [`survey`] for a store none of whose disks has an identity file: the disks holding its
/// directories count as formatted.
fn survey_legacy(
    fs: &dyn Fs,
    layout: &Layout,
    root: Option<&Path>,
    misplaced: Misplaced,
) -> Result<Survey, BlobError> {
    survey(fs, layout, root, true, misplaced, None)
}

/// Why metadata copy directory `dir` may not be opened (and made), if it may not: a copy on
/// one of the layout's disks that has no identity file while another disk has one — the disk
/// is not mounted, or not yet formatted (module docs) — or whose file names another disk than
/// the one the layout puts there. A store being created has no identity files yet, and its
/// copies are made before its disks are formatted.
pub(crate) fn copy_refusal(fs: &dyn Fs, layout: &Layout, dir: &Path) -> Option<String> {
    let i = layout.disks.iter().position(|d| dir.parent() == Some(d))?;
    let has_id = |j: usize| matches!(fs.exists(&id_path(layout, j)), Ok(true));
    let surely_none = matches!(fs.exists(&id_path(layout, i)), Ok(false));
    if surely_none && (0..layout.width()).any(|j| j != i && has_id(j)) {
        return Some(format!(
            "{}: its disk has no identity file ({DISK_ID_FILE}): not mounted, or not yet \
             formatted (scrub formats a new disk)",
            dir.display()
        ));
    }
    let store = store_named(fs, layout)?;
    foreign_copy(fs, layout, i, &store, &VerifiedIds::default())
}

/// Why the metadata copy on disk `i` is refused, if another disk is at its path.
fn foreign_copy(
    fs: &dyn Fs,
    layout: &Layout,
    i: usize,
    store: &str,
    seen: &VerifiedIds,
) -> Option<String> {
    match identity(fs, layout, i, store, seen) {
        Identity::Foreign(why) => Some(format!(
            "another disk is at its disk's path: {why}; put the store's disk back"
        )),
        Identity::Ours | Identity::NoFile | Identity::Unreadable => None,
    }
}

/// The check a running store asks of its metadata copies before each group of commits
/// ([`crate::object::replicated::ReplicatedMeta::with_check`]), in place of a look at whether
/// the copy's directory is there: a copy whose directory is gone, or on a disk whose identity
/// file names another disk, is refused (module docs). The store's id is the one most disks
/// name, learnt now or, for a store being created (whose copies are made before its disks are
/// formatted), at the first look that finds one. One `stat` per copy per group of commits, of
/// the copy's directory, as before: the identity file is read only when that directory is not
/// the one last found on the store's disk (another disk's is another inode), or changed (a
/// file made or removed in it: a new log or table, now and then).
pub(crate) fn copy_check(
    fs: crate::io::FsHandle,
    layout: Layout,
) -> crate::object::replicated::DirCheck {
    let seen: std::sync::Mutex<std::collections::BTreeMap<usize, FileKey>> = Default::default();
    let store = std::sync::OnceLock::new();
    if let Some(s) = store_named(&*fs, &layout) {
        let _ = store.set(s);
    }
    std::sync::Arc::new(move |dir: &Path| {
        let key = match fs.file_key(dir) {
            Ok(key) => key,
            Err(e) if e.is_not_found() => return Some(crate::object::replicated::DIR_GONE.into()),
            // A failed look proves nothing.
            Err(_) => return None,
        };
        if key.is_none() && matches!(fs.exists(dir), Ok(false)) {
            return Some(crate::object::replicated::DIR_GONE.into());
        }
        let i = layout.disks.iter().position(|d| dir.parent() == Some(d))?;
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        if key.is_some() && seen.get(&i) == key.as_ref() {
            return None;
        }
        let store = match store.get() {
            Some(s) => s,
            None => {
                let s = store_named(&*fs, &layout)?;
                store.get_or_init(|| s)
            }
        };
        let refused = foreign_copy(&*fs, &layout, i, store, &VerifiedIds::default());
        match (&refused, key) {
            (None, Some(key)) => seen.insert(i, key),
            _ => seen.remove(&i),
        };
        refused
    })
}
