//! The table API end to end on a real LSM: catalog, typed items, conditions, updates, Query and
//! Scan paging, secondary indexes, batches, transactions, TTL, capacity, and what survives a
//! reopen.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::clock::{Clock, VirtualClock};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::table::update::{GsiUpdate, UpdateTableInput};
use seedbed_engine::table::*;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    pub(crate) clock: Arc<VirtualClock>,
    pub(crate) t: Tables,
}

fn open_at(path: &std::path::Path, clock: Arc<VirtualClock>) -> Tables {
    let db = Db::open(
        Arc::new(PosixFs::new()),
        path,
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    Tables::open(Arc::new(db), clock).unwrap()
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::Builder::new()
        .prefix("table-api-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let path = dir.path().join("db");
    let clock = Arc::new(VirtualClock::new());
    let t = open_at(&path, clock.clone());
    Fixture {
        _dir: dir,
        path,
        clock,
        t,
    }
}

impl Fixture {
    /// Close the database and open it again from its files.
    pub(crate) fn reopen(self) -> Fixture {
        self.t.db().close().unwrap();
        drop(self.t);
        let t = open_at(&self.path, self.clock.clone());
        Fixture { t, ..self }
    }
}

pub(crate) fn ks(parts: &[(&str, &str)]) -> Vec<KeySchemaElement> {
    parts
        .iter()
        .map(|(n, t)| KeySchemaElement {
            name: n.to_string(),
            key_type: t.to_string(),
        })
        .collect()
}

pub(crate) fn n(s: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(s).unwrap())
}

pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::s(v)
}

pub(crate) fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub(crate) fn values(pairs: &[(&str, AttributeValue)]) -> Option<Values> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// `scores`: partition `player` (S), sort `ts` (N); LSI `by_score` on `score` (KEYS_ONLY);
/// GSI `by_game` on `game` / `score` (INCLUDE `level`).
fn create_scores(t: &Tables) {
    t.create_table(&CreateTableInput {
        name: "scores".into(),
        key_schema: ks(&[("player", "HASH"), ("ts", "RANGE")]),
        attributes: vec![
            ("player".into(), "S".into()),
            ("ts".into(), "N".into()),
            ("score".into(), "N".into()),
            ("game".into(), "S".into()),
        ],
        lsis: vec![IndexInput {
            name: "by_score".into(),
            key_schema: ks(&[("player", "HASH"), ("score", "RANGE")]),
            projection_type: Some("KEYS_ONLY".into()),
            non_key_attributes: None,
            throughput: None,
        }],
        gsis: vec![IndexInput {
            name: "by_game".into(),
            key_schema: ks(&[("game", "HASH"), ("score", "RANGE")]),
            projection_type: Some("INCLUDE".into()),
            non_key_attributes: Some(vec!["level".into()]),
            throughput: None,
        }],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
}

/// A global index projecting every attribute.
pub(crate) fn all_gsi(name: &str, key: &[(&str, &str)]) -> IndexInput {
    IndexInput {
        name: name.into(),
        key_schema: ks(key),
        projection_type: Some("ALL".into()),
        non_key_attributes: None,
        throughput: None,
    }
}

pub(crate) fn put(t: &Tables, table: &str, i: Item) {
    t.put_item(&PutItem {
        table: table.into(),
        item: i,
        ..PutItem::default()
    })
    .unwrap();
}

pub(crate) fn query(t: &Tables, q: Search) -> SearchOutput {
    t.query(&q).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn nums(items: &[Item], attr: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[attr].as_n().unwrap().to_string())
        .collect()
}

#[test]
fn catalog_operations() {
    let f = fixture();
    create_scores(&f.t);
    let e = f.t.create_table(&CreateTableInput {
        name: "scores".into(),
        key_schema: ks(&[("p", "HASH")]),
        attributes: vec![("p".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    });
    assert_eq!(e.unwrap_err().kind, ErrorKind::ResourceInUse);
    for name in ["t1", "t2", "t3"] {
        f.t.create_table(&CreateTableInput {
            name: format!("{name}xx"),
            key_schema: ks(&[("p", "HASH")]),
            attributes: vec![("p".into(), "S".into())],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..CreateTableInput::default()
        })
        .unwrap();
    }
    let (page, last) = f.t.list_tables(None, Some(2)).unwrap();
    assert_eq!(page, vec!["scores", "t1xx"]);
    let (page, last) = f.t.list_tables(last.as_deref(), Some(2)).unwrap();
    assert_eq!(
        (page, last),
        (vec!["t2xx".to_string(), "t3xx".to_string()], None)
    );
    put(&f.t, "t1xx", item(&[("p", s("a")), ("x", n("1"))]));
    f.t.delete_table("t1xx").unwrap();
    assert_eq!(
        f.t.describe_table("t1xx").unwrap_err().kind,
        ErrorKind::ResourceNotFound
    );
    // A new table of the same name does not see the old items.
    f.t.create_table(&CreateTableInput {
        name: "t1xx".into(),
        key_schema: ks(&[("p", "HASH")]),
        attributes: vec![("p".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    let got =
        f.t.get_item(&GetItem {
            table: "t1xx".into(),
            key: item(&[("p", s("a"))]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(got.item, None);
    assert_eq!(f.t.describe_table("t1xx").unwrap().stats[0].item_count, 0);
}

/// A table whose description predates placements (no `placement` member: written by an older
/// build) keeps the CRC-32 layout its items were stored under — writes, reads, Query on the
/// table and both indexes, Scan — across a reopen, while a new table places partitions by
/// DynamoDB's hash.
#[test]
fn a_table_from_before_placements_keeps_its_layout() {
    let f = fixture();
    create_scores(&f.t);
    // Take the member out of the stored description, as an older build wrote it.
    let mut def = serde_json::to_value(&f.t.table("scores").unwrap().def).unwrap();
    assert_eq!(
        def["placement"], "Dynamo",
        "a new table places by DynamoDB's hash"
    );
    def.as_object_mut().unwrap().remove("placement");
    f.t.db()
        .put(
            &keys::catalog_key("scores"),
            &serde_json::to_vec(&def).unwrap(),
        )
        .unwrap();
    let mut f = f.reopen();
    let id = f.t.table("scores").unwrap().def.id;
    assert_eq!(
        f.t.table("scores").unwrap().def.placement,
        keys::Placement::Crc32
    );
    for (player, ts, score) in [("ann", "1", "30"), ("ann", "2", "10"), ("bob", "1", "20")] {
        put(
            &f.t,
            "scores",
            item(&[
                ("player", s(player)),
                ("ts", n(ts)),
                ("score", n(score)),
                ("game", s("chess")),
            ]),
        );
    }
    for round in 0..2 {
        // The item is where the CRC-32 layout puts it.
        let key = keys::item_key(id, keys::Placement::Crc32, &s("ann"), Some(&n("1")));
        assert!(f.t.db().get(&key).unwrap().is_some(), "round {round}");
        let by_score = query(
            &f.t,
            Search {
                table: "scores".into(),
                index: Some("by_score".into()),
                key_condition: Some("player = :p".into()),
                values: values(&[(":p", s("ann"))]),
                forward: true,
                ..Search::default()
            },
        );
        assert_eq!(nums(&by_score.items, "score"), ["10", "30"]);
        let by_game = query(
            &f.t,
            Search {
                table: "scores".into(),
                index: Some("by_game".into()),
                key_condition: Some("game = :g".into()),
                values: values(&[(":g", s("chess"))]),
                forward: true,
                ..Search::default()
            },
        );
        assert_eq!(nums(&by_game.items, "score"), ["10", "20", "30"]);
        let all = f.t.scan(&Search {
            table: "scores".into(),
            ..Search::default()
        });
        assert_eq!(all.unwrap().count, 3);
        f = f.reopen();
    }
}

/// A filter on key attributes reads only the index entry, and a filter that needs the table
/// item still answers with the index's projected attributes when that is what was asked
/// (the default Select of an index): the DynamoDB Conformance Suite's "supports
/// ConsistentRead on LSI scan", against DynamoDB.
#[test]
fn a_local_index_answers_with_its_projection_whatever_the_filter_reads() {
    let f = fixture();
    create_scores(&f.t);
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("ann")),
            ("ts", n("1")),
            ("score", n("30")),
            ("game", s("chess")),
            ("level", n("4")),
        ]),
    );
    for filter in ["begins_with(player, :p)", "begins_with(game, :g)"] {
        let out =
            f.t.scan(&Search {
                table: "scores".into(),
                index: Some("by_score".into()),
                filter: Some(filter.into()),
                values: values(&[(":p", s("an")), (":g", s("ch"))]).map(|mut v| {
                    v.retain(|k, _| filter.contains(k.as_str()));
                    v
                }),
                ..Search::default()
            })
            .unwrap();
        assert_eq!(out.items.len(), 1, "{filter}");
        let mut names: Vec<&String> = out.items[0].keys().collect();
        names.sort();
        assert_eq!(names, ["player", "score", "ts"], "{filter}: KEYS_ONLY");
    }
}

/// `ReturnItemCollectionMetrics: SIZE`: a write to a table with local indexes reports its
/// partition's collection (the key, and DynamoDB's estimate in whole GB); a table without
/// local indexes has no item collections, and a write that does not ask gets none.
#[test]
fn writes_report_their_item_collection_when_asked() {
    let f = fixture();
    create_scores(&f.t);
    let ann = item(&[("player", s("ann")), ("ts", n("1")), ("score", n("3"))]);
    let out =
        f.t.put_item(&PutItem {
            table: "scores".into(),
            item: ann.clone(),
            collection_metrics: true,
            ..PutItem::default()
        })
        .unwrap();
    let m = out.item_collection.expect("scores has a local index");
    assert_eq!(m.key, item(&[("player", s("ann"))]));
    assert_eq!(m.size_estimate_gb, (0.0, 1.0));
    let out =
        f.t.delete_item(&DeleteItem {
            table: "scores".into(),
            key: item(&[("player", s("ann")), ("ts", n("1"))]),
            ..DeleteItem::default()
        })
        .unwrap();
    assert!(out.item_collection.is_none(), "not asked");
    f.t.create_table(&CreateTableInput {
        name: "plain".into(),
        key_schema: ks(&[("p", "HASH")]),
        attributes: vec![("p".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    let out =
        f.t.put_item(&PutItem {
            table: "plain".into(),
            item: item(&[("p", s("x"))]),
            collection_metrics: true,
            ..PutItem::default()
        })
        .unwrap();
    assert!(
        out.item_collection.is_none(),
        "no local index, no collection"
    );
}

#[test]
fn numeric_sort_keys_page_in_numeric_order_both_ways() {
    let f = fixture();
    create_scores(&f.t);
    let tss = ["10", "-2", "3", "-10", "0.5", "1e3", "-1.5", "7"];
    for ts in tss {
        put(
            &f.t,
            "scores",
            item(&[("player", s("ann")), ("ts", n(ts)), ("score", n(ts))]),
        );
    }
    put(&f.t, "scores", item(&[("player", s("an")), ("ts", n("1"))]));
    let base = Search {
        table: "scores".into(),
        key_condition: Some("player = :p".into()),
        values: values(&[(":p", s("ann"))]),
        limit: Some(3),
        ..Search::default()
    };
    let mut got = Vec::new();
    let mut q = base.clone();
    for _ in 0..10 {
        let page = query(&f.t, q.clone());
        got.extend(nums(&page.items, "ts"));
        match page.last_evaluated_key {
            Some(k) => q.exclusive_start_key = Some(k),
            None => break,
        }
    }
    assert_eq!(
        got,
        vec!["-10", "-2", "-1.5", "0.5", "3", "7", "10", "1000"]
    );
    let rev = query(
        &f.t,
        Search {
            forward: false,
            limit: None,
            ..base.clone()
        },
    );
    assert_eq!(
        nums(&rev.items, "ts"),
        vec!["1000", "10", "7", "3", "0.5", "-1.5", "-2", "-10"]
    );
    let between = query(
        &f.t,
        Search {
            key_condition: Some("player = :p AND ts BETWEEN :a AND :b".into()),
            values: values(&[(":p", s("ann")), (":a", n("-2")), (":b", n("3"))]),
            limit: None,
            ..base.clone()
        },
    );
    assert_eq!(nums(&between.items, "ts"), vec!["-2", "-1.5", "0.5", "3"]);
    let gt = query(
        &f.t,
        Search {
            key_condition: Some("player = :p AND ts > :a".into()),
            values: values(&[(":p", s("ann")), (":a", n("3"))]),
            limit: None,
            ..base.clone()
        },
    );
    assert_eq!(nums(&gt.items, "ts"), vec!["7", "10", "1000"]);
    // A filter runs after Limit: a page may be short, and Count/ScannedCount say so.
    let filtered = query(
        &f.t,
        Search {
            filter: Some("score > :z".into()),
            values: values(&[(":p", s("ann")), (":z", n("0"))]),
            limit: Some(4),
            ..base.clone()
        },
    );
    assert_eq!((filtered.count, filtered.scanned_count), (1, 4));
    assert!(filtered.last_evaluated_key.is_some());
    let e = f.t.query(&Search {
        filter: Some("player = :p".into()),
        limit: None,
        ..base.clone()
    });
    assert_eq!(
        e.unwrap_err().message,
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: player"
    );
}

#[test]
fn one_megabyte_pages() {
    let f = fixture();
    create_scores(&f.t);
    let pad = "x".repeat(100 * 1024);
    for i in 0..25 {
        put(
            &f.t,
            "scores",
            item(&[
                ("player", s("big")),
                ("ts", n(&i.to_string())),
                ("pad", s(&pad)),
            ]),
        );
    }
    let q = Search {
        table: "scores".into(),
        key_condition: Some("player = :p".into()),
        values: values(&[(":p", s("big"))]),
        capacity: ReturnCapacity::Total,
        ..Search::default()
    };
    let first = query(&f.t, q.clone());
    assert!(
        first.items.len() < 25 && first.items.len() >= 10,
        "stopped near 1 MB: {}",
        first.items.len()
    );
    assert!(first.last_evaluated_key.is_some());
    let units = first.consumed.unwrap().total;
    assert!(
        (128.0..=140.0).contains(&units),
        "about 1 MB / 4 KB / 2 units: {units}"
    );
    let rest = query(
        &f.t,
        Search {
            exclusive_start_key: first.last_evaluated_key,
            ..q
        },
    );
    assert_eq!(
        first.items.len() + rest.items.len() + {
            let mut n = 0;
            let mut lek = rest.last_evaluated_key.clone();
            while let Some(k) = lek {
                let p = query(
                    &f.t,
                    Search {
                        table: "scores".into(),
                        key_condition: Some("player = :p".into()),
                        values: values(&[(":p", s("big"))]),
                        exclusive_start_key: Some(k),
                        ..Search::default()
                    },
                );
                n += p.items.len();
                lek = p.last_evaluated_key;
            }
            n
        },
        25
    );
}

#[test]
fn indexes_follow_every_write_in_the_same_batch() {
    let f = fixture();
    create_scores(&f.t);
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("ann")),
            ("ts", n("1")),
            ("game", s("chess")),
            ("score", n("30")),
            ("level", n("2")),
            ("note", s("hi")),
        ]),
    );
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("bob")),
            ("ts", n("1")),
            ("game", s("chess")),
            ("score", n("50")),
        ]),
    );
    put(
        &f.t,
        "scores",
        item(&[("player", s("cat")), ("ts", n("1")), ("score", n("99"))]),
    ); // no game: not in by_game
    let by_game = |f: &Fixture| {
        query(
            &f.t,
            Search {
                table: "scores".into(),
                index: Some("by_game".into()),
                key_condition: Some("game = :g".into()),
                values: values(&[(":g", s("chess"))]),
                forward: false,
                ..Search::default()
            },
        )
    };
    let r = by_game(&f);
    assert_eq!(nums(&r.items, "score"), vec!["50", "30"]);
    assert_eq!(
        r.items[1].get("level"),
        Some(&n("2")),
        "INCLUDE projects level"
    );
    assert_eq!(r.items[1].get("note"), None, "…and not note");
    // Changing the index key moves the entry; removing it drops it.
    f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: item(&[("player", s("ann")), ("ts", n("1"))]),
        update: Some("SET score = :s".into()),
        values: values(&[(":s", n("70"))]),
        ..UpdateItem::default()
    })
    .unwrap();
    assert_eq!(nums(&by_game(&f).items, "score"), vec!["70", "50"]);
    f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: item(&[("player", s("bob")), ("ts", n("1"))]),
        update: Some("REMOVE game".into()),
        ..UpdateItem::default()
    })
    .unwrap();
    assert_eq!(nums(&by_game(&f).items, "score"), vec!["70"]);
    f.t.delete_item(&DeleteItem {
        table: "scores".into(),
        key: item(&[("player", s("ann")), ("ts", n("1"))]),
        ..Default::default()
    })
    .unwrap();
    assert!(by_game(&f).items.is_empty());
    let info = f.t.describe_table("scores").unwrap();
    assert_eq!((info.stats[0].item_count, info.stats[2].item_count), (2, 0));
    // Index key of the wrong type is refused with DynamoDB's words.
    let e = f.t.put_item(&PutItem {
        table: "scores".into(),
        item: item(&[("player", s("x")), ("ts", n("1")), ("game", n("5"))]),
        ..PutItem::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "One or more parameter values were invalid: Type mismatch for Index Key game Expected: S Actual: N IndexName: by_game"
    );
    // LSI with KEYS_ONLY: asking for more reads the table item.
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("dan")),
            ("ts", n("1")),
            ("score", n("5")),
            ("note", s("n1")),
        ]),
    );
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("dan")),
            ("ts", n("2")),
            ("score", n("4")),
            ("note", s("n2")),
        ]),
    );
    let r = query(
        &f.t,
        Search {
            table: "scores".into(),
            index: Some("by_score".into()),
            key_condition: Some("player = :p".into()),
            values: values(&[(":p", s("dan"))]),
            select: Some("ALL_ATTRIBUTES".into()),
            ..Search::default()
        },
    );
    assert_eq!(nums(&r.items, "ts"), vec!["2", "1"], "ordered by score");
    assert_eq!(r.items[0].get("note"), Some(&s("n2")));
    let e = f.t.query(&Search {
        table: "scores".into(),
        index: Some("by_game".into()),
        key_condition: Some("game = :g".into()),
        values: values(&[(":g", s("chess"))]),
        select: Some("ALL_ATTRIBUTES".into()),
        ..Search::default()
    });
    assert!(e.unwrap_err().message.contains(
        "Select type ALL_ATTRIBUTES is not supported for global secondary index by_game"
    ));
}

#[test]
fn conditions_updates_and_return_values() {
    let f = fixture();
    create_scores(&f.t);
    let key = item(&[("player", s("ann")), ("ts", n("1"))]);
    let put_new = PutItem {
        table: "scores".into(),
        item: item(&[("player", s("ann")), ("ts", n("1")), ("hits", n("1"))]),
        condition: WriteCondition {
            expression: Some("attribute_not_exists(player)".into()),
            ..Default::default()
        },
        ..PutItem::default()
    };
    f.t.put_item(&put_new).unwrap();
    let again = f.t.put_item(&PutItem {
        return_values_on_condition_check_failure: Some("ALL_OLD".into()),
        ..put_new.clone()
    });
    let e = again.unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::ConditionalCheckFailed,
            "The conditional request failed"
        )
    );
    assert_eq!(e.item.unwrap()["hits"], n("1"));
    let out =
        f.t.update_item(&UpdateItem {
            table: "scores".into(),
            key: key.clone(),
            update: Some("SET hits = hits + :one, tags = :t ADD visits :one".into()),
            condition: WriteCondition {
                expression: Some("hits < :ten".into()),
                ..Default::default()
            },
            values: values(&[
                (":one", n("1")),
                (":ten", n("10")),
                (":t", AttributeValue::ss(["a"])),
            ]),
            return_values: Some("UPDATED_NEW".into()),
            capacity: ReturnCapacity::Indexes,
            ..UpdateItem::default()
        })
        .unwrap();
    let attrs = out.attributes.unwrap();
    assert_eq!(
        attrs.keys().cloned().collect::<Vec<_>>(),
        vec!["hits", "tags", "visits"]
    );
    assert_eq!(attrs["hits"], n("2"));
    let cc = out.consumed.unwrap();
    assert_eq!((cc.total, cc.table_units), (1.0, Some(1.0)));
    // Legacy Expected and AttributeUpdates still work, and cannot be mixed with expressions.
    let mut expected = LegacyConditions::new();
    expected.insert(
        "hits".into(),
        LegacyCondition {
            value: Some(n("2")),
            ..Default::default()
        },
    );
    let mut au = BTreeMap::new();
    au.insert(
        "hits".into(),
        AttributeUpdate {
            action: Some("ADD".into()),
            value: Some(n("5")),
        },
    );
    f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: key.clone(),
        attribute_updates: Some(au.clone()),
        condition: WriteCondition {
            expected: Some(expected.clone()),
            ..Default::default()
        },
        ..UpdateItem::default()
    })
    .unwrap();
    let got =
        f.t.get_item(&GetItem {
            table: "scores".into(),
            key: key.clone(),
            projection: Some("hits, #t".into()),
            names: Some([("#t".to_string(), "tags".to_string())].into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        got.item.unwrap(),
        item(&[("hits", n("7")), ("tags", AttributeValue::ss(["a"]))])
    );
    // ADD of a value whose type does not match the attribute's: the legacy API's message,
    // not the update expression's (ScyllaDB's Alternator tests, run against DynamoDB).
    let mut add_set = BTreeMap::new();
    add_set.insert(
        "tags".into(),
        AttributeUpdate {
            action: Some("ADD".into()),
            value: Some(AttributeValue::ns(vec![Number::parse("1").unwrap()])),
        },
    );
    let mismatch = f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: key.clone(),
        attribute_updates: Some(add_set),
        ..UpdateItem::default()
    });
    assert_eq!(
        mismatch.unwrap_err().message,
        "Type mismatch for attribute to update"
    );
    // An empty AttributesToGet breaks the API model's minimum length.
    let empty = f.t.get_item(&GetItem {
        table: "scores".into(),
        key: key.clone(),
        attributes_to_get: Some(Vec::new()),
        ..Default::default()
    });
    assert!(empty
        .unwrap_err()
        .message
        .contains("at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    let mixed = f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: key.clone(),
        attribute_updates: Some(au),
        condition: WriteCondition {
            expression: Some("attribute_exists(hits)".into()),
            ..Default::default()
        },
        ..UpdateItem::default()
    });
    assert_eq!(
        mixed.unwrap_err().message,
        "1 validation error detected: Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {ConditionExpression}"
    );
    let unused = f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: key.clone(),
        update: Some("SET a = :a".into()),
        values: values(&[(":a", n("1")), (":b", n("2"))]),
        ..UpdateItem::default()
    });
    // UpdateItem words it as request validation; TransactWriteItems would not (moto's
    // AWS-verified tests, server/conformance/moto-aws-verified.sh).
    assert_eq!(
        unused.unwrap_err().message,
        "1 validation error detected: Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"
    );
    // An update that only removes does not create a missing item.
    let ghost = item(&[("player", s("ghost")), ("ts", n("1"))]);
    f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key: ghost.clone(),
        update: Some("REMOVE a".into()),
        ..UpdateItem::default()
    })
    .unwrap();
    let got =
        f.t.get_item(&GetItem {
            table: "scores".into(),
            key: ghost,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(got.item, None);
    let key_change = f.t.update_item(&UpdateItem {
        table: "scores".into(),
        key,
        update: Some("SET ts = :a".into()),
        values: values(&[(":a", n("1"))]),
        ..UpdateItem::default()
    });
    assert_eq!(key_change.unwrap_err().message, "One or more parameter values were invalid: Cannot update attribute ts. This attribute is part of the key");
}

#[test]
fn scan_segments_partition_the_table() {
    let f = fixture();
    create_scores(&f.t);
    for p in 0..60 {
        put(
            &f.t,
            "scores",
            item(&[("player", s(&format!("p{p}"))), ("ts", n("1"))]),
        );
    }
    let mut seen = Vec::new();
    for seg in 0..4 {
        let r =
            f.t.scan(&Search {
                table: "scores".into(),
                segment: Some(seg),
                total_segments: Some(4),
                ..Search::default()
            })
            .unwrap();
        seen.extend(
            r.items
                .iter()
                .map(|i| i["player"].as_s().unwrap().to_string()),
        );
    }
    seen.sort();
    let mut want: Vec<String> = (0..60).map(|p| format!("p{p}")).collect();
    want.sort();
    assert_eq!(seen, want, "segments are disjoint and cover the table");
    let e = f.t.scan(&Search {
        table: "scores".into(),
        segment: Some(4),
        total_segments: Some(4),
        ..Search::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "The Segment parameter is zero-based and must be less than parameter TotalSegments"
    );
    let count =
        f.t.scan(&Search {
            table: "scores".into(),
            select: Some("COUNT".into()),
            ..Search::default()
        })
        .unwrap();
    assert_eq!((count.count, count.items.len()), (60, 0));
}

#[test]
fn batches_and_transactions_are_all_or_nothing() {
    let f = fixture();
    create_scores(&f.t);
    let k = |p: &str| item(&[("player", s(p)), ("ts", n("1"))]);
    let mut writes = BTreeMap::new();
    writes.insert(
        "scores".to_string(),
        (0..25)
            .map(|i| {
                WriteRequest::Put(item(&[
                    ("player", s(&format!("b{i}"))),
                    ("ts", n("1")),
                    ("v", n("0")),
                ]))
            })
            .collect::<Vec<_>>(),
    );
    f.t.batch_write_item(&writes, ReturnCapacity::None).unwrap();
    writes
        .get_mut("scores")
        .unwrap()
        .push(WriteRequest::Delete(k("b0")));
    // 26 requests for one table break the API model's constraint on each table's list
    // (DynamoDB's message names it: "Member must have length less than or equal to 25").
    let e =
        f.t.batch_write_item(&writes, ReturnCapacity::None)
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert!(
        e.message
            .contains("Member must have length less than or equal to 25"),
        "{}",
        e.message
    );
    // Lists that each pass, 26 in all: the operation's own limit.
    let mut split = BTreeMap::new();
    let all = writes.remove("scores").unwrap();
    split.insert("scores".to_string(), all[..13].to_vec());
    split.insert("other".to_string(), all[13..].to_vec());
    assert_eq!(
        f.t.batch_write_item(&split, ReturnCapacity::None)
            .unwrap_err()
            .message,
        "Too many items requested for the BatchWriteItem call"
    );
    let mut gets = BTreeMap::new();
    gets.insert(
        "scores".to_string(),
        KeysAndAttributes {
            keys: vec![k("b1"), k("b2"), k("zz")],
            ..Default::default()
        },
    );
    let got = f.t.batch_get_item(&gets, ReturnCapacity::Total).unwrap();
    assert_eq!(got.responses["scores"].len(), 2);
    assert_eq!(
        got.consumed[0].total, 1.5,
        "three eventually consistent reads of small items"
    );
    // A transaction whose condition fails writes nothing and says which action failed.
    let actions = vec![
        TransactWrite::Update(UpdateItem {
            table: "scores".into(),
            key: k("b1"),
            update: Some("SET v = :one".into()),
            values: values(&[(":one", n("1"))]),
            ..UpdateItem::default()
        }),
        TransactWrite::Check(ConditionCheck {
            table: "scores".into(),
            key: k("b2"),
            condition: "v = :nine".into(),
            values: values(&[(":nine", n("9"))]),
            ..Default::default()
        }),
    ];
    let e =
        f.t.transact_write_items(&actions, None, ReturnCapacity::None)
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TransactionCanceled);
    assert_eq!(e.message, "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]");
    let v = |p: &str| {
        f.t.get_item(&GetItem {
            table: "scores".into(),
            key: k(p),
            ..Default::default()
        })
        .unwrap()
        .item
        .unwrap()["v"]
            .clone()
    };
    assert_eq!(v("b1"), n("0"), "nothing written");
    // Idempotency: the same token and request succeed twice but write once.
    let ok = vec![TransactWrite::Update(UpdateItem {
        table: "scores".into(),
        key: k("b3"),
        update: Some("ADD v :one".into()),
        values: values(&[(":one", n("1"))]),
        ..UpdateItem::default()
    })];
    f.t.transact_write_items(&ok, Some("tok-1"), ReturnCapacity::None)
        .unwrap();
    f.t.transact_write_items(&ok, Some("tok-1"), ReturnCapacity::None)
        .unwrap();
    assert_eq!(v("b3"), n("1"));
    let other = vec![TransactWrite::Delete(DeleteItem {
        table: "scores".into(),
        key: k("b3"),
        ..Default::default()
    })];
    assert_eq!(
        f.t.transact_write_items(&other, Some("tok-1"), ReturnCapacity::None)
            .unwrap_err()
            .kind,
        ErrorKind::IdempotentParameterMismatch
    );
    f.clock.advance(11 * 60 * 1_000_000_000);
    f.t.transact_write_items(&ok, Some("tok-1"), ReturnCapacity::None)
        .unwrap();
    assert_eq!(v("b3"), n("2"), "an expired token is a new request");
    let dup = vec![ok[0].clone(), ok[0].clone()];
    assert_eq!(
        f.t.transact_write_items(&dup, None, ReturnCapacity::None)
            .unwrap_err()
            .message,
        "Transaction request cannot include multiple operations on one item"
    );
    let tg =
        f.t.transact_get_items(
            &[
                TransactGet {
                    table: "scores".into(),
                    key: k("b3"),
                    ..Default::default()
                },
                TransactGet {
                    table: "scores".into(),
                    key: k("none"),
                    ..Default::default()
                },
            ],
            ReturnCapacity::Total,
        )
        .unwrap();
    assert_eq!(tg.responses.len(), 2);
    assert!(tg.responses[1].is_none());
    assert_eq!(tg.consumed[0].total, 4.0, "transactional reads cost double");
    // A key that does not fit the table cancels the transaction with that action's reason.
    let e =
        f.t.transact_get_items(
            &[
                TransactGet {
                    table: "scores".into(),
                    key: k("b3"),
                    ..Default::default()
                },
                TransactGet {
                    table: "scores".into(),
                    key: Item::new(),
                    ..Default::default()
                },
            ],
            ReturnCapacity::None,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TransactionCanceled, "{}", e.message);
    let codes: Vec<&str> = e.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["None", "ValidationError"]);
}

#[test]
fn ttl_deletes_through_the_normal_path_and_state_survives_reopen() {
    let f = fixture();
    create_scores(&f.t);
    f.t.update_ttl("scores", "expires", true).unwrap();
    let now = f.clock.unix_millis() / 1000;
    for i in 0..10 {
        put(
            &f.t,
            "scores",
            item(&[
                ("player", s("p")),
                ("ts", n(&i.to_string())),
                ("game", s("g")),
                ("score", n("1")),
                ("expires", n(&(now + 5 + i).to_string())),
            ]),
        );
    }
    put(
        &f.t,
        "scores",
        item(&[
            ("player", s("p")),
            ("ts", n("99")),
            ("expires", s("not a number")),
        ]),
    );
    assert_eq!(f.t.expire_ttl(now, 100).unwrap(), 0);
    assert_eq!(f.t.expire_ttl(now + 9, 100).unwrap(), 5);
    let q = |t: &Tables| {
        t.query(&Search {
            table: "scores".into(),
            key_condition: Some("player = :p".into()),
            values: values(&[(":p", s("p"))]),
            ..Search::default()
        })
        .unwrap()
    };
    assert_eq!(q(&f.t).items.len(), 6);
    let gsi =
        f.t.query(&Search {
            table: "scores".into(),
            index: Some("by_game".into()),
            key_condition: Some("game = :g".into()),
            values: values(&[(":g", s("g"))]),
            ..Search::default()
        })
        .unwrap();
    assert_eq!(gsi.items.len(), 5, "index entries went with their items");
    assert_eq!(
        f.t.describe_ttl("scores").unwrap().unwrap().attribute,
        "expires"
    );
    let before = f.t.describe_table("scores").unwrap();
    f.t.db().close().unwrap();
    drop(f.t);
    let t = open_at(&f.path, f.clock.clone());
    let after = t.describe_table("scores").unwrap();
    assert_eq!(after, before, "catalog and statistics survive a reopen");
    assert_eq!(q(&t).items.len(), 6);
    assert_eq!(t.expire_ttl(now + 100, 100).unwrap(), 5);
    assert_eq!(q(&t).items.len(), 1);
}

/// Enabling TTL on a table with items is ENABLING until its queue holds them, disabling is
/// DISABLING until the queue is empty, and no other change is taken meanwhile (DynamoDB's
/// answer to changes in quick succession); a disabled TTL deletes nothing.
#[test]
fn ttl_changes_are_enabling_and_disabling_until_carried_out() {
    let f = fixture();
    create_scores(&f.t);
    let status = |t: &Tables| t.describe_ttl("scores").unwrap().map(|s| s.status());
    // No items: nothing to queue, ENABLED at once; nothing queued, DISABLED at once.
    f.t.update_ttl("scores", "expires", true).unwrap();
    assert_eq!(status(&f.t), Some("ENABLED"));
    f.t.update_ttl("scores", "expires", false).unwrap();
    assert_eq!(status(&f.t), Some("DISABLED"));
    let now = f.clock.unix_millis() / 1000;
    for i in 0..20 {
        put(
            &f.t,
            "scores",
            item(&[
                ("player", s("p")),
                ("ts", n(&i.to_string())),
                ("expires", n(&(now + i).to_string())),
            ]),
        );
    }
    let refused = |t: &Tables, enabled| {
        let e = t.update_ttl("scores", "expires", enabled).unwrap_err();
        assert_eq!(
            e.message,
            "Time to live has been modified multiple times within a fixed interval"
        );
    };
    f.t.update_ttl("scores", "expires", true).unwrap();
    assert_eq!(status(&f.t), Some("ENABLING"));
    refused(&f.t, false);
    f.t.finish_index_jobs().unwrap();
    assert_eq!(status(&f.t), Some("ENABLED"));
    assert_eq!(f.t.expire_ttl(now + 4, 100).unwrap(), 5, "ts 0 to 4");

    f.t.update_ttl("scores", "expires", false).unwrap();
    assert_eq!(status(&f.t), Some("DISABLING"));
    assert_eq!(
        f.t.expire_ttl(now + 100, 100).unwrap(),
        0,
        "disabled: nothing expires, though the queue is not empty yet"
    );
    refused(&f.t, true);
    // The drain survives a restart (its state is in the catalog).
    f.t.db().close().unwrap();
    drop(f.t);
    let t = open_at(&f.path, f.clock.clone());
    assert_eq!(status(&t), Some("DISABLING"));
    t.finish_index_jobs().unwrap();
    assert_eq!(status(&t), Some("DISABLED"));
    assert_eq!(t.expire_ttl(now + 100, 100).unwrap(), 0);

    // Enabled again: the items left are queued afresh and expire.
    t.update_ttl("scores", "expires", true).unwrap();
    t.finish_index_jobs().unwrap();
    assert_eq!(t.expire_ttl(now + 100, 100).unwrap(), 15);
}

#[test]
fn item_validation() {
    let f = fixture();
    create_scores(&f.t);
    let e = f.t.put_item(&PutItem {
        table: "scores".into(),
        item: item(&[("player", s("a"))]),
        ..PutItem::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "One or more parameter values were invalid: Missing the key ts in the item"
    );
    let e = f.t.put_item(&PutItem {
        table: "scores".into(),
        item: item(&[("player", s("a")), ("ts", s("1"))]),
        ..PutItem::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "One or more parameter values were invalid: Type mismatch for key ts expected: N actual: S"
    );
    let e = f.t.put_item(&PutItem {
        table: "scores".into(),
        item: item(&[("player", s("")), ("ts", n("1"))]),
        ..PutItem::default()
    });
    assert_eq!(e.unwrap_err().message, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: player");
    let big = "x".repeat(400 * 1024);
    let e = f.t.put_item(&PutItem {
        table: "scores".into(),
        item: item(&[("player", s("a")), ("ts", n("1")), ("b", s(&big))]),
        ..PutItem::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "Item size has exceeded the maximum allowed size"
    );
    let e = f.t.get_item(&GetItem {
        table: "scores".into(),
        key: item(&[("player", s("a"))]),
        ..Default::default()
    });
    assert_eq!(
        e.unwrap_err().message,
        "The provided key element does not match the schema"
    );
    let e = f.t.get_item(&GetItem {
        table: "nope".into(),
        key: item(&[("player", s("a"))]),
        ..Default::default()
    });
    assert_eq!(e.unwrap_err().message, "Requested resource not found");
}

/// A table's ARN names it wherever a data-plane request takes a TableName (DynamoDB accepts
/// either); another region's or account's ARN names no table here, and CreateTable takes names
/// only.
#[test]
fn a_table_s_arn_names_it_in_data_plane_requests() {
    let f = fixture();
    create_scores(&f.t);
    let arn = f.t.table_arn("scores");
    assert_eq!(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/scores");
    schema::check_table_name_or_arn(&arn, "tableName").unwrap();
    put(
        &f.t,
        &arn,
        item(&[("player", s("p")), ("ts", n("1")), ("score", n("7"))]),
    );
    let key = item(&[("player", s("p")), ("ts", n("1"))]);
    let got =
        f.t.get_item(&GetItem {
            table: "scores".into(),
            key: key.clone(),
            consistent_read: true,
            projection: None,
            ..GetItem::default()
        })
        .unwrap();
    assert_eq!(got.item.unwrap()["score"], n("7"));
    for other in [
        "arn:aws:dynamodb:eu-west-1:000000000000:table/scores",
        "arn:aws:dynamodb:us-east-1:111111111111:table/scores",
    ] {
        let e =
            f.t.get_item(&GetItem {
                table: other.into(),
                key: key.clone(),
                ..GetItem::default()
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ResourceNotFound, "{other}");
    }
    // An index's ARN is not a table's; nor is a name with a colon one.
    assert!(schema::arn_table_name(&format!("{arn}/index/by_game")).is_none());
    assert!(schema::check_table_name_or_arn("arn:aws:s3:::bucket", "tableName").is_err());
    let create = f.t.create_table(&CreateTableInput {
        name: f.t.table_arn("other"),
        key_schema: ks(&[("k", "HASH")]),
        attributes: vec![("k".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    });
    assert_eq!(create.unwrap_err().kind, ErrorKind::Validation);
}

/// Single-item writes let the write lock go once their batch is submitted and share LSM writes
/// (`table/groups.rs`). Racing `attribute_not_exists` puts of one item: exactly one wins;
/// racing `ADD` updates of one counter: none is lost; puts of many items at once: the index
/// has every one, and the item count — written with each batch, in submission order — is
/// exact, also after a reopen.
#[test]
fn racing_single_item_writes_keep_conditions_counters_and_counts() {
    let f = fixture();
    create_scores(&f.t);
    const THREADS: usize = 4;
    const EACH: usize = 40;
    let winners: Vec<usize> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..THREADS)
            .map(|th| {
                let t = &f.t;
                sc.spawn(move || {
                    let mut won = 0;
                    for i in 0..EACH {
                        // Everyone races for the same "first" item of round i.
                        let first = t.put_item(&PutItem {
                            table: "scores".into(),
                            item: item(&[
                                ("player", s(&format!("first-{i}"))),
                                ("ts", n("0")),
                                ("by", n(&th.to_string())),
                            ]),
                            condition: WriteCondition {
                                expression: Some("attribute_not_exists(player)".into()),
                                ..Default::default()
                            },
                            ..PutItem::default()
                        });
                        match first {
                            Ok(_) => won += 1,
                            Err(e) => assert_eq!(e.kind, ErrorKind::ConditionalCheckFailed),
                        }
                        t.update_item(&UpdateItem {
                            table: "scores".into(),
                            key: item(&[("player", s("counter")), ("ts", n("0"))]),
                            update: Some("ADD hits :one".into()),
                            values: values(&[(":one", n("1"))]),
                            ..UpdateItem::default()
                        })
                        .unwrap();
                        put(
                            t,
                            "scores",
                            item(&[
                                ("player", s(&format!("p{th}"))),
                                ("ts", n(&i.to_string())),
                                ("game", s("g")),
                                ("score", n(&i.to_string())),
                            ]),
                        );
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        winners.iter().sum::<usize>(),
        EACH,
        "one winner per item: {winners:?}"
    );
    let counter =
        f.t.get_item(&GetItem {
            table: "scores".into(),
            key: item(&[("player", s("counter")), ("ts", n("0"))]),
            ..GetItem::default()
        })
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        counter["hits"],
        n(&(THREADS * EACH).to_string()),
        "no lost update"
    );
    // EACH "first" items, the counter, and THREADS × EACH scores.
    let items = (EACH + 1 + THREADS * EACH) as u64;
    let before = f.t.describe_table("scores").unwrap();
    assert_eq!(before.stats[0].item_count, items);
    f.t.db().close().unwrap();
    drop(f.t);
    let t = open_at(&f.path, f.clock.clone());
    assert_eq!(
        t.describe_table("scores").unwrap(),
        before,
        "the count survives a reopen"
    );
    let by_game = t
        .query(&Search {
            table: "scores".into(),
            index: Some("by_game".into()),
            key_condition: Some("game = :g".into()),
            values: values(&[(":g", s("g"))]),
            ..Search::default()
        })
        .unwrap();
    assert_eq!(
        by_game.items.len(),
        THREADS * EACH,
        "every item in the index"
    );
}

/// Rules ScyllaDB's Alternator tests (written against DynamoDB itself, run by hand against
/// `seedbed serve`: docs/dynamodb-compatibility.md) found missing.
#[test]
fn rules_found_by_the_alternator_suite() {
    let f = fixture();
    create_scores(&f.t);
    for p in 0..40 {
        put(
            &f.t,
            "scores",
            item(&[("player", s(&format!("p{p}"))), ("ts", n("1"))]),
        );
    }
    // A parallel scan continues only from a key of its own segment.
    let first =
        f.t.scan(&Search {
            table: "scores".into(),
            segment: Some(0),
            total_segments: Some(2),
            limit: Some(1),
            ..Search::default()
        })
        .unwrap();
    let own = first.last_evaluated_key.expect("segment 0 holds a player");
    let next = f.t.scan(&Search {
        table: "scores".into(),
        segment: Some(0),
        total_segments: Some(2),
        exclusive_start_key: Some(own.clone()),
        ..Search::default()
    });
    assert!(next.is_ok(), "{:?}", next.err());
    let other = f.t.scan(&Search {
        table: "scores".into(),
        segment: Some(1),
        total_segments: Some(2),
        exclusive_start_key: Some(own),
        ..Search::default()
    });
    assert!(other.unwrap_err().message.contains("Exclusive start key"));

    // An item error in a transaction is that action's ValidationError reason; the actions
    // after it are not looked at.
    let bad = TransactWrite::Put(PutItem {
        table: "scores".into(),
        item: item(&[("player", n("7")), ("ts", n("1"))]),
        ..PutItem::default()
    });
    let good = TransactWrite::Put(PutItem {
        table: "scores".into(),
        item: item(&[("player", s("fine")), ("ts", n("1"))]),
        ..PutItem::default()
    });
    let e =
        f.t.transact_write_items(&[bad.clone(), good.clone()], None, ReturnCapacity::None)
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TransactionCanceled);
    let codes: Vec<&str> = e.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["ValidationError", "None"]);
    assert!(e.reasons[0]
        .message
        .as_deref()
        .is_some_and(|m| m.contains("Type mismatch for key")));
    // So is a key too long (the hash key's message differs from the sort key's).
    let long_key = TransactWrite::Put(PutItem {
        table: "scores".into(),
        item: item(&[("player", s(&"k".repeat(2049))), ("ts", n("1"))]),
        ..PutItem::default()
    });
    let e =
        f.t.transact_write_items(&[good.clone(), long_key], None, ReturnCapacity::None)
            .unwrap_err();
    let codes: Vec<&str> = e.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["None", "ValidationError"], "{}", e.message);
    // An empty key string stays a ValidationException for the whole request (moto's
    // AWS-verified test_transaction_with_empty_key).
    let empty = TransactWrite::Put(PutItem {
        table: "scores".into(),
        item: item(&[("player", s("")), ("ts", n("1"))]),
        ..PutItem::default()
    });
    let e =
        f.t.transact_write_items(&[empty, good.clone()], None, ReturnCapacity::None)
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    // More than 4 MB of items in one transaction.
    let big: Vec<TransactWrite> = (0..11)
        .map(|i| {
            TransactWrite::Put(PutItem {
                table: "scores".into(),
                item: item(&[
                    ("player", s(&format!("big{i}"))),
                    ("ts", n("1")),
                    ("x", s(&"x".repeat(390_000))),
                ]),
                ..PutItem::default()
            })
        })
        .collect();
    let e =
        f.t.transact_write_items(&big, None, ReturnCapacity::None)
            .unwrap_err();
    assert!(e.message.contains("size cannot exceed"), "{}", e.message);
    f.t.transact_write_items(&big[..10], None, ReturnCapacity::None)
        .unwrap();

    // Legacy conditions: an operator the API does not know, IN over mixed types, and
    // ConditionalOperator with an empty Expected.
    let mut kc = LegacyConditions::new();
    kc.insert(
        "player".into(),
        LegacyCondition {
            operator: Some("DOG".into()),
            values: Some(vec![s("p1")]),
            ..Default::default()
        },
    );
    let e =
        f.t.query(&Search {
            table: "scores".into(),
            key_conditions: Some(kc),
            forward: true,
            ..Search::default()
        })
        .unwrap_err();
    assert!(e.message.contains("comparisonOperator"), "{}", e.message);
    let mut filter = LegacyConditions::new();
    filter.insert(
        "ts".into(),
        LegacyCondition {
            operator: Some("IN".into()),
            values: Some(vec![n("1"), s("dog")]),
            ..Default::default()
        },
    );
    let e =
        f.t.scan(&Search {
            table: "scores".into(),
            legacy_filter: Some(filter),
            ..Search::default()
        })
        .unwrap_err();
    assert!(e.message.contains("must be of same type"), "{}", e.message);
    let e =
        f.t.put_item(&PutItem {
            table: "scores".into(),
            item: item(&[("player", s("p1")), ("ts", n("1"))]),
            condition: WriteCondition {
                expected: Some(LegacyConditions::new()),
                conditional_operator: Some("OR".into()),
                ..Default::default()
            },
            ..PutItem::default()
        })
        .unwrap_err();
    assert!(e.message.contains("ConditionalOperator"), "{}", e.message);

    // An index key is held to a table key's sizes when written; an item written before the
    // index, with a value too long for its key, is left out when the index is filled (the
    // build used to retry it for ever: ScyllaDB's Alternator test_gsi_backfill_oversized_key).
    let e =
        f.t.put_item(&PutItem {
            table: "scores".into(),
            item: item(&[
                ("player", s("long")),
                ("ts", n("1")),
                ("game", s(&"g".repeat(2049))),
                ("score", n("1")),
            ]),
            ..PutItem::default()
        })
        .unwrap_err();
    assert!(e.message.contains("2048"), "{}", e.message);
    f.t.create_table(&CreateTableInput {
        name: "plain".into(),
        key_schema: ks(&[("p", "HASH")]),
        attributes: vec![("p".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
    put(&f.t, "plain", item(&[("p", s("a")), ("x", s("short"))]));
    put(
        &f.t,
        "plain",
        item(&[("p", s("b")), ("x", s(&"x".repeat(66_000)))]),
    );
    f.t.update_table(&UpdateTableInput {
        name: "plain".into(),
        attributes: vec![("x".into(), "S".into())],
        gsi_updates: vec![GsiUpdate::Create(all_gsi("by_x", &[("x", "HASH")]))],
        ..UpdateTableInput::default()
    })
    .unwrap();
    f.t.finish_index_jobs().unwrap();
    let indexed =
        f.t.scan(&Search {
            table: "plain".into(),
            index: Some("by_x".into()),
            ..Search::default()
        })
        .unwrap();
    assert_eq!(indexed.items.len(), 1, "only the item whose x fits a key");

    // NonKeyAttributes naming one attribute twice.
    let e =
        f.t.create_table(&CreateTableInput {
            name: "dup".into(),
            key_schema: ks(&[("p", "HASH")]),
            attributes: vec![("p".into(), "S".into()), ("x".into(), "S".into())],
            gsis: vec![IndexInput {
                name: "by_x".into(),
                key_schema: ks(&[("x", "HASH")]),
                projection_type: Some("INCLUDE".into()),
                non_key_attributes: Some(vec!["a".into(), "a".into()]),
                throughput: None,
            }],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..CreateTableInput::default()
        })
        .unwrap_err();
    assert!(e.message.contains("Duplicate"), "{}", e.message);
    // A global index keyed on two partition attributes and no sort attribute.
    f.t.create_table(&CreateTableInput {
        name: "two_hashes".into(),
        key_schema: ks(&[("p", "HASH")]),
        attributes: vec![
            ("p".into(), "S".into()),
            ("a".into(), "S".into()),
            ("b".into(), "S".into()),
        ],
        gsis: vec![all_gsi("by_ab", &[("a", "HASH"), ("b", "HASH")])],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
}

/// A memory-only GetItem (what `seedbed serve` tries on its request thread) answers from the
/// memtable and the block cache, or says it needs the device; run again normally, the read
/// warms the cache and the next memory-only read answers.
#[test]
fn a_memory_only_get_item_answers_from_memory_or_asks_for_the_device() {
    let f = fixture();
    create_scores(&f.t);
    let key = |ts: &str| item(&[("player", s("p")), ("ts", n(ts))]);
    let pad = "x".repeat(100);
    let row = |ts: &str| item(&[("player", s("p")), ("ts", n(ts)), ("pad", s(&pad))]);
    // Enough rows for many data blocks, so reopening (which reads the catalog) cannot have
    // cached the block of the row looked up below.
    for i in 0..300 {
        put(&f.t, "scores", row(&i.to_string()));
    }
    let get = |t: &Tables, ts: &str, memory_only: bool| {
        t.get_item(&GetItem {
            table: "scores".into(),
            key: key(ts),
            memory_only,
            ..GetItem::default()
        })
    };
    let f = f.reopen();
    f.t.db().flush().unwrap();
    put(&f.t, "scores", row("1000"));
    // "1000" is in the memtable; "150" in a table file whose block nobody has read yet.
    assert_eq!(get(&f.t, "1000", true).unwrap().item, Some(row("1000")));
    let e = get(&f.t, "150", true).unwrap_err();
    assert!(e.needs_device(), "{e:?}");
    assert_eq!(get(&f.t, "150", false).unwrap().item, Some(row("150")));
    assert_eq!(get(&f.t, "150", true).unwrap().item, Some(row("150")));
    // An ordinary engine failure is not mistaken for a cache miss.
    let other =
        f.t.get_item(&GetItem {
            table: "no_such_table".into(),
            key: key("1"),
            memory_only: true,
            ..GetItem::default()
        })
        .unwrap_err();
    assert_eq!(other.kind, ErrorKind::ResourceNotFound);
    assert!(!other.needs_device(), "{other:?}");
}

/// DynamoDB checks a request before it looks for the table: a bad request to a table that
/// does not exist is a ValidationException naming what is wrong, and a good one is
/// ResourceNotFound, in the item operations' words (dynalite's tests, checked against
/// DynamoDB; moto's AWS-verified tests for the message).
#[test]
fn requests_are_checked_before_their_table_is_looked_up() {
    let f = fixture();
    let missing = "no_such_table";
    let big = "x".repeat(400 * 1024);
    let e = |r: std::result::Result<(), DynamoError>| r.unwrap_err();
    let put = |item: Item, cond: Option<&str>| {
        f.t.put_item(&PutItem {
            table: missing.into(),
            item,
            condition: WriteCondition {
                expression: cond.map(String::from),
                ..WriteCondition::default()
            },
            ..PutItem::default()
        })
        .map(|_| ())
    };
    let too_big = e(put(item(&[("a", s("k")), ("b", s(&big))]), None));
    assert_eq!(too_big.kind, ErrorKind::Validation);
    assert_eq!(
        too_big.message,
        "Item size has exceeded the maximum allowed size"
    );
    let syntax = e(put(item(&[("a", s("k"))]), Some("a = ")));
    assert_eq!(syntax.kind, ErrorKind::Validation, "{}", syntax.message);
    assert!(
        syntax
            .message
            .starts_with("1 validation error detected: Invalid ConditionExpression: Syntax error"),
        "{}",
        syntax.message
    );
    let fine = e(put(item(&[("a", s("k"))]), None));
    assert_eq!(
        (fine.kind, fine.message.as_str()),
        (ErrorKind::ResourceNotFound, "Requested resource not found")
    );

    let update = e(f
        .t
        .update_item(&UpdateItem {
            table: missing.into(),
            key: item(&[("a", s("k"))]),
            update: Some("SET b = :v REMOVE b".into()),
            values: Some([(":v".to_string(), s("1"))].into_iter().collect()),
            ..UpdateItem::default()
        })
        .map(|_| ()));
    assert_eq!(update.kind, ErrorKind::Validation, "{}", update.message);
    let get = e(f
        .t
        .get_item(&GetItem {
            table: missing.into(),
            key: item(&[("a", s("k"))]),
            projection: Some("a, a".into()),
            ..GetItem::default()
        })
        .map(|_| ()));
    assert_eq!(get.kind, ErrorKind::Validation, "{}", get.message);

    // A key condition's shape needs no key schema; its meaning does.
    let query = |kc: &str| {
        f.t.query(&Search {
            table: missing.into(),
            key_condition: Some(kc.into()),
            values: Some([(":v".to_string(), s("1"))].into_iter().collect()),
            forward: true,
            ..Search::default()
        })
        .map(|_| ())
    };
    for (kc, want) in [
        ("a.b = :v", ErrorKind::Validation),
        ("a = :v OR b = :v", ErrorKind::Validation),
        ("a = :v AND a = :v", ErrorKind::Validation),
        ("a = :v", ErrorKind::ResourceNotFound),
    ] {
        let got = e(query(kc));
        assert_eq!(got.kind, want, "{kc}: {}", got.message);
    }
    // Scan's segments are checked first too.
    let scan = e(f
        .t
        .scan(&Search {
            table: missing.into(),
            segment: Some(3),
            total_segments: Some(2),
            ..Search::default()
        })
        .map(|_| ()));
    assert_eq!(scan.kind, ErrorKind::Validation, "{}", scan.message);
    // The table operations name the table.
    let describe = f.t.describe_table(missing).unwrap_err();
    assert_eq!(
        describe.message,
        format!("Requested resource not found: Table: {missing} not found")
    );
}

/// A TableId is shaped as DynamoDB's, a version-4 UUID, yet made from the store's own state:
/// two stores that make the same table at the same virtual time give it the same id.
#[test]
fn table_ids_are_version_4_uuids_that_a_replay_repeats() {
    let (a, b) = (fixture(), fixture());
    create_scores(&a.t);
    create_scores(&b.t);
    let id = a.t.describe_table("scores").unwrap().def.uuid;
    let parsed = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(parsed.get_version_num(), 4, "{id}");
    assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
    assert_eq!(b.t.describe_table("scores").unwrap().def.uuid, id);
}

/// A key condition's shape is checked before the table is looked for, its operands read left
/// to right, in DynamoDB's words (dynalite's tests, checked against DynamoDB); and the
/// expressions are read key condition first, then filter, then projection.
#[test]
fn key_condition_shapes_are_refused_in_dynamodbs_words() {
    let f = fixture();
    let query = |kc: &str, filter: Option<&str>, projection: Option<&str>| {
        // Only the placeholders the condition uses: an unused one is an error of its own.
        let values: Values = [":a", ":b"]
            .into_iter()
            .filter(|p| kc.contains(p))
            .map(|p| (p.to_string(), s("S")))
            .collect();
        let values = (!values.is_empty()).then_some(values);
        f.t.query(&Search {
            table: "abc".into(),
            key_condition: Some(kc.into()),
            filter: filter.map(String::from),
            projection: projection.map(String::from),
            values,
            forward: true,
            ..Search::default()
        })
        .unwrap_err()
        .message
    };
    let nested_op = "KeyConditionExpressions cannot contain nested operations";
    let multiple = "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition";
    let nested_attr = "KeyConditionExpressions cannot have conditions on nested attributes";
    let no_key = "Invalid condition in KeyConditionExpression: No key attribute specified";
    for (kc, want) in [
        ("size(b) > a AND a.b > b AND b > c", nested_op),
        ("a > size(b.d)", nested_op),
        ("a between size(b) and size(a)", nested_op),
        ("b > a.b", multiple),
        ("b between c[1] and d", multiple),
        ("a between b and size(a)", multiple),
        ("begins_with(a, b)", multiple),
        ("b.d > a AND c.d > e.f", nested_attr),
        ("a.d > c", nested_attr),
        ("b[0] > a", nested_attr),
        (":b > :a AND a < :b", no_key),
        (":a > b AND :a < :b", no_key),
        (
            ":a between size(b) and size(a) and b > :b",
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "begins_with(:a, b) and a > :b",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        ("attribute_type(a, :a)", "Invalid operator used in KeyConditionExpression: attribute_type"),
    ] {
        assert_eq!(query(kc, None, None), want, "{kc}");
    }
    // Emptiness and syntax: the key condition's before the filter's, the filter's before the
    // projection's.
    assert_eq!(
        query("", Some(""), Some("")),
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
    assert!(
        query("a >", Some(""), None).starts_with("Invalid KeyConditionExpression: Syntax error")
    );
    assert_eq!(
        query("a = :a AND b = :b", Some(""), Some("")),
        "Invalid FilterExpression: The expression can not be empty;"
    );
}

/// A Query's ExclusiveStartKey is checked against the key schema before the key condition's
/// meaning: another set of attributes is "The provided starting key is invalid", the key's
/// attributes of other types "The provided key element does not match the schema"; a legacy
/// KeyConditions operator no key range serves is refused only after that (dynalite's tests,
/// checked against DynamoDB).
#[test]
fn a_start_key_is_checked_before_the_key_condition_means_anything() {
    let f = fixture();
    create_scores(&f.t);
    let query = |esk: Item, legacy: bool| {
        let kc = |op: &str, values: Option<Vec<AttributeValue>>| LegacyCondition {
            operator: Some(op.into()),
            values,
            ..LegacyCondition::default()
        };
        let (key_condition, key_conditions) = if legacy {
            let mut m = LegacyConditions::new();
            m.insert("z".into(), kc("NULL", None));
            (None, Some(m))
        } else {
            (Some("z = :a".to_string()), None)
        };
        let values = (!legacy).then(|| [(":a".to_string(), n("1"))].into_iter().collect());
        f.t.query(&Search {
            table: "scores".into(),
            key_condition,
            key_conditions,
            values,
            exclusive_start_key: Some(esk),
            forward: true,
            ..Search::default()
        })
        .unwrap_err()
        .message
    };
    for legacy in [false, true] {
        for esk in [
            item(&[]),
            item(&[("player", s("a"))]),
            item(&[("player", s("a")), ("ts", n("1")), ("x", n("1"))]),
            item(&[("player", s("a")), ("x", n("1"))]),
        ] {
            assert_eq!(query(esk, legacy), "The provided starting key is invalid");
        }
        assert_eq!(
            query(item(&[("player", n("1")), ("ts", n("1"))]), legacy),
            "The provided key element does not match the schema"
        );
    }
    // A good start key: the key condition's turn.
    let good = || item(&[("player", s("a")), ("ts", n("1"))]);
    assert_eq!(
        query(good(), true),
        "Attempted conditional constraint is not an indexable operation"
    );
    assert!(query(good(), false).starts_with("Query condition missed key schema element"));
}
