//! The workload-metrics contract, end to end, on the worked example of docs/simulation.md §7:
//! a small workload defined outside the simulator's crate reports scalars and samples from its
//! checker, the world counts its messages per kind, and its own sweep summary sums seeds in any
//! order into a table, JSON fields and a chart. (In the tree, the workload's folder holds this
//! code and one line in `registry.rs` registers it; nothing else names it.)

use std::collections::BTreeMap;

use seedbed_engine::rng::DetRng;
use seedbed_sim::check::Checker;
use seedbed_sim::config::{RunConfig, WorkloadDefaults};
use seedbed_sim::metrics::{Metrics, Traffic};
use seedbed_sim::node::{Ctx, Message, Node, NodeId, OpId, TimerId};
use seedbed_sim::summary::{Chart, Finished, Plot, Summary};
use seedbed_sim::workload::{check_params, OpFor, Workload};
use seedbed_sim::{world, RunOutcome, SimError};
use serde_json::{json, Map, Value};

// ---- echo/msg.rs: messages name their kind ------------------------------------------------

/// A request and its answer.
#[derive(Clone, Copy, Debug, Hash)]
enum EchoMsg {
    Req(OpId),
    Resp(OpId),
}

impl Message for EchoMsg {
    fn kind(&self) -> &'static str {
        match self {
            EchoMsg::Req(_) => "req",
            EchoMsg::Resp(_) => "resp",
        }
    }
}

// ---- echo/node.rs: the protocol, which measures nothing -----------------------------------

/// Echo one request off a peer, resending every 10 ms until the answer comes.
struct EchoNode {
    waiting: BTreeMap<OpId, NodeId>,
}

const RESEND_NS: u64 = 10_000_000;

impl Node for EchoNode {
    type Msg = EchoMsg;
    type Op = NodeId; // Whom to echo off.
    type Reply = ();

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_restart(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: EchoMsg) {
        match msg {
            EchoMsg::Req(op) => ctx.send(from, EchoMsg::Resp(op)),
            EchoMsg::Resp(op) => {
                if self.waiting.remove(&op).is_some() {
                    ctx.reply(op, ());
                }
            }
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, op: TimerId) {
        if let Some(&to) = self.waiting.get(&op) {
            ctx.send(to, EchoMsg::Req(op));
            ctx.set_timer(RESEND_NS, op);
        }
    }
    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op: OpId, to: NodeId) {
        self.waiting.insert(op, to);
        self.on_timer(ctx, op);
    }
}

// ---- echo/checker.rs: measures, and hands the measurements back ----------------------------

/// Latency of every echo, invoke to reply.
#[derive(Default)]
struct Latency {
    invoked: BTreeMap<OpId, u64>,
    latency_ns: Vec<u64>,
}

impl Checker<EchoNode> for Latency {
    fn name(&self) -> &'static str {
        "echo-latency"
    }
    fn invoke(&mut self, t: u64, op: OpId, _node: NodeId, _to: &NodeId) -> Result<(), String> {
        self.invoked.insert(op, t);
        Ok(())
    }
    fn complete(&mut self, t: u64, op: OpId, _reply: &()) -> Result<(), String> {
        if let Some(t0) = self.invoked.remove(&op) {
            self.latency_ns.push(t - t0);
        }
        Ok(())
    }
    fn metrics(&self, traffic: &Traffic, out: &mut Metrics) {
        let echoes = self.latency_ns.len() as f64;
        out.scalar("echo_ops", echoes);
        out.scalar(
            "echo_msgs_per_op",
            traffic.total().sent as f64 / echoes.max(1.0),
        );
        out.samples("echo_latency_ns", self.latency_ns.iter().copied());
    }
}

// ---- echo/summary.rs: the sweep's table, JSON and chart ------------------------------------

/// Latency samples over a sweep (bounded: at most `SAMPLES_MAX` kept).
#[derive(Default)]
struct EchoSummary {
    latency_ns: Vec<u64>,
}

const SAMPLES_MAX: usize = 1 << 20;

impl EchoSummary {
    fn percentile_ms(sorted: &[u64], p: usize) -> f64 {
        let i = (p * sorted.len())
            .div_ceil(100)
            .clamp(1, sorted.len().max(1))
            - 1;
        sorted.get(i).map_or(0.0, |&ns| ns as f64 / 1e6)
    }
}

impl Summary for EchoSummary {
    fn new(_base: &RunConfig) -> Self {
        EchoSummary::default()
    }
    fn add(&mut self, o: &RunOutcome) {
        let room = SAMPLES_MAX - self.latency_ns.len();
        let samples = o.metrics.samples_of("echo_latency_ns");
        self.latency_ns.extend(samples.iter().take(room));
    }
    fn merge(&mut self, other: Self) {
        let room = SAMPLES_MAX - self.latency_ns.len();
        self.latency_ns
            .extend(other.latency_ns.into_iter().take(room));
    }
    fn finish(mut self) -> Finished {
        self.latency_ns.sort_unstable(); // Sorted: the order seeds came in no longer shows.
        let p = |q| Self::percentile_ms(&self.latency_ns, q);
        let (p50, p99) = (p(50), p(99));
        let mut json = Map::new();
        json.insert("echo".into(), json!({"p50_ms": p50, "p99_ms": p99}));
        Finished {
            text: format!("  echo latency p50 {p50:.2} ms, p99 {p99:.2} ms\n"),
            json,
        }
    }
    fn run_text(o: &RunOutcome) -> Option<String> {
        let n = o.metrics.get("echo_ops")?;
        Some(format!("echo: {n} echoes"))
    }
    fn charts(records: &[&Value]) -> Result<Vec<Chart>, String> {
        let mut series = vec![("p50".to_string(), vec![]), ("p99".to_string(), vec![])];
        for r in records {
            let e = r.get("echo").ok_or("a sweep record lacks 'echo'")?;
            for (i, f) in ["p50_ms", "p99_ms"].iter().enumerate() {
                series[i]
                    .1
                    .push(e[f].as_f64().ok_or(format!("'echo' lacks {f}"))?);
            }
        }
        Ok(vec![Chart {
            file: "echo-latency.svg".into(),
            title: "Echo: latency under faults".into(),
            caption: "One bar group per sweep.".into(),
            command: "seedbed sim sweep --workload echo --json".into(),
            plot: Plot::Bars {
                title: "Echo latency".into(),
                y_label: "ms".into(),
                categories: (1..=records.len()).map(|i| format!("sweep {i}")).collect(),
                series,
                log_y: false,
            },
        }])
    }
}

// ---- echo/mod.rs: the workload ------------------------------------------------------------

struct Echo {
    nodes: u32,
}

impl Workload for Echo {
    type Node = EchoNode;
    type Summary = EchoSummary;
    const NAME: &'static str = "echo";
    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 3,
            nodes_min: 2,
            ops: 100,
            op_gap_us: 2_000,
            fault_ms: 500,
            quiet_ms: 500,
        }
    }
    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(Self::NAME, config, &[])?;
        Ok(Echo { nodes })
    }
    fn build_node(&self, _id: NodeId) -> EchoNode {
        EchoNode {
            waiting: BTreeMap::new(),
        }
    }
    fn next_op(&mut self, rng: &mut DetRng, _index: u64) -> (NodeId, OpFor<Self>) {
        let from = rng.below(u64::from(self.nodes)) as NodeId;
        (from, (from + 1) % self.nodes)
    }
    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        vec![(0, 1)]
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<EchoNode>>> {
        vec![Box::new(Latency::default())]
    }
}

// ---- the contract, checked -----------------------------------------------------------------

fn run(seed: u64) -> RunOutcome {
    world::run::<Echo>(&RunConfig::new("echo", seed), None).expect("a valid config")
}

#[test]
fn a_run_hands_back_its_checkers_metrics_and_the_worlds_message_counts() {
    let o = run(3);
    assert!(o.violation.is_none(), "{:?}", o.violation);
    let echoes = o.metrics.get("echo_ops").unwrap();
    assert_eq!(echoes as u64, o.ops_completed);
    assert_eq!(
        o.metrics.samples_of("echo_latency_ns").len() as u64,
        o.ops_completed
    );
    // The world counted every send per kind, crashes or not; answers never outnumber asks.
    let (req, resp) = (o.messages.kind("req").sent, o.messages.kind("resp").sent);
    assert!(req >= o.ops_completed && resp <= req, "{req} {resp}");
    assert_eq!(o.messages.total().sent, req + resp);
    assert_eq!(
        o.metrics.get("echo_msgs_per_op").unwrap(),
        (req + resp) as f64 / echoes
    );
    assert_eq!(
        EchoSummary::run_text(&o).unwrap(),
        format!("echo: {echoes} echoes")
    );
}

#[test]
fn a_summary_is_the_same_whatever_order_its_seeds_come_in() {
    let outcomes: Vec<RunOutcome> = (0..8).map(run).collect();
    let base = RunConfig::new("echo", 0);
    let mut whole = EchoSummary::new(&base);
    for o in &outcomes {
        whole.add(o);
    }
    // Two workers, seeds dealt alternately, merged the other way round.
    let (mut a, mut b) = (EchoSummary::new(&base), EchoSummary::new(&base));
    for (i, o) in outcomes.iter().enumerate().rev() {
        if i % 2 == 0 { &mut a } else { &mut b }.add(o);
    }
    b.merge(a);
    let (whole, parts) = (whole.finish(), b.finish());
    assert_eq!(whole, parts);
    assert!(whole.text.contains("echo latency p50"), "{}", whole.text);
    // The report draws its chart from the JSON fields of the sweep record.
    let record = Value::Object(whole.json);
    let charts = EchoSummary::charts(&[&record, &record]).unwrap();
    assert_eq!(charts[0].file, "echo-latency.svg");
    let Plot::Bars { categories, .. } = &charts[0].plot else {
        panic!("bars expected")
    };
    assert_eq!(categories.len(), 2);
    let bad = json!({"workload": "echo"});
    assert!(EchoSummary::charts(&[&bad])
        .unwrap_err()
        .contains("lacks 'echo'"));
}
