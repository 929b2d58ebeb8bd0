//! One request/response exchange of DynamoDB's JSON protocol, without HTTP: the operation
//! from `X-Amz-Target`, the JSON body in, the status, JSON body and `x-amz-crc32` (CRC-32 of
//! the body bytes, which boto3 verifies) out.

use seedbed_engine::table::{DynamoError, ErrorKind, Request, Tables};

use crate::errors::WireError;
use crate::tree;
use crate::{parse, render};

/// A response, ready for the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status (200, 400, 500).
    pub status: u16,
    /// The JSON body.
    pub body: Vec<u8>,
    /// CRC-32 of `body`, for the `x-amz-crc32` header.
    pub crc32: u32,
    /// The operation (`GetItem`, …), or `""` when the target named none.
    pub operation: String,
    /// The error's short kind (`ValidationException`, …), when it failed.
    pub error: Option<String>,
}

impl Reply {
    pub(crate) fn new(status: u16, body: Vec<u8>, operation: &str, error: Option<String>) -> Reply {
        Reply {
            status,
            crc32: crc32fast::hash(&body),
            body,
            operation: operation.to_string(),
            error,
        }
    }

    pub(crate) fn error(e: &WireError, operation: &str) -> Reply {
        Reply::new(e.status(), e.body(), operation, Some(e.short_name()))
    }
}

/// Decides a parsed request before it runs (the server's IAM check).
pub type Authorize<'a> = &'a dyn Fn(&Request) -> Result<(), WireError>;

/// Parse a request: the operation named by `target` and its JSON `body`.
pub fn parse_request(target: Option<&str>, body: &[u8]) -> Result<Request, WireError> {
    let op = target
        .and_then(parse::operation_of)
        .ok_or(WireError::UnknownOperation)?;
    // No body, or a body that is not JSON: DynamoDB's SerializationException without a
    // message (dynalite's tests, checked against DynamoDB).
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(WireError::Serialization(String::new()));
    }
    let json = tree::from_slice(body).map_err(|_| WireError::Serialization(String::new()))?;
    parse::request_tree(op, &json)
}

/// Handle one request. `authorize` (if given) decides the parsed request before it runs; a
/// refusal is returned as is and nothing is read or written.
pub fn handle(
    tables: &Tables,
    target: Option<&str>,
    body: &[u8],
    authorize: Option<Authorize<'_>>,
) -> Reply {
    run(tables, target, body, authorize, false).unwrap_or_else(|| {
        // Not reached: only a memory-only run declines.
        let e = DynamoError::new(ErrorKind::InternalServerError, "Internal server error");
        Reply::error(&WireError::Dynamo(e), "")
    })
}

/// Handle one request if that needs no device read: a GetItem whose item is in the memtable
/// or the block cache (the LSM's `cache_only` read), or a request refused before it runs
/// (malformed, not allowed). `None` when it must be run with [`handle`] on a thread that
/// may block: any other operation, or a GetItem whose block is not cached. Nothing has been
/// read from the device or written then; `authorize` may have been called.
///
/// A server runs this on the thread that parsed the HTTP request, saving the hand-off to a
/// blocking thread and back — two thread switches, more than an in-memory GetItem costs.
pub fn handle_in_memory(
    tables: &Tables,
    target: Option<&str>,
    body: &[u8],
    authorize: Option<Authorize<'_>>,
) -> Option<Reply> {
    run(tables, target, body, authorize, true)
}

fn run(
    tables: &Tables,
    target: Option<&str>,
    body: &[u8],
    authorize: Option<Authorize<'_>>,
    memory_only: bool,
) -> Option<Reply> {
    let op = target
        .and_then(parse::operation_of)
        .unwrap_or("")
        .to_string();
    let mut req = match parse_request(target, body) {
        Ok(r) => r,
        Err(e) => return Some(Reply::error(&e, &op)),
    };
    if memory_only {
        match &mut req {
            Request::GetItem(g) => g.memory_only = true,
            _ => return None,
        }
    }
    if let Some(auth) = authorize {
        if let Err(e) = auth(&req) {
            return Some(Reply::error(&e, &op));
        }
    }
    // A table an import is creating is not the client's yet (`engine/src/table/creating.rs`).
    if let Err(e) = tables.check_created(&req) {
        return Some(Reply::error(&WireError::Dynamo(e), &op));
    }
    Some(match tables.execute(&req) {
        Ok(resp) => Reply::new(
            200,
            render::response(&req, &resp, &tables.region, &tables.account),
            &op,
            None,
        ),
        Err(e) if e.needs_device() => return None,
        Err(e) => Reply::error(&WireError::Dynamo(e), &op),
    })
}
