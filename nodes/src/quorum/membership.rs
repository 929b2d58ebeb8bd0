//! Who is up: the seam where a membership protocol plugs in.
//!
//! Times passed in are the node's *membership time* (`QuorumNode::mono_ns`), which advances
//! with its timers and never jumps with its clock.
//!
//! Coordinators ask [`Membership::is_up`] before choosing replicas: a node believed down is
//! skipped in favour of a fallback (sloppy quorum), and hints are handed off only to nodes
//! believed up. Today the answer comes from [`Detector`], a local timeout detector: a node
//! that misses a request deadline is suspected for [`SUSPECT_NS`]; any message from it clears
//! the suspicion. The gossip workload (issue 7, SWIM) can replace it by implementing the trait.

use crate::time::ms;
use crate::NodeId;

/// How long a node stays suspected after missing a deadline, in local nanoseconds.
pub const SUSPECT_NS: u64 = ms(100);

/// A view of which nodes are reachable.
pub trait Membership {
    /// Whether `node` is believed up at local time `now_ns`.
    fn is_up(&self, node: NodeId, now_ns: u64) -> bool;
    /// A message from `node` arrived at `now_ns`.
    fn heard_from(&mut self, node: NodeId, now_ns: u64);
    /// `node` missed a deadline at `now_ns`.
    fn missed(&mut self, node: NodeId, now_ns: u64);
}

/// A local timeout failure detector; see the module docs.
#[derive(Clone, Debug)]
pub struct Detector {
    suspected_until_ns: Vec<u64>,
}

impl Detector {
    /// Nobody suspected, for `nodes` nodes.
    pub fn new(nodes: u32) -> Detector {
        Detector {
            suspected_until_ns: vec![0; nodes as usize],
        }
    }
}

impl Membership for Detector {
    fn is_up(&self, node: NodeId, now_ns: u64) -> bool {
        self.suspected_until_ns[node as usize] <= now_ns
    }
    fn heard_from(&mut self, node: NodeId, _now_ns: u64) {
        self.suspected_until_ns[node as usize] = 0;
    }
    fn missed(&mut self, node: NodeId, now_ns: u64) {
        self.suspected_until_ns[node as usize] = now_ns.saturating_add(SUSPECT_NS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspicion_expires_and_clears_on_contact() {
        let mut d = Detector::new(3);
        assert!(d.is_up(1, 0));
        d.missed(1, 10);
        assert!(!d.is_up(1, 11));
        assert!(d.is_up(1, 10 + SUSPECT_NS));
        d.missed(2, 10);
        d.heard_from(2, 12);
        assert!(d.is_up(2, 13));
    }
}
