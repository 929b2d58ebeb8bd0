//! The store's layout — K data shards, M parity shards, the shard directories — and the stripe
//! geometry that follows from it.
//!
//! An object of `size` bytes is cut into stripes of up to `K × shard_len_max` bytes. Each stripe
//! is split into K data shards of equal length (the last stripe's shards are shorter, rounded up
//! to [`SHARD_LEN_ROUND`] bytes and zero-padded) and M parity shards of the same length. Shard
//! `i` of every stripe lives in one file on disk `i`, so losing a disk loses one shard of every
//! stripe — exactly what M parity shards can repair.
//!
//! The geometry is a pure function of `(size, K, shard_len_max)`: nothing about where a stripe
//! sits needs storing, and a reader recomputes it from the object's metadata.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why a layout (asked for at creation, or read from `store.json`) cannot be used; the
/// message names the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// `store.json` is not the JSON this code writes.
    #[error("corrupt layout: {0}")]
    Parse(#[source] serde_json::Error),
    /// A layout format this build does not read.
    #[error("store format version {0} is not supported (this build reads version {LAYOUT_FORMAT_VERSION})")]
    Version(u32),
    /// K = 0.
    #[error("K (data shards) must be at least 1")]
    NoDataShards,
    /// K + M over the limit.
    #[error("K + M = {0} exceeds the limit of {MAX_SHARDS} shards per stripe")]
    TooManyShards(usize),
    /// A shard length that is not a positive multiple of 4096.
    #[error("shard length {0} must be a positive multiple of 4096")]
    ShardLength(u64),
    /// Not one directory per shard.
    #[error("{given} shard directories given, K + M = {needed} needed")]
    Disks {
        /// Directories given.
        given: usize,
        /// K + M.
        needed: usize,
    },
}

/// Shard lengths are rounded up to a multiple of this; the Reed-Solomon codec works on 64-byte
/// units.
pub const SHARD_LEN_ROUND: u64 = 64;

/// The most data + parity shards a store may have (the codec supports far more; past this the
/// per-stripe batch stops being a sensible unit).
pub const MAX_SHARDS: usize = 32;

/// What a store is made of, fixed when it is created and recorded in `store.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// On-disk format version of the store.
    pub format_version: u32,
    /// Data shards per stripe.
    pub k: usize,
    /// Parity shards per stripe (0 = no redundancy).
    pub m: usize,
    /// Largest shard in bytes (full stripes use exactly this; a multiple of 4096).
    pub shard_len_max: u64,
    /// One directory per shard index, `k + m` of them; each may be a separate device.
    pub disks: Vec<PathBuf>,
}

/// The current store format: 2 records the disks inside the store's directory relative to it;
/// 1 (still opened) recorded them relative to the directory the store was created from.
pub const LAYOUT_FORMAT_VERSION: u32 = 2;

/// Where one stripe sits in the object and in each shard file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stripe {
    /// Stripe number, from 0.
    pub index: u64,
    /// First object byte this stripe holds.
    pub object_offset: u64,
    /// Object bytes in this stripe (`<= k * shard_len`).
    pub data_len: u64,
    /// Length of each of its shards.
    pub shard_len: u64,
    /// Where its shard block starts inside every shard file.
    pub file_offset: u64,
}

impl Layout {
    /// A layout with `k` data and `m` parity shards over `disks`.
    pub fn new(
        k: usize,
        m: usize,
        shard_len_max: u64,
        disks: Vec<PathBuf>,
    ) -> Result<Self, LayoutError> {
        let layout = Layout {
            format_version: LAYOUT_FORMAT_VERSION,
            k,
            m,
            shard_len_max,
            disks,
        };
        layout.validate()?;
        Ok(layout)
    }

    /// Check the layout makes sense; the message says which field is wrong.
    pub fn validate(&self) -> Result<(), LayoutError> {
        if !(1..=LAYOUT_FORMAT_VERSION).contains(&self.format_version) {
            return Err(LayoutError::Version(self.format_version));
        }
        if self.k == 0 {
            return Err(LayoutError::NoDataShards);
        }
        if self.k + self.m > MAX_SHARDS {
            return Err(LayoutError::TooManyShards(self.k + self.m));
        }
        if self.shard_len_max == 0 || !self.shard_len_max.is_multiple_of(4096) {
            return Err(LayoutError::ShardLength(self.shard_len_max));
        }
        if self.disks.len() != self.k + self.m {
            return Err(LayoutError::Disks {
                given: self.disks.len(),
                needed: self.k + self.m,
            });
        }
        Ok(())
    }

    /// Total shards per stripe.
    pub fn width(&self) -> usize {
        self.k + self.m
    }

    /// Object bytes in a full stripe.
    pub fn stripe_data_max(&self) -> u64 {
        self.k as u64 * self.shard_len_max
    }

    /// How many stripes an object of `size` bytes has (0 for an empty object).
    pub fn stripe_count(&self, size: u64) -> u64 {
        size.div_ceil(self.stripe_data_max())
    }

    /// Stripe `index` of an object of `size` bytes.
    pub fn stripe(&self, size: u64, index: u64) -> Stripe {
        let count = self.stripe_count(size);
        assert!(index < count, "stripe {index} of {count}");
        let full = self.stripe_data_max();
        let object_offset = index * full;
        let data_len = (size - object_offset).min(full);
        let shard_len = if data_len == full {
            self.shard_len_max
        } else {
            data_len
                .div_ceil(self.k as u64)
                .next_multiple_of(SHARD_LEN_ROUND)
        };
        Stripe {
            index,
            object_offset,
            data_len,
            shard_len,
            file_offset: super::shard::HEADER_LEN + index * self.shard_len_max,
        }
    }

    /// Every stripe of an object of `size` bytes.
    pub fn stripes(&self, size: u64) -> impl Iterator<Item = Stripe> + '_ {
        (0..self.stripe_count(size)).map(move |i| self.stripe(size, i))
    }

    /// Bytes of shard data in each shard file of an object (header and checksum table excluded).
    pub fn shard_data_len(&self, size: u64) -> u64 {
        match self.stripe_count(size) {
            0 => 0,
            n => (n - 1) * self.shard_len_max + self.stripe(size, n - 1).shard_len,
        }
    }

    /// The stripes that hold object bytes `[start, end)`.
    pub fn stripes_for_range(&self, size: u64, start: u64, end: u64) -> std::ops::Range<u64> {
        if start >= end || start >= size {
            return 0..0;
        }
        let full = self.stripe_data_max();
        (start / full)..(end.min(size).div_ceil(full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(k: usize, m: usize) -> Layout {
        let disks = (0..k + m).map(|i| PathBuf::from(format!("d{i}"))).collect();
        Layout::new(k, m, 8192, disks).unwrap()
    }

    #[test]
    fn stripes_cover_the_object_exactly() {
        for (k, m) in [(1, 0), (4, 2), (3, 1), (6, 3)] {
            let l = layout(k, m);
            for size in [
                0u64,
                1,
                63,
                64,
                8191,
                8192,
                8193,
                4 * 8192,
                4 * 8192 + 1,
                1_000_003,
            ] {
                let mut next = 0;
                for s in l.stripes(size) {
                    assert_eq!(s.object_offset, next);
                    assert!(s.data_len > 0 && s.data_len <= k as u64 * s.shard_len);
                    assert_eq!(s.shard_len % SHARD_LEN_ROUND, 0);
                    assert!(s.shard_len <= l.shard_len_max);
                    next += s.data_len;
                }
                assert_eq!(next, size, "k={k} size={size}");
            }
        }
    }

    #[test]
    fn range_maps_to_stripes() {
        let l = layout(4, 2); // 32 KiB per stripe
        assert_eq!(l.stripes_for_range(100_000, 0, 100_000), 0..4);
        assert_eq!(l.stripes_for_range(100_000, 32_768, 32_769), 1..2);
        assert_eq!(l.stripes_for_range(100_000, 5, 5), 0..0);
        assert_eq!(l.stripes_for_range(100_000, 200_000, 300_000), 0..0);
    }

    #[test]
    fn bad_layouts_say_what_is_wrong() {
        let d = |n| {
            (0..n)
                .map(|i| PathBuf::from(format!("d{i}")))
                .collect::<Vec<_>>()
        };
        assert!(Layout::new(0, 2, 4096, d(2))
            .unwrap_err()
            .to_string()
            .contains("K"));
        assert!(Layout::new(4, 2, 4096, d(5))
            .unwrap_err()
            .to_string()
            .contains("directories"));
        assert!(Layout::new(4, 2, 1000, d(6))
            .unwrap_err()
            .to_string()
            .contains("4096"));
        assert!(Layout::new(30, 3, 4096, d(33))
            .unwrap_err()
            .to_string()
            .contains("limit"));
        assert!(matches!(
            Layout::new(4, 2, 4096, d(5)),
            Err(LayoutError::Disks {
                given: 5,
                needed: 6
            })
        ));
        assert!(Layout::new(4, 0, 4096, d(4)).is_ok());
    }
}
