//! Request metrics in Prometheus text, named after CloudWatch's S3 request metrics, and the
//! access log: one structured line per request.
//!
//! | CloudWatch (S3 request metrics) | Prometheus here | kind |
//! |---|---|---|
//! | AllRequests | `s3_all_requests_total` | counter |
//! | GetRequests / PutRequests / DeleteRequests / HeadRequests / PostRequests / ListRequests | `s3_get_requests_total`, ... | counters |
//! | 4xxErrors / 5xxErrors | `s3_4xx_errors_total` / `s3_5xx_errors_total` | counters |
//! | BytesDownloaded / BytesUploaded | `s3_bytes_downloaded_total` / `s3_bytes_uploaded_total` | counters |
//! | FirstByteLatency | `s3_first_byte_latency_seconds` | histogram |
//! | TotalRequestLatency | `s3_total_request_latency_seconds` | histogram |
//!
//! Every series is labelled `bucket` and `operation` (S3's operation name, `GetObject`, ...), as
//! CloudWatch filters them. The recorder is process-wide (the `metrics` facade has one); the
//! server serves its rendering at `GET /metrics` on its own address.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, seconds: 0.5 ms to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The process's Prometheus recorder (installed on first use).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("latency buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if some other recorder was installed first; nothing in this crate does.
        let _ = metrics::set_global_recorder(recorder);
        spawn_upkeep(handle.clone());
        handle
    })
}

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A recorder made by `build_recorder` keeps every histogram sample in a queue until
/// `run_upkeep` folds it into the buckets; only the exporter's own `install` runs that on a
/// timer, and `render` runs it on a scrape. A server nobody scrapes would grow by two samples
/// per request for ever (metrics-rs/metrics#467), so a small thread does it every few seconds.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: latency samples wait for a scrape");
    }
}

/// The text of `GET /metrics`.
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}

/// What one finished request contributes.
#[derive(Debug, Clone)]
pub struct RequestMetrics<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// S3 operation name (or `Unknown` when the request failed before routing).
    pub operation: &'a str,
    /// Bucket (empty for ListBuckets).
    pub bucket: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Request body bytes taken in.
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Until the response headers were ready.
    pub first_byte: Duration,
    /// Until the response body ended.
    pub total: Duration,
}

/// Record one request.
pub fn record(m: &RequestMetrics<'_>) {
    handle();
    let labels = [
        ("bucket", m.bucket.to_string()),
        ("operation", m.operation.to_string()),
    ];
    metrics::counter!("s3_all_requests_total", &labels).increment(1);
    let per_method = match m.method {
        "GET" if m.operation.starts_with("List") => "s3_list_requests_total",
        "GET" => "s3_get_requests_total",
        "PUT" => "s3_put_requests_total",
        "DELETE" => "s3_delete_requests_total",
        "HEAD" => "s3_head_requests_total",
        "POST" => "s3_post_requests_total",
        _ => "s3_other_requests_total",
    };
    metrics::counter!(per_method, &labels).increment(1);
    if (400..500).contains(&m.status) {
        metrics::counter!("s3_4xx_errors_total", &labels).increment(1);
    } else if m.status >= 500 {
        metrics::counter!("s3_5xx_errors_total", &labels).increment(1);
    }
    metrics::counter!("s3_bytes_uploaded_total", &labels).increment(m.bytes_in);
    metrics::counter!("s3_bytes_downloaded_total", &labels).increment(m.bytes_out);
    metrics::histogram!("s3_first_byte_latency_seconds", &labels)
        .record(m.first_byte.as_secs_f64());
    metrics::histogram!("s3_total_request_latency_seconds", &labels).record(m.total.as_secs_f64());
}
