//! Convergence: after the faults stop, replicas agree.
//!
//! When the protocol's periods say repair must be over (the bound: [`super::super::settle_ns`],
//! membership, then handoff, then N − 1 anti-entropy cycles) each node answers a `Digest` probe
//! with its Merkle root per range it replicates and the number of hints it still holds.
//! Every range must be reported by all N of its replicas with one root, and no node may hold
//! an undelivered hint. Anti-entropy and hinted handoff have that long to finish what the
//! faults left behind.

use std::collections::BTreeMap;

use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;

/// The convergence checker.
#[derive(Debug)]
pub struct Convergence {
    n: u32,
    ranges: usize,
    probes: BTreeMap<OpId, NodeId>,
    /// Per range: (node, root).
    roots: BTreeMap<u32, Vec<(NodeId, u64)>>,
    failure: Option<String>,
    digests: u32,
}

impl Convergence {
    /// A checker for `ranges` ranges of `n` replicas each.
    pub fn new(n: u32, ranges: usize) -> Convergence {
        Convergence {
            n,
            ranges,
            probes: BTreeMap::new(),
            roots: BTreeMap::new(),
            failure: None,
            digests: 0,
        }
    }
}

impl Checker<QuorumNode> for Convergence {
    fn name(&self) -> &'static str {
        "quorum-convergence"
    }

    fn invoke(&mut self, _t_ns: u64, op_id: OpId, node: NodeId, op: &Op) -> Result<(), String> {
        if *op == Op::Digest {
            self.probes.insert(op_id, node);
        }
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some(node) = self.probes.remove(&op_id) else {
            return Ok(());
        };
        match reply {
            Reply::Digest { roots, hints } => {
                self.digests += 1;
                if *hints > 0 {
                    return Err(format!(
                        "node {node} still holds {hints} undelivered hints at {}, after the faults stopped",
                        crate::time::fmt_nanos(t_ns)
                    ));
                }
                for &(range, root) in roots {
                    self.roots.entry(range).or_default().push((node, root));
                }
            }
            other => {
                self.failure.get_or_insert(format!(
                    "node {node} could not report its digest: {other:?}"
                ));
            }
        }
        Ok(())
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        if let Some(f) = self.failure.take() {
            return Err(f);
        }
        if self.digests == 0 {
            return Ok(()); // no probes were issued (a run with no quiet period)
        }
        for range in 0..self.ranges as u32 {
            let rs = self.roots.get(&range).map_or(&[][..], |v| &v[..]);
            if rs.len() != self.n as usize {
                return Err(format!(
                    "range {range}: {} of {} replicas reported",
                    rs.len(),
                    self.n
                ));
            }
            if rs.iter().any(|r| r.1 != rs[0].1) {
                let shown: Vec<String> = rs.iter().map(|(n, r)| format!("n{n}={r:016x}")).collect();
                return Err(format!(
                    "range {range}: replicas disagree after the faults stopped: {}",
                    shown.join(" ")
                ));
            }
        }
        Ok(())
    }
}
