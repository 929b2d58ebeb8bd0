//! Roles: CreateRole, UpdateRole, UpdateAssumeRolePolicy, DeleteRole.

use seedbed_engine::iam::PolicyKind;

use crate::identity::{keys, IamFile, RoleEntry};

use super::ops::{check_name, check_path, document, find_mut, role, Caller, Params};
use super::render;
use super::IamError;

pub(super) fn max_session(p: &Params) -> Result<Option<u64>, IamError> {
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

pub(super) fn create_role(
    f: &mut IamFile,
    c: &Caller,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
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
        permissions_boundary: super::policies::boundary_param(f, c, p)?,
        ..RoleEntry::default()
    };
    let out = format!("<Role>{}</Role>", render::role(&r, render::Shape::Full));
    f.roles.push(r);
    Ok(out)
}

pub(super) fn update_role(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
    let name = role(f, &c.account, p.required("RoleName")?)?.name.clone();
    let trust = match action {
        "UpdateAssumeRolePolicy" => {
            Some(document(p.required("PolicyDocument")?, PolicyKind::Trust)?)
        }
        _ => None,
    };
    let max = max_session(p)?;
    let r = find_mut(&mut f.roles, &c.account, &name)?;
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

pub(super) fn delete_role(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
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
