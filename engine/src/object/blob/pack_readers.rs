//! Pack files kept open for reads.
//!
//! Why: a GET of a small object reads one record from each of K pack files. Opened for that
//! read and closed after it, each file costs an `openat` (a path walk of six components) and
//! a `close` around a `pread` of a few kilobytes — two thirds of the system calls of the GET,
//! and the largest part of its CPU once the data is in the page cache. Packs are few (one per
//! GiB of small objects) and hot, so their read handles are kept here and shared by every
//! reader: `pread` needs no lock and moves no file offset.
//!
//! A kept descriptor must never read bytes a fresh open would not find. The cases:
//!
//! - **The file deleted** — a pack removed by the orphan sweep or compaction, or the disk's
//!   directory deleted under the store (a lost disk). The handle is asked before each use
//!   whether its file still has a name ([`crate::io::File::still_linked`], one `fstat`): an
//!   unlinked file is dropped from here and opened afresh, which fails as it would have
//!   without the cache, so the read is rebuilt from parity and the loss reported as before.
//!   The store also drops the packs it removes itself ([`PackReaders::forget_pack`]), so their
//!   space goes back to the file system at once rather than when the descriptor is evicted.
//! - **The file rewritten** — a heal writes a record in place, through the same inode: the
//!   kept handle reads the new bytes. A file replaced by a rename is unlinked, as above.
//! - **Handles that cannot say** (the simulated disk, `mmap` — a mapping is fixed at the length
//!   the file had when opened, and packs grow —, a test's wrapper) answer `None` and are never
//!   kept: reads on them open and close as before.
//!
//! What it does not see: a disk directory renamed away, or a file system mounted over it,
//! while the store runs. The old files keep their names there, so the kept handles go on
//! reading verified bytes from them (every block's CRC is still checked) until evicted or the
//! store reopens. Scrub never reads through kept handles (`BlobStore::verify` opens every file
//! afresh): it finds the loss and heals it.
//!
//! At most [`PACK_READERS_KEPT`] descriptors, the least recently used evicted first: well
//! under the 1,024 a process gets by default, beside the server's connections and the
//! metadata's tables.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::io::FileHandle;

/// How many pack-file descriptors a store keeps open for reads.
pub const PACK_READERS_KEPT: usize = 96;

/// Read handles of pack files, by (pack, shard).
#[derive(Debug, Default)]
pub(super) struct PackReaders {
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Each handle and when it was last handed out (a tick of `clock`).
    files: BTreeMap<(u32, usize), (FileHandle, u64)>,
    clock: u64,
}

impl PackReaders {
    /// The kept handle of pack file `shard` of `pack`, if there is one and its file is still
    /// linked. A handle whose file is gone, or cannot tell, is dropped.
    pub fn get(&self, pack: u32, shard: usize) -> Option<FileHandle> {
        let file = {
            let mut kept = self.lock();
            kept.clock += 1;
            let now = kept.clock;
            let (file, used) = kept.files.get_mut(&(pack, shard))?;
            *used = now;
            file.clone()
        };
        // Asked outside the lock: one system call that readers of other packs need not wait for.
        if file.still_linked() == Some(true) {
            return Some(file);
        }
        let mut kept = self.lock();
        if let Some((f, _)) = kept.files.get(&(pack, shard)) {
            // Only if no reader has replaced it with a fresh handle meanwhile.
            if std::sync::Arc::ptr_eq(f, &file) {
                kept.files.remove(&(pack, shard));
            }
        }
        None
    }

    /// Keep `file`, just opened read-only as pack file `shard` of `pack`, for later reads —
    /// unless its backend cannot tell whether it is still linked. Evicts the least recently
    /// used handle when full.
    pub fn keep(&self, pack: u32, shard: usize, file: &FileHandle) {
        if file.still_linked() != Some(true) {
            return;
        }
        let mut kept = self.lock();
        kept.clock += 1;
        let now = kept.clock;
        kept.files.insert((pack, shard), (file.clone(), now));
        if kept.files.len() > PACK_READERS_KEPT {
            // A linear scan, on a miss only: the map is small and misses are rare once warm.
            let oldest = kept
                .files
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                kept.files.remove(&k);
            }
        }
    }

    /// Drop every kept handle of `pack` (its files are about to be removed).
    pub fn forget_pack(&self, pack: u32) {
        self.lock().files.retain(|&(p, _), _| p != pack);
    }

    /// How many handles are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().files.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{open_backend, BackendKind, OpenOptions};

    fn open(dir: &std::path::Path, name: &str) -> FileHandle {
        let fs = open_backend(BackendKind::Std).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, b"record").unwrap();
        fs.open(&path, OpenOptions::read_only()).unwrap()
    }

    #[test]
    fn a_kept_handle_is_handed_out_until_its_file_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let readers = PackReaders::default();
        let f = open(dir.path(), "00000000.0");
        readers.keep(0, 0, &f);
        let again = readers.get(0, 0).expect("kept");
        assert!(std::sync::Arc::ptr_eq(&f, &again));
        std::fs::remove_file(dir.path().join("00000000.0")).unwrap();
        assert!(readers.get(0, 0).is_none(), "a deleted file is not read");
        assert_eq!(readers.len(), 0, "and its handle is dropped");
    }

    #[test]
    fn a_file_renamed_over_is_not_read_through_the_old_handle() {
        let dir = tempfile::tempdir().unwrap();
        let readers = PackReaders::default();
        let f = open(dir.path(), "00000000.1");
        readers.keep(0, 1, &f);
        std::fs::write(dir.path().join("tmp"), b"other").unwrap();
        std::fs::rename(dir.path().join("tmp"), dir.path().join("00000000.1")).unwrap();
        assert!(readers.get(0, 1).is_none());
    }

    #[test]
    fn the_least_recently_used_handle_goes_first_and_a_removed_pack_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let readers = PackReaders::default();
        let first = open(dir.path(), "first");
        readers.keep(0, 0, &first);
        for i in 1..PACK_READERS_KEPT {
            readers.keep(1, i, &open(dir.path(), &format!("f{i}")));
        }
        // Pack 0 used again: now the least recently used is (1, 1).
        assert!(readers.get(0, 0).is_some());
        readers.keep(2, 0, &open(dir.path(), "last"));
        assert_eq!(readers.len(), PACK_READERS_KEPT);
        assert!(readers.get(1, 1).is_none(), "evicted");
        assert!(readers.get(0, 0).is_some(), "kept");
        readers.forget_pack(1);
        assert_eq!(readers.len(), 2, "packs 0 and 2 left");
    }

    #[test]
    fn a_simulated_disk_handle_is_never_kept() {
        let fs = crate::io::sim::SimFs::new(1, crate::io::sim::SimConfig::default());
        let path = std::path::Path::new("/p");
        crate::io::write_file_durable(&fs, path, b"x").unwrap();
        let f = crate::io::Fs::open(&fs, path, OpenOptions::read_only()).unwrap();
        let readers = PackReaders::default();
        readers.keep(0, 0, &f);
        assert_eq!(readers.len(), 0);
    }
}
