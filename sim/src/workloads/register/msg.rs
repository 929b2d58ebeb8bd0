//! The register's messages, client operations and replies.

use crate::node::NodeId;

/// A write's place in the register's total order: higher stamps win. `nonce` (random per write)
/// keeps two writes by the same coordinator apart even if a crash made it forget its last one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// The logical counter, one more than the highest a majority had seen.
    pub counter: u64,
    /// The coordinator that made the write.
    pub writer: NodeId,
    /// A random tie-breaker.
    pub nonce: u64,
}

/// Messages between replicas and coordinators. `req` is the coordinator's random request id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegMsg {
    /// Phase 1: what is your stamp and value?
    Query {
        /// Request id.
        req: u64,
    },
    /// A replica's answer to `Query`.
    QueryReply {
        /// Request id.
        req: u64,
        /// The replica's stamp.
        stamp: Stamp,
        /// The replica's value.
        value: u64,
    },
    /// Phase 2: store this (if newer than yours), durably, then ack.
    Store {
        /// Request id.
        req: u64,
        /// The write's stamp.
        stamp: Stamp,
        /// The value.
        value: u64,
    },
    /// The replica holds `Store`'s stamp or a newer one, durably.
    StoreAck {
        /// Request id.
        req: u64,
    },
}

/// A client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegOp {
    /// Write a value (values are unique per run, so a read says which write it saw).
    Write(u64),
    /// Read the value.
    Read,
}

/// A client reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegReply {
    /// The write took effect with this stamp.
    Written(Stamp),
    /// The register held `value`, written with `stamp`.
    Read {
        /// The write the read saw.
        stamp: Stamp,
        /// Its value.
        value: u64,
    },
    /// No quorum answered in time; a write may or may not have taken effect.
    TimedOut,
}
