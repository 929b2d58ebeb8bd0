//! The DynamoDB endpoint's Prometheus series, beside S3's on the same `/metrics` (one
//! process-wide recorder, [`crate::metrics::handle`]), named after CloudWatch's DynamoDB
//! metrics and labelled `operation` as CloudWatch's `Operation` dimension is.
//!
//! | CloudWatch (AWS/DynamoDB) | Prometheus here | kind |
//! |---|---|---|
//! | (SampleCount of SuccessfulRequestLatency, plus errors) | `dynamodb_requests_total` | counter |
//! | SuccessfulRequestLatency | `dynamodb_successful_request_latency_seconds` | histogram |
//! | UserErrors (HTTP 400) | `dynamodb_user_errors_total` | counter |
//! | SystemErrors (HTTP 5xx) | `dynamodb_system_errors_total` | counter |
//! | ConditionalCheckFailedRequests | `dynamodb_conditional_check_failed_requests_total` | counter |
//! | TransactionConflict (never: writes are serialised) | — | |
//! | ThrottledRequests (never: nothing is throttled) | — | |
//!
//! `dynamodb_errors_total{operation,error}` adds the error's type (`ValidationException`, …),
//! which CloudWatch does not break down. The table is not a label: a batch or a transaction
//! spans several, and an error may name none.

use std::time::Duration;

/// What one finished request contributes.
#[derive(Clone, Debug)]
pub struct Outcome<'a> {
    /// DynamoDB's operation name (`Unknown` when the target named none).
    pub operation: &'a str,
    /// HTTP status.
    pub status: u16,
    /// The error's short type, when it failed.
    pub error: Option<&'a str>,
    /// From the request's headers to its response.
    pub elapsed: Duration,
}

/// Record one request.
pub fn record(o: &Outcome<'_>) {
    crate::metrics::handle();
    let labels = [("operation", o.operation.to_string())];
    metrics::counter!("dynamodb_requests_total", &labels).increment(1);
    match o.error {
        None => metrics::histogram!("dynamodb_successful_request_latency_seconds", &labels)
            .record(o.elapsed.as_secs_f64()),
        Some(e) => {
            if o.status >= 500 {
                metrics::counter!("dynamodb_system_errors_total", &labels).increment(1);
            } else {
                metrics::counter!("dynamodb_user_errors_total", &labels).increment(1);
            }
            if e == "ConditionalCheckFailedException" {
                metrics::counter!("dynamodb_conditional_check_failed_requests_total", &labels)
                    .increment(1);
            }
            let with_error = [
                ("operation", o.operation.to_string()),
                ("error", e.to_string()),
            ];
            metrics::counter!("dynamodb_errors_total", &with_error).increment(1);
        }
    }
}
