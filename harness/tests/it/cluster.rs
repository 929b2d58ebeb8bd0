//! `seedbed cluster` end to end: three quorum nodes as real processes on loopback ports and a
//! real disk, driven through the command line (and, for bulk operations, the same framed
//! protocol through `seedbed_cluster::client`).
//!
//! Every node the test starts is killed by its pid when the test ends, pass or fail
//! ([`Guard`]). Ports are chosen free at run time by `cluster up`. No timing is asserted:
//! waits are bounded polls that fail with what they saw.

use std::path::Path;
use std::time::{Duration, Instant};

use seedbed_cluster::client::Client;
use seedbed_cluster::config::ClusterConfig;
use seedbed_cluster::process::{self, ProcState};
use seedbed_nodes::quorum::msg::{Op, Reply};

use crate::common::{ok, seedbed, Guard, NODES};

/// Runs a command that must fail with exit code `code`; returns its stderr.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = seedbed(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "seedbed cluster {args:?}: stdout {}\nstderr {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

fn client(cfg: &ClusterConfig, id: u32) -> Client {
    Client::connect(cfg.addr(id), Duration::from_secs(5)).expect("connect")
}

/// Write `key = value` through node `via`; the reply must be an acknowledgement.
fn put(cfg: &ClusterConfig, via: u32, key: u32, value: u64) {
    match client(cfg, via).op(Op::Put { key, value }).unwrap() {
        Reply::Written(v, _) => assert_eq!(v.value, Some(value)),
        other => panic!("put {key}={value} via n{via}: {other:?}"),
    }
}

/// Every value the replicas hold for `key`, read from all N through node `via`.
fn values_everywhere(cfg: &ClusterConfig, via: u32, key: u32) -> Vec<Option<u64>> {
    match client(cfg, via).op(Op::Get { key, all: true }).unwrap() {
        Reply::Got(sibs, replicas) => {
            assert_eq!(replicas.len(), cfg.n as usize, "all N answered");
            sibs.versions().iter().map(|v| v.value).collect()
        }
        other => panic!("get {key} via n{via}: {other:?}"),
    }
}

/// Poll `f` every 100 ms until it is true, at most `limit`; panics with `what` otherwise.
fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < until, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_three_node_cluster_keeps_acknowledged_writes_through_kills_and_partitions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let _guard = Guard { dir: dir.clone() };

    let up = ok(
        &dir,
        &["up", "--nodes", "3", "--n", "3", "--r", "2", "--w", "2"],
    );
    assert!(up.contains("cluster of 3 nodes up"), "{up}");
    let cfg = ClusterConfig::load(&dir).unwrap();

    // A directory in use is refused, naming the running nodes.
    let e = fails(&dir, &["up", "--nodes", "3"], 2);
    assert!(e.contains("already in use") && e.contains("pid"), "{e}");

    // Bad input: clear errors, exit 2.
    assert!(fails(&dir, &["kill", "7"], 2).contains("no node 7"));
    assert!(fails(&dir, &["partition", "0,1/9"], 2).contains("no node 9"));
    assert!(fails(&dir, &["partition", "0,1,2"], 2).contains("two sides"));
    assert!(fails(&dir, &["skew", "1", "+3parsecs"], 2).contains("+300ms"));
    fails(&dir, &["put", "1", "not-a-number"], 2);

    // The command-line client: a write and a read.
    let put1 = ok(&dir, &["put", "1", "100", "--node", "1"]);
    assert!(put1.contains("ok: key 1 written"), "{put1}");
    let get1 = ok(&dir, &["get", "1", "--node", "2"]);
    assert!(get1.contains("key 1 = 100"), "{get1}");

    // Writes acknowledged under W=2, then one node crashes and more are written without it.
    for key in 2..=20 {
        put(&cfg, key % NODES, key, u64::from(key) * 10);
    }
    ok(&dir, &["kill", "2"]);
    for key in 21..=40 {
        put(&cfg, key % 2, key, u64::from(key) * 10);
    }
    // It restarts from its LSM and rejoins; what it missed comes back (read repair,
    // anti-entropy) until every replica holds the same data.
    let restarted = ok(&dir, &["restart", "2"]);
    assert!(restarted.contains("boot epoch 2"), "{restarted}");
    eventually(
        Duration::from_secs(20),
        "replicas converge after restart",
        || seedbed_cluster::admin::converged(&dir).unwrap_or(false),
    );
    for key in 2..=40 {
        let vs = values_everywhere(&cfg, 2, key);
        assert_eq!(vs, vec![Some(u64::from(key) * 10)], "key {key}");
    }

    // Every node crashes at once: what was acknowledged is on W disks, synced, and nothing
    // else could repair it.
    for id in 0..NODES {
        ok(&dir, &["kill", &id.to_string()]);
    }
    for id in 0..NODES {
        ok(&dir, &["restart", &id.to_string()]);
    }
    for key in 1..=40 {
        let want = if key == 1 { 100 } else { u64::from(key) * 10 };
        let vs = values_everywhere(&cfg, key % NODES, key);
        assert_eq!(
            vs,
            vec![Some(want)],
            "key {key} after a whole-cluster crash"
        );
    }

    // A partition: {0,1} keep a write quorum, 2 is cut off; after the heal the replicas
    // converge and node 2 serves the new values.
    let p = ok(&dir, &["partition", "0,1/2"]);
    assert!(p.contains("partitioned: 0,1/2"), "{p}");
    for key in 41..=60 {
        put(&cfg, key % 2, key, u64::from(key) * 10);
    }
    ok(&dir, &["heal"]);
    eventually(
        Duration::from_secs(20),
        "replicas converge after heal",
        || seedbed_cluster::admin::converged(&dir).unwrap_or(false),
    );
    for key in 41..=60 {
        let vs = values_everywhere(&cfg, 2, key);
        assert_eq!(vs, vec![Some(u64::from(key) * 10)], "key {key} after heal");
    }

    // Status reports every node; down stops them all by pid.
    let status = ok(&dir, &["status"]);
    assert_eq!(status.matches("running").count(), 3, "{status}");
    ok(&dir, &["down"]);
    for id in 0..NODES {
        assert_eq!(
            process::node_state(&dir, id).1,
            ProcState::Dead,
            "node {id}"
        );
    }
}
