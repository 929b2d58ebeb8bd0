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
            source: std::io::Error::other(Eio(format!("input/output error (EIO): {detail}"))),
        }
    }

    /// True when the error says the device or its file system failed the request — EIO, a
    /// file system gone read-only after errors (EROFS) or found corrupt (EUCLEAN), a device
    /// that went away (ENXIO, ENODEV), a network or FUSE mount whose server is gone (ENOTCONN,
    /// ESTALE) — and not the request or the process (a full disk, a bad offset, too many open
    /// files). The object store writes past a disk failing this way (`object/blob/degraded.rs`)
    /// and never past the others, which would fail on every disk alike.
    pub fn is_device_failure(&self) -> bool {
        let IoError::Os { source, .. } = self else {
            return false;
        };
        if source.get_ref().is_some_and(|e| e.is::<Eio>()) {
            return true;
        }
        matches!(
            source.raw_os_error(),
            Some(
                libc::EIO
                    | libc::EROFS
                    | libc::EUCLEAN
                    | libc::ENXIO
                    | libc::ENODEV
                    | libc::ENOTCONN
                    | libc::ESTALE
            )
        )
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

/// An injected or reported EIO ([`IoError::eio`]), told apart from other errors without an OS
/// error number by [`IoError::is_device_failure`].
#[derive(Debug)]
struct Eio(String);

impl std::fmt::Display for Eio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Eio {}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: i32) -> IoError {
        IoError::from_os(
            "write",
            Path::new("/d/f"),
            std::io::Error::from_raw_os_error(errno),
        )
    }

    #[test]
    fn a_failing_device_is_told_from_a_full_disk_and_from_the_process() {
        for errno in [
            libc::EIO,
            libc::EROFS,
            libc::EUCLEAN,
            libc::ENODEV,
            libc::ESTALE,
        ] {
            assert!(os(errno).is_device_failure(), "errno {errno}");
        }
        assert!(IoError::eio("sync_data", Path::new("/d/f"), "injected").is_device_failure());
        // Full, a bad request, the process's own limits, a missing file: not the device's.
        for errno in [
            libc::ENOSPC,
            libc::EINVAL,
            libc::EMFILE,
            libc::EBADF,
            libc::ENOENT,
        ] {
            assert!(!os(errno).is_device_failure(), "errno {errno}");
        }
        assert!(!IoError::invalid("write", Path::new("/d/f"), "misaligned").is_device_failure());
        // The injected EIO still reads as before.
        let e = IoError::eio("sync_data", Path::new("/d/f"), "injected");
        assert_eq!(
            e.to_string(),
            "sync_data /d/f: input/output error (EIO): injected"
        );
    }
}
