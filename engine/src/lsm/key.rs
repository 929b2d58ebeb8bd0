//! Internal keys: a user key followed by an 8-byte trailer `(sequence << 8) | kind`, little
//! endian — LevelDB's layout. Many versions of one user key coexist; they sort by user key
//! ascending, then by sequence number *descending*, so that a seek for `(key, snapshot)` lands
//! on the newest version a snapshot may see.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::cmp::Ordering;

/// Sequence numbers use 56 bits; the low byte of the trailer holds the [`ValueKind`].
pub const MAX_SEQUENCE: u64 = (1 << 56) - 1;

/// Bytes in the trailer after the user key.
pub const TRAILER_BYTES: usize = 8;

/// What an entry says about its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ValueKind {
    /// A tombstone: the key was deleted at this sequence number.
    Delete = 0,
    /// A value.
    Put = 1,
}

impl ValueKind {
    /// Decode a kind byte; `None` for anything else (corruption).
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(ValueKind::Delete),
            1 => Some(ValueKind::Put),
            _ => None,
        }
    }
}

/// The kind used in seek keys: the highest kind, so a seek key sorts before every real entry
/// with the same user key and sequence number.
pub const KIND_FOR_SEEK: ValueKind = ValueKind::Put;

/// Pack a sequence number and kind into a trailer.
#[inline]
pub fn pack_trailer(seq: u64, kind: ValueKind) -> u64 {
    debug_assert!(seq <= MAX_SEQUENCE);
    (seq << 8) | kind as u64
}

/// Append an internal key for (`user_key`, `seq`, `kind`) to `dst`.
#[inline]
pub fn append_internal_key(dst: &mut Vec<u8>, user_key: &[u8], seq: u64, kind: ValueKind) {
    dst.extend_from_slice(user_key);
    dst.extend_from_slice(&pack_trailer(seq, kind).to_le_bytes());
}

/// A fresh internal key.
pub fn internal_key(user_key: &[u8], seq: u64, kind: ValueKind) -> Vec<u8> {
    let mut v = Vec::with_capacity(user_key.len() + TRAILER_BYTES);
    append_internal_key(&mut v, user_key, seq, kind);
    v
}

/// The user-key part of an internal key. Internal keys shorter than the trailer never leave a
/// decoder (they are reported as corruption), so this only debug-asserts.
#[inline]
pub fn user_key(ikey: &[u8]) -> &[u8] {
    debug_assert!(ikey.len() >= TRAILER_BYTES);
    &ikey[..ikey.len().saturating_sub(TRAILER_BYTES)]
}

/// The trailer of an internal key.
#[inline]
pub fn trailer(ikey: &[u8]) -> u64 {
    let n = ikey.len();
    if n < TRAILER_BYTES {
        return 0;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&ikey[n - TRAILER_BYTES..]);
    u64::from_le_bytes(b)
}

/// The sequence number of an internal key.
#[inline]
pub fn sequence(ikey: &[u8]) -> u64 {
    trailer(ikey) >> 8
}

/// The kind of an internal key, `None` if the kind byte is unknown.
#[inline]
pub fn kind(ikey: &[u8]) -> Option<ValueKind> {
    ValueKind::from_u8((trailer(ikey) & 0xff) as u8)
}

/// Bytewise comparison, eight bytes at a time. Same result as `a.cmp(b)`, but inlined: for
/// the short keys an LSM compares millions of times per second, the call into libc `memcmp`
/// costs more than the comparison.
#[inline]
pub fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_be_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    a[i..].cmp(&b[i..])
}

/// Order internal keys: user key ascending, then trailer (sequence, kind) descending.
#[inline]
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    match compare_bytes(user_key(a), user_key(b)) {
        Ordering::Equal => trailer(b).cmp(&trailer(a)),
        o => o,
    }
}

/// A parsed internal key, borrowing the user key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// The user's key.
    pub user_key: &'a [u8],
    /// The sequence number of the write.
    pub seq: u64,
    /// Put or delete.
    pub kind: ValueKind,
}

/// Parse an internal key; `None` if it is too short or has an unknown kind.
#[inline]
pub fn parse(ikey: &[u8]) -> Option<ParsedKey<'_>> {
    if ikey.len() < TRAILER_BYTES {
        return None;
    }
    let t = trailer(ikey);
    Some(ParsedKey {
        user_key: user_key(ikey),
        seq: t >> 8,
        kind: ValueKind::from_u8((t & 0xff) as u8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_sort_first_and_user_keys_dominate() {
        let a1 = internal_key(b"a", 1, ValueKind::Put);
        let a2 = internal_key(b"a", 2, ValueKind::Put);
        let ab = internal_key(b"ab", 9, ValueKind::Put);
        assert_eq!(compare_internal(&a2, &a1), Ordering::Less);
        assert_eq!(compare_internal(&a1, &ab), Ordering::Less);
        let seek = internal_key(b"a", 2, KIND_FOR_SEEK);
        let del = internal_key(b"a", 2, ValueKind::Delete);
        assert_eq!(compare_internal(&seek, &del), Ordering::Less);
        for (x, y) in [
            (&b"abcdefghij"[..], &b"abcdefghik"[..]),
            (b"abcdefgh", b"abcdefgh0"),
            (b"", b"a"),
            (b"b", b"a"),
        ] {
            assert_eq!(compare_bytes(x, y), x.cmp(y));
            assert_eq!(compare_bytes(y, x), y.cmp(x));
        }
        let p = parse(&a2).unwrap();
        assert_eq!((p.user_key, p.seq, p.kind), (&b"a"[..], 2, ValueKind::Put));
        assert!(parse(b"short").is_none());
    }
}
