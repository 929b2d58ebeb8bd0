//! Why the metadata store failed: the error of [`super::MetaStore`], with the lower layer's
//! error kept as its source (the LSM's, the I/O layer's, each copy's), so a caller can ask
//! what kind of failure it was without reading the message.

use std::fmt;
use std::path::PathBuf;

use crate::io::IoError;
use crate::lsm::LsmError;

/// A metadata store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The LSM engine holding (a copy of) the metadata failed.
    #[error(transparent)]
    Lsm(#[from] LsmError),
    /// A file operation on a copy's directory failed (the error names operation and path).
    #[error(transparent)]
    Io(#[from] IoError),
    /// A stored record does not parse: the bytes under `key` are not what the store wrote.
    #[error("corrupt metadata record under key {key:?}: {detail}")]
    Corrupt {
        /// The record's key, lossily as text.
        key: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Not enough copies could do what was asked: each copy's own failure is kept.
    #[error("{what}{}", CopyList(failures))]
    Copies {
        /// What could not be done, e.g. "no metadata copy could answer".
        what: String,
        /// Each copy that failed: its directory and its error.
        failures: Vec<CopyFailure>,
    },
    /// No copy is in service or complete (the reasons are the copies' states).
    #[error("{0}")]
    Unavailable(String),
}

/// One copy's failure inside [`MetaError::Copies`].
#[derive(Debug)]
pub struct CopyFailure {
    /// The copy's directory.
    pub dir: PathBuf,
    /// Its error.
    pub error: MetaError,
}

impl MetaError {
    /// A record that does not parse.
    pub fn corrupt(key: &[u8], detail: impl fmt::Display) -> Self {
        MetaError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            detail: detail.to_string(),
        }
    }

    /// Whether a full disk is a cause: for [`MetaError::Copies`], of some copy's failure (freeing
    /// space brings those copies back, which may be all a commit lacked).
    pub fn is_no_space(&self) -> bool {
        match self {
            MetaError::Lsm(e) => e.is_no_space(),
            MetaError::Io(e) => matches!(e, IoError::NoSpace { .. }),
            MetaError::Copies { failures, .. } => failures.iter().any(|f| f.error.is_no_space()),
            MetaError::Corrupt { .. } | MetaError::Unavailable(_) => false,
        }
    }

    /// Whether another process holds the lock of (a copy of) the metadata: the store is open
    /// elsewhere.
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            MetaError::Lsm(LsmError::Io(IoError::Locked { .. }))
                | MetaError::Io(IoError::Locked { .. })
        )
    }

    /// An equal error for another commit of a failed commit group ([`super::replicated`]):
    /// same variant, same message (an OS error keeps its kind and text, not its number).
    pub fn duplicate(&self) -> MetaError {
        match self {
            MetaError::Lsm(e) => MetaError::Lsm(e.duplicate()),
            MetaError::Io(e) => MetaError::Io(crate::lsm::error::duplicate_io(e)),
            MetaError::Corrupt { key, detail } => MetaError::Corrupt {
                key: key.clone(),
                detail: detail.clone(),
            },
            MetaError::Copies { what, failures } => MetaError::Copies {
                what: what.clone(),
                failures: failures
                    .iter()
                    .map(|f| CopyFailure {
                        dir: f.dir.clone(),
                        error: f.error.duplicate(),
                    })
                    .collect(),
            },
            MetaError::Unavailable(s) => MetaError::Unavailable(s.clone()),
        }
    }

    /// True when stored bytes are bad (a corrupt record, or the LSM found corruption) rather
    /// than the store being unreachable.
    pub fn is_corruption(&self) -> bool {
        match self {
            MetaError::Corrupt { .. } => true,
            MetaError::Lsm(e) => e.is_corruption(),
            MetaError::Copies { failures, .. } => {
                !failures.is_empty() && failures.iter().all(|f| f.error.is_corruption())
            }
            _ => false,
        }
    }
}

/// `: dir: error; dir: error` — the copies' failures after the summary, or nothing.
struct CopyList<'a>(&'a [CopyFailure]);

impl fmt::Display for CopyList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, c) in self.0.iter().enumerate() {
            let sep = if n == 0 { ": " } else { "; " };
            write!(f, "{sep}{}: {}", c.dir.display(), c.error)?;
        }
        Ok(())
    }
}
