//! The LSM engine's error type. Corruption always names the file and, where there is one, the
//! block (by byte offset) so that `seedbed inspect` can be pointed straight at it.

use std::path::PathBuf;

use crate::io::IoError;

/// A result from the LSM engine.
pub type Result<T> = std::result::Result<T, LsmError>;

/// What went wrong in the LSM engine, and where.
#[derive(Debug, thiserror::Error)]
pub enum LsmError {
    /// The I/O layer failed (the error names the operation and path).
    #[error(transparent)]
    Io(#[from] IoError),
    /// Stored bytes fail a checksum or do not parse. Wrong data is never returned instead.
    #[error("corruption in {} ({what}) at byte {offset}: {detail}", file.display())]
    Corruption {
        /// The file holding the bad bytes.
        file: PathBuf,
        /// Which structure: `"wal record"`, `"data block"`, `"index block"`, `"footer"`, ...
        what: &'static str,
        /// Byte offset of the block or record in the file.
        offset: u64,
        /// What exactly is wrong.
        detail: String,
    },
    /// The caller asked for something invalid (empty key, oversized value, bad option).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The database directory is not usable (missing CURRENT, wrong format version, ...).
    #[error("database {}: {detail}", dir.display())]
    BadDatabase {
        /// The database directory.
        dir: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A background job failed earlier; the database refuses writes until reopened, because
    /// its in-memory state may no longer match what is durable.
    #[error("database is read-only after a background error: {0}")]
    BackgroundError(String),
    /// The database was closed.
    #[error("database is closed")]
    Closed,
}

impl LsmError {
    /// A corruption error.
    pub fn corruption(
        file: impl Into<PathBuf>,
        what: &'static str,
        offset: u64,
        detail: impl Into<String>,
    ) -> Self {
        LsmError::Corruption {
            file: file.into(),
            what,
            offset,
            detail: detail.into(),
        }
    }

    /// True if this error reports corrupt stored data.
    pub fn is_corruption(&self) -> bool {
        matches!(self, LsmError::Corruption { .. })
    }
}
