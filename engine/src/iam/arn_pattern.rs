//! Policy ARN patterns (Resource, NotResource, ARN conditions) compiled for matching against a
//! request's ARN **segment by segment**, as AWS does: a `*` in the region segment never swallows
//! the account. Each segment is a [`Template`] so that policy variables
//! (`arn:aws:s3:::bucket/${aws:username}/*`) work.
//!
//! It sits after [`super::template`] and [`super::context`] in the module's reading order: a
//! pattern's variables are resolved from the request context.

use super::arn::{split_pattern, ARN_SEGMENTS};
use super::context::RequestContext;
use super::glob::bytes_eq;
use super::template::{Template, Wildcards};

/// A policy ARN (from Resource, NotResource or an ARN condition) compiled for matching.
#[derive(Debug, Clone, PartialEq)]
pub enum ArnPattern {
    /// `"*"`: every resource.
    Any,
    /// Six per-segment patterns.
    Segments(Box<ArnSegments>),
}

/// The six compiled segments of a policy ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct ArnSegments {
    segs: [Template; ARN_SEGMENTS],
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:` when those five segments are plain text (the
    /// usual case): they are then checked with one comparison.
    literal_prefix: Option<Box<[u8]>>,
}

impl ArnPattern {
    /// Compiles policy text. `variables` is false for Version 2008-10-17 policies.
    pub fn parse(text: &str, variables: bool) -> Result<ArnPattern, &'static str> {
        if text == "*" {
            return Ok(ArnPattern::Any);
        }
        let segs = split_pattern(text, variables).ok_or(
            "an ARN needs six colon-separated parts: arn:partition:service:region:account:resource",
        )?;
        if segs[0] != "arn" {
            return Err("an ARN must start with `arn:`");
        }
        if segs[1].is_empty() {
            return Err("the partition (second part) is empty");
        }
        if segs[2].is_empty() {
            return Err("the service (third part) is empty");
        }
        let compile = |s: &str| Template::parse(s, Wildcards::On, variables);
        let mut parsed: Vec<Template> = Vec::with_capacity(ARN_SEGMENTS);
        for seg in segs {
            parsed.push(compile(seg).map_err(|_| "malformed policy variable in ARN")?);
        }
        let arr: [Template; ARN_SEGMENTS] = parsed
            .try_into()
            .map_err(|_| "an ARN needs six colon-separated parts")?;
        let literal_prefix = arr[..ARN_SEGMENTS - 1]
            .iter()
            .map(|t| t.fixed().filter(|b| !super::glob::has_wildcard(b)))
            .collect::<Option<Vec<&[u8]>>>()
            .map(|parts| {
                let mut p = parts.join(&b':');
                p.push(b':');
                p.into_boxed_slice()
            });
        Ok(ArnPattern::Segments(Box::new(ArnSegments {
            segs: arr,
            literal_prefix,
        })))
    }

    /// Matches a request ARN (already split). `None` means a policy variable could not be
    /// resolved, which AWS treats as "does not match".
    pub fn matches(
        &self,
        request: Option<&[&str; ARN_SEGMENTS]>,
        request_text: &str,
        ctx: &RequestContext,
        scratch: &mut Vec<u8>,
    ) -> Option<bool> {
        match self {
            ArnPattern::Any => Some(true),
            ArnPattern::Segments(p) => {
                let Some(req) = request else {
                    // A request resource that is not an ARN (the `*` of actions without
                    // resource-level permissions) matches only the policy resource `*`.
                    return Some(false);
                };
                let last = ARN_SEGMENTS - 1;
                let first = match &p.literal_prefix {
                    Some(prefix) => {
                        // `req` slices `request_text`, so the prefix is everything before
                        // the resource segment.
                        let end = request_text.len() - req[last].len();
                        if !bytes_eq(prefix, &request_text.as_bytes()[..end]) {
                            return Some(false);
                        }
                        last
                    }
                    None => 0,
                };
                for (pat, text) in p.segs.iter().zip(req.iter()).skip(first) {
                    if !pat.matches(ctx, scratch, text.as_bytes())? {
                        return Some(false);
                    }
                }
                Some(true)
            }
        }
    }

    /// The pattern as written in the policy.
    pub fn source(&self) -> String {
        match self {
            ArnPattern::Any => "*".to_string(),
            ArnPattern::Segments(p) => p
                .segs
                .iter()
                .map(|t| t.source())
                .collect::<Vec<_>>()
                .join(":"),
        }
    }

    /// The first policy variable `ctx` cannot resolve, for explanations.
    pub fn unresolved_key<'a>(&'a self, ctx: &RequestContext) -> Option<&'a str> {
        match self {
            ArnPattern::Any => None,
            ArnPattern::Segments(p) => p.segs.iter().find_map(|t| t.unresolved_key(ctx)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::arn::split_arn;

    #[test]
    fn per_segment_matching() {
        let ctx = RequestContext::new("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "*")
            .unwrap();
        let mut buf = Vec::new();
        let p = ArnPattern::parse("arn:aws:dynamodb:*:111122223333:table/*", true).unwrap();
        let req = split_arn("arn:aws:dynamodb:us-east-1:111122223333:table/Books").unwrap();
        let text = "arn:aws:dynamodb:us-east-1:111122223333:table/Books";
        assert_eq!(p.matches(Some(&req), text, &ctx, &mut buf), Some(true));
        let text = "arn:aws:dynamodb:us-east-1:444455556666:table/Books";
        let req = split_arn(text).unwrap();
        assert_eq!(p.matches(Some(&req), text, &ctx, &mut buf), Some(false));
        // `*` in the region does not swallow the account segment.
        let p = ArnPattern::parse("arn:aws:dynamodb:*:table/*", true);
        assert!(p.is_err());
    }

    #[test]
    fn variables_with_colons_do_not_split() {
        let p = ArnPattern::parse("arn:aws:s3:::bucket/${aws:username}/*", true).unwrap();
        let ctx = RequestContext::new("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "*")
            .unwrap();
        let mut buf = Vec::new();
        let text = "arn:aws:s3:::bucket/alice/notes.txt";
        let req = split_arn(text).unwrap();
        assert_eq!(p.matches(Some(&req), text, &ctx, &mut buf), Some(true));
        let other = "arn:aws:s3:::bucket/bob/notes.txt";
        assert_eq!(
            p.matches(Some(&split_arn(other).unwrap()), other, &ctx, &mut buf),
            Some(false)
        );
    }
}
