//! `seedbed report` from fixed JSON fixtures: every chart file is written and is valid SVG with
//! its axis labels; the page links every chart with its caption and command; bad or partial
//! input gives a clear error naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn seedbed() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seedbed"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("report-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// Every <text> of an SVG, in document order.
fn svg_texts(path: &Path) -> Vec<String> {
    let xml = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("{} is not valid XML: {e}", path.display()));
    assert_eq!(
        doc.root_element().tag_name().name(),
        "svg",
        "{}",
        path.display()
    );
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

#[test]
fn report_from_fixtures_draws_and_links_every_chart() {
    let out = scratch();
    let status = seedbed()
        .args(["report", "--from"])
        .arg(fixtures())
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    let expected = [
        ("io-sequential.svg", "MB/s"),
        ("io-random.svg", "IOPS (log)"),
        ("io-latency.svg", "µs (log)"),
        ("object-goodput.svg", "MB/s of object data"),
    ];
    for (file, axis) in expected {
        let path = out.path().join(file);
        assert!(path.exists(), "{file} was not written");
        let texts = svg_texts(&path);
        assert!(
            texts.iter().any(|t| t == axis),
            "{file} lacks its axis label '{axis}': {texts:?}"
        );
        assert!(
            page.contains(&format!("src=\"{file}\"")),
            "the page does not link {file}"
        );
    }
    // Captions and the commands that produced the data.
    assert_eq!(page.matches("<figcaption>").count(), expected.len());
    assert!(page.contains("$ seedbed bench io --quick --json bench-io.jsonl"));
    assert!(page.contains("$ seedbed bench object --json bench-object.jsonl"));
    // Self-contained: no scripts, no remote resources.
    assert!(!page.contains("<script"));
    assert!(!page.contains("http://") && !page.contains("https://"));
}

#[test]
fn partial_input_names_the_file_and_line() {
    let dir = scratch();
    let good = std::fs::read_to_string(fixtures().join("bench-io.jsonl")).unwrap();
    let cut = &good[..good.len() - 40]; // a file cut off mid-record
    std::fs::write(dir.path().join("bench-io.jsonl"), cut).unwrap();
    let out = seedbed()
        .args(["report", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bench-io.jsonl:9"), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn unknown_records_and_empty_directories_are_explained() {
    let dir = scratch();
    std::fs::write(dir.path().join("notes.json"), "{\"hello\": 1}\n").unwrap();
    let out = seedbed()
        .args(["report", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notes.json:1") && err.contains("no chart knows"),
        "{err}"
    );

    let empty = scratch();
    let out = seedbed()
        .args(["report", "--from"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no *.json or *.jsonl"));

    let out = seedbed()
        .args(["report", "--from", "/nonexistent/seedbed"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/seedbed"));
}

/// Simulator sweeps get the generic anomalies chart plus each workload's own charts, which the
/// workload (not the report) says how to draw: the IAM windows, the quorum staleness heatmap,
/// gossip's detection times.
#[test]
fn sim_sweeps_get_each_workloads_own_charts() {
    let dir = scratch();
    for (workload, seeds) in [("iam", "0..2"), ("quorum", "0..2"), ("gossip", "0..2")] {
        let out = seedbed()
            .args(["sim", "sweep", "--workload", workload, "--seeds", seeds])
            .args(["--jobs", "1", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(dir.path().join(format!("{workload}.json")), &out.stdout).unwrap();
    }
    let status = seedbed()
        .args(["report", "--from"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    for (file, axis) in [
        ("sim-anomalies.svg", "seeds"),
        ("sim-iam-stale.svg", "ms"),
        ("quorum-staleness.svg", "R (read replies)"),
        ("gossip-detection.svg", "protocol periods"),
    ] {
        let texts = svg_texts(&dir.path().join(file));
        assert!(texts.iter().any(|t| t == axis), "{file}: {texts:?}");
        assert!(
            page.contains(&format!("src=\"{file}\"")),
            "the page lacks {file}"
        );
    }
    assert!(
        page.contains("$ seedbed sim sweep --workload iam --seeds 0..200 --json iam-sweep.json")
    );

    // A record the workload cannot read is an error that says what it lacks.
    let bad = r#"{"kind": "sim-sweep", "workload": "iam", "seeds": 1, "failed": 0,
        "failed_by_checker": {}, "failures": {}, "iam": {"mode": "log"}}"#;
    std::fs::write(dir.path().join("iam.json"), bad.replace('\n', " ")).unwrap();
    let out = seedbed()
        .args(["report", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("iam") && err.contains("lacks 'settings'"),
        "{err}"
    );
}
