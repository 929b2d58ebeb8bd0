//! A cluster's settings and where it keeps things in its directory.
//!
//! ```text
//! D/cluster.json     the settings below (written by `up`, read by every node at start)
//! D/faults.json      the faults the nodes apply: partition, clock skews (see `faults`)
//! D/node-I/          node I's disk: quorum/ (its LSM), node.lock, log, pid
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use seedbed_engine::io::BackendKind;
use seedbed_nodes::quorum::params::{Bug, Params, SyncMode};
use seedbed_nodes::quorum::ring::Ring;
use seedbed_nodes::quorum::version::Mode;
use seedbed_nodes::time::ms;
use seedbed_nodes::NodeId;

/// Nodes per cluster, at most: the coordinator tracks acknowledgements in a 64-bit mask.
pub const NODES_MAX: u32 = 64;

/// A cluster's settings, as `cluster.json` holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// A random id, so a node never takes frames from another cluster that reused a port.
    pub cluster_id: u64,
    /// Loopback port of each node, by id.
    pub ports: Vec<u16>,
    /// Replicas per key.
    pub n: u32,
    /// Replies a get waits for.
    pub r: u32,
    /// Acknowledgements a put waits for.
    pub w: u32,
    /// The disk backend: `std` or `uring`.
    pub io: String,
    /// `gossip` (an embedded SWIM member) or `local` (a timeout detector).
    pub membership: String,
    /// Ring tokens per node.
    pub vnodes: u32,
    /// A coordinator's phase deadline, in milliseconds.
    pub timeout_ms: u64,
    /// The planted bug (`none` for the correct protocol).
    pub bug: String,
    /// Sloppy quorums (fallback nodes keep hints for unreachable replicas), as in Dynamo; with
    /// `false`, strict quorums of the preference list only. Absent in files written before it
    /// existed: sloppy, as they ran.
    #[serde(default = "sloppy_default")]
    pub sloppy: bool,
    /// When a replica's writes reach the disk: `always` (each write syncs its WAL record
    /// before it is acknowledged) or `group` (group commit: the writes of one event-loop turn
    /// share one sync, their acknowledgements sent after it). Absent in files written before
    /// it existed: `always`, as they ran.
    #[serde(default = "sync_default")]
    pub sync: String,
}

fn sloppy_default() -> bool {
    true
}

fn sync_default() -> String {
    "always".into()
}

impl ClusterConfig {
    /// Nodes in the cluster.
    pub fn nodes(&self) -> u32 {
        self.ports.len() as u32
    }

    /// Check the settings; the error names the setting and what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let nodes = self.nodes();
        if nodes == 0 || nodes > NODES_MAX {
            return Err(format!("--nodes {nodes}: expected 1..={NODES_MAX}"));
        }
        if self.n == 0 || self.n > nodes {
            return Err(format!(
                "--n {}: replicas per key must be in 1..={nodes} (the node count)",
                self.n
            ));
        }
        for (name, v) in [("--r", self.r), ("--w", self.w)] {
            if v == 0 || v > self.n {
                return Err(format!("{name} {v}: must be in 1..={} (N)", self.n));
            }
        }
        self.backend()?;
        if !matches!(self.membership.as_str(), "gossip" | "local") {
            return Err(format!(
                "--membership {}: expected gossip or local",
                self.membership
            ));
        }
        if self.vnodes == 0 || self.vnodes > 256 {
            return Err(format!("--vnodes {}: expected 1..=256", self.vnodes));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 60_000 {
            return Err(format!(
                "--timeout-ms {}: expected 1..=60000",
                self.timeout_ms
            ));
        }
        if SyncMode::parse(&self.sync).is_none() {
            return Err(format!("--sync {}: expected always or group", self.sync));
        }
        if Bug::parse(&self.bug).is_none() {
            return Err(format!(
                "--bug {}: expected one of {}",
                self.bug,
                Bug::NAMES.join(", ")
            ));
        }
        Ok(())
    }

    /// The disk backend.
    pub fn backend(&self) -> Result<BackendKind, String> {
        match self.io.parse::<BackendKind>() {
            Ok(k @ (BackendKind::Std | BackendKind::Uring)) => Ok(k),
            Ok(k) => Err(format!(
                "--io {k}: a cluster node runs on a real disk through std or uring"
            )),
            Err(e) => Err(format!("--io: {e}")),
        }
    }

    /// The protocol's settings, the same structure the simulator's workload builds from its
    /// `--set` parameters. Timings are scaled from the simulator's (a 20 ms deadline on
    /// 0.1–1 ms links) to a real machine whose disk syncs take milliseconds and whose cores
    /// are shared: deadlines of `timeout_ms`, anti-entropy every 200 ms, handoff every 100 ms.
    pub fn params(&self) -> Arc<Params> {
        Arc::new(Params {
            n: self.n,
            r: self.r,
            w: self.w,
            mode: Mode::VClock,
            bug: Bug::parse(&self.bug).unwrap_or(Bug::None),
            sloppy: self.sloppy,
            gossip: self.membership == "gossip",
            ring: Ring::new(self.nodes(), self.vnodes, self.n),
            timeout_ns: ms(self.timeout_ms),
            phase_tries: 3,
            client_retries: 2,
            backoff_ns: ms(20),
            concurrency: 64,
            ae_every_ns: ms(200),
            handoff_every_ns: ms(100),
            sync: SyncMode::parse(&self.sync).unwrap_or(SyncMode::Always),
            // One turn of the event loop: the timer fires once the events already waiting
            // have been handled, so every write among them shares the sync.
            group_delay_ns: 0,
        })
    }

    /// Read `D/cluster.json`.
    pub fn load(dir: &Path) -> Result<ClusterConfig, FileError> {
        let path = config_path(dir);
        let text = std::fs::read_to_string(&path).map_err(|source| FileError::NotACluster {
            path: path.clone(),
            dir: dir.to_path_buf(),
            source,
        })?;
        let c: ClusterConfig = serde_json::from_str(&text).map_err(|source| FileError::Parse {
            path: path.clone(),
            source,
        })?;
        c.validate()
            .map_err(|reason| FileError::Invalid { path, reason })?;
        Ok(c)
    }

    /// Write `D/cluster.json` (durably: write a temporary file, sync, rename).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain data serializes");
        write_atomic(&config_path(dir), text.as_bytes())
    }

    /// Node `id`'s loopback address.
    pub fn addr(&self, id: NodeId) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.ports[id as usize]))
    }
}

/// Why a cluster directory's settings file (`cluster.json`, `faults.json`) cannot be used: each
/// names the file; the OS's or the JSON parser's error is the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// `cluster.json` cannot be read: most likely the directory is not a cluster's.
    #[error("{}: {source} (is {} a cluster directory? `seedbed cluster up --dir` makes one)", path.display(), dir.display())]
    NotACluster {
        /// The file.
        path: PathBuf,
        /// The directory it was looked for in.
        dir: PathBuf,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the JSON this code writes.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error (line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The settings parse but one is out of range.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Which setting and what is wrong (the same words as the command-line check).
        reason: String,
    },
}

/// `D/cluster.json`.
pub fn config_path(dir: &Path) -> PathBuf {
    dir.join("cluster.json")
}

/// `D/node-I`: node `id`'s directory (its disk).
pub fn node_dir(dir: &Path, id: NodeId) -> PathBuf {
    dir.join(format!("node-{id}"))
}

/// Replace `path` with `bytes` atomically and durably: a reader sees the old or the new file,
/// never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> ClusterConfig {
        ClusterConfig {
            cluster_id: 1,
            ports: vec![1, 2, 3],
            n: 3,
            r: 2,
            w: 2,
            io: "std".into(),
            membership: "gossip".into(),
            vnodes: 8,
            timeout_ms: 100,
            bug: "none".into(),
            sloppy: true,
            sync: "always".into(),
        }
    }

    #[test]
    fn settings_out_of_range_are_named() {
        assert!(three().validate().is_ok());
        let mut c = three();
        c.n = 4;
        assert!(c.validate().unwrap_err().contains("--n 4"));
        let mut c = three();
        c.w = 0;
        assert!(c.validate().unwrap_err().contains("--w 0"));
        let mut c = three();
        c.io = "sim".into();
        assert!(c.validate().unwrap_err().contains("real disk"));
        let mut c = three();
        c.io = "floppy".into();
        assert!(c.validate().unwrap_err().contains("floppy"));
        let mut c = three();
        c.sync = "never".into();
        assert!(c.validate().unwrap_err().contains("--sync never"));
    }

    #[test]
    fn a_config_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        three().save(dir.path()).unwrap();
        assert_eq!(ClusterConfig::load(dir.path()).unwrap(), three());
        let e = ClusterConfig::load(&dir.path().join("nope")).unwrap_err();
        assert!(e.to_string().contains("cluster up"), "{e}");
        assert!(matches!(e, FileError::NotACluster { ref source, .. }
            if source.kind() == std::io::ErrorKind::NotFound));
        std::fs::write(config_path(dir.path()), "{").unwrap();
        let e = ClusterConfig::load(dir.path()).unwrap_err();
        assert!(matches!(e, FileError::Parse { .. }), "{e:?}");
        assert!(e
            .to_string()
            .starts_with(&config_path(dir.path()).display().to_string()));
    }

    #[test]
    fn a_file_from_before_the_sloppy_setting_runs_sloppy_as_it_did() {
        let mut v = serde_json::to_value(three()).unwrap();
        v.as_object_mut().unwrap().remove("sloppy");
        v.as_object_mut().unwrap().remove("sync");
        let c: ClusterConfig = serde_json::from_value(v).unwrap();
        assert!(c.sloppy && c.params().sloppy);
        assert_eq!(c.params().sync, SyncMode::Always);
        let strict = ClusterConfig {
            sloppy: false,
            ..three()
        };
        assert!(!strict.params().sloppy);
    }
}
