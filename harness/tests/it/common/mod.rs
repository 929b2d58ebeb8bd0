//! What the cluster tests share: the guard that stops every node by its pid when a test ends,
//! pass or fail.

use std::path::PathBuf;
use std::time::Duration;

use seedbed_cluster::process::{self, ProcState};

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
