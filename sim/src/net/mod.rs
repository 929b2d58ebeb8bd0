//! The simulated network: per-link latency, loss, duplication, reordering, partitions and
//! bounded queues.
//!
//! Semantics, precisely (tests in this module and `tests/it/net_faults.rs` hold us to them):
//! - **Order.** Without reordering a link is FIFO: a message never arrives before one sent
//!   earlier on the same link (its arrival is clamped to the previous arrival). With reordering
//!   on, a message may skip that clamp and take an extra random delay, so it can overtake.
//! - **Loss** is decided at send time with probability `drop`.
//! - **Duplication**: with probability `duplicate` a second copy travels with its own latency.
//! - **Partitions** are checked at *arrival*: a message in flight when a cut appears is lost, as
//!   on a real network when the switch dies; a message sent during a cut is lost even if the cut
//!   heals before it would arrive only if it arrives while the cut stands.
//! - **Bounded queues**: at most `queue_cap` messages in flight per directed link; a send beyond
//!   that is dropped (a full socket buffer), and the trace says so.
//! - **Loopback** (a node to itself) is reliable, in order, and takes `loopback_us`.

pub mod latency;
pub mod partition;

use std::collections::BTreeMap;

use seedbed_engine::rng::DetRng;
use serde::{Deserialize, Serialize};

pub use latency::Latency;
pub use partition::{Cut, Partition, PartitionKind};

use crate::node::NodeId;
use crate::time::us;

/// A latency override for one directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The link's own latency distribution.
    pub latency: Latency,
}

/// The network's shape, independent of faults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Latency of every link without an override.
    pub latency: Latency,
    /// Per-link latencies (a slow cross-rack link, say).
    pub links: Vec<LinkOverride>,
    /// Messages in flight per directed link before sends are dropped.
    pub queue_cap: u32,
    /// Latency of a node's messages to itself, in microseconds.
    pub loopback_us: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            latency: Latency::default(),
            links: Vec::new(),
            queue_cap: 1024,
            loopback_us: 1,
        }
    }
}

impl NetConfig {
    /// Check the config against a cluster of `nodes`.
    pub fn validate(&self, nodes: u32) -> Result<(), String> {
        self.latency.validate("net.latency")?;
        if self.queue_cap == 0 {
            return Err("net.queue_cap must be at least 1".into());
        }
        for (i, l) in self.links.iter().enumerate() {
            l.latency.validate(&format!("net.links[{i}]"))?;
            if l.from >= nodes || l.to >= nodes {
                return Err(format!(
                    "net.links[{i}]: link {}->{} names a node beyond the {nodes} in the run",
                    l.from, l.to
                ));
            }
        }
        Ok(())
    }
}

/// Message-level faults in force; all zero when the network behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetFaults {
    /// Probability a message is lost.
    pub drop: f64,
    /// Probability a message is delivered twice.
    pub duplicate: f64,
    /// Probability a message may overtake earlier ones on its link.
    pub reorder: f64,
    /// Largest extra delay of a reordered message, in microseconds.
    pub reorder_window_us: u64,
    /// Links get a latency multiplier in `1..=slow_link_factor_max` (1 = off).
    pub slow_link_factor_max: u64,
}

impl NetFaults {
    /// Check the probabilities.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("drop", self.drop),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("faults.net.{name} = {p} is not a probability"));
            }
        }
        Ok(())
    }

    /// Whether any message fault is on.
    pub fn any(&self) -> bool {
        self.drop > 0.0 || self.duplicate > 0.0 || self.reorder > 0.0
    }
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Random loss.
    Lost,
    /// The link's queue was full.
    QueueFull,
    /// A partition cut the link when it would have arrived.
    Partitioned,
    /// The receiver was down when it arrived.
    ReceiverDown,
}

impl DropReason {
    /// A short name for traces.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Lost => "lost",
            DropReason::QueueFull => "queue-full",
            DropReason::Partitioned => "partitioned",
            DropReason::ReceiverDown => "receiver-down",
        }
    }

    /// A stable code for the trace hash.
    pub fn code(self) -> u64 {
        self as u64 + 1
    }
}

/// What became of one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Dropped at once.
    Dropped(DropReason),
    /// One copy arrives at the given world time.
    Once(u64),
    /// Two copies arrive (duplication).
    Twice(u64, u64),
}

/// One directed link's state: 16 bytes, because a run holds `nodes²` of them (16 MiB at
/// [`crate::node::MAX_NODES`]). Its latency is the config's, scaled by `slow_factor`, unless
/// the config overrides the link.
#[derive(Clone, Copy, Debug)]
struct Link {
    in_flight: u32,
    slow_factor: u32,
    last_arrival_ns: u64,
}

/// Counters for the end-of-run summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Copies delivered to a handler.
    pub delivered: u64,
    /// Messages lost at random.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Messages that overtook the FIFO order.
    pub reordered: u64,
    /// Messages dropped on a full queue.
    pub queue_full: u64,
    /// Messages cut by a partition.
    pub partitioned: u64,
}

/// The network of one run; see the module docs.
#[derive(Debug)]
pub struct Network {
    nodes: u32,
    links: Vec<Link>,
    latency: Latency,
    /// Per-link latency overrides, by `from * nodes + to` (usually empty).
    overrides: BTreeMap<u64, Latency>,
    queue_cap: u32,
    loopback_ns: u64,
    faults: NetFaults,
    cuts: Vec<Cut>,
    rng: DetRng,
    /// Running counters.
    pub stats: NetStats,
}

/// Partitions in force at once, at most; more would be a fault-plan bug.
pub const CUTS_MAX: usize = 64;

impl Network {
    /// A network of `nodes` with its own random stream. `slow_factors` (one per directed link,
    /// `from * nodes + to`) scale each link's latency; pass an empty slice for none.
    pub fn new(nodes: u32, config: &NetConfig, slow_factors: &[u64], rng: DetRng) -> Self {
        assert!(nodes > 0 && nodes <= crate::node::MAX_NODES);
        let n = nodes as usize;
        let mut links = Vec::with_capacity(n * n);
        for i in 0..n * n {
            let factor = slow_factors.get(i).copied().unwrap_or(1).max(1);
            links.push(Link {
                in_flight: 0,
                slow_factor: u32::try_from(factor).unwrap_or(u32::MAX),
                last_arrival_ns: 0,
            });
        }
        let mut overrides = BTreeMap::new();
        for o in &config.links {
            if o.from < nodes && o.to < nodes {
                overrides.insert(
                    u64::from(o.from) * u64::from(nodes) + u64::from(o.to),
                    o.latency,
                );
            }
        }
        Network {
            nodes,
            links,
            latency: config.latency,
            overrides,
            queue_cap: config.queue_cap,
            loopback_ns: us(config.loopback_us),
            faults: NetFaults::default(),
            cuts: Vec::new(),
            rng,
            stats: NetStats::default(),
        }
    }

    /// Switch message faults (on at the start of a run, off when faults stop).
    pub fn set_faults(&mut self, faults: NetFaults) {
        self.faults = faults;
    }

    /// Put a partition in force.
    pub fn cut(&mut self, cut: Cut) {
        assert!(
            self.cuts.len() < CUTS_MAX,
            "more than {CUTS_MAX} partitions at once"
        );
        self.cuts.push(cut);
    }

    /// Lift the partition with fault id `id` (if still in force).
    pub fn heal(&mut self, id: u32) {
        self.cuts.retain(|c| c.id != id);
    }

    /// Lift every partition.
    pub fn heal_all(&mut self) {
        self.cuts.clear();
    }

    /// Partitions in force.
    pub fn cuts(&self) -> usize {
        self.cuts.len()
    }

    /// Whether a partition now cuts `from` → `to`.
    #[inline]
    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        from != to && self.cuts.iter().any(|c| c.blocks(from, to))
    }

    #[inline]
    fn link(&mut self, from: NodeId, to: NodeId) -> &mut Link {
        assert!(from < self.nodes && to < self.nodes);
        &mut self.links[from as usize * self.nodes as usize + to as usize]
    }

    /// Send one message at world time `now_ns`; says when its copies arrive.
    #[inline]
    pub fn send(&mut self, now_ns: u64, from: NodeId, to: NodeId) -> Sent {
        self.stats.sent += 1;
        if from == to {
            let arrive = now_ns + self.loopback_ns;
            let link = self.link(from, to);
            let at = arrive.max(link.last_arrival_ns);
            link.last_arrival_ns = at;
            link.in_flight += 1;
            return Sent::Once(at);
        }
        let faults = self.faults;
        if faults.drop > 0.0 && self.rng.chance(faults.drop) {
            self.stats.lost += 1;
            return Sent::Dropped(DropReason::Lost);
        }
        let copies = if faults.duplicate > 0.0 && self.rng.chance(faults.duplicate) {
            2
        } else {
            1
        };
        let cap = self.queue_cap;
        if self.link(from, to).in_flight + copies > cap {
            self.stats.queue_full += 1;
            return Sent::Dropped(DropReason::QueueFull);
        }
        let first = self.arrival(now_ns, from, to, faults);
        if copies == 2 {
            self.stats.duplicated += 1;
            let second = self.arrival(now_ns, from, to, faults);
            Sent::Twice(first, second)
        } else {
            Sent::Once(first)
        }
    }

    fn arrival(&mut self, now_ns: u64, from: NodeId, to: NodeId, faults: NetFaults) -> u64 {
        let idx = from as usize * self.nodes as usize + to as usize;
        let latency = match self.overrides.get(&(idx as u64)) {
            Some(l) => *l,
            None if self.links[idx].slow_factor > 1 => {
                self.latency.scaled(u64::from(self.links[idx].slow_factor))
            }
            None => self.latency,
        }
        .sample_ns(&mut self.rng);
        let reorder = faults.reorder > 0.0 && self.rng.chance(faults.reorder);
        let link = &mut self.links[idx];
        link.in_flight += 1;
        if reorder {
            self.stats.reordered += 1;
            let extra = self.rng.below(us(faults.reorder_window_us).max(1));
            // Not clamped, and not advancing the FIFO clamp: it may overtake and be overtaken.
            return now_ns + latency + extra;
        }
        let at = (now_ns + latency).max(link.last_arrival_ns);
        link.last_arrival_ns = at;
        at
    }

    /// A copy reaches `to`: frees its queue slot and says whether a partition cut it.
    #[inline]
    pub fn arrive(&mut self, from: NodeId, to: NodeId) -> Result<(), DropReason> {
        let link = self.link(from, to);
        assert!(
            link.in_flight > 0,
            "arrival on link {from}->{to} with nothing in flight"
        );
        link.in_flight -= 1;
        if self.is_cut(from, to) {
            self.stats.partitioned += 1;
            return Err(DropReason::Partitioned);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(nodes: u32, faults: NetFaults) -> Network {
        let mut n = Network::new(nodes, &NetConfig::default(), &[], DetRng::new(1));
        n.set_faults(faults);
        n
    }

    fn arrivals(s: Sent) -> Vec<u64> {
        match s {
            Sent::Dropped(_) => vec![],
            Sent::Once(a) => vec![a],
            Sent::Twice(a, b) => vec![a, b],
        }
    }

    #[test]
    fn without_reordering_links_are_fifo() {
        let mut n = net(2, NetFaults::default());
        let mut last = 0;
        for t in 0..1_000u64 {
            for a in arrivals(n.send(t * 10, 0, 1)) {
                assert!(a >= last, "message overtook on a FIFO link");
                last = a;
            }
        }
    }

    #[test]
    fn reordering_lets_messages_overtake() {
        let mut n = net(
            2,
            NetFaults {
                reorder: 0.5,
                reorder_window_us: 5_000,
                ..NetFaults::default()
            },
        );
        let all: Vec<u64> = (0..1_000u64)
            .flat_map(|t| arrivals(n.send(t * 10, 0, 1)))
            .collect();
        assert!(all.windows(2).any(|w| w[1] < w[0]), "no overtaking seen");
    }

    #[test]
    fn loss_and_duplication_rates_match() {
        let mut n = net(
            2,
            NetFaults {
                drop: 0.2,
                duplicate: 0.1,
                ..NetFaults::default()
            },
        );
        let mut copies = 0usize;
        for t in 0..10_000u64 {
            let a = arrivals(n.send(t, 0, 1));
            copies += a.len();
            for _ in a {
                n.arrive(0, 1).unwrap();
            }
        }
        assert!((1_800..2_200).contains(&(n.stats.lost as usize)));
        assert!((700..1_000).contains(&(n.stats.duplicated as usize)));
        assert_eq!(copies as u64, 10_000 - n.stats.lost + n.stats.duplicated);
    }

    #[test]
    fn partitions_cut_at_arrival_and_heal() {
        let mut n = net(3, NetFaults::default());
        let Sent::Once(_) = n.send(0, 0, 1) else {
            panic!("no faults, no drop")
        };
        n.cut(
            Partition {
                kind: PartitionKind::Isolate,
                from: vec![1],
                to: vec![0, 2],
                both_ways: true,
            }
            .cut(7),
        );
        assert_eq!(
            n.arrive(0, 1),
            Err(DropReason::Partitioned),
            "in flight when cut"
        );
        assert!(n.is_cut(1, 2) && n.is_cut(2, 1) && !n.is_cut(0, 2));
        n.heal(7);
        assert!(!n.is_cut(0, 1));
    }

    #[test]
    fn full_queue_drops() {
        let cfg = NetConfig {
            queue_cap: 2,
            ..NetConfig::default()
        };
        let mut n = Network::new(2, &cfg, &[], DetRng::new(1));
        assert!(matches!(n.send(0, 0, 1), Sent::Once(_)));
        assert!(matches!(n.send(0, 0, 1), Sent::Once(_)));
        assert_eq!(n.send(0, 0, 1), Sent::Dropped(DropReason::QueueFull));
        n.arrive(0, 1).unwrap();
        assert!(matches!(n.send(0, 0, 1), Sent::Once(_)));
    }
}
