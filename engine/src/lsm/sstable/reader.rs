//! Reads one SSTable through any I/O backend. Opening reads and verifies the footer, index,
//! filter and properties blocks and keeps them in memory; data blocks are read on demand
//! through the shared [`BlockCache`], each verified against its CRC on every read from disk.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::io::{FileHandle, Fs, IoOp, OpenOptions};
use crate::lsm::cache::BlockCache;
use crate::lsm::error::{CorruptionDetail, LsmError, Result};
use crate::lsm::iter::InternalIterator;
use crate::lsm::key::{self, compare_internal, ValueKind};
use crate::lsm::stats::Stats;

use super::block::{Block, BlockIter, RestartPrefixes};
use super::filter::BloomFilter;
use super::footer::{Footer, TableProperties, FOOTER_BYTES};
use super::framing::{describe_block, trailer_bytes, unpack_block, BlockInfo};
use super::index::BlockHandle;

/// An open table.
#[derive(Debug)]
pub struct TableReader {
    number: u64,
    path: PathBuf,
    file: FileHandle,
    file_bytes: u64,
    footer: Footer,
    /// Trailer bytes after each block (by format version).
    trailer: usize,
    index: Arc<Block>,
    /// The index block's restart keys as integers, to search it in few cache lines.
    index_prefixes: Option<RestartPrefixes>,
    filter: Option<BloomFilter>,
    props: TableProperties,
    cache: Arc<BlockCache>,
    stats: Arc<Stats>,
}

/// A point lookup's answer from one table.
#[derive(Debug, Clone)]
pub struct Found {
    /// Put or delete.
    pub kind: ValueKind,
    /// Sequence number of the version found.
    pub seq: u64,
    /// The value (empty for a delete), a slice of the cached block.
    pub value: Bytes,
}

impl TableReader {
    /// Open and verify table `number` at `path`.
    pub fn open(
        fs: &dyn Fs,
        path: &Path,
        number: u64,
        cache: Arc<BlockCache>,
        stats: Arc<Stats>,
    ) -> Result<Self> {
        let file = fs.open(path, OpenOptions::read_only())?;
        let file_bytes = file.len()?;
        let corrupt = |what, offset, detail: CorruptionDetail| {
            LsmError::corruption(path, what, offset, detail)
        };
        if file_bytes < FOOTER_BYTES as u64 {
            return Err(corrupt(
                "footer",
                0,
                format!("file is {file_bytes} bytes, shorter than a footer").into(),
            ));
        }
        let footer_at = file_bytes - FOOTER_BYTES as u64;
        let mut fb = [0u8; FOOTER_BYTES];
        file.read_exact_at(&mut fb, footer_at)?;
        let footer = Footer::decode(&fb).map_err(|e| corrupt("footer", footer_at, e.into()))?;
        let fv = footer.format_version;
        let trailer = trailer_bytes(fv);
        let read_raw = |h: BlockHandle, what: &'static str| -> Result<Bytes> {
            let end = h.offset.checked_add(h.size + trailer as u64);
            if end.is_none_or(|e| e > footer_at) {
                return Err(corrupt(
                    what,
                    h.offset,
                    format!("handle (size {}) runs past the footer", h.size).into(),
                ));
            }
            let size = usize::try_from(h.size).map_err(|_| {
                corrupt(
                    what,
                    h.offset,
                    format!("handle size {} does not fit in memory", h.size).into(),
                )
            })?;
            let mut buf = vec![0u8; size + trailer];
            file.read_exact_at(&mut buf, h.offset)?;
            Ok(Bytes::from(buf))
        };
        let verify = |raw: Bytes, h: BlockHandle, what: &'static str| -> Result<Bytes> {
            unpack_block(raw, fv).map_err(|e| corrupt(what, h.offset, e.into()))
        };
        let index_raw = read_raw(footer.index, "index block")?;
        let index = Block::from_stored(index_raw, fv)
            .map_err(|e| corrupt("index block", footer.index.offset, e.into()))?;
        let filter_raw = verify(
            read_raw(footer.filter, "filter block")?,
            footer.filter,
            "filter block",
        )?;
        let filter = if filter_raw.is_empty() {
            None
        } else {
            Some(BloomFilter::parse(&filter_raw).ok_or_else(|| {
                corrupt(
                    "filter block",
                    footer.filter.offset,
                    "malformed filter".into(),
                )
            })?)
        };
        let props_raw = verify(
            read_raw(footer.properties, "properties block")?,
            footer.properties,
            "properties block",
        )?;
        let props = TableProperties::decode(&props_raw, fv).ok_or_else(|| {
            corrupt(
                "properties block",
                footer.properties.offset,
                "malformed properties".into(),
            )
        })?;
        if props.entries == 0
            || key::parse(&props.smallest_key).is_none()
            || key::parse(&props.largest_key).is_none()
        {
            return Err(corrupt(
                "properties block",
                footer.properties.offset,
                "empty table or malformed key range".into(),
            ));
        }
        Ok(TableReader {
            number,
            path: path.to_path_buf(),
            file,
            file_bytes,
            footer,
            trailer,
            index_prefixes: RestartPrefixes::build(&index),
            index: Arc::new(index),
            filter,
            props,
            cache,
            stats,
        })
    }

    /// The table's file number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The table's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// File size in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// The footer.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// The properties block.
    pub fn properties(&self) -> &TableProperties {
        &self.props
    }

    /// The bloom filter, if the table has one.
    pub fn filter(&self) -> Option<&BloomFilter> {
        self.filter.as_ref()
    }

    /// Bytes this open table keeps in memory outside the block cache: its index block (with
    /// the index's restart-key prefixes) and its bloom filter (read at open and kept for every
    /// lookup).
    pub fn pinned_bytes(&self) -> (usize, usize) {
        (
            self.index.size_bytes()
                + self
                    .index_prefixes
                    .as_ref()
                    .map_or(0, RestartPrefixes::size_bytes),
            self.filter.as_ref().map_or(0, |f| f.bits() / 8),
        )
    }

    fn corrupt(
        &self,
        what: &'static str,
        offset: u64,
        detail: impl Into<CorruptionDetail>,
    ) -> LsmError {
        LsmError::corruption(&self.path, what, offset, detail)
    }

    fn check_handle(&self, h: BlockHandle) -> Result<()> {
        let limit = self.file_bytes - FOOTER_BYTES as u64;
        match h.offset.checked_add(h.size + self.trailer as u64) {
            Some(end) if end <= limit && h.size <= 64 * 1024 * 1024 => Ok(()),
            _ => Err(self.corrupt(
                "index block",
                self.footer.index.offset,
                format!("data block handle {h:?} out of range"),
            )),
        }
    }

    /// A data block, from the cache or (verified) from disk.
    pub fn read_block(&self, h: BlockHandle) -> Result<Arc<Block>> {
        self.read_block_opt(h, true)
    }

    /// A data block; with `fill_cache` false a block read from disk is not inserted into the
    /// cache (compactions read every block once and would only evict the hot ones).
    pub fn read_block_opt(&self, h: BlockHandle, fill_cache: bool) -> Result<Arc<Block>> {
        if let Some(b) = self.cache.get(self.number, h.offset) {
            return Ok(b);
        }
        self.check_handle(h)?;
        let mut buf = vec![0u8; checked_len(h) + self.trailer];
        self.file.read_exact_at(&mut buf, h.offset)?;
        self.install_block(h, buf, fill_cache)
    }

    /// How data block `h` is stored (its compression and sizes), read from disk and checked
    /// but not decompressed: what `seedbed inspect sst` shows per block.
    pub fn describe_block(&self, h: BlockHandle) -> Result<BlockInfo> {
        self.check_handle(h)?;
        let mut buf = vec![0u8; checked_len(h) + self.trailer];
        self.file.read_exact_at(&mut buf, h.offset)?;
        describe_block(&buf, self.footer.format_version)
            .map_err(|e| self.corrupt("data block", h.offset, e))
    }

    /// Verify freshly read bytes of block `h`, count them and maybe put them in the cache.
    fn install_block(&self, h: BlockHandle, buf: Vec<u8>, fill_cache: bool) -> Result<Arc<Block>> {
        Stats::add(&self.stats.block_reads, 1);
        Stats::add(&self.stats.block_read_bytes, buf.len() as u64);
        let block = Block::from_stored(Bytes::from(buf), self.footer.format_version)
            .map_err(|e| self.corrupt("data block", h.offset, e))?;
        let block = Arc::new(block);
        if fill_cache {
            self.cache.insert(self.number, h.offset, block.clone());
        }
        Ok(block)
    }

    /// Does the bloom filter allow `user_key` (by hash)? Counts the check.
    pub fn may_contain(&self, hash: u64) -> bool {
        match &self.filter {
            None => true,
            Some(f) => {
                Stats::add(&self.stats.bloom_checks, 1);
                let yes = f.may_contain_hash(hash);
                if !yes {
                    Stats::add(&self.stats.bloom_useful, 1);
                }
                yes
            }
        }
    }

    /// The handle of the only data block that can hold `lookup` (an internal seek key).
    pub fn block_for(&self, lookup: &[u8]) -> Result<Option<BlockHandle>> {
        let mut it = BlockIter::new(self.index.clone());
        self.seek_index(&mut it, lookup);
        if let Some(e) = it.error() {
            return Err(self.corrupt("index block", self.footer.index.offset, e));
        }
        if !it.valid() {
            return Ok(None);
        }
        let h = BlockHandle::decode(it.value()).ok_or_else(|| {
            self.corrupt("index block", self.footer.index.offset, "bad block handle")
        })?;
        Ok(Some(h))
    }

    /// Position an iterator over the index block on the first entry `>= target`.
    fn seek_index(&self, it: &mut BlockIter, target: &[u8]) {
        match &self.index_prefixes {
            Some(p) => it.seek_with(target, p),
            None => it.seek(target),
        }
    }

    /// Look `lookup` (user key + snapshot trailer) up in a given block.
    pub fn get_in_block(
        &self,
        block: Arc<Block>,
        h: BlockHandle,
        lookup: &[u8],
    ) -> Result<Option<Found>> {
        let mut it = BlockIter::new(block);
        it.seek(lookup);
        if let Some(e) = it.error() {
            return Err(self.corrupt("data block", h.offset, e));
        }
        if it.valid() && key::user_key(it.key()) == key::user_key(lookup) {
            let p = key::parse(it.key())
                .ok_or_else(|| self.corrupt("data block", h.offset, "bad internal key"))?;
            return Ok(Some(Found {
                kind: p.kind,
                seq: p.seq,
                value: it.value_bytes(),
            }));
        }
        Stats::add(
            &self.stats.bloom_false_positives,
            u64::from(self.filter.is_some()),
        );
        Ok(None)
    }

    /// The newest version of the lookup key's user key visible at the lookup's sequence
    /// number; `hash` is [`super::filter::key_hash`] of the user key.
    pub fn get(&self, lookup: &[u8], hash: u64) -> Result<Option<Found>> {
        self.get_opt(lookup, hash, false)
    }

    /// [`TableReader::get`]; with `cache_only`, a data block that is not in the block cache
    /// is not read: [`LsmError::NotInCache`] (the index and the filter are always in memory).
    pub fn get_opt(&self, lookup: &[u8], hash: u64, cache_only: bool) -> Result<Option<Found>> {
        if !self.may_contain(hash) {
            return Ok(None);
        }
        let Some(h) = self.block_for(lookup)? else {
            Stats::add(
                &self.stats.bloom_false_positives,
                u64::from(self.filter.is_some()),
            );
            return Ok(None);
        };
        let block = if cache_only {
            self.cache
                .get(self.number, h.offset)
                .ok_or(LsmError::NotInCache { table: self.number })?
        } else {
            self.read_block(h)?
        };
        self.get_in_block(block, h, lookup)
    }

    /// Read many data blocks in one batch through [`Fs::submit`]: cached blocks are taken from
    /// the cache, the rest are read together (one submission on io_uring) and verified.
    pub fn read_blocks_batch(
        fs: &dyn Fs,
        wanted: &[(&TableReader, BlockHandle)],
    ) -> Vec<Result<Arc<Block>>> {
        let mut out: Vec<Option<Result<Arc<Block>>>> = Vec::with_capacity(wanted.len());
        let mut bufs: Vec<(usize, Vec<u8>)> = Vec::new();
        for (i, (t, h)) in wanted.iter().enumerate() {
            if let Some(b) = t.cache.get(t.number, h.offset) {
                out.push(Some(Ok(b)));
            } else if let Err(e) = t.check_handle(*h) {
                out.push(Some(Err(e)));
            } else {
                out.push(None);
                bufs.push((i, vec![0u8; checked_len(*h) + t.trailer]));
            }
        }
        if !bufs.is_empty() {
            let results = {
                let mut ops: Vec<IoOp<'_>> = bufs
                    .iter_mut()
                    .map(|(i, buf)| IoOp::Read {
                        file: &*wanted[*i].0.file,
                        offset: wanted[*i].1.offset,
                        buf,
                    })
                    .collect();
                fs.submit(&mut ops)
            };
            for ((i, buf), r) in bufs.into_iter().zip(results) {
                let (t, h) = wanted[i];
                let res = match r {
                    Ok(n) if n == buf.len() => t.install_block(h, buf, true),
                    Ok(n) => Err(t.corrupt(
                        "data block",
                        h.offset,
                        format!("short read: {n} of {} bytes", buf.len()),
                    )),
                    Err(e) => Err(e.into()),
                };
                out[i] = Some(res);
            }
        }
        out.into_iter()
            .map(|o| o.expect("every request answered"))
            .collect()
    }

    /// Every data block handle, in order (for inspection and verification).
    pub fn data_block_handles(&self) -> Result<Vec<(Vec<u8>, BlockHandle)>> {
        let mut it = BlockIter::new(self.index.clone());
        it.seek_to_first();
        let mut out = Vec::new();
        while it.valid() {
            let h = BlockHandle::decode(it.value()).ok_or_else(|| {
                self.corrupt("index block", self.footer.index.offset, "bad block handle")
            })?;
            out.push((it.key().to_vec(), h));
            it.next();
        }
        if let Some(e) = it.error() {
            return Err(self.corrupt("index block", self.footer.index.offset, e));
        }
        Ok(out)
    }
}

/// Iterates a whole table: a cursor over the index picks data blocks, a cursor over the
/// current data block yields entries.
///
/// A seek uses the table's key range (from its properties block) before touching the index:
/// a target past the table's largest key leaves the iterator invalid at once, and a target at
/// or before its smallest key puts it on the first entry *without reading it* — the key is
/// the table's smallest key, and the index and data block are read only when the entry is
/// stepped from or its value is needed ([`InternalIterator::prepare_value`]). A merge of many
/// tables then searches only the tables whose range holds the target.
pub struct TableIter {
    table: Arc<TableReader>,
    fill_cache: bool,
    index: BlockIter,
    data: Option<BlockIter>,
    data_handle: BlockHandle,
    /// On the first entry, not yet read (see above).
    first_unread: bool,
}

impl TableIter {
    /// An unpositioned iterator over `table`.
    pub fn new(table: Arc<TableReader>) -> Self {
        Self::with_fill_cache(table, true)
    }

    /// An iterator whose disk reads do (`true`) or do not fill the block cache.
    pub fn with_fill_cache(table: Arc<TableReader>, fill_cache: bool) -> Self {
        let index = BlockIter::new(table.index.clone());
        TableIter {
            table,
            fill_cache,
            index,
            data: None,
            data_handle: BlockHandle::default(),
            first_unread: false,
        }
    }

    fn index_error(&self) -> Result<()> {
        match self.index.error() {
            Some(e) => Err(self
                .table
                .corrupt("index block", self.table.footer.index.offset, e)),
            None => Ok(()),
        }
    }

    fn data_error(&self) -> Result<()> {
        match self.data.as_ref().and_then(|d| d.error()) {
            Some(e) => Err(self.table.corrupt("data block", self.data_handle.offset, e)),
            None => Ok(()),
        }
    }

    fn init_data_block(&mut self) -> Result<()> {
        if !self.index.valid() {
            self.data = None;
            return self.index_error();
        }
        let h = BlockHandle::decode(self.index.value()).ok_or_else(|| {
            self.table.corrupt(
                "index block",
                self.table.footer.index.offset,
                "bad block handle",
            )
        })?;
        if self.data.is_some() && h == self.data_handle {
            return Ok(());
        }
        let block = self.table.read_block_opt(h, self.fill_cache)?;
        match &mut self.data {
            Some(d) => d.reset(block),
            None => self.data = Some(BlockIter::new(block)),
        }
        self.data_handle = h;
        Ok(())
    }

    fn skip_forward(&mut self) -> Result<()> {
        // Bound: one step per data block.
        while !self.data.as_ref().is_some_and(BlockIter::valid) {
            self.data_error()?;
            if !self.index.valid() {
                self.data = None;
                return self.index_error();
            }
            self.index.next();
            self.init_data_block()?;
            match &mut self.data {
                Some(d) => d.seek_to_first(),
                None => return Ok(()),
            }
        }
        Ok(())
    }

    fn skip_backward(&mut self) -> Result<()> {
        while !self.data.as_ref().is_some_and(BlockIter::valid) {
            self.data_error()?;
            if !self.index.valid() {
                self.data = None;
                return self.index_error();
            }
            self.index.prev();
            self.init_data_block()?;
            match &mut self.data {
                Some(d) => d.seek_to_last(),
                None => return Ok(()),
            }
        }
        Ok(())
    }

    fn read_first(&mut self) -> Result<()> {
        self.first_unread = false;
        self.index.seek_to_first();
        self.init_data_block()?;
        if let Some(d) = &mut self.data {
            d.seek_to_first();
        }
        self.skip_forward()
    }

    /// Read the first entry a seek positioned on without reading it, and check that it is
    /// the smallest key the properties promised (the key the iterator already showed).
    fn read_unread_first(&mut self) -> Result<()> {
        if !self.first_unread {
            return Ok(());
        }
        self.read_first()?;
        if !self.valid() || self.key() != self.table.props.smallest_key.as_slice() {
            self.data = None;
            return Err(self.table.corrupt(
                "properties block",
                self.table.footer.properties.offset,
                "the smallest key differs from the table's first entry",
            ));
        }
        Ok(())
    }
}

impl InternalIterator for TableIter {
    fn valid(&self) -> bool {
        self.first_unread || self.data.as_ref().is_some_and(BlockIter::valid)
    }
    fn key(&self) -> &[u8] {
        if self.first_unread {
            return &self.table.props.smallest_key;
        }
        self.data.as_ref().expect("valid").key()
    }
    fn value(&self) -> &[u8] {
        assert!(!self.first_unread, "TableIter::value before prepare_value");
        self.data.as_ref().expect("valid").value()
    }
    fn prepare_value(&mut self) -> Result<()> {
        self.read_unread_first()
    }
    fn next(&mut self) -> Result<()> {
        self.read_unread_first()?;
        if let Some(d) = &mut self.data {
            d.next();
        }
        self.skip_forward()
    }
    fn prev(&mut self) -> Result<()> {
        self.read_unread_first()?;
        if let Some(d) = &mut self.data {
            d.prev();
        }
        self.skip_backward()
    }
    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.first_unread = false;
        let props = &self.table.props;
        if compare_internal(target, &props.largest_key) == Ordering::Greater {
            // Past the table's last entry: nothing to search.
            self.index.invalidate();
            if let Some(d) = &mut self.data {
                d.invalidate();
            }
            return Ok(());
        }
        if compare_internal(target, &props.smallest_key) != Ordering::Greater {
            // The first entry is the answer; read it only if it is used.
            self.first_unread = true;
            return Ok(());
        }
        self.table.seek_index(&mut self.index, target);
        self.init_data_block()?;
        if let Some(d) = &mut self.data {
            d.seek(target);
        }
        self.skip_forward()
    }
    fn may_contain(&self, user_key: &[u8], hash: u64) -> bool {
        let props = &self.table.props;
        key::user_key(&props.smallest_key) <= user_key
            && user_key <= key::user_key(&props.largest_key)
            && self.table.may_contain(hash)
    }
    fn seek_to_first(&mut self) -> Result<()> {
        self.read_first()
    }
    fn seek_to_last(&mut self) -> Result<()> {
        self.first_unread = false;
        self.index.seek_to_last();
        self.init_data_block()?;
        if let Some(d) = &mut self.data {
            d.seek_to_last();
        }
        self.skip_backward()
    }
}

/// The size of a data block handle that `check_handle` accepted: at most 64 MiB, so it fits a
/// `usize` on every target.
fn checked_len(h: BlockHandle) -> usize {
    usize::try_from(h.size).expect("check_handle bounds a data block to 64 MiB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::sim::{SimConfig, SimFs};
    use crate::io::FsHandle;
    use crate::lsm::key::{internal_key, KIND_FOR_SEEK};
    use crate::lsm::sstable::{TableBuilder, TableOptions};

    /// A table of `n` keys `k0010, k0012, …` (even numbers) over several small blocks.
    fn table(n: usize) -> (Arc<TableReader>, Arc<Stats>, Vec<Vec<u8>>) {
        let fs: FsHandle = Arc::new(SimFs::new(1, SimConfig::default()));
        let path = Path::new("/000001.sst");
        let file = fs.open(path, OpenOptions::create_truncate()).unwrap();
        let mut b = TableBuilder::new(
            file,
            TableOptions {
                block_bytes: 128,
                restart_interval: 3,
                ..TableOptions::default()
            },
        );
        let keys: Vec<Vec<u8>> = (0..n)
            .map(|i| internal_key(format!("k{:04}", 10 + 2 * i).as_bytes(), 5, ValueKind::Put))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            b.add(k, format!("v{i}").as_bytes()).unwrap();
        }
        b.finish().unwrap();
        let stats = Arc::new(Stats::default());
        let cache = Arc::new(BlockCache::new(1 << 20));
        let t = TableReader::open(&*fs, path, 1, cache, stats.clone()).unwrap();
        (Arc::new(t), stats, keys)
    }

    fn seek_key(user: &str) -> Vec<u8> {
        internal_key(user.as_bytes(), 9, KIND_FOR_SEEK)
    }

    #[test]
    fn seeks_outside_the_key_range_read_no_block() {
        let (t, stats, keys) = table(40);
        assert!(t.data_block_handles().unwrap().len() > 3);
        let mut it = TableIter::new(t);
        let reads = || stats.block_reads.get();

        // Before the smallest key: on the first entry, nothing read.
        it.seek(&seek_key("k0001")).unwrap();
        assert!(it.valid());
        assert_eq!(it.key(), &keys[0][..]);
        assert_eq!(reads(), 0);
        it.prepare_value().unwrap();
        assert_eq!(it.value(), b"v0");
        assert_eq!(reads(), 1);
        it.prepare_value().unwrap();
        assert_eq!(reads(), 1, "a second prepare reads nothing");

        // Past the largest key: invalid, nothing read.
        it.seek(&seek_key("k9999")).unwrap();
        assert!(!it.valid());
        assert_eq!(reads(), 1);

        // Stepping from an unread first entry reads it first.
        it.seek(&seek_key("k")).unwrap();
        it.next().unwrap();
        assert_eq!(it.key(), &keys[1][..]);
        assert_eq!(it.value(), b"v1");
        it.seek(&keys[0]).unwrap();
        assert_eq!(it.key(), &keys[0][..]);
        it.prev().unwrap();
        assert!(!it.valid(), "nothing before the first entry");

        // Inside the range: an ordinary seek, from whatever state the last one left.
        for (i, k) in keys.iter().enumerate().rev() {
            it.seek(&seek_key("k0000")).unwrap();
            it.seek(k).unwrap();
            it.prepare_value().unwrap();
            assert_eq!((it.key(), it.value()), (&k[..], format!("v{i}").as_bytes()));
            let between = seek_key(&format!("k{:04}", 11 + 2 * i));
            it.seek(&between).unwrap();
            match keys.get(i + 1) {
                Some(next) => {
                    it.prepare_value().unwrap();
                    assert_eq!(
                        (it.key(), it.value()),
                        (&next[..], format!("v{}", i + 1).as_bytes())
                    );
                }
                None => assert!(!it.valid()),
            }
        }
        // The last key is the largest: a seek to it is inside the range.
        it.seek(keys.last().unwrap()).unwrap();
        assert_eq!(it.key(), &keys[39][..]);
        it.next().unwrap();
        assert!(!it.valid());
    }
}
