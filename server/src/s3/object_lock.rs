//! Object Lock over S3: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
//! Put/GetObjectLegalHold, and the `x-amz-object-lock-*` headers of writes and reads (the
//! engine's `object_lock.rs` holds the rules).

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};
use seedbed_engine::object::{
    DefaultRetention as DefaultRule, LockMode, ObjectInfo, ObjectLockConfig, Retention,
};

use super::convert::{ts, unix_ms};
use super::endpoint::Endpoint;
use super::errors::{invalid_argument, s3_error};

/// S3's answer to a lock document that does not validate.
fn malformed() -> S3Error {
    s3_error(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// A mode in a header (S3: InvalidArgument when it is not one).
fn mode(m: &str) -> Result<LockMode, S3Error> {
    LockMode::parse(m)
        .map_err(|e| invalid_argument(e.to_string().replacen("InvalidArgument: ", "", 1)))
}

/// A mode in an XML document: the schema's enumeration, so anything else (`governance`
/// included) is MalformedXML, as S3 answers (ceph/s3-tests' *_invalid_mode tests).
fn xml_mode(m: &str) -> Result<LockMode, S3Error> {
    LockMode::parse(m).map_err(|_| malformed())
}

/// The retention and legal hold a write asks for with `x-amz-object-lock-*` headers: the mode
/// and the date go together, as S3 requires.
pub(super) fn lock_request(
    lock_mode: Option<&ObjectLockMode>,
    until: Option<&Timestamp>,
    hold: Option<&ObjectLockLegalHoldStatus>,
) -> Result<(Option<Retention>, bool), S3Error> {
    let retention = match (lock_mode, until) {
        (None, None) => None,
        (Some(m), Some(u)) => Some(Retention {
            mode: mode(m.as_str())?,
            until_ms: unix_ms(u),
        }),
        _ => return Err(invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        )),
    };
    let legal_hold = match hold.map(|h| h.as_str()) {
        None | Some("OFF") => false,
        Some("ON") => true,
        Some(other) => {
            return Err(invalid_argument(format!(
                "x-amz-object-lock-legal-hold '{other}' is not ON or OFF"
            )))
        }
    };
    Ok((retention, legal_hold))
}

/// What GET and HEAD say of a version's lock.
pub(super) fn lock_headers(
    info: &ObjectInfo,
) -> (
    Option<ObjectLockMode>,
    Option<Timestamp>,
    Option<ObjectLockLegalHoldStatus>,
) {
    (
        info.retention
            .map(|r| ObjectLockMode::from(r.mode.name().to_string())),
        info.retention.map(|r| ts(r.until_ms)),
        info.legal_hold
            .then(|| ObjectLockLegalHoldStatus::from("ON".to_string())),
    )
}

fn config_from(c: ObjectLockConfiguration) -> Result<ObjectLockConfig, S3Error> {
    if c.object_lock_enabled.as_ref().map(|e| e.as_str()) != Some("Enabled") {
        return Err(malformed());
    }
    let default = match c.rule.and_then(|r| r.default_retention) {
        None => None,
        Some(d) => {
            let m = xml_mode(d.mode.as_ref().ok_or_else(malformed)?.as_str())?;
            let (days, in_years) = match (d.days, d.years) {
                (Some(days), None) => (days, false),
                (None, Some(years)) => (years.saturating_mul(365), true),
                _ => return Err(malformed()),
            };
            let days = u32::try_from(days).ok().filter(|d| *d > 0).ok_or_else(|| {
                s3_error(
                    "InvalidRetentionPeriod",
                    400,
                    "Default retention period must be a positive integer value",
                )
            })?;
            Some(DefaultRule {
                mode: m,
                days,
                in_years,
            })
        }
    };
    Ok(ObjectLockConfig { default })
}

fn config_to(c: ObjectLockConfig) -> ObjectLockConfiguration {
    ObjectLockConfiguration {
        object_lock_enabled: Some(ObjectLockEnabled::from("Enabled".to_string())),
        rule: c.default.map(|d| ObjectLockRule {
            default_retention: Some(DefaultRetention {
                mode: Some(ObjectLockRetentionMode::from(d.mode.name().to_string())),
                days: (!d.in_years).then(|| i32::try_from(d.days).unwrap_or(i32::MAX)),
                years: d
                    .in_years
                    .then(|| i32::try_from(d.days / 365).unwrap_or(i32::MAX)),
            }),
        }),
    }
}

impl Endpoint {
    pub(super) async fn put_object_lock_configuration(
        &self,
        req: S3Request<PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let Some(c) = input.object_lock_configuration else {
            return Err(cx.err(s3_error(
                "MissingRequestBodyError",
                400,
                "Request Body is empty",
            )));
        };
        let config = config_from(c).map_err(|e| cx.err(e))?;
        let bucket = input.bucket;
        cx.run(Vec::new(), move |s| {
            s.put_object_lock_configuration(&bucket, config)
        })
        .await?;
        Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
    }

    pub(super) async fn get_object_lock_configuration(
        &self,
        req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let c = cx
            .run(Vec::new(), move |s| s.object_lock_configuration(&bucket))
            .await?;
        Ok(S3Response::new(GetObjectLockConfigurationOutput {
            object_lock_configuration: Some(config_to(c)),
        }))
    }

    pub(super) async fn put_object_retention(
        &self,
        req: S3Request<PutObjectRetentionInput>,
    ) -> S3Result<S3Response<PutObjectRetentionOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let retention = match input.retention {
            None => return Err(cx.err(malformed())),
            Some(r) => match (r.mode, r.retain_until_date) {
                (None, None) => None,
                (Some(m), Some(u)) => Some(Retention {
                    mode: xml_mode(m.as_str()).map_err(|e| cx.err(e))?,
                    until_ms: unix_ms(&u),
                }),
                _ => return Err(cx.err(malformed())),
            },
        };
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        cx.run(Vec::new(), move |s| {
            s.put_object_retention(&bucket, &key, v.as_deref(), retention, bypass)
        })
        .await?;
        Ok(S3Response::new(PutObjectRetentionOutput::default()))
    }

    pub(super) async fn get_object_retention(
        &self,
        req: S3Request<GetObjectRetentionInput>,
    ) -> S3Result<S3Response<GetObjectRetentionOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        let r = cx
            .run(Vec::new(), move |s| {
                s.object_retention(&bucket, &key, v.as_deref())
            })
            .await?;
        Ok(S3Response::new(GetObjectRetentionOutput {
            retention: Some(ObjectLockRetention {
                mode: Some(ObjectLockRetentionMode::from(r.mode.name().to_string())),
                retain_until_date: Some(ts(r.until_ms)),
            }),
        }))
    }

    pub(super) async fn put_object_legal_hold(
        &self,
        req: S3Request<PutObjectLegalHoldInput>,
    ) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let on = match input
            .legal_hold
            .and_then(|h| h.status)
            .as_ref()
            .map(|s| s.as_str())
        {
            Some("ON") => true,
            Some("OFF") => false,
            _ => return Err(cx.err(malformed())),
        };
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        cx.run(Vec::new(), move |s| {
            s.put_object_legal_hold(&bucket, &key, v.as_deref(), on)
        })
        .await?;
        Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
    }

    pub(super) async fn get_object_legal_hold(
        &self,
        req: S3Request<GetObjectLegalHoldInput>,
    ) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        let on = cx
            .run(Vec::new(), move |s| {
                s.object_legal_hold(&bucket, &key, v.as_deref())
            })
            .await?;
        Ok(S3Response::new(GetObjectLegalHoldOutput {
            legal_hold: Some(ObjectLockLegalHold {
                status: Some(ObjectLockLegalHoldStatus::from(
                    if on { "ON" } else { "OFF" }.to_string(),
                )),
            }),
        }))
    }
}
