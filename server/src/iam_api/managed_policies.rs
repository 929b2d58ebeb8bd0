//! The account's own managed policies and their versions (CreatePolicy, GetPolicy,
//! ListPolicies, DeletePolicy, Create/Get/List/Delete…PolicyVersion, SetDefaultPolicyVersion),
//! beside the AWS-managed ones ([`crate::identity::managed`]), which can be read but not
//! changed. What a user, group or role attaches is a policy's default version.

use seedbed_engine::iam::PolicyKind;

use crate::identity::file::{ManagedPolicyEntry, PolicyDoc, PolicyVersionEntry};
use crate::identity::{keys, managed, IamFile};

use super::ops::{check_path, check_policy_name, document, same, size, Caller, Params};
use super::render::{self, element, members, page, truncation};
use super::IamError;

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
pub(super) enum PolicyShape {
    Created,
    Got,
    Listed,
}

/// A managed policy's fields (inside `<Policy>` or a list's `<member>`): one of the account's,
/// or an AWS-managed one (by ARN).
pub(super) fn policy_xml(
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

/// One version of the account's own policy, `default` the policy's default version.
fn version_of(v: &PolicyVersionEntry, default: &str) -> String {
    version_xml(
        &v.id,
        v.document.text(),
        v.id == default,
        v.created.as_deref(),
    )
}

pub(super) fn version_xml(id: &str, doc: &str, default: bool, created: Option<&str>) -> String {
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
                version_of(v, &m.default_version)
            ))
        }
        "ListPolicyVersions" => {
            let listed: Vec<String> = m
                .versions
                .iter()
                .rev()
                .map(|v| version_of(v, &m.default_version))
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
                version_of(v, &m.default_version)
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
