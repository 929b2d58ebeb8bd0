//! Group commit ([`SyncMode::Group`]): many writes, one WAL sync, no acknowledgement before it.
//!
//! With [`SyncMode::Always`] every store write syncs before the handler returns, so whatever a
//! replica says about its store is already on disk. With `Group` the writes are appended
//! unsynced and the replica is *dirty*: every message that vouches for its store — a
//! `StoreAck`, a `HandoffAck`, a `FetchReply` (a read must not see what a crash can take back,
//! as with `Always` it cannot) — is held instead of sent, and a timer ([`TIMER_GROUP`]) is
//! set. When it fires, one WAL sync covers every write since the last, and the held messages
//! go out in the order they were made. A crash before the sync drops the writes and the held
//! messages together (both live in memory), so no acknowledgement ever precedes durability.
//!
//! The rule is "hold while dirty", not "hold the reply to this write": an acknowledgement for
//! a write that changed nothing (its version already stored, unsynced, by an earlier message)
//! must wait for that earlier write's sync too.
//!
//! The planted bug `ack-before-sync` sends instead of holding (and never syncs a group), in
//! either mode.

use super::msg::Msg;
use super::node::QuorumNode;
use super::params::SyncMode;
use super::Bug;
use crate::{Ctx, NodeId, TimerId};

/// Timer: sync the group and release what it held.
pub const TIMER_GROUP: TimerId = 4;

/// A replica's group-commit state (empty with [`SyncMode::Always`]).
#[derive(Debug, Default)]
pub struct Group {
    /// Writes since the last sync.
    pub(crate) dirty: bool,
    /// [`TIMER_GROUP`] is set and has not fired.
    pub(crate) timer_set: bool,
    /// Messages vouching for the store, to send after the sync.
    pub(crate) held: Vec<(NodeId, Msg)>,
    /// Syncs done and writes they covered (this boot), for a runtime's status.
    pub(crate) syncs: u64,
    pub(crate) writes: u64,
}

impl QuorumNode {
    /// Whether a store write must sync before it returns: with `Always`, unless the planted
    /// bug skips it.
    pub(crate) fn write_syncs(&self) -> bool {
        self.p.sync == SyncMode::Always && self.p.bug != Bug::AckBeforeSync
    }

    /// A store write just returned: with `Group`, the node is dirty until the group's sync.
    pub(crate) fn wrote(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.p.sync != SyncMode::Group {
            return;
        }
        self.group.dirty = true;
        self.group.writes += 1;
        if !self.group.timer_set && self.p.bug != Bug::AckBeforeSync {
            self.group.timer_set = true;
            ctx.set_timer(self.p.group_delay_ns, TIMER_GROUP);
        }
    }

    /// Send a message that vouches for the store: held while unsynced writes exist.
    pub(crate) fn send_vouching(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if self.group.dirty && self.p.bug != Bug::AckBeforeSync {
            self.group.held.push((to, msg));
        } else {
            ctx.send(to, msg);
        }
    }

    /// [`TIMER_GROUP`] fired: one sync for the group, then what it held goes out. A failed
    /// sync closes the store (as a failed write does) and drops the held messages: their
    /// writes may not be on disk.
    pub(crate) fn group_sync(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.group.timer_set = false;
        if !self.group.dirty {
            return;
        }
        let Some(o) = self.open.as_ref() else {
            return;
        };
        if ctx.buggify("quorum/group-sync-late") {
            // Widen the window a crash can land in: the writes stay unsynced a while longer.
            self.group.timer_set = true;
            ctx.set_timer(self.p.group_delay_ns.max(1) * 4, TIMER_GROUP);
            return;
        }
        if o.store.sync().is_err() {
            self.store_failed(ctx);
            return;
        }
        self.group.dirty = false;
        self.group.syncs += 1;
        for (to, msg) in std::mem::take(&mut self.group.held) {
            ctx.send(to, msg);
        }
    }

    /// Forget the group: the store was closed, its unsynced writes may be gone, so what
    /// vouched for them must never be sent. (A crash forgets it with the rest of memory.)
    pub(crate) fn group_reset(&mut self) {
        self.group.dirty = false;
        self.group.held.clear();
    }

    /// (syncs, writes) of group commit this boot: writes per sync is the batching achieved.
    pub fn group_stats(&self) -> (u64, u64) {
        (self.group.syncs, self.group.writes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use seedbed_engine::clock::{ClockHandle, VirtualClock};
    use seedbed_engine::io::sim::{SimConfig, SimFs};
    use seedbed_engine::io::FsHandle;
    use seedbed_engine::rng::DetRng;

    use super::*;
    use crate::quorum::params::Params;
    use crate::quorum::ring::Ring;
    use crate::quorum::vclock::VClock;
    use crate::quorum::version::{Mode, Version};
    use crate::{Effects, NoBuggify, Node};

    fn params(sync: SyncMode, bug: Bug) -> Arc<Params> {
        Arc::new(Params {
            n: 3,
            r: 2,
            w: 2,
            mode: Mode::VClock,
            bug,
            sloppy: true,
            gossip: false,
            ring: Ring::new(3, 8, 3),
            timeout_ns: 20_000_000,
            phase_tries: 3,
            client_retries: 2,
            backoff_ns: 5_000_000,
            concurrency: 64,
            ae_every_ns: 10_000_000,
            handoff_every_ns: 20_000_000,
            sync,
            group_delay_ns: 0,
        })
    }

    /// Node 0 with its disk, driven by hand: each call returns the effects it asked for.
    struct Rig {
        node: QuorumNode,
        clock: ClockHandle,
        rng: DetRng,
        disk: Arc<SimFs>,
        fx: Effects<QuorumNode>,
    }

    impl Rig {
        fn new(p: Arc<Params>, disk: Arc<SimFs>, restart: bool) -> Rig {
            let mut r = Rig {
                node: QuorumNode::new(p, 0, 3),
                clock: Arc::new(VirtualClock::new()),
                rng: DetRng::new(1),
                disk,
                fx: Effects::default(),
            };
            r.call(|n, c| {
                if restart {
                    n.on_restart(c)
                } else {
                    n.on_start(c)
                }
            });
            r
        }

        fn call(&mut self, f: impl FnOnce(&mut QuorumNode, &mut Ctx<'_, QuorumNode>)) {
            self.fx = Effects::default();
            let disk: FsHandle = self.disk.clone();
            let mut never = NoBuggify;
            let mut ctx = Ctx::new(
                0,
                3,
                &self.clock,
                &mut self.rng,
                &disk,
                &mut never,
                &mut self.fx,
            );
            f(&mut self.node, &mut ctx);
        }

        fn store(&mut self, req: u64, key: u32, value: u64) {
            let mut clock = VClock::default();
            clock.tick(1, req, req);
            let version = Version {
                clock,
                ts_ns: req,
                writer: 1,
                value: Some(value),
            };
            self.call(|n, c| {
                n.on_message(
                    c,
                    1,
                    Msg::Store {
                        req,
                        key,
                        version: Box::new(version),
                        hint_for: None,
                    },
                )
            });
        }

        fn acks(&self) -> Vec<u64> {
            self.fx
                .sends
                .iter()
                .filter_map(|(_, m)| match m {
                    Msg::StoreAck { req, ok: true } => Some(*req),
                    _ => None,
                })
                .collect()
        }

        fn group_timer_set(&self) -> bool {
            self.fx.timers.iter().any(|&(_, t)| t == TIMER_GROUP)
        }
    }

    fn lossy_disk() -> Arc<SimFs> {
        let mut cfg = SimConfig::default();
        cfg.faults.crash.keep_write = 0.0;
        cfg.faults.crash.tear_write = 0.0;
        Arc::new(SimFs::new(3, cfg))
    }

    #[test]
    fn group_acknowledgements_wait_for_the_one_sync_that_covers_them() {
        let mut r = Rig::new(params(SyncMode::Group, Bug::None), lossy_disk(), false);
        r.store(1, 7, 70);
        assert!(r.acks().is_empty(), "no acknowledgement before the sync");
        assert!(r.group_timer_set());
        r.store(2, 8, 80);
        assert!(r.acks().is_empty());
        assert!(!r.group_timer_set(), "one timer per group");
        r.call(|n, c| n.on_timer(c, TIMER_GROUP));
        assert_eq!(r.acks(), vec![1, 2], "both released by one sync, in order");
        assert_eq!(r.node.group_stats(), (1, 2));
        // Synced: a crash keeps both.
        drop(r.node);
        r.disk.crash();
        let r2 = Rig::new(params(SyncMode::Group, Bug::None), r.disk.clone(), true);
        let store = &r2.node.open.as_ref().expect("reopened").store;
        assert_eq!(store.get(7).unwrap().versions()[0].value, Some(70));
        assert_eq!(store.get(8).unwrap().versions()[0].value, Some(80));
    }

    #[test]
    fn a_crash_before_the_sync_takes_the_writes_and_their_acknowledgements_together() {
        let mut r = Rig::new(params(SyncMode::Group, Bug::None), lossy_disk(), false);
        r.store(1, 7, 70);
        assert!(r.acks().is_empty());
        drop(r.node);
        r.disk.crash();
        let r2 = Rig::new(params(SyncMode::Group, Bug::None), r.disk.clone(), true);
        let store = &r2.node.open.as_ref().expect("reopened").store;
        assert!(
            store.get(7).unwrap().versions().is_empty(),
            "never acknowledged, lost"
        );
    }

    #[test]
    fn always_acknowledges_at_once_and_the_planted_bug_acknowledges_unsynced() {
        let mut r = Rig::new(params(SyncMode::Always, Bug::None), lossy_disk(), false);
        r.store(1, 7, 70);
        assert_eq!(r.acks(), vec![1]);
        assert!(!r.group_timer_set());
        let mut b = Rig::new(
            params(SyncMode::Group, Bug::AckBeforeSync),
            lossy_disk(),
            false,
        );
        b.store(1, 7, 70);
        assert_eq!(b.acks(), vec![1], "the bug sends without waiting");
        drop(b.node);
        b.disk.crash();
        let b2 = Rig::new(params(SyncMode::Group, Bug::None), b.disk.clone(), true);
        let store = &b2.node.open.as_ref().expect("reopened").store;
        assert!(
            store.get(7).unwrap().versions().is_empty(),
            "an acknowledged write lost: what the durability checker catches"
        );
    }
}
