//! DynamoDB Streams: every change to a table's items, in order, as records a reader pulls —
//! what Lambda triggers, replication and change-data-capture pipelines consume.
//!
//! **A record is written in the same LSM batch as the change it describes** ([`record`], called
//! by [`super::write::stage`], the one place every item write passes through: PutItem,
//! UpdateItem, DeleteItem, batches, transactions, PartiQL, TTL deletions). So a change and its
//! record are durable together or not at all — no change without its record, no record of a
//! change that did not happen, even across a crash — and records come out in the order the
//! batches were submitted, which is the order they were applied. A write that changes nothing
//! (an item put again as it was, a delete of a missing item) writes no record, as in DynamoDB.
//!
//! ```text
//! record key    01 table_id FE stream:u32be seq:u64be
//! record value  01 event flags time_ms:u64be size:u32be keys old new
//!               event 1 INSERT, 2 MODIFY, 3 REMOVE; flags bit 0: deleted by TTL;
//!               keys, old, new: u32be length (FFFFFFFF: absent) and the item (codec.rs)
//! last seq      00 'Q' table_id → u64be (in the same batch as the record)
//! ```
//!
//! Sequence numbers count up per table from 1 and never repeat (the counter is kept under its
//! own key, so trimming every record does not reset it). Each time the stream is enabled a new
//! stream begins — a new label, ARN and number; disabling closes it, and its records stay
//! readable until they are trimmed, as in DynamoDB. Records are kept 24 hours
//! ([`RETENTION_MS`]): [`Tables::trim_streams`] runs with the server's TTL pass.
//!
//! Differences from DynamoDB, kept simple on purpose: each stream is **one shard** (DynamoDB
//! splits shards as partitions split and closes them every few hours; a reader that follows
//! `NextShardIterator` and the shard list works either way), and a stream's records are dropped
//! with its table at DeleteTable (DynamoDB keeps them readable 24 hours).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::lsm::{Db, ReadOptions, WriteBatch, WriteOptions};

use super::codec;
use super::error::{DynamoError, ErrorKind, Result};
use super::keys;
use super::schema::TableDef;
use super::store::{lock, Tables};
use super::value::{item_size, Item};

/// How long records are kept.
pub const RETENTION_MS: u64 = 24 * 3600 * 1000;
/// How long a shard iterator may be used.
pub const ITERATOR_TTL_MS: u64 = 15 * 60 * 1000;
/// Records per GetRecords, at most (and by default).
pub const MAX_RECORDS: u32 = 1000;
/// Bytes per GetRecords answer, at most (the records' sizes).
const PAGE_BYTES: usize = 1 << 20;
/// Streams per ListStreams page by default (and at most).
const LIST_LIMIT: u32 = 100;
/// Records trimmed per table per pass.
const TRIM_BATCH: usize = 10_000;

const VIEW_TYPES: [&str; 4] = ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

/// A StreamViewType, checked.
pub fn check_view_type(view: Option<&str>) -> Result<&str> {
    let view = view.ok_or_else(|| {
        DynamoError::invalid_parameter("StreamViewType is required when StreamEnabled is true")
    })?;
    if !VIEW_TYPES.contains(&view) {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{view}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            VIEW_TYPES.join(", ")
        )));
    }
    Ok(view)
}

/// One stream of a table, as the catalog keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDef {
    /// Its number within the table (in its records' keys).
    pub number: u32,
    /// StreamLabel: when it was enabled, ISO 8601 to the millisecond (the ARN's last part).
    pub label: String,
    /// StreamViewType.
    pub view: String,
    /// When it was enabled, Unix milliseconds.
    pub created_ms: u64,
    /// The first sequence number it may hold.
    pub start_seq: u64,
    /// Once disabled: the last sequence number it holds (its shard's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_seq: Option<u64>,
    /// Once disabled: when, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_ms: Option<u64>,
}

impl StreamDef {
    /// Stream `number`, enabled at `now_ms` with view type `view`, its first record to be
    /// `start_seq`.
    pub fn new(number: u32, view: &str, now_ms: u64, start_seq: u64) -> StreamDef {
        StreamDef {
            number,
            label: label(now_ms),
            view: view.to_string(),
            created_ms: now_ms,
            start_seq,
            end_seq: None,
            disabled_ms: None,
        }
    }

    /// Its one shard's id (deterministic: from when it began and the table's id).
    pub fn shard_id(&self, def: &TableDef) -> String {
        let hex: Vec<char> = def.uuid.chars().filter(|c| *c != '-').collect();
        let short: String = hex[hex.len().saturating_sub(8)..].iter().collect();
        format!("shardId-{:020}-{short}", self.created_ms)
    }
}

/// `2026-12-05T22:40:00.123`: a StreamLabel.
fn label(ms: u64) -> String {
    let secs = crate::iam::authorizer::iso8601(ms);
    format!("{}.{:03}", secs.trim_end_matches('Z'), ms % 1000)
}

/// A sequence number as DynamoDB writes them: decimal digits (21, zero-padded, so they also
/// sort as strings).
pub fn seq_text(seq: u64) -> String {
    format!("{seq:021}")
}

fn parse_seq(s: &str) -> Result<u64> {
    s.parse()
        .map_err(|_| DynamoError::validation(format!("Invalid SequenceNumber: {s}")))
}

/// What a change was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new item.
    Insert,
    /// An item changed.
    Modify,
    /// An item deleted.
    Remove,
}

impl Event {
    /// `INSERT`, `MODIFY`, `REMOVE`.
    pub fn name(self) -> &'static str {
        match self {
            Event::Insert => "INSERT",
            Event::Modify => "MODIFY",
            Event::Remove => "REMOVE",
        }
    }
}

/// One stream record, read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    /// Its sequence number.
    pub seq: u64,
    /// What happened.
    pub event: Event,
    /// Deleted by TTL (`userIdentity` is then DynamoDB's own service).
    pub by_ttl: bool,
    /// When, Unix milliseconds (ApproximateCreationDateTime).
    pub at_ms: u64,
    /// SizeBytes: the keys' and images' sizes.
    pub size: u32,
    /// The item's key attributes.
    pub keys: Item,
    /// The item before (OLD_IMAGE, NEW_AND_OLD_IMAGES).
    pub old: Option<Item>,
    /// The item after (NEW_IMAGE, NEW_AND_OLD_IMAGES).
    pub new: Option<Item>,
    /// The stream's view type.
    pub view: String,
}

const ABSENT: u32 = u32::MAX;

fn put_item(out: &mut Vec<u8>, item: Option<&Item>) {
    match item {
        Some(i) => {
            let b = codec::encode_item(i);
            out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(ABSENT - 1).to_be_bytes());
            out.extend_from_slice(&b);
        }
        None => out.extend_from_slice(&ABSENT.to_be_bytes()),
    }
}

fn encode(
    event: Event,
    by_ttl: bool,
    at_ms: u64,
    size: u32,
    keys: &Item,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<u8> {
    let mut out = vec![
        1,
        match event {
            Event::Insert => 1,
            Event::Modify => 2,
            Event::Remove => 3,
        },
        u8::from(by_ttl),
    ];
    out.extend_from_slice(&at_ms.to_be_bytes());
    out.extend_from_slice(&size.to_be_bytes());
    put_item(&mut out, Some(keys));
    put_item(&mut out, old);
    put_item(&mut out, new);
    out
}

fn corrupt(key: &[u8], why: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::InternalServerError,
        format!("stream record under key {key:02x?} is corrupt: {why}"),
    )
}

fn decode(key: &[u8], v: &[u8], view: &str) -> Result<StreamRecord> {
    let bad = |why: &str| corrupt(key, why);
    let seq = key
        .len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| bad("key too short"))?;
    if v.len() < 15 || v[0] != 1 {
        return Err(bad("unknown version or too short"));
    }
    let event = match v[1] {
        1 => Event::Insert,
        2 => Event::Modify,
        3 => Event::Remove,
        _ => return Err(bad("unknown event")),
    };
    let be8 = |b: &[u8]| {
        b.try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| bad("truncated"))
    };
    let be4 = |b: &[u8]| {
        b.try_into()
            .map(u32::from_be_bytes)
            .map_err(|_| bad("truncated"))
    };
    let at_ms = be8(&v[3..11])?;
    let size = be4(&v[11..15])?;
    let mut rest = &v[15..];
    let mut take = || -> Result<Option<Item>> {
        let n = be4(rest.get(..4).ok_or_else(|| bad("truncated"))?)?;
        rest = &rest[4..];
        if n == ABSENT {
            return Ok(None);
        }
        let n = n as usize;
        let body = rest.get(..n).ok_or_else(|| bad("truncated item"))?;
        rest = &rest[n..];
        codec::decode_item(body)
            .map(Some)
            .map_err(|e| bad(&e.to_string()))
    };
    let keys = take()?.unwrap_or_default();
    let old = take()?;
    let new = take()?;
    Ok(StreamRecord {
        seq,
        event,
        by_ttl: v[2] & 1 == 1,
        at_ms,
        size,
        keys,
        old,
        new,
        view: view.to_string(),
    })
}

/// The last sequence number of each table, loaded from the database on first use.
#[derive(Debug, Default)]
pub(crate) struct StreamLog {
    last: Mutex<BTreeMap<u64, u64>>,
}

impl StreamLog {
    fn load(db: &Db, table_id: u64) -> Result<u64> {
        Ok(match db.get(&keys::stream_seq_key(table_id))? {
            Some(b) => b[..].try_into().map(u64::from_be_bytes).unwrap_or(0),
            None => 0,
        })
    }

    /// The last sequence number given out for the table (0: none yet).
    pub(crate) fn last(&self, db: &Db, table_id: u64) -> Result<u64> {
        let mut m = lock(&self.last);
        if let Some(n) = m.get(&table_id) {
            return Ok(*n);
        }
        let n = Self::load(db, table_id)?;
        m.insert(table_id, n);
        Ok(n)
    }

    fn next(&self, db: &Db, table_id: u64) -> Result<u64> {
        let n = self.last(db, table_id)? + 1;
        lock(&self.last).insert(table_id, n);
        Ok(n)
    }
}

/// What [`record`] needs besides the change: the sequence numbers, the clock's now, and
/// whether TTL made the change.
pub(crate) struct Tap<'a> {
    pub(crate) log: &'a StreamLog,
    pub(crate) db: &'a Db,
    pub(crate) now_ms: u64,
    pub(crate) by_ttl: bool,
}

/// Stage the stream record of a change from `old` to `new` into `b`, if the table's stream is
/// enabled and something changed.
pub(crate) fn record(
    tap: &Tap<'_>,
    def: &TableDef,
    old: Option<&Item>,
    new: Option<&Item>,
    b: &mut WriteBatch,
) -> Result<()> {
    let Some(s) = def.open_stream() else {
        return Ok(());
    };
    let event = match (old, new) {
        (None, Some(_)) => Event::Insert,
        (Some(o), Some(n)) if o != n => Event::Modify,
        (Some(_), None) => Event::Remove,
        _ => return Ok(()),
    };
    let Some(src) = new.or(old) else {
        return Ok(());
    };
    let key_attrs: Item = def
        .key_names()
        .into_iter()
        .filter_map(|k| src.get(k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let (o, n) = match s.view.as_str() {
        "KEYS_ONLY" => (None, None),
        "NEW_IMAGE" => (None, new),
        "OLD_IMAGE" => (old, None),
        _ => (old, new),
    };
    let size = item_size(&key_attrs) + o.map_or(0, item_size) + n.map_or(0, item_size);
    let seq = tap.log.next(tap.db, def.id)?;
    b.put(
        &keys::stream_key(def.id, s.number, seq),
        &encode(
            event,
            tap.by_ttl,
            tap.now_ms,
            u32::try_from(size).unwrap_or(u32::MAX),
            &key_attrs,
            o,
            n,
        ),
    );
    b.put(&keys::stream_seq_key(def.id), &seq.to_be_bytes());
    Ok(())
}

/// A stream as ListStreams and DescribeStream show it.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo {
    /// StreamArn.
    pub arn: String,
    /// TableName.
    pub table: String,
    /// The stream.
    pub stream: StreamDef,
    /// The table's definition (its KeySchema).
    pub def: TableDef,
    /// The shard's first sequence number still kept (the stream's start when it holds none).
    pub first_seq: u64,
}

/// Where a shard iterator points.
struct Position {
    arn: String,
    shard: String,
    seq: u64,
    issued_ms: u64,
}

fn not_found(arn: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::ResourceNotFound,
        format!("Requested resource not found: Stream: {arn} not found"),
    )
}

impl Tables {
    /// What [`record`] needs for a write now (`by_ttl`: the TTL pass deletes).
    pub(crate) fn tap(&self, by_ttl: bool) -> Tap<'_> {
        Tap {
            log: &self.streams,
            db: &self.db,
            now_ms: self.clock.unix_millis(),
            by_ttl,
        }
    }

    /// Enable (a new stream) or disable (closing the open one) `def`'s stream; the caller
    /// holds the write lock and writes `def`.
    pub(crate) fn set_stream(
        &self,
        def: &mut TableDef,
        enabled: bool,
        view: Option<&str>,
    ) -> Result<()> {
        let open = def.open_stream().is_some();
        if enabled {
            if open {
                return Err(DynamoError::validation(format!(
                    "Table already has an enabled stream: TableName: {}",
                    def.name
                )));
            }
            let view = check_view_type(view)?.to_string();
            let last = self.streams.last(&self.db, def.id)?;
            let number = def.streams.last().map_or(1, |s| s.number + 1);
            def.streams.push(StreamDef::new(
                number,
                &view,
                self.clock.unix_millis(),
                last + 1,
            ));
            def.stream = Some((true, view));
        } else {
            if !open {
                return Err(DynamoError::validation(format!(
                    "Table does not have an enabled stream to disable: TableName: {}",
                    def.name
                )));
            }
            let last = self.streams.last(&self.db, def.id)?;
            let now = self.clock.unix_millis();
            if let Some(s) = def.streams.last_mut() {
                s.end_seq = Some(last);
                s.disabled_ms = Some(now);
            }
            let view = def.stream.take().map(|(_, v)| v).unwrap_or_default();
            def.stream = Some((false, view));
        }
        Ok(())
    }

    fn stream_arn(&self, def: &TableDef, s: &StreamDef) -> String {
        format!("{}/stream/{}", self.table_arn(&def.name), s.label)
    }

    /// The table and stream an ARN names.
    fn stream_of(&self, arn: &str) -> Result<(TableDef, StreamDef)> {
        let (table_arn, label) = arn.split_once("/stream/").ok_or_else(|| not_found(arn))?;
        let t = self.table(table_arn).map_err(|_| not_found(arn))?;
        let s = t
            .def
            .streams
            .iter()
            .find(|s| s.label == label)
            .cloned()
            .ok_or_else(|| not_found(arn))?;
        Ok((t.def.clone(), s))
    }

    /// The first position of the stream's shard a reader can get: its oldest record kept, or,
    /// with none kept, just past the last sequence number it could have held (everything
    /// before was trimmed, or never written).
    fn first_kept(&self, def: &TableDef, s: &StreamDef) -> Result<u64> {
        let prefix = keys::stream_prefix(def.id, s.number);
        let mut it = self.db.iter_prefix(ReadOptions::default(), &prefix);
        it.seek_to_first()?;
        if it.valid() {
            if let Some(seq) = it
                .key()
                .get(prefix.len()..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
            {
                return Ok(seq);
            }
        }
        drop(it);
        let high = match s.end_seq {
            Some(e) => e,
            None => self.streams.last(&self.db, def.id)?,
        };
        Ok(s.start_seq.max(high + 1))
    }

    fn info(&self, def: &TableDef, s: &StreamDef) -> Result<StreamInfo> {
        Ok(StreamInfo {
            arn: self.stream_arn(def, s),
            table: def.name.clone(),
            first_seq: self.first_kept(def, s)?,
            stream: s.clone(),
            def: def.clone(),
        })
    }

    /// ListStreams: every stream (of `table`, if given), by table name and age, paged after
    /// `start` (a StreamArn).
    pub fn list_streams(
        &self,
        table: Option<&str>,
        limit: Option<u32>,
        start: Option<&str>,
    ) -> Result<(Vec<StreamInfo>, Option<String>)> {
        let limit = limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT) as usize;
        let tables: Vec<TableDef> = match table {
            Some(n) => vec![self.table(n)?.def.clone()],
            None => self
                .catalog
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .map(|t| t.def.clone())
                .collect(),
        };
        let mut all = Vec::new();
        for def in &tables {
            for s in &def.streams {
                all.push(self.info(def, s)?);
            }
        }
        if let Some(start) = start {
            match all.iter().position(|i| i.arn == start) {
                Some(at) => {
                    all.drain(..=at);
                }
                None => return Err(not_found(start)),
            }
        }
        let more = all.len() > limit;
        all.truncate(limit);
        let last = more.then(|| all.last().map(|i| i.arn.clone())).flatten();
        Ok((all, last))
    }

    /// DescribeStream.
    pub fn describe_stream(&self, arn: &str) -> Result<StreamInfo> {
        let (def, s) = self.stream_of(arn)?;
        self.info(&def, &s)
    }

    /// GetShardIterator: where reading begins — the oldest record kept (`TRIM_HORIZON`), after
    /// the newest (`LATEST`), at or after a sequence number.
    pub fn get_shard_iterator(
        &self,
        arn: &str,
        shard: &str,
        kind: &str,
        seq: Option<&str>,
    ) -> Result<String> {
        let (def, s) = self.stream_of(arn)?;
        if shard != s.shard_id(&def) {
            return Err(DynamoError::new(
                ErrorKind::ResourceNotFound,
                format!("Requested resource not found: Shard does not exist: {shard}"),
            ));
        }
        let first = self.first_kept(&def, &s)?;
        let needs_seq = || {
            seq.ok_or_else(|| {
                DynamoError::validation(format!(
                    "SequenceNumber is required for ShardIteratorType {kind}"
                ))
            })
        };
        if seq.is_some() && matches!(kind, "TRIM_HORIZON" | "LATEST") {
            // DynamoDB refuses it (ScyllaDB's Alternator tests, run against DynamoDB).
            return Err(DynamoError::validation(format!(
                "SequenceNumber must not be given for ShardIteratorType {kind}"
            )));
        }
        let pos = match kind {
            "TRIM_HORIZON" => first,
            "LATEST" => s.end_seq.unwrap_or(self.streams.last(&self.db, def.id)?) + 1,
            "AT_SEQUENCE_NUMBER" => parse_seq(needs_seq()?)?,
            "AFTER_SEQUENCE_NUMBER" => parse_seq(needs_seq()?)? + 1,
            other => {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, AT_SEQUENCE_NUMBER, LATEST]"
                )))
            }
        };
        if matches!(kind, "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER") {
            let given = seq.unwrap_or_default();
            if pos < s.start_seq || s.end_seq.is_some_and(|e| pos > e + 1) {
                return Err(DynamoError::validation(format!(
                    "Invalid SequenceNumber {given}: not a sequence number of shard {shard}"
                )));
            }
            if pos < first {
                return Err(DynamoError::new(
                    ErrorKind::TrimmedDataAccess,
                    format!(
                        "The requested sequence number {given} is before the oldest record kept in the shard, {}: it was trimmed (records are kept 24 hours)",
                        seq_text(first)
                    ),
                ));
            }
        }
        Ok(iterator(&Position {
            arn: arn.to_string(),
            shard: shard.to_string(),
            seq: pos,
            issued_ms: self.clock.unix_millis(),
        }))
    }

    /// GetRecords: up to `limit` records (1,000 at most, and 1 MB) from where the iterator
    /// points, and the iterator for what follows — none once a closed shard has been read to its
    /// end.
    pub fn get_records(
        &self,
        it_text: &str,
        limit: Option<u32>,
    ) -> Result<(Vec<StreamRecord>, Option<String>)> {
        let p = parse_iterator(it_text)?;
        let now = self.clock.unix_millis();
        if now.saturating_sub(p.issued_ms) > ITERATOR_TTL_MS {
            return Err(DynamoError::new(
                ErrorKind::ExpiredIterator,
                "Iterator expired: a shard iterator may be used for 15 minutes",
            ));
        }
        let limit = limit.unwrap_or(MAX_RECORDS);
        if limit == 0 || limit > MAX_RECORDS {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {MAX_RECORDS}"
            )));
        }
        let (def, s) = self.stream_of(&p.arn)?;
        let first = self.first_kept(&def, &s)?;
        if p.seq < first {
            return Err(DynamoError::new(
                ErrorKind::TrimmedDataAccess,
                "The iterator points before the oldest record kept in the shard: it was trimmed (records are kept 24 hours)",
            ));
        }
        let prefix = keys::stream_prefix(def.id, s.number);
        let mut it = self.db.iter_prefix(ReadOptions::default(), &prefix);
        it.seek(&keys::stream_key(def.id, s.number, p.seq))?;
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        let mut next = p.seq;
        while it.valid() && out.len() < limit as usize && bytes < PAGE_BYTES {
            let r = decode(it.key(), it.value(), &s.view)?;
            bytes += r.size as usize;
            next = r.seq + 1;
            out.push(r);
            it.next()?;
        }
        let at_end = !it.valid();
        drop(it);
        let done = s.end_seq.is_some_and(|e| next > e) || (s.end_seq.is_some() && at_end);
        let follow = (!done).then(|| {
            iterator(&Position {
                issued_ms: now,
                seq: next,
                ..p
            })
        });
        Ok((out, follow))
    }

    /// Whether table `name` has a stream record older than `horizon` or a stream closed
    /// before it.
    fn trim_due(&self, name: &str, horizon: u64) -> Result<bool> {
        let Ok(t) = self.table(name) else {
            return Ok(false);
        };
        for s in &t.def.streams {
            if s.disabled_ms.is_some_and(|d| d < horizon) {
                return Ok(true);
            }
            let prefix = keys::stream_prefix(t.def.id, s.number);
            let mut it = self.db.iter_prefix(ReadOptions::default(), &prefix);
            it.seek_to_first()?;
            let oldest = it
                .valid()
                .then(|| it.value().get(3..11).and_then(|b| b.try_into().ok()))
                .flatten()
                .map(u64::from_be_bytes);
            if oldest.is_some_and(|at| at < horizon) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Drop stream records older than [`RETENTION_MS`], and streams disabled longer ago than
    /// that with them (at most [`TRIM_BATCH`] records a table a pass). Returns how many
    /// records went.
    pub fn trim_streams(&self, now_ms: u64) -> Result<usize> {
        let horizon = now_ms.saturating_sub(RETENTION_MS);
        let tables: Vec<String> = self
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|t| !t.def.streams.is_empty())
            .map(|t| t.def.name.clone())
            .collect();
        let mut trimmed = 0;
        for name in tables {
            // A look without the lock first: most passes find nothing due, and taking the
            // write lock waits for every write in flight.
            if !self.trim_due(&name, horizon)? {
                continue;
            }
            let _w = self.lock_writes();
            let Ok(t) = self.table(&name) else { continue };
            let mut b = WriteBatch::new();
            let mut n = 0;
            for s in &t.def.streams {
                let prefix = keys::stream_prefix(t.def.id, s.number);
                let mut it = self.db.iter_prefix(ReadOptions::default(), &prefix);
                it.seek_to_first()?;
                while it.valid() && n < TRIM_BATCH {
                    let v = it.value();
                    let at = v
                        .get(3..11)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_be_bytes);
                    if at.is_some_and(|at| at >= horizon) {
                        break;
                    }
                    b.delete(it.key());
                    n += 1;
                    it.next()?;
                }
            }
            let mut def = t.def.clone();
            // A closed stream past retention with nothing left goes from the catalog too.
            let before = def.streams.len();
            let kept_open = def.open_stream().map(|s| s.number);
            def.streams.retain(|s| {
                Some(s.number) == kept_open || s.disabled_ms.is_none_or(|d| d >= horizon)
            });
            if n == 0 && def.streams.len() == before {
                continue;
            }
            if def.streams.len() != before {
                b.put(
                    &keys::catalog_key(&def.name),
                    &serde_json::to_vec(&def).unwrap_or_default(),
                );
            }
            self.db.write(b, WriteOptions::default())?;
            if def.streams.len() != before {
                self.install(def, t.stats());
            }
            trimmed += n;
        }
        Ok(trimmed)
    }
}

/// Whether `arn` has the shape of a stream's ARN,
/// `arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL` — whether or not the stream
/// exists. A request naming anything else is malformed (ValidationException), not a request
/// for a stream that is not there (ResourceNotFoundException).
pub fn is_stream_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let Some((table, label)) = resource
        .strip_prefix("table/")
        .and_then(|r| r.split_once("/stream/"))
    else {
        return false;
    };
    *arn_word == "arn"
        && !partition.is_empty()
        && *service == "dynamodb"
        && !region.is_empty()
        && !account.is_empty()
        && !table.is_empty()
        && !label.is_empty()
}

/// The stream ARN a shard iterator reads (what GetRecords is authorized on).
pub fn iterator_arn(text: &str) -> Option<String> {
    parse_iterator(text).ok().map(|p| p.arn)
}

fn iterator(p: &Position) -> String {
    format!("{}|{}|{}|{}", p.arn, p.shard, p.seq, p.issued_ms)
}

fn parse_iterator(text: &str) -> Result<Position> {
    let bad = || DynamoError::validation(format!("Invalid ShardIterator: {text}"));
    let mut parts = text.rsplitn(4, '|');
    let issued_ms = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let seq = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let shard = parts.next().ok_or_else(bad)?.to_string();
    let arn = parts.next().ok_or_else(bad)?.to_string();
    Ok(Position {
        arn,
        shard,
        seq,
        issued_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::value::AttributeValue;

    #[test]
    fn records_round_trip_and_corruption_is_named() {
        let keys: Item = [("pk".to_string(), AttributeValue::s("a"))].into();
        let mut new = keys.clone();
        new.insert("v".into(), AttributeValue::s("x"));
        let v = encode(
            Event::Modify,
            true,
            1_796_464_800_123,
            42,
            &keys,
            None,
            Some(&new),
        );
        let k = keys::stream_key(7, 2, 99);
        let r = decode(&k, &v, "NEW_IMAGE").unwrap();
        assert_eq!(
            (r.seq, r.event, r.by_ttl, r.at_ms, r.size),
            (99, Event::Modify, true, 1_796_464_800_123, 42)
        );
        assert_eq!((r.keys, r.old, r.new), (keys, None, Some(new)));
        for cut in [0, 5, 15, v.len() - 1] {
            assert!(decode(&k, &v[..cut], "NEW_IMAGE").is_err(), "cut at {cut}");
        }
        assert_eq!(label(1_796_464_800_123), "2026-12-05T10:00:00.123");
        assert_eq!(seq_text(99), "000000000000000000099");
    }

    #[test]
    fn iterators_parse_back() {
        let p = Position {
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-12-05T10:00:00.123"
                .into(),
            shard: "shardId-00000000000000000001-abcd1234".into(),
            seq: 17,
            issued_ms: 5,
        };
        let back = parse_iterator(&iterator(&p)).unwrap();
        assert_eq!(
            (back.arn, back.shard, back.seq, back.issued_ms),
            (p.arn, p.shard, 17, 5)
        );
        assert!(parse_iterator("nonsense").is_err());
    }
}
