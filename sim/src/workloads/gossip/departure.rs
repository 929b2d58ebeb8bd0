//! A member that was told to stop or leave goes silent, and a leave is announced
//! (`gossip-departure`).
//!
//! The workload's own faults are client operations ([`super::msg::GossipOp`]): `Stop`
//! (crash-stop) and `Leave` (graceful: memberlist's `Leave`, which broadcasts a "left"
//! message before shutting down). The other checkers learn who is gone from the member's own
//! journal; this one holds the member to the operation it acknowledged, from the outside:
//!
//! - a member that answered `Done` to `Stop` or `Leave` sends nothing from then on, for the
//!   rest of the run (a restart after a crash keeps it silent too);
//! - `Stop` sends nothing at all; `Leave` marks the member itself left at its current
//!   incarnation and sends, from the same handler, one `Gossip` carrying exactly that
//!   `Left` to each of `max(k, 1)` distinct other members it holds alive (all of them when
//!   it holds fewer; `k` is `indirect_k`) — no member it holds suspect or failed, and not
//!   itself, so the news starts its epidemic from members likely to pass it on.
//!
//! Those receivers must then take the news ([`super::taken`]).

use super::msg::{GossipMsg, GossipOp, GossipReply, Status};
use super::node::GossipNode;
use super::params::Params;
use crate::check::Checker;
use crate::node::{Message, NodeId, OpId};
use crate::time::fmt_nanos;

/// The departure handler being watched: who, which operation, and what it did.
#[derive(Debug)]
struct Handling {
    node: NodeId,
    op_id: OpId,
    leave: bool,
    /// Members (not itself) it held alive when the handler ended.
    alive: Vec<NodeId>,
    /// What it held of itself when the handler ended.
    me: (Status, u32),
    /// What it sent from the handler.
    sent: Vec<(NodeId, GossipMsg)>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Departure {
    k: u32,
    /// Per member: when it acknowledged a `Stop` or `Leave`, if it did.
    departed: Vec<Option<u64>>,
    /// Operations handed to a member and not yet seen handled: (op, node, leave?).
    invoked: Option<(OpId, NodeId, bool)>,
    handling: Option<Handling>,
    /// Departures judged.
    pub judged: u64,
}

impl Departure {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-departure";

    /// For a cluster of `n` running with `p`.
    pub fn new(n: u32, p: &Params) -> Self {
        Departure {
            k: p.indirect_k.max(1),
            departed: vec![None; n as usize],
            invoked: None,
            handling: None,
            judged: 0,
        }
    }

    fn judge(&mut self, t_ns: u64, h: Handling) -> Result<(), String> {
        self.judged += 1;
        let node = h.node;
        self.departed[node as usize] = Some(t_ns);
        if !h.leave {
            if let Some((to, msg)) = h.sent.first() {
                return Err(format!(
                    "n{node} acknowledged Stop at {} but sent {} to n{to} from that handler: a stopped member is silent",
                    fmt_nanos(t_ns),
                    msg.kind()
                ));
            }
            return Ok(());
        }
        let (status, inc) = h.me;
        if status != Status::Left {
            return Err(format!(
                "n{node} acknowledged Leave at {} but holds itself {status:?}@{inc}: a member that leaves marks itself left",
                fmt_nanos(t_ns)
            ));
        }
        let want = (self.k as usize).min(h.alive.len());
        let mut told: Vec<NodeId> = Vec::with_capacity(h.sent.len());
        for (to, msg) in &h.sent {
            let ok = match msg {
                GossipMsg::Gossip { updates } => {
                    updates.len() == 1
                        && updates[0].subject == node
                        && updates[0].status == Status::Left
                        && updates[0].incarnation == inc
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "n{node} left at {} and sent n{to} {msg:?}: a leave sends each chosen member one Gossip carrying exactly its own Left@{inc}",
                    fmt_nanos(t_ns)
                ));
            }
            if !h.alive.contains(to) || told.contains(to) {
                return Err(format!(
                    "n{node} left at {} and announced it to n{to}, {}: the announcement goes to distinct other members it holds alive ({:?})",
                    fmt_nanos(t_ns),
                    if told.contains(to) { "twice" } else { "which it does not hold alive" },
                    h.alive
                ));
            }
            told.push(*to);
        }
        if told.len() != want {
            return Err(format!(
                "n{node} left at {} and announced it to {} member(s) {told:?}; with {} other member(s) held alive ({:?}) and k = {} it tells max(k, 1) of them, all when fewer",
                fmt_nanos(t_ns),
                told.len(),
                h.alive.len(),
                h.alive,
                self.k
            ));
        }
        Ok(())
    }
}

impl Checker<GossipNode> for Departure {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &crate::metrics::Traffic, out: &mut crate::metrics::Metrics) {
        out.scalar("rule_departures_judged", self.judged as f64);
    }

    fn invoke(
        &mut self,
        _t_ns: u64,
        op_id: OpId,
        node: NodeId,
        op: &GossipOp,
    ) -> Result<(), String> {
        // The world runs the operation's handler right after this call.
        self.invoked = match op {
            GossipOp::Stop => Some((op_id, node, false)),
            GossipOp::Leave => Some((op_id, node, true)),
            GossipOp::View => None,
        };
        Ok(())
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.handling = None;
        let Some((op_id, at, leave)) = self.invoked.take() else {
            return Ok(());
        };
        if at != node {
            return Ok(());
        }
        let view = state.membership();
        let alive = (0..view.len())
            .filter(|&m| m != node && view.status(m) == Status::Alive)
            .collect();
        let me = view.get(node);
        self.handling = Some(Handling {
            node,
            op_id,
            leave,
            alive,
            me: (me.status, me.incarnation),
            sent: Vec::new(),
        });
        Ok(())
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        if let Some(h) = self.handling.as_mut().filter(|h| h.node == from) {
            h.sent.push((to, msg.clone()));
            return Ok(());
        }
        if let Some(since) = self.departed[from as usize] {
            return Err(format!(
                "n{from} sent {} to n{to} at {}, but it acknowledged Stop or Leave at {}: a departed member stays silent",
                msg.kind(),
                fmt_nanos(t_ns),
                fmt_nanos(since)
            ));
        }
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &GossipReply) -> Result<(), String> {
        let Some(h) = self.handling.take_if(|h| h.op_id == op_id) else {
            return Ok(());
        };
        if *reply != GossipReply::Done {
            // Already gone (`Silent`): what it sent is judged by the silence rule.
            if let Some((to, msg)) = h.sent.first() {
                if self.departed[h.node as usize].is_some() {
                    return Err(format!(
                        "n{} sent {} to n{to} at {}, after it had departed: a departed member stays silent",
                        h.node,
                        msg.kind(),
                        fmt_nanos(t_ns)
                    ));
                }
            }
            return Ok(());
        }
        self.judge(t_ns, h)
    }
}
