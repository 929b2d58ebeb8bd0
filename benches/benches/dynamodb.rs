//! Criterion micro-benchmarks for DynamoDB's JSON protocol in process: one GetItem, PutItem and
//! Query (10 items) through `seedbed_dynamo::handler::handle` (parse, run, render, CRC-32),
//! the same GetItem on the table API directly (the engine's share), and parsing and rendering
//! alone for a GetItem of a 1 KB item (the protocol's share), and the LSM key of one item
//! under each partition placement (CRC-32, and DynamoDB's MD5 hash that tables use since
//! 2026-12-06: what the placement costs every item operation). Records as in
//! `seedbed bench dynamodb`: ten 100-byte fields, 100 records per partition.
//!
//! Wall-clock figures move with the machine's load; instruction counts do not. With
//! `SEEDBED_CALLGRIND_OPS=N` the bench runs each operation N times in its own function
//! (`cg_*`) and exits, for `valgrind --tool=callgrind` (inclusive cost of `cg_get` / N is the
//! instructions per GetItem; see docs/benchmarks.md).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use seedbed_dynamo::{handler, render};
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::table::keys::{self, Placement};
use seedbed_engine::table::{AttributeValue, GetItem, Item, Number, Tables};

const RECORDS: u64 = 1000;
const PER_PARTITION: u64 = 100;

fn target(op: &str) -> String {
    format!("DynamoDB_20120810.{op}")
}

fn key_json(n: u64) -> String {
    format!(
        r#"{{"pk":{{"S":"user{}"}},"sk":{{"N":"{}"}}}}"#,
        n / PER_PARTITION,
        n % PER_PARTITION
    )
}

fn put_body(n: u64) -> Vec<u8> {
    let mut item = key_json(n);
    item.pop();
    for f in 0..10 {
        let v: String = (0..100)
            .map(|i| char::from(b'a' + ((n + f + i) % 26) as u8))
            .collect();
        item.push_str(&format!(r#","field{f}":{{"S":"{v}"}}"#));
    }
    item.push('}');
    format!(r#"{{"TableName":"usertable","Item":{item}}}"#).into_bytes()
}

fn get_body(n: u64) -> Vec<u8> {
    format!(r#"{{"TableName":"usertable","Key":{}}}"#, key_json(n)).into_bytes()
}

fn query_body(n: u64) -> Vec<u8> {
    format!(
        r#"{{"TableName":"usertable","KeyConditionExpression":"pk = :p AND sk >= :s","ExpressionAttributeValues":{{":p":{{"S":"user{}"}},":s":{{"N":"{}"}}}},"Limit":10}}"#,
        n / PER_PARTITION,
        n % (PER_PARTITION - 10)
    )
    .into_bytes()
}

struct Fixture {
    _dir: tempfile::TempDir,
    tables: Arc<Tables>,
    gets: Vec<Vec<u8>>,
    puts: Vec<Vec<u8>>,
    queries: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock: ClockHandle = Arc::new(RealClock::new());
    let opts = Options {
        sync: SyncPolicy::Never,
        ..Options::default()
    };
    let db = Db::open(Arc::new(PosixFs::new()), dir.path(), opts, clock.clone()).expect("open");
    let tables = Arc::new(Tables::open(Arc::new(db), clock).expect("tables"));
    let create = br#"{"TableName":"usertable","BillingMode":"PAY_PER_REQUEST",
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}]}"#;
    let r = handler::handle(&tables, Some(&target("CreateTable")), create, None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let puts: Vec<Vec<u8>> = (0..RECORDS).map(put_body).collect();
    for p in &puts {
        let r = handler::handle(&tables, Some(&target("PutItem")), p, None);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    Fixture {
        _dir: dir,
        tables,
        gets: (0..RECORDS).map(get_body).collect(),
        puts,
        queries: (0..RECORDS).map(query_body).collect(),
    }
}

fn engine_key(n: u64) -> Item {
    let mut k = Item::new();
    k.insert(
        "pk".into(),
        AttributeValue::S(format!("user{}", n / PER_PARTITION)),
    );
    k.insert(
        "sk".into(),
        AttributeValue::N(Number::from_i64((n % PER_PARTITION) as i64)),
    );
    k
}

fn call(f: &Fixture, op: &str, body: &[u8]) -> usize {
    let r = handler::handle(&f.tables, Some(&target(op)), body, None);
    assert_eq!(r.status, 200);
    r.body.len()
}

/// The rendered body's length. `render::response` returned a `serde_json::Value` (serialized by
/// the handler) before it wrote bytes itself; this lets the same bench measure both versions.
trait BodyLen {
    fn body_len(self) -> usize;
}

impl BodyLen for Vec<u8> {
    fn body_len(self) -> usize {
        self.len()
    }
}

impl BodyLen for serde_json::Value {
    fn body_len(self) -> usize {
        serde_json::to_vec(&self).map_or(0, |b| b.len())
    }
}

#[inline(never)]
fn cg_get(f: &Fixture, ops: u64) {
    for i in 0..ops {
        black_box(call(f, "GetItem", &f.gets[(i % RECORDS) as usize]));
    }
}

#[inline(never)]
fn cg_put(f: &Fixture, ops: u64) {
    for i in 0..ops {
        black_box(call(f, "PutItem", &f.puts[(i % RECORDS) as usize]));
    }
}

#[inline(never)]
fn cg_query(f: &Fixture, ops: u64) {
    for i in 0..ops {
        black_box(call(f, "Query", &f.queries[(i % RECORDS) as usize]));
    }
}

#[inline(never)]
fn cg_engine_get(f: &Fixture, ops: u64) {
    for i in 0..ops {
        let out = f.tables.get_item(&GetItem {
            table: "usertable".into(),
            key: engine_key(i % RECORDS),
            ..GetItem::default()
        });
        black_box(out.expect("get").item.is_some());
    }
}

fn protocol(c: &mut Criterion) {
    let f = fixture();
    if let Some(ops) = std::env::var("SEEDBED_CALLGRIND_OPS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        cg_engine_get(&f, ops);
        cg_get(&f, ops);
        cg_put(&f, ops);
        cg_query(&f, ops);
        std::process::exit(0);
    }
    let mut g = c.benchmark_group("dynamodb");
    let mut i = 0u64;
    let mut next = || {
        i = (i + 7919) % RECORDS;
        i as usize
    };
    g.bench_function("engine_get_item", |b| {
        b.iter(|| cg_engine_get(&f, 1));
    });
    g.bench_function("json_get_item", |b| {
        b.iter(|| call(&f, "GetItem", &f.gets[next()]))
    });
    g.bench_function("json_put_item", |b| {
        b.iter(|| call(&f, "PutItem", &f.puts[next()]))
    });
    g.bench_function("json_query_10", |b| {
        b.iter(|| call(&f, "Query", &f.queries[next()]))
    });
    // The protocol alone: parse a PutItem of a 1 KB item, render a GetItem's answer.
    let put_target = target("PutItem");
    g.bench_function("parse_put_item", |b| {
        b.iter(|| handler::parse_request(Some(&put_target), black_box(&f.puts[0])).is_ok())
    });
    let get = handler::parse_request(Some(&target("GetItem")), &f.gets[0]).expect("parse");
    let answer = f.tables.execute(&get).expect("get");
    g.bench_function("render_get_item", |b| {
        b.iter(|| {
            render::response(&get, black_box(&answer), "us-east-1", "000000000000").body_len()
        })
    });
    // One item's LSM key (a string partition key, a number sort key) under each placement,
    // and an index entry's (which also hashes the table key under DynamoDB's placement).
    let pk = AttributeValue::s("user-000123");
    let sk = AttributeValue::N(Number::parse("1733500000").expect("a number"));
    for (name, placement) in [("crc32", Placement::Crc32), ("dynamo", Placement::Dynamo)] {
        g.bench_function(format!("item_key_{name}"), |b| {
            b.iter(|| keys::item_key(7, placement, black_box(&pk), Some(black_box(&sk))).len())
        });
        g.bench_function(format!("index_key_{name}"), |b| {
            b.iter(|| {
                keys::index_key(7, placement, 1, &[black_box(&sk)], &[], &pk, Some(&sk)).len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, protocol);
criterion_main!(benches);
