//! One simulated file's bytes: what is durable, what is pending, what a reader sees.
//!
//! The model, exactly:
//! - `durable` is what the medium holds: what survives a crash for sure.
//! - `pending` is the ordered list of operations since the last sync (writes and length
//!   changes). Each write remembers the *sector image* it produced: the full 512-byte sectors it
//!   touched, as they looked in the page cache right after the write (bytes past the end of the
//!   file as zeros). A device writes whole sectors, so that image is what can reach the medium.
//! - `current` is what reads return: `durable` with every pending operation applied in order
//!   (except after a failed sync, see [`FileContent::fail_sync`]).
//!
//! A crash replays the pending operations onto `durable`, each one kept, torn (only its first
//! k sectors of image reach the medium, 0 < k < sectors) or dropped, as the seeded RNG decides.
//! Because images are whole sectors, a sector after a crash always holds the content it had at
//! some moment since the last sync (or zeros where the file grew but the data never landed);
//! never a mix of bytes that never coexisted in one sector.

use super::super::{IoError, Result};
use super::config::SimCrash;
use crate::rng::DetRng;

/// The device's atomic write unit: a write reaches the medium in whole sectors.
pub const SECTOR_BYTES: u64 = 512;

/// The largest file the simulated disk holds, 1 GiB: everything lives in memory, so a wild
/// offset (a length read from corrupt data, say) fails with a clear error instead of
/// allocating gigabytes.
pub const FILE_BYTES_MAX: u64 = 1 << 30;

/// One operation since the last sync.
#[derive(Clone, Debug)]
pub(crate) enum PendingOp {
    /// A write of `len` bytes at `offset`; `image` holds the whole sectors it touched, starting
    /// at `image_offset` (a multiple of [`SECTOR_BYTES`]).
    Write {
        offset: u64,
        len: u64,
        image_offset: u64,
        image: Vec<u8>,
    },
    /// The file cut or extended to `len` bytes.
    SetLen { len: u64 },
}

/// What a crash (or a failed sync) did to one pending operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Fate {
    /// The operation reached the medium whole.
    Kept,
    /// The operation never reached the medium.
    Dropped,
    /// Only the first `kept_bytes` of the write's sector image (counted from the sector
    /// containing its first byte) reached the medium.
    Torn {
        /// Bytes of the sector image that survived, a positive multiple of 512.
        kept_bytes: u64,
    },
}

/// One pending operation's fate, for the crash report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpFate {
    /// `"write"` or `"truncate"`.
    pub kind: &'static str,
    /// Write offset (0 for a truncate).
    pub offset: u64,
    /// Bytes written, or the length a truncate set.
    pub len: u64,
    /// What happened to it.
    pub fate: Fate,
}

/// A simulated file's content (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct FileContent {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<PendingOp>,
    /// True once a failed sync made `current` differ from `durable` + `pending` for good.
    diverged: bool,
}

impl FileContent {
    /// An empty file.
    pub fn new() -> Self {
        FileContent::default()
    }

    /// The length readers see.
    pub fn len(&self) -> u64 {
        self.current.len() as u64
    }

    /// Number of operations waiting for a sync.
    pub fn pending_ops(&self) -> usize {
        self.pending.len()
    }

    /// What readers see.
    #[cfg(test)]
    pub fn current(&self) -> &[u8] {
        &self.current
    }

    /// What the medium holds.
    pub fn durable(&self) -> &[u8] {
        &self.durable
    }

    /// Copy bytes at `offset` into `buf`; returns the count (short only at the end).
    pub fn read(&self, buf: &mut [u8], offset: u64) -> usize {
        let len = self.len();
        if offset >= len {
            return 0;
        }
        let start = offset as usize;
        let n = buf.len().min((len - offset) as usize);
        buf[..n].copy_from_slice(&self.current[start..start + n]);
        n
    }

    /// Write `data` at `offset` in the page cache, extending with zeros if needed. The caller
    /// has checked that `offset + data.len() <= FILE_BYTES_MAX`.
    pub fn write(&mut self, data: &[u8], offset: u64) {
        if data.is_empty() {
            return; // pwrite of nothing changes nothing, not even the length
        }
        let end = offset + data.len() as u64;
        assert!(end <= FILE_BYTES_MAX, "caller checks the file size limit");
        if end > self.len() {
            self.current.resize(end as usize, 0);
        }
        self.current[offset as usize..end as usize].copy_from_slice(data);
        let image_offset = offset / SECTOR_BYTES * SECTOR_BYTES;
        let image_end = end.next_multiple_of(SECTOR_BYTES);
        let mut image = vec![0u8; (image_end - image_offset) as usize];
        let have_end = image_end.min(self.len());
        image[..(have_end - image_offset) as usize]
            .copy_from_slice(&self.current[image_offset as usize..have_end as usize]);
        self.pending.push(PendingOp::Write {
            offset,
            len: data.len() as u64,
            image_offset,
            image,
        });
    }

    /// Cut or extend the file to `len` bytes (caller checked `len <= FILE_BYTES_MAX`).
    pub fn set_len(&mut self, len: u64) {
        assert!(len <= FILE_BYTES_MAX, "caller checks the file size limit");
        self.current.resize(len as usize, 0);
        self.pending.push(PendingOp::SetLen { len });
    }

    /// A successful sync: every pending operation reaches the medium.
    pub fn sync(&mut self) {
        let mut replay = Replay::new(std::mem::take(&mut self.durable));
        for op in &self.pending {
            replay.apply(op, Fate::Kept);
        }
        self.durable = replay.finish();
        if cfg!(debug_assertions) && !self.diverged {
            self.assert_synced_matches_current();
        }
        self.pending.clear();
    }

    /// The invariant behind the model: replaying every pending operation onto the medium
    /// gives exactly what readers saw. Checked on the touched sectors only, so the cost stays
    /// proportional to the bytes written, not to the file size.
    fn assert_synced_matches_current(&self) {
        assert_eq!(self.durable.len(), self.current.len(), "synced length");
        for op in &self.pending {
            if let PendingOp::Write {
                image_offset,
                image,
                ..
            } = op
            {
                let start = (*image_offset as usize).min(self.current.len());
                let end = (*image_offset as usize + image.len()).min(self.current.len());
                assert!(
                    self.durable[start..end] == self.current[start..end],
                    "synced bytes {start}..{end} differ from what readers saw"
                );
            }
        }
    }

    /// A crash: each pending operation is kept, torn or dropped; the survivors become both the
    /// durable and the visible content. Returns each operation's fate, in order.
    pub fn crash(&mut self, rng: &mut DetRng, policy: &SimCrash) -> Vec<OpFate> {
        let fates = self.resolve(rng, policy);
        self.current = self.durable.clone();
        self.diverged = false;
        fates
    }

    /// A failed sync (fsyncgate): the pending operations are written back as well as the device
    /// managed, like in a crash, and forgotten; readers keep seeing the page cache, which now
    /// differs from the medium until those bytes are written again.
    pub fn fail_sync(&mut self, rng: &mut DetRng, policy: &SimCrash) -> Vec<OpFate> {
        let fates = self.resolve(rng, policy);
        if self.durable != self.current {
            self.diverged = true;
        }
        fates
    }

    /// Flip bits of the byte at `offset` in both the medium and the page cache. Returns false
    /// if the offset is past the end of both.
    pub fn corrupt(&mut self, offset: u64, xor_mask: u8) -> bool {
        let mut hit = false;
        for bytes in [&mut self.durable, &mut self.current] {
            if let Some(b) = usize::try_from(offset).ok().and_then(|o| bytes.get_mut(o)) {
                *b ^= xor_mask;
                hit = true;
            }
        }
        if hit {
            self.diverged = true; // the pending images no longer describe `current` exactly
        }
        hit
    }

    /// Replay the pending operations onto `durable`, each with a seeded fate.
    fn resolve(&mut self, rng: &mut DetRng, policy: &SimCrash) -> Vec<OpFate> {
        let mut replay = Replay::new(std::mem::take(&mut self.durable));
        let mut fates = Vec::with_capacity(self.pending.len());
        for op in &self.pending {
            let fate = decide(rng, policy, op);
            replay.apply(op, fate);
            fates.push(match op {
                PendingOp::Write { offset, len, .. } => OpFate {
                    kind: "write",
                    offset: *offset,
                    len: *len,
                    fate,
                },
                PendingOp::SetLen { len } => OpFate {
                    kind: "truncate",
                    offset: 0,
                    len: *len,
                    fate,
                },
            });
        }
        self.pending.clear();
        self.durable = replay.finish();
        fates
    }
}

/// Draw one operation's fate. A write of one sector cannot tear (sectors are atomic), so a
/// "tear" of it becomes keep or drop by a fair coin; a truncate cannot tear either.
fn decide(rng: &mut DetRng, policy: &SimCrash, op: &PendingOp) -> Fate {
    let u = rng.unit();
    let wants_tear = u >= policy.keep_write && u < policy.keep_write + policy.tear_write;
    if u < policy.keep_write {
        return Fate::Kept;
    }
    if !wants_tear {
        return Fate::Dropped;
    }
    match op {
        PendingOp::Write { image, .. } => {
            let sectors = image.len() as u64 / SECTOR_BYTES;
            if sectors >= 2 {
                let kept_sectors = 1 + rng.below(sectors - 1);
                Fate::Torn {
                    kept_bytes: kept_sectors * SECTOR_BYTES,
                }
            } else if rng.chance(0.5) {
                Fate::Kept
            } else {
                Fate::Dropped
            }
        }
        PendingOp::SetLen { .. } => {
            if rng.chance(0.5) {
                Fate::Kept
            } else {
                Fate::Dropped
            }
        }
    }
}

/// The medium while a crash (or sync) replays pending operations onto it.
///
/// `bytes` may run past `len`: a sector image that reached the medium holds the page cache's
/// bytes for the whole sector, including any past the length the replay has reached so far.
/// If a later surviving write extends the file over them, those are the bytes a reader finds
/// (the device wrote whole sectors), not zeros.
struct Replay {
    bytes: Vec<u8>,
    len: u64,
}

impl Replay {
    fn new(durable: Vec<u8>) -> Self {
        let len = durable.len() as u64;
        Replay {
            bytes: durable,
            len,
        }
    }

    /// Apply one pending operation, or the part of it that survived.
    fn apply(&mut self, op: &PendingOp, fate: Fate) {
        match (op, fate) {
            (_, Fate::Dropped) => {}
            (PendingOp::SetLen { len }, _) => {
                // Shrinking frees the tail; growing exposes zeros (the cache zeroed the tail of
                // the old last sector, so nothing hidden there can reappear).
                self.bytes.truncate(self.len.min(*len) as usize);
                self.len = *len;
            }
            (
                PendingOp::Write {
                    offset,
                    len,
                    image_offset,
                    image,
                },
                fate,
            ) => {
                let (image, write_end) = match fate {
                    Fate::Torn { kept_bytes } => {
                        assert!(kept_bytes % SECTOR_BYTES == 0 && kept_bytes < image.len() as u64);
                        let cut = image_offset + kept_bytes;
                        (&image[..kept_bytes as usize], (offset + len).min(cut))
                    }
                    _ => (&image[..], offset + len),
                };
                let image_end = image_offset + image.len() as u64;
                if (self.bytes.len() as u64) < image_end {
                    self.bytes.resize(image_end as usize, 0);
                }
                self.bytes[*image_offset as usize..image_end as usize].copy_from_slice(image);
                self.len = self.len.max(write_end);
            }
        }
    }

    /// The medium's content: `len` bytes.
    fn finish(mut self) -> Vec<u8> {
        self.bytes.resize(self.len as usize, 0);
        self.bytes
    }
}

/// Check that the write of `len` bytes at `offset` stays inside the file size limit.
pub(crate) fn check_size(
    op: &'static str,
    path: &std::path::Path,
    end: Option<u64>,
) -> Result<u64> {
    match end {
        Some(end) if end <= FILE_BYTES_MAX => Ok(end),
        _ => Err(IoError::invalid(
            op,
            path,
            format!("the simulated disk holds files of at most {FILE_BYTES_MAX} bytes"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash_with(content: &mut FileContent, seed: u64, policy: SimCrash) -> Vec<OpFate> {
        content.crash(&mut DetRng::new(seed), &policy)
    }

    #[test]
    fn sync_makes_current_durable() {
        let mut c = FileContent::new();
        c.write(b"hello", 0);
        c.write(b"xy", 10);
        c.set_len(11);
        assert_eq!(c.current(), b"hello\0\0\0\0\0x");
        assert!(c.durable().is_empty());
        c.sync();
        assert_eq!(c.durable(), b"hello\0\0\0\0\0x");
        assert_eq!(c.pending_ops(), 0);
    }

    #[test]
    fn crash_keep_all_and_lose_all() {
        let mut c = FileContent::new();
        c.write(b"base", 0);
        c.sync();
        c.write(b"more", 4);
        let mut kept = c.clone();
        crash_with(&mut kept, 1, SimCrash::keep_all());
        assert_eq!(kept.current(), b"basemore");
        crash_with(&mut c, 1, SimCrash::lose_all());
        assert_eq!(c.current(), b"base");
        assert_eq!(c.durable(), b"base");
    }

    #[test]
    fn tear_keeps_whole_leading_sectors_only() {
        let tear_only = SimCrash {
            keep_write: 0.0,
            tear_write: 1.0,
            lose_dir_change: 0.0,
        };
        for seed in 0..200 {
            let mut c = FileContent::new();
            let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8 + 1).collect();
            c.write(&data, 100); // sectors 0..=4, image 2560 bytes
            let fates = crash_with(&mut c, seed, tear_only.clone());
            let Fate::Torn { kept_bytes } = fates[0].fate else {
                panic!("seed {seed}: expected a tear, got {:?}", fates[0]);
            };
            assert!(kept_bytes % 512 == 0 && (512..2560).contains(&kept_bytes));
            assert_eq!(c.len(), kept_bytes, "seed {seed}");
            assert!(c.current()[..100].iter().all(|&b| b == 0));
            assert_eq!(&c.current()[100..], &data[..(kept_bytes - 100) as usize]);
        }
    }

    #[test]
    fn one_sector_write_never_tears() {
        let tear_only = SimCrash {
            keep_write: 0.0,
            tear_write: 1.0,
            lose_dir_change: 0.0,
        };
        let mut seen = [false; 2];
        for seed in 0..64 {
            let mut c = FileContent::new();
            c.write(b"abc", 7);
            let fates = crash_with(&mut c, seed, tear_only.clone());
            match fates[0].fate {
                Fate::Kept => {
                    seen[0] = true;
                    assert_eq!(c.current(), b"\0\0\0\0\0\0\0abc");
                }
                Fate::Dropped => {
                    seen[1] = true;
                    assert!(c.current().is_empty());
                }
                Fate::Torn { .. } => panic!("a one-sector write tore"),
            }
        }
        assert_eq!(seen, [true, true]);
    }

    #[test]
    fn images_carry_the_whole_sector_as_the_cache_held_it() {
        // Truncate, then write inside the cut sector: the image has zeros past the cut, so if
        // the truncate is lost the old tail does not show through the rewritten sector.
        let mut c = FileContent::new();
        c.write(&[7u8; 300], 0);
        c.sync();
        c.set_len(5);
        c.write(b"AB", 0);
        let only_write = |seed| {
            let mut c2 = c.clone();
            let mut rng = DetRng::new(seed);
            // Find a seed where the truncate is dropped and the write kept.
            let fates = c2.crash(&mut rng, &SimCrash::default());
            (fates[0].fate, fates[1].fate, c2)
        };
        let mut found = false;
        for seed in 0..500 {
            let (t, w, c2) = only_write(seed);
            if t == Fate::Dropped && w == Fate::Kept {
                let mut want = vec![0u8; 300];
                want[..5].copy_from_slice(b"AB\x07\x07\x07");
                assert_eq!(c2.current(), &want[..]);
                found = true;
                break;
            }
        }
        assert!(found, "no seed dropped the truncate and kept the write");
    }

    #[test]
    fn failed_sync_forgets_pending_but_keeps_cache() {
        let mut c = FileContent::new();
        c.write(b"data", 0);
        c.fail_sync(&mut DetRng::new(3), &SimCrash::lose_all());
        assert_eq!(c.current(), b"data");
        assert!(c.durable().is_empty());
        assert_eq!(c.pending_ops(), 0);
        c.sync(); // succeeds, writes nothing: the lost write stays lost
        assert!(c.durable().is_empty());
    }

    #[test]
    fn corrupt_hits_both_copies() {
        let mut c = FileContent::new();
        c.write(b"abc", 0);
        c.sync();
        assert!(c.corrupt(1, 0x01));
        assert_eq!(c.current(), b"acc");
        assert_eq!(c.durable(), b"acc");
        assert!(!c.corrupt(3, 0xff));
    }
}
