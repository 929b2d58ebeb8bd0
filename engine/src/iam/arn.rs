//! Amazon Resource Names: splitting them into their six segments. Matching a policy's ARN
//! pattern against a request's ARN is in [`super::arn_pattern`]; this file needs nothing else of
//! the module, so the caller and the request context can build on it.
//!
//! An ARN has six colon-separated segments: `arn:partition:service:region:account:resource`.
//! The resource segment may itself contain colons (`arn:aws:dynamodb:us-east-1:1:table/t`,
//! `arn:aws:logs:us-east-1:1:log-group:g:*`), so only the first five colons split. AWS matches
//! a policy ARN against a request ARN **segment by segment**: a `*` in the region segment never
//! swallows the account. In a policy, a colon inside `${...}` does not split.

/// Number of segments in an ARN.
pub const ARN_SEGMENTS: usize = 6;

/// Splits a request ARN into its six segments without allocating, or `None` if it is not an ARN.
pub fn split_arn(arn: &str) -> Option<[&str; ARN_SEGMENTS]> {
    let mut out = [""; ARN_SEGMENTS];
    let mut rest = arn;
    for slot in out.iter_mut().take(ARN_SEGMENTS - 1) {
        let (head, tail) = rest.split_once(':')?;
        *slot = head;
        rest = tail;
    }
    out[ARN_SEGMENTS - 1] = rest;
    if out[0] != "arn" || out[1].is_empty() || out[2].is_empty() {
        return None;
    }
    Some(out)
}

/// Splits policy ARN text at its first five colons, ignoring colons inside `${...}`.
pub(crate) fn split_pattern(text: &str, variables: bool) -> Option<[&str; ARN_SEGMENTS]> {
    let mut out = [""; ARN_SEGMENTS];
    let bytes = text.as_bytes();
    let (mut start, mut seg, mut depth) = (0usize, 0usize, 0usize);
    let mut i = 0usize;
    while i < bytes.len() && seg < ARN_SEGMENTS - 1 {
        match bytes[i] {
            b'$' if variables && bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                out[seg] = &text[start..i];
                seg += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if seg < ARN_SEGMENTS - 1 {
        return None;
    }
    out[ARN_SEGMENTS - 1] = &text[start..];
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_six_segments_keeping_resource_colons() {
        let s = split_arn("arn:aws:logs:us-east-1:111122223333:log-group:g:*").unwrap();
        assert_eq!(s[5], "log-group:g:*");
        assert!(split_arn("arn:aws:s3").is_none());
        assert!(split_arn("not:an:arn:at:all:x").is_none());
    }
}
