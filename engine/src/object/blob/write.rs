//! The PUT data path: input → stripes → parity and CRCs → K + M shard files (or, for a small
//! blob, one record in each of K + M pack files: `pack.rs`), durable.
//!
//! What it costs, and what this file does about each part (figures: docs/benchmarks.md):
//!
//! - **Hashing.** MD5 (the ETag) runs at about 0.6 GB/s on one core and cannot be split: it is
//!   one sequential chain over the whole object. For objects of more than one stripe on a real
//!   disk the PUT is a three-thread pipeline (`pipeline.rs`): MD5 on its own thread fed one data
//!   shard at a time, the block writes on another, SHA-256 (SHA-NI, about 1.8 GB/s), parity and
//!   CRCs on this one. Everything else here is the one-thread path (one-stripe blobs, and the
//!   simulator, which allows no threads).
//! - **Copies.** Objects of at least one full stripe are written with direct I/O (`O_DIRECT`)
//!   from aligned stripe buffers: no copy into the page cache, no write-back later, and the final
//!   `fdatasync` only has metadata to commit. Buffered writes cost this machine's kernel about
//!   0.7 GB/s of CPU — more than the device takes. Smaller objects stay buffered: with sync off
//!   their writes then return as soon as the page cache has them. A file system without direct
//!   I/O (tmpfs) is detected on the first PUT and buffered I/O is used from then on.
//! - **Requests.** One batched submission per stripe (all K + M blocks). The last stripe's block
//!   carries the checksum trailer — and for a one-stripe object the header too — so a small
//!   object is one write per shard file or pack file. With direct I/O that last write is padded
//!   with zeros to 4096 bytes; nothing reads past the trailer, whose offset follows from the
//!   object size.
//! - **Sync.** The K + M `fdatasync`s, then the directory syncs (none for a pack record: the
//!   pack's entries were made durable when it was opened), are issued concurrently
//!   ([`crate::io::sync_data_all`]) so the device and the journal see them together.
//! - **Files.** Creating K + M files is most of a small PUT's cost (and unlinking them most of a
//!   DELETE's), which is why blobs shorter than a full stripe go to pack records instead.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::cast::usize_of;
use std::io::Read;
use std::sync::atomic::Ordering;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::degraded::{present, present_shards, ShardSet};
use super::pipeline::STRIPE_BUFFERS;
use super::{read_full, BlobDigest, BlobError, BlobStore, DataId, ShardFrame};
use crate::io::{AlignedBuf, BackendKind, IoError, IoOp, DIRECT_IO_ALIGN};
use crate::object::erasure::Codec;
use crate::object::layout::Stripe;
use crate::object::shard::{crc32, ChecksumTable, Description};
use crate::object::sse::Key;

/// Buffers shorter than this are not kept.
const POOLED_MIN: usize = 256 << 10;

impl BlobStore {
    /// Write a blob of exactly `size` bytes read from `src`. Durable when it returns if `sync`.
    /// `fresh` is a new UUIDv7; the blob's id is `fresh` itself for a blob in files of its own,
    /// and made from it for a blob in a pack (`pack.rs`). `desc_len` is how long the JSON of
    /// the description written later ([`BlobStore::write_description`]) may be: a small blob
    /// goes to a pack only if that fits its record. Returns the id and the digests.
    /// On error, what was written is removed (best effort: a crash leaves orphans that the
    /// orphan sweep finds). `seal`: a data key whose AES-256-CTR key stream is applied to the
    /// bytes after they are hashed and before parity, CRCs and writes (server-side encryption,
    /// `object/sse.rs`): the digests are the plaintext's, everything stored is ciphertext.
    pub fn write_described(
        &self,
        fresh: &DataId,
        src: &mut dyn Read,
        size: u64,
        sync: bool,
        desc_len: usize,
        seal: Option<&Key>,
    ) -> Result<(DataId, BlobDigest), BlobError> {
        debug_assert!(
            fresh.pack_place().is_none(),
            "a fresh blob id is a UUIDv7, not a pack id"
        );
        let record = if self.packs_blob(size) && self.description_fits_record(size, desc_len) {
            self.reserve_record(fresh, size)?
        } else {
            None
        };
        let (id, mut files, direct) = if let Some((id, files)) = record {
            (id, files, false)
        } else {
            let l = &self.layout;
            let want_direct = size >= l.stripe_data_max() && self.direct_ok.load(Ordering::Relaxed);
            match self.create_shard_files(fresh, want_direct) {
                Ok((files, direct)) => (*fresh, files, direct),
                Err(e) => {
                    let _ = self.delete(fresh);
                    return Err(e);
                }
            }
        };
        let result = self.write_inner(&id, &mut files, direct, src, size, sync, seal);
        match &result {
            Ok(_) => self.note_absent_shards(&id, &files),
            Err(_) => {
                let _ = self.delete(&id);
            }
        }
        result.map(|d| (id, d))
    }

    /// [`BlobStore::write_described`] for a blob whose description (if it gets one) is
    /// short: at most [`super::DESC_SLOT_MIN`] bytes fit any pack record.
    pub fn write(
        &self,
        fresh: &DataId,
        src: &mut dyn Read,
        size: u64,
        sync: bool,
    ) -> Result<(DataId, BlobDigest), BlobError> {
        self.write_described(fresh, src, size, sync, 0, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_inner(
        &self,
        id: &DataId,
        files: &mut ShardSet,
        direct: bool,
        src: &mut dyn Read,
        size: u64,
        sync: bool,
        seal: Option<&Key>,
    ) -> Result<BlobDigest, BlobError> {
        let frame = ShardFrame::of(id);
        // Simulated disks stay on one thread (the simulator's determinism rule).
        if self.fs.kind() != BackendKind::Sim && self.layout.stripe_count(size) > 1 {
            return self.write_pipelined(id, files, frame, direct, src, size, sync, seal);
        }
        let l = &self.layout;
        if l.stripe_count(size) > 1 {
            let headers: Vec<AlignedBuf> = (0..l.width())
                .map(|i| self.header_block(id, size, i))
                .collect();
            let shards = present_shards(files);
            let mut ops: Vec<IoOp<'_>> = present(files, &headers)
                .map(|(file, h)| IoOp::Write {
                    file,
                    offset: frame.start,
                    buf: h,
                })
                .collect();
            let results = self.fs.submit(&mut ops);
            drop(ops);
            self.settle(id, files, &shards, results)?;
        }
        let (sha, md5) = self.write_stripes(id, src, size, files, frame, direct, seal)?;
        if sync {
            self.sync_blob(id, files)?;
        }
        Ok(BlobDigest {
            size,
            md5: md5.finalize().into(),
            sha256: sha,
        })
    }

    /// Write an empty blob whose description is `json`, in **one** write per shard (header,
    /// trailer and description together) and one `fdatasync` (durable on return if `sync`).
    /// This is how what has no data — a delete marker, a bucket's settings — is put on the
    /// data side (`object/describe.rs`): a pack record when the description fits one, else
    /// shard files of its own. Every shard holds the same description, so any one disk that
    /// survives brings it back. On error, what was written is removed (best effort).
    pub fn write_note(&self, fresh: &DataId, json: &[u8], sync: bool) -> Result<DataId, BlobError> {
        debug_assert!(
            fresh.pack_place().is_none(),
            "a fresh blob id is a UUIDv7, not a pack id"
        );
        let record = if self.description_fits_record(0, json.len()) {
            self.reserve_record(fresh, 0)?
        } else {
            None
        };
        let (id, mut files) = match record {
            Some(r) => r,
            None => match self.create_shard_files(fresh, false) {
                Ok((files, _)) => (*fresh, files),
                Err(e) => {
                    let _ = self.delete(fresh);
                    return Err(e);
                }
            },
        };
        let result = self.write_note_inner(&id, &mut files, json, sync);
        if result.is_err() {
            let _ = self.delete(&id);
        }
        result.map(|()| id)
    }

    fn write_note_inner(
        &self,
        id: &DataId,
        files: &mut ShardSet,
        json: &[u8],
        sync: bool,
    ) -> Result<(), BlobError> {
        let section = Description::encode(json);
        let frame = ShardFrame::of(id);
        let table = ChecksumTable::new(self.layout.width(), 0);
        let (offset, tails) = self.last_blocks(id, 0, frame, false, None, &table);
        let bufs: Vec<AlignedBuf> = tails
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // The description's place relative to this write's start: right after the
                // trailer in a pack record (inside the record's length), at the next 4096
                // bytes in a shard file.
                let at = crate::cast::usize_of(self.desc_place(id, 0, i).1 - offset);
                let mut out = AlignedBuf::zeroed(t.len().max(at + section.len()));
                out[..t.len()].copy_from_slice(t);
                out[at..at + section.len()].copy_from_slice(&section);
                out
            })
            .collect();
        let shards = present_shards(files);
        let mut ops: Vec<IoOp<'_>> = present(files, &bufs)
            .map(|(file, b)| IoOp::Write {
                file,
                offset,
                buf: b,
            })
            .collect();
        let results = self.fs.submit(&mut ops);
        drop(ops);
        self.settle(id, files, &shards, results)?;
        if sync {
            self.sync_blob(id, files)?;
        }
        Ok(())
    }

    /// Make a written blob durable: `fdatasync` every file, then (for shard files of its own)
    /// sync every directory that gained an entry — each group issued concurrently. A shard
    /// whose disk fails either is dropped (`degraded.rs`).
    pub(super) fn sync_blob(&self, id: &DataId, files: &mut ShardSet) -> Result<(), BlobError> {
        self.sync_files(id, files)?;
        // A pack's files were made durable in the directory when the pack was created.
        if id.pack_place().is_some() {
            return Ok(());
        }
        let shards = present_shards(files);
        let dirs: Vec<_> = shards.iter().map(|&i| self.shard_dir(i, id)).collect();
        let results = crate::io::sync_dirs_each(&*self.fs, &dirs);
        self.settle(id, files, &shards, results)
    }

    /// `fdatasync` the files a blob was just written to (what was written to them before is
    /// durable on return). A pack record's files are synced with the records written meanwhile
    /// (`pack_sync.rs`) when they are all of its pack's files; fewer (a shard that could not be
    /// opened, or a pack made with a disk missing) sync on their own, since a group's sync must
    /// cover every file of the pack.
    ///
    /// A file whose disk fails its sync is dropped from the blob (`degraded.rs`); for a pack
    /// record, that pack file is then failed for every record of the pack (`pack_sync.rs`).
    pub(super) fn sync_files(&self, id: &DataId, files: &mut ShardSet) -> Result<(), BlobError> {
        let shards = present_shards(files);
        let Some(place) = id.pack_place() else {
            let handles: Vec<&dyn crate::io::File> = present(files, 0..).map(|(f, _)| f).collect();
            let results = crate::io::sync_data_each(&*self.fs, &handles);
            drop(handles);
            return self.settle(id, files, &shards, results);
        };
        let group = self.pack_sync(place.pack);
        let pack = self.pack_path(place.pack, 0);
        let sync = |files: &ShardSet| {
            let handles: Vec<&dyn crate::io::File> = present(files, 0..).map(|(f, _)| f).collect();
            present_shards(files)
                .into_iter()
                .zip(crate::io::sync_data_each(&*self.fs, &handles))
                .collect::<Vec<_>>()
        };
        let failed = if shards.len() == self.layout.width() {
            group.sync_through(group.written(), &pack, || sync(files))?
        } else {
            group.sync_alone(&pack, || sync(files))?
        };
        // The pack files that failed a sync (this one or an earlier one): what this record
        // wrote to them may not be on disk.
        let mut first = None;
        for (i, why) in failed {
            if files[i].is_some() {
                self.drop_shard(id, files, i, &why);
                first.get_or_insert((i, why));
            }
        }
        match first {
            Some((i, why)) if files.iter().flatten().count() < self.layout.k => {
                Err(BlobError::Io(IoError::eio(
                    "fdatasync",
                    &self.pack_path(place.pack, i),
                    &format!("too few pack files left to hold the record; {why}"),
                )))
            }
            _ => Ok(()),
        }
    }

    /// Create the K + M shard files, with direct I/O if asked and the file system allows it.
    /// Returns the files and whether they are direct. A shard whose disk is absent (gone, not
    /// mounted, not yet formatted: `disk_id.rs`) gets no file (`degraded.rs`), as long as K
    /// disks take one; on error the files made so far are left for the caller's `delete`.
    fn create_shard_files(&self, id: &DataId, direct: bool) -> Result<(ShardSet, bool), BlobError> {
        let mut files = Vec::with_capacity(self.layout.width());
        for i in 0..self.layout.width() {
            match self.open_new_shard(id, i, direct) {
                Ok(f) => files.push(Some(f)),
                Err(BlobError::Io(e)) if e.is_device_failure() => {
                    // A disk that fails: this blob goes on without it (`degraded.rs`).
                    self.note_disk_failure(i, &e.to_string());
                    files.push(None);
                }
                Err(BlobError::Io(IoError::InvalidInput { .. })) if direct => {
                    // No O_DIRECT here (tmpfs, some FUSE file systems): buffered from now on.
                    self.direct_ok.store(false, Ordering::Relaxed);
                    drop(files);
                    let _ = self.delete(id);
                    return self.create_shard_files(id, false);
                }
                Err(_) if self.disk_absent(i) => files.push(None),
                Err(e) => return Err(e),
            }
        }
        self.enough_disks(&files)?;
        Ok((files, direct))
    }

    /// The 4096-byte header block of shard file `shard`, aligned for direct I/O.
    pub(super) fn header_block(&self, id: &DataId, size: u64, shard: usize) -> AlignedBuf {
        AlignedBuf::from_slice(&self.header(id, size, shard).encode())
    }

    /// Read, hash, encode and write every stripe, then the trailers, where `frame` puts them,
    /// all on this thread (the simulator's path, and one-stripe blobs: `pipeline.rs` is the
    /// other). Returns the SHA-256 and the MD5 state.
    #[allow(clippy::too_many_arguments)]
    fn write_stripes(
        &self,
        id: &DataId,
        src: &mut dyn Read,
        size: u64,
        files: &mut ShardSet,
        frame: ShardFrame,
        direct: bool,
        seal: Option<&Key>,
    ) -> Result<([u8; 32], Md5), BlobError> {
        let mut md5 = Md5::new();
        let l = &self.layout;
        let (k, width) = (l.k, l.width());
        let stripes = l.stripe_count(size);
        // Buffers as large as the first stripe's shards (the longest): a 4 KiB object must not
        // pay for zeroing megabytes of buffer.
        let shard_max = match stripes {
            0 => 0,
            _ => usize_of(l.stripe(size, 0).shard_len),
        };
        let mut sha = Sha256::new();
        let mut codec = Codec::new(k, l.m);
        let mut table = ChecksumTable::new(width, stripes);
        let mut parity = self.take_buffer(l.m * shard_max);
        let mut buf = self.take_buffer(k * shard_max);
        let mut written = 0u64;
        if stripes == 0 {
            // An empty object: header and trailer only.
            self.write_last(id, size, files, frame, direct, None, &table)?;
        }
        for stripe in l.stripes(size) {
            let shard_len = usize_of(stripe.shard_len);
            let data_len = usize_of(stripe.data_len);
            {
                let data = &mut buf[..k * shard_len];
                let got = read_full(src, &mut data[..data_len]).map_err(BlobError::Source)?;
                written += got as u64;
                if got < data_len {
                    return Err(BlobError::SourceTooShort {
                        expected: size,
                        got: written,
                    });
                }
                data[data_len..].fill(0);
            }
            md5.update(&buf[..data_len]);
            sha.update(&buf[..data_len]);
            if let Some(key) = seal {
                // Hashed as given, stored encrypted; the zero padding stays zeros.
                key.apply(stripe.object_offset, &mut buf[..data_len]);
            }
            let data = &buf[..k * shard_len];
            let par = &mut parity[..l.m * shard_len];
            {
                let d: Vec<&[u8]> = data.chunks(shard_len).collect();
                let mut p: Vec<&mut [u8]> = par.chunks_mut(shard_len).collect();
                codec
                    .encode(&d, &mut p)
                    .map_err(|source| BlobError::Encode {
                        stripe: stripe.index,
                        source,
                    })?;
            }
            let shards: Vec<&[u8]> = data
                .chunks(shard_len)
                .chain(par.chunks(shard_len))
                .collect();
            for (i, s) in shards.iter().enumerate() {
                table.set(stripe.index, i, crc32(s));
            }
            if stripe.index + 1 == stripes {
                let last = Some((&stripe, &shards[..]));
                self.write_last(id, size, files, frame, direct, last, &table)?;
            } else {
                let present_at = present_shards(files);
                let mut ops: Vec<IoOp<'_>> = present(files, &shards)
                    .map(|(file, s)| IoOp::Write {
                        file,
                        offset: frame.block(&stripe),
                        buf: s,
                    })
                    .collect();
                let results = self.fs.submit(&mut ops);
                drop(ops);
                self.settle(id, files, &present_at, results)?;
            }
        }
        // The input must end exactly at `size`.
        let mut probe = [0u8; 1];
        if read_full(src, &mut probe).map_err(BlobError::Source)? != 0 {
            return Err(BlobError::Source(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the object's input is longer than the declared {size} bytes"),
            )));
        }
        self.give_buffer(parity);
        self.give_buffer(buf);
        Ok((sha.finalize().into(), md5))
    }

    /// The last write of every shard file ([`BlobStore::last_blocks`]), in one batch.
    #[allow(clippy::too_many_arguments)]
    fn write_last(
        &self,
        id: &DataId,
        size: u64,
        files: &mut ShardSet,
        frame: ShardFrame,
        direct: bool,
        last: Option<(&Stripe, &[&[u8]])>,
        table: &ChecksumTable,
    ) -> Result<(), BlobError> {
        let (offset, tails) = self.last_blocks(id, size, frame, direct, last, table);
        let shards = present_shards(files);
        let mut ops: Vec<IoOp<'_>> = present(files, &tails)
            .map(|(file, t)| IoOp::Write {
                file,
                offset,
                buf: t,
            })
            .collect();
        let results = self.fs.submit(&mut ops);
        drop(ops);
        self.settle(id, files, &shards, results)
    }

    /// The last write of every shard file, and where it goes: `[header if the object has at
    /// most one stripe] [last shard block] trailer [zeros to 4096 with direct I/O]`.
    pub(super) fn last_blocks(
        &self,
        id: &DataId,
        size: u64,
        frame: ShardFrame,
        direct: bool,
        last: Option<(&Stripe, &[&[u8]])>,
        table: &ChecksumTable,
    ) -> (u64, Vec<AlignedBuf>) {
        let with_header = self.layout.stripe_count(size) <= 1;
        let offset = match (with_header, last) {
            (true, _) | (false, None) => frame.start,
            (false, Some((stripe, _))) => frame.block(stripe),
        };
        let header_len = usize_of(frame.header_len);
        let tails: Vec<AlignedBuf> = (0..self.layout.width())
            .map(|i| {
                let trailer = table.encode_trailer(
                    &id.0,
                    u32::try_from(i).expect("at most MAX_SHARDS (32) shards"),
                );
                let block = last.map_or(&[][..], |(_, shards)| shards[i]);
                let mut len = block.len() + trailer.len();
                if with_header {
                    len += header_len;
                }
                let padded = if direct {
                    len.next_multiple_of(DIRECT_IO_ALIGN)
                } else if id.pack_place().is_some() {
                    // A pack record is written to its end, description slot included (zeros
                    // until the description comes): a store that reopens the pack continues
                    // after the longest file's end, which must not fall inside a record.
                    usize_of(self.record_len(size))
                } else {
                    len
                };
                let mut out = AlignedBuf::zeroed(padded);
                let mut at = 0;
                if with_header {
                    // A shard file's header block, or a pack record's unpadded header.
                    out[..header_len]
                        .copy_from_slice(&self.header_block(id, size, i)[..header_len]);
                    at = header_len;
                }
                out[at..at + block.len()].copy_from_slice(block);
                at += block.len();
                out[at..at + trailer.len()].copy_from_slice(&trailer);
                out
            })
            .collect();
        (offset, tails)
    }
}

impl BlobStore {
    /// An aligned buffer of `len` bytes, from the pool when it has one that long. Its contents
    /// are whatever the last PUT left: every byte that is written is written first.
    pub(super) fn take_buffer(&self, len: usize) -> AlignedBuf {
        let mut pool = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        match pool.iter().position(|b| b.len() == len) {
            Some(i) => pool.swap_remove(i),
            None => AlignedBuf::zeroed(len),
        }
    }

    /// Keep a large buffer for the next PUT (a fresh one costs a page fault per 4 KiB);
    /// small ones are cheaper to allocate than to keep.
    pub(super) fn give_buffer(&self, b: AlignedBuf) {
        if b.len() < POOLED_MIN {
            return;
        }
        let mut pool = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        // Two PUTs' worth of pipeline buffers, so that a second concurrent PUT finds its
        // buffers too.
        if pool.len() < 2 * STRIPE_BUFFERS * self.layout.width() {
            pool.push(b);
        }
    }
}
