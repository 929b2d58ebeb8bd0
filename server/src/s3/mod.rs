//! The S3 endpoint: s3s for the protocol (routing, XML, SigV4, S3 error documents), the
//! object store underneath, IAM deciding every request.
//!
//! A request's path through this module:
//!
//! ```text
//! http::serve ─► handle(): request id, peer, record; headers S3 forgives mended (lenient.rs);
//!   a browser form's fields read ahead of its file (form_post.rs) ─► s3s: route, SigV4 (auth.rs) ─►
//!   access check (auth.rs: principal, anonymous allowed) ─► service.rs ─► buckets / objects /
//!   listing / multipart: engine call on a blocking thread as the caller (endpoint.rs) ─►
//!   response; the body metered ─► at its end: metrics + one access-log line
//! ```
//!
//! What s3s leaves to an implementation is done here: body-size caps and streaming
//! ([`body`]), checksum trailers (verified by the engine before commit), conditional GET/HEAD
//! (the engine's conditions), and letting unsigned requests reach bucket policies.
// S3's wire: every narrowing cast below (and in the submodules) is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

pub mod access_log;
pub mod auth;
pub mod body;
pub mod buckets;
pub mod caller;
pub mod convert;
pub mod cors;
pub mod endpoint;
pub mod error_doc;
pub mod errors;
pub mod form_post;
pub mod lenient;
pub mod lifecycle;
pub mod listing;
pub mod multipart;
pub mod object_lock;
pub mod objects;
pub mod request_time;
pub mod restore;
pub mod select;
pub mod service;
pub mod sigv2;
pub mod sse;
pub mod tagging;
pub mod xml_mend;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use hyper::body::Frame;

use crate::http::RequestBody;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};

use caller::{Peer, Record, RequestId, SharedRecord};
pub use endpoint::Endpoint;

/// The S3 front: s3s's service for an endpoint, and the store it serves (for what is answered
/// before s3s sees a request, or added after: CORS).
#[derive(Clone)]
pub struct Front {
    svc: S3Service,
    store: Arc<seedbed_engine::object::ObjectStore>,
    logs: Arc<access_log::AccessLogs>,
    /// Access keys, for the headers [`lenient`] mends under a signature.
    identity: Arc<crate::identity::IdentityStore>,
}

impl Front {
    /// The server's access logs (their delivery runs beside the listener).
    pub fn logs(&self) -> Arc<access_log::AccessLogs> {
        self.logs.clone()
    }
}

/// Build the S3 front for an endpoint.
pub fn service(endpoint: Endpoint) -> Front {
    let identity = endpoint.identity.clone();
    let store = endpoint.store.clone();
    let logs = endpoint.logs.clone();
    let region = endpoint.region.clone();
    let mut config = S3Config::default();
    config.xml_max_body_size = endpoint.limits.xml_max_bytes;
    let mut b = S3ServiceBuilder::new(service::SeedbedS3(endpoint));
    b.set_config(Arc::new(StaticConfigProvider::new(Arc::new(config))));
    b.set_auth(auth::IdentityAuth(identity.clone()));
    b.set_access(auth::IdentityAccess(
        identity.clone(),
        store.clone(),
        region,
    ));
    Front {
        svc: b.build(),
        store,
        logs,
        identity,
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A request id: 16 hex digits, unique within the process (time-seeded so restarts differ).
pub(crate) fn request_id() -> String {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
            << 20
    });
    format!(
        "{:016X}",
        base.wrapping_add(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    )
}

/// Largest body accepted with `Transfer-Encoding: chunked` and no length: it is read whole
/// to learn its length (the store needs it before the first byte).
pub const CHUNKED_BODY_MAX: usize = 16 * 1024 * 1024;

/// A presigned URL whose X-Amz-Expires is negative has expired, whatever its date (s3s would
/// call the number malformed; S3 clients that pass a negative lifetime mean "already expired").
/// A presigned URL valid for longer than S3's limit of a week (604,800 s) is refused too.
fn expired_presign(req: &Request<RequestBody>) -> bool {
    req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| {
            kv.strip_prefix("X-Amz-Expires=").is_some_and(|v| {
                v.starts_with('-')
                    || v.starts_with("%2D")
                    || v.parse::<u64>().is_ok_and(|s| s > 604_800)
            })
        })
    })
}

/// A body sent with `Transfer-Encoding: chunked` and neither Content-Length nor
/// x-amz-decoded-content-length (plain HTTP chunking, not aws-chunked): read it whole, up to
/// [`CHUNKED_BODY_MAX`], and give the request its length. Larger is MissingContentLength (411),
/// as S3 answers chunked uploads of unknown length.
///
/// Headers S3 reads leniently and s3s would refuse are mended here too ([`lenient`]), and
/// so are XML documents ([`xml_mend`]: PutBucketEncryption's `BlockedEncryptionTypes`), and a
/// SigV2 request's time is checked, which s3s does not do ([`request_time`]), and a SigV2
/// path-style bucket request signed as botocore signs it is accepted ([`sigv2`]).
async fn with_length(
    req: Request<RequestBody>,
    identity: &crate::identity::IdentityStore,
) -> Result<Request<s3s::Body>, s3s::S3Error> {
    use http_body_util::BodyExt;
    let chunked = req
        .headers()
        .get(http::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let has_length = req.headers().contains_key(http::header::CONTENT_LENGTH)
        || req.headers().contains_key("x-amz-decoded-content-length");
    let (mut parts, body) = req.into_parts();
    date_as_amz_date(&mut parts.headers);
    let now = now_secs();
    request_time::check(&parts.headers, now)?;
    lenient::mend(&mut parts, identity, now);
    sigv2::mend(&mut parts, identity);
    if !chunked || has_length {
        let body = if parts.method == http::Method::POST {
            form_post::prepare(&mut parts, body).await?
        } else if xml_mend::wants(&parts) {
            xml_mend::mend(&mut parts, body, identity, now).await?
        } else {
            s3s::Body::http_body(body)
        };
        return Ok(Request::from_parts(parts, body));
    }
    let bytes = http_body_util::Limited::new(body, CHUNKED_BODY_MAX)
        .collect()
        .await
        .map_err(|e| {
            errors::s3_error(
                "MissingContentLength",
                411,
                format!(
                    "a chunked body without Content-Length is read whole, up to {CHUNKED_BODY_MAX} bytes: {e}"
                ),
            )
        })?
        .to_bytes();
    let bytes = if parts.method == http::Method::POST {
        form_post::mend_whole(&mut parts, bytes)?
    } else {
        bytes
    };
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Ok(Request::from_parts(parts, s3s::Body::from(bytes)))
}

/// The server's clock in Unix seconds (for a signature's 15-minute window).
fn now_secs() -> i64 {
    i64::try_from(convert::now_ms() / 1000).unwrap_or(i64::MAX)
}

/// SigV4 lets a client give the request time in `Date` when it sends no `x-amz-date` (the
/// signer then signs `date`); s3s reads only `x-amz-date`, so give it the same instant there.
fn date_as_amz_date(headers: &mut http::HeaderMap) {
    let sigv4 = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    if !sigv4 || headers.contains_key("x-amz-date") {
        return;
    }
    let Some(date) = headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let parsed = time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822)
        .ok()
        .map(|t| t.unix_timestamp())
        .or_else(|| {
            s3s::dto::Timestamp::parse(s3s::dto::TimestampFormat::HttpDate, date)
                .ok()
                .map(|t| time::OffsetDateTime::from(t).unix_timestamp())
        });
    if let Some(t) = parsed {
        if let Ok(v) = HeaderValue::from_str(&seedbed_sigv4::format_amz_date(t)) {
            headers.insert("x-amz-date", v);
        }
    }
}

/// Rewrite a whole (small, XML) response body with `edit`, keeping Content-Length true.
async fn rewrite_body(
    resp: Response<s3s::Body>,
    edit: impl FnOnce(String) -> String,
) -> Response<s3s::Body> {
    use http_body_util::BodyExt;
    let (mut parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, s3s::Body::empty());
    };
    let text = edit(String::from_utf8_lossy(&collected.to_bytes()).into_owned());
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    Response::from_parts(parts, s3s::Body::from(text))
}

/// Where S3's answer differs from what s3s writes, make it S3's. Each case names the
/// operation; the AWS-verified tests that show S3's behaviour are named beside it.
async fn as_s3_answers(
    operation: &str,
    method: &str,
    mut resp: Response<s3s::Body>,
) -> Response<s3s::Body> {
    // GetObjectAttributes shows the ETag without quotes (s3s quotes every ETag element).
    if operation == "GetObjectAttributes" && resp.status().is_success() {
        resp = rewrite_body(resp, |t| {
            t.replace("<ETag>\"", "<ETag>")
                .replace("\"</ETag>", "</ETag>")
        })
        .await;
    }
    // GetBucketEncryption shows a blocked SSE-C in the rule (s3s's model has no such element).
    if let Some(types) = resp.headers_mut().remove(sse::BLOCKED_TYPES_HEADER) {
        let types = types.to_str().unwrap_or_default().to_string();
        resp = rewrite_body(resp, |t| match t.rfind("</Rule>") {
            Some(at) => format!(
                "{}<BlockedEncryptionTypes><EncryptionType>{types}</EncryptionType>\
                 </BlockedEncryptionTypes>{}",
                &t[..at],
                &t[at..]
            ),
            None => t,
        })
        .await;
    }
    // PutBucketTagging answers 204 No Content; s3s's model says 200 (test_put_bucket_tagging).
    if operation == "PutBucketTagging" && resp.status() == http::StatusCode::OK {
        *resp.status_mut() = http::StatusCode::NO_CONTENT;
    }
    // RestoreObject answers 202 Accepted when a restore starts (200 when it extends one);
    // s3s's operation ignores the response's status, so the handler asks in a private header.
    if resp.headers_mut().remove(restore::ACCEPTED).is_some() {
        *resp.status_mut() = http::StatusCode::ACCEPTED;
    }
    // A `<ResourceType>` comes with the request's `<Method>` (test_put_object_tagging_on_deleted_version).
    if resp.headers().contains_key("x-seedbed-error-resource-type") {
        if let Ok(m) = HeaderValue::from_str(method) {
            resp.headers_mut().insert("x-seedbed-error-method", m);
        }
    }
    // Error elements s3s's `S3Error` cannot carry (`<Condition>`, `<BucketName>`, ...), asked
    // for in private headers (`errors::with_element`), go before `</Error>`, XML-escaped.
    let extra: Vec<(&str, String)> = errors::EXTRA_ELEMENTS
        .iter()
        .filter_map(|(header, element)| {
            let value = resp.headers_mut().remove(*header)?;
            Some((
                *element,
                error_doc::escape(value.to_str().unwrap_or_default()),
            ))
        })
        .collect();
    if !extra.is_empty() {
        resp = rewrite_body(resp, |t| match t.rfind("</Error>") {
            Some(at) => {
                let elements: String = extra
                    .iter()
                    .map(|(name, value)| format!("<{name}>{value}</{name}>"))
                    .collect();
                format!("{}{elements}{}", &t[..at], &t[at..])
            }
            None => t,
        })
        .await;
    }
    // A HEAD that names a range or a part answers 206, as the GET would; s3s's HeadObject
    // always writes 200 (test_head_object).
    if operation == "HeadObject"
        && resp.status() == http::StatusCode::OK
        && resp.headers().contains_key(http::header::CONTENT_RANGE)
    {
        *resp.status_mut() = http::StatusCode::PARTIAL_CONTENT;
    }
    // HeadBucket says `Content-Type: application/xml` although it has no body; s3s sends none
    // (test_header_content_type).
    if operation == "HeadBucket" && resp.status().is_success() {
        resp.headers_mut()
            .entry(http::header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/xml"));
    }
    resp
}

/// An error document s3s wrote with a code alone, completed as S3 writes it
/// ([`error_doc::complete`]); its "Unknown operation" as S3's 405
/// ([`error_doc::no_such_operation`]). Only small XML error bodies are read.
async fn completed_error(
    mut resp: Response<s3s::Body>,
    id: &str,
    method: &str,
    path: &str,
) -> Response<s3s::Body> {
    let small_xml = resp.status().as_u16() >= 400
        && resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/xml"))
        && http_body::Body::size_hint(resp.body())
            .exact()
            .is_some_and(|n| n < 16 * 1024);
    if !small_xml {
        return resp;
    }
    if resp.status() == http::StatusCode::NOT_IMPLEMENTED {
        let mut not_allowed = false;
        resp = rewrite_body(resp, |t| {
            match error_doc::no_such_operation(&t, method, path, id) {
                Some(doc) => {
                    not_allowed = true;
                    doc
                }
                None => t,
            }
        })
        .await;
        if not_allowed {
            *resp.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
            return resp;
        }
    }
    rewrite_body(resp, |t| error_doc::complete(&t, id, path).unwrap_or(t)).await
}

/// POST Object (browser-form uploads) as S3 answers it, where s3s answers otherwise:
///
/// - A policy condition the form does not meet is 403 AccessDenied "Invalid according to
///   Policy: Policy Condition failed: …" at S3 (the policy is valid; the upload is not allowed
///   by it); s3s says 400 InvalidPolicyDocument, S3's answer for a policy that cannot be read.
/// - The `success_action_redirect` URL gets the ETag quoted (`etag=%22…%22`), as S3 sends it
///   (ceph/s3-tests' `test_post_object_success_redirect_action`); s3s leaves the quotes out.
async fn form_post_answers(mut resp: Response<s3s::Body>) -> Response<s3s::Body> {
    if resp.status() == http::StatusCode::SEE_OTHER {
        if let Some(loc) = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            let quoted = quote_redirect_etag(loc);
            if let Ok(v) = HeaderValue::from_str(&quoted) {
                resp.headers_mut().insert(http::header::LOCATION, v);
            }
        }
        return resp;
    }
    if resp.status() != http::StatusCode::BAD_REQUEST {
        return resp;
    }
    let mut condition_failed = false;
    let mut resp = rewrite_body(resp, |t| {
        let failed = t.contains("<Code>InvalidPolicyDocument</Code>")
            && (t.contains("<Message>Policy condition")
                || t.contains("does not match bucket in URL"));
        if !failed {
            return t;
        }
        condition_failed = true;
        t.replace(
            "<Code>InvalidPolicyDocument</Code>",
            "<Code>AccessDenied</Code>",
        )
        .replace(
            "<Message>",
            "<Message>Invalid according to Policy: Policy Condition failed: ",
        )
    })
    .await;
    if condition_failed {
        *resp.status_mut() = http::StatusCode::FORBIDDEN;
    }
    resp
}

/// `…&etag=HEX` → `…&etag=%22HEX%22` (the last `etag` parameter; already quoted ones stay).
fn quote_redirect_etag(location: &str) -> String {
    match location.rfind("etag=") {
        Some(at) if !location[at + 5..].starts_with("%22") => {
            let value_end = location[at + 5..]
                .find('&')
                .map_or(location.len(), |e| at + 5 + e);
            format!(
                "{}etag=%22{}%22{}",
                &location[..at],
                &location[at + 5..value_end],
                &location[value_end..]
            )
        }
        _ => location.to_string(),
    }
}

fn error_response(e: s3s::S3Error) -> Response<s3s::Body> {
    e.to_http_response().unwrap_or_else(|_| {
        let mut r = Response::new(s3s::Body::empty());
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// Serve one HTTP request with the S3 service.
pub async fn handle(
    front: Front,
    peer: SocketAddr,
    mut req: Request<RequestBody>,
) -> Response<MeteredBody> {
    let Front {
        svc,
        store,
        logs,
        identity,
    } = front;
    let start = Instant::now();
    let arrived_ms = convert::now_ms();
    let id = request_id();
    let record: SharedRecord = Arc::new(Mutex::new(Record::default()));
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(Peer(peer));
    req.extensions_mut().insert(record.clone());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    // A browser-form upload (POST Object): s3s checks its policy before any operation of ours
    // runs, so its refusals are put in S3's words on the way out (`form_post_answers`).
    let form_post =
        req.method() == http::Method::POST && form_post::form_boundary(req.headers()).is_some();
    // What an access log record needs of the request, taken only while some bucket logs.
    let logged = logs
        .logs(
            path.trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default(),
        )
        .then(|| {
            let h = |name: http::header::HeaderName| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            let query = req.uri().query().unwrap_or_default();
            let signed = req.headers().contains_key(http::header::AUTHORIZATION)
                || query.contains("X-Amz-Signature=");
            let version_id = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("versionId="))
                .map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            LogRequest {
                arrived_ms,
                uri: format!("{} {} {:?}", req.method(), req.uri(), req.version()),
                version_id,
                user_agent: h(http::header::USER_AGENT),
                referer: h(http::header::REFERER),
                host: h(http::header::HOST),
                signed,
            }
        });
    // CORS needs the bucket's rules: looked up (off the async threads) only for a request that
    // carries `Origin` or is a preflight.
    let cors_headers = (req.headers().contains_key(http::header::ORIGIN)
        || req.method() == http::Method::OPTIONS)
        .then(|| req.headers().clone());
    let preflight = match &cors_headers {
        Some(headers) if req.method() == http::Method::OPTIONS => {
            let (store, m, p, h) = (
                store.clone(),
                req.method().clone(),
                path.clone(),
                headers.clone(),
            );
            tokio::task::spawn_blocking(move || cors::preflight(&store, &m, &p, &h))
                .await
                .unwrap_or(None)
        }
        _ => None,
    };
    let mut resp = if let Some(answer) = preflight {
        match answer {
            Ok(r) => r,
            Err(mut e) => {
                e.set_request_id(id.clone());
                error_response(e)
            }
        }
    } else if expired_presign(&req) {
        let mut e = errors::s3_error(
            "AccessDenied",
            403,
            "Request has expired (or X-Amz-Expires is outside 1 to 604800 seconds)",
        );
        e.set_request_id(id.clone());
        error_response(e)
    } else {
        match with_length(req, &identity).await {
            Err(mut e) => {
                e.set_request_id(id.clone());
                error_response(e)
            }
            Ok(req) => match svc.call(req).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = ?e, "the S3 service failed");
                    let mut r = Response::new(s3s::Body::empty());
                    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    r
                }
            },
        }
    };
    let operation = record
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .operation
        .clone();
    resp = as_s3_answers(&operation, &method, resp).await;
    resp = completed_error(resp, &id, &method, &path).await;
    if form_post {
        resp = form_post_answers(resp).await;
    }
    if let Some(headers) = cors_headers.filter(|_| method != "OPTIONS") {
        let (store, m, p) = (store.clone(), method.clone(), path.clone());
        let cors = tokio::task::spawn_blocking(move || {
            let mut out = http::HeaderMap::new();
            cors::actual_request(&store, &m, &p, &headers, &mut out);
            out
        })
        .await
        .unwrap_or_default();
        resp.headers_mut().extend(cors);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amz-request-id", v.clone());
        resp.headers_mut().insert("x-amz-id-2", v);
    }
    resp.headers_mut()
        .insert("server", HeaderValue::from_static("Seedbed"));
    let status = resp.status().as_u16();
    let expected = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let finish = Finish {
        expected,
        id,
        method,
        path,
        peer,
        status,
        start,
        first_byte: start.elapsed(),
        record,
        sent: 0,
        logged: logged.map(|r| (r, logs)),
    };
    resp.map(|body| MeteredBody {
        inner: body,
        finish: Some(finish),
    })
}

/// What the access log and the metrics need when a response ends.
#[derive(Debug)]
struct Finish {
    /// Content-Length, when the response declares one.
    expected: Option<u64>,
    id: String,
    method: String,
    path: String,
    peer: SocketAddr,
    status: u16,
    start: Instant,
    first_byte: std::time::Duration,
    record: SharedRecord,
    sent: u64,
    /// The request as an access log record tells it, and where records go (only for a
    /// request to a bucket that logs).
    logged: Option<(LogRequest, Arc<access_log::AccessLogs>)>,
}

/// What an access log record needs of the request itself.
#[derive(Debug)]
struct LogRequest {
    arrived_ms: u64,
    uri: String,
    /// The request's `versionId`, if it names one.
    version_id: String,
    user_agent: String,
    referer: String,
    host: String,
    signed: bool,
}

impl Finish {
    fn done(&self, complete: bool) {
        let r = self
            .record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let total = self.start.elapsed();
        let (operation, bucket) = if r.operation.is_empty() {
            // Refused before routing (a bad signature): name the bucket from the path.
            let b = self
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            ("Unknown".to_string(), b.to_string())
        } else {
            (r.operation.clone(), r.bucket.clone())
        };
        crate::metrics::record(&crate::metrics::RequestMetrics {
            method: &self.method,
            operation: &operation,
            bucket: &bucket,
            status: self.status,
            bytes_in: r.bytes_in,
            bytes_out: self.sent,
            first_byte: self.first_byte,
            total,
        });
        tracing::info!(
            target: "seedbed::access",
            request_id = %self.id,
            peer = %self.peer,
            principal = %if r.principal.is_empty() { "-" } else { &r.principal },
            operation = %operation,
            bucket = %bucket,
            key = %r.key,
            status = self.status,
            bytes_in = r.bytes_in,
            bytes_out = self.sent,
            first_byte_ms = self.first_byte.as_secs_f64() * 1e3,
            total_ms = total.as_secs_f64() * 1e3,
            complete,
        );
        if let Some((req, logs)) = &self.logged {
            let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            logs.record(seedbed_engine::object::access_log::LogRecord {
                bucket_owner: String::new(),
                bucket,
                time_ms: req.arrived_ms,
                remote_ip: self.peer.ip().to_string(),
                requester: if r.principal.is_empty() || r.principal == "anonymous" {
                    String::new()
                } else {
                    r.principal.clone()
                },
                request_id: self.id.clone(),
                operation: seedbed_engine::object::access_log::rest_operation(
                    &self.method,
                    &r.operation,
                    !r.key.is_empty(),
                ),
                key: r.key.clone(),
                request_uri: req.uri.clone(),
                status: self.status,
                bytes_sent: self.sent,
                total_ms: ms(total),
                turnaround_ms: ms(self.first_byte),
                referer: req.referer.clone(),
                user_agent: req.user_agent.clone(),
                signature: if req.signed {
                    "SigV4".into()
                } else {
                    String::new()
                },
                host: req.host.clone(),
                version_id: req.version_id.clone(),
            });
        }
    }
}

/// A response body that counts what it sends and, when it ends (or the client goes away),
/// records the request's metrics and access-log line.
pub struct MeteredBody {
    inner: s3s::Body,
    finish: Option<Finish>,
}

impl hyper::body::Body for MeteredBody {
    type Data = Bytes;
    type Error = s3s::StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(f))) => {
                if let (Some(d), Some(fin)) = (f.data_ref(), self.finish.as_mut()) {
                    fin.sent += d.len() as u64;
                }
            }
            Poll::Ready(None) => {
                if let Some(f) = self.finish.take() {
                    f.done(true);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(f) = self.finish.take() {
                    f.done(false);
                }
            }
            Poll::Pending => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        // A body hyper never polled to its end (an empty body, or a client that left).
        if let Some(f) = self.finish.take() {
            let complete = match f.expected {
                Some(n) => f.sent >= n,
                None => hyper::body::Body::is_end_stream(&self.inner),
            };
            f.done(complete);
        }
    }
}

/// A count for an XML field S3 types as a 32-bit integer (max-keys, key-count, parts):
/// bounded by S3's limits (1,000 keys, 10,000 parts), saturating if it ever were not.
fn xml_count<T: TryInto<i32>>(n: T) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::quote_redirect_etag;

    #[test]
    fn a_form_uploads_redirect_carries_the_etag_quoted() {
        assert_eq!(
            quote_redirect_etag("http://x/done?bucket=b&key=k&etag=0a1b"),
            "http://x/done?bucket=b&key=k&etag=%220a1b%22"
        );
        // The redirect URL's own parameters stay; a quoted ETag is left as it is.
        assert_eq!(
            quote_redirect_etag("http://x/?a=1&etag=00&z=2"),
            "http://x/?a=1&etag=%2200%22&z=2"
        );
        assert_eq!(
            quote_redirect_etag("http://x/?etag=%2200%22"),
            "http://x/?etag=%2200%22"
        );
        assert_eq!(quote_redirect_etag("http://x/"), "http://x/");
    }
}
