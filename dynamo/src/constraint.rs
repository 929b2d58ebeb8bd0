//! Phase 2 of a request (see [`crate::shape`]): constraint validation of what phase 1 read.
//!
//! DynamoDB checks every member of the request against the constraints of its API model —
//! required members, lengths of strings, lists and maps, ranges of numbers, patterns, enums —
//! and reports *all* violations at once:
//!
//! ```text
//! 3 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: Member
//! must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'tableName' failed to
//! satisfy constraint: Member must have length greater than or equal to 3; Value null at 'key'
//! failed to satisfy constraint: Member must not be null
//! ```
//!
//! Member paths are lowerCamel and nested, list positions 1-based and map keys as they are
//! (`keySchema.1.member.attributeName`, `requestItems.abc.member.keys`). Values render as
//! Java's `toString` would: `'abc'`, `'5'`, `'[a, b]'`, `'{a=…}'`, and `null`.
//!
//! The constraints are those of DynamoDB's model (botocore's `dynamodb/2012-08-10/service-2.json`)
//! where DynamoDB's observed answers agree; where they do not, the observed answers win
//! (dynalite's test suite, checked against DynamoDB): a table name is `[a-zA-Z0-9_.-]+` of 3 to
//! 255 characters (or a table's ARN), CreateTable's AttributeDefinitions and KeySchema and
//! UpdateTable's index updates' ProvisionedThroughput are required, UpdateTimeToLive's
//! TimeToLiveSpecification is not, nor are the TableNames of TransactWriteItems' items; an
//! index's KeySchema has no maximum (multi-attribute keys), a table's has two. Before the
//! constraints, the table operations (CreateTable, DeleteTable, DescribeTable, UpdateTable,
//! DescribeTimeToLive, UpdateTimeToLive) answer a missing TableName, or one of the wrong
//! length, in their own words, and the tag operations a missing ResourceArn with `Invalid
//! TableArn`. Enum values are
//! listed in the order DynamoDB lists them (a Java hash set's).
//!
//! DynamoDB lists the first ten violations only (in its order of the members, which matters
//! for which ten: `member_order`).
//!
//! [`check`] walks the body guided by the shape tables and [`rules`]; on the success path it
//! allocates nothing. AttributeValues are not descended into: they have no constraints here.

use crate::errors::WireError;
use crate::shape::{self, Shape, Structure};
use crate::tree::Json;

/// One constraint of a member.
#[derive(Debug)]
pub enum Rule {
    /// The member must be present (and not `null`).
    Required,
    /// A string's (UTF-16) length, a list's or a map's size at least this.
    MinLen(usize),
    /// … at most this.
    MaxLen(usize),
    /// A number at least this.
    Min(i64),
    /// A number at most this.
    Max(i64),
    /// `[a-zA-Z0-9_.-]+`.
    Pattern,
    /// One of these strings, listed in this order in the message.
    Enum(&'static [&'static str]),
    /// A table name (pattern, 3 to 255 characters) or a table's ARN whose name is one.
    TableName,
    /// A map whose keys are table names (one violation for the map, whichever key fails).
    TableNameKeys,
    /// A map whose values are lists of this many elements (one violation for the map).
    ValueLen(usize, usize),
}

const PATTERN: &str = "[a-zA-Z0-9_.-]+";

const CAPACITY: &[&str] = &["INDEXES", "TOTAL", "NONE"];
const METRICS: &[&str] = &["SIZE", "NONE"];
const RETURN_VALUES: &[&str] = &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];
const ON_FAILURE: &[&str] = &["ALL_OLD", "NONE"];
const CONDITIONAL: &[&str] = &["OR", "AND"];
const SELECT: &[&str] = &[
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];
const COMPARISON: &[&str] = &[
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
];
const ACTION: &[&str] = &["ADD", "PUT", "DELETE"];
const ATTRIBUTE_TYPE: &[&str] = &["B", "N", "S"];
const KEY_TYPE: &[&str] = &["HASH", "RANGE"];
const BILLING: &[&str] = &["PROVISIONED", "PAY_PER_REQUEST"];
const PROJECTION: &[&str] = &["ALL", "INCLUDE", "KEYS_ONLY"];
const VIEW_TYPE: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

use Rule::*;

const REQUIRED_TABLE: &[Rule] = &[Required, TableName];
const INDEX_NAME: &[Rule] = &[MinLen(3), MaxLen(255), Pattern];
const REQUIRED_INDEX_NAME: &[Rule] = &[Required, MinLen(3), MaxLen(255), Pattern];
const KEY_SCHEMA: &[Rule] = &[Required, MinLen(1), MaxLen(2)];

/// The constraints of member `member` of structure `structure` (by their model names).
pub fn rules(structure: &str, member: &str) -> &'static [Rule] {
    match (structure, member) {
        // An item operation's empty name is answered before every constraint ([`check`]);
        // the model's `TableArn` allows one character, but nothing observed says DynamoDB
        // takes a name shorter than three.
        (
            "GetItemInput"
            | "PutItemInput"
            | "UpdateItemInput"
            | "DeleteItemInput"
            | "QueryInput"
            | "ScanInput"
            | "CreateTableInput"
            | "DescribeTableInput"
            | "UpdateTableInput"
            | "DeleteTableInput"
            | "UpdateTimeToLiveInput"
            | "DescribeTimeToLiveInput",
            "TableName",
        ) => REQUIRED_TABLE,
        ("ListTablesInput", "ExclusiveStartTableName") => &[TableName],
        ("ListTablesInput", "Limit") => &[Min(1), Max(100)],
        (
            "GetItemInput" | "UpdateItemInput" | "DeleteItemInput" | "DeleteRequest" | "Delete"
            | "Update" | "ConditionCheck",
            "Key",
        ) => &[Required],
        ("PutItemInput" | "PutRequest" | "Put", "Item") => &[Required],
        (_, "AttributesToGet") => &[MinLen(1)],
        (_, "ReturnConsumedCapacity") => &[Enum(CAPACITY)],
        (_, "ReturnItemCollectionMetrics") => &[Enum(METRICS)],
        (_, "ReturnValues") => &[Enum(RETURN_VALUES)],
        (_, "ReturnValuesOnConditionCheckFailure") => &[Enum(ON_FAILURE)],
        (_, "ConditionalOperator") => &[Enum(CONDITIONAL)],
        ("QueryInput" | "ScanInput", "Select") => &[Enum(SELECT)],
        ("QueryInput" | "ScanInput", "IndexName") => INDEX_NAME,
        ("QueryInput" | "ScanInput", "Limit") => &[Min(1)],
        ("ScanInput", "Segment") => &[Min(0), Max(999_999)],
        ("ScanInput", "TotalSegments") => &[Min(1), Max(1_000_000)],
        ("Condition", "ComparisonOperator") => &[Required, Enum(COMPARISON)],
        ("ExpectedAttributeValue", "ComparisonOperator") => &[Enum(COMPARISON)],
        ("AttributeValueUpdate", "Action") => &[Enum(ACTION)],
        ("BatchGetItemInput", "RequestItems") => &[Required, MinLen(1), MaxLen(100), TableNameKeys],
        ("KeysAndAttributes", "Keys") => &[Required, MinLen(1), MaxLen(100)],
        ("BatchWriteItemInput", "RequestItems") => &[
            Required,
            MinLen(1),
            MaxLen(25),
            TableNameKeys,
            ValueLen(1, 25),
        ],
        // The model's 100 (dynalite's tests, from before DynamoDB raised it, say 25).
        ("TransactWriteItemsInput", "TransactItems") => &[Required, MinLen(1), MaxLen(100)],
        ("TransactWriteItemsInput", "ClientRequestToken") => &[MinLen(1), MaxLen(36)],
        ("CreateTableInput", "AttributeDefinitions") => &[Required],
        ("CreateTableInput", "KeySchema") => KEY_SCHEMA,
        ("CreateTableInput" | "UpdateTableInput", "BillingMode") => &[Enum(BILLING)],
        ("AttributeDefinition", "AttributeName") => &[Required, MinLen(1), MaxLen(255)],
        ("AttributeDefinition", "AttributeType") => &[Required, Enum(ATTRIBUTE_TYPE)],
        ("KeySchemaElement", "AttributeName") => &[Required, MinLen(1), MaxLen(255)],
        ("KeySchemaElement", "KeyType") => &[Required, Enum(KEY_TYPE)],
        (
            "LocalSecondaryIndex"
            | "GlobalSecondaryIndex"
            | "CreateGlobalSecondaryIndexAction"
            | "UpdateGlobalSecondaryIndexAction"
            | "DeleteGlobalSecondaryIndexAction",
            "IndexName",
        ) => REQUIRED_INDEX_NAME,
        // An index's key may have up to four attributes (multi-attribute keys): the model's
        // KeySchema has no maximum; a table's has two (dynalite's createTable.js).
        (
            "LocalSecondaryIndex" | "GlobalSecondaryIndex" | "CreateGlobalSecondaryIndexAction",
            "KeySchema",
        ) => &[Required, MinLen(1)],
        (
            "LocalSecondaryIndex" | "GlobalSecondaryIndex" | "CreateGlobalSecondaryIndexAction",
            "Projection",
        ) => &[Required],
        ("UpdateGlobalSecondaryIndexAction", "ProvisionedThroughput") => &[Required],
        ("Projection", "ProjectionType") => &[Enum(PROJECTION)],
        ("Projection", "NonKeyAttributes") => &[MinLen(1), MaxLen(20)],
        ("ProvisionedThroughput", "ReadCapacityUnits" | "WriteCapacityUnits") => {
            &[Required, Min(1)]
        }
        ("StreamSpecification", "StreamEnabled") => &[Required],
        ("StreamSpecification", "StreamViewType") => &[Enum(VIEW_TYPE)],
        ("TimeToLiveSpecification", "Enabled" | "AttributeName") => &[Required],
        ("TagResourceInput", "Tags") => &[Required],
        ("UntagResourceInput", "TagKeys") => &[Required],
        _ => &[],
    }
}

/// The operations whose TableName DynamoDB checks on its own, before the other constraints.
/// (CreateTable words a missing name so too, but its length as a constraint:
/// [`table_name_first`].)
const TABLE_OPERATIONS: [&str; 6] = [
    "CreateTable",
    "DeleteTable",
    "DescribeTable",
    "UpdateTable",
    "DescribeTimeToLive",
    "UpdateTimeToLive",
];

/// The tag operations.
const TAG_OPERATIONS: [&str; 3] = ["TagResource", "UntagResource", "ListTagsOfResource"];

/// The operations this pass checks (those whose constraints are in [`rules`]).
const OPERATIONS: [&str; 19] = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateTable",
    "UpdateTable",
    "DeleteTable",
    "DescribeTable",
    "ListTables",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
    "TransactWriteItems",
];

/// Phase 2 for `operation`'s `body` (which phase 1 has read): every constraint violation, in
/// one `ValidationException`. Operations not in this pass pass.
pub fn check(operation: &str, body: &Json<'_>) -> Result<(), WireError> {
    if !OPERATIONS.contains(&operation) {
        return Ok(());
    }
    let (Some(input), Json::Object(_)) = (shape::input(operation), body) else {
        return Ok(());
    };
    if TABLE_OPERATIONS.contains(&operation) {
        table_name_first(operation, body)?;
    }
    // An item operation's empty TableName is the only fault reported, in the words of
    // DynamoDB's newer validation layer (the DynamoDB Conformance Suite's captures of 2026:
    // PutItem, UpdateItem, DeleteItem with TableName '' — alone, or beside a bad
    // ReturnValues — in every region sampled).
    if ITEM_OPERATIONS.contains(&operation) {
        if let Json::Object(o) = body {
            if matches!(o.get("TableName"), Some(Json::String(s)) if s.is_empty()) {
                return Err(WireError::Validation(
                    "1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
                ));
            }
        }
    }
    // BatchGetItem and BatchWriteItem with no tables (the captures of 2026: most regions).
    if let ("BatchGetItem" | "BatchWriteItem", Json::Object(o)) = (operation, body) {
        if matches!(o.get("RequestItems"), Some(Json::Object(m)) if m.is_empty()) {
            return Err(WireError::Validation(format!(
                "The requestItems parameter is required for {operation}"
            )));
        }
    }
    // The tag operations without a ResourceArn: DynamoDB's words, before the constraints
    // (dynalite's tagResource.js, untagResource.js, listTagsOfResource.js).
    if TAG_OPERATIONS.contains(&operation) {
        if let Json::Object(o) = body {
            if o.get("ResourceArn").is_none_or(Json::is_null) {
                return Err(WireError::Validation("Invalid TableArn".into()));
            }
        }
    }
    let mut errors = Vec::new();
    structure(input, body, &Path::Root, &mut errors);
    // DynamoDB reports the first ten.
    errors.truncate(MAX_REPORTED);
    match errors.len() {
        0 => Ok(()),
        n => Err(WireError::Validation(format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            errors.join("; ")
        ))),
    }
}

/// How many violations DynamoDB lists at most (dynalite's createTable.js: nine empty
/// LocalSecondaryIndexes, 27 violations, "10 validation errors detected").
const MAX_REPORTED: usize = 10;

/// The order DynamoDB checks a structure's members in, where it decides which violations are
/// among the first ten (dynalite's query.js and scan.js, "incorrect attributes": eleven
/// violations each); the model's order elsewhere.
fn member_order(structure: &str) -> Option<&'static [&'static str]> {
    match structure {
        "QueryInput" => Some(&[
            "Select",
            "IndexName",
            "ReturnConsumedCapacity",
            "QueryFilter",
            "TableName",
            "ConditionalOperator",
            "AttributesToGet",
            "Limit",
            "KeyConditions",
        ]),
        "ScanInput" => Some(&[
            "Select",
            "IndexName",
            "TotalSegments",
            "ReturnConsumedCapacity",
            "TableName",
            "ConditionalOperator",
            "ScanFilter",
            "Segment",
            "Limit",
            "AttributesToGet",
        ]),
        _ => None,
    }
}

/// The item operations, whose TableName may be a table's ARN (the model's `TableArn`).
const ITEM_OPERATIONS: [&str; 6] = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
];

/// The table operations' own words for a missing TableName, or one of the wrong length —
/// CreateTable's length is a constraint like any other now (2026: "Value 'ab' at 'tableName'
/// failed to satisfy constraint: Member must have length greater than or equal to 3", the
/// DynamoDB Conformance Suite's captures).
fn table_name_first(operation: &str, body: &Json<'_>) -> Result<(), WireError> {
    let name = match body {
        Json::Object(o) => o.get("TableName"),
        _ => None,
    };
    match name {
        None | Some(Json::Null) => Err(WireError::Validation(
            "The parameter 'TableName' is required but was not present in the request".into(),
        )),
        Some(Json::String(_)) if operation == "CreateTable" => Ok(()),
        Some(Json::String(s)) => {
            let short = seedbed_engine::table::schema::arn_table_name(s)
                .filter(|_| s.len() <= 1024)
                .unwrap_or(s);
            let n = utf16_len(short);
            if (3..=255).contains(&n) {
                Ok(())
            } else {
                Err(WireError::Validation(
                    "TableName must be at least 3 characters long and at most 255 characters long"
                        .into(),
                ))
            }
        }
        Some(_) => Ok(()),
    }
}

/// Where a value is: rendered only for a violation.
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'static str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    fn render(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                let mut c = name.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_lowercase());
                    out.push_str(c.as_str());
                }
            }
            Path::Index(parent, i) => {
                parent.render(out);
                out.push_str(&format!(".{}.member", i + 1));
            }
            Path::Key(parent, k) => {
                parent.render(out);
                out.push('.');
                out.push_str(k);
                out.push_str(".member");
            }
        }
    }
}

/// `Value … at '…' failed to satisfy constraint: …`.
fn violation(v: Option<&Json<'_>>, path: &Path<'_>, what: &str) -> String {
    let mut p = String::new();
    path.render(&mut p);
    match v {
        None => format!("Value null at '{p}' failed to satisfy constraint: {what}"),
        Some(v) => {
            let mut s = String::new();
            render(v, &mut s);
            format!("Value '{s}' at '{p}' failed to satisfy constraint: {what}")
        }
    }
}

/// A value as Java's `toString` shows it.
fn render(v: &Json<'_>, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => out.push_str(s),
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(x, out);
            }
            out.push(']');
        }
        Json::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render(x, out);
            }
            out.push('}');
        }
    }
}

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Whether `s` matches `[a-zA-Z0-9_.-]+`.
fn pattern_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

/// A table name or a table's ARN whose name is one.
fn table_name_ok(s: &str) -> bool {
    let short = seedbed_engine::table::schema::arn_table_name(s)
        .filter(|_| s.len() <= 1024)
        .unwrap_or(s);
    pattern_ok(short) && (3..=255).contains(&short.len())
}

/// The size a length constraint measures, if it applies to `v`.
fn size(v: &Json<'_>) -> Option<usize> {
    match v {
        Json::String(s) => Some(utf16_len(s)),
        Json::Array(a) => Some(a.len()),
        Json::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// The constraints of one member (`v`: `None` when absent or `null`).
fn member(rules: &[Rule], v: Option<&Json<'_>>, path: &Path<'_>, errors: &mut Vec<String>) {
    let Some(v) = v else {
        if rules.iter().any(|r| matches!(r, Required)) {
            errors.push(violation(None, path, "Member must not be null"));
        }
        return;
    };
    for rule in rules {
        match rule {
            Required => {}
            MinLen(n) => {
                if size(v).is_some_and(|s| s < *n) {
                    errors.push(violation(
                        Some(v),
                        path,
                        &format!("Member must have length greater than or equal to {n}"),
                    ));
                }
            }
            MaxLen(n) => {
                if size(v).is_some_and(|s| s > *n) {
                    errors.push(violation(
                        Some(v),
                        path,
                        &format!("Member must have length less than or equal to {n}"),
                    ));
                }
            }
            Min(n) => {
                if let Json::Number(x) = v {
                    if x.as_i64().is_some_and(|x| x < *n) {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!("Member must have value greater than or equal to {n}"),
                        ));
                    }
                }
            }
            Max(n) => {
                if let Json::Number(x) = v {
                    let over = match x.as_i64() {
                        Some(x) => x > *n,
                        None => x.as_u64().is_some(),
                    };
                    if over {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!("Member must have value less than or equal to {n}"),
                        ));
                    }
                }
            }
            Pattern => {
                if let Json::String(s) = v {
                    if !pattern_ok(s) {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!("Member must satisfy regular expression pattern: {PATTERN}"),
                        ));
                    }
                }
            }
            Enum(values) => {
                if let Json::String(s) = v {
                    if !values.contains(&s.as_ref()) {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!(
                                "Member must satisfy enum value set: [{}]",
                                values.join(", ")
                            ),
                        ));
                    }
                }
            }
            TableName => {
                if let Json::String(s) = v {
                    if table_name_ok(s) {
                        continue;
                    }
                    let short = seedbed_engine::table::schema::arn_table_name(s)
                        .filter(|_| s.len() <= 1024)
                        .unwrap_or(s);
                    let shown = Json::String(short.into());
                    if !pattern_ok(short) {
                        errors.push(violation(
                            Some(&shown),
                            path,
                            &format!("Member must satisfy regular expression pattern: {PATTERN}"),
                        ));
                    }
                    let n = utf16_len(short);
                    if n < 3 {
                        errors.push(violation(
                            Some(&shown),
                            path,
                            "Member must have length greater than or equal to 3",
                        ));
                    }
                    if n > 255 {
                        errors.push(violation(
                            Some(&shown),
                            path,
                            "Member must have length less than or equal to 255",
                        ));
                    }
                }
            }
            TableNameKeys => {
                if let Json::Object(o) = v {
                    if !o.iter().all(|(k, _)| table_name_ok(k)) {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!("Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: {PATTERN}]"),
                        ));
                    }
                }
            }
            ValueLen(min, max) => {
                if let Json::Object(o) = v {
                    if !o
                        .iter()
                        .all(|(_, x)| size(x).is_none_or(|s| (*min..=*max).contains(&s)))
                    {
                        errors.push(violation(
                            Some(v),
                            path,
                            &format!("Map value must satisfy constraint: [Member must have length less than or equal to {max}, Member must have length greater than or equal to {min}]"),
                        ));
                    }
                }
            }
        }
    }
}

/// Whether values of `shape` can hold anything with constraints (AttributeValues and scalars
/// cannot).
fn has_constraints(shape: &Shape) -> bool {
    match shape {
        Shape::Structure(s) => s.name != "AttributeValue",
        Shape::List(e) | Shape::Map(e) => has_constraints(e),
        _ => false,
    }
}

/// Every member of structure `s` (the value `v`), and what they hold.
fn structure(s: &'static Structure, v: &Json<'_>, path: &Path<'_>, errors: &mut Vec<String>) {
    let Json::Object(o) = v else {
        return;
    };
    let order = member_order(s.name).unwrap_or(&[]);
    let first = order
        .iter()
        .filter_map(|n| s.members.iter().find(|(m, _)| m == n));
    let rest = s.members.iter().filter(|(m, _)| !order.contains(m));
    for (name, shape) in first.chain(rest) {
        let x = o.get(name).filter(|x| !x.is_null());
        let here = Path::Member(path, name);
        member(rules(s.name, name), x, &here, errors);
        if let Some(x) = x {
            descend(shape, x, &here, errors);
        }
    }
}

/// What `v` (of `shape`) holds.
fn descend(shape: &'static Shape, v: &Json<'_>, path: &Path<'_>, errors: &mut Vec<String>) {
    if !has_constraints(shape) {
        return;
    }
    match (shape, v) {
        (Shape::Structure(s), _) => structure(s, v, path, errors),
        (Shape::List(e), Json::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                if !x.is_null() {
                    descend(e, x, &Path::Index(path, i), errors);
                }
            }
        }
        (Shape::Map(e), Json::Object(o)) => {
            for (k, x) in o.iter() {
                if !x.is_null() {
                    descend(e, x, &Path::Key(path, k), errors);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(op: &str, body: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        match check(op, &Json::from(&v)) {
            Ok(()) => None,
            Err(WireError::Validation(m)) => Some(m),
            Err(e) => panic!("{e:?}"),
        }
    }

    fn parts(m: &str) -> (usize, Vec<String>) {
        let (head, rest) = m.split_once(" detected: ").unwrap();
        let n = head.split(' ').next().unwrap().parse().unwrap();
        let mut p: Vec<String> = rest.split("; ").map(str::to_string).collect();
        p.sort();
        (n, p)
    }

    #[test]
    fn all_violations_at_once() {
        // An item operation's empty TableName is reported alone (DynamoDB's 2026 wording).
        assert_eq!(
            msg("PutItem", r#"{"TableName": "", "ReturnValues": "X"}"#).unwrap(),
            "1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        let m = msg("BatchGetItem", r#"{"RequestItems": {}}"#).unwrap();
        assert_eq!(m, "The requestItems parameter is required for BatchGetItem");
        let m = msg("GetItem", r#"{"TableName": "a;"}"#).unwrap();
        let (n, p) = parts(&m);
        assert_eq!(n, 3, "{m}");
        assert_eq!(p.len(), 3);
        assert!(m.starts_with("3 validation errors detected: "));
        assert!(p.contains(&"Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3".to_string()));
        assert!(p.contains(
            &"Value null at 'key' failed to satisfy constraint: Member must not be null"
                .to_string()
        ));
        let m = msg(
            "GetItem",
            r#"{"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": []}"#,
        )
        .unwrap();
        assert_eq!(parts(&m).0, 4, "{m}");
        assert!(m.contains("Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    }

    #[test]
    fn nested_paths() {
        let m = msg(
            "CreateTable",
            r#"{"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [{"KeyType": "HASH"}, {"AttributeName": "a"}, {"KeyType": "Woop", "AttributeName": "a"}],
                "ProvisionedThroughput": {"ReadCapacityUnits": 0},
                "GlobalSecondaryIndexes": [{"Projection": {"ProjectionType": "X"}, "IndexName": "a", "KeySchema": []}]}"#,
        )
        .unwrap();
        for part in [
            "Value '[{KeyType=HASH}, {AttributeName=a}, {AttributeName=a, KeyType=Woop}]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
            "Value null at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must not be null",
            "Value null at 'keySchema.2.member.keyType' failed to satisfy constraint: Member must not be null",
            "Value 'Woop' at 'keySchema.3.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
            "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
            "Value null at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must not be null",
            "Value 'X' at 'globalSecondaryIndexes.1.member.projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
            "Value 'a' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3",
            "Value '[]' at 'globalSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ] {
            assert!(m.contains(part), "{part}\n{m}");
        }
        assert_eq!(parts(&m).0, 9, "{m}");

        let m = msg(
            "BatchWriteItem",
            r#"{"RequestItems": {"aa;": [{"PutRequest": {}, "DeleteRequest": {}}]}, "ReturnItemCollectionMetrics": "hi"}"#,
        )
        .unwrap();
        assert_eq!(parts(&m).0, 4, "{m}");
        assert!(m.contains("Value null at 'requestItems.aa;.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null"));
        assert!(m.contains("at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"));

        let m = msg("BatchGetItem", r#"{"RequestItems": {"abc": {"Keys": []}}}"#).unwrap();
        assert_eq!(m, "1 validation error detected: Value '[]' at 'requestItems.abc.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1");

        let m = msg(
            "Query",
            r#"{"TableName": "abc", "KeyConditions": {"a": {}, "b": {"ComparisonOperator": "X"}}}"#,
        )
        .unwrap();
        assert_eq!(parts(&m).0, 2, "{m}");
        assert!(m.contains("Value null at 'keyConditions.a.member.comparisonOperator'"));
    }

    #[test]
    fn at_most_ten_are_reported() {
        let m = msg(
            "CreateTable",
            r#"{"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                "LocalSecondaryIndexes": [{}, {}, {}, {}, {}, {}, {}, {}, {}]}"#,
        )
        .unwrap();
        assert_eq!(parts(&m).0, 10, "{m}");
        assert_eq!(parts(&m).1.len(), 10, "{m}");
        assert!(m.contains("Value null at 'localSecondaryIndexes.4.member.indexName'"));
        assert!(!m.contains("localSecondaryIndexes.4.member.keySchema"));
        // Which ten: DynamoDB's order of Query's members.
        let m = msg(
            "Query",
            r#"{"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": [], "IndexName": "abc;",
                "Select": "hi", "Limit": -1, "KeyConditions": {"a": {}, "b": {"ComparisonOperator": ""}},
                "ConditionalOperator": "AN", "QueryFilter": {"a": {}, "b": {"ComparisonOperator": ""}}}"#,
        )
        .unwrap();
        assert_eq!(parts(&m).0, 10, "{m}");
        assert!(!m.contains("keyConditions.b"), "{m}");
    }

    #[test]
    fn table_operations_table_name() {
        for op in TABLE_OPERATIONS {
            assert_eq!(
                msg(op, "{}").unwrap(),
                "The parameter 'TableName' is required but was not present in the request"
            );
            if op == "CreateTable" {
                // Its length is a constraint like any other (DynamoDB's 2026 wording).
                assert!(msg(op, r#"{"TableName": "ab"}"#).unwrap().contains(
                    "Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
                ));
                continue;
            }
            for name in ["", "a;", &"a".repeat(256)] {
                assert_eq!(
                    msg(op, &format!(r#"{{"TableName": "{name}"}}"#)).unwrap(),
                    "TableName must be at least 3 characters long and at most 255 characters long"
                );
            }
        }
        assert_eq!(
            msg("DescribeTable", r#"{"TableName": "abc;"}"#).unwrap(),
            "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
        assert_eq!(
            parts(&msg("CreateTable", r#"{"TableName": "abc;"}"#).unwrap()).0,
            3
        );
        for op in TAG_OPERATIONS {
            assert_eq!(msg(op, "{}").unwrap(), "Invalid TableArn");
        }
        assert_eq!(
            msg("TagResource", r#"{"ResourceArn": "a:b:c:d:e:f/g"}"#).unwrap(),
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn valid_requests_pass() {
        assert_eq!(
            msg(
                "GetItem",
                r#"{"TableName": "abc", "Key": {"a": {"S": ""}}, "ReturnConsumedCapacity": "TOTAL"}"#
            ),
            None
        );
        assert_eq!(
            msg(
                "GetItem",
                r#"{"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/abc", "Key": {}}"#
            ),
            None
        );
        assert_eq!(
            msg(
                "ListTables",
                r#"{"Limit": 100, "ExclusiveStartTableName": "abc"}"#
            ),
            None
        );
        assert_eq!(
            msg(
                "BatchWriteItem",
                r#"{"RequestItems": {"abc": [{"PutRequest": {"Item": {}}}]}}"#
            ),
            None
        );
        assert_eq!(
            msg(
                "Scan",
                r#"{"TableName": "abc", "Segment": 0, "TotalSegments": 1}"#
            ),
            None
        );
        assert_eq!(msg("DescribeLimits", "{}"), None);
        assert_eq!(
            msg("ListTables", r#"{"Limit": 18446744073709551615}"#).unwrap(),
            "1 validation error detected: Value '18446744073709551615' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
    }
}
