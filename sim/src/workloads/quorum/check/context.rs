//! The context (`quorum-context`): a put supersedes every version its read phase returned.
//!
//! Dynamo §4.4: a client's update carries the *context* of the versions it read, and the new
//! version's vector clock descends every one of them — that is how a write reconciles
//! siblings instead of adding one more. Here the coordinator reads the context itself: a put
//! (or delete) first fetches the key from its replicas, merges the replies, and then stores a
//! version whose clock is that merge ticked at the coordinator. So every version a replica's
//! `FetchReply` carried to the coordinator for that request, before its store phase began,
//! must be dominated by the clock of the version it stores.
//!
//! Judged from the messages, not the coordinator's state: per (coordinator, request), the
//! first reply with versions each replica delivered (the coordinator ignores a replica's later
//! replies, and a reply without versions, from a replica whose store failed), up to the first
//! `Store` the coordinator sends for that request; replies delivered after it are not part of
//! the context. The comparison is the checkers' own ([`super::order`]). Vector-clock mode
//! only: with last-writer-wins the new version wins by timestamp, not by clock. A clock of
//! [`VCLOCK_ENTRIES_MAX`] entries may have been pruned, which can drop an entry of the context
//! (`vclock.rs`: a spurious sibling, by design), so such a store is not judged; runs of up to
//! ten nodes never prune.

use std::collections::{BTreeMap, BTreeSet};

use super::order;
use crate::check::Checker;
use crate::node::NodeId;
use crate::time::fmt_nanos;
use crate::workloads::quorum::msg::Msg;
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::vclock::{fmt_counter, VCLOCK_ENTRIES_MAX};
use crate::workloads::quorum::version::{Mode, Siblings};

/// (coordinator, request).
type Req = (NodeId, u64);

/// See the module docs.
#[derive(Debug)]
pub struct Context {
    active: bool,
    /// Requests still reading: the first reply with versions of each replica, in the order
    /// delivered, with when it arrived.
    reading: BTreeMap<Req, Vec<(NodeId, u64, Siblings)>>,
    /// Requests whose store phase began (their later replies are not context).
    storing: BTreeSet<Req>,
    /// Store phases judged.
    pub judged: u64,
    /// Versions of their contexts compared with the version stored.
    pub compared: u64,
}

impl Context {
    /// The checker's name.
    pub const NAME: &'static str = "quorum-context";

    /// For a run in `mode`; idle with last-writer-wins.
    pub fn new(mode: Mode) -> Context {
        Context {
            active: mode == Mode::VClock,
            reading: BTreeMap::new(),
            storing: BTreeSet::new(),
            judged: 0,
            compared: 0,
        }
    }
}

impl Checker<QuorumNode> for Context {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn deliver(&mut self, t_ns: u64, from: NodeId, to: NodeId, msg: &Msg) -> Result<(), String> {
        let Msg::FetchReply { req, sibs: Some(s) } = msg else {
            return Ok(());
        };
        if !self.active || self.storing.contains(&(to, *req)) {
            return Ok(());
        }
        let replies = self.reading.entry((to, *req)).or_default();
        if !replies.iter().any(|(r, _, _)| *r == from) {
            replies.push((from, t_ns, s.clone()));
        }
        Ok(())
    }

    fn send(&mut self, _t_ns: u64, from: NodeId, _to: NodeId, msg: &Msg) -> Result<(), String> {
        let Msg::Store {
            req, key, version, ..
        } = msg
        else {
            return Ok(());
        };
        if !self.active || !self.storing.insert((from, *req)) {
            return Ok(()); // a resend, or a stand-in's copy: the same version
        }
        let replies = self.reading.remove(&(from, *req)).unwrap_or_default();
        if version.clock.entries().len() >= VCLOCK_ENTRIES_MAX {
            return Ok(()); // maybe pruned: see the module docs
        }
        self.judged += 1;
        for (replica, at, sibs) in &replies {
            for v in sibs.versions() {
                self.compared += 1;
                if let Some((actor, have, need)) = order::missing(&version.clock, &v.clock) {
                    return Err(format!(
                        "n{from} stores {version} for key {key} (request {req}), which does not supersede {v}: n{replica}'s reply to its read, delivered at {}, carried it, and the new clock has n{actor}:{} where that version has n{actor}:{} (Dynamo §4.4: a write's clock descends every version its context read)",
                        fmt_nanos(*at),
                        fmt_counter(have),
                        fmt_counter(need),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A coordinator that crashed lost its requests; a request number of its new life may
    /// repeat one of the old (its epoch is 0 until its store opens), so forget its old ones.
    fn restarted(&mut self, _t_ns: u64, node: NodeId) {
        self.reading.retain(|(c, _), _| *c != node);
        self.storing.retain(|(c, _)| *c != node);
    }
}
