//! Narrowing integer conversions where sizes cross a disk or wire boundary (issue #22 §5).
//!
//! Modules that encode or decode bytes for disk or the network deny
//! `clippy::cast_possible_truncation`: a narrowing `as` there is either a checked conversion
//! (`u32::try_from`, an error for input that can be wrong), an `expect` naming the bound that
//! makes it safe, or a mask that says which bits are kept (`(v & 0x7f) as u8`).

/// A size, offset or count held as `u64` (how the formats store them) used as a `usize` (a
/// buffer length, an index). Lossless on the 64-bit targets the engine is built for; on a
/// narrower one a value past `usize::MAX` panics here rather than wrapping into a wrong length.
#[inline]
#[must_use]
pub const fn usize_of(x: u64) -> usize {
    assert!(
        x <= usize::MAX as u64,
        "a u64 size does not fit this target's usize"
    );
    #[allow(clippy::cast_possible_truncation, reason = "checked just above")]
    let n = x as usize;
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_convert_exactly() {
        assert_eq!(usize_of(0), 0);
        assert_eq!(usize_of(4096), 4096);
        assert_eq!(usize_of(u64::from(u32::MAX) + 1), 1 << 32);
    }
}
