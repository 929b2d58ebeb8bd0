//! Engine errors as S3 error documents: the code the engine names, the HTTP status S3 uses, the
//! engine's message (which says what is wrong and where), and the request id.

use http::{HeaderMap, HeaderValue, StatusCode};
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
/// which `handle` (mod.rs) turns into the element.
pub const EXTRA_ELEMENTS: [(&str, &str); 2] = [
    ("x-seedbed-error-condition", "Condition"),
    ("x-seedbed-error-bucket-name", "BucketName"),
];

/// Ask for `<element>value</element>` in `err`'s document (an element of [`EXTRA_ELEMENTS`]).
pub fn with_element(mut err: S3Error, element: &str, value: &str) -> S3Error {
    let header = EXTRA_ELEMENTS.iter().find(|(_, e)| *e == element);
    if let (Some((header, _)), Ok(v)) = (header, HeaderValue::from_str(value)) {
        let mut h = err.headers().cloned().unwrap_or_default();
        h.insert(*header, v);
        err.set_headers(h);
    }
    err
}

/// The S3 error for an engine error. A 404 or 405 for a delete marker carries
/// `x-amz-delete-marker: true`, as S3 sends it. A failed precondition is worded as S3 words it
/// (moto's AWS-verified conditional tests): the header that failed as `<Condition>`, the
/// engine's explanation only in the server's log.
pub fn from_object(e: &ObjectError) -> S3Error {
    let message = e.to_string();
    // The engine's message starts with the code; the document has its own Code element.
    let message = message
        .split_once(": ")
        .map(|(_, m)| m.to_string())
        .unwrap_or(message);
    if let ObjectError::PreconditionFailed { condition, why } = e {
        tracing::info!(condition = %condition, why = %why, "precondition failed");
        let err = s3_error(e.code(), e.http_status(), PRECONDITION_MESSAGE);
        return with_element(err, "Condition", condition);
    }
    let mut err = s3_error(e.code(), e.http_status(), message);
    if let ObjectError::NoSuchBucket(bucket) = e {
        err = with_element(err, "BucketName", bucket);
    }
    // Whether the key's latest version is a delete marker, as S3 tells it on a 404 or 405.
    let marker = match e {
        ObjectError::NoSuchKey { delete_marker, .. } => Some(*delete_marker),
        ObjectError::MethodNotAllowed { .. } => Some(true),
        _ => None,
    };
    if let Some(m) = marker {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-delete-marker",
            HeaderValue::from_static(if m { "true" } else { "false" }),
        );
        if matches!(e, ObjectError::MethodNotAllowed { .. }) {
            h.insert("allow", HeaderValue::from_static("DELETE"));
        }
        err.set_headers(h);
    }
    if e.is_store_failure() || matches!(e, ObjectError::DataLoss { .. }) {
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
