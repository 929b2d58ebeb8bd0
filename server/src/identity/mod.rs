//! Identities for every protocol the server speaks: who signed a request, and what IAM says
//! they may do.
//!
//! - [`file`] — the IAM file (accounts, users, groups, roles, sessions, access keys);
//! - [`keys`] — minting access keys, secrets and session tokens;
//! - [`Identity`] — one loaded, checked file: the engine's [`Authorizer`] (policies), the
//!   [`Accounts`] (S3's canonical IDs) and an index from access key to [`Credential`];
//! - [`IdentityStore`] — the live identity of a running server: a [`Guard`] shared with the
//!   object store, reloaded when the file changes, so `seedbed iam user add` or a minted key
//!   takes effect without a restart.
//!
//! A protocol front end (S3 today, DynamoDB next) does three things with it: look up the secret
//! of the access key a request was signed with ([`IdentityStore::credential`]), turn the
//! credential into the engine's [`Principal`] (anonymous when unsigned), and ask the engine's
//! IAM with that principal. Nothing in this module knows S3 or DynamoDB.

pub mod file;
pub mod keys;
pub mod last_use;
pub mod managed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use seedbed_engine::iam::authorizer::{
    AssumeRole, AuthError, Authorizer, Directory, Group, Principal, Role, Session, User,
};
use seedbed_engine::iam::{Policy, PolicyKind};
use seedbed_engine::object::owner::derived_canonical_id;
use seedbed_engine::object::{AccountInfo, Accounts, Guard};
use serde_json::Value;

pub use file::{
    AccessKey, AccountEntry, GroupEntry, IamFile, InlinePolicy, KeyStatus, LastUsed, RoleEntry,
    SessionEntry, SigningCertificate, UserEntry,
};

/// What went wrong with identities.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        error: String,
    },
    /// Something in the IAM file (or a request to change it) is not valid.
    #[error("{what}: {why}")]
    Invalid {
        /// Where.
        what: String,
        /// Why.
        why: String,
    },
    /// A user, role or key that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// IAM refused (AssumeRole's trust policy, the caller's permissions); the explanation says
    /// why.
    #[error("{0}")]
    Denied(String),
}

/// What an access key stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Credential {
    /// The secret that signs.
    pub secret: String,
    /// Who signs with it.
    pub principal: Principal,
    /// For temporary credentials: the token the request must carry (`x-amz-security-token`).
    pub session_token: Option<String>,
    /// Inactive keys are refused.
    pub active: bool,
}

/// The ARN of a user.
pub fn user_arn(u: &UserEntry) -> String {
    let path = u.path.as_deref().unwrap_or("/");
    format!("arn:aws:iam::{}:user{}{}", u.account, path, u.name)
}

/// The ARN of a role.
pub fn role_arn_of(r: &RoleEntry) -> String {
    let path = r.path.as_deref().unwrap_or("/");
    format!("arn:aws:iam::{}:role{}{}", r.account, path, r.name)
}

/// The ARN of a group.
pub fn group_arn_of(g: &GroupEntry) -> String {
    let path = g.path.as_deref().unwrap_or("/");
    format!("arn:aws:iam::{}:group{}{}", g.account, path, g.name)
}

/// The ARN of role `name` of `account` as the file has it (with its path), or without a path
/// when there is no such role.
fn role_arn(f: &IamFile, account: &str, name: &str) -> String {
    f.roles
        .iter()
        .find(|r| r.account == account && r.name == name)
        .map(role_arn_of)
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/{name}"))
}

/// The unique ID of an entity: the one the IAM API gave it, else one derived from its ARN.
pub fn entity_id(stored: &Option<String>, prefix: &str, arn: &str) -> String {
    stored.clone().unwrap_or_else(|| unique_id(prefix, arn))
}

/// A stable unique id (`AIDA...`, `AROA...`) for a user or role, derived from its ARN.
fn unique_id(prefix: &str, arn: &str) -> String {
    let hex = derived_canonical_id(arn).to_ascii_uppercase();
    format!("{prefix}{}", &hex[..17])
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn policies(
    values: &[Value],
    kind: PolicyKind,
    owner: &str,
) -> Result<Vec<Arc<Policy>>, IdentityError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Policy::from_value(v, kind)
                .map(Arc::new)
                .map_err(|e| IdentityError::Invalid {
                    what: format!("{owner}, policy {i}"),
                    why: e.to_string(),
                })
        })
        .collect()
}

/// An entity's identity policies: its inline ones (named in errors by their IAM API names) and
/// the managed ones it has attached.
fn identity_policies(
    inline: &[InlinePolicy],
    attached: &[String],
    customer: &[file::ManagedPolicyEntry],
    owner: &str,
) -> Result<Vec<Arc<Policy>>, IdentityError> {
    let mut out = Vec::with_capacity(inline.len() + attached.len());
    for (i, p) in inline.iter().enumerate() {
        let policy =
            Policy::from_value(&p.document.value(), PolicyKind::Identity).map_err(|e| {
                IdentityError::Invalid {
                    what: match &p.name {
                        Some(n) => format!("{owner}, policy '{n}'"),
                        None => format!("{owner}, policy {i}"),
                    },
                    why: e.to_string(),
                }
            })?;
        out.push(Arc::new(policy));
    }
    for arn in attached {
        out.push(managed_policy(arn, customer, PolicyKind::Identity, owner)?);
    }
    Ok(out)
}

/// The managed policy `arn` (an AWS-managed one, or one of the file's) as a policy of `kind`
/// (attached: identity; a permissions boundary: boundary).
fn managed_policy(
    arn: &str,
    customer: &[file::ManagedPolicyEntry],
    kind: PolicyKind,
    owner: &str,
) -> Result<Arc<Policy>, IdentityError> {
    let doc = match managed::document(arn) {
        Some(doc) => doc,
        None => customer
            .iter()
            .find(|p| p.arn() == arn)
            .and_then(|p| p.default_document())
            .map(|d| d.value())
            .ok_or_else(|| IdentityError::Invalid {
                what: format!("{owner}, policy {arn}"),
                why: format!(
                    "no such policy: neither one of the account's (CreatePolicy) nor an AWS-managed one this server has ({})",
                    managed::names().join(", ")
                ),
            })?,
    };
    Policy::from_value(&doc, kind)
        .map(Arc::new)
        .map_err(|e| IdentityError::Invalid {
            what: format!("{owner}, policy {arn}"),
            why: e.to_string(),
        })
}

/// An entity's permissions boundary: a document written in the file, or a managed policy's ARN
/// (as the IAM API sets it), not both.
fn boundary(
    document: &Option<Value>,
    arn: &Option<String>,
    customer: &[file::ManagedPolicyEntry],
    owner: &str,
) -> Result<Option<Arc<Policy>>, IdentityError> {
    match (document, arn) {
        (Some(_), Some(_)) => Err(IdentityError::Invalid {
            what: owner.to_string(),
            why: "a permissions boundary is a document (`boundary`) or a managed policy (`permissions_boundary`), not both".into(),
        }),
        (Some(b), None) => Ok(policies(std::slice::from_ref(b), PolicyKind::Boundary, owner)?.pop()),
        (None, Some(a)) => managed_policy(a, customer, PolicyKind::Boundary, owner).map(Some),
        (None, None) => Ok(None),
    }
}

/// A loaded, checked IAM file.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The file as read.
    pub file: IamFile,
    /// Users, groups, roles and their policies, as the engine's IAM evaluates them.
    pub authorizer: Authorizer,
    /// Canonical IDs and display names.
    pub accounts: Accounts,
    keys: BTreeMap<String, Credential>,
}

impl Identity {
    /// Check and compile a file: every account ID has 12 digits, every user, group and role
    /// belongs to a declared account, names are unique, policies parse, access keys are
    /// unique.
    pub fn from_file(file: IamFile) -> Result<Identity, IdentityError> {
        let invalid = |what: String, why: &str| IdentityError::Invalid {
            what,
            why: why.to_string(),
        };
        let mut accounts = Accounts::new();
        for (id, a) in &file.accounts {
            if !is_account_id(id) {
                return Err(invalid(
                    format!("account '{id}'"),
                    "account IDs are 12 digits",
                ));
            }
            let canonical_id = a
                .canonical_id
                .clone()
                .unwrap_or_else(|| derived_canonical_id(id));
            if canonical_id.len() != 64 || !canonical_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(
                    format!("account '{id}'"),
                    "canonical_id must be 64 hex digits",
                ));
            }
            accounts.insert(
                id,
                AccountInfo {
                    canonical_id,
                    display_name: a.name.clone(),
                    email: a.email.clone(),
                },
            );
        }
        let known = |account: &str, what: &str| {
            if file.accounts.contains_key(account) {
                Ok(())
            } else {
                Err(invalid(
                    what.to_string(),
                    &format!("account {account} is not declared under \"accounts\""),
                ))
            }
        };
        let mut dir = Directory::new();
        let mut keys = BTreeMap::new();
        let mut add_key = |id: &str, cred: Credential, what: &str| {
            if keys.insert(id.to_string(), cred).is_some() {
                return Err(invalid(
                    what.to_string(),
                    &format!("access key {id} is used twice"),
                ));
            }
            Ok(())
        };
        for g in &file.groups {
            let what = format!("group {}/{}", g.account, g.name);
            known(&g.account, &what)?;
            dir.put_group(Group {
                arn: group_arn_of(g),
                policies: identity_policies(
                    &g.policies,
                    &g.managed,
                    &file.managed_policies,
                    &what,
                )?,
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for u in &file.users {
            let what = format!("user {}/{}", u.account, u.name);
            known(&u.account, &what)?;
            if !seen.insert((u.account.clone(), u.name.clone())) {
                return Err(invalid(
                    what,
                    "a user of that name already exists in the account",
                ));
            }
            let arn = user_arn(u);
            for g in &u.groups {
                if !file
                    .groups
                    .iter()
                    .any(|x| x.account == u.account && x.name == *g)
                {
                    return Err(invalid(
                        what.clone(),
                        &format!("group '{g}' does not exist"),
                    ));
                }
            }
            dir.put_user(User {
                arn: arn.clone(),
                unique_id: entity_id(&u.id, "AIDA", &arn),
                policies: identity_policies(
                    &u.policies,
                    &u.managed,
                    &file.managed_policies,
                    &what,
                )?,
                groups: u
                    .groups
                    .iter()
                    .filter_map(|g| {
                        file.groups
                            .iter()
                            .find(|x| x.account == u.account && x.name == *g)
                            .map(group_arn_of)
                    })
                    .collect(),
                boundary: boundary(
                    &u.boundary,
                    &u.permissions_boundary,
                    &file.managed_policies,
                    &what,
                )?,
                tags: u.tags.clone(),
            });
            for k in &u.access_keys {
                add_key(
                    &k.id,
                    Credential {
                        secret: k.secret.clone(),
                        principal: Principal::User(arn.clone()),
                        session_token: None,
                        active: k.status == KeyStatus::Active,
                    },
                    &what,
                )?;
            }
        }
        for (account, a) in &file.accounts {
            for k in &a.root_access_keys {
                add_key(
                    &k.id,
                    Credential {
                        secret: k.secret.clone(),
                        principal: Principal::Root(account.clone()),
                        session_token: None,
                        active: k.status == KeyStatus::Active,
                    },
                    &format!("account {account}'s root user"),
                )?;
            }
        }
        for r in &file.roles {
            let what = format!("role {}/{}", r.account, r.name);
            known(&r.account, &what)?;
            let arn = role_arn_of(r);
            let trust = Policy::from_value(&r.trust_policy.value(), PolicyKind::Trust)
                .map_err(|e| invalid(format!("{what}, trust policy"), &e.to_string()))?;
            dir.put_role(Role {
                arn: arn.clone(),
                unique_id: entity_id(&r.id, "AROA", &arn),
                trust_policy: Arc::new(trust),
                policies: identity_policies(
                    &r.policies,
                    &r.managed,
                    &file.managed_policies,
                    &what,
                )?,
                boundary: boundary(
                    &r.boundary,
                    &r.permissions_boundary,
                    &file.managed_policies,
                    &what,
                )?,
                tags: r.tags.clone(),
            });
        }
        for s in &file.sessions {
            let what = format!(
                "session {} of role {}/{}",
                s.session_name, s.account, s.role
            );
            if !file
                .roles
                .iter()
                .any(|r| r.account == s.account && r.name == s.role)
            {
                return Err(invalid(what, "its role does not exist"));
            }
            let role = role_arn(&file, &s.account, &s.role);
            let session = Session {
                arn: format!(
                    "arn:aws:sts::{}:assumed-role/{}/{}",
                    s.account, s.role, s.session_name
                ),
                role_arn: role,
                session_name: s.session_name.clone(),
                session_policies: if s.policies.is_empty() {
                    None
                } else {
                    Some(policies(&s.policies, PolicyKind::Session, &what)?)
                },
                tags: s.tags.clone(),
                expires_unix_ms: s.expires_unix_ms,
            };
            add_key(
                &s.access_key,
                Credential {
                    secret: s.secret.clone(),
                    principal: Principal::Session(session),
                    session_token: Some(s.token.clone()),
                    active: true,
                },
                &what,
            )?;
        }
        Ok(Identity {
            file,
            authorizer: Authorizer::new(dir),
            accounts,
            keys,
        })
    }

    /// Load and check a file.
    pub fn load(path: &Path) -> Result<Identity, IdentityError> {
        Identity::from_file(IamFile::read(path)?)
    }

    /// What an access key stands for.
    pub fn credential(&self, access_key: &str) -> Option<&Credential> {
        self.keys.get(access_key)
    }
}

/// A fresh IAM file for a new server: one account, one administrator with one access key.
pub fn bootstrap(
    account: &str,
    account_name: &str,
    user: &str,
) -> Result<(IamFile, AccessKey), IdentityError> {
    let mut f = IamFile::default();
    f.accounts.insert(
        account.to_string(),
        AccountEntry {
            name: account_name.to_string(),
            ..AccountEntry::default()
        },
    );
    let key = add_user(
        &mut f,
        account,
        user,
        vec![InlinePolicy::named("AdministratorAccess", &admin_policy())],
    )?;
    Ok((f, key))
}

/// The policy that allows everything (AWS's AdministratorAccess).
pub fn admin_policy() -> Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }]
    })
}

/// Add an account if it is not there yet.
pub fn ensure_account(
    f: &mut IamFile,
    account: &str,
    name: Option<&str>,
) -> Result<(), IdentityError> {
    if !is_account_id(account) {
        return Err(IdentityError::Invalid {
            what: format!("account '{account}'"),
            why: "account IDs are 12 digits".into(),
        });
    }
    let entry = f
        .accounts
        .entry(account.to_string())
        .or_insert_with(|| AccountEntry {
            name: name.unwrap_or(account).to_string(),
            ..AccountEntry::default()
        });
    if let Some(n) = name {
        entry.name = n.to_string();
    }
    Ok(())
}

/// Whether `name` is an IAM name of at most `max` characters (64 for users, groups and roles,
/// 128 for policies): `A-Z a-z 0-9` and `+=,.@_-`.
pub fn is_iam_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// Add a user with inline `policies` and one new access key; returns the key.
pub fn add_user(
    f: &mut IamFile,
    account: &str,
    name: &str,
    policies: Vec<InlinePolicy>,
) -> Result<AccessKey, IdentityError> {
    ensure_account(f, account, None)?;
    if !is_iam_name(name, 64) {
        return Err(IdentityError::Invalid {
            what: format!("user name '{name}'"),
            why: "IAM user names are 1 to 64 of A-Z a-z 0-9 and +=,.@_-".into(),
        });
    }
    // IAM names are unique without regard to case (the IAM API finds `bob` as `Bob`).
    if f.users
        .iter()
        .any(|u| u.account == account && u.name.eq_ignore_ascii_case(name))
    {
        return Err(IdentityError::Invalid {
            what: format!("user {account}/{name}"),
            why: "already exists".into(),
        });
    }
    let key = new_key()?;
    f.users.push(UserEntry {
        account: account.to_string(),
        name: name.to_string(),
        id: Some(keys::entity_id("AIDA")?),
        created: Some(now_iso8601()),
        policies,
        access_keys: vec![key.clone()],
        ..UserEntry::default()
    });
    // Check the whole file as the server will.
    Identity::from_file(f.clone())?;
    Ok(key)
}

/// Now, ISO 8601 UTC (the wall clock: the server and the CLI, never the simulator).
pub fn now_iso8601() -> String {
    seedbed_engine::iam::authorizer::iso8601(now_unix_ms())
}

/// Now, Unix milliseconds.
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new active access key pair, made now.
pub fn new_key() -> Result<AccessKey, IdentityError> {
    Ok(AccessKey {
        id: keys::access_key_id()?,
        secret: keys::secret()?,
        status: KeyStatus::Active,
        created: Some(now_iso8601()),
        last_used: None,
    })
}

/// Mint one more access key for a user.
pub fn mint_key(f: &mut IamFile, account: &str, user: &str) -> Result<AccessKey, IdentityError> {
    let key = new_key()?;
    let u = f
        .user_mut(account, user)
        .ok_or_else(|| IdentityError::NotFound(format!("no user {account}/{user}")))?;
    u.access_keys.push(key.clone());
    Ok(key)
}

/// Who assumes a role.
#[derive(Clone, Copy, Debug)]
pub enum Assumer<'a> {
    /// An IAM user.
    User {
        /// The user's account.
        account: &'a str,
        /// The user's name.
        name: &'a str,
    },
    /// Whoever an access key stands for: a user (its long-term key) or a role session (role
    /// chaining, at most one hour, as at AWS).
    Key {
        /// The access key (`AKIA...` or `ASIA...`).
        access_key: &'a str,
    },
}

/// A role's longest session when it sets none (AWS's default `MaxSessionDuration`).
pub const DEFAULT_MAX_SESSION_SECS: u64 = 3600;

/// What STS allows a session made by role chaining (AWS: one hour, whatever is asked).
pub const CHAINED_MAX_SECS: u64 = 3600;

/// Who assumes which role, for how long.
#[derive(Clone, Debug)]
pub struct AssumeRoleRequest<'a> {
    /// Who asks.
    pub caller: Assumer<'a>,
    /// The role's account.
    pub role_account: &'a str,
    /// The role's name.
    pub role: &'a str,
    /// The session name.
    pub session_name: &'a str,
    /// Lifetime, seconds (900 to 43200).
    pub duration_s: u64,
    /// Session policies (JSON documents): they narrow the role's permissions.
    pub policies: &'a [Value],
    /// Session tags (the trust policy must allow `sts:TagSession`).
    pub tags: &'a BTreeMap<String, String>,
    /// `sts:ExternalId`, for trust policies that ask for it.
    pub external_id: Option<&'a str>,
    /// Now, Unix milliseconds.
    pub now_unix_ms: u64,
}

/// Assume a role as a user (the trust policy decides, as STS AssumeRole does) and record the
/// session with new temporary credentials.
pub fn assume_role(
    f: &mut IamFile,
    req: &AssumeRoleRequest<'_>,
) -> Result<SessionEntry, IdentityError> {
    let AssumeRoleRequest {
        caller,
        role_account,
        role,
        session_name,
        duration_s,
        policies: session_policies,
        tags,
        external_id,
        now_unix_ms,
    } = *req;
    let id = Identity::from_file(f.clone())?;
    let (caller, caller_arn) = match caller {
        Assumer::User { account, name } => {
            let u = f
                .users
                .iter()
                .find(|u| u.account == account && u.name == name)
                .ok_or_else(|| IdentityError::NotFound(format!("no user {account}/{name}")))?;
            (Principal::User(user_arn(u)), user_arn(u))
        }
        Assumer::Key { access_key } => {
            let c = id
                .credential(access_key)
                .filter(|c| c.active)
                .ok_or_else(|| IdentityError::NotFound(format!("no access key {access_key}")))?;
            match &c.principal {
                Principal::User(arn) => (c.principal.clone(), arn.clone()),
                Principal::Session(s) => {
                    if s.expires_unix_ms <= now_unix_ms {
                        return Err(IdentityError::Denied(format!("{} has expired", s.arn)));
                    }
                    if duration_s > CHAINED_MAX_SECS {
                        return Err(IdentityError::Invalid {
                            what: "DurationSeconds".into(),
                            why: format!(
                                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining ({duration_s} > {CHAINED_MAX_SECS})"
                            ),
                        });
                    }
                    (c.principal.clone(), s.arn.clone())
                }
                _ => {
                    return Err(IdentityError::Denied(format!(
                        "{access_key} is neither a user's key nor a session's"
                    )))
                }
            }
        }
    };
    let arn = role_arn(f, role_account, role);
    if let Some(r) = f
        .roles
        .iter()
        .find(|r| r.account == role_account && r.name == role)
    {
        let max = r.max_session_secs.unwrap_or(DEFAULT_MAX_SESSION_SECS);
        if duration_s > max {
            return Err(IdentityError::Invalid {
                what: "DurationSeconds".into(),
                why: format!(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({duration_s} > {max})"
                ),
            });
        }
    }
    let parsed = policies(session_policies, PolicyKind::Session, "the session policy")?;
    let external: Vec<&str> = external_id.into_iter().collect();
    let context: Vec<(&str, &[&str])> = if external.is_empty() {
        Vec::new()
    } else {
        vec![("sts:ExternalId", external.as_slice())]
    };
    let session = id
        .authorizer
        .assume_role(
            &caller,
            &AssumeRole {
                role_arn: &arn,
                session_name,
                session_policies: parsed,
                tags: tags.clone(),
                duration_seconds: duration_s,
                context: &context,
                now_unix_ms,
            },
        )
        .map_err(|e| match e {
            AuthError::AccessDenied(why) => {
                IdentityError::Denied(format!("{caller_arn} may not assume {arn}: {why}"))
            }
            AuthError::NoSuchRole(_) => IdentityError::Denied(format!(
                "{caller_arn} may not assume {arn}: there is no such role"
            )),
            e => IdentityError::Invalid {
                what: format!("assume role {arn} as {caller_arn}"),
                why: e.to_string(),
            },
        })?;
    let entry = SessionEntry {
        account: role_account.to_string(),
        role: role.to_string(),
        session_name: session_name.to_string(),
        access_key: keys::session_key_id()?,
        secret: keys::secret()?,
        token: keys::session_token()?,
        expires_unix_ms: session.expires_unix_ms,
        policies: session_policies.to_vec(),
        // The role's tags with the session's over them, as the session's principal tags.
        tags: session.tags,
    };
    f.sessions.push(entry.clone());
    Ok(entry)
}

/// The identity of a running server: the [`Guard`] the object store's IAM uses, and the key
/// index, reloaded from the IAM file when it changes (checked at most once a second, on the
/// next lookup). A file that fails to load keeps the last good identity and logs why.
#[derive(Debug)]
pub struct IdentityStore {
    path: Option<PathBuf>,
    guard: Arc<Guard>,
    current: RwLock<Arc<Identity>>,
    checked: Mutex<(Instant, Option<SystemTime>)>,
    /// Held while the server itself edits the file (STS's AssumeRole records sessions), so two
    /// of its edits never read the same old file (`IamFile::lock_edits` keeps other processes
    /// out).
    edits: Mutex<()>,
    /// Keys' and roles' last uses not yet written to the file.
    uses: last_use::UseLog,
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl IdentityStore {
    /// Serve `identity`; with `path`, follow that file's changes. `owner_account` owns buckets
    /// created before owners were recorded.
    pub fn new(identity: Identity, path: Option<PathBuf>, owner_account: &str) -> IdentityStore {
        let guard = Guard {
            authorizer: Arc::new(RwLock::new(identity.authorizer.clone())),
            accounts: Arc::new(RwLock::new(identity.accounts.clone())),
            owner_account: owner_account.to_string(),
        };
        let stamp = path.as_deref().and_then(mtime);
        IdentityStore {
            path,
            guard: Arc::new(guard),
            current: RwLock::new(Arc::new(identity)),
            checked: Mutex::new((Instant::now(), stamp)),
            edits: Mutex::new(()),
            uses: last_use::UseLog::default(),
        }
    }

    /// Record an authenticated request: `access_key`, standing for `principal`, signed a
    /// request for `service` in `region`, now ([`last_use`]).
    pub fn record_use(&self, access_key: &str, principal: &Principal, service: &str, region: &str) {
        self.uses
            .record(access_key, principal, service, region, now_unix_ms());
    }

    /// The IAM file as of now, with the uses not yet written laid over it: what the IAM API's
    /// reads answer from.
    pub fn file_with_uses(&self) -> IamFile {
        let mut f = self.current().file.clone();
        self.uses.apply(&mut f);
        f
    }

    /// Write the recorded uses into the IAM file (the server does so once a minute and when it
    /// stops). Without a file (identities given in memory) they stay in memory.
    pub fn flush_uses(&self) -> Result<(), IdentityError> {
        if self.path.is_none() || self.uses.is_empty() {
            return Ok(());
        }
        self.uses.flush(|apply| {
            self.edit_file(|f| {
                apply(f);
                Ok::<(), IdentityError>(())
            })
        })
    }

    /// Change the IAM file with `edit` (read, edited, written atomically), one edit at a time,
    /// and serve the result at once (not on the next once-a-second look). Fails without a file.
    pub fn edit_file<T, E: From<IdentityError>>(
        &self,
        edit: impl FnOnce(&mut IamFile) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(path) = &self.path else {
            return Err(IdentityError::Invalid {
                what: "the server's identities".into(),
                why: "they come from no IAM file (nothing to record a change in)".into(),
            }
            .into());
        };
        let _one_at_a_time = self.edits.lock().unwrap_or_else(|p| p.into_inner());
        // ... and one at a time with `seedbed iam` in other processes.
        let _lock = IamFile::lock_edits(path)?;
        let mut f = IamFile::read(path)?;
        let out = edit(&mut f)?;
        // Checked before it is written: a file the server could not load is never left behind.
        let id = Identity::from_file(f.clone())?;
        f.write(path)?;
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        *checked = (Instant::now(), mtime(path));
        self.install(id);
        Ok(out)
    }

    /// Serve `id` from now on.
    fn install(&self, id: Identity) {
        *self
            .guard
            .authorizer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = id.authorizer.clone();
        *self
            .guard
            .accounts
            .write()
            .unwrap_or_else(|p| p.into_inner()) = id.accounts.clone();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(id);
    }

    /// The guard to authorize object store calls with (shared; reloads update it in place).
    pub fn guard(&self) -> &Arc<Guard> {
        &self.guard
    }

    /// The identity as of now.
    pub fn current(&self) -> Arc<Identity> {
        self.refresh();
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What an access key stands for, as of now.
    pub fn credential(&self, access_key: &str) -> Option<Credential> {
        self.current().credential(access_key).cloned()
    }

    /// Reload the file if it changed since the last look (at most once a second).
    pub fn refresh(&self) {
        let Some(path) = &self.path else { return };
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        if checked.0.elapsed() < Duration::from_secs(1) {
            return;
        }
        checked.0 = Instant::now();
        let stamp = mtime(path);
        if stamp == checked.1 {
            return;
        }
        checked.1 = stamp;
        match Identity::load(path) {
            Ok(id) => {
                self.install(id);
                tracing::info!(file = %path.display(), "IAM file reloaded");
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "IAM file not reloaded; keeping the previous identities")
            }
        }
    }
}

/// For tests: role `Reader` of account 123456789012, which only `user/admin` may assume.
#[cfg(test)]
pub(crate) fn reader_role_trusting_admin() -> RoleEntry {
    RoleEntry {
        account: "123456789012".into(),
        name: "Reader".into(),
        trust_policy: file::PolicyDoc::from_value(
            &serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
            "Action": "sts:AssumeRole"}]}),
        ),
        ..RoleEntry::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_users_keys_and_sessions() {
        let (mut f, key) = bootstrap("123456789012", "seedbed", "admin").unwrap();
        let alt = add_user(
            &mut f,
            "444455556666",
            "alt",
            vec![InlinePolicy::bare(&admin_policy())],
        )
        .unwrap();
        let id = Identity::from_file(f.clone()).unwrap();
        assert_eq!(
            id.credential(&key.id).unwrap().principal,
            Principal::User("arn:aws:iam::123456789012:user/admin".into())
        );
        assert_eq!(id.credential(&alt.id).unwrap().secret, alt.secret);
        assert_eq!(id.accounts.owner("123456789012").display_name, "seedbed");
        let second = mint_key(&mut f, "123456789012", "admin").unwrap();
        assert!(Identity::from_file(f.clone())
            .unwrap()
            .credential(&second.id)
            .is_some());
        // Duplicate users and bad names are refused with the reason.
        let e = add_user(&mut f, "123456789012", "admin", vec![]).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        let e = add_user(&mut f, "123456789012", "bad name", vec![]).unwrap_err();
        assert!(e.to_string().contains("user name"), "{e}");
        // A role whose trust policy names admin can be assumed by admin only.
        f.roles.push(reader_role_trusting_admin());
        let no_tags = BTreeMap::new();
        let req = |account, name, session_name| AssumeRoleRequest {
            caller: Assumer::User { account, name },
            role_account: "123456789012",
            role: "Reader",
            session_name,
            duration_s: 900,
            policies: &[],
            tags: &no_tags,
            external_id: None,
            now_unix_ms: 1_000,
        };
        let s = assume_role(&mut f, &req("123456789012", "admin", "s1")).unwrap();
        assert_eq!(s.expires_unix_ms, 1_000 + 900_000);
        let id = Identity::from_file(f.clone()).unwrap();
        let c = id.credential(&s.access_key).unwrap();
        assert_eq!(c.session_token.as_deref(), Some(s.token.as_str()));
        match &c.principal {
            Principal::Session(p) => {
                assert_eq!(p.arn, "arn:aws:sts::123456789012:assumed-role/Reader/s1")
            }
            other => panic!("a role session's key signs as the session, not {other:?}"),
        }
        // A user of another account whom the trust policy does not name is refused, the
        // refusal names who asked for what and why, and no session (no key) is recorded.
        let e = assume_role(&mut f, &req("444455556666", "alt", "s2")).unwrap_err();
        assert!(matches!(e, IdentityError::Denied(_)), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("arn:aws:iam::123456789012:role/Reader")
                && msg.contains("arn:aws:iam::444455556666:user/alt")
                && msg.contains("may not assume")
                && msg.contains("Implicit deny"),
            "{msg}"
        );
        assert_eq!(f.sessions.len(), 1, "only admin's session is recorded");
    }

    #[test]
    fn invalid_files_name_what_is_wrong() {
        let bad: IamFile = serde_json::from_value(serde_json::json!({
            "accounts": {"123456789012": {"name": "a"}},
            "users": [{"account": "123456789012", "name": "u",
                       "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}]}]
        }))
        .unwrap();
        let e = Identity::from_file(bad).unwrap_err().to_string();
        assert!(e.contains("user 123456789012/u, policy 0"), "{e}");
        let e = Identity::from_file(IamFile {
            users: vec![UserEntry {
                account: "999999999999".into(),
                name: "x".into(),
                ..UserEntry::default()
            }],
            ..IamFile::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("not declared"), "{e}");
        assert!(serde_json::from_str::<IamFile>(r#"{"userz": []}"#).is_err());
    }
}
