//! The `sim` backend (placeholder until the simulated disk lands).

use super::{FileHandle, IoError, OpenOptions, Result};
use std::path::Path;

/// Fault and latency settings of a simulated disk.
#[derive(Clone, Debug, Default)]
pub struct SimConfig;

/// An in-memory, seeded, simulated disk.
#[derive(Debug)]
pub struct SimFs;

impl SimFs {
    /// A simulated disk.
    pub fn new(_seed: u64, _config: SimConfig) -> Self {
        SimFs
    }
}

impl super::Fs for SimFs {
    fn kind(&self) -> super::BackendKind {
        super::BackendKind::Sim
    }
    fn open(&self, path: &Path, _opts: OpenOptions) -> Result<FileHandle> {
        Err(IoError::Unavailable { backend: "sim", reason: format!("not built yet ({})", path.display()) })
    }
    super::posix::real_dir_ops!();
}
