//! The `uring` backend: reads, writes and syncs through Linux io_uring.
//!
//! What it buys over `std`: a batch ([`Fs::submit`]) or a streaming queue
//! ([`Fs::queue`]) puts many requests in one `io_uring_enter` call, and the device works on all
//! of them at once. That is how an NVMe drive reaches its rated IOPS from one thread. Single
//! calls (`read_at`, `write_at`, `sync_data`, `sync_all`) go through a ring too, so that every
//! byte of a `uring` run takes the same path; they cost about what a `pread` does.
//!
//! Layout of the module:
//! - `op`: one request and its progress (short transfers and `EINTR`/`EAGAIN` are
//!   resubmitted for the rest), and the loop that drives a set of requests on a ring;
//! - `ring`: ring set-up, the explanation when io_uring is unavailable, and the
//!   pool that shares rings between threads (the module docs there say why a pool);
//! - `queue`: the streaming queue ([`UringQueue`]).
//!
//! Files are opened with the `std` backend's `open_std` (so `O_DIRECT` and its errors match)
//! and wrapped around a [`PosixFile`], whose checks (read-only handles, direct-I/O alignment)
//! and bookkeeping (append offset, length, truncate) are reused as they are.
//!
//! Not used, on purpose: registered files and buffers, and SQPOLL. Registered files save an
//! atomic reference count per request, invisible next to a device round trip; registered
//! buffers save pinning pages per request, which matters at millions of IOPS, not at the tens
//! of thousands a virtio or SATA disk does. `docs/benchmarks.md` has the measurements.

mod op;
pub mod queue;
mod ring;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::Arc;

use self::op::{drive, Pending};
pub use self::queue::UringQueue;
use self::ring::RingPool;
use super::posix::{real_dir_ops, PosixFile};
use super::{BackendKind, File, FileHandle, Fs, IoError, IoOp, IoQueue, OpenOptions, Result};

/// The io_uring file system. Cheap to share: every file it opens holds the ring pool.
#[derive(Debug)]
pub struct UringFs {
    rings: Arc<RingPool>,
}

impl UringFs {
    /// Set up the first ring. Fails with [`IoError::Unavailable`] saying why (kernel too old,
    /// io_uring disabled by sysctl, seccomp) and ending with "run with --io std".
    pub fn new() -> Result<Self> {
        Ok(UringFs {
            rings: Arc::new(RingPool::new()?),
        })
    }
}

impl Fs for UringFs {
    fn kind(&self) -> BackendKind {
        BackendKind::Uring
    }

    fn open(&self, path: &Path, opts: OpenOptions) -> Result<FileHandle> {
        Ok(Arc::new(UringFile {
            inner: PosixFile::open(path, opts)?,
            rings: Arc::clone(&self.rings),
        }))
    }

    real_dir_ops!();

    /// Every request goes into one ring (as many at once as it holds, the rest as earlier ones
    /// complete) with one `io_uring_enter` per round. Requests on files of other backends run
    /// synchronously; invalid requests fail alone without holding up the rest.
    fn submit(&self, ops: &mut [IoOp<'_>]) -> Vec<Result<usize>> {
        let mut results: Vec<Option<Result<usize>>> = (0..ops.len()).map(|_| None).collect();
        let mut pending: Vec<Pending> = Vec::with_capacity(ops.len());
        // For each entry of `pending`: the op's index, its file and the write's end offset.
        let mut owners: Vec<(usize, &UringFile, Option<u64>)> = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter_mut().enumerate() {
            let file = match op {
                IoOp::Read { file, .. } | IoOp::Write { file, .. } => *file,
            };
            let Some(file) = file.as_any().downcast_ref::<UringFile>() else {
                results[i] = Some(op.run_sync());
                continue;
            };
            // The request, checked as the `std` backend checks it, and a write's end offset.
            let checked = match op {
                IoOp::Read { offset, buf, .. } => file
                    .inner
                    .check_read(buf, *offset)
                    .map(|()| (Pending::read(file.fd(), buf, *offset), None)),
                IoOp::Write { offset, buf, .. } => {
                    file.inner.check_write("write", buf, *offset).map(|()| {
                        let end = *offset + buf.len() as u64;
                        (Pending::write(file.fd(), buf, *offset), Some(end))
                    })
                }
            };
            match checked {
                Ok((p, end)) => {
                    pending.push(p);
                    owners.push((i, file, end));
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !pending.is_empty() {
            if let Err(e) = self.rings.with_ring(|ring| drive(ring, &mut pending)) {
                let reason = e.to_string();
                for (i, _, _) in &owners {
                    results[*i] = Some(Err(IoError::Unavailable {
                        backend: "uring",
                        reason: reason.clone(),
                    }));
                }
                return results.into_iter().map(Option::unwrap).collect();
            }
        }
        for (p, (i, file, end)) in pending.iter_mut().zip(owners) {
            let op_name = if end.is_some() { "write" } else { "read" };
            let outcome = p.take_outcome().expect("drive finishes every request");
            results[i] = Some(match outcome {
                Ok(n) => {
                    if let Some(end) = end {
                        file.inner.note_written(end);
                    }
                    Ok(n)
                }
                Err(e) => Err(IoError::from_os(op_name, file.path(), e)),
            });
        }
        results
            .into_iter()
            .map(|r| r.expect("every op has a result"))
            .collect()
    }

    fn queue(&self, depth: usize) -> Result<Box<dyn IoQueue>> {
        Ok(Box::new(UringQueue::new(depth)?))
    }
}

/// An open file on the `uring` backend: a [`PosixFile`] whose reads, writes and syncs go
/// through a ring from the pool.
#[derive(Debug)]
pub struct UringFile {
    inner: PosixFile,
    rings: Arc<RingPool>,
}

impl UringFile {
    fn fd(&self) -> RawFd {
        self.inner.std_file().as_raw_fd()
    }

    /// Run one request on a pooled ring; OS errors are named with `op` and the path.
    fn run_one(&self, op: &'static str, mut p: Pending) -> Result<usize> {
        if let Some(done) = p.take_outcome() {
            return done.map_err(|e| IoError::from_os(op, self.path(), e));
        }
        self.rings
            .with_ring(|ring| drive(ring, std::slice::from_mut(&mut p)))?;
        p.take_outcome()
            .expect("drive finishes every request")
            .map_err(|e| IoError::from_os(op, self.path(), e))
    }

    /// The checks and bookkeeping shared with the `std` backend.
    pub(crate) fn posix(&self) -> &PosixFile {
        &self.inner
    }
}

impl File for UringFile {
    fn path(&self) -> &Path {
        self.inner.path()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.inner.check_read(buf, offset)?;
        self.run_one("read", Pending::read(self.fd(), buf, offset))
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.inner.check_write("write", buf, offset)?;
        debug_assert!(
            self.inner.is_writable(),
            "check_write refuses read-only handles"
        );
        let n = self.run_one("write", Pending::write(self.fd(), buf, offset))?;
        assert_eq!(n, buf.len(), "a finished write moved every byte");
        self.inner.note_written(offset + buf.len() as u64);
        Ok(())
    }

    fn append(&self, buf: &[u8]) -> Result<u64> {
        self.inner.append_with(buf, |buf, offset| {
            let n = self.run_one("append", Pending::write(self.fd(), buf, offset))?;
            assert_eq!(n, buf.len(), "a finished write moved every byte");
            Ok(())
        })
    }

    fn sync_data(&self) -> Result<()> {
        self.run_one("sync_data", Pending::sync(self.fd(), true))
            .map(|_| ())
    }

    fn sync_all(&self) -> Result<()> {
        self.run_one("sync_all", Pending::sync(self.fd(), false))
            .map(|_| ())
    }

    fn len(&self) -> Result<u64> {
        self.inner.len()
    }

    fn truncate(&self, len: u64) -> Result<()> {
        self.inner.truncate(len)
    }

    fn punch_hole(&self, offset: u64, len: u64) -> Result<()> {
        self.inner.punch_hole(offset, len)
    }

    fn next_data(&self, offset: u64) -> Result<Option<u64>> {
        self.inner.next_data(offset)
    }

    fn is_direct(&self) -> bool {
        self.inner.is_direct()
    }

    fn still_linked(&self) -> Option<bool> {
        self.inner.still_linked()
    }

    fn read_cached(&self, buf: &mut [u8], offset: u64) -> bool {
        // A plain `preadv2`: a read served from memory gains nothing from a ring round trip.
        self.inner.read_cached(buf, offset)
    }

    fn will_need(&self, offset: u64, len: u64) {
        self.inner.will_need(offset, len)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
