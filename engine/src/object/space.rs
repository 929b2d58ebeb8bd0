//! The space reserve: room the store keeps free on every file system its disks are on.
//!
//! A PUT that fills a disk to its last byte leaves the store with no way back. Everything
//! that frees space writes first: a DELETE appends to the metadata's log and writes a delete
//! marker's note, and a metadata copy that hit a full disk comes back only by flushing its
//! memtable into a new table (`lsm/db/resume.rs`), up to 4 MiB per copy. So new data — PUT,
//! UploadPart, CopyObject, everything that goes through [`ObjectStore::write_blob`] — is
//! refused once it would leave less than the reserve free; other additions (metadata
//! changes: tagging, a bucket) may take the first half of the reserve
//! ([`ObjectStore::check_room_for`]); deletes and the store's own upkeep (compaction, heal)
//! may take all of it. Ceph's OSDs stop taking client writes past their `full_ratio` (95 % by
//! default) for the same reason: a store must never be the one that fills its own disk.
//!
//! The check is advisory, not an allocation: two PUTs checked at once may both pass and
//! together eat into the reserve, and another process may take it — the reserve only keeps
//! the store itself from being the one that fills the disk. A file system whose space cannot
//! be read (a disk directory that is gone; a backend that cannot tell) is not checked: its
//! writes fail or succeed as they would without a reserve.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::ObjectError;
use super::store::ObjectStore;
use crate::io::FsSpace;

/// Bytes a shard write costs beyond its share of the data: headers, checksum trailers and a
/// description, rounded up generously (the reserve is a margin, not an exact budget).
const SHARD_OVERHEAD: u64 = 16 << 10;

/// What a store keeps free on each file system that holds one of its disks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpaceReserve {
    /// 1 % of the file system, at least 128 MiB, and never more than a quarter of it (a small
    /// test file system keeps three quarters usable).
    #[default]
    Auto,
    /// This many bytes; 0 turns the reserve off (writes then run the disk to its last byte).
    Bytes(u64),
}

impl SpaceReserve {
    /// The reserve on a file system of `total` bytes.
    pub fn bytes_for(self, total: u64) -> u64 {
        match self {
            SpaceReserve::Auto => (total / 100).max(128 << 20).min(total / 4),
            SpaceReserve::Bytes(b) => b,
        }
    }
}

/// `n` bytes in MiB with one decimal, for messages.
pub(super) fn mib(n: &u64) -> String {
    format!("{:.1} MiB", *n as f64 / (1u64 << 20) as f64)
}

/// One file system under a store's disks ([`ObjectStore::file_systems`]).
#[derive(Clone, Debug)]
pub struct FileSystemSpace {
    /// The first of the store's disks on it.
    pub disk: PathBuf,
    /// Its size and free space.
    pub space: FsSpace,
    /// The reserve on it: PUTs stop there, other additions at half of it.
    pub reserve: u64,
}

/// Whether the IAM action `action` adds to what the store holds (`s3:PutObject`,
/// `s3:PutObjectTagging`, `s3:CreateBucket`, `s3:RestoreObject`, ...), as opposed to reading
/// (`s3:Get*`, `s3:List*`) or removing (`s3:Delete*`, `s3:AbortMultipartUpload`).
pub fn adds_to_store(action: &str) -> bool {
    let verb = action.strip_prefix("s3:").unwrap_or(action);
    ["Put", "Create", "Restore", "Replicate"]
        .iter()
        .any(|p| verb.starts_with(p))
}

impl ObjectStore {
    /// Refuse a write of `size` bytes of new data with [`ObjectError::SpaceReserve`] when it
    /// would leave less than the reserve free on a file system under the store's disks. The
    /// disks that share a file system (the default: all of them, under the store's
    /// directory) add up their shards against its one pool of free space.
    pub(super) fn check_space(&self, size: u64) -> Result<(), ObjectError> {
        let per_disk = self.blobs.layout().shard_data_len(size) + SHARD_OVERHEAD;
        for (space, need, disk) in self.pools(per_disk) {
            let reserve = self.options.space_reserve.bytes_for(space.total);
            if space.available < need.saturating_add(reserve) {
                return Err(ObjectError::SpaceReserve {
                    disk,
                    available: space.available,
                    need,
                    reserve,
                });
            }
        }
        Ok(())
    }

    /// Refuse a request for `action` that adds to the store — a metadata change as much as
    /// new data — once a file system under its disks has less than half the reserve left, so
    /// that the last half stays for deletes: with only the data held back, a stream of small
    /// metadata changes (tagging, say) ate the whole reserve and left the store unable to
    /// delete anything (a hand run: 1,711 tagging writes after the PUTs had stopped).
    pub fn check_room_for(&self, action: &str) -> Result<(), ObjectError> {
        if !adds_to_store(action) {
            return Ok(());
        }
        self.check_room()
    }

    /// [`Self::check_room_for`] an addition, whatever it is: the DynamoDB endpoint asks it for
    /// the writes of its tables, which live beside the store (`STORE/dynamodb/`).
    pub fn check_room(&self) -> Result<(), ObjectError> {
        for (space, _, disk) in self.pools(0) {
            let floor = self.options.space_reserve.bytes_for(space.total) / 2;
            if space.available < floor {
                return Err(ObjectError::DeletesOnly {
                    disk,
                    available: space.available,
                    floor,
                });
            }
        }
        Ok(())
    }

    /// Each file system under the disks once — its space, the reserve on it, and its first
    /// disk — for `seedbed object stats` (empty when the reserve is off).
    pub fn file_systems(&self) -> Vec<FileSystemSpace> {
        self.pools(0)
            .into_iter()
            .map(|(space, _, disk)| FileSystemSpace {
                reserve: self.options.space_reserve.bytes_for(space.total),
                space,
                disk,
            })
            .collect()
    }

    /// Each file system under the disks once, by id (so the first one short is the same every
    /// time), with its space, `per_disk` bytes for each disk on it, and its first disk's path
    /// (for messages). Empty when the reserve is off.
    ///
    /// One `statvfs` per file system, not per disk: which disks share one is learned by a pass
    /// over all of them and kept ([`SpaceGroups`]); on the default layout that is one call
    /// per check instead of six (with six, 4 KiB PUTs over HTTP ran 4–5 % slower at the
    /// median of five rounds — inside the rounds' spread, but twelve system calls a PUT).
    fn pools(&self, per_disk: u64) -> Vec<(FsSpace, u64, PathBuf)> {
        if self.options.space_reserve == SpaceReserve::Bytes(0) {
            return Vec::new();
        }
        let groups = {
            let mut g = self.space_groups.lock().unwrap_or_else(|p| p.into_inner());
            if g.checks.is_multiple_of(REGROUP) {
                g.groups = self.learn_groups();
            }
            g.checks += 1;
            g.groups.clone()
        };
        let mut pools = Vec::with_capacity(groups.len());
        for (disk, disks) in groups {
            match self.fs.space(&disk) {
                Ok(Some(space)) => pools.push((space, per_disk * disks, disk)),
                // The disk that stood for its file system is gone or unreadable: the next
                // check learns the groups again (this one goes without that file system).
                _ => {
                    self.space_groups
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .checks = 0
                }
            }
        }
        pools
    }

    /// A pass over every disk: each file system's first disk and how many disks it holds,
    /// ordered by file system id.
    fn learn_groups(&self) -> Vec<(PathBuf, u64)> {
        let mut groups: BTreeMap<u64, (PathBuf, u64)> = BTreeMap::new();
        for disk in &self.blobs.layout().disks {
            if let Ok(Some(space)) = self.fs.space(disk) {
                groups
                    .entry(space.id)
                    .or_insert_with(|| (disk.clone(), 0))
                    .1 += 1;
            }
        }
        groups.into_values().collect()
    }
}

/// Checks between two passes that learn again which disks share a file system (a disk's
/// directory may have become a mount point of its own).
const REGROUP: u64 = 1024;

/// Which disks share a file system: a disk standing for each, and how many disks it counts
/// for; learned again every [`REGROUP`] checks, and at the next check after a disk that stood
/// for one could not be read.
#[derive(Debug, Default)]
pub(crate) struct SpaceGroups {
    checks: u64,
    groups: Vec<(PathBuf, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_reserve_is_a_percent_with_a_floor_and_a_ceiling() {
        const MIB: u64 = 1 << 20;
        // 1 TB: 1 %.
        assert_eq!(SpaceReserve::Auto.bytes_for(1_000_000 * MIB), 10_000 * MIB);
        // 4 GiB: the 128 MiB floor.
        assert_eq!(SpaceReserve::Auto.bytes_for(4096 * MIB), 128 * MIB);
        // 96 MiB: a quarter.
        assert_eq!(SpaceReserve::Auto.bytes_for(96 * MIB), 24 * MIB);
        assert_eq!(SpaceReserve::Bytes(0).bytes_for(96 * MIB), 0);
        assert_eq!(SpaceReserve::Bytes(5).bytes_for(96 * MIB), 5);
    }

    #[test]
    fn deletes_and_reads_do_not_add_to_the_store() {
        for a in [
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:CreateBucket",
            "s3:RestoreObject",
            "s3:PutBucketVersioning",
        ] {
            assert!(adds_to_store(a), "{a}");
        }
        for a in [
            "s3:GetObject",
            "s3:ListBucket",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:DeleteBucket",
            "s3:AbortMultipartUpload",
            "s3:DeleteObjectTagging",
        ] {
            assert!(!adds_to_store(a), "{a}");
        }
    }
}
