//! A register replica and coordinator: ABD (Attiya, Bar-Noy, Dolev), with durable replicas.
//!
//! Every node is both a replica (holds a stamped value on its disk) and a coordinator (serves
//! client operations). A client operation runs two phases against majorities:
//! - **write(v)**: query a majority for their stamps; pick a stamp above the highest; store
//!   `(stamp, v)` on a majority; reply `Written`.
//! - **read**: query a majority; take the highest `(stamp, value)`; store it back on a majority
//!   (so no later read can see less); reply with it.
//!
//! Any two majorities share a node, which is what makes this linearizable. Replicas persist
//! before acknowledging, so a crash loses nothing acknowledged. Lost messages are retried on a
//! timer; after [`RETRIES_MAX`] retries the operation times out (its outcome unknown).
//!
//! A replica whose state file cannot be read after a restart (EIO, a flipped bit) does not
//! serve until a retry reads it: answering with an empty state would un-write acknowledged
//! values. The planted bugs ([`Bug`]) each remove one of these precautions.

use std::collections::BTreeMap;

use rand::RngCore;

use super::msg::{RegMsg, RegOp, RegReply, Stamp};
use super::store::{self, State};
use super::Bug;
use crate::node::{Ctx, Node, NodeId, OpId, TimerId};
use crate::time::ms;

/// Local time between retries of a phase.
pub const RETRY_NS: u64 = ms(20);
/// Retries before an operation times out.
pub const RETRIES_MAX: u32 = 30;
/// Operations one coordinator runs at once, at most (more are answered `TimedOut` at once).
pub const IN_FLIGHT_MAX: usize = 1_024;
/// The timer that retries reading the state file.
const LOAD_TIMER: TimerId = 0;

#[derive(Debug)]
enum Phase {
    Query { best: State },
    Store { state: State },
}

#[derive(Debug)]
struct Coord {
    op_id: OpId,
    op: RegOp,
    phase: Phase,
    acks: u64,
    retries: u32,
}

/// One register node; see the module docs.
#[derive(Debug)]
pub struct RegisterNode {
    bug: Bug,
    /// `None` while the state file could not be read: the replica does not serve.
    state: Option<State>,
    coords: BTreeMap<u64, Coord>,
}

impl RegisterNode {
    /// A node with no state loaded yet.
    pub fn new(bug: Bug) -> Self {
        RegisterNode {
            bug,
            state: None,
            coords: BTreeMap::new(),
        }
    }

    fn majority(ctx: &Ctx<'_, Self>) -> u32 {
        ctx.node_count() / 2 + 1
    }

    fn load(&mut self, ctx: &mut Ctx<'_, Self>) {
        match store::load(ctx.disk().as_ref()) {
            Ok(s) => self.state = Some(s.unwrap_or_default()),
            Err(_) => {
                self.state = None;
                ctx.set_timer(RETRY_NS, LOAD_TIMER);
            }
        }
    }

    fn broadcast(ctx: &mut Ctx<'_, Self>, acks: u64, msg: RegMsg) {
        for to in 0..ctx.node_count() {
            if acks & (1u64 << to) == 0 {
                ctx.send(to, msg);
            }
        }
    }

    fn phase_msg(req: u64, c: &Coord) -> RegMsg {
        match c.phase {
            Phase::Query { .. } => RegMsg::Query { req },
            Phase::Store { state } => RegMsg::Store {
                req,
                stamp: state.stamp,
                value: state.value,
            },
        }
    }

    fn on_query_reply(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, req: u64, got: State) {
        let majority = Self::majority(ctx);
        let Some(c) = self.coords.get_mut(&req) else {
            return;
        };
        let Phase::Query { best } = &mut c.phase else {
            return;
        };
        c.acks |= 1u64 << from;
        if got.stamp > best.stamp {
            *best = got;
        }
        if c.acks.count_ones() < majority {
            return;
        }
        let best = *best;
        let state = match c.op {
            RegOp::Write(value) => State {
                stamp: Stamp {
                    counter: best.stamp.counter + 1,
                    writer: ctx.id(),
                    nonce: ctx.rng().next_u64(),
                },
                value,
            },
            RegOp::Read if self.bug == Bug::NoWriteBack => {
                let op_id = c.op_id;
                self.coords.remove(&req);
                ctx.reply(
                    op_id,
                    RegReply::Read {
                        stamp: best.stamp,
                        value: best.value,
                    },
                );
                return;
            }
            RegOp::Read => best,
        };
        c.phase = Phase::Store { state };
        c.acks = 0;
        let msg = Self::phase_msg(req, c);
        Self::broadcast(ctx, 0, msg);
    }

    fn on_store_ack(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, req: u64) {
        let majority = Self::majority(ctx);
        let Some(c) = self.coords.get_mut(&req) else {
            return;
        };
        let Phase::Store { state } = c.phase else {
            return;
        };
        c.acks |= 1u64 << from;
        let needed = match (self.bug, c.op) {
            (Bug::StaleQuorum, RegOp::Write(_)) => 1,
            _ => majority,
        };
        if c.acks.count_ones() < needed {
            return;
        }
        let reply = match c.op {
            RegOp::Write(_) => RegReply::Written(state.stamp),
            RegOp::Read => RegReply::Read {
                stamp: state.stamp,
                value: state.value,
            },
        };
        let op_id = c.op_id;
        self.coords.remove(&req);
        ctx.reply(op_id, reply);
    }

    fn on_store(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, req: u64, incoming: State) {
        let Some(current) = self.state else { return };
        if incoming.stamp > current.stamp {
            let sync = self.bug != Bug::NoFsync;
            if store::save(ctx.disk().as_ref(), &incoming, sync).is_err() {
                return; // Not durable, so no ack; the coordinator retries.
            }
            self.state = Some(incoming);
        }
        if ctx.buggify("register/store-ack-lost") {
            return; // Durable but unacknowledged: the coordinator's retry path.
        }
        ctx.send(from, RegMsg::StoreAck { req });
    }
}

impl Node for RegisterNode {
    type Msg = RegMsg;
    type Op = RegOp;
    type Reply = RegReply;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // An empty disk: the initial state, which needs no file (see `store::load`).
        self.load(ctx);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.load(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: RegMsg) {
        match msg {
            RegMsg::Query { req } => {
                if let Some(s) = self.state {
                    ctx.send(
                        from,
                        RegMsg::QueryReply {
                            req,
                            stamp: s.stamp,
                            value: s.value,
                        },
                    );
                }
            }
            RegMsg::QueryReply { req, stamp, value } => {
                self.on_query_reply(ctx, from, req, State { stamp, value })
            }
            RegMsg::Store { req, stamp, value } => {
                self.on_store(ctx, from, req, State { stamp, value })
            }
            RegMsg::StoreAck { req } => self.on_store_ack(ctx, from, req),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId) {
        if timer == LOAD_TIMER {
            if self.state.is_none() {
                self.load(ctx);
            }
            return;
        }
        let Some(c) = self.coords.get_mut(&timer) else {
            return;
        };
        c.retries += 1;
        if c.retries > RETRIES_MAX {
            let op_id = c.op_id;
            self.coords.remove(&timer);
            ctx.reply(op_id, RegReply::TimedOut);
            return;
        }
        let (acks, msg) = (c.acks, Self::phase_msg(timer, c));
        Self::broadcast(ctx, acks, msg);
        ctx.set_timer(RETRY_NS, timer);
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: RegOp) {
        if self.coords.len() >= IN_FLIGHT_MAX {
            ctx.reply(op_id, RegReply::TimedOut);
            return;
        }
        let req = ctx.rng().next_u64() | 1; // never LOAD_TIMER
        let c = Coord {
            op_id,
            op,
            phase: Phase::Query {
                best: State::default(),
            },
            acks: 0,
            retries: 0,
        };
        Self::broadcast(ctx, 0, RegMsg::Query { req });
        self.coords.insert(req, c);
        ctx.set_timer(RETRY_NS, req);
    }
}
