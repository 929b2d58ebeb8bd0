//! `seedbed iam eval` / `explain` end to end: output shape, batch order, and exit code 2 with
//! a located message on invalid input.

use std::io::Write;
use std::process::{Command, Stdio};

fn seedbed() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seedbed"))
}

const ALLOW: &str = r#"{"policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}]},"request":{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key"}}"#;
const DENY: &str = r#"{"policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}]},"request":{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key"}}"#;
const BAD_EFFECT: &str = r#"{"policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}]},"request":{"principal":"arn:aws:iam::111122223333:user/alice","action":"s3:GetObject","resource":"*"}}"#;

fn run_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = seedbed()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn seedbed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn eval_prints_compact_json_in_documented_key_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.json");
    std::fs::write(&path, ALLOW).expect("write");
    let out = seedbed()
        .args(["iam", "eval", "--input"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.starts_with(r#"{"decision":"Allow","matched":[{"#),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["matched"][0]["sid"], "Read");
    assert!(v["explanation"].as_str().expect("string").contains("Allow"));
}

#[test]
fn batch_keeps_order_one_line_each() {
    let input = format!("{ALLOW}\n\n{DENY}\n{ALLOW}\n");
    let (code, out, err) = run_stdin(&["iam", "eval", "--batch", "--input", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let decisions: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["decision"]
                .as_str()
                .expect("s")
                .to_string()
        })
        .collect();
    assert_eq!(decisions, ["Allow", "ExplicitDeny", "Allow"]);
}

#[test]
fn invalid_input_exits_2_naming_file_line_and_path() {
    let input = format!("{ALLOW}\n{BAD_EFFECT}\n");
    let (code, out, err) = run_stdin(&["iam", "eval", "--batch", "--input", "-"], &input);
    assert_eq!(code, 2);
    assert_eq!(out.lines().count(), 1, "the valid first line was answered");
    assert!(
        err.contains("<stdin>:2") && err.contains("$.policies.identity[0].Statement[0].Effect"),
        "{err}"
    );
    let (code, _, err) = run_stdin(&["iam", "eval", "--input", "-"], "{not json");
    assert_eq!(code, 2);
    assert!(err.contains("invalid JSON"), "{err}");
    let out = seedbed()
        .args(["iam", "eval", "--input", "/nonexistent/x.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.json"));
}

#[test]
fn explain_walks_the_evaluation_steps() {
    let (code, out, err) = run_stdin(&["iam", "explain", "--input", "-"], DENY);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Decision: ExplicitDeny"), "{out}");
    assert!(out.contains("1. Deny evaluation"), "{out}");
    assert!(out.contains("identity[0] statement 1"), "{out}");
}
