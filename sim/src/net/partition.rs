//! Network partitions as sets of cut directed links.
//!
//! A partition cuts every link from a node in `from` to a node in `to`, and, when `both_ways`,
//! the reverse links too. The four kinds the fault injector draws are shapes of this one idea:
//! one node isolated (`{n}` vs the rest, both ways), split in two (two halves, both ways),
//! symmetric (a random subset vs the rest, both ways) and asymmetric (a random subset can send
//! to the rest but not hear from them, or the reverse — the partition that breaks leader leases).

use serde::{Deserialize, Serialize};

use crate::node::{NodeId, MAX_NODES};

/// Which shape a partition has; only for traces and docs, the cut is in the node sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionKind {
    /// One node cut off from all others, both ways.
    Isolate,
    /// The nodes split into two halves, both ways.
    Split,
    /// A random subset against the rest, both ways.
    Symmetric,
    /// A random subset against the rest, one way only.
    Asymmetric,
}

/// One partition: links from `from` to `to` are cut (and back, when `both_ways`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// The shape, for people.
    pub kind: PartitionKind,
    /// Senders whose messages to `to` are lost.
    pub from: Vec<NodeId>,
    /// Receivers that do not hear from `from`.
    pub to: Vec<NodeId>,
    /// Also cut `to` → `from`.
    pub both_ways: bool,
}

/// A set of node ids as a bitset: one bit per node, 64 to a word, so a membership test is one
/// shift and one load whatever the cluster size (up to [`MAX_NODES`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSet {
    words: Vec<u64>,
}

impl NodeSet {
    /// The set of `nodes` (ids at or beyond [`MAX_NODES`] are ignored).
    pub fn of(nodes: &[NodeId]) -> Self {
        let top = nodes.iter().copied().filter(|&n| n < MAX_NODES).max();
        let mut words = vec![0u64; top.map_or(0, |t| t as usize / 64 + 1)];
        for &n in nodes.iter().filter(|&&n| n < MAX_NODES) {
            words[n as usize / 64] |= 1u64 << (n % 64);
        }
        NodeSet { words }
    }

    /// Whether `n` is in the set.
    #[inline]
    pub fn contains(&self, n: NodeId) -> bool {
        self.words
            .get(n as usize / 64)
            .is_some_and(|w| w & (1u64 << (n % 64)) != 0)
    }
}

/// A partition in force, as bitsets for a quick check per message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Which fault made it (its index in the schedule), so its own heal removes only it.
    pub id: u32,
    from: NodeSet,
    to: NodeSet,
    both_ways: bool,
}

impl Partition {
    /// This partition with nodes at or beyond `nodes` removed; `None` when a side is left empty
    /// (used when a shrunk run has fewer nodes).
    pub fn restricted_to(&self, nodes: u32) -> Option<Partition> {
        let from: Vec<_> = self.from.iter().copied().filter(|&n| n < nodes).collect();
        let to: Vec<_> = self.to.iter().copied().filter(|&n| n < nodes).collect();
        if from.is_empty() || to.is_empty() {
            return None;
        }
        Some(Partition {
            kind: self.kind,
            from,
            to,
            both_ways: self.both_ways,
        })
    }

    /// The partition as masks, tagged with `id`.
    pub fn cut(&self, id: u32) -> Cut {
        Cut {
            id,
            from: NodeSet::of(&self.from),
            to: NodeSet::of(&self.to),
            both_ways: self.both_ways,
        }
    }
}

impl Cut {
    /// Whether this cut stops a message from `from` to `to`.
    #[inline]
    pub fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        (self.from.contains(from) && self.to.contains(to))
            || (self.both_ways && self.from.contains(to) && self.to.contains(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetric_cuts_one_direction_only() {
        let p = Partition {
            kind: PartitionKind::Asymmetric,
            from: vec![0],
            to: vec![1, 2],
            both_ways: false,
        };
        let c = p.cut(0);
        assert!(c.blocks(0, 1) && c.blocks(0, 2));
        assert!(!c.blocks(1, 0) && !c.blocks(1, 2));
        let s = Partition {
            both_ways: true,
            ..p.clone()
        }
        .cut(1);
        assert!(s.blocks(1, 0) && s.blocks(0, 2) && !s.blocks(1, 2));
    }

    #[test]
    fn cuts_work_beyond_64_nodes() {
        let p = Partition {
            kind: PartitionKind::Split,
            from: vec![3, 64, 700],
            to: vec![0, 63, 65, 999],
            both_ways: true,
        };
        let c = p.cut(2);
        assert!(c.blocks(700, 999) && c.blocks(999, 64) && c.blocks(3, 63));
        assert!(!c.blocks(700, 3) && !c.blocks(0, 999) && !c.blocks(1000, 0));
        let s = NodeSet::of(&[1, 128, MAX_NODES + 5]);
        assert!(s.contains(1) && s.contains(128) && !s.contains(127) && !s.contains(5000));
    }

    #[test]
    fn restricting_drops_empty_sides() {
        let p = Partition {
            kind: PartitionKind::Isolate,
            from: vec![4],
            to: vec![0, 1, 2, 3],
            both_ways: true,
        };
        assert_eq!(p.restricted_to(4), None);
        assert_eq!(p.restricted_to(5).unwrap().to.len(), 4);
    }
}
