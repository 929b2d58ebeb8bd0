//! Users and their access keys and tags: CreateUser, GetUser, UpdateUser, DeleteUser,
//! Create/Update/Delete/ListAccessKeys, Tag/Untag/List…Tags (users' and roles').

use crate::identity::{self, keys, AccessKey, IamFile, KeyStatus, UserEntry};

use super::ops::{
    check_name, check_path, find_mut, same, user, user_mut, Caller, Kind, Params, TAGS_MAX,
};
use super::render::{self, element, members, page, truncation};
use super::IamError;

pub(super) fn create_user(
    f: &mut IamFile,
    c: &Caller,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
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
        permissions_boundary: super::policies::boundary_param(f, c, p)?,
        ..UserEntry::default()
    };
    let out = format!("<User>{}</User>", render::user(&u, render::Shape::Full));
    f.users.push(u);
    Ok(out)
}

pub(super) fn get_user(f: &IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    match p.get("UserName").or(c.user.as_deref()) {
        Some(name) => Ok(format!(
            "<User>{}</User>",
            render::user(user(f, &c.account, name)?, render::Shape::Full)
        )),
        None if !c.root => Err(IamError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
        // The root user, as GetUser without a name describes it.
        None => Ok(format!(
            "<User>{}{}</User>",
            element("UserId", &c.account),
            element("Arn", &format!("arn:aws:iam::{}:root", c.account))
        )),
    }
}

pub(super) fn update_user(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
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

pub(super) fn delete_user(f: &mut IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let u = user(f, &c.account, p.required("UserName")?)?;
    let hanging = if !u.access_keys.is_empty() {
        Some("access keys")
    } else if !u.signing_certificates.is_empty() {
        Some("signing certificates")
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
pub(super) fn access_keys(
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
            let status = status_param(p)?;
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

/// Who owns access key `id` of `account`: `Some(Some(user))`, `Some(None)` for the root
/// user's, `None` when the account has no such key.
pub(super) fn key_owner<'f>(
    f: &'f IamFile,
    account: &str,
    id: &str,
) -> Option<Option<&'f UserEntry>> {
    if let Some(u) = f
        .users
        .iter()
        .find(|u| u.account == account && u.access_keys.iter().any(|k| k.id == id))
    {
        return Some(Some(u));
    }
    f.accounts
        .get(account)
        .filter(|a| a.root_access_keys.iter().any(|k| k.id == id))
        .map(|_| None)
}

/// GetAccessKeyLastUsed: when, with which service and in which region the key last signed a
/// request that authenticated ([`crate::identity::last_use`]); `N/A` and no date when never.
/// Any key of the caller's account, the root user's included (whose answer names no user).
pub(super) fn access_key_last_used(
    f: &IamFile,
    c: &Caller,
    p: &Params,
) -> Result<String, IamError> {
    let id = p.required("AccessKeyId")?;
    let not_found = || IamError::no_such(format!("The Access Key with id {id} cannot be found."));
    let owner = key_owner(f, &c.account, id).ok_or_else(not_found)?;
    let key = match owner {
        Some(u) => u.access_keys.iter().find(|k| k.id == id),
        None => f
            .accounts
            .get(&c.account)
            .and_then(|a| a.root_access_keys.iter().find(|k| k.id == id)),
    }
    .ok_or_else(not_found)?;
    let used = match &key.last_used {
        Some(l) => {
            element("LastUsedDate", &l.date)
                + &element("ServiceName", l.service.as_deref().unwrap_or("N/A"))
                + &element("Region", &l.region)
        }
        None => element("ServiceName", "N/A") + &element("Region", "N/A"),
    };
    Ok(owner
        .map(|u| element("UserName", &u.name))
        .unwrap_or_default()
        + &format!("<AccessKeyLastUsed>{used}</AccessKeyLastUsed>"))
}

/// A key's or certificate's `Status` parameter: Active or Inactive.
pub(super) fn status_param(p: &Params) -> Result<KeyStatus, IamError> {
    match p.required("Status")? {
        "Active" => Ok(KeyStatus::Active),
        "Inactive" => Ok(KeyStatus::Inactive),
        other => Err(IamError::validation(format!(
            "Status must be Active or Inactive, not `{other}`"
        ))),
    }
}

/// TagUser, UntagUser, ListUserTags and the same for roles: the principal tags policies read as
/// `aws:PrincipalTag/KEY` (a role's are its sessions').
pub(super) fn tagging(
    f: &mut IamFile,
    c: &Caller,
    kind: Kind,
    action: &str,
    p: &Params,
) -> Result<String, IamError> {
    let name = p.required(kind.param())?;
    let tags = match kind {
        Kind::Role => &mut find_mut(&mut f.roles, &c.account, name)?.tags,
        _ => &mut find_mut(&mut f.users, &c.account, name)?.tags,
    };
    if action.starts_with("Tag") {
        let new = p.tags()?;
        if new.is_empty() {
            return Err(IamError::validation("Tags must name at least one tag"));
        }
        let total = tags.len() + new.keys().filter(|k| !tags.contains_key(*k)).count();
        if total > TAGS_MAX {
            return Err(IamError::limit(format!(
                "an IAM user or role has at most {TAGS_MAX} tags"
            )));
        }
        tags.extend(new);
        Ok(String::new())
    } else if action.starts_with("Untag") {
        for k in p.list("TagKeys") {
            tags.remove(&k);
        }
        Ok(String::new())
    } else {
        Ok(render::tags(tags) + &truncation(&None))
    }
}
