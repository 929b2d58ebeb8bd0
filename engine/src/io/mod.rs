//! The I/O layer: one file interface, four interchangeable backends.
//!
//! Every byte the engine stores goes through [`Fs`] (directory operations and batches) and
//! [`File`] (positioned reads and writes on one open file). The backend is chosen at run time by
//! name ([`BackendKind`]):
//!
//! | name    | reads                 | writes            | sync            | batches                 |
//! |---------|-----------------------|-------------------|-----------------|-------------------------|
//! | `std`   | `pread`               | `pwrite`          | `fdatasync`     | one call per request    |
//! | `uring` | io_uring              | io_uring          | ring `fsync`    | one submission for all  |
//! | `mmap`  | memory map (read-only files) | `pwrite`   | `fdatasync`     | one call per request    |
//! | `sim`   | in memory, seeded faults, exact durability model, virtual latency              |
//!
//! Why one trait and not generics: the same engine binary must run on an NVMe drive and inside
//! the simulator, picked by a flag; dynamic dispatch costs a few nanoseconds per call against
//! microseconds per device operation.
//!
//! Contract shared by every backend (checked by `tests/it/io_conformance.rs`):
//! - `read_at` fills the buffer unless the file ends first; it returns the bytes read (short only
//!   at end of file). Reading at or past the end returns 0.
//! - `write_at` writes the whole buffer or fails; writing past the end extends the file (the gap
//!   reads as zeros).
//! - Data is durable only after `sync_data`/`sync_all`; a directory entry (create, rename,
//!   remove) is durable only after `sync_dir` on its parent.
//! - With [`OpenOptions::direct`], buffers, offsets and lengths must be multiples of
//!   [`DIRECT_IO_ALIGN`]; use [`AlignedBuf`]. Backends that cannot do direct I/O say so.

mod aligned;
mod error;
pub mod mmap;
pub mod posix;
pub mod queue;
pub mod sim;
pub mod uring;

use std::any::Any;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

pub use aligned::{AlignedBuf, DIRECT_IO_ALIGN};
pub use error::{IoError, Result};
pub use queue::{IoQueue, QueueCompletion, QueueFull, QueueOp, QueueRequest};

/// The I/O backends, by the name users pass to `--io`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BackendKind {
    /// `pread`/`pwrite`/`fdatasync` through std.
    Std,
    /// io_uring: batched submissions, ring fsync, O_DIRECT.
    Uring,
    /// Reads of immutable (read-only opened) files through a memory map; writes as `std`.
    Mmap,
    /// In-memory, deterministic from a seed, with fault injection and a crash model.
    Sim,
}

impl BackendKind {
    /// Every backend, in the order benchmarks and tests visit them.
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Std,
        BackendKind::Uring,
        BackendKind::Mmap,
        BackendKind::Sim,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Std => "std",
            BackendKind::Uring => "uring",
            BackendKind::Mmap => "mmap",
            BackendKind::Sim => "sim",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "std" => Ok(BackendKind::Std),
            "uring" | "io_uring" | "io-uring" => Ok(BackendKind::Uring),
            "mmap" => Ok(BackendKind::Mmap),
            "sim" => Ok(BackendKind::Sim),
            other => Err(format!(
                "unknown I/O backend '{other}': expected one of std, uring, mmap, sim"
            )),
        }
    }
}

/// How to open a file. Reading is always allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Allow writes, appends, truncation and sync.
    pub write: bool,
    /// Create the file if it does not exist (requires `write`).
    pub create: bool,
    /// Fail if the file exists (requires `create`).
    pub create_new: bool,
    /// Cut the file to zero length on open (requires `write`).
    pub truncate: bool,
    /// Bypass the page cache (`O_DIRECT`): aligned buffers, offsets and lengths only.
    pub direct: bool,
}

impl OpenOptions {
    /// Open an existing file for reading only. Such a file is immutable as far as this handle
    /// is concerned, which is what lets the `mmap` backend map it.
    pub fn read_only() -> Self {
        OpenOptions::default()
    }

    /// Open an existing file for reading and writing.
    pub fn read_write() -> Self {
        OpenOptions {
            write: true,
            ..OpenOptions::default()
        }
    }

    /// Create the file, or cut an existing one to zero length.
    pub fn create_truncate() -> Self {
        OpenOptions {
            write: true,
            create: true,
            truncate: true,
            ..OpenOptions::default()
        }
    }

    /// Create the file; fail with [`IoError::AlreadyExists`] if it exists.
    pub fn create_new() -> Self {
        OpenOptions {
            write: true,
            create: true,
            create_new: true,
            ..OpenOptions::default()
        }
    }

    /// The same options with direct I/O switched on or off.
    pub fn with_direct(mut self, direct: bool) -> Self {
        self.direct = direct;
        self
    }

    /// Reject combinations that make no sense, before any backend sees them.
    pub(crate) fn validate(&self, path: &Path) -> Result<()> {
        if (self.create || self.truncate) && !self.write {
            return Err(IoError::invalid(
                "open",
                path,
                "create/truncate need write access",
            ));
        }
        if self.create_new && !self.create {
            return Err(IoError::invalid("open", path, "create_new needs create"));
        }
        Ok(())
    }
}

/// An open file. Shared between threads as [`FileHandle`]; every method takes `&self`, so
/// positioned reads from many threads need no lock.
pub trait File: Send + Sync + fmt::Debug {
    /// The path the file was opened under.
    fn path(&self) -> &Path;

    /// Read into `buf` from `offset`; returns bytes read, fewer than `buf.len()` only at the
    /// end of the file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize>;

    /// Write all of `buf` at `offset`, extending the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()>;

    /// Write `buf` at the current end of the file; returns the offset it was written at.
    /// Appends through one handle are serialised; the engine gives each appending file one
    /// writer, as the WAL and SSTable builders do.
    fn append(&self, buf: &[u8]) -> Result<u64>;

    /// Make the file's data durable (`fdatasync`).
    fn sync_data(&self) -> Result<()>;

    /// Make the file's data and metadata durable (`fsync`).
    fn sync_all(&self) -> Result<()>;

    /// The file's length in bytes.
    fn len(&self) -> Result<u64>;

    /// True when the file is empty.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Cut or extend the file to `len` bytes.
    fn truncate(&self, len: u64) -> Result<()>;

    /// Give back the space of `len` bytes at `offset`: afterwards the range reads as zeros and
    /// the file keeps its length. The object store frees deleted records of its pack files this
    /// way. Backends with real files punch a hole (`fallocate(PUNCH_HOLE)`, the blocks return to
    /// the file system); this default writes zeros, which reads the same but frees nothing
    /// (the simulated disk uses it, so a punch is an ordinary write to its crash model).
    fn punch_hole(&self, offset: u64, len: u64) -> Result<()> {
        write_zeros(self, offset, len)
    }

    /// The first offset at or after `offset` that may hold data (not a hole), or `None` when
    /// only holes follow. Lets a scan of a sparse file jump over punched ranges
    /// (`lseek(SEEK_DATA)`); this default knows no holes and answers `offset` itself while it is
    /// inside the file, which is correct, only slower for a scan.
    fn next_data(&self, offset: u64) -> Result<Option<u64>> {
        Ok((offset < self.len()?).then_some(offset))
    }

    /// Whether this handle bypasses the page cache.
    fn is_direct(&self) -> bool {
        false
    }

    /// A hint that `len` bytes at `offset` will be read soon: a page-cache backend starts
    /// reading them in the background (`posix_fadvise(WILLNEED)`), so a reader can overlap the
    /// device's work on the next block with its own work on this one. Only a hint: backends
    /// without a page cache ignore it, and it never fails a read.
    fn will_need(&self, _offset: u64, _len: u64) {}

    /// Fill `buf` from `offset` only if that needs no wait for the device: `true` when every
    /// byte came from memory (the page cache), `false` — with `buf` in any state — when some
    /// were not there, the file ends first, the read failed, or the backend cannot read
    /// without waiting (`preadv2(RWF_NOWAIT)`; the default, and direct I/O, never can). A
    /// reader that finds its data in memory skips the read-ahead hints ([`File::will_need`])
    /// it would otherwise send; any `false` sends it down the ordinary path, which reports
    /// errors.
    fn read_cached(&self, _buf: &mut [u8], _offset: u64) -> bool {
        false
    }

    /// Whether the file is still reachable by a name: `Some(false)` once it has been unlinked
    /// (its directory, or the whole disk directory, deleted; or a file renamed over it), when a
    /// fresh open of [`File::path`] would no longer find these bytes. A handle kept open for
    /// later reads asks this before each use, so a deleted file is never read through an old
    /// descriptor. `None`, the default, where this cannot be told cheaply (the simulated disk,
    /// a mapping fixed at its length when opened, a test's wrapper): such a handle is not kept.
    fn still_linked(&self) -> Option<bool> {
        None
    }

    /// Read exactly `buf.len()` bytes at `offset`, or fail with [`IoError::UnexpectedEof`]
    /// naming the file and the range.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let n = self.read_at(buf, offset)?;
        if n < buf.len() {
            return Err(IoError::UnexpectedEof {
                path: self.path().to_path_buf(),
                offset,
                wanted: buf.len(),
                got: n,
            });
        }
        Ok(())
    }

    /// For backends whose batches need their own file type (io_uring needs the descriptor).
    fn as_any(&self) -> &dyn Any;
}

/// A shared open file.
pub type FileHandle = Arc<dyn File>;

/// An exclusive lock taken by [`Fs::lock`]; dropping it releases the lock.
#[derive(Debug)]
pub struct FileLock {
    /// The open lock file (the `flock` lives as long as this descriptor), if any.
    _file: Option<std::fs::File>,
}

/// Write `len` zero bytes at `offset`, 64 KiB at a time from an aligned buffer (so that a
/// direct handle takes them too): what a hole punch falls back to where there are no holes.
pub(crate) fn write_zeros<F: File + ?Sized>(file: &F, offset: u64, len: u64) -> Result<()> {
    const CHUNK: u64 = 64 << 10;
    let zeros = AlignedBuf::zeroed(CHUNK.min(len) as usize);
    let mut at = offset;
    let end = offset.saturating_add(len);
    while at < end {
        let n = (end - at).min(CHUNK) as usize;
        file.write_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// One request in a batch: a read into, or a write from, a caller-owned buffer.
#[derive(Debug)]
pub enum IoOp<'a> {
    /// Read into `buf` from `offset`; completes with the bytes read (short only at EOF).
    Read {
        /// The file to read.
        file: &'a dyn File,
        /// Byte offset in the file.
        offset: u64,
        /// Destination; its length is the request size.
        buf: &'a mut [u8],
    },
    /// Write all of `buf` at `offset`; completes with `buf.len()`.
    Write {
        /// The file to write.
        file: &'a dyn File,
        /// Byte offset in the file.
        offset: u64,
        /// Source; its length is the request size.
        buf: &'a [u8],
    },
}

impl IoOp<'_> {
    /// Run this one request synchronously through the file's own methods.
    pub fn run_sync(&mut self) -> Result<usize> {
        match self {
            IoOp::Read { file, offset, buf } => file.read_at(buf, *offset),
            IoOp::Write { file, offset, buf } => file.write_at(buf, *offset).map(|()| buf.len()),
        }
    }
}

/// How much room the file system holding a path has (`statvfs`), for writers that keep a
/// reserve free instead of running a disk to its last byte (`object/space.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsSpace {
    /// Which file system: paths with the same id share one pool of free space (`f_fsid`,
    /// or the device number where the file system reports no fsid).
    pub id: u64,
    /// Its size in bytes.
    pub total: u64,
    /// Bytes an unprivileged writer may still take (`f_bavail`: ext4's blocks reserved for
    /// root are not counted).
    pub available: u64,
}

/// Which file a path named at one look, and its inode's last change: two looks that return the
/// same key saw the same file, unchanged since (a file replaced by rename, or another file
/// system mounted over the path, gives another key; so does any write or rename of the file,
/// through its change time). What lets a check skip reading a file it has read before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileKey {
    /// The device holding it.
    pub dev: u64,
    /// Its inode number there.
    pub ino: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Its inode's change time (`st_ctime`), in nanoseconds.
    pub changed_ns: i128,
}

/// A file system seen through one backend.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// Open (and maybe create) a file.
    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle>;

    /// Create a directory and its missing parents.
    fn create_dir_all(&self, path: &Path) -> Result<()>;

    /// Remove a file.
    fn remove_file(&self, path: &Path) -> Result<()>;

    /// Remove an empty directory.
    fn remove_dir(&self, path: &Path) -> Result<()>;

    /// Atomically replace `to` with `from` (POSIX `rename`).
    fn rename(&self, from: &Path, to: &Path) -> Result<()>;

    /// The names of a directory's entries, sorted, without `.` and `..`.
    fn list(&self, dir: &Path) -> Result<Vec<String>>;

    /// Whether a file or directory exists at `path`.
    fn exists(&self, path: &Path) -> Result<bool>;

    /// Make a directory's entries (creates, renames, removes) durable.
    fn sync_dir(&self, dir: &Path) -> Result<()>;

    /// Take an exclusive lock on `path` (created if missing) for as long as the returned guard
    /// lives, or fail with [`IoError::Locked`] if another process holds it. What the engine
    /// opens for writing (an LSM database) takes one, so that two processes never write the
    /// same files. Real file systems use `flock`, released by the kernel when the process
    /// ends however it ends; the simulated disk has one process and needs no lock.
    fn lock(&self, _path: &Path) -> Result<FileLock> {
        Ok(FileLock { _file: None })
    }

    /// The space of the file system holding `path`; `None` when the backend cannot tell (a
    /// simulated disk without a capacity).
    fn space(&self, _path: &Path) -> Result<Option<FsSpace>> {
        Ok(None)
    }

    /// Which file `path` names now ([`FileKey`]); `None` when the backend cannot tell (the
    /// simulated disk), and a caller then reads the file each time.
    fn file_key(&self, _path: &Path) -> Result<Option<FileKey>> {
        Ok(None)
    }

    /// Submit many requests at once and wait for all of them; returns one result per request,
    /// in order. Requests in one batch may complete in any order, so a batch must not read what
    /// it writes. The default runs them one by one; `uring` submits them in one system call.
    fn submit(&self, ops: &mut [IoOp<'_>]) -> Vec<Result<usize>> {
        ops.iter_mut().map(IoOp::run_sync).collect()
    }

    /// A streaming queue keeping up to `depth` requests in flight (see [`queue`]). The default
    /// completes each request inside `push` ([`queue::SyncQueue`]); `uring` keeps them at the
    /// device. `depth` must be between 1 and [`queue::QUEUE_DEPTH_MAX`].
    fn queue(&self, depth: usize) -> Result<Box<dyn IoQueue>> {
        Ok(Box::new(queue::SyncQueue::new(depth)?))
    }
}

/// A shared file system handle.
pub type FsHandle = Arc<dyn Fs>;

/// Open a real-disk backend by kind. `sim` is not a real disk: build it with
/// [`sim::SimFs::new`], which needs a seed and a fault plan.
pub fn open_backend(kind: BackendKind) -> Result<FsHandle> {
    match kind {
        BackendKind::Std => Ok(Arc::new(posix::PosixFs::new())),
        BackendKind::Mmap => Ok(Arc::new(mmap::MmapFs::new())),
        BackendKind::Uring => Ok(Arc::new(uring::UringFs::new()?)),
        BackendKind::Sim => Ok(Arc::new(sim::SimFs::new(0, sim::SimConfig::default()))),
    }
}

/// `sync_data` every file, concurrently on a real disk: the device sees all the flushes at once
/// and the file system can commit them in one journal transaction, instead of one round trip
/// per file. On the `sim` backend (one thread, deterministic) they run in order. Fails with the
/// first error, after every sync has run.
pub fn sync_data_all(fs: &dyn Fs, files: &[&dyn File]) -> Result<()> {
    in_parallel(fs, files, |f| f.sync_data())
}

/// [`sync_data_all`] with each file's own result, in order: for a caller that can go on
/// without some of them (the object store, past a failing disk).
pub fn sync_data_each(fs: &dyn Fs, files: &[&dyn File]) -> Vec<Result<()>> {
    each_in_parallel(fs, files, |f| f.sync_data())
}

/// `sync_dir` every directory, concurrently on a real disk, each with its own result, in
/// order (no duplicates are merged: the caller gives each once).
pub fn sync_dirs_each(fs: &dyn Fs, dirs: &[PathBuf]) -> Vec<Result<()>> {
    each_in_parallel(fs, dirs, |d| fs.sync_dir(d))
}

/// Run a batch with its requests in flight together. `uring` does that in its own `submit`
/// (one submission); the `std` backend's `submit` runs requests one after another, which for
/// direct reads (no read-ahead to hide it) is one device round trip after another — so here
/// each request of a `std` batch runs on its own thread (`parallel::run_indexed`), as
/// `fio --numjobs` would. On the other backends (the simulator: one thread, deterministic),
/// and for one request, this is `fs.submit(ops)`. Results come back in request order.
pub fn submit_concurrent(fs: &dyn Fs, ops: &mut [IoOp<'_>]) -> Vec<Result<usize>> {
    if fs.kind() != BackendKind::Std || ops.len() < 2 {
        return fs.submit(ops);
    }
    let ops: Vec<std::sync::Mutex<&mut IoOp<'_>>> =
        ops.iter_mut().map(std::sync::Mutex::new).collect();
    crate::parallel::run_indexed(ops.len(), |i| {
        ops[i].lock().unwrap_or_else(|p| p.into_inner()).run_sync()
    })
}

/// `sync_dir` every directory (duplicates once), concurrently on a real disk as in
/// [`sync_data_all`].
pub fn sync_dirs(fs: &dyn Fs, dirs: &[PathBuf]) -> Result<()> {
    let unique: std::collections::BTreeSet<&PathBuf> = dirs.iter().collect();
    let unique: Vec<&PathBuf> = unique.into_iter().collect();
    in_parallel(fs, &unique, |d| fs.sync_dir(d))
}

/// Run `op` on every item: at once on real disks (`parallel::run_indexed`), in order on the
/// simulator.
fn in_parallel<T: Sync>(
    fs: &dyn Fs,
    items: &[T],
    op: impl Fn(&T) -> Result<()> + Sync,
) -> Result<()> {
    each_in_parallel(fs, items, op).into_iter().collect()
}

/// [`in_parallel`], every item's result in item order.
fn each_in_parallel<T: Sync>(
    fs: &dyn Fs,
    items: &[T],
    op: impl Fn(&T) -> Result<()> + Sync,
) -> Vec<Result<()>> {
    if fs.kind() == BackendKind::Sim || items.len() < 2 {
        return items.iter().map(&op).collect();
    }
    crate::parallel::run_indexed(items.len(), |i| op(&items[i]))
}

/// Write a whole file durably: create, write, sync the file, sync its parent directory.
pub fn write_file_durable(fs: &dyn Fs, path: &Path, data: &[u8]) -> Result<()> {
    let file = fs.open(path, OpenOptions::create_truncate())?;
    file.write_at(data, 0)?;
    file.sync_all()?;
    if let Some(parent) = path.parent() {
        fs.sync_dir(parent)?;
    }
    Ok(())
}

/// Create a directory and its missing parents so that they survive a crash: each directory
/// created is followed by a sync of its parent (a new directory's name is an entry in its parent,
/// durable only once the parent is synced).
pub fn create_dir_all_durable(fs: &dyn Fs, path: &Path) -> Result<()> {
    if fs.exists(path)? {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all_durable(fs, parent)?;
    }
    fs.create_dir_all(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs.sync_dir(parent)?;
    }
    Ok(())
}

/// Read a whole file into memory.
pub fn read_file(fs: &dyn Fs, path: &Path) -> Result<Vec<u8>> {
    let file = fs.open(path, OpenOptions::read_only())?;
    let len = file.len()?;
    let len = usize::try_from(len).map_err(|_| IoError::invalid("read", path, "file too large"))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, 0)?;
    Ok(buf)
}
