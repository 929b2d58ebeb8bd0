//! SWIM's transition rules as a state machine over every member's view
//! (`gossip-transitions`).
//!
//! After every handler the checker compares what the node now believes of each member with
//! what it believed before, and holds each change to the rules of SWIM (Das, Gupta &
//! Motivala, DSN 2002, §4.2: "suspicion", "refutation" by a higher incarnation number) with
//! memberlist's precedence for failed and left members. For a member held at `(status, i)`, a
//! change to `(status', j)` is allowed when:
//!
//! | held \ becomes | Alive | Suspect | Failed | Left |
//! |---|---|---|---|---|
//! | Unknown | any j | any j | any j | any j |
//! | Alive(i) | j > i | j ≥ i | j ≥ i | j ≥ i |
//! | Suspect(i) | **j > i** | j > i | j ≥ i | j ≥ i |
//! | Failed(i) | j > i | j > i | j > i | j ≥ i |
//! | Left(i) | j > i | j > i | j > i | j > i |
//!
//! and a member never goes back to Unknown (memory is lost only with a crash, which resets the
//! observer's record here too). The bold cell is the heart of SWIM: only the suspected member
//! can clear a suspicion, by raising its own incarnation; an Alive at the same incarnation is
//! old news (it may have been sent before the member crashed) and must not. A node's entry
//! for itself follows the same rules (it refutes by raising its incarnation, or leaves).
//!
//! This is written from the paper, independently of the implementation's precedence function
//! ([`super::member::Membership::wins`]), so that a slip in that function shows here.

use std::collections::BTreeMap;

use super::member::Member;
use super::msg::Status;
use super::node::GossipNode;
use crate::check::Checker;
use crate::node::NodeId;

/// Whether `before → after` is a transition SWIM allows (see the module docs).
pub fn allowed(before: Member, after: Member) -> bool {
    let (i, j) = (before.incarnation, after.incarnation);
    match (before.status, after.status) {
        (_, Status::Unknown) => before.status == Status::Unknown,
        (Status::Unknown, _) => true,
        (Status::Alive, Status::Alive) => j > i,
        (Status::Alive, _) => j >= i,
        (Status::Suspect, Status::Alive | Status::Suspect) => j > i,
        (Status::Suspect, Status::Failed | Status::Left) => j >= i,
        (Status::Failed, Status::Left) => j >= i,
        (Status::Failed, _) => j > i,
        (Status::Left, _) => j > i,
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Transitions {
    /// Per observer: its view of every member when last seen.
    views: Vec<Vec<Member>>,
    /// Transitions checked (changes seen).
    pub checked: u64,
    /// Per (before, after) status pair: how many changes of that kind were seen.
    pub seen: BTreeMap<(Status, Status), u64>,
}

impl Transitions {
    /// The checker's name.
    pub const NAME: &'static str = "gossip-transitions";

    /// For a cluster of `n`.
    pub fn new(n: u32) -> Self {
        Transitions {
            views: vec![vec![Member::default(); n as usize]; n as usize],
            checked: 0,
            seen: BTreeMap::new(),
        }
    }
}

impl Checker<GossipNode> for Transitions {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn observe(&mut self, _t_ns: u64, node: NodeId, state: &GossipNode) -> Result<(), String> {
        let m = state.membership();
        let view = &mut self.views[node as usize];
        for (subject, held) in view.iter_mut().enumerate() {
            let now = m.get(subject as NodeId);
            if now == *held {
                continue;
            }
            self.checked += 1;
            *self.seen.entry((held.status, now.status)).or_insert(0) += 1;
            if !allowed(*held, now) {
                return Err(format!(
                    "n{node} moved its view of n{subject} from {:?}@{} to {:?}@{}, which SWIM does not allow{}",
                    held.status,
                    held.incarnation,
                    now.status,
                    now.incarnation,
                    if held.status == Status::Suspect && now.status == Status::Alive {
                        " (only a higher incarnation, the suspect's own refutation, clears a suspicion)"
                    } else {
                        ""
                    }
                ));
            }
            *held = now;
        }
        Ok(())
    }

    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        for m in &mut self.views[node as usize] {
            *m = Member::default();
        }
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
    fn the_table_of_the_module_docs() {
        use Status::*;
        assert!(allowed(m(Unknown, 0), m(Failed, 3)));
        assert!(!allowed(m(Alive, 1), m(Unknown, 0)));
        assert!(allowed(m(Alive, 1), m(Suspect, 1)));
        assert!(!allowed(m(Alive, 1), m(Alive, 1)) && allowed(m(Alive, 1), m(Alive, 2)));
        assert!(
            !allowed(m(Suspect, 4), m(Alive, 4)),
            "same-incarnation alive"
        );
        assert!(allowed(m(Suspect, 4), m(Alive, 5)));
        assert!(allowed(m(Suspect, 4), m(Failed, 4)));
        assert!(!allowed(m(Suspect, 4), m(Failed, 3)));
        assert!(!allowed(m(Failed, 2), m(Suspect, 2)) && allowed(m(Failed, 2), m(Suspect, 3)));
        assert!(allowed(m(Failed, 2), m(Left, 2)) && !allowed(m(Left, 2), m(Left, 2)));
    }
}
