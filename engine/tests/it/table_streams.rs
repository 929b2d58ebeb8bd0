//! DynamoDB Streams on a real LSM: every change is recorded, in order, in the same batch as the
//! change — puts, updates, deletes, transactions, batches and TTL deletions — and nothing is
//! recorded for a write that changes nothing; iterators of every kind, paging, a stream closed
//! and a new one opened, the records and the sequence counter surviving a reopen, and the
//! 24-hour trim.

use seedbed_engine::clock::Clock;
use seedbed_engine::table::streams::{Event, StreamRecord};
use seedbed_engine::table::update::UpdateTableInput;
use seedbed_engine::table::*;

use super::table_api::{fixture, item, ks, n, put, s, values};

const MINUTE_NS: u64 = 60 * 1_000_000_000;

fn create(t: &Tables, view: &str) -> String {
    t.create_table(&CreateTableInput {
        name: "orders".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![("id".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        stream: Some((true, view.into())),
        ..CreateTableInput::default()
    })
    .unwrap();
    let (streams, _) = t.list_streams(Some("orders"), None, None).unwrap();
    assert_eq!(streams.len(), 1);
    streams[0].arn.clone()
}

fn shard(t: &Tables, arn: &str) -> String {
    let info = t.describe_stream(arn).unwrap();
    info.stream.shard_id(&info.def)
}

/// Every record from `kind` on, following NextShardIterator `pages` times at `limit` a page.
fn read(
    t: &Tables,
    arn: &str,
    kind: &str,
    seq: Option<&str>,
    limit: u32,
) -> (Vec<StreamRecord>, Option<String>) {
    let mut it = t
        .get_shard_iterator(arn, &shard(t, arn), kind, seq)
        .unwrap();
    let mut all = Vec::new();
    loop {
        let (page, next) = t.get_records(&it, Some(limit)).unwrap();
        let empty = page.is_empty();
        all.extend(page);
        match next {
            Some(n) if !empty => it = n,
            other => return (all, other),
        }
    }
}

fn events(records: &[StreamRecord]) -> Vec<(Event, String)> {
    records
        .iter()
        .map(|r| (r.event, r.keys["id"].as_s().unwrap().to_string()))
        .collect()
}

fn update(t: &Tables, id: &str, expr: &str, v: AttributeValue) {
    t.update_item(&UpdateItem {
        table: "orders".into(),
        key: item(&[("id", s(id))]),
        update: Some(expr.into()),
        values: values(&[(":v", v)]),
        ..UpdateItem::default()
    })
    .unwrap();
}

fn delete(t: &Tables, id: &str) {
    t.delete_item(&DeleteItem {
        table: "orders".into(),
        key: item(&[("id", s(id))]),
        ..DeleteItem::default()
    })
    .unwrap();
}

#[test]
fn every_change_is_recorded_in_order_and_nothing_else() {
    let f = fixture();
    let t = &f.t;
    let arn = create(t, "NEW_AND_OLD_IMAGES");
    put(t, "orders", item(&[("id", s("a")), ("qty", n("1"))]));
    update(t, "a", "SET qty = :v", n("2"));
    put(t, "orders", item(&[("id", s("a")), ("qty", n("2"))])); // the same item: no record
    update(t, "a", "SET qty = :v", n("2")); // no change: no record
    delete(t, "missing"); // nothing there: no record
    t.transact_write_items(
        &[
            TransactWrite::Put(PutItem {
                table: "orders".into(),
                item: item(&[("id", s("b"))]),
                ..PutItem::default()
            }),
            TransactWrite::Put(PutItem {
                table: "orders".into(),
                item: item(&[("id", s("c"))]),
                ..PutItem::default()
            }),
        ],
        None,
        ReturnCapacity::None,
    )
    .unwrap();
    delete(t, "a");
    // PartiQL writes through the same path.
    t.execute_statement(&partiql::Statement {
        statement: "INSERT INTO orders VALUE {'id': 'p'}".into(),
        ..partiql::Statement::default()
    })
    .unwrap();
    let (records, next) = read(t, &arn, "TRIM_HORIZON", None, 2);
    assert!(next.is_some(), "an open shard always has a next iterator");
    assert_eq!(
        events(&records),
        [
            (Event::Insert, "a".into()),
            (Event::Modify, "a".into()),
            (Event::Insert, "b".into()),
            (Event::Insert, "c".into()),
            (Event::Remove, "a".into()),
            (Event::Insert, "p".into()),
        ]
    );
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    // Images as the view type says.
    let modify = &records[1];
    assert_eq!(modify.old.as_ref().unwrap()["qty"], n("1"));
    assert_eq!(modify.new.as_ref().unwrap()["qty"], n("2"));
    assert!(records[4].new.is_none() && records[4].old.is_some());
    assert!(!records[4].by_ttl);

    // AT and AFTER a sequence number; LATEST sees only what comes next.
    let (at, _) = read(
        t,
        &arn,
        "AT_SEQUENCE_NUMBER",
        Some("000000000000000000004"),
        10,
    );
    assert_eq!(at.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5, 6]);
    let (after, _) = read(t, &arn, "AFTER_SEQUENCE_NUMBER", Some("4"), 10);
    assert_eq!(after.iter().map(|r| r.seq).collect::<Vec<_>>(), [5, 6]);
    let latest = t
        .get_shard_iterator(&arn, &shard(t, &arn), "LATEST", None)
        .unwrap();
    assert!(t.get_records(&latest, None).unwrap().0.is_empty());
    put(t, "orders", item(&[("id", s("d"))]));
    let (got, _) = t.get_records(&latest, None).unwrap();
    assert_eq!(events(&got), [(Event::Insert, "d".into())]);

    // Errors: a bad iterator type, a shard of no stream, a limit over 1,000, an old iterator.
    assert!(t
        .get_shard_iterator(&arn, &shard(t, &arn), "OLDEST", None)
        .is_err());
    let e = t
        .get_shard_iterator(&arn, "shardId-x", "LATEST", None)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
    assert_eq!(
        t.get_records(&latest, Some(1001)).unwrap_err().kind,
        ErrorKind::Validation
    );
    f.clock.advance(16 * MINUTE_NS);
    assert_eq!(
        t.get_records(&latest, None).unwrap_err().kind,
        ErrorKind::ExpiredIterator
    );
}

#[test]
fn a_stream_closed_then_opened_again_and_the_records_after_a_reopen() {
    let f = fixture();
    let arn = create(&f.t, "KEYS_ONLY");
    put(&f.t, "orders", item(&[("id", s("a")), ("v", n("1"))]));
    // Closed: its shard ends at the last record and a reader reaches its end.
    let info =
        f.t.update_table(&UpdateTableInput {
            name: "orders".into(),
            stream: Some((false, None)),
            ..UpdateTableInput::default()
        })
        .unwrap();
    assert_eq!(info.def.stream, Some((false, "KEYS_ONLY".into())));
    put(&f.t, "orders", item(&[("id", s("b"))])); // not recorded: no stream is open
    let closed = f.t.describe_stream(&arn).unwrap();
    assert_eq!(closed.stream.end_seq, Some(1));
    let (records, next) = read(&f.t, &arn, "TRIM_HORIZON", None, 10);
    assert_eq!(events(&records), [(Event::Insert, "a".into())]);
    assert!(
        records[0].old.is_none() && records[0].new.is_none(),
        "KEYS_ONLY"
    );
    assert_eq!(
        next, None,
        "a closed shard read to its end has no next iterator"
    );

    // Opened again: a new stream (a new ARN), numbering on from the table's counter.
    f.clock.advance(MINUTE_NS);
    f.t.update_table(&UpdateTableInput {
        name: "orders".into(),
        stream: Some((true, Some("NEW_IMAGE".into()))),
        ..UpdateTableInput::default()
    })
    .unwrap();
    let (streams, _) = f.t.list_streams(None, None, None).unwrap();
    assert_eq!(streams.len(), 2);
    let arn2 = streams[1].arn.clone();
    assert_ne!(arn, arn2);
    put(&f.t, "orders", item(&[("id", s("c"))]));

    // A reopen keeps the records and the counter.
    let f = f.reopen();
    put(&f.t, "orders", item(&[("id", s("d"))]));
    let (records, _) = read(&f.t, &arn2, "TRIM_HORIZON", None, 10);
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(events(&records)[1], (Event::Insert, "d".into()));
}

#[test]
fn ttl_deletions_are_the_services_and_records_are_trimmed_after_a_day() {
    let f = fixture();
    let arn = create(&f.t, "OLD_IMAGE");
    f.t.update_ttl("orders", "expires", true).unwrap();
    let now = f.clock.unix_millis() / 1000;
    put(
        &f.t,
        "orders",
        item(&[("id", s("gone")), ("expires", n(&(now + 1).to_string()))]),
    );
    put(&f.t, "orders", item(&[("id", s("kept"))]));
    assert_eq!(f.t.expire_ttl(now + 5, 100).unwrap(), 1);
    let (records, _) = read(&f.t, &arn, "TRIM_HORIZON", None, 10);
    let removed = records.last().unwrap();
    assert_eq!((removed.event, removed.by_ttl), (Event::Remove, true));
    assert_eq!(removed.old.as_ref().unwrap()["id"], s("gone"));

    // A day and a bit later the three records go; the counter does not start again.
    f.clock.advance(25 * 60 * MINUTE_NS);
    assert_eq!(f.t.trim_streams(f.clock.unix_millis()).unwrap(), 3);
    let e =
        f.t.get_shard_iterator(&arn, &shard(&f.t, &arn), "AT_SEQUENCE_NUMBER", Some("1"))
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TrimmedDataAccess);
    put(&f.t, "orders", item(&[("id", s("new"))]));
    let (records, _) = read(&f.t, &arn, "TRIM_HORIZON", None, 10);
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [4]);
    let info = f.t.describe_stream(&arn).unwrap();
    assert_eq!(
        info.first_seq, 4,
        "the shard starts at the oldest record kept"
    );
}

#[test]
fn a_reader_of_the_stream_needs_the_streams_actions_on_the_streams_arn() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, Requester, User};
    use seedbed_engine::iam::{Policy, PolicyKind};

    let f = fixture();
    let arn = create(&f.t, "NEW_IMAGE");
    put(&f.t, "orders", item(&[("id", s("a"))]));
    // The usual policy of a stream consumer (a Lambda function's role): the stream, not the
    // table.
    let policy = Policy::parse(
        r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"],
             "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/*"},
            {"Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let mut dir = Directory::new();
    for (name, policies) in [("reader", vec![Arc::new(policy)]), ("nobody", vec![])] {
        dir.put_user(User {
            arn: format!("arn:aws:iam::000000000000:user/{name}"),
            unique_id: format!("AIDA{name}"),
            policies,
            groups: Vec::new(),
            boundary: None,
            tags: BTreeMap::new(),
        });
    }
    let auth = Authorizer::new(dir);
    let may = |user: &str, req: &Request| {
        let p = Principal::User(format!("arn:aws:iam::000000000000:user/{user}"));
        let caller = Requester {
            principal: &p,
            context: &[],
        };
        f.t.authorize(&auth, &caller, None, req).map_err(|e| e.kind)
    };
    let it =
        f.t.get_shard_iterator(&arn, &shard(&f.t, &arn), "TRIM_HORIZON", None)
            .unwrap();
    for req in [
        Request::ListStreams(None, None, None),
        Request::DescribeStream(arn.clone(), None),
        Request::GetShardIterator(arn.clone(), shard(&f.t, &arn), "LATEST".into(), None),
        Request::GetRecords(it.clone(), None),
    ] {
        assert_eq!(may("reader", &req), Ok(()), "{req:?}");
        assert_eq!(may("nobody", &req), Err(ErrorKind::AccessDenied), "{req:?}");
    }
    let get = Request::GetItem(GetItem {
        table: "orders".into(),
        key: item(&[("id", s("a"))]),
        ..GetItem::default()
    });
    assert_eq!(
        may("reader", &get),
        Err(ErrorKind::AccessDenied),
        "the stream is not the table"
    );
}
