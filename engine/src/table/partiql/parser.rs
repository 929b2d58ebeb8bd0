//! PartiQL statements parsed, their WHERE clauses, projections and update clauses rewritten
//! into DynamoDB's expression syntax with `#pN` / `:vN` placeholders.

use std::collections::BTreeMap;

use super::lexer::{lex, Tok};
use super::{malformed, Statement};
use crate::table::error::{DynamoError, Result};
use crate::table::number::Number;
use crate::table::request::{Names, Values};
use crate::table::value::AttributeValue;

/// Functions DynamoDB's PartiQL shares with its condition expressions.
const FUNCTIONS: [&str; 6] = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
];

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    params: &'a [AttributeValue],
    used_params: usize,
    names: Names,
    values: Values,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn expect_word(&mut self, w: &str) -> Result<()> {
        if self.is_word(w) {
            self.at += 1;
            Ok(())
        } else {
            Err(malformed(format!("expected {w} at token {}", self.at + 1)))
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<()> {
        if self.is_sym(s) {
            self.at += 1;
            Ok(())
        } else {
            Err(malformed(format!(
                "expected '{s}' at token {}",
                self.at + 1
            )))
        }
    }

    fn name_placeholder(&mut self, name: String) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| **v == name) {
            return k.clone();
        }
        let k = format!("#p{}", self.names.len());
        self.names.insert(k.clone(), name);
        k
    }

    fn value_placeholder(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }

    /// A table or index name: a word or a "quoted" name.
    fn ident(&mut self) -> Result<String> {
        match self.next() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => Ok(w),
            _ => Err(malformed(format!("expected a name at token {}", self.at))),
        }
    }

    /// `t` or `t.index`.
    fn table_ref(&mut self) -> Result<(String, Option<String>)> {
        let t = self.ident()?;
        if self.is_sym(".") {
            self.at += 1;
            return Ok((t, Some(self.ident()?)));
        }
        Ok((t, None))
    }

    /// A document path, rendered with name placeholders: `a`, `"a".b[2]`.
    fn path(&mut self) -> Result<String> {
        let first = self.ident()?;
        let mut out = self.name_placeholder(first);
        loop {
            if self.is_sym(".") {
                self.at += 1;
                let n = self.ident()?;
                out.push('.');
                out.push_str(&self.name_placeholder(n));
            } else if self.is_sym("[") {
                self.at += 1;
                match self.next() {
                    Some(Tok::Num(n)) => out.push_str(&format!("[{n}]")),
                    _ => return Err(malformed("a list index is a number")),
                }
                self.expect_sym("]")?;
            } else {
                return Ok(out);
            }
        }
    }

    /// A literal or a parameter.
    fn value(&mut self) -> Result<AttributeValue> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(AttributeValue::S(s)),
            Some(Tok::Num(n)) => number(&n),
            Some(Tok::Sym("-")) => match self.next() {
                Some(Tok::Num(n)) => number(&format!("-{n}")),
                _ => Err(malformed("'-' must precede a number")),
            },
            Some(Tok::Param) => {
                let v = self.params.get(self.used_params).cloned().ok_or_else(|| {
                    DynamoError::validation(
                        "Number of parameters in request and statement don't match.",
                    )
                })?;
                self.used_params += 1;
                Ok(v)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(AttributeValue::Bool(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => {
                Ok(AttributeValue::Bool(false))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(AttributeValue::Null),
            Some(Tok::Sym("{")) => {
                let mut m = BTreeMap::new();
                while !self.is_sym("}") {
                    let k = match self.next() {
                        Some(Tok::Str(k)) | Some(Tok::Quoted(k)) => k,
                        _ => return Err(malformed("a map key is a 'string'")),
                    };
                    self.expect_sym(":")?;
                    m.insert(k, self.value()?);
                    if !self.is_sym("}") {
                        self.expect_sym(",")?;
                    }
                }
                self.at += 1;
                Ok(AttributeValue::M(m))
            }
            Some(Tok::Sym("[")) => Ok(AttributeValue::L(self.values_until("]")?)),
            Some(Tok::Sym("<<")) => set(self.values_until(">>")?),
            other => Err(malformed(format!("expected a value, found {other:?}"))),
        }
    }

    fn values_until(&mut self, end: &str) -> Result<Vec<AttributeValue>> {
        let mut out = Vec::new();
        while !self.is_sym(end) {
            out.push(self.value()?);
            if !self.is_sym(end) {
                self.expect_sym(",")?;
            }
        }
        self.at += 1;
        Ok(out)
    }

    fn starts_value(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Str(_) | Tok::Num(_) | Tok::Param | Tok::Sym("{" | "[" | "<<" | "-"))
        ) || ["true", "false", "null"].iter().any(|w| self.is_word(w))
    }

    /// An operand of a comparison: a value, a path, or `size(path)`.
    fn operand(&mut self) -> Result<String> {
        if self.starts_value() {
            let v = self.value()?;
            return Ok(self.value_placeholder(v));
        }
        if self.is_word("size") && self.toks.get(self.at + 1) == Some(&Tok::Sym("(")) {
            return self.call();
        }
        self.path()
    }

    /// `f(arg, …)` for one of [`FUNCTIONS`].
    fn call(&mut self) -> Result<String> {
        let name = self.ident()?.to_ascii_lowercase();
        if !FUNCTIONS.contains(&name.as_str()) {
            return Err(malformed(format!("unknown function {name}")));
        }
        self.expect_sym("(")?;
        let mut args = Vec::new();
        while !self.is_sym(")") {
            args.push(self.operand()?);
            if !self.is_sym(")") {
                self.expect_sym(",")?;
            }
        }
        self.at += 1;
        Ok(format!("{name}({})", args.join(", ")))
    }

    fn or(&mut self) -> Result<String> {
        let mut out = self.and()?;
        while self.is_word("or") {
            self.at += 1;
            out = format!("{out} OR {}", self.and()?);
        }
        Ok(out)
    }

    fn and(&mut self) -> Result<String> {
        let mut out = self.not()?;
        while self.is_word("and") {
            self.at += 1;
            out = format!("{out} AND {}", self.not()?);
        }
        Ok(out)
    }

    fn not(&mut self) -> Result<String> {
        if self.is_word("not") {
            self.at += 1;
            return Ok(format!("NOT {}", self.not()?));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<String> {
        if self.is_sym("(") {
            self.at += 1;
            let inner = self.or()?;
            self.expect_sym(")")?;
            return Ok(format!("({inner})"));
        }
        let function = matches!(self.peek(), Some(Tok::Word(w)) if FUNCTIONS.contains(&w.to_ascii_lowercase().as_str()))
            && self.toks.get(self.at + 1) == Some(&Tok::Sym("("));
        let left = if function {
            let c = self.call()?;
            if !c.starts_with("size(") {
                return Ok(c);
            }
            c
        } else {
            self.operand()?
        };
        match self.next() {
            Some(Tok::Sym(op @ ("=" | "<>" | "!=" | "<" | "<=" | ">" | ">="))) => {
                let op = if op == "!=" { "<>" } else { op };
                Ok(format!("{left} {op} {}", self.operand()?))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("between") => {
                let lo = self.operand()?;
                self.expect_word("and")?;
                Ok(format!("{left} BETWEEN {lo} AND {}", self.operand()?))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                let end = match self.next() {
                    Some(Tok::Sym("[")) => "]",
                    Some(Tok::Sym("(")) => ")",
                    _ => return Err(malformed("IN takes a list: [a, b]")),
                };
                let mut items = Vec::new();
                while !self.is_sym(end) {
                    items.push(self.operand()?);
                    if !self.is_sym(end) {
                        self.expect_sym(",")?;
                    }
                }
                self.at += 1;
                Ok(format!("{left} IN ({})", items.join(", ")))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                let negated = self.is_word("not");
                if negated {
                    self.at += 1;
                }
                if self.is_word("missing") {
                    self.at += 1;
                    return Ok(if negated {
                        format!("attribute_exists({left})")
                    } else {
                        format!("attribute_not_exists({left})")
                    });
                }
                self.expect_word("null")?;
                let null = self.value_placeholder(AttributeValue::S("NULL".into()));
                Ok(if negated {
                    format!("NOT attribute_type({left}, {null})")
                } else {
                    format!("attribute_type({left}, {null})")
                })
            }
            other => Err(malformed(format!("expected a comparison, found {other:?}"))),
        }
    }

    fn where_clause(&mut self) -> Result<Option<String>> {
        if self.is_word("where") {
            self.at += 1;
            return Ok(Some(self.or()?));
        }
        Ok(None)
    }

    fn end(&self) -> Result<()> {
        if self.at < self.toks.len() {
            return Err(malformed(format!(
                "unexpected {:?} after the statement",
                self.toks[self.at]
            )));
        }
        if self.used_params != self.params.len() {
            return Err(DynamoError::validation(
                "Number of parameters in request and statement don't match.",
            ));
        }
        Ok(())
    }
}

fn number(n: &str) -> Result<AttributeValue> {
    Number::parse(n)
        .map(AttributeValue::N)
        .map_err(|e| malformed(format!("the number {n}: {e}")))
}

fn set(items: Vec<AttributeValue>) -> Result<AttributeValue> {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    let mut binaries = Vec::new();
    for v in items {
        match v {
            AttributeValue::S(s) => strings.push(s),
            AttributeValue::N(n) => numbers.push(n),
            AttributeValue::B(b) => binaries.push(b),
            other => {
                return Err(malformed(format!(
                    "a set holds strings, numbers or binaries, not {:?}",
                    other.value_type()
                )))
            }
        }
    }
    match (strings.is_empty(), numbers.is_empty(), binaries.is_empty()) {
        (false, true, true) => Ok(AttributeValue::Ss(strings.into_iter().collect())),
        (true, false, true) => Ok(AttributeValue::Ns(numbers.into_iter().collect())),
        (true, true, false) => Ok(AttributeValue::Bs(binaries.into_iter().collect())),
        _ => Err(malformed(
            "a set holds values of one type, and at least one",
        )),
    }
}

/// What a statement does, parsed.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Parsed {
    Select {
        projection: Option<String>,
        table: String,
        index: Option<String>,
        filter: Option<String>,
    },
    Insert {
        table: String,
        item: AttributeValue,
    },
    Update {
        table: String,
        update: String,
        condition: String,
    },
    Delete {
        table: String,
        condition: String,
    },
}

pub(super) fn parse(st: &Statement) -> Result<(Parsed, Names, Values)> {
    let mut p = Parser {
        toks: lex(&st.statement)?,
        at: 0,
        params: &st.parameters,
        used_params: 0,
        names: Names::new(),
        values: Values::new(),
    };
    let verb = match p.next() {
        Some(Tok::Word(w)) => w.to_ascii_uppercase(),
        _ => {
            return Err(malformed(
                "a statement starts with SELECT, INSERT, UPDATE or DELETE",
            ))
        }
    };
    let parsed = match verb.as_str() {
        "SELECT" => {
            let projection = if p.is_sym("*") {
                p.at += 1;
                None
            } else {
                let mut paths = vec![p.path()?];
                while p.is_sym(",") {
                    p.at += 1;
                    paths.push(p.path()?);
                }
                Some(paths.join(", "))
            };
            p.expect_word("from")?;
            let (table, index) = p.table_ref()?;
            let filter = p.where_clause()?;
            Parsed::Select {
                projection,
                table,
                index,
                filter,
            }
        }
        "INSERT" => {
            p.expect_word("into")?;
            let table = p.ident()?;
            p.expect_word("value")?;
            let item = p.value()?;
            Parsed::Insert { table, item }
        }
        "UPDATE" => {
            let table = p.ident()?;
            let mut sets = Vec::new();
            let mut removes = Vec::new();
            loop {
                if p.is_word("set") {
                    p.at += 1;
                    loop {
                        let path = p.path()?;
                        p.expect_sym("=")?;
                        let v = p.operand()?;
                        sets.push(format!("{path} = {v}"));
                        if !p.is_sym(",") {
                            break;
                        }
                        p.at += 1;
                    }
                } else if p.is_word("remove") {
                    p.at += 1;
                    removes.push(p.path()?);
                    while p.is_sym(",") {
                        p.at += 1;
                        removes.push(p.path()?);
                    }
                } else {
                    break;
                }
            }
            if sets.is_empty() && removes.is_empty() {
                return Err(malformed("UPDATE needs SET or REMOVE"));
            }
            let mut update = String::new();
            if !sets.is_empty() {
                update.push_str(&format!("SET {}", sets.join(", ")));
            }
            if !removes.is_empty() {
                update.push_str(&format!(" REMOVE {}", removes.join(", ")));
            }
            let condition = p
                .where_clause()?
                .ok_or_else(|| malformed("UPDATE needs a WHERE clause naming the item's key"))?;
            Parsed::Update {
                table,
                update: update.trim().to_string(),
                condition,
            }
        }
        "DELETE" => {
            p.expect_word("from")?;
            let table = p.ident()?;
            let condition = p
                .where_clause()?
                .ok_or_else(|| malformed("DELETE needs a WHERE clause naming the item's key"))?;
            Parsed::Delete { table, condition }
        }
        other => {
            return Err(malformed(format!(
                "{other} is not SELECT, INSERT, UPDATE or DELETE"
            )))
        }
    };
    p.end()?;
    Ok((parsed, p.names, p.values))
}
