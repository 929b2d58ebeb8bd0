//! Object data on disk: one blob per PUT (or multipart part), striped over K + M shard files —
//! or, for a small blob, written as one record at the same offset of K + M pack files
//! (`pack.rs`). Either way each shard carries the same header, blocks and trailer.
//!
//! A blob is identified by a data id (a UUID) and knows nothing of buckets or keys; the store
//! above maps (bucket, key, version) to blobs in its metadata. Blobs are immutable: an overwrite
//! writes a new blob, commits the metadata that points to it, and only then deletes the old one,
//! so a crash at any point leaves either the old or the new object visible, never a mixture.
//!
//! Write path ([`write`]): for each stripe, read K × shard_len bytes of input, hash them (MD5 for
//! the ETag, SHA-256 for the checksum), compute M parity shards, CRC every shard, and write all
//! K + M shard blocks in **one batched submission** through the I/O layer; the last one carries
//! the checksum trailer. Then `sync_data` on every file and `sync_dir` on every directory that
//! gained an entry.
//!
//! Read path: read only the data shards a range touches (one batch per stripe), check each CRC;
//! if any is missing, unreadable or corrupt, read the rest of the stripe, rebuild from parity,
//! check the rebuilt shard against its recorded CRC, and return the exact bytes. More than M bad
//! shards in a stripe is an error naming the stripe and each bad shard — never wrong bytes.
//!
//! Blobs with shard files of their own (the ones a PUT writes with direct I/O) are read with
//! direct I/O too, unless the store says otherwise ([`BlobStore::set_direct_reads`]): no copy
//! through the page cache, and a GET of a cold object does not push hot ones out of it. A
//! `Vec<u8>` cannot be allocated 4096-aligned and still be freed as a `Vec`, so each shard
//! buffer is allocated 4 KiB longer than the block and the read goes to the aligned window
//! inside it ([`ShardBuf`]); the window covers the block rounded out to 4096-byte boundaries
//! (the last stripe's block runs into the trailer, which the file holds). A file system that
//! refuses `O_DIRECT` (tmpfs before Linux 6.6) is found on the first open and the page cache used from then on;
//! pack records (small blobs, at unaligned offsets, often hot) always go through the page
//! cache, read through pack files the store keeps open (`pack_readers.rs`). Direct reads have
//! no kernel read-ahead behind them, so the reader provides its own: a
//! stripe's reads go out together (one uring submission, or a thread per read on `std`), and the
//! next stripe's batch is read by a helper thread while this one is checked, rebuilt and handed
//! out (not on the simulator, which allows no threads); a stripe whose wanted data shard's file
//! is gone reads the shards its rebuild needs in that same first batch. Shard buffers are kept from stripe to stripe and from one read to the next, and are
//! never zeroed again once allocated: every read and every rebuild overwrites the bytes it hands
//! out (a short read is an error, not a block).
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::cast::usize_of;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

mod degraded;
mod disk_id;
mod pack;
mod pack_readers;
mod pack_sync;
mod pipeline;
mod write;

pub use degraded::DiskFailure;
pub(crate) use disk_id::{copy_check, copy_refusal};
pub use disk_id::{store_id_from, DiskCheck, DiskState, DISK_ID_FILE, PROBE_FILE};
pub use pack::{PackPlace, DESC_SLOT_MIN, PACK_BLOB_MAX, PACK_LIMIT};
pub use pipeline::PipelineStats;

use super::erasure::Codec;
use super::layout::{Layout, Stripe};
use super::shard::{
    crc32, ChecksumTable, Description, ShardHeader, CURRENT_VERSION, DESC_OVERHEAD, HEADER_BYTES,
    HEADER_LEN,
};
use crate::io::{
    AlignedBuf, BackendKind, File, FileHandle, FsHandle, IoError, IoOp, OpenOptions,
    DIRECT_IO_ALIGN,
};

/// A blob's identity: 16 bytes (a UUID), printed as 32 hex digits. A UUIDv7 names a blob with
/// shard files of its own; a UUIDv8 names a record in a pack and says where it is
/// ([`DataId::pack_place`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataId(pub [u8; 16]);

impl DataId {
    /// Hex form, as used in file names.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse the hex form.
    pub fn from_hex(s: &str) -> Option<DataId> {
        if s.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(DataId(out))
    }
}

impl fmt::Display for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// What went wrong with a blob.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The I/O layer failed in a way no parity can mask (for example while writing).
    #[error(transparent)]
    Io(#[from] IoError),
    /// Reading the caller's input failed.
    #[error("reading the object's input: {0}")]
    Source(#[source] std::io::Error),
    /// The input ended before the declared size.
    #[error("the object's input ended after {got} bytes; {expected} were declared")]
    SourceTooShort {
        /// Declared size.
        expected: u64,
        /// Bytes the input had.
        got: u64,
    },
    /// Writing to the caller's output failed.
    #[error("writing the object's output: {0}")]
    Sink(#[source] std::io::Error),
    /// More shards of a stripe are bad than parity can repair.
    #[error("stripe {stripe}: cannot reconstruct: {detail}")]
    Unrecoverable {
        /// Stripe number.
        stripe: u64,
        /// Which shards were bad and why, and what was needed.
        detail: String,
    },
    /// A blob's description could not be written to enough of its shards (a PUT, or scrub
    /// writing it again): each shard that failed, and why.
    #[error(
        "writing the blob's description: it reached {reached} of {width} shards, fewer than \
         the {needed} it needs: {detail}"
    )]
    DescriptionShort {
        /// Shards written.
        reached: usize,
        /// K + M.
        width: usize,
        /// Shards it must reach.
        needed: usize,
        /// Each failed shard and why.
        detail: String,
    },
    /// Fewer than K disks are there, or working, to take the blob's shards (`degraded.rs`):
    /// nothing was written.
    #[error(
        "only {reached} of the {width} disks can take a shard, fewer than the {needed} a write \
         needs; absent: {}", absent.join(", ")
    )]
    TooFewDisks {
        /// Disks that took their shard.
        reached: usize,
        /// K + M.
        width: usize,
        /// K.
        needed: usize,
        /// Each absent disk's directory and why: gone, or failing (with its last error).
        absent: Vec<String>,
    },
    /// A description longer than the slot its pack record reserved for it.
    #[error(
        "the blob's description ({len} bytes) does not fit its pack record's slot ({room} bytes)"
    )]
    DescriptionTooLong {
        /// The encoded description's length.
        len: usize,
        /// The slot's.
        room: u64,
    },
    /// The Reed-Solomon encoder refused a stripe's shards.
    #[error("stripe {stripe}: cannot reconstruct: encoding failed: {source}")]
    Encode {
        /// Stripe number.
        stripe: u64,
        /// The codec's error.
        #[source]
        source: crate::object::erasure::ErasureError,
    },
    /// The disks' identity files say a disk is not where the layout puts it, or is
    /// unreadable (`disk_id.rs`).
    #[error("{0}")]
    DiskIdentity(String),
    /// A disk failed [`BlobStore::probe_disk`] in a way its I/O did not report.
    #[error("{}: {detail}", disk.display())]
    DiskProbe {
        /// The disk's directory.
        disk: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// No shard file of the blob has a readable checksum trailer.
    #[error("no readable checksum table in any shard file: {detail}")]
    NoChecksumTable {
        /// Why each file's trailer was rejected.
        detail: String,
    },
}

impl BlobError {
    /// The S3 error code of a store error made of this one: `ServiceUnavailable` when too
    /// many disks are missing to write (it passes once they are back), else `InternalError`.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::TooFewDisks { .. } => "ServiceUnavailable",
            _ => "InternalError",
        }
    }
}

/// Digests of a blob's content, computed while writing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobDigest {
    /// Bytes written.
    pub size: u64,
    /// MD5 of the content (S3's ETag of a single-part object).
    pub md5: [u8; 16],
    /// SHA-256 of the content (reported as the object's checksum).
    pub sha256: [u8; 32],
}

/// What a read or a verify found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlobHealth {
    /// Stripes that needed parity to read.
    pub stripes_degraded: u64,
    /// Shard blocks found missing, unreadable or corrupt: `(stripe, shard, reason)`.
    pub bad_blocks: Vec<(u64, usize, String)>,
    /// Shards rewritten by a heal (their shard files, or their records of a pack), by index.
    pub files_healed: Vec<usize>,
    /// Bad shards a heal left, by index: their disk is absent (gone, not mounted or not
    /// formatted: `disk_id.rs`), so there is nowhere to put them yet.
    pub absent: Vec<usize>,
}

/// Why one shard block could not be used.
fn describe(stripe: u64, shard: usize, why: &str) -> (u64, usize, String) {
    (stripe, shard, why.to_string())
}

/// Reads and writes blobs through the I/O layer.
#[derive(Debug)]
pub struct BlobStore {
    fs: FsHandle,
    layout: Layout,
    /// Whether large blobs may be written with direct I/O: cleared on the first PUT that finds
    /// the file system refuses it (tmpfs).
    direct_ok: AtomicBool,
    /// Large aligned buffers kept from one PUT to the next (see `write.rs`).
    buffers: Mutex<Vec<AlignedBuf>>,
    /// Fan-out directories whose entries this store has seen synced (see `open_new_shard`).
    durable_fanouts: Mutex<BTreeSet<PathBuf>>,
    /// Whether and where small blobs are appended (see `pack.rs`); decided on the first one.
    packs: Mutex<pack::Packing>,
    /// Each pack's group sync (see `pack_sync.rs`), made on first use.
    pack_syncs: Mutex<BTreeMap<u32, Arc<pack_sync::PackSync>>>,
    /// Disks that failed a shard's write since the last report, by index: shards dropped and
    /// the last error (`degraded.rs`).
    disk_failures: Mutex<BTreeMap<usize, (u64, String)>>,
    /// Blobs just written without some of their shards (bit `i`: shard `i` absent), until
    /// their description is written: a file of an absent shard may still be there (a pack
    /// made without a failing disk still has its file there; a dropped shard file its disk
    /// would not remove) and must neither take the description nor count (`degraded.rs`).
    absent_shards: Mutex<BTreeMap<DataId, u32>>,
    /// Bytes a pack takes before the next is started.
    pack_limit: u64,
    /// Where pipelined PUTs spent their time (see `pipeline.rs`).
    stats: Mutex<PipelineStats>,
    /// Whether reads of blobs with shard files of their own are asked to use direct I/O.
    direct_reads: AtomicBool,
    /// Cleared on the first read that finds the file system refuses direct I/O.
    direct_reads_ok: AtomicBool,
    /// Shard buffers kept from one read to the next (see [`BufPool`]).
    read_buffers: Mutex<Vec<Vec<u8>>>,
    /// Pack files kept open for reads (see `pack_readers.rs`).
    pack_readers: pack_readers::PackReaders,
    /// The store's directory, whose file system a disk on one of its own differs from
    /// (`disk_id.rs`); `None` for a blob store alone (then each disk's parent directory).
    root: Option<PathBuf>,
    /// The store's id, from the disks' identity files once checked (`disk_id.rs`): the write
    /// paths refuse a disk whose file names another.
    store_id: OnceLock<String>,
    /// Disks the last look found foreign (bit `i`: disk `i`; `disk_id.rs`): the pack being
    /// appended to is left for one without them (`pack.rs`).
    foreign_disks: AtomicU32,
    /// The identity files last found to be the store's (`disk_id.rs`).
    verified_ids: disk_id::VerifiedIds,
}

/// Where one shard of a blob is: a shard file of its own, or a record of a pack file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardLocation {
    /// The file.
    pub path: PathBuf,
    /// Where in it the shard's parts are.
    pub frame: ShardFrame,
}

/// Where a shard's parts are in its file: the header at `start`, then `header_len` on the
/// stripe blocks one after another (`shard_len_max` apart), then the trailer. A shard file has
/// `start` 0 and the header padded to a 4096-byte block (for direct I/O); a pack record starts
/// at its offset in the pack and has the 64-byte header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardFrame {
    /// Where the header starts.
    pub start: u64,
    /// Bytes from the header's start to the first stripe block.
    pub header_len: u64,
}

impl ShardFrame {
    /// The frame of blob `id`'s shards.
    pub fn of(id: &DataId) -> Self {
        match id.pack_place() {
            Some(p) => ShardFrame {
                start: p.offset,
                header_len: HEADER_BYTES,
            },
            None => ShardFrame {
                start: 0,
                header_len: HEADER_LEN,
            },
        }
    }

    /// Where the shard block of `stripe` starts.
    pub fn block(&self, stripe: &Stripe) -> u64 {
        // `file_offset` is where the block sits in a shard file, after a HEADER_LEN header.
        self.start + self.header_len + (stripe.file_offset - HEADER_LEN)
    }

    /// Where the trailer starts, after `shard_data_len` bytes of stripe blocks.
    pub fn trailer(&self, shard_data_len: u64) -> u64 {
        self.start + self.header_len + shard_data_len
    }
}

impl BlobStore {
    /// Blobs on `layout.disks`, through `fs`.
    pub fn new(fs: FsHandle, layout: Layout) -> Self {
        BlobStore {
            fs,
            layout,
            direct_ok: AtomicBool::new(true),
            buffers: Mutex::new(Vec::new()),
            durable_fanouts: Mutex::new(BTreeSet::new()),
            packs: Mutex::new(pack::Packing::Unopened),
            pack_syncs: Mutex::new(BTreeMap::new()),
            disk_failures: Mutex::new(BTreeMap::new()),
            absent_shards: Mutex::new(BTreeMap::new()),
            pack_limit: PACK_LIMIT,
            stats: Mutex::new(PipelineStats::default()),
            direct_reads: AtomicBool::new(true),
            direct_reads_ok: AtomicBool::new(true),
            read_buffers: Mutex::new(Vec::new()),
            pack_readers: pack_readers::PackReaders::default(),
            root: None,
            store_id: OnceLock::new(),
            foreign_disks: AtomicU32::new(0),
            verified_ids: disk_id::VerifiedIds::default(),
        }
    }

    /// The store's directory `root`: a disk on another file system than it is one of its own
    /// (a mount point), which its identity file records (`disk_id.rs`).
    pub fn with_store_root(mut self, root: &std::path::Path) -> Self {
        self.root = Some(root.to_path_buf());
        self
    }

    /// Read blobs with shard files of their own with direct I/O (`true`, the default) or
    /// through the page cache.
    pub fn with_direct_reads(self, on: bool) -> Self {
        self.set_direct_reads(on);
        self
    }

    /// Switch direct-I/O reads on or off for the reads that start from now on.
    pub fn set_direct_reads(&self, on: bool) {
        self.direct_reads.store(on, Ordering::Relaxed);
    }

    /// Whether reads of blobs with shard files of their own go direct now: asked for, on a
    /// backend that reads through file descriptors (`mmap` maps the page cache), and not
    /// refused by the file system (tmpfs before Linux 6.6 refuses `O_DIRECT`; the first read
    /// that finds out falls back to the page cache for good).
    pub fn direct_reads(&self) -> bool {
        self.direct_reads.load(Ordering::Relaxed)
            && self.direct_reads_ok.load(Ordering::Relaxed)
            && self.fs.kind() != BackendKind::Mmap
    }

    /// Start a new pack once one holds `bytes` (default [`PACK_LIMIT`], 1 GiB). Smaller packs
    /// mean more files; larger ones, longer scans of one file.
    pub fn with_pack_limit(mut self, bytes: u64) -> Self {
        self.pack_limit = bytes.max(1);
        self
    }

    /// The store's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The directory holding shard `shard` of blobs whose id starts with `prefix`.
    fn shard_dir(&self, shard: usize, id: &DataId) -> PathBuf {
        self.layout.disks[shard]
            .join("blobs")
            .join(format!("{:02x}", id.0[0]))
    }

    /// Path of shard file `shard` of a blob with files of its own.
    fn shard_path(&self, id: &DataId, shard: usize) -> PathBuf {
        self.shard_dir(shard, id)
            .join(format!("{}.{shard}", id.hex()))
    }

    /// Where shard `shard` of blob `id` is on disk.
    pub fn shard_location(&self, id: &DataId, shard: usize) -> ShardLocation {
        let path = match id.pack_place() {
            Some(p) => self.pack_path(p.pack, shard),
            None => self.shard_path(id, shard),
        };
        ShardLocation {
            path,
            frame: ShardFrame::of(id),
        }
    }

    /// Create shard file `shard` of a new blob, on the store's own disk only, first making
    /// sure (once per store) that its fan-out directory exists and its entry is durable.
    fn open_new_shard(
        &self,
        id: &DataId,
        shard: usize,
        direct: bool,
    ) -> Result<FileHandle, BlobError> {
        let path = self.shard_path(id, shard);
        let opts = OpenOptions {
            direct,
            ..OpenOptions::create_new()
        };
        // Below a formatted disk's directory only, and that disk this store's: a disk that is
        // gone or not mounted is absent, not to be made again here, and one put in its place
        // is another's (`degraded.rs`, `disk_id.rs`). A `stat` of its identity file, and a read
        // when that file changed.
        if self.disk_absent(shard) {
            return Err(IoError::NotFound {
                op: "create shard file (its disk is gone, not mounted, not formatted, or \
                     another disk is at its path)",
                path: path.clone(),
            }
            .into());
        }
        let dir = self.shard_dir(shard, id);
        let known = self
            .durable_fanouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&dir);
        if !known {
            // Made now, or found: either way sync its entry once per store. Found is not
            // enough — an earlier PUT may have made it and failed that sync, leaving the entry
            // pending (and every file in it at the mercy of a crash).
            self.fs.create_dir_all(&dir)?;
            self.fs
                .sync_dir(dir.parent().expect("fan-out dir has a parent"))?;
            self.durable_fanouts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(dir);
        }
        Ok(self.fs.open(&path, opts)?)
    }

    /// The blob's shard files, each opened when first needed: with direct I/O for a blob with
    /// files of its own when [`BlobStore::direct_reads`] says so; a pack's through the handles
    /// the store keeps (`pack_readers.rs`).
    fn open_shards(&self, id: &DataId) -> ShardFiles<'_> {
        ShardFiles {
            store: self,
            id: *id,
            frame: ShardFrame::of(id),
            direct: id.pack_place().is_none() && self.direct_reads(),
            kept: true,
            cells: (0..self.layout.width()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// As [`BlobStore::open_shards`], but every file opened afresh: what scrub checks is the
    /// disks as they are now, not what a kept handle still reaches.
    fn open_shards_afresh(&self, id: &DataId) -> ShardFiles<'_> {
        ShardFiles {
            kept: false,
            ..self.open_shards(id)
        }
    }

    /// A reader's codec and shard buffers, the buffers from those the last reads kept.
    fn work(&self) -> Work {
        let mut kept = self.read_buffers.lock().unwrap_or_else(|p| p.into_inner());
        // Enough for two stripes (one being handed out, the next being read ahead).
        let n = kept.len().min(READ_BUFFERS_KEPT * self.layout.width());
        let keep = kept.len() - n;
        let free = kept.split_off(keep);
        Work {
            codec: Codec::new(self.layout.k, self.layout.m),
            pool: BufPool { free },
        }
    }

    /// Keep a finished reader's large buffers for the next read (a fresh megabyte costs a
    /// page fault per 4 KiB, and zeroing).
    fn done(&self, work: Work) {
        let mut kept = self.read_buffers.lock().unwrap_or_else(|p| p.into_inner());
        let cap = READ_BUFFERS_KEPT * self.layout.width();
        for b in work.pool.free {
            if kept.len() >= cap {
                break;
            }
            if b.len() >= READ_BUFFER_KEPT_MIN {
                kept.push(b);
            }
        }
    }

    /// The checksum table, from the first shard file whose trailer is intact.
    fn read_table(
        &self,
        id: &DataId,
        size: u64,
        files: &ShardFiles<'_>,
    ) -> Result<ChecksumTable, BlobError> {
        let width = self.layout.width();
        let stripes = self.layout.stripe_count(size);
        let at = files.frame.trailer(self.layout.shard_data_len(size));
        let len = usize_of(ChecksumTable::trailer_len(width, stripes));
        let mut why = Vec::new();
        for i in 0..width {
            let f = match files.get(i) {
                Ok(f) => f,
                Err(e) => {
                    why.push(format!("shard {i}: {e}"));
                    continue;
                }
            };
            let buf = match read_exact_any(&**f, files.direct(i), at, len) {
                Ok(b) => b,
                Err(e) => {
                    why.push(format!("shard {i}: {e}"));
                    continue;
                }
            };
            match ChecksumTable::decode_trailer(
                &buf,
                width,
                stripes,
                &id.0,
                u32::try_from(i).expect("at most MAX_SHARDS (32) shards"),
            ) {
                Ok(t) => return Ok(t),
                Err(e) => why.push(format!("shard {i}: {e}")),
            }
        }
        Err(BlobError::NoChecksumTable {
            detail: why.join("; "),
        })
    }

    /// A pack record's checksum table from its first pack file's trailer, if that is in memory
    /// and intact ([`crate::io::File::read_cached`]); `None` sends the reader down the ordinary
    /// path ([`BlobStore::read_table`]), which waits for the device and reports what is wrong.
    fn read_table_cached(
        &self,
        id: &DataId,
        size: u64,
        files: &ShardFiles<'_>,
    ) -> Option<ChecksumTable> {
        // Only a pack record's: its trailer lies right after its one block, so the one in
        // memory means the other is. A shard file's trailer is at its end, far from the
        // stripes read first.
        id.pack_place()?;
        let width = self.layout.width();
        let stripes = self.layout.stripe_count(size);
        let at = files.frame.trailer(self.layout.shard_data_len(size));
        let mut buf = vec![0u8; usize_of(ChecksumTable::trailer_len(width, stripes))];
        // (Pack files are never opened direct, so a cached read is a valid read of them.)
        let (i, f) = (0..width).find_map(|i| files.get(i).ok().map(|f| (i, f)))?;
        if !f.read_cached(&mut buf, at) {
            return None;
        }
        let shard = u32::try_from(i).expect("at most MAX_SHARDS (32) shards");
        ChecksumTable::decode_trailer(&buf, width, stripes, &id.0, shard).ok()
    }

    /// Read shards `which` of `stripe` in one batch, into buffers from `pool` (at an aligned
    /// window inside each for a direct file); each comes back verified or with the reason it
    /// cannot be used.
    fn read_shards(
        &self,
        files: &ShardFiles<'_>,
        table: &ChecksumTable,
        stripe: &Stripe,
        which: &[usize],
        pool: &mut BufPool,
    ) -> Vec<(usize, Result<ShardBuf, String>)> {
        if which.is_empty() {
            return Vec::new();
        }
        let issued = self.issue_reads(files, Self::plan_reads(files, stripe, which, pool));
        Self::check_reads(files, table, stripe, issued, pool)
    }

    /// Buffers and offsets for reading shards `which` of `stripe` (those whose file opens).
    fn plan_reads(
        files: &ShardFiles<'_>,
        stripe: &Stripe,
        which: &[usize],
        pool: &mut BufPool,
    ) -> Planned {
        let len = usize_of(stripe.shard_len);
        let pos = files.frame.block(stripe);
        let plans = which
            .iter()
            .filter_map(|&i| {
                let file = files.get(i).ok()?.clone();
                Some((i, file, ReadPlan::new(pool, files.direct(i), pos, len)))
            })
            .collect();
        Planned {
            which: which.to_vec(),
            plans,
        }
    }

    /// Run planned reads as one batch (a thread of its own may run this: see
    /// [`BlobStore::read_range_chunks`]).
    fn issue_reads(&self, files: &ShardFiles<'_>, mut planned: Planned) -> Issued {
        let results = {
            let direct = planned.plans.iter().any(|(i, _, _)| files.direct(*i));
            let mut ops: Vec<IoOp<'_>> = planned
                .plans
                .iter_mut()
                .map(|(_, file, p)| IoOp::Read {
                    file: &**file,
                    offset: p.offset,
                    buf: &mut p.buf.buf[p.window.clone()],
                })
                .collect();
            // Direct reads have no read-ahead behind them: put the stripe's reads in flight
            // together (uring does in any case; `std` needs a thread each).
            if direct {
                crate::io::submit_concurrent(&*self.fs, &mut ops)
            } else {
                self.fs.submit(&mut ops)
            }
        };
        Issued { planned, results }
    }

    /// Check what a batch read: each shard verified, or the reason it cannot be used (a buffer
    /// that is no use goes back to `pool`).
    fn check_reads(
        files: &ShardFiles<'_>,
        table: &ChecksumTable,
        stripe: &Stripe,
        issued: Issued,
        pool: &mut BufPool,
    ) -> Vec<(usize, Result<ShardBuf, String>)> {
        let len = usize_of(stripe.shard_len);
        let Issued { planned, results } = issued;
        let mut out: Vec<(usize, Result<ShardBuf, String>)> = planned
            .which
            .iter()
            .filter_map(|&i| files.get(i).err().map(|e| (i, Err(e.clone()))))
            .collect();
        for ((i, _, plan), r) in planned.plans.into_iter().zip(results) {
            let need = plan.need();
            let problem = match r {
                Err(e) => Some(e.to_string()),
                Ok(n) if n < need => Some(format!(
                    "short read: {} of {len} bytes (truncated)",
                    n.saturating_sub(need - len)
                )),
                Ok(_) if crc32(plan.buf.bytes()) != table.get(stripe.index, i) => {
                    Some("CRC32 mismatch (corrupt block)".to_string())
                }
                Ok(_) => None,
            };
            match problem {
                None => out.push((i, Ok(plan.buf))),
                Some(why) => {
                    pool.give(plan.buf.buf);
                    out.push((i, Err(why)));
                }
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out
    }

    /// All K + M shards of a stripe, rebuilding bad ones from parity. `first` are shards already
    /// read. Bad blocks are recorded in `health`.
    fn complete_stripe(
        &self,
        work: &mut Work,
        files: &ShardFiles<'_>,
        table: &ChecksumTable,
        stripe: &Stripe,
        mut first: Vec<(usize, Result<ShardBuf, String>)>,
        health: &mut BlobHealth,
    ) -> Result<Vec<ShardBuf>, BlobError> {
        let width = self.layout.width();
        let len = usize_of(stripe.shard_len);
        let have: BTreeSet<usize> = first.iter().map(|(i, _)| *i).collect();
        let rest: Vec<usize> = (0..width).filter(|i| !have.contains(i)).collect();
        first.extend(self.read_shards(files, table, stripe, &rest, &mut work.pool));
        let mut slots: Vec<Option<ShardBuf>> = (0..width).map(|_| None).collect();
        let mut bad = Vec::new();
        for (i, r) in first {
            match r {
                Ok(b) => slots[i] = Some(b),
                Err(why) => bad.push(describe(stripe.index, i, &why)),
            }
        }
        if !bad.is_empty() {
            health.stripes_degraded += 1;
        }
        let missing: Vec<usize> = (0..width).filter(|&i| slots[i].is_none()).collect();
        let detail = |bad: &[(u64, usize, String)]| {
            bad.iter()
                .map(|(_, i, why)| format!("shard {i}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        // Rebuilt shards go into pooled buffers as they are: reconstruction writes every byte.
        let mut rebuilt: Vec<Vec<u8>> = missing.iter().map(|_| work.pool.take(len)).collect();
        {
            let present: Vec<Option<&[u8]>> = slots
                .iter()
                .map(|s| s.as_ref().map(ShardBuf::bytes))
                .collect();
            let mut outs: Vec<(usize, &mut [u8])> = missing
                .iter()
                .zip(rebuilt.iter_mut())
                .map(|(&r, b)| (r, &mut b[..len]))
                .collect();
            work.codec
                .reconstruct_into(&present, &mut outs)
                .map_err(|e| BlobError::Unrecoverable {
                    stripe: stripe.index,
                    detail: format!("{e} ({})", detail(&bad)),
                })?;
        }
        for (&i, buf) in missing.iter().zip(rebuilt) {
            let shard = ShardBuf { buf, at: 0, len };
            if crc32(shard.bytes()) != table.get(stripe.index, i) {
                return Err(BlobError::Unrecoverable {
                    stripe: stripe.index,
                    detail: format!(
                        "shard {i} rebuilt from parity does not match its recorded CRC32 \
                         (more corruption than the CRCs revealed): {}",
                        detail(&bad)
                    ),
                });
            }
            slots[i] = Some(shard);
        }
        health.bad_blocks.extend(bad);
        Ok(slots
            .into_iter()
            .map(|s| s.expect("read or rebuilt"))
            .collect())
    }

    /// Write object bytes `[start, end)` of a blob of `size` bytes to `out`. Returns what had to
    /// be repaired on the way (nothing is rewritten on disk: that is scrub's job).
    pub fn read_range(
        &self,
        id: &DataId,
        size: u64,
        start: u64,
        end: u64,
        out: &mut dyn Write,
    ) -> Result<BlobHealth, BlobError> {
        self.read_range_chunks(id, size, start, end, &mut CopyTo(out))
    }

    /// As [`BlobStore::read_range`], but each verified (or rebuilt) shard buffer is handed to
    /// `out` whole, with the part of it that holds the wanted bytes: a front end that sends
    /// buffers rather than bytes takes them without a copy.
    pub fn read_range_chunks(
        &self,
        id: &DataId,
        size: u64,
        start: u64,
        end: u64,
        out: &mut dyn ChunkSink,
    ) -> Result<BlobHealth, BlobError> {
        let mut health = BlobHealth::default();
        let range = self.layout.stripes_for_range(size, start, end);
        if range.is_empty() {
            return Ok(health);
        }
        let files = self.open_shards(id);
        let mut work = self.work();
        // For stripe `s`: the object bytes the caller wants, relative to the stripe, and the
        // data shards holding them.
        let wanted_of = |s: u64| {
            let stripe = self.layout.stripe(size, s);
            let len = stripe.shard_len;
            let lo = start.max(stripe.object_offset) - stripe.object_offset;
            let hi = end.min(stripe.object_offset + stripe.data_len) - stripe.object_offset;
            let wanted: Vec<usize> = (usize_of(lo / len)..usize_of(hi.div_ceil(len))).collect();
            (stripe, lo, hi, wanted)
        };
        // The first stripe's shards are read one file after another on a synchronous backend;
        // announce them all first so the device fetches them together (for a small object,
        // that is every read the GET makes), then read the checksum table. Unless the table
        // is in memory already: then the blob was written or read moments ago, the usual
        // small GET, and its blocks are almost surely there too — the announcements would be
        // K system calls of nothing, a tenth of such a GET.
        let (first_stripe, _, _, first_wanted) = wanted_of(range.start);
        let cached_table = self.read_table_cached(id, size, &files);
        if cached_table.is_none() {
            for &i in &first_wanted {
                if let Ok(f) = files.get(i) {
                    f.will_need(files.frame.block(&first_stripe), first_stripe.shard_len);
                }
            }
        }
        let width = self.layout.width();
        // What to read first for a stripe: the wanted data shards — or, when a wanted shard's
        // file is gone (a lost disk), every shard, so that what the rebuild needs comes in the
        // same batch rather than a second round trip.
        let batch_of = |wanted: &[usize]| -> Vec<usize> {
            if wanted.iter().any(|&i| files.get(i).is_err()) {
                (0..width).collect()
            } else {
                wanted.to_vec()
            }
        };
        // Read-ahead. Through the page cache, `will_need` has the kernel fetch the next stripe
        // while this one is checked, rebuilt and handed out; with direct I/O nothing would, so
        // a thread reads it (not on the simulator, which allows no threads).
        let ahead = files.direct && self.fs.kind() != BackendKind::Sim;
        let last = range.end - 1;
        let shared = &files;
        std::thread::scope(|scope| -> Result<(), BlobError> {
            let mut pending: Option<std::thread::ScopedJoinHandle<'_, Issued>> = None;
            if ahead {
                // The first stripe's reads go out while the checksum table is read.
                let planned = Self::plan_reads(
                    &files,
                    &first_stripe,
                    &batch_of(&first_wanted),
                    &mut work.pool,
                );
                pending = Some(scope.spawn(move || self.issue_reads(shared, planned)));
            }
            let table = match cached_table {
                Some(t) => t,
                None => self.read_table(id, size, &files)?,
            };
            for s in range {
                let (stripe, lo, hi, wanted) = wanted_of(s);
                let len = stripe.shard_len;
                let batch = batch_of(&wanted);
                if s < last && !ahead {
                    let (next, _, _, next_wanted) = wanted_of(s + 1);
                    for &i in &next_wanted {
                        if let Ok(f) = files.get(i) {
                            f.will_need(files.frame.block(&next), next.shard_len);
                        }
                    }
                }
                let issued = match pending.take() {
                    Some(h) => h.join().expect("a read-ahead thread does not panic"),
                    None => self.issue_reads(
                        &files,
                        Self::plan_reads(&files, &stripe, &batch, &mut work.pool),
                    ),
                };
                if s < last && ahead {
                    let (next, _, _, next_wanted) = wanted_of(s + 1);
                    let planned =
                        Self::plan_reads(&files, &next, &batch_of(&next_wanted), &mut work.pool);
                    pending = Some(scope.spawn(move || self.issue_reads(shared, planned)));
                }
                let first = Self::check_reads(&files, &table, &stripe, issued, &mut work.pool);
                let healthy = batch == wanted && first.iter().all(|(_, r)| r.is_ok());
                let mut shards: Vec<Option<ShardBuf>> = if healthy {
                    let mut v: Vec<Option<ShardBuf>> = (0..self.layout.k).map(|_| None).collect();
                    for (i, r) in first {
                        v[i] = r.ok();
                    }
                    v
                } else {
                    self.complete_stripe(&mut work, &files, &table, &stripe, first, &mut health)?
                        .into_iter()
                        .map(Some)
                        .collect()
                };
                for &i in &wanted {
                    let shard_start = i as u64 * len;
                    let a = usize_of(lo.max(shard_start) - shard_start);
                    let b = usize_of(hi.min(shard_start + len) - shard_start);
                    let shard = shards[i]
                        .take()
                        .expect("a wanted shard was read or rebuilt");
                    let at = shard.at;
                    if let Some(back) = out
                        .chunk(shard.buf, at + a..at + b)
                        .map_err(BlobError::Sink)?
                    {
                        work.pool.give(back);
                    }
                }
                // What the sink kept leaves empty slots behind; parity and unwanted shards go
                // back.
                work.pool
                    .free
                    .extend(shards.into_iter().flatten().map(|s| s.buf));
            }
            Ok(())
        })?;
        self.done(work);
        Ok(health)
    }

    /// Read every shard of every stripe and check it; with `heal`, rewrite each shard file that
    /// had a bad block (or was missing) from the others. Returns what was found and healed;
    /// fails only when a stripe cannot be reconstructed.
    pub fn verify(&self, id: &DataId, size: u64, heal: bool) -> Result<BlobHealth, BlobError> {
        let mut health = BlobHealth::default();
        let width = self.layout.width();
        let files = self.open_shards_afresh(id);
        let stripes = self.layout.stripe_count(size);
        let table = self.read_table(id, size, &files)?;
        // A file whose trailer or header is damaged is rewritten whole, as is a missing one.
        let mut broken: BTreeSet<usize> = BTreeSet::new();
        for i in 0..width {
            match files.get(i) {
                Err(why) => {
                    broken.insert(i);
                    health
                        .bad_blocks
                        .push((0, i, format!("file unusable: {why}")));
                }
                Ok(f) => {
                    let direct = files.direct(i);
                    if let Err(why) = self.check_file_ends(f, direct, files.frame, id, size, i) {
                        broken.insert(i);
                        health.bad_blocks.push((0, i, why));
                    }
                }
            }
        }
        let mut work = self.work();
        let mut rebuilt: Vec<Vec<ShardBuf>> = (0..width).map(|_| Vec::new()).collect();
        for s in 0..stripes {
            let stripe = self.layout.stripe(size, s);
            let before = health.bad_blocks.len();
            let shards =
                self.complete_stripe(&mut work, &files, &table, &stripe, Vec::new(), &mut health)?;
            for (_, i, _) in &health.bad_blocks[before..] {
                broken.insert(*i);
            }
            if heal {
                for (i, shard) in shards.into_iter().enumerate() {
                    rebuilt[i].push(shard);
                }
            } else {
                work.pool.free.extend(shards.into_iter().map(|s| s.buf));
            }
        }
        if heal && !broken.is_empty() {
            // The description goes back too, from a shard whose copy verifies.
            let desc = self
                .read_descriptions(id, size)
                .into_iter()
                .enumerate()
                .find_map(|(i, d)| d.ok().filter(|_| !broken.contains(&i)));
            for &i in &broken {
                if self.disk_absent(i) {
                    // Not onto a directory that is not the disk (`disk_id.rs`): the shard
                    // comes back when the disk does and scrub runs again.
                    health.absent.push(i);
                    continue;
                }
                self.rewrite_shard_file(id, size, i, &rebuilt[i], &table)?;
                if let Some(json) = &desc {
                    let (path, at, _) = self.desc_place(id, size, i);
                    let f = self.fs.open(&path, OpenOptions::read_write())?;
                    f.write_at(&Description::encode(json), at)?;
                    f.sync_data()?;
                }
                health.files_healed.push(i);
            }
        }
        self.done(work);
        Ok(health)
    }

    /// Check a shard file's header and trailer.
    fn check_file_ends(
        &self,
        f: &FileHandle,
        direct: bool,
        frame: ShardFrame,
        id: &DataId,
        size: u64,
        shard: usize,
    ) -> Result<(), String> {
        let h = read_exact_any(&**f, direct, frame.start, usize_of(HEADER_BYTES))
            .map_err(|e| e.to_string())?;
        let header = ShardHeader::decode(&h).map_err(|e| format!("header: {e}"))?;
        if header.data_id != id.0
            || header.shard_index as usize != shard
            || header.object_size != size
        {
            return Err("header names another object, shard or size (misplaced file)".into());
        }
        let width = self.layout.width();
        let stripes = self.layout.stripe_count(size);
        let at = frame.trailer(self.layout.shard_data_len(size));
        let t = read_exact_any(
            &**f,
            direct,
            at,
            usize_of(ChecksumTable::trailer_len(width, stripes)),
        )
        .map_err(|e| format!("trailer: {e}"))?;
        ChecksumTable::decode_trailer(
            &t,
            width,
            stripes,
            &id.0,
            u32::try_from(shard).expect("at most MAX_SHARDS (32) shards"),
        )
        .map_err(|e| format!("trailer: {e}"))?;
        Ok(())
    }

    /// Write shard file `shard` anew from its blocks: to a temporary name, synced, then renamed
    /// over the old one and the directory synced — a crash mid-heal leaves the old file.
    fn rewrite_shard_file(
        &self,
        id: &DataId,
        size: u64,
        shard: usize,
        blocks: &[ShardBuf],
        table: &ChecksumTable,
    ) -> Result<(), BlobError> {
        if let Some(place) = id.pack_place() {
            return self.rewrite_record(id, place, size, shard, blocks, table);
        }
        let path = self.shard_path(id, shard);
        let tmp = self.heal_path(id, shard);
        // A replaced disk starts empty: its directories come back first (durably, or the
        // healed file could vanish with them in a crash).
        crate::io::create_dir_all_durable(&*self.fs, &self.shard_dir(shard, id))?;
        let f = self.fs.open(&tmp, OpenOptions::create_truncate())?;
        f.write_at(&self.header(id, size, shard).encode(), 0)?;
        for (s, block) in blocks.iter().enumerate() {
            let stripe = self.layout.stripe(size, s as u64);
            f.write_at(block.bytes(), stripe.file_offset)?;
        }
        let at = HEADER_LEN + self.layout.shard_data_len(size);
        f.write_at(
            &table.encode_trailer(
                &id.0,
                u32::try_from(shard).expect("at most MAX_SHARDS (32) shards"),
            ),
            at,
        )?;
        f.sync_data()?;
        drop(f);
        self.fs.rename(&tmp, &path)?;
        self.fs.sync_dir(&self.shard_dir(shard, id))?;
        Ok(())
    }

    /// Write a packed blob's record in pack file `shard` anew, in place (creating the pack file
    /// if it is gone). Only this record's bytes are written, and they were bad: a crash mid-way
    /// leaves them no worse, and the next scrub finishes the job.
    fn rewrite_record(
        &self,
        id: &DataId,
        place: PackPlace,
        size: u64,
        shard: usize,
        blocks: &[ShardBuf],
        table: &ChecksumTable,
    ) -> Result<(), BlobError> {
        let path = self.pack_path(place.pack, shard);
        let dir = path.parent().expect("a pack file is in a directory");
        let existed = self.fs.exists(&path)?;
        if !existed {
            crate::io::create_dir_all_durable(&*self.fs, dir)?;
        }
        let opts = OpenOptions {
            create: true,
            ..OpenOptions::read_write()
        };
        let f = self.fs.open(&path, opts)?;
        let mut record = self.header(id, size, shard).encode();
        record.truncate(usize_of(HEADER_BYTES));
        if let Some(block) = blocks.first() {
            record.extend_from_slice(block.bytes());
        }
        record.extend_from_slice(&table.encode_trailer(
            &id.0,
            u32::try_from(shard).expect("at most MAX_SHARDS (32) shards"),
        ));
        f.write_at(&record, place.offset)?;
        f.sync_data()?;
        if !existed {
            self.fs.sync_dir(dir)?;
        }
        Ok(())
    }

    /// Shard `shard`'s header for a blob of `size` bytes.
    fn header(&self, id: &DataId, size: u64, shard: usize) -> ShardHeader {
        ShardHeader {
            shard_index: u32::try_from(shard).expect("at most MAX_SHARDS (32) shards"),
            k: u32::try_from(self.layout.k).expect("at most MAX_SHARDS (32) shards"),
            m: u32::try_from(self.layout.m).expect("at most MAX_SHARDS (32) shards"),
            shard_len_max: self.layout.shard_len_max,
            object_size: size,
            data_id: id.0,
            desc_slot: match id.pack_place() {
                Some(_) => u32::try_from(self.record_desc_slot(size).1)
                    .expect("a packed record is a few MiB (PACK_BLOB_MAX)"),
                None => 0,
            },
            version: CURRENT_VERSION,
        }
    }

    /// Where shard `shard`'s description goes: the file, the offset, and the room there
    /// (`None`: a shard file, where it may be any length).
    fn desc_place(&self, id: &DataId, size: u64, shard: usize) -> (PathBuf, u64, Option<u64>) {
        let loc = self.shard_location(id, shard);
        match id.pack_place() {
            Some(p) => {
                let (at, room) = self.record_desc_slot(size);
                (loc.path, p.offset + at, Some(room))
            }
            None => {
                let l = &self.layout;
                let end = HEADER_LEN
                    + l.shard_data_len(size)
                    + ChecksumTable::trailer_len(l.width(), l.stripe_count(size));
                (loc.path, end.next_multiple_of(4096), None)
            }
        }
    }

    /// Whether a description of `json_len` bytes fits a pack record of a `size`-byte blob (a
    /// shard file takes any length). A blob whose description would not fit is given shard
    /// files of its own ([`BlobStore::write`]'s `desc_len`).
    pub fn description_fits_record(&self, size: u64, json_len: usize) -> bool {
        (json_len + DESC_OVERHEAD) as u64 <= self.record_desc_slot(size).1
    }

    /// Write a blob's description (format 2, `shard.rs`) into every shard that is there, and
    /// sync them. Fails if fewer than K shards took it, or if it does not fit a pack record's
    /// slot. Written again over an older one (a completed multipart upload describes its parts
    /// anew), a crash mid-way leaves each shard with the old or the new one (the CRC tells).
    pub fn write_description(&self, id: &DataId, size: u64, json: &[u8]) -> Result<(), BlobError> {
        self.write_description_inner(id, size, json, true, self.layout.k)
            .map(|_| ())
    }

    /// Write the description of a blob just written without a sync, then (if `sync`) make
    /// data and description durable together: one `fdatasync` per shard, and for shard files
    /// of its own, their directories. This is how a PUT describes its blob before its commit
    /// at the cost of one positioned write per shard, not one more round of syncs.
    pub fn write_description_synced(
        &self,
        id: &DataId,
        size: u64,
        json: &[u8],
        sync: bool,
    ) -> Result<(), BlobError> {
        // Every shard that is there must take it: a shard whose description write failed
        // would not be synced, and its data (written unsynced) not made durable either. Only
        // a shard on a disk that is gone or fails may be absent (`degraded.rs`).
        let files = self.write_description_inner(id, size, json, sync, self.layout.width())?;
        if sync && id.pack_place().is_none() {
            let dirs: Vec<_> = degraded::present(&files, 0..)
                .map(|(_, i)| self.shard_dir(i, id))
                .collect();
            crate::io::sync_dirs(&*self.fs, &dirs)?;
        }
        Ok(())
    }

    fn write_description_inner(
        &self,
        id: &DataId,
        size: u64,
        json: &[u8],
        sync: bool,
        at_least: usize,
    ) -> Result<degraded::ShardSet, BlobError> {
        let section = Description::encode(json);
        let mut files = Vec::with_capacity(self.layout.width());
        let mut why = Vec::new();
        let not_written = self.take_absent_shards(id);
        // Shards on a disk that is gone or fails are absent, not failed: a blob written past
        // such a disk has none there (`degraded.rs`) — nor, in files of its own, a file where
        // its write dropped the shard. K is still the least it takes.
        let mut absent = 0;
        for i in 0..self.layout.width() {
            let (path, at, room) = self.desc_place(id, size, i);
            if let Some(room) = room {
                if section.len() as u64 > room {
                    return Err(BlobError::DescriptionTooLong {
                        len: section.len(),
                        room,
                    });
                }
            }
            if not_written & (1 << i) != 0 {
                absent += 1;
                files.push(None);
                continue;
            }
            let written = self
                .fs
                .open(&path, OpenOptions::read_write())
                .and_then(|f| f.write_at(&section, at).map(|_| f));
            match written {
                Ok(f) => files.push(Some(f)),
                Err(e) => {
                    let dropped = e.is_not_found() && id.pack_place().is_none();
                    if e.is_device_failure() {
                        self.note_disk_failure(i, &e.to_string());
                    }
                    if dropped || e.is_device_failure() || self.disk_absent(i) {
                        absent += 1;
                    }
                    why.push(format!("shard {i}: {e}"));
                    files.push(None);
                }
            }
        }
        if sync {
            // Shards whose disk fails the sync are dropped (fewer than K left fails it).
            let before = files.iter().flatten().count();
            self.sync_files(id, &mut files)?;
            absent += before - files.iter().flatten().count();
        }
        let reached = files.iter().flatten().count();
        let needed = at_least.saturating_sub(absent).max(self.layout.k);
        if reached < needed {
            return Err(BlobError::DescriptionShort {
                reached,
                width: self.layout.width(),
                needed,
                detail: why.join("; "),
            });
        }
        Ok(files)
    }

    /// A blob's description: the JSON from every shard whose section verifies (each `Err` says
    /// why that shard's could not be used), in shard order.
    pub fn read_descriptions(&self, id: &DataId, size: u64) -> Vec<Result<Vec<u8>, String>> {
        (0..self.layout.width())
            .map(|i| {
                let (path, at, room) = self.desc_place(id, size, i);
                let f = self
                    .fs
                    .open(&path, OpenOptions::read_only())
                    .map_err(|e| e.to_string())?;
                let mut head = [0u8; 12];
                f.read_exact_at(&mut head, at)
                    .map_err(|_| "no description (never written, or torn)".to_string())?;
                let len = Description::section_len(&head)
                    .ok_or("no description (never written, or torn)")?;
                if room.is_some_and(|r| len as u64 > r) {
                    return Err("description longer than its slot (corrupt)".into());
                }
                let mut b = vec![0u8; len];
                f.read_exact_at(&mut b, at).map_err(|e| e.to_string())?;
                Description::decode(&b)
                    .map(|j| j.to_vec())
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    /// The header of the first shard of blob `id` whose header verifies and names it.
    pub fn read_header(&self, id: &DataId) -> Option<ShardHeader> {
        (0..self.layout.width()).find_map(|i| {
            let loc = self.shard_location(id, i);
            let f = self.fs.open(&loc.path, OpenOptions::read_only()).ok()?;
            let mut h = [0u8; usize_of(HEADER_BYTES)];
            f.read_exact_at(&mut h, loc.frame.start).ok()?;
            let h = ShardHeader::decode(&h).ok()?;
            (h.data_id == id.0).then_some(h)
        })
    }

    /// The temporary name a heal writes shard `shard` to before renaming it into place.
    fn heal_path(&self, id: &DataId, shard: usize) -> PathBuf {
        self.shard_dir(shard, id)
            .join(format!("{}.{shard}.heal", id.hex()))
    }

    /// Remove every shard file of a blob, and any heal left half-done (missing ones are fine).
    /// A disk that fails keeps its file; the orphan sweep removes it once the disk works.
    /// True if anything of the blob was there to remove (false for a blob already freed).
    pub fn delete(&self, id: &DataId) -> Result<bool, BlobError> {
        self.take_absent_shards(id);
        if let Some(place) = id.pack_place() {
            return self.delete_packed(id, place);
        }
        let mut freed = false;
        for i in 0..self.layout.width() {
            for path in [self.shard_path(id, i), self.heal_path(id, i)] {
                match self.fs.remove_file(&path) {
                    Ok(()) => freed = true,
                    Err(e) if e.is_not_found() || e.is_device_failure() => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(freed)
    }

    /// Every blob id with at least one shard file or pack record on any disk (for finding
    /// orphans; a failing disk passed over).
    pub fn list(&self) -> Result<BTreeSet<DataId>, BlobError> {
        let mut ids = BTreeSet::new();
        self.list_packed(&mut ids)?;
        for disk in &self.layout.disks {
            let root = disk.join("blobs");
            for sub in self.list_if_working(&root)? {
                for name in self.list_if_working(&root.join(&sub))? {
                    if let Some(id) = name.split('.').next().and_then(DataId::from_hex) {
                        ids.insert(id);
                    }
                }
            }
        }
        Ok(ids)
    }
}

/// A blob's shard files, each opened on first use: a GET of a healthy object reads only data
/// shards and so never opens the parity files; a missing or unopenable file keeps its reason.
struct ShardFiles<'a> {
    store: &'a BlobStore,
    id: DataId,
    /// Where the blob's parts are in each file.
    frame: ShardFrame,
    /// Open the files with direct I/O.
    direct: bool,
    /// Read pack files through the store's kept handles (not for scrub).
    kept: bool,
    /// Each file once opened, and whether it was opened direct; or why it cannot be opened.
    cells: Vec<OnceLock<Result<(FileHandle, bool), String>>>,
}

impl ShardFiles<'_> {
    fn open(&self, i: usize) -> &Result<(FileHandle, bool), String> {
        self.cells[i].get_or_init(|| {
            if let Some(place) = self.id.pack_place() {
                return self.open_pack_file(place.pack, i);
            }
            let path = self.store.shard_location(&self.id, i).path;
            let fs = &self.store.fs;
            if self.direct {
                match fs.open(&path, OpenOptions::read_only().with_direct(true)) {
                    Err(IoError::InvalidInput { .. }) => {
                        // No O_DIRECT on this file system (old tmpfs, some FUSE): through the
                        // page cache, this time and from now on.
                        self.store.direct_reads_ok.store(false, Ordering::Relaxed);
                    }
                    r => return r.map(|f| (f, true)).map_err(|e| e.to_string()),
                }
            }
            fs.open(&path, OpenOptions::read_only())
                .map(|f| (f, false))
                .map_err(|e| e.to_string())
        })
    }

    /// Pack file `i` of `pack`: a kept handle, or opened now (through the page cache: records
    /// are small, unaligned and often hot) and kept.
    fn open_pack_file(&self, pack: u32, i: usize) -> Result<(FileHandle, bool), String> {
        let readers = &self.store.pack_readers;
        if self.kept {
            if let Some(f) = readers.get(pack, i) {
                return Ok((f, false));
            }
        }
        let f = self
            .store
            .fs
            .open(&self.store.pack_path(pack, i), OpenOptions::read_only())
            .map_err(|e| e.to_string())?;
        if self.kept {
            readers.keep(pack, i, &f);
        }
        Ok((f, false))
    }

    /// Shard file `i`, or why it cannot be opened.
    fn get(&self, i: usize) -> Result<&FileHandle, &String> {
        self.open(i).as_ref().map(|(f, _)| f)
    }

    /// Whether shard file `i` was opened with direct I/O: its reads must then be aligned. (The
    /// options asked for are what counts, not the handle's `is_direct`, which a wrapping file
    /// system may not pass on; an aligned read is a valid read of a buffered file too.)
    fn direct(&self, i: usize) -> bool {
        matches!(self.open(i), Ok((_, true)))
    }
}

/// Reads planned for one batch: the shards asked for, and a [`ReadPlan`] for each whose file
/// opened.
struct Planned {
    which: Vec<usize>,
    plans: Vec<(usize, FileHandle, ReadPlan)>,
}

/// A batch read: the plans and each read's result, in plan order.
struct Issued {
    planned: Planned,
    results: Vec<crate::io::Result<usize>>,
}

/// One shard block in memory: bytes `at..at + len` of `buf`. A block read with direct I/O sits
/// inside a longer buffer, at the 4096-aligned window the read went to; otherwise `at` is 0.
#[derive(Debug)]
struct ShardBuf {
    buf: Vec<u8>,
    at: usize,
    len: usize,
}

impl ShardBuf {
    /// The block's bytes.
    fn bytes(&self) -> &[u8] {
        &self.buf[self.at..self.at + self.len]
    }
}

/// Where one block's read goes: `len` bytes at file offset `pos`, read as `window` of
/// `buf.buf` from file offset `offset`. Through the page cache that is the block itself; with
/// direct I/O the window starts at the 4096-aligned address inside the buffer and covers the
/// block rounded out to 4096-byte file offsets, and the block is at `buf.at` within it.
struct ReadPlan {
    buf: ShardBuf,
    offset: u64,
    window: Range<usize>,
}

impl ReadPlan {
    fn new(pool: &mut BufPool, direct: bool, pos: u64, len: usize) -> Self {
        if !direct {
            return ReadPlan {
                buf: ShardBuf {
                    buf: pool.take(len),
                    at: 0,
                    len,
                },
                offset: pos,
                window: 0..len,
            };
        }
        let align = DIRECT_IO_ALIGN;
        let offset = pos - pos % align as u64;
        let lead_in = usize_of(pos - offset);
        let window_len = (lead_in + len).next_multiple_of(align);
        // One alignment unit more than the window, so that an aligned start fits whatever
        // address the allocator gave.
        let buf = pool.take(window_len + align);
        let addr = buf.as_ptr().addr();
        let start = addr.next_multiple_of(align) - addr;
        ReadPlan {
            buf: ShardBuf {
                buf,
                at: start + lead_in,
                len,
            },
            offset,
            window: start..start + window_len,
        }
    }

    /// Bytes the read must return for the block to be whole.
    fn need(&self) -> usize {
        self.buf.at - self.window.start + self.buf.len
    }
}

/// Read exactly `len` bytes at `at` from `f`; through an aligned window (then copied out) when
/// `f` was opened `direct` — for the small reads of headers and trailers.
fn read_exact_any(f: &dyn File, direct: bool, at: u64, len: usize) -> crate::io::Result<Vec<u8>> {
    if !direct {
        let mut b = vec![0u8; len];
        f.read_exact_at(&mut b, at)?;
        return Ok(b);
    }
    let align = DIRECT_IO_ALIGN as u64;
    let start = at - at % align;
    let lead_in = usize_of(at - start);
    let mut buf = AlignedBuf::zeroed((lead_in + len).next_multiple_of(DIRECT_IO_ALIGN));
    let n = f.read_at(&mut buf, start)?;
    if n < lead_in + len {
        return Err(IoError::UnexpectedEof {
            path: f.path().to_path_buf(),
            offset: at,
            wanted: len,
            got: n.saturating_sub(lead_in),
        });
    }
    Ok(buf[lead_in..lead_in + len].to_vec())
}

/// What a reader keeps from stripe to stripe: the codec and the shard buffers.
struct Work {
    codec: Codec,
    pool: BufPool,
}

/// Where a verified read puts its bytes, one shard buffer at a time.
pub trait ChunkSink {
    /// `buf[range]` are the next bytes of the read (the range need not start at 0 nor end at
    /// the buffer's end: a direct-I/O read lands at an aligned window inside the buffer). The
    /// buffer is the sink's now; it may hand it back (`Some`) for the reader to reuse, or keep
    /// it (a response body that sends it).
    fn chunk(&mut self, buf: Vec<u8>, range: Range<usize>) -> std::io::Result<Option<Vec<u8>>>;
}

/// A [`ChunkSink`] that copies into a writer and hands every buffer back.
pub struct CopyTo<'a>(pub &'a mut dyn Write);

impl ChunkSink for CopyTo<'_> {
    fn chunk(&mut self, buf: Vec<u8>, range: Range<usize>) -> std::io::Result<Option<Vec<u8>>> {
        self.0.write_all(&buf[range])?;
        Ok(Some(buf))
    }
}

/// Large read buffers kept between reads: this many per shard of a stripe (a reader has up to
/// two stripes' worth at once).
const READ_BUFFERS_KEPT: usize = 2;
/// Read buffers shorter than this are cheaper to allocate than to keep.
const READ_BUFFER_KEPT_MIN: usize = 256 << 10;

/// Shard buffers handed back after use, so that reading stripe after stripe does not allocate
/// (and page-fault, and zero) a fresh megabyte per shard.
#[derive(Default)]
struct BufPool {
    free: Vec<Vec<u8>>,
}

impl BufPool {
    /// A buffer of at least `len` initialised bytes: a free one as it is (its bytes are
    /// whatever it last held; the caller overwrites what it uses — only the growth of a buffer
    /// too short is zeroed), else a fresh zeroed one (`calloc`, which for a large buffer gets
    /// zero pages from the kernel rather than writing zeros).
    fn take(&mut self, len: usize) -> Vec<u8> {
        match self.free.pop() {
            Some(mut b) => {
                if b.len() < len {
                    b.resize(len, 0);
                }
                b
            }
            None => vec![0u8; len],
        }
    }

    /// Hand a buffer back.
    fn give(&mut self, b: Vec<u8>) {
        self.free.push(b);
    }
}

/// Fail with the first error of a batch.
/// Read until `buf` is full or the input ends; returns bytes read.
fn read_full(src: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match src.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
