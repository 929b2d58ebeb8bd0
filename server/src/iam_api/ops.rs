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
use crate::identity::{
    self, keys, managed, AccessKey, GroupEntry, IamFile, InlinePolicy, KeyStatus, RoleEntry,
    UserEntry,
};

use super::render::{self, element, members, page, truncation};
use super::IamError;
use seedbed_dynamo::sts::escape;

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
    fn tags(&self) -> Result<BTreeMap<String, String>, IamError> {
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
            tags.insert(k, v);
        }
        if tags.len() > 50 {
            return Err(IamError::limit("an IAM entity has at most 50 tags"));
        }
        Ok(tags)
    }
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
    fn of(action: &str) -> Option<Kind> {
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

    fn word(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Role => "Role",
        }
    }

    fn param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Group => "GroupName",
            Kind::Role => "RoleName",
        }
    }

    /// IAM's quota on an entity's inline policies together, in non-white-space characters.
    fn quota(self) -> usize {
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
    "GetUser",
    "ListUsers",
    "ListAccessKeys",
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
];

/// The actions served that change the file.
pub const EDITS: &[&str] = &[
    "CreateUser",
    "UpdateUser",
    "DeleteUser",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
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
];

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A user, group or role name: 1 to 64 of `A-Z a-z 0-9 +=,.@_-`.
fn check_name(what: &str, name: &str) -> Result<(), IamError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "{what} `{name}` is not valid: 1 to 64 of A-Z a-z 0-9 and +=,.@_-"
        )))
    }
}

/// A policy name: 1 to 128 of the same characters.
fn check_policy_name(name: &str) -> Result<(), IamError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "PolicyName `{name}` is not valid: 1 to 128 of A-Z a-z 0-9 and +=,.@_-"
        )))
    }
}

/// A path: `/`, or `/` + printable ASCII + `/`, at most 512 characters. `None` stands for `/`.
fn check_path(what: &str, path: Option<&str>) -> Result<Option<String>, IamError> {
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
fn document(text: &str, kind: PolicyKind) -> Result<PolicyDoc, IamError> {
    let syntax =
        |e: serde_json::Error| IamError::malformed(format!("Syntax errors in policy: {e}"));
    let v: Value = serde_json::from_str(text).map_err(syntax)?;
    Policy::from_value(&v, kind).map_err(|e| IamError::malformed(e.to_string()))?;
    PolicyDoc::from_text(text).map_err(syntax)
}

/// A policy's size as IAM's quotas count it: characters other than white space.
fn size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

fn no_such(kind: Kind, name: &str) -> IamError {
    IamError::no_such(format!(
        "The {} with name {name} cannot be found.",
        kind.word().to_ascii_lowercase()
    ))
}

fn user_mut<'a>(
    f: &'a mut IamFile,
    account: &str,
    name: &str,
) -> Result<&'a mut UserEntry, IamError> {
    f.users
        .iter_mut()
        .find(|u| u.account == account && same(&u.name, name))
        .ok_or_else(|| no_such(Kind::User, name))
}

fn user<'a>(f: &'a IamFile, account: &str, name: &str) -> Result<&'a UserEntry, IamError> {
    f.users
        .iter()
        .find(|u| u.account == account && same(&u.name, name))
        .ok_or_else(|| no_such(Kind::User, name))
}

fn group<'a>(f: &'a IamFile, account: &str, name: &str) -> Result<&'a GroupEntry, IamError> {
    f.groups
        .iter()
        .find(|g| g.account == account && same(&g.name, name))
        .ok_or_else(|| no_such(Kind::Group, name))
}

fn role<'a>(f: &'a IamFile, account: &str, name: &str) -> Result<&'a RoleEntry, IamError> {
    f.roles
        .iter()
        .find(|r| r.account == account && same(&r.name, name))
        .ok_or_else(|| no_such(Kind::Role, name))
}

/// An entity's inline and attached policies.
fn policy_lists<'a>(
    f: &'a mut IamFile,
    kind: Kind,
    account: &str,
    name: &str,
) -> Result<(&'a mut Vec<InlinePolicy>, &'a mut Vec<String>), IamError> {
    let found = match kind {
        Kind::User => f
            .users
            .iter_mut()
            .find(|u| u.account == account && same(&u.name, name))
            .map(|u| (&mut u.policies, &mut u.managed)),
        Kind::Group => f
            .groups
            .iter_mut()
            .find(|g| g.account == account && same(&g.name, name))
            .map(|g| (&mut g.policies, &mut g.managed)),
        Kind::Role => f
            .roles
            .iter_mut()
            .find(|r| r.account == account && same(&r.name, name))
            .map(|r| (&mut r.policies, &mut r.managed)),
    };
    found.ok_or_else(|| no_such(kind, name))
}

/// Items whose path begins with `prefix`, sorted by name without regard to case (IAM's
/// order), as one page after the request's `Marker`.
fn listed<T>(
    mut items: Vec<T>,
    name: impl Fn(&T) -> &str,
    path: impl Fn(&T) -> &Option<String>,
    prefix: &str,
    p: &Params,
) -> Result<(Vec<T>, Option<String>), IamError> {
    items.retain(|t| path(t).as_deref().unwrap_or("/").starts_with(prefix));
    items.sort_by_key(|t| name(t).to_ascii_lowercase());
    page(
        items,
        |t| name(t).to_ascii_lowercase(),
        p.get("Marker"),
        p.get("MaxItems"),
    )
}

/// The ARN IAM authorizes `action` against: the user, group or role it names (the caller
/// itself when an access-key action names no user), or the account's users, groups or roles
/// for a list.
pub fn target(f: &IamFile, c: &Caller, action: &str, p: &Params) -> String {
    let account = &c.account;
    if action.ends_with("OpenIDConnectProvider") || action.ends_with("OpenIDConnectProviders") {
        return super::oidc::target(c, action, p);
    }
    match action {
        "GetAccountSummary" => return "*".into(),
        "ListUsers" => return format!("arn:aws:iam::{account}:user/*"),
        "ListGroups" => return format!("arn:aws:iam::{account}:group/*"),
        "ListRoles" => return format!("arn:aws:iam::{account}:role/*"),
        _ => {}
    }
    // Membership is authorized on the group.
    let kind = if action.ends_with("UserToGroup") || action.ends_with("UserFromGroup") {
        Kind::Group
    } else if action.contains("AccessKey") {
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
    match action {
        "GetAccountSummary" => Ok(account_summary(f, c)),
        "CreateUser" => create_user(f, c, p, now),
        "GetUser" => get_user(f, c, p),
        "ListUsers" => {
            let users: Vec<&UserEntry> =
                f.users.iter().filter(|u| u.account == c.account).collect();
            let prefix = p.get("PathPrefix").unwrap_or("/");
            let (users, next) = listed(users, |u| &u.name, |u| &u.path, prefix, p)?;
            Ok(members("Users", users.into_iter().map(render::user)) + &truncation(&next))
        }
        "UpdateUser" => update_user(f, c, p),
        "DeleteUser" => delete_user(f, c, p),
        "CreateAccessKey" | "UpdateAccessKey" | "DeleteAccessKey" | "ListAccessKeys" => {
            access_keys(f, c, action, p, now)
        }
        "CreateGroup" => create_group(f, c, p, now),
        "GetGroup" => {
            let g = group(f, &c.account, p.required("GroupName")?)?;
            let in_group: Vec<&UserEntry> = f
                .users
                .iter()
                .filter(|u| u.account == c.account && u.groups.contains(&g.name))
                .collect();
            let (users, next) = listed(in_group, |u| &u.name, |u| &u.path, "/", p)?;
            Ok(format!("<Group>{}</Group>", render::group(g))
                + &members("Users", users.into_iter().map(render::user))
                + &truncation(&next))
        }
        "ListGroups" => {
            let groups: Vec<&GroupEntry> =
                f.groups.iter().filter(|g| g.account == c.account).collect();
            let prefix = p.get("PathPrefix").unwrap_or("/");
            let (groups, next) = listed(groups, |g| &g.name, |g| &g.path, prefix, p)?;
            Ok(members("Groups", groups.into_iter().map(render::group)) + &truncation(&next))
        }
        "ListGroupsForUser" => {
            let u = user(f, &c.account, p.required("UserName")?)?;
            let groups: Vec<&GroupEntry> = f
                .groups
                .iter()
                .filter(|g| g.account == c.account && u.groups.contains(&g.name))
                .collect();
            let (groups, next) = listed(groups, |g| &g.name, |g| &g.path, "/", p)?;
            Ok(members("Groups", groups.into_iter().map(render::group)) + &truncation(&next))
        }
        "UpdateGroup" => update_group(f, c, p),
        "DeleteGroup" => delete_group(f, c, p),
        "AddUserToGroup" | "RemoveUserFromGroup" => membership(f, c, action, p),
        "CreateRole" => create_role(f, c, p, now),
        "GetRole" => {
            let r = role(f, &c.account, p.required("RoleName")?)?;
            Ok(format!("<Role>{}</Role>", render::role(r)))
        }
        "ListRoles" => {
            let roles: Vec<&RoleEntry> =
                f.roles.iter().filter(|r| r.account == c.account).collect();
            let prefix = p.get("PathPrefix").unwrap_or("/");
            let (roles, next) = listed(roles, |r| &r.name, |r| &r.path, prefix, p)?;
            Ok(members("Roles", roles.into_iter().map(render::role)) + &truncation(&next))
        }
        "UpdateRole" | "UpdateAssumeRolePolicy" => update_role(f, c, action, p),
        "DeleteRole" => delete_role(f, c, p),
        // The policy actions of the three kinds: inline (Put/Get/Delete/List…Policy|Policies)
        // and attached (Attach/Detach/ListAttached…).
        _ => match Kind::of(action) {
            Some(kind) if is_attachment(action) => attached(f, c, kind, action, p),
            Some(kind)
                if action.ends_with(&format!("{}Policy", kind.word()))
                    || action.ends_with(&format!("{}Policies", kind.word())) =>
            {
                inline_policy(f, c, kind, action, p)
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
/// access keys per user, the inline policy sizes, attached policies and groups per user).
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
    ("UserPolicySizeQuota", 2048),
    ("UsersQuota", 5000),
];

/// The most managed policies one user, group or role may have attached.
const ATTACHED_MAX: usize = 10;

/// The most groups one user may be in.
const GROUPS_PER_USER_MAX: usize = 10;

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
        ("Policies", 0),
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

fn create_user(f: &mut IamFile, c: &Caller, p: &Params, now: &str) -> Result<String, IamError> {
    let name = p.required("UserName")?;
    check_name("UserName", name)?;
    let path = check_path("Path", p.get("Path"))?;
    let tags = p.tags()?;
    if user(f, &c.account, name).is_ok() {
        return Err(IamError::exists(format!(
            "User with name {name} already exists."
        )));
    }
    let u = UserEntry {
        account: c.account.clone(),
        name: name.to_string(),
        path,
        id: Some(keys::entity_id("AIDA")?),
        created: Some(now.to_string()),
        tags,
        ..UserEntry::default()
    };
    let out = format!("<User>{}</User>", render::user(&u));
    f.users.push(u);
    Ok(out)
}

fn get_user(f: &IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    match p.get("UserName").or(c.user.as_deref()) {
        Some(name) => Ok(format!(
            "<User>{}</User>",
            render::user(user(f, &c.account, name)?)
        )),
        // The root user, as GetUser without a name describes it.
        None => Ok(format!(
            "<User>{}{}</User>",
            element("UserId", &c.account),
            element("Arn", &format!("arn:aws:iam::{}:root", c.account))
        )),
    }
}

fn update_user(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let name = p.required("UserName")?;
    let new_name = p.get("NewUserName");
    if let Some(n) = new_name {
        check_name("NewUserName", n)?;
    }
    let new_path = check_path("NewPath", p.get("NewPath"))?;
    let current = user(f, &c.account, name)?.name.clone();
    if let Some(n) = new_name {
        if !same(n, &current) && user(f, &c.account, n).is_ok() {
            return Err(IamError::exists(format!(
                "User with name {n} already exists."
            )));
        }
    }
    let u = user_mut(f, &c.account, name)?;
    if let Some(n) = new_name {
        u.name = n.to_string();
    }
    if p.get("NewPath").is_some() {
        u.path = new_path;
    }
    Ok(String::new())
}

fn delete_user(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let u = user(f, &c.account, p.required("UserName")?)?;
    let hanging = if !u.access_keys.is_empty() {
        Some("access keys")
    } else if !u.policies.is_empty() {
        Some("policies")
    } else if !u.managed.is_empty() {
        Some("attached policies")
    } else if !u.groups.is_empty() {
        Some("group memberships")
    } else {
        None
    };
    if let Some(what) = hanging {
        return Err(IamError::conflict(format!(
            "Cannot delete entity, must remove {what} first."
        )));
    }
    let name = u.name.clone();
    f.users
        .retain(|x| !(x.account == c.account && x.name == name));
    Ok(String::new())
}

/// CreateAccessKey, UpdateAccessKey, DeleteAccessKey, ListAccessKeys: on the named user's keys,
/// or the caller's own (the root user's when root calls without a name).
fn access_keys(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    let named = p.get("UserName").or(c.user.as_deref());
    let (owner, keys): (String, &mut Vec<AccessKey>) = match named {
        Some(name) => {
            let u = user_mut(f, &c.account, name)?;
            (u.name.clone(), &mut u.access_keys)
        }
        None if c.root => {
            let a = f.accounts.get_mut(&c.account).ok_or_else(|| {
                IamError::no_such(format!("account {} is not in the IAM file", c.account))
            })?;
            (String::new(), &mut a.root_access_keys)
        }
        None => {
            return Err(IamError::validation(
                "UserName is needed: the caller is not a user",
            ))
        }
    };
    let user_element = if owner.is_empty() {
        String::new()
    } else {
        element("UserName", &owner)
    };
    let metadata = |k: &AccessKey| {
        format!(
            "{user_element}{}{}{}",
            element("AccessKeyId", &k.id),
            element(
                "Status",
                if k.status == KeyStatus::Active {
                    "Active"
                } else {
                    "Inactive"
                }
            ),
            k.created
                .as_deref()
                .map(|d| element("CreateDate", d))
                .unwrap_or_default()
        )
    };
    let not_found =
        |id: &str| IamError::no_such(format!("The Access Key with id {id} cannot be found."));
    match action {
        "CreateAccessKey" => {
            if keys.len() >= 2 {
                return Err(IamError::limit(
                    "Cannot exceed quota for AccessKeysPerUser: 2",
                ));
            }
            let k = identity::new_key().map_err(IamError::from)?;
            let k = AccessKey {
                created: Some(now.to_string()),
                ..k
            };
            keys.push(k.clone());
            Ok(format!(
                "<AccessKey>{user_element}{}{}{}{}</AccessKey>",
                element("AccessKeyId", &k.id),
                element("Status", "Active"),
                element("SecretAccessKey", &k.secret),
                element("CreateDate", now)
            ))
        }
        "UpdateAccessKey" => {
            let id = p.required("AccessKeyId")?;
            let status = match p.required("Status")? {
                "Active" => KeyStatus::Active,
                "Inactive" => KeyStatus::Inactive,
                other => {
                    return Err(IamError::validation(format!(
                        "Status must be Active or Inactive, not `{other}`"
                    )))
                }
            };
            let k = keys
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| not_found(id))?;
            k.status = status;
            Ok(String::new())
        }
        "DeleteAccessKey" => {
            let id = p.required("AccessKeyId")?;
            let before = keys.len();
            keys.retain(|k| k.id != id);
            if keys.len() == before {
                return Err(not_found(id));
            }
            Ok(String::new())
        }
        _ => {
            let mut listed: Vec<AccessKey> = keys.clone();
            listed.sort_by(|a, b| a.id.cmp(&b.id));
            let (listed, next) =
                page(listed, |k| k.id.clone(), p.get("Marker"), p.get("MaxItems"))?;
            Ok(members("AccessKeyMetadata", listed.iter().map(metadata))
                + &truncation(&next)
                + &user_element)
        }
    }
}

fn create_group(f: &mut IamFile, c: &Caller, p: &Params, now: &str) -> Result<String, IamError> {
    let name = p.required("GroupName")?;
    check_name("GroupName", name)?;
    let path = check_path("Path", p.get("Path"))?;
    if group(f, &c.account, name).is_ok() {
        return Err(IamError::exists(format!(
            "Group with name {name} already exists."
        )));
    }
    let g = GroupEntry {
        account: c.account.clone(),
        name: name.to_string(),
        path,
        id: Some(keys::entity_id("AGPA")?),
        created: Some(now.to_string()),
        ..GroupEntry::default()
    };
    let out = format!("<Group>{}</Group>", render::group(&g));
    f.groups.push(g);
    Ok(out)
}

fn update_group(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let name = p.required("GroupName")?;
    let new_name = p.get("NewGroupName");
    if let Some(n) = new_name {
        check_name("NewGroupName", n)?;
    }
    let new_path = check_path("NewPath", p.get("NewPath"))?;
    let current = group(f, &c.account, name)?.name.clone();
    if let Some(n) = new_name {
        if !same(n, &current) && group(f, &c.account, n).is_ok() {
            return Err(IamError::exists(format!(
                "Group with name {n} already exists."
            )));
        }
    }
    let g = f
        .groups
        .iter_mut()
        .find(|g| g.account == c.account && g.name == current)
        .expect("found above");
    if let Some(n) = new_name {
        g.name = n.to_string();
        // Members name their groups: they follow the rename.
        for u in f.users.iter_mut().filter(|u| u.account == c.account) {
            for x in u.groups.iter_mut().filter(|x| **x == current) {
                *x = n.to_string();
            }
        }
    }
    if p.get("NewPath").is_some() {
        g.path = new_path;
    }
    Ok(String::new())
}

fn delete_group(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let g = group(f, &c.account, p.required("GroupName")?)?;
    let name = g.name.clone();
    let hanging = if f
        .users
        .iter()
        .any(|u| u.account == c.account && u.groups.contains(&name))
    {
        Some("users")
    } else if !g.policies.is_empty() {
        Some("policies")
    } else if !g.managed.is_empty() {
        Some("attached policies")
    } else {
        None
    };
    if let Some(what) = hanging {
        return Err(IamError::conflict(format!(
            "Cannot delete entity, must remove {what} first."
        )));
    }
    f.groups
        .retain(|x| !(x.account == c.account && x.name == name));
    Ok(String::new())
}

fn membership(f: &mut IamFile, c: &Caller, action: &str, p: &Params) -> Result<String, IamError> {
    let g = group(f, &c.account, p.required("GroupName")?)?.name.clone();
    let u = user_mut(f, &c.account, p.required("UserName")?)?;
    if action == "AddUserToGroup" {
        if !u.groups.contains(&g) {
            if u.groups.len() >= GROUPS_PER_USER_MAX {
                return Err(IamError::limit(format!(
                    "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER_MAX}"
                )));
            }
            u.groups.push(g);
        }
    } else {
        u.groups.retain(|x| *x != g);
    }
    Ok(String::new())
}

fn max_session(p: &Params) -> Result<Option<u64>, IamError> {
    let Some(v) = p.get("MaxSessionDuration") else {
        return Ok(None);
    };
    match v.parse::<u64>() {
        Ok(n) if (3600..=43200).contains(&n) => Ok(Some(n)),
        _ => Err(IamError::validation(format!(
            "MaxSessionDuration must be 3600 to 43200 seconds, not `{v}`"
        ))),
    }
}

fn create_role(f: &mut IamFile, c: &Caller, p: &Params, now: &str) -> Result<String, IamError> {
    let name = p.required("RoleName")?;
    check_name("RoleName", name)?;
    let path = check_path("Path", p.get("Path"))?;
    let trust = document(p.required("AssumeRolePolicyDocument")?, PolicyKind::Trust)?;
    let max_session_secs = max_session(p)?;
    let tags = p.tags()?;
    if role(f, &c.account, name).is_ok() {
        return Err(IamError::exists(format!(
            "Role with name {name} already exists."
        )));
    }
    let r = RoleEntry {
        account: c.account.clone(),
        name: name.to_string(),
        path,
        id: Some(keys::entity_id("AROA")?),
        created: Some(now.to_string()),
        description: p.get("Description").map(String::from),
        max_session_secs,
        trust_policy: trust,
        tags,
        ..RoleEntry::default()
    };
    let out = format!("<Role>{}</Role>", render::role(&r));
    f.roles.push(r);
    Ok(out)
}

fn update_role(f: &mut IamFile, c: &Caller, action: &str, p: &Params) -> Result<String, IamError> {
    let name = role(f, &c.account, p.required("RoleName")?)?.name.clone();
    let trust = match action {
        "UpdateAssumeRolePolicy" => {
            Some(document(p.required("PolicyDocument")?, PolicyKind::Trust)?)
        }
        _ => None,
    };
    let max = max_session(p)?;
    let r = f
        .roles
        .iter_mut()
        .find(|r| r.account == c.account && r.name == name)
        .expect("found above");
    if let Some(t) = trust {
        r.trust_policy = t;
    }
    if let Some(d) = p.get("Description") {
        r.description = Some(d.to_string());
    }
    if max.is_some() {
        r.max_session_secs = max;
    }
    Ok(String::new())
}

fn delete_role(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let r = role(f, &c.account, p.required("RoleName")?)?;
    if !r.policies.is_empty() || !r.managed.is_empty() {
        return Err(IamError::conflict(
            "Cannot delete entity, must remove policies from the role first.",
        ));
    }
    let name = r.name.clone();
    f.roles
        .retain(|x| !(x.account == c.account && x.name == name));
    // Its sessions end with it: their permissions came from the role.
    f.sessions
        .retain(|s| !(s.account == c.account && s.role == name));
    Ok(String::new())
}

/// Put/Get/Delete/List of a user's, group's or role's inline policies.
fn inline_policy(
    f: &mut IamFile,
    c: &Caller,
    kind: Kind,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
    let entity = p.required(kind.param())?.to_string();
    let verb = &action[..3];
    let policy_name = if verb == "Lis" {
        None
    } else {
        let n = p.required("PolicyName")?;
        check_policy_name(n)?;
        Some(n.to_string())
    };
    let doc = match verb {
        "Put" => Some(document(
            p.required("PolicyDocument")?,
            PolicyKind::Identity,
        )?),
        _ => None,
    };
    let (policies, _) = policy_lists(f, kind, &c.account, &entity)?;
    let names: Vec<String> = (0..policies.len())
        .map(|i| crate::identity::file::policy_name(policies, i))
        .collect();
    let at = policy_name
        .as_deref()
        .and_then(|n| names.iter().position(|x| x == n));
    let missing = || {
        IamError::no_such(format!(
            "The {} policy with name {} cannot be found.",
            kind.word().to_ascii_lowercase(),
            policy_name.as_deref().unwrap_or_default()
        ))
    };
    match verb {
        "Put" => {
            let doc = doc.expect("read above");
            let others: usize = policies
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != at)
                .map(|(_, x)| size(x.document.text()))
                .sum();
            if others + size(doc.text()) > kind.quota() {
                return Err(IamError::limit(format!(
                    "Maximum policy size of {} bytes exceeded for {} {entity}",
                    kind.quota(),
                    kind.word().to_ascii_lowercase()
                )));
            }
            let named = InlinePolicy {
                name: policy_name.clone(),
                document: doc,
            };
            match at {
                Some(i) => policies[i] = named,
                None => policies.push(named),
            }
            Ok(String::new())
        }
        "Get" => {
            let i = at.ok_or_else(missing)?;
            Ok(format!(
                "{}{}{}",
                element(kind.param(), &entity),
                element("PolicyName", &names[i]),
                element(
                    "PolicyDocument",
                    &render::policy_text(policies[i].document.text())
                )
            ))
        }
        "Del" => {
            let i = at.ok_or_else(missing)?;
            policies.remove(i);
            Ok(String::new())
        }
        _ => {
            let mut sorted = names;
            sorted.sort();
            let (listed, next) = page(sorted, |n| n.clone(), p.get("Marker"), p.get("MaxItems"))?;
            Ok(members("PolicyNames", listed.iter().map(|n| escape(n))) + &truncation(&next))
        }
    }
}

/// Attach/Detach/ListAttached of AWS-managed policies on a user, group or role.
fn attached(
    f: &mut IamFile,
    c: &Caller,
    kind: Kind,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
    let entity = p.required(kind.param())?.to_string();
    let arn = if action.starts_with("ListAttached") {
        None
    } else {
        Some(p.required("PolicyArn")?.to_string())
    };
    if let Some(a) = &arn {
        if managed::document(a).is_none() && action.starts_with("Attach") {
            return Err(IamError::no_such(format!(
                "Policy {a} does not exist or is not attachable (this server has the AWS-managed policies {})",
                managed::names().join(", ")
            )));
        }
    }
    let (_, attached) = policy_lists(f, kind, &c.account, &entity)?;
    match (action.get(..6), arn) {
        (Some("Attach"), Some(a)) => {
            if !attached.contains(&a) {
                if attached.len() >= ATTACHED_MAX {
                    return Err(IamError::limit(format!(
                        "Cannot exceed quota for PoliciesPer{}: {ATTACHED_MAX}",
                        kind.word()
                    )));
                }
                attached.push(a);
            }
            Ok(String::new())
        }
        (Some("Detach"), Some(a)) => {
            if !attached.contains(&a) {
                return Err(IamError::no_such(format!("Policy {a} was not found.")));
            }
            attached.retain(|x| *x != a);
            Ok(String::new())
        }
        _ => {
            let mut arns = attached.clone();
            arns.sort();
            let (arns, next) = page(arns, |a| a.clone(), p.get("Marker"), p.get("MaxItems"))?;
            Ok(members(
                "AttachedPolicies",
                arns.iter()
                    .map(|a| element("PolicyName", managed::name(a)) + &element("PolicyArn", a)),
            ) + &truncation(&next))
        }
    }
}
