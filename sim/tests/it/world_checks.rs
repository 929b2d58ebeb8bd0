//! The world's own checks fail the runs they should: a node that never answers (liveness), one
//! that answers twice (client protocol), and a message storm (event budget).

use seedbed_engine::rng::DetRng;
use seedbed_sim::check::{Checker, CLIENT_PROTOCOL, EVENT_BUDGET, LIVENESS};
use seedbed_sim::config::{RunConfig, WorkloadDefaults};
use seedbed_sim::node::{Ctx, Message, Node, NodeId, OpId, TimerId};
use seedbed_sim::workload::{OpFor, Workload};
use seedbed_sim::{world, FaultSource, SimError};

/// How the node misbehaves, chosen by the op it gets.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Misdeed {
    Ignore,
    AnswerTwice,
    Storm,
    Behave,
}

struct Rogue;

/// A message that only asks to be sent back.
#[derive(Clone, Copy, Debug, Hash)]
struct Echo(u8);

impl Message for Echo {
    fn kind(&self) -> &'static str {
        "echo"
    }
}

impl Node for Rogue {
    type Msg = Echo;
    type Op = Misdeed;
    type Reply = ();
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Echo) {
        // Every message begets two: the storm doubles each hop.
        ctx.send(from, msg);
        ctx.send(from, msg);
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId) {}
    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, op: Misdeed) {
        match op {
            Misdeed::Ignore => {}
            Misdeed::AnswerTwice => {
                ctx.reply(op_id, ());
                ctx.reply(op_id, ());
            }
            Misdeed::Storm => ctx.send((ctx.id() + 1) % ctx.node_count(), Echo(0)),
            Misdeed::Behave => ctx.reply(op_id, ()),
        }
    }
}

struct RogueWorkload {
    misdeed: Misdeed,
}

impl Workload for RogueWorkload {
    type Node = Rogue;
    type Summary = seedbed_sim::NoSummary;
    const NAME: &'static str = "rogue";
    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 2,
            nodes_min: 1,
            ops: 3,
            op_gap_us: 1_000,
            fault_ms: 10,
            quiet_ms: 10,
        }
    }
    fn new(c: &RunConfig, _nodes: u32) -> Result<Self, SimError> {
        let misdeed = match c.params.get("misdeed").map(String::as_str) {
            Some("ignore") => Misdeed::Ignore,
            Some("twice") => Misdeed::AnswerTwice,
            Some("storm") => Misdeed::Storm,
            _ => Misdeed::Behave,
        };
        Ok(RogueWorkload { misdeed })
    }
    fn build_node(&self, _id: NodeId) -> Rogue {
        Rogue
    }
    fn next_op(&mut self, _rng: &mut DetRng, _i: u64) -> (NodeId, OpFor<Self>) {
        (0, self.misdeed)
    }
    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        Vec::new()
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Rogue>>> {
        Vec::new()
    }
}

fn failure(misdeed: &str, max_events: u64) -> Option<String> {
    let mut c = RunConfig::new("rogue", 1);
    c.faults = FaultSource::None;
    c.max_events = max_events;
    c.params.insert("misdeed".into(), misdeed.into());
    world::run::<RogueWorkload>(&c, None)
        .unwrap()
        .violation
        .map(|v| v.checker)
}

#[test]
fn world_checks_catch_misbehaving_nodes() {
    assert_eq!(failure("behave", 1_000), None);
    assert_eq!(failure("ignore", 1_000).as_deref(), Some(LIVENESS));
    assert_eq!(failure("twice", 1_000).as_deref(), Some(CLIENT_PROTOCOL));
    assert_eq!(failure("storm", 5_000).as_deref(), Some(EVENT_BUDGET));
}
