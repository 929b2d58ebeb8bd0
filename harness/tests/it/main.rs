//! The `seedbed` command's integration tests, one binary (ARCHITECTURE.md, "Tests"): each module
//! is a former `tests/NAME.rs`; `cargo test -p seedbed --test it NAME::` runs one of them. One
//! binary links the crate and its dependencies once instead of once a file. The tests that
//! start clusters choose free ports at run time and kill their nodes by pid (`common::Guard`),
//! so they may run in parallel with the rest.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

mod common;

mod cluster;
mod cluster_group;
mod cluster_test;
mod iam_cli;
mod object_cli;
mod report;
mod sim_cli;
mod tour;
