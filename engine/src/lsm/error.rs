//! The LSM engine's error type. Corruption always names the file and, where there is one, the
//! block (by byte offset) so that `seedbed inspect` can be pointed straight at it.

use std::path::PathBuf;
use std::sync::Arc;

use super::manifest::EditError;
use super::sstable::footer::FooterError;
use super::sstable::framing::BlockError;
use super::version::TreeError;
use crate::io::IoError;

/// A result from the LSM engine.
pub type Result<T> = std::result::Result<T, LsmError>;

/// What went wrong in the LSM engine, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
        /// What exactly is wrong: the block's or footer's own error where one of those found
        /// it, else a description.
        detail: CorruptionDetail,
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
    /// its in-memory state may no longer match what is durable — or, when the cause was a full
    /// disk, until space is back and a write (or `Db::resume`) brings it back. Holds the
    /// error that poisoned the database (shared: every later refusal names the same first
    /// cause). Reads are served meanwhile.
    #[error("database is read-only after a background error: {0}")]
    BackgroundError(#[source] Arc<LsmError>),
    /// Read-only after a full disk, and still short of space to take writes again: coming
    /// back needs room for a new log, a fresh manifest and a flush of what is in memory
    /// (`Db::resume`), and `resume` is what the last attempt ran into.
    #[error(
        "database is read-only after a full disk ({cause}); taking writes again needs more \
         free space: {resume}"
    )]
    NoSpaceToResume {
        /// What first made the database read-only.
        cause: Arc<LsmError>,
        /// Why the last attempt to come back failed.
        resume: Arc<LsmError>,
    },
    /// The database was closed.
    #[error("database is closed")]
    Closed,
    /// A read with [`super::ReadOptions::cache_only`] needed a data block that is not in
    /// the block cache; nothing is wrong, the read must be retried where it may block.
    #[error("the read needs a data block of table {table} that is not cached")]
    NotInCache {
        /// The table file's number.
        table: u64,
    },
}

impl LsmError {
    /// A corruption error.
    pub fn corruption(
        file: impl Into<PathBuf>,
        what: &'static str,
        offset: u64,
        detail: impl Into<CorruptionDetail>,
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

/// What is wrong with corrupt bytes: the typed error of the format code that found it (a
/// block's trailer or compression, a table's footer), or a description where the check is a
/// one-off. Shown as its own message, inside [`LsmError::Corruption`]'s.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptionDetail {
    /// A stored block's trailer, compression or contents.
    #[error(transparent)]
    Block(Arc<BlockError>),
    /// A table's footer.
    #[error(transparent)]
    Footer(#[from] FooterError),
    /// A manifest edit.
    #[error(transparent)]
    Manifest(#[from] EditError),
    /// An edit refused before it was logged: the tree it would make breaks an invariant.
    #[error("refused before logging: after the edit, {0}")]
    RefusedEdit(#[source] TreeError),
    /// A one-off check (a record length, a key order).
    #[error("{0}")]
    Text(String),
}

impl From<BlockError> for CorruptionDetail {
    fn from(e: BlockError) -> Self {
        CorruptionDetail::Block(Arc::new(e))
    }
}

impl From<String> for CorruptionDetail {
    fn from(s: String) -> Self {
        CorruptionDetail::Text(s)
    }
}

impl From<&str> for CorruptionDetail {
    fn from(s: &str) -> Self {
        CorruptionDetail::Text(s.to_string())
    }
}

impl LsmError {
    /// Whether this is (or was caused by) a full disk: the one background error the database
    /// can come back from without a restart (`Db::resume`).
    pub fn is_no_space(&self) -> bool {
        match self {
            LsmError::Io(IoError::NoSpace { .. }) => true,
            LsmError::BackgroundError(cause) => cause.is_no_space(),
            LsmError::NoSpaceToResume { .. } => true,
            _ => false,
        }
    }

    /// An equal error for another writer of a failed write group (the leader keeps the
    /// original): same variant, same message. An OS error keeps its kind and text but not its
    /// `raw_os_error`, which `std::io::Error` cannot copy.
    pub(crate) fn duplicate(&self) -> LsmError {
        match self {
            LsmError::Io(e) => LsmError::Io(duplicate_io(e)),
            LsmError::Corruption {
                file,
                what,
                offset,
                detail,
            } => LsmError::Corruption {
                file: file.clone(),
                what,
                offset: *offset,
                detail: detail.clone(),
            },
            LsmError::InvalidArgument(s) => LsmError::InvalidArgument(s.clone()),
            LsmError::BadDatabase { dir, detail } => LsmError::BadDatabase {
                dir: dir.clone(),
                detail: detail.clone(),
            },
            LsmError::BackgroundError(e) => LsmError::BackgroundError(Arc::clone(e)),
            LsmError::NoSpaceToResume { cause, resume } => LsmError::NoSpaceToResume {
                cause: Arc::clone(cause),
                resume: Arc::clone(resume),
            },
            LsmError::Closed => LsmError::Closed,
            LsmError::NotInCache { table } => LsmError::NotInCache { table: *table },
        }
    }
}

/// An equal I/O error (see [`LsmError::duplicate`]).
pub(crate) fn duplicate_io(e: &IoError) -> IoError {
    match e {
        IoError::NotFound { op, path } => IoError::NotFound {
            op,
            path: path.clone(),
        },
        IoError::AlreadyExists { op, path } => IoError::AlreadyExists {
            op,
            path: path.clone(),
        },
        IoError::InvalidInput { op, path, detail } => IoError::InvalidInput {
            op,
            path: path.clone(),
            detail: detail.clone(),
        },
        IoError::UnexpectedEof {
            path,
            offset,
            wanted,
            got,
        } => IoError::UnexpectedEof {
            path: path.clone(),
            offset: *offset,
            wanted: *wanted,
            got: *got,
        },
        IoError::NoSpace { op, path } => IoError::NoSpace {
            op,
            path: path.clone(),
        },
        IoError::Os { op, path, source } => IoError::Os {
            op,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        IoError::Locked { path, holder } => IoError::Locked {
            path: path.clone(),
            holder: holder.clone(),
        },
        IoError::Unavailable { backend, reason } => IoError::Unavailable {
            backend,
            reason: reason.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_reads_the_same() {
        let errs = [
            LsmError::Io(IoError::eio(
                "sync",
                std::path::Path::new("/db/000003.log"),
                "injected",
            )),
            LsmError::corruption("/db/000005.sst", "data block", 4096, "checksum mismatch"),
            LsmError::BackgroundError(Arc::new(LsmError::InvalidArgument("flush failed".into()))),
            LsmError::Closed,
        ];
        for e in &errs {
            assert_eq!(e.duplicate().to_string(), e.to_string());
        }
    }
}
