//! The membership table: what one node believes about every member, and SWIM's precedence
//! rule for folding in an update.
//!
//! [`Membership`] is also the view other workloads embed to take their membership from gossip
//! (the quorum workload's coordinators can skip members it holds failed): it is a plain value,
//! indexed by node id, with [`Membership::is_failed`] and [`Membership::status`].
//!
//! **Precedence** (SWIM §4.2, as memberlist implements it). For subject `x` held at
//! `(status, inc)`, an update `(new, i)` wins when:
//! - `Alive(i)`: `i > inc` — only a newer incarnation revives or refutes;
//! - `Suspect(i)`: `i > inc`, or `i == inc` while `Alive`;
//! - `Failed(i)`: `i >= inc` unless already `Failed` or `Left` at that incarnation;
//! - `Left(i)`: `i >= inc` unless already `Left`.
//!
//! Anything about a member never heard of is taken as it comes. Updates about the node itself
//! are not applied here: the node refutes them ([`super::node`]).

use super::msg::{Status, Update};
use crate::NodeId;

/// One member as this node believes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Member {
    /// Its state.
    pub status: Status,
    /// The incarnation that state is about.
    pub incarnation: u32,
}

/// What [`Membership::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The update was older or equal news: nothing changed.
    Ignored,
    /// The member's state changed from `before`.
    Changed {
        /// The state before.
        before: Member,
    },
}

/// The table of one node's beliefs; see the module docs.
#[derive(Clone, Debug)]
pub struct Membership {
    members: Vec<Member>,
    /// Members believed alive or suspect.
    live: u32,
}

impl Membership {
    /// A table for a cluster of `nodes`, everyone unknown.
    pub fn new(nodes: u32) -> Self {
        Membership {
            members: vec![Member::default(); nodes as usize],
            live: 0,
        }
    }

    /// Cluster size (ids are `0..len()`).
    pub fn len(&self) -> u32 {
        self.members.len() as u32
    }

    /// Whether the table covers no ids at all.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// What is believed about `node`.
    pub fn get(&self, node: NodeId) -> Member {
        self.members[node as usize]
    }

    /// `node`'s state.
    pub fn status(&self, node: NodeId) -> Status {
        self.members[node as usize].status
    }

    /// Whether `node` is held failed (or gone: left) — the question a quorum coordinator asks
    /// before counting on a member.
    pub fn is_failed(&self, node: NodeId) -> bool {
        matches!(self.status(node), Status::Failed | Status::Left)
    }

    /// Members believed alive or suspect.
    pub fn live_count(&self) -> u32 {
        self.live
    }

    /// Every known member as an update (for push-pull), in id order.
    pub fn snapshot(&self, by: NodeId) -> Vec<Update> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.status != Status::Unknown)
            .map(|(id, m)| Update {
                subject: id as NodeId,
                status: m.status,
                incarnation: m.incarnation,
                by,
            })
            .collect()
    }

    /// Whether `u` beats what is held (the precedence rule of the module docs). With
    /// `failed_is_final` (a planted bug) nothing revives a failed member.
    pub fn wins(&self, u: &Update, failed_is_final: bool) -> bool {
        let m = self.get(u.subject);
        if m.status == Status::Unknown {
            return u.status != Status::Unknown;
        }
        if failed_is_final && m.status == Status::Failed {
            return false;
        }
        match u.status {
            Status::Unknown => false,
            Status::Alive => u.incarnation > m.incarnation,
            Status::Suspect => {
                u.incarnation > m.incarnation
                    || (u.incarnation == m.incarnation && m.status == Status::Alive)
            }
            Status::Failed => {
                u.incarnation > m.incarnation
                    || (u.incarnation == m.incarnation
                        && matches!(m.status, Status::Alive | Status::Suspect))
            }
            Status::Left => u.incarnation >= m.incarnation && m.status != Status::Left,
        }
    }

    /// Set `node`'s state outright (the node's own entry, or a local decision such as a
    /// suspicion timing out).
    pub fn set(&mut self, node: NodeId, status: Status, incarnation: u32) -> Applied {
        let before = self.get(node);
        let after = Member {
            status,
            incarnation,
        };
        if before == after {
            return Applied::Ignored;
        }
        let live = |s: Status| matches!(s, Status::Alive | Status::Suspect);
        if live(before.status) {
            self.live -= 1;
        }
        if live(status) {
            self.live += 1;
        }
        self.members[node as usize] = after;
        assert!(self.live <= self.len());
        Applied::Changed { before }
    }

    /// Fold `u` in if it wins.
    pub fn apply(&mut self, u: &Update, failed_is_final: bool) -> Applied {
        if !self.wins(u, failed_is_final) {
            return Applied::Ignored;
        }
        self.set(u.subject, u.status, u.incarnation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(subject: NodeId, status: Status, incarnation: u32) -> Update {
        Update {
            subject,
            status,
            incarnation,
            by: 9,
        }
    }

    #[test]
    fn precedence_follows_swim() {
        let mut m = Membership::new(4);
        assert_ne!(m.apply(&up(1, Status::Alive, 0), false), Applied::Ignored);
        // Same-incarnation alive does not clear a suspicion; a newer one does.
        assert_ne!(m.apply(&up(1, Status::Suspect, 0), false), Applied::Ignored);
        assert_eq!(m.apply(&up(1, Status::Alive, 0), false), Applied::Ignored);
        assert_eq!(m.apply(&up(1, Status::Suspect, 0), false), Applied::Ignored);
        assert_ne!(m.apply(&up(1, Status::Failed, 0), false), Applied::Ignored);
        assert!(m.is_failed(1));
        assert_eq!(m.apply(&up(1, Status::Suspect, 0), false), Applied::Ignored);
        assert_eq!(m.apply(&up(1, Status::Alive, 0), false), Applied::Ignored);
        // A refutation (newer incarnation) revives, unless the planted bug holds failure final.
        assert!(!m.wins(&up(1, Status::Alive, 1), true));
        assert_ne!(m.apply(&up(1, Status::Alive, 1), false), Applied::Ignored);
        assert!(!m.is_failed(1));
        assert_eq!(m.live_count(), 1);
        assert_eq!(m.apply(&up(1, Status::Failed, 0), false), Applied::Ignored);
        assert_ne!(m.apply(&up(1, Status::Left, 1), false), Applied::Ignored);
        assert!(m.is_failed(1) && m.live_count() == 0);
        assert_eq!(m.snapshot(0).len(), 1);
    }
}
