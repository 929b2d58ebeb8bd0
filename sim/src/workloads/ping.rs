//! `ping`: nodes bounce pings and pongs off each other. No disk, no client operations — the
//! message-only workload that measures the simulator's own speed (events per second per core).
//!
//! Each node keeps `fanout` chains going: it pings a random peer, the peer pongs back, and the
//! pong starts the next ping. A chain's owner accepts only the pong it waits for, so duplicated
//! messages do not multiply chains; a tick every [`TICK_NS`] restarts chains that stalled (a
//! lost message, a crashed peer). A restart starts the node's chains anew.

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::node::{Ctx, Message, Node, NodeId, OpId, TimerId};
use crate::summary::NoSummary;
use crate::workload::{check_params, OpFor, Workload};

/// Ping-pong messages of one chain, at one hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PingMsg {
    /// Please answer.
    Ping {
        /// The sender's chain.
        chain: u32,
        /// The chain's hop count.
        hop: u64,
    },
    /// The answer.
    Pong {
        /// The chain it answers.
        chain: u32,
        /// The hop it answers.
        hop: u64,
    },
}

impl Message for PingMsg {
    fn kind(&self) -> &'static str {
        match self {
            PingMsg::Ping { .. } => "ping",
            PingMsg::Pong { .. } => "pong",
        }
    }
}

/// Local time between checks for stalled chains.
pub const TICK_NS: u64 = crate::time::ms(50);

/// The ping workload.
#[derive(Debug)]
pub struct Ping {
    fanout: u32,
}

/// One ping node.
#[derive(Debug)]
pub struct PingNode {
    fanout: u32,
    /// Per chain: the hop whose pong we wait for.
    waiting: Vec<u64>,
    /// Per chain: the hop it was at on the last tick (unchanged = stalled).
    at_last_tick: Vec<u64>,
}

impl PingNode {
    fn random_peer(ctx: &mut Ctx<'_, Self>) -> NodeId {
        let n = ctx.node_count();
        if n == 1 {
            return ctx.id();
        }
        let k = ctx.rng().below(u64::from(n - 1)) as NodeId;
        if k >= ctx.id() {
            k + 1
        } else {
            k
        }
    }

    fn ping(&mut self, ctx: &mut Ctx<'_, Self>, chain: u32, hop: u64) {
        self.waiting[chain as usize] = hop;
        let to = Self::random_peer(ctx);
        ctx.send(to, PingMsg::Ping { chain, hop });
    }

    fn start_chains(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.waiting = vec![0; self.fanout as usize];
        self.at_last_tick = vec![u64::MAX; self.fanout as usize];
        for chain in 0..self.fanout {
            self.ping(ctx, chain, 0);
        }
        ctx.set_timer(TICK_NS, 0);
    }
}

impl Node for PingNode {
    type Msg = PingMsg;
    type Op = ();
    type Reply = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.start_chains(ctx);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.start_chains(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: PingMsg) {
        match msg {
            PingMsg::Ping { chain, hop } => ctx.send(from, PingMsg::Pong { chain, hop }),
            PingMsg::Pong { chain, hop } => {
                if self.waiting.get(chain as usize) == Some(&hop) {
                    self.ping(ctx, chain, hop + 1);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: TimerId) {
        for chain in 0..self.fanout {
            let c = chain as usize;
            if self.at_last_tick[c] == self.waiting[c] {
                let hop = self.waiting[c] + 1;
                self.ping(ctx, chain, hop);
            }
            self.at_last_tick[c] = self.waiting[c];
        }
        ctx.set_timer(TICK_NS, 0);
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, _op: ()) {
        ctx.reply(op_id, ());
    }
}

impl Workload for Ping {
    type Node = PingNode;
    type Summary = NoSummary;
    const NAME: &'static str = "ping";

    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 10,
            nodes_min: 1,
            ops: 0,
            op_gap_us: 1_000,
            fault_ms: 1_000,
            quiet_ms: 100,
        }
    }

    fn new(config: &RunConfig, _nodes: u32) -> Result<Self, SimError> {
        check_params(Self::NAME, config, &["fanout"])?;
        let fanout = match config.params.get("fanout") {
            None => 8,
            Some(v) => v
                .parse()
                .ok()
                .filter(|&f: &u32| (1..=256).contains(&f))
                .ok_or_else(|| SimError::Param {
                    workload: Self::NAME,
                    key: "fanout".into(),
                    detail: format!("'{v}' is not a number in 1..=256"),
                })?,
        };
        Ok(Ping { fanout })
    }

    fn build_node(&self, _id: NodeId) -> PingNode {
        PingNode {
            fanout: self.fanout,
            waiting: Vec::new(),
            at_last_tick: Vec::new(),
        }
    }

    fn next_op(&mut self, rng: &mut DetRng, _index: u64) -> (NodeId, OpFor<Self>) {
        (rng.below(1) as NodeId, ())
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        Vec::new()
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<PingNode>>> {
        Vec::new()
    }
}
