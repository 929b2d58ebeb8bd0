//! DynamoDB's JSON protocol in process: the bodies a client sends, the bodies and errors it gets
//! back, byte for byte where DynamoDB's format is fixed.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{json, Value};

use seedbed_dynamo::handler::{handle, Reply};
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::table::Tables;

fn tables() -> (Tables, tempfile::TempDir) {
    let dir = tempfile::Builder::new()
        .prefix("dynamo-protocol-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    (tables_in(dir.path()), dir)
}

/// The tables of the database in `dir` (made if absent).
fn tables_in(dir: &std::path::Path) -> Tables {
    let clock = Arc::new(VirtualClock::new());
    let db = Db::open(
        Arc::new(PosixFs::new()),
        dir.join("db"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    Tables::open(Arc::new(db), clock).unwrap()
}

fn call(t: &Tables, op: &str, body: Value) -> (u16, Value) {
    let r: Reply = handle(
        t,
        Some(&format!("DynamoDB_20120810.{op}")),
        body.to_string().as_bytes(),
        None,
    );
    assert_eq!(
        r.crc32,
        crc32fast::hash(&r.body),
        "x-amz-crc32 is the body's CRC-32"
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn ok(t: &Tables, op: &str, body: Value) -> Value {
    let (status, v) = call(t, op, body);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

fn err(t: &Tables, op: &str, body: Value) -> (String, String) {
    let (status, v) = call(t, op, body);
    assert_eq!(status, 400, "{op}: {v}");
    (
        v["__type"].as_str().unwrap().to_string(),
        v.get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    )
}

fn create(t: &Tables) {
    ok(
        t,
        "CreateTable",
        json!({
            "TableName": "Music",
            "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "Year", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "Artist", "AttributeType": "S"}, {"AttributeName": "Year", "AttributeType": "N"}, {"AttributeName": "Genre", "AttributeType": "S"}],
            "GlobalSecondaryIndexes": [{"IndexName": "ByGenre", "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
}

#[test]
fn tables_and_items() {
    let (t, _d) = tables();
    create(&t);
    let d = ok(&t, "DescribeTable", json!({"TableName": "Music"}));
    assert_eq!(d["Table"]["TableStatus"], "ACTIVE");
    assert_eq!(
        d["Table"]["KeySchema"][1],
        json!({"AttributeName": "Year", "KeyType": "RANGE"})
    );
    assert_eq!(
        d["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"],
        "ACTIVE"
    );
    assert_eq!(
        d["Table"]["BillingModeSummary"]["BillingMode"],
        "PAY_PER_REQUEST"
    );
    for (y, g) in [("1969", "Rock"), ("1971", "Rock"), ("1967", "Pop")] {
        ok(
            &t,
            "PutItem",
            json!({"TableName": "Music", "Item": {"Artist": {"S": "Beatles"}, "Year": {"N": y}, "Genre": {"S": g}, "Sales": {"N": "1.50"}}}),
        );
    }
    let g = ok(
        &t,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "Beatles"}, "Year": {"N": "1969"}}, "ReturnConsumedCapacity": "TOTAL"}),
    );
    assert_eq!(g["Item"]["Sales"], json!({"N": "1.5"}));
    assert_eq!(
        g["ConsumedCapacity"],
        json!({"TableName": "Music", "CapacityUnits": 0.5}),
        "a single item's capacity is the aggregate alone, as DynamoDB reports it"
    );
    // A batch reports the aggregate too; a transaction splits it into reads and writes.
    let b = ok(
        &t,
        "BatchGetItem",
        json!({"RequestItems": {"Music": {"Keys": [{"Artist": {"S": "Beatles"}, "Year": {"N": "1969"}}]}},
            "ReturnConsumedCapacity": "TOTAL"}),
    );
    assert_eq!(
        b["ConsumedCapacity"],
        json!([{"TableName": "Music", "CapacityUnits": 0.5}])
    );
    let tx = ok(
        &t,
        "TransactWriteItems",
        json!({"TransactItems": [{"Update": {"TableName": "Music",
            "Key": {"Artist": {"S": "Beatles"}, "Year": {"N": "1969"}},
            "UpdateExpression": "SET Sales = :s", "ExpressionAttributeValues": {":s": {"N": "1.50"}}}}],
            "ReturnConsumedCapacity": "TOTAL"}),
    );
    // Two units per written KB in a transaction, table and index alike.
    let c = &tx["ConsumedCapacity"][0];
    assert!(c["CapacityUnits"].as_f64().unwrap() >= 2.0, "{c}");
    assert_eq!(c["WriteCapacityUnits"], c["CapacityUnits"], "{c}");
    assert!(c.get("ReadCapacityUnits").is_none(), "{c}");
    let q = ok(
        &t,
        "Query",
        json!({
            "TableName": "Music", "KeyConditionExpression": "Artist = :a AND #y > :y",
            "ExpressionAttributeNames": {"#y": "Year"}, "ExpressionAttributeValues": {":a": {"S": "Beatles"}, ":y": {"N": "1967"}},
            "ScanIndexForward": false
        }),
    );
    assert_eq!(q["Count"], 2);
    assert_eq!(q["Items"][0]["Year"], json!({"N": "1971"}));
    let c = ok(
        &t,
        "Query",
        json!({"TableName": "Music", "IndexName": "ByGenre", "KeyConditionExpression": "Genre = :g", "ExpressionAttributeValues": {":g": {"S": "Rock"}}, "Select": "COUNT"}),
    );
    assert_eq!(c, json!({"Count": 2, "ScannedCount": 2}));
    let u = ok(
        &t,
        "UpdateItem",
        json!({
            "TableName": "Music", "Key": {"Artist": {"S": "Beatles"}, "Year": {"N": "1969"}},
            "UpdateExpression": "SET Sales = Sales + :d", "ExpressionAttributeValues": {":d": {"N": "0.25"}}, "ReturnValues": "UPDATED_NEW"
        }),
    );
    assert_eq!(u, json!({"Attributes": {"Sales": {"N": "1.75"}}}));
    let l = ok(&t, "ListTables", json!({}));
    assert_eq!(l, json!({"TableNames": ["Music"]}));
    let ttl = ok(
        &t,
        "UpdateTimeToLive",
        json!({"TableName": "Music", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}}),
    );
    assert_eq!(
        ttl,
        json!({"TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}})
    );
    // The table has items: ENABLING until the background fill has queued them (`seedbed
    // serve` runs it; here it is run to its end), then ENABLED.
    let dttl = ok(&t, "DescribeTimeToLive", json!({"TableName": "Music"}));
    assert_eq!(
        dttl,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLING", "AttributeName": "exp"}})
    );
    t.finish_index_jobs().unwrap();
    let dttl = ok(&t, "DescribeTimeToLive", json!({"TableName": "Music"}));
    assert_eq!(
        dttl,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}})
    );
}

#[test]
fn errors_are_typed_and_worded_like_dynamodb() {
    let (t, _d) = tables();
    create(&t);
    let key = json!({"Artist": {"S": "A"}, "Year": {"N": "1"}});
    assert_eq!(
        err(&t, "GetItem", json!({"TableName": "Nope", "Key": key})),
        (
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
    assert_eq!(
        err(&t, "GetItem", json!({"Key": key})),
        ("com.amazon.coral.validate#ValidationException".into(), "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into())
    );
    assert_eq!(
        err(&t, "PutItem", json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": "1"}}, "ConditionExpression": "attribute_exists(#n)"})),
        ("com.amazon.coral.validate#ValidationException".into(), "1 validation error detected: Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n".into())
    );
    assert_eq!(
        err(&t, "UpdateItem", json!({"TableName": "Music", "Key": key, "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"SS": []}}})),
        // The single-item writes word it as request validation, without the placeholder (moto's
        // AWS-verified tests; server/conformance/moto-aws-verified.sh).
        ("com.amazon.coral.validate#ValidationException".into(), "1 validation error detected: One or more parameter values were invalid: An string set  may not be empty".into())
    );
    assert_eq!(
        err(&t, "PutItem", json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": "1e126"}}})),
        ("com.amazon.coral.validate#ValidationException".into(), "Number overflow. Attempting to store a number with magnitude larger than supported range".into())
    );
    let (ty, _) = err(
        &t,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": 1}}}),
    );
    assert_eq!(ty, "com.amazon.coral.service#SerializationException");
    let (status, body) = call(&t, "Frobnicate", json!({}));
    assert_eq!(
        (status, body),
        (
            400,
            json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
        )
    );
    ok(
        &t,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": "1"}, "v": {"N": "1"}}}),
    );
    let (status, body) = call(
        &t,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(Artist)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    );
    assert_eq!(body["Item"]["v"], json!({"N": "1"}));
    let (status, body) = call(
        &t,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "Music", "Item": {"Artist": {"S": "B"}, "Year": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": "Music", "Key": key, "ConditionExpression": "v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}}
        ]}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
    );
    assert_eq!(body["Message"], "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]");
    assert_eq!(
        body["CancellationReasons"],
        json!([{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}])
    );
    let g = ok(
        &t,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "B"}, "Year": {"N": "2"}}}),
    );
    assert_eq!(g, json!({}), "the cancelled transaction wrote nothing");
}

/// The endpoint with SigV4 and IAM on: each way a signature can be wrong comes back as the
/// error DynamoDB gives for it (the `__type` an SDK maps to its exception), and a good
/// signature from the account's root goes through.
#[test]
fn signature_refusals_are_dynamodbs_errors() {
    use std::sync::RwLock;

    use seedbed_dynamo::endpoint::{Endpoint, HttpRequest, Identities, Security};
    use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal};
    use seedbed_sigv4::Signer;

    /// The key's recorded uses (key, service, region).
    type Uses = Arc<std::sync::Mutex<Vec<(String, String, String)>>>;
    struct OneKey(Uses);
    impl Identities for OneKey {
        fn secret_of(&self, k: &str) -> Option<String> {
            (k == "AKIDTEST").then(|| "s3cret".to_string())
        }
        fn principal_of(&self, k: &str) -> Option<Principal> {
            (k == "AKIDTEST").then(|| Principal::Root("000000000000".into()))
        }
        fn session_token_of(&self, _: &str) -> Option<String> {
            None
        }
        fn used(&self, k: &str, _: &Principal, service: &str, region: &str) {
            let mut uses = self.0.lock().unwrap();
            uses.push((k.into(), service.into(), region.into()));
        }
    }
    let uses = Uses::default();
    let (t, _dir) = tables();
    let ep = Endpoint::new(
        Arc::new(t),
        Some(Security {
            identities: Arc::new(OneKey(uses.clone())),
            authorizer: Arc::new(RwLock::new(Authorizer::new(Directory::new()))),
        }),
    );
    let now = 1_764_000_000;
    let body = b"{}";
    let base = vec![
        ("Host".to_string(), "127.0.0.1:8000".to_string()),
        (
            "Content-Type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
        (
            "X-Amz-Target".to_string(),
            "DynamoDB_20120810.ListTables".to_string(),
        ),
    ];
    let send = |headers: &[(String, String)], body: &[u8]| {
        let r = ep.handle(
            &HttpRequest {
                method: "POST",
                path: "/",
                query: "",
                headers,
                body,
            },
            now,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let kind = v["__type"]
            .as_str()
            .map(|t| t.rsplit('#').next().unwrap().to_string());
        (r.status, kind, v)
    };
    let signed = |key: &str, secret: &str, at: i64| {
        let (date, auth) =
            Signer::new(key, secret, "us-east-1", "dynamodb").sign("POST", "/", &base, body, at);
        let mut h = base.clone();
        h.push(("X-Amz-Date".into(), date));
        h.push(("Authorization".into(), auth));
        h
    };

    let (status, kind, v) = send(&signed("AKIDTEST", "s3cret", now), body);
    assert_eq!((status, kind), (200, None), "{v}");
    assert!(v["TableNames"].is_array());

    let refused = |headers: &[(String, String)], body: &[u8]| {
        let (status, kind, v) = send(headers, body);
        assert_eq!(status, 400, "{v}");
        (kind.unwrap(), v["message"].as_str().unwrap().to_string())
    };
    assert_eq!(
        refused(&base, body).0,
        "MissingAuthenticationTokenException"
    );
    // Before the signature: a body that is not JSON, then a target that names no operation
    // (dynalite's tests, checked against DynamoDB).
    let (status, kind, _) = send(&base, b"hi");
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("SerializationException"))
    );
    let mut unknown = base.clone();
    unknown[2].1 = "DynamoDB_20120810.ListTable".into();
    let (status, kind, _) = send(&unknown, body);
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("UnknownOperationException"))
    );
    let mut partial = base.clone();
    partial.push((
        "Authorization".into(),
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20251124/us-east-1/dynamodb/aws4_request".into(),
    ));
    let (kind, message) = refused(&partial, body);
    assert_eq!(kind, "IncompleteSignatureException");
    assert!(message.contains("'SignedHeaders'"), "{message}");
    assert_eq!(
        refused(&signed("AKIDTEST", "wrong", now), body).0,
        "InvalidSignatureException"
    );
    assert_eq!(
        refused(&signed("AKIDTEST", "s3cret", now), b"{\"Limit\":1}").0,
        "InvalidSignatureException",
        "a body changed on the way"
    );
    let (kind, message) = refused(&signed("AKIDTEST", "s3cret", now - 3600), body);
    assert_eq!(kind, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired"), "{message}");
    assert_eq!(
        refused(&signed("AKIDNOBODY", "x", now), body).0,
        "UnrecognizedClientException"
    );
    // Only the request that authenticated is a use of the key (IAM's last-used record).
    assert_eq!(
        *uses.lock().unwrap(),
        [("AKIDTEST".into(), "dynamodb".into(), "us-east-1".into())]
    );
}

/// What ScyllaDB's Alternator tests (run against DynamoDB) found DynamoDB to answer at the
/// HTTP level and in table descriptions; the endpoint without security, as DynamoDB Local.
#[test]
fn health_cors_endpoints_and_descriptions_as_dynamodb_answers() {
    use seedbed_dynamo::endpoint::{Endpoint, HttpRequest};
    let (t, _dir) = tables();
    let ep = Endpoint::new(Arc::new(t), None);
    let send = |method: &'static str, headers: &[(&str, &str)], body: &[u8]| {
        let h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ep.handle(
            &HttpRequest {
                method,
                path: "/",
                query: "",
                headers: &h,
                body,
            },
            0,
        )
    };
    let head = |r: &seedbed_dynamo::endpoint::HttpResponse, name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    // The health check names the endpoint as the client reached it.
    let r = send("GET", &[("Host", "127.0.0.1:8000")], b"");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"healthy: 127.0.0.1:8000"[..])
    );
    assert_eq!(
        head(&r, "access-control-allow-origin"),
        None,
        "no Origin, no CORS"
    );
    // CORS: any origin; a preflight gets what it asked for and a max age.
    let r = send(
        "OPTIONS",
        &[
            ("Host", "h"),
            ("Origin", "http://example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "x-amz-target, content-type",
            ),
        ],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        head(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        head(&r, "access-control-allow-methods").as_deref(),
        Some("POST")
    );
    assert_eq!(
        head(&r, "access-control-allow-headers").as_deref(),
        Some("x-amz-target, content-type")
    );
    assert!(head(&r, "access-control-max-age").is_some());
    let target = |op: &'static str| format!("DynamoDB_20120810.{op}");
    let list = target("ListTables");
    let r = send(
        "POST",
        &[
            ("Host", "h"),
            ("Origin", "http://example.com"),
            ("X-Amz-Target", &list),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        b"{}",
    );
    assert_eq!(r.status, 200);
    assert!(head(&r, "access-control-expose-headers").is_some());
    assert_eq!(head(&r, "access-control-max-age"), None);
    // DescribeEndpoints: the address the client used, no scheme.
    let de = target("DescribeEndpoints");
    let r = send(
        "POST",
        &[
            ("Host", "127.0.0.1:8000"),
            ("X-Amz-Target", &de),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        b"{}",
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["Endpoints"][0]["Address"], "127.0.0.1:8000");
    // The body's media type is answered as the request gave it; request ids have
    // DynamoDB's shape, 52 of [0-9A-Z].
    assert_eq!(
        head(&r, "content-type").as_deref(),
        Some("application/json")
    );
    let id = head(&r, "x-amzn-requestid").unwrap();
    assert!(
        id.len() == 52
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        "{id}"
    );
    // DynamoDB's front end (dynalite's tests, checked against DynamoDB): anything but a POST
    // of JSON is its 404 page; no body or a body that is not JSON, a SerializationException
    // without a message.
    for (method, ct, body) in [
        ("PUT", "application/x-amz-json-1.0", &b"{}"[..]),
        ("POST", "application/x-amz-json-1.1", b"{}"),
        ("POST", "text/plain", b"{}"),
        ("POST", "", b"hi"),
    ] {
        let mut h = vec![("Host", "h"), ("X-Amz-Target", &list)];
        if !ct.is_empty() {
            h.push(("Content-Type", ct));
        }
        let r = send(method, &h, body);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, &b"<UnknownOperationException/>\n"[..]),
            "{method} {ct}"
        );
    }
    // No type and no body is taken, and answered as application/json.
    let r = send(
        "POST",
        &[("Host", "h"), ("X-Amz-Target", "DynamoDB_20120810.Nope")],
        b"",
    );
    assert_eq!(
        (r.status, head(&r, "content-type").as_deref()),
        (400, Some("application/json"))
    );
    for body in [&b""[..], b"hi"] {
        let r = send(
            "POST",
            &[
                ("Host", "h"),
                ("X-Amz-Target", &list),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            body,
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap(),
            json!({"__type": "com.amazon.coral.service#SerializationException"})
        );
    }
    assert_eq!(v["Endpoints"][0]["CachePeriodInMinutes"], 1440);

    // A table class and warm throughput are recorded and shown; DeleteTable's description
    // has no schema; TagResource answers an empty body.
    let (t, _dir) = tables();
    let d = ok(
        &t,
        "CreateTable",
        json!({"TableName": "classy", "BillingMode": "PAY_PER_REQUEST",
               "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
               "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
               "TableClass": "STANDARD_INFREQUENT_ACCESS",
               "WarmThroughput": {"ReadUnitsPerSecond": 13000}}),
    );
    let td = &d["TableDescription"];
    assert_eq!(
        td["TableClassSummary"]["TableClass"],
        "STANDARD_INFREQUENT_ACCESS"
    );
    assert_eq!(td["WarmThroughput"]["ReadUnitsPerSecond"], 13000);
    assert_eq!(td["WarmThroughput"]["WriteUnitsPerSecond"], 4000);
    let (kind, msg) = err(
        &t,
        "UpdateTable",
        json!({"TableName": "classy", "WarmThroughput": {"ReadUnitsPerSecond": 12500}}),
    );
    assert!(
        kind.ends_with("ValidationException") && msg.contains("lower than current WarmThroughput"),
        "{msg}"
    );
    let arn = td["TableArn"].as_str().unwrap().to_string();
    let r: Reply = handle(
        &t,
        Some("DynamoDB_20120810.TagResource"),
        json!({"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]})
            .to_string()
            .as_bytes(),
        None,
    );
    assert_eq!((r.status, r.body.len()), (200, 0));
    let gone = ok(&t, "DeleteTable", json!({"TableName": "classy"}));
    let gd = &gone["TableDescription"];
    assert_eq!(gd["TableStatus"], "DELETING");
    for k in ["KeySchema", "AttributeDefinitions", "CreationDateTime"] {
        assert!(gd.get(k).is_none(), "DeleteTable's description has no {k}");
    }
}

/// `Endpoint::handle_in_memory`, what `seedbed serve` tries on the thread that read the
/// request: a GetItem found in memory is answered there, exactly as `handle` answers it; a
/// GetItem whose block is not cached, and every other operation, is handed on (`None`); a
/// request refused before it runs is answered.
#[test]
fn get_item_is_answered_in_memory_or_handed_on() {
    use seedbed_dynamo::endpoint::{Endpoint, HttpRequest, HttpResponse};

    let (t, dir) = tables();
    create(&t);
    let pad = "x".repeat(100);
    for year in 0..300 {
        ok(
            &t,
            "PutItem",
            json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": year.to_string()}, "Pad": {"S": pad}}}),
        );
    }
    t.db().close().unwrap();
    drop(t);
    let t = tables_in(dir.path());
    t.db().flush().unwrap();
    let ep = Endpoint::new(Arc::new(t), None);

    let headers = |op: &str| {
        vec![
            ("host".to_string(), "127.0.0.1:8000".to_string()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
            (
                "x-amz-target".to_string(),
                format!("DynamoDB_20120810.{op}"),
            ),
        ]
    };
    let request = |h: &[(String, String)], body: &str, f: &dyn Fn(&HttpRequest<'_>) -> R| -> R {
        f(&HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: h,
            body: body.as_bytes(),
        })
    };
    type R = Option<HttpResponse>;
    let fast = |op: &str, body: &str| request(&headers(op), body, &|r| ep.handle_in_memory(r, 0));
    let full = |op: &str, body: &str| request(&headers(op), body, &|r| Some(ep.handle(r, 0)));
    let json_of = |r: &HttpResponse| serde_json::from_slice::<Value>(&r.body).unwrap();

    let get = r#"{"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Year": {"N": "150"}}}"#;
    assert!(fast("GetItem", get).is_none(), "a cold block: handed on");
    let slow = full("GetItem", get).unwrap();
    assert_eq!(slow.status, 200);
    assert_eq!(json_of(&slow)["Item"]["Year"]["N"], "150");
    let warm = fast("GetItem", get).expect("the block is cached now");
    assert_eq!((warm.status, &warm.body), (200, &slow.body));
    assert_eq!(warm.operation, "GetItem");

    // Writes, and reads of many items, always go to a thread that may block.
    let put = r#"{"TableName": "Music", "Item": {"Artist": {"S": "B"}, "Year": {"N": "1"}}}"#;
    assert!(fast("PutItem", put).is_none());
    let query = r#"{"TableName": "Music", "KeyConditionExpression": "Artist = :a", "ExpressionAttributeValues": {":a": {"S": "A"}}}"#;
    assert!(fast("Query", query).is_none());
    assert!(
        full(
            "GetItem",
            r#"{"TableName": "Music", "Key": {"Artist": {"S": "B"}, "Year": {"N": "1"}}}"#
        )
        .map(|r| json_of(&r).get("Item").is_none())
        .unwrap(),
        "the PutItem was not run by the memory-only try"
    );
    // Refusals need no device: answered at once, as `handle` answers them.
    let missing = r#"{"TableName": "Nope", "Key": {"Artist": {"S": "A"}, "Year": {"N": "1"}}}"#;
    let r = fast("GetItem", missing).expect("answered");
    assert_eq!(r.status, 400);
    assert!(json_of(&r)["__type"]
        .as_str()
        .unwrap()
        .ends_with("ResourceNotFoundException"));
    let r = fast("GetItem", "{not json").expect("answered");
    assert_eq!(r.status, 400);
    assert_eq!(r.body, full("GetItem", "{not json").unwrap().body);
}

/// DynamoDB Streams requests that are malformed are ValidationExceptions, before IAM or a
/// look-up (what ScyllaDB's Alternator tests found DynamoDB to answer).
#[test]
fn malformed_stream_requests_are_validation_errors() {
    let (t, _dir) = tables();
    ok(
        &t,
        "CreateTable",
        json!({
            "TableName": "Streamed",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}
        }),
    );
    let arn = ok(&t, "DescribeTable", json!({"TableName": "Streamed"}))["Table"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string();
    // The Streams operations' own target prefix.
    let streams = |op: &str, body: Value| {
        let r = handle(
            &t,
            Some(&format!("DynamoDBStreams_20120810.{op}")),
            body.to_string().as_bytes(),
            None,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        (r.status, v)
    };
    let ok = |op: &str, body: Value| {
        let (status, v) = streams(op, body);
        assert_eq!(status, 200, "{op}: {v}");
        v
    };
    let err = |op: &str, body: Value| {
        let (status, v) = streams(op, body);
        assert_eq!(status, 400, "{op}: {v}");
        let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
        (text("__type"), text("message"))
    };
    let invalid = |op: &str, body: Value| {
        let (kind, message) = err(op, body);
        assert_eq!(
            (kind.as_str(), message.as_str()),
            (
                "com.amazon.coral.validate#ValidationException",
                "Invalid StreamArn"
            ),
            "{op}"
        );
    };
    invalid(
        "DescribeStream",
        json!({"StreamArn": "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfk"}),
    );
    invalid(
        "GetShardIterator",
        json!({"StreamArn": "not-an-arn", "ShardId": "x", "ShardIteratorType": "LATEST"}),
    );
    invalid(
        "ListStreams",
        json!({"TableName": "Streamed", "ExclusiveStartStreamArn": "kossaapaaasdafsdaasd"}),
    );
    // Well-formed but unknown: not found, as before.
    let unknown = arn.replace("/stream/", "/stream/9");
    let (kind, _) = err("DescribeStream", json!({ "StreamArn": unknown }));
    assert!(kind.ends_with("ResourceNotFoundException"), "{kind}");
    for (limit, bound) in [
        (0, "greater than or equal to 1"),
        (101, "less than or equal to 100"),
    ] {
        let (kind, message) = err("ListStreams", json!({ "Limit": limit }));
        assert!(kind.ends_with("ValidationException"), "{kind}");
        assert!(message.ends_with(bound), "{message}");
    }
    assert_eq!(
        ok("ListStreams", json!({"Limit": 100}))["Streams"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let shard = ok("DescribeStream", json!({ "StreamArn": arn }))["StreamDescription"]["Shards"][0]
        ["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    // A sequence number with TRIM_HORIZON or LATEST is refused; without, an iterator.
    for kind in ["TRIM_HORIZON", "LATEST"] {
        let body = json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind});
        assert!(ok("GetShardIterator", body.clone())["ShardIterator"].is_string());
        let mut with_seq = body;
        with_seq["SequenceNumber"] = json!("000000000000000000001");
        let (k, m) = err("GetShardIterator", with_seq);
        assert!(k.ends_with("ValidationException"), "{k}: {m}");
    }
    // Shards are listed after ExclusiveStartShardId in id order: none after one past them all.
    let after = |id: &str| {
        ok(
            "DescribeStream",
            json!({"StreamArn": arn, "ExclusiveStartShardId": id}),
        )["StreamDescription"]["Shards"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(after("zzzzzzzzzzzzzzzzzzzzzzzzz"), 0);
    assert_eq!(after(&shard), 0);
    assert_eq!(after("shardId-0"), 1);
}

// ---- SerializationException: the body read against the operation's input shape first ------

const SERIALIZATION: &str = "com.amazon.coral.service#SerializationException";

/// What DynamoDB answers for a value of each wrong JSON kind where `ty` goes (the kinds and
/// messages of `assertType` in dynalite's test/helpers.js, a suite checked against DynamoDB):
/// `String`, `Boolean`, `Integer`, `Long`, `Blob`; `List` (a member), `ParameterizedList` (a
/// map value); `Map<V>` (a member), `ParameterizedMap` (a list element); `FieldStruct<S>` (a
/// member), `ValueStruct<S>` (a list element or map value).
fn wrong_kinds(ty: &str) -> Vec<(Value, String)> {
    let cast = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";
    let start = "Start of structure or map found where not expected";
    let scalars = || {
        [
            json!("23"),
            json!(true),
            json!(23),
            json!(-2147483648i64),
            json!(2147483648i64),
            json!(34.56),
        ]
    };
    let all = |msg: &str, also: (Value, String)| {
        let mut v: Vec<(Value, String)> = scalars()
            .into_iter()
            .map(|x| (x, msg.to_string()))
            .collect();
        v.push(also);
        v
    };
    let (ty, sub) = match ty.split_once('<') {
        Some((t, s)) => (t, s.strip_suffix('>').unwrap_or(s)),
        None => (ty, ""),
    };
    let m = |v: Value, s: &str| (v, s.to_string());
    match ty {
        "String" | "Boolean" | "Integer" | "Long" => {
            let mut v = vec![
                m(
                    json!(true),
                    &format!("TRUE_VALUE cannot be converted to {ty}"),
                ),
                m(
                    json!(false),
                    &format!("FALSE_VALUE cannot be converted to {ty}"),
                ),
                m(
                    json!([]),
                    &format!("Unrecognized collection type class java.lang.{ty}"),
                ),
                m(json!({}), start),
            ];
            if ty == "String" || ty == "Boolean" {
                v.retain(|(x, _)| !x.is_boolean() || ty == "String");
                v.push(m(
                    json!(23),
                    &format!("NUMBER_VALUE cannot be converted to {ty}"),
                ));
                v.push(m(
                    json!(2147483648i64),
                    &format!("NUMBER_VALUE cannot be converted to {ty}"),
                ));
                v.push(m(
                    json!(34.56),
                    &format!("DECIMAL_VALUE cannot be converted to {ty}"),
                ));
            }
            if ty == "Boolean" {
                v.push(m(json!("23"), "Unexpected token received from parser"));
            } else if ty != "String" {
                v.push(m(
                    json!("23"),
                    &format!("STRING_VALUE cannot be converted to {ty}"),
                ));
            }
            v
        }
        "Blob" => {
            let mut v: Vec<_> = scalars()
                .into_iter()
                .skip(1)
                .map(|x| m(x, "only base-64-encoded strings are convertible to bytes"))
                .collect();
            v.extend([
                m(
                    json!([]),
                    "Unrecognized collection type class java.nio.ByteBuffer",
                ),
                m(json!({}), start),
                m(
                    json!("23456"),
                    "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
                ),
                m(
                    json!("=+/="),
                    "Invalid last non-pad Base64 character dectected",
                ),
                m(
                    json!("+/+="),
                    "Invalid last non-pad Base64 character dectected",
                ),
            ]);
            v
        }
        "List" => all("Unexpected field type", m(json!({}), start)),
        "ParameterizedList" => all(cast, m(json!({}), start)),
        "Map" | "ParameterizedMap" => {
            let sub = if sub.is_empty() {
                "AttributeValue"
            } else {
                sub
            };
            let java = if sub.contains('.') {
                sub.to_string()
            } else {
                format!("com.amazonaws.dynamodb.v20120810.{sub}")
            };
            let also = m(
                json!([]),
                &format!("Unrecognized collection type java.util.Map<java.lang.String, {java}>"),
            );
            all(
                if ty == "Map" {
                    "Unexpected field type"
                } else {
                    cast
                },
                also,
            )
        }
        "FieldStruct" | "ValueStruct" => {
            let also = m(
                json!([]),
                &format!(
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.{sub}"
                ),
            );
            let msg = if ty == "FieldStruct" {
                "Unexpected field type"
            } else {
                "Unexpected value type in payload"
            };
            all(msg, also)
        }
        other => panic!("no such type {other}"),
    }
}

/// A body with `v` at `path` (`Key.Attr.S`: a member `Attr` of `Key`; a `0` piece is a list's
/// first element) and nothing else.
fn body_at(path: &str, v: Value) -> Value {
    fn put(pieces: &[&str], v: Value) -> Value {
        match pieces {
            [] => v,
            [first, rest @ ..] if *first == "0" => json!([put(rest, v)]),
            [first, rest @ ..] => {
                let mut o = serde_json::Map::new();
                o.insert(first.to_string(), put(rest, v));
                Value::Object(o)
            }
        }
    }
    put(&path.split('.').collect::<Vec<_>>(), v)
}

/// Every wrong kind at `path` of `op` gets DynamoDB's SerializationException, whatever else is
/// missing (each body holds nothing but the wrong value). `AttrStruct<Field|Value>` is an
/// attribute value as a member or as a map value, and every member of it, nested in L and M.
fn assert_type(t: &Tables, op: &str, path: &str, ty: &str) {
    if let Some(pos) = ty.strip_prefix("AttrStruct<") {
        let pos = pos.strip_suffix('>').unwrap_or(pos);
        for (p, sub) in [
            ("", &*format!("{pos}<AttributeValue>")),
            (".S", "String"),
            (".N", "String"),
            (".B", "Blob"),
            (".BOOL", "Boolean"),
            (".NULL", "Boolean"),
            (".SS", "List"),
            (".SS.0", "String"),
            (".NS", "List"),
            (".NS.0", "String"),
            (".BS", "List"),
            (".BS.0", "Blob"),
            (".L", "List"),
            (".L.0", "ValueStruct<AttributeValue>"),
            (".L.0.BS", "List"),
            (".L.0.BS.0", "Blob"),
            (".M", "Map<AttributeValue>"),
            (".M.a", "ValueStruct<AttributeValue>"),
            (".M.a.BS", "List"),
            (".M.a.BS.0", "Blob"),
        ] {
            assert_type(t, op, &format!("{path}{p}"), sub);
        }
        return;
    }
    for (v, msg) in wrong_kinds(ty) {
        let body = body_at(path, v);
        let (status, got) = call(t, op, body.clone());
        assert_eq!(
            (status, got),
            (400, json!({"__type": SERIALIZATION, "Message": msg})),
            "{op} {body}"
        );
    }
}

#[test]
fn a_value_of_the_wrong_kind_is_a_serialization_exception_anywhere_in_the_body() {
    let (t, _d) = tables();
    for (op, path, ty) in [
        ("GetItem", "TableName", "String"),
        ("GetItem", "Key", "Map<AttributeValue>"),
        ("GetItem", "Key.Attr", "AttrStruct<ValueStruct>"),
        ("GetItem", "AttributesToGet", "List"),
        ("GetItem", "ConsistentRead", "Boolean"),
        (
            "GetItem",
            "ExpressionAttributeNames",
            "Map<java.lang.String>",
        ),
        ("GetItem", "ExpressionAttributeNames.Attr", "String"),
        (
            "PutItem",
            "Expected.Attr",
            "ValueStruct<ExpectedAttributeValue>",
        ),
        ("PutItem", "Expected.Attr.Value", "AttrStruct<FieldStruct>"),
        ("PutItem", "ReturnItemCollectionMetrics", "String"),
        (
            "UpdateItem",
            "AttributeUpdates",
            "Map<AttributeValueUpdate>",
        ),
        ("Query", "Limit", "Integer"),
        (
            "Query",
            "QueryFilter.Attr.AttributeValueList.0",
            "AttrStruct<ValueStruct>",
        ),
        ("Scan", "Segment", "Integer"),
        ("BatchGetItem", "RequestItems", "Map<KeysAndAttributes>"),
        (
            "BatchGetItem",
            "RequestItems.Attr",
            "ValueStruct<KeysAndAttributes>",
        ),
        ("BatchGetItem", "RequestItems.Attr.Keys", "List"),
        (
            "BatchGetItem",
            "RequestItems.Attr.Keys.0",
            "ParameterizedMap",
        ),
        (
            "BatchGetItem",
            "RequestItems.Attr.Keys.0.Attr",
            "AttrStruct<ValueStruct>",
        ),
        (
            "BatchWriteItem",
            "RequestItems",
            "Map<java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>",
        ),
        ("BatchWriteItem", "RequestItems.Attr", "ParameterizedList"),
        (
            "BatchWriteItem",
            "RequestItems.Attr.0",
            "ValueStruct<WriteRequest>",
        ),
        (
            "BatchWriteItem",
            "RequestItems.Attr.0.DeleteRequest",
            "FieldStruct<DeleteRequest>",
        ),
        (
            "BatchWriteItem",
            "RequestItems.Attr.0.PutRequest.Item.Attr",
            "AttrStruct<ValueStruct>",
        ),
        (
            "TransactWriteItems",
            "TransactItems.0.Put",
            "FieldStruct<Put>",
        ),
        (
            "TransactWriteItems",
            "TransactItems.0.Update.UpdateExpression",
            "String",
        ),
        (
            "CreateTable",
            "KeySchema.0",
            "ValueStruct<KeySchemaElement>",
        ),
        (
            "CreateTable",
            "ProvisionedThroughput.ReadCapacityUnits",
            "Long",
        ),
        (
            "CreateTable",
            "LocalSecondaryIndexes.0.Projection",
            "FieldStruct<Projection>",
        ),
        (
            "CreateTable",
            "GlobalSecondaryIndexes.0.Projection.NonKeyAttributes.0",
            "String",
        ),
        (
            "UpdateTable",
            "GlobalSecondaryIndexUpdates.0.Create.KeySchema.0.KeyType",
            "String",
        ),
        (
            "UpdateTimeToLive",
            "TimeToLiveSpecification",
            "FieldStruct<TimeToLiveSpecification>",
        ),
        (
            "UpdateTimeToLive",
            "TimeToLiveSpecification.Enabled",
            "Boolean",
        ),
        ("TagResource", "Tags.0", "ValueStruct<Tag>"),
        ("UntagResource", "TagKeys.0", "String"),
        ("ListTables", "Limit", "Integer"),
    ] {
        assert_type(&t, op, path, ty);
    }
}

#[test]
fn the_body_is_read_whole_before_any_constraint_is_checked() {
    let (t, _d) = tables();
    create(&t);
    let ser = |msg: &str| (SERIALIZATION.to_string(), msg.to_string());
    // A wrong kind beats a missing required member ...
    assert_eq!(
        err(&t, "GetItem", json!({"Key": "23"})),
        ser("Unexpected field type")
    );
    // ... a table name out of its constraints ...
    assert_eq!(
        err(
            &t,
            "PutItem",
            json!({"TableName": "a", "Item": {"k": {"S": "x"}}, "ReturnValues": 1})
        ),
        ser("NUMBER_VALUE cannot be converted to String")
    );
    // ... an attribute value with two types (a constraint), deep in a list in a map ...
    assert_eq!(
        err(
            &t,
            "PutItem",
            json!({"TableName": "Music", "Item": {
                "Artist": {"S": "A", "N": "1"}, "Year": {"N": "1"},
                "m": {"M": {"l": {"L": [{"S": "x"}, {"SS": ["a", 5]}]}}}
            }})
        ),
        ser("NUMBER_VALUE cannot be converted to String")
    );
    // ... and the table's existence (phase 3).
    assert_eq!(
        err(
            &t,
            "BatchGetItem",
            json!({"RequestItems": {"Nope": {"Keys": [{"k": {"B": "AB=="}}]}}})
        ),
        ser("Invalid last non-pad Base64 character dectected")
    );
    // Without one, the constraints as before.
    assert_eq!(
        err(&t, "GetItem", json!({"Key": {"k": {"S": "x"}}})),
        ("com.amazon.coral.validate#ValidationException".into(), "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into())
    );
    // `null` is an absent member, and a member the model lacks is ignored.
    let key = json!({"Artist": {"S": "A"}, "Year": {"N": "1"}});
    ok(
        &t,
        "GetItem",
        json!({"TableName": "Music", "Key": key, "ConsistentRead": null, "Frob": [1]}),
    );
    ok(
        &t,
        "PutItem",
        json!({"TableName": "Music", "Item": {"Artist": {"S": "A"}, "Year": {"N": "1"}, "b": {"B": "AAE="}}}),
    );
    // Beyond dynalite's cases, the same pattern (the module's documentation): a fraction for an
    // Integer, a null list element, a character outside base64's alphabet, a body that is no
    // object.
    assert_eq!(
        err(&t, "Scan", json!({"TableName": "Music", "Limit": 1.5})),
        ser("DECIMAL_VALUE cannot be converted to Integer")
    );
    assert_eq!(
        err(
            &t,
            "GetItem",
            json!({"TableName": "Music", "Key": key, "AttributesToGet": [null]})
        ),
        ser("NULL_VALUE cannot be converted to String")
    );
    assert_eq!(
        err(
            &t,
            "GetItem",
            json!({"TableName": "Music", "Key": {"Artist": null}})
        ),
        ser("Unexpected value type in payload")
    );
    assert_eq!(
        err(
            &t,
            "PutItem",
            json!({"TableName": "Music", "Item": {"b": {"BS": ["AA!A"]}}})
        ),
        ser("Invalid Base64 character: '!'")
    );
    assert_eq!(
        err(&t, "GetItem", json!([])),
        ser("Unrecognized collection type class com.amazonaws.dynamodb.v20120810.GetItemInput")
    );
}

/// Phase 2 (`seedbed_dynamo::constraint`): every constraint the body breaks, in one
/// ValidationException, with nested member paths; the table operations' own words for their
/// TableName; a request within its constraints goes on as before.
#[test]
fn every_constraint_violation_is_reported_at_once() {
    const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";
    let (t, _d) = tables();
    create(&t);
    let parts = |msg: &str| -> (usize, Vec<String>) {
        let (head, rest) = msg.split_once(" detected: ").expect(msg);
        let n = head.split(' ').next().unwrap().parse().unwrap();
        (n, rest.split("; ").map(str::to_string).collect())
    };

    // An empty name is reported alone, in DynamoDB's newer words (2026).
    assert_eq!(
        err(&t, "GetItem", json!({"TableName": ""})).1,
        "1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let (ty, msg) = err(&t, "GetItem", json!({"TableName": "a;"}));
    assert_eq!(ty, VALIDATION);
    assert!(msg.starts_with("3 validation errors detected: "), "{msg}");
    let (n, p) = parts(&msg);
    assert_eq!((n, p.len()), (3, 3));
    for want in [
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        "Value null at 'key' failed to satisfy constraint: Member must not be null",
    ] {
        assert!(p.iter().any(|x| x == want), "{want}\n{msg}");
    }

    // Nested: list positions from 1, map keys as they are.
    let (_, msg) = err(
        &t,
        "UpdateTable",
        json!({"TableName": "Music", "GlobalSecondaryIndexUpdates": [
            {"Update": {"IndexName": "a", "ProvisionedThroughput": {}}},
            {"Update": {"IndexName": "abc;", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 0}}}
        ]}),
    );
    let (n, p) = parts(&msg);
    assert_eq!(n, 5, "{msg}");
    assert!(p.iter().any(|x| x == "Value null at 'globalSecondaryIndexUpdates.1.member.update.provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must not be null"), "{msg}");
    assert!(p.iter().any(|x| x == "Value '0' at 'globalSecondaryIndexUpdates.2.member.update.provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"), "{msg}");
    let (_, msg) = err(
        &t,
        "Scan",
        json!({"TableName": "Music", "ScanFilter": {"a": {}}, "Select": "X", "Segment": -1, "TotalSegments": 0}),
    );
    assert_eq!(parts(&msg).0, 4, "{msg}");
    assert!(msg.contains("Value null at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must not be null"), "{msg}");
    let (_, msg) = err(
        &t,
        "BatchGetItem",
        json!({"RequestItems": {"a": {}}, "ReturnConsumedCapacity": "hi"}),
    );
    assert_eq!(parts(&msg).0, 3, "{msg}");
    assert!(msg.contains("Value null at 'requestItems.a.member.keys' failed to satisfy constraint: Member must not be null"), "{msg}");

    // One violation: one, as before.
    assert_eq!(
        err(&t, "ListTables", json!({"Limit": 0})),
        (VALIDATION.into(), "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1".into())
    );

    // The table operations' TableName.
    for op in [
        "CreateTable",
        "DeleteTable",
        "DescribeTable",
        "UpdateTable",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
    ] {
        assert_eq!(
            err(&t, op, json!({})),
            (
                VALIDATION.into(),
                "The parameter 'TableName' is required but was not present in the request".into()
            ),
            "{op}"
        );
        for name in ["", "a;", &"a".repeat(256)] {
            if op == "CreateTable" {
                // CreateTable's length is a constraint like any other now (DynamoDB, 2026).
                assert!(
                    err(&t, op, json!({"TableName": name})).1.contains(
                        " at 'tableName' failed to satisfy constraint: Member must have length"
                    ),
                    "{op} {name}"
                );
                continue;
            }
            assert_eq!(
                err(&t, op, json!({"TableName": name})),
                (
                    VALIDATION.into(),
                    "TableName must be at least 3 characters long and at most 255 characters long"
                        .into()
                ),
                "{op}"
            );
        }
    }
    assert_eq!(
        err(&t, "DescribeTable", json!({"TableName": "abc;"})),
        (VALIDATION.into(), "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".into())
    );

    // Empty index lists, an index update of no kind.
    let table = |extra: Value| {
        let mut b = json!({"TableName": "Tab2", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for k in ["LocalSecondaryIndexes", "GlobalSecondaryIndexes"] {
        assert_eq!(
            err(&t, "CreateTable", table(json!({k: []}))),
            (
                VALIDATION.into(),
                format!("One or more parameter values were invalid: List of {k} is empty")
            )
        );
    }
    assert_eq!(
        err(&t, "UpdateTable", json!({"TableName": "Music", "GlobalSecondaryIndexUpdates": [{}]})),
        (VALIDATION.into(), "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null".into())
    );

    // Within the constraints: served as before.
    let key = json!({"Artist": {"S": "A"}, "Year": {"N": "1"}});
    ok(
        &t,
        "PutItem",
        json!({"TableName": "Music", "Item": key, "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}),
    );
    let got = ok(
        &t,
        "GetItem",
        json!({"TableName": "Music", "Key": key, "AttributesToGet": ["Artist"]}),
    );
    assert_eq!(got["Item"], json!({"Artist": {"S": "A"}}));
    ok(
        &t,
        "Query",
        json!({"TableName": "Music", "Limit": 1, "KeyConditions": {"Artist": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "A"}]}}}),
    );
    ok(
        &t,
        "BatchWriteItem",
        json!({"RequestItems": {"Music": [{"DeleteRequest": {"Key": key}}]}}),
    );
}

/// The order DynamoDB checks an item request in, as dynalite's tests (checked against
/// DynamoDB) record it: the parameters' styles before any attribute value, a value whole
/// before the request's later parameters, and a Query's starting key against its key
/// condition.
#[test]
fn requests_are_checked_in_dynamodbs_order() {
    let (t, _d) = tables();
    create(&t);
    let v = |e: &str| {
        (
            "com.amazon.coral.validate#ValidationException".to_string(),
            e.to_string(),
        )
    };
    // Mixed styles, and placeholders without an expression, before a value that is not one.
    assert_eq!(
        err(&t, "Query", json!({"TableName": "Music", "QueryFilter": {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{}]}}, "FilterExpression": "a = :a"})),
        v("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {QueryFilter} Expression parameters: {FilterExpression}")
    );
    assert_eq!(
        err(
            &t,
            "Scan",
            json!({"TableName": "Music", "ExclusiveStartKey": {"a": {}}, "ExpressionAttributeNames": {}})
        ),
        v("ExpressionAttributeNames can only be specified when using expressions")
    );
    assert_eq!(
        err(&t, "Query", json!({"TableName": "Music", "KeyConditions": {}, "ExpressionAttributeValues": {":a": {"S": "x"}}})),
        v("ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null")
    );
    assert_eq!(
        err(&t, "DeleteItem", json!({"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Year": {"N": "1"}}, "ExpressionAttributeValues": {":a": {"S": "x"}}})).1,
        "1 validation error detected: ExpressionAttributeValues can only be specified when using expressions",
        "a single-item write's words (2026): no absent expression named"
    );
    // A Scan's AttributesToGet before its filter's values; a Query's filter first.
    let dup = json!(["x", "x"]);
    let bad_filter = json!({"x": {"ComparisonOperator": "EQ", "AttributeValueList": [{}]}});
    assert_eq!(
        err(
            &t,
            "Scan",
            json!({"TableName": "Music", "AttributesToGet": dup, "ScanFilter": bad_filter})
        )
        .1,
        "One or more parameter values were invalid: Duplicate value in attribute name: x"
    );
    assert_eq!(
        err(
            &t,
            "Query",
            json!({"TableName": "Music", "AttributesToGet": dup, "QueryFilter": bad_filter})
        )
        .1,
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    );
    // A starting key's value, prefixed; a scan's segments before the placeholder maps.
    assert_eq!(
        err(&t, "Scan", json!({"TableName": "Music", "ExclusiveStartKey": {"a": {"S": "x", "N": "1"}}})).1,
        "The provided starting key is invalid: Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
    );
    assert_eq!(
        err(&t, "Scan", json!({"TableName": "Music", "Segment": 1, "FilterExpression": "a = :a", "ExpressionAttributeNames": {}})).1,
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
    );
    // The placeholder maps' keys before their values.
    assert_eq!(
        err(&t, "Scan", json!({"TableName": "Music", "FilterExpression": "a = :a", "ExpressionAttributeValues": {":a": {}, "b": {"S": "x"}}})).1,
        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"b\""
    );
    // A Boolean DynamoDB converts from a string, and one it does not.
    assert_eq!(
        err(&t, "GetItem", json!({"TableName": "Music", "Key": {"Artist": {"NULL": "no"}}})).1,
        "One or more parameter values were invalid: Null attribute value types must have the value of true"
    );
    assert_eq!(
        err(&t, "GetItem", json!({"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Year": {"N": "1"}}, "ConsistentRead": "23"})).0,
        "com.amazon.coral.service#SerializationException"
    );
    ok(
        &t,
        "GetItem",
        json!({"TableName": "Music", "Key": {"Artist": {"S": "A"}, "Year": {"N": "1"}}, "ConsistentRead": "Yes"}),
    );
    // A starting key outside the query: its sort key first, then its partition.
    let q = |cond: &str, values: Value| {
        let mut body = json!({
            "TableName": "Music",
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": values,
            "ExclusiveStartKey": {"Artist": {"S": "A"}, "Year": {"N": "1"}},
        });
        if cond.contains("#y") {
            body["ExpressionAttributeNames"] = json!({"#y": "Year"});
        }
        err(&t, "Query", body).1
    };
    let (b, y5) = (
        json!({":a": {"S": "B"}}),
        json!({":a": {"S": "B"}, ":y": {"N": "5"}}),
    );
    assert_eq!(
        q("Artist = :a", b),
        "The provided starting key is outside query boundaries based on provided conditions"
    );
    assert_eq!(
        q("Artist = :a AND #y > :y", y5.clone()),
        "The provided starting key does not match the range key predicate"
    );
    assert_eq!(
        q("Artist = :a AND #y < :y", y5),
        "The query can return at most one row and cannot be restarted"
    );
    // A key attribute is a scalar: no path looks into one.
    let scalar = |kind: &str, n: &str| {
        format!("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: {kind}: {n}")
    };
    let key = json!({"Artist": {"S": "A"}, "Year": {"N": "1"}});
    assert_eq!(
        err(
            &t,
            "GetItem",
            json!({"TableName": "Music", "Key": key, "ProjectionExpression": "Artist.x"})
        )
        .1,
        scalar("Key", "Artist")
    );
    assert_eq!(
        err(&t, "Scan", json!({"TableName": "Music", "FilterExpression": "Genre[0] = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}})).1,
        scalar("IndexKey", "Genre")
    );
    assert_eq!(
        err(
            &t,
            "UpdateItem",
            json!({"TableName": "Music", "Key": key, "UpdateExpression": "SET a = Genre.x"})
        )
        .1,
        scalar("IndexKey", "Genre")
    );
    // A legacy filter on a key is named as such.
    assert_eq!(
        err(&t, "Query", json!({"TableName": "Music", "KeyConditions": {"Artist": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "A"}]}}, "QueryFilter": {"Year": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}})).1,
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: Year"
    );
}
