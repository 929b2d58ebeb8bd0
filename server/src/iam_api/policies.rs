//! Policies: users', groups' and roles' inline ones (Put/Get/Delete/List…Policy), the managed
//! ones they attach (Attach/Detach/ListAttached…Policies), and the account's own managed
//! policies with their versions (CreatePolicy, …Version) beside the AWS-managed ones.

use seedbed_dynamo::sts::escape;
use seedbed_engine::iam::PolicyKind;

use crate::identity::file::{ManagedPolicyEntry, PolicyDoc, PolicyVersionEntry};
use crate::identity::{keys, managed, IamFile, InlinePolicy};

use super::ops::*;
use super::render::{self, element, members, page, truncation};
use super::IamError;

/// Put/Get/Delete/List of a user's, group's or role's inline policies.
pub(super) fn inline_policy(
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
pub(super) fn attached(
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
        if !exists(f, c, a) && action.starts_with("Attach") {
            return Err(IamError::no_such(format!(
                "Policy {a} does not exist or is not attachable (the account's own policies and the AWS-managed {} are)",
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

/// The actions on managed policies themselves that only read.
pub const MANAGED_READS: &[&str] = &[
    "GetPolicy",
    "ListPolicies",
    "GetPolicyVersion",
    "ListPolicyVersions",
];

/// The actions on managed policies themselves that change the file.
pub const MANAGED_EDITS: &[&str] = &[
    "CreatePolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
];

/// IAM's quota on a managed policy's document, in non-white-space characters.
const MANAGED_SIZE_MAX: usize = 6144;

/// IAM's quota on a managed policy's versions.
const VERSIONS_MAX: usize = 5;

/// The ARN a managed-policy action is authorized on: the policy (CreatePolicy's to be), or
/// `*` for ListPolicies.
pub fn managed_target(c: &Caller, action: &str, p: &Params) -> String {
    match action {
        "ListPolicies" => "*".into(),
        "CreatePolicy" => format!(
            "arn:aws:iam::{}:policy{}{}",
            c.account,
            p.get("Path").unwrap_or("/"),
            p.get("PolicyName").unwrap_or_default()
        ),
        _ => p.get("PolicyArn").unwrap_or("*").to_string(),
    }
}

/// How many users, groups and roles have `arn` attached.
fn attachments(f: &IamFile, arn: &str) -> usize {
    let has = |m: &Vec<String>| m.iter().any(|a| a == arn);
    f.users.iter().filter(|u| has(&u.managed)).count()
        + f.groups.iter().filter(|g| has(&g.managed)).count()
        + f.roles.iter().filter(|r| has(&r.managed)).count()
}

/// How many users and roles have `arn` as their permissions boundary.
fn boundary_uses(f: &IamFile, arn: &str) -> usize {
    let is = |b: &Option<String>| b.as_deref() == Some(arn);
    f.users
        .iter()
        .filter(|u| is(&u.permissions_boundary))
        .count()
        + f.roles
            .iter()
            .filter(|r| is(&r.permissions_boundary))
            .count()
}

/// Which answer a managed policy is shown in: CreatePolicy shows its tags (when it has any) but
/// not its description, GetPolicy both (tags even when there are none), a list neither — as
/// IAM answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PolicyShape {
    Created,
    Got,
    Listed,
}

/// A managed policy's fields (inside `<Policy>` or a list's `<member>`): one of the account's,
/// or an AWS-managed one (by ARN).
fn policy_xml(
    f: &IamFile,
    arn: &str,
    own: Option<&ManagedPolicyEntry>,
    shape: PolicyShape,
) -> String {
    let (name, id, path, default, description, created, tags) = match own {
        Some(m) => (
            m.name.as_str(),
            crate::identity::entity_id(&m.id, "ANPA", arn),
            m.path.as_deref().unwrap_or("/"),
            m.default_version.as_str(),
            m.description.as_deref(),
            m.created.as_deref(),
            Some(&m.tags),
        ),
        None => (
            managed::name(arn),
            crate::identity::entity_id(&None, "ANPA", arn),
            "/",
            "v1",
            None,
            None,
            None,
        ),
    };
    let description = match (shape, description) {
        (PolicyShape::Got, Some(d)) => element("Description", d),
        _ => String::new(),
    };
    let tags = match (shape, tags) {
        (PolicyShape::Got, t) => render::tags(t.unwrap_or(&Default::default())),
        (PolicyShape::Created, Some(t)) if !t.is_empty() => render::tags(t),
        _ => String::new(),
    };
    format!(
        "{}{}{}{}{}{}{}<IsAttachable>true</IsAttachable>{description}{}{tags}",
        element("PolicyName", name),
        element("PolicyId", &id),
        element("Arn", arn),
        element("Path", path),
        element("DefaultVersionId", default),
        element("AttachmentCount", &attachments(f, arn).to_string()),
        element(
            "PermissionsBoundaryUsageCount",
            &boundary_uses(f, arn).to_string()
        ),
        created
            .map(|d| element("CreateDate", d) + &element("UpdateDate", d))
            .unwrap_or_default(),
    )
}

/// Whether `arn` names a managed policy the caller may attach or use as a boundary: AWS's, or
/// one of its account's.
pub fn exists(f: &IamFile, c: &Caller, arn: &str) -> bool {
    managed::document(arn).is_some() || own(f, c, arn).is_some()
}

fn version_xml(id: &str, doc: &str, default: bool, created: Option<&str>) -> String {
    format!(
        "{}{}{}{}",
        element("Document", &render::policy_text(doc)),
        element("VersionId", id),
        element("IsDefaultVersion", if default { "true" } else { "false" }),
        created
            .map(|d| element("CreateDate", d))
            .unwrap_or_default()
    )
}

fn not_found(arn: &str) -> IamError {
    IamError::no_such(format!("Policy {arn} does not exist or is not attachable."))
}

/// The index of the caller's own policy `arn`.
fn own(f: &IamFile, c: &Caller, arn: &str) -> Option<usize> {
    f.managed_policies
        .iter()
        .position(|m| m.account == c.account && m.arn() == arn)
}

/// A managed policy's document from a request: a valid identity policy within the quota.
fn managed_document(text: &str) -> Result<PolicyDoc, IamError> {
    let doc = document(text, PolicyKind::Identity)?;
    if size(doc.text()) > MANAGED_SIZE_MAX {
        return Err(IamError::limit(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_SIZE_MAX}"
        )));
    }
    Ok(doc)
}

/// CreatePolicy, GetPolicy, ListPolicies, DeletePolicy and their versions'.
pub fn managed_policy(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    match action {
        "CreatePolicy" => {
            let name = p.required("PolicyName")?;
            check_policy_name(name)?;
            let path = check_path("Path", p.get("Path"))?;
            let doc = managed_document(p.required("PolicyDocument")?)?;
            if f.managed_policies
                .iter()
                .any(|m| m.account == c.account && same(&m.name, name))
            {
                return Err(IamError::exists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )));
            }
            let m = ManagedPolicyEntry {
                account: c.account.clone(),
                name: name.to_string(),
                path,
                id: Some(keys::entity_id("ANPA")?),
                created: Some(now.to_string()),
                description: p.get("Description").map(String::from),
                versions: vec![PolicyVersionEntry {
                    id: "v1".into(),
                    document: doc,
                    created: Some(now.to_string()),
                }],
                default_version: "v1".into(),
                tags: p.tags()?,
            };
            let arn = m.arn();
            f.managed_policies.push(m);
            let m = f.managed_policies.last().expect("just pushed");
            Ok(format!(
                "<Policy>{}</Policy>",
                policy_xml(f, &arn, Some(m), PolicyShape::Created)
            ))
        }
        "GetPolicy" => {
            let arn = p.required("PolicyArn")?;
            match own(f, c, arn) {
                Some(i) => Ok(format!(
                    "<Policy>{}</Policy>",
                    policy_xml(f, arn, Some(&f.managed_policies[i]), PolicyShape::Got)
                )),
                None if managed::document(arn).is_some() => Ok(format!(
                    "<Policy>{}</Policy>",
                    policy_xml(f, arn, None, PolicyShape::Got)
                )),
                None => Err(not_found(arn)),
            }
        }
        "ListPolicies" => {
            let scope = p.get("Scope").unwrap_or("All");
            let only_attached = p.get("OnlyAttached") == Some("true");
            let prefix = p.get("PathPrefix").unwrap_or("/");
            let mut listed: Vec<(String, String, Option<&ManagedPolicyEntry>)> = Vec::new();
            if matches!(scope, "All" | "AWS") && prefix == "/" {
                for n in managed::names() {
                    listed.push((n.to_string(), format!("{}{n}", managed::AWS_MANAGED), None));
                }
            }
            if matches!(scope, "All" | "Local") {
                for m in f.managed_policies.iter().filter(|m| m.account == c.account) {
                    if m.path.as_deref().unwrap_or("/").starts_with(prefix) {
                        listed.push((m.name.clone(), m.arn(), Some(m)));
                    }
                }
            }
            if !matches!(scope, "All" | "AWS" | "Local") {
                return Err(IamError::validation(format!(
                    "Scope must be All, AWS or Local, not `{scope}`"
                )));
            }
            listed.retain(|(_, arn, _)| !only_attached || attachments(f, arn) > 0);
            listed.sort_by_key(|(name, _, _)| name.to_ascii_lowercase());
            let (page_items, next) = page(
                listed,
                |(name, _, _)| name.to_ascii_lowercase(),
                p.get("Marker"),
                p.get("MaxItems"),
            )?;
            Ok(members(
                "Policies",
                page_items
                    .iter()
                    .map(|(_, arn, m)| policy_xml(f, arn, *m, PolicyShape::Listed)),
            ) + &truncation(&next))
        }
        "DeletePolicy" => {
            let arn = p.required("PolicyArn")?;
            let i = own(f, c, arn).ok_or_else(|| not_found(arn))?;
            if attachments(f, arn) > 0 || boundary_uses(f, arn) > 0 {
                return Err(IamError::conflict(
                    "Cannot delete a policy attached to entities (or used as a permissions boundary).",
                ));
            }
            if f.managed_policies[i].versions.len() > 1 {
                return Err(IamError::conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
                ));
            }
            f.managed_policies.remove(i);
            Ok(String::new())
        }
        _ => versions(f, c, action, p, now),
    }
}

/// GetPolicyVersion, ListPolicyVersions, CreatePolicyVersion, DeletePolicyVersion,
/// SetDefaultPolicyVersion.
fn versions(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    let arn = p.required("PolicyArn")?.to_string();
    let Some(i) = own(f, c, &arn) else {
        // AWS-managed policies have one version to read and none to change.
        let doc = managed::document(&arn).ok_or_else(|| not_found(&arn))?;
        let v1 = version_xml("v1", &doc.to_string(), true, None);
        return match action {
            "GetPolicyVersion" if p.required("VersionId")? == "v1" => {
                Ok(format!("<PolicyVersion>{v1}</PolicyVersion>"))
            }
            "GetPolicyVersion" => Err(IamError::no_such("Policy version does not exist.")),
            "ListPolicyVersions" => Ok(members("Versions", [v1]) + &truncation(&None)),
            _ => Err(IamError::new(
                403,
                "AccessDenied",
                format!("{arn} is managed by AWS: its versions cannot be changed"),
            )),
        };
    };
    let m = &mut f.managed_policies[i];
    let missing = |v: &str| IamError::no_such(format!("Policy {arn} version {v} does not exist."));
    match action {
        "GetPolicyVersion" => {
            let id = p.required("VersionId")?;
            let v = m
                .versions
                .iter()
                .find(|v| v.id == id)
                .ok_or_else(|| missing(id))?;
            Ok(format!(
                "<PolicyVersion>{}</PolicyVersion>",
                version_xml(
                    &v.id,
                    v.document.text(),
                    v.id == m.default_version,
                    v.created.as_deref()
                )
            ))
        }
        "ListPolicyVersions" => {
            let listed: Vec<String> = m
                .versions
                .iter()
                .rev()
                .map(|v| {
                    version_xml(
                        &v.id,
                        v.document.text(),
                        v.id == m.default_version,
                        v.created.as_deref(),
                    )
                })
                .collect();
            Ok(members("Versions", listed) + &truncation(&None))
        }
        "CreatePolicyVersion" => {
            let doc = managed_document(p.required("PolicyDocument")?)?;
            if m.versions.len() >= VERSIONS_MAX {
                return Err(IamError::limit(format!(
                    "A managed policy can have up to {VERSIONS_MAX} versions. Before you create a new version, you must delete an existing version."
                )));
            }
            // Version IDs are never reused: one past the highest ever given.
            let next = m
                .versions
                .iter()
                .filter_map(|v| v.id.strip_prefix('v')?.parse::<u32>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            let id = format!("v{next}");
            m.versions.push(PolicyVersionEntry {
                id: id.clone(),
                document: doc,
                created: Some(now.to_string()),
            });
            if p.get("SetAsDefault") == Some("true") {
                m.default_version = id.clone();
            }
            let v = m.versions.last().expect("just pushed");
            Ok(format!(
                "<PolicyVersion>{}</PolicyVersion>",
                version_xml(
                    &v.id,
                    v.document.text(),
                    v.id == m.default_version,
                    v.created.as_deref()
                )
            ))
        }
        "DeletePolicyVersion" => {
            let id = p.required("VersionId")?;
            if id == m.default_version {
                return Err(IamError::conflict(
                    "Cannot delete the default version of a policy.",
                ));
            }
            let before = m.versions.len();
            m.versions.retain(|v| v.id != id);
            if m.versions.len() == before {
                return Err(missing(id));
            }
            Ok(String::new())
        }
        _ => {
            let id = p.required("VersionId")?;
            if !m.versions.iter().any(|v| v.id == id) {
                return Err(missing(id));
            }
            m.default_version = id.to_string();
            Ok(String::new())
        }
    }
}

/// A boundary named in a request (`PermissionsBoundary`): a managed policy that exists.
pub fn boundary_param(f: &IamFile, c: &Caller, p: &Params) -> Result<Option<String>, IamError> {
    match p.get("PermissionsBoundary") {
        None => Ok(None),
        Some(arn) if exists(f, c, arn) => Ok(Some(arn.to_string())),
        Some(arn) => Err(IamError::no_such(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
    }
}

/// Put/Delete{User,Role}PermissionsBoundary: the managed policy that bounds what the entity's
/// identity policies can allow.
pub fn permissions_boundary(
    f: &mut IamFile,
    c: &Caller,
    kind: Kind,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
    let name = p.required(kind.param())?;
    let new = if action.starts_with("Put") {
        p.required("PermissionsBoundary")?;
        boundary_param(f, c, p)?
    } else {
        None
    };
    let slot = match kind {
        Kind::Role => f
            .roles
            .iter_mut()
            .find(|r| r.account == c.account && same(&r.name, name))
            .map(|r| (&mut r.permissions_boundary, &mut r.boundary)),
        _ => f
            .users
            .iter_mut()
            .find(|u| u.account == c.account && same(&u.name, name))
            .map(|u| (&mut u.permissions_boundary, &mut u.boundary)),
    };
    let (arn, document) = slot.ok_or_else(|| no_such(kind, name))?;
    // The API's boundary replaces one written in the file as a document.
    *document = None;
    *arn = new;
    Ok(String::new())
}
