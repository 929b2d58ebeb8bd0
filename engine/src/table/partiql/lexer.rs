//! PartiQL's tokens: words, "quoted names", 'strings', numbers, `?`, punctuation.

use super::malformed;
use crate::table::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// A bare word: a keyword, a function or an attribute name.
    Word(String),
    /// A "double-quoted" name.
    Quoted(String),
    /// A 'single-quoted' string.
    Str(String),
    /// A number.
    Num(String),
    /// `?`.
    Param,
    /// Punctuation and operators.
    Sym(&'static str),
}

const SYMBOLS: [&str; 20] = [
    "<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "=", "<",
    ">", "-",
];

pub(super) fn lex(src: &str) -> Result<Vec<Tok>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            // Quoted: the quote doubled stands for itself.
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match src[j..].chars().next() {
                    None => return Err(malformed(format!("unterminated {c}quote at {i}"))),
                    Some(q) if q == c && src[j + 1..].starts_with(c) => {
                        s.push(c);
                        j += 2;
                    }
                    Some(q) if q == c => {
                        j += 1;
                        break;
                    }
                    Some(other) => {
                        s.push(other);
                        j += other.len_utf8();
                    }
                }
            }
            out.push(if c == '\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            });
            i = j;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == b'.'
                    || b[i] == b'e'
                    || b[i] == b'E'
                    || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            out.push(Tok::Num(src[start..i].to_string()));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Word(src[start..i].to_string()));
        } else if c == '?' {
            out.push(Tok::Param);
            i += 1;
        } else if let Some(s) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            out.push(Tok::Sym(s));
            i += s.len();
        } else {
            return Err(malformed(format!("unexpected character '{c}' at {i}")));
        }
    }
    Ok(out)
}
