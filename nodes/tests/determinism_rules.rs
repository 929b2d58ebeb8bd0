//! The protocol nodes run inside the deterministic simulator, so they keep its rules: no wall
//! clock, no threads, no std hash maps or sets (their iteration order changes per process), no
//! environment reads. Time, randomness and the disk come only through `Ctx`.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn node_code_reads_nothing_from_outside_its_context() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found only {} files", files.len());
    for (path, text) in &files {
        for word in [
            "HashMap",
            "HashSet",
            "Instant",
            "SystemTime",
            "thread",
            "std::env",
            "RealClock",
            "seedbed_sim",
        ] {
            assert!(!text.contains(word), "{path} mentions {word}");
        }
    }
}
