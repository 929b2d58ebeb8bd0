//! DynamoDB's expression language: one lexer and one parser for every expression
//! (ConditionExpression, FilterExpression, KeyConditionExpression, UpdateExpression,
//! ProjectionExpression), a resolver that replaces `#name` / `:value` placeholders and runs
//! DynamoDB's semantic checks with its exact messages, an evaluator for conditions, the
//! application of update actions, and projection.
//!
//! The life of an expression: [`parser`] turns the text into a tree whose names and values are
//! still placeholders with their byte ranges ([`ast::RawName`], [`ast::RawValue`]); [`resolve`]
//! looks them up in the request's `ExpressionAttributeNames` / `ExpressionAttributeValues`
//! (recording which were used, because an unused one is an error too), checks reserved words,
//! function names, arities and operand types, and yields a tree of plain names and values that
//! [`eval`], [`update`] and [`projection`] run against items. Every error carries the byte range
//! it is about ([`ExprError::span`]); the message itself is DynamoDB's wording.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod projection;
pub mod resolve;
pub mod update;

use std::collections::{BTreeMap, BTreeSet};

use super::error::ValidationError;
use super::value::AttributeValue;

/// Which request parameter an expression came from (it names the expression in errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `UpdateExpression`.
    Update,
    /// `ProjectionExpression`.
    Projection,
}

impl ExprKind {
    /// The parameter name.
    pub fn param(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }
}

/// An error in an expression: DynamoDB's message (without the `Invalid X:` prefix, which
/// [`ExprError::full_message`] adds) and the byte range of the expression it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// The message.
    pub message: String,
    /// Byte range `[start, end)` in the expression, when the error is about one place.
    pub span: Option<(usize, usize)>,
}

impl ExprError {
    /// An error about the expression as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        ExprError {
            message: message.into(),
            span: None,
        }
    }

    /// An error about one place.
    pub fn at(message: impl Into<String>, span: (usize, usize)) -> Self {
        ExprError {
            message: message.into(),
            span: Some(span),
        }
    }

    /// `Invalid ConditionExpression: …`, as DynamoDB words it.
    pub fn full_message(&self, kind: ExprKind) -> String {
        format!("Invalid {}: {}", kind.param(), self.message)
    }

    /// The message with the place marked under the expression (for people, not the wire).
    pub fn explain(&self, kind: ExprKind, src: &str) -> String {
        let mut s = self.full_message(kind);
        if let Some((a, b)) = self.span {
            let width = src[a.min(src.len())..b.min(src.len())]
                .chars()
                .count()
                .max(1);
            let pad = src[..a.min(src.len())].chars().count();
            s.push_str(&format!(
                "\n  {src}\n  {}{}",
                " ".repeat(pad),
                "^".repeat(width)
            ));
        }
        s
    }
}

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, and which of them
/// the request's expressions used.
#[derive(Debug, Default)]
pub struct Placeholders<'a> {
    names: Option<&'a BTreeMap<String, String>>,
    values: Option<&'a BTreeMap<String, AttributeValue>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    /// The request's maps (either may be absent).
    pub fn new(
        names: Option<&'a BTreeMap<String, String>>,
        values: Option<&'a BTreeMap<String, AttributeValue>>,
    ) -> Self {
        Placeholders {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    /// The attribute name behind `#ref`, marking it used.
    pub fn name(&mut self, r: &str) -> Option<String> {
        let n = self.names?.get(r)?.clone();
        self.used_names.insert(r.to_string());
        Some(n)
    }

    /// The value behind `:ref`, marking it used.
    pub fn value(&mut self, r: &str) -> Option<AttributeValue> {
        let v = self.values?.get(r)?.clone();
        self.used_values.insert(r.to_string());
        Some(v)
    }

    /// DynamoDB's error for placeholders given but used by no expression.
    pub fn check_unused(&self) -> Result<(), ValidationError> {
        let unused = |all: Option<Vec<&String>>, used: &BTreeSet<String>| -> Vec<String> {
            all.unwrap_or_default()
                .into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(self.names.map(|m| m.keys().collect()), &self.used_names);
        if !names.is_empty() {
            return Err(ValidationError(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(self.values.map(|m| m.keys().collect()), &self.used_values);
        if !values.is_empty() {
            return Err(ValidationError(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }
}

/// DynamoDB's reserved words (upper case, sorted): a bare attribute name may not be one.
const RESERVED: &str = include_str!("reserved.txt");

/// Whether `name` is a reserved word (any case).
pub fn is_reserved(name: &str) -> bool {
    if name.len() > 20 || !name.is_ascii() {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    reserved_words().binary_search(&upper.as_str()).is_ok()
}

fn reserved_words() -> &'static [&'static str] {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| RESERVED.lines().filter(|l| !l.is_empty()).collect())
}

/// A resolved condition.
pub type CondExpr = ast::Cond<String, AttributeValue>;
/// A resolved operand.
pub type OperandExpr = ast::Operand<String, AttributeValue>;
/// A resolved document path.
pub type PathExpr = ast::Path<String>;
/// A resolved update expression.
pub type UpdateExpr = ast::Update<String, AttributeValue>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_found_in_any_case() {
        assert_eq!(reserved_words().len(), 573);
        assert!(
            reserved_words().windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
        for w in ["name", "Status", "COUNT", "size", "year"] {
            assert!(is_reserved(w), "{w}");
        }
        for w in ["pk", "customer", "total_amount"] {
            assert!(!is_reserved(w), "{w}");
        }
    }

    #[test]
    fn unused_placeholders_are_reported_like_dynamodb() {
        let names: BTreeMap<String, String> = [
            ("#a".to_string(), "a".to_string()),
            ("#b".to_string(), "b".to_string()),
        ]
        .into();
        let mut p = Placeholders::new(Some(&names), None);
        assert_eq!(p.name("#a").as_deref(), Some("a"));
        assert_eq!(
            p.check_unused().unwrap_err().0,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
        );
        let e = ExprError::at("x", (4, 5));
        assert_eq!(
            e.explain(ExprKind::Update, "SET _a"),
            "Invalid UpdateExpression: x\n  SET _a\n      ^"
        );
    }
}
