//! The table API's [`Response`] as DynamoDB's response JSON, written straight to bytes.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use seedbed_engine::table::schema::{IndexDef, KeyAttr, ProjectionType};
use seedbed_engine::table::streams::{seq_text, StreamInfo, StreamRecord};
use seedbed_engine::table::{BatchGetOutput, ConsumedCapacity, Item, Request, Response, TableInfo};

use crate::wire::{item_to_json, WireItem, WireItems};

/// BatchExecuteStatement's code for one statement's error (`BatchStatementErrorCodeEnum`).
fn batch_error_code(e: &seedbed_engine::table::DynamoError) -> &'static str {
    use seedbed_engine::table::ErrorKind;
    match e.kind {
        ErrorKind::ConditionalCheckFailed => "ConditionalCheckFailed",
        ErrorKind::DuplicateItem => "DuplicateItem",
        ErrorKind::ResourceNotFound => "ResourceNotFound",
        ErrorKind::AccessDenied => "AccessDenied",
        ErrorKind::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceeded",
        ErrorKind::InternalServerError => "InternalServerError",
        _ => "ValidationError",
    }
}

/// A KeySchema: the partition-key attributes (HASH), then the sort-key ones (RANGE), in order.
fn key_schema(hash: &[&KeyAttr], range: &[&KeyAttr]) -> Value {
    let element = |k: &KeyAttr, kind: &str| json!({"AttributeName": k.name, "KeyType": kind});
    Value::Array(
        hash.iter()
            .map(|k| element(k, "HASH"))
            .chain(range.iter().map(|k| element(k, "RANGE")))
            .collect(),
    )
}

fn projection(p: &ProjectionType) -> Value {
    match p {
        ProjectionType::Include(a) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": a}),
        other => json!({"ProjectionType": other.name()}),
    }
}

fn throughput(read: u64, write: u64) -> Value {
    json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": read, "WriteCapacityUnits": write})
}

/// A table description (`TableDescription` / `Table`).
pub fn table_description(info: &TableInfo, region: &str, account: &str) -> Value {
    let d = &info.def;
    let arn = d.arn(region, account);
    let stat = |n: usize| info.stats.get(n).copied().unwrap_or_default();
    let created = d.created_unix_ms as f64 / 1000.0;
    let mut t = Map::new();
    t.insert(
        "AttributeDefinitions".into(),
        Value::Array(
            d.attributes
                .iter()
                .map(|a| json!({"AttributeName": a.name, "AttributeType": a.ty}))
                .collect(),
        ),
    );
    t.insert("TableName".into(), json!(d.name));
    let table_range: Vec<&KeyAttr> = d.range.iter().collect();
    t.insert("KeySchema".into(), key_schema(&[&d.hash], &table_range));
    t.insert("TableStatus".into(), json!(info.status));
    t.insert("CreationDateTime".into(), json!(created));
    t.insert(
        "ProvisionedThroughput".into(),
        throughput(d.throughput.read, d.throughput.write),
    );
    t.insert("TableSizeBytes".into(), json!(stat(0).size_bytes));
    t.insert("ItemCount".into(), json!(stat(0).item_count));
    t.insert("TableArn".into(), json!(arn));
    t.insert("TableId".into(), json!(d.uuid));
    if d.billing_mode == "PAY_PER_REQUEST" {
        t.insert(
            "BillingModeSummary".into(),
            json!({"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": created}),
        );
    }
    let index = |ix: &IndexDef, deleting: bool| {
        let s = stat(ix.number as usize);
        let mut o = Map::new();
        o.insert("IndexName".into(), json!(ix.name));
        o.insert(
            "KeySchema".into(),
            key_schema(&ix.hash_attrs(), &ix.range_attrs()),
        );
        o.insert("Projection".into(), projection(&ix.projection));
        if !ix.local {
            if deleting {
                // Its entries are being deleted (`online.rs`).
                o.insert("IndexStatus".into(), json!("DELETING"));
            } else if ix.backfill.is_some() {
                // Being built (`online.rs`): DynamoDB's words for it.
                o.insert("IndexStatus".into(), json!("CREATING"));
                o.insert("Backfilling".into(), json!(true));
            } else {
                o.insert("IndexStatus".into(), json!("ACTIVE"));
            }
            let t = ix.throughput.unwrap_or_default();
            o.insert("ProvisionedThroughput".into(), throughput(t.read, t.write));
        }
        o.insert("IndexSizeBytes".into(), json!(s.size_bytes));
        o.insert("ItemCount".into(), json!(s.item_count));
        o.insert("IndexArn".into(), json!(format!("{arn}/index/{}", ix.name)));
        Value::Object(o)
    };
    if !d.lsis.is_empty() {
        t.insert(
            "LocalSecondaryIndexes".into(),
            Value::Array(d.lsis.iter().map(|ix| index(ix, false)).collect()),
        );
    }
    let deleting = d.purging.iter().filter_map(|p| p.index.as_ref());
    let gsis: Vec<Value> = (d.gsis.iter().map(|ix| index(ix, false)))
        .chain(deleting.map(|ix| index(ix, true)))
        .collect();
    if !gsis.is_empty() {
        t.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some((enabled, view)) = &d.stream {
        let mut s = Map::new();
        s.insert("StreamEnabled".into(), json!(enabled));
        if *enabled {
            s.insert("StreamViewType".into(), json!(view));
        }
        t.insert("StreamSpecification".into(), Value::Object(s));
    }
    if let Some(s) = d.streams.last() {
        t.insert(
            "LatestStreamArn".into(),
            json!(format!("{arn}/stream/{}", s.label)),
        );
        t.insert("LatestStreamLabel".into(), json!(s.label));
    }
    t.insert(
        "DeletionProtectionEnabled".into(),
        json!(d.deletion_protection),
    );
    let (read, write) = d
        .warm
        .unwrap_or(seedbed_engine::table::schema::WARM_DEFAULT);
    t.insert(
        "WarmThroughput".into(),
        json!({"ReadUnitsPerSecond": read, "WriteUnitsPerSecond": write, "Status": "ACTIVE"}),
    );
    if let Some((read, write)) = d.on_demand {
        t.insert(
            "OnDemandThroughput".into(),
            json!({"MaxReadRequestUnits": read, "MaxWriteRequestUnits": write}),
        );
    }
    if let Some(c) = &d.table_class {
        let mut summary = Map::new();
        summary.insert("TableClass".into(), json!(c.class));
        if let Some(ms) = c.updated_unix_ms {
            summary.insert("LastUpdateDateTime".into(), json!(ms as f64 / 1000.0));
        }
        t.insert("TableClassSummary".into(), Value::Object(summary));
    }
    Value::Object(t)
}

/// DescribeStream's `StreamDescription`: one shard per stream (engine/src/table/streams.rs).
fn stream_description(info: &StreamInfo, listed: bool) -> Value {
    let s = &info.stream;
    let d = &info.def;
    let mut range = Map::new();
    range.insert(
        "StartingSequenceNumber".into(),
        json!(seq_text(info.first_seq)),
    );
    if let Some(end) = s.end_seq {
        range.insert("EndingSequenceNumber".into(), json!(seq_text(end)));
    }
    let shards: Vec<Value> = if listed {
        vec![json!({"ShardId": s.shard_id(d), "SequenceNumberRange": Value::Object(range)})]
    } else {
        Vec::new()
    };
    let table_range: Vec<&KeyAttr> = d.range.iter().collect();
    json!({
        "StreamArn": info.arn,
        "StreamLabel": s.label,
        "StreamStatus": if s.end_seq.is_some() { "DISABLED" } else { "ENABLED" },
        "StreamViewType": s.view,
        "CreationRequestDateTime": s.created_ms as f64 / 1000.0,
        "TableName": info.table,
        "KeySchema": key_schema(&[&d.hash], &table_range),
        "Shards": shards,
    })
}

/// One GetRecords record, as DynamoDB Streams writes it.
fn stream_record(r: &StreamRecord, region: &str, stream_hash: u32) -> Value {
    let mut dynamodb = Map::new();
    // Whole seconds, as DynamoDB Streams rounds it.
    dynamodb.insert("ApproximateCreationDateTime".into(), json!(r.at_ms / 1000));
    dynamodb.insert("Keys".into(), item_to_json(&r.keys));
    if let Some(n) = &r.new {
        dynamodb.insert("NewImage".into(), item_to_json(n));
    }
    if let Some(o) = &r.old {
        dynamodb.insert("OldImage".into(), item_to_json(o));
    }
    dynamodb.insert("SequenceNumber".into(), json!(seq_text(r.seq)));
    dynamodb.insert("SizeBytes".into(), json!(r.size));
    dynamodb.insert("StreamViewType".into(), json!(r.view));
    let id = format!("{stream_hash:08x}{:016x}", r.seq);
    let mut o = Map::new();
    o.insert("eventID".into(), json!(id));
    o.insert("eventName".into(), json!(r.event.name()));
    o.insert("eventVersion".into(), json!("1.1"));
    o.insert("eventSource".into(), json!("aws:dynamodb"));
    o.insert("awsRegion".into(), json!(region));
    o.insert("dynamodb".into(), Value::Object(dynamodb));
    if r.by_ttl {
        o.insert(
            "userIdentity".into(),
            json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}),
        );
    }
    Value::Object(o)
}

/// One table's `ConsumedCapacity`. DynamoDB splits the total into `ReadCapacityUnits` and
/// `WriteCapacityUnits` only for transactions (`split`); every other operation — single
/// items, Query, Scan and the batches — reports the aggregate `CapacityUnits` alone, under
/// `TOTAL` and `INDEXES` (characterised against DynamoDB: paritysuite/dynamodb-conformance
/// issue 69, aws-sdk-go issue 2699, and dynalite's tests).
fn capacity(c: &ConsumedCapacity, split: bool) -> Value {
    let mut o = Map::new();
    o.insert("TableName".into(), json!(c.table));
    o.insert("CapacityUnits".into(), json!(c.total));
    if split && c.read > 0.0 {
        o.insert("ReadCapacityUnits".into(), json!(c.read));
    }
    if split && c.write > 0.0 {
        o.insert("WriteCapacityUnits".into(), json!(c.write));
    }
    if let Some(t) = c.table_units {
        o.insert("Table".into(), json!({"CapacityUnits": t}));
        let group = |m: &std::collections::BTreeMap<String, f64>| {
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), json!({"CapacityUnits": v})))
                    .collect(),
            )
        };
        if !c.lsi.is_empty() {
            o.insert("LocalSecondaryIndexes".into(), group(&c.lsi));
        }
        if !c.gsi.is_empty() {
            o.insert("GlobalSecondaryIndexes".into(), group(&c.gsi));
        }
    }
    Value::Object(o)
}

/// The response body for `resp`, the answer to `req`, written straight to bytes: items go
/// from the engine's types to JSON text with no `Value` tree in between (the table
/// description, capacity and unprocessed keys — small, and not on the hot path — still do).
pub fn response(req: &Request, resp: &Response, region: &str, account: &str) -> Vec<u8> {
    if matches!(req, Request::TagResource(..) | Request::UntagResource(..)) {
        // DynamoDB answers these two with an empty body, not `{}` (ScyllaDB's Alternator
        // test_tags_return_empty_body, run against DynamoDB).
        return Vec::new();
    }
    let body = Body {
        req,
        resp,
        region,
        account,
    };
    // Writing to a `Vec` cannot fail, and every map key here is a string.
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec())
}

struct Body<'a> {
    req: &'a Request,
    resp: &'a Response,
    region: &'a str,
    account: &'a str,
}

fn put_capacity<M: SerializeMap>(o: &mut M, c: &Option<ConsumedCapacity>) -> Result<(), M::Error> {
    match c {
        Some(c) => o.serialize_entry("ConsumedCapacity", &capacity(c, false)),
        None => Ok(()),
    }
}

/// A list of per-table capacities (batches, transactions: `split`, see [`capacity`]).
fn put_capacities<M: SerializeMap>(
    o: &mut M,
    c: &[ConsumedCapacity],
    split: bool,
) -> Result<(), M::Error> {
    if c.is_empty() {
        return Ok(());
    }
    let all: Vec<Value> = c.iter().map(|c| capacity(c, split)).collect();
    o.serialize_entry("ConsumedCapacity", &all)
}

/// `{"Item": …}` or `{}`: one answer of TransactGetItems.
struct Got<'a>(&'a Option<Item>);

impl Serialize for Got<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        if let Some(i) = self.0 {
            o.serialize_entry("Item", &WireItem(i))?;
        }
        o.end()
    }
}

/// BatchGetItem's `Responses`: table name → items.
struct PerTable<'a>(&'a BTreeMap<String, Vec<Item>>);

impl Serialize for PerTable<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(t, items)| (t, WireItems(items))))
    }
}

/// TransactGetItems' `Responses`.
struct Gots<'a>(&'a [Option<Item>]);

impl Serialize for Gots<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Got))
    }
}

fn unprocessed_keys(b: &BatchGetOutput) -> Value {
    Value::Object(
        b.unprocessed
            .iter()
            .map(|(t, ka)| {
                let mut m = Map::new();
                m.insert(
                    "Keys".into(),
                    Value::Array(ka.keys.iter().map(item_to_json).collect()),
                );
                if ka.consistent_read {
                    m.insert("ConsistentRead".into(), json!(true));
                }
                if let Some(p) = &ka.projection {
                    m.insert("ProjectionExpression".into(), json!(p));
                }
                if let Some(a) = &ka.attributes_to_get {
                    m.insert("AttributesToGet".into(), json!(a));
                }
                if let Some(n) = &ka.names {
                    m.insert("ExpressionAttributeNames".into(), json!(n));
                }
                (t.clone(), Value::Object(m))
            })
            .collect(),
    )
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (req, resp) = (self.req, self.resp);
        let mut o = s.serialize_map(None)?;
        match resp {
            Response::Table(info) => {
                let key = if matches!(req, Request::DescribeTable(_)) {
                    "Table"
                } else {
                    "TableDescription"
                };
                let mut d = table_description(info, self.region, self.account);
                if matches!(req, Request::DeleteTable(_)) {
                    // DeleteTable describes the table it is deleting without its schema: no
                    // key schema, attribute definitions, indexes or creation time (ScyllaDB's
                    // Alternator test_delete_table_description*, run against DynamoDB).
                    if let Value::Object(m) = &mut d {
                        for k in [
                            "CreationDateTime",
                            "KeySchema",
                            "AttributeDefinitions",
                            "GlobalSecondaryIndexes",
                            "LocalSecondaryIndexes",
                        ] {
                            m.remove(k);
                        }
                    }
                }
                o.serialize_entry(key, &d)?;
            }
            Response::Empty => {}
            Response::Streams(streams, last) => {
                let list: Vec<Value> = streams
                    .iter()
                    .map(|i| {
                        json!({"StreamArn": i.arn, "TableName": i.table, "StreamLabel": i.stream.label})
                    })
                    .collect();
                o.serialize_entry("Streams", &list)?;
                if let Some(l) = last {
                    o.serialize_entry("LastEvaluatedStreamArn", l)?;
                }
            }
            Response::Stream(info, listed) => {
                o.serialize_entry("StreamDescription", &stream_description(info, *listed))?;
            }
            Response::ShardIterator(it) => o.serialize_entry("ShardIterator", it)?,
            Response::Records(records, next) => {
                // Event ids: the stream's ARN (from the iterator) hashed once, and each
                // record's sequence number — unique per record.
                let stream = match self.req {
                    Request::GetRecords(it, _) => {
                        seedbed_engine::table::streams::iterator_arn(it).unwrap_or_default()
                    }
                    _ => String::new(),
                };
                let stream_hash = crc32fast::hash(stream.as_bytes());
                let list: Vec<Value> = records
                    .iter()
                    .map(|r| stream_record(r, self.region, stream_hash))
                    .collect();
                o.serialize_entry("Records", &list)?;
                if let Some(n) = next {
                    o.serialize_entry("NextShardIterator", n)?;
                }
            }
            Response::Tags(tags) => {
                let tags: Vec<Value> = tags
                    .iter()
                    .map(|(k, v)| json!({"Key": k, "Value": v}))
                    .collect();
                o.serialize_entry("Tags", &tags)?;
            }
            Response::Limits(l) => {
                o.serialize_entry("AccountMaxReadCapacityUnits", &l.account_read)?;
                o.serialize_entry("AccountMaxWriteCapacityUnits", &l.account_write)?;
                o.serialize_entry("TableMaxReadCapacityUnits", &l.table_read)?;
                o.serialize_entry("TableMaxWriteCapacityUnits", &l.table_write)?;
            }
            Response::Tables(names, last) => {
                o.serialize_entry("TableNames", names)?;
                if let Some(l) = last {
                    o.serialize_entry("LastEvaluatedTableName", l)?;
                }
            }
            Response::Ttl(spec) => match req {
                Request::UpdateTimeToLive(_, attr, enabled) => {
                    o.serialize_entry(
                        "TimeToLiveSpecification",
                        &json!({"AttributeName": attr, "Enabled": enabled}),
                    )?;
                }
                _ => {
                    let d = match spec {
                        Some(s) if s.status() != "DISABLED" => {
                            json!({"TimeToLiveStatus": s.status(), "AttributeName": s.attribute})
                        }
                        _ => json!({"TimeToLiveStatus": "DISABLED"}),
                    };
                    o.serialize_entry("TimeToLiveDescription", &d)?;
                }
            },
            Response::ContinuousBackups(since) => {
                let pitr = match since {
                    Some(ms) => json!({
                        "PointInTimeRecoveryStatus": "ENABLED",
                        "EarliestRestorableDateTime": *ms as f64 / 1000.0,
                        "RecoveryPeriodInDays": 35,
                    }),
                    None => json!({"PointInTimeRecoveryStatus": "DISABLED"}),
                };
                o.serialize_entry(
                    "ContinuousBackupsDescription",
                    &json!({
                        "ContinuousBackupsStatus": "ENABLED",
                        "PointInTimeRecoveryDescription": pitr,
                    }),
                )?;
            }
            Response::Statement(s) => {
                o.serialize_entry("Items", &WireItems(&s.items))?;
                if let Some(t) = &s.next_token {
                    o.serialize_entry("NextToken", t)?;
                }
            }
            Response::BatchStatement(results) => {
                let responses: Vec<Value> = results
                    .iter()
                    .map(|(table, r)| match r {
                        Ok(item) => {
                            let mut o = Map::new();
                            o.insert("TableName".into(), json!(table));
                            if let Some(i) = item {
                                o.insert("Item".into(), item_to_json(i));
                            }
                            Value::Object(o)
                        }
                        Err(e) => {
                            json!({"Error": {"Code": batch_error_code(e), "Message": e.message}})
                        }
                    })
                    .collect();
                o.serialize_entry("Responses", &responses)?;
            }
            Response::TransactionStatement(items) => {
                if !items.is_empty() {
                    let responses: Vec<Value> = items
                        .iter()
                        .map(|i| match i {
                            Some(i) => json!({"Item": item_to_json(i)}),
                            None => json!({}),
                        })
                        .collect();
                    o.serialize_entry("Responses", &responses)?;
                }
            }
            Response::ResourcePolicy(policy, revision) => {
                if let Some(p) = policy {
                    o.serialize_entry("Policy", p)?;
                }
                o.serialize_entry("RevisionId", revision)?;
            }
            Response::Get(g) => {
                if let Some(i) = &g.item {
                    o.serialize_entry("Item", &WireItem(i))?;
                }
                put_capacity(&mut o, &g.consumed)?;
            }
            Response::Write(w) => {
                if let Some(a) = &w.attributes {
                    o.serialize_entry("Attributes", &WireItem(a))?;
                }
                put_capacity(&mut o, &w.consumed)?;
                if let Some(m) = &w.item_collection {
                    o.serialize_entry(
                        "ItemCollectionMetrics",
                        &json!({
                            "ItemCollectionKey": item_to_json(&m.key),
                            "SizeEstimateRangeGB": [m.size_estimate_gb.0, m.size_estimate_gb.1],
                        }),
                    )?;
                }
            }
            Response::Search(s) => {
                let count_only = matches!(req, Request::Query(q) | Request::Scan(q) if q.select.as_deref() == Some("COUNT"));
                if !count_only {
                    o.serialize_entry("Items", &WireItems(&s.items))?;
                }
                o.serialize_entry("Count", &s.count)?;
                o.serialize_entry("ScannedCount", &s.scanned_count)?;
                if let Some(k) = &s.last_evaluated_key {
                    o.serialize_entry("LastEvaluatedKey", &WireItem(k))?;
                }
                put_capacity(&mut o, &s.consumed)?;
            }
            Response::BatchGet(b) => {
                o.serialize_entry("Responses", &PerTable(&b.responses))?;
                o.serialize_entry("UnprocessedKeys", &unprocessed_keys(b))?;
                put_capacities(&mut o, &b.consumed, false)?;
            }
            Response::BatchWrite(b) => {
                o.serialize_entry("UnprocessedItems", &json!({}))?;
                put_capacities(&mut o, &b.consumed, false)?;
            }
            Response::TransactWrite(t) => put_capacities(&mut o, &t.consumed, true)?,
            Response::TransactGet(t) => {
                o.serialize_entry("Responses", &Gots(&t.responses))?;
                put_capacities(&mut o, &t.consumed, true)?;
            }
        }
        o.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::table::{
        AttributeValue, KeysAndAttributes, Search, SearchOutput, TransactGetOutput,
    };

    fn item(v: &str) -> Item {
        [("k".to_string(), AttributeValue::S(v.into()))].into()
    }

    fn read(req: &Request, resp: &Response) -> Value {
        serde_json::from_slice(&response(req, resp, "us-east-1", "000000000000")).unwrap()
    }

    /// The pages, batches and capacities written straight to bytes have the shapes the
    /// `Value` renderer gave them.
    #[test]
    fn responses_have_dynamodb_s_shapes() {
        let cap = ConsumedCapacity {
            table: "t".into(),
            total: 1.5,
            read: 1.5,
            table_units: Some(0.5),
            gsi: [("g".to_string(), 1.0)].into(),
            ..ConsumedCapacity::default()
        };
        let page = Response::Search(SearchOutput {
            items: vec![item("a"), item("b")],
            count: 2,
            scanned_count: 3,
            last_evaluated_key: Some(item("b")),
            consumed: Some(cap.clone()),
        });
        let query = Request::Query(Search::default());
        assert_eq!(
            read(&query, &page),
            json!({
                "Items": [{"k": {"S": "a"}}, {"k": {"S": "b"}}], "Count": 2, "ScannedCount": 3,
                "LastEvaluatedKey": {"k": {"S": "b"}},
                "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.5,
                    "Table": {"CapacityUnits": 0.5}, "GlobalSecondaryIndexes": {"g": {"CapacityUnits": 1.0}}}
            })
        );
        let count = Request::Query(Search {
            select: Some("COUNT".into()),
            ..Search::default()
        });
        assert!(read(&count, &page).get("Items").is_none());
        let batch = Response::BatchGet(BatchGetOutput {
            responses: [("t".to_string(), vec![item("a")])].into(),
            unprocessed: [(
                "u".to_string(),
                KeysAndAttributes {
                    keys: vec![item("c")],
                    consistent_read: true,
                    ..KeysAndAttributes::default()
                },
            )]
            .into(),
            consumed: vec![],
        });
        assert_eq!(
            read(&query, &batch),
            json!({"Responses": {"t": [{"k": {"S": "a"}}]},
                   "UnprocessedKeys": {"u": {"Keys": [{"k": {"S": "c"}}], "ConsistentRead": true}}})
        );
        let tx = Response::TransactGet(TransactGetOutput {
            responses: vec![Some(item("a")), None],
            consumed: vec![cap],
        });
        let v = read(&query, &tx);
        assert_eq!(v["Responses"], json!([{"Item": {"k": {"S": "a"}}}, {}]));
        assert_eq!(v["ConsumedCapacity"][0]["TableName"], json!("t"));
    }
}
