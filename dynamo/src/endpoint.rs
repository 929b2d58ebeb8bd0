//! The DynamoDB endpoint's request processing, independent of the HTTP library: `POST /` with
//! `X-Amz-Target`, SigV4 for service `dynamodb`, the caller's principal through IAM (with
//! DynamoDB's condition keys), the operation, and the response headers DynamoDB sends
//! (`Content-Type: application/x-amz-json-1.0`, `x-amz-crc32`, `x-amzn-RequestId`). A server
//! hands each request's parts to [`Endpoint::handle`] on a blocking thread and writes back
//! what it returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use seedbed_engine::iam::authorizer::{Authorizer, Principal, Requester};
use seedbed_engine::table::{DynamoError, ErrorKind, Tables};

use crate::errors::WireError;
use crate::handler::{self, Reply};
use crate::transfer::{self, Transfers};
use seedbed_engine::table::auth::Check;
use seedbed_sigv4 as sigv4;

/// Who holds an access key: its secret and the principal it authenticates as.
pub trait Identities: Send + Sync {
    /// The secret of `access_key`, if the key is known.
    fn secret_of(&self, access_key: &str) -> Option<String>;
    /// The principal `access_key` authenticates as.
    fn principal_of(&self, access_key: &str) -> Option<Principal>;
    /// The session token a request signed with `access_key` must carry in
    /// `x-amz-security-token` (temporary credentials); `None` for a long-term key.
    fn session_token_of(&self, access_key: &str) -> Option<String>;
    /// A request signed with `access_key` for `service` in `region` was authenticated as
    /// `principal` (signature verified, session token and expiry checked): IAM's record of
    /// each key's last use. Identities that keep no such record ignore it.
    fn used(&self, access_key: &str, principal: &Principal, service: &str, region: &str) {
        let _ = (access_key, principal, service, region);
    }
    /// STS AssumeRole for the holder of `caller_access_key` (signature already verified): mint
    /// and record a session. Identities without a place to record one refuse.
    fn assume_role(
        &self,
        caller_access_key: &str,
        input: &crate::sts::AssumeRoleInput,
        now_unix_ms: u64,
    ) -> Result<crate::sts::AssumedRole, crate::sts::StsFailure> {
        let _ = (caller_access_key, input, now_unix_ms);
        Err(crate::sts::StsFailure::validation(
            "AssumeRole is not served by these identities",
        ))
    }
}

/// Authentication and authorization settings.
pub struct Security {
    /// Access keys and principals.
    pub identities: Arc<dyn Identities>,
    /// Policies.
    pub authorizer: Arc<RwLock<Authorizer>>,
}

/// One HTTP request's parts.
#[derive(Clone, Debug)]
pub struct HttpRequest<'a> {
    /// Method.
    pub method: &'a str,
    /// Path (`/`).
    pub path: &'a str,
    /// Raw query string (usually empty).
    pub query: &'a str,
    /// Headers as received (names in any case).
    pub headers: &'a [(String, String)],
    /// Body.
    pub body: &'a [u8],
}

impl<'a> HttpRequest<'a> {
    /// The request as the SigV4 verifier reads it.
    pub(crate) fn to_signed(&self) -> sigv4::verify::Request<'a> {
        sigv4::verify::Request {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            payload: sigv4::Payload::Body(self.body),
        }
    }
}

/// The response to write back.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The operation, for metrics (`""` if none).
    pub operation: String,
    /// The error kind, for metrics.
    pub error: Option<String>,
    /// Who made the request, for the access log: the principal's ARN once the signature was
    /// verified, `""` before (or on an endpoint without security).
    pub principal: String,
}

/// The DynamoDB endpoint over one [`Tables`].
pub struct Endpoint {
    /// The tables.
    pub tables: Arc<Tables>,
    /// `None`: every request is accepted unsigned and unchecked (a local development
    /// endpoint, like DynamoDB Local).
    pub security: Option<Security>,
    /// Imports and exports (`None`: no object store beside the tables, and the six
    /// operations answer that they are not available here).
    pub transfers: Option<Arc<Transfers>>,
    /// Whether the disks have room for a request that adds to the tables (`Request::adds`,
    /// and ImportTable): the server's space reserve (`engine/src/object/space.rs`). `Err(why)`
    /// refuses it, before anything is written, with 500 InternalServerError and `why` — what
    /// a full disk itself answers (DynamoDB has no error for it). `None`: never refused.
    pub room: Option<Room>,
    requests: AtomicU64,
}

/// See [`Endpoint::room`].
pub type Room = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

const JSON_1_0: &str = "application/x-amz-json-1.0";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Endpoint {
    /// An endpoint; `security` switches on SigV4 and IAM.
    pub fn new(tables: Arc<Tables>, security: Option<Security>) -> Self {
        Endpoint {
            tables,
            security,
            transfers: None,
            room: None,
            requests: AtomicU64::new(0),
        }
    }

    /// A request id in DynamoDB's shape: 52 characters of `[0-9A-Z]` (dynalite's tests, which
    /// check the shape against DynamoDB), unique for the process.
    fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        format!("{:020X}{n:032X}", std::process::id())
    }

    fn respond(&self, reply: Reply) -> HttpResponse {
        self.answer(JSON_1_0, reply)
    }

    /// A response with the headers every answer carries: its media type, the body's CRC-32
    /// (which SDKs verify) and a request id.
    fn answer(&self, content_type: &str, reply: Reply) -> HttpResponse {
        HttpResponse {
            status: reply.status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("x-amz-crc32".into(), reply.crc32.to_string()),
                ("x-amzn-requestid".into(), self.request_id()),
            ],
            body: reply.body,
            operation: reply.operation,
            error: reply.error,
            principal: String::new(),
        }
    }

    /// DynamoDB's answer to a request that is not a POST of JSON: 404 and a one-line page.
    fn not_found(&self, op: &str) -> HttpResponse {
        let body = b"<UnknownOperationException/>\n".to_vec();
        let error = Some("UnknownOperationException".into());
        self.answer(JSON_1_0, Reply::new(404, body, op, error))
    }

    fn error(&self, e: WireError, op: &str) -> HttpResponse {
        let body = e.body();
        self.respond(Reply {
            status: e.status(),
            crc32: crc32fast::hash(&body),
            body,
            operation: op.to_string(),
            error: Some(e.short_name()),
        })
    }

    /// Handle one request. `now_unix_secs` checks the signature's time.
    pub fn handle(&self, req: &HttpRequest<'_>, now_unix_secs: i64) -> HttpResponse {
        let target = header(req.headers, "x-amz-target");
        let op = target
            .and_then(crate::parse::operation_of)
            .unwrap_or("")
            .to_string();
        let mut out = self
            .handle_request(req, target, op, now_unix_secs, false)
            .unwrap_or_else(|| {
                // Not reached: only a memory-only run declines.
                let e = DynamoError::new(ErrorKind::InternalServerError, "Internal server error");
                self.error(WireError::Dynamo(e), "")
            });
        finish(req, &mut out);
        out
    }

    /// Answer `req` if that needs no device read and no wait: a GetItem found in memory
    /// ([`handler::handle_in_memory`]), or a request refused before it runs (bad signature,
    /// malformed, not allowed). `None`: run it with [`Endpoint::handle`] on a thread that may
    /// block. A server calls this on the thread that read the request.
    pub fn handle_in_memory(
        &self,
        req: &HttpRequest<'_>,
        now_unix_secs: i64,
    ) -> Option<HttpResponse> {
        // Every request comes here first: decline anything but a GetItem before allocating.
        let target = header(req.headers, "x-amz-target");
        if req.method != "POST" || target.and_then(crate::parse::operation_of) != Some("GetItem") {
            return None;
        }
        let mut out = self.handle_request(req, target, "GetItem".into(), now_unix_secs, true)?;
        finish(req, &mut out);
        Some(out)
    }

    /// The request's response; `None` only when `memory_only` and it needs the device.
    fn handle_request(
        &self,
        req: &HttpRequest<'_>,
        target: Option<&str>,
        op: String,
        now_unix_secs: i64,
        memory_only: bool,
    ) -> Option<HttpResponse> {
        if req.method == "GET" && req.path == "/" && target.is_none() {
            // DynamoDB answers a bare GET (load balancer health checks) with a line of text
            // naming the endpoint as the client reached it (ScyllaDB's Alternator
            // test_health_works, run against DynamoDB).
            let host = header(req.headers, "host").unwrap_or("127.0.0.1");
            let body = format!("healthy: {host}").into_bytes();
            return Some(self.answer("text/plain", Reply::new(200, body, "", None)));
        }
        if req.method == "OPTIONS" && header(req.headers, "origin").is_some() {
            // A browser's CORS preflight: answered (the headers by `cors`), not an operation.
            return Some(HttpResponse {
                status: 200,
                headers: vec![("x-amzn-requestid".into(), self.request_id())],
                body: Vec::new(),
                operation: String::new(),
                error: None,
                principal: String::new(),
            });
        }
        if req.method != "POST" {
            return Some(self.not_found(&op));
        }
        if target.is_none() {
            if let Some(action) =
                crate::sts::action_of(header(req.headers, "content-type"), req.body)
            {
                return Some(self.sts(req, &action, now_unix_secs));
            }
        }
        // DynamoDB's front end answers a body of another type with its 404 page, before any
        // signature is looked at.
        if json_media_type(req).is_none() {
            return Some(self.not_found(&op));
        }
        let Some(sec) = &self.security else {
            if op == "DescribeEndpoints" {
                return Some(self.respond(describe_endpoints(req)));
            }
            if transfer::handles(&op) {
                return Some(self.respond(self.transfer(&op, req.body, &|_| Ok(()), None)));
            }
            let reply = if memory_only {
                handler::handle_in_memory(&self.tables, target, req.body, None)?
            } else {
                handler::handle(&self.tables, target, req.body, None)
            };
            return Some(self.respond(reply));
        };
        let request = req.to_signed();
        let verified = match sigv4::verify(&request, "dynamodb", now_unix_secs, |k| {
            sec.identities.secret_of(k)
        }) {
            Ok(v) => v,
            Err(e) => {
                return Some(self.error(
                    before_signature(req, target).unwrap_or(signature_error(e)),
                    &op,
                ))
            }
        };
        let principal = match check_session(sec, &verified, req.headers, now_unix_secs) {
            Ok(p) => p,
            Err(Refusal::BadToken) => {
                return Some(self.error(WireError::UnrecognizedClient(BAD_TOKEN.into()), &op));
            }
            Err(Refusal::Expired) => {
                return Some(self.error(WireError::ExpiredToken(EXPIRED_TOKEN.into()), &op));
            }
        };
        let source_ip: Vec<&str> = header(req.headers, "x-forwarded-for").into_iter().collect();
        let context: Vec<(&str, &[&str])> = if source_ip.is_empty() {
            Vec::new()
        } else {
            vec![("aws:SourceIp", &source_ip)]
        };
        let authorize = |r: &seedbed_engine::table::Request| -> Result<(), WireError> {
            let auth = sec.authorizer.read().unwrap_or_else(|p| p.into_inner());
            let caller = Requester {
                principal: &principal,
                context: &context,
            };
            self.tables
                .authorize(&auth, &caller, None, r)
                .map_err(WireError::Dynamo)?;
            self.check_room(|| r.adds())
        };
        // Operations decided by IAM checks of their own (not a parsed table request).
        let decide = |checks: &[Check]| -> Result<(), WireError> {
            let auth = sec.authorizer.read().unwrap_or_else(|p| p.into_inner());
            let caller = Requester {
                principal: &principal,
                context: &context,
            };
            self.tables
                .authorize_checks(&auth, &caller, None, checks)
                .map_err(WireError::Dynamo)
        };
        let reply = if op == "DescribeEndpoints" {
            match decide(&[Check::new("dynamodb:DescribeEndpoints", "*")]) {
                Ok(()) => describe_endpoints(req),
                Err(e) => Reply::error(&e, &op),
            }
        } else if transfer::handles(&op) {
            let room = self.check_room(|| op == "ImportTable");
            match room {
                Err(e) => Reply::error(&e, &op),
                Ok(()) => self.transfer(&op, req.body, &decide, Some(principal.clone())),
            }
        } else if memory_only {
            handler::handle_in_memory(&self.tables, target, req.body, Some(&authorize))?
        } else {
            handler::handle(&self.tables, target, req.body, Some(&authorize))
        };
        let mut out = self.respond(reply);
        out.principal = principal.log_name();
        Some(out)
    }
}

impl Endpoint {
    /// Refuse a request that `adds` when [`Endpoint::room`] says there is no room. `adds` is
    /// asked only when there is a room check at all (it parses a PartiQL statement again).
    fn check_room(&self, adds: impl FnOnce() -> bool) -> Result<(), WireError> {
        match &self.room {
            Some(room) if adds() => room().map_err(|why| {
                WireError::Dynamo(seedbed_engine::table::DynamoError::new(
                    seedbed_engine::table::ErrorKind::InternalServerError,
                    why,
                ))
            }),
            _ => Ok(()),
        }
    }

    /// An import or export operation ([`transfer`]).
    fn transfer(
        &self,
        op: &str,
        body: &[u8],
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
        principal: Option<seedbed_engine::iam::authorizer::Principal>,
    ) -> Reply {
        let Some(t) = &self.transfers else {
            let e = WireError::Validation(format!(
                "{op} needs an object store beside the tables: `seedbed serve` has one, this endpoint does not"
            ));
            return Reply::error(&e, op);
        };
        let json: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
            serde_json::json!({})
        } else {
            match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => {
                    return Reply::error(
                        &WireError::Serialization(format!("Malformed JSON: {e}")),
                        op,
                    )
                }
            }
        };
        match t.handle(op, &json, authorize, principal) {
            Ok(v) => Reply::new(200, serde_json::to_vec(&v).unwrap_or_default(), op, None),
            Err(e) => Reply::error(&e, op),
        }
    }

    /// An STS query-protocol request ([`crate::sts::answer`]).
    fn sts(&self, req: &HttpRequest<'_>, action: &str, now_unix_secs: i64) -> HttpResponse {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{:016X}{n:016X}", std::process::id());
        crate::sts::answer(
            self.security.as_ref(),
            req,
            action,
            now_unix_secs,
            &request_id,
        )
    }
}

/// CORS, as DynamoDB answers browsers (ScyllaDB's Alternator test_cors.py, run against it): a
/// request with an `Origin` gets any origin allowed and the response headers a client reads
/// exposed; a preflight (OPTIONS) also gets the method and headers it asks for, and a max age.
/// Without `Origin` nothing is added.
/// The media type of a request's body when it is one DynamoDB takes (`application/json` or
/// `application/x-amz-json-1.0`, parameters after `;` ignored); a request without a body
/// needs none. `None`: another type, which DynamoDB answers with its 404 page.
fn json_media_type(req: &HttpRequest<'_>) -> Option<&'static str> {
    // No type and no body is taken, and answered as application/json, as DynamoDB does.
    let Some(ct) = header(req.headers, "content-type") else {
        return req.body.is_empty().then_some("application/json");
    };
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        Some("application/json")
    } else if media.eq_ignore_ascii_case("application/x-amz-json-1.0") {
        Some("application/x-amz-json-1.0")
    } else {
        None
    }
}

/// What DynamoDB reports before a bad or missing signature: a body that is not JSON, then a
/// target that names no operation (dynalite's tests, checked against DynamoDB). Checked only
/// once the signature has failed, so a signed request pays for no second parse; a signed one
/// meets the same errors when it is parsed.
fn before_signature(req: &HttpRequest<'_>, target: Option<&str>) -> Option<WireError> {
    if !req.body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(req.body).is_err() {
        return Some(WireError::Serialization(String::new()));
    }
    // An operation is known if it is served here: parsed as a table request (whatever else
    // is wrong with an empty one), or one of those served beside them.
    let known = target
        .and_then(crate::parse::operation_of)
        .is_some_and(|op| {
            op == "DescribeEndpoints"
                || transfer::handles(op)
                || !matches!(
                    handler::parse_request(target, b"{}"),
                    Err(WireError::UnknownOperation)
                )
        });
    (!known).then_some(WireError::UnknownOperation)
}

/// The last touches every answer gets: CORS headers for a browser, and the body's media type
/// as the request gave it (DynamoDB answers `application/json` to `application/json`).
fn finish(req: &HttpRequest<'_>, out: &mut HttpResponse) {
    cors(req, out);
    if json_media_type(req) == Some("application/json") {
        for (k, v) in out.headers.iter_mut() {
            if k == "content-type" && v == "application/x-amz-json-1.0" {
                *v = "application/json".into();
            }
        }
    }
}

fn cors(req: &HttpRequest<'_>, out: &mut HttpResponse) {
    if header(req.headers, "origin").is_none() {
        return;
    }
    out.headers
        .push(("access-control-allow-origin".into(), "*".into()));
    out.headers.push((
        "access-control-expose-headers".into(),
        "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,x-amz-crc32,Date".into(),
    ));
    if req.method == "OPTIONS" {
        out.headers
            .push(("access-control-max-age".into(), "172800".into()));
        for (asked, answer) in [
            (
                "access-control-request-method",
                "access-control-allow-methods",
            ),
            (
                "access-control-request-headers",
                "access-control-allow-headers",
            ),
        ] {
            if let Some(v) = header(req.headers, asked) {
                out.headers.push((answer.into(), v.to_string()));
            }
        }
    }
}

/// DescribeEndpoints: the one address this endpoint answers at, as the client reached it (its
/// Host header, without a scheme, as DynamoDB gives its regional name), cached for a day as
/// DynamoDB says. SDKs with endpoint discovery call it; so do ScyllaDB's Alternator tests.
fn describe_endpoints(req: &HttpRequest<'_>) -> Reply {
    let host = header(req.headers, "host").unwrap_or("127.0.0.1");
    let body = serde_json::json!({
        "Endpoints": [{"Address": host, "CachePeriodInMinutes": 1440}]
    });
    Reply::new(
        200,
        serde_json::to_vec(&body).unwrap_or_default(),
        "DescribeEndpoints",
        None,
    )
}

/// What AWS answers for temporary credentials sent without their token, or with another.
pub(crate) const BAD_TOKEN: &str = "The security token included in the request is invalid.";
/// ... and for ones past their expiry.
pub(crate) const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

/// Why a verified signature's key may still not be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Unknown now, or temporary credentials without their session token (or with another).
    BadToken,
    /// Temporary credentials past their expiry.
    Expired,
}

/// The principal behind a verified signature's key: temporary credentials must come with their
/// session token (`x-amz-security-token`) and be unexpired, and a long-term key must come
/// without one, as at AWS. A key that passes has been used ([`Identities::used`]).
pub(crate) fn check_session(
    sec: &Security,
    verified: &sigv4::verify::Authorization,
    headers: &[(String, String)],
    now_unix_secs: i64,
) -> Result<Principal, Refusal> {
    let access_key = verified.access_key.as_str();
    let principal = sec
        .identities
        .principal_of(access_key)
        .ok_or(Refusal::BadToken)?;
    let sent = header(headers, "x-amz-security-token");
    match sec.identities.session_token_of(access_key) {
        Some(token) if sent != Some(token.as_str()) => return Err(Refusal::BadToken),
        // A long-term key with a session token: AWS refuses the token rather than ignore it
        // (a client holding stale temporary credentials learns so at once).
        None if sent.is_some() => return Err(Refusal::BadToken),
        _ => {}
    }
    if let Principal::Session(s) = &principal {
        let now_ms = u64::try_from(now_unix_secs)
            .unwrap_or(0)
            .saturating_mul(1000);
        if now_ms >= s.expires_unix_ms {
            return Err(Refusal::Expired);
        }
    }
    sec.identities
        .used(access_key, &principal, &verified.service, &verified.region);
    Ok(principal)
}

/// A refused signature as DynamoDB words it (the table in [`seedbed_sigv4::verify`]).
fn signature_error(e: sigv4::SigError) -> WireError {
    use sigv4::SigError;
    let message = e.to_string();
    match e {
        SigError::Missing => WireError::MissingAuthenticationToken(message),
        SigError::Incomplete(_) => WireError::IncompleteSignature(message),
        SigError::UnknownKey(_) => WireError::UnrecognizedClient(message),
        SigError::Invalid(_)
        | SigError::Skewed(_)
        | SigError::PayloadMismatch
        | SigError::Mismatch => WireError::InvalidSignature(message),
    }
}
