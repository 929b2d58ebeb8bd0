//! Every update that outranks what a member holds is taken (`gossip-news-taken`), and no
//! member spreads news it does not hold (`gossip-news-held`).
//!
//! [`super::transitions`] holds each change of a member's view to what SWIM allows; this is
//! the other half of the state machine: a change SWIM *requires*. SWIM (Das, Gupta & Motivala,
//! DSN 2002, §4.2) with memberlist's precedence orders the beliefs about a member totally — by
//! incarnation, then `Alive < Suspect < Failed < Left` at one incarnation — and a member that
//! hears a belief about another member ranked above the one it holds takes it (and spreads it).
//! A member that drops such news silently keeps a suspicion the subject already refuted, a
//! failed member alive, or a member that left in the group: the epidemic stops at it.
//!
//! So after every handler that ran for a delivered message, for each update in it about
//! another member, the receiver must hold that member at a rank at least the update's (after
//! folding the message's updates in order onto what it held before). Two adjustments, both
//! SWIM's: anti-entropy (push-pull) never spreads "failed" as such — the receiver takes a
//! pulled `Failed` as a suspicion and decides failure itself — and news about the receiver
//! itself is refuted, not held ([`super::refute`] judges that). A member that stopped or left
//! ignores everything. The rank is written from the paper here, not taken from
//! [`super::member::Membership::wins`], so that a slip in that function shows.
//!
//! **Held** ([`NewsHeld`]): the other direction of the same contract. Every update a member
//! sends — piggybacked, pushed or pulled — is one it holds or has since outgrown: ranked no
//! higher than its own view of that member when it sends it (its queue keeps old news until
//! it is sent enough times, never news it did not take), and a message carries at most one
//! update per member (the queue keeps only the latest). Lifeguard's buddy rule — a probe of a
//! suspect carries that suspicion first — tells the suspect what the prober holds, no more.

use super::member::Member;
use super::msg::{GossipMsg, Status};
use super::node::GossipNode;
use super::witness::{updates, Step, Views};
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{Message, NodeId};
use crate::time::fmt_nanos;

/// A belief's place in SWIM's precedence: `None` (nothing known) below everything, then by
/// incarnation, then `Alive < Suspect < Failed < Left`.
pub fn rank(m: Member) -> Option<(u32, u8)> {
    let order = match m.status {
        Status::Unknown => return None,
        Status::Alive => 1,
        Status::Suspect => 2,
        Status::Failed => 3,
        Status::Left => 4,
    };
    Some((m.incarnation, order))
}

/// One update a delivered message carries, as the receiver must weigh it.
#[derive(Clone, Copy, Debug)]
struct Heard {
    subject: NodeId,
    belief: Member,
}

/// See the module docs.
#[derive(Debug)]
pub struct NewsTaken {
    views: Views,
    steps: Vec<Step>,
    /// Per member: the sender and updates of the message delivered to its current handler.
    heard: Vec<(NodeId, Vec<Heard>)>,
    /// Updates judged (ones that outranked what the receiver held).
    pub judged: u64,
}

impl NewsTaken {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-news-taken";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        NewsTaken {
            views: Views::new(n),
            steps: Vec::new(),
            heard: vec![(0, Vec::new()); n as usize],
            judged: 0,
        }
    }
}

impl Checker<GossipNode> for NewsTaken {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_news_taken_judged", self.judged as f64);
    }

    fn deliver(
        &mut self,
        _t_ns: u64,
        from: NodeId,
        to: NodeId,
        msg: &GossipMsg,
    ) -> Result<(), String> {
        let n = self.views.n();
        let (list, pulled) = updates(msg);
        let (sender, heard) = &mut self.heard[to as usize];
        *sender = from;
        heard.clear();
        for u in list {
            if u.subject == to || u.subject >= n || u.status == Status::Unknown {
                continue;
            }
            let status = if pulled && u.status == Status::Failed {
                Status::Suspect
            } else {
                u.status
            };
            heard.push(Heard {
                subject: u.subject,
                belief: Member {
                    status,
                    incarnation: u.incarnation,
                },
            });
        }
        Ok(())
    }

    fn observe(&mut self, t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let i = node as usize;
        let (from, mut heard) = std::mem::take(&mut self.heard[i]);
        // What the member held before this handler, then what it holds now.
        let mut owed: Vec<(NodeId, Member, Member)> = Vec::with_capacity(heard.len());
        for h in &heard {
            let held = match owed.iter().rposition(|o| o.0 == h.subject) {
                Some(k) => owed[k].2,
                None => self.views.get(node, h.subject),
            };
            if rank(h.belief) > rank(held) {
                owed.push((h.subject, held, h.belief));
            }
        }
        self.views.fold(node, state.journal(), &mut self.steps);
        // Keep the buffer for the next message.
        heard.clear();
        self.heard[i] = (from, heard);
        if state.gone().is_some() {
            return Ok(());
        }
        let view = state.membership();
        for &(subject, held, told) in &owed {
            self.judged += 1;
            let now = view.get(subject);
            if rank(now) < rank(told) {
                return Err(format!(
                    "n{node} was told at {} by n{from} that n{subject} is {:?}@{}, which outranks the {:?}@{} it held, but it still holds {:?}@{}: SWIM's precedence (§4.2; a higher incarnation, or at one incarnation Alive < Suspect < Failed < Left) makes a member take such news{}",
                    fmt_nanos(t_ns),
                    told.status,
                    told.incarnation,
                    held.status,
                    held.incarnation,
                    now.status,
                    now.incarnation,
                    if told.status == Status::Suspect && held.status == Status::Suspect {
                        " (a suspicion at a newer incarnation replaces an older one)"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.views.reset(node);
        self.heard[node as usize].1.clear();
    }
}

/// See the module docs ("Held").
#[derive(Debug)]
pub struct NewsHeld {
    views: Views,
    steps: Vec<Step>,
    /// Updates judged.
    pub judged: u64,
}

impl NewsHeld {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-news-held";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        NewsHeld {
            views: Views::new(n),
            steps: Vec::new(),
            judged: 0,
        }
    }
}

impl Checker<GossipNode> for NewsHeld {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        out.scalar("rule_news_held_judged", self.judged as f64);
    }

    fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &GossipMsg) -> Result<(), String> {
        let (list, _) = updates(msg);
        for (k, u) in list.iter().enumerate() {
            if list[..k].iter().any(|v| v.subject == u.subject) {
                return Err(format!(
                    "n{from} sent n{to} at {} a {} carrying two updates about n{}: {:?}; a message carries the latest news per member only",
                    fmt_nanos(t_ns),
                    msg.kind(),
                    u.subject,
                    list.iter().filter(|v| v.subject == u.subject).collect::<Vec<_>>()
                ));
            }
            if u.subject >= self.views.n() {
                continue;
            }
            self.judged += 1;
            let told = Member {
                status: u.status,
                incarnation: u.incarnation,
            };
            let held = self.views.get(from, u.subject);
            if rank(told) > rank(held) {
                return Err(format!(
                    "n{from} told n{to} at {} in a {} that n{} is {:?}@{}, but itself holds n{} {:?}@{}: a member spreads only news it holds (SWIM §4.1{})",
                    fmt_nanos(t_ns),
                    msg.kind(),
                    u.subject,
                    told.status,
                    told.incarnation,
                    u.subject,
                    held.status,
                    held.incarnation,
                    if u.subject == to && u.status == Status::Suspect {
                        "; Lifeguard's buddy rule tells a suspect only a suspicion the prober holds"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(())
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        self.views.fold(node, state.journal(), &mut self.steps);
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.views.reset(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(status: Status, incarnation: u32) -> Member {
        Member {
            status,
            incarnation,
        }
    }

    #[test]
    fn rank_is_swims_precedence() {
        use Status::*;
        assert!(rank(m(Unknown, 9)) < rank(m(Alive, 0)));
        assert!(rank(m(Suspect, 1)) > rank(m(Alive, 1)));
        assert!(rank(m(Alive, 2)) > rank(m(Left, 1)));
        assert!(rank(m(Left, 1)) > rank(m(Failed, 1)));
        assert!(rank(m(Failed, 1)) > rank(m(Suspect, 1)));
        assert_eq!(rank(m(Suspect, 3)), rank(m(Suspect, 3)));
        // The transitions SWIM allows are exactly the rises in rank.
        let all = [Unknown, Alive, Suspect, Failed, Left];
        for &a in &all {
            for &b in &all {
                for i in 0..3 {
                    for j in 0..3 {
                        let (x, y) = (m(a, i), m(b, j));
                        if b == Unknown {
                            continue;
                        }
                        assert_eq!(
                            super::super::transitions::allowed(x, y),
                            rank(y) > rank(x),
                            "{x:?} -> {y:?}"
                        );
                    }
                }
            }
        }
    }
}
