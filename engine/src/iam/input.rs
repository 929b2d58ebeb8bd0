//! The evaluation input of `seedbed iam eval` (see `docs/iam.md` and
//! `shared/formats/iam-eval-input.md`): policies by kind plus one request.
//!
//! ```json
//! {"policies": {"identity": [..], "resource": [..], "boundary": [..] | null,
//!               "scp": [..] | null, "session": [..] | null},
//!  "request": {"principal": "arn:aws:iam::111122223333:user/alice",
//!              "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key",
//!              "resource_account": "111122223333",
//!              "context": {"aws:SourceIp": "203.0.113.5", "aws:TagKeys": ["a", "b"]}}}
//! ```
//! A missing or null list means no such policy applies. Context values are strings or lists of
//! strings; numbers and booleans are accepted and turned into their text, as AWS sends them.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::context::RequestContext;
use super::error::{json_type, PolicyError, PolicyErrorKind};
use super::evaluate::PolicySet;
use super::policy::{Policy, PolicyKind};

fn wrong(path: &str, expected: &'static str, v: &Value) -> PolicyError {
    PolicyError::new(
        path,
        PolicyErrorKind::WrongType {
            expected,
            found: json_type(v),
        },
    )
}

fn check_keys(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), PolicyError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            let hint = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(k))
                .map(|a| a.to_string());
            return Err(PolicyError::new(
                format!("{path}.{k}"),
                PolicyErrorKind::UnknownElement(k.clone(), hint),
            ));
        }
    }
    Ok(())
}

fn policy_list(
    v: Option<&Value>,
    path: &str,
    kind: PolicyKind,
) -> Result<Option<Vec<Arc<Policy>>>, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = match p {
                    // A policy may also be given as a JSON string holding the document.
                    Value::String(text) => Policy::parse(text, kind),
                    other => Policy::from_value(other, kind),
                };
                p.map(Arc::new)
                    .map_err(|e| e.within(&format!("{path}[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(wrong(path, "an array of policies or null", other)),
    }
}

/// Parses one evaluation input object.
pub fn parse_input(value: &Value) -> Result<(PolicySet, RequestContext), PolicyError> {
    let Value::Object(top) = value else {
        return Err(wrong("$", "an object with `policies` and `request`", value));
    };
    check_keys(top, "$", &["policies", "request"])?;
    let set = match top.get("policies") {
        None | Some(Value::Null) => PolicySet::default(),
        Some(Value::Object(p)) => {
            check_keys(
                p,
                "$.policies",
                &["identity", "resource", "boundary", "scp", "session"],
            )?;
            PolicySet {
                identity: policy_list(
                    p.get("identity"),
                    "$.policies.identity",
                    PolicyKind::Identity,
                )?
                .unwrap_or_default(),
                resource: policy_list(
                    p.get("resource"),
                    "$.policies.resource",
                    PolicyKind::Resource,
                )?
                .unwrap_or_default(),
                boundary: policy_list(
                    p.get("boundary"),
                    "$.policies.boundary",
                    PolicyKind::Boundary,
                )?,
                scp: policy_list(p.get("scp"), "$.policies.scp", PolicyKind::Scp)?,
                session: policy_list(p.get("session"), "$.policies.session", PolicyKind::Session)?,
            }
        }
        Some(other) => return Err(wrong("$.policies", "an object", other)),
    };
    let req = match top.get("request") {
        Some(Value::Object(r)) => r,
        Some(other) => return Err(wrong("$.request", "an object", other)),
        None => {
            return Err(PolicyError::new(
                "$",
                PolicyErrorKind::MissingElement("request"),
            ))
        }
    };
    check_keys(
        req,
        "$.request",
        &[
            "principal",
            "action",
            "resource",
            "resource_account",
            "context",
        ],
    )?;
    let field = |name: &'static str| -> Result<&str, PolicyError> {
        match req.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(wrong(&format!("$.request.{name}"), "a string", other)),
            None => Err(PolicyError::new(
                "$.request",
                PolicyErrorKind::MissingElement(name),
            )),
        }
    };
    let mut ctx = RequestContext::new(field("principal")?, field("action")?, field("resource")?)?;
    match req.get("resource_account") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) => ctx.set_resource_account(a)?,
        Some(other) => {
            return Err(wrong(
                "$.request.resource_account",
                "a 12-digit account id string",
                other,
            ))
        }
    }
    match req.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(keys)) => {
            for (k, v) in keys {
                let path = format!("$.request.context.{k}");
                let scalar = |v: &Value, p: &str| -> Result<String, PolicyError> {
                    match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        Value::Bool(b) => Ok(b.to_string()),
                        other => Err(wrong(p, "a string (or a list of strings)", other)),
                    }
                };
                match v {
                    Value::Array(items) => {
                        let vals = items
                            .iter()
                            .enumerate()
                            .map(|(i, x)| scalar(x, &format!("{path}[{i}]")))
                            .collect::<Result<Vec<_>, _>>()?;
                        ctx.set_list(k, vals);
                    }
                    Value::Null => ctx.remove(k),
                    other => ctx.set(k, scalar(other, &path)?),
                }
            }
        }
        Some(other) => {
            return Err(wrong(
                "$.request.context",
                "an object of context keys",
                other,
            ))
        }
    }
    Ok((set, ctx))
}
