//! Multipart upload: initiate, upload parts in any order, list parts, complete, abort.
//!
//! Each part is its own blob. Completing an upload writes no data: the new version simply lists
//! the chosen parts' blobs as its segments, in part order. Its ETag is computed as S3 computes
//! a multipart ETag — the MD5 of the concatenated binary MD5s of the parts, then `-N` — and its
//! checksum likewise (SHA-256 of the parts' SHA-256s, `-N`: S3's composite checksum), since the
//! full-object hash would need a second pass over every byte. Parts uploaded but not chosen,
//! parts replaced by a re-upload of the same number, and every part of an aborted upload are
//! deleted.

use std::io::Read;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::blob::DataId;
use super::checksum::{self, ChecksumRequest, ChecksumType, ObjectChecksum};
use super::conditions::Conditions;
use super::error::ObjectError;
use super::meta::{self, MetaSnapshot, PartMeta, Segment, UploadMeta};
use super::names::validate_key;
use super::objects::{hex, resolve_ownership, NewVersion, PutOptions, PutResult, Written};
use super::read::GetOptions;
use super::sse::{CustomerKey, Encryption, SseRequest};
use super::store::ObjectStore;

/// The encryption a part of an upload made with `upload` gets, given the SSE-C key its
/// UploadPart sent: S3 wants an SSE-C upload's key again with every part, and no key with
/// any other upload's parts.
fn part_encryption(
    upload: Option<&Encryption>,
    customer: Option<&CustomerKey>,
) -> Result<Option<SseRequest>, ObjectError> {
    match (upload, customer) {
        (None, None) => Ok(None),
        (Some(Encryption::S3), None) => Ok(Some(SseRequest::S3)),
        // The upload's key, already resolved to its ARN.
        (
            Some(Encryption::Kms {
                key_id,
                context,
                bucket_key,
            }),
            None,
        ) => Ok(Some(SseRequest::Kms(super::sse::KmsRequest {
            key_id: Some(key_id.clone()),
            context: context.clone(),
            bucket_key: *bucket_key,
        }))),
        (None | Some(Encryption::S3 | Encryption::Kms { .. }), Some(_)) => {
            Err(ObjectError::InvalidRequest(
                "the upload was not created with SSE-C: its parts take no SSE-C key".into(),
            ))
        }
        (Some(Encryption::Customer { .. }), None) => Err(ObjectError::InvalidRequest(
            "the upload was created with SSE-C: every UploadPart must send its key \
             (x-amz-server-side-encryption-customer-algorithm, -key, -key-MD5)"
                .into(),
        )),
        (Some(Encryption::Customer { key_md5 }), Some(c)) if c.md5() != key_md5 => {
            Err(ObjectError::InvalidRequest(format!(
                "the SSE-C key sent (MD5 {}) is not the one the upload was created with",
                c.md5()
            )))
        }
        (Some(Encryption::Customer { .. }), Some(c)) => Ok(Some(SseRequest::Customer(c.clone()))),
    }
}

/// Options of an UploadPart.
#[derive(Clone, Debug, Default)]
pub struct PartOptions {
    /// A checksum the client sent for the part (its algorithm must be the upload's, if the
    /// upload has one).
    pub checksum: Option<ChecksumRequest>,
    /// `Content-MD5` of the part.
    pub content_md5: Option<[u8; 16]>,
    /// The SSE-C key the request sent: an SSE-C upload's parts must each bring its key, and
    /// no other upload's may.
    pub sse_customer: Option<CustomerKey>,
}

/// What an UploadPart (or UploadPartCopy) stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartResult {
    /// The part's ETag, quoted.
    pub etag: String,
    /// The part's checksum, when the upload or the request has an algorithm.
    pub checksum: Option<ObjectChecksum>,
    /// When it was stored, Unix milliseconds.
    pub last_modified_ms: u64,
    /// The upload's server-side encryption, which the part has.
    pub encryption: Option<Encryption>,
}

/// One part named in CompleteMultipartUpload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletePart {
    /// Its number.
    pub number: u32,
    /// The ETag UploadPart returned.
    pub etag: String,
    /// The checksum UploadPart returned, if the client repeats it (base64).
    pub checksum: Option<String>,
}

/// Options of CompleteMultipartUpload.
#[derive(Clone, Debug, Default)]
pub struct CompleteOptions {
    /// The whole-object checksum the client expects (base64, `-N` allowed).
    pub checksum: Option<String>,
    /// `If-None-Match` (`*` or an ETag), as on a PUT.
    pub if_none_match: Option<String>,
    /// `If-Match: ETAG`.
    pub if_match: Option<String>,
    /// The SSE-C key the request sent, if any: S3 wants it only for an SSE-C upload made with a
    /// checksum algorithm; a key that is sent must be the upload's.
    pub sse_customer: Option<CustomerKey>,
}

/// Highest part number S3 allows.
pub const PART_NUMBER_MAX: u32 = 10_000;

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_matches('"');
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

impl ObjectStore {
    pub(super) fn upload(&self, bucket: &str, upload_id: &str) -> Result<UploadMeta, ObjectError> {
        let k = meta::upload_key(bucket, upload_id);
        match self.meta_get(&k)? {
            Some(v) => meta::from_json(&k, &v).map_err(ObjectError::from),
            None => Err(ObjectError::NoSuchUpload(upload_id.to_string())),
        }
    }

    /// Start a multipart upload; returns its upload id.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &PutOptions,
    ) -> Result<String, ObjectError> {
        Ok(self.create_multipart_upload_with(bucket, key, opts)?.0)
    }

    /// Start a multipart upload; returns its upload id and the encryption its parts and object
    /// get (what it asks for, else the bucket's default), which S3 tells in the answer.
    pub fn create_multipart_upload_with(
        &self,
        bucket: &str,
        key: &str,
        opts: &PutOptions,
    ) -> Result<(String, Option<Encryption>), ObjectError> {
        validate_key(key)?;
        super::object_tags::check_object_tags(&opts.tags)?;
        let _g = self.lock_commit();
        let b = self.bucket(bucket)?;
        super::object_lock::retention_for_write(
            &b,
            opts.retention,
            opts.legal_hold,
            self.now_ms(),
        )?;
        let (owner, acl) = resolve_ownership(&b, opts.writer.clone(), opts.acl.as_ref())?;
        let checksum = match &opts.checksum {
            None => None,
            Some(c) => {
                let kind = opts
                    .checksum_type
                    .unwrap_or_else(|| c.algorithm.default_kind());
                if !c.algorithm.supports(kind) {
                    return Err(ObjectError::InvalidRequest(format!(
                        "the {} checksum type is not available for {}",
                        kind.name(),
                        c.algorithm.name()
                    )));
                }
                Some((c.algorithm, kind))
            }
        };
        let upload_id = self.new_uuid().simple().to_string();
        let u = UploadMeta {
            upload_id: upload_id.clone(),
            key: key.to_string(),
            initiated_ms: self.now_ms(),
            content_type: opts.content_type.clone(),
            user_meta: opts.user_meta.clone(),
            system: opts.system.clone(),
            checksum,
            owner,
            initiator: opts.writer.clone(),
            acl,
            tags: super::object_tags::by_key(&opts.tags),
            retention: opts.retention,
            legal_hold: opts.legal_hold,
            encryption: super::sse::for_write(&b, opts.sse.as_ref(), &self.options.kms)?
                .as_ref()
                .map(SseRequest::encryption),
        };
        self.meta_commit(vec![(
            meta::upload_key(bucket, &upload_id),
            Some(meta::to_json(&u)),
        )])?;
        Ok((upload_id, u.encryption))
    }

    /// Upload part `part_number` (1 to 10,000) of `size` bytes; returns its ETag. Uploading the
    /// same number again replaces the part.
    pub fn upload_part(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src: &mut dyn Read,
        size: u64,
    ) -> Result<String, ObjectError> {
        Ok(self
            .upload_part_with(
                bucket,
                upload_id,
                part_number,
                src,
                size,
                &PartOptions::default(),
            )?
            .etag)
    }

    /// UploadPart with a checksum and Content-MD5 to check.
    pub fn upload_part_with(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src: &mut dyn Read,
        size: u64,
        opts: &PartOptions,
    ) -> Result<PartResult, ObjectError> {
        if !(1..=PART_NUMBER_MAX).contains(&part_number) {
            return Err(ObjectError::InvalidArgument(format!(
                "part number {part_number} is outside 1..={PART_NUMBER_MAX}"
            )));
        }
        let upload = self.upload(bucket, upload_id)?;
        // The part's checksum: the upload's algorithm (checked against the client's value if it
        // sent one), or the one the request names.
        let request = match (upload.checksum, &opts.checksum) {
            (Some((alg, _)), Some(c)) if c.algorithm != alg => {
                return Err(ObjectError::InvalidRequest(format!(
                    "the upload was created with checksum algorithm {}, the part names {}",
                    alg.name(),
                    c.algorithm.name()
                )))
            }
            (Some((alg, _)), None) => Some(ChecksumRequest {
                algorithm: alg,
                expected: None,
            }),
            (_, c) => c.clone(),
        };
        let sse = part_encryption(upload.encryption.as_ref(), opts.sse_customer.as_ref())?;
        let freed = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            // Room for the description the part gets when the upload completes (the longer one;
            // a segment of a part's checksum may be there too).
            let desc_len = self.version_desc_estimate(
                bucket,
                &upload.key,
                size,
                upload.content_type.clone(),
                &upload.user_meta,
                &upload.system,
                request.as_ref().map(|r| r.algorithm),
                upload.owner.clone(),
                None,
            ) + upload.acl.as_ref().map_or(0, |a| meta::to_json(a).len())
                + meta::to_json(&upload.tags).len()
                + upload
                    .encryption
                    .as_ref()
                    .map_or(0, super::sse::description_room);
            let Written {
                id,
                digest,
                etag_md5,
                computed,
                sealed_key,
            } = self.write_checked(
                src,
                size,
                request.as_ref(),
                opts.content_md5.as_ref(),
                sse.as_ref(),
                desc_len,
                false,
            )?;
            let part = PartMeta {
                part_number,
                data_id: id.hex(),
                size,
                etag: format!("\"{}\"", hex(&etag_md5)),
                sha256: hex(&digest.sha256),
                last_modified_ms: self.now_ms(),
                checksum: request.as_ref().zip(computed).map(|(r, c)| ObjectChecksum {
                    algorithm: r.algorithm,
                    kind: ChecksumType::FullObject,
                    value: checksum::encode(&c),
                    parts: None,
                }),
                sealed_key,
            };
            // Described as a part of an upload in flight (completing it describes it anew),
            // before its commit and in the same sync as its data.
            if let Err(e) = self.describe_part(bucket, upload_id, &upload.key, &part, true) {
                let _ = self.blobs.delete(&id);
                return Err(e);
            }
            self.commit_part(bucket, upload_id, id, part)?
        };
        let (old, mut result) = freed;
        self.free_segments(old.as_slice());
        result.encryption = upload.encryption;
        Ok(result)
    }

    /// Record a written part under the commit lock; returns the part it replaced (to free).
    fn commit_part(
        &self,
        bucket: &str,
        upload_id: &str,
        id: DataId,
        part: PartMeta,
    ) -> Result<(Option<Segment>, PartResult), ObjectError> {
        let _g = self.lock_commit();
        // The upload may have been completed or aborted meanwhile.
        if let Err(e) = self.upload(bucket, upload_id) {
            let _ = self.blobs.delete(&id);
            return Err(e);
        }
        let pk = meta::part_key(bucket, upload_id, part.part_number);
        let old: Option<PartMeta> = match self.meta_get(&pk)? {
            Some(v) => Some(meta::from_json(&pk, &v).map_err(ObjectError::from)?),
            None => None,
        };
        // On failure the part's record may still reach the metadata log (see `put_locked`):
        // its blob stays for the orphan sweep to judge.
        self.meta_commit(vec![(pk, Some(meta::to_json(&part)))])?;
        Ok((
            old.map(|p| Segment {
                data_id: p.data_id,
                size: p.size,
                part_number: None,
                checksum: None,
                sealed_key: None,
            }),
            PartResult {
                etag: part.etag,
                checksum: part.checksum,
                last_modified_ms: part.last_modified_ms,
                encryption: None,
            },
        ))
    }

    /// UploadPartCopy: part `part_number` is a byte range (or all) of an existing object,
    /// checked against `x-amz-copy-source-if-*` conditions.
    #[allow(clippy::too_many_arguments)]
    pub fn upload_part_copy(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src_bucket: &str,
        src_key: &str,
        src: &GetOptions,
        conditions: &Conditions,
        part: &PartOptions,
    ) -> Result<PartResult, ObjectError> {
        self.upload(bucket, upload_id)?;
        let source = self.open_object(src_bucket, src_key, src)?;
        conditions.check(&source.info().etag, source.info().last_modified_ms, true)?;
        let (a, b) = source.range();
        let mut reader = source.chunks();
        self.upload_part_with(bucket, upload_id, part_number, &mut reader, b - a, part)
    }

    /// The parts uploaded so far, by part number.
    pub fn list_parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartMeta>, ObjectError> {
        self.upload(bucket, upload_id)?;
        self.parts(bucket, upload_id)
    }

    fn parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartMeta>, ObjectError> {
        let rows = self.meta_scan(
            &meta::parts_start(bucket, upload_id),
            &meta::parts_end(bucket, upload_id),
            usize::MAX,
        )?;
        rows.iter()
            .map(|(k, v)| meta::from_json(k, v).map_err(ObjectError::from))
            .collect()
    }

    /// Uploads in progress in a bucket.
    pub fn list_uploads(&self, bucket: &str) -> Result<Vec<UploadMeta>, ObjectError> {
        self.bucket(bucket)?;
        let start = meta::uploads_start(bucket);
        let mut end = start.clone();
        *end.last_mut().expect("non-empty") = 1;
        let rows = self.meta_scan(&start, &end, usize::MAX)?;
        rows.iter()
            .map(|(k, v)| meta::from_json(k, v).map_err(ObjectError::from))
            .collect()
    }

    /// Complete an upload from `parts` (part number, ETag), ascending. Every part but the last
    /// must be at least the store's minimum part size.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<PutResult, ObjectError> {
        let parts: Vec<CompletePart> = parts
            .iter()
            .map(|(n, e)| CompletePart {
                number: *n,
                etag: e.clone(),
                checksum: None,
            })
            .collect();
        self.complete_multipart_upload_with(bucket, upload_id, &parts, &CompleteOptions::default())
    }

    /// CompleteMultipartUpload with part checksums, the expected whole-object checksum and
    /// conditions on the key's current version.
    pub fn complete_multipart_upload_with(
        &self,
        bucket: &str,
        upload_id: &str,
        parts: &[CompletePart],
        opts: &CompleteOptions,
    ) -> Result<PutResult, ObjectError> {
        if parts.is_empty() {
            return Err(ObjectError::InvalidArgument(
                "CompleteMultipartUpload needs at least one part".into(),
            ));
        }
        if parts.windows(2).any(|w| w[0].number > w[1].number) {
            return Err(ObjectError::InvalidPartOrder);
        }
        // A part number listed twice in a row (a client that re-sent a part and kept both
        // answers): the last entry counts, as the last upload of that number is the part.
        let mut unique: Vec<CompletePart> = Vec::with_capacity(parts.len());
        for p in parts {
            match unique.last_mut() {
                Some(last) if last.number == p.number => *last = p.clone(),
                _ => unique.push(p.clone()),
            }
        }
        let parts = unique.as_slice();
        let (version, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            let upload = match self.upload(bucket, upload_id) {
                Ok(u) => u,
                Err(ObjectError::NoSuchUpload(_)) => {
                    return self.completed_again(bucket, upload_id)
                }
                Err(e) => return Err(e),
            };
            // S3 wants an SSE-C upload's key here only when the upload was made with a
            // checksum algorithm (the API reference of CompleteMultipartUpload's
            // SSECustomerKey; s3transfer's integration tests, run against S3, complete one made
            // without an algorithm with no key). A key that is sent must be the upload's, and
            // none may come for another kind of upload.
            let sse_c = matches!(upload.encryption, Some(Encryption::Customer { .. }));
            if sse_c && upload.checksum.is_some() && opts.sse_customer.is_none() {
                return Err(ObjectError::InvalidRequest(
                    "the upload was created with SSE-C and a checksum algorithm: \
                     CompleteMultipartUpload must send its key \
                     (x-amz-server-side-encryption-customer-algorithm, -key, -key-MD5)"
                        .into(),
                ));
            }
            if opts.sse_customer.is_some() {
                part_encryption(upload.encryption.as_ref(), opts.sse_customer.as_ref())?;
            }
            let uploaded = self.parts(bucket, upload_id)?;
            let mut chosen = Vec::with_capacity(parts.len());
            for (i, want) in parts.iter().enumerate() {
                let n = want.number;
                let etag = &want.etag;
                let p = uploaded
                    .iter()
                    .find(|p| p.part_number == n)
                    .ok_or_else(|| {
                        ObjectError::InvalidPart(format!("part {n} was not uploaded"))
                    })?;
                if p.etag.trim_matches('"') != etag.trim_matches('"') {
                    return Err(ObjectError::InvalidPart(format!(
                        "part {n}: ETag {etag} given, {} uploaded",
                        p.etag
                    )));
                }
                if let (Some(given), Some(stored)) = (&want.checksum, &p.checksum) {
                    if *given != stored.value {
                        return Err(ObjectError::InvalidPart(format!(
                            "part {n}: checksum {given} given, {} uploaded",
                            stored.value
                        )));
                    }
                }
                if i + 1 < parts.len() && p.size < self.options.min_part_size {
                    return Err(ObjectError::EntityTooSmall {
                        part: n,
                        size: p.size,
                        min: self.options.min_part_size,
                    });
                }
                chosen.push(p.clone());
            }
            let mut md5s = Md5::new();
            let mut shas = Sha256::new();
            for p in &chosen {
                md5s.update(unhex(&p.etag).unwrap_or_default());
                shas.update(unhex(&p.sha256).unwrap_or_default());
            }
            let n = chosen.len();
            let checksum = match upload.checksum {
                None => None,
                Some((alg, kind)) => {
                    let digests = chosen
                        .iter()
                        .map(|p| {
                            p.checksum
                                .as_ref()
                                .map(|c| (c.digest(), p.size))
                                .ok_or_else(|| {
                                    ObjectError::InvalidPart(format!(
                                        "part {} has no {} checksum",
                                        p.part_number,
                                        alg.name()
                                    ))
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Some(checksum::combine(alg, kind, &digests)?)
                }
            };
            if let Some(want) = &opts.checksum {
                let mine = checksum
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default();
                if want.split('-').next() != Some(mine.as_str()) {
                    return Err(ObjectError::BadDigest(format!(
                        "the whole-object checksum you specified ({want}) did not match the parts' ({})",
                        checksum.as_ref().map(|c| c.s3_value()).unwrap_or_else(|| "none: the upload has no checksum algorithm".into())
                    )));
                }
            }
            let new = NewVersion {
                key: upload.key.clone(),
                delete_marker: false,
                size: chosen.iter().map(|p| p.size).sum(),
                etag: format!("\"{}-{n}\"", hex(&md5s.finalize())),
                sha256: format!("{}-{n}", hex(&shas.finalize())),
                content_type: upload.content_type.clone(),
                user_meta: upload.user_meta.clone(),
                segments: chosen
                    .iter()
                    .map(|p| Segment {
                        data_id: p.data_id.clone(),
                        size: p.size,
                        part_number: Some(p.part_number),
                        checksum: p.checksum.clone(),
                        sealed_key: p.sealed_key.clone(),
                    })
                    .collect(),
                system: upload.system.clone(),
                checksum,
                writer: upload.owner.clone(),
                // The ACL was resolved against the upload's owner when the upload began.
                acl: upload
                    .acl
                    .as_ref()
                    .map(|a| super::objects::AclRequest::Grants(a.grants.clone())),
                tags: upload.tags.clone(),
                // The bucket's default rule counts from the completion, as S3 counts it.
                retention: super::object_lock::retention_for_write(
                    &self.bucket(bucket)?,
                    upload.retention,
                    upload.legal_hold,
                    self.now_ms(),
                )?,
                legal_hold: upload.legal_hold,
                encryption: upload.encryption.clone(),
            };
            // The upload and all its part records go in the same commit as the new version, with
            // the record that answers a retry.
            let done = meta::CompletedUpload {
                key: upload.key.clone(),
                etag: new.etag.clone(),
            };
            let mut ops = vec![
                (meta::upload_key(bucket, upload_id), None),
                (
                    meta::completed_key(bucket, upload_id),
                    Some(meta::to_json(&done)),
                ),
            ];
            ops.extend(
                uploaded
                    .iter()
                    .map(|p| (meta::part_key(bucket, upload_id, p.part_number), None)),
            );
            let conditions = PutOptions {
                if_none_match: opts.if_none_match.clone(),
                if_match: opts.if_match.clone(),
                ..PutOptions::default()
            };
            let (v, mut freed) =
                self.commit_version(bucket, new, &conditions, ops, Some(upload_id), None)?;
            self.describe_version(bucket, &v)?;
            freed.extend(
                uploaded
                    .iter()
                    .filter(|p| !chosen.iter().any(|c| c.part_number == p.part_number))
                    .map(|p| Segment {
                        data_id: p.data_id.clone(),
                        size: p.size,
                        part_number: None,
                        checksum: None,
                        sealed_key: None,
                    }),
            );
            (v, freed)
        };
        self.free_segments(&freed);
        Ok(PutResult::of(version))
    }

    /// A CompleteMultipartUpload of an upload already completed: the same answer again, while
    /// the version it made is still the key's current one; NoSuchUpload otherwise.
    fn completed_again(&self, bucket: &str, upload_id: &str) -> Result<PutResult, ObjectError> {
        let gone = || ObjectError::NoSuchUpload(upload_id.to_string());
        let k = meta::completed_key(bucket, upload_id);
        let done: meta::CompletedUpload = match self.meta_get(&k)? {
            Some(v) => meta::from_json(&k, &v).map_err(ObjectError::from)?,
            None => return Err(gone()),
        };
        match self.key_versions(bucket, &done.key)?.into_iter().next() {
            Some((_, v)) if !v.delete_marker && v.etag == done.etag => Ok(PutResult::of(v)),
            _ => Err(gone()),
        }
    }

    /// Abort an upload: its parts are deleted.
    pub fn abort_multipart_upload(&self, bucket: &str, upload_id: &str) -> Result<(), ObjectError> {
        let freed = {
            let _g = self.lock_commit();
            self.upload(bucket, upload_id)?;
            let parts = self.parts(bucket, upload_id)?;
            let mut ops = vec![(meta::upload_key(bucket, upload_id), None)];
            ops.extend(
                parts
                    .iter()
                    .map(|p| (meta::part_key(bucket, upload_id, p.part_number), None)),
            );
            self.meta_commit(ops)?;
            parts
                .into_iter()
                .map(|p| Segment {
                    data_id: p.data_id,
                    size: p.size,
                    part_number: None,
                    checksum: None,
                    sealed_key: None,
                })
                .collect::<Vec<_>>()
        };
        self.free_segments(&freed);
        Ok(())
    }

    /// Blob ids every version, part and bucket refers to, in `view` (a snapshot of the
    /// metadata) or else in the store as it is: what [`Self::scan_references`] finds, read
    /// from each record's blob ids alone (the orphan sweep reads every record, so it skips
    /// over the rest of each record instead of building it).
    pub(super) fn referenced_blobs(
        &self,
        view: Option<&dyn MetaSnapshot>,
    ) -> Result<std::collections::BTreeSet<DataId>, ObjectError> {
        use super::meta_error::MetaError;
        use std::borrow::Cow;
        #[derive(serde::Deserialize)]
        struct Bucket<'a> {
            #[serde(borrow, default)]
            settings_blob: Option<Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Version<'a> {
            #[serde(borrow)]
            segments: Vec<Part<'a>>,
        }
        #[derive(serde::Deserialize)]
        struct Part<'a> {
            #[serde(borrow)]
            data_id: Cow<'a, str>,
        }
        fn read<'a, T: serde::Deserialize<'a>>(k: &[u8], v: &'a [u8]) -> Result<T, ObjectError> {
            serde_json::from_slice(v).map_err(|e| ObjectError::from(MetaError::corrupt(k, e)))
        }
        let mut blobs = std::collections::BTreeSet::new();
        let mut note = |hex: &str| {
            if let Some(id) = DataId::from_hex(hex) {
                blobs.insert(id);
            }
        };
        self.scan_all_in(view, b"B", b"C", |k, v| {
            let b: Bucket = read(k, v)?;
            b.settings_blob.iter().for_each(|id| note(id));
            Ok(())
        })?;
        self.scan_all_in(view, b"O", b"P", |k, v| {
            let vm: Version = read(k, v)?;
            vm.segments.iter().for_each(|s| note(&s.data_id));
            Ok(())
        })?;
        self.scan_all_in(view, b"P", b"Q", |k, v| {
            let p: Part = read(k, v)?;
            note(&p.data_id);
            Ok(())
        })?;
        Ok(blobs)
    }

    /// One pass over every bucket, version and part record: the blobs they refer to, and the
    /// records an older store lacks on the data side (`describe.rs`). Opening a store needs
    /// both, and used to scan every version once for each.
    pub(super) fn scan_references(&self) -> Result<References, ObjectError> {
        self.scan_references_in(None)
    }

    /// [`Self::scan_references`] in `view` (a snapshot of the metadata) when there is one.
    pub(super) fn scan_references_in(
        &self,
        view: Option<&dyn MetaSnapshot>,
    ) -> Result<References, ObjectError> {
        let mut refs = References::default();
        let note = |ids: &mut std::collections::BTreeSet<DataId>, hex: &str| {
            if let Some(id) = DataId::from_hex(hex) {
                ids.insert(id);
            }
        };
        // Buckets' data-side records (`describe.rs`).
        self.scan_all_in(view, b"B", b"C", |k, v| {
            let b: meta::BucketMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            if let Some(id) = &b.settings_blob {
                note(&mut refs.blobs, id);
            } else {
                refs.buckets_lacking.push(b);
            }
            Ok(())
        })?;
        self.scan_all_in(view, b"O", b"P", |k, v| {
            let vm: meta::VersionMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            vm.segments
                .iter()
                .for_each(|s| note(&mut refs.blobs, &s.data_id));
            if vm.delete_marker && vm.segments.is_empty() {
                // `O` bucket `00` …: bucket names have no NUL.
                let rest = &k[1..];
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                let bucket = String::from_utf8_lossy(&rest[..end]).into_owned();
                refs.markers_lacking.push((k.to_vec(), bucket, vm));
            }
            Ok(())
        })?;
        self.scan_all_in(view, b"P", b"Q", |k, v| {
            let p: PartMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            note(&mut refs.blobs, &p.data_id);
            Ok(())
        })?;
        Ok(refs)
    }
}

/// What one pass over the metadata found ([`ObjectStore::scan_references`]).
#[derive(Debug, Default)]
pub(super) struct References {
    /// Every blob a bucket, version or part refers to.
    pub blobs: std::collections::BTreeSet<DataId>,
    /// Buckets without a data-side record (a store made before they had one).
    pub buckets_lacking: Vec<meta::BucketMeta>,
    /// Delete markers without a data-side record: key, bucket, version.
    pub markers_lacking: Vec<(Vec<u8>, String, meta::VersionMeta)>,
}
