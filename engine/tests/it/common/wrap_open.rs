//! A file system that passes every call through, but lets a test hook the files it opens: the
//! way to make some files misbehave (a flipped bit in a log's reads, a manifest that runs out
//! of space) while the rest of the disk works.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use seedbed_engine::io::{
    BackendKind, File, FileHandle, Fs, FsHandle, FsSpace, OpenOptions, Result,
};

/// What a test changes in a file's behaviour; every call it does not hook goes to the file.
pub trait FileHooks: Send + Sync + std::fmt::Debug {
    /// After a read that returned `n` bytes into `buf`.
    fn after_read(&self, _buf: &mut [u8], _n: usize) {}

    /// Before a write of `buf` at `offset` (an append's offset is the file's length):
    /// `Some(answer)` is returned instead of writing; `file` is the real file.
    fn write(&self, _file: &FileHandle, _buf: &[u8], _offset: u64) -> Option<Result<()>> {
        None
    }
}

/// `inner` (any file system), whose files for which `hooks` gives hooks behave as they say.
pub struct WrapOpen {
    inner: FsHandle,
    hooks: Box<HooksFor>,
    space: Option<Box<SpaceFor>>,
}

/// Given a path, the space of the file system a test says holds it.
pub type SpaceFor = dyn Fn(&Path) -> Option<FsSpace> + Send + Sync;

/// Given a path being opened, the hooks for that file, if any.
pub type HooksFor = dyn Fn(&Path) -> Option<Arc<dyn FileHooks>> + Send + Sync;

impl WrapOpen {
    /// `inner` with `hooks` asked at every `open`.
    pub fn wrap(
        inner: FsHandle,
        hooks: impl Fn(&Path) -> Option<Arc<dyn FileHooks>> + Send + Sync + 'static,
    ) -> FsHandle {
        Arc::new(WrapOpen {
            inner,
            hooks: Box::new(hooks),
            space: None,
        })
    }

    /// `inner` with no file hooked, whose `space` answers as `space` says (file systems a test
    /// makes up: several under one simulated disk, each as full as the test wants).
    pub fn with_space(
        inner: FsHandle,
        space: impl Fn(&Path) -> Option<FsSpace> + Send + Sync + 'static,
    ) -> FsHandle {
        Arc::new(WrapOpen {
            inner,
            hooks: Box::new(|_| None),
            space: Some(Box::new(space)),
        })
    }
}

impl std::fmt::Debug for WrapOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrapOpen")
            .field("inner", &self.inner)
            .finish()
    }
}

#[derive(Debug)]
struct Hooked {
    inner: FileHandle,
    hooks: Arc<dyn FileHooks>,
}

impl File for Hooked {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let n = self.inner.read_at(buf, offset)?;
        self.hooks.after_read(buf, n);
        Ok(n)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        match self.hooks.write(&self.inner, buf, offset) {
            Some(answer) => answer,
            None => self.inner.write_at(buf, offset),
        }
    }
    fn append(&self, buf: &[u8]) -> Result<u64> {
        let end = self.inner.len()?;
        match self.hooks.write(&self.inner, buf, end) {
            Some(answer) => answer.map(|()| end),
            None => self.inner.append(buf),
        }
    }
    fn sync_data(&self) -> Result<()> {
        self.inner.sync_data()
    }
    fn sync_all(&self) -> Result<()> {
        self.inner.sync_all()
    }
    fn len(&self) -> Result<u64> {
        self.inner.len()
    }
    fn truncate(&self, len: u64) -> Result<()> {
        self.inner.truncate(len)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Fs for WrapOpen {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        let file = self.inner.open(path, opts)?;
        Ok(match (self.hooks)(path) {
            Some(hooks) => Arc::new(Hooked { inner: file, hooks }),
            None => file,
        })
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.inner.create_dir_all(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        self.inner.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.inner.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.rename(from, to)
    }
    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.inner.sync_dir(dir)
    }
    fn space(&self, path: &Path) -> Result<Option<FsSpace>> {
        match &self.space {
            Some(space) => Ok(space(path)),
            None => self.inner.space(path),
        }
    }
    fn file_key(&self, path: &Path) -> Result<Option<seedbed_engine::io::FileKey>> {
        self.inner.file_key(path)
    }
}
