//! The principal making a request (the *caller*), parsed from its ARN.
//!
//! A caller has a chain of identities that a `Principal` element can name: its account, its
//! IAM user or role, and — for temporary credentials — its session. Which link a resource-based
//! policy names decides how the grant combines with permissions boundaries and session policies
//! (see [`crate::iam::evaluate`]).

use super::arn::split_arn;

/// What kind of principal is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// The account's root user, `arn:aws:iam::ACCOUNT:root`.
    Root,
    /// An IAM user, `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User,
    /// A role ARN used directly as the caller (AWS callers are really role *sessions*; this is
    /// accepted for tools that evaluate "the role" without a session).
    Role,
    /// An assumed-role session, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    AssumedRole,
    /// A federated user session from GetFederationToken, `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser,
    /// An AWS service principal such as `s3.amazonaws.com`.
    Service,
    /// An unauthenticated caller (`anonymous` or `*`).
    Anonymous,
}

impl CallerKind {
    /// The value AWS puts in `aws:PrincipalType` for this kind.
    pub fn principal_type(self) -> &'static str {
        match self {
            CallerKind::Root => "Account",
            CallerKind::User => "User",
            CallerKind::Role | CallerKind::AssumedRole => "AssumedRole",
            CallerKind::FederatedUser => "FederatedUser",
            CallerKind::Service => "Service",
            CallerKind::Anonymous => "Anonymous",
        }
    }
}

/// A parsed caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's own ARN (session ARN for sessions), or the service name / `anonymous`.
    pub arn: String,
    /// What kind of principal this is.
    pub kind: CallerKind,
    /// The 12-digit account, when the caller belongs to one.
    pub account: Option<String>,
    /// The partition (`aws`, `aws-cn`, ...), when the caller has an ARN.
    pub partition: Option<String>,
    /// The account root ARN `arn:PARTITION:iam::ACCOUNT:root`.
    pub account_arn: Option<String>,
    /// The IAM user or role behind the caller: the user itself, the role of a role session,
    /// the IAM user that created a federated session.
    pub entity_arn: Option<String>,
    /// The IAM user name, for IAM users (the source of `aws:username`).
    pub user_name: Option<String>,
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Caller {
    /// Parses a caller string. Accepts IAM user, role and root ARNs, STS assumed-role and
    /// federated-user ARNs, a service principal (`s3.amazonaws.com`) and `anonymous` / `*`.
    pub fn parse(text: &str) -> Result<Caller, &'static str> {
        if text == "anonymous" || text == "*" {
            return Ok(Caller {
                arn: "anonymous".into(),
                kind: CallerKind::Anonymous,
                account: None,
                partition: None,
                account_arn: None,
                entity_arn: None,
                user_name: None,
            });
        }
        if !text.starts_with("arn:") {
            if text.ends_with(".amazonaws.com") || text.ends_with(".amazonaws.com.cn") {
                return Ok(Caller {
                    arn: text.into(),
                    kind: CallerKind::Service,
                    account: None,
                    partition: None,
                    account_arn: None,
                    entity_arn: None,
                    user_name: None,
                });
            }
            return Err("a principal is an IAM/STS ARN, a service name such as s3.amazonaws.com, or `anonymous`");
        }
        let seg = split_arn(text).ok_or("not a six-part ARN")?;
        let (partition, service, region, account, resource) =
            (seg[1], seg[2], seg[3], seg[4], seg[5]);
        if !region.is_empty() {
            return Err("IAM and STS principal ARNs have an empty region");
        }
        if !is_account_id(account) {
            return Err("the account segment must be a 12-digit account id");
        }
        if text.contains(['*', '?']) {
            return Err("a caller ARN cannot contain wildcards");
        }
        let account_arn = format!("arn:{partition}:iam::{account}:root");
        let base = |kind, entity_arn: Option<String>, user_name: Option<String>| Caller {
            arn: text.into(),
            kind,
            account: Some(account.into()),
            partition: Some(partition.into()),
            account_arn: Some(account_arn.clone()),
            entity_arn,
            user_name,
        };
        match service {
            "iam" => {
                if resource == "root" {
                    Ok(base(CallerKind::Root, None, None))
                } else if let Some(path_name) = resource.strip_prefix("user/") {
                    let name = path_name.rsplit('/').next().unwrap_or(path_name);
                    if name.is_empty() {
                        return Err("the user name is empty");
                    }
                    Ok(base(CallerKind::User, Some(text.into()), Some(name.into())))
                } else if let Some(path_name) = resource.strip_prefix("role/") {
                    if path_name.rsplit('/').next().unwrap_or("").is_empty() {
                        return Err("the role name is empty");
                    }
                    Ok(base(CallerKind::Role, Some(text.into()), None))
                } else {
                    Err("an IAM principal ARN is `root`, `user/NAME` or `role/NAME`")
                }
            }
            "sts" => {
                if let Some(rest) = resource.strip_prefix("assumed-role/") {
                    let (role, session) = rest
                        .split_once('/')
                        .ok_or("an assumed-role ARN is assumed-role/ROLE/SESSION")?;
                    if role.is_empty() || session.is_empty() {
                        return Err("an assumed-role ARN is assumed-role/ROLE/SESSION");
                    }
                    let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
                    Ok(base(CallerKind::AssumedRole, Some(role_arn), None))
                } else if let Some(name) = resource.strip_prefix("federated-user/") {
                    if name.is_empty() {
                        return Err("the federated user name is empty");
                    }
                    let user_arn = format!("arn:{partition}:iam::{account}:user/{name}");
                    Ok(base(CallerKind::FederatedUser, Some(user_arn), None))
                } else {
                    Err("an STS principal ARN is assumed-role/ROLE/SESSION or federated-user/NAME")
                }
            }
            _ => Err("a principal ARN belongs to the iam or sts service"),
        }
    }

    /// Replaces the entity ARN (the role ARN with its path, from `aws:PrincipalArn`).
    pub fn with_entity_arn(mut self, entity_arn: Option<&str>) -> Self {
        if let (Some(e), CallerKind::AssumedRole) = (entity_arn, self.kind) {
            self.entity_arn = Some(e.to_string());
        }
        self
    }

    /// The value AWS puts in `aws:PrincipalArn`: the role ARN for role sessions, the caller's
    /// own ARN otherwise.
    pub fn principal_arn(&self) -> Option<&str> {
        match self.kind {
            CallerKind::AssumedRole => self.entity_arn.as_deref(),
            CallerKind::Service | CallerKind::Anonymous => None,
            _ => Some(&self.arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let u = Caller::parse("arn:aws:iam::111122223333:user/division/alice").unwrap();
        assert_eq!(
            (u.kind, u.user_name.as_deref()),
            (CallerKind::User, Some("alice"))
        );
        let s = Caller::parse("arn:aws:sts::111122223333:assumed-role/Admin/sess").unwrap();
        assert_eq!(
            s.entity_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
        assert_eq!(
            s.principal_arn(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
        let r = Caller::parse("arn:aws:iam::111122223333:root").unwrap();
        assert_eq!(r.kind, CallerKind::Root);
        assert_eq!(
            Caller::parse("anonymous").unwrap().kind,
            CallerKind::Anonymous
        );
        assert_eq!(
            Caller::parse("s3.amazonaws.com").unwrap().kind,
            CallerKind::Service
        );
        assert!(Caller::parse("arn:aws:iam::1:user/x").is_err());
        assert!(Caller::parse("arn:aws:s3:::bucket").is_err());
        assert!(Caller::parse("bob").is_err());
    }
}
