//! Online index operations: a global index added by UpdateTable is built from the table's items,
//! and a deleted one's entries are removed, while the table keeps taking reads and writes — as
//! DynamoDB's "backfilling" and index deletion do.
//!
//! **Building.** The build walks the table's items in key order, a few hundred at a time. Its
//! progress is a cursor kept in the index's definition ([`Backfill`]): the LSM key of the first
//! item not yet indexed. The rule that keeps the index right while writes go on:
//!
//! - an item **below** the cursor has its entry; every write keeps it up to date, as for any
//!   index ([`super::write::stage`]);
//! - an item **at or above** the cursor is the build's: writes leave its entry alone, and the
//!   build indexes the item as it finds it when it gets there.
//!
//! Each step runs under the tables' write lock (once no single-item write is in flight), reads
//! the next items as they are then, and writes their entries, the index's statistics and the
//! advanced cursor as **one** LSM batch. So no write can fall between the build reading an item
//! and the cursor passing it, and a crash leaves the cursor exactly where the entries end:
//! after a restart the build goes on from there (the cursor is in the catalog). Writes wait
//! only for one step, never for the whole table.
//!
//! While the cursor is set, DescribeTable shows the index `CREATING` with `Backfilling: true`,
//! and Query and Scan of it are refused ("Cannot read from backfilling global secondary
//! index"), as on DynamoDB. An item whose key attribute has another type than the index's (or
//! is an empty string or binary) stays out of the index, as DynamoDB's backfill leaves such an
//! item out; writing it again is refused until it is mended.
//!
//! **Deleting.** UpdateTable removes the index from the definition at once — no read or write
//! sees it after — and notes its number in the table's `purging` list; the entries are then
//! deleted in steps of [`PURGE_STEP_KEYS`], each going on from the key the last one stopped at
//! (not from the start, where the earlier steps' tombstones lie: that made a purge quadratic).
//! Nothing else writes under a deleted index's number, so these steps need no lock; only the
//! last, which takes the number off the list (so a new index may have it), is taken under the
//! write lock. A crash mid-purge leaves the number on the list and the next start finishes the
//! job.
//!
//! **TTL's queue.** Enabling TTL on a table that has items is the same problem as building an
//! index — every item with an expiry needs an entry in the table's expiry queue (`keys.rs`) —
//! and gets the same answer: a cursor in the TTL setting, and steps queueing the next items
//! under the write lock with the advanced cursor in one batch. Simpler than a build: a queue
//! entry has no count to keep, so writes queue their items wherever the cursor is. Items the
//! fill has not reached yet are not deleted until it does, which DynamoDB's "within a few
//! days" of the expiry allows. DescribeTimeToLive says `ENABLING` until the fill is done.
//! Disabling TTL stops the expiry pass and the queueing at once and leaves the queue's entries
//! to be deleted as a deleted index's are, `DISABLING` until they are gone; UpdateTimeToLive
//! refuses another change while either is under way, as DynamoDB refuses changes in quick
//! succession.
//!
//! Who runs the steps: `seedbed serve` does, in the background, as soon as a job is pending
//! ([`Tables::index_job_step`]); [`Tables::finish_index_jobs`] runs them to the end for
//! everyone else (tests, the CLI).

use crate::lsm::{ReadOptions, WriteBatch};

use super::codec::{encode_item, TableStats};
use super::error::Result;
use super::keys;
use super::schema::{Backfill, TableDef};
use super::store::{decode, lock, ttl_entry_key, Tables};
use super::value::{item_size, Item};

/// Items indexed per build step: enough that a step's fixed costs (a catalog entry, one LSM
/// write) are small beside it, few enough that writes wait about a millisecond for it.
pub const INDEX_STEP_ITEMS: usize = 256;

/// Entries deleted per purge step (no lock held: only the batch's size bounds it).
pub const PURGE_STEP_KEYS: usize = 1000;

/// What the next step works on.
enum Job {
    /// Build index `index` of table `table`.
    Build { table: String, index: String },
    /// Delete the entries of deleted index number `number` of table `table` (id `id`).
    Purge { table: String, id: u64, number: u8 },
    /// Queue the items of table `table` that TTL, just enabled, has not queued yet.
    TtlFill { table: String },
    /// Empty the expiry queue of table `table` (id `id`), TTL having been disabled.
    TtlDrain { table: String, id: u64 },
}

/// A closure finding a job's cursor in a table's definition, typed so the borrow it returns is
/// the definition's (closures are not inferred that way on their own).
fn cursor_fn<F>(f: F) -> F
where
    F: Fn(&mut TableDef) -> Option<&mut Option<Backfill>>,
{
    f
}

impl Tables {
    /// Where a new build or TTL fill of table `id` starts: the table's first key, or `None` —
    /// nothing to do — when the table has no items.
    pub(crate) fn fill_start(&self, id: u64) -> Result<Option<Backfill>> {
        let items = keys::index_prefix(id, keys::TABLE_INDEX);
        let mut it = self.db.iter_prefix(ReadOptions::default(), &items);
        it.seek_to_first()?;
        Ok(it.valid().then(|| Backfill::at(&items)))
    }

    /// The first job, in table-name order: a deleted index's purge, a TTL queue's drain, a
    /// build, then a TTL fill.
    fn next_job(&self) -> Option<Job> {
        let catalog = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        catalog.values().find_map(|t| {
            if let Some(p) = t.def.purging.first() {
                return Some(Job::Purge {
                    table: t.def.name.clone(),
                    id: t.def.id,
                    number: p.number,
                });
            }
            if t.def.ttl.as_ref().is_some_and(|ttl| ttl.draining) {
                return Some(Job::TtlDrain {
                    table: t.def.name.clone(),
                    id: t.def.id,
                });
            }
            if let Some(ix) = t.def.gsis.iter().find(|g| g.backfill.is_some()) {
                return Some(Job::Build {
                    table: t.def.name.clone(),
                    index: ix.name.clone(),
                });
            }
            t.def
                .ttl
                .as_ref()
                .is_some_and(|ttl| ttl.fill.is_some())
                .then(|| Job::TtlFill {
                    table: t.def.name.clone(),
                })
        })
    }

    /// Whether an index is being built, a deleted one's entries removed, or TTL's queue filled.
    pub fn index_jobs_pending(&self) -> bool {
        self.next_job().is_some()
    }

    /// One step of the first pending job: index (or queue for TTL) up to `max_items` more
    /// items, or delete up to [`PURGE_STEP_KEYS`] entries of a deleted index. Returns whether
    /// jobs remain.
    pub fn index_job_step(&self, max_items: usize) -> Result<bool> {
        match self.next_job() {
            None => return Ok(false),
            Some(Job::Build { table, index }) => {
                self.build_step(&table, &index, max_items.max(1))?
            }
            Some(Job::Purge { table, id, number }) => self.purge_step(&table, id, number)?,
            Some(Job::TtlFill { table }) => self.ttl_fill_step(&table, max_items.max(1))?,
            Some(Job::TtlDrain { table, id }) => self.ttl_drain_step(&table, id)?,
        }
        Ok(self.index_jobs_pending())
    }

    /// Run every index job to its end.
    pub fn finish_index_jobs(&self) -> Result<()> {
        while self.index_job_step(INDEX_STEP_ITEMS)? {}
        Ok(())
    }

    /// Delete up to [`PURGE_STEP_KEYS`] entries of index `number` of table `table` (id `id`);
    /// when none are left, take the number off the table's `purging` list.
    fn purge_step(&self, table: &str, id: u64, number: u8) -> Result<()> {
        self.delete_then(&keys::index_prefix(id, number), table, id, |def| {
            def.purging.retain(|p| p.number != number)
        })
    }

    /// Delete up to [`PURGE_STEP_KEYS`] entries of the expiry queue of table `table` (id
    /// `id`), whose TTL was disabled; when none are left, the table's TTL is DISABLED. As with
    /// a deleted index, nothing else writes the queue meanwhile: writes queue items only while
    /// TTL is enabled, the expiry pass reads only such tables' queues, and UpdateTimeToLive
    /// refuses to enable TTL again until the queue is empty.
    fn ttl_drain_step(&self, table: &str, id: u64) -> Result<()> {
        let queue = keys::index_prefix(id, keys::TTL_INDEX);
        self.delete_then(&queue, table, id, |def| {
            if let Some(ttl) = def.ttl.as_mut() {
                ttl.draining = false;
            }
        })
    }

    /// The step a purge and a drain share: delete up to [`PURGE_STEP_KEYS`] keys under
    /// `prefix` (of table `table`, id `id`), from where the last step under it stopped, without
    /// the lock; once none is left, under the write lock, `done` marks the job finished in the
    /// table's definition — unless the table was dropped meanwhile (DeleteTable's purge takes
    /// the rest).
    fn delete_then(
        &self,
        prefix: &[u8],
        table: &str,
        id: u64,
        done: impl FnOnce(&mut TableDef),
    ) -> Result<()> {
        let from = lock(&self.purge_cursors).get(prefix).cloned();
        let next = self.delete_from(prefix, from.as_deref().unwrap_or(prefix), PURGE_STEP_KEYS)?;
        let mut cursors = lock(&self.purge_cursors);
        if let Some(k) = next {
            cursors.insert(prefix.to_vec(), k);
            return Ok(());
        }
        cursors.remove(prefix);
        drop(cursors);
        let _w = self.lock_writes();
        let Ok(t) = self.table(table) else {
            return Ok(());
        };
        if t.def.id != id {
            return Ok(());
        }
        let mut def = t.def.clone();
        done(&mut def);
        let stats = lock(&t.stats).clone();
        self.replace_definition(def, stats)
    }

    /// Index up to `max_items` more items for index `index` of table `table`; the index
    /// becomes ACTIVE when the cursor passes the table's last item.
    fn build_step(&self, table: &str, index: &str, max_items: usize) -> Result<()> {
        let cursor = cursor_fn(move |def| {
            def.gsis
                .iter_mut()
                .find(|g| g.name == index && g.backfill.is_some())
                .map(|g| &mut g.backfill)
        });
        self.cursor_step(table, max_items, cursor, |def, _, item, b, stats| {
            let Some(ix) = def.gsis.iter().find(|g| g.name == index) else {
                return;
            };
            if let Some((k, projected)) = super::write::index_entry(def, ix, item) {
                b.put(&k, &encode_item(&projected));
                let n = ix.number as usize;
                if stats.len() <= n {
                    stats.resize(n + 1, TableStats::default());
                }
                stats[n].item_count += 1;
                stats[n].size_bytes += item_size(&projected) as u64;
            }
        })
    }

    /// Queue up to `max_items` more items of table `table` for TTL.
    fn ttl_fill_step(&self, table: &str, max_items: usize) -> Result<()> {
        fn cursor(def: &mut TableDef) -> Option<&mut Option<Backfill>> {
            def.ttl
                .as_mut()
                .filter(|t| t.fill.is_some())
                .map(|t| &mut t.fill)
        }
        self.cursor_step(table, max_items, cursor, |def, suffix, item, b, _| {
            if let Some(k) = ttl_entry_key(def, item) {
                b.put(&k, suffix);
            }
        })
    }

    /// The step a build and a TTL fill share. Under the write lock, with the definition in
    /// force (the table may have been dropped, or the job ended, since it was found): the
    /// items of `table` from the cursor `cursor` finds in the definition on, up to `max_items`,
    /// each given to `each` (with its key after the table's prefix) to put what it needs into
    /// the batch; then the cursor moved to the next item — or cleared, none left, the job is
    /// done — and the definition and statistics written in the same batch, so a crash leaves
    /// the cursor exactly where the work ends.
    fn cursor_step(
        &self,
        table: &str,
        max_items: usize,
        cursor: impl Fn(&mut TableDef) -> Option<&mut Option<Backfill>>,
        mut each: impl FnMut(&TableDef, &[u8], &Item, &mut WriteBatch, &mut Vec<TableStats>),
    ) -> Result<()> {
        let _w = self.lock_writes();
        let Ok(t) = self.table(table) else {
            return Ok(());
        };
        let mut def = t.def.clone();
        let Some(from) = cursor(&mut def).and_then(|c| c.as_ref().map(|c| c.next.clone())) else {
            return Ok(());
        };
        let mut stats = lock(&t.stats).clone();
        let mut b = WriteBatch::new();
        let items = keys::index_prefix(def.id, keys::TABLE_INDEX);
        let mut it = self.db.iter_prefix(ReadOptions::default(), &items);
        it.seek(&from)?;
        let mut seen = 0;
        while it.valid() && seen < max_items {
            let item = decode(it.key(), it.value())?;
            each(&def, &it.key()[items.len()..], &item, &mut b, &mut stats);
            seen += 1;
            it.next()?;
        }
        let next = it.valid().then(|| Backfill::at(it.key()));
        drop(it);
        if let Some(c) = cursor(&mut def) {
            *c = next;
        }
        self.commit_definition(b, def, stats)
    }
}
