//! Merkle trees over key ranges, for anti-entropy.
//!
//! Each replica keeps, per ring range it replicates, a two-level hash tree: [`LEAVES`] leaf
//! buckets (a key's bucket comes from its hash) and a root over the leaves. A leaf is the
//! wrapping sum of its keys' digests — a digest hashes the key with its encoded sibling set — so
//! one key's change updates its leaf in O(1), and the sum does not depend on insertion order.
//! Two replicas compare roots; on a mismatch they compare leaves and exchange only the keys of
//! the buckets that differ (Dynamo §4.7, Riak's hashtrees).
//!
//! The trees live in memory, rebuilt from the LSM when a node starts: they are an index over
//! what is durable, not a second copy of it.

use std::collections::BTreeMap;

use seedbed_engine::rng::stable_hash;

/// Leaf buckets per range.
pub const LEAVES: usize = 16;

/// The leaves of one range's tree.
pub type Leaves = [u64; LEAVES];

/// The trees of every range on one node.
#[derive(Clone, Debug)]
pub struct Forest {
    leaves: Vec<Leaves>,
    /// Each range's root, cached until one of its keys changes (anti-entropy asks often).
    roots: Vec<std::cell::Cell<Option<u64>>>,
    /// Each key's current digest and range, to subtract on change.
    digests: BTreeMap<u32, (usize, u64)>,
}

/// The leaf bucket of `key`.
pub fn bucket_of(key: u32) -> usize {
    (stable_hash(&key.to_be_bytes()) % LEAVES as u64) as usize
}

/// The digest of `key` holding the encoded sibling set `encoded`.
pub fn digest(key: u32, encoded: &[u8]) -> u64 {
    stable_hash(encoded) ^ u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The root over `leaves`.
pub fn root_of(leaves: &Leaves) -> u64 {
    let mut b = [0u8; LEAVES * 8];
    for (i, l) in leaves.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
    }
    stable_hash(&b)
}

impl Forest {
    /// Empty trees for `ranges` ranges.
    pub fn new(ranges: usize) -> Forest {
        Forest {
            leaves: vec![[0; LEAVES]; ranges],
            roots: vec![std::cell::Cell::new(None); ranges],
            digests: BTreeMap::new(),
        }
    }

    /// Key `key` in range `range` now has digest `d`.
    pub fn set(&mut self, range: usize, key: u32, d: u64) {
        let b = bucket_of(key);
        if let Some((r, old)) = self.digests.insert(key, (range, d)) {
            debug_assert_eq!(r, range, "a key stays in its range");
            self.leaves[r][b] = self.leaves[r][b].wrapping_sub(old);
            self.roots[r].set(None);
        }
        self.leaves[range][b] = self.leaves[range][b].wrapping_add(d);
        self.roots[range].set(None);
    }

    /// The leaves of `range`.
    pub fn leaves(&self, range: usize) -> &Leaves {
        &self.leaves[range]
    }

    /// The root of `range`.
    pub fn root(&self, range: usize) -> u64 {
        if let Some(r) = self.roots[range].get() {
            debug_assert_eq!(r, root_of(&self.leaves[range]), "cached root is current");
            return r;
        }
        let r = root_of(&self.leaves[range]);
        self.roots[range].set(Some(r));
        r
    }

    /// The keys of `range` whose bucket bit is set in `buckets`.
    pub fn keys_in(&self, range: usize, buckets: u32) -> Vec<u32> {
        self.digests
            .iter()
            .filter(|(&k, &(r, _))| r == range && buckets & (1 << bucket_of(k)) != 0)
            .map(|(&k, _)| k)
            .collect()
    }
}

/// The buckets where two trees differ, as a bit mask.
pub fn differing(a: &Leaves, b: &Leaves) -> u32 {
    let mut m = 0;
    for i in 0..LEAVES {
        if a[i] != b[i] {
            m |= 1 << i;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_agree_exactly_when_contents_agree() {
        let mut a = Forest::new(2);
        let mut b = Forest::new(2);
        a.set(0, 1, digest(1, b"x"));
        a.set(0, 2, digest(2, b"y"));
        b.set(0, 2, digest(2, b"y"));
        b.set(0, 1, digest(1, b"x"));
        assert_eq!(a.root(0), b.root(0), "order does not matter");
        b.set(0, 1, digest(1, b"z"));
        assert_ne!(a.root(0), b.root(0));
        let d = differing(a.leaves(0), b.leaves(0));
        assert_eq!(d, 1 << bucket_of(1));
        assert_eq!(a.keys_in(0, d), vec![1]);
        b.set(0, 1, digest(1, b"x"));
        assert_eq!(a.root(0), b.root(0), "updates subtract the old digest");
    }
}
