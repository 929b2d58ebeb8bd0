//! Linearizability of each key's history, decomposed per key (a register per key is
//! linearizable exactly when the whole store is: linearizability is local — Herlihy & Wing).
//!
//! A get's value is the client's reconciliation of its siblings
//! ([`crate::workloads::quorum::version::Siblings::reconciled`]); a put writes its value, a
//! delete writes "none". Failed and lost operations have unknown outcomes. Each key's history
//! goes to the Wing–Gong search ([`super::wgl`]).
//!
//! **A measurement first.** Dynamo-style quorums are not linearizable even with R + W > N:
//! sloppy quorums write outside the preference list, a failed write is still visible on the
//! replicas it reached, read repair is asynchronous, and a put's read-then-write is not atomic.
//! So by default the checker only counts keys that are (not) linearizable, in the run's
//! metrics; with `--set lin=enforce` the first non-linearizable key fails the run and the
//! message prints a minimal failing sub-history.

use std::collections::BTreeMap;

use super::wgl::{self, HOp, Kind, Verdict, NEVER};
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;

/// Configurations one key's search explores at most.
pub const STATES_MAX: usize = 20_000;

/// The per-key linearizability checker.
#[derive(Debug)]
pub struct Linearizable {
    enforce: bool,
    prefix: String,
    /// op → (key, index into that key's history).
    open: BTreeMap<OpId, (u32, usize)>,
    history: BTreeMap<u32, Vec<HOp>>,
    keys: u64,
    bad: u64,
    unknown: u64,
}

impl Linearizable {
    /// A checker whose metrics go under `prefix`; `enforce` fails the run on a violation.
    pub fn new(prefix: String, enforce: bool) -> Linearizable {
        Linearizable {
            enforce,
            prefix,
            open: BTreeMap::new(),
            history: BTreeMap::new(),
            keys: 0,
            bad: 0,
            unknown: 0,
        }
    }
}

impl Checker<QuorumNode> for Linearizable {
    fn name(&self) -> &'static str {
        "quorum-linearizable"
    }

    fn invoke(&mut self, t_ns: u64, op_id: OpId, node: NodeId, op: &Op) -> Result<(), String> {
        let (key, kind) = match *op {
            Op::Get { key, .. } => (key, Kind::Read(None)),
            Op::Put { key, value } => (key, Kind::Write(Some(value))),
            Op::Delete { key } => (key, Kind::Write(None)),
            Op::Digest => return Ok(()),
        };
        let h = self.history.entry(key).or_default();
        self.open.insert(op_id, (key, h.len()));
        h.push(HOp {
            id: op_id,
            node,
            inv_ns: t_ns,
            ret_ns: NEVER,
            kind,
        });
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((key, i)) = self.open.remove(&op_id) else {
            return Ok(());
        };
        let h = self.history.get_mut(&key).expect("recorded at invoke");
        match reply {
            Reply::Got(s, _) => {
                h[i].ret_ns = t_ns;
                h[i].kind = Kind::Read(s.reconciled().and_then(|v| v.value));
            }
            Reply::Written(..) => h[i].ret_ns = t_ns,
            // Not run at all: a read that saw nothing constrains nothing; mark it so.
            Reply::Busy => h[i].kind = Kind::Read(Some(u64::MAX)),
            // A failed read says nothing; a failed write may have happened (ret stays NEVER).
            Reply::Failed | Reply::Digest { .. } => {
                if matches!(h[i].kind, Kind::Read(_)) {
                    h[i].kind = Kind::Read(Some(u64::MAX));
                }
            }
        }
        Ok(())
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        if let Some((key, i)) = self.open.remove(&op_id) {
            let h = self.history.get_mut(&key).expect("recorded at invoke");
            if matches!(h[i].kind, Kind::Read(_)) {
                h[i].kind = Kind::Read(Some(u64::MAX));
            }
        }
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        for (&key, h) in &self.history {
            // Reads without a result (failed, busy, lost, still open) and busy writes carry
            // no information: drop them. (u64::MAX is never a written value.)
            let ops: Vec<HOp> = h
                .iter()
                .copied()
                .filter(|o| {
                    !(o.kind == Kind::Read(Some(u64::MAX))
                        || (matches!(o.kind, Kind::Read(_)) && o.ret_ns == NEVER))
                })
                .collect();
            self.keys += 1;
            match wgl::check(&ops, STATES_MAX) {
                Verdict::Linearizable => {}
                Verdict::Unknown => self.unknown += 1,
                Verdict::NotLinearizable => {
                    self.bad += 1;
                    if self.enforce {
                        let min = wgl::minimize(&ops, STATES_MAX);
                        return Err(format!(
                            "key {key} is not linearizable; a minimal failing sub-history of {} ops:{}",
                            min.len(),
                            wgl::render(&min)
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        let p = &self.prefix;
        out.scalar(format!("{p}/lin_keys"), self.keys as f64);
        out.scalar(format!("{p}/lin_bad_keys"), self.bad as f64);
        out.scalar(format!("{p}/lin_unknown_keys"), self.unknown as f64);
        out.scalar(
            format!("{p}/lin_bad_runs"),
            f64::from(u8::from(self.bad > 0)),
        );
    }
}
