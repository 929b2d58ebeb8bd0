//! `seedbed bench s3`: load against an S3 endpoint, and the protocol's cost on one store.
//!
//! - [`client`] — one keep-alive connection, SigV4-signed requests (no SDK);
//! - [`workload`] — the warp-like generator: PUT, GET, mixed and LIST cells, time-bounded,
//!   latency percentiles and time to first byte;
//! - [`compare`] — the same GETs in-process and over HTTP on one store, alternating rounds.

pub mod client;
pub mod compare;
pub mod workload;
