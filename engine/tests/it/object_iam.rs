//! IAM enforcement on the object store: identity policies with S3 condition keys, a bucket policy
//! as the resource-based policy (same-account grants, explicit denies, cross-account), and
//! AccessDenied that touches no data.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::{
    lsm_meta, Guard, ListOptions, ObjectStore, PutOptions, Requester, StoreOptions,
};
use seedbed_engine::rng::DetRng;

const ACCOUNT: &str = "111122223333";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const MALLORY: &str = "arn:aws:iam::444455556666:user/mallory";

fn policy(json: &str) -> Arc<Policy> {
    Arc::new(Policy::parse(json, PolicyKind::Identity).unwrap())
}

fn user(arn: &str, policies: Vec<Arc<Policy>>) -> User {
    User {
        arn: arn.into(),
        unique_id: format!("AIDA{}", arn.len()),
        policies,
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    }
}

struct Env {
    store: ObjectStore,
    guard: Guard,
    _tmp: tempfile::TempDir,
}

fn env() -> Env {
    let tmp = tempfile::Builder::new()
        .prefix("object-iam-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let clock = Arc::new(VirtualClock::new());
    let root = tmp.path().join("store");
    let meta = lsm_meta::open_with(
        fs.clone(),
        &root.join("meta"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let store = ObjectStore::create(
        fs,
        &root,
        2,
        1,
        4096,
        None,
        meta,
        clock,
        DetRng::new(5),
        StoreOptions {
            sync: false,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let mut dir = Directory::new();
    dir.put_user(user(
        ALICE,
        vec![policy(
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": "arn:aws:s3:::photos/${aws:username}/*"},
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::photos",
                 "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}}},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*"}
            ]}"#,
        )],
    ));
    dir.put_user(user(BOB, Vec::new()));
    dir.put_user(user(
        MALLORY,
        vec![policy(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#,
        )],
    ));
    let guard = Guard::new(Authorizer::new(dir), ACCOUNT);
    store.create_bucket("photos").unwrap();
    store
        .put_bucket_policy(
            "photos",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "PublicReadForBob", "Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"},
                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/public/*"},
                {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
                 "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::photos/*"}
            ]}"#,
        )
        .unwrap();
    for key in ["alice/cat.jpg", "public/logo.png", "bob/secret.txt"] {
        store
            .put_object("photos", key, &mut &b"bytes"[..], 5, &PutOptions::default())
            .unwrap();
    }
    Env {
        store,
        guard,
        _tmp: tmp,
    }
}

fn who(arn: &str) -> Principal {
    Principal::User(arn.into())
}

#[test]
fn identity_policies_with_variables_and_conditions() {
    let e = env();
    let alice = who(ALICE);
    let s = e.guard.on(
        &e.store,
        Requester {
            principal: &alice,
            context: &[],
        },
    );
    let mut out = Vec::new();
    s.get_object("photos", "alice/cat.jpg", None, None, &mut out)
        .unwrap();
    assert_eq!(out, b"bytes");
    s.put_object(
        "photos",
        "alice/new.jpg",
        &mut &b"x"[..],
        1,
        &PutOptions::default(),
    )
    .unwrap();
    // ${aws:username} keeps alice out of bob's prefix.
    let err = s
        .get_object("photos", "bob/secret.txt", None, None, &mut out)
        .unwrap_err();
    assert_eq!(err.code(), "AccessDenied");
    assert!(err.to_string().contains("s3:GetObject"), "{err}");
    // s3:prefix condition on ListBucket.
    let mine = ListOptions {
        prefix: "alice/".into(),
        ..ListOptions::default()
    };
    let keys: Vec<String> = s
        .list_objects("photos", &mine)
        .unwrap()
        .entries
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, vec!["alice/cat.jpg", "alice/new.jpg"]);
    assert_eq!(
        s.list_objects("photos", &ListOptions::default())
            .unwrap_err()
            .code(),
        "AccessDenied"
    );
}

#[test]
fn denied_writes_touch_no_data() {
    let e = env();
    let alice = who(ALICE);
    let s = e.guard.on(
        &e.store,
        Requester {
            principal: &alice,
            context: &[],
        },
    );
    let blobs_before = e.store.blobs().list().unwrap();
    let err = s
        .put_object(
            "photos",
            "bob/overwrite.txt",
            &mut &b"evil"[..],
            4,
            &PutOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "AccessDenied");
    assert_eq!(
        e.store.blobs().list().unwrap(),
        blobs_before,
        "a denied PUT wrote shards"
    );
    assert_eq!(
        e.store
            .head_object("photos", "bob/overwrite.txt", None)
            .unwrap_err()
            .code(),
        "NoSuchKey"
    );
    // The bucket policy's explicit Deny beats alice's identity Allow for DeleteObject.
    let err = s
        .delete_object("photos", "alice/cat.jpg", None)
        .unwrap_err();
    assert_eq!(err.code(), "AccessDenied");
    assert!(err.to_string().contains("ExplicitDeny"), "{err}");
    assert!(e.store.head_object("photos", "alice/cat.jpg", None).is_ok());
}

#[test]
fn bucket_policy_grants_and_cross_account_rules() {
    let e = env();
    let bob = who(BOB);
    let s = e.guard.on(
        &e.store,
        Requester {
            principal: &bob,
            context: &[],
        },
    );
    let mut out = Vec::new();
    // Same account: the bucket policy naming bob is enough, with no identity policy at all.
    s.get_object("photos", "public/logo.png", None, None, &mut out)
        .unwrap();
    assert_eq!(
        s.get_object("photos", "alice/cat.jpg", None, None, &mut out)
            .unwrap_err()
            .code(),
        "AccessDenied"
    );
    // Cross account: mallory's own s3:* is not enough without the bucket policy naming her.
    let mallory = who(MALLORY);
    let m = e.guard.on(
        &e.store,
        Requester {
            principal: &mallory,
            context: &[],
        },
    );
    assert_eq!(
        m.get_object("photos", "public/logo.png", None, None, &mut out)
            .unwrap_err()
            .code(),
        "AccessDenied"
    );
    e.store
        .put_bucket_policy(
            "photos",
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:user/mallory"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/public/*"}}"#,
        )
        .unwrap();
    out.clear();
    m.get_object("photos", "public/logo.png", None, None, &mut out)
        .unwrap();
    assert_eq!(out, b"bytes");
    // Malformed bucket policies are refused with IAM's reason.
    let err = e
        .store
        .put_bucket_policy("photos", r#"{"Statement": 5}"#)
        .unwrap_err();
    assert!(err.to_string().contains("MalformedPolicy"), "{err}");
}
