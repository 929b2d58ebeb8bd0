//! PUT, GET, HEAD, DELETE and COPY of objects, with S3's versioning rules.
//!
//! | bucket state | PUT                          | DELETE (no version id)            |
//! |--------------|------------------------------|-----------------------------------|
//! | Unversioned  | replaces the `null` version  | removes the `null` version        |
//! | Enabled      | adds a version (UUIDv7 id)   | adds a delete marker (new id)     |
//! | Suspended    | replaces the `null` version  | replaces `null` by a delete marker|
//!
//! DELETE with a version id removes exactly that version, for good (removing a delete marker
//! makes the version under it current again). A GET of a key whose latest version is a delete
//! marker is NoSuchKey; a GET naming a delete marker's version id is MethodNotAllowed.
//!
//! Durability: a PUT writes its blob (synced), then commits the metadata that points to it
//! (synced), and only then answers. Data a version no longer needs is deleted after the commit;
//! a crash in between leaves orphaned shards, which `open` and `scrub` remove.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::str::FromStr;

use super::blob::{BlobDigest, BlobError, DataId};
use super::error::ObjectError;
use super::meta::{self, Segment, VersionMeta, Versioning};
use super::names::validate_key;
use super::store::ObjectStore;

/// Options of a PUT.
#[derive(Clone, Debug, Default)]
pub struct PutOptions {
    /// Content-Type.
    pub content_type: Option<String>,
    /// User metadata.
    pub user_meta: BTreeMap<String, String>,
    /// `If-None-Match: *`: only create; fail if the key has a current version.
    pub if_none_match_any: bool,
    /// `If-Match: ETAG`: only replace the current version if its ETag is this.
    pub if_match: Option<String>,
}

/// What a PUT (or COPY, or multipart complete) created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutResult {
    /// The new version's id (`null` unless versioning is enabled).
    pub version_id: String,
    /// Its ETag, quoted.
    pub etag: String,
    /// Its SHA-256 checksum (hex).
    pub sha256: String,
}

/// What a HEAD (or GET) tells about a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Key.
    pub key: String,
    /// Version id.
    pub version_id: String,
    /// Content length.
    pub size: u64,
    /// ETag, quoted.
    pub etag: String,
    /// SHA-256 checksum (hex, `-N` suffix for multipart).
    pub sha256: String,
    /// Content-Type.
    pub content_type: Option<String>,
    /// User metadata.
    pub user_meta: BTreeMap<String, String>,
    /// Last-Modified, Unix milliseconds.
    pub last_modified_ms: u64,
    /// Number of parts for a multipart object, else 0.
    pub parts: usize,
}

impl ObjectInfo {
    fn from_meta(v: &VersionMeta) -> Self {
        ObjectInfo {
            key: v.key.clone(),
            version_id: v.version_id.clone(),
            size: v.size,
            etag: v.etag.clone(),
            sha256: v.sha256.clone(),
            content_type: v.content_type.clone(),
            user_meta: v.user_meta.clone(),
            last_modified_ms: v.last_modified_ms,
            parts: if v.etag.contains('-') {
                v.segments.len()
            } else {
                0
            },
        }
    }
}

/// What a DELETE did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteResult {
    /// The version created (a delete marker) or removed; `None` when nothing existed.
    pub version_id: Option<String>,
    /// True when a delete marker was created, or the version removed was one.
    pub delete_marker: bool,
}

/// An HTTP byte range (`bytes=A-B`, `A-`, `-N`), inclusive as in HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `A` to `B` inclusive (B is clipped to the object).
    FromTo(u64, u64),
    /// From `A` to the end.
    From(u64),
    /// The last `N` bytes.
    Suffix(u64),
}

impl FromStr for ByteRange {
    type Err = ObjectError;

    fn from_str(s: &str) -> Result<Self, ObjectError> {
        let bad = || {
            ObjectError::InvalidArgument(format!(
                "range '{s}' is not of the form A-B, A- or -N (byte offsets, inclusive)"
            ))
        };
        let r = s.trim().strip_prefix("bytes=").unwrap_or(s.trim());
        let (a, b) = r.split_once('-').ok_or_else(bad)?;
        let num = |x: &str| x.trim().parse::<u64>().map_err(|_| bad());
        match (a.trim().is_empty(), b.trim().is_empty()) {
            (false, false) => {
                let (a, b) = (num(a)?, num(b)?);
                if b < a {
                    return Err(bad());
                }
                Ok(ByteRange::FromTo(a, b))
            }
            (false, true) => Ok(ByteRange::From(num(a)?)),
            (true, false) => Ok(ByteRange::Suffix(num(b)?)),
            (true, true) => Err(bad()),
        }
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ByteRange::FromTo(a, b) => write!(f, "bytes={a}-{b}"),
            ByteRange::From(a) => write!(f, "bytes={a}-"),
            ByteRange::Suffix(n) => write!(f, "bytes=-{n}"),
        }
    }
}

impl ByteRange {
    /// The half-open byte interval this range selects in an object of `size` bytes, or
    /// InvalidRange as S3 answers (a range starting at or past the end, or an empty suffix).
    pub fn resolve(&self, size: u64) -> Result<(u64, u64), ObjectError> {
        let invalid = || ObjectError::InvalidRange {
            range: self.to_string(),
            size,
        };
        match *self {
            ByteRange::FromTo(a, b) if a < size => Ok((a, b.min(size - 1) + 1)),
            ByteRange::From(a) if a < size => Ok((a, size)),
            ByteRange::Suffix(n) if n > 0 && size > 0 => Ok((size - n.min(size), size)),
            _ => Err(invalid()),
        }
    }
}

/// Hex of bytes.
pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A new version to commit, before it has a sequence number and id.
pub(super) struct NewVersion {
    pub key: String,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub sha256: String,
    pub content_type: Option<String>,
    pub user_meta: BTreeMap<String, String>,
    pub segments: Vec<Segment>,
}

impl ObjectStore {
    /// All versions of one key, newest first.
    pub(super) fn key_versions(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<(Vec<u8>, VersionMeta)>, ObjectError> {
        let rows = self.meta_scan(
            &meta::key_versions_start(bucket, key),
            &meta::key_versions_end(bucket, key),
            usize::MAX,
        )?;
        rows.into_iter()
            .map(|(k, v)| {
                let m: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::Internal)?;
                Ok((k, m))
            })
            .collect()
    }

    /// The version a GET/HEAD names: the latest, or the one with `version_id`.
    fn resolve_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<VersionMeta, ObjectError> {
        self.bucket(bucket)?;
        validate_key(key)?;
        let versions = self.key_versions(bucket, key)?;
        match version_id {
            None => match versions.into_iter().next() {
                Some((_, v)) if !v.delete_marker => Ok(v),
                Some(_) => Err(ObjectError::NoSuchKey {
                    bucket: bucket.into(),
                    key: key.into(),
                    delete_marker: true,
                }),
                None => Err(ObjectError::NoSuchKey {
                    bucket: bucket.into(),
                    key: key.into(),
                    delete_marker: false,
                }),
            },
            Some(id) => match versions.into_iter().find(|(_, v)| v.version_id == id) {
                Some((_, v)) if v.delete_marker => Err(ObjectError::MethodNotAllowed {
                    bucket: bucket.into(),
                    key: key.into(),
                    version_id: id.into(),
                }),
                Some((_, v)) => Ok(v),
                None => Err(ObjectError::NoSuchVersion {
                    bucket: bucket.into(),
                    key: key.into(),
                    version_id: id.into(),
                }),
            },
        }
    }

    /// Commit a new version under the commit lock, checking conditions against the current
    /// version and replacing the `null` version where the bucket's state says so. Returns the
    /// version written and the segments no version needs any more.
    pub(super) fn commit_version(
        &self,
        bucket: &str,
        new: NewVersion,
        opts: &PutOptions,
        extra_ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        require_upload: Option<&str>,
    ) -> Result<(VersionMeta, Vec<Segment>), ObjectError> {
        let _g = self.lock_commit();
        let b = self.bucket(bucket)?;
        if let Some(upload_id) = require_upload {
            // Completing an upload that was aborted meanwhile would point at freed parts.
            if self
                .meta_get(&meta::upload_key(bucket, upload_id))?
                .is_none()
            {
                return Err(ObjectError::NoSuchUpload(upload_id.to_string()));
            }
        }
        let versions = self.key_versions(bucket, &new.key)?;
        let current = versions
            .first()
            .map(|(_, v)| v)
            .filter(|v| !v.delete_marker);
        if opts.if_none_match_any {
            if let Some(c) = current {
                return Err(ObjectError::PreconditionFailed(format!(
                    "If-None-Match: * but {bucket}/{} exists (version {})",
                    new.key, c.version_id
                )));
            }
        }
        if let Some(want) = &opts.if_match {
            let norm = |e: &str| e.trim_matches('"').to_string();
            match current {
                Some(c) if norm(&c.etag) == norm(want) => {}
                Some(c) => {
                    return Err(ObjectError::PreconditionFailed(format!(
                        "If-Match: {want} but the current ETag of {bucket}/{} is {}",
                        new.key, c.etag
                    )))
                }
                None => {
                    return Err(ObjectError::NoSuchKey {
                        bucket: bucket.into(),
                        key: new.key.clone(),
                        delete_marker: false,
                    })
                }
            }
        }
        let seq = self.next_seq()?;
        let version_id = match b.versioning {
            Versioning::Enabled => self.new_uuid().to_string(),
            Versioning::Unversioned | Versioning::Suspended => "null".to_string(),
        };
        let mut ops = extra_ops;
        let mut freed = Vec::new();
        if version_id == "null" {
            for (k, v) in versions.iter().filter(|(_, v)| v.version_id == "null") {
                ops.push((k.clone(), None));
                freed.extend(v.segments.iter().cloned());
            }
        }
        let v = VersionMeta {
            key: new.key,
            version_id,
            seq,
            delete_marker: new.delete_marker,
            size: new.size,
            etag: new.etag,
            sha256: new.sha256,
            content_type: new.content_type,
            user_meta: new.user_meta,
            last_modified_ms: self.now_ms(),
            segments: new.segments,
        };
        ops.push((
            meta::version_key(bucket, &v.key, seq),
            Some(meta::to_json(&v)),
        ));
        ops.push((meta::SEQ_KEY.to_vec(), Some(seq.to_be_bytes().to_vec())));
        self.meta_commit(ops)?;
        Ok((v, freed))
    }

    /// Delete blobs nothing refers to any more. Waits for in-flight reads and writes (the
    /// exclusive side of `gc_lock`), so no GET loses the data it is reading. A failure leaves
    /// orphans for the next sweep; it never fails the operation that freed them.
    pub(super) fn free_segments(&self, segments: &[Segment]) {
        if segments.is_empty() {
            return;
        }
        let _gc = self.gc_lock.write().unwrap_or_else(|p| p.into_inner());
        for s in segments {
            if let Some(id) = DataId::from_hex(&s.data_id) {
                let _ = self.blobs.delete(&id);
            }
        }
    }

    /// Write `size` bytes from `src` as a new blob (synced if the store syncs). A short or failing
    /// input is the caller's error (InvalidArgument); anything else is the store's.
    pub(super) fn write_blob(
        &self,
        src: &mut dyn Read,
        size: u64,
    ) -> Result<(DataId, BlobDigest), ObjectError> {
        let fresh = self.new_data_id();
        let (id, digest) = self
            .blobs
            .write(&fresh, src, size, self.options.sync)
            .map_err(|e| match e {
                BlobError::Source(_) | BlobError::SourceTooShort { .. } => {
                    ObjectError::InvalidArgument(e.to_string())
                }
                other => other.into(),
            })?;
        Ok((id, digest))
    }

    /// PUT an object of `size` bytes read from `src`.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        src: &mut dyn Read,
        size: u64,
        opts: &PutOptions,
    ) -> Result<PutResult, ObjectError> {
        validate_key(key)?;
        self.bucket(bucket)?;
        let (v, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            self.put_locked(bucket, key, src, size, opts)?
        };
        self.free_segments(&freed);
        Ok(PutResult {
            version_id: v.version_id,
            etag: v.etag,
            sha256: v.sha256,
        })
    }

    /// PUT with `gc_lock` held shared by the caller.
    fn put_locked(
        &self,
        bucket: &str,
        key: &str,
        src: &mut dyn Read,
        size: u64,
        opts: &PutOptions,
    ) -> Result<(VersionMeta, Vec<Segment>), ObjectError> {
        let (id, digest) = self.write_blob(src, size)?;
        let new = NewVersion {
            key: key.to_string(),
            delete_marker: false,
            size,
            etag: format!("\"{}\"", hex(&digest.md5)),
            sha256: hex(&digest.sha256),
            content_type: opts.content_type.clone(),
            user_meta: opts.user_meta.clone(),
            segments: vec![Segment {
                data_id: id.hex(),
                size,
            }],
        };
        match self.commit_version(bucket, new, opts, Vec::new(), None) {
            Ok(r) => Ok(r),
            // The metadata engine failed: whether the version reached its log is unknown (a
            // failed write or sync may still land, and does after a restart). Freeing the
            // blob now could leave a visible version without data; the orphan sweep at the
            // next open knows which it is.
            Err(e @ ObjectError::Internal(_)) => Err(e),
            Err(e) => {
                let _ = self.blobs.delete(&id);
                Err(e)
            }
        }
    }

    /// HEAD: a version's metadata.
    pub fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectInfo, ObjectError> {
        Ok(ObjectInfo::from_meta(
            &self.resolve_version(bucket, key, version_id)?,
        ))
    }

    /// GET: write the object's bytes (or `range` of them) to `out`; returns its metadata.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<ByteRange>,
        out: &mut dyn Write,
    ) -> Result<ObjectInfo, ObjectError> {
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let v = self.resolve_version(bucket, key, version_id)?;
        let (start, end) = match range {
            Some(r) => r.resolve(v.size)?,
            None => (0, v.size),
        };
        self.read_version(bucket, &v, start, end, out)?;
        Ok(ObjectInfo::from_meta(&v))
    }

    /// Bytes `[start, end)` of a version, across its segments.
    pub(super) fn read_version(
        &self,
        bucket: &str,
        v: &VersionMeta,
        start: u64,
        end: u64,
        out: &mut dyn Write,
    ) -> Result<(), ObjectError> {
        let mut seg_start = 0u64;
        for seg in &v.segments {
            let seg_end = seg_start + seg.size;
            if seg_end > start && seg_start < end {
                let id = DataId::from_hex(&seg.data_id).ok_or_else(|| {
                    ObjectError::Internal(format!("corrupt data id '{}'", seg.data_id))
                })?;
                let a = start.max(seg_start) - seg_start;
                let b = end.min(seg_end) - seg_start;
                self.blobs
                    .read_range(&id, seg.size, a, b, out)
                    .map_err(|e| ObjectError::DataLoss {
                        bucket: bucket.into(),
                        key: v.key.clone(),
                        version_id: v.version_id.clone(),
                        source: Box::new(e),
                    })?;
            }
            seg_start = seg_end;
        }
        Ok(())
    }

    /// DELETE: see the module docs for what it does in each bucket state.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<DeleteResult, ObjectError> {
        validate_key(key)?;
        let (result, freed) = {
            let _g = self.lock_commit();
            let b = self.bucket(bucket)?;
            let versions = self.key_versions(bucket, key)?;
            match (version_id, b.versioning) {
                (Some(id), _) => {
                    let (k, v) = versions
                        .into_iter()
                        .find(|(_, v)| v.version_id == id)
                        .ok_or_else(|| ObjectError::NoSuchVersion {
                            bucket: bucket.into(),
                            key: key.into(),
                            version_id: id.into(),
                        })?;
                    self.meta_commit(vec![(k, None)])?;
                    (
                        DeleteResult {
                            version_id: Some(v.version_id),
                            delete_marker: v.delete_marker,
                        },
                        v.segments,
                    )
                }
                (None, Versioning::Unversioned) => {
                    let mut ops = Vec::new();
                    let mut freed = Vec::new();
                    for (k, v) in versions {
                        ops.push((k, None));
                        freed.extend(v.segments);
                    }
                    if !ops.is_empty() {
                        self.meta_commit(ops)?;
                    }
                    (
                        DeleteResult {
                            version_id: None,
                            delete_marker: false,
                        },
                        freed,
                    )
                }
                (None, Versioning::Enabled | Versioning::Suspended) => {
                    drop(versions);
                    drop(_g);
                    let marker = NewVersion {
                        key: key.to_string(),
                        delete_marker: true,
                        size: 0,
                        etag: String::new(),
                        sha256: String::new(),
                        content_type: None,
                        user_meta: BTreeMap::new(),
                        segments: Vec::new(),
                    };
                    let (v, freed) = self.commit_version(
                        bucket,
                        marker,
                        &PutOptions::default(),
                        Vec::new(),
                        None,
                    )?;
                    (
                        DeleteResult {
                            version_id: Some(v.version_id),
                            delete_marker: true,
                        },
                        freed,
                    )
                }
            }
        };
        self.free_segments(&freed);
        Ok(result)
    }

    /// COPY: a new object (or version) at `dst` with the content of `src`; metadata is copied
    /// unless `opts` gives a content type or user metadata (S3's REPLACE directive).
    #[allow(clippy::too_many_arguments)]
    pub fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        src_version: Option<&str>,
        dst_bucket: &str,
        dst_key: &str,
        opts: &PutOptions,
    ) -> Result<PutResult, ObjectError> {
        validate_key(dst_key)?;
        self.bucket(dst_bucket)?;
        let (v, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            let src = self.resolve_version(src_bucket, src_key, src_version)?;
            let mut opts = opts.clone();
            if opts.content_type.is_none() && opts.user_meta.is_empty() {
                opts.content_type = src.content_type.clone();
                opts.user_meta = src.user_meta.clone();
            }
            let mut reader = VersionReader {
                store: self,
                bucket: src_bucket,
                version: &src,
                pos: 0,
                buf: Vec::new(),
                buf_pos: 0,
            };
            self.put_locked(dst_bucket, dst_key, &mut reader, src.size, &opts)?
        };
        self.free_segments(&freed);
        Ok(PutResult {
            version_id: v.version_id,
            etag: v.etag,
            sha256: v.sha256,
        })
    }
}

/// Reads a version's bytes one stripe at a time (for COPY: bounded memory, any size).
struct VersionReader<'a> {
    store: &'a ObjectStore,
    bucket: &'a str,
    version: &'a VersionMeta,
    pos: u64,
    buf: Vec<u8>,
    buf_pos: usize,
}

impl Read for VersionReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf_pos == self.buf.len() {
            if self.pos >= self.version.size {
                return Ok(0);
            }
            let chunk = self.store.layout().stripe_data_max();
            let end = (self.pos + chunk).min(self.version.size);
            self.buf.clear();
            self.buf_pos = 0;
            self.store
                .read_version(self.bucket, self.version, self.pos, end, &mut self.buf)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.pos = end;
        }
        let n = out.len().min(self.buf.len() - self.buf_pos);
        out[..n].copy_from_slice(&self.buf[self.buf_pos..self.buf_pos + n]);
        self.buf_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_resolve_like_http() {
        let r = |s: &str| s.parse::<ByteRange>().unwrap();
        assert_eq!(r("0-9").resolve(100).unwrap(), (0, 10));
        assert_eq!(r("bytes=90-200").resolve(100).unwrap(), (90, 100));
        assert_eq!(r("50-").resolve(100).unwrap(), (50, 100));
        assert_eq!(r("-10").resolve(100).unwrap(), (90, 100));
        assert_eq!(r("-500").resolve(100).unwrap(), (0, 100));
        for bad_range in ["100-", "100-200"] {
            assert_eq!(
                r(bad_range).resolve(100).unwrap_err().code(),
                "InvalidRange"
            );
        }
        assert_eq!(r("-0").resolve(100).unwrap_err().code(), "InvalidRange");
        assert_eq!(r("0-").resolve(0).unwrap_err().code(), "InvalidRange");
        for bad in ["", "-", "a-b", "5-3", "1-2-3"] {
            assert_eq!(
                bad.parse::<ByteRange>().unwrap_err().code(),
                "InvalidArgument",
                "{bad}"
            );
        }
    }
}
