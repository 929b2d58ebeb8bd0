//! The client library: admission, retries with exponential backoff and jitter, and the
//! convergence probe.
//!
//! A client operation handed to a node runs there (the node coordinates it). If the
//! coordinator gives up (`Failed`), the client waits `backoff · 2^try` plus a jitter drawn
//! uniformly from the same span out of the node's seeded stream, and tries again, up to
//! [`super::params::Params::client_retries`] times; then the operation fails with an unknown
//! outcome. A node runs at most [`super::params::Params::concurrency`] operations at once and
//! answers `Busy` beyond that — and while its store is not open.
//!
//! **Reconciliation rule.** A get returns every sibling. The client's value is the sibling
//! with the greatest `(timestamp, writer)` ([`super::version::Siblings::reconciled`]); a put
//! always carries the merged clock of what it read, so the write supersedes every sibling it
//! saw. Concurrent puts leave siblings that the next put collapses.

use super::msg::{Op, Reply};
use super::node::{QuorumNode, TIMER_CLIENT};
use crate::{Ctx, OpId};

impl QuorumNode {
    pub(crate) fn client_invoke(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Op) {
        if op == Op::Digest {
            let reply = match self.open.as_ref() {
                None => Reply::Busy,
                Some(o) => Reply::Digest {
                    roots: self
                        .my_ranges
                        .iter()
                        .map(|&r| (r as u32, o.forest.root(r)))
                        .collect(),
                    hints: self.hints_held(1 << 16),
                },
            };
            return ctx.reply(op_id, reply);
        }
        if self.open.is_none() || self.in_flight >= self.p.concurrency {
            return ctx.reply(op_id, Reply::Busy);
        }
        self.in_flight += 1;
        self.start_request(ctx, op_id, op, 0);
    }

    /// The coordinator finished try `client_try` of `op_id` with `reply`.
    pub(crate) fn finish_client(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        op_id: OpId,
        op: Op,
        client_try: u32,
        reply: Reply,
    ) {
        if reply == Reply::Failed && client_try < self.p.client_retries {
            return self.back_off(ctx, op_id, op, client_try);
        }
        assert!(self.in_flight > 0, "finishing an operation not in flight");
        self.in_flight -= 1;
        ctx.reply(op_id, reply);
    }

    fn back_off(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Op, client_try: u32) {
        let span = self.p.backoff_ns << client_try.min(16);
        let jitter = ctx.rng().below(span.max(1));
        ctx.set_timer(span + jitter, TIMER_CLIENT | op_id);
        self.backoff.insert(op_id, (op, client_try + 1));
    }

    pub(crate) fn client_backoff_done(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId) {
        let Some((op, client_try)) = self.backoff.remove(&op_id) else {
            return;
        };
        if self.open.is_none() {
            self.in_flight -= 1;
            return ctx.reply(op_id, Reply::Failed);
        }
        self.start_request(ctx, op_id, op, client_try);
    }
}
