//! `seedbed cluster up --sync group`: group commit on real processes. Writes acknowledged by
//! a cluster whose replicas share WAL syncs survive SIGKILL of every node at once.
//!
//! Every node the test starts is killed by its pid when the test ends, pass or fail
//! ([`Guard`]); ports are chosen free at run time; waits are bounded polls, no timing is
//! asserted. (SIGKILL ends processes, not the machine: the page cache survives it, so this
//! shows that no acknowledgement goes out for a write the store has not taken, not that the
//! sync reached the platter — the simulator's disk crash model checks that part.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seedbed_cluster::client::{status_of, Client};
use seedbed_cluster::config::ClusterConfig;
use seedbed_nodes::quorum::msg::{Op, Reply};

use crate::common::{ok, seedbed, Guard, NODES};

#[test]
fn group_commit_keeps_every_acknowledged_write_through_kill_9_of_every_node() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    let _guard = Guard { dir: dir.clone() };

    let up = ok(
        &dir,
        &[
            "up", "--nodes", "3", "--n", "3", "--r", "2", "--w", "2", "--sync", "group",
        ],
    );
    assert!(up.contains("sync group"), "{up}");
    let cfg = ClusterConfig::load(&dir).unwrap();
    // A bad policy is refused with a clear error.
    let bad = seedbed(&tmp.path().join("h"), &["up", "--sync", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--sync sometimes"));

    // Eight clients at once through every node, so replicas take several writes per turn.
    let acked: Arc<Mutex<BTreeMap<u32, u64>>> = Arc::default();
    let threads: Vec<_> = (0..8u32)
        .map(|c| {
            let (cfg, acked) = (cfg.clone(), Arc::clone(&acked));
            std::thread::spawn(move || {
                let mut cl = Client::connect(cfg.addr(c % NODES), Duration::from_secs(5)).unwrap();
                for i in 0..25u32 {
                    let key = c * 100 + i;
                    let value = u64::from(key) + 1;
                    if let Ok(Reply::Written(v, _)) = cl.op(Op::Put { key, value }) {
                        assert_eq!(v.value, Some(value));
                        acked.lock().unwrap().insert(key, value);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 150,
        "a healthy cluster acknowledges nearly every write: {} of 200",
        acked.len()
    );
    // The writes went through group commit: each node synced groups, and covered every store
    // write by one of them.
    for id in 0..NODES {
        let st = status_of(cfg.addr(id), Duration::from_secs(5)).unwrap();
        assert!(
            st.group_syncs > 0 && st.group_writes >= st.group_syncs,
            "node {id}: {} group syncs for {} writes",
            st.group_syncs,
            st.group_writes
        );
    }

    // Every node dies at once, mid-nothing: no shutdown code runs anywhere.
    for id in 0..NODES {
        ok(&dir, &["kill", &id.to_string()]);
    }
    for id in 0..NODES {
        let out = ok(&dir, &["restart", &id.to_string()]);
        assert!(out.contains("boot epoch 2"), "{out}");
    }

    // Every acknowledged write is back, on at least W = 2 replicas' own disks.
    let mut cl = Client::connect(cfg.addr(0), Duration::from_secs(5)).unwrap();
    for (&key, &value) in &acked {
        match cl.op(Op::Get { key, all: true }).unwrap() {
            Reply::Got(sibs, replicas) => {
                assert!(
                    sibs.versions().iter().any(|v| v.value == Some(value)),
                    "key {key}: acknowledged {value}, read {sibs:?}"
                );
                let holding = replicas
                    .iter()
                    .filter(|(_, s)| s.versions().iter().any(|v| v.value == Some(value)))
                    .count();
                assert!(
                    holding >= 2,
                    "key {key}: acknowledged under W=2 but held by {holding}: {replicas:?}"
                );
            }
            other => panic!("get {key}: {other:?}"),
        }
    }
}
