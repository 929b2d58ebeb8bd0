//! The coordinator: runs one client operation against a key's replicas.
//!
//! Any node coordinates. A **get** sends `Fetch` to the key's N replicas and answers the client
//! once R have replied, with the merge of their versions; it keeps listening until all N
//! replied (or the deadline) for read repair ([`super::read_repair`]). A **put** (or delete)
//! first reads the context the same way (R replies), then builds the new version — the
//! context's clock ticked at this node, with a counter above any it handed out before, even
//! before a crash (boot epoch in the high bits) — sends it to the replicas, and answers once W
//! have acknowledged it durably.
//!
//! **Sloppy quorum.** A replica the membership view ([`super::membership`]) believes down, or
//! one that misses a deadline, is stood in for by the next unused fallback node on the ring,
//! which stores the version as a *hint* for it ([`super::handoff`]); its acknowledgement counts
//! towards W. A phase that has not reached its quorum after [`super::params::Params::phase_tries`]
//! deadlines fails; the client library may retry ([`super::client`]).

use super::msg::{Msg, Op, Reply};
use super::node::{QuorumNode, TIMER_REQ, TIMER_REQ_STORE};
use super::version::{Siblings, Version};
use super::Bug;
use crate::{Ctx, NodeId, OpId};

/// A request's phase.
#[derive(Debug)]
pub enum Phase {
    /// Collecting versions.
    Fetch {
        /// (replica, its versions), one per replica that answered.
        replies: Vec<(NodeId, Siblings)>,
        /// Their merge.
        merged: Siblings,
        /// Whether the client has its answer (a get past R, waiting for read repair).
        answered: bool,
    },
    /// Writing a version.
    Store {
        /// The version.
        version: Version,
        /// (node, the replica it stands in for when a fallback), in the order sent.
        targets: Vec<(NodeId, Option<NodeId>)>,
        /// Nodes that acknowledged, one bit each.
        acked: u64,
    },
}

/// One operation this node coordinates.
#[derive(Debug)]
pub struct Request {
    /// The client operation.
    pub op_id: OpId,
    /// What it asks.
    pub op: Op,
    /// The key's range.
    pub range: usize,
    /// Where it is.
    pub phase: Phase,
    /// Deadlines passed in this phase.
    pub tries: u32,
    /// Client tries before this one.
    pub client_try: u32,
}

impl QuorumNode {
    /// Start coordinating `op` (a get, put or delete) for client operation `op_id`.
    pub(crate) fn start_request(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        op_id: OpId,
        op: Op,
        client_try: u32,
    ) {
        let key = op.key().expect("only keyed operations are coordinated");
        let epoch = self.open.as_ref().map_or(0, |o| o.epoch);
        self.seq += 1;
        let req = (epoch << 32) | (self.seq & 0xffff_ffff);
        let range = self.p.ring.range_of(key);
        for &to in self.p.ring.preference(range) {
            ctx.send(to, Msg::Fetch { req, key });
        }
        ctx.set_timer(self.p.timeout_ns, TIMER_REQ | req);
        let prev = self.reqs.insert(
            req,
            Request {
                op_id,
                op,
                range,
                phase: Phase::Fetch {
                    replies: Vec::with_capacity(self.p.n as usize),
                    merged: Siblings::default(),
                    answered: false,
                },
                tries: 0,
                client_try,
            },
        );
        assert!(prev.is_none(), "request numbers are unique");
    }

    pub(crate) fn on_fetch_reply(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        req: u64,
        sibs: Option<Siblings>,
    ) {
        let (n, r, mode, bug) = (
            self.p.n as usize,
            self.p.r as usize,
            self.p.mode,
            self.p.bug,
        );
        let Some(rq) = self.reqs.get_mut(&req) else {
            return;
        };
        let Phase::Fetch {
            replies,
            merged,
            answered,
        } = &mut rq.phase
        else {
            return;
        };
        let Some(sibs) = sibs else { return };
        if replies.iter().any(|(node, _)| *node == from) {
            return; // a duplicate
        }
        merged.merge(&sibs, mode);
        replies.push((from, sibs));
        let need = match rq.op {
            Op::Get { all: true, .. } => n,
            Op::Get { .. } if bug == Bug::ReadShortOfR => r.saturating_sub(1).max(1),
            _ => r,
        };
        if !*answered && replies.len() >= need {
            *answered = true;
            match rq.op {
                Op::Get { .. } => {
                    let got = Reply::Got(merged.clone(), replies.clone());
                    let (op_id, client_try, op) = (rq.op_id, rq.client_try, rq.op.clone());
                    self.finish_client(ctx, op_id, op, client_try, got);
                }
                Op::Put { .. } | Op::Delete { .. } => return self.start_store(ctx, req),
                Op::Digest => unreachable!("digests are not coordinated"),
            }
        }
        let rq = self.reqs.get(&req).expect("still held");
        if let Phase::Fetch { replies, .. } = &rq.phase {
            if replies.len() == n {
                let rq = self.reqs.remove(&req).expect("still held");
                self.read_repair(ctx, rq);
            }
        }
    }

    fn start_store(&mut self, ctx: &mut Ctx<'_, Self>, req: u64) {
        let me = ctx.id();
        let now = ctx.local_ns();
        // The boot epoch in the counter's high bits keeps this node's dots above every one it
        // handed out before a crash. With no open store (it failed and is reopening) there is
        // no durable epoch: a counter made with epoch 0 would sit below the context's, the
        // context's + 1 would win, and two puts of one key would get one dot — versions that
        // compare as one event and never converge (seed 4366 of `quorum --set sync=group
        // --set membership=gossip`). Such a put fails; the client tries another node.
        let Some(epoch) = self.open.as_ref().map(|o| o.epoch) else {
            let rq = self.reqs.remove(&req).expect("held");
            return self.finish_client(ctx, rq.op_id, rq.op, rq.client_try, Reply::Failed);
        };
        let counter_min = (epoch << 40) | (self.seq & 0xff_ffff_ffff);
        self.seq += 1;
        let rq = self.reqs.get_mut(&req).expect("held");
        let Phase::Fetch { merged, .. } = &rq.phase else {
            unreachable!("store follows fetch")
        };
        let mut clock = merged.context();
        clock.tick(me, counter_min, now);
        let value = match rq.op {
            Op::Put { value, .. } => Some(value),
            _ => None,
        };
        let version = Version {
            clock,
            ts_ns: now,
            writer: me,
            value,
        };
        let key = rq.op.key().expect("keyed");
        let mut targets = Vec::with_capacity(self.p.n as usize + 2);
        let pref = self.p.ring.preference(rq.range);
        let mut fallbacks = self.p.ring.fallbacks(rq.range).iter();
        for &to in pref {
            let up = QuorumNode::up_in(&self.swim, &self.members, self.mono_ns, to)
                && !(self.p.bug == Bug::HintForUp && to == pref[0]);
            if !up && self.p.sloppy && self.p.bug != Bug::NoStandInAtStart {
                if let Some(&f) = fallbacks
                    .find(|&&f| QuorumNode::up_in(&self.swim, &self.members, self.mono_ns, f))
                {
                    targets.push((f, Some(to)));
                    continue;
                }
            }
            targets.push((to, None));
        }
        for &(to, hint_for) in &targets {
            ctx.send(
                to,
                Msg::Store {
                    req,
                    key,
                    version: Box::new(version.clone()),
                    hint_for,
                },
            );
        }
        rq.phase = Phase::Store {
            version,
            targets,
            acked: 0,
        };
        rq.tries = 0;
        ctx.set_timer(self.p.timeout_ns, TIMER_REQ | TIMER_REQ_STORE | req);
    }

    pub(crate) fn on_store_ack(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        req: u64,
        ok: bool,
    ) {
        let w = match self.p.bug {
            Bug::AckShortOfW => self.p.w.saturating_sub(1).max(1),
            _ => self.p.w,
        };
        let Some(rq) = self.reqs.get_mut(&req) else {
            return;
        };
        let Phase::Store {
            version,
            targets,
            acked,
        } = &mut rq.phase
        else {
            return;
        };
        if !ok || !targets.iter().any(|t| t.0 == from) {
            return;
        }
        *acked |= 1 << from;
        if acked.count_ones() >= w {
            let v = version.clone();
            let direct = targets
                .iter()
                .filter(|t| t.1.is_none() && *acked & (1 << t.0) != 0)
                .fold(0u64, |m, t| m | (1 << t.0));
            let rq = self.reqs.remove(&req).expect("held");
            self.finish_client(
                ctx,
                rq.op_id,
                rq.op,
                rq.client_try,
                Reply::Written(v, direct),
            );
        }
    }

    /// Whether a phase that has now passed `tries` deadlines gives up: at `phase_tries` (the
    /// planted bugs `give-up-early` and `never-give-up` break the rule).
    fn gives_up(&self, tries: u32) -> bool {
        match self.p.bug {
            Bug::GiveUpEarly => true,
            Bug::NeverGiveUp => false,
            _ => tries >= self.p.phase_tries,
        }
    }

    /// A deadline of request `req`'s store phase (`store`) or fetch phase passed: suspect the
    /// silent, retry (with fallbacks), or give up. A deadline of a phase the request has left
    /// is stale: the phase it is in armed its own.
    pub(crate) fn on_deadline(&mut self, ctx: &mut Ctx<'_, Self>, req: u64, store: bool) {
        let mono = self.mono_ns;
        let (sloppy, bug) = (self.p.sloppy, self.p.bug);
        match self.reqs.get(&req) {
            Some(rq) if matches!(rq.phase, Phase::Store { .. }) == store => {}
            _ => return,
        }
        let Some(mut rq) = self.reqs.remove(&req) else {
            return;
        };
        let key = rq.op.key().expect("keyed");
        let pref = self.p.ring.preference(rq.range);
        match &mut rq.phase {
            Phase::Fetch {
                replies, answered, ..
            } => {
                for &to in pref {
                    if !replies.iter().any(|(n, _)| *n == to) {
                        super::membership::Membership::missed(&mut self.members, to, mono);
                    }
                }
                if *answered {
                    return self.read_repair(ctx, rq);
                }
                rq.tries += 1;
                if self.gives_up(rq.tries) {
                    return self.finish_client(ctx, rq.op_id, rq.op, rq.client_try, Reply::Failed);
                }
                for &to in pref {
                    if !replies.iter().any(|(n, _)| *n == to) || bug == Bug::FetchResendToAll {
                        ctx.send(to, Msg::Fetch { req, key });
                    }
                }
            }
            Phase::Store {
                version,
                targets,
                acked,
            } => {
                rq.tries += 1;
                if self.gives_up(rq.tries) {
                    for &(to, _) in targets.iter() {
                        if *acked & (1 << to) == 0 {
                            super::membership::Membership::missed(&mut self.members, to, mono);
                        }
                    }
                    return self.finish_client(ctx, rq.op_id, rq.op, rq.client_try, Reply::Failed);
                }
                let silent: Vec<(NodeId, Option<NodeId>)> = targets
                    .iter()
                    .copied()
                    .filter(|&(to, _)| *acked & (1 << to) == 0)
                    .collect();
                for (to, hint_for) in silent {
                    super::membership::Membership::missed(&mut self.members, to, mono);
                    ctx.send(
                        to,
                        Msg::Store {
                            req,
                            key,
                            version: Box::new(version.clone()),
                            hint_for,
                        },
                    );
                    if !sloppy {
                        continue;
                    }
                    // Stand in for a silent replica with the next unused fallback.
                    let intended = hint_for.unwrap_or(to);
                    let used = |f: &NodeId| targets.iter().any(|t| t.0 == *f);
                    let next = self
                        .p
                        .ring
                        .fallbacks(rq.range)
                        .iter()
                        .copied()
                        .find(|f| !used(f) && bug != Bug::NoDeadlineStandIn);
                    if let Some(f) = next {
                        targets.push((f, Some(intended)));
                        ctx.send(
                            f,
                            Msg::Store {
                                req,
                                key,
                                version: Box::new(version.clone()),
                                hint_for: Some(intended),
                            },
                        );
                    }
                }
            }
        }
        let phase_bit = if store { TIMER_REQ_STORE } else { 0 };
        ctx.set_timer(self.p.timeout_ns, TIMER_REQ | phase_bit | req);
        self.reqs.insert(req, rq);
    }
}
