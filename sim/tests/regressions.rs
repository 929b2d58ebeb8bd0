//! Seeds that once failed a sweep, kept as tests: each names the cause and where it was fixed.
//! Before its fix each of these runs failed the checker named; a protocol or engine change
//! that brings the failure back fails here in debug mode, without a 10,000-seed sweep.

use seedbed_sim::{registry, RunConfig};

fn passes(workload: &str, seed: u64) -> seedbed_sim::RunOutcome {
    let o = registry::run(&RunConfig::new(workload, seed), None).expect("config is valid");
    assert!(
        o.violation.is_none(),
        "{workload} seed {seed} fails again: {:?}\nrepro: seedbed sim run --workload {workload} --seed {seed}",
        o.violation
    );
    o
}

/// Was: `quorum-durability` — "replica n2 acknowledged write 569 … but later answered op 587
/// without it". No crash: n2 reopened its LSM after a checksum error, and the read of its log
/// returned a flipped bit in the last record, the synced write 569; recovery took the damaged
/// last record for a torn append, cut it and deleted the log. Fixed in the LSM
/// (`wal::read_log_file`: a cut is believed only once a second read agrees).
#[test]
fn quorum_2207_a_transient_bit_flip_no_longer_cuts_a_synced_log_record() {
    let o = passes("quorum", 2207);
    assert!(o.ops_completed > 900);
}

/// Was: `quorum-durability` — "replica n3 acknowledged write 12 … but later answered op 751
/// without it or a successor: []", and the same seed failed `iam-ack-durable` — "n3 decided
/// Deny … with view v0, but it had acknowledged v715 as durable". n3's first LSM open created
/// its directory and failed to sync the parent (EIO); the retry found the directory and never
/// synced the parent again, so the `mkdir` stayed unsynced for the whole run and a crash that
/// lost it took every synced file along. Same node, same disk seed, same first sync in both
/// workloads: hence both failed. Fixed in the LSM (`Db::open` syncs the parent at every open).
#[test]
fn quorum_6414_a_retried_open_syncs_the_directory_entry() {
    let o = passes("quorum", 6414);
    assert!(o.crashes > 0, "the seed still crashes nodes");
}

/// The IAM side of seed 6414 (see above).
#[test]
fn iam_6414_a_retried_open_syncs_the_directory_entry() {
    let o = passes("iam", 6414);
    assert!(o.crashes > 0, "the seed still crashes nodes");
}
