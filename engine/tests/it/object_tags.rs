//! Object tags and conditional deletes, on real files (K = 4, M = 2): tags given with a PUT, a
//! copy or a multipart upload, replaced and removed per version, refused by S3's rules with
//! nothing written; kept across a reopen and — as given at write time — across a rebuild from
//! the data side; IAM's `s3:ExistingObjectTag` and `s3:RequestObjectTag` keys; and DELETE with
//! `If-Match`.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::object::{
    CopyOptions, DeleteOptions, GetOptions, Guard, ObjectError, ObjectStore, PutOptions, Requester,
};

use crate::common::real_store;
use crate::common::replicated_env;

fn if_match(etag: &str) -> DeleteOptions {
    DeleteOptions {
        if_match: Some(etag.to_string()),
        ..DeleteOptions::default()
    }
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn put_tagged(store: &ObjectStore, bucket: &str, key: &str, t: &[(&str, &str)]) -> String {
    store
        .put_object(
            bucket,
            key,
            &mut &b"data"[..],
            4,
            &PutOptions {
                tags: tags(t),
                ..PutOptions::default()
            },
        )
        .unwrap()
        .version_id
}

fn tags_of(store: &ObjectStore, bucket: &str, key: &str) -> Vec<(String, String)> {
    store.object_tagging(bucket, key, None).unwrap().1
}

fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

#[test]
fn tags_ride_puts_copies_and_uploads_and_are_replaced_per_version() {
    let dir = tmp("object-tags-");
    let store = real_store(dir.path(), true, 1);
    store.create_bucket("bkt").unwrap();

    // Kept by key, whatever the order given; HEAD shows them.
    put_tagged(&store, "bkt", "k", &[("z", "1"), ("a", "")]);
    assert_eq!(tags_of(&store, "bkt", "k"), tags(&[("a", ""), ("z", "1")]));
    assert_eq!(store.head_object("bkt", "k", None).unwrap().tags.len(), 2);

    // A copy keeps the source's tags unless it says REPLACE.
    store
        .copy_object_with(
            "bkt",
            "k",
            &GetOptions::default(),
            "bkt",
            "kept",
            &PutOptions::default(),
            &CopyOptions::default(),
        )
        .unwrap();
    assert_eq!(
        tags_of(&store, "bkt", "kept"),
        tags(&[("a", ""), ("z", "1")])
    );
    store
        .copy_object_with(
            "bkt",
            "k",
            &GetOptions::default(),
            "bkt",
            "replaced",
            &PutOptions {
                tags: tags(&[("new", "yes")]),
                ..PutOptions::default()
            },
            &CopyOptions {
                replace_tags: true,
                ..CopyOptions::default()
            },
        )
        .unwrap();
    assert_eq!(tags_of(&store, "bkt", "replaced"), tags(&[("new", "yes")]));

    // A multipart upload carries its tags to the object it completes.
    let upload = store
        .create_multipart_upload(
            "bkt",
            "mp",
            &PutOptions {
                tags: tags(&[("part", "of-upload")]),
                ..PutOptions::default()
            },
        )
        .unwrap();
    let etag = store
        .upload_part("bkt", &upload, 1, &mut &b"abc"[..], 3)
        .unwrap();
    store
        .complete_multipart_upload("bkt", &upload, &[(1, etag)])
        .unwrap();
    assert_eq!(tags_of(&store, "bkt", "mp"), tags(&[("part", "of-upload")]));

    // Replacing and removing tags changes neither data nor Last-Modified.
    let before = store.head_object("bkt", "k", None).unwrap();
    store
        .put_object_tagging("bkt", "k", None, tags(&[("only", "this")]))
        .unwrap();
    let after = store.head_object("bkt", "k", None).unwrap();
    assert_eq!(after.tags, tags(&[("only", "this")]));
    assert_eq!(
        (after.etag, after.last_modified_ms),
        (before.etag, before.last_modified_ms)
    );
    store.delete_object_tagging("bkt", "k", None).unwrap();
    assert!(tags_of(&store, "bkt", "k").is_empty());

    // Per version: tagging an older version leaves the current one alone.
    store.create_bucket("vers").unwrap();
    store.set_versioning("vers", true).unwrap();
    let first = put_tagged(&store, "vers", "k", &[("gen", "1")]);
    let second = put_tagged(&store, "vers", "k", &[("gen", "2")]);
    store
        .put_object_tagging("vers", "k", Some(&first), tags(&[("gen", "old")]))
        .unwrap();
    assert_eq!(
        store.object_tagging("vers", "k", Some(&first)).unwrap(),
        (first.clone(), tags(&[("gen", "old")]))
    );
    assert_eq!(
        store.object_tagging("vers", "k", None).unwrap(),
        (second.clone(), tags(&[("gen", "2")]))
    );

    // A removed version, a delete marker named or on top: S3's errors, nothing changed.
    store.delete_object("vers", "k", Some(&first)).unwrap();
    match store.put_object_tagging("vers", "k", Some(&first), tags(&[("x", "y")])) {
        Err(ObjectError::NoSuchVersion { version_id, .. }) => assert_eq!(version_id, first),
        other => panic!("tagging a removed version: {other:?}"),
    }
    let marker = store
        .delete_object("vers", "k", None)
        .unwrap()
        .version_id
        .unwrap();
    match store.put_object_tagging("vers", "k", Some(&marker), tags(&[("x", "y")])) {
        Err(ObjectError::MethodNotAllowed { version_id, .. }) => assert_eq!(version_id, marker),
        other => panic!("tagging a delete marker: {other:?}"),
    }
    match store.object_tagging("vers", "k", None) {
        Err(ObjectError::NoSuchKey { delete_marker, .. }) => {
            assert_eq!(
                delete_marker,
                Some(marker.clone()),
                "the marker's id is told"
            )
        }
        other => panic!("tags of a deleted key: {other:?}"),
    }
    assert_eq!(
        store.object_tagging("vers", "k", Some(&second)).unwrap().1,
        tags(&[("gen", "2")])
    );

    // Reopened, the tags are still there.
    drop(store);
    let store = real_store(dir.path(), false, 2);
    assert_eq!(
        tags_of(&store, "bkt", "kept"),
        tags(&[("a", ""), ("z", "1")])
    );
    assert_eq!(tags_of(&store, "bkt", "mp"), tags(&[("part", "of-upload")]));
}

#[test]
fn tag_sets_breaking_s3_rules_write_nothing() {
    let dir = tmp("object-tags-refused-");
    let store = real_store(dir.path(), true, 3);
    store.create_bucket("bkt").unwrap();
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let blobs = store.blobs().list().unwrap();
    let err = store
        .put_object(
            "bkt",
            "k",
            &mut &b"data"[..],
            4,
            &PutOptions {
                tags: eleven.clone(),
                ..PutOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "BadRequest");
    assert_eq!(
        store.blobs().list().unwrap(),
        blobs,
        "a refused PUT wrote data"
    );
    assert_eq!(
        store.head_object("bkt", "k", None).unwrap_err().code(),
        "NoSuchKey"
    );
    let err = store
        .create_multipart_upload(
            "bkt",
            "k",
            &PutOptions {
                tags: tags(&[("aws:system", "x")]),
                ..PutOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "InvalidTag");
    assert!(store.list_uploads("bkt").unwrap().is_empty());

    put_tagged(&store, "bkt", "k", &[("keep", "me")]);
    for bad in [eleven, tags(&[("a", "1"), ("a", "2")]), tags(&[("", "x")])] {
        assert!(store.put_object_tagging("bkt", "k", None, bad).is_err());
    }
    assert_eq!(tags_of(&store, "bkt", "k"), tags(&[("keep", "me")]));
}

#[test]
fn tags_given_with_the_write_come_back_from_the_data_side() {
    let e = replicated_env::env("object-tags-rebuild-");
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        put_tagged(&store, "bkt", "small", &[("kind", "pack")]);
        let big = replicated_env::data(40_000, 7);
        store
            .put_object(
                "bkt",
                "big",
                &mut big.as_slice(),
                big.len() as u64,
                &PutOptions {
                    tags: (0..10)
                        .map(|i| (format!("{i}{}", "k".repeat(127)), "v".repeat(256)))
                        .collect(),
                    ..PutOptions::default()
                },
            )
            .unwrap();
    }
    e.lose_every_metadata_copy();
    e.repair_from_shards();
    let store = e.open().unwrap();
    assert_eq!(tags_of(&store, "bkt", "small"), tags(&[("kind", "pack")]));
    let big = tags_of(&store, "bkt", "big");
    assert_eq!(
        big.len(),
        10,
        "the longest tag set S3 allows fits the description"
    );
}

#[test]
fn delete_with_if_match_deletes_only_the_version_it_names() {
    let dir = tmp("object-delete-if-match-");
    let store = real_store(dir.path(), true, 4);
    store.create_bucket("bkt").unwrap();
    let etag = store
        .put_object("bkt", "k", &mut &b"test"[..], 4, &PutOptions::default())
        .unwrap()
        .etag;
    let err = store
        .delete_object_as("bkt", "k", None, &if_match("\"not-it\""))
        .unwrap_err();
    match &err {
        ObjectError::PreconditionFailed { condition, .. } => assert_eq!(condition, "If-Match"),
        other => panic!("a wrong ETag: {other:?}"),
    }
    assert!(store.head_object("bkt", "k", None).is_ok(), "still there");
    store
        .delete_object_as("bkt", "k", None, &if_match(&etag))
        .unwrap();
    assert_eq!(
        store.head_object("bkt", "k", None).unwrap_err().code(),
        "NoSuchKey"
    );
    assert_eq!(
        store
            .delete_object_as("bkt", "k", None, &if_match("*"))
            .unwrap_err()
            .code(),
        "NoSuchKey"
    );

    // Versioned: the marker is written only over the version whose ETag matched.
    store.create_bucket("vers").unwrap();
    store.set_versioning("vers", true).unwrap();
    let etag = store
        .put_object("vers", "k", &mut &b"one"[..], 3, &PutOptions::default())
        .unwrap()
        .etag;
    store
        .put_object("vers", "k", &mut &b"two!"[..], 4, &PutOptions::default())
        .unwrap();
    assert_eq!(
        store
            .delete_object_as("vers", "k", None, &if_match(&etag))
            .unwrap_err()
            .code(),
        "PreconditionFailed"
    );
    let page = store.list_versions("vers", &Default::default()).unwrap();
    assert!(page.entries.iter().all(|v| !v.delete_marker), "no marker");
    let r = store
        .delete_object_as("vers", "k", None, &if_match("*"))
        .unwrap();
    assert!(r.delete_marker);
}

const ACCOUNT: &str = "111122223333";
const READER: &str = "arn:aws:iam::111122223333:user/reader";
const WRITER: &str = "arn:aws:iam::111122223333:user/writer";

fn user(arn: &str, policy: &str) -> User {
    User {
        arn: arn.into(),
        unique_id: format!("AIDA{}", arn.len()),
        policies: vec![Arc::new(
            Policy::parse(policy, PolicyKind::Identity).unwrap(),
        )],
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    }
}

#[test]
fn iam_decides_on_existing_and_requested_tags() {
    let dir = tmp("object-tags-iam-");
    let store = real_store(dir.path(), true, 5);
    store.create_bucket("bkt").unwrap();
    put_tagged(&store, "bkt", "public", &[("security", "public")]);
    put_tagged(&store, "bkt", "private", &[("security", "secret")]);
    let mut d = Directory::new();
    d.put_user(user(
        READER,
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectTagging"], "Resource": "arn:aws:s3:::bkt/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}}}}"#,
    ));
    d.put_user(user(
        WRITER,
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bkt/*"},
            {"Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "arn:aws:s3:::bkt/*",
             "Condition": {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}}}]}"#,
    ));
    let guard = Guard::new(Authorizer::new(d), ACCOUNT);
    let as_user = |arn: &str| Principal::User(arn.into());

    let reader = as_user(READER);
    let s = guard.on(
        &store,
        Requester {
            principal: &reader,
            context: &[],
        },
    );
    let mut out = Vec::new();
    s.get_object("bkt", "public", None, None, &mut out).unwrap();
    assert_eq!(s.object_tagging("bkt", "public", None).unwrap().1.len(), 1);
    let err = s
        .get_object("bkt", "private", None, None, &mut out)
        .unwrap_err();
    assert_eq!(err.code(), "AccessDenied", "{err}");
    // Tagging is its own permission: the reader may not change tags to let itself in.
    let err = s
        .put_object_tagging("bkt", "private", None, tags(&[("security", "public")]))
        .unwrap_err();
    assert!(err.to_string().contains("s3:PutObjectTagging"), "{err}");

    let writer = as_user(WRITER);
    let s = guard.on(
        &store,
        Requester {
            principal: &writer,
            context: &[],
        },
    );
    let put = |t: &[(&str, &str)]| {
        s.put_object(
            "bkt",
            "new",
            &mut &b"x"[..],
            1,
            &PutOptions {
                tags: tags(t),
                ..PutOptions::default()
            },
        )
    };
    put(&[]).unwrap();
    put(&[("team", "storage")]).unwrap();
    let err = put(&[("team", "storage"), ("cost", "high")]).unwrap_err();
    assert!(err.to_string().contains("s3:PutObjectTagging"), "{err}");
    assert_eq!(tags_of(&store, "bkt", "new"), tags(&[("team", "storage")]));
}
