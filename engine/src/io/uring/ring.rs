//! Setting up rings, explaining why one cannot be set up, and sharing them between threads.
//!
//! # Why a pool of rings, not one ring behind a mutex
//!
//! A [`File`](crate::io::File) is shared between threads (readers, the WAL writer, compaction
//! threads), and a ring is a single-producer structure. One ring behind a mutex would have to be
//! held from submission to completion, so a thread waiting 100 µs for its read would stall every
//! other thread's I/O: the device would see queue depth 1 however many threads ask. Splitting
//! the lock (submit under it, then hand completions to whoever waits for them) is a small event
//! loop of its own. A thread-local ring per thread is fast but ties rings to threads the engine
//! does not own and leaks them when short-lived threads end.
//!
//! So the backend keeps a pool: an operation checks out an idle ring (creating one if none is
//! idle and fewer than [`RINGS_MAX`] exist), owns it exclusively while its requests are in
//! flight, and puts it back. The mutex is held for a `Vec::pop`/`push` only. Threads doing I/O
//! at the same time each get their own ring, so the device sees their requests concurrently;
//! a single-threaded caller reuses one warm ring forever.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};

use io_uring::{opcode, IoUring, Probe};

use crate::io::{IoError, Result};

/// Submission-queue entries per pooled ring: how many requests of one batch are in flight at
/// once. 256 is deeper than any single device queue benefits from on this machine and costs
/// 24 KiB of ring memory (64-byte SQEs, 16-byte CQEs, twice as many CQEs as SQEs).
pub(crate) const POOL_RING_ENTRIES: u32 = 256;

/// The most rings one pool creates: the number of threads that can do I/O at the same moment.
/// Beyond it, threads wait for a ring to come back.
pub(crate) const RINGS_MAX: usize = 64;

/// Create a ring of `entries` submission slots, checking the kernel supports the opcodes the
/// backend uses. The error explains why the ring is unavailable and what to do.
pub(crate) fn new_ring(entries: u32) -> Result<IoUring> {
    assert!(entries > 0);
    let ring = IoUring::new(entries).map_err(setup_error)?;
    let mut probe = Probe::new();
    // Probing needs Linux 5.6; an older kernel fails here, and lacks IORING_OP_READ anyway.
    if ring.submitter().register_probe(&mut probe).is_err() {
        return Err(unavailable(format!(
            "the kernel ({}) cannot probe io_uring opcodes: Linux 5.6 or newer is needed",
            kernel_release()
        )));
    }
    for (code, name) in [
        (opcode::Read::CODE, "IORING_OP_READ"),
        (opcode::Write::CODE, "IORING_OP_WRITE"),
        (opcode::Fsync::CODE, "IORING_OP_FSYNC"),
    ] {
        if !probe.is_supported(code) {
            return Err(unavailable(format!(
                "the kernel ({}) does not support {name}: Linux 5.6 or newer is needed",
                kernel_release()
            )));
        }
    }
    Ok(ring)
}

/// Turn an `io_uring_setup` failure into an explanation.
pub(crate) fn setup_error(e: io::Error) -> IoError {
    let reason = match e.raw_os_error() {
        Some(libc::ENOSYS) => format!(
            "io_uring_setup is not implemented: the kernel ({}) is too old (io_uring needs \
             Linux 5.6+) or was built without CONFIG_IO_URING",
            kernel_release()
        ),
        Some(libc::EPERM) | Some(libc::EACCES) => match read_disabled_sysctl() {
            Some(v) if v == "2" => "io_uring is disabled for every process: \
                                    /proc/sys/kernel/io_uring_disabled = 2"
                .to_string(),
            Some(v) if v == "1" => {
                "io_uring is restricted: /proc/sys/kernel/io_uring_disabled = 1 \
                                    (only root and members of kernel.io_uring_group may use it)"
                    .to_string()
            }
            Some(v) => format!(
                "io_uring_setup was refused (/proc/sys/kernel/io_uring_disabled = {v}): a seccomp \
                 filter or container policy blocks it (Docker's default profile does)"
            ),
            None => "io_uring_setup was refused: a seccomp filter or container policy blocks it \
                     (Docker's default profile does)"
                .to_string(),
        },
        Some(libc::ENOMEM) => "io_uring_setup ran out of memory: the locked-memory limit \
                               (ulimit -l) is too low for the ring on this kernel"
            .to_string(),
        _ => format!("io_uring_setup failed: {e}"),
    };
    unavailable(reason)
}

fn unavailable(reason: String) -> IoError {
    IoError::Unavailable {
        backend: "uring",
        reason: format!("{reason}; run with --io std"),
    }
}

fn read_disabled_sysctl() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .map(|s| s.trim().to_string())
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "unknown version".to_string())
}

/// Rings shared by every file of one [`UringFs`](super::UringFs); see the module docs.
#[derive(Debug)]
pub(crate) struct RingPool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<IoUring>,
    /// Rings that exist: idle plus checked out. At most [`RINGS_MAX`].
    created: usize,
}

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolState")
            .field("idle", &self.idle.len())
            .field("created", &self.created)
            .finish()
    }
}

impl RingPool {
    /// A pool holding one ring, made now so that an unusable io_uring is reported at start-up.
    pub(crate) fn new() -> Result<Self> {
        let first = new_ring(POOL_RING_ENTRIES)?;
        Ok(RingPool {
            state: Mutex::new(PoolState {
                idle: vec![first],
                created: 1,
            }),
            returned: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic while holding the lock cannot leave the Vec half-updated; carry on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` with a ring this thread owns until `f` returns.
    pub(crate) fn with_ring<R>(&self, f: impl FnOnce(&mut IoUring) -> R) -> Result<R> {
        let mut ring = self.checkout()?;
        let result = f(&mut ring);
        self.give_back(ring);
        Ok(result)
    }

    fn checkout(&self) -> Result<IoUring> {
        let mut state = self.lock();
        loop {
            if let Some(ring) = state.idle.pop() {
                return Ok(ring);
            }
            if state.created < RINGS_MAX {
                state.created += 1;
                drop(state);
                return match new_ring(POOL_RING_ENTRIES) {
                    Ok(ring) => Ok(ring),
                    Err(e) => {
                        let mut state = self.lock();
                        state.created -= 1;
                        if state.created == 0 {
                            return Err(e);
                        }
                        // Other rings exist (the limit may be memory): wait for one of them.
                        drop(state);
                        self.wait_for_idle()
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn wait_for_idle(&self) -> Result<IoUring> {
        let mut state = self.lock();
        loop {
            if let Some(ring) = state.idle.pop() {
                return Ok(ring);
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give_back(&self, ring: IoUring) {
        let mut state = self.lock();
        assert!(
            state.idle.len() < state.created,
            "more idle rings than created"
        );
        state.idle.push(ring);
        drop(state);
        self.returned.notify_one();
    }

    /// How many rings exist (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn created(&self) -> usize {
        self.lock().created
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_errors_explain_and_end_with_the_hint() {
        for errno in [libc::ENOSYS, libc::EPERM, libc::ENOMEM, libc::EINVAL] {
            let err = setup_error(io::Error::from_raw_os_error(errno));
            let text = err.to_string();
            assert!(text.starts_with("uring backend unavailable: "), "{text}");
            assert!(text.ends_with("run with --io std"), "{text}");
        }
        let enosys = setup_error(io::Error::from_raw_os_error(libc::ENOSYS)).to_string();
        assert!(enosys.contains("too old"), "{enosys}");
        let eperm = setup_error(io::Error::from_raw_os_error(libc::EPERM)).to_string();
        assert!(
            eperm.contains("io_uring_disabled") || eperm.contains("seccomp"),
            "{eperm}"
        );
    }
}
