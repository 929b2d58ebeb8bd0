//! Point-in-time recovery as a switch, and the one consistent read an export needs.
//!
//! DynamoDB exports a table to S3 only while its point-in-time recovery (PITR) is on
//! (`ExportTableToPointInTime`). Seedbed keeps no history to restore from — there is no
//! `RestoreTableToPointInTime` — so PITR here is the switch and its start time, kept in the
//! table's catalog entry: what it buys is the right to export. The export reads every item
//! under one LSM snapshot ([`Tables::scan_snapshot`]): the items as of one sequence number,
//! however long the export takes and whatever is written meanwhile.

use super::error::{DynamoError, ErrorKind, Result};
use super::keys;
use super::schema;
use super::store::{decode, Tables};
use super::value::Item;

/// DynamoDB's answer for a backup setting or an export of a missing table.
pub fn table_not_found(name: &str) -> DynamoError {
    DynamoError::new(ErrorKind::TableNotFound, format!("Table not found: {name}"))
}

impl Tables {
    /// Now, on the tables' clock (Unix milliseconds): the virtual clock under simulation.
    pub fn now_unix_ms(&self) -> u64 {
        self.clock.unix_millis()
    }

    /// UpdateContinuousBackups: switch point-in-time recovery on (keeping the first start
    /// time if it is on already) or off. Returns since when it is on.
    pub fn update_continuous_backups(&self, name: &str, enabled: bool) -> Result<Option<u64>> {
        schema::check_table_name(name, "tableName")?;
        let _w = self.lock_writes();
        let t = self.table(name).map_err(|_| table_not_found(name))?;
        let since = match (enabled, t.def.pitr_since_ms) {
            (true, Some(s)) => Some(s),
            (true, None) => Some(self.clock.unix_millis()),
            (false, _) => None,
        };
        if since != t.def.pitr_since_ms {
            let mut def = t.def.clone();
            def.pitr_since_ms = since;
            self.replace_definition(def, t.stats())?;
        }
        Ok(since)
    }

    /// DescribeContinuousBackups: since when point-in-time recovery is on, if it is.
    pub fn describe_continuous_backups(&self, name: &str) -> Result<Option<u64>> {
        schema::check_table_name(name, "tableName")?;
        let t = self.table(name).map_err(|_| table_not_found(name))?;
        Ok(t.def.pitr_since_ms)
    }

    /// Every item of table `name` as of one moment (an LSM snapshot taken now), in key order,
    /// each handed to `each`; an error from `each` stops the scan and is returned. Returns the
    /// number of items read.
    pub fn scan_snapshot(
        &self,
        name: &str,
        mut each: impl FnMut(Item) -> Result<()>,
    ) -> Result<u64> {
        let t = self.table(name)?;
        let snapshot = self.db.snapshot();
        let prefix = keys::index_prefix(t.def.id, keys::TABLE_INDEX);
        let mut it = self.db.iter_prefix(snapshot.read_options(), &prefix);
        it.seek_to_first()?;
        let mut n = 0;
        while it.valid() {
            each(decode(it.key(), it.value())?)?;
            n += 1;
            it.next()?;
        }
        // The snapshot keeps compaction from dropping the versions the iterator reads: it
        // lives until the iterator is done.
        drop(it);
        drop(snapshot);
        Ok(n)
    }
}
