//! What a table request can fail with, in DynamoDB's terms: each error has the kind DynamoDB
//! names in its `__type` and the message it words, so the JSON protocol layer only formats.

use std::sync::Arc;

use super::value::Item;
use crate::lsm::LsmError;

/// A request that DynamoDB would refuse with a ValidationException, worded as DynamoDB words
/// it: what the expression evaluator, the value rules and the placeholder check return, so the
/// table layer (not each caller) decides it becomes a `ValidationException` on the wire. The
/// message is the whole of it (no source): it is DynamoDB's text, compared byte for byte by
/// the protocol tests.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    /// A ValidationException with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ValidationError(message.into())
    }
}

impl From<ValidationError> for DynamoError {
    fn from(e: ValidationError) -> Self {
        DynamoError::validation(e.0)
    }
}

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
    /// The table has no resource-based policy, or not the revision the request expects.
    PolicyNotFound,
    /// A PartiQL INSERT of a key that exists.
    DuplicateItem,
    /// The table an export or a backup setting names does not exist (DynamoDB's word there,
    /// where item and catalog operations say ResourceNotFound).
    TableNotFound,
    /// An export from a table whose point-in-time recovery is off.
    PointInTimeRecoveryUnavailable,
    /// DescribeImport of an unknown import ARN.
    ImportNotFound,
    /// DescribeExport of an unknown export ARN.
    ExportNotFound,
    /// An import's ClientToken reused with other parameters.
    ImportConflict,
    /// An export's ClientToken reused with other parameters.
    ExportConflict,
    /// An export's ExportTime the table cannot be exported as of.
    InvalidExportTime,
    /// A stream's shard iterator older than 15 minutes.
    ExpiredIterator,
    /// A stream position before the oldest record kept (records live 24 hours).
    TrimmedDataAccess,
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
            ErrorKind::PolicyNotFound => "PolicyNotFoundException",
            ErrorKind::DuplicateItem => "DuplicateItemException",
            ErrorKind::TableNotFound => "TableNotFoundException",
            ErrorKind::PointInTimeRecoveryUnavailable => "PointInTimeRecoveryUnavailableException",
            ErrorKind::ImportNotFound => "ImportNotFoundException",
            ErrorKind::ExportNotFound => "ExportNotFoundException",
            ErrorKind::ImportConflict => "ImportConflictException",
            ErrorKind::ExportConflict => "ExportConflictException",
            ErrorKind::InvalidExportTime => "InvalidExportTimeException",
            ErrorKind::ExpiredIterator => "ExpiredIteratorException",
            ErrorKind::TrimmedDataAccess => "TrimmedDataAccessException",
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
#[derive(Clone, Debug)]
pub struct DynamoError {
    /// Which error.
    pub kind: ErrorKind,
    /// DynamoDB's message.
    pub message: String,
    /// For a failed condition with `ReturnValuesOnConditionCheckFailure = ALL_OLD`: the item.
    pub item: Option<Item>,
    /// For a cancelled transaction: one reason per action.
    pub reasons: Vec<CancellationReason>,
    /// The lower layer's error behind an internal one (the LSM's, or a stored item that does
    /// not decode), kept as the [`std::error::Error::source`] rather than only as text.
    pub(crate) cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Equal when what the client sees is equal (kind, message, item, reasons); the cause is for
/// the operator.
impl PartialEq for DynamoError {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind
            && self.message == o.message
            && self.item == o.item
            && self.reasons == o.reasons
    }
}

impl std::fmt::Display for DynamoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for DynamoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl DynamoError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DynamoError {
            kind,
            message: message.into(),
            item: None,
            reasons: Vec::new(),
            cause: None,
        }
    }

    /// An InternalServerError whose `message` says what failed and whose source is `cause`.
    pub fn internal(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DynamoError {
            cause: Some(Arc::new(cause)),
            ..DynamoError::new(ErrorKind::InternalServerError, message)
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

    /// The table an item operation (a read, write, batch, transaction or statement) names is
    /// not there, or not yet: DynamoDB's shorter message, without the table's name, which
    /// only the table operations (DescribeTable, UpdateTable, …) give (moto's AWS-verified
    /// tests and dynalite's, both checked against DynamoDB).
    pub fn item_table_not_found() -> Self {
        DynamoError::new(ErrorKind::ResourceNotFound, "Requested resource not found")
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

    /// True when a [`crate::lsm::ReadOptions::cache_only`] read stopped because it needed the
    /// device: not a failure, the request is to be run again where it may block.
    pub fn needs_device(&self) -> bool {
        self.cause
            .as_ref()
            .and_then(|c| c.downcast_ref::<LsmError>())
            .is_some_and(|e| matches!(e, LsmError::NotInCache { .. }))
    }

    /// "The provided key element does not match the schema".
    pub fn key_mismatch() -> Self {
        DynamoError::validation("The provided key element does not match the schema")
    }
}

impl From<LsmError> for DynamoError {
    fn from(e: LsmError) -> Self {
        DynamoError::internal(format!("Internal server error: {e}"), e)
    }
}

/// A result of the table layer.
pub type Result<T> = std::result::Result<T, DynamoError>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::table::codec::{decode_item, CorruptItem};

    #[test]
    fn validation_errors_keep_dynamodb_s_message() {
        let e: DynamoError = ValidationError::new("The provided key element does not match").into();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.message, "The provided key element does not match");
        assert!(e.source().is_none());
    }

    #[test]
    fn internal_errors_keep_the_lower_layer_as_source() {
        let e: DynamoError = LsmError::InvalidArgument("empty key".into()).into();
        assert_eq!(e.kind, ErrorKind::InternalServerError);
        assert_eq!(
            e.message,
            "Internal server error: invalid argument: empty key"
        );
        let lsm = e.source().and_then(|s| s.downcast_ref::<LsmError>());
        assert!(matches!(lsm, Some(LsmError::InvalidArgument(_))), "{lsm:?}");

        let e = crate::table::store::decode(b"k", &[9]).unwrap_err();
        assert_eq!(
            e.message,
            "stored item under key [6b] is corrupt: unknown item format version 9"
        );
        let cause = e.source().and_then(|s| s.downcast_ref::<CorruptItem>());
        assert_eq!(cause, Some(&CorruptItem::Version(9)));
        assert_eq!(decode_item(&[1]), Err(CorruptItem::Truncated(1)));
    }
}
