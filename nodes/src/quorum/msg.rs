//! Client operations, their replies, and the messages between nodes. All derive serde's
//! `Serialize` and `Deserialize`, for a transport that puts them on a wire.

use serde::{Deserialize, Serialize};

use super::merkle::Leaves;
use super::version::{Siblings, Version};
use crate::NodeId;

/// A client operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Read `key` from R replicas (from all N when `all`: the audit reads of the quiet period).
    Get {
        /// The key.
        key: u32,
        /// Wait for every replica, not just R.
        all: bool,
    },
    /// Write `value` to `key` (read the context first, then write W replicas).
    Put {
        /// The key.
        key: u32,
        /// The value (unique per run, so a read says which write it saw).
        value: u64,
    },
    /// Delete `key`: a put of a tombstone.
    Delete {
        /// The key.
        key: u32,
    },
    /// Report this node's Merkle roots and pending hints (the convergence probe).
    Digest,
}

impl Op {
    /// The key this operation touches, if any.
    pub fn key(&self) -> Option<u32> {
        match *self {
            Op::Get { key, .. } | Op::Put { key, .. } | Op::Delete { key } => Some(key),
            Op::Digest => None,
        }
    }
}

/// A reply to a client operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reply {
    /// A get's merged sibling set (empty: never written), which the client reconciles by
    /// [`Siblings::reconciled`]; and each answering replica's own set, for the checkers.
    Got(Siblings, Vec<(NodeId, Siblings)>),
    /// A put or delete reached W nodes with this version; the bit mask names the replicas that
    /// stored it themselves (not as a fallback's hint), for the checkers.
    Written(Version, u64),
    /// Too few replicas answered, even after the client's retries: the write may or may not
    /// have taken effect.
    Failed,
    /// The node could not take the operation (too many in flight, store not open): not run.
    Busy,
    /// This node's Merkle root per range it replicates, and how many hints it still holds.
    Digest {
        /// (range, root), ascending by range.
        roots: Vec<(u32, u64)>,
        /// Hints not yet handed off.
        hints: u64,
    },
}

/// Messages between nodes. `req` numbers a coordinator's request (epoch in the high bits, so
/// replies to a request from before a crash never match one after it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    /// A message of the embedded SWIM member (`membership=gossip`).
    Swim(crate::gossip::msg::GossipMsg),
    /// Coordinator → replica: send your versions of `key`.
    Fetch {
        /// The request.
        req: u64,
        /// The key.
        key: u32,
    },
    /// Replica → coordinator: my versions (`None`: my store failed).
    FetchReply {
        /// The request.
        req: u64,
        /// The versions.
        sibs: Option<Siblings>,
    },
    /// Coordinator → replica: store `version` of `key` (as a hint for `hint_for` when set).
    Store {
        /// The request.
        req: u64,
        /// The key.
        key: u32,
        /// The new version (boxed: messages sit in the event heap, keep them small).
        version: Box<Version>,
        /// The unreachable replica this write is held for (sloppy quorum).
        hint_for: Option<NodeId>,
    },
    /// Replica → coordinator: stored durably (`ok`) or failed.
    StoreAck {
        /// The request.
        req: u64,
        /// Whether it is durable.
        ok: bool,
    },
    /// Coordinator → stale replica: merge these versions (read repair).
    Repair {
        /// The key.
        key: u32,
        /// The merged versions the read saw.
        sibs: Siblings,
    },
    /// Hint holder → intended replica: merge the writes held for you.
    Handoff {
        /// The key.
        key: u32,
        /// The held versions.
        sibs: Siblings,
    },
    /// Intended replica → hint holder: merged durably; drop the hint if unchanged since.
    HandoffAck {
        /// The key.
        key: u32,
        /// What was handed off.
        sibs: Siblings,
    },
    /// Anti-entropy, step 1: my root for `range`.
    AeRoot {
        /// The range.
        range: u32,
        /// Its root.
        root: u64,
    },
    /// Step 2: roots differ; here are my leaves.
    AeLeaves {
        /// The range.
        range: u32,
        /// Its leaves (boxed, to keep messages small).
        leaves: Box<Leaves>,
    },
    /// Step 3 (and 4, with `reply` false): my keys in the differing buckets; merge them.
    AeKeys {
        /// The range.
        range: u32,
        /// The differing buckets, one bit each.
        buckets: u32,
        /// (key, versions) for my keys in those buckets.
        entries: Vec<(u32, Siblings)>,
        /// Answer with your own keys of those buckets.
        reply: bool,
    },
}

impl crate::Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Swim(_) => "swim",
            Msg::Fetch { .. } => "fetch",
            Msg::FetchReply { .. } => "fetch-reply",
            Msg::Store { .. } => "store",
            Msg::StoreAck { .. } => "store-ack",
            Msg::Repair { .. } => "repair",
            Msg::Handoff { .. } => "handoff",
            Msg::HandoffAck { .. } => "handoff-ack",
            Msg::AeRoot { .. } => "ae-root",
            Msg::AeLeaves { .. } => "ae-leaves",
            Msg::AeKeys { .. } => "ae-keys",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gossip::msg::{GossipMsg, Status, Update};
    use crate::quorum::vclock::{Entry, VClock};

    fn version(value: Option<u64>, actors: &[(u32, u64)]) -> Version {
        Version {
            clock: VClock::from_entries(
                actors
                    .iter()
                    .map(|&(actor, counter)| Entry {
                        actor,
                        counter,
                        ts_ns: counter * 10,
                    })
                    .collect(),
            ),
            ts_ns: 77,
            writer: 1,
            value,
        }
    }

    fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(v: &T) -> T {
        serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
    }

    #[test]
    fn messages_operations_and_replies_survive_a_wire() {
        let mut sibs = Siblings::one(version(Some(5), &[(0, 1), (2, 3)]));
        sibs.add(
            version(None, &[(1, 1)]),
            crate::quorum::version::Mode::VClock,
        );
        let msgs = [
            Msg::Fetch { req: 9, key: 3 },
            Msg::FetchReply {
                req: 9,
                sibs: Some(sibs.clone()),
            },
            Msg::Store {
                req: 1 << 40,
                key: 3,
                version: Box::new(version(Some(8), &[(4, 2)])),
                hint_for: Some(2),
            },
            Msg::AeLeaves {
                range: 7,
                leaves: Box::new([3; 16]),
            },
            Msg::AeKeys {
                range: 7,
                buckets: 5,
                entries: vec![(3, sibs.clone())],
                reply: true,
            },
            Msg::Swim(GossipMsg::Ping {
                seq: 4,
                updates: vec![Update {
                    subject: 2,
                    status: Status::Suspect,
                    incarnation: 1,
                    by: 0,
                }],
            }),
        ];
        for m in &msgs {
            assert_eq!(&round_trip(m), m);
        }
        let ops = [
            Op::Get { key: 1, all: true },
            Op::Delete { key: 2 },
            Op::Digest,
        ];
        for op in &ops {
            assert_eq!(&round_trip(op), op);
        }
        let replies = [
            Reply::Got(sibs.clone(), vec![(1, sibs)]),
            Reply::Written(version(Some(1), &[(0, 1)]), 0b101),
            Reply::Digest {
                roots: vec![(0, 9)],
                hints: 2,
            },
        ];
        for r in &replies {
            assert_eq!(&round_trip(r), r);
        }
    }

    #[test]
    fn a_clock_read_off_a_wire_is_put_in_order() {
        let wire = r#"[{"actor":4,"counter":2,"ts_ns":0},{"actor":1,"counter":5,"ts_ns":0},{"actor":4,"counter":9,"ts_ns":0}]"#;
        let c: VClock = serde_json::from_str(wire).unwrap();
        let actors: Vec<(u32, u64)> = c.entries().iter().map(|e| (e.actor, e.counter)).collect();
        assert_eq!(actors, [(1, 5), (4, 9)]);
    }
}
