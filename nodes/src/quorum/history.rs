//! A client history of the quorum store, as JSON lines: what either runtime records of the
//! operations it ran, and what the simulator's history checkers read back.
//!
//! A line has the keys of a simulator trace line (`t_ns`, `node`, `event`, `detail`) plus the
//! operation in structured form, so a history can be checked after the fact, not only watched
//! as it happens:
//!
//! ```text
//! {"t_ns":1250300,"node":2,"event":"invoke","detail":"op 17 Put { key: 3, value: 18 }","op_id":17,"client":4,"op":{"Put":{"key":3,"value":18}}}
//! {"t_ns":9120000,"node":2,"event":"reply","detail":"op 17 -> Written(..)","op_id":17,"client":4,"reply":{"Written":[...]}}
//! {"t_ns":9900000,"node":null,"event":"nemesis","detail":"kill n1"}
//! ```
//!
//! Events: `invoke` (the client handed `op` to coordinator `node`), `reply` (it answered),
//! `lost` (the client gave up waiting — the coordinator died, froze or timed out, so the
//! operation may or may not have taken effect), `rejected` (the coordinator could not be
//! reached at all: the operation never started), and `nemesis` (a fault injected or undone;
//! for people). Lines are in time order; `t_ns` counts from the start of the run (virtual
//! time in the simulator, the monotonic clock in a real run).

use serde::{Deserialize, Serialize};

use super::msg::{Op, Reply};
use crate::{NodeId, OpId};

/// The `event` of an invocation.
pub const INVOKE: &str = "invoke";
/// The `event` of a reply.
pub const REPLY: &str = "reply";
/// The `event` of an operation whose outcome is unknown.
pub const LOST: &str = "lost";
/// The `event` of an operation that never reached its coordinator.
pub const REJECTED: &str = "rejected";
/// The `event` of a fault injected or undone.
pub const NEMESIS: &str = "nemesis";

/// One line of a history; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// When, in nanoseconds from the start of the run.
    pub t_ns: u64,
    /// The coordinator, or `None` for a nemesis line.
    pub node: Option<NodeId>,
    /// `invoke`, `reply`, `lost`, `rejected` or `nemesis`.
    pub event: String,
    /// What happened, for people.
    pub detail: String,
    /// The operation's id, unique in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_id: Option<OpId>,
    /// The client that ran it (a real run has several concurrent clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<u32>,
    /// The operation, on `invoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    /// The answer, on `reply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
}

impl HistoryLine {
    /// Client `client` handed `op` (id `op_id`) to `node` at `t_ns`.
    pub fn invoke(t_ns: u64, client: u32, op_id: OpId, node: NodeId, op: Op) -> HistoryLine {
        HistoryLine {
            t_ns,
            node: Some(node),
            event: INVOKE.into(),
            detail: format!("op {op_id} {op:?}"),
            op_id: Some(op_id),
            client: Some(client),
            op: Some(op),
            reply: None,
        }
    }

    /// `node` answered operation `op_id` with `reply` at `t_ns`.
    pub fn reply(t_ns: u64, client: u32, op_id: OpId, node: NodeId, reply: Reply) -> HistoryLine {
        HistoryLine {
            t_ns,
            node: Some(node),
            event: REPLY.into(),
            detail: format!("op {op_id} -> {reply:?}"),
            op_id: Some(op_id),
            client: Some(client),
            op: None,
            reply: Some(reply),
        }
    }

    /// Operation `op_id`'s outcome is unknown (`why`), as of `t_ns`.
    pub fn lost(t_ns: u64, client: u32, op_id: OpId, node: NodeId, why: &str) -> HistoryLine {
        HistoryLine {
            t_ns,
            node: Some(node),
            event: LOST.into(),
            detail: format!("op {op_id}: {why}"),
            op_id: Some(op_id),
            client: Some(client),
            op: None,
            reply: None,
        }
    }

    /// Operation `op_id` (`op`) never reached `node` (`why`): it did not start, and it has no
    /// `invoke` line.
    pub fn rejected(
        t_ns: u64,
        client: u32,
        op_id: OpId,
        node: NodeId,
        op: Op,
        why: &str,
    ) -> HistoryLine {
        HistoryLine {
            t_ns,
            node: Some(node),
            event: REJECTED.into(),
            detail: format!("op {op_id} {op:?}: {why}"),
            op_id: Some(op_id),
            client: Some(client),
            op: Some(op),
            reply: None,
        }
    }

    /// A fault injected or undone at `t_ns`.
    pub fn nemesis(t_ns: u64, what: String) -> HistoryLine {
        HistoryLine {
            t_ns,
            node: None,
            event: NEMESIS.into(),
            detail: what,
            op_id: None,
            client: None,
            op: None,
            reply: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_through_json_and_omit_what_they_lack() {
        let lines = [
            HistoryLine::invoke(5, 1, 7, 2, Op::Put { key: 3, value: 8 }),
            HistoryLine::reply(9, 1, 7, 2, Reply::Failed),
            HistoryLine::lost(9, 1, 8, 0, "no answer"),
            HistoryLine::rejected(9, 1, 9, 0, Op::Digest, "refused"),
            HistoryLine::nemesis(10, "kill n1".into()),
        ];
        for l in &lines {
            let s = serde_json::to_string(l).unwrap();
            assert_eq!(&serde_json::from_str::<HistoryLine>(&s).unwrap(), l, "{s}");
        }
        let s = serde_json::to_string(&lines[4]).unwrap();
        assert_eq!(
            s,
            r#"{"t_ns":10,"node":null,"event":"nemesis","detail":"kill n1"}"#
        );
    }
}
