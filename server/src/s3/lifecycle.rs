//! Lifecycle on the S3 endpoint: Put/Get/DeleteBucketLifecycleConfiguration, translated to and
//! from the engine's rules (`object/lifecycle.rs`, which checks them and carries them out),
//! the `x-amz-expiration` header, and the server's periodic pass.

use std::sync::Arc;
use std::time::Duration;

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::access_log::LogRecord;
use seedbed_engine::object::lifecycle::{
    DayLength, Expiration, Filter, LifecycleDone, LifecycleRule, NoncurrentExpiration, Transition,
};
use seedbed_engine::object::{ObjectError, ObjectStore};

use super::access_log::AccessLogs;
use super::convert::{http_date, ts, unix_ms};
use super::endpoint::Endpoint;

/// A day count from the wire: S3's are positive `Integer`s; a negative one is refused here
/// (zero is left to the engine's checks, which know where it is allowed).
fn days(n: i32, what: &str) -> Result<u32, ObjectError> {
    u32::try_from(n).map_err(|_| {
        ObjectError::InvalidArgument(format!("'{what}' must be a positive integer, not {n}"))
    })
}

fn size(n: i64, what: &str) -> Result<u64, ObjectError> {
    u64::try_from(n)
        .map_err(|_| ObjectError::InvalidArgument(format!("'{what}' must not be negative")))
}

fn tag_from(t: Tag) -> (String, String) {
    (t.key.unwrap_or_default(), t.value.unwrap_or_default())
}

fn tag_to((key, value): (String, String)) -> Tag {
    Tag {
        key: Some(key),
        value: Some(value),
    }
}

/// A filter's predicates as the engine keeps them (`and`: they were given under `And`).
fn predicates(
    prefix: Option<String>,
    tags: Vec<Tag>,
    greater_than: Option<i64>,
    less_than: Option<i64>,
    and: bool,
) -> Result<Filter, ObjectError> {
    Ok(Filter {
        prefix,
        tags: tags.into_iter().map(tag_from).collect(),
        size_greater_than: greater_than
            .map(|n| size(n, "ObjectSizeGreaterThan"))
            .transpose()?,
        size_less_than: less_than
            .map(|n| size(n, "ObjectSizeLessThan"))
            .transpose()?,
        and,
    })
}

fn filter_from(f: LifecycleRuleFilter) -> Result<Filter, ObjectError> {
    let plain = predicates(
        f.prefix,
        f.tag.into_iter().collect(),
        f.object_size_greater_than,
        f.object_size_less_than,
        false,
    )?;
    let Some(and) = f.and else {
        return Ok(plain);
    };
    if plain != Filter::default() {
        return Err(ObjectError::MalformedXml(
            "a Filter holds one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And"
                .into(),
        ));
    }
    predicates(
        and.prefix,
        and.tags.unwrap_or_default(),
        and.object_size_greater_than,
        and.object_size_less_than,
        true,
    )
}

fn filter_to(f: Filter) -> LifecycleRuleFilter {
    if f.and {
        return LifecycleRuleFilter {
            and: Some(LifecycleRuleAndOperator {
                prefix: f.prefix,
                tags: (!f.tags.is_empty()).then(|| f.tags.into_iter().map(tag_to).collect()),
                object_size_greater_than: f.size_greater_than.map(|n| n as i64),
                object_size_less_than: f.size_less_than.map(|n| n as i64),
            }),
            ..LifecycleRuleFilter::default()
        };
    }
    LifecycleRuleFilter {
        prefix: f.prefix,
        tag: f.tags.into_iter().next().map(tag_to),
        object_size_greater_than: f.size_greater_than.map(|n| n as i64),
        object_size_less_than: f.size_less_than.map(|n| n as i64),
        and: None,
    }
}

fn expiration_from(e: LifecycleExpiration) -> Result<Expiration, ObjectError> {
    match (e.days, e.date, e.expired_object_delete_marker) {
        (Some(d), None, None) => Ok(Expiration::Days(days(d, "Days")?)),
        (None, Some(t), None) => Ok(Expiration::Date(unix_ms(&t))),
        (None, None, Some(m)) => Ok(Expiration::ExpiredObjectDeleteMarker(m)),
        (None, None, None) => Err(ObjectError::MalformedXml(
            "an Expiration has Days, Date or ExpiredObjectDeleteMarker".into(),
        )),
        _ => Err(ObjectError::InvalidArgument(
            "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy"
                .into(),
        )),
    }
}

fn expiration_to(e: Expiration) -> LifecycleExpiration {
    let mut out = LifecycleExpiration::default();
    match e {
        Expiration::Days(d) => out.days = Some(d as i32),
        Expiration::Date(t) => out.date = Some(ts(t)),
        Expiration::ExpiredObjectDeleteMarker(m) => out.expired_object_delete_marker = Some(m),
    }
    out
}

fn status_from(s: &ExpirationStatus) -> Result<bool, ObjectError> {
    match s.as_str() {
        ExpirationStatus::ENABLED => Ok(true),
        ExpirationStatus::DISABLED => Ok(false),
        other => Err(ObjectError::MalformedXml(format!(
            "a rule's Status is Enabled or Disabled, not '{other}'"
        ))),
    }
}

fn rule_from(r: LifecycleRule_) -> Result<LifecycleRule, ObjectError> {
    Ok(LifecycleRule {
        id: r.id.unwrap_or_default(),
        enabled: status_from(&r.status)?,
        prefix: r.prefix,
        filter: r.filter.map(filter_from).transpose()?,
        expiration: r.expiration.map(expiration_from).transpose()?,
        noncurrent_expiration: r
            .noncurrent_version_expiration
            .map(|n| -> Result<_, ObjectError> {
                Ok(NoncurrentExpiration {
                    days: days(n.noncurrent_days.unwrap_or(0), "NoncurrentDays")?,
                    newer_noncurrent_versions: n
                        .newer_noncurrent_versions
                        .map(|v| days(v, "NewerNoncurrentVersions"))
                        .transpose()?,
                })
            })
            .transpose()?,
        abort_incomplete_upload_days: r
            .abort_incomplete_multipart_upload
            .map(|a| days(a.days_after_initiation.unwrap_or(0), "DaysAfterInitiation"))
            .transpose()?,
        transitions: r
            .transitions
            .unwrap_or_default()
            .into_iter()
            .map(|t| -> Result<_, ObjectError> {
                Ok(Transition {
                    days: t.days.map(|d| days(d, "Days")).transpose()?,
                    date: t.date.as_ref().map(unix_ms),
                    storage_class: t
                        .storage_class
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    newer_noncurrent_versions: None,
                })
            })
            .collect::<Result<_, _>>()?,
        noncurrent_transitions: r
            .noncurrent_version_transitions
            .unwrap_or_default()
            .into_iter()
            .map(|t| -> Result<_, ObjectError> {
                Ok(Transition {
                    days: t
                        .noncurrent_days
                        .map(|d| days(d, "NoncurrentDays"))
                        .transpose()?,
                    date: None,
                    storage_class: t
                        .storage_class
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    newer_noncurrent_versions: t
                        .newer_noncurrent_versions
                        .map(|v| days(v, "NewerNoncurrentVersions"))
                        .transpose()?,
                })
            })
            .collect::<Result<_, _>>()?,
    })
}

/// s3s's rule type, named apart from the engine's.
type LifecycleRule_ = s3s::dto::LifecycleRule;

fn rule_to(r: LifecycleRule) -> LifecycleRule_ {
    let class = |c: String| TransitionStorageClass::from(c);
    LifecycleRule_ {
        id: Some(r.id),
        status: ExpirationStatus::from_static(if r.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        prefix: r.prefix,
        filter: r.filter.map(filter_to),
        expiration: r.expiration.map(expiration_to),
        noncurrent_version_expiration: r.noncurrent_expiration.map(|n| {
            NoncurrentVersionExpiration {
                noncurrent_days: Some(n.days as i32),
                newer_noncurrent_versions: n.newer_noncurrent_versions.map(|v| v as i32),
            }
        }),
        abort_incomplete_multipart_upload: r.abort_incomplete_upload_days.map(|d| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(d as i32),
            }
        }),
        transitions: (!r.transitions.is_empty()).then(|| {
            r.transitions
                .into_iter()
                .map(|t| s3s::dto::Transition {
                    days: t.days.map(|d| d as i32),
                    date: t.date.map(ts),
                    storage_class: Some(class(t.storage_class)),
                })
                .collect()
        }),
        noncurrent_version_transitions: (!r.noncurrent_transitions.is_empty()).then(|| {
            r.noncurrent_transitions
                .into_iter()
                .map(|t| NoncurrentVersionTransition {
                    noncurrent_days: t.days.map(|d| d as i32),
                    newer_noncurrent_versions: t.newer_noncurrent_versions.map(|v| v as i32),
                    storage_class: Some(class(t.storage_class)),
                })
                .collect()
        }),
    }
}

/// The `x-amz-expiration` value: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="ID"`.
pub fn expiration_header(expiry: Option<(u64, String)>) -> Option<String> {
    expiry.map(|(at, id)| format!("expiry-date=\"{}\", rule-id=\"{id}\"", http_date(&ts(at))))
}

/// `x-amz-abort-date` and `x-amz-abort-rule-id` of an upload a rule will abort.
pub fn abort_fields(abort: Option<(u64, String)>) -> (Option<Timestamp>, Option<String>) {
    match abort {
        Some((at, id)) => (Some(ts(at)), Some(id)),
        None => (None, None),
    }
}

/// How often the server's pass runs for a given day length: hourly for real days (S3 runs
/// its pass about daily; an hour keeps a day's expiries within the hour after midnight),
/// four times a "day" for a debug day, at least once a second.
pub fn pass_interval(day: DayLength) -> Duration {
    if day == DayLength::REAL {
        Duration::from_secs(3_600)
    } else {
        Duration::from_millis((day.as_ms() / 4).max(1_000))
    }
}

/// Run the lifecycle pass every `every` until the server stops: on a blocking thread, one
/// pass at a time; a pass that did anything is logged.
pub async fn run_pass(
    store: Arc<ObjectStore>,
    logs: Arc<AccessLogs>,
    day: DayLength,
    every: Duration,
    mut stop: crate::http::Stop,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let (s, logs) = (store.clone(), logs.clone());
        // A stop asked for mid-pass ends the pass at its next key, not at its end.
        let Some(done) = crate::http::halting_pass(&mut stop, move |halt| {
            s.apply_lifecycle_observed(s.clock_ms(), day, halt, &|d| log_removal(&logs, d))
        })
        .await
        else {
            return;
        };
        match done {
            Ok(Ok(r)) => {
                if r.expired
                    + r.noncurrent_removed
                    + r.markers_removed
                    + r.transitioned
                    + r.uploads_aborted
                    > 0
                    || !r.errors.is_empty()
                {
                    tracing::info!(
                        buckets = r.buckets,
                        expired = r.expired,
                        noncurrent_removed = r.noncurrent_removed,
                        markers_removed = r.markers_removed,
                        transitioned = r.transitioned,
                        uploads_aborted = r.uploads_aborted,
                        locked = r.locked,
                        errors = ?r.errors,
                        "lifecycle pass"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "lifecycle pass failed"),
            Err(e) => tracing::warn!(error = %e, "lifecycle pass did not finish"),
        }
    }
}

/// A removal or a transition by the pass, offered to the bucket's access log as S3 writes it: S3 itself as
/// the requester, no address, request line, status or times. (Aborted uploads are not logged:
/// S3 documents no log operation for them.)
fn log_removal(logs: &AccessLogs, d: &LifecycleDone) {
    if !logs.logs(&d.bucket) {
        return;
    }
    logs.record(LogRecord {
        bucket: d.bucket.clone(),
        time_ms: d.at_ms,
        requester: "AmazonS3".into(),
        request_id: super::request_id(),
        operation: d.operation.into(),
        key: d.key.clone(),
        version_id: d.version_id.clone().unwrap_or_default(),
        status: 0,
        ..LogRecord::default()
    });
}

impl Endpoint {
    pub(super) async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let rules = input
            .lifecycle_configuration
            .ok_or_else(|| {
                ObjectError::MalformedXml("the request has no LifecycleConfiguration".into())
            })
            .and_then(|c| {
                c.rules
                    .into_iter()
                    .map(rule_from)
                    .collect::<Result<Vec<_>, _>>()
            });
        let bucket = input.bucket;
        cx.run(Vec::new(), move |s| s.put_bucket_lifecycle(&bucket, rules?))
            .await?;
        Ok(S3Response::new(
            PutBucketLifecycleConfigurationOutput::default(),
        ))
    }

    pub(super) async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let rules = cx
            .run(Vec::new(), move |s| s.bucket_lifecycle(&bucket))
            .await?;
        Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
            rules: Some(rules.into_iter().map(rule_to).collect()),
            ..GetBucketLifecycleConfigurationOutput::default()
        }))
    }

    pub(super) async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(Vec::new(), move |s| s.delete_bucket_lifecycle(&bucket))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketLifecycleOutput {},
            http::StatusCode::NO_CONTENT,
        ))
    }
}
