//! Multipart uploads: create, upload part (streamed in), upload part copy, complete, abort,
//! list parts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::{
    ByteRange, ChecksumType as EngineChecksumType, CompleteOptions, CompletePart, Conditions,
    GetOptions, PartOptions, Permission, PutOptions,
};

use super::body::BodyReader;
use super::convert::{
    algorithm, checksum_request, checksum_type, content_md5, etag, etag_condition, owner,
    system_meta, ts, unix_s, user_meta, ChecksumFields, SentChecksums, SystemHeaders,
};
use super::endpoint::Endpoint;
use super::errors::{invalid_argument, s3_error};
use super::objects::object_acl_request;
use super::sse::{self, SseFields};

/// The version id a write returns (none for the `null` version).
fn wire_version(v: &str) -> Option<String> {
    (v != "null").then(|| v.to_string())
}

impl Endpoint {
    pub(super) async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let cx = self.cx(&req);
        let keys = super::objects::grant_keys(&req.headers);
        let extensions = req.extensions;
        let input = req.input;
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
        let checksum_kind = match &input.checksum_type {
            Some(t) => Some(EngineChecksumType::parse(t.as_str()).map_err(|e| cx.object_err(&e))?),
            None => None,
        };
        let (retention, legal_hold) = super::object_lock::lock_request(
            input.object_lock_mode.as_ref(),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref(),
        )
        .map_err(|e| cx.err(e))?;
        let opts = PutOptions {
            retention,
            legal_hold,
            content_type: Some(super::objects::default_content_type(
                input.content_type.as_ref(),
            )),
            user_meta: user_meta(input.metadata.as_ref()),
            system: system_meta(SystemHeaders {
                content_encoding: input.content_encoding.as_ref(),
                content_disposition: super::convert::content_disposition(
                    input.content_disposition.as_ref(),
                    &extensions,
                ),
                content_language: input.content_language.as_ref(),
                cache_control: input.cache_control.as_ref(),
                expires: super::convert::expires(input.expires.as_ref(), &extensions),
                website_redirect_location: input.website_redirect_location.as_ref(),
                storage_class: super::convert::storage_class(input.storage_class.as_ref())
                    .map_err(|e| cx.err(e))?,
            }),
            checksum: checksum.clone(),
            checksum_type: checksum_kind,
            acl,
            tags: super::tagging::tags_from_header(input.tagging.as_ref())
                .map_err(|e| cx.err(e))?,
            sse: sse::sse_request!(input).map_err(|e| cx.object_err(&e))?,
            ..PutOptions::default()
        };
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let day = self.lifecycle_day;
        let ((upload_id, encryption), abort) = cx
            .run(keys, move |s| {
                let made = s.create_multipart_upload_with(&bucket, &key, &opts)?;
                let abort = s.store().lifecycle_abort_at(&bucket, &key, None, day);
                Ok((made, abort.ok().flatten()))
            })
            .await?;
        let (abort_date, abort_rule_id) = super::lifecycle::abort_fields(abort);
        let encrypted = SseFields::of(encryption.as_ref());
        let kind = checksum.map(|c| checksum_kind.unwrap_or_else(|| c.algorithm.default_kind()));
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: input.checksum_algorithm,
            checksum_type: kind.map(checksum_type),
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            abort_date,
            abort_rule_id,
            ..CreateMultipartUploadOutput::default()
        }))
    }

    pub(super) async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let cx = self.cx(&req);
        let S3Request {
            input,
            headers,
            trailing_headers,
            ..
        } = req;
        let size = match input.content_length {
            Some(n) if n >= 0 => n as u64,
            Some(n) => {
                return Err(cx.err(invalid_argument(format!("Content-Length {n} is negative"))))
            }
            None if input.body.is_none() => 0,
            None => {
                return Err(cx.err(s3_error(
                    "MissingContentLength",
                    411,
                    "UploadPart needs Content-Length",
                )))
            }
        };
        if size > self.limits.max_object_bytes {
            return Err(cx.err(s3_error(
                "EntityTooLarge",
                400,
                format!(
                    "a part is at most {} bytes; this one is {size}",
                    self.limits.max_object_bytes
                ),
            )));
        }
        if !(1..=10_000).contains(&input.part_number) {
            return Err(cx.err(invalid_argument(format!(
                "part number {} is outside 1 to 10000",
                input.part_number
            ))));
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
        let opts = PartOptions {
            checksum,
            content_md5: content_md5(input.content_md5.as_ref()).map_err(|e| cx.err(e))?,
            sse_customer: sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
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
        let (bucket, upload_id, n) = (input.bucket, input.upload_id, input.part_number as u32);
        let result = cx
            .run(vec![], move |s| {
                s.upload_part(&bucket, &upload_id, n, &mut body, size, &opts)
            })
            .await;
        cx.count_in(counted.load(Ordering::Relaxed));
        let r = match result {
            Ok(r) => r,
            Err(e) => return Err(failure.take().map(|f| cx.err(f)).unwrap_or(e)),
        };
        let c = ChecksumFields::of_part(r.checksum.as_ref());
        let encrypted = SseFields::of(r.encryption.as_ref());
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag(&r.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            ..UploadPartOutput::default()
        }))
    }

    pub(super) async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let cx = self.cx(&req);
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
        // x-amz-copy-source-range is bytes=first-last, both given (S3's rule).
        let range = match &input.copy_source_range {
            None => None,
            Some(r) => {
                let bad = || {
                    cx.err(invalid_argument(format!(
                        "x-amz-copy-source-range '{r}' is not bytes=first-last"
                    )))
                };
                let rest = r.strip_prefix("bytes=").ok_or_else(bad)?;
                let (a, b) = rest.split_once('-').ok_or_else(bad)?;
                let (a, b): (u64, u64) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if b < a {
                    return Err(bad());
                }
                Some(ByteRange::FromTo(a, b))
            }
        };
        if !(1..=10_000).contains(&input.part_number) {
            return Err(cx.err(invalid_argument(format!(
                "part number {} is outside 1 to 10000",
                input.part_number
            ))));
        }
        let cond = Conditions {
            if_match: input.copy_source_if_match.as_ref().map(etag_condition),
            if_none_match: input.copy_source_if_none_match.as_ref().map(etag_condition),
            if_modified_since_s: input.copy_source_if_modified_since.as_ref().map(unix_s),
            if_unmodified_since_s: input.copy_source_if_unmodified_since.as_ref().map(unix_s),
        };
        let source_key = sse::sse_key!(copy_source input).map_err(|e| cx.object_err(&e))?;
        let part = PartOptions {
            sse_customer: sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
            ..PartOptions::default()
        };
        let (bucket, upload_id, n) = (input.bucket, input.upload_id, input.part_number as u32);
        let version_out = src_version.clone();
        let r = cx
            .run(vec![], move |s| {
                // A range that goes past the end of the source is refused, not clipped.
                if let Some(ByteRange::FromTo(_, last)) = range {
                    let size = s
                        .open_object(
                            &src_bucket,
                            &src_key,
                            &GetOptions {
                                version_id: src_version.clone(),
                                sse_customer: source_key.clone(),
                                ..GetOptions::default()
                            },
                        )?
                        .info()
                        .size;
                    if last >= size {
                        return Err(seedbed_engine::object::ObjectError::InvalidRange {
                            range: format!("bytes=0-{last}"),
                            size,
                        });
                    }
                }
                s.upload_part_copy(
                    &bucket,
                    &upload_id,
                    n,
                    &src_bucket,
                    &src_key,
                    &GetOptions {
                        version_id: src_version,
                        range,
                        sse_customer: source_key,
                        ..GetOptions::default()
                    },
                    &cond,
                    &part,
                )
            })
            .await?;
        let c = ChecksumFields::of_part(r.checksum.as_ref());
        let encrypted = SseFields::of(r.encryption.as_ref());
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&r.etag)),
                last_modified: Some(ts(r.last_modified_ms)),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
            }),
            copy_source_version_id: version_out,
            server_side_encryption: encrypted.server_side_encryption,
            sse_customer_algorithm: encrypted.customer_algorithm,
            sse_customer_key_md5: encrypted.customer_key_md5,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            ..UploadPartCopyOutput::default()
        }))
    }

    pub(super) async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let parts: Vec<CompletePart> = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_ref())
            .map(|ps| {
                ps.iter()
                    .map(|p| CompletePart {
                        number: p.part_number.unwrap_or(0).max(0) as u32,
                        etag: p
                            .e_tag
                            .as_ref()
                            .map(|e| e.value().to_string())
                            .unwrap_or_default(),
                        checksum: p
                            .checksum_crc32
                            .clone()
                            .or_else(|| p.checksum_crc32c.clone())
                            .or_else(|| p.checksum_crc64nvme.clone())
                            .or_else(|| p.checksum_sha1.clone())
                            .or_else(|| p.checksum_sha256.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if parts.is_empty() {
            return Err(cx.err(s3_error(
                "MalformedXML",
                400,
                "CompleteMultipartUpload needs at least one Part",
            )));
        }
        let opts = CompleteOptions {
            checksum: input
                .checksum_crc32
                .clone()
                .or_else(|| input.checksum_crc32c.clone())
                .or_else(|| input.checksum_crc64nvme.clone())
                .or_else(|| input.checksum_sha1.clone())
                .or_else(|| input.checksum_sha256.clone()),
            if_none_match: input.if_none_match.as_ref().map(etag_condition),
            if_match: input.if_match.as_ref().map(etag_condition),
            sse_customer: sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
        };
        let (bucket, upload_id) = (input.bucket.clone(), input.upload_id.clone());
        let (key, day) = (input.key.clone(), self.lifecycle_day);
        let (r, expiration) = cx
            .run(vec![], move |s| {
                let r = s.complete_multipart_upload(&bucket, &upload_id, &parts, &opts)?;
                let e = s
                    .store()
                    .lifecycle_expiry_of_version(&bucket, &key, &r.version_id, day);
                Ok((r, super::lifecycle::expiration_header(e.ok().flatten())))
            })
            .await?;
        let c = ChecksumFields::of(r.checksum.as_ref());
        let encrypted = SseFields::of(r.encryption.as_ref());
        let mut resp = S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            e_tag: Some(etag(&r.etag)),
            version_id: wire_version(&r.version_id),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: c.kind,
            server_side_encryption: encrypted.server_side_encryption,
            ssekms_key_id: encrypted.kms_key_id,
            bucket_key_enabled: encrypted.bucket_key_enabled,
            expiration,
            ..CompleteMultipartUploadOutput::default()
        });
        // s3s's output has no SSE-C fields; S3 sends the headers as on UploadPart.
        if let (Some(a), Some(m)) = (encrypted.customer_algorithm, encrypted.customer_key_md5) {
            for (name, v) in [
                ("x-amz-server-side-encryption-customer-algorithm", a),
                ("x-amz-server-side-encryption-customer-key-md5", m),
            ] {
                if let Ok(v) = http::HeaderValue::from_str(&v) {
                    resp.headers.insert(name, v);
                }
            }
        }
        Ok(resp)
    }

    pub(super) async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let cx = self.cx(&req);
        let (bucket, upload_id) = (req.input.bucket, req.input.upload_id);
        cx.run(vec![], move |s| {
            s.abort_multipart_upload(&bucket, &upload_id)
        })
        .await?;
        Ok(S3Response::with_status(
            AbortMultipartUploadOutput::default(),
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let (bucket, upload_id) = (input.bucket.clone(), input.upload_id.clone());
        let day = self.lifecycle_day;
        let (upload, parts, bucket_owner, abort) = cx
            .run(vec![], move |s| {
                let u = s.upload(&bucket, &upload_id)?;
                let p = s.list_parts(&bucket, &upload_id)?;
                let abort =
                    s.store()
                        .lifecycle_abort_at(&bucket, &u.key, Some(u.initiated_ms), day);
                Ok((u, p, s.store().bucket(&bucket)?.owner, abort.ok().flatten()))
            })
            .await?;
        let (abort_date, abort_rule_id) = super::lifecycle::abort_fields(abort);
        let fallback = self.owner_or_store(bucket_owner);
        let marker = input.part_number_marker.unwrap_or(0).max(0) as u32;
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let after: Vec<_> = parts.iter().filter(|p| p.part_number > marker).collect();
        let page: Vec<_> = after.iter().take(max).collect();
        let truncated = after.len() > page.len();
        let own = upload.owner.clone().unwrap_or(fallback);
        let init = upload.initiator.clone().unwrap_or_else(|| own.clone());
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(upload.key.clone()),
            upload_id: Some(upload.upload_id.clone()),
            owner: Some(owner(&own)),
            initiator: Some(Initiator {
                display_name: Some(init.display_name.clone()),
                id: Some(init.id.clone()),
            }),
            storage_class: Some(StorageClass::from(super::listing::class_of(
                &upload.system.storage_class,
            ))),
            abort_date,
            abort_rule_id,
            part_number_marker: Some(marker as i32),
            next_part_number_marker: page.last().map(|p| p.part_number as i32),
            max_parts: Some(super::xml_count(max)),
            is_truncated: Some(truncated),
            checksum_algorithm: upload.checksum.map(|(a, _)| algorithm(a)),
            checksum_type: upload.checksum.map(|(_, k)| checksum_type(k)),
            parts: Some(
                page.iter()
                    .map(|p| {
                        let c = ChecksumFields::of_part(p.checksum.as_ref());
                        Part {
                            part_number: Some(p.part_number as i32),
                            e_tag: Some(etag(&p.etag)),
                            size: Some(p.size as i64),
                            last_modified: Some(ts(p.last_modified_ms)),
                            checksum_crc32: c.crc32,
                            checksum_crc32c: c.crc32c,
                            checksum_crc64nvme: c.crc64nvme,
                            checksum_sha1: c.sha1,
                            checksum_sha256: c.sha256,
                        }
                    })
                    .collect(),
            ),
            ..ListPartsOutput::default()
        }))
    }
}
