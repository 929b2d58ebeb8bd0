//! What `seedbed cluster` does to a cluster directory: bring nodes up and down, report their
//! status, inject faults, and run client operations. Each function prints what it did for
//! people and returns a typed error whose [`AdminError::exit_code`] separates bad input (2)
//! from a failed operation (1).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seedbed_engine::rng::os_seed;
use seedbed_nodes::gossip::msg::Status;
use seedbed_nodes::quorum::msg::{Op, Reply};
use seedbed_nodes::quorum::version::Version;
use seedbed_nodes::NodeId;

use crate::client::{status_of, Client};
use crate::config::{config_path, ClusterConfig};
use crate::faults::{parse_partition, parse_skew, Faults};
use crate::process::{self, ProcState};
use crate::wire::NodeStatus;

/// How long `up` and `restart` wait for the nodes to agree on membership.
pub const AGREE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fault change may take to reach every running node.
pub const FAULTS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one status request or client operation may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a `seedbed cluster` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The command's input is wrong (an unknown node, a bad spec, a directory in use): exit 2.
    #[error("{0}")]
    Invalid(String),
    /// The operation failed (a node did not come up, a quorum was not reached): exit 1.
    #[error("{0}")]
    Failed(String),
    /// A settings file of the cluster directory is unusable (the error names the file): exit 1.
    #[error(transparent)]
    File(#[from] crate::config::FileError),
    /// The directory the user named is not a usable cluster directory: exit 2.
    #[error(transparent)]
    NotACluster(crate::config::FileError),
}

impl AdminError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Invalid(_) | AdminError::NotACluster(_) => 2,
            AdminError::Failed(_) | AdminError::File(_) => 1,
        }
    }
}

type Result<T> = std::result::Result<T, AdminError>;

fn failed(e: impl std::fmt::Display) -> AdminError {
    AdminError::Failed(e.to_string())
}

/// The settings `up` takes.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// Nodes to start.
    pub nodes: u32,
    /// Replicas per key.
    pub n: u32,
    /// Read quorum.
    pub r: u32,
    /// Write quorum.
    pub w: u32,
    /// Disk backend (`std`, `uring`).
    pub io: String,
    /// `gossip` or `local`.
    pub membership: String,
    /// Ring tokens per node.
    pub vnodes: u32,
    /// A coordinator's phase deadline in milliseconds.
    pub timeout_ms: u64,
    /// A planted bug, `none` for the correct protocol.
    pub bug: String,
    /// Sloppy quorums with hinted handoff (`false`: strict quorums).
    pub sloppy: bool,
    /// `always` or `group` (see [`ClusterConfig::sync`]).
    pub sync: String,
}

/// The directory as an absolute path (the nodes' command lines name it, and `status` finds
/// them by it, so every command must spell it the same way).
fn absolute(dir: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(dir).map_err(|e| {
        AdminError::Invalid(format!(
            "{}: {e} (is it a cluster directory? `seedbed cluster up --dir` makes one)",
            dir.display()
        ))
    })
}

fn load(dir: &Path) -> Result<(PathBuf, ClusterConfig)> {
    let dir = absolute(dir)?;
    let cfg = ClusterConfig::load(&dir).map_err(AdminError::NotACluster)?;
    Ok((dir, cfg))
}

fn check_node(cfg: &ClusterConfig, id: NodeId) -> Result<()> {
    if id >= cfg.nodes() {
        return Err(AdminError::Invalid(format!(
            "there is no node {id}: the cluster has nodes 0..={}",
            cfg.nodes() - 1
        )));
    }
    Ok(())
}

/// Free loopback ports, one per node: bound together (so they differ), then released for the
/// nodes to bind.
///
/// Chosen **below the kernel's ephemeral range** (`/proc/sys/net/ipv4/ip_local_port_range`)
/// when there is room: a node keeps its port for life, and while it is down (killed, before
/// `restart`) a port in the ephemeral range can be taken as the source port of any outgoing
/// connection on the machine — its peers reconnect every 100 ms — and the restarted node
/// could not listen again. Ports below the range are only ever taken by an explicit bind.
fn free_ports(count: u32) -> std::io::Result<Vec<u16>> {
    let mut held: Vec<std::net::TcpListener> = Vec::new();
    if let Some(below) = ephemeral_start().filter(|&lo| lo > FIXED_PORTS_FROM + 1_000) {
        let mut rng = seedbed_engine::rng::DetRng::new(os_seed());
        let span = u64::from(below - FIXED_PORTS_FROM);
        for _ in 0..count * 50 {
            if held.len() == count as usize {
                break;
            }
            let port = FIXED_PORTS_FROM + rng.below(span) as u16;
            if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                held.push(l);
            }
        }
    }
    // No room below the range, or that crowded: the kernel picks.
    while held.len() < count as usize {
        held.push(std::net::TcpListener::bind(("127.0.0.1", 0))?);
    }
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// The lowest port `free_ports` picks from (above the well-known and most registered ones).
const FIXED_PORTS_FROM: u16 = 20_000;

/// The first port of the kernel's ephemeral range, if it can be read.
fn ephemeral_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

/// Start a cluster in `dir` with the binary `exe` (this program), wait until every node sees
/// every other alive, and print where each listens.
pub fn up(dir: &Path, exe: &Path, o: &UpOptions) -> Result<Vec<NodeStatus>> {
    if config_path(dir).exists() {
        let (dir, cfg) = load(dir)?;
        let running: Vec<String> = (0..cfg.nodes())
            .filter_map(|id| match process::node_state(&dir, id) {
                (Some(pid), s) if s != ProcState::Dead => Some(format!("node {id} (pid {pid})")),
                _ => None,
            })
            .collect();
        let what = if running.is_empty() {
            "a stopped cluster (its nodes' disks are kept): start its nodes with \
             `seedbed cluster restart I`, or remove the directory for a new one"
                .to_string()
        } else {
            format!(
                "a running cluster: {}; stop it with `seedbed cluster down --dir {}`",
                running.join(", "),
                dir.display()
            )
        };
        return Err(AdminError::Invalid(format!(
            "{} is already in use by {what}",
            dir.display()
        )));
    }
    let cfg = ClusterConfig {
        cluster_id: os_seed(),
        ports: vec![0; o.nodes as usize],
        n: o.n,
        r: o.r,
        w: o.w,
        io: o.io.clone(),
        membership: o.membership.clone(),
        vnodes: o.vnodes,
        timeout_ms: o.timeout_ms,
        bug: o.bug.clone(),
        sloppy: o.sloppy,
        sync: o.sync.clone(),
    };
    cfg.validate().map_err(AdminError::Invalid)?;
    std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let dir = absolute(dir)?;
    let cfg = ClusterConfig {
        ports: free_ports(o.nodes).map_err(|e| failed(format!("choosing ports: {e}")))?,
        ..cfg
    };
    cfg.save(&dir)
        .map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    for id in 0..cfg.nodes() {
        process::spawn_node(exe, &dir, id)
            .map_err(|e| failed(format!("starting node {id}: {e}")))?;
    }
    let statuses = wait_agreement(&dir, &cfg, &(0..cfg.nodes()).collect::<Vec<_>>())?;
    println!(
        "cluster of {} nodes up in {} (N={} R={} W={}{}, io {}, sync {}, membership {})",
        cfg.nodes(),
        dir.display(),
        cfg.n,
        cfg.r,
        cfg.w,
        if cfg.sloppy { "" } else { " strict" },
        cfg.io,
        cfg.sync,
        cfg.membership
    );
    print_table(&dir, &cfg, &statuses);
    Ok(statuses.into_iter().flatten().collect())
}

/// Wait until the running nodes agree: each answers, serves, and sees every running node
/// alive (nodes that are dead or paused may be seen any way). A node of `expect` whose
/// process died fails at once with the end of its log.
fn wait_agreement(
    dir: &Path,
    cfg: &ClusterConfig,
    expect: &[NodeId],
) -> Result<Vec<Option<NodeStatus>>> {
    let until = Instant::now() + AGREE_TIMEOUT;
    loop {
        let mut all = vec![None; cfg.nodes() as usize];
        let mut waiting = Vec::new();
        let mut running = Vec::new();
        for id in 0..cfg.nodes() {
            match process::node_state(dir, id).1 {
                ProcState::Running => running.push(id),
                ProcState::Dead if expect.contains(&id) => {
                    return Err(failed(format!(
                        "node {id} exited; the end of its log ({}):\n{}",
                        process::log_path(dir, id).display(),
                        process::log_tail(dir, id, 10)
                    )));
                }
                _ => {}
            }
        }
        for &id in &running {
            match status_of(cfg.addr(id), Duration::from_millis(500)) {
                Ok(s) => {
                    if !(s.serving && s.sees_alive(&running)) {
                        waiting.push(format!("node {id} sees {}", view_string(&s)));
                    }
                    all[id as usize] = Some(s);
                }
                Err(e) => waiting.push(format!("node {id}: {e}")),
            }
        }
        if waiting.is_empty() {
            return Ok(all);
        }
        if Instant::now() >= until {
            return Err(failed(format!(
                "the nodes did not agree on membership within {:?}: {}",
                AGREE_TIMEOUT,
                waiting.join("; ")
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A node's view as one letter per node: `A`live, `S`uspect, `F`ailed, `?` unknown, `L`eft
/// (with gossip), else `+` up / `-` suspected.
fn view_string(s: &NodeStatus) -> String {
    if s.view.is_empty() {
        return s
            .believes_up
            .iter()
            .map(|&u| if u { '+' } else { '-' })
            .collect();
    }
    s.view
        .iter()
        .map(|st| match st {
            Status::Alive => 'A',
            Status::Suspect => 'S',
            Status::Failed => 'F',
            Status::Unknown => '?',
            Status::Left => 'L',
        })
        .collect()
}

fn print_table(dir: &Path, cfg: &ClusterConfig, statuses: &[Option<NodeStatus>]) {
    println!(
        "{:<5} {:<8} {:<8} {:<16} {:<8} {:<6} {:<8} {:>10} {:>8}",
        "node", "pid", "state", "address", "serving", "epoch", "view", "skew", "dropped"
    );
    for id in 0..cfg.nodes() {
        let (pid, st) = process::node_state(dir, id);
        let s = statuses.get(id as usize).and_then(Option::as_ref);
        println!(
            "{:<5} {:<8} {:<8} {:<16} {:<8} {:<6} {:<8} {:>10} {:>8}",
            id,
            pid.map_or("-".into(), |p| p.to_string()),
            st.name(),
            cfg.addr(id).to_string(),
            s.map_or("-".into(), |s| if s.serving { "yes" } else { "no" }
                .to_string()),
            s.and_then(|s| s.epoch)
                .map_or("-".into(), |e| e.to_string()),
            s.map_or("-".into(), view_string),
            s.map_or("-".into(), |s| format!("{}ms", s.skew_ns / 1_000_000)),
            s.map_or("-".into(), |s| (s.dropped_partition
                + s.dropped_unreachable)
                .to_string()),
        );
    }
}

/// Print every node's process state and, for those that answer, its view.
pub fn status(dir: &Path) -> Result<Vec<Option<NodeStatus>>> {
    let (dir, cfg) = load(dir)?;
    let statuses: Vec<Option<NodeStatus>> = (0..cfg.nodes())
        .map(|id| match process::node_state(&dir, id).1 {
            ProcState::Running => status_of(cfg.addr(id), Duration::from_millis(500)).ok(),
            _ => None,
        })
        .collect();
    let faults = Faults::load(&dir)?;
    println!(
        "cluster in {} (N={} R={} W={}, io {}, sync {}, membership {}); partition: {}",
        dir.display(),
        cfg.n,
        cfg.r,
        cfg.w,
        cfg.io,
        cfg.sync,
        cfg.membership,
        faults.partition_spec().unwrap_or_else(|| "none".into())
    );
    print_table(&dir, &cfg, &statuses);
    println!(
        "view: one letter per node as this node sees it (A alive, S suspect, F failed, ? unknown)"
    );
    Ok(statuses)
}

/// Stop every node (SIGCONT for paused ones, SIGTERM, then SIGKILL after 3 s). The disks stay.
pub fn down(dir: &Path) -> Result<()> {
    let (dir, cfg) = load(dir)?;
    // Every live node is asked to stop first, then each is waited for: the nodes shut down
    // side by side, not one after another.
    let mut live = Vec::new();
    for id in 0..cfg.nodes() {
        let (pid, st) = process::node_state(&dir, id);
        if let Some(pid) = pid.filter(|_| st != ProcState::Dead) {
            let _ = process::signal(pid, libc::SIGCONT);
            let _ = process::signal(pid, libc::SIGTERM);
            live.push((id, pid));
        }
    }
    let mut stuck = Vec::new();
    for (id, pid) in live {
        if !process::wait_dead(pid, &dir, id, DOWN_GRACE) {
            let _ = process::signal(pid, libc::SIGKILL);
            // A SIGKILLed process is gone only when its last thread leaves the kernel: one
            // inside `fdatasync` on a busy disk can take seconds. Only a process that outlasts
            // that is reported, and never as stopped.
            if !process::wait_dead(pid, &dir, id, process::KILL_WAIT) {
                stuck.push(format!("node {id} (pid {pid})"));
                continue;
            }
        }
        println!("node {id} (pid {pid}) stopped");
    }
    if !stuck.is_empty() {
        return Err(failed(format!(
            "{} still running {} s after SIGKILL (a thread stuck in the kernel, usually on I/O); \
             run `seedbed cluster down` again once the disk answers",
            stuck.join(", "),
            process::KILL_WAIT.as_secs()
        )));
    }
    println!(
        "cluster in {} is down; its disks are kept (remove the directory to discard them)",
        dir.display()
    );
    Ok(())
}

/// How long `down` lets a node shut down after SIGTERM before it sends SIGKILL.
const DOWN_GRACE: Duration = Duration::from_secs(3);

/// The signals `kill`, `pause` and `resume` send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: a crash.
    Kill,
    /// SIGSTOP: the process stops, its sockets stay open.
    Pause,
    /// SIGCONT.
    Resume,
}

/// Send node `id` a signal.
pub fn signal(dir: &Path, id: NodeId, sig: Signal) -> Result<()> {
    let (dir, cfg) = load(dir)?;
    check_node(&cfg, id)?;
    let (pid, st) = process::node_state(&dir, id);
    let pid = match (pid, st) {
        (Some(pid), s) if s != ProcState::Dead => pid,
        _ => {
            return Err(AdminError::Failed(format!(
                "node {id} is not running (start it with `seedbed cluster restart {id}`)"
            )))
        }
    };
    let (signo, verb) = match sig {
        Signal::Kill => (libc::SIGKILL, "killed (SIGKILL)"),
        Signal::Pause => (libc::SIGSTOP, "paused (SIGSTOP)"),
        Signal::Resume => (libc::SIGCONT, "resumed (SIGCONT)"),
    };
    process::signal(pid, signo).map_err(|e| failed(format!("node {id} (pid {pid}): {e}")))?;
    if sig == Signal::Kill && !process::wait_dead(pid, &dir, id, process::KILL_WAIT) {
        return Err(failed(format!(
            "node {id} (pid {pid}) still running {} s after SIGKILL",
            process::KILL_WAIT.as_secs()
        )));
    }
    println!("node {id} (pid {pid}) {verb}");
    Ok(())
}

/// Restart node `id`: kill it if it runs, start a new process on its disk, and wait until it
/// serves and the cluster agrees on membership again.
pub fn restart(dir: &Path, exe: &Path, id: NodeId) -> Result<NodeStatus> {
    let (dir, cfg) = load(dir)?;
    check_node(&cfg, id)?;
    if let (Some(pid), st) = process::node_state(&dir, id) {
        if st != ProcState::Dead {
            let _ = process::signal(pid, libc::SIGKILL);
            if !process::wait_dead(pid, &dir, id, process::KILL_WAIT) {
                return Err(failed(format!(
                    "node {id} (pid {pid}) still running {} s after SIGKILL",
                    process::KILL_WAIT.as_secs()
                )));
            }
        }
    }
    let pid = process::spawn_node(exe, &dir, id)
        .map_err(|e| failed(format!("starting node {id}: {e}")))?;
    let statuses = wait_agreement(&dir, &cfg, &[id])?;
    let s = statuses[id as usize].clone().expect("waited for it");
    println!(
        "node {id} restarted as pid {pid} (boot epoch {}), listening on {}; it sees {}",
        s.epoch.map_or("-".into(), |e| e.to_string()),
        cfg.addr(id),
        view_string(&s)
    );
    Ok(s)
}

/// Change the faults in force and wait until every running node applies them.
fn change_faults(dir: &Path, cfg: &ClusterConfig, f: impl FnOnce(&mut Faults)) -> Result<()> {
    let mut faults = Faults::load(dir)?;
    f(&mut faults);
    faults
        .save_next(dir)
        .map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let until = Instant::now() + FAULTS_TIMEOUT;
    loop {
        let mut behind = Vec::new();
        for id in 0..cfg.nodes() {
            if process::node_state(dir, id).1 != ProcState::Running {
                continue; // a paused or dead node reads the file when it runs again
            }
            match status_of(cfg.addr(id), Duration::from_millis(500)) {
                Ok(s) if s.faults_gen >= faults.gen => {}
                _ => behind.push(id),
            }
        }
        if behind.is_empty() {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(failed(format!(
                "nodes {behind:?} did not take up the change within {FAULTS_TIMEOUT:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Partition the cluster by `spec` (`0,1/2,3,4`).
pub fn partition(dir: &Path, spec: &str) -> Result<()> {
    let (dir, cfg) = load(dir)?;
    let sides = parse_partition(spec, cfg.nodes()).map_err(AdminError::Invalid)?;
    change_faults(&dir, &cfg, |f| f.partition = Some(sides.clone()))?;
    let shown = Faults {
        partition: Some(sides),
        ..Faults::default()
    };
    println!(
        "partitioned: {} (frames between sides are dropped by the nodes)",
        shown.partition_spec().expect("set")
    );
    Ok(())
}

/// End the partition.
pub fn heal(dir: &Path) -> Result<()> {
    let (dir, cfg) = load(dir)?;
    change_faults(&dir, &cfg, |f| f.partition = None)?;
    println!("healed: every node talks to every node again");
    Ok(())
}

/// Set node `id`'s clock offset (`+300ms`).
pub fn skew(dir: &Path, id: NodeId, offset: &str) -> Result<()> {
    let (dir, cfg) = load(dir)?;
    check_node(&cfg, id)?;
    let ns = parse_skew(offset).map_err(AdminError::Invalid)?;
    change_faults(&dir, &cfg, |f| {
        if ns == 0 {
            f.skew_ns.remove(&id);
        } else {
            f.skew_ns.insert(id, ns);
        }
    })?;
    println!("node {id}'s clock now reads {offset} from the machine's");
    Ok(())
}

/// A client operation, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientOp {
    /// Read a key.
    Get(u32),
    /// Write a value.
    Put(u32, u64),
    /// Delete a key.
    Delete(u32),
}

/// Run one client operation with node `via` (default: the first running node) coordinating;
/// print the answer, siblings and all. Returns the node's reply.
pub fn client(dir: &Path, op: ClientOp, via: Option<NodeId>) -> Result<Reply> {
    let (dir, cfg) = load(dir)?;
    let id = match via {
        Some(id) => {
            check_node(&cfg, id)?;
            id
        }
        None => (0..cfg.nodes())
            .find(|&id| process::node_state(&dir, id).1 == ProcState::Running)
            .ok_or_else(|| failed("no node is running"))?,
    };
    let mut c = Client::connect(cfg.addr(id), REQUEST_TIMEOUT).map_err(failed)?;
    let (key, wire_op) = match op {
        ClientOp::Get(key) => (key, Op::Get { key, all: false }),
        ClientOp::Put(key, value) => (key, Op::Put { key, value }),
        ClientOp::Delete(key) => (key, Op::Delete { key }),
    };
    let reply = c.op(wire_op).map_err(failed)?;
    match &reply {
        Reply::Got(sibs, replicas) => {
            let who: Vec<String> = replicas.iter().map(|(n, _)| format!("n{n}")).collect();
            let vs = sibs.versions();
            match vs.len() {
                0 => println!("key {key}: not found (answered by {})", who.join(" ")),
                1 => println!(
                    "key {key} = {}  version {}  (answered by {})",
                    value_of(&vs[0]),
                    vs[0],
                    who.join(" ")
                ),
                k => {
                    println!(
                        "key {key} has {k} siblings (concurrent writes; the next put supersedes them all):"
                    );
                    for v in vs {
                        println!("  {} = {}", v, value_of(v));
                    }
                    if let Some(v) = sibs.reconciled() {
                        println!(
                            "reconciled (greatest timestamp, writer): {}  (answered by {})",
                            value_of(v),
                            who.join(" ")
                        );
                    }
                }
            }
        }
        Reply::Written(v, direct) => {
            let on: Vec<String> = (0..cfg.nodes())
                .filter(|n| direct & (1 << n) != 0)
                .map(|n| format!("n{n}"))
                .collect();
            println!(
                "ok: key {key} {} by n{id}, version {v}; W={} acknowledged, stored on replicas {}{}",
                if v.value.is_some() { "written" } else { "deleted" },
                cfg.w,
                if on.is_empty() { "(none: hints only)".into() } else { on.join(" ") },
                if (on.len() as u32) < cfg.w {
                    " (the rest as hints on fallback nodes)"
                } else {
                    ""
                }
            );
        }
        Reply::Failed => {
            return Err(failed(format!(
                "key {key}: too few replicas answered, even after retries (W={}, R={}); a write's outcome is unknown",
                cfg.w, cfg.r
            )))
        }
        Reply::Busy => {
            return Err(failed(format!(
                "node {id} is busy (its store is not open, or too many operations are in flight)"
            )))
        }
        Reply::Digest { .. } => {
            return Err(failed(format!("node {id} answered a digest to a key operation")))
        }
    }
    Ok(reply)
}

fn value_of(v: &Version) -> String {
    v.value.map_or("(deleted)".into(), |x| x.to_string())
}

/// Each node's Merkle roots per range it replicates and its pending hints: the replicas have
/// converged when, for every range, every replica reports the same root and no hints remain.
pub fn converged(dir: &Path) -> Result<bool> {
    let (_, cfg) = load(dir)?;
    let mut roots: std::collections::BTreeMap<u32, Vec<u64>> = Default::default();
    for id in 0..cfg.nodes() {
        let mut c = Client::connect(cfg.addr(id), REQUEST_TIMEOUT).map_err(failed)?;
        match c.op(Op::Digest).map_err(failed)? {
            Reply::Digest { roots: r, hints } => {
                if hints > 0 {
                    return Ok(false);
                }
                for (range, root) in r {
                    roots.entry(range).or_default().push(root);
                }
            }
            other => return Err(failed(format!("node {id} answered {other:?} to a digest"))),
        }
    }
    Ok(roots.values().all(|rs| rs.windows(2).all(|w| w[0] == w[1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node ports differ, can be listened on, and lie below the ephemeral range (where no
    /// outgoing connection can take one while its node is down).
    #[test]
    fn node_ports_are_distinct_free_and_below_the_ephemeral_range() {
        let ports = free_ports(7).unwrap();
        let distinct: std::collections::BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), 7, "{ports:?}");
        for &p in &ports {
            std::net::TcpListener::bind(("127.0.0.1", p)).expect("a port given is free");
        }
        if let Some(lo) = ephemeral_start().filter(|&lo| lo > FIXED_PORTS_FROM + 1_000) {
            assert!(
                ports.iter().all(|&p| (FIXED_PORTS_FROM..lo).contains(&p)),
                "{ports:?} not in {FIXED_PORTS_FROM}..{lo}"
            );
        }
    }
}
