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
use super::error::ObjectError;
use super::meta::{self, PartMeta, Segment, UploadMeta};
use super::names::validate_key;
use super::objects::{hex, NewVersion, PutOptions, PutResult};
use super::store::ObjectStore;

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
            Some(v) => meta::from_json(&k, &v).map_err(ObjectError::Internal),
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
        validate_key(key)?;
        let _g = self.lock_commit();
        self.bucket(bucket)?;
        let upload_id = self.new_uuid().simple().to_string();
        let u = UploadMeta {
            upload_id: upload_id.clone(),
            key: key.to_string(),
            initiated_ms: self.now_ms(),
            content_type: opts.content_type.clone(),
            user_meta: opts.user_meta.clone(),
        };
        self.meta_commit(vec![(
            meta::upload_key(bucket, &upload_id),
            Some(meta::to_json(&u)),
        )])?;
        Ok(upload_id)
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
        if !(1..=PART_NUMBER_MAX).contains(&part_number) {
            return Err(ObjectError::InvalidArgument(format!(
                "part number {part_number} is outside 1..={PART_NUMBER_MAX}"
            )));
        }
        self.upload(bucket, upload_id)?;
        let freed = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            let (id, digest) = self.write_blob(src, size)?;
            let part = PartMeta {
                part_number,
                data_id: id.hex(),
                size,
                etag: format!("\"{}\"", hex(&digest.md5)),
                sha256: hex(&digest.sha256),
                last_modified_ms: self.now_ms(),
            };
            let _g = self.lock_commit();
            // The upload may have been completed or aborted meanwhile.
            if let Err(e) = self.upload(bucket, upload_id) {
                let _ = self.blobs.delete(&id);
                return Err(e);
            }
            let pk = meta::part_key(bucket, upload_id, part_number);
            let old: Option<PartMeta> = match self.meta_get(&pk)? {
                Some(v) => Some(meta::from_json(&pk, &v).map_err(ObjectError::Internal)?),
                None => None,
            };
            // On failure the part's record may still reach the metadata log (see `put_locked`):
            // its blob stays for the orphan sweep to judge.
            self.meta_commit(vec![(pk, Some(meta::to_json(&part)))])?;
            (
                old.map(|p| Segment {
                    data_id: p.data_id,
                    size: p.size,
                }),
                part.etag,
            )
        };
        let (old, etag) = freed;
        self.free_segments(old.as_slice());
        Ok(etag)
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
            .map(|(k, v)| meta::from_json(k, v).map_err(ObjectError::Internal))
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
            .map(|(k, v)| meta::from_json(k, v).map_err(ObjectError::Internal))
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
        if parts.is_empty() {
            return Err(ObjectError::InvalidArgument(
                "CompleteMultipartUpload needs at least one part".into(),
            ));
        }
        if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(ObjectError::InvalidPartOrder);
        }
        let (version, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            let upload = self.upload(bucket, upload_id)?;
            let uploaded = self.parts(bucket, upload_id)?;
            let mut chosen = Vec::with_capacity(parts.len());
            for (i, (n, etag)) in parts.iter().enumerate() {
                let p = uploaded
                    .iter()
                    .find(|p| p.part_number == *n)
                    .ok_or_else(|| {
                        ObjectError::InvalidPart(format!("part {n} was not uploaded"))
                    })?;
                if p.etag.trim_matches('"') != etag.trim_matches('"') {
                    return Err(ObjectError::InvalidPart(format!(
                        "part {n}: ETag {etag} given, {} uploaded",
                        p.etag
                    )));
                }
                if i + 1 < parts.len() && p.size < self.options.min_part_size {
                    return Err(ObjectError::EntityTooSmall {
                        part: *n,
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
                    })
                    .collect(),
            };
            // The upload and all its part records go in the same commit as the new version.
            let mut ops = vec![(meta::upload_key(bucket, upload_id), None)];
            ops.extend(
                uploaded
                    .iter()
                    .map(|p| (meta::part_key(bucket, upload_id, p.part_number), None)),
            );
            let (v, mut freed) =
                self.commit_version(bucket, new, &PutOptions::default(), ops, Some(upload_id))?;
            freed.extend(
                uploaded
                    .iter()
                    .filter(|p| !chosen.iter().any(|c| c.part_number == p.part_number))
                    .map(|p| Segment {
                        data_id: p.data_id.clone(),
                        size: p.size,
                    }),
            );
            (v, freed)
        };
        self.free_segments(&freed);
        Ok(PutResult {
            version_id: version.version_id,
            etag: version.etag,
            sha256: version.sha256,
        })
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
                })
                .collect::<Vec<_>>()
        };
        self.free_segments(&freed);
        Ok(())
    }

    /// Blob ids every version and part refers to.
    pub(super) fn referenced_blobs(
        &self,
    ) -> Result<std::collections::BTreeSet<DataId>, ObjectError> {
        let mut ids = std::collections::BTreeSet::new();
        let mut note = |hex: &str| {
            if let Some(id) = DataId::from_hex(hex) {
                ids.insert(id);
            }
        };
        self.scan_all(b"O", b"P", |k, v| {
            let vm: meta::VersionMeta = meta::from_json(k, v).map_err(ObjectError::Internal)?;
            vm.segments.iter().for_each(|s| note(&s.data_id));
            Ok(())
        })?;
        self.scan_all(b"P", b"Q", |k, v| {
            let p: PartMeta = meta::from_json(k, v).map_err(ObjectError::Internal)?;
            note(&p.data_id);
            Ok(())
        })?;
        Ok(ids)
    }
}
