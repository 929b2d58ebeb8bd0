//! The archive classes and RestoreObject.
//!
//! On S3 an object in **GLACIER** (Flexible Retrieval) or **DEEP_ARCHIVE** is not readable
//! where it lies: GET, CopyObject, UploadPartCopy and SelectObjectContent answer 403
//! InvalidObjectState until a **RestoreObject** has made a temporary copy readable. The restore
//! takes time — S3 publishes bounds per class and retrieval tier — and the copy lasts `Days`
//! days from the moment the restore completes, rounded up to the next midnight UTC; HEAD tells
//! the state in `x-amz-restore`: `ongoing-request="true"` while it runs,
//! `ongoing-request="false", expiry-date="..."` once the copy is readable. GLACIER_IR (Instant
//! Retrieval) and every other class read at once.
//!
//! This store keeps every class alike (K + M erasure coding), so nothing is copied: a restore
//! is a record on the version ([`Restore`]: when it was asked, when it is ready, when it
//! expires), and the state is read off the clock whenever the version is read — no pass has to
//! run for a restore to complete or to lapse. What it teaches is S3's contract: a client that
//! works here (asks, polls HEAD, reads once ready, asks again to extend) works against S3.
//!
//! How long a restore takes ([`restore_ms`]): S3's published upper bound for the tier and
//! class, as a share of a lifecycle day — so a server with `--lifecycle-day-secs 3` restores a
//! GLACIER object on the Standard tier (5 of 24 hours) in 0.6 s — unless the server fixes it
//! (`--restore-secs`).
//!
//! | class | Expedited | Standard | Bulk |
//! |---|---|---|---|
//! | GLACIER | 5 minutes | 5 hours | 12 hours |
//! | DEEP_ARCHIVE | not offered (400 InvalidArgument) | 12 hours | 48 hours |

use serde::{Deserialize, Serialize};

use super::auth::AuthorizedStore;
use super::error::ObjectError;
use super::lifecycle::DayLength;
use super::meta::VersionMeta;
use super::store::ObjectStore;
use super::transition::class_of;

/// The classes whose objects need a restore before they can be read.
pub const ARCHIVE_CLASSES: [&str; 2] = ["GLACIER", "DEEP_ARCHIVE"];

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;

/// A retrieval tier (`Tier`, or `GlacierJobParameters.Tier`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tier {
    /// Minutes, for GLACIER only.
    Expedited,
    /// Hours (the default).
    Standard,
    /// The slowest and cheapest.
    Bulk,
}

impl Tier {
    /// The tier S3 names `s` (`Standard` when a request names none).
    pub fn parse(s: Option<&str>) -> Result<Tier, ObjectError> {
        match s {
            None | Some("Standard") => Ok(Tier::Standard),
            Some("Expedited") => Ok(Tier::Expedited),
            Some("Bulk") => Ok(Tier::Bulk),
            Some(t) => Err(ObjectError::MalformedXml(format!(
                "'{t}' is not a retrieval tier (Expedited, Standard or Bulk)"
            ))),
        }
    }
}

/// A restore asked of an archived version: kept on the version's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    /// The tier asked for.
    pub tier: Tier,
    /// When it was asked, Unix milliseconds.
    pub requested_ms: u64,
    /// When the copy is readable.
    pub ready_ms: u64,
    /// When the copy lapses (`expiry-date`).
    pub expiry_ms: u64,
}

/// Where an archived version stands at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreState {
    /// Not restored (never, or the copy has lapsed): not readable.
    Archived,
    /// A restore is running: not readable yet.
    InProgress,
    /// Readable until `expiry_ms`.
    Restored {
        /// When the copy lapses.
        expiry_ms: u64,
    },
}

/// Whether `class` needs a restore before a read.
pub fn is_archive(class: &str) -> bool {
    ARCHIVE_CLASSES.contains(&class)
}

/// Where version `v` stands at `now_ms`; `None` for a version whose class reads at once.
pub fn state(v: &VersionMeta, now_ms: u64) -> Option<RestoreState> {
    state_of(class_of(v), v.restore.as_ref(), now_ms)
}

/// `x-amz-restore` for a version of `class` with `restore` at `now_ms` — `ongoing-request="true"`
/// while a restore runs, `ongoing-request="false", expiry-date="..."` while its copy is
/// readable, nothing otherwise — with dates written by `date` (HTTP dates on the wire).
pub fn header(
    class: Option<&str>,
    restore: Option<&Restore>,
    now_ms: u64,
    date: impl Fn(u64) -> String,
) -> Option<String> {
    match state_of(class.unwrap_or("STANDARD"), restore, now_ms)? {
        RestoreState::Archived => None,
        RestoreState::InProgress => Some("ongoing-request=\"true\"".into()),
        RestoreState::Restored { expiry_ms } => Some(format!(
            "ongoing-request=\"false\", expiry-date=\"{}\"",
            date(expiry_ms)
        )),
    }
}

/// [`state`] from a class and a restore record.
pub fn state_of(class: &str, restore: Option<&Restore>, now_ms: u64) -> Option<RestoreState> {
    if !is_archive(class) {
        return None;
    }
    Some(match restore {
        Some(r) if now_ms < r.ready_ms => RestoreState::InProgress,
        Some(r) if now_ms < r.expiry_ms => RestoreState::Restored {
            expiry_ms: r.expiry_ms,
        },
        _ => RestoreState::Archived,
    })
}

/// How long a restore of a `class` object takes on `tier`: S3's upper bound, as a share of
/// `day` (a real day: S3's hours).
pub fn restore_ms(class: &str, tier: Tier, day: DayLength) -> Result<u64, ObjectError> {
    let real =
        match (class, tier) {
            ("DEEP_ARCHIVE", Tier::Expedited) => return Err(ObjectError::InvalidArgument(
                "the Expedited tier is not offered for objects in DEEP_ARCHIVE (use Standard or \
                 Bulk)"
                    .into(),
            )),
            ("DEEP_ARCHIVE", Tier::Standard) => 12 * HOUR_MS,
            ("DEEP_ARCHIVE", Tier::Bulk) => 48 * HOUR_MS,
            (_, Tier::Expedited) => 5 * MINUTE_MS,
            (_, Tier::Standard) => 5 * HOUR_MS,
            (_, Tier::Bulk) => 12 * HOUR_MS,
        };
    Ok(real.saturating_mul(day.as_ms()) / DAY_MS)
}

/// How a store's restores are timed: its lifecycle day, and a fixed duration that replaces
/// S3's when set (`seedbed serve --restore-secs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreTiming {
    /// The lifecycle day restores are a share of.
    pub day: DayLength,
    /// Every restore takes this long instead, milliseconds.
    pub fixed_ms: Option<u64>,
}

/// What RestoreObject did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// A restore started (S3's 202 Accepted).
    Started,
    /// The version was restored already; its copy now lasts `Days` from now (200 OK).
    Extended,
}

fn not_archived(v: &VersionMeta, bucket: &str) -> ObjectError {
    ObjectError::InvalidObjectState {
        class: class_of(v).to_string(),
        why: format!(
            "{bucket}/{} is in {}, which reads without a restore: restore is for GLACIER and \
             DEEP_ARCHIVE",
            v.key,
            class_of(v)
        ),
    }
}

impl ObjectStore {
    /// RestoreObject: make an archived version readable for `days` days once the restore
    /// completes. Returns the version's id and whether the restore started or was extended.
    pub fn restore_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        days: u32,
        tier: Tier,
        timing: RestoreTiming,
    ) -> Result<(String, RestoreOutcome), ObjectError> {
        if days == 0 {
            return Err(ObjectError::InvalidArgument(
                "Days must be a positive integer (how long the restored copy lasts)".into(),
            ));
        }
        let now = self.now_ms();
        let mut outcome = RestoreOutcome::Started;
        let id = self.change_version(bucket, key, version_id, |_, v| {
            let class = class_of(v).to_string();
            match state(v, now) {
                None => Err(not_archived(v, bucket)),
                Some(RestoreState::InProgress) => Err(ObjectError::RestoreAlreadyInProgress(
                    format!("{bucket}/{key}: the restore asked earlier has not completed"),
                )),
                Some(RestoreState::Restored { .. }) => {
                    let r = v.restore.as_mut().expect("restored means a record");
                    r.expiry_ms = timing.day.after(now, days);
                    outcome = RestoreOutcome::Extended;
                    Ok(())
                }
                Some(RestoreState::Archived) => {
                    // The tier is checked against the class even when the time is fixed.
                    let s3_time = restore_ms(&class, tier, timing.day)?;
                    let takes = timing.fixed_ms.unwrap_or(s3_time);
                    let ready_ms = now.saturating_add(takes);
                    v.restore = Some(Restore {
                        tier,
                        requested_ms: now,
                        ready_ms,
                        expiry_ms: timing.day.after(ready_ms, days),
                    });
                    Ok(())
                }
            }
        })?;
        Ok((id, outcome))
    }
}

impl AuthorizedStore<'_> {
    /// RestoreObject as the caller: `s3:RestoreObject` on the object.
    pub fn restore_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        days: u32,
        tier: Tier,
        timing: RestoreTiming,
    ) -> Result<(String, RestoreOutcome), ObjectError> {
        self.check_object("s3:RestoreObject", bucket, key, &[])?;
        self.store()
            .restore_object(bucket, key, version_id, days, tier, timing)
    }
}

/// Refuse to read an archived version's data unless a restore has made it readable at
/// `now_ms` (S3's 403 InvalidObjectState for GET, copies and Select; HEAD reads metadata and
/// is not refused). [`ObjectReader::check_readable`](super::read::ObjectReader) calls it.
pub fn check_readable(v: &VersionMeta, bucket: &str, now_ms: u64) -> Result<(), ObjectError> {
    match state(v, now_ms) {
        None | Some(RestoreState::Restored { .. }) => Ok(()),
        Some(s) => Err(ObjectError::InvalidObjectState {
            class: class_of(v).to_string(),
            why: format!(
                "{bucket}/{} is in {}: {}",
                v.key,
                class_of(v),
                if s == RestoreState::InProgress {
                    "its restore has not completed yet (HEAD tells: x-amz-restore)"
                } else {
                    "restore it first (RestoreObject)"
                }
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_take_s3s_time_as_a_share_of_the_day() {
        let real = DayLength::REAL;
        assert_eq!(
            restore_ms("GLACIER", Tier::Standard, real).unwrap(),
            5 * HOUR_MS
        );
        assert_eq!(
            restore_ms("DEEP_ARCHIVE", Tier::Bulk, real).unwrap(),
            48 * HOUR_MS
        );
        // A 24-second day makes an hour a second.
        let fast = DayLength::debug_ms(24_000);
        assert_eq!(restore_ms("GLACIER", Tier::Bulk, fast).unwrap(), 12_000);
        assert_eq!(restore_ms("GLACIER", Tier::Expedited, fast).unwrap(), 83);
        assert!(matches!(
            restore_ms("DEEP_ARCHIVE", Tier::Expedited, fast),
            Err(ObjectError::InvalidArgument(_))
        ));
    }

    #[test]
    fn the_state_follows_the_clock() {
        let r = Restore {
            tier: Tier::Standard,
            requested_ms: 0,
            ready_ms: 10,
            expiry_ms: 20,
        };
        assert_eq!(state_of("GLACIER_IR", Some(&r), 0), None);
        assert_eq!(state_of("GLACIER", None, 0), Some(RestoreState::Archived));
        assert_eq!(
            state_of("GLACIER", Some(&r), 9),
            Some(RestoreState::InProgress)
        );
        assert_eq!(
            state_of("DEEP_ARCHIVE", Some(&r), 10),
            Some(RestoreState::Restored { expiry_ms: 20 })
        );
        assert_eq!(
            state_of("GLACIER", Some(&r), 20),
            Some(RestoreState::Archived)
        );
        assert!(Tier::parse(Some("Fast")).is_err());
        assert_eq!(Tier::parse(None).unwrap(), Tier::Standard);
    }
}
