//! STS AssumeRole as the server answers it (the protocol side is `seedbed_dynamo::sts`): the
//! caller is an IAM user signing with its long-term key, or a role session (role chaining, at
//! most one hour); the engine's IAM decides (the role's trust policy, and the caller's own
//! policies for `sts:AssumeRole`); the session is recorded in the IAM file under its edit lock
//! ([`IdentityStore::edit_file`]) and served at once. Sessions past their expiry are dropped
//! from the file in the same edit, so it does not grow with every call.

use seedbed_dynamo::sts::{AssumeRoleInput, AssumedRole, StsFailure};
use seedbed_engine::iam::authorizer::iso8601;
use serde_json::Value;

use crate::identity::{self, AssumeRoleRequest, Assumer, IdentityError, IdentityStore};

/// The role's account and name from `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`.
fn role_of(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

/// Mint a session of `input.role_arn` for the holder of `caller_key` (a user's key or a
/// session's).
pub fn assume_role(
    store: &IdentityStore,
    caller_key: &str,
    input: &AssumeRoleInput,
    now_unix_ms: u64,
) -> Result<AssumedRole, StsFailure> {
    let (role_account, role) = role_of(&input.role_arn).ok_or_else(|| {
        StsFailure::validation(format!(
            "RoleArn `{}` is not a role's ARN (arn:aws:iam::ACCOUNT:role/NAME)",
            input.role_arn
        ))
    })?;
    let policies: Vec<Value> = match &input.policy {
        Some(p) => vec![serde_json::from_str(p).map_err(|e| StsFailure {
            status: 400,
            code: "MalformedPolicyDocument",
            message: format!("the session policy is not JSON: {e}"),
        })?],
        None => Vec::new(),
    };
    let entry = store
        .edit_file(|f| {
            // Managed policies as session policies, each narrowing the session as an inline one
            // does: AWS's, or the role's account's own.
            let mut policies = policies.clone();
            for arn in &input.policy_arns {
                let own = f
                    .managed_policies
                    .iter()
                    .find(|m| m.account == role_account && m.arn() == *arn)
                    .and_then(|m| m.default_document())
                    .map(|d| d.value());
                let doc = identity::managed::document(arn).or(own).ok_or_else(|| {
                    IdentityError::Invalid {
                        what: "PolicyArns".into(),
                        why: format!(
                            "{arn} is neither a policy of account {role_account} nor an AWS-managed one this server has ({})",
                            identity::managed::names().join(", ")
                        ),
                    }
                })?;
                policies.push(doc);
            }
            let session = identity::assume_role(
                f,
                &AssumeRoleRequest {
                    caller: Assumer::Key {
                        access_key: caller_key,
                    },
                    role_account,
                    role,
                    session_name: &input.session_name,
                    duration_s: input.duration_s,
                    policies: &policies,
                    tags: &input.tags,
                    external_id: input.external_id.as_deref(),
                    now_unix_ms,
                },
            )?;
            f.sessions.retain(|s| s.expires_unix_ms > now_unix_ms);
            Ok(session)
        })
        .map_err(|e| match e {
            IdentityError::Denied(m) | IdentityError::NotFound(m) => StsFailure {
                status: 403,
                code: "AccessDenied",
                message: m,
            },
            IdentityError::Invalid { what, why } if what.starts_with("the session policy") => {
                StsFailure {
                    status: 400,
                    code: "MalformedPolicyDocument",
                    message: format!("{what}: {why}"),
                }
            }
            IdentityError::Invalid { what, why } => {
                StsFailure::validation(format!("{what}: {why}"))
            }
            e @ IdentityError::Io { .. } => StsFailure {
                status: 500,
                code: "InternalFailure",
                message: format!("the session could not be recorded: {e}"),
            },
        })?;
    // The role's unique ID with the session name, as GetCallerIdentity shows the session.
    let current = store.current();
    let assumed_role_id = current
        .credential(&entry.access_key)
        .and_then(|c| current.authorizer.caller_identity(&c.principal))
        .map(|(_, user_id, _)| user_id)
        .unwrap_or_else(|| format!("{role}:{}", entry.session_name));
    Ok(AssumedRole {
        access_key: entry.access_key,
        secret: entry.secret,
        token: entry.token,
        expiration: iso8601(entry.expires_unix_ms),
        arn: format!(
            "arn:aws:sts::{role_account}:assumed-role/{role}/{}",
            entry.session_name
        ),
        assumed_role_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_read_strictly() {
        assert_eq!(
            role_of("arn:aws:iam::123456789012:role/Reader"),
            Some(("123456789012", "Reader"))
        );
        assert_eq!(
            role_of("arn:aws:iam::123456789012:role/team/Reader"),
            Some(("123456789012", "Reader"))
        );
        for bad in [
            "Reader",
            "arn:aws:iam::123456789012:user/bob",
            "arn:aws:iam::1234:role/Reader",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert_eq!(role_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn concurrent_assume_roles_all_land_in_the_file_and_are_served_at_once() {
        use crate::identity::{bootstrap, reader_role_trusting_admin, Identity};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iam.json");
        let (mut f, admin) = bootstrap("123456789012", "seedbed", "admin").unwrap();
        f.roles.push(reader_role_trusting_admin());
        f.write(&path).unwrap();
        let store = IdentityStore::new(
            Identity::from_file(f).unwrap(),
            Some(path.clone()),
            "123456789012",
        );
        let now = 1_796_455_325_000;
        let minted: Vec<AssumedRole> = std::thread::scope(|s| {
            let calls: Vec<_> = (0..8)
                .map(|i| {
                    let (store, admin) = (&store, &admin);
                    s.spawn(move || {
                        let input = AssumeRoleInput {
                            role_arn: "arn:aws:iam::123456789012:role/Reader".into(),
                            session_name: format!("s{i}"),
                            duration_s: 900,
                            ..AssumeRoleInput::default()
                        };
                        assume_role(store, &admin.id, &input, now).unwrap()
                    })
                })
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        // Every session is in the file (no edit read a file another was replacing) and served.
        let file = crate::identity::IamFile::read(&path).unwrap();
        assert_eq!(file.sessions.len(), 8);
        for m in &minted {
            assert!(file.sessions.iter().any(|s| s.access_key == m.access_key));
            assert!(store.credential(&m.access_key).is_some_and(|c| c.active));
            assert_eq!(m.expiration, "2026-12-05T07:37:05Z");
        }
        // A later call drops the sessions that have expired by then.
        let later = now + 901_000;
        let input = AssumeRoleInput {
            role_arn: "arn:aws:iam::123456789012:role/Reader".into(),
            session_name: "late".into(),
            duration_s: 900,
            ..AssumeRoleInput::default()
        };
        assume_role(&store, &admin.id, &input, later).unwrap();
        let file = crate::identity::IamFile::read(&path).unwrap();
        let names: Vec<&str> = file
            .sessions
            .iter()
            .map(|s| s.session_name.as_str())
            .collect();
        assert_eq!(names, ["late"]);
        // Role chaining: a session may assume a role its trust policy admits, for an hour at
        // most; here the trust policy names only user/admin, so the session is refused, and an
        // expired session is refused whatever the role.
        let late = assume_role(&store, &admin.id, &input, later).unwrap();
        let e = assume_role(&store, &late.access_key, &input, later).unwrap_err();
        assert_eq!((e.status, e.code), (403, "AccessDenied"), "{e:?}");
        assert!(e.message.contains("assumed-role/Reader/late"), "{e:?}");
        let long = AssumeRoleInput {
            duration_s: 7200,
            ..input.clone()
        };
        let e = assume_role(&store, &late.access_key, &long, later).unwrap_err();
        assert_eq!((e.status, e.code), (400, "ValidationError"), "{e:?}");
        let e = assume_role(&store, &late.access_key, &input, later + 901_000).unwrap_err();
        assert_eq!((e.status, e.code), (403, "AccessDenied"), "{e:?}");
    }
}
