//! Server access logging: a bucket's configuration (PutBucketLogging), and S3's log record.
//!
//! A bucket with logging on names a *target bucket* and a key prefix; the server (which sees
//! every request) delivers records of that bucket's requests there, batched into objects named
//! `PREFIX` + `YYYY-mm-DD-HH-MM-SS-` + 16 hex digits, as S3 does. A delivery is written *as the
//! logging service* (`logging.s3.amazonaws.com`), so the target bucket's policy must let that
//! service put objects, as on S3 — the store checks it like any other write.
//!
//! One record is one line, S3's space-separated fields (`-` for a field with no value, quoted
//! where a field can hold spaces): bucket owner, bucket, `[time]`, remote IP, requester,
//! request id, operation (`REST.GET.OBJECT`), key, `"request URI"`, HTTP status, error code,
//! bytes sent, object size, total time (ms), turn-around time (ms), `"referer"`,
//! `"user agent"`, version id, host id, signature version, cipher suite, authentication type,
//! host header, TLS version, access point ARN, ACL required.

use serde::{Deserialize, Serialize};

use super::error::ObjectError;
use super::store::ObjectStore;

/// The service principal that writes access logs.
pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";

/// Where a bucket's access log goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfig {
    /// TargetBucket.
    pub target_bucket: String,
    /// TargetPrefix (may be empty).
    pub target_prefix: String,
    /// TargetObjectKeyFormat, if one was given (`None`: simple keys, and none is shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_format: Option<KeyFormat>,
}

/// How log objects are named (`TargetObjectKeyFormat`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyFormat {
    /// `PREFIX` + `YYYY-mm-DD-HH-MM-SS-` + unique.
    Simple,
    /// `PREFIX` + `ACCOUNT/REGION/BUCKET/YYYY/mm/DD/` + the simple name; the value is
    /// `PartitionDateSource` (`EventTime` or `DeliveryTime`: the date of the batch's first
    /// record, or of its delivery).
    Partitioned(String),
}

/// Where one batch of records goes: the key of its log object.
pub struct Destination<'a> {
    /// TargetPrefix.
    pub prefix: &'a str,
    /// The key format.
    pub format: Option<&'a KeyFormat>,
    /// The source bucket, its owner's account and the region (partitioned keys).
    pub source: (&'a str, &'a str, &'a str),
}

impl ObjectStore {
    /// PutBucketLogging: switch logging on (the target bucket must exist) or off (`None`).
    pub fn put_bucket_logging(
        &self,
        bucket: &str,
        config: Option<LoggingConfig>,
    ) -> Result<(), ObjectError> {
        if let Some(c) = &config {
            if self.bucket(&c.target_bucket).is_err() {
                return Err(ObjectError::InvalidTargetBucketForLogging(
                    "The target bucket for logging does not exist".into(),
                ));
            }
        }
        self.update_bucket(bucket, |b| {
            b.logging = config;
            Ok(())
        })
        .map(|_| ())
    }
}

/// One request, as an access log record tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogRecord {
    /// The bucket owner's canonical id.
    pub bucket_owner: String,
    /// The bucket.
    pub bucket: String,
    /// When the request arrived, Unix milliseconds.
    pub time_ms: u64,
    /// The client's address.
    pub remote_ip: String,
    /// The requester's ARN (`-` when anonymous).
    pub requester: String,
    /// The request id.
    pub request_id: String,
    /// The operation, `REST.GET.OBJECT` style.
    pub operation: String,
    /// The key (`-` for none).
    pub key: String,
    /// `METHOD /path?query HTTP/1.1`.
    pub request_uri: String,
    /// HTTP status; 0 for an action no request made (a lifecycle removal), whose status,
    /// request URI and times are written `-`.
    pub status: u16,
    /// Response bytes sent.
    pub bytes_sent: u64,
    /// Total time, milliseconds.
    pub total_ms: u64,
    /// Time to the first response byte, milliseconds.
    pub turnaround_ms: u64,
    /// `Referer`.
    pub referer: String,
    /// `User-Agent`.
    pub user_agent: String,
    /// `SigV4`, or empty for an unsigned request.
    pub signature: String,
    /// `Host`.
    pub host: String,
    /// The version the action concerns (`-` for none).
    pub version_id: String,
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn quoted(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        format!("\"{}\"", s.replace('"', "\\\""))
    }
}

/// `[06/Feb/2019:00:00:38 +0000]`.
fn log_time(ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, ss) = civil(ms / 1000);
    format!(
        "[{d:02}/{}/{y}:{hh:02}:{mm:02}:{ss:02} +0000]",
        MONTHS[(m - 1) as usize]
    )
}

/// UTC calendar fields of Unix seconds (Howard Hinnant's days-to-civil).
pub fn civil(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

impl LogRecord {
    /// The record as one line of S3's format (no newline).
    pub fn line(&self) -> String {
        let error_code = "-";
        let no_request = self.status == 0;
        let or_dash = |n: u64| {
            if no_request {
                "-".to_string()
            } else {
                n.to_string()
            }
        };
        format!(
            "{} {} {} {} {} {} {} {} {} {} {} {} - {} {} {} {} {} {} {} - {} {} - - -",
            dash(&self.bucket_owner),
            dash(&self.bucket),
            log_time(self.time_ms),
            dash(&self.remote_ip),
            dash(&self.requester),
            dash(&self.request_id),
            dash(&self.operation),
            dash(&self.key),
            quoted(&self.request_uri),
            or_dash(u64::from(self.status)),
            error_code,
            if self.bytes_sent == 0 {
                "-".to_string()
            } else {
                self.bytes_sent.to_string()
            },
            or_dash(self.total_ms),
            or_dash(self.turnaround_ms),
            quoted(&self.referer),
            quoted(&self.user_agent),
            dash(&self.version_id),
            dash(&self.request_id),
            dash(&self.signature),
            if self.signature.is_empty() {
                "-"
            } else {
                "AuthHeader"
            },
            dash(&self.host),
        )
    }
}

/// The key of a log object delivered at `ms` whose first record is from `event_ms`:
/// `PREFIX` + `YYYY-mm-DD-HH-MM-SS-` + `unique` (16 upper-case hex digits), partitioned by
/// account, region, bucket and date when the format says so.
pub fn log_object_key(to: &Destination<'_>, ms: u64, event_ms: u64, unique: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil(ms / 1000);
    let name = format!("{y:04}-{m:02}-{d:02}-{hh:02}-{mm:02}-{ss:02}-{unique:016X}");
    match to.format {
        Some(KeyFormat::Partitioned(source)) => {
            let (bucket, account, region) = to.source;
            let day = if source == "EventTime" { event_ms } else { ms };
            let (py, pm, pd, ..) = civil(day / 1000);
            format!(
                "{}{account}/{region}/{bucket}/{py:04}/{pm:02}/{pd:02}/{name}",
                to.prefix
            )
        }
        _ => format!("{}{name}", to.prefix),
    }
}

/// S3's operation name for a request: `REST.` + method + `.` + what it acts on.
pub fn rest_operation(method: &str, operation: &str, has_key: bool) -> String {
    let resource = match operation {
        "ListObjects" | "ListObjectsV2" | "CreateBucket" | "DeleteBucket" | "HeadBucket" => {
            "BUCKET".to_string()
        }
        "ListObjectVersions" => "BUCKETVERSIONS".into(),
        "ListBuckets" => "SERVICE".into(),
        "GetObject" | "PutObject" | "HeadObject" | "DeleteObject" | "CopyObject" => "OBJECT".into(),
        "CreateMultipartUpload" | "CompleteMultipartUpload" | "AbortMultipartUpload" => {
            "UPLOADS".into()
        }
        "UploadPart" | "UploadPartCopy" => "PART".into(),
        "RestoreObject" => "RESTORE".into(),
        "PutBucketLogging" | "GetBucketLogging" => "LOGGING_STATUS".into(),
        "PutBucketNotificationConfiguration" | "GetBucketNotificationConfiguration" => {
            "NOTIFICATION".into()
        }
        "" => {
            if has_key {
                "OBJECT".into()
            } else {
                "BUCKET".into()
            }
        }
        other => {
            // GetBucketAcl → ACL, PutObjectTagging → TAGGING, GetBucketPolicyStatus → POLICY_STATUS.
            let mut rest = other;
            for verb in ["Get", "Put", "Delete", "Head", "List", "Post", "Select"] {
                if let Some(r) = rest.strip_prefix(verb) {
                    rest = r;
                    break;
                }
            }
            for noun in ["Bucket", "Object"] {
                if let Some(r) = rest.strip_prefix(noun) {
                    if !r.is_empty() {
                        rest = r;
                    }
                }
            }
            let mut snake = String::new();
            for (i, c) in rest.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_uppercase());
            }
            snake
        }
    };
    format!("REST.{method}.{resource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_line_of_s3s_format() {
        let r = LogRecord {
            bucket_owner: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be".into(),
            bucket: "photos".into(),
            time_ms: 1_549_411_238_000,
            remote_ip: "192.0.2.3".into(),
            requester: "arn:aws:iam::123456789012:user/ann".into(),
            request_id: "3E57427F3EXAMPLE".into(),
            operation: rest_operation("GET", "GetObject", true),
            key: "cat.jpg".into(),
            request_uri: "GET /photos/cat.jpg HTTP/1.1".into(),
            status: 200,
            bytes_sent: 113,
            total_ms: 7,
            turnaround_ms: 3,
            user_agent: "aws-cli/2.0".into(),
            signature: "SigV4".into(),
            host: "127.0.0.1:9000".into(),
            ..LogRecord::default()
        };
        assert_eq!(
            r.line(),
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be photos [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/ann 3E57427F3EXAMPLE REST.GET.OBJECT cat.jpg \"GET /photos/cat.jpg HTTP/1.1\" 200 - 113 - 7 3 - \"aws-cli/2.0\" - 3E57427F3EXAMPLE SigV4 - AuthHeader 127.0.0.1:9000 - - -"
        );
        // A lifecycle removal: no request, so no address, URI, status or times; S3 itself is
        // the requester.
        let expired = LogRecord {
            bucket: "photos".into(),
            time_ms: 1_549_411_238_000,
            requester: "AmazonS3".into(),
            request_id: "3E57427F3EXAMPLE".into(),
            operation: "S3.EXPIRE.OBJECT".into(),
            key: "cat.jpg".into(),
            version_id: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd".into(),
            ..LogRecord::default()
        };
        assert_eq!(
            expired.line(),
            "- photos [06/Feb/2019:00:00:38 +0000] - AmazonS3 3E57427F3EXAMPLE S3.EXPIRE.OBJECT cat.jpg - - - - - - - - - 3HL4kqtJlcpXroDTDmjVBH40Nrjfkd 3E57427F3EXAMPLE - - - - - - -"
        );
        let simple = Destination {
            prefix: "logs/",
            format: None,
            source: ("photos", "123456789012", "us-east-1"),
        };
        assert_eq!(
            log_object_key(&simple, 1_549_411_238_000, 0, 0xAB),
            "logs/2019-02-06-00-00-38-00000000000000AB"
        );
        let by_event = KeyFormat::Partitioned("EventTime".into());
        let partitioned = Destination {
            format: Some(&by_event),
            ..simple
        };
        assert_eq!(
            log_object_key(&partitioned, 1_549_411_238_000, 1_549_324_800_000, 0xAB),
            "logs/123456789012/us-east-1/photos/2019/02/05/2019-02-06-00-00-38-00000000000000AB"
        );
        assert_eq!(rest_operation("GET", "GetBucketAcl", false), "REST.GET.ACL");
        assert_eq!(
            rest_operation("PUT", "PutObjectTagging", true),
            "REST.PUT.TAGGING"
        );
        assert_eq!(
            rest_operation("GET", "GetBucketPolicyStatus", false),
            "REST.GET.POLICY_STATUS"
        );
        assert_eq!(
            rest_operation("GET", "GetBucketNotificationConfiguration", false),
            "REST.GET.NOTIFICATION"
        );
    }
}
