//! The object store: opening and creating a store, buckets, and the pieces every operation
//! shares (sequence numbers, version ids, the commit lock).
//!
//! A store directory holds `store.json` (the [`Layout`], fixed at creation), the metadata engine
//! and, unless other disks were named, the shard directories `disk0 .. disk{K+M-1}`.
//!
//! Concurrency: object data is written outside any lock (blobs have fresh ids, so nothing can
//! see them); the read-check-commit of metadata runs under the commit lock, which is what makes
//! If-Match / If-None-Match and version replacement atomic; a write to one key lets it go once
//! its commit is submitted, so that commits to different keys share a sync (`commit_gate.rs`).
//! `gc_lock` is held shared by every writer from its first blob byte to its commit, and
//! exclusively by the orphan sweep (for an instant to take a snapshot of the metadata, and
//! again to delete), so the sweep never mistakes an in-flight PUT for an orphan. Readers pin
//! the blobs they stream ([`super::pins`]) instead, so a slow reader holds no lock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rand::RngCore;

use super::acl::Acl;
use super::blob::{BlobStore, DataId, DiskCheck, DiskState};
use super::bucket_config::{check_acl_allowed, ObjectOwnership};
use super::error::ObjectError;
use super::layout::{Layout, LayoutError};
use super::meta::{self, BucketMeta, MetaSnapshot, MetaStore, Versioning};
use super::meta_error::MetaError;
use super::names::validate_bucket;
use super::owner::Owner;
use super::pins::Pins;
use super::sse::Key;
use crate::clock::ClockHandle;
use crate::commit_gate::CommitGate;
use crate::io::{self, FsHandle};
use crate::rng::DetRng;

/// Name of the layout file in a store directory.
pub const LAYOUT_FILE: &str = "store.json";

/// Behaviour that may differ between stores; not part of the on-disk layout.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Sync data and metadata before acknowledging a write (off only for benchmarks that say so).
    pub sync: bool,
    /// Smallest multipart part except the last (S3: 5 MiB).
    pub min_part_size: u64,
    /// Read the shard files of large objects (those with files of their own) with direct I/O
    /// (`O_DIRECT`), as PUT writes them; `false` reads through the page cache. A file system
    /// without direct I/O (tmpfs before Linux 6.6) falls back to the page cache either way.
    pub direct_reads: bool,
    /// The built-in KMS behind SSE-KMS: which KMS keys exist (`kms.rs`).
    pub kms: super::kms::Kms,
    /// Space new data may not take on each file system under the disks, kept for deletes and
    /// the metadata (`space.rs`).
    pub space_reserve: super::space::SpaceReserve,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sync: true,
            min_part_size: 5 * 1024 * 1024,
            direct_reads: true,
            kms: super::kms::Kms::default(),
            space_reserve: super::space::SpaceReserve::Auto,
        }
    }
}

/// What a new bucket starts with.
#[derive(Clone, Debug, Default)]
pub struct NewBucket {
    /// The account that owns it.
    pub owner: Option<Owner>,
    /// Its ACL (`None`: private to its owner).
    pub acl: Option<Acl>,
    /// Its object ownership (`None`: not set).
    pub ownership: Option<ObjectOwnership>,
    /// Its LocationConstraint (`None`: the default region).
    pub location: Option<String>,
    /// `x-amz-bucket-object-lock-enabled`: versioning on, and Object Lock enabled (no default
    /// retention until PutObjectLockConfiguration sets one).
    pub object_lock: bool,
}

/// An S3-like object store on erasure-coded shards.
#[derive(Debug)]
pub struct ObjectStore {
    pub(super) fs: FsHandle,
    pub(super) root: PathBuf,
    pub(super) blobs: BlobStore,
    pub(super) meta: Arc<dyn MetaStore>,
    pub(super) clock: ClockHandle,
    pub(super) options: StoreOptions,
    rng: Mutex<DetRng>,
    /// The last sequence number handed out (`None` until the first, then read from `#seq`). A
    /// PUT takes its number before its commit, to describe its blob in the same sync as its
    /// data (`describe.rs`), so numbers come from here rather than from the stored counter,
    /// and a commit stores the larger of the two ([`ObjectStore::seq_op`]).
    seq: Mutex<Option<u64>>,
    /// The counter the last commit stored in `#seq` (`None` until the first, then read from
    /// `#seq`): commits in flight have not reached the stored one yet ([`ObjectStore::seq_op`]).
    seq_stored: Mutex<Option<u64>>,
    /// The commit lock, and the (bucket, key)s whose commits are in flight
    /// (`commit_gate.rs`).
    gate: CommitGate<(String, String)>,
    pub(super) gc_lock: RwLock<()>,
    /// Blobs readers are streaming; their deletion waits for the last reader.
    pub(super) pins: Pins,
    /// The SSE-S3 master key, once read or made (`sse.rs`).
    master_key: Mutex<Option<Key>>,
    /// Which disks share a file system, for the space reserve's checks (`space.rs`).
    pub(super) space_groups: Mutex<super::space::SpaceGroups>,
}

/// The file beside the layout that holds the SSE-S3 master key (32 bytes), made on first use.
pub const MASTER_KEY_FILE: &str = "sse-s3.key";

impl ObjectStore {
    /// Create a new store in `root` with `k` data and `m` parity shards of up to `shard_len_max`
    /// bytes. `disks` names the shard directories (one per shard; each may be a separate device);
    /// `None` puts them under `root`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        fs: FsHandle,
        root: &Path,
        k: usize,
        m: usize,
        shard_len_max: u64,
        disks: Option<Vec<PathBuf>>,
        meta: Arc<dyn MetaStore>,
        clock: ClockHandle,
        rng: DetRng,
        options: StoreOptions,
    ) -> Result<Self, ObjectError> {
        let layout_path = root.join(LAYOUT_FILE);
        io::create_dir_all_durable(&*fs, root)?;
        if fs.exists(&layout_path)? {
            return Err(ObjectError::InvalidArgument(format!(
                "{} already holds a store (its layout is fixed at creation)",
                root.display()
            )));
        }
        let disks =
            disks.unwrap_or_else(|| (0..k + m).map(|i| root.join(format!("disk{i}"))).collect());
        let layout = Layout::new(k, m, shard_len_max, disks).map_err(ObjectError::InvalidLayout)?;
        let blobs = BlobStore::new(fs.clone(), layout.clone())
            .with_direct_reads(options.direct_reads)
            .with_store_root(root);
        // Disks inside the store's directory are recorded relative to it, so that the store
        // opens from any working directory and a copy of the directory is a store of its own
        // (not one that writes to the original's disks).
        let mut recorded = layout.clone();
        for d in &mut recorded.disks {
            if let Ok(inner) = d.strip_prefix(root) {
                *d = inner.to_path_buf();
            }
        }
        let json = serde_json::to_vec_pretty(&recorded).expect("layout serialises");
        let store = Self::assemble(fs, root, blobs, meta, clock, rng, options);
        // The disks (and their identity files) before the layout: a store whose creation a
        // crash cut short has no layout.
        store
            .blobs
            .create_dirs(&store.new_uuid().hyphenated().to_string())?;
        io::write_file_durable(&*store.fs, &layout_path, &json)?;
        Ok(store)
    }

    /// Open an existing store; removes leftovers of interrupted writes (orphaned shards).
    pub fn open(
        fs: FsHandle,
        root: &Path,
        meta: Arc<dyn MetaStore>,
        clock: ClockHandle,
        rng: DetRng,
        options: StoreOptions,
    ) -> Result<Self, ObjectError> {
        let layout = Self::read_layout(&*fs, root)?;
        let blobs = BlobStore::new(fs.clone(), layout)
            .with_direct_reads(options.direct_reads)
            .with_store_root(root);
        let store = Self::assemble(fs, root, blobs, meta, clock, rng, options);
        store.check_disks()?;
        store.refuse_if_metadata_lost()?;
        // One pass over the metadata serves both the orphan sweep (every blob referenced) and
        // the records an older store lacks; each used to scan every version on its own.
        let refs = store.scan_references()?;
        store.remove_orphans_of(&refs.blobs)?;
        store.record_lacking(refs.buckets_lacking, refs.markers_lacking)?;
        Ok(store)
    }

    /// A store whose metadata holds nothing at all — not a bucket, not a counter — has never
    /// committed anything, so it cannot have blobs: blobs are only written into buckets. If the
    /// disks hold blobs all the same, the metadata was lost (every copy deleted), and the
    /// orphan sweep would delete every object's data. Refuse to open instead.
    fn refuse_if_metadata_lost(&self) -> Result<(), ObjectError> {
        if !self.meta_scan(b"", &[0xFF], 1)?.is_empty() {
            return Ok(());
        }
        let blobs = self.blobs.list()?.len();
        if blobs == 0 {
            return Ok(());
        }
        Err(ObjectError::Internal(format!(
            "{}: the metadata is empty but the disks hold {blobs} blobs: every copy of the \
             metadata was lost. Nothing was removed; see `seedbed object --store DIR repair`",
            self.root.display()
        )))
    }

    /// Compare the metadata copies (a store opened with [`super::lsm_meta::open_replicated`])
    /// and, with `heal`, rebuild each that differs or is out of service. `None` when the
    /// metadata has one copy.
    pub fn verify_metadata(
        &self,
        heal: bool,
    ) -> Result<Option<super::replicated::VerifyReport>, ObjectError> {
        let _g = self.lock_commit();
        self.meta.verify_copies(heal).map_err(ObjectError::from)
    }

    /// Read and check `store.json`.
    pub fn read_layout(fs: &dyn io::Fs, root: &Path) -> Result<Layout, ObjectError> {
        let path = root.join(LAYOUT_FILE);
        let bytes = io::read_file(fs, &path).map_err(|e| {
            if e.is_not_found() {
                ObjectError::InvalidArgument(format!(
                    "{} is not an object store (no {LAYOUT_FILE}); create one first",
                    root.display()
                ))
            } else {
                e.into()
            }
        })?;
        let layout: Layout = serde_json::from_slice(&bytes)
            .map_err(LayoutError::Parse)
            .and_then(|l: Layout| l.validate().map(|()| l))
            .map_err(|source| ObjectError::BadLayout {
                path: path.clone(),
                source,
            })?;
        let mut layout = layout;
        // Format 2: a relative disk is inside the store's directory. Format 1 stores recorded
        // their default disks relative to the directory `init` ran in (`./data/disk0`), which
        // keeps that meaning.
        if layout.format_version >= 2 {
            for d in layout.disks.iter_mut().filter(|d| d.is_relative()) {
                *d = root.join(&*d);
            }
        }
        Ok(layout)
    }

    fn assemble(
        fs: FsHandle,
        root: &Path,
        blobs: BlobStore,
        meta: Arc<dyn MetaStore>,
        clock: ClockHandle,
        rng: DetRng,
        options: StoreOptions,
    ) -> Self {
        ObjectStore {
            fs,
            root: root.to_path_buf(),
            blobs,
            meta,
            clock,
            options,
            rng: Mutex::new(rng),
            seq: Mutex::new(None),
            seq_stored: Mutex::new(None),
            gate: CommitGate::default(),
            gc_lock: RwLock::new(()),
            pins: Pins::default(),
            master_key: Mutex::new(None),
            space_groups: Mutex::default(),
        }
    }

    /// The SSE-S3 master key: read from [`MASTER_KEY_FILE`], or — for a write (`make`) —
    /// made from the OS generator and written durably. A read never makes one: a missing file
    /// is an error naming it, not a fresh key that opens nothing. Losing the file loses every
    /// SSE-S3 and SSE-KMS object's data (the built-in KMS's keys derive from it, `kms.rs`);
    /// it is readable by the store's owner only.
    pub(super) fn master_key(&self, make: bool) -> Result<Key, ObjectError> {
        let mut held = self.master_key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = held.as_ref() {
            return Ok(k.clone());
        }
        let path = self.root.join(MASTER_KEY_FILE);
        let exists = self.fs.exists(&path)?;
        if !exists && !make {
            return Err(ObjectError::Internal(format!(
                "{}: the SSE-S3 master key is missing, so SSE-S3 and SSE-KMS objects cannot be \
                 decrypted (restore the file from a backup of the store)",
                path.display()
            )));
        }
        let key = if exists {
            let bytes = io::read_file(&*self.fs, &path)?;
            Key::from_bytes(&bytes).ok_or_else(|| {
                ObjectError::Internal(format!(
                    "{}: an SSE-S3 master key is 32 bytes; this file has {}",
                    path.display(),
                    bytes.len()
                ))
            })?
        } else {
            let key = Key::random()?;
            io::write_file_durable(&*self.fs, &path, key.bytes())?;
            // On a real file system, keep it from other users (the simulated one has no modes).
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            key
        };
        *held = Some(key.clone());
        Ok(key)
    }

    /// The store's layout.
    pub fn layout(&self) -> &Layout {
        self.blobs.layout()
    }

    /// Each disk's directory and state (`blob/disk_id.rs`), from one look at all of them.
    /// [`DiskState::Gone`] and [`DiskState::NotMounted`] take no shard until someone acts: GETs
    /// read around them and PUTs are written past them (`blob/degraded.rs`) until the disk is
    /// back and scrub rebuilds them; [`DiskState::New`] is formatted and rebuilt by the next
    /// scrub; a disk that fails its I/O is reported by [`Self::disk_failures`].
    pub fn disk_states(&self) -> Result<Vec<(std::path::PathBuf, DiskState)>, ObjectError> {
        let states = self.blobs.disk_states()?;
        Ok(self.layout().disks.iter().cloned().zip(states).collect())
    }

    /// The disks that are gone or not mounted, or have another disk at their path, with which
    /// ([`Self::disk_states`]).
    pub fn missing_disks(&self) -> Result<Vec<(std::path::PathBuf, DiskState)>, ObjectError> {
        let mut states = self.disk_states()?;
        states.retain(|(_, s)| s.is_absent() && *s != DiskState::New);
        Ok(states)
    }

    /// The disks the next scrub will format and rebuild ([`Self::disk_states`]): new disks
    /// mounted in place of dead ones, or plain directories made again.
    pub fn new_disks(&self) -> Result<Vec<std::path::PathBuf>, ObjectError> {
        let states = self.disk_states()?;
        Ok(states
            .into_iter()
            .filter_map(|(d, s)| (s == DiskState::New).then_some(d))
            .collect())
    }

    /// Check the disks' identity files and format the ones the store may take
    /// (`blob/disk_id.rs`): when the store opens, and when a healing scrub starts.
    pub(super) fn check_disks(&self) -> Result<DiskCheck, ObjectError> {
        Ok(self
            .blobs
            .check_disks(|| self.new_uuid().hyphenated().to_string())?)
    }

    /// The disks that failed a shard's write since the last call, with how many shards they
    /// cost: writes went on without them (`blob/degraded.rs`), and scrub puts the shards back
    /// once the disk works.
    pub fn disk_failures(&self) -> Vec<crate::object::blob::DiskFailure> {
        self.blobs.disk_failures()
    }

    /// Whether disk `disk` (its index in the layout) works: a small file written, synced, read
    /// back and removed in its directory (`BlobStore::probe_disk`). A server asks this of a
    /// disk that failed writes, and scrubs once it works again.
    pub fn probe_disk(&self, disk: usize) -> Result<(), ObjectError> {
        Ok(self.blobs.probe_disk(disk)?)
    }

    /// The file system the store runs on.
    pub fn fs(&self) -> &FsHandle {
        &self.fs
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The blob layer (for inspection and fault tests).
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The commit lock, once no commit is in flight: for every change but a write to one key.
    pub(super) fn lock_commit(&self) -> MutexGuard<'_, ()> {
        self.gate.lock_all()
    }

    /// The commit lock for a write to `bucket`/`key`, once no commit of that key is in flight;
    /// the write ends with [`ObjectStore::commit_key`].
    pub(super) fn lock_key(&self, bucket: &str, key: &str) -> MutexGuard<'_, ()> {
        self.gate.lock_key(&(bucket.to_string(), key.to_string()))
    }

    /// Commit `ops`, a write to `bucket`/`key` checked under `lock` ([`Self::lock_key`]):
    /// submitted under it, then waited for without it, so that the commits of other keys
    /// submitted meanwhile share its write and sync (`commit_gate.rs`). Durable on return (if the
    /// store syncs).
    pub(super) fn commit_key(
        &self,
        lock: MutexGuard<'_, ()>,
        bucket: &str,
        key: &str,
        ops: meta::Ops,
    ) -> Result<(), ObjectError> {
        let in_flight = self.gate.enter((bucket.to_string(), key.to_string()));
        let submitted = self.meta.submit(ops, self.options.sync);
        drop(lock);
        let result = self.meta.wait(submitted);
        drop(in_flight);
        result.map_err(ObjectError::from)
    }

    /// Now, in Unix milliseconds, from the engine's clock.
    pub(super) fn now_ms(&self) -> u64 {
        self.clock.unix_millis()
    }

    /// Now on the store's clock, Unix milliseconds (the simulator's virtual time under
    /// simulation): what lifecycle days and retention dates are counted against.
    pub fn clock_ms(&self) -> u64 {
        self.now_ms()
    }

    /// A fresh UUIDv7: time-ordered from the engine clock, the rest from the seeded RNG.
    pub(super) fn new_uuid(&self) -> uuid::Uuid {
        let mut random = [0u8; 10];
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(&mut random);
        uuid::Builder::from_unix_timestamp_millis(self.now_ms(), &random).into_uuid()
    }

    /// A fresh blob id.
    pub(super) fn new_data_id(&self) -> DataId {
        DataId(*self.new_uuid().as_bytes())
    }

    /// Reserve the next sequence number; the commit that uses it carries [`Self::seq_op`].
    /// Numbers are handed out in order but may be committed out of order (a PUT takes its
    /// number after writing its data, a few milliseconds before its commit); a number never
    /// committed is skipped.
    pub(super) fn next_seq(&self) -> Result<u64, ObjectError> {
        let mut last = self.seq.lock().unwrap_or_else(|p| p.into_inner());
        let next = match *last {
            Some(n) => n + 1,
            None => self.stored_seq()? + 1,
        };
        *last = Some(next);
        Ok(next)
    }

    /// The sequence counter as committed (0 before the first commit).
    fn stored_seq(&self) -> Result<u64, ObjectError> {
        Ok(match self.meta_get(meta::SEQ_KEY)? {
            Some(b) if b.len() == 8 => u64::from_be_bytes(b.try_into().expect("8 bytes")),
            Some(b) => {
                let detail = format!("the sequence counter is {} bytes, not 8", b.len());
                return Err(MetaError::corrupt(meta::SEQ_KEY, detail).into());
            }
            None => 0,
        })
    }

    /// The counter update for a commit that uses `seq`, under the commit lock: the larger of
    /// `seq` and the counter the commits before it stored, so that a number committed late
    /// never lowers it (a restart continues after every number committed). Kept in memory:
    /// the commits before it may still be in flight, not yet in `#seq` — and only this store
    /// writes `#seq` while it is open.
    pub(super) fn seq_op(&self, seq: u64) -> Result<(Vec<u8>, Option<Vec<u8>>), ObjectError> {
        let mut stored = self.seq_stored.lock().unwrap_or_else(|p| p.into_inner());
        let before = match *stored {
            Some(n) => n,
            None => self.stored_seq()?,
        };
        let n = seq.max(before);
        *stored = Some(n);
        Ok((meta::SEQ_KEY.to_vec(), Some(n.to_be_bytes().to_vec())))
    }

    pub(super) fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ObjectError> {
        self.meta.get(key).map_err(ObjectError::from)
    }

    pub(super) fn meta_commit(
        &self,
        ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), ObjectError> {
        self.meta
            .commit(ops, self.options.sync)
            .map_err(ObjectError::from)
    }

    pub(super) fn meta_scan(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<meta::Rows, ObjectError> {
        self.meta.scan(start, end, limit).map_err(ObjectError::from)
    }

    /// Visit every entry in `[start, end)` in key order, reading the metadata engine in bounded
    /// chunks.
    pub(super) fn scan_all(
        &self,
        start: &[u8],
        end: &[u8],
        visit: impl FnMut(&[u8], &[u8]) -> Result<(), ObjectError>,
    ) -> Result<(), ObjectError> {
        self.scan_all_in(None, start, end, visit)
    }

    /// [`Self::scan_all`] through `view` (a snapshot of the metadata) when there is one, else
    /// through the store as it is.
    pub(super) fn scan_all_in(
        &self,
        view: Option<&dyn MetaSnapshot>,
        start: &[u8],
        end: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<(), ObjectError>,
    ) -> Result<(), ObjectError> {
        const CHUNK: usize = 512;
        let mut next = start.to_vec();
        loop {
            let rows = match view {
                Some(v) => v.scan(&next, end, CHUNK)?,
                None => self.meta_scan(&next, end, CHUNK)?,
            };
            let done = rows.len() < CHUNK;
            for (k, v) in &rows {
                visit(k, v)?;
            }
            match rows.into_iter().last() {
                Some((mut k, _)) if !done => {
                    k.push(0);
                    next = k;
                }
                _ => return Ok(()),
            }
        }
    }

    /// A bucket's record, or NoSuchBucket.
    pub fn bucket(&self, name: &str) -> Result<BucketMeta, ObjectError> {
        let key = meta::bucket_key(name);
        match self.meta_get(&key)? {
            Some(b) => meta::from_json(&key, &b).map_err(ObjectError::from),
            None => Err(ObjectError::NoSuchBucket(name.to_string())),
        }
    }

    /// Create a bucket (S3 CreateBucket).
    pub fn create_bucket(&self, name: &str) -> Result<BucketMeta, ObjectError> {
        self.create_bucket_with(name, &NewBucket::default())
    }

    /// Create a bucket owned by `new.owner`, with its ACL and object ownership. A bucket of that
    /// name owned by the same account answers BucketAlreadyOwnedByYou, one owned by another
    /// account BucketAlreadyExists.
    pub fn create_bucket_with(
        &self,
        name: &str,
        new: &NewBucket,
    ) -> Result<BucketMeta, ObjectError> {
        validate_bucket(name)?;
        // Shared GC lock: the bucket's data-side record is written before the commit.
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let _g = self.lock_commit();
        if let Some(v) = self.meta_get(&meta::bucket_key(name))? {
            let old: BucketMeta =
                meta::from_json(&meta::bucket_key(name), &v).map_err(ObjectError::from)?;
            let same = match (&old.owner, &new.owner) {
                (Some(a), Some(b)) => a.account == b.account,
                _ => true,
            };
            return Err(if same {
                ObjectError::BucketAlreadyExists(name.to_string())
            } else {
                ObjectError::BucketAlreadyExistsElsewhere(name.to_string())
            });
        }
        let mut b = BucketMeta {
            name: name.to_string(),
            created_ms: self.now_ms(),
            versioning: if new.object_lock {
                Versioning::Enabled
            } else {
                Versioning::Unversioned
            },
            policy: None,
            owner: new.owner.clone(),
            acl: new.acl.clone(),
            ownership: new.ownership,
            public_access_block: None,
            tags: Vec::new(),
            location: new.location.clone(),
            object_lock: new
                .object_lock
                .then(super::object_lock::ObjectLockConfig::default),
            cors: Vec::new(),
            lifecycle: Vec::new(),
            logging: None,
            default_encryption: None,
            sse_c_blocked: false,
            settings_blob: None,
            settings_gen: 0,
        };
        if let Some(acl) = &b.acl {
            check_acl_allowed(&b, acl)?;
        }
        self.commit_bucket(&mut b, Vec::new())?;
        Ok(b)
    }

    /// Delete an empty bucket (S3 DeleteBucket): no object versions or delete markers. As on
    /// S3, multipart uploads still in progress do not keep a bucket alive: they are aborted
    /// (their records go in the same commit; their parts' data is freed after it).
    pub fn delete_bucket(&self, name: &str) -> Result<(), ObjectError> {
        let freed = {
            let _g = self.lock_commit();
            let b = self.bucket(name)?;
            let any_object = !self
                .meta_scan(&meta::objects_start(name), &meta::objects_end(name), 1)?
                .is_empty();
            if any_object {
                return Err(ObjectError::BucketNotEmpty(name.to_string()));
            }
            let mut uploads_end = meta::uploads_start(name);
            *uploads_end.last_mut().expect("non-empty") = 1;
            let mut ops = vec![(meta::bucket_key(name), None)];
            let mut freed = Vec::new();
            // Its data-side record goes after the commit (a crash between leaves an orphan).
            if let Some(data_id) = b.settings_blob {
                freed.push(meta::Segment {
                    data_id,
                    size: 0,
                    part_number: None,
                    checksum: None,
                    sealed_key: None,
                });
            }
            self.scan_all(&meta::uploads_start(name), &uploads_end, |k, _| {
                ops.push((k.to_vec(), None));
                Ok(())
            })?;
            // The records of completed uploads (they answer retried completions).
            let done_start = meta::completed_key(name, "");
            let mut done_end = done_start.clone();
            *done_end.last_mut().expect("non-empty") = 1;
            self.scan_all(&done_start, &done_end, |k, _| {
                ops.push((k.to_vec(), None));
                Ok(())
            })?;
            // Every part of every upload of the bucket: `P` bucket `00` ... up to `P` bucket `01`.
            let mut parts_start = vec![b'P'];
            parts_start.extend_from_slice(name.as_bytes());
            let mut parts_end = parts_start.clone();
            parts_start.push(0);
            parts_end.push(1);
            self.scan_all(&parts_start, &parts_end, |k, v| {
                let p: meta::PartMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
                freed.push(meta::Segment {
                    data_id: p.data_id,
                    size: p.size,
                    part_number: None,
                    checksum: None,
                    sealed_key: None,
                });
                ops.push((k.to_vec(), None));
                Ok(())
            })?;
            self.meta_commit(ops)?;
            freed
        };
        self.free_segments(&freed);
        Ok(())
    }

    /// Every bucket, by name (S3 ListBuckets).
    pub fn list_buckets(&self) -> Result<Vec<BucketMeta>, ObjectError> {
        let rows = self.meta_scan(b"B", b"C", usize::MAX)?;
        rows.iter()
            .map(|(k, v)| meta::from_json(k, v).map_err(ObjectError::from))
            .collect()
    }

    /// Turn versioning on (`true`: Enabled) or off (`false`: Suspended) for a bucket (S3
    /// PutBucketVersioning). A bucket never returns to Unversioned; suspending a bucket that was
    /// never versioned makes it Suspended too, as on S3 (its DELETEs then leave `null` delete
    /// markers).
    pub fn set_versioning(&self, name: &str, enabled: bool) -> Result<BucketMeta, ObjectError> {
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let _g = self.lock_commit();
        let mut b = self.bucket(name)?;
        if !enabled && b.object_lock.is_some() {
            return Err(ObjectError::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                    .into(),
            ));
        }
        b.versioning = if enabled {
            Versioning::Enabled
        } else {
            Versioning::Suspended
        };
        self.commit_bucket(&mut b, Vec::new())?;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::io::posix::PosixFs;

    /// A commit in flight has not reached `#seq` yet: a commit of a smaller number that checks
    /// meanwhile must still store the larger one, or a group ending with it would lower the
    /// counter and a restart would hand out a number already used.
    #[test]
    fn the_stored_counter_never_goes_back_while_commits_are_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            super::super::on_disk::create(Arc::new(PosixFs::new()), dir.path(), 2, 1, 4096, None)
                .unwrap();
        let (a, b) = (store.next_seq().unwrap(), store.next_seq().unwrap());
        assert!(a < b);
        let stored =
            |op: (Vec<u8>, Option<Vec<u8>>)| u64::from_be_bytes(op.1.unwrap().try_into().unwrap());
        // `b`'s commit is submitted (not yet written); `a`'s is checked after it.
        assert_eq!(stored(store.seq_op(b).unwrap()), b);
        assert_eq!(stored(store.seq_op(a).unwrap()), b);
    }
}
