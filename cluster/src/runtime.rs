//! The event loop: one quorum node as a real process.
//!
//! It is the simulator's world cut down to one node: the same handlers
//! ([`QuorumNode`] from `seedbed-nodes`), called one at a time through the same [`Ctx`], their
//! [`Effects`] carried out after each returns — sends as frames on TCP, timers on the
//! monotonic clock, replies to the waiting client. What the world takes from its seeded
//! streams and virtual time, this loop takes from the machine:
//!
//! | the world's                        | here                                              |
//! |------------------------------------|---------------------------------------------------|
//! | virtual clock, skewed per node     | `CLOCK_MONOTONIC` + the offset in `faults.json` |
//! | timer events in the event queue    | a heap of monotonic deadlines                     |
//! | the simulated network              | TCP on loopback ([`crate::transport`])            |
//! | partitions                         | frames dropped at both ends (`faults.json`)       |
//! | the `sim` disk, crashes            | `std`/`uring` on a real disk with real fsync, SIGKILL |
//! | a `DetRng` forked from the seed    | a `DetRng` seeded from the OS, the seed printed   |
//! | buggify                            | never ([`NoBuggify`])                              |
//!
//! A crash is a crash: SIGKILL ends the process wherever it is, memory and timers die with
//! it, the disk keeps what was synced. A new process on the same directory finds the store
//! and calls [`Node::on_restart`], which rebuilds from the LSM as in the simulator.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seedbed_engine::clock::ClockHandle;
use seedbed_engine::io::{FileLock, FsHandle};
use seedbed_engine::rng::{os_seed, DetRng};
use seedbed_nodes::quorum::msg::Msg;
use seedbed_nodes::quorum::QuorumNode;
use seedbed_nodes::{Ctx, Effects, NoBuggify, Node, NodeId, OpId, TimerId};

use crate::clock::SkewedClock;
use crate::config::{node_dir, ClusterConfig, FileError};
use crate::disk::RootedFs;
use crate::faults::Faults;
use crate::frame;
use crate::transport::{self, Event, Peers};
use crate::wire::{NodeStatus, Wire};

/// How often the loop looks at `faults.json`.
pub const FAULTS_POLL: Duration = Duration::from_millis(50);
/// Events handled before the loop looks at its timers again, so a flood of messages cannot
/// starve them.
const EVENTS_PER_TURN: usize = 256;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The cluster directory or its settings are unusable.
    #[error("{0}")]
    Config(String),
    /// A settings file of the cluster directory is unusable (the error names the file).
    #[error(transparent)]
    File(#[from] FileError),
    /// The node's disk could not be opened or locked.
    #[error("node {id}: disk {dir}: {detail}")]
    Disk {
        /// The node.
        id: NodeId,
        /// Its directory.
        dir: PathBuf,
        /// What failed.
        detail: String,
    },
    /// Its port could not be bound.
    #[error("node {id}: cannot listen on 127.0.0.1:{port}: {detail}")]
    Listen {
        /// The node.
        id: NodeId,
        /// The port.
        port: u16,
        /// What failed.
        detail: String,
    },
}

/// One node's process state; see the module docs.
struct Runtime {
    id: NodeId,
    nodes: u32,
    dir: PathBuf,
    node: QuorumNode,
    clock: Arc<SkewedClock>,
    clock_handle: ClockHandle,
    rng: DetRng,
    seed: u64,
    disk: FsHandle,
    effects: Effects<QuorumNode>,
    /// (deadline, sequence, timer): the sequence keeps equal deadlines in the order set.
    timers: BinaryHeap<Reverse<(Instant, u64, TimerId)>>,
    timer_seq: u64,
    /// Messages the node sent itself (loopback is reliable and immediate).
    loopback: VecDeque<Msg>,
    peers: Peers,
    /// Client connections' writing halves.
    clients: BTreeMap<u64, TcpStream>,
    /// Operations in flight: the node's op id → (connection, the client's op id).
    pending: BTreeMap<OpId, (u64, OpId)>,
    next_op: OpId,
    faults: Faults,
    faults_checked: Instant,
    dropped_partition: u64,
}

/// Run node `id` of the cluster in `dir` until the process is killed.
pub fn run_node(dir: &Path, id: NodeId) -> Result<(), NodeError> {
    let cfg = ClusterConfig::load(dir)?;
    if id >= cfg.nodes() {
        return Err(NodeError::Config(format!(
            "there is no node {id} in {} (nodes 0..={})",
            dir.display(),
            cfg.nodes() - 1
        )));
    }
    let ndir = node_dir(dir, id);
    let disk_err = |detail: String| NodeError::Disk {
        id,
        dir: ndir.clone(),
        detail,
    };
    let kind = cfg.backend().map_err(NodeError::Config)?;
    let disk = RootedFs::open(kind, &ndir).map_err(|e| disk_err(e.to_string()))?;
    // One process per node directory: the store takes the LSM's own lock too, but it retries
    // a failed open quietly on a timer; this lock fails at once with the holder's pid.
    let _lock: FileLock = disk
        .lock(Path::new("/node.lock"))
        .map_err(|e| disk_err(e.to_string()))?;
    let port = cfg.ports[id as usize];
    let listener = TcpListener::bind(cfg.addr(id)).map_err(|e| NodeError::Listen {
        id,
        port,
        detail: e.to_string(),
    })?;
    let restarted = disk
        .exists(Path::new("/quorum/CURRENT"))
        .map_err(|e| disk_err(e.to_string()))?;
    let seed = os_seed();
    let faults = Faults::load(dir)?;
    let clock = SkewedClock::new();
    clock.set_offset_ns(faults.skew_of(id));
    let (tx, rx) = mpsc::channel();
    transport::serve(listener, id, cfg.cluster_id, tx);
    let addrs: Vec<_> = (0..cfg.nodes()).map(|n| cfg.addr(n)).collect();
    let mut rt = Runtime {
        id,
        nodes: cfg.nodes(),
        dir: dir.to_path_buf(),
        node: QuorumNode::new(cfg.params(), id, cfg.nodes()),
        clock_handle: clock.clone(),
        clock,
        rng: DetRng::new(seed).fork(&format!("node/{id}")),
        seed,
        disk,
        effects: Effects::default(),
        timers: BinaryHeap::new(),
        timer_seq: 0,
        loopback: VecDeque::new(),
        peers: Peers::start(id, cfg.cluster_id, &addrs),
        clients: BTreeMap::new(),
        pending: BTreeMap::new(),
        next_op: 1,
        faults,
        faults_checked: Instant::now(),
        dropped_partition: 0,
    };
    println!(
        "node {id}: pid {} listening on 127.0.0.1:{port}, seed {seed}, disk {} ({kind}), {}",
        std::process::id(),
        ndir.display(),
        if restarted {
            "restarting from its store"
        } else {
            "first start"
        }
    );
    let _ = std::io::stdout().flush();
    if restarted {
        rt.call(|n, c| n.on_restart(c));
    } else {
        rt.call(|n, c| n.on_start(c));
    }
    rt.run(&rx);
    Ok(())
}

impl Runtime {
    fn run(&mut self, rx: &mpsc::Receiver<Event>) {
        loop {
            // A turn: the messages the node sent itself while handling the last batch of
            // events belong to that batch (a coordinator's own replica write), so they run
            // before the timers — among them group commit's, which then syncs them with the
            // rest of the batch.
            self.drain_loopback();
            self.fire_due_timers();
            self.drain_loopback();
            if self.faults_checked.elapsed() >= FAULTS_POLL {
                self.poll_faults();
            }
            let next_timer = self.timers.peek().map(|Reverse((at, _, _))| *at);
            let wait = next_timer
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(FAULTS_POLL)
                .min(FAULTS_POLL);
            let wait = if self.loopback.is_empty() {
                wait
            } else {
                Duration::ZERO
            };
            match rx.recv_timeout(wait) {
                Ok(ev) => {
                    self.handle(ev);
                    for _ in 1..EVENTS_PER_TURN {
                        match rx.try_recv() {
                            Ok(ev) => self.handle(ev),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Run a handler and carry out its effects.
    fn call(&mut self, f: impl FnOnce(&mut QuorumNode, &mut Ctx<'_, QuorumNode>)) {
        let mut never = NoBuggify;
        let mut ctx = Ctx::new(
            self.id,
            self.nodes,
            &self.clock_handle,
            &mut self.rng,
            &self.disk,
            &mut never,
            &mut self.effects,
        );
        f(&mut self.node, &mut ctx);
        self.apply_effects();
    }

    fn apply_effects(&mut self) {
        let mut sends = std::mem::take(&mut self.effects.sends);
        for (to, msg) in sends.drain(..) {
            if to == self.id {
                self.loopback.push_back(msg);
            } else if self.faults.cut(self.id, to) {
                self.dropped_partition += 1;
            } else {
                match frame::encode(&Wire::Peer(msg)) {
                    Ok(f) => self.peers.send(to, f),
                    Err(e) => eprintln!("node {}: a message to {to} does not encode: {e}", self.id),
                }
            }
        }
        self.effects.sends = sends;
        let now = Instant::now();
        let mut timers = std::mem::take(&mut self.effects.timers);
        for (delay_ns, timer) in timers.drain(..) {
            self.timer_seq += 1;
            self.timers.push(Reverse((
                now + Duration::from_nanos(delay_ns),
                self.timer_seq,
                timer,
            )));
        }
        self.effects.timers = timers;
        let mut replies = std::mem::take(&mut self.effects.replies);
        for (op, reply) in replies.drain(..) {
            if let Some((conn, client_op)) = self.pending.remove(&op) {
                self.answer(
                    conn,
                    &Wire::Reply {
                        op_id: client_op,
                        reply,
                    },
                );
            }
        }
        self.effects.replies = replies;
    }

    fn fire_due_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, _, t))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.call(|n, c| n.on_timer(c, t));
        }
    }

    fn drain_loopback(&mut self) {
        // Bounded: a handler's loopback sends are themselves bounded per call, and the
        // protocol never answers itself with another message to itself forever.
        let mut budget = 4 * EVENTS_PER_TURN;
        while let Some(msg) = self.loopback.pop_front() {
            let me = self.id;
            self.call(|n, c| n.on_message(c, me, msg));
            budget -= 1;
            if budget == 0 {
                break;
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Peer { from, msg } => {
                if from >= self.nodes {
                    return;
                }
                if self.faults.cut(from, self.id) {
                    self.dropped_partition += 1;
                    return;
                }
                self.call(|n, c| n.on_message(c, from, msg));
            }
            Event::ClientOpen { conn, stream } => {
                self.clients.insert(conn, stream);
            }
            Event::ClientGone { conn } => {
                self.clients.remove(&conn);
            }
            Event::Client { conn, op_id, op } => {
                let op_ours = self.next_op;
                self.next_op += 1;
                self.pending.insert(op_ours, (conn, op_id));
                self.call(|n, c| n.on_client(c, op_ours, op));
            }
            Event::Status { conn } => {
                let status = self.status();
                self.answer(conn, &Wire::StatusReply(status));
            }
        }
    }

    fn answer(&mut self, conn: u64, w: &Wire) {
        let Some(stream) = self.clients.get_mut(&conn) else {
            return; // The client left; its answer has nowhere to go.
        };
        if frame::write(stream, w).is_err() {
            self.clients.remove(&conn);
        }
    }

    fn status(&self) -> NodeStatus {
        NodeStatus {
            id: self.id,
            pid: std::process::id(),
            seed: self.seed,
            serving: self.node.is_serving(),
            epoch: self.node.epoch(),
            view: self
                .node
                .gossip()
                .map(|g| (0..self.nodes).map(|n| g.membership().status(n)).collect())
                .unwrap_or_default(),
            believes_up: (0..self.nodes)
                .map(|n| self.node.believes_node_up(n))
                .collect(),
            faults_gen: self.faults.gen,
            skew_ns: self.clock.offset_ns(),
            dropped_partition: self.dropped_partition,
            dropped_unreachable: self.peers.dropped.load(Ordering::Relaxed),
            group_syncs: self.node.group_stats().0,
            group_writes: self.node.group_stats().1,
        }
    }

    fn poll_faults(&mut self) {
        self.faults_checked = Instant::now();
        match Faults::load(&self.dir) {
            Ok(f) if f.gen != self.faults.gen => {
                let skew = f.skew_of(self.id);
                if skew != self.clock.offset_ns() {
                    self.clock.set_offset_ns(skew);
                }
                println!(
                    "node {}: faults generation {}: partition {}, clock offset {} ns",
                    self.id,
                    f.gen,
                    f.partition_spec().unwrap_or_else(|| "none".into()),
                    skew
                );
                let _ = std::io::stdout().flush();
                self.faults = f;
            }
            Ok(_) => {}
            Err(e) => eprintln!("node {}: {e} (keeping the faults in force)", self.id),
        }
    }
}
