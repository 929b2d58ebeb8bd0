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
    /// The most rings this pool creates ([`RINGS_MAX`] outside tests).
    rings_max: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<IoUring>,
    /// Rings that exist: idle plus checked out. At most [`RINGS_MAX`].
    created: usize,
    /// Threads waiting for a ring. `Condvar::notify_one` is a futex system call even with no
    /// waiter, so `give_back` only calls it when someone waits: one syscall less per request.
    waiters: usize,
}

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolState")
            .field("idle", &self.idle.len())
            .field("created", &self.created)
            .field("waiters", &self.waiters)
            .finish()
    }
}

impl RingPool {
    /// A pool holding one ring, made now so that an unusable io_uring is reported at start-up.
    pub(crate) fn new() -> Result<Self> {
        Self::with_limit(RINGS_MAX)
    }

    /// A pool creating at most `rings_max` rings.
    pub(crate) fn with_limit(rings_max: usize) -> Result<Self> {
        assert!(rings_max >= 1);
        let first = new_ring(POOL_RING_ENTRIES)?;
        Ok(RingPool {
            rings_max,
            state: Mutex::new(PoolState {
                idle: vec![first],
                created: 1,
                waiters: 0,
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
        /// Should `f` panic, the ring (in an unknown state) is closed instead of pooled, and its
        /// place freed so that waiting threads can make a new one.
        struct Lost<'a>(&'a RingPool);
        impl Drop for Lost<'_> {
            fn drop(&mut self) {
                let mut state = self.0.lock();
                state.created -= 1;
                let waiting = state.waiters > 0;
                drop(state);
                if waiting {
                    self.0.returned.notify_one();
                }
            }
        }
        let mut ring = self.checkout()?;
        let lost = Lost(self);
        let result = f(&mut ring);
        std::mem::forget(lost);
        self.give_back(ring);
        Ok(result)
    }

    fn checkout(&self) -> Result<IoUring> {
        let mut state = self.lock();
        loop {
            if let Some(ring) = state.idle.pop() {
                return Ok(ring);
            }
            if state.created < self.rings_max {
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
            state = self.wait(state);
        }
    }

    /// Wait for a ring to be given back, counted in `waiters` so `give_back` knows to wake us.
    fn wait<'a>(&'a self, mut state: MutexGuard<'a, PoolState>) -> MutexGuard<'a, PoolState> {
        state.waiters += 1;
        let mut state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        state.waiters -= 1;
        state
    }

    fn wait_for_idle(&self) -> Result<IoUring> {
        let mut state = self.lock();
        loop {
            if let Some(ring) = state.idle.pop() {
                return Ok(ring);
            }
            state = self.wait(state);
        }
    }

    fn give_back(&self, ring: IoUring) {
        let mut state = self.lock();
        assert!(
            state.idle.len() < state.created,
            "more idle rings than created"
        );
        state.idle.push(ring);
        let waiting = state.waiters > 0;
        drop(state);
        if waiting {
            self.returned.notify_one();
        }
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
    fn threads_beyond_the_limit_wait_for_a_ring_and_all_finish() {
        let pool = RingPool::with_limit(2).unwrap();
        let used = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..50 {
                        pool.with_ring(|ring| {
                            assert!(ring.params().sq_entries() >= POOL_RING_ENTRIES);
                            used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            std::thread::yield_now();
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(used.into_inner(), 300);
        assert!(pool.created() <= 2);
        let state = pool.lock();
        assert_eq!(state.idle.len(), state.created, "every ring came back");
        assert_eq!(state.waiters, 0);
    }

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
