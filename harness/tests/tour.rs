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
    assert!(
        stdout.contains("planted bug"),
        "the tour shows a planted bug caught: {stdout}"
    );
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
        "iam-latency.svg",
        "sim-anomalies.svg",
    ] {
        assert!(page.contains(chart), "the report lacks {chart}");
        assert!(out.join(chart).exists(), "{chart} not written");
    }
}
