//! BatchGetItem and BatchWriteItem.
//!
//! BatchWriteItem validates every request first (a bad one refuses the whole call, as in
//! DynamoDB) and then applies them all in one LSM batch — stronger than DynamoDB, which applies
//! them one by one; nothing is ever throttled, so `UnprocessedItems` is always empty.
//! BatchGetItem returns at most 16 MB; keys beyond that come back as `UnprocessedKeys`.

use std::collections::{BTreeMap, BTreeSet};

use crate::lsm::{WriteBatch, WriteOptions};

use super::capacity::{self, Meter};
use super::error::{DynamoError, Result};
use super::expr::{projection, Placeholders};
use super::keys;
use super::legacy;
use super::read::projection_paths;
use super::request::{
    BatchGetOutput, BatchWriteOutput, KeysAndAttributes, PutItem, ReturnCapacity, WriteCondition,
    WriteRequest,
};
use super::store::{lock, Tables};
use super::value::item_size;

/// Most keys one BatchGetItem may ask for.
pub const MAX_BATCH_GET: usize = 100;
/// Most requests one BatchWriteItem may hold.
pub const MAX_BATCH_WRITE: usize = 25;
/// Most bytes one BatchGetItem returns.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

impl Tables {
    /// BatchGetItem.
    pub fn batch_get_item(
        &self,
        requests: &BTreeMap<String, KeysAndAttributes>,
        mode: ReturnCapacity,
    ) -> Result<BatchGetOutput> {
        if requests.is_empty() {
            return Err(DynamoError::validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let total: usize = requests.values().map(|r| r.keys.len()).sum();
        if total > MAX_BATCH_GET {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        // Validate everything before reading anything.
        let mut plans = Vec::new();
        for (table, r) in requests {
            if r.keys.is_empty() {
                return Err(DynamoError::validation(
                    "1 validation error detected: Value '[]' at 'requestItems.keys' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            legacy::check_styles("BatchGetItem", |p| match p {
                "AttributesToGet" => r.attributes_to_get.is_some(),
                "ProjectionExpression" => r.projection.is_some(),
                "ExpressionAttributeNames" => r.names.is_some(),
                _ => false,
            })?;
            legacy::check_placeholders(r.names.as_ref(), None)?;
            let mut ph = Placeholders::new(r.names.as_ref(), None);
            let paths = projection_paths(
                r.projection.as_deref(),
                r.attributes_to_get.as_deref(),
                &mut ph,
            )?;
            ph.check_unused()?;
            // The table is looked up after the request's own checks: DynamoDB reports an unused
            // placeholder before a missing table (moto's AWS-verified
            // test_batch_get_item_unused_attribute_name).
            let t = self.item_table(table)?;
            let mut seen = BTreeSet::new();
            let mut lsm_keys = Vec::new();
            for k in &r.keys {
                let (pk, sk) = t.def.key_of(k, true)?;
                let key = keys::item_key(t.def.id, t.def.placement, pk, sk);
                if !seen.insert(key.clone()) {
                    return Err(DynamoError::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                lsm_keys.push(key);
            }
            plans.push((table.clone(), t, r, paths, lsm_keys));
        }
        let mut out = BatchGetOutput::default();
        let mut returned = 0usize;
        for (table, t, r, paths, lsm_keys) in plans {
            let mut meter = Meter::new(&t.def.name);
            let mut items = Vec::new();
            for (k, key) in r.keys.iter().zip(lsm_keys) {
                if returned >= MAX_BATCH_GET_BYTES {
                    out.unprocessed
                        .entry(table.clone())
                        .or_insert_with(|| KeysAndAttributes {
                            keys: Vec::new(),
                            ..r.clone()
                        })
                        .keys
                        .push(k.clone());
                    continue;
                }
                let item = self.read_item(&key)?;
                meter.table_read(capacity::read_units(
                    item.as_ref().map_or(0, item_size),
                    r.consistent_read,
                ));
                if let Some(i) = item {
                    returned += item_size(&i);
                    items.push(match &paths {
                        Some(p) => projection::project(&i, p),
                        None => i,
                    });
                }
            }
            out.responses.insert(table, items);
            out.consumed.extend(meter.report(mode));
        }
        Ok(out)
    }

    /// BatchWriteItem.
    pub fn batch_write_item(
        &self,
        requests: &BTreeMap<String, Vec<WriteRequest>>,
        mode: ReturnCapacity,
    ) -> Result<BatchWriteOutput> {
        let total: usize = requests.values().map(Vec::len).sum();
        if requests.is_empty() || total == 0 {
            return Err(DynamoError::validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        // The API model's constraint on each table's list (1 to 25 requests) comes first;
        // DynamoDB names the map in it. Only a total over 25 from lists that each pass is
        // the operation's own "too many".
        for (table, reqs) in requests {
            if reqs.is_empty() || reqs.len() > MAX_BATCH_WRITE {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{{{table}=[{} write requests]}}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]",
                    reqs.len()
                )));
            }
        }
        if total > MAX_BATCH_WRITE {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        let mut plans = Vec::new();
        let mut seen = BTreeSet::new();
        for (table, reqs) in requests {
            for r in reqs {
                let p = match r {
                    WriteRequest::Put(item) => self.prepare_put(
                        &PutItem {
                            table: table.clone(),
                            item: item.clone(),
                            condition: WriteCondition::default(),
                            ..PutItem::default()
                        },
                        &["NONE"],
                    )?,
                    WriteRequest::Delete(key) => self.prepare_delete(
                        &super::request::DeleteItem {
                            table: table.clone(),
                            key: key.clone(),
                            ..Default::default()
                        },
                        &["NONE"],
                    )?,
                };
                if !seen.insert(p.key.clone()) {
                    return Err(DynamoError::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                plans.push(p);
            }
        }
        let _w = self.lock_writes();
        for p in &mut plans {
            self.refresh(p)?;
        }
        let mut b = WriteBatch::new();
        let mut meters: BTreeMap<String, Meter> = BTreeMap::new();
        let mut stats: BTreeMap<u64, Vec<super::codec::TableStats>> = BTreeMap::new();
        for p in &plans {
            let old = self.read_item(&p.key)?;
            let (new, _) = super::write::evaluate(p, old.as_ref())?;
            let meter = meters
                .entry(p.t.def.name.clone())
                .or_insert_with(|| Meter::new(&p.t.def.name));
            let s = stats.entry(p.t.def.id).or_insert_with(|| p.t.stats());
            super::write::stage(
                &p.t.def,
                s,
                super::write::Change {
                    key: &p.key,
                    old: old.as_ref(),
                    new: new.as_ref(),
                },
                &mut b,
                meter,
                &self.tap(false),
            )?;
        }
        self.db.write(b, WriteOptions::default())?;
        for p in &plans {
            if let Some(s) = stats.remove(&p.t.def.id) {
                *lock(&p.t.stats) = s;
            }
        }
        Ok(BatchWriteOutput {
            unprocessed: BTreeMap::new(),
            consumed: meters
                .into_values()
                .filter_map(|m| m.report(mode))
                .collect(),
        })
    }
}
