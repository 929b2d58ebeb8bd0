//! SigV4's URI encoding (RFC 3986's unreserved characters stay, every other byte becomes `%XX`
//! in upper-case hex) and its inverse, for paths and query strings.

/// URI-encode as SigV4 requires: `A-Z a-z 0-9 - _ . ~` stay, every other byte becomes `%XX`
/// (upper-case hex); `/` stays when `keep_slash` (paths), not in query names and values.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    push_uri_encoded(&mut out, s, keep_slash);
    out
}

/// [`uri_encode`] onto the end of `out`.
pub fn push_uri_encoded(out: &mut String, s: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Decode `%XX` escapes. A `%` not followed by two hex digits stays as it is, and bytes that do
/// not form UTF-8 become U+FFFD: a request's path or query never makes this fail (the signature
/// check that follows refuses what does not match).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return s.to_string();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Bytes, not str slices: a '%' may be followed by a multi-byte character.
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_digit(b[i + 1]), hex_digit(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A raw query string (`a=1&b=x%20y&c`) as decoded (name, value) pairs, in the order sent; a
/// name without `=` has the empty value, as SigV4 signs it.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("a b/c~d", true), "a%20b/c~d");
        assert_eq!(uri_encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(uri_encode("é", false), "%C3%A9");
        assert_eq!(uri_encode("A-Z_a.z~0", false), "A-Z_a.z~0");
    }

    #[test]
    fn decoding_never_fails() {
        assert_eq!(percent_decode("%é%4"), "%é%4");
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%2fb%"), "a/b%");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(percent_decode("plain"), "plain");
    }

    #[test]
    fn queries() {
        assert_eq!(
            query_pairs("b=x%20y&a&&c=1=2"),
            vec![
                ("b".to_string(), "x y".to_string()),
                ("a".to_string(), String::new()),
                ("c".to_string(), "1=2".to_string()),
            ]
        );
        assert!(query_pairs("").is_empty());
    }
}
