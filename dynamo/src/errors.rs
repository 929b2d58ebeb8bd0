//! DynamoDB's error responses: HTTP status, `__type` and message, exactly as DynamoDB sends
//! them (`{"__type": "com.amazon.coral.validate#ValidationException", "message": "…"}`), with
//! the extra members some errors carry (`Item`, `CancellationReasons`).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use seedbed_engine::table::{CancellationReason, DynamoError, ErrorKind};

use crate::wire::WireItem;

/// Anything a request can fail with on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum WireError {
    /// An error from the table API.
    Dynamo(DynamoError),
    /// The JSON does not have the shape the operation needs (`SerializationException`).
    Serialization(String),
    /// A parameter failed validation (`ValidationException`).
    Validation(String),
    /// The `X-Amz-Target` names no operation (`UnknownOperationException`).
    UnknownOperation,
    /// No credentials (`MissingAuthenticationTokenException`).
    MissingAuthenticationToken(String),
    /// An `Authorization` header without all its parts (`IncompleteSignatureException`).
    IncompleteSignature(String),
    /// Unknown access key (`UnrecognizedClientException`).
    UnrecognizedClient(String),
    /// Bad signature (`InvalidSignatureException`).
    InvalidSignature(String),
    /// Temporary credentials past their expiry (`ExpiredTokenException`).
    ExpiredToken(String),
}

impl From<DynamoError> for WireError {
    fn from(e: DynamoError) -> Self {
        WireError::Dynamo(e)
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (status, body) = self.to_response();
        write!(f, "HTTP {status}: {body}")
    }
}

const DYNAMO: &str = "com.amazonaws.dynamodb.v20120810#";
const CORAL_SERVICE: &str = "com.amazon.coral.service#";

impl WireError {
    /// The `__type`.
    pub fn type_name(&self) -> String {
        match self {
            WireError::Dynamo(e) => match e.kind {
                ErrorKind::Validation => "com.amazon.coral.validate#ValidationException".into(),
                ErrorKind::AccessDenied => format!("{CORAL_SERVICE}AccessDeniedException"),
                k => format!("{DYNAMO}{}", k.name()),
            },
            WireError::Serialization(_) => format!("{CORAL_SERVICE}SerializationException"),
            WireError::Validation(_) => "com.amazon.coral.validate#ValidationException".into(),
            WireError::UnknownOperation => format!("{CORAL_SERVICE}UnknownOperationException"),
            WireError::MissingAuthenticationToken(_) => {
                format!("{CORAL_SERVICE}MissingAuthenticationTokenException")
            }
            WireError::IncompleteSignature(_) => {
                format!("{CORAL_SERVICE}IncompleteSignatureException")
            }
            WireError::UnrecognizedClient(_) => {
                format!("{CORAL_SERVICE}UnrecognizedClientException")
            }
            WireError::InvalidSignature(_) => format!("{CORAL_SERVICE}InvalidSignatureException"),
            WireError::ExpiredToken(_) => format!("{CORAL_SERVICE}ExpiredTokenException"),
        }
    }

    /// The message.
    pub fn message(&self) -> Option<&str> {
        match self {
            WireError::Dynamo(e) => Some(&e.message),
            // A body that is not JSON: DynamoDB's answer carries no message.
            WireError::Serialization(m) if m.is_empty() => None,
            WireError::Serialization(m)
            | WireError::Validation(m)
            | WireError::MissingAuthenticationToken(m)
            | WireError::IncompleteSignature(m)
            | WireError::UnrecognizedClient(m)
            | WireError::InvalidSignature(m)
            | WireError::ExpiredToken(m) => Some(m),
            WireError::UnknownOperation => None,
        }
    }

    /// The short kind (`ValidationException`, …), for metrics and logs.
    pub fn short_name(&self) -> String {
        let t = self.type_name();
        t.rsplit('#').next().unwrap_or(&t).to_string()
    }

    /// The HTTP status: 500 for the engine's internal errors, 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            WireError::Dynamo(e) if e.kind == ErrorKind::InternalServerError => 500,
            _ => 400,
        }
    }

    /// HTTP status and JSON body, as a `Value`.
    pub fn to_response(&self) -> (u16, Value) {
        // Serializing into a `Value` cannot fail: every map key here is a string.
        (
            self.status(),
            serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new())),
        )
    }

    /// The JSON body's bytes, written straight from the error (no `Value` in between).
    pub fn body(&self) -> Vec<u8> {
        // Writing to a `Vec` cannot fail, and every map key here is a string.
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

/// The error's JSON body: `__type`, the message, and the members some errors carry.
impl Serialize for WireError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut body = s.serialize_map(None)?;
        body.serialize_entry("__type", &self.type_name())?;
        // DynamoDB writes "Message" for a few coral errors and "message" elsewhere.
        let key = match self {
            WireError::Serialization(_)
            | WireError::Dynamo(DynamoError {
                kind: ErrorKind::TransactionCanceled,
                ..
            }) => "Message",
            _ => "message",
        };
        if let Some(m) = self.message() {
            body.serialize_entry(key, m)?;
        }
        if let WireError::Dynamo(e) = self {
            if let Some(item) = &e.item {
                body.serialize_entry("Item", &WireItem(item))?;
            }
            if e.kind == ErrorKind::TransactionCanceled {
                body.serialize_entry("CancellationReasons", &Reasons(&e.reasons))?;
            }
        }
        body.end()
    }
}

struct Reasons<'a>(&'a [CancellationReason]);

impl Serialize for Reasons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&Reason(r))?;
        }
        seq.end()
    }
}

struct Reason<'a>(&'a CancellationReason);

impl Serialize for Reason<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("Code", &r.code)?;
        if let Some(m) = &r.message {
            o.serialize_entry("Message", m)?;
        }
        if let Some(i) = &r.item {
            o.serialize_entry("Item", &WireItem(i))?;
        }
        o.end()
    }
}
