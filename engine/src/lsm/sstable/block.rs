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
use crate::lsm::key::compare_internal;

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
}

/// A cursor over one block. Malformed entries make it invalid with [`BlockIter::error`] set.
#[derive(Debug)]
pub struct BlockIter {
    block: std::sync::Arc<Block>,
    /// Offset of the current entry; `restarts_offset` when past the end.
    current: usize,
    /// Offset just after the current entry.
    next_offset: usize,
    restart_index: usize,
    key: Vec<u8>,
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
            key: Vec::with_capacity(32),
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
        self.key.clear();
        self.value_start = 0;
        self.value_len = 0;
        self.error = None;
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
    pub fn key(&self) -> &[u8] {
        &self.key
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
        self.key.clear();
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
        if shared > self.key.len() || kstart + unshared + vlen > end {
            self.corrupt("entry overruns the block");
            return false;
        }
        self.key.truncate(shared);
        self.key.extend_from_slice(&data[kstart..kstart + unshared]);
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
        self.key.clear();
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
                self.current = self.block.restarts_offset;
                self.next_offset = self.current;
                self.key.clear();
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
        if self.error.is_some() {
            return;
        }
        // Binary search for the last restart point whose key is < target.
        let mut lo = 0usize;
        let mut hi = self.block.num_restarts - 1;
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let off = self.block.restart_point(mid);
            match self.key_at_restart(off) {
                Some(k) if compare_internal(k, target) == Ordering::Less => lo = mid,
                Some(_) => hi = mid - 1,
                None => {
                    self.corrupt("bad restart entry");
                    return;
                }
            }
        }
        self.seek_to_restart(lo);
        // Bound: at most one interval past the restart point, then we are >= target.
        while self.parse_next() {
            if compare_internal(&self.key, target) != Ordering::Less {
                return;
            }
        }
    }

    /// The full key stored at a restart point (restart entries share nothing).
    fn key_at_restart(&self, off: usize) -> Option<&[u8]> {
        let data = &self.block.data[..self.block.restarts_offset];
        let rest = data.get(off..)?;
        let (shared, a) = get_varint32(rest)?;
        let (unshared, b) = get_varint32(rest.get(a..)?)?;
        let (_vlen, c) = get_varint32(rest.get(a + b..)?)?;
        if shared != 0 {
            return None;
        }
        rest.get(a + b + c..a + b + c + unshared as usize)
    }
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
