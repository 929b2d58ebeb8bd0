//! The IAM file: accounts, users, groups, roles, their policies, and the access keys that sign
//! requests — one JSON document that `seedbed serve` reads and `seedbed iam` edits.
//!
//! ```json
//! {
//!   "accounts": { "123456789012": { "name": "seedbed", "email": "ops@example.com" } },
//!   "users": [ { "account": "123456789012", "name": "admin",
//!                "policies": [ { "Version": "2012-10-17",
//!                                "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] } ],
//!                "access_keys": [ { "id": "AKIA...", "secret": "..." } ] } ],
//!   "groups": [ { "account": "123456789012", "name": "readers", "policies": [ ... ] } ],
//!   "roles": [ { "account": "123456789012", "name": "Writer", "trust_policy": { ... }, "policies": [ ... ] } ],
//!   "sessions": [ { "role": "Writer", "account": "123456789012", "session_name": "ci",
//!                   "access_key": "ASIA...", "secret": "...", "token": "...", "expires_unix_ms": 0 } ]
//! }
//! ```
//!
//! Nothing here is specific to one protocol: the S3 endpoint and the DynamoDB endpoint both
//! resolve the access key of a signed request through it to a principal, and both decide with
//! the same IAM engine. Policies are IAM JSON, checked when the file is loaded, so a typo is
//! an error at start-up that names the user and the policy, not an AccessDenied later.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::IdentityError;

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamFile {
    /// Accounts by 12-digit ID.
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountEntry>,
    /// IAM users.
    #[serde(default)]
    pub users: Vec<UserEntry>,
    /// IAM groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupEntry>,
    /// IAM roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleEntry>,
    /// Assumed-role sessions with their temporary credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionEntry>,
}

/// An account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    /// Display name (S3's Owner DisplayName).
    pub name: String,
    /// S3 canonical user ID (64 hex digits); derived from the account ID when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_id: Option<String>,
    /// E-mail address (ACL grants by e-mail resolve through it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Whether a key signs requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Usable.
    #[default]
    Active,
    /// Kept, but requests signed with it fail with InvalidAccessKeyId.
    Inactive,
}

/// An access key pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// The access key ID (`AKIA...`).
    pub id: String,
    /// The secret access key.
    pub secret: String,
    /// Active or inactive.
    #[serde(default, skip_serializing_if = "is_active")]
    pub status: KeyStatus,
}

fn is_active(s: &KeyStatus) -> bool {
    *s == KeyStatus::Active
}

/// An IAM user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// Its account.
    pub account: String,
    /// User name.
    pub name: String,
    /// IAM path (`/` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Inline identity policies.
    #[serde(default)]
    pub policies: Vec<Value>,
    /// Group names (in the same account).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Permissions boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Value>,
    /// Principal tags (`aws:PrincipalTag/...`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
}

/// An IAM group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    /// Its account.
    pub account: String,
    /// Group name.
    pub name: String,
    /// Inline policies of every member.
    #[serde(default)]
    pub policies: Vec<Value>,
}

/// An IAM role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleEntry {
    /// Its account.
    pub account: String,
    /// Role name.
    pub name: String,
    /// Who may assume it.
    pub trust_policy: Value,
    /// Inline identity policies of its sessions.
    #[serde(default)]
    pub policies: Vec<Value>,
    /// Permissions boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Value>,
    /// Role tags (session principal tags).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// An assumed-role session and its temporary credentials (`seedbed iam assume-role`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionEntry {
    /// The role's account.
    pub account: String,
    /// The role's name.
    pub role: String,
    /// The session name.
    pub session_name: String,
    /// Temporary access key ID (`ASIA...`).
    pub access_key: String,
    /// Its secret.
    pub secret: String,
    /// The session token clients send as `x-amz-security-token`.
    pub token: String,
    /// When the credentials expire, Unix milliseconds.
    pub expires_unix_ms: u64,
    /// Session policies (they narrow the role's permissions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Value>,
    /// Session tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Held while the IAM file is read, edited and written — by `seedbed iam` or by the server's
/// own edits (STS AssumeRole records sessions): an exclusive lock on `FILE.lock` beside it, so
/// that two editors in two processes never both read the old file and one's change is lost
/// (the file itself is replaced by a rename on every write, so it cannot carry the lock).
/// Released when dropped.
#[derive(Debug)]
pub struct EditLock {
    _file: std::fs::File,
}

impl IamFile {
    /// Take the edit lock of the file at `path` (waiting while another editor holds it).
    pub fn lock_edits(path: &Path) -> Result<EditLock, IdentityError> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let lock_path = std::path::PathBuf::from(name);
        let io = |e: std::io::Error| IdentityError::Io {
            path: lock_path.display().to_string(),
            error: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        Ok(EditLock { _file: file })
    }

    /// Read and parse a file; errors name the file and the JSON position.
    pub fn read(path: &Path) -> Result<IamFile, IdentityError> {
        let text = std::fs::read_to_string(path).map_err(|e| IdentityError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| IdentityError::Invalid {
            what: path.display().to_string(),
            why: e.to_string(),
        })
    }

    /// Write the file atomically (a temporary file renamed over it), readable by its owner
    /// only: it holds secrets.
    pub fn write(&self, path: &Path) -> Result<(), IdentityError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let io = |e: std::io::Error| IdentityError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let mut text = serde_json::to_string_pretty(self).expect("the IAM file serialises");
        text.push('\n');
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// The user `name` of `account`.
    pub fn user_mut(&mut self, account: &str, name: &str) -> Option<&mut UserEntry> {
        self.users
            .iter_mut()
            .find(|u| u.account == account && u.name == name)
    }

    /// The account of the only user called `name`, or an error naming the ambiguity.
    pub fn account_of_user(&self, name: &str) -> Result<String, IdentityError> {
        let found: Vec<&UserEntry> = self.users.iter().filter(|u| u.name == name).collect();
        match found.as_slice() {
            [one] => Ok(one.account.clone()),
            [] => Err(IdentityError::NotFound(format!("no user named '{name}'"))),
            _ => Err(IdentityError::Invalid {
                what: format!("user '{name}'"),
                why: "several accounts have a user of that name; give --account".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_lock_keeps_other_editors_out_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("iam.json");
        let held = IamFile::lock_edits(&path).unwrap();
        // Another editor (another open file description, as another process has) cannot take it.
        let other = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("sub").join("iam.json.lock"))
            .unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().expect("free once the holder is done");
    }
}
