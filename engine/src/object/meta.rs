//! Object metadata: the records the store keeps in its key-value engine, and how their keys are
//! laid out so that one ordered scan answers S3's listings.
//!
//! | key                                                   | value (JSON)     |
//! |-------------------------------------------------------|------------------|
//! | `B` bucket                                            | [`BucketMeta`]   |
//! | `O` bucket `00` esc(key) `00 01` !seq (8 bytes, BE)   | [`VersionMeta`]  |
//! | `U` bucket `00` upload id                             | [`UploadMeta`]   |
//! | `P` bucket `00` upload id `00` part number (4, BE)    | [`PartMeta`]     |
//! | `C` bucket `00` upload id                             | [`CompletedUpload`] |
//! | `#seq`                                                | next sequence number (8, BE) |
//!
//! `esc` doubles every `00` byte of the key as `00 FF`, and `00 01` ends it. That keeps the
//! order of encoded keys equal to the order of the keys themselves, even for keys containing
//! NUL. Versions of one key are adjacent and newest first (the sequence number is inverted), so
//! the first entry of a key is its latest version. Object data is never stored here: a version
//! names its data by [`Segment`]s (blob ids).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::acl::Acl;
use super::bucket_config::{ObjectOwnership, PublicAccessBlock};
use super::checksum::{ChecksumAlgorithm, ChecksumType, ObjectChecksum};
use super::cors::CorsRule;
use super::meta_error::MetaError;
use super::object_lock::{ObjectLockConfig, Retention};
use super::owner::Owner;
use super::sse::{Encryption, SealedKey};

/// Key-value pairs, in key order, as a scan returns them.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// The operations of one commit: a put (`Some`) or a delete (`None`) of each key.
pub type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The ordered key-value store that holds object metadata (the LSM engine in Seedbed).
pub trait MetaStore: Send + Sync + fmt::Debug {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError>;

    /// Apply every put (`Some`) and delete (`None`) atomically; durable on return if `sync`.
    fn commit(&self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>, sync: bool) -> Result<(), MetaError>;

    /// Start a commit: its place in the order of commits is fixed when this returns (a caller
    /// that checks conditions under a lock submits under that lock), while its effect need not
    /// be visible or durable until [`MetaStore::wait`] returns. A store that can, gathers the
    /// commits submitted meanwhile into one write and one sync ([`super::replicated`]: group
    /// commit); the default commits at once.
    fn submit(&self, ops: Ops, sync: bool) -> Submitted {
        Submitted::Done(self.commit(ops, sync))
    }

    /// Wait for a submitted commit: on `Ok` it is visible, and durable if it asked to be.
    fn wait(&self, submitted: Submitted) -> Result<(), MetaError> {
        match submitted {
            Submitted::Done(result) => result,
            Submitted::Queued(ticket) => Err(MetaError::Unavailable(format!(
                "commit ticket {ticket} was not queued by this metadata store"
            ))),
        }
    }

    /// Up to `limit` entries with `start <= key < end`, in ascending key order.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError>;

    /// Take writes again after a full disk made the store refuse them (the LSM's
    /// `Db::resume`): `Ok` when it can, else why not. The default has nothing to resume.
    fn resume(&self) -> Result<(), MetaError> {
        Ok(())
    }

    /// For a store kept in several copies ([`super::replicated`]): compare the copies and, with
    /// `heal`, rebuild those that differ or are out of service. `None`: there is one copy.
    fn verify_copies(
        &self,
        _heal: bool,
    ) -> Result<Option<super::replicated::VerifyReport>, MetaError> {
        Ok(None)
    }

    /// A consistent view of the metadata as it is now, for a long read that should not hold
    /// writers back while it runs (the orphan sweep): its scans see every commit that returned
    /// before it was taken and none made after. `None` if this store cannot give one (the
    /// caller then reads the store itself, holding off writers as long as it needs).
    fn snapshot(&self) -> Option<Box<dyn MetaSnapshot>> {
        None
    }
}

/// A read-only, unchanging view of a [`MetaStore`] ([`MetaStore::snapshot`]).
pub trait MetaSnapshot: Send {
    /// Up to `limit` entries with `start <= key < end`, in ascending key order, as of the view.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError>;
}

/// A commit handed to [`MetaStore::submit`]: finished already, or queued under a ticket.
#[derive(Debug)]
#[must_use = "a submitted commit is acknowledged only once `MetaStore::wait` returns Ok"]
pub enum Submitted {
    /// Committed (or failed) at once.
    Done(Result<(), MetaError>),
    /// Queued: [`MetaStore::wait`] commits it, alone or with the others queued meanwhile.
    Queued(u64),
}

/// A bucket's versioning state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    /// Never enabled: one version per key, id `null`.
    Unversioned,
    /// Every PUT gets a new version id; DELETE writes a delete marker.
    Enabled,
    /// Was enabled: new writes use version id `null`; older versions are kept.
    Suspended,
}

/// A bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketMeta {
    /// The bucket's name.
    pub name: String,
    /// Creation time, Unix milliseconds (engine clock).
    pub created_ms: u64,
    /// Versioning state.
    pub versioning: Versioning,
    /// The bucket policy (IAM JSON), the resource-based policy of its objects.
    #[serde(default)]
    pub policy: Option<String>,
    /// The account that owns the bucket (`None` in stores made before owners were recorded:
    /// the store's owner account then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// The bucket's ACL (`None`: its owner has FULL_CONTROL, no one else anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// Object ownership (`None`: not set; objects belong to their writers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<ObjectOwnership>,
    /// Block Public Access (`None`: not configured, nothing blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    /// The bucket's tags (PutBucketTagging), in the order given; empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The LocationConstraint it was created with (`None`: the default region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Object Lock (`object_lock.rs`): `Some` once enabled — it is never turned off — with the
    /// default retention rule, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<ObjectLockConfig>,
    /// CORS rules (`cors.rs`); empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors: Vec<CorsRule>,
    /// Lifecycle rules (`lifecycle.rs`); empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle: Vec<super::lifecycle::LifecycleRule>,
    /// Server access logging (PutBucketLogging): where this bucket's access log goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<super::access_log::LoggingConfig>,
    /// Default encryption (PutBucketEncryption): SSE-S3 for writes that ask for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_encryption: Option<Encryption>,
    /// SSE-C blocked for new writes (PutBucketEncryption's `BlockedEncryptionTypes`
    /// `SSE-C`): a PUT, copy, POST or CreateMultipartUpload that asks for SSE-C is refused
    /// with 403 AccessDenied; objects already stored with SSE-C stay readable with their key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sse_c_blocked: bool,
    /// The blob holding this record on the data side (`describe.rs`): every change of the
    /// bucket's settings writes it anew before its commit, so that `repair` brings the bucket
    /// back as it was when every metadata copy is lost. `None` in stores made before it (the
    /// next open writes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_blob: Option<String>,
    /// The generation of that record: a number from the store's sequence counter, taken when
    /// the record was written, so that a newer record of a bucket always has a larger one
    /// (`repair` takes the largest it finds).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub settings_gen: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The system metadata S3 stores with an object and returns as HTTP headers on GET and HEAD
/// (besides Content-Type, which [`VersionMeta`] has had from the start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemMeta {
    /// Content-Encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Content-Disposition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    /// Content-Language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// Cache-Control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Expires, as the client sent it (an HTTP date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-website-redirect-location`: where a website endpoint would redirect a request
    /// for the object. Kept and returned; unlike the rest, a copy never takes the source's
    /// (S3: "This value is unique to each object and is not copied").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    /// `x-amz-storage-class` as written (`None`: STANDARD). A label only: this store has one
    /// way of keeping data (K + M erasure coding), so every class is kept, read and repaired
    /// alike; the label is what S3 shows of the object (HEAD, GET, listings). Like the
    /// redirect, a copy never takes the source's: S3 gives a copy the class its request names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

impl SystemMeta {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == SystemMeta::default()
    }
}

/// One blob of an object's data; a multipart object has one per part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Blob id, 32 hex digits.
    pub data_id: String,
    /// Bytes.
    pub size: u64,
    /// The part number this segment was uploaded as (multipart objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_number: Option<u32>,
    /// The part's checksum (multipart objects with a checksum algorithm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ObjectChecksum>,
    /// The blob's data key, sealed, when its version is encrypted (`sse.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_key: Option<SealedKey>,
}

/// One version of an object, or a delete marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMeta {
    /// The object's key.
    pub key: String,
    /// `null` or a UUIDv7.
    pub version_id: String,
    /// Store-wide write order; newer versions have larger numbers.
    pub seq: u64,
    /// True for a delete marker (no data).
    pub delete_marker: bool,
    /// Content length.
    pub size: u64,
    /// S3's ETag (quoted hex MD5, or `"md5-of-md5s-N"` for multipart).
    pub etag: String,
    /// SHA-256 of the content (hex); for multipart, of the parts' SHA-256s, suffixed `-N`.
    pub sha256: String,
    /// Content-Type.
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    pub user_meta: BTreeMap<String, String>,
    /// Last-Modified, Unix milliseconds.
    pub last_modified_ms: u64,
    /// Where the data is, in order.
    pub segments: Vec<Segment>,
    /// Content-Encoding, Cache-Control and the other system metadata.
    #[serde(default, skip_serializing_if = "SystemMeta::is_empty")]
    pub system: SystemMeta,
    /// The additional checksum the writer asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ObjectChecksum>,
    /// The account that wrote it (`None` in stores made before owners were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Its ACL (`None`: its owner has FULL_CONTROL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// Its tags (`x-amz-tagging`, PutObjectTagging), in the order given; empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Its Object Lock retention, if any (`object_lock.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Whether an Object Lock legal hold is on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legal_hold: bool,
    /// Its server-side encryption, if any (each segment has its sealed data key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// The restore asked of it, for a version in an archive class (`restore.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<super::restore::Restore>,
}

impl VersionMeta {
    /// Whether `other` is this version but for its segments (where its bytes are).
    pub(super) fn same_but_segments(&self, other: &VersionMeta) -> bool {
        let mut probe = other.clone();
        probe.segments.clone_from(&self.segments);
        probe == *self
    }
}

/// A multipart upload in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadMeta {
    /// The upload id.
    pub upload_id: String,
    /// The key the object will have.
    pub key: String,
    /// When it started, Unix milliseconds.
    pub initiated_ms: u64,
    /// Content-Type of the final object.
    pub content_type: Option<String>,
    /// User metadata of the final object.
    pub user_meta: BTreeMap<String, String>,
    /// System metadata of the final object.
    #[serde(default, skip_serializing_if = "SystemMeta::is_empty")]
    pub system: SystemMeta,
    /// The checksum algorithm and kind every part and the final object get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    /// Who started the upload (and will own the object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Who initiated it (the same account as the owner unless ownership moves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<Owner>,
    /// The ACL of the final object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// The tags of the final object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The retention the final object asks for (else the bucket's default applies when the
    /// upload completes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Whether the final object gets a legal hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legal_hold: bool,
    /// The server-side encryption every part and the final object get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

/// One uploaded part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMeta {
    /// 1 to 10,000.
    pub part_number: u32,
    /// Where its data is.
    pub data_id: String,
    /// Bytes.
    pub size: u64,
    /// Quoted hex MD5.
    pub etag: String,
    /// Hex SHA-256.
    pub sha256: String,
    /// Upload time, Unix milliseconds.
    pub last_modified_ms: u64,
    /// The part's checksum, when the upload has an algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ObjectChecksum>,
    /// The part's data key, sealed, when the upload is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_key: Option<SealedKey>,
}

/// What a completed multipart upload became, so that a retried CompleteMultipartUpload (a
/// client that did not see the first answer) gets the same answer, as S3 gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedUpload {
    /// The object's key.
    pub key: String,
    /// The ETag of the version the upload made.
    pub etag: String,
}

/// `C` bucket `00` upload id.
pub fn completed_key(bucket: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'C'];
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

/// The key of the sequence counter.
pub const SEQ_KEY: &[u8] = b"#seq";

/// Append `key` escaped (order-preserving, NUL-safe), without the terminator.
pub fn push_escaped(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// `B` bucket.
pub fn bucket_key(bucket: &str) -> Vec<u8> {
    let mut k = vec![b'B'];
    k.extend_from_slice(bucket.as_bytes());
    k
}

/// Start of every `O` entry of a bucket.
pub fn objects_start(bucket: &str) -> Vec<u8> {
    let mut k = vec![b'O'];
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k
}

/// End (exclusive) of every `O` entry of a bucket.
pub fn objects_end(bucket: &str) -> Vec<u8> {
    let mut k = vec![b'O'];
    k.extend_from_slice(bucket.as_bytes());
    k.push(1);
    k
}

/// Start of the entries of keys that begin with `prefix`.
pub fn object_prefix(bucket: &str, prefix: &str) -> Vec<u8> {
    let mut k = objects_start(bucket);
    push_escaped(&mut k, prefix.as_bytes());
    k
}

/// End (exclusive) of the entries of keys that begin with `prefix`: UTF-8 never contains `FF`,
/// and escaping follows a `00` with `FF` or `01`, so nothing under the prefix sorts after it.
pub fn object_prefix_end(bucket: &str, prefix: &str) -> Vec<u8> {
    let mut k = object_prefix(bucket, prefix);
    k.push(0xFF);
    k
}

/// Start of the versions of exactly `key`.
pub fn key_versions_start(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = object_prefix(bucket, key);
    k.extend_from_slice(&[0, 1]);
    k
}

/// End (exclusive) of the versions of exactly `key`: the first entry after them.
pub fn key_versions_end(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = object_prefix(bucket, key);
    k.extend_from_slice(&[0, 2]);
    k
}

/// The key of one version.
pub fn version_key(bucket: &str, key: &str, seq: u64) -> Vec<u8> {
    let mut k = key_versions_start(bucket, key);
    k.extend_from_slice(&(!seq).to_be_bytes());
    k
}

/// `U` bucket `00` upload id.
pub fn upload_key(bucket: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'U'];
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

/// Start of every `U` entry of a bucket.
pub fn uploads_start(bucket: &str) -> Vec<u8> {
    upload_key(bucket, "")
}

/// `P` bucket `00` upload id `00` part number.
pub fn part_key(bucket: &str, upload_id: &str, part: u32) -> Vec<u8> {
    let mut k = parts_start(bucket, upload_id);
    k.extend_from_slice(&part.to_be_bytes());
    k
}

/// Start of the parts of one upload.
pub fn parts_start(bucket: &str, upload_id: &str) -> Vec<u8> {
    let mut k = vec![b'P'];
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k.push(0);
    k
}

/// End (exclusive) of the parts of one upload.
pub fn parts_end(bucket: &str, upload_id: &str) -> Vec<u8> {
    let mut k = parts_start(bucket, upload_id);
    *k.last_mut().expect("non-empty") = 1;
    k
}

/// Serialise a record.
pub fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("metadata records always serialise")
}

/// Parse a record; the error names the key it was under.
pub fn from_json<T: for<'de> Deserialize<'de>>(key: &[u8], bytes: &[u8]) -> Result<T, MetaError> {
    serde_json::from_slice(bytes).map_err(|e| MetaError::corrupt(key, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_keys_sort_like_keys() {
        let mut keys = vec![
            "a",
            "a\0b",
            "a\0",
            "ab",
            "a/b",
            "a/",
            "b",
            "",
            "\u{10FFFF}",
            "é",
        ];
        let mut enc: Vec<(Vec<u8>, &str)> = keys
            .iter()
            .map(|k| (key_versions_start("bkt", k), *k))
            .collect();
        keys.sort();
        enc.sort();
        assert_eq!(enc.into_iter().map(|(_, k)| k).collect::<Vec<_>>(), keys);
    }

    #[test]
    fn versions_newest_first_and_inside_their_key() {
        let v1 = version_key("b", "k", 1);
        let v2 = version_key("b", "k", 2);
        assert!(v2 < v1);
        for v in [&v1, &v2] {
            assert!(*v >= key_versions_start("b", "k") && *v < key_versions_end("b", "k"));
            assert!(*v >= object_prefix("b", "k") && *v < object_prefix_end("b", "k"));
        }
        // "k\0x" and "kk" are outside "k"'s versions, "kk" is inside prefix "k".
        let other = version_key("b", "k\0x", 5);
        assert!(other >= key_versions_end("b", "k"));
        assert!(version_key("b", "kk", 1) < object_prefix_end("b", "k"));
        assert!(version_key("b", "kk", 1) >= key_versions_end("b", "k"));
        // Buckets do not overlap.
        assert!(version_key("b", "zzz", 1) < objects_start("b0"));
        assert!(version_key("b", "\u{10FFFF}", 1) < objects_end("b"));
    }
}
