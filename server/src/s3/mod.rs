//! The S3 endpoint: s3s for the protocol (routing, XML, SigV4, S3 error documents), the
//! object store underneath, IAM deciding every request.
//!
//! A request's path through this module:
//!
//! ```text
//! http::serve ─► handle(): request id, peer, record ─► s3s: route, SigV4 (auth.rs) ─►
//!   access check (auth.rs: principal, anonymous allowed) ─► service.rs ─► buckets / objects /
//!   listing / multipart: engine call on a blocking thread as the caller (endpoint.rs) ─►
//!   response; the body metered ─► at its end: metrics + one access-log line
//! ```
//!
//! What s3s leaves to an implementation is done here: body-size caps and streaming
//! ([`body`]), checksum trailers (verified by the engine before commit), conditional GET/HEAD
//! (the engine's conditions), and letting unsigned requests reach bucket policies.

pub mod auth;
pub mod body;
pub mod buckets;
pub mod caller;
pub mod convert;
pub mod endpoint;
pub mod errors;
pub mod listing;
pub mod multipart;
pub mod objects;
pub mod service;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use hyper::body::{Frame, Incoming};
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};

use caller::{Peer, Record, RequestId, SharedRecord};
pub use endpoint::Endpoint;

/// Build the s3s service for an endpoint.
pub fn service(endpoint: Endpoint) -> S3Service {
    let identity = endpoint.identity.clone();
    let mut config = S3Config::default();
    config.xml_max_body_size = endpoint.limits.xml_max_bytes;
    let mut b = S3ServiceBuilder::new(service::SeedbedS3(endpoint));
    b.set_config(Arc::new(StaticConfigProvider::new(Arc::new(config))));
    b.set_auth(auth::IdentityAuth(identity.clone()));
    b.set_access(auth::IdentityAccess(identity));
    b.build()
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A request id: 16 hex digits, unique within the process (time-seeded so restarts differ).
fn request_id() -> String {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            << 20
    });
    format!(
        "{:016X}",
        base.wrapping_add(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    )
}

/// Serve one HTTP request with the S3 service.
pub async fn handle(
    svc: S3Service,
    peer: SocketAddr,
    mut req: Request<Incoming>,
) -> Response<MeteredBody> {
    let start = Instant::now();
    let id = request_id();
    let record: SharedRecord = Arc::new(Mutex::new(Record::default()));
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(Peer(peer));
    req.extensions_mut().insert(record.clone());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let mut resp = match svc.call(req.map(s3s::Body::from)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = ?e, "the S3 service failed");
            let mut r = Response::new(s3s::Body::empty());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    };
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
