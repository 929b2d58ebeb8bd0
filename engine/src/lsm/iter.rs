//! Iterators. Everything that can be scanned — a memtable, a data block, an SSTable, a level —
//! implements [`InternalIterator`] over internal keys. A [`MergingIterator`] merges them in
//! internal-key order in both directions, and a [`DbIterator`] turns the merged stream into
//! what users see: the newest version of each key visible at a snapshot, tombstones hidden,
//! within optional bounds. The algorithms are LevelDB's (`merger.cc`, `db_iter.cc`), with the
//! same direction-switching rules.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use super::error::Result;
use super::key::{
    self, append_internal_key, compare_internal, ValueKind, KIND_FOR_SEEK, MAX_SEQUENCE,
};
use super::memtable::{Direction, MemKey, MemTable, MemValue};

/// A bidirectional cursor over internal keys in [`compare_internal`] order. Positioning
/// methods return an error on I/O failure or corruption and leave the iterator invalid.
pub trait InternalIterator: Send {
    /// Whether the cursor is on an entry.
    fn valid(&self) -> bool;
    /// The current internal key (only when valid).
    fn key(&self) -> &[u8];
    /// The current value (only when valid, and after [`Self::prepare_value`] if the last
    /// positioning was a seek).
    fn value(&self) -> &[u8];
    /// Make [`Self::value`] available. A seek may position an iterator on an entry it has
    /// not read yet — its key is known without I/O (a table's smallest key), its value is not
    /// — and this reads it. A no-op for iterators that always read what they stand on.
    fn prepare_value(&mut self) -> Result<()> {
        Ok(())
    }
    /// Move to the next entry.
    fn next(&mut self) -> Result<()>;
    /// Move to the previous entry.
    fn prev(&mut self) -> Result<()>;
    /// Move to the first entry `>= target`.
    fn seek(&mut self, target: &[u8]) -> Result<()>;
    /// Whether this source may hold `user_key` (`hash` is its [`key_hash`]), answered without
    /// I/O: `false` only if it surely does not — outside the key range, or refused by a bloom
    /// filter. Lets a merge skip positioning a source it does not need (see
    /// [`MergingIterator::newest_first`]).
    fn may_contain(&self, user_key: &[u8], hash: u64) -> bool {
        let _ = (user_key, hash);
        true
    }
    /// Move to the first entry.
    fn seek_to_first(&mut self) -> Result<()>;
    /// Move to the last entry.
    fn seek_to_last(&mut self) -> Result<()>;
}

/// Entries copied out of a memtable by the first refill after a seek; each further refill in
/// the same direction doubles it up to [`MEM_CHUNK_ENTRIES_MAX`]. Small first chunks keep
/// seeks cheap; large later ones keep long scans cheap.
const MEM_CHUNK_ENTRIES_MIN: usize = 4;
/// Largest refill.
const MEM_CHUNK_ENTRIES_MAX: usize = 256;

/// Iterates a memtable by copying small chunks out under its read lock.
pub struct MemTableIter {
    mem: Arc<MemTable>,
    buf: Vec<(MemKey, MemValue)>,
    pos: usize,
    dir: Direction,
    /// Whether the last chunk was full (so more entries may follow in `dir`).
    more: bool,
    /// Size of the next refill.
    chunk: usize,
    key: Vec<u8>,
}

impl MemTableIter {
    /// An unpositioned iterator over `mem`.
    pub fn new(mem: Arc<MemTable>) -> Self {
        MemTableIter {
            mem,
            buf: Vec::new(),
            pos: 0,
            dir: Direction::Forward,
            more: false,
            chunk: MEM_CHUNK_ENTRIES_MIN,
            key: Vec::new(),
        }
    }

    fn fill(&mut self, start: Bound<(&[u8], u64)>, dir: Direction) {
        let mut buf = std::mem::take(&mut self.buf);
        let limit = self.chunk;
        self.mem.chunk(start, dir, limit, &mut buf);
        self.chunk = (self.chunk * 2).min(MEM_CHUNK_ENTRIES_MAX);
        self.buf = buf;
        self.more = self.buf.len() == limit;
        self.pos = 0;
        self.dir = dir;
        self.set_key();
    }

    fn set_key(&mut self) {
        self.key.clear();
        if let Some((k, v)) = self.buf.get(self.pos) {
            append_internal_key(&mut self.key, &k.user, k.seq, v.kind);
        }
    }

    fn step(&mut self, dir: Direction) {
        if !self.valid() {
            return;
        }
        if self.dir == dir {
            self.pos += 1;
            if self.pos < self.buf.len() {
                self.set_key();
                return;
            }
            if !self.more {
                self.set_key();
                return;
            }
        }
        let cur = self.buf[self.pos.min(self.buf.len() - 1)].0.clone();
        self.fill(Bound::Excluded((&cur.user, cur.seq)), dir);
    }
}

impl InternalIterator for MemTableIter {
    fn valid(&self) -> bool {
        self.pos < self.buf.len()
    }
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn value(&self) -> &[u8] {
        &self.buf[self.pos].1.value
    }
    fn next(&mut self) -> Result<()> {
        self.step(Direction::Forward);
        Ok(())
    }
    fn prev(&mut self) -> Result<()> {
        self.step(Direction::Backward);
        Ok(())
    }
    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.chunk = MEM_CHUNK_ENTRIES_MIN;
        let seq = key::sequence(target);
        self.fill(
            Bound::Included((key::user_key(target), seq)),
            Direction::Forward,
        );
        Ok(())
    }
    fn seek_to_first(&mut self) -> Result<()> {
        self.chunk = MEM_CHUNK_ENTRIES_MIN;
        self.fill(Bound::Unbounded, Direction::Forward);
        Ok(())
    }
    fn seek_to_last(&mut self) -> Result<()> {
        self.chunk = MEM_CHUNK_ENTRIES_MIN;
        self.fill(Bound::Unbounded, Direction::Backward);
        Ok(())
    }
}

impl<T: InternalIterator + ?Sized> InternalIterator for Box<T> {
    fn valid(&self) -> bool {
        (**self).valid()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn value(&self) -> &[u8] {
        (**self).value()
    }
    fn prepare_value(&mut self) -> Result<()> {
        (**self).prepare_value()
    }
    fn next(&mut self) -> Result<()> {
        (**self).next()
    }
    fn prev(&mut self) -> Result<()> {
        (**self).prev()
    }
    fn seek(&mut self, target: &[u8]) -> Result<()> {
        (**self).seek(target)
    }
    fn may_contain(&self, user_key: &[u8], hash: u64) -> bool {
        (**self).may_contain(user_key, hash)
    }
    fn seek_to_first(&mut self) -> Result<()> {
        (**self).seek_to_first()
    }
    fn seek_to_last(&mut self) -> Result<()> {
        (**self).seek_to_last()
    }
}

/// Merges children in internal-key order, both directions (LevelDB's `MergingIterator`).
/// After every move the chosen child is prepared ([`InternalIterator::prepare_value`]), so
/// the merged stream's value is always available; the other children may stay unread.
/// Picking the smallest child is a linear scan: children are few (memtables, L0 files, one per
/// deeper level) and the scan beats a heap's bookkeeping at that size. The children's type is
/// a parameter so the read path can hold them inline (an enum of its sources, one allocation
/// per iterator) rather than one box each.
pub struct MergingIterator<C: InternalIterator = Box<dyn InternalIterator>> {
    children: Vec<C>,
    current: Option<usize>,
    dir: Direction,
    scratch: Vec<u8>,
    /// Children ordered newest first, so a seek may leave some unpositioned (`newest_first`).
    lazy_seeks: bool,
    /// Children the last seek left unpositioned: not to be read until positioned at `target`.
    unpositioned: Vec<bool>,
    /// Whether any child is unpositioned.
    any_unpositioned: bool,
    /// The last seek's target, for positioning those children on the first move.
    target: Vec<u8>,
}

impl<C: InternalIterator> MergingIterator<C> {
    /// Merge `children`.
    pub fn new(children: Vec<C>) -> Self {
        MergingIterator {
            unpositioned: vec![false; children.len()],
            children,
            current: None,
            dir: Direction::Forward,
            scratch: Vec::new(),
            lazy_seeks: false,
            any_unpositioned: false,
            target: Vec::new(),
        }
    }

    /// Merge `children` ordered from newest to oldest — memtables, then L0 tables newest
    /// first, then the levels in order: for one user key, a child holds only versions older
    /// than any earlier child's. A seek then positions the children in that order, skipping
    /// those whose [`InternalIterator::may_contain`] says they lack the target's user key,
    /// and stops at the first child standing on that user key: nothing after it, and none
    /// of those skipped, can hold a smaller entry (an older version of the key sorts after a
    /// newer one; a source without the key has only larger ones). The children not positioned
    /// are positioned at the target on the first `next` or `prev`. A seek to a key that
    /// exists — most point-in-range reads — then searches only the sources down to the one
    /// that holds it, as a point lookup does, instead of a data block of every L0 table and
    /// of every level.
    pub fn newest_first(children: Vec<C>) -> Self {
        MergingIterator {
            lazy_seeks: true,
            ..Self::new(children)
        }
    }

    /// Position the children the last seek skipped at its target.
    fn position_skipped(&mut self) -> Result<()> {
        if !self.any_unpositioned {
            return Ok(());
        }
        for (c, skipped) in self.children.iter_mut().zip(&mut self.unpositioned) {
            if *skipped {
                c.seek(&self.target)?;
                *skipped = false;
            }
        }
        self.any_unpositioned = false;
        Ok(())
    }

    /// Forget the skipped children (every child is about to be positioned anew).
    fn forget_skipped(&mut self) {
        if self.any_unpositioned {
            self.unpositioned.fill(false);
            self.any_unpositioned = false;
        }
    }

    /// The lazy seek of [`Self::newest_first`].
    fn seek_newest_first(&mut self, target: &[u8]) -> Result<()> {
        let user = key::user_key(target);
        let hash = super::sstable::filter::key_hash(user);
        self.target.clear();
        self.target.extend_from_slice(target);
        let mut found = false;
        for (c, skipped) in self.children.iter_mut().zip(&mut self.unpositioned) {
            if found || !c.may_contain(user, hash) {
                *skipped = true;
                self.any_unpositioned = true;
                continue;
            }
            c.seek(target)?;
            found = c.valid() && key::user_key(c.key()) == user;
        }
        if !found {
            // No child stands on the key: the smallest entry may be in any of them.
            self.position_skipped()?;
        }
        Ok(())
    }

    /// Choose the smallest child and prepare its value.
    fn find_smallest(&mut self) -> Result<()> {
        self.pick_smallest();
        self.prepare_current()
    }

    /// Choose the largest child and prepare its value.
    fn find_largest(&mut self) -> Result<()> {
        self.pick_largest();
        self.prepare_current()
    }

    fn prepare_current(&mut self) -> Result<()> {
        match self.current {
            Some(i) => self.children[i].prepare_value(),
            None => Ok(()),
        }
    }

    fn pick_smallest(&mut self) {
        let mut best: Option<usize> = None;
        for (i, c) in self.children.iter().enumerate() {
            if !c.valid() || self.unpositioned[i] {
                continue;
            }
            best = match best {
                Some(b)
                    if compare_internal(self.children[b].key(), c.key()) != Ordering::Greater =>
                {
                    Some(b)
                }
                _ => Some(i),
            };
        }
        self.current = best;
    }

    fn pick_largest(&mut self) {
        let mut best: Option<usize> = None;
        for (i, c) in self.children.iter().enumerate().rev() {
            if !c.valid() || self.unpositioned[i] {
                continue;
            }
            best = match best {
                Some(b) if compare_internal(self.children[b].key(), c.key()) != Ordering::Less => {
                    Some(b)
                }
                _ => Some(i),
            };
        }
        self.current = best;
    }
}

impl<C: InternalIterator> InternalIterator for MergingIterator<C> {
    fn valid(&self) -> bool {
        self.current.is_some()
    }
    fn key(&self) -> &[u8] {
        self.children[self.current.expect("valid")].key()
    }
    fn value(&self) -> &[u8] {
        self.children[self.current.expect("valid")].value()
    }
    fn next(&mut self) -> Result<()> {
        let Some(cur) = self.current else {
            return Ok(());
        };
        // Children a seek skipped stand after the current entry once positioned at its
        // target (each holds only larger entries), as a forward merge needs.
        self.position_skipped()?;
        if self.dir != Direction::Forward {
            // Every other child is positioned before key(); move them after it.
            self.scratch.clear();
            self.scratch.extend_from_slice(self.children[cur].key());
            for i in 0..self.children.len() {
                if i == cur {
                    continue;
                }
                let c = &mut self.children[i];
                c.seek(&self.scratch)?;
                if c.valid() && compare_internal(&self.scratch, c.key()) == Ordering::Equal {
                    c.next()?;
                }
            }
            self.dir = Direction::Forward;
        }
        self.children[cur].next()?;
        self.find_smallest()
    }
    fn prev(&mut self) -> Result<()> {
        let Some(cur) = self.current else {
            return Ok(());
        };
        // A seek leaves the merge forward: turning back positions every other child anew.
        self.forget_skipped();
        if self.dir != Direction::Backward {
            self.scratch.clear();
            self.scratch.extend_from_slice(self.children[cur].key());
            for i in 0..self.children.len() {
                if i == cur {
                    continue;
                }
                let c = &mut self.children[i];
                c.seek(&self.scratch)?;
                if c.valid() {
                    c.prev()?;
                } else {
                    c.seek_to_last()?;
                }
            }
            self.dir = Direction::Backward;
        }
        self.children[cur].prev()?;
        self.find_largest()
    }
    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.forget_skipped();
        self.dir = Direction::Forward;
        if self.lazy_seeks {
            self.seek_newest_first(target)?;
        } else {
            for c in &mut self.children {
                c.seek(target)?;
            }
        }
        self.find_smallest()
    }
    fn seek_to_first(&mut self) -> Result<()> {
        self.forget_skipped();
        for c in &mut self.children {
            c.seek_to_first()?;
        }
        self.dir = Direction::Forward;
        self.find_smallest()
    }
    fn seek_to_last(&mut self) -> Result<()> {
        self.forget_skipped();
        for c in &mut self.children {
            c.seek_to_last()?;
        }
        self.dir = Direction::Backward;
        self.find_largest()
    }
}

/// What users iterate: the newest version of each user key visible at `snapshot_seq`,
/// deletions hidden, keys within `[lower, upper)` when bounds are set. Holds whatever keeps
/// its sources alive (memtables and the table version) for as long as it lives.
pub struct DbIterator {
    iter: Box<dyn InternalIterator>,
    snapshot_seq: u64,
    lower: Option<Vec<u8>>,
    upper: Option<Vec<u8>>,
    dir: Direction,
    valid: bool,
    saved_key: Vec<u8>,
    saved_value: Vec<u8>,
    _keep_alive: Box<dyn Send + Sync>,
}

impl DbIterator {
    /// Wrap a merged internal iterator. `keep_alive` is held until the iterator drops.
    pub fn new(
        iter: Box<dyn InternalIterator>,
        snapshot_seq: u64,
        lower: Option<Vec<u8>>,
        upper: Option<Vec<u8>>,
        keep_alive: Box<dyn Send + Sync>,
    ) -> Self {
        DbIterator {
            iter,
            snapshot_seq,
            lower,
            upper,
            dir: Direction::Forward,
            valid: false,
            saved_key: Vec::new(),
            saved_value: Vec::new(),
            _keep_alive: keep_alive,
        }
    }

    /// Whether the iterator is on a key.
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current user key.
    pub fn key(&self) -> &[u8] {
        assert!(self.valid);
        match self.dir {
            Direction::Forward => key::user_key(self.iter.key()),
            Direction::Backward => &self.saved_key,
        }
    }

    /// The current value.
    pub fn value(&self) -> &[u8] {
        assert!(self.valid);
        match self.dir {
            Direction::Forward => self.iter.value(),
            Direction::Backward => &self.saved_value,
        }
    }

    fn check_bounds(&mut self) {
        if !self.valid {
            return;
        }
        let k = self.key();
        let out = match self.dir {
            Direction::Forward => self.upper.as_deref().is_some_and(|u| k >= u),
            Direction::Backward => self.lower.as_deref().is_some_and(|l| k < l),
        };
        if out {
            self.valid = false;
        }
    }

    fn invalidate_on_err<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.valid = false;
        }
        r
    }

    /// Move to the first key (at or after the lower bound).
    pub fn seek_to_first(&mut self) -> Result<()> {
        if let Some(l) = self.lower.clone() {
            return self.seek(&l);
        }
        self.dir = Direction::Forward;
        self.saved_value.clear();
        let r = self.iter.seek_to_first();
        self.invalidate_on_err(r)?;
        self.saved_key.clear();
        let r = self.find_next_user_entry(false);
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    /// Move to the last key (before the upper bound).
    pub fn seek_to_last(&mut self) -> Result<()> {
        self.dir = Direction::Backward;
        self.saved_value.clear();
        let r = match self.upper.clone() {
            Some(u) => self.position_before(&u),
            None => self.iter.seek_to_last(),
        };
        self.invalidate_on_err(r)?;
        let r = self.find_prev_user_entry();
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    /// Move to the first key `>= target` (and within bounds).
    pub fn seek(&mut self, target: &[u8]) -> Result<()> {
        let target = match &self.lower {
            Some(l) if target < l.as_slice() => l.as_slice(),
            _ => target,
        };
        self.dir = Direction::Forward;
        self.saved_value.clear();
        self.saved_key.clear();
        append_internal_key(
            &mut self.saved_key,
            target,
            self.snapshot_seq,
            KIND_FOR_SEEK,
        );
        let sk = std::mem::take(&mut self.saved_key);
        let r = self.iter.seek(&sk);
        self.saved_key = sk;
        self.invalidate_on_err(r)?;
        let r = self.find_next_user_entry(false);
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    /// Move to the last key `<= target` (and within bounds).
    pub fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        // Position on the last internal entry whose user key is <= target.
        let mut after = target.to_vec();
        after.push(0);
        let after = match &self.upper {
            Some(u) if u.as_slice() < after.as_slice() => u.clone(),
            _ => after,
        };
        self.dir = Direction::Backward;
        self.saved_value.clear();
        let r = self.position_before(&after);
        self.invalidate_on_err(r)?;
        let r = self.find_prev_user_entry();
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    /// Put the internal iterator on the last entry with user key `< user_key`.
    fn position_before(&mut self, user_key: &[u8]) -> Result<()> {
        let mut ik = Vec::with_capacity(user_key.len() + 8);
        append_internal_key(&mut ik, user_key, MAX_SEQUENCE, KIND_FOR_SEEK);
        self.iter.seek(&ik)?;
        if self.iter.valid() {
            self.iter.prev()
        } else {
            self.iter.seek_to_last()
        }
    }

    /// Move to the next key. (Named like LevelDB's iterator, not `Iterator::next`: it moves a
    /// cursor and can fail.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<()> {
        assert!(self.valid);
        let r = self.next_inner();
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    fn next_inner(&mut self) -> Result<()> {
        if self.dir == Direction::Backward {
            self.dir = Direction::Forward;
            // The internal iterator is just before this key's entries: step into them, then
            // skip them with the normal code below (saved_key holds the key to skip).
            if !self.iter.valid() {
                self.iter.seek_to_first()?;
            } else {
                self.iter.next()?;
            }
            if !self.iter.valid() {
                self.valid = false;
                self.saved_key.clear();
                return Ok(());
            }
        } else {
            self.saved_key.clear();
            self.saved_key
                .extend_from_slice(key::user_key(self.iter.key()));
            self.iter.next()?;
            if !self.iter.valid() {
                self.valid = false;
                self.saved_key.clear();
                return Ok(());
            }
        }
        self.find_next_user_entry(true)
    }

    /// Skip forward to the next visible, live entry; `saved_key` is the key to skip past when
    /// `skipping`.
    fn find_next_user_entry(&mut self, mut skipping: bool) -> Result<()> {
        debug_assert_eq!(self.dir, Direction::Forward);
        while self.iter.valid() {
            let ik = self.iter.key();
            let seq = key::sequence(ik);
            if seq <= self.snapshot_seq {
                let uk = key::user_key(ik);
                match key::kind(ik) {
                    Some(ValueKind::Delete) => {
                        self.saved_key.clear();
                        self.saved_key.extend_from_slice(uk);
                        skipping = true;
                    }
                    Some(ValueKind::Put) if !(skipping && uk <= self.saved_key.as_slice()) => {
                        self.valid = true;
                        self.saved_key.clear();
                        return Ok(());
                    }
                    Some(ValueKind::Put) | None => {}
                }
            }
            self.iter.next()?;
        }
        self.saved_key.clear();
        self.valid = false;
        Ok(())
    }

    /// Move to the previous key.
    pub fn prev(&mut self) -> Result<()> {
        assert!(self.valid);
        let r = self.prev_inner();
        self.invalidate_on_err(r)?;
        self.check_bounds();
        Ok(())
    }

    fn prev_inner(&mut self) -> Result<()> {
        if self.dir == Direction::Forward {
            // The internal iterator is on the current entry; walk back past every entry of
            // this user key.
            self.saved_key.clear();
            self.saved_key
                .extend_from_slice(key::user_key(self.iter.key()));
            loop {
                self.iter.prev()?;
                if !self.iter.valid() {
                    self.valid = false;
                    self.saved_key.clear();
                    self.saved_value.clear();
                    return Ok(());
                }
                if key::user_key(self.iter.key()) < self.saved_key.as_slice() {
                    break;
                }
            }
            self.dir = Direction::Backward;
        }
        self.find_prev_user_entry()
    }

    /// Walk backwards collecting the newest visible version of the previous user key.
    fn find_prev_user_entry(&mut self) -> Result<()> {
        self.dir = Direction::Backward;
        let mut kind = ValueKind::Delete;
        while self.iter.valid() {
            let ik = self.iter.key();
            if key::sequence(ik) <= self.snapshot_seq {
                let uk = key::user_key(ik);
                if kind != ValueKind::Delete && uk < self.saved_key.as_slice() {
                    // Reached the previous user key, and have a live value for this one.
                    break;
                }
                match key::kind(ik) {
                    Some(ValueKind::Delete) => {
                        kind = ValueKind::Delete;
                        self.saved_key.clear();
                        self.saved_value.clear();
                    }
                    Some(ValueKind::Put) => {
                        kind = ValueKind::Put;
                        self.saved_key.clear();
                        self.saved_key.extend_from_slice(uk);
                        self.saved_value.clear();
                        self.saved_value.extend_from_slice(self.iter.value());
                    }
                    None => {}
                }
            }
            self.iter.prev()?;
        }
        if kind == ValueKind::Delete {
            self.valid = false;
            self.saved_key.clear();
            self.saved_value.clear();
            self.dir = Direction::Forward;
        } else {
            self.valid = true;
        }
        Ok(())
    }

    /// Collect up to `limit` (key, value) pairs going forward from the current position.
    pub fn collect_forward(&mut self, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        while self.valid && out.len() < limit {
            out.push((self.key().to_vec(), self.value().to_vec()));
            self.next()?;
        }
        Ok(out)
    }

    /// Collect up to `limit` pairs going backward from the current position.
    pub fn collect_backward(&mut self, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        while self.valid && out.len() < limit {
            out.push((self.key().to_vec(), self.value().to_vec()));
            self.prev()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn mem(entries: &[(&str, u64, Option<&str>)]) -> Arc<MemTable> {
        let m = MemTable::new(1);
        for (k, s, v) in entries {
            let (kind, val) = match v {
                Some(v) => (ValueKind::Put, Bytes::copy_from_slice(v.as_bytes())),
                None => (ValueKind::Delete, Bytes::new()),
            };
            m.insert(Bytes::copy_from_slice(k.as_bytes()), *s, kind, val);
        }
        Arc::new(m)
    }

    fn db_iter(mems: &[Arc<MemTable>], snap: u64) -> DbIterator {
        let children: Vec<Box<dyn InternalIterator>> = mems
            .iter()
            .map(|m| Box::new(MemTableIter::new(m.clone())) as Box<dyn InternalIterator>)
            .collect();
        DbIterator::new(
            Box::new(MergingIterator::new(children)),
            snap,
            None,
            None,
            Box::new(()),
        )
    }

    #[test]
    fn both_directions_agree_and_hide_deletes() {
        let m1 = mem(&[
            ("a", 1, Some("a1")),
            ("b", 2, Some("b2")),
            ("c", 3, Some("c3")),
            ("e", 9, Some("e9")),
        ]);
        let m2 = mem(&[
            ("b", 5, None),
            ("c", 6, Some("c6")),
            ("d", 7, Some("d7")),
            ("a", 8, None),
        ]);
        let mut it = db_iter(&[m1.clone(), m2.clone()], 100);
        it.seek_to_first().unwrap();
        let fwd = it.collect_forward(100).unwrap();
        let keys: Vec<_> = fwd
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect();
        assert_eq!(keys, vec!["c=c6", "d=d7", "e=e9"]);
        it.seek_to_last().unwrap();
        let mut back = it.collect_backward(100).unwrap();
        back.reverse();
        assert_eq!(back, fwd);
        // At snapshot 4: a1, b2, c3.
        let mut it = db_iter(&[m1, m2], 4);
        it.seek(b"b").unwrap();
        assert_eq!(it.key(), b"b");
        it.prev().unwrap();
        assert_eq!(it.key(), b"a");
        it.next().unwrap();
        assert_eq!(it.key(), b"b");
        it.next().unwrap();
        assert_eq!((it.key(), it.value()), (&b"c"[..], &b"c3"[..]));
        it.next().unwrap();
        assert!(!it.valid());
        it.seek_for_prev(b"bz").unwrap();
        assert_eq!(it.key(), b"b");
    }

    #[test]
    fn memtable_iter_crosses_chunks_both_ways() {
        let entries: Vec<(String, u64)> = (0..300)
            .map(|i| (format!("k{i:04}"), i as u64 + 1))
            .collect();
        let m = MemTable::new(1);
        for (k, s) in &entries {
            m.insert(
                Bytes::copy_from_slice(k.as_bytes()),
                *s,
                ValueKind::Put,
                Bytes::from_static(b"v"),
            );
        }
        let mut it = MemTableIter::new(Arc::new(m));
        it.seek_to_first().unwrap();
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next().unwrap();
        }
        assert_eq!(n, 300);
        it.seek_to_last().unwrap();
        for _ in 0..150 {
            it.prev().unwrap();
        }
        assert_eq!(key::user_key(it.key()), b"k0149");
        for _ in 0..100 {
            it.next().unwrap();
        }
        assert_eq!(key::user_key(it.key()), b"k0249");
    }
}
