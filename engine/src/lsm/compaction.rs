//! Leveled compaction: choosing what to compact and merging it.
//!
//! Scores: L0 scores `files / l0_compaction_trigger`; level `n >= 1` scores
//! `bytes / target(n)` with `target(1) = level_base_bytes` and
//! `target(n+1) = target(n) * level_size_ratio`. The highest score `>= 1` is compacted:
//! all of L0 plus the overlapping L1 tables, or one table of level `n` (round-robin by key,
//! LevelDB's compact pointer) plus the overlapping tables of `n+1`. A table with no overlap
//! below simply moves down (a *trivial move*, no I/O); so does all of L0 when its tables are
//! pairwise disjoint and nothing in L1 overlaps them (a sequential load: RocksDB's trivial
//! move from L0), unless the compaction was forced.
//!
//! Merging keeps, for each user key, every version some live snapshot can see and drops the
//! rest; a tombstone is dropped only when no deeper level can hold an older version of its
//! key (that is, effectively at the bottom), otherwise the deleted value would reappear.

use std::path::Path;
use std::sync::Arc;

use crate::io::{FsHandle, OpenOptions};

use super::cache::BlockCache;
use super::error::Result;
use super::iter::{InternalIterator, MergingIterator};
use super::key::{self, ValueKind};
use super::manifest::FileMeta;
use super::options::Options;
use super::sstable::framing::TRAILER_BYTES;
use super::sstable::{table_file_name, TableBuilder, TableIter, TableReader};
use super::stats::{Stats, NUM_LEVELS};
use super::version::{LevelIter, TableFile, Version};

/// The target size of `level` (>= 1) in bytes.
pub fn level_target_bytes(opts: &Options, level: usize) -> u64 {
    debug_assert!(level >= 1);
    let mut t = opts.level_base_bytes;
    for _ in 1..level {
        t = t.saturating_mul(opts.level_size_ratio);
    }
    t
}

/// The most urgent level to compact and its score.
pub fn best_score(v: &Version, opts: &Options) -> (usize, f64) {
    let mut best = (
        0,
        v.levels[0].len() as f64 / opts.l0_compaction_trigger as f64,
    );
    for level in 1..NUM_LEVELS - 1 {
        let s = v.level_bytes(level) as f64 / level_target_bytes(opts, level) as f64;
        if s > best.1 {
            best = (level, s);
        }
    }
    best
}

/// One compaction: inputs at `level` and `level + 1`.
#[derive(Debug)]
pub struct CompactionTask {
    /// The input level.
    pub level: usize,
    /// Tables from `level`.
    pub inputs: Vec<Arc<TableFile>>,
    /// Overlapping tables from `level + 1`.
    pub next_inputs: Vec<Arc<TableFile>>,
    /// Whether disjoint L0 inputs may move down unread (see [`Self::is_trivial_move`]). Set
    /// for compactions chosen by score ([`pick`]); a forced one ([`pick_at`], e.g.
    /// `Db::compact_all`) rewrites L0, which is what drops its tombstones.
    pub move_disjoint_l0: bool,
}

impl CompactionTask {
    /// The output level.
    pub fn output_level(&self) -> usize {
        self.level + 1
    }

    /// True if the inputs move down without rewriting: nothing below overlaps them, and
    /// either they are one table of a sorted level, or they are L0 tables no two of which
    /// share a user key (then each user key lies in one of them, as a sorted level requires;
    /// a fillseq's flushes are such tables, and rewriting them would only copy them).
    pub fn is_trivial_move(&self) -> bool {
        if !self.next_inputs.is_empty() || self.inputs.is_empty() {
            return false;
        }
        if self.level == 0 {
            self.move_disjoint_l0 && pairwise_disjoint(&self.inputs)
        } else {
            self.inputs.len() == 1
        }
    }

    /// Bytes of all inputs.
    pub fn input_bytes(&self) -> u64 {
        self.inputs
            .iter()
            .chain(&self.next_inputs)
            .map(|f| f.meta.size_bytes)
            .sum()
    }
}

/// Whether no two of `files` share a user key (in any order they are listed).
fn pairwise_disjoint(files: &[Arc<TableFile>]) -> bool {
    let mut sorted: Vec<&Arc<TableFile>> = files.iter().collect();
    sorted.sort_by(|a, b| a.smallest_user().cmp(b.smallest_user()));
    sorted
        .windows(2)
        .all(|w| w[0].largest_user() < w[1].smallest_user())
}

fn user_range(files: &[Arc<TableFile>]) -> (Vec<u8>, Vec<u8>) {
    let lo = files
        .iter()
        .map(|f| f.smallest_user())
        .min()
        .expect("non-empty")
        .to_vec();
    let hi = files
        .iter()
        .map(|f| f.largest_user())
        .max()
        .expect("non-empty")
        .to_vec();
    (lo, hi)
}

/// Pick a compaction if any level's score is at least 1. `pointers[level]` is the largest
/// user key compacted last time at that level (round-robin).
pub fn pick(v: &Version, opts: &Options, pointers: &mut [Vec<u8>]) -> Option<CompactionTask> {
    let (level, score) = best_score(v, opts);
    if score < 1.0 {
        return None;
    }
    let mut task = pick_at(v, level, pointers)?;
    task.move_disjoint_l0 = true;
    Some(task)
}

/// Build the compaction for `level` (used by [`pick`] and by forced compactions).
pub fn pick_at(v: &Version, level: usize, pointers: &mut [Vec<u8>]) -> Option<CompactionTask> {
    if level + 1 >= NUM_LEVELS || v.levels[level].is_empty() {
        return None;
    }
    let inputs: Vec<Arc<TableFile>> = if level == 0 {
        v.levels[0].clone()
    } else {
        let lvl = &v.levels[level];
        let p = &pointers[level];
        let f = lvl
            .iter()
            .find(|f| p.is_empty() || f.smallest_user() > p.as_slice())
            .unwrap_or(&lvl[0]);
        vec![f.clone()]
    };
    let (lo, hi) = user_range(&inputs);
    let next_inputs = v.overlapping(level + 1, &lo, &hi);
    pointers[level] = hi;
    Some(CompactionTask {
        level,
        inputs,
        next_inputs,
        move_disjoint_l0: false,
    })
}

/// What a compaction needs from the database.
pub struct CompactionContext<'a> {
    /// The file system.
    pub fs: &'a FsHandle,
    /// The database directory.
    pub dir: &'a Path,
    /// Options (table format, file size target).
    pub opts: &'a Options,
    /// The shared block cache.
    pub cache: &'a Arc<BlockCache>,
    /// Counters.
    pub stats: &'a Arc<Stats>,
    /// The oldest sequence number any snapshot may read.
    pub smallest_snapshot: u64,
    /// Allocates file numbers.
    pub new_file_number: &'a dyn Fn() -> u64,
    /// The version the task was picked from (for the base-level test).
    pub version: &'a Version,
}

/// Writes a sorted stream of entries into one or more tables.
pub struct TableSink<'a> {
    ctx: &'a CompactionContext<'a>,
    builder: Option<(u64, TableBuilder)>,
    /// Finished tables.
    pub outputs: Vec<Arc<TableFile>>,
}

impl<'a> TableSink<'a> {
    /// An empty sink.
    pub fn new(ctx: &'a CompactionContext<'a>) -> Self {
        TableSink {
            ctx,
            builder: None,
            outputs: Vec::new(),
        }
    }

    /// Add an entry, opening a table if none is open.
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        if self.builder.is_none() {
            let number = (self.ctx.new_file_number)();
            let path = self.ctx.dir.join(table_file_name(number));
            let file = self.ctx.fs.open(&path, OpenOptions::create_truncate())?;
            self.builder = Some((number, TableBuilder::new(file, self.ctx.opts.table)));
        }
        self.builder.as_mut().expect("open").1.add(ikey, value)
    }

    /// Whether the open table has reached the target size.
    pub fn is_full(&self) -> bool {
        self.builder
            .as_ref()
            .is_some_and(|(_, b)| b.estimated_bytes() >= self.ctx.opts.target_file_bytes)
    }

    /// Finish the open table, if any, and open a reader for it.
    pub fn finish_table(&mut self) -> Result<()> {
        let Some((number, builder)) = self.builder.take() else {
            return Ok(());
        };
        let path = builder.path().to_path_buf();
        let opened = builder.finish().and_then(|(props, size_bytes)| {
            let reader = TableReader::open(
                &**self.ctx.fs,
                &path,
                number,
                self.ctx.cache.clone(),
                self.ctx.stats.clone(),
            )?;
            Ok((props, size_bytes, reader))
        });
        let (props, size_bytes, reader) = opened.inspect_err(|_| {
            // A partial table: on a full disk its blocks are what the next write needs.
            let _ = self.ctx.fs.remove_file(&path);
        })?;
        Stats::add(&self.ctx.stats.data_raw_bytes_written, props.data_raw_bytes);
        Stats::add(
            &self.ctx.stats.data_stored_bytes_written,
            props.data_bytes - props.data_blocks * TRAILER_BYTES as u64,
        );
        let meta = FileMeta {
            number,
            size_bytes,
            smallest: props.smallest_key,
            largest: props.largest_key,
        };
        self.outputs.push(Arc::new(TableFile::new(
            meta,
            Arc::new(reader),
            self.ctx.fs.clone(),
            self.ctx.cache.clone(),
        )));
        Ok(())
    }

    /// Finish and return the tables (newly written files become part of a version only after
    /// the manifest records them; until then a crash leaves them as orphans, removed on open).
    pub fn finish(mut self) -> Result<Vec<Arc<TableFile>>> {
        self.finish_table()?;
        Ok(std::mem::take(&mut self.outputs))
    }
}

impl Drop for TableSink<'_> {
    /// A sink dropped before [`TableSink::finish`] returned (a write failed, on a full disk
    /// say): its tables are in no version and never will be, so their files go now rather
    /// than at the next open.
    fn drop(&mut self) {
        if let Some((_, builder)) = self.builder.take() {
            let path = builder.path().to_path_buf();
            drop(builder);
            let _ = self.ctx.fs.remove_file(&path);
        }
        for f in self.outputs.drain(..) {
            f.mark_obsolete();
        }
    }
}

/// Is there no table deeper than `output_level` that could hold `user_key`?
fn is_base_level_for_key(v: &Version, output_level: usize, user_key: &[u8]) -> bool {
    for lvl in &v.levels[output_level + 1..] {
        let i = Version::find_table(lvl, user_key);
        if i < lvl.len() && lvl[i].smallest_user() <= user_key {
            return false;
        }
    }
    true
}

/// Merge the task's inputs into new tables at the output level.
pub fn run(task: &CompactionTask, ctx: &CompactionContext<'_>) -> Result<Vec<Arc<TableFile>>> {
    let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
    if task.level == 0 {
        for f in &task.inputs {
            children.push(Box::new(TableIter::with_fill_cache(
                f.reader.clone(),
                false,
            )));
        }
    } else {
        children.push(Box::new(LevelIter::with_fill_cache(
            task.inputs.clone(),
            false,
        )));
    }
    if !task.next_inputs.is_empty() {
        children.push(Box::new(LevelIter::with_fill_cache(
            task.next_inputs.clone(),
            false,
        )));
    }
    let mut it = MergingIterator::new(children);
    it.seek_to_first()?;
    let output_level = task.output_level();
    let mut sink = TableSink::new(ctx);
    let mut current_user: Vec<u8> = Vec::new();
    let mut has_current = false;
    let mut last_seq_for_key = u64::MAX;
    // Bound: one step per input entry.
    while it.valid() {
        let ik = it.key();
        let p = key::parse(ik).ok_or_else(|| {
            super::error::LsmError::corruption(
                ctx.dir,
                "compaction input",
                0,
                "malformed internal key",
            )
        })?;
        let new_user = !has_current || p.user_key != current_user.as_slice();
        if new_user {
            // Cut output files only between user keys, so that no user key spans two tables
            // of one level.
            if sink.is_full() {
                sink.finish_table()?;
            }
            current_user.clear();
            current_user.extend_from_slice(p.user_key);
            has_current = true;
            last_seq_for_key = u64::MAX;
        }
        let drop = if last_seq_for_key <= ctx.smallest_snapshot {
            // A newer version of this key is visible to every snapshot: this one is hidden.
            true
        } else {
            // A tombstone — or a value the compaction filter calls expired, which is then
            // treated exactly like a tombstone — goes only where nothing older can lie below.
            let dead = match p.kind {
                ValueKind::Delete => true,
                ValueKind::Put => ctx
                    .opts
                    .compaction_filter
                    .as_ref()
                    .is_some_and(|f| f.is_expired(p.user_key, it.value())),
            };
            dead && p.seq <= ctx.smallest_snapshot
                && is_base_level_for_key(ctx.version, output_level, p.user_key)
        };
        last_seq_for_key = p.seq;
        if !drop {
            sink.add(ik, it.value())?;
        }
        it.next()?;
    }
    sink.finish()
}
