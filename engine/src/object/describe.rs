//! Each blob describes itself: the version (or multipart part) it belongs to is written into
//! its shards (format 2, `shard.rs`), so that `repair` can rebuild the metadata from the data
//! when every metadata copy is lost (`rebuild.rs`).
//!
//! The description is the version's own metadata record ([`VersionMeta`], as committed: version
//! id, sequence number, ETag, SHA-256, size, content type, user and system metadata, checksum,
//! owner, ACL, Last-Modified) with the bucket's name, and of its segments only the one this blob
//! holds (`segment` of `segments`), so that it stays short however many parts an object has.
//! A part of a multipart upload in flight describes itself as that part ([`PartMeta`], with the
//! upload id and key); completing the upload describes every chosen part anew as a segment of
//! the version.
//!
//! Written when: after the metadata commit (only then are the version id and sequence number
//! fixed), synced, before the PUT is acknowledged. A crash between the commit and the
//! description leaves a version whose blob has none: the metadata copies still have it; only a
//! rebuild from the shards would list that blob as undescribed. Delete markers have no blob and
//! so no description (see `rebuild.rs`).
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use serde::{Deserialize, Serialize};

use super::blob::DataId;
use super::error::ObjectError;
use super::meta::{PartMeta, Segment, VersionMeta};
use super::store::ObjectStore;

/// What a blob's description says it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlobDescription {
    /// Segment `segment` (0-based) of the `segments` of a version.
    Version {
        /// The bucket.
        bucket: String,
        /// Which segment of the version this blob is.
        segment: u32,
        /// How many segments the version has.
        segments: u32,
        /// The version record, with only this blob's segment in `segments`.
        version: Box<VersionMeta>,
    },
    /// A part of a multipart upload that was in flight when the part was written.
    Part {
        /// The bucket.
        bucket: String,
        /// The upload.
        upload_id: String,
        /// The key the upload will create.
        key: String,
        /// The part record.
        part: PartMeta,
    },
}

impl BlobDescription {
    /// Segment `index` of version `v`.
    pub fn of_version(bucket: &str, v: &VersionMeta, index: usize) -> Self {
        let mut version = v.clone();
        version.segments = vec![v.segments[index].clone()];
        BlobDescription::Version {
            bucket: bucket.to_string(),
            segment: u32::try_from(index).expect("at most 10,000 segments (S3's part limit)"),
            segments: u32::try_from(v.segments.len())
                .expect("at most 10,000 segments (S3's part limit)"),
            version: Box::new(version),
        }
    }

    /// The JSON written into the shards.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("descriptions always serialise")
    }

    /// Parse a description read from a shard.
    pub fn from_json(b: &[u8]) -> Result<Self, UnreadableDescription> {
        serde_json::from_slice(b).map_err(UnreadableDescription)
    }
}

/// A description section whose CRC held but whose JSON does not parse as one.
#[derive(Debug, thiserror::Error)]
#[error("unreadable description: {0}")]
pub struct UnreadableDescription(#[source] pub serde_json::Error);

/// Room to leave for what the commit adds to a description estimated before it: a version id,
/// a sequence number, a time, ETag and SHA-256 suffixes, an owner's display name.
pub(super) const ESTIMATE_MARGIN: usize = 256;

impl ObjectStore {
    /// Write the description of every segment of version `v` of `bucket` into its blob.
    pub(super) fn describe_version(
        &self,
        bucket: &str,
        v: &VersionMeta,
    ) -> Result<(), ObjectError> {
        for (i, seg) in v.segments.iter().enumerate() {
            let json = BlobDescription::of_version(bucket, v, i).to_json();
            self.describe_blob(seg, &json)?;
        }
        Ok(())
    }

    /// Write a part's description into its blob.
    pub(super) fn describe_part(
        &self,
        bucket: &str,
        upload_id: &str,
        key: &str,
        part: &PartMeta,
    ) -> Result<(), ObjectError> {
        let d = BlobDescription::Part {
            bucket: bucket.to_string(),
            upload_id: upload_id.to_string(),
            key: key.to_string(),
            part: part.clone(),
        };
        let seg = Segment {
            data_id: part.data_id.clone(),
            size: part.size,
            part_number: None,
            checksum: None,
        };
        self.describe_blob(&seg, &d.to_json())
    }

    fn describe_blob(&self, seg: &Segment, json: &[u8]) -> Result<(), ObjectError> {
        let Some(id) = DataId::from_hex(&seg.data_id) else {
            return Ok(());
        };
        self.blobs
            .write_description(&id, seg.size, json)
            .map_err(|e| ObjectError::DescriptionNotWritten {
                blob: id.to_string(),
                source: Box::new(e),
            })
    }
}
