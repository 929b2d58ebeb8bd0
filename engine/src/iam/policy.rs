//! Policy documents: parsing AWS IAM JSON into a compiled form ready for fast evaluation.
//!
//! Everything that can be done once is done here: action names lowercased and compiled to
//! glob bytes, Resource ARNs split into six per-segment patterns, condition values parsed into
//! numbers, instants, CIDR ranges and bytes. Evaluation then only compares.
//!
//! The grammar accepted is AWS's: `Version` (`2012-10-17` or `2008-10-17`; when omitted AWS
//! uses `2008-10-17`, in which policy variables are *not* substituted), optional `Id`, and
//! `Statement` as one object or an array. Each statement has optional `Sid`, required
//! `Effect`, exactly one of `Action`/`NotAction`, exactly one of `Resource`/`NotResource`
//! (none in a role trust policy), exactly one of `Principal`/`NotPrincipal` in resource-based
//! and trust policies (neither elsewhere), and an optional `Condition`. Element names are
//! case-sensitive; an unknown one is an error, with a suggestion when only the case differs.

use serde_json::{Map, Value};

use super::arn_pattern::ArnPattern;
use super::condition::{parse_block, Condition};
use super::error::{json_type, PolicyError, PolicyErrorKind};
use super::glob::{compile_plain, shape, Shape};
use super::principal::PrincipalSpec;

/// Upper bound on statements in one policy document (AWS's size limits are far lower).
pub const STATEMENTS_MAX: usize = 10_000;

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17` (or no Version): `${...}` is literal text.
    V2008_10_17,
}

/// Where a policy is attached; decides which elements it may and must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role.
    Identity,
    /// Attached to a resource (bucket policy, table policy); names principals.
    Resource,
    /// A permissions boundary on a user or role.
    Boundary,
    /// An AWS Organizations service control policy.
    Scp,
    /// A session policy passed to AssumeRole / GetFederationToken.
    Session,
    /// A role trust policy (the resource-based policy of the role for `sts:AssumeRole`).
    Trust,
}

impl PolicyKind {
    /// The lowercase name used in JSON input and output (`identity`, `scp`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::Boundary => "boundary",
            PolicyKind::Scp => "scp",
            PolicyKind::Session => "session",
            PolicyKind::Trust => "trust",
        }
    }

    /// A phrase for explanations ("identity-based policy").
    pub fn phrase(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Resource => "resource-based policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Session => "session policy",
            PolicyKind::Trust => "role trust policy",
        }
    }

    fn names_principals(self) -> bool {
        matches!(self, PolicyKind::Resource | PolicyKind::Trust)
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants, if nothing denies.
    Allow,
    /// Denies, overriding every Allow.
    Deny,
}

/// A list of patterns, or its complement (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher<T> {
    /// True for the `Not...` form: the statement applies to everything *not* listed.
    pub negated: bool,
    /// The patterns.
    pub items: Vec<T>,
}

/// One compiled action pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionPattern {
    /// As written in the policy.
    pub source: String,
    /// Lowercased and compiled for [`crate::iam::glob::glob_match`].
    pub compiled: Box<[u8]>,
    /// The pattern's shape, for the matcher's fast paths.
    pub shape: Shape,
}

/// One compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`, when given.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal` (resource-based and trust policies only).
    pub principal: Option<Matcher<PrincipalSpec>>,
    /// `Action` / `NotAction`.
    pub action: Matcher<ActionPattern>,
    /// `Resource` / `NotResource`; `None` in trust policies (the role itself).
    pub resource: Option<Matcher<ArnPattern>>,
    /// The (operator, key) conditions, all of which must hold.
    pub conditions: Vec<Condition>,
}

/// A compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Where this policy is attached.
    pub kind: PolicyKind,
    /// Language version.
    pub version: Version,
    /// `Id`, when given.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses policy JSON text.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            PolicyError::new(
                format!("$ (line {}, column {})", e.line(), e.column()),
                PolicyErrorKind::Json(e.to_string()),
            )
        })?;
        Policy::from_value(&value, kind)
    }

    /// Parses a policy from an already-parsed JSON value.
    pub fn from_value(value: &Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let Value::Object(doc) = value else {
            return Err(PolicyError::new(
                "$",
                PolicyErrorKind::WrongType {
                    expected: "a policy object",
                    found: json_type(value),
                },
            ));
        };
        check_names(doc, "$", &["Version", "Id", "Statement"])?;
        let version = match doc.get("Version") {
            None => Version::V2008_10_17,
            Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
            Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
            Some(other) => {
                return Err(PolicyError::new(
                    "$.Version",
                    PolicyErrorKind::BadVersion(other.to_string()),
                ))
            }
        };
        let id = match doc.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(PolicyError::new(
                    "$.Id",
                    PolicyErrorKind::WrongType {
                        expected: "a string",
                        found: json_type(other),
                    },
                ))
            }
        };
        let statements = match doc.get("Statement") {
            None => {
                return Err(PolicyError::new(
                    "$",
                    PolicyErrorKind::MissingElement("Statement"),
                ))
            }
            Some(Value::Object(_)) => {
                vec![parse_statement(
                    &doc["Statement"],
                    "$.Statement",
                    kind,
                    version,
                )?]
            }
            Some(Value::Array(items)) => {
                if items.len() > STATEMENTS_MAX {
                    return Err(PolicyError::new(
                        "$.Statement",
                        PolicyErrorKind::Unsupported(format!(
                            "more than {STATEMENTS_MAX} statements"
                        )),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| parse_statement(s, &format!("$.Statement[{i}]"), kind, version))
                    .collect::<Result<Vec<_>, _>>()?
            }
            Some(other) => {
                return Err(PolicyError::new(
                    "$.Statement",
                    PolicyErrorKind::WrongType {
                        expected: "a statement object or an array of them",
                        found: json_type(other),
                    },
                ))
            }
        };
        Ok(Policy {
            kind,
            version,
            id,
            statements,
        })
    }
}

/// Rejects element names outside `allowed`, suggesting the right case when that is the error.
fn check_names(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), PolicyError> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            let hint = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(key))
                .map(|a| a.to_string());
            return Err(PolicyError::new(
                format!("{path}.{key}"),
                PolicyErrorKind::UnknownElement(key.clone(), hint),
            ));
        }
    }
    Ok(())
}

/// Reads a string-or-array-of-strings element.
fn string_list(value: &Value, path: &str) -> Result<Vec<(String, String)>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![(s.clone(), path.to_string())]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(PolicyError::new(
                    path,
                    PolicyErrorKind::BadValue {
                        what: "list",
                        value: "[]".into(),
                        why: "the list must not be empty".into(),
                    },
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok((s.clone(), format!("{path}[{i}]"))),
                    other => Err(PolicyError::new(
                        format!("{path}[{i}]"),
                        PolicyErrorKind::WrongType {
                            expected: "a string",
                            found: json_type(other),
                        },
                    )),
                })
                .collect()
        }
        other => Err(PolicyError::new(
            path,
            PolicyErrorKind::WrongType {
                expected: "a string or an array of strings",
                found: json_type(other),
            },
        )),
    }
}

/// Picks exactly one of `name` / `not_name`.
fn one_of<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    name: &'static str,
    not_name: &'static str,
) -> Result<Option<(bool, &'a Value, String)>, PolicyError> {
    match (obj.get(name), obj.get(not_name)) {
        (Some(_), Some(_)) => Err(PolicyError::new(
            path,
            PolicyErrorKind::Conflict(name, not_name),
        )),
        (Some(v), None) => Ok(Some((false, v, format!("{path}.{name}")))),
        (None, Some(v)) => Ok(Some((true, v, format!("{path}.{not_name}")))),
        (None, None) => Ok(None),
    }
}

fn parse_action(text: &str, path: &str) -> Result<ActionPattern, PolicyError> {
    let ok = text == "*"
        || text
            .split_once(':')
            .is_some_and(|(svc, name)| !svc.is_empty() && !name.is_empty() && !name.contains(':'));
    if !ok {
        return Err(PolicyError::new(
            path,
            PolicyErrorKind::BadValue {
                what: "action",
                value: text.into(),
                why: "an action is \"*\" or `service:ActionName` (wildcards allowed), e.g. s3:Get*"
                    .into(),
            },
        ));
    }
    let compiled: Box<[u8]> = compile_plain(&text.to_ascii_lowercase()).into();
    Ok(ActionPattern {
        source: text.into(),
        shape: shape(&compiled),
        compiled,
    })
}

fn parse_statement(
    value: &Value,
    path: &str,
    kind: PolicyKind,
    version: Version,
) -> Result<Statement, PolicyError> {
    let Value::Object(obj) = value else {
        return Err(PolicyError::new(
            path,
            PolicyErrorKind::WrongType {
                expected: "a statement object",
                found: json_type(value),
            },
        ));
    };
    check_names(
        obj,
        path,
        &[
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ],
    )?;
    let variables = version == Version::V2012_10_17;
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(PolicyError::new(
                format!("{path}.Sid"),
                PolicyErrorKind::WrongType {
                    expected: "a string",
                    found: json_type(other),
                },
            ))
        }
    };
    let effect = match obj.get("Effect") {
        None => {
            return Err(PolicyError::new(
                path,
                PolicyErrorKind::MissingElement("Effect"),
            ))
        }
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::new(
                format!("{path}.Effect"),
                PolicyErrorKind::BadEffect(other.to_string()),
            ))
        }
    };

    let principal = match one_of(obj, path, "Principal", "NotPrincipal")? {
        None if kind.names_principals() => {
            return Err(PolicyError::new(path, PolicyErrorKind::MissingElement("Principal")))
        }
        None => None,
        Some((negated, _, _)) if !kind.names_principals() => {
            return Err(PolicyError::new(
                format!("{path}.{}", if negated { "NotPrincipal" } else { "Principal" }),
                PolicyErrorKind::NotAllowedHere {
                    element: if negated { "NotPrincipal" } else { "Principal" },
                    policy_kind: kind.phrase(),
                },
            ))
        }
        Some((true, _, p)) if kind == PolicyKind::Trust => {
            return Err(PolicyError::new(
                p,
                PolicyErrorKind::NotAllowedHere {
                    element: "NotPrincipal",
                    policy_kind: kind.phrase(),
                },
            ))
        }
        Some((true, _, p)) if effect == Effect::Allow => {
            return Err(PolicyError::new(
                p,
                PolicyErrorKind::Unsupported(
                    "NotPrincipal must be used with \"Effect\": \"Deny\"; AWS does not support it with Allow".into(),
                ),
            ))
        }
        Some((negated, v, p)) => Some(Matcher {
            negated,
            items: vec![PrincipalSpec::parse(v, &p)?],
        }),
    };

    let action = match one_of(obj, path, "Action", "NotAction")? {
        None => {
            return Err(PolicyError::new(
                path,
                PolicyErrorKind::MissingElement("Action"),
            ))
        }
        Some((negated, v, p)) => Matcher {
            negated,
            items: string_list(v, &p)?
                .iter()
                .map(|(s, sp)| parse_action(s, sp))
                .collect::<Result<_, _>>()?,
        },
    };

    let resource = match one_of(obj, path, "Resource", "NotResource")? {
        None if kind == PolicyKind::Trust => None,
        None => {
            return Err(PolicyError::new(
                path,
                PolicyErrorKind::MissingElement("Resource"),
            ))
        }
        Some((negated, _, _)) if kind == PolicyKind::Trust => {
            return Err(PolicyError::new(
                format!(
                    "{path}.{}",
                    if negated { "NotResource" } else { "Resource" }
                ),
                PolicyErrorKind::NotAllowedHere {
                    element: if negated { "NotResource" } else { "Resource" },
                    policy_kind: kind.phrase(),
                },
            ))
        }
        Some((negated, v, p)) => Some(Matcher {
            negated,
            items: string_list(v, &p)?
                .iter()
                .map(|(s, sp)| {
                    ArnPattern::parse(s, variables).map_err(|why| {
                        PolicyError::new(
                            sp,
                            PolicyErrorKind::MalformedArn {
                                arn: s.clone(),
                                why,
                            },
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        }),
    };

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(v) => parse_block(v, &format!("{path}.Condition"), variables)?,
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, kind: PolicyKind) -> String {
        Policy::parse(text, kind).unwrap_err().to_string()
    }

    #[test]
    fn parses_single_statement_object_and_array() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.version, Version::V2012_10_17);
        let p = Policy::parse(
            r#"{"Statement":[{"Sid":"a","Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b/*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert_eq!(p.version, Version::V2008_10_17);
        assert!(p.statements[0].action.negated);
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert!(
            e.contains("$.Statement[0].Effect") && e.contains("Allow"),
            "{e}"
        );
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert!(
            e.contains("$.Statement[0].action") && e.contains("did you mean `Action`"),
            "{e}"
        );
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"}]}"#,
            PolicyKind::Identity,
        );
        assert!(e.contains("malformed ARN"), "{e}");
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"a:b":"c"}}}]}"#,
            PolicyKind::Identity,
        );
        assert!(
            e.contains("$.Statement[0].Condition.StringEqual")
                && e.contains("unknown condition operator"),
            "{e}"
        );
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":{"a":1}}}}]}"#,
            PolicyKind::Identity,
        );
        assert!(e.contains("wrong value type"), "{e}");
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert!(
            e.contains("not allowed in a identity-based policy") || e.contains("not allowed"),
            "{e}"
        );
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Resource,
        );
        assert!(e.contains("Principal"), "{e}");
        let e = err(
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            PolicyKind::Identity,
        );
        assert!(e.contains("$.Version"), "{e}");
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert!(e.contains("cannot both"), "{e}");
        let e = err("{not json", PolicyKind::Identity);
        assert!(e.contains("invalid JSON"), "{e}");
    }
}
