//! The `uring` backend (placeholder until the io_uring implementation lands).

use super::{IoError, Result};

/// The io_uring file system.
#[derive(Debug)]
pub struct UringFs;

impl UringFs {
    /// Set up a ring.
    pub fn new() -> Result<Self> {
        Err(IoError::Unavailable {
            backend: "uring",
            reason: "not built yet; run with --io std".into(),
        })
    }
}

impl super::Fs for UringFs {
    fn kind(&self) -> super::BackendKind {
        super::BackendKind::Uring
    }
    fn open(&self, path: &std::path::Path, opts: super::OpenOptions) -> Result<super::FileHandle> {
        Ok(std::sync::Arc::new(super::posix::PosixFile::open(path, opts)?))
    }
    super::posix::real_dir_ops!();
}
