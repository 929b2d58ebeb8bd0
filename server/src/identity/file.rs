//! The IAM file: accounts, users, groups, roles, their policies, and the access keys that sign
//! requests — one JSON document that `seedbed serve` reads, `seedbed iam` edits, and the IAM
//! API over HTTP (`aws iam create-user`, [`crate::iam_api`]) edits while the server runs.
//!
//! ```json
//! {
//!   "accounts": { "123456789012": { "name": "seedbed", "email": "ops@example.com",
//!                                   "root_access_keys": [ { "id": "AKIA...", "secret": "..." } ] } },
//!   "users": [ { "account": "123456789012", "name": "admin", "path": "/ops/",
//!                "id": "AIDA...", "created": "2026-12-05T10:00:00Z",
//!                "policies": [ { "name": "AdministratorAccess",
//!                                "document": { "Version": "2012-10-17",
//!                                              "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] } } ],
//!                "managed": [ "arn:aws:iam::aws:policy/IAMReadOnlyAccess" ],
//!                "groups": [ "readers" ],
//!                "access_keys": [ { "id": "AKIA...", "secret": "...", "created": "..." } ] } ],
//!   "groups": [ { "account": "123456789012", "name": "readers", "policies": [ ... ], "managed": [ ... ] } ],
//!   "roles": [ { "account": "123456789012", "name": "Writer", "max_session_secs": 7200,
//!                "trust_policy": { ... }, "policies": [ ... ] } ],
//!   "sessions": [ { "role": "Writer", "account": "123456789012", "session_name": "ci",
//!                   "access_key": "ASIA...", "secret": "...", "token": "...", "expires_unix_ms": 0 } ],
//!   "oidc_providers": [ { "account": "123456789012", "url": "https://idp.example.com",
//!                         "client_ids": [ "app" ], "thumbprints": [ ... ] } ]
//! }
//! ```
//!
//! Only `account` and `name` are needed of a user, group or role (and a role's
//! `trust_policy`); an inline policy may be the bare document (the IAM API calls it `policy-N`);
//! `managed` names AWS-managed policies ([`super::managed`]). Policy documents are kept as
//! their text, as written.
//!
//! Nothing here is specific to one protocol: the S3 endpoint and the DynamoDB endpoint both
//! resolve the access key of a signed request through it to a principal, and both decide with
//! the same IAM engine. Policies are IAM JSON, checked when the file is loaded, so a typo is
//! an error at start-up that names the user and the policy, not an AccessDenied later.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::value::{to_raw_value, RawValue};
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
    /// OpenID Connect identity providers registered with IAM (`CreateOpenIDConnectProvider`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_providers: Vec<OidcProviderEntry>,
    /// Customer-managed policies (`CreatePolicy`), which users, groups and roles attach by ARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_policies: Vec<ManagedPolicyEntry>,
}

/// A customer-managed policy: a named, versioned document of one account
/// (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`); what an attachment grants is its default version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicyEntry {
    /// Its account.
    pub account: String,
    /// Policy name.
    pub name: String,
    /// IAM path (`/` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The unique ID (`ANPA…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it was made (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its versions, oldest first (IAM keeps at most five).
    pub versions: Vec<PolicyVersionEntry>,
    /// The version attachments grant (`v1`, `v2`, …).
    pub default_version: String,
    /// Its tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// One version of a customer-managed policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyVersionEntry {
    /// `v1`, `v2`, … (never reused).
    pub id: String,
    /// The document, as written.
    pub document: PolicyDoc,
    /// When it was made (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl ManagedPolicyEntry {
    /// The policy's ARN.
    pub fn arn(&self) -> String {
        let path = self.path.as_deref().unwrap_or("/");
        format!("arn:aws:iam::{}:policy{}{}", self.account, path, self.name)
    }

    /// The default version's document.
    pub fn default_document(&self) -> Option<&PolicyDoc> {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map(|v| &v.document)
    }
}

/// An OpenID Connect provider an account trusts: what `CreateOpenIDConnectProvider` records.
/// (The server does not serve `AssumeRoleWithWebIdentity`; the registry is kept as IAM keeps it.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderEntry {
    /// Its account.
    pub account: String,
    /// The issuer URL (`https://…`).
    pub url: String,
    /// The audiences (client IDs) it issues tokens for.
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// Certificate thumbprints (40 hex digits each).
    #[serde(default)]
    pub thumbprints: Vec<String>,
    /// When it was made (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
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
    /// The account root user's access keys: requests signed with them act as the root user
    /// (`arn:aws:iam::ACCOUNT:root`), allowed everything in its own account without any policy,
    /// as at AWS (where root keys exist, and are discouraged for the same reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_access_keys: Vec<AccessKey>,
    /// When GenerateCredentialReport was last called (ISO 8601 UTC); none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_report: Option<String>,
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
    /// When it was made (ISO 8601 UTC), for the IAM API's `CreateDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When, with which service and in which region a request it signed was last
    /// authenticated (GetAccessKeyLastUsed, the credential report); none: never, or not yet
    /// written (the server keeps recent uses in memory and writes them down once a minute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<LastUsed>,
}

/// The last authenticated use of an access key, or of a role through one of its sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastUsed {
    /// When (ISO 8601 UTC).
    pub date: String,
    /// The region the request was signed for (the server's own for Signature Version 2).
    pub region: String,
    /// The service (`s3`, `dynamodb`, `iam`, `sts`); roles record none, as IAM's
    /// `RoleLastUsed` has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A policy document kept as its text, as the client wrote it: `GetUserPolicy` and `GetRole`
/// answer what `PutUserPolicy` and `CreateRole` were given, key order and all, as IAM does. In
/// the file it is the JSON itself (not a string holding it).
#[derive(Clone, Debug)]
pub struct PolicyDoc(Box<RawValue>);

impl PartialEq for PolicyDoc {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Default for PolicyDoc {
    fn default() -> Self {
        PolicyDoc::from_value(&Value::Object(Default::default()))
    }
}

impl PolicyDoc {
    /// A document from JSON.
    pub fn from_value(v: &Value) -> Self {
        PolicyDoc(to_raw_value(v).expect("a JSON value serialises"))
    }

    /// A document from its text (checked to be JSON; kept as written).
    pub fn from_text(text: &str) -> Result<Self, serde_json::Error> {
        Ok(PolicyDoc(RawValue::from_string(text.to_string())?))
    }

    /// The text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The document as JSON.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).expect("a raw value is JSON")
    }
}

impl Serialize for PolicyDoc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PolicyDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(PolicyDoc)
    }
}

/// An inline policy: its document, and the name the IAM API knows it by (`PutUserPolicy`'s
/// `PolicyName`). In the file a named one is `{"name": ..., "document": {...}}` and an unnamed
/// one (written by hand, or by older versions) is the bare document; the IAM API calls an
/// unnamed policy `policy-N`, N its place in the list.
#[derive(Clone, Debug, PartialEq)]
pub struct InlinePolicy {
    /// The policy's name, when it has one.
    pub name: Option<String>,
    /// The document.
    pub document: PolicyDoc,
}

impl InlinePolicy {
    /// A named policy.
    pub fn named(name: &str, document: &Value) -> Self {
        InlinePolicy {
            name: Some(name.to_string()),
            document: PolicyDoc::from_value(document),
        }
    }

    /// An unnamed one.
    pub fn bare(document: &Value) -> Self {
        InlinePolicy {
            name: None,
            document: PolicyDoc::from_value(document),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedRepr<'a> {
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    document: std::borrow::Cow<'a, RawValue>,
}

impl Serialize for InlinePolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.name {
            Some(name) => NamedRepr {
                name: name.as_str().into(),
                document: std::borrow::Cow::Borrowed(&self.document.0),
            }
            .serialize(s),
            None => self.document.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InlinePolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(match serde_json::from_str::<NamedRepr<'_>>(raw.get()) {
            Ok(n) => InlinePolicy {
                name: Some(n.name.into_owned()),
                document: PolicyDoc(n.document.into_owned()),
            },
            Err(_) => InlinePolicy {
                name: None,
                document: PolicyDoc(raw),
            },
        })
    }
}

/// The name the IAM API gives the policy at `index` of `list`.
pub fn policy_name(list: &[InlinePolicy], index: usize) -> String {
    list[index]
        .name
        .clone()
        .unwrap_or_else(|| format!("policy-{index}"))
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
    /// The unique ID the IAM API gave it (kept across renames); derived from the ARN when
    /// absent (entities written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the IAM API made it (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Inline identity policies.
    #[serde(default)]
    pub policies: Vec<InlinePolicy>,
    /// Attached managed policies, by ARN (AWS-managed ones: [`super::managed`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<String>,
    /// Group names (in the same account).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Permissions boundary, as a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Value>,
    /// Permissions boundary, as a managed policy's ARN (what the IAM API sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Principal tags (`aws:PrincipalTag/...`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// X.509 signing certificates (UploadSigningCertificate), at most two.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_certificates: Vec<SigningCertificate>,
}

/// An X.509 certificate a user signs SOAP-era requests with (IAM's signing certificates; this
/// server keeps and answers them, and signs nothing with them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningCertificate {
    /// The certificate ID IAM gives it.
    pub id: String,
    /// The certificate, PEM, as uploaded.
    pub body: String,
    /// Active or inactive.
    #[serde(default, skip_serializing_if = "is_active")]
    pub status: KeyStatus,
    /// When it was uploaded (ISO 8601 UTC).
    pub uploaded: String,
}

/// An IAM group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    /// Its account.
    pub account: String,
    /// Group name.
    pub name: String,
    /// IAM path (`/` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The unique ID the IAM API gave it (kept across renames); derived from the ARN when
    /// absent (entities written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the IAM API made it (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Inline policies of every member.
    #[serde(default)]
    pub policies: Vec<InlinePolicy>,
    /// Attached managed policies, by ARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<String>,
}

/// An IAM role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleEntry {
    /// Its account.
    pub account: String,
    /// Role name.
    pub name: String,
    /// IAM path (`/` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The unique ID the IAM API gave it (kept across renames); derived from the ARN when
    /// absent (entities written by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the IAM API made it (ISO 8601 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// What the role is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The longest session AssumeRole may give, seconds (3,600 when absent, as at AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_secs: Option<u64>,
    /// Who may assume it.
    pub trust_policy: PolicyDoc,
    /// Inline identity policies of its sessions.
    #[serde(default)]
    pub policies: Vec<InlinePolicy>,
    /// Attached managed policies, by ARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<String>,
    /// Permissions boundary, as a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Value>,
    /// Permissions boundary, as a managed policy's ARN (what the IAM API sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Role tags (session principal tags).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// When and where a session of the role last signed a request (GetRole's `RoleLastUsed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<LastUsed>,
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

    /// Every long-term access key of the file: the users', then each account root user's.
    pub fn access_keys_mut(&mut self) -> impl Iterator<Item = &mut AccessKey> {
        self.users
            .iter_mut()
            .flat_map(|u| u.access_keys.iter_mut())
            .chain(
                self.accounts
                    .values_mut()
                    .flat_map(|a| a.root_access_keys.iter_mut()),
            )
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
