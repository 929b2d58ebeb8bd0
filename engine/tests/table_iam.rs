//! IAM enforcement on the table API, with DynamoDB's fine-grained access control idiom:
//! `dynamodb:LeadingKeys` pins a user to items whose partition key is their own id, and
//! `dynamodb:Attributes` limits which attributes a write may set. Denials touch no data.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, Requester, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::table::auth::TableGuard;
use seedbed_engine::table::{Item, Query, TableSchema, TableStore};
use serde_json::json;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn item(v: serde_json::Value) -> Item {
    v.as_object().unwrap().clone()
}

fn table() -> (TableStore, tempfile::TempDir) {
    let tmp = tempfile::Builder::new()
        .prefix("table-iam-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let clock = Arc::new(VirtualClock::new());
    let db = Db::open(
        fs,
        tmp.path().join("db"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let schema = TableSchema {
        name: "GameScores".into(),
        partition_key: "UserId".into(),
        sort_key: Some("GameTitle".into()),
        ttl_attribute: None,
    };
    let mut t = TableStore::new(Arc::new(db), schema, clock).unwrap();
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/GameScores",
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": ["${aws:userid}"],
                    "dynamodb:Attributes": ["UserId", "GameTitle", "TopScore"]
                }
            }
        }]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let mut dir = Directory::new();
    dir.put_user(User {
        arn: ALICE.into(),
        unique_id: "AIDAALICE".into(),
        policies: vec![Arc::new(policy)],
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    });
    t.set_guard(TableGuard {
        authorizer: Arc::new(RwLock::new(Authorizer::new(dir))),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        resource_policy: None,
    });
    // Someone else's item, written without a caller (an administrator's path).
    t.put(
        item(json!({"UserId": "AIDABOB", "GameTitle": "Chess", "TopScore": 7})),
        None,
    )
    .unwrap();
    (t, tmp)
}

#[test]
fn leading_keys_pin_a_user_to_their_own_partition() {
    let (t, _tmp) = table();
    let alice = Principal::User(ALICE.into());
    let a = t.as_caller(Requester {
        principal: &alice,
        context: &[],
    });
    a.put(
        item(json!({"UserId": "AIDAALICE", "GameTitle": "Go", "TopScore": 42})),
        None,
    )
    .unwrap();
    assert_eq!(
        a.get("AIDAALICE", "Go").unwrap().unwrap()["TopScore"],
        json!(42)
    );
    let page = a
        .query(&Query {
            partition: "AIDAALICE".into(),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // Bob's partition: every action is denied, and nothing changes.
    let err = a.get("AIDABOB", "Chess").unwrap_err().to_string();
    assert!(
        err.contains("AccessDenied") && err.contains("dynamodb:GetItem"),
        "{err}"
    );
    let err = a
        .put(
            item(json!({"UserId": "AIDABOB", "GameTitle": "Chess", "TopScore": 0})),
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("AccessDenied"), "{err}");
    assert_eq!(
        t.get("AIDABOB", "Chess").unwrap().unwrap()["TopScore"],
        json!(7)
    );
    assert!(a
        .query(&Query {
            partition: "AIDABOB".into(),
            ..Query::default()
        })
        .is_err());
    // DeleteItem was never granted.
    assert!(a
        .delete("AIDAALICE", "Go", None)
        .unwrap_err()
        .to_string()
        .contains("ImplicitDeny"));
    assert!(t.get("AIDAALICE", "Go").unwrap().is_some());
}

#[test]
fn attributes_limit_what_a_write_may_set() {
    let (t, _tmp) = table();
    let alice = Principal::User(ALICE.into());
    let a = t.as_caller(Requester {
        principal: &alice,
        context: &[],
    });
    let err = a
        .put(
            item(json!({"UserId": "AIDAALICE", "GameTitle": "Go", "TopScore": 1, "Admin": true})),
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("dynamodb:PutItem"), "{err}");
    assert!(
        t.get("AIDAALICE", "Go").unwrap().is_none(),
        "a denied PUT wrote the item"
    );
    let mut set = Item::new();
    set.insert("TopScore".into(), json!(99));
    a.update("AIDAALICE", "Go", set, &[], None).unwrap();
    let mut set = Item::new();
    set.insert("Admin".into(), json!(true));
    assert!(a.update("AIDAALICE", "Go", set, &[], None).is_err());
}
