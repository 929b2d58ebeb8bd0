//! AWS Signature Version 4 for service `dynamodb`: verifying a request's `Authorization`
//! header (the server) and signing one (the benchmark client and tests).
//!
//! The signature covers a canonical form of the request — method, path, query, the signed
//! headers (lower-case names, trimmed values), and the SHA-256 of the body — hashed into a
//! "string to sign" with the time and the credential scope `DATE/REGION/dynamodb/aws4_request`,
//! and HMAC-SHA256'd with a key derived from the secret by the same chain of HMACs. Requests
//! more than 15 minutes away from the server's clock are refused, as AWS does.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::errors::WireError;

type HmacSha256 = Hmac<Sha256>;

/// Largest accepted difference between the request's `X-Amz-Date` and the server clock.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Lower-case hex (one allocation; this runs three times per signed request on each side).
fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

/// The signing key for a secret, date (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// [`signing_key`], remembered for the last (secret, date, region, service) this thread used:
/// a key is valid for a whole day, and deriving it is four HMACs per request otherwise (AWS's
/// SDKs cache it the same way).
fn signing_key_cached(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    type Entry = ([String; 4], Vec<u8>);
    thread_local! {
        static LAST: std::cell::RefCell<Option<Entry>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((id, key)) = last.as_ref() {
            if id[0] == secret && id[1] == date && id[2] == region && id[3] == service {
                return key.clone();
            }
        }
        let key = signing_key(secret, date, region, service);
        *last = Some((
            [secret.into(), date.into(), region.into(), service.into()],
            key.clone(),
        ));
        key
    })
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => push_percent(&mut out, b),
        }
    }
    out
}

/// `%XX`, upper-case hex, as SigV4 encodes a byte.
fn push_percent(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Bytes, not str slices: a '%' may be followed by a multi-byte character.
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let digit = |c: u8| (char::from(c).to_digit(16).unwrap_or(0) & 0xf) as u8;
            out.push(digit(b[i + 1]) * 16 + digit(b[i + 2]));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A header value as SigV4 signs it: trimmed, inner runs of whitespace as one space.
fn push_canonical_value(out: &mut String, v: &str) {
    for (i, word) in v.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The string to sign for a request (exposed for tests and explanations).
#[allow(clippy::too_many_arguments)]
pub fn string_to_sign(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    signed: &[&str],
    body: &[u8],
    amz_date: &str,
    scope: &str,
) -> String {
    let mut canonical_headers = String::with_capacity(256);
    for name in signed {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        let values = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
        for (i, (_, v)) in values.enumerate() {
            if i > 0 {
                canonical_headers.push(',');
            }
            push_canonical_value(&mut canonical_headers, v);
        }
        canonical_headers.push('\n');
    }
    let payload = header(headers, "x-amz-content-sha256")
        .map(String::from)
        .unwrap_or_else(|| sha256_hex(body));
    let canonical = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload}",
        uri_encode(
            &percent_decode(if path.is_empty() { "/" } else { path }),
            true
        ),
        canonical_query(query),
        signed.join(";")
    );
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Unix seconds of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(4..6)?,
        n(6..8)?,
        n(9..11)?,
        n(11..13)?,
        n(13..15)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se)
}

/// An `X-Amz-Date` for Unix seconds.
pub fn format_amz_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86400);
    let rem = unix_secs.rem_euclid(86400);
    // civil_from_days
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A verified caller: the access key and the region it signed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id.
    pub access_key: String,
    /// The region of the credential scope.
    pub region: String,
}

/// Verify a request's SigV4 signature. `secret_of` looks up an access key's secret.
pub fn verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    now_unix_secs: i64,
    secret_of: &dyn Fn(&str) -> Option<String>,
) -> Result<Verified, WireError> {
    let auth = header(headers, "authorization").ok_or_else(|| {
        WireError::MissingAuthenticationToken("Request is missing Authentication Token".into())
    })?;
    let bad = |m: &str| WireError::InvalidSignature(m.to_string());
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        WireError::MissingAuthenticationToken(format!(
            "Authorization header requires 'Credential' parameter. Authorization={auth}"
        ))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(WireError::MissingAuthenticationToken(format!(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization={auth}"
        )));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" {
        return Err(bad(&format!(
            "Credential should be scoped to a valid region. Credential={credential}"
        )));
    }
    let (access_key, date, region, service) = (parts[0], parts[1], parts[2], parts[3]);
    if service != "dynamodb" {
        return Err(bad(
            "Credential should be scoped to correct service: 'dynamodb'. ",
        ));
    }
    let amz_date = header(headers, "x-amz-date").ok_or_else(|| {
        bad("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    })?;
    let t =
        parse_amz_date(amz_date).ok_or_else(|| bad(&format!("Invalid X-Amz-Date: {amz_date}")))?;
    if !amz_date.starts_with(date) {
        return Err(bad("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP"));
    }
    if (t - now_unix_secs).abs() > MAX_SKEW_SECS {
        return Err(bad(&format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now_unix_secs - MAX_SKEW_SECS),
            format_amz_date(now_unix_secs)
        )));
    }
    let secret = secret_of(access_key).ok_or_else(|| {
        WireError::UnrecognizedClient(
            "The security token included in the request is invalid.".into(),
        )
    })?;
    let signed: Vec<&str> = signed_headers.split(';').collect();
    if !signed.contains(&"host") {
        return Err(bad(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = string_to_sign(
        method, path, query, headers, &signed, body, amz_date, &scope,
    );
    let key = signing_key_cached(&secret, date, region, service);
    let expected = hex(&hmac(&key, sts.as_bytes()));
    // Constant-time comparison: the signature is a secret-derived value.
    let ok = expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !ok {
        return Err(bad(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(Verified {
        access_key: access_key.to_string(),
        region: region.to_string(),
    })
}

/// Sign a request: returns the `X-Amz-Date` and `Authorization` header values. `headers`
/// must hold every header to sign (at least `host`); they are signed in sorted order.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    access_key: &str,
    secret: &str,
    region: &str,
    unix_secs: i64,
) -> (String, String) {
    let amz_date = format_amz_date(unix_secs);
    let date = &amz_date[..8];
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    all.push(("x-amz-date".into(), amz_date.clone()));
    let mut names: Vec<String> = all.iter().map(|(k, _)| k.clone()).collect();
    names.sort();
    names.dedup();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    let scope = format!("{date}/{region}/dynamodb/aws4_request");
    let sts = string_to_sign(method, path, "", &all, &signed, body, &amz_date, &scope);
    let sig = hex(&hmac(
        &signing_key_cached(secret, date, region, "dynamodb"),
        sts.as_bytes(),
    ));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={}, Signature={sig}",
        signed.join(";")
    );
    (amz_date, auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_paths_do_not_panic() {
        assert_eq!(percent_decode("%é%4"), "%é%4");
        assert_eq!(percent_decode("a%2Fb"), "a/b");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(parse_amz_date("2015-08-30"), None);
    }

    /// The per-thread cache gives the key of the arguments asked, not of the last call.
    #[test]
    fn cached_signing_key_follows_its_arguments() {
        for (secret, date) in [("s1", "20260101"), ("s1", "20260102"), ("s2", "20260102")] {
            for _ in 0..2 {
                assert_eq!(
                    signing_key_cached(secret, date, "us-east-1", "dynamodb"),
                    signing_key(secret, date, "us-east-1", "dynamodb"),
                    "{secret} {date}"
                );
            }
        }
        assert_ne!(
            signing_key_cached("s2", "20260102", "eu-west-1", "dynamodb"),
            signing_key("s2", "20260102", "us-east-1", "dynamodb")
        );
    }

    /// AWS's published example (IAM ListUsers, "Create a signing key" and "Calculate the
    /// signature" in the SigV4 documentation): the derived key and final signature.
    #[test]
    fn aws_documentation_example() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
            ("Host".to_string(), "iam.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let sts = string_to_sign(
            "GET",
            "/",
            "Action=ListUsers&Version=2010-05-08",
            &headers,
            &["content-type", "host", "x-amz-date"],
            b"",
            "20150830T123600Z",
            "20150830/us-east-1/iam/aws4_request",
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            hex(&hmac(&key, sts.as_bytes())),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn sign_then_verify_and_refusals() {
        let headers = vec![
            ("host".to_string(), "127.0.0.1:8000".to_string()),
            (
                "x-amz-target".to_string(),
                "DynamoDB_20120810.GetItem".to_string(),
            ),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
        ];
        let body = br#"{"TableName":"t"}"#;
        let now = 1_700_000_000;
        let (date, auth) = sign(
            "POST",
            "/",
            &headers,
            body,
            "AKID",
            "secret",
            "us-east-1",
            now,
        );
        let mut h = headers.clone();
        h.push(("x-amz-date".into(), date));
        h.push(("authorization".into(), auth));
        let secrets = |k: &str| (k == "AKID").then(|| "secret".to_string());
        assert_eq!(
            verify("POST", "/", "", &h, body, now, &secrets)
                .unwrap()
                .access_key,
            "AKID"
        );
        assert!(matches!(
            verify("POST", "/", "", &h, b"{}", now, &secrets),
            Err(WireError::InvalidSignature(_))
        ));
        assert!(
            matches!(verify("POST", "/", "", &h, body, now + 3600, &secrets), Err(WireError::InvalidSignature(m)) if m.starts_with("Signature expired"))
        );
        let wrong_secret = |_: &str| Some("other".to_string());
        assert!(matches!(
            verify("POST", "/", "", &h, body, now, &wrong_secret),
            Err(WireError::InvalidSignature(_))
        ));
        let none = |_: &str| None;
        assert!(matches!(
            verify("POST", "/", "", &h, body, now, &none),
            Err(WireError::UnrecognizedClient(_))
        ));
        assert!(matches!(
            verify("POST", "/", "", &headers, body, now, &secrets),
            Err(WireError::MissingAuthenticationToken(_))
        ));
    }
}
