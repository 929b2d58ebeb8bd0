//! An IAM node: holds a view of the policy store, persists it in the LSM, takes part in
//! propagation, and decides authorization requests against its current view.
//!
//! Node 0 is the **leader** (IAM's control plane): it accepts changes, gives each its version,
//! logs it durably and starts propagating it. Every node (the leader too) is an enforcement
//! point: it answers `Authorize` from its own view, whatever version that is — that is the
//! eventual consistency the workload measures.
//!
//! **Applying.** A node applies an entry only when it continues its chain (`entry.prev ==
//! view.version`); entries that arrive early wait in a bounded stash. New entries are written
//! to the LSM in one synced batch, and only then applied and acknowledged.
//!
//! **Disk errors.** If a write or the recovery read fails, the node drops its database (as a
//! crash would leave it), keeps serving from the view it has in memory (everything in it is
//! durable), stops accepting entries, and reopens on a timer.
//!
//! **Planted bugs** ([`Bug`]) each remove one of these precautions.

use std::collections::BTreeMap;

use seedbed_engine::lsm::Db;

use super::catalog::Memo;
use super::msg::{IamMsg, IamOp, IamReply};
use super::persist;
use super::propagation;
use super::store::{Entry, View};
use super::swim::{self, SWIM_TIMER_MIN};
use super::{Bug, Mode};
use crate::node::Effects;
use crate::node::{Ctx, Node, NodeId, OpId, TimerId};
use crate::time::ms;
use crate::workloads::gossip::node::GossipNode;

/// The leader's id.
pub const LEADER: NodeId = 0;
/// Entries waiting for a gap to fill, at most.
pub const STASH_MAX: usize = 64;
/// Local time between attempts to reopen the database.
pub const REOPEN_NS: u64 = ms(10);
/// The propagation timer (retransmit / gossip round).
pub(crate) const TICK: TimerId = 1;
const REOPEN: TimerId = 2;

/// What every node of a run shares.
#[derive(Clone, Copy, Debug)]
pub struct NodeConfig {
    /// How changes propagate.
    pub mode: Mode,
    /// The planted bug, if any.
    pub bug: Bug,
    /// Local time between propagation rounds.
    pub tick_ns: u64,
}

/// One node; see the module docs.
pub struct IamNode {
    pub(crate) cfg: NodeConfig,
    db: Option<Db>,
    /// Whether a view was ever loaded (until then the node cannot decide).
    loaded: bool,
    pub(crate) view: View,
    /// Applied entries by version: what this node can send to others.
    pub(crate) log: BTreeMap<u64, Entry>,
    /// Entries that arrived before their predecessor, keyed by `prev`.
    stash: BTreeMap<u64, Entry>,
    /// The highest version this node has acknowledged as durable.
    pub(crate) acked: u64,
    /// The last version reported to the leader (gossip mode).
    pub(crate) ack_reported: u64,
    /// Decisions for the current view.
    memo: Option<Memo>,
    /// Leader only: each node's last acknowledged version.
    pub(crate) peer_acked: Vec<u64>,
    pub(crate) ticks: u64,
    /// `mode=swim`: the embedded SWIM member and its effect buffers.
    pub(crate) swim: Option<GossipNode>,
    pub(crate) swim_fx: Effects<GossipNode>,
}

impl std::fmt::Debug for IamNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamNode")
            .field("version", &self.view.version)
            .field("acked", &self.acked)
            .finish()
    }
}

impl Drop for IamNode {
    /// The world drops a node when it crashes, after the disk has crashed (so a closing sync
    /// would fail on dead handles and change nothing). Abandon the `Db` anyway: a crashed
    /// process runs no shutdown code, and a clean close here would only try to.
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            db.abandon();
        }
    }
}

impl IamNode {
    /// A node with nothing loaded.
    pub fn new(cfg: NodeConfig) -> Self {
        IamNode {
            cfg,
            db: None,
            loaded: false,
            view: View::default(),
            log: BTreeMap::new(),
            stash: BTreeMap::new(),
            acked: 0,
            ack_reported: 0,
            memo: None,
            peer_acked: Vec::new(),
            ticks: 0,
            swim: None,
            swim_fx: Effects::default(),
        }
    }

    fn boot(&mut self, ctx: &mut Ctx<'_, Self>, restart: bool) {
        if ctx.id() == LEADER {
            self.peer_acked = vec![0; ctx.node_count() as usize];
        }
        self.reopen(ctx);
        ctx.set_timer(self.cfg.tick_ns, TICK);
        if self.cfg.mode == Mode::Swim {
            swim::boot(self, ctx, restart);
        }
    }

    fn reopen(&mut self, ctx: &mut Ctx<'_, Self>) {
        let opened = persist::open(ctx.disk(), ctx.clock()).and_then(|(db, view, entries)| {
            if view.version > 0 {
                // Whatever recovery read must stay: make it durable before building on it.
                db.flush()?;
                db.sync_wal()?;
            }
            Ok((db, view, entries))
        });
        match opened {
            Ok((db, view, entries)) => {
                self.db = Some(db);
                self.loaded = true;
                self.view = view;
                self.log = entries.into_iter().map(|e| (e.id, e)).collect();
                self.stash.clear();
                self.acked = view.version;
                self.memo = None;
                if ctx.id() == LEADER {
                    self.peer_acked[LEADER as usize] = view.version;
                } else {
                    ctx.send(
                        LEADER,
                        IamMsg::Ack {
                            version: self.acked,
                        },
                    );
                    self.ack_reported = self.acked;
                }
            }
            Err(_) => ctx.set_timer(REOPEN_NS, REOPEN),
        }
    }

    /// A disk write failed: drop the database and reopen later.
    fn disk_failed(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(db) = self.db.take() {
            db.abandon();
        }
        ctx.set_timer(REOPEN_NS, REOPEN);
    }

    /// The highest version every node holds durably, as far as the leader knows.
    fn all_acked(&self) -> u64 {
        self.peer_acked.iter().copied().min().unwrap_or(0)
    }

    fn decide(&mut self, req: u16) -> bool {
        let store = self.view.store;
        self.memo
            .get_or_insert_with(|| Memo::new(store))
            .allows(req)
    }

    fn commit(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        op_id: OpId,
        id: u64,
        change: super::store::Change,
    ) {
        let Some(db) = self.db.as_ref() else {
            return ctx.reply(op_id, IamReply::Rejected { maybe: false });
        };
        if ctx.id() != LEADER || id <= self.view.version {
            return ctx.reply(op_id, IamReply::Rejected { maybe: false });
        }
        let entry = Entry {
            id,
            prev: self.view.version,
            change,
        };
        // The leader's own log is always synced: the planted bugs live in propagation.
        if persist::append(db, &[entry], true).is_err() {
            ctx.reply(op_id, IamReply::Rejected { maybe: true });
            return self.disk_failed(ctx);
        }
        self.applied(&[entry]);
        self.peer_acked[LEADER as usize] = self.acked;
        ctx.reply(op_id, IamReply::Committed { version: id });
        propagation::on_commit(self, ctx, entry);
    }

    /// Entries are durable (or, with the planted bug, merely written): apply them.
    fn applied(&mut self, entries: &[Entry]) {
        for e in entries {
            self.view.apply(e);
            self.log.insert(e.id, *e);
        }
        self.acked = self.view.version;
        if self.cfg.bug != Bug::StaleCache {
            self.memo = None;
        }
    }

    /// Entries from `from`: apply what continues the chain, persist, acknowledge. Returns the
    /// entries newly applied.
    pub(crate) fn receive(&mut self, ctx: &mut Ctx<'_, Self>, entries: &[Entry]) -> Vec<Entry> {
        let Some(db) = self.db.as_ref() else {
            return Vec::new(); // Cannot persist now; a later round brings them again.
        };
        let mut fresh: Vec<Entry> = Vec::new();
        let mut cur = self.view.version;
        for e in entries {
            if self.log.contains_key(&e.id) || fresh.iter().any(|f| f.id == e.id) {
                continue;
            }
            if self.cfg.bug == Bug::OutOfOrder {
                fresh.push(*e); // Planted bug: no check that the predecessor is here.
                cur = cur.max(e.id);
            } else if e.prev == cur {
                fresh.push(*e);
                cur = e.id;
            } else if e.id > cur && self.stash.len() < STASH_MAX {
                self.stash.insert(e.prev, *e);
            }
        }
        if self.cfg.bug != Bug::OutOfOrder {
            while let Some(e) = self.stash.remove(&cur) {
                fresh.push(e);
                cur = e.id;
            }
            // Anything stashed at or below the chain's end can never apply now.
            self.stash = self.stash.split_off(&cur);
        }
        if fresh.is_empty() {
            return fresh;
        }
        let sync = self.cfg.bug != Bug::AckBeforePersist;
        if persist::append(db, &fresh, sync).is_err() {
            self.disk_failed(ctx);
            return Vec::new();
        }
        self.applied(&fresh);
        fresh
    }
}

impl Node for IamNode {
    type Msg = IamMsg;
    type Op = IamOp;
    type Reply = IamReply;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.boot(ctx, false);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.boot(ctx, true);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: IamMsg) {
        match msg {
            IamMsg::Append { entries } => propagation::on_append(self, ctx, from, &entries),
            IamMsg::Ack { version } => {
                if ctx.id() == LEADER {
                    // Assign, not max: a node that lost state (only a buggy one can) must be
                    // caught up again.
                    self.peer_acked[from as usize] = version;
                }
            }
            IamMsg::Digest { version } => propagation::on_digest(self, ctx, from, version),
            IamMsg::Swim { msg, version } => swim::on_message(self, ctx, from, msg, version),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId) {
        match timer {
            TICK => {
                self.ticks += 1;
                propagation::on_tick(self, ctx);
                ctx.set_timer(self.cfg.tick_ns, TICK);
            }
            REOPEN if self.db.is_none() => self.reopen(ctx),
            t if t >= SWIM_TIMER_MIN => swim::on_timer(self, ctx, t),
            _ => {}
        }
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: IamOp) {
        match op {
            IamOp::Change { id, change } => self.commit(ctx, op_id, id, change),
            IamOp::Authorize { req } => {
                if !self.loaded {
                    return ctx.reply(op_id, IamReply::Unavailable);
                }
                let allow = self.decide(req);
                let all_acked = if ctx.id() == LEADER {
                    self.all_acked()
                } else {
                    0
                };
                ctx.reply(
                    op_id,
                    IamReply::Decided {
                        allow,
                        version: self.view.version,
                        digest: self.view.digest,
                        acked: self.acked,
                        all_acked,
                    },
                );
            }
        }
    }
}
