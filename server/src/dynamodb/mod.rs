//! The DynamoDB endpoint: `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>` on its own
//! listener (`--dynamodb-addr`, default 127.0.0.1:8000), served by the same process as S3.
//!
//! The protocol, SigV4 for service `dynamodb` and the IAM check live in `seedbed-dynamo`
//! ([`seedbed_dynamo::endpoint::Endpoint`]), which knows nothing of sockets; this module only
//! carries bytes ([`exchange`]), counts requests ([`metrics`]) and runs the TTL sweeper. The
//! tables live in their own LSM database in `STORE/dynamodb/`; identities come from the
//! server's [`IdentityStore`], so the keys that sign S3 requests sign DynamoDB requests too, and
//! an edit of the IAM file (reloaded by the server) applies to both endpoints.
//!
//! | module | what it is |
//! |---|---|
//! | [`exchange`] | one HTTP request in, DynamoDB's response out; the access log line |
//! | [`metrics`] | Prometheus series named after CloudWatch's DynamoDB metrics |
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

pub mod exchange;
pub mod metrics;
pub mod sts;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use seedbed_dynamo::endpoint::{Endpoint, Identities, Security};
use seedbed_dynamo::transfer::{Objects, Transfers};
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::io::{self, BackendKind};
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::object::ObjectStore;
use seedbed_engine::table::online::INDEX_STEP_ITEMS;
use seedbed_engine::table::Tables;

pub use exchange::{handle, handle_sts, MAX_BODY_BYTES};

use crate::identity::IdentityStore;

/// Items deleted per TTL pass.
const TTL_BATCH: usize = 1000;
/// How often expired items are looked for.
pub const TTL_INTERVAL: Duration = Duration::from_secs(10);

/// How often the server looks for an index to build or a deleted one's entries to remove:
/// UpdateTable starts either, and a restart finds one a stop interrupted
/// (`seedbed_engine::table::online`).
pub const INDEX_JOB_POLL: Duration = Duration::from_millis(100);

/// The directory of the tables inside a store directory.
pub fn tables_dir(store: &Path) -> std::path::PathBuf {
    store.join("dynamodb")
}

/// The server's identities, as the endpoint asks for them. Looked up per request, so a key
/// added or deactivated in the IAM file takes effect at the server's next reload.
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

    fn session_token_of(&self, access_key: &str) -> Option<String> {
        self.0.credential(access_key).and_then(|c| c.session_token)
    }

    fn used(&self, access_key: &str, principal: &Principal, service: &str, region: &str) {
        self.0.record_use(access_key, principal, service, region);
    }

    fn assume_role(
        &self,
        caller_access_key: &str,
        input: &seedbed_dynamo::sts::AssumeRoleInput,
        now_unix_ms: u64,
    ) -> Result<seedbed_dynamo::sts::AssumedRole, seedbed_dynamo::sts::StsFailure> {
        sts::assume_role(&self.0, caller_access_key, input, now_unix_ms)
    }
}

/// Whether `req` is a DynamoDB request (`X-Amz-Target: DynamoDB_20120810.<operation>`, or
/// DynamoDB Streams' `DynamoDBStreams_20120810.<operation>`), which the S3 listener hands on
/// (S3 never sends the header).
pub fn is_dynamodb<B>(req: &http::Request<B>) -> bool {
    req.headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("DynamoDB_20120810.") || v.starts_with("DynamoDBStreams_20120810.")
        })
}

/// Whether `req` is an STS query-protocol request as another listener takes it: `POST /` with a
/// URL-encoded form (S3 has no operation there; its browser forms are multipart, to a bucket).
pub fn is_sts<B>(req: &http::Request<B>) -> bool {
    req.method() == http::Method::POST
        && req.uri().path() == "/"
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Signatures and IAM from the server's identities (the authorizer is the identity store's own,
/// shared and reloaded in place, not a copy). The S3 listener's STS uses it too.
pub(crate) fn security(identity: Arc<IdentityStore>) -> Security {
    Security {
        authorizer: identity.guard().authorizer.clone(),
        identities: Arc::new(ServerIdentities(identity)),
    }
}

/// Open (or create) the tables in `dir` and the endpoint over them, authorizing every request
/// with `identity` for `account` in `region`. Imports read from and exports write to `store`
/// (the S3 endpoint's), as their caller. With `sync`, every acknowledged write is on disk
/// (a WAL sync per write batch); without (`seedbed serve --no-fsync`), writes are acknowledged
/// from the OS's page cache.
pub fn open(
    dir: &Path,
    io_kind: BackendKind,
    sync: bool,
    identity: Arc<IdentityStore>,
    region: &str,
    account: &str,
    store: Arc<ObjectStore>,
) -> anyhow::Result<Arc<Endpoint>> {
    let fs = io::open_backend(io_kind)?;
    let clock: ClockHandle = Arc::new(RealClock::new());
    let opts = Options {
        sync: if sync {
            SyncPolicy::Always
        } else {
            SyncPolicy::Never
        },
        ..Options::default()
    };
    let db = Db::open(fs, dir, opts, clock.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut tables = Tables::open(Arc::new(db), clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    tables.region = region.to_string();
    tables.account = account.to_string();
    let identity_guard = identity.guard().clone();
    let security = security(identity);
    let tables = Arc::new(tables);
    let room_store = store.clone();
    let objects = Objects {
        store,
        guard: Some(identity_guard),
    };
    let transfers = Transfers::open(tables.clone(), objects).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut ep = Endpoint::new(tables, Some(security));
    ep.transfers = Some(transfers);
    // The tables share the store's file system (STORE/dynamodb/): its space reserve holds
    // their additions back too, so that deletes — of items and of objects — keep their room.
    ep.room = Some(Arc::new(move || {
        room_store.check_room().map_err(|e| {
            let why = e.to_string();
            let why = why.strip_prefix("InsufficientStorage: ").unwrap_or(&why);
            format!("The store's disks are nearly full: {why}")
        })
    }));
    Ok(Arc::new(ep))
}

/// Seconds since the Unix epoch (SigV4's clock check, TTL).
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Build the global indexes UpdateTable adds, and remove the entries of those it deletes, a
/// step at a time on a blocking thread — a build step indexes a few hundred items under the
/// tables' write lock, so writes wait for a step, never for a whole build — until `stop` turns
/// true. A stop mid-job loses nothing: the job's progress is in the catalog, and the next start
/// goes on from it.
pub async fn run_index_jobs(ep: Arc<Endpoint>, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(INDEX_JOB_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let mut steps = 0u64;
        while ep.tables.index_jobs_pending() && !*stop.borrow() {
            let tables = ep.tables.clone();
            let step = tokio::task::spawn_blocking(move || tables.index_job_step(INDEX_STEP_ITEMS));
            match step.await {
                Ok(Ok(more)) => {
                    steps += 1;
                    if !more {
                        tracing::info!(steps, "index jobs finished");
                    }
                }
                Ok(Err(e)) => {
                    // Tried again at the next tick (a full disk may have room by then).
                    tracing::warn!(error = %e, "index job step failed");
                    break;
                }
                Err(_) => break,
            }
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
        // Stream records older than 24 hours go in the same pass.
        let tables = ep.tables.clone();
        let now_ms = tables.now_unix_ms();
        match tokio::task::spawn_blocking(move || tables.trim_streams(now_ms)).await {
            Ok(Ok(n)) if n > 0 => tracing::debug!(trimmed = n, "stream records trimmed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "stream trim failed"),
            _ => {}
        }
    }
}
