//! The `Condition` element: operators, keys and values, and how AWS combines them.
//!
//! A condition block is `{ operator: { key: value-or-values } }`. AWS combines it so:
//! - all operators must be true, and within an operator all keys must be true (AND);
//! - a key with several policy values is true when the request value matches **any** of them
//!   (OR) — for the negated operators (`StringNotEquals`, `NotIpAddress`, ...) the key is true
//!   when the request value matches **none** of them (NOR);
//! - a key that is **absent** from the request: positive operators are false, negated
//!   operators are true, `...IfExists` is true, `ForAllValues:` is true (the documented trap:
//!   an Allow with `ForAllValues` also allows requests that carry no values at all),
//!   `ForAnyValue:` is false, `Null: true` is true;
//! - `ForAnyValue:` is true when at least one request value satisfies the operator,
//!   `ForAllValues:` when every request value does;
//! - a policy variable in a value that cannot be resolved makes the condition false — except
//!   for the negated string operators (`StringNotEquals`, `StringNotEqualsIgnoreCase`,
//!   `StringNotLike`), where such a value matches nothing and the condition is true.

pub mod operator;
pub mod values;

use std::net::IpAddr;

use serde_json::Value;

use super::arn::split_arn;
use super::arn_pattern::ArnPattern;
use super::context::{key_hash, RequestContext};
use super::error::{json_type, PolicyError, PolicyErrorKind};
use super::template::{Template, Wildcards};
use operator::{BaseOp, Family, Operator, Qualifier};
use values::{decode_base64, parse_bool, parse_date_millis, parse_number, Cidr};

/// Upper bound on values under one condition key.
pub const CONDITION_VALUES_MAX: usize = 1024;

/// A number or date that may come from a policy variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<T> {
    /// Parsed at policy load time.
    Fixed(T),
    /// A policy variable, parsed at evaluation time.
    Variable(Template),
}

/// The policy values of one condition, parsed for their operator family.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// String operators (`StringLike` templates have wildcards on).
    Strings(Vec<Template>),
    /// Numeric operators.
    Numbers(Vec<Scalar<f64>>),
    /// Date operators, as epoch milliseconds.
    Dates(Vec<Scalar<i64>>),
    /// `Bool`.
    Bools(Vec<bool>),
    /// `BinaryEquals`, decoded.
    Binaries(Vec<Vec<u8>>),
    /// IP operators.
    Cidrs(Vec<Cidr>),
    /// ARN operators.
    Arns(Vec<ArnPattern>),
    /// `Null`: each value says "the key is absent" (true) or "present" (false).
    Nulls(Vec<bool>),
}

/// One (operator, key) pair of a condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator name as written (`ForAllValues:StringLikeIfExists`).
    pub operator_name: String,
    /// The parsed operator.
    pub operator: Operator,
    /// The key as written in the policy.
    pub key: String,
    /// The key lowercased, for lookup (key names are case-insensitive).
    pub key_lower: String,
    /// [`crate::iam::context::key_hash`] of `key_lower`.
    pub key_hash: u64,
    /// The values as written, for explanations.
    pub raw_values: Vec<String>,
    /// The parsed values.
    pub values: Values,
}

/// Parses a `Condition` element into its (operator, key) conditions.
pub fn parse_block(
    value: &Value,
    path: &str,
    variables: bool,
) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = value else {
        return Err(PolicyError::new(
            path,
            PolicyErrorKind::WrongType {
                expected: "an object of condition operators",
                found: json_type(value),
            },
        ));
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let op_path = format!("{path}.{op_name}");
        let operator = Operator::parse(op_name).map_err(|e| {
            PolicyError::new(
                &op_path,
                PolicyErrorKind::UnknownOperator(op_name.clone(), e.hint),
            )
        })?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::new(
                &op_path,
                PolicyErrorKind::WrongType {
                    expected: "an object of condition keys",
                    found: json_type(keys),
                },
            ));
        };
        for (key, vals) in keys {
            let key_path = format!("{op_path}.{key}");
            if key.is_empty() {
                return Err(PolicyError::new(
                    &key_path,
                    PolicyErrorKind::BadValue {
                        what: "condition key",
                        value: key.clone(),
                        why: "a condition key name cannot be empty".into(),
                    },
                ));
            }
            let raw_values = raw_values(vals, &key_path)?;
            let values = parse_values(operator, &raw_values, &key_path, variables)?;
            out.push(Condition {
                operator_name: op_name.clone(),
                operator,
                key: key.clone(),
                key_lower: key.to_ascii_lowercase(),
                key_hash: key_hash(&key.to_ascii_lowercase()),
                raw_values,
                values,
            });
        }
    }
    Ok(out)
}

/// Condition values are a scalar or an array of scalars; AWS accepts JSON strings, numbers and
/// booleans and compares their text.
fn raw_values(vals: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Value, p: &str| -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(PolicyError::new(
                p,
                PolicyErrorKind::WrongType {
                    expected: "a string, number or boolean condition value",
                    found: json_type(other),
                },
            )),
        }
    };
    match vals {
        Value::Array(items) => {
            if items.len() > CONDITION_VALUES_MAX {
                return Err(PolicyError::new(
                    path,
                    PolicyErrorKind::Unsupported(format!(
                        "more than {CONDITION_VALUES_MAX} values under one condition key"
                    )),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| scalar(v, &format!("{path}[{i}]")))
                .collect()
        }
        other => Ok(vec![scalar(other, path)?]),
    }
}

fn bad(path: &str, i: usize, n: usize, what: &'static str, value: &str, why: &str) -> PolicyError {
    let p = if n > 1 {
        format!("{path}[{i}]")
    } else {
        path.to_string()
    };
    PolicyError::new(
        p,
        PolicyErrorKind::BadValue {
            what,
            value: value.into(),
            why: why.into(),
        },
    )
}

fn parse_values(
    op: Operator,
    raw: &[String],
    path: &str,
    variables: bool,
) -> Result<Values, PolicyError> {
    let n = raw.len();
    let has_var = |s: &str| variables && s.contains("${");
    Ok(match op.base.family() {
        Family::String => {
            let wild = if op.base == BaseOp::StringLike {
                Wildcards::On
            } else {
                Wildcards::Off
            };
            let mut v = Vec::with_capacity(n);
            for (i, s) in raw.iter().enumerate() {
                v.push(
                    Template::parse(s, wild, variables)
                        .map_err(|why| bad(path, i, n, "condition value", s, &why.to_string()))?,
                );
            }
            Values::Strings(v)
        }
        Family::Numeric => {
            let mut v = Vec::with_capacity(n);
            for (i, s) in raw.iter().enumerate() {
                v.push(if has_var(s) {
                    Scalar::Variable(
                        Template::parse(s, Wildcards::Off, true)
                            .map_err(|why| bad(path, i, n, "number", s, &why.to_string()))?,
                    )
                } else {
                    Scalar::Fixed(
                        parse_number(s)
                            .ok_or_else(|| bad(path, i, n, "number", s, "not a number"))?,
                    )
                });
            }
            Values::Numbers(v)
        }
        Family::Date => {
            let mut v = Vec::with_capacity(n);
            for (i, s) in raw.iter().enumerate() {
                v.push(if has_var(s) {
                    Scalar::Variable(
                        Template::parse(s, Wildcards::Off, true)
                            .map_err(|why| bad(path, i, n, "date", s, &why.to_string()))?,
                    )
                } else {
                    Scalar::Fixed(parse_date_millis(s).ok_or_else(|| {
                        bad(
                            path,
                            i,
                            n,
                            "date",
                            s,
                            "expected ISO 8601 (2026-01-01T00:00:00Z) or epoch seconds",
                        )
                    })?)
                });
            }
            Values::Dates(v)
        }
        Family::Bool => Values::Bools(
            raw.iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_bool(s)
                        .ok_or_else(|| bad(path, i, n, "boolean", s, "expected true or false"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Binary => Values::Binaries(
            raw.iter()
                .enumerate()
                .map(|(i, s)| {
                    decode_base64(s)
                        .ok_or_else(|| bad(path, i, n, "binary value", s, "expected base64"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Ip => Values::Cidrs(
            raw.iter()
                .enumerate()
                .map(|(i, s)| {
                    Cidr::parse(s).ok_or_else(|| {
                        bad(
                            path,
                            i,
                            n,
                            "IP address",
                            s,
                            "expected an IPv4 or IPv6 address or CIDR range",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Arn => {
            let mut v = Vec::with_capacity(n);
            for (i, s) in raw.iter().enumerate() {
                let p = ArnPattern::parse(s, variables).map_err(|why| {
                    let p = if n > 1 {
                        format!("{path}[{i}]")
                    } else {
                        path.to_string()
                    };
                    PolicyError::new(
                        p,
                        PolicyErrorKind::MalformedArn {
                            arn: s.clone(),
                            why,
                        },
                    )
                })?;
                v.push(p);
            }
            Values::Arns(v)
        }
        Family::Null => Values::Nulls(
            raw.iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_bool(s).ok_or_else(|| {
                        bad(
                            path,
                            i,
                            n,
                            "Null value",
                            s,
                            "expected true (key absent) or false (key present)",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A policy variable in a condition value could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unresolved;

/// Case-insensitive string equality without allocating.
fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b.as_bytes());
    }
    match std::str::from_utf8(a) {
        Ok(a) => a
            .chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase)),
        Err(_) => false,
    }
}

impl Condition {
    /// Evaluates this condition against the request. `scratch` holds substituted policy
    /// variables; it is reused across calls so evaluation does not allocate.
    pub fn evaluate(&self, ctx: &RequestContext, scratch: &mut Vec<u8>) -> bool {
        let op = self.operator;
        let values = ctx
            .get_hashed(self.key_hash, &self.key_lower)
            .filter(|v| !v.is_empty());
        if let Values::Nulls(wants) = &self.values {
            let is_null = values.is_none();
            return wants.contains(&is_null);
        }
        let Some(values) = values else {
            return op.if_exists
                || match op.qualifier {
                    Qualifier::ForAllValues => true,
                    Qualifier::ForAnyValue => false,
                    Qualifier::Single => op.negated,
                };
        };
        let result = match op.qualifier {
            Qualifier::Single => {
                let mut any = false;
                for v in values {
                    match self.matches_any(v, ctx, scratch) {
                        Ok(true) => {
                            any = true;
                            break;
                        }
                        Ok(false) => {}
                        Err(Unresolved) => return false,
                    }
                }
                Ok(any != op.negated)
            }
            Qualifier::ForAnyValue => values.iter().try_fold(false, |acc, v| {
                if acc {
                    return Ok(true);
                }
                self.matches_any(v, ctx, scratch).map(|m| m != op.negated)
            }),
            Qualifier::ForAllValues => values.iter().try_fold(true, |acc, v| {
                if !acc {
                    return Ok(false);
                }
                self.matches_any(v, ctx, scratch).map(|m| m != op.negated)
            }),
        };
        result.unwrap_or(false)
    }

    /// True when the request value `v` matches at least one policy value (the positive
    /// comparison; negation is applied by the caller).
    fn matches_any(
        &self,
        v: &str,
        ctx: &RequestContext,
        scratch: &mut Vec<u8>,
    ) -> Result<bool, Unresolved> {
        let base = self.operator.base;
        match &self.values {
            Values::Strings(ts) => {
                for t in ts {
                    let hit = match base {
                        BaseOp::StringEqualsIgnoreCase => {
                            t.resolve(ctx, scratch).map(|p| eq_ignore_case(p, v))
                        }
                        // StringEquals templates are compiled without wildcards, so the
                        // template matcher is exact equality for them.
                        _ => t.matches(ctx, scratch, v.as_bytes()),
                    };
                    // A policy variable that resolves to nothing: the positive operators are
                    // false, but for StringNotEquals / StringNotLike the value simply matches
                    // nothing, so the negated condition holds (AWS's policy-variables page).
                    let hit = match hit {
                        Some(h) => h,
                        None if self.operator.negated => continue,
                        None => return Err(Unresolved),
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Values::Numbers(ns) => {
                let Some(x) = parse_number(v) else {
                    return Ok(false);
                };
                for n in ns {
                    let y = match n {
                        Scalar::Fixed(y) => *y,
                        Scalar::Variable(t) => {
                            let p = t.resolve(ctx, scratch).ok_or(Unresolved)?;
                            match std::str::from_utf8(p).ok().and_then(parse_number) {
                                Some(y) => y,
                                None => continue,
                            }
                        }
                    };
                    let hit = match base {
                        BaseOp::NumericEquals => x == y,
                        BaseOp::NumericLessThan => x < y,
                        BaseOp::NumericLessThanEquals => x <= y,
                        BaseOp::NumericGreaterThan => x > y,
                        _ => x >= y,
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Values::Dates(ds) => {
                let Some(x) = parse_date_millis(v) else {
                    return Ok(false);
                };
                for d in ds {
                    let y = match d {
                        Scalar::Fixed(y) => *y,
                        Scalar::Variable(t) => {
                            let p = t.resolve(ctx, scratch).ok_or(Unresolved)?;
                            match std::str::from_utf8(p).ok().and_then(parse_date_millis) {
                                Some(y) => y,
                                None => continue,
                            }
                        }
                    };
                    let hit = match base {
                        BaseOp::DateEquals => x == y,
                        BaseOp::DateLessThan => x < y,
                        BaseOp::DateLessThanEquals => x <= y,
                        BaseOp::DateGreaterThan => x > y,
                        _ => x >= y,
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Values::Bools(bs) => Ok(parse_bool(v).is_some_and(|x| bs.contains(&x))),
            Values::Binaries(bins) => Ok(match decode_base64(v) {
                Some(x) => bins.contains(&x),
                None => false,
            }),
            Values::Cidrs(cs) => {
                let ip = match ctx.parsed_ip(self.key_hash) {
                    Some(ip) => Some(ip),
                    None => v.trim().parse::<IpAddr>().ok(),
                };
                Ok(ip.is_some_and(|ip| cs.iter().any(|c| c.contains(ip))))
            }
            Values::Arns(ps) => {
                let req = split_arn(v);
                for p in ps {
                    if req.is_none() && !matches!(p, ArnPattern::Any) {
                        continue;
                    }
                    if p.matches(req.as_ref(), v, ctx, scratch).ok_or(Unresolved)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Values::Nulls(_) => Ok(false),
        }
    }

    /// A sentence saying what this condition tested and how it came out, for explanations.
    pub fn describe(&self, ctx: &RequestContext, result: bool) -> String {
        let want = if self.raw_values.len() == 1 {
            format!("\"{}\"", self.raw_values[0])
        } else {
            format!("{:?}", self.raw_values)
        };
        let got = match ctx.get(&self.key_lower) {
            None => "is absent".to_string(),
            Some([]) => "is present with no values".to_string(),
            Some([one]) => format!("is \"{one}\""),
            Some(many) => format!("is {many:?}"),
        };
        let unresolved = self.unresolved_variable(ctx);
        let mut s = format!(
            "{} {} {}: the request's {} {} → {}",
            self.operator_name,
            self.key,
            want,
            self.key,
            got,
            if result { "true" } else { "false" }
        );
        if let Some(k) = unresolved {
            let string_negated = self.operator.negated && matches!(self.values, Values::Strings(_));
            s.push_str(&if string_negated {
                format!(
                    " (the policy variable ${{{k}}} cannot be resolved: it matches no value, so the negated condition holds)"
                )
            } else {
                format!(
                    " (the policy variable ${{{k}}} cannot be resolved, so the condition is false)"
                )
            });
        } else if ctx.get(&self.key_lower).is_none_or(|v| v.is_empty()) {
            let op = self.operator;
            let why = if op.base == BaseOp::Null {
                ""
            } else if op.if_exists {
                " (IfExists: a missing key makes the condition true)"
            } else if op.qualifier == Qualifier::ForAllValues {
                " (ForAllValues over an empty set is true)"
            } else if op.qualifier == Qualifier::ForAnyValue {
                " (ForAnyValue over an empty set is false)"
            } else if op.negated {
                " (a negated operator is true when the key is missing)"
            } else {
                " (a missing key does not match)"
            };
            s.push_str(why);
        }
        s
    }

    fn unresolved_variable<'a>(&'a self, ctx: &RequestContext) -> Option<&'a str> {
        match &self.values {
            Values::Strings(ts) => ts.iter().find_map(|t| t.unresolved_key(ctx)),
            Values::Numbers(ns) => ns.iter().find_map(|n| match n {
                Scalar::Variable(t) => t.unresolved_key(ctx),
                Scalar::Fixed(_) => None,
            }),
            Values::Dates(ds) => ds.iter().find_map(|n| match n {
                Scalar::Variable(t) => t.unresolved_key(ctx),
                Scalar::Fixed(_) => None,
            }),
            Values::Arns(ps) => ps.iter().find_map(|p| p.unresolved_key(ctx)),
            _ => None,
        }
    }
}
