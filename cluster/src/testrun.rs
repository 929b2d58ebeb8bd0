//! `seedbed cluster test`'s run: a loopback cluster, concurrent clients, a nemesis, and the
//! recorded history — everything but the checkers, which live with the simulator's workload
//! (the command line, which depends on both, hands them this history).
//!
//! 1. `up` a cluster in the directory (the same code as `seedbed cluster up`).
//! 2. `clients` threads run operations drawn from an [`OpSource`] (the command line gives the
//!    simulator's own generator: its key distribution, operation mix and unique values), each
//!    against the coordinator the source names, one connection per operation:
//!    - the connection is refused → `rejected` (the operation never started);
//!    - an answer → `invoke` … `reply`;
//!    - no answer in time, or the connection breaks → `invoke` … `lost`: the coordinator may
//!      have done it, or may do it later (a paused node reads its socket when it resumes).
//! 3. A nemesis thread injects the chosen faults on a seeded [`Schedule`], one at a time,
//!    each undone before the next.
//! 4. At the end of `time`: clients stop, every fault is undone (paused nodes resume, dead ones
//!    restart, the partition heals), and the quiet period begins: wait (at most `quiet`) until
//!    the replicas' Merkle roots agree and no hints are left, then run the source's quiet
//!    probes — a digest from every node, an audit read of every written key from all N
//!    replicas — recorded like any operation.
//!
//! Times are the monotonic clock from the run's start, taken under the recorder's lock so the
//! history's lines are in time order: an `invoke` is stamped before its request is sent, a
//! `reply` after its answer arrived, so each operation's real interval lies inside the
//! recorded one — what a linearizability check needs.
//!
//! Every node the run started is killed by its pid when the run ends, whether it passed,
//! failed or returned an error ([`NodesGuard`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seedbed_nodes::quorum::history::HistoryLine;
use seedbed_nodes::quorum::msg::{Op, Reply};
use seedbed_nodes::{NodeId, OpId};

use crate::admin::{self, AdminError, Signal, UpOptions};
use crate::client::{status_of, Client, ClientError};
use crate::config::{config_path, ClusterConfig};
use crate::faults::Faults;
use crate::nemesis::{Fault, FaultKind, Schedule};
use crate::process::{self, ProcState};

/// Where a test's operations come from.
pub trait OpSource: Send {
    /// Operation number `index` and the node that coordinates it.
    fn next_op(&mut self, index: u64) -> (NodeId, Op);
    /// The quiet period's probes (digests, audit reads), once the faults have stopped.
    fn quiet_ops(&mut self) -> Vec<(NodeId, Op)>;
}

/// The settings of a test run.
#[derive(Clone, Debug)]
pub struct TestOptions {
    /// The cluster to start.
    pub up: UpOptions,
    /// How long clients and nemesis run.
    pub time: Duration,
    /// Concurrent clients.
    pub clients: u32,
    /// The faults the nemesis injects (none: clients only).
    pub nemesis: Vec<FaultKind>,
    /// The nemesis schedule's seed.
    pub seed: u64,
    /// How long the quiet period waits for the replicas to converge before it probes them.
    pub quiet: Duration,
    /// How long a client waits for one answer before it calls the operation lost.
    pub request_timeout: Duration,
    /// Where the history goes (JSON lines).
    pub history: PathBuf,
    /// Sample every node's SWIM view this often while clients run (`None`: do not), for
    /// detection times and false positives ([`TestRun::views`]).
    pub watch_views: Option<Duration>,
}

/// One node's SWIM view of every node at one moment of a run.
#[derive(Clone, Debug)]
pub struct ViewSample {
    /// When, on the history's clock (nanoseconds from the run's start).
    pub t_ns: u64,
    /// Whose view.
    pub observer: NodeId,
    /// Its view of each node, by id.
    pub view: Vec<seedbed_nodes::gossip::msg::Status>,
}

/// What a test run recorded.
#[derive(Debug)]
pub struct TestRun {
    /// The history, in time order.
    pub history: Vec<HistoryLine>,
    /// Faults injected.
    pub faults: u64,
    /// How long the replicas took to converge after the faults stopped, if they did within
    /// the quiet period.
    pub converged_after: Option<Duration>,
    /// The cluster's settings.
    pub config: ClusterConfig,
    /// The nodes' sampled views, in time order per observer (empty unless
    /// [`TestOptions::watch_views`]). A node that does not answer (paused, dead) has no
    /// sample for that moment.
    pub views: Vec<ViewSample>,
}

/// Kills every node of the cluster in `dir` by its recorded pid when dropped (SIGCONT first,
/// so a paused node dies too).
pub struct NodesGuard {
    dir: PathBuf,
    nodes: u32,
}

impl NodesGuard {
    /// A guard over nodes `0..nodes` of `dir`.
    pub fn new(dir: &Path, nodes: u32) -> NodesGuard {
        NodesGuard {
            dir: dir.to_path_buf(),
            nodes,
        }
    }
}

impl Drop for NodesGuard {
    fn drop(&mut self) {
        for id in 0..self.nodes {
            if let (Some(pid), st) = process::node_state(&self.dir, id) {
                if st != ProcState::Dead {
                    let _ = process::signal(pid, libc::SIGCONT);
                    let _ = process::signal(pid, libc::SIGKILL);
                    process::wait_dead(pid, &self.dir, id, process::KILL_WAIT);
                }
            }
        }
    }
}

/// The history as it is written: kept in memory for the checkers and appended to the file
/// line by line, so a run that dies still leaves what it saw.
struct Recorder {
    start: Instant,
    lines: Vec<HistoryLine>,
    file: std::io::BufWriter<std::fs::File>,
    error: Option<String>,
}

impl Recorder {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn push(&mut self, line: HistoryLine) {
        if self.error.is_none() {
            let mut s = serde_json::to_string(&line).expect("history lines serialise");
            s.push('\n');
            if let Err(e) = self.file.write_all(s.as_bytes()) {
                self.error = Some(e.to_string());
            }
        }
        self.lines.push(line);
    }

    /// Stamp and record a line built from the current time.
    fn record(&mut self, f: impl FnOnce(u64) -> HistoryLine) {
        let t = self.now();
        let l = f(t);
        self.push(l);
    }
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking client thread must not take the history down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run one operation against `node` and record it.
fn run_op(
    rec: &Mutex<Recorder>,
    cfg: &ClusterConfig,
    timeout: Duration,
    client: u32,
    op_id: OpId,
    node: NodeId,
    op: Op,
) -> Option<Reply> {
    let mut c = match Client::connect(cfg.addr(node), timeout) {
        Ok(c) => c,
        Err(e) => {
            let why = e.to_string();
            lock(rec).record(|t| HistoryLine::rejected(t, client, op_id, node, op, &why));
            return None;
        }
    };
    lock(rec).record(|t| HistoryLine::invoke(t, client, op_id, node, op.clone()));
    match c.op(op) {
        Ok(reply) => {
            lock(rec).record(|t| HistoryLine::reply(t, client, op_id, node, reply.clone()));
            Some(reply)
        }
        Err(e) => {
            let why = match &e {
                ClientError::Unreachable { .. } => format!("outcome unknown: {e}"),
                _ => format!("outcome unknown, the answer was unusable: {e}"),
            };
            lock(rec).record(|t| HistoryLine::lost(t, client, op_id, node, &why));
            None
        }
    }
}

/// Sleep `d`, in small steps, returning early (false) once `stop` is set.
fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
    true
}

/// Inject `fault`.
fn inject(dir: &Path, fault: &Fault) -> Result<(), AdminError> {
    match fault {
        Fault::Kill(n) => admin::signal(dir, *n, Signal::Kill),
        Fault::Pause(n) => admin::signal(dir, *n, Signal::Pause),
        Fault::Partition(spec) => admin::partition(dir, spec),
        Fault::Skew(n, ms) => admin::skew(dir, *n, &format!("{ms:+}ms")),
    }
}

/// Undo `fault`.
fn undo(dir: &Path, exe: &Path, fault: &Fault) -> Result<String, AdminError> {
    match fault {
        Fault::Kill(n) => admin::restart(dir, exe, *n).map(|_| format!("restart n{n}")),
        Fault::Pause(n) => admin::signal(dir, *n, Signal::Resume).map(|_| format!("resume n{n}")),
        Fault::Partition(_) => admin::heal(dir).map(|_| "heal".to_string()),
        Fault::Skew(n, _) => admin::skew(dir, *n, "0").map(|_| format!("skew n{n} 0")),
    }
}

/// The nemesis loop: steps of the schedule until `stop`; every fault it injects it undoes,
/// even when `stop` comes during the hold.
fn nemesis(
    dir: &Path,
    exe: &Path,
    rec: &Mutex<Recorder>,
    mut schedule: Schedule,
    stop: &AtomicBool,
) -> Result<u64, AdminError> {
    let mut injected = 0;
    loop {
        let step = schedule.next_step();
        if !sleep_unless(stop, step.gap) {
            return Ok(injected);
        }
        lock(rec).record(|t| HistoryLine::nemesis(t, step.fault.to_string()));
        inject(dir, &step.fault)?;
        injected += 1;
        sleep_unless(stop, step.hold);
        let what = undo(dir, exe, &step.fault)?;
        lock(rec).record(|t| HistoryLine::nemesis(t, what));
    }
}

/// Undo whatever is still in force: resume paused nodes, restart dead ones, heal, clear skews.
fn recover(
    dir: &Path,
    exe: &Path,
    cfg: &ClusterConfig,
    rec: &Mutex<Recorder>,
) -> Result<(), AdminError> {
    for id in 0..cfg.nodes() {
        match process::node_state(dir, id).1 {
            ProcState::Paused => {
                admin::signal(dir, id, Signal::Resume)?;
                lock(rec).record(|t| HistoryLine::nemesis(t, format!("resume n{id}")));
            }
            ProcState::Dead => {
                admin::restart(dir, exe, id)?;
                lock(rec).record(|t| HistoryLine::nemesis(t, format!("restart n{id}")));
            }
            ProcState::Running => {}
        }
    }
    let faults = Faults::load(dir)?;
    if faults.partition.is_some() {
        admin::heal(dir)?;
        lock(rec).record(|t| HistoryLine::nemesis(t, "heal".into()));
    }
    for &id in faults.skew_ns.keys() {
        admin::skew(dir, id, "0")?;
        lock(rec).record(|t| HistoryLine::nemesis(t, format!("skew n{id} 0")));
    }
    Ok(())
}

/// Run a test in `dir` (which must not hold a cluster yet) with the binary `exe`; see the
/// module docs. An error means the run could not be carried out (bad settings, a node that did
/// not come back); a run that completes returns its history, for the checkers.
pub fn run_test(
    dir: &Path,
    exe: &Path,
    o: &TestOptions,
    source: Box<dyn OpSource>,
) -> Result<TestRun, AdminError> {
    if o.clients == 0 || o.clients > 256 {
        return Err(AdminError::Invalid(format!(
            "--clients {}: expected 1..=256",
            o.clients
        )));
    }
    if o.nemesis.contains(&FaultKind::Partition) && o.up.nodes < 2 {
        return Err(AdminError::Invalid(
            "--nemesis partition needs at least 2 nodes".into(),
        ));
    }
    // The guard is armed only for a directory without a cluster: `up` refuses one in use, and
    // its nodes are not this run's to kill. It needs the absolute path (a node's command line
    // names it so, and the guard checks that before it signals a pid).
    let fresh = !config_path(dir).exists();
    std::fs::create_dir_all(dir)
        .map_err(|e| AdminError::Failed(format!("{}: {e}", dir.display())))?;
    let dir = std::fs::canonicalize(dir).map_err(|e| AdminError::Failed(e.to_string()))?;
    let _guard = fresh.then(|| NodesGuard::new(&dir, o.up.nodes));
    admin::up(&dir, exe, &o.up)?;
    let cfg = ClusterConfig::load(&dir)?;
    let file = std::fs::File::create(&o.history)
        .map_err(|e| AdminError::Invalid(format!("--history {}: {e}", o.history.display())))?;

    let rec: Shared<Recorder> = Arc::new(Mutex::new(Recorder {
        start: Instant::now(),
        lines: Vec::new(),
        file: std::io::BufWriter::new(file),
        error: None,
    }));
    // (source, next index): operation ids are the source's indices, so values stay unique.
    let gen: Shared<(Box<dyn OpSource>, u64)> = Arc::new(Mutex::new((source, 0)));
    let stop = Arc::new(AtomicBool::new(false));

    let clients: Vec<_> = (0..o.clients)
        .map(|client| {
            let (rec, gen, stop, cfg) = (rec.clone(), gen.clone(), stop.clone(), cfg.clone());
            let timeout = o.request_timeout;
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (op_id, node, op) = {
                        let mut g = lock(&gen);
                        let i = g.1;
                        g.1 += 1;
                        let (node, op) = g.0.next_op(i);
                        (i, node, op)
                    };
                    if run_op(&rec, &cfg, timeout, client, op_id, node, op).is_none() {
                        // A refused or lost operation: do not spin against a dead node.
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            })
        })
        .collect();
    // One watcher per node, so that a paused node's silence delays no other node's samples.
    let views: Shared<Vec<ViewSample>> = Arc::default();
    let watchers: Vec<_> = o
        .watch_views
        .map(|every| {
            (0..cfg.nodes())
                .map(|id| {
                    let (rec, stop, views, addr) =
                        (rec.clone(), stop.clone(), views.clone(), cfg.addr(id));
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            if let Ok(st) = status_of(addr, Duration::from_millis(200)) {
                                // Stamped on arrival: the node held this view at or before.
                                let t_ns = lock(&rec).now();
                                lock(&views).push(ViewSample {
                                    t_ns,
                                    observer: id,
                                    view: st.view,
                                });
                            }
                            std::thread::sleep(every);
                        }
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let nemesis_thread = (!o.nemesis.is_empty()).then(|| {
        let (rec, stop, dir, exe) = (rec.clone(), stop.clone(), dir.clone(), exe.to_path_buf());
        let schedule = Schedule::new(o.seed, &o.nemesis, cfg.nodes());
        std::thread::spawn(move || nemesis(&dir, &exe, &rec, schedule, &stop))
    });

    // The run proper; a nemesis that fails (a node that does not come back) ends it early.
    let until = Instant::now() + o.time;
    while Instant::now() < until {
        if nemesis_thread.as_ref().is_some_and(|t| t.is_finished()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    for w in watchers {
        let _ = w.join();
    }
    let faults = match nemesis_thread.map(|t| t.join()) {
        None => 0,
        Some(Ok(r)) => r?,
        Some(Err(_)) => return Err(AdminError::Failed("the nemesis thread panicked".into())),
    };

    // The quiet period: everything back, then converge, then probe.
    recover(&dir, exe, &cfg, &rec)?;
    lock(&rec).record(|t| HistoryLine::nemesis(t, "quiet period begins".into()));
    let quiet_start = Instant::now();
    let mut converged_after = None;
    while quiet_start.elapsed() < o.quiet {
        if admin::converged(&dir).unwrap_or(false) {
            converged_after = Some(quiet_start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let probes = {
        let mut g = lock(&gen);
        let first = g.1;
        let ops = g.0.quiet_ops();
        g.1 += ops.len() as u64;
        (first, ops)
    };
    for (j, (node, op)) in probes.1.into_iter().enumerate() {
        run_op(
            &rec,
            &cfg,
            o.request_timeout,
            o.clients,
            probes.0 + j as u64,
            node,
            op,
        );
    }

    let views = std::mem::take(&mut *lock(&views));
    let mut rec = lock(&rec);
    if let Err(e) = rec.file.flush() {
        rec.error.get_or_insert(e.to_string());
    }
    if let Some(e) = &rec.error {
        return Err(AdminError::Failed(format!(
            "writing the history to {}: {e}",
            o.history.display()
        )));
    }
    Ok(TestRun {
        history: std::mem::take(&mut rec.lines),
        faults,
        converged_after,
        config: cfg,
        views,
    })
}
