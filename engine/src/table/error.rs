//! What a table request can fail with, in DynamoDB's terms: each error has the kind DynamoDB
//! names in its `__type` and the message it words, so the JSON protocol layer only formats.

use super::value::Item;
use crate::lsm::LsmError;

/// DynamoDB's error kinds (the part of `__type` after `#`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A malformed or impossible request.
    Validation,
    /// The table or index does not exist.
    ResourceNotFound,
    /// The table exists already (CreateTable) or is being changed.
    ResourceInUse,
    /// A condition did not hold; nothing was written.
    ConditionalCheckFailed,
    /// A transaction was cancelled; see the reasons.
    TransactionCanceled,
    /// An idempotency token was reused with different parameters.
    IdempotentParameterMismatch,
    /// A local secondary index's item collection would exceed 10 GB.
    ItemCollectionSizeLimitExceeded,
    /// Too many tables or indexes.
    LimitExceeded,
    /// IAM did not allow the request; nothing was read or written.
    AccessDenied,
    /// The storage engine failed.
    InternalServerError,
}

impl ErrorKind {
    /// The short name (`ValidationException`, …).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::ResourceInUse => "ResourceInUseException",
            ErrorKind::ConditionalCheckFailed => "ConditionalCheckFailedException",
            ErrorKind::TransactionCanceled => "TransactionCanceledException",
            ErrorKind::IdempotentParameterMismatch => "IdempotentParameterMismatchException",
            ErrorKind::ItemCollectionSizeLimitExceeded => {
                "ItemCollectionSizeLimitExceededException"
            }
            ErrorKind::LimitExceeded => "LimitExceededException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::InternalServerError => "InternalServerError",
        }
    }
}

/// Why one action of a cancelled transaction failed (`CancellationReasons`).
#[derive(Clone, Debug, PartialEq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, `TransactionConflict`, …
    pub code: String,
    /// The message, where there is one.
    pub message: Option<String>,
    /// The item, when `ReturnValuesOnConditionCheckFailure` was `ALL_OLD`.
    pub item: Option<Item>,
}

impl CancellationReason {
    /// The reason of an action that did not fail.
    pub fn none() -> Self {
        CancellationReason {
            code: "None".into(),
            message: None,
            item: None,
        }
    }
}

/// A table request's error.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamoError {
    /// Which error.
    pub kind: ErrorKind,
    /// DynamoDB's message.
    pub message: String,
    /// For a failed condition with `ReturnValuesOnConditionCheckFailure = ALL_OLD`: the item.
    pub item: Option<Item>,
    /// For a cancelled transaction: one reason per action.
    pub reasons: Vec<CancellationReason>,
}

impl std::fmt::Display for DynamoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for DynamoError {}

impl DynamoError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DynamoError {
            kind,
            message: message.into(),
            item: None,
            reasons: Vec::new(),
        }
    }

    /// A ValidationException.
    pub fn validation(message: impl Into<String>) -> Self {
        DynamoError::new(ErrorKind::Validation, message)
    }

    /// "One or more parameter values were invalid: …".
    pub fn invalid_parameter(detail: impl std::fmt::Display) -> Self {
        DynamoError::validation(format!(
            "One or more parameter values were invalid: {detail}"
        ))
    }

    /// The table is not there.
    pub fn table_not_found(name: &str) -> Self {
        DynamoError::new(
            ErrorKind::ResourceNotFound,
            format!("Requested resource not found: Table: {name} not found"),
        )
    }

    /// The conditional request failed (optionally carrying the item).
    pub fn condition_failed(item: Option<Item>) -> Self {
        DynamoError {
            item,
            ..DynamoError::new(
                ErrorKind::ConditionalCheckFailed,
                "The conditional request failed",
            )
        }
    }

    /// "The provided key element does not match the schema".
    pub fn key_mismatch() -> Self {
        DynamoError::validation("The provided key element does not match the schema")
    }
}

impl From<LsmError> for DynamoError {
    fn from(e: LsmError) -> Self {
        DynamoError::new(
            ErrorKind::InternalServerError,
            format!("Internal server error: {e}"),
        )
    }
}

/// A result of the table layer.
pub type Result<T> = std::result::Result<T, DynamoError>;
