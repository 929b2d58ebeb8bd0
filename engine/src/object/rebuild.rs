//! The last resort: rebuild the metadata from the shards, when every metadata copy is lost.
//!
//! Every blob written since format 2 carries its description (`describe.rs`): the version
//! record it belongs to (or the multipart part it is). Rebuilding reads every blob on the
//! disks, and for each: its header (size, layout), its description from any shard whose
//! section verifies, and its data — every stripe must read back whole, from at least K good
//! shards, checked against the CRCs. Segments are grouped into versions by (bucket, key,
//! sequence number, version id); a version comes back when all its segments do. Buckets come
//! back from their own records, or as the versions name them.
//!
//! What does not come back, and is listed rather than guessed:
//! - a blob with fewer than K good shards in some stripe (its data is gone);
//! - a blob with no description: written before format 2, or by a PUT cut off before its
//!   description was written (never committed, never acknowledged);
//! - a version whose complete-multipart was cut off after its commit and before its parts were
//!   described anew (never acknowledged): its parts are listed as an upload in flight;
//! - a version missing some segment;
//! - a multipart upload in flight: its parts describe themselves, but the upload's own record
//!   (started when, with what metadata) is not on the data side;
//! - the settings of a bucket last changed before buckets were recorded on the data side (an
//!   older store's bucket gets its record at the store's first open since): such a bucket is
//!   rebuilt with versioning *enabled* if any of its versions has a version id (it was enabled
//!   or suspended; enabled loses nothing), else unversioned; its creation time is its oldest
//!   version's, and it belongs to the store's owner.
//!
//! Delete markers and buckets come back from their own data-side records (`describe.rs`): a
//! marker describes itself as a version does (with its version id and sequence number, so the
//! order of a key's versions and markers is the same), and a bucket's record holds the whole
//! bucket record — versioning state, policy, ACL, ownership, public-access block, location,
//! owner and creation time — with a generation number; the newest generation found wins. A
//! bucket with no object comes back too.
//!
//! All the records go into the metadata in **one** commit: a crash mid-way leaves the metadata
//! empty (and the store still refused by `open`), never half-rebuilt — a half-rebuilt metadata
//! would let the orphan sweep delete the blobs not yet in it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::blob::BlobStore;
use super::describe::BlobDescription;
use super::error::ObjectError;
use super::meta::{self, BucketMeta, MetaStore, Segment, VersionMeta, Versioning};

/// One bucket brought back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RebuiltBucket {
    /// Its name.
    pub name: String,
    /// The versioning state it was given: its record's, or inferred (see the module docs).
    pub versioning: Versioning,
    /// Whether its settings came from its data-side record (generation `Some`), or were
    /// inferred from its versions (`None`: a bucket last changed before such records existed).
    pub settings_generation: Option<u64>,
    /// Versions brought back (delete markers included).
    pub versions: u64,
    /// Of which delete markers.
    pub delete_markers: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What a rebuild found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    /// Blobs found on the disks.
    pub blobs: u64,
    /// Buckets brought back, in name order.
    pub buckets: Vec<RebuiltBucket>,
    /// What could not be rebuilt, one line each.
    pub not_rebuilt: Vec<String>,
    /// Whether the records were written (false for a check that writes nothing).
    pub written: bool,
}

impl RebuildReport {
    /// Versions brought back.
    pub fn versions(&self) -> u64 {
        self.buckets.iter().map(|b| b.versions).sum()
    }
}

/// A version being put back together.
struct Gathering {
    version: VersionMeta,
    segments: BTreeMap<u32, Segment>,
    count: u32,
}

/// Everything the shards describe, as metadata records (key order), and the report.
pub fn from_shards(blobs: &BlobStore) -> Result<(meta::Rows, RebuildReport), ObjectError> {
    let mut report = RebuildReport::default();
    let ids = blobs.list()?;
    report.blobs = ids.len() as u64;
    // (bucket, key, seq, version id) -> the version's segments found so far.
    let mut versions: BTreeMap<(String, String, u64, String), Gathering> = BTreeMap::new();
    // (bucket, upload id) -> (key, part numbers).
    let mut uploads: BTreeMap<(String, String), (String, Vec<u32>)> = BTreeMap::new();
    // bucket -> its newest data-side record: (generation, record, blob).
    let mut settings: BTreeMap<String, (u64, BucketMeta)> = BTreeMap::new();
    for id in &ids {
        let Some(header) = blobs.read_header(id) else {
            report
                .not_rebuilt
                .push(format!("blob {id}: no shard header verifies"));
            continue;
        };
        let size = header.object_size;
        if header.version < 2 {
            report.not_rebuilt.push(format!(
                "blob {id} ({size} bytes): written before format 2, it has no description"
            ));
            continue;
        }
        let descs = blobs.read_descriptions(id, size);
        let Some(json) = descs.iter().find_map(|d| d.as_ref().ok()) else {
            let why = descs
                .iter()
                .filter_map(|d| d.as_ref().err())
                .next()
                .cloned()
                .unwrap_or_default();
            report.not_rebuilt.push(format!(
                "blob {id} ({size} bytes): no description ({why}): a PUT cut off before it \
                 was acknowledged, or a description lost"
            ));
            continue;
        };
        let desc = match BlobDescription::from_json(json) {
            Ok(d) => d,
            Err(e) => {
                report.not_rebuilt.push(format!("blob {id}: {e}"));
                continue;
            }
        };
        let what = match &desc {
            BlobDescription::Version {
                bucket, version, ..
            } => format!(
                "{bucket}/{} version {} (seq {})",
                version.key, version.version_id, version.seq
            ),
            BlobDescription::Part {
                bucket,
                key,
                upload_id,
                part,
            } => format!(
                "{bucket}/{key} upload {upload_id} part {}",
                part.part_number
            ),
            BlobDescription::Bucket { bucket, generation } => {
                format!("bucket {} settings (generation {generation})", bucket.name)
            }
        };
        if let Err(e) = blobs.verify(id, size, false) {
            report.not_rebuilt.push(format!(
                "{what}: blob {id} has fewer than K good shards: {e}"
            ));
            continue;
        }
        match desc {
            BlobDescription::Version {
                bucket,
                segment,
                segments,
                mut version,
            } => {
                let mut seg = version.segments.pop().unwrap_or(Segment {
                    data_id: String::new(),
                    size,
                    part_number: None,
                    checksum: None,
                    sealed_key: None,
                });
                // The blob it is in, whatever id it had when it was described (compaction
                // moves records and their descriptions).
                seg.data_id = id.hex();
                seg.size = size;
                let key = (
                    bucket,
                    version.key.clone(),
                    version.seq,
                    version.version_id.clone(),
                );
                let g = versions.entry(key).or_insert_with(|| Gathering {
                    version: *version,
                    segments: BTreeMap::new(),
                    count: segments,
                });
                g.segments.insert(segment, seg);
            }
            BlobDescription::Part {
                bucket,
                upload_id,
                key,
                part,
            } => {
                let e = uploads
                    .entry((bucket, upload_id))
                    .or_insert_with(|| (key, Vec::new()));
                e.1.push(part.part_number);
            }
            BlobDescription::Bucket {
                generation,
                mut bucket,
            } => {
                // The newest record wins: an older one outlives its replacement's commit only
                // until the record is freed (a crash in between), and a newer one is at worst
                // a change whose commit was cut off (never acknowledged).
                bucket.settings_blob = Some(id.hex());
                bucket.settings_gen = generation;
                match settings.get(&bucket.name) {
                    Some((g, _)) if *g >= generation => {}
                    _ => {
                        settings.insert(bucket.name.clone(), (generation, *bucket));
                    }
                }
            }
        }
    }
    for ((bucket, upload_id), (key, mut parts)) in uploads {
        parts.sort_unstable();
        report.not_rebuilt.push(format!(
            "{bucket}/{key}: multipart upload {upload_id} in flight, parts {parts:?} found: \
             the upload's own record is not on the data side (its parts are kept until the \
             orphan sweep; upload them again)"
        ));
    }
    let mut records: meta::Rows = Vec::new();
    let mut buckets: BTreeMap<String, (RebuiltBucket, u64)> = BTreeMap::new();
    let mut max_seq = 0u64;
    for ((bucket, key, seq, vid), g) in versions {
        if g.segments.len() as u32 != g.count || g.segments.keys().max() != Some(&(g.count - 1)) {
            let have: Vec<u32> = g.segments.keys().copied().collect();
            report.not_rebuilt.push(format!(
                "{bucket}/{key} version {vid} (seq {seq}): {} of its {} segments found \
                 ({have:?})",
                have.len(),
                g.count
            ));
            continue;
        }
        let mut v = g.version;
        v.segments = g.segments.into_values().collect();
        max_seq = max_seq.max(seq);
        let (b, created) = buckets.entry(bucket.clone()).or_insert_with(|| {
            (
                RebuiltBucket {
                    name: bucket.clone(),
                    versioning: Versioning::Unversioned,
                    settings_generation: None,
                    versions: 0,
                    delete_markers: 0,
                    bytes: 0,
                },
                u64::MAX,
            )
        });
        if v.version_id != "null" {
            b.versioning = Versioning::Enabled;
        }
        b.versions += 1;
        b.delete_markers += u64::from(v.delete_marker);
        b.bytes += v.size;
        *created = (*created).min(v.last_modified_ms);
        records.push((meta::version_key(&bucket, &key, seq), meta::to_json(&v)));
    }
    // Buckets with a data-side record come back exactly as it says (versions or not).
    for (name, (generation, rec)) in settings {
        max_seq = max_seq.max(generation);
        let (b, _) = buckets.entry(name.clone()).or_insert_with(|| {
            (
                RebuiltBucket {
                    name: name.clone(),
                    versioning: rec.versioning,
                    settings_generation: None,
                    versions: 0,
                    delete_markers: 0,
                    bytes: 0,
                },
                rec.created_ms,
            )
        });
        b.versioning = rec.versioning;
        b.settings_generation = Some(generation);
        records.push((meta::bucket_key(&name), meta::to_json(&rec)));
    }
    for (b, created) in buckets
        .values()
        .filter(|(b, _)| b.settings_generation.is_none())
    {
        let rec = BucketMeta {
            name: b.name.clone(),
            created_ms: *created,
            versioning: b.versioning,
            policy: None,
            owner: None,
            acl: None,
            ownership: None,
            public_access_block: None,
            tags: Vec::new(),
            location: None,
            object_lock: None,
            cors: Vec::new(),
            lifecycle: Vec::new(),
            logging: None,
            default_encryption: None,
            sse_c_blocked: false,
            settings_blob: None,
            settings_gen: 0,
        };
        records.push((meta::bucket_key(&b.name), meta::to_json(&rec)));
    }
    if max_seq > 0 {
        records.push((meta::SEQ_KEY.to_vec(), max_seq.to_be_bytes().to_vec()));
    }
    records.sort();
    report.buckets = buckets.into_values().map(|(b, _)| b).collect();
    Ok((records, report))
}

/// Rebuild the metadata from the shards into `meta`, which must be empty: every record in one
/// synced commit.
pub fn rebuild(meta: &dyn MetaStore, blobs: &BlobStore) -> Result<RebuildReport, ObjectError> {
    let present = meta.scan(b"", &[0xFF], 1).map_err(ObjectError::from)?;
    if !present.is_empty() {
        return Err(ObjectError::InvalidArgument(
            "the metadata is not empty: a rebuild from the shards only fills an empty one \
             (repair rebuilds lost copies from the surviving ones)"
                .into(),
        ));
    }
    let (records, mut report) = from_shards(blobs)?;
    if !records.is_empty() {
        let ops = records.into_iter().map(|(k, v)| (k, Some(v))).collect();
        meta.commit(ops, true).map_err(ObjectError::from)?;
        report.written = true;
    }
    Ok(report)
}
