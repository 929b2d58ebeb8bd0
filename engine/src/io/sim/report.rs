//! What a simulated disk tells its user: running counters ([`SimStats`]) and the account of one
//! crash ([`CrashReport`]).

use serde::Serialize;

use super::content::{Fate, OpFate};

/// Faults injected so far, per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// Reads that returned one flipped bit.
    pub read_bit_flips: u64,
    /// Reads failed with EIO.
    pub read_eios: u64,
    /// Writes failed with EIO, nothing written.
    pub write_eios: u64,
    /// Writes applied partially, then failed with EIO.
    pub torn_writes: u64,
    /// File or directory syncs failed with EIO.
    pub sync_eios: u64,
    /// Writes refused because the disk was full.
    pub enospc: u64,
    /// Operations failed with EIO because their path is on a dead disk
    /// (`SimFaults::dead_dirs`).
    pub dead_disk_ops: u64,
}

impl FaultCounts {
    /// All faults of every kind.
    pub fn total(&self) -> u64 {
        self.read_bit_flips
            + self.read_eios
            + self.write_eios
            + self.torn_writes
            + self.sync_eios
            + self.enospc
            + self.dead_disk_ops
    }
}

/// Running counters of a simulated disk since it was made (crashes do not reset them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Read requests (single or in batches), failed ones included.
    pub reads: u64,
    /// Write, append and truncate requests, failed ones included.
    pub writes: u64,
    /// `sync_data` and `sync_all` calls.
    pub file_syncs: u64,
    /// `sync_dir` calls.
    pub dir_syncs: u64,
    /// Opens, creates, renames, removes, lists and existence checks.
    pub metadata_ops: u64,
    /// Batches submitted through `Fs::submit`.
    pub batches: u64,
    /// Bytes returned by successful reads.
    pub bytes_read: u64,
    /// Bytes accepted by writes (a torn write counts the part that landed).
    pub bytes_written: u64,
    /// Crashes simulated.
    pub crashes: u64,
    /// Virtual time charged to the clock, in nanoseconds.
    pub latency_ns_total: u64,
    /// Injected faults, per kind.
    pub faults: FaultCounts,
}

/// One file's unsynced operations and what the crash did to each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileCrash {
    /// The file's path before the crash (`<unlinked inode N>` if it had no name).
    pub path: String,
    /// Each pending operation, in the order it was issued.
    pub ops: Vec<OpFate>,
}

/// What one crash did: every piece of unsynced state and its fate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CrashReport {
    /// The disk's crash count after this crash; handles from earlier epochs are dead.
    pub epoch: u64,
    /// Unsynced writes that survived whole.
    pub writes_kept: u64,
    /// Unsynced writes that vanished.
    pub writes_dropped: u64,
    /// Unsynced writes of which only leading whole sectors survived.
    pub writes_torn: u64,
    /// Unsynced truncates that took effect.
    pub truncates_kept: u64,
    /// Unsynced truncates that were lost.
    pub truncates_dropped: u64,
    /// Unsynced namespace changes that survived.
    pub dir_changes_kept: u64,
    /// Unsynced namespace changes that were reverted.
    pub dir_changes_lost: u64,
    /// Files and directories that lost their last name and were deleted.
    pub inodes_lost: u64,
    /// Each namespace change (`"rename /a -> /b"`) and whether it survived, in order.
    pub dir_changes: Vec<(String, bool)>,
    /// Per file with unsynced operations: each operation's fate.
    pub files: Vec<FileCrash>,
}

impl CrashReport {
    /// Count one file's fates into the totals and keep its details.
    pub(crate) fn add_file(&mut self, path: String, ops: Vec<OpFate>) {
        for op in &ops {
            match (op.kind, op.fate) {
                ("truncate", Fate::Dropped) => self.truncates_dropped += 1,
                ("truncate", _) => self.truncates_kept += 1,
                (_, Fate::Kept) => self.writes_kept += 1,
                (_, Fate::Dropped) => self.writes_dropped += 1,
                (_, Fate::Torn { .. }) => self.writes_torn += 1,
            }
        }
        if !ops.is_empty() {
            self.files.push(FileCrash { path, ops });
        }
    }

    /// True if the crash changed nothing (everything had been synced).
    pub fn is_clean(&self) -> bool {
        self.files.is_empty() && self.dir_changes.is_empty()
    }
}
