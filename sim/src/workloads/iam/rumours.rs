//! The dissemination rules (`iam-rumours`): each handler sends what the propagation mode
//! says it sends, to whom it says.
//!
//! The other IAM checkers judge what nodes decide and whether every node ends at the leader's
//! version; a propagation that converges by a slower road — no rumour at commit, rumours to
//! the same peer twice or to the sender itself, digests a node sends itself, answers that
//! resend what the asker holds — passes them all, only later and at more messages. This
//! checker holds every handler to the rules of `propagation.rs` (Demers et al., *Epidemic
//! algorithms for replicated database maintenance*, 1987, §1.4 rumour mongering and §1.3
//! push-pull anti-entropy, as this module configures them):
//!
//! 1. **No message to oneself**: no node sends an `Append`, `Ack` or `Digest` to itself.
//! 2. **Commit**: in the handler where the leader commits version *v*, it sends an `Append`
//!    holding *v* — to every other node (`mode=log`), or to between one and [`FANOUT`]
//!    distinct peers (`gossip`, `swim`; two draws may pick the same peer, which is sent once),
//!    in `swim` mode only to peers its SWIM member does not hold failed (unless it holds them
//!    all failed).
//! 3. **Relay** (`gossip`, `swim`): a node that applies new entries from an `Append` passes
//!    them on in at most one `Append`, to a peer other than itself and the sender (in `swim`
//!    mode one it does not hold failed, as in 2). Whether it relays at all depends on a draw
//!    (the drawn peer may be the sender), so that half is judged over the run: a peer drawn
//!    uniformly is the sender with probability at most 4/5 (at least one other live peer
//!    exists, and `live_peer` scans from a uniform start), so [`RELAYS_JUDGED_AFTER`] chances
//!    with no relay at all happen to a correct node with probability below 10⁻⁹.
//! 4. **Push-pull**: an `Append` that answers a `Digest` or a SWIM message carrying version
//!    *u* holds only entries after *u*; a node behind *u* answers with a `Digest` of its own,
//!    and a node at *u* answers nothing (else two equal nodes trade digests for ever).
//!    (In `mode=log` no node sends digests, so this judges the gossip modes only.)
//! 5. **Catch-up** (`gossip`, `swim`): a node that applies new entries from an `Append` of
//!    [`ENTRIES_PER_MSG_MAX`] entries asks the sender for the rest (a `Digest` to it).

use std::collections::BTreeSet;

use super::msg::{IamMsg, IamOp, ENTRIES_PER_MSG_MAX};
use super::node::{IamNode, LEADER};
use super::propagation::FANOUT;
use super::Mode;
use crate::check::Checker;
use crate::node::{NodeId, OpId};

/// Checker name.
pub const RUMOURS: &str = "iam-rumours";

/// Relay chances (rule 3) with no relay at all after which a run fails: (4/5)^100 < 10⁻⁹.
pub const RELAYS_JUDGED_AFTER: u64 = 100;

/// What made a node run its handler.
#[derive(Clone, Debug)]
enum Trigger {
    Client,
    /// An `Append` of this many entries from `from`.
    Append {
        from: NodeId,
        len: usize,
    },
    /// A digest or a SWIM message carrying the sender's version.
    Asks {
        from: NodeId,
        version: u64,
    },
    /// A timer, a restart, anything else.
    Other,
}

/// A handler that ran, and what it sent.
#[derive(Debug)]
struct Handler {
    node: NodeId,
    trigger: Trigger,
    /// The version the handler committed (leader, client trigger) or advanced to.
    advanced_to: Option<u64>,
    /// The node's version after the handler.
    version: u64,
    /// Peers the node's SWIM member holds failed (`swim` mode).
    failed: BTreeSet<NodeId>,
    /// `Append`s sent: (to, entry ids).
    appends: Vec<(NodeId, Vec<u64>)>,
    /// `Digest`s sent, by destination.
    digests: Vec<NodeId>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Rumours {
    nodes: u32,
    mode: Option<Mode>,
    /// Each node's version after its last handler (`None` after a restart).
    version: Vec<Option<u64>>,
    /// What the next handler of each node runs for.
    next: Vec<Trigger>,
    open: Option<Handler>,
    relay_chances: u64,
    relays: u64,
}

impl Rumours {
    /// A checker for a run of `nodes` nodes.
    pub fn new(nodes: u32) -> Self {
        Rumours {
            nodes,
            mode: None,
            version: vec![None; nodes as usize],
            next: vec![Trigger::Other; nodes as usize],
            open: None,
            relay_chances: 0,
            relays: 0,
        }
    }

    fn set_next(&mut self, node: NodeId, t: Trigger) {
        if let Some(slot) = self.next.get_mut(node as usize) {
            *slot = t;
        }
    }

    /// Judge the handler that ran last, now that all its sends are in.
    fn close(&mut self) -> Result<(), String> {
        let Some(h) = self.open.take() else {
            return Ok(());
        };
        let Some(mode) = self.mode else {
            return Ok(());
        };
        let n = h.node;
        let others = self.nodes.saturating_sub(1) as usize;
        // Rule 3/2's "not held failed", unless every other peer is.
        let allowed =
            |to: NodeId| mode != Mode::Swim || !h.failed.contains(&to) || h.failed.len() >= others;
        match (&h.trigger, h.advanced_to) {
            (Trigger::Client, Some(v)) if n == LEADER => {
                let to: Vec<NodeId> = h
                    .appends
                    .iter()
                    .filter(|(_, ids)| ids.contains(&v))
                    .map(|(to, _)| *to)
                    .collect();
                let distinct: BTreeSet<NodeId> = to.iter().copied().collect();
                let fanout = FANOUT as usize;
                let ok = match mode {
                    Mode::Log => distinct.len() == others && to.len() == others,
                    Mode::Gossip | Mode::Swim => {
                        !to.is_empty()
                            && to.len() <= fanout
                            && distinct.len() == to.len()
                            && to.iter().all(|&t| allowed(t))
                    }
                };
                if !ok {
                    return Err(format!(
                        "the leader committed v{v} and sent it to {} (mode {mode:?}: {})",
                        names(&to),
                        match mode {
                            Mode::Log => "every other node, once each".to_string(),
                            _ => format!(
                                "1 to {fanout} distinct peers{}",
                                if mode == Mode::Swim {
                                    " its SWIM member does not hold failed"
                                } else {
                                    ""
                                }
                            ),
                        }
                    ));
                }
            }
            (&Trigger::Append { from, len }, Some(v)) if mode != Mode::Log => {
                let relayed: Vec<NodeId> = h
                    .appends
                    .iter()
                    .filter(|(to, _)| *to != from)
                    .map(|(to, _)| *to)
                    .collect();
                if relayed.len() > 1 || relayed.iter().any(|&t| !allowed(t)) {
                    return Err(format!(
                        "n{n} applied entries up to v{v} from n{from} and relayed them to {} \
                         (at most one peer other than the sender{})",
                        names(&relayed),
                        if mode == Mode::Swim {
                            ", not held failed"
                        } else {
                            ""
                        }
                    ));
                }
                let live_others = (0..self.nodes)
                    .filter(|&p| p != n && p != from && allowed(p))
                    .count();
                if live_others > 0 {
                    self.relay_chances += 1;
                    self.relays += relayed.len() as u64;
                }
                if len >= ENTRIES_PER_MSG_MAX && !h.digests.contains(&from) {
                    return Err(format!(
                        "n{n} applied a full batch ({len} entries, up to v{v}) from n{from} \
                         and did not ask it for the rest"
                    ));
                }
            }
            (&Trigger::Asks { from, version }, _) => {
                let answered =
                    h.digests.contains(&from) || h.appends.iter().any(|(to, _)| *to == from);
                if h.version == version && answered {
                    return Err(format!(
                        "n{n} and n{from} are both at v{version}, and n{n} answered anyway: \
                         push-pull between equal versions never ends"
                    ));
                }
                if h.version < version && !h.digests.contains(&from) {
                    return Err(format!(
                        "n{n}, at v{}, heard that n{from} is at v{version} and did not ask it \
                         for what it misses (a digest back)",
                        h.version
                    ));
                }
                if let Some((_, ids)) = h
                    .appends
                    .iter()
                    .find(|(to, ids)| *to == from && ids.iter().any(|&id| id <= version))
                {
                    return Err(format!(
                        "n{n} answered n{from}, at v{version}, with entries {ids:?}: only \
                         entries after v{version}"
                    ));
                }
            }
            _ => {}
        }
        if self.relay_chances >= RELAYS_JUDGED_AFTER && self.relays == 0 {
            return Err(format!(
                "{} times a node applied new entries from a rumour with another live peer to \
                 pass them to, and no node ever relayed one",
                self.relay_chances
            ));
        }
        Ok(())
    }
}

fn names(nodes: &[NodeId]) -> String {
    if nodes.is_empty() {
        return "nobody".into();
    }
    let v: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
    v.join(", ")
}

impl Checker<IamNode> for Rumours {
    fn name(&self) -> &'static str {
        RUMOURS
    }

    fn invoke(
        &mut self,
        _t_ns: u64,
        _op_id: OpId,
        node: NodeId,
        _op: &IamOp,
    ) -> Result<(), String> {
        self.close()?;
        self.set_next(node, Trigger::Client);
        Ok(())
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        from: NodeId,
        to: NodeId,
        msg: &IamMsg,
    ) -> Result<(), String> {
        self.close()?;
        let t = match msg {
            IamMsg::Append { entries } => Trigger::Append {
                from,
                len: entries.len(),
            },
            IamMsg::Digest { version } | IamMsg::Swim { version, .. } => Trigger::Asks {
                from,
                version: *version,
            },
            IamMsg::Ack { .. } => Trigger::Other,
        };
        self.set_next(to, t);
        Ok(())
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &IamNode) -> Result<(), String> {
        self.close()?;
        self.mode = Some(state.cfg.mode);
        let trigger = self
            .next
            .get_mut(node as usize)
            .map_or(Trigger::Other, |t| std::mem::replace(t, Trigger::Other));
        let now = state.view.version;
        let before = self.version.get(node as usize).copied().flatten();
        if let Some(slot) = self.version.get_mut(node as usize) {
            *slot = Some(now);
        }
        // Only a commit or a relay is judged against SWIM's view: skip the lookup otherwise
        // (this runs after every handler).
        let failed = match &state.swim {
            Some(s) if matches!(trigger, Trigger::Client | Trigger::Append { .. }) => (0..self
                .nodes)
                .filter(|&p| p != node && s.membership().is_failed(p))
                .collect(),
            _ => BTreeSet::new(),
        };
        self.open = Some(Handler {
            node,
            trigger,
            advanced_to: before.filter(|&b| now > b).map(|_| now),
            version: now,
            failed,
            appends: Vec::new(),
            digests: Vec::new(),
        });
        Ok(())
    }

    fn send(&mut self, _t_ns: u64, from: NodeId, to: NodeId, msg: &IamMsg) -> Result<(), String> {
        if from == to && !matches!(msg, IamMsg::Swim { .. }) {
            return Err(format!("n{from} sent itself {msg:?}"));
        }
        let Some(h) = self.open.as_mut().filter(|h| h.node == from) else {
            return Ok(());
        };
        match msg {
            IamMsg::Append { entries } => {
                h.appends.push((to, entries.iter().map(|e| e.id).collect()))
            }
            IamMsg::Digest { .. } => h.digests.push(to),
            _ => {}
        }
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        if let Some(v) = self.version.get_mut(node as usize) {
            *v = None;
        }
        self.set_next(node, Trigger::Other);
    }

    fn finish(&mut self, _t_ns: u64) -> Result<(), String> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::super::node::NodeConfig;
    use super::super::store::{Change, Entry};
    use super::super::Bug;
    use super::*;
    use crate::time::NANOS_PER_MS;

    fn node_at(mode: Mode, version: u64) -> IamNode {
        let mut n = IamNode::new(NodeConfig {
            mode,
            bug: Bug::None,
            tick_ns: 10 * NANOS_PER_MS,
        });
        n.view.version = version;
        n
    }

    fn entries(ids: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
        ids.map(|id| Entry {
            id,
            prev: id - 1,
            change: Change::AttachUserPolicy { user: 0, policy: 0 },
        })
        .collect()
    }

    fn append(ids: std::ops::RangeInclusive<u64>) -> IamMsg {
        IamMsg::Append {
            entries: entries(ids),
        }
    }

    /// Every node has run one handler at version `v`.
    fn started(mode: Mode, v: u64) -> Rumours {
        let mut c = Rumours::new(5);
        for n in 0..5 {
            c.observe(0, n, &node_at(mode, v)).unwrap();
        }
        c
    }

    /// The leader commits v8 in `mode` and sends it to `to`; what the checker says.
    fn commit(mode: Mode, to: &[NodeId]) -> Result<(), String> {
        let mut c = started(mode, 7);
        let op = IamOp::Authorize { req: 0 };
        c.invoke(1, 0, LEADER, &op)?;
        c.observe(1, LEADER, &node_at(mode, 8))?;
        for &t in to {
            c.send(1, LEADER, t, &append(8..=8))?;
        }
        c.finish(2)
    }

    #[test]
    fn a_commit_goes_to_everyone_in_log_mode_and_to_one_or_two_peers_once_in_gossip() {
        assert_eq!(commit(Mode::Log, &[1, 2, 3, 4]), Ok(()));
        let err = commit(Mode::Log, &[1, 2, 3]).unwrap_err();
        assert!(
            err.contains("committed v8 and sent it to n1, n2, n3"),
            "{err}"
        );
        assert_eq!(commit(Mode::Gossip, &[3, 1]), Ok(()));
        assert_eq!(commit(Mode::Gossip, &[2]), Ok(()));
        assert!(
            commit(Mode::Gossip, &[2, 2]).is_err(),
            "the same peer twice"
        );
        assert!(commit(Mode::Gossip, &[]).is_err(), "no rumour");
        assert!(
            commit(Mode::Gossip, &[1, 2, 3]).is_err(),
            "above the fanout"
        );
        let err = commit(Mode::Gossip, &[0, 1]).unwrap_err();
        assert!(err.contains("n0 sent itself"), "{err}");
    }

    #[test]
    fn a_full_batch_asks_for_the_rest_and_a_pull_answer_holds_only_newer_entries() {
        let mut c = started(Mode::Gossip, 0);
        c.deliver(1, 0, 2, &append(1..=16)).unwrap();
        c.observe(1, 2, &node_at(Mode::Gossip, 16)).unwrap();
        c.send(1, 2, 0, &IamMsg::Digest { version: 16 }).unwrap();
        assert_eq!(c.finish(2), Ok(()));
        // The same batch, and no digest back.
        c.deliver(3, 0, 3, &append(1..=16)).unwrap();
        c.observe(3, 3, &node_at(Mode::Gossip, 16)).unwrap();
        let err = c.finish(4).unwrap_err();
        assert!(err.contains("did not ask it for the rest"), "{err}");

        let mut c = started(Mode::Gossip, 9);
        c.deliver(1, 4, 1, &IamMsg::Digest { version: 5 }).unwrap();
        c.observe(1, 1, &node_at(Mode::Gossip, 9)).unwrap();
        c.send(1, 1, 4, &append(6..=9)).unwrap();
        assert_eq!(c.finish(2), Ok(()));
        c.deliver(3, 4, 1, &IamMsg::Digest { version: 5 }).unwrap();
        c.observe(3, 1, &node_at(Mode::Gossip, 9)).unwrap();
        c.send(3, 1, 4, &append(5..=9)).unwrap();
        let err = c.finish(4).unwrap_err();
        assert!(err.contains("only entries after v5"), "{err}");
        // A node behind the digest asks back.
        let mut c = started(Mode::Gossip, 3);
        c.deliver(1, 4, 1, &IamMsg::Digest { version: 5 }).unwrap();
        c.observe(1, 1, &node_at(Mode::Gossip, 3)).unwrap();
        c.send(1, 1, 4, &IamMsg::Digest { version: 3 }).unwrap();
        assert_eq!(c.finish(2), Ok(()));
        c.deliver(3, 4, 1, &IamMsg::Digest { version: 5 }).unwrap();
        c.observe(3, 1, &node_at(Mode::Gossip, 3)).unwrap();
        let err = c.finish(4).unwrap_err();
        assert!(err.contains("did not ask it for what it misses"), "{err}");
        // Equal versions: nothing to say.
        c.deliver(5, 4, 1, &IamMsg::Digest { version: 3 }).unwrap();
        c.observe(5, 1, &node_at(Mode::Gossip, 3)).unwrap();
        assert_eq!(c.finish(6), Ok(()));
        c.deliver(7, 4, 1, &IamMsg::Digest { version: 3 }).unwrap();
        c.observe(7, 1, &node_at(Mode::Gossip, 3)).unwrap();
        c.send(7, 1, 4, &IamMsg::Digest { version: 3 }).unwrap();
        let err = c.finish(8).unwrap_err();
        assert!(err.contains("never ends"), "{err}");
    }

    #[test]
    fn a_node_that_never_relays_fails_after_enough_chances() {
        let mut c = started(Mode::Gossip, 0);
        for v in 1..=RELAYS_JUDGED_AFTER {
            c.deliver(v, 0, 1, &append(v..=v)).unwrap();
            c.observe(v, 1, &node_at(Mode::Gossip, v)).unwrap();
        }
        let err = c.finish(999).unwrap_err();
        assert!(err.contains("no node ever relayed one"), "{err}");
        // One relay among them is enough; two in one handler are too many.
        let mut c = started(Mode::Gossip, 0);
        for v in 1..=RELAYS_JUDGED_AFTER {
            c.deliver(v, 0, 1, &append(v..=v)).unwrap();
            c.observe(v, 1, &node_at(Mode::Gossip, v)).unwrap();
            if v == 7 {
                c.send(v, 1, 2, &append(v..=v)).unwrap();
            }
        }
        assert_eq!(c.finish(999), Ok(()));
        c.deliver(1000, 0, 1, &append(101..=101)).unwrap();
        c.observe(1000, 1, &node_at(Mode::Gossip, 101)).unwrap();
        c.send(1000, 1, 2, &append(101..=101)).unwrap();
        c.send(1000, 1, 3, &append(101..=101)).unwrap();
        let err = c.finish(1001).unwrap_err();
        assert!(err.contains("relayed them to n2, n3"), "{err}");
    }
}
