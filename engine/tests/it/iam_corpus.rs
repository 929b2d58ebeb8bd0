//! Runs the IAM evaluation corpus: cases written from AWS's IAM documentation, each naming the
//! rule it checks. Files: `tests/iam_corpus/*.jsonl`, one case per line:
//!
//! ```json
//! {"name": "...", "rule": "what AWS documents", "policies": {...}, "request": {...},
//!  "expect": "Allow" | "ExplicitDeny" | "ImplicitDeny", "reason": "NoIdentityAllow"}
//! {"name": "...", "rule": "...", "policies": {...}, "request": {...}, "error": "text the error contains"}
//! ```
//! `policies` and `request` are exactly the input of `seedbed iam eval`.

use std::collections::BTreeSet;
use std::path::Path;

use seedbed_engine::iam::{decide, explain, parse_input};
use serde_json::{json, Value};

fn load() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/iam_corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: bad JSON: {e}", f.display(), i + 1));
            cases.push((
                format!("{}:{}", f.file_name().unwrap().to_string_lossy(), i + 1),
                v,
            ));
        }
    }
    cases
}

#[test]
fn corpus_cases_match_aws_documented_behaviour() {
    let cases = load();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (at, case) in &cases {
        let name = case["name"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: case without name"));
        let rule = case["rule"].as_str().unwrap_or("");
        assert!(
            !rule.is_empty(),
            "{at} {name}: every case names the rule it checks"
        );
        assert!(
            names.insert(name.to_string()),
            "{at}: duplicate case name {name}"
        );
        let input = json!({"policies": case["policies"], "request": case["request"]});
        let parsed = parse_input(&input);
        if let Some(want) = case.get("error").and_then(Value::as_str) {
            match parsed {
                Ok(_) => failures.push(format!(
                    "{at} {name}: expected error containing {want:?}, got a valid input ({rule})"
                )),
                Err(e) => {
                    let msg = e.to_string();
                    if !msg.contains(want) {
                        failures.push(format!("{at} {name}: error {msg:?} lacks {want:?}"));
                    }
                }
            }
            continue;
        }
        let (set, ctx) = match parsed {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{at} {name}: unexpected error: {e}"));
                continue;
            }
        };
        let (decision, reason) = decide(&set, &ctx);
        let exp = explain(&set, &ctx);
        assert_eq!(
            (exp.decision, exp.reason),
            (decision, reason),
            "{at} {name}: explain and decide disagree"
        );
        let want = case["expect"]
            .as_str()
            .unwrap_or_else(|| panic!("{at} {name}: no expect"));
        if decision.name() != want {
            failures.push(format!(
                "{at} {name}: expected {want}, got {} — rule: {rule}\n    {}",
                decision.name(),
                exp.summary(&set, &ctx)
            ));
            continue;
        }
        if let Some(r) = case.get("reason").and_then(Value::as_str) {
            let got = format!("{reason:?}");
            if !got.starts_with(r) {
                failures.push(format!("{at} {name}: expected reason {r}, got {got}"));
            }
        }
        // The explanation names a statement for every decision that has one.
        let text = exp.render(&set, &ctx);
        assert!(
            text.contains(decision.name()),
            "{at} {name}: explanation lacks the decision"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_is_large_and_covers_every_operator_qualifier_and_variable() {
    let cases = load();
    assert!(
        cases.len() >= 200,
        "the corpus has {} cases; the issue asks for at least 200",
        cases.len()
    );
    let all: String = cases.iter().map(|(_, c)| c.to_string()).collect();
    let required = [
        "\"StringEquals\"",
        "\"StringNotEquals\"",
        "\"StringEqualsIgnoreCase\"",
        "\"StringNotEqualsIgnoreCase\"",
        "\"StringLike\"",
        "\"StringNotLike\"",
        "\"NumericEquals\"",
        "\"NumericNotEquals\"",
        "\"NumericLessThan\"",
        "\"NumericLessThanEquals\"",
        "\"NumericGreaterThan\"",
        "\"NumericGreaterThanEquals\"",
        "\"DateEquals\"",
        "\"DateNotEquals\"",
        "\"DateLessThan\"",
        "\"DateLessThanEquals\"",
        "\"DateGreaterThan\"",
        "\"DateGreaterThanEquals\"",
        "\"Bool\"",
        "\"BinaryEquals\"",
        "\"IpAddress\"",
        "\"NotIpAddress\"",
        "\"ArnEquals\"",
        "\"ArnLike\"",
        "\"ArnNotEquals\"",
        "\"ArnNotLike\"",
        "\"Null\"",
        "IfExists\"",
        "ForAnyValue:",
        "ForAllValues:",
        "${aws:username}",
        "${aws:userid}",
        "${aws:PrincipalTag/",
        "${s3:prefix}",
        "${*}",
        "${?}",
        "${$}",
        ", '",
        "\"NotPrincipal\"",
        "\"NotAction\"",
        "\"NotResource\"",
        "\"Principal\":\"*\"",
        "\"AWS\":\"*\"",
        "2008-10-17",
        "\"scp\":[",
        "\"boundary\":[",
        "\"session\":[",
        "assumed-role",
        "federated-user",
        "resource_account",
        "\"Service\"",
    ];
    let missing: Vec<_> = required.iter().filter(|r| !all.contains(*r)).collect();
    assert!(missing.is_empty(), "the corpus never uses: {missing:?}");
}
