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
    log_object_key, Destination, KeyFormat, LogRecord, LoggingConfig, LOGGING_SERVICE,
};
use seedbed_engine::object::{Guard, ObjectStore, Owner, PutOptions};

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
    /// The owner's canonical id (a record's first field) and account (partitioned keys).
    owner: Owner,
}

/// One batch: the target bucket, prefix and key format, and (for partitioned keys) the source
/// bucket and its owner's account, whose records share a log object.
type BatchKey = (String, String, Option<KeyFormat>, Option<(String, String)>);

/// A batch's records, and when its first request arrived.
#[derive(Debug, Default)]
struct Batch {
    first_ms: u64,
    lines: VecDeque<String>,
}

/// The server's access logs.
#[derive(Debug)]
pub struct AccessLogs {
    store: Arc<ObjectStore>,
    guard: Arc<Guard>,
    sources: RwLock<BTreeMap<String, Source>>,
    pending: Mutex<BTreeMap<BatchKey, Batch>>,
    next: Mutex<u64>,
    /// The region in partitioned keys.
    region: String,
}

impl AccessLogs {
    /// The logs of `store`'s buckets, as their records say now.
    pub fn open(
        store: Arc<ObjectStore>,
        guard: Arc<Guard>,
        region: &str,
    ) -> anyhow::Result<Arc<AccessLogs>> {
        let mut sources = BTreeMap::new();
        for b in store
            .list_buckets()
            .map_err(|e| anyhow::anyhow!("reading the bucket records: {e}"))?
        {
            if let Some(config) = b.logging.clone() {
                let owner = guard.bucket_owner(&b);
                sources.insert(b.name.clone(), Source { config, owner });
            }
        }
        Ok(Arc::new(AccessLogs {
            store,
            guard,
            sources: RwLock::new(sources),
            pending: Mutex::new(BTreeMap::new()),
            next: Mutex::new(0),
            region: region.to_string(),
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
        r.bucket_owner = src.owner.id;
        let partition = matches!(src.config.key_format, Some(KeyFormat::Partitioned(_)))
            .then(|| (r.bucket.clone(), src.owner.account));
        let key = (
            src.config.target_bucket,
            src.config.target_prefix,
            src.config.key_format,
            partition,
        );
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let batch = pending.entry(key).or_insert_with(|| Batch {
            first_ms: r.time_ms,
            lines: VecDeque::new(),
        });
        if batch.lines.len() >= MAX_PENDING_LINES {
            batch.lines.pop_front();
        }
        batch.lines.push_back(r.line());
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
        for ((bucket, prefix, format, partition), Batch { first_ms, lines }) in batches {
            let unique = {
                let mut n = self.next.lock().unwrap_or_else(|p| p.into_inner());
                *n += 1;
                // Unique within the process, and between restarts (the time's low bits).
                (now_ms << 20) ^ *n
            };
            let (source, account) = partition.unwrap_or_default();
            let to = Destination {
                prefix: &prefix,
                format: format.as_ref(),
                source: (&source, &account, &self.region),
            };
            let key = log_object_key(&to, now_ms, first_ms, unique);
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
        let _ = tokio::task::spawn_blocking(move || l.flush(super::convert::now_ms())).await;
        if last {
            return;
        }
    }
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
                key_format: l
                    .target_object_key_format
                    .map(|f| match f.partitioned_prefix {
                        Some(p) => KeyFormat::Partitioned(
                            p.partition_date_source
                                .map_or("DeliveryTime".to_string(), |s| s.as_str().to_string()),
                        ),
                        None => KeyFormat::Simple,
                    }),
            });
        let (b, c) = (bucket.clone(), config.clone());
        cx.run(Vec::new(), move |s| s.put_bucket_logging(&b, c))
            .await?;
        let (store, b) = (self.store.clone(), bucket.clone());
        let meta = tokio::task::spawn_blocking(move || store.bucket(&b))
            .await
            .map_err(|e| cx.err(super::errors::internal(format!("reading the bucket: {e}"))))?
            .map_err(|e| cx.object_err(&e))?;
        let owner = self.identity.guard().bucket_owner(&meta);
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
                target_object_key_format: c.key_format.map(|f| match f {
                    KeyFormat::Simple => TargetObjectKeyFormat {
                        simple_prefix: Some(SimplePrefix {}),
                        partitioned_prefix: None,
                    },
                    KeyFormat::Partitioned(source) => TargetObjectKeyFormat {
                        simple_prefix: None,
                        partitioned_prefix: Some(PartitionedPrefix {
                            partition_date_source: Some(PartitionDateSource::from(source)),
                        }),
                    },
                }),
            }),
        }))
    }

    /// A deleted bucket logs no more.
    pub(super) fn forget_logging(&self, bucket: &str) {
        self.logs.set(bucket, None);
    }
}
