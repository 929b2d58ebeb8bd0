//! Request headers S3 reads leniently and s3s's typed parsers refuse.
//!
//! s3s parses every header of an operation's input into a type before the operation runs, and
//! answers 400 for a value its parser does not take. S3 is more forgiving with three kinds of
//! header, and clients rely on it (moto's AWS-verified tests show each against AWS):
//!
//! | header | S3 | here, before s3s sees the request |
//! |---|---|---|
//! | `Range` on GET/HEAD that is not one `bytes=` range s3s parses (`bytes=1-0`, a list) | ignored: the whole object | dropped |
//! | `If-Match`, `If-None-Match`, `x-amz-copy-source-if-(none-)match` with stray or missing quotes (`abc"`, `unknown etag`) | compared as given | quoted: `"abc"`, `"unknown etag"` (a value that is no ETag matches none, as at S3) |
//! | `If-(Un)Modified-Since`, `x-amz-copy-source-if-(un)modified-since` in RFC 850 or asctime form | read (RFC 9110 §5.6.7) | rewritten as the IMF-fixdate s3s reads |
//! | `If-(Un)Modified-Since` that is no date | ignored (RFC 9110 §13.1.3–4: MUST) | dropped |
//! | `Expires` on a write that is not an IMF-fixdate (`0`, `5d`, an RFC 850 date) | stored and sent back as given (the SDKs' `ExpiresString` exists for it) | taken out and carried to the operation as [`RawExpires`] |
//! | `Content-Disposition` on a write in UTF-8 beyond ASCII (`attachment; filename=5小時.jpg`, as botocore sends a Python string; botocore's integration test_can_set_utf_8_headers) | stored and sent back as given | taken out and carried to the operation as [`RawContentDisposition`] (s3s reads header values as ASCII only) |
//!
//! The catch: these headers are usually signed (SigV4 signs every header boto3 and the aws cli
//! send), and s3s checks the signature over the headers it then parses. So when a header to
//! mend is signed, this module first verifies the client's signature itself (the `seedbed-sigv4`
//! crate, with the access key's secret), and only if it holds mends the header and signs the
//! request again with the same key, date and scope. s3s then checks that signature as for any
//! request and goes on as before (IAM, the access check, the session token). A request whose
//! signature does not verify is left exactly as it came, so s3s refuses it for what it is.
//! Left as they came (s3s answers 400): headers signed in a presigned URL's query (the
//! signature is the client's to give), aws-chunked uploads signed chunk by chunk (each chunk's
//! signature chains from the header's), and SigV2 requests when the header is an `x-amz-` one
//! (SigV2 signs those).

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use http::request::Parts;
use s3s::dto::{ETagCondition, Range, Timestamp, TimestampFormat};
use seedbed_sigv4::encode::{percent_decode, query_pairs};
use seedbed_sigv4::verify::{parse_authorization, Payload, Request as SigRequest};
use seedbed_sigv4::{uri_encode, CanonicalInput, Signer};

use crate::identity::IdentityStore;

/// What to do with one header.
#[derive(Debug, PartialEq, Eq)]
enum Edit {
    /// Remove it: S3 ignores it.
    Drop,
    /// Replace its value with one s3s parses and that means the same to S3.
    Set(HeaderValue),
    /// Remove it and hand its value to the operation in the request's extensions (an
    /// `Expires` s3s cannot type, a `Content-Disposition` beyond ASCII; S3 keeps either as
    /// given).
    Carry(Carried),
}

/// A header value carried past s3s, as the extension the operation reads.
#[derive(Debug, PartialEq, Eq)]
enum Carried {
    Expires(RawExpires),
    ContentDisposition(RawContentDisposition),
}

/// An object's `Expires` as the client sent it, when s3s's typed field cannot hold it (not an
/// IMF-fixdate); the write stores it as given and GET/HEAD send it back so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawExpires(pub String);

/// An object's `Content-Disposition` as the client sent it, when it is UTF-8 beyond ASCII,
/// which s3s does not read; the write stores it as given and GET/HEAD send it back so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawContentDisposition(pub String);

const ETAG_CONDITIONS: [&str; 4] = [
    "if-match",
    "if-none-match",
    "x-amz-copy-source-if-match",
    "x-amz-copy-source-if-none-match",
];

/// Date conditions, and whether S3 ignores one that is no date (the RFC 9110 headers do; the
/// copy-source ones are S3's own, and a bad one is left to s3s's 400).
const DATE_CONDITIONS: [(&str, bool); 4] = [
    ("if-modified-since", true),
    ("if-unmodified-since", true),
    ("x-amz-copy-source-if-modified-since", false),
    ("x-amz-copy-source-if-unmodified-since", false),
];

/// An ETag condition s3s refuses, quoted as S3 reads it. `None`: s3s takes it as it is, or it
/// is a list (`"a", "b"`), left alone.
fn mend_etag(value: &[u8]) -> Option<HeaderValue> {
    if ETagCondition::parse_http_header(value).is_ok() || value.contains(&b',') {
        return None;
    }
    let text = std::str::from_utf8(value).ok()?.trim();
    let bare = text.trim_matches('"');
    if bare.is_empty() || bare.contains('"') {
        return None;
    }
    let quoted = format!("\"{bare}\"");
    ETagCondition::parse_http_header(quoted.as_bytes()).ok()?;
    HeaderValue::from_str(&quoted).ok()
}

/// A date condition s3s refuses: an obsolete HTTP-date form rewritten, else dropped when S3
/// ignores it (`ignore_bad`).
fn mend_date(value: &[u8], ignore_bad: bool) -> Option<Edit> {
    let text = std::str::from_utf8(value).ok();
    if text.is_some_and(|t| Timestamp::parse(TimestampFormat::HttpDate, t).is_ok()) {
        return None;
    }
    match text.map(|t| httpdate::parse_http_date(t.trim())) {
        Some(Ok(t)) => HeaderValue::from_str(&httpdate::fmt_http_date(t))
            .ok()
            .map(Edit::Set),
        _ => ignore_bad.then_some(Edit::Drop),
    }
}

/// The edits a request needs, header by header (none for almost every request).
fn edits(parts: &Parts) -> Vec<(HeaderName, Edit)> {
    let mut out = Vec::new();
    let h = &parts.headers;
    let one = |name: &str| {
        let mut all = h.get_all(name).iter();
        match (all.next(), all.next()) {
            (Some(v), None) => Some(v.as_bytes()),
            _ => None,
        }
    };
    if parts.method == http::Method::GET || parts.method == http::Method::HEAD {
        if let Some(v) = one("range") {
            let parses = std::str::from_utf8(v).is_ok_and(|s| Range::parse(s).is_ok());
            if !parses {
                out.push((http::header::RANGE, Edit::Drop));
            }
        }
    }
    for name in ETAG_CONDITIONS {
        if let Some(v) = one(name).and_then(mend_etag) {
            out.push((HeaderName::from_static(name), Edit::Set(v)));
        }
    }
    if parts.method == http::Method::PUT || parts.method == http::Method::POST {
        if let Some(text) = one("expires").and_then(|v| std::str::from_utf8(v).ok()) {
            if Timestamp::parse(TimestampFormat::HttpDate, text).is_err() {
                let carried = Carried::Expires(RawExpires(text.to_string()));
                out.push((http::header::EXPIRES, Edit::Carry(carried)));
            }
        }
        if let Some(text) = one("content-disposition").and_then(|v| std::str::from_utf8(v).ok()) {
            if !text.is_ascii() {
                let carried = Carried::ContentDisposition(RawContentDisposition(text.to_string()));
                out.push((http::header::CONTENT_DISPOSITION, Edit::Carry(carried)));
            }
        }
    }
    for (name, ignore_bad) in DATE_CONDITIONS {
        if let Some(e) = one(name).and_then(|v| mend_date(v, ignore_bad)) {
            out.push((HeaderName::from_static(name), e));
        }
    }
    out
}

fn apply(parts: &mut Parts, edits: Vec<(HeaderName, Edit)>) {
    for (name, edit) in edits {
        match edit {
            Edit::Drop => {
                parts.headers.remove(&name);
            }
            Edit::Set(v) => {
                parts.headers.insert(name, v);
            }
            Edit::Carry(carried) => {
                parts.headers.remove(&name);
                match carried {
                    Carried::Expires(v) => {
                        parts.extensions.insert(v);
                    }
                    Carried::ContentDisposition(v) => {
                        parts.extensions.insert(v);
                    }
                }
            }
        }
    }
}

/// The request's headers as text (UTF-8, as SigV4 signs them), or `None` if one is not (then
/// nothing is re-signed).
fn text_headers(parts: &Parts) -> Option<Vec<(String, String)>> {
    parts
        .headers
        .iter()
        .map(|(n, v)| {
            let text = std::str::from_utf8(v.as_bytes()).ok()?;
            Some((n.as_str().to_string(), text.to_string()))
        })
        .collect()
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Mend the headers of `parts` that S3 reads and s3s would refuse (see the module's text).
/// `now_unix_secs` is the server's time, for the signature's 15-minute window.
pub fn mend(parts: &mut Parts, identity: &IdentityStore, now_unix_secs: i64) {
    let edits = edits(parts);
    if edits.is_empty() {
        return;
    }
    let query = parts.uri.query().unwrap_or_default();
    let pairs = query_pairs(query);
    let in_query = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let auth = header_str(parts, AUTHORIZATION.as_str()).unwrap_or_default();
    let touched = |signed: &[String]| {
        edits
            .iter()
            .any(|(n, _)| signed.iter().any(|s| s == n.as_str()))
    };
    if in_query("X-Amz-Signature").is_some() {
        // Presigned SigV4: the signed headers are named in the query.
        let signed: Vec<String> = in_query("X-Amz-SignedHeaders")
            .map(|v| v.split(';').map(str::to_ascii_lowercase).collect())
            .unwrap_or_default();
        if !touched(&signed) {
            apply(parts, edits);
        }
        return;
    }
    if auth.starts_with("AWS ") || in_query("Signature").is_some() {
        // SigV2 signs the x-amz- headers (and Content-MD5, Content-Type, Date).
        if edits.iter().all(|(n, _)| !n.as_str().starts_with("x-amz-")) {
            apply(parts, edits);
        }
        return;
    }
    if !auth.starts_with("AWS4-HMAC-SHA256") {
        // Anonymous: nothing is signed.
        apply(parts, edits);
        return;
    }
    let Ok(parsed) = parse_authorization(auth) else {
        return;
    };
    if !touched(&parsed.signed_headers) {
        apply(parts, edits);
        return;
    }
    resign(parts, identity, now_unix_secs, |p| apply(p, edits));
}

/// Change a request signed with SigV4 in its `Authorization` header, keeping it signed:
/// verify the client's signature first (as s3s would, with the access key's secret, within
/// the 15-minute window), and only if it holds run `edit` and sign the result again with the
/// same key, date, scope and signed headers (less any `edit` removed). `edit` may change the
/// payload hash (`x-amz-content-sha256`) with the body it stands for. A request that does not
/// verify, streams aws-chunked, or has no text headers is left exactly as it came (s3s then
/// refuses it for what it is). Returns whether `edit` ran.
pub(super) fn resign(
    parts: &mut Parts,
    identity: &IdentityStore,
    now_unix_secs: i64,
    edit: impl FnOnce(&mut Parts),
) -> bool {
    let Some(payload_hash) = header_str(parts, "x-amz-content-sha256").map(str::to_string) else {
        return false;
    };
    if payload_hash.starts_with("STREAMING-AWS4-") {
        return false;
    }
    let Some(amz_date) = header_str(parts, "x-amz-date").map(str::to_string) else {
        return false;
    };
    let Some(before) = text_headers(parts) else {
        return false;
    };
    let Ok(parsed) =
        parse_authorization(header_str(parts, AUTHORIZATION.as_str()).unwrap_or_default())
    else {
        return false;
    };
    let Some(secret) = identity
        .credential(&parsed.access_key)
        .filter(|c| c.active)
        .map(|c| c.secret)
    else {
        return false;
    };
    let query = parts.uri.query().unwrap_or_default().to_string();
    let pairs = query_pairs(&query);
    let path = parts.uri.path().to_string();
    let verified = seedbed_sigv4::verify(
        &SigRequest {
            method: parts.method.as_str(),
            path: &path,
            query: &query,
            headers: &before,
            payload: Payload::Hash(&payload_hash),
        },
        "s3",
        now_unix_secs,
        |_| Some(secret.clone()),
    );
    let Ok(auth) = verified else {
        return false;
    };
    edit(parts);
    let Some(after) = text_headers(parts) else {
        return true;
    };
    let payload_hash = header_str(parts, "x-amz-content-sha256")
        .map(str::to_string)
        .unwrap_or(payload_hash);
    // The same signed headers, less any dropped: a name signed twice keeps its order.
    let signed: Vec<(String, String)> = after
        .into_iter()
        .filter(|(n, _)| auth.signed_headers.iter().any(|s| s == n))
        .collect();
    let canonical_path = uri_encode(&percent_decode(&path), true);
    let input = CanonicalInput {
        method: parts.method.as_str(),
        path: &canonical_path,
        query: &pairs,
        headers: &signed,
        payload_hash: &payload_hash,
    };
    let signer = Signer::new(&auth.access_key, &secret, &auth.region, "s3");
    if let Ok(v) = HeaderValue::from_str(&signer.authorization(&amz_date, &input)) {
        parts.headers.insert(AUTHORIZATION, v);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{bootstrap, AccessKey, Identity};

    const NOW: i64 = 1_700_000_000;
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn identity() -> (IdentityStore, AccessKey) {
        let (file, key) = bootstrap("123456789012", "seedbed", "admin").unwrap();
        let identity = Identity::from_file(file).unwrap();
        (IdentityStore::new(identity, None, "123456789012"), key)
    }

    /// A GET signed as boto3 signs it: every header given, plus host, x-amz-date and
    /// x-amz-content-sha256.
    fn signed_get(key: &AccessKey, path: &str, extra: &[(&str, &str)]) -> Parts {
        let amz_date = seedbed_sigv4::format_amz_date(NOW);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), "127.0.0.1:9000".into()),
            ("x-amz-content-sha256".into(), EMPTY_SHA256.into()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let input = CanonicalInput {
            method: "GET",
            path,
            query: &[],
            headers: &headers,
            payload_hash: EMPTY_SHA256,
        };
        let auth =
            Signer::new(&key.id, &key.secret, "us-east-1", "s3").authorization(&amz_date, &input);
        let mut b = http::Request::builder().method("GET").uri(path);
        for (n, v) in &headers {
            b = b.header(n, v);
        }
        b.header("authorization", auth)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    /// A GET of `/bkt/f1` with `extra` headers, signed by a fresh server's key, then mended.
    fn signed_and_mended(extra: &[(&str, &str)]) -> (Parts, IdentityStore) {
        let (store, key) = identity();
        let mut parts = signed_get(&key, "/bkt/f1", extra);
        mend(&mut parts, &store, NOW);
        (parts, store)
    }

    /// The signature of `parts` checked as s3s checks it, by the key's secret.
    fn verifies(parts: &Parts, store: &IdentityStore) -> bool {
        let headers = text_headers(parts).unwrap();
        seedbed_sigv4::verify(
            &SigRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or_default(),
                headers: &headers,
                payload: Payload::Hash(EMPTY_SHA256),
            },
            "s3",
            NOW,
            |k| store.credential(k).map(|c| c.secret),
        )
        .is_ok()
    }

    #[test]
    fn a_reversed_range_is_dropped_and_the_request_signed_again() {
        let (store, key) = identity();
        let mut parts = signed_get(&key, "/bkt/f1", &[("range", "bytes=1-0")]);
        assert!(verifies(&parts, &store));
        mend(&mut parts, &store, NOW);
        assert!(parts.headers.get("range").is_none());
        assert!(
            verifies(&parts, &store),
            "the mended request must carry a good signature"
        );
        let auth = header_str(&parts, "authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            "{auth}"
        );
    }

    #[test]
    fn a_forged_signature_is_left_for_s3s_to_refuse() {
        let (store, key) = identity();
        let mut parts = signed_get(&key, "/bkt/f1", &[("range", "bytes=1-0")]);
        let forged = header_str(&parts, "authorization")
            .unwrap()
            .replace("Signature=", "Signature=0");
        parts
            .headers
            .insert(AUTHORIZATION, HeaderValue::from_str(&forged).unwrap());
        let before = parts.headers.clone();
        mend(&mut parts, &store, NOW);
        assert_eq!(parts.headers, before);
        // And a good signature from a key the server does not have is not re-signed either.
        let (_, stranger) = identity();
        let mut parts = signed_get(&stranger, "/bkt/f1", &[("range", "bytes=1-0")]);
        let before = parts.headers.clone();
        mend(&mut parts, &store, NOW);
        assert_eq!(parts.headers, before);
    }

    #[test]
    fn etag_conditions_are_quoted_as_s3_reads_them() {
        let (parts, store) = signed_and_mended(&[
            ("if-match", "0123abcd\""),
            ("if-none-match", "unknown etag"),
            ("x-amz-copy-source-if-match", "\"fine\""),
        ]);
        assert_eq!(header_str(&parts, "if-match"), Some("\"0123abcd\""));
        assert_eq!(
            header_str(&parts, "if-none-match"),
            Some("\"unknown etag\"")
        );
        assert_eq!(
            header_str(&parts, "x-amz-copy-source-if-match"),
            Some("\"fine\"")
        );
        assert!(verifies(&parts, &store));
        for value in ["\"a\", \"b\"", "*", "abc", "W/\"abc\""] {
            assert_eq!(mend_etag(value.as_bytes()), None, "{value}");
        }
    }

    #[test]
    fn dates_in_older_forms_are_rewritten_and_bad_ones_dropped() {
        let (parts, store) = signed_and_mended(&[
            ("if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT"),
            ("if-unmodified-since", "yesterday"),
            ("x-amz-copy-source-if-modified-since", "yesterday"),
        ]);
        assert_eq!(
            header_str(&parts, "if-modified-since"),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        assert!(parts.headers.get("if-unmodified-since").is_none());
        // S3's own header: a bad value is not S3's to ignore, so it stays for s3s's 400.
        assert_eq!(
            header_str(&parts, "x-amz-copy-source-if-modified-since"),
            Some("yesterday")
        );
        assert!(verifies(&parts, &store));
    }

    #[test]
    fn an_expires_s3s_cannot_type_is_carried_to_the_write_as_given() {
        let (store, _) = identity();
        for (method, value, carried) in [
            ("PUT", "5d", true),
            ("POST", "Thursday, 01-Dec-94 16:00:00 GMT", true),
            ("PUT", "Thu, 01 Dec 1994 16:00:00 GMT", false),
            ("GET", "5d", false),
        ] {
            let mut parts = http::Request::builder()
                .method(method)
                .uri("/bkt/k")
                .header("expires", value)
                .body(())
                .unwrap()
                .into_parts()
                .0;
            mend(&mut parts, &store, NOW);
            let raw = parts.extensions.get::<RawExpires>().map(|r| r.0.as_str());
            if carried {
                assert_eq!(raw, Some(value), "{method} {value}");
                assert!(parts.headers.get("expires").is_none());
            } else {
                assert_eq!(raw, None, "{method} {value}");
                assert_eq!(header_str(&parts, "expires"), Some(value));
            }
        }
    }

    /// An unsigned GET of `uri` with one header, mended.
    fn mended_unsigned(store: &IdentityStore, uri: &str, name: &str, value: &str) -> Parts {
        let mut parts = http::Request::get(uri)
            .header(name, value)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        mend(&mut parts, store, NOW);
        parts
    }

    #[test]
    fn unsigned_headers_are_mended_without_a_new_signature() {
        let (store, _) = identity();
        // Anonymous.
        let parts = mended_unsigned(&store, "/bkt/f1", "range", "bytes=0-1,4-5");
        assert!(parts.headers.get("range").is_none());
        assert!(parts.headers.get("authorization").is_none());
        // Presigned, the range not among the signed headers.
        let uri =
            "/bkt/f1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let parts = mended_unsigned(&store, uri, "range", "bytes=1-0");
        assert!(parts.headers.get("range").is_none());
        // Presigned with the range signed: the client's signature, left alone.
        let uri = "/bkt/f1?X-Amz-SignedHeaders=host%3Brange&X-Amz-Signature=00";
        let parts = mended_unsigned(&store, uri, "range", "bytes=1-0");
        assert_eq!(header_str(&parts, "range"), Some("bytes=1-0"));
    }

    #[test]
    fn streaming_uploads_and_good_headers_are_left_alone() {
        let (store, key) = identity();
        let mut parts = signed_get(&key, "/bkt/f1", &[("if-match", "abc\"")]);
        parts.headers.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        );
        let before = parts.headers.clone();
        mend(&mut parts, &store, NOW);
        assert_eq!(parts.headers, before);
        let mut parts = signed_get(
            &key,
            "/bkt/f1",
            &[("range", "bytes=0-9"), ("if-match", "\"abc\"")],
        );
        let before = parts.headers.clone();
        mend(&mut parts, &store, NOW);
        assert_eq!(parts.headers, before);
    }
}
