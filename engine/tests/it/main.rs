//! The engine's integration tests, one binary (ARCHITECTURE.md, "Tests"): each module is a former
//! `tests/NAME.rs`; `cargo test -p seedbed-engine --test it NAME::` runs one of them. One binary
//! links the crate and its dependencies once instead of once a file. `common` holds the helpers
//! the object tests share; fixtures stay in `tests/fixtures` and `tests/iam_corpus`, proptest's
//! saved cases in `tests/proptest-regressions/NAME.txt` (where proptest looks for a file beside a
//! `main.rs`).

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

mod common;

mod iam_alloc;
mod iam_authorizer;
mod iam_corpus;
mod iam_props;
mod io_conformance;
mod lsm_corruption;
mod lsm_crash;
mod lsm_failed_write;
mod lsm_full_disk;
mod lsm_interrupted_create;
mod lsm_lock;
mod lsm_model;
mod lsm_open_faults;
mod object_blob;
mod object_compact;
mod object_concurrency;
mod object_crash;
mod object_crash_data_side;
mod object_dead_disk;
mod object_direct_read;
mod object_disk_identity;
mod object_disk_loss;
mod object_faults;
mod object_foreign_disk;
mod object_full_disk;
mod object_iam;
mod object_lifecycle;
mod object_lock;
mod object_meta_copies;
mod object_model;
mod object_pack_reads;
mod object_rebuild;
mod object_rebuild_markers;
mod object_reopen;
mod object_restore;
mod object_sse;
mod object_tags;
mod sim_crash;
mod table_api;
mod table_iam;
mod table_multi_key;
mod table_online_index_crash;
mod table_partiql;
mod table_streams;
mod table_streams_crash;
mod table_update;
