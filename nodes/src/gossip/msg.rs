//! Gossip's wire: membership updates, the messages that carry them, client operations, and
//! what each message would cost in bytes on a real network. All derive serde's `Serialize` and
//! `Deserialize`, for a transport that puts them on a wire.

use serde::{Deserialize, Serialize};

use crate::{Message, NodeId};

/// A member's state as one node believes it. The order of the variants is not the precedence
/// rule — that lives in [`super::member::Membership::apply`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Status {
    /// Never heard of.
    #[default]
    Unknown,
    /// Believed up.
    Alive,
    /// Missed a probe; declared failed unless it refutes before the suspicion timeout.
    Suspect,
    /// Declared failed (SWIM's "confirm").
    Failed,
    /// Left gracefully.
    Left,
}

impl Status {
    /// A one-letter code for compact traces.
    pub fn letter(self) -> char {
        match self {
            Status::Unknown => '?',
            Status::Alive => 'A',
            Status::Suspect => 'S',
            Status::Failed => 'F',
            Status::Left => 'L',
        }
    }
}

/// One membership update: `subject` is in `status` at `incarnation`. Suspicions name who
/// suspects (`by`), so that Lifeguard can count independent confirmations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Update {
    /// The member the update is about.
    pub subject: NodeId,
    /// Its new state.
    pub status: Status,
    /// The subject's incarnation this claim is about: only the subject raises it (to refute).
    pub incarnation: u32,
    /// Who suspects (for [`Status::Suspect`]); the sender's own id otherwise.
    pub by: NodeId,
}

impl std::fmt::Debug for Update {
    /// `F7@3` (subject 7 failed at incarnation 3); `S7@3/2` (suspected by 2).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}@{}",
            self.status.letter(),
            self.subject,
            self.incarnation
        )?;
        if self.status == Status::Suspect {
            write!(f, "/{}", self.by)?;
        }
        Ok(())
    }
}

/// Bytes of one update on the wire: status (1), subject (4), incarnation (4), and the suspecter
/// (4) for suspicions. Measured, not sent: the simulator moves values, not bytes.
pub fn update_bytes(u: &Update) -> u64 {
    if u.status == Status::Suspect {
        13
    } else {
        9
    }
}

/// Messages between members. Every probe-path message piggybacks updates (`updates`), which
/// is how SWIM disseminates membership without messages of its own.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GossipMsg {
    /// A direct probe: answer with [`GossipMsg::Ack`] carrying `seq`.
    Ping {
        /// The prober's probe number.
        seq: u32,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// A probe's answer (directly, or relayed by an indirect prober).
    Ack {
        /// The probe number it answers.
        seq: u32,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// Please probe `target` for me and relay its ack (SWIM's ping-req).
    PingReq {
        /// The requester's probe number.
        seq: u32,
        /// Whom to probe.
        target: NodeId,
        /// Piggybacked updates.
        updates: Vec<Update>,
    },
    /// Lifeguard: "I asked `target` for you and heard nothing" — proof that the requester's own
    /// link to the relay works, so a missing ack says more about the target than about itself.
    Nack {
        /// The requester's probe number.
        seq: u32,
    },
    /// Updates pushed directly (a graceful leave announces itself this way).
    Gossip {
        /// The updates.
        updates: Vec<Update>,
    },
    /// Anti-entropy and join: the sender's whole table; `reply` asks for the receiver's back.
    PushPull {
        /// Every member the sender knows, as updates.
        state: Vec<Update>,
        /// Whether the receiver should answer with its own table.
        reply: bool,
    },
}

/// The kind of [`GossipMsg::PushPull`]: anti-entropy (whole tables), whose size grows with the
/// group, as opposed to the probe path, whose size does not.
pub const PUSH_PULL: &str = "push-pull";

impl Message for GossipMsg {
    fn kind(&self) -> &'static str {
        match self {
            GossipMsg::Ping { .. } => "ping",
            GossipMsg::Ack { .. } => "ack",
            GossipMsg::PingReq { .. } => "ping-req",
            GossipMsg::Nack { .. } => "nack",
            GossipMsg::Gossip { .. } => "gossip",
            GossipMsg::PushPull { .. } => PUSH_PULL,
        }
    }

    /// Bytes this message would take on the wire: a 1-byte tag, 4 per number, 2 for a count,
    /// and [`update_bytes`] per update.
    fn wire_bytes(&self) -> u64 {
        let ups = |u: &[Update]| 2 + u.iter().map(update_bytes).sum::<u64>();
        1 + match self {
            GossipMsg::Ping { updates, .. } | GossipMsg::Ack { updates, .. } => 4 + ups(updates),
            GossipMsg::PingReq { updates, .. } => 8 + ups(updates),
            GossipMsg::Nack { .. } => 4,
            GossipMsg::Gossip { updates } => ups(updates),
            GossipMsg::PushPull { state, .. } => 1 + ups(state),
        }
    }
}

impl std::fmt::Debug for GossipMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GossipMsg::Ping { seq, updates } => write!(f, "Ping #{seq} {updates:?}"),
            GossipMsg::Ack { seq, updates } => write!(f, "Ack #{seq} {updates:?}"),
            GossipMsg::PingReq {
                seq,
                target,
                updates,
            } => write!(f, "PingReq #{seq} n{target} {updates:?}"),
            GossipMsg::Nack { seq } => write!(f, "Nack #{seq}"),
            GossipMsg::Gossip { updates } => write!(f, "Gossip {updates:?}"),
            GossipMsg::PushPull { state, reply } => {
                write!(
                    f,
                    "PushPull{} ({} members)",
                    if *reply { "?" } else { "" },
                    state.len()
                )
            }
        }
    }
}

/// A client operation on one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GossipOp {
    /// Crash-stop: the process goes silent for the rest of the run (SWIM's failure model; the
    /// world's crash faults restart nodes, this does not).
    Stop,
    /// Leave gracefully: announce it, then go silent for the rest of the run.
    Leave,
    /// How many members does this node believe alive? (Also answered by a silent node.)
    View,
}

/// A client reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GossipReply {
    /// Done (stop, leave).
    Done,
    /// Members believed alive or suspect, this node included.
    Members(u32),
    /// The node had already stopped or left.
    Silent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_operation_and_reply_survives_a_wire() {
        let u = Update {
            subject: 3,
            status: Status::Failed,
            incarnation: 2,
            by: 1,
        };
        let msgs = [
            GossipMsg::Ping {
                seq: 1,
                updates: vec![u],
            },
            GossipMsg::Ack {
                seq: 1,
                updates: vec![],
            },
            GossipMsg::PingReq {
                seq: 2,
                target: 5,
                updates: vec![u, u],
            },
            GossipMsg::Nack { seq: 2 },
            GossipMsg::Gossip { updates: vec![u] },
            GossipMsg::PushPull {
                state: vec![u],
                reply: true,
            },
        ];
        for m in &msgs {
            let back: GossipMsg = serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap();
            assert_eq!(&back, m);
            assert_eq!(back.wire_bytes(), m.wire_bytes());
        }
        for op in [GossipOp::Stop, GossipOp::Leave, GossipOp::View] {
            let back: GossipOp =
                serde_json::from_str(&serde_json::to_string(&op).unwrap()).unwrap();
            assert_eq!(back, op);
        }
        for r in [
            GossipReply::Done,
            GossipReply::Members(4),
            GossipReply::Silent,
        ] {
            let back: GossipReply =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
    }
}
