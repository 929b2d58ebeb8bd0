//! A quorum node: replica, coordinator and client library in one process.
//!
//! Every node is a **replica** of the ranges the ring gives it (its data in the LSM on its own
//! disk), a **coordinator** for any client operation handed to it ([`super::coordinator`]), and
//! runs the **client library** that retries failed operations ([`super::client`]). Background
//! work runs on timers: anti-entropy ([`super::anti_entropy`]) and hinted handoff
//! ([`super::handoff`]).
//!
//! **Boot.** At first start and at every restart the node opens its LSM (which replays its WAL),
//! bumps its boot epoch durably and rebuilds its Merkle trees by scanning the store. If that
//! fails (a disk error), it retries on a timer and serves nothing meanwhile: answering from an
//! empty store would un-write acknowledged data. A store error later (a failed sync) closes the
//! store and reopens it the same way, so memory never claims more than the disk holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::coordinator::Request;
use super::group::{Group, TIMER_GROUP};
use super::membership::Detector;
use super::merkle::{self, Forest};
use super::msg::{Msg, Op, Reply};
use super::params::Params;
use super::store::{lsm_options_at, Store, MEMTABLE_RUNGS};
use super::version::{Siblings, Version};
use super::Bug;
use crate::gossip::embed;
use crate::gossip::node::GossipNode;
use crate::gossip::Params as GossipParams;
use crate::time::ms;
use crate::{Ctx, Effects, Node, NodeId, OpId, TimerId};

/// Timer: retry opening the store.
pub const TIMER_BOOT: TimerId = 1;
/// Timer: start an anti-entropy exchange.
pub const TIMER_AE: TimerId = 2;
/// Timer: hand off hints.
pub const TIMER_HANDOFF: TimerId = 3;
/// Timers at or above this are a request's deadline: `TIMER_REQ | req` in its fetch phase,
/// `TIMER_REQ | TIMER_REQ_STORE | req` in its store phase.
pub const TIMER_REQ: TimerId = 1 << 62;
/// The store-phase bit of a request's deadline. A phase arms its own deadline when it starts
/// and re-arms it at each deadline it survives; a deadline of a phase the request has left is
/// stale and ignored. Without the bit the fetch phase's deadline, still armed when a put moved
/// to its store phase, counted as a store deadline too: two chains of deadlines, and a store
/// phase that gave up after about two timeouts instead of `phase_tries` (found by the
/// `quorum-request-life` checker's lower bound). Request numbers stay below this bit (`epoch <<
/// 32 | seq` with far fewer than 2^29 boots).
pub const TIMER_REQ_STORE: TimerId = 1 << 61;
/// Timers at or above this are a client backoff (`TIMER_CLIENT | op_id`).
pub const TIMER_CLIENT: TimerId = 2 << 62;
/// Local time between attempts to open the store.
pub const BOOT_RETRY_NS: u64 = ms(10);

/// The open store with its boot epoch and Merkle trees.
#[derive(Debug)]
pub struct Open {
    pub(crate) store: Store,
    pub(crate) epoch: u64,
    pub(crate) forest: Forest,
}

/// One quorum node; see the module docs.
#[derive(Debug)]
pub struct QuorumNode {
    pub(crate) p: Arc<Params>,
    /// `None` while the store is not open: the node serves nothing.
    pub(crate) open: Option<Open>,
    pub(crate) members: Detector,
    /// Requests this node coordinates, by request number.
    pub(crate) reqs: BTreeMap<u64, Request>,
    /// Client operations waiting out a backoff before their next try: (op, tries so far).
    pub(crate) backoff: BTreeMap<OpId, (Op, u32)>,
    /// Client operations in flight (coordinating or backing off).
    pub(crate) in_flight: u32,
    /// Requests started this boot (the low bits of `req` and of the vector-clock counter).
    pub(crate) seq: u64,
    /// Membership time: advanced by the handoff timer's period at each of its ticks. Timers
    /// run on durations, so this never jumps when the node's clock does (a clock jumped back
    /// two seconds must not keep a peer suspected for two seconds).
    pub(crate) mono_ns: u64,
    /// Next range (index into `my_ranges`) anti-entropy visits.
    pub(crate) ae_next: usize,
    pub(crate) my_ranges: Vec<usize>,
    /// `membership=gossip`: the embedded SWIM member and its effect buffer.
    pub(crate) swim: Option<GossipNode>,
    pub(crate) swim_fx: Effects<GossipNode>,
    /// Group commit's state (`sync=group`).
    pub(crate) group: Group,
}

impl QuorumNode {
    /// A node with nothing open yet.
    pub fn new(p: Arc<Params>, id: NodeId, nodes: u32) -> QuorumNode {
        let my_ranges = p.ring.ranges_of(id);
        QuorumNode {
            p,
            open: None,
            members: Detector::new(nodes),
            reqs: BTreeMap::new(),
            backoff: BTreeMap::new(),
            in_flight: 0,
            seq: 0,
            mono_ns: 0,
            ae_next: 0,
            my_ranges,
            swim: None,
            swim_fx: Effects::default(),
            group: Group::default(),
        }
    }

    /// Whether the store is open and the node serves operations (false while booting or after
    /// a disk error, until it reopens). For a runtime's status report; protocol code reads
    /// `open` itself.
    pub fn is_serving(&self) -> bool {
        self.open.is_some()
    }

    /// The boot epoch of the open store (bumped durably at every boot), if open.
    pub fn epoch(&self) -> Option<u64> {
        self.open.as_ref().map(|o| o.epoch)
    }

    /// The requests this node coordinates, by request number (for a checker to watch their
    /// phases, tries and targets).
    pub fn requests(&self) -> &BTreeMap<u64, Request> {
        &self.reqs
    }

    /// Whether client operation `op_id` is waiting out a backoff before its next try here.
    pub fn backing_off(&self, op_id: OpId) -> bool {
        self.backoff.contains_key(&op_id)
    }

    /// The embedded SWIM member (`membership=gossip`), for a runtime to report its view.
    pub fn gossip(&self) -> Option<&GossipNode> {
        self.swim.as_ref()
    }

    /// Whether this node currently believes `node` up (what its coordinator acts on).
    pub fn believes_node_up(&self, node: NodeId) -> bool {
        self.believes_up(node)
    }

    /// Whether this node believes `node` up: the SWIM member's view with
    /// `membership=gossip`, else the local timeout detector's.
    pub(crate) fn believes_up(&self, node: NodeId) -> bool {
        Self::up_in(&self.swim, &self.members, self.mono_ns, node)
    }

    /// [`Self::believes_up`] over the fields it reads, for callers holding other fields
    /// mutably.
    pub(crate) fn up_in(
        swim: &Option<GossipNode>,
        members: &Detector,
        mono_ns: u64,
        node: NodeId,
    ) -> bool {
        match swim {
            Some(swim) => !swim.membership().is_failed(node),
            None => super::membership::Membership::is_up(members, node, mono_ns),
        }
    }

    /// Run a handler of the embedded SWIM member, its messages wrapped in [`Msg::Swim`].
    fn swim_call(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        f: impl FnOnce(&mut GossipNode, &mut Ctx<'_, GossipNode>),
    ) {
        if let Some(swim) = self.swim.as_mut() {
            embed::run(swim, &mut self.swim_fx, ctx, f, |ctx, to, msg| {
                ctx.send(to, Msg::Swim(msg))
            });
        }
    }

    fn boot(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.open = None;
        self.group_reset();
        match Self::try_open(ctx, &self.p) {
            Ok(o) => self.open = Some(o),
            Err(_) => ctx.set_timer(BOOT_RETRY_NS, TIMER_BOOT),
        }
    }

    fn try_open(ctx: &mut Ctx<'_, Self>, p: &Params) -> Result<Open, super::store::StoreError> {
        let clock: seedbed_engine::clock::ClockHandle = ctx.clock();
        // The memtable's size: the top rung in every ordinary run (no randomness drawn); a
        // shrinker replaying an edited record may turn it down (`DetRng::setting`).
        let rung = ctx.rng().fork("memtable").setting(MEMTABLE_RUNGS);
        let (store, epoch) = Store::open_with(ctx.disk().clone(), clock, lsm_options_at(rung))?;
        let mut forest = Forest::new(p.ring.ranges());
        store
            .scan(|key, bytes| forest.set(p.ring.range_of(key), key, merkle::digest(key, bytes)))?;
        Ok(Open {
            store,
            epoch,
            forest,
        })
    }

    /// The store failed: close it and reopen from disk (which retries on a timer).
    pub(crate) fn store_failed(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.open = None;
        self.boot(ctx);
    }

    /// Merge `incoming` into `key`'s stored versions (replace them under the planted
    /// `repair-overwrites` bug when `is_repair`); durable before returning `Ok` (`sync=always`)
    /// or once the group syncs (`sync=group`: what vouches for it is held). Returns whether
    /// anything changed. Errors close the store.
    pub(crate) fn merge_into_store(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        key: u32,
        incoming: &Siblings,
        is_repair: bool,
    ) -> Result<bool, ()> {
        let (mode, bug, sync) = (self.p.mode, self.p.bug, self.write_syncs());
        let range = self.p.ring.range_of(key);
        let Some(o) = self.open.as_mut() else {
            return Err(());
        };
        let mut s = match o.store.get(key) {
            Ok(s) => s,
            Err(_) => {
                self.store_failed(ctx);
                return Err(());
            }
        };
        let changed = if is_repair && bug == Bug::RepairOverwrites {
            let changed = s != *incoming;
            s = incoming.clone();
            changed
        } else {
            s.merge(incoming, mode)
        };
        if !changed {
            return Ok(false);
        }
        if o.store.put(key, &s, sync).is_err() {
            self.store_failed(ctx);
            return Err(());
        }
        let d = merkle::digest(key, o.store.last_encoded());
        o.forest.set(range, key, d);
        if o.store.maintenance().is_err() {
            self.store_failed(ctx);
            return Err(());
        }
        self.wrote(ctx);
        Ok(true)
    }

    /// Store one new version of `key` (a coordinator's write).
    fn store_version(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        key: u32,
        version: Version,
    ) -> Result<(), ()> {
        if self.p.bug == Bug::NoVclockMerge {
            // The planted bug: the new version replaces whatever is stored, concurrent
            // siblings included.
            let s = Siblings::one(version);
            let sync = self.write_syncs();
            let o = self.open.as_mut().ok_or(())?;
            if o.store.put(key, &s, sync).is_err() {
                self.store_failed(ctx);
                return Err(());
            }
            let d = merkle::digest(key, o.store.last_encoded());
            let range = self.p.ring.range_of(key);
            o.forest.set(range, key, d);
            self.wrote(ctx);
            return Ok(());
        }
        self.merge_into_store(ctx, key, &Siblings::one(version), false)
            .map(|_| ())
    }

    fn on_fetch(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, req: u64, key: u32) {
        let Some(o) = self.open.as_ref() else {
            return; // not serving: the coordinator's deadline handles it
        };
        let sibs = match o.store.get(key) {
            Ok(s) => Some(s),
            Err(_) => {
                self.store_failed(ctx);
                None
            }
        };
        match sibs {
            Some(_) => self.send_vouching(ctx, from, Msg::FetchReply { req, sibs }),
            None => ctx.send(from, Msg::FetchReply { req, sibs }),
        }
    }

    fn on_store(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        req: u64,
        key: u32,
        version: Version,
        hint_for: Option<NodeId>,
    ) {
        if self.open.is_none() {
            return;
        }
        if ctx.buggify("quorum/store-ack-lost") {
            return;
        }
        let ok = match hint_for {
            Some(intended) if intended != ctx.id() => self.store_hint(ctx, intended, key, version),
            _ => self.store_version(ctx, key, version),
        }
        .is_ok();
        if ok {
            self.send_vouching(ctx, from, Msg::StoreAck { req, ok });
        } else {
            ctx.send(from, Msg::StoreAck { req, ok });
        }
    }
}

impl Node for QuorumNode {
    type Msg = Msg;
    type Op = Op;
    type Reply = Reply;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.p.gossip {
            self.swim = Some(GossipNode::new(
                GossipParams::default(),
                ctx.node_count(),
                None,
            ));
            self.swim_call(ctx, |s, c| s.on_start(c));
        }
        self.boot(ctx);
        let jitter = ctx.rng().below(self.p.ae_every_ns.max(1));
        ctx.set_timer(self.p.ae_every_ns + jitter, TIMER_AE);
        ctx.set_timer(self.p.handoff_every_ns, TIMER_HANDOFF);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_start(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        super::membership::Membership::heard_from(&mut self.members, from, self.mono_ns);
        match msg {
            Msg::Swim(m) => self.swim_call(ctx, |s, c| s.on_message(c, from, m)),
            Msg::Fetch { req, key } => self.on_fetch(ctx, from, req, key),
            Msg::FetchReply { req, sibs } => self.on_fetch_reply(ctx, from, req, sibs),
            Msg::Store {
                req,
                key,
                version,
                hint_for,
            } => self.on_store(ctx, from, req, key, *version, hint_for),
            Msg::StoreAck { req, ok } => self.on_store_ack(ctx, from, req, ok),
            Msg::Repair { key, sibs } => {
                let _ = self.merge_into_store(ctx, key, &sibs, true);
            }
            Msg::Handoff { key, sibs } => self.on_handoff(ctx, from, key, sibs),
            Msg::HandoffAck { key, sibs } => self.on_handoff_ack(ctx, from, key, sibs),
            Msg::AeRoot { range, root } => self.on_ae_root(ctx, from, range, root),
            Msg::AeLeaves { range, leaves } => self.on_ae_leaves(ctx, from, range, &leaves),
            Msg::AeKeys {
                range,
                buckets,
                entries,
                reply,
            } => self.on_ae_keys(ctx, from, range, buckets, entries, reply),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId) {
        match timer {
            TIMER_BOOT if self.open.is_none() => self.boot(ctx),
            TIMER_BOOT => {}
            TIMER_GROUP => self.group_sync(ctx),
            TIMER_AE => {
                self.anti_entropy_tick(ctx);
                ctx.set_timer(self.p.ae_every_ns, TIMER_AE);
            }
            TIMER_HANDOFF => {
                self.mono_ns += self.p.handoff_every_ns;
                self.handoff_tick(ctx);
                ctx.set_timer(self.p.handoff_every_ns, TIMER_HANDOFF);
            }
            t if embed::is_swim_timer(t) => self.swim_call(ctx, |s, c| s.on_timer(c, t)),
            t if t >= TIMER_CLIENT => self.client_backoff_done(ctx, t - TIMER_CLIENT),
            t if t >= TIMER_REQ => {
                let r = t - TIMER_REQ;
                self.on_deadline(ctx, r & !TIMER_REQ_STORE, r & TIMER_REQ_STORE != 0)
            }
            _ => {}
        }
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Op) {
        self.client_invoke(ctx, op_id, op);
    }
}
