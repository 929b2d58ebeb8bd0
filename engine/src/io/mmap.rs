//! The `mmap` backend: reads of immutable files through a memory map, writes as `std`.
//!
//! SSTables never change once written, which is exactly when a map pays: a read is a `memcpy`
//! from the page cache with no system call. A file opened read-only is mapped once, at open;
//! a file opened for writing is a plain [`PosixFile`]. The contract that makes this safe: nobody
//! truncates a file while a read-only handle to it is open (the engine deletes SSTables only
//! after their last reader is gone, and unlinking keeps the mapped pages alive).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::posix::{open_std, real_dir_ops, PosixFile};
use super::{BackendKind, File, FileHandle, Fs, IoError, OpenOptions, Result};

/// The `mmap` backend's file system.
#[derive(Debug, Default)]
pub struct MmapFs;

impl MmapFs {
    /// The real file system, with read-only files memory-mapped.
    pub fn new() -> Self {
        MmapFs
    }
}

impl Fs for MmapFs {
    fn kind(&self) -> BackendKind {
        BackendKind::Mmap
    }

    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        if opts.write {
            return Ok(Arc::new(PosixFile::open(path, opts)?));
        }
        if opts.direct {
            return Err(IoError::invalid(
                "open",
                path,
                "the mmap backend reads through the page cache, so direct I/O does not apply \
                 to read-only files; open without direct, or use --io std|uring for O_DIRECT reads",
            ));
        }
        Ok(Arc::new(MmapFile::open(path, opts)?))
    }

    real_dir_ops!();
}

/// A read-only file served from a memory map.
#[derive(Debug)]
pub struct MmapFile {
    path: PathBuf,
    /// `None` for an empty file: a zero-length map is not allowed.
    map: Option<Mmap>,
}

impl MmapFile {
    /// Map an existing file read-only.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Self> {
        let file = open_std(path, opts)?;
        let len = file
            .metadata()
            .map_err(|e| IoError::from_os("open", path, e))?
            .len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the engine never truncates or rewrites a file while a read-only handle is
            // open (see the module docs); that is what makes the mapped bytes stable.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| IoError::from_os("mmap", path, e))?;
            Some(map)
        };
        Ok(MmapFile {
            path: path.to_path_buf(),
            map,
        })
    }

    /// The mapped bytes, for zero-copy readers.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    fn read_only(&self, op: &'static str) -> IoError {
        IoError::invalid(op, &self.path, "file was opened read-only (mmap)")
    }
}

impl File for MmapFile {
    fn path(&self) -> &Path {
        &self.path
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let bytes = self.bytes();
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= bytes.len() {
            return Ok(0);
        }
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }

    fn write_at(&self, _buf: &[u8], _offset: u64) -> Result<()> {
        Err(self.read_only("write"))
    }

    fn append(&self, _buf: &[u8]) -> Result<u64> {
        Err(self.read_only("append"))
    }

    fn sync_data(&self) -> Result<()> {
        Ok(())
    }

    fn sync_all(&self) -> Result<()> {
        Ok(())
    }

    fn len(&self) -> Result<u64> {
        Ok(self.bytes().len() as u64)
    }

    fn truncate(&self, _len: u64) -> Result<()> {
        Err(self.read_only("truncate"))
    }

    fn will_need(&self, offset: u64, len: u64) {
        if let Some(map) = &self.map {
            let start = (offset as usize).min(map.len());
            let len = (len as usize).min(map.len() - start);
            // Only a hint: an error (an unaligned range on an exotic kernel) changes nothing.
            let _ = map.advise_range(memmap2::Advice::WillNeed, start, len);
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
