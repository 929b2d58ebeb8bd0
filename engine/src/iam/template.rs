//! Policy text with policy variables: `${aws:username}`, `${key, 'default'}` and the escapes
//! `${*}`, `${?}`, `${$}`.
//!
//! A [`Template`] is compiled once at parse time into literal pieces (already in the glob
//! matcher's byte form, see [`crate::iam::glob`]) and variable pieces. At evaluation time a
//! template without variables hands out its precompiled bytes with no work at all; one with
//! variables is written into a caller-provided scratch buffer.
//!
//! AWS rules implemented here:
//! - variables are recognised only in policies with `"Version": "2012-10-17"`; under
//!   `2008-10-17` the text `${aws:username}` is matched literally;
//! - the key inside `${...}` is a context key, so it is case-insensitive;
//! - a variable whose key is absent from the request (or is multi-valued) and has no default
//!   cannot be resolved, and the caller treats the whole element as not matching;
//! - a substituted value is literal text: a `*` inside `aws:username` is not a wildcard;
//! - `${*}`, `${?}` and `${$}` are a literal `*`, `?` and `$`.

use super::context::key_hash;
use super::context::RequestContext;
use super::glob::{glob_match, match_shaped, shape, Shape, ANY_ONE, STAR};

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Precompiled literal/wildcard bytes.
    Bytes(Box<[u8]>),
    /// A context key to substitute (lowercased), and its literal default if any.
    Var {
        key_lower: Box<str>,
        key_hash: u64,
        default: Option<Box<[u8]>>,
    },
}

/// Policy text compiled for matching, possibly containing policy variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The text as written in the policy, for explanations.
    source: Box<str>,
    /// Set when the template has no variables: the whole compiled pattern and its shape.
    fixed: Option<(Box<[u8]>, Shape)>,
    pieces: Box<[Piece]>,
}

/// A malformed policy variable (`${...}`) in a policy's text; the policy parser reports it
/// with the JSON path of the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `${` without a `}`.
    #[error("policy variable at byte {at} has no closing `}}`")]
    Unclosed {
        /// Byte offset of the `$`.
        at: usize,
    },
    /// `${key, default}` whose default is not in single quotes (holds the inside).
    #[error("the default value in `${{{0}}}` must be in single quotes")]
    DefaultNotQuoted(String),
    /// `${}` or `${, 'x'}` (holds the inside).
    #[error("`${{{0}}}` names no context key")]
    NoKey(String),
    /// A key with whitespace, `$` or `{` in it.
    #[error("`{0}` is not a valid context key name in a policy variable")]
    BadKey(String),
}

/// Whether `*` and `?` in the literal text are wildcards (Resource, StringLike, ArnLike) or
/// plain characters (StringEquals and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wildcards {
    /// `*` and `?` match any run / any one character.
    On,
    /// `*` and `?` are ordinary characters.
    Off,
}

impl Template {
    /// Compiles `text`. `variables` is false for Version 2008-10-17 policies, where `${...}` is
    /// literal. Returns a description of the problem on a malformed variable.
    pub fn parse(
        text: &str,
        wildcards: Wildcards,
        variables: bool,
    ) -> Result<Template, TemplateError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit: Vec<u8> = Vec::with_capacity(text.len());
        let push_lit = |lit: &mut Vec<u8>, b: u8| {
            lit.push(match (wildcards, b) {
                (Wildcards::On, b'*') => STAR,
                (Wildcards::On, b'?') => ANY_ONE,
                (_, other) => other,
            })
        };
        let bytes = text.as_bytes();
        let mut i = 0usize;
        while i < bytes.len() {
            if variables && bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
                let close = text[i + 2..]
                    .find('}')
                    .map(|off| i + 2 + off)
                    .ok_or(TemplateError::Unclosed { at: i })?;
                let inner = &text[i + 2..close];
                match inner {
                    "*" => lit.push(b'*'),
                    "?" => lit.push(b'?'),
                    "$" => lit.push(b'$'),
                    _ => {
                        if !lit.is_empty() {
                            pieces.push(Piece::Bytes(std::mem::take(&mut lit).into()));
                        }
                        pieces.push(parse_variable(inner)?);
                    }
                }
                i = close + 1;
            } else {
                push_lit(&mut lit, bytes[i]);
                i += 1;
            }
        }
        if !lit.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Bytes(lit.into()));
        }
        let fixed = match pieces.as_slice() {
            [Piece::Bytes(b)] => Some((b.clone(), shape(b))),
            _ => None,
        };
        Ok(Template {
            source: text.into(),
            fixed,
            pieces: pieces.into(),
        })
    }

    /// The text as written in the policy.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the template contains a policy variable.
    pub fn has_variables(&self) -> bool {
        self.fixed.is_none()
    }

    /// The precompiled pattern when there are no variables.
    pub fn fixed(&self) -> Option<&[u8]> {
        self.fixed.as_ref().map(|(b, _)| &**b)
    }

    /// Glob-matches `text` against this template (variables substituted from `ctx`); `None`
    /// when a variable cannot be resolved.
    #[inline]
    pub fn matches(
        &self,
        ctx: &RequestContext,
        scratch: &mut Vec<u8>,
        text: &[u8],
    ) -> Option<bool> {
        if let Some((p, sh)) = &self.fixed {
            return Some(match_shaped(*sh, p, text));
        }
        let p = self.resolve(ctx, scratch)?;
        Some(glob_match(p, text))
    }

    /// The compiled pattern with variables substituted from `ctx`, or `None` when a variable
    /// cannot be resolved. Uses `scratch` only when the template has variables.
    pub fn resolve<'a>(
        &'a self,
        ctx: &RequestContext,
        scratch: &'a mut Vec<u8>,
    ) -> Option<&'a [u8]> {
        if let Some((fixed, _)) = &self.fixed {
            return Some(fixed);
        }
        scratch.clear();
        for piece in self.pieces.iter() {
            match piece {
                Piece::Bytes(b) => scratch.extend_from_slice(b),
                Piece::Var {
                    key_lower,
                    key_hash,
                    default,
                } => match ctx.get_hashed(*key_hash, key_lower) {
                    // Only a single-valued key can be substituted.
                    Some([one]) => scratch.extend_from_slice(one.as_bytes()),
                    _ => match default {
                        Some(d) => scratch.extend_from_slice(d),
                        None => return None,
                    },
                },
            }
        }
        Some(scratch)
    }

    /// The first variable key that `ctx` cannot resolve, for explanations.
    pub fn unresolved_key(&self, ctx: &RequestContext) -> Option<&str> {
        self.pieces.iter().find_map(|p| match p {
            Piece::Var {
                key_lower,
                default: None,
                ..
            } if !matches!(ctx.get(key_lower), Some([_])) => Some(&**key_lower),
            _ => None,
        })
    }
}

/// Parses the inside of `${...}`: `key` or `key, 'default'`.
fn parse_variable(inner: &str) -> Result<Piece, TemplateError> {
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((key, rest)) => {
            let rest = rest.trim();
            let quoted = rest
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
                .ok_or_else(|| TemplateError::DefaultNotQuoted(inner.to_string()))?;
            (
                key.trim(),
                Some(quoted.as_bytes().to_vec().into_boxed_slice()),
            )
        }
    };
    if key.is_empty() {
        return Err(TemplateError::NoKey(inner.to_string()));
    }
    if key.contains(|c: char| c.is_whitespace() || c == '$' || c == '{') {
        return Err(TemplateError::BadKey(key.to_string()));
    }
    let lower = key.to_ascii_lowercase();
    Ok(Piece::Var {
        key_hash: key_hash(&lower),
        key_lower: lower.into(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::glob::glob_match;

    fn ctx() -> RequestContext {
        let mut c =
            RequestContext::new("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "*")
                .unwrap();
        c.set("s3:prefix", "home/");
        c.set_list("aws:TagKeys", ["a", "b"]);
        c
    }

    #[test]
    fn substitutes_case_insensitive_key() {
        let t = Template::parse("home/${AWS:UserName}/*", Wildcards::On, true).unwrap();
        let mut buf = Vec::new();
        let p = t.resolve(&ctx(), &mut buf).unwrap();
        assert!(glob_match(p, b"home/alice/x"));
        assert!(!glob_match(p, b"home/bob/x"));
    }

    #[test]
    fn escapes_are_literal() {
        let t = Template::parse("a${*}b${?}${$}", Wildcards::On, true).unwrap();
        let mut buf = Vec::new();
        let p = t.resolve(&ctx(), &mut buf).unwrap().to_vec();
        assert!(glob_match(&p, b"a*b?$"));
        assert!(!glob_match(&p, b"aXb?$"));
    }

    #[test]
    fn default_and_unresolvable() {
        let t = Template::parse("${aws:PrincipalTag/team, 'none'}", Wildcards::Off, true).unwrap();
        let mut buf = Vec::new();
        assert_eq!(t.resolve(&ctx(), &mut buf).unwrap(), b"none");
        let t = Template::parse("${aws:userid}", Wildcards::Off, true).unwrap();
        assert!(t.resolve(&ctx(), &mut buf).is_none());
        let t = Template::parse("${aws:TagKeys}", Wildcards::Off, true).unwrap();
        assert!(
            t.resolve(&ctx(), &mut buf).is_none(),
            "multi-valued keys do not substitute"
        );
    }

    #[test]
    fn old_version_is_literal() {
        let t = Template::parse("${aws:username}", Wildcards::Off, false).unwrap();
        assert_eq!(t.fixed().unwrap(), b"${aws:username}");
    }

    #[test]
    fn malformed_variables_are_errors() {
        assert_eq!(
            Template::parse("${aws:username", Wildcards::On, true).unwrap_err(),
            TemplateError::Unclosed { at: 0 }
        );
        assert_eq!(
            Template::parse("${}", Wildcards::On, true)
                .unwrap_err()
                .to_string(),
            "`${}` names no context key"
        );
        assert_eq!(
            Template::parse("${a, default}", Wildcards::On, true)
                .unwrap_err()
                .to_string(),
            "the default value in `${a, default}` must be in single quotes"
        );
    }
}
