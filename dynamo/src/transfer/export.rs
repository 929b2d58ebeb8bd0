//! ExportTableToPointInTime: every item of a table, as of one moment, written to a bucket in
//! the layout DynamoDB writes, so tools made for DynamoDB's exports read Seedbed's:
//!
//! ```text
//! PREFIX/AWSDynamoDB/ID/_started                 empty: the bucket is writable, the export began
//! PREFIX/AWSDynamoDB/ID/data/UUID.json.gz        items, one {"Item": {…}} per line, gzip
//! PREFIX/AWSDynamoDB/ID/manifest-files.json      one line per data file: itemCount,
//!                                                md5Checksum (base64), etag, dataFileS3Key
//! PREFIX/AWSDynamoDB/ID/manifest-files.md5       MD5 of manifest-files.json (base64)
//! PREFIX/AWSDynamoDB/ID/manifest-summary.json    the export: ARNs, times, counts, keys
//! PREFIX/AWSDynamoDB/ID/manifest-summary.md5     MD5 of manifest-summary.json (base64)
//! ```
//!
//! As DynamoDB requires, the table's point-in-time recovery must be on. Seedbed keeps no table
//! history, so the export is of the table as the job finds it when it starts — one LSM
//! snapshot (`Tables::scan_snapshot`), whatever is written while it runs — and an
//! `ExportTime` other than now is refused. A data file is closed at [`DATA_FILE_BYTES`] of
//! JSON; an empty table still gets one (empty) data file, as DynamoDB writes one per
//! partition. `ION` and incremental exports are refused with a message that says so.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::object::sse::SseRequest;
use seedbed_engine::table::auth::Check;
use seedbed_engine::table::value::item_size;
use seedbed_engine::table::{DynamoError, ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::formats::GzipLines;
use super::import::log_warning;
use super::{
    dynamo, lock, one_of, opt_str, req_str, s3_failure, seconds, validation, As, Job, Transfers,
};
use crate::errors::WireError;

/// Uncompressed JSON per data file before the next one is started.
pub const DATA_FILE_BYTES: u64 = 64 << 20;

/// How far in the past an `ExportTime` may be and still mean "now" (a client's clock, the
/// request's travel).
const NOW_TOLERANCE_MS: u64 = 60_000;

/// An export, as DescribeExport shows it (`ExportDescription`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportRecord {
    /// `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID`.
    pub export_arn: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub export_status: String,
    /// Seconds since the epoch.
    pub start_time: f64,
    /// Seconds since the epoch, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// The key of `manifest-summary.json`, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_manifest: Option<String>,
    /// The table exported.
    pub table_arn: String,
    /// Its id.
    pub table_id: String,
    /// The moment exported, seconds since the epoch.
    pub export_time: f64,
    /// ClientToken, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Destination bucket.
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: String,
    /// The account that owns it.
    #[serde(rename = "S3BucketOwner")]
    pub s3_bucket_owner: String,
    /// Key prefix, if one was given.
    #[serde(rename = "S3Prefix", default, skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    /// `AES256` or `KMS`, as given (recorded; Seedbed's store does not encrypt).
    #[serde(
        rename = "S3SseAlgorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub s3_sse_algorithm: Option<String>,
    /// `DYNAMODB_JSON`.
    pub export_format: String,
    /// `FULL_EXPORT`.
    pub export_type: String,
    /// Bytes of the items exported (DynamoDB's item sizes), once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_size_bytes: Option<u64>,
    /// Items exported, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    /// Why it failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
}

impl ExportRecord {
    /// The directory of its files: `PREFIX/AWSDynamoDB/ID`.
    fn base(&self) -> String {
        let id = self.export_arn.rsplit('/').next().unwrap_or_default();
        match self.s3_prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{}/AWSDynamoDB/{id}", p.trim_end_matches('/')),
            _ => format!("AWSDynamoDB/{id}"),
        }
    }
}

impl Job for ExportRecord {
    const KIND: u8 = b'E';
    const NOUN: &'static str = "Export";
    const DESCRIPTION: &'static str = "ExportDescription";
    const LIST: (&'static str, &'static str) = ("ExportSummaries", "MaxResults");
    const NOT_FOUND: ErrorKind = ErrorKind::ExportNotFound;
    const CONFLICT: ErrorKind = ErrorKind::ExportConflict;

    fn arn(&self) -> &str {
        &self.export_arn
    }

    fn running(&self) -> bool {
        self.export_status == "IN_PROGRESS"
    }

    fn fail(&mut self, code: &str, message: &str, now_ms: u64) {
        self.export_status = "FAILED".into();
        self.failure_code = (!code.is_empty()).then(|| code.to_string());
        self.failure_message = Some(message.to_string());
        self.end_time = Some(seconds(now_ms));
    }

    fn table_arn(&self) -> &str {
        &self.table_arn
    }

    fn client_token(&self) -> Option<&str> {
        self.client_token.as_deref()
    }

    fn summary(&self) -> Value {
        json!({
            "ExportArn": self.export_arn,
            "ExportStatus": self.export_status,
            "ExportType": self.export_type,
        })
    }

    fn same_request(&self, other: &ExportRecord) -> bool {
        (
            &self.table_arn,
            &self.s3_bucket,
            &self.s3_prefix,
            &self.export_format,
            &self.export_type,
        ) == (
            &other.table_arn,
            &other.s3_bucket,
            &other.s3_prefix,
            &other.export_format,
            &other.export_type,
        )
    }
}

fn md5_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

/// Why an export stopped early.
enum Stop {
    S3(String, String),
    Table(DynamoError),
}

impl Transfers {
    /// ExportTableToPointInTime: check the request, record the job, start it.
    pub(crate) fn export_table(
        self: &Arc<Self>,
        body: &Value,
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
        principal: Option<Principal>,
    ) -> Result<Value, WireError> {
        let table_arn = req_str(body, "TableArn")?;
        let bucket = req_str(body, "S3Bucket")?;
        let format = opt_str(body, "ExportFormat")?.unwrap_or("DYNAMODB_JSON".into());
        one_of(&format, "ExportFormat", &["DYNAMODB_JSON", "ION"])?;
        if format == "ION" {
            return Err(validation(
                "ExportFormat ION is not supported by Seedbed (it has no Amazon Ion writer): use DYNAMODB_JSON",
            ));
        }
        let export_type = opt_str(body, "ExportType")?.unwrap_or("FULL_EXPORT".into());
        one_of(
            &export_type,
            "ExportType",
            &["FULL_EXPORT", "INCREMENTAL_EXPORT"],
        )?;
        if export_type == "INCREMENTAL_EXPORT" {
            return Err(validation(
                "Incremental exports are not supported by Seedbed: they need the table's change history, which it does not keep",
            ));
        }
        let sse = opt_str(body, "S3SseAlgorithm")?;
        if let Some(a) = &sse {
            one_of(a, "S3SseAlgorithm", &["AES256", "KMS"])?;
        }
        authorize(&[Check::new("dynamodb:ExportTableToPointInTime", &table_arn)])?;
        let table = self
            .tables
            .table(&table_arn)
            .ok()
            .filter(|_| table_arn.starts_with("arn:"))
            .ok_or_else(|| {
                dynamo(
                    ErrorKind::TableNotFound,
                    format!("Table not found: {table_arn}"),
                )
            })?;
        let Some(pitr_since) = table.def.pitr_since_ms else {
            return Err(dynamo(
                ErrorKind::PointInTimeRecoveryUnavailable,
                format!(
                    "Point in time recovery is not enabled for table '{}'",
                    table.def.name
                ),
            ));
        };
        let now = self.tables.now_unix_ms();
        if let Some(t) = body.get("ExportTime").filter(|v| !v.is_null()) {
            let ms = t
                .as_f64()
                .map(|s| {
                    // Whole milliseconds of a non-negative time; `as` saturates huge values.
                    #[allow(clippy::cast_possible_truncation)]
                    let ms = (s * 1000.0).max(0.0) as u64;
                    ms
                })
                .ok_or_else(|| {
                    WireError::Serialization("ExportTime: expected a timestamp".into())
                })?;
            if ms > now + NOW_TOLERANCE_MS {
                return Err(dynamo(
                    ErrorKind::InvalidExportTime,
                    "Export time cannot be in the future",
                ));
            }
            if ms + NOW_TOLERANCE_MS < now || ms < pitr_since.saturating_sub(NOW_TOLERANCE_MS) {
                return Err(dynamo(
                    ErrorKind::InvalidExportTime,
                    "Seedbed keeps no table history: it exports the table as it is now, so ExportTime must be now or left out",
                ));
            }
        }
        let record = ExportRecord {
            export_arn: format!(
                "{}/export/{}",
                table.def.arn(&self.tables.region, &self.tables.account),
                super::job_id(now)
            ),
            export_status: "IN_PROGRESS".into(),
            start_time: seconds(now),
            end_time: None,
            export_manifest: None,
            table_arn: table.def.arn(&self.tables.region, &self.tables.account),
            table_id: table.def.uuid.clone(),
            export_time: seconds(now),
            client_token: opt_str(body, "ClientToken")?,
            s3_bucket: bucket,
            s3_bucket_owner: opt_str(body, "S3BucketOwner")?
                .unwrap_or_else(|| self.tables.account.clone()),
            s3_prefix: opt_str(body, "S3Prefix")?,
            s3_sse_algorithm: sse,
            export_format: format,
            export_type,
            billed_size_bytes: None,
            item_count: None,
            failure_code: None,
            failure_message: None,
        };
        {
            let mut exports = lock(&self.exports);
            if let Some(earlier) = super::retried(&exports, &record)? {
                return Ok(json!({ "ExportDescription": earlier }));
            }
            self.save(&record).map_err(WireError::Dynamo)?;
            exports.insert(record.export_arn.clone(), record.clone());
        }
        let (me, job, name) = (self.clone(), record.clone(), table.def.name.clone());
        let caller = principal.unwrap_or(Principal::Anonymous);
        self.spawn("dynamodb-export", move || {
            me.run_export(job, &name, &caller)
        })
        .map_err(WireError::Dynamo)?;
        Ok(json!({ "ExportDescription": record }))
    }

    fn run_export(&self, mut job: ExportRecord, table: &str, caller: &Principal) {
        let now = |t: &Transfers| t.tables.now_unix_ms();
        match self.write_export(&job, table, caller) {
            Ok((items, billed, manifest)) => {
                job.export_status = "COMPLETED".into();
                job.item_count = Some(items);
                job.billed_size_bytes = Some(billed);
                job.export_manifest = Some(manifest);
                job.end_time = Some(seconds(now(self)));
            }
            Err(Stop::S3(code, message)) => job.fail(&code, &message, now(self)),
            Err(Stop::Table(e)) => job.fail("UNKNOWN", &e.message, now(self)),
        }
        if let Err(e) = self.save(&job) {
            log_warning(&format!(
                "cannot record the end of export {}: {e}",
                job.export_arn
            ));
        }
        lock(&self.exports).insert(job.export_arn.clone(), job);
    }

    /// Write the export's files; returns (items, their bytes, the summary manifest's key).
    fn write_export(
        &self,
        job: &ExportRecord,
        table: &str,
        caller: &Principal,
    ) -> Result<(u64, u64, String), Stop> {
        let s3 = As {
            objects: &self.objects,
            principal: caller,
        };
        let bucket = &job.s3_bucket;
        let base = job.base();
        // `S3SseAlgorithm: AES256` writes every file with SSE-S3; `KMS` is recorded only (the
        // store has no KMS), and the bucket's default encryption applies.
        let sse = (job.s3_sse_algorithm.as_deref() == Some("AES256")).then_some(SseRequest::S3);
        let put = |key: &str, body: &[u8]| {
            s3.put(bucket, key, body, sse.clone()).map_err(|e| {
                let (code, message) = s3_failure(&e);
                Stop::S3(code, message)
            })
        };
        put(&format!("{base}/_started"), b"")?;

        let mut manifest = String::new();
        let mut billed = 0u64;
        let mut file = GzipLines::default();
        let mut stopped: Option<Stop> = None;
        let flush = |file: GzipLines, manifest: &mut String| -> Result<(), Stop> {
            let items = file.items;
            let gz = file.finish();
            let key = format!("{base}/data/{}.json.gz", uuid::Uuid::now_v7().simple());
            let etag = put(&key, &gz)?;
            let line = json!({
                "itemCount": items,
                "md5Checksum": md5_base64(&gz),
                "etag": etag.trim_matches('"'),
                "dataFileS3Key": key,
            });
            manifest.push_str(&line.to_string());
            manifest.push('\n');
            Ok(())
        };
        let scanned = self.tables.scan_snapshot(table, |item| {
            billed += item_size(&item) as u64;
            file.push(&item);
            if file.bytes >= DATA_FILE_BYTES {
                if let Err(e) = flush(std::mem::take(&mut file), &mut manifest) {
                    stopped = Some(e);
                    return Err(DynamoError::new(ErrorKind::InternalServerError, "stopped"));
                }
            }
            Ok(())
        });
        if let Some(s) = stopped {
            return Err(s);
        }
        let items = scanned.map_err(Stop::Table)?;
        if file.items > 0 || manifest.is_empty() {
            flush(file, &mut manifest)?;
        }
        let files_key = format!("{base}/manifest-files.json");
        put(&files_key, manifest.as_bytes())?;
        put(
            &format!("{base}/manifest-files.md5"),
            md5_base64(manifest.as_bytes()).as_bytes(),
        )?;
        let summary = json!({
            "version": "2020-06-30",
            "exportArn": job.export_arn,
            "startTime": job.start_time,
            "endTime": seconds(self.tables.now_unix_ms()),
            "tableArn": job.table_arn,
            "tableId": job.table_id,
            "exportTime": job.export_time,
            "s3Bucket": job.s3_bucket,
            "s3Prefix": job.s3_prefix,
            "s3SseAlgorithm": job.s3_sse_algorithm,
            "s3SseKmsKeyId": null,
            "manifestFilesS3Key": files_key,
            "billedSizeBytes": billed,
            "itemCount": items,
            "outputFormat": job.export_format,
            "exportType": job.export_type,
        })
        .to_string();
        let summary_key = format!("{base}/manifest-summary.json");
        put(&summary_key, summary.as_bytes())?;
        put(
            &format!("{base}/manifest-summary.md5"),
            md5_base64(summary.as_bytes()).as_bytes(),
        )?;
        Ok((items, billed, summary_key))
    }
}
