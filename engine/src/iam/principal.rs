//! The `Principal` / `NotPrincipal` element of resource-based and trust policies, and how it
//! matches a caller.
//!
//! Forms: `"*"`; `{"AWS": "*"}` (the same as `"*"`: everyone, including anonymous callers);
//! `{"AWS": "111122223333"}` or `{"AWS": "arn:aws:iam::111122223333:root"}` (the account — a
//! grant to an account *delegates* to that account's identity policies); an IAM user or role
//! ARN; an assumed-role session ARN; a federated-user ARN; `{"Service": ...}`,
//! `{"Federated": ...}`, `{"CanonicalUser": ...}`. AWS allows no partial wildcards here.

use serde_json::Value;

use super::caller::{is_account_id, Caller, CallerKind};
use super::error::{json_type, PolicyError, PolicyErrorKind};

/// How specifically a resource-based policy statement named the caller. This decides whether
/// the grant stands alone (same account) or still needs the identity side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Naming {
    /// The caller's account (`"AWS": "111122223333"`): delegation to the account's identity
    /// policies, never a grant on its own.
    Account,
    /// The IAM entity behind a session: the role ARN of a role session, or the IAM user ARN of
    /// a federated user session. Limited by permissions boundaries and session policies.
    Entity,
    /// The caller itself: its IAM user ARN, its role *session* ARN, its federated-user ARN,
    /// its service name, or `*` (everyone). Not limited by boundaries or session policies.
    Caller,
}

/// One entry of a Principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `*` in any position.
    Everyone,
    /// An account, by id.
    Account(String),
    /// An exact AWS principal ARN.
    Arn(String),
    /// A service principal name.
    Service(String),
    /// A federated identity provider.
    Federated(String),
    /// An S3 canonical user id.
    CanonicalUser(String),
}

/// A parsed Principal or NotPrincipal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    entries: Vec<Entry>,
    /// The element as written, for explanations.
    source: String,
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError::new(
                    format!("{path}[{i}]"),
                    PolicyErrorKind::WrongType {
                        expected: "a string",
                        found: json_type(other),
                    },
                )),
            })
            .collect(),
        other => Err(PolicyError::new(
            path,
            PolicyErrorKind::WrongType {
                expected: "a string or a non-empty array of strings",
                found: json_type(other),
            },
        )),
    }
}

impl PrincipalSpec {
    /// Parses a Principal / NotPrincipal value at `path`.
    pub fn parse(value: &Value, path: &str) -> Result<PrincipalSpec, PolicyError> {
        let source = value.to_string();
        let mut entries = Vec::new();
        match value {
            Value::String(s) if s == "*" => entries.push(Entry::Everyone),
            Value::String(s) => {
                return Err(PolicyError::new(
                    path,
                    PolicyErrorKind::BadValue {
                        what: "principal",
                        value: s.clone(),
                        why: "a principal is \"*\" or an object such as {\"AWS\": \"arn:aws:iam::111122223333:root\"}".into(),
                    },
                ))
            }
            Value::Object(map) => {
                if map.is_empty() {
                    return Err(PolicyError::new(path, PolicyErrorKind::MissingElement("AWS")));
                }
                for (kind, v) in map {
                    let p = format!("{path}.{kind}");
                    for (i, s) in strings(v, &p)?.into_iter().enumerate() {
                        let ep = if matches!(v, Value::Array(_)) { format!("{p}[{i}]") } else { p.clone() };
                        entries.push(parse_entry(kind, s, &ep)?);
                    }
                }
            }
            other => {
                return Err(PolicyError::new(
                    path,
                    PolicyErrorKind::WrongType {
                        expected: "\"*\" or an object",
                        found: json_type(other),
                    },
                ))
            }
        }
        Ok(PrincipalSpec { entries, source })
    }

    /// The element as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How specifically this Principal element names `caller`, or `None` if it does not.
    pub fn names(&self, caller: &Caller) -> Option<Naming> {
        let mut best: Option<Naming> = None;
        for e in &self.entries {
            let n = match e {
                Entry::Everyone => Some(Naming::Caller),
                Entry::Account(a) => {
                    (caller.account.as_deref() == Some(a)).then_some(Naming::Account)
                }
                Entry::Arn(arn) => {
                    if *arn == caller.arn && caller.kind != CallerKind::Role {
                        Some(Naming::Caller)
                    } else if caller.entity_arn.as_deref() == Some(arn) {
                        Some(Naming::Entity)
                    } else {
                        None
                    }
                }
                Entry::Service(s) => (caller.kind == CallerKind::Service && *s == caller.arn)
                    .then_some(Naming::Caller),
                Entry::Federated(f) | Entry::CanonicalUser(f) => {
                    (*f == caller.arn).then_some(Naming::Caller)
                }
            };
            best = best.max(n);
        }
        best
    }

    /// For `NotPrincipal`: true when **every** identity in the caller's chain — its account,
    /// its IAM user or role, its session — is listed, so the statement does not apply to it.
    /// AWS checks the links one by one, which is why its documentation says to list the
    /// account ARN next to the user or role session ARN.
    pub fn excludes(&self, caller: &Caller) -> bool {
        if self.entries.contains(&Entry::Everyone) {
            return true;
        }
        let listed_arn = |arn: &str| {
            self.entries
                .iter()
                .any(|e| matches!(e, Entry::Arn(a) if a == arn))
        };
        match caller.kind {
            CallerKind::Anonymous => false,
            CallerKind::Service => self
                .entries
                .iter()
                .any(|e| matches!(e, Entry::Service(s) if *s == caller.arn)),
            _ => {
                let account_ok = caller.account.as_deref().is_some_and(|a| {
                    self.entries
                        .iter()
                        .any(|e| matches!(e, Entry::Account(x) if x == a))
                });
                let entity_ok = caller.entity_arn.as_deref().is_none_or(listed_arn);
                let own_ok = caller.kind == CallerKind::Root
                    || caller.entity_arn.as_deref() == Some(caller.arn.as_str())
                    || listed_arn(&caller.arn);
                account_ok && entity_ok && own_ok
            }
        }
    }
}

fn parse_entry(kind: &str, s: String, path: &str) -> Result<Entry, PolicyError> {
    let bad = |why: &str| {
        PolicyError::new(
            path,
            PolicyErrorKind::BadValue {
                what: "principal",
                value: s.clone(),
                why: why.into(),
            },
        )
    };
    match kind {
        "AWS" => {
            if s == "*" {
                return Ok(Entry::Everyone);
            }
            if is_account_id(&s) {
                return Ok(Entry::Account(s));
            }
            if s.contains(['*', '?']) {
                return Err(bad("a principal cannot use wildcards except \"*\" alone; use the aws:PrincipalArn condition key for patterns"));
            }
            let caller = Caller::parse(&s).map_err(|why| {
                PolicyError::new(
                    path,
                    PolicyErrorKind::MalformedArn {
                        arn: s.clone(),
                        why,
                    },
                )
            })?;
            match caller.kind {
                CallerKind::Root => {
                    Ok(Entry::Account(caller.account.expect("root has an account")))
                }
                CallerKind::User
                | CallerKind::Role
                | CallerKind::AssumedRole
                | CallerKind::FederatedUser => Ok(Entry::Arn(s)),
                _ => Err(bad("an AWS principal is an account id or an IAM/STS ARN")),
            }
        }
        "Service" => {
            if s == "*" {
                Ok(Entry::Everyone)
            } else if s.is_empty() || s.contains(['*', '?']) {
                Err(bad(
                    "a service principal is a name such as s3.amazonaws.com",
                ))
            } else {
                Ok(Entry::Service(s))
            }
        }
        "Federated" => Ok(Entry::Federated(s)),
        "CanonicalUser" => Ok(Entry::CanonicalUser(s)),
        other => {
            let hint = ["AWS", "Service", "Federated", "CanonicalUser"]
                .iter()
                .find(|k| k.eq_ignore_ascii_case(other))
                .map(|k| k.to_string());
            Err(PolicyError::new(
                path,
                PolicyErrorKind::UnknownElement(other.into(), hint),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(s: &str) -> Caller {
        Caller::parse(s).unwrap()
    }

    #[test]
    fn naming_strength() {
        let session = caller("arn:aws:sts::111122223333:assumed-role/R/s");
        let p = PrincipalSpec::parse(&json!({"AWS": "111122223333"}), "$").unwrap();
        assert_eq!(p.names(&session), Some(Naming::Account));
        let p =
            PrincipalSpec::parse(&json!({"AWS": "arn:aws:iam::111122223333:role/R"}), "$").unwrap();
        assert_eq!(p.names(&session), Some(Naming::Entity));
        let p = PrincipalSpec::parse(&json!({"AWS": ["arn:aws:iam::111122223333:role/R", "arn:aws:sts::111122223333:assumed-role/R/s"]}), "$").unwrap();
        assert_eq!(p.names(&session), Some(Naming::Caller));
        let p = PrincipalSpec::parse(&json!("*"), "$").unwrap();
        assert_eq!(p.names(&caller("anonymous")), Some(Naming::Caller));
        let p =
            PrincipalSpec::parse(&json!({"AWS": "arn:aws:iam::444455556666:root"}), "$").unwrap();
        assert_eq!(p.names(&session), None);
    }

    #[test]
    fn not_principal_needs_every_link() {
        let user = caller("arn:aws:iam::111122223333:user/alice");
        let only_user =
            PrincipalSpec::parse(&json!({"AWS": "arn:aws:iam::111122223333:user/alice"}), "$")
                .unwrap();
        assert!(!only_user.excludes(&user));
        let both = PrincipalSpec::parse(
            &json!({"AWS": ["arn:aws:iam::111122223333:user/alice", "111122223333"]}),
            "$",
        )
        .unwrap();
        assert!(both.excludes(&user));
    }

    #[test]
    fn rejects_partial_wildcards_and_unknown_kinds() {
        assert!(
            PrincipalSpec::parse(&json!({"AWS": "arn:aws:iam::111122223333:user/*"}), "$").is_err()
        );
        assert!(PrincipalSpec::parse(&json!({"aws": "*"}), "$").is_err());
        assert!(PrincipalSpec::parse(&json!("alice"), "$").is_err());
    }
}
