//! Between the engine's types and s3s's wire types: times, owners, ETags, checksums, ACLs,
//! system metadata.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use s3s::dto;
use s3s::S3Error;
use seedbed_engine::object::checksum::{is_well_formed, Expected};
use seedbed_engine::object::{
    Accounts, Acl, ChecksumAlgorithm, ChecksumRequest, ChecksumType, Grant, Grantee, Group,
    ObjectChecksum, Owner, Permission, SystemMeta,
};

use super::body::TrailerSlot;
use super::errors::{invalid_argument, invalid_request, s3_error};

/// A Unix-milliseconds time as S3's timestamp.
pub fn ts(ms: u64) -> dto::Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    dto::Timestamp::from(t)
}

/// Unix seconds of an S3 timestamp.
pub fn unix_s(t: &dto::Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

/// Now on the wall clock, Unix milliseconds (session expiry, access-log times).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Unix milliseconds of an S3 timestamp (0 before the epoch).
pub fn unix_ms(t: &dto::Timestamp) -> u64 {
    let ns = time::OffsetDateTime::from(t.clone()).unix_timestamp_nanos();
    u64::try_from(ns / 1_000_000).unwrap_or(0)
}

/// An ETag as the wire shows it (the engine keeps it quoted).
pub fn etag(quoted: &str) -> dto::ETag {
    dto::ETag::Strong(quoted.trim_matches('"').to_string())
}

/// An If-Match style header as the engine's string (`*`, or the ETag).
pub fn etag_condition(c: &dto::ETagCondition) -> String {
    match c {
        dto::ETagCondition::Any => "*".into(),
        dto::ETagCondition::ETag(e) => e.value().to_string(),
    }
}

/// An owner on the wire.
pub fn owner(o: &Owner) -> dto::Owner {
    dto::Owner {
        display_name: Some(o.display_name.clone()),
        id: Some(o.id.clone()),
    }
}

/// S3's algorithm name.
pub fn algorithm(a: ChecksumAlgorithm) -> dto::ChecksumAlgorithm {
    dto::ChecksumAlgorithm::from(a.name().to_string())
}

/// S3's checksum type.
pub fn checksum_type(k: ChecksumType) -> dto::ChecksumType {
    dto::ChecksumType::from(k.name().to_string())
}

/// The five `x-amz-checksum-*` values, one of them set.
#[derive(Clone, Debug, Default)]
pub struct ChecksumFields {
    /// CRC32.
    pub crc32: Option<String>,
    /// CRC32C.
    pub crc32c: Option<String>,
    /// CRC64NVME.
    pub crc64nvme: Option<String>,
    /// SHA1.
    pub sha1: Option<String>,
    /// SHA256.
    pub sha256: Option<String>,
    /// FULL_OBJECT or COMPOSITE.
    pub kind: Option<dto::ChecksumType>,
}

impl ChecksumFields {
    /// The fields of a stored checksum (the whole-object value, `-N` for a composite).
    pub fn of(c: Option<&ObjectChecksum>) -> ChecksumFields {
        let mut f = ChecksumFields::default();
        let Some(c) = c else { return f };
        let v = Some(c.s3_value());
        match c.algorithm {
            ChecksumAlgorithm::Crc32 => f.crc32 = v,
            ChecksumAlgorithm::Crc32c => f.crc32c = v,
            ChecksumAlgorithm::Crc64Nvme => f.crc64nvme = v,
            ChecksumAlgorithm::Sha1 => f.sha1 = v,
            ChecksumAlgorithm::Sha256 => f.sha256 = v,
        }
        f.kind = Some(checksum_type(c.kind));
        f
    }

    /// The value for a part (a part's own checksum, never `-N`).
    pub fn of_part(c: Option<&ObjectChecksum>) -> ChecksumFields {
        let mut f = ChecksumFields::of(c);
        f.kind = None;
        f
    }
}

/// Values the client sent for the five checksum headers.
pub struct SentChecksums<'a> {
    /// `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`.
    pub algorithm: Option<&'a dto::ChecksumAlgorithm>,
    /// `x-amz-checksum-crc32`.
    pub crc32: Option<&'a String>,
    /// `x-amz-checksum-crc32c`.
    pub crc32c: Option<&'a String>,
    /// `x-amz-checksum-crc64nvme`.
    pub crc64nvme: Option<&'a String>,
    /// `x-amz-checksum-sha1`.
    pub sha1: Option<&'a String>,
    /// `x-amz-checksum-sha256`.
    pub sha256: Option<&'a String>,
}

/// The checksum a PUT or UploadPart asks the engine for: the algorithm named, or implied by the
/// one value sent; the value from its header, or — when `x-amz-trailer` announces it — from
/// the trailer (returned as the slot the body reader fills).
pub fn checksum_request(
    sent: &SentChecksums<'_>,
    headers: &http::HeaderMap,
) -> Result<(Option<ChecksumRequest>, Option<TrailerSlot>), S3Error> {
    let values: Vec<(ChecksumAlgorithm, &String)> = [
        (ChecksumAlgorithm::Crc32, sent.crc32),
        (ChecksumAlgorithm::Crc32c, sent.crc32c),
        (ChecksumAlgorithm::Crc64Nvme, sent.crc64nvme),
        (ChecksumAlgorithm::Sha1, sent.sha1),
        (ChecksumAlgorithm::Sha256, sent.sha256),
    ]
    .into_iter()
    .filter_map(|(a, v)| v.map(|v| (a, v)))
    .collect();
    if values.len() > 1 {
        return Err(invalid_request("send at most one x-amz-checksum-* header"));
    }
    let trailer = headers
        .get("x-amz-trailer")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| s.starts_with("x-amz-checksum-"));
    let named = match sent.algorithm {
        Some(a) => Some(ChecksumAlgorithm::parse(a.as_str()).map_err(|e| {
            invalid_request(
                e.to_string()
                    .trim_start_matches("InvalidArgument: ")
                    .to_string(),
            )
        })?),
        None => None,
    };
    let from_trailer = match &trailer {
        Some(t) => Some(
            ChecksumAlgorithm::ALL
                .into_iter()
                .find(|a| a.header() == t.as_str())
                .ok_or_else(|| {
                    invalid_argument(format!("x-amz-trailer names {t}, which is not a checksum"))
                })?,
        ),
        None => None,
    };
    let algorithm = values.first().map(|(a, _)| *a).or(from_trailer).or(named);
    let Some(algorithm) = algorithm else {
        return Ok((None, None));
    };
    if let Some(n) = named {
        if n != algorithm {
            return Err(invalid_request(format!(
                "x-amz-checksum-algorithm is {} but the checksum sent is {}",
                n.name(),
                algorithm.name()
            )));
        }
    }
    if let Some((a, v)) = values.first() {
        if !is_well_formed(*a, v) {
            return Err(s3_error(
                "BadDigest",
                400,
                format!(
                    "the {} value '{v}' is not a base64 {}-byte digest",
                    a.header(),
                    a.digest_len()
                ),
            ));
        }
        return Ok((
            Some(ChecksumRequest {
                algorithm,
                expected: Some(Expected::Value((*v).clone())),
            }),
            None,
        ));
    }
    if let Some(t) = trailer {
        let slot = Arc::new(OnceLock::new());
        return Ok((
            Some(ChecksumRequest {
                algorithm,
                expected: Some(Expected::Trailer(slot.clone())),
            }),
            Some((t, slot)),
        ));
    }
    Ok((
        Some(ChecksumRequest {
            algorithm,
            expected: None,
        }),
        None,
    ))
}

/// Content-MD5 as 16 bytes; InvalidDigest when it is not base64 of 16 bytes.
pub fn content_md5(v: Option<&String>) -> Result<Option<[u8; 16]>, S3Error> {
    use base64::Engine as _;
    let Some(v) = v else { return Ok(None) };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| {
            s3_error(
                "InvalidDigest",
                400,
                format!("the Content-MD5 '{v}' is not the base64 of a 16-byte MD5"),
            )
        })?;
    Ok(Some(bytes.try_into().expect("16 bytes")))
}

/// Content-Encoding without `aws-chunked` (a transfer detail, never the object's encoding).
pub fn content_encoding(v: Option<&String>) -> Option<String> {
    let kept: Vec<&str> = v?
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// The system metadata of a write: its headers, as the write's input has them.
pub struct SystemHeaders<'a> {
    pub content_encoding: Option<&'a String>,
    /// From [`content_disposition`]: the typed header, or the UTF-8 one s3s could not read.
    pub content_disposition: Option<String>,
    pub content_language: Option<&'a String>,
    pub cache_control: Option<&'a String>,
    /// From [`expires`]: the typed header, or the raw one s3s could not type.
    pub expires: Option<String>,
    pub website_redirect_location: Option<&'a String>,
    /// From [`storage_class`]: checked, `None` for STANDARD.
    pub storage_class: Option<String>,
}

pub use seedbed_engine::object::transition::STORAGE_CLASSES;

/// A write's `x-amz-storage-class`, checked: `None` for none or STANDARD (what S3 shows as no
/// header), else the class; one S3 does not take here is InvalidStorageClass.
pub fn storage_class(v: Option<&dto::StorageClass>) -> Result<Option<String>, S3Error> {
    let Some(v) = v else { return Ok(None) };
    match v.as_str() {
        "STANDARD" => Ok(None),
        c if STORAGE_CLASSES.contains(&c) => Ok(Some(c.to_string())),
        c => Err(s3_error(
            "InvalidStorageClass",
            400,
            format!(
                "The storage class you specified is not valid: '{c}' (this server takes {})",
                STORAGE_CLASSES.join(", ")
            ),
        )),
    }
}

/// A write's `Expires`: the header s3s parsed, else the value it could not parse, carried in
/// the request's extensions ([`super::lenient::RawExpires`]); S3 stores either as given.
pub fn expires(typed: Option<&dto::Timestamp>, extensions: &http::Extensions) -> Option<String> {
    typed.map(http_date).or_else(|| {
        extensions
            .get::<super::lenient::RawExpires>()
            .map(|r| r.0.clone())
    })
}

/// A write's `Content-Disposition`: the header s3s read, else the UTF-8 one it could not,
/// carried in the request's extensions ([`super::lenient::RawContentDisposition`]).
pub fn content_disposition(
    typed: Option<&String>,
    extensions: &http::Extensions,
) -> Option<String> {
    typed.cloned().or_else(|| {
        extensions
            .get::<super::lenient::RawContentDisposition>()
            .map(|r| r.0.clone())
    })
}

/// A stored `Content-Disposition` for s3s's typed output field, which holds ASCII only; one in
/// UTF-8 beyond ASCII goes into `headers` as its bytes instead, as S3 sends it back.
pub fn content_disposition_out(
    stored: Option<&String>,
    headers: &mut http::HeaderMap,
) -> Option<String> {
    match stored {
        Some(s) if !s.is_ascii() => {
            if let Ok(v) = http::HeaderValue::from_bytes(s.as_bytes()) {
                headers.insert(http::header::CONTENT_DISPOSITION, v);
            }
            None
        }
        other => other.cloned(),
    }
}

/// A stored `Expires` that s3s's typed output field cannot hold (not an HTTP date), as a header
/// to send beside the output: S3 sends it back as it was given.
pub fn raw_expires_header(stored: Option<&str>, headers: &mut http::HeaderMap) {
    if let Some(s) = stored.filter(|s| parse_http_date(s).is_none()) {
        if let Ok(v) = http::HeaderValue::from_str(s) {
            headers.insert(http::header::EXPIRES, v);
        }
    }
}

/// The system metadata of a write.
pub fn system_meta(h: SystemHeaders<'_>) -> SystemMeta {
    SystemMeta {
        content_encoding: content_encoding(h.content_encoding),
        content_disposition: h.content_disposition,
        content_language: h.content_language.cloned(),
        cache_control: h.cache_control.cloned(),
        expires: h.expires,
        website_redirect_location: h.website_redirect_location.cloned(),
        storage_class: h.storage_class,
    }
}

/// An HTTP date.
pub fn http_date(t: &dto::Timestamp) -> String {
    let mut v = Vec::new();
    let _ = t.format(dto::TimestampFormat::HttpDate, &mut v);
    String::from_utf8(v).unwrap_or_default()
}

/// Parse a stored HTTP date back into a timestamp.
pub fn parse_http_date(s: &str) -> Option<dto::Timestamp> {
    dto::Timestamp::parse(dto::TimestampFormat::HttpDate, s).ok()
}

/// User metadata from the wire (names lower-cased, as S3 stores them).
pub fn user_meta(m: Option<&dto::Metadata>) -> BTreeMap<String, String> {
    m.map(|m| {
        m.iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect()
    })
    .unwrap_or_default()
}

/// User metadata to the wire.
pub fn metadata(m: &BTreeMap<String, String>) -> Option<dto::Metadata> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// An engine ACL as S3's grant list: group grants first, then accounts (the order S3's
/// reference implementation answers in, and clients' tests expect).
pub fn grants(acl: &Acl) -> Vec<dto::Grant> {
    let mut ordered: Vec<&Grant> = acl
        .grants
        .iter()
        .filter(|g| matches!(g.grantee, Grantee::Group(_)))
        .collect();
    ordered.extend(
        acl.grants
            .iter()
            .filter(|g| matches!(g.grantee, Grantee::User(_))),
    );
    ordered
        .into_iter()
        .map(|g| {
            let grantee = match &g.grantee {
                Grantee::User(o) => dto::Grantee {
                    display_name: Some(o.display_name.clone()),
                    email_address: None,
                    id: Some(o.id.clone()),
                    type_: dto::Type::from(dto::Type::CANONICAL_USER.to_string()),
                    uri: None,
                },
                Grantee::Group(gr) => dto::Grantee {
                    display_name: None,
                    email_address: None,
                    id: None,
                    type_: dto::Type::from(dto::Type::GROUP.to_string()),
                    uri: Some(gr.uri().to_string()),
                },
            };
            dto::Grant {
                grantee: Some(grantee),
                permission: Some(dto::Permission::from(g.permission.name().to_string())),
            }
        })
        .collect()
}

/// A grantee from the wire, resolved against the known accounts: an unknown canonical ID is
/// InvalidArgument, an unknown e-mail address UnresolvableGrantByEmailAddress.
fn grantee(g: &dto::Grantee, accounts: &Accounts) -> Result<Grantee, S3Error> {
    match g.type_.as_str() {
        dto::Type::CANONICAL_USER => {
            let id = g.id.as_deref().ok_or_else(|| {
                s3_error(
                    "MalformedACLError",
                    400,
                    "a CanonicalUser grantee needs an ID",
                )
            })?;
            accounts
                .by_canonical_id(id)
                .map(Grantee::User)
                .ok_or_else(|| invalid_argument(format!("no account has the canonical ID '{id}'")))
        }
        dto::Type::AMAZON_CUSTOMER_BY_EMAIL => {
            let email = g.email_address.as_deref().unwrap_or_default();
            accounts.by_email(email).map(Grantee::User).ok_or_else(|| {
                s3_error(
                    "UnresolvableGrantByEmailAddress",
                    400,
                    format!("the e-mail address '{email}' does not match any account"),
                )
            })
        }
        dto::Type::GROUP => {
            let uri = g.uri.as_deref().unwrap_or_default();
            Group::parse(uri)
                .map(Grantee::Group)
                .map_err(|e| invalid_argument(e.to_string()))
        }
        other => Err(s3_error(
            "MalformedACLError",
            400,
            format!("grantee type '{other}' is not CanonicalUser, AmazonCustomerByEmail or Group"),
        )),
    }
}

/// Grants from an AccessControlPolicy document.
pub fn grants_from_policy(
    p: &dto::AccessControlPolicy,
    accounts: &Accounts,
) -> Result<Vec<Grant>, S3Error> {
    p.grants
        .iter()
        .flatten()
        .map(|g| {
            let who = g
                .grantee
                .as_ref()
                .ok_or_else(|| s3_error("MalformedACLError", 400, "a grant needs a Grantee"))?;
            let perm = g
                .permission
                .as_ref()
                .ok_or_else(|| s3_error("MalformedACLError", 400, "a grant needs a Permission"))?;
            Ok(Grant {
                grantee: grantee(who, accounts)?,
                permission: Permission::parse(perm.as_str())
                    .map_err(|e| s3_error("MalformedACLError", 400, e.to_string()))?,
            })
        })
        .collect()
}

/// Grants from `x-amz-grant-*` headers: `id="...", uri="...", emailAddress="..."` lists.
pub fn grants_from_headers(
    headers: &[(Permission, Option<&String>)],
    accounts: &Accounts,
) -> Result<Vec<Grant>, S3Error> {
    let mut out = Vec::new();
    for (perm, value) in headers {
        let Some(value) = value else { continue };
        for item in value.split(',') {
            let (kind, v) = item
                .trim()
                .split_once('=')
                .ok_or_else(|| invalid_argument(format!("grant '{item}' is not type=\"value\"")))?;
            let v = v.trim().trim_matches('"').to_string();
            let g = match kind.trim().to_ascii_lowercase().as_str() {
                "id" => dto::Grantee {
                    id: Some(v),
                    type_: dto::Type::from(dto::Type::CANONICAL_USER.to_string()),
                    display_name: None,
                    email_address: None,
                    uri: None,
                },
                "uri" => dto::Grantee {
                    uri: Some(v),
                    type_: dto::Type::from(dto::Type::GROUP.to_string()),
                    display_name: None,
                    email_address: None,
                    id: None,
                },
                "emailaddress" => dto::Grantee {
                    email_address: Some(v),
                    type_: dto::Type::from(dto::Type::AMAZON_CUSTOMER_BY_EMAIL.to_string()),
                    display_name: None,
                    id: None,
                    uri: None,
                },
                other => {
                    return Err(invalid_argument(format!(
                        "grantee kind '{other}' is not id, uri or emailAddress"
                    )))
                }
            };
            out.push(Grant {
                grantee: grantee(&g, accounts)?,
                permission: *perm,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_never_the_objects_encoding() {
        let s = |v: &str| content_encoding(Some(&v.to_string()));
        assert_eq!(s("gzip"), Some("gzip".into()));
        assert_eq!(s("deflate, gzip"), Some("deflate, gzip".into()));
        assert_eq!(s("gzip, aws-chunked"), Some("gzip".into()));
        assert_eq!(s("aws-chunked, gzip"), Some("gzip".into()));
        assert_eq!(s("aws-chunked"), None);
        assert_eq!(s("aws-chunked, aws-chunked"), None);
    }

    #[test]
    fn times_round_trip_through_http_dates() {
        let t = ts(1_700_000_000_000);
        assert_eq!(unix_s(&t), 1_700_000_000);
        let d = http_date(&t);
        assert_eq!(d, "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(unix_s(&parse_http_date(&d).unwrap()), 1_700_000_000);
    }
}
