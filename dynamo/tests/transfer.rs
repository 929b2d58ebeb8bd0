//! ImportTable and ExportTableToPointInTime in-process: the tables and an object store on real
//! files in a temporary directory, the jobs on their threads, waited for with
//! `Transfers::wait` (no sleeping, no timing).

// Tests unwrap: a failure here is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use seedbed_dynamo::errors::WireError;
use seedbed_dynamo::transfer::{ImportRecord, Objects, Transfers};
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::object::{on_disk, ObjectStore, PutOptions, StoreOptions};
use seedbed_engine::table::{keys, Tables};
use serde_json::{json, Value};

struct Env {
    tables: Arc<Tables>,
    store: Arc<ObjectStore>,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("dynamo-transfer-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let tables = Env::open_tables(&dir);
        let store = on_disk::create_with(
            Arc::new(PosixFs::new()),
            &dir.path().join("objects"),
            2,
            1,
            4096,
            None,
            StoreOptions {
                sync: false,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        Env {
            tables,
            store: Arc::new(store),
            _dir: dir,
        }
    }

    fn open_tables(dir: &tempfile::TempDir) -> Arc<Tables> {
        let clock = Arc::new(VirtualClock::new());
        let db = Db::open(
            Arc::new(PosixFs::new()),
            dir.path().join("tables"),
            Options::small_for_tests(),
            clock.clone(),
        )
        .unwrap();
        Arc::new(Tables::open(Arc::new(db), clock).unwrap())
    }

    fn transfers(&self) -> Arc<Transfers> {
        Transfers::open(
            self.tables.clone(),
            Objects {
                store: self.store.clone(),
                guard: None,
            },
        )
        .unwrap()
    }

    fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let mut src = body;
        self.store
            .put_object(
                bucket,
                key,
                &mut src,
                body.len() as u64,
                &PutOptions::default(),
            )
            .unwrap();
    }

    fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.store
            .get_object(bucket, key, None, None, &mut out)
            .unwrap();
        out
    }

    fn keys(&self, bucket: &str) -> Vec<String> {
        self.store
            .list_objects(bucket, &Default::default())
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.key)
            .collect()
    }

    /// Items in `table`, counted over every page of a Scan (a page reads at most 1 MB).
    fn count(&self, table: &str) -> u64 {
        let mut n = 0;
        let mut start = Value::Null;
        loop {
            let mut body = json!({"TableName": table, "Select": "COUNT"});
            if !start.is_null() {
                body["ExclusiveStartKey"] = start;
            }
            let page = self.item("Scan", body);
            n += page["Count"].as_u64().unwrap();
            start = page["LastEvaluatedKey"].clone();
            if start.is_null() {
                return n;
            }
        }
    }

    fn item(&self, op: &str, body: Value) -> Value {
        let req = seedbed_dynamo::parse::request(op, &body).unwrap();
        let resp = self.tables.execute(&req).unwrap();
        serde_json::from_slice(&seedbed_dynamo::render::response(
            &req,
            &resp,
            &self.tables.region,
            &self.tables.account,
        ))
        .unwrap()
    }
}

fn call(t: &Arc<Transfers>, op: &str, body: Value) -> Result<Value, WireError> {
    t.handle(op, &body, &|_| Ok(()), None)
}

fn params(name: &str) -> Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "n", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    })
}

fn import(
    t: &Arc<Transfers>,
    bucket: &str,
    prefix: &str,
    format: &str,
    compression: &str,
    table: &str,
) -> Value {
    let d = call(
        t,
        "ImportTable",
        json!({
            "S3BucketSource": {"S3Bucket": bucket, "S3KeyPrefix": prefix},
            "InputFormat": format,
            "InputCompressionType": compression,
            "TableCreationParameters": params(table),
        }),
    )
    .unwrap();
    t.wait();
    let arn = d["ImportTableDescription"]["ImportArn"].clone();
    call(t, "DescribeImport", json!({ "ImportArn": arn })).unwrap()["ImportTableDescription"]
        .clone()
}

#[test]
fn an_export_imports_back_into_an_equal_table() {
    let env = Env::new();
    let t = env.transfers();
    env.store.create_bucket("exports").unwrap();
    env.item("CreateTable", params("src"));
    for i in 0..60 {
        env.item(
            "PutItem",
            json!({"TableName": "src", "Item": {
                "pk": {"S": format!("p{}", i % 7)}, "n": {"N": format!("{}.5", i - 30)},
                "b": {"B": "AAEC"}, "m": {"M": {"l": {"L": [{"NULL": true}, {"SS": ["x", "y"]}]}}},
            }}),
        );
    }
    let arn = env.tables.table_arn("src");
    let export = |t: &Arc<Transfers>| {
        call(
            t,
            "ExportTableToPointInTime",
            json!({"TableArn": arn, "S3Bucket": "exports", "S3Prefix": "nightly"}),
        )
    };
    match export(&t) {
        Err(WireError::Dynamo(e)) => {
            assert_eq!(e.kind.name(), "PointInTimeRecoveryUnavailableException");
            assert_eq!(
                e.message,
                "Point in time recovery is not enabled for table 'src'"
            );
        }
        other => panic!("an export needs PITR: {other:?}"),
    }
    let pitr = env.item(
        "UpdateContinuousBackups",
        json!({"TableName": "src", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    assert_eq!(
        pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
            ["PointInTimeRecoveryStatus"],
        "ENABLED"
    );
    let started = export(&t).unwrap()["ExportDescription"].clone();
    assert_eq!(started["ExportStatus"], "IN_PROGRESS");
    t.wait();
    let done = call(
        &t,
        "DescribeExport",
        json!({"ExportArn": started["ExportArn"]}),
    )
    .unwrap()["ExportDescription"]
        .clone();
    assert_eq!(done["ExportStatus"], "COMPLETED", "{done}");
    assert_eq!(done["ItemCount"], 60);
    assert!(done["BilledSizeBytes"].as_u64().unwrap() > 60 * 10);

    // The files, where DynamoDB puts them, and manifests that describe them.
    let id = started["ExportArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let base = format!("nightly/AWSDynamoDB/{id}");
    let keys = env.keys("exports");
    for name in [
        "_started",
        "manifest-files.json",
        "manifest-files.md5",
        "manifest-summary.json",
        "manifest-summary.md5",
    ] {
        assert!(
            keys.contains(&format!("{base}/{name}")),
            "{name} in {keys:?}"
        );
    }
    assert_eq!(
        done["ExportManifest"],
        format!("{base}/manifest-summary.json")
    );
    let summary: Value =
        serde_json::from_slice(&env.get("exports", &format!("{base}/manifest-summary.json")))
            .unwrap();
    assert_eq!(summary["itemCount"], 60);
    assert_eq!(summary["exportArn"], started["ExportArn"]);
    let files =
        String::from_utf8(env.get("exports", &format!("{base}/manifest-files.json"))).unwrap();
    let file: Value = serde_json::from_str(files.lines().next().unwrap()).unwrap();
    assert_eq!(file["itemCount"], 60);
    assert!(file["dataFileS3Key"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/data/")));

    // Import the data files into a new table: every item back, bytes for bytes.
    let imported = import(
        &t,
        "exports",
        &format!("{base}/data/"),
        "DYNAMODB_JSON",
        "GZIP",
        "copy",
    );
    assert_eq!(imported["ImportStatus"], "COMPLETED", "{imported}");
    assert_eq!(imported["ImportedItemCount"], 60);
    assert_eq!(imported["ErrorCount"], 0);
    let scan = |name: &str| env.item("Scan", json!({"TableName": name}))["Items"].clone();
    assert_eq!(scan("src"), scan("copy"));

    // Both jobs are listed, and a table of that name cannot be imported again.
    let exports = call(&t, "ListExports", json!({"TableArn": arn})).unwrap();
    assert_eq!(exports["ExportSummaries"].as_array().unwrap().len(), 1);
    let imports = call(&t, "ListImports", json!({})).unwrap();
    assert_eq!(imports["ImportSummaryList"][0]["ImportStatus"], "COMPLETED");
    match call(
        &t,
        "ImportTable",
        json!({"S3BucketSource": {"S3Bucket": "exports"}, "InputFormat": "CSV", "TableCreationParameters": params("copy")}),
    ) {
        Err(WireError::Dynamo(e)) => assert_eq!(e.message, "Table already exists: copy"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_records_cost_only_themselves_and_fail_the_import() {
    let env = Env::new();
    let t = env.transfers();
    env.store.create_bucket("src").unwrap();
    // CSV, zstd-compressed: keys typed by the table (n is a number), the rest strings; one
    // row whose key is not a number.
    let csv = "pk,n,note\na,1,first\nb,x,bad key\nc,3,\n";
    env.put(
        "src",
        "in/one.csv.zst",
        &zstd::encode_all(csv.as_bytes(), 3).unwrap(),
    );
    // DynamoDB JSON with a record without its Item wrapper, beside the prefix.
    env.put("src", "elsewhere.json", br#"{"pk":{"S":"z"}}"#);
    let d = import(&t, "src", "in/", "CSV", "ZSTD", "csv");
    assert_eq!(d["ImportStatus"], "FAILED", "{d}");
    assert_eq!(
        (
            d["ProcessedItemCount"].as_u64(),
            d["ImportedItemCount"].as_u64(),
            d["ErrorCount"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let msg = d["FailureMessage"].as_str().unwrap();
    assert!(
        msg.contains("s3://src/in/one.csv.zst") && msg.contains("key attribute n"),
        "{msg}"
    );
    let items = env.item("Scan", json!({"TableName": "csv"}))["Items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert!(items
        .as_array()
        .unwrap()
        .contains(&json!({"pk": {"S": "a"}, "n": {"N": "1"}, "note": {"S": "first"}})));
    assert!(items
        .as_array()
        .unwrap()
        .contains(&json!({"pk": {"S": "c"}, "n": {"N": "3"}})));

    // A missing bucket fails the import before any table is made.
    let d = import(&t, "nosuch", "", "DYNAMODB_JSON", "NONE", "never");
    assert_eq!(d["FailureCode"], "S3NoSuchBucket");
    assert!(env.tables.table("never").is_err());
}

#[test]
fn a_large_file_streams_in_and_a_cut_one_keeps_what_came_before_the_cut() {
    use std::io::Write;
    let env = Env::new();
    let t = env.transfers();
    env.store.create_bucket("big").unwrap();
    // 30,000 items (more than one window of JSON, and than one count interval), gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..30_000 {
        writeln!(
            gz,
            r#"{{"Item":{{"pk":{{"S":"p{}"}},"n":{{"N":"{i}"}},"pad":{{"S":"{}"}}}}}}"#,
            i % 7,
            "x".repeat(40)
        )
        .unwrap();
    }
    let whole = gz.finish().unwrap();
    env.put("big", "all/data.json.gz", &whole);
    let d = import(&t, "big", "all/", "DYNAMODB_JSON", "GZIP", "all");
    assert_eq!(d["ImportStatus"], "COMPLETED", "{d}");
    assert_eq!(d["ImportedItemCount"], 30_000);
    assert_eq!(d["ProcessedSizeBytes"], whole.len() as u64);
    assert_eq!(env.count("all"), 30_000);

    // The same file cut in the middle: the items before the cut are imported, the cut is one
    // error, and the import says which file.
    env.put("big", "cut/data.json.gz", &whole[..whole.len() / 2]);
    let d = import(&t, "big", "cut/", "DYNAMODB_JSON", "GZIP", "cut");
    assert_eq!(d["ImportStatus"], "FAILED", "{d}");
    let imported = d["ImportedItemCount"].as_u64().unwrap();
    assert!((1_000..30_000).contains(&imported), "{d}");
    assert_eq!(d["ErrorCount"], 1);
    let msg = d["FailureMessage"].as_str().unwrap();
    assert!(
        msg.contains("s3://big/cut/data.json.gz") && msg.contains("could not be read"),
        "{msg}"
    );
    assert_eq!(env.count("cut"), imported);
}

#[test]
fn a_table_an_import_is_creating_is_shown_creating_and_closed_to_clients() {
    let env = Env::new();
    let wire = |op: &str, body: Value| {
        let target = format!("DynamoDB_20120810.{op}");
        let r = seedbed_dynamo::handler::handle(
            &env.tables,
            Some(&target),
            body.to_string().as_bytes(),
            None,
        );
        let json: Value = serde_json::from_slice(&r.body).unwrap();
        (r.error, json)
    };
    let (err, body) = wire("CreateTable", params("tbl"));
    assert_eq!(err, None, "{body}");
    env.tables.begin_creating("tbl");
    let (_, d) = wire("DescribeTable", json!({"TableName": "tbl"}));
    assert_eq!(d["Table"]["TableStatus"], "CREATING");
    assert_eq!(
        wire("ListTables", json!({})).1["TableNames"],
        json!(["tbl"])
    );
    let item = json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}});
    let (err, body) = wire("PutItem", item.clone());
    assert_eq!(err.as_deref(), Some("ResourceNotFoundException"), "{body}");
    let batch = json!({"RequestItems": {"tbl": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "n": {"N": "2"}}}}]}});
    assert_eq!(
        wire("BatchWriteItem", batch).0.as_deref(),
        Some("ResourceNotFoundException")
    );
    let (err, body) = wire("DeleteTable", json!({"TableName": "tbl"}));
    assert_eq!(err.as_deref(), Some("ResourceInUseException"), "{body}");
    // The import's own writes go around the check.
    env.item("PutItem", item.clone());
    env.tables.end_creating("tbl");
    assert_eq!(
        wire("DescribeTable", json!({"TableName": "tbl"})).1["Table"]["TableStatus"],
        "ACTIVE"
    );
    assert_eq!(
        wire(
            "GetItem",
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "n": {"N": "1"}}})
        )
        .1["Item"]["pk"]["S"],
        "a"
    );
}

#[test]
fn a_client_token_repeats_an_import_and_a_stop_fails_a_running_one() {
    let env = Env::new();
    let t = env.transfers();
    env.store.create_bucket("src").unwrap();
    env.put(
        "src",
        "a.json",
        br#"{"Item":{"pk":{"S":"a"},"n":{"N":"1"}}}"#,
    );
    let body = |table: &str| {
        json!({
            "ClientToken": "tok-1",
            "S3BucketSource": {"S3Bucket": "src"},
            "InputFormat": "DYNAMODB_JSON",
            "TableCreationParameters": params(table),
        })
    };
    let first = call(&t, "ImportTable", body("tab1")).unwrap();
    t.wait();
    let again = call(&t, "ImportTable", body("tab1")).unwrap();
    assert_eq!(
        first["ImportTableDescription"]["ImportArn"], again["ImportTableDescription"]["ImportArn"],
        "the same token and request: the same import"
    );
    match call(&t, "ImportTable", body("tab2")) {
        Err(WireError::Dynamo(e)) => assert_eq!(e.kind.name(), "ImportConflictException"),
        other => panic!("{other:?}"),
    }

    // A record left IN_PROGRESS (the server stopped mid-job) reads FAILED after a reopen,
    // and the records outlive the reopen.
    let mut stuck: ImportRecord =
        serde_json::from_value(first["ImportTableDescription"].clone()).unwrap();
    stuck.import_arn.push_str("-stuck");
    stuck.import_status = "IN_PROGRESS".into();
    env.tables
        .db()
        .put(
            &keys::transfer_key(b'I', &stuck.import_arn),
            &serde_json::to_vec(&stuck).unwrap(),
        )
        .unwrap();
    drop(t);
    let t = env.transfers();
    let d = call(&t, "DescribeImport", json!({"ImportArn": stuck.import_arn})).unwrap();
    assert_eq!(d["ImportTableDescription"]["ImportStatus"], "FAILED");
    assert_eq!(d["ImportTableDescription"]["FailureCode"], "UNKNOWN");
    let listed = call(&t, "ListImports", json!({"PageSize": 1})).unwrap();
    assert_eq!(listed["ImportSummaryList"].as_array().unwrap().len(), 1);
    let rest = call(&t, "ListImports", json!({"NextToken": listed["NextToken"]})).unwrap();
    assert_eq!(rest["ImportSummaryList"].as_array().unwrap().len(), 1);
    assert!(rest.get("NextToken").is_none());
}
