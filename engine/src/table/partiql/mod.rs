//! PartiQL for DynamoDB (ExecuteStatement): `SELECT`, `INSERT`, `UPDATE` and `DELETE`, planned
//! onto the operations the table API already has — as DynamoDB describes its PartiQL front end.
//!
//! | statement | becomes |
//! |---|---|
//! | `SELECT a, b.c FROM "t"[."index"] [WHERE cond]` | Scan of the table or index, `FilterExpression` = cond, `ProjectionExpression` = the list |
//! | `INSERT INTO "t" VALUE {'pk': 'x', …}` | PutItem with `attribute_not_exists(pk)` (a duplicate is DuplicateItemException) |
//! | `UPDATE "t" SET a = 1, b.c = ? REMOVE d WHERE pk = 'x' [AND …]` | UpdateItem of the key the WHERE clause fixes, the whole WHERE as its condition |
//! | `DELETE FROM "t" WHERE pk = 'x' [AND …]` | DeleteItem, likewise |
//!
//! The WHERE clause is rewritten token by token into DynamoDB's condition syntax: every
//! attribute name becomes a `#pN` placeholder and every literal or `?` parameter a `:vN` one, so
//! the expression goes through the one expression parser and resolver every other operation
//! uses (`expr/`). PartiQL's own forms map to the functions: `a IS MISSING` is
//! `attribute_not_exists(a)`, `a IS NOT MISSING` `attribute_exists(a)`, `a IN [x, y]`
//! `a IN (x, y)`, `!=` `<>`. Literals: `'string'`, numbers, `true`/`false`, `null`,
//! `{'k': v}` (a map), `[v, …]` (a list), `<<v, …>>` (a string, number or binary set).
//!
//! A SELECT is always a Scan with a filter: the answer is DynamoDB's, but a WHERE clause that
//! fixes the partition key still reads the whole table here, where DynamoDB would Query
//! (docs/dynamodb-compatibility.md).

use std::collections::BTreeMap;

use base64::Engine as _;

mod lexer;
mod parser;

use super::codec;
use super::error::{DynamoError, ErrorKind, Result};
use super::expr::ast::{CmpOp, Cond, Elem, Operand};
use super::expr::{self, Placeholders};
use super::request::{
    DeleteItem, Names, PutItem, Search, TransactGet, TransactWrite, UpdateItem, Values,
    WriteCondition,
};
use super::store::Tables;
use super::value::{AttributeValue, Item};
use parser::{parse, Parsed};

/// An ExecuteStatement request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Statement {
    /// `Statement`.
    pub statement: String,
    /// `Parameters`, for the `?` in order.
    pub parameters: Vec<AttributeValue>,
    /// `Limit` (SELECT).
    pub limit: Option<u32>,
    /// `NextToken` of a previous page (SELECT).
    pub next_token: Option<String>,
    /// `ConsistentRead` (SELECT).
    pub consistent_read: bool,
}

/// What an ExecuteStatement answers: the items a SELECT found (none for the others) and the
/// token of the next page, if there is one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatementOutput {
    /// `Items`.
    pub items: Vec<Item>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

pub(crate) fn malformed(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!(
        "Statement wasn't well formed, can't be processed: {detail}"
    ))
}

/// The IAM action and the table (and index) a statement is about, for authorization:
/// `dynamodb:PartiQLSelect`, `…Insert`, `…Update`, `…Delete`. `None` when it does not parse
/// (ExecuteStatement then fails with the reason, having touched nothing).
pub fn target(st: &Statement) -> Option<(&'static str, String, Option<String>)> {
    let (parsed, ..) = parse(st).ok()?;
    Some(match parsed {
        Parsed::Select { table, index, .. } => ("PartiQLSelect", table, index),
        Parsed::Insert { table, .. } => ("PartiQLInsert", table, None),
        Parsed::Update { table, .. } => ("PartiQLUpdate", table, None),
        Parsed::Delete { table, .. } => ("PartiQLDelete", table, None),
    })
}

/// The key a WHERE clause fixes by top-level equalities on the table's key attributes, and
/// whether the clause is those equalities and nothing else.
fn key_of(
    tables: &Tables,
    table: &str,
    condition: &str,
    names: &Names,
    values: &Values,
) -> Result<(Item, bool)> {
    let def = tables.table(table)?.def.clone();
    let raw = expr::parser::parse_condition(condition).map_err(|e| malformed(e.message))?;
    let mut ph = Placeholders::new(Some(names), Some(values));
    let c = expr::resolve::condition(&raw, &mut ph).map_err(|e| malformed(e.message))?;
    let mut eqs = Vec::new();
    fn conjuncts<'c>(c: &'c expr::CondExpr, out: &mut Vec<&'c expr::CondExpr>) {
        match c {
            Cond::And(a, b) => {
                conjuncts(a, out);
                conjuncts(b, out);
            }
            other => out.push(other),
        }
    }
    conjuncts(&c, &mut eqs);
    let clauses = eqs.len();
    let mut key = Item::new();
    for e in eqs {
        if let Cond::Cmp(CmpOp::Eq, Operand::Path(p), Operand::Value(v))
        | Cond::Cmp(CmpOp::Eq, Operand::Value(v), Operand::Path(p)) = e
        {
            if let [Elem::Name(n)] = p.as_slice() {
                if def.is_key(n) {
                    key.insert(n.clone(), v.clone());
                }
            }
        }
    }
    if key.len() != def.key_names().len() {
        return Err(DynamoError::validation(format!(
            "Where clause does not contain a mandatory equality on all key attributes ({})",
            def.key_names().join(", ")
        )));
    }
    let only_key = clauses == key.len();
    Ok((key, only_key))
}

/// Which table a statement names must exist (and its index), in the words DynamoDB's PartiQL
/// uses for them.
fn check_target(tables: &Tables, table: &str, index: Option<&str>) -> Result<()> {
    let t = tables.table(table).map_err(|e| match e.kind {
        ErrorKind::ResourceNotFound => {
            DynamoError::new(ErrorKind::ResourceNotFound, "Requested resource not found")
        }
        _ => e,
    })?;
    if let Some(ix) = index {
        if t.def.index(ix).is_none() {
            return Err(DynamoError::validation(
                "The table does not have the specified index",
            ));
        }
    }
    Ok(())
}

/// One PartiQL write, planned: the operation a transaction would carry.
fn write_op(
    tables: &Tables,
    parsed: Parsed,
    names: Names,
    values: Values,
) -> Result<TransactWrite> {
    Ok(match parsed {
        Parsed::Select { .. } => return Err(malformed("a SELECT is not a write")),
        Parsed::Insert { table, item } => {
            check_target(tables, &table, None)?;
            let AttributeValue::M(item) = item else {
                return Err(malformed("INSERT's VALUE is a map: {'pk': …}"));
            };
            let hash = tables.table(&table)?.def.hash.name.clone();
            TransactWrite::Put(PutItem {
                table,
                item,
                condition: WriteCondition {
                    expression: Some("attribute_not_exists(#k)".into()),
                    ..WriteCondition::default()
                },
                names: Some([("#k".to_string(), hash)].into()),
                ..PutItem::default()
            })
        }
        Parsed::Update {
            table,
            update,
            condition,
        } => {
            check_target(tables, &table, None)?;
            let (key, _) = key_of(tables, &table, &condition, &names, &values)?;
            TransactWrite::Update(UpdateItem {
                table,
                key,
                update: Some(update),
                condition: WriteCondition {
                    expression: Some(condition),
                    ..WriteCondition::default()
                },
                names: some(names),
                values: some(values),
                ..UpdateItem::default()
            })
        }
        Parsed::Delete { table, condition } => {
            check_target(tables, &table, None)?;
            let (key, _) = key_of(tables, &table, &condition, &names, &values)?;
            TransactWrite::Delete(DeleteItem {
                table,
                key,
                condition: WriteCondition {
                    expression: Some(condition),
                    ..WriteCondition::default()
                },
                names: some(names),
                values: some(values),
                ..DeleteItem::default()
            })
        }
    })
}

/// A SELECT that names one item by its whole key and nothing else (what a batch or a
/// transaction may read): the table, the key and the projection.
fn key_read(tables: &Tables, parsed: Parsed, names: Names, values: Values) -> Result<TransactGet> {
    let Parsed::Select {
        projection,
        table,
        index: None,
        filter: Some(filter),
    } = parsed
    else {
        return Err(DynamoError::validation(
            "A read in a batch or a transaction is a SELECT of one table's item by its whole key",
        ));
    };
    check_target(tables, &table, None)?;
    let (key, only_key) = key_of(tables, &table, &filter, &names, &values)?;
    if !only_key {
        return Err(DynamoError::validation(
            "A read in a batch or a transaction fixes the whole key and nothing else",
        ));
    }
    // The names the projection uses (the WHERE clause's are gone with it): whole `#pN` tokens.
    let in_projection = |k: &str| {
        projection.as_deref().is_some_and(|p| {
            p.split(|c: char| !(c.is_ascii_alphanumeric() || c == '#' || c == '_'))
                .any(|t| t == k)
        })
    };
    let used: Names = names
        .into_iter()
        .filter(|(k, _)| in_projection(k))
        .collect();
    Ok(TransactGet {
        table,
        key,
        projection,
        names: some(used),
    })
}

/// The paths of a SELECT's projection that reach into a document and end in a name
/// (`m.nested`, `l[0].x`): PartiQL answers each under that last name.
fn nested_paths(projection: Option<&str>, names: &Names) -> Result<Vec<expr::PathExpr>> {
    let Some(src) = projection else {
        return Ok(Vec::new());
    };
    let mut ph = Placeholders::new(Some(names), None);
    let paths = super::read::projection_paths(Some(src), None, &mut ph)?.unwrap_or_default();
    // A top-level attribute also named whole keeps its document: its paths are left alone.
    let whole: Vec<&expr::PathExpr> = paths.iter().filter(|p| p.len() == 1).collect();
    let nested = paths
        .iter()
        .filter(|p| {
            p.len() > 1
                && matches!(p.last(), Some(Elem::Name(_)))
                && !whole.iter().any(|w| w.first() == p.first())
        })
        .cloned()
        .collect();
    Ok(nested)
}

/// A projected item with each nested path's value moved to the top level under the path's
/// last name, as DynamoDB's PartiQL answers `SELECT m.nested` (`{"nested": …}`, where a
/// ProjectionExpression keeps the document's shape: the DynamoDB Conformance Suite's
/// ExecuteStatement tests, against DynamoDB).
fn name_by_leaf(item: Item, nested: &[expr::PathExpr]) -> Item {
    let leaves: Vec<(String, AttributeValue)> = nested
        .iter()
        .filter_map(|p| match p.last() {
            Some(Elem::Name(n)) => expr::eval::get_path(&item, p).map(|v| (n.clone(), v.clone())),
            _ => None,
        })
        .collect();
    let mut out = item;
    for p in nested {
        if let Some(Elem::Name(top)) = p.first() {
            out.remove(top);
        }
    }
    out.extend(leaves);
    out
}

impl Tables {
    /// ExecuteStatement.
    pub fn execute_statement(&self, st: &Statement) -> Result<StatementOutput> {
        let (parsed, names, values) = parse(st)?;
        if let Parsed::Select {
            projection,
            table,
            index,
            filter,
        } = parsed
        {
            check_target(self, &table, index.as_deref())?;
            let start = match &st.next_token {
                None => None,
                Some(t) => Some(decode_token(t)?),
            };
            let nested = nested_paths(projection.as_deref(), &names)?;
            let mut out = self.scan(&Search {
                table,
                index,
                filter,
                projection,
                names: some(names),
                values: some(values),
                forward: true,
                limit: st.limit,
                exclusive_start_key: start,
                consistent_read: st.consistent_read,
                ..Search::default()
            })?;
            if !nested.is_empty() {
                for item in &mut out.items {
                    *item = name_by_leaf(std::mem::take(item), &nested);
                }
            }
            return Ok(StatementOutput {
                items: out.items,
                next_token: out.last_evaluated_key.as_ref().map(encode_token),
            });
        }
        let insert = matches!(parsed, Parsed::Insert { .. });
        let r = match write_op(self, parsed, names, values)? {
            TransactWrite::Put(p) => self.put_item(&p).map(|_| ()),
            TransactWrite::Update(u) => self.update_item(&u).map(|_| ()),
            TransactWrite::Delete(d) => self.delete_item(&d).map(|_| ()),
            TransactWrite::Check(_) => Ok(()),
        };
        match r {
            Err(e) if e.kind == ErrorKind::ConditionalCheckFailed && insert => {
                Err(DynamoError::new(
                    ErrorKind::DuplicateItem,
                    "Duplicate primary key exists in table",
                ))
            }
            other => other.map(|()| StatementOutput::default()),
        }
    }

    /// BatchExecuteStatement: each statement on its own (a read names one item by its key),
    /// each with its own answer — the item read, or the error.
    pub fn batch_execute_statement(
        &self,
        statements: &[Statement],
    ) -> Result<Vec<(String, Result<Option<Item>>)>> {
        if statements.is_empty() || statements.len() > 25 {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length between 1 and 25 ({} given)",
                statements.len()
            )));
        }
        Ok(statements
            .iter()
            .map(|st| {
                let table = target(st).map(|(_, t, _)| t).unwrap_or_default();
                let one = || -> Result<Option<Item>> {
                    let (parsed, names, values) = parse(st)?;
                    if matches!(parsed, Parsed::Select { .. }) {
                        let g = key_read(self, parsed, names, values)?;
                        return Ok(self
                            .transact_get_items(&[g], Default::default())?
                            .responses
                            .into_iter()
                            .next()
                            .flatten());
                    }
                    self.execute_statement(st).map(|_| None)
                };
                (table, one())
            })
            .collect())
    }

    /// ExecuteTransaction: every statement a write (one TransactWriteItems, all or nothing)
    /// or every one a read of an item by its key (one TransactGetItems).
    pub fn execute_transaction(
        &self,
        statements: &[Statement],
        token: Option<&str>,
    ) -> Result<Vec<Option<Item>>> {
        let parsed = statements.iter().map(parse).collect::<Result<Vec<_>>>()?;
        let reads = parsed
            .iter()
            .filter(|(p, ..)| matches!(p, Parsed::Select { .. }))
            .count();
        if reads == parsed.len() {
            let gets = parsed
                .into_iter()
                .map(|(p, n, v)| key_read(self, p, n, v))
                .collect::<Result<Vec<_>>>()?;
            return Ok(self
                .transact_get_items(&gets, Default::default())?
                .responses);
        }
        if reads > 0 {
            return Err(DynamoError::validation(
                "A transaction's statements are all reads or all writes",
            ));
        }
        let writes = parsed
            .into_iter()
            .map(|(p, n, v)| write_op(self, p, n, v))
            .collect::<Result<Vec<_>>>()?;
        self.transact_write_items(&writes, token, Default::default())?;
        Ok(Vec::new())
    }
}

/// A placeholder map as a request has it (`None` when empty: the resolver refuses an empty
/// `ExpressionAttributeValues`).
fn some<V>(m: BTreeMap<String, V>) -> Option<BTreeMap<String, V>> {
    (!m.is_empty()).then_some(m)
}

/// A page's LastEvaluatedKey as an opaque NextToken (the item encoding, base64).
fn encode_token(key: &Item) -> String {
    base64::engine::general_purpose::STANDARD.encode(codec::encode_item(key))
}

fn decode_token(t: &str) -> Result<Item> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .map_err(|_| DynamoError::validation("The NextToken is not one this server gave"))?;
    codec::decode_item(&bytes)
        .map_err(|_| DynamoError::validation("The NextToken is not one this server gave"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::number::Number;

    fn st(s: &str, params: Vec<AttributeValue>) -> Statement {
        Statement {
            statement: s.into(),
            parameters: params,
            ..Statement::default()
        }
    }

    #[test]
    fn statements_become_expressions_with_placeholders() {
        let (p, names, values) = parse(&st(
            r#"SELECT pk, "a".b[1] FROM "t"."ix" WHERE (contains("Name", 'code') OR x != ?) AND Price >= 0 AND FreeTier IS NOT MISSING AND y IN [1, 2]"#,
            vec![AttributeValue::s("p")],
        ))
        .unwrap();
        let Parsed::Select {
            projection,
            table,
            index,
            filter,
        } = p
        else {
            panic!("{p:?}")
        };
        assert_eq!((table.as_str(), index.as_deref()), ("t", Some("ix")));
        assert_eq!(projection.as_deref(), Some("#p0, #p1.#p2[1]"));
        assert_eq!(
            filter.as_deref(),
            Some("(contains(#p3, :v0) OR #p4 <> :v1) AND #p5 >= :v2 AND attribute_exists(#p6) AND #p7 IN (:v3, :v4)")
        );
        assert_eq!(names["#p6"], "FreeTier");
        assert_eq!(values[":v1"], AttributeValue::s("p"));
        let (p, _, values) = parse(&st(
            "INSERT INTO t VALUE {'pk': 'a', 'n': -1.5, 'm': {'l': [true, null]}, 's': <<'x', 'y'>>}",
            vec![],
        ))
        .unwrap();
        assert!(values.is_empty());
        let Parsed::Insert {
            item: AttributeValue::M(m),
            ..
        } = p
        else {
            panic!("{p:?}")
        };
        assert_eq!(m["n"], AttributeValue::N(Number::parse("-1.5").unwrap()));
        assert!(matches!(m["s"], AttributeValue::Ss(_)));
    }

    #[test]
    fn bad_statements_say_why() {
        for (s, n) in [
            ("SELEC * FROM t", 0),
            ("SELECT * FROM t WHERE", 0),
            ("UPDATE t SET a = 1", 0),
            ("DELETE FROM t", 0),
            ("SELECT * FROM t WHERE a = ?", 0),
            ("SELECT * FROM t", 1),
            ("SELECT * FROM t WHERE a = 'x", 0),
        ] {
            let params = vec![AttributeValue::s("x"); n];
            let e = parse(&st(s, params)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation, "{s}: {e:?}");
        }
    }
}
