//! Lifecycle: a bucket's rules for expiring objects on their own (Put/Get/
//! DeleteBucketLifecycleConfiguration), the `x-amz-expiration` answer that tells a reader when
//! an object will go, and the pass that carries the rules out ([`ObjectStore::apply_lifecycle`]).
//!
//! A rule picks objects by a filter (a key prefix, tags, size bounds, or all of them with
//! `And`) and says what happens to them, each counted in days:
//!
//! | action | what the pass does |
//! |---|---|
//! | `Expiration` `Days` / `Date` | the current version goes as a DELETE without a version would take it: removed in an unversioned bucket, hidden behind a delete marker in a versioned one |
//! | `Expiration` `ExpiredObjectDeleteMarker` | a delete marker that is the only version left of its key is removed (a `Days` expiration does this too, once the marker is that old) |
//! | `NoncurrentVersionExpiration` | a version that has been noncurrent for `NoncurrentDays` is removed for good, past the `NewerNoncurrentVersions` newest ones |
//! | `AbortIncompleteMultipartUpload` | an upload started `DaysAfterInitiation` days ago is aborted |
//! | `Transition` / `NoncurrentVersionTransition` | the version's storage class changes, down S3's waterfall only, to the coldest class due (`transition.rs`: a class is a label here, so nothing moves but the record) |
//!
//! S3's clock: an object's day count starts when it was written (a noncurrent version's when
//! the version after it was), and the moment is rounded **up to the next midnight UTC** — an
//! object written 10:30 on the 15th with `Days: 3` expires at 00:00 on the 19th. S3 then
//! removes it some time after (its pass is asynchronous), and so does this store: the server
//! runs the pass periodically, `seedbed object lifecycle` runs it once. A [`DayLength`] other
//! than a real day (the server's `--lifecycle-day-secs`, Ceph RGW's `rgw_lc_debug_interval`)
//! makes a "day" that many seconds, with no rounding, so that tests and classes can watch
//! rules act in seconds.
//!
//! A version Object Lock protects is never removed (S3's rule too); the pass counts it and
//! tries again next time.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::error::ObjectError;
use super::meta::{self, BucketMeta, UploadMeta, VersionMeta};
use super::objects::DeleteOptions;
use super::store::ObjectStore;
use super::transition::{self, Standing};

/// Most rules in a configuration (S3's limit).
pub const MAX_RULES: usize = 1000;
/// Longest rule ID (S3's limit).
pub const MAX_ID_LEN: usize = 255;
const DAY_MS: u64 = 86_400_000;

/// Which objects a rule applies to. `Filter` is kept as it was given, so that
/// GetBucketLifecycleConfiguration answers what PutBucketLifecycleConfiguration was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Keys beginning with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Tags the object must have, every one (`Tag`, or `Tags` under `And`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// `ObjectSizeGreaterThan`: objects strictly larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<u64>,
    /// `ObjectSizeLessThan`: objects strictly smaller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<u64>,
    /// The predicates were given under `And`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub and: bool,
}

impl Filter {
    fn predicates(&self) -> usize {
        self.prefix.is_some() as usize
            + self.tags.len()
            + self.size_greater_than.is_some() as usize
            + self.size_less_than.is_some() as usize
    }
}

/// `Expiration`: exactly one of its three forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiration {
    /// `Days` after the write, rounded up to midnight UTC.
    Days(u32),
    /// `Date`: midnight UTC of that day, Unix milliseconds.
    Date(u64),
    /// `ExpiredObjectDeleteMarker` (true: remove delete markers left alone).
    ExpiredObjectDeleteMarker(bool),
}

/// `NoncurrentVersionExpiration`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    /// `NoncurrentDays` since the version stopped being current.
    pub days: u32,
    /// `NewerNoncurrentVersions`: this many newest noncurrent versions are kept whatever
    /// their age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<u32>,
}

/// A `Transition` or `NoncurrentVersionTransition`: the class a version moves to, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// `Days` (`NoncurrentDays` for a noncurrent transition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// `Date`, Unix milliseconds (current versions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<u64>,
    /// `StorageClass`.
    pub storage_class: String,
    /// `NewerNoncurrentVersions` (noncurrent transitions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<u32>,
}

/// One lifecycle rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// `ID` (S3 makes one up when none is given; so does the store).
    pub id: String,
    /// `Status`: `Enabled` (true) or `Disabled`.
    pub enabled: bool,
    /// The rule-level `Prefix` of the older form of the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `Filter` (an empty one selects every object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// `Expiration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    /// `NoncurrentVersionExpiration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload` `DaysAfterInitiation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_upload_days: Option<u32>,
    /// `Transition`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    /// `NoncurrentVersionTransition`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_transitions: Vec<Transition>,
}

/// What an object is matched on.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The key.
    pub key: &'a str,
    /// The version's size.
    pub size: u64,
    /// The version's tags.
    pub tags: &'a [(String, String)],
}

impl<'a> Candidate<'a> {
    fn of(v: &'a VersionMeta) -> Self {
        Candidate {
            key: &v.key,
            size: v.size,
            tags: &v.tags,
        }
    }
}

impl LifecycleRule {
    fn key_prefix(&self) -> &str {
        self.filter
            .as_ref()
            .and_then(|f| f.prefix.as_deref())
            .or(self.prefix.as_deref())
            .unwrap_or("")
    }

    /// Whether this rule is on and its filter takes `c`.
    pub fn applies_to(&self, c: Candidate<'_>) -> bool {
        if !self.enabled || !c.key.starts_with(self.key_prefix()) {
            return false;
        }
        let Some(f) = &self.filter else {
            return true;
        };
        f.tags
            .iter()
            .all(|(k, v)| c.tags.iter().any(|(tk, tv)| tk == k && tv == v))
            && f.size_greater_than.is_none_or(|n| c.size > n)
            && f.size_less_than.is_none_or(|n| c.size < n)
    }

    fn has_tag_or_size_filter(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| {
            !f.tags.is_empty() || f.size_greater_than.is_some() || f.size_less_than.is_some()
        })
    }
}

/// How long a lifecycle "day" is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayLength(u64);

impl DayLength {
    /// A real day: day counts end at the next midnight UTC, as on S3.
    pub const REAL: DayLength = DayLength(DAY_MS);

    /// A "day" of `ms` milliseconds with no rounding, to watch rules act quickly (at least 1).
    pub fn debug_ms(ms: u64) -> DayLength {
        DayLength(ms.max(1))
    }

    /// Its length in milliseconds.
    pub fn as_ms(self) -> u64 {
        self.0
    }

    /// When `days` days from `from_ms` end: rounded up to midnight UTC for a real day.
    pub fn after(self, from_ms: u64, days: u32) -> u64 {
        let t = from_ms.saturating_add(u64::from(days).saturating_mul(self.0));
        if self == DayLength::REAL {
            t.div_ceil(DAY_MS).saturating_mul(DAY_MS)
        } else {
            t
        }
    }
}

impl Default for DayLength {
    fn default() -> Self {
        DayLength::REAL
    }
}

/// When the current version `c`, written at `written_ms`, expires, and by which rule: the
/// earliest of the rules whose `Expiration` (by `Days` or `Date`) applies — what S3 answers
/// in `x-amz-expiration`.
pub fn current_expiry<'r>(
    rules: &'r [LifecycleRule],
    c: Candidate<'_>,
    written_ms: u64,
    day: DayLength,
) -> Option<(u64, &'r str)> {
    rules
        .iter()
        .filter(|r| r.applies_to(c))
        .filter_map(|r| match r.expiration {
            Some(Expiration::Days(d)) => Some((day.after(written_ms, d), r.id.as_str())),
            Some(Expiration::Date(t)) => Some((t, r.id.as_str())),
            _ => None,
        })
        .min_by_key(|(t, _)| *t)
}

/// When an upload started at `initiated_ms` under `key` is to be aborted, and by which rule.
pub fn upload_abort_at<'r>(
    rules: &'r [LifecycleRule],
    key: &str,
    initiated_ms: u64,
    day: DayLength,
) -> Option<(u64, &'r str)> {
    let c = Candidate {
        key,
        size: 0,
        tags: &[],
    };
    rules
        .iter()
        .filter(|r| r.applies_to(c))
        .filter_map(|r| {
            r.abort_incomplete_upload_days
                .map(|d| (day.after(initiated_ms, d), r.id.as_str()))
        })
        .min_by_key(|(t, _)| *t)
}

fn is_midnight(ms: u64) -> bool {
    ms.is_multiple_of(DAY_MS)
}

fn check_transition(t: &Transition, what: &str) -> Result<(), ObjectError> {
    if t.days.is_some() == t.date.is_some() {
        return Err(ObjectError::MalformedXml(format!(
            "a {what} has either Days or Date"
        )));
    }
    if t.date.is_some_and(|d| !is_midnight(d)) {
        return Err(ObjectError::InvalidArgument(
            "'Date' must be at midnight GMT".into(),
        ));
    }
    if !transition::is_target(&t.storage_class) {
        return Err(ObjectError::InvalidArgument(format!(
            "'{}' is not a storage class a {what} can move objects to",
            t.storage_class
        )));
    }
    Ok(())
}

fn check_rule(r: &LifecycleRule) -> Result<(), ObjectError> {
    let named = |msg: &str| format!("{msg} (rule '{}')", r.id);
    if r.id.chars().count() > MAX_ID_LEN {
        return Err(ObjectError::InvalidArgument(format!(
            "ID length should not exceed allowed limit of {MAX_ID_LEN}"
        )));
    }
    match (&r.prefix, &r.filter) {
        (Some(_), Some(_)) => {
            return Err(ObjectError::MalformedXml(named(
                "a rule has a Prefix or a Filter, not both",
            )))
        }
        (None, None) => {
            return Err(ObjectError::MalformedXml(named(
                "a rule needs a Filter (or, in the older form, a Prefix)",
            )))
        }
        _ => {}
    }
    if let Some(f) = &r.filter {
        if !f.and && f.predicates() > 1 {
            return Err(ObjectError::MalformedXml(named(
                "a Filter holds one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And",
            )));
        }
        if let (Some(gt), Some(lt)) = (f.size_greater_than, f.size_less_than) {
            if gt >= lt {
                return Err(ObjectError::InvalidArgument(named(
                    "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
                )));
            }
        }
        let mut keys: Vec<&str> = f.tags.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(ObjectError::InvalidArgument(named(
                "Duplicate Tag Keys are not allowed",
            )));
        }
    }
    if r.expiration.is_none()
        && r.noncurrent_expiration.is_none()
        && r.abort_incomplete_upload_days.is_none()
        && r.transitions.is_empty()
        && r.noncurrent_transitions.is_empty()
    {
        return Err(ObjectError::InvalidRequest(named(
            "At least one action needs to be specified in a rule",
        )));
    }
    match r.expiration {
        Some(Expiration::Days(0)) => {
            return Err(ObjectError::InvalidArgument(named(
                "'Days' for Expiration action must be a positive integer",
            )))
        }
        Some(Expiration::Date(d)) if !is_midnight(d) => {
            return Err(ObjectError::InvalidArgument(named(
                "'Date' must be at midnight GMT",
            )))
        }
        Some(Expiration::ExpiredObjectDeleteMarker(_)) if r.has_tag_or_size_filter() => {
            return Err(ObjectError::InvalidRequest(named(
                "ExpiredObjectDeleteMarker cannot be specified with object tags or size filters",
            )))
        }
        _ => {}
    }
    if let Some(n) = &r.noncurrent_expiration {
        if n.days == 0 {
            return Err(ObjectError::InvalidArgument(named(
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
            )));
        }
        if n.newer_noncurrent_versions
            .is_some_and(|v| !(1..=100).contains(&v))
        {
            return Err(ObjectError::InvalidArgument(named(
                "NewerNoncurrentVersions must be between 1 and 100",
            )));
        }
    }
    if let Some(d) = r.abort_incomplete_upload_days {
        if d == 0 {
            return Err(ObjectError::InvalidArgument(named(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
            )));
        }
        if r.has_tag_or_size_filter() {
            return Err(ObjectError::InvalidRequest(named(
                "AbortIncompleteMultipartUpload cannot be specified with object tags or size filters",
            )));
        }
    }
    for t in &r.transitions {
        check_transition(t, "Transition")?;
        transition::check_minimum_days(t, "Transition", &r.id)?;
    }
    for t in &r.noncurrent_transitions {
        if t.date.is_some() {
            return Err(ObjectError::MalformedXml(named(
                "a NoncurrentVersionTransition has NoncurrentDays, not a Date",
            )));
        }
        check_transition(t, "NoncurrentVersionTransition")?;
        transition::check_minimum_days(t, "NoncurrentVersionTransition", &r.id)?;
    }
    Ok(())
}

/// Check a configuration against S3's rules: 1 to 1,000 rules, unique IDs of at most 255
/// characters, a Filter or a Prefix each, at least one action each, positive day counts,
/// dates at midnight UTC, no tag or size filter with actions that cannot have one.
pub fn check_rules(rules: &[LifecycleRule]) -> Result<(), ObjectError> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(ObjectError::MalformedXml(format!(
            "a lifecycle configuration has 1 to {MAX_RULES} rules; this one has {}",
            rules.len()
        )));
    }
    for r in rules {
        check_rule(r)?;
    }
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(ObjectError::InvalidArgument(
            "Rule ID must be unique. Found same ID for more than one rule".into(),
        ));
    }
    Ok(())
}

/// What one lifecycle pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LifecycleReport {
    /// Buckets with rules.
    pub buckets: usize,
    /// Versions and markers looked at.
    pub versions_seen: u64,
    /// Current versions expired (removed, or hidden behind a delete marker).
    pub expired: u64,
    /// Noncurrent versions removed.
    pub noncurrent_removed: u64,
    /// Delete markers removed (left alone by every version they hid).
    pub markers_removed: u64,
    /// Versions moved to another storage class.
    pub transitioned: u64,
    /// Multipart uploads aborted.
    pub uploads_aborted: u64,
    /// Versions due but kept because Object Lock protects them.
    pub locked: u64,
    /// Actions that failed otherwise (bucket/key: error); tried again next pass.
    pub errors: Vec<String>,
    /// The pass was asked to stop before it was through.
    pub stopped: bool,
    /// A dry run's actions, in the order it found them (the counts above are then what it
    /// would have done).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Planned>,
}

/// One action a dry run found due (`seedbed object lifecycle run --dry-run`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// `expire`, `remove-noncurrent`, `remove-marker`, `transition` or `abort-upload`.
    pub action: &'static str,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The version (or the upload, for `abort-upload`) it concerns; `None`: the current one.
    pub id: Option<String>,
    /// The rule that makes it due.
    pub rule: String,
}

/// A removal a pass carried out, as S3's server access log reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleDone {
    /// [`EXPIRE_OBJECT`] (a version or delete marker removed for good) or
    /// [`CREATE_DELETE_MARKER`] (the current version hidden behind a new marker, in a bucket
    /// with versioning).
    pub operation: &'static str,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The version or marker removed, or the marker created; `None` for an unversioned object.
    pub version_id: Option<String>,
    /// When: the pass's time.
    pub at_ms: u64,
}

/// S3's log operation for a lifecycle removal for good.
pub const EXPIRE_OBJECT: &str = "S3.EXPIRE.OBJECT";
/// S3's log operation for a lifecycle expiration that adds a delete marker.
pub const CREATE_DELETE_MARKER: &str = "S3.CREATE.DELETEMARKER";

/// What one pass is asked: when it is, how long a day is, when to stop, whether to act, and
/// whom to tell of each removal.
struct Pass<'a> {
    now_ms: u64,
    day: DayLength,
    stop: &'a AtomicBool,
    dry_run: bool,
    done: &'a (dyn Fn(&LifecycleDone) + Sync),
}

/// One action the pass decided for a key.
#[derive(Clone, Debug)]
enum Act {
    /// DELETE without a version id, if the current version still has this ETag.
    ExpireCurrent { etag: String, rule: String },
    /// DELETE of a noncurrent version (or marker).
    RemoveNoncurrent { version_id: String, rule: String },
    /// DELETE of the current delete marker, which hides nothing once the acts before it
    /// removed what was under it — and only if they all did.
    RemoveLoneMarker { version_id: String, rule: String },
    /// A new storage class for a version the acts before it leave in place.
    Transition {
        version_id: String,
        class: String,
        rule: String,
    },
}

/// What to do with the versions of one key (newest first) at `now_ms`.
fn decide(
    rules: &[LifecycleRule],
    versions: &[VersionMeta],
    now_ms: u64,
    day: DayLength,
) -> Vec<Act> {
    let mut acts = Vec::new();
    let Some(current) = versions.first() else {
        return acts;
    };
    if !current.delete_marker {
        let expiry = current_expiry(rules, Candidate::of(current), current.last_modified_ms, day)
            .filter(|(at, _)| now_ms >= *at);
        if let Some((_, rule)) = expiry {
            acts.push(Act::ExpireCurrent {
                etag: current.etag.clone(),
                rule: rule.to_string(),
            });
        } else {
            // Expiration comes first: only a version that stays may move.
            let s = Standing {
                candidate: Candidate::of(current),
                class: transition::class_of(current),
                since_ms: current.last_modified_ms,
                newer_noncurrent: None,
            };
            acts.extend(transition_act(rules, current, &s, now_ms, day));
        }
    }
    // Noncurrent versions: each became noncurrent when the one before it (newer) was written.
    let mut kept = 0usize;
    for (i, v) in versions.iter().enumerate().skip(1) {
        let since = versions[i - 1].last_modified_ms;
        let c = Candidate::of(v);
        let due = rules.iter().filter(|r| r.applies_to(c)).find(|r| {
            r.noncurrent_expiration.as_ref().is_some_and(|n| {
                let newer = i - 1; // noncurrent versions newer than this one
                n.newer_noncurrent_versions
                    .is_none_or(|keep| newer >= keep as usize)
                    && now_ms >= day.after(since, n.days)
            })
        });
        if let Some(r) = due {
            acts.push(Act::RemoveNoncurrent {
                version_id: v.version_id.clone(),
                rule: r.id.clone(),
            });
        } else {
            kept += 1;
            // A delete marker has no data and no class to move.
            if !v.delete_marker {
                let s = Standing {
                    candidate: c,
                    class: transition::class_of(v),
                    since_ms: since,
                    newer_noncurrent: Some(i - 1),
                };
                acts.extend(transition_act(rules, v, &s, now_ms, day));
            }
        }
    }
    // A delete marker that hides nothing any more ("expired object delete marker").
    if current.delete_marker && kept == 0 {
        let c = Candidate::of(current);
        let due = rules
            .iter()
            .filter(|r| r.applies_to(c))
            .find(|r| match r.expiration {
                Some(Expiration::ExpiredObjectDeleteMarker(on)) => on,
                Some(Expiration::Days(d)) => now_ms >= day.after(current.last_modified_ms, d),
                Some(Expiration::Date(t)) => now_ms >= t,
                None => false,
            });
        if let Some(r) = due {
            acts.push(Act::RemoveLoneMarker {
                version_id: current.version_id.clone(),
                rule: r.id.clone(),
            });
        }
    }
    acts
}

/// The transition due for `v` standing as `s`, as an act.
fn transition_act(
    rules: &[LifecycleRule],
    v: &VersionMeta,
    s: &Standing<'_>,
    now_ms: u64,
    day: DayLength,
) -> Option<Act> {
    transition::due(rules, s, now_ms, day).map(|(class, rule)| Act::Transition {
        version_id: v.version_id.clone(),
        class: class.to_string(),
        rule: rule.to_string(),
    })
}

const SCAN_CHUNK: usize = 256;

/// Threads a pass acts on due keys with (real disks only; see `lifecycle_keys`).
const LIFECYCLE_WORKERS: usize = 8;

/// The key prefixes a pass must walk for `rules`: those of the enabled rules with an object
/// action, without any that another one already covers (`""`: the whole bucket).
fn scan_prefixes(rules: &[LifecycleRule]) -> Vec<String> {
    let mut all: Vec<&str> = rules
        .iter()
        .filter(|r| {
            r.enabled
                && (r.expiration.is_some()
                    || r.noncurrent_expiration.is_some()
                    || !r.transitions.is_empty()
                    || !r.noncurrent_transitions.is_empty())
        })
        .map(LifecycleRule::key_prefix)
        .collect();
    all.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    for p in all {
        if !out.last().is_some_and(|q| p.starts_with(q.as_str())) {
            out.push(p.to_string());
        }
    }
    out
}

impl ObjectStore {
    /// PutBucketLifecycleConfiguration: replace the bucket's rules. Rules without an ID get
    /// one, as on S3.
    pub fn put_bucket_lifecycle(
        &self,
        bucket: &str,
        mut rules: Vec<LifecycleRule>,
    ) -> Result<(), ObjectError> {
        for r in rules.iter_mut().filter(|r| r.id.is_empty()) {
            r.id = self.new_uuid().simple().to_string();
        }
        check_rules(&rules)?;
        self.update_bucket(bucket, |b| {
            b.lifecycle = rules;
            Ok(())
        })
        .map(|_| ())
    }

    /// GetBucketLifecycleConfiguration: NoSuchLifecycleConfiguration when the bucket has none.
    pub fn bucket_lifecycle(&self, bucket: &str) -> Result<Vec<LifecycleRule>, ObjectError> {
        let rules = self.bucket(bucket)?.lifecycle;
        if rules.is_empty() {
            return Err(ObjectError::NoSuchLifecycleConfiguration(bucket.into()));
        }
        Ok(rules)
    }

    /// DeleteBucketLifecycle (nothing to delete is no error).
    pub fn delete_bucket_lifecycle(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.lifecycle.clear();
            Ok(())
        })
        .map(|_| ())
    }

    /// When the current version `c` of `bucket`, written at `written_ms`, expires under the
    /// bucket's rules, and the rule's ID (`x-amz-expiration`); `None` without such a rule.
    pub fn lifecycle_expiry(
        &self,
        bucket: &str,
        c: Candidate<'_>,
        written_ms: u64,
        day: DayLength,
    ) -> Result<Option<(u64, String)>, ObjectError> {
        let b = self.bucket(bucket)?;
        Ok(current_expiry(&b.lifecycle, c, written_ms, day).map(|(t, id)| (t, id.to_string())))
    }

    /// [`Self::lifecycle_expiry`] of a version written just now (a PUT's answer).
    pub fn lifecycle_expiry_of_new(
        &self,
        bucket: &str,
        c: Candidate<'_>,
        day: DayLength,
    ) -> Result<Option<(u64, String)>, ObjectError> {
        self.lifecycle_expiry(bucket, c, self.now_ms(), day)
    }

    /// When an upload of `key` started at `initiated_ms` (`None`: now) is to be aborted under
    /// the bucket's rules, and the rule's ID (`x-amz-abort-date`, `x-amz-abort-rule-id`).
    pub fn lifecycle_abort_at(
        &self,
        bucket: &str,
        key: &str,
        initiated_ms: Option<u64>,
        day: DayLength,
    ) -> Result<Option<(u64, String)>, ObjectError> {
        let b = self.bucket(bucket)?;
        let at = initiated_ms.unwrap_or_else(|| self.now_ms());
        Ok(upload_abort_at(&b.lifecycle, key, at, day).map(|(t, id)| (t, id.to_string())))
    }

    /// [`Self::lifecycle_expiry`] of a version already written (a copy's or a completed
    /// upload's answer), read back by its id.
    pub fn lifecycle_expiry_of_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        day: DayLength,
    ) -> Result<Option<(u64, String)>, ObjectError> {
        let info = self.head_object(bucket, key, Some(version_id))?;
        let c = Candidate {
            key,
            size: info.size,
            tags: &info.tags,
        };
        self.lifecycle_expiry(bucket, c, info.last_modified_ms, day)
    }

    /// One lifecycle pass over every bucket with rules, at the store's clock.
    pub fn apply_lifecycle(&self, day: DayLength) -> Result<LifecycleReport, ObjectError> {
        self.apply_lifecycle_at(self.now_ms(), day)
    }

    /// One lifecycle pass as if it were `now_ms`.
    pub fn apply_lifecycle_at(
        &self,
        now_ms: u64,
        day: DayLength,
    ) -> Result<LifecycleReport, ObjectError> {
        self.apply_lifecycle_until(now_ms, day, &AtomicBool::new(false))
    }

    /// One lifecycle pass as if it were `now_ms`, which ends early (`stopped`) once `stop` is
    /// set — a server that is asked to stop does not wait for a long pass; what it did not
    /// reach, the next pass does.
    pub fn apply_lifecycle_until(
        &self,
        now_ms: u64,
        day: DayLength,
        stop: &AtomicBool,
    ) -> Result<LifecycleReport, ObjectError> {
        self.apply_lifecycle_observed(now_ms, day, stop, &|_| {})
    }

    /// [`apply_lifecycle_until`](Self::apply_lifecycle_until), telling `done` of every
    /// version and marker removed and every marker added (from several threads at once on a
    /// real disk) — how the server writes them to the buckets' access logs.
    pub fn apply_lifecycle_observed(
        &self,
        now_ms: u64,
        day: DayLength,
        stop: &AtomicBool,
        done: &(dyn Fn(&LifecycleDone) + Sync),
    ) -> Result<LifecycleReport, ObjectError> {
        self.lifecycle_pass(&Pass {
            now_ms,
            day,
            stop,
            dry_run: false,
            done,
        })
    }

    /// What a pass at `now_ms` would do, without doing it: the report's `planned` lists each
    /// action and the rule behind it. (A marker is listed as removed when the versions under
    /// it are, as if they all went.)
    pub fn plan_lifecycle_at(
        &self,
        now_ms: u64,
        day: DayLength,
    ) -> Result<LifecycleReport, ObjectError> {
        self.lifecycle_pass(&Pass {
            now_ms,
            day,
            stop: &AtomicBool::new(false),
            dry_run: true,
            done: &|_| {},
        })
    }

    fn lifecycle_pass(&self, p: &Pass<'_>) -> Result<LifecycleReport, ObjectError> {
        let mut report = LifecycleReport::default();
        for b in self.list_buckets()? {
            if b.lifecycle.is_empty() {
                continue;
            }
            report.buckets += 1;
            self.lifecycle_objects(&b, p, &mut report)?;
            self.lifecycle_uploads(&b, p, &mut report)?;
            if report.stopped {
                break;
            }
        }
        Ok(report)
    }

    /// Walk the versions under each prefix the enabled rules name (the whole bucket if one
    /// names none) a key at a time — a key's versions are adjacent, newest first — and act on
    /// each key as its versions are complete.
    fn lifecycle_objects(
        &self,
        b: &BucketMeta,
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) -> Result<(), ObjectError> {
        for prefix in scan_prefixes(&b.lifecycle) {
            self.lifecycle_prefix(b, &prefix, p, report)?;
        }
        Ok(())
    }

    fn lifecycle_prefix(
        &self,
        b: &BucketMeta,
        prefix: &str,
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) -> Result<(), ObjectError> {
        let end = meta::object_prefix_end(&b.name, prefix);
        let mut next = meta::object_prefix(&b.name, prefix);
        let mut group: Vec<VersionMeta> = Vec::new();
        // Keys with something due, acted on a chunk at a time.
        let mut due: Vec<(String, Vec<Act>)> = Vec::new();
        let decide_key = |group: &[VersionMeta], due: &mut Vec<(String, Vec<Act>)>| {
            let acts = decide(&b.lifecycle, group, p.now_ms, p.day);
            if !acts.is_empty() {
                due.push((group[0].key.clone(), acts));
            }
        };
        loop {
            if p.stop.load(Ordering::Relaxed) {
                // The key in hand may have more versions in the next chunk: leave it too.
                report.stopped = true;
                return Ok(());
            }
            let rows = self.meta_scan(&next, &end, SCAN_CHUNK)?;
            let exhausted = rows.len() < SCAN_CHUNK;
            for (k, v) in rows {
                let vm: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::from)?;
                next = k;
                next.push(0);
                report.versions_seen += 1;
                if group.first().is_some_and(|g| g.key != vm.key) {
                    decide_key(&std::mem::take(&mut group), &mut due);
                }
                group.push(vm);
            }
            if due.len() >= SCAN_CHUNK {
                self.lifecycle_keys(b, &std::mem::take(&mut due), p, report);
            }
            if exhausted {
                break;
            }
        }
        if !group.is_empty() {
            decide_key(&group, &mut due);
        }
        self.lifecycle_keys(b, &due, p, report);
        Ok(())
    }

    /// Act on keys with something due: on [`LIFECYCLE_WORKERS`] threads on a real disk — the
    /// store commits the deletes in flight together (group commit), so a pass that expires
    /// many objects is not one synced commit after another — and in order on the simulator
    /// (one thread) and for a dry run. The report adds the keys' outcomes in key order.
    fn lifecycle_keys(
        &self,
        b: &BucketMeta,
        due: &[(String, Vec<Act>)],
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) {
        if p.dry_run || self.fs.kind() == crate::io::BackendKind::Sim {
            for (key, acts) in due {
                self.lifecycle_key(b, key, acts, p, report);
            }
            return;
        }
        let outcomes = crate::parallel::map_indexed(due.len(), LIFECYCLE_WORKERS, |i| {
            let (key, acts) = &due[i];
            let mut out = LifecycleReport::default();
            self.lifecycle_key(b, key, acts, p, &mut out);
            out
        });
        for o in outcomes {
            report.expired += o.expired;
            report.noncurrent_removed += o.noncurrent_removed;
            report.markers_removed += o.markers_removed;
            report.transitioned += o.transitioned;
            report.locked += o.locked;
            report.errors.extend(o.errors);
        }
    }

    fn lifecycle_key(
        &self,
        b: &BucketMeta,
        key: &str,
        acts: &[Act],
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) {
        let mut all_done = true;
        for act in acts.iter().cloned() {
            if p.dry_run {
                let (action, id, rule) = match act {
                    Act::ExpireCurrent { rule, .. } => {
                        report.expired += 1;
                        ("expire", None, rule)
                    }
                    Act::RemoveNoncurrent { version_id, rule } => {
                        report.noncurrent_removed += 1;
                        ("remove-noncurrent", Some(version_id), rule)
                    }
                    Act::RemoveLoneMarker { version_id, rule } => {
                        report.markers_removed += 1;
                        ("remove-marker", Some(version_id), rule)
                    }
                    Act::Transition {
                        version_id, rule, ..
                    } => {
                        report.transitioned += 1;
                        ("transition", Some(version_id), rule)
                    }
                };
                report.planned.push(Planned {
                    action,
                    bucket: b.name.clone(),
                    key: key.to_string(),
                    id,
                    rule,
                });
                continue;
            }
            if let Act::Transition {
                version_id, class, ..
            } = &act
            {
                self.lifecycle_transition(b, key, version_id, class, p, report);
                continue;
            }
            let (version, opts) = match &act {
                // As a DELETE without a version by the bucket's owner — but only of the version
                // judged: a PUT since then is not expired with it.
                Act::ExpireCurrent { etag, .. } => (
                    None,
                    DeleteOptions {
                        writer: b.owner.clone(),
                        if_match: Some(etag.clone()),
                        bypass_governance: false,
                    },
                ),
                Act::RemoveNoncurrent { version_id, .. } => {
                    (Some(version_id.as_str()), DeleteOptions::default())
                }
                // A version left under the marker (Object Lock kept it, say) would come back
                // into view if the marker went.
                Act::RemoveLoneMarker { .. } if !all_done => continue,
                Act::RemoveLoneMarker { version_id, .. } => {
                    (Some(version_id.as_str()), DeleteOptions::default())
                }
                Act::Transition { .. } => unreachable!("carried out above"),
            };
            let done = self.delete_object_as(&b.name, key, version, &opts);
            all_done &= done.is_ok();
            match done {
                Ok(result) => {
                    match act {
                        Act::ExpireCurrent { .. } => report.expired += 1,
                        Act::RemoveNoncurrent { .. } => report.noncurrent_removed += 1,
                        Act::RemoveLoneMarker { .. } => report.markers_removed += 1,
                        Act::Transition { .. } => {}
                    }
                    // A DELETE without a version id that returns a marker added it; every
                    // other removal here is for good.
                    let marker_added = version.is_none() && result.delete_marker;
                    (p.done)(&LifecycleDone {
                        operation: if marker_added {
                            CREATE_DELETE_MARKER
                        } else {
                            EXPIRE_OBJECT
                        },
                        bucket: b.name.clone(),
                        key: key.to_string(),
                        // "null", the id of what an unversioned bucket holds, is logged as `-`.
                        version_id: result.version_id.filter(|v| v != "null"),
                        at_ms: p.now_ms,
                    });
                }
                Err(ObjectError::ObjectLocked(_)) => report.locked += 1,
                // Changed since it was read (a PUT, a DELETE): nothing to do until next time.
                Err(
                    ObjectError::PreconditionFailed { .. }
                    | ObjectError::NoSuchKey { .. }
                    | ObjectError::NoSuchVersion { .. },
                ) => {}
                Err(e) => report.errors.push(format!("{}/{key}: {e}", b.name)),
            }
        }
    }

    /// Move one version to `class`, unless it has gone or moved since it was read.
    fn lifecycle_transition(
        &self,
        b: &BucketMeta,
        key: &str,
        version_id: &str,
        class: &str,
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) {
        // Read again under the commit lock: a version moved meanwhile (or gone) is left.
        let mut changed = false;
        let moved = self.change_version(&b.name, key, Some(version_id), |_, v| {
            if transition::class_of(v) != class {
                v.system.storage_class = Some(class.to_string());
                changed = true;
            }
            Ok(())
        });
        match moved {
            Ok(_) if !changed => {}
            Ok(_) => {
                report.transitioned += 1;
                (p.done)(&LifecycleDone {
                    operation: transition::log_operation(class),
                    bucket: b.name.clone(),
                    key: key.to_string(),
                    version_id: Some(version_id.to_string()).filter(|v| v != "null"),
                    at_ms: p.now_ms,
                });
            }
            Err(ObjectError::NoSuchKey { .. } | ObjectError::NoSuchVersion { .. }) => {}
            Err(e) => report.errors.push(format!("{}/{key}: {e}", b.name)),
        }
    }

    fn lifecycle_uploads(
        &self,
        b: &BucketMeta,
        p: &Pass<'_>,
        report: &mut LifecycleReport,
    ) -> Result<(), ObjectError> {
        if report.stopped
            || b.lifecycle
                .iter()
                .all(|r| r.abort_incomplete_upload_days.is_none())
        {
            return Ok(());
        }
        let uploads: Vec<UploadMeta> = self.list_uploads(&b.name)?;
        for u in uploads {
            if p.stop.load(Ordering::Relaxed) {
                report.stopped = true;
                return Ok(());
            }
            let due = upload_abort_at(&b.lifecycle, &u.key, u.initiated_ms, p.day)
                .filter(|(at, _)| p.now_ms >= *at);
            let Some((_, rule)) = due else {
                continue;
            };
            if p.dry_run {
                report.uploads_aborted += 1;
                report.planned.push(Planned {
                    action: "abort-upload",
                    bucket: b.name.clone(),
                    key: u.key.clone(),
                    id: Some(u.upload_id.clone()),
                    rule: rule.to_string(),
                });
                continue;
            }
            match self.abort_multipart_upload(&b.name, &u.upload_id) {
                Ok(()) => report.uploads_aborted += 1,
                Err(ObjectError::NoSuchUpload(_)) => {}
                Err(e) => report
                    .errors
                    .push(format!("{}/{} upload {}: {e}", b.name, u.key, u.upload_id)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring(id: &str, days: u32) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            enabled: true,
            prefix: Some("p/".into()),
            filter: None,
            expiration: Some(Expiration::Days(days)),
            noncurrent_expiration: None,
            abort_incomplete_upload_days: None,
            transitions: Vec::new(),
            noncurrent_transitions: Vec::new(),
        }
    }

    fn code(r: Result<(), ObjectError>) -> &'static str {
        r.err().map(|e| e.code()).unwrap_or("ok")
    }

    #[test]
    fn configurations_follow_s3_rules() {
        assert_eq!(
            code(check_rules(&[expiring("a", 1), expiring("b", 2)])),
            "ok"
        );
        assert_eq!(code(check_rules(&[])), "MalformedXML");
        assert_eq!(
            code(check_rules(&[expiring("a", 1), expiring("a", 2)])),
            "InvalidArgument",
            "IDs are unique"
        );
        assert_eq!(
            code(check_rules(&[expiring(&"x".repeat(256), 1)])),
            "InvalidArgument"
        );
        assert_eq!(code(check_rules(&[expiring("a", 0)])), "InvalidArgument");
        let mut r = expiring("a", 1);
        r.expiration = Some(Expiration::Date(DAY_MS + 1));
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "InvalidArgument",
            "not midnight"
        );
        r.expiration = None;
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "InvalidRequest",
            "no action"
        );
        r.filter = Some(Filter::default());
        r.expiration = Some(Expiration::Days(3));
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "MalformedXML",
            "Prefix and Filter"
        );
        r.prefix = None;
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "ok",
            "an empty Filter takes all"
        );
        r.filter = Some(Filter {
            prefix: Some("a".into()),
            size_less_than: Some(3),
            ..Filter::default()
        });
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "MalformedXML",
            "two predicates, no And"
        );
        r.filter = Some(Filter {
            tags: vec![("k".into(), "v".into())],
            ..Filter::default()
        });
        r.abort_incomplete_upload_days = Some(1);
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "InvalidRequest",
            "tags and aborts"
        );
        r.abort_incomplete_upload_days = None;
        r.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "InvalidRequest",
            "tags and markers"
        );
        r.expiration = None;
        r.transitions = vec![Transition {
            days: Some(30),
            date: None,
            storage_class: "PLATINUM".into(),
            newer_noncurrent_versions: None,
        }];
        assert_eq!(
            code(check_rules(&[r.clone()])),
            "InvalidArgument",
            "unknown class"
        );
        r.transitions[0].storage_class = "GLACIER".into();
        assert_eq!(code(check_rules(&[r])), "ok");
    }

    #[test]
    fn a_pass_walks_only_the_prefixes_its_rules_name() {
        let mut rules = vec![expiring("a", 1), expiring("b", 1), expiring("c", 1)];
        rules[1].prefix = Some("p/q/".into()); // inside p/
        rules[2].prefix = Some("r/".into());
        assert_eq!(scan_prefixes(&rules), ["p/", "r/"]);
        rules[2].enabled = false;
        assert_eq!(scan_prefixes(&rules), ["p/"]);
        rules[0].prefix = None;
        rules[0].filter = Some(Filter::default());
        assert_eq!(
            scan_prefixes(&rules),
            [""],
            "an empty filter takes the whole bucket"
        );
        rules.iter_mut().for_each(|r| {
            r.expiration = None;
            r.abort_incomplete_upload_days = Some(1);
        });
        assert!(scan_prefixes(&rules).is_empty(), "uploads are not objects");
    }

    #[test]
    fn the_earliest_applicable_expiration_is_the_one_answered() {
        let mut late = expiring("late", 30);
        late.prefix = Some(String::new());
        let soon = expiring("soon", 2);
        let rules = [late, soon];
        let c = |key| Candidate {
            key,
            size: 1,
            tags: &[],
        };
        let at = |key| {
            current_expiry(&rules, c(key), 0, DayLength::REAL).map(|(t, id)| (t / DAY_MS, id))
        };
        assert_eq!(at("p/x"), Some((2, "soon")));
        assert_eq!(at("q/x"), Some((30, "late")));
    }
}
