//! A streaming request queue: keep N requests in flight, reap the finished ones, refill.
//!
//! [`Fs::submit`](super::Fs::submit) takes a batch and waits for all of it, so between two
//! batches the device queue drains to zero. Workloads that want a steady queue depth (fio's
//! `iodepth`, a compaction reading ahead, a scan with read-ahead) need the other shape: push
//! until `depth` requests are in flight, wait for *some* to finish, push more.
//!
//! Requests own their buffers ([`AlignedBuf`]) and their file handle, and a completion hands
//! both back. So no borrow has to outlive a call, and the caller can recycle buffers.
//!
//! Every backend gets a queue from [`Fs::queue`](super::Fs::queue). The default,
//! [`SyncQueue`], runs each request to completion inside `push`: exact for `std`, `mmap` and
//! `sim` (their requests are synchronous calls anyway), and deterministic. The `uring` backend
//! returns a queue on its own ring that really keeps `depth` requests at the device.
//!
//! ```text
//! let mut queue = fs.queue(32)?;
//! while more work {
//!     while queue.in_flight() < queue.depth() { queue.push(request)?; }
//!     queue.reap(1, &mut done)?;            // at least one finished; recycle its buffer
//! }
//! queue.reap(queue.in_flight(), &mut done)?; // drain
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;

use super::{AlignedBuf, FileHandle, IoError, Result};

/// The deepest queue any backend accepts: a bound on memory held by in-flight requests.
pub const QUEUE_DEPTH_MAX: usize = 4096;

/// What a queued request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOp {
    /// Read `buf.len()` bytes at `offset` into `buf`.
    Read,
    /// Write all of `buf` at `offset`.
    Write,
}

/// One request: the queue owns it from `push` until its completion is reaped.
#[derive(Debug)]
pub struct QueueRequest {
    /// The file to read or write.
    pub file: FileHandle,
    /// Read or write.
    pub op: QueueOp,
    /// Byte offset in the file.
    pub offset: u64,
    /// The buffer: destination of a read, source of a write. Its length is the request size.
    pub buf: AlignedBuf,
    /// The caller's label for the request (an index, a start timestamp slot): returned as is.
    pub tag: u64,
}

/// A finished request, with its buffer and file handed back.
#[derive(Debug)]
pub struct QueueCompletion {
    /// The request as pushed (a read's buffer now holds the data).
    pub request: QueueRequest,
    /// Bytes transferred (a read is short only at end of file), or what went wrong.
    pub result: Result<usize>,
}

/// `push` on a full queue: the request comes back untouched. Reap, then push it again.
#[derive(Debug)]
pub struct QueueFull(pub QueueRequest);

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "I/O queue full: reap completions before pushing more")
    }
}

impl std::error::Error for QueueFull {}

/// A queue of up to [`depth`](IoQueue::depth) requests in flight. One thread uses a queue; make
/// one queue per thread.
pub trait IoQueue: Send + fmt::Debug {
    /// The most requests in flight (pushed and not yet reaped).
    fn depth(&self) -> usize;

    /// Requests pushed and not yet reaped (including finished ones waiting in the queue).
    fn in_flight(&self) -> usize;

    /// True when `push` runs each request to completion (the device sees depth 1 whatever
    /// [`depth`](IoQueue::depth) says). Benchmarks report it, and reap after every push so that
    /// a request's latency is not inflated by the ones pushed after it.
    fn completes_on_push(&self) -> bool {
        false
    }

    /// Queue a request. It may be sent to the device now or at the next `reap`. Invalid requests
    /// (misaligned direct I/O, a write to a read-only file) are not refused here: they complete
    /// with the error, so the buffer always comes back through `reap`.
    fn push(&mut self, request: QueueRequest) -> std::result::Result<(), QueueFull>;

    /// Wait until at least `min` requests (capped at [`in_flight`](IoQueue::in_flight)) have
    /// finished, and append every finished request to `out`. Returns how many were appended.
    fn reap(&mut self, min: usize, out: &mut Vec<QueueCompletion>) -> Result<usize>;
}

/// Check a requested depth; shared by every queue constructor.
pub(crate) fn check_depth(depth: usize) -> Result<()> {
    if depth == 0 || depth > QUEUE_DEPTH_MAX {
        return Err(IoError::invalid(
            "queue",
            Path::new("<queue>"),
            format!("queue depth must be between 1 and {QUEUE_DEPTH_MAX}, got {depth}"),
        ));
    }
    Ok(())
}

/// Run one request synchronously through the file's own methods.
pub(crate) fn run_request(request: &mut QueueRequest) -> Result<usize> {
    match request.op {
        QueueOp::Read => request.file.read_at(&mut request.buf, request.offset),
        QueueOp::Write => request
            .file
            .write_at(&request.buf, request.offset)
            .map(|()| request.buf.len()),
    }
}

/// The queue for backends whose requests are synchronous calls: `push` runs the request to
/// completion, `reap` hands back what `push` finished. The device sees depth 1, honestly.
#[derive(Debug)]
pub struct SyncQueue {
    depth: usize,
    done: VecDeque<QueueCompletion>,
}

impl SyncQueue {
    /// A queue holding up to `depth` finished, unreaped requests.
    pub fn new(depth: usize) -> Result<Self> {
        check_depth(depth)?;
        Ok(SyncQueue {
            depth,
            done: VecDeque::with_capacity(depth),
        })
    }
}

impl IoQueue for SyncQueue {
    fn depth(&self) -> usize {
        self.depth
    }

    fn in_flight(&self) -> usize {
        self.done.len()
    }

    fn completes_on_push(&self) -> bool {
        true
    }

    fn push(&mut self, mut request: QueueRequest) -> std::result::Result<(), QueueFull> {
        if self.done.len() >= self.depth {
            return Err(QueueFull(request));
        }
        let result = run_request(&mut request);
        self.done.push_back(QueueCompletion { request, result });
        Ok(())
    }

    fn reap(&mut self, _min: usize, out: &mut Vec<QueueCompletion>) -> Result<usize> {
        // Everything pushed has finished, so `min` is always met.
        let n = self.done.len();
        out.extend(self.done.drain(..));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{posix::PosixFs, Fs, OpenOptions};
    use std::sync::Arc;

    #[test]
    fn sync_queue_completes_on_push_and_refuses_past_depth() {
        let dir = tempfile::tempdir().unwrap();
        let fs = PosixFs::new();
        let file = fs
            .open(&dir.path().join("f"), OpenOptions::create_new())
            .unwrap();
        let mut queue = fs.queue(2).unwrap();
        for tag in 0..2u64 {
            let buf = AlignedBuf::from_slice(&[tag as u8 + 1; 4096]);
            let req = QueueRequest {
                file: Arc::clone(&file),
                op: QueueOp::Write,
                offset: tag * 4096,
                buf,
                tag,
            };
            queue.push(req).unwrap();
        }
        let extra = QueueRequest {
            file: Arc::clone(&file),
            op: QueueOp::Read,
            offset: 0,
            buf: AlignedBuf::zeroed(4096),
            tag: 9,
        };
        let QueueFull(back) = queue.push(extra).unwrap_err();
        assert_eq!(back.tag, 9);
        let mut out = Vec::new();
        assert_eq!(queue.reap(1, &mut out).unwrap(), 2);
        assert_eq!(queue.in_flight(), 0);
        assert!(out.iter().all(|c| matches!(c.result, Ok(4096))));
        queue.push(back).unwrap();
        out.clear();
        queue.reap(1, &mut out).unwrap();
        assert_eq!(out[0].result.as_ref().unwrap(), &4096);
        assert!(out[0].request.buf.iter().all(|&b| b == 1));
    }

    #[test]
    fn depth_is_bounded() {
        assert!(SyncQueue::new(0).is_err());
        assert!(SyncQueue::new(QUEUE_DEPTH_MAX + 1).is_err());
        assert!(SyncQueue::new(QUEUE_DEPTH_MAX).is_ok());
    }
}
