//! A fail-stop file system for crash tests: it works for a budget of I/O calls, then every
//! call fails, as if the power went out (`object_crash`, `object_crash_data_side`).

use std::any::Any;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use seedbed_engine::io::{
    BackendKind, File, FileHandle, Fs, FsHandle, IoError, IoOp, OpenOptions, Result,
};

/// A file system that works for `budget` more I/O calls, then fails every call: the moment the
/// power goes out. Each request in a batch counts on its own, so a batch can be cut part-way.
#[derive(Debug)]
pub struct FailStop {
    inner: FsHandle,
    budget: Arc<AtomicI64>,
}

impl FailStop {
    /// `inner` behind a fail-stop switch; returns it and the budget of I/O calls left (start:
    /// unlimited; store a number to cut the power after that many more calls).
    pub fn wrap(inner: FsHandle) -> (FsHandle, Arc<AtomicI64>) {
        let budget = Arc::new(AtomicI64::new(i64::MAX));
        let fs: FsHandle = Arc::new(FailStop {
            inner,
            budget: budget.clone(),
        });
        (fs, budget)
    }

    fn spend(&self, op: &'static str, path: &Path) -> Result<()> {
        spend(&self.budget, op, path)
    }
}

fn spend(budget: &AtomicI64, op: &'static str, path: &Path) -> Result<()> {
    if budget.fetch_sub(1, Ordering::SeqCst) <= 0 {
        return Err(IoError::eio(op, path, "power lost (fail-stop test)"));
    }
    Ok(())
}

#[derive(Debug)]
struct FailStopFile {
    inner: FileHandle,
    budget: Arc<AtomicI64>,
}

impl File for FailStopFile {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        spend(&self.budget, "read", self.path())?;
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        spend(&self.budget, "write", self.path())?;
        self.inner.write_at(buf, offset)
    }
    fn append(&self, buf: &[u8]) -> Result<u64> {
        spend(&self.budget, "append", self.path())?;
        self.inner.append(buf)
    }
    fn sync_data(&self) -> Result<()> {
        spend(&self.budget, "sync_data", self.path())?;
        self.inner.sync_data()
    }
    fn sync_all(&self) -> Result<()> {
        spend(&self.budget, "sync_all", self.path())?;
        self.inner.sync_all()
    }
    fn len(&self) -> Result<u64> {
        self.inner.len()
    }
    fn truncate(&self, len: u64) -> Result<()> {
        spend(&self.budget, "truncate", self.path())?;
        self.inner.truncate(len)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Fs for FailStop {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        self.spend("open", path)?;
        Ok(Arc::new(FailStopFile {
            inner: self.inner.open(path, opts)?,
            budget: self.budget.clone(),
        }))
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.spend("create_dir_all", path)?;
        self.inner.create_dir_all(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        self.spend("remove_file", path)?;
        self.inner.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.spend("remove_dir", path)?;
        self.inner.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.spend("rename", from)?;
        self.inner.rename(from, to)
    }
    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.spend("sync_dir", dir)?;
        self.inner.sync_dir(dir)
    }
    fn submit(&self, ops: &mut [IoOp<'_>]) -> Vec<Result<usize>> {
        // Each request is its own step: unwrap our file type and run it on the inner file.
        ops.iter_mut()
            .map(|op| {
                let (file, path) = match op {
                    IoOp::Read { file, .. } | IoOp::Write { file, .. } => {
                        (*file, file.path().to_path_buf())
                    }
                };
                spend(&self.budget, "submit", &path)?;
                let inner = &file
                    .as_any()
                    .downcast_ref::<FailStopFile>()
                    .expect("our file")
                    .inner;
                match op {
                    IoOp::Read { offset, buf, .. } => inner.read_at(buf, *offset),
                    IoOp::Write { offset, buf, .. } => {
                        inner.write_at(buf, *offset).map(|()| buf.len())
                    }
                }
            })
            .collect()
    }
}
