//! The client's side: an `Authorization` header for a request.

use crate::canonical::{scope, string_to_sign, CanonicalInput};
use crate::key::{signature, signing_key_cached};
use crate::{date::format_amz_date, sha256_hex, ALGORITHM};

/// Signs requests with one access key, for one region and service.
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
}

impl Signer {
    /// A signer for one key, region and service.
    pub fn new(access_key: &str, secret: &str, region: &str, service: &str) -> Signer {
        Signer {
            access_key: access_key.into(),
            secret: secret.into(),
            region: region.into(),
            service: service.into(),
        }
    }

    /// The `Authorization` header value for a request whose `input.headers` are the headers to
    /// sign, `host` and `x-amz-date` (= `amz_date`) among them (and, for S3,
    /// `x-amz-content-sha256`).
    pub fn authorization(&self, amz_date: &str, input: &CanonicalInput<'_>) -> String {
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let key = signing_key_cached(&self.secret, date, &self.region, &self.service);
        let scope = scope(date, &self.region, &self.service);
        let sts = string_to_sign(amz_date, &scope, &input.canonical_request());
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
            self.access_key,
            input.signed_headers(),
            signature(&key, &sts)
        )
    }

    /// Sign a request with a body at Unix time `unix_secs`: returns the `X-Amz-Date` and
    /// `Authorization` values to add. `headers` are the headers to sign besides `x-amz-date`
    /// (at least `host`); the body's SHA-256 is the payload hash, as AWS's JSON services want.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
        unix_secs: i64,
    ) -> (String, String) {
        let amz_date = format_amz_date(unix_secs);
        let mut all = Vec::with_capacity(headers.len() + 1);
        all.extend_from_slice(headers);
        all.push(("x-amz-date".to_string(), amz_date.clone()));
        let payload_hash = sha256_hex(body);
        let input = CanonicalInput {
            method,
            path,
            query: &[],
            headers: &all,
            payload_hash: &payload_hash,
        };
        let auth = self.authorization(&amz_date, &input);
        (amz_date, auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite, "get-vanilla": the whole Authorization header.
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
        let s = Signer::new(
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
        // The same request through `sign` (which adds x-amz-date itself).
        let (date, auth) = s.sign(
            "GET",
            "/",
            &headers[..1],
            b"",
            crate::parse_amz_date("20150830T123600Z").expect("a valid date"),
        );
        assert_eq!(date, "20150830T123600Z");
        assert_eq!(auth, s.authorization(&date, &input));
    }
}
