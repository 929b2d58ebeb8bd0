//! A SWIM member with Lifeguard's options: the node that probes, suspects, refutes, declares
//! failed, gossips, joins and leaves.
//!
//! **Each period** (`T`, stretched by local health awareness) the node
//! 1. closes the previous probe: acked → health improves; not acked → the target is suspected
//!    (and health worsens by one, or by the relays that did not even nack);
//! 2. every `push_pull_periods`, swaps whole tables with one random member it knows — failed
//!    ones included, which is how two sides of a healed partition find each other again;
//! 3. probes the next member of its shuffled round-robin ([`super::detector::ProbeOrder`]):
//!    a ping; after the probe timeout without an ack, ping-req to `k` others, who ping the
//!    target and relay its ack (or, with Lifeguard, send a nack when they hear nothing).
//!
//! **Updates** ride on every ping, ack and ping-req ([`super::queue`]). A member hearing that
//! it is suspected or failed at its current incarnation *refutes*: it raises its incarnation
//! and gossips itself alive. A suspicion not refuted within the suspicion timeout
//! ([`super::lifeguard`]) becomes failed.
//!
//! **Join** through seeds (ids `0..seeds`): push-pull with each, retried until one answers.
//! Anti-entropy never spreads "failed" as such: a pulled `failed` counts as a suspicion, so
//! each member decides failure itself (memberlist does the same).
//!
//! **Crash, stop, leave.** A crash loses memory; the restarted member rejoins with
//! incarnation 0 and refutes its way back above its old incarnation. A `Stop` operation
//! silences the member for the rest of the run (crash-stop); `Leave` announces the departure
//! to `k` members first.
//!
//! For checkers and metrics, each handler leaves a journal of what changed in this node's view
//! ([`Note`]), reset at the next handler. What it sent, the runtime counts (per
//! [`crate::Message::kind`]).

use std::collections::{BTreeMap, BTreeSet};

use super::detector::{shuffle, Probe, ProbeOrder, Relay, Suspicion, Suspicions, RELAYS_MAX};
use super::lifeguard::{suspicion_timeout_ns, Awareness};
use super::member::{Applied, Membership};
use super::msg::{GossipMsg, GossipOp, GossipReply, Status, Update};
use super::params::{Bug, Params};
use super::queue::Queue;
use crate::{Ctx, Node, NodeId, OpId, TimerId};

/// Why a member went silent for the rest of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// Crash-stop (a `Stop` operation).
    Stopped,
    /// Graceful leave.
    Left,
}

/// What one handler changed, for checkers and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// This node's belief about `subject` changed.
    View {
        /// The member.
        subject: NodeId,
        /// Believed state now.
        status: Status,
        /// At this incarnation.
        incarnation: u32,
    },
    /// This node went silent for good.
    Gone(Gone),
    /// This node refuted a suspicion about itself.
    Refuted,
}

/// Notes one handler may leave, at most (a push-pull of a full table is the most).
pub const NOTES_PER_EVENT_MAX: usize = 8 * crate::MAX_NODES as usize;

const KIND_SHIFT: u32 = 56;
const TICK: u64 = 1;
const PROBE_TIMEOUT: u64 = 2;
const RELAY_TIMEOUT: u64 = 3;
const SUSPICION: u64 = 4;
const JOIN_RETRY: u64 = 5;
const SUBJECT_BITS: u32 = 20;

fn timer(kind: u64, payload: u64) -> TimerId {
    assert!(payload < 1 << KIND_SHIFT);
    kind << KIND_SHIFT | payload
}

/// A member; see the module docs.
#[derive(Debug)]
pub struct GossipNode {
    p: Params,
    gone: Option<Gone>,
    incarnation: u32,
    members: Membership,
    queue: Queue,
    order: ProbeOrder,
    probe: Option<Probe>,
    next_seq: u32,
    relays: BTreeMap<u32, Relay>,
    suspicions: Suspicions,
    next_suspicion: u64,
    awareness: Awareness,
    joined: bool,
    ticks: u64,
    push_pull_phase: u64,
    journal: Vec<Note>,
}

impl GossipNode {
    /// A fresh member of a cluster of `nodes`; `gone` builds one that stays silent (it
    /// stopped or left earlier in the run and the world restarted it after a crash).
    pub fn new(p: Params, nodes: u32, gone: Option<Gone>) -> Self {
        GossipNode {
            p,
            gone,
            incarnation: 0,
            members: Membership::new(nodes),
            queue: Queue::new(),
            order: ProbeOrder::planted(p.bug),
            probe: None,
            next_seq: 0,
            relays: BTreeMap::new(),
            suspicions: BTreeMap::new(),
            next_suspicion: 0,
            awareness: Awareness::new(p.awareness_max),
            joined: false,
            ticks: 0,
            push_pull_phase: 0,
            journal: Vec::new(),
        }
    }

    /// This node's membership view (what other workloads embed).
    pub fn membership(&self) -> &Membership {
        &self.members
    }

    /// What the last handler changed.
    pub fn journal(&self) -> &[Note] {
        &self.journal
    }

    /// Whether the node went silent.
    pub fn gone(&self) -> Option<Gone> {
        self.gone
    }

    /// The local health score (0 = healthy).
    pub fn awareness(&self) -> u32 {
        self.awareness.score()
    }

    /// Protocol periods begun since boot (each probes one member).
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    fn begin(&mut self) {
        self.journal.clear();
    }

    fn note(&mut self, n: Note) {
        assert!(self.journal.len() < NOTES_PER_EVENT_MAX, "note storm");
        self.journal.push(n);
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: GossipMsg) {
        ctx.send(to, msg);
    }

    fn limit(&self) -> u32 {
        self.p.retransmit_limit(self.members.live_count().max(1))
    }

    fn piggyback(&mut self, first: Option<NodeId>) -> Vec<Update> {
        let limit = self.limit();
        let mut out = Vec::with_capacity(self.p.piggyback_max as usize);
        self.queue
            .take(self.p.piggyback_max as usize, limit, first, &mut out);
        out
    }

    fn set(&mut self, subject: NodeId, status: Status, incarnation: u32) -> Applied {
        let a = self.members.set(subject, status, incarnation);
        if a != Applied::Ignored {
            self.note(Note::View {
                subject,
                status,
                incarnation,
            });
        }
        a
    }

    fn boot(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(g) = self.gone {
            self.note(Note::Gone(g));
            return;
        }
        let me = ctx.id();
        self.set(me, Status::Alive, 0);
        self.queue.push(self.alive_self(me));
        self.push_pull_phase = ctx.rng().below(u64::from(self.p.push_pull_periods));
        self.join(ctx);
        // A random phase, so members do not all probe in lockstep.
        let phase = ctx.rng().below(self.p.period_ns);
        ctx.set_timer(phase + 1, timer(TICK, 0));
    }

    fn alive_self(&self, me: NodeId) -> Update {
        Update {
            subject: me,
            status: Status::Alive,
            incarnation: self.incarnation,
            by: me,
        }
    }

    fn join(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let seeds = self.p.seeds.min(ctx.node_count());
        for s in (0..seeds).filter(|&s| s != me) {
            let state = self.members.snapshot(me);
            self.send(ctx, s, GossipMsg::PushPull { state, reply: true });
        }
        if seeds > 1 || me >= seeds {
            ctx.set_timer(5 * self.p.period_ns, timer(JOIN_RETRY, 0));
        } else {
            self.joined = true; // The only seed: nobody to join.
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        self.ticks += 1;
        self.close_probe(ctx);
        if self.ticks % u64::from(self.p.push_pull_periods) == self.push_pull_phase {
            self.push_pull(ctx);
        }
        let members = &self.members;
        let eligible =
            |n: NodeId| n != me && matches!(members.status(n), Status::Alive | Status::Suspect);
        let target = self.order.next(ctx.rng(), eligible, || {
            (0..members.len()).filter(|&n| eligible(n)).collect()
        });
        if let Some(target) = target {
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            self.probe = Some(Probe {
                seq,
                target,
                acked: false,
                relays: 0,
                nacks: 0,
            });
            let mut updates = self.piggyback(None);
            let m = self.members.get(target);
            if self.p.lifeguard.buddy && m.status == Status::Suspect {
                // Buddy system: tell the suspect first, whether or not the news is still
                // queued (it rarely is by the time round-robin comes back to it).
                updates.retain(|u| u.subject != target);
                updates.truncate((self.p.piggyback_max as usize).saturating_sub(1));
                updates.insert(
                    0,
                    Update {
                        subject: target,
                        status: Status::Suspect,
                        incarnation: m.incarnation,
                        by: me,
                    },
                );
            }
            self.send(ctx, target, GossipMsg::Ping { seq, updates });
            let wait = self.awareness.scale(self.p.probe_timeout_used_ns());
            ctx.set_timer(wait, timer(PROBE_TIMEOUT, u64::from(seq)));
        }
        let mut period = self.awareness.scale(self.p.period_ns);
        if self.p.bug == Bug::SlowProbe {
            period += self.p.period_ns;
        }
        ctx.set_timer(period, timer(TICK, 0));
    }

    /// The verdict on the probe in flight: acked → health improves; not → suspect the target.
    fn close_probe(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let Some(p) = self.probe.take() else { return };
        if p.acked {
            self.health(-1);
            return;
        }
        let missed = p.relays.saturating_sub(p.nacks);
        let delta = if self.p.lifeguard.lha && p.relays > 0 {
            missed
        } else {
            1
        };
        self.health(delta as i32);
        let m = self.members.get(p.target);
        if matches!(m.status, Status::Alive | Status::Suspect) {
            let u = Update {
                subject: p.target,
                status: Status::Suspect,
                incarnation: m.incarnation,
                by: me,
            };
            self.merge(ctx, me, u, false);
        }
    }

    fn health(&mut self, delta: i32) {
        if self.p.lifeguard.lha {
            self.awareness.apply(self.p.bug.health_delta(delta));
        }
    }

    fn push_pull(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let candidates: Vec<NodeId> = (0..self.members.len())
            .filter(|&n| {
                n != me
                    && matches!(
                        self.members.status(n),
                        Status::Alive | Status::Suspect | Status::Failed
                    )
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let to = candidates[ctx.rng().below(candidates.len() as u64) as usize];
        let state = self.members.snapshot(me);
        self.send(ctx, to, GossipMsg::PushPull { state, reply: true });
    }

    fn probe_timeout(&mut self, ctx: &mut Ctx<'_, Self>, seq: u32) {
        let Some(p) = self.probe else { return };
        if p.seq != seq || p.acked {
            return;
        }
        if self.p.bug == Bug::TimeoutUnits {
            return self.close_probe(ctx); // The verdict, far too early.
        }
        let me = ctx.id();
        let mut helpers: Vec<NodeId> = (0..self.members.len())
            .filter(|&n| {
                n != me
                    && n != p.target
                    && self.p.bug.relay_view(self.members.status(n)) == Status::Alive
            })
            .collect();
        shuffle(ctx.rng(), &mut helpers);
        helpers.truncate(self.p.indirect_k as usize);
        for &h in &helpers {
            let updates = self.piggyback(None);
            self.send(
                ctx,
                h,
                GossipMsg::PingReq {
                    seq,
                    target: p.target,
                    updates,
                },
            );
        }
        if let Some(p) = self.probe.as_mut() {
            p.relays = helpers.len() as u32;
        }
    }

    /// Fold one update in. `from` sent it; `pulled` marks anti-entropy (where "failed" counts
    /// only as a suspicion).
    fn merge(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, mut u: Update, pulled: bool) {
        let me = ctx.id();
        if u.subject >= self.members.len() || u.status == Status::Unknown {
            return;
        }
        if u.subject == me {
            return self.about_me(ctx, self.p.bug.heard_about_me(u));
        }
        if pulled && u.status == Status::Failed {
            u.status = Status::Suspect;
            u.by = from;
        }
        let before = self.members.get(u.subject);
        if u.status == Status::Suspect
            && before.status == Status::Suspect
            && before.incarnation == u.incarnation
        {
            return self.confirm(ctx, u);
        }
        let final_bug = self.p.bug == Bug::FailedIsFinal;
        let same_inc_alive = self.p.bug == Bug::AliveClearsSuspicion
            && u.status == Status::Alive
            && before.status == Status::Suspect
            && u.incarnation == before.incarnation;
        if !self.members.wins(&u, final_bug) && !same_inc_alive {
            return;
        }
        self.set(u.subject, u.status, u.incarnation);
        if before.status == Status::Unknown && matches!(u.status, Status::Alive | Status::Suspect) {
            self.order.insert(ctx.rng(), u.subject);
        }
        self.queue.push(u);
        self.suspicions.remove(&u.subject);
        if u.status == Status::Suspect {
            self.suspect(ctx, u);
        }
    }

    fn about_me(&mut self, ctx: &mut Ctx<'_, Self>, u: Update) {
        let me = ctx.id();
        let newer = u.incarnation > self.incarnation;
        let accused = u.incarnation == self.incarnation
            && matches!(u.status, Status::Suspect | Status::Failed);
        if u.status == Status::Left || !(newer || accused) || self.p.bug == Bug::NoRefute {
            return;
        }
        self.incarnation = u.incarnation + 1;
        self.set(me, Status::Alive, self.incarnation);
        self.queue.push(self.alive_self(me));
        self.note(Note::Refuted);
        if accused {
            self.health(1);
        }
    }

    fn suspect(&mut self, ctx: &mut Ctx<'_, Self>, u: Update) {
        let id = self.next_suspicion;
        self.next_suspicion += 1;
        let mut accusers = BTreeSet::new();
        accusers.insert(u.by);
        self.suspicions.insert(
            u.subject,
            Suspicion {
                incarnation: u.incarnation,
                start_local_ns: ctx.local_ns(),
                accusers,
                generation: id as u32,
            },
        );
        let timeout = self.suspicion_timeout(1);
        self.arm_suspicion(ctx, u.subject, id, timeout);
    }

    fn arm_suspicion(&mut self, ctx: &mut Ctx<'_, Self>, subject: NodeId, id: u64, delay: u64) {
        if self.p.bug == Bug::SuspicionNeverExpires {
            return;
        }
        let payload = (id << SUBJECT_BITS) | u64::from(subject);
        ctx.set_timer(delay, timer(SUSPICION, payload & ((1 << KIND_SHIFT) - 1)));
    }

    /// The suspicion timeout with `accusers` independent accusers (Lifeguard, or fixed).
    fn suspicion_timeout(&self, accusers: u32) -> u64 {
        let n = self.members.live_count();
        let min = self.p.suspicion_min_ns(n);
        if !self.p.lifeguard.dynamic_suspicion {
            return min;
        }
        let max = min * u64::from(self.p.suspicion_max_mult);
        let k = self.p.suspicion_mult.saturating_sub(2);
        let k = if n.saturating_sub(2) < k { 0 } else { k };
        suspicion_timeout_ns(min, max, k, accusers.saturating_sub(1))
    }

    /// Another member independently suspects what we suspect: the timeout may shrink. The
    /// first timer stays armed, so a suspicion never lasts longer than its first timeout.
    fn confirm(&mut self, ctx: &mut Ctx<'_, Self>, u: Update) {
        let Some(s) = self.suspicions.get_mut(&u.subject) else {
            return;
        };
        if s.incarnation != u.incarnation || !s.accusers.insert(u.by) {
            return;
        }
        let (start, id, count) = (s.start_local_ns, u64::from(s.generation), s.accusers.len());
        self.queue.push(u); // Spread the confirmation too.
        if !self.p.lifeguard.dynamic_suspicion {
            return;
        }
        let timeout = self.suspicion_timeout(count as u32);
        let elapsed = ctx.local_ns().saturating_sub(start);
        self.arm_suspicion(ctx, u.subject, id, timeout.saturating_sub(elapsed).max(1));
    }

    fn expire(&mut self, ctx: &mut Ctx<'_, Self>, payload: u64) {
        let subject = (payload & ((1 << SUBJECT_BITS) - 1)) as NodeId;
        let id = payload >> SUBJECT_BITS;
        let Some(s) = self.suspicions.get(&subject) else {
            return;
        };
        if u64::from(s.generation) != id & u64::from(u32::MAX) {
            return;
        }
        let inc = s.incarnation;
        self.suspicions.remove(&subject);
        let m = self.members.get(subject);
        if m.status != Status::Suspect || m.incarnation != inc {
            return;
        }
        self.set(subject, Status::Failed, inc);
        self.queue.push(Update {
            subject,
            status: Status::Failed,
            incarnation: inc,
            by: ctx.id(),
        });
    }

    fn merge_all(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        updates: &[Update],
        pulled: bool,
    ) {
        for u in updates {
            self.merge(ctx, from, *u, pulled);
        }
    }

    fn leave(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        self.set(me, Status::Left, self.incarnation);
        let u = Update {
            subject: me,
            status: Status::Left,
            incarnation: self.incarnation,
            by: me,
        };
        let mut alive: Vec<NodeId> = (0..self.members.len())
            .filter(|&n| n != me && self.members.status(n) == Status::Alive)
            .collect();
        shuffle(ctx.rng(), &mut alive);
        alive.truncate(self.p.indirect_k.max(1) as usize);
        for to in alive {
            self.send(ctx, to, GossipMsg::Gossip { updates: vec![u] });
        }
        self.go(Gone::Left);
    }

    fn go(&mut self, g: Gone) {
        self.gone = Some(g);
        self.note(Note::Gone(g));
    }
}

impl Node for GossipNode {
    type Msg = GossipMsg;
    type Op = GossipOp;
    type Reply = GossipReply;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.begin();
        self.boot(ctx);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.begin();
        self.boot(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: GossipMsg) {
        self.begin();
        if self.gone.is_some() {
            return;
        }
        match msg {
            GossipMsg::Ping { seq, updates } => {
                self.merge_all(ctx, from, &updates, false);
                if ctx.buggify("gossip/ack-lost") {
                    return;
                }
                let updates = self.piggyback(None);
                self.send(ctx, from, GossipMsg::Ack { seq, updates });
            }
            GossipMsg::Ack { seq, updates } => {
                self.merge_all(ctx, from, &updates, false);
                if let Some(p) = self.probe.as_mut().filter(|p| p.seq == seq) {
                    p.acked = true;
                } else if let Some(r) = self.relays.remove(&seq) {
                    let updates = self.piggyback(None);
                    let msg = GossipMsg::Ack {
                        seq: r.origin_seq,
                        updates,
                    };
                    self.send(ctx, r.origin, msg);
                }
            }
            GossipMsg::PingReq {
                seq,
                target,
                updates,
            } => {
                self.merge_all(ctx, from, &updates, false);
                if self.relays.len() >= RELAYS_MAX || target >= self.members.len() {
                    return;
                }
                let own = self.next_seq;
                self.next_seq = self.next_seq.wrapping_add(1);
                self.relays.insert(
                    own,
                    Relay {
                        origin: from,
                        origin_seq: seq,
                    },
                );
                let updates = self.piggyback(None);
                self.send(ctx, target, GossipMsg::Ping { seq: own, updates });
                let wait = self.awareness.scale(self.p.probe_timeout_used_ns());
                ctx.set_timer(wait, timer(RELAY_TIMEOUT, u64::from(own)));
            }
            GossipMsg::Nack { seq } => {
                if let Some(p) = self.probe.as_mut().filter(|p| p.seq == seq) {
                    p.nacks += 1;
                }
            }
            GossipMsg::Gossip { updates } => self.merge_all(ctx, from, &updates, false),
            GossipMsg::PushPull { state, reply } => {
                self.joined = true;
                self.merge_all(ctx, from, &state, true);
                if reply {
                    let state = self.members.snapshot(ctx.id());
                    self.send(
                        ctx,
                        from,
                        GossipMsg::PushPull {
                            state,
                            reply: false,
                        },
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: TimerId) {
        self.begin();
        if self.gone.is_some() {
            return;
        }
        let payload = t & ((1 << KIND_SHIFT) - 1);
        match t >> KIND_SHIFT {
            TICK => self.tick(ctx),
            PROBE_TIMEOUT => self.probe_timeout(ctx, payload as u32),
            RELAY_TIMEOUT => {
                if let Some(r) = self.relays.remove(&(payload as u32)) {
                    if self.p.lifeguard.lha {
                        self.send(ctx, r.origin, GossipMsg::Nack { seq: r.origin_seq });
                    }
                }
            }
            SUSPICION => self.expire(ctx, payload),
            JOIN_RETRY => {
                if !self.joined {
                    self.join(ctx);
                }
            }
            other => unreachable!("gossip set no timer of kind {other}"),
        }
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: GossipOp) {
        self.begin();
        if self.gone.is_some() {
            ctx.reply(op_id, GossipReply::Silent);
            return;
        }
        match op {
            GossipOp::Stop => self.go(Gone::Stopped),
            GossipOp::Leave => self.leave(ctx),
            GossipOp::View => {
                ctx.reply(op_id, GossipReply::Members(self.members.live_count()));
                return;
            }
        }
        ctx.reply(op_id, GossipReply::Done);
    }
}
