//! The policies of users, groups and roles: inline ones (Put/Get/Delete/List…Policy), the
//! managed ones they attach (Attach/Detach/ListAttached…Policies), and the managed policy that
//! is a user's or role's permissions boundary (Put/Delete…PermissionsBoundary).

use seedbed_dynamo::sts::escape;
use seedbed_engine::iam::PolicyKind;

use crate::identity::{managed, IamFile, InlinePolicy};

use super::ops::{
    check_policy_name, document, find_mut, policy_lists, size, Caller, Kind, Params, ATTACHED_MAX,
};
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

/// Attach/Detach/ListAttached of managed policies (AWS's or the account's own) on a user,
/// group or role.
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
        if !super::managed_policies::exists(f, c, a) && action.starts_with("Attach") {
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

/// A boundary named in a request (`PermissionsBoundary`): a managed policy that exists.
pub fn boundary_param(f: &IamFile, c: &Caller, p: &Params) -> Result<Option<String>, IamError> {
    match p.get("PermissionsBoundary") {
        None => Ok(None),
        Some(arn) if super::managed_policies::exists(f, c, arn) => Ok(Some(arn.to_string())),
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
    let (arn, document) = match kind {
        Kind::Role => {
            let r = find_mut(&mut f.roles, &c.account, name)?;
            (&mut r.permissions_boundary, &mut r.boundary)
        }
        _ => {
            let u = find_mut(&mut f.users, &c.account, name)?;
            (&mut u.permissions_boundary, &mut u.boundary)
        }
    };
    // The API's boundary replaces one written in the file as a document.
    *document = None;
    *arn = new;
    Ok(String::new())
}
