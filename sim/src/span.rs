//! Spans: the root cause each event of a run descends from.
//!
//! Every event carries the span it was caused by, and a handler's effects (the messages it
//! sends, the timers it sets) inherit the span of the event being handled: a client
//! operation's coordinator messages, the replicas' replies to them and their retries all
//! belong to that operation's span; a node's periodic timers and all the traffic they start
//! belong to its boot. Random draws are filed under the span current when they are made
//! (see [`seedbed_engine::rng::tape`]), which is what lets the shrinker delete an operation
//! or a fault and have every other span's draws replay unchanged.

use crate::node::NodeId;

/// A root cause; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Span {
    /// Before the first event: swarm plan, fault schedule, clocks, disk seeds.
    Setup,
    /// Client operation number `i` (its index among the operations drawn).
    Op(u64),
    /// Liveness probe number `i` of the quiet period.
    Probe(u64),
    /// A node's first boot and everything its own timers start.
    Boot(NodeId),
    /// A scheduled fault (a crash and the restart after it, a partition, ...), by an id that
    /// is a stable hash of its time and kind ([`Span::of_fault`]): deleting other faults from
    /// a schedule never renumbers it.
    Fault(u32),
    /// The end of the fault period: nodes restarted there, and what they start.
    Quiet,
    /// One firing of a node's periodic timer and everything it causes: firing `k` of timer
    /// `timer` (a 22-bit hash of its id) on `node`. A background timer (one set at boot, at a
    /// restart, or by its own previous firing) starts a new tick span each time it fires, so
    /// that one anti-entropy round or one gossip probe period is one span: a change in one
    /// round's traffic does not shift the draws of every later round.
    Tick {
        /// The node.
        node: NodeId,
        /// The timer id's hash (22 bits).
        timer: u32,
        /// Which firing (24 bits).
        k: u32,
    },
}

const SHIFT: u32 = 56;

const TICK_TIMER_BITS: u32 = 22;
const TICK_K_BITS: u32 = 24;

impl Span {
    /// The span of scheduled fault `f`.
    pub fn of_fault(f: &crate::faults::ScheduledFault) -> Span {
        Span::Fault(crate::hash::hash_of(f) as u32)
    }

    /// The hash a [`Span::Tick`] keeps of a timer id.
    pub fn timer_hash(timer: crate::node::TimerId) -> u32 {
        (crate::hash::hash_of(&timer) & ((1 << TICK_TIMER_BITS) - 1)) as u32
    }

    /// Whether this span is a node's background (boot, restart, a periodic tick) rather
    /// than a client operation's or a probe's.
    pub fn is_background(self) -> bool {
        matches!(
            self,
            Span::Boot(_) | Span::Fault(_) | Span::Quiet | Span::Tick { .. } | Span::Setup
        )
    }
}
const PAYLOAD: u64 = (1 << SHIFT) - 1;

impl Span {
    /// As a number (the kind in the top byte), the form draws are filed under.
    pub fn code(self) -> u64 {
        let (kind, payload) = match self {
            Span::Setup => (0, 0),
            Span::Op(i) => (1, i & PAYLOAD),
            Span::Probe(i) => (2, i & PAYLOAD),
            Span::Boot(n) => (3, u64::from(n)),
            Span::Fault(i) => (4, u64::from(i)),
            Span::Quiet => (5, 0),
            Span::Tick { node, timer, k } => (
                6,
                (u64::from(node) & 0x3ff) << (TICK_TIMER_BITS + TICK_K_BITS)
                    | u64::from(timer & ((1 << TICK_TIMER_BITS) - 1)) << TICK_K_BITS
                    | u64::from(k & ((1 << TICK_K_BITS) - 1)),
            ),
        };
        (kind << SHIFT) | payload
    }

    /// The span of a code made by [`Span::code`].
    pub fn from_code(code: u64) -> Option<Span> {
        let payload = code & PAYLOAD;
        Some(match code >> SHIFT {
            0 => Span::Setup,
            1 => Span::Op(payload),
            2 => Span::Probe(payload),
            3 => Span::Boot(u32::try_from(payload).ok()?),
            4 => Span::Fault(u32::try_from(payload).ok()?),
            5 => Span::Quiet,
            6 => Span::Tick {
                node: (payload >> (TICK_TIMER_BITS + TICK_K_BITS)) as u32,
                timer: ((payload >> TICK_K_BITS) & ((1 << TICK_TIMER_BITS) - 1)) as u32,
                k: (payload & ((1 << TICK_K_BITS) - 1)) as u32,
            },
            _ => return None,
        })
    }

    /// Its name in a config file: `setup`, `op/12`, `probe/3`, `boot/2`, `fault/4`, `quiet`,
    /// `tick/<node>/<timer>/<k>`.
    pub fn name(self) -> String {
        match self {
            Span::Setup => "setup".into(),
            Span::Op(i) => format!("op/{i}"),
            Span::Probe(i) => format!("probe/{i}"),
            Span::Boot(n) => format!("boot/{n}"),
            Span::Fault(i) => format!("fault/{i}"),
            Span::Quiet => "quiet".into(),
            Span::Tick { node, timer, k } => format!("tick/{node}/{timer}/{k}"),
        }
    }

    /// Parse a name written by [`Span::name`].
    pub fn parse(s: &str) -> Option<Span> {
        let (kind, n) = s.split_once('/').unwrap_or((s, ""));
        Some(match (kind, n) {
            ("setup", "") => Span::Setup,
            ("quiet", "") => Span::Quiet,
            ("op", n) => Span::Op(n.parse().ok().filter(|&i| i <= PAYLOAD)?),
            ("probe", n) => Span::Probe(n.parse().ok().filter(|&i| i <= PAYLOAD)?),
            ("boot", n) => Span::Boot(n.parse().ok()?),
            ("fault", n) => Span::Fault(n.parse().ok()?),
            ("tick", rest) => {
                let mut it = rest.split('/');
                let mut next = || it.next().and_then(|x| x.parse::<u32>().ok());
                let (node, timer, k) = (next()?, next()?, next()?);
                if node >= 1 << 10 || timer >= 1 << TICK_TIMER_BITS || k >= 1 << TICK_K_BITS {
                    return None;
                }
                Span::Tick { node, timer, k }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for s in [
            Span::Setup,
            Span::Op(0),
            Span::Op(123_456),
            Span::Probe(7),
            Span::Boot(3),
            Span::Fault(11),
            Span::Quiet,
            Span::Tick {
                node: 1023,
                timer: (1 << 22) - 1,
                k: 77,
            },
        ] {
            assert_eq!(Span::from_code(s.code()), Some(s));
            assert_eq!(Span::parse(&s.name()), Some(s));
        }
        for bad in [
            "",
            "op",
            "op/x",
            "boot/-1",
            "setup/1",
            "nope/2",
            "tick/1/2",
            "tick/1024/0/0",
        ] {
            assert_eq!(Span::parse(bad), None, "{bad}");
        }
    }
}
