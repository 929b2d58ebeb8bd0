//! Node processes: starting them, finding them by pid, and the signals `seedbed cluster` sends
//! (SIGKILL for a crash, SIGSTOP/SIGCONT for a pause).
//!
//! A pid in a file may outlive its process and be reused by another, so every check reads
//! `/proc/PID/cmdline` and acts only on a `seedbed cluster node` process of this directory and
//! node id. A process that has exited but not been reaped (a zombie) counts as dead — once
//! every thread of it has exited, not only its leader.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use seedbed_nodes::NodeId;

use crate::config::node_dir;

/// What a node's process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    /// Running (or sleeping, as a waiting process does) — or still exiting: its leader thread
    /// gone, another thread still holding its files (see `stat_state`).
    Running,
    /// Stopped by SIGSTOP.
    Paused,
    /// Gone (or a zombie, or the pid now belongs to another process).
    Dead,
}

impl ProcState {
    /// A word for status tables.
    pub fn name(self) -> &'static str {
        match self {
            ProcState::Running => "running",
            ProcState::Paused => "paused",
            ProcState::Dead => "dead",
        }
    }
}

/// `D/node-I/pid`.
pub fn pid_path(dir: &Path, id: NodeId) -> PathBuf {
    node_dir(dir, id).join("pid")
}

/// `D/node-I/log`: the node's stdout and stderr.
pub fn log_path(dir: &Path, id: NodeId) -> PathBuf {
    node_dir(dir, id).join("log")
}

/// The pid recorded for node `id`, if any.
pub fn recorded_pid(dir: &Path, id: NodeId) -> Option<u32> {
    std::fs::read_to_string(pid_path(dir, id))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// What process `pid` is doing, if it is node `id` of `dir`.
pub fn state(pid: u32, dir: &Path, id: NodeId) -> ProcState {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return ProcState::Dead;
    };
    // An empty command line is a process between the two halves of an exec (the kernel lets
    // the spawning parent go on before it has set the new image's arguments, so a node just
    // started reads empty for a moment) or one that is exiting (its memory is released before
    // its files — the disk lock, the listening socket — are closed). Neither is dead yet:
    // judge by the state in /proc/PID/stat alone. Read as dead, a restart that looked within
    // microseconds of spawning failed with "node N exited" while the node was fine (seed 50
    // of `cluster compare`).
    if cmdline.is_empty() {
        return stat_state(pid);
    }
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let want_dir = dir.as_os_str().as_encoded_bytes();
    let id_s = id.to_string();
    let is_ours = args
        .windows(2)
        .any(|w| w[0] == b"--dir" && w[1] == want_dir)
        && args
            .windows(2)
            .any(|w| w[0] == b"--id" && w[1] == id_s.as_bytes())
        && args.iter().any(|a| *a == b"node");
    if !is_ours {
        return ProcState::Dead;
    }
    stat_state(pid)
}

/// Process `pid`'s state from /proc/PID/stat: zombie or gone is dead, stopped is paused.
///
/// /proc/PID/stat describes the thread-group leader only. On SIGKILL every thread exits on
/// its own; the leader, idle in a wait, goes at once and reads as a zombie while a thread in
/// an uninterruptible call (an `fdatasync` of a group commit) is still on its way out — and
/// that thread still holds the process's files: the disk lock, the listening socket. So a
/// zombie leader is dead only once no other thread of its group is left. Read as dead
/// earlier, `restart` started the new node while the old one held `node.lock`, and the new
/// one exited with "locked by another process" (CI, stop 42).
fn stat_state(pid: u32) -> ProcState {
    match state_letter(&format!("/proc/{pid}/stat")) {
        Some('Z') | Some('X') | None if !other_threads_live(pid) => ProcState::Dead,
        Some('Z') | Some('X') | None => ProcState::Running,
        Some('T') | Some('t') => ProcState::Paused,
        Some(_) => ProcState::Running,
    }
}

/// The state letter of a `stat` file: the first field after the command name, which is in
/// parentheses (and may itself hold spaces and parentheses).
fn state_letter(stat_path: &str) -> Option<char> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    stat.rsplit_once(')')
        .and_then(|(_, r)| r.trim_start().chars().next())
}

/// Whether a thread of `pid`'s group other than the leader has not finished exiting.
fn other_threads_live(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        let tid = t.file_name();
        tid.to_str() != Some(&pid.to_string())
            && !matches!(
                state_letter(&format!("/proc/{pid}/task/{}/stat", tid.to_string_lossy())),
                Some('Z') | Some('X') | None
            )
    })
}

/// Node `id`'s pid and state (no pid recorded: dead).
pub fn node_state(dir: &Path, id: NodeId) -> (Option<u32>, ProcState) {
    match recorded_pid(dir, id) {
        Some(pid) => (Some(pid), state(pid, dir, id)),
        None => (None, ProcState::Dead),
    }
}

/// Send `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) -> std::io::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Start node `id` of `dir` as `exe cluster node --dir D --id I`, in its own process group
/// (a Ctrl-C in the terminal that ran `up` does not reach it), output appended to its log.
/// Records and returns its pid.
pub fn spawn_node(exe: &Path, dir: &Path, id: NodeId) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(node_dir(dir, id))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(dir, id))?;
    let child = Command::new(exe)
        .arg("cluster")
        .arg("node")
        .arg("--dir")
        .arg(dir)
        .arg("--id")
        .arg(id.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()?;
    let pid = child.id();
    // The child is not waited for here: it outlives this command. Whoever reaps it (init, or
    // a subreaper), a dead node shows as dead or as a zombie, both read as dead by `state`.
    drop(child);
    crate::config::write_atomic(&pid_path(dir, id), format!("{pid}\n").as_bytes())?;
    Ok(pid)
}

/// How long a SIGKILLed node may take to be gone. It is gone only when its last thread leaves
/// the kernel, and one inside `fdatasync` on a busy disk can take seconds: a shorter wait
/// would report a dying node as alive (or, worse, as stopped).
pub const KILL_WAIT: Duration = Duration::from_secs(30);

/// Wait until node `id`'s process is dead, at most `timeout`; returns whether it is.
pub fn wait_dead(pid: u32, dir: &Path, id: NodeId, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if state(pid, dir, id) == ProcState::Dead {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The last `lines` lines of node `id`'s log, for error messages.
pub fn log_tail(dir: &Path, id: NodeId, lines: usize) -> String {
    let text = std::fs::read_to_string(log_path(dir, id)).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process whose leader has exited while another thread still runs — what SIGKILL
    /// leaves for a moment when a thread is inside `fdatasync` — is not dead: that thread
    /// still holds the process's files.
    #[test]
    fn a_zombie_leader_with_a_live_thread_is_not_dead() {
        let script = "import ctypes, threading, time\n\
                      threading.Thread(target=time.sleep, args=(2,)).start()\n\
                      ctypes.CDLL(None).pthread_exit(None)\n";
        let Ok(mut child) = Command::new("python3").args(["-c", script]).spawn() else {
            eprintln!("skipped: no python3 to make a process whose leader exits first");
            return;
        };
        let pid = child.id();
        // Wait for the leader to become a zombie (the other thread sleeps for 2 s).
        let until = Instant::now() + Duration::from_secs(1);
        while state_letter(&format!("/proc/{pid}/stat")) != Some('Z') {
            assert!(Instant::now() < until, "the leader of {pid} did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(stat_state(pid), ProcState::Running);
        // Once the last thread has gone (the zombie is not reaped yet), it is dead.
        let until = Instant::now() + Duration::from_secs(10);
        while other_threads_live(pid) {
            assert!(Instant::now() < until, "the thread of {pid} did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(stat_state(pid), ProcState::Dead);
        child.wait().unwrap();
        assert_eq!(stat_state(pid), ProcState::Dead);
    }
}
