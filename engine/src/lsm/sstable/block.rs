//! Data and index blocks: sorted entries with prefix-compressed keys and restart points.
//!
//! ```text
//! entry   := shared: varint | unshared: varint | value_len: varint | key[shared..] | value
//! block   := entry* | restart_offset: u32 LE * n | n: u32 LE
//! ```
//! On disk a block is followed by a trailer and may be compressed: see [`super::framing`].
//! Every `restart_interval` entries the key is stored whole (`shared = 0`) and its offset goes
//! in the restart array, so a seek binary-searches restarts and then scans at most one
//! interval. Keys are internal keys, ordered by [`compare_internal`].
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::cmp::Ordering;

use bytes::Bytes;

use super::framing::BlockError;

/// An offset or count inside a block being built, as the format's `u32`. A block closes once
/// past `block_bytes` (at most [`crate::lsm::options::BLOCK_BYTES_MAX`], checked when the
/// options are) and one entry is at most 64 KiB of key and 64 MiB of value, so a block stays
/// far below 4 GiB.
fn block_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a block is smaller than 4 GiB (block_bytes and entry limits)")
}
use crate::lsm::coding::{get_u32, get_varint32, put_varint};
use crate::lsm::key::{compare_bytes, compare_internal, user_key, TRAILER_BYTES};

/// Builds one block in memory.
#[derive(Debug)]
pub struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    restart_interval: usize,
    counter: usize,
    last_key: Vec<u8>,
    entries: usize,
}

impl BlockBuilder {
    /// An empty builder storing a whole key every `restart_interval` entries.
    pub fn new(restart_interval: usize) -> Self {
        assert!(restart_interval >= 1);
        BlockBuilder {
            buf: Vec::with_capacity(8 * 1024),
            restarts: vec![0],
            restart_interval,
            counter: 0,
            last_key: Vec::new(),
            entries: 0,
        }
    }

    /// Append an entry; keys must arrive in strictly increasing order.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        debug_assert!(
            self.entries == 0 || compare_internal(&self.last_key, key) == Ordering::Less,
            "block keys out of order"
        );
        let mut shared = 0;
        if self.counter < self.restart_interval {
            let max = self.last_key.len().min(key.len());
            while shared < max && self.last_key[shared] == key[shared] {
                shared += 1;
            }
        } else {
            self.restarts.push(block_u32(self.buf.len()));
            self.counter = 0;
        }
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, (key.len() - shared) as u64);
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(&key[shared..]);
        self.counter += 1;
        self.entries += 1;
    }

    /// Bytes the finished block will take (without the CRC trailer).
    pub fn size_estimate(&self) -> usize {
        self.buf.len() + self.restarts.len() * 4 + 4
    }

    /// Number of entries added.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The last key added.
    pub fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    /// True if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Append the finished block's contents to `out` (the caller seals them with a trailer,
    /// [`super::framing::seal_block`]), and reset for the next block. Returns their size.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        out.extend_from_slice(&self.buf);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&block_u32(self.restarts.len()).to_le_bytes());
        let size = out.len() - start;
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.counter = 0;
        self.last_key.clear();
        self.entries = 0;
        size
    }
}

/// A parsed, checksum-verified block, immutable and shared (cached).
#[derive(Debug)]
pub struct Block {
    data: Bytes,
    restarts_offset: usize,
    num_restarts: usize,
}

impl Block {
    /// Parse block contents (CRC already checked and removed). Fails on a malformed restart
    /// array.
    pub fn parse(data: Bytes) -> Result<Self, &'static str> {
        let n = data.len();
        if n < 4 {
            return Err("block shorter than its restart count");
        }
        let num_restarts = get_u32(&data, n - 4).ok_or("truncated")? as usize;
        let max_restarts = (n - 4) / 4;
        if num_restarts == 0 || num_restarts > max_restarts {
            return Err("restart count out of range");
        }
        let restarts_offset = n - 4 - num_restarts * 4;
        Ok(Block {
            data,
            restarts_offset,
            num_restarts,
        })
    }

    /// A block as read from a table of `format_version` (trailer included): verify the
    /// trailer, decompress if needed, parse.
    pub fn from_stored(raw: Bytes, format_version: u32) -> Result<Self, BlockError> {
        let contents = super::framing::unpack_block(raw, format_version)?;
        Block::parse(contents).map_err(BlockError::Contents)
    }

    /// Seal freshly built contents as an uncompressed current-format block and read it back
    /// (tests and benchmarks).
    pub fn from_contents(contents: &[u8]) -> Result<Self, BlockError> {
        let mut out = Vec::with_capacity(contents.len() + super::framing::TRAILER_BYTES);
        super::framing::append_raw_block(&mut out, contents);
        Block::from_stored(Bytes::from(out), super::footer::FORMAT_VERSION)
    }

    /// Size of the contents in bytes (the cache charge).
    pub fn size_bytes(&self) -> usize {
        self.data.len()
    }

    /// The raw contents.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    fn restart_point(&self, i: usize) -> usize {
        get_u32(&self.data, self.restarts_offset + 4 * i).unwrap_or(u32::MAX) as usize
    }

    /// Number of restart points.
    pub fn num_restarts(&self) -> usize {
        self.num_restarts
    }

    /// The full key of the entry at `off`, which must be stored whole (a restart entry).
    fn key_at(&self, off: usize) -> Option<&[u8]> {
        let data = &self.data[..self.restarts_offset];
        let rest = data.get(off..)?;
        let (shared, a) = get_varint32(rest)?;
        let (unshared, b) = get_varint32(rest.get(a..)?)?;
        let (_vlen, c) = get_varint32(rest.get(a + b..)?)?;
        if shared != 0 {
            return None;
        }
        rest.get(a + b + c..a + b + c + unshared as usize)
    }

    /// The user key at restart `i`.
    fn restart_user_key(&self, i: usize) -> Option<&[u8]> {
        let k = self.key_at(self.restart_point(i))?;
        (k.len() >= TRAILER_BYTES).then(|| user_key(k))
    }
}

/// A cursor over one block. Malformed entries make it invalid with [`BlockIter::error`] set.
///
/// A key stored whole (`shared = 0`: every restart entry, and every entry of an index block,
/// whose restart interval is 1) is read in place from the block; only a prefix-compressed key
/// is assembled in `key_buf`. So positioning in an index block copies and allocates nothing,
/// and a fresh iterator allocates only once it meets a prefix-compressed key.
#[derive(Debug)]
pub struct BlockIter {
    block: std::sync::Arc<Block>,
    /// Offset of the current entry; `restarts_offset` when past the end.
    current: usize,
    /// Offset just after the current entry.
    next_offset: usize,
    restart_index: usize,
    /// Where the current key is: `key_buf` if `key_in_buf`, else
    /// `block.data[key_off..key_off + key_len]`.
    key_in_buf: bool,
    key_off: usize,
    /// Length of the current key (0 when unpositioned), wherever it is.
    key_len: usize,
    key_buf: Vec<u8>,
    value_start: usize,
    value_len: usize,
    error: Option<&'static str>,
}

impl BlockIter {
    /// An unpositioned iterator.
    pub fn new(block: std::sync::Arc<Block>) -> Self {
        let end = block.restarts_offset;
        BlockIter {
            block,
            current: end,
            next_offset: end,
            restart_index: 0,
            key_in_buf: false,
            key_off: 0,
            key_len: 0,
            key_buf: Vec::new(),
            value_start: 0,
            value_len: 0,
            error: None,
        }
    }

    /// Iterate `block` instead, unpositioned, keeping the key buffer's allocation (a table
    /// iterator moving from block to block allocates once).
    pub fn reset(&mut self, block: std::sync::Arc<Block>) {
        let end = block.restarts_offset;
        self.block = block;
        self.current = end;
        self.next_offset = end;
        self.restart_index = 0;
        self.clear_key();
        self.value_start = 0;
        self.value_len = 0;
        self.error = None;
    }

    /// Move past the end (invalid, no error): what a table iterator does when a seek target
    /// is past its last key, without searching the block.
    pub fn invalidate(&mut self) {
        self.current = self.block.restarts_offset;
        self.next_offset = self.current;
        self.clear_key();
    }

    fn clear_key(&mut self) {
        self.key_in_buf = false;
        self.key_off = 0;
        self.key_len = 0;
    }

    /// The block being iterated.
    pub fn block(&self) -> &std::sync::Arc<Block> {
        &self.block
    }

    /// Whether the cursor is on an entry.
    pub fn valid(&self) -> bool {
        self.current < self.block.restarts_offset && self.error.is_none()
    }

    /// The parse error that invalidated the iterator, if any.
    pub fn error(&self) -> Option<&'static str> {
        self.error
    }

    /// The current key.
    #[inline]
    pub fn key(&self) -> &[u8] {
        if self.key_in_buf {
            &self.key_buf
        } else {
            &self.block.data[self.key_off..self.key_off + self.key_len]
        }
    }

    /// The current value.
    pub fn value(&self) -> &[u8] {
        &self.block.data[self.value_start..self.value_start + self.value_len]
    }

    /// The current value as a zero-copy `Bytes` slice of the block.
    pub fn value_bytes(&self) -> Bytes {
        self.block
            .data
            .slice(self.value_start..self.value_start + self.value_len)
    }

    fn corrupt(&mut self, why: &'static str) {
        self.error = Some(why);
        self.current = self.block.restarts_offset;
        self.clear_key();
    }

    /// Decode the entry at `self.next_offset` into the current position.
    fn parse_next(&mut self) -> bool {
        self.current = self.next_offset;
        let end = self.block.restarts_offset;
        if self.current >= end {
            self.current = end;
            return false;
        }
        let data = &self.block.data[..end];
        let p = self.current;
        let Some((shared, a)) = get_varint32(&data[p..]) else {
            self.corrupt("bad entry header");
            return false;
        };
        let Some((unshared, b)) = get_varint32(&data[p + a..]) else {
            self.corrupt("bad entry header");
            return false;
        };
        let Some((vlen, c)) = get_varint32(&data[p + a + b..]) else {
            self.corrupt("bad entry header");
            return false;
        };
        let (shared, unshared, vlen) = (shared as usize, unshared as usize, vlen as usize);
        let kstart = p + a + b + c;
        if shared > self.key_len || kstart + unshared + vlen > end {
            self.corrupt("entry overruns the block");
            return false;
        }
        if shared == 0 {
            // Stored whole: read it in place.
            self.key_in_buf = false;
            self.key_off = kstart;
        } else {
            if !self.key_in_buf {
                // The previous key was read in place: its shared prefix moves to the buffer.
                self.key_buf.clear();
                self.key_buf
                    .extend_from_slice(&data[self.key_off..self.key_off + shared]);
                self.key_in_buf = true;
            } else {
                self.key_buf.truncate(shared);
            }
            self.key_buf
                .extend_from_slice(&data[kstart..kstart + unshared]);
        }
        self.key_len = shared + unshared;
        self.value_start = kstart + unshared;
        self.value_len = vlen;
        self.next_offset = self.value_start + vlen;
        while self.restart_index + 1 < self.block.num_restarts
            && self.block.restart_point(self.restart_index + 1) < self.current
        {
            self.restart_index += 1;
        }
        true
    }

    fn seek_to_restart(&mut self, i: usize) {
        self.clear_key();
        self.restart_index = i;
        let off = self.block.restart_point(i);
        if off > self.block.restarts_offset {
            self.corrupt("restart point out of range");
            return;
        }
        self.next_offset = off;
    }

    /// Move to the first entry.
    pub fn seek_to_first(&mut self) {
        if self.error.is_some() {
            return;
        }
        self.seek_to_restart(0);
        self.parse_next();
    }

    /// Move to the last entry.
    pub fn seek_to_last(&mut self) {
        if self.error.is_some() {
            return;
        }
        self.seek_to_restart(self.block.num_restarts - 1);
        // Bound: one restart interval's entries.
        while self.parse_next() && self.next_offset < self.block.restarts_offset {}
    }

    /// Move to the next entry.
    pub fn next(&mut self) {
        debug_assert!(self.valid());
        self.parse_next();
    }

    /// Move to the previous entry (rescans from the preceding restart point).
    pub fn prev(&mut self) {
        debug_assert!(self.valid());
        let original = self.current;
        while self.block.restart_point(self.restart_index) >= original {
            if self.restart_index == 0 {
                // Before the first entry: invalid.
                self.invalidate();
                return;
            }
            self.restart_index -= 1;
        }
        self.seek_to_restart(self.restart_index);
        // Bound: entries of one restart interval.
        while self.parse_next() && self.next_offset < original {}
    }

    /// Move to the first entry with key `>= target`.
    pub fn seek(&mut self, target: &[u8]) {
        self.seek_between(target, 0, self.block.num_restarts - 1, false);
    }

    /// [`Self::seek`], narrowed first by `prefixes` (built from this block): the binary
    /// search over the block's restart keys runs only where the prefixes cannot decide.
    pub fn seek_with(&mut self, target: &[u8], prefixes: &RestartPrefixes) {
        if prefixes.prefixes.len() != self.block.num_restarts {
            self.seek(target);
            return;
        }
        let (lo, hi, lo_less) = prefixes.candidates(target);
        self.seek_between(target, lo, hi, lo_less);
    }

    /// Seek, knowing that the last restart point whose key is < target (or restart 0 if
    /// none is) lies in `lo..=hi`, and, if `lo_less`, that restart `lo`'s key is < target.
    fn seek_between(&mut self, target: &[u8], lo: usize, hi: usize, lo_less: bool) {
        if self.error.is_some() {
            return;
        }
        // Binary search for the last restart point whose key is < target, reading the keys
        // in place (restart entries are stored whole).
        let (mut lo, mut hi, mut lo_less) = (lo, hi, lo_less);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let off = self.block.restart_point(mid);
            match self.key_at_restart(off) {
                Some(k) if compare_internal(k, target) == Ordering::Less => {
                    lo = mid;
                    lo_less = true;
                }
                Some(_) => hi = mid - 1,
                None => {
                    self.corrupt("bad restart entry");
                    return;
                }
            }
        }
        self.seek_to_restart(lo);
        if lo_less && !self.parse_next() {
            return;
        }
        // Bound: at most one interval past the restart point, then we are >= target.
        while self.parse_next() {
            if compare_internal(self.key(), target) != Ordering::Less {
                return;
            }
        }
    }

    /// The full key stored at a restart point (restart entries share nothing).
    fn key_at_restart(&self, off: usize) -> Option<&[u8]> {
        self.block.key_at(off)
    }
}

/// Eight bytes of every restart key of a block, as integers, for a binary search that stays
/// in a few cache lines: the search over a large block (a table's index block: one restart
/// per data block, thousands of them) otherwise touches a different part of the block at
/// each step. Built from the block itself when a table is opened; nothing on disk changes.
///
/// For each restart key: the 8 bytes of its user key that follow `common` (the prefix all
/// the block's user keys share), big-endian and zero-padded. This number never decreases as
/// keys increase, so it splits the restarts into those surely below a target, those surely
/// above it, and a (usually tiny) run of equal numbers that the real keys decide.
#[derive(Debug)]
pub struct RestartPrefixes {
    common: Vec<u8>,
    prefixes: Vec<u64>,
}

impl RestartPrefixes {
    /// The prefixes of `block`'s restart keys (internal keys); `None` if a restart entry does
    /// not parse (the block's ordinary seek then reports the corruption when it meets it).
    pub fn build(block: &Block) -> Option<Self> {
        let n = block.num_restarts;
        let first = block.restart_user_key(0)?;
        let last = block.restart_user_key(n - 1)?;
        let shared = first.iter().zip(last).take_while(|(a, b)| a == b).count();
        let common = first[..shared].to_vec();
        let mut prefixes = Vec::with_capacity(n);
        for i in 0..n {
            let k = block.restart_user_key(i)?;
            if !k.starts_with(&common) {
                return None;
            }
            prefixes.push(window(&k[shared..]));
        }
        Some(RestartPrefixes { common, prefixes })
    }

    /// Memory held, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.common.len() + self.prefixes.len() * 8
    }

    /// `(lo, hi, lo_less)` for [`BlockIter::seek_between`]: restarts before `a` (prefix below
    /// the target's) have keys < target, restarts from `b` on (prefix above) keys > target,
    /// so the last restart below the target is in `a - 1 ..= b - 1`.
    fn candidates(&self, target: &[u8]) -> (usize, usize, bool) {
        let n = self.prefixes.len();
        let uk = user_key(target);
        let m = uk.len().min(self.common.len());
        match compare_bytes(&uk[..m], &self.common[..m]) {
            // Below every key of the block.
            Ordering::Less => return (0, 0, false),
            // Above every key of the block.
            Ordering::Greater => return (n - 1, n - 1, true),
            // A proper prefix of the common prefix: below every key.
            Ordering::Equal if uk.len() < self.common.len() => return (0, 0, false),
            Ordering::Equal => {}
        }
        let t = window(&uk[self.common.len()..]);
        let a = self.prefixes.partition_point(|&p| p < t);
        let b = a + self.prefixes[a..].partition_point(|&p| p <= t);
        match a {
            0 => (0, b.saturating_sub(1), false),
            _ => (a - 1, b - 1, true),
        }
    }
}

/// The first 8 bytes of `k`, big-endian, zero-padded.
fn window(k: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = k.len().min(8);
    w[..n].copy_from_slice(&k[..n]);
    u64::from_be_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsm::key::{internal_key, ValueKind};
    use std::sync::Arc;

    fn build(n: usize, interval: usize) -> (Arc<Block>, Vec<Vec<u8>>) {
        let mut b = BlockBuilder::new(interval);
        let keys: Vec<Vec<u8>> = (0..n)
            .map(|i| internal_key(format!("key{i:05}").as_bytes(), 7, ValueKind::Put))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            b.add(k, format!("v{i}").as_bytes());
        }
        let mut out = Vec::new();
        b.finish_into(&mut out);
        (Arc::new(Block::from_contents(&out).unwrap()), keys)
    }

    #[test]
    fn seek_next_prev_over_restarts() {
        for interval in [1, 3, 16] {
            let (blk, keys) = build(100, interval);
            let mut it = BlockIter::new(blk.clone());
            it.seek_to_first();
            for k in &keys {
                assert_eq!(it.key(), &k[..]);
                it.next();
            }
            assert!(!it.valid());
            it.seek_to_last();
            for k in keys.iter().rev() {
                assert_eq!(it.key(), &k[..]);
                it.prev();
            }
            assert!(!it.valid());
            for (i, k) in keys.iter().enumerate() {
                it.seek(k);
                assert_eq!(it.key(), &k[..]);
                assert_eq!(it.value(), format!("v{i}").as_bytes());
            }
            it.seek(&internal_key(b"key00050x", 7, ValueKind::Put));
            assert_eq!(it.key(), &keys[51][..]);
            it.seek(&internal_key(b"zzz", 7, ValueKind::Put));
            assert!(!it.valid());
        }
    }

    fn arb_user_key() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        // Few distinct bytes (0 and 0xff included) and shared prefixes, so keys are often
        // prefixes of each other and equal over the prefixes' 8 bytes.
        (
            prop_oneof![
                Just(b"".to_vec()),
                Just(b"pre".to_vec()),
                Just(b"prefix-0000".to_vec())
            ],
            proptest::collection::vec(
                prop_oneof![Just(0u8), Just(b'a'), Just(b'b'), Just(0xffu8)],
                0..12,
            ),
        )
            .prop_map(|(mut p, s)| {
                p.extend(s);
                p
            })
    }

    proptest::proptest! {
        /// A seek narrowed by the restart prefixes lands where the plain seek does.
        #[test]
        fn prefixed_seek_matches_plain_seek(
            entries in proptest::collection::vec((arb_user_key(), 1u64..4), 1..80),
            targets in proptest::collection::vec((arb_user_key(), 0u64..5), 1..40),
            interval in 1usize..4,
        ) {
            let mut keys: Vec<Vec<u8>> = entries
                .iter()
                .map(|(k, s)| internal_key(k, *s, ValueKind::Put))
                .collect();
            keys.sort_by(|a, b| compare_internal(a, b));
            keys.dedup();
            let mut b = BlockBuilder::new(interval);
            for k in &keys {
                b.add(k, b"v");
            }
            let mut out = Vec::new();
            b.finish_into(&mut out);
            let blk = Arc::new(Block::from_contents(&out).unwrap());
            let prefixes = RestartPrefixes::build(&blk).unwrap();
            let mut plain = BlockIter::new(blk.clone());
            let mut fast = BlockIter::new(blk);
            let mut probes: Vec<Vec<u8>> = targets
                .iter()
                .map(|(k, s)| internal_key(k, *s, ValueKind::Put))
                .collect();
            probes.extend(keys.iter().cloned());
            for t in &probes {
                plain.seek(t);
                fast.seek_with(t, &prefixes);
                proptest::prop_assert_eq!(plain.valid(), fast.valid());
                if plain.valid() {
                    proptest::prop_assert_eq!(plain.key(), fast.key());
                    proptest::prop_assert_eq!(plain.value(), fast.value());
                }
                proptest::prop_assert!(fast.error().is_none());
            }
        }
    }

    #[test]
    fn flipped_bits_fail_the_checksum() {
        let mut b = BlockBuilder::new(4);
        b.add(&internal_key(b"a", 1, ValueKind::Put), b"x");
        let mut contents = Vec::new();
        b.finish_into(&mut contents);
        let mut out = Vec::new();
        super::super::framing::append_raw_block(&mut out, &contents);
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 1;
            assert!(Block::from_stored(Bytes::from(bad), 2).is_err());
        }
    }
}
