//! The Authorizer API end to end: users in groups, roles with trust policies, AssumeRole
//! (same and cross account, session tags, external id, role chaining) and the requests that
//! storage services make with the resulting sessions.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::iam::authorizer::{
    Access, AssumeRole, AuthError, Authorizer, Directory, Group, Principal, Role, User,
};
use seedbed_engine::iam::{Decision, Policy, PolicyKind, Reason};

const A: &str = "111122223333";
const B: &str = "444455556666";
const NOW_MS: u64 = 1_767_225_600_000;

fn pol(kind: PolicyKind, text: &str) -> Arc<Policy> {
    Arc::new(Policy::parse(text, kind).unwrap_or_else(|e| panic!("{e}\n{text}")))
}

fn identity(action: &str, resource: &str) -> Arc<Policy> {
    pol(
        PolicyKind::Identity,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        ),
    )
}

fn trust(principal: &str, actions: &str, condition: &str) -> Arc<Policy> {
    let cond = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    pol(
        PolicyKind::Trust,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":{actions}{cond}}}]}}"#
        ),
    )
}

fn user(account: &str, name: &str, policies: Vec<Arc<Policy>>, groups: Vec<String>) -> User {
    User {
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        unique_id: format!("AIDA{}", name.to_uppercase()),
        policies,
        groups,
        boundary: None,
        tags: BTreeMap::new(),
    }
}

fn role(account: &str, name: &str, trust_policy: Arc<Policy>, policies: Vec<Arc<Policy>>) -> Role {
    Role {
        arn: format!("arn:aws:iam::{account}:role/{name}"),
        unique_id: format!("AROA{}", name.to_uppercase()),
        trust_policy,
        policies,
        boundary: None,
        tags: BTreeMap::new(),
    }
}

fn assume<'a>(role_arn: &'a str, context: &'a [(&'a str, &'a [&'a str])]) -> AssumeRole<'a> {
    AssumeRole {
        role_arn,
        session_name: "s1",
        context,
        now_unix_ms: NOW_MS,
        ..AssumeRole::default()
    }
}

fn get<'a>(resource: &'a str, policies: &'a [Arc<Policy>]) -> Access<'a> {
    Access {
        action: "s3:GetObject",
        resource,
        resource_account: Some(A),
        resource_policies: policies,
        context: &[],
        now_unix_ms: NOW_MS,
    }
}

fn world() -> Authorizer {
    let mut d = Directory::new();
    let any = r#"{"AWS":"111122223333"}"#;
    d.put_group(Group {
        arn: format!("arn:aws:iam::{A}:group/assumers"),
        policies: vec![identity("sts:*", "*")],
    });
    d.put_user(user(
        A,
        "alice",
        vec![],
        vec![format!("arn:aws:iam::{A}:group/assumers")],
    ));
    d.put_user(user(A, "bob", vec![], vec![]));
    d.put_user(user(
        B,
        "carol",
        vec![identity(
            "sts:AssumeRole",
            &format!("arn:aws:iam::{A}:role/Partner"),
        )],
        vec![],
    ));
    d.put_user(user(B, "dave", vec![], vec![]));
    d.put_role(role(
        A,
        "Reader",
        trust(any, r#""sts:AssumeRole""#, ""),
        vec![identity("s3:GetObject", "arn:aws:s3:::data/*")],
    ));
    d.put_role(role(
        A,
        "Partner",
        trust(
            &format!(r#"{{"AWS":"{B}"}}"#),
            r#""sts:AssumeRole""#,
            r#"{"StringEquals":{"sts:ExternalId":"xyz"}}"#,
        ),
        vec![identity("s3:GetObject", "*")],
    ));
    d.put_role(role(
        A,
        "Chained",
        trust(
            &format!(r#"{{"AWS":"arn:aws:iam::{A}:role/Reader"}}"#),
            r#""sts:AssumeRole""#,
            "",
        ),
        vec![identity("s3:*", "*")],
    ));
    d.put_role(role(
        A,
        "Tagged",
        trust(any, r#"["sts:AssumeRole","sts:TagSession"]"#, ""),
        vec![identity(
            "s3:GetObject",
            "arn:aws:s3:::data/${aws:PrincipalTag/project}/*",
        )],
    ));
    Authorizer::new(d)
}

fn user_p(account: &str, name: &str) -> Principal {
    Principal::User(format!("arn:aws:iam::{account}:user/{name}"))
}

#[test]
fn same_account_trust_naming_the_account_needs_an_identity_allow() {
    let a = world();
    let arn = format!("arn:aws:iam::{A}:role/Reader");
    assert!(matches!(
        a.assume_role(&user_p(A, "bob"), &assume(&arn, &[])),
        Err(AuthError::AccessDenied(_))
    ));
    let s = a
        .assume_role(&user_p(A, "alice"), &assume(&arn, &[]))
        .expect("alice's group allows sts:AssumeRole");
    let p = Principal::Session(s);
    assert_eq!(
        a.authorize(&p, &get("arn:aws:s3:::data/x", &[])).unwrap().0,
        Decision::Allow
    );
    assert_eq!(
        a.authorize(&p, &get("arn:aws:s3:::logs/x", &[])).unwrap().0,
        Decision::ImplicitDeny
    );
}

#[test]
fn cross_account_assume_role_needs_both_sides_and_external_id() {
    let a = world();
    let arn = format!("arn:aws:iam::{A}:role/Partner");
    let ext: [(&str, &[&str]); 1] = [("sts:ExternalId", &["xyz"])];
    let wrong: [(&str, &[&str]); 1] = [("sts:ExternalId", &["nope"])];
    assert!(a
        .assume_role(&user_p(B, "carol"), &assume(&arn, &ext))
        .is_ok());
    assert!(matches!(
        a.assume_role(&user_p(B, "carol"), &assume(&arn, &wrong)),
        Err(AuthError::AccessDenied(_))
    ));
    assert!(matches!(
        a.assume_role(&user_p(B, "carol"), &assume(&arn, &[])),
        Err(AuthError::AccessDenied(_))
    ));
    // dave is in the trusted account but has no identity Allow for sts:AssumeRole.
    let denied = a.assume_role(&user_p(B, "dave"), &assume(&arn, &ext));
    assert!(
        matches!(&denied, Err(AuthError::AccessDenied(m)) if m.contains("identity")),
        "{denied:?}"
    );
}

#[test]
fn identity_permission_alone_never_assumes_a_role() {
    let a = world();
    // Chained trusts only the Reader role; alice's group allows sts:* on every resource.
    let denied = a.assume_role(
        &user_p(A, "alice"),
        &assume(&format!("arn:aws:iam::{A}:role/Chained"), &[]),
    );
    assert!(
        matches!(&denied, Err(AuthError::AccessDenied(m)) if m.contains("trust policy")),
        "{denied:?}"
    );
}

#[test]
fn role_chaining_trust_names_the_role() {
    let a = world();
    let reader = a
        .assume_role(
            &user_p(A, "alice"),
            &assume(&format!("arn:aws:iam::{A}:role/Reader"), &[]),
        )
        .unwrap();
    // The Reader role's own policies do not allow sts:AssumeRole, but the Chained role's trust
    // policy names the Reader role ARN in the same account; naming the role ARN (not the
    // session) counts as an identity-side grant, and Reader has no boundary to limit it.
    let chained = a.assume_role(
        &Principal::Session(reader),
        &assume(&format!("arn:aws:iam::{A}:role/Chained"), &[]),
    );
    let s = chained.expect("trust policy naming the role ARN grants its sessions");
    assert_eq!(s.arn, format!("arn:aws:sts::{A}:assumed-role/Chained/s1"));
}

#[test]
fn session_tags_need_tag_session_and_feed_principal_tags() {
    let a = world();
    let mut req = assume("", &[]);
    let reader = format!("arn:aws:iam::{A}:role/Reader");
    req.role_arn = &reader;
    req.tags = [("project".to_string(), "apollo".to_string())].into();
    // alice's group allows sts:*, but Reader's trust policy does not allow sts:TagSession.
    let denied = a.assume_role(&user_p(A, "alice"), &req);
    assert!(
        matches!(&denied, Err(AuthError::AccessDenied(m)) if m.contains("sts:TagSession") && m.contains("trust policy")),
        "{denied:?}"
    );
    let tagged = format!("arn:aws:iam::{A}:role/Tagged");
    req.role_arn = &tagged;
    let s = a
        .assume_role(&user_p(A, "alice"), &req)
        .expect("Tagged trusts sts:TagSession");
    let p = Principal::Session(s);
    assert_eq!(
        a.authorize(&p, &get("arn:aws:s3:::data/apollo/x", &[]))
            .unwrap()
            .0,
        Decision::Allow
    );
    assert_eq!(
        a.authorize(&p, &get("arn:aws:s3:::data/gemini/x", &[]))
            .unwrap()
            .0,
        Decision::ImplicitDeny
    );
}

#[test]
fn bucket_policy_grants_and_public_access() {
    let a = world();
    let bucket = [pol(
        PolicyKind::Resource,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:user/bob"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}}]}}"#
        ),
    )];
    let (d, r) = a
        .authorize(&user_p(A, "bob"), &get("arn:aws:s3:::shared/x", &bucket))
        .unwrap();
    assert_eq!(d, Decision::Allow);
    assert!(matches!(r, Reason::ResourceGrant(_)));
    assert_eq!(
        a.authorize(
            &Principal::Anonymous,
            &get("arn:aws:s3:::shared/x", &bucket)
        )
        .unwrap()
        .0,
        Decision::ImplicitDeny
    );
    let public = [pol(
        PolicyKind::Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::www/*"}]}"#,
    )];
    assert_eq!(
        a.authorize(
            &Principal::Anonymous,
            &get("arn:aws:s3:::www/index.html", &public)
        )
        .unwrap()
        .0,
        Decision::Allow
    );
    assert_eq!(
        a.authorize(&Principal::Root(A.into()), &get("arn:aws:s3:::any/x", &[]))
            .unwrap()
            .0,
        Decision::Allow
    );
}

#[test]
fn bad_parameters_are_typed_errors() {
    let a = world();
    let arn = format!("arn:aws:iam::{A}:role/Reader");
    let mut req = assume(&arn, &[]);
    req.session_name = "x";
    assert!(matches!(
        a.assume_role(&user_p(A, "alice"), &req),
        Err(AuthError::InvalidParameter(_))
    ));
    req.session_name = "ok-name";
    req.duration_seconds = 60;
    assert!(matches!(
        a.assume_role(&user_p(A, "alice"), &req),
        Err(AuthError::InvalidParameter(_))
    ));
    assert!(matches!(
        a.assume_role(
            &user_p(A, "alice"),
            &assume("arn:aws:iam::111122223333:role/Nope", &[])
        ),
        Err(AuthError::NoSuchRole(_))
    ));
    assert!(matches!(
        a.authorize(&user_p(A, "zed"), &get("arn:aws:s3:::x/y", &[])),
        Err(AuthError::NoSuchUser(_))
    ));
    let bad = Access {
        action: "GetObject",
        ..get("arn:aws:s3:::x/y", &[])
    };
    assert!(matches!(
        a.authorize(&user_p(A, "alice"), &bad),
        Err(AuthError::Invalid(_))
    ));
}
