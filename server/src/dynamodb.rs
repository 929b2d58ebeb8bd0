//! The DynamoDB endpoint: `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>` on its own
//! listener (`--dynamodb-addr`). The protocol, SigV4 and IAM live in `seedbed-dynamo`
//! ([`seedbed_dynamo::endpoint::Endpoint`]); this module carries bytes: it collects the body
//! (at most [`MAX_BODY_BYTES`]), runs the request on a blocking thread (the engine is
//! synchronous), and writes DynamoDB's response. The tables live in their own LSM database in
//! `STORE/dynamodb/`; identities come from the server's [`IdentityStore`], so the keys that sign
//! S3 requests sign DynamoDB requests too.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use seedbed_dynamo::endpoint::{Endpoint, HttpRequest, Identities, Security};
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::io::{self, BackendKind};
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::table::Tables;

use crate::identity::IdentityStore;

/// Largest request body accepted (DynamoDB's limit is 16 MB, for BatchWriteItem).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Items deleted per TTL pass.
const TTL_BATCH: usize = 1000;
/// How often expired items are looked for.
pub const TTL_INTERVAL: Duration = Duration::from_secs(10);

/// The server's identities, as the endpoint asks for them.
struct ServerIdentities(Arc<IdentityStore>);

impl Identities for ServerIdentities {
    fn secret_of(&self, access_key: &str) -> Option<String> {
        self.0
            .credential(access_key)
            .filter(|c| c.active)
            .map(|c| c.secret)
    }

    fn principal_of(&self, access_key: &str) -> Option<Principal> {
        self.0
            .credential(access_key)
            .filter(|c| c.active)
            .map(|c| c.principal)
    }
}

/// Open (or create) the tables in `dir` and the endpoint over them, authorizing every request
/// with `identity` for `account` in `region`.
pub fn open(
    dir: &Path,
    io_kind: BackendKind,
    identity: Arc<IdentityStore>,
    region: &str,
    account: &str,
) -> anyhow::Result<Arc<Endpoint>> {
    let fs = io::open_backend(io_kind)?;
    let clock: ClockHandle = Arc::new(RealClock::new());
    // Every acknowledged write is on disk: a WAL sync per write batch.
    let opts = Options {
        sync: SyncPolicy::Always,
        ..Options::default()
    };
    let db = Db::open(fs, dir, opts, clock.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut tables = Tables::open(Arc::new(db), clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    tables.region = region.to_string();
    tables.account = account.to_string();
    let security = Security {
        authorizer: identity.guard().authorizer.clone(),
        identities: Arc::new(ServerIdentities(identity)),
    };
    Ok(Arc::new(Endpoint::new(Arc::new(tables), Some(security))))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn response(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r.headers_mut()
        .insert("server", hyper::header::HeaderValue::from_static("Seedbed"));
    r
}

/// Serve one request.
pub async fn handle(
    ep: Arc<Endpoint>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "DynamoDB request body refused");
            let msg = br#"{"__type":"com.amazon.coral.service#SerializationException","Message":"Request body too large or unreadable"}"#;
            return response(
                413,
                vec![("content-type".into(), "application/x-amz-json-1.0".into())],
                msg.to_vec(),
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
    headers.push(("x-forwarded-for".into(), peer.ip().to_string()));
    let out = tokio::task::spawn_blocking(move || {
        ep.handle(
            &HttpRequest {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &body,
            },
            now_secs(),
        )
    })
    .await;
    match out {
        Ok(r) => {
            tracing::debug!(%peer, operation = %r.operation, status = r.status, error = ?r.error, "dynamodb");
            response(r.status, r.headers, r.body)
        }
        Err(e) => {
            tracing::error!(error = %e, "a DynamoDB request failed on its thread");
            let msg = br#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#;
            response(
                500,
                vec![("content-type".into(), "application/x-amz-json-1.0".into())],
                msg.to_vec(),
            )
        }
    }
}

/// Delete expired items every [`TTL_INTERVAL`] until `stop` turns true.
pub async fn expire_ttl(ep: Arc<Endpoint>, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(TTL_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let tables = ep.tables.clone();
        let now = now_secs().max(0) as u64;
        match tokio::task::spawn_blocking(move || tables.expire_ttl(now, TTL_BATCH)).await {
            Ok(Ok(n)) if n > 0 => tracing::debug!(deleted = n, "TTL expired items"),
            Ok(Err(e)) => tracing::warn!(error = %e, "TTL pass failed"),
            _ => {}
        }
    }
}
