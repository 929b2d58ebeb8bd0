//! A node's disk: one of the engine's real backends (`std`, `uring`), rooted at the node's
//! directory.
//!
//! Protocol code names its files as if it owned a disk (the quorum store lives at `/quorum`),
//! which is what the simulator gives every node. On a real machine all nodes share one file
//! system, so [`RootedFs`] maps each absolute path under the node's own directory
//! (`/quorum/CURRENT` → `D/node-2/quorum/CURRENT`) and hands everything else — reads, writes,
//! batches, queues, locks, fsyncs — to the real backend unchanged.
//!
//! An open file is wrapped only so that it reports the path it was opened under (the engine
//! reopens files by `File::path`, so the real path would be mapped twice); `as_any` answers
//! with the backend's own file, so io_uring batches, which need their file type, still work.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use seedbed_engine::io::{
    self, BackendKind, File, FileHandle, FileLock, Fs, FsHandle, IoOp, IoQueue, OpenOptions,
};

/// A backend's open file under the path protocol code opened it by.
#[derive(Debug)]
struct RootedFile {
    path: PathBuf,
    inner: FileHandle,
}

impl File for RootedFile {
    fn path(&self) -> &Path {
        &self.path
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_at(buf, offset)
    }
    fn append(&self, buf: &[u8]) -> io::Result<u64> {
        self.inner.append(buf)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.inner.sync_data()
    }
    fn sync_all(&self) -> io::Result<()> {
        self.inner.sync_all()
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn truncate(&self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
    fn punch_hole(&self, offset: u64, len: u64) -> io::Result<()> {
        self.inner.punch_hole(offset, len)
    }
    fn next_data(&self, offset: u64) -> io::Result<Option<u64>> {
        self.inner.next_data(offset)
    }
    fn is_direct(&self) -> bool {
        self.inner.is_direct()
    }
    fn still_linked(&self) -> Option<bool> {
        self.inner.still_linked()
    }
    fn read_cached(&self, buf: &mut [u8], offset: u64) -> bool {
        self.inner.read_cached(buf, offset)
    }
    fn will_need(&self, offset: u64, len: u64) {
        self.inner.will_need(offset, len)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self.inner.as_any()
    }
}

/// A backend seen through a root directory; see the module docs.
#[derive(Debug)]
pub struct RootedFs {
    root: PathBuf,
    inner: FsHandle,
}

impl RootedFs {
    /// `inner` with every path taken under `root`.
    pub fn new(root: PathBuf, inner: FsHandle) -> Self {
        RootedFs { root, inner }
    }

    /// A real backend of `kind` rooted at `root` (created if missing).
    pub fn open(kind: BackendKind, root: &Path) -> io::Result<FsHandle> {
        let inner = io::open_backend(kind)?;
        inner.create_dir_all(root)?;
        Ok(Arc::new(RootedFs::new(root.to_path_buf(), inner)))
    }

    /// Where `path` (as protocol code names it) lives on the real file system. `..` is
    /// refused: a node's files stay under its directory.
    fn map(&self, path: &Path) -> io::Result<PathBuf> {
        let mut out = self.root.clone();
        for c in path.components() {
            match c {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(part) => out.push(part),
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(io::IoError::invalid(
                        "map",
                        path,
                        "a node's paths may not leave its directory",
                    ))
                }
            }
        }
        Ok(out)
    }
}

impl Fs for RootedFs {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn open(&self, path: &Path, opts: OpenOptions) -> io::Result<FileHandle> {
        let inner = self.inner.open(&self.map(path)?, opts)?;
        Ok(Arc::new(RootedFile {
            path: path.to_path_buf(),
            inner,
        }))
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.inner.create_dir_all(&self.map(path)?)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(&self.map(path)?)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_dir(&self.map(path)?)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(&self.map(from)?, &self.map(to)?)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(&self.map(dir)?)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.inner.exists(&self.map(path)?)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(&self.map(dir)?)
    }
    fn lock(&self, path: &Path) -> io::Result<FileLock> {
        self.inner.lock(&self.map(path)?)
    }
    fn submit(&self, ops: &mut [IoOp<'_>]) -> Vec<io::Result<usize>> {
        self.inner.submit(ops)
    }
    fn queue(&self, depth: usize) -> io::Result<Box<dyn IoQueue>> {
        self.inner.queue(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_land_under_the_root_and_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootedFs::open(BackendKind::Std, dir.path()).unwrap();
        fs.create_dir_all(Path::new("/quorum")).unwrap();
        let f = fs
            .open(Path::new("/quorum/x"), OpenOptions::create_truncate())
            .unwrap();
        f.write_at(b"hi", 0).unwrap();
        f.sync_data().unwrap();
        assert!(dir.path().join("quorum/x").exists());
        assert_eq!(fs.list(Path::new("/quorum")).unwrap(), vec!["x"]);
        assert!(fs.exists(Path::new("/../etc/passwd")).is_err());
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use seedbed_engine::clock::ClockHandle;
    use seedbed_nodes::quorum::store::Store;
    use seedbed_nodes::quorum::vclock::VClock;
    use seedbed_nodes::quorum::version::{Siblings, Version};

    #[test]
    fn the_quorum_store_reopens_from_a_real_disk_after_being_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let clock: ClockHandle = crate::clock::SkewedClock::new();
        let fs = RootedFs::open(BackendKind::Std, dir.path()).unwrap();
        let (mut s, epoch) = Store::open(fs.clone(), clock.clone()).unwrap();
        assert_eq!(epoch, 1);
        let v = Version {
            clock: VClock::default(),
            ts_ns: 1,
            writer: 0,
            value: Some(9),
        };
        for key in 0..200 {
            s.put(key, &Siblings::one(v.clone()), true).unwrap();
            s.maintenance().unwrap();
        }
        drop(s); // abandoned, as a crash leaves it
        let (s, epoch) = match Store::open(fs.clone(), clock.clone()) {
            Ok(x) => x,
            Err(e) => panic!("reopen: {e}"),
        };
        assert_eq!(epoch, 2);
        assert_eq!(s.get(199).unwrap(), Siblings::one(v));
    }
}
