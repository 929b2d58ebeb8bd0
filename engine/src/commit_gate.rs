//! Writers that check under one lock but sync outside it: the lock orders their checks, and a
//! writer of a key waits only for the commits of *that* key still in flight.
//!
//! A write to a store reads the state it depends on, checks its conditions, and commits — all
//! under one lock, so that no other commit slips in between its check and its commit. Holding
//! that lock through the commit's sync, though, makes every writer pay a full sync (or a round
//! of them) one after another: on this project's 2-vCPU VM, 4 KiB object PUTs went no faster
//! with 32 clients than with one.
//!
//! So a write to **one key** holds the lock only to check, to fix its commit's place in the
//! order (submit it), and to mark its key in flight ([`CommitGate::enter`]); it lets the lock go
//! and then waits for its commit, which the storage below writes together with the others
//! submitted meanwhile — one sync for the group. What keeps that correct:
//!
//! - A writer of a key takes the lock only once no commit of **that key** is in flight
//!   ([`CommitGate::lock_key`]), so it reads the key with every earlier commit to it landed.
//!   Writes to other keys read nothing a key write changes (each user says why for its store).
//! - Everything else takes the lock once **nothing** is in flight ([`CommitGate::lock_all`]),
//!   as if commits were still made one at a time.
//! - A write is acknowledged only when its commit is durable; readers see it only once the
//!   storage below has it synced.
//!
//! Users: the object store (`object/objects.rs`: a key is bucket and object key; the commit is
//! the replicated metadata's group commit, `object/replicated.rs`) and the DynamoDB-style
//! tables (`table/write.rs`: a key is an item's LSM key; the commit is the LSM's own group
//! commit, `lsm/db/write.rs`).

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The commit lock and the keys whose commits are submitted but not yet acknowledged.
#[derive(Debug)]
pub(crate) struct CommitGate<K> {
    lock: Mutex<()>,
    in_flight: Mutex<BTreeMap<K, usize>>,
    landed: Condvar,
}

impl<K> Default for CommitGate<K> {
    fn default() -> Self {
        CommitGate {
            lock: Mutex::new(()),
            in_flight: Mutex::new(BTreeMap::new()),
            landed: Condvar::new(),
        }
    }
}

impl<K: Ord + Clone> CommitGate<K> {
    /// The commit lock, once no commit at all is in flight: for changes that read more than
    /// one key's versions. While it is held no commit can be submitted, so the wait ends.
    pub(crate) fn lock_all(&self) -> MutexGuard<'_, ()> {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        while !in_flight.is_empty() {
            in_flight = self
                .landed
                .wait(in_flight)
                .unwrap_or_else(|p| p.into_inner());
        }
        guard
    }

    /// The commit lock, once no commit of `key` is in flight. The wait is made holding the
    /// lock, which stops writers of other keys from submitting meanwhile. Waiting without it —
    /// with and without a first-come line per key — was measured (docs/benchmarks.md, "The
    /// group's members woken together"): in process at 32 writers the p99 latency rose
    /// fourfold and the rate fell, for at most a few per cent over HTTP; not kept.
    pub(crate) fn lock_key(&self, key: &K) -> MutexGuard<'_, ()> {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        while in_flight.contains_key(key) {
            in_flight = self
                .landed
                .wait(in_flight)
                .unwrap_or_else(|p| p.into_inner());
        }
        guard
    }

    /// Mark a commit of `key` in flight (under the lock, before it is submitted) until the
    /// returned guard drops — after the commit is acknowledged or has failed.
    pub(crate) fn enter(&self, key: K) -> InFlight<'_, K> {
        let id = key;
        *self
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.clone())
            .or_insert(0) += 1;
        InFlight { gate: self, id }
    }

    /// How many commits are in flight (for tests).
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}

/// A commit in flight; dropping it wakes the writers waiting for its key.
#[derive(Debug)]
pub(crate) struct InFlight<'a, K: Ord> {
    gate: &'a CommitGate<K>,
    id: K,
}

impl<K: Ord> Drop for InFlight<'_, K> {
    fn drop(&mut self) {
        let mut in_flight = self
            .gate
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = in_flight.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&self.id);
            }
        }
        drop(in_flight);
        self.gate.landed.notify_all();
    }
}

/// Commits submitted (under the gate's lock, which orders them) and waited for (outside it):
/// a waiter that finds no leader at work becomes the leader, takes the storage's `leader`
/// lock and writes every commit queued so far as one, in submission order, and leaves the
/// others their results — the group commit both users run (`object/replicated.rs`: `T` a
/// metadata commit's operations; `table/groups.rs`: `T` an LSM write batch).
///
/// The others wait on a condition variable, woken all at once when a group lands, not on the
/// `leader` lock: queued on that lock, they were let through one at a time, each one's wake-up
/// and thread switch after the last, and the next leader — the first writer of the next group —
/// queued behind them all (measured: a fifth of a DynamoDB server's CPU samples in this wait).
#[derive(Debug)]
pub(crate) struct GroupQueue<T, E> {
    queue: Mutex<Queued<T, E>>,
    /// Notified when a leader is done: results are waiting, and the leader's place is free.
    landed: Condvar,
}

#[derive(Debug)]
struct Queued<T, E> {
    next_ticket: u64,
    waiting: Vec<(u64, T)>,
    done: BTreeMap<u64, Result<(), E>>,
    /// A leader is writing a group.
    leading: bool,
}

impl<T, E> Default for GroupQueue<T, E> {
    fn default() -> Self {
        GroupQueue {
            queue: Mutex::new(Queued {
                next_ticket: 0,
                waiting: Vec::new(),
                done: BTreeMap::new(),
                leading: false,
            }),
            landed: Condvar::new(),
        }
    }
}

/// The leader's place, given up when dropped — also when the write panics, so that the
/// waiters do not wait for a leader that is gone (they find their commits neither queued nor
/// done, and fail).
struct Leading<'a, T, E>(&'a GroupQueue<T, E>);

impl<T, E> Drop for Leading<'_, T, E> {
    fn drop(&mut self) {
        self.0.lock().leading = false;
        self.0.landed.notify_all();
    }
}

/// What a leader is given to write, and how to tell the others.
pub(crate) struct Group<'a, E> {
    /// Makes the error each other member of a failed group gets (same kind, same message).
    pub duplicate: &'a dyn Fn(&E) -> E,
    /// The error for a ticket that was never queued, or was collected already.
    pub unknown: &'a dyn Fn(u64) -> E,
}

impl<T, E> GroupQueue<T, E> {
    /// Queue a commit; returns its ticket for [`GroupQueue::wait`].
    pub(crate) fn submit(&self, item: T) -> u64 {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push((ticket, item));
        ticket
    }

    fn lock(&self) -> MutexGuard<'_, Queued<T, E>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for the commit of `ticket`: written by a leader (its result is waiting), or by
    /// this caller, which — finding no leader at work — becomes the leader, takes `leader` and
    /// hands `write` everything queued so far, in submission order. One leader at a time: a
    /// leader before us either wrote our commit or took its group before we queued, so ours
    /// is still queued.
    pub(crate) fn wait<L>(
        &self,
        ticket: u64,
        leader: &Mutex<L>,
        write: impl FnOnce(&mut L, Vec<T>) -> Result<(), E>,
        how: &Group<'_, E>,
    ) -> Result<(), E> {
        let mut q = self.lock();
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if !q.leading {
                break;
            }
            q = self.landed.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        q.leading = true;
        drop(q);
        let _leading = Leading(self);
        let mut lead = leader.lock().unwrap_or_else(|p| p.into_inner());
        // Taken after the storage's lock, which another user may hold a while: what queued
        // meanwhile joins this group.
        let group = std::mem::take(&mut self.lock().waiting);
        if !group.iter().any(|(t, _)| *t == ticket) {
            return Err((how.unknown)(ticket));
        }
        let (tickets, items): (Vec<u64>, Vec<T>) = group.into_iter().unzip();
        let result = write(&mut lead, items);
        drop(lead);
        let mut q = self.lock();
        for t in tickets.into_iter().filter(|t| *t != ticket) {
            let theirs = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err((how.duplicate)(e)),
            };
            q.done.insert(t, theirs);
        }
        drop(q);
        result
    }

    /// How many results wait to be collected (for tests).
    #[cfg(test)]
    pub(crate) fn uncollected(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .done
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Runs `f` on a thread; its result, or `None` if it has not returned within a minute (it
    /// is blocked: a deadlock, not a slow machine).
    fn returns<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(60)).ok()
    }

    type Queue = GroupQueue<u32, String>;
    const HOW: Group<'static, String> = Group {
        duplicate: &|e: &String| e.clone(),
        unknown: &|t| format!("ticket {t} unknown"),
    };

    #[test]
    fn a_commit_written_by_a_leader_is_collected_without_the_storage_lock() {
        let queue: Arc<Queue> = Arc::default();
        let storage: Arc<Mutex<Vec<u32>>> = Arc::default();
        let (t1, t2) = (queue.submit(1), queue.submit(2));
        let write = |s: &mut Vec<u32>, items: Vec<u32>| {
            s.extend(items);
            Ok(())
        };
        queue.wait(t1, &storage, write, &HOW).unwrap();
        assert_eq!(*storage.lock().unwrap(), [1, 2], "one group, in order");
        // Someone else holds the storage's lock; the second commit's result is collected anyway.
        let held = storage.lock().unwrap();
        let (q, s) = (Arc::clone(&queue), Arc::clone(&storage));
        let collected = returns(move || q.wait(t2, &s, write, &HOW));
        drop(held);
        assert_eq!(collected, Some(Ok(())), "waited for the storage's lock");
        assert_eq!(queue.uncollected(), 0);
    }

    #[test]
    fn a_leader_that_panics_leaves_its_group_failed_not_waiting() {
        let queue: Arc<Queue> = Arc::default();
        let storage: Arc<Mutex<Vec<u32>>> = Arc::default();
        let (t1, t2) = (queue.submit(1), queue.submit(2));
        let (q, s) = (Arc::clone(&queue), Arc::clone(&storage));
        let leader = std::thread::spawn(move || {
            q.wait(t1, &s, |_, _| panic!("the write failed hard"), &HOW)
        });
        assert!(leader.join().is_err());
        let (q, s) = (Arc::clone(&queue), Arc::clone(&storage));
        let second = returns(move || q.wait(t2, &s, |_, _| Ok(()), &HOW));
        assert_eq!(second, Some(Err(format!("ticket {t2} unknown"))));
        // The queue works on.
        let t3 = queue.submit(3);
        let write = |s: &mut Vec<u32>, items: Vec<u32>| {
            s.extend(items);
            Ok(())
        };
        assert_eq!(queue.wait(t3, &storage, write, &HOW), Ok(()));
        assert_eq!(*storage.lock().unwrap_or_else(|p| p.into_inner()), [3]);
    }

    #[test]
    fn a_writer_of_the_same_key_waits_for_the_commit_in_flight_and_others_do_not() {
        let gate: Arc<CommitGate<(&str, &str)>> = Arc::new(CommitGate::default());
        let g = gate.lock_key(&("b", "k"));
        let flight = gate.enter(("b", "k"));
        drop(g);
        // Another key: the lock is free and nothing of it is in flight.
        drop(gate.lock_key(&("b", "other")));
        let got_in = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (gate, got_in) = (Arc::clone(&gate), Arc::clone(&got_in));
            std::thread::spawn(move || {
                let _g = gate.lock_key(&("b", "k"));
                got_in.store(true, Ordering::SeqCst);
            })
        };
        let everything = {
            let gate = Arc::clone(&gate);
            std::thread::spawn(move || drop(gate.lock_all()))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !got_in.load(Ordering::SeqCst),
            "a writer of b/k got the lock while a commit of b/k was in flight"
        );
        assert_eq!(gate.in_flight(), 1);
        drop(flight);
        waiter.join().unwrap();
        everything.join().unwrap();
        assert!(got_in.load(Ordering::SeqCst));
        assert_eq!(gate.in_flight(), 0);
    }
}
