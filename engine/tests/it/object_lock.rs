//! Object Lock, on real files with a clock the test moves: what a WORM bucket promises — a
//! protected version cannot be deleted before its date (COMPLIANCE: by no one; GOVERNANCE: only
//! by a caller allowed to bypass it, who asks), a legal hold stops everyone, a DELETE without a
//! version only hides the object, the protection survives a reopen, and once the date passes
//! the version is an ordinary one.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::object::{
    DefaultRetention, DeleteOptions, Guard, LockMode, ObjectError, ObjectLockConfig, ObjectStore,
    PutOptions, Requester, Retention,
};

use crate::common::real_store_at;

const DAY_NS: u64 = 86_400 * 1_000_000_000;

fn put(store: &ObjectStore, key: &str, retention: Option<Retention>) -> String {
    store
        .put_object(
            "worm",
            key,
            &mut &b"data"[..],
            4,
            &PutOptions {
                retention,
                ..PutOptions::default()
            },
        )
        .unwrap()
        .version_id
}

fn delete(store: &ObjectStore, key: &str, v: &str, bypass: bool) -> Result<(), ObjectError> {
    store
        .delete_object_as(
            "worm",
            key,
            Some(v),
            &DeleteOptions {
                bypass_governance: bypass,
                ..DeleteOptions::default()
            },
        )
        .map(|_| ())
}

fn locked(r: Result<(), ObjectError>) -> bool {
    matches!(r, Err(ObjectError::ObjectLocked(_)))
}

fn worm_bucket(store: &ObjectStore) {
    store.create_bucket("worm").unwrap();
    let cfg = ObjectLockConfig {
        default: Some(DefaultRetention {
            mode: LockMode::Governance,
            days: 1,
            in_years: false,
        }),
    };
    let e = store
        .put_object_lock_configuration("worm", cfg)
        .unwrap_err();
    assert_eq!(e.code(), "InvalidBucketState", "needs versioning first");
    store.set_versioning("worm", true).unwrap();
    store.put_object_lock_configuration("worm", cfg).unwrap();
    assert_eq!(
        store.set_versioning("worm", false).unwrap_err().code(),
        "InvalidBucketState",
        "a locked bucket stays versioned"
    );
}

#[test]
fn protected_versions_outlive_deletes_until_their_date() {
    let dir = tempfile::Builder::new()
        .prefix("object-lock-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let clock = Arc::new(VirtualClock::new());
    let store = real_store_at(dir.path(), true, 1, clock.clone());
    worm_bucket(&store);

    // The default rule: GOVERNANCE for a day from the write.
    let g = put(&store, "governed", None);
    let r = store
        .object_retention("worm", "governed", Some(&g))
        .unwrap();
    assert_eq!(r.mode, LockMode::Governance);
    assert!(locked(delete(&store, "governed", &g, false)));
    // A DELETE without a version only writes a marker: the version stays.
    let marker = store.delete_object("worm", "governed", None).unwrap();
    assert!(marker.delete_marker);
    assert!(store.head_object("worm", "governed", Some(&g)).is_ok());

    // COMPLIANCE: no bypass, no shortening; a later date is fine.
    let now_ms = store
        .head_object("worm", "governed", Some(&g))
        .unwrap()
        .last_modified_ms;
    let until = now_ms + 3_600_000;
    let c = put(
        &store,
        "complied",
        Some(Retention {
            mode: LockMode::Compliance,
            until_ms: until,
        }),
    );
    assert!(
        locked(delete(&store, "complied", &c, true)),
        "bypass does not help"
    );
    let shorter = Retention {
        mode: LockMode::Compliance,
        until_ms: until - 1,
    };
    assert!(matches!(
        store.put_object_retention("worm", "complied", Some(&c), Some(shorter), true),
        Err(ObjectError::ObjectLocked(_))
    ));
    let to_governance = Retention {
        mode: LockMode::Governance,
        until_ms: until,
    };
    assert!(store
        .put_object_retention("worm", "complied", Some(&c), Some(to_governance), true)
        .is_err());
    let longer = Retention {
        mode: LockMode::Compliance,
        until_ms: until + 1_000,
    };
    store
        .put_object_retention("worm", "complied", Some(&c), Some(longer), false)
        .unwrap();

    // A legal hold stops even a bypass; released, the governance bypass works.
    store
        .put_object_legal_hold("worm", "governed", Some(&g), true)
        .unwrap();
    assert!(locked(delete(&store, "governed", &g, true)));
    store
        .put_object_legal_hold("worm", "governed", Some(&g), false)
        .unwrap();

    // Survives a reopen.
    drop(store);
    let store = real_store_at(dir.path(), false, 2, clock.clone());
    assert!(locked(delete(&store, "complied", &c, true)));
    delete(&store, "governed", &g, true).unwrap();

    // After the date, the version is an ordinary one.
    clock.advance(2 * DAY_NS);
    delete(&store, "complied", &c, false).unwrap();
    assert!(store.head_object("worm", "complied", Some(&c)).is_err());
}

#[test]
fn a_bucket_without_object_lock_refuses_a_retention_and_writes_nothing() {
    let dir = tempfile::Builder::new()
        .prefix("object-lock-none-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let store = real_store_at(dir.path(), true, 3, Arc::new(VirtualClock::new()));
    store.create_bucket("plain").unwrap();
    let blobs = store.blobs().list().unwrap();
    let e = store
        .put_object(
            "plain",
            "k",
            &mut &b"data"[..],
            4,
            &PutOptions {
                legal_hold: true,
                ..PutOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "InvalidRequest");
    assert_eq!(store.blobs().list().unwrap(), blobs);
    assert_eq!(
        store.object_lock_configuration("plain").unwrap_err().code(),
        "ObjectLockConfigurationNotFoundError"
    );
}

#[test]
fn bypassing_governance_needs_its_own_permission() {
    let dir = tempfile::Builder::new()
        .prefix("object-lock-iam-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let store = real_store_at(dir.path(), true, 4, Arc::new(VirtualClock::new()));
    worm_bucket(&store);
    let a = put(&store, "a", None);
    let b = put(&store, "b", None);
    let user = |arn: &str, actions: &str| {
        User {
        arn: arn.into(),
        unique_id: format!("AIDA{}", arn.len()),
        policies: vec![Arc::new(
            Policy::parse(
                &format!(
                    r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": {actions}, "Resource": "*"}}}}"#
                ),
                PolicyKind::Identity,
            )
            .unwrap(),
        )],
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    }
    };
    let mut d = Directory::new();
    d.put_user(user(
        "arn:aws:iam::111122223333:user/ops",
        r#"["s3:DeleteObjectVersion"]"#,
    ));
    d.put_user(user(
        "arn:aws:iam::111122223333:user/admin",
        r#"["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]"#,
    ));
    let guard = Guard::new(Authorizer::new(d), "111122223333");
    let ops = Principal::User("arn:aws:iam::111122223333:user/ops".into());
    let s = guard.on(
        &store,
        Requester {
            principal: &ops,
            context: &[],
        },
    );
    let e = s
        .delete_object_bypassing("worm", "a", Some(&a), None, true)
        .unwrap_err();
    assert!(matches!(e, ObjectError::ObjectLocked(_)), "{e}");
    let admin = Principal::User("arn:aws:iam::111122223333:user/admin".into());
    let s = guard.on(
        &store,
        Requester {
            principal: &admin,
            context: &[],
        },
    );
    s.delete_object_bypassing("worm", "a", Some(&a), None, true)
        .unwrap();
    assert!(
        matches!(
            s.delete_object_bypassing("worm", "b", Some(&b), None, false),
            Err(ObjectError::ObjectLocked(_))
        ),
        "the permission alone bypasses nothing: the request must ask"
    );
}
