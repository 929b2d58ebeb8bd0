//! The register's messages, client operations and replies.

use crate::node::NodeId;

/// A write's place in the register's total order: higher stamps win. `nonce` (random per write)
/// keeps two writes by the same coordinator apart even if a crash made it forget its last one.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// The logical counter, one more than the highest a majority had seen.
    pub counter: u64,
    /// The coordinator that made the write.
    pub writer: NodeId,
    /// A random tie-breaker.
    pub nonce: u64,
}

impl std::fmt::Debug for Stamp {
    /// `19@n1~7f3a`: counter, writer, and the nonce's top 16 bits (enough to tell writes apart
    /// in a timeline).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@n{}~{:04x}",
            self.counter,
            self.writer,
            self.nonce >> 48
        )
    }
}

/// Messages between replicas and coordinators. `req` is the coordinator's random request id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
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

impl crate::node::Message for RegMsg {
    fn kind(&self) -> &'static str {
        match self {
            RegMsg::Query { .. } => "query",
            RegMsg::QueryReply { .. } => "query-reply",
            RegMsg::Store { .. } => "store",
            RegMsg::StoreAck { .. } => "store-ack",
        }
    }
}

impl std::fmt::Debug for RegMsg {
    /// Short, for timelines: `Store r7f3a 4@n0~9b32=19` (request id's top 16 bits in hex).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = |req: u64| req >> 48;
        match *self {
            RegMsg::Query { req } => write!(f, "Query r{:04x}", r(req)),
            RegMsg::QueryReply { req, stamp, value } => {
                write!(f, "QueryReply r{:04x} {stamp:?}={value}", r(req))
            }
            RegMsg::Store { req, stamp, value } => {
                write!(f, "Store r{:04x} {stamp:?}={value}", r(req))
            }
            RegMsg::StoreAck { req } => write!(f, "StoreAck r{:04x}", r(req)),
        }
    }
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
