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

/// A response header, never sent, that asks `handle` (mod.rs) to add S3's `<Condition>`
/// element to the error document: s3s writes only Code, Message, Resource and RequestId.
pub const CONDITION_HEADER: &str = "x-seedbed-error-condition";

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
    if let ObjectError::PreconditionFailed(why) = e {
        tracing::info!(why = %why, "precondition failed");
        let mut err = s3_error(e.code(), e.http_status(), PRECONDITION_MESSAGE);
        let condition = why.split_once(':').map(|(c, _)| c.trim());
        if let Some(v) = condition.and_then(|c| HeaderValue::from_str(c).ok()) {
            let mut h = HeaderMap::new();
            h.insert(CONDITION_HEADER, v);
            err.set_headers(h);
        }
        return err;
    }
    let mut err = s3_error(e.code(), e.http_status(), message);
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
