//! The IAM actions on a file, as a client sees them: names without regard to case, IDs kept
//! across renames, IAM's quotas and conflicts, documents answered as they were written, and
//! what an edit does to the permissions the server then enforces.

use seedbed_engine::iam::authorizer::{Access, Principal};

use super::ops::{run, Caller, Params};
use super::IamError;
use crate::identity::{bootstrap, IamFile, Identity};

const NOW: &str = "2026-12-05T10:00:00Z";
const ACCOUNT: &str = "123456789012";

fn admin() -> Caller {
    Caller {
        account: ACCOUNT.into(),
        user: Some("admin".into()),
        root: false,
    }
}

fn file() -> IamFile {
    bootstrap(ACCOUNT, "seedbed", "admin").unwrap().0
}

/// Run `action` with `params` (name, value pairs) as `c`.
fn call(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    params: &[(&str, &str)],
) -> Result<String, IamError> {
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    run(f, c, action, &Params(&pairs), NOW)
}

/// Whether the file, loaded as the server loads it, lets user `bob` do `action` on an object
/// of his account.
fn bob_may(f: &IamFile, action: &str) -> bool {
    let bob = Principal::User("arn:aws:iam::123456789012:user/bob".into());
    Identity::from_file(f.clone())
        .unwrap()
        .authorizer
        .check(
            &bob,
            &Access {
                action,
                resource: "arn:aws:s3:::b/k",
                resource_account: Some(ACCOUNT),
                ..Access::default()
            },
        )
        .is_ok()
}

fn between<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|s| s.split(close.as_str()).next())
        .collect()
}

#[test]
fn users_are_found_without_regard_to_case_and_keep_their_id_across_renames() {
    let mut f = file();
    let c = admin();
    let made = call(
        &mut f,
        &c,
        "CreateUser",
        &[("UserName", "Bob"), ("Path", "/team/")],
    )
    .unwrap();
    let id = between(&made, "UserId")[0].to_string();
    assert!(id.starts_with("AIDA") && id.len() == 21, "{id}");
    assert_eq!(
        between(&made, "Arn"),
        ["arn:aws:iam::123456789012:user/team/Bob"]
    );
    assert_eq!(between(&made, "CreateDate"), [NOW]);
    let e = call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap_err();
    assert_eq!((e.status, e.code), (409, "EntityAlreadyExists"));
    let got = call(&mut f, &c, "GetUser", &[("UserName", "BOB")]).unwrap();
    assert_eq!(between(&got, "UserName"), ["Bob"]);
    call(
        &mut f,
        &c,
        "UpdateUser",
        &[
            ("UserName", "bob"),
            ("NewUserName", "Robert"),
            ("NewPath", "/ops/"),
        ],
    )
    .unwrap();
    let got = call(&mut f, &c, "GetUser", &[("UserName", "robert")]).unwrap();
    assert_eq!(between(&got, "UserId"), [id.as_str()]);
    assert_eq!(
        between(&got, "Arn"),
        ["arn:aws:iam::123456789012:user/ops/Robert"]
    );
    let e = call(&mut f, &c, "GetUser", &[("UserName", "Bob")]).unwrap_err();
    assert_eq!((e.status, e.code), (404, "NoSuchEntity"));
    // Bad names and paths are refused with what is wrong.
    let e = call(&mut f, &c, "CreateUser", &[("UserName", "a b")]).unwrap_err();
    assert_eq!(e.code, "ValidationError");
    let e = call(
        &mut f,
        &c,
        "CreateUser",
        &[("UserName", "x"), ("Path", "nopath")],
    )
    .unwrap_err();
    assert!(e.message.contains("Path"), "{e:?}");
    let e = call(&mut f, &c, "CreateUser", &[]).unwrap_err();
    assert!(e.message.contains("UserName"), "{e:?}");
}

#[test]
fn lists_are_sorted_without_regard_to_case_filtered_by_path_and_paged() {
    let mut f = file();
    let c = admin();
    for (name, path) in [
        ("ad", "/p/w/"),
        ("ac", "/p/x/"),
        ("Ab", "/p/y/"),
        ("aa", "/p/z/"),
    ] {
        call(
            &mut f,
            &c,
            "CreateUser",
            &[("UserName", name), ("Path", path)],
        )
        .unwrap();
    }
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("PathPrefix", "/p/"), ("MaxItems", "1")];
        if let Some(m) = &marker {
            params.push(("Marker", m.as_str()));
        }
        let page = call(&mut f, &c, "ListUsers", &params).unwrap();
        names.extend(between(&page, "UserName").into_iter().map(String::from));
        marker = between(&page, "Marker").first().map(|m| m.to_string());
        if marker.is_none() {
            assert!(page.contains("<IsTruncated>false</IsTruncated>"));
            break;
        }
    }
    assert_eq!(names, ["aa", "Ab", "ac", "ad"]);
    let page = call(&mut f, &c, "ListUsers", &[("PathPrefix", "/p/x")]).unwrap();
    assert_eq!(between(&page, "UserName"), ["ac"]);
    let e = call(&mut f, &c, "ListUsers", &[("MaxItems", "0")]).unwrap_err();
    assert_eq!(e.code, "ValidationError");
}

#[test]
fn a_user_is_deleted_only_once_nothing_hangs_on_it() {
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    let key = call(&mut f, &c, "CreateAccessKey", &[("UserName", "bob")]).unwrap();
    let id = between(&key, "AccessKeyId")[0].to_string();
    assert_eq!(between(&key, "SecretAccessKey")[0].len(), 40);
    call(&mut f, &c, "CreateAccessKey", &[("UserName", "bob")]).unwrap();
    let e = call(&mut f, &c, "CreateAccessKey", &[("UserName", "bob")]).unwrap_err();
    assert_eq!((e.status, e.code), (409, "LimitExceeded"));
    call(&mut f, &c, "CreateGroup", &[("GroupName", "readers")]).unwrap();
    call(
        &mut f,
        &c,
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .unwrap();
    let e = call(&mut f, &c, "DeleteUser", &[("UserName", "bob")]).unwrap_err();
    assert_eq!((e.status, e.code), (409, "DeleteConflict"));
    assert!(e.message.contains("access keys"), "{e:?}");
    let listed = call(&mut f, &c, "ListAccessKeys", &[("UserName", "bob")]).unwrap();
    for k in between(&listed, "AccessKeyId") {
        call(
            &mut f,
            &c,
            "DeleteAccessKey",
            &[("UserName", "bob"), ("AccessKeyId", k)],
        )
        .unwrap();
    }
    let e = call(
        &mut f,
        &c,
        "DeleteAccessKey",
        &[("UserName", "bob"), ("AccessKeyId", &id)],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    let e = call(&mut f, &c, "DeleteGroup", &[("GroupName", "readers")]).unwrap_err();
    assert_eq!(e.code, "DeleteConflict", "a group with members stays");
    let e = call(&mut f, &c, "DeleteUser", &[("UserName", "bob")]).unwrap_err();
    assert!(e.message.contains("group memberships"), "{e:?}");
    call(
        &mut f,
        &c,
        "RemoveUserFromGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .unwrap();
    call(&mut f, &c, "DeleteUser", &[("UserName", "bob")]).unwrap();
    call(&mut f, &c, "DeleteGroup", &[("GroupName", "readers")]).unwrap();
    Identity::from_file(f).expect("the file still loads");
}

#[test]
fn the_caller_own_keys_and_the_root_users_keys() {
    let mut f = file();
    let made = call(&mut f, &admin(), "CreateAccessKey", &[]).unwrap();
    assert_eq!(between(&made, "UserName"), ["admin"]);
    let root = Caller {
        account: ACCOUNT.into(),
        user: None,
        root: true,
    };
    let made = call(&mut f, &root, "CreateAccessKey", &[]).unwrap();
    let id = between(&made, "AccessKeyId")[0].to_string();
    assert!(between(&made, "UserName").is_empty());
    let identity = Identity::from_file(f.clone()).unwrap();
    assert_eq!(
        identity.credential(&id).unwrap().principal,
        Principal::Root(ACCOUNT.into())
    );
    call(
        &mut f,
        &root,
        "UpdateAccessKey",
        &[("AccessKeyId", &id), ("Status", "Inactive")],
    )
    .unwrap();
    assert!(
        !Identity::from_file(f.clone())
            .unwrap()
            .credential(&id)
            .unwrap()
            .active
    );
    let got = call(&mut f, &root, "GetUser", &[]).unwrap();
    assert_eq!(between(&got, "Arn"), ["arn:aws:iam::123456789012:root"]);
}

#[test]
fn inline_policies_keep_their_text_count_against_the_quota_and_take_effect() {
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    // Written with Version first and spaces: answered exactly so (URL-encoded).
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    call(
        &mut f,
        &c,
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "read"),
            ("PolicyDocument", doc),
        ],
    )
    .unwrap();
    let got = call(
        &mut f,
        &c,
        "GetUserPolicy",
        &[("UserName", "bob"), ("PolicyName", "read")],
    )
    .unwrap();
    assert_eq!(
        between(&got, "PolicyDocument"),
        [seedbed_sigv4::encode::uri_encode(doc, false).as_str()]
    );
    assert!(bob_may(&f, "s3:GetObject"));
    assert!(!bob_may(&f, "s3:PutObject"));
    // A managed policy adds to it; an unknown one is refused by name.
    call(
        &mut f,
        &c,
        "AttachUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        ],
    )
    .unwrap();
    assert!(bob_may(&f, "s3:PutObject"));
    let e = call(
        &mut f,
        &c,
        "AttachUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AmazonEC2FullAccess"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    let e = call(
        &mut f,
        &c,
        "DetachUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyArn", "arn:aws:iam::aws:policy/IAMFullAccess"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    // Malformed documents and names; the quota (2,048 characters for a user's policies).
    for bad in [
        "{",
        r#"{"Version": "2012-10-17"}"#,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]}"#,
    ] {
        let e = call(
            &mut f,
            &c,
            "PutUserPolicy",
            &[
                ("UserName", "bob"),
                ("PolicyName", "x"),
                ("PolicyDocument", bad),
            ],
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (400, "MalformedPolicyDocument"),
            "{bad}"
        );
    }
    let e = call(
        &mut f,
        &c,
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", &"p".repeat(129)),
            ("PolicyDocument", doc),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError");
    let big = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        vec![r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#; 40].join(",")
    );
    let e = call(
        &mut f,
        &c,
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "big"),
            ("PolicyDocument", &big),
        ],
    )
    .unwrap_err();
    assert_eq!((e.status, e.code), (409, "LimitExceeded"));
    // Policies without a name (written by hand) are listed as policy-N.
    let listed = call(&mut f, &c, "ListUserPolicies", &[("UserName", "admin")]).unwrap();
    assert_eq!(between(&listed, "member"), ["AdministratorAccess"]);
    f.users[0].policies[0].name = None;
    let listed = call(&mut f, &c, "ListUserPolicies", &[("UserName", "admin")]).unwrap();
    assert_eq!(between(&listed, "member"), ["policy-0"]);
}

#[test]
fn group_renames_carry_their_members_and_group_policies_reach_them() {
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    call(
        &mut f,
        &c,
        "CreateGroup",
        &[("GroupName", "readers"), ("Path", "/g/")],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "AddUserToGroup",
        &[("GroupName", "READERS"), ("UserName", "bob")],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "AttachGroupPolicy",
        &[
            ("GroupName", "readers"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
        ],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "UpdateGroup",
        &[("GroupName", "readers"), ("NewGroupName", "viewers")],
    )
    .unwrap();
    let g = call(&mut f, &c, "GetGroup", &[("GroupName", "viewers")]).unwrap();
    assert_eq!(between(&g, "UserName"), ["bob"]);
    assert_eq!(
        between(&g, "Arn")[0],
        "arn:aws:iam::123456789012:group/g/viewers"
    );
    let groups = call(&mut f, &c, "ListGroupsForUser", &[("UserName", "bob")]).unwrap();
    assert_eq!(between(&groups, "GroupName"), ["viewers"]);
    assert!(bob_may(&f, "s3:ListBucket"));
}

#[test]
fn roles_check_their_trust_policy_and_session_limit_and_take_their_sessions_with_them() {
    let mut f = file();
    let c = admin();
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "sts:AssumeRole"}]}"#;
    let e = call(
        &mut f,
        &c,
        "CreateRole",
        &[("RoleName", "R"), ("AssumeRolePolicyDocument", "{}")],
    )
    .unwrap_err();
    assert_eq!(e.code, "MalformedPolicyDocument");
    let e = call(
        &mut f,
        &c,
        "CreateRole",
        &[
            ("RoleName", "R"),
            ("AssumeRolePolicyDocument", trust),
            ("MaxSessionDuration", "60"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError");
    let made = call(
        &mut f,
        &c,
        "CreateRole",
        &[
            ("RoleName", "R"),
            ("Path", "/svc/"),
            ("AssumeRolePolicyDocument", trust),
            ("Description", "d"),
        ],
    )
    .unwrap();
    assert_eq!(
        between(&made, "Arn"),
        ["arn:aws:iam::123456789012:role/svc/R"]
    );
    assert_eq!(between(&made, "MaxSessionDuration"), ["3600"]);
    assert_eq!(
        between(&made, "AssumeRolePolicyDocument"),
        [seedbed_sigv4::encode::uri_encode(trust, false).as_str()]
    );
    call(
        &mut f,
        &c,
        "UpdateRole",
        &[("RoleName", "r"), ("MaxSessionDuration", "7200")],
    )
    .unwrap();
    // A session of it, as AssumeRole records one; a two-hour session is now allowed.
    let no_tags = Default::default();
    let s = crate::identity::assume_role(
        &mut f,
        &crate::identity::AssumeRoleRequest {
            caller: crate::identity::Assumer::User {
                account: ACCOUNT,
                name: "admin",
            },
            role_account: ACCOUNT,
            role: "R",
            session_name: "s1",
            duration_s: 7200,
            policies: &[],
            tags: &no_tags,
            external_id: None,
            now_unix_ms: 1_000,
        },
    )
    .unwrap();
    let identity = Identity::from_file(f.clone()).unwrap();
    match &identity.credential(&s.access_key).unwrap().principal {
        Principal::Session(x) => assert_eq!(x.role_arn, "arn:aws:iam::123456789012:role/svc/R"),
        other => panic!("{other:?}"),
    }
    call(&mut f, &c, "PutRolePolicy", &[("RoleName", "R"), ("PolicyName", "p"), ("PolicyDocument", r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#)]).unwrap();
    let e = call(&mut f, &c, "DeleteRole", &[("RoleName", "R")]).unwrap_err();
    assert_eq!(e.code, "DeleteConflict");
    call(
        &mut f,
        &c,
        "DeleteRolePolicy",
        &[("RoleName", "R"), ("PolicyName", "p")],
    )
    .unwrap();
    call(&mut f, &c, "DeleteRole", &[("RoleName", "R")]).unwrap();
    assert!(f.sessions.is_empty());
    Identity::from_file(f).expect("no session is left without its role");
}

#[test]
fn oidc_providers_are_registered_as_iam_checks_them() {
    let mut f = file();
    let c = admin();
    let e = call(
        &mut f,
        &c,
        "CreateOpenIDConnectProvider",
        &[("Url", "http://idp.example.com")],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError", "IAM takes https:// URLs only");
    let made = call(
        &mut f,
        &c,
        "CreateOpenIDConnectProvider",
        &[
            ("Url", "https://idp.example.com/t"),
            ("ClientIDList.member.1", "app"),
            (
                "ThumbprintList.member.1",
                "3768084dfb3d2b68b7897bf5f565da8efEXAMPLE",
            ),
        ],
    )
    .unwrap_err();
    assert_eq!(
        made.code, "ValidationError",
        "a thumbprint is 40 hex digits"
    );
    let made = call(
        &mut f,
        &c,
        "CreateOpenIDConnectProvider",
        &[
            ("Url", "https://idp.example.com/t"),
            ("ClientIDList.member.1", "app"),
            (
                "ThumbprintList.member.1",
                "3768084dfb3d2b68b7897bf5f565da8ef0000000",
            ),
        ],
    )
    .unwrap();
    let arn = between(&made, "OpenIDConnectProviderArn")[0].to_string();
    assert_eq!(
        arn,
        "arn:aws:iam::123456789012:oidc-provider/idp.example.com/t"
    );
    call(
        &mut f,
        &c,
        "AddClientIDToOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn), ("ClientID", "web")],
    )
    .unwrap();
    let got = call(
        &mut f,
        &c,
        "GetOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn)],
    )
    .unwrap();
    assert_eq!(between(&got, "member")[..2], ["app", "web"]);
    call(
        &mut f,
        &c,
        "DeleteOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn)],
    )
    .unwrap();
    let e = call(
        &mut f,
        &c,
        "GetOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &arn)],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    let summary = call(&mut f, &c, "GetAccountSummary", &[]).unwrap();
    assert!(
        summary.contains("<key>Users</key><value>1</value>"),
        "{summary}"
    );
    assert!(summary.contains("<key>AccessKeysPerUserQuota</key><value>2</value>"));
}

#[test]
fn customer_managed_policies_grant_their_default_version_and_are_deleted_last() {
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    let read = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    let write = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]}"#;
    let made = call(
        &mut f,
        &c,
        "CreatePolicy",
        &[
            ("PolicyName", "objects"),
            ("Path", "/app/"),
            ("PolicyDocument", read),
        ],
    )
    .unwrap();
    let arn = between(&made, "Arn")[0].to_string();
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/app/objects");
    assert_eq!(between(&made, "DefaultVersionId"), ["v1"]);
    let e = call(
        &mut f,
        &c,
        "CreatePolicy",
        &[("PolicyName", "OBJECTS"), ("PolicyDocument", read)],
    )
    .unwrap_err();
    assert_eq!(e.code, "EntityAlreadyExists");
    call(
        &mut f,
        &c,
        "AttachUserPolicy",
        &[("UserName", "bob"), ("PolicyArn", &arn)],
    )
    .unwrap();
    assert!(bob_may(&f, "s3:GetObject") && !bob_may(&f, "s3:PutObject"));
    // A second version grants nothing until it is the default; then the first can go.
    let v2 = call(
        &mut f,
        &c,
        "CreatePolicyVersion",
        &[("PolicyArn", &arn), ("PolicyDocument", write)],
    )
    .unwrap();
    assert_eq!(between(&v2, "VersionId"), ["v2"]);
    assert!(!bob_may(&f, "s3:PutObject"));
    call(
        &mut f,
        &c,
        "SetDefaultPolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v2")],
    )
    .unwrap();
    assert!(bob_may(&f, "s3:PutObject"));
    let e = call(
        &mut f,
        &c,
        "DeletePolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v2")],
    )
    .unwrap_err();
    assert_eq!(e.code, "DeleteConflict", "the default version stays");
    let got = call(
        &mut f,
        &c,
        "GetPolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v1")],
    )
    .unwrap();
    assert_eq!(
        between(&got, "Document"),
        [seedbed_sigv4::encode::uri_encode(read, false).as_str()]
    );
    assert_eq!(between(&got, "IsDefaultVersion"), ["false"]);
    let listed = call(
        &mut f,
        &c,
        "ListPolicies",
        &[("Scope", "Local"), ("OnlyAttached", "true")],
    )
    .unwrap();
    assert_eq!(between(&listed, "PolicyName"), ["objects"]);
    assert_eq!(between(&listed, "AttachmentCount"), ["1"]);
    let aws = call(&mut f, &c, "ListPolicies", &[("Scope", "AWS")]).unwrap();
    assert!(between(&aws, "PolicyName").contains(&"AmazonS3ReadOnlyAccess"));
    // Deleted last: not while attached, not while it has other versions.
    let e = call(&mut f, &c, "DeletePolicy", &[("PolicyArn", &arn)]).unwrap_err();
    assert_eq!(e.code, "DeleteConflict");
    call(
        &mut f,
        &c,
        "DetachUserPolicy",
        &[("UserName", "bob"), ("PolicyArn", &arn)],
    )
    .unwrap();
    let e = call(&mut f, &c, "DeletePolicy", &[("PolicyArn", &arn)]).unwrap_err();
    assert!(e.message.contains("versions"), "{e:?}");
    call(
        &mut f,
        &c,
        "DeletePolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v1")],
    )
    .unwrap();
    call(&mut f, &c, "DeletePolicy", &[("PolicyArn", &arn)]).unwrap();
    let e = call(&mut f, &c, "GetPolicy", &[("PolicyArn", &arn)]).unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    Identity::from_file(f).unwrap();
}

#[test]
fn tags_are_checked_and_merged() {
    let mut f = file();
    let c = admin();
    call(
        &mut f,
        &c,
        "CreateUser",
        &[
            ("UserName", "bob"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "TagUser",
        &[
            ("UserName", "bob"),
            ("Tags.member.1.Key", "tier"),
            ("Tags.member.1.Value", "gold"),
        ],
    )
    .unwrap();
    let listed = call(&mut f, &c, "ListUserTags", &[("UserName", "bob")]).unwrap();
    assert_eq!(between(&listed, "Key"), ["team", "tier"]);
    call(
        &mut f,
        &c,
        "UntagUser",
        &[("UserName", "bob"), ("TagKeys.member.1", "team")],
    )
    .unwrap();
    let listed = call(&mut f, &c, "ListUserTags", &[("UserName", "bob")]).unwrap();
    assert_eq!(between(&listed, "Key"), ["tier"]);
    let e = call(
        &mut f,
        &c,
        "TagUser",
        &[
            ("UserName", "bob"),
            ("Tags.member.1.Key", "aws:x"),
            ("Tags.member.1.Value", "y"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError");
    let many: Vec<(String, String)> = (1..=50)
        .flat_map(|i| {
            [
                (format!("Tags.member.{i}.Key"), format!("k{i}")),
                (format!("Tags.member.{i}.Value"), "v".to_string()),
            ]
        })
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("UserName", "bob")];
    params.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let e = call(&mut f, &c, "TagUser", &params).unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (409, "LimitExceeded"),
        "50 new and 1 kept is 51"
    );
}

#[test]
fn a_managed_permissions_boundary_caps_what_policies_allow() {
    let mut f = file();
    let c = admin();
    let readonly = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let e = call(
        &mut f,
        &c,
        "CreateUser",
        &[
            ("UserName", "bob"),
            (
                "PermissionsBoundary",
                "arn:aws:iam::123456789012:policy/none",
            ),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    let made = call(
        &mut f,
        &c,
        "CreateUser",
        &[("UserName", "bob"), ("PermissionsBoundary", readonly)],
    )
    .unwrap();
    assert_eq!(between(&made, "PermissionsBoundaryArn"), [readonly]);
    call(
        &mut f,
        &c,
        "AttachUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .unwrap();
    assert!(bob_may(&f, "s3:GetObject") && !bob_may(&f, "s3:PutObject"));
    // Listed without it; the policy is not deleted while it bounds someone.
    let listed = call(&mut f, &c, "ListUsers", &[]).unwrap();
    assert!(!listed.contains("PermissionsBoundary"));
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
    let own = call(
        &mut f,
        &c,
        "CreatePolicy",
        &[("PolicyName", "s3"), ("PolicyDocument", doc)],
    )
    .unwrap();
    let own = between(&own, "Arn")[0].to_string();
    call(
        &mut f,
        &c,
        "PutUserPermissionsBoundary",
        &[("UserName", "bob"), ("PermissionsBoundary", &own)],
    )
    .unwrap();
    assert!(bob_may(&f, "s3:PutObject"));
    let e = call(&mut f, &c, "DeletePolicy", &[("PolicyArn", &own)]).unwrap_err();
    assert_eq!(e.code, "DeleteConflict");
    call(
        &mut f,
        &c,
        "DeleteUserPermissionsBoundary",
        &[("UserName", "bob")],
    )
    .unwrap();
    call(&mut f, &c, "DeletePolicy", &[("PolicyArn", &own)]).unwrap();
    assert!(bob_may(&f, "s3:PutObject") && bob_may(&f, "iam:CreateUser"));
}

#[test]
fn signing_certificates_are_checked_kept_and_counted_as_iam_does() {
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    let certs = super::certificates::tests::test_certs();
    let e = call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "bob"), ("CertificateBody", "notacert")],
    )
    .unwrap_err();
    assert_eq!(e.code, "MalformedCertificate");
    let up = call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "bob"), ("CertificateBody", &certs[0])],
    )
    .unwrap();
    let id = between(&up, "CertificateId")[0].to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert_eq!(between(&up, "Status"), ["Active"]);
    assert_eq!(between(&up, "CertificateBody")[0], certs[0]);
    // The same certificate for another user of the account: refused.
    call(&mut f, &c, "CreateUser", &[("UserName", "carol")]).unwrap();
    let e = call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "carol"), ("CertificateBody", certs[0].trim())],
    )
    .unwrap_err();
    assert_eq!((e.status, e.code), (409, "DuplicateCertificate"));
    // Two per user.
    call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "bob"), ("CertificateBody", &certs[1])],
    )
    .unwrap();
    let e = call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "bob"), ("CertificateBody", &certs[2])],
    )
    .unwrap_err();
    assert_eq!(e.code, "LimitExceeded");
    assert_eq!(e.message, "Cannot exceed quota for CertificatesPerUser: 2");

    call(
        &mut f,
        &c,
        "UpdateSigningCertificate",
        &[
            ("UserName", "bob"),
            ("CertificateId", &id),
            ("Status", "Inactive"),
        ],
    )
    .unwrap();
    let listed = call(
        &mut f,
        &c,
        "ListSigningCertificates",
        &[("UserName", "bob")],
    )
    .unwrap();
    assert_eq!(between(&listed, "Status"), ["Inactive", "Active"]);
    let e = call(
        &mut f,
        &c,
        "UpdateSigningCertificate",
        &[
            ("UserName", "bob"),
            ("CertificateId", "X"),
            ("Status", "Active"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.message, "The Certificate with id X cannot be found.");
    // A user with certificates is not deleted; the certificates go first.
    let e = call(&mut f, &c, "DeleteUser", &[("UserName", "bob")]).unwrap_err();
    assert_eq!(e.code, "DeleteConflict");
    for cert_id in between(&listed, "CertificateId") {
        call(
            &mut f,
            &c,
            "DeleteSigningCertificate",
            &[("UserName", "bob"), ("CertificateId", cert_id)],
        )
        .unwrap();
    }
    call(&mut f, &c, "DeleteUser", &[("UserName", "bob")]).unwrap();
    let e = call(
        &mut f,
        &c,
        "ListSigningCertificates",
        &[("UserName", "bob")],
    )
    .unwrap_err();
    assert_eq!(e.message, "The user with name bob cannot be found.");
}

#[test]
fn the_credential_report_lists_every_user_and_their_keys_and_certificates() {
    let mut f = file();
    let c = admin();
    let e = call(&mut f, &c, "GetCredentialReport", &[]).unwrap_err();
    assert_eq!((e.status, e.code), (410, "ReportNotPresent"));
    let g = call(&mut f, &c, "GenerateCredentialReport", &[]).unwrap();
    assert_eq!(between(&g, "State"), ["STARTED"]);
    let g = call(&mut f, &c, "GenerateCredentialReport", &[]).unwrap();
    assert_eq!(between(&g, "State"), ["COMPLETE"]);

    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    call(&mut f, &c, "CreateAccessKey", &[("UserName", "bob")]).unwrap();
    let certs = super::certificates::tests::test_certs();
    let up = call(
        &mut f,
        &c,
        "UploadSigningCertificate",
        &[("UserName", "bob"), ("CertificateBody", &certs[0])],
    )
    .unwrap();
    let cert = between(&up, "CertificateId")[0].to_string();
    call(
        &mut f,
        &c,
        "UpdateSigningCertificate",
        &[
            ("UserName", "bob"),
            ("CertificateId", &cert),
            ("Status", "Inactive"),
        ],
    )
    .unwrap();
    let got = call(&mut f, &c, "GetCredentialReport", &[]).unwrap();
    assert_eq!(between(&got, "ReportFormat"), ["text/csv"]);
    use base64::Engine;
    let csv = base64::engine::general_purpose::STANDARD
        .decode(between(&got, "Content")[0])
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let header = &rows[0];
    assert_eq!(header.len(), 22);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(rows[1][0], "<root_account>");
    let bob = rows.iter().find(|r| r[0] == "bob").unwrap();
    assert_eq!(bob[col("arn")], "arn:aws:iam::123456789012:user/bob");
    assert_eq!(bob[col("user_creation_time")], "2026-12-05T10:00:00+00:00");
    assert_eq!(bob[col("access_key_1_active")], "true");
    assert_eq!(bob[col("access_key_2_active")], "false");
    assert_eq!(
        bob[col("cert_1_active")],
        "false",
        "the certificate was made inactive"
    );
    assert_eq!(bob[col("cert_1_last_rotated")], "2026-12-05T10:00:00+00:00");
    assert_eq!(bob[col("password_enabled")], "false");
}

#[test]
fn the_authorization_details_show_the_whole_account_and_filter_by_kind() {
    let mut f = file();
    let c = admin();
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}"#;
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "sts:AssumeRole"}]}"#;
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    call(&mut f, &c, "CreateGroup", &[("GroupName", "readers")]).unwrap();
    call(
        &mut f,
        &c,
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "bob")],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "PutUserPolicy",
        &[
            ("UserName", "bob"),
            ("PolicyName", "list"),
            ("PolicyDocument", doc),
        ],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "CreatePolicy",
        &[("PolicyName", "mine"), ("PolicyDocument", doc)],
    )
    .unwrap();
    let mine = "arn:aws:iam::123456789012:policy/mine";
    call(
        &mut f,
        &c,
        "AttachGroupPolicy",
        &[("GroupName", "readers"), ("PolicyArn", mine)],
    )
    .unwrap();
    call(
        &mut f,
        &c,
        "CreateRole",
        &[
            ("RoleName", "deployer"),
            ("AssumeRolePolicyDocument", trust),
            (
                "PermissionsBoundary",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ),
        ],
    )
    .unwrap();

    let all = call(&mut f, &c, "GetAccountAuthorizationDetails", &[]).unwrap();
    let users = between(&all, "UserDetailList")[0];
    assert!(users.contains("<UserName>bob</UserName>"), "{users}");
    assert!(
        users.contains("<GroupList><member>readers</member></GroupList>"),
        "{users}"
    );
    assert!(users.contains("<PolicyName>list</PolicyName>"), "{users}");
    let groups = between(&all, "GroupDetailList")[0];
    assert!(
        groups.contains(&format!("<PolicyArn>{mine}</PolicyArn>")),
        "{groups}"
    );
    let roles = between(&all, "RoleDetailList")[0];
    assert!(
        roles.contains(
            "<PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>"
        ),
        "{roles}"
    );
    assert!(roles.contains("<AssumeRolePolicyDocument>"), "{roles}");
    // The account's policy with its versions, and the AWS-managed one in use (as a boundary).
    let policies = between(&all, "Policies")[0];
    assert!(
        policies.contains("<PolicyName>mine</PolicyName>"),
        "{policies}"
    );
    assert!(policies.contains("<PolicyVersionList>"), "{policies}");
    assert!(policies.contains("AmazonS3ReadOnlyAccess"), "{policies}");
    assert!(
        !policies.contains("IAMReadOnlyAccess"),
        "an AWS policy nothing uses is not listed"
    );

    let only_roles = call(
        &mut f,
        &c,
        "GetAccountAuthorizationDetails",
        &[("Filter.member.1", "Role")],
    )
    .unwrap();
    assert!(
        only_roles.contains("<UserDetailList></UserDetailList>"),
        "{only_roles}"
    );
    assert!(only_roles.contains("<Policies></Policies>"), "{only_roles}");
    assert!(
        only_roles.contains("<RoleName>deployer</RoleName>"),
        "{only_roles}"
    );
    let e = call(
        &mut f,
        &c,
        "GetAccountAuthorizationDetails",
        &[("Filter.member.1", "Users")],
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationError");
}

#[test]
fn a_keys_last_use_is_answered_from_what_the_server_recorded() {
    use crate::identity::{IdentityStore, UserEntry};
    let mut f = file();
    let c = admin();
    call(&mut f, &c, "CreateUser", &[("UserName", "bob")]).unwrap();
    let made = call(&mut f, &c, "CreateAccessKey", &[("UserName", "bob")]).unwrap();
    let key = between(&made, "AccessKeyId")[0].to_string();
    f.roles.push(crate::identity::reader_role_trusting_admin());
    // A key of no user of the account, and one never used.
    let e = call(
        &mut f,
        &c,
        "GetAccessKeyLastUsed",
        &[("AccessKeyId", "AKIANOSUCHKEY0000000")],
    )
    .unwrap_err();
    assert_eq!((e.status, e.code), (404, "NoSuchEntity"));
    let unused = call(&mut f, &c, "GetAccessKeyLastUsed", &[("AccessKeyId", &key)]).unwrap();
    assert_eq!(between(&unused, "UserName"), ["bob"]);
    assert_eq!(between(&unused, "ServiceName"), ["N/A"]);
    assert_eq!(between(&unused, "Region"), ["N/A"]);
    assert!(between(&unused, "LastUsedDate").is_empty(), "{unused}");
    let got = call(&mut f, &c, "GetRole", &[("RoleName", "Reader")]).unwrap();
    assert!(got.contains("<RoleLastUsed/>"), "{got}");

    // The server records bob's key used with DynamoDB in eu-west-1, and a session of Reader.
    let store = IdentityStore::new(Identity::from_file(f.clone()).unwrap(), None, ACCOUNT);
    let bob = Principal::User(crate::identity::user_arn(&UserEntry {
        account: ACCOUNT.into(),
        name: "bob".into(),
        ..UserEntry::default()
    }));
    store.record_use(&key, &bob, "dynamodb", "eu-west-1");
    let reader = seedbed_engine::iam::authorizer::Session {
        arn: "arn:aws:sts::123456789012:assumed-role/Reader/s1".into(),
        role_arn: "arn:aws:iam::123456789012:role/Reader".into(),
        session_name: "s1".into(),
        session_policies: None,
        tags: Default::default(),
        expires_unix_ms: u64::MAX,
    };
    store.record_use(
        "ASIASESSION",
        &Principal::Session(reader),
        "s3",
        "us-east-1",
    );
    // Without an IAM file the uses stay in memory, and the IAM API's reads see them.
    store.flush_uses().unwrap();
    let mut view = store.file_with_uses();
    let used = call(
        &mut view,
        &c,
        "GetAccessKeyLastUsed",
        &[("AccessKeyId", &key)],
    )
    .unwrap();
    assert_eq!(between(&used, "ServiceName"), ["dynamodb"]);
    assert_eq!(between(&used, "Region"), ["eu-west-1"]);
    let date = between(&used, "LastUsedDate")[0].to_string();
    assert!(date.ends_with('Z') && date.len() == 20, "{date}");
    let got = call(&mut view, &c, "GetRole", &[("RoleName", "Reader")]).unwrap();
    assert_eq!(between(&got, "LastUsedDate"), [date.as_str()]);
    assert_eq!(between(&got, "Region"), ["us-east-1"]);
    // The credential report's columns say the same.
    call(&mut view, &c, "GenerateCredentialReport", &[]).unwrap();
    let report = call(&mut view, &c, "GetCredentialReport", &[]).unwrap();
    use base64::Engine;
    let csv = base64::engine::general_purpose::STANDARD
        .decode(between(&report, "Content")[0])
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    let bob = rows.iter().find(|r| r[0] == "bob").unwrap();
    assert_eq!(bob[col("access_key_1_last_used_service")], "dynamodb");
    assert_eq!(bob[col("access_key_1_last_used_region")], "eu-west-1");
    assert_eq!(
        bob[col("access_key_1_last_used_date")],
        date.replace('Z', "+00:00")
    );
    let admin_row = rows.iter().find(|r| r[0] == "admin").unwrap();
    assert_eq!(admin_row[col("access_key_1_last_used_date")], "N/A");
}
