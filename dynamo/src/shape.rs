//! DynamoDB's input model, and the first of the three phases every request goes through.
//!
//! DynamoDB handles a request body in three phases, and the first problem found decides the
//! error:
//!
//! 1. **Deserialization** against the operation's input shape (this module): the whole body is
//!    read into the model's types — structures with typed members, lists, maps, strings,
//!    integers, longs, booleans, base64 blobs and AttributeValue (a structure of
//!    S/N/B/SS/NS/BS/M/L/NULL/BOOL, recursive) — before anything is validated. A member of the
//!    wrong JSON kind is a `SerializationException` (`{"__type":
//!    "com.amazon.coral.service#SerializationException", "Message": …}`), wherever it is:
//!    `{"Key": "23"}` to GetItem is one about `Key`, although `TableName` is missing too.
//!    Members the model does not have are ignored, and a member that is JSON `null` is absent.
//! 2. **Constraint validation** of what was read: required members, lengths, ranges, patterns,
//!    enums (`1 validation error detected: Value null at 'tableName' failed to satisfy
//!    constraint: Member must not be null`), all of them at once — [`crate::constraint`].
//! 3. **The operation's semantic checks** — expressions, keys against the table's schema,
//!    the table's existence — in the engine.
//!
//! [`check`] is phase 1: a walk over the already-parsed [`Json`] tree guided by static shape
//! tables, which allocates nothing unless it fails. The messages are DynamoDB's current ones
//! (dynalite's test suite, checked against DynamoDB, `assertType` in its test/helpers.js). They
//! depend on what was expected, what was found and where: a member of a structure (a
//! *field*), or a list element or map value (a *value*):
//!
//! | expected | found | message |
//! |---|---|---|
//! | String, Boolean, Integer, Long | `true` / `false` / `23` / `34.56` / `"23"` | `TRUE_VALUE` / `FALSE_VALUE` / `NUMBER_VALUE` / `DECIMAL_VALUE` / `STRING_VALUE cannot be converted to String` (… `to Integer`, …) |
//! | Boolean | a string but `true`, `1`, `yes`, `false`, `0`, `no` (any case), which convert | `Unexpected token received from parser` |
//! | Blob | not a string | `only base-64-encoded strings are convertible to bytes` |
//! | Blob | a string, not base64 | `Base64 encoded length is expected a multiple of 4 bytes but found: 5`, `Invalid last non-pad Base64 character dectected` (sic) |
//! | any scalar | a list | `Unrecognized collection type class java.lang.String` (`java.nio.ByteBuffer` for a Blob) |
//! | a scalar or a list | an object | `Start of structure or map found where not expected` |
//! | a list, map or structure field | a scalar | `Unexpected field type` |
//! | a list or map value | a scalar | [`CAST`] (Java reflection failing on a parameterized type) |
//! | a structure value | a scalar | `Unexpected value type in payload` |
//! | a map | a list | `Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>` |
//! | a structure | a list | `Unrecognized collection type class com.amazonaws.dynamodb.v20120810.KeySchemaElement` |
//!
//! Where DynamoDB's answer is not in those tests the same pattern is followed: a fraction
//! where an Integer or Long goes is `DECIMAL_VALUE cannot be converted to Integer`, a `null`
//! list element or map value is a value of the wrong kind (`NULL_VALUE` where a scalar goes),
//! a base64 string with a character outside the alphabet is `Invalid Base64 character: '!'`.
//! DynamoDB reports the first problem in the body's order; the tree keeps members in key order,
//! so with several wrong members the one reported may differ.

use std::borrow::Cow;

use crate::errors::WireError;
use crate::tree::Json;

/// What a member, list element or map value must be: one of the model's shapes.
#[derive(Debug)]
pub enum Shape {
    /// A JSON string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A JSON integer (32 bits in the model; the range is phase 2's).
    Integer,
    /// A JSON integer (64 bits in the model).
    Long,
    /// A base64 string.
    Blob,
    /// A JSON array of the shape.
    List(&'static Shape),
    /// A JSON object whose values are of the shape (DynamoDB's maps all have string keys).
    Map(&'static Shape),
    /// A JSON object with the structure's members.
    Structure(&'static Structure),
}

/// A structure of the model: its name (in DynamoDB's Java package) and its members.
#[derive(Debug)]
pub struct Structure {
    /// The shape's name (`KeysAndAttributes`).
    pub name: &'static str,
    /// Member names and shapes, in the model's order.
    pub members: &'static [(&'static str, Shape)],
}

impl Structure {
    fn member(&self, name: &str) -> Option<&'static Shape> {
        self.members
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, shape)| shape)
    }
}

/// Where a value sits, which DynamoDB's messages depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// A member of a structure (a field).
    Member,
    /// A list element, a map value, or the body itself.
    Element,
}

/// An attribute value: `{"S": "x"}`, `{"M": {…}}`, ….
pub static ATTRIBUTE_VALUE: Shape = Shape::Structure(&model::ATTRIBUTE_VALUE);

/// An item, a key, `ExpressionAttributeValues`: a map of attribute values.
pub static ITEM: Shape = Shape::Map(&ATTRIBUTE_VALUE);

/// What DynamoDB answers for a scalar where a list or map value goes: its deserializer asks
/// Java for the class of a parameterized type, which is not one.
pub const CAST: &str = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";

const START_OF_STRUCTURE: &str = "Start of structure or map found where not expected";
const UNEXPECTED_FIELD: &str = "Unexpected field type";
const UNEXPECTED_VALUE: &str = "Unexpected value type in payload";
const NOT_BASE64: &str = "only base-64-encoded strings are convertible to bytes";
const PACKAGE: &str = "com.amazonaws.dynamodb.v20120810";

fn ser(msg: impl Into<String>) -> WireError {
    WireError::Serialization(msg.into())
}

/// Phase 1 for `operation`'s `body`: DynamoDB's `SerializationException` for the first value
/// (in key order) of the wrong JSON kind, or for a blob that is not base64. An operation
/// without a shape here passes.
pub fn check(operation: &str, body: &Json<'_>) -> Result<(), WireError> {
    match model::input(operation) {
        Some(input) => match body {
            Json::Object(_) => value(&Shape::Structure(input), body, At::Element),
            // The body itself: a value, as an element is.
            other => Err(mismatch(&Shape::Structure(input), other, At::Element)),
        },
        None => Ok(()),
    }
}

/// `operation`'s input shape (`None`: not an operation of this endpoint).
pub fn input(operation: &str) -> Option<&'static Structure> {
    model::input(operation)
}

/// Whether `v` can be read as `shape`, and all it holds as their shapes.
fn value(shape: &Shape, v: &Json<'_>, at: At) -> Result<(), WireError> {
    match (shape, v) {
        (Shape::String, Json::String(_)) => Ok(()),
        (Shape::Boolean, _) if boolean(v).is_some() => Ok(()),
        (Shape::Integer | Shape::Long, Json::Number(n)) if !n.is_f64() => Ok(()),
        (Shape::Blob, Json::String(s)) => base64(s),
        (Shape::List(e), Json::Array(a)) => a.iter().try_for_each(|x| value(e, x, At::Element)),
        (Shape::Map(e), Json::Object(o)) => {
            o.iter().try_for_each(|(_, x)| value(e, x, At::Element))
        }
        (Shape::Structure(s), Json::Object(o)) => o.iter().try_for_each(|(k, x)| {
            match s.member(k) {
                // `null` is an absent member; a member the model lacks is ignored.
                Some(m) if !x.is_null() => value(m, x, At::Member),
                _ => Ok(()),
            }
        }),
        _ => Err(mismatch(shape, v, at)),
    }
}

/// A Boolean as DynamoDB reads one: `true` / `false`, or a string it converts — `true`,
/// `1`, `yes` and `false`, `0`, `no`, in any case (dynalite's tests, checked against
/// DynamoDB: `{"NULL": "no"}` is a NULL set to false, `"23"` is refused).
pub fn boolean(v: &Json<'_>) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) => {
            let is = |words: [&str; 3]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
            if is(["true", "1", "yes"]) {
                Some(true)
            } else if is(["false", "0", "no"]) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// DynamoDB's `SerializationException` for `found` where `expected` goes, `at` a member or an
/// element (the table in this module's documentation).
pub fn mismatch(expected: &Shape, found: &Json<'_>, at: At) -> WireError {
    let msg: Cow<'static, str> = match (expected, found) {
        (Shape::Map(_), Json::Array(_)) => {
            format!("Unrecognized collection type {}", java_name(expected)).into()
        }
        (_, Json::Array(_)) => {
            format!("Unrecognized collection type class {}", java_name(expected)).into()
        }
        (_, Json::Object(_)) => START_OF_STRUCTURE.into(),
        (Shape::List(_) | Shape::Map(_) | Shape::Structure(_), _) if at == At::Member => {
            UNEXPECTED_FIELD.into()
        }
        (Shape::List(_) | Shape::Map(_), _) => CAST.into(),
        (Shape::Structure(_), _) => UNEXPECTED_VALUE.into(),
        (Shape::Blob, _) => NOT_BASE64.into(),
        (Shape::Boolean, Json::String(_)) => "Unexpected token received from parser".into(),
        (scalar, other) => format!(
            "{} cannot be converted to {}",
            token(other),
            simple_name(scalar)
        )
        .into(),
    };
    ser(msg)
}

/// The deserializer's name for a scalar JSON token.
fn token(v: &Json<'_>) -> &'static str {
    match v {
        Json::Bool(true) => "TRUE_VALUE",
        Json::Bool(false) => "FALSE_VALUE",
        Json::Number(n) if n.is_f64() => "DECIMAL_VALUE",
        Json::Number(_) => "NUMBER_VALUE",
        Json::String(_) => "STRING_VALUE",
        Json::Null => "NULL_VALUE",
        Json::Array(_) | Json::Object(_) => "",
    }
}

/// A shape's Java class without its package (a structure's: its name).
fn simple_name(shape: &Shape) -> &'static str {
    match shape {
        Shape::String => "String",
        Shape::Boolean => "Boolean",
        Shape::Integer => "Integer",
        Shape::Long => "Long",
        Shape::Blob => "ByteBuffer",
        Shape::List(_) => "List",
        Shape::Map(_) => "Map",
        Shape::Structure(s) => s.name,
    }
}

/// The Java type a shape is read into (`java.util.List<java.lang.String>`).
fn java_name(shape: &Shape) -> String {
    match shape {
        Shape::String | Shape::Boolean | Shape::Integer | Shape::Long => {
            format!("java.lang.{}", simple_name(shape))
        }
        Shape::Blob => "java.nio.ByteBuffer".into(),
        Shape::List(e) => format!("java.util.List<{}>", java_name(e)),
        Shape::Map(v) => format!("java.util.Map<java.lang.String, {}>", java_name(v)),
        Shape::Structure(s) => format!("{PACKAGE}.{}", s.name),
    }
}

/// Whether `s` is base64 as DynamoDB reads it: a multiple of 4 long, the final quantum's unused
/// bits zero, every character (but up to two `=` at the end) from the standard alphabet. What
/// passes decodes with `base64`'s `STANDARD` engine.
pub fn base64(s: &str) -> Result<(), WireError> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return Err(ser(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            b.len()
        )));
    }
    let pads = b.iter().rev().take(2).take_while(|&&c| c == b'=').count();
    let data = &b[..b.len() - pads];
    // DynamoDB checks the last character before the others (`=+/=` is refused for its `/`).
    let unused = match pads {
        2 => 0b1111,
        1 => 0b11,
        _ => 0,
    };
    if let Some(last) = data.last().and_then(|&c| sextet(c)) {
        if last & unused != 0 {
            return Err(ser("Invalid last non-pad Base64 character dectected"));
        }
    }
    // The first byte outside the alphabet starts a character (ASCII, or a multi-byte one's lead).
    match data.iter().position(|&c| sextet(c).is_none()) {
        Some(i) => Err(ser(format!(
            "Invalid Base64 character: '{}'",
            s.get(i..).and_then(|t| t.chars().next()).unwrap_or('?')
        ))),
        None => Ok(()),
    }
}

/// The 6 bits a character of the standard base64 alphabet stands for.
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// The input shapes, from DynamoDB's API model (service 2012-08-10, and DynamoDB Streams' for
/// its four operations): every member of each operation's input, whether this server acts on
/// it or not, so that a value of the wrong kind is refused wherever DynamoDB refuses it. A
/// `timestamp` member (GetShardIterator's `Timestamp`) is left out, and so ignored.
#[rustfmt::skip]
mod model {
    use super::Shape::{self, Blob, Boolean as Bool, Integer as Int, List, Long, Map, String as Str, Structure as St};
    use super::Structure;

    const fn st(name: &'static str, members: &'static [(&'static str, Shape)]) -> Structure {
        Structure { name, members }
    }

    const AV: Shape = St(&ATTRIBUTE_VALUE);

    pub(super) static ATTRIBUTE_VALUE: Structure = st("AttributeValue", &[
        ("S", Str), ("N", Str), ("B", Blob), ("SS", List(&Str)), ("NS", List(&Str)),
        ("BS", List(&Blob)), ("M", Map(&St(&ATTRIBUTE_VALUE))), ("L", List(&St(&ATTRIBUTE_VALUE))),
        ("NULL", Bool), ("BOOL", Bool),
    ]);

    /// Each operation's input shape (`None`: not an operation of this endpoint).
    pub(super) fn input(operation: &str) -> Option<&'static Structure> {
        Some(match operation {
            "GetItem" => &GET_ITEM_INPUT,
            "PutItem" => &PUT_ITEM_INPUT,
            "UpdateItem" => &UPDATE_ITEM_INPUT,
            "DeleteItem" => &DELETE_ITEM_INPUT,
            "Query" => &QUERY_INPUT,
            "Scan" => &SCAN_INPUT,
            "BatchGetItem" => &BATCH_GET_ITEM_INPUT,
            "BatchWriteItem" => &BATCH_WRITE_ITEM_INPUT,
            "TransactWriteItems" => &TRANSACT_WRITE_ITEMS_INPUT,
            "TransactGetItems" => &TRANSACT_GET_ITEMS_INPUT,
            "ExecuteStatement" => &EXECUTE_STATEMENT_INPUT,
            "BatchExecuteStatement" => &BATCH_EXECUTE_STATEMENT_INPUT,
            "ExecuteTransaction" => &EXECUTE_TRANSACTION_INPUT,
            "CreateTable" => &CREATE_TABLE_INPUT,
            "DescribeTable" => &DESCRIBE_TABLE_INPUT,
            "UpdateTable" => &UPDATE_TABLE_INPUT,
            "DeleteTable" => &DELETE_TABLE_INPUT,
            "ListTables" => &LIST_TABLES_INPUT,
            "TagResource" => &TAG_RESOURCE_INPUT,
            "UntagResource" => &UNTAG_RESOURCE_INPUT,
            "ListTagsOfResource" => &LIST_TAGS_OF_RESOURCE_INPUT,
            "UpdateTimeToLive" => &UPDATE_TIME_TO_LIVE_INPUT,
            "DescribeTimeToLive" => &DESCRIBE_TIME_TO_LIVE_INPUT,
            "UpdateContinuousBackups" => &UPDATE_CONTINUOUS_BACKUPS_INPUT,
            "DescribeContinuousBackups" => &DESCRIBE_CONTINUOUS_BACKUPS_INPUT,
            "PutResourcePolicy" => &PUT_RESOURCE_POLICY_INPUT,
            "GetResourcePolicy" => &GET_RESOURCE_POLICY_INPUT,
            "DeleteResourcePolicy" => &DELETE_RESOURCE_POLICY_INPUT,
            "DescribeLimits" => &DESCRIBE_LIMITS_INPUT,
            "ListStreams" => &LIST_STREAMS_INPUT,
            "DescribeStream" => &DESCRIBE_STREAM_INPUT,
            "GetShardIterator" => &GET_SHARD_ITERATOR_INPUT,
            "GetRecords" => &GET_RECORDS_INPUT,
            _ => return None,
        })
    }

    static GET_ITEM_INPUT: Structure = st("GetItemInput", &[
        ("TableName", Str), ("Key", Map(&AV)), ("AttributesToGet", List(&Str)),
        ("ConsistentRead", Bool), ("ReturnConsumedCapacity", Str), ("ProjectionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)),
    ]);
    static EXPECTED_ATTRIBUTE_VALUE: Structure = st("ExpectedAttributeValue", &[
        ("Value", AV), ("Exists", Bool), ("ComparisonOperator", Str), ("AttributeValueList", List(&AV)),
    ]);
    static PUT_ITEM_INPUT: Structure = st("PutItemInput", &[
        ("TableName", Str), ("Item", Map(&AV)), ("Expected", Map(&St(&EXPECTED_ATTRIBUTE_VALUE))),
        ("ReturnValues", Str), ("ReturnConsumedCapacity", Str), ("ReturnItemCollectionMetrics", Str),
        ("ConditionalOperator", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static ATTRIBUTE_VALUE_UPDATE: Structure = st("AttributeValueUpdate", &[
        ("Value", AV), ("Action", Str),
    ]);
    static UPDATE_ITEM_INPUT: Structure = st("UpdateItemInput", &[
        ("TableName", Str), ("Key", Map(&AV)), ("AttributeUpdates", Map(&St(&ATTRIBUTE_VALUE_UPDATE))),
        ("Expected", Map(&St(&EXPECTED_ATTRIBUTE_VALUE))), ("ConditionalOperator", Str),
        ("ReturnValues", Str), ("ReturnConsumedCapacity", Str), ("ReturnItemCollectionMetrics", Str),
        ("UpdateExpression", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static DELETE_ITEM_INPUT: Structure = st("DeleteItemInput", &[
        ("TableName", Str), ("Key", Map(&AV)), ("Expected", Map(&St(&EXPECTED_ATTRIBUTE_VALUE))),
        ("ConditionalOperator", Str), ("ReturnValues", Str), ("ReturnConsumedCapacity", Str),
        ("ReturnItemCollectionMetrics", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static CONDITION: Structure = st("Condition", &[
        ("AttributeValueList", List(&AV)), ("ComparisonOperator", Str),
    ]);
    static QUERY_INPUT: Structure = st("QueryInput", &[
        ("TableName", Str), ("IndexName", Str), ("Select", Str), ("AttributesToGet", List(&Str)),
        ("Limit", Int), ("ConsistentRead", Bool), ("KeyConditions", Map(&St(&CONDITION))),
        ("QueryFilter", Map(&St(&CONDITION))), ("ConditionalOperator", Str), ("ScanIndexForward", Bool),
        ("ExclusiveStartKey", Map(&AV)), ("ReturnConsumedCapacity", Str), ("ProjectionExpression", Str),
        ("FilterExpression", Str), ("KeyConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
    ]);
    static SCAN_INPUT: Structure = st("ScanInput", &[
        ("TableName", Str), ("IndexName", Str), ("AttributesToGet", List(&Str)), ("Limit", Int),
        ("Select", Str), ("ScanFilter", Map(&St(&CONDITION))), ("ConditionalOperator", Str),
        ("ExclusiveStartKey", Map(&AV)), ("ReturnConsumedCapacity", Str), ("TotalSegments", Int),
        ("Segment", Int), ("ProjectionExpression", Str), ("FilterExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ConsistentRead", Bool),
    ]);
    static KEYS_AND_ATTRIBUTES: Structure = st("KeysAndAttributes", &[
        ("Keys", List(&Map(&AV))), ("AttributesToGet", List(&Str)), ("ConsistentRead", Bool),
        ("ProjectionExpression", Str), ("ExpressionAttributeNames", Map(&Str)),
    ]);
    static BATCH_GET_ITEM_INPUT: Structure = st("BatchGetItemInput", &[
        ("RequestItems", Map(&St(&KEYS_AND_ATTRIBUTES))), ("ReturnConsumedCapacity", Str),
    ]);
    static PUT_REQUEST: Structure = st("PutRequest", &[("Item", Map(&AV))]);
    static DELETE_REQUEST: Structure = st("DeleteRequest", &[("Key", Map(&AV))]);
    static WRITE_REQUEST: Structure = st("WriteRequest", &[
        ("PutRequest", St(&PUT_REQUEST)), ("DeleteRequest", St(&DELETE_REQUEST)),
    ]);
    static BATCH_WRITE_ITEM_INPUT: Structure = st("BatchWriteItemInput", &[
        ("RequestItems", Map(&List(&St(&WRITE_REQUEST)))), ("ReturnConsumedCapacity", Str),
        ("ReturnItemCollectionMetrics", Str),
    ]);
    static CONDITION_CHECK: Structure = st("ConditionCheck", &[
        ("Key", Map(&AV)), ("TableName", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static PUT: Structure = st("Put", &[
        ("Item", Map(&AV)), ("TableName", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static DELETE: Structure = st("Delete", &[
        ("Key", Map(&AV)), ("TableName", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static UPDATE: Structure = st("Update", &[
        ("Key", Map(&AV)), ("UpdateExpression", Str), ("TableName", Str), ("ConditionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)), ("ExpressionAttributeValues", Map(&AV)),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static TRANSACT_WRITE_ITEM: Structure = st("TransactWriteItem", &[
        ("ConditionCheck", St(&CONDITION_CHECK)), ("Put", St(&PUT)), ("Delete", St(&DELETE)),
        ("Update", St(&UPDATE)),
    ]);
    static TRANSACT_WRITE_ITEMS_INPUT: Structure = st("TransactWriteItemsInput", &[
        ("TransactItems", List(&St(&TRANSACT_WRITE_ITEM))), ("ReturnConsumedCapacity", Str),
        ("ReturnItemCollectionMetrics", Str), ("ClientRequestToken", Str),
    ]);
    static GET: Structure = st("Get", &[
        ("Key", Map(&AV)), ("TableName", Str), ("ProjectionExpression", Str),
        ("ExpressionAttributeNames", Map(&Str)),
    ]);
    static TRANSACT_GET_ITEM: Structure = st("TransactGetItem", &[("Get", St(&GET))]);
    static TRANSACT_GET_ITEMS_INPUT: Structure = st("TransactGetItemsInput", &[
        ("TransactItems", List(&St(&TRANSACT_GET_ITEM))), ("ReturnConsumedCapacity", Str),
    ]);
    static EXECUTE_STATEMENT_INPUT: Structure = st("ExecuteStatementInput", &[
        ("Statement", Str), ("Parameters", List(&AV)), ("ConsistentRead", Bool), ("NextToken", Str),
        ("ReturnConsumedCapacity", Str), ("Limit", Int), ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static BATCH_STATEMENT_REQUEST: Structure = st("BatchStatementRequest", &[
        ("Statement", Str), ("Parameters", List(&AV)), ("ConsistentRead", Bool),
        ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static BATCH_EXECUTE_STATEMENT_INPUT: Structure = st("BatchExecuteStatementInput", &[
        ("Statements", List(&St(&BATCH_STATEMENT_REQUEST))), ("ReturnConsumedCapacity", Str),
    ]);
    static PARAMETERIZED_STATEMENT: Structure = st("ParameterizedStatement", &[
        ("Statement", Str), ("Parameters", List(&AV)), ("ReturnValuesOnConditionCheckFailure", Str),
    ]);
    static EXECUTE_TRANSACTION_INPUT: Structure = st("ExecuteTransactionInput", &[
        ("TransactStatements", List(&St(&PARAMETERIZED_STATEMENT))), ("ClientRequestToken", Str),
        ("ReturnConsumedCapacity", Str),
    ]);
    static ATTRIBUTE_DEFINITION: Structure = st("AttributeDefinition", &[
        ("AttributeName", Str), ("AttributeType", Str),
    ]);
    static KEY_SCHEMA_ELEMENT: Structure = st("KeySchemaElement", &[
        ("AttributeName", Str), ("KeyType", Str),
    ]);
    static PROJECTION: Structure = st("Projection", &[
        ("ProjectionType", Str), ("NonKeyAttributes", List(&Str)),
    ]);
    static LOCAL_SECONDARY_INDEX: Structure = st("LocalSecondaryIndex", &[
        ("IndexName", Str), ("KeySchema", List(&St(&KEY_SCHEMA_ELEMENT))),
        ("Projection", St(&PROJECTION)),
    ]);
    static PROVISIONED_THROUGHPUT: Structure = st("ProvisionedThroughput", &[
        ("ReadCapacityUnits", Long), ("WriteCapacityUnits", Long),
    ]);
    static ON_DEMAND_THROUGHPUT: Structure = st("OnDemandThroughput", &[
        ("MaxReadRequestUnits", Long), ("MaxWriteRequestUnits", Long),
    ]);
    static WARM_THROUGHPUT: Structure = st("WarmThroughput", &[
        ("ReadUnitsPerSecond", Long), ("WriteUnitsPerSecond", Long),
    ]);
    static GLOBAL_SECONDARY_INDEX: Structure = st("GlobalSecondaryIndex", &[
        ("IndexName", Str), ("KeySchema", List(&St(&KEY_SCHEMA_ELEMENT))),
        ("Projection", St(&PROJECTION)), ("ProvisionedThroughput", St(&PROVISIONED_THROUGHPUT)),
        ("OnDemandThroughput", St(&ON_DEMAND_THROUGHPUT)), ("WarmThroughput", St(&WARM_THROUGHPUT)),
    ]);
    static STREAM_SPECIFICATION: Structure = st("StreamSpecification", &[
        ("StreamEnabled", Bool), ("StreamViewType", Str),
    ]);
    static SSE_SPECIFICATION: Structure = st("SSESpecification", &[
        ("Enabled", Bool), ("SSEType", Str), ("KMSMasterKeyId", Str),
    ]);
    static TAG: Structure = st("Tag", &[("Key", Str), ("Value", Str)]);
    static VECTOR_ATTRIBUTE_DEFINITION: Structure = st("VectorAttributeDefinition", &[
        ("AttributeName", Str),
    ]);
    static SEARCH_SCHEMA_ELEMENT: Structure = st("SearchSchemaElement", &[
        ("AttributeName", Str), ("SearchSchemaElementType", Str),
    ]);
    static VECTOR_INDEX: Structure = st("VectorIndex", &[
        ("IndexName", Str), ("VectorAttribute", St(&VECTOR_ATTRIBUTE_DEFINITION)),
        ("SearchSchema", List(&St(&SEARCH_SCHEMA_ELEMENT))), ("Projection", St(&PROJECTION)),
        ("Dimensions", Long), ("DistanceFunction", Str),
    ]);
    static CREATE_TABLE_INPUT: Structure = st("CreateTableInput", &[
        ("AttributeDefinitions", List(&St(&ATTRIBUTE_DEFINITION))), ("TableName", Str),
        ("KeySchema", List(&St(&KEY_SCHEMA_ELEMENT))),
        ("LocalSecondaryIndexes", List(&St(&LOCAL_SECONDARY_INDEX))),
        ("GlobalSecondaryIndexes", List(&St(&GLOBAL_SECONDARY_INDEX))), ("BillingMode", Str),
        ("ProvisionedThroughput", St(&PROVISIONED_THROUGHPUT)),
        ("StreamSpecification", St(&STREAM_SPECIFICATION)),
        ("SSESpecification", St(&SSE_SPECIFICATION)), ("Tags", List(&St(&TAG))), ("TableClass", Str),
        ("DeletionProtectionEnabled", Bool), ("WarmThroughput", St(&WARM_THROUGHPUT)),
        ("ResourcePolicy", Str), ("OnDemandThroughput", St(&ON_DEMAND_THROUGHPUT)),
        ("GlobalTableSourceArn", Str), ("GlobalTableSettingsReplicationMode", Str),
        ("VectorIndexes", List(&St(&VECTOR_INDEX))),
    ]);
    static DESCRIBE_TABLE_INPUT: Structure = st("DescribeTableInput", &[("TableName", Str)]);
    static UPDATE_GLOBAL_SECONDARY_INDEX_ACTION: Structure = st("UpdateGlobalSecondaryIndexAction", &[
        ("IndexName", Str), ("ProvisionedThroughput", St(&PROVISIONED_THROUGHPUT)),
        ("OnDemandThroughput", St(&ON_DEMAND_THROUGHPUT)), ("WarmThroughput", St(&WARM_THROUGHPUT)),
    ]);
    static CREATE_GLOBAL_SECONDARY_INDEX_ACTION: Structure = st("CreateGlobalSecondaryIndexAction", &[
        ("IndexName", Str), ("KeySchema", List(&St(&KEY_SCHEMA_ELEMENT))),
        ("Projection", St(&PROJECTION)), ("ProvisionedThroughput", St(&PROVISIONED_THROUGHPUT)),
        ("OnDemandThroughput", St(&ON_DEMAND_THROUGHPUT)), ("WarmThroughput", St(&WARM_THROUGHPUT)),
    ]);
    static DELETE_GLOBAL_SECONDARY_INDEX_ACTION: Structure = st("DeleteGlobalSecondaryIndexAction", &[
        ("IndexName", Str),
    ]);
    static GLOBAL_SECONDARY_INDEX_UPDATE: Structure = st("GlobalSecondaryIndexUpdate", &[
        ("Update", St(&UPDATE_GLOBAL_SECONDARY_INDEX_ACTION)),
        ("Create", St(&CREATE_GLOBAL_SECONDARY_INDEX_ACTION)),
        ("Delete", St(&DELETE_GLOBAL_SECONDARY_INDEX_ACTION)),
    ]);
    static PROVISIONED_THROUGHPUT_OVERRIDE: Structure = st("ProvisionedThroughputOverride", &[
        ("ReadCapacityUnits", Long),
    ]);
    static ON_DEMAND_THROUGHPUT_OVERRIDE: Structure = st("OnDemandThroughputOverride", &[
        ("MaxReadRequestUnits", Long),
    ]);
    static REPLICA_GLOBAL_SECONDARY_INDEX: Structure = st("ReplicaGlobalSecondaryIndex", &[
        ("IndexName", Str), ("ProvisionedThroughputOverride", St(&PROVISIONED_THROUGHPUT_OVERRIDE)),
        ("OnDemandThroughputOverride", St(&ON_DEMAND_THROUGHPUT_OVERRIDE)),
    ]);
    static CREATE_REPLICATION_GROUP_MEMBER_ACTION: Structure = st("CreateReplicationGroupMemberAction", &[
        ("RegionName", Str), ("KMSMasterKeyId", Str),
        ("ProvisionedThroughputOverride", St(&PROVISIONED_THROUGHPUT_OVERRIDE)),
        ("OnDemandThroughputOverride", St(&ON_DEMAND_THROUGHPUT_OVERRIDE)),
        ("GlobalSecondaryIndexes", List(&St(&REPLICA_GLOBAL_SECONDARY_INDEX))),
        ("TableClassOverride", Str),
    ]);
    static UPDATE_REPLICATION_GROUP_MEMBER_ACTION: Structure = st("UpdateReplicationGroupMemberAction", &[
        ("RegionName", Str), ("KMSMasterKeyId", Str),
        ("ProvisionedThroughputOverride", St(&PROVISIONED_THROUGHPUT_OVERRIDE)),
        ("OnDemandThroughputOverride", St(&ON_DEMAND_THROUGHPUT_OVERRIDE)),
        ("GlobalSecondaryIndexes", List(&St(&REPLICA_GLOBAL_SECONDARY_INDEX))),
        ("TableClassOverride", Str),
    ]);
    static DELETE_REPLICATION_GROUP_MEMBER_ACTION: Structure = st("DeleteReplicationGroupMemberAction", &[
        ("RegionName", Str),
    ]);
    static DISASSOCIATE_REPLICATION_GROUP_MEMBER_ACTION: Structure = st("DisassociateReplicationGroupMemberAction", &[
        ("RegionName", Str), ("DisassociationMode", Str),
    ]);
    static REPLICATION_GROUP_UPDATE: Structure = st("ReplicationGroupUpdate", &[
        ("Create", St(&CREATE_REPLICATION_GROUP_MEMBER_ACTION)),
        ("Update", St(&UPDATE_REPLICATION_GROUP_MEMBER_ACTION)),
        ("Delete", St(&DELETE_REPLICATION_GROUP_MEMBER_ACTION)),
        ("Disassociate", St(&DISASSOCIATE_REPLICATION_GROUP_MEMBER_ACTION)),
    ]);
    static CREATE_GLOBAL_TABLE_WITNESS_GROUP_MEMBER_ACTION: Structure = st("CreateGlobalTableWitnessGroupMemberAction", &[
        ("RegionName", Str),
    ]);
    static DELETE_GLOBAL_TABLE_WITNESS_GROUP_MEMBER_ACTION: Structure = st("DeleteGlobalTableWitnessGroupMemberAction", &[
        ("RegionName", Str),
    ]);
    static GLOBAL_TABLE_WITNESS_GROUP_UPDATE: Structure = st("GlobalTableWitnessGroupUpdate", &[
        ("Create", St(&CREATE_GLOBAL_TABLE_WITNESS_GROUP_MEMBER_ACTION)),
        ("Delete", St(&DELETE_GLOBAL_TABLE_WITNESS_GROUP_MEMBER_ACTION)),
    ]);
    static CREATE_VECTOR_INDEX_ACTION: Structure = st("CreateVectorIndexAction", &[
        ("IndexName", Str), ("VectorAttribute", St(&VECTOR_ATTRIBUTE_DEFINITION)),
        ("SearchSchema", List(&St(&SEARCH_SCHEMA_ELEMENT))), ("Projection", St(&PROJECTION)),
        ("Dimensions", Long), ("DistanceFunction", Str),
    ]);
    static DELETE_VECTOR_INDEX_ACTION: Structure = st("DeleteVectorIndexAction", &[("IndexName", Str)]);
    static VECTOR_INDEX_UPDATE: Structure = st("VectorIndexUpdate", &[
        ("Create", St(&CREATE_VECTOR_INDEX_ACTION)), ("Delete", St(&DELETE_VECTOR_INDEX_ACTION)),
    ]);
    static UPDATE_TABLE_INPUT: Structure = st("UpdateTableInput", &[
        ("AttributeDefinitions", List(&St(&ATTRIBUTE_DEFINITION))), ("TableName", Str),
        ("BillingMode", Str), ("ProvisionedThroughput", St(&PROVISIONED_THROUGHPUT)),
        ("GlobalSecondaryIndexUpdates", List(&St(&GLOBAL_SECONDARY_INDEX_UPDATE))),
        ("StreamSpecification", St(&STREAM_SPECIFICATION)),
        ("SSESpecification", St(&SSE_SPECIFICATION)),
        ("ReplicaUpdates", List(&St(&REPLICATION_GROUP_UPDATE))), ("TableClass", Str),
        ("DeletionProtectionEnabled", Bool), ("MultiRegionConsistency", Str),
        ("GlobalTableWitnessUpdates", List(&St(&GLOBAL_TABLE_WITNESS_GROUP_UPDATE))),
        ("OnDemandThroughput", St(&ON_DEMAND_THROUGHPUT)), ("WarmThroughput", St(&WARM_THROUGHPUT)),
        ("GlobalTableSettingsReplicationMode", Str), ("DisassociationProtectionEnabled", Bool),
        ("VectorIndexUpdates", List(&St(&VECTOR_INDEX_UPDATE))),
    ]);
    static DELETE_TABLE_INPUT: Structure = st("DeleteTableInput", &[("TableName", Str)]);
    static LIST_TABLES_INPUT: Structure = st("ListTablesInput", &[
        ("ExclusiveStartTableName", Str), ("Limit", Int),
    ]);
    static TAG_RESOURCE_INPUT: Structure = st("TagResourceInput", &[
        ("ResourceArn", Str), ("Tags", List(&St(&TAG))),
    ]);
    static UNTAG_RESOURCE_INPUT: Structure = st("UntagResourceInput", &[
        ("ResourceArn", Str), ("TagKeys", List(&Str)),
    ]);
    static LIST_TAGS_OF_RESOURCE_INPUT: Structure = st("ListTagsOfResourceInput", &[
        ("ResourceArn", Str), ("NextToken", Str),
    ]);
    static TIME_TO_LIVE_SPECIFICATION: Structure = st("TimeToLiveSpecification", &[
        ("Enabled", Bool), ("AttributeName", Str),
    ]);
    static UPDATE_TIME_TO_LIVE_INPUT: Structure = st("UpdateTimeToLiveInput", &[
        ("TableName", Str), ("TimeToLiveSpecification", St(&TIME_TO_LIVE_SPECIFICATION)),
    ]);
    static DESCRIBE_TIME_TO_LIVE_INPUT: Structure = st("DescribeTimeToLiveInput", &[
        ("TableName", Str),
    ]);
    static POINT_IN_TIME_RECOVERY_SPECIFICATION: Structure = st("PointInTimeRecoverySpecification", &[
        ("PointInTimeRecoveryEnabled", Bool), ("RecoveryPeriodInDays", Int),
    ]);
    static UPDATE_CONTINUOUS_BACKUPS_INPUT: Structure = st("UpdateContinuousBackupsInput", &[
        ("TableName", Str),
        ("PointInTimeRecoverySpecification", St(&POINT_IN_TIME_RECOVERY_SPECIFICATION)),
    ]);
    static DESCRIBE_CONTINUOUS_BACKUPS_INPUT: Structure = st("DescribeContinuousBackupsInput", &[
        ("TableName", Str),
    ]);
    static PUT_RESOURCE_POLICY_INPUT: Structure = st("PutResourcePolicyInput", &[
        ("ResourceArn", Str), ("Policy", Str), ("ExpectedRevisionId", Str),
        ("ConfirmRemoveSelfResourceAccess", Bool),
    ]);
    static GET_RESOURCE_POLICY_INPUT: Structure = st("GetResourcePolicyInput", &[("ResourceArn", Str)]);
    static DELETE_RESOURCE_POLICY_INPUT: Structure = st("DeleteResourcePolicyInput", &[
        ("ResourceArn", Str), ("ExpectedRevisionId", Str),
    ]);
    static DESCRIBE_LIMITS_INPUT: Structure = st("DescribeLimitsInput", &[]);
    static LIST_STREAMS_INPUT: Structure = st("ListStreamsInput", &[
        ("TableName", Str), ("Limit", Int), ("ExclusiveStartStreamArn", Str),
    ]);
    static SHARD_FILTER: Structure = st("ShardFilter", &[("Type", Str), ("ShardId", Str)]);
    static DESCRIBE_STREAM_INPUT: Structure = st("DescribeStreamInput", &[
        ("StreamArn", Str), ("Limit", Int), ("ExclusiveStartShardId", Str),
        ("ShardFilter", St(&SHARD_FILTER)),
    ]);
    static GET_SHARD_ITERATOR_INPUT: Structure = st("GetShardIteratorInput", &[
        ("StreamArn", Str), ("ShardId", Str), ("ShardIteratorType", Str), ("SequenceNumber", Str),
    ]);
    static GET_RECORDS_INPUT: Structure = st("GetRecordsInput", &[
        ("ShardIterator", Str), ("Limit", Int),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use proptest::prelude::*;

    proptest! {
        /// What phase 1 passes as a blob is what the attribute value parser decodes, and the
        /// other way round.
        #[test]
        fn base64_agrees_with_the_decoder(s in "[A-Za-z0-9+/=!é]{0,13}") {
            prop_assert_eq!(base64(&s).is_ok(), STANDARD.decode(&s).is_ok(), "{}", s);
        }

        /// The same for quanta of 4, where padding and the last character's bits decide.
        #[test]
        fn base64_quanta_agree_with_the_decoder(s in "([A-Za-z0-9+/]{4}){0,2}[A-Za-z0-9+/=]{2}[A-Za-z=]{2}") {
            prop_assert_eq!(base64(&s).is_ok(), STANDARD.decode(&s).is_ok(), "{}", s);
        }

        #[test]
        fn encoded_bytes_pass(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert!(base64(&STANDARD.encode(&b)).is_ok());
        }
    }

    #[test]
    fn every_operation_parse_serves_has_a_shape() {
        for op in [
            "CreateTable",
            "DescribeTable",
            "UpdateTable",
            "TagResource",
            "UntagResource",
            "ListTagsOfResource",
            "DescribeLimits",
            "ListStreams",
            "DescribeStream",
            "GetShardIterator",
            "GetRecords",
            "ListTables",
            "DeleteTable",
            "UpdateTimeToLive",
            "DescribeTimeToLive",
            "UpdateContinuousBackups",
            "DescribeContinuousBackups",
            "ExecuteStatement",
            "BatchExecuteStatement",
            "ExecuteTransaction",
            "PutResourcePolicy",
            "GetResourcePolicy",
            "DeleteResourcePolicy",
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "TransactGetItems",
        ] {
            let input = model::input(op).unwrap_or_else(|| panic!("{op}"));
            assert_eq!(input.name, format!("{op}Input"));
        }
        assert!(model::input("Frobnicate").is_none());
    }

    #[test]
    fn java_names() {
        static SHAPE: Shape = Shape::Map(&Shape::List(&ATTRIBUTE_VALUE));
        assert_eq!(
            java_name(&SHAPE),
            "java.util.Map<java.lang.String, java.util.List<com.amazonaws.dynamodb.v20120810.AttributeValue>>"
        );
        assert_eq!(java_name(&Shape::Blob), "java.nio.ByteBuffer");
    }
}
