//! The read path: point lookups search the memtables newest first, then L0 newest first,
//! then one table per deeper level; `multi_get` batches the block reads of many keys;
//! iterators merge every source. Readers take no lock but the brief one that clones the
//! current `LsmState`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::{DbInner, LsmState};
use crate::lsm::error::Result;
use crate::lsm::iter::{DbIterator, InternalIterator, MemTableIter, MergingIterator};
use crate::lsm::key::{append_internal_key, ValueKind, KIND_FOR_SEEK};
use crate::lsm::options::ReadOptions;
use crate::lsm::sstable::filter::key_hash;
use crate::lsm::sstable::{Found, TableIter, TableReader};
use crate::lsm::stats::Stats;
use crate::lsm::version::{LevelIter, TableFile, Version};

impl DbInner {
    fn read_seq(&self, ro: ReadOptions) -> u64 {
        ro.snapshot_seq
            .unwrap_or_else(|| self.last_seq.load(Ordering::Acquire))
    }

    pub(super) fn get(&self, key: &[u8], ro: ReadOptions) -> Result<Option<Bytes>> {
        Stats::add(&self.stats.gets, 1);
        let seq = self.read_seq(ro);
        let st = self.current();
        let found = self.get_in(&st, key, seq, ro.cache_only)?;
        if found.is_some() {
            Stats::add(&self.stats.get_hits, 1);
        }
        Ok(found)
    }

    fn get_in(
        &self,
        st: &LsmState,
        key: &[u8],
        seq: u64,
        cache_only: bool,
    ) -> Result<Option<Bytes>> {
        let live = |kind: ValueKind, v: Bytes| {
            if kind == ValueKind::Put {
                Some(v)
            } else {
                None
            }
        };
        if let Some(v) = st.mem.get(key, seq) {
            return Ok(live(v.kind, v.value));
        }
        for m in st.imms.iter().rev() {
            if let Some(v) = m.get(key, seq) {
                return Ok(live(v.kind, v.value));
            }
        }
        let mut lookup = Vec::with_capacity(key.len() + 8);
        append_internal_key(&mut lookup, key, seq, KIND_FOR_SEEK);
        let hash = key_hash(key);
        for f in &st.version.levels[0] {
            if f.overlaps(key, key) {
                if let Some(Found { kind, value, .. }) =
                    f.reader.get_opt(&lookup, hash, cache_only)?
                {
                    return Ok(live(kind, value));
                }
            }
        }
        for lvl in &st.version.levels[1..] {
            let i = Version::find_table(lvl, key);
            if i < lvl.len() && lvl[i].smallest_user() <= key {
                if let Some(Found { kind, value, .. }) =
                    lvl[i].reader.get_opt(&lookup, hash, cache_only)?
                {
                    return Ok(live(kind, value));
                }
            }
        }
        Ok(None)
    }

    pub(super) fn multi_get(&self, keys: &[&[u8]], ro: ReadOptions) -> Result<Vec<Option<Bytes>>> {
        Stats::add(&self.stats.gets, keys.len() as u64);
        let seq = self.read_seq(ro);
        let st = self.current();
        let mut out: Vec<Option<Bytes>> = vec![None; keys.len()];
        // Per key: the tables still to search, in search order.
        struct Pending {
            idx: usize,
            lookup: Vec<u8>,
            hash: u64,
            tables: Vec<Arc<TableFile>>,
            next: usize,
        }
        let mut pending: Vec<Pending> = Vec::new();
        'keys: for (idx, key) in keys.iter().enumerate() {
            for m in std::iter::once(&st.mem).chain(st.imms.iter().rev()) {
                if let Some(v) = m.get(key, seq) {
                    out[idx] = (v.kind == ValueKind::Put).then_some(v.value);
                    continue 'keys;
                }
            }
            let mut tables: Vec<Arc<TableFile>> = st.version.levels[0]
                .iter()
                .filter(|f| f.overlaps(key, key))
                .cloned()
                .collect();
            for lvl in &st.version.levels[1..] {
                let i = Version::find_table(lvl, key);
                if i < lvl.len() && lvl[i].smallest_user() <= *key {
                    tables.push(lvl[i].clone());
                }
            }
            let mut lookup = Vec::with_capacity(key.len() + 8);
            append_internal_key(&mut lookup, key, seq, KIND_FOR_SEEK);
            pending.push(Pending {
                idx,
                lookup,
                hash: key_hash(key),
                tables,
                next: 0,
            });
        }
        // Each round reads, in one batch, the next candidate block of every unresolved key.
        // Bound: a key drops out after its last table, so rounds <= tables per key.
        while !pending.is_empty() {
            let mut wanted = Vec::new();
            let mut still = Vec::new();
            for mut p in pending {
                let mut chosen = None;
                while p.next < p.tables.len() {
                    let t = p.tables[p.next].clone();
                    p.next += 1;
                    if !t.reader.may_contain(p.hash) {
                        continue;
                    }
                    if let Some(h) = t.reader.block_for(&p.lookup)? {
                        chosen = Some((t, h));
                        break;
                    }
                }
                if let Some(c) = chosen {
                    wanted.push(c);
                    still.push(p);
                }
            }
            let reqs: Vec<(&TableReader, _)> =
                wanted.iter().map(|(t, h)| (&*t.reader, *h)).collect();
            let blocks = TableReader::read_blocks_batch(&*self.fs, &reqs);
            let mut next_round = Vec::new();
            for ((p, (t, h)), block) in still.into_iter().zip(wanted.iter()).zip(blocks) {
                match t.reader.get_in_block(block?, *h, &p.lookup)? {
                    Some(f) => out[p.idx] = (f.kind == ValueKind::Put).then_some(f.value),
                    None => next_round.push(p),
                }
            }
            pending = next_round;
        }
        Stats::add(
            &self.stats.get_hits,
            out.iter().filter(|o| o.is_some()).count() as u64,
        );
        Ok(out)
    }

    pub(super) fn iter(
        &self,
        ro: ReadOptions,
        lower: Option<Vec<u8>>,
        upper: Option<Vec<u8>>,
    ) -> DbIterator {
        let seq = self.read_seq(ro);
        let st = self.current();
        let mut children: Vec<Source> =
            Vec::with_capacity(1 + st.imms.len() + st.version.levels.len() + 4);
        children.push(Source::Mem(MemTableIter::new(st.mem.clone())));
        for m in st.imms.iter().rev() {
            children.push(Source::Mem(MemTableIter::new(m.clone())));
        }
        for f in &st.version.levels[0] {
            children.push(Source::Table(TableIter::new(f.reader.clone())));
        }
        for (level, files) in st.version.levels.iter().enumerate().skip(1) {
            if !files.is_empty() {
                children.push(Source::Level(LevelIter::over_level(
                    st.version.clone(),
                    level,
                )));
            }
        }
        DbIterator::new(
            // Newest first, as `newest_first` needs: the memtables, L0 newest first (the
            // version keeps it so), then the levels.
            Box::new(MergingIterator::newest_first(children)),
            seq,
            lower,
            upper,
            Box::new(st),
        )
    }
}

/// One source a scan merges, held inline (no box per source).
enum Source {
    /// The active or an immutable memtable.
    Mem(MemTableIter),
    /// One L0 table.
    Table(TableIter),
    /// A deeper level.
    Level(LevelIter),
}

macro_rules! each_source {
    ($self:ident, $it:ident => $e:expr) => {
        match $self {
            Source::Mem($it) => $e,
            Source::Table($it) => $e,
            Source::Level($it) => $e,
        }
    };
}

impl InternalIterator for Source {
    fn valid(&self) -> bool {
        each_source!(self, it => it.valid())
    }
    fn key(&self) -> &[u8] {
        each_source!(self, it => it.key())
    }
    fn value(&self) -> &[u8] {
        each_source!(self, it => it.value())
    }
    fn prepare_value(&mut self) -> Result<()> {
        each_source!(self, it => it.prepare_value())
    }
    fn next(&mut self) -> Result<()> {
        each_source!(self, it => it.next())
    }
    fn prev(&mut self) -> Result<()> {
        each_source!(self, it => it.prev())
    }
    fn seek(&mut self, target: &[u8]) -> Result<()> {
        each_source!(self, it => it.seek(target))
    }
    fn may_contain(&self, user_key: &[u8], hash: u64) -> bool {
        each_source!(self, it => it.may_contain(user_key, hash))
    }
    fn seek_to_first(&mut self) -> Result<()> {
        each_source!(self, it => it.seek_to_first())
    }
    fn seek_to_last(&mut self) -> Result<()> {
        each_source!(self, it => it.seek_to_last())
    }
}
