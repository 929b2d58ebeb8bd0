//! `f(0) … f(n − 1)` on a few threads, results in index order: how the store issues many
//! independent writes at once so that its group commit (`commit_gate.rs`) can gather them —
//! the deletes of a DeleteObjects request (server) and of a lifecycle pass (`object/lifecycle.rs`).
//! Real disks only: the simulator allows no threads, so its callers stay sequential there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f(i)` for every `i` below `n` on up to `workers` scoped threads (each takes the next index
/// when it is free), the results in order of `i`. With one worker or one item, in order on this
/// thread. A panic in `f` is re-raised here.
pub fn map_indexed<R: Send>(n: usize, workers: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let workers = workers.min(n);
    if workers <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = f(i);
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
