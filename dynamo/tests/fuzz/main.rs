//! Seeded request fuzzing of the DynamoDB protocol, in process: random requests (mostly well
//! formed, see `gen.rs`), some with one node of their JSON replaced, through the whole handler
//! — shape and constraint checks, expressions, PartiQL, the table layer, the LSM — on tables
//! with local and global indexes, a stream and TTL.
//!
//! What every request must get, whatever it carries:
//! * no panic;
//! * HTTP 200 with a JSON object, or HTTP 400 with DynamoDB's error body (`__type` and a
//!   message) — never 500, which is the engine's own failure;
//! * `x-amz-crc32` over the body it came with.
//!
//! And after the run, and again after the database is closed and reopened: every index holds
//! exactly the table's items that carry its key attributes (an item and its index entries are
//! one write batch).
//!
//! CI runs a few seeds; a campaign runs more, in release:
//! `SEEDBED_FUZZ_SEEDS=0..1000 cargo test --release -p seedbed-dynamo --test fuzz`.
//! A failure names its seed and request number; `SEEDBED_FUZZ_SEEDS=N` runs that seed alone.

// Tests unwrap: a failure here is the test failing.
#![allow(clippy::unwrap_used)]

mod gen;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use serde_json::{json, Value};

use seedbed_dynamo::handler::handle;
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::table::Tables;

/// Requests per seed.
const REQUESTS: usize = 1500;

fn open(dir: &Path) -> (Tables, Arc<Db>) {
    let clock = Arc::new(VirtualClock::new());
    let db = Arc::new(
        Db::open(
            Arc::new(PosixFs::new()),
            dir.join("db"),
            Options::small_for_tests(),
            clock.clone(),
        )
        .unwrap(),
    );
    (Tables::open(db.clone(), clock).unwrap(), db)
}

/// Send one request; check what any request must get; return the status and body.
fn send(t: &Tables, op: &str, body: &Value, at: &str) -> (u16, Value) {
    let target = format!("DynamoDB_20120810.{op}");
    let bytes = body.to_string();
    let reply = catch_unwind(AssertUnwindSafe(|| {
        handle(t, Some(&target), bytes.as_bytes(), None)
    }))
    .unwrap_or_else(|_| panic!("{at}: {op} panicked on {bytes}"));
    assert_eq!(
        reply.crc32,
        crc32fast::hash(&reply.body),
        "{at}: x-amz-crc32"
    );
    // TagResource and UntagResource have no output: DynamoDB answers them with no body.
    if reply.status == 200 && reply.body.is_empty() && op.ends_with("TagResource") {
        return (200, json!({}));
    }
    let v: Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{at}: {op} answered no JSON ({e}) to {bytes}"));
    match reply.status {
        200 => assert!(v.is_object(), "{at}: {op} answered {v} to {bytes}"),
        400 => {
            let ty = v["__type"].as_str().unwrap_or_default();
            assert!(
                ty.starts_with("com.amazonaws.dynamodb.v20120810#")
                    || ty.starts_with("com.amazon.coral."),
                "{at}: {op}: error without DynamoDB's __type: {v} for {bytes}"
            );
            // A body that is no JSON, and an operation DynamoDB does not have, are answered
            // without a message, as DynamoDB answers them; every other error says what is wrong.
            let message = v["message"].as_str().or(v["Message"].as_str());
            assert!(
                message.is_some_and(|m| !m.is_empty())
                    || ty.ends_with("SerializationException")
                    || ty.ends_with("UnknownOperationException"),
                "{at}: {op}: error without a message: {v} for {bytes}"
            );
        }
        s => panic!("{at}: {op} answered HTTP {s} {v} to {bytes}"),
    }
    (reply.status, v)
}

/// The items a Scan counts (`Select: COUNT`), over all its pages.
fn scan_count(t: &Tables, mut body: Value, what: &str) -> u64 {
    body["Select"] = json!("COUNT");
    let mut total = 0;
    loop {
        let (status, v) = send(t, "Scan", &body, what);
        assert_eq!(status, 200, "{what}: {v}");
        total += v["Count"].as_u64().unwrap();
        match v.get("LastEvaluatedKey") {
            Some(k) => body["ExclusiveStartKey"] = k.clone(),
            None => return total,
        }
    }
}

/// Entries of the table, or of one of its indexes.
fn count(t: &Tables, table: &str, index: Option<&str>) -> u64 {
    let mut body = json!({ "TableName": table });
    if let Some(i) = index {
        body["IndexName"] = json!(i);
    }
    scan_count(t, body, &format!("Scan of {table} {index:?}"))
}

/// Items of `table` whose attributes `attrs` are present with the types given (an index's
/// keys), counted with a filter over a full Scan.
fn count_with(t: &Tables, table: &str, attrs: &[(&str, &str)]) -> u64 {
    let filter: Vec<String> = (0..attrs.len())
        .map(|i| format!("attribute_type(#a{i}, :t{i})"))
        .collect();
    let mut names = serde_json::Map::new();
    let mut values = serde_json::Map::new();
    for (i, (a, ty)) in attrs.iter().enumerate() {
        names.insert(format!("#a{i}"), json!(a));
        values.insert(format!(":t{i}"), json!({ "S": ty }));
    }
    let body = json!({"TableName": table, "FilterExpression": filter.join(" AND "),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values});
    scan_count(t, body, &format!("filtered Scan of {table}"))
}

/// Every index holds exactly the items that carry its key attributes.
fn check_indexes(t: &Tables, seed: u64, when: &str) {
    // (table, index, the index's key attributes and their types)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case; 3] = [
        ("range_n", "lsi", &[("a", "N")]),
        ("range_n", "gsi", &[("b", "S")]),
        ("bin", "by_c", &[("c", "S")]),
    ];
    for (table, index, keys) in cases {
        let in_index = count(t, table, Some(index));
        let in_table = count_with(t, table, keys);
        assert_eq!(
            in_index, in_table,
            "seed {seed}, {when}: index {table}.{index} holds {in_index} entries for {in_table} items with its keys"
        );
    }
}

/// Run one seed; what each operation's requests got (200, or the error's type), counted.
fn run_seed(seed: u64) -> BTreeMap<(String, String), u64> {
    let dir = tempfile::Builder::new()
        .prefix("dynamo-fuzz-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let (t, db) = open(dir.path());
    for (op, body) in gen::setup() {
        let (status, v) = send(&t, op, &body, "setup");
        assert_eq!(status, 200, "setup {op}: {v}");
    }
    let mut g = gen::generator(seed);
    let mut outcomes = BTreeMap::new();
    for i in 0..REQUESTS {
        let (op, mut body) = g.request();
        if g.rng.random_bool(0.15) {
            gen::mutate(&mut g, &mut body);
        }
        let (status, v) = send(&t, &op, &body, &format!("seed {seed}, request {i}"));
        let outcome = match status {
            200 => "ok".to_string(),
            _ => v["__type"]
                .as_str()
                .unwrap_or("")
                .rsplit('#')
                .next()
                .unwrap_or("")
                .to_string(),
        };
        *outcomes.entry((op, outcome)).or_insert(0u64) += 1;
        if i % 200 == 199 {
            db.maintenance_until_idle().unwrap();
        }
    }
    check_indexes(&t, seed, "after the run");
    drop(t);
    drop(db);
    let (t, _db) = open(dir.path());
    check_indexes(&t, seed, "after reopening");
    outcomes
}

/// Seeds from `SEEDBED_FUZZ_SEEDS` (`N` or `A..B`), else the few CI runs.
fn seeds() -> std::ops::Range<u64> {
    let Ok(s) = std::env::var("SEEDBED_FUZZ_SEEDS") else {
        return 0..4;
    };
    match s.split_once("..") {
        Some((a, b)) => a.parse().unwrap()..b.parse().unwrap(),
        None => {
            let n: u64 = s.parse().unwrap();
            n..n + 1
        }
    }
}

#[test]
fn random_requests_get_answers_and_keep_indexes_whole() {
    let mut all: BTreeMap<(String, String), u64> = BTreeMap::new();
    for seed in seeds() {
        for (k, n) in run_seed(seed) {
            *all.entry(k).or_insert(0) += n;
        }
    }
    // What the requests reached (`--nocapture` shows it): a generator whose requests all
    // stop at the first check tests nothing behind it.
    for ((op, outcome), n) in &all {
        println!("{op:>22} {outcome:<40} {n:>8}");
    }
    let ok: u64 = all
        .iter()
        .filter(|((_, o), _)| o == "ok")
        .map(|(_, n)| n)
        .sum();
    let total: u64 = all.values().sum();
    assert!(ok * 4 > total, "only {ok} of {total} requests succeeded");
}

/// The endpoint with SigV4 on: a generated request, signed, then — now and then — its method,
/// path, headers or body bytes mangled (before or after signing). Whatever arrives, the
/// answer is DynamoDB's: a JSON error with its `__type`, the 404 page for what is no
/// operation, or the operation's result; never a panic or a 500.
mod http {
    use std::sync::{Arc, RwLock};

    use rand::Rng;
    use serde_json::Value;

    use seedbed_dynamo::endpoint::{Endpoint, HttpRequest, Identities, Security};
    use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal};
    use seedbed_sigv4::Signer;

    use super::gen::{self, Gen};

    struct OneKey;
    impl Identities for OneKey {
        fn secret_of(&self, k: &str) -> Option<String> {
            (k == "AKIDFUZZ").then(|| "s3cret".to_string())
        }
        fn principal_of(&self, k: &str) -> Option<Principal> {
            (k == "AKIDFUZZ").then(|| Principal::Root("000000000000".into()))
        }
        fn session_token_of(&self, _: &str) -> Option<String> {
            None
        }
    }

    const NOW: i64 = 1_764_000_000;

    /// A string with one character dropped, doubled or replaced (multi-byte ones among them:
    /// the kind of input that finds a byte index that is no character boundary).
    fn garble(g: &mut Gen, s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return "é".into();
        }
        let i = g.rng.random_range(0..chars.len());
        match g.rng.random_range(0..4) {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, chars[i]),
            2 => chars.truncate(i),
            _ => chars[i] = ['=', ',', '/', ' ', 'é', '𝄞', '\t', '%'][g.rng.random_range(0..8)],
        }
        chars.into_iter().collect()
    }

    fn mangle_body(g: &mut Gen, body: &mut Vec<u8>) {
        match g.rng.random_range(0..4) {
            0 => body.truncate(g.rng.random_range(0..=body.len())),
            1 => {
                if !body.is_empty() {
                    let i = g.rng.random_range(0..body.len());
                    body[i] = [0xff, 0xc3, 0x00, b'"', b'\\', b'{'][g.rng.random_range(0..6)];
                }
            }
            2 => body.extend_from_slice(b" \xe2\x82"),
            _ => {
                *body = [&b"\xef\xbb\xbf"[..], body].concat();
            }
        }
    }

    pub fn run_seed(seed: u64) {
        let dir = tempfile::Builder::new()
            .prefix("dynamo-fuzz-http-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let (t, _db) = super::open(dir.path());
        for (op, body) in gen::setup() {
            super::send(&t, op, &body, "setup");
        }
        let ep = Endpoint::new(
            Arc::new(t),
            Some(Security {
                identities: Arc::new(OneKey),
                authorizer: Arc::new(RwLock::new(Authorizer::new(Directory::new()))),
            }),
        );
        let signer = Signer::new("AKIDFUZZ", "s3cret", "us-east-1", "dynamodb");
        let mut g = gen::generator(seed ^ 0x5eed_0f47);
        for i in 0..super::REQUESTS / 3 {
            let (op, body) = g.request();
            let mut body = body.to_string().into_bytes();
            let mut method = "POST";
            let mut path = "/".to_string();
            let mut query = String::new();
            let mut headers = vec![
                ("Host".to_string(), "127.0.0.1:8000".to_string()),
                (
                    "Content-Type".to_string(),
                    "application/x-amz-json-1.0".to_string(),
                ),
                (
                    "X-Amz-Target".to_string(),
                    format!("DynamoDB_20120810.{op}"),
                ),
            ];
            // What is changed before signing is signed: it reaches the parser as sent.
            if g.rng.random_bool(0.1) {
                mangle_body(&mut g, &mut body);
            }
            if g.rng.random_bool(0.05) {
                let (k, v) = [
                    ("Content-Type", "application/json"),
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Type", "text/plain; charset=é"),
                    ("X-Amz-Target", "DynamoDB_20120810."),
                    ("X-Amz-Target", "dynamodb_20120810.GetItem"),
                    ("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords"),
                    ("Origin", "http://é.example"),
                    ("Content-Encoding", "gzip"),
                ][g.rng.random_range(0..8)];
                headers.retain(|(h, _)| h != k);
                headers.push((k.to_string(), v.to_string()));
            }
            let (date, auth) = signer.sign(method, &path, &headers, &body, NOW);
            headers.push(("X-Amz-Date".into(), date));
            headers.push(("Authorization".into(), auth));
            // What is changed after signing must be refused or ignored, never trusted.
            if g.rng.random_bool(0.15) {
                match g.rng.random_range(0..7) {
                    0 => mangle_body(&mut g, &mut body),
                    1 | 2 => {
                        let j = g.rng.random_range(0..headers.len());
                        let v = garble(&mut g, &headers[j].1);
                        headers[j].1 = v;
                    }
                    3 => {
                        let j = g.rng.random_range(0..headers.len());
                        headers.remove(j);
                    }
                    4 => {
                        method = ["GET", "PUT", "OPTIONS", "DELETE", "é"][g.rng.random_range(0..5)]
                    }
                    5 => path = ["/x", "//", "/%zz", "", "/é"][g.rng.random_range(0..5)].into(),
                    _ => {
                        query = ["a=b", "=", "%", "X-Amz-Signature=1", "é&&"]
                            [g.rng.random_range(0..5)]
                        .into()
                    }
                }
            }
            let req = HttpRequest {
                method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &body,
            };
            let at = format!("seed {seed}, HTTP request {i}");
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let quick = ep.handle_in_memory(&req, NOW);
                quick.unwrap_or_else(|| ep.handle(&req, NOW))
            }))
            .unwrap_or_else(|_| panic!("{at}: panicked on {req:?}"));
            match r.status {
                200 | 404 => {}
                400 | 403 | 413 => {
                    let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| {
                        panic!("{at}: HTTP {} with no JSON ({e}) for {req:?}", r.status)
                    });
                    assert!(v["__type"].is_string(), "{at}: {v} for {req:?}");
                }
                s => panic!(
                    "{at}: HTTP {s} {} for {req:?}",
                    String::from_utf8_lossy(&r.body)
                ),
            }
        }
    }
}

#[test]
fn mangled_http_requests_get_dynamodbs_answers() {
    for seed in seeds() {
        http::run_seed(seed);
    }
}
