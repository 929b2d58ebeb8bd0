//! A run's protocol settings, shared by every node of the run.

use super::ring::Ring;
use super::version::Mode;
use super::Bug;

/// Settings for one run, read from `--set` parameters by [`super::Quorum::new`].
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
