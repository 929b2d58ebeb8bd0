//! The event queue: a min-heap ordered by (virtual time, sequence number).
//!
//! The sequence number breaks ties in the order events were scheduled, so two events at the same
//! nanosecond always run in the same order — a heap alone would not promise that. Events are
//! small values (messages are workload enums, not boxes), so scheduling one allocates nothing
//! once the heap has grown to its working size.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled event.
#[derive(Debug)]
pub struct Scheduled<E> {
    /// When it fires, in world nanoseconds.
    pub at_ns: u64,
    /// Scheduling order; unique per queue.
    pub seq: u64,
    /// What happens.
    pub event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at_ns == other.at_ns && self.seq == other.seq
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_ns, other.seq).cmp(&(self.at_ns, self.seq))
    }
}

/// The queue is full: the simulation scheduled more pending events than its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull {
    /// The bound that was hit.
    pub capacity: usize,
}

/// A bounded min-heap of events; see the module docs.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Scheduled<E>>,
    next_seq: u64,
    capacity: usize,
}

impl<E> EventQueue<E> {
    /// An empty queue that holds at most `capacity` pending events.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "event queue capacity must be positive");
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity.min(4096)),
            next_seq: 0,
            capacity,
        }
    }

    /// Schedule `event` at `at_ns`; returns its sequence number.
    #[inline]
    pub fn push(&mut self, at_ns: u64, event: E) -> Result<u64, QueueFull> {
        if self.heap.len() >= self.capacity {
            return Err(QueueFull {
                capacity: self.capacity,
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Scheduled { at_ns, seq, event });
        Ok(seq)
    }

    /// Move every pending event for which `earlier` names a time before its own to that time,
    /// keeping its sequence number (so events moved to one time keep their order). Rebuilds
    /// the heap: O(pending); the world calls it once a run, when the faults stop.
    pub fn bring_forward(&mut self, mut earlier: impl FnMut(&Scheduled<E>) -> Option<u64>) {
        let mut all = std::mem::take(&mut self.heap).into_vec();
        for s in &mut all {
            if let Some(t) = earlier(s) {
                s.at_ns = s.at_ns.min(t);
            }
        }
        self.heap = BinaryHeap::from(all);
    }

    /// The earliest event, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        self.heap.pop()
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_schedule_order() {
        let mut q = EventQueue::new(16);
        q.push(20, "c").unwrap();
        q.push(10, "a").unwrap();
        q.push(10, "b").unwrap();
        q.push(5, "first").unwrap();
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|s| s.event)).collect();
        assert_eq!(order, ["first", "a", "b", "c"]);
    }

    #[test]
    fn brought_forward_events_keep_their_schedule_order() {
        let mut q = EventQueue::new(16);
        q.push(5, "now").unwrap();
        let late_a = q.push(30, "a").unwrap();
        q.push(10, "unmoved").unwrap();
        let late_b = q.push(30, "b").unwrap();
        q.push(7, "other").unwrap();
        q.bring_forward(|s| [late_a, late_b].contains(&s.seq).then_some(6));
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|s| (s.at_ns, s.event))).collect();
        assert_eq!(
            order,
            [
                (5, "now"),
                (6, "a"),
                (6, "b"),
                (7, "other"),
                (10, "unmoved")
            ]
        );
    }

    #[test]
    fn refuses_beyond_capacity() {
        let mut q = EventQueue::new(2);
        q.push(1, ()).unwrap();
        q.push(1, ()).unwrap();
        assert_eq!(q.push(1, ()), Err(QueueFull { capacity: 2 }));
    }
}
