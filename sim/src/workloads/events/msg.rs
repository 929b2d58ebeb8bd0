//! The pipeline's messages, client operations and replies.
//!
//! The names follow the services they model: `SendMessageBatch` (producer → queue),
//! `ReceiveMessage` with long polling and `DeleteMessageBatch` (worker → queue), and a
//! conditional write of the function's effect (worker → table). A *receipt* is the message's
//! receive count at the time of the receive that handed it out: like SQS's receipt handle, it
//! names one delivery, and only the latest delivery's receipt deletes the message.

use super::event::Event;
use super::queue::Entry;
use crate::node::NodeId;

/// Messages between the pipeline's nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Producer → queue: enqueue these events (`SendMessageBatch`).
    Send {
        /// The producer's batch id (its random stream), echoed in the ack.
        batch: u64,
        /// The events, oldest first.
        events: Vec<Event>,
    },
    /// Queue → producer: these events are stored durably; drop them from the outbox.
    SendAck {
        /// The batch.
        batch: u64,
        /// Their sequencers.
        seqs: Vec<u64>,
    },
    /// Worker → queue: hand me up to `max` visible messages, waiting up to `wait_ms` for one
    /// to appear (long polling).
    Receive {
        /// The worker's poll id.
        poll: u64,
        /// Messages wanted at most.
        max: u32,
        /// Longest wait for a message, queue's local milliseconds.
        wait_ms: u64,
    },
    /// Queue → worker: the messages received (maybe none), each with its receipt.
    Messages {
        /// The poll answered.
        poll: u64,
        /// (event, receipt).
        msgs: Vec<(Event, u32)>,
    },
    /// Worker → queue: delete these (`DeleteMessageBatch`), by (sequencer, receipt).
    Delete {
        /// (sequencer, receipt).
        entries: Vec<(u64, u32)>,
    },
    /// Worker → table: apply this event's effect (idempotently, by its id).
    Apply {
        /// The worker's request id.
        req: u64,
        /// The event.
        event: Event,
    },
    /// Table → worker: the effect is recorded (now, or by an earlier apply).
    Applied {
        /// The request.
        req: u64,
        /// Whether an earlier apply had already recorded it (the idempotency table said so).
        duplicate: bool,
    },
    /// Worker → queue: keep this delivery hidden for another visibility timeout from now
    /// (`ChangeMessageVisibility`), while the handler still runs.
    ChangeVisibility {
        /// The worker's request id.
        req: u64,
        /// The message.
        seq: u64,
        /// The delivery's receipt.
        receipt: u32,
    },
    /// Queue → worker: the visibility was extended (`ok`), or the receipt is stale or its
    /// visibility already ran out (the message may be someone else's now).
    VisibilityChanged {
        /// The request.
        req: u64,
        /// Extended.
        ok: bool,
    },
    /// Queue replica → client: I am not the leader; try `leader` (if I know it).
    NotLeader {
        /// The leader this replica follows, if any.
        leader: Option<NodeId>,
    },
    /// Leader → follower: append these log entries after (`prev_index`, `prev_term`)
    /// (Raft's AppendEntries; empty as a heartbeat).
    Append {
        /// The leader's term.
        term: u64,
        /// The index before the first entry.
        prev_index: u64,
        /// Its term.
        prev_term: u64,
        /// (term, entry), in log order.
        entries: Vec<(u64, Entry)>,
        /// The leader's commit index.
        commit: u64,
    },
    /// Follower → leader: appended and synced through `last` (`ok`), or the log does not
    /// match at `prev_index` — `last` is then where the leader should try next.
    Appended {
        /// The follower's term.
        term: u64,
        /// Matched and synced.
        ok: bool,
        /// The last index matched (ok), or a hint (not ok).
        last: u64,
    },
    /// Candidate → replica: vote for me in `term` (Raft's RequestVote).
    Vote {
        /// The candidate's term.
        term: u64,
        /// Its last log index.
        last_index: u64,
        /// That entry's term.
        last_term: u64,
    },
    /// Replica → candidate: the vote.
    Voted {
        /// The voter's term.
        term: u64,
        /// Granted.
        granted: bool,
    },
}

impl crate::node::Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Send { .. } => "send",
            Msg::SendAck { .. } => "send-ack",
            Msg::Receive { .. } => "receive",
            Msg::Messages { .. } => "messages",
            Msg::Delete { .. } => "delete",
            Msg::Apply { .. } => "apply",
            Msg::Applied { .. } => "applied",
            Msg::ChangeVisibility { .. } => "change-visibility",
            Msg::VisibilityChanged { .. } => "visibility-changed",
            Msg::NotLeader { .. } => "not-leader",
            Msg::Append { .. } => "append",
            Msg::Appended { .. } => "appended",
            Msg::Vote { .. } => "vote",
            Msg::Voted { .. } => "voted",
        }
    }
}

/// A client operation: a change to an object, at the producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// PUT the object.
    Put {
        /// Key.
        key: u32,
        /// The function will fail on its event, every time.
        poison: bool,
    },
    /// DELETE the object.
    Delete {
        /// Key.
        key: u32,
    },
}

/// A client reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The change and its event are durable: the event must reach the function or the
    /// dead-letter queue.
    Committed(Event),
    /// Nothing was written (the store is not open).
    Unavailable,
    /// The write failed part-way: it may or may not be durable.
    Unknown,
}
