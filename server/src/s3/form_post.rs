//! Browser-form uploads (POST Object): what S3 does with a form's fields before s3s reads them.
//!
//! s3s parses the `multipart/form-data` body, checks the policy's signature and conditions and
//! hands the upload on as a PutObject. What S3 does that s3s does not is done here, on the
//! form's fields — the parts before the `file` part, which S3 requires to be last — read ahead
//! of the file, which then streams on untouched:
//!
//! - **`${filename}` in the key** is the uploaded file's name (web pages use
//!   `uploads/${filename}`; boto3's `generate_presigned_post` documents it). Replaced in the
//!   `key` field before s3s checks the policy, so the policy's `$key` conditions see the key
//!   the object will have, as S3's and RGW's do.
//! - **A policy without a signature** is refused with 400 InvalidArgument before the policy's
//!   conditions are looked at, as S3 does; s3s would take the form for an anonymous one and
//!   answer for the conditions instead.
//! - **A policy whose `expiration` is not S3's ISO 8601** (`2026-12-05T07:00:00Z`, optionally
//!   with fractional seconds) is 400 InvalidPolicyDocument, as S3 answers; s3s's date parser
//!   takes other forms too (`2026-12-05 07:00:00+00:00`).
//! - **`acl` and `tagging`** are S3's names for the form's canned ACL and its tags (an XML
//!   `<Tagging>` document); s3s 0.14 reads only `x-amz-acl` and `x-amz-tagging`, and renaming
//!   the fields would break the policy's conditions on them (it is signed). So their values
//!   ride to the PutObject in the request's extensions ([`FormFields`]), the tags turned into
//!   the `k=v&…` form the `x-amz-tagging` header has.
//!
//! A form whose fields are not all within [`FIELDS_MAX`] bytes is passed on unread.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http_body::{Body, Frame};

use super::errors::s3_error;
use crate::http::RequestBody;

/// Most bytes of form fields read ahead of the file (S3 caps a form's fields at 20 KB).
pub const FIELDS_MAX: usize = 64 * 1024;

/// The boundary of a request whose body is a form (`multipart/form-data`), else `None`.
pub fn form_boundary(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(boundary)
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// One part of the form before the file: its name and where its value lies.
struct Field {
    name: String,
    value: std::ops::Range<usize>,
}

/// The form's fields read so far, when the `file` part's headers are in `buf`: the fields
/// before it, and the file's name. `None` while more bytes are needed (or the body is not a
/// form this reads).
fn fields(buf: &[u8], boundary: &str) -> Option<(Vec<Field>, Option<String>)> {
    let delim = format!("--{boundary}");
    let mut at = find(buf, delim.as_bytes(), 0)? + delim.len();
    let mut out = Vec::new();
    loop {
        // After a delimiter: CRLF and a part, or `--` (the end: no file part).
        let headers_start = at + 2;
        if buf.get(at..at + 2)? != b"\r\n" {
            return None;
        }
        let headers_end = find(buf, b"\r\n\r\n", headers_start)?;
        let headers = std::str::from_utf8(&buf[headers_start..headers_end]).ok()?;
        let (name, filename) = disposition(headers)?;
        let value_start = headers_end + 4;
        if name == "file" {
            return Some((out, filename));
        }
        let next = find(buf, format!("\r\n{delim}").as_bytes(), value_start)?;
        out.push(Field {
            name,
            value: value_start..next,
        });
        at = next + 2 + delim.len();
    }
}

/// `name` and `filename` of a part's `Content-Disposition: form-data; name="…"` header.
fn disposition(headers: &str) -> Option<(String, Option<String>)> {
    let line = headers.split("\r\n").find(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let param = |key: &str| {
        line.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().trim_matches('"').to_string())
        })
    };
    Some((param("name")?, param("filename")))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A form's `acl` and `tagging` fields, for the PutObject it becomes (s3s reads neither).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormFields {
    /// The canned ACL (`public-read`, …).
    pub acl: Option<String>,
    /// The `tagging` document's tags as an `x-amz-tagging` value (`k=v&…`, URL-encoded).
    pub tagging: Option<String>,
}

/// A `<Tagging><TagSet><Tag><Key>…</Key><Value>…</Value></Tag>…` document as `k=v&…`.
fn tagging_query(xml: &str) -> Result<String, s3s::S3Error> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    use quick_xml::events::Event;
    let malformed = |why: String| {
        s3_error(
            "MalformedXML",
            400,
            format!("the form's tagging field is not a Tagging document: {why}"),
        )
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut path, mut pairs) = (Vec::<String>::new(), Vec::new());
    let (mut key, mut value) = (None::<String>, None::<String>);
    loop {
        match reader.read_event().map_err(|e| malformed(e.to_string()))? {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Event::End(_) => {
                if path.last().map(String::as_str) == Some("Tag") {
                    let k = key
                        .take()
                        .ok_or_else(|| malformed("a Tag without a Key".into()))?;
                    pairs.push((k, value.take().unwrap_or_default()));
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| malformed(e.to_string()))?;
                match path.last().map(String::as_str) {
                    Some("Key") => key = Some(text.into_owned()),
                    Some("Value") => value = Some(text.into_owned()),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if path.first().is_some_and(|root| root != "Tagging") {
            return Err(malformed(format!("its root is <{}>", path[0])));
        }
    }
    if let Some(open) = path.last() {
        return Err(malformed(format!("<{open}> is not closed")));
    }
    Ok(pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&"))
}

/// The form's fields, mended as S3 reads them: the fields' new bytes when the key named
/// `${filename}` (else `None`), and the fields s3s does not read; `Err` for a policy with no
/// signature or an expiration not in S3's form. `buf` holds at least the fields and the file
/// part's headers.
fn mend_fields(buf: &[u8], boundary: &str) -> Result<(Option<Vec<u8>>, FormFields), s3s::S3Error> {
    let Some((fields, filename)) = fields(buf, boundary) else {
        return Ok((None, FormFields::default()));
    };
    let text = |name: &str| {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| String::from_utf8_lossy(&buf[f.value.clone()]).into_owned())
    };
    check_policy(buf, &fields)?;
    let carried = FormFields {
        acl: text("acl"),
        tagging: text("tagging").map(|x| tagging_query(&x)).transpose()?,
    };
    Ok((mend_key(buf, &fields, filename), carried))
}

/// What S3 refuses in a form's policy before its conditions: no signature, an expiration not
/// in S3's form.
fn check_policy(buf: &[u8], fields: &[Field]) -> Result<(), s3s::S3Error> {
    let has = |n: &str| fields.iter().any(|f| f.name.eq_ignore_ascii_case(n));
    if has("policy") && !has("signature") && !has("x-amz-signature") {
        return Err(s3_error(
            "InvalidArgument",
            400,
            "Bucket POST must contain a field named 'X-Amz-Signature' (SigV4) or 'Signature' \
             (SigV2) when it has a policy",
        ));
    }
    if let Some(policy) = fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("policy"))
    {
        if let Some(bad) = bad_expiration(&buf[policy.value.clone()]) {
            return Err(s3_error(
                "InvalidPolicyDocument",
                400,
                format!("Invalid Policy: Invalid 'expiration' value: '{bad}'"),
            ));
        }
    }
    Ok(())
}

/// `${filename}` in the key filled in with the file's name: the fields' new bytes, or `None`.
fn mend_key(buf: &[u8], fields: &[Field], filename: Option<String>) -> Option<Vec<u8>> {
    let key = fields.iter().find(|f| f.name.eq_ignore_ascii_case("key"))?;
    let value = &buf[key.value.clone()];
    let filename = filename.filter(|_| find(value, b"${filename}", 0).is_some())?;
    // A browser sends the bare name; some clients send a path: S3 takes the last component.
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let new_value = String::from_utf8_lossy(value).replace("${filename}", base);
    let mut out = Vec::with_capacity(buf.len() + new_value.len());
    out.extend_from_slice(&buf[..key.value.start]);
    out.extend_from_slice(new_value.as_bytes());
    out.extend_from_slice(&buf[key.value.end..]);
    Some(out)
}

/// [`prepare`] for a body already read whole (a chunked one without a length).
pub fn mend_whole(parts: &mut Parts, body: Bytes) -> Result<Bytes, s3s::S3Error> {
    let Some(b) = form_boundary(&parts.headers) else {
        return Ok(body);
    };
    Ok(mend_into(parts, &body, &b)?.map_or(body, Bytes::from))
}

/// [`mend_fields`], with the fields s3s does not read put into the request's extensions.
fn mend_into(
    parts: &mut Parts,
    buf: &[u8],
    boundary: &str,
) -> Result<Option<Vec<u8>>, s3s::S3Error> {
    let (mended, carried) = mend_fields(buf, boundary)?;
    if carried != FormFields::default() {
        parts.extensions.insert(carried);
    }
    Ok(mended)
}

/// The `expiration` of a base64 policy document when it is not in S3's form,
/// `YYYY-MM-DDThh:mm:ss[.fff]Z`. A policy that cannot be decoded is left to s3s, which says so.
fn bad_expiration(policy_b64: &[u8]) -> Option<String> {
    use base64::Engine;
    let trimmed = std::str::from_utf8(policy_b64).ok()?.trim();
    let doc = base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&doc).ok()?;
    let exp = json.get("expiration")?.as_str()?;
    let b = exp.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let base = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = b.get(19..).unwrap_or_default();
    let tail_ok = rest == b"Z"
        || (rest.len() > 2
            && rest[0] == b'.'
            && rest[rest.len() - 1] == b'Z'
            && rest[1..rest.len() - 1].iter().all(u8::is_ascii_digit));
    (!(base && tail_ok)).then(|| exp.to_string())
}

/// A body that yields `prefix` first, then the rest of the request's body.
struct Prefixed {
    prefix: Option<Bytes>,
    rest: Option<RequestBody>,
}

impl Body for Prefixed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if let Some(p) = self.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        match self.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

/// Read a form upload's fields ahead of its file and mend them (see the module's text);
/// returns the body to hand on — the fields, as mended, then the rest as it arrives.
/// `parts`' Content-Length is kept true.
pub async fn prepare(parts: &mut Parts, mut body: RequestBody) -> Result<s3s::Body, s3s::S3Error> {
    use http_body_util::BodyExt;
    let Some(boundary) = form_boundary(&parts.headers) else {
        return Ok(s3s::Body::http_body(body));
    };
    let mut buf = BytesMut::new();
    let mut ended = false;
    while buf.len() < FIELDS_MAX && fields(&buf, &boundary).is_none() {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    buf.extend_from_slice(&d);
                }
            }
            Some(Err(e)) => {
                return Err(s3_error(
                    "IncompleteBody",
                    400,
                    format!("the form's body could not be read: {e}"),
                ))
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    let prefix = match mend_into(parts, &buf, &boundary)? {
        Some(mended) => {
            let delta = mended.len() as i64 - buf.len() as i64;
            if let Some(len) = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok())
            {
                parts.headers.insert(
                    http::header::CONTENT_LENGTH,
                    http::HeaderValue::from(len + delta),
                );
            }
            Bytes::from(mended)
        }
        None => buf.freeze(),
    };
    Ok(s3s::Body::http_body_unsync(Prefixed {
        prefix: Some(prefix),
        rest: (!ended).then_some(body),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "XyZ";

    fn form(fields: &[(&str, &str)], filename: &str, file: &str) -> Vec<u8> {
        let mut out = String::new();
        for (k, v) in fields {
            out += &format!("--{B}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n");
        }
        out += &format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: text/plain\r\n\r\n{file}\r\n--{B}--\r\n"
        );
        out.into_bytes()
    }

    #[test]
    fn the_key_takes_the_files_name_for_filename() {
        let body = form(
            &[("key", "up/${filename}"), ("acl", "private")],
            "a b.txt",
            "data",
        );
        let mended = mend_fields(&body, B).unwrap().0.unwrap();
        let expected = form(
            &[("key", "up/a b.txt"), ("acl", "private")],
            "a b.txt",
            "data",
        );
        assert_eq!(
            String::from_utf8(mended).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        // A path from the client: its last component.
        let body = form(&[("key", "${filename}")], "C:\\docs\\r.pdf", "x");
        let mended = String::from_utf8(mend_fields(&body, B).unwrap().0.unwrap()).unwrap();
        assert!(mended.contains("name=\"key\"\r\n\r\nr.pdf\r\n"), "{mended}");
        // No placeholder: nothing to change.
        let body = form(&[("key", "plain.txt")], "a.txt", "x");
        assert_eq!(mend_fields(&body, B).unwrap().0, None);
    }

    #[test]
    fn a_policy_needs_a_signature() {
        let body = form(
            &[("key", "k"), ("policy", "e30="), ("AWSAccessKeyId", "AK")],
            "f",
            "x",
        );
        let e = mend_fields(&body, B).unwrap_err();
        assert_eq!(e.status_code(), Some(http::StatusCode::BAD_REQUEST));
        for sig in ["signature", "X-Amz-Signature"] {
            let body = form(&[("key", "k"), ("policy", "e30="), (sig, "s")], "f", "x");
            assert_eq!(mend_fields(&body, B).unwrap().0, None, "{sig}");
        }
        // Anonymous, no policy: S3 leaves it to the bucket's permissions.
        let body = form(&[("key", "k")], "f", "x");
        assert_eq!(mend_fields(&body, B).unwrap().0, None);
    }

    #[test]
    fn a_policy_expires_in_s3s_form_or_is_refused() {
        use base64::Engine;
        let policy = |exp: &str| {
            base64::engine::general_purpose::STANDARD
                .encode(format!("{{\"expiration\": \"{exp}\", \"conditions\": []}}"))
        };
        for good in ["2026-12-05T07:00:00Z", "2026-12-05T07:00:00.123Z"] {
            let body = form(&[("policy", &policy(good)), ("signature", "s")], "f", "x");
            assert_eq!(mend_fields(&body, B).unwrap().0, None, "{good}");
        }
        for bad in [
            "2026-12-05 07:00:00.123+00:00",
            "2026-12-05T07:00:00",
            "tomorrow",
        ] {
            let body = form(&[("policy", &policy(bad)), ("signature", "s")], "f", "x");
            let e = mend_fields(&body, B).unwrap_err();
            assert_eq!(
                e.status_code(),
                Some(http::StatusCode::BAD_REQUEST),
                "{bad}"
            );
        }
        // Not a policy at all: s3s's to refuse.
        assert_eq!(bad_expiration(b"not base64!"), None);
    }

    #[test]
    fn acl_and_tagging_ride_along_for_the_put() {
        let xml = "<Tagging><TagSet><Tag><Key>team</Key><Value>a&amp;b c</Value></Tag>\
                   <Tag><Key>k2</Key><Value></Value></Tag></TagSet></Tagging>";
        let body = form(
            &[("key", "k"), ("acl", "public-read"), ("tagging", xml)],
            "f",
            "x",
        );
        let (_, carried) = mend_fields(&body, B).unwrap();
        assert_eq!(carried.acl.as_deref(), Some("public-read"));
        assert_eq!(carried.tagging.as_deref(), Some("team=a%26b%20c&k2="));
        let body = form(&[("key", "k"), ("tagging", "<Tagging><Tag>")], "f", "x");
        let e = mend_fields(&body, B).unwrap_err();
        assert_eq!(e.status_code(), Some(http::StatusCode::BAD_REQUEST));
        let body = form(&[("key", "k")], "f", "x");
        assert_eq!(mend_fields(&body, B).unwrap().1, FormFields::default());
    }

    #[test]
    fn fields_are_read_only_once_the_file_part_begins() {
        let body = form(&[("key", "${filename}")], "a.txt", "data");
        let file_part = find(&body, b"name=\"file\"", 0).unwrap();
        // Cut inside the file part's headers: not yet.
        assert!(fields(&body[..file_part + 5], B).is_none());
        let (f, name) = fields(&body, B).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(name.as_deref(), Some("a.txt"));
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("text/plain"), None);
    }
}
