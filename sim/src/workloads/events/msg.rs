//! The pipeline's messages, client operations and replies.
//!
//! The names follow the services they model: `SendMessageBatch` (producer → queue),
//! `ReceiveMessage` with long polling and `DeleteMessageBatch` (worker → queue), and a
//! conditional write of the function's effect (worker → table). A *receipt* is the message's
//! receive count at the time of the receive that handed it out: like SQS's receipt handle, it
//! names one delivery, and only the latest delivery's receipt deletes the message.

use super::event::Event;

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
