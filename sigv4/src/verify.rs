//! The server's side: parse a request's `Authorization` header, rebuild the canonical request
//! from what arrived, and compare signatures — in the order AWS checks, with AWS's messages, so
//! a client sees on Seedbed the error it would see on AWS.
//!
//! | what is wrong | [`SigError`] | DynamoDB's `__type` |
//! |---|---|---|
//! | no `Authorization` header | `Missing` | MissingAuthenticationToken |
//! | not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, or no `X-Amz-Date` | `Incomplete` | IncompleteSignature |
//! | a scope that is not `KEY/DATE/REGION/SERVICE/aws4_request`, the wrong service, a date that is not the request's, `host` not signed | `Invalid` | InvalidSignature |
//! | more than 15 minutes from the server's clock | `Skewed` | InvalidSignature |
//! | an access key nobody has | `UnknownKey` | UnrecognizedClient |
//! | `x-amz-content-sha256` is not the body's hash | `PayloadMismatch` | InvalidSignature |
//! | any other difference (secret, body, a header, the path) | `Mismatch` | InvalidSignature |

use crate::canonical::{scope, string_to_sign, CanonicalInput};
use crate::date::{format_amz_date, parse_amz_date};
use crate::encode::{percent_decode, query_pairs, uri_encode};
use crate::key::{signature, signing_key_cached};
use crate::{sha256_hex, ALGORITHM, UNSIGNED_PAYLOAD};

/// Largest accepted difference between a request's `X-Amz-Date` and the server's clock, as AWS
/// allows.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Access key ID.
    pub access_key: String,
    /// `YYYYMMDD` of the scope.
    pub date: String,
    /// Region of the scope.
    pub region: String,
    /// Service of the scope.
    pub service: String,
    /// Signed header names, as listed (lower-case, sorted, when the client follows the spec).
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Why a signature was refused. The messages are AWS's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// No `Authorization` header at all.
    #[error("Request is missing Authentication Token")]
    Missing,
    /// The header is not a complete SigV4 header, or the request has no `X-Amz-Date`.
    #[error("{0}")]
    Incomplete(String),
    /// Complete but wrong: the scope, the service, the date, or `host` not signed.
    #[error("{0}")]
    Invalid(String),
    /// The request's time is more than [`MAX_SKEW_SECS`] from the server's.
    #[error("{0}")]
    Skewed(String),
    /// No such access key.
    #[error("The security token included in the request is invalid.")]
    UnknownKey(String),
    /// The `x-amz-content-sha256` header is not the hash of the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadMismatch,
    /// The signature is not the one the secret gives for this request.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    Mismatch,
}

/// Parse an `Authorization` header value. The error lists every part that is missing, as AWS's
/// message does.
pub fn parse_authorization(value: &str) -> Result<Authorization, SigError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .unwrap_or("");
    let (mut credential, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed = Some(v),
                "Signature" => sig = Some(v),
                _ => {}
            }
        }
    }
    let (Some(credential), Some(signed), Some(sig)) = (credential, signed, sig) else {
        let mut why = String::new();
        for (name, present) in [
            ("Credential", credential.is_some()),
            ("Signature", sig.is_some()),
            ("SignedHeaders", signed.is_some()),
        ] {
            if !present {
                why.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        why.push_str(&format!("Authorization={value}"));
        return Err(SigError::Incomplete(why));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(SigError::Invalid(format!(
            "Credential should be scoped to a valid region. Credential={credential}"
        )));
    };
    Ok(Authorization {
        access_key: key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed.split(';').map(str::to_ascii_lowercase).collect(),
        signature: sig.to_string(),
    })
}

/// What the signature's payload hash is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// The whole body, in hand: its SHA-256 is what the client must have signed. An
    /// `x-amz-content-sha256` header, if sent, must be that hash ([`UNSIGNED_PAYLOAD`] is not
    /// accepted: the body would not be covered).
    Body(&'a [u8]),
    /// A payload hash the caller vouches for (a streaming body checked as it arrives).
    Hash(&'a str),
}

/// A request as it arrived, for [`verify`].
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as sent (URI-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Every header of the request (names in any case); only the signed ones are used.
    pub headers: &'a [(String, String)],
    /// The body, or the hash to check it by.
    pub payload: Payload<'a>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Compare without an early exit, so the time taken tells nothing about where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verify a request signed in its headers for `service`, at server time `now_unix_secs`.
/// `secret_of` looks up an access key's secret. Returns the parsed authorization.
pub fn verify(
    req: &Request<'_>,
    service: &str,
    now_unix_secs: i64,
    secret_of: impl FnOnce(&str) -> Option<String>,
) -> Result<Authorization, SigError> {
    let auth = parse_authorization(header(req.headers, "authorization").ok_or(SigError::Missing)?)?;
    if auth.service != service {
        return Err(SigError::Invalid(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    let amz_date = header(req.headers, "x-amz-date").ok_or_else(|| {
        SigError::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    let t = parse_amz_date(amz_date)
        .ok_or_else(|| SigError::Invalid(format!("Invalid X-Amz-Date: {amz_date}")))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(SigError::Invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP"
                .into(),
        ));
    }
    if t < now_unix_secs - MAX_SKEW_SECS {
        return Err(SigError::Skewed(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now_unix_secs - MAX_SKEW_SECS),
            format_amz_date(now_unix_secs)
        )));
    }
    if t > now_unix_secs + MAX_SKEW_SECS {
        return Err(SigError::Skewed(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now_unix_secs + MAX_SKEW_SECS),
            format_amz_date(now_unix_secs)
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::Invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let secret =
        secret_of(&auth.access_key).ok_or_else(|| SigError::UnknownKey(auth.access_key.clone()))?;

    let payload_hash = match req.payload {
        Payload::Hash(h) => h.to_string(),
        Payload::Body(body) => {
            let computed = sha256_hex(body);
            match header(req.headers, "x-amz-content-sha256") {
                Some(sent) if sent == UNSIGNED_PAYLOAD || !sent.eq_ignore_ascii_case(&computed) => {
                    return Err(SigError::PayloadMismatch)
                }
                // As sent: the client signed the header's spelling of the hash.
                Some(sent) => sent.to_string(),
                None => computed,
            }
        }
    };
    let signed: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| {
            auth.signed_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(n))
        })
        .cloned()
        .collect();
    let path = uri_encode(&percent_decode(req.path), true);
    let query = query_pairs(req.query);
    let input = CanonicalInput {
        method: req.method,
        path: &path,
        query: &query,
        headers: &signed,
        payload_hash: &payload_hash,
    };
    // A header listed as signed but not sent drops out of the list here, so the signature
    // cannot match: refused as a mismatch, as AWS does.
    let sts = string_to_sign(
        amz_date,
        &scope(&auth.date, &auth.region, &auth.service),
        &input.canonical_request(),
    );
    let key = signing_key_cached(&secret, &auth.date, &auth.region, &auth.service);
    if !constant_time_eq(signature(&key, &sts).as_bytes(), auth.signature.as_bytes()) {
        return Err(SigError::Mismatch);
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signer;

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"TableName":"t"}"#;

    fn signed(secret: &str, body: &[u8], at: i64) -> Vec<(String, String)> {
        let mut headers = vec![
            ("Host".to_string(), "127.0.0.1:8000".to_string()),
            (
                "X-Amz-Target".to_string(),
                "DynamoDB_20120810.GetItem".to_string(),
            ),
        ];
        let (date, auth) = Signer::new("AKIDTEST", secret, "us-east-1", "dynamodb")
            .sign("POST", "/", &headers, body, at);
        headers.push(("X-Amz-Date".into(), date));
        headers.push(("Authorization".into(), auth));
        // Not signed: changing it changes nothing.
        headers.push(("User-Agent".into(), "test".into()));
        headers
    }

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        now: i64,
    ) -> Result<Authorization, SigError> {
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers,
            payload: Payload::Body(body),
        };
        verify(&req, "dynamodb", now, |k| {
            (k == "AKIDTEST").then(|| "s3cret".to_string())
        })
    }

    #[test]
    fn a_signed_request_passes() {
        let a = check(&signed("s3cret", BODY, NOW), BODY, NOW).expect("a good signature");
        assert_eq!(
            (a.access_key.as_str(), a.service.as_str()),
            ("AKIDTEST", "dynamodb")
        );
        assert_eq!(a.signed_headers, ["host", "x-amz-date", "x-amz-target"]);
        // Within the skew either way.
        check(&signed("s3cret", BODY, NOW - 899), BODY, NOW).expect("899 s early");
        check(&signed("s3cret", BODY, NOW + 899), BODY, NOW).expect("899 s late");
    }

    #[test]
    fn every_refusal() {
        let h = signed("s3cret", BODY, NOW);
        assert_eq!(
            check(&h, b"{}", NOW),
            Err(SigError::Mismatch),
            "a changed body"
        );
        assert_eq!(
            check(&signed("other", BODY, NOW), BODY, NOW),
            Err(SigError::Mismatch),
            "the wrong secret"
        );
        let mut changed = h.clone();
        changed[1].1 = "DynamoDB_20120810.DeleteTable".into();
        assert_eq!(
            check(&changed, BODY, NOW),
            Err(SigError::Mismatch),
            "a signed header changed"
        );
        assert!(matches!(
            check(&h, BODY, NOW + 3600),
            Err(SigError::Skewed(m)) if m.starts_with("Signature expired: ")
        ));
        assert!(matches!(
            check(&h, BODY, NOW - 3600),
            Err(SigError::Skewed(m)) if m.starts_with("Signature not yet current: ")
        ));
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &h,
            payload: Payload::Body(BODY),
        };
        assert_eq!(
            verify(&req, "dynamodb", NOW, |_| None),
            Err(SigError::UnknownKey("AKIDTEST".into()))
        );
        assert!(matches!(
            verify(&req, "s3", NOW, |_| None),
            Err(SigError::Invalid(m)) if m.contains("'s3'")
        ));
        assert_eq!(check(&h[..2], BODY, NOW), Err(SigError::Missing));
        let mut no_date = h.clone();
        no_date.remove(2);
        assert!(matches!(
            check(&no_date, BODY, NOW),
            Err(SigError::Incomplete(_))
        ));
        let mut with_hash = h.clone();
        with_hash.push(("x-amz-content-sha256".into(), sha256_hex(b"{}")));
        assert_eq!(check(&with_hash, BODY, NOW), Err(SigError::PayloadMismatch));
        with_hash.last_mut().expect("pushed").1 = UNSIGNED_PAYLOAD.into();
        assert_eq!(check(&with_hash, BODY, NOW), Err(SigError::PayloadMismatch));
        with_hash.last_mut().expect("pushed").1 = sha256_hex(BODY);
        assert!(
            check(&with_hash, BODY, NOW).is_ok(),
            "an unsigned header equal to the body's hash"
        );
    }

    #[test]
    fn malformed_headers_name_what_is_missing() {
        let e =
            parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request").unwrap_err();
        let SigError::Incomplete(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.contains("'Signature'")
                && m.contains("'SignedHeaders'")
                && !m.contains("'Credential'"),
            "{m}"
        );
        assert!(matches!(
            parse_authorization("Basic dXNlcjpwYXNz"),
            Err(SigError::Incomplete(_))
        ));
        assert!(matches!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=0"),
            Err(SigError::Invalid(_))
        ));
        assert!(matches!(
            parse_authorization(
                "AWS4-HMAC-SHA256Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=0"
            ),
            Err(SigError::Incomplete(_))
        ));
    }
}
