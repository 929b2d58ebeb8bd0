//! `seedbed iam user|key|role|assume-role|show`: edit the IAM file a server reads (accounts,
//! users, access keys, roles, role sessions). A running `seedbed serve` picks changes up within
//! a second.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use seedbed_server::identity::{self, IamFile, IdentityError, InlinePolicy, KeyStatus, RoleEntry};

/// Where `seedbed serve` keeps its IAM file by default.
const DEFAULT_IAM: &str = "seedbed-data/iam.json";

/// The IAM file to edit.
#[derive(Debug, Args)]
pub struct FileArg {
    /// The IAM file (created if missing).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_IAM)]
    iam: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `seedbed iam user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user with one new access key (printed once: keep the secret).
    Add {
        /// User name (1 to 64 of A-Z a-z 0-9 +=,.@_-).
        name: String,
        /// The user's 12-digit account (created if new).
        #[arg(long, default_value = seedbed_server::serve::DEFAULT_ACCOUNT)]
        account: String,
        /// Display name of a new account (S3's Owner DisplayName).
        #[arg(long)]
        account_name: Option<String>,
        /// E-mail of a new account (ACL grants by e-mail).
        #[arg(long)]
        email: Option<String>,
        /// Canonical user ID of a new account (64 hex digits; derived from the account ID if
        /// not given).
        #[arg(long)]
        canonical_id: Option<String>,
        /// An identity policy file (IAM JSON); repeatable.
        #[arg(long = "policy", value_name = "FILE")]
        policies: Vec<PathBuf>,
        /// Attach the allow-everything policy (AWS's AdministratorAccess).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        file: FileArg,
    },
}

/// `seedbed iam key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Mint another access key for a user.
    Add {
        /// The user.
        user: String,
        /// The user's account (needed only when two accounts have users of that name).
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        file: FileArg,
    },
    /// Mint an access key for an account's root user (created if new): it may do anything in
    /// its account, whatever the policies say, as AWS's root keys may. For tools that need an
    /// account's root (ceph/s3-tests' IAM account tests); for people, a user with a policy is
    /// the better key.
    Root {
        /// The 12-digit account.
        #[arg(long)]
        account: String,
        #[command(flatten)]
        file: FileArg,
    },
    /// Deactivate an access key (requests signed with it fail with InvalidAccessKeyId).
    Disable {
        /// The access key ID.
        id: String,
        #[command(flatten)]
        file: FileArg,
    },
}

/// `seedbed iam role ...`
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Add a role: who may assume it (trust policy) and what its sessions may do.
    Add {
        /// Role name.
        name: String,
        /// The role's account.
        #[arg(long, default_value = seedbed_server::serve::DEFAULT_ACCOUNT)]
        account: String,
        /// The trust policy file (who may call sts:AssumeRole).
        #[arg(long, value_name = "FILE")]
        trust: PathBuf,
        /// An identity policy file; repeatable.
        #[arg(long = "policy", value_name = "FILE")]
        policies: Vec<PathBuf>,
        #[command(flatten)]
        file: FileArg,
    },
}

/// `seedbed iam assume-role`
#[derive(Debug, Args)]
pub struct AssumeRoleArgs {
    /// The user assuming the role.
    #[arg(long)]
    user: String,
    /// The user's account (if ambiguous).
    #[arg(long)]
    user_account: Option<String>,
    /// The role's name.
    #[arg(long)]
    role: String,
    /// The role's account.
    #[arg(long, default_value = seedbed_server::serve::DEFAULT_ACCOUNT)]
    role_account: String,
    /// Session name (2 to 64 of A-Z a-z 0-9 _+=,.@-).
    #[arg(long)]
    session: String,
    /// Lifetime in seconds (900 to 43200).
    #[arg(long, default_value_t = 3600)]
    duration: u64,
    #[command(flatten)]
    file: FileArg,
}

fn read_or_new(path: &Path) -> Result<IamFile, IdentityError> {
    if path.exists() {
        IamFile::read(path)
    } else {
        Ok(IamFile::default())
    }
}

fn read_policy(path: &Path) -> Result<serde_json::Value, IdentityError> {
    let text = std::fs::read_to_string(path).map_err(|e| IdentityError::Io {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| IdentityError::Invalid {
        what: path.display().to_string(),
        why: format!("not JSON: {e}"),
    })
}

/// A policy file as an inline policy named after the file (`readers.json` → `readers`), the
/// name the IAM API lists it by.
fn read_named_policy(path: &Path) -> Result<InlinePolicy, IdentityError> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into());
    Ok(InlinePolicy::named(&name, &read_policy(path)?))
}

fn print_key(json: bool, account: &str, user: &str, k: &identity::AccessKey) {
    if json {
        println!(
            "{}",
            serde_json::json!({"account": account, "user": user, "access_key": k.id, "secret_key": k.secret})
        );
    } else {
        println!("user {user} (account {account})");
        println!("  access key  {}", k.id);
        println!("  secret key  {}", k.secret);
    }
}

fn exit(r: Result<(), IdentityError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ IdentityError::Io { .. }) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `seedbed iam user`.
pub fn user(cmd: UserCommand) -> ExitCode {
    exit((|| {
        let UserCommand::Add {
            name,
            account,
            account_name,
            email,
            canonical_id,
            policies,
            admin,
            file,
        } = cmd;
        let _lock = IamFile::lock_edits(&file.iam)?;
        let mut f = read_or_new(&file.iam)?;
        let new_account = !f.accounts.contains_key(&account);
        identity::ensure_account(&mut f, &account, account_name.as_deref())?;
        if new_account {
            let a = f.accounts.get_mut(&account).expect("just added");
            a.email = email;
            a.canonical_id = canonical_id;
        }
        let mut docs = policies
            .iter()
            .map(|p| read_named_policy(p))
            .collect::<Result<Vec<_>, _>>()?;
        if admin {
            docs.push(InlinePolicy::named(
                "AdministratorAccess",
                &identity::admin_policy(),
            ));
        }
        let key = identity::add_user(&mut f, &account, &name, docs)?;
        f.write(&file.iam)?;
        print_key(file.json, &account, &name, &key);
        Ok(())
    })())
}

/// `seedbed iam key`.
pub fn key(cmd: KeyCommand) -> ExitCode {
    exit((|| match cmd {
        KeyCommand::Add {
            user,
            account,
            file,
        } => {
            let _lock = IamFile::lock_edits(&file.iam)?;
            let mut f = IamFile::read(&file.iam)?;
            let account = match account {
                Some(a) => a,
                None => f.account_of_user(&user)?,
            };
            let key = identity::mint_key(&mut f, &account, &user)?;
            f.write(&file.iam)?;
            print_key(file.json, &account, &user, &key);
            Ok(())
        }
        KeyCommand::Root { account, file } => {
            let _lock = IamFile::lock_edits(&file.iam)?;
            let mut f = read_or_new(&file.iam)?;
            identity::ensure_account(&mut f, &account, None)?;
            let key = identity::new_key()?;
            f.accounts
                .get_mut(&account)
                .expect("just ensured")
                .root_access_keys
                .push(key.clone());
            identity::Identity::from_file(f.clone())?;
            f.write(&file.iam)?;
            print_key(file.json, &account, "root", &key);
            Ok(())
        }
        KeyCommand::Disable { id, file } => {
            let _lock = IamFile::lock_edits(&file.iam)?;
            let mut f = IamFile::read(&file.iam)?;
            let k = f
                .access_keys_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| IdentityError::NotFound(format!("no access key {id}")))?;
            k.status = KeyStatus::Inactive;
            f.write(&file.iam)?;
            println!("access key {id} disabled");
            Ok(())
        }
    })())
}

/// `seedbed iam role`.
pub fn role(cmd: RoleCommand) -> ExitCode {
    exit((|| {
        let RoleCommand::Add {
            name,
            account,
            trust,
            policies,
            file,
        } = cmd;
        let _lock = IamFile::lock_edits(&file.iam)?;
        let mut f = read_or_new(&file.iam)?;
        identity::ensure_account(&mut f, &account, None)?;
        if f.roles
            .iter()
            .any(|r| r.account == account && r.name == name)
        {
            return Err(IdentityError::Invalid {
                what: format!("role {account}/{name}"),
                why: "already exists".into(),
            });
        }
        f.roles.push(RoleEntry {
            account: account.clone(),
            name: name.clone(),
            trust_policy: identity::file::PolicyDoc::from_value(&read_policy(&trust)?),
            policies: policies
                .iter()
                .map(|p| read_named_policy(p))
                .collect::<Result<_, _>>()?,
            created: Some(identity::now_iso8601()),
            ..RoleEntry::default()
        });
        identity::Identity::from_file(f.clone())?;
        f.write(&file.iam)?;
        println!("role arn:aws:iam::{account}:role/{name}");
        Ok(())
    })())
}

/// `seedbed iam assume-role`.
pub fn assume_role(a: AssumeRoleArgs) -> ExitCode {
    exit((|| {
        let _lock = IamFile::lock_edits(&a.file.iam)?;
        let mut f = IamFile::read(&a.file.iam)?;
        let user_account = match a.user_account {
            Some(x) => x,
            None => f.account_of_user(&a.user)?,
        };
        let now = identity::now_unix_ms();
        let s = identity::assume_role(
            &mut f,
            &identity::AssumeRoleRequest {
                caller: identity::Assumer::User {
                    account: &user_account,
                    name: &a.user,
                },
                role_account: &a.role_account,
                role: &a.role,
                session_name: &a.session,
                duration_s: a.duration,
                policies: &[],
                tags: &Default::default(),
                external_id: None,
                now_unix_ms: now,
            },
        )?;
        f.write(&a.file.iam)?;
        if a.file.json {
            println!(
                "{}",
                serde_json::json!({"access_key": s.access_key, "secret_key": s.secret,
                    "session_token": s.token, "expires_unix_ms": s.expires_unix_ms})
            );
        } else {
            println!(
                "session arn:aws:sts::{}:assumed-role/{}/{}",
                s.account, s.role, s.session_name
            );
            println!("  AWS_ACCESS_KEY_ID={}", s.access_key);
            println!("  AWS_SECRET_ACCESS_KEY={}", s.secret);
            println!("  AWS_SESSION_TOKEN={}", s.token);
        }
        Ok(())
    })())
}

/// `seedbed iam show`: accounts, users and their key IDs, roles, sessions and their expiry
/// (never secrets).
pub fn show(file: FileArg) -> ExitCode {
    exit((|| {
        let f = IamFile::read(&file.iam)?;
        let id = identity::Identity::from_file(f.clone())?;
        for (acct, a) in &f.accounts {
            let o = id.accounts.owner(acct);
            println!("account {acct} ({}) canonical id {}", a.name, o.id);
            // Each key with its last use as the server last wrote it (once a minute, and
            // when it stops): what an audit for unused keys looks at.
            let key_ids = |keys: &[identity::AccessKey]| -> String {
                keys.iter()
                    .map(|k| {
                        let used = match &k.last_used {
                            Some(l) => format!(
                                "last used {} with {} in {}",
                                l.date,
                                l.service.as_deref().unwrap_or("?"),
                                l.region
                            ),
                            None => "never used".into(),
                        };
                        match k.status {
                            KeyStatus::Active => format!("{} ({used})", k.id),
                            KeyStatus::Inactive => format!("{} (inactive, {used})", k.id),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !a.root_access_keys.is_empty() {
                println!("  root  keys: {}", key_ids(&a.root_access_keys));
            }
            for u in f.users.iter().filter(|u| &u.account == acct) {
                println!(
                    "  user {}{}  keys: {}",
                    u.path.as_deref().unwrap_or("/").trim_start_matches('/'),
                    u.name,
                    key_ids(&u.access_keys)
                );
            }
            for g in f.groups.iter().filter(|g| &g.account == acct) {
                println!("  group {}", g.name);
            }
            for r in f.roles.iter().filter(|r| &r.account == acct) {
                match &r.last_used {
                    Some(l) => println!("  role {}  last used {} in {}", r.name, l.date, l.region),
                    None => println!("  role {}", r.name),
                }
            }
            for p in f.oidc_providers.iter().filter(|p| &p.account == acct) {
                println!("  oidc provider {}", p.url);
            }
            // Sessions (minted by `iam assume-role` or STS AssumeRole at the server): key IDs
            // and expiry, never secrets or tokens.
            let now = identity::now_unix_ms();
            for s in f.sessions.iter().filter(|s| &s.account == acct) {
                println!(
                    "  session {}/{}  key: {}  expires {}{}",
                    s.role,
                    s.session_name,
                    s.access_key,
                    seedbed_engine::iam::authorizer::iso8601(s.expires_unix_ms),
                    if s.expires_unix_ms <= now {
                        " (expired)"
                    } else {
                        ""
                    }
                );
            }
        }
        Ok(())
    })())
}
