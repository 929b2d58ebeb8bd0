//! The bloom filter: one per table over its user keys, so that a point lookup skips a table
//! that cannot hold the key without reading any data block.
//!
//! ```text
//! filter := bits: [u8; m/8] | probes: u8
//! ```
//! A key sets `probes` bits chosen by double hashing its 64-bit [`key_hash`]: with
//! `h1 = low32`, `h2 = high32`, probe `j` sets bit `(h1 + j*h2) mod m`. At 10 bits per key and
//! 7 probes the false-positive rate is about 0.8%.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

/// MurmurHash64A of `key` (seed fixed), the hash every filter probe uses. Stable across
/// processes and platforms: the filter is stored on disk.
pub fn key_hash(key: &[u8]) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let seed: u64 = 0x5eed_bedd;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut t = [0u8; 8];
        t[..tail.len()].copy_from_slice(tail);
        h ^= u64::from_le_bytes(t);
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Number of probes for a bits-per-key budget: `bits_per_key * ln 2`, clamped to 1..=30.
pub fn probes_for(bits_per_key: u32) -> u8 {
    // A float-to-int `as` saturates (never wraps); the clamp bounds it to a byte.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "saturating, then clamped to 1..=30"
    )]
    let probes = ((f64::from(bits_per_key) * 0.69) as u32).clamp(1, 30);
    u8::try_from(probes).expect("clamped to 1..=30")
}

/// Build a filter from key hashes.
pub fn build_filter(hashes: &[u64], bits_per_key: u32) -> Vec<u8> {
    let bits = (hashes.len() * bits_per_key as usize).max(64);
    let bytes = bits.div_ceil(8);
    let bits = bytes * 8;
    let probes = probes_for(bits_per_key);
    let mut out = vec![0u8; bytes + 1];
    for &h in hashes {
        let mut a = (h & 0xffff_ffff) as u32;
        let b = (h >> 32) as u32 | 1;
        for _ in 0..probes {
            let pos = a as usize % bits;
            out[pos / 8] |= 1 << (pos % 8);
            a = a.wrapping_add(b);
        }
    }
    out[bytes] = probes;
    out
}

/// A parsed filter.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    bits: Vec<u8>,
    probes: u8,
}

impl BloomFilter {
    /// Parse a filter block's contents; `None` if malformed. An empty filter (no keys) parses
    /// as "may contain anything" so that a missing filter never hides data.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let (&probes, bits) = data.split_last()?;
        if probes == 0 || probes > 30 || bits.is_empty() {
            return None;
        }
        Some(BloomFilter {
            bits: bits.to_vec(),
            probes,
        })
    }

    /// Could the key with this hash be in the table? `false` is certain.
    pub fn may_contain_hash(&self, h: u64) -> bool {
        let nbits = self.bits.len() * 8;
        let mut a = (h & 0xffff_ffff) as u32;
        let b = (h >> 32) as u32 | 1;
        for _ in 0..self.probes {
            let pos = a as usize % nbits;
            if self.bits[pos / 8] & (1 << (pos % 8)) == 0 {
                return false;
            }
            a = a.wrapping_add(b);
        }
        true
    }

    /// Could `key` be in the table?
    pub fn may_contain(&self, key: &[u8]) -> bool {
        self.may_contain_hash(key_hash(key))
    }

    /// Number of probes per key.
    pub fn probes(&self) -> u8 {
        self.probes
    }

    /// Size of the bit array in bits.
    pub fn bits(&self) -> usize {
        self.bits.len() * 8
    }

    /// Fraction of bits set (a filter near 0.5 is well sized).
    pub fn fill_ratio(&self) -> f64 {
        let ones: u32 = self.bits.iter().map(|b| b.count_ones()).sum();
        f64::from(ones) / self.bits() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let keys: Vec<Vec<u8>> = (0..10_000u32)
            .map(|i| format!("user{i}").into_bytes())
            .collect();
        let hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
        let f = BloomFilter::parse(&build_filter(&hashes, 10)).unwrap();
        assert!(keys.iter().all(|k| f.may_contain(k)));
        let fp = (0..10_000u32)
            .filter(|i| f.may_contain(format!("other{i}").as_bytes()))
            .count();
        assert!(fp < 300, "false positives {fp} of 10000");
        assert!(BloomFilter::parse(&[]).is_none());
    }
}
