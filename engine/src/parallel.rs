//! Fan-out on reused threads: how the engine issues independent blocking calls at once on a
//! real disk — the `fdatasync` of every file of a pack (`io::sync_data_all`), the commit to
//! every metadata copy (`object/replicated.rs`), the requests of a `std` I/O batch
//! (`io::submit_concurrent`), and the many deletes of a DeleteObjects request or a lifecycle
//! pass (`map_indexed`), so that group commit (`commit_gate.rs`) can gather them.
//!
//! Why a pool: these calls used to run on `std::thread::scope` threads, started and joined
//! for every call — a 4 KiB PUT started eleven (five for the pack's syncs, six for the
//! metadata copies), and a scope of five spawns costs ~150 µs of CPU on the 2-vCPU test VM,
//! a large share of a 1.2 ms PUT. Here a thread that finishes a job waits for the next one
//! (and exits after [`IDLE_EXIT`] without work), so a fan-out costs a wake-up per job.
//!
//! Every job gets a thread at once: if no pooled thread is idle, a new one starts. So a job
//! never waits for another job, and nesting (a job that fans out again) cannot deadlock —
//! the semantics of scoped threads, without their start-up cost. Not a work-stealing pool
//! (rayon): a caller blocked in a fan-out never runs someone else's job, which could try to
//! take a lock the caller holds (a group commit's leader lock, say).
//!
//! Real disks only: the simulator allows no threads, so its callers stay sequential there.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// How long a pooled thread waits for a job before it exits.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

/// `f(i)` for every `i` below `n`, all at once: `f(0)` on this thread, each other on a pooled
/// thread. Returns when every call has returned, the results in order of `i`. A panic in any
/// call is re-raised here, after all of them have finished.
pub fn run_indexed<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if n <= 1 {
        return (0..n).map(f).collect();
    }
    let slots: Vec<Mutex<Option<std::thread::Result<R>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    let latch = Arc::new(Latch::new(n - 1));
    for (i, slot) in slots.iter().enumerate().skip(1) {
        let (f, latch) = (&f, Arc::clone(&latch));
        let job: Box<dyn FnOnce() + Send + '_> = Box::new(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(|| f(i)));
            *lock(slot) = Some(r);
            latch.count_down();
        });
        // SAFETY: the job borrows `f` and `slots`, which live on this frame. This function
        // does not return or unwind before `latch.wait()` has seen every job count down, and a
        // job counts down as its last use of those borrows (the latch itself is shared by
        // `Arc`, so touching it afterwards is fine). Nothing between here and the wait can
        // unwind: `execute` does not panic, `f(0)` runs under `catch_unwind`. So the job never
        // outlives what it borrows, which is all that `'static` is asked for here.
        let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Job>(job) };
        pool().execute(job);
    }
    let first = panic::catch_unwind(AssertUnwindSafe(|| f(0)));
    latch.wait();
    let mut out = Vec::with_capacity(n);
    let mut panicked = None;
    let rest = slots.into_iter().skip(1).map(|s| {
        s.into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .expect("every job filled its slot before counting down")
    });
    for r in std::iter::once(first).chain(rest) {
        match r {
            Ok(v) => out.push(v),
            Err(payload) => panicked = panicked.or(Some(payload)),
        }
    }
    if let Some(payload) = panicked {
        panic::resume_unwind(payload);
    }
    out
}

/// `f(i)` for every `i` below `n` on up to `workers` threads at once (each takes the next
/// index when it is free), the results in order of `i`. With one worker or one item, in order
/// on this thread. A panic in `f` is re-raised here.
pub fn map_indexed<R: Send>(n: usize, workers: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let workers = workers.min(n);
    if workers <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    run_indexed(workers, |_| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let r = f(i);
        *lock(&slots[i]) = Some(r);
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .expect("every index was taken by a worker")
        })
        .collect()
}

/// Pooled threads started so far and now alive (for tests and the curious).
pub fn pooled_threads() -> usize {
    lock(&pool().state).threads
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Counts jobs down to zero; `wait` returns at zero.
struct Latch {
    left: Mutex<usize>,
    zero: Condvar,
}

impl Latch {
    fn new(n: usize) -> Latch {
        Latch {
            left: Mutex::new(n),
            zero: Condvar::new(),
        }
    }

    fn count_down(&self) {
        let mut left = lock(&self.left);
        *left -= 1;
        if *left == 0 {
            self.zero.notify_all();
        }
    }

    fn wait(&self) {
        let mut left = lock(&self.left);
        while *left > 0 {
            left = self.zero.wait(left).unwrap_or_else(|p| p.into_inner());
        }
    }
}

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Job>,
    /// Threads waiting for a job (a notified one counts until it has the lock again).
    idle: usize,
    threads: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState::default()),
        work: Condvar::new(),
    })
}

impl Pool {
    /// Queue `job` and make sure a thread takes it now: an idle one, or a new one. Never
    /// panics: if no thread can be started, the job runs here.
    fn execute(&'static self, job: Job) {
        let mut st = lock(&self.state);
        st.queue.push_back(job);
        if st.idle >= st.queue.len() {
            self.work.notify_one();
            return;
        }
        st.threads += 1;
        drop(st);
        let started = std::thread::Builder::new()
            .name("seedbed-pool".into())
            .spawn(move || self.worker());
        if started.is_err() {
            // Out of threads (a ulimit): this thread stands in for the one that did not
            // start, so the queue still has a taker for every job.
            let mut st = lock(&self.state);
            st.threads -= 1;
            let job = st.queue.pop_front();
            drop(st);
            if let Some(job) = job {
                job();
            }
        }
    }

    fn worker(&self) {
        let mut st = lock(&self.state);
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job(); // jobs catch their own panics (`run_indexed`)
                st = lock(&self.state);
                continue;
            }
            st.idle += 1;
            let (guard, waited) = self
                .work
                .wait_timeout(st, IDLE_EXIT)
                .unwrap_or_else(|p| p.into_inner());
            st = guard;
            st.idle -= 1;
            if waited.timed_out() && st.queue.is_empty() {
                st.threads -= 1;
                return;
            }
        }
    }
}

/// A lock whose holder cannot have panicked while changing it (every critical section here
/// is a few assignments), so a poisoned one is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn every_index_once_in_order() {
        let calls = AtomicUsize::new(0);
        let out = map_indexed(1000, 8, |i| {
            calls.fetch_add(1, Ordering::Relaxed);
            i * 2
        });
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::Relaxed), 1000);
        assert!(map_indexed(0, 8, |i| i).is_empty());
        assert_eq!(map_indexed(3, 1, |i| i), [0, 1, 2]);
    }

    /// All calls run at the same time (each waits at a barrier for all the others), also
    /// when fan-outs nest — the property the pack syncs and metadata copies rely on.
    #[test]
    fn calls_run_at_once_even_nested() {
        let outer = Barrier::new(4);
        let out = run_indexed(4, |i| {
            outer.wait();
            let inner = Barrier::new(3);
            let sub = run_indexed(3, |j| {
                inner.wait();
                i * 10 + j
            });
            sub.iter().sum::<usize>()
        });
        assert_eq!(out, [3, 33, 63, 93]);
    }

    /// Threads are reused: many fan-outs in a row do not start a thread each.
    #[test]
    fn threads_are_reused() {
        for _ in 0..200 {
            let r = run_indexed(6, |i| i + 1);
            assert_eq!(r, [1, 2, 3, 4, 5, 6]);
        }
        // Other tests fan out at the same time; what matters is that 200 × 5 jobs did not
        // need anywhere near 1,000 threads.
        assert!(pooled_threads() < 100, "{} threads", pooled_threads());
    }

    /// A panic in one call is re-raised by the caller, after the others have finished (they
    /// borrow the caller's frame), and the pool goes on working.
    #[test]
    fn a_panic_comes_back_to_the_caller_after_every_call_ended() {
        let finished = AtomicUsize::new(0);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run_indexed(5, |i| {
                if i == 2 {
                    panic!("call 2 fails");
                }
                std::thread::sleep(Duration::from_millis(20));
                finished.fetch_add(1, Ordering::SeqCst);
            })
        }));
        let payload = caught.expect_err("the panic comes back");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"call 2 fails"));
        assert_eq!(finished.load(Ordering::SeqCst), 4);
        assert_eq!(run_indexed(3, |i| i), [0, 1, 2]);
    }
}
