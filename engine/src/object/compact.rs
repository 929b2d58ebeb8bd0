//! Pack compaction: give back the space of packs whose records are mostly deleted.
//!
//! A deleted pack record is punched out of its files (`blob/pack.rs`), which returns its blocks
//! on a file system with hole punching; where there is none (the punch falls back to writing
//! zeros) and in any case for the pack *files*, which stay as long as one record in them lives,
//! nothing came back. Compaction rewrites the live records of every pack whose live fraction —
//! bytes of live records over the pack's length — is under a threshold, and then frees the old
//! records, so the pack becomes empty and is removed.
//!
//! It runs under the exclusive side of the store's GC lock (no PUT or DELETE writes or frees a
//! blob meanwhile), and each step is one that a crash leaves safe:
//! 1. each live record is read (verified, rebuilt from parity if need be) and written again as
//!    a new blob — a new record in the current pack, synced. A crash here leaves the new
//!    records as orphans, which the next open removes; the metadata still names the old ones.
//! 2. every version and part naming a moved blob is rewritten to name the new one, all in one
//!    synced metadata commit (under the commit lock). A crash after it leaves the old records
//!    as orphans.
//! 3. the old records are freed and empty packs removed (what the orphan sweep would do).

use std::collections::BTreeMap;

use super::blob::DataId;
use super::error::ObjectError;
use super::meta::{self, BucketMeta, PartMeta, VersionMeta};
use super::store::ObjectStore;

/// What a compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    /// Packs looked at.
    pub packs: u64,
    /// Packs whose live fraction was under the threshold.
    pub packs_compacted: u64,
    /// Live records rewritten into the current pack.
    pub records_moved: u64,
    /// Object bytes in them.
    pub bytes_moved: u64,
    /// Pack files' total length before and after, in bytes (all disks).
    pub pack_bytes_before: u64,
    /// After.
    pub pack_bytes_after: u64,
}

/// Where a metadata record names a blob: its key, and which segment (None: a part record, or
/// a bucket's record for a key starting with `B`).
type Refs = Vec<(Vec<u8>, Option<usize>)>;

impl ObjectStore {
    /// Compact every pack whose live fraction is under `threshold` (0 to 1; see the module
    /// docs). The pack being appended to is sealed first if it qualifies.
    pub fn compact_packs(&self, threshold: f64) -> Result<CompactReport, ObjectError> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ObjectError::InvalidArgument(format!(
                "compaction threshold {threshold} is not between 0 and 1"
            )));
        }
        let _gc = self.gc_lock.write().unwrap_or_else(|p| p.into_inner());
        let mut report = CompactReport::default();
        // Every packed blob the metadata names: its size and where it is named.
        let mut live: BTreeMap<DataId, (u64, Refs)> = BTreeMap::new();
        self.scan_all(b"O", b"P", |k, v| {
            let vm: VersionMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            for (i, s) in vm.segments.iter().enumerate() {
                if let Some(id) = DataId::from_hex(&s.data_id).filter(|d| d.pack_place().is_some())
                {
                    let e = live.entry(id).or_insert((s.size, Vec::new()));
                    e.1.push((k.to_vec(), Some(i)));
                }
            }
            Ok(())
        })?;
        self.scan_all(b"P", b"Q", |k, v| {
            let p: PartMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            if let Some(id) = DataId::from_hex(&p.data_id).filter(|d| d.pack_place().is_some()) {
                let e = live.entry(id).or_insert((p.size, Vec::new()));
                e.1.push((k.to_vec(), None));
            }
            Ok(())
        })?;
        // Buckets' data-side records (`describe.rs`) are pack records too.
        self.scan_all(b"B", b"C", |k, v| {
            let b: BucketMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            if let Some(id) = b
                .settings_blob
                .as_deref()
                .and_then(DataId::from_hex)
                .filter(|d| d.pack_place().is_some())
            {
                let e = live.entry(id).or_insert((0, Vec::new()));
                e.1.push((k.to_vec(), None));
            }
            Ok(())
        })?;
        let lengths = self.blobs.pack_lengths()?;
        report.packs = lengths.len() as u64;
        report.pack_bytes_before = lengths.values().sum::<u64>() * self.layout().width() as u64;
        let mut moved: Vec<(DataId, DataId, Refs)> = Vec::new();
        for (&pack, &len) in &lengths {
            let records: Vec<(&DataId, &(u64, Refs))> = live
                .iter()
                .filter(|(id, _)| id.pack_place().map(|p| p.pack) == Some(pack))
                .collect();
            let live_bytes: u64 = records
                .iter()
                .map(|(_, (size, _))| self.blobs.record_bytes(*size))
                .sum();
            if len == 0 || live_bytes as f64 >= threshold * len as f64 {
                continue;
            }
            report.packs_compacted += 1;
            self.blobs.seal_pack(pack)?;
            for (old, (size, refs)) in records {
                let mut bytes = Vec::with_capacity(*size as usize);
                self.blobs.read_range(old, *size, 0, *size, &mut bytes)?;
                // The description moves with the data (the same size, so it fits the new
                // record as it fitted the old); synced before the commit that repoints.
                let desc = self
                    .blobs
                    .read_descriptions(old, *size)
                    .into_iter()
                    .find_map(Result::ok);
                let (new, _) = self.blobs.write_described(
                    &self.new_data_id(),
                    &mut bytes.as_slice(),
                    *size,
                    self.options.sync,
                    desc.as_ref().map_or(0, Vec::len),
                    // The stored bytes move as they are: an encrypted blob stays encrypted
                    // under its data key, which its segment keeps.
                    None,
                )?;
                if let Some(desc) = &desc {
                    self.blobs.write_description(&new, *size, desc)?;
                }
                report.records_moved += 1;
                report.bytes_moved += size;
                moved.push((*old, new, refs.clone()));
            }
        }
        if !moved.is_empty() {
            self.repoint(&moved)?;
            for (old, _, _) in &moved {
                self.blobs.delete(old)?;
            }
        }
        self.blobs.remove_empty_packs()?;
        report.pack_bytes_after =
            self.blobs.pack_lengths()?.values().sum::<u64>() * self.layout().width() as u64;
        Ok(report)
    }

    /// Rewrite every version and part naming a moved blob to name its new one: one commit.
    fn repoint(&self, moved: &[(DataId, DataId, Refs)]) -> Result<(), ObjectError> {
        let _g = self.lock_commit();
        // Several segments of one version may move: edit each record once, in memory first.
        let mut edited: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for (old, new, refs) in moved {
            for (key, segment) in refs {
                let value = match edited.get(key) {
                    Some(v) => v.clone(),
                    None => self.meta_get(key)?.ok_or_else(|| {
                        ObjectError::Internal(format!(
                            "compaction: the record under {:?} vanished under the GC lock",
                            String::from_utf8_lossy(key)
                        ))
                    })?,
                };
                let updated = match segment {
                    Some(i) => {
                        let mut vm: VersionMeta =
                            meta::from_json(key, &value).map_err(ObjectError::from)?;
                        let s = vm.segments.get_mut(*i).ok_or_else(|| {
                            ObjectError::Internal("compaction: a segment vanished".into())
                        })?;
                        assert_eq!(s.data_id, old.hex(), "the segment names the moved blob");
                        s.data_id = new.hex();
                        meta::to_json(&vm)
                    }
                    None if key.first() == Some(&b'B') => {
                        let mut b: BucketMeta =
                            meta::from_json(key, &value).map_err(ObjectError::from)?;
                        assert_eq!(
                            b.settings_blob.as_deref(),
                            Some(old.hex().as_str()),
                            "the bucket names the moved blob"
                        );
                        b.settings_blob = Some(new.hex());
                        meta::to_json(&b)
                    }
                    None => {
                        let mut p: PartMeta =
                            meta::from_json(key, &value).map_err(ObjectError::from)?;
                        assert_eq!(p.data_id, old.hex(), "the part names the moved blob");
                        p.data_id = new.hex();
                        meta::to_json(&p)
                    }
                };
                edited.insert(key.clone(), updated);
            }
        }
        self.meta_commit(edited.into_iter().map(|(k, v)| (k, Some(v))).collect())
    }
}
