//! Checking a SigV4 `Authorization` header, for a protocol endpoint that has the request's
//! method, path, query, headers and body hash in hand (the DynamoDB endpoint signs the body
//! hash of a small JSON document). The S3 endpoint uses s3s's checks instead, which also cover
//! presigned URLs and streaming bodies.
//!
//! Errors carry AWS's codes: `IncompleteSignature` (a malformed header),
//! `InvalidClientTokenId` / `InvalidAccessKeyId` (unknown key), `SignatureDoesNotMatch`,
//! `RequestTimeTooSkewed` (more than 15 minutes off, as AWS allows).

use subtle_eq::constant_time_eq;

use super::{scope, signature, signing_key, string_to_sign, CanonicalInput, ALGORITHM};

/// Largest allowed distance between the request's `x-amz-date` and the server's clock.
pub const MAX_SKEW_S: i64 = 15 * 60;

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
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
    /// Signed header names, lower-case.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The header is not a well-formed SigV4 header.
    #[error("IncompleteSignature: {0}")]
    Incomplete(String),
    /// No such access key.
    #[error("InvalidAccessKeyId: the access key {0} does not exist")]
    UnknownKey(String),
    /// The signature is not the one the secret gives.
    #[error("SignatureDoesNotMatch: the request signature we calculated does not match the signature you provided")]
    Mismatch,
    /// The request's time is too far from the server's.
    #[error("RequestTimeTooSkewed: the difference between the request time and the current time is too large")]
    Skewed,
}

impl SigError {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            SigError::Incomplete(_) => "IncompleteSignature",
            SigError::UnknownKey(_) => "InvalidAccessKeyId",
            SigError::Mismatch => "SignatureDoesNotMatch",
            SigError::Skewed => "RequestTimeTooSkewed",
        }
    }
}

mod subtle_eq {
    /// Compare without an early exit, so timing tells nothing about where they differ.
    pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Parse an Authorization header value.
pub fn parse_authorization(value: &str) -> Result<Authorization, SigError> {
    let bad = |why: &str| SigError::Incomplete(why.to_string());
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| bad("the Authorization header must start with AWS4-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("expected Key=Value pairs"))?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| bad("Credential is missing"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(bad(
            "Credential must be KEY/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    };
    Ok(Authorization {
        access_key: key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed
            .ok_or_else(|| bad("SignedHeaders is missing"))?
            .split(';')
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        signature: sig.ok_or_else(|| bad("Signature is missing"))?.to_string(),
    })
}

/// Unix seconds of an `x-amz-date` value.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Verify a request signed in headers. `headers` are all the request's headers (lower-case
/// names); only the signed ones are used. `secret_of` looks up an access key's secret.
/// Returns the parsed authorization on success.
pub fn verify(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    payload_hash: &str,
    now_unix_s: i64,
    secret_of: impl FnOnce(&str) -> Option<String>,
) -> Result<Authorization, SigError> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let auth = parse_authorization(
        header("authorization")
            .ok_or_else(|| SigError::Incomplete("no Authorization header".into()))?,
    )?;
    let amz_date = header("x-amz-date")
        .ok_or_else(|| SigError::Incomplete("the x-amz-date header is missing".into()))?;
    let t = parse_amz_date(amz_date).ok_or_else(|| {
        SigError::Incomplete(format!("x-amz-date '{amz_date}' is not YYYYMMDDTHHMMSSZ"))
    })?;
    if !amz_date.starts_with(&auth.date) {
        return Err(SigError::Incomplete(
            "the credential's date is not the date of x-amz-date".into(),
        ));
    }
    if (now_unix_s - t).abs() > MAX_SKEW_S {
        return Err(SigError::Skewed);
    }
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| {
            auth.signed_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(n))
        })
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::Incomplete("host must be a signed header".into()));
    }
    let secret =
        secret_of(&auth.access_key).ok_or_else(|| SigError::UnknownKey(auth.access_key.clone()))?;
    let input = CanonicalInput {
        method,
        path,
        query,
        headers: &signed,
        payload_hash,
    };
    let sts = string_to_sign(
        amz_date,
        &scope(&auth.date, &auth.region, &auth.service),
        &input.canonical_request(),
    );
    let want = signature(
        &signing_key(&secret, &auth.date, &auth.region, &auth.service),
        &sts,
    );
    if !constant_time_eq(want.as_bytes(), auth.signature.as_bytes()) {
        return Err(SigError::Mismatch);
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::super::{amz_date, sha256_hex, Signer};
    use super::*;

    fn signed(now: i64, secret: &str) -> Vec<(String, String)> {
        let date = amz_date(now);
        let mut headers = vec![
            ("host".to_string(), "127.0.0.1:8000".to_string()),
            ("x-amz-date".to_string(), date.clone()),
            (
                "x-amz-target".to_string(),
                "DynamoDB_20120810.GetItem".to_string(),
            ),
        ];
        let input = CanonicalInput {
            method: "POST",
            path: "/",
            query: &[],
            headers: &headers,
            payload_hash: &sha256_hex(b"{}"),
        };
        let auth =
            Signer::new("AKIDTEST", secret, "us-east-1", "dynamodb").authorization(&date, &input);
        headers.push(("authorization".into(), auth));
        headers.push(("content-type".into(), "application/x-amz-json-1.0".into()));
        headers
    }

    #[test]
    fn round_trip_and_every_refusal() {
        let now = 1_700_000_000;
        let h = signed(now, "s3cret");
        let ok = verify("POST", "/", &[], &h, &sha256_hex(b"{}"), now, |k| {
            (k == "AKIDTEST").then(|| "s3cret".to_string())
        })
        .unwrap();
        assert_eq!(ok.service, "dynamodb");
        let lookup = |k: &str| (k == "AKIDTEST").then(|| "s3cret".to_string());
        assert_eq!(
            verify("POST", "/", &[], &h, &sha256_hex(b"{\"x\":1}"), now, lookup),
            Err(SigError::Mismatch),
            "a changed body"
        );
        assert_eq!(
            verify("POST", "/", &[], &h, &sha256_hex(b"{}"), now + 3600, lookup),
            Err(SigError::Skewed)
        );
        assert_eq!(
            verify("POST", "/", &[], &h, &sha256_hex(b"{}"), now, |_| None)
                .unwrap_err()
                .code(),
            "InvalidAccessKeyId"
        );
        let wrong = signed(now, "other");
        assert_eq!(
            verify("POST", "/", &[], &wrong, &sha256_hex(b"{}"), now, lookup),
            Err(SigError::Mismatch)
        );
        assert!(matches!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=0"),
            Err(SigError::Incomplete(_))
        ));
    }
}
