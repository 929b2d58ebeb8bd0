//! Condition operator names: the families AWS documents, their negated forms, the `IfExists`
//! suffix and the `ForAnyValue:` / `ForAllValues:` set qualifiers.

/// The comparison an operator performs, before negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOp {
    /// Exact, case-sensitive string equality (no wildcards).
    StringEquals,
    /// String equality ignoring case (no wildcards).
    StringEqualsIgnoreCase,
    /// Case-sensitive match with `*` and `?`.
    StringLike,
    /// Numbers equal.
    NumericEquals,
    /// Context number < policy number.
    NumericLessThan,
    /// Context number <= policy number.
    NumericLessThanEquals,
    /// Context number > policy number.
    NumericGreaterThan,
    /// Context number >= policy number.
    NumericGreaterThanEquals,
    /// Instants equal.
    DateEquals,
    /// Context date before the policy date.
    DateLessThan,
    /// Context date at or before the policy date.
    DateLessThanEquals,
    /// Context date after the policy date.
    DateGreaterThan,
    /// Context date at or after the policy date.
    DateGreaterThanEquals,
    /// Boolean equality.
    Bool,
    /// Byte-for-byte equality of base64-encoded values.
    BinaryEquals,
    /// The context IP lies in one of the policy CIDR ranges.
    IpAddress,
    /// Per-segment ARN match with wildcards (`ArnEquals` and `ArnLike` behave the same).
    ArnEquals,
    /// Per-segment ARN match with wildcards.
    ArnLike,
    /// Tests whether the key is absent (`true`) or present (`false`).
    Null,
}

/// Which value family a base operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// String operators.
    String,
    /// Numeric operators.
    Numeric,
    /// Date operators.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// `IpAddress` / `NotIpAddress`.
    Ip,
    /// ARN operators.
    Arn,
    /// `Null`.
    Null,
}

impl BaseOp {
    /// The family of values this operator compares.
    pub fn family(self) -> Family {
        use BaseOp::*;
        match self {
            StringEquals | StringEqualsIgnoreCase | StringLike => Family::String,
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress => Family::Ip,
            ArnEquals | ArnLike => Family::Arn,
            Null => Family::Null,
        }
    }
}

/// How a condition treats a multi-valued context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// No set qualifier: the key is compared as a single value (any of its values may match).
    Single,
    /// `ForAnyValue:` — at least one request value must match.
    ForAnyValue,
    /// `ForAllValues:` — every request value must match; true for a missing or empty key.
    ForAllValues,
}

/// A fully parsed operator name such as `ForAllValues:StringNotEqualsIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// The positive comparison.
    pub base: BaseOp,
    /// True for the `Not` forms (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...).
    pub negated: bool,
    /// True with the `IfExists` suffix: a missing key makes the condition true.
    pub if_exists: bool,
    /// The set qualifier.
    pub qualifier: Qualifier,
}

/// Every base operator name AWS documents, with its comparison and negation.
const NAMES: &[(&str, BaseOp, bool)] = &[
    ("StringEquals", BaseOp::StringEquals, false),
    ("StringNotEquals", BaseOp::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        BaseOp::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOp::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", BaseOp::StringLike, false),
    ("StringNotLike", BaseOp::StringLike, true),
    ("NumericEquals", BaseOp::NumericEquals, false),
    ("NumericNotEquals", BaseOp::NumericEquals, true),
    ("NumericLessThan", BaseOp::NumericLessThan, false),
    (
        "NumericLessThanEquals",
        BaseOp::NumericLessThanEquals,
        false,
    ),
    ("NumericGreaterThan", BaseOp::NumericGreaterThan, false),
    (
        "NumericGreaterThanEquals",
        BaseOp::NumericGreaterThanEquals,
        false,
    ),
    ("DateEquals", BaseOp::DateEquals, false),
    ("DateNotEquals", BaseOp::DateEquals, true),
    ("DateLessThan", BaseOp::DateLessThan, false),
    ("DateLessThanEquals", BaseOp::DateLessThanEquals, false),
    ("DateGreaterThan", BaseOp::DateGreaterThan, false),
    (
        "DateGreaterThanEquals",
        BaseOp::DateGreaterThanEquals,
        false,
    ),
    ("Bool", BaseOp::Bool, false),
    ("BinaryEquals", BaseOp::BinaryEquals, false),
    ("IpAddress", BaseOp::IpAddress, false),
    ("NotIpAddress", BaseOp::IpAddress, true),
    ("ArnEquals", BaseOp::ArnEquals, false),
    ("ArnLike", BaseOp::ArnLike, false),
    ("ArnNotEquals", BaseOp::ArnEquals, true),
    ("ArnNotLike", BaseOp::ArnLike, true),
    ("Null", BaseOp::Null, false),
];

/// Why an operator name was rejected, with a suggestion when one is close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperator {
    /// Explanation or suggestion.
    pub hint: Option<String>,
}

impl Operator {
    /// Parses an operator name. Names are case-sensitive, as in AWS; a name that differs only
    /// in case gets a suggestion.
    pub fn parse(name: &str) -> Result<Operator, UnknownOperator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else {
            (Qualifier::Single, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let found = NAMES.iter().find(|(n, _, _)| *n == base_name);
        match found {
            Some(&(_, base, negated)) => {
                if base == BaseOp::Null && (if_exists || qualifier != Qualifier::Single) {
                    return Err(UnknownOperator {
                        hint: Some("Null".into()),
                    });
                }
                Ok(Operator {
                    base,
                    negated,
                    if_exists,
                    qualifier,
                })
            }
            None => {
                let hint = NAMES
                    .iter()
                    .find(|(n, _, _)| n.eq_ignore_ascii_case(base_name))
                    .map(|(n, _, _)| {
                        let q = match qualifier {
                            Qualifier::Single => "",
                            Qualifier::ForAnyValue => "ForAnyValue:",
                            Qualifier::ForAllValues => "ForAllValues:",
                        };
                        format!("{q}{n}{}", if if_exists { "IfExists" } else { "" })
                    })
                    .or_else(|| {
                        let lower = name.to_ascii_lowercase();
                        if lower.starts_with("foranyvalue:") {
                            Some(format!("ForAnyValue:{}", &name[12..]))
                        } else if lower.starts_with("forallvalues:") {
                            Some(format!("ForAllValues:{}", &name[13..]))
                        } else {
                            None
                        }
                    });
                Err(UnknownOperator { hint })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        for (name, base, negated) in NAMES {
            let op = Operator::parse(name).unwrap();
            assert_eq!(
                (op.base, op.negated, op.if_exists),
                (*base, *negated, false)
            );
            if *base != BaseOp::Null {
                let op = Operator::parse(&format!("ForAllValues:{name}IfExists")).unwrap();
                assert_eq!(op.qualifier, Qualifier::ForAllValues);
                assert!(op.if_exists);
            }
        }
    }

    #[test]
    fn rejects_unknown_with_hint() {
        let e = Operator::parse("stringequals").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("StringEquals"));
        assert!(Operator::parse("StringMatches").is_err());
        assert!(Operator::parse("NullIfExists").is_err());
        assert!(Operator::parse("ForAnyValue:Null").is_err());
    }
}
