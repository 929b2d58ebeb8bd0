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

use super::acl::{Acl, CannedAcl, Grant};
use super::blob::{BlobDigest, BlobError, ChunkSink, CopyTo, DataId};
use super::bucket_config::{check_acl_allowed, ObjectOwnership};
use super::checksum::{
    ChecksumAlgorithm, ChecksumRequest, ChecksumType, HashingReader, ObjectChecksum,
};
use super::conditions::Conditions;
use super::error::ObjectError;
use super::meta::{self, BucketMeta, Segment, SystemMeta, VersionMeta, Versioning};
use super::names::validate_key;
use super::object_lock::{protected, protection, retention_for_write, Retention};
use super::object_tags::check_object_tags;
use super::owner::Owner;
use super::read::GetOptions;
use super::sse::{Encryption, Key, SealedKey, SseRequest};
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
    /// `If-Match: ETAG`: only replace the current version if its ETag is this (`*`: if there
    /// is a current version); NoSuchKey when there is none.
    pub if_match: Option<String>,
    /// `If-None-Match: ETAG`: only write if the current version's ETag is not this (`*`: only if
    /// there is no current version, as `if_none_match_any`).
    pub if_none_match: Option<String>,
    /// Content-Encoding, Cache-Control, ... (S3's system metadata).
    pub system: SystemMeta,
    /// An additional checksum to compute, store and (if the client sent one) check.
    pub checksum: Option<ChecksumRequest>,
    /// `Content-MD5`: the write fails with BadDigest unless the content has this MD5.
    pub content_md5: Option<[u8; 16]>,
    /// The new object's ACL (`None`: private to its owner).
    pub acl: Option<AclRequest>,
    /// The account writing (its owner, unless the bucket's ownership says otherwise); set by
    /// [`super::auth::AuthorizedStore`] from the caller.
    pub writer: Option<Owner>,
    /// CreateMultipartUpload: the kind of whole-object checksum (default: the algorithm's).
    pub checksum_type: Option<ChecksumType>,
    /// The new object's tags (`x-amz-tagging`), checked by [`check_object_tags`].
    pub tags: Vec<(String, String)>,
    /// Object Lock retention asked for (`x-amz-object-lock-mode` and `-retain-until-date`);
    /// without one, the bucket's default rule applies.
    pub retention: Option<Retention>,
    /// `x-amz-object-lock-legal-hold: ON`.
    pub legal_hold: bool,
    /// Server-side encryption asked for (`sse.rs`); for UploadPart, the SSE-C key the upload
    /// was created with.
    pub sse: Option<SseRequest>,
}

/// Options of a DELETE.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Who deletes (owns the delete marker it may create).
    pub writer: Option<Owner>,
    /// `If-Match`: delete only if the version concerned has this ETag (`*`: exists).
    pub if_match: Option<String>,
    /// `x-amz-bypass-governance-retention: true`, already authorized
    /// (`s3:BypassGovernanceRetention`): a GOVERNANCE retention does not protect the version.
    pub bypass_governance: bool,
}

/// An ACL given with a write: canned (`x-amz-acl`) or explicit grants (`x-amz-grant-*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclRequest {
    /// A canned ACL.
    Canned(CannedAcl),
    /// Explicit grants (the owner gets no implicit FULL_CONTROL, as in S3).
    Grants(Vec<Grant>),
}

/// Options of a COPY beyond those of the PUT it makes.
#[derive(Clone, Debug, Default)]
pub struct CopyOptions {
    /// `x-amz-metadata-directive: REPLACE`: take metadata from the PUT options instead of the
    /// source.
    pub replace_metadata: bool,
    /// `x-amz-copy-source-if-*`, checked against the source version.
    pub source_conditions: Conditions,
    /// `x-amz-tagging-directive: REPLACE`: take the tags from the PUT options (none if it has
    /// none) instead of the source's, which a copy keeps otherwise.
    pub replace_tags: bool,
}

/// What a COPY made, and from which source version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyResult {
    /// The new version.
    pub put: PutResult,
    /// The source version copied.
    pub source_version_id: String,
    /// Last-Modified of the new version, Unix milliseconds.
    pub last_modified_ms: u64,
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
    /// The additional checksum stored with it, if one was asked for.
    pub checksum: Option<ObjectChecksum>,
    /// Its server-side encryption, if any.
    pub encryption: Option<Encryption>,
}

/// A blob [`ObjectStore::write_checked`] wrote.
pub(super) struct Written {
    pub id: DataId,
    /// Size, MD5 and SHA-256 of the plaintext.
    pub digest: BlobDigest,
    /// The MD5 the ETag shows: the plaintext's, but keyed for SSE-C (`sse.rs`).
    pub etag_md5: [u8; 16],
    /// The checksum the request asked for, computed.
    pub computed: Option<Vec<u8>>,
    /// The blob's data key, sealed, when it is encrypted.
    pub sealed_key: Option<SealedKey>,
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
    /// The parts of a multipart object, in order (empty for others).
    pub part_list: Vec<PartInfo>,
    /// Content-Encoding, Cache-Control, ...
    pub system: SystemMeta,
    /// The additional checksum, if one was stored.
    pub checksum: Option<ObjectChecksum>,
    /// The account that owns it (`None`: written before owners were recorded).
    pub owner: Option<Owner>,
    /// Its ACL (`None`: private to its owner).
    pub acl: Option<Acl>,
    /// Its tags (GET answers with how many, `x-amz-tagging-count`).
    pub tags: Vec<(String, String)>,
    /// Its Object Lock retention, if any.
    pub retention: Option<Retention>,
    /// Whether an Object Lock legal hold is on.
    pub legal_hold: bool,
    /// Its server-side encryption, if any.
    pub encryption: Option<Encryption>,
    /// The restore asked of it, if it is in an archive class (`x-amz-restore`).
    pub restore: Option<super::restore::Restore>,
}

/// One part of a multipart object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// The part number it was uploaded as.
    pub number: u32,
    /// Bytes.
    pub size: u64,
    /// Its checksum, if the upload had an algorithm.
    pub checksum: Option<ObjectChecksum>,
}

impl ObjectInfo {
    pub(super) fn from_meta(v: &VersionMeta) -> Self {
        let multipart = v.etag.contains('-');
        ObjectInfo {
            key: v.key.clone(),
            version_id: v.version_id.clone(),
            size: v.size,
            etag: v.etag.clone(),
            sha256: v.sha256.clone(),
            content_type: v.content_type.clone(),
            user_meta: v.user_meta.clone(),
            last_modified_ms: v.last_modified_ms,
            parts: if multipart { v.segments.len() } else { 0 },
            part_list: if multipart {
                v.segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| PartInfo {
                        number: s.part_number.unwrap_or(i as u32 + 1),
                        size: s.size,
                        checksum: s.checksum.clone(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            system: v.system.clone(),
            checksum: v.checksum.clone(),
            owner: v.owner.clone(),
            acl: v.acl.clone(),
            tags: v.tags.clone(),
            retention: v.retention,
            legal_hold: v.legal_hold,
            encryption: v.encryption.clone(),
            restore: v.restore,
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
#[derive(Clone)]
pub(super) struct NewVersion {
    pub key: String,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub sha256: String,
    pub content_type: Option<String>,
    pub user_meta: BTreeMap<String, String>,
    pub segments: Vec<Segment>,
    pub system: SystemMeta,
    pub checksum: Option<ObjectChecksum>,
    pub writer: Option<Owner>,
    pub acl: Option<AclRequest>,
    pub tags: Vec<(String, String)>,
    pub retention: Option<Retention>,
    pub legal_hold: bool,
    pub encryption: Option<Encryption>,
}

/// What a version's commit fixes — its sequence number, version id and time — fixed before it,
/// so that a PUT can describe its blob in the same sync as its data (`put_locked`).
#[derive(Clone, Debug)]
pub(super) struct Planned {
    seq: u64,
    version_id: String,
    last_modified_ms: u64,
    /// For a delete marker: the marker as its data-side record describes it, written before
    /// the commit lock was taken (`describe.rs`, `record_planned_marker`).
    pub(super) marker: Option<Box<VersionMeta>>,
}

impl Planned {
    /// Whether a version planned this way may still be committed in bucket `b` (its version
    /// id is a UUID exactly when versioning is enabled).
    fn fits(&self, b: &BucketMeta) -> bool {
        (self.version_id == "null") != (b.versioning == Versioning::Enabled)
    }
}

impl NewVersion {
    /// The version record this becomes under `plan`.
    pub(super) fn into_version(
        self,
        plan: &Planned,
        owner: Option<Owner>,
        acl: Option<Acl>,
    ) -> VersionMeta {
        VersionMeta {
            key: self.key,
            version_id: plan.version_id.clone(),
            seq: plan.seq,
            delete_marker: self.delete_marker,
            size: self.size,
            etag: self.etag,
            sha256: self.sha256,
            content_type: self.content_type,
            user_meta: self.user_meta,
            last_modified_ms: plan.last_modified_ms,
            segments: self.segments,
            system: self.system,
            checksum: self.checksum,
            owner,
            acl,
            tags: self.tags,
            retention: self.retention,
            legal_hold: self.legal_hold,
            encryption: self.encryption,
            restore: None,
        }
    }

    /// A delete marker written by `writer`.
    pub(super) fn marker(key: &str, writer: Option<Owner>) -> Self {
        NewVersion {
            key: key.to_string(),
            delete_marker: true,
            size: 0,
            etag: String::new(),
            sha256: String::new(),
            content_type: None,
            user_meta: BTreeMap::new(),
            segments: Vec::new(),
            system: SystemMeta::default(),
            checksum: None,
            writer,
            acl: None,
            tags: Vec::new(),
            retention: None,
            legal_hold: false,
            encryption: None,
        }
    }
}

/// The owner and ACL a new object gets in bucket `b`, after S3's object-ownership rules:
/// BucketOwnerEnforced gives every object to the bucket owner and allows no ACL but
/// `bucket-owner-full-control`; BucketOwnerPreferred gives the bucket owner objects written
/// with `bucket-owner-full-control`; otherwise the writer owns what it writes.
pub(super) fn resolve_ownership(
    b: &BucketMeta,
    writer: Option<Owner>,
    acl: Option<&AclRequest>,
) -> Result<(Option<Owner>, Option<Acl>), ObjectError> {
    let bucket_owner = b.owner.clone();
    let full_control = matches!(
        acl,
        Some(AclRequest::Canned(CannedAcl::BucketOwnerFullControl))
    );
    let owner = match b.ownership.unwrap_or(ObjectOwnership::ObjectWriter) {
        ObjectOwnership::BucketOwnerEnforced => {
            if acl.is_some() && !full_control {
                return Err(ObjectError::AccessControlListNotSupported(format!(
                    "bucket {} enforces bucket-owner ownership: ACLs are disabled \
                     (only bucket-owner-full-control is accepted)",
                    b.name
                )));
            }
            return Ok((bucket_owner.or(writer), None));
        }
        ObjectOwnership::BucketOwnerPreferred if full_control => bucket_owner.clone().or(writer),
        _ => writer.or(bucket_owner.clone()),
    };
    let acl = match (acl, &owner) {
        (None, _) | (_, None) => None,
        (Some(AclRequest::Canned(c)), Some(o)) => {
            Some(c.expand(o, bucket_owner.as_ref().unwrap_or(o)))
        }
        (Some(AclRequest::Grants(g)), Some(o)) => Some(Acl {
            owner: o.clone(),
            grants: g.clone(),
        }),
    };
    if let Some(a) = &acl {
        check_acl_allowed(b, a)?;
    }
    Ok((owner, acl))
}

impl ObjectStore {
    /// A sequence number, version id and time for a new version in bucket `b`.
    pub(super) fn plan(&self, b: &BucketMeta) -> Result<Planned, ObjectError> {
        Ok(Planned {
            marker: None,
            seq: self.next_seq()?,
            version_id: match b.versioning {
                Versioning::Enabled => self.new_uuid().to_string(),
                Versioning::Unversioned | Versioning::Suspended => "null".to_string(),
            },
            last_modified_ms: self.now_ms(),
        })
    }

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
                let m: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::from)?;
                Ok((k, m))
            })
            .collect()
    }

    /// The version a GET/HEAD names: the latest, or the one with `version_id`.
    pub(super) fn resolve_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<VersionMeta, ObjectError> {
        self.resolve_version_entry(bucket, key, version_id)
            .map(|(_, v)| v)
    }

    /// [`Self::resolve_version`] with the version's metadata key, for operations that change
    /// a version's record in place (its ACL, its tags).
    pub(super) fn resolve_version_entry(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(Vec<u8>, VersionMeta), ObjectError> {
        self.bucket(bucket)?;
        validate_key(key)?;
        let versions = self.key_versions(bucket, key)?;
        match version_id {
            None => match versions.into_iter().next() {
                Some((k, v)) if !v.delete_marker => Ok((k, v)),
                Some((_, marker)) => Err(ObjectError::NoSuchKey {
                    bucket: bucket.into(),
                    key: key.into(),
                    delete_marker: Some(marker.version_id),
                }),
                None => Err(ObjectError::NoSuchKey {
                    bucket: bucket.into(),
                    key: key.into(),
                    delete_marker: None,
                }),
            },
            Some(id) => match versions.into_iter().find(|(_, v)| v.version_id == id) {
                Some((_, v)) if v.delete_marker => Err(ObjectError::MethodNotAllowed {
                    bucket: bucket.into(),
                    key: key.into(),
                    version_id: id.into(),
                }),
                Some(found) => Ok(found),
                None => Err(ObjectError::NoSuchVersion {
                    bucket: bucket.into(),
                    key: key.into(),
                    version_id: id.into(),
                }),
            },
        }
    }

    /// Change one version's record in place — its ACL, tags, retention, legal hold — under the
    /// commit lock: the version a request names (the latest, or `version_id`), found as a GET
    /// finds it (a delete marker is NoSuchKey or MethodNotAllowed), changed by `change`, and
    /// committed; its data and Last-Modified stay. Returns the version's id.
    pub(super) fn change_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: impl FnOnce(&BucketMeta, &mut VersionMeta) -> Result<(), ObjectError>,
    ) -> Result<String, ObjectError> {
        let _g = self.lock_commit();
        let b = self.bucket(bucket)?;
        let (k, mut v) = self.resolve_version_entry(bucket, key, version_id)?;
        change(&b, &mut v)?;
        self.meta_commit(vec![(k, Some(meta::to_json(&v)))])?;
        Ok(v.version_id)
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
        planned: Option<Planned>,
    ) -> Result<(VersionMeta, Vec<Segment>), ObjectError> {
        let g = self.lock_key(bucket, &new.key);
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
        let norm = |e: &str| e.trim().trim_matches('"').to_string();
        let none_match = opts
            .if_none_match
            .as_deref()
            .or(opts.if_none_match_any.then_some("*"));
        if let (Some(want), Some(c)) = (none_match, current) {
            if want == "*" || norm(want) == norm(&c.etag) {
                return Err(ObjectError::PreconditionFailed {
                    condition: "If-None-Match".into(),
                    why: format!(
                        "{want} but {bucket}/{} exists with ETag {} (version {})",
                        new.key, c.etag, c.version_id
                    ),
                });
            }
        }
        if let Some(want) = &opts.if_match {
            match current {
                Some(c) if want == "*" || norm(&c.etag) == norm(want) => {}
                Some(c) => {
                    return Err(ObjectError::PreconditionFailed {
                        condition: "If-Match".into(),
                        why: format!(
                            "{want} but the current ETag of {bucket}/{} is {}",
                            new.key, c.etag
                        ),
                    })
                }
                None => {
                    return Err(ObjectError::NoSuchKey {
                        bucket: bucket.into(),
                        key: new.key.clone(),
                        delete_marker: None,
                    })
                }
            }
        }
        let (owner, acl) = resolve_ownership(&b, new.writer.clone(), new.acl.as_ref())?;
        // The plan stands unless the bucket's versioning changed since it was made (its blob
        // is then described again after the commit: see `put_locked`).
        let mut freed = Vec::new();
        let (plan, premade) = match planned {
            Some(mut p) if p.fits(&b) => {
                let m = p.marker.take();
                (p, m)
            }
            other => {
                // A marker recorded for a plan that no longer fits is an orphan now.
                if let Some(m) = other.and_then(|mut p| p.marker.take()) {
                    freed.extend(m.segments);
                }
                (self.plan(&b)?, None)
            }
        };
        let seq = plan.seq;
        let version_id = plan.version_id.clone();
        let mut ops = extra_ops;
        if version_id == "null" {
            for (k, v) in versions.iter().filter(|(_, v)| v.version_id == "null") {
                ops.push((k.clone(), None));
                freed.extend(v.segments.iter().cloned());
            }
        }
        let mut v = new.into_version(&plan, owner, acl);
        if v.delete_marker {
            // On the data side before the commit (`describe.rs`): a marker the metadata holds
            // must survive the loss of every metadata copy, or `repair` resurrects the object.
            // Recorded before the lock if nothing it describes changed since; else here.
            match premade {
                Some(m) if m.same_but_segments(&v) => v.segments = m.segments,
                other => {
                    freed.extend(other.into_iter().flat_map(|m| m.segments));
                    self.record_marker(bucket, &mut v)?;
                }
            }
        }
        ops.push((
            meta::version_key(bucket, &v.key, seq),
            Some(meta::to_json(&v)),
        ));
        ops.push(self.seq_op(seq)?);
        self.commit_key(g, bucket, &v.key, ops)?;
        Ok((v, freed))
    }

    /// Delete blobs nothing refers to any more. A blob a reader is streaming is pinned: its
    /// deletion waits for the last reader ([`super::pins`]), so no GET loses the data it is
    /// reading, and no writer waits for a slow reader. A failure leaves orphans for the next
    /// sweep; it never fails the operation that freed them.
    pub(super) fn free_segments(&self, segments: &[Segment]) {
        if segments.is_empty() {
            return;
        }
        let ids = segments
            .iter()
            .filter_map(|s| DataId::from_hex(&s.data_id))
            .collect();
        for id in self.pins.release(ids) {
            let _ = self.blobs.delete(&id);
        }
    }

    /// Write `size` bytes from `src` as a new blob (synced if the store syncs). A short or failing
    /// input is the caller's error (InvalidArgument); anything else is the store's.
    /// `desc_len`: how long its description may be (`describe.rs`). `sync`: durable on return.
    /// `seal`: the data key that encrypts it (`sse.rs`); the digests are of the plaintext.
    pub(super) fn write_blob(
        &self,
        src: &mut dyn Read,
        size: u64,
        desc_len: usize,
        sync: bool,
        seal: Option<&Key>,
    ) -> Result<(DataId, BlobDigest), ObjectError> {
        self.check_space(size)?;
        let fresh = self.new_data_id();
        let (id, digest) = self
            .blobs
            .write_described(&fresh, src, size, sync, desc_len, seal)
            .map_err(|e| match e {
                BlobError::Source(_) | BlobError::SourceTooShort { .. } => {
                    ObjectError::Input(Box::new(e))
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
        check_object_tags(&opts.tags)?;
        // Refuse a disallowed ACL or lock before reading a byte (checked again at the commit).
        let b = self.bucket(bucket)?;
        resolve_ownership(&b, opts.writer.clone(), opts.acl.as_ref())?;
        let retention = retention_for_write(&b, opts.retention, opts.legal_hold, self.now_ms())?;
        // The bucket's default encryption, for a PUT that asks for none; an SSE-KMS key
        // resolved to its ARN.
        let defaulted;
        let opts = match super::sse::for_write(&b, opts.sse.as_ref(), &self.options.kms)? {
            Some(sse) if opts.sse.as_ref() != Some(&sse) => {
                defaulted = PutOptions {
                    sse: Some(sse),
                    ..opts.clone()
                };
                &defaulted
            }
            _ => opts,
        };
        let (v, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            self.put_locked(bucket, key, src, size, opts, retention)?
        };
        self.free_segments(&freed);
        Ok(PutResult::of(v))
    }

    /// Write `size` bytes from `src` as a blob, computing the requested checksum on the way,
    /// encrypted if `sse` asks (`sse.rs`), and check them against Content-MD5 and the client's
    /// checksum. On a mismatch the blob is deleted and the error is BadDigest.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_checked(
        &self,
        src: &mut dyn Read,
        size: u64,
        checksum: Option<&ChecksumRequest>,
        content_md5: Option<&[u8; 16]>,
        sse: Option<&SseRequest>,
        desc_len: usize,
        sync: bool,
    ) -> Result<Written, ObjectError> {
        // An encrypted blob gets a data key of its own, sealed under the key-encryption key;
        // the blob layer encrypts after hashing, so the digests below are the plaintext's.
        let (data_key, sealed_key) = match sse {
            Some(sse) => {
                let k = Key::random()?;
                let sealed = self.key_encryption_key(sse)?.seal(&k)?;
                (Some(k), Some(sealed))
            }
            None => (None, None),
        };
        let seal = data_key.as_ref();
        let (id, digest, computed) = match checksum.map(|c| c.algorithm) {
            // SHA-256 is what the blob layer computes anyway.
            None | Some(ChecksumAlgorithm::Sha256) => {
                let (id, d) = self.write_blob(src, size, desc_len, sync, seal)?;
                let sha = checksum.map(|_| d.sha256.to_vec());
                (id, d, sha)
            }
            Some(alg) => {
                let mut hashing = HashingReader::new(src, alg);
                let (id, d) = self.write_blob(&mut hashing, size, desc_len, sync, seal)?;
                (id, d, Some(hashing.finish()))
            }
        };
        let written = Written {
            id,
            etag_md5: match sse {
                Some(SseRequest::Customer(c)) => c.etag_md5(&digest.md5),
                _ => digest.md5,
            },
            digest,
            computed,
            sealed_key,
        };
        let check = || -> Result<(), ObjectError> {
            if let Some(want) = content_md5 {
                if *want != written.digest.md5 {
                    return Err(ObjectError::BadDigest(format!(
                        "the Content-MD5 you specified ({}) did not match the MD5 of the data received ({})",
                        hex(want),
                        hex(&written.digest.md5)
                    )));
                }
            }
            if let (Some(req), Some(c)) = (checksum, &written.computed) {
                req.verify(c)?;
            }
            Ok(())
        };
        if let Err(e) = check() {
            let _ = self.blobs.delete(&written.id);
            return Err(e);
        }
        Ok(written)
    }

    /// PUT with `gc_lock` held shared by the caller; `retention` is the version's, resolved by
    /// the caller against the bucket before any byte was read ([`retention_for_write`]).
    fn put_locked(
        &self,
        bucket: &str,
        key: &str,
        src: &mut dyn Read,
        size: u64,
        opts: &PutOptions,
        retention: Option<Retention>,
    ) -> Result<(VersionMeta, Vec<Segment>), ObjectError> {
        let desc_len = self.version_desc_estimate(
            bucket,
            key,
            size,
            opts.content_type.clone(),
            &opts.user_meta,
            &opts.system,
            opts.checksum.as_ref().map(|c| c.algorithm),
            opts.writer.clone(),
            opts.acl.as_ref(),
        ) + meta::to_json(&opts.tags).len()
            + opts
                .sse
                .as_ref()
                .map_or(0, |s| super::sse::description_room(&s.encryption()));
        // Not synced yet: the description goes in first, and one sync makes both durable.
        let Written {
            id,
            digest,
            etag_md5,
            computed,
            sealed_key,
        } = self.write_checked(
            src,
            size,
            opts.checksum.as_ref(),
            opts.content_md5.as_ref(),
            opts.sse.as_ref(),
            desc_len,
            false,
        )?;
        let checksum = opts
            .checksum
            .as_ref()
            .zip(computed)
            .map(|(req, c)| ObjectChecksum {
                algorithm: req.algorithm,
                kind: ChecksumType::FullObject,
                value: super::checksum::encode(&c),
                parts: None,
            });
        let new = NewVersion {
            key: key.to_string(),
            delete_marker: false,
            size,
            etag: format!("\"{}\"", hex(&etag_md5)),
            sha256: hex(&digest.sha256),
            content_type: opts.content_type.clone(),
            user_meta: opts.user_meta.clone(),
            segments: vec![Segment {
                data_id: id.hex(),
                size,
                part_number: None,
                checksum: None,
                sealed_key,
            }],
            system: opts.system.clone(),
            checksum,
            writer: opts.writer.clone(),
            acl: opts.acl.clone(),
            tags: super::object_tags::by_key(&opts.tags),
            retention,
            legal_hold: opts.legal_hold,
            encryption: opts.sse.as_ref().map(SseRequest::encryption),
        };
        // The blob describes its version before the commit, in the same sync as its data:
        // the sequence number, version id and time are fixed now (`Planned`), so the metadata
        // never holds a version whose blob does not describe it, and the PUT pays one round
        // of `fdatasync`s, not two.
        let planned = match self.describe_planned(bucket, &id, &new) {
            Ok(p) => p,
            Err(e) => {
                let _ = self.blobs.delete(&id);
                return Err(e);
            }
        };
        match self.commit_version(bucket, new, opts, Vec::new(), None, Some(planned.0)) {
            Ok((v, freed)) => {
                // The bucket changed between the plan and the commit (its versioning, or who
                // owns new objects): describe the version as committed before the PUT is
                // acknowledged. Should that fail, the version stands (it is committed), the
                // error says so, and the replaced blobs wait for the orphan sweep.
                if v != planned.1 {
                    self.describe_version(bucket, &v)?;
                }
                Ok((v, freed))
            }
            // The metadata engine failed: whether the version reached its log is unknown (a
            // failed write or sync may still land, and does after a restart). Freeing the
            // blob now could leave a visible version without data; the orphan sweep at the
            // next open knows which it is.
            Err(e) if e.is_store_failure() => Err(e),
            Err(e) => {
                let _ = self.blobs.delete(&id);
                Err(e)
            }
        }
    }

    /// How long the description of a version about to be written may be: its record with
    /// the longest version id, sequence number and time, plus a margin (`describe.rs`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn version_desc_estimate(
        &self,
        bucket: &str,
        key: &str,
        size: u64,
        content_type: Option<String>,
        user_meta: &BTreeMap<String, String>,
        system: &SystemMeta,
        checksum: Option<ChecksumAlgorithm>,
        writer: Option<Owner>,
        acl: Option<&AclRequest>,
    ) -> usize {
        let (owner, acl) = self
            .bucket(bucket)
            .ok()
            .and_then(|b| resolve_ownership(&b, writer.clone(), acl).ok())
            .unwrap_or((writer, None));
        let v = VersionMeta {
            key: key.to_string(),
            version_id: "0".repeat(36),
            seq: u64::MAX,
            delete_marker: false,
            size,
            etag: "0".repeat(40),
            sha256: "0".repeat(70),
            content_type,
            user_meta: user_meta.clone(),
            last_modified_ms: u64::MAX,
            segments: vec![Segment {
                data_id: "0".repeat(32),
                size,
                part_number: Some(10_000),
                checksum: None,
                sealed_key: None,
            }],
            system: system.clone(),
            checksum: checksum.map(|algorithm| ObjectChecksum {
                algorithm,
                kind: ChecksumType::FullObject,
                value: "0".repeat(44),
                parts: Some(10_000),
            }),
            owner,
            acl,
            tags: Vec::new(),
            // The longest a retention and a hold can be.
            retention: Some(Retention {
                mode: super::object_lock::LockMode::Compliance,
                until_ms: u64::MAX,
            }),
            legal_hold: true,
            // An encrypted version's two fields are counted by the caller
            // (`sse::description_room`).
            encryption: None,
            // A restore is recorded in the metadata only, never in a description.
            restore: None,
        };
        super::describe::BlobDescription::of_version(bucket, &v, 0)
            .to_json()
            .len()
            + super::describe::ESTIMATE_MARGIN
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
        let reader = self.open_object(
            bucket,
            key,
            &GetOptions {
                version_id: version_id.map(String::from),
                range,
                ..GetOptions::default()
            },
        )?;
        reader.read_to(out)?;
        Ok(reader.info().clone())
    }

    /// Bytes `[start, end)` of a version, across its segments; `keys`: the segments' data
    /// keys when the version is encrypted ([`ObjectStore::data_keys`]).
    pub(super) fn read_version(
        &self,
        bucket: &str,
        v: &VersionMeta,
        keys: Option<&[Key]>,
        start: u64,
        end: u64,
        out: &mut dyn Write,
    ) -> Result<(), ObjectError> {
        self.read_version_chunks(bucket, v, keys, start, end, &mut CopyTo(out))
    }

    /// Bytes `[start, end)` of a version, as the verified shard buffers themselves (decrypted
    /// in place when the version is encrypted).
    pub(super) fn read_version_chunks(
        &self,
        bucket: &str,
        v: &VersionMeta,
        keys: Option<&[Key]>,
        start: u64,
        end: u64,
        out: &mut dyn ChunkSink,
    ) -> Result<(), ObjectError> {
        if v.encryption.is_some() && keys.is_none() {
            // Never hand out ciphertext as if it were the object.
            return Err(ObjectError::Internal(format!(
                "{bucket}/{} is encrypted and was read without its keys",
                v.key
            )));
        }
        let mut seg_start = 0u64;
        for (i, seg) in v.segments.iter().enumerate() {
            let seg_end = seg_start + seg.size;
            if seg_end > start && seg_start < end {
                let id = DataId::from_hex(&seg.data_id).ok_or_else(|| {
                    ObjectError::Internal(format!("corrupt data id '{}'", seg.data_id))
                })?;
                let a = start.max(seg_start) - seg_start;
                let b = end.min(seg_end) - seg_start;
                let data_loss = |e| ObjectError::DataLoss {
                    bucket: bucket.into(),
                    key: v.key.clone(),
                    version_id: v.version_id.clone(),
                    source: Box::new(e),
                };
                match keys {
                    None => {
                        self.blobs
                            .read_range_chunks(&id, seg.size, a, b, out)
                            .map_err(data_loss)?;
                    }
                    Some(keys) => {
                        let key = keys.get(i).ok_or_else(|| {
                            ObjectError::Internal(format!("no data key for segment {i}"))
                        })?;
                        self.read_decrypting(&id, seg.size, a, b, key, out, data_loss)?;
                    }
                }
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
        self.delete_object_as(bucket, key, version_id, &DeleteOptions::default())
    }

    /// DELETE with options: by `writer` (who owns the delete marker it may create); only if
    /// the version it concerns — the one named, else the current one — has ETag `if_match`
    /// (`*`: exists), when given (S3's conditional delete; a key with no such version is
    /// NoSuchKey, as on S3); and never a version Object Lock protects (a legal hold, or a
    /// retention not yet over that is COMPLIANCE or is GOVERNANCE not bypassed).
    pub fn delete_object_as(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        opts: &DeleteOptions,
    ) -> Result<DeleteResult, ObjectError> {
        let (writer, if_match) = (opts.writer.clone(), opts.if_match.as_deref());
        validate_key(key)?;
        // Shared GC lock: a delete marker writes a blob (its record) before its commit, which
        // compaction must not see half-done.
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let (result, freed) = {
            let g = self.lock_key(bucket, key);
            let b = self.bucket(bucket)?;
            let versions = self.key_versions(bucket, key)?;
            if let Some(want) = if_match {
                check_delete_if_match(bucket, key, version_id, &versions, want)?;
            }
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
                    if let Some(why) = protection(&v, self.now_ms(), opts.bypass_governance) {
                        return Err(protected(&why));
                    }
                    self.commit_key(g, bucket, key, vec![(k, None)])?;
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
                        self.commit_key(g, bucket, key, ops)?;
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
                    drop(g);
                    let marker = NewVersion::marker(key, writer);
                    // The marker's data-side record is written and synced outside the commit
                    // lock, so that the deletes of other keys share its sync (`pack_sync.rs`).
                    let planned = self.record_planned_marker(bucket, &marker)?;
                    let note = planned.marker.as_ref().map(|m| m.segments.clone());
                    // The commit checks the condition again under its lock: a PUT in between
                    // must not be hidden by a marker meant for the version checked above.
                    let committed = self.commit_version(
                        bucket,
                        marker,
                        &PutOptions {
                            if_match: if_match.map(String::from),
                            ..PutOptions::default()
                        },
                        Vec::new(),
                        None,
                        Some(planned),
                    );
                    if let Err(
                        ObjectError::PreconditionFailed { .. }
                        | ObjectError::NoSuchKey { .. }
                        | ObjectError::NoSuchBucket(_),
                    ) = &committed
                    {
                        // Refused before anything was committed: the record is nobody's.
                        self.free_segments(&note.unwrap_or_default());
                    }
                    let (v, freed) = committed?;
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
        let copy = CopyOptions {
            replace_metadata: opts.content_type.is_some() || !opts.user_meta.is_empty(),
            ..CopyOptions::default()
        };
        let src = GetOptions {
            version_id: src_version.map(String::from),
            ..GetOptions::default()
        };
        Ok(self
            .copy_object_with(src_bucket, src_key, &src, dst_bucket, dst_key, opts, &copy)?
            .put)
    }

    /// COPY with S3's options: the metadata directive and conditions on the source. The source
    /// is read through a pinned reader, so a concurrent overwrite of it cannot pull the data
    /// away mid-copy; copying an object onto itself works the same way.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_object_with(
        &self,
        src_bucket: &str,
        src_key: &str,
        src: &GetOptions,
        dst_bucket: &str,
        dst_key: &str,
        opts: &PutOptions,
        copy: &CopyOptions,
    ) -> Result<CopyResult, ObjectError> {
        validate_key(dst_key)?;
        // Refuse a disallowed ACL or lock before reading the source.
        let dst = self.bucket(dst_bucket)?;
        resolve_ownership(&dst, opts.writer.clone(), opts.acl.as_ref())?;
        let retention = retention_for_write(&dst, opts.retention, opts.legal_hold, self.now_ms())?;
        let source = self.open_object(
            src_bucket,
            src_key,
            &GetOptions {
                version_id: src.version_id.clone(),
                conditions: Conditions::default(),
                sse_customer: src.sse_customer.clone(),
                ..GetOptions::default()
            },
        )?;
        copy.source_conditions
            .check(&source.info().etag, source.info().last_modified_ms, true)?;
        let info = source.info().clone();
        let mut opts = opts.clone();
        if !copy.replace_metadata {
            opts.content_type = info.content_type.clone();
            opts.user_meta = info.user_meta.clone();
            opts.system = SystemMeta {
                website_redirect_location: opts.system.website_redirect_location.take(),
                storage_class: opts.system.storage_class.take(),
                ..info.system.clone()
            };
        }
        opts.sse = super::sse::for_write(&dst, opts.sse.as_ref(), &self.options.kms)?;
        if copy.replace_tags {
            check_object_tags(&opts.tags)?;
        } else {
            opts.tags = info.tags.clone();
        }
        // A full-object checksum travels with the data unless another is asked for.
        if opts.checksum.is_none() {
            if let Some(c) = info
                .checksum
                .as_ref()
                .filter(|c| c.kind == ChecksumType::FullObject)
            {
                opts.checksum = Some(ChecksumRequest {
                    algorithm: c.algorithm,
                    expected: None,
                });
            }
        }
        let (v, freed) = {
            let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
            let mut reader = source.chunks();
            self.put_locked(
                dst_bucket,
                dst_key,
                &mut reader,
                info.size,
                &opts,
                retention,
            )?
        };
        drop(source);
        self.free_segments(&freed);
        let last_modified_ms = v.last_modified_ms;
        Ok(CopyResult {
            put: PutResult::of(v),
            source_version_id: info.version_id,
            last_modified_ms,
        })
    }
}

/// Decrypts a segment's shard buffers in place on their way to `inner` (CTR: the key stream
/// at the blob offset of the first byte).
/// Reads at least this long decrypt on a helper thread while the next chunk is read; shorter
/// ones decrypt in line (a thread costs more than the AES of a few stripes' worth).
const OVERLAP_DECRYPT_MIN: u64 = 8 << 20;

/// Decrypts each chunk in line, then hands it on.
struct Decrypting<'a> {
    key: &'a Key,
    offset: u64,
    inner: &'a mut dyn ChunkSink,
}

impl ChunkSink for Decrypting<'_> {
    fn chunk(
        &mut self,
        mut buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> std::io::Result<Option<Vec<u8>>> {
        self.key.apply(self.offset, &mut buf[range.clone()]);
        self.offset += range.len() as u64;
        self.inner.chunk(buf, range)
    }
}

/// A chunk in flight between the reader and the decrypting thread.
type Piece = (Vec<u8>, std::ops::Range<usize>);

/// Hands each chunk to a decrypting thread and, meanwhile, the chunk before it — decrypted by
/// now — on to the sink: the AES of chunk N runs while chunk N+1 is read and verified, where
/// in line it would wait for it. One chunk in flight keeps the order and bounds the memory.
struct Overlapped<'a> {
    to_worker: std::sync::mpsc::SyncSender<Piece>,
    from_worker: std::sync::mpsc::Receiver<Piece>,
    in_flight: bool,
    inner: &'a mut dyn ChunkSink,
}

impl Overlapped<'_> {
    /// Take the decrypted chunk back and hand it on; the buffer the sink returns, if any.
    fn drain(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if !std::mem::take(&mut self.in_flight) {
            return Ok(None);
        }
        let (buf, range) = self
            .from_worker
            .recv()
            .map_err(|_| std::io::Error::other("the decrypting thread stopped"))?;
        self.inner.chunk(buf, range)
    }
}

impl ChunkSink for Overlapped<'_> {
    fn chunk(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> std::io::Result<Option<Vec<u8>>> {
        let back = self.drain()?;
        self.to_worker
            .send((buf, range))
            .map_err(|_| std::io::Error::other("the decrypting thread stopped"))?;
        self.in_flight = true;
        Ok(back)
    }
}

impl ObjectStore {
    /// Read `[a, b)` of blob `id` decrypted with `key` into `out`: in line for a short read,
    /// overlapped with the reading on a helper thread for a long one ([`Overlapped`]).
    #[allow(clippy::too_many_arguments)]
    fn read_decrypting(
        &self,
        id: &DataId,
        size: u64,
        a: u64,
        b: u64,
        key: &Key,
        out: &mut dyn ChunkSink,
        data_loss: impl Fn(BlobError) -> ObjectError,
    ) -> Result<(), ObjectError> {
        if b - a < OVERLAP_DECRYPT_MIN {
            let mut sink = Decrypting {
                key,
                offset: a,
                inner: out,
            };
            return self
                .blobs
                .read_range_chunks(id, size, a, b, &mut sink)
                .map(|_| ())
                .map_err(data_loss);
        }
        std::thread::scope(|scope| {
            let (to_worker, work) = std::sync::mpsc::sync_channel::<Piece>(1);
            let (done, from_worker) = std::sync::mpsc::sync_channel::<Piece>(1);
            scope.spawn(move || {
                let mut offset = a;
                for (mut buf, range) in work {
                    key.apply(offset, &mut buf[range.clone()]);
                    offset += range.len() as u64;
                    if done.send((buf, range)).is_err() {
                        return;
                    }
                }
            });
            let mut sink = Overlapped {
                to_worker,
                from_worker,
                in_flight: false,
                inner: out,
            };
            let read = self.blobs.read_range_chunks(id, size, a, b, &mut sink);
            // The last chunk is still with the worker; a failed read drops it.
            let last = match read {
                Ok(_) => sink
                    .drain()
                    .map(|_| ())
                    .map_err(|e| data_loss(BlobError::Sink(e))),
                Err(e) => Err(data_loss(e)),
            };
            drop(sink); // closes the worker's input: it ends
            last
        })
    }

    /// The key that seals data keys written with `sse`.
    pub(super) fn key_encryption_key(&self, sse: &SseRequest) -> Result<Key, ObjectError> {
        match sse {
            SseRequest::S3 => self.master_key(true),
            SseRequest::Customer(c) => Ok(c.key().clone()),
            SseRequest::Kms(k) => {
                // `sse::for_write` resolved the key to its ARN; a key never derives from "".
                let arn = k.key_id.as_deref().ok_or_else(|| {
                    ObjectError::Internal("an SSE-KMS write reached the store unresolved".into())
                })?;
                Ok(super::kms::key_encryption_key(&self.master_key(true)?, arn))
            }
        }
    }

    /// The data keys of version `v`'s segments, for a read that brings `customer` (the SSE-C
    /// key a request sent, if any): `None` for a version stored in clear. Refuses a read
    /// without the SSE-C key a version needs, with another, or with one it does not need.
    pub(super) fn data_keys(
        &self,
        bucket: &str,
        v: &VersionMeta,
        customer: Option<&super::sse::CustomerKey>,
    ) -> Result<Option<Vec<Key>>, ObjectError> {
        let Some(enc) = &v.encryption else {
            return match customer {
                Some(_) => Err(super::sse::not_applicable()),
                None => Ok(None),
            };
        };
        enc.check_read(customer)?;
        let kek = match (enc, customer) {
            (Encryption::Customer { .. }, Some(c)) => c.key().clone(),
            (Encryption::Kms { key_id, .. }, _) => {
                super::kms::key_encryption_key(&self.master_key(false)?, key_id)
            }
            _ => self.master_key(false)?,
        };
        let what = || format!("{bucket}/{} version {}", v.key, v.version_id);
        v.segments
            .iter()
            .map(|s| {
                s.sealed_key
                    .as_ref()
                    .and_then(|k| kek.unseal(k))
                    .ok_or_else(|| match enc {
                        // The MD5 matched but the key does not open: a different key whose
                        // MD5 was sent for the right one.
                        Encryption::Customer { .. } if s.sealed_key.is_some() => {
                            ObjectError::InvalidRequest(format!(
                                "the SSE-C key given does not open {}",
                                what()
                            ))
                        }
                        _ => super::sse::unseal_failed(&what()),
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// S3's conditional delete: the version named (or the current one) must exist and have ETag
/// `want` (`*`: any).
fn check_delete_if_match(
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    versions: &[(Vec<u8>, VersionMeta)],
    want: &str,
) -> Result<(), ObjectError> {
    let target = match version_id {
        Some(id) => versions.iter().find(|(_, v)| v.version_id == id),
        None => versions.first(),
    };
    let norm = |e: &str| e.trim().trim_matches('"').to_string();
    match target {
        Some((_, v)) if !v.delete_marker => {
            if want == "*" || norm(want) == norm(&v.etag) {
                Ok(())
            } else {
                Err(ObjectError::PreconditionFailed {
                    condition: "If-Match".into(),
                    why: format!(
                        "{want} but the ETag of {bucket}/{key} (version {}) is {}",
                        v.version_id, v.etag
                    ),
                })
            }
        }
        Some((_, marker)) => Err(ObjectError::NoSuchKey {
            bucket: bucket.into(),
            key: key.into(),
            delete_marker: Some(marker.version_id.clone()),
        }),
        None => Err(ObjectError::NoSuchKey {
            bucket: bucket.into(),
            key: key.into(),
            delete_marker: None,
        }),
    }
}

impl PutResult {
    pub(super) fn of(v: VersionMeta) -> Self {
        PutResult {
            version_id: v.version_id,
            etag: v.etag,
            sha256: v.sha256,
            checksum: v.checksum,
            encryption: v.encryption,
        }
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
