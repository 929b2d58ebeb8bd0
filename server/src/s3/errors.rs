//! Engine errors as S3 error documents: the code the engine names, the HTTP status S3 uses, the
//! engine's message (which says what is wrong and where), and the request id.

use http::{HeaderValue, StatusCode};
use s3s::{S3Error, S3ErrorCode};
use seedbed_engine::object::ObjectError;

/// An S3 error with `code`, `status` and `message`.
pub fn s3_error(code: &str, status: u16, message: impl Into<String>) -> S3Error {
    let code = S3ErrorCode::from_bytes(code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut e = S3Error::with_message(code, message.into());
    e.set_status_code(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    e
}

/// S3's message for every failed precondition; which one failed goes in `<Condition>`.
const PRECONDITION_MESSAGE: &str = "At least one of the pre-conditions you specified did not hold";

/// Elements S3 puts in some error documents that s3s's `S3Error` cannot carry (it writes Code,
/// Message, Resource and RequestId): each travels in a response header of its own, never sent,
/// which `handle` (mod.rs) turns into the element. `Method` is the request's, which `handle`
/// adds wherever `ResourceType` is asked for.
pub const EXTRA_ELEMENTS: [(&str, &str); 10] = [
    ("x-seedbed-error-condition", "Condition"),
    ("x-seedbed-error-bucket-name", "BucketName"),
    ("x-seedbed-error-key", "Key"),
    ("x-seedbed-error-version-id", "VersionId"),
    ("x-seedbed-error-method", "Method"),
    ("x-seedbed-error-resource-type", "ResourceType"),
    ("x-seedbed-error-request-time", "RequestTime"),
    ("x-seedbed-error-server-time", "ServerTime"),
    ("x-seedbed-error-max-skew", "MaxAllowedTimeSkewMilliseconds"),
    ("x-seedbed-error-storage-class", "StorageClass"),
];

/// Ask for `<element>value</element>` in `err`'s document (an element of [`EXTRA_ELEMENTS`]).
pub fn with_element(err: S3Error, element: &str, value: &str) -> S3Error {
    let header = EXTRA_ELEMENTS.iter().find(|(_, e)| *e == element);
    match (header, HeaderValue::from_str(value)) {
        (Some((header, _)), Ok(v)) => with_header(err, header, v),
        _ => err,
    }
}

/// `err` with response header `name` set (the headers it has are kept).
///
/// s3s replaces *all* of an error response's headers with the error's own when it has any,
/// `Content-Type: application/xml` included; clients that read an error document only when it
/// says it is XML (minio-py: "non-XML response from server") then cannot see the error. So the
/// first header an error gets comes with the Content-Type its document needs.
fn with_header(mut err: S3Error, name: &'static str, value: HeaderValue) -> S3Error {
    let mut h = err.headers().cloned().unwrap_or_else(|| {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        h
    });
    h.insert(name, value);
    err.set_headers(h);
    err
}

/// The S3 error for an engine error. The errors every S3 client knows by heart are worded as
/// S3 words them, with what they concern in elements of their own (moto's AWS-verified tests
/// compare both): a failed precondition names its header in `<Condition>` (the engine's
/// explanation goes to the server's log); NoSuchBucket names `<BucketName>`; NoSuchKey
/// `<Key>`; NoSuchVersion `<Key>` and `<VersionId>`; a delete marker's MethodNotAllowed
/// `<Method>` and `<ResourceType>`. A 404 or 405 for a delete marker carries
/// `x-amz-delete-marker: true` and the marker's `x-amz-version-id`, as S3 sends them.
pub fn from_object(e: &ObjectError) -> S3Error {
    let message = e.to_string();
    // The engine's message starts with the code; the document has its own Code element.
    let message = message
        .split_once(": ")
        .map(|(_, m)| m.to_string())
        .unwrap_or(message);
    let s3 = |words: &str| s3_error(e.code(), e.http_status(), words);
    let mut err = match e {
        ObjectError::PreconditionFailed { condition, why } => {
            tracing::info!(condition = %condition, why = %why, "precondition failed");
            with_element(s3(PRECONDITION_MESSAGE), "Condition", condition)
        }
        ObjectError::NoSuchBucket(bucket) => with_element(
            s3("The specified bucket does not exist"),
            "BucketName",
            bucket,
        ),
        ObjectError::NoSuchKey { key, .. } => {
            with_element(s3("The specified key does not exist."), "Key", key)
        }
        ObjectError::NoSuchVersion {
            key, version_id, ..
        } => {
            let err = with_element(s3("The specified version does not exist."), "Key", key);
            with_element(err, "VersionId", version_id)
        }
        ObjectError::NoSuchCorsConfiguration(bucket) => with_element(
            s3("The CORS configuration does not exist"),
            "BucketName",
            bucket,
        ),
        ObjectError::ObjectLocked(why) => {
            tracing::info!(why = %why, "object lock");
            s3("Access Denied because object protected by object lock.")
        }
        ObjectError::InvalidObjectState { class, why } => {
            tracing::info!(why = %why, "archived object");
            with_element(
                s3("The operation is not valid for the object's storage class"),
                "StorageClass",
                class,
            )
        }
        ObjectError::RestoreAlreadyInProgress(why) => {
            tracing::info!(why = %why, "restore in progress");
            s3("Object restore is already in progress")
        }
        ObjectError::MethodNotAllowed { .. } => with_element(
            s3("The specified method is not allowed against this resource."),
            "ResourceType",
            "DeleteMarker",
        ),
        ObjectError::SpaceReserve { .. } | ObjectError::DeletesOnly { .. } => s3(&format!(
            "The store's disks are nearly full ({message}). Delete objects or free space on \
             its disks, then retry; `seedbed serve --space-reserve` sets the reserve"
        )),
        _ if e.is_too_few_disks() => s3(&format!(
            "Too many of the store's disks are missing or failing to write ({message}). \
             Bring them back or replace them (the server rebuilds a disk's shards once it is \
             mounted again and works, or a new disk is in its place; `seedbed object --store \
             DIR scrub` does it with the server stopped), then retry"
        )),
        _ if e.is_no_space() => s3(&format!(
            "The store is out of disk space ({message}). Delete objects or free space on its \
             disks, then retry: the store takes writes again by itself"
        )),
        _ => s3(&message),
    };
    // Whether the key's latest version (or the one named) is a delete marker, and its id.
    let marker = match e {
        ObjectError::NoSuchKey { delete_marker, .. } => Some(delete_marker.as_deref()),
        ObjectError::MethodNotAllowed { version_id, .. } => Some(Some(version_id.as_str())),
        _ => None,
    };
    if let Some(m) = marker {
        let flag = HeaderValue::from_static(if m.is_some() { "true" } else { "false" });
        err = with_header(err, "x-amz-delete-marker", flag);
        if let Some(v) = m.and_then(|v| HeaderValue::from_str(v).ok()) {
            err = with_header(err, "x-amz-version-id", v);
        }
        if matches!(e, ObjectError::MethodNotAllowed { .. }) {
            err = with_header(err, "allow", HeaderValue::from_static("DELETE"));
        }
    }
    if e.is_no_space() {
        tracing::warn!(error = %e, "disk full");
    } else if e.is_too_few_disks() {
        tracing::warn!(error = %e, "too many disks missing to write");
    } else if e.is_store_failure() || matches!(e, ObjectError::DataLoss { .. }) {
        tracing::error!(error = %e, "internal error");
    }
    err
}

/// InvalidArgument with a message.
pub fn invalid_argument(message: impl Into<String>) -> S3Error {
    s3_error("InvalidArgument", 400, message)
}

/// InvalidRequest with a message.
pub fn invalid_request(message: impl Into<String>) -> S3Error {
    s3_error("InvalidRequest", 400, message)
}

/// InternalError for a failure of the server itself (a task that panicked).
pub fn internal(message: impl Into<String>) -> S3Error {
    s3_error("InternalError", 500, message)
}
