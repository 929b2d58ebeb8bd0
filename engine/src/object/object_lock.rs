//! S3 Object Lock: write-once-read-many protection of object versions.
//!
//! A bucket with Object Lock enabled (at creation, or later on a versioned bucket) keeps every
//! version it protects until the protection ends:
//!
//! * **Retention** — a mode and a retain-until date per version, given with the write or by a
//!   default rule of the bucket (GOVERNANCE or COMPLIANCE for N days or years), or set later
//!   (PutObjectRetention). Until the date, the version cannot be deleted: in COMPLIANCE mode
//!   by no one, and its date can only move later; in GOVERNANCE mode only by a request that
//!   asks to bypass it (`x-amz-bypass-governance-retention: true`) and is allowed
//!   `s3:BypassGovernanceRetention`.
//! * **Legal hold** — on or off per version, no date: while on, no one deletes the version.
//!
//! What it protects is a *version*: a DELETE without a version id only writes a delete marker
//! (the bucket is versioned, always, once locked), which hides the object and deletes nothing.
//! The checks run inside the commit (`objects.rs`), against the store's clock, so a version
//! cannot be removed between a check and its delete. Retention and hold live in the version's
//! metadata record; set at write time they are in the blob's description too (`describe.rs`).

use serde::{Deserialize, Serialize};

use super::auth::AuthorizedStore;
use super::error::ObjectError;
use super::meta::{BucketMeta, VersionMeta, Versioning};
use super::objects::DeleteResult;
use super::store::ObjectStore;

/// Milliseconds in a day.
const DAY_MS: u64 = 86_400_000;

/// A retention mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockMode {
    /// Deletable before the date by requests that bypass governance (and may).
    Governance,
    /// Deletable by no one before the date; the date only moves later.
    Compliance,
}

impl LockMode {
    /// S3's name (`GOVERNANCE`, `COMPLIANCE`).
    pub fn name(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }

    /// Parse S3's name.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        match s {
            "GOVERNANCE" => Ok(LockMode::Governance),
            "COMPLIANCE" => Ok(LockMode::Compliance),
            other => Err(ObjectError::InvalidArgument(format!(
                "Unknown wormMode directive: '{other}' is not GOVERNANCE or COMPLIANCE"
            ))),
        }
    }
}

/// A version's retention: its mode and the instant it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// The mode.
    pub mode: LockMode,
    /// Until when, Unix milliseconds.
    pub until_ms: u64,
}

/// A bucket's default retention: every new version without one of its own gets this mode
/// for this many days from its write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    /// The mode.
    pub mode: LockMode,
    /// How long, in days (a rule given in years is kept as 365 days a year, as S3 counts).
    pub days: u32,
    /// Whether the rule was given in years (answered back as given).
    #[serde(default)]
    pub in_years: bool,
}

/// A bucket's Object Lock configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLockConfig {
    /// The default retention rule, if any.
    pub default: Option<DefaultRetention>,
}

/// Why a version cannot be deleted now, if it cannot: a legal hold, a COMPLIANCE retention
/// that has not ended, or a GOVERNANCE one not bypassed. `now_ms` is the store's clock.
pub fn protection(v: &VersionMeta, now_ms: u64, bypass_governance: bool) -> Option<String> {
    if v.legal_hold {
        return Some("a legal hold is on".into());
    }
    match v.retention {
        Some(r) if r.until_ms > now_ms => match r.mode {
            LockMode::Compliance => Some(format!(
                "COMPLIANCE retention until {} (Unix ms)",
                r.until_ms
            )),
            LockMode::Governance if !bypass_governance => Some(format!(
                "GOVERNANCE retention until {} (Unix ms), not bypassed",
                r.until_ms
            )),
            LockMode::Governance => None,
        },
        _ => None,
    }
}

/// The refusal of a change to a protected version; `why` says which protection (the S3 front
/// end answers S3's words and logs it).
pub fn protected(why: &str) -> ObjectError {
    ObjectError::ObjectLocked(why.to_string())
}

/// The retention a new version gets in bucket `b`: the one asked for, else the bucket's
/// default rule from `now_ms`; asking for one in a bucket without Object Lock is refused, as
/// S3 refuses it.
pub fn retention_for_write(
    b: &BucketMeta,
    asked: Option<Retention>,
    legal_hold: bool,
    now_ms: u64,
) -> Result<Option<Retention>, ObjectError> {
    let Some(cfg) = b.object_lock else {
        if asked.is_some() || legal_hold {
            return Err(ObjectError::InvalidRequest(
                "Bucket is missing Object Lock Configuration".into(),
            ));
        }
        return Ok(None);
    };
    if let Some(r) = asked {
        if r.until_ms <= now_ms {
            return Err(ObjectError::InvalidArgument(
                "The retain until date must be in the future!".into(),
            ));
        }
        return Ok(Some(r));
    }
    Ok(cfg.default.map(|d| Retention {
        mode: d.mode,
        until_ms: now_ms + u64::from(d.days) * DAY_MS,
    }))
}

/// S3's InvalidRequest for a lock operation on a bucket without Object Lock.
fn require_lock(b: &BucketMeta) -> Result<(), ObjectError> {
    if b.object_lock.is_none() {
        return Err(ObjectError::InvalidRequest(
            "Bucket is missing Object Lock Configuration".into(),
        ));
    }
    Ok(())
}

impl ObjectStore {
    /// PutObjectLockConfiguration: enable Object Lock on a bucket whose versioning is Enabled
    /// (and keep it enabled: it cannot be turned off), with an optional default rule.
    pub fn put_object_lock_configuration(
        &self,
        bucket: &str,
        config: ObjectLockConfig,
    ) -> Result<(), ObjectError> {
        if let Some(d) = config.default {
            if d.days == 0 {
                return Err(ObjectError::InvalidArgument(
                    "Default retention period must be a positive integer value".into(),
                ));
            }
        }
        self.update_bucket(bucket, |b| {
            if b.versioning != Versioning::Enabled {
                return Err(ObjectError::InvalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
                        .into(),
                ));
            }
            b.object_lock = Some(config);
            Ok(())
        })
        .map(|_| ())
    }

    /// GetObjectLockConfiguration.
    pub fn object_lock_configuration(&self, bucket: &str) -> Result<ObjectLockConfig, ObjectError> {
        self.bucket(bucket)?
            .object_lock
            .ok_or_else(|| ObjectError::ObjectLockConfigurationNotFound(bucket.into()))
    }

    /// PutObjectRetention: set a version's retention. A COMPLIANCE retention only moves later;
    /// a GOVERNANCE one is shortened, removed or given another mode only with
    /// `bypass_governance`.
    pub fn put_object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        retention: Option<Retention>,
        bypass_governance: bool,
    ) -> Result<String, ObjectError> {
        let now = self.now_ms();
        self.change_version(bucket, key, version_id, |b, v| {
            require_lock(b)?;
            if let Some(old) = v.retention.filter(|r| r.until_ms > now) {
                // Only a later date in the same mode is free; any other change of a retention in
                // force — shorter, removed, or another mode (GOVERNANCE to COMPLIANCE included, as
                // ceph/s3-tests' test_object_lock_changing_mode_from_governance_without_bypass
                // expects) — needs a GOVERNANCE bypass, and a COMPLIANCE one cannot be made.
                let weaker = match retention {
                    None => true,
                    Some(new) => new.until_ms < old.until_ms || new.mode != old.mode,
                };
                if weaker {
                    let allowed = old.mode == LockMode::Governance && bypass_governance;
                    if !allowed {
                        return Err(protected(&format!(
                            "{} retention until {} may not be shortened or removed{}",
                            old.mode.name(),
                            old.until_ms,
                            if old.mode == LockMode::Governance {
                                " without bypassing governance"
                            } else {
                                ""
                            }
                        )));
                    }
                }
            }
            v.retention = retention;
            Ok(())
        })
    }

    /// GetObjectRetention.
    pub fn object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Retention, ObjectError> {
        self.locked_bucket(bucket)?;
        let v = self.resolve_version(bucket, key, version_id)?;
        v.retention
            .ok_or_else(|| ObjectError::NoSuchObjectLockConfiguration(format!("{bucket}/{key}")))
    }

    /// PutObjectLegalHold.
    pub fn put_object_legal_hold(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        on: bool,
    ) -> Result<String, ObjectError> {
        self.change_version(bucket, key, version_id, |b, v| {
            require_lock(b)?;
            v.legal_hold = on;
            Ok(())
        })
    }

    /// GetObjectLegalHold: whether the version's legal hold is on.
    pub fn object_legal_hold(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<bool, ObjectError> {
        self.locked_bucket(bucket)?;
        Ok(self.resolve_version(bucket, key, version_id)?.legal_hold)
    }

    /// The bucket, if it has Object Lock; S3's InvalidRequest if not.
    fn locked_bucket(&self, bucket: &str) -> Result<BucketMeta, ObjectError> {
        let b = self.bucket(bucket)?;
        require_lock(&b)?;
        Ok(b)
    }
}

impl AuthorizedStore<'_> {
    /// Whether the caller may bypass GOVERNANCE retention on `bucket/key`
    /// (`s3:BypassGovernanceRetention`), when it asks to: a request not allowed to is treated
    /// as one that did not ask, so the retention still protects the version.
    pub fn may_bypass_governance(&self, bucket: &str, key: &str, asked: bool) -> bool {
        asked
            && self
                .check_object("s3:BypassGovernanceRetention", bucket, key, &[])
                .is_ok()
    }

    /// DELETE as [`AuthorizedStore::delete_object_if`], asking to bypass GOVERNANCE retention.
    pub fn delete_object_bypassing(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        if_match: Option<&str>,
        bypass_governance: bool,
    ) -> Result<DeleteResult, ObjectError> {
        let bypass = self.may_bypass_governance(bucket, key, bypass_governance);
        self.delete_checked(bucket, key, version_id, if_match, bypass)
    }

    /// PutObjectLockConfiguration: `s3:PutBucketObjectLockConfiguration`.
    pub fn put_object_lock_configuration(
        &self,
        bucket: &str,
        config: ObjectLockConfig,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketObjectLockConfiguration", bucket, &[])?;
        self.store().put_object_lock_configuration(bucket, config)
    }

    /// GetObjectLockConfiguration: `s3:GetBucketObjectLockConfiguration`.
    pub fn object_lock_configuration(&self, bucket: &str) -> Result<ObjectLockConfig, ObjectError> {
        self.check_bucket("s3:GetBucketObjectLockConfiguration", bucket, &[])?;
        self.store().object_lock_configuration(bucket)
    }

    /// PutObjectRetention: `s3:PutObjectRetention`; shortening a GOVERNANCE retention also
    /// needs `s3:BypassGovernanceRetention` and the request's bypass header.
    pub fn put_object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        retention: Option<Retention>,
        bypass_governance: bool,
    ) -> Result<String, ObjectError> {
        self.check_object("s3:PutObjectRetention", bucket, key, &[])?;
        let bypass = self.may_bypass_governance(bucket, key, bypass_governance);
        self.store()
            .put_object_retention(bucket, key, version_id, retention, bypass)
    }

    /// GetObjectRetention: `s3:GetObjectRetention`.
    pub fn object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Retention, ObjectError> {
        self.check_object("s3:GetObjectRetention", bucket, key, &[])?;
        self.store().object_retention(bucket, key, version_id)
    }

    /// PutObjectLegalHold: `s3:PutObjectLegalHold`.
    pub fn put_object_legal_hold(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        on: bool,
    ) -> Result<String, ObjectError> {
        self.check_object("s3:PutObjectLegalHold", bucket, key, &[])?;
        self.store()
            .put_object_legal_hold(bucket, key, version_id, on)
    }

    /// GetObjectLegalHold: `s3:GetObjectLegalHold`.
    pub fn object_legal_hold(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<bool, ObjectError> {
        self.check_object("s3:GetObjectLegalHold", bucket, key, &[])?;
        self.store().object_legal_hold(bucket, key, version_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(retention: Option<Retention>, legal_hold: bool) -> VersionMeta {
        VersionMeta {
            key: "k".into(),
            version_id: "v".into(),
            seq: 1,
            delete_marker: false,
            size: 0,
            etag: String::new(),
            sha256: String::new(),
            content_type: None,
            user_meta: Default::default(),
            last_modified_ms: 0,
            segments: Vec::new(),
            system: Default::default(),
            checksum: None,
            owner: None,
            acl: None,
            tags: Vec::new(),
            retention,
            legal_hold,
            encryption: None,
            restore: None,
        }
    }

    #[test]
    fn what_protects_a_version_and_until_when() {
        let gov = Some(Retention {
            mode: LockMode::Governance,
            until_ms: 1_000,
        });
        let comp = Some(Retention {
            mode: LockMode::Compliance,
            until_ms: 1_000,
        });
        assert!(protection(&version(None, false), 0, false).is_none());
        assert!(protection(&version(gov, false), 999, false).is_some());
        assert!(
            protection(&version(gov, false), 999, true).is_none(),
            "bypassed"
        );
        assert!(
            protection(&version(gov, false), 1_000, false).is_none(),
            "ended"
        );
        assert!(
            protection(&version(comp, false), 999, true).is_some(),
            "never bypassed"
        );
        assert!(
            protection(&version(None, true), 5_000, true).is_some(),
            "legal hold"
        );
    }
}
