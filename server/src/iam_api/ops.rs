//! The IAM actions served, each a read of or an edit to the IAM file, answering the inside of
//! its `<…Result>` element.
//!
//! As at AWS: every action works in the caller's own account; user, group and role names are
//! unique and looked up without regard to case (`bob` finds `Bob`); IDs are minted once and
//! kept across renames; an entity is deleted only once nothing hangs on it (DeleteConflict);
//! a user has at most two access keys; inline policies count against IAM's size quotas
//! (2,048 / 5,120 / 10,240 characters, not counting white space, for a user's / group's /
//! role's policies together). Omitting `UserName` on access-key actions (and on GetUser) means
//! the caller itself, the account root user included.

use std::collections::BTreeMap;

use seedbed_engine::iam::{Policy, PolicyKind};
use serde_json::Value;

use crate::identity::file::PolicyDoc;
use crate::identity::{self, GroupEntry, IamFile, InlinePolicy, RoleEntry, UserEntry};

use super::render::{self, element, members, page, truncation};
use super::IamError;

/// Who calls: the account every action works in, and the user itself when the caller is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The caller's account.
    pub account: String,
    /// The caller's user name, when an IAM user signed.
    pub user: Option<String>,
    /// Whether the account's root user signed.
    pub root: bool,
}

/// A request's parameters (the form's name/value pairs).
pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, which the action needs.
    pub fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// A list parameter: `NAME.member.1`, `NAME.member.2`, … in their numbers' order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, v.clone())))
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub(super) fn tags(&self) -> Result<BTreeMap<String, String>, IamError> {
        let mut keys = BTreeMap::new();
        let mut values = BTreeMap::new();
        for (k, v) in self.0 {
            let Some(rest) = k.strip_prefix("Tags.member.") else {
                continue;
            };
            if let Some(n) = rest.strip_suffix(".Key") {
                keys.insert(n.to_string(), v.clone());
            } else if let Some(n) = rest.strip_suffix(".Value") {
                values.insert(n.to_string(), v.clone());
            }
        }
        let mut tags = BTreeMap::new();
        for (n, k) in keys {
            let v = values.remove(&n).unwrap_or_default();
            check_tag(&k, &v)?;
            tags.insert(k, v);
        }
        if tags.len() > TAGS_MAX {
            return Err(IamError::limit(format!(
                "an IAM user or role has at most {TAGS_MAX} tags"
            )));
        }
        Ok(tags)
    }
}

/// The most tags a user or role may have.
pub(super) const TAGS_MAX: usize = 50;

/// A tag as IAM takes it: a key of 1 to 128 characters not beginning `aws:`, a value of at most
/// 256, both of letters, digits, white space and `_ . : / = + - @`.
pub(super) fn check_tag(key: &str, value: &str) -> Result<(), IamError> {
    let chars_ok = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    let key_ok = (1..=128).contains(&key.chars().count())
        && chars_ok(key)
        && !key.to_ascii_lowercase().starts_with("aws:");
    if !key_ok {
        return Err(IamError::validation(format!(
            "tag key `{key}` is not valid: 1 to 128 letters, digits, spaces and _.:/=+-@, not beginning aws:"
        )));
    }
    if value.chars().count() > 256 || !chars_ok(value) {
        return Err(IamError::validation(format!(
            "tag value `{value}` of key `{key}` is not valid: at most 256 letters, digits, spaces and _.:/=+-@"
        )));
    }
    Ok(())
}

/// What kind of entity a policy action names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A user (`UserName`).
    User,
    /// A group (`GroupName`).
    Group,
    /// A role (`RoleName`).
    Role,
}

impl Kind {
    pub(super) fn of(action: &str) -> Option<Kind> {
        if action.contains("User") {
            Some(Kind::User)
        } else if action.contains("Group") {
            Some(Kind::Group)
        } else if action.contains("Role") {
            Some(Kind::Role)
        } else {
            None
        }
    }

    pub(super) fn word(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Role => "Role",
        }
    }

    pub(super) fn param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Group => "GroupName",
            Kind::Role => "RoleName",
        }
    }

    /// IAM's quota on an entity's inline policies together, in non-white-space characters.
    pub(super) fn quota(self) -> usize {
        match self {
            Kind::User => 2048,
            Kind::Group => 5120,
            Kind::Role => 10240,
        }
    }
}

/// The actions served that only read.
pub const READS: &[&str] = &[
    "GetAccountSummary",
    "GetCredentialReport",
    "GetAccountAuthorizationDetails",
    "GetUser",
    "ListUsers",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
    "ListSigningCertificates",
    "GetGroup",
    "ListGroups",
    "ListGroupsForUser",
    "GetRole",
    "ListRoles",
    "GetUserPolicy",
    "ListUserPolicies",
    "ListAttachedUserPolicies",
    "GetGroupPolicy",
    "ListGroupPolicies",
    "ListAttachedGroupPolicies",
    "GetRolePolicy",
    "ListRolePolicies",
    "ListAttachedRolePolicies",
    "ListUserTags",
    "ListRoleTags",
];

/// The actions served that change the file.
pub const EDITS: &[&str] = &[
    "GenerateCredentialReport",
    "CreateUser",
    "UpdateUser",
    "DeleteUser",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "UploadSigningCertificate",
    "UpdateSigningCertificate",
    "DeleteSigningCertificate",
    "CreateGroup",
    "UpdateGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "CreateRole",
    "UpdateRole",
    "UpdateAssumeRolePolicy",
    "DeleteRole",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "PutGroupPolicy",
    "DeleteGroupPolicy",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "TagUser",
    "UntagUser",
    "TagRole",
    "UntagRole",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
];

pub(super) fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A user, group or role name: 1 to 64 of `A-Z a-z 0-9 +=,.@_-`.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), IamError> {
    if identity::is_iam_name(name, 64) {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "{what} `{name}` is not valid: 1 to 64 of A-Z a-z 0-9 and +=,.@_-"
        )))
    }
}

/// A policy name: 1 to 128 of the same characters.
pub(super) fn check_policy_name(name: &str) -> Result<(), IamError> {
    if identity::is_iam_name(name, 128) {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "PolicyName `{name}` is not valid: 1 to 128 of A-Z a-z 0-9 and +=,.@_-"
        )))
    }
}

/// A path: `/`, or `/` + printable ASCII + `/`, at most 512 characters. `None` stands for `/`.
pub(super) fn check_path(what: &str, path: Option<&str>) -> Result<Option<String>, IamError> {
    let Some(p) = path else { return Ok(None) };
    let ok = p.len() <= 512
        && p.starts_with('/')
        && p.ends_with('/')
        && p.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !ok {
        return Err(IamError::validation(format!(
            "{what} `{p}` is not valid: it begins and ends with / and holds printable ASCII, at most 512 characters"
        )));
    }
    Ok((p != "/").then(|| p.to_string()))
}

/// A policy document from a request: JSON, a valid policy of `kind`, kept as written.
pub(super) fn document(text: &str, kind: PolicyKind) -> Result<PolicyDoc, IamError> {
    let syntax =
        |e: serde_json::Error| IamError::malformed(format!("Syntax errors in policy: {e}"));
    let v: Value = serde_json::from_str(text).map_err(syntax)?;
    Policy::from_value(&v, kind).map_err(|e| IamError::malformed(e.to_string()))?;
    PolicyDoc::from_text(text).map_err(syntax)
}

/// A policy's size as IAM's quotas count it: characters other than white space.
pub(super) fn size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

pub(super) fn no_such(kind: Kind, name: &str) -> IamError {
    IamError::no_such(format!(
        "The {} with name {name} cannot be found.",
        kind.word().to_ascii_lowercase()
    ))
}

/// A user, group or role: what the lookups find it by.
pub(super) trait Entity {
    /// Which kind (for "cannot be found" messages).
    const KIND: Kind;
    /// Its account.
    fn account(&self) -> &str;
    /// Its name.
    fn name(&self) -> &str;
    /// Its path (`None` for `/`).
    fn path(&self) -> &Option<String>;
}

macro_rules! entity {
    ($t:ty, $kind:expr) => {
        impl Entity for $t {
            const KIND: Kind = $kind;
            fn account(&self) -> &str {
                &self.account
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &Option<String> {
                &self.path
            }
        }
    };
}
entity!(UserEntry, Kind::User);
entity!(GroupEntry, Kind::Group);
entity!(RoleEntry, Kind::Role);

/// The entity of `account` called `name` (without regard to case), or NoSuchEntity.
pub(super) fn find<'a, T: Entity>(
    list: &'a [T],
    account: &str,
    name: &str,
) -> Result<&'a T, IamError> {
    list.iter()
        .find(|e| e.account() == account && same(e.name(), name))
        .ok_or_else(|| no_such(T::KIND, name))
}

/// The same, to change.
pub(super) fn find_mut<'a, T: Entity>(
    list: &'a mut [T],
    account: &str,
    name: &str,
) -> Result<&'a mut T, IamError> {
    list.iter_mut()
        .find(|e| e.account() == account && same(e.name(), name))
        .ok_or_else(|| no_such(T::KIND, name))
}

pub(super) fn user<'a>(
    f: &'a IamFile,
    account: &str,
    name: &str,
) -> Result<&'a UserEntry, IamError> {
    find(&f.users, account, name)
}

pub(super) fn user_mut<'a>(
    f: &'a mut IamFile,
    account: &str,
    name: &str,
) -> Result<&'a mut UserEntry, IamError> {
    find_mut(&mut f.users, account, name)
}

pub(super) fn group<'a>(
    f: &'a IamFile,
    account: &str,
    name: &str,
) -> Result<&'a GroupEntry, IamError> {
    find(&f.groups, account, name)
}

pub(super) fn role<'a>(
    f: &'a IamFile,
    account: &str,
    name: &str,
) -> Result<&'a RoleEntry, IamError> {
    find(&f.roles, account, name)
}

/// An entity's inline and attached policies.
pub(super) fn policy_lists<'a>(
    f: &'a mut IamFile,
    kind: Kind,
    account: &str,
    name: &str,
) -> Result<(&'a mut Vec<InlinePolicy>, &'a mut Vec<String>), IamError> {
    Ok(match kind {
        Kind::User => {
            let u = find_mut(&mut f.users, account, name)?;
            (&mut u.policies, &mut u.managed)
        }
        Kind::Group => {
            let g = find_mut(&mut f.groups, account, name)?;
            (&mut g.policies, &mut g.managed)
        }
        Kind::Role => {
            let r = find_mut(&mut f.roles, account, name)?;
            (&mut r.policies, &mut r.managed)
        }
    })
}

/// One page of the entities in `items` whose path begins with `prefix`, sorted by name
/// without regard to case (IAM's order), after the request's `Marker`: `<NAME>` with a member
/// each (rendered by `render`), then `IsTruncated` and the next `Marker`.
pub(super) fn list_xml<'a, T: Entity + 'a>(
    name: &str,
    items: impl Iterator<Item = &'a T>,
    prefix: &str,
    p: &Params,
    render: impl Fn(&T) -> String,
) -> Result<String, IamError> {
    let mut items: Vec<&T> = items
        .filter(|t| t.path().as_deref().unwrap_or("/").starts_with(prefix))
        .collect();
    items.sort_by_key(|t| t.name().to_ascii_lowercase());
    let (items, next) = page(
        items,
        |t| t.name().to_ascii_lowercase(),
        p.get("Marker"),
        p.get("MaxItems"),
    )?;
    Ok(members(name, items.into_iter().map(render)) + &truncation(&next))
}

/// The ARN IAM authorizes `action` against: the user, group or role it names (the caller
/// itself when an access-key action names no user), or the account's users, groups or roles
/// for a list.
pub fn target(f: &IamFile, c: &Caller, action: &str, p: &Params) -> String {
    let account = &c.account;
    if action.ends_with("OpenIDConnectProvider") || action.ends_with("OpenIDConnectProviders") {
        return super::oidc::target(c, action, p);
    }
    if super::managed_policies::MANAGED_READS.contains(&action)
        || super::managed_policies::MANAGED_EDITS.contains(&action)
    {
        return super::managed_policies::managed_target(c, action, p);
    }
    match action {
        "GetAccountSummary"
        | "GenerateCredentialReport"
        | "GetCredentialReport"
        | "GetAccountAuthorizationDetails" => return "*".into(),
        "ListUsers" => return format!("arn:aws:iam::{account}:user/*"),
        "ListGroups" => return format!("arn:aws:iam::{account}:group/*"),
        "ListRoles" => return format!("arn:aws:iam::{account}:role/*"),
        // Authorized on the key's owner, whom only the key names.
        "GetAccessKeyLastUsed" => {
            return match super::users::key_owner(f, account, p.get("AccessKeyId").unwrap_or("")) {
                Some(Some(u)) => identity::user_arn(u),
                _ => format!("arn:aws:iam::{account}:root"),
            }
        }
        _ => {}
    }
    // Membership is authorized on the group.
    let kind = if action.ends_with("UserToGroup") || action.ends_with("UserFromGroup") {
        Kind::Group
    } else if action.contains("AccessKey") || action.contains("SigningCertificate") {
        Kind::User
    } else {
        match Kind::of(action) {
            Some(k) => k,
            None => return "*".into(),
        }
    };
    let Some(name) = p.get(kind.param()).or(match kind {
        Kind::User => c.user.as_deref(),
        _ => None,
    }) else {
        return format!("arn:aws:iam::{account}:root");
    };
    let new_path = p.get("Path").unwrap_or("/");
    match kind {
        Kind::User => user(f, account, name)
            .map(identity::user_arn)
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:user{new_path}{name}")),
        Kind::Group => group(f, account, name)
            .map(identity::group_arn_of)
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:group{new_path}{name}")),
        Kind::Role => role(f, account, name)
            .map(identity::role_arn_of)
            .unwrap_or_else(|_| format!("arn:aws:iam::{account}:role{new_path}{name}")),
    }
}

/// Run `action` on `f` for `c`; `now` is ISO 8601 UTC.
pub fn run(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    if super::oidc::READS.contains(&action) || super::oidc::EDITS.contains(&action) {
        return super::oidc::run(f, c, action, p, now);
    }
    if super::managed_policies::MANAGED_READS.contains(&action)
        || super::managed_policies::MANAGED_EDITS.contains(&action)
    {
        return super::managed_policies::managed_policy(f, c, action, p, now);
    }
    match action {
        "GetAccountSummary" => Ok(account_summary(f, c)),
        "GenerateCredentialReport" => super::credential_report::generate(f, c, now),
        "GetCredentialReport" => super::credential_report::get(f, c),
        "GetAccountAuthorizationDetails" => super::authorization_details::details(f, c, p),
        "CreateUser" => super::users::create_user(f, c, p, now),
        "GetUser" => super::users::get_user(f, c, p),
        "ListUsers" => list_xml(
            "Users",
            f.users.iter().filter(|u| u.account == c.account),
            p.get("PathPrefix").unwrap_or("/"),
            p,
            |u| render::user(u, render::Shape::Listed),
        ),
        "UpdateUser" => super::users::update_user(f, c, p),
        "DeleteUser" => super::users::delete_user(f, c, p),
        "CreateAccessKey" | "UpdateAccessKey" | "DeleteAccessKey" | "ListAccessKeys" => {
            super::users::access_keys(f, c, action, p, now)
        }
        "GetAccessKeyLastUsed" => super::users::access_key_last_used(f, c, p),
        "UploadSigningCertificate"
        | "UpdateSigningCertificate"
        | "DeleteSigningCertificate"
        | "ListSigningCertificates" => {
            super::certificates::signing_certificates(f, c, action, p, now)
        }
        "CreateGroup" => super::groups::create_group(f, c, p, now),
        "GetGroup" => {
            let g = group(f, &c.account, p.required("GroupName")?)?;
            let members = f
                .users
                .iter()
                .filter(|u| u.account == c.account && u.groups.contains(&g.name));
            Ok(format!("<Group>{}</Group>", render::group(g))
                + &list_xml("Users", members, "/", p, |u| {
                    render::user(u, render::Shape::Listed)
                })?)
        }
        "ListGroups" => list_xml(
            "Groups",
            f.groups.iter().filter(|g| g.account == c.account),
            p.get("PathPrefix").unwrap_or("/"),
            p,
            render::group,
        ),
        "ListGroupsForUser" => {
            let u = user(f, &c.account, p.required("UserName")?)?;
            let groups = f
                .groups
                .iter()
                .filter(|g| g.account == c.account && u.groups.contains(&g.name));
            list_xml("Groups", groups, "/", p, render::group)
        }
        "UpdateGroup" => super::groups::update_group(f, c, p),
        "DeleteGroup" => super::groups::delete_group(f, c, p),
        "AddUserToGroup" | "RemoveUserFromGroup" => super::groups::membership(f, c, action, p),
        "CreateRole" => super::roles::create_role(f, c, p, now),
        "GetRole" => {
            let r = role(f, &c.account, p.required("RoleName")?)?;
            Ok(format!(
                "<Role>{}{}</Role>",
                render::role(r, render::Shape::Full),
                render::role_last_used(r)
            ))
        }
        "ListRoles" => list_xml(
            "Roles",
            f.roles.iter().filter(|r| r.account == c.account),
            p.get("PathPrefix").unwrap_or("/"),
            p,
            |r| render::role(r, render::Shape::Listed),
        ),
        "UpdateRole" | "UpdateAssumeRolePolicy" => super::roles::update_role(f, c, action, p),
        "PutUserPermissionsBoundary" | "DeleteUserPermissionsBoundary" => {
            super::policies::permissions_boundary(f, c, Kind::User, action, p)
        }
        "PutRolePermissionsBoundary" | "DeleteRolePermissionsBoundary" => {
            super::policies::permissions_boundary(f, c, Kind::Role, action, p)
        }
        "TagUser" | "UntagUser" | "ListUserTags" => {
            super::users::tagging(f, c, Kind::User, action, p)
        }
        "TagRole" | "UntagRole" | "ListRoleTags" => {
            super::users::tagging(f, c, Kind::Role, action, p)
        }
        "DeleteRole" => super::roles::delete_role(f, c, p),
        // The policy actions of the three kinds: inline (Put/Get/Delete/List…Policy|Policies)
        // and attached (Attach/Detach/ListAttached…).
        _ => match Kind::of(action) {
            Some(kind) if is_attachment(action) => super::policies::attached(f, c, kind, action, p),
            Some(kind)
                if action.ends_with(&format!("{}Policy", kind.word()))
                    || action.ends_with(&format!("{}Policies", kind.word())) =>
            {
                super::policies::inline_policy(f, c, kind, action, p)
            }
            _ => Err(IamError::invalid_action(action)),
        },
    }
}

fn is_attachment(action: &str) -> bool {
    action.starts_with("Attach")
        || action.starts_with("Detach")
        || action.starts_with("ListAttached")
}

/// IAM's quotas, as GetAccountSummary reports them (the ones this server enforces are the
/// access keys and signing certificates per user, the inline policy sizes, attached policies and groups per user).
const QUOTAS: &[(&str, usize)] = &[
    ("AccessKeysPerUserQuota", 2),
    ("AttachedPoliciesPerGroupQuota", ATTACHED_MAX),
    ("AttachedPoliciesPerRoleQuota", ATTACHED_MAX),
    ("AttachedPoliciesPerUserQuota", ATTACHED_MAX),
    ("GroupPolicySizeQuota", 5120),
    ("GroupsPerUserQuota", GROUPS_PER_USER_MAX),
    ("GroupsQuota", 300),
    ("PoliciesQuota", 1500),
    ("RolePolicySizeQuota", 10240),
    ("RolesQuota", 1000),
    (
        "SigningCertificatesPerUserQuota",
        super::certificates::PER_USER,
    ),
    ("UserPolicySizeQuota", 2048),
    ("UsersQuota", 5000),
];

/// The most managed policies one user, group or role may have attached.
pub(super) const ATTACHED_MAX: usize = 10;

/// The most groups one user may be in.
pub(super) const GROUPS_PER_USER_MAX: usize = 10;

/// GetAccountSummary: how many of each entity the account has, and IAM's quotas.
fn account_summary(f: &IamFile, c: &Caller) -> String {
    let mine = |a: &str| a == c.account;
    let root_keys = f
        .accounts
        .get(&c.account)
        .is_some_and(|a| !a.root_access_keys.is_empty());
    let mut entries: Vec<(&str, usize)> = vec![
        ("AccountAccessKeysPresent", usize::from(root_keys)),
        ("AccountMFAEnabled", 0),
        (
            "Groups",
            f.groups.iter().filter(|g| mine(&g.account)).count(),
        ),
        (
            "Policies",
            f.managed_policies
                .iter()
                .filter(|m| mine(&m.account))
                .count(),
        ),
        (
            "Providers",
            f.oidc_providers.iter().filter(|o| mine(&o.account)).count(),
        ),
        ("Roles", f.roles.iter().filter(|r| mine(&r.account)).count()),
        ("Users", f.users.iter().filter(|u| mine(&u.account)).count()),
    ];
    entries.extend_from_slice(QUOTAS);
    entries.sort();
    let inner: String = entries
        .iter()
        .map(|(k, v)| {
            format!(
                "<entry>{}{}</entry>",
                element("key", k),
                element("value", &v.to_string())
            )
        })
        .collect();
    format!("<SummaryMap>{inner}</SummaryMap>")
}
