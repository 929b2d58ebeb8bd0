//! A cluster's protocol settings, shared by every node of it, and the planted bugs.

use super::ring::Ring;
use super::version::Mode;

/// Settings for one cluster (the simulator reads them from `--set` parameters).
#[derive(Clone, Debug)]
pub struct Params {
    /// Replicas per key.
    pub n: u32,
    /// Replies a get waits for.
    pub r: u32,
    /// Acknowledgements a put waits for.
    pub w: u32,
    /// Vector clocks or last-writer-wins.
    pub mode: Mode,
    /// The planted bug, if any.
    pub bug: Bug,
    /// Sloppy quorum: write to fallbacks (with hints) when replicas are unreachable.
    pub sloppy: bool,
    /// Take membership from an embedded SWIM member (`membership=gossip`) instead of the
    /// local timeout detector.
    pub gossip: bool,
    /// The ring.
    pub ring: Ring,
    /// A phase's deadline before it retries, in local nanoseconds.
    pub timeout_ns: u64,
    /// Tries per phase before the coordinator gives up.
    pub phase_tries: u32,
    /// Retries the client makes after a failure.
    pub client_retries: u32,
    /// The client's first backoff; doubled per retry, plus jitter up to the same again.
    pub backoff_ns: u64,
    /// Client operations one node runs at once, at most (more are answered `Busy`).
    pub concurrency: u32,
    /// Local time between anti-entropy exchanges a node starts.
    pub ae_every_ns: u64,
    /// Local time between hinted-handoff attempts.
    pub handoff_every_ns: u64,
}

/// The planted bugs, one precaution removed each; each is caught by a checker in the default
/// sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The correct protocol.
    None,
    /// Replicas acknowledge before their WAL record is synced: a crash loses acknowledged
    /// writes (durability).
    AckBeforeSync,
    /// Replicas store a new version in place of their siblings without the vector-clock
    /// merge: concurrent acknowledged writes vanish (durability).
    NoVclockMerge,
    /// Repairs (read repair, anti-entropy) overwrite a replica's versions instead of merging:
    /// a newer write taken meanwhile is lost (durability).
    RepairOverwrites,
    /// Hints are stored but never handed off (convergence).
    HintNeverDelivered,
    /// A weakened promise, not a lost write: the coordinator acknowledges a write once W − 1
    /// targets (at least one) acknowledged it, one replica short of W.
    AckShortOfW,
    /// A weakened promise: a get is answered once R − 1 replicas (at least one) replied, one
    /// short of R.
    ReadShortOfR,
}

impl Bug {
    /// Every bug's name, for `--set bug=...`.
    pub const NAMES: &'static [&'static str] = &[
        "none",
        "ack-before-sync",
        "no-vclock-merge",
        "repair-overwrites",
        "hint-never-delivered",
        "ack-short-of-w",
        "read-short-of-r",
    ];

    /// Parse the `bug` parameter.
    pub fn parse(s: &str) -> Option<Bug> {
        Some(match s {
            "none" => Bug::None,
            "ack-before-sync" => Bug::AckBeforeSync,
            "no-vclock-merge" => Bug::NoVclockMerge,
            "repair-overwrites" => Bug::RepairOverwrites,
            "hint-never-delivered" => Bug::HintNeverDelivered,
            "ack-short-of-w" => Bug::AckShortOfW,
            "read-short-of-r" => Bug::ReadShortOfR,
            _ => return None,
        })
    }
}
