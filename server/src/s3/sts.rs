//! STS at the S3 listener, for clients given one endpoint for every service
//! (`AWS_ENDPOINT_URL=http://127.0.0.1:9000`, or `--endpoint-url` the S3 address): a form POST
//! to `/` is an STS query-protocol request (S3 has no operation there), answered exactly as
//! the DynamoDB listener answers it (`seedbed_dynamo::sts::answer`: GetCallerIdentity and
//! AssumeRole, the same identities, the same IAM file).

use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use seedbed_dynamo::endpoint::HttpRequest;

use crate::identity::IdentityStore;

/// STS forms are a few hundred bytes; a session policy is at most 2,048 characters at AWS.
const FORM_MAX: usize = 64 * 1024;

/// Whether `req` is for STS: `POST /` with a URL-encoded form body.
pub fn is_sts(req: &Request<Incoming>) -> bool {
    req.method() == http::Method::POST
        && req.uri().path() == "/"
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Answer an STS request; returns the response, the operation (`sts:AssumeRole`) and the
/// caller's name for the access log and metrics.
pub async fn answer(
    req: Request<Incoming>,
    identity: Arc<IdentityStore>,
    request_id: String,
    now_unix_secs: i64,
) -> (Response<s3s::Body>, String, String) {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let xml = |status: u16, body: Vec<u8>| {
        let mut r = Response::new(s3s::Body::from(body));
        *r.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml"),
        );
        r
    };
    let bytes = match http_body_util::Limited::new(body, FORM_MAX).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let message = format!("the form could not be read (at most {FORM_MAX} bytes): {e}");
            let doc = seedbed_dynamo::sts::error_xml("ValidationError", &message, &request_id);
            return (xml(400, doc), "sts".into(), String::new());
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(action) = seedbed_dynamo::sts::action_of(content_type, &bytes) else {
        let doc = seedbed_dynamo::sts::error_xml(
            "MissingAction",
            "a form POST to / is an STS request, and this one names no Action",
            &request_id,
        );
        return (xml(400, doc), "sts".into(), String::new());
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let method = parts.method.as_str().to_string();
    // The answer may write the IAM file (AssumeRole): off the async threads.
    let out = tokio::task::spawn_blocking(move || {
        let security = crate::dynamodb::security(identity);
        seedbed_dynamo::sts::answer(
            Some(&security),
            &HttpRequest {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &bytes,
            },
            &action,
            now_unix_secs,
            &request_id,
        )
    })
    .await;
    match out {
        Ok(r) => {
            let mut resp = xml(r.status, r.body);
            for (k, v) in r.headers {
                if let (Ok(k), Ok(v)) = (
                    http::header::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    resp.headers_mut().insert(k, v);
                }
            }
            (resp, r.operation, r.principal)
        }
        Err(_) => {
            let mut r = Response::new(s3s::Body::empty());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            (r, "sts".into(), String::new())
        }
    }
}
