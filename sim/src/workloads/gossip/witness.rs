//! What an observer outside the members sees of them, for the checkers that judge SWIM's and
//! Lifeguard's rules by behaviour ([`super::health`], [`super::suspicion`], [`super::refute`],
//! [`super::probing`]):
//!
//! - [`Views`]: every member's view of the group, folded from its journal note by note, with
//!   how many members it held live (alive or suspect) after each step — what a member's
//!   count of the group was at any moment inside a handler;
//! - [`Probes`]: the probe each member has in flight, as its messages show it: the ping it
//!   sent from the handler that began a protocol period, the ping-reqs it sent for that probe,
//!   and the acks and nacks delivered to it for that probe's number. Nothing here reads the
//!   member's own record of its probe.

use super::member::Member;
use super::msg::{GossipMsg, Status, Update};
use super::node::Note;
use crate::node::NodeId;

/// Whether a member in this state is one the detector probes (and counts in the group).
pub fn live(s: Status) -> bool {
    matches!(s, Status::Alive | Status::Suspect)
}

/// The updates `msg` carries, and whether they are a whole table (push-pull, where the
/// receiver takes "failed" only as a suspicion by the sender).
pub fn updates(msg: &GossipMsg) -> (&[Update], bool) {
    match msg {
        GossipMsg::Ping { updates, .. }
        | GossipMsg::Ack { updates, .. }
        | GossipMsg::PingReq { updates, .. }
        | GossipMsg::Gossip { updates } => (updates, false),
        GossipMsg::PushPull { state, .. } => (state, true),
        GossipMsg::Nack { .. } => (&[], false),
    }
}

/// One change of one member's view, as [`Views::fold`] replays it.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The member the view is about.
    pub subject: NodeId,
    /// What was believed before.
    pub before: Member,
    /// What is believed now.
    pub after: Member,
    /// Members the observer holds live right after this step (itself included, as the node
    /// counts them).
    pub live: u32,
}

/// Every member's view; see the module docs.
#[derive(Clone, Debug)]
pub struct Views {
    n: u32,
    /// `view[observer * n + subject]`.
    view: Vec<Member>,
    live: Vec<u32>,
}

impl Views {
    /// Everyone knowing nothing.
    pub fn new(n: u32) -> Self {
        Views {
            n,
            view: vec![Member::default(); n as usize * n as usize],
            live: vec![0; n as usize],
        }
    }

    /// Members.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// What `observer` holds of `subject`.
    pub fn get(&self, observer: NodeId, subject: NodeId) -> Member {
        self.view[observer as usize * self.n as usize + subject as usize]
    }

    /// Members `observer` holds live, itself included.
    pub fn live(&self, observer: NodeId) -> u32 {
        self.live[observer as usize]
    }

    /// Members other than itself that `observer` holds live: those it may probe.
    pub fn others_live(&self, observer: NodeId) -> u32 {
        let me = u32::from(live(self.get(observer, observer).status));
        self.live(observer) - me
    }

    /// Fold `node`'s journal of one handler in, leaving each change in `steps` (cleared
    /// first), in the order the node made them.
    pub fn fold(&mut self, node: NodeId, notes: &[Note], steps: &mut Vec<Step>) {
        steps.clear();
        let n = self.n as usize;
        for note in notes {
            let Note::View {
                subject,
                status,
                incarnation,
            } = *note
            else {
                continue;
            };
            if subject >= self.n {
                continue;
            }
            let i = node as usize * n + subject as usize;
            let before = self.view[i];
            let after = Member {
                status,
                incarnation,
            };
            let count = &mut self.live[node as usize];
            if live(before.status) {
                *count = count.saturating_sub(1);
            }
            if live(after.status) {
                *count += 1;
            }
            self.view[i] = after;
            steps.push(Step {
                subject,
                before,
                after,
                live: *count,
            });
        }
    }

    /// `node` restarted with fresh memory.
    pub fn reset(&mut self, node: NodeId) {
        let n = self.n as usize;
        let i = node as usize;
        self.view[i * n..(i + 1) * n].fill(Member::default());
        self.live[i] = 0;
    }
}

/// A member's probe as its messages show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeSeen {
    /// The number on its ping.
    pub seq: u32,
    /// Whom it pinged.
    pub target: NodeId,
    /// Whether an ack carrying that number was delivered to the prober (directly or relayed).
    pub acked: bool,
    /// Ping-reqs the prober sent for it.
    pub relays: u32,
    /// Nacks carrying that number delivered to the prober.
    pub nacks: u32,
}

/// Every member's probe in flight; see the module docs.
#[derive(Clone, Debug)]
pub struct Probes {
    /// Protocol periods each member had begun when last seen.
    ticks: Vec<u64>,
    /// Whether the handler last observed for each member began a protocol period (so a ping
    /// it sends is that period's probe, not a relayed one).
    in_tick: Vec<bool>,
    probe: Vec<Option<ProbeSeen>>,
}

impl Probes {
    /// No probe anywhere.
    pub fn new(n: u32) -> Self {
        Probes {
            ticks: vec![0; n as usize],
            in_tick: vec![false; n as usize],
            probe: vec![None; n as usize],
        }
    }

    /// `msg` reaches `to`: an ack or a nack for its probe counts.
    pub fn deliver(&mut self, to: NodeId, msg: &GossipMsg) {
        let Some(p) = self.probe[to as usize].as_mut() else {
            return;
        };
        match *msg {
            GossipMsg::Ack { seq, .. } if seq == p.seq => p.acked = true,
            GossipMsg::Nack { seq } if seq == p.seq => p.nacks += 1,
            _ => {}
        }
    }

    /// A handler of `node` ran, leaving it at `ticks` periods begun. When the handler began a
    /// protocol period, returns `Some` of the probe that period closed (`None` inside when
    /// there was none in flight).
    pub fn observe(&mut self, node: NodeId, ticks: u64) -> Option<Option<ProbeSeen>> {
        let i = node as usize;
        if ticks == self.ticks[i] {
            self.in_tick[i] = false;
            return None;
        }
        self.ticks[i] = ticks;
        self.in_tick[i] = true;
        Some(self.probe[i].take())
    }

    /// `from` sends `msg` to `to`; returns the target when this is a new period's probe.
    pub fn send(&mut self, from: NodeId, to: NodeId, msg: &GossipMsg) -> Option<NodeId> {
        let i = from as usize;
        match *msg {
            GossipMsg::Ping { seq, .. } if self.in_tick[i] => {
                self.in_tick[i] = false;
                self.probe[i] = Some(ProbeSeen {
                    seq,
                    target: to,
                    acked: false,
                    relays: 0,
                    nacks: 0,
                });
                Some(to)
            }
            GossipMsg::PingReq { seq, .. } => {
                if let Some(p) = self.probe[i].as_mut().filter(|p| p.seq == seq) {
                    p.relays += 1;
                }
                None
            }
            _ => None,
        }
    }

    /// `node`'s probe in flight, as far as its messages show.
    pub fn in_flight(&self, node: NodeId) -> Option<ProbeSeen> {
        self.probe[node as usize]
    }

    /// Whether the handler last observed for `node` began a period and no probe was sent
    /// from it yet.
    pub fn period_open(&self, node: NodeId) -> bool {
        self.in_tick[node as usize]
    }

    /// `node` restarted with fresh memory.
    pub fn reset(&mut self, node: NodeId) {
        let i = node as usize;
        self.ticks[i] = 0;
        self.in_tick[i] = false;
        self.probe[i] = None;
    }
}
