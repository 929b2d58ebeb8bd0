//! Request JSON into the table API's [`Request`]. The body has been read against the
//! operation's input shape first ([`crate::shape::check`], phase 1: DynamoDB's
//! `SerializationException` for a value of the wrong JSON kind, anywhere in the body), then
//! against the model's constraints ([`crate::constraint`], phase 2: every violation at once).
//! What is left here: the few checks of DynamoDB's that come between the constraints and the
//! engine (an empty index list, an index update of no kind, …), and, member by member, the
//! constraint messages (`1 validation error detected: Value null at 'tableName' …`) of the
//! operations phase 2 does not cover. Semantic checks (phase 3) stay in the engine. The kind
//! and constraint checks left here are a fallback that phases 1 and 2 have made unreachable
//! for the operations they cover.

use std::collections::BTreeMap;

use serde_json::Value;

use seedbed_engine::table::schema::{
    self, CreateTableInput, IndexInput, KeySchemaElement, Throughput,
};
use seedbed_engine::table::update::{GsiUpdate, UpdateTableInput};
use seedbed_engine::table::{legacy, value_rules, write, DynamoError};
use seedbed_engine::table::{
    AttributeUpdate, AttributeValue, ConditionCheck, DeleteItem, GetItem, Item, KeysAndAttributes,
    LegacyCondition, LegacyConditions, Names, PutItem, Request, ReturnCapacity, Search,
    TransactGet, TransactWrite, UpdateItem, Values, WriteCondition, WriteRequest,
};

use crate::constraint;
use crate::errors::WireError;
use crate::shape::{self, At, Shape};
use crate::tree::{Json, Obj};
use crate::wire;

type R<T> = Result<T, WireError>;

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn not_null(member: &str) -> WireError {
    WireError::Validation(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
        lower_first(member)
    ))
}

/// `v` where a value of `want` goes (a member; for scalars, an element reads the same).
fn wrong(v: &Json<'_>, want: &Shape) -> WireError {
    shape::mismatch(want, v, At::Member)
}

/// A structure with no members (the fallbacks' stand-in for a structure phase 1 checks).
static STRUCTURE: Shape = Shape::Structure(&shape::Structure {
    name: "Structure",
    members: &[],
});

/// A JSON object: the request body, or a structure in a list or map.
pub fn object<'a, 'b>(v: &'a Json<'b>) -> R<&'a Obj<'b>> {
    match v {
        Json::Object(m) => Ok(m),
        other => Err(shape::mismatch(&STRUCTURE, other, At::Element)),
    }
}

fn get<'a, 'b>(m: &'a Obj<'b>, k: &str) -> Option<&'a Json<'b>> {
    m.get(k).filter(|v| !v.is_null())
}

fn opt_str(m: &Obj<'_>, k: &str) -> R<Option<String>> {
    match get(m, k) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.to_string())),
        Some(v) => Err(wrong(v, &Shape::String)),
    }
}

fn req_str(m: &Obj<'_>, k: &str) -> R<String> {
    opt_str(m, k)?.ok_or_else(|| not_null(k))
}

fn table_name(m: &Obj<'_>) -> R<String> {
    let t = req_str(m, "TableName")?;
    schema::check_table_name_or_arn(&t, "tableName").map_err(WireError::Dynamo)?;
    Ok(t)
}

fn opt_bool(m: &Obj<'_>, k: &str) -> R<Option<bool>> {
    match get(m, k) {
        None => Ok(None),
        Some(v) => shape::boolean(v)
            .map(Some)
            .ok_or_else(|| wrong(v, &Shape::Boolean)),
    }
}

fn opt_u32(m: &Obj<'_>, k: &str) -> R<Option<u32>> {
    match get(m, k) {
        None => Ok(None),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(x) if x < 0 => Err(WireError::Validation(format!(
                "1 validation error detected: Value '{x}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {}",
                lower_first(k),
                if k == "Segment" { 0 } else { 1 }
            ))),
            Some(x) => Ok(Some(u32::try_from(x).unwrap_or(u32::MAX))),
            None => Err(wrong(&Json::Number(n.clone()), &Shape::Integer)),
        },
        Some(v) => Err(wrong(v, &Shape::Integer)),
    }
}

/// A StreamArn, checked for the shape of one (`seedbed_engine::table::streams::is_stream_arn`).
fn stream_arn(arn: String) -> R<String> {
    if seedbed_engine::table::streams::is_stream_arn(&arn) {
        Ok(arn)
    } else {
        Err(WireError::Validation("Invalid StreamArn".into()))
    }
}

/// ListStreams' Limit: 1 to 100 (DynamoDB Streams API reference).
fn stream_limit(m: &Obj<'_>) -> R<Option<u32>> {
    let limit = opt_u32(m, "Limit")?;
    match limit {
        Some(0) => Err(WireError::Validation(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1".into(),
        )),
        Some(n) if n > 100 => Err(WireError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
        ))),
        _ => Ok(limit),
    }
}

fn opt_u64(m: &Obj<'_>, k: &str) -> R<Option<u64>> {
    match get(m, k) {
        None => Ok(None),
        Some(Json::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| WireError::Validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to 1",
                lower_first(k)
            ))),
        Some(v) => Err(wrong(v, &Shape::Long)),
    }
}

fn opt_array<'a, 'b>(m: &'a Obj<'b>, k: &str) -> R<Option<&'a Vec<Json<'b>>>> {
    match get(m, k) {
        None => Ok(None),
        Some(Json::Array(a)) => Ok(Some(a)),
        // A list's messages do not depend on what it holds.
        Some(v) => Err(wrong(v, &Shape::List(&Shape::String))),
    }
}

/// A map or a structure member.
fn opt_map<'a, 'b>(m: &'a Obj<'b>, k: &str) -> R<Option<&'a Obj<'b>>> {
    match get(m, k) {
        None => Ok(None),
        Some(Json::Object(o)) => Ok(Some(o)),
        Some(v) => Err(wrong(v, &STRUCTURE)),
    }
}

fn opt_strings(m: &Obj<'_>, k: &str) -> R<Option<Vec<String>>> {
    opt_array(m, k)?
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    Json::String(s) => Ok(s.to_string()),
                    other => Err(wrong(other, &Shape::String)),
                })
                .collect()
        })
        .transpose()
}

fn opt_item(m: &Obj<'_>, k: &str) -> R<Option<Item>> {
    opt_map(m, k)?.map(wire::item_from_obj).transpose()
}

fn req_item(m: &Obj<'_>, k: &str) -> R<Item> {
    opt_item(m, k)?.ok_or_else(|| not_null(k))
}

fn names(m: &Obj<'_>) -> R<Option<Names>> {
    opt_map(m, "ExpressionAttributeNames")?
        .map(|o| {
            o.iter()
                .map(|(k, v)| match v {
                    Json::String(s) => Ok((k.to_string(), s.to_string())),
                    other => Err(wrong(other, &Shape::String)),
                })
                .collect()
        })
        .transpose()
}

fn values(m: &Obj<'_>) -> R<Option<Values>> {
    let Some(o) = opt_map(m, "ExpressionAttributeValues")? else {
        return Ok(None);
    };
    o.iter()
        .map(|(k, v)| match wire::value_from_tree(v) {
            Ok(x) => Ok((k.to_string(), x)),
            Err(WireError::Validation(msg)) => {
                // The maps' own rules (not empty, well-formed keys) come before their values'
                // (dynalite's tests, checked against DynamoDB): asked of the keys alone.
                let keys: Values = o
                    .iter()
                    .map(|(k, _)| (k.to_string(), AttributeValue::Null))
                    .collect();
                legacy::check_placeholders(names(m)?.as_ref(), Some(&keys))?;
                Err(WireError::Validation(format!(
                    "ExpressionAttributeValues contains invalid value: {msg} for key {k}"
                )))
            }
            Err(e) => Err(e),
        })
        .collect::<R<Values>>()
        .map(Some)
}

fn capacity(m: &Obj<'_>) -> R<ReturnCapacity> {
    Ok(match opt_str(m, "ReturnConsumedCapacity")?.as_deref() {
        None | Some("NONE") => ReturnCapacity::None,
        Some("TOTAL") => ReturnCapacity::Total,
        Some("INDEXES") => ReturnCapacity::Indexes,
        Some(other) => {
            return Err(WireError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
            )))
        }
    })
}

fn legacy_conditions(m: &Obj<'_>, k: &str) -> R<Option<LegacyConditions>> {
    opt_map(m, k)?
        .map(|o| {
            o.iter()
                .map(|(attr, c)| {
                    let c = object(c)?;
                    Ok((
                        attr.to_string(),
                        LegacyCondition {
                            exists: opt_bool(c, "Exists")?,
                            value: get(c, "Value").map(wire::value_from_tree).transpose()?,
                            operator: opt_str(c, "ComparisonOperator")?,
                            values: opt_array(c, "AttributeValueList")?
                                .map(|a| a.iter().map(wire::value_from_tree).collect::<R<Vec<_>>>())
                                .transpose()?,
                        },
                    ))
                })
                .collect()
        })
        .transpose()
}

fn write_condition(m: &Obj<'_>) -> R<WriteCondition> {
    Ok(WriteCondition {
        expression: opt_str(m, "ConditionExpression")?,
        expected: legacy_conditions(m, "Expected")?,
        conditional_operator: opt_str(m, "ConditionalOperator")?,
    })
}

fn get_item(m: &Obj<'_>) -> R<GetItem> {
    Ok(GetItem {
        table: table_name(m)?,
        key: req_item(m, "Key")?,
        consistent_read: opt_bool(m, "ConsistentRead")?.unwrap_or(false),
        projection: opt_str(m, "ProjectionExpression")?,
        attributes_to_get: opt_strings(m, "AttributesToGet")?,
        names: names(m)?,
        capacity: capacity(m)?,
        // Not a wire parameter: the server sets it for a first, memory-only try.
        memory_only: false,
    })
}

fn put_item(m: &Obj<'_>) -> R<PutItem> {
    Ok(PutItem {
        table: table_name(m)?,
        item: req_item(m, "Item")?,
        condition: write_condition(m)?,
        names: names(m)?,
        values: values(m)?,
        return_values: opt_str(m, "ReturnValues")?,
        return_values_on_condition_check_failure: opt_str(
            m,
            "ReturnValuesOnConditionCheckFailure",
        )?,
        capacity: capacity(m)?,
        collection_metrics: opt_str(m, "ReturnItemCollectionMetrics")?.as_deref() == Some("SIZE"),
    })
}

fn update_item(m: &Obj<'_>) -> R<UpdateItem> {
    let attribute_updates = opt_map(m, "AttributeUpdates")?
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let u = object(v)?;
                    Ok((
                        k.to_string(),
                        AttributeUpdate {
                            action: opt_str(u, "Action")?,
                            value: get(u, "Value").map(wire::value_from_tree).transpose()?,
                        },
                    ))
                })
                .collect::<R<BTreeMap<_, _>>>()
        })
        .transpose()?;
    Ok(UpdateItem {
        table: table_name(m)?,
        key: req_item(m, "Key")?,
        update: opt_str(m, "UpdateExpression")?,
        attribute_updates,
        condition: write_condition(m)?,
        names: names(m)?,
        values: values(m)?,
        return_values: opt_str(m, "ReturnValues")?,
        return_values_on_condition_check_failure: opt_str(
            m,
            "ReturnValuesOnConditionCheckFailure",
        )?,
        capacity: capacity(m)?,
        collection_metrics: opt_str(m, "ReturnItemCollectionMetrics")?.as_deref() == Some("SIZE"),
    })
}

fn delete_item(m: &Obj<'_>) -> R<DeleteItem> {
    Ok(DeleteItem {
        table: table_name(m)?,
        key: req_item(m, "Key")?,
        condition: write_condition(m)?,
        names: names(m)?,
        values: values(m)?,
        return_values: opt_str(m, "ReturnValues")?,
        return_values_on_condition_check_failure: opt_str(
            m,
            "ReturnValuesOnConditionCheckFailure",
        )?,
        capacity: capacity(m)?,
        collection_metrics: opt_str(m, "ReturnItemCollectionMetrics")?.as_deref() == Some("SIZE"),
    })
}

fn search(m: &Obj<'_>, query: bool) -> R<Search> {
    let filter_name = if query { "QueryFilter" } else { "ScanFilter" };
    // Read in DynamoDB's order (dynalite's tests, checked against DynamoDB): the legacy
    // filter's conditions whole (values, argument counts, types) and AttributesToGet's
    // duplicates — a Query's filter first, a Scan's attributes first — then the starting
    // key's values, and only then the key conditions and the placeholder values.
    let conditional_operator = opt_str(m, "ConditionalOperator")?;
    let filter = || -> R<Option<LegacyConditions>> {
        let f = legacy_conditions(m, filter_name)?;
        if let Some(f) = &f {
            legacy::conditions(f, conditional_operator.as_deref(), false)?;
        }
        Ok(f)
    };
    let attributes = || -> R<Option<Vec<String>>> {
        let a = opt_strings(m, "AttributesToGet")?;
        if let Some(a) = &a {
            legacy::attributes_to_get(a)?;
        }
        Ok(a)
    };
    let (legacy_filter, attributes_to_get) = if query {
        let f = filter()?;
        (f, attributes()?)
    } else {
        let a = attributes()?;
        (filter()?, a)
    };
    let exclusive_start_key = opt_item(m, "ExclusiveStartKey").map_err(start_key_error)?;
    Ok(Search {
        table: table_name(m)?,
        index: opt_str(m, "IndexName")?,
        key_condition: if query {
            opt_str(m, "KeyConditionExpression")?
        } else {
            None
        },
        key_conditions: if query {
            legacy_conditions(m, "KeyConditions")?
        } else {
            None
        },
        filter: opt_str(m, "FilterExpression")?,
        legacy_filter,
        conditional_operator,
        projection: opt_str(m, "ProjectionExpression")?,
        attributes_to_get,
        select: opt_str(m, "Select")?,
        names: names(m)?,
        values: values(m)?,
        forward: opt_bool(m, "ScanIndexForward")?.unwrap_or(true),
        limit: opt_u32(m, "Limit")?,
        exclusive_start_key,
        segment: if query { None } else { opt_u32(m, "Segment")? },
        total_segments: if query {
            None
        } else {
            opt_u32(m, "TotalSegments")?
        },
        consistent_read: opt_bool(m, "ConsistentRead")?.unwrap_or(false),
        capacity: capacity(m)?,
    })
}

/// A starting key's bad value, in DynamoDB's words: most faults are prefixed with `The
/// provided starting key is invalid: `, but not a number's, an empty number set or a set's
/// duplicates (dynalite's tests, checked against DynamoDB, send each).
fn start_key_error(e: WireError) -> WireError {
    match e {
        WireError::Validation(msg)
            if msg.starts_with("Supplied AttributeValue")
                || msg.ends_with("Null attribute value types must have the value of true")
                || msg == value_rules::EMPTY_SS
                || msg == value_rules::EMPTY_BS =>
        {
            WireError::Validation(format!("The provided starting key is invalid: {msg}"))
        }
        other => other,
    }
}

fn key_schema(v: Option<&Vec<Json<'_>>>, member: &str) -> R<Vec<KeySchemaElement>> {
    let a = v.ok_or_else(|| not_null(member))?;
    a.iter()
        .map(|e| {
            let e = object(e)?;
            Ok(KeySchemaElement {
                name: req_str(e, "AttributeName")?,
                key_type: req_str(e, "KeyType")?,
            })
        })
        .collect()
}

/// WarmThroughput: read and write units a second, either may be absent.
fn warm(m: &Obj<'_>) -> R<Option<(Option<u64>, Option<u64>)>> {
    opt_map(m, "WarmThroughput")?
        .map(|w| {
            Ok((
                opt_u64(w, "ReadUnitsPerSecond")?,
                opt_u64(w, "WriteUnitsPerSecond")?,
            ))
        })
        .transpose()
}

/// OnDemandThroughput: the read and write request-unit maxima, either may be absent (`-1` is
/// no maximum, so these are signed).
fn on_demand(m: &Obj<'_>) -> R<Option<(Option<i64>, Option<i64>)>> {
    let long = |o: &Obj<'_>, k: &str| -> R<Option<i64>> {
        match get(o, k) {
            None => Ok(None),
            Some(Json::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                WireError::Validation(format!(
                    "1 validation error detected: Value '{n}' at 'onDemandThroughput.{}' failed to satisfy constraint: Member must be a whole number",
                    lower_first(k)
                ))
            }),
            Some(v) => Err(wrong(v, &Shape::Long)),
        }
    };
    opt_map(m, "OnDemandThroughput")?
        .map(|o| {
            Ok((
                long(o, "MaxReadRequestUnits")?,
                long(o, "MaxWriteRequestUnits")?,
            ))
        })
        .transpose()
}

fn throughput(m: &Obj<'_>) -> R<Option<Throughput>> {
    opt_map(m, "ProvisionedThroughput")?
        .map(|t| {
            Ok(Throughput {
                read: opt_u64(t, "ReadCapacityUnits")?
                    .ok_or_else(|| not_null("provisionedThroughput.readCapacityUnits"))?,
                write: opt_u64(t, "WriteCapacityUnits")?
                    .ok_or_else(|| not_null("provisionedThroughput.writeCapacityUnits"))?,
            })
        })
        .transpose()
}

fn indexes(m: &Obj<'_>, k: &str) -> R<Vec<IndexInput>> {
    let Some(a) = opt_array(m, k)? else {
        return Ok(Vec::new());
    };
    if a.is_empty() {
        return Err(WireError::Validation(format!(
            "One or more parameter values were invalid: List of {k} is empty"
        )));
    }
    a.iter()
        .map(|ix| {
            let ix = object(ix)?;
            let proj = opt_map(ix, "Projection")?.ok_or_else(|| not_null("projection"))?;
            Ok(IndexInput {
                name: req_str(ix, "IndexName")?,
                key_schema: key_schema(opt_array(ix, "KeySchema")?, "keySchema")?,
                projection_type: opt_str(proj, "ProjectionType")?,
                non_key_attributes: opt_strings(proj, "NonKeyAttributes")?,
                throughput: throughput(ix)?,
            })
        })
        .collect()
}

fn create_table(m: &Obj<'_>) -> R<CreateTableInput> {
    let attrs =
        opt_array(m, "AttributeDefinitions")?.ok_or_else(|| not_null("attributeDefinitions"))?;
    let attributes = attrs
        .iter()
        .map(|a| {
            let a = object(a)?;
            Ok((req_str(a, "AttributeName")?, req_str(a, "AttributeType")?))
        })
        .collect::<R<Vec<_>>>()?;
    let tags = tags(m)?.unwrap_or_default();
    let stream = opt_map(m, "StreamSpecification")?
        .map(|s| {
            Ok::<_, WireError>((
                opt_bool(s, "StreamEnabled")?.unwrap_or(false),
                opt_str(s, "StreamViewType")?.unwrap_or_default(),
            ))
        })
        .transpose()?;
    Ok(CreateTableInput {
        name: req_str(m, "TableName")?,
        key_schema: key_schema(opt_array(m, "KeySchema")?, "keySchema")?,
        attributes,
        lsis: indexes(m, "LocalSecondaryIndexes")?,
        gsis: indexes(m, "GlobalSecondaryIndexes")?,
        billing_mode: opt_str(m, "BillingMode")?,
        throughput: throughput(m)?,
        tags,
        stream,
        deletion_protection: opt_bool(m, "DeletionProtectionEnabled")?.unwrap_or(false),
        table_class: opt_str(m, "TableClass")?,
        warm: warm(m)?,
        on_demand: on_demand(m)?,
    })
}

/// A `Tags` list of `{"Key", "Value"}`.
fn tags(m: &Obj<'_>) -> R<Option<Vec<(String, String)>>> {
    opt_array(m, "Tags")?
        .map(|a| {
            a.iter()
                .map(|t| {
                    let t = object(t)?;
                    Ok((req_str(t, "Key")?, req_str(t, "Value")?))
                })
                .collect::<R<Vec<_>>>()
        })
        .transpose()
}

/// UpdateTable's members that change what this server does not have: refused by name.
const UPDATE_TABLE_UNSERVED: [&str; 3] = [
    "ReplicaUpdates",
    "SSESpecification",
    "MultiRegionConsistency",
];

fn update_table(m: &Obj<'_>) -> R<UpdateTableInput> {
    let attributes = opt_array(m, "AttributeDefinitions")?
        .map(|attrs| {
            attrs
                .iter()
                .map(|a| {
                    let a = object(a)?;
                    Ok((req_str(a, "AttributeName")?, req_str(a, "AttributeType")?))
                })
                .collect::<R<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let stream = opt_map(m, "StreamSpecification")?
        .map(|s| {
            Ok::<_, WireError>((
                opt_bool(s, "StreamEnabled")?
                    .ok_or_else(|| not_null("streamSpecification.streamEnabled"))?,
                opt_str(s, "StreamViewType")?,
            ))
        })
        .transpose()?;
    let gsi_updates = opt_array(m, "GlobalSecondaryIndexUpdates")?
        .map(|a| {
            a.iter()
                .map(|u| {
                    let u = object(u)?;
                    let actions = ["Create", "Delete", "Update"]
                        .iter()
                        .filter(|k| get(u, k).is_some())
                        .count();
                    if actions > 1 {
                        return Err(WireError::Validation(
                            "One or more parameter values were invalid: only one of Create, Update or Delete may be given in one GlobalSecondaryIndexUpdate".into(),
                        ));
                    }
                    if let Some(c) = opt_map(u, "Create")? {
                        let proj =
                            opt_map(c, "Projection")?.ok_or_else(|| not_null("projection"))?;
                        return Ok(GsiUpdate::Create(IndexInput {
                            name: req_str(c, "IndexName")?,
                            key_schema: key_schema(opt_array(c, "KeySchema")?, "keySchema")?,
                            projection_type: opt_str(proj, "ProjectionType")?,
                            non_key_attributes: opt_strings(proj, "NonKeyAttributes")?,
                            throughput: throughput(c)?,
                        }));
                    }
                    if let Some(d) = opt_map(u, "Delete")? {
                        return Ok(GsiUpdate::Delete(req_str(d, "IndexName")?));
                    }
                    if let Some(x) = opt_map(u, "Update")? {
                        return Ok(GsiUpdate::Update(req_str(x, "IndexName")?, throughput(x)?));
                    }
                    Err(WireError::Validation(
                        "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null".into(),
                    ))
                })
                .collect::<R<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(UpdateTableInput {
        name: req_str(m, "TableName")?,
        attributes,
        billing_mode: opt_str(m, "BillingMode")?,
        throughput: throughput(m)?,
        stream,
        deletion_protection: opt_bool(m, "DeletionProtectionEnabled")?,
        table_class: opt_str(m, "TableClass")?,
        warm: warm(m)?,
        on_demand: on_demand(m)?,
        gsi_updates,
        unsupported: UPDATE_TABLE_UNSERVED
            .iter()
            .filter(|k| get(m, k).is_some())
            .map(|k| k.to_string())
            .collect(),
    })
}

fn keys_and_attributes(v: &Json<'_>) -> R<KeysAndAttributes> {
    let m = object(v)?;
    let keys = opt_array(m, "Keys")?.ok_or_else(|| not_null("keys"))?;
    Ok(KeysAndAttributes {
        keys: keys.iter().map(wire::item_from_tree).collect::<R<_>>()?,
        consistent_read: opt_bool(m, "ConsistentRead")?.unwrap_or(false),
        projection: opt_str(m, "ProjectionExpression")?,
        attributes_to_get: opt_strings(m, "AttributesToGet")?,
        names: names(m)?,
    })
}

fn transact_write(v: &Json<'_>) -> R<TransactWrite> {
    let m = object(v)?;
    let present: Vec<&str> = ["ConditionCheck", "Put", "Delete", "Update"]
        .into_iter()
        .filter(|k| get(m, k).is_some())
        .collect();
    if present.len() != 1 {
        return Err(WireError::Validation(
            "TransactItems can only contain one of Check, Put, Update or Delete".into(),
        ));
    }
    // `present[0]` was found above; `None` cannot happen, and reads as `null` would.
    let inner = match get(m, present[0]) {
        Some(v) => object(v)?,
        None => return Err(wrong(&Json::Null, &STRUCTURE)),
    };
    Ok(match present[0] {
        "Put" => TransactWrite::Put(put_item(inner)?),
        "Delete" => TransactWrite::Delete(delete_item(inner)?),
        "Update" => TransactWrite::Update(update_item(inner)?),
        _ => TransactWrite::Check(ConditionCheck {
            table: table_name(inner)?,
            key: req_item(inner, "Key")?,
            condition: req_str(inner, "ConditionExpression")?,
            names: names(inner)?,
            values: values(inner)?,
            return_values_on_condition_check_failure: opt_str(
                inner,
                "ReturnValuesOnConditionCheckFailure",
            )?,
        }),
    })
}

/// The operation named by an `X-Amz-Target` header (`DynamoDB_20120810.GetItem` → `GetItem`).
pub fn operation_of(target: &str) -> Option<&str> {
    let dynamodb = target
        .strip_prefix("DynamoDB_20120810.")
        .filter(|op| !STREAMS_OPERATIONS.contains(op));
    dynamodb.or_else(|| {
        // DynamoDB Streams: its own target prefix (and endpoint, at AWS), the same protocol.
        target
            .strip_prefix("DynamoDBStreams_20120810.")
            .filter(|op| STREAMS_OPERATIONS.contains(op))
    })
}

/// The operations of DynamoDB Streams.
const STREAMS_OPERATIONS: [&str; 4] = [
    "ListStreams",
    "DescribeStream",
    "GetShardIterator",
    "GetRecords",
];

/// One PartiQL statement with its parameters (ExecuteStatement, and each of a batch's or a
/// transaction's).
fn statement(m: &Obj<'_>) -> R<seedbed_engine::table::partiql::Statement> {
    let parameters = match opt_array(m, "Parameters")? {
        None => Vec::new(),
        Some(a) => a.iter().map(wire::value_from_tree).collect::<R<Vec<_>>>()?,
    };
    Ok(seedbed_engine::table::partiql::Statement {
        statement: req_str(m, "Statement")?,
        parameters,
        limit: opt_u32(m, "Limit")?,
        next_token: opt_str(m, "NextToken")?,
        consistent_read: opt_bool(m, "ConsistentRead")?.unwrap_or(false),
    })
}

fn statements(m: &Obj<'_>, k: &str) -> R<Vec<seedbed_engine::table::partiql::Statement>> {
    opt_array(m, k)?
        .ok_or_else(|| not_null(k))?
        .iter()
        .map(|v| statement(object(v)?))
        .collect()
}

/// Which parameters a body carries (present and not null), for the table API's
/// [`legacy::check_styles`]: DynamoDB refuses mixed styles, and placeholder maps without an
/// expression, before it reads the attribute values the typed parse reads.
fn styles(operation: &str, m: &Obj<'_>) -> R<()> {
    let has = |m: &Obj<'_>, p: &str| get(m, p).is_some();
    match operation {
        "PutItem" | "DeleteItem" | "UpdateItem" | "GetItem" | "Query" | "Scan" => {
            legacy::check_styles(operation, |p| has(m, p))?
        }
        "BatchGetItem" => {
            for (_, r) in opt_map(m, "RequestItems")?
                .into_iter()
                .flat_map(|o| o.iter())
            {
                if let Json::Object(r) = r {
                    legacy::check_styles(operation, |p| has(r, p))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parse the body of `operation`, given as a `Value`.
pub fn request(operation: &str, body: &Value) -> R<Request> {
    request_tree(operation, &Json::from(body))
}

/// Parse the body of `operation`, read into a [`Json`] tree.
pub fn request_tree(operation: &str, body: &Json<'_>) -> R<Request> {
    // Phase 1: the whole body against the operation's input shape, before any constraint.
    shape::check(operation, body)?;
    // Phase 2: every constraint of the model at once, for the operations it covers.
    constraint::check(operation, body)?;
    let m = object(body)?;
    // Phase 3, the parameters' styles, comes before any attribute value is read. The table
    // API checks them first thing, so the body is asked only when reading it fails: a
    // style error found then is the one DynamoDB reports.
    typed(operation, m).map_err(|e| match (operation, styles(operation, m)) {
        (_, Err(style)) => style,
        // A bad value found while reading is worded as the table API words it for these three.
        // A bad value found while reading is worded as the table API words it for these three.
        ("PutItem" | "UpdateItem" | "DeleteItem", Ok(())) => match e {
            WireError::Validation(msg) => WireError::Validation(
                write::single_write_wording(DynamoError::validation(msg)).message,
            ),
            e => e,
        },
        (_, Ok(())) => e,
    })
}

/// Phase 4: the typed request, its attribute values read and checked on the way.
fn typed(operation: &str, m: &Obj<'_>) -> R<Request> {
    Ok(match operation {
        "CreateTable" => Request::CreateTable(create_table(m)?),
        "DescribeTable" => Request::DescribeTable(req_str(m, "TableName")?),
        "UpdateTable" => Request::UpdateTable(update_table(m)?),
        "TagResource" => Request::TagResource(
            req_str(m, "ResourceArn")?,
            tags(m)?.ok_or_else(|| not_null("tags"))?,
        ),
        "UntagResource" => Request::UntagResource(
            req_str(m, "ResourceArn")?,
            opt_strings(m, "TagKeys")?.ok_or_else(|| not_null("tagKeys"))?,
        ),
        "ListTagsOfResource" => Request::ListTagsOfResource(req_str(m, "ResourceArn")?),
        "DescribeLimits" => Request::DescribeLimits,
        // A StreamArn that is not one is refused before IAM is asked about it (DynamoDB:
        // ValidationException "Invalid StreamArn"; ScyllaDB's Alternator tests, run against
        // DynamoDB, and the AWS SDK for JavaScript's integration tests).
        "ListStreams" => Request::ListStreams(
            opt_str(m, "TableName")?,
            stream_limit(m)?,
            opt_str(m, "ExclusiveStartStreamArn")?
                .map(stream_arn)
                .transpose()?,
        ),
        "DescribeStream" => Request::DescribeStream(
            stream_arn(req_str(m, "StreamArn")?)?,
            opt_str(m, "ExclusiveStartShardId")?,
        ),
        "GetShardIterator" => Request::GetShardIterator(
            stream_arn(req_str(m, "StreamArn")?)?,
            req_str(m, "ShardId")?,
            req_str(m, "ShardIteratorType")?,
            opt_str(m, "SequenceNumber")?,
        ),
        "GetRecords" => {
            // An iterator that is none of ours is refused before IAM is asked about the
            // stream it would name.
            let it = req_str(m, "ShardIterator")?;
            if seedbed_engine::table::streams::iterator_arn(&it).is_none() {
                return Err(WireError::Validation(format!(
                    "Invalid ShardIterator: {it}"
                )));
            }
            Request::GetRecords(it, opt_u32(m, "Limit")?)
        }
        "ListTables" => {
            Request::ListTables(opt_str(m, "ExclusiveStartTableName")?, opt_u32(m, "Limit")?)
        }
        "DeleteTable" => Request::DeleteTable(req_str(m, "TableName")?),
        "UpdateTimeToLive" => {
            let spec = opt_map(m, "TimeToLiveSpecification")?
                .ok_or_else(|| not_null("timeToLiveSpecification"))?;
            Request::UpdateTimeToLive(
                req_str(m, "TableName")?,
                opt_str(spec, "AttributeName")?
                    .ok_or_else(|| not_null("timeToLiveSpecification.attributeName"))?,
                opt_bool(spec, "Enabled")?
                    .ok_or_else(|| not_null("timeToLiveSpecification.enabled"))?,
            )
        }
        "DescribeTimeToLive" => Request::DescribeTimeToLive(req_str(m, "TableName")?),
        // RecoveryPeriodInDays is accepted and not kept: Seedbed keeps no history to recover.
        "UpdateContinuousBackups" => {
            let spec = opt_map(m, "PointInTimeRecoverySpecification")?
                .ok_or_else(|| not_null("pointInTimeRecoverySpecification"))?;
            Request::UpdateContinuousBackups(
                req_str(m, "TableName")?,
                opt_bool(spec, "PointInTimeRecoveryEnabled")?.ok_or_else(|| {
                    not_null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
                })?,
            )
        }
        "DescribeContinuousBackups" => Request::DescribeContinuousBackups(req_str(m, "TableName")?),
        "ExecuteStatement" => Request::ExecuteStatement(statement(m)?),
        "BatchExecuteStatement" => Request::BatchExecuteStatement(statements(m, "Statements")?),
        "ExecuteTransaction" => Request::ExecuteTransaction(
            statements(m, "TransactStatements")?,
            opt_str(m, "ClientRequestToken")?,
        ),
        // ConfirmRemoveSelfResourceAccess is accepted and not checked: this server does not
        // refuse a policy that would deny its caller further policy changes.
        "PutResourcePolicy" => Request::PutResourcePolicy(
            req_str(m, "ResourceArn")?,
            req_str(m, "Policy")?,
            opt_str(m, "ExpectedRevisionId")?,
        ),
        "GetResourcePolicy" => Request::GetResourcePolicy(req_str(m, "ResourceArn")?),
        "DeleteResourcePolicy" => Request::DeleteResourcePolicy(
            req_str(m, "ResourceArn")?,
            opt_str(m, "ExpectedRevisionId")?,
        ),
        "GetItem" => Request::GetItem(get_item(m)?),
        "PutItem" => Request::PutItem(put_item(m)?),
        "UpdateItem" => Request::UpdateItem(update_item(m)?),
        "DeleteItem" => Request::DeleteItem(delete_item(m)?),
        "Query" => Request::Query(search(m, true)?),
        "Scan" => Request::Scan(search(m, false)?),
        "BatchGetItem" => {
            let items = opt_map(m, "RequestItems")?.ok_or_else(|| not_null("requestItems"))?;
            let mut r = BTreeMap::new();
            for (t, v) in items.iter() {
                schema::check_table_name_or_arn(t, "requestItems.key")
                    .map_err(WireError::Dynamo)?;
                r.insert(t.to_string(), keys_and_attributes(v)?);
            }
            Request::BatchGetItem(r, capacity(m)?)
        }
        "BatchWriteItem" => {
            let items = opt_map(m, "RequestItems")?.ok_or_else(|| not_null("requestItems"))?;
            let mut r = BTreeMap::new();
            for (t, v) in items.iter() {
                schema::check_table_name_or_arn(t, "requestItems.key")
                    .map_err(WireError::Dynamo)?;
                let reqs = match v {
                    Json::Array(a) => a,
                    other => {
                        return Err(shape::mismatch(
                            &Shape::List(&STRUCTURE),
                            other,
                            At::Element,
                        ))
                    }
                };
                let mut out = Vec::with_capacity(reqs.len());
                for w in reqs {
                    let w = object(w)?;
                    match (opt_map(w, "PutRequest")?, opt_map(w, "DeleteRequest")?) {
                        (Some(p), None) => out.push(WriteRequest::Put(req_item(p, "Item")?)),
                        (None, Some(d)) => out.push(WriteRequest::Delete(req_item(d, "Key")?)),
                        _ => {
                            return Err(WireError::Validation(
                                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".into(),
                            ))
                        }
                    }
                }
                r.insert(t.to_string(), out);
            }
            Request::BatchWriteItem(r, capacity(m)?)
        }
        "TransactWriteItems" => {
            let a = opt_array(m, "TransactItems")?.ok_or_else(|| not_null("transactItems"))?;
            Request::TransactWriteItems(
                a.iter().map(transact_write).collect::<R<_>>()?,
                opt_str(m, "ClientRequestToken")?,
                capacity(m)?,
            )
        }
        "TransactGetItems" => {
            let a = opt_array(m, "TransactItems")?.ok_or_else(|| not_null("transactItems"))?;
            let gets = a
                .iter()
                .map(|v| {
                    let g = object(v)?;
                    let g =
                        opt_map(g, "Get")?.ok_or_else(|| not_null("transactItems.member.get"))?;
                    Ok(TransactGet {
                        table: table_name(g)?,
                        key: req_item(g, "Key")?,
                        projection: opt_str(g, "ProjectionExpression")?,
                        names: names(g)?,
                    })
                })
                .collect::<R<_>>()?;
            Request::TransactGetItems(gets, capacity(m)?)
        }
        _ => return Err(WireError::UnknownOperation),
    })
}
