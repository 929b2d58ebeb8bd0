//! The canonical request — the one form of a request both sides agree on before hashing — and
//! the string to sign that wraps its hash with the time and the credential scope.
//!
//! ```text
//! POST                                   method
//! /                                      path, URI-encoded
//! Action=ListUsers&Version=2010-05-08    query: names and values URI-encoded, sorted
//! content-type:application/x-amz-json-1.0
//! host:127.0.0.1:8000                    signed headers: lower-case names, sorted; values
//! x-amz-date:20150830T123600Z            trimmed, inner runs of spaces as one; repeats joined by ','
//!                                        (a blank line ends the headers)
//! content-type;host;x-amz-date           the signed header names
//! 44136fa355b3678a1146ad16f7e8649e...    hex SHA-256 of the body, or UNSIGNED-PAYLOAD
//! ```

use crate::encode::push_uri_encoded;
use crate::{sha256_hex, ALGORITHM};

/// One request's parts, as they go into the canonical request.
#[derive(Clone, Debug)]
pub struct CanonicalInput<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as it goes into the canonical request: URI-encoded once (S3 signs the path as
    /// sent; other AWS services encode it twice — for DynamoDB's `/` the two are the same).
    pub path: &'a str,
    /// Query parameters, decoded (they are encoded here).
    pub query: &'a [(String, String)],
    /// The headers to sign (names in any case, values as sent); a name given twice is signed
    /// once, its values joined by commas in the order given.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or [`crate::UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

impl CanonicalInput<'_> {
    /// The headers' lower-case names, sorted, each once.
    fn names(&self) -> Vec<(String, usize)> {
        // (name, position): sorting on both keeps repeated headers in the order sent.
        let mut names: Vec<(String, usize)> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.to_ascii_lowercase(), i))
            .collect();
        names.sort_unstable();
        names
    }

    /// The signed headers list: lower-case names, sorted, `;`-joined.
    pub fn signed_headers(&self) -> String {
        let mut out = String::with_capacity(64);
        push_signed_headers(&mut out, &self.names());
        out
    }

    /// The canonical request.
    pub fn canonical_request(&self) -> String {
        let mut out = String::with_capacity(
            256 + self.path.len()
                + self
                    .query
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 2)
                    .sum::<usize>(),
        );
        out.push_str(self.method);
        out.push('\n');
        out.push_str(if self.path.is_empty() { "/" } else { self.path });
        out.push('\n');

        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| {
                let mut ek = String::with_capacity(k.len());
                push_uri_encoded(&mut ek, k, false);
                let mut ev = String::with_capacity(v.len());
                push_uri_encoded(&mut ev, v, false);
                (ek, ev)
            })
            .collect();
        // Sorted by encoded name, then value (AWS's rule for repeated names).
        query.sort_unstable();
        for (i, (k, v)) in query.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out.push('\n');

        let names = self.names();
        let mut i = 0;
        while i < names.len() {
            let name = &names[i].0;
            out.push_str(name);
            out.push(':');
            let mut first = true;
            while i < names.len() && names[i].0 == *name {
                if !first {
                    out.push(',');
                }
                first = false;
                push_canonical_value(&mut out, &self.headers[names[i].1].1);
                i += 1;
            }
            out.push('\n');
        }
        out.push('\n');
        push_signed_headers(&mut out, &names);
        out.push('\n');
        out.push_str(self.payload_hash);
        out
    }
}

fn push_signed_headers(out: &mut String, names: &[(String, usize)]) {
    let mut last: Option<&str> = None;
    for (name, _) in names {
        if last == Some(name.as_str()) {
            continue;
        }
        if last.is_some() {
            out.push(';');
        }
        out.push_str(name);
        last = Some(name);
    }
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

/// The credential scope: `DATE/REGION/SERVICE/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// The string to sign: the algorithm, the request's time, the scope, and the hex SHA-256 of
/// the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite, "get-vanilla": the canonical request.
    #[test]
    fn get_vanilla() {
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
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
    }

    /// AWS's IAM ListUsers example ("Create a canonical request" in the SigV4 documentation):
    /// the query is sorted and the string to sign is the published one.
    #[test]
    fn list_users_string_to_sign() {
        let headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
            ("Host".to_string(), "iam.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let query = vec![
            ("Version".to_string(), "2010-05-08".to_string()),
            ("Action".to_string(), "ListUsers".to_string()),
        ];
        let input = CanonicalInput {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            payload_hash: &sha256_hex(b""),
        };
        assert_eq!(
            string_to_sign(
                "20150830T123600Z",
                &scope("20150830", "us-east-1", "iam"),
                &input.canonical_request()
            ),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
             f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
    }

    /// Repeated headers are signed once, values joined in the order sent; values are trimmed
    /// and their inner whitespace collapsed; names are case-folded and sorted.
    #[test]
    fn repeated_and_spaced_headers() {
        let headers = vec![
            ("X-B".to_string(), "  two   words ".to_string()),
            ("x-a".to_string(), "1".to_string()),
            ("x-b".to_string(), "second".to_string()),
        ];
        let input = CanonicalInput {
            method: "PUT",
            path: "/k",
            query: &[("a b".to_string(), "/".to_string())],
            headers: &headers,
            payload_hash: "UNSIGNED-PAYLOAD",
        };
        assert_eq!(
            input.canonical_request(),
            "PUT\n/k\na%20b=%2F\nx-a:1\nx-b:two words,second\n\nx-a;x-b\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(input.signed_headers(), "x-a;x-b");
    }
}
