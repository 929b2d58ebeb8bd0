//! From parsed trees to runnable ones: placeholders replaced by names and values, and
//! DynamoDB's semantic checks, in the order DynamoDB reports them — an unknown function
//! first, then a function used where it may not be, then a reserved word used bare, then an
//! undefined placeholder, then arities, operand types and overlapping paths.

use std::cmp::Ordering;

use super::ast::*;
use super::{is_reserved, CondExpr, ExprError, OperandExpr, PathExpr, Placeholders, UpdateExpr};
use crate::table::value::{AttributeValue, ValueType};

/// Functions of conditions and their operand counts.
const COND_FUNCS: [(&str, usize); 6] = [
    ("attribute_exists", 1),
    ("attribute_not_exists", 1),
    ("attribute_type", 2),
    ("begins_with", 2),
    ("contains", 2),
    ("size", 1),
];
/// Functions of SET actions and their operand counts.
const SET_FUNCS: [(&str, usize); 2] = [("if_not_exists", 2), ("list_append", 2)];

fn arity(table: &[(&str, usize)], name: &str) -> Option<usize> {
    table.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// Every operand of a condition, in document order, with call arguments after their call.
fn cond_operands<'a>(
    c: &'a RawCond,
    out: &mut Vec<&'a RawOperand>,
    calls: &mut Vec<&'a Call<RawName, RawValue>>,
) {
    match c {
        Cond::Cmp(_, a, b) => {
            operand_tree(a, out);
            operand_tree(b, out);
        }
        Cond::Between(a, b, d) => {
            for o in [a, b, d] {
                operand_tree(o, out);
            }
        }
        Cond::In(a, list) => {
            operand_tree(a, out);
            list.iter().for_each(|o| operand_tree(o, out));
        }
        Cond::Call(call) => {
            calls.push(call);
            call.args.iter().for_each(|o| operand_tree(o, out));
        }
        Cond::Not(x) => cond_operands(x, out, calls),
        Cond::And(a, b) | Cond::Or(a, b) => {
            cond_operands(a, out, calls);
            cond_operands(b, out, calls);
        }
    }
}

fn operand_tree<'a>(o: &'a RawOperand, out: &mut Vec<&'a RawOperand>) {
    out.push(o);
    if let Operand::Call(c) = o {
        c.args.iter().for_each(|a| operand_tree(a, out));
    }
}

fn check_reserved<'a>(paths: impl Iterator<Item = &'a RawName>) -> Result<(), ExprError> {
    for n in paths {
        if !n.is_ref && is_reserved(&n.text) {
            return Err(ExprError::at(
                format!(
                    "Attribute name is a reserved keyword; reserved keyword: {}",
                    n.text
                ),
                n.span,
            ));
        }
    }
    Ok(())
}

fn path_names(p: &RawPath) -> impl Iterator<Item = &RawName> {
    p.iter().filter_map(|e| match e {
        Elem::Name(n) => Some(n),
        Elem::Index(_) => None,
    })
}

fn resolve_path(p: &RawPath, ph: &mut Placeholders) -> Result<PathExpr, ExprError> {
    p.iter()
        .map(|e| match e {
            Elem::Index(k) => Ok(Elem::Index(*k)),
            Elem::Name(n) if !n.is_ref => Ok(Elem::Name(n.text.clone())),
            Elem::Name(n) => ph.name(&n.text).map(Elem::Name).ok_or_else(|| {
                ExprError::at(
                    format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {}",
                        n.text
                    ),
                    n.span,
                )
            }),
        })
        .collect()
}

fn resolve_value(v: &RawValue, ph: &mut Placeholders) -> Result<AttributeValue, ExprError> {
    ph.value(&v.text).ok_or_else(|| {
        ExprError::at(
            format!(
                "An expression attribute value used in expression is not defined; attribute value: {}",
                v.text
            ),
            v.span,
        )
    })
}

fn resolve_operand(o: &RawOperand, ph: &mut Placeholders) -> Result<OperandExpr, ExprError> {
    Ok(match o {
        Operand::Path(p) => Operand::Path(resolve_path(p, ph)?),
        Operand::Value(v) => Operand::Value(resolve_value(v, ph)?),
        Operand::Call(c) => Operand::Call(Call {
            name: c.name.clone(),
            args: c
                .args
                .iter()
                .map(|a| resolve_operand(a, ph))
                .collect::<Result<_, _>>()?,
            span: c.span,
        }),
    })
}

fn resolve_cond(c: &RawCond, ph: &mut Placeholders) -> Result<CondExpr, ExprError> {
    Ok(match c {
        Cond::Cmp(op, a, b) => Cond::Cmp(*op, resolve_operand(a, ph)?, resolve_operand(b, ph)?),
        Cond::Between(a, b, d) => Cond::Between(
            resolve_operand(a, ph)?,
            resolve_operand(b, ph)?,
            resolve_operand(d, ph)?,
        ),
        Cond::In(a, list) => Cond::In(
            resolve_operand(a, ph)?,
            list.iter()
                .map(|o| resolve_operand(o, ph))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Call(call) => match resolve_operand(&Operand::Call(call.clone()), ph)? {
            Operand::Call(c) => Cond::Call(c),
            _ => unreachable!("a call resolves to a call"),
        },
        Cond::Not(x) => Cond::Not(Box::new(resolve_cond(x, ph)?)),
        Cond::And(a, b) => Cond::And(
            Box::new(resolve_cond(a, ph)?),
            Box::new(resolve_cond(b, ph)?),
        ),
        Cond::Or(a, b) => Cond::Or(
            Box::new(resolve_cond(a, ph)?),
            Box::new(resolve_cond(b, ph)?),
        ),
    })
}

/// `{N:10}`, the way DynamoDB prints a value in an error message.
pub fn value_for_message(v: &AttributeValue) -> String {
    let inner = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => format!("{b:?}"),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".into(),
        other => format!("{other:?}"),
    };
    format!("{{{}:{}}}", v.value_type().name(), inner)
}

fn operand_type_error(func: &str, t: ValueType, span: (usize, usize)) -> ExprError {
    ExprError::at(
        format!(
            "Incorrect operand type for operator or function; operator or function: {func}, operand type: {}",
            t.name()
        ),
        span,
    )
}

fn check_call(c: &Call<String, AttributeValue>) -> Result<(), ExprError> {
    let n = arity(&COND_FUNCS, &c.name).unwrap_or(c.args.len());
    if n != c.args.len() {
        return Err(ExprError::at(
            format!(
                "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
                c.name,
                c.args.len()
            ),
            c.span,
        ));
    }
    // Its operands before the function itself (dynalite's tests, checked against DynamoDB:
    // `attribute_not_exists(size(:n))` is size's operand type, not a missing path).
    c.args.iter().try_for_each(check_operand)?;
    // A constant's type, or size()'s: a number.
    let const_type = |o: &OperandExpr| match o {
        Operand::Value(v) => Some(v.value_type()),
        Operand::Call(c) if c.name == "size" => Some(ValueType::N),
        _ => None,
    };
    match c.name.as_str() {
        "attribute_exists" | "attribute_not_exists" if !matches!(c.args[0], Operand::Path(_)) => {
            return Err(ExprError::at(
                format!(
                    "Operator or function requires a document path; operator or function: {}",
                    c.name
                ),
                c.span,
            ));
        }
        "attribute_type" => {
            // Unlike attribute_exists, its first operand may be a value: DynamoDB's guide
            // shows a path, but the service takes `attribute_type(:v, :t)` (ScyllaDB's
            // Alternator tests, run against DynamoDB, check that it does).
            match &c.args[1] {
                Operand::Value(AttributeValue::S(t)) => {
                    if ValueType::from_name(t).is_none() {
                        return Err(ExprError::at(
                            format!("Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"),
                            c.span,
                        ));
                    }
                }
                Operand::Value(v) => return Err(operand_type_error("attribute_type", v.value_type(), c.span)),
                // size() is a number (dynalite's tests, checked against DynamoDB); a path's type
                // is not known, so every type is named.
                Operand::Call(_) => {
                    return Err(operand_type_error("attribute_type", ValueType::N, c.span))
                }
                _ => {
                    return Err(ExprError::at(
                        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}",
                        c.span,
                    ))
                }
            }
        }
        "begins_with" => {
            for a in &c.args {
                if let Some(t) = const_type(a) {
                    if t != ValueType::S && t != ValueType::B {
                        return Err(operand_type_error("begins_with", t, c.span));
                    }
                }
            }
        }
        "size" => {
            if let Some(t) = const_type(&c.args[0]) {
                if matches!(t, ValueType::N | ValueType::Bool | ValueType::Null) {
                    return Err(operand_type_error("size", t, c.span));
                }
            }
        }
        _ => {}
    }
    if c.args.len() == 2 {
        if let (Operand::Path(a), Operand::Path(b)) = (&c.args[0], &c.args[1]) {
            if a == b {
                return Err(ExprError::at(
                    format!(
                        "The first operand must be distinct from the remaining operands for this operator or function; operator: {}, first operand: {}",
                        c.name,
                        path_for_message(a)
                    ),
                    c.span,
                ));
            }
        }
    }
    Ok(())
}

/// An ordering comparison (`<`, `<=`, `>`, `>=`, BETWEEN) with a constant of a type that has
/// no order is an error in the expression, not a false condition: only N, S and B compare.
fn check_orderable(op: &str, o: &OperandExpr) -> Result<(), ExprError> {
    if let Operand::Value(v) = o {
        let t = v.value_type();
        if !matches!(t, ValueType::N | ValueType::S | ValueType::B) {
            return Err(ExprError::new(format!(
                "Incorrect operand type for operator or function; operator or function: {op}, operand type: {}",
                t.name()
            )));
        }
    }
    Ok(())
}

fn check_operand(o: &OperandExpr) -> Result<(), ExprError> {
    match o {
        Operand::Call(c) => check_call(c),
        _ => Ok(()),
    }
}

fn check_cond(c: &CondExpr) -> Result<(), ExprError> {
    match c {
        Cond::Cmp(op, a, b) => {
            check_operand(a)?;
            check_operand(b)?;
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                for o in [a, b] {
                    check_orderable(op.symbol(), o)?;
                }
            }
            if let (Operand::Path(x), Operand::Path(y)) = (a, b) {
                if x == y {
                    return Err(ExprError::new(format!(
                        "The first operand must be distinct from the remaining operands for this operator or function; operator: {}, first operand: {}",
                        op.symbol(),
                        path_for_message(x)
                    )));
                }
            }
        }
        Cond::Between(a, lo, hi) => {
            for o in [a, lo, hi] {
                check_operand(o)?;
            }
            // A bound of a type with no order (NULL, BOOL, a set, a list or a map) is refused
            // as an operand of the wrong type before the bounds are compared (moto's
            // AWS-verified test_between_function_operands_cannot_be_null).
            for o in [a, lo, hi] {
                check_orderable("BETWEEN", o)?;
            }
            if let (Operand::Value(x), Operand::Value(y)) = (lo, hi) {
                let bounds = format!(
                    "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                    value_for_message(x),
                    value_for_message(y)
                );
                match x.scalar_cmp(y) {
                    None if x.value_type() != y.value_type() => {
                        return Err(ExprError::new(format!(
                            "The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"
                        )))
                    }
                    Some(Ordering::Greater) => {
                        return Err(ExprError::new(format!(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}"
                        )))
                    }
                    _ => {}
                }
            }
        }
        Cond::In(a, list) => {
            check_operand(a)?;
            list.iter().try_for_each(check_operand)?;
            if list.len() > 100 {
                return Err(ExprError::new(format!(
                    "Too many operands for operator or function; operator or function: IN, number of operands: {}",
                    list.len() + 1
                )));
            }
        }
        Cond::Call(call) => check_call(call)?,
        Cond::Not(x) => check_cond(x)?,
        Cond::And(a, b) | Cond::Or(a, b) => {
            check_cond(a)?;
            check_cond(b)?;
        }
    }
    Ok(())
}

/// Resolve and check a condition.
pub fn condition(raw: &RawCond, ph: &mut Placeholders) -> Result<CondExpr, ExprError> {
    let (mut operands, mut calls) = (Vec::new(), Vec::new());
    cond_operands(raw, &mut operands, &mut calls);
    let operand_calls = operands.iter().filter_map(|o| match o {
        Operand::Call(c) => Some(c),
        _ => None,
    });
    for c in calls.iter().copied().chain(operand_calls.clone()) {
        if arity(&COND_FUNCS, &c.name).is_none() {
            return Err(ExprError::at(
                if arity(&SET_FUNCS, &c.name).is_some() {
                    format!(
                        "The function is not allowed in a condition expression; function: {}",
                        c.name
                    )
                } else {
                    format!("Invalid function name; function: {}", c.name)
                },
                c.span,
            ));
        }
    }
    for c in &calls {
        if c.name == "size" {
            return Err(misused(c));
        }
    }
    for c in operand_calls {
        if c.name != "size" {
            return Err(misused(c));
        }
    }
    check_reserved(
        operands
            .iter()
            .filter_map(|o| match o {
                Operand::Path(p) => Some(p),
                _ => None,
            })
            .flat_map(path_names),
    )?;
    let resolved = resolve_cond(raw, ph)?;
    check_cond(&resolved)?;
    Ok(resolved)
}

fn misused<N, V>(c: &Call<N, V>) -> ExprError {
    ExprError::at(
        format!(
            "The function is not allowed to be used this way in an expression; function: {}",
            c.name
        ),
        c.span,
    )
}

/// Resolve and check a projection expression (overlapping paths are refused).
pub fn projection(raw: &[RawPath], ph: &mut Placeholders) -> Result<Vec<PathExpr>, ExprError> {
    check_reserved(raw.iter().flat_map(path_names))?;
    let paths: Vec<PathExpr> = raw
        .iter()
        .map(|p| resolve_path(p, ph))
        .collect::<Result<_, _>>()?;
    check_overlaps(&paths)?;
    Ok(paths)
}

/// Refuse two paths where one is a prefix of the other ("overlap") or that treat the same
/// value as both a map and a list ("conflict"): every pair is looked at for an overlap
/// before any for a conflict (dynalite's tests, checked against DynamoDB, give both).
pub fn check_overlaps(paths: &[PathExpr]) -> Result<(), ExprError> {
    for word in ["overlap", "conflict"] {
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[..i] {
                let common = a.len().min(b.len());
                let found = match (0..common).find(|&k| a[k] != b[k]) {
                    None => "overlap",
                    Some(k) => match (&b[k], &a[k]) {
                        (Elem::Name(_), Elem::Index(_)) | (Elem::Index(_), Elem::Name(_)) => {
                            "conflict"
                        }
                        _ => continue,
                    },
                };
                if found == word {
                    return Err(ExprError::new(format!(
                        "Two document paths {word} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        path_for_message(b),
                        path_for_message(a)
                    )));
                }
            }
        }
    }
    Ok(())
}

fn set_operands<'a>(o: &'a RawOperand, out: &mut Vec<&'a RawOperand>) {
    operand_tree(o, out);
}

fn check_set_operand(o: &OperandExpr, inside_list_append: bool) -> Result<(), ExprError> {
    let Operand::Call(c) = o else { return Ok(()) };
    if inside_list_append && c.name == "list_append" {
        return Err(misused(c));
    }
    let n = arity(&SET_FUNCS, &c.name).unwrap_or(c.args.len());
    if n != c.args.len() {
        return Err(ExprError::at(
            format!(
                "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
                c.name,
                c.args.len()
            ),
            c.span,
        ));
    }
    match c.name.as_str() {
        "if_not_exists" if !matches!(c.args[0], Operand::Path(_)) => {
            return Err(ExprError::at(
                "Operator or function requires a document path; operator or function: if_not_exists",
                c.span,
            ));
        }
        "list_append" => {
            for a in &c.args {
                if let Operand::Value(v) = a {
                    if v.value_type() != ValueType::L {
                        return Err(operand_type_error("list_append", v.value_type(), c.span));
                    }
                }
            }
        }
        _ => {}
    }
    let inner = inside_list_append || c.name == "list_append";
    c.args.iter().try_for_each(|a| check_set_operand(a, inner))
}

/// Resolve and check an update expression.
pub fn update(raw: &RawUpdate, ph: &mut Placeholders) -> Result<UpdateExpr, ExprError> {
    // Function names first, then misplaced functions.
    let mut operands = Vec::new();
    for c in &raw.clauses {
        if let Clause::Set(actions) = c {
            for (_, v) in actions {
                match v {
                    SetValue::One(a) => set_operands(a, &mut operands),
                    SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                        set_operands(a, &mut operands);
                        set_operands(b, &mut operands);
                    }
                }
            }
        }
    }
    let calls: Vec<&Call<RawName, RawValue>> = operands
        .iter()
        .filter_map(|o| match o {
            Operand::Call(c) => Some(c),
            _ => None,
        })
        .collect();
    for c in &calls {
        if arity(&SET_FUNCS, &c.name).is_none() {
            return Err(if arity(&COND_FUNCS, &c.name).is_some() {
                misused(c)
            } else {
                ExprError::at(
                    format!("Invalid function name; function: {}", c.name),
                    c.span,
                )
            });
        }
    }
    // Reserved words in every path: targets first, then operands.
    let mut names: Vec<&RawName> = Vec::new();
    for c in &raw.clauses {
        match c {
            Clause::Set(actions) => {
                for (p, _) in actions {
                    names.extend(path_names(p));
                }
            }
            Clause::Remove(paths) => paths.iter().for_each(|p| names.extend(path_names(p))),
            Clause::Add(actions) | Clause::Delete(actions) => actions
                .iter()
                .for_each(|(p, _)| names.extend(path_names(p))),
        }
    }
    for o in &operands {
        if let Operand::Path(p) = o {
            names.extend(path_names(p));
        }
    }
    check_reserved(names.into_iter())?;
    // A section used twice, after the names in every section (dynalite's tests, checked
    // against DynamoDB: a reserved word or an unknown function in a later section wins).
    for (i, c) in raw.clauses.iter().enumerate() {
        if raw.clauses[..i].iter().any(|d| d.keyword() == c.keyword()) {
            return Err(ExprError::new(format!(
                "The \"{}\" section can only be used once in an update expression;",
                c.keyword()
            )));
        }
    }
    // Placeholders.
    let mut clauses = Vec::with_capacity(raw.clauses.len());
    for c in &raw.clauses {
        clauses.push(match c {
            Clause::Set(actions) => Clause::Set(
                actions
                    .iter()
                    .map(|(p, v)| {
                        let p = resolve_path(p, ph)?;
                        let v = match v {
                            SetValue::One(a) => SetValue::One(resolve_operand(a, ph)?),
                            SetValue::Plus(a, b) => {
                                SetValue::Plus(resolve_operand(a, ph)?, resolve_operand(b, ph)?)
                            }
                            SetValue::Minus(a, b) => {
                                SetValue::Minus(resolve_operand(a, ph)?, resolve_operand(b, ph)?)
                            }
                        };
                        Ok((p, v))
                    })
                    .collect::<Result<_, ExprError>>()?,
            ),
            Clause::Remove(paths) => Clause::Remove(
                paths
                    .iter()
                    .map(|p| resolve_path(p, ph))
                    .collect::<Result<_, _>>()?,
            ),
            Clause::Add(actions) => Clause::Add(
                actions
                    .iter()
                    .map(|(p, v)| Ok((resolve_path(p, ph)?, resolve_value(v, ph)?)))
                    .collect::<Result<_, ExprError>>()?,
            ),
            Clause::Delete(actions) => Clause::Delete(
                actions
                    .iter()
                    .map(|(p, v)| Ok((resolve_path(p, ph)?, resolve_value(v, ph)?)))
                    .collect::<Result<_, ExprError>>()?,
            ),
        });
    }
    let resolved = Update { clauses };
    // Then, in DynamoDB's order (dynalite's tests, checked against DynamoDB): the ADD and
    // DELETE operands' types, overlapping paths, and only then the SET operands' arities and
    // types.
    for c in &resolved.clauses {
        let (op, allowed, actions): (&str, &[ValueType], _) = match c {
            Clause::Add(a) => (
                "ADD",
                &[ValueType::N, ValueType::Ss, ValueType::Ns, ValueType::Bs],
                a,
            ),
            Clause::Delete(a) => ("DELETE", &[ValueType::Ss, ValueType::Ns, ValueType::Bs], a),
            _ => continue,
        };
        if let Some((_, v)) = actions
            .iter()
            .find(|(_, v)| !allowed.contains(&v.value_type()))
        {
            return Err(ExprError::new(format!(
                "Incorrect operand type for operator or function; operator: {op}, operand type: {}",
                v.value_type().long_name()
            )));
        }
    }
    let targets: Vec<PathExpr> = resolved
        .clauses
        .iter()
        .flat_map(|c| -> Vec<PathExpr> {
            match c {
                Clause::Set(actions) => actions.iter().map(|(p, _)| p.clone()).collect(),
                Clause::Remove(paths) => paths.clone(),
                Clause::Add(actions) | Clause::Delete(actions) => {
                    actions.iter().map(|(p, _)| p.clone()).collect()
                }
            }
        })
        .collect();
    check_overlaps(&targets)?;
    for c in &resolved.clauses {
        let Clause::Set(actions) = c else { continue };
        for (_, v) in actions {
            match v {
                SetValue::One(a) => check_set_operand(a, false)?,
                SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                    let sym = if matches!(v, SetValue::Plus(..)) {
                        "+"
                    } else {
                        "-"
                    };
                    for o in [a, b] {
                        check_set_operand(o, false)?;
                        if let Operand::Value(x) = o {
                            if x.value_type() != ValueType::N {
                                return Err(
                                    operand_type_error(sym, x.value_type(), (0, 0)).without_span()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(resolved)
}

impl ExprError {
    fn without_span(mut self) -> Self {
        self.span = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::{parse_condition, parse_update};
    use super::*;
    use std::collections::BTreeMap;

    fn values() -> BTreeMap<String, AttributeValue> {
        [
            (":v".to_string(), AttributeValue::n(1)),
            (":w".to_string(), AttributeValue::n(5)),
            (":s".to_string(), AttributeValue::s("x")),
            (":l".to_string(), AttributeValue::L(vec![])),
        ]
        .into()
    }

    fn cond_err(src: &str) -> String {
        let v = values();
        let mut ph = Placeholders::new(None, Some(&v));
        condition(&parse_condition(src).unwrap(), &mut ph)
            .unwrap_err()
            .message
    }

    fn update_err(src: &str) -> String {
        let v = values();
        let mut ph = Placeholders::new(None, Some(&v));
        update(&parse_update(src).unwrap(), &mut ph)
            .unwrap_err()
            .message
    }

    #[test]
    fn condition_checks_in_dynamodb_order() {
        assert_eq!(
            cond_err("foo(a) AND size(b) = :v"),
            "Invalid function name; function: foo"
        );
        assert_eq!(
            cond_err("size(a)"),
            "The function is not allowed to be used this way in an expression; function: size"
        );
        assert_eq!(cond_err("attribute_exists(a) = :v"), "The function is not allowed to be used this way in an expression; function: attribute_exists");
        assert_eq!(cond_err("#n = :v"), "An expression attribute name used in the document path is not defined; attribute name: #n");
        assert_eq!(
            cond_err("name = :nope"),
            "Attribute name is a reserved keyword; reserved keyword: name"
        );
        assert_eq!(cond_err("a = :nope"), "An expression attribute value used in expression is not defined; attribute value: :nope");
        assert_eq!(cond_err("attribute_exists(a, b)"), "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2");
        assert_eq!(
            cond_err("attribute_exists(:v)"),
            "Operator or function requires a document path; operator or function: attribute_exists"
        );
        assert_eq!(cond_err("begins_with(a, :v)"), "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
        assert_eq!(cond_err("attribute_type(a, :s)"), "Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
        assert_eq!(cond_err("a = a"), "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]");
        assert_eq!(cond_err("a BETWEEN :w AND :v"), "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}");
        assert_eq!(cond_err("a BETWEEN :v AND :s"), "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}");
    }

    /// What ScyllaDB's Alternator tests (run against DynamoDB itself) found the service to do.
    #[test]
    fn condition_rules_checked_against_dynamodb() {
        // An ordering comparison with a constant of a type that has no order is an error in
        // the expression (not a false condition); = and <> take any type.
        assert_eq!(cond_err("a < :l"), "Incorrect operand type for operator or function; operator or function: <, operand type: L");
        assert_eq!(cond_err(":l >= a"), "Incorrect operand type for operator or function; operator or function: >=, operand type: L");
        assert_eq!(cond_err("a BETWEEN :v AND :l"), "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: L");
        let v = values();
        for ok in ["a = :l", "a <> :l", "a < :v", "a > :s"] {
            let mut ph = Placeholders::new(None, Some(&v));
            assert!(
                condition(&parse_condition(ok).unwrap(), &mut ph).is_ok(),
                "{ok}"
            );
        }
        // The update functions are known, and refused in a condition by name.
        assert_eq!(
            cond_err("if_not_exists(a, :v) = :v"),
            "The function is not allowed in a condition expression; function: if_not_exists"
        );
        assert_eq!(
            cond_err("list_append(a, :l) = :l"),
            "The function is not allowed in a condition expression; function: list_append"
        );
        // attribute_type takes a value as its first operand, not only a path.
        let mut t = values();
        t.insert(":t".into(), AttributeValue::s("N"));
        let mut ph = Placeholders::new(None, Some(&t));
        let c = condition(&parse_condition("attribute_type(:v, :t)").unwrap(), &mut ph).unwrap();
        assert!(crate::table::expr::eval::condition(&c, None));
    }

    #[test]
    fn update_checks() {
        assert_eq!(
            update_err("SET a = f(b)"),
            "Invalid function name; function: f"
        );
        assert_eq!(update_err("SET a = list_append(list_append(:l, :l), :l)"), "The function is not allowed to be used this way in an expression; function: list_append");
        assert_eq!(update_err("SET a = list_append(:l)"), "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1");
        assert_eq!(update_err("SET a = list_append(:l, :s)"), "Incorrect operand type for operator or function; operator or function: list_append, operand type: S");
        assert_eq!(
            update_err("SET a = if_not_exists(:v, :w)"),
            "Operator or function requires a document path; operator or function: if_not_exists"
        );
        assert_eq!(update_err("SET a = :s + :v"), "Incorrect operand type for operator or function; operator or function: +, operand type: S");
        assert_eq!(
            update_err("ADD a :s"),
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
        );
        assert_eq!(update_err("DELETE a :v"), "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER");
        assert_eq!(update_err("SET a = :v REMOVE a"), "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]");
        assert_eq!(update_err("SET a[1][1] = :v, a[1] = :w"), "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, [1], [1]], path two: [a, [1]]");
        assert_eq!(update_err("SET a.b = :v, a[1] = :w"), "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
        let v = values();
        let mut ph = Placeholders::new(None, Some(&v));
        update(&parse_update("SET a.b = :v, a.c = :w, list_x = list_append(if_not_exists(list_x, :l), :l) ADD n :v").unwrap(), &mut ph).unwrap();
    }

    /// Which of several faults DynamoDB names (dynalite's tests, checked against DynamoDB).
    #[test]
    fn the_first_fault_is_dynamodbs() {
        // A reserved word or unknown function in a later section before the section's repeat.
        assert_eq!(
            update_err("SET a = :v SET abort = :w"),
            "Attribute name is a reserved keyword; reserved keyword: abort"
        );
        assert_eq!(
            update_err("SET a = f(:v) SET b = :w"),
            "Invalid function name; function: f"
        );
        assert_eq!(
            update_err("SET a = :v SET b = :w"),
            "The \"SET\" section can only be used once in an update expression;"
        );
        // ADD's operand type, then overlapping paths, then SET's functions.
        assert_eq!(
            update_err("SET b = list_append(:s, a), c = if_not_exists(a) ADD d :s"),
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
        );
        assert_eq!(update_err("SET c = if_not_exists(a), c.d = :v"), "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c], path two: [c, d]");
        // Every pair for an overlap before any for a conflict.
        assert_eq!(update_err("SET d[1] = :v, d.b = :v, c[1].a = :v, c = :v"), "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [1], a], path two: [c]");
        // A function's operands before the function.
        assert_eq!(cond_err("attribute_not_exists(size(:v))"), "Incorrect operand type for operator or function; operator or function: size, operand type: N");
        assert_eq!(cond_err("attribute_not_exists(size(:s))"), "Operator or function requires a document path; operator or function: attribute_not_exists");
        // size() is a number.
        assert_eq!(cond_err("attribute_type(a, size(a))"), "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N");
        assert_eq!(cond_err("begins_with(a, size(a))"), "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
    }
}
