//! CORS on the S3 endpoint: Put/Get/DeleteBucketCors, and the `Access-Control-*` answers a
//! browser gets — to a preflight (`OPTIONS`, answered here before s3s sees it: a preflight is
//! unsigned and asks no permission) and to an actual request that carries `Origin` (headers
//! added to whatever the request answered). The rules and their matching are the engine's
//! (`object/cors.rs`).

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method, Response};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::{CorsAnswer, CorsRule, ObjectStore};

use super::endpoint::Endpoint;
use super::errors::s3_error;

/// The bucket a path-style request names (its first segment), if any.
fn bucket_of(path: &str) -> Option<&str> {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|b| !b.is_empty())
}

/// The bucket's CORS rules (none when it has none or does not exist).
fn rules(store: &ObjectStore, path: &str) -> Vec<CorsRule> {
    bucket_of(path)
        .and_then(|b| store.bucket(b).ok())
        .map(|b| b.cors)
        .unwrap_or_default()
}

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn apply(h: &mut HeaderMap, a: &CorsAnswer) {
    set(h, "access-control-allow-origin", &a.allow_origin);
    set(h, "access-control-allow-methods", &a.allow_methods);
    if let Some(v) = &a.allow_headers {
        set(h, "access-control-allow-headers", v);
    }
    if let Some(v) = &a.expose_headers {
        set(h, "access-control-expose-headers", v);
    }
    if let Some(v) = a.max_age {
        set(h, "access-control-max-age", &v.to_string());
    }
    set(
        h,
        "vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    );
}

/// S3's answer to a preflight (`OPTIONS`): 400 without `Origin` or
/// `Access-Control-Request-Method`, 403 when no rule of the bucket allows it, else 200 with
/// the matching rule's headers.
pub fn preflight(
    store: &Arc<ObjectStore>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Result<Response<s3s::Body>, s3s::S3Error>> {
    if method != Method::OPTIONS {
        return None;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(asked)) = (header("origin"), header("access-control-request-method"))
    else {
        return Some(Err(s3_error(
            "BadRequest",
            400,
            "Insufficient information. Origin request header needed.",
        )));
    };
    let rules = rules(store, path);
    if rules.is_empty() {
        return Some(Err(s3_error(
            "AccessForbidden",
            403,
            "CORSResponse: CORS is not enabled for this bucket.",
        )));
    }
    let requested: Vec<&str> = header("access-control-request-headers")
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match seedbed_engine::object::cors::evaluate(&rules, origin, asked, &requested) {
        None => Some(Err(s3_error(
            "AccessForbidden",
            403,
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        ))),
        Some(a) => {
            let mut r = Response::new(s3s::Body::empty());
            apply(r.headers_mut(), &a);
            Some(Ok(r))
        }
    }
}

/// The `Access-Control-*` headers for an actual request from `origin` (the method is
/// `Access-Control-Request-Method` when the request sends one, else its own), if a rule of
/// the bucket allows it: added to the response whatever its status, as S3 adds them.
pub fn actual_request(
    store: &Arc<ObjectStore>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    response: &mut HeaderMap,
) {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let Some(origin) = header("origin") else {
        return;
    };
    let rules = rules(store, path);
    let asked = header("access-control-request-method").unwrap_or(method);
    if let Some(a) = seedbed_engine::object::cors::evaluate(&rules, origin, asked, &[]) {
        apply(response, &a);
    }
}

fn rule_from(r: CORSRule) -> CorsRule {
    CorsRule {
        id: r.id,
        allowed_origins: r.allowed_origins,
        allowed_methods: r.allowed_methods,
        allowed_headers: r.allowed_headers.unwrap_or_default(),
        expose_headers: r.expose_headers.unwrap_or_default(),
        max_age_seconds: r.max_age_seconds,
    }
}

fn rule_to(r: CorsRule) -> CORSRule {
    CORSRule {
        id: r.id,
        allowed_origins: r.allowed_origins,
        allowed_methods: r.allowed_methods,
        allowed_headers: (!r.allowed_headers.is_empty()).then_some(r.allowed_headers),
        expose_headers: (!r.expose_headers.is_empty()).then_some(r.expose_headers),
        max_age_seconds: r.max_age_seconds,
    }
}

impl Endpoint {
    pub(super) async fn put_bucket_cors(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let rules: Vec<CorsRule> = input
            .cors_configuration
            .cors_rules
            .into_iter()
            .map(rule_from)
            .collect();
        let bucket = input.bucket;
        cx.run(Vec::new(), move |s| s.put_bucket_cors(&bucket, rules))
            .await?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    pub(super) async fn get_bucket_cors(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let rules = cx.run(Vec::new(), move |s| s.bucket_cors(&bucket)).await?;
        Ok(S3Response::new(GetBucketCorsOutput {
            cors_rules: Some(rules.into_iter().map(rule_to).collect()),
        }))
    }

    pub(super) async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(Vec::new(), move |s| s.delete_bucket_cors(&bucket))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketCorsOutput {},
            http::StatusCode::NO_CONTENT,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_the_first_path_segment() {
        assert_eq!(bucket_of("/photos/cat.jpg"), Some("photos"));
        assert_eq!(bucket_of("/photos"), Some("photos"));
        assert_eq!(bucket_of("/"), None);
    }
}
