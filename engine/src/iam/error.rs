//! Typed errors for policy documents and evaluation requests.
//!
//! Every error says *what* is wrong and *where*: `path` is a JSON path into the document
//! (`$.Statement[1].Condition.StringEquals.aws:username`), so a person can find the bad element
//! without reading the parser.

use std::fmt;

/// A policy document or request that cannot be used, with the JSON path of the bad element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path of the offending element, `$` for the document root.
    pub path: String,
    /// What is wrong there.
    pub kind: PolicyErrorKind,
}

impl PolicyError {
    /// An error of `kind` at `path`.
    pub fn new(path: impl Into<String>, kind: PolicyErrorKind) -> Self {
        PolicyError {
            path: path.into(),
            kind,
        }
    }

    /// The same error with `prefix` put in front of its path (`$` of a nested document is
    /// replaced), used when a policy sits inside a larger input such as `policies.identity[2]`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = match self.path.strip_prefix('$') {
            Some(rest) => format!("{prefix}{rest}"),
            None => format!("{prefix}.{}", self.path),
        };
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.path, self.kind)
    }
}

impl std::error::Error for PolicyError {}

/// The kinds of problem a policy document or request can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not JSON at all.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// An element name the policy grammar does not have (names are case-sensitive).
    #[error("unknown element `{0}`{hint}", hint = .1.as_deref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownElement(String, Option<String>),
    /// A required element is absent.
    #[error("missing required element `{0}`")]
    MissingElement(&'static str),
    /// Two elements that exclude each other are both present (Action and NotAction, ...).
    #[error("`{0}` and `{1}` cannot both appear in one statement")]
    Conflict(&'static str, &'static str),
    /// An element that this kind of policy does not allow (Principal in an identity policy, ...).
    #[error("`{element}` is not allowed in a policy of this kind ({policy_kind})")]
    NotAllowedHere {
        /// The element.
        element: &'static str,
        /// The kind of policy being parsed.
        policy_kind: &'static str,
    },
    /// Effect is neither "Allow" nor "Deny".
    #[error("Effect must be \"Allow\" or \"Deny\" (case-sensitive), found {0}")]
    BadEffect(String),
    /// Version is not one of the two AWS accepts.
    #[error("Version must be \"2012-10-17\" or \"2008-10-17\", found {0}")]
    BadVersion(String),
    /// A Resource, Principal or ARN condition value that is not a well-formed ARN.
    #[error("malformed ARN `{arn}`: {why}")]
    MalformedArn {
        /// The text given.
        arn: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A condition operator that AWS does not define.
    #[error("unknown condition operator `{0}`{hint}", hint = .1.as_deref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownOperator(String, Option<String>),
    /// A JSON value of the wrong type (an object where a string belongs, ...).
    #[error("wrong value type: expected {expected}, found {found}")]
    WrongType {
        /// What the grammar wants here.
        expected: &'static str,
        /// What the document has, as JSON type name.
        found: &'static str,
    },
    /// A value of the right JSON type whose content is invalid for its use.
    #[error("invalid {what} `{value}`: {why}")]
    BadValue {
        /// What the value should be (a date, an IP address, an action name, ...).
        what: &'static str,
        /// The text given.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// A policy element that is syntactically valid but that AWS rejects (NotPrincipal with Allow, ...).
    #[error("{0}")]
    Unsupported(String),
}

/// The JSON type name of a value, for error messages.
pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
