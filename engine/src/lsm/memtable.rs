//! The memtable: recent writes, sorted, in memory. A `BTreeMap` keyed by (user key, sequence
//! descending) behind a `RwLock`. Keys and values are `Bytes` slices of the encoded write batch
//! they arrived in. The write path's small batches are first copied into the memtable's arena
//! (chunks of up to 64 KiB), so a put leaves nothing allocated behind but its share of the
//! tree's nodes: its batch buffer goes back to the client thread's allocator cache at once,
//! and dropping a flushed memtable frees a few hundred chunks instead of two allocations per
//! entry (made by the client thread, freed by the background thread). Recovery's records and
//! large batches are sliced in place, without the copy.
//!
//! Why a B-tree and not a skiplist: writes are already serialised by the write path, so a
//! lock-free skiplist buys little, while the B-tree is cache-friendly and needs no unsafe code.
//! Readers take the read lock briefly; iterators copy small chunks out (cheap `Bytes` clones),
//! which is correct because entries are immutable and newer writes carry higher sequence
//! numbers than any snapshot an iterator reads at.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtOrd};
use std::sync::RwLock;

use bytes::{Bytes, BytesMut};

use super::batch::BatchOps;
use super::key::{compare_bytes, ValueKind};

/// Bytes charged per entry on top of the batch buffer it slices: its share of a B-tree node
/// (key and value handles, 80 bytes per slot; sequential inserts leave Rust's B-tree nodes
/// about half full, so up to 160 bytes) and of the batch's shared `Bytes` header. Charging
/// what is really allocated keeps `write_buffer_bytes` an honest bound on memory. (Batches
/// copied into the arena share one header per chunk, so for them this now overcounts a little;
/// it was left as it was so that memtables fill, and flush, at the same points as before.)
const ENTRY_OVERHEAD_BYTES: usize = 176;

/// Largest arena chunk. Small enough that a value handed out by `get` (a slice of a chunk,
/// which keeps the whole chunk alive while the caller holds it) pins little memory, and below
/// glibc's mmap threshold, so chunks come from the heap and are reused; large enough that the
/// chunk's allocation is paid once per ~500 one-put batches.
const ARENA_CHUNK_MAX: usize = 64 << 10;
/// First arena chunk: small memtables (tests, the simulator's nodes) stay small.
const ARENA_CHUNK_MIN: usize = 4 << 10;
/// Batches larger than this keep their own buffer (no copy): a chunk would mostly hold them.
const ARENA_COPY_MAX: usize = ARENA_CHUNK_MAX / 4;

/// Packs the bytes of small batches into shared chunks (see the module comment).
#[derive(Debug, Default)]
struct Arena {
    /// The unused tail of the current chunk; what was copied before has been split off.
    chunk: BytesMut,
    /// Size of the next chunk: doubling from [`ARENA_CHUNK_MIN`] to [`ARENA_CHUNK_MAX`].
    next_chunk_bytes: usize,
}

impl Arena {
    /// A copy of `bytes` in the current chunk (a new one if it does not fit).
    fn copy(&mut self, bytes: &[u8]) -> Bytes {
        if self.chunk.capacity() - self.chunk.len() < bytes.len() {
            let size = self
                .next_chunk_bytes
                .clamp(ARENA_CHUNK_MIN, ARENA_CHUNK_MAX)
                .max(bytes.len());
            self.next_chunk_bytes = size.saturating_mul(2);
            self.chunk = BytesMut::with_capacity(size);
        }
        self.chunk.extend_from_slice(bytes);
        // Shares the chunk (one reference count per chunk, no allocation per batch); the
        // remaining capacity stays in `self.chunk` for the next batch.
        self.chunk.split().freeze()
    }
}

/// The sorted entries and the arena their bytes live in, under one lock.
#[derive(Debug, Default)]
struct Tree {
    map: BTreeMap<MemKey, MemValue>,
    arena: Arena,
}

/// A memtable key: user key ascending, then sequence descending.
#[derive(Clone, Debug)]
pub struct MemKey {
    /// The user's key.
    pub user: Bytes,
    /// The write's sequence number.
    pub seq: u64,
}

/// A memtable value: put or tombstone, and the value bytes.
#[derive(Clone, Debug)]
pub struct MemValue {
    /// Put or delete.
    pub kind: ValueKind,
    /// The value (empty for a delete).
    pub value: Bytes,
}

/// A view of a key used to search the tree without building a `Bytes`.
trait KeyView {
    fn user(&self) -> &[u8];
    fn seq(&self) -> u64;
}

impl KeyView for MemKey {
    fn user(&self) -> &[u8] {
        &self.user
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

struct Probe<'a>(&'a [u8], u64);

impl KeyView for Probe<'_> {
    fn user(&self) -> &[u8] {
        self.0
    }
    fn seq(&self) -> u64 {
        self.1
    }
}

fn cmp_view(a: &dyn KeyView, b: &dyn KeyView) -> Ordering {
    compare_bytes(a.user(), b.user()).then_with(|| b.seq().cmp(&a.seq()))
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        cmp_view(self, other) == Ordering::Equal
    }
}
impl Eq for dyn KeyView + '_ {}
impl PartialOrd for dyn KeyView + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for dyn KeyView + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_view(self, other)
    }
}

impl<'a> Borrow<dyn KeyView + 'a> for MemKey {
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MemKey {}
impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MemKey {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        compare_bytes(&self.user, &other.user).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// One memtable, tied to the WAL file that protects it.
#[derive(Debug)]
pub struct MemTable {
    /// Number of the log file holding this memtable's writes.
    pub log_number: u64,
    tree: RwLock<Tree>,
    approx_bytes: AtomicUsize,
    entries: AtomicU64,
    tombstones: AtomicU64,
}

/// Which way a chunk is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ascending internal-key order.
    Forward,
    /// Descending.
    Backward,
}

impl MemTable {
    /// An empty memtable whose writes go to log `log_number`.
    pub fn new(log_number: u64) -> Self {
        MemTable {
            log_number,
            tree: RwLock::new(Tree::default()),
            approx_bytes: AtomicUsize::new(0),
            entries: AtomicU64::new(0),
            tombstones: AtomicU64::new(0),
        }
    }

    /// Insert every operation of an encoded batch, slicing keys and values out of `rep` (no
    /// copy: recovery's records). Fails (inserting nothing) if the batch does not decode.
    pub fn insert_batch(&self, rep: &Bytes) -> Result<u32, &'static str> {
        self.insert_with(rep, |_| rep.clone())
    }

    /// Insert every operation of an encoded batch the caller is done with (the write path's):
    /// a small one is copied into the arena and `rep` dropped, a large one keeps its buffer.
    /// Fails (inserting nothing) if the batch does not decode.
    pub fn insert_owned(&self, rep: Vec<u8>) -> Result<u32, &'static str> {
        if rep.len() > ARENA_COPY_MAX {
            return self.insert_batch(&Bytes::from(rep));
        }
        self.insert_with(&rep, |arena| arena.copy(&rep))
    }

    /// Check every operation of `rep` (a first decode), then, under the write lock, have
    /// `store` give the `Bytes` that holds `rep`'s contents and insert slices of it.
    fn insert_with(
        &self,
        rep: &[u8],
        store: impl FnOnce(&mut Arena) -> Bytes,
    ) -> Result<u32, &'static str> {
        let ops = BatchOps::new(rep)?;
        let first_seq = ops.first_seq;
        let count = ops.op_count();
        let mut decoded = 0u32;
        for op in ops {
            op?;
            decoded += 1;
        }
        if decoded != count {
            return Err("batch count does not match its operations");
        }
        let mut tree = self.tree.write().unwrap_or_else(|p| p.into_inner());
        let Tree { map, arena } = &mut *tree;
        let rep = store(arena);
        let base = BatchOps::new(&rep)?;
        let mut tombstones = 0;
        for (i, op) in BatchOps::new(&rep)?.enumerate() {
            let (kind, key, value) = op.expect("checked by the first pass");
            if kind == ValueKind::Delete {
                tombstones += 1;
            }
            let k0 = base.offset_of(key);
            let key = MemKey {
                user: rep.slice(k0..k0 + key.len()),
                seq: first_seq + i as u64,
            };
            let value = if value.is_empty() {
                Bytes::new()
            } else {
                let v0 = base.offset_of(value);
                rep.slice(v0..v0 + value.len())
            };
            map.insert(key, MemValue { kind, value });
        }
        drop(tree);
        self.approx_bytes.fetch_add(
            rep.len() + 32 + count as usize * ENTRY_OVERHEAD_BYTES,
            AtOrd::Relaxed,
        );
        self.entries.fetch_add(u64::from(count), AtOrd::Relaxed);
        if tombstones > 0 {
            self.tombstones.fetch_add(tombstones, AtOrd::Relaxed);
        }
        Ok(count)
    }

    /// Insert one entry (used by tests and recovery tools).
    pub fn insert(&self, user: Bytes, seq: u64, kind: ValueKind, value: Bytes) {
        let bytes = user.len() + value.len() + ENTRY_OVERHEAD_BYTES;
        let mut tree = self.tree.write().unwrap_or_else(|p| p.into_inner());
        tree.map
            .insert(MemKey { user, seq }, MemValue { kind, value });
        self.approx_bytes.fetch_add(bytes, AtOrd::Relaxed);
        self.entries.fetch_add(1, AtOrd::Relaxed);
        if kind == ValueKind::Delete {
            self.tombstones.fetch_add(1, AtOrd::Relaxed);
        }
    }

    /// The newest version of `user_key` with sequence `<= snapshot_seq`, if any.
    pub fn get(&self, user_key: &[u8], snapshot_seq: u64) -> Option<MemValue> {
        let tree = self.tree.read().unwrap_or_else(|p| p.into_inner());
        let map = &tree.map;
        let probe = Probe(user_key, snapshot_seq);
        let lo: &dyn KeyView = &probe;
        let (k, v) = map
            .range::<dyn KeyView, _>((Bound::Included(lo), Bound::Unbounded))
            .next()?;
        if &k.user[..] == user_key {
            Some(v.clone())
        } else {
            None
        }
    }

    /// Copy up to `limit` entries starting at `start` (as (user key, seq), inclusive or
    /// exclusive) going in `dir` into `out` (cleared first).
    pub fn chunk(
        &self,
        start: Bound<(&[u8], u64)>,
        dir: Direction,
        limit: usize,
        out: &mut Vec<(MemKey, MemValue)>,
    ) {
        out.clear();
        let tree = self.tree.read().unwrap_or_else(|p| p.into_inner());
        let map = &tree.map;
        let probe;
        let b: Bound<&dyn KeyView> = match start {
            Bound::Included((u, s)) => {
                probe = Probe(u, s);
                Bound::Included(&probe)
            }
            Bound::Excluded((u, s)) => {
                probe = Probe(u, s);
                Bound::Excluded(&probe)
            }
            Bound::Unbounded => Bound::Unbounded,
        };
        match dir {
            Direction::Forward => {
                for (k, v) in map
                    .range::<dyn KeyView, _>((b, Bound::Unbounded))
                    .take(limit)
                {
                    out.push((k.clone(), v.clone()));
                }
            }
            Direction::Backward => {
                for (k, v) in map
                    .range::<dyn KeyView, _>((Bound::Unbounded, b))
                    .rev()
                    .take(limit)
                {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
    }

    /// Visit every entry in order (for flushing an immutable memtable).
    pub fn for_each<E>(
        &self,
        mut f: impl FnMut(&MemKey, &MemValue) -> Result<(), E>,
    ) -> Result<(), E> {
        let tree = self.tree.read().unwrap_or_else(|p| p.into_inner());
        let map = &tree.map;
        for (k, v) in map.iter() {
            f(k, v)?;
        }
        Ok(())
    }

    /// Approximate memory used, in bytes.
    pub fn approx_bytes(&self) -> usize {
        self.approx_bytes.load(AtOrd::Relaxed)
    }

    /// Number of entries (puts and tombstones).
    pub fn entries(&self) -> u64 {
        self.entries.load(AtOrd::Relaxed)
    }

    /// Number of tombstones.
    pub fn tombstones(&self) -> u64 {
        self.tombstones.load(AtOrd::Relaxed)
    }

    /// True if nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.entries() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsm::batch::WriteBatch;

    #[test]
    fn newest_visible_version_wins() {
        let m = MemTable::new(1);
        let mut b = WriteBatch::new();
        b.put(b"a", b"1");
        b.put(b"b", b"x");
        m.insert_batch(&Bytes::from(b.into_rep(10))).unwrap();
        let mut b = WriteBatch::new();
        b.delete(b"a");
        m.insert_batch(&Bytes::from(b.into_rep(20))).unwrap();
        assert_eq!(m.get(b"a", 10).unwrap().value, Bytes::from_static(b"1"));
        assert_eq!(m.get(b"a", 25).unwrap().kind, ValueKind::Delete);
        assert!(m.get(b"a", 9).is_none());
        assert_eq!(m.get(b"b", 100).unwrap().value, Bytes::from_static(b"x"));
        assert!(m.get(b"c", 100).is_none());
        let mut out = Vec::new();
        m.chunk(Bound::Unbounded, Direction::Backward, 10, &mut out);
        let keys: Vec<_> = out.iter().map(|(k, _)| (k.user.to_vec(), k.seq)).collect();
        assert_eq!(
            keys,
            vec![
                (b"b".to_vec(), 11),
                (b"a".to_vec(), 10),
                (b"a".to_vec(), 20)
            ]
        );
        m.chunk(
            Bound::Excluded((b"a", 20)),
            Direction::Forward,
            10,
            &mut out,
        );
        assert_eq!(out.len(), 2);
    }

    /// Batches the write path hands over are copied into arena chunks (small ones, across
    /// chunk boundaries and chunk growth) or kept whole (large ones); every entry reads back.
    #[test]
    fn owned_batches_read_back_across_arena_chunks() {
        let m = MemTable::new(1);
        let value = |i: usize| vec![u8::try_from(i % 251).unwrap(); 1 + (i * 37) % 300];
        let mut seq = 1;
        for i in 0..2_000usize {
            let mut b = WriteBatch::new();
            b.put(format!("k{i:05}").as_bytes(), &value(i));
            if i % 500 == 7 {
                // One large batch now and then: more than an arena chunk would take.
                for j in 0..100 {
                    b.put(format!("k{i:05}-{j:03}").as_bytes(), &[9u8; 400]);
                }
            }
            if i % 3 == 0 {
                b.delete(format!("gone{i:05}").as_bytes());
            }
            let n = u64::from(b.len());
            m.insert_owned(b.into_rep(seq)).unwrap();
            seq += n;
        }
        for i in 0..2_000usize {
            let got = m.get(format!("k{i:05}").as_bytes(), u64::MAX).unwrap();
            assert_eq!((got.kind, &got.value[..]), (ValueKind::Put, &value(i)[..]));
            if i % 500 == 7 {
                let v = m.get(format!("k{i:05}-099").as_bytes(), u64::MAX).unwrap();
                assert_eq!(&v.value[..], &[9u8; 400][..]);
            }
        }
        assert_eq!(m.tombstones(), 667);
        assert_eq!(m.entries(), 2_000 + 4 * 100 + 667);
        // A batch that does not decode inserts nothing.
        assert!(m.insert_owned(vec![1, 2, 3]).is_err());
        assert_eq!(m.entries(), 2_000 + 4 * 100 + 667);
    }
}
