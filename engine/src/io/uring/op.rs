//! One request on a ring, and the loop that drives a set of them to completion.
//!
//! The kernel may complete a read or write with fewer bytes than asked (a signal, a page-cache
//! boundary, a request larger than one SQE can carry), or with `-EINTR`/`-EAGAIN`. A [`Pending`]
//! remembers how far its request got and builds the SQE for the rest, so every caller (single
//! operations, [`Fs::submit`](crate::io::Fs::submit) batches and the streaming queue) shares one
//! state machine for "resubmit what is left".

use std::io;
use std::os::fd::RawFd;

use io_uring::{opcode, squeue, types, IoUring};

/// The most bytes one SQE carries: the ring's length field is a `u32`, and a gigabyte per
/// request keeps each completion prompt. Longer requests go out as several SQEs in sequence.
pub(crate) const SQE_BYTES_MAX: usize = 1 << 30;

/// How often one request may come back with `EINTR`/`EAGAIN` before we give up on it.
const RETRIES_MAX: u32 = 1_000;

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    /// `fsync`, or `fdatasync` when `data_only`.
    Sync {
        data_only: bool,
    },
}

/// A request and its progress. It holds a raw pointer into a buffer the caller keeps alive (and
/// does not touch) until the request is finished; every user of `Pending` upholds that.
#[derive(Debug)]
pub(crate) struct Pending {
    fd: RawFd,
    kind: Kind,
    ptr: *mut u8,
    len: usize,
    offset: u64,
    /// Bytes transferred so far.
    done: usize,
    retries: u32,
    /// `Some` once the request has finished: bytes transferred, or the OS error.
    outcome: Option<Result<usize, io::Error>>,
}

// SAFETY: the raw pointer names a buffer whose owner hands it over for the request's lifetime
// (a `&mut [u8]` borrowed for the call, or an `AlignedBuf` owned by the queue slot).
unsafe impl Send for Pending {}

/// What a completion means for its request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Finished (successfully or not); see [`Pending::take_outcome`].
    Finished,
    /// Part of it is left: push [`Pending::sqe`] again.
    Resubmit,
}

impl Pending {
    /// A read into `buf` at `offset`.
    pub(crate) fn read(fd: RawFd, buf: &mut [u8], offset: u64) -> Self {
        Self::new(fd, Kind::Read, buf.as_mut_ptr(), buf.len(), offset)
    }

    /// A write of `buf` at `offset`. The kernel only reads through the pointer.
    pub(crate) fn write(fd: RawFd, buf: &[u8], offset: u64) -> Self {
        Self::new(fd, Kind::Write, buf.as_ptr().cast_mut(), buf.len(), offset)
    }

    /// An `fsync` (`data_only`: `fdatasync`).
    pub(crate) fn sync(fd: RawFd, data_only: bool) -> Self {
        Self::new(fd, Kind::Sync { data_only }, std::ptr::null_mut(), 0, 0)
    }

    fn new(fd: RawFd, kind: Kind, ptr: *mut u8, len: usize, offset: u64) -> Self {
        let mut p = Pending {
            fd,
            kind,
            ptr,
            len,
            offset,
            done: 0,
            retries: 0,
            outcome: None,
        };
        // Nothing to transfer: finished before it starts (the kernel would say 0 anyway, and a
        // zero-length write completing with 0 must not read as "no progress").
        if len == 0 && !matches!(kind, Kind::Sync { .. }) {
            p.outcome = Some(Ok(0));
        }
        p
    }

    /// Whether the request has finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// The result, once finished: bytes transferred (short only for a read at end of file).
    pub(crate) fn take_outcome(&mut self) -> Option<Result<usize, io::Error>> {
        self.outcome.take()
    }

    /// The next SQE's length and file offset: what is left, capped at [`SQE_BYTES_MAX`]. (Its
    /// buffer starts `done` bytes into the caller's.)
    fn next_chunk(&self) -> (usize, u64) {
        (
            (self.len - self.done).min(SQE_BYTES_MAX),
            self.offset + self.done as u64,
        )
    }

    /// The SQE for what is left of the request.
    pub(crate) fn sqe(&self, user_data: u64) -> squeue::Entry {
        debug_assert!(
            self.outcome.is_none(),
            "finished requests are not resubmitted"
        );
        debug_assert!(self.done < self.len || self.len == 0);
        let fd = types::Fd(self.fd);
        let (rest, offset) = self.next_chunk();
        let entry = match self.kind {
            Kind::Read => {
                // SAFETY: pointer arithmetic within the caller's buffer: done < len.
                let ptr = unsafe { self.ptr.add(self.done) };
                opcode::Read::new(fd, ptr, rest as u32)
                    .offset(offset)
                    .build()
            }
            Kind::Write => {
                // SAFETY: as above.
                let ptr = unsafe { self.ptr.add(self.done) };
                opcode::Write::new(fd, ptr.cast_const(), rest as u32)
                    .offset(offset)
                    .build()
            }
            Kind::Sync { data_only } => {
                let flags = if data_only {
                    types::FsyncFlags::DATASYNC
                } else {
                    types::FsyncFlags::empty()
                };
                opcode::Fsync::new(fd).flags(flags).build()
            }
        };
        entry.user_data(user_data)
    }

    /// Account for one completion with result `res` (bytes, or `-errno`).
    pub(crate) fn on_complete(&mut self, res: i32) -> Step {
        assert!(
            self.outcome.is_none(),
            "a completion for a finished request"
        );
        if res < 0 {
            let errno = -res;
            if (errno == libc::EINTR || errno == libc::EAGAIN) && self.retries < RETRIES_MAX {
                self.retries += 1;
                return Step::Resubmit;
            }
            self.outcome = Some(Err(io::Error::from_raw_os_error(errno)));
            return Step::Finished;
        }
        let n = res as usize;
        match self.kind {
            Kind::Sync { .. } => {
                self.outcome = Some(Ok(0));
                Step::Finished
            }
            Kind::Read if n == 0 => {
                // End of file: a read is short only here.
                self.outcome = Some(Ok(self.done));
                Step::Finished
            }
            Kind::Write if n == 0 => {
                self.outcome = Some(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("the kernel wrote 0 of {} bytes", self.len - self.done),
                )));
                Step::Finished
            }
            Kind::Read | Kind::Write => {
                assert!(
                    n <= self.len - self.done,
                    "the kernel moved more bytes than asked"
                );
                self.done += n;
                if self.done == self.len {
                    self.outcome = Some(Ok(self.done));
                    Step::Finished
                } else {
                    Step::Resubmit
                }
            }
        }
    }
}

/// Run every unfinished request in `ops` on `ring` until all have finished, keeping the ring
/// as full as it can hold: requests beyond the ring's size are pushed as earlier ones complete,
/// and short ones are resubmitted for the rest. User data is the request's index.
///
/// Returns only when the kernel holds no pointer into any request's buffer; each request's
/// result is in its `Pending`. (Should the ring itself keep failing with requests in flight,
/// the process aborts: see [`abort_in_flight`].)
pub(crate) fn drive(ring: &mut IoUring, ops: &mut [Pending]) {
    let capacity = ring.params().sq_entries() as usize;
    assert!(capacity > 0);
    let mut next = 0usize; // the first request never pushed yet
    let mut again: Vec<usize> = Vec::new(); // requests to resubmit (partial or interrupted)
    let mut in_flight = 0usize; // pushed and not yet completed
    let mut enter_failures = 0u32;
    // Each round completes at least one request (or is one of a bounded number of failed
    // enters), and each request resubmits a bounded number of times: the loop ends.
    loop {
        {
            let mut sq = ring.submission();
            while in_flight < capacity {
                let index = match again.pop() {
                    Some(i) => i,
                    None => {
                        while next < ops.len() && ops[next].is_finished() {
                            next += 1;
                        }
                        if next == ops.len() {
                            break;
                        }
                        next += 1;
                        next - 1
                    }
                };
                let entry = ops[index].sqe(index as u64);
                // SAFETY: the buffer behind the entry stays alive and untouched until its
                // completion is reaped below; we do not return while anything is in flight.
                unsafe { sq.push(&entry) }.expect("in_flight < capacity leaves room in the SQ");
                in_flight += 1;
            }
        }
        if in_flight == 0 {
            return;
        }
        match ring.submit_and_wait(1) {
            Ok(_) => enter_failures = 0,
            Err(e) if is_transient(&e) => {}
            Err(e) => {
                enter_failures += 1;
                if enter_failures > 100 {
                    // Requests are in flight with pointers into the caller's buffers: returning
                    // (or unwinding) would let the kernel write into freed memory.
                    abort_in_flight(&e);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        for cqe in ring.completion() {
            let index = cqe.user_data() as usize;
            assert!(
                index < ops.len(),
                "completion for an unknown request {index}"
            );
            in_flight -= 1;
            if ops[index].on_complete(cqe.result()) == Step::Resubmit {
                again.push(index);
            }
        }
    }
}

/// `io_uring_enter` errors that mean "try again": a signal, or a full completion queue.
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR) | Some(libc::EAGAIN) | Some(libc::EBUSY)
    )
}

/// The ring failed while the kernel holds pointers into live buffers. Memory safety outranks
/// availability: stop the process with a message rather than risk silent corruption.
pub(crate) fn abort_in_flight(e: &io::Error) -> ! {
    eprintln!(
        "seedbed: io_uring failed with requests in flight ({e}); aborting to keep memory safe"
    );
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_transfers_resubmit_the_rest() {
        let mut buf = vec![0u8; 10_000];
        let mut p = Pending::read(3, &mut buf, 100);
        assert_eq!(p.on_complete(4096), Step::Resubmit);
        // The next SQE starts where the first stopped.
        assert_eq!(p.next_chunk(), (10_000 - 4096, 100 + 4096));
        assert_eq!(p.on_complete(-libc::EINTR), Step::Resubmit);
        assert_eq!(p.on_complete(-libc::EAGAIN), Step::Resubmit);
        assert_eq!(p.on_complete(5904), Step::Finished);
        assert_eq!(p.take_outcome().unwrap().unwrap(), 10_000);
    }

    #[test]
    fn a_read_that_meets_end_of_file_finishes_short() {
        let mut buf = vec![0u8; 8192];
        let mut p = Pending::read(3, &mut buf, 0);
        assert_eq!(p.on_complete(5000), Step::Resubmit);
        assert_eq!(p.on_complete(0), Step::Finished);
        assert_eq!(p.take_outcome().unwrap().unwrap(), 5000);
    }

    #[test]
    fn a_write_of_zero_bytes_is_an_error_not_a_loop() {
        let buf = vec![1u8; 4096];
        let mut p = Pending::write(3, &buf, 0);
        assert_eq!(p.on_complete(0), Step::Finished);
        let err = p.take_outcome().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn errors_finish_and_retries_are_bounded() {
        let mut buf = vec![0u8; 4096];
        let mut p = Pending::read(3, &mut buf, 0);
        assert_eq!(p.on_complete(-libc::EIO), Step::Finished);
        assert_eq!(
            p.take_outcome().unwrap().unwrap_err().raw_os_error(),
            Some(libc::EIO)
        );

        let mut p = Pending::read(3, &mut buf, 0);
        let mut rounds = 0;
        while p.on_complete(-libc::EAGAIN) == Step::Resubmit {
            rounds += 1;
            assert!(rounds <= RETRIES_MAX);
        }
        assert_eq!(
            p.take_outcome().unwrap().unwrap_err().raw_os_error(),
            Some(libc::EAGAIN)
        );
    }

    #[test]
    fn zero_length_requests_finish_without_the_kernel() {
        let mut p = Pending::read(3, &mut [], 0);
        assert!(p.is_finished());
        assert_eq!(p.take_outcome().unwrap().unwrap(), 0);
        assert!(!Pending::sync(3, true).is_finished());
    }

    #[test]
    fn one_sqe_carries_at_most_a_gigabyte() {
        // Not allocating 2 GiB: the SQE only records pointer and length.
        let mut byte = [0u8; 1];
        let mut p = Pending::new(3, Kind::Read, byte.as_mut_ptr(), 2 * SQE_BYTES_MAX + 5, 0);
        assert_eq!(p.next_chunk(), (SQE_BYTES_MAX, 0));
        assert_eq!(p.on_complete(SQE_BYTES_MAX as i32), Step::Resubmit);
        assert_eq!(p.on_complete(SQE_BYTES_MAX as i32), Step::Resubmit);
        assert_eq!(p.next_chunk(), (5, 2 * SQE_BYTES_MAX as u64));
    }
}
