//! `seedbed cluster`: the quorum store's nodes as real processes on loopback — start them,
//! talk to them, and break them on purpose. The work is done by `seedbed-cluster`; this file
//! is the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use seedbed_cluster::admin::{self, AdminError, ClientOp, Signal, UpOptions};

/// The settings of a cluster that `up` and `test` share (`--nodes` is each command's own: a
/// test defaults to 5 nodes so that fallbacks exist, `up` to 3).
#[derive(Clone, Debug, Args)]
pub struct QuorumParams {
    /// Replicas per key.
    #[arg(long, default_value_t = 3)]
    pub n: u32,
    /// Replies a get waits for.
    #[arg(long, default_value_t = 2)]
    pub r: u32,
    /// Durable acknowledgements a put waits for.
    #[arg(long, default_value_t = 2)]
    pub w: u32,
    /// Disk backend of every node: std (pread/pwrite/fdatasync) or uring (io_uring).
    #[arg(long, default_value = "std")]
    pub io: String,
    /// When a replica's writes reach the disk: always (each write syncs its WAL before it is
    /// acknowledged) or group (group commit: the writes a node takes in one event-loop turn
    /// share one sync; their acknowledgements go out after it).
    #[arg(long, default_value = "always")]
    pub sync: String,
    /// A coordinator's deadline per phase, in milliseconds, before it retries.
    #[arg(long, default_value_t = 100)]
    pub timeout_ms: u64,
}

impl QuorumParams {
    /// `up`'s settings from these and the rest.
    pub fn up_options(
        &self,
        nodes: u32,
        membership: &str,
        vnodes: u32,
        bug: &str,
        sloppy: bool,
    ) -> UpOptions {
        UpOptions {
            nodes,
            n: self.n,
            r: self.r,
            w: self.w,
            io: self.io.clone(),
            membership: membership.into(),
            vnodes,
            timeout_ms: self.timeout_ms,
            bug: bug.into(),
            sloppy,
            sync: self.sync.clone(),
        }
    }
}

/// Arguments of `seedbed cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The cluster directory: settings, fault file, and each node's disk, pid and log
    /// (default: seedbed-cluster; for `test`, a new temporary directory, kept).
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Start N node processes on loopback ports, wait until they agree on membership, and
    /// print where each listens.
    Up {
        /// Node processes to start.
        #[arg(long, default_value_t = 3)]
        nodes: u32,
        #[command(flatten)]
        q: QuorumParams,
        /// Who is up: gossip (an embedded SWIM member per node) or local (a timeout detector).
        #[arg(long, default_value = "gossip")]
        membership: String,
        /// Ring tokens per node.
        #[arg(long, default_value_t = 8)]
        vnodes: u32,
        /// A planted bug (none, ack-before-sync, no-vclock-merge, repair-overwrites,
        /// hint-never-delivered), as in the simulator.
        #[arg(long, default_value = "none")]
        bug: String,
        /// Sloppy quorums (true: a fallback node keeps a hint for an unreachable replica and
        /// counts towards W and R) or strict ones (false: only the key's preference list).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        sloppy: bool,
    },
    /// Each node's process state, address, boot epoch, membership view, skew and drops.
    Status,
    /// Stop every node (SIGTERM, then SIGKILL); the disks stay.
    Down,
    /// Write VALUE (an unsigned integer: the store holds u64 values) to KEY (a u32).
    Put {
        /// The key.
        key: u32,
        /// The value.
        value: u64,
        /// The node that coordinates (default: the first running node).
        #[arg(long)]
        node: Option<u32>,
    },
    /// Read KEY: its value, or every sibling when concurrent writes left several.
    Get {
        /// The key.
        key: u32,
        /// The node that coordinates (default: the first running node).
        #[arg(long)]
        node: Option<u32>,
    },
    /// Delete KEY (a write of a tombstone).
    Delete {
        /// The key.
        key: u32,
        /// The node that coordinates (default: the first running node).
        #[arg(long)]
        node: Option<u32>,
    },
    /// Crash node I: SIGKILL, no shutdown code runs; its disk keeps what was synced.
    Kill {
        /// The node.
        id: u32,
    },
    /// Stop node I with SIGSTOP: its sockets stay open, it answers nothing.
    Pause {
        /// The node.
        id: u32,
    },
    /// Continue a paused node (SIGCONT).
    Resume {
        /// The node.
        id: u32,
    },
    /// Start node I again on its disk (killing it first if it runs): it recovers from its LSM
    /// and rejoins; waits until the cluster agrees on membership.
    Restart {
        /// The node.
        id: u32,
    },
    /// Cut the network between sides, like 0,1/2,3,4 (nodes not named form one more side);
    /// the nodes drop frames across the cut.
    Partition {
        /// The sides.
        spec: String,
    },
    /// End the partition.
    Heal,
    /// Offset node I's clock, like +300ms or -2s (0 to clear): moves the timestamps it
    /// writes, not the pace of its timers.
    Skew {
        /// The node.
        id: u32,
        /// The offset.
        #[arg(allow_hyphen_values = true)]
        offset: String,
    },
    /// Check the store against reality: start a cluster, run concurrent clients with the
    /// simulator's quorum operation mix while a nemesis kills, pauses and partitions nodes on
    /// a seeded schedule, undo every fault, let the replicas converge, record the history
    /// (JSON lines), and run the simulator's durability, convergence, per-key
    /// linearizability, staleness and regular-register checkers on it. Prints the verdict,
    /// each anomaly with the operations involved, and the history file; exits 1 when a check
    /// fails. Every node it starts is stopped when it ends.
    Test(Box<crate::cluster_test::TestArgs>),
    /// The simulator against reality: run `test` (sampling every node's SWIM view) and the
    /// simulator's quorum and gossip workloads on the same N, R, W, node count and fault
    /// kinds; print the staleness tables and SWIM's detection times and false positives side
    /// by side, and write them (--json) for `seedbed report`.
    Compare(Box<crate::cluster_compare::CompareArgs>),
    /// Run one node in this process (what `up` and `restart` start).
    #[command(hide = true)]
    Node {
        /// The node's id.
        #[arg(long)]
        id: u32,
    },
}

/// Run a `cluster` subcommand; exit 2 for bad input, 1 for a failed operation.
pub fn run(args: ClusterArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn exe() -> Result<PathBuf, AdminError> {
    std::env::current_exe()
        .map_err(|e| AdminError::Failed(format!("cannot find this program's path: {e}")))
}

fn run_inner(args: ClusterArgs) -> Result<(), AdminError> {
    if let ClusterCommand::Test(t) = args.command {
        return match crate::cluster_test::run(args.dir.as_deref(), &exe()?, *t)? {
            true => Ok(()),
            false => Err(AdminError::Failed(
                "the history failed the checkers (see the anomalies above)".into(),
            )),
        };
    }
    if let ClusterCommand::Compare(c) = args.command {
        return match crate::cluster_compare::run(args.dir.as_deref(), &exe()?, *c)? {
            true => Ok(()),
            false => Err(AdminError::Failed(
                "the real run's history failed the checkers (see the anomalies above)".into(),
            )),
        };
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("seedbed-cluster"));
    let dir = dir.as_path();
    match args.command {
        ClusterCommand::Up {
            nodes,
            q,
            membership,
            vnodes,
            bug,
            sloppy,
        } => {
            let o = q.up_options(nodes, &membership, vnodes, &bug, sloppy);
            admin::up(dir, &exe()?, &o).map(|_| ())
        }
        ClusterCommand::Status => admin::status(dir).map(|_| ()),
        ClusterCommand::Down => admin::down(dir),
        ClusterCommand::Put { key, value, node } => {
            admin::client(dir, ClientOp::Put(key, value), node).map(|_| ())
        }
        ClusterCommand::Get { key, node } => {
            admin::client(dir, ClientOp::Get(key), node).map(|_| ())
        }
        ClusterCommand::Delete { key, node } => {
            admin::client(dir, ClientOp::Delete(key), node).map(|_| ())
        }
        ClusterCommand::Kill { id } => admin::signal(dir, id, Signal::Kill),
        ClusterCommand::Pause { id } => admin::signal(dir, id, Signal::Pause),
        ClusterCommand::Resume { id } => admin::signal(dir, id, Signal::Resume),
        ClusterCommand::Restart { id } => admin::restart(dir, &exe()?, id).map(|_| ()),
        ClusterCommand::Partition { spec } => admin::partition(dir, &spec),
        ClusterCommand::Heal => admin::heal(dir),
        ClusterCommand::Skew { id, offset } => admin::skew(dir, id, &offset),
        ClusterCommand::Node { id } => seedbed_cluster::runtime::run_node(dir, id)
            .map_err(|e| AdminError::Failed(e.to_string())),
        ClusterCommand::Test(_) | ClusterCommand::Compare(_) => unreachable!("handled above"),
    }
}
