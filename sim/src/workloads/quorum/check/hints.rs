//! Hint accounting (`quorum-hints`), with sloppy quorums (Dynamo §4.6).
//!
//! A sloppy quorum lets a fallback node acknowledge a write in place of an unreachable
//! preference-list replica, keeping it as a *hint* to hand off when the replica is back. That
//! acknowledgement counted towards W, so the hint is a promise: the version reaches the
//! replica it was meant for. Every hinted acknowledgement is followed home: when the quiet
//! period's audit reads all N replicas of the key, the intended replica's own reply must hold
//! the version or a successor — handed off, or brought over by anti-entropy or read repair,
//! but there. (The convergence checker sees hints still *held* at its probe; this one sees a
//! hint that vanished without arriving.)

use std::collections::BTreeMap;

use super::order;
use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;
use crate::workloads::quorum::msg::{Msg, Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Version};

/// One hinted acknowledgement.
#[derive(Clone, Debug)]
struct Hinted {
    at_ns: u64,
    fallback: NodeId,
    intended: NodeId,
    version: Version,
}

/// See the module docs.
#[derive(Debug)]
pub struct Hints {
    mode: Mode,
    active: bool,
    /// (coordinator, request, fallback) → (key, intended, version) of a delivered hinted store.
    stores: BTreeMap<(NodeId, u64, NodeId), (u32, NodeId, Version)>,
    /// Per key: the hinted acknowledgements that reached their coordinator.
    hinted: BTreeMap<u32, Vec<Hinted>>,
    audits: BTreeMap<OpId, (u64, u32)>,
    /// Hinted acknowledgements followed home.
    pub followed: u64,
}

impl Hints {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-hints";

    /// For a run in `mode`; idle unless `sloppy`.
    pub fn new(mode: Mode, sloppy: bool) -> Self {
        Hints {
            mode,
            active: sloppy,
            stores: BTreeMap::new(),
            hinted: BTreeMap::new(),
            audits: BTreeMap::new(),
            followed: 0,
        }
    }
}

impl Checker<QuorumNode> for Hints {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn deliver(&mut self, t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        if !self.active {
            return Ok(());
        }
        match msg {
            Msg::Store {
                req,
                key,
                version,
                hint_for: Some(intended),
            } if *intended != to => {
                self.stores
                    .insert((from, *req, to), (*key, *intended, (**version).clone()));
            }
            Msg::StoreAck { req, ok: true } => {
                if let Some((key, intended, version)) = self.stores.remove(&(to, *req, from)) {
                    self.hinted.entry(key).or_default().push(Hinted {
                        at_ns: t,
                        fallback: from,
                        intended,
                        version,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn invoke(&mut self, t: u64, op_id: OpId, _node: NodeId, op: &Op) -> Result<(), String> {
        if let (true, Op::Get { key, all: true }) = (self.active, op) {
            self.audits.insert(op_id, (t, *key));
        }
        Ok(())
    }

    fn complete(&mut self, _t: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((inv_ns, key)) = self.audits.remove(&op_id) else {
            return Ok(());
        };
        let Reply::Got(_, replies) = reply else {
            return Ok(());
        };
        for h in self.hinted.get(&key).map_or(&[][..], |h| &h[..]) {
            if h.at_ns >= inv_ns {
                continue;
            }
            let Some((_, home)) = replies.iter().find(|(n, _)| *n == h.intended) else {
                continue;
            };
            self.followed += 1;
            if !order::set_covers(home, &h.version, self.mode) {
                return Err(format!(
                    "key {key}: n{} acknowledged version {} as a hint for n{} at {}, but the hint never arrived: n{}'s audit reply (op {op_id}) is {home:?}",
                    h.fallback,
                    h.version,
                    h.intended,
                    fmt_nanos(h.at_ns),
                    h.intended,
                ));
            }
        }
        Ok(())
    }

    fn lost(&mut self, _t: u64, op_id: OpId) {
        self.audits.remove(&op_id);
    }
}
