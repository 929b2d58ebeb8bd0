//! Sample policy sets for benchmarks (`seedbed bench iam`, the criterion bench, the tour).
//!
//! Shape of a set of N statements: N-1 non-matching Allow statements — the even ones match the
//! resource and fail on the team tag, the odd ones fail on the resource — and one matching
//! Allow last, so every statement is examined before the answer is known. Each statement has
//! two conditions (a string equality on a principal tag and an IP range).

use serde_json::{json, Value};

fn statement(i: usize, n: usize) -> Value {
    if i + 1 == n {
        return json!({
            "Sid": "Match",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::bucket-*/*",
            "Condition": {
                "StringEquals": {"aws:PrincipalTag/team": "ops"},
                "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}
            }
        });
    }
    let resource = if i.is_multiple_of(2) {
        "arn:aws:s3:::bucket-*/*".to_string()
    } else {
        format!("arn:aws:s3:::other-{i}/*")
    };
    json!({
        "Sid": format!("S{i}"),
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": resource,
        "Condition": {
            "StringEquals": {"aws:PrincipalTag/team": format!("team-{i}")},
            "IpAddress": {"aws:SourceIp": format!("10.{}.0.0/16", i % 256)}
        }
    })
}

/// An evaluation input (the `seedbed iam eval` format) with a policy set of `n` statements.
pub fn policy_set_input(n: usize) -> Value {
    let stmts: Vec<Value> = (0..n).map(|i| statement(i, n)).collect();
    json!({
        "policies": {"identity": [{"Version": "2012-10-17", "Statement": stmts}]},
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket-target/photos/cat.jpg",
            "context": {"aws:PrincipalTag/team": "ops", "aws:SourceIp": "203.0.113.5"}
        }
    })
}
