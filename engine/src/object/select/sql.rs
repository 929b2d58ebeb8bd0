//! S3 Select's SQL, the part of it Seedbed runs: a lexer and a recursive-descent parser into
//! [`Query`].
//!
//! ```text
//! query  := SELECT proj FROM S3Object step* [[AS] alias] [WHERE expr] [LIMIT n] [';']
//! proj   := '*' | item (',' item)*            item := expr [[AS] name]
//! step   := '[*]' | '[' n ']' | '.' name
//! expr   := or;  or := and (OR and)*;  and := not (AND not)*;  not := NOT not | pred
//! pred   := sum [ cmp sum | IS [NOT] (NULL|MISSING) | [NOT] LIKE sum [ESCAPE 'c']
//!                | [NOT] BETWEEN sum AND sum | [NOT] IN '(' expr, … ')' ]
//! sum    := prod (('+' | '-' | '||') prod)*;  prod := unary (('*' | '/' | '%') unary)*
//! unary  := '-' unary | atom
//! atom   := 'text' | number | TRUE | FALSE | NULL | '(' expr ')' | CAST '(' expr AS type ')'
//!         | name '(' [ '*' | expr, … ] ')' | path
//! path   := name ('.' name | '[' n ']')*       name := word | "quoted word"
//! ```
//!
//! Keywords and unquoted names ignore case; a quoted name matches exactly. Errors name the
//! offset (in characters) where the query stopped making sense.

use super::value::Value;
use super::SelectError;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// What each output record holds.
    pub projection: Projection,
    /// The path from each input record to the values the query ranges over.
    pub from: Vec<Step>,
    /// The name the FROM clause gives them (`s` in `FROM S3Object s`).
    pub alias: Option<String>,
    /// WHERE.
    pub filter: Option<Expr>,
    /// LIMIT.
    pub limit: Option<u64>,
}

/// SELECT's list.
#[derive(Clone, Debug, PartialEq)]
pub enum Projection {
    /// `*`: the record itself.
    Star,
    /// Expressions, each with the name it was given.
    Items(Vec<(Expr, Option<String>)>),
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `[*]`: each element of a list (anything else: itself).
    Wildcard,
    /// `[n]`.
    Index(usize),
    /// `.name`; `true` when the name was quoted (matched exactly).
    Member(String, bool),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// AND.
    And,
    /// OR.
    Or,
    /// `=`.
    Eq,
    /// `!=`, `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `||`.
    Concat,
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// COUNT.
    Count,
    /// SUM.
    Sum,
    /// AVG.
    Avg,
    /// MIN.
    Min,
    /// MAX.
    Max,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal.
    Lit(Value),
    /// A path from the record (its first name may be the FROM alias, or `_N`).
    Path(Vec<Step>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `NOT e`.
    Not(Box<Expr>),
    /// `a op b`.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `e IS [NOT] NULL` (`true`: NOT).
    IsNull(Box<Expr>, bool),
    /// `e IS [NOT] MISSING`.
    IsMissing(Box<Expr>, bool),
    /// `e [NOT] LIKE pattern [ESCAPE c]`.
    Like(Box<Expr>, Box<Expr>, Option<char>, bool),
    /// `e [NOT] BETWEEN lo AND hi`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// `e [NOT] IN (…)`.
    In(Box<Expr>, Vec<Expr>, bool),
    /// A scalar function (name upper-cased).
    Call(String, Vec<Expr>),
    /// `CAST(e AS type)` (type upper-cased).
    Cast(Box<Expr>, String),
    /// An aggregate; `None` is `COUNT(*)`.
    Aggregate(Agg, Option<Box<Expr>>),
}

impl Expr {
    /// Whether an aggregate is in it.
    pub fn has_aggregate(&self) -> bool {
        match self {
            Expr::Aggregate(..) => true,
            Expr::Lit(_) | Expr::Path(_) => false,
            Expr::Neg(e)
            | Expr::Not(e)
            | Expr::IsNull(e, _)
            | Expr::IsMissing(e, _)
            | Expr::Cast(e, _) => e.has_aggregate(),
            Expr::Bin(_, a, b) | Expr::Like(a, b, ..) => a.has_aggregate() || b.has_aggregate(),
            Expr::Between(a, b, c, _) => {
                a.has_aggregate() || b.has_aggregate() || c.has_aggregate()
            }
            Expr::In(a, l, _) => a.has_aggregate() || l.iter().any(Expr::has_aggregate),
            Expr::Call(_, args) => args.iter().any(Expr::has_aggregate),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Text(String),
    Num(String),
    Sym(&'static str),
}

const SYMBOLS: [&str; 20] = [
    "<>", "!=", "<=", ">=", "||", "*", ",", ".", "[", "]", "(", ")", "=", "<", ">", "+", "-", "/",
    "%", ";",
];

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SelectError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Word(chars[at..i].iter().collect()), at));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                i += 1;
                if i < chars.len() && matches!(chars[i], '+' | '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push((Tok::Num(chars[at..i].iter().collect()), at));
        } else if c == '\'' || c == '"' {
            // 'text' and "name"; the quote doubled inside is the quote itself.
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(SelectError::parse(format!(
                            "the quote opened at {at} is never closed"
                        )))
                    }
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        s.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        s.push(x);
                        i += 1;
                    }
                }
            }
            out.push((
                if c == '\'' {
                    Tok::Text(s)
                } else {
                    Tok::Quoted(s)
                },
                at,
            ));
        } else {
            let rest: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| SelectError::parse(format!("unexpected character '{c}' at {at}")))?;
            i += sym.chars().count();
            out.push((Tok::Sym(sym), at));
        }
    }
    Ok(out)
}

/// Words that end an expression or a FROM clause, never names.
const RESERVED: [&str; 16] = [
    "SELECT", "FROM", "WHERE", "LIMIT", "AS", "AND", "OR", "NOT", "IS", "NULL", "MISSING", "LIKE",
    "BETWEEN", "IN", "ESCAPE", "CAST",
];

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |(_, a)| *a)
    }

    fn unexpected(&self, want: &str) -> SelectError {
        let found = match self.peek() {
            None => "the end of the query".to_string(),
            Some(Tok::Word(w) | Tok::Quoted(w)) => format!("'{w}'"),
            Some(Tok::Text(t)) => format!("'{t}'"),
            Some(Tok::Num(n)) => n.clone(),
            Some(Tok::Sym(s)) => format!("'{s}'"),
        };
        SelectError::parse(format!("expected {want} at {}, found {found}", self.at()))
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k)) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn expect_keyword(&mut self, k: &str) -> Result<(), SelectError> {
        if self.keyword(k) {
            Ok(())
        } else {
            Err(self.unexpected(k))
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), SelectError> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{s}'")))
        }
    }

    /// A name: a word that is not reserved, or a quoted name.
    fn name(&mut self) -> Option<(String, bool)> {
        match self.peek()? {
            Tok::Word(w) if !RESERVED.iter().any(|r| w.eq_ignore_ascii_case(r)) => {
                let w = w.clone();
                self.pos += 1;
                Some((w, false))
            }
            Tok::Quoted(q) => {
                let q = q.clone();
                self.pos += 1;
                Some((q, true))
            }
            _ => None,
        }
    }

    fn index(&mut self) -> Result<usize, SelectError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let i = n.parse().map_err(|_| self.unexpected("a list index"))?;
                self.pos += 1;
                Ok(i)
            }
            _ => Err(self.unexpected("a list index")),
        }
    }

    fn query(&mut self) -> Result<Query, SelectError> {
        self.expect_keyword("SELECT")?;
        let projection = if self.sym("*") {
            Projection::Star
        } else {
            let mut items = Vec::new();
            loop {
                let e = self.expr()?;
                let alias = if self.keyword("AS") {
                    Some(
                        self.name()
                            .ok_or_else(|| self.unexpected("a name after AS"))?
                            .0,
                    )
                } else {
                    self.name().map(|n| n.0)
                };
                items.push((e, alias));
                if !self.sym(",") {
                    break;
                }
            }
            Projection::Items(items)
        };
        self.expect_keyword("FROM")?;
        match self.name() {
            Some((n, _)) if n.eq_ignore_ascii_case("S3Object") => {}
            _ => return Err(self.unexpected("S3Object")),
        }
        let mut from = Vec::new();
        loop {
            if self.sym("[") {
                if self.sym("*") {
                    from.push(Step::Wildcard);
                } else {
                    from.push(Step::Index(self.index()?));
                }
                self.expect_sym("]")?;
            } else if self.sym(".") {
                let (n, q) = self.name().ok_or_else(|| self.unexpected("a name"))?;
                from.push(Step::Member(n, q));
            } else {
                break;
            }
        }
        let alias = if self.keyword("AS") {
            Some(
                self.name()
                    .ok_or_else(|| self.unexpected("a name after AS"))?
                    .0,
            )
        } else {
            self.name().map(|n| n.0)
        };
        let filter = if self.keyword("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let limit = if self.keyword("LIMIT") {
            let n = self.index()?;
            Some(n as u64)
        } else {
            None
        };
        // A statement's closing `;` is allowed, as SQL consoles (and Ceph RGW) allow it.
        self.sym(";");
        if self.peek().is_some() {
            return Err(self.unexpected("the end of the query"));
        }
        Ok(Query {
            projection,
            from,
            alias,
            filter,
            limit,
        })
    }

    fn expr(&mut self) -> Result<Expr, SelectError> {
        let mut e = self.and()?;
        while self.keyword("OR") {
            e = Expr::Bin(BinOp::Or, Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, SelectError> {
        let mut e = self.not()?;
        while self.keyword("AND") {
            e = Expr::Bin(BinOp::And, Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, SelectError> {
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.pred()
    }

    fn pred(&mut self) -> Result<Expr, SelectError> {
        let e = self.sum()?;
        for (s, op) in [
            ("=", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<>", BinOp::Ne),
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ] {
            if self.sym(s) {
                return Ok(Expr::Bin(op, Box::new(e), Box::new(self.sum()?)));
            }
        }
        if self.keyword("IS") {
            let neg = self.keyword("NOT");
            if self.keyword("NULL") {
                return Ok(Expr::IsNull(Box::new(e), neg));
            }
            self.expect_keyword("MISSING")?;
            return Ok(Expr::IsMissing(Box::new(e), neg));
        }
        let neg = self.keyword("NOT");
        if self.keyword("LIKE") {
            let pat = self.sum()?;
            let escape = if self.keyword("ESCAPE") {
                match self.peek() {
                    Some(Tok::Text(t)) if t.chars().count() == 1 => {
                        let c = t.chars().next();
                        self.pos += 1;
                        c
                    }
                    _ => return Err(self.unexpected("one character in quotes after ESCAPE")),
                }
            } else {
                None
            };
            return Ok(Expr::Like(Box::new(e), Box::new(pat), escape, neg));
        }
        if self.keyword("BETWEEN") {
            let lo = self.sum()?;
            self.expect_keyword("AND")?;
            let hi = self.sum()?;
            return Ok(Expr::Between(Box::new(e), Box::new(lo), Box::new(hi), neg));
        }
        if self.keyword("IN") {
            self.expect_sym("(")?;
            let mut list = vec![self.expr()?];
            while self.sym(",") {
                list.push(self.expr()?);
            }
            self.expect_sym(")")?;
            return Ok(Expr::In(Box::new(e), list, neg));
        }
        if neg {
            return Err(self.unexpected("LIKE, BETWEEN or IN after NOT"));
        }
        Ok(e)
    }

    /// One left-associative level of binary operators: `next (op next)*`.
    fn level(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> Result<Expr, SelectError>,
    ) -> Result<Expr, SelectError> {
        let mut e = next(self)?;
        while let Some(op) = ops.iter().find(|(s, _)| self.sym(s)).map(|(_, op)| *op) {
            e = Expr::Bin(op, Box::new(e), Box::new(next(self)?));
        }
        Ok(e)
    }

    fn sum(&mut self) -> Result<Expr, SelectError> {
        self.level(
            &[("+", BinOp::Add), ("-", BinOp::Sub), ("||", BinOp::Concat)],
            Self::prod,
        )
    }

    fn prod(&mut self) -> Result<Expr, SelectError> {
        self.level(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Expr, SelectError> {
        if self.sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, SelectError> {
        match self.peek().cloned() {
            Some(Tok::Text(t)) => {
                self.pos += 1;
                Ok(Expr::Lit(Value::Str(t)))
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                if let Ok(i) = n.parse::<i64>() {
                    return Ok(Expr::Lit(Value::Int(i)));
                }
                n.parse::<f64>()
                    .map(|f| Expr::Lit(Value::Float(f)))
                    .map_err(|_| SelectError::parse(format!("'{n}' is not a number")))
            }
            Some(Tok::Sym("(")) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("TRUE") || w.eq_ignore_ascii_case("FALSE") =>
            {
                self.pos += 1;
                Ok(Expr::Lit(Value::Bool(w.eq_ignore_ascii_case("TRUE"))))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NULL") => {
                self.pos += 1;
                Ok(Expr::Lit(Value::Null))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("CAST") => {
                self.pos += 1;
                self.expect_sym("(")?;
                let e = self.expr()?;
                self.expect_keyword("AS")?;
                let ty = match self.peek() {
                    Some(Tok::Word(t)) => t.to_ascii_uppercase(),
                    _ => return Err(self.unexpected("a type")),
                };
                self.pos += 1;
                self.expect_sym(")")?;
                Ok(Expr::Cast(Box::new(e), ty))
            }
            _ => {
                let (first, quoted) = self
                    .name()
                    .ok_or_else(|| self.unexpected("an expression"))?;
                if !quoted && self.sym("(") {
                    return self.call(first.to_ascii_uppercase());
                }
                let mut steps = vec![Step::Member(first, quoted)];
                loop {
                    if self.sym(".") {
                        let (n, q) = self.name().ok_or_else(|| self.unexpected("a name"))?;
                        steps.push(Step::Member(n, q));
                    } else if self.sym("[") {
                        steps.push(Step::Index(self.index()?));
                        self.expect_sym("]")?;
                    } else {
                        return Ok(Expr::Path(steps));
                    }
                }
            }
        }
    }

    fn call(&mut self, name: String) -> Result<Expr, SelectError> {
        let agg = match name.as_str() {
            "COUNT" => Some(Agg::Count),
            "SUM" => Some(Agg::Sum),
            "AVG" => Some(Agg::Avg),
            "MIN" => Some(Agg::Min),
            "MAX" => Some(Agg::Max),
            _ => None,
        };
        if agg == Some(Agg::Count) && self.sym("*") {
            self.expect_sym(")")?;
            return Ok(Expr::Aggregate(Agg::Count, None));
        }
        let mut args = Vec::new();
        if !self.sym(")") {
            args.push(self.expr()?);
            while self.sym(",") {
                args.push(self.expr()?);
            }
            self.expect_sym(")")?;
        }
        if let Some(a) = agg {
            if args.len() != 1 || args[0].has_aggregate() {
                return Err(SelectError::parse(format!(
                    "{name} takes one argument, not an aggregate"
                )));
            }
            return Ok(Expr::Aggregate(a, args.pop().map(Box::new)));
        }
        Ok(Expr::Call(name, args))
    }
}

/// Parse a query.
pub fn parse(src: &str) -> Result<Query, SelectError> {
    let toks = lex(src)?;
    let mut p = Parser {
        len: src.chars().count(),
        toks,
        pos: 0,
    };
    p.query()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_clients_send() {
        let q = parse("select * from s3object[*].staff[*] s").unwrap();
        assert_eq!(q.projection, Projection::Star);
        assert_eq!(
            q.from,
            vec![
                Step::Wildcard,
                Step::Member("staff".into(), false),
                Step::Wildcard
            ]
        );
        assert_eq!(q.alias.as_deref(), Some("s"));
        let q = parse("SELECT count(*) AS cnt FROM S3Object").unwrap();
        assert_eq!(
            q.projection,
            Projection::Items(vec![(
                Expr::Aggregate(Agg::Count, None),
                Some("cnt".into())
            )])
        );
        let q = parse("SELECT s._1, s.\"Name\" FROM S3Object s WHERE CAST(s._2 AS INT) >= 3 AND s._3 LIKE 'a%' LIMIT 5").unwrap();
        assert_eq!(q.limit, Some(5));
        assert!(matches!(q.filter, Some(Expr::Bin(BinOp::And, ..))));
    }

    #[test]
    fn errors_say_where() {
        let e = parse("SELECT * FROM S3Object WHERE").unwrap_err();
        assert!(
            e.message.contains("expected an expression at 28"),
            "{}",
            e.message
        );
        let e = parse("SELECT * FROM table").unwrap_err();
        assert!(e.message.contains("S3Object"), "{}", e.message);
        assert!(parse("SELECT 'open FROM S3Object").is_err());
        assert!(parse("SELECT * FROM S3Object s junk").is_err());
    }
}
