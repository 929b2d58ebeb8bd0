//! The legacy (pre-expression) parameters, translated into the expression trees so there is one
//! evaluator: `Expected` and `QueryFilter` / `ScanFilter` (with `ConditionalOperator`) become
//! conditions, `AttributeUpdates` an update expression, `AttributesToGet` a projection and
//! `KeyConditions` a key condition. Also the rules for mixing the two styles, and for
//! placeholders given where no expression uses them.

use super::error::{DynamoError, Result};
use super::expr::ast::{Call, Clause, CmpOp, Cond, Elem, Operand, SetValue, Update};
use super::expr::{CondExpr, OperandExpr, PathExpr, UpdateExpr};
use super::request::{AttributeUpdate, LegacyCondition, LegacyConditions, Names, Values};
use super::value::{AttributeValue, ValueType};
use super::value_rules::MAX_NAME_BYTES;
use std::collections::BTreeMap;

fn path(attr: &str) -> OperandExpr {
    Operand::Path(vec![Elem::Name(attr.to_string())])
}

fn call(name: &str, args: Vec<OperandExpr>) -> CondExpr {
    Cond::Call(Call {
        name: name.to_string(),
        args,
        span: (0, 0),
    })
}

fn invalid(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::invalid_parameter(detail)
}

/// Whether `op` is one of the API's ComparisonOperator values.
pub fn is_operator(op: &str) -> bool {
    operand_count(op).is_some()
}

/// The values an operator takes: `(min, max)`.
fn operand_count(op: &str) -> Option<(usize, usize)> {
    Some(match op {
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "BEGINS_WITH" => {
            (1, 1)
        }
        "NULL" | "NOT_NULL" => (0, 0),
        "IN" => (1, usize::MAX),
        "BETWEEN" => (2, 2),
        _ => return None,
    })
}

/// One legacy condition as a condition tree. `expected`: the `Expected` flavour (which also
/// has `Exists` / `Value`).
pub fn condition(attr: &str, c: &LegacyCondition, expected: bool) -> Result<CondExpr> {
    let Some(op) = &c.operator else {
        if !expected {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null (attribute {attr})"
            )));
        }
        if c.values.is_some() {
            return Err(invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
            )));
        }
        return match (c.exists, &c.value) {
            (Some(false), Some(_)) => Err(invalid(format!(
                "Value cannot be used when Exists is false for Attribute: {attr}"
            ))),
            (Some(false), None) => Ok(call("attribute_not_exists", vec![path(attr)])),
            (_, Some(v)) => Ok(Cond::Cmp(CmpOp::Eq, path(attr), Operand::Value(v.clone()))),
            (Some(true), None) => Err(invalid(format!(
                "Value must be provided when Exists is true for Attribute: {attr}"
            ))),
            (None, None) => Err(invalid(format!(
                "Value must be provided when Exists is null for Attribute: {attr}"
            ))),
        };
    };
    if c.exists.is_some() {
        return Err(invalid(format!(
            "Exists and ComparisonOperator cannot be used together for Attribute: {attr}"
        )));
    }
    if c.values.is_some() && c.value.is_some() {
        return Err(invalid(format!(
            "Value and AttributeValueList cannot be used together for Attribute: {attr}"
        )));
    }
    let list: Vec<AttributeValue> = match (&c.values, &c.value) {
        (Some(l), _) => l.clone(),
        (None, Some(v)) => vec![v.clone()],
        (None, None) => Vec::new(),
    };
    let Some((lo, hi)) = operand_count(op) else {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{op}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )));
    };
    if list.len() < lo || list.len() > hi {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    let scalar = |v: &AttributeValue, allowed: &[ValueType]| -> Result<()> {
        if allowed.contains(&v.value_type()) {
            Ok(())
        } else {
            Err(invalid(format!(
                "ComparisonOperator {op} is not valid for {} AttributeValue type",
                v.value_type().name()
            )))
        }
    };
    use ValueType as T;
    let v = |k: usize| Operand::Value(list[k].clone());
    Ok(match op.as_str() {
        "EQ" => Cond::Cmp(CmpOp::Eq, path(attr), v(0)),
        "NE" => Cond::Cmp(CmpOp::Ne, path(attr), v(0)),
        "LE" | "LT" | "GE" | "GT" => {
            scalar(&list[0], &[T::S, T::N, T::B])?;
            let cmp = match op.as_str() {
                "LE" => CmpOp::Le,
                "LT" => CmpOp::Lt,
                "GE" => CmpOp::Ge,
                _ => CmpOp::Gt,
            };
            Cond::Cmp(cmp, path(attr), v(0))
        }
        "NULL" => call("attribute_not_exists", vec![path(attr)]),
        "NOT_NULL" => call("attribute_exists", vec![path(attr)]),
        "CONTAINS" | "NOT_CONTAINS" => {
            scalar(&list[0], &[T::S, T::N, T::B])?;
            let c = call("contains", vec![path(attr), v(0)]);
            if op == "CONTAINS" {
                c
            } else {
                Cond::And(
                    Box::new(call("attribute_exists", vec![path(attr)])),
                    Box::new(Cond::Not(Box::new(c))),
                )
            }
        }
        "BEGINS_WITH" => {
            scalar(&list[0], &[T::S, T::B])?;
            call("begins_with", vec![path(attr), v(0)])
        }
        "IN" => {
            for x in &list {
                scalar(x, &[T::S, T::N, T::B])?;
            }
            if list.iter().any(|x| x.value_type() != list[0].value_type()) {
                return Err(invalid(
                    "AttributeValues inside AttributeValueList must be of same type",
                ));
            }
            Cond::In(
                path(attr),
                list.iter().cloned().map(Operand::Value).collect(),
            )
        }
        "BETWEEN" => {
            scalar(&list[0], &[T::S, T::N, T::B])?;
            if list[0].value_type() != list[1].value_type() {
                return Err(invalid(
                    "AttributeValues inside AttributeValueList must be of same type",
                ));
            }
            if list[0].scalar_cmp(&list[1]) == Some(std::cmp::Ordering::Greater) {
                return Err(DynamoError::validation(
                    "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
                ));
            }
            Cond::Between(path(attr), v(0), v(1))
        }
        _ => unreachable!("operand_count knows every operator"),
    })
}

/// `Expected`, `QueryFilter` or `ScanFilter` with `ConditionalOperator` as one condition.
pub fn conditions(
    conds: &LegacyConditions,
    operator: Option<&str>,
    expected: bool,
) -> Result<Option<CondExpr>> {
    let or = match operator {
        None | Some("AND") => false,
        Some("OR") => true,
        Some(other) => {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{other}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
            )))
        }
    };
    if conds.is_empty() && operator.is_some() {
        // An empty Expected (or filter) counts as none for ConditionalOperator (ScyllaDB's
        // Alternator test_update_expected_empty, run against DynamoDB).
        return Err(DynamoError::validation(
            "ConditionalOperator can only be used when Expected or QueryFilter or ScanFilter is present",
        ));
    }
    let mut out: Option<CondExpr> = None;
    for (attr, c) in conds {
        let c = condition(attr, c, expected)?;
        out = Some(match out {
            None => c,
            Some(prev) if or => Cond::Or(Box::new(prev), Box::new(c)),
            Some(prev) => Cond::And(Box::new(prev), Box::new(c)),
        });
    }
    Ok(out)
}

/// The error for an attribute name over [`MAX_NAME_BYTES`] at `field` (the API model's
/// constraint; the list's place is not named).
fn name_too_long(field: &str) -> DynamoError {
    DynamoError::validation(format!(
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to {MAX_NAME_BYTES}, Member must have length greater than or equal to 1]"
    ))
}

/// `AttributesToGet` as projection paths.
pub fn attributes_to_get(attrs: &[String]) -> Result<Vec<PathExpr>> {
    if attrs.is_empty() {
        // The API model's constraint (min 1), checked before anything is read.
        return Err(DynamoError::validation(
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    if attrs.iter().any(|a| a.len() > MAX_NAME_BYTES) {
        return Err(name_too_long("attributesToGet"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for a in attrs {
        if !seen.insert(a) {
            return Err(invalid(format!("Duplicate value in attribute name: {a}")));
        }
    }
    Ok(attrs.iter().map(|a| vec![Elem::Name(a.clone())]).collect())
}

/// `AttributeUpdates` as an update expression. ADD of a list appends to it (a legacy-only
/// behaviour the expression language's ADD does not have).
pub fn attribute_updates(updates: &BTreeMap<String, AttributeUpdate>) -> Result<UpdateExpr> {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    let mut add = Vec::new();
    let mut delete = Vec::new();
    if updates.keys().any(|a| a.len() > MAX_NAME_BYTES) {
        return Err(name_too_long("attributeUpdates"));
    }
    for (attr, u) in updates {
        let p: PathExpr = vec![Elem::Name(attr.clone())];
        match (u.action.as_deref().unwrap_or("PUT"), &u.value) {
            ("PUT", Some(v)) => set.push((p, SetValue::One(Operand::Value(v.clone())))),
            ("DELETE", None) => remove.push(p),
            ("DELETE", Some(v)) => {
                if !matches!(v.value_type(), ValueType::Ss | ValueType::Ns | ValueType::Bs) {
                    return Err(invalid(format!(
                        "DELETE action with value is not supported for the type {}",
                        v.value_type().name()
                    )));
                }
                delete.push((p, v.clone()));
            }
            ("ADD", Some(AttributeValue::L(l))) => set.push((
                p.clone(),
                SetValue::One(Operand::Call(Call {
                    name: "list_append".into(),
                    args: vec![
                        Operand::Call(Call {
                            name: "if_not_exists".into(),
                            args: vec![Operand::Path(p), Operand::Value(AttributeValue::L(Vec::new()))],
                            span: (0, 0),
                        }),
                        Operand::Value(AttributeValue::L(l.clone())),
                    ],
                    span: (0, 0),
                })),
            )),
            ("ADD", Some(v)) => {
                if !matches!(v.value_type(), ValueType::N | ValueType::Ss | ValueType::Ns | ValueType::Bs) {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        v.value_type().name()
                    )));
                }
                add.push((p, v.clone()));
            }
            ("PUT" | "ADD", None) => {
                return Err(invalid("Only DELETE action is allowed when no attribute value is specified"))
            }
            (other, _) => {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'attributeUpdates.{attr}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )))
            }
        }
    }
    let mut clauses = Vec::new();
    if !set.is_empty() {
        clauses.push(Clause::Set(set));
    }
    if !remove.is_empty() {
        clauses.push(Clause::Remove(remove));
    }
    if !add.is_empty() {
        clauses.push(Clause::Add(add));
    }
    if !delete.is_empty() {
        clauses.push(Clause::Delete(delete));
    }
    Ok(Update { clauses })
}

/// Refuse a request that mixes legacy and expression parameters; each list names the
/// parameters of that style the request used.
pub fn check_mixing(legacy: &[&str], expressions: &[&str]) -> Result<()> {
    if legacy.is_empty() || expressions.is_empty() {
        return Ok(());
    }
    Err(DynamoError::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        legacy.join(", "),
        expressions.join(", ")
    )))
}

/// The parameters of each style an item operation takes, in the order DynamoDB names them:
/// its expressions, then its legacy (non-expression) parameters. GetItem's serve
/// BatchGetItem's and TransactGetItems' elements too.
fn styles(operation: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match operation {
        "PutItem" | "DeleteItem" => (
            &["ConditionExpression"],
            &["Expected", "ConditionalOperator"],
        ),
        "UpdateItem" => (
            &["UpdateExpression", "ConditionExpression"],
            &["AttributeUpdates", "Expected", "ConditionalOperator"],
        ),
        "Query" => (
            &[
                "ProjectionExpression",
                "FilterExpression",
                "KeyConditionExpression",
            ],
            &[
                "AttributesToGet",
                "QueryFilter",
                "ConditionalOperator",
                "KeyConditions",
            ],
        ),
        "Scan" => (
            &["ProjectionExpression", "FilterExpression"],
            &["AttributesToGet", "ScanFilter", "ConditionalOperator"],
        ),
        _ => (&["ProjectionExpression"], &["AttributesToGet"]),
    }
}

/// The first check of an item operation's parameters, before any attribute value in it is
/// read (dynalite's tests, checked against DynamoDB): the two styles are not mixed, and the
/// placeholder maps come only with an expression that could use them. `has` says whether the
/// request carries a parameter (by its wire name); the endpoint asks it of the request body,
/// the table API of the typed request, so both refuse alike.
pub fn check_styles(operation: &str, has: impl Fn(&str) -> bool) -> Result<()> {
    // Asked of every item request: the lists are only collected for a message.
    let (expressions, legacy) = styles(operation);
    let used = || expressions.iter().copied().filter(|e| has(e));
    let legacy_used = || {
        legacy.iter().copied().filter(|p| match *p {
            // ConditionalOperator is legacy only beside the conditions it joins (without them
            // it is refused on its own, later); KeyConditions clashes only with
            // KeyConditionExpression (DynamoDB takes it beside a filter or projection
            // expression: ScyllaDB's Alternator tests, AWS's DAX client).
            "ConditionalOperator" => {
                has(p)
                    && ["Expected", "QueryFilter", "ScanFilter"]
                        .iter()
                        .any(|c| has(c))
            }
            "KeyConditions" => has(p) && has("KeyConditionExpression"),
            _ => has(p),
        })
    };
    if used().next().is_some() && legacy_used().next().is_some() {
        check_mixing(
            &legacy_used().collect::<Vec<_>>(),
            &used().collect::<Vec<_>>(),
        )?;
    }
    if has("ExpressionAttributeNames") && used().next().is_none() {
        return Err(DynamoError::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    // Values serve every expression but a projection; the message names those absent —
    // except a single-item write's, which DynamoDB's 2026 words name none of (the DynamoDB
    // Conformance Suite's captures, every region sampled).
    let single_write = matches!(operation, "PutItem" | "UpdateItem" | "DeleteItem");
    let valued = || {
        expressions
            .iter()
            .copied()
            .filter(|e| *e != "ProjectionExpression")
    };
    if has("ExpressionAttributeValues") && valued().all(|e| !has(e)) {
        let valued: Vec<&str> = valued().collect();
        return Err(DynamoError::validation(
            if valued.is_empty() || single_write {
                "ExpressionAttributeValues can only be specified when using expressions".to_string()
            } else {
                format!(
                "ExpressionAttributeValues can only be specified when using expressions: {} {} null",
                valued.join(" and "),
                if valued.len() > 1 { "are" } else { "is" }
            )
            },
        ));
    }
    Ok(())
}

/// Rules for the placeholder maps themselves, after [`check_styles`] and the request's
/// attribute values: not empty, well-formed keys, valid values.
pub fn check_placeholders(names: Option<&Names>, values: Option<&Values>) -> Result<()> {
    if let Some(n) = names {
        if n.is_empty() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        for k in n.keys() {
            let ok = k.len() > 1
                && k.starts_with('#')
                && k[1..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if n.values().any(|v| v.len() > MAX_NAME_BYTES) {
            // The API model's constraint on the map's values, as AWS's DAX client words it.
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value at 'expressionAttributeNames' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_NAME_BYTES}, Member must have length greater than or equal to 0]"
            )));
        }
    }
    if let Some(v) = values {
        if v.is_empty() {
            return Err(DynamoError::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        for (k, val) in v {
            let ok = k.len() > 1
                && k.starts_with(':')
                && k[1..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            if let Err(m) = super::value_rules::check_value(val) {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {m} for key {k}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::expr::eval;
    use crate::table::value::Item;

    /// Values without an expression that could use them: a read names the absent
    /// expressions, a single-item write (DynamoDB's 2026 words) none.
    #[test]
    fn values_without_an_expression_are_refused_in_each_operations_words() {
        let only_values = |p: &str| p == "ExpressionAttributeValues";
        assert_eq!(
            check_styles("Query", only_values).unwrap_err().message,
            "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"
        );
        for op in ["PutItem", "UpdateItem", "DeleteItem"] {
            assert_eq!(
                check_styles(op, only_values).unwrap_err().message,
                "ExpressionAttributeValues can only be specified when using expressions",
                "{op}"
            );
        }
    }

    fn lc(op: &str, vals: Vec<AttributeValue>) -> LegacyCondition {
        LegacyCondition {
            operator: Some(op.into()),
            values: Some(vals),
            ..LegacyCondition::default()
        }
    }

    #[test]
    fn expected_semantics_and_errors() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::n(5));
        let check =
            |c: LegacyCondition| eval::condition(&condition("a", &c, true).unwrap(), Some(&item));
        assert!(check(lc(
            "BETWEEN",
            vec![AttributeValue::n(1), AttributeValue::n(9)]
        )));
        assert!(check(lc(
            "IN",
            vec![AttributeValue::n(4), AttributeValue::n(5)]
        )));
        assert!(!check(lc("LT", vec![AttributeValue::n(5)])));
        assert!(check(LegacyCondition {
            value: Some(AttributeValue::n(5)),
            ..Default::default()
        }));
        assert!(!check(LegacyCondition {
            exists: Some(false),
            ..Default::default()
        }));
        assert_eq!(
            condition("a", &LegacyCondition { exists: Some(true), ..Default::default() }, true).unwrap_err().message,
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
        );
        assert_eq!(
            condition("a", &lc("EQ", vec![]), true).unwrap_err().message,
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
        );
        assert!(check_mixing(&["Expected"], &["ConditionExpression"]).unwrap_err().message.contains("Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"));
    }
}
