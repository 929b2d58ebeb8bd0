//! The order of metadata commits, and which of them may share a sync.
//!
//! A write to the store reads the state it depends on (the key's versions, the bucket's
//! settings, an upload's record), checks its conditions, and commits — all under one lock, so
//! that no other commit slips in between its check and its commit. Holding that lock through
//! the commit's sync, though, makes every writer pay a full round of `fdatasync`s (one per
//! metadata copy, `replicated.rs`) one after another: sixteen 4 KiB PUTs at once went no
//! faster than one.
//!
//! So a write to **one key** — a PUT, a delete, a completed upload — holds the lock only to
//! check and to *submit* its commit ([`super::meta::MetaStore::submit`]: the order is fixed
//! there), marks its key in flight, lets the lock go, and then waits for the commit — which the
//! metadata store writes together with the others submitted meanwhile, one sync for the group.
//! What keeps that correct:
//!
//! - A writer of a key takes the lock only once no commit of **that key** is in flight
//!   ([`CommitGate::lock_key`]), so it reads the key's versions with every earlier commit to
//!   them landed. Writes to other keys read nothing a key write changes.
//! - Everything else — bucket settings, uploads, ACLs, tags, a version's retention — takes the
//!   lock once **nothing** is in flight ([`CommitGate::lock_all`]), as if commits were still
//!   made one at a time; none of them is on a hot path.
//! - A write is acknowledged only when its group is durable; a reader sees it only once a
//!   copy has it in its synced log, as before. The sequence counter a commit stores is the
//!   largest handed to any commit so far (`store.rs`, `seq_op`), so a group never lowers it.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The commit lock and the keys whose commits are submitted but not yet acknowledged.
#[derive(Debug, Default)]
pub(super) struct CommitGate {
    lock: Mutex<()>,
    in_flight: Mutex<BTreeMap<(String, String), usize>>,
    landed: Condvar,
}

impl CommitGate {
    /// The commit lock, once no commit at all is in flight: for changes that read more than
    /// one key's versions. While it is held no commit can be submitted, so the wait ends.
    pub(super) fn lock_all(&self) -> MutexGuard<'_, ()> {
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

    /// The commit lock, once no commit of `bucket`/`key` is in flight.
    pub(super) fn lock_key(&self, bucket: &str, key: &str) -> MutexGuard<'_, ()> {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let id = (bucket.to_string(), key.to_string());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        while in_flight.contains_key(&id) {
            in_flight = self
                .landed
                .wait(in_flight)
                .unwrap_or_else(|p| p.into_inner());
        }
        guard
    }

    /// Mark a commit of `bucket`/`key` in flight (under the lock, before it is submitted)
    /// until the returned guard drops — after the commit is acknowledged or has failed.
    pub(super) fn enter(&self, bucket: &str, key: &str) -> InFlight<'_> {
        let id = (bucket.to_string(), key.to_string());
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
pub(super) struct InFlight<'a> {
    gate: &'a CommitGate,
    id: (String, String),
}

impl Drop for InFlight<'_> {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_writer_of_the_same_key_waits_for_the_commit_in_flight_and_others_do_not() {
        let gate = Arc::new(CommitGate::default());
        let g = gate.lock_key("b", "k");
        let flight = gate.enter("b", "k");
        drop(g);
        // Another key: the lock is free and nothing of it is in flight.
        drop(gate.lock_key("b", "other"));
        let got_in = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (gate, got_in) = (Arc::clone(&gate), Arc::clone(&got_in));
            std::thread::spawn(move || {
                let _g = gate.lock_key("b", "k");
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
