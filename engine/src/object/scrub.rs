//! Scrub: compare the metadata copies and rebuild any that differs or is lost; walk every object
//! version and multipart part, verify every shard block against its CRC32, rewrite what parity
//! can heal, report what it cannot — and remove orphaned shards (blobs no metadata refers to:
//! leftovers of a crash between writing data and committing it).

use super::blob::DataId;
use super::error::ObjectError;
use super::meta::{self, BucketMeta, MetaSnapshot, PartMeta, VersionMeta};
use super::store::ObjectStore;

/// One blob that scrub could not make whole.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScrubFailure {
    /// Bucket.
    pub bucket: String,
    /// Key (or `upload:<id>/part:<n>` for a multipart part).
    pub key: String,
    /// Version id.
    pub version_id: String,
    /// Which stripe, which shards, why.
    pub error: String,
}

/// What a scrub found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScrubReport {
    /// Object versions (and parts) checked.
    pub objects: u64,
    /// Blobs checked.
    pub blobs: u64,
    /// Object bytes covered.
    pub bytes: u64,
    /// Shard blocks (or whole shard files) found bad.
    pub bad_blocks: u64,
    /// Shard files rewritten from parity.
    pub files_healed: u64,
    /// Blobs that could not be reconstructed.
    pub failures: Vec<ScrubFailure>,
    /// Orphaned blobs removed.
    pub orphans_removed: u64,
    /// Copies of the metadata (0: the metadata is not replicated).
    pub meta_copies: u64,
    /// Copies found out of service or different from the others: `(directory, why)`.
    pub meta_copies_bad: Vec<(String, String)>,
    /// Copies rebuilt from a good one.
    pub meta_copies_healed: u64,
    /// Disks formatted as the scrub started (new disks mounted in place of dead ones, plain
    /// directories made again: `blob/disk_id.rs`), their shards then rebuilt.
    pub disks_formatted: Vec<String>,
    /// Disks that take no shard, and why (gone, not mounted): their bad shards were left.
    pub disks_absent: Vec<(String, String)>,
    /// Bad shards left because their disk is absent (rebuilt when it is back).
    pub shards_absent: u64,
    /// Stopped before the end, as asked ([`ObjectStore::scrub_until`]): the blobs after the
    /// first `blobs` were not checked, and no orphans were looked for.
    pub stopped: bool,
}

/// Progress, for a progress bar: `(blobs done, object bytes done)`.
pub type ScrubProgress<'a> = &'a mut dyn FnMut(u64, u64);

/// Which blob belongs to what, for the report.
struct Owner {
    bucket: String,
    key: String,
    version_id: String,
}

/// What a store holds, from its metadata (`seedbed object stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Buckets.
    pub buckets: u64,
    /// Object versions, delete markers included.
    pub versions: u64,
    /// Delete markers among them.
    pub delete_markers: u64,
    /// Bytes of every version.
    pub object_bytes: u64,
    /// Multipart uploads in progress.
    pub uploads: u64,
    /// Their uploaded parts.
    pub parts: u64,
    /// Bytes of those parts.
    pub part_bytes: u64,
}

impl ObjectStore {
    /// Count what the store holds (one pass over the metadata).
    pub fn usage(&self) -> Result<Usage, ObjectError> {
        let mut u = Usage::default();
        self.scan_all(b"B", b"C", |_, _| {
            u.buckets += 1;
            Ok(())
        })?;
        self.scan_all(b"O", b"P", |k, v| {
            let vm: VersionMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            u.versions += 1;
            u.delete_markers += u64::from(vm.delete_marker);
            u.object_bytes += vm.size;
            Ok(())
        })?;
        self.scan_all(b"P", b"Q", |k, v| {
            let p: PartMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            u.parts += 1;
            u.part_bytes += p.size;
            Ok(())
        })?;
        self.scan_all(b"U", b"V", |_, _| {
            u.uploads += 1;
            Ok(())
        })?;
        Ok(u)
    }

    /// Total object bytes, for sizing a progress bar before a scrub.
    pub fn total_bytes(&self) -> Result<u64, ObjectError> {
        let mut total = 0;
        self.scan_all(b"O", b"P", |k, v| {
            let vm: VersionMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            total += vm.size;
            Ok(())
        })?;
        Ok(total)
    }

    /// Verify every blob; with `heal`, rewrite damaged shard files from parity. Then remove
    /// orphans.
    pub fn scrub(
        &self,
        heal: bool,
        progress: ScrubProgress<'_>,
    ) -> Result<ScrubReport, ObjectError> {
        self.scrub_until(heal, progress, &std::sync::atomic::AtomicBool::new(false))
    }

    /// [`Self::scrub`], stopping at the next blob once `halt` is set (a server shutting down
    /// does not wait for a whole scrub); the report says so. Safe beside every other request:
    /// each blob is pinned while it is checked, and orphans are removed under the GC lock.
    pub fn scrub_until(
        &self,
        heal: bool,
        progress: ScrubProgress<'_>,
        halt: &std::sync::atomic::AtomicBool,
    ) -> Result<ScrubReport, ObjectError> {
        let mut report = ScrubReport::default();
        // The disks first: a new disk is formatted, so that its metadata copy and its shards
        // are rebuilt below; one not mounted is left alone (`blob/disk_id.rs`).
        if heal && !halt.load(std::sync::atomic::Ordering::Relaxed) {
            let disks = self.check_disks()?;
            report.disks_formatted = disks
                .formatted
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            report.disks_absent = disks
                .absent
                .iter()
                .map(|(d, why)| (d.display().to_string(), (*why).to_owned()))
                .collect();
        }
        // The metadata copies next: the walk below reads the metadata.
        if let Some(m) = self.verify_metadata(heal)? {
            report.meta_copies = m.copies;
            report.meta_copies_healed = m.healed.len() as u64;
            report.meta_copies_bad = m
                .bad
                .into_iter()
                .map(|(d, why)| (d.display().to_string(), why))
                .collect();
        }
        let mut work: Vec<(Owner, DataId, u64)> = Vec::new();
        self.scan_all(b"O", b"P", |k, v| {
            let vm: VersionMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            let bucket = bucket_of(k, 1);
            report.objects += 1;
            for s in &vm.segments {
                let id = DataId::from_hex(&s.data_id).ok_or_else(|| {
                    ObjectError::Internal(format!("corrupt data id '{}'", s.data_id))
                })?;
                work.push((
                    Owner {
                        bucket: bucket.clone(),
                        key: vm.key.clone(),
                        version_id: vm.version_id.clone(),
                    },
                    id,
                    s.size,
                ));
            }
            Ok(())
        })?;
        self.scan_all(b"P", b"Q", |k, v| {
            let p: PartMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            report.objects += 1;
            let id = DataId::from_hex(&p.data_id)
                .ok_or_else(|| ObjectError::Internal(format!("corrupt data id '{}'", p.data_id)))?;
            work.push((
                Owner {
                    bucket: bucket_of(k, 1),
                    key: format!("(part {})", p.part_number),
                    version_id: String::new(),
                },
                id,
                p.size,
            ));
            Ok(())
        })?;
        // Buckets' data-side records: empty blobs, checked and healed like any other.
        self.scan_all(b"B", b"C", |k, v| {
            let b: BucketMeta = meta::from_json(k, v).map_err(ObjectError::from)?;
            if let Some(hex) = &b.settings_blob {
                let id = DataId::from_hex(hex)
                    .ok_or_else(|| ObjectError::Internal(format!("corrupt data id '{hex}'")))?;
                work.push((
                    Owner {
                        bucket: b.name.clone(),
                        key: "(bucket settings)".into(),
                        version_id: String::new(),
                    },
                    id,
                    0,
                ));
            }
            Ok(())
        })?;
        for (owner, id, size) in work {
            if halt.load(std::sync::atomic::Ordering::Relaxed) {
                report.stopped = true;
                return Ok(report);
            }
            // Pinned: a concurrent overwrite cannot delete the blob mid-check.
            let _pin = {
                let _r = self.pins.resolving();
                super::pins::PinGuard::new(self, vec![id])
            };
            match self.blobs.verify(&id, size, heal) {
                Ok(h) => {
                    report.bad_blocks += h.bad_blocks.len() as u64;
                    report.files_healed += h.files_healed.len() as u64;
                    report.shards_absent += h.absent.len() as u64;
                }
                // A blob freed by a concurrent overwrite is gone on purpose, not lost.
                Err(_) if !self.blob_still_referenced(&id)? => {}
                Err(e) => report.failures.push(ScrubFailure {
                    bucket: owner.bucket,
                    key: owner.key,
                    version_id: owner.version_id,
                    error: e.to_string(),
                }),
            }
            report.blobs += 1;
            report.bytes += size;
            progress(report.blobs, report.bytes);
        }
        report.orphans_removed = self.remove_orphans()?;
        Ok(report)
    }

    fn blob_still_referenced(&self, id: &DataId) -> Result<bool, ObjectError> {
        Ok(self.referenced_blobs(None)?.contains(id))
    }

    /// Remove shard files no version or part refers to; returns how many blobs went.
    ///
    /// Writes wait while the sweep holds the GC lock, so it holds it only for what needs it.
    /// Listing the disks — every fan-out directory, every pack record's header, the long part
    /// on a big store — comes first, without the lock. Then, under the lock for an instant
    /// (no writer is then between its first blob byte and its commit), a snapshot of the
    /// metadata; every record is read from the snapshot without the lock. A blob listed is
    /// either referenced in the snapshot, or nothing will ever refer to it again — an orphan,
    /// or a blob its overwrite or delete freed in between, which the sweep frees again
    /// harmlessly (a shard file already gone is passed over; a pack record is freed only if
    /// its header still names the blob). Blobs are fresh ids, so no commit after the snapshot
    /// can refer to a blob listed before it that the snapshot does not. The deletes take the
    /// lock again (pack files are removed with no writer appending). A blob written after the
    /// listing waits for the next sweep. A store without snapshots, or a snapshot whose copy
    /// failed while read, is read under the lock instead.
    pub fn remove_orphans(&self) -> Result<u64, ObjectError> {
        let listed = self.blobs.list()?;
        let view = {
            let _gc = self.gc_lock.write().unwrap_or_else(|p| p.into_inner());
            self.meta.snapshot()
        };
        let from_view = (view.as_deref()).and_then(|v| self.references_checked(Some(v)).ok());
        drop(view);
        let _gc = self.gc_lock.write().unwrap_or_else(|p| p.into_inner());
        let referenced = match from_view {
            Some(r) => r,
            None => self.references_checked(None)?,
        };
        self.remove_listed_but(&listed, &referenced)
    }

    /// The blobs referenced in `view` (else in the store as it is), read from the ids alone;
    /// in debug builds (every test that sweeps) checked against what the whole records name.
    fn references_checked(
        &self,
        view: Option<&dyn MetaSnapshot>,
    ) -> Result<std::collections::BTreeSet<DataId>, ObjectError> {
        let referenced = self.referenced_blobs(view)?;
        #[cfg(debug_assertions)]
        assert_eq!(
            referenced,
            self.scan_references_in(view)?.blobs,
            "references read two ways"
        );
        Ok(referenced)
    }

    /// [`Self::remove_orphans`] with the referenced blobs already known (at open, from the one
    /// pass over the metadata that also finds what older stores lack).
    pub(super) fn remove_orphans_of(
        &self,
        referenced: &std::collections::BTreeSet<DataId>,
    ) -> Result<u64, ObjectError> {
        let _gc = self.gc_lock.write().unwrap_or_else(|p| p.into_inner());
        self.remove_listed_but(&self.blobs.list()?, referenced)
    }

    /// Remove every blob of `listed` that is not in `referenced` and not pinned; the caller
    /// holds the GC lock exclusively, and listed the blobs before it read `referenced`.
    fn remove_listed_but(
        &self,
        listed: &std::collections::BTreeSet<DataId>,
        referenced: &std::collections::BTreeSet<DataId>,
    ) -> Result<u64, ObjectError> {
        let mut removed = 0;
        for id in listed.difference(referenced) {
            // A pinned blob is being read (its deletion waits for the reader).
            // A blob freed in between (listed before an overwrite freed it) is not counted.
            if !self.pins.is_pinned(id) && self.blobs.delete(id)? {
                removed += 1;
            }
        }
        self.blobs.remove_empty_packs()?;
        Ok(removed)
    }
}

/// The bucket name inside a metadata key: after the one-byte tag, up to the first NUL.
fn bucket_of(key: &[u8], tag_len: usize) -> String {
    let rest = &key[tag_len..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}
