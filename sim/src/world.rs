//! The world: one sequential event loop over virtual time, on one core.
//!
//! A run goes through three phases:
//! 1. **Setup.** The root stream `DetRng::new(seed)` is forked into named sub-streams —
//!    `net`, `clients`, `buggify`, `swarm/<kind>`, `schedule/<kind>`, `node/<i>`,
//!    `node/<i>/clock`, `node/<i>/disk` — so adding a node or a fault kind does not reshuffle
//!    every other choice. The fault plan is drawn (swarm) or read, its discrete faults drawn
//!    into a schedule, every node booted in id order.
//! 2. **Fault period** `[0, fault_end)`: client operations arrive, message and disk faults are
//!    on, scheduled faults strike, buggify may fire. Checkers judge each step.
//! 3. **Quiet period** `[fault_end, end)`: partitions heal, crashed nodes restart, pauses end,
//!    every fault stops; liveness probes are issued, and at the end every operation still
//!    pending is a liveness failure.
//!
//! The loop pops the earliest event (time, then scheduling order), moves the world's clock to
//! it, records it in the trace, and runs it. Handlers' effects are applied after they return.
//! The first violation stops the run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::RngCore;
use seedbed_engine::clock::ClockHandle;
use seedbed_engine::rng::{Choices, DetRng, Tape};
use serde::Serialize;

use crate::check::{Checker, Violation, CLIENT_PROTOCOL, EVENT_BUDGET, LIVENESS};
use crate::clock::{GlobalTime, NodeClock};
use crate::config::{FaultSource, Resolved, RunConfig};
use crate::disk::NodeDisk;
use crate::error::SimError;
use crate::event::EventQueue;
use crate::faults::buggify::Buggify;
use crate::faults::{schedule, swarm, Fault, FaultPlan, ScheduledFault};
use crate::hash::hash_of;
use crate::metrics::{Metrics, Traffic};
use crate::net::{NetStats, Network, Sent};
use crate::node::{Ctx, Effects, Message, Node, NodeId, OpId, TimerId};
use crate::span::Span;
use crate::time::{fmt_nanos, ms, NANOS_PER_MS};
use crate::trace::{hash_hex, Trace, TraceKind, TraceSink, TRACE_FORMAT};
use crate::workload::{OpFor, Workload};

/// Pending events, at most (far above what bounded link queues allow in practice).
pub const EVENTS_PENDING_MAX: usize = 4 << 20;

/// How big a run is — the measure the shrinker makes smaller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RunSize {
    /// Nodes.
    pub nodes: u32,
    /// Client operations issued (not counting quiet-period probes or skipped ones).
    pub ops: u64,
    /// Scheduled faults plus continuous fault kinds switched on.
    pub faults: u64,
    /// Length of the fault period, in milliseconds.
    pub fault_ms: u64,
}

impl std::fmt::Display for RunSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} nodes, {} ops, {} faults, {} ms",
            self.nodes, self.ops, self.faults, self.fault_ms
        )
    }
}

/// What a run did and found.
#[derive(Clone, Debug, Serialize)]
pub struct RunOutcome {
    /// The config it ran.
    pub config: RunConfig,
    /// The trace hash (see [`crate::trace`]).
    pub hash: u64,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end, in nanoseconds.
    pub end_ns: u64,
    /// The first violation, if the run failed.
    pub violation: Option<Violation>,
    /// The run's size.
    pub size: RunSize,
    /// The fault plan in force.
    pub plan: FaultPlan,
    /// The discrete faults, as scheduled (what the shrinker edits).
    pub schedule: Vec<ScheduledFault>,
    /// Network counters.
    pub net: NetStats,
    /// Client operations completed.
    pub ops_completed: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Workload measurements by name — scalars (gossip's detection times, say), sample sets
    /// and labels — from the checkers' [`Checker::metrics`]; empty for workloads that measure
    /// nothing. In JSON its fields sit at the top level: `metrics` (the scalars), `samples`,
    /// `labels`.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Messages the nodes sent, per kind, as the world counted them.
    pub messages: Traffic,
    /// Every random draw of the run, by stream and [`Span`], when the config asked to record
    /// them or replayed a record ([`RunConfig::record_choices`], [`RunConfig::choices`]).
    #[serde(skip)]
    pub choices: Option<Choices>,
}

impl RunOutcome {
    /// The trace hash as printed.
    pub fn hash_hex(&self) -> String {
        hash_hex(self.hash)
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.violation.is_some()
    }
}

/// An event; those a handler causes carry the [`Span`] (as its code) they descend from.
enum Ev<N: Node> {
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: N::Msg,
        span: u64,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        timer: TimerId,
        span: u64,
    },
    NextClientOp,
    Invoke {
        node: NodeId,
        op_id: OpId,
        op: N::Op,
        span: u64,
    },
    QuietProbes,
    Fault(u32),
    Heal(u32),
    Restart {
        node: NodeId,
        incarnation: u32,
        span: u64,
    },
    FaultsEnd,
    End,
}

struct Slot<N> {
    node: Option<N>,
    rng: DetRng,
    /// The clock, to jump it and to turn local timer delays into world time.
    clock: Arc<NodeClock>,
    /// The same clock as the engine's trait object, as handlers see it.
    clock_handle: ClockHandle,
    disk: NodeDisk,
    incarnation: u32,
    paused_until_ns: u64,
}

struct Pending {
    node: NodeId,
    invoked_ns: u64,
}

struct World<'t, W: Workload> {
    cfg: Resolved,
    now_ns: u64,
    global: Arc<GlobalTime>,
    queue: EventQueue<Ev<W::Node>>,
    /// Sequence numbers of events held back for a paused node (`defer`), released when the
    /// faults stop: a pause may not reach into the quiet period.
    deferred: BTreeSet<u64>,
    slots: Vec<Slot<W::Node>>,
    net: Network,
    workload: W,
    client_rng: DetRng,
    buggify: Buggify,
    effects: Effects<W::Node>,
    checkers: Vec<Box<dyn Checker<W::Node>>>,
    pending: BTreeMap<OpId, Pending>,
    schedule: Vec<ScheduledFault>,
    trace: Trace<'t>,
    ops_drawn: u64,
    only_ops: Option<Vec<u64>>,
    ops_issued: u64,
    ops_completed: u64,
    next_op_id: OpId,
    crashes: u64,
    max_events: u64,
    violation: Option<Violation>,
    /// The span of the event being handled (its code); effects inherit it.
    span: u64,
    /// Where draws are recorded (and replayed from), when asked.
    tape: Option<Arc<Tape>>,
    /// Firings of each (node, timer hash) in background spans so far (only with a tape).
    ticks: BTreeMap<(NodeId, u32), u32>,
    traffic: Traffic,
}

/// Run `config` with workload `W`; lines go to `sink` when given. A failing run is an `Ok`
/// outcome with a violation; `Err` means the config itself is unusable.
pub fn run<W: Workload>(
    config: &RunConfig,
    sink: Option<&mut dyn TraceSink>,
) -> Result<RunOutcome, SimError> {
    let resolved = config.resolve(&W::defaults_for(config))?;
    let tape = match &config.choices {
        Some(record) => Some(Arc::new(Tape::replay(record.0.clone()))),
        None if config.record_choices => Some(Arc::new(Tape::record())),
        None => None,
    };
    let root = match &tape {
        Some(t) => DetRng::new(config.seed).taped(t.clone(), ""),
        None => DetRng::new(config.seed),
    };
    let plan = match &config.faults {
        FaultSource::Swarm => swarm::plan(&root),
        FaultSource::None => FaultPlan::none(),
        FaultSource::Plan(p) => (**p).clone(),
    };
    let nodes = resolved.nodes;
    let fault_ms = resolved.fault_end_ns / NANOS_PER_MS;
    let schedule: Vec<ScheduledFault> = match &config.schedule {
        Some(s) => s
            .iter()
            .filter(|f| f.at_ms < fault_ms)
            .filter_map(|f| {
                f.fault.restricted_to(nodes).map(|fault| ScheduledFault {
                    at_ms: f.at_ms,
                    fault,
                })
            })
            .collect(),
        None => schedule::generate(&plan, nodes, fault_ms, &root),
    };
    let workload = W::new(config, nodes)?;
    let mut trace = Trace::new(sink);
    trace.raw(|| {
        serde_json::json!({
            "seedbed_trace": TRACE_FORMAT,
            "version": env!("CARGO_PKG_VERSION"),
            "config": config,
        })
        .to_string()
    });

    let global = Arc::new(GlobalTime::new());
    let mut slots = Vec::with_capacity(nodes as usize);
    for id in 0..nodes {
        let mut clock_rng = root.fork(&format!("node/{id}/clock"));
        let skew_max = ms(plan.clock.skew_ms_max) as i64;
        let drift_max = plan.clock.drift_ppm_max as i64;
        let skew = if skew_max > 0 {
            clock_rng.range_inclusive(0, 2 * skew_max as u64) as i64 - skew_max
        } else {
            0
        };
        let drift = if drift_max > 0 {
            clock_rng.range_inclusive(0, 2 * drift_max as u64) as i64 - drift_max
        } else {
            0
        };
        let disk_seed = root.fork(&format!("node/{id}/disk")).next_u64();
        let clock = Arc::new(NodeClock::new(global.clone(), skew, drift));
        slots.push(Slot {
            node: Some(workload.build_node(id)),
            rng: root.fork(&format!("node/{id}")),
            clock_handle: clock.clone(),
            clock,
            disk: NodeDisk::new(disk_seed, &plan.disk, tape.as_ref(), id),
            incarnation: 0,
            paused_until_ns: 0,
        });
    }
    let mut slow = Vec::new();
    if plan.net.slow_link_factor_max > 1 {
        let mut r = root.fork("net/slow-links");
        for _ in 0..nodes * nodes {
            let f = if r.chance(0.2) {
                r.range_inclusive(2, plan.net.slow_link_factor_max)
            } else {
                1
            };
            slow.push(f);
        }
    }
    let mut net = Network::new(nodes, &config.net, &slow, root.fork("net"));
    net.set_faults(plan.net);

    let mut checkers = workload.checkers();
    for c in &mut checkers {
        c.begin(&plan, &resolved);
    }
    let mut world = World::<W> {
        cfg: resolved,
        now_ns: 0,
        global,
        queue: EventQueue::new(EVENTS_PENDING_MAX),
        deferred: BTreeSet::new(),
        slots,
        net,
        workload,
        client_rng: root.fork("clients"),
        buggify: Buggify::new(plan.buggify, root.fork("buggify")),
        effects: Effects::default(),
        checkers,
        pending: BTreeMap::new(),
        schedule,
        trace,
        ops_drawn: 0,
        only_ops: config.only_ops.clone(),
        ops_issued: 0,
        ops_completed: 0,
        next_op_id: 0,
        crashes: 0,
        max_events: config.max_events,
        violation: None,
        span: Span::Setup.code(),
        tape,
        ticks: BTreeMap::new(),
        traffic: Traffic::default(),
    };
    world.run();
    let size = RunSize {
        nodes,
        ops: world.ops_issued,
        faults: world.schedule.len() as u64 + plan.continuous_kinds() as u64,
        fault_ms,
    };
    let mut metrics = Metrics::default();
    for c in &world.checkers {
        c.metrics(&world.traffic, &mut metrics);
    }
    let hash = world.trace.hash();
    let events = world.trace.events();
    let violation = world.violation.clone();
    world.trace.raw(|| {
        serde_json::json!({"end": {
            "events": events,
            "hash": hash_hex(hash),
            "violation": violation.as_ref().map(|v| format!("{}: {}", v.checker, v.message)),
        }})
        .to_string()
    });
    Ok(RunOutcome {
        config: config.clone(),
        hash,
        events,
        end_ns: world.now_ns,
        violation,
        size,
        plan,
        schedule: world.schedule,
        net: world.net.stats,
        ops_completed: world.ops_completed,
        crashes: world.crashes,
        metrics,
        messages: world.traffic,
        choices: world.tape.as_ref().map(|t| t.recorded()),
    })
}

impl<W: Workload> World<'_, W> {
    /// Handle what follows as caused by `span` (a [`Span`] code): effects inherit it, draws
    /// are filed under it.
    fn enter(&mut self, span: u64) {
        self.span = span;
        if let Some(t) = &self.tape {
            t.set_span(span);
        }
    }

    /// The span a firing timer runs in: a background timer (set at boot or a restart, or by
    /// its own previous firing) starts the next [`Span::Tick`] of its node and id; any other
    /// keeps the span it was set in (a request's deadline stays its operation's).
    fn timer_span(&mut self, node: NodeId, timer: TimerId, span: u64) -> u64 {
        if self.tape.is_none() {
            return span;
        }
        let hash = Span::timer_hash(timer);
        let starts_tick = match Span::from_code(span) {
            Some(Span::Tick {
                node: n, timer: t, ..
            }) => n == node && t == hash,
            Some(s) => s.is_background(),
            None => false,
        };
        if !starts_tick {
            return span;
        }
        let k = self.ticks.entry((node, hash)).or_insert(0);
        let tick = Span::Tick {
            node,
            timer: hash,
            k: *k,
        };
        *k += 1;
        tick.code()
    }

    fn push(&mut self, at_ns: u64, ev: Ev<W::Node>) {
        self.push_seq(at_ns, ev);
    }

    /// `push`, returning the event's sequence number (`None`: the queue was full).
    fn push_seq(&mut self, at_ns: u64, ev: Ev<W::Node>) -> Option<u64> {
        match self.queue.push(at_ns, ev) {
            Ok(seq) => Some(seq),
            Err(_) => {
                if self.violation.is_none() {
                    self.violation = Some(Violation {
                        checker: EVENT_BUDGET.into(),
                        at_ns: self.now_ns,
                        message: format!("more than {EVENTS_PENDING_MAX} events pending at once"),
                    });
                }
                None
            }
        }
    }

    /// Hold `ev` for a paused node until its pause ends, remembering it so that the end of
    /// the faults can release it (`faults_end`).
    fn defer(&mut self, until_ns: u64, ev: Ev<W::Node>) {
        if let Some(seq) = self.push_seq(until_ns, ev) {
            self.deferred.insert(seq);
        }
    }

    fn fail(&mut self, checker: &str, message: String) {
        if self.violation.is_some() {
            return;
        }
        let (t, c) = (self.now_ns, checker.to_string());
        self.trace.record(t, None, TraceKind::Violation, 0, 0, || {
            format!("{c}: {message}")
        });
        self.violation = Some(Violation {
            checker: checker.into(),
            at_ns: self.now_ns,
            message,
        });
    }

    fn run(&mut self) {
        for id in 0..self.cfg.nodes {
            self.trace
                .record(0, Some(id), TraceKind::Start, 0, 0, String::new);
            self.enter(Span::Boot(id).code());
            self.call(id, |n, ctx| n.on_start(ctx));
        }
        for i in 0..self.schedule.len() {
            let at = ms(self.schedule[i].at_ms);
            self.push(at, Ev::Fault(i as u32));
        }
        if self.cfg.ops > 0 {
            self.push(0, Ev::NextClientOp);
        }
        self.push(self.cfg.fault_end_ns, Ev::FaultsEnd);
        self.push(self.cfg.end_ns, Ev::End);
        let max_events = self.max_events;
        while self.violation.is_none() {
            let Some(s) = self.queue.pop() else { break };
            assert!(s.at_ns >= self.now_ns, "event in the past");
            self.now_ns = s.at_ns;
            self.global.set(s.at_ns);
            if self.trace.events() >= max_events {
                self.fail(
                    EVENT_BUDGET,
                    format!("more than {max_events} events: a livelock or a message storm"),
                );
                break;
            }
            if self.step(s.event) {
                break;
            }
        }
    }

    /// Run one event; true when the run is over.
    fn step(&mut self, ev: Ev<W::Node>) -> bool {
        match ev {
            Ev::Deliver {
                from,
                to,
                msg,
                span,
            } => {
                self.enter(span);
                self.deliver(from, to, msg);
            }
            Ev::Timer {
                node,
                incarnation,
                timer,
                span,
            } => {
                let slot = &self.slots[node as usize];
                if slot.incarnation != incarnation || slot.node.is_none() {
                    return false; // The timer died with its node.
                }
                if slot.paused_until_ns > self.now_ns {
                    let until = slot.paused_until_ns;
                    self.defer(
                        until,
                        Ev::Timer {
                            node,
                            incarnation,
                            timer,
                            span,
                        },
                    );
                    return false;
                }
                let span = self.timer_span(node, timer, span);
                self.enter(span);
                self.trace
                    .record(self.now_ns, Some(node), TraceKind::Timer, timer, 0, || {
                        format!("{timer}")
                    });
                self.call(node, |n, ctx| n.on_timer(ctx, timer));
            }
            Ev::NextClientOp => self.next_client_op(),
            Ev::Invoke {
                node,
                op_id,
                op,
                span,
            } => {
                self.enter(span);
                self.invoke(node, op_id, op);
            }
            Ev::QuietProbes => {
                let probes = self.workload.quiet_ops();
                for (j, (node, op)) in probes.into_iter().enumerate() {
                    self.enter(Span::Probe(j as u64).code());
                    let op_id = self.next_op_id;
                    self.next_op_id += 1;
                    self.invoke(node, op_id, op);
                }
            }
            Ev::Fault(i) => {
                self.enter(Span::of_fault(&self.schedule[i as usize]).code());
                self.fault(i);
            }
            Ev::Heal(i) => {
                self.net.heal(i);
                self.trace
                    .record(self.now_ns, None, TraceKind::Heal, u64::from(i), 0, || {
                        format!("partition #{i} healed")
                    });
            }
            Ev::Restart {
                node,
                incarnation,
                span,
            } => {
                let slot = &self.slots[node as usize];
                if slot.incarnation == incarnation && slot.node.is_none() {
                    self.enter(span);
                    self.restart(node);
                }
            }
            Ev::FaultsEnd => {
                self.enter(Span::Quiet.code());
                self.faults_end();
            }
            Ev::End => {
                self.end();
                return true;
            }
        }
        false
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, msg: <W::Node as Node>::Msg) {
        let slot = &self.slots[to as usize];
        if slot.node.is_some() && slot.paused_until_ns > self.now_ns {
            let until = slot.paused_until_ns;
            self.trace.record(
                self.now_ns,
                Some(to),
                TraceKind::Deferred,
                u64::from(from),
                until,
                || {
                    format!(
                        "message from n{from} waits for the pause to end at {}",
                        fmt_nanos(until)
                    )
                },
            );
            let span = self.span;
            self.defer(
                until,
                Ev::Deliver {
                    from,
                    to,
                    msg,
                    span,
                },
            );
            return;
        }
        let reason = match self.net.arrive(from, to) {
            Err(r) => Some(r),
            Ok(()) if self.slots[to as usize].node.is_none() => {
                Some(crate::net::DropReason::ReceiverDown)
            }
            Ok(()) => None,
        };
        if let Some(r) = reason {
            self.trace.record(
                self.now_ns,
                Some(to),
                TraceKind::Drop,
                u64::from(from),
                r.code(),
                || format!("from n{from} {}: {msg:?}", r.name()),
            );
            return;
        }
        self.net.stats.delivered += 1;
        let t = self.now_ns;
        for i in 0..self.checkers.len() {
            if let Err(m) = self.checkers[i].deliver(t, from, to, &msg) {
                let name = self.checkers[i].name();
                return self.fail(name, m);
            }
        }
        let h = hash_of(&msg);
        self.trace.record(
            self.now_ns,
            Some(to),
            TraceKind::Deliver,
            u64::from(from),
            h,
            || format!("from n{from} {msg:?}"),
        );
        self.call(to, |n, ctx| n.on_message(ctx, from, msg));
    }

    fn next_client_op(&mut self) {
        if self.ops_drawn >= self.cfg.ops || self.now_ns >= self.cfg.fault_end_ns {
            return;
        }
        let index = self.ops_drawn;
        self.ops_drawn += 1;
        self.enter(Span::Op(index).code());
        let (node, op) = self.workload.next_op(&mut self.client_rng, index);
        assert!(node < self.cfg.nodes, "workload sent op to node {node}");
        let gap = self.client_rng.range_inclusive(1, 2 * self.cfg.op_gap_ns);
        self.push(self.now_ns + gap, Ev::NextClientOp);
        if let Some(only) = &self.only_ops {
            if only.binary_search(&index).is_err() {
                return; // Drawn, so later operations keep their draws, but not issued.
            }
        }
        self.ops_issued += 1;
        let op_id = self.next_op_id;
        self.next_op_id += 1;
        self.invoke(node, op_id, op);
    }

    fn invoke(&mut self, node: NodeId, op_id: OpId, op: OpFor<W>) {
        let slot = &self.slots[node as usize];
        if slot.node.is_none() {
            self.trace.record(
                self.now_ns,
                Some(node),
                TraceKind::Rejected,
                op_id,
                0,
                || format!("op {op_id} {op:?}: node down"),
            );
            return;
        }
        if slot.paused_until_ns > self.now_ns {
            let until = slot.paused_until_ns;
            let span = self.span;
            self.defer(
                until,
                Ev::Invoke {
                    node,
                    op_id,
                    op,
                    span,
                },
            );
            return;
        }
        let h = hash_of(&op);
        self.trace
            .record(self.now_ns, Some(node), TraceKind::Invoke, op_id, h, || {
                format!("op {op_id} {op:?}")
            });
        self.pending.insert(
            op_id,
            Pending {
                node,
                invoked_ns: self.now_ns,
            },
        );
        let t = self.now_ns;
        for i in 0..self.checkers.len() {
            if let Err(m) = self.checkers[i].invoke(t, op_id, node, &op) {
                let name = self.checkers[i].name();
                self.fail(name, m);
                return;
            }
        }
        self.call(node, |n, ctx| n.on_client(ctx, op_id, op));
    }

    /// Run a handler on `id` (if it is up) and apply its effects.
    fn call(&mut self, id: NodeId, f: impl FnOnce(&mut W::Node, &mut Ctx<'_, W::Node>)) {
        let slot = &mut self.slots[id as usize];
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let mut ctx = Ctx::new(
            id,
            self.cfg.nodes,
            &slot.clock_handle,
            &mut slot.rng,
            slot.disk.handle(),
            &mut self.buggify,
            &mut self.effects,
        );
        f(node, &mut ctx);
        let now = self.now_ns;
        let mut failed = None;
        for c in &mut self.checkers {
            if let Err(m) = c.observe(now, id, node) {
                failed = Some((c.name(), m));
                break;
            }
        }
        self.apply_effects(id, failed.is_none());
        if let Some((name, m)) = failed {
            self.fail(name, m);
        }
    }

    /// Send, arm and answer what the handler just run on `from` asked for; `check_sends`
    /// shows each message to the checkers first (not when one of them failed the handler).
    fn apply_effects(&mut self, from: NodeId, check_sends: bool) {
        let span = self.span;
        let mut sends = std::mem::take(&mut self.effects.sends);
        let t = self.now_ns;
        for (to, msg) in sends.drain(..) {
            self.traffic.count(msg.kind(), msg.wire_bytes());
            if check_sends && self.violation.is_none() {
                for i in 0..self.checkers.len() {
                    if let Err(m) = self.checkers[i].send(t, from, to, &msg) {
                        let name = self.checkers[i].name();
                        self.fail(name, m);
                        break;
                    }
                }
            }
            match self.net.send(self.now_ns, from, to) {
                Sent::Dropped(r) => {
                    self.trace.record(
                        self.now_ns,
                        Some(from),
                        TraceKind::Drop,
                        u64::from(to),
                        r.code(),
                        || format!("to n{to} {}: {msg:?}", r.name()),
                    );
                }
                Sent::Once(at) => self.push(
                    at,
                    Ev::Deliver {
                        from,
                        to,
                        msg,
                        span,
                    },
                ),
                Sent::Twice(a, b) => {
                    self.push(
                        a,
                        Ev::Deliver {
                            from,
                            to,
                            msg: msg.clone(),
                            span,
                        },
                    );
                    self.push(
                        b,
                        Ev::Deliver {
                            from,
                            to,
                            msg,
                            span,
                        },
                    );
                }
            }
        }
        self.effects.sends = sends;

        let incarnation = self.slots[from as usize].incarnation;
        let mut timers = std::mem::take(&mut self.effects.timers);
        for (local_delay, timer) in timers.drain(..) {
            // Set in the node's local time: a fast clock fires its timers early.
            let delay = self.slots[from as usize].clock.to_global_delay(local_delay);
            self.push(
                self.now_ns + delay,
                Ev::Timer {
                    node: from,
                    incarnation,
                    timer,
                    span,
                },
            );
        }
        self.effects.timers = timers;

        let mut replies = std::mem::take(&mut self.effects.replies);
        for (op_id, reply) in replies.drain(..) {
            self.complete(from, op_id, reply);
        }
        self.effects.replies = replies;
    }

    fn complete(&mut self, from: NodeId, op_id: OpId, reply: <W::Node as Node>::Reply) {
        match self.pending.get(&op_id) {
            Some(p) if p.node == from => {}
            _ => {
                return self.fail(
                    CLIENT_PROTOCOL,
                    format!("node {from} answered op {op_id}, which it does not hold (twice, or never asked): {reply:?}"),
                )
            }
        }
        self.pending.remove(&op_id);
        self.ops_completed += 1;
        let h = hash_of(&reply);
        self.trace
            .record(self.now_ns, Some(from), TraceKind::Reply, op_id, h, || {
                format!("op {op_id} -> {reply:?}")
            });
        let t = self.now_ns;
        for i in 0..self.checkers.len() {
            if let Err(m) = self.checkers[i].complete(t, op_id, &reply) {
                let name = self.checkers[i].name();
                return self.fail(name, m);
            }
        }
    }

    fn fault(&mut self, i: u32) {
        let f = self.schedule[i as usize].fault.clone();
        let t = self.now_ns;
        for c in &mut self.checkers {
            c.fault(t, &f);
        }
        match f {
            Fault::Partition {
                partition,
                duration_ms,
            } => {
                self.trace.record(
                    t,
                    None,
                    TraceKind::Partition,
                    u64::from(i),
                    duration_ms,
                    || {
                        format!(
                            "#{i} {:?} {:?} {} {:?} for {duration_ms} ms",
                            partition.kind,
                            partition.from,
                            if partition.both_ways { "<-/->" } else { "-/->" },
                            partition.to
                        )
                    },
                );
                self.net.cut(partition.cut(i));
                self.push(t + ms(duration_ms), Ev::Heal(i));
            }
            Fault::Crash { node, down_ms } => {
                if self.slots[node as usize].node.is_none() {
                    return;
                }
                self.crash(node, down_ms);
            }
            Fault::Pause { node, duration_ms } => {
                let slot = &mut self.slots[node as usize];
                if slot.node.is_none() {
                    return;
                }
                slot.paused_until_ns = slot.paused_until_ns.max(t + ms(duration_ms));
                self.trace
                    .record(t, Some(node), TraceKind::Pause, duration_ms, 0, || {
                        format!("paused for {duration_ms} ms")
                    });
            }
            Fault::ClockJump { node, delta_ms } => {
                self.slots[node as usize]
                    .clock
                    .jump(delta_ms.saturating_mul(NANOS_PER_MS as i64));
                self.trace.record(
                    t,
                    Some(node),
                    TraceKind::ClockJump,
                    delta_ms as u64,
                    0,
                    || format!("clock jumps {delta_ms:+} ms"),
                );
            }
        }
    }

    fn crash(&mut self, node: NodeId, down_ms: u64) {
        let t = self.now_ns;
        self.crashes += 1;
        let slot = &mut self.slots[node as usize];
        // Power goes first: the disk decides what survives and kills every open handle, and
        // only then is the node's state dropped. Dropping it first would let its destructors
        // (an LSM's final WAL flush, say) write and sync after the "power cut", making durable
        // what a real crash loses; after the disk crash those writes fail on dead handles.
        let report = slot.disk.crash();
        slot.node = None;
        slot.incarnation += 1;
        slot.paused_until_ns = 0;
        let incarnation = slot.incarnation;
        let lost_writes = report.writes_dropped + report.writes_torn;
        self.trace.record(
            t,
            Some(node),
            TraceKind::Crash,
            down_ms,
            lost_writes,
            || {
                format!(
                    "down for {down_ms} ms; disk: {}",
                    crate::disk::crash_summary(&report)
                )
            },
        );
        let lost: Vec<OpId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.node == node)
            .map(|(&id, _)| id)
            .collect();
        for op_id in lost {
            self.pending.remove(&op_id);
            self.trace
                .record(t, Some(node), TraceKind::Lost, op_id, 0, || {
                    format!("op {op_id}: its node crashed, outcome unknown")
                });
            for c in &mut self.checkers {
                c.lost(t, op_id);
            }
        }
        let span = self.span;
        self.push(
            t + ms(down_ms),
            Ev::Restart {
                node,
                incarnation,
                span,
            },
        );
    }

    fn restart(&mut self, node: NodeId) {
        let fresh = self.workload.build_node(node);
        self.slots[node as usize].node = Some(fresh);
        for c in &mut self.checkers {
            c.restarted(self.now_ns, node);
        }
        self.trace.record(
            self.now_ns,
            Some(node),
            TraceKind::Restart,
            0,
            0,
            String::new,
        );
        self.call(node, |n, ctx| n.on_restart(ctx));
    }

    fn faults_end(&mut self) {
        self.net.set_faults(Default::default());
        self.net.heal_all();
        self.buggify.disable();
        self.trace
            .record(self.now_ns, None, TraceKind::Quiet, 0, 0, || {
                "faults stop: partitions heal, nodes restart, quiet period begins".into()
            });
        for c in &mut self.checkers {
            c.faults_end(self.now_ns);
        }
        // Pauses end now, and so does the wait of whatever they held back: left at the
        // pause's old end, a paused node's messages, timers and client operations would run
        // inside the quiet period as if the pause went on (the convergence probe then met
        // writes still arriving; seeds 4808 and 5087 of quorum with `sync=group`).
        let now = self.now_ns;
        let deferred = std::mem::take(&mut self.deferred);
        self.queue
            .bring_forward(|s| deferred.contains(&s.seq).then_some(now));
        for id in 0..self.cfg.nodes {
            let slot = &mut self.slots[id as usize];
            slot.disk.faults_off();
            slot.paused_until_ns = slot.paused_until_ns.min(self.now_ns);
            if slot.node.is_none() {
                self.restart(id);
            }
        }
        // The probes go out once the workload's repairs have had the time their own periods
        // need (a quorum's anti-entropy cycle, N and the handoff period), or a quarter into a
        // quiet period for a workload that does not say.
        let quiet_ns = self.cfg.end_ns.saturating_sub(self.now_ns);
        let delay_ns = self
            .workload
            .settle_ns(&self.cfg)
            .map_or(quiet_ns / 4, |s| s.min(quiet_ns / 4 * 3));
        self.push(self.now_ns + delay_ns, Ev::QuietProbes);
    }

    fn end(&mut self) {
        self.trace
            .record(self.now_ns, None, TraceKind::End, 0, 0, String::new);
        if let Some((&op_id, p)) = self.pending.iter().next() {
            let (node, invoked) = (p.node, p.invoked_ns);
            return self.fail(
                LIVENESS,
                format!(
                    "op {op_id} sent to node {node} at {} never completed, though faults stopped at {} ({} ops pending)",
                    fmt_nanos(invoked),
                    fmt_nanos(self.cfg.fault_end_ns),
                    self.pending.len()
                ),
            );
        }
        let t = self.now_ns;
        for i in 0..self.checkers.len() {
            if let Err(m) = self.checkers[i].finish(t) {
                let name = self.checkers[i].name();
                return self.fail(name, m);
            }
        }
    }
}
