//! The tour's quick mode, as a newcomer runs it: it finishes, writes only under --out, leaves
//! no scratch data behind, and its report links a chart for every part.

use std::process::Command;

#[test]
fn quick_tour_writes_a_report_and_cleans_up() {
    let dir = tempfile::Builder::new()
        .prefix("tour-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let out = dir.path().join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .current_dir(dir.path())
        .args(["tour", "--quick", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "tour failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Summary"), "{stdout}");
    for planted in [
        "planted bug caught (register --set bug=stale-quorum)",
        "planted bug caught (events --set bug=no-idempotency): events-exactly-once fails",
    ] {
        assert!(
            stdout.contains(planted),
            "the tour shows {planted:?}: {stdout}"
        );
    }
    assert!(
        stdout.contains("repro: seedbed sim run --config"),
        "{stdout}"
    );
    // Only the report directory was written to, and its scratch space is gone.
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["report"], "the tour wrote outside --out");
    assert!(!out.join("scratch").exists(), "scratch data left behind");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for chart in [
        "io-sequential.svg",
        "lsm-throughput.svg",
        "object-goodput.svg",
        "s3-throughput.svg",
        "iam-latency.svg",
        "sim-anomalies.svg",
    ] {
        assert!(page.contains(chart), "the report lacks {chart}");
        assert!(out.join(chart).exists(), "{chart} not written");
    }
}

/// Every size the tour advertises sets up — directories made, arguments checked as each step
/// checks them — without the long work (`--dry-run`). The full sizes used to fail their first
/// step on a fresh checkout: `--dir .../scratch/io: no such directory`.
#[test]
fn every_tour_mode_sets_up_in_a_dry_run() {
    let dir = tempfile::Builder::new()
        .prefix("tour-dry-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    for (mode, io_plan, lsm_keys) in [
        (None, "bench io --quick", "--num 100000"),
        (Some("--quick"), "bench io --quick", "--num 20000"),
        (Some("--full"), "bench io --dir", "--num 1000000"),
    ] {
        let out = dir.path().join(format!("report{}", mode.unwrap_or("")));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedbed"));
        cmd.current_dir(dir.path())
            .args(["tour", "--dry-run", "--out"])
            .arg(&out);
        cmd.args(mode);
        let run = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{mode:?}:\n{stdout}\n{stderr}");
        assert_eq!(stdout.matches("  would run: ").count(), 6, "{stdout}");
        assert!(!stdout.contains("failed"), "{stdout}");
        assert!(
            stdout.contains(io_plan) && stdout.contains(lsm_keys),
            "{stdout}"
        );
        if mode == Some("--full") {
            let io_dir = out.join("scratch").join("io");
            assert!(stdout.contains(&io_dir.display().to_string()), "{stdout}");
        }
        // Nothing measured, nothing left behind but the (empty) report directory.
        assert!(!out.join("scratch").exists(), "scratch left behind");
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "a dry run wrote results"
        );
    }
    let mut entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["report", "report--full", "report--quick"]);
}
