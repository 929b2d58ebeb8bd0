//! The quorum workload's checkers.
//!
//! - [`durability`] — an acknowledged write is never lost: the audit reads of the quiet period
//!   (all N replicas) return it or a version that causally supersedes it.
//! - [`dots`] — no coordinator hands out one dot (writer, counter) for two different writes.
//! - [`context`] — a put's version supersedes every version its read phase returned (Dynamo
//!   §4.4, the context), from the replies delivered to the coordinator.
//! - [`siblings`] — no sibling set a replica returns or a get answers holds a version beside
//!   one that supersedes it (Dynamo §4.4: ancestors are forgotten).
//! - [`convergence`] — after the faults stop, every range's replicas report equal Merkle roots
//!   and no hint is left undelivered.
//! - [`linearizable`] — each key's history, checked by a Wing–Gong search ([`wgl`]); a
//!   measurement by default (Dynamo-style quorums are not linearizable), a failing check with
//!   `--set lin=enforce`.
//! - [`staleness`] — how often a read sees the latest acknowledged write, and how far behind
//!   it is otherwise (k-staleness), per (N, R, W).
//! - [`quorums`] — every acknowledgement stands on W replicas' acknowledgements of that very
//!   version and every answer on R distinct replies to that very operation, counted from the
//!   messages delivered, not from what the coordinator says.
//! - [`regular`] — with strict quorums and R + W > N, a read returns every write acknowledged
//!   before it began, or a successor (regular-register semantics).
//! - [`hints`] — with sloppy quorums, every hinted acknowledgement reaches the replica it was
//!   meant for.
//! - [`life`] — every request a coordinator starts ends within its phases' deadlines
//!   (`phase_tries` of `timeout_ns` each, stretched by the largest clock drift), and no phase
//!   gives up before its last deadline.
//! - [`standins`] — a fallback stands in for a preference-list replica only when that replica
//!   missed one of the coordinator's deadlines and has not been heard from since, or (at a
//!   store deadline) has not acknowledged the store.
//! - [`available`] — with nothing wrong for the settle time, every operation succeeds at its
//!   first try and writes no hint.
//! - [`history`] — not a checker: runs the checkers that judge the client history alone on a
//!   recorded history, from either runtime (`seedbed cluster test` feeds it a real run's).
//! - [`order`] — not a checker: the checkers' own comparison of versions (vector-clock
//!   dominance, last-writer-wins order), never the node's.
//! - [`coverage`] — never fails: counts the interesting events (hints, repairs, siblings,
//!   restarts) a sweep reports coverage of ([`crate::sometimes`]).
//!
//! Counters go into the run's metrics under a prefix naming the configuration
//! (`n3r2w2`, `n3r2w2-lww`), so a sweep can tabulate them ([`staleness::table`]).

pub mod available;
pub mod context;
pub mod convergence;
pub mod coverage;
pub mod dots;
pub mod durability;
pub mod hints;
pub mod history;
pub mod life;
pub mod linearizable;
pub mod order;
pub mod quorums;
pub mod regular;
pub mod siblings;
pub mod staleness;
pub mod standins;
pub mod wgl;

use super::params::Params;
use super::version::Mode;

/// The metrics prefix of a configuration.
pub fn prefix(p: &Params) -> String {
    match p.mode {
        Mode::VClock => format!("n{}r{}w{}", p.n, p.r, p.w),
        Mode::Lww => format!("n{}r{}w{}-lww", p.n, p.r, p.w),
    }
}
