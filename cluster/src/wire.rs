//! What travels in a frame: the envelope around the node's own message types.
//!
//! A connection's first frame says who opened it. A node opening a connection to a peer sends
//! [`Wire::Hello`] with its id, then only [`Wire::Peer`] frames — the quorum node's own
//! [`Msg`](seedbed_nodes::quorum::msg::Msg), exactly what the simulator's network carries. A
//! client (the `seedbed cluster` command, a test) sends [`Wire::Client`] or [`Wire::Status`]
//! frames and reads one answer per request: the node's own
//! [`Reply`](seedbed_nodes::quorum::msg::Reply), or a [`NodeStatus`].
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use serde::{Deserialize, Serialize};

use seedbed_nodes::gossip::msg::Status;
use seedbed_nodes::quorum::msg::{Msg, Op, Reply};
use seedbed_nodes::{NodeId, OpId};

/// One frame's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wire {
    /// Peer → node, first frame: "I am node `from` of cluster `cluster`".
    Hello {
        /// The sender's id.
        from: NodeId,
        /// The cluster's id (random at `up`), so a node never takes frames from another
        /// cluster that reused a port.
        cluster: u64,
    },
    /// Peer → node: a protocol message.
    Peer(Msg),
    /// Client → node: run `op` (this node coordinates it); answered by [`Wire::Reply`] with the
    /// same `op_id` (the client's own numbering).
    Client {
        /// The client's id for the operation.
        op_id: OpId,
        /// The operation.
        op: Op,
    },
    /// Node → client: the node's reply.
    Reply {
        /// The client's id for the operation.
        op_id: OpId,
        /// The reply.
        reply: Reply,
    },
    /// Client → node: how are you? Answered by [`Wire::StatusReply`].
    Status,
    /// Node → client.
    StatusReply(NodeStatus),
}

/// What a node reports about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Its id.
    pub id: NodeId,
    /// Its process id.
    pub pid: u32,
    /// The seed of its random stream (printed at start, so a run can be redone).
    pub seed: u64,
    /// Whether its store is open and it serves operations.
    pub serving: bool,
    /// Its boot epoch (bumped at every boot), if serving.
    pub epoch: Option<u64>,
    /// Its SWIM view of every node (`membership=gossip`), else empty.
    pub view: Vec<Status>,
    /// Whether it believes each node up (what its coordinator acts on).
    pub believes_up: Vec<bool>,
    /// The generation of the fault file it applies.
    pub faults_gen: u64,
    /// Its clock offset in nanoseconds.
    pub skew_ns: i64,
    /// Frames it dropped because of a partition (sent or received).
    pub dropped_partition: u64,
    /// Frames it dropped because a peer was unreachable or its queue full.
    pub dropped_unreachable: u64,
    /// `sync=group`: WAL syncs its groups made this boot, and the store writes they covered.
    #[serde(default)]
    pub group_syncs: u64,
    /// See `group_syncs`.
    #[serde(default)]
    pub group_writes: u64,
}

impl NodeStatus {
    /// Whether this node sees every node of `nodes` alive: SWIM's view with gossip, else
    /// what its timeout detector believes.
    pub fn sees_alive(&self, nodes: &[NodeId]) -> bool {
        nodes.iter().all(|&n| {
            if self.view.is_empty() {
                self.believes_up.get(n as usize) == Some(&true)
            } else {
                self.view.get(n as usize) == Some(&Status::Alive)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame;

    #[test]
    fn every_envelope_round_trips_through_a_frame() {
        let all = [
            Wire::Hello {
                from: 2,
                cluster: 99,
            },
            Wire::Peer(Msg::StoreAck { req: 5, ok: true }),
            Wire::Client {
                op_id: 1,
                op: Op::Put { key: 3, value: 4 },
            },
            Wire::Reply {
                op_id: 1,
                reply: Reply::Busy,
            },
            Wire::Status,
        ];
        for w in &all {
            let f = frame::encode(w).unwrap();
            assert_eq!(&frame::decode::<Wire>(&f).unwrap(), w);
        }
    }
}
