//! UpdateTable on a table with items: a global index added is built online from the items
//! already there (and kept by every write meanwhile and after), one removed takes its entries with it (and its number
//! can be used again), billing mode and stream settings follow DynamoDB's rules, deletion
//! protection holds DeleteTable off; and table tags. Everything survives a reopen.

use seedbed_engine::table::update::{GsiUpdate, UpdateTableInput};
use seedbed_engine::table::*;

use super::table_api::{fixture, item, ks, n, put, s, values};

fn by_team(throughput: Option<Throughput>) -> IndexInput {
    IndexInput {
        name: "by_team".into(),
        key_schema: ks(&[("team", "HASH"), ("age", "RANGE")]),
        projection_type: Some("KEYS_ONLY".into()),
        non_key_attributes: None,
        throughput,
    }
}

fn team_query(t: &Tables, team: &str) -> std::result::Result<Vec<String>, DynamoError> {
    let out = t.query(&Search {
        table: "people".into(),
        index: Some("by_team".into()),
        key_condition: Some("team = :t".into()),
        values: values(&[(":t", s(team))]),
        ..Search::default()
    })?;
    Ok(out
        .items
        .iter()
        .map(|i| i["id"].as_s().unwrap().to_string())
        .collect())
}

fn update(t: &Tables, f: impl FnOnce(&mut UpdateTableInput)) -> Result<TableInfo> {
    let mut input = UpdateTableInput {
        name: "people".into(),
        ..UpdateTableInput::default()
    };
    f(&mut input);
    t.update_table(&input)
}

#[test]
fn an_index_added_to_a_table_with_items_is_filled_and_then_kept() {
    let f = fixture();
    let t = &f.t;
    t.create_table(&CreateTableInput {
        name: "people".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![("id".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    for (id, team, age) in [("a", "red", "30"), ("b", "red", "25"), ("c", "blue", "41")] {
        put(
            t,
            "people",
            item(&[("id", s(id)), ("team", s(team)), ("age", n(age))]),
        );
    }
    // An item without the index's keys is in the table, not in the index; nor is one whose
    // key attribute has another type than the index will have.
    put(t, "people", item(&[("id", s("d")), ("team", s("red"))]));
    put(
        t,
        "people",
        item(&[("id", s("x")), ("team", n("7")), ("age", n("1"))]),
    );
    assert_eq!(
        team_query(t, "red").unwrap_err().kind,
        ErrorKind::Validation
    );

    // The new index's key attributes must be defined, with one type.
    let e = update(t, |u| {
        u.gsi_updates = vec![GsiUpdate::Create(by_team(None))]
    })
    .unwrap_err();
    assert!(e.message.contains("team"), "{}", e.message);
    let info = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(by_team(None))];
    })
    .unwrap();
    // The index is built online: until the build has passed every item it is CREATING and
    // cannot be read, and no other index may come or go.
    let ix = info.def.index("by_team").unwrap();
    assert!(ix.backfill.is_some(), "CREATING until built");
    let e = team_query(t, "red").unwrap_err();
    assert_eq!(
        e.message,
        "Cannot read from backfilling global secondary index: by_team"
    );
    let e = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into())];
        u.gsi_updates = vec![GsiUpdate::Create(IndexInput {
            name: "second".into(),
            key_schema: ks(&[("team", "HASH")]),
            ..by_team(None)
        })];
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded, "{}", e.message);
    t.finish_index_jobs().unwrap();
    assert!(!t.index_jobs_pending());
    let info = t.describe_table("people").unwrap();
    let ix = info.def.index("by_team").unwrap();
    assert!(ix.backfill.is_none(), "ACTIVE once built");
    assert_eq!(
        info.stats[ix.number as usize].item_count, 3,
        "a, b and c; d has no age, x's team is a number"
    );
    // Writing x again is refused until its team is a string, as on DynamoDB.
    let e = t
        .put_item(&PutItem {
            table: "people".into(),
            item: item(&[("id", s("x")), ("team", n("8")), ("age", n("1"))]),
            ..PutItem::default()
        })
        .unwrap_err();
    assert!(
        e.message.contains("Type mismatch for Index Key team"),
        "{}",
        e.message
    );
    put(
        t,
        "people",
        item(&[("id", s("x")), ("team", s("green")), ("age", n("1"))]),
    );
    assert_eq!(team_query(t, "green").unwrap(), ["x"]);
    assert_eq!(team_query(t, "red").unwrap(), ["b", "a"], "sorted by age");
    assert_eq!(team_query(t, "blue").unwrap(), ["c"]);
    // Later writes keep it.
    put(
        t,
        "people",
        item(&[("id", s("c")), ("team", s("red")), ("age", n("50"))]),
    );
    assert_eq!(team_query(t, "red").unwrap(), ["b", "a", "c"]);
    assert!(team_query(t, "blue").unwrap().is_empty());
    // A second index of the name, or two changes at once, are refused.
    let e = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(by_team(None))];
    })
    .unwrap_err();
    assert!(e.message.contains("already exists"), "{}", e.message);
    let e = update(t, |u| {
        u.gsi_updates = vec![
            GsiUpdate::Delete("by_team".into()),
            GsiUpdate::Delete("by_team".into()),
        ]
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert!(
        e.message
            .contains("Only one global secondary index update per index"),
        "{}",
        e.message
    );
    let e = update(t, |u| {
        u.gsi_updates = vec![
            GsiUpdate::Delete("by_team".into()),
            GsiUpdate::Create(IndexInput {
                name: "other".into(),
                ..by_team(None)
            }),
        ]
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    let e = update(t, |u| {
        u.attributes = vec![("team".into(), "N".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(IndexInput {
            name: "other".into(),
            ..by_team(None)
        })];
    })
    .unwrap_err();
    assert!(
        e.message.contains("Attributes cannot be redefined"),
        "{}",
        e.message
    );
    // Every key attribute of the new index is in the request's AttributeDefinitions, even
    // one the table already has (DynamoDB's rule).
    let e = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into())];
        u.gsi_updates = vec![GsiUpdate::Create(IndexInput {
            name: "other".into(),
            ..by_team(None)
        })];
    })
    .unwrap_err();
    assert!(
        e.message.contains(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [age]"
        ),
        "{}",
        e.message
    );

    // Survives a reopen: the definition, the entries and the statistics.
    let before = t.describe_table("people").unwrap();
    let f = f.reopen();
    let t = &f.t;
    assert_eq!(t.describe_table("people").unwrap(), before);
    assert_eq!(team_query(t, "red").unwrap(), ["b", "a", "c"]);

    // Removed: its entries and its now unused attribute definitions go; a new index takes the
    // freed number and starts from the items, not from what the old one left.
    let number = before.def.index("by_team").unwrap().number;
    let info = update(t, |u| {
        u.gsi_updates = vec![GsiUpdate::Delete("by_team".into())]
    })
    .unwrap();
    assert!(info.def.gsis.is_empty());
    assert_eq!(
        info.def.attributes.len(),
        1,
        "only id is still a key attribute"
    );
    // Its entries go in the background, the index DELETING meanwhile (its definition kept for
    // DescribeTable); until they are gone no index comes or goes, as on DynamoDB, and its
    // number is given to no index.
    assert_eq!(info.def.purging.len(), 1);
    assert_eq!(info.def.purging[0].number, number);
    assert_eq!(
        info.def.purging[0].index.as_ref().map(|i| i.name.as_str()),
        Some("by_team")
    );
    let e = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(IndexInput {
            name: "other".into(),
            ..by_team(None)
        })];
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded, "{}", e.message);
    t.finish_index_jobs().unwrap();
    assert!(t.describe_table("people").unwrap().def.purging.is_empty());
    put(
        t,
        "people",
        item(&[("id", s("e")), ("team", s("blue")), ("age", n("20"))]),
    );
    let info = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(by_team(None))];
    })
    .unwrap();
    assert_eq!(info.def.index("by_team").unwrap().number, number);
    t.finish_index_jobs().unwrap();
    let info = t.describe_table("people").unwrap();
    assert_eq!(
        info.stats[number as usize].item_count, 5,
        "a, b, c, e and x"
    );
    assert_eq!(team_query(t, "blue").unwrap(), ["e"]);
    let e = update(t, |u| {
        u.gsi_updates = vec![GsiUpdate::Delete("nope".into())]
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
}

/// Table `people` (partition key `id`), on demand, with global index `by_team` (partition key
/// `team`) of projection `projection`.
fn create_people(t: &Tables, projection: &str) {
    t.create_table(&CreateTableInput {
        name: "people".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![("id".into(), "S".into()), ("team".into(), "S".into())],
        gsis: vec![IndexInput {
            name: "by_team".into(),
            key_schema: ks(&[("team", "HASH")]),
            projection_type: Some(projection.into()),
            non_key_attributes: None,
            throughput: None,
        }],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
}

#[test]
fn billing_streams_and_deletion_protection_follow_dynamodbs_rules() {
    let f = fixture();
    let t = &f.t;
    create_people(t, "ALL");
    let e = update(t, |_| {}).unwrap_err();
    assert!(e.message.starts_with("At least one of"), "{}", e.message);
    let tp = Throughput { read: 5, write: 7 };
    // To PROVISIONED: the table's throughput and every index's are needed.
    let e = update(t, |u| u.billing_mode = Some("PROVISIONED".into())).unwrap_err();
    assert!(
        e.message
            .contains("ProvisionedThroughput must be specified"),
        "{}",
        e.message
    );
    let e = update(t, |u| {
        u.billing_mode = Some("PROVISIONED".into());
        u.throughput = Some(tp);
    })
    .unwrap_err();
    assert!(e.message.contains("index: by_team"), "{}", e.message);
    let info = update(t, |u| {
        u.billing_mode = Some("PROVISIONED".into());
        u.throughput = Some(tp);
        u.gsi_updates = vec![GsiUpdate::Update("by_team".into(), Some(tp))];
    })
    .unwrap();
    assert_eq!(
        (info.def.billing_mode.as_str(), info.def.throughput),
        ("PROVISIONED", tp)
    );
    assert_eq!(info.def.gsis[0].throughput, Some(tp));
    // The same numbers again change nothing, and DynamoDB says so.
    let e = update(t, |u| {
        u.billing_mode = Some("PROVISIONED".into());
        u.throughput = Some(tp);
    })
    .unwrap_err();
    assert!(
        e.message.starts_with(
            "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5."
        ),
        "{}",
        e.message
    );
    // Back to on-demand: no throughput may be given, and every index's is dropped.
    let e = update(t, |u| {
        u.billing_mode = Some("PAY_PER_REQUEST".into());
        u.throughput = Some(tp);
    })
    .unwrap_err();
    assert!(e.message.contains("PAY_PER_REQUEST"), "{}", e.message);
    let info = update(t, |u| u.billing_mode = Some("PAY_PER_REQUEST".into())).unwrap();
    assert_eq!(info.def.gsis[0].throughput, None);
    // On-demand maxima: recorded, one at a time, -1 for none; 0 is refused.
    let info = update(t, |u| u.on_demand = Some((Some(20), None))).unwrap();
    assert_eq!(info.def.on_demand, Some((20, -1)));
    let info = update(t, |u| u.on_demand = Some((None, Some(15)))).unwrap();
    assert_eq!(info.def.on_demand, Some((20, 15)));
    let e = update(t, |u| u.on_demand = Some((Some(0), None))).unwrap_err();
    assert!(e.message.contains("MaxReadRequestUnits"), "{}", e.message);

    // Streams: a view type to enable, and only one enabled stream; a disabled stream
    // created with a view type is refused.
    let e = t
        .create_table(&CreateTableInput {
            name: "viewless".into(),
            key_schema: ks(&[("id", "HASH")]),
            attributes: vec![("id".into(), "S".into())],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            stream: Some((false, "NEW_IMAGE".into())),
            ..CreateTableInput::default()
        })
        .unwrap_err();
    assert!(
        e.message.contains("StreamEnabled is false"),
        "{}",
        e.message
    );
    let e = update(t, |u| u.stream = Some((true, None))).unwrap_err();
    assert!(e.message.contains("StreamViewType"), "{}", e.message);
    let e = update(t, |u| u.stream = Some((false, None))).unwrap_err();
    assert!(
        e.message.contains("does not have an enabled stream"),
        "{}",
        e.message
    );
    let info = update(t, |u| u.stream = Some((true, Some("NEW_IMAGE".into())))).unwrap();
    assert_eq!(info.def.stream, Some((true, "NEW_IMAGE".into())));
    let e = update(t, |u| u.stream = Some((true, Some("KEYS_ONLY".into())))).unwrap_err();
    assert!(
        e.message.contains("already has an enabled stream"),
        "{}",
        e.message
    );

    // Deletion protection.
    update(t, |u| u.deletion_protection = Some(true)).unwrap();
    let e = t.delete_table("people").unwrap_err();
    assert!(
        e.message.contains("protected against deletion"),
        "{}",
        e.message
    );
    let f = f.reopen();
    let t = &f.t;
    assert!(t.describe_table("people").unwrap().def.deletion_protection);
    assert_eq!(
        t.describe_table("people").unwrap().def.on_demand,
        Some((20, 15))
    );
    update(t, |u| u.deletion_protection = Some(false)).unwrap();
    t.delete_table("people").unwrap();
}

#[test]
fn tags_are_kept_merged_and_checked() {
    let f = fixture();
    let t = &f.t;
    t.create_table(&CreateTableInput {
        name: "people".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![("id".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        tags: vec![("team".into(), "storage".into())],
        ..CreateTableInput::default()
    })
    .unwrap();
    let arn = t.table_arn("people");
    let tag = |k: &str, v: &str| (k.to_string(), v.to_string());
    t.tag_resource(&arn, &[tag("env", "test"), tag("team", "infra")])
        .unwrap();
    assert_eq!(
        t.list_tags_of_resource(&arn).unwrap(),
        [tag("team", "infra"), tag("env", "test")]
    );
    t.untag_resource(&arn, &["env".into(), "absent".into()])
        .unwrap();
    assert_eq!(
        t.list_tags_of_resource(&arn).unwrap(),
        [tag("team", "infra")]
    );
    // A bare name is no ARN; an ARN of no table is not found; bad tags change nothing.
    assert_eq!(
        t.list_tags_of_resource("people").unwrap_err().kind,
        ErrorKind::Validation
    );
    assert_eq!(
        t.list_tags_of_resource(&t.table_arn("nobody"))
            .unwrap_err()
            .kind,
        ErrorKind::ResourceNotFound
    );
    assert!(t.tag_resource(&arn, &[tag("aws:x", "y")]).is_err());
    let many: Vec<_> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    // Over 50 in all is a ValidationException, as DynamoDB answers (ScyllaDB's Alternator
    // test_tag_resource_incorrect).
    assert_eq!(
        t.tag_resource(&arn, &many).unwrap_err().kind,
        ErrorKind::Validation
    );
    let f = f.reopen();
    assert_eq!(
        f.t.list_tags_of_resource(&arn).unwrap(),
        [tag("team", "infra")]
    );
}

#[test]
fn tags_decide_access_to_their_table() {
    use std::sync::Arc;

    use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, Requester, User};
    use seedbed_engine::iam::{Policy, PolicyKind};

    let f = fixture();
    let t = &f.t;
    for (name, team) in [("red_orders", "red"), ("blue_orders", "blue")] {
        t.create_table(&CreateTableInput {
            name: name.into(),
            key_schema: ks(&[("id", "HASH")]),
            attributes: vec![("id".into(), "S".into())],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            tags: vec![("team".into(), team.into())],
            ..CreateTableInput::default()
        })
        .unwrap();
    }
    // ABAC: a member of team red reads the tables tagged team=red, and may tag only with
    // team=red; nobody may remove the team tag.
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:TagResource", "dynamodb:UntagResource"],
             "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
            {"Effect": "Deny", "Action": "dynamodb:TagResource", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
                           "Null": {"aws:RequestTag/team": "false"}}},
            {"Effect": "Deny", "Action": "dynamodb:UntagResource", "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let mut dir = Directory::new();
    dir.put_user(User {
        arn: "arn:aws:iam::000000000000:user/rosa".into(),
        unique_id: "AIDAROSA".into(),
        policies: vec![Arc::new(policy)],
        groups: Vec::new(),
        boundary: None,
        tags: [("team".to_string(), "red".to_string())].into(),
    });
    let auth = Authorizer::new(dir);
    let rosa = Principal::User("arn:aws:iam::000000000000:user/rosa".into());
    let may = |req: &Request| {
        let caller = Requester {
            principal: &rosa,
            context: &[],
        };
        t.authorize(&auth, &caller, None, req).map_err(|e| e.kind)
    };
    let get = |table: &str| {
        Request::GetItem(GetItem {
            table: table.into(),
            key: item(&[("id", s("a"))]),
            ..GetItem::default()
        })
    };
    assert_eq!(may(&get("red_orders")), Ok(()));
    assert_eq!(may(&get("blue_orders")), Err(ErrorKind::AccessDenied));
    let red = t.table_arn("red_orders");
    let tag = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert_eq!(
        may(&Request::TagResource(red.clone(), tag("env", "prod"))),
        Ok(())
    );
    assert_eq!(
        may(&Request::TagResource(red.clone(), tag("team", "blue"))),
        Err(ErrorKind::AccessDenied),
        "moving the table to another team"
    );
    assert_eq!(
        may(&Request::UntagResource(red.clone(), vec!["env".into()])),
        Ok(())
    );
    assert_eq!(
        may(&Request::UntagResource(red, vec!["team".into()])),
        Err(ErrorKind::AccessDenied)
    );
}

#[test]
fn an_index_added_to_an_empty_table_is_active_at_once() {
    let f = fixture();
    let t = &f.t;
    t.create_table(&CreateTableInput {
        name: "people".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![("id".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    let info = update(t, |u| {
        u.attributes = vec![("team".into(), "S".into()), ("age".into(), "N".into())];
        u.gsi_updates = vec![GsiUpdate::Create(by_team(None))];
    })
    .unwrap();
    assert!(info.def.index("by_team").unwrap().backfill.is_none());
    assert!(!t.index_jobs_pending(), "nothing to build");
    put(
        t,
        "people",
        item(&[("id", s("a")), ("team", s("red")), ("age", n("30"))]),
    );
    assert_eq!(team_query(t, "red").unwrap(), ["a"]);
}

/// Whether any key starts with `prefix`.
fn has_keys(t: &Tables, prefix: &[u8]) -> bool {
    let mut it = t
        .db()
        .iter_prefix(seedbed_engine::lsm::ReadOptions::default(), prefix);
    it.seek_to_first().unwrap();
    it.valid()
}

/// Deletions larger than one step (1,000 keys): a deleted index's entries and a disabled TTL's
/// queue go in several steps, each going on from where the last stopped — and from the start
/// again after a restart, which loses that place — and none is left; DeleteTable's purge
/// likewise leaves no key of the table.
#[test]
fn deletions_of_several_steps_leave_nothing() {
    let f = fixture();
    let t = &f.t;
    create_people(t, "KEYS_ONLY");
    t.update_ttl("people", "exp", true).unwrap();
    for i in 0..2_500 {
        put(
            t,
            "people",
            item(&[
                ("id", s(&format!("p{i:05}"))),
                ("team", s(&format!("t{}", i % 7))),
                ("exp", n("4000000000")),
            ]),
        );
    }
    let def = t.describe_table("people").unwrap().def;
    let index = keys::index_prefix(def.id, def.index("by_team").unwrap().number);
    let queue = keys::index_prefix(def.id, keys::TTL_INDEX);
    assert!(has_keys(t, &index) && has_keys(t, &queue));

    update(t, |u| {
        u.gsi_updates = vec![GsiUpdate::Delete("by_team".into())]
    })
    .unwrap();
    t.update_ttl("people", "exp", false).unwrap();
    // One step of each: the purge first, then the drain (each 1,000 keys of 2,500).
    t.index_job_step(1).unwrap();
    t.index_job_step(1).unwrap();
    let f = f.reopen();
    let t = &f.t;
    let def = t.describe_table("people").unwrap().def;
    assert_eq!(def.purging.len(), 1, "still DELETING after the restart");
    assert_eq!(def.ttl.as_ref().map(|s| s.status()), Some("DISABLING"));
    t.index_job_step(1).unwrap();
    t.finish_index_jobs().unwrap();
    let def = t.describe_table("people").unwrap().def;
    assert!(def.purging.is_empty());
    assert_eq!(def.ttl.as_ref().map(|s| s.status()), Some("DISABLED"));
    assert!(!has_keys(t, &index), "the deleted index's entries are gone");
    assert!(!has_keys(t, &queue), "the TTL queue is empty");
    assert_eq!(
        t.describe_table("people").unwrap().stats[0].item_count,
        2_500
    );

    t.delete_table("people").unwrap();
    assert!(!has_keys(t, &keys::table_data_prefix(def.id)));
}

/// UpdateTable's checks in DynamoDB's order and words (dynalite's tests, checked against
/// DynamoDB): throughput out of the model's bounds before the table is looked up, one update
/// per index before the count of online changes (UpdateTable's words for a switch to
/// PROVISIONED without throughput: billing_streams_and_deletion_protection_follow_dynamodbs_rules).
#[test]
fn update_table_checks_come_in_dynamodbs_order() {
    let f = fixture();
    let t = &f.t;
    let huge = Some(Throughput {
        read: 1_000_000_000_001,
        write: 1,
    });
    let e = update(t, |i| {
        i.name = "missing".into();
        i.throughput = huge;
    })
    .unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::Validation,
            "Given value 1000000000001 for ReadCapacityUnits is out of bounds"
        )
    );
    let e = update(t, |i| {
        i.name = "missing".into();
        i.gsi_updates = vec![
            GsiUpdate::Delete("abc".into()),
            GsiUpdate::Delete("abc".into()),
        ];
    })
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert!(e.message.ends_with("Only one global secondary index update per index is allowed simultaneously. Index: abc"), "{}", e.message);
}
