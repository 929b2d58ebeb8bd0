//! The `uring` streaming queue: up to `depth` requests at the device, continuously.
//!
//! `push` validates a request, parks it in a slot (the slot owns the buffer while the kernel
//! uses it), writes its SQE into the submission ring and submits it at once. `reap` waits for
//! completions (submitting whatever is still queued in the same `io_uring_enter`); after handing
//! completions back it submits any resubmissions (the rest of a short transfer) so the device
//! stays busy while the caller works. The queue has its own ring (not one from the pool)
//! because it lives as long as its user wants requests in flight.
//!
//! Why one `io_uring_enter` per push instead of batching pushes until `reap`: measured on a
//! virtio disk (docs/benchmarks.md), deferring submission to `reap` lets the device queue drain
//! while the caller refills it, and the whole refill reaches the device only after the last
//! request of the batch is prepared. Submitting at push (what fio does by default,
//! `iodepth_batch_submit=1`) gave 61–73k instead of 53–66k IOPS at depth 32, and a p50 of
//! 313–321 µs instead of 432–436 µs. On devices fast enough that the system call per request
//! shows, batching submissions is the knob to add (fio's `iodepth_batch_submit`).
//! [`Fs::submit`](crate::io::Fs::submit) batches still go out in one call.

use std::collections::VecDeque;
use std::os::fd::AsRawFd;

use io_uring::IoUring;

use super::op::{is_transient, Pending, Step};
use super::ring::new_ring;
use super::UringFile;
use crate::io::queue::{check_depth, run_request};
use crate::io::{IoError, IoQueue, QueueCompletion, QueueFull, QueueOp, QueueRequest, Result};

/// A request at the kernel: the queue owns its buffer until the completion comes back.
#[derive(Debug)]
struct Slot {
    request: QueueRequest,
    pending: Pending,
}

/// A streaming queue on its own ring; see the module docs.
pub struct UringQueue {
    ring: IoUring,
    depth: usize,
    /// `slots[i]` is the request whose SQE carries user data `i`.
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// Requests at the kernel (their SQE pushed, their last completion not yet seen).
    at_kernel: usize,
    /// Finished requests not yet handed back.
    ready: VecDeque<QueueCompletion>,
}

impl std::fmt::Debug for UringQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringQueue")
            .field("depth", &self.depth)
            .field("at_kernel", &self.at_kernel)
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}

impl UringQueue {
    /// A queue keeping up to `depth` requests (1..=[`QUEUE_DEPTH_MAX`]) in flight.
    ///
    /// [`QUEUE_DEPTH_MAX`]: crate::io::queue::QUEUE_DEPTH_MAX
    pub fn new(depth: usize) -> Result<Self> {
        check_depth(depth)?;
        // The SQ holds every request at once, so a push never finds it full.
        let entries = depth.next_power_of_two() as u32;
        let ring = new_ring(entries)?;
        assert!(ring.params().sq_entries() as usize >= depth);
        Ok(UringQueue {
            ring,
            depth,
            slots: (0..depth).map(|_| None).collect(),
            free: (0..depth).rev().collect(),
            at_kernel: 0,
            ready: VecDeque::with_capacity(depth),
        })
    }

    fn push_sqe(&mut self, index: usize) {
        let slot = self.slots[index].as_ref().expect("slot in use");
        let entry = slot.pending.sqe(index as u64);
        // SAFETY: the slot owns the buffer (an AlignedBuf, whose heap bytes do not move) and
        // keeps it until the request's final completion is reaped; drop waits for that too.
        unsafe { self.ring.submission().push(&entry) }.expect("the SQ has room for every slot");
    }

    fn finish(&mut self, index: usize) {
        let Slot {
            request,
            mut pending,
        } = self.slots[index].take().expect("slot in use");
        self.free.push(index);
        let outcome = pending.take_outcome().expect("finished");
        let op_name = match request.op {
            QueueOp::Read => "read",
            QueueOp::Write => "write",
        };
        let result = match outcome {
            Ok(n) => {
                if request.op == QueueOp::Write {
                    if let Some(f) = request.file.as_any().downcast_ref::<UringFile>() {
                        f.posix().note_written(request.offset + n as u64);
                    }
                }
                Ok(n)
            }
            Err(e) => Err(IoError::from_os(op_name, request.file.path(), e)),
        };
        self.ready.push_back(QueueCompletion { request, result });
    }

    /// Account for every completion in the CQ; with `resubmit`, push the rest of short ones.
    fn harvest(&mut self, resubmit: bool) {
        let mut again: Vec<usize> = Vec::new();
        let mut finished: Vec<usize> = Vec::new();
        for cqe in self.ring.completion() {
            let index = cqe.user_data() as usize;
            assert!(
                index < self.slots.len(),
                "completion for unknown slot {index}"
            );
            let slot = self.slots[index]
                .as_mut()
                .expect("completion for an empty slot");
            self.at_kernel -= 1;
            match slot.pending.on_complete(cqe.result()) {
                Step::Finished => finished.push(index),
                Step::Resubmit if resubmit => again.push(index),
                Step::Resubmit => {}
            }
        }
        for index in finished {
            self.finish(index);
        }
        for index in again {
            self.push_sqe(index);
            self.at_kernel += 1;
        }
    }
}

impl IoQueue for UringQueue {
    fn depth(&self) -> usize {
        self.depth
    }

    fn in_flight(&self) -> usize {
        self.depth - self.free.len() + self.ready.len()
    }

    fn push(&mut self, mut request: QueueRequest) -> std::result::Result<(), QueueFull> {
        if self.in_flight() >= self.depth {
            return Err(QueueFull(request));
        }
        let Some(file) = request.file.as_any().downcast_ref::<UringFile>() else {
            // A file of another backend: its own synchronous path.
            let result = run_request(&mut request);
            self.ready.push_back(QueueCompletion { request, result });
            return Ok(());
        };
        let fd = file.posix().std_file().as_raw_fd();
        let checked = match request.op {
            QueueOp::Read => file
                .posix()
                .check_read(&request.buf, request.offset)
                .map(|()| Pending::read(fd, &mut request.buf, request.offset)),
            QueueOp::Write => file
                .posix()
                .check_write("write", &request.buf, request.offset)
                .map(|()| Pending::write(fd, &request.buf, request.offset)),
        };
        let mut pending = match checked {
            Ok(p) => p,
            Err(e) => {
                self.ready.push_back(QueueCompletion {
                    request,
                    result: Err(e),
                });
                return Ok(());
            }
        };
        if let Some(outcome) = pending.take_outcome() {
            // Zero-length: finished without the kernel.
            let result = outcome.map_err(|e| IoError::from_os("read", request.file.path(), e));
            self.ready.push_back(QueueCompletion { request, result });
            return Ok(());
        }
        let index = self
            .free
            .pop()
            .expect("in_flight < depth leaves a free slot");
        self.slots[index] = Some(Slot { request, pending });
        self.push_sqe(index);
        self.at_kernel += 1;
        // Submit now rather than at the next `reap` (see the module docs for the measurement).
        // A failed submit leaves the SQE in the ring; `reap` submits it and reports errors.
        let _ = self.ring.submit();
        Ok(())
    }

    fn reap(&mut self, min: usize, out: &mut Vec<QueueCompletion>) -> Result<usize> {
        let want = min.min(self.in_flight());
        self.harvest(true);
        let mut enter_failures = 0u32;
        // Each round either finishes a request, resubmits one (bounded per request), or is a
        // transient enter failure (bounded below).
        while self.ready.len() < want {
            assert!(
                self.at_kernel > 0,
                "waiting for completions with nothing at the kernel"
            );
            let needed = (want - self.ready.len()).min(self.at_kernel);
            match self.ring.submit_and_wait(needed) {
                Ok(_) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    enter_failures += 1;
                    if enter_failures > 100 {
                        return Err(IoError::Os {
                            op: "reap",
                            path: "<io_uring queue>".into(),
                            source: e,
                        });
                    }
                }
            }
            self.harvest(true);
        }
        // Send resubmissions (and anything pushed meanwhile) without waiting.
        if !self.ring.submission().is_empty() {
            if let Err(e) = self.ring.submit() {
                if !is_transient(&e) {
                    return Err(IoError::Os {
                        op: "reap",
                        path: "<io_uring queue>".into(),
                        source: e,
                    });
                }
            }
        }
        let n = self.ready.len();
        out.extend(self.ready.drain(..));
        Ok(n)
    }
}

impl Drop for UringQueue {
    fn drop(&mut self) {
        // The kernel may hold pointers into slot buffers: wait for every request before the
        // buffers are freed. Results are dropped; nobody asked for them.
        let mut failures = 0u32;
        while self.at_kernel > 0 {
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) => {
                    failures += 1;
                    if failures > 100 {
                        // Leak the buffers rather than free memory the kernel may still
                        // write; closing the ring then cancels what is left.
                        eprintln!(
                            "seedbed: io_uring queue could not drain ({e}); leaking its buffers"
                        );
                        std::mem::forget(std::mem::take(&mut self.slots));
                        return;
                    }
                }
            }
            self.harvest(false);
        }
    }
}
