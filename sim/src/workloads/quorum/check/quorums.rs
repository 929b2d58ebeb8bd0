//! Quorum sizes, held to the messages: every acknowledgement and every answer must stand on
//! the distinct replicas the protocol promises, and the checker counts them from what was
//! *delivered* to the coordinator, not from what the coordinator says.
//!
//! - [`WriteQuorum`] (`quorum-write-quorum`) — Dynamo §4.5: a put (or delete) is acknowledged
//!   only once W replicas acknowledged storing that very version. A replica acknowledges a
//!   store only after its write-ahead log synced (what the replica-level durability check
//!   holds it to across crashes), so W acknowledgements are W durable copies. With strict
//!   quorums (`sloppy=false`) all W must be in the key's preference list; with sloppy quorums
//!   a fallback node holding a hint for an unreachable replica counts as one of the W (§4.6),
//!   and the [`super::hints`] checker follows each such hint home. The reply's list of replicas that
//!   stored the version themselves must name exactly the replicas whose acknowledgement arrived.
//! - [`ReadQuorum`] (`quorum-read-quorum`) — a get is answered only once R distinct replicas
//!   replied to *this* operation (N for the quiet period's audit reads), and the answer is the
//!   merge of exactly the replies it names, each as that replica sent it.
//!
//! Counting from deliveries is what catches a coordinator that acknowledges one replica short
//! of W, or answers a read before R distinct replies: neither loses a write in most runs, so
//! the durability checkers pass them by.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::check::Checker;
use crate::hash::hash_of;
use crate::node::{NodeId, OpId};
use crate::workloads::quorum::msg::{Msg, Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::params::Params;
use crate::workloads::quorum::version::Siblings;

fn names(nodes: impl IntoIterator<Item = NodeId>) -> String {
    let v: Vec<String> = nodes.into_iter().map(|n| format!("n{n}")).collect();
    format!("[{}]", v.join(", "))
}

/// A `Store` delivered: (target, request, the replica it holds a hint for).
type StoreSent = (NodeId, u64, Option<NodeId>);

/// A `FetchReply` delivered: (replica, request, hash of its versions).
type ReplyGot = (NodeId, u64, u64);

/// See the module docs.
#[derive(Debug)]
pub struct WriteQuorum {
    p: Arc<Params>,
    invoked: BTreeMap<OpId, (NodeId, Op)>,
    /// (coordinator, key, hash of the version) → the stores of it delivered.
    stores: BTreeMap<(NodeId, u32, u64), Vec<StoreSent>>,
    /// (coordinator, request) → the targets whose positive acknowledgement reached it.
    acks: BTreeMap<(NodeId, u64), BTreeSet<NodeId>>,
}

impl WriteQuorum {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-write-quorum";

    /// For a run with parameters `p`.
    pub fn new(p: Arc<Params>) -> Self {
        WriteQuorum {
            p,
            invoked: BTreeMap::new(),
            stores: BTreeMap::new(),
            acks: BTreeMap::new(),
        }
    }
}

impl Checker<QuorumNode> for WriteQuorum {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn invoke(&mut self, _t: u64, op_id: OpId, node: NodeId, op: &Op) -> Result<(), String> {
        if matches!(op, Op::Put { .. } | Op::Delete { .. }) {
            self.invoked.insert(op_id, (node, op.clone()));
        }
        Ok(())
    }

    fn deliver(&mut self, _t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        match msg {
            Msg::Store {
                req,
                key,
                version,
                hint_for,
            } => {
                let e = self
                    .stores
                    .entry((from, *key, hash_of(&**version)))
                    .or_default();
                if !e.iter().any(|&(t, r, _)| t == to && r == *req) {
                    e.push((to, *req, *hint_for));
                }
            }
            Msg::StoreAck { req, ok: true } => {
                self.acks.entry((to, *req)).or_default().insert(from);
            }
            _ => {}
        }
        Ok(())
    }

    fn complete(&mut self, _t: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((coord, op)) = self.invoked.remove(&op_id) else {
            return Ok(());
        };
        let Reply::Written(v, direct) = reply else {
            return Ok(());
        };
        let key = op.key().expect("puts and deletes have keys");
        let pref = self.p.ring.preference(self.p.ring.range_of(key));
        // Every target that acknowledged this version, as (target, hint_for).
        let mut acked: BTreeMap<NodeId, Option<NodeId>> = BTreeMap::new();
        for &(target, req, hint) in self
            .stores
            .get(&(coord, key, hash_of(v)))
            .map_or(&[][..], |e| &e[..])
        {
            if self
                .acks
                .get(&(coord, req))
                .is_some_and(|a| a.contains(&target))
            {
                acked.entry(target).or_insert(hint);
            }
        }
        let home: BTreeSet<NodeId> = acked
            .iter()
            .filter(|(t, hint)| hint.is_none() && pref.contains(t))
            .map(|(&t, _)| t)
            .collect();
        let counted = if self.p.sloppy {
            // A fallback holding a hint for a preference-list replica counts as one of W.
            acked
                .iter()
                .filter(|(t, hint)| match hint {
                    None => pref.contains(t),
                    Some(x) => pref.contains(x),
                })
                .count()
        } else {
            home.len()
        };
        if (counted as u32) < self.p.w {
            return Err(format!(
                "op {op_id} ({op:?}) was acknowledged by n{coord} with version {v} after {counted} distinct replica(s) stored it ({} acknowledged: {}; preference list {}), but W = {}{}",
                acked.len(),
                names(acked.keys().copied()),
                names(pref.iter().copied()),
                self.p.w,
                if self.p.sloppy { " (sloppy: a fallback holding a hint counts)" } else { " (strict: only preference-list replicas count)" },
            ));
        }
        for node in 0..64u32 {
            if direct & (1 << node) != 0 && !home.contains(&node) {
                return Err(format!(
                    "op {op_id} ({op:?}): n{coord}'s reply says n{node} stored version {v} itself, but no acknowledgement of it from n{node} reached n{coord} (acknowledged: {})",
                    names(acked.keys().copied())
                ));
            }
        }
        // And every one whose acknowledgement had arrived: the durability checker holds each
        // named replica to the write from then on, so a replica left out escapes that check.
        if let Some(node) = home.iter().find(|&&n| direct & (1 << n) == 0) {
            return Err(format!(
                "op {op_id} ({op:?}): n{coord}'s reply leaves out n{node}, whose acknowledgement of version {v} had reached n{coord} (the reply names {})",
                names((0..64u32).filter(|n| direct & (1 << n) != 0))
            ));
        }
        Ok(())
    }

    fn lost(&mut self, _t: u64, op_id: OpId) {
        self.invoked.remove(&op_id);
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct ReadQuorum {
    p: Arc<Params>,
    invoked: BTreeMap<OpId, (u64, NodeId, Op)>,
    /// (coordinator, request) → (key, when its first `Fetch` was delivered).
    fetches: BTreeMap<(NodeId, u64), (u32, u64)>,
    /// (coordinator, key) → replies delivered.
    replies: BTreeMap<(NodeId, u32), Vec<ReplyGot>>,
}

impl ReadQuorum {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-read-quorum";

    /// For a run with parameters `p`.
    pub fn new(p: Arc<Params>) -> Self {
        ReadQuorum {
            p,
            invoked: BTreeMap::new(),
            fetches: BTreeMap::new(),
            replies: BTreeMap::new(),
        }
    }
}

impl Checker<QuorumNode> for ReadQuorum {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn invoke(&mut self, t: u64, op_id: OpId, node: NodeId, op: &Op) -> Result<(), String> {
        if matches!(op, Op::Get { .. }) {
            self.invoked.insert(op_id, (t, node, op.clone()));
        }
        Ok(())
    }

    fn deliver(&mut self, t: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        match msg {
            Msg::Fetch { req, key } => {
                self.fetches.entry((from, *req)).or_insert((*key, t));
            }
            Msg::FetchReply { req, sibs: Some(s) } => {
                if let Some(&(key, _)) = self.fetches.get(&(to, *req)) {
                    self.replies
                        .entry((to, key))
                        .or_default()
                        .push((from, *req, hash_of(s)));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn complete(&mut self, _t: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((inv_ns, coord, op)) = self.invoked.remove(&op_id) else {
            return Ok(());
        };
        let (Op::Get { key, all }, Reply::Got(answer, named)) = (&op, reply) else {
            return Ok(());
        };
        let need = if *all { self.p.n } else { self.p.r };
        let delivered = self.replies.get(&(coord, *key)).map_or(&[][..], |r| &r[..]);
        let mut distinct: BTreeSet<NodeId> = BTreeSet::new();
        let mut merged = Siblings::default();
        for (replica, sibs) in named {
            let h = hash_of(sibs);
            let arrived = delivered.iter().any(|&(from, req, hash)| {
                from == *replica
                    && hash == h
                    && self
                        .fetches
                        .get(&(coord, req))
                        .is_some_and(|&(_, first_ns)| first_ns >= inv_ns)
            });
            if !arrived {
                return Err(format!(
                    "op {op_id} ({op:?}): n{coord}'s answer names n{replica}'s reply {sibs:?}, but no such reply to a request of this operation reached n{coord}"
                ));
            }
            distinct.insert(*replica);
            merged.merge(sibs, self.p.mode);
        }
        if (distinct.len() as u32) < need {
            return Err(format!(
                "op {op_id} ({op:?}) was answered by n{coord} after {} distinct replica(s) replied ({}), but {} = {need}",
                distinct.len(),
                names(distinct.iter().copied()),
                if *all { "N" } else { "R" },
            ));
        }
        if merged != *answer {
            return Err(format!(
                "op {op_id} ({op:?}): n{coord} answered {answer:?}, which is not the merge {merged:?} of the replies it names"
            ));
        }
        Ok(())
    }

    fn lost(&mut self, _t: u64, op_id: OpId) {
        self.invoked.remove(&op_id);
    }
}
