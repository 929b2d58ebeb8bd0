//! IAM enforcement on the table API with DynamoDB's fine-grained access control idioms:
//! `dynamodb:LeadingKeys` pins a user to items whose partition key is their own id,
//! `dynamodb:Attributes` limits which attributes a request may touch, `dynamodb:Select` and
//! `dynamodb:ReturnValues` limit what a request may ask to see. Denials touch no data.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, Requester, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::table::*;

const ALICE: &str = "arn:aws:iam::000000000000:user/alice";

fn s(v: &str) -> AttributeValue {
    AttributeValue::s(v)
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn setup() -> (Tables, Authorizer, tempfile::TempDir) {
    let tmp = tempfile::Builder::new()
        .prefix("table-iam-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let clock = Arc::new(VirtualClock::new());
    let db = Db::open(
        Arc::new(PosixFs::new()),
        tmp.path().join("db"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let t = Tables::open(Arc::new(db), clock).unwrap();
    t.create_table(&CreateTableInput {
        name: "GameScores".into(),
        key_schema: vec![
            KeySchemaElement {
                name: "UserId".into(),
                key_type: "HASH".into(),
            },
            KeySchemaElement {
                name: "GameTitle".into(),
                key_type: "RANGE".into(),
            },
        ],
        attributes: vec![
            ("UserId".into(), "S".into()),
            ("GameTitle".into(), "S".into()),
        ],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/GameScores",
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": ["${aws:userid}"],
                    "dynamodb:Attributes": ["UserId", "GameTitle", "TopScore"]
                },
                "StringEqualsIfExists": {
                    "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                    "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]
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
    // Someone else's item, written without a caller (an administrator's path).
    t.put_item(&PutItem {
        table: "GameScores".into(),
        item: item(&[
            ("UserId", s("AIDABOB")),
            ("GameTitle", s("Chess")),
            ("TopScore", AttributeValue::n(7)),
        ]),
        ..PutItem::default()
    })
    .unwrap();
    (t, Authorizer::new(dir), tmp)
}

/// A user allowed every DynamoDB action on every resource (`dynamodb:*` on `*`).
fn dynamodb_administrator(arn: &str, unique_id: &str) -> User {
    User {
        arn: arn.into(),
        unique_id: unique_id.into(),
        policies: vec![Arc::new(
            Policy::parse(
                r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}}"#,
                PolicyKind::Identity,
            )
            .unwrap(),
        )],
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    }
}

fn get(t: &Tables, user: &str, game: &str) -> Option<Item> {
    t.get_item(&GetItem {
        table: "GameScores".into(),
        key: item(&[("UserId", s(user)), ("GameTitle", s(game))]),
        ..GetItem::default()
    })
    .unwrap()
    .item
}

#[test]
fn leading_keys_pin_a_user_to_their_own_partition() {
    let (t, auth, _tmp) = setup();
    let alice = Principal::User(ALICE.into());
    let caller = Requester {
        principal: &alice,
        context: &[],
    };
    let put = |user: &str, score: i64| {
        Request::PutItem(PutItem {
            table: "GameScores".into(),
            item: item(&[
                ("UserId", s(user)),
                ("GameTitle", s("Go")),
                ("TopScore", AttributeValue::n(score)),
            ]),
            ..PutItem::default()
        })
    };
    t.execute_as(&auth, &caller, None, &put("AIDAALICE", 42))
        .unwrap();
    let q = |user: &str| {
        Request::Query(Search {
            table: "GameScores".into(),
            key_condition: Some("UserId = :u".into()),
            values: Some([(":u".to_string(), s(user))].into()),
            projection: Some("TopScore".into()),
            ..Search::default()
        })
    };
    match t.execute_as(&auth, &caller, None, &q("AIDAALICE")).unwrap() {
        Response::Search(r) => assert_eq!(r.items.len(), 1),
        other => panic!("{other:?}"),
    }
    // Bob's partition: every action is denied, and nothing changes.
    let e = t
        .execute_as(&auth, &caller, None, &put("AIDABOB", 0))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(e.message.contains("dynamodb:PutItem"), "{}", e.message);
    assert_eq!(
        get(&t, "AIDABOB", "Chess").unwrap()["TopScore"],
        AttributeValue::n(7)
    );
    assert!(get(&t, "AIDABOB", "Go").is_none());
    assert_eq!(
        t.execute_as(&auth, &caller, None, &q("AIDABOB"))
            .unwrap_err()
            .kind,
        ErrorKind::AccessDenied
    );
    // DeleteItem was never granted.
    let del = Request::DeleteItem(DeleteItem {
        table: "GameScores".into(),
        key: item(&[("UserId", s("AIDAALICE")), ("GameTitle", s("Go"))]),
        ..DeleteItem::default()
    });
    assert_eq!(
        t.execute_as(&auth, &caller, None, &del).unwrap_err().kind,
        ErrorKind::AccessDenied
    );
    assert!(get(&t, "AIDAALICE", "Go").is_some());
}

#[test]
fn attributes_select_and_return_values_limit_a_request() {
    let (t, auth, _tmp) = setup();
    let alice = Principal::User(ALICE.into());
    let caller = Requester {
        principal: &alice,
        context: &[],
    };
    let admin = Request::PutItem(PutItem {
        table: "GameScores".into(),
        item: item(&[
            ("UserId", s("AIDAALICE")),
            ("GameTitle", s("Go")),
            ("TopScore", AttributeValue::n(1)),
            ("Admin", AttributeValue::Bool(true)),
        ]),
        ..PutItem::default()
    });
    assert_eq!(
        t.execute_as(&auth, &caller, None, &admin).unwrap_err().kind,
        ErrorKind::AccessDenied
    );
    assert!(
        get(&t, "AIDAALICE", "Go").is_none(),
        "a denied PUT wrote the item"
    );
    let update = |expr: &str, rv: &str| {
        Request::UpdateItem(UpdateItem {
            table: "GameScores".into(),
            key: item(&[("UserId", s("AIDAALICE")), ("GameTitle", s("Go"))]),
            update: Some(expr.into()),
            values: Some([(":v".to_string(), AttributeValue::n(99))].into()),
            return_values: Some(rv.into()),
            ..UpdateItem::default()
        })
    };
    t.execute_as(
        &auth,
        &caller,
        None,
        &update("SET TopScore = :v", "UPDATED_NEW"),
    )
    .unwrap();
    assert_eq!(
        t.execute_as(&auth, &caller, None, &update("SET Admin = :v", "NONE"))
            .unwrap_err()
            .kind,
        ErrorKind::AccessDenied
    );
    // ReturnValues ALL_OLD would reveal attributes the user may not read.
    assert_eq!(
        t.execute_as(
            &auth,
            &caller,
            None,
            &update("SET TopScore = :v", "ALL_OLD")
        )
        .unwrap_err()
        .kind,
        ErrorKind::AccessDenied
    );
    // Select ALL_ATTRIBUTES (the default without a projection) is refused; SPECIFIC is fine.
    let scan_all = Request::Query(Search {
        table: "GameScores".into(),
        key_condition: Some("UserId = :u".into()),
        values: Some([(":u".to_string(), s("AIDAALICE"))].into()),
        ..Search::default()
    });
    assert_eq!(
        t.execute_as(&auth, &caller, None, &scan_all)
            .unwrap_err()
            .kind,
        ErrorKind::AccessDenied
    );
    let checks = t.checks(&scan_all);
    assert_eq!(checks[0].select.as_deref(), Some("ALL_ATTRIBUTES"));
    assert_eq!(checks[0].leading_keys, vec!["AIDAALICE".to_string()]);
}

const PARTNER: &str = "arn:aws:iam::111122223333:user/partner";
const TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/GameScores";

/// A table's resource-based policy (PutResourcePolicy) is how another account gets in, and an
/// explicit Deny in it binds the table's own account; it survives a reopen, and without it
/// the other account is refused again.
#[test]
fn a_table_s_resource_policy_admits_another_account_and_its_deny_binds_everyone() {
    let (t, mut auth, tmp) = setup();
    auth.directory
        .put_user(dynamodb_administrator(PARTNER, "AIDAPARTNER"));
    let partner = Principal::User(PARTNER.into());
    let as_partner = Requester {
        principal: &partner,
        context: &[],
    };
    let bob_chess = || {
        Request::GetItem(GetItem {
            table: "GameScores".into(),
            key: item(&[("UserId", s("AIDABOB")), ("GameTitle", s("Chess"))]),
            ..GetItem::default()
        })
    };
    let refused = t
        .execute_as(&auth, &as_partner, None, &bob_chess())
        .unwrap_err();
    assert_eq!(
        refused.kind,
        ErrorKind::AccessDenied,
        "cross-account without a policy"
    );

    let rev = t
        .put_resource_policy(
            TABLE_ARN,
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "111122223333"},
                 "Action": "dynamodb:GetItem", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteItem",
                 "Resource": "*"}]}"#,
            None,
        )
        .unwrap();
    t.execute_as(&auth, &as_partner, None, &bob_chess())
        .unwrap();
    let put = Request::PutItem(PutItem {
        table: "GameScores".into(),
        item: item(&[("UserId", s("AIDABOB")), ("GameTitle", s("Go"))]),
        ..PutItem::default()
    });
    assert_eq!(
        t.execute_as(&auth, &as_partner, None, &put)
            .unwrap_err()
            .kind,
        ErrorKind::AccessDenied,
        "the policy admits GetItem only"
    );
    // The Deny binds the table's own account too, whatever its identity policy says.
    let alice = Principal::User(ALICE.into());
    let as_alice = Requester {
        principal: &alice,
        context: &[],
    };
    let delete = Request::DeleteItem(DeleteItem {
        table: "GameScores".into(),
        key: item(&[("UserId", s("AIDAALICE")), ("GameTitle", s("Go"))]),
        ..DeleteItem::default()
    });
    let e = t.execute_as(&auth, &as_alice, None, &delete).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(
        get(&t, "AIDABOB", "Chess").is_some(),
        "denials write nothing"
    );

    // Kept in the catalog: a reopened store decides the same.
    drop(t);
    let clock = Arc::new(VirtualClock::new());
    let db = Db::open(
        Arc::new(PosixFs::new()),
        tmp.path().join("db"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let t = Tables::open(Arc::new(db), clock).unwrap();
    assert_eq!(t.get_resource_policy(TABLE_ARN).unwrap().revision, rev);
    t.execute_as(&auth, &as_partner, None, &bob_chess())
        .unwrap();
    // Stale revisions are refused; the current one removes it, and the partner is out again.
    assert_eq!(
        t.delete_resource_policy(TABLE_ARN, Some("1"))
            .unwrap_err()
            .kind,
        ErrorKind::PolicyNotFound
    );
    assert_eq!(
        t.delete_resource_policy(TABLE_ARN, Some(&rev)).unwrap(),
        rev
    );
    assert_eq!(
        t.execute_as(&auth, &as_partner, None, &bob_chess())
            .unwrap_err()
            .kind,
        ErrorKind::AccessDenied
    );
    assert_eq!(
        t.get_resource_policy(TABLE_ARN).unwrap_err().kind,
        ErrorKind::PolicyNotFound
    );
    // A document that is not a resource policy (no Principal) is refused.
    let e = t
        .put_resource_policy(
            TABLE_ARN,
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}}"#,
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation, "{e:?}");
}

/// A resource ARN of another account is not this store's: even an administrator of this
/// account (`dynamodb:*` on `*`) is denied it — IAM's cross-account rule, DynamoDB's
/// AccessDeniedException (the DynamoDB Conformance Suite's ListTagsOfResource of a
/// well-formed ARN in account 000000000000, against DynamoDB) — before anything looks for
/// the table; the same ARN in this account is answered.
#[test]
fn a_resource_of_another_account_is_denied_even_to_an_administrator() {
    let (t, mut auth, _tmp) = setup();
    const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
    auth.directory
        .put_user(dynamodb_administrator(ADMIN, "AIDAADMIN"));
    let admin = Principal::User(ADMIN.into());
    let as_admin = Requester {
        principal: &admin,
        context: &[],
    };
    let tags = |account: &str| {
        Request::ListTagsOfResource(format!(
            "arn:aws:dynamodb:us-east-1:{account}:table/GameScores"
        ))
    };
    let e = t
        .execute_as(&auth, &as_admin, None, &tags("111111111111"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{}", e.message);
    t.execute_as(&auth, &as_admin, None, &tags("000000000000"))
        .unwrap();
}
