//! DynamoDB's error responses: HTTP status, `__type` and message, exactly as DynamoDB sends
//! them (`{"__type": "com.amazon.coral.validate#ValidationException", "message": "…"}`), with
//! the extra members some errors carry (`Item`, `CancellationReasons`).

use serde_json::{json, Map, Value};

use seedbed_engine::table::{DynamoError, ErrorKind};

use crate::wire::item_to_json;

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
    /// Unknown access key (`UnrecognizedClientException`).
    UnrecognizedClient(String),
    /// Bad signature (`InvalidSignatureException`).
    InvalidSignature(String),
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
            WireError::UnrecognizedClient(_) => {
                format!("{CORAL_SERVICE}UnrecognizedClientException")
            }
            WireError::InvalidSignature(_) => format!("{CORAL_SERVICE}InvalidSignatureException"),
        }
    }

    /// The message.
    pub fn message(&self) -> Option<&str> {
        match self {
            WireError::Dynamo(e) => Some(&e.message),
            WireError::Serialization(m)
            | WireError::Validation(m)
            | WireError::MissingAuthenticationToken(m)
            | WireError::UnrecognizedClient(m)
            | WireError::InvalidSignature(m) => Some(m),
            WireError::UnknownOperation => None,
        }
    }

    /// The short kind (`ValidationException`, …), for metrics and logs.
    pub fn short_name(&self) -> String {
        let t = self.type_name();
        t.rsplit('#').next().unwrap_or(&t).to_string()
    }

    /// HTTP status and JSON body.
    pub fn to_response(&self) -> (u16, Value) {
        let status = match self {
            WireError::Dynamo(e) if e.kind == ErrorKind::InternalServerError => 500,
            WireError::MissingAuthenticationToken(_)
            | WireError::InvalidSignature(_)
            | WireError::UnrecognizedClient(_) => 400,
            _ => 400,
        };
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.type_name()));
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
            body.insert(key.into(), Value::String(m.to_string()));
        }
        if let WireError::Dynamo(e) = self {
            if let Some(item) = &e.item {
                body.insert("Item".into(), item_to_json(item));
            }
            if e.kind == ErrorKind::TransactionCanceled {
                let reasons: Vec<Value> = e
                    .reasons
                    .iter()
                    .map(|r| {
                        let mut o = Map::new();
                        o.insert("Code".into(), json!(r.code));
                        if let Some(m) = &r.message {
                            o.insert("Message".into(), json!(m));
                        }
                        if let Some(i) = &r.item {
                            o.insert("Item".into(), item_to_json(i));
                        }
                        Value::Object(o)
                    })
                    .collect();
                body.insert("CancellationReasons".into(), Value::Array(reasons));
            }
        }
        (status, Value::Object(body))
    }
}
