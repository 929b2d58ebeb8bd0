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

/// Resolves the caller; admits anonymous requests (IAM decides them later); checks
/// `x-amz-expected-bucket-owner` for every operation on a bucket.
#[derive(Debug, Clone)]
pub struct IdentityAccess(pub Arc<IdentityStore>, pub Arc<ObjectStore>);

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

#[async_trait::async_trait]
impl S3Access for IdentityAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let principal = match cx.credentials() {
            None => Principal::Anonymous,
            Some(cred) => {
                let c = self.0.credential(&cred.access_key).ok_or_else(|| {
                    s3_error("InvalidAccessKeyId", 403, "the access key no longer exists")
                })?;
                if let Some(token) = &c.session_token {
                    let sent = header(cx, "x-amz-security-token")
                        .or_else(|| query_param(cx, "X-Amz-Security-Token"));
                    if sent.as_deref() != Some(token.as_str()) {
                        return Err(s3_error(
                            "InvalidToken",
                            400,
                            "temporary credentials need their session token (x-amz-security-token)",
                        ));
                    }
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
        // x-amz-expected-bucket-owner: the request is only for a bucket of that account.
        if let (Some(want), false) = (header(cx, "x-amz-expected-bucket-owner"), bucket.is_empty())
        {
            let (store, name) = (self.1.clone(), bucket.clone());
            let found = tokio::task::spawn_blocking(move || store.bucket(&name).ok())
                .await
                .ok()
                .flatten();
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
