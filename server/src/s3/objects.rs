//! Object operations: PUT (streamed in), GET (streamed out), HEAD, DELETE, DeleteObjects,
//! COPY, object ACLs and GetObjectAttributes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};
use seedbed_engine::object::lifecycle::{Candidate, DayLength};
use seedbed_engine::object::{
    AclRequest, ByteRange, CannedAcl, Conditions, CopyOptions, GetOptions, ObjectError, ObjectInfo,
    PartInfo, Permission, PutOptions,
};
use seedbed_engine::parallel::map_indexed;

use super::body::{response_channel, BodyReader, Collected};
use super::convert::{
    self, checksum_request, content_md5, etag, etag_condition, grants, grants_from_headers,
    grants_from_policy, owner, system_meta, ts, unix_s, user_meta, ChecksumFields, SentChecksums,
    SystemHeaders,
};
use super::endpoint::{with_requester, Cx, Endpoint, Keys};
use super::errors::{from_object, internal, invalid_argument, invalid_request, s3_error};
use super::lifecycle;
use super::object_lock::{lock_headers, lock_request};
use super::sse::{self, SseFields};
use super::tagging::tags_from_header;

/// Chunks in flight per GET response (each up to one shard, 1 MiB by default).
const RESPONSE_CHUNKS: usize = 4;

/// A GET of at most this many bytes is read whole before the response starts (as much
/// memory as the chunks a streamed GET keeps in flight, and no per-chunk hand-off).
const INLINE_BODY_MAX: u64 = 1 << 20;

/// An object ACL from a write request: canned or `x-amz-grant-*` headers.
pub(super) fn object_acl_request(
    cx: &Cx,
    canned: Option<&ObjectCannedACL>,
    headers: &[(Permission, Option<&String>)],
) -> S3Result<Option<AclRequest>> {
    let has_headers = headers.iter().any(|(_, v)| v.is_some());
    if canned.is_some() && has_headers {
        return Err(cx.err(invalid_request(
            "give x-amz-acl or x-amz-grant-* headers, not both",
        )));
    }
    if let Some(c) = canned {
        let c = CannedAcl::parse(c.as_str()).map_err(|e| cx.object_err(&e))?;
        return Ok(Some(AclRequest::Canned(c)));
    }
    if has_headers {
        let accounts = cx
            .guard
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let g = grants_from_headers(headers, &accounts).map_err(|e| cx.err(e))?;
        return Ok(Some(AclRequest::Grants(g)));
    }
    Ok(None)
}

/// S3's Content-Type for an object written without one.
pub(super) fn default_content_type(given: Option<&String>) -> String {
    given
        .filter(|c| !c.is_empty())
        .cloned()
        .unwrap_or_else(|| "binary/octet-stream".to_string())
}

/// The condition keys of a write that are its headers as sent: `s3:x-amz-grant-*`,
/// `s3:x-amz-server-side-encryption[-customer-algorithm]` (a bucket policy that denies
/// unencrypted uploads tests them with `Null`), `s3:x-amz-server-side-encryption-aws-kms-key-id`
/// (one that allows only a given KMS key) and `s3:x-amz-storage-class`.
pub(super) fn grant_keys(headers: &http::HeaderMap) -> Keys {
    [
        "x-amz-grant-full-control",
        "x-amz-grant-read",
        "x-amz-grant-read-acp",
        "x-amz-grant-write",
        "x-amz-grant-write-acp",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-storage-class",
    ]
    .iter()
    .filter_map(|h| {
        headers
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .map(|v| (format!("s3:{h}"), vec![v.to_string()]))
    })
    .collect()
}

/// A version id as S3 sends it back (the `null` version has none on the wire after a PUT).
pub(super) fn wire_version(v: &str) -> Option<String> {
    (v != "null").then(|| v.to_string())
}

/// An HTTP byte range in the engine's terms.
fn byte_range(r: &Range) -> ByteRange {
    match *r {
        Range::Int {
            first,
            last: Some(last),
        } => ByteRange::FromTo(first, last),
        Range::Int { first, last: None } => ByteRange::From(first),
        Range::Suffix { length } => ByteRange::Suffix(length),
    }
}

fn conditions(
    if_match: Option<&IfMatch>,
    if_none_match: Option<&IfNoneMatch>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Conditions {
    Conditions {
        if_match: if_match.map(etag_condition),
        if_none_match: if_none_match.map(etag_condition),
        if_modified_since_s: if_modified_since.map(unix_s),
        if_unmodified_since_s: if_unmodified_since.map(unix_s),
    }
}

/// The 304 S3 answers a conditional GET or HEAD with: no body, the ETag and Last-Modified.
fn not_modified(info: &ObjectInfo) -> S3Error {
    let mut e = s3_error("NotModified", 304, "Not Modified");
    let mut h = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&info.etag) {
        h.insert("etag", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&convert::http_date(&ts(info.last_modified_ms))) {
        h.insert("last-modified", v);
    }
    e.set_headers(h);
    e
}

/// User metadata as response headers, byte for byte: a value of Latin-1 characters goes out
/// as those bytes (what a client sent as raw header bytes comes back the same), anything else
/// as an RFC 2047 encoded word, as S3 does.
fn meta_headers(m: &std::collections::BTreeMap<String, String>) -> http::HeaderMap {
    use base64::Engine as _;
    let mut h = http::HeaderMap::new();
    for (k, v) in m {
        let Ok(name) = http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()) else {
            continue;
        };
        let value = if v
            .chars()
            .all(|c| (c as u32) < 256 && c != '\r' && c != '\n')
        {
            let bytes: Vec<u8> = v
                .chars()
                .map(|c| u8::try_from(c).expect("checked above: below 256"))
                .collect();
            http::HeaderValue::from_bytes(&bytes).ok()
        } else {
            let enc = base64::engine::general_purpose::STANDARD.encode(v.as_bytes());
            http::HeaderValue::from_str(&format!("=?UTF-8?B?{enc}?=")).ok()
        };
        if let Some(value) = value {
            h.append(name, value);
        }
    }
    h
}

/// What GET and HEAD answer with, before the body.
struct Head {
    info: ObjectInfo,
    range: (u64, u64),
    partial: bool,
    part: Option<PartInfo>,
    part_asked: bool,
    /// `x-amz-expiration`, when a lifecycle rule will expire this (current) version.
    expiration: Option<String>,
    /// `x-amz-restore`, for a version in an archive class with a restore asked.
    restore: Option<String>,
}

impl Head {
    /// A byte range, or any part asked for by number — part 1 of an object uploaded in one
    /// piece included, which S3 answers with 206 and the whole object's range (moto's
    /// AWS-verified test_head_object / test_get_object).
    fn content_range(&self) -> Option<String> {
        (self.partial || (self.part_asked && self.info.size > 0)).then(|| {
            format!(
                "bytes {}-{}/{}",
                self.range.0,
                self.range.1.saturating_sub(1),
                self.info.size
            )
        })
    }

    fn checksums(&self, mode: Option<&ChecksumMode>) -> ChecksumFields {
        let enabled = mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case("ENABLED"));
        // A part GET shows the part's checksum; the type is the object's.
        let asked_part = self.part_asked;
        match (enabled || asked_part, &self.part) {
            (false, _) => ChecksumFields::default(),
            // A byte range has no stored checksum (S3 sends none).
            (true, None) if self.partial && !asked_part => ChecksumFields::default(),
            (true, Some(p)) => {
                let mut f = ChecksumFields::of_part(p.checksum.as_ref());
                f.kind = self
                    .info
                    .checksum
                    .as_ref()
                    .map(|c| convert::checksum_type(c.kind));
                f
            }
            (true, None) if asked_part => ChecksumFields::default(),
            (true, None) => ChecksumFields::of(self.info.checksum.as_ref()),
        }
    }

    fn parts_count(&self) -> Option<i32> {
        (self.part_asked && self.info.parts > 0).then_some(super::xml_count(self.info.parts))
    }
}

/// Open an object as the caller and evaluate the request's conditions and range; on a 304 the
/// error carries the version's ETag and date. `data`: the caller reads the bytes (GET), which
/// an archived version refuses until restored; a HEAD reads metadata only.
fn open<'a>(
    s: &seedbed_engine::object::AuthorizedStore<'a>,
    bucket: &str,
    key: &str,
    read: &GetOptions,
    day: DayLength,
    data: bool,
) -> Result<(seedbed_engine::object::ObjectReader<'a>, Head), OpenError> {
    let mut r = s
        .open_authorized(bucket, key, read.version_id.as_deref())
        .map_err(|e| Box::new((e, None)))?;
    let info = r.info().clone();
    r.check(&read.conditions)
        .map_err(|e| Box::new((e, Some(info.clone()))))?;
    if data {
        r.check_readable().map_err(|e| Box::new((e, None)))?;
    }
    r.select(read.range, read.part_number)
        .map_err(|e| Box::new((e, None)))?;
    r.unlock(read.sse_customer.as_ref())
        .map_err(|e| Box::new((e, None)))?;
    // S3 tells when the current version expires (a version asked for by id is answered
    // without: noncurrent versions go by other rules).
    let expiration = if read.version_id.is_none() {
        let c = Candidate {
            key,
            size: info.size,
            tags: &info.tags,
        };
        let expiry = s
            .store()
            .lifecycle_expiry(bucket, c, info.last_modified_ms, day);
        lifecycle::expiration_header(expiry.ok().flatten())
    } else {
        None
    };
    let restore = super::restore::restore_header(&info, s.store().clock_ms());
    let head = Head {
        range: r.range(),
        partial: r.is_partial(),
        part: r.part().cloned(),
        info,
        part_asked: read.part_number.is_some(),
        expiration,
        restore,
    };
    Ok((r, head))
}

/// Why an object could not be opened, with the version's metadata when a condition failed
/// (a 304 carries its ETag). Boxed: errors stay small on the happy path.
type OpenError = Box<(ObjectError, Option<ObjectInfo>)>;

fn open_error(cx: &Cx, err: OpenError) -> S3Error {
    let (e, info) = *err;
    match (&e, info) {
        (ObjectError::NotModified(_), Some(info)) => cx.err(not_modified(&info)),
        _ => cx.object_err(&e),
    }
}

/// `x-amz-tagging-count`: how many tags the version has, when it has any.
fn tag_count(info: &ObjectInfo) -> Option<i32> {
    (!info.tags.is_empty()).then(|| super::xml_count(info.tags.len()))
}

fn version_keys(version_id: Option<&String>) -> Keys {
    version_id
        .map(|v| vec![("s3:VersionId".to_string(), vec![v.clone()])])
        .unwrap_or_default()
}

impl Endpoint {
    pub(super) async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let cx = self.cx(&req);
        let S3Request {
            input,
            headers,
            extensions,
            trailing_headers,
            ..
        } = req;
        let size =
            match input.content_length {
                Some(n) if n >= 0 => n as u64,
                Some(n) => {
                    return Err(cx.err(invalid_argument(format!("Content-Length {n} is negative"))))
                }
                None if input.body.is_none() => 0,
                None => return Err(cx.err(s3_error(
                    "MissingContentLength",
                    411,
                    "a PUT needs Content-Length (or x-amz-decoded-content-length with aws-chunked)",
                ))),
            };
        if size > self.limits.max_object_bytes {
            return Err(cx.err(s3_error(
                "EntityTooLarge",
                400,
                format!(
                    "the object is {size} bytes; this endpoint takes at most {} in one PUT (use multipart)",
                    self.limits.max_object_bytes
                ),
            )));
        }
        if headers.get("content-md5").is_some_and(|v| v.is_empty()) {
            return Err(cx.err(s3_error(
                "InvalidDigest",
                400,
                "the Content-MD5 header is empty",
            )));
        }
        let (checksum, slot) = checksum_request(
            &SentChecksums {
                algorithm: input.checksum_algorithm.as_ref(),
                crc32: input.checksum_crc32.as_ref(),
                crc32c: input.checksum_crc32c.as_ref(),
                crc64nvme: input.checksum_crc64nvme.as_ref(),
                sha1: input.checksum_sha1.as_ref(),
                sha256: input.checksum_sha256.as_ref(),
            },
            &headers,
        )
        .map_err(|e| cx.err(e))?;
        // A browser form's `acl` and `tagging` fields (S3's names; s3s reads only x-amz-acl
        // and x-amz-tagging), carried here by `form_post.rs`.
        let form = extensions
            .get::<super::form_post::FormFields>()
            .cloned()
            .unwrap_or_default();
        let canned = input
            .acl
            .clone()
            .or_else(|| form.acl.map(ObjectCannedACL::from));
        let tagging = input.tagging.clone().or(form.tagging);
        let acl = object_acl_request(
            &cx,
            canned.as_ref(),
            &[
                (Permission::FullControl, input.grant_full_control.as_ref()),
                (Permission::Read, input.grant_read.as_ref()),
                (Permission::ReadAcp, input.grant_read_acp.as_ref()),
                (Permission::WriteAcp, input.grant_write_acp.as_ref()),
            ],
        )?;
        let grant_keys = grant_keys(&headers);
        let (retention, legal_hold) = lock_request(
            input.object_lock_mode.as_ref(),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref(),
        )
        .map_err(|e| cx.err(e))?;
        let opts = PutOptions {
            retention,
            legal_hold,
            content_type: Some(default_content_type(input.content_type.as_ref())),
            user_meta: user_meta(input.metadata.as_ref()),
            if_none_match: input.if_none_match.as_ref().map(etag_condition),
            if_match: input.if_match.as_ref().map(etag_condition),
            system: system_meta(SystemHeaders {
                content_encoding: input.content_encoding.as_ref(),
                content_disposition: convert::content_disposition(
                    input.content_disposition.as_ref(),
                    &extensions,
                ),
                content_language: input.content_language.as_ref(),
                cache_control: input.cache_control.as_ref(),
                expires: convert::expires(input.expires.as_ref(), &extensions),
                website_redirect_location: input.website_redirect_location.as_ref(),
                storage_class: convert::storage_class(input.storage_class.as_ref())
                    .map_err(|e| cx.err(e))?,
            }),
            checksum,
            content_md5: content_md5(input.content_md5.as_ref()).map_err(|e| cx.err(e))?,
            acl,
            tags: tags_from_header(tagging.as_ref()).map_err(|e| cx.err(e))?,
            ..PutOptions::default()
        };
        // Bad encryption headers are refused after the authorization (below): a bucket policy
        // that denies a wrong algorithm answers 403, as on S3.
        let sse = sse::sse_request!(input);
        let opts = PutOptions {
            sse: sse.as_ref().ok().cloned().flatten(),
            ..opts
        };
        let counted = Arc::new(AtomicU64::new(0));
        let (mut body, failure) = BodyReader::new(
            input.body,
            size,
            self.handle.clone(),
            self.limits.body_idle,
            trailing_headers,
            slot,
            counted.clone(),
        );
        let (bucket, key) = (input.bucket, input.key);
        let day = self.lifecycle_day;
        let result = cx
            .run(grant_keys, move |s| {
                if let Err(e) = sse {
                    s.check_put(&bucket, &key, &opts)?;
                    return Err(e);
                }
                let r = s.put_object(&bucket, &key, &mut body, size, &opts)?;
                let c = Candidate {
                    key: &key,
                    size,
                    tags: &opts.tags,
                };
                let expiry = s.store().lifecycle_expiry_of_new(&bucket, c, day);
                Ok((r, lifecycle::expiration_header(expiry.ok().flatten())))
            })
            .await;
        cx.count_in(counted.load(Ordering::Relaxed));
        let (r, expiration) = match result {
            Ok(r) => r,
            Err(e) => return Err(failure.take().map(|f| cx.err(f)).unwrap_or(e)),
        };
        let c = ChecksumFields::of(r.checksum.as_ref());
        let encrypted = SseFields::of(r.encryption.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&r.etag)),
            version_id: wire_version(&r.version_id),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: c.kind,
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            expiration,
            ..PutObjectOutput::default()
        }))
    }

    pub(super) async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let cx = self.cx(&req);
        sse::refuse_on_read(&req.headers).map_err(|e| cx.object_err(&e))?;
        let input = req.input;
        let cond = conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        );
        let range = input.range.as_ref().map(byte_range);
        let part = match input.part_number {
            Some(n) if n < 1 => {
                return Err(cx.err(invalid_argument(format!(
                    "part number {n} must be at least 1"
                ))))
            }
            n => n.map(|n| n as u32),
        };
        let read = GetOptions {
            version_id: input.version_id.clone(),
            range,
            part_number: part,
            conditions: cond,
            sse_customer: sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
        };
        let keys = cx.context(version_keys(input.version_id.as_ref()));
        let sent = Arc::new(AtomicU64::new(0));
        let (mut sender, stream) = response_channel(
            self.handle.clone(),
            self.limits.response_stall,
            RESPONSE_CHUNKS,
            sent,
        );
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        let (store, guard, principal) = (
            cx.store.clone(),
            cx.guard.clone(),
            cx.caller.principal.clone(),
        );
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let day = self.lifecycle_day;
        tokio::task::spawn_blocking(move || {
            with_requester(&principal, &keys, |r| {
                let s = guard.on(&store, r);
                match open(&s, &bucket, &key, &read, day, true) {
                    Err(e) => {
                        let _ = head_tx.send(Err(e));
                    }
                    Ok((reader, head)) => {
                        if head.range.1 - head.range.0 <= INLINE_BODY_MAX {
                            // Small: read it all now, and answer with headers and body at
                            // once — no channel, no hand-off per chunk. A read that fails is
                            // an error response, not a cut connection.
                            let mut body = Collected::default();
                            let r = match reader.read_chunks_to(&mut body) {
                                Ok(()) => Ok((head, Some(body))),
                                Err(e) => Err(Box::new((e, None))),
                            };
                            let _ = head_tx.send(r);
                            return;
                        }
                        if head_tx.send(Ok((head, None))).is_err() {
                            return;
                        }
                        if let Err(e) = reader.read_chunks_to(&mut sender) {
                            // A client that went away or stopped reading is not the store's fault.
                            if !e.is_sink_failure() {
                                tracing::warn!(bucket = %bucket, key = %key, error = %e, "GET ended early");
                            }
                            sender.abort(e.to_string());
                        }
                    }
                }
            })
        });
        let (head, inline) = match head_rx.await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(open_error(&cx, e)),
            Err(_) => return Err(cx.err(internal("the read task ended without an answer"))),
        };
        let c = head.checksums(input.checksum_mode.as_ref());
        let info = &head.info;
        let lock = lock_headers(info);
        let len = head.range.1 - head.range.0;
        let encrypted = SseFields::of(info.encryption.as_ref());
        // A Content-Disposition beyond ASCII goes out as a header of its own (s3s's field
        // holds ASCII only).
        let mut utf8_headers = http::HeaderMap::new();
        let content_disposition = convert::content_disposition_out(
            info.system.content_disposition.as_ref(),
            &mut utf8_headers,
        );
        let mut resp = S3Response::new(GetObjectOutput {
            body: Some(match inline {
                Some(b) => b.into_blob(),
                None => StreamingBlob::wrap(stream),
            }),
            accept_ranges: Some("bytes".into()),
            content_length: Some(len as i64),
            content_range: head.content_range(),
            content_type: info.content_type.clone(),
            cache_control: info.system.cache_control.clone(),
            content_disposition,
            content_encoding: info.system.content_encoding.clone(),
            content_language: info.system.content_language.clone(),
            expires: info
                .system
                .expires
                .as_deref()
                .and_then(convert::parse_http_date),
            website_redirect_location: info.system.website_redirect_location.clone(),
            storage_class: info.system.storage_class.clone().map(StorageClass::from),
            e_tag: Some(etag(&info.etag)),
            last_modified: Some(ts(info.last_modified_ms)),
            version_id: wire_version(&info.version_id),
            parts_count: head.parts_count(),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: c.kind,
            tag_count: tag_count(info),
            object_lock_mode: lock.0,
            object_lock_retain_until_date: lock.1,
            object_lock_legal_hold_status: lock.2,
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            expiration: head.expiration.clone(),
            restore: head.restore.clone(),
            ..GetObjectOutput::default()
        });
        resp.headers = meta_headers(&info.user_meta);
        resp.headers.extend(utf8_headers);
        convert::raw_expires_header(info.system.expires.as_deref(), &mut resp.headers);
        Ok(resp)
    }

    pub(super) async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let cx = self.cx(&req);
        sse::refuse_on_read(&req.headers).map_err(|e| cx.object_err(&e))?;
        let input = req.input;
        let cond = conditions(
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        );
        let read = GetOptions {
            version_id: input.version_id.clone(),
            range: input.range.as_ref().map(byte_range),
            part_number: input.part_number.map(|n| n.max(0) as u32),
            conditions: cond,
            sse_customer: sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
        };
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let day = self.lifecycle_day;
        let keys = version_keys(input.version_id.as_ref());
        let r = cx
            .run(keys, move |s| {
                Ok(open(s, &bucket, &key, &read, day, false).map(|(_, head)| head))
            })
            .await?;
        let head = r.map_err(|e| match &e.0 {
            // S3 answers a part number past the object's parts with 416 InvalidPartNumber,
            // and a HEAD shows only that status. GET keeps 400 InvalidPart, which ceph/s3-tests'
            // `test_non_multipart_get_part` expects of it (docs/s3-compatibility.md).
            ObjectError::InvalidPart(m) => cx.err(s3_error(
                "InvalidPartNumber",
                416,
                format!("The requested partnumber is not satisfiable: {m}"),
            )),
            _ => open_error(&cx, e),
        })?;
        let c = head.checksums(input.checksum_mode.as_ref());
        let info = &head.info;
        let lock = lock_headers(info);
        let encrypted = SseFields::of(info.encryption.as_ref());
        // A Content-Disposition beyond ASCII goes out as a header of its own (s3s's field
        // holds ASCII only).
        let mut utf8_headers = http::HeaderMap::new();
        let content_disposition = convert::content_disposition_out(
            info.system.content_disposition.as_ref(),
            &mut utf8_headers,
        );
        let mut resp = S3Response::new(HeadObjectOutput {
            accept_ranges: Some("bytes".into()),
            content_length: Some((head.range.1 - head.range.0) as i64),
            content_range: head.content_range(),
            content_type: info.content_type.clone(),
            cache_control: info.system.cache_control.clone(),
            content_disposition,
            content_encoding: info.system.content_encoding.clone(),
            content_language: info.system.content_language.clone(),
            expires: info
                .system
                .expires
                .as_deref()
                .and_then(convert::parse_http_date),
            website_redirect_location: info.system.website_redirect_location.clone(),
            storage_class: info.system.storage_class.clone().map(StorageClass::from),
            e_tag: Some(etag(&info.etag)),
            last_modified: Some(ts(info.last_modified_ms)),
            version_id: wire_version(&info.version_id),
            parts_count: head.parts_count(),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: c.kind,
            object_lock_mode: lock.0,
            object_lock_retain_until_date: lock.1,
            object_lock_legal_hold_status: lock.2,
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            expiration: head.expiration.clone(),
            restore: head.restore.clone(),
            ..HeadObjectOutput::default()
        });
        resp.headers = meta_headers(&info.user_meta);
        resp.headers.extend(utf8_headers);
        convert::raw_expires_header(info.system.expires.as_deref(), &mut resp.headers);
        // S3's HeadObject model has no TagCount; the header is sent as GET sends it (Ceph RGW
        // does; ceph/s3-tests' test_get_obj_head_tagging reads it).
        if let Some(n) = tag_count(info) {
            resp.headers
                .insert("x-amz-tagging-count", http::HeaderValue::from(n));
        }
        Ok(resp)
    }

    pub(super) async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let keys = version_keys(input.version_id.as_ref());
        let (bucket, key, version) = (input.bucket, input.key, input.version_id);
        let if_match = input.if_match.as_ref().map(etag_condition);
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        let asked = version.clone();
        let r = cx
            .run(keys, move |s| {
                match s.delete_object_bypassing(
                    &bucket,
                    &key,
                    version.as_deref(),
                    if_match.as_deref(),
                    bypass,
                ) {
                    // Deleting a version that is not there deletes nothing, successfully (S3).
                    Err(ObjectError::NoSuchVersion { .. }) => Ok(None),
                    other => other.map(Some),
                }
            })
            .await?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: r.as_ref().and_then(|r| r.delete_marker.then_some(true)),
            version_id: r
                .and_then(|r| r.version_id)
                .or(asked)
                .and_then(|v| wire_version(&v)),
            request_charged: None,
        }))
    }

    pub(super) async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let objects = input.delete.objects;
        if objects.len() > 1000 {
            return Err(cx.err(s3_error(
                "MalformedXML",
                400,
                format!(
                    "DeleteObjects takes at most 1000 keys; {} were given",
                    objects.len()
                ),
            )));
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        let bucket = input.bucket;
        let results = cx
            .run(vec![], move |s| {
                // A bucket that is not there fails the request, not each key (S3 answers 404
                // NoSuchBucket; s3fs's `rm` relies on it to say FileNotFoundError).
                s.store().bucket(&bucket)?;
                // Several deletes at once: the store commits those in flight together
                // (group commit), so a 1,000-key request costs far fewer syncs than 1,000.
                let each = map_indexed(objects.len(), DELETE_WORKERS, |i| {
                    let o = &objects[i];
                    match s.delete_object_bypassing(
                        &bucket,
                        &o.key,
                        o.version_id.as_deref(),
                        None,
                        bypass,
                    ) {
                        Err(ObjectError::NoSuchVersion { .. }) => {
                            Ok(seedbed_engine::object::DeleteResult {
                                version_id: o.version_id.clone(),
                                delete_marker: false,
                            })
                        }
                        other => other,
                    }
                });
                Ok(objects.into_iter().zip(each).collect::<Vec<_>>())
            })
            .await?;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (o, r) in results {
            match r {
                Ok(d) => {
                    if !quiet {
                        let marker_id = d.delete_marker.then(|| d.version_id.clone()).flatten();
                        deleted.push(DeletedObject {
                            key: Some(o.key),
                            version_id: o.version_id,
                            delete_marker: d.delete_marker.then_some(true),
                            delete_marker_version_id: marker_id,
                        });
                    }
                }
                Err(e) => {
                    let se = from_object(&e);
                    errors.push(Error {
                        code: Some(se.code().as_str().to_string()),
                        key: Some(o.key),
                        message: se.message().map(String::from),
                        version_id: o.version_id,
                    });
                }
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            request_charged: None,
        }))
    }

    pub(super) async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let cx = self.cx(&req);
        let headers = req.headers;
        let extensions = req.extensions;
        let input = req.input;
        let (src_bucket, src_key, src_version) =
            match &input.copy_source {
                CopySource::Bucket {
                    bucket,
                    key,
                    version_id,
                } => (
                    bucket.to_string(),
                    key.to_string(),
                    version_id.as_deref().map(String::from),
                ),
                _ => return Err(cx.err(s3_error(
                    "NotImplemented",
                    501,
                    "copy sources are bucket/key; access points and outposts are not served here",
                ))),
            };
        let replace = match input.metadata_directive.as_ref().map(|d| d.as_str()) {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(other) => {
                return Err(cx.err(invalid_argument(format!(
                    "x-amz-metadata-directive '{other}' is not COPY or REPLACE"
                ))))
            }
        };
        // A copy's lock comes from its own headers (or the bucket's default), never the source's.
        let (retention, legal_hold) = lock_request(
            input.object_lock_mode.as_ref(),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref(),
        )
        .map_err(|e| cx.err(e))?;
        let replace_tags = match input.tagging_directive.as_ref().map(|d| d.as_str()) {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(other) => {
                return Err(cx.err(invalid_argument(format!(
                    "x-amz-tagging-directive '{other}' is not COPY or REPLACE"
                ))))
            }
        };
        let acl = object_acl_request(
            &cx,
            input.acl.as_ref(),
            &[
                (Permission::FullControl, input.grant_full_control.as_ref()),
                (Permission::Read, input.grant_read.as_ref()),
                (Permission::ReadAcp, input.grant_read_acp.as_ref()),
                (Permission::WriteAcp, input.grant_write_acp.as_ref()),
            ],
        )?;
        let onto_itself =
            src_bucket == input.bucket && src_key == input.key && src_version.is_none();
        if onto_itself
            && !replace
            && acl.is_none()
            && input.storage_class.is_none()
            && input.website_redirect_location.is_none()
            && input.server_side_encryption.is_none()
            && input.sse_customer_algorithm.is_none()
        {
            // S3's words (moto's AWS-verified test_copy_object_in_place_with_versioning).
            return Err(cx.err(invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself \
                 without changing the object's metadata, storage class, website redirect location \
                 or encryption attributes.",
            )));
        }
        let (checksum, _) = checksum_request(
            &SentChecksums {
                algorithm: input.checksum_algorithm.as_ref(),
                crc32: None,
                crc32c: None,
                crc64nvme: None,
                sha1: None,
                sha256: None,
            },
            &http::HeaderMap::new(),
        )
        .map_err(|e| cx.err(e))?;
        let opts = PutOptions {
            // REPLACE without a Content-Type gets S3's default; COPY takes the source's.
            content_type: replace.then(|| default_content_type(input.content_type.as_ref())),
            user_meta: user_meta(input.metadata.as_ref()),
            system: system_meta(SystemHeaders {
                content_encoding: input.content_encoding.as_ref(),
                content_disposition: convert::content_disposition(
                    input.content_disposition.as_ref(),
                    &extensions,
                ),
                content_language: input.content_language.as_ref(),
                cache_control: input.cache_control.as_ref(),
                expires: convert::expires(input.expires.as_ref(), &extensions),
                website_redirect_location: input.website_redirect_location.as_ref(),
                storage_class: convert::storage_class(input.storage_class.as_ref())
                    .map_err(|e| cx.err(e))?,
            }),
            checksum,
            acl,
            tags: tags_from_header(input.tagging.as_ref()).map_err(|e| cx.err(e))?,
            retention,
            legal_hold,
            sse: sse::sse_request!(input).map_err(|e| cx.object_err(&e))?,
            ..PutOptions::default()
        };
        let source_key = sse::sse_key!(copy_source input).map_err(|e| cx.object_err(&e))?;
        let copy = CopyOptions {
            replace_metadata: replace,
            replace_tags,
            source_conditions: Conditions {
                if_match: input.copy_source_if_match.as_ref().map(etag_condition),
                if_none_match: input.copy_source_if_none_match.as_ref().map(etag_condition),
                if_modified_since_s: input.copy_source_if_modified_since.as_ref().map(unix_s),
                if_unmodified_since_s: input.copy_source_if_unmodified_since.as_ref().map(unix_s),
            },
        };
        let (bucket, key) = (input.bucket, input.key);
        // S3's copy condition keys: the source as `bucket/key`, and the metadata directive when
        // the request names one (ceph/s3-tests' test_bucket_policy_put_obj_copy_source*).
        let mut keys = version_keys(src_version.as_ref());
        keys.extend(grant_keys(&headers));
        keys.push((
            "s3:x-amz-copy-source".to_string(),
            vec![format!("{src_bucket}/{src_key}")],
        ));
        if let Some(d) = &input.metadata_directive {
            keys.push((
                "s3:x-amz-metadata-directive".to_string(),
                vec![d.as_str().to_string()],
            ));
        }
        let day = self.lifecycle_day;
        let (r, expiration) = cx
            .run(keys, move |s| {
                let r = s.copy_object(
                    &src_bucket,
                    &src_key,
                    &GetOptions {
                        version_id: src_version,
                        sse_customer: source_key,
                        ..GetOptions::default()
                    },
                    &bucket,
                    &key,
                    &opts,
                    &copy,
                )?;
                let e =
                    s.store()
                        .lifecycle_expiry_of_version(&bucket, &key, &r.put.version_id, day);
                Ok((r, lifecycle::expiration_header(e.ok().flatten())))
            })
            .await?;
        let c = ChecksumFields::of(r.put.checksum.as_ref());
        let encrypted = SseFields::of(r.put.encryption.as_ref());
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&r.put.etag)),
                last_modified: Some(ts(r.last_modified_ms)),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
                checksum_type: c.kind,
            }),
            copy_source_version_id: wire_version(&r.source_version_id),
            version_id: wire_version(&r.put.version_id),
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            expiration,
            ..CopyObjectOutput::default()
        }))
    }

    pub(super) async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let keys = version_keys(input.version_id.as_ref());
        let (bucket, key, version) = (input.bucket, input.key, input.version_id);
        let (acl, _) = cx
            .run(keys, move |s| {
                s.object_acl(&bucket, &key, version.as_deref())
            })
            .await?;
        Ok(S3Response::new(GetObjectAclOutput {
            owner: Some(owner(&acl.owner)),
            grants: Some(grants(&acl)),
            request_charged: None,
        }))
    }

    pub(super) async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let keys = version_keys(input.version_id.as_ref());
        let (bucket, key, version) = (
            input.bucket.clone(),
            input.key.clone(),
            input.version_id.clone(),
        );
        let object_owner = cx
            .run(keys.clone(), move |s| {
                s.object_owner(&bucket, &key, version.as_deref())
            })
            .await?;
        let accounts = cx
            .guard
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let headers = [
            (Permission::FullControl, input.grant_full_control.as_ref()),
            (Permission::Read, input.grant_read.as_ref()),
            (Permission::ReadAcp, input.grant_read_acp.as_ref()),
            (Permission::Write, input.grant_write.as_ref()),
            (Permission::WriteAcp, input.grant_write_acp.as_ref()),
        ];
        let has_headers = headers.iter().any(|(_, v)| v.is_some());
        let grants_given = match (&input.acl, &input.access_control_policy, has_headers) {
            (Some(c), None, false) => {
                let c = CannedAcl::parse(c.as_str()).map_err(|e| cx.object_err(&e))?;
                Some(Err(c))
            }
            (None, Some(p), false) => Some(Ok(grants_from_policy(p, &accounts).map_err(|e| cx.err(e))?)),
            (None, None, true) => Some(Ok(grants_from_headers(&headers, &accounts).map_err(|e| cx.err(e))?)),
            (None, None, false) => {
                return Err(cx.err(s3_error(
                    "MissingSecurityHeader",
                    400,
                    "PutObjectAcl needs x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body",
                )))
            }
            _ => return Err(cx.err(invalid_request("give an ACL one way only"))),
        };
        let (bucket, key, version) = (input.bucket, input.key, input.version_id);
        let version_out = cx
            .run(keys, move |s| {
                let acl = match grants_given {
                    Some(Ok(g)) => seedbed_engine::object::Acl {
                        owner: object_owner.clone(),
                        grants: g,
                    },
                    Some(Err(canned)) => {
                        let b = s.store().bucket(&bucket)?;
                        let bucket_owner = b.owner.clone().unwrap_or_else(|| object_owner.clone());
                        canned.expand(&object_owner, &bucket_owner)
                    }
                    None => unreachable!("handled above"),
                };
                s.put_object_acl(&bucket, &key, version.as_deref(), acl)
            })
            .await?;
        let _ = version_out;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }

    pub(super) async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        // The header is one comma-separated list (`ETag,ObjectSize`), or several.
        let wants = |a: &str| {
            input
                .object_attributes
                .iter()
                .flat_map(|x| x.as_str().split(','))
                .any(|x| x.trim().eq_ignore_ascii_case(a))
        };
        let (bucket, key, version) = (
            input.bucket.clone(),
            input.key.clone(),
            input.version_id.clone(),
        );
        // An SSE-C object's attributes are given to the holder of its key, as its data is.
        let customer = sse::sse_key!(input).map_err(|e| cx.object_err(&e))?;
        let keys = version_keys(input.version_id.as_ref());
        let info = cx
            .run(keys, move |s| {
                let info = s.head_object(&bucket, &key, version.as_deref())?;
                seedbed_engine::object::sse::check_read(
                    info.encryption.as_ref(),
                    customer.as_ref(),
                )?;
                Ok(info)
            })
            .await?;
        let parts = if wants("ObjectParts") && info.parts > 0 {
            let marker = input.part_number_marker.unwrap_or(0).max(0) as u32;
            let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
            let after: Vec<&PartInfo> = info
                .part_list
                .iter()
                .filter(|p| p.number > marker)
                .collect();
            let page: Vec<&PartInfo> = after.iter().take(max).copied().collect();
            let truncated = after.len() > page.len();
            Some(GetObjectAttributesParts {
                is_truncated: Some(truncated),
                max_parts: Some(super::xml_count(max)),
                part_number_marker: Some(marker as i32),
                next_part_number_marker: page.last().map(|p| p.number as i32),
                total_parts_count: Some(super::xml_count(info.parts)),
                parts: Some(
                    page.iter()
                        .map(|p| {
                            let c = ChecksumFields::of_part(p.checksum.as_ref());
                            ObjectPart {
                                part_number: Some(p.number as i32),
                                size: Some(p.size as i64),
                                checksum_crc32: c.crc32,
                                checksum_crc32c: c.crc32c,
                                checksum_crc64nvme: c.crc64nvme,
                                checksum_sha1: c.sha1,
                                checksum_sha256: c.sha256,
                            }
                        })
                        .collect(),
                ),
            })
        } else {
            None
        };
        let checksum = wants("Checksum")
            .then_some(info.checksum.as_ref())
            .flatten()
            .map(|c| {
                let f = ChecksumFields::of(Some(c));
                Checksum {
                    checksum_crc32: f.crc32,
                    checksum_crc32c: f.crc32c,
                    checksum_crc64nvme: f.crc64nvme,
                    checksum_sha1: f.sha1,
                    checksum_sha256: f.sha256,
                    checksum_type: f.kind,
                }
            });
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: wants("ETag").then(|| etag(&info.etag)),
            object_size: wants("ObjectSize").then_some(info.size as i64),
            storage_class: wants("StorageClass").then(|| {
                StorageClass::from(
                    (info.system.storage_class.as_deref())
                        .unwrap_or("STANDARD")
                        .to_string(),
                )
            }),
            object_parts: parts,
            checksum,
            last_modified: Some(ts(info.last_modified_ms)),
            version_id: wire_version(&info.version_id),
            ..GetObjectAttributesOutput::default()
        }))
    }
}

/// Deletes one DeleteObjects request runs at once (each key's still one after another: the
/// store's commit lock per key, so a key named twice is deleted twice, in turn).
const DELETE_WORKERS: usize = 8;
