//! The ring: consistent hashing with virtual nodes, and each key range's preference list.
//!
//! Every node places [`Ring::vnodes`] tokens on a 64-bit ring (a stable hash of node and
//! index). A key hashes onto the ring and belongs to the *range* ending at the first token at
//! or after it. Walking the ring clockwise from that token and collecting distinct nodes gives
//! the range's order of nodes: the first N are its **preference list** (the replicas), the rest
//! its **fallbacks**, tried in order for sloppy quorum when a replica is unreachable.
//!
//! Virtual nodes spread each node's share over many small ranges, so a node's failure spreads
//! its load over many peers instead of one (Dynamo §4.2). The ring is fixed for a run;
//! membership changes (issue 7, gossip) would rebuild it.

use seedbed_engine::rng::stable_hash;

use crate::NodeId;

/// The ring for one run.
#[derive(Clone, Debug)]
pub struct Ring {
    /// Range `i` ends (inclusive) at `tokens[i]`; sorted.
    tokens: Vec<u64>,
    /// Per range: every node once, in clockwise order from the range's token.
    order: Vec<Vec<NodeId>>,
    n: usize,
    vnodes: u32,
}

/// Where key `key` sits on the ring.
pub fn key_position(key: u32) -> u64 {
    stable_hash(&key.to_le_bytes())
}

impl Ring {
    /// A ring of `nodes` nodes with `vnodes` tokens each and `n` replicas per range
    /// (`1 <= n <= nodes`).
    pub fn new(nodes: u32, vnodes: u32, n: u32) -> Ring {
        assert!(nodes >= 1 && vnodes >= 1 && n >= 1 && n <= nodes);
        let mut placed: Vec<(u64, NodeId)> = Vec::with_capacity((nodes * vnodes) as usize);
        for node in 0..nodes {
            for v in 0..vnodes {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&node.to_le_bytes());
                b[4..].copy_from_slice(&v.to_le_bytes());
                placed.push((stable_hash(&b), node));
            }
        }
        placed.sort();
        placed.dedup_by_key(|p| p.0);
        let tokens: Vec<u64> = placed.iter().map(|p| p.0).collect();
        let mut order = Vec::with_capacity(placed.len());
        for start in 0..placed.len() {
            let mut seen = Vec::with_capacity(nodes as usize);
            for step in 0..placed.len() {
                let node = placed[(start + step) % placed.len()].1;
                if !seen.contains(&node) {
                    seen.push(node);
                }
            }
            order.push(seen);
        }
        Ring {
            tokens,
            order,
            n: n as usize,
            vnodes,
        }
    }

    /// Tokens per node.
    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// Number of key ranges.
    pub fn ranges(&self) -> usize {
        self.tokens.len()
    }

    /// The range key `key` belongs to.
    pub fn range_of(&self, key: u32) -> usize {
        let p = key_position(key);
        match self.tokens.binary_search(&p) {
            Ok(i) => i,
            Err(i) if i == self.tokens.len() => 0, // wraps around to the first token
            Err(i) => i,
        }
    }

    /// The replicas of range `range`, first to last.
    pub fn preference(&self, range: usize) -> &[NodeId] {
        &self.order[range][..self.n]
    }

    /// The nodes after the preference list, in ring order: where hinted writes go.
    pub fn fallbacks(&self, range: usize) -> &[NodeId] {
        &self.order[range][self.n..]
    }

    /// Whether `node` replicates range `range`.
    pub fn replicates(&self, node: NodeId, range: usize) -> bool {
        self.preference(range).contains(&node)
    }

    /// The ranges `node` replicates, ascending.
    pub fn ranges_of(&self, node: NodeId) -> Vec<usize> {
        (0..self.ranges())
            .filter(|&r| self.replicates(node, r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_lists_are_distinct_and_cover_every_node_evenly() {
        let ring = Ring::new(5, 8, 3);
        assert_eq!(ring.ranges(), 40);
        let mut share = [0usize; 5];
        for r in 0..ring.ranges() {
            let p = ring.preference(r);
            assert_eq!(p.len(), 3);
            let mut d = p.to_vec();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), 3, "replicas are distinct nodes");
            assert_eq!(ring.fallbacks(r).len(), 2);
            for &n in p {
                share[n as usize] += 1;
            }
        }
        assert!(share.iter().all(|&s| s > 0));
        assert_eq!(share.iter().sum::<usize>(), 120);
    }

    #[test]
    fn keys_map_to_ranges_deterministically() {
        let ring = Ring::new(5, 8, 3);
        let again = Ring::new(5, 8, 3);
        for k in 0..100 {
            assert_eq!(ring.range_of(k), again.range_of(k));
            assert!(ring.range_of(k) < ring.ranges());
        }
    }
}
