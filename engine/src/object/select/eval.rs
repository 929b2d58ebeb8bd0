//! Running a [`Query`] over records: the FROM path, WHERE, the projection, aggregates.
//!
//! SQL's three-valued logic, simplified as S3 Select applies it to a filter: a comparison
//! with `NULL` or `MISSING`, or between values that do not compare (text and a number), is
//! not true, so the record is left out. Text is not turned into a number by itself — CSV
//! fields are text, and `CAST(s._2 AS INT) > 3` compares them as numbers, as on S3.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::sql::{Agg, BinOp, Expr, Projection, Query, Step};
use super::value::Value;
use super::SelectError;

/// The values `FROM S3Object step…` ranges over for one record: `[*]` fans a list out into
/// its elements (anything else stays itself), `.name` takes a member, `[n]` an element.
pub fn from_values(record: Value, steps: &[Step]) -> Vec<Value> {
    let mut vals = vec![record];
    for s in steps {
        vals = vals
            .into_iter()
            .flat_map(|v| match (s, v) {
                (Step::Wildcard, Value::List(l)) => l,
                (Step::Wildcard, other) => vec![other],
                (Step::Index(i), Value::List(l)) => {
                    vec![l.get(*i).cloned().unwrap_or(Value::Missing)]
                }
                (Step::Index(_), _) => vec![Value::Missing],
                (Step::Member(n, exact), v) => vec![v.member(n, *exact)],
            })
            .collect();
    }
    vals
}

/// `SELECT *` of a value: an object as it is, nothing as `{}`, anything else as `{"_1": v}`.
pub fn star(v: Value) -> Value {
    match v {
        Value::Object(_) => v,
        Value::Missing => Value::Object(Vec::new()),
        other => Value::Object(vec![("_1".into(), other)]),
    }
}

/// One value the query ranges over, and the name it has.
pub struct Row<'a> {
    /// The value.
    pub value: &'a Value,
    /// The FROM alias.
    pub alias: Option<&'a str>,
}

impl Row<'_> {
    /// The value a path leads to.
    fn path(&self, steps: &[Step]) -> &Value {
        const MISSING: &Value = &Value::Missing;
        let mut rest = steps;
        let mut v: &Value = self.value;
        if let (Some(Step::Member(first, exact)), Some(alias)) = (steps.first(), self.alias) {
            let is_alias = if *exact {
                first == alias
            } else {
                first.eq_ignore_ascii_case(alias)
            };
            if is_alias {
                rest = &steps[1..];
            }
        }
        for (i, s) in rest.iter().enumerate() {
            v = match (s, v) {
                (Step::Member(n, exact), obj) => match (obj.member_ref(n, *exact), obj) {
                    (Some(m), _) => m,
                    // `_N`: the Nth field of the record (CSV columns, positionally).
                    (None, Value::Object(fields)) if i == 0 => positional(n)
                        .and_then(|k| fields.get(k))
                        .map_or(MISSING, |(_, f)| f),
                    _ => MISSING,
                },
                (Step::Index(k), Value::List(l)) => l.get(*k).unwrap_or(MISSING),
                _ => MISSING,
            };
        }
        v
    }

    /// Evaluate a scalar expression (aggregates are the caller's).
    pub fn eval(&self, e: &Expr) -> Result<Value, SelectError> {
        self.value_of(e).map(Cow::into_owned)
    }

    /// [`Row::eval`], borrowing what it can: a path's value and a literal are not copied
    /// (this runs for every row, and copies were most of a query's time).
    pub fn value_of<'s>(&'s self, e: &'s Expr) -> Result<Cow<'s, Value>, SelectError> {
        Ok(Cow::Owned(match e {
            Expr::Lit(v) => return Ok(Cow::Borrowed(v)),
            Expr::Path(steps) => return Ok(Cow::Borrowed(self.path(steps))),
            Expr::Neg(x) => match self.value_of(x)?.into_owned() {
                Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| overflow("-"))?),
                Value::Float(f) => Value::Float(-f),
                v if v.is_absent() => v,
                v => return Err(SelectError::eval(format!("cannot negate {}", v.to_json()))),
            },
            Expr::Not(x) => match truth(&*self.value_of(x)?) {
                Some(b) => Value::Bool(!b),
                None => Value::Null,
            },
            Expr::Bin(BinOp::And, a, b) => {
                match (truth(&*self.value_of(a)?), truth(&*self.value_of(b)?)) {
                    (Some(false), _) | (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            Expr::Bin(BinOp::Or, a, b) => {
                match (truth(&*self.value_of(a)?), truth(&*self.value_of(b)?)) {
                    (Some(true), _) | (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            Expr::Bin(op, a, b) => binary(*op, &*self.value_of(a)?, &*self.value_of(b)?)?,
            Expr::IsNull(x, neg) => Value::Bool(self.value_of(x)?.is_absent() != *neg),
            Expr::IsMissing(x, neg) => Value::Bool((*self.value_of(x)? == Value::Missing) != *neg),
            Expr::Like(x, p, esc, neg) => match (&*self.value_of(x)?, &*self.value_of(p)?) {
                (Value::Str(s), Value::Str(p)) => Value::Bool(like(s, p, *esc) != *neg),
                _ => Value::Null,
            },
            Expr::Between(x, lo, hi, neg) => {
                let v = self.value_of(x)?;
                match (
                    v.compare(&*self.value_of(lo)?),
                    v.compare(&*self.value_of(hi)?),
                ) {
                    (Some(a), Some(b)) => {
                        Value::Bool((a != Ordering::Less && b != Ordering::Greater) != *neg)
                    }
                    _ => Value::Null,
                }
            }
            Expr::In(x, list, neg) => {
                let v = self.value_of(x)?;
                let mut found = false;
                for e in list {
                    if v.compare(&*self.value_of(e)?) == Some(Ordering::Equal) {
                        found = true;
                        break;
                    }
                }
                Value::Bool(found != *neg)
            }
            Expr::Cast(x, ty) => cast(self.value_of(x)?.into_owned(), ty)?,
            Expr::Call(name, args) => {
                let vals = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                call(name, vals)?
            }
            Expr::Aggregate(..) => {
                return Err(SelectError::eval(
                    "an aggregate is not allowed here (only in SELECT's list)",
                ))
            }
        }))
    }
}

pub(super) fn positional(name: &str) -> Option<usize> {
    let n: usize = name.strip_prefix('_')?.parse().ok()?;
    n.checked_sub(1)
}

fn overflow(op: &str) -> SelectError {
    SelectError::eval(format!("integer overflow in '{op}'"))
}

/// A condition's truth: `None` for NULL / MISSING (and anything not a boolean).
pub fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, SelectError> {
    let cmp = |want: fn(Ordering) -> bool| match a.compare(b) {
        Some(o) => Value::Bool(want(o)),
        None => Value::Null,
    };
    Ok(match op {
        BinOp::Eq => cmp(|o| o == Ordering::Equal),
        BinOp::Ne => cmp(|o| o != Ordering::Equal),
        BinOp::Lt => cmp(|o| o == Ordering::Less),
        BinOp::Le => cmp(|o| o != Ordering::Greater),
        BinOp::Gt => cmp(|o| o == Ordering::Greater),
        BinOp::Ge => cmp(|o| o != Ordering::Less),
        BinOp::Concat => match (a, b) {
            (Value::Str(x), Value::Str(y)) => Value::Str(format!("{x}{y}")),
            _ if a.is_absent() || b.is_absent() => Value::Null,
            _ => return Err(SelectError::eval("'||' joins text")),
        },
        _ if a.is_absent() || b.is_absent() => Value::Null,
        _ => match (a, b) {
            (Value::Int(x), Value::Int(y)) => {
                let r = match op {
                    BinOp::Add => x.checked_add(*y),
                    BinOp::Sub => x.checked_sub(*y),
                    BinOp::Mul => x.checked_mul(*y),
                    BinOp::Div if *y == 0 => return Err(SelectError::eval("division by zero")),
                    BinOp::Div => x.checked_div(*y),
                    BinOp::Mod if *y == 0 => return Err(SelectError::eval("division by zero")),
                    _ => x.checked_rem(*y),
                };
                Value::Int(r.ok_or_else(|| overflow("arithmetic"))?)
            }
            _ => match (a.number(), b.number()) {
                (Some(x), Some(y)) => Value::Float(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div => x / y,
                    _ => x % y,
                }),
                _ => {
                    return Err(SelectError::eval(format!(
                        "arithmetic needs numbers, not {} and {} (CAST text first)",
                        a.to_json(),
                        b.to_json()
                    )))
                }
            },
        },
    })
}

/// SQL LIKE: `%` any run, `_` one character, `esc` makes the next one literal.
fn like(s: &str, pattern: &str, esc: Option<char>) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Lit(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(match c {
            c if Some(c) == esc => it.next().map_or(P::Lit(c), P::Lit),
            '%' => P::Any,
            '_' => P::One,
            c => P::Lit(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    // Classic wildcard matching with one backtrack point.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while i < s.len() {
        match pat.get(j) {
            Some(P::One) => (i, j) = (i + 1, j + 1),
            Some(P::Lit(c)) if *c == s[i] => (i, j) = (i + 1, j + 1),
            Some(P::Any) => {
                star = Some(j);
                mark = i;
                j += 1;
            }
            _ => match star {
                Some(st) => {
                    j = st + 1;
                    mark += 1;
                    i = mark;
                }
                None => return false,
            },
        }
    }
    pat[j..].iter().all(|p| *p == P::Any)
}

fn cast(v: Value, ty: &str) -> Result<Value, SelectError> {
    if v.is_absent() {
        return Ok(v);
    }
    // S3 Select's code for a value CAST cannot convert.
    let bad = |v: &Value| SelectError {
        code: "CastFailed",
        message: format!("cannot cast {} to {ty}", v.to_json()),
    };
    Ok(match ty {
        "INT" | "INTEGER" => match &v {
            Value::Int(_) => v,
            Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => {
                // In range (checked above): the cast truncates toward zero, as SQL's does.
                #[allow(clippy::cast_possible_truncation)]
                let i = f.trunc() as i64;
                Value::Int(i)
            }
            Value::Str(s) => Value::Int(s.trim().parse().map_err(|_| bad(&v))?),
            Value::Bool(b) => Value::Int(i64::from(*b)),
            _ => return Err(bad(&v)),
        },
        "FLOAT" | "DECIMAL" | "NUMERIC" | "DOUBLE" | "REAL" => match &v {
            Value::Int(i) => Value::Float(*i as f64),
            Value::Float(_) => v,
            Value::Str(s) => Value::Float(s.trim().parse().map_err(|_| bad(&v))?),
            _ => return Err(bad(&v)),
        },
        "STRING" | "VARCHAR" | "CHAR" => Value::Str(v.to_field()),
        "BOOL" | "BOOLEAN" => match &v {
            Value::Bool(_) => v,
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(bad(&v)),
        },
        other => return Err(SelectError::unsupported(format!("CAST to {other}"))),
    })
}

fn call(name: &str, mut args: Vec<Value>) -> Result<Value, SelectError> {
    let one = |args: &mut Vec<Value>| -> Result<Value, SelectError> {
        if args.len() != 1 {
            return Err(SelectError::eval(format!("{name} takes one argument")));
        }
        Ok(args.remove(0))
    };
    Ok(match name {
        "LOWER" | "UPPER" | "TRIM" | "CHAR_LENGTH" | "CHARACTER_LENGTH" => match one(&mut args)? {
            Value::Str(s) => match name {
                "LOWER" => Value::Str(s.to_lowercase()),
                "UPPER" => Value::Str(s.to_uppercase()),
                "TRIM" => Value::Str(s.trim().to_string()),
                _ => Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX)),
            },
            v if v.is_absent() => v,
            v => {
                return Err(SelectError::eval(format!(
                    "{name} takes text, not {}",
                    v.to_json()
                )))
            }
        },
        "COALESCE" => args
            .into_iter()
            .find(|v| !v.is_absent())
            .unwrap_or(Value::Null),
        // Ceph RGW's shorthand for CAST (its s3select dialect; ceph/s3-tests use it).
        "INT" | "FLOAT" => cast(one(&mut args)?, name)?,
        "NULLIF" if args.len() == 2 => {
            if args[0].compare(&args[1]) == Some(Ordering::Equal) {
                Value::Null
            } else {
                args.remove(0)
            }
        }
        other => return Err(SelectError::unsupported(format!("the function {other}"))),
    })
}

/// Running aggregates of one SELECT list.
pub struct Aggregates {
    items: Vec<(Agg, Option<Expr>, State)>,
}

#[derive(Default)]
struct State {
    count: i64,
    int_sum: Option<i64>,
    float_sum: f64,
    all_int: bool,
    best: Option<Value>,
}

impl Aggregates {
    /// The aggregates of `query`'s SELECT list (every item must be one).
    pub fn of(query: &Query) -> Result<Option<Aggregates>, SelectError> {
        let Projection::Items(items) = &query.projection else {
            return Ok(None);
        };
        if !items.iter().any(|(e, _)| e.has_aggregate()) {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (e, _) in items {
            match e {
                Expr::Aggregate(a, arg) => out.push((
                    *a,
                    arg.as_deref().cloned(),
                    State {
                        all_int: true,
                        int_sum: Some(0),
                        ..State::default()
                    },
                )),
                _ => return Err(SelectError::unsupported(
                    "mixing aggregates and plain values in one SELECT list (there is no GROUP BY)",
                )),
            }
        }
        Ok(Some(Aggregates { items: out }))
    }

    /// Count one row in.
    pub fn add(&mut self, row: &Row<'_>) -> Result<(), SelectError> {
        for (agg, arg, st) in &mut self.items {
            let v = match arg {
                None => {
                    st.count += 1;
                    continue;
                }
                Some(e) => row.value_of(e)?,
            };
            if v.is_absent() {
                continue;
            }
            st.count += 1;
            match agg {
                Agg::Count => {}
                Agg::Sum | Agg::Avg => {
                    let n = v.number().ok_or_else(|| {
                        SelectError::eval(format!(
                            "SUM and AVG take numbers, not {} (CAST text first)",
                            v.to_json()
                        ))
                    })?;
                    st.float_sum += n;
                    match (&*v, st.int_sum) {
                        (Value::Int(i), Some(s)) => st.int_sum = s.checked_add(*i),
                        _ => st.all_int = false,
                    }
                }
                Agg::Min | Agg::Max => {
                    let replace = match &st.best {
                        None => true,
                        Some(b) => {
                            let o = v.compare(b);
                            (*agg == Agg::Min && o == Some(Ordering::Less))
                                || (*agg == Agg::Max && o == Some(Ordering::Greater))
                        }
                    };
                    if replace {
                        st.best = Some(v.into_owned());
                    }
                }
            }
        }
        Ok(())
    }

    /// The results, in SELECT's order.
    pub fn finish(self) -> Vec<Value> {
        self.items
            .into_iter()
            .map(|(agg, _, st)| match agg {
                Agg::Count => Value::Int(st.count),
                _ if st.count == 0 => Value::Null,
                Agg::Sum => match (st.all_int, st.int_sum) {
                    (true, Some(s)) => Value::Int(s),
                    _ => Value::Float(st.float_sum),
                },
                Agg::Avg => Value::Float(st.float_sum / st.count as f64),
                Agg::Min | Agg::Max => st.best.unwrap_or(Value::Null),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_sql_patterns() {
        assert!(like("Seattle", "S%e", None));
        assert!(like("Seattle", "_eattl_", None));
        assert!(!like("Seattle", "S%x", None));
        assert!(like("50%", "50!%", Some('!')));
        assert!(!like("500", "50!%", Some('!')));
        assert!(like("", "%", None));
    }
}
