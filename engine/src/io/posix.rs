//! The `std` backend: `pread`, `pwrite` and `fdatasync` through the standard library.
//!
//! This is the baseline every other backend is measured against: one system call per
//! request, the kernel's page cache unless `direct` is asked for.

use std::any::Any;
use std::fs;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::aligned::check_direct;
use super::{BackendKind, File, FileHandle, Fs, IoError, OpenOptions, Result};

/// The `std` backend's file system: the real one.
#[derive(Debug, Default)]
pub struct PosixFs;

impl PosixFs {
    /// The real file system through pread/pwrite.
    pub fn new() -> Self {
        PosixFs
    }
}

/// Open a real file with the given options; shared by the `std`, `mmap` and `uring` backends.
pub(crate) fn open_std(path: &Path, opts: OpenOptions) -> Result<fs::File> {
    opts.validate(path)?;
    let mut o = fs::OpenOptions::new();
    o.read(true)
        .write(opts.write)
        .create(opts.create && !opts.create_new)
        .create_new(opts.create_new)
        .truncate(opts.truncate);
    if opts.direct {
        o.custom_flags(libc::O_DIRECT);
    }
    match o.open(path) {
        Ok(f) => Ok(f),
        Err(e) if opts.direct && e.raw_os_error() == Some(libc::EINVAL) => Err(IoError::invalid(
            "open",
            path,
            "this file system does not support O_DIRECT (tmpfs, for one, does not); \
             run without direct I/O or put the file on a disk-backed file system",
        )),
        Err(e) => Err(IoError::from_os("open", path, e)),
    }
}

/// Create a directory tree on the real file system.
pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| IoError::from_os("create_dir_all", path, e))
}

/// The directory operations every real-disk backend shares.
macro_rules! real_dir_ops {
    () => {
        fn create_dir_all(&self, path: &std::path::Path) -> $crate::io::Result<()> {
            $crate::io::posix::create_dir_all(path)
        }

        fn remove_file(&self, path: &std::path::Path) -> $crate::io::Result<()> {
            std::fs::remove_file(path)
                .map_err(|e| $crate::io::IoError::from_os("remove_file", path, e))
        }

        fn remove_dir(&self, path: &std::path::Path) -> $crate::io::Result<()> {
            std::fs::remove_dir(path)
                .map_err(|e| $crate::io::IoError::from_os("remove_dir", path, e))
        }

        fn rename(&self, from: &std::path::Path, to: &std::path::Path) -> $crate::io::Result<()> {
            std::fs::rename(from, to).map_err(|e| $crate::io::IoError::from_os("rename", from, e))
        }

        fn list(&self, dir: &std::path::Path) -> $crate::io::Result<Vec<String>> {
            $crate::io::posix::list_dir(dir)
        }

        fn exists(&self, path: &std::path::Path) -> $crate::io::Result<bool> {
            path.try_exists()
                .map_err(|e| $crate::io::IoError::from_os("exists", path, e))
        }

        fn sync_dir(&self, dir: &std::path::Path) -> $crate::io::Result<()> {
            $crate::io::posix::sync_dir(dir)
        }

        fn lock(&self, path: &std::path::Path) -> $crate::io::Result<$crate::io::FileLock> {
            $crate::io::posix::lock_file(path)
        }

        fn space(&self, path: &std::path::Path) -> $crate::io::Result<Option<$crate::io::FsSpace>> {
            $crate::io::posix::space(path).map(Some)
        }

        fn file_key(
            &self,
            path: &std::path::Path,
        ) -> $crate::io::Result<Option<$crate::io::FileKey>> {
            $crate::io::posix::file_key(path).map(Some)
        }
    };
}
pub(crate) use real_dir_ops;

/// `stat(path)`: which file it names, and its inode's last change.
pub(crate) fn file_key(path: &Path) -> Result<crate::io::FileKey> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).map_err(|e| IoError::from_os("stat", path, e))?;
    Ok(crate::io::FileKey {
        dev: m.dev(),
        ino: m.ino(),
        len: m.size(),
        changed_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
    })
}

/// `statvfs(path)`: the sizes, and its `f_fsid` for which file system it is — or, where the
/// file system reports none (0), the device number from a `stat` as well.
pub(crate) fn space(path: &Path) -> Result<crate::io::FsSpace> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| IoError::invalid("statvfs", path, "the path holds a NUL byte"))?;
    // SAFETY: `statvfs` is plain old data, for which all zeroes is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is NUL-terminated and `st` is a valid place for the call to fill.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(IoError::from_os(
            "statvfs",
            path,
            std::io::Error::last_os_error(),
        ));
    }
    let id = match st.f_fsid as u64 {
        // Tagged so that a device number never equals another file system's fsid by chance.
        0 => {
            let dev = fs::metadata(path)
                .map_err(|e| IoError::from_os("stat", path, e))?
                .dev();
            dev | 1 << 63
        }
        fsid => fsid,
    };
    let unit = st.f_frsize as u64;
    Ok(crate::io::FsSpace {
        id,
        total: (st.f_blocks as u64).saturating_mul(unit),
        available: (st.f_bavail as u64).saturating_mul(unit),
    })
}

/// `flock(LOCK_EX | LOCK_NB)` on `path`, created if missing; the holder's pid is written into
/// the file so that the error can name it.
pub(crate) fn lock_file(path: &Path) -> Result<crate::io::FileLock> {
    use std::io::{Read, Seek, Write};
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| IoError::from_os("lock", path, e))?;
    // SAFETY: a plain system call on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(IoError::Locked {
                path: path.to_path_buf(),
                holder: if holder.is_empty() {
                    "?".into()
                } else {
                    holder.into()
                },
            });
        }
        return Err(IoError::from_os("lock", path, err));
    }
    // Only a note for the error message of whoever comes next: failing to write it is harmless.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(crate::io::FileLock { _file: Some(file) })
}

pub(crate) fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let rd = fs::read_dir(dir).map_err(|e| IoError::from_os("list", dir, e))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| IoError::from_os("list", dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = fs::File::open(dir).map_err(|e| IoError::from_os("sync_dir", dir, e))?;
    d.sync_all()
        .map_err(|e| IoError::from_os("sync_dir", dir, e))
}

impl Fs for PosixFs {
    fn kind(&self) -> BackendKind {
        BackendKind::Std
    }

    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        Ok(Arc::new(PosixFile::open(path, opts)?))
    }

    real_dir_ops!();
}

/// An open file on the `std` backend.
#[derive(Debug)]
pub struct PosixFile {
    file: fs::File,
    path: PathBuf,
    writable: bool,
    direct: bool,
    /// Where the next `append` goes: the file's length as this handle knows it.
    end: AtomicU64,
    /// Serialises appends so that two appenders never claim the same offset.
    append_lock: Mutex<()>,
}

impl PosixFile {
    /// Open a real file.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Self> {
        let file = open_std(path, opts)?;
        // Only appends use the length, and only a writable handle appends: a new or truncated
        // file is empty, and a read-only one never needs it — skipping the `statx` saves a
        // system call on every object GET and every shard file a PUT creates.
        let len = if !opts.write || opts.create_new || opts.truncate {
            0
        } else {
            file.metadata()
                .map_err(|e| IoError::from_os("open", path, e))?
                .len()
        };
        Ok(PosixFile {
            file,
            path: path.to_path_buf(),
            writable: opts.write,
            direct: opts.direct,
            end: AtomicU64::new(len),
            append_lock: Mutex::new(()),
        })
    }

    /// The underlying std file (the `uring` backend takes its descriptor).
    pub fn std_file(&self) -> &fs::File {
        &self.file
    }

    pub(crate) fn check_write(&self, op: &'static str, buf: &[u8], offset: u64) -> Result<()> {
        if !self.writable {
            return Err(IoError::invalid(
                op,
                &self.path,
                "file was opened read-only",
            ));
        }
        if self.direct {
            check_direct(op, &self.path, buf.as_ptr(), buf.len(), offset)?;
        }
        offset
            .checked_add(buf.len() as u64)
            .ok_or_else(|| IoError::invalid(op, &self.path, "offset + length overflows"))?;
        Ok(())
    }

    pub(crate) fn check_read(&self, buf: &[u8], offset: u64) -> Result<()> {
        if self.direct {
            check_direct("read", &self.path, buf.as_ptr(), buf.len(), offset)?;
        }
        Ok(())
    }

    /// Record that bytes now reach `new_end` (after a write through any path).
    pub(crate) fn note_written(&self, new_end: u64) {
        self.end.fetch_max(new_end, Ordering::AcqRel);
    }

    pub(crate) fn is_writable(&self) -> bool {
        self.writable
    }

    /// Append `buf` with `write(buf, offset)`, serialised with every other append and truncate
    /// of this handle; shared with the `uring` backend, whose `write` goes through its ring.
    pub(crate) fn append_with(
        &self,
        buf: &[u8],
        write: impl FnOnce(&[u8], u64) -> Result<()>,
    ) -> Result<u64> {
        let _guard = self.append_lock.lock().unwrap_or_else(|p| p.into_inner());
        let offset = self.end.load(Ordering::Acquire);
        self.check_write("append", buf, offset)?;
        write(buf, offset)?;
        self.note_written(offset + buf.len() as u64);
        Ok(offset)
    }
}

/// `pread` until the buffer is full or the file ends. A `direct` read that comes back short
/// has met the end of the file (a direct read is short only there), and is not continued: the
/// rest would start at an unaligned offset, which `O_DIRECT` refuses.
pub(crate) fn pread_full(
    file: &fs::File,
    path: &Path,
    buf: &mut [u8],
    offset: u64,
    direct: bool,
) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) if direct && done + n < buf.len() => {
                done += n;
                break;
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IoError::from_os("read", path, e)),
        }
    }
    Ok(done)
}

impl File for PosixFile {
    fn path(&self) -> &Path {
        &self.path
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.check_read(buf, offset)?;
        pread_full(&self.file, &self.path, buf, offset, self.direct)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.check_write("write", buf, offset)?;
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| IoError::from_os("write", &self.path, e))?;
        self.note_written(offset + buf.len() as u64);
        Ok(())
    }

    fn append(&self, buf: &[u8]) -> Result<u64> {
        self.append_with(buf, |buf, offset| {
            self.file
                .write_all_at(buf, offset)
                .map_err(|e| IoError::from_os("append", &self.path, e))
        })
    }

    fn sync_data(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| IoError::from_os("sync_data", &self.path, e))
    }

    fn sync_all(&self) -> Result<()> {
        self.file
            .sync_all()
            .map_err(|e| IoError::from_os("sync_all", &self.path, e))
    }

    fn len(&self) -> Result<u64> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| IoError::from_os("len", &self.path, e))?
            .len())
    }

    fn truncate(&self, len: u64) -> Result<()> {
        if !self.writable {
            return Err(IoError::invalid(
                "truncate",
                &self.path,
                "file was opened read-only",
            ));
        }
        let _guard = self.append_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.file
            .set_len(len)
            .map_err(|e| IoError::from_os("truncate", &self.path, e))?;
        self.end.store(len, Ordering::Release);
        Ok(())
    }

    fn punch_hole(&self, offset: u64, len: u64) -> Result<()> {
        if !self.writable {
            return Err(IoError::invalid(
                "punch_hole",
                &self.path,
                "file was opened read-only",
            ));
        }
        if len == 0 {
            return Ok(());
        }
        // SAFETY: a plain system call on a descriptor this file owns; no memory is passed.
        let rc = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                offset as libc::off_t,
                len as libc::off_t,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            // No hole punching on this file system (or through this handle): zeros read the
            // same, they just keep the space.
            Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => {
                crate::io::write_zeros(self, offset, len)
            }
            _ => Err(IoError::from_os("punch_hole", &self.path, err)),
        }
    }

    fn next_data(&self, offset: u64) -> Result<Option<u64>> {
        // SAFETY: a plain system call on a descriptor this file owns; no memory is passed. The
        // file offset it moves is not used by this type (all I/O is positioned).
        let at = unsafe {
            libc::lseek(
                self.file.as_raw_fd(),
                offset as libc::off_t,
                libc::SEEK_DATA,
            )
        };
        if at >= 0 {
            return Ok(Some(at as u64));
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            // Only holes from `offset` to the end, or `offset` past the end.
            Some(libc::ENXIO) => Ok(None),
            // A file system without SEEK_DATA: every byte counts as data.
            Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => {
                Ok((offset < self.len()?).then_some(offset))
            }
            _ => Err(IoError::from_os("seek_data", &self.path, err)),
        }
    }

    fn is_direct(&self) -> bool {
        self.direct
    }

    fn read_cached(&self, buf: &mut [u8], offset: u64) -> bool {
        if self.direct || buf.is_empty() {
            return false;
        }
        #[cfg(target_env = "gnu")]
        {
            let iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: one iovec over `buf`, which outlives the call; the descriptor is this
            // file's. RWF_NOWAIT: EAGAIN (or a short count) instead of waiting for the device;
            // kernels without it answer EOPNOTSUPP. Any of those, or an error, is `false`.
            let n = unsafe {
                libc::preadv2(
                    self.file.as_raw_fd(),
                    &iov,
                    1,
                    offset as libc::off_t,
                    libc::RWF_NOWAIT,
                )
            };
            usize::try_from(n).is_ok_and(|n| n == buf.len())
        }
        #[cfg(not(target_env = "gnu"))]
        {
            let _ = offset;
            false
        }
    }

    fn still_linked(&self) -> Option<bool> {
        // `fstat`, not std's `metadata` (a `statx` asking for every field): the link count is
        // all that is wanted, on every read of a kept pack file.
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `st` is a valid out-pointer for one `stat`; the descriptor is this file's.
        let rc = unsafe { libc::fstat(self.file.as_raw_fd(), st.as_mut_ptr()) };
        // SAFETY: `fstat` returned 0, so it filled `st`.
        (rc == 0).then(|| unsafe { st.assume_init() }.st_nlink > 0)
    }

    fn will_need(&self, offset: u64, len: u64) {
        if self.direct {
            return;
        }
        // SAFETY: a plain system call on a descriptor this file owns; no memory is passed.
        unsafe {
            libc::posix_fadvise(
                self.file.as_raw_fd(),
                offset as libc::off_t,
                len as libc::off_t,
                libc::POSIX_FADV_WILLNEED,
            );
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
