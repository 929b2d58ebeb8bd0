//! What the cluster tests share: `seedbed cluster` run on a directory, and the guard that stops
//! every node by its pid when a test ends, pass or fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use seedbed_cluster::process::{self, ProcState};

/// `seedbed cluster --dir DIR ARGS…`, run to its end.
pub fn seedbed(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seedbed"))
        .arg("cluster")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run seedbed")
}

/// `seedbed`, which must succeed; returns its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = seedbed(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "seedbed cluster {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Nodes of the tests' clusters.
pub const NODES: u32 = 3;

/// Kills every node of the cluster in `dir` by its recorded pid when dropped; a paused node
/// (SIGSTOP) is continued first so that it can die and be reaped.
pub struct Guard {
    pub dir: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for id in 0..NODES {
            if let (Some(pid), st) = process::node_state(&self.dir, id) {
                if st != ProcState::Dead {
                    let _ = process::signal(pid, libc::SIGCONT);
                    let _ = process::signal(pid, libc::SIGKILL);
                    process::wait_dead(pid, &self.dir, id, Duration::from_secs(5));
                }
            }
        }
    }
}
