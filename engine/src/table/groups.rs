//! Single-item writes (PutItem, UpdateItem, DeleteItem) committed in groups, in the order they
//! were checked.
//!
//! Every write checks its condition and stages its batch under the tables' write lock, and until
//! this module it also wrote the batch — a synced LSM write — under that lock: one `fdatasync`
//! per write however many clients waited. Now a write to one item *submits* its batch under the
//! lock (which fixes its place in the order), marks its item in flight, lets the lock go, and
//! waits (`crate::commit_gate`). The first waiter to get the leader's lock writes every batch
//! queued so far as **one** LSM write, in submission order, and leaves the others their
//! results; the writes that arrive meanwhile form the next group.
//!
//! Why order matters across items: each batch also writes its table's statistics (item count
//! and bytes) as an absolute value, computed in submission order — so the batches must land in
//! that order, or a restart would read an older count. One leader at a time, taking the queue
//! front to back, keeps it.

use std::sync::Mutex;

use crate::commit_gate::{Group, GroupQueue};
use crate::lsm::{Db, LsmError, WriteBatch, WriteOptions};

/// Batches submitted and not yet written, and the leader's lock.
#[derive(Debug, Default)]
pub(crate) struct WriteGroups {
    queue: GroupQueue<WriteBatch, LsmError>,
    /// Held by the writer that writes a group: one group at a time, in order.
    leader: Mutex<()>,
}

impl WriteGroups {
    /// Queue `batch` (under the tables' write lock, which orders submissions); returns its
    /// ticket for [`WriteGroups::wait`].
    pub(crate) fn submit(&self, batch: WriteBatch) -> u64 {
        self.queue.submit(batch)
    }

    /// Wait until the batch of `ticket` is written to `db` (durable as the database's sync
    /// policy says): by an earlier leader, or by this caller with everything queued so far,
    /// as one LSM write.
    pub(crate) fn wait(&self, db: &Db, ticket: u64) -> Result<(), LsmError> {
        let write = |_: &mut (), batches: Vec<WriteBatch>| {
            let mut merged = WriteBatch::new();
            for b in batches {
                merged.append(b);
            }
            db.write(merged, WriteOptions::default())
        };
        let how = Group {
            duplicate: &LsmError::duplicate,
            unknown: &|t| {
                LsmError::InvalidArgument(format!("table write {t} is neither queued nor done"))
            },
        };
        self.queue.wait(ticket, &self.leader, write, &how)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::VirtualClock;
    use crate::io::sim::{SimConfig, SimFs};
    use crate::lsm::Options;

    #[test]
    fn batches_queued_meanwhile_land_as_one_write_in_submission_order() {
        let sim = Arc::new(SimFs::new(3, SimConfig::default()));
        let db = Db::open(
            sim.clone(),
            std::path::Path::new("/db"),
            Options::small_for_tests(),
            Arc::new(VirtualClock::new()),
        )
        .unwrap();
        let groups = WriteGroups::default();
        let batch = |k: &[u8], v: &[u8]| {
            let mut b = WriteBatch::new();
            b.put(k, v);
            b
        };
        let first = groups.submit(batch(b"stats", b"1"));
        let second = groups.submit(batch(b"stats", b"2"));
        let before = db.stats().writes;
        groups.wait(&db, second).unwrap();
        assert_eq!(db.stats().writes, before + 1, "one LSM write for both");
        assert_eq!(db.get(b"stats").unwrap().as_deref(), Some(&b"2"[..]));
        groups.wait(&db, first).expect("written by the leader");
        assert!(
            groups.wait(&db, first).is_err(),
            "a ticket is collected once"
        );
    }
}
