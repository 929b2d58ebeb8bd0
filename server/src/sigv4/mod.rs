//! AWS Signature Version 4, written out: the canonical request, the string to sign, the derived
//! signing key, and the signature — for signing requests (the S3 load generator) and for
//! checking them in a protocol whose library does not (the DynamoDB endpoint).
//!
//! ```text
//! canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//! string to sign    = "AWS4-HMAC-SHA256" \n AMZ-DATE \n DATE/REGION/SERVICE/aws4_request \n hex(SHA256(canonical request))
//! signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION), SERVICE), "aws4_request")
//! signature         = hex(HMAC(signing key, string to sign))
//! ```
//!
//! The S3 endpoint verifies with s3s (which also handles presigned URLs and aws-chunked
//! bodies); this module is the same algorithm in ~200 lines, tested against AWS's published
//! example.

pub mod verify;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The payload hash of an unsigned body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Hex of SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex (one allocation; this runs three times per signed request on each side).
fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// URI-encode as SigV4 requires: unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay, every other
/// byte becomes `%XX` (upper-case hex); `/` stays when `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// The credential scope: `DATE/REGION/SERVICE/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// One request's parts, as they go into the canonical request.
#[derive(Clone, Debug)]
pub struct CanonicalInput<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path, already URI-encoded once (S3 signs it as sent; other services encode twice —
    /// pass the encoded path of the encoded path for those).
    pub path: &'a str,
    /// Query parameters, decoded (they are encoded here).
    pub query: &'a [(String, String)],
    /// Headers to sign: lower-case names, values as sent.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    pub payload_hash: &'a str,
}

impl CanonicalInput<'_> {
    /// The signed headers list: names, sorted, `;`-joined.
    pub fn signed_headers(&self) -> String {
        let mut names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.join(";")
    }

    /// The canonical request.
    pub fn canonical_request(&self) -> String {
        let mut q: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        q.sort();
        let query = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        // Headers: lower-case names, trimmed values with inner runs of spaces collapsed;
        // repeated names joined with commas.
        let mut hs: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    v.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .collect();
        hs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut headers = String::new();
        let mut i = 0;
        while i < hs.len() {
            let name = &hs[i].0;
            let mut values = vec![hs[i].1.clone()];
            while i + 1 < hs.len() && hs[i + 1].0 == *name {
                i += 1;
                values.push(hs[i].1.clone());
            }
            headers.push_str(&format!("{name}:{}\n", values.join(",")));
            i += 1;
        }
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path,
            query,
            headers,
            self.signed_headers(),
            self.payload_hash
        )
    }
}

/// The string to sign.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key of a secret for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Hex signature of a string to sign.
pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    hex(&hmac(signing_key, string_to_sign.as_bytes()))
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
pub fn amz_date(unix_s: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_s)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Signs requests with one access key.
#[derive(Clone, Debug)]
pub struct Signer {
    /// Access key ID.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
    /// Region (`us-east-1`).
    pub region: String,
    /// Service (`s3`, `dynamodb`).
    pub service: String,
    /// Cached signing key, per date.
    key_cache: Option<(String, Vec<u8>)>,
}

impl Signer {
    /// A signer for one key, region and service.
    pub fn new(access_key: &str, secret: &str, region: &str, service: &str) -> Signer {
        Signer {
            access_key: access_key.into(),
            secret: secret.into(),
            region: region.into(),
            service: service.into(),
            key_cache: None,
        }
    }

    /// The `Authorization` header value for a request whose headers already include `host`,
    /// `x-amz-date` (= `amz_date`) and, for S3, `x-amz-content-sha256`.
    pub fn authorization(&mut self, amz_date: &str, input: &CanonicalInput<'_>) -> String {
        let date = &amz_date[..8];
        let key = match &self.key_cache {
            Some((d, k)) if d == date => k.clone(),
            _ => {
                let k = signing_key(&self.secret, date, &self.region, &self.service);
                self.key_cache = Some((date.to_string(), k.clone()));
                k
            }
        };
        let scope = scope(date, &self.region, &self.service);
        let sts = string_to_sign(amz_date, &scope, &input.canonical_request());
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
            self.access_key,
            input.signed_headers(),
            signature(&key, &sts)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite, "get-vanilla".
    #[test]
    fn aws_get_vanilla_example() {
        let headers = vec![
            ("host".to_string(), "example.amazonaws.com".to_string()),
            ("x-amz-date".to_string(), "20150830T123600Z".to_string()),
        ];
        let input = CanonicalInput {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            payload_hash: &sha256_hex(b""),
        };
        assert_eq!(
            input.canonical_request(),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut s = Signer::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "us-east-1",
            "service",
        );
        assert_eq!(
            s.authorization("20150830T123600Z", &input),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn encoding_and_dates() {
        assert_eq!(uri_encode("a b/c~d", true), "a%20b/c~d");
        assert_eq!(uri_encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(uri_encode("é", false), "%C3%A9");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
    }
}
