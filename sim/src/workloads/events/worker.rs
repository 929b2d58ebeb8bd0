//! A function worker: polls the queue, runs the handler on each message, applies its effect
//! through the table, deletes the message — the loop Lambda's SQS event source runs.
//!
//! - **Concurrency limit.** At most `concurrency` invocations at once; a worker polls for no
//!   more messages than it has room for.
//! - **Cold and warm starts.** A worker's first invocation after boot, or after
//!   [`KEEP_WARM_NS`] idle, pays a cold start drawn per boot (20–60 ms); warm ones take 1–5 ms.
//! - **Retries.** A handler that fails (transiently, with chance `fail_p`, or always, on a
//!   poison event) is retried up to `retries` times within the invocation, after a backoff that
//!   doubles per retry plus seeded jitter. Out of retries, the worker gives up and leaves the
//!   message to reappear after its visibility timeout.
//! - **The lease.** A receive hides a message for the visibility timeout, counted by the queue
//!   from when it handed the message out. The worker counts its lease from when it *sent* the
//!   receive (earlier, so never longer than the queue's), less a margin for clock drift, and
//!   stops an invocation — applies nothing — once it has run past that or its function
//!   timeout. The planted bug `visibility-shorter-than-work` shortens the queue's timeout below
//!   the handler's worst case while workers go by their function timeout alone.
//! - **Delete after the effect.** Only when the table confirmed the effect (now, or by an
//!   earlier delivery) does the worker delete the message, with its receipt. The planted bug
//!   `delete-before-process` deletes on receipt instead.
//!
//! A worker keeps nothing on disk: after a crash it starts cold, its messages reappear in the
//! queue when their visibility runs out.

use std::collections::BTreeMap;

use rand::RngCore;

use super::event::Event;
use super::msg::Msg;
use super::node::{EventsNode, Seen};
use super::params::{Bug, Params, COLD_START_NS, KEEP_WARM_NS, QUEUE, SLOW_NS, WARM_NS};
use super::producer::next_replica;
use crate::node::{Ctx, NodeId, TimerId};
use crate::time::ms;

/// An apply not answered within this (local time) is sent again.
pub const APPLY_RETRY_NS: u64 = ms(20);
/// Beyond its long-poll wait, how long a worker waits for a receive's answer before polling
/// again.
pub const POLL_GRACE_NS: u64 = ms(100);
/// Recent polls remembered (to time the lease of a late answer).
pub const POLLS_KEPT: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    /// The handler run finished (successfully or not, decided then).
    Work(u64),
    /// Resend the apply of this event.
    Apply(u64),
    /// The poll went unanswered.
    Poll(u64),
    /// Time to extend this message's visibility (the handler still runs).
    Beat(u64),
}

#[derive(Clone, Copy, Debug)]
struct Invocation {
    event: Event,
    receipt: u32,
    /// Local time the invocation must stop by: its function timeout or its lease, sooner.
    deadline: u64,
    /// Local time it started.
    started: u64,
    /// Retries used.
    retries: u32,
    /// The apply sent, if the handler succeeded.
    apply: Option<u64>,
    /// The timer that moves it on.
    timer: TimerId,
    /// The heartbeat's timer.
    beat_timer: TimerId,
    /// The visibility extension asked for: (request, local time sent).
    beat: Option<(u64, u64)>,
}

/// A worker's state (memory only).
#[derive(Debug)]
pub struct Worker {
    p: Params,
    cold_ns: u64,
    warm_until: u64,
    running: BTreeMap<u64, Invocation>,
    polls: Vec<(u64, u64)>,
    polling: Option<u64>,
    timers: BTreeMap<TimerId, Wake>,
    next_timer: TimerId,
    /// The queue replica believed to lead.
    queue: NodeId,
}

impl Worker {
    /// A cold worker.
    pub fn new(p: Params) -> Self {
        Worker {
            p,
            cold_ns: 0,
            warm_until: 0,
            running: BTreeMap::new(),
            polls: Vec::new(),
            polling: None,
            timers: BTreeMap::new(),
            next_timer: 1,
            queue: QUEUE,
        }
    }

    /// Invocations running.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    fn timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, delay: u64, wake: Wake) -> TimerId {
        let id = self.next_timer;
        self.next_timer += 1;
        self.timers.insert(id, wake);
        ctx.set_timer(delay, id);
        id
    }

    /// Boot (first or after a crash): draw this boot's cold start, start polling.
    pub fn boot(&mut self, ctx: &mut Ctx<'_, EventsNode>, _seen: &mut Seen) {
        self.cold_ns = ctx.rng().range_inclusive(COLD_START_NS.0, COLD_START_NS.1);
        self.poll(ctx);
    }

    /// Ask the queue for as many messages as there is room for, unless a poll is out.
    fn poll(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        let room = (self.p.concurrency as usize).saturating_sub(self.running.len());
        if self.polling.is_some() || room == 0 {
            return;
        }
        let poll = ctx.rng().next_u64();
        let now = ctx.local_ns();
        if self.polls.len() >= POLLS_KEPT {
            self.polls.remove(0);
        }
        self.polls.push((poll, now));
        self.polling = Some(poll);
        let max = room.min(self.p.batch as usize) as u32;
        ctx.send(
            self.queue,
            Msg::Receive {
                poll,
                max,
                wait_ms: self.p.wait_ms,
            },
        );
        self.timer(ctx, ms(self.p.wait_ms) + POLL_GRACE_NS, Wake::Poll(poll));
    }

    /// How long one run of the handler takes now (cold or warm), and keep the worker warm.
    fn run_time(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> u64 {
        let now = ctx.local_ns();
        let t = if now >= self.warm_until {
            self.cold_ns
        } else {
            ctx.rng().range_inclusive(WARM_NS.0, WARM_NS.1)
        };
        self.warm_until = now + t + KEEP_WARM_NS;
        t
    }

    fn on_messages(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        poll: u64,
        msgs: Vec<(Event, u32)>,
        seen: &mut Seen,
    ) {
        if self.polling == Some(poll) {
            self.polling = None;
        }
        let Some(&(_, sent)) = self.polls.iter().find(|(p, _)| *p == poll) else {
            return; // Too old to time its lease: let the messages reappear.
        };
        let now = ctx.local_ns();
        let lease_end = sent.saturating_add(self.p.worker_lease_ns());
        let mut early_deletes = Vec::new();
        for (event, receipt) in msgs {
            seen.delivered.push(event.seq);
            if self.p.bug == Bug::DeleteBeforeProcess {
                early_deletes.push((event.seq, receipt));
            }
            if let Some(inv) = self.running.get_mut(&event.seq) {
                // Delivered again while running here: take the newer lease.
                if receipt > inv.receipt {
                    inv.receipt = receipt;
                    inv.deadline = lease_end.min(inv.started + self.p.fn_timeout_ns);
                }
                continue;
            }
            if self.running.len() >= self.p.concurrency as usize {
                continue; // No room: it reappears after its visibility timeout.
            }
            let mut t = self.run_time(ctx);
            if ctx.rng().chance(self.p.slow_p) {
                t += ctx.rng().range_inclusive(SLOW_NS.0, SLOW_NS.1);
            }
            let timer = self.timer(ctx, t, Wake::Work(event.seq));
            // Extend the visibility when half of it has passed, while the handler runs.
            let beat_at = sent.saturating_add(self.p.queue_visibility_ns() / 2);
            let beat_timer = self.timer(ctx, beat_at.saturating_sub(now), Wake::Beat(event.seq));
            let inv = Invocation {
                event,
                receipt,
                deadline: lease_end.min(now + self.p.fn_timeout_ns),
                started: now,
                retries: 0,
                apply: None,
                timer,
                beat_timer,
                beat: None,
            };
            self.running.insert(event.seq, inv);
        }
        if !early_deletes.is_empty() {
            ctx.send(
                self.queue,
                Msg::Delete {
                    entries: early_deletes,
                },
            );
        }
        self.poll(ctx);
    }

    /// Stop an invocation without an effect; its message reappears after its visibility.
    fn give_up(&mut self, ctx: &mut Ctx<'_, EventsNode>, seq: u64) {
        self.running.remove(&seq);
        self.poll(ctx);
    }

    fn send_apply(&mut self, ctx: &mut Ctx<'_, EventsNode>, seq: u64, seen: &mut Seen) {
        let req = match self.running.get(&seq).and_then(|i| i.apply) {
            Some(r) => r,
            None => ctx.rng().next_u64(),
        };
        let timer = self.timer(ctx, APPLY_RETRY_NS, Wake::Apply(seq));
        let inv = self.running.get_mut(&seq).expect("running");
        inv.apply = Some(req);
        inv.timer = timer;
        seen.applies.push((seq, inv.receipt));
        ctx.send(
            self.p.table(),
            Msg::Apply {
                req,
                event: inv.event,
            },
        );
    }

    /// The handler run finished: fail (retry or give up) or succeed (apply the effect).
    fn on_work(&mut self, ctx: &mut Ctx<'_, EventsNode>, seq: u64, seen: &mut Seen) {
        let now = ctx.local_ns();
        let Some(inv) = self.running.get(&seq).copied() else {
            return;
        };
        if now >= inv.deadline {
            return self.give_up(ctx, seq);
        }
        let failed = inv.event.poison || ctx.rng().chance(self.p.fail_p);
        if !failed {
            return self.send_apply(ctx, seq, seen);
        }
        if inv.retries >= self.p.retries {
            return self.give_up(ctx, seq);
        }
        let step = self.p.backoff_ns << inv.retries;
        let backoff = step + ctx.rng().below(step + 1);
        let t = backoff + self.run_time(ctx);
        if now + t >= inv.deadline {
            return self.give_up(ctx, seq);
        }
        let timer = self.timer(ctx, t, Wake::Work(seq));
        let inv = self.running.get_mut(&seq).expect("running");
        inv.retries += 1;
        inv.timer = timer;
    }

    fn on_applied(&mut self, ctx: &mut Ctx<'_, EventsNode>, req: u64) {
        let Some((&seq, inv)) = self.running.iter().find(|(_, i)| i.apply == Some(req)) else {
            return;
        };
        let entries = vec![(seq, inv.receipt)];
        self.running.remove(&seq);
        ctx.send(self.queue, Msg::Delete { entries });
        self.poll(ctx);
    }

    /// Heartbeat: ask the queue to keep the message hidden for another visibility timeout
    /// (`ChangeMessageVisibility`), and plan the next one. A worker that believes its lease
    /// unbounded (the planted bug `visibility-shorter-than-work`) never asks.
    fn beat(&mut self, ctx: &mut Ctx<'_, EventsNode>, seq: u64) {
        if self.p.worker_lease_ns() == u64::MAX {
            return;
        }
        let now = ctx.local_ns();
        let Some(inv) = self.running.get(&seq).copied() else {
            return;
        };
        if now >= inv.deadline {
            return; // Too late: the lease ran out; the invocation stops at its next step.
        }
        let req = ctx.rng().next_u64();
        let next = self.timer(ctx, self.p.queue_visibility_ns() / 2, Wake::Beat(seq));
        let inv = self.running.get_mut(&seq).expect("running");
        inv.beat = Some((req, now));
        inv.beat_timer = next;
        let receipt = inv.receipt;
        ctx.send(self.queue, Msg::ChangeVisibility { req, seq, receipt });
    }

    /// The queue extended a visibility: the lease runs from when the request was sent.
    fn on_visibility_changed(&mut self, req: u64, ok: bool) {
        let fn_timeout = self.p.fn_timeout_ns;
        let lease = self.p.worker_lease_ns();
        let Some(inv) = self
            .running
            .values_mut()
            .find(|i| i.beat.is_some_and(|(r, _)| r == req))
        else {
            return;
        };
        let (_, sent) = inv.beat.take().expect("found by it");
        if ok {
            let lease_end = sent.saturating_add(lease);
            inv.deadline = inv.deadline.max(lease_end.min(inv.started + fn_timeout));
        }
    }

    /// Messages from the queue and the table.
    pub fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        _from: NodeId,
        msg: Msg,
        seen: &mut Seen,
    ) {
        match msg {
            Msg::Messages { poll, msgs } => self.on_messages(ctx, poll, msgs, seen),
            Msg::Applied { req, .. } => self.on_applied(ctx, req),
            Msg::VisibilityChanged { req, ok } => self.on_visibility_changed(req, ok),
            // A replica that does not lead names the leader: poll it at once.
            Msg::NotLeader { leader: Some(to) } if to != self.queue => {
                self.queue = to;
                if self.polling.take().is_some() {
                    self.poll(ctx);
                }
            }
            _ => {}
        }
    }

    /// Timers: handler runs, apply retries, unanswered polls.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, timer: TimerId, seen: &mut Seen) {
        let Some(wake) = self.timers.remove(&timer) else {
            return;
        };
        match wake {
            Wake::Work(seq) | Wake::Apply(seq) => {
                if self.running.get(&seq).is_none_or(|i| i.timer != timer) {
                    return; // Stale: the invocation moved on or ended.
                }
                if matches!(wake, Wake::Work(_)) {
                    self.on_work(ctx, seq, seen);
                } else if ctx.local_ns() >= self.running[&seq].deadline {
                    self.give_up(ctx, seq);
                } else {
                    self.send_apply(ctx, seq, seen);
                }
            }
            Wake::Poll(poll) => {
                if self.polling == Some(poll) {
                    // Unanswered: the replica may be down or cut off; try the next one.
                    self.queue = next_replica(self.queue, self.p.replicas);
                    self.polling = None;
                    self.poll(ctx);
                }
            }
            Wake::Beat(seq) => {
                if self
                    .running
                    .get(&seq)
                    .is_some_and(|i| i.beat_timer == timer)
                {
                    self.beat(ctx, seq);
                }
            }
        }
    }
}
