//! DynamoDB's number type: a decimal with at most 38 significant digits and a magnitude between
//! 1E-130 and 9.99…9E+125 (or zero), kept exactly, never as a float.
//!
//! A number is held normalised as `±0.d₁d₂…dₙ × 10^exp` with `d₁ ≠ 0` and `dₙ ≠ 0` (no leading
//! or trailing zeros), so `"1.50"`, `"15e-1"` and `"+0001.5"` are the same value with the same
//! representation — equal numbers are equal bytes, which the key encoding relies on. Parsing
//! follows DynamoDB's rules and error messages: `+3`, `.123`, `0001.23`, `1e+5` and `0e1000` are
//! numbers; `NaN`, `Infinity`, `" 1"` and `"dog"` are not; 39 significant digits, `1e126` and
//! `1e-131` are refused. Sums are exact; a sum that needs more than 38 digits or leaves the
//! range is refused with DynamoDB's (admittedly odd) "Number overflow" message.

use std::cmp::Ordering;
use std::fmt;

/// Significant digits a number may have.
pub const MAX_DIGITS: usize = 38;
/// Largest decimal exponent in scientific notation (`9.99…E+125`).
pub const MAX_SCI_EXP: i32 = 125;
/// Smallest decimal exponent in scientific notation (`1E-130`).
pub const MIN_SCI_EXP: i32 = -130;

/// Why a string is not a storable number; `Display` gives DynamoDB's wording.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberError {
    /// Not a decimal number at all (the offending text is kept for the message).
    NotNumeric(String),
    /// Magnitude above 9.99…E+125 (also DynamoDB's message for an inexact sum).
    Overflow,
    /// Magnitude below 1E-130.
    Underflow,
    /// More than 38 significant digits.
    TooManyDigits,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The text follows the colon even when it is empty ("…value: "): DynamoDB's
            // wording since mid-2026 (the DynamoDB Conformance Suite's captures of NS [""]).
            NumberError::NotNumeric(s) => {
                write!(f, "The parameter cannot be converted to a numeric value: {s}")
            }
            NumberError::Overflow => f.write_str(
                "Number overflow. Attempting to store a number with magnitude larger than supported range",
            ),
            NumberError::Underflow => f.write_str(
                "Number underflow. Attempting to store a number with magnitude smaller than supported range",
            ),
            NumberError::TooManyDigits => {
                f.write_str("Attempting to store more than 38 significant digits in a Number")
            }
        }
    }
}

impl std::error::Error for NumberError {}

/// An exact DynamoDB number. `Copy`, 42 bytes, no allocation.
#[derive(Clone, Copy)]
pub struct Number {
    neg: bool,
    /// Significant digits in use; 0 means the number is zero.
    len: u8,
    /// `digits[..len]`, each 0..=9, the first and last non-zero; the rest are 0.
    digits: [u8; MAX_DIGITS],
    /// Value = 0.d₁d₂…dₙ × 10^exp (0 for zero).
    exp: i16,
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        neg: false,
        len: 0,
        digits: [0; MAX_DIGITS],
        exp: 0,
    };

    /// Parse DynamoDB's textual number form (`[+-]digits[.digits][e[+-]digits]`).
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let bad = || NumberError::NotNumeric(s.to_string());
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        // Mantissa: significant digits (leading zeros skipped), digits before the point.
        let mut sig: Vec<u8> = Vec::new();
        let mut int_digits: i64 = 0;
        let mut leading_zeros_after_point: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    let d = c - b'0';
                    if !seen_point {
                        if !(sig.is_empty() && d == 0) {
                            int_digits += 1;
                            sig.push(d);
                        }
                    } else if sig.is_empty() && d == 0 {
                        leading_zeros_after_point += 1;
                    } else {
                        sig.push(d);
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(bad());
        }
        let mut e: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Saturate: anything this large is out of range (or zero) anyway.
                e = (e * 10 + i64::from(b[i] - b'0')).min(1 << 40);
                i += 1;
            }
            if i == start {
                return Err(bad());
            }
            if eneg {
                e = -e;
            }
        }
        if i != b.len() {
            return Err(bad());
        }
        while sig.last() == Some(&0) {
            sig.pop();
        }
        if sig.is_empty() {
            return Ok(Number::ZERO);
        }
        // 0.sig × 10^exp
        let exp = int_digits - leading_zeros_after_point + e;
        Number::from_digits(neg, &sig, exp)
    }

    /// Build from significant digits (no leading or trailing zeros, each 0..=9) and the
    /// exponent of the `0.d₁d₂…` form, checking precision and range.
    fn from_digits(neg: bool, sig: &[u8], exp: i64) -> Result<Number, NumberError> {
        debug_assert!(sig.first() != Some(&0) && sig.last() != Some(&0));
        if sig.is_empty() {
            return Ok(Number::ZERO);
        }
        let sci = exp - 1;
        if sci > i64::from(MAX_SCI_EXP) {
            return Err(NumberError::Overflow);
        }
        if sci < i64::from(MIN_SCI_EXP) {
            return Err(NumberError::Underflow);
        }
        if sig.len() > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        let mut digits = [0u8; MAX_DIGITS];
        digits[..sig.len()].copy_from_slice(sig);
        Ok(Number {
            neg,
            len: sig.len() as u8,
            digits,
            exp: exp as i16,
        })
    }

    /// Rebuild from the parts [`Number::digits`], [`Number::exponent`] and
    /// [`Number::is_negative`] return (the key decoder's path). Refuses parts that are not
    /// normalised or out of range.
    pub fn from_parts(neg: bool, digits: &[u8], exp: i32) -> Result<Number, NumberError> {
        if digits.iter().any(|&d| d > 9) || digits.first() == Some(&0) || digits.last() == Some(&0)
        {
            return Err(NumberError::NotNumeric("(bad digits)".into()));
        }
        Number::from_digits(neg && !digits.is_empty(), digits, i64::from(exp))
    }

    /// The number `v`.
    pub fn from_i64(v: i64) -> Number {
        Number::parse(&v.to_string()).expect("every i64 is a valid number")
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.len == 0
    }

    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// The significant digits d₁…dₙ (empty for zero).
    pub fn digits(&self) -> &[u8] {
        &self.digits[..self.len as usize]
    }

    /// The exponent of the `0.d₁d₂… × 10^exp` form (0 for zero): one more than the exponent in
    /// scientific notation. Lies in -129..=126.
    pub fn exponent(&self) -> i32 {
        i32::from(self.exp)
    }

    /// The value truncated toward zero, if it fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.is_zero() || self.exp <= 0 {
            return Some(0);
        }
        if self.exp > 19 {
            return None;
        }
        let mut v: i128 = 0;
        for k in 0..self.exp as usize {
            let d = if k < self.len as usize {
                self.digits[k]
            } else {
                0
            };
            v = v * 10 + i128::from(d);
        }
        if self.neg {
            v = -v;
        }
        i64::try_from(v).ok()
    }

    /// The nearest `f64` (for reports only; never used for stored values).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The negation.
    pub fn neg(&self) -> Number {
        let mut n = *self;
        n.neg = !n.neg && !n.is_zero();
        n
    }

    /// `self + other`, exactly; refused (as DynamoDB does, with its "overflow" message) when the
    /// result needs more than 38 digits or leaves the range.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        // Write both as integer coefficients at the smaller scale (the exponent of the last
        // digit); little-endian digit vectors. Inputs are in range, so at most ~300 digits.
        let scale_of = |n: &Number| i32::from(n.exp) - i32::from(n.len);
        let scale = scale_of(self).min(scale_of(other));
        let coef = |n: &Number| -> Vec<u8> {
            let pad = (scale_of(n) - scale) as usize;
            let mut v = vec![0u8; pad];
            v.extend(n.digits().iter().rev());
            v
        };
        let (a, b) = (coef(self), coef(other));
        let (mag, neg) = if self.neg == other.neg {
            (add_mag(&a, &b), self.neg)
        } else {
            match cmp_mag(&a, &b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (sub_mag(&a, &b), self.neg),
                Ordering::Less => (sub_mag(&b, &a), other.neg),
            }
        };
        // mag is little-endian; its value is mag × 10^scale.
        let mut big_endian: Vec<u8> = mag.into_iter().rev().collect();
        let lead = big_endian.iter().take_while(|&&d| d == 0).count();
        big_endian.drain(..lead);
        let total = big_endian.len() as i64;
        while big_endian.last() == Some(&0) {
            big_endian.pop();
        }
        if big_endian.is_empty() {
            return Ok(Number::ZERO);
        }
        let exp = total + i64::from(scale);
        match Number::from_digits(neg, &big_endian, exp) {
            Err(NumberError::TooManyDigits) => Err(NumberError::Overflow),
            r => r,
        }
    }

    /// `self - other` (see [`Number::add`]).
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.neg())
    }

    /// Bytes this number counts for in DynamoDB's item size: one per two significant digits,
    /// plus one.
    pub fn size_bytes(&self) -> usize {
        (self.len as usize).div_ceil(2) + 1
    }
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n + 1);
    let mut carry = 0u8;
    for i in 0..n {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for `a >= b` (little-endian digits).
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &x) in a.iter().enumerate() {
        let mut d = x as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    debug_assert_eq!(borrow, 0, "sub_mag needs a >= b");
    out
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    let len = |v: &[u8]| v.len() - v.iter().rev().take_while(|&&d| d == 0).count();
    let (la, lb) = (len(a), len(b));
    la.cmp(&lb)
        .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.neg.hash(state);
        self.exp.hash(state);
        self.digits().hash(state);
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    /// Numeric order.
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let mag = self
            .exp
            .cmp(&other.exp)
            .then_with(|| self.digits().cmp(other.digits()));
        if self.neg {
            mag.reverse()
        } else {
            mag
        }
    }
}

impl fmt::Display for Number {
    /// Plain notation, as DynamoDB returns numbers: `100`, `0.001`, `-1.5` (never an exponent).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.len as usize + 8);
        if self.neg {
            s.push('-');
        }
        let e = i32::from(self.exp);
        let d = |s: &mut String, ds: &[u8]| ds.iter().for_each(|&x| s.push((b'0' + x) as char));
        let len = self.len as i32;
        if e <= 0 {
            s.push_str("0.");
            (0..-e).for_each(|_| s.push('0'));
            d(&mut s, self.digits());
        } else if e < len {
            d(&mut s, &self.digits()[..e as usize]);
            s.push('.');
            d(&mut s, &self.digits()[e as usize..]);
        } else {
            d(&mut s, self.digits());
            (0..e - len).for_each(|_| s.push('0'));
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_dynamodb_forms_and_normalises() {
        for (input, plain) in [
            ("3", "3"),
            ("-7.1234", "-7.1234"),
            ("-17e5", "-1700000"),
            ("+3", "3"),
            (".123", "0.123"),
            ("0001.23", "1.23"),
            ("1e+5", "100000"),
            ("0e1000", "0"),
            ("-0", "0"),
            ("1.50", "1.5"),
            ("15e-1", "1.5"),
            ("5.", "5"),
            ("0.000100", "0.0001"),
            ("1e-130", &format!("0.{}1", "0".repeat(129))),
        ] {
            assert_eq!(n(input).to_string(), plain, "{input}");
        }
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1E2").digits(), &[1]);
        assert_eq!(n("1E2").exponent(), 3);
    }

    #[test]
    fn refuses_what_dynamodb_refuses_with_its_messages() {
        for s in [
            "NaN",
            "Infinity",
            "-Infinity",
            "dog",
            " 1",
            "1 ",
            "",
            "1e",
            "1.2.3",
            "--1",
            ".",
        ] {
            let e = Number::parse(s).unwrap_err();
            assert!(matches!(e, NumberError::NotNumeric(_)), "{s}");
            assert!(e
                .to_string()
                .starts_with("The parameter cannot be converted to a numeric value"));
        }
        assert_eq!(Number::parse("1e126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("11e125"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("-1e126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1e-131"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("0.9e-130"), Err(NumberError::Underflow));
        assert!(Number::parse("9.99999999e125").is_ok());
        assert!(Number::parse("3.1415926535897932384626433832795028841").is_ok());
        assert_eq!(
            Number::parse("3.14159265358979323846264338327950288419"),
            Err(NumberError::TooManyDigits)
        );
        assert_eq!(
            NumberError::TooManyDigits.to_string(),
            "Attempting to store more than 38 significant digits in a Number"
        );
    }

    #[test]
    fn orders_numerically() {
        let xs = [
            "-1e125", "-10", "-2", "-1.5", "-0.001", "0", "1e-130", "0.5", "3", "10", "1e125",
        ];
        for w in xs.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn adds_exactly_and_refuses_inexact_sums() {
        assert_eq!(
            n("1")
                .add(&n("10000000000000000000000"))
                .unwrap()
                .to_string(),
            "10000000000000000000001"
        );
        assert_eq!(
            n("10000000000000000000000")
                .sub(&n("1"))
                .unwrap()
                .to_string(),
            "9999999999999999999999"
        );
        assert_eq!(n("0.1").add(&n("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(n("-5").add(&n("3")).unwrap().to_string(), "-2");
        assert_eq!(n("5").sub(&n("5")).unwrap(), Number::ZERO);
        assert_eq!(n("9e125").add(&n("9e125")), Err(NumberError::Overflow));
        assert_eq!(n("1e50").add(&n("1")), Err(NumberError::Overflow));
        assert_eq!(n("1e50").sub(&n("1")), Err(NumberError::Overflow));
        assert_eq!(n("2.5").to_i64(), Some(2));
        assert_eq!(n("-2.5").to_i64(), Some(-2));
        assert_eq!(n("1700000000").to_i64(), Some(1_700_000_000));
        assert_eq!(n("1e30").to_i64(), None);
    }

    #[test]
    fn size_is_half_the_digits_plus_one() {
        assert_eq!(n("0").size_bytes(), 1);
        assert_eq!(n("7").size_bytes(), 2);
        assert_eq!(n("12345").size_bytes(), 4);
    }

    use proptest::prelude::*;

    fn arb_number() -> impl Strategy<Value = Number> {
        (
            any::<bool>(),
            prop::collection::vec(0u8..10, 1..=MAX_DIGITS),
            -129i32..=126,
        )
            .prop_map(|(neg, mut ds, exp)| {
                ds[0] = ds[0].max(1);
                while ds.last() == Some(&0) {
                    ds.pop();
                }
                Number::from_parts(neg, &ds, exp).unwrap()
            })
    }

    proptest! {
        #[test]
        fn display_parse_round_trips(x in arb_number()) {
            let back = Number::parse(&x.to_string()).unwrap();
            prop_assert_eq!(back.digits(), x.digits());
            prop_assert_eq!(back.exponent(), x.exponent());
            prop_assert_eq!(back.is_negative(), x.is_negative());
        }

        #[test]
        fn add_agrees_with_i128(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let s = Number::from_i64(a).add(&Number::from_i64(b)).unwrap();
            prop_assert_eq!(s.to_string(), (i128::from(a) + i128::from(b)).to_string());
            prop_assert_eq!(Number::from_i64(a).cmp(&Number::from_i64(b)), a.cmp(&b));
        }

        #[test]
        fn never_panics_on_text(s in "[-+0-9.eE]{0,12}|\\PC{0,8}") {
            let _ = Number::parse(&s);
        }
    }
}
