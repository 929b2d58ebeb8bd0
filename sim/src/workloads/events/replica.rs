//! A queue replica: the queue's state ([`super::queue::State`]) kept as a replicated log in
//! each replica's LSM, with majority acknowledgement and leader failover.
//!
//! The log is Raft's, kept small: terms, one vote per term, an election timeout, a leader that
//! appends and replicates, a commit index counted from a majority.
//!
//! - **Every change is a log entry.** The leader turns each client request into an
//!   [`Entry`] — a send batch, a receive (which messages it hands out, which it moves to the
//!   dead-letter queue), a delete — writes it to its LSM *synced*, applies it to its state and
//!   sends it to the followers, which write it synced, apply it and answer with the index they
//!   hold. Receive counts are entries like the rest: a new leader starts with the counts its
//!   log holds, so a poison message keeps counting towards the dead-letter queue across a
//!   failover instead of starting again at zero.
//! - **Majority acknowledgement.** The leader acknowledges a send only when a majority of
//!   replicas (itself included) hold its entry durably — the entry is then *committed*. A
//!   committed entry is in the log of every later leader (below), so a send acknowledged to the
//!   producer, which then drops it from its outbox, is never lost.
//! - **Receives hand out at once.** A receive's messages go to the worker when the leader has
//!   written the entry, before a majority holds it (and even when the write failed: it may have
//!   reached the disk). If the entry is lost in a failover, the counts err low — more receives
//!   before the dead-letter queue, never fewer; a count on any replica is always a receive that
//!   did happen (see `events-dead-letter`).
//! - **Elections.** A follower that hears no leader for its election timeout (150–300 ms, drawn
//!   each time) asks for votes in a new term. A replica votes once per term (the vote is synced
//!   first), and only for a candidate whose log is at least as up to date as its own (last
//!   entry's term, then length). A majority elects; since every committed entry is on a
//!   majority, and two majorities meet, the winner holds every committed entry. A new leader
//!   appends a no-op of its term: entries of earlier terms commit with it.
//! - **Check quorum.** A leader that no majority has answered for an election timeout steps
//!   down: cut off from the others, it may have been replaced, and clients that can reach it
//!   should look for the leader elsewhere rather than wait on sends it cannot commit.
//! - **Repair.** A follower refuses entries whose predecessor it lacks; the leader backs up
//!   and resends. A follower whose log disagrees with the leader's cuts its log at the first
//!   conflicting entry — only uncommitted entries can conflict — and rebuilds its state.
//!
//! Clients (producer, workers) send to the replica they believe leads; any other answers
//! [`Msg::NotLeader`] with the leader it follows, if any.
//!
//! The planted bug `queue-ack-before-majority` acknowledges a send once the leader's own log
//! holds it.
//!
//! Layout: `l` · index → term · entry; `t` → current term · vote.

use std::collections::{BTreeMap, BTreeSet};

use seedbed_engine::lsm::WriteBatch;

use super::event::{u32_at, u64_at, Event};
use super::msg::Msg;
use super::node::{EventsNode, Seen};
use super::params::{Bug, Params};
use super::queue::{Entry, State};
use super::store::{corrupt, id_of, key_u64, Store, StoreError};
use crate::node::{Ctx, NodeId, TimerId};
use crate::time::ms;

/// The database directory.
pub const DIR: &str = "/queue";
const LOG: u8 = b'l';
const META: &[u8] = b"t";
const NO_VOTE: u32 = u32::MAX;
/// Tick timers are `TICK_BASE + generation`: a new chain (at election) makes the old one stale.
const TICK_BASE: TimerId = 16;
const TIMER_OPEN: TimerId = 2;
/// Local time between attempts to open the store.
pub const OPEN_RETRY_NS: u64 = ms(20);
/// Long polls held at once, at most (beyond, a poll is answered empty at once).
pub const HELD_MAX: usize = 64;
/// A leader sends its followers an append (maybe empty) at least this often.
pub const HEARTBEAT_NS: u64 = ms(25);
/// A follower that hears no leader for a time drawn from this range stands for election.
pub const ELECTION_NS: (u64, u64) = (ms(150), ms(300));
/// Entries in one append, at most.
pub const APPEND_MAX: usize = 64;

/// Whether local `deadline` has come at `now`. One further away than `span` means the clock
/// jumped back past when it was set: it counts as come.
fn due(deadline: u64, now: u64, span: u64) -> bool {
    now >= deadline || deadline - now > span
}

/// A replica's part in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes.
    Candidate,
    /// Serves clients and replicates.
    Leader,
}

/// What a receive took from the queue.
enum Take {
    /// Not the leader, or the store is not open: nothing.
    Closed,
    /// These messages (event, receipt), their entry written.
    Written(Vec<(Event, u32)>),
    /// These messages, though the entry's write failed: the store must be reopened. The write
    /// may have reached the disk, so they are handed out all the same (issue #20, seed 944: a
    /// count on the disk must be a receive that happened).
    Failed(Vec<(Event, u32)>),
}

#[derive(Clone, Copy, Debug)]
struct Held {
    from: NodeId,
    poll: u64,
    max: u32,
    until: u64,
}

#[derive(Clone, Debug)]
struct PendingAck {
    index: u64,
    from: NodeId,
    batch: u64,
    seqs: Vec<u64>,
}

/// One queue replica; see the module docs.
#[derive(Debug)]
pub struct Queue {
    p: Params,
    store: Option<Store>,
    term: u64,
    voted: Option<NodeId>,
    /// (term, entry); index i is `log[i - 1]`.
    log: Vec<(u64, Entry)>,
    commit: u64,
    standing: Standing,
    leader: Option<NodeId>,
    votes: BTreeSet<NodeId>,
    election_at: u64,
    heartbeat_at: u64,
    next: BTreeMap<NodeId, u64>,
    matched: BTreeMap<NodeId, u64>,
    acks: Vec<PendingAck>,
    state: State,
    held: Vec<Held>,
    /// The live tick chain's generation (0: none yet).
    tick_gen: u64,
    /// Led when a write failed: stand again as soon as the store reopens.
    stand_again: bool,
    /// Leader: local time each follower last answered an append.
    heard: BTreeMap<NodeId, u64>,
    /// Leader: local time of the last append sent to each follower (a heartbeat is due only
    /// after a quiet interval).
    sent: BTreeMap<NodeId, u64>,
}

fn log_record(term: u64, e: &Entry) -> Vec<u8> {
    let mut v = term.to_le_bytes().to_vec();
    v.extend_from_slice(&e.encode());
    v
}

impl Queue {
    /// A replica with nothing open yet.
    pub fn new(p: Params) -> Self {
        Queue {
            p,
            store: None,
            term: 0,
            voted: None,
            log: Vec::new(),
            commit: 0,
            standing: Standing::Follower,
            leader: None,
            votes: BTreeSet::new(),
            election_at: 0,
            heartbeat_at: 0,
            next: BTreeMap::new(),
            matched: BTreeMap::new(),
            acks: Vec::new(),
            state: State::default(),
            held: Vec::new(),
            tick_gen: 0,
            stand_again: false,
            heard: BTreeMap::new(),
            sent: BTreeMap::new(),
        }
    }

    /// The queue as this replica's log has it.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The dead-letter queue as this replica's log has it: sequencer → (event, receive count).
    pub fn dead_letters(&self) -> &BTreeMap<u64, (Event, u32)> {
        &self.state.dead
    }

    /// Messages in the queue (visible or not).
    pub fn queued(&self) -> &BTreeMap<u64, super::queue::Queued> {
        &self.state.queued
    }

    /// The FIFO deduplication ids: sequencer → leader's local time first sent.
    pub fn dedup_ids(&self) -> &BTreeMap<u64, u64> {
        &self.state.dedup
    }

    /// Whether the store is open (the replica serves).
    pub fn is_open(&self) -> bool {
        self.store.is_some()
    }

    /// Whether this replica leads (with its store open).
    pub fn is_leader(&self) -> bool {
        self.standing == Standing::Leader && self.store.is_some()
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// Entries in the log.
    pub fn log_len(&self) -> u64 {
        self.log.len() as u64
    }

    /// The commit index this replica knows.
    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    fn others(&self, ctx: &Ctx<'_, EventsNode>) -> Vec<NodeId> {
        let me = ctx.id();
        self.p.queue_nodes().filter(|&n| n != me).collect()
    }

    fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            0
        } else {
            self.log[index as usize - 1].0
        }
    }

    fn last_term(&self) -> u64 {
        self.log.last().map_or(0, |(t, _)| *t)
    }

    fn new_election_deadline(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        let t = ctx.rng().range_inclusive(ELECTION_NS.0, ELECTION_NS.1);
        self.election_at = ctx.local_ns().saturating_add(t);
    }

    /// Open the store and rebuild the log and the state; retry on failure. A replica boots a
    /// follower; a single replica elects itself at once.
    pub fn boot(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.store = None;
        self.standing = Standing::Follower;
        self.leader = None;
        self.held.clear();
        self.acks.clear();
        if self.open(ctx).is_err() {
            self.store = None;
            ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
            return;
        }
        self.new_election_deadline(ctx);
        if self.tick_gen == 0 {
            self.arm(ctx);
        }
        // A lone replica elects itself; a leader whose write failed stands again at once
        // (its log is as long as any: the followers wait out their timeouts otherwise).
        if self.p.replicas == 1 || std::mem::take(&mut self.stand_again) {
            self.start_election(ctx);
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> Result<(), StoreError> {
        let store = Store::open(ctx.disk(), DIR, ctx.clock())?;
        let (mut term, mut voted) = match store.get(META)? {
            None => (0, None),
            Some(b) if b.len() == 12 => {
                let v = u32_at(&b, 8);
                (u64_at(&b, 0), (v != NO_VOTE).then_some(v))
            }
            Some(b) => return Err(corrupt(META, format!("term record is {} bytes", b.len()))),
        };
        let mut log = Vec::new();
        for (k, v) in store.scan(&[LOG])? {
            let index = id_of(&k, 8)?;
            if index != log.len() as u64 + 1 {
                return Err(corrupt(
                    &k,
                    format!("log index {index} after {}", log.len()),
                ));
            }
            if v.len() < 9 {
                return Err(corrupt(&k, format!("log record is {} bytes", v.len())));
            }
            let e = Entry::decode(&v[8..]).map_err(|d| corrupt(&k, d))?;
            log.push((u64_at(&v, 0), e));
        }
        // Entries of a later term than the last one voted in (appended as a follower): the
        // replica was in that term, with no vote recorded in it.
        let last = log.last().map_or(0, |(t, _)| *t);
        if last > term {
            term = last;
            voted = None;
        }
        let mut state = State::default();
        for (_, e) in &log {
            state.apply(e, self.p.fifo);
        }
        self.term = term;
        self.voted = voted;
        self.log = log;
        self.state = state;
        self.commit = 0;
        self.store = Some(store);
        Ok(())
    }

    /// A write failed: drop the store (memory may be ahead of the disk), stop leading, reopen.
    fn failed(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.stand_again = self.standing == Standing::Leader;
        self.store = None;
        self.standing = Standing::Follower;
        self.leader = None;
        self.held.clear();
        self.acks.clear();
        ctx.set_timer(OPEN_RETRY_NS, TIMER_OPEN);
    }

    /// Sync the term and the vote; false (and the store reopens) if the disk refused.
    fn persist_meta(&mut self, ctx: &mut Ctx<'_, EventsNode>) -> bool {
        let Some(store) = self.store.as_ref() else {
            return false;
        };
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.term.to_le_bytes());
        b[8..].copy_from_slice(&self.voted.unwrap_or(NO_VOTE).to_le_bytes());
        let mut batch = WriteBatch::new();
        batch.put(META, &b);
        if store.write(batch, true).is_err() {
            self.failed(ctx);
            return false;
        }
        true
    }

    /// A higher term was seen, or a leader of this term: follow. Held polls and unacked sends
    /// are let go (the clients try again, at the leader).
    fn step_down(&mut self, ctx: &mut Ctx<'_, EventsNode>, term: u64) {
        if term > self.term {
            self.term = term;
            self.voted = None;
        }
        if self.standing == Standing::Leader {
            for h in std::mem::take(&mut self.held) {
                ctx.send(h.from, Msg::NotLeader { leader: None });
            }
            self.acks.clear();
            self.new_election_deadline(ctx);
        }
        self.standing = Standing::Follower;
    }

    fn start_election(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.term += 1;
        self.voted = Some(ctx.id());
        self.standing = Standing::Candidate;
        self.leader = None;
        self.votes.clear();
        self.votes.insert(ctx.id());
        self.new_election_deadline(ctx);
        if !self.persist_meta(ctx) {
            return;
        }
        if self.votes.len() >= self.p.majority() {
            return self.become_leader(ctx);
        }
        let (term, last_index, last_term) = (self.term, self.log_len(), self.last_term());
        for n in self.others(ctx) {
            ctx.send(
                n,
                Msg::Vote {
                    term,
                    last_index,
                    last_term,
                },
            );
        }
    }

    /// Start a new tick chain (the old one's next tick is then ignored).
    fn arm(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.tick_gen += 1;
        let d = self.tick_delay(ctx.local_ns());
        ctx.set_timer(d, TICK_BASE + self.tick_gen);
    }

    /// A leader ticks often (held polls, heartbeats, check quorum); a follower sleeps until its
    /// election deadline.
    fn tick_delay(&self, now: u64) -> u64 {
        if self.standing == Standing::Leader || due(self.election_at, now, ELECTION_NS.1) {
            self.p.queue_tick_ns
        } else {
            (self.election_at - now).max(self.p.queue_tick_ns)
        }
    }

    /// First start of the cluster: node 1 stands at once instead of waiting out a timeout
    /// (any replica may stand at any time; this only saves the first election's wait).
    pub fn stand_first(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        if self.store.is_some() && self.standing == Standing::Follower && self.log.is_empty() {
            self.start_election(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<'_, EventsNode>) {
        self.standing = Standing::Leader;
        self.arm(ctx);
        self.leader = Some(ctx.id());
        let next = self.log_len() + 1;
        self.next = self.others(ctx).into_iter().map(|n| (n, next)).collect();
        self.matched = self.others(ctx).into_iter().map(|n| (n, 0)).collect();
        let now = ctx.local_ns();
        self.heard = self.others(ctx).into_iter().map(|n| (n, now)).collect();
        // Visibility deadlines are this leader's memory: whatever it held from an earlier
        // term, or nothing, every message is visible now.
        for q in self.state.queued.values_mut() {
            q.visible_at = 0;
        }
        let mut seen = Seen::default();
        if self.append(ctx, Entry::Noop).is_ok() {
            self.advance_commit(ctx, &mut seen);
        }
        self.heartbeat_at = ctx.local_ns().saturating_add(HEARTBEAT_NS);
    }

    /// Leader: write `entry` to the log, synced, apply it, and send it to the followers.
    fn append(&mut self, ctx: &mut Ctx<'_, EventsNode>, entry: Entry) -> Result<u64, ()> {
        let Some(store) = self.store.as_ref() else {
            return Err(());
        };
        let index = self.log_len() + 1;
        let mut batch = WriteBatch::new();
        batch.put(&key_u64(LOG, index), &log_record(self.term, &entry));
        if store.write(batch, true).is_err() {
            self.failed(ctx);
            return Err(());
        }
        self.state.apply(&entry, self.p.fifo);
        self.log.push((self.term, entry));
        for n in self.others(ctx) {
            self.replicate(ctx, n);
        }
        Ok(index)
    }

    /// Send follower `to` the entries from its next index on (at most [`APPEND_MAX`]), and
    /// count them as sent: a refusal backs the index up again.
    fn replicate(&mut self, ctx: &mut Ctx<'_, EventsNode>, to: NodeId) {
        let len = self.log_len();
        let next = self
            .next
            .get(&to)
            .copied()
            .unwrap_or(len + 1)
            .clamp(1, len + 1);
        let prev_index = next - 1;
        let end = (prev_index as usize + APPEND_MAX).min(self.log.len());
        let entries = self.log[prev_index as usize..end].to_vec();
        self.next.insert(to, end as u64 + 1);
        self.sent.insert(to, ctx.local_ns());
        ctx.send(
            to,
            Msg::Append {
                term: self.term,
                prev_index,
                prev_term: self.term_at(prev_index),
                entries,
                commit: self.commit,
            },
        );
    }

    /// Leader: commit the highest entry of this term a majority holds, and acknowledge the
    /// sends it covers.
    fn advance_commit(&mut self, _ctx: &mut Ctx<'_, EventsNode>, seen: &mut Seen) {
        let majority = self.p.majority();
        let mut n = self.log_len();
        while n > self.commit && self.term_at(n) == self.term {
            // The leader syncs every entry it appends: it holds all of its log.
            let holders = 1 + self.matched.values().filter(|&&m| m >= n).count();
            if holders >= majority {
                self.commit = n;
                break;
            }
            n -= 1;
        }
        let commit = self.commit;
        let (done, wait): (Vec<PendingAck>, Vec<PendingAck>) = std::mem::take(&mut self.acks)
            .into_iter()
            .partition(|a| a.index <= commit);
        self.acks = wait;
        for a in done {
            seen.acked.extend_from_slice(&a.seqs);
            _ctx.send(
                a.from,
                Msg::SendAck {
                    batch: a.batch,
                    seqs: a.seqs,
                },
            );
        }
    }

    // Raft's AppendEntries, field by field.
    #[allow(clippy::too_many_arguments)]
    fn on_append(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<(u64, Entry)>,
        commit: u64,
    ) {
        if self.store.is_none() {
            return;
        }
        if term < self.term {
            let last = self.log_len();
            ctx.send(
                from,
                Msg::Appended {
                    term: self.term,
                    ok: false,
                    last,
                },
            );
            return;
        }
        if term > self.term || self.standing != Standing::Follower {
            self.step_down(ctx, term);
        }
        self.leader = Some(from);
        self.new_election_deadline(ctx);
        let refuse = |q: &Self, ctx: &mut Ctx<'_, EventsNode>, hint: u64| {
            ctx.send(
                from,
                Msg::Appended {
                    term: q.term,
                    ok: false,
                    last: hint,
                },
            );
        };
        if prev_index > self.log_len() {
            return refuse(self, ctx, self.log_len());
        }
        if self.term_at(prev_index) != prev_term {
            return refuse(self, ctx, prev_index - 1);
        }
        // Skip what matches; cut at the first conflict; append the rest.
        let mut cut = None;
        let mut fresh = Vec::new();
        for (i, (t, e)) in entries.iter().enumerate() {
            let index = prev_index + 1 + i as u64;
            if cut.is_none() && fresh.is_empty() && index <= self.log_len() {
                if self.term_at(index) == *t {
                    continue;
                }
                cut = Some(index);
            }
            fresh.push((index, *t, e));
        }
        let last = prev_index + entries.len() as u64;
        if !fresh.is_empty() {
            let store = self.store.as_ref().expect("open");
            let mut batch = WriteBatch::new();
            if let Some(c) = cut {
                for index in c..=self.log_len() {
                    batch.delete(&key_u64(LOG, index));
                }
            }
            for (index, t, e) in &fresh {
                batch.put(&key_u64(LOG, *index), &log_record(*t, e));
            }
            if store.write(batch, true).is_err() {
                return self.failed(ctx);
            }
            if let Some(c) = cut {
                // Only entries no majority held can conflict: let them go, and rebuild.
                self.log.truncate(c as usize - 1);
                self.state = State::default();
                for (_, e) in &self.log {
                    self.state.apply(e, self.p.fifo);
                }
            }
            for (_, t, e) in fresh {
                self.state.apply(e, self.p.fifo);
                self.log.push((t, e.clone()));
            }
        }
        if commit > self.commit {
            self.commit = commit.min(last);
        }
        ctx.send(
            from,
            Msg::Appended {
                term: self.term,
                ok: true,
                last,
            },
        );
    }

    fn on_appended(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        term: u64,
        ok: bool,
        last: u64,
        seen: &mut Seen,
    ) {
        if term > self.term {
            return self.step_down(ctx, term);
        }
        if !self.is_leader() || term != self.term {
            return;
        }
        self.heard.insert(from, ctx.local_ns());
        if ok {
            let m = self.matched.entry(from).or_insert(0);
            *m = (*m).max(last);
            let n = self.next.entry(from).or_insert(0);
            *n = (*n).max(last + 1);
            self.advance_commit(ctx, seen);
            if self.next[&from] <= self.log_len() {
                self.replicate(ctx, from);
            }
        } else {
            let floor = self.matched.get(&from).copied().unwrap_or(0) + 1;
            self.next.insert(from, (last + 1).max(floor));
            self.replicate(ctx, from);
        }
    }

    fn on_vote(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        term: u64,
        last_index: u64,
        last_term: u64,
    ) {
        if self.store.is_none() {
            return;
        }
        if term > self.term {
            self.step_down(ctx, term);
        }
        let up_to_date = last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.log_len());
        let granted = term == self.term
            && self.voted.is_none_or(|v| v == from)
            && up_to_date
            && self.standing == Standing::Follower;
        if granted {
            self.voted = Some(from);
            if !self.persist_meta(ctx) {
                return;
            }
            self.new_election_deadline(ctx);
        }
        ctx.send(
            from,
            Msg::Voted {
                term: self.term,
                granted,
            },
        );
    }

    fn on_voted(&mut self, ctx: &mut Ctx<'_, EventsNode>, from: NodeId, term: u64, granted: bool) {
        if term > self.term {
            return self.step_down(ctx, term);
        }
        if self.standing != Standing::Candidate || term != self.term || !granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.p.majority() {
            self.become_leader(ctx);
        }
    }

    fn not_leader(&self, ctx: &mut Ctx<'_, EventsNode>, to: NodeId) {
        ctx.send(
            to,
            Msg::NotLeader {
                leader: self.leader.filter(|&l| l != ctx.id()),
            },
        );
    }

    /// A send batch: append it; acknowledge once a majority holds it.
    fn on_send(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        batch_id: u64,
        events: Vec<Event>,
        seen: &mut Seen,
    ) {
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        let now = ctx.local_ns();
        let Ok(index) = self.append(ctx, Entry::Send { now, events }) else {
            return;
        };
        if self.p.bug == Bug::QueueAckBeforeMajority {
            // The planted bug: the leader's own log is taken for the queue's.
            seen.acked.extend_from_slice(&seqs);
            ctx.send(
                from,
                Msg::SendAck {
                    batch: batch_id,
                    seqs,
                },
            );
        } else {
            self.acks.push(PendingAck {
                index,
                from,
                batch: batch_id,
                seqs,
            });
            self.advance_commit(ctx, seen);
        }
        self.serve_held(ctx, seen);
    }

    /// Hand out up to `max` visible messages: each gets one more receive and hides for the
    /// visibility timeout — or, if it was received `max_receive` times already, moves to the
    /// dead-letter queue. One log entry says which.
    fn take(&mut self, ctx: &mut Ctx<'_, EventsNode>, max: u32, seen: &mut Seen) -> Take {
        if !self.is_leader() {
            return Take::Closed;
        }
        let now = ctx.local_ns();
        let vis = self.p.queue_visibility_ns();
        let mut grants = Vec::new();
        let mut dead = Vec::new();
        let mut groups = BTreeSet::new();
        for (seq, q) in &self.state.queued {
            if grants.len() >= max as usize {
                break;
            }
            // FIFO: only a group's oldest message may go out, so a group with a message in
            // flight (hidden) hands out nothing; the planted bug forgets the lock.
            let head = groups.insert(q.event.key);
            if self.p.fifo && !head && self.p.bug != Bug::FifoGroupUnlocked {
                continue;
            }
            // Hidden, unless the clock jumped back past the receive that hid it.
            let hidden_for = q.visible_at.saturating_sub(now);
            if hidden_for > 0 && hidden_for <= vis {
                continue;
            }
            if q.receives >= self.p.max_receive {
                dead.push((*seq, q.receives));
            } else {
                grants.push((q.event, q.receives + 1));
            }
        }
        if grants.is_empty() && dead.is_empty() {
            return Take::Written(grants);
        }
        let entry = Entry::Receive {
            grants: grants.iter().map(|(e, _)| e.seq).collect(),
            dead: dead.iter().map(|(s, _)| *s).collect(),
        };
        for (e, receipt) in &grants {
            seen.granted.push((e.seq, *receipt));
        }
        if self.append(ctx, entry).is_err() {
            // Memory is not updated: the reopen rebuilds it from what the disk kept.
            return Take::Failed(grants);
        }
        let until = now.saturating_add(vis);
        for (e, _) in &grants {
            if let Some(q) = self.state.queued.get_mut(&e.seq) {
                q.visible_at = until;
            }
        }
        seen.dead_lettered.extend(dead);
        Take::Written(grants)
    }

    fn on_receive(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        poll: u64,
        max: u32,
        wait_ms: u64,
        seen: &mut Seen,
    ) {
        let msgs = match self.take(ctx, max, seen) {
            Take::Closed => return,
            Take::Failed(msgs) => {
                ctx.send(from, Msg::Messages { poll, msgs });
                return;
            }
            Take::Written(msgs) => msgs,
        };
        if msgs.is_empty() && wait_ms > 0 && self.held.len() < HELD_MAX {
            let until = ctx.local_ns().saturating_add(ms(wait_ms));
            self.held.push(Held {
                from,
                poll,
                max,
                until,
            });
            return;
        }
        ctx.send(from, Msg::Messages { poll, msgs });
    }

    /// Answer held long polls that now have messages, or whose wait is over.
    fn serve_held(&mut self, ctx: &mut Ctx<'_, EventsNode>, seen: &mut Seen) {
        let mut i = 0;
        while i < self.held.len() {
            let h = self.held[i];
            let msgs = match self.take(ctx, h.max, seen) {
                Take::Closed => return,
                Take::Failed(msgs) => {
                    // The store is closed: the other held polls are let go (they poll again).
                    ctx.send(h.from, Msg::Messages { poll: h.poll, msgs });
                    return;
                }
                Take::Written(msgs) => msgs,
            };
            let left = h.until.saturating_sub(ctx.local_ns());
            if msgs.is_empty() && left > 0 && left <= ms(self.p.wait_ms) {
                i += 1;
                continue;
            }
            self.held.remove(i);
            ctx.send(h.from, Msg::Messages { poll: h.poll, msgs });
        }
    }

    /// Delete messages by (sequencer, receipt); a stale receipt deletes nothing.
    fn on_delete(&mut self, ctx: &mut Ctx<'_, EventsNode>, entries: Vec<(u64, u32)>) {
        let live: Vec<(u64, u32)> = entries
            .into_iter()
            .filter(|(s, r)| self.state.queued.get(s).is_some_and(|q| q.receives == *r))
            .collect();
        if !live.is_empty() {
            let _ = self.append(ctx, Entry::Delete { entries: live });
        }
    }

    /// `ChangeMessageVisibility`: hide the delivery for another visibility timeout from now,
    /// if it is still the latest delivery and still hidden.
    fn on_change_visibility(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        req: u64,
        seq: u64,
        receipt: u32,
        seen: &mut Seen,
    ) {
        let now = ctx.local_ns();
        let vis = self.p.queue_visibility_ns();
        let ok = match self.state.queued.get_mut(&seq) {
            Some(q) if q.receives == receipt => {
                let hidden_for = q.visible_at.saturating_sub(now);
                if hidden_for > 0 && hidden_for <= vis {
                    q.visible_at = now.saturating_add(vis);
                    seen.extended.push((seq, receipt));
                    true
                } else {
                    false
                }
            }
            _ => false,
        };
        ctx.send(from, Msg::VisibilityChanged { req, ok });
    }

    /// Messages from clients and from the other replicas.
    pub fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, EventsNode>,
        from: NodeId,
        msg: Msg,
        seen: &mut Seen,
    ) {
        match msg {
            Msg::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
            } => self.on_append(ctx, from, term, prev_index, prev_term, entries, commit),
            Msg::Appended { term, ok, last } => self.on_appended(ctx, from, term, ok, last, seen),
            Msg::Vote {
                term,
                last_index,
                last_term,
            } => self.on_vote(ctx, from, term, last_index, last_term),
            Msg::Voted { term, granted } => self.on_voted(ctx, from, term, granted),
            Msg::Send { .. }
            | Msg::Receive { .. }
            | Msg::Delete { .. }
            | Msg::ChangeVisibility { .. }
                if !self.is_leader() && self.store.is_some() =>
            {
                self.not_leader(ctx, from);
            }
            Msg::Send { .. }
            | Msg::Receive { .. }
            | Msg::Delete { .. }
            | Msg::ChangeVisibility { .. }
                if !self.is_leader() => {}
            Msg::Send { batch, events } => self.on_send(ctx, from, batch, events, seen),
            Msg::Receive { poll, max, wait_ms } => {
                self.on_receive(ctx, from, poll, max, wait_ms, seen)
            }
            Msg::Delete { entries } => self.on_delete(ctx, entries),
            Msg::ChangeVisibility { req, seq, receipt } => {
                self.on_change_visibility(ctx, from, req, seq, receipt, seen)
            }
            _ => {}
        }
    }

    /// Timers: the tick (held polls, heartbeats, the election timeout), reopening the store.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, EventsNode>, timer: TimerId, seen: &mut Seen) {
        match timer {
            TIMER_OPEN if self.store.is_none() => self.boot(ctx),
            TIMER_OPEN => {}
            t if t == TICK_BASE + self.tick_gen => {
                self.tick(ctx, seen);
                // Unless the tick started a new chain (an election won), this one goes on.
                if t == TICK_BASE + self.tick_gen {
                    let d = self.tick_delay(ctx.local_ns());
                    ctx.set_timer(d, t);
                }
            }
            _ => {}
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, EventsNode>, seen: &mut Seen) {
        {
            {
                if self.store.is_none() {
                    return;
                }
                let now = ctx.local_ns();
                if self.standing == Standing::Leader {
                    // Check quorum: a leader no majority has answered for an election timeout
                    // may have been replaced; it stops serving (clients look elsewhere) and
                    // stands again like any follower.
                    let live = 1 + self
                        .heard
                        .values()
                        .filter(|&&t| !due(t.saturating_add(ELECTION_NS.1), now, ELECTION_NS.1))
                        .count();
                    if live < self.p.majority() {
                        let term = self.term;
                        self.step_down(ctx, term);
                        return;
                    }
                    if due(self.heartbeat_at, now, HEARTBEAT_NS) {
                        self.heartbeat_at = now.saturating_add(HEARTBEAT_NS);
                        for n in self.others(ctx) {
                            let last = self.sent.get(&n).copied().unwrap_or(0);
                            if due(last.saturating_add(HEARTBEAT_NS), now, HEARTBEAT_NS) {
                                self.replicate(ctx, n);
                            }
                        }
                    }
                    self.serve_held(ctx, seen);
                } else if due(self.election_at, now, ELECTION_NS.1) {
                    self.start_election(ctx);
                }
            }
        }
    }
}
