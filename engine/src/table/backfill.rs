//! Online index builds: a global index added by UpdateTable is filled from the table's items
//! while the table keeps taking reads and writes, as DynamoDB's "backfilling" does.
//!
//! The build walks the table's items in key order, a few hundred at a time. Its progress is a
//! cursor kept in the index's definition ([`Backfill`]): the LSM key of the first item not yet
//! indexed. The rule that keeps the index right while writes go on:
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
//! after a restart the build goes on from there ([`Tables::backfill_step`] finds it in the
//! catalog). Writes wait only for one step, never for the whole table.
//!
//! While the cursor is set, DescribeTable shows the index `CREATING` with `Backfilling: true`,
//! and Query and Scan of it are refused ("Cannot read from backfilling global secondary
//! index"), as on DynamoDB. An item whose key attribute has another type than the index's (or
//! is an empty string or binary) stays out of the index, as DynamoDB's backfill leaves such an
//! item out; writing it again is refused until it is mended.
//!
//! Who runs the steps: `seedbed serve` does, in the background, as soon as a build is pending;
//! [`Tables::finish_backfills`] runs them to the end for everyone else (tests, the CLI).

use crate::lsm::{ReadOptions, WriteBatch, WriteOptions};

use super::codec::{encode_item, TableStats};
use super::error::Result;
use super::keys;
use super::schema::{Backfill, IndexDef};
use super::store::{decode, lock, Tables};
use super::value::{item_size, AttributeValue, Item};

/// Items indexed per step: enough that a step's fixed costs (a catalog entry, one LSM write)
/// are small beside it, few enough that writes wait about a millisecond for it.
pub const BACKFILL_STEP_ITEMS: usize = 256;

/// Whether `item` can have an entry in `ix`: none of its key attributes there has another
/// type than the index's, or is an empty string or binary.
pub(crate) fn indexable(ix: &IndexDef, item: &Item) -> bool {
    ix.key_attrs().iter().all(|k| match item.get(&k.name) {
        None => true,
        Some(v) => {
            v.value_type() == k.value_type()
                && !matches!(v, AttributeValue::S(s) if s.is_empty())
                && !matches!(v, AttributeValue::B(b) if b.is_empty())
        }
    })
}

impl Tables {
    /// The first index being built, in table-name order: its table and name.
    fn pending_build(&self) -> Option<(String, String)> {
        let catalog = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        catalog.values().find_map(|t| {
            let ix = t.def.gsis.iter().find(|g| g.backfill.is_some())?;
            Some((t.def.name.clone(), ix.name.clone()))
        })
    }

    /// Whether an index is being built.
    pub fn backfills_pending(&self) -> bool {
        self.pending_build().is_some()
    }

    /// Index up to `max_items` more items for one index being built (the first in table-name
    /// order), as one atomic LSM write with the advanced cursor; the index becomes ACTIVE when
    /// the cursor passes the table's last item. Returns whether builds remain.
    pub fn backfill_step(&self, max_items: usize) -> Result<bool> {
        let Some((table, index)) = self.pending_build() else {
            return Ok(false);
        };
        let _w = self.lock_writes();
        // Under the lock, the definition in force: the table may have been dropped, or the
        // index deleted, since it was found.
        let Ok(t) = self.table(&table) else {
            return Ok(self.backfills_pending());
        };
        let mut def = t.def.clone();
        let Some(at) = def
            .gsis
            .iter()
            .position(|g| g.name == index && g.backfill.is_some())
        else {
            return Ok(self.backfills_pending());
        };
        let ix = def.gsis[at].clone();
        let from = ix
            .backfill
            .as_ref()
            .map(Backfill::next_key)
            .unwrap_or_default();
        let mut stats = lock(&t.stats).clone();
        let n = ix.number as usize;
        if stats.len() <= n {
            stats.resize(n + 1, TableStats::default());
        }
        let mut b = WriteBatch::new();
        let items = keys::index_prefix(def.id, keys::TABLE_INDEX);
        let mut it = self.db.iter_prefix(ReadOptions::default(), &items);
        it.seek(&from)?;
        let mut seen = 0;
        while it.valid() && seen < max_items {
            let item = decode(it.key(), it.value())?;
            if indexable(&ix, &item) {
                if let Some((k, projected)) = super::write::index_entry(&def, &ix, &item) {
                    b.put(&k, &encode_item(&projected));
                    stats[n].item_count += 1;
                    stats[n].size_bytes += item_size(&projected) as u64;
                }
            }
            seen += 1;
            it.next()?;
        }
        // The next item's key is the new cursor; none left, the index is complete.
        def.gsis[at].backfill = it.valid().then(|| Backfill::at(it.key()));
        drop(it);
        b.put(
            &keys::catalog_key(&def.name),
            &serde_json::to_vec(&def).unwrap_or_default(),
        );
        b.put(
            &keys::stats_key(def.id),
            &super::store::encode_stats(&stats),
        );
        self.db.write(b, WriteOptions::default())?;
        self.install(def, stats);
        Ok(self.backfills_pending())
    }

    /// Run every index build to its end.
    pub fn finish_backfills(&self) -> Result<()> {
        while self.backfill_step(BACKFILL_STEP_ITEMS)? {}
        Ok(())
    }
}
