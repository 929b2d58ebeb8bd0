//! The one parser behind every expression: conditions (ConditionExpression, FilterExpression,
//! KeyConditionExpression), update expressions and projection expressions. Recursive descent
//! over the tokens of [`super::lexer`], with DynamoDB's precedence (comparators, `IN` and
//! `BETWEEN` bind tightest, then `NOT`, `AND`, `OR`).
//!
//! ```text
//! or        := and (OR and)*
//! and       := not (AND not)*
//! not       := NOT not | primary
//! primary   := '(' or ')' | compare
//! compare   := operand ( CMP operand | BETWEEN operand AND operand | IN '(' operand,… ')' )
//!            | call                                        -- a function used as a condition
//! operand   := name '(' operand,… ')' | path | :value | '(' operand ')'
//! path      := (name | #name) ( '.' (name | #name) | '[' digits ']' )*
//! update    := ( SET action,… | REMOVE path,… | ADD path :value,… | DELETE path :value,… )+
//! action    := path '=' value ( ('+' | '-') value )?
//! value     := name '(' value,… ')' | path | :value
//! projection:= path,…
//! ```
//! `(` before a condition is ambiguous (`(a = :v)` or `(a) = :v`); the parser tries the
//! condition and falls back to a parenthesised operand. A syntax error names the token and the
//! text around it, as DynamoDB does: `Syntax error; token: "<EOF>", near: "a ="`.

use super::ast::*;
use super::lexer::{lex, Tok, Token};
use super::ExprError;

/// Deepest nesting of parentheses and calls accepted (bounds the recursion). DynamoDB takes
/// 149 levels of `a<b or (…)` (ScyllaDB's Alternator test_deeply_nested_expression_2, run
/// against it); its operator limit stops deeper ones before nesting would.
const MAX_NESTING: usize = 400;
/// Longest expression DynamoDB takes, in bytes (its documented limit: 4 KB).
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Most operators and functions in one expression (DynamoDB's documented limit).
pub const MAX_OPERATORS: usize = 300;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// A syntax error: the index of the offending token.
type PResult<T> = Result<T, usize>;

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            toks: lex(src),
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Token {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)]
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek().tok, Tok::Sym(x) if x == s)
    }

    fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.is_sym(s) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.pos)
        }
    }

    fn at_eof(&self) -> bool {
        self.peek().tok == Tok::Eof
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.pos);
        }
        Ok(())
    }

    fn syntax_error(&self, at: usize) -> ExprError {
        let at = at.min(self.toks.len() - 1);
        let t = &self.toks[at];
        let first = if at > 0 { &self.toks[at - 1] } else { t };
        let last = match self.toks.get(at + 1) {
            Some(n) if n.tok != Tok::Eof => n,
            _ => t,
        };
        let end = if t.tok == Tok::Eof {
            first.end
        } else {
            last.end
        };
        let near = &self.src[first.start.min(end)..end];
        ExprError::at(
            format!(
                "Syntax error; token: \"{}\", near: \"{}\"",
                t.text(self.src),
                near
            ),
            (t.start, t.end),
        )
    }

    // ---- conditions ----

    fn or(&mut self) -> PResult<RawCond> {
        let mut left = self.and()?;
        while self.peek().is_keyword("OR") {
            self.pos += 1;
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<RawCond> {
        let mut left = self.not()?;
        while self.peek().is_keyword("AND") {
            self.pos += 1;
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<RawCond> {
        if self.peek().is_keyword("NOT") {
            self.pos += 1;
            self.enter()?;
            let c = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(c)));
        }
        self.primary()
    }

    fn continues_comparison(&self) -> bool {
        matches!(
            self.peek().tok,
            Tok::Sym("=" | "<>" | "<" | "<=" | ">" | ">=")
        ) || self.peek().is_keyword("BETWEEN")
            || self.peek().is_keyword("IN")
    }

    fn primary(&mut self) -> PResult<RawCond> {
        if self.is_sym("(") {
            self.enter()?;
            let (save, save_depth) = (self.pos, self.depth);
            self.pos += 1;
            let first = match self.or() {
                Ok(c) if self.is_sym(")") => {
                    self.pos += 1;
                    if !self.continues_comparison() {
                        self.depth -= 1;
                        return Ok(c);
                    }
                    self.pos
                }
                Ok(_) => self.pos,
                Err(e) => e,
            };
            // Not a parenthesised condition: a comparison whose operand is in parentheses.
            self.pos = save;
            self.depth = save_depth;
            let r = self.compare().map_err(|e| e.max(first));
            self.depth -= 1;
            return r;
        }
        self.compare()
    }

    fn compare(&mut self) -> PResult<RawCond> {
        let a = self.operand()?;
        let t = self.peek().clone();
        let op = match t.tok {
            Tok::Sym("=") => Some(CmpOp::Eq),
            Tok::Sym("<>") => Some(CmpOp::Ne),
            Tok::Sym("<") => Some(CmpOp::Lt),
            Tok::Sym("<=") => Some(CmpOp::Le),
            Tok::Sym(">") => Some(CmpOp::Gt),
            Tok::Sym(">=") => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let b = self.operand()?;
            return Ok(Cond::Cmp(op, a, b));
        }
        if t.is_keyword("BETWEEN") {
            self.pos += 1;
            let lo = self.operand()?;
            if !self.peek().is_keyword("AND") {
                return Err(self.pos);
            }
            self.pos += 1;
            let hi = self.operand()?;
            return Ok(Cond::Between(a, lo, hi));
        }
        if t.is_keyword("IN") {
            self.pos += 1;
            self.expect_sym("(")?;
            let list = self.operand_list()?;
            self.expect_sym(")")?;
            return Ok(Cond::In(a, list));
        }
        match a {
            Operand::Call(c) => Ok(Cond::Call(c)),
            _ => Err(self.pos),
        }
    }

    fn operand_list(&mut self) -> PResult<Vec<RawOperand>> {
        let mut list = vec![self.operand()?];
        while self.is_sym(",") {
            self.pos += 1;
            list.push(self.operand()?);
        }
        Ok(list)
    }

    fn operand(&mut self) -> PResult<RawOperand> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(name) if matches!(self.peek_at(1).tok, Tok::Sym("(")) => {
                if is_keyword(name) {
                    return Err(self.pos);
                }
                self.enter()?;
                self.pos += 2;
                let args = self.operand_list()?;
                self.expect_sym(")")?;
                self.depth -= 1;
                Ok(Operand::Call(Call {
                    name: name.clone(),
                    args,
                    span: (t.start, t.end),
                }))
            }
            Tok::Ident(_) | Tok::NameRef(_) => Ok(Operand::Path(self.path()?)),
            Tok::ValueRef(v) => {
                self.pos += 1;
                Ok(Operand::Value(RawValue {
                    text: v.clone(),
                    span: (t.start, t.end),
                }))
            }
            Tok::Sym("(") => {
                self.enter()?;
                self.pos += 1;
                let o = self.operand()?;
                self.expect_sym(")")?;
                self.depth -= 1;
                Ok(o)
            }
            _ => Err(self.pos),
        }
    }

    fn name(&mut self) -> PResult<RawName> {
        let t = self.peek().clone();
        let n = match &t.tok {
            Tok::Ident(s) if !is_keyword(s) => RawName {
                text: s.clone(),
                is_ref: false,
                span: (t.start, t.end),
            },
            Tok::NameRef(s) => RawName {
                text: s.clone(),
                is_ref: true,
                span: (t.start, t.end),
            },
            _ => return Err(self.pos),
        };
        self.pos += 1;
        Ok(n)
    }

    fn path(&mut self) -> PResult<RawPath> {
        let mut p = vec![Elem::Name(self.name()?)];
        loop {
            if self.is_sym(".") {
                self.pos += 1;
                p.push(Elem::Name(self.name()?));
            } else if self.is_sym("[") {
                self.pos += 1;
                let t = self.peek().clone();
                let Tok::Int(digits) = &t.tok else {
                    return Err(self.pos);
                };
                let k: u32 = digits.parse().map_err(|_| self.pos)?;
                self.pos += 1;
                self.expect_sym("]")?;
                p.push(Elem::Index(k));
            } else {
                return Ok(p);
            }
        }
    }

    // ---- update expressions ----

    fn set_operand(&mut self) -> PResult<RawOperand> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(name) if matches!(self.peek_at(1).tok, Tok::Sym("(")) => {
                self.enter()?;
                self.pos += 2;
                let mut args = vec![self.set_operand()?];
                while self.is_sym(",") {
                    self.pos += 1;
                    args.push(self.set_operand()?);
                }
                self.expect_sym(")")?;
                self.depth -= 1;
                Ok(Operand::Call(Call {
                    name: name.clone(),
                    args,
                    span: (t.start, t.end),
                }))
            }
            // A section's keyword is a token of the grammar, not a name: `SET a = set` is a
            // syntax error, not a reserved word (dynalite's tests, checked against DynamoDB).
            Tok::Ident(name)
                if ["SET", "REMOVE", "ADD", "DELETE"]
                    .iter()
                    .any(|k| name.eq_ignore_ascii_case(k)) =>
            {
                Err(self.pos)
            }
            Tok::Ident(_) | Tok::NameRef(_) => Ok(Operand::Path(self.path()?)),
            Tok::ValueRef(v) => {
                self.pos += 1;
                Ok(Operand::Value(RawValue {
                    text: v.clone(),
                    span: (t.start, t.end),
                }))
            }
            _ => Err(self.pos),
        }
    }

    fn value_ref(&mut self) -> PResult<RawValue> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::ValueRef(v) => {
                self.pos += 1;
                Ok(RawValue {
                    text: v.clone(),
                    span: (t.start, t.end),
                })
            }
            _ => Err(self.pos),
        }
    }

    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        let mut v = vec![item(self)?];
        while self.is_sym(",") {
            self.pos += 1;
            v.push(item(self)?);
        }
        Ok(v)
    }

    /// Parse an update expression; a repeated clause is reported with DynamoDB's message.
    fn update(&mut self) -> Result<RawUpdate, ExprError> {
        let mut clauses: Vec<RawClause> = Vec::new();
        while !self.at_eof() {
            let t = self.peek().clone();
            let kw = match &t.tok {
                Tok::Ident(s) => s.to_ascii_uppercase(),
                _ => return Err(self.syntax_error(self.pos)),
            };
            self.pos += 1;
            let clause = match kw.as_str() {
                "SET" => Clause::Set(
                    self.comma_list(|p| {
                        let path = p.path()?;
                        p.expect_sym("=")?;
                        let a = p.set_operand()?;
                        Ok(if p.is_sym("+") {
                            p.pos += 1;
                            (path, SetValue::Plus(a, p.set_operand()?))
                        } else if p.is_sym("-") {
                            p.pos += 1;
                            (path, SetValue::Minus(a, p.set_operand()?))
                        } else {
                            (path, SetValue::One(a))
                        })
                    })
                    .map_err(|e| self.syntax_error(e))?,
                ),
                "REMOVE" => Clause::Remove(
                    self.comma_list(|p| p.path())
                        .map_err(|e| self.syntax_error(e))?,
                ),
                "ADD" | "DELETE" => {
                    let actions = self
                        .comma_list(|p| Ok((p.path()?, p.value_ref()?)))
                        .map_err(|e| self.syntax_error(e))?;
                    if kw == "ADD" {
                        Clause::Add(actions)
                    } else {
                        Clause::Delete(actions)
                    }
                }
                _ => return Err(self.syntax_error(self.pos - 1)),
            };
            // A section used twice parses; resolving refuses it, after checks DynamoDB makes
            // first (`resolve::update`).
            clauses.push(clause);
        }
        if clauses.is_empty() {
            return Err(self.syntax_error(self.pos));
        }
        Ok(Update { clauses })
    }
}

type RawClause = Clause<RawName, RawValue>;

fn is_keyword(s: &str) -> bool {
    ["AND", "OR", "NOT", "BETWEEN", "IN"]
        .iter()
        .any(|k| s.eq_ignore_ascii_case(k))
}

fn check_not_empty(src: &str) -> Result<(), ExprError> {
    if src.trim().is_empty() {
        return Err(ExprError::new("The expression can not be empty;"));
    }
    if src.len() > MAX_EXPRESSION_BYTES {
        return Err(ExprError::new(format!(
            "Expression size has exceeded the maximum allowed size; expression size: {}",
            src.len()
        )));
    }
    Ok(())
}

/// DynamoDB's limit on operators and functions, counted on the tokens before parsing (so a
/// long chain is refused for its length, not for its depth): comparators, `+`, `-`, AND, OR,
/// NOT, BETWEEN (whose AND is part of it), IN, and each function call. In an update
/// expression `=` is SET's assignment, not an operator.
fn check_operators(toks: &[Token], update: bool) -> Result<(), ExprError> {
    let mut n = 0usize;
    for (i, t) in toks.iter().enumerate() {
        n += match &t.tok {
            Tok::Sym("=") => usize::from(!update),
            Tok::Sym("<>" | "<" | "<=" | ">" | ">=" | "+" | "-") => 1,
            Tok::Ident(_) if t.is_keyword("BETWEEN") => 0,
            Tok::Ident(s) if is_keyword(s) => 1,
            Tok::Ident(_) if matches!(toks.get(i + 1).map(|t| &t.tok), Some(Tok::Sym("("))) => 1,
            _ => 0,
        };
    }
    if n > MAX_OPERATORS {
        return Err(ExprError::new(format!(
            "The expression contains too many operators; operator count: {n}"
        )));
    }
    Ok(())
}

/// Parse a condition (ConditionExpression, FilterExpression or KeyConditionExpression).
pub fn parse_condition(src: &str) -> Result<RawCond, ExprError> {
    check_not_empty(src)?;
    let mut p = Parser::new(src);
    check_operators(&p.toks, false)?;
    check_redundant_parens(&p.toks)?;
    let c = p.or().map_err(|e| p.syntax_error(e))?;
    if !p.at_eof() {
        return Err(p.syntax_error(p.pos));
    }
    Ok(c)
}

/// DynamoDB refuses a condition with a parenthesised group that holds nothing but another one,
/// `((a = :v))` or `a > ((b))`, before its grammar and names are looked at (dynalite's tests,
/// checked against DynamoDB; unbalanced parentheses are left to the grammar). A function call's own parentheses do not count:
/// `f((:v))` is one group inside a call.
fn check_redundant_parens(toks: &[Token]) -> Result<(), ExprError> {
    let open_paren = |t: &Token| matches!(t.tok, Tok::Sym("("));
    // Most expressions have no `((` at all: nothing to match up.
    if !toks
        .windows(2)
        .any(|w| open_paren(&w[0]) && open_paren(&w[1]))
    {
        return Ok(());
    }
    let mut close = vec![0; toks.len()];
    let mut open = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Sym("(") => open.push(i),
            Tok::Sym(")") => {
                if let Some(o) = open.pop() {
                    close[o] = i;
                }
            }
            _ => {}
        }
    }
    for i in 0..toks.len().saturating_sub(1) {
        let call = i > 0
            && matches!(&toks[i - 1].tok, Tok::Ident(name)
                if !["AND", "OR", "NOT", "BETWEEN", "IN"].iter().any(|k| name.eq_ignore_ascii_case(k)));
        if matches!(toks[i].tok, Tok::Sym("("))
            && matches!(toks[i + 1].tok, Tok::Sym("("))
            && !call
            && close[i + 1] + 1 == close[i]
        {
            return Err(ExprError::at(
                "The expression has redundant parentheses;",
                (toks[i].start, toks[i + 1].end),
            ));
        }
    }
    Ok(())
}

/// Parse an update expression.
pub fn parse_update(src: &str) -> Result<RawUpdate, ExprError> {
    check_not_empty(src)?;
    let mut p = Parser::new(src);
    check_operators(&p.toks, true)?;
    p.update()
}

/// Parse a projection expression (a comma-separated list of paths).
pub fn parse_projection(src: &str) -> Result<Vec<RawPath>, ExprError> {
    check_not_empty(src)?;
    let mut p = Parser::new(src);
    let paths = p.comma_list(|p| p.path()).map_err(|e| p.syntax_error(e))?;
    if !p.at_eof() {
        return Err(p.syntax_error(p.pos));
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        parse_condition(s)
            .unwrap_or_else(|e| panic!("{s}: {}", e.message))
            .to_string()
    }

    /// DynamoDB's limits on an expression (ScyllaDB's Alternator test_limits.py, run against
    /// DynamoDB): 4096 bytes, 300 operators; nesting within them parses (here on a test
    /// thread's stack, debug build).
    #[test]
    fn size_operator_and_nesting_limits() {
        let long = format!("a{} = :v", " ".repeat(4091));
        assert_eq!(long.len(), 4097);
        assert_eq!(
            parse_condition(&long).unwrap_err().message,
            "Expression size has exceeded the maximum allowed size; expression size: 4097"
        );
        parse_condition(&long.replacen(' ', "", 1)).unwrap();
        let chain = |depth: usize| format!("a<b {}{}", "or (a<b ".repeat(depth), ")".repeat(depth));
        parse_condition(&chain(149)).unwrap();
        assert_eq!(
            parse_condition(&chain(150)).unwrap_err().message,
            "The expression contains too many operators; operator count: 301"
        );
        assert!(parse_condition(&"(".repeat(4000)).is_err());
        // The deepest nesting the limits leave (a group holding only a group is DynamoDB's
        // redundant parentheses; NOT and its group are two levels each).
        let levels = (MAX_NESTING - 1) / 2;
        let parens = format!("{}a = :v{}", "NOT (".repeat(levels), ")".repeat(levels));
        parse_condition(&parens).unwrap();
        assert!(parse_condition("a BETWEEN :x AND :y").is_ok());
        let sets: Vec<String> = (0..350).map(|i| format!("a{i} = :v")).collect();
        let update = format!("SET {}", sets.join(", "));
        assert!(update.len() <= MAX_EXPRESSION_BYTES);
        parse_update(&update).unwrap();
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(
            round("a = :v OR b = :w AND NOT c < :x"),
            "a = :v OR b = :w AND NOT c < :x"
        );
        assert_eq!(
            round("(a = :v OR b = :w) AND c <> :x"),
            "(a = :v OR b = :w) AND c <> :x"
        );
        assert_eq!(round("(a = :v)"), "a = :v");
        assert_eq!(round("(a) = :v"), "a = :v");
        assert_eq!(round("(size(a)) > :v"), "size(a) > :v");
        assert_eq!(
            round("a.b[3].#c BETWEEN :lo AND :hi"),
            "a.b[3].#c BETWEEN :lo AND :hi"
        );
        assert_eq!(round("x IN (:a,:b, :c)"), "x IN (:a, :b, :c)");
        assert_eq!(
            round("attribute_exists(#n) and not begins_with(a, :p)"),
            "attribute_exists(#n) AND NOT begins_with(a, :p)"
        );
        assert!(
            matches!(parse_condition("a = :v AND b = :w AND c = :x").unwrap(), Cond::And(l, _) if matches!(*l, Cond::And(..)))
        );
    }

    #[test]
    fn syntax_errors_name_the_token_and_its_neighbourhood() {
        let e = parse_condition("a = ").unwrap_err();
        assert_eq!(e.message, "Syntax error; token: \"<EOF>\", near: \"=\"");
        let e = parse_update("SET _123 = :val1").unwrap_err();
        assert_eq!(e.message, "Syntax error; token: \"_\", near: \"SET _123\"");
        assert_eq!(e.span, Some((4, 5)));
        assert!(parse_update("SET a = :v1 + :v2 + :v3").is_err());
        assert!(parse_update("SET c = if_not_exists(c, :val1+:val2)").is_err());
        assert!(parse_update("SET a[:xyz] = :v").is_err());
        assert!(parse_update("SET :a = :b").is_err());
        assert!(parse_update("HELLO b = :v").is_err());
        assert_eq!(
            parse_update("SET a = :v1 REMOVE a SET b = :v2")
                .unwrap()
                .clauses
                .len(),
            3
        );
        // A section keyword where an operand goes is a syntax error, not a reserved word.
        assert!(parse_update("SET a = set")
            .unwrap_err()
            .message
            .starts_with("Syntax error; "));
        // Parentheses that hold only parentheses, before the grammar; not a call's own.
        let redundant = "The expression has redundant parentheses;";
        for src in [
            "a > ((b))",
            "((a = :v))",
            "a = :v AND ((a = :v AND b = :v))",
            "(a) BETWEEN (((b.c)).d) AND (c)",
        ] {
            assert_eq!(
                parse_condition(src).unwrap_err().message,
                redundant,
                "{src}"
            );
        }
        for src in [
            "((size(b)) = :b) AND c = :c",
            "((a = :v) OR (b = :v))",
            "contains((a), :v)",
        ] {
            assert!(parse_condition(src).is_ok(), "{src}");
        }
        assert_eq!(
            parse_condition("  ").unwrap_err().message,
            "The expression can not be empty;"
        );
        assert!(parse_condition(&"(".repeat(500)).is_err());
        assert_eq!(
            parse_update("sEt b = :v").unwrap().to_string(),
            "SET b = :v"
        );
        assert_eq!(
            parse_update("REMOVE a SET b = if_not_exists(b, :z) + :w ADD c :x DELETE d :y")
                .unwrap()
                .to_string(),
            "REMOVE a SET b = if_not_exists(b, :z) + :w ADD c :x DELETE d :y"
        );
        assert_eq!(parse_projection("a, b.c[1], #d").unwrap().len(), 3);
    }

    use proptest::prelude::*;

    fn arb_name() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z][a-z0-9_]{0,3}", "#[a-zA-Z0-9_]{1,3}"]
            .prop_filter("keywords are not names", |s| !is_keyword(s))
    }

    fn arb_path() -> impl Strategy<Value = String> {
        (
            arb_name(),
            prop::collection::vec(
                prop_oneof![
                    arb_name().prop_map(|n| format!(".{n}")),
                    (0u32..20).prop_map(|i| format!("[{i}]"))
                ],
                0..3,
            ),
        )
            .prop_map(|(h, t)| format!("{h}{}", t.concat()))
    }

    fn arb_operand() -> impl Strategy<Value = String> {
        prop_oneof![
            arb_path(),
            ":[a-z0-9]{1,3}".prop_map(String::from),
            arb_path().prop_map(|p| format!("size({p})")),
        ]
    }

    fn arb_cond() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (
                arb_operand(),
                prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]),
                arb_operand()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (arb_operand(), arb_operand(), arb_operand())
                .prop_map(|(a, b, c)| format!("{a} BETWEEN {b} AND {c}")),
            (arb_operand(), prop::collection::vec(arb_operand(), 1..4))
                .prop_map(|(a, l)| format!("{a} IN ({})", l.join(", "))),
            arb_path().prop_map(|p| format!("attribute_exists({p})")),
            (arb_path(), arb_operand()).prop_map(|(p, o)| format!("begins_with({p}, {o})")),
        ];
        // Parentheses around a condition already in parentheses are DynamoDB's "redundant
        // parentheses" error, so a group is not wrapped twice.
        let group = |a: String| if wrapped(&a) { a } else { format!("({a})") };
        leaf.prop_recursive(4, 16, 2, move |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
                (inner.clone(), inner.clone())
                    .prop_map(move |(a, b)| format!("{} OR {b}", group(a))),
                inner.clone().prop_map(move |a| format!("NOT {}", group(a))),
                inner.prop_map(group),
            ]
        })
    }

    /// Whether `s` is one group of parentheses from its first character to its last.
    fn wrapped(s: &str) -> bool {
        let mut depth = 0;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 && i + 1 < s.len() {
                        return false;
                    }
                }
                _ if depth == 0 => return false,
                _ => {}
            }
        }
        s.starts_with('(')
    }

    proptest! {
        #[test]
        fn never_panics(s in "[ a-z#:()\\[\\]0-9.,=<>+_-]{0,40}|\\PC{0,20}") {
            let _ = parse_condition(&s);
            let _ = parse_update(&s);
            let _ = parse_projection(&s);
        }

        #[test]
        fn never_panics_on_near_misses(c in arb_cond(), cut in 0usize..200, junk in "[()=,:#.\\[\\]a-z ]{0,3}") {
            let cut = c.char_indices().map(|(i, _)| i).nth(cut % c.chars().count().max(1)).unwrap_or(0);
            let s = format!("{}{junk}{}", &c[..cut], &c[cut..]);
            let _ = parse_condition(&s);
        }

        #[test]
        fn condition_print_parse_round_trip(c in arb_cond()) {
            let first = parse_condition(&c).unwrap_or_else(|e| panic!("{c}: {}", e.message));
            let printed = first.to_string();
            let second = parse_condition(&printed).unwrap_or_else(|e| panic!("{printed}: {}", e.message));
            prop_assert_eq!(printed, second.to_string());
            prop_assert_eq!(strip(&first), strip(&second));
        }

        #[test]
        fn update_print_parse_round_trip(sets in prop::collection::vec((arb_path(), arb_operand(), prop::option::of((prop::sample::select(vec!["+", "-"]), arb_operand()))), 1..3), removes in prop::collection::vec(arb_path(), 0..3)) {
            let mut src = String::from("SET ");
            src.push_str(&sets.iter().map(|(p, a, b)| match b { Some((op, b)) => format!("{p} = {a} {op} {b}"), None => format!("{p} = {a}") }).collect::<Vec<_>>().join(", "));
            if !removes.is_empty() {
                src.push_str(&format!(" REMOVE {}", removes.join(", ")));
            }
            let first = parse_update(&src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
            let printed = first.to_string();
            prop_assert_eq!(printed.clone(), parse_update(&printed).unwrap().to_string());
        }
    }

    /// The tree without byte ranges (printing moves things).
    fn strip(c: &RawCond) -> String {
        format!("{c}")
    }
}
