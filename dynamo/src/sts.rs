//! STS: `GetCallerIdentity` and `AssumeRole`, the query protocol (a signed form POST,
//! `Action=...`) answered in STS's XML, on the DynamoDB listener and (through [`serve`], by the
//! server) the S3 one. `aws sts get-caller-identity`, `aws sts assume-role` and SDKs' STS
//! clients work against `seedbed serve` with `--endpoint-url` pointing at either (SDKs that ask
//! STS which account their key belongs to, as moto's AWS-verified resource-policy tests do, need
//! the first).
//!
//! AssumeRole is decided by the engine's IAM (the role's trust policy, and the caller's own
//! policies for `sts:AssumeRole`), and the session it mints is recorded in the IAM file, as
//! `seedbed iam assume-role` records one, so the S3 and DynamoDB listeners accept its keys at
//! once and after a restart. What is served of AssumeRole's parameters is in
//! [`AssumeRoleInput`]; anything else is refused by name rather than ignored (an ignored
//! `SerialNumber` or `SourceIdentity` would hand out other rights than the caller asked for).

use std::collections::BTreeMap;

use seedbed_sigv4 as sigv4;
use seedbed_sigv4::encode::query_pairs;

use seedbed_engine::iam::authorizer::Principal;

use crate::endpoint::{check_session, HttpRequest, HttpResponse, Refusal, Security};
use crate::endpoint::{BAD_TOKEN, EXPIRED_TOKEN};

/// Answer an STS query-protocol request (`action` from its form): GetCallerIdentity or
/// AssumeRole, signed for service `sts`; refusals in STS's XML and words. Any listener that
/// takes such a request may hand it here (the DynamoDB one does; so does the S3 one, for
/// clients given one endpoint for every service).
pub fn answer(
    security: Option<&Security>,
    req: &HttpRequest<'_>,
    action: &str,
    now_unix_secs: i64,
    request_id: &str,
) -> HttpResponse {
    let operation = format!("sts:{action}");
    let reply = |status: u16, body: Vec<u8>, error: Option<&str>, principal: String| {
        xml_reply(&operation, request_id, status, body, error, principal)
    };
    let fail = |status: u16, code: &str, message: &str| {
        reply(
            status,
            error_xml(code, message, request_id),
            Some(code),
            String::new(),
        )
    };
    if action.is_empty() {
        return fail(
            400,
            "MissingAction",
            "a form POST to / is an STS request, and this one names no Action",
        );
    }
    if action != "GetCallerIdentity" && action != "AssumeRole" {
        return fail(
            400,
            "InvalidAction",
            &format!("Could not find operation {action}: this endpoint serves STS's GetCallerIdentity and AssumeRole"),
        );
    }
    let Some(sec) = security else {
        return fail(
            403,
            "AccessDenied",
            "this endpoint runs without IAM: there are no identities to tell or assume",
        );
    };
    let (access_key, principal) = match authenticate(sec, req, "sts", now_unix_secs) {
        Ok(x) => x,
        Err(f) => return fail(f.status, f.code, &f.message),
    };
    if action == "AssumeRole" {
        let minted = assume_role_input(&form(req.body)).and_then(|input| {
            let now_ms = u64::try_from(now_unix_secs).unwrap_or(0) * 1000;
            sec.identities.assume_role(&access_key, &input, now_ms)
        });
        return match minted {
            Ok(r) => reply(200, assume_role_xml(&r, request_id), None, r.arn.clone()),
            Err(f) => fail(f.status, f.code, &f.message),
        };
    }
    let auth = sec.authorizer.read().unwrap_or_else(|p| p.into_inner());
    match auth.caller_identity(&principal) {
        Some((arn, user_id, account)) => reply(
            200,
            caller_identity_xml(&arn, &user_id, &account, request_id),
            None,
            arn.clone(),
        ),
        None => fail(403, "InvalidClientTokenId", BAD_TOKEN),
    }
}

/// A query-protocol answer (STS's, IAM's): XML, with its request ID, and what the access log
/// and metrics name it by (`operation`, the error code, the principal).
pub fn xml_reply(
    operation: &str,
    request_id: &str,
    status: u16,
    body: Vec<u8>,
    error: Option<&str>,
    principal: String,
) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("content-type".into(), "text/xml".into()),
            ("x-amzn-requestid".into(), request_id.to_string()),
        ],
        body,
        operation: operation.to_string(),
        error: error.map(String::from),
        principal,
    }
}

/// Who signed a query-protocol request (STS's, IAM's) for `service`: the signature verified
/// and, for temporary credentials, their session token present and unexpired. Refusals carry
/// the codes both services answer with (`MissingAuthenticationToken`, `InvalidClientTokenId`,
/// `SignatureDoesNotMatch`, `ExpiredToken`).
pub fn authenticate(
    sec: &Security,
    req: &HttpRequest<'_>,
    service: &str,
    now_unix_secs: i64,
) -> Result<(String, Principal), StsFailure> {
    let refuse = |status: u16, code: &'static str, message: String| StsFailure {
        status,
        code,
        message,
    };
    let verified = sigv4::verify(&req.to_signed(), service, now_unix_secs, |k| {
        sec.identities.secret_of(k)
    })
    .map_err(|e| {
        let code = match e {
            sigv4::SigError::Missing => "MissingAuthenticationToken",
            sigv4::SigError::UnknownKey(_) => "InvalidClientTokenId",
            _ => "SignatureDoesNotMatch",
        };
        refuse(403, code, e.to_string())
    })?;
    match check_session(sec, &verified, req.headers, now_unix_secs) {
        Ok(p) => Ok((verified.access_key, p)),
        Err(Refusal::BadToken) => Err(refuse(403, "InvalidClientTokenId", BAD_TOKEN.into())),
        Err(Refusal::Expired) => Err(refuse(400, "ExpiredToken", EXPIRED_TOKEN.into())),
    }
}

/// An STS request taken by a listener other than DynamoDB's (the S3 one: a form POST to `/`):
/// the action read from the form (none is MissingAction), then [`answer`].
pub fn serve(
    security: Option<&Security>,
    req: &HttpRequest<'_>,
    now_unix_secs: i64,
    request_id: &str,
) -> HttpResponse {
    let content_type = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let action = action_of(content_type, req.body).unwrap_or_default();
    answer(security, req, &action, now_unix_secs, request_id)
}

/// Whether a request with no `X-Amz-Target` is an STS query-protocol call, and which action.
pub fn action_of(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if !content_type?.starts_with("application/x-www-form-urlencoded") {
        return None;
    }
    let body = std::str::from_utf8(body).ok()?;
    body.split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .map(str::to_string)
}

/// Text for an XML element (the query protocol's answers).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// GetCallerIdentity's answer.
pub fn caller_identity_xml(arn: &str, user_id: &str, account: &str, request_id: &str) -> Vec<u8> {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
<GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>\
</GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
</GetCallerIdentityResponse>",
        escape(arn),
        escape(user_id),
        escape(account),
        escape(request_id)
    )
    .into_bytes()
}

/// An STS error document (`code`, `message`), as the query protocol writes it.
pub fn error_xml(code: &str, message: &str, request_id: &str) -> Vec<u8> {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
<Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId>\
</ErrorResponse>",
        escape(code),
        escape(message),
        escape(request_id)
    )
    .into_bytes()
}

/// A form body (`application/x-www-form-urlencoded`) as decoded (name, value) pairs: a query
/// string, but with `+` for a space.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    query_pairs(&String::from_utf8_lossy(body).replace('+', "%20"))
}

/// The AssumeRole parameters served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssumeRoleInput {
    /// `RoleArn`: `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// `RoleSessionName`: 2–64 characters of `[A-Za-z0-9_+=,.@-]` (checked by the engine).
    pub session_name: String,
    /// `DurationSeconds`, 900 to 43,200; 3,600 when not given.
    pub duration_s: u64,
    /// `Policy`: an inline session policy (JSON), which can only narrow the role's rights.
    pub policy: Option<String>,
    /// `PolicyArns.member.N.arn`: managed policies used as session policies (at most 10).
    pub policy_arns: Vec<String>,
    /// `Tags.member.N.Key` / `.Value`: session tags (the trust policy must allow
    /// `sts:TagSession`).
    pub tags: BTreeMap<String, String>,
    /// `ExternalId` (`sts:ExternalId` in the trust policy's conditions).
    pub external_id: Option<String>,
}

/// An STS error to answer: status, code, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsFailure {
    /// HTTP status.
    pub status: u16,
    /// STS's error code (`AccessDenied`, `ValidationError`, `MalformedPolicyDocument`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl StsFailure {
    /// A 400 ValidationError.
    pub fn validation(message: impl Into<String>) -> Self {
        StsFailure {
            status: 400,
            code: "ValidationError",
            message: message.into(),
        }
    }
}

/// The session AssumeRole minted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRole {
    /// Temporary access key ID (`ASIA...`).
    pub access_key: String,
    /// Its secret.
    pub secret: String,
    /// The session token (`x-amz-security-token`).
    pub token: String,
    /// Expiry, ISO 8601 UTC.
    pub expiration: String,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `ROLEID:SESSION`.
    pub assumed_role_id: String,
}

/// AssumeRole's parameters from its form, checked as STS checks them before anything else.
pub fn assume_role_input(pairs: &[(String, String)]) -> Result<AssumeRoleInput, StsFailure> {
    let mut input = AssumeRoleInput {
        duration_s: 3600,
        ..AssumeRoleInput::default()
    };
    let mut role_arn = None;
    let mut session_name = None;
    let mut tag_keys: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut policy_arns: Vec<(u32, String)> = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "Action" | "Version" => {}
            "RoleArn" => role_arn = Some(v.clone()),
            "RoleSessionName" => session_name = Some(v.clone()),
            "DurationSeconds" => {
                input.duration_s = v.parse().map_err(|_| {
                    StsFailure::validation(format!(
                        "DurationSeconds `{v}` is not a whole number of seconds"
                    ))
                })?
            }
            "Policy" => input.policy = Some(v.clone()),
            "ExternalId" => input.external_id = Some(v.clone()),
            _ if k.starts_with("PolicyArns.member.") && k.ends_with(".arn") => {
                let n: u32 = k["PolicyArns.member.".len()..k.len() - ".arn".len()]
                    .parse()
                    .map_err(|_| {
                        StsFailure::validation(format!("{k} is not PolicyArns.member.N.arn"))
                    })?;
                policy_arns.push((n, v.clone()));
            }
            _ => {
                let tag = k
                    .strip_prefix("Tags.member.")
                    .and_then(|rest| rest.split_once('.'));
                match tag {
                    Some((n, "Key")) => {
                        tag_keys.entry(n.to_string()).or_default().0 = Some(v.clone())
                    }
                    Some((n, "Value")) => {
                        tag_keys.entry(n.to_string()).or_default().1 = Some(v.clone())
                    }
                    _ => {
                        let name = k.split('.').next().unwrap_or(k);
                        return Err(StsFailure::validation(format!(
                            "AssumeRole's parameter {name} is not served here (served: RoleArn, \
                             RoleSessionName, DurationSeconds, Policy, PolicyArns, Tags, ExternalId)"
                        )));
                    }
                }
            }
        }
    }
    let missing = |field: &str| {
        StsFailure::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: \
             Member must not be null"
        ))
    };
    policy_arns.sort();
    if policy_arns.len() > 10 {
        return Err(StsFailure::validation(
            "PolicyArns names at most 10 managed policies",
        ));
    }
    input.policy_arns = policy_arns.into_iter().map(|(_, a)| a).collect();
    input.role_arn = role_arn.ok_or_else(|| missing("roleArn"))?;
    input.session_name = session_name.ok_or_else(|| missing("roleSessionName"))?;
    for (n, (key, value)) in tag_keys {
        let (Some(key), Some(value)) = (key, value) else {
            return Err(StsFailure::validation(format!(
                "Tags.member.{n} needs both a Key and a Value"
            )));
        };
        input.tags.insert(key, value);
    }
    Ok(input)
}

/// AssumeRole's answer.
pub fn assume_role_xml(r: &AssumedRole, request_id: &str) -> Vec<u8> {
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
<SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>\
<AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>\
</AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
</AssumeRoleResponse>",
        escape(&r.access_key),
        escape(&r.secret),
        escape(&r.token),
        escape(&r.expiration),
        escape(&r.assumed_role_id),
        escape(&r.arn),
        escape(request_id)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_form_posts_are_sts() {
        let form = Some("application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(
            action_of(form, b"Action=GetCallerIdentity&Version=2011-06-15").as_deref(),
            Some("GetCallerIdentity")
        );
        assert_eq!(
            action_of(Some("application/x-amz-json-1.0"), b"Action=X"),
            None
        );
        assert_eq!(action_of(form, b"Version=2011-06-15"), None);
        let xml = String::from_utf8(caller_identity_xml("arn:a<b", "AIDA1", "123456789012", "r"))
            .unwrap();
        assert!(
            xml.contains("<Arn>arn:a&lt;b</Arn>")
                && xml.contains("<Account>123456789012</Account>")
        );
    }

    #[test]
    fn assume_role_parameters_are_read_from_the_form_and_the_rest_refused_by_name() {
        let pairs = form(
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FReader\
&RoleSessionName=bob-1&DurationSeconds=900&Tags.member.1.Key=team&Tags.member.1.Value=storage+ops\
&ExternalId=x-1",
        );
        let input = assume_role_input(&pairs).unwrap();
        assert_eq!(input.role_arn, "arn:aws:iam::123456789012:role/Reader");
        assert_eq!(input.session_name, "bob-1");
        assert_eq!(input.duration_s, 900);
        assert_eq!(input.tags["team"], "storage ops");
        assert_eq!(input.external_id.as_deref(), Some("x-1"));
        let only = |body: &[u8]| assume_role_input(&form(body));
        assert_eq!(
            only(b"RoleArn=a&RoleSessionName=s").unwrap().duration_s,
            3600
        );
        let e = only(b"RoleSessionName=s").unwrap_err();
        assert!(e.message.contains("'roleArn'"), "{e:?}");
        let e =
            only(b"RoleArn=a&RoleSessionName=s&SerialNumber=arn:mfa&TokenCode=123456").unwrap_err();
        assert!(
            e.code == "ValidationError" && e.message.contains("SerialNumber"),
            "{e:?}"
        );
        let two = only(
            b"RoleArn=a&RoleSessionName=s&PolicyArns.member.2.arn=arn:q&PolicyArns.member.1.arn=arn:p",
        )
        .unwrap();
        assert_eq!(two.policy_arns, ["arn:p", "arn:q"]);
        let e = only(b"RoleArn=a&RoleSessionName=s&PolicyArns.member.x.arn=arn:p").unwrap_err();
        assert!(e.message.contains("PolicyArns.member.N.arn"), "{e:?}");
        let e = only(b"RoleArn=a&RoleSessionName=s&Tags.member.1.Key=k").unwrap_err();
        assert!(e.message.contains("Tags.member.1"), "{e:?}");
        let e = only(b"RoleArn=a&RoleSessionName=s&DurationSeconds=soon").unwrap_err();
        assert!(e.message.contains("soon"), "{e:?}");
    }
}
