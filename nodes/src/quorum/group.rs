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
