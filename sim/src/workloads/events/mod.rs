//! `events`: object events → queue → functions, at-least-once under faults.
//!
//! A producer (an object store) commits PUTs and DELETEs and emits an event for each through a
//! transactional outbox in its LSM; a queue with SQS's semantics (visibility timeout, receive
//! counts, a dead-letter queue, batches, long polling) holds them in its LSM; function workers
//! (concurrency limit, function timeout, retries with seeded backoff and jitter, cold and warm
//! starts) apply each event to a table — a derived table of each key's latest version by
//! sequencer, an idempotency table and an effect log, in one more LSM. Every fault the
//! simulator has runs against it. See `docs/events.md` for the tour.
//!
//! ```text
//! seedbed sim run   --workload events --seed 1
//! seedbed sim sweep --workload events --seeds 0..200
//! seedbed sim sweep --workload events --seeds 0..200 --set bug=no-idempotency
//! ```
//!
//! Roles by node id ([`params::role`]): 0 producer, 1..=replicas the queue's replicas,
//! then the table, then workers (at least one). With the default three replicas: 0 producer,
//! 1–3 queue, 4 table, 5–6 workers.
//!
//! Parameters (`--set key=value`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `bug` | `none` | a planted bug, see [`Bug`] |
//! | `visibility_ms` | 200 | the queue's visibility timeout |
//! | `max_receive` | 5 | receives before the dead-letter queue (maxReceiveCount) |
//! | `concurrency` | 4 | invocations per worker at once |
//! | `batch` | 10 | messages per receive, at most |
//! | `fn_timeout_ms` | 1000 | an invocation's time limit |
//! | `retries` | 2 | handler retries within an invocation |
//! | `poison_pct` | 2 | percent of PUT events the handler always fails on |
//! | `fail_pct` | 5 | percent of handler runs that fail transiently |
//! | `keys` | 8 | keys the clients write |
//! | `replicas` | 3 | queue replicas (1..=9): a send is acknowledged once a majority holds it |
//! | `slow_pct` | 3 | percent of handler runs that take 250–450 ms, beyond the visibility timeout (the worker extends it) |
//! | `fifo` | `false` | a FIFO queue: each key a message group (in order, one in flight), the sequencer its deduplication id (5 minutes) |
//!
//! Files, one concept each: [`event`] (the event and its sequencer), [`msg`], [`params`]
//! (roles, bugs), [`store`] (the LSM under each role), [`producer`] (commit + outbox),
//! [`queue`] (SQS semantics as a fold of log entries), [`replica`] (the replicated log:
//! majority acks, elections, failover), [`worker`] (the function), [`table`] (derived, idempotency and
//! effect tables), [`node`] (the roles as one node type), [`checker`], [`metrics`], [`sweep`]
//! (summed per fault setting).

pub mod checker;
pub mod event;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod params;
pub mod producer;
pub mod queue;
pub mod replica;
pub mod store;
pub mod sweep;
pub mod table;
pub mod worker;

pub use params::Bug;

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{FaultSource, RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::faults::{schedule, swarm, FaultPlan};
use crate::node::NodeId;
use crate::time::{ms, NANOS_PER_MS};
use crate::workload::{check_params, OpFor, Workload};
use msg::Op;
use node::EventsNode;
use params::{Params, BUG_NAMES, PRODUCER};

/// The quiet period of a FIFO run (see [`Events::defaults_for`]), virtual milliseconds.
pub const FIFO_QUIET_MS: u64 = 6_000;

/// Queue replicas at most.
pub const REPLICAS_MAX: u32 = 9;

/// The events workload.
#[derive(Debug)]
pub struct Events {
    p: Params,
    rules: checker::Rules,
    probe: u32,
}

fn num(config: &RunConfig, key: &str, default: u64, lo: u64, hi: u64) -> Result<u64, SimError> {
    match config.params.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(SimError::Param {
                workload: Events::NAME,
                key: key.into(),
                detail: format!("'{v}': expected an integer in {lo}..={hi}"),
            }),
        },
    }
}

/// The fault setting the run will draw (the world draws the same plan and schedule).
fn setting(config: &RunConfig, nodes: u32) -> Result<&'static str, SimError> {
    let resolved = config.resolve(&Events::defaults_for(config))?;
    let root = DetRng::new(config.seed);
    let plan = match &config.faults {
        FaultSource::Swarm => swarm::plan(&root),
        FaultSource::None => FaultPlan::none(),
        FaultSource::Plan(p) => (**p).clone(),
    };
    let sched = match &config.schedule {
        Some(s) => s.clone(),
        None => schedule::generate(&plan, nodes, resolved.fault_end_ns / NANOS_PER_MS, &root),
    };
    Ok(metrics::fault_setting(&plan, &sched))
}

impl Workload for Events {
    type Node = EventsNode;
    type Summary = sweep::EventsSummary;
    const NAME: &'static str = "events";

    /// Seven nodes: the producer, three queue replicas, the table, two workers.
    fn defaults() -> WorkloadDefaults {
        let replicas = Params::default().replicas;
        WorkloadDefaults {
            nodes: replicas + 4,
            nodes_min: replicas + 3,
            ops: 150,
            op_gap_us: 6_000,
            fault_ms: 1_000,
            quiet_ms: 3_000,
        }
    }

    /// A FIFO queue gets a 6 s quiet period instead of 3 s. Its liveness bound is longer: a
    /// group's messages wait behind its head, and a poison head holds the group for
    /// (max_receive + 1) × visibility (1.2 s by default) before the dead-letter queue takes
    /// it — two or three poison events on one key, queued late in the fault period, need more
    /// than 3 s (45 of 10,000 seeds did; SQS FIFO blocks a group exactly so).
    ///
    /// The node count follows `replicas`: the producer, the replicas, the table and two
    /// workers (at least one).
    fn defaults_for(config: &RunConfig) -> WorkloadDefaults {
        let fifo = config.params.get("fifo").map(String::as_str) == Some("true")
            || config.params.get("bug").and_then(|b| Bug::parse(b)) == Some(Bug::FifoGroupUnlocked);
        let d = Self::defaults();
        // A bad value is refused by `new`; here it only must not break the defaults.
        let replicas = config
            .params
            .get("replicas")
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|r| (1..=REPLICAS_MAX).contains(r))
            .unwrap_or(Params::default().replicas);
        WorkloadDefaults {
            nodes: replicas + 4,
            nodes_min: replicas + 3,
            quiet_ms: if fifo { FIFO_QUIET_MS } else { d.quiet_ms },
            ..d
        }
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(
            Self::NAME,
            config,
            &[
                "bug",
                "visibility_ms",
                "max_receive",
                "concurrency",
                "batch",
                "fn_timeout_ms",
                "retries",
                "poison_pct",
                "fail_pct",
                "keys",
                "fifo",
                "replicas",
                "slow_pct",
            ],
        )?;
        let replicas = num(
            config,
            "replicas",
            u64::from(Params::default().replicas),
            1,
            u64::from(REPLICAS_MAX),
        )? as u32;
        if nodes < replicas + 3 {
            return Err(SimError::Config(format!(
                "nodes = {nodes}: the events workload needs a producer, {replicas} queue replica(s), a table and at least one worker ({} nodes)",
                replicas + 3
            )));
        }
        let bug = match config.params.get("bug") {
            None => Bug::None,
            Some(v) => Bug::parse(v).ok_or_else(|| SimError::Param {
                workload: Self::NAME,
                key: "bug".into(),
                detail: format!(
                    "'{v}': expected one of {}",
                    BUG_NAMES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?,
        };
        let fifo = match config.params.get("fifo").map(String::as_str) {
            None | Some("false") => bug == Bug::FifoGroupUnlocked,
            Some("true") => true,
            Some(v) => {
                return Err(SimError::Param {
                    workload: Self::NAME,
                    key: "fifo".into(),
                    detail: format!("'{v}': expected true or false"),
                })
            }
        };
        let d = Params::default();
        let p = Params {
            bug,
            fifo,
            visibility_ns: ms(num(
                config,
                "visibility_ms",
                d.visibility_ns / NANOS_PER_MS,
                1,
                3_600_000,
            )?),
            max_receive: num(config, "max_receive", u64::from(d.max_receive), 1, 1_000)? as u32,
            concurrency: num(config, "concurrency", u64::from(d.concurrency), 1, 1_000)? as u32,
            batch: num(config, "batch", u64::from(d.batch), 1, 10)? as u32,
            fn_timeout_ns: ms(num(
                config,
                "fn_timeout_ms",
                d.fn_timeout_ns / NANOS_PER_MS,
                1,
                3_600_000,
            )?),
            retries: num(config, "retries", u64::from(d.retries), 0, 10)? as u32,
            poison_p: num(config, "poison_pct", 2, 0, 100)? as f64 / 100.0,
            fail_p: num(config, "fail_pct", 5, 0, 100)? as f64 / 100.0,
            keys: num(config, "keys", u64::from(d.keys), 1, 1 << 20)? as u32,
            replicas,
            slow_p: num(config, "slow_pct", 3, 0, 100)? as f64 / 100.0,
            ..d
        };
        let rules = checker::Rules {
            visibility_ns: p.queue_visibility_ns(),
            max_receive: p.max_receive,
            fifo: p.fifo,
            setting: setting(config, nodes)?,
            replicas,
        };
        Ok(Events { p, rules, probe: 0 })
    }

    fn build_node(&self, id: NodeId) -> EventsNode {
        EventsNode::new(self.p, id)
    }

    fn next_op(&mut self, rng: &mut DetRng, _index: u64) -> (NodeId, OpFor<Self>) {
        let key = rng.below(u64::from(self.p.keys)) as u32;
        let op = if rng.chance(0.8) {
            Op::Put {
                key,
                poison: rng.chance(self.p.poison_p),
            }
        } else {
            Op::Delete { key }
        };
        (PRODUCER, op)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        // One more change after the faults: its event must still flow through.
        self.probe += 1;
        let key = self.probe % self.p.keys;
        vec![(PRODUCER, Op::Put { key, poison: false })]
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<EventsNode>>> {
        checker::checkers(self.rules)
    }
}
