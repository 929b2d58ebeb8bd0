//! Tokens of DynamoDB's expression language.
//!
//! A bare name is a letter followed by letters, digits and `_`; `#name` and `:name` take any
//! of those after the sigil (so `#1` and `:_` are fine, `#` alone is not). Keywords (`AND`,
//! `SET`, …) are bare names compared without case. A character that starts no token becomes
//! an [`Tok::Unknown`] token, so the parser reports it with DynamoDB's "token …, near …" text
//! instead of the lexer giving up early.

/// One token kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A bare name (attribute, function or keyword).
    Ident(String),
    /// `#name`.
    NameRef(String),
    /// `:name`.
    ValueRef(String),
    /// A run of digits (list indexes).
    Int(String),
    /// Punctuation or an operator: `( ) [ ] , . = <> < <= > >= + -`.
    Sym(&'static str),
    /// A character no token starts with.
    Unknown(char),
    /// End of input.
    Eof,
}

/// A token and where it is: byte offsets `[start, end)` into the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Token {
    /// The text DynamoDB quotes for this token in a syntax error.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        match self.tok {
            Tok::Eof => "<EOF>",
            _ => &src[self.start..self.end],
        }
    }

    /// Whether this is the bare keyword `kw` (any case).
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

fn is_part(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Split `src` into tokens; the last is always [`Tok::Eof`].
pub fn lex(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_alphabetic() {
            while i < b.len() && is_part(b[i]) {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            Tok::Int(src[start..i].to_string())
        } else if (c == b'#' || c == b':') && i + 1 < b.len() && is_part(b[i + 1]) {
            i += 1;
            while i < b.len() && is_part(b[i]) {
                i += 1;
            }
            let name = src[start..i].to_string();
            if c == b'#' {
                Tok::NameRef(name)
            } else {
                Tok::ValueRef(name)
            }
        } else {
            // Bytes, not a str slice: the next character may be multi-byte.
            let two = (c, b.get(i + 1).copied().unwrap_or(0));
            let sym: Option<&'static str> = match two {
                (b'<', b'>') => Some("<>"),
                (b'<', b'=') => Some("<="),
                (b'>', b'=') => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                i += 2;
                Tok::Sym(s)
            } else {
                let one: Option<&'static str> = match c {
                    b'(' => Some("("),
                    b')' => Some(")"),
                    b'[' => Some("["),
                    b']' => Some("]"),
                    b',' => Some(","),
                    b'.' => Some("."),
                    b'=' => Some("="),
                    b'<' => Some("<"),
                    b'>' => Some(">"),
                    b'+' => Some("+"),
                    b'-' => Some("-"),
                    _ => None,
                };
                match one {
                    Some(s) => {
                        i += 1;
                        Tok::Sym(s)
                    }
                    None => {
                        // One whole character (UTF-8 aware) that starts no token.
                        let ch = src[i..].chars().next().unwrap_or('\u{FFFD}');
                        i += ch.len_utf8();
                        Tok::Unknown(ch)
                    }
                }
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: b.len(),
        end: b.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t: Vec<Tok> = lex("a.b[3] <= :v1 AND #n <> x_1")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            t,
            vec![
                Tok::Ident("a".into()),
                Tok::Sym("."),
                Tok::Ident("b".into()),
                Tok::Sym("["),
                Tok::Int("3".into()),
                Tok::Sym("]"),
                Tok::Sym("<="),
                Tok::ValueRef(":v1".into()),
                Tok::Ident("AND".into()),
                Tok::NameRef("#n".into()),
                Tok::Sym("<>"),
                Tok::Ident("x_1".into()),
                Tok::Eof
            ]
        );
        // A multi-byte character right after '<' once split a char in half (proptest).
        assert_eq!(lex("<é").len(), 3);
        let t: Vec<Tok> = lex("_1 # é").into_iter().map(|t| t.tok).collect();
        assert_eq!(
            t,
            vec![
                Tok::Unknown('_'),
                Tok::Int("1".into()),
                Tok::Unknown('#'),
                Tok::Unknown('é'),
                Tok::Eof
            ]
        );
    }
}
