//! [`Tables`]: every DynamoDB table of one LSM database, and the catalog operations —
//! CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTimeToLive, DescribeTimeToLive.
//!
//! The catalog (one JSON entry per table), the next table id and each table's statistics live
//! in the LSM beside the items (layout in [`super::keys`]). Writes of every kind take one lock
//! (`gate`) for their read-check-write, so a condition, an index update and a transaction see
//! and change a consistent state; reads take no lock. A single-item write lets the lock go once
//! its batch is submitted, and single-item writes in flight at once share one LSM write and
//! sync (`groups.rs`, `crate::commit_gate`); every other write first waits for those to land.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::groups::WriteGroups;
use crate::clock::ClockHandle;
use crate::commit_gate::CommitGate;
use crate::lsm::{Db, ReadOptions, WriteBatch, WriteOptions};

use super::codec::{self, TableStats};
use super::error::{DynamoError, ErrorKind, Result};
use super::keys;
use super::schema::{self, CreateTableInput, TableDef, TtlSpec};
use super::value::{AttributeValue, Item};

/// Deleted keys per batch when a dropped table is purged.
const PURGE_BATCH_KEYS: usize = 1000;

/// One table's definition and live statistics.
#[derive(Debug)]
pub struct TableState {
    /// The definition.
    pub def: TableDef,
    /// Statistics: `[0]` the table, `[n]` index number `n`.
    pub(crate) stats: Mutex<Vec<TableStats>>,
    /// The table's resource-based policy, parsed once (`None`: it has none, or — in a catalog
    /// written by hand — one that no longer parses, which then allows nothing).
    pub(crate) policy: Option<Arc<crate::iam::Policy>>,
}

impl TableState {
    fn new(def: TableDef, stats: Vec<TableStats>) -> Self {
        let n = 1 + def.indexes().map(|i| i.number as usize).max().unwrap_or(0);
        let mut stats = stats;
        stats.resize(n, TableStats::default());
        let policy = def
            .resource_policy
            .as_ref()
            .and_then(|p| super::resource_policy::parse_policy(&p.document).ok());
        TableState {
            def,
            stats: Mutex::new(stats),
            policy,
        }
    }

    /// A copy of the statistics.
    pub fn stats(&self) -> Vec<TableStats> {
        lock(&self.stats).clone()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn encode_stats(stats: &[TableStats]) -> Vec<u8> {
    stats.iter().flat_map(|s| s.encode()).collect()
}

fn decode_stats(b: &[u8]) -> Vec<TableStats> {
    b.chunks(16).filter_map(TableStats::decode).collect()
}

/// A table as DescribeTable shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableInfo {
    /// The definition.
    pub def: TableDef,
    /// Statistics: `[0]` the table, `[n]` index number `n`.
    pub stats: Vec<TableStats>,
    /// `ACTIVE` (or `DELETING` in DeleteTable's answer).
    pub status: &'static str,
}

/// The DynamoDB tables of one LSM database.
pub struct Tables {
    pub(crate) db: Arc<Db>,
    pub(crate) clock: ClockHandle,
    pub(crate) catalog: RwLock<BTreeMap<String, Arc<TableState>>>,
    /// Serialises every read-check-write; knows the items whose writes are in flight.
    pub(crate) gate: CommitGate<Vec<u8>>,
    /// Single-item writes submitted and not yet written (`groups.rs`).
    pub(crate) groups: WriteGroups,
    /// Tables an import is creating (`creating.rs`): in memory, so a restart, which fails the
    /// import, leaves its table `ACTIVE` with what was imported.
    pub(crate) creating: Mutex<BTreeSet<String>>,
    /// Where each background deletion (a deleted index's entries, a disabled TTL's queue) goes
    /// on from, by key prefix ([`Tables::delete_from`]): in memory, so a restart starts it
    /// again from the prefix's start, which only costs stepping over the tombstones once.
    pub(crate) purge_cursors: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// The last stream sequence number of each table ([`super::streams`]).
    pub(crate) streams: super::streams::StreamLog,
    /// Region and account in ARNs.
    pub region: String,
    /// The 12-digit account in ARNs.
    pub account: String,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables").field("db", &self.db).finish()
    }
}

/// A table's TableId: shaped as DynamoDB's (a version-4 UUID, which clients and dynalite's
/// tests expect), but drawn from the table's number, creation time and name rather than the
/// OS's randomness, so a replayed run makes the same one.
fn table_uuid(id: u64, now_unix_ms: u64, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(id.to_be_bytes());
    h.update(now_unix_ms.to_be_bytes());
    h.update(name.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

impl Tables {
    /// Open the tables stored in `db` (finishing any interrupted table purge).
    pub fn open(db: Arc<Db>, clock: ClockHandle) -> Result<Self> {
        let mut catalog = BTreeMap::new();
        let (lo, hi) = keys::catalog_range();
        let mut it = db.iter(ReadOptions::default(), Some(&lo), Some(&hi));
        it.seek_to_first()?;
        while it.valid() {
            let def: TableDef = serde_json::from_slice(it.value()).map_err(|e| {
                DynamoError::internal(
                    format!(
                        "catalog entry {:?} is corrupt: {e}",
                        String::from_utf8_lossy(it.key())
                    ),
                    e,
                )
            })?;
            let stats = db
                .get(&keys::stats_key(def.id))?
                .map(|b| decode_stats(&b))
                .unwrap_or_default();
            catalog.insert(def.name.clone(), Arc::new(TableState::new(def, stats)));
            it.next()?;
        }
        drop(it);
        let t = Tables {
            db,
            clock,
            catalog: RwLock::new(catalog),
            gate: CommitGate::default(),
            groups: WriteGroups::default(),
            creating: Mutex::new(BTreeSet::new()),
            purge_cursors: Mutex::new(BTreeMap::new()),
            streams: super::streams::StreamLog::default(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        t.purge_dropped()?;
        Ok(t)
    }

    /// The database.
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// The table called `name`, or whose ARN (in this store's region and account) `name` is.
    pub fn table(&self, name: &str) -> Result<Arc<TableState>> {
        let short = match schema::arn_table_name(name) {
            Some(n) if name == self.table_arn(n) => n,
            _ => name,
        };
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(short)
            .cloned()
            .ok_or_else(|| DynamoError::table_not_found(name))
    }

    /// The table an item operation names: [`Tables::table`] with the item operations' message
    /// for a missing one ([`DynamoError::item_table_not_found`]).
    pub(crate) fn item_table(&self, name: &str) -> Result<Arc<TableState>> {
        self.table(name)
            .map_err(|_| DynamoError::item_table_not_found())
    }

    /// The table's state now, for a write prepared against `t` that holds the write lock.
    /// UpdateTable, UpdateTimeToLive and the index builds install a new definition (and
    /// statistics) between a write's preparation and its turn; staged against the old one, the
    /// write would leave out an index added meanwhile and count into statistics no longer
    /// written. A table dropped meanwhile (even if made again under its name) is not found.
    pub(crate) fn current(&self, t: &Arc<TableState>) -> Result<Arc<TableState>> {
        let catalog = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        match catalog.get(&t.def.name) {
            Some(now) if Arc::ptr_eq(now, t) => Ok(t.clone()),
            Some(now) if now.def.id == t.def.id => Ok(now.clone()),
            _ => Err(DynamoError::table_not_found(&t.def.name)),
        }
    }

    /// The ARN of the table called `name` in this store's region and account.
    pub fn table_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{name}",
            self.region, self.account
        )
    }

    /// The write lock, once no single-item write is in flight: for every write but those.
    pub(crate) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.gate.lock_all()
    }

    /// Read and decode one item by LSM key.
    pub(crate) fn read_item(&self, key: &[u8]) -> Result<Option<Item>> {
        self.read_item_opt(key, ReadOptions::default())
    }

    /// [`Tables::read_item`] with read options (a snapshot, or memory only).
    pub(crate) fn read_item_opt(&self, key: &[u8], ro: ReadOptions) -> Result<Option<Item>> {
        match self.db.get_opt(key, ro)? {
            Some(v) => Ok(Some(decode(key, &v)?)),
            None => Ok(None),
        }
    }

    /// CreateTable.
    pub fn create_table(&self, input: &CreateTableInput) -> Result<TableInfo> {
        let _w = self.lock_writes();
        if self.table(&input.name).is_ok() {
            // Validate first so a bad request is a ValidationException even for a taken name.
            schema::table_def(input, 0, String::new(), 0)?;
            return Err(DynamoError::new(
                ErrorKind::ResourceInUse,
                format!("Table already exists: {}", input.name),
            ));
        }
        let next = match self.db.get(&keys::next_id_key())? {
            Some(b) if b.len() == 8 => u64::from_be_bytes(b[..].try_into().unwrap_or([0; 8])),
            _ => 1,
        };
        let now = self.clock.unix_millis();
        let uuid = table_uuid(next, now, &input.name);
        let def = schema::table_def(input, next, uuid, now)?;
        let state = TableState::new(def.clone(), Vec::new());
        let mut b = WriteBatch::new();
        b.put(
            &keys::catalog_key(&def.name),
            &serde_json::to_vec(&def).unwrap_or_default(),
        );
        b.put(&keys::next_id_key(), &(next + 1).to_be_bytes());
        b.put(&keys::stats_key(def.id), &encode_stats(&state.stats()));
        self.db.write(b, WriteOptions::default())?;
        let stats = state.stats();
        self.catalog
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(def.name.clone(), Arc::new(state));
        Ok(TableInfo {
            def,
            stats,
            status: "ACTIVE",
        })
    }

    /// DescribeTable.
    pub fn describe_table(&self, name: &str) -> Result<TableInfo> {
        schema::check_table_name(name, "tableName")?;
        let t = self.table(name)?;
        Ok(TableInfo {
            status: if self.is_creating(&t.def.name) {
                "CREATING"
            } else {
                "ACTIVE"
            },
            def: t.def.clone(),
            stats: t.stats(),
        })
    }

    /// ListTables: names after `start` (exclusive), at most `limit` (1..=100); and the name to
    /// continue after, when there may be more.
    pub fn list_tables(
        &self,
        start: Option<&str>,
        limit: Option<u32>,
    ) -> Result<(Vec<String>, Option<String>)> {
        let limit = match limit {
            None => 100,
            Some(l @ 1..=100) => l as usize,
            Some(l) => {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value {} 100",
                    if l == 0 { "greater than or equal to 1, and less than or equal to" } else { "less than or equal to" }
                )))
            }
        };
        let cat = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        let names: Vec<String> = cat
            .keys()
            .filter(|n| start.is_none_or(|s| n.as_str() > s))
            .take(limit + 1)
            .cloned()
            .collect();
        if names.len() > limit {
            let page = names[..limit].to_vec();
            let last = page.last().cloned();
            Ok((page, last))
        } else {
            Ok((names, None))
        }
    }

    /// DeleteTable: the catalog entry goes at once; the items are purged before this returns.
    pub fn delete_table(&self, name: &str) -> Result<TableInfo> {
        schema::check_table_name(name, "tableName")?;
        let info = {
            let _w = self.lock_writes();
            let t = self.table(name)?;
            if t.def.deletion_protection {
                return Err(DynamoError::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            let mut b = WriteBatch::new();
            b.delete(&keys::catalog_key(name));
            b.delete(&keys::stats_key(t.def.id));
            b.delete(&keys::stream_seq_key(t.def.id));
            b.put(&keys::purge_key(t.def.id), b"");
            self.db.write(b, WriteOptions::default())?;
            self.catalog
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(name);
            TableInfo {
                def: t.def.clone(),
                stats: t.stats(),
                status: "DELETING",
            }
        };
        self.purge_dropped()?;
        Ok(info)
    }

    /// Delete the data of every dropped table (bounded batches), then its marker.
    fn purge_dropped(&self) -> Result<()> {
        let (lo, hi) = keys::purge_range();
        let mut ids = Vec::new();
        let mut it = self.db.iter(ReadOptions::default(), Some(&lo), Some(&hi));
        it.seek_to_first()?;
        while it.valid() {
            if let Ok(b) = <[u8; 8]>::try_from(&it.key()[2..]) {
                ids.push(u64::from_be_bytes(b));
            }
            it.next()?;
        }
        drop(it);
        for id in ids {
            let prefix = keys::table_data_prefix(id);
            let mut from = prefix.clone();
            while let Some(next) = self.delete_from(&prefix, &from, PURGE_BATCH_KEYS)? {
                from = next;
            }
            self.db.delete(&keys::purge_key(id))?;
        }
        Ok(())
    }

    /// Delete up to `max` keys under `prefix`, from key `from` on, in one LSM write. Returns
    /// the key to go on from, or `None` when no key under `prefix` is left from `from` on.
    ///
    /// Why a resume key and not "the first `max` keys under the prefix" each time: a deletion
    /// is a tombstone, and an iterator seeking to the prefix's start steps over every
    /// tombstone the earlier batches left (until compaction drops them). Restarting from the
    /// start made a purge quadratic — a million entries took two minutes here, almost all of
    /// it stepping over tombstones. Seeking to the resume key skips them. Only for keys
    /// nothing else writes meanwhile (a dropped table's, a deleted index's, a disabled TTL's
    /// queue): a key written behind the resume point would be missed.
    pub(crate) fn delete_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        max: usize,
    ) -> Result<Option<Vec<u8>>> {
        let mut it = self.db.iter_prefix(ReadOptions::default(), prefix);
        it.seek(from.max(prefix))?;
        let mut b = WriteBatch::new();
        let mut n = 0;
        while it.valid() && n < max {
            b.delete(it.key());
            n += 1;
            it.next()?;
        }
        let next = it.valid().then(|| it.key().to_vec());
        drop(it);
        if n > 0 {
            self.db.write(b, WriteOptions::default())?;
        }
        Ok(next)
    }

    /// Whether no key starts with `prefix`.
    pub(crate) fn is_empty_prefix(&self, prefix: &[u8]) -> Result<bool> {
        let mut it = self.db.iter_prefix(ReadOptions::default(), prefix);
        it.seek_to_first()?;
        Ok(!it.valid())
    }

    /// UpdateTimeToLive. Enabling starts filling the TTL queue from the table's items in the
    /// background (`online.rs`; the items not queued yet expire once the fill reaches them, as
    /// DynamoDB's TTL deletes "within a few days"): `ENABLING` until it is done. Disabling stops
    /// the expiry at once and empties the queue in the background: `DISABLING` until it is
    /// empty. Another change is refused meanwhile. Returns the specification as set.
    pub fn update_ttl(&self, name: &str, attribute: &str, enabled: bool) -> Result<TtlSpec> {
        schema::check_table_name(name, "tableName")?;
        if attribute.is_empty() || attribute.len() > 255 {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{attribute}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length {}",
                if attribute.is_empty() { "greater than or equal to 1" } else { "less than or equal to 255" }
            )));
        }
        let _w = self.lock_writes();
        let t = self.table(name)?;
        if t.def.ttl.as_ref().is_some_and(TtlSpec::in_transition) {
            // ENABLING or DISABLING: the queue is being filled or emptied (`online.rs`).
            return Err(DynamoError::validation(
                "Time to live has been modified multiple times within a fixed interval",
            ));
        }
        let current = t.def.ttl_attribute();
        match (current, enabled) {
            (Some(_), true) => {
                return Err(DynamoError::validation("TimeToLive is already enabled"))
            }
            (None, false) => return Err(DynamoError::validation("TimeToLive is already disabled")),
            (Some(a), false) if a != attribute => {
                return Err(DynamoError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {a}"
            )))
            }
            _ => {}
        }
        let mut def = t.def.clone();
        let queue = keys::index_prefix(def.id, keys::TTL_INDEX);
        let spec = TtlSpec {
            attribute: attribute.to_string(),
            enabled,
            // Enabling queues the items already there in the background (`online.rs`), from
            // the table's first key; every write from now on queues what the fill has passed.
            fill: if enabled {
                self.fill_start(def.id)?
            } else {
                None
            },
            // Disabling stops the queueing and the expiry pass now, and leaves the queue's
            // entries to be deleted in the background, if there are any.
            draining: !enabled && !self.is_empty_prefix(&queue)?,
        };
        def.ttl = Some(spec.clone());
        let stats = t.stats();
        self.replace_definition(def, stats)?;
        Ok(spec)
    }

    /// Write a table's changed definition (the caller holds the write lock) and make it the
    /// one requests see.
    pub(crate) fn replace_definition(&self, def: TableDef, stats: Vec<TableStats>) -> Result<()> {
        self.db.put(
            &keys::catalog_key(&def.name),
            &serde_json::to_vec(&def).unwrap_or_default(),
        )?;
        self.install(def, stats);
        Ok(())
    }

    /// Write `b` with a table's changed definition and statistics added (the caller holds the
    /// write lock), and make them the ones requests see.
    pub(crate) fn commit_definition(
        &self,
        mut b: WriteBatch,
        def: TableDef,
        stats: Vec<TableStats>,
    ) -> Result<()> {
        b.put(
            &keys::catalog_key(&def.name),
            &serde_json::to_vec(&def).unwrap_or_default(),
        );
        b.put(&keys::stats_key(def.id), &encode_stats(&stats));
        self.db.write(b, WriteOptions::default())?;
        self.install(def, stats);
        Ok(())
    }

    /// Make a definition already written the one requests see (the caller holds the write
    /// lock).
    pub(crate) fn install(&self, def: TableDef, stats: Vec<TableStats>) {
        self.catalog
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(def.name.clone(), Arc::new(TableState::new(def, stats)));
    }

    /// DescribeTimeToLive: the specification, if TTL was ever set.
    pub fn describe_ttl(&self, name: &str) -> Result<Option<TtlSpec>> {
        schema::check_table_name(name, "tableName")?;
        Ok(self.table(name)?.def.ttl.clone())
    }

    /// Delete up to `max_items` items whose TTL has passed (`now_secs`), through the normal
    /// delete path (indexes and statistics follow). Returns how many were deleted. Run it as a
    /// maintenance step; like DynamoDB, expired items stay readable until it runs.
    pub fn expire_ttl(&self, now_secs: u64, max_items: usize) -> Result<usize> {
        let tables: Vec<Arc<TableState>> = self
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|t| t.def.ttl_attribute().is_some())
            .cloned()
            .collect();
        let mut deleted = 0;
        for t in tables {
            let queue = keys::index_prefix(t.def.id, keys::TTL_INDEX);
            let mut upper = queue.clone();
            upper.extend_from_slice(&(now_secs + 1).to_be_bytes());
            let mut due: Vec<Vec<u8>> = Vec::new();
            let mut it = self
                .db
                .iter(ReadOptions::default(), Some(&queue), Some(&upper));
            it.seek_to_first()?;
            while it.valid() && deleted + due.len() < max_items {
                let mut k = keys::index_prefix(t.def.id, keys::TABLE_INDEX);
                k.extend_from_slice(it.value());
                due.push(k);
                it.next()?;
            }
            drop(it);
            for key in due {
                let _w = self.lock_writes();
                // The table may have been dropped meanwhile: then there is nothing to do.
                let Ok(cur) = self.table(&t.def.name) else {
                    break;
                };
                if cur.def.id != t.def.id {
                    break;
                }
                let Some(old) = self.read_item(&key)? else {
                    continue;
                };
                if ttl_expiry(&cur.def, &old).is_none_or(|e| e > now_secs) {
                    continue;
                }
                let mut b = WriteBatch::new();
                let mut meter = super::capacity::Meter::new(&cur.def.name);
                let mut stats = lock(&cur.stats);
                let mut new_stats = stats.clone();
                super::write::stage(
                    &cur.def,
                    &mut new_stats,
                    super::write::Change {
                        key: &key,
                        old: Some(&old),
                        new: None,
                    },
                    &mut b,
                    &mut meter,
                    &self.tap(true),
                )?;
                self.db.write(b, WriteOptions::default())?;
                *stats = new_stats;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// Decode a stored item, naming the key if it is corrupt.
pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<Item> {
    codec::decode_item(value).map_err(|e| {
        DynamoError::internal(
            format!("stored item under key {key:02x?} is corrupt: {e}"),
            e,
        )
    })
}

/// The item's expiry (Unix seconds) under the table's enabled TTL attribute: a non-negative
/// number; anything else never expires.
pub(crate) fn ttl_expiry(def: &TableDef, item: &Item) -> Option<u64> {
    let attr = def.ttl_attribute()?;
    match item.get(attr)? {
        AttributeValue::N(n) if !n.is_negative() => {
            n.to_i64().map(|v| v.max(0) as u64).or(Some(u64::MAX))
        }
        _ => None,
    }
}

/// The TTL queue key of an item, if it expires.
pub(crate) fn ttl_entry_key(def: &TableDef, item: &Item) -> Option<Vec<u8>> {
    let expiry = ttl_expiry(def, item)?;
    let pk = item.get(&def.hash.name)?;
    let sk = def.range.as_ref().and_then(|r| item.get(&r.name));
    Some(keys::ttl_key(def.id, expiry, pk, sk))
}
