//! The IAM API over HTTP: `aws iam create-user`, boto3's IAM client and the SDKs manage the
//! server's users, access keys, groups, roles and their policies, as `seedbed iam` does from the
//! shell. The query protocol (a SigV4-signed form POST to `/`, service `iam`, `Action=…`,
//! answered in IAM's XML), on the server's one endpoint beside S3, DynamoDB and STS.
//!
//! Every call is decided by the engine's IAM as any other request is: `iam:CreateUser` on
//! `arn:aws:iam::ACCOUNT:user/PATH/NAME` for the caller's identity policies (an administrator's
//! `"Action": "*"` allows it; the account root user may do anything in its account). An edit
//! goes through the IAM file's edit lock ([`IdentityStore::edit_file`]), is checked as the
//! server loads a file, written atomically and served at once: a key minted by
//! `CreateAccessKey` signs the next request. What is served is listed in [`ops::READS`] and
//! [`ops::EDITS`]; any other action is refused by name.
//!
//! - [`ops`] — what every action shares: the request's parameters, IAM's checks of names,
//!   paths and documents, the resource an action is authorized on, and the dispatch to
//!   `users`, `groups`, `roles`, `policies` and `managed_policies` (the actions, as reads of
//!   and edits to the file);
//! - [`oidc`] — the registry of OpenID Connect providers;
//! - [`render`] — IAM's XML.

mod authorization_details;
mod certificates;
mod credential_report;
mod groups;
mod managed_policies;
pub mod oidc;
pub mod ops;
mod policies;
pub mod render;
mod roles;
mod users;

#[cfg(test)]
mod tests;

use seedbed_dynamo::endpoint::{HttpRequest, HttpResponse, Security};
use seedbed_dynamo::sts::{authenticate, form, xml_reply};
use seedbed_engine::iam::authorizer::{Access, Principal};

use crate::identity::{IdentityError, IdentityStore};
use ops::{Caller, Params};

/// An IAM error to answer: status, IAM's code, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamError {
    /// HTTP status.
    pub status: u16,
    /// IAM's error code (SDKs raise `<Code>Exception`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl IamError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        IamError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 ValidationError: a parameter is missing or malformed.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    /// 404 NoSuchEntity.
    pub fn no_such(message: impl Into<String>) -> Self {
        Self::new(404, "NoSuchEntity", message)
    }

    /// 409 EntityAlreadyExists.
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(409, "EntityAlreadyExists", message)
    }

    /// 409 DeleteConflict: something still hangs on the entity.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "DeleteConflict", message)
    }

    /// 409 LimitExceeded: one of IAM's quotas.
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(409, "LimitExceeded", message)
    }

    /// 400 MalformedPolicyDocument.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(400, "MalformedPolicyDocument", message)
    }

    /// 400 InvalidAction: not an action this server serves.
    pub fn invalid_action(action: &str) -> Self {
        Self::new(
            400,
            "InvalidAction",
            format!(
                "Could not find operation {action}: this endpoint's IAM serves {}",
                READS
                    .into_iter()
                    .chain(EDITS)
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

impl From<IdentityError> for IamError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::NotFound(m) => IamError::no_such(m),
            IdentityError::Denied(m) => IamError::new(403, "AccessDenied", m),
            IdentityError::Invalid { what, why } => IamError::validation(format!("{what}: {why}")),
            e @ IdentityError::Io { .. } => IamError::new(
                500,
                "ServiceFailure",
                format!("the IAM file could not be read or written: {e}"),
            ),
        }
    }
}

/// The lists of actions served that only read ...
const READS: [&[&str]; 3] = [ops::READS, oidc::READS, managed_policies::MANAGED_READS];
/// ... and that change the IAM file.
const EDITS: [&[&str]; 3] = [ops::EDITS, oidc::EDITS, managed_policies::MANAGED_EDITS];

/// Whether `action` is served, and if so whether it only reads.
fn served(action: &str) -> Option<bool> {
    if READS.iter().any(|l| l.contains(&action)) {
        Some(true)
    } else if EDITS.iter().any(|l| l.contains(&action)) {
        Some(false)
    } else {
        None
    }
}

/// Whether a request is signed for IAM (`Credential=KEY/DATE/REGION/iam/aws4_request`), which
/// tells an IAM call from an STS one at the same address.
pub fn is_iam(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| seedbed_sigv4::verify::parse_authorization(v).ok())
        .is_some_and(|a| a.service == "iam")
}

/// The account, and the user, behind a principal.
fn caller(principal: &Principal) -> Option<Caller> {
    let account_of = |arn: &str| arn.split(':').nth(4).map(String::from);
    match principal {
        Principal::User(arn) => Some(Caller {
            account: account_of(arn)?,
            user: arn.rsplit('/').next().map(String::from),
            root: false,
        }),
        Principal::Session(s) => Some(Caller {
            account: account_of(&s.role_arn)?,
            user: None,
            root: false,
        }),
        Principal::Root(account) => Some(Caller {
            account: account.clone(),
            user: None,
            root: true,
        }),
        Principal::Anonymous | Principal::Service(_) => None,
    }
}

/// Answer an IAM query-protocol request.
pub fn answer(
    store: &IdentityStore,
    sec: &Security,
    req: &HttpRequest<'_>,
    now_unix_secs: i64,
    request_id: &str,
) -> HttpResponse {
    let mut pairs = seedbed_sigv4::encode::query_pairs(req.query);
    pairs.extend(form(req.body));
    let params = Params(&pairs);
    let action = params.get("Action").unwrap_or_default().to_string();
    let operation = format!("iam:{action}");
    let reply = |status: u16, body: Vec<u8>, error: Option<&str>, principal: String| {
        xml_reply(&operation, request_id, status, body, error, principal)
    };
    let fail = |e: IamError, principal: String| {
        reply(
            e.status,
            render::error(&e, request_id),
            Some(e.code),
            principal,
        )
    };
    if action.is_empty() {
        return fail(
            IamError::new(400, "MissingAction", "this IAM request names no Action"),
            String::new(),
        );
    }
    let Some(read_only) = served(&action) else {
        return fail(IamError::invalid_action(&action), String::new());
    };
    let principal = match authenticate(sec, req, "iam", now_unix_secs) {
        Ok((_, p)) => p,
        Err(f) => return fail(IamError::new(f.status, f.code, f.message), String::new()),
    };
    let who = principal.log_name();
    let Some(c) = caller(&principal) else {
        return fail(
            IamError::new(
                403,
                "AccessDenied",
                format!("{who} has no account to manage"),
            ),
            who,
        );
    };
    let current = store.current();
    let target = ops::target(&current.file, &c, &action, &params);
    let now_ms = u64::try_from(now_unix_secs).unwrap_or(0) * 1000;
    let source_ip: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("x-forwarded-for"))
        .map(|(_, v)| v.as_str())
        .collect();
    // IAM's own condition keys, for delegated administration ("may attach only these
    // policies", "may create users only with this boundary").
    let policy_arn: Vec<&str> = params.get("PolicyArn").into_iter().collect();
    let boundary: Vec<&str> = params.get("PermissionsBoundary").into_iter().collect();
    let mut context: Vec<(&str, &[&str])> = vec![("aws:SourceIp", &source_ip)];
    if !policy_arn.is_empty() {
        context.push(("iam:PolicyARN", &policy_arn));
    }
    if !boundary.is_empty() {
        context.push(("iam:PermissionsBoundary", &boundary));
    }
    let iam_action = format!("iam:{action}");
    let allowed = current.authorizer.check(
        &principal,
        &Access {
            action: &iam_action,
            resource: &target,
            resource_account: Some(&c.account),
            resource_policies: &[],
            context: &context,
            now_unix_ms: now_ms,
        },
    );
    if let Err(refusal) = allowed {
        return fail(IamError::new(403, "AccessDenied", refusal.to_string()), who);
    }
    let now = seedbed_engine::iam::authorizer::iso8601(now_ms);
    let result = if read_only {
        // With the keys' and roles' last uses not yet written to the file.
        let mut f = store.file_with_uses();
        ops::run(&mut f, &c, &action, &params, &now)
    } else {
        store.edit_file(|f| ops::run(f, &c, &action, &params, &now))
    };
    match result {
        Ok(inner) => reply(
            200,
            render::response(&action, &inner, request_id),
            None,
            who,
        ),
        Err(e) => fail(e, who),
    }
}
