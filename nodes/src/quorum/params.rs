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
    /// When a replica's writes reach the disk: each on its own, or a group per turn.
    pub sync: SyncMode,
    /// [`SyncMode::Group`]: local time from a group's first write to its sync. A real runtime
    /// uses 0 — the timer fires once the event loop has handled the events already waiting
    /// (one turn); the simulator uses a small delay so that crashes land inside the window.
    pub group_delay_ns: u64,
}

/// When a replica's writes become durable, and so when it may acknowledge them.
///
/// Either way a replica acknowledges a write (and answers a read, and confirms a handoff)
/// only once everything it has stored is synced: the acknowledgement never precedes
/// durability. The modes differ in how many writes share one `fdatasync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncMode {
    /// Every write syncs the WAL before the handler returns (one sync per write).
    Always,
    /// Group commit: writes are appended unsynced; the node holds the messages that vouch
    /// for them (store and handoff acknowledgements, fetch replies) and sets a timer; when
    /// it fires, one WAL sync covers every write since the last one and the held messages
    /// go out. A crash before the sync loses the writes and the acknowledgements together.
    Group,
}

impl SyncMode {
    /// Parse `always` or `group`.
    pub fn parse(s: &str) -> Option<SyncMode> {
        match s {
            "always" => Some(SyncMode::Always),
            "group" => Some(SyncMode::Group),
            _ => None,
        }
    }

    /// The name [`SyncMode::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Always => "always",
            SyncMode::Group => "group",
        }
    }
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
    /// The coordinator gives a phase up at its first deadline instead of its `phase_tries`-th
    /// (request life: the lower bound).
    GiveUpEarly,
    /// The coordinator never gives a phase up: it resends to the silent replicas at every
    /// deadline, forever (request life: the upper bound).
    NeverGiveUp,
    /// A put's first preference-list replica is stood in by a fallback (with a hint) even when
    /// the coordinator believes it up (stand-ins: a hint with no missed deadline behind it).
    HintForUp,
    /// At a store deadline the coordinator resends to the targets that have not acknowledged
    /// but has no fallback stand in for them (stand-ins: the converse rule at a deadline).
    NoDeadlineStandIn,
    /// A put's store phase begins with the preference list as it is, no fallback standing in
    /// for a replica the coordinator holds down (stand-ins: the converse rule at the start).
    NoStandInAtStart,
    /// A fetch deadline resends the request to every preference-list replica, those that
    /// replied too (stand-ins: the resend rule).
    FetchResendToAll,
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
        "give-up-early",
        "never-give-up",
        "hint-for-up",
        "no-deadline-stand-in",
        "no-stand-in-at-start",
        "fetch-resend-to-all",
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
            "give-up-early" => Bug::GiveUpEarly,
            "never-give-up" => Bug::NeverGiveUp,
            "hint-for-up" => Bug::HintForUp,
            "no-deadline-stand-in" => Bug::NoDeadlineStandIn,
            "no-stand-in-at-start" => Bug::NoStandInAtStart,
            "fetch-resend-to-all" => Bug::FetchResendToAll,
            _ => return None,
        })
    }
}
