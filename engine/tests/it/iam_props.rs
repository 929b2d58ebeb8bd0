//! Property tests for the IAM engine: the parser never panics, and the two monotonicity laws
//! of AWS evaluation hold — adding an Allow never rescues an explicit deny, adding a Deny never
//! produces an Allow.

use proptest::prelude::*;
use seedbed_engine::iam::{decide, explain, parse_input, Decision, Policy, PolicyKind};
use serde_json::{json, Value};

const KINDS: [PolicyKind; 6] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Boundary,
    PolicyKind::Scp,
    PolicyKind::Session,
    PolicyKind::Trust,
];

/// Arbitrary JSON, biased towards policy-shaped keys so the parser goes deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("Version".to_string()),
        Just("Statement".to_string()),
        Just("Effect".to_string()),
        Just("Action".to_string()),
        Just("NotAction".to_string()),
        Just("Resource".to_string()),
        Just("NotResource".to_string()),
        Just("Principal".to_string()),
        Just("NotPrincipal".to_string()),
        Just("Condition".to_string()),
        Just("AWS".to_string()),
        Just("StringLike".to_string()),
        Just("ForAllValues:IpAddressIfExists".to_string()),
        Just("DateLessThan".to_string()),
        Just("Null".to_string()),
        "[A-Za-z:]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!("2012-10-17")),
        Just(json!("Allow")),
        Just(json!("Deny")),
        Just(json!("*")),
        Just(json!("arn:aws:s3:::b/${aws:username}/*")),
        Just(json!("${")),
        Just(json!("10.0.0.0/8")),
        Just(json!("2026-01-01T00:00:00Z")),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn statement(effect: &str, resource_kind: bool) -> impl Strategy<Value = Value> {
    let effect = effect.to_string();
    let action = prop::sample::select(vec![
        "s3:GetObject",
        "s3:Get*",
        "s3:*",
        "*",
        "dynamodb:GetItem",
        "s3:?utObject",
    ]);
    let resource = prop::sample::select(vec![
        "*",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/key",
        "arn:aws:s3:::other/*",
        "arn:aws:s3:::bucket/${aws:username}*",
    ]);
    let cond = prop::sample::select(vec![
        Value::Null,
        json!({"StringEquals": {"aws:username": "alice"}}),
        json!({"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}),
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}),
        json!({"BoolIfExists": {"aws:SecureTransport": "true"}}),
        json!({"Null": {"aws:TokenIssueTime": "true"}}),
    ]);
    let principal = prop::sample::select(vec![
        json!("*"),
        json!({"AWS": "111122223333"}),
        json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
        json!({"AWS": "arn:aws:iam::111122223333:role/Dev"}),
        json!({"AWS": "arn:aws:sts::111122223333:assumed-role/Dev/s"}),
        json!({"AWS": "444455556666"}),
    ]);
    let not_action = any::<bool>();
    let not_resource = any::<bool>();
    let not_principal = any::<bool>();
    (
        action,
        resource,
        cond,
        principal,
        not_action,
        not_resource,
        not_principal,
    )
        .prop_map(move |(a, r, c, p, na, nr, np)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(effect));
            s.insert(if na { "NotAction" } else { "Action" }.into(), json!(a));
            s.insert(if nr { "NotResource" } else { "Resource" }.into(), json!(r));
            if resource_kind {
                let neg = np && effect == "Deny";
                s.insert(if neg { "NotPrincipal" } else { "Principal" }.into(), p);
            }
            if !c.is_null() {
                s.insert("Condition".into(), c);
            }
            Value::Object(s)
        })
}

fn statements(resource_kind: bool) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        prop_oneof![
            statement("Allow", resource_kind),
            statement("Deny", resource_kind)
        ],
        0..4,
    )
}

fn policy(stmts: Vec<Value>) -> Value {
    json!([{"Version": "2012-10-17", "Statement": stmts}])
}

fn optional(present: bool, stmts: Vec<Value>) -> Value {
    if present {
        policy(stmts)
    } else {
        Value::Null
    }
}

fn arb_input() -> impl Strategy<Value = Value> {
    let principal = prop::sample::select(vec![
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:sts::111122223333:assumed-role/Dev/s",
        "arn:aws:iam::444455556666:user/carol",
        "arn:aws:iam::111122223333:root",
        "anonymous",
    ]);
    let action = prop::sample::select(vec!["s3:GetObject", "s3:PutObject", "dynamodb:GetItem"]);
    let resource = prop::sample::select(vec![
        "arn:aws:s3:::bucket/key",
        "arn:aws:s3:::bucket/alice-x",
        "arn:aws:s3:::other/k",
        "*",
    ]);
    let ctx = prop::sample::select(vec![
        json!({}),
        json!({"aws:SourceIp": "203.0.113.9", "aws:TagKeys": ["a"]}),
        json!({"aws:PrincipalTag/team": "ops", "aws:SecureTransport": "false"}),
        json!({"aws:TokenIssueTime": "2026-01-01T00:00:00Z", "aws:TagKeys": ["c"]}),
    ]);
    (
        (statements(false), statements(true), statements(false), statements(false), statements(false)),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (principal, action, resource, ctx),
    )
        .prop_map(|((id, res, b, scp, sess), (hb, hs, hss), (p, a, r, c))| {
            json!({
                "policies": {
                    "identity": policy(id),
                    "resource": policy(res),
                    "boundary": optional(hb, b),
                    "scp": optional(hs, scp),
                    "session": optional(hss, sess),
                },
                "request": {"principal": p, "action": a, "resource": r, "resource_account": "111122223333", "context": c},
            })
        })
}

fn decision(input: &Value) -> Decision {
    let (set, ctx) = parse_input(input).expect("generated input is valid");
    decide(&set, &ctx).0
}

/// Adds `stmt` to the first policy of `kind`. A null list means "no such policy applies";
/// creating one would add a policy *type* (a boundary, SCPs), not a statement, so the
/// statement goes to the identity policy instead (then `stmt` has no Principal: identity form).
fn with_statement(input: &Value, kind: &str, stmt: Value, identity_stmt: Value) -> Value {
    let mut out = input.clone();
    let (kind, stmt) = if out["policies"][kind].is_null() {
        ("identity", identity_stmt)
    } else {
        (kind, stmt)
    };
    out["policies"][kind][0]["Statement"]
        .as_array_mut()
        .expect("array")
        .push(stmt);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
        }
    }

    #[test]
    fn parser_never_panics_on_arbitrary_json(v in arb_json()) {
        for kind in KINDS {
            let _ = Policy::from_value(&v, kind);
        }
        let _ = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": v.clone()}), PolicyKind::Identity);
        let _ = parse_input(&json!({"policies": {"identity": [v.clone()], "resource": [v.clone()]}, "request": v}));
    }

    #[test]
    fn adding_allow_never_undoes_explicit_deny(
        input in arb_input(),
        kind in prop::sample::select(vec!["identity", "resource", "boundary", "scp", "session"]),
        allow_id in statement("Allow", false),
        allow_res in statement("Allow", true),
    ) {
        let before = decision(&input);
        let stmt = if kind == "resource" { allow_res } else { allow_id.clone() };
        let after = decision(&with_statement(&input, kind, stmt, allow_id));
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn adding_deny_never_produces_allow(
        input in arb_input(),
        kind in prop::sample::select(vec!["identity", "resource", "boundary", "scp", "session"]),
        deny_id in statement("Deny", false),
        deny_res in statement("Deny", true),
    ) {
        let before = decision(&input);
        let stmt = if kind == "resource" { deny_res } else { deny_id.clone() };
        let after = decision(&with_statement(&input, kind, stmt, deny_id));
        if before != Decision::Allow {
            prop_assert_ne!(after, Decision::Allow);
        }
        prop_assert!(after == before || after == Decision::ExplicitDeny, "{:?} -> {:?}", before, after);
    }

    #[test]
    fn explanation_agrees_with_the_fast_path(input in arb_input()) {
        let (set, ctx) = parse_input(&input).expect("generated input is valid");
        let exp = explain(&set, &ctx);
        prop_assert_eq!((exp.decision, exp.reason), decide(&set, &ctx));
        prop_assert_eq!(exp.trace.len(), set.total_statements());
        // Every matched statement applied and carries the deciding effect.
        for at in &exp.matched {
            let entry = exp.trace.iter().find(|e| e.at == *at).expect("matched statements are traced");
            prop_assert!(entry.outcome.is_ok());
        }
        // An implicit deny is decided by an absence; an explicit deny always by a statement.
        // (An Allow may have none: the root user needs no policy in its own account.)
        if exp.decision == Decision::ImplicitDeny {
            prop_assert!(exp.matched.is_empty());
        }
        if exp.decision == Decision::ExplicitDeny {
            prop_assert!(!exp.matched.is_empty());
        }
    }
}
