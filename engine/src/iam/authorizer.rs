//! Principals and the API storage services call: users, groups, roles with trust policies,
//! `AssumeRole` sessions, and [`Authorizer::authorize`].
//!
//! The object store and the table API own their resource-based policies (bucket policies,
//! table resource policies) and the resource's account; the [`Directory`] owns identities and
//! the organization's SCPs. A call is:
//!
//! ```text
//! principal (user / role session / root / anonymous)
//!   + Access { action, resource ARN, resource account, resource policies, context keys, time }
//!   → Authorizer::authorize → Decision (+ Explanation on request)
//! ```
//!
//! The authorizer assembles the [`PolicySet`] (user + group policies or role policies, the
//! boundary, the account's SCPs, the session policies) and the [`RequestContext`] (the keys AWS
//! always sets: `aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalType`, `aws:PrincipalTag/*`, `aws:CurrentTime`, `aws:EpochTime`), then
//! evaluates. Time comes from the caller (`now_unix_ms`, read from the injected `Clock`), never
//! from the wall clock. Everything is kept in `BTreeMap`s, so iteration is deterministic under
//! the simulator.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::caller::is_account_id;
use super::context::RequestContext;
use super::error::PolicyError;
use super::evaluate::{decide, Decision, PolicySet, Reason};
use super::explain::{explain, Explanation};
use super::policy::{Effect, Policy, PolicyKind};

/// An IAM user.
#[derive(Debug, Clone)]
pub struct User {
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub arn: String,
    /// Unique id (`AIDA...`), the value of `aws:userid`.
    pub unique_id: String,
    /// Attached and inline identity-based policies.
    pub policies: Vec<Arc<Policy>>,
    /// ARNs of the groups the user belongs to.
    pub groups: Vec<String>,
    /// The permissions boundary, if set.
    pub boundary: Option<Arc<Policy>>,
    /// Principal tags (`aws:PrincipalTag/KEY`).
    pub tags: BTreeMap<String, String>,
}

/// An IAM group: a bag of identity-based policies for its members. A group is not a
/// principal: it cannot be named in a Principal element or make requests.
#[derive(Debug, Clone)]
pub struct Group {
    /// `arn:aws:iam::ACCOUNT:group/NAME`.
    pub arn: String,
    /// The group's policies.
    pub policies: Vec<Arc<Policy>>,
}

/// An IAM role.
#[derive(Debug, Clone)]
pub struct Role {
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// Unique id (`AROA...`); a session's `aws:userid` is `ID:SESSION_NAME`.
    pub unique_id: String,
    /// The trust policy: who may assume the role.
    pub trust_policy: Arc<Policy>,
    /// The role's identity-based policies.
    pub policies: Vec<Arc<Policy>>,
    /// The permissions boundary, if set.
    pub boundary: Option<Arc<Policy>>,
    /// Role tags (become `aws:PrincipalTag/*` of its sessions).
    pub tags: BTreeMap<String, String>,
}

/// A role session created by [`Authorizer::assume_role`].
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION_NAME`.
    pub arn: String,
    /// The assumed role's ARN.
    pub role_arn: String,
    /// The session name.
    pub session_name: String,
    /// Session policies passed at AssumeRole (`None` when none were passed).
    pub session_policies: Option<Vec<Arc<Policy>>>,
    /// Principal tags: the role's tags overridden by the session tags.
    pub tags: BTreeMap<String, String>,
    /// When the credentials expire, Unix milliseconds.
    pub expires_unix_ms: u64,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// An IAM user, by ARN.
    User(String),
    /// A role session.
    Session(Session),
    /// An account's root user, by account id.
    Root(String),
    /// An unauthenticated caller.
    Anonymous,
    /// An AWS service acting on its own (`logging.s3.amazonaws.com` delivering access logs):
    /// no identity policies; only a resource policy naming it (`"Principal": {"Service": …}`)
    /// can allow it.
    Service(String),
}

impl Principal {
    /// The principal as access logs name it: its ARN (a service's name), or `anonymous`.
    pub fn log_name(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            other => other.display_name(),
        }
    }

    /// The principal as policies and messages name it: its ARN, or "an anonymous caller".
    pub fn display_name(&self) -> String {
        match self {
            Principal::User(arn) => arn.clone(),
            Principal::Session(s) => s.arn.clone(),
            Principal::Root(account) => format!("arn:aws:iam::{account}:root"),
            Principal::Anonymous => "an anonymous caller".into(),
            Principal::Service(s) => s.clone(),
        }
    }
}

/// Users, groups, roles and SCPs.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
    roles: BTreeMap<String, Role>,
    scps: BTreeMap<String, Vec<Arc<Policy>>>,
}

/// Why [`Authorizer::check`] did not allow a request: the question had no answer (an unknown
/// user, a malformed request: the [`AuthError`] is the source), or the policies said no (the
/// explanation, in IAM's words, is the message the service returns).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The authorizer could not answer.
    #[error("{what}: {source}")]
    Unanswered {
        /// `action on resource`.
        what: String,
        /// Why.
        #[source]
        source: AuthError,
    },
    /// The policies denied it (explicitly or by default).
    #[error("{who} is not allowed to perform {what} ({}): {why}", decision.name())]
    Denied {
        /// The principal, as IAM names it.
        who: String,
        /// `action on resource`.
        what: String,
        /// Which denial.
        decision: Decision,
        /// The explanation's summary.
        why: String,
    },
}

/// Why an authorization call could not be answered, or AssumeRole was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The principal names a user the directory does not have.
    #[error("no such user: {0}")]
    NoSuchUser(String),
    /// The role does not exist.
    #[error("no such role: {0}")]
    NoSuchRole(String),
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    Invalid(#[from] PolicyError),
    /// A field outside policies is invalid (session name, duration, ...).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The session's credentials have expired.
    #[error("the session's credentials expired at {0} ms")]
    Expired(u64),
    /// AssumeRole (or TagSession) was not allowed; the explanation says why.
    #[error("access denied: {0}")]
    AccessDenied(String),
}

/// Who is calling, and the request's context keys (`aws:SourceIp`, `aws:SecureTransport`, ...).
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// Extra context keys the transport knows.
    pub context: &'a [(&'a str, &'a [&'a str])],
}

/// One request a service authorizes.
#[derive(Debug, Clone, Default)]
pub struct Access<'a> {
    /// `service:ActionName`, see [`crate::iam::actions`].
    pub action: &'a str,
    /// The resource ARN (or `*`).
    pub resource: &'a str,
    /// The account that owns the resource (S3 ARNs carry none).
    pub resource_account: Option<&'a str>,
    /// The resource's resource-based policies (bucket policy, table policy).
    pub resource_policies: &'a [Arc<Policy>],
    /// Service and request context keys (`aws:SourceIp`, `s3:prefix`, `dynamodb:LeadingKeys`).
    pub context: &'a [(&'a str, &'a [&'a str])],
    /// The request time from the injected clock (sets `aws:CurrentTime`, `aws:EpochTime`).
    pub now_unix_ms: u64,
}

/// Parameters of AssumeRole.
#[derive(Debug, Clone, Default)]
pub struct AssumeRole<'a> {
    /// The role to assume.
    pub role_arn: &'a str,
    /// 2–64 characters of `[A-Za-z0-9_+=,.@-]`.
    pub session_name: &'a str,
    /// Inline / managed session policies; they can only narrow the role's permissions.
    pub session_policies: Vec<Arc<Policy>>,
    /// Session tags (require `sts:TagSession` in the trust policy).
    pub tags: BTreeMap<String, String>,
    /// Credential lifetime, 900..=43200 seconds.
    pub duration_seconds: u64,
    /// Extra context keys (`aws:SourceIp`, `sts:ExternalId`, ...).
    pub context: &'a [(&'a str, &'a [&'a str])],
    /// Time of the call.
    pub now_unix_ms: u64,
}

/// Formats Unix milliseconds as ISO 8601 UTC (`aws:CurrentTime`).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Civil date from days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The account segment of an ARN, if it is an account id (12 digits).
pub(crate) fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| is_account_id(a))
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user.
    pub fn put_user(&mut self, user: User) {
        self.users.insert(user.arn.clone(), user);
    }

    /// Adds or replaces a group.
    pub fn put_group(&mut self, group: Group) {
        self.groups.insert(group.arn.clone(), group);
    }

    /// Adds or replaces a role.
    pub fn put_role(&mut self, role: Role) {
        self.roles.insert(role.arn.clone(), role);
    }

    /// Sets the SCPs that apply to an account. AWS requires an Allow at every level of the
    /// organization's OU hierarchy; Seedbed models a single level.
    pub fn set_scps(&mut self, account: &str, scps: Vec<Arc<Policy>>) {
        self.scps.insert(account.to_string(), scps);
    }

    /// A role by ARN.
    pub fn role(&self, arn: &str) -> Option<&Role> {
        self.roles.get(arn)
    }

    /// A user by ARN.
    pub fn user(&self, arn: &str) -> Option<&User> {
        self.users.get(arn)
    }
}

/// Answers authorization questions against a [`Directory`].
#[derive(Debug, Clone, Default)]
pub struct Authorizer {
    /// The identities.
    pub directory: Directory,
}

impl Authorizer {
    /// An authorizer over `directory`.
    pub fn new(directory: Directory) -> Self {
        Authorizer { directory }
    }

    /// Who `principal` is, as STS's GetCallerIdentity tells it: its ARN, its unique id
    /// (`aws:userid`: `AIDA…` for a user, `AROA…:SESSION` for a role session, the account for
    /// its root) and its account. `None` for an anonymous caller or one the directory lacks.
    pub fn caller_identity(&self, principal: &Principal) -> Option<(String, String, String)> {
        let (arn, user_id) = match principal {
            Principal::Anonymous | Principal::Service(_) => return None,
            Principal::Root(account) => (format!("arn:aws:iam::{account}:root"), account.clone()),
            Principal::User(arn) => (arn.clone(), self.directory.user(arn)?.unique_id.clone()),
            Principal::Session(s) => {
                let role = self.directory.role(&s.role_arn)?;
                (
                    s.arn.clone(),
                    format!("{}:{}", role.unique_id, s.session_name),
                )
            }
        };
        let account = super::caller::Caller::parse(&arn).ok()?.account?;
        Some((arn, user_id, account))
    }

    /// The policy set and request context for `principal` doing `access`.
    pub fn prepare(
        &self,
        principal: &Principal,
        access: &Access<'_>,
    ) -> Result<(PolicySet, RequestContext), AuthError> {
        let (principal_arn, mut set, tags, userid) = match principal {
            Principal::Anonymous => (
                "anonymous".to_string(),
                PolicySet::default(),
                BTreeMap::new(),
                None,
            ),
            Principal::Service(service) => {
                (service.clone(), PolicySet::default(), BTreeMap::new(), None)
            }
            Principal::Root(account) => (
                format!("arn:aws:iam::{account}:root"),
                PolicySet::default(),
                BTreeMap::new(),
                Some(account.clone()),
            ),
            Principal::User(arn) => {
                let user = self
                    .directory
                    .users
                    .get(arn)
                    .ok_or_else(|| AuthError::NoSuchUser(arn.clone()))?;
                let mut identity = user.policies.clone();
                for g in &user.groups {
                    if let Some(group) = self.directory.groups.get(g) {
                        identity.extend(group.policies.iter().cloned());
                    }
                }
                let set = PolicySet {
                    identity,
                    boundary: user.boundary.clone().map(|b| vec![b]),
                    ..PolicySet::default()
                };
                (
                    arn.clone(),
                    set,
                    user.tags.clone(),
                    Some(user.unique_id.clone()),
                )
            }
            Principal::Session(s) => {
                if access.now_unix_ms >= s.expires_unix_ms {
                    return Err(AuthError::Expired(s.expires_unix_ms));
                }
                let role = self
                    .directory
                    .roles
                    .get(&s.role_arn)
                    .ok_or_else(|| AuthError::NoSuchRole(s.role_arn.clone()))?;
                let set = PolicySet {
                    identity: role.policies.clone(),
                    boundary: role.boundary.clone().map(|b| vec![b]),
                    session: s.session_policies.clone(),
                    ..PolicySet::default()
                };
                (
                    s.arn.clone(),
                    set,
                    s.tags.clone(),
                    Some(format!("{}:{}", role.unique_id, s.session_name)),
                )
            }
        };
        let mut ctx = RequestContext::new(&principal_arn, access.action, access.resource)?;
        if let Principal::Session(s) = principal {
            ctx.set("aws:PrincipalArn", s.role_arn.clone());
        }
        if let Some(account) = ctx.caller().account.clone() {
            if let Some(scps) = self.directory.scps.get(&account) {
                set.scp = Some(scps.clone());
            }
        }
        set.resource = access.resource_policies.to_vec();
        if let Some(a) = access.resource_account {
            ctx.set_resource_account(a)?;
        }
        if let Some(id) = userid {
            ctx.set("aws:userid", id);
        }
        for (k, v) in &tags {
            ctx.set(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        ctx.set("aws:CurrentTime", iso8601(access.now_unix_ms));
        ctx.set("aws:EpochTime", (access.now_unix_ms / 1000).to_string());
        for (k, vals) in access.context {
            ctx.set_list(k, vals.iter().copied());
        }
        Ok((set, ctx))
    }

    /// Decides `access` for `principal` (the fast path).
    pub fn authorize(
        &self,
        principal: &Principal,
        access: &Access<'_>,
    ) -> Result<(Decision, Reason), AuthError> {
        let (set, ctx) = self.prepare(principal, access)?;
        Ok(decide(&set, &ctx))
    }

    /// Decide `access` for `principal` as a service does before touching data: `Ok` on Allow;
    /// on a denial, a one-line message naming who, what, the decision and why (the explanation
    /// is built only then, so the allowed path stays fast).
    pub fn check(&self, principal: &Principal, access: &Access<'_>) -> Result<(), Refusal> {
        let what = format!("{} on {}", access.action, access.resource);
        let (decision, _) =
            self.authorize(principal, access)
                .map_err(|source| Refusal::Unanswered {
                    what: what.clone(),
                    source,
                })?;
        if decision == Decision::Allow {
            return Ok(());
        }
        let why = match self.authorize_explained(principal, access) {
            Ok((explanation, set, ctx)) => explanation.summary(&set, &ctx),
            Err(e) => e.to_string(),
        };
        Err(Refusal::Denied {
            who: principal.display_name(),
            what,
            decision,
            why,
        })
    }

    /// Decides and explains `access` for `principal`.
    pub fn authorize_explained(
        &self,
        principal: &Principal,
        access: &Access<'_>,
    ) -> Result<(Explanation, PolicySet, RequestContext), AuthError> {
        let (set, ctx) = self.prepare(principal, access)?;
        Ok((explain(&set, &ctx), set, ctx))
    }

    /// AWS STS AssumeRole: the caller needs `sts:AssumeRole` on the role, allowed as for any
    /// request where the role's **trust policy** is the resource-based policy (same account: a
    /// trust policy naming the caller suffices; naming only the account delegates to the
    /// caller's identity policies; cross account: both sides) — and, unlike other
    /// resource-based policies, the trust policy must always contain an applicable Allow. Session tags also need
    /// `sts:TagSession`. The session's permissions are then the role's policies, capped by its
    /// boundary and by the session policies; its principal tags are the role's tags overridden
    /// by the session tags.
    pub fn assume_role(
        &self,
        caller: &Principal,
        req: &AssumeRole<'_>,
    ) -> Result<Session, AuthError> {
        let role = self
            .directory
            .roles
            .get(req.role_arn)
            .ok_or_else(|| AuthError::NoSuchRole(req.role_arn.into()))?;
        let name_ok = (2..=64).contains(&req.session_name.len())
            && req
                .session_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
        if !name_ok {
            return Err(AuthError::InvalidParameter(format!(
                "RoleSessionName `{}` must be 2-64 characters of [A-Za-z0-9_+=,.@-]",
                req.session_name
            )));
        }
        let duration = if req.duration_seconds == 0 {
            3600
        } else {
            req.duration_seconds
        };
        if !(900..=43_200).contains(&duration) {
            return Err(AuthError::InvalidParameter(format!(
                "DurationSeconds {duration} is outside 900..=43200"
            )));
        }
        let tag_keys: Vec<&str> = req.tags.keys().map(String::as_str).collect();
        let request_tags: Vec<(String, String)> = req
            .tags
            .iter()
            .map(|(k, v)| (format!("aws:RequestTag/{k}"), v.clone()))
            .collect();
        let mut extra: Vec<(&str, Vec<&str>)> =
            req.context.iter().map(|(k, v)| (*k, v.to_vec())).collect();
        extra.push(("sts:RoleSessionName", vec![req.session_name]));
        if !tag_keys.is_empty() {
            extra.push(("aws:TagKeys", tag_keys.clone()));
            for (k, v) in &request_tags {
                extra.push((k.as_str(), vec![v.as_str()]));
            }
        }
        let extra_refs: Vec<(&str, &[&str])> =
            extra.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let trust = vec![role.trust_policy.clone()];
        let mut actions = vec!["sts:AssumeRole"];
        if !tag_keys.is_empty() {
            actions.push("sts:TagSession");
        }
        for action in actions {
            let access = Access {
                action,
                resource: req.role_arn,
                resource_account: account_of(req.role_arn),
                resource_policies: &trust,
                context: &extra_refs,
                now_unix_ms: req.now_unix_ms,
            };
            let (exp, set, ctx) = self.authorize_explained(caller, &access)?;
            if exp.decision != Decision::Allow {
                return Err(AuthError::AccessDenied(exp.summary(&set, &ctx)));
            }
            // Unlike a bucket policy, a role trust policy must itself allow: identity
            // permissions alone never let anyone assume a role, even in the same account.
            let trusted = exp.trace.iter().any(|e| {
                matches!(e.at.kind, PolicyKind::Trust | PolicyKind::Resource)
                    && e.effect == Effect::Allow
                    && e.outcome.is_ok()
            });
            if !trusted {
                return Err(AuthError::AccessDenied(format!(
                    "the trust policy of {} does not allow {} to perform {action}; a role trust policy must always allow, identity permissions alone are not enough",
                    req.role_arn,
                    ctx.caller().arn
                )));
            }
        }
        let role_name = role.arn.rsplit('/').next().unwrap_or(&role.arn);
        let account = account_of(&role.arn).unwrap_or("000000000000");
        let mut tags = role.tags.clone();
        tags.extend(req.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Session {
            arn: format!(
                "arn:aws:sts::{account}:assumed-role/{role_name}/{}",
                req.session_name
            ),
            role_arn: role.arn.clone(),
            session_name: req.session_name.into(),
            session_policies: if req.session_policies.is_empty() {
                None
            } else {
                Some(req.session_policies.clone())
            },
            tags,
            expires_unix_ms: req.now_unix_ms + duration * 1000,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "111122223333";

    fn pol(kind: PolicyKind, text: &str) -> Arc<Policy> {
        Arc::new(Policy::parse(text, kind).unwrap())
    }

    fn setup() -> Authorizer {
        let mut d = Directory::new();
        d.put_group(Group {
            arn: format!("arn:aws:iam::{ACCT}:group/readers"),
            policies: vec![pol(PolicyKind::Identity, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}"#)],
        });
        d.put_user(User {
            arn: format!("arn:aws:iam::{ACCT}:user/alice"),
            unique_id: "AIDAALICE".into(),
            policies: vec![pol(PolicyKind::Identity, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/${aws:username}/*"}]}"#)],
            groups: vec![format!("arn:aws:iam::{ACCT}:group/readers")],
            boundary: None,
            tags: BTreeMap::new(),
        });
        d.put_user(User {
            arn: format!("arn:aws:iam::{ACCT}:user/bob"),
            unique_id: "AIDABOB".into(),
            policies: vec![],
            groups: vec![],
            boundary: None,
            tags: BTreeMap::new(),
        });
        d.put_role(Role {
            arn: format!("arn:aws:iam::{ACCT}:role/Writer"),
            unique_id: "AROAWRITER".into(),
            trust_policy: pol(PolicyKind::Trust, &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:user/alice"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#)),
            policies: vec![pol(PolicyKind::Identity, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::data/${aws:PrincipalTag/team}/*"}]}"#)],
            boundary: None,
            tags: [("team".to_string(), "ops".to_string())].into(),
        });
        Authorizer::new(d)
    }

    fn access<'a>(action: &'a str, resource: &'a str) -> Access<'a> {
        Access {
            action,
            resource,
            now_unix_ms: 1_767_225_600_000,
            ..Access::default()
        }
    }

    #[test]
    fn user_with_group_policies_and_username_variable() {
        let a = setup();
        let alice = Principal::User(format!("arn:aws:iam::{ACCT}:user/alice"));
        assert_eq!(
            a.authorize(&alice, &access("s3:GetObject", "arn:aws:s3:::data/x"))
                .unwrap()
                .0,
            Decision::Allow
        );
        assert_eq!(
            a.authorize(&alice, &access("s3:PutObject", "arn:aws:s3:::data/alice/x"))
                .unwrap()
                .0,
            Decision::Allow
        );
        assert_eq!(
            a.authorize(&alice, &access("s3:PutObject", "arn:aws:s3:::data/bob/x"))
                .unwrap()
                .0,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn assume_role_trust_tags_and_session_policy() {
        let a = setup();
        let alice = Principal::User(format!("arn:aws:iam::{ACCT}:user/alice"));
        let bob = Principal::User(format!("arn:aws:iam::{ACCT}:user/bob"));
        let role_arn = format!("arn:aws:iam::{ACCT}:role/Writer");
        let req = AssumeRole {
            role_arn: &role_arn,
            session_name: "alice-session",
            session_policies: vec![pol(
                PolicyKind::Session,
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
            )],
            tags: [("team".to_string(), "dev".to_string())].into(),
            now_unix_ms: 1_767_225_600_000,
            ..AssumeRole::default()
        };
        assert!(
            matches!(a.assume_role(&bob, &req), Err(AuthError::AccessDenied(_))),
            "trust policy names only alice"
        );
        let s = a.assume_role(&alice, &req).unwrap();
        assert_eq!(
            s.arn,
            format!("arn:aws:sts::{ACCT}:assumed-role/Writer/alice-session")
        );
        assert_eq!(s.tags["team"], "dev", "session tags override role tags");
        let p = Principal::Session(s.clone());
        assert_eq!(
            a.authorize(&p, &access("s3:PutObject", "arn:aws:s3:::data/dev/x"))
                .unwrap()
                .0,
            Decision::Allow
        );
        assert_eq!(
            a.authorize(&p, &access("s3:PutObject", "arn:aws:s3:::data/ops/x"))
                .unwrap()
                .0,
            Decision::ImplicitDeny
        );
        let (_, reason) = a
            .authorize(&p, &access("s3:GetObject", "arn:aws:s3:::data/dev/x"))
            .unwrap();
        assert_eq!(
            reason,
            Reason::SessionNoAllow,
            "the session policy narrows the role"
        );
        let mut late = access("s3:PutObject", "arn:aws:s3:::data/dev/x");
        late.now_unix_ms = s.expires_unix_ms;
        assert!(matches!(a.authorize(&p, &late), Err(AuthError::Expired(_))));
    }

    #[test]
    fn iso_time() {
        assert_eq!(iso8601(1_767_225_600_000), "2026-01-01T00:00:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    }
}
