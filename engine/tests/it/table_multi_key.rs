//! Global indexes with multi-attribute keys (DynamoDB, November 2025): up to four partition-key
//! and four sort-key attributes. What a user relies on: the catalog keeps the key schema; an
//! item is indexed only with every key attribute; entries sort by the sort attributes left to
//! right; a Query names every partition attribute and a left prefix of the sort attributes,
//! equalities but for the last; paging resumes exactly; broken conditions are refused naming
//! the attribute; and a one-attribute index is stored byte for byte as before.

use seedbed_engine::table::*;

use crate::table_api::{fixture, item, ks, n, nums, put, query, s, values};

/// `orders`: table key `id`; index `by_area_dt` on (`area`, `shop`) × (`dt`, `seq`).
fn create_orders(t: &Tables) {
    t.create_table(&CreateTableInput {
        name: "orders".into(),
        key_schema: ks(&[("id", "HASH")]),
        attributes: vec![
            ("id".into(), "S".into()),
            ("area".into(), "S".into()),
            ("shop".into(), "N".into()),
            ("dt".into(), "S".into()),
            ("seq".into(), "N".into()),
        ],
        gsis: vec![IndexInput {
            name: "by_area_dt".into(),
            key_schema: ks(&[
                ("area", "HASH"),
                ("shop", "HASH"),
                ("dt", "RANGE"),
                ("seq", "RANGE"),
            ]),
            projection_type: Some("ALL".into()),
            non_key_attributes: None,
            throughput: None,
        }],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
}

fn order(id: &str, area: &str, shop: &str, day: Option<&str>, seq: Option<&str>) -> Item {
    let mut i = item(&[("id", s(id)), ("area", s(area)), ("shop", n(shop))]);
    if let Some(d) = day {
        i.insert("dt".into(), s(d));
    }
    if let Some(q) = seq {
        i.insert("seq".into(), n(q));
    }
    i
}

fn search(cond: &str, vals: &[(&str, AttributeValue)]) -> Search {
    Search {
        table: "orders".into(),
        index: Some("by_area_dt".into()),
        key_condition: Some(cond.into()),
        values: values(vals),
        forward: true,
        ..Search::default()
    }
}

fn ids(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_s().unwrap().to_string())
        .collect()
}

fn seeded(f: &crate::table_api::Fixture) {
    create_orders(&f.t);
    for o in [
        order("a", "eu", "1", Some("mon"), Some("10")),
        order("b", "eu", "1", Some("mon"), Some("2")),
        order("c", "eu", "1", Some("tue"), Some("1")),
        order("d", "eu", "1", Some("mon"), Some("-5")),
        order("e", "eu", "2", Some("mon"), Some("1")), // another shop: another partition
        order("f", "us", "1", Some("mon"), Some("1")), // another region
        order("g", "eu", "1", Some("wed"), None),      // no seq: not indexed
        order("h", "eu", "1", None, Some("3")),        // no day: not indexed
    ] {
        put(&f.t, "orders", o);
    }
}

const PART: &str = "area = :r AND shop = :s";

fn part() -> Vec<(&'static str, AttributeValue)> {
    vec![(":r", s("eu")), (":s", n("1"))]
}

#[test]
fn describe_keeps_the_key_schema_in_order() {
    let f = fixture();
    create_orders(&f.t);
    let ix = f.t.describe_table("orders").unwrap().def.gsis[0].clone();
    let names: Vec<(String, bool)> = ix
        .key_attrs()
        .iter()
        .map(|k| (k.name.clone(), ix.hash_attrs().contains(k)))
        .collect();
    assert_eq!(
        names,
        vec![
            ("area".into(), true),
            ("shop".into(), true),
            ("dt".into(), false),
            ("seq".into(), false)
        ]
    );
}

#[test]
fn entries_sort_by_every_sort_attribute_and_need_all_key_attributes() {
    let f = fixture();
    seeded(&f);
    // The whole partition: by day, then numerically by seq; g and h lack a key attribute.
    let r = query(&f.t, search(PART, &part()));
    assert_eq!(ids(&r.items), vec!["d", "b", "a", "c"]);
    assert_eq!(nums(&r.items[..3], "seq"), vec!["-5", "2", "10"]);
    let mut backwards = search(PART, &part());
    backwards.forward = false;
    assert_eq!(ids(&query(&f.t, backwards).items), vec!["c", "a", "b", "d"]);
    // An equality on the first sort attribute, a range on the second.
    let mut v = part();
    v.push((":d", s("mon")));
    assert_eq!(
        ids(&query(&f.t, search(&format!("{PART} AND dt = :d"), &v)).items),
        vec!["d", "b", "a"]
    );
    v.push((":lo", n("0")));
    v.push((":hi", n("5")));
    let q = search(
        &format!("{PART} AND dt = :d AND seq BETWEEN :lo AND :hi"),
        &v,
    );
    assert_eq!(ids(&query(&f.t, q).items), vec!["b"]);
    // A range on the first sort attribute alone.
    let mut v = part();
    v.push((":d", s("mon")));
    let q = search(&format!("{PART} AND dt > :d"), &v);
    assert_eq!(ids(&query(&f.t, q).items), vec!["c"]);
    // Removing a key attribute drops the entry; adding it back restores it.
    f.t.update_item(&UpdateItem {
        table: "orders".into(),
        key: item(&[("id", s("b"))]),
        update: Some("REMOVE seq".into()),
        ..UpdateItem::default()
    })
    .unwrap();
    assert_eq!(
        ids(&query(&f.t, search(PART, &part())).items),
        vec!["d", "a", "c"]
    );
}

#[test]
fn paging_resumes_after_the_last_entry() {
    let f = fixture();
    seeded(&f);
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let mut q = search(PART, &part());
        q.limit = Some(1);
        q.exclusive_start_key = start;
        let r = query(&f.t, q);
        seen.extend(ids(&r.items));
        match r.last_evaluated_key {
            Some(k) => {
                for a in ["id", "area", "shop", "dt", "seq"] {
                    assert!(k.contains_key(a), "LastEvaluatedKey lacks {a}: {k:?}");
                }
                start = Some(k);
            }
            None => break,
        }
    }
    assert_eq!(seen, vec!["d", "b", "a", "c"]);
}

#[test]
fn key_conditions_follow_the_left_to_right_rules() {
    let f = fixture();
    seeded(&f);
    let refused = |cond: &str, vals: &[(&str, AttributeValue)]| {
        f.t.query(&search(cond, vals)).unwrap_err().to_string()
    };
    // Every partition attribute, by equality.
    let e = refused("area = :r", &[(":r", s("eu"))]);
    assert!(e.contains("missed key schema element: shop"), "{e}");
    // No skipping a sort attribute.
    let mut v = part();
    v.push((":q", n("1")));
    let e = refused(&format!("{PART} AND seq > :q"), &v);
    assert!(e.contains("dt"), "{e}");
    // A range only on the last attribute named.
    let mut v = part();
    v.push((":d", s("mon")));
    v.push((":q", n("1")));
    let e = refused(&format!("{PART} AND dt > :d AND seq = :q"), &v);
    assert!(e.contains("only the last sort key attribute"), "{e}");
    // Types are checked per attribute.
    let e = refused(PART, &[(":r", s("eu")), (":s", s("1"))]);
    assert!(e.contains("does not match schema type"), "{e}");
}

#[test]
fn bad_key_schemas_are_refused_and_one_attribute_keys_keep_their_bytes() {
    let f = fixture();
    let create = |schema: &[(&str, &str)]| {
        let attrs: Vec<(String, String)> = schema
            .iter()
            .map(|(a, _)| (a.to_string(), "S".to_string()))
            .chain([("id".to_string(), "S".to_string())])
            .collect();
        f.t.create_table(&CreateTableInput {
            name: "t".into(),
            key_schema: ks(&[("id", "HASH")]),
            attributes: attrs,
            gsis: vec![IndexInput {
                name: "g".into(),
                key_schema: ks(schema),
                projection_type: Some("KEYS_ONLY".into()),
                non_key_attributes: None,
                throughput: None,
            }],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..CreateTableInput::default()
        })
    };
    let five: Vec<(String, &str)> = (0..5).map(|i| (format!("h{i}"), "HASH")).collect();
    let five: Vec<(&str, &str)> = five.iter().map(|(a, t)| (a.as_str(), *t)).collect();
    assert!(create(&five).is_err(), "five HASH attributes");
    assert!(create(&[("a", "HASH"), ("b", "RANGE"), ("c", "HASH")]).is_err());
    assert!(create(&[("a", "HASH"), ("b", "RANGE"), ("b", "RANGE")]).is_err());
    // The bytes of a one-attribute key are the single-value encoding.
    for placement in [keys::Placement::Crc32, keys::Placement::Dynamo] {
        let one = keys::index_key(7, placement, 1, &[&s("p")], &[&n("1")], &s("id"), None);
        let mut expect = keys::partition_prefix(7, placement, 1, &s("p"));
        keys::encode_value(&mut expect, &n("1"));
        if placement == keys::Placement::Dynamo {
            expect.extend_from_slice(&keys::dynamo_hash(&[&s("id")]).to_be_bytes());
        }
        keys::encode_value(&mut expect, &s("id"));
        assert_eq!(one, expect);
    }
}
