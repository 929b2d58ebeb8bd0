//! The IAM workload's messages, client operations and replies.

use super::store::{Change, Entry};
use crate::workloads::gossip::msg::GossipMsg;

/// Log entries one message carries, at most (a lagging node catches up in several rounds).
pub const ENTRIES_PER_MSG_MAX: usize = 16;

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IamMsg {
    /// Log entries, oldest first (replicated-log mode: leader to follower; gossip mode: the
    /// answer to a [`IamMsg::Digest`], or a rumour pushed on).
    Append {
        /// The entries, each chained to the one before by `prev`.
        entries: Vec<Entry>,
    },
    /// "I hold version `version` durably" — to the leader, which tracks who has what.
    Ack {
        /// The sender's durable version.
        version: u64,
    },
    /// Gossip mode: "I am at `version`; send me what I miss" (anti-entropy pull).
    Digest {
        /// The sender's version.
        version: u64,
    },
    /// SWIM mode: a message of the embedded SWIM member, with the sender's version riding on
    /// it (the piggyback).
    Swim {
        /// The SWIM message.
        msg: GossipMsg,
        /// The sender's version when it sent it.
        version: u64,
    },
}

impl crate::node::Message for IamMsg {
    fn kind(&self) -> &'static str {
        match self {
            IamMsg::Append { .. } => "append",
            IamMsg::Ack { .. } => "ack",
            IamMsg::Digest { .. } => "digest",
            IamMsg::Swim { .. } => "swim",
        }
    }
}

/// A client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IamOp {
    /// Change the policy store (sent to the leader, node 0). `id` is unique and increasing
    /// per run and becomes the change's version.
    Change {
        /// The version this change gets if accepted.
        id: u64,
        /// What changes.
        change: Change,
    },
    /// May request `req` (an index into [`super::catalog::REQUESTS`]) be done?
    Authorize {
        /// The request.
        req: u16,
    },
}

/// A client reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IamReply {
    /// The leader logged the change durably as version `version`.
    Committed {
        /// The change's version (its id).
        version: u64,
    },
    /// The leader did not accept the change. `maybe`: a disk write failed part way, so the
    /// change may still be in the log (the checker then learns its fate from later views).
    Rejected {
        /// Whether the change may have been logged anyway.
        maybe: bool,
    },
    /// The decision, with what it was decided on and what the node had acknowledged.
    Decided {
        /// Allow (true) or deny.
        allow: bool,
        /// The view's version.
        version: u64,
        /// The view's digest (which versions it holds).
        digest: u64,
        /// The highest version this node has acknowledged as durable.
        acked: u64,
        /// The highest version the leader knows every node holds durably (0 elsewhere).
        all_acked: u64,
    },
    /// The node cannot decide (its view could not be loaded from disk yet).
    Unavailable,
}
