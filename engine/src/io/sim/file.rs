//! An open file on the simulated disk: a thin handle that forwards every call to the disk.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use super::super::{File, Result};
use super::disk::HandleInfo;
use super::Shared;

/// An open file on a [`super::SimFs`]. It dies with a crash: every call after
/// [`super::SimFs::crash`] returns an error saying the handle predates the crash.
#[derive(Debug)]
pub struct SimFile {
    pub(crate) shared: Arc<Shared>,
    pub(crate) info: HandleInfo,
}

impl SimFile {
    /// The crash epoch this handle was opened in.
    pub fn epoch(&self) -> u64 {
        self.info.epoch
    }

    /// Whether this handle belongs to the disk behind `shared`.
    pub(crate) fn is_on(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }
}

impl File for SimFile {
    fn path(&self) -> &Path {
        &self.info.path
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.shared.disk().read(&self.info, buf, offset, true)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.shared
            .disk()
            .write(&self.info, buf, Some(offset), true)
            .map(|_| ())
    }

    fn append(&self, buf: &[u8]) -> Result<u64> {
        self.shared.disk().write(&self.info, buf, None, true)
    }

    fn sync_data(&self) -> Result<()> {
        self.shared.disk().sync_file("sync_data", &self.info)
    }

    /// Makes the data and length durable, exactly like `sync_data`. It does NOT make the
    /// file's directory entry durable: a newly created file needs `sync_dir` of its parent,
    /// which is the classic bug the simulator exists to catch.
    fn sync_all(&self) -> Result<()> {
        self.shared.disk().sync_file("sync_all", &self.info)
    }

    fn len(&self) -> Result<u64> {
        self.shared.disk().len(&self.info)
    }

    fn truncate(&self, len: u64) -> Result<()> {
        self.shared.disk().truncate(&self.info, len)
    }

    fn is_direct(&self) -> bool {
        self.info.direct
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        self.shared.disk().close(&self.info);
    }
}
