//! RestoreObject (`POST /key?restore`) and the `x-amz-restore` header HEAD and GET answer with:
//! the S3 side of the archive classes (`engine/src/object/restore.rs` says what a restore is
//! in this store and how long it takes).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::restore::{self, RestoreOutcome, Tier};
use seedbed_engine::object::{ObjectError, ObjectInfo};

use super::convert::{http_date, ts};
use super::endpoint::Endpoint;
use super::errors::{invalid_argument, s3_error};

/// The private header with which the handler asks `handle` (mod.rs) for 202 Accepted, which
/// s3s's RestoreObject cannot answer itself; never sent.
pub const ACCEPTED: &str = "x-seedbed-accepted";

/// `x-amz-restore` for a version at `now_ms` (`restore::header`, with HTTP dates).
pub fn restore_header(info: &ObjectInfo, now_ms: u64) -> Option<String> {
    restore::header(
        info.system.storage_class.as_deref(),
        info.restore.as_ref(),
        now_ms,
        |ms| http_date(&ts(ms)),
    )
}

impl Endpoint {
    pub(super) async fn restore_object(
        &self,
        req: S3Request<RestoreObjectInput>,
    ) -> S3Result<S3Response<RestoreObjectOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let Some(r) = input.restore_request else {
            return Err(cx.err(s3_error(
                "MalformedXML",
                400,
                "RestoreObject needs a RestoreRequest body (<Days> and, optionally, \
                 <GlacierJobParameters><Tier>)",
            )));
        };
        if r.type_.is_some() || r.select_parameters.is_some() || r.output_location.is_some() {
            // S3 retired restores of type SELECT (with an output location) in 2024.
            return Err(cx.err(s3_error(
                "NotImplemented",
                501,
                "restores of type SELECT (SelectParameters, OutputLocation) are not served; S3 \
                 no longer offers them either",
            )));
        }
        let days = match r.days {
            Some(d) if d > 0 => d as u32,
            Some(d) => {
                return Err(cx.err(invalid_argument(format!(
                    "Days must be a positive integer; got {d}"
                ))))
            }
            None => {
                return Err(cx.err(invalid_argument(
                    "a restore of a GLACIER or DEEP_ARCHIVE object needs Days (how long the \
                     restored copy lasts)",
                )))
            }
        };
        let tier_name = r
            .glacier_job_parameters
            .as_ref()
            .map(|g| g.tier.as_str().to_string())
            .or_else(|| r.tier.as_ref().map(|t| t.as_str().to_string()));
        let tier = Tier::parse(tier_name.as_deref()).map_err(|e| cx.object_err(&e))?;
        let timing = self.restore_timing;
        let keys = match &input.version_id {
            Some(v) => vec![("s3:VersionId".to_string(), vec![v.clone()])],
            None => Vec::new(),
        };
        let (bucket, key, version) = (input.bucket, input.key, input.version_id);
        let done = cx
            .run(keys, move |s| {
                Ok(s.restore_object(&bucket, &key, version.as_deref(), days, tier, timing))
            })
            .await?;
        let outcome = match done {
            Ok((_, outcome)) => outcome,
            // S3's words when the object needs no restore.
            Err(ObjectError::InvalidObjectState { class, why }) => {
                tracing::info!(why = %why, "restore of an object that needs none");
                return Err(cx.err(super::errors::with_element(
                    s3_error(
                        "InvalidObjectState",
                        403,
                        "Restore is not allowed for the object's current storage class",
                    ),
                    "StorageClass",
                    &class,
                )));
            }
            Err(e) => return Err(cx.object_err(&e)),
        };
        let mut resp = S3Response::new(RestoreObjectOutput::default());
        if outcome == RestoreOutcome::Started {
            resp.headers
                .insert(ACCEPTED, http::HeaderValue::from_static("1"));
        }
        Ok(resp)
    }
}
