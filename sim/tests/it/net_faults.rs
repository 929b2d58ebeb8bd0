//! The network's fault semantics, seen through the trace of a tiny echo workload.
//!
//! Node 0 sends one numbered message to every other node each millisecond; the others only
//! receive. Every message's fate is in the trace: `deliver` at the receiver, or `drop` with a
//! reason.

use seedbed_engine::rng::DetRng;
use seedbed_sim::check::Checker;
use seedbed_sim::config::{RunConfig, WorkloadDefaults};
use seedbed_sim::faults::{Fault, FaultPlan, ScheduledFault};
use seedbed_sim::net::{NetFaults, Partition, PartitionKind};
use seedbed_sim::node::{Ctx, Message, Node, NodeId, OpId, TimerId};
use seedbed_sim::trace::{self, MemorySink, TraceLine};
use seedbed_sim::workload::{OpFor, Workload};
use seedbed_sim::{world, FaultSource, SimError};

struct Sender {
    next: u64,
}

/// A sequence number (printed bare, so traces show `from n0 17`).
#[derive(Clone, Copy, Hash)]
struct Seq(u64);

impl std::fmt::Debug for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Message for Seq {
    fn kind(&self) -> &'static str {
        "seq"
    }
}

impl Node for Sender {
    type Msg = Seq;
    type Op = ();
    type Reply = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == 0 {
            ctx.set_timer(1_000_000, 1);
        }
    }
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_start(ctx);
    }
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: Seq) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _t: TimerId) {
        for to in 1..ctx.node_count() {
            ctx.send(to, Seq(self.next));
        }
        self.next += 1;
        ctx.set_timer(1_000_000, 1);
    }
    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, _op: ()) {
        ctx.reply(op_id, ());
    }
}

struct Echo;

impl Workload for Echo {
    type Node = Sender;
    type Summary = seedbed_sim::NoSummary;
    const NAME: &'static str = "echo";
    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 3,
            nodes_min: 2,
            ops: 0,
            op_gap_us: 1_000,
            fault_ms: 100,
            quiet_ms: 50,
        }
    }
    fn new(_c: &RunConfig, _nodes: u32) -> Result<Self, SimError> {
        Ok(Echo)
    }
    fn build_node(&self, _id: NodeId) -> Sender {
        Sender { next: 0 }
    }
    fn next_op(&mut self, _rng: &mut DetRng, _i: u64) -> (NodeId, OpFor<Self>) {
        (0, ())
    }
    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        Vec::new()
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Sender>>> {
        Vec::new()
    }
}

fn run(plan: FaultPlan, schedule: Vec<ScheduledFault>) -> Vec<TraceLine> {
    let mut c = RunConfig::new("echo", 5);
    c.faults = FaultSource::Plan(Box::new(plan));
    c.schedule = Some(schedule);
    let mut sink = MemorySink::default();
    let o = world::run::<Echo>(&c, Some(&mut sink)).unwrap();
    assert!(o.violation.is_none(), "{:?}", o.violation);
    trace::parse(&sink.lines.join("\n")).unwrap().events
}

fn count(ev: &[TraceLine], event: &str, node: u32, during_ms: (u64, u64)) -> usize {
    ev.iter()
        .filter(|e| e.event == event && e.node == Some(node))
        .filter(|e| e.t_ns >= during_ms.0 * 1_000_000 && e.t_ns < during_ms.1 * 1_000_000)
        .count()
}

#[test]
fn no_faults_delivers_everything_in_order() {
    let ev = run(FaultPlan::none(), vec![]);
    let got: Vec<u64> = ev
        .iter()
        .filter(|e| e.event == "deliver" && e.node == Some(1))
        .map(|e| e.detail.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(got.len() >= 140, "{} delivered", got.len());
    assert!(
        got.windows(2).all(|w| w[0] + 1 == w[1]),
        "FIFO without reordering"
    );
    assert!(!ev.iter().any(|e| e.event == "drop"));
}

#[test]
fn total_loss_delivers_nothing_until_faults_stop() {
    let plan = FaultPlan {
        net: NetFaults {
            drop: 1.0,
            ..NetFaults::default()
        },
        ..FaultPlan::none()
    };
    let ev = run(plan, vec![]);
    assert_eq!(count(&ev, "deliver", 1, (0, 100)), 0);
    assert!(
        count(&ev, "drop", 0, (0, 100)) >= 190,
        "drops are traced at the sender"
    );
    assert!(
        count(&ev, "deliver", 1, (100, 150)) > 40,
        "the quiet period heals the network"
    );
}

#[test]
fn duplication_delivers_twice() {
    let plan = FaultPlan {
        net: NetFaults {
            duplicate: 1.0,
            ..NetFaults::default()
        },
        ..FaultPlan::none()
    };
    let ev = run(plan, vec![]);
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for e in ev
        .iter()
        .filter(|e| e.event == "deliver" && e.node == Some(2) && e.t_ns < 90_000_000)
    {
        *seen.entry(e.detail.clone()).or_default() += 1;
    }
    assert!(
        seen.len() > 50 && seen.values().all(|&n| n == 2),
        "{seen:?}"
    );
}

#[test]
fn reordering_breaks_fifo() {
    let plan = FaultPlan {
        net: NetFaults {
            reorder: 0.5,
            reorder_window_us: 5_000,
            ..NetFaults::default()
        },
        ..FaultPlan::none()
    };
    let ev = run(plan, vec![]);
    let got: Vec<u64> = ev
        .iter()
        .filter(|e| e.event == "deliver" && e.node == Some(1))
        .map(|e| e.detail.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(got.windows(2).any(|w| w[1] < w[0]), "nothing overtook");
}

fn partition(
    kind: PartitionKind,
    from: Vec<u32>,
    to: Vec<u32>,
    both_ways: bool,
) -> Vec<ScheduledFault> {
    vec![ScheduledFault {
        at_ms: 20,
        fault: Fault::Partition {
            partition: Partition {
                kind,
                from,
                to,
                both_ways,
            },
            duration_ms: 40,
        },
    }]
}

#[test]
fn isolation_cuts_a_node_off_and_heals() {
    let ev = run(
        FaultPlan::none(),
        partition(PartitionKind::Isolate, vec![1], vec![0, 2], true),
    );
    // 2 ms of slack for messages in flight at the edges (latency is at most 1 ms).
    assert_eq!(
        count(&ev, "deliver", 1, (22, 60)),
        0,
        "isolated node heard something"
    );
    assert!(
        count(&ev, "drop", 1, (20, 62)) >= 30,
        "cut messages are dropped at arrival"
    );
    assert!(
        count(&ev, "deliver", 2, (22, 60)) >= 30,
        "the rest still talk"
    );
    assert!(
        count(&ev, "deliver", 1, (62, 100)) >= 30,
        "heals after 40 ms"
    );
    assert!(ev.iter().any(|e| e.event == "heal"));
}

#[test]
fn asymmetric_partition_cuts_one_direction() {
    // Node 0 cannot reach node 2, but (were it to send) node 2 could reach node 0.
    let ev = run(
        FaultPlan::none(),
        partition(PartitionKind::Asymmetric, vec![0], vec![2], false),
    );
    assert_eq!(count(&ev, "deliver", 2, (22, 60)), 0);
    assert!(count(&ev, "deliver", 1, (22, 60)) >= 30);
}

#[test]
fn pause_defers_delivery_until_it_ends() {
    let sched = vec![ScheduledFault {
        at_ms: 20,
        fault: Fault::Pause {
            node: 1,
            duration_ms: 30,
        },
    }];
    let ev = run(FaultPlan::none(), sched);
    assert_eq!(
        count(&ev, "deliver", 1, (21, 50)),
        0,
        "a paused node handled a message"
    );
    assert!(count(&ev, "deferred", 1, (20, 50)) >= 25);
    // Everything deferred arrives at the instant the pause ends, nothing is lost.
    assert!(count(&ev, "deliver", 1, (50, 51)) >= 25);
    assert!(!ev.iter().any(|e| e.event == "drop"));
}
