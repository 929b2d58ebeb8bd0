//! Regular-register semantics (`quorum-regular`), where the configuration promises them.
//!
//! With strict quorums (`sloppy=false`) and R + W > N, every read quorum of a key's preference
//! list meets every write quorum in at least one replica (Gifford's weighted voting; Dynamo
//! §4.5). Replicas acknowledge only what they synced and only ever merge, so that replica
//! still holds the write, or a version that supersedes it, when the read asks. Hence a get
//! invoked after a write's acknowledgement returns that write or a successor: a regular
//! register (Lamport, "On interprocess communication", 1986), per key, with siblings for
//! concurrent writes. Not linearizable: two reads overlapping one write may see it in either
//! order ([`super::linearizable`] measures how often).
//!
//! Sloppy quorums or R + W ≤ N promise nothing of the kind (that is [`super::staleness`]'s
//! table); the checker is idle there.

use std::collections::BTreeMap;

use super::order;
use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Version};

/// See the module docs.
#[derive(Debug)]
pub struct Regular {
    mode: Mode,
    active: bool,
    invoked: BTreeMap<OpId, (u64, Op)>,
    /// Per key: (acknowledged at, op, version).
    acked: BTreeMap<u32, Vec<(u64, OpId, Version)>>,
}

impl Regular {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-regular";

    /// For a run in `mode` with these quorums; idle unless `!sloppy && r + w > n`.
    pub fn new(mode: Mode, n: u32, r: u32, w: u32, sloppy: bool) -> Self {
        Regular {
            mode,
            active: !sloppy && r + w > n,
            invoked: BTreeMap::new(),
            acked: BTreeMap::new(),
        }
    }
}

impl Checker<QuorumNode> for Regular {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn invoke(&mut self, t: u64, op_id: OpId, _node: NodeId, op: &Op) -> Result<(), String> {
        if self.active {
            self.invoked.insert(op_id, (t, op.clone()));
        }
        Ok(())
    }

    fn complete(&mut self, t: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((inv_ns, op)) = self.invoked.remove(&op_id) else {
            return Ok(());
        };
        match (&op, reply) {
            (Op::Put { key, .. } | Op::Delete { key }, Reply::Written(v, _)) => {
                self.acked
                    .entry(*key)
                    .or_default()
                    .push((t, op_id, v.clone()));
            }
            (Op::Get { key, .. }, Reply::Got(answer, _)) => {
                for (ack_ns, w_op, v) in self.acked.get(key).map_or(&[][..], |a| &a[..]) {
                    if *ack_ns < inv_ns && !order::set_covers(answer, v, self.mode) {
                        return Err(format!(
                            "op {op_id} read key {key} (invoked {}) and got {answer:?}, without write {v} (op {w_op}, acknowledged {}) or a successor; with strict quorums and R + W > N every read quorum meets every write quorum",
                            fmt_nanos(inv_ns),
                            fmt_nanos(*ack_ns),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn lost(&mut self, _t: u64, op_id: OpId) {
        self.invoked.remove(&op_id);
    }
}
