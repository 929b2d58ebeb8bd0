//! The expression trees. One shape serves twice: as parsed (names and values still
//! placeholders, with their places in the text — [`RawName`], [`RawValue`]) and as resolved for
//! evaluation (plain attribute names and values). `Display` on the parsed form prints an
//! expression that parses back to the same tree (the round-trip property test).

use std::fmt;

/// A path element: a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem<N> {
    /// `.name` (or the first name).
    Name(N),
    /// `[n]`.
    Index(u32),
}

/// A document path `a.b[3].c`; never empty, and the first element is a name.
pub type Path<N> = Vec<Elem<N>>;

/// A name as written: bare or a `#placeholder`, with its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawName {
    /// The text (`a` or `#a`).
    pub text: String,
    /// `#placeholder`?
    pub is_ref: bool,
    /// Byte range in the expression.
    pub span: (usize, usize),
}

/// A `:placeholder` as written, with its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawValue {
    /// The text (`:v`).
    pub text: String,
    /// Byte range in the expression.
    pub span: (usize, usize),
}

/// An operand: a path, a value, or a function call (`size(a)`, `if_not_exists(a, :v)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Operand<N, V> {
    /// A document path.
    Path(Path<N>),
    /// A value.
    Value(V),
    /// A function call.
    Call(Call<N, V>),
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call<N, V> {
    /// The function name (case-sensitive).
    pub name: String,
    /// The arguments.
    pub args: Vec<Operand<N, V>>,
    /// Byte range of the name in the expression.
    pub span: (usize, usize),
}

/// A comparator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression).
#[derive(Clone, Debug, PartialEq)]
pub enum Cond<N, V> {
    /// `a op b`.
    Cmp(CmpOp, Operand<N, V>, Operand<N, V>),
    /// `a BETWEEN b AND c`.
    Between(Operand<N, V>, Operand<N, V>, Operand<N, V>),
    /// `a IN (b, c, …)`.
    In(Operand<N, V>, Vec<Operand<N, V>>),
    /// A function used as a condition (`attribute_exists(a)`, `begins_with(a, :p)`, …).
    Call(Call<N, V>),
    /// `NOT c`.
    Not(Box<Cond<N, V>>),
    /// `a AND b`.
    And(Box<Cond<N, V>>, Box<Cond<N, V>>),
    /// `a OR b`.
    Or(Box<Cond<N, V>>, Box<Cond<N, V>>),
}

/// The right-hand side of a SET action.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue<N, V> {
    /// `= operand`.
    One(Operand<N, V>),
    /// `= a + b`.
    Plus(Operand<N, V>, Operand<N, V>),
    /// `= a - b`.
    Minus(Operand<N, V>, Operand<N, V>),
}

/// One clause of an update expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause<N, V> {
    /// `SET path = value, …`.
    Set(Vec<(Path<N>, SetValue<N, V>)>),
    /// `REMOVE path, …`.
    Remove(Vec<Path<N>>),
    /// `ADD path :value, …`.
    Add(Vec<(Path<N>, V)>),
    /// `DELETE path :value, …`.
    Delete(Vec<(Path<N>, V)>),
}

impl<N, V> Clause<N, V> {
    /// The clause keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Clause::Set(_) => "SET",
            Clause::Remove(_) => "REMOVE",
            Clause::Add(_) => "ADD",
            Clause::Delete(_) => "DELETE",
        }
    }
}

/// An update expression: its clauses in the order written (each keyword at most once).
#[derive(Clone, Debug, PartialEq)]
pub struct Update<N, V> {
    /// The clauses.
    pub clauses: Vec<Clause<N, V>>,
}

/// A parsed (unresolved) condition.
pub type RawCond = Cond<RawName, RawValue>;
/// A parsed (unresolved) operand.
pub type RawOperand = Operand<RawName, RawValue>;
/// A parsed (unresolved) path.
pub type RawPath = Path<RawName>;
/// A parsed (unresolved) update expression.
pub type RawUpdate = Update<RawName, RawValue>;

impl fmt::Display for RawName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Print a path (`a.b[3]`).
pub fn fmt_path<N: fmt::Display>(p: &[Elem<N>], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, e) in p.iter().enumerate() {
        match e {
            Elem::Name(n) if i == 0 => write!(f, "{n}")?,
            Elem::Name(n) => write!(f, ".{n}")?,
            Elem::Index(k) => write!(f, "[{k}]")?,
        }
    }
    Ok(())
}

/// A path in DynamoDB's error-message form: `[a, b, [3]]`.
pub fn path_for_message(p: &[Elem<String>]) -> String {
    let parts: Vec<String> = p
        .iter()
        .map(|e| match e {
            Elem::Name(n) => n.clone(),
            Elem::Index(k) => format!("[{k}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

impl<N: fmt::Display, V: fmt::Display> fmt::Display for Operand<N, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => fmt_path(p, f),
            Operand::Value(v) => write!(f, "{v}"),
            Operand::Call(c) => write!(f, "{c}"),
        }
    }
}

impl<N: fmt::Display, V: fmt::Display> fmt::Display for Call<N, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

impl<N: fmt::Display, V: fmt::Display> Cond<N, V> {
    /// Binding strength: OR 1, AND 2, NOT 3, everything else 4.
    fn level(&self) -> u8 {
        match self {
            Cond::Or(..) => 1,
            Cond::And(..) => 2,
            Cond::Not(_) => 3,
            _ => 4,
        }
    }

    fn fmt_at(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.level() < min {
            f.write_str("(")?;
            self.fmt_at(f, 0)?;
            return f.write_str(")");
        }
        match self {
            Cond::Cmp(op, a, b) => write!(f, "{a} {} {b}", op.symbol()),
            Cond::Between(a, b, c) => write!(f, "{a} BETWEEN {b} AND {c}"),
            Cond::In(a, list) => {
                write!(f, "{a} IN (")?;
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
            Cond::Call(c) => write!(f, "{c}"),
            Cond::Not(c) => {
                f.write_str("NOT ")?;
                c.fmt_at(f, 3)
            }
            // Left-associative: the right side binds one level tighter.
            Cond::And(a, b) => {
                a.fmt_at(f, 2)?;
                f.write_str(" AND ")?;
                b.fmt_at(f, 3)
            }
            Cond::Or(a, b) => {
                a.fmt_at(f, 1)?;
                f.write_str(" OR ")?;
                b.fmt_at(f, 2)
            }
        }
    }
}

impl<N: fmt::Display, V: fmt::Display> fmt::Display for Cond<N, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_at(f, 0)
    }
}

impl<N: fmt::Display, V: fmt::Display> fmt::Display for Update<N, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (ci, c) in self.clauses.iter().enumerate() {
            if ci > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{} ", c.keyword())?;
            let sep = |f: &mut fmt::Formatter<'_>, i: usize| {
                if i > 0 {
                    f.write_str(", ")
                } else {
                    Ok(())
                }
            };
            match c {
                Clause::Set(actions) => {
                    for (i, (p, v)) in actions.iter().enumerate() {
                        sep(f, i)?;
                        fmt_path(p, f)?;
                        match v {
                            SetValue::One(a) => write!(f, " = {a}")?,
                            SetValue::Plus(a, b) => write!(f, " = {a} + {b}")?,
                            SetValue::Minus(a, b) => write!(f, " = {a} - {b}")?,
                        }
                    }
                }
                Clause::Remove(paths) => {
                    for (i, p) in paths.iter().enumerate() {
                        sep(f, i)?;
                        fmt_path(p, f)?;
                    }
                }
                Clause::Add(actions) | Clause::Delete(actions) => {
                    for (i, (p, v)) in actions.iter().enumerate() {
                        sep(f, i)?;
                        fmt_path(p, f)?;
                        write!(f, " {v}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
