//! Durability: a write acknowledged with W ≥ 1 is never lost.
//!
//! Two checks, from the client history alone, on the version each reply names (which must be
//! the client's own write: the value of its put, or a tombstone for a delete):
//!
//! - **Cluster level** (the property users rely on). Every acknowledged put or delete is
//!   remembered with the version it wrote. In the quiet period the workload reads every key from
//!   all N replicas (`Get { all: true }`); each write acknowledged before that read began must be
//!   *covered* by what it returns — the version itself, or one that causally supersedes it (a
//!   descendant vector clock; in last-writer-wins mode, a greater timestamp).
//! - **Replica level** (catches a loss before replication hides it). A write's reply names the
//!   replicas that stored it themselves; a get's reply carries each answering replica's set. A
//!   replica's set only ever grows or is superseded (merges are monotone), and it acknowledged
//!   only after syncing, so every later answer of that replica must cover the write — across its
//!   crashes and restarts. Anti-entropy would soon copy a lost write back from a peer; this
//!   check sees the loss first.

use std::collections::BTreeMap;

use super::order;
use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Siblings, Version};

/// A write a replica stored itself: (acknowledged at, version, op).
type Held = (u64, Version, OpId);

/// The durability checker.
#[derive(Debug)]
pub struct Durability {
    mode: Mode,
    invoked: BTreeMap<OpId, (u64, Op)>,
    /// Per key: (op, acknowledged at, version).
    acked: BTreeMap<u32, Vec<(OpId, u64, Version)>>,
    /// Per (replica, key): the writes it stored itself.
    held: BTreeMap<(NodeId, u32), Vec<Held>>,
}

impl Durability {
    /// A checker for a run in `mode`.
    pub fn new(mode: Mode) -> Durability {
        Durability {
            mode,
            invoked: BTreeMap::new(),
            acked: BTreeMap::new(),
            held: BTreeMap::new(),
        }
    }

    fn shown(s: &Siblings) -> String {
        let v: Vec<String> = s.versions().iter().map(|x| x.to_string()).collect();
        format!("[{}]", v.join(", "))
    }

    fn check_replicas(
        &self,
        key: u32,
        op_id: OpId,
        inv_ns: u64,
        replicas: &[(NodeId, Siblings)],
    ) -> Result<(), String> {
        for (node, sibs) in replicas {
            let Some(held) = self.held.get(&(*node, key)) else {
                continue;
            };
            for (t, v, w_op) in held {
                if *t < inv_ns && !order::set_covers(sibs, v, self.mode) {
                    return Err(format!(
                        "key {key}: replica n{node} acknowledged write {v} (op {w_op}, acknowledged {}) but later answered op {op_id} without it or a successor: {}",
                        fmt_nanos(*t),
                        Self::shown(sibs)
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Checker<QuorumNode> for Durability {
    fn name(&self) -> &'static str {
        "quorum-durability"
    }

    fn invoke(&mut self, t_ns: u64, op_id: OpId, _node: NodeId, op: &Op) -> Result<(), String> {
        self.invoked.insert(op_id, (t_ns, op.clone()));
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((inv_ns, op)) = self.invoked.remove(&op_id) else {
            return Ok(());
        };
        match (&op, reply) {
            (&(Op::Put { key, .. } | Op::Delete { key }), Reply::Written(v, direct)) => {
                // The version acknowledged must be the client's write: its value for a put, a
                // tombstone for a delete. Everything below checks the version the reply names;
                // a coordinator that stored something else would lose the write unseen.
                let asked = match &op {
                    Op::Put { value, .. } => Some(*value),
                    _ => None,
                };
                if v.value != asked {
                    return Err(format!(
                        "key {key}: op {op_id} ({op:?}) was acknowledged with version {v}, which holds {:?}, not the {}",
                        v.value,
                        match asked {
                            Some(x) => format!("value {x} it wrote"),
                            None => "tombstone of a delete".into(),
                        }
                    ));
                }
                self.acked
                    .entry(key)
                    .or_default()
                    .push((op_id, t_ns, v.clone()));
                for node in 0..64u32 {
                    if direct & (1 << node) != 0 {
                        self.held
                            .entry((node, key))
                            .or_default()
                            .push((t_ns, v.clone(), op_id));
                    }
                }
            }
            (&Op::Get { key, all }, Reply::Got(s, replicas)) => {
                self.check_replicas(key, op_id, inv_ns, replicas)?;
                if !all {
                    return Ok(());
                }
                for (w_op, w_ns, v) in self.acked.get(&key).map_or(&[][..], |v| &v[..]) {
                    if *w_ns < inv_ns && !order::set_covers(s, v, self.mode) {
                        return Err(format!(
                            "key {key}: write {v} (op {w_op}, acknowledged {}) is lost: the audit read of all replicas (op {op_id}) returned {}",
                            fmt_nanos(*w_ns),
                            Self::shown(s)
                        ));
                    }
                }
            }
            (&Op::Get { key, all: true }, other) => {
                return Err(format!(
                    "key {key}: the audit read (op {op_id}) could not complete: {other:?}"
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        self.invoked.remove(&op_id);
    }
}
