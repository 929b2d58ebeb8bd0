//! Write batches: several puts and deletes applied atomically, with consecutive sequence
//! numbers. The encoded batch (`rep`) is exactly the WAL record payload and is what the
//! memtable slices its keys and values from, so a write copies each byte once.
//!
//! ```text
//! rep := sequence: u64 LE | count: u32 LE | op*
//! op  := kind: u8 (0 delete, 1 put) | key_len: varint | key | [value_len: varint | value]
//! ```
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use super::coding::{put_bytes, Reader};
use super::key::ValueKind;

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes of the batch header (sequence + count).
pub const BATCH_HEADER_BYTES: usize = 12;
/// Largest user key accepted.
pub const KEY_BYTES_MAX: usize = 64 * 1024;
/// Largest value accepted.
pub const VALUE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// A group of writes applied atomically: all or none survive a crash, and readers see all or
/// none of them.
#[derive(Clone, Debug)]
pub struct WriteBatch {
    rep: Vec<u8>,
    count: u32,
}

impl Default for WriteBatch {
    fn default() -> Self {
        WriteBatch::new()
    }
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        let mut rep = Vec::with_capacity(64);
        rep.resize(BATCH_HEADER_BYTES, 0);
        WriteBatch { rep, count: 0 }
    }

    /// An empty batch with room for `bytes` of operations (avoids regrowing the buffer).
    pub fn with_capacity(bytes: usize) -> Self {
        let mut rep = Vec::with_capacity(BATCH_HEADER_BYTES + bytes);
        rep.resize(BATCH_HEADER_BYTES, 0);
        WriteBatch { rep, count: 0 }
    }

    /// Bytes one put of this key and value adds to a batch.
    pub fn put_bytes(key: &[u8], value: &[u8]) -> usize {
        1 + varint_len(key.len()) + key.len() + varint_len(value.len()) + value.len()
    }

    /// Set `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.rep.reserve(Self::put_bytes(key, value));
        self.rep.push(ValueKind::Put as u8);
        put_bytes(&mut self.rep, key);
        put_bytes(&mut self.rep, value);
        self.count += 1;
        self.rep[8..12].copy_from_slice(&self.count.to_le_bytes());
    }

    /// Delete `key` (writes a tombstone).
    pub fn delete(&mut self, key: &[u8]) {
        self.rep.push(ValueKind::Delete as u8);
        put_bytes(&mut self.rep, key);
        self.count += 1;
        self.rep[8..12].copy_from_slice(&self.count.to_le_bytes());
    }

    /// Append the operations of `other` after this batch's, in order (a later operation on a
    /// key wins, as within one batch). Panics if the two together number more than `u32::MAX`
    /// operations.
    pub fn append(&mut self, other: WriteBatch) {
        self.rep.extend_from_slice(&other.rep[BATCH_HEADER_BYTES..]);
        self.count = self
            .count
            .checked_add(other.count)
            .expect("a batch holds at most u32::MAX operations");
        self.rep[8..12].copy_from_slice(&self.count.to_le_bytes());
    }

    /// Number of operations.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// True if the batch holds no operations.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Encoded size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.rep.len()
    }

    /// Check every key and value against the limits; cheap enough to run on every write.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for op in BatchOps::new(&self.rep).map_err(|e| e.to_string())? {
            let (_, key, value) = op.map_err(|e| e.to_string())?;
            if key.is_empty() {
                return Err("empty keys are not allowed".into());
            }
            if key.len() > KEY_BYTES_MAX {
                return Err(format!(
                    "key of {} bytes exceeds {KEY_BYTES_MAX}",
                    key.len()
                ));
            }
            if value.len() > VALUE_BYTES_MAX {
                return Err(format!(
                    "value of {} bytes exceeds {VALUE_BYTES_MAX}",
                    value.len()
                ));
            }
        }
        Ok(())
    }

    /// Stamp the first sequence number and hand over the encoded bytes: the WAL record's
    /// payload and what the memtable slices (the write path does this; tools and benchmarks
    /// may too).
    pub fn into_rep(mut self, first_seq: u64) -> Vec<u8> {
        self.rep[0..8].copy_from_slice(&first_seq.to_le_bytes());
        self.rep[8..12].copy_from_slice(&self.count.to_le_bytes());
        self.rep
    }

    /// One encoded batch holding the operations of `batches` in order, numbered from
    /// `first_seq`: what a group commit writes as one WAL record and inserts as one memtable
    /// batch. A single batch is handed over without a copy. Panics if the operations together
    /// number more than `u32::MAX` (the write queue caps a group far below that).
    pub(crate) fn merge_into_rep(mut batches: Vec<WriteBatch>, first_seq: u64) -> Vec<u8> {
        if batches.len() == 1 {
            return batches.pop().expect("one batch").into_rep(first_seq);
        }
        let count: u64 = batches.iter().map(|b| u64::from(b.count)).sum();
        let count = u32::try_from(count).expect("a write group holds at most u32::MAX operations");
        let bytes: usize = batches
            .iter()
            .map(|b| b.rep.len() - BATCH_HEADER_BYTES)
            .sum();
        let mut rep = Vec::with_capacity(BATCH_HEADER_BYTES + bytes);
        rep.extend_from_slice(&first_seq.to_le_bytes());
        rep.extend_from_slice(&count.to_le_bytes());
        for b in &batches {
            rep.extend_from_slice(&b.rep[BATCH_HEADER_BYTES..]);
        }
        rep
    }
}

/// Iterates the operations of an encoded batch as `(kind, key, value)` with byte ranges.
#[derive(Debug)]
pub struct BatchOps<'a> {
    rep: &'a [u8],
    reader: Reader<'a>,
    left: u32,
    /// Sequence number stamped in the header.
    pub first_seq: u64,
}

impl<'a> BatchOps<'a> {
    /// Start decoding `rep`; fails if the header is truncated.
    pub fn new(rep: &'a [u8]) -> Result<Self, &'static str> {
        let mut reader = Reader::new(rep);
        let first_seq = reader.u64().ok_or("batch header truncated")?;
        let left = reader.u32().ok_or("batch header truncated")?;
        Ok(BatchOps {
            rep,
            reader,
            left,
            first_seq,
        })
    }

    /// The number of operations the header claims.
    pub fn op_count(&self) -> u32 {
        self.left
    }

    /// Offset of a sub-slice of `rep` (for zero-copy slicing).
    pub fn offset_of(&self, part: &[u8]) -> usize {
        part.as_ptr() as usize - self.rep.as_ptr() as usize
    }
}

impl<'a> Iterator for BatchOps<'a> {
    type Item = Result<(ValueKind, &'a [u8], &'a [u8]), &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            if self.reader.remaining() != 0 {
                self.reader = Reader::new(&[]);
                return Some(Err("bytes after the last batch operation"));
            }
            return None;
        }
        self.left -= 1;
        let r = &mut self.reader;
        let op = (|| {
            let kind = ValueKind::from_u8(r.u8()?)?;
            let key = r.bytes()?;
            let value = match kind {
                ValueKind::Put => r.bytes()?,
                ValueKind::Delete => &[][..],
            };
            Some((kind, key, value))
        })();
        match op {
            Some(op) => Some(Ok(op)),
            None => {
                self.left = 0;
                self.reader = Reader::new(&[]);
                Some(Err("batch operation truncated or of unknown kind"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode() {
        let mut b = WriteBatch::new();
        b.put(b"k1", b"v1");
        b.delete(b"k2");
        assert_eq!(b.len(), 2);
        let rep = b.into_rep(42);
        let ops = BatchOps::new(&rep).unwrap();
        assert_eq!(ops.first_seq, 42);
        let v: Vec<_> = ops.map(|r| r.unwrap()).collect();
        assert_eq!(
            v,
            vec![
                (ValueKind::Put, &b"k1"[..], &b"v1"[..]),
                (ValueKind::Delete, &b"k2"[..], &b""[..])
            ]
        );
        // Merging keeps every operation, in order, numbered from the given sequence.
        let mut a = WriteBatch::new();
        a.put(b"a", b"1");
        let mut c = WriteBatch::new();
        c.delete(b"c");
        c.put(b"d", b"4");
        let merged = WriteBatch::merge_into_rep(vec![a, c], 7);
        let ops = BatchOps::new(&merged).unwrap();
        assert_eq!((ops.first_seq, ops.op_count()), (7, 3));
        let keys: Vec<_> = ops.map(|r| r.unwrap().1.to_vec()).collect();
        assert_eq!(keys, vec![b"a".to_vec(), b"c".to_vec(), b"d".to_vec()]);
        // Appending does the same into one batch.
        let mut a = WriteBatch::new();
        a.put(b"a", b"1");
        let mut c = WriteBatch::new();
        c.delete(b"c");
        c.put(b"a", b"2");
        a.append(c);
        assert_eq!(a.len(), 3);
        let rep2 = a.into_rep(9);
        let ops: Vec<_> = BatchOps::new(&rep2).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(
            ops,
            vec![
                (ValueKind::Put, &b"a"[..], &b"1"[..]),
                (ValueKind::Delete, &b"c"[..], &b""[..]),
                (ValueKind::Put, &b"a"[..], &b"2"[..])
            ]
        );
        // Truncation is an error, not a panic.
        for n in 0..rep.len() {
            let _ = BatchOps::new(&rep[..n]).map(|ops| ops.op_count());
            if let Ok(ops) = BatchOps::new(&rep[..n]) {
                assert!(ops.collect::<Vec<_>>().iter().any(|r| r.is_err()) || n == rep.len());
            }
        }
    }
}
