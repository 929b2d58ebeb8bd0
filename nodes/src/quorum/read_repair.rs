//! Read repair: after a get, bring the replicas that answered with less up to the merge.
//!
//! The coordinator keeps a get open after answering the client until every replica replied or
//! the deadline passed. Each replica whose versions differ from the merge gets a `Repair` with
//! the merged set, which it *merges* into its own (a replica may have taken a newer write since
//! it answered; replacing would lose it — that is the planted `repair-overwrites` bug).

use super::coordinator::{Phase, Request};
use super::msg::Msg;
use super::node::QuorumNode;
use crate::Ctx;

impl QuorumNode {
    /// Send repairs for a finished get.
    pub(crate) fn read_repair(&mut self, ctx: &mut Ctx<'_, Self>, rq: Request) {
        let Phase::Fetch {
            replies, merged, ..
        } = rq.phase
        else {
            return;
        };
        let Some(key) = rq.op.key() else { return };
        for (node, sibs) in replies {
            if sibs != merged {
                ctx.send(
                    node,
                    Msg::Repair {
                        key,
                        sibs: merged.clone(),
                    },
                );
            }
        }
    }
}
