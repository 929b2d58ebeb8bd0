//! The quorum checkers judge a recorded history as they judge a live run: a simulator run's
//! client history, recorded as [`HistoryLine`]s (what `seedbed cluster test` records of a real
//! run) and handed to `check_history` afterwards, gets the verdict the run itself got from the
//! same checkers — for the correct protocol and for planted bugs.

use std::cell::RefCell;
use std::sync::Arc;

use seedbed_engine::rng::DetRng;
use seedbed_sim::config::WorkloadDefaults;
use seedbed_sim::workload::OpFor;
use seedbed_sim::workloads::quorum::check::history::{check_history, history_checkers};
use seedbed_sim::workloads::quorum::history::HistoryLine;
use seedbed_sim::workloads::quorum::msg::{Op, Reply};
use seedbed_sim::workloads::quorum::node::QuorumNode;
use seedbed_sim::workloads::quorum::Quorum;
use seedbed_sim::{world, Checker, NoSummary, NodeId, RunConfig, SimError, Workload};

thread_local! {
    /// The history of the run on this thread (each test runs on its own thread).
    static HISTORY: RefCell<Vec<HistoryLine>> = const { RefCell::new(Vec::new()) };
}

/// Records what the world shows its checkers, as a real run's recorder would.
struct Recorder;

impl Checker<QuorumNode> for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn invoke(&mut self, t: u64, op_id: u64, node: NodeId, op: &Op) -> Result<(), String> {
        HISTORY.with(|h| {
            h.borrow_mut()
                .push(HistoryLine::invoke(t, 0, op_id, node, op.clone()))
        });
        Ok(())
    }

    fn complete(&mut self, t: u64, op_id: u64, reply: &Reply) -> Result<(), String> {
        HISTORY.with(|h| {
            h.borrow_mut()
                .push(HistoryLine::reply(t, 0, op_id, 0, reply.clone()))
        });
        Ok(())
    }

    fn lost(&mut self, t: u64, op_id: u64) {
        HISTORY.with(|h| {
            h.borrow_mut()
                .push(HistoryLine::lost(t, 0, op_id, 0, "its node crashed"))
        });
    }
}

/// The quorum workload with a recorder ahead of the history checkers (so it sees every event
/// a failing checker saw).
struct Recorded(Quorum, Arc<seedbed_sim::workloads::quorum::params::Params>);

impl Workload for Recorded {
    type Node = QuorumNode;
    type Summary = NoSummary;
    const NAME: &'static str = "quorum";

    fn defaults() -> WorkloadDefaults {
        Quorum::defaults()
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        let q = Quorum::new(config, nodes)?;
        let p = q.params().clone();
        Ok(Recorded(q, p))
    }

    fn build_node(&self, id: NodeId) -> QuorumNode {
        self.0.build_node(id)
    }

    fn next_op(&mut self, rng: &mut DetRng, index: u64) -> (NodeId, OpFor<Self>) {
        self.0.next_op(rng, index)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        self.0.quiet_ops()
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<QuorumNode>>> {
        let mut c: Vec<Box<dyn Checker<QuorumNode>>> = vec![Box::new(Recorder)];
        c.extend(history_checkers(&self.1, false));
        c
    }
}

fn replayed_verdict(seed: u64, bug: &str) -> (Option<String>, Option<String>) {
    HISTORY.with(|h| h.borrow_mut().clear());
    let mut c = RunConfig::new("quorum", seed);
    c.params.insert("bug".into(), bug.into());
    let live = world::run::<Recorded>(&c, None).expect("valid config");
    let p = Recorded::new(&c, live.size.nodes).unwrap().1;
    let lines = HISTORY.with(|h| h.borrow().clone());
    let v = check_history(&p, &lines, false).expect("a well-formed history");
    (
        live.violation.map(|v| v.checker),
        v.violations.first().map(|v| v.checker.clone()),
    )
}

#[test]
fn a_recorded_history_gets_the_verdict_the_live_run_got() {
    let mut failed = 0;
    for (seed, bug) in [
        (1, "none"),
        (2, "none"),
        (3, "none"),
        (0, "no-vclock-merge"),
        (1, "no-vclock-merge"),
        (0, "repair-overwrites"),
        (0, "hint-never-delivered"),
    ] {
        let (live, replayed) = replayed_verdict(seed, bug);
        // Liveness and the like are the world's own; the history checkers are what is compared.
        let live = live.filter(|c| c.starts_with("quorum-"));
        assert_eq!(live, replayed, "seed {seed} bug {bug}");
        failed += u32::from(live.is_some());
    }
    assert!(
        failed >= 2,
        "the planted bugs were caught live and replayed"
    );
}
