//! The table the function writes: a derived table, an idempotency table and an effect log, in
//! one node's LSM — the role DynamoDB plays behind a Lambda function.
//!
//! An apply of event `e` is one write batch, synced before the worker hears back:
//! - `i` · sequencer — the idempotency record: `e` has been applied. Checked first: if it is
//!   there, the apply is a duplicate delivery and changes nothing.
//! - `f` · n — the effect log's next entry: `e`. This is the side effect (an email sent, a
//!   counter bumped); the checkers count its entries per event.
//! - `d` · key — the derived table: the key's latest version by *sequencer* — written only if
//!   `e`'s sequencer is above the one stored, so an event that arrives late never rolls a key
//!   back.
//!
//! Writing the three in one batch is what makes the effect exactly-once: the check and the
//! effect cannot be separated by a crash. The planted bugs `no-idempotency` (skip the check)
//! and `arrival-order` (write `d` whatever the sequencer) each remove one precaution.

use std::collections::{BTreeMap, BTreeSet};

use seedbed_engine::lsm::WriteBatch;

use super::event::{u64_at, Event, Kind};
use super::msg::Msg;
use super::node::EventsNode;
use super::params::{Bug, Params};
use super::store::{corrupt, id_of, key_u32, key_u64, Store, StoreError};
use crate::node::{Ctx, NodeId, TimerId};
use crate::time::ms;

/// The database directory.
pub const DIR: &str = "/table";
const DERIVED: u8 = b'd';
const IDEMPOTENCY: u8 = b'i';
const EFFECTS: u8 = b'f';
const TIMER_OPEN: TimerId = 1;
/// Local time between attempts to open the store.
pub const OPEN_RETRY_NS: u64 = ms(20);

/// The table's state: an index of what its store holds.
#[derive(Debug)]
pub struct Table {
    p: Params,
    store: Option<Store>,
    derived: BTreeMap<u32, (u64, Kind)>,
    applied: BTreeSet<u64>,
    effects: Vec<Event>,
    /// Bumped at every change and every reopen, so a checker knows when to look again.
    version: u64,
}

impl Table {
    /// A table with nothing open yet.
    pub fn new(p: Params) -> Self {
        Table {
            p,
            store: None,
            derived: BTreeMap::new(),
            applied: BTreeSet::new(),
            effects: Vec::new(),
            version: 0,
        }
    }

    /// The derived table as the disk holds it: key → (sequencer, kind) of its latest event.
    pub fn derived(&self) -> &BTreeMap<u32, (u64, Kind)> {
        &self.derived
    }

    /// The effect log as the disk holds it, oldest first.
    pub fn effects(&self) -> &[Event] {
        &self.effects
    }

    /// Changes with every write and reopen.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether the store is open.
    pub fn is_open(&self) -> bool {
        self.store.is_some()
    }

    /// Open the store and rebuild the index; retry on failure.
    pub fn boot(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.version += 1;
        if self.open(ctx).is_err() {
            self.store = None;
            ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> Result<(), StoreError> {
        let store = Store::open(ctx.disk(), DIR, ctx.clock())?;
        self.derived.clear();
        self.applied.clear();
        self.effects.clear();
        for (k, v) in store.scan(&[DERIVED])? {
            let key = id_of(&k, 4)? as u32;
            if v.len() != 9 || v[8] > 1 {
                return Err(corrupt(
                    &k,
                    "derived record is not 8 bytes and a kind".into(),
                ));
            }
            let kind = if v[8] == 1 {
                Kind::Removed
            } else {
                Kind::Created
            };
            self.derived.insert(key, (u64_at(&v, 0), kind));
        }
        for (k, _) in store.scan(&[IDEMPOTENCY])? {
            self.applied.insert(id_of(&k, 8)?);
        }
        for (i, (k, v)) in store.scan(&[EFFECTS])?.into_iter().enumerate() {
            if id_of(&k, 8)? != i as u64 {
                return Err(corrupt(
                    &k,
                    format!("effect log entry out of place (expected {i})"),
                ));
            }
            self.effects
                .push(Event::decode(&v).map_err(|d| corrupt(&k, d))?);
        }
        self.store = Some(store);
        Ok(())
    }

    fn on_apply(&mut self, ctx: &mut Ctx<'_, EventsNode>, from: NodeId, req: u64, e: Event) {
        let Some(store) = self.store.as_ref() else {
            return; // The worker retries.
        };
        if self.p.bug != Bug::NoIdempotency && self.applied.contains(&e.seq) {
            ctx.send(
                from,
                Msg::Applied {
                    req,
                    duplicate: true,
                },
            );
            return;
        }
        let newer = match self.derived.get(&e.key) {
            None => true,
            Some(&(seq, _)) => e.seq > seq || self.p.bug == Bug::ArrivalOrder,
        };
        let mut batch = WriteBatch::new();
        batch.put(&key_u64(IDEMPOTENCY, e.seq), &[]);
        batch.put(&key_u64(EFFECTS, self.effects.len() as u64), &e.encode());
        if newer {
            let mut v = [0u8; 9];
            v[..8].copy_from_slice(&e.seq.to_le_bytes());
            v[8] = u8::from(e.kind == Kind::Removed);
            batch.put(&key_u32(DERIVED, e.key), &v);
        }
        if store.write(batch, true).is_err() {
            // Maybe written, maybe not: reopen and let the disk say; the worker retries.
            self.store = None;
            self.version += 1;
            ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
            return;
        }
        self.applied.insert(e.seq);
        self.effects.push(e);
        if newer {
            self.derived.insert(e.key, (e.seq, e.kind));
        }
        self.version += 1;
        ctx.send(
            from,
            Msg::Applied {
                req,
                duplicate: false,
            },
        );
    }

    /// Applies from workers.
    pub fn on_message(&mut self, ctx: &mut Ctx<'_, EventsNode>, from: NodeId, msg: Msg) {
        if let Msg::Apply { req, event } = msg {
            self.on_apply(ctx, from, req, event);
        }
    }

    /// Timers: reopening the store.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, timer: TimerId) {
        if timer == TIMER_OPEN && self.store.is_none() {
            self.boot(ctx);
        }
    }
}
