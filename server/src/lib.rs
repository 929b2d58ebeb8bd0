//! # seedbed-server
//!
//! Seedbed over HTTP: real clients (aws cli, boto3, rclone, s3cmd, load generators, public
//! conformance suites) against the engine's object store, with the engine's IAM deciding every
//! request. tokio and hyper live only here; the engine stays synchronous and is called from
//! blocking threads.
//!
//! | module | what it is |
//! |---|---|
//! | [`config`] | where a server listens, its store and IAM file, client limits |
//! | [`identity`] | the IAM file, access keys, principals — protocol-neutral, shared by every endpoint |
//! | [`http`] | the HTTP/1.1 listener: connection cap, header deadline, graceful stop |
//! | [`s3`] | the S3 endpoint (s3s for the protocol, the object store underneath) |
//! | [`dynamodb`] | the DynamoDB endpoint (`seedbed-dynamo` for the protocol, the table store underneath), and STS's AssumeRole recorded in the IAM file |
//! | [`metrics`] | Prometheus text named after CloudWatch's S3 request metrics |
//! | [`logging`] | the access log: one structured line per request |
//! | [`serve`] | `seedbed serve`: start every listener, stop on Ctrl-C / SIGTERM |
//! | [`disks`] | the store's disks while it serves: a lost one said, a returning one rebuilt (scrub) |
//! | [`bench`] | `seedbed bench s3`: a warp-like load generator over SigV4 |
//!
//! Adding a protocol (the DynamoDB endpoint): a module beside [`s3`] that turns requests into
//! engine calls, a listener started in [`serve::Server::start`], and identities from
//! [`identity::IdentityStore`] (`credential(access_key)` gives the secret to check the SigV4
//! signature with [`seedbed_sigv4::verify`], and the principal to ask IAM with). SigV4 itself,
//! signing and checking, is the `seedbed-sigv4` crate, shared with the DynamoDB endpoint and
//! the load generators.

// Nothing here needs unsafe: the engine owns every raw I/O path.
#![forbid(unsafe_code)]

pub mod bench;
pub mod config;
pub mod disks;
pub mod dynamodb;
pub mod http;
pub mod iam_api;
pub mod identity;
pub mod logging;
pub mod metrics;
pub mod s3;
pub mod serve;

pub use config::{Limits, ServeConfig};
pub use serve::Server;
