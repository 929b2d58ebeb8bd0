//! DynamoDB's data model on the LSM: items with a partition key, an optional sort key and JSON
//! attributes; put / get / delete / update with conditions; queries of one partition by
//! sort-key range or prefix, in either order, with a limit and a continuation token; and a TTL
//! attribute whose expired items are invisible at once and purged by compaction.
//!
//! Each item is one LSM entry (key layout in [`keys`]); its value is the item's JSON. Key
//! attributes are strings. Conditional writes are read-check-write under one mutex per store,
//! so they are atomic among the store's callers.

pub mod keys;

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::clock::ClockHandle;
use crate::lsm::{CompactionFilter, Db, LsmError, ReadOptions, WriteBatch, WriteOptions};

/// An item: attribute name → JSON value.
pub type Item = Map<String, Value>;

/// What went wrong in the table layer.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The LSM failed (I/O, corruption, ...).
    #[error(transparent)]
    Lsm(#[from] LsmError),
    /// The item or request is malformed (missing key attribute, non-string key, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A condition was not met; nothing was written.
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    /// A stored item is not valid JSON (corruption above the LSM's checksums).
    #[error("stored item under {key:?} is not valid JSON: {detail}")]
    BadItem {
        /// The key, lossily printed.
        key: String,
        /// The parser's message.
        detail: String,
    },
}

/// A result of the table layer.
pub type Result<T> = std::result::Result<T, TableError>;

/// A table's key schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    /// Table name (at most 255 bytes).
    pub name: String,
    /// Partition key attribute.
    pub partition_key: String,
    /// Sort key attribute, if the table has one.
    pub sort_key: Option<String>,
    /// Attribute holding an expiry time in Unix seconds, if any.
    pub ttl_attribute: Option<String>,
}

/// A condition on the current item, checked before a write.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The attribute exists (so the item exists).
    Exists(String),
    /// The attribute does not exist (use the partition key for "item does not exist").
    NotExists(String),
    /// The attribute equals this value.
    Equals(String, Value),
}

impl Condition {
    fn check(&self, current: Option<&Item>) -> Result<()> {
        let get = |a: &str| current.and_then(|i| i.get(a));
        let ok = match self {
            Condition::Exists(a) => get(a).is_some(),
            Condition::NotExists(a) => get(a).is_none(),
            Condition::Equals(a, v) => get(a) == Some(v),
        };
        if ok {
            Ok(())
        } else {
            Err(TableError::ConditionFailed(format!("{self:?}")))
        }
    }
}

/// Which sort keys a query selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SortRange {
    /// Every item of the partition.
    #[default]
    All,
    /// Sort keys in `[from, to)` (either end open).
    Between(Option<String>, Option<String>),
    /// Sort keys starting with this prefix.
    Prefix(String),
}

/// A query of one partition.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// The partition key value.
    pub partition: String,
    /// Which sort keys.
    pub range: SortRange,
    /// Descending sort-key order.
    pub reverse: bool,
    /// At most this many items (0 = no limit).
    pub limit: usize,
    /// Continue after this token (from a previous page).
    pub start_after: Option<String>,
}

/// One page of query results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The items, in the requested order.
    pub items: Vec<Item>,
    /// Pass as `start_after` to get the next page; `None` when there is no more.
    pub next_token: Option<String>,
}

/// Drops items whose TTL attribute is in the past, during compaction.
#[derive(Debug)]
pub struct TtlFilter {
    attribute: String,
    clock: ClockHandle,
}

impl TtlFilter {
    /// A filter reading expiry times (Unix seconds) from `attribute`.
    pub fn new(attribute: &str, clock: ClockHandle) -> Self {
        TtlFilter {
            attribute: attribute.to_string(),
            clock,
        }
    }
}

fn expired(item: &Item, attr: &str, now_secs: u64) -> bool {
    item.get(attr)
        .and_then(Value::as_u64)
        .is_some_and(|t| t <= now_secs)
}

impl CompactionFilter for TtlFilter {
    fn is_expired(&self, _key: &[u8], value: &[u8]) -> bool {
        match serde_json::from_slice::<Item>(value) {
            Ok(item) => expired(&item, &self.attribute, self.clock.unix_millis() / 1000),
            Err(_) => false,
        }
    }
}

/// One table on an LSM database. Several stores (tables) may share a database; a table with a
/// TTL attribute needs the database opened with a [`TtlFilter`] as its compaction filter for
/// expired items to be purged (they are hidden from reads either way).
#[derive(Debug)]
pub struct TableStore {
    db: Arc<Db>,
    schema: TableSchema,
    clock: ClockHandle,
    write_lock: Mutex<()>,
}

impl TableStore {
    /// A store for `schema` on `db`.
    pub fn new(db: Arc<Db>, schema: TableSchema, clock: ClockHandle) -> Result<Self> {
        if schema.name.is_empty() || schema.name.len() > 255 {
            return Err(TableError::Invalid(
                "table name must be 1..=255 bytes".into(),
            ));
        }
        Ok(TableStore {
            db,
            schema,
            clock,
            write_lock: Mutex::new(()),
        })
    }

    /// The schema.
    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    fn key_parts<'a>(&self, item: &'a Item) -> Result<(&'a str, &'a str)> {
        let s = |attr: &str| -> Result<&'a str> {
            item.get(attr).and_then(Value::as_str).ok_or_else(|| {
                TableError::Invalid(format!("item needs a string attribute '{attr}'"))
            })
        };
        let pk = s(&self.schema.partition_key)?;
        let sk = match &self.schema.sort_key {
            Some(a) => s(a)?,
            None => "",
        };
        if pk.len() > u16::MAX as usize {
            return Err(TableError::Invalid(
                "partition key longer than 65535 bytes".into(),
            ));
        }
        Ok((pk, sk))
    }

    fn now_secs(&self) -> u64 {
        self.clock.unix_millis() / 1000
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> Result<Option<Item>> {
        let item: Item = serde_json::from_slice(value).map_err(|e| TableError::BadItem {
            key: String::from_utf8_lossy(key).into_owned(),
            detail: e.to_string(),
        })?;
        if let Some(ttl) = &self.schema.ttl_attribute {
            if expired(&item, ttl, self.now_secs()) {
                return Ok(None);
            }
        }
        Ok(Some(item))
    }

    fn get_raw(&self, key: &[u8]) -> Result<Option<Item>> {
        match self.db.get(key)? {
            Some(v) => self.decode(key, &v),
            None => Ok(None),
        }
    }

    /// The item with this partition and sort key (`""` for tables without a sort key).
    pub fn get(&self, partition: &str, sort: &str) -> Result<Option<Item>> {
        self.get_raw(&keys::item_key(&self.schema.name, partition, sort))
    }

    /// Store `item` (replacing any item with the same key) if `condition` holds.
    pub fn put(&self, item: Item, condition: Option<&Condition>) -> Result<()> {
        let (pk, sk) = self.key_parts(&item)?;
        let key = keys::item_key(&self.schema.name, pk, sk);
        let value = serde_json::to_vec(&item).map_err(|e| TableError::Invalid(e.to_string()))?;
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = condition {
            c.check(self.get_raw(&key)?.as_ref())?;
        }
        let mut b = WriteBatch::new();
        b.put(&key, &value);
        self.db.write(b, WriteOptions::default())?;
        Ok(())
    }

    /// Delete an item if `condition` holds; returns the deleted item.
    pub fn delete(
        &self,
        partition: &str,
        sort: &str,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>> {
        let key = keys::item_key(&self.schema.name, partition, sort);
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.get_raw(&key)?;
        if let Some(c) = condition {
            c.check(current.as_ref())?;
        }
        let mut b = WriteBatch::new();
        b.delete(&key);
        self.db.write(b, WriteOptions::default())?;
        Ok(current)
    }

    /// Set attributes in `set` and remove those in `remove` on an existing (or new) item, if
    /// `condition` holds; returns the new item. Key attributes cannot be changed.
    pub fn update(
        &self,
        partition: &str,
        sort: &str,
        set: Item,
        remove: &[String],
        condition: Option<&Condition>,
    ) -> Result<Item> {
        let key_attrs: Vec<&String> = std::iter::once(&self.schema.partition_key)
            .chain(self.schema.sort_key.as_ref())
            .collect();
        if set.keys().chain(remove).any(|a| key_attrs.contains(&a)) {
            return Err(TableError::Invalid(
                "update cannot change key attributes".into(),
            ));
        }
        let key = keys::item_key(&self.schema.name, partition, sort);
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.get_raw(&key)?;
        if let Some(c) = condition {
            c.check(current.as_ref())?;
        }
        let mut item = current.unwrap_or_else(|| {
            let mut i = Item::new();
            i.insert(
                self.schema.partition_key.clone(),
                Value::String(partition.into()),
            );
            if let Some(s) = &self.schema.sort_key {
                i.insert(s.clone(), Value::String(sort.into()));
            }
            i
        });
        for (k, v) in set {
            item.insert(k, v);
        }
        for k in remove {
            item.remove(k);
        }
        let value = serde_json::to_vec(&item).map_err(|e| TableError::Invalid(e.to_string()))?;
        let mut b = WriteBatch::new();
        b.put(&key, &value);
        self.db.write(b, WriteOptions::default())?;
        Ok(item)
    }

    /// Query one partition. Expired items are skipped (and do not count toward the limit).
    pub fn query(&self, q: &Query) -> Result<Page> {
        let prefix = keys::partition_prefix(&self.schema.name, &q.partition);
        let with = |s: &str| {
            let mut k = prefix.clone();
            k.extend_from_slice(s.as_bytes());
            k
        };
        let (mut lower, mut upper) = match &q.range {
            SortRange::All => (prefix.clone(), crate::lsm::prefix_successor(&prefix)),
            SortRange::Between(from, to) => (
                from.as_deref().map_or_else(|| prefix.clone(), with),
                match to {
                    Some(t) => Some(with(t)),
                    None => crate::lsm::prefix_successor(&prefix),
                },
            ),
            SortRange::Prefix(p) => {
                let lo = with(p);
                let hi = crate::lsm::prefix_successor(&lo);
                (lo, hi)
            }
        };
        // The token is the last sort key returned; continue strictly after (or before) it.
        if let Some(tok) = &q.start_after {
            let k = with(tok);
            if q.reverse {
                if upper.as_ref().is_none_or(|u| &k < u) {
                    upper = Some(k);
                }
            } else {
                let mut after = k;
                after.push(0);
                if after > lower {
                    lower = after;
                }
            }
        }
        let mut it = self
            .db
            .iter(ReadOptions::default(), Some(&lower), upper.as_deref());
        if q.reverse {
            it.seek_to_last()?;
        } else {
            it.seek_to_first()?;
        }
        let limit = if q.limit == 0 { usize::MAX } else { q.limit };
        let mut items = Vec::new();
        let mut last_sort: Option<String> = None;
        // Bound: one step per key in the range.
        while it.valid() {
            if items.len() == limit {
                return Ok(Page {
                    items,
                    next_token: last_sort,
                });
            }
            if let Some(item) = self.decode(it.key(), it.value())? {
                let sort = keys::sort_part(it.key(), &prefix).unwrap_or_default();
                last_sort = Some(String::from_utf8_lossy(sort).into_owned());
                items.push(item);
            }
            if q.reverse {
                it.prev()?;
            } else {
                it.next()?;
            }
        }
        Ok(Page {
            items,
            next_token: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, VirtualClock};
    use crate::io::posix::PosixFs;
    use crate::lsm::Options;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    fn setup() -> (tempfile::TempDir, Arc<Db>, TableStore, Arc<VirtualClock>) {
        let t = tempfile::tempdir().unwrap();
        let clock = Arc::new(VirtualClock::new());
        let mut opts = Options::small_for_tests();
        opts.compaction_filter = Some(Arc::new(TtlFilter::new("expires", clock.clone())));
        let db =
            Arc::new(Db::open(Arc::new(PosixFs::new()), t.path(), opts, clock.clone()).unwrap());
        let schema = TableSchema {
            name: "orders".into(),
            partition_key: "customer".into(),
            sort_key: Some("order".into()),
            ttl_attribute: Some("expires".into()),
        };
        let store = TableStore::new(db.clone(), schema, clock.clone()).unwrap();
        (t, db, store, clock)
    }

    #[test]
    fn put_get_conditions_update_delete() {
        let (_t, _db, s, _c) = setup();
        let a = item(json!({"customer": "ann", "order": "001", "total": 10}));
        s.put(a.clone(), Some(&Condition::NotExists("customer".into())))
            .unwrap();
        assert_eq!(s.get("ann", "001").unwrap(), Some(a.clone()));
        let again = s.put(a.clone(), Some(&Condition::NotExists("customer".into())));
        assert!(matches!(again, Err(TableError::ConditionFailed(_))));
        let u = s
            .update(
                "ann",
                "001",
                item(json!({"total": 12, "note": "x"})),
                &[],
                Some(&Condition::Equals("total".into(), json!(10))),
            )
            .unwrap();
        assert_eq!(u.get("total"), Some(&json!(12)));
        assert!(s
            .update(
                "ann",
                "001",
                Item::new(),
                &["note".into()],
                Some(&Condition::Equals("total".into(), json!(10)))
            )
            .is_err());
        assert!(s
            .update("ann", "001", item(json!({"customer": "bob"})), &[], None)
            .is_err());
        assert!(
            s.put(item(json!({"customer": "ann"})), None).is_err(),
            "sort key required"
        );
        assert!(s
            .delete("ann", "001", Some(&Condition::Exists("nope".into())))
            .is_err());
        assert!(s
            .delete("ann", "001", Some(&Condition::Exists("note".into())))
            .unwrap()
            .is_some());
        assert_eq!(s.get("ann", "001").unwrap(), None);
    }

    #[test]
    fn query_ranges_order_limit_and_tokens() {
        let (_t, _db, s, _c) = setup();
        for c in ["ann", "an", "bob"] {
            for o in 0..25 {
                s.put(
                    item(json!({"customer": c, "order": format!("{o:03}")})),
                    None,
                )
                .unwrap();
            }
        }
        let sorts = |p: &Page| {
            p.items
                .iter()
                .map(|i| i["order"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let all = s
            .query(&Query {
                partition: "an".into(),
                ..Query::default()
            })
            .unwrap();
        assert_eq!(all.items.len(), 25, "partitions 'an' and 'ann' do not mix");
        let q = Query {
            partition: "ann".into(),
            range: SortRange::Between(Some("005".into()), Some("015".into())),
            limit: 4,
            ..Query::default()
        };
        let mut got = Vec::new();
        let mut page = s.query(&q).unwrap();
        for _ in 0..10 {
            got.extend(sorts(&page));
            match page.next_token.clone() {
                Some(t) => {
                    page = s
                        .query(&Query {
                            start_after: Some(t),
                            ..q.clone()
                        })
                        .unwrap()
                }
                None => break,
            }
        }
        assert_eq!(got, (5..15).map(|o| format!("{o:03}")).collect::<Vec<_>>());
        let rev = s
            .query(&Query {
                partition: "bob".into(),
                range: SortRange::Prefix("01".into()),
                reverse: true,
                limit: 3,
                ..Query::default()
            })
            .unwrap();
        assert_eq!(sorts(&rev), vec!["019", "018", "017"]);
        let rest = s
            .query(&Query {
                partition: "bob".into(),
                range: SortRange::Prefix("01".into()),
                reverse: true,
                start_after: rev.next_token,
                ..Query::default()
            })
            .unwrap();
        assert_eq!(
            sorts(&rest),
            (10..17)
                .rev()
                .map(|o| format!("{o:03}"))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn ttl_hides_at_once_and_compaction_purges() {
        let (_t, db, s, clock) = setup();
        let now = clock.unix_millis() / 1000;
        for o in 0..200 {
            s.put(item(json!({"customer": "c", "order": format!("{o:03}"), "expires": now + 10, "pad": "x".repeat(100)})), None).unwrap();
        }
        s.put(item(json!({"customer": "c", "order": "keep"})), None)
            .unwrap();
        assert_eq!(
            s.query(&Query {
                partition: "c".into(),
                ..Query::default()
            })
            .unwrap()
            .items
            .len(),
            201
        );
        clock.advance(11_000_000_000);
        assert_eq!(
            s.get("c", "000").unwrap(),
            None,
            "expired items are invisible at once"
        );
        assert_eq!(
            s.query(&Query {
                partition: "c".into(),
                ..Query::default()
            })
            .unwrap()
            .items
            .len(),
            1
        );
        // Compaction to the bottom purges them: the raw LSM no longer holds the keys.
        db.compact_all().unwrap();
        let mut it = db.iter(ReadOptions::default(), None, None);
        it.seek_to_first().unwrap();
        let raw = it.collect_forward(usize::MAX).unwrap();
        assert_eq!(raw.len(), 1, "compaction purged the expired items");
    }
}
