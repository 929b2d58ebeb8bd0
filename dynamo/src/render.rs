//! The table API's [`Response`] as DynamoDB's response JSON.

use serde_json::{json, Map, Value};

use seedbed_engine::table::schema::{IndexDef, KeyAttr, ProjectionType};
use seedbed_engine::table::{ConsumedCapacity, Request, Response, TableInfo};

use crate::wire::item_to_json;

fn key_schema(hash: &KeyAttr, range: Option<&KeyAttr>) -> Value {
    let mut v = vec![json!({"AttributeName": hash.name, "KeyType": "HASH"})];
    if let Some(r) = range {
        v.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
    }
    Value::Array(v)
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
    t.insert("KeySchema".into(), key_schema(&d.hash, d.range.as_ref()));
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
    let index = |ix: &IndexDef| {
        let s = stat(ix.number as usize);
        let mut o = Map::new();
        o.insert("IndexName".into(), json!(ix.name));
        o.insert("KeySchema".into(), key_schema(&ix.hash, ix.range.as_ref()));
        o.insert("Projection".into(), projection(&ix.projection));
        if !ix.local {
            o.insert("IndexStatus".into(), json!("ACTIVE"));
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
            Value::Array(d.lsis.iter().map(index).collect()),
        );
    }
    if !d.gsis.is_empty() {
        t.insert(
            "GlobalSecondaryIndexes".into(),
            Value::Array(d.gsis.iter().map(index).collect()),
        );
    }
    if let Some((enabled, view)) = &d.stream {
        let mut s = Map::new();
        s.insert("StreamEnabled".into(), json!(enabled));
        if *enabled {
            s.insert("StreamViewType".into(), json!(view));
        }
        t.insert("StreamSpecification".into(), Value::Object(s));
    }
    t.insert("DeletionProtectionEnabled".into(), json!(false));
    Value::Object(t)
}

fn capacity(c: &ConsumedCapacity) -> Value {
    let mut o = Map::new();
    o.insert("TableName".into(), json!(c.table));
    o.insert("CapacityUnits".into(), json!(c.total));
    if c.read > 0.0 {
        o.insert("ReadCapacityUnits".into(), json!(c.read));
    }
    if c.write > 0.0 {
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

fn put_capacity(o: &mut Map<String, Value>, c: &Option<ConsumedCapacity>) {
    if let Some(c) = c {
        o.insert("ConsumedCapacity".into(), capacity(c));
    }
}

fn put_capacities(o: &mut Map<String, Value>, c: &[ConsumedCapacity]) {
    if !c.is_empty() {
        o.insert(
            "ConsumedCapacity".into(),
            Value::Array(c.iter().map(capacity).collect()),
        );
    }
}

/// The response JSON for `resp`, the answer to `req`.
pub fn response(req: &Request, resp: &Response, region: &str, account: &str) -> Value {
    let mut o = Map::new();
    match resp {
        Response::Table(info) => {
            let key = if matches!(req, Request::DescribeTable(_)) {
                "Table"
            } else {
                "TableDescription"
            };
            o.insert(key.into(), table_description(info, region, account));
        }
        Response::Tables(names, last) => {
            o.insert("TableNames".into(), json!(names));
            if let Some(l) = last {
                o.insert("LastEvaluatedTableName".into(), json!(l));
            }
        }
        Response::Ttl(spec) => match req {
            Request::UpdateTimeToLive(_, attr, enabled) => {
                o.insert(
                    "TimeToLiveSpecification".into(),
                    json!({"AttributeName": attr, "Enabled": enabled}),
                );
            }
            _ => {
                let d = match spec {
                    Some(s) if s.enabled => {
                        json!({"TimeToLiveStatus": "ENABLED", "AttributeName": s.attribute})
                    }
                    _ => json!({"TimeToLiveStatus": "DISABLED"}),
                };
                o.insert("TimeToLiveDescription".into(), d);
            }
        },
        Response::Get(g) => {
            if let Some(i) = &g.item {
                o.insert("Item".into(), item_to_json(i));
            }
            put_capacity(&mut o, &g.consumed);
        }
        Response::Write(w) => {
            if let Some(a) = &w.attributes {
                o.insert("Attributes".into(), item_to_json(a));
            }
            put_capacity(&mut o, &w.consumed);
        }
        Response::Search(s) => {
            let count_only = matches!(req, Request::Query(q) | Request::Scan(q) if q.select.as_deref() == Some("COUNT"));
            if !count_only {
                o.insert(
                    "Items".into(),
                    Value::Array(s.items.iter().map(item_to_json).collect()),
                );
            }
            o.insert("Count".into(), json!(s.count));
            o.insert("ScannedCount".into(), json!(s.scanned_count));
            if let Some(k) = &s.last_evaluated_key {
                o.insert("LastEvaluatedKey".into(), item_to_json(k));
            }
            put_capacity(&mut o, &s.consumed);
        }
        Response::BatchGet(b) => {
            o.insert(
                "Responses".into(),
                Value::Object(
                    b.responses
                        .iter()
                        .map(|(t, items)| {
                            (
                                t.clone(),
                                Value::Array(items.iter().map(item_to_json).collect()),
                            )
                        })
                        .collect(),
                ),
            );
            let unprocessed: Map<String, Value> = b
                .unprocessed
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
                .collect();
            o.insert("UnprocessedKeys".into(), Value::Object(unprocessed));
            put_capacities(&mut o, &b.consumed);
        }
        Response::BatchWrite(b) => {
            o.insert("UnprocessedItems".into(), json!({}));
            put_capacities(&mut o, &b.consumed);
        }
        Response::TransactWrite(t) => put_capacities(&mut o, &t.consumed),
        Response::TransactGet(t) => {
            o.insert(
                "Responses".into(),
                Value::Array(
                    t.responses
                        .iter()
                        .map(|i| match i {
                            Some(i) => json!({"Item": item_to_json(i)}),
                            None => json!({}),
                        })
                        .collect(),
                ),
            );
            put_capacities(&mut o, &t.consumed);
        }
    }
    Value::Object(o)
}
