//! Pins: blobs that a reader is streaming, which a concurrent overwrite or delete must not
//! remove until the reader is done.
//!
//! A GET resolves the version it serves and pins that version's blobs in one short critical
//! section (the shared side of `resolve`); it then streams for as long as the client takes,
//! holding no lock. Freeing blobs (after an overwrite, a delete, an abort) takes the exclusive
//! side of `resolve` only for the moment it takes to sort the blobs into "delete now" and
//! "pinned: delete when the last reader lets go". So a slow client never stalls writers, and a
//! writer never pulls data out from under a reader. A crash loses nothing: a blob whose deletion
//! was deferred is unreferenced, and the orphan sweep at the next open removes it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use super::blob::DataId;
use super::store::ObjectStore;

/// The pin table of a store.
#[derive(Debug, Default)]
pub struct Pins {
    /// Shared while a reader resolves a version and pins it; exclusive while frees are sorted.
    resolve: RwLock<()>,
    state: Mutex<PinState>,
}

#[derive(Debug, Default)]
struct PinState {
    /// Readers per pinned blob.
    counts: BTreeMap<DataId, usize>,
    /// Pinned blobs that nothing refers to any more: deleted when their count drops to zero.
    deferred: BTreeSet<DataId>,
}

impl Pins {
    /// Held while resolving a version and pinning its blobs, so no free slips in between.
    pub fn resolving(&self) -> RwLockReadGuard<'_, ()> {
        self.resolve.read().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PinState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pin blobs (call with [`Pins::resolving`] held).
    pub fn pin(&self, ids: &[DataId]) {
        let mut st = self.state();
        for id in ids {
            *st.counts.entry(*id).or_insert(0) += 1;
        }
    }

    /// Unpin blobs; returns those that are now unpinned and were waiting to be deleted.
    pub fn unpin(&self, ids: &[DataId]) -> Vec<DataId> {
        let mut st = self.state();
        let mut free = Vec::new();
        for id in ids {
            if let Some(n) = st.counts.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    st.counts.remove(id);
                    if st.deferred.remove(id) {
                        free.push(*id);
                    }
                }
            }
        }
        free
    }

    /// Of blobs nothing refers to any more, those that may be deleted now; the pinned ones are
    /// deferred to their last reader.
    pub fn release(&self, ids: Vec<DataId>) -> Vec<DataId> {
        let _x = self.resolve.write().unwrap_or_else(|p| p.into_inner());
        let mut st = self.state();
        let mut now = Vec::new();
        for id in ids {
            if st.counts.contains_key(&id) {
                st.deferred.insert(id);
            } else {
                now.push(id);
            }
        }
        now
    }

    /// Whether a reader holds this blob (the orphan sweep leaves it alone).
    pub fn is_pinned(&self, id: &DataId) -> bool {
        self.state().counts.contains_key(id)
    }
}

/// Blobs pinned for one reader; unpinned (and deleted if freed meanwhile) on drop.
#[derive(Debug)]
pub struct PinGuard<'a> {
    store: &'a ObjectStore,
    ids: Vec<DataId>,
}

impl<'a> PinGuard<'a> {
    /// Pin `ids` in `store` (call with [`Pins::resolving`] held).
    pub fn new(store: &'a ObjectStore, ids: Vec<DataId>) -> Self {
        store.pins.pin(&ids);
        PinGuard { store, ids }
    }
}

impl Drop for PinGuard<'_> {
    fn drop(&mut self) {
        for id in self.store.pins.unpin(&self.ids) {
            // A failure leaves an orphan for the next sweep.
            let _ = self.store.blobs.delete(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_blobs_are_deferred_to_their_last_reader() {
        let pins = Pins::default();
        let (a, b) = (DataId([1; 16]), DataId([2; 16]));
        pins.pin(&[a]);
        pins.pin(&[a]);
        assert_eq!(pins.release(vec![a, b]), vec![b], "b is free now, a waits");
        assert!(pins.is_pinned(&a));
        assert!(pins.unpin(&[a]).is_empty(), "one reader left");
        assert_eq!(pins.unpin(&[a]), vec![a], "the last reader frees it");
        assert!(!pins.is_pinned(&a));
        assert!(pins.unpin(&[a]).is_empty(), "unpinning twice is harmless");
    }
}
