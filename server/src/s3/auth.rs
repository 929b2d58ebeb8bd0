//! Authentication and the access check, as s3s asks for them.
//!
//! s3s verifies SigV4 (headers, presigned URLs, aws-chunked bodies) with the secret
//! [`IdentityAuth`] looks up. Its default access check then refuses every unsigned request;
//! [`IdentityAccess`] instead lets them through as the anonymous principal, because S3 decides
//! anonymous access with bucket policies and ACLs (the engine's IAM does, per operation). It
//! also checks the session token of temporary credentials and puts the [`Caller`] into the
//! request for the operation to use.

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::PostObjectInput;
use s3s::path::S3Path;
use s3s::{S3Request, S3Result};
use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::object::ObjectStore;

use super::caller::{Caller, Peer, SharedRecord};
use super::errors::s3_error;
use crate::identity::IdentityStore;

/// The regions where S3 takes Signature Version 2: those it had before 30 January 2014 (every
/// later region takes SigV4 only; S3's "Authenticating Requests (AWS Signature Version 2)").
const SIGV2_REGIONS: [&str; 10] = [
    "EU",
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
    "us-gov-west-1",
];

/// Secrets of access keys, from the live identity.
#[derive(Debug, Clone)]
pub struct IdentityAuth(pub Arc<IdentityStore>);

#[async_trait::async_trait]
impl S3Auth for IdentityAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.credential(access_key) {
            Some(c) if c.active => Ok(SecretKey::from(c.secret)),
            _ => Err(s3_error(
                "InvalidAccessKeyId",
                403,
                format!("the AWS access key ID {access_key} does not exist in our records"),
            )),
        }
    }
}

/// Resolves the caller; admits anonymous requests (IAM decides them later); records the key's
/// use; checks `x-amz-expected-bucket-owner` for every operation on a bucket. The region is the
/// server's, recorded as a key's last-use region when the signature names none (SigV2).
#[derive(Debug, Clone)]
pub struct IdentityAccess(pub Arc<IdentityStore>, pub Arc<ObjectStore>, pub String);

fn header(cx: &S3AccessContext<'_>, name: &str) -> Option<String> {
    cx.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

fn query_param(cx: &S3AccessContext<'_>, name: &str) -> Option<String> {
    cx.uri().query().and_then(|q| {
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    })
}

/// The region a SigV4 request was signed for: the third part of its credential scope
/// (`KEY/DATE/REGION/s3/aws4_request`), in the `Authorization` header or a presigned URL's
/// `X-Amz-Credential`. Read on every signed request, so without parsing the whole header.
fn signed_region(cx: &S3AccessContext<'_>) -> Option<String> {
    let from_header = cx
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split_once("Credential="))
        .and_then(|(_, scope)| scope.split('/').nth(2).map(String::from));
    from_header.or_else(|| {
        query_param(cx, "X-Amz-Credential").and_then(|c| c.split('/').nth(2).map(String::from))
    })
}

#[async_trait::async_trait]
impl S3Access for IdentityAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let principal = match cx.credentials() {
            None => Principal::Anonymous,
            Some(cred) => {
                let c = self.0.credential(&cred.access_key).ok_or_else(|| {
                    s3_error("InvalidAccessKeyId", 403, "the access key no longer exists")
                })?;
                let sent = header(cx, "x-amz-security-token")
                    .or_else(|| query_param(cx, "X-Amz-Security-Token"));
                match &c.session_token {
                    Some(token) if sent.as_deref() != Some(token.as_str()) => {
                        return Err(s3_error(
                            "InvalidToken",
                            400,
                            "temporary credentials need their session token (x-amz-security-token)",
                        ));
                    }
                    // A long-term key with a session token: S3 refuses the token rather than
                    // ignore it (botocore's integration test_bad_request_on_invalid_credentials).
                    None if sent.is_some() => {
                        return Err(s3_error(
                            "InvalidToken",
                            400,
                            "The provided token is malformed or otherwise invalid: the access \
                             key is a long-term key, which takes no x-amz-security-token",
                        ));
                    }
                    _ => {}
                }
                if let Principal::Session(s) = &c.principal {
                    if super::convert::now_ms() >= s.expires_unix_ms {
                        return Err(s3_error(
                            "ExpiredToken",
                            400,
                            "the provided token has expired",
                        ));
                    }
                }
                // Authenticated: a use of the key, whatever IAM then decides.
                let region = signed_region(cx).unwrap_or_else(|| self.2.clone());
                self.0
                    .record_use(&cred.access_key, &c.principal, "s3", &region);
                c.principal
            }
        };
        let peer = cx.extensions_mut().get::<Peer>().map(|p| p.0);
        let caller = Caller {
            principal,
            access_key: cx.credentials().map(|c| c.access_key.clone()),
            peer,
            user_agent: header(cx, "user-agent"),
            referer: header(cx, "referer"),
        };
        let op = cx.s3_op().name().to_string();
        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (String::new(), String::new()),
            S3Path::Bucket { bucket } => (bucket.to_string(), String::new()),
            S3Path::Object { bucket, key } => (bucket.to_string(), key.to_string()),
        };
        // C1 control characters (U+0080 to U+009F) in a key: S3 refuses the URI. (Every other
        // character, NUL and `../` included, is part of a key, never of a path.)
        if key.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
            return Err(s3_error(
                "InvalidURI",
                400,
                "Couldn't parse the specified URI.",
            ));
        }
        let sigv2 = header(cx, "authorization").is_some_and(|a| a.starts_with("AWS "))
            || query_param(cx, "AWSAccessKeyId").is_some();
        let expected_owner = header(cx, "x-amz-expected-bucket-owner");
        let found = if bucket.is_empty() || !(sigv2 || expected_owner.is_some()) {
            None
        } else {
            let (store, name) = (self.1.clone(), bucket.clone());
            tokio::task::spawn_blocking(move || store.bucket(&name).ok())
                .await
                .ok()
                .flatten()
        };
        // SigV2 is served by the regions S3 had before 2014 only; a bucket in a later one
        // answers a SigV2 request so (botocore's test_region_redirect_sigv2_to_sigv4_raises_error).
        if let Some(region) = found
            .as_ref()
            .and_then(|b| b.location.as_deref())
            .filter(|r| sigv2 && !SIGV2_REGIONS.contains(r))
        {
            return Err(s3_error(
                "InvalidRequest",
                400,
                format!(
                    "The authorization mechanism you have provided is not supported. Please use \
                     AWS4-HMAC-SHA256. (Bucket {bucket} is in {region}, which takes SigV4 only.)"
                ),
            ));
        }
        // x-amz-expected-bucket-owner: the request is only for a bucket of that account.
        if let Some(want) = expected_owner {
            if let Some(b) = found {
                let owner = b
                    .owner
                    .map(|o| o.account)
                    .unwrap_or_else(|| self.0.guard().owner_account.clone());
                if owner != want {
                    return Err(s3_error(
                        "AccessDenied",
                        403,
                        format!("the bucket {bucket} is not owned by the expected account {want}"),
                    ));
                }
            }
        }
        if let Some(rec) = cx.extensions_mut().get::<SharedRecord>() {
            let mut r = rec.lock().unwrap_or_else(|p| p.into_inner());
            r.operation = op;
            r.bucket = bucket;
            r.key = key;
            r.principal = caller.name();
        }
        cx.extensions_mut().insert(caller);
        Ok(())
    }

    /// A form upload's path names only the bucket (the key is a field of its body), so `check`
    /// recorded no key: the access log and metrics get it here, once s3s has read the form.
    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        if let Some(rec) = req.extensions.get::<SharedRecord>() {
            rec.lock()
                .unwrap_or_else(|p| p.into_inner())
                .key
                .clone_from(&req.input.key);
        }
        Ok(())
    }
}
