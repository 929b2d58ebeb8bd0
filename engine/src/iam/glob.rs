//! A fast `*` / `?` glob matcher over bytes.
//!
//! IAM patterns (actions, resource ARN segments, `StringLike`, `ArnLike`) use two wildcards:
//! `*` matches any run of characters (including none) and `?` matches exactly one character.
//! A compiled pattern is a byte string in which the wildcards are the bytes [`STAR`] (0xFF) and
//! [`ANY_ONE`] (0xFE). Neither byte ever occurs in UTF-8 text, so a literal `*` or `?` (written
//! `${*}` / `${?}` in a policy, or coming from a policy variable's value) stays an ordinary byte
//! and can never be confused with a wildcard. Matching allocates nothing and runs in
//! O(pattern × text) in the worst case, O(pattern + text) in the usual one (the classic
//! single-backtrack-point algorithm: only the most recent `*` needs to be retried).

/// The compiled form of the `*` wildcard.
pub const STAR: u8 = 0xFF;
/// The compiled form of the `?` wildcard.
pub const ANY_ONE: u8 = 0xFE;

/// Number of bytes in the UTF-8 character that starts with `lead`.
#[inline]
fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        // A continuation byte or invalid lead: count it as one so matching always progresses.
        _ => 1,
    }
}

/// The shape of a compiled pattern, classified once at policy parse time so that matching the
/// overwhelmingly common shapes (`s3:GetObject`, `s3:Get*`, `*`) costs one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No wildcards: byte equality.
    Exact,
    /// Literal text followed by one trailing `*`: a prefix test.
    Prefix,
    /// Only `*`: matches everything.
    Anything,
    /// Several `*` and no `?`: literal chunks found left to right.
    Stars,
    /// Anything else: the general matcher.
    General,
}

/// Classifies a compiled pattern.
pub fn shape(pattern: &[u8]) -> Shape {
    let wild = |b: &u8| *b == STAR || *b == ANY_ONE;
    if !pattern.iter().any(wild) {
        return Shape::Exact;
    }
    if pattern.iter().all(|&b| b == STAR) {
        return Shape::Anything;
    }
    match pattern.split_last() {
        Some((&STAR, prefix)) if !prefix.iter().any(wild) => Shape::Prefix,
        _ if !pattern.contains(&ANY_ONE) => Shape::Stars,
        _ => Shape::General,
    }
}

/// Byte equality without a libc call for the short strings policies are made of.
#[inline]
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 32 {
        return a == b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Matches `text` against a pattern already classified as `shape`.
#[inline]
pub fn match_shaped(shape: Shape, pattern: &[u8], text: &[u8]) -> bool {
    match shape {
        Shape::Exact => bytes_eq(pattern, text),
        Shape::Prefix => {
            let n = pattern.len() - 1;
            text.len() >= n && bytes_eq(&pattern[..n], &text[..n])
        }
        Shape::Anything => true,
        Shape::Stars => match_stars(pattern, text),
        Shape::General => glob_match_general(pattern, text),
    }
}

/// Matches a pattern whose only wildcard is `*`: the first chunk must be a prefix, the last a
/// suffix, and the middle chunks must appear in order in between. Taking each middle chunk at
/// its leftmost position is always safe, so there is no backtracking.
fn match_stars(pattern: &[u8], text: &[u8]) -> bool {
    let first_star = pattern
        .iter()
        .position(|&b| b == STAR)
        .unwrap_or(pattern.len());
    let last_star = pattern
        .iter()
        .rposition(|&b| b == STAR)
        .unwrap_or(pattern.len());
    debug_assert!(
        first_star < pattern.len(),
        "match_stars needs at least one `*`"
    );
    let (head, tail) = (&pattern[..first_star], &pattern[last_star + 1..]);
    if text.len() < head.len() + tail.len() || !text.starts_with(head) || !text.ends_with(tail) {
        return false;
    }
    let (mut pos, end) = (head.len(), text.len() - tail.len());
    if first_star == last_star {
        return true;
    }
    for chunk in pattern[first_star + 1..last_star].split(|&b| b == STAR) {
        if chunk.is_empty() {
            continue;
        }
        match text[pos..end].windows(chunk.len()).position(|w| w == chunk) {
            Some(at) => pos += at + chunk.len(),
            None => return false,
        }
    }
    true
}

/// True when the compiled `pattern` matches all of `text`.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match_shaped(shape(pattern), pattern, text)
}

fn glob_match_general(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position after the last `*` seen, and the text position it is currently assumed to cover up to.
    let mut star: Option<(usize, usize)> = None;
    // Each iteration advances `t` or `p`, or restarts from `star` with a strictly larger text
    // position; the bound below is never reached on correct code.
    let iterations_max = (pattern.len() + 1) * (text.len() + 1) + 1;
    let mut iterations = 0usize;
    while t < text.len() {
        iterations += 1;
        debug_assert!(
            iterations <= iterations_max,
            "glob matcher failed to progress"
        );
        if p < pattern.len() {
            match pattern[p] {
                STAR => {
                    p += 1;
                    star = Some((p, t));
                    continue;
                }
                ANY_ONE => {
                    p += 1;
                    t += utf8_width(text[t]).min(text.len() - t);
                    continue;
                }
                b if b == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_p, star_t)) => {
                // Let the last `*` swallow one more character and retry after it.
                let next_t = star_t + utf8_width(text[star_t]).min(text.len() - star_t);
                star = Some((star_p, next_t));
                p = star_p;
                t = next_t;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&b| b == STAR)
}

/// Compiles plain IAM wildcard text (`*` and `?` are wildcards, nothing else is special).
pub fn compile_plain(text: &str) -> Vec<u8> {
    text.bytes()
        .map(|b| match b {
            b'*' => STAR,
            b'?' => ANY_ONE,
            other => other,
        })
        .collect()
}

/// True when the compiled pattern contains a wildcard.
pub fn has_wildcard(pattern: &[u8]) -> bool {
    pattern.iter().any(|&b| b == STAR || b == ANY_ONE)
}

/// Renders a compiled pattern back as policy text (wildcards as `*` / `?`), for explanations.
pub fn render(pattern: &[u8]) -> String {
    let bytes: Vec<u8> = pattern
        .iter()
        .map(|&b| match b {
            STAR => b'*',
            ANY_ONE => b'?',
            other => other,
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        glob_match(&compile_plain(p), t.as_bytes())
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("s3:getobject", "s3:getobject"));
        assert!(!m("s3:getobject", "s3:getobjectacl"));
        assert!(m("s3:get*", "s3:getobjectacl"));
        assert!(m("s3:get*", "s3:get"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*.txt", "dir/file.txt"));
        assert!(!m("*.txt", "dir/file.txt2"));
        assert!(m("a*a*a", "aaaaa"));
        assert!(m("**", "x"));
        assert!(m("?", "é"), "? matches one character, not one byte");
        assert!(!m("??", "é"));
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(&compile_plain("s3:getobject")), Shape::Exact);
        assert_eq!(shape(&compile_plain("s3:get*")), Shape::Prefix);
        assert_eq!(shape(&compile_plain("**")), Shape::Anything);
        assert_eq!(shape(&compile_plain("s3:*object")), Shape::Stars);
        assert_eq!(shape(&compile_plain("s3:get?")), Shape::General);
    }

    #[test]
    fn star_only_matcher_agrees_with_general() {
        let pats = [
            "a*b*c",
            "*a*",
            "bucket-*/*",
            "*x",
            "x*y",
            "*ab*ab*",
            "**a**",
            "a*a*a",
        ];
        let texts = [
            "",
            "a",
            "abc",
            "aXbYc",
            "bucket-t/p",
            "bucket-/",
            "xy",
            "xay",
            "abab",
            "ababab",
            "aaaa",
            "ba",
        ];
        for p in pats {
            let c = compile_plain(p);
            for t in texts {
                assert_eq!(
                    match_stars(&c, t.as_bytes()),
                    glob_match_general(&c, t.as_bytes()),
                    "{p} vs {t}"
                );
            }
        }
    }

    #[test]
    fn escaped_star_is_literal() {
        let mut p = compile_plain("a");
        p.push(b'*');
        assert!(glob_match(&p, b"a*"));
        assert!(!glob_match(&p, b"ab"));
    }
}
