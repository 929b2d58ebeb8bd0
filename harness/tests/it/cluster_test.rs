//! `seedbed cluster test` end to end: three quorum nodes as real processes, concurrent
//! clients, a nemesis that kills, pauses and partitions them, and the simulator's checkers on
//! the recorded history.
//!
//! Every node is killed by its pid when the test ends, pass or fail ([`Guard`]) — on top of
//! the command's own guard, which the test also checks. Ports are chosen free at run time by
//! the command. No timing is asserted.

use std::path::Path;
use std::process::{Command, Output};

use seedbed_cluster::process::{self, ProcState};
use seedbed_nodes::quorum::history::HistoryLine;
use seedbed_nodes::quorum::msg::{Op, Reply};

use crate::common::{Guard, NODES};

fn test_cmd(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .arg("cluster")
        .arg("--dir")
        .arg(dir)
        .arg("test")
        .args(args)
        .output()
        .expect("run seedbed")
}

/// Runs a test that must be refused with exit code 2 before any node starts; returns stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = test_cmd(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "seedbed cluster test {args:?}: stdout {}\nstderr {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.join("cluster.json").exists(),
        "{args:?} started a cluster"
    );
    stderr
}

#[test]
fn bad_test_settings_are_refused_before_any_node_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let e = refused(&dir, &["--nemesis", "kill,explode"]);
    assert!(
        e.contains("unknown fault 'explode'") && e.contains("kill, pause, partition"),
        "{e}"
    );
    assert!(refused(&dir, &["--nemesis", "pause,pause"]).contains("named twice"));
    assert!(refused(&dir, &["--time", "soon"]).contains("--time 'soon'"));
    assert!(refused(&dir, &["--time", "0s"]).contains("1ms to 1h"));
    assert!(refused(&dir, &["--set", "bug=gremlins"]).contains("ack-before-sync"));
    assert!(refused(&dir, &["--set", "timeout_ms=5"]).contains("unknown key 'timeout_ms'"));
    assert!(refused(&dir, &["--set", "lin"]).contains("KEY=VALUE"));
    assert!(refused(&dir, &["--set", "sloppy=maybe"]).contains("true or false"));
    assert!(refused(&dir, &["--set", "mix=1:2"]).contains("get:put:delete"));
    assert!(refused(&dir, &["--n", "4", "--nodes", "3"]).contains("4 replicas need"));
    assert!(refused(&dir, &["--clients", "0"]).contains("--clients 0"));
    let nowhere = tmp.path().join("no-such-dir").join("h.jsonl");
    assert!(refused(&dir, &["--history", nowhere.to_str().unwrap()]).contains("--history"));
}

#[test]
fn a_three_node_run_under_kills_pauses_and_partitions_passes_the_simulators_checkers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let _guard = Guard { dir: dir.clone() };
    let history = tmp.path().join("history.jsonl");
    let out = test_cmd(
        &dir,
        &[
            "--time",
            "8s",
            "--nodes",
            "3",
            "--n",
            "3",
            "--r",
            "2",
            "--w",
            "2",
            "--nemesis",
            "kill,pause,partition",
            "--clients",
            "3",
            "--seed",
            "11",
            "--quiet",
            "20s",
            "--history",
            history.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "cluster test failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("verdict: PASS"), "{stdout}");
    assert!(stdout.contains("quorum-durability ok"), "{stdout}");
    assert!(stdout.contains("quorum-convergence ok"), "{stdout}");
    assert!(
        stdout.contains(&format!("history: {}", history.display())),
        "{stdout}"
    );

    // The command stopped every node it started.
    for id in 0..NODES {
        assert_eq!(
            process::node_state(&dir, id).1,
            ProcState::Dead,
            "node {id}"
        );
    }

    // The history holds what the checkers were shown: faults, acknowledged writes, reads,
    // and the quiet period's digests and audit reads, each ending once.
    let lines: Vec<HistoryLine> = std::fs::read_to_string(&history)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let nemesis: Vec<&str> = lines
        .iter()
        .filter(|l| l.event == "nemesis")
        .map(|l| l.detail.as_str())
        .collect();
    assert!(
        nemesis
            .iter()
            .any(|d| d.starts_with("kill") || d.starts_with("pause") || d.starts_with("partition")),
        "no fault was injected: {nemesis:?}"
    );
    let acked = lines
        .iter()
        .filter(|l| matches!(l.reply, Some(Reply::Written(..))))
        .count();
    let read = lines
        .iter()
        .filter(|l| matches!(l.reply, Some(Reply::Got(..))))
        .count();
    assert!(acked > 0 && read > 0, "{acked} writes, {read} reads");
    let digests = lines
        .iter()
        .filter(|l| matches!(l.reply, Some(Reply::Digest { .. })))
        .count();
    assert_eq!(digests, NODES as usize, "one digest per node");
    let audits = lines
        .iter()
        .filter(|l| matches!(l.op, Some(Op::Get { all: true, .. })))
        .count();
    assert!(audits > 0, "no audit reads");
    let t: Vec<u64> = lines.iter().map(|l| l.t_ns).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "history out of order");
}
