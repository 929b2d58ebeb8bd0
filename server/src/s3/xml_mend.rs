//! Request documents S3 reads and s3s's typed XML parser refuses, or would read wrongly,
//! mended before s3s sees them.
//!
//! | request | S3 | here |
//! |---|---|---|
//! | PutBucketEncryption whose `Rule` holds `BlockedEncryptionTypes` (S3's SSE-C block, 2025; boto3 and s3transfer send it) | blocks (`SSE-C`) or allows (`NONE`) SSE-C for new writes | the element is taken out of the document and its meaning carried to the operation as [`BlockSseC`]; s3s 0.14's model has no such element and refuses the whole document |
//! | PutBucketVersioning with MinIO's `ExcludeFolders` / `ExcludedPrefixes` | not S3's | 501 NotImplemented, instead of versioning every key while the client believes some are excluded |
//!
//! Taking bytes out of a body changes what the client signed and hashed. So a SigV4 request
//! (signature in the `Authorization` header) is first checked as s3s would check it: the body
//! against `x-amz-content-sha256`, `Content-MD5` and any `x-amz-checksum-*`, the signature
//! with the access key's secret ([`super::lenient::resign`]); only then is the body replaced,
//! those headers made to describe the new body, and the request signed again with the same
//! key, date and scope. A request that does not check out is left as it came (s3s refuses it
//! for what it is), and so is one signed in a presigned URL or with SigV2 (their signatures
//! cover what cannot be redone here): s3s then answers MalformedXML.

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::request::Parts;
use http::HeaderValue;
use md5::{Digest as _, Md5};
use seedbed_engine::object::checksum::{digest, ChecksumAlgorithm};
use sha2::Sha256;

use super::errors;
use crate::http::RequestBody;
use crate::identity::IdentityStore;

/// A PutBucketEncryption's `BlockedEncryptionTypes`: `true` when it names `SSE-C`, `false`
/// for `NONE` (or an empty list). Absent from the request's extensions when the document has
/// no such element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSseC(pub bool);

/// Largest document read here; anything longer is left to s3s.
const PEEK_MAX: u64 = 64 * 1024;

/// Which of the mended operations `parts` is, if any: a `PUT` with the subresource in the query.
fn subresource(parts: &Parts) -> Option<&'static str> {
    if parts.method != http::Method::PUT {
        return None;
    }
    let query = parts.uri.query()?;
    ["encryption", "versioning"].into_iter().find(|name| {
        query
            .split('&')
            .any(|kv| kv.split('=').next() == Some(*name))
    })
}

/// Whether [`mend`] wants this request's body.
pub fn wants(parts: &Parts) -> bool {
    subresource(parts).is_some()
}

/// Read the body of a request [`wants`] and mend it (see the module's text). Bodies without a
/// small, known length go on untouched.
pub async fn mend(
    parts: &mut Parts,
    body: RequestBody,
    identity: &IdentityStore,
    now_unix_secs: i64,
) -> Result<s3s::Body, s3s::S3Error> {
    use http_body_util::BodyExt;
    let small = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n <= PEEK_MAX);
    if !small {
        return Ok(s3s::Body::http_body(body));
    }
    let bytes = body
        .collect()
        .await
        .map_err(|e| errors::s3_error("IncompleteBody", 400, format!("reading the body: {e}")))?
        .to_bytes();
    match subresource(parts) {
        Some("versioning") => refuse_minio_versioning(&bytes)?,
        Some("encryption") => {
            if let Some(mended) = blocked_types(parts, &bytes, identity, now_unix_secs)? {
                return Ok(s3s::Body::from(mended));
            }
        }
        _ => {}
    }
    Ok(s3s::Body::from(bytes))
}

/// MinIO extends VersioningConfiguration with `ExcludeFolders` and `ExcludedPrefixes`; s3s
/// reads the document without them. `<ExcludeFolders>false</ExcludeFolders>` asks for
/// nothing and is let through.
fn refuse_minio_versioning(bytes: &[u8]) -> Result<(), s3s::S3Error> {
    let text = String::from_utf8_lossy(bytes);
    let asked = [
        ("ExcludeFolders", "<ExcludeFolders>true"),
        ("ExcludedPrefixes", "<ExcludedPrefixes>"),
    ]
    .into_iter()
    .find(|(_, start)| text.contains(start));
    match asked {
        Some((element, _)) => Err(errors::s3_error(
            "NotImplemented",
            501,
            format!(
                "<{element}> is MinIO's extension of VersioningConfiguration, not S3's: this \
                 server keeps versions of every key of a versioned bucket"
            ),
        )),
        None => Ok(()),
    }
}

/// Where an element lies in a document (byte offsets, tags included), and what it lists.
type Found = (std::ops::Range<usize>, Vec<String>);

/// Where `<BlockedEncryptionTypes>…</BlockedEncryptionTypes>` (or its empty form) lies in
/// `text`, and the `EncryptionType` values it lists. `Ok(None)`: no such element.
fn find_blocked(text: &str) -> Result<Option<Found>, String> {
    const OPEN: &str = "<BlockedEncryptionTypes";
    const CLOSE: &str = "</BlockedEncryptionTypes>";
    let Some(start) = text.find(OPEN) else {
        return Ok(None);
    };
    let after_name = start + OPEN.len();
    let tag_end = text[after_name..]
        .find('>')
        .map(|i| after_name + i)
        .ok_or("an unclosed <BlockedEncryptionTypes> tag")?;
    if text[..tag_end].ends_with('/') {
        return Ok(Some((start..tag_end + 1, Vec::new())));
    }
    let end = text[tag_end..]
        .find(CLOSE)
        .map(|i| tag_end + i)
        .ok_or("<BlockedEncryptionTypes> without its closing tag")?;
    let inner = &text[tag_end + 1..end];
    let mut types = Vec::new();
    let mut rest = inner;
    while let Some(open) = rest.find("<EncryptionType>") {
        let from = open + "<EncryptionType>".len();
        let close = rest[from..]
            .find("</EncryptionType>")
            .ok_or("<EncryptionType> without its closing tag")?;
        types.push(rest[from..from + close].trim().to_string());
        rest = &rest[from + close..];
    }
    Ok(Some((start..end + CLOSE.len(), types)))
}

/// PutBucketEncryption's `BlockedEncryptionTypes`: the document without it, with the request
/// mended to match and [`BlockSseC`] in its extensions. `Ok(None)`: nothing to do, or a
/// request this cannot re-sign (left as it came).
fn blocked_types(
    parts: &mut Parts,
    bytes: &Bytes,
    identity: &IdentityStore,
    now_unix_secs: i64,
) -> Result<Option<Bytes>, s3s::S3Error> {
    let malformed = |why: String| errors::s3_error("MalformedXML", 400, why);
    let text = String::from_utf8_lossy(bytes);
    let Some((range, types)) = find_blocked(&text).map_err(|w| malformed(w.to_string()))? else {
        return Ok(None);
    };
    if let Some(bad) = types.iter().find(|t| *t != "NONE" && *t != "SSE-C") {
        return Err(malformed(format!(
            "BlockedEncryptionTypes lists EncryptionType '{bad}': the types are NONE and SSE-C"
        )));
    }
    let block = types.iter().any(|t| t == "SSE-C");
    if block && types.iter().any(|t| t == "NONE") {
        return Err(malformed(
            "BlockedEncryptionTypes lists both NONE (nothing blocked) and SSE-C".into(),
        ));
    }
    let mut new_text = text.into_owned();
    new_text.replace_range(range, "");
    let new_body = Bytes::from(new_text);

    let auth = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let presigned = parts.uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.starts_with("X-Amz-Signature=") || kv.starts_with("Signature="))
    });
    let mended = if presigned || auth.starts_with("AWS ") {
        false
    } else if auth.starts_with("AWS4-HMAC-SHA256") {
        if !describes(parts, bytes)? {
            return Ok(None);
        }
        super::lenient::resign(parts, identity, now_unix_secs, |p| describe(p, &new_body))
    } else {
        // Anonymous: nothing is signed; s3s and IAM decide as for any request.
        describe(parts, &new_body);
        true
    };
    if !mended {
        return Ok(None);
    }
    parts.extensions.insert(BlockSseC(block));
    Ok(Some(new_body))
}

/// Whether the body-describing headers of `parts` match `body` as sent: the payload hash
/// (unless UNSIGNED-PAYLOAD), `Content-MD5`, each `x-amz-checksum-*`. A payload hash that
/// does not match is left to s3s (`Ok(false)`), which names it; a digest that does not is
/// BadDigest, as S3 answers it.
fn describes(parts: &Parts, body: &[u8]) -> Result<bool, s3s::S3Error> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match header("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => {}
        Some(hash) if hash == hex::encode(Sha256::digest(body)) => {}
        _ => return Ok(false),
    }
    let bad_digest = |what: &str| {
        errors::s3_error(
            "BadDigest",
            400,
            format!("the {what} you specified did not match what we received"),
        )
    };
    if header("content-md5").is_some_and(|m| m != b64(&Md5::digest(body))) {
        return Err(bad_digest("Content-MD5"));
    }
    for a in ChecksumAlgorithm::ALL {
        if header(a.header()).is_some_and(|v| v != b64(&digest(a, body))) {
            return Err(bad_digest(a.header()));
        }
    }
    Ok(true)
}

/// Make the body-describing headers of `parts` describe `body`: its length, its SHA-256 as
/// the payload hash (when the client sent one), and whichever of `Content-MD5` and
/// `x-amz-checksum-*` the client sent.
fn describe(parts: &mut Parts, body: &[u8]) {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let has = |name: &str| parts.headers.contains_key(name);
    let mut updates: Vec<(&'static str, String)> = vec![("content-length", body.len().to_string())];
    let unsigned = parts
        .headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v == "UNSIGNED-PAYLOAD");
    if has("x-amz-content-sha256") && !unsigned {
        updates.push(("x-amz-content-sha256", hex::encode(Sha256::digest(body))));
    }
    if has("content-md5") {
        updates.push(("content-md5", b64(&Md5::digest(body))));
    }
    for a in ChecksumAlgorithm::ALL {
        if has(a.header()) {
            updates.push((a.header(), b64(&digest(a, body))));
        }
    }
    for (name, value) in updates {
        if let Ok(v) = HeaderValue::from_str(&value) {
            parts.headers.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocked_types_element_is_found_with_its_values() {
        let doc = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
                   <SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>\
                   <BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType>\
                   </BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>";
        let (range, types) = find_blocked(doc).unwrap().unwrap();
        assert_eq!(types, ["SSE-C"]);
        let mut rest = doc.to_string();
        rest.replace_range(range, "");
        assert!(
            !rest.contains("Blocked")
                && rest.ends_with("</Rule></ServerSideEncryptionConfiguration>")
        );
        let (range, types) = find_blocked("<Rule><BlockedEncryptionTypes/></Rule>")
            .unwrap()
            .unwrap();
        assert!(types.is_empty());
        assert_eq!(range, 6..31);
        assert!(find_blocked("<Rule></Rule>").unwrap().is_none());
        assert!(find_blocked("<Rule><BlockedEncryptionTypes><EncryptionType>NONE").is_err());
    }

    #[test]
    fn the_subresources_are_told_apart() {
        let parts = |method: &str, uri: &str| {
            http::Request::builder()
                .method(method)
                .uri(uri)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        assert_eq!(
            subresource(&parts("PUT", "/b?encryption")),
            Some("encryption")
        );
        assert_eq!(
            subresource(&parts("PUT", "/b?versioning=")),
            Some("versioning")
        );
        assert_eq!(subresource(&parts("GET", "/b?encryption")), None);
        assert_eq!(subresource(&parts("PUT", "/b/key?x=encryption")), None);
    }
}
