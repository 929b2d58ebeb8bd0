//! # seedbed-dynamo
//!
//! DynamoDB's JSON protocol (`application/x-amz-json-1.0`, `X-Amz-Target:
//! DynamoDB_20120810.<Operation>`) on Seedbed's table API, as pure functions: request JSON in,
//! response JSON or DynamoDB's error out. No sockets here — the server crate carries bytes to
//! and from [`handler::handle`], tests and benchmarks call it in-process.
//!
//! * [`wire`] — attribute values in DynamoDB's JSON form;
//! * [`document`] — plain JSON documents as items (the CLI's form);
//! * [`tree`] — request bodies read into a borrowed JSON tree (cheaper than `Value`);
//! * [`shape`] — the operations' input shapes, and the first phase of a request: the body
//!   read against them, DynamoDB's `SerializationException` for a value of the wrong kind;
//! * [`constraint`] — the second phase: every constraint of the model the body breaks, at once;
//! * [`parse`] — request JSON into [`seedbed_engine::table::Request`];
//! * [`render`] — [`seedbed_engine::table::Response`] into response JSON bytes;
//! * [`errors`] — errors as DynamoDB words and types them;
//! * [`handler`] — the whole exchange, with the `x-amz-crc32` checksum;
//! * [`endpoint`] — the endpoint's request processing (SigV4, IAM, headers) for any HTTP server;
//! * [`transfer`] — ImportTable and ExportTableToPointInTime, between the tables and the
//!   server's object store;
//!
//! Signatures (SigV4 for service `dynamodb`) are checked with [`seedbed_sigv4`], the one
//! implementation the endpoints and load generators share.

#![warn(missing_docs)]
// Nothing here needs unsafe: the engine owns every raw I/O path.
#![forbid(unsafe_code)]
// DynamoDB's wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

pub mod constraint;
pub mod document;
pub mod endpoint;
pub mod errors;
pub mod handler;
pub mod parse;
pub mod render;
pub mod shape;
pub mod sts;
pub mod transfer;
pub mod tree;
pub mod wire;
