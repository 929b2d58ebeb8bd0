//! Small blobs in pack files: one append-only file per disk instead of K + M files per blob.
//!
//! Why: a blob in files of its own costs K + M file creations to write and K + M unlinks to
//! delete. For a 4 KiB object that is nearly all of the work, and on ext4 it gets worse as the
//! store ages — each create scans for an inode not freed too recently (`recently_deleted`), so
//! a store that has seen many deletes creates files ever more slowly (measured here: 3,700 PUT/s
//! on a fresh file system falling to 300 PUT/s; docs/benchmarks.md).
//!
//! So a blob shorter than one full stripe (and of at most [`PACK_BLOB_MAX`] bytes) — written
//! through the page cache anyway, since only full stripes go out with direct I/O — is a
//! **record** at the end of the store's current pack, one pack file per disk:
//! `disk{i}/packs/{pack:08x}.{i}`. A record holds what the blob's shard file would have
//! (header, shard block, checksum trailer; see `shard.rs`) but with the header unpadded — 64
//! bytes, not a 4096-byte block, since pack writes are buffered and need no alignment; so a
//! 4 KiB object takes one 4 KiB block per disk.
//! Records start at 4096-aligned offsets — **the same offset in all K + M pack files**, so one
//! offset locates the whole stripe. The read, verify and heal code is the shard-file code
//! with the record's [`super::ShardFrame`].
//!
//! - **Where.** The blob id says where its record is: a packed blob's id is a UUIDv8 (RFC 9562's
//!   custom layout) holding the pack number and the record's offset, plus 28 random bits from
//!   the fresh UUIDv7 the store made for the PUT. The record's header and trailer hold the full
//!   id, so a stale or forged id can never read another blob's bytes.
//! - **Appending.** One store at a time appends: the one holding `disk0/packs/LOCK`
//!   ([`crate::io::Fs::lock`]; a second store on the same disks gives small blobs shard files of
//!   their own instead). It continues the newest pack after its longest file's end, so one
//!   `seedbed object put` after another fills one pack; a pack that reaches [`PACK_LIMIT`]
//!   bytes is followed by the next. Offsets are reserved under a mutex; the writes themselves go
//!   out in parallel from any number of PUTs. A pack's files and directory entries are synced
//!   before any record goes in: a PUT's own `fdatasync`s then make it durable.
//! - **Deleting.** The record's range is punched out of every pack file
//!   (`fallocate(PUNCH_HOLE)`): the blocks go back to the file system and the range reads as
//!   zeros. No file is created or removed.
//! - **Empty packs.** A pack none of whose files holds data any more (every record deleted) is
//!   removed by the orphan sweep ([`BlobStore::remove_empty_packs`]).
//! - **Orphans.** A crash between a record's write and its metadata commit leaves a record
//!   nobody references. The orphan sweep walks every pack from record to record: it reads a
//!   header, and if it is valid *and* its id names this very pack and offset, jumps over the
//!   record; otherwise (a hole, a torn write) it jumps to the next data (`lseek(SEEK_DATA)`).
//!   The self-locating id is what keeps object bytes that happen to look like a header from
//!   being taken for one.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::cast::usize_of;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::degraded::{present_shards, ShardSet};
use super::pack_sync::PackSync;
use super::{BlobError, BlobStore, DataId};
use crate::io::{FileHandle, FileLock, IoError, OpenOptions};
use crate::object::shard::{ChecksumTable, ShardHeader, HEADER_BYTES};

/// Blobs of at most this many bytes, and shorter than one full stripe, are written to packs.
/// Full stripes get files of their own, written with direct I/O; the cap keeps records "small"
/// for layouts with very large shards.
pub const PACK_BLOB_MAX: u64 = 4 << 20;

/// A pack takes records until it holds this many bytes; then the next pack is started
/// (see [`BlobStore::with_pack_limit`]).
pub const PACK_LIMIT: u64 = 1 << 30;

/// Records start at multiples of this (the direct-I/O and file-system block size).
const RECORD_ALIGN: u64 = 4096;

/// Bytes a record reserves at least for its blob's description after the trailer (format 2):
/// the rest of the record's last 4096-byte block, and at least this much. A small object's
/// description (key, ETag, SHA-256, version id, owner, a little user metadata) takes 400 to 900
/// bytes of JSON, so a 4 KiB object's record still fits one block per disk; a blob whose
/// description would not fit gets shard files of its own, where it can be any length.
pub const DESC_SLOT_MIN: u64 = 2048;

/// Records written to a pack made without a disk that *failed* (rather than went missing)
/// before the next pack tries that disk again: a disk that keeps failing costs one attempt
/// per this many small PUTs, a disk that recovered gets its shards back soon after.
const RETRY_FAILED_DISK_AFTER: u64 = 1024;

/// Offsets are stored in units of [`RECORD_ALIGN`] in the low 62 bits of the id's second half.
const UNITS_MASK: u64 = (1 << 62) - 1;

/// Where a packed blob's record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackPlace {
    /// The pack's number.
    pub pack: u32,
    /// The record's offset, the same in every pack file of the pack.
    pub offset: u64,
}

impl DataId {
    /// Where this blob's record is, if the blob is packed (its id is a UUIDv8); `None` for a
    /// blob in shard files of its own (a UUIDv7).
    pub fn pack_place(&self) -> Option<PackPlace> {
        let b = &self.0;
        if b[6] >> 4 != 8 || b[8] >> 6 != 0b10 {
            return None;
        }
        let pack = u32::from_be_bytes(b[0..4].try_into().expect("4 bytes"));
        let units = u64::from_be_bytes(b[8..16].try_into().expect("8 bytes")) & UNITS_MASK;
        Some(PackPlace {
            pack,
            offset: units * RECORD_ALIGN,
        })
    }

    /// The id of a record at `place`, with random bits from `fresh` (a UUIDv7).
    fn packed(place: PackPlace, fresh: &DataId) -> DataId {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&place.pack.to_be_bytes());
        b[4..6].copy_from_slice(&fresh.0[10..12]);
        b[6] = 0x80 | (fresh.0[6] & 0x0f);
        b[7] = fresh.0[7];
        let units = (place.offset / RECORD_ALIGN) & UNITS_MASK;
        b[8..16].copy_from_slice(&((1u64 << 63) | units).to_be_bytes());
        DataId(b)
    }
}

/// The pack this store appends to.
#[derive(Debug)]
pub(super) struct PackWriter {
    pack: u32,
    /// One per disk; `None` for a disk that was missing, or failed, when the pack was made
    /// (`degraded.rs`).
    files: ShardSet,
    next: u64,
    /// Disks (bit `i` for disk `i`) left out because they failed, not because their
    /// directory was missing.
    failed: u32,
    /// Records reserved in this pack by this writer.
    records: u64,
}

/// Whether this store appends to the packs.
#[derive(Debug, Default)]
pub(super) enum Packing {
    /// No small blob written yet: undecided.
    #[default]
    Unopened,
    /// This store holds the packs' lock (`disk0/packs/LOCK`) and appends to `writer`.
    Appending { writer: PackWriter, _lock: FileLock },
    /// Another store holds the lock (another process, or a second `BlobStore` on the same
    /// disks): this one gives small blobs shard files of their own, as it does large ones.
    Elsewhere,
}

impl BlobStore {
    /// Whether a blob of `size` bytes goes to a pack.
    pub(super) fn packs_blob(&self, size: u64) -> bool {
        size <= PACK_BLOB_MAX && size < self.layout.stripe_data_max()
    }

    /// Bytes of a record of a `size`-byte blob before its description slot: header, shard
    /// block, trailer.
    fn record_base(&self, size: u64) -> u64 {
        let l = &self.layout;
        HEADER_BYTES
            + l.shard_data_len(size)
            + ChecksumTable::trailer_len(l.width(), l.stripe_count(size))
    }

    /// Bytes a record of a `size`-byte blob spans (up to the next record).
    pub(super) fn record_len(&self, size: u64) -> u64 {
        (self.record_base(size) + DESC_SLOT_MIN).next_multiple_of(RECORD_ALIGN)
    }

    /// The description slot of a record of a `size`-byte blob: where it starts in the record,
    /// and how many bytes it has.
    pub(super) fn record_desc_slot(&self, size: u64) -> (u64, u64) {
        let base = self.record_base(size);
        (base, self.record_len(size) - base)
    }

    fn pack_dir(&self, shard: usize) -> PathBuf {
        self.layout.disks[shard].join("packs")
    }

    /// Pack file `shard` of pack `pack`.
    pub(super) fn pack_path(&self, pack: u32, shard: usize) -> PathBuf {
        self.pack_dir(shard).join(format!("{pack:08x}.{shard}"))
    }

    /// Reserve a record for a blob of `size` bytes: its id (made from `fresh`), and the pack
    /// files to write it to at `id.pack_place().offset`. `None` when another store appends to
    /// the packs (the blob then gets shard files of its own).
    pub(super) fn reserve_record(
        &self,
        fresh: &DataId,
        size: u64,
    ) -> Result<Option<(DataId, ShardSet)>, BlobError> {
        let len = self.record_len(size);
        let mut packing = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        if let Packing::Unopened = *packing {
            if self.disk_absent(0) {
                // The packs' lock is on disk 0 (`disk0/packs/LOCK`), the one file every store
                // on these disks agrees on. With disk 0 gone before any small blob, this one
                // gets shard files of its own (written past the lost disk); packing starts
                // once the disk is back.
                return Ok(None);
            }
            *packing = self.start_packing()?;
        }
        let Packing::Appending { writer, .. } = &mut *packing else {
            return Ok(None);
        };
        // A pack whose sync failed takes no more records (`pack_sync.rs`). Nor does one with a
        // file deleted under the store (its disk's directory removed, and perhaps rebuilt by
        // scrub since): the record's shard would go to a file nobody can open again, and the
        // PUT be acknowledged a shard short of its parity. One `fstat` per file (`None`, on
        // the simulated disk, counts as linked); the next pack is made on the disks as they
        // are now — without the missing ones, if K disks are there (`degraded.rs`) — or the
        // PUT fails naming what is missing. A pack made without a disk is left as soon as
        // that disk is back (its identity file there again: mounted, or formatted), so that
        // new records have every shard again. Nor does a pack with a file on a disk the last
        // look found another disk in the place of (`disk_id.rs`): its file still reaches the
        // disk it was made on, which may be leaving.
        if (writer.next > 0 && writer.next + len > self.pack_limit)
            || self.pack_sync(writer.pack).is_poisoned()
            || writer
                .files
                .iter()
                .flatten()
                .any(|f| f.still_linked() == Some(false))
            || (writer.files.iter().enumerate()).any(|(i, f)| f.is_some() && self.seen_foreign(i))
            || writer.files.iter().enumerate().any(|(i, f)| {
                let failed = writer.failed & (1 << i) != 0;
                f.is_none()
                    && (!failed || writer.records >= RETRY_FAILED_DISK_AFTER)
                    && !self.disk_absent(i)
            })
        {
            *writer = self.create_pack(writer.pack + 1)?;
        }
        let place = PackPlace {
            pack: writer.pack,
            offset: writer.next,
        };
        writer.next += len;
        writer.records += 1;
        Ok(Some((DataId::packed(place, fresh), writer.files.clone())))
    }

    /// Pack `pack`'s group sync.
    pub(super) fn pack_sync(&self, pack: u32) -> Arc<PackSync> {
        let mut syncs = self.pack_syncs.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(syncs.entry(pack).or_default())
    }

    /// Take the packs' lock and open the pack to append to: the newest one, after its last
    /// record, while it is under the limit; else a new one.
    fn start_packing(&self) -> Result<Packing, BlobError> {
        // On the disks that are there: a missing one is not made again by a write
        // (`degraded.rs`).
        // A disk that fails is left out too (its packs directory is made when a pack is
        // next made with it).
        let mut disks = Vec::new();
        for i in (0..self.layout.width()).filter(|&i| !self.disk_absent(i)) {
            let disk = &self.layout.disks[i];
            match crate::io::create_dir_all_durable(&*self.fs, &disk.join("packs")) {
                Ok(()) => disks.push(disk.clone()),
                Err(e) if e.is_device_failure() => self.note_disk_failure(i, &e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        // Sync each `packs` directory's entry even when it already existed: an earlier attempt
        // may have created it and then failed its sync, leaving the entry pending — and a
        // crash would take every record in it along. (A disk failing here fails `create_pack`
        // or `reopen_pack` below, which leave it out.)
        let synced = crate::io::sync_dirs_each(&*self.fs, &disks);
        if let Some(e) = synced
            .into_iter()
            .filter_map(Result::err)
            .find(|e| !e.is_device_failure())
        {
            return Err(e.into());
        }
        let lock = match self.fs.lock(&self.pack_dir(0).join("LOCK")) {
            Ok(l) => l,
            Err(IoError::Locked { .. }) => return Ok(Packing::Elsewhere),
            // Disk 0 fails: as when it is missing (`reserve_record`), not yet.
            Err(e) if e.is_device_failure() => return Ok(Packing::Unopened),
            Err(e) => return Err(e.into()),
        };
        let writer = match self.pack_numbers()?.last() {
            Some(&newest) => {
                let w = self.reopen_pack(newest)?;
                if w.next < self.pack_limit {
                    w
                } else {
                    self.create_pack(newest + 1)?
                }
            }
            None => self.create_pack(0)?,
        };
        Ok(Packing::Appending {
            writer,
            _lock: lock,
        })
    }

    /// Open pack `pack` to append after everything in it: past the end of its longest file (a
    /// record torn by a crash lies before that, and the orphan sweep frees it). A pack file
    /// lost with its disk is created again, empty; scrub rebuilds its records. An absent disk
    /// (gone, not mounted, not yet formatted: `disk_id.rs`) gets no file (`degraded.rs`).
    fn reopen_pack(&self, pack: u32) -> Result<PackWriter, BlobError> {
        let opts = OpenOptions {
            create: true,
            ..OpenOptions::read_write()
        };
        let mut files = Vec::with_capacity(self.layout.width());
        let mut failed = 0u32;
        let mut end = 0;
        for i in 0..self.layout.width() {
            if self.disk_absent(i) {
                files.push(None);
                continue;
            }
            let opened = self
                .fs
                .open(&self.pack_path(pack, i), opts)
                .and_then(|f| f.len().map(|len| (f, len)));
            match opened {
                Ok((f, len)) => {
                    end = end.max(len);
                    files.push(Some(f));
                }
                Err(e) if e.is_device_failure() => {
                    self.leave_out(&mut failed, i, &e);
                    files.push(None);
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.make_pack_durable(&mut files, &mut failed)?;
        Ok(PackWriter {
            pack,
            files,
            next: end.next_multiple_of(RECORD_ALIGN),
            failed,
            records: 0,
        })
    }

    /// Make a new or reopened pack's files durable before any record goes in: `sync_all` of
    /// each (the inode, not just data), then their directory entries. A disk that fails
    /// either loses its file from the pack (bit `i` of `failed`). Fails if fewer than K files
    /// are left.
    fn make_pack_durable(&self, files: &mut ShardSet, failed: &mut u32) -> Result<(), BlobError> {
        self.enough_disks(files)?;
        for (i, slot) in files.iter_mut().enumerate() {
            let Some(f) = slot else { continue };
            match f.sync_all() {
                Ok(()) => {}
                Err(e) if e.is_device_failure() => {
                    self.leave_out(failed, i, &e);
                    *slot = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let shards = present_shards(files);
        let dirs: Vec<PathBuf> = shards.iter().map(|&i| self.pack_dir(i)).collect();
        let results = crate::io::sync_dirs_each(&*self.fs, &dirs);
        for (&i, r) in shards.iter().zip(results) {
            match r {
                Ok(()) => {}
                Err(e) if e.is_device_failure() => {
                    self.leave_out(failed, i, &e);
                    files[i] = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.enough_disks(files)
    }

    /// Note that disk `i` failed `e` and is left out of the pack being made.
    fn leave_out(&self, failed: &mut u32, i: usize, e: &IoError) {
        self.note_disk_failure(i, &e.to_string());
        *failed |= 1 << i;
    }

    /// Create the K + M files of the first pack numbered `from` or above that no one has
    /// taken, durably (file and directory entry) before any record is written to it.
    fn create_pack(&self, from: u32) -> Result<PackWriter, BlobError> {
        let width = self.layout.width();
        let dirs: Vec<PathBuf> = (0..width).map(|i| self.pack_dir(i)).collect();
        let mut pack = from;
        'numbers: loop {
            let mut files = Vec::with_capacity(width);
            let mut failed = 0u32;
            for i in 0..width {
                // Created by path: not on another disk put in place of this store's (a look
                // at its identity file per disk per pack made).
                if self.disk_absent(i) {
                    files.push(None);
                    continue;
                }
                match self
                    .fs
                    .open(&self.pack_path(pack, i), OpenOptions::create_new())
                {
                    Ok(f) => files.push(Some(f)),
                    Err(e) if e.is_already_exists() => {
                        // A leftover of an interrupted creation: leave it, try the next number.
                        for j in 0..i {
                            let _ = self.fs.remove_file(&self.pack_path(pack, j));
                        }
                        pack = pack.checked_add(1).ok_or_else(|| {
                            BlobError::Io(crate::io::IoError::invalid(
                                "create pack",
                                &dirs[0],
                                "every pack number is taken",
                            ))
                        })?;
                        continue 'numbers;
                    }
                    // An absent disk (`disk_id.rs`): the pack is made without it.
                    Err(_) if self.disk_absent(i) => files.push(None),
                    // A disk that fails: likewise (`degraded.rs`).
                    Err(e) if e.is_device_failure() => {
                        self.leave_out(&mut failed, i, &e);
                        files.push(None);
                    }
                    Err(e) => {
                        // A disk that is there but cannot take its file: leave no half-made
                        // pack behind, or every refused PUT would add one.
                        for j in 0..i {
                            let _ = self.fs.remove_file(&self.pack_path(pack, j));
                        }
                        return Err(e.into());
                    }
                }
            }
            if let Err(e) = self.make_pack_durable(&mut files, &mut failed) {
                for j in 0..width {
                    let _ = self.fs.remove_file(&self.pack_path(pack, j));
                }
                return Err(e);
            }
            return Ok(PackWriter {
                pack,
                files,
                next: 0,
                failed,
                records: 0,
            });
        }
    }

    /// Every pack number with a file on any disk, ascending (a failing disk passed over).
    fn pack_numbers(&self) -> Result<Vec<u32>, BlobError> {
        let mut numbers = BTreeSet::new();
        for i in 0..self.layout.width() {
            for name in self.list_if_working(&self.pack_dir(i))? {
                if let Some(n) = name
                    .split_once('.')
                    .and_then(|(n, _)| u32::from_str_radix(n, 16).ok())
                {
                    numbers.insert(n);
                }
            }
        }
        Ok(numbers.into_iter().collect())
    }

    /// The files of pack `pack` that exist, for reading and punching: `None` for one that is
    /// not there, or whose disk fails to open it (every record is on K disks or more).
    fn open_pack(&self, pack: u32) -> Result<Vec<Option<FileHandle>>, BlobError> {
        (0..self.layout.width())
            .map(|i| {
                match self
                    .fs
                    .open(&self.pack_path(pack, i), OpenOptions::read_write())
                {
                    Ok(f) => Ok(Some(f)),
                    Err(e) if e.is_not_found() || e.is_device_failure() => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .collect()
    }

    /// The header at `offset` of the first of `files` that has a valid one naming `offset` of
    /// `pack` as its own place.
    fn record_header(
        &self,
        files: &[Option<FileHandle>],
        pack: u32,
        offset: u64,
    ) -> Option<ShardHeader> {
        let l = &self.layout;
        let mut h = [0u8; usize_of(HEADER_BYTES)];
        files.iter().flatten().find_map(|f| {
            f.read_exact_at(&mut h, offset).ok()?;
            let header = ShardHeader::decode(&h).ok()?;
            let here = PackPlace { pack, offset };
            let fits = DataId(header.data_id).pack_place() == Some(here)
                && header.k as usize == l.k
                && header.m as usize == l.m
                && header.shard_len_max == l.shard_len_max
                && self.packs_blob(header.object_size);
            fits.then_some(header)
        })
    }

    /// Every packed blob with a record on any disk (for finding orphans).
    pub(super) fn list_packed(&self, ids: &mut BTreeSet<DataId>) -> Result<(), BlobError> {
        for pack in self.pack_numbers()? {
            let files = self.open_pack(pack)?;
            let mut end = 0;
            for f in files.iter().flatten() {
                end = end.max(f.len()?);
            }
            let mut offset = 0;
            while offset < end {
                if let Some(h) = self.record_header(&files, pack, offset) {
                    ids.insert(DataId(h.data_id));
                    offset += self.record_len(h.object_size);
                    continue;
                }
                // A hole (a deleted record), a torn write or a reserved record never written:
                // on to the next block that holds data on any disk.
                let mut next: Option<u64> = None;
                for f in files.iter().flatten() {
                    if let Some(at) = f.next_data(offset + RECORD_ALIGN)? {
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                }
                match next {
                    Some(at) => {
                        offset = (at / RECORD_ALIGN * RECORD_ALIGN).max(offset + RECORD_ALIGN)
                    }
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Remove every pack that holds no record any more — all its files are holes, or empty
    /// (a pack created by a process that wrote nothing before it stopped). The pack this store
    /// appends to stays, and nothing is removed while another store appends. Returns how many
    /// packs were removed.
    pub fn remove_empty_packs(&self) -> Result<u64, BlobError> {
        let packing = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        let (current, _lock) = match &*packing {
            Packing::Appending { writer, .. } => (Some(writer.pack), None),
            Packing::Elsewhere => return Ok(0),
            Packing::Unopened => {
                // Disk 0 holds the packs' lock: gone or failing, nothing is removed until it
                // works (a store must open with disk 0 dead).
                match self.fs.exists(&self.pack_dir(0)) {
                    Ok(true) => {}
                    Ok(false) => return Ok(0),
                    Err(e) if e.is_device_failure() => return Ok(0),
                    Err(e) => return Err(e.into()),
                }
                match self.fs.lock(&self.pack_dir(0).join("LOCK")) {
                    Ok(l) => (None, Some(l)),
                    Err(IoError::Locked { .. }) => return Ok(0),
                    Err(e) if e.is_device_failure() => return Ok(0),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut removed = 0;
        for pack in self.pack_numbers()? {
            if Some(pack) == current {
                continue;
            }
            let mut empty = true;
            for f in self.open_pack(pack)?.iter().flatten() {
                if f.next_data(0)?.is_some() {
                    empty = false;
                    break;
                }
            }
            if !empty {
                continue;
            }
            self.pack_readers.forget_pack(pack);
            for i in 0..self.layout.width() {
                match self.fs.remove_file(&self.pack_path(pack, i)) {
                    Ok(()) => {}
                    // A failing disk keeps its file: the next sweep once it works removes it.
                    Err(e) if e.is_not_found() || e.is_device_failure() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            removed += 1;
        }
        Ok(removed)
    }

    /// Every pack and its length: the longest of its files, in bytes (for compaction and
    /// stats: a pack's records lie within it).
    pub fn pack_lengths(&self) -> Result<BTreeMap<u32, u64>, BlobError> {
        let mut out = BTreeMap::new();
        for pack in self.pack_numbers()? {
            let mut len = 0;
            for f in self.open_pack(pack)?.iter().flatten() {
                len = len.max(f.len()?);
            }
            out.insert(pack, len);
        }
        Ok(out)
    }

    /// Bytes a pack record of a `size`-byte blob spans in each pack file.
    pub fn record_bytes(&self, size: u64) -> u64 {
        self.record_len(size)
    }

    /// Stop appending to pack `pack` if this store is: the next record starts a new pack. (So
    /// compaction can empty it.)
    pub fn seal_pack(&self, pack: u32) -> Result<(), BlobError> {
        let mut packing = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        // Not appending yet: the first record would continue the newest pack — maybe this one.
        // (With disk 0, and so the packs' lock, gone, this fails: compaction waits for it.)
        if let Packing::Unopened = *packing {
            *packing = self.start_packing()?;
        }
        if let Packing::Appending { writer, .. } = &mut *packing {
            if writer.pack == pack {
                *writer = self.create_pack(pack + 1)?;
            }
        }
        Ok(())
    }

    /// Free a packed blob's record on every disk. Its length comes from any header still
    /// naming it; with none left there is nothing of it to free.
    pub(super) fn delete_packed(&self, id: &DataId, place: PackPlace) -> Result<bool, BlobError> {
        let files = self.open_pack(place.pack)?;
        let Some(h) = self.record_header(&files, place.pack, place.offset) else {
            return Ok(false);
        };
        if h.data_id != id.0 {
            // Another blob's record (the id's random bits differ): not ours to free.
            return Ok(false);
        }
        let len = self.record_len(h.object_size);
        for f in files.iter().flatten() {
            match f.punch_hole(place.offset, len) {
                Ok(()) => {}
                // A failing disk keeps the record's bytes: the orphan sweep frees them once
                // the disk works (no metadata names the record any more).
                Err(e) if e.is_device_failure() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }
}
