//! Groups and their members: CreateGroup, UpdateGroup, DeleteGroup, AddUserToGroup,
//! RemoveUserFromGroup.

use crate::identity::{keys, GroupEntry, IamFile};

use super::ops::{
    check_name, check_path, find_mut, group, same, user_mut, Caller, Params, GROUPS_PER_USER_MAX,
};
use super::render;
use super::IamError;

pub(super) fn create_group(
    f: &mut IamFile,
    c: &Caller,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
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

pub(super) fn update_group(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
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
    let g = find_mut(&mut f.groups, &c.account, &current)?;
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

pub(super) fn delete_group(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
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

pub(super) fn membership(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
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
