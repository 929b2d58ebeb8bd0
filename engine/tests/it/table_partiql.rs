//! PartiQL (ExecuteStatement) on the table API: each statement does what the operation it is
//! planned onto does — INSERT refuses a duplicate, UPDATE and DELETE need the whole key and
//! treat the rest of WHERE as a condition, SELECT filters and projects and pages with its
//! NextToken — and IAM decides it as `dynamodb:PartiQL*` on the table.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::iam::authorizer::{Authorizer, Directory, Principal, Requester, User};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::table::partiql::Statement;
use seedbed_engine::table::*;

use crate::table_api::{fixture, ks, n, s};

fn run(t: &Tables, sql: &str, params: Vec<AttributeValue>) -> Result<Vec<Item>> {
    t.execute_statement(&Statement {
        statement: sql.into(),
        parameters: params,
        ..Statement::default()
    })
    .map(|o| o.items)
}

fn create(t: &Tables) {
    t.create_table(&CreateTableInput {
        name: "songs".into(),
        key_schema: ks(&[("artist", "HASH"), ("title", "RANGE")]),
        attributes: vec![("artist".into(), "S".into()), ("title".into(), "S".into())],
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..CreateTableInput::default()
    })
    .unwrap();
}

#[test]
fn statements_do_what_their_operations_do() {
    let f = fixture();
    create(&f.t);
    for (a, title, year) in [
        ("ann", "one", 1999),
        ("ann", "two", 2004),
        ("bob", "one", 2010),
    ] {
        run(
            &f.t,
            &format!(r#"INSERT INTO "songs" VALUE {{'artist': '{a}', 'title': '{title}', 'year': {year}, 'tags': <<'pop'>>}}"#),
            vec![],
        )
        .unwrap();
    }
    let dup = run(
        &f.t,
        "INSERT INTO songs VALUE {'artist': 'ann', 'title': 'one'}",
        vec![],
    );
    assert_eq!(dup.unwrap_err().kind, ErrorKind::DuplicateItem);

    let titles = |items: &[Item]| -> Vec<String> {
        let mut v: Vec<String> = items
            .iter()
            .map(|i| i["title"].as_s().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let r = run(
        &f.t,
        "SELECT title FROM songs WHERE artist = ? AND \"year\" > 2000",
        vec![s("ann")],
    )
    .unwrap();
    assert_eq!(titles(&r), vec!["two"]);
    assert_eq!(r[0].len(), 1, "projected to title");
    let r = run(
        &f.t,
        "SELECT * FROM songs WHERE contains(tags, 'pop') AND artist IN ['bob', 'cat'] AND genre IS MISSING",
        vec![],
    )
    .unwrap();
    assert_eq!(r.len(), 1);

    // UPDATE and DELETE: the whole key, the rest a condition.
    run(
        &f.t,
        "UPDATE songs SET plays = 10, meta.by = 'x' REMOVE tags WHERE artist = 'ann' AND title = 'one'",
        vec![],
    )
    .unwrap_err(); // meta does not exist: SET meta.by fails, as UpdateItem's would
    run(
        &f.t,
        "UPDATE songs SET plays = 10 REMOVE tags WHERE artist = 'ann' AND title = 'one'",
        vec![],
    )
    .unwrap();
    let r = run(
        &f.t,
        "SELECT plays, tags FROM songs WHERE artist = 'ann' AND title = 'one'",
        vec![],
    )
    .unwrap();
    assert_eq!(
        r,
        vec![[("plays".to_string(), n("10"))]
            .into_iter()
            .collect::<Item>()]
    );
    let e = run(&f.t, "DELETE FROM songs WHERE artist = 'ann'", vec![]).unwrap_err();
    assert!(e.message.contains("all key attributes"), "{e:?}");
    let e = run(
        &f.t,
        "DELETE FROM songs WHERE artist = 'ann' AND title = 'two' AND \"year\" = 1900",
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConditionalCheckFailed);
    run(
        &f.t,
        "DELETE FROM songs WHERE artist = 'ann' AND title = 'two'",
        vec![],
    )
    .unwrap();

    // A read in a transaction names an item by its key and nothing else: a further condition
    // is refused, never silently dropped.
    let keyed = |sql: &str| Statement {
        statement: sql.into(),
        ..Statement::default()
    };
    let e =
        f.t.execute_transaction(
            &[keyed(
                "SELECT * FROM songs WHERE artist = 'bob' AND title = 'one' AND plays IS MISSING",
            )],
            None,
        )
        .unwrap_err();
    assert!(e.message.contains("nothing else"), "{e:?}");
    let got =
        f.t.execute_transaction(
            &[keyed(
                "SELECT \"year\" FROM songs WHERE artist = 'bob' AND title = 'one'",
            )],
            None,
        )
        .unwrap();
    assert_eq!(
        got,
        vec![Some(
            [("year".to_string(), n("2010"))].into_iter().collect()
        )]
    );
    assert_eq!(run(&f.t, "SELECT * FROM songs", vec![]).unwrap().len(), 2);
}

#[test]
fn selects_page_with_their_next_token() {
    let f = fixture();
    create(&f.t);
    for i in 0..7 {
        run(
            &f.t,
            "INSERT INTO songs VALUE {'artist': ?, 'title': 't'}",
            vec![s(&format!("a{i}"))],
        )
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out =
            f.t.execute_statement(&Statement {
                statement: "SELECT artist FROM songs".into(),
                limit: Some(3),
                next_token: token.take(),
                ..Statement::default()
            })
            .unwrap();
        seen.extend(out.items);
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let bad = f.t.execute_statement(&Statement {
        statement: "SELECT * FROM songs".into(),
        next_token: Some("not-a-token".into()),
        ..Statement::default()
    });
    assert_eq!(bad.unwrap_err().kind, ErrorKind::Validation);
}

#[test]
fn iam_decides_statements_as_partiql_actions() {
    let f = fixture();
    create(&f.t);
    let reader = "arn:aws:iam::000000000000:user/reader";
    let mut d = Directory::new();
    d.put_user(User {
        arn: reader.into(),
        unique_id: "AIDAREADER".into(),
        policies: vec![Arc::new(
            Policy::parse(
                r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                    "Action": "dynamodb:PartiQLSelect", "Resource": "*"}}"#,
                PolicyKind::Identity,
            )
            .unwrap(),
        )],
        groups: Vec::new(),
        boundary: None,
        tags: BTreeMap::new(),
    });
    let auth = Authorizer::new(d);
    let p = Principal::User(reader.into());
    let caller = Requester {
        principal: &p,
        context: &[],
    };
    let stmt = |sql: &str| {
        Request::ExecuteStatement(Statement {
            statement: sql.into(),
            ..Statement::default()
        })
    };
    f.t.execute_as(&auth, &caller, None, &stmt("SELECT * FROM songs"))
        .unwrap();
    let e =
        f.t.execute_as(
            &auth,
            &caller,
            None,
            &stmt("INSERT INTO songs VALUE {'artist': 'x', 'title': 'y'}"),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied);
    assert!(e.message.contains("dynamodb:PartiQLInsert"), "{e:?}");
    assert!(
        run(&f.t, "SELECT * FROM songs", vec![]).unwrap().is_empty(),
        "nothing written"
    );
}

/// A SELECT of a path into a document answers the value under the path's last name
/// (`SELECT m.nested` gives `{"nested": …}`), as DynamoDB's PartiQL does (the DynamoDB
/// Conformance Suite's ExecuteStatement tests, against DynamoDB); other names keep theirs.
#[test]
fn a_nested_path_is_answered_under_its_last_name() {
    let f = fixture();
    create(&f.t);
    run(
        &f.t,
        "INSERT INTO songs VALUE {'artist': 'ann', 'title': 'one', 'm': {'nested': 'deep', 'o': 'x'}}",
        vec![],
    )
    .unwrap();
    let got = run(
        &f.t,
        "SELECT m.nested, title FROM songs WHERE artist = 'ann' AND title = 'one'",
        vec![],
    )
    .unwrap();
    assert_eq!(got.len(), 1);
    let mut names: Vec<&String> = got[0].keys().collect();
    names.sort();
    assert_eq!(names, ["nested", "title"]);
    assert_eq!(got[0]["nested"], s("deep"));
}
