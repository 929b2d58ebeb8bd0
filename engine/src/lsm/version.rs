//! Versions: which tables make up each level at one moment. A [`Version`] is immutable and
//! shared; flushes and compactions build a new one from a [`VersionEdit`] and swap it in, while
//! readers keep using the one they started with. A table file is deleted only when it has left
//! the current version *and* the last version (or iterator) using it is gone.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering as AtOrd};
use std::sync::Arc;

use crate::io::FsHandle;

use super::cache::BlockCache;
use super::key::{self, compare_internal};
use super::manifest::{FileMeta, VersionEdit};
use super::sstable::TableReader;
use super::stats::NUM_LEVELS;

/// A tree that breaks an invariant of the LSM: what [`Version::check_invariants`] found. Kept
/// inside [`crate::lsm::LsmError::Corruption`] when an edit would make such a tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// A table whose smallest key sorts after its largest.
    #[error("L{level}: table {table} has its smallest key after its largest")]
    KeyRange {
        /// Its level.
        level: usize,
        /// Its number.
        table: u64,
    },
    /// A table number in two places.
    #[error("table {0} is in the tree twice")]
    Duplicate(u64),
    /// L0 is not newest first.
    #[error("L0: table {older} is listed before the newer table {newer}")]
    L0Order {
        /// The table listed first.
        older: u64,
        /// The newer table listed after it.
        newer: u64,
    },
    /// Two tables of a sorted level overlap in user keys.
    #[error("L{level}: tables {first} and {second} overlap")]
    Overlap {
        /// The level.
        level: usize,
        /// The first table.
        first: u64,
        /// The next table.
        second: u64,
    },
}

/// One live table: its metadata and open reader. Dropping the last handle of a table marked
/// obsolete deletes its file.
#[derive(Debug)]
pub struct TableFile {
    /// Number, size and key range.
    pub meta: FileMeta,
    /// The open reader.
    pub reader: Arc<TableReader>,
    obsolete: AtomicBool,
    fs: FsHandle,
    path: PathBuf,
    cache: Arc<BlockCache>,
}

impl TableFile {
    /// Wrap an open table.
    pub fn new(
        meta: FileMeta,
        reader: Arc<TableReader>,
        fs: FsHandle,
        cache: Arc<BlockCache>,
    ) -> Self {
        let path = reader.path().to_path_buf();
        TableFile {
            meta,
            reader,
            obsolete: AtomicBool::new(false),
            fs,
            path,
            cache,
        }
    }

    /// Mark for deletion once unreferenced (after the manifest stopped naming it).
    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, AtOrd::Release);
    }

    /// The smallest user key.
    pub fn smallest_user(&self) -> &[u8] {
        key::user_key(&self.meta.smallest)
    }

    /// The largest user key.
    pub fn largest_user(&self) -> &[u8] {
        key::user_key(&self.meta.largest)
    }

    /// Whether the table's user-key range intersects `[lo, hi]`.
    pub fn overlaps(&self, lo: &[u8], hi: &[u8]) -> bool {
        !(self.largest_user() < lo || self.smallest_user() > hi)
    }
}

impl Drop for TableFile {
    fn drop(&mut self) {
        if self.obsolete.load(AtOrd::Acquire) {
            self.cache.evict_table(self.meta.number);
            // Best effort: a file left behind is removed as an orphan on the next open.
            let _ = self.fs.remove_file(&self.path);
        }
    }
}

/// The tables of every level. L0 is ordered newest first (its files overlap); deeper levels
/// are ordered by key and do not overlap.
#[derive(Debug, Clone, Default)]
pub struct Version {
    /// Tables per level.
    pub levels: Vec<Vec<Arc<TableFile>>>,
}

impl Version {
    /// A version with no tables.
    pub fn empty() -> Self {
        Version {
            levels: vec![Vec::new(); NUM_LEVELS],
        }
    }

    /// Bytes per level.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.levels[level].iter().map(|f| f.meta.size_bytes).sum()
    }

    /// Apply an edit: remove deleted tables (marking them obsolete) and add new ones.
    /// `added` must hold an open [`TableFile`] for every file the edit adds.
    pub fn apply(&self, edit: &VersionEdit, added: &[Arc<TableFile>]) -> Version {
        self.edited(edit, added, true)
    }

    /// What [`Self::apply`] would give, without marking anything obsolete: to check an edit
    /// before it is logged.
    pub fn preview(&self, edit: &VersionEdit, added: &[Arc<TableFile>]) -> Version {
        self.edited(edit, added, false)
    }

    fn edited(&self, edit: &VersionEdit, added: &[Arc<TableFile>], retire: bool) -> Version {
        let mut v = self.clone();
        for &(level, number) in &edit.deleted {
            let lvl = &mut v.levels[level as usize];
            if let Some(pos) = lvl.iter().position(|f| f.meta.number == number) {
                let f = lvl.remove(pos);
                // A trivial move re-adds the same file at the next level: not obsolete then.
                if retire && !edit.added.iter().any(|(_, m)| m.number == number) {
                    f.mark_obsolete();
                }
            }
        }
        for (level, meta) in &edit.added {
            let f = added
                .iter()
                .find(|f| f.meta.number == meta.number)
                .cloned()
                .or_else(|| self.find(meta.number))
                .expect("every added table has an open reader");
            v.levels[*level as usize].push(f);
        }
        v.sort();
        v
    }

    fn find(&self, number: u64) -> Option<Arc<TableFile>> {
        self.levels
            .iter()
            .flatten()
            .find(|f| f.meta.number == number)
            .cloned()
    }

    /// Restore the ordering invariants after edits.
    pub fn sort(&mut self) {
        self.levels[0].sort_by_key(|f| std::cmp::Reverse(f.meta.number));
        for lvl in &mut self.levels[1..] {
            lvl.sort_by(|a, b| compare_internal(&a.meta.smallest, &b.meta.smallest));
        }
    }

    /// Check the invariants: every table's key range is in order, a table number appears once
    /// in the whole tree, L0 is newest first, and levels >= 1 are sorted and non-overlapping in
    /// user keys. Cost: one pass over the tables and a sort of their numbers, per version edit.
    pub fn check_invariants(&self) -> Result<(), TreeError> {
        let mut numbers = Vec::with_capacity(self.table_count());
        for (l, lvl) in self.levels.iter().enumerate() {
            for f in lvl {
                if compare_internal(&f.meta.smallest, &f.meta.largest) == Ordering::Greater {
                    return Err(TreeError::KeyRange {
                        level: l,
                        table: f.meta.number,
                    });
                }
                numbers.push(f.meta.number);
            }
        }
        numbers.sort_unstable();
        if let Some(w) = numbers.windows(2).find(|w| w[0] == w[1]) {
            return Err(TreeError::Duplicate(w[0]));
        }
        if let Some(w) = self.levels[0]
            .windows(2)
            .find(|w| w[0].meta.number <= w[1].meta.number)
        {
            return Err(TreeError::L0Order {
                older: w[0].meta.number,
                newer: w[1].meta.number,
            });
        }
        for (l, lvl) in self.levels.iter().enumerate().skip(1) {
            for w in lvl.windows(2) {
                if w[0].largest_user() >= w[1].smallest_user() {
                    return Err(TreeError::Overlap {
                        level: l,
                        first: w[0].meta.number,
                        second: w[1].meta.number,
                    });
                }
            }
        }
        Ok(())
    }

    /// The index of the first table in a sorted level whose largest user key is `>= user_key`.
    pub fn find_table(level: &[Arc<TableFile>], user_key: &[u8]) -> usize {
        level.partition_point(|f| f.largest_user().cmp(user_key) == Ordering::Less)
    }

    /// Tables of `level` overlapping the user-key range `[lo, hi]`.
    pub fn overlapping(&self, level: usize, lo: &[u8], hi: &[u8]) -> Vec<Arc<TableFile>> {
        self.levels[level]
            .iter()
            .filter(|f| f.overlaps(lo, hi))
            .cloned()
            .collect()
    }

    /// Number of tables in all levels.
    pub fn table_count(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }
}

/// The tables a [`LevelIter`] walks: a list of its own (compaction inputs), or one level of a
/// version it keeps alive (a scan: no copy of the level's list per iterator).
enum LevelFiles {
    Owned(Vec<Arc<TableFile>>),
    Level(Arc<Version>, usize),
}

impl LevelFiles {
    fn get(&self) -> &[Arc<TableFile>] {
        match self {
            LevelFiles::Owned(v) => v,
            LevelFiles::Level(version, level) => &version.levels[*level],
        }
    }
}

/// Iterates a sorted, non-overlapping level as one sequence, opening one table at a time.
pub struct LevelIter {
    files: LevelFiles,
    fill_cache: bool,
    idx: usize,
    cur: Option<super::sstable::TableIter>,
}

impl LevelIter {
    /// An unpositioned iterator over the tables of one level (L1 or deeper).
    pub fn new(files: Vec<Arc<TableFile>>) -> Self {
        Self::with_fill_cache(files, true)
    }

    /// An unpositioned iterator over `level` (L1 or deeper) of `version`.
    pub fn over_level(version: Arc<Version>, level: usize) -> Self {
        LevelIter {
            files: LevelFiles::Level(version, level),
            fill_cache: true,
            idx: 0,
            cur: None,
        }
    }

    /// An iterator whose disk reads do or do not fill the block cache.
    pub fn with_fill_cache(files: Vec<Arc<TableFile>>, fill_cache: bool) -> Self {
        LevelIter {
            files: LevelFiles::Owned(files),
            fill_cache,
            idx: 0,
            cur: None,
        }
    }

    fn open(&mut self, idx: usize) {
        self.idx = idx;
        let fill_cache = self.fill_cache;
        self.cur = self
            .files
            .get()
            .get(idx)
            .map(|f| super::sstable::TableIter::with_fill_cache(f.reader.clone(), fill_cache));
    }

    fn skip_forward(&mut self) -> super::error::Result<()> {
        use super::iter::InternalIterator;
        while self.cur.as_ref().is_some_and(|c| !c.valid()) && self.idx + 1 < self.files.get().len()
        {
            self.open(self.idx + 1);
            if let Some(c) = &mut self.cur {
                c.seek_to_first()?;
            }
        }
        Ok(())
    }

    fn skip_backward(&mut self) -> super::error::Result<()> {
        use super::iter::InternalIterator;
        while self.cur.as_ref().is_some_and(|c| !c.valid()) && self.idx > 0 {
            self.open(self.idx - 1);
            if let Some(c) = &mut self.cur {
                c.seek_to_last()?;
            }
        }
        Ok(())
    }
}

impl super::iter::InternalIterator for LevelIter {
    fn valid(&self) -> bool {
        self.cur.as_ref().is_some_and(|c| c.valid())
    }
    fn key(&self) -> &[u8] {
        self.cur.as_ref().expect("valid").key()
    }
    fn value(&self) -> &[u8] {
        self.cur.as_ref().expect("valid").value()
    }
    fn prepare_value(&mut self) -> super::error::Result<()> {
        match &mut self.cur {
            Some(c) => c.prepare_value(),
            None => Ok(()),
        }
    }
    fn next(&mut self) -> super::error::Result<()> {
        if let Some(c) = &mut self.cur {
            c.next()?;
        }
        self.skip_forward()
    }
    fn prev(&mut self) -> super::error::Result<()> {
        if let Some(c) = &mut self.cur {
            c.prev()?;
        }
        self.skip_backward()
    }
    fn seek(&mut self, target: &[u8]) -> super::error::Result<()> {
        let files = self.files.get();
        let i =
            files.partition_point(|f| compare_internal(&f.meta.largest, target) == Ordering::Less);
        if i >= files.len() {
            self.cur = None;
            return Ok(());
        }
        self.open(i);
        if let Some(c) = &mut self.cur {
            c.seek(target)?;
        }
        self.skip_forward()
    }
    fn may_contain(&self, user_key: &[u8], hash: u64) -> bool {
        let files = self.files.get();
        let i = Version::find_table(files, user_key);
        i < files.len() && files[i].smallest_user() <= user_key && files[i].reader.may_contain(hash)
    }
    fn seek_to_first(&mut self) -> super::error::Result<()> {
        self.open(0);
        if let Some(c) = &mut self.cur {
            c.seek_to_first()?;
        }
        self.skip_forward()
    }
    fn seek_to_last(&mut self) -> super::error::Result<()> {
        let n = self.files.get().len();
        if n == 0 {
            self.cur = None;
            return Ok(());
        }
        self.open(n - 1);
        if let Some(c) = &mut self.cur {
            c.seek_to_last()?;
        }
        self.skip_backward()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::io::sim::{SimConfig, SimFs};
    use crate::io::OpenOptions;
    use crate::lsm::key::ValueKind;
    use crate::lsm::sstable::{TableBuilder, TableOptions};
    use crate::lsm::stats::Stats;

    fn ik(k: &str) -> Vec<u8> {
        key::internal_key(k.as_bytes(), 1, ValueKind::Put)
    }

    /// One real table on the simulated disk; the tree's shape comes from each entry's
    /// [`FileMeta`] (number, key range), which is what the invariants are about.
    fn tables(specs: &[Spec]) -> Vec<Arc<TableFile>> {
        let sim = Arc::new(SimFs::new(1, SimConfig::default()));
        let fs: FsHandle = sim;
        let path = Path::new("/000001.sst");
        let file = fs.open(path, OpenOptions::create_truncate()).unwrap();
        let mut b = TableBuilder::new(file, TableOptions::default());
        b.add(&ik("a"), b"v").unwrap();
        b.finish().unwrap();
        let cache = Arc::new(BlockCache::new(1 << 20));
        let reader = Arc::new(
            TableReader::open(&*fs, path, 1, cache.clone(), Arc::new(Stats::default())).unwrap(),
        );
        specs
            .iter()
            .map(|&(number, lo, hi)| {
                let meta = FileMeta {
                    number,
                    size_bytes: 1,
                    smallest: ik(lo),
                    largest: ik(hi),
                };
                Arc::new(TableFile::new(
                    meta,
                    reader.clone(),
                    fs.clone(),
                    cache.clone(),
                ))
            })
            .collect()
    }

    /// A table: (number, smallest user key, largest user key).
    type Spec<'a> = (u64, &'a str, &'a str);

    fn version(levels: &[&[Spec]]) -> Version {
        let mut v = Version::empty();
        for (l, specs) in levels.iter().enumerate() {
            v.levels[l] = tables(specs);
        }
        v
    }

    #[test]
    fn a_sound_tree_passes() {
        let v = version(&[
            &[(9, "a", "z"), (7, "c", "d")],
            &[(3, "a", "f"), (4, "g", "k")],
        ]);
        assert_eq!(v.check_invariants(), Ok(()));
    }

    #[test]
    fn each_broken_invariant_is_named() {
        let cases: [(&[&[Spec]], &str); 4] = [
            (
                &[&[], &[(3, "a", "h"), (4, "g", "k")]],
                "L1: tables 3 and 4 overlap",
            ),
            (
                &[&[(9, "a", "z")], &[(9, "a", "f")]],
                "table 9 is in the tree twice",
            ),
            (
                &[&[(7, "a", "b"), (9, "c", "d")]],
                "L0: table 7 is listed before the newer table 9",
            ),
            (
                &[&[], &[(3, "m", "c")]],
                "L1: table 3 has its smallest key after its largest",
            ),
        ];
        for (levels, want) in cases {
            let got = version(levels).check_invariants().unwrap_err();
            assert_eq!(got.to_string(), want);
        }
    }
}
