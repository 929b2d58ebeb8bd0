//! The I/O layer's error type: every error names the operation and the path it failed on.

use std::path::{Path, PathBuf};

/// A result from the I/O layer.
pub type Result<T> = std::result::Result<T, IoError>;

/// What went wrong in the I/O layer, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file or directory does not exist.
    #[error("{op} {}: no such file or directory", path.display())]
    NotFound {
        /// The operation that failed (`open`, `rename`, ...).
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
    },
    /// The file exists and the caller asked for a new one.
    #[error("{op} {}: already exists", path.display())]
    AlreadyExists {
        /// The operation that failed.
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
    },
    /// The request itself is wrong (bad offset, misaligned direct I/O, write on a read-only
    /// handle, ...).
    #[error("{op} {}: invalid request: {detail}", path.display())]
    InvalidInput {
        /// The operation that failed.
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
        /// What is wrong with the request.
        detail: String,
    },
    /// The file ended before the requested range did.
    #[error("read {}: unexpected end of file at offset {offset}: wanted {wanted} bytes, got {got}", path.display())]
    UnexpectedEof {
        /// The file.
        path: PathBuf,
        /// Where the read started.
        offset: u64,
        /// Bytes asked for.
        wanted: usize,
        /// Bytes the file had.
        got: usize,
    },
    /// The device is full.
    #[error("{op} {}: no space left on device", path.display())]
    NoSpace {
        /// The operation that failed.
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
    },
    /// The operating system (or the simulated disk) reported an I/O error.
    #[error("{op} {}: {source}", path.display())]
    Os {
        /// The operation that failed.
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the lock on this file (see [`crate::io::Fs::lock`]).
    #[error("{} is locked by another process (pid {holder}): one process at a time may open \
             what it guards; stop the other one or use another directory", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The holder's process id as it wrote it into the lock file, or `?`.
        holder: String,
    },
    /// The backend cannot do what was asked on this machine (for example io_uring disabled).
    #[error("{backend} backend unavailable: {reason}")]
    Unavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why, and what to do instead.
        reason: String,
    },
}

impl IoError {
    /// Wrap an OS error, keeping the kinds callers branch on (missing, exists, full) as their
    /// own variants.
    pub fn from_os(op: &'static str, path: &Path, err: std::io::Error) -> Self {
        let path = path.to_path_buf();
        match err.kind() {
            std::io::ErrorKind::NotFound => IoError::NotFound { op, path },
            std::io::ErrorKind::AlreadyExists => IoError::AlreadyExists { op, path },
            _ if err.raw_os_error() == Some(libc::ENOSPC) => IoError::NoSpace { op, path },
            _ => IoError::Os {
                op,
                path,
                source: err,
            },
        }
    }

    /// An invalid request.
    pub fn invalid(op: &'static str, path: &Path, detail: impl Into<String>) -> Self {
        IoError::InvalidInput {
            op,
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }

    /// An injected or reported EIO.
    pub fn eio(op: &'static str, path: &Path, detail: &str) -> Self {
        IoError::Os {
            op,
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("input/output error (EIO): {detail}")),
        }
    }

    /// True for "no such file or directory".
    pub fn is_not_found(&self) -> bool {
        matches!(self, IoError::NotFound { .. })
    }

    /// True for "file exists" (a `create_new` open of a taken name).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, IoError::AlreadyExists { .. })
    }
}
