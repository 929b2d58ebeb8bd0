//! One HTTP exchange: collect the body (at most [`MAX_BODY_BYTES`]), answer the request
//! (here if it can be answered from memory, else on a blocking thread: the engine is
//! synchronous and a write waits for its log sync), write DynamoDB's response, and record
//! the request's metrics and access-log line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response};
use seedbed_dynamo::endpoint::{Endpoint, HttpRequest, HttpResponse};
use seedbed_dynamo::errors::WireError;
use seedbed_engine::table::{DynamoError, ErrorKind};

use super::metrics::{self, Outcome};
use crate::http::RequestBody;

/// Largest request body accepted (DynamoDB's limit is 16 MB, for BatchWriteItem).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

const JSON: &str = "application/x-amz-json-1.0";

/// An error the HTTP layer answers by itself, before the endpoint sees the request, in the
/// same shape as the endpoint's own errors.
fn own_error(status: u16, e: WireError) -> HttpResponse {
    let (_, body) = e.to_response();
    let body = serde_json::to_vec(&body).unwrap_or_default();
    HttpResponse {
        status,
        headers: vec![
            ("content-type".into(), JSON.into()),
            ("x-amz-crc32".into(), crc32fast::hash(&body).to_string()),
        ],
        body,
        operation: String::new(),
        error: Some(e.short_name()),
        principal: String::new(),
    }
}

fn to_hyper(r: HttpResponse) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(r.body)));
    *out.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            out.headers_mut().insert(k, v);
        }
    }
    out.headers_mut()
        .insert("server", hyper::header::HeaderValue::from_static("Seedbed"));
    out
}

/// Run one request: through `in_memory` on this task if given and it answers (a GetItem
/// found in memory: no device read, no wait), else through `answer` on a blocking thread.
/// The hand-off to that thread and back (two thread switches and their wake-ups) costs more
/// than such a GetItem; a read that needs the device, or any write, still pays it, so a slow
/// disk never holds up the few threads that serve every connection.
async fn exchange(
    peer: SocketAddr,
    req: Request<RequestBody>,
    in_memory: Option<impl FnOnce(&HttpRequest<'_>) -> Option<HttpResponse>>,
    answer: impl FnOnce(&HttpRequest<'_>) -> HttpResponse + Send + 'static,
) -> HttpResponse {
    let (parts, body) = req.into_parts();
    // A declared length over the limit is refused before a byte is read (Limited would wait
    // for MAX_BODY_BYTES of it first, or for a client that never sends them).
    let declared = http_body::Body::size_hint(&body).lower();
    let body = match usize::try_from(declared) {
        Ok(n) if n <= MAX_BODY_BYTES => Limited::new(body, MAX_BODY_BYTES).collect().await,
        _ => Err(format!("Content-Length {declared}").into()),
    };
    let body = match body {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "DynamoDB request body refused");
            // DynamoDB's request limit is 16 MB; how its front end words the refusal is not
            // documented, so the status says what happened and the body is a
            // SerializationException, which every SDK maps to a client error.
            return own_error(
                413,
                WireError::Serialization(format!(
                    "Request body larger than {MAX_BODY_BYTES} bytes, or unreadable: {e}"
                )),
            );
        }
    };
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    // aws:SourceIp for IAM conditions: the peer, never a client-sent header.
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-forwarded-for"));
    headers.push(("x-forwarded-for".into(), peer.ip().to_string()));
    if let Some(first) = in_memory {
        let answered = first(&HttpRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        });
        if let Some(r) = answered {
            return r;
        }
    }
    let out = tokio::task::spawn_blocking(move || {
        answer(&HttpRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        })
    })
    .await;
    match out {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "a DynamoDB request failed on its thread");
            own_error(
                500,
                WireError::Dynamo(DynamoError::new(
                    ErrorKind::InternalServerError,
                    "Internal server error",
                )),
            )
        }
    }
}

/// Serve one request: the response, its metrics and its access-log line.
pub async fn handle(
    ep: Arc<Endpoint>,
    peer: SocketAddr,
    req: Request<RequestBody>,
) -> Response<Full<Bytes>> {
    let first = Arc::clone(&ep);
    let in_memory = move |r: &HttpRequest<'_>| first.handle_in_memory(r, super::now_secs());
    handle_with(peer, req, Some(in_memory), move |r| {
        ep.handle(r, super::now_secs())
    })
    .await
}

/// STS and IAM at a listener without the tables (the S3 one, for a form POST to `/`):
/// answered as the DynamoDB listener answers STS, with the same metrics and access-log line.
/// A request signed for service `iam` goes to [`crate::iam_api`], any other to STS.
pub async fn handle_sts(
    security: Arc<seedbed_dynamo::endpoint::Security>,
    identity: Arc<crate::identity::IdentityStore>,
    peer: SocketAddr,
    req: Request<RequestBody>,
) -> Response<Full<Bytes>> {
    let id = crate::s3::request_id();
    let no_fast_path = None::<fn(&HttpRequest<'_>) -> Option<HttpResponse>>;
    handle_with(peer, req, no_fast_path, move |r| {
        if crate::iam_api::is_iam(r.headers) {
            crate::iam_api::answer(&identity, &security, r, super::now_secs(), &id)
        } else {
            seedbed_dynamo::sts::serve(Some(&security), r, super::now_secs(), &id)
        }
    })
    .await
}

async fn handle_with(
    peer: SocketAddr,
    req: Request<RequestBody>,
    in_memory: Option<impl FnOnce(&HttpRequest<'_>) -> Option<HttpResponse>>,
    answer: impl FnOnce(&HttpRequest<'_>) -> HttpResponse + Send + 'static,
) -> Response<Full<Bytes>> {
    let start = Instant::now();
    let bytes_in = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(0);
    let r = exchange(peer, req, in_memory, answer).await;
    let elapsed = start.elapsed();
    let operation = if r.operation.is_empty() {
        "Unknown"
    } else {
        &r.operation
    };
    metrics::record(&Outcome {
        operation,
        status: r.status,
        error: r.error.as_deref(),
        elapsed,
    });
    let request_id = r
        .headers
        .iter()
        .find(|(k, _)| k == "x-amzn-requestid")
        .map(|(_, v)| v.as_str())
        .unwrap_or("-");
    tracing::info!(
        target: "seedbed::access",
        endpoint = "dynamodb",
        request_id = %request_id,
        peer = %peer,
        principal = %if r.principal.is_empty() { "-" } else { &r.principal },
        operation = %operation,
        status = r.status,
        error = %r.error.as_deref().unwrap_or("-"),
        bytes_in,
        bytes_out = r.body.len(),
        total_ms = elapsed.as_secs_f64() * 1e3,
    );
    to_hyper(r)
}
