//! Hinted handoff: a fallback keeps writes for an unreachable replica and hands them over.
//!
//! A fallback that receives a `Store` with `hint_for` merges the version into its durable hint
//! for (replica, key) and acknowledges — the write counts towards W (sloppy quorum). Every
//! [`super::params::Params::handoff_every_ns`] it sends each hint whose replica the membership
//! view believes up; the replica merges it durably and acknowledges; the holder then deletes
//! the hint, unless a newer write was merged into it meanwhile. Hints live in the LSM, so a
//! fallback that crashes still delivers them after restart. The planted `hint-never-delivered`
//! bug skips the sending; the convergence checker notices hints still held after the faults.

use super::msg::Msg;
use super::node::QuorumNode;
use super::version::{Siblings, Version};
use super::Bug;
use crate::{Ctx, NodeId};

/// Hints sent per handoff round, at most.
pub const HINTS_PER_ROUND_MAX: usize = 32;

impl QuorumNode {
    /// Keep `version` of `key` for `intended`, durably.
    pub(crate) fn store_hint(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        intended: NodeId,
        key: u32,
        version: Version,
    ) -> Result<(), ()> {
        let (mode, sync) = (self.p.mode, self.write_syncs());
        let o = self.open.as_mut().ok_or(())?;
        let mut s = match o.store.get_hint(intended, key) {
            Ok(s) => s.unwrap_or_default(),
            Err(_) => {
                self.store_failed(ctx);
                return Err(());
            }
        };
        if s.add(version, mode) {
            if o.store.put_hint(intended, key, &s, sync).is_err() {
                self.store_failed(ctx);
                return Err(());
            }
            self.wrote(ctx);
        }
        Ok(())
    }

    pub(crate) fn handoff_tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.p.bug == Bug::HintNeverDelivered {
            return;
        }
        let Some(o) = self.open.as_ref() else { return };
        let hints = match o.store.hints(HINTS_PER_ROUND_MAX) {
            Ok(h) => h,
            Err(_) => return self.store_failed(ctx),
        };
        for (intended, key, sibs) in hints {
            // A hint is worth a try on any evidence that its node is back: SWIM holding it
            // alive, or the local detector not suspecting it. With membership=gossip SWIM alone
            // would hold back hints until a healed node has refuted its failure, which can take
            // longer than anti-entropy's bound; a hint to a node still down only times out.
            let local_up =
                super::membership::Membership::is_up(&self.members, intended, self.mono_ns);
            if self.believes_up(intended) || local_up {
                ctx.send(intended, Msg::Handoff { key, sibs });
            }
        }
    }

    pub(crate) fn on_handoff(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        key: u32,
        sibs: Siblings,
    ) {
        if self.merge_into_store(ctx, key, &sibs, false).is_ok() {
            self.send_vouching(ctx, from, Msg::HandoffAck { key, sibs });
        }
    }

    pub(crate) fn on_handoff_ack(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        key: u32,
        sibs: Siblings,
    ) {
        let Some(o) = self.open.as_mut() else { return };
        match o.store.get_hint(from, key) {
            Ok(Some(cur)) if cur == sibs => {
                if o.store.delete_hint(from, key).is_err() {
                    self.store_failed(ctx);
                }
            }
            Ok(_) => {}
            Err(_) => self.store_failed(ctx),
        }
    }

    /// Hints held, at most `limit` counted.
    pub(crate) fn hints_held(&self, limit: usize) -> u64 {
        self.open
            .as_ref()
            .and_then(|o| o.store.hints(limit).ok())
            .map_or(0, |h| h.len() as u64)
    }
}
