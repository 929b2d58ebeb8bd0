//! `seedbed object` end to end, one store through every verb: what each prints, that bytes come
//! back exact, and that failures exit non-zero with S3's error code in the message.

use std::path::Path;
use std::process::Command;

/// Run `seedbed object --store STORE ARGS...`: (exit code, stdout, stderr).
fn object(store: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .arg("object")
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run seedbed");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run and require success; returns stdout.
fn ok(store: &Path, args: &[&str]) -> String {
    let (code, out, err) = object(store, args);
    assert_eq!(code, 0, "seedbed object {args:?} failed: {err}");
    out
}

#[test]
fn every_verb_on_one_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s3");
    let small = dir.path().join("small.txt");
    std::fs::write(&small, b"hello, object store\n").expect("write");
    // Two parts of 5 MiB and a tail: more than one stripe with --shard-kib 64.
    let big = dir.path().join("big.bin");
    let big_bytes: Vec<u8> = (0..11u32 << 20).map(|i| (i * 7 + i / 4099) as u8).collect();
    std::fs::write(&big, &big_bytes).expect("write");
    let p = |x: &Path| x.to_str().expect("utf8 path").to_string();

    let out = ok(
        &store,
        &["init", "--k", "3", "--m", "2", "--shard-kib", "64"],
    );
    assert!(out.contains("K=3 data + M=2 parity"), "{out}");
    let (code, _, err) = object(&store, &["init"]);
    assert_eq!(code, 1);
    assert!(err.contains("already holds a store"), "{err}");

    assert!(ok(&store, &["mb", "docs"]).contains("make_bucket: docs"));
    let (code, _, err) = object(&store, &["mb", "Bad_Name"]);
    assert_eq!(code, 1);
    assert!(err.contains("InvalidBucketName"), "{err}");

    let out = ok(
        &store,
        &[
            "put",
            "docs",
            "a/small.txt",
            &p(&small),
            "--meta",
            "colour=blue",
            "--content-type",
            "text/plain",
            "--tag",
            "team=docs",
        ],
    );
    assert!(out.contains("ETag \""), "{out}");
    let out = ok(&store, &["put", "--json", "docs", "big.bin", &p(&big)]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["VersionId"], "null");

    // GET to a file and to stdout, and a range.
    let copy = dir.path().join("copy.bin");
    ok(&store, &["get", "docs", "big.bin", &p(&copy)]);
    assert!(std::fs::read(&copy).expect("read") == big_bytes);
    assert_eq!(
        ok(&store, &["get", "docs", "a/small.txt"]),
        "hello, object store\n"
    );
    assert_eq!(
        ok(&store, &["get", "docs", "a/small.txt", "--range", "7-12"]),
        "object"
    );
    let (code, _, err) = object(&store, &["get", "docs", "nope", &p(&copy)]);
    assert_eq!(code, 1);
    assert!(err.contains("NoSuchKey"), "{err}");
    assert!(
        std::fs::read(&copy).expect("read") == big_bytes,
        "a failed GET leaves the file"
    );

    let head: serde_json::Value =
        serde_json::from_str(&ok(&store, &["head", "docs", "a/small.txt"])).expect("json");
    assert_eq!(head["ContentLength"], 20);
    assert_eq!(head["ContentType"], "text/plain");
    assert_eq!(head["Metadata"]["colour"], "blue");
    assert_eq!(head["TagSet"][0]["Key"], "team");
    assert!(
        head["ObjectLockMode"].is_null(),
        "no Object Lock here: {head}"
    );
    let (code, _, err) = object(
        &store,
        &["put", "docs", "t", &p(&small), "--tag", "aws:x=1"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("InvalidTag"), "{err}");

    let out = ok(&store, &["ls", "docs", "--delimiter", "/"]);
    assert!(
        out.contains("PRE") && out.contains("a/") && out.contains("big.bin"),
        "{out}"
    );
    let out = ok(&store, &["ls", "--json"]);
    assert!(out.contains("\"Name\": \"docs\""), "{out}");

    ok(&store, &["cp", "docs", "a/small.txt", "docs", "b.txt"]);
    assert_eq!(
        ok(&store, &["get", "docs", "b.txt"]),
        "hello, object store\n"
    );

    // Multipart: 5 MiB parts, the object comes back whole with an ETag ending -3.
    let out = ok(
        &store,
        &[
            "put-multipart",
            "docs",
            "multi.bin",
            &p(&big),
            "--part-mib",
            "5",
        ],
    );
    assert!(out.contains("in 3 parts") && out.contains("-3\""), "{out}");
    ok(&store, &["get", "docs", "multi.bin", &p(&copy)]);
    assert!(std::fs::read(&copy).expect("read") == big_bytes);

    // Versioning: a delete marker, the version listing, then removing the marker.
    assert!(ok(&store, &["versioning", "docs", "on"]).contains("Enabled"));
    let out = ok(&store, &["rm", "--json", "docs", "b.txt"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["DeleteMarker"], true);
    let marker = v["VersionId"].as_str().expect("id").to_string();
    let out = ok(&store, &["versions", "docs", "--prefix", "b"]);
    assert!(
        out.contains("(delete marker)") && out.contains("null"),
        "{out}"
    );
    let (code, _, err) = object(&store, &["get", "docs", "b.txt"]);
    assert_eq!(code, 1);
    assert!(err.contains("NoSuchKey"), "{err}");
    ok(&store, &["rm", "docs", "b.txt", "--version-id", &marker]);
    assert_eq!(
        ok(&store, &["get", "docs", "b.txt"]),
        "hello, object store\n"
    );

    let out = ok(&store, &["scrub"]);
    assert!(
        out.contains("0 bad blocks") && out.contains("0 unrecoverable"),
        "{out}"
    );
}

#[test]
fn select_runs_sql_over_an_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s3");
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "name,city,age\nann,Seattle,31\nbob,Chicago,7\ncat,Seattle,45\n",
    )
    .expect("write");
    ok(&store, &["init"]);
    ok(&store, &["mb", "data"]);
    ok(
        &store,
        &["put", "data", "people.csv", csv.to_str().expect("utf8")],
    );
    let (code, out, err) = object(
        &store,
        &[
            "select",
            "data",
            "people.csv",
            "--sql",
            "SELECT s.name FROM S3Object s WHERE s.city = 'Seattle' AND CAST(s.age AS INT) > 40",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "{\"name\":\"cat\"}\n");
    assert!(
        err.contains("scanned 58 B") && err.contains("returned 15 B"),
        "{err}"
    );
    let out = ok(
        &store,
        &[
            "select",
            "data",
            "people.csv",
            "--input",
            "csv",
            "--csv-out",
            "--sql",
            "SELECT count(*) FROM S3Object",
        ],
    );
    assert_eq!(out, "4\n");
    let (code, _, err) = object(
        &store,
        &[
            "select",
            "data",
            "people.csv",
            "--sql",
            "SELECT FROM S3Object",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("ParseUnexpectedToken"), "{err}");
    let (code, _, err) = object(
        &store,
        &[
            "select",
            "data",
            "nope.csv",
            "--sql",
            "SELECT * FROM S3Object",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("NoSuchKey"), "{err}");
    // Two ScanRanges that tile the object: each record once (ann starts at byte 14, bob at
    // 29, cat at 43; the cut at 30 falls inside bob's line).
    let names = |range: &str| {
        ok(
            &store,
            &[
                "select",
                "data",
                "people.csv",
                "--scan-range",
                range,
                "--sql",
                "SELECT s.name FROM S3Object s",
            ],
        )
    };
    assert_eq!(names("0-29"), "{\"name\":\"ann\"}\n{\"name\":\"bob\"}\n");
    assert_eq!(names("30-"), "{\"name\":\"cat\"}\n");
    assert_eq!(names("-15"), "{\"name\":\"cat\"}\n");
    // The last 10 bytes start inside cat's line: no record starts in them.
    assert_eq!(names("-10"), "");
    let (code, _, err) = object(
        &store,
        &[
            "select",
            "data",
            "people.csv",
            "--scan-range",
            "x-1",
            "--sql",
            "SELECT 1 FROM S3Object",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("'x' in 'x-1' is not a byte offset"), "{err}");
}

#[test]
fn a_bucket_with_objects_cannot_be_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s3");
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").expect("write");
    ok(&store, &["init"]);
    ok(&store, &["mb", "docs"]);
    ok(&store, &["put", "docs", "k", file.to_str().expect("utf8")]);
    let (code, _, err) = object(&store, &["rb", "docs"]);
    assert_eq!(code, 1);
    assert!(err.contains("BucketNotEmpty"), "{err}");
}

#[test]
fn encrypted_objects_need_their_key_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s3");
    let (file, key, other) = (
        dir.path().join("f"),
        dir.path().join("k"),
        dir.path().join("o"),
    );
    std::fs::write(&file, b"a secret worth keeping\n").expect("write");
    std::fs::write(&key, [7u8; 32]).expect("write");
    std::fs::write(&other, [8u8; 32]).expect("write");
    let p = |x: &Path| x.to_str().expect("utf8 path").to_string();
    ok(&store, &["init"]);
    ok(&store, &["mb", "docs"]);
    ok(
        &store,
        &["put", "docs", "c", &p(&file), "--sse-c-key-file", &p(&key)],
    );
    ok(&store, &["put", "docs", "s3", &p(&file), "--sse-s3"]);
    let out = ok(
        &store,
        &["get", "docs", "c", "-", "--sse-c-key-file", &p(&key)],
    );
    assert_eq!(out, "a secret worth keeping\n");
    assert_eq!(
        ok(&store, &["get", "docs", "s3"]),
        "a secret worth keeping\n"
    );
    let head = ok(&store, &["head", "docs", "s3"]);
    assert!(
        head.contains("\"ServerSideEncryption\": \"AES256\""),
        "{head}"
    );
    for wrong in [vec![], vec!["--sse-c-key-file".to_string(), p(&other)]] {
        let mut args = vec!["get".to_string(), "docs".into(), "c".into()];
        args.extend(wrong);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = object(&store, &args);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty() && err.contains("InvalidRequest"), "{err}");
    }
    std::fs::write(&other, [8u8; 16]).expect("write");
    let (code, _, err) = object(
        &store,
        &["get", "docs", "c", "--sse-c-key-file", &p(&other)],
    );
    assert_eq!(code, 1);
    assert!(err.contains("32 bytes"), "{err}");
}

#[test]
fn a_directory_that_is_no_store_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = object(dir.path(), &["ls"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not an object store"), "{err}");
    assert!(
        std::fs::read_dir(dir.path())
            .expect("list")
            .next()
            .is_none(),
        "a failed open leaves the directory as it was"
    );
}
