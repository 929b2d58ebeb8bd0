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
//! Written when: a PUT fixes its version's sequence number, version id and time before the
//! commit (`describe_planned`), writes the description right
//! after the data and syncs both together, then commits with exactly those values: the
//! metadata never holds a version its blob does not describe, and the description costs one
//! positioned write per shard, no extra sync. A part is described the same way before its
//! commit. Completing a multipart upload describes its parts anew *after* its commit (the one
//! window left: a crash there leaves the completed version's parts described as parts of an
//! upload in flight).
//!
//! What has no data is put on the data side too, in an **empty blob** whose description is all
//! it holds ([`BlobStore::write_note`](super::blob::BlobStore::write_note): one write and one
//! `fdatasync` per shard, a pack record when it fits): a **delete marker** (its version record,
//! as for a version; the marker names the blob as its one segment, of size 0) and a **bucket's
//! record** (settings and all, [`BlobDescription::Bucket`], with a generation number; the
//! bucket names it in `settings_blob`). Unlike a version's description these are written
//! *before* the commit — a marker's version id and sequence number, and a bucket's generation,
//! are fixed under the commit lock before anything is written — so whatever the metadata
//! holds is on the data side already, and a crash in between leaves only an orphan blob.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use serde::{Deserialize, Serialize};

use super::blob::DataId;
use super::error::ObjectError;
use super::meta::{self, BucketMeta, PartMeta, Segment, VersionMeta};
use super::objects::{resolve_ownership, NewVersion, Planned};
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
    /// A bucket's record — its versioning state, policy, ACL, ownership, public-access block,
    /// location, owner and creation time — as committed, in an empty blob of its own.
    Bucket {
        /// Larger for a newer record of the same bucket (from the store's sequence counter).
        generation: u64,
        /// The bucket's record (its `settings_blob` is not in it: a blob cannot name itself).
        bucket: Box<BucketMeta>,
    },
}

impl BlobDescription {
    /// Segment `index` of version `v`.
    pub fn of_version(bucket: &str, v: &VersionMeta, index: usize) -> Self {
        let mut version = v.clone();
        version.segments = vec![v.segments[index].clone()];
        // A restore is a passing state of the metadata (`restore.rs`), never described.
        version.restore = None;
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

    /// Write a part's description into its blob (`unsynced`: a blob just written without a
    /// sync, which this sync makes durable with its description).
    pub(super) fn describe_part(
        &self,
        bucket: &str,
        upload_id: &str,
        key: &str,
        part: &PartMeta,
        unsynced: bool,
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
            sealed_key: None,
        };
        if unsynced {
            // A blob just written without a sync: one sync makes data and description durable.
            let Some(id) = DataId::from_hex(&seg.data_id) else {
                return Ok(());
            };
            return self
                .blobs
                .write_description_synced(&id, seg.size, &d.to_json(), self.options.sync)
                .map_err(ObjectError::from);
        }
        self.describe_blob(&seg, &d.to_json())
    }

    /// The version `new` becomes in `bucket` as things stand, before the commit lock: its
    /// plan (sequence number, version id, time) and its record (owner and ACL resolved).
    fn plan_version(
        &self,
        bucket: &str,
        new: &NewVersion,
    ) -> Result<(Planned, VersionMeta), ObjectError> {
        let b = self.bucket(bucket)?;
        let (owner, acl) = resolve_ownership(&b, new.writer.clone(), new.acl.as_ref())?;
        let plan = self.plan(&b)?;
        let v = new.clone().into_version(&plan, owner, acl);
        Ok((plan, v))
    }

    /// For a PUT whose blob `id` is written but not synced: fix the new version's sequence
    /// number, version id and time ([`Planned`]), write its description into the blob, and
    /// sync data and description together (if the store syncs). Returns the plan and the
    /// version it describes; the commit uses the plan, and describes the blob again should
    /// the bucket have changed meanwhile.
    pub(super) fn describe_planned(
        &self,
        bucket: &str,
        id: &DataId,
        new: &NewVersion,
    ) -> Result<(Planned, VersionMeta), ObjectError> {
        let (plan, v) = self.plan_version(bucket, new)?;
        let json = BlobDescription::of_version(bucket, &v, 0).to_json();
        self.blobs
            .write_description_synced(id, new.size, &json, self.options.sync)
            .map_err(ObjectError::from)?;
        Ok((plan, v))
    }

    /// The data-side record of a delete marker about to be committed as `v` (under the commit
    /// lock: its version id and sequence number are fixed): an empty blob describing it,
    /// written and synced **before** the commit, so that a marker the metadata holds is
    /// always on the data side too. `v` gets the blob as its one segment (size 0). A crash
    /// before the commit leaves the blob an orphan, which the sweep at the next open removes.
    pub(super) fn record_marker(
        &self,
        bucket: &str,
        v: &mut VersionMeta,
    ) -> Result<(), ObjectError> {
        v.segments = vec![Segment {
            data_id: String::new(),
            size: 0,
            part_number: None,
            checksum: None,
            sealed_key: None,
        }];
        let json = BlobDescription::of_version(bucket, v, 0).to_json();
        let id = self.write_note(&json)?;
        v.segments[0].data_id = id.hex();
        Ok(())
    }

    /// Plan a delete marker for `bucket` and write its data-side record now, before the
    /// commit lock, as a PUT describes its blob before it (`describe_planned`): the record is
    /// synced with the others written meanwhile instead of one at a time under the lock. The
    /// commit uses it if the marker it commits is the one described; else it records the
    /// marker again under the lock, and this one is freed.
    pub(super) fn record_planned_marker(
        &self,
        bucket: &str,
        new: &NewVersion,
    ) -> Result<Planned, ObjectError> {
        let (mut plan, mut v) = self.plan_version(bucket, new)?;
        self.record_marker(bucket, &mut v)?;
        plan.marker = Some(Box::new(v));
        Ok(plan)
    }

    /// Before committing bucket record `b` (under the commit lock, with the GC lock held
    /// shared): write its data-side record with a new generation, synced, and point `b` at it.
    /// Returns the operations the commit must carry (the sequence counter the generation came
    /// from) and the record it replaces, to free once the commit is done. A crash before the
    /// commit leaves the new record an orphan; after it, the old one: the sweep removes either.
    pub(super) fn record_bucket(
        &self,
        b: &mut BucketMeta,
    ) -> Result<(meta::Ops, Option<Segment>), ObjectError> {
        let generation = self.next_seq()?;
        let old = b.settings_blob.take();
        b.settings_gen = generation;
        let json = BlobDescription::Bucket {
            generation,
            bucket: Box::new(b.clone()),
        }
        .to_json();
        let id = self.write_note(&json)?;
        b.settings_blob = Some(id.hex());
        let ops = vec![self.seq_op(generation)?];
        let old = old.map(|data_id| Segment {
            data_id,
            size: 0,
            part_number: None,
            checksum: None,
            sealed_key: None,
        });
        Ok((ops, old))
    }

    /// Commit bucket record `b` with its data-side record written first ([`Self::record_bucket`]);
    /// the caller holds the GC lock shared and the commit lock. `extra` goes in the same commit.
    pub(super) fn commit_bucket(
        &self,
        b: &mut BucketMeta,
        extra: meta::Ops,
    ) -> Result<(), ObjectError> {
        let (mut ops, old) = self.record_bucket(b)?;
        ops.extend(extra);
        ops.push((meta::bucket_key(&b.name), Some(meta::to_json(&*b))));
        self.meta_commit(ops)?;
        if let Some(old) = old {
            self.free_segments(&[old]);
        }
        Ok(())
    }

    /// A store made before delete markers and buckets were recorded on the data side: write
    /// the records its buckets and markers lack (as [`ObjectStore::scan_references`] found them),
    /// each before the commit that names it (at open; a store written since lacks none, and
    /// this writes nothing). Returns how many.
    pub(super) fn record_lacking(
        &self,
        buckets: Vec<BucketMeta>,
        mut markers: Vec<(Vec<u8>, String, VersionMeta)>,
    ) -> Result<u64, ObjectError> {
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let _g = self.lock_commit();
        let n = (buckets.len() + markers.len()) as u64;
        for mut b in buckets {
            self.commit_bucket(&mut b, Vec::new())?;
        }
        for batch in markers.chunks_mut(512) {
            let mut ops = Vec::with_capacity(batch.len());
            for (k, bucket, vm) in batch.iter_mut() {
                self.record_marker(bucket, vm)?;
                ops.push((k.clone(), Some(meta::to_json(&*vm))));
            }
            self.meta_commit(ops)?;
        }
        Ok(n)
    }

    fn write_note(&self, json: &[u8]) -> Result<DataId, ObjectError> {
        let fresh = self.new_data_id();
        // Nothing is committed yet: a failure here fails the operation with nothing changed.
        self.blobs
            .write_note(&fresh, json, self.options.sync)
            .map_err(ObjectError::from)
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
