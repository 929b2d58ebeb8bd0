//! What really happened, as the checkers and metrics see it: which members are up, crashed or
//! gone, who was paused when, and what every member believes about every other (folded from
//! the nodes' journals after each handler).

use super::msg::Status;
use super::node::{Gone, GossipNode, Note};
use crate::faults::Fault;
use crate::node::NodeId;
use crate::time::ms;

/// Pauses remembered, at most (the fault schedule bounds them far lower).
pub const PAUSES_MAX: usize = 1 << 16;

/// A member's real state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Running (perhaps paused).
    Up,
    /// Crashed by the world, to restart later.
    Crashed,
    /// Stopped or left: silent for the rest of the run.
    Gone(Gone),
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct Truth {
    n: u32,
    life: Vec<Life>,
    /// When each member last changed life (booted, crashed, went silent).
    since_ns: Vec<u64>,
    /// `view[observer * n + subject]`.
    view: Vec<Status>,
    pauses: Vec<(NodeId, u64, u64)>,
}

impl Truth {
    /// Everyone up at time 0, knowing nothing.
    pub fn new(n: u32) -> Self {
        Truth {
            n,
            life: vec![Life::Up; n as usize],
            since_ns: vec![0; n as usize],
            view: vec![Status::Unknown; n as usize * n as usize],
            pauses: Vec::new(),
        }
    }

    /// Members.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// `node`'s real state.
    pub fn life(&self, node: NodeId) -> Life {
        self.life[node as usize]
    }

    /// Since when.
    pub fn since_ns(&self, node: NodeId) -> u64 {
        self.since_ns[node as usize]
    }

    /// What `observer` believes about `subject`.
    pub fn view(&self, observer: NodeId, subject: NodeId) -> Status {
        self.view[observer as usize * self.n as usize + subject as usize]
    }

    /// Milliseconds of pause of `node` that began in `[from_ns, to_ns]`, in nanoseconds.
    pub fn paused_ns(&self, node: NodeId, from_ns: u64, to_ns: u64) -> u64 {
        self.pauses
            .iter()
            .filter(|&&(n, at, _)| n == node && at >= from_ns && at <= to_ns)
            .map(|&(_, _, d)| d)
            .sum()
    }

    /// Fold `node`'s journal in; returns it for the caller's own use.
    pub fn observe<'a>(&mut self, t_ns: u64, node: NodeId, state: &'a GossipNode) -> &'a [Note] {
        let notes = state.journal();
        for n in notes {
            match *n {
                Note::View {
                    subject, status, ..
                } => self.view[node as usize * self.n as usize + subject as usize] = status,
                Note::Gone(g) => {
                    if !matches!(self.life[node as usize], Life::Gone(_)) {
                        self.life[node as usize] = Life::Gone(g);
                        self.since_ns[node as usize] = t_ns;
                    }
                }
                Note::Refuted => {}
            }
        }
        notes
    }

    /// A fault strikes.
    pub fn fault(&mut self, t_ns: u64, f: &Fault) {
        match *f {
            Fault::Crash { node, .. } if self.life[node as usize] == Life::Up => {
                self.life[node as usize] = Life::Crashed;
                self.since_ns[node as usize] = t_ns;
            }
            Fault::Pause { node, duration_ms } if self.pauses.len() < PAUSES_MAX => {
                self.pauses.push((node, t_ns, ms(duration_ms)));
            }
            _ => {}
        }
    }

    /// A crashed member boots with fresh memory.
    pub fn restarted(&mut self, t_ns: u64, node: NodeId) {
        let i = node as usize;
        let row = i * self.n as usize..(i + 1) * self.n as usize;
        self.view[row].fill(Status::Unknown);
        if self.life[i] == Life::Crashed {
            self.life[i] = Life::Up;
            self.since_ns[i] = t_ns;
        }
    }
}
