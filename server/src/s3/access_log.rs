//! Server access logging: Put/GetBucketLogging, and the delivery of S3-format log records to
//! each logging bucket's target (`engine/src/object/access_log.rs` has the format).
//!
//! Every finished request is offered to [`AccessLogs::record`]; if its bucket logs, one line
//! joins the target's pending batch (an in-memory map read under a read lock: the common case,
//! a bucket that does not log, costs one map lookup). [`deliver`] writes each target's batch
//! as one object every [`DELIVERY_INTERVAL`] and once more when the server stops, *as the
//! logging service* — the target bucket's policy must allow `logging.s3.amazonaws.com` to
//! `s3:PutObject`, as on S3. A batch the target refuses is dropped with a warning in the
//! server's log (S3 drops them too); lines are at most [`MAX_PENDING_LINES`] per target, the
//! oldest dropped first, so a refused target cannot grow memory.
//!
//! Which buckets log is kept in memory, filled from the bucket records when the server starts
//! and changed by PutBucketLogging and DeleteBucket.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::iam::authorizer::{Principal, Requester};
use seedbed_engine::object::access_log::{
    log_object_key, LogRecord, LoggingConfig, LOGGING_SERVICE,
};
use seedbed_engine::object::{Guard, ObjectStore, PutOptions};

use super::endpoint::Endpoint;

/// How often pending records are written out.
pub const DELIVERY_INTERVAL: Duration = Duration::from_secs(10);
/// Pending lines kept per target, at most.
pub const MAX_PENDING_LINES: usize = 100_000;

/// A logging bucket: where its records go, and its owner's canonical id (the records' first
/// field).
#[derive(Clone, Debug)]
struct Source {
    config: LoggingConfig,
    owner: String,
}

/// The server's access logs.
#[derive(Debug)]
pub struct AccessLogs {
    store: Arc<ObjectStore>,
    guard: Arc<Guard>,
    sources: RwLock<BTreeMap<String, Source>>,
    pending: Mutex<BTreeMap<(String, String), VecDeque<String>>>,
    next: Mutex<u64>,
}

impl AccessLogs {
    /// The logs of `store`'s buckets, as their records say now.
    pub fn open(store: Arc<ObjectStore>, guard: Arc<Guard>) -> anyhow::Result<Arc<AccessLogs>> {
        let mut sources = BTreeMap::new();
        for b in store
            .list_buckets()
            .map_err(|e| anyhow::anyhow!("reading the bucket records: {e}"))?
        {
            if let Some(config) = b.logging.clone() {
                let owner = guard.bucket_owner(&b).id;
                sources.insert(b.name.clone(), Source { config, owner });
            }
        }
        Ok(Arc::new(AccessLogs {
            store,
            guard,
            sources: RwLock::new(sources),
            pending: Mutex::new(BTreeMap::new()),
            next: Mutex::new(0),
        }))
    }

    fn set(&self, bucket: &str, source: Option<Source>) {
        let mut s = self.sources.write().unwrap_or_else(|p| p.into_inner());
        match source {
            Some(src) => s.insert(bucket.to_string(), src),
            None => s.remove(bucket),
        };
    }

    /// Whether `bucket`'s requests are logged.
    pub fn logs(&self, bucket: &str) -> bool {
        !bucket.is_empty()
            && self
                .sources
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(bucket)
    }

    /// Offer one finished request's record (its `bucket_owner` is filled in here).
    pub fn record(&self, mut r: LogRecord) {
        let Some(src) = self
            .sources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&r.bucket)
            .cloned()
        else {
            return;
        };
        r.bucket_owner = src.owner;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let lines = pending
            .entry((src.config.target_bucket, src.config.target_prefix))
            .or_default();
        if lines.len() >= MAX_PENDING_LINES {
            lines.pop_front();
        }
        lines.push_back(r.line());
    }

    /// Write every pending batch as one object in its target (blocking). Returns the number
    /// of objects written.
    pub fn flush(&self, now_ms: u64) -> usize {
        let batches = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let service = Principal::Service(LOGGING_SERVICE.into());
        let requester = Requester {
            principal: &service,
            context: &[],
        };
        let as_logging = self.guard.on(&self.store, requester);
        let mut written = 0;
        for ((bucket, prefix), lines) in batches {
            let unique = {
                let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
                *n += 1;
                // Unique within the process, and between restarts (the time's low bits).
                (now_ms << 20) ^ *n
            };
            let key = log_object_key(&prefix, now_ms, unique);
            let mut body = String::new();
            for l in &lines {
                body.push_str(l);
                body.push('\n');
            }
            let size = body.len() as u64;
            match as_logging.put_object(
                &bucket,
                &key,
                &mut body.as_bytes(),
                size,
                &PutOptions::default(),
            ) {
                Ok(_) => written += 1,
                Err(e) => tracing::warn!(
                    target_bucket = %bucket,
                    lines = lines.len(),
                    error = %e,
                    "access log delivery refused; the records are dropped (the target's policy must let logging.s3.amazonaws.com s3:PutObject)"
                ),
            }
        }
        written
    }
}

/// Deliver pending records every [`DELIVERY_INTERVAL`], and once more when `stop` turns true.
pub async fn deliver(logs: Arc<AccessLogs>, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(DELIVERY_INTERVAL);
    tick.tick().await;
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        let l = logs.clone();
        let _ = tokio::task::spawn_blocking(move || l.flush(now_ms())).await;
        if last {
            return;
        }
    }
}

/// Now, Unix milliseconds (the wall clock: log objects are named by it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Endpoint {
    /// PutBucketLogging.
    pub(super) async fn put_bucket_logging(
        &self,
        req: S3Request<PutBucketLoggingInput>,
    ) -> S3Result<S3Response<PutBucketLoggingOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let bucket = input.bucket;
        let config = input
            .bucket_logging_status
            .logging_enabled
            .map(|l| LoggingConfig {
                target_bucket: l.target_bucket,
                target_prefix: l.target_prefix,
            });
        let (b, c) = (bucket.clone(), config.clone());
        cx.run(Vec::new(), move |s| s.put_bucket_logging(&b, c))
            .await?;
        let (store, b) = (self.store.clone(), bucket.clone());
        let meta = tokio::task::spawn_blocking(move || store.bucket(&b))
            .await
            .map_err(|e| cx.err(super::errors::internal(format!("reading the bucket: {e}"))))?
            .map_err(|e| cx.object_err(&e))?;
        let owner = self.identity.guard().bucket_owner(&meta).id;
        self.logs
            .set(&bucket, config.map(|config| Source { config, owner }));
        Ok(S3Response::new(PutBucketLoggingOutput {}))
    }

    /// GetBucketLogging.
    pub(super) async fn get_bucket_logging(
        &self,
        req: S3Request<GetBucketLoggingInput>,
    ) -> S3Result<S3Response<GetBucketLoggingOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let config = cx
            .run(Vec::new(), move |s| s.bucket_logging(&bucket))
            .await?;
        Ok(S3Response::new(GetBucketLoggingOutput {
            logging_enabled: config.map(|c| LoggingEnabled {
                target_bucket: c.target_bucket,
                target_prefix: c.target_prefix,
                target_grants: None,
                target_object_key_format: None,
            }),
        }))
    }

    /// A deleted bucket logs no more.
    pub(super) fn forget_logging(&self, bucket: &str) {
        self.logs.set(bucket, None);
    }
}
