//! `seedbed sim` exit codes, as the README promises: 2 for invalid input (naming what is wrong),
//! 1 for an operation that failed, 0 otherwise — for every verb.

use std::path::Path;
use std::process::Command;

fn seedbed(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sim-cli-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// Small runs, so the cases stay quick.
const SMALL: [&str; 4] = ["--ops", "40", "--fault-ms", "200"];

fn invalid(args: &[&str], names: &[&str]) {
    let (code, _, err) = seedbed(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(err.contains("invalid input"), "{args:?}: {err}");
    for n in names {
        assert!(err.contains(n), "{args:?} should name {n}: {err}");
    }
}

#[test]
fn an_unknown_workload_is_invalid_input_for_every_verb() {
    for verb in [
        vec!["sim", "run", "--workload", "nope"],
        vec!["sim", "sweep", "--workload", "nope", "--seeds", "0..2"],
        vec!["sim", "shrink", "--workload", "nope", "--seed", "1"],
        vec![
            "sim",
            "check-determinism",
            "--workload",
            "nope",
            "--seeds",
            "0",
        ],
    ] {
        invalid(&verb, &["'nope'", "register"]);
    }
}

#[test]
fn bad_parameters_and_unusable_files_are_invalid_input() {
    let mut args = vec!["sim", "run", "--set", "bug=nope"];
    args.extend(SMALL);
    invalid(&args, &["bug", "nope"]);
    invalid(&["sim", "run", "--set", "bug"], &["KEY=VALUE"]);
    invalid(
        &["sim", "run", "--config", "/nonexistent/seedbed.toml"],
        &["/nonexistent/seedbed.toml"],
    );
    invalid(
        &["sim", "run", "--faults", "/nonexistent/plan.toml"],
        &["/nonexistent/plan.toml"],
    );
    invalid(
        &["sim", "run", "--trace", "/nonexistent/dir/run.jsonl"],
        &["/nonexistent/dir/run.jsonl"],
    );
    // A seed that does not fail has nothing to shrink.
    let mut args = vec!["sim", "shrink", "--seed", "0", "--workload", "register"];
    args.extend(SMALL);
    invalid(&args, &["does not fail"]);
}

#[test]
fn bad_trace_and_sweep_files_are_invalid_input() {
    let dir = scratch();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json at all\n").unwrap();
    let junk = junk.to_str().unwrap();
    invalid(&["sim", "replay", "--trace", junk], &["junk.json"]);
    invalid(
        &["sim", "replay", "--trace", "/nonexistent/t.jsonl"],
        &["/nonexistent"],
    );
    invalid(&["sim", "merge", junk], &["junk.json", "sim sweep"]);
    invalid(
        &["sim", "merge", "/nonexistent/s.json"],
        &["/nonexistent/s.json"],
    );
    // Two sweeps of different workloads do not merge.
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (path, workload) in [(&a, "register"), (&b, "ping")] {
        let (code, out, err) = seedbed(&[
            "sim",
            "sweep",
            "--workload",
            workload,
            "--seeds",
            "0..2",
            "--jobs",
            "1",
            "--json",
            "--fault-ms",
            "100",
        ]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(path, out).unwrap();
    }
    invalid(
        &["sim", "merge", a.to_str().unwrap(), b.to_str().unwrap()],
        &["'ping'", "'register'"],
    );
}

#[test]
fn failing_operations_exit_1_and_good_ones_0() {
    // The planted bug fails its seed: a failed operation, not bad input.
    let mut args = vec!["sim", "run", "--seed", "2", "--set", "bug=stale-quorum"];
    args.extend(SMALL);
    let (code, out, err) = seedbed(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("repro: seedbed sim run"), "{out}");
    assert!(!err.contains("invalid input"), "{err}");
    // A trace edited by hand no longer replays: the replay fails (1), the file was readable.
    let dir = scratch();
    let trace = dir.path().join("run.jsonl");
    let t = trace.to_str().unwrap();
    let mut args = vec!["sim", "run", "--seed", "4", "--trace", t];
    args.extend(SMALL);
    assert_eq!(seedbed(&args).0, 0);
    assert_eq!(seedbed(&["sim", "replay", "--trace", t]).0, 0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let edited = text.replacen("\"event\":\"deliver\"", "\"event\":\"drop\"", 1);
    std::fs::write(&trace, edited).unwrap();
    let (code, _, err) = seedbed(&["sim", "replay", "--trace", t]);
    assert_eq!(code, 1, "{err}");
    assert!(Path::new(&trace).exists());
    assert_eq!(seedbed(&["sim", "list"]).0, 0);
}

/// A bug hunter pipes a long timeline into `head`: when `head` closes the pipe, `seedbed` stops
/// quietly (SIGPIPE, as `cat` does), instead of panicking in `println!` with a backtrace hint.
#[test]
fn a_closed_pipe_ends_the_timeline_quietly() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .args([
            "sim",
            "run",
            "--workload",
            "quorum",
            "--seed",
            "1",
            "--timeline",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Megabytes of timeline: far more than a pipe holds, so the writer is still writing.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {err}");
}
