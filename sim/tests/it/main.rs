//! The simulator's integration tests, one binary (ARCHITECTURE.md, "Tests"): each module is a
//! former `tests/NAME.rs`; `cargo test -p seedbed-sim --test it NAME::` runs one of them. One
//! binary links the crate and its dependencies once instead of once a file.
//!
//! `tests/mutants_sweep.rs` stays a binary of its own on purpose: scripts/mutants.sh rebuilds
//! it for each of ~490 mutants (`--test=mutants_sweep`), and it must not compile these modules.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

mod choices;
mod crash_restart;
mod determinism;
mod docs_examples;
mod events_dedup_window;
mod events_workload;
mod gossip_checks;
mod iam_workload;
mod net_faults;
mod quorum_checkers;
mod quorum_history;
mod quorum_workload;
mod regressions;
mod shrink;
mod sometimes;
mod workload_contract;
mod world_checks;
