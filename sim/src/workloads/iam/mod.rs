//! `iam`: eventually consistent IAM. A policy store (users, groups, roles, their policies,
//! bucket policies, trust policies) changes at the leader and propagates to every node — by a
//! replicated log or by gossip — under message loss, delay, partitions and crashes. Each node
//! persists its view in the real LSM engine and decides authorization requests with the real
//! policy engine against whatever view it has. The checkers make the window in which a revoke
//! has not yet reached everyone visible, measurable and reproducible from a seed.
//!
//! ```text
//! seedbed sim run   --workload iam --seed 3
//! seedbed sim run   --workload iam --seed 3 --set mode=gossip
//! seedbed sim sweep --workload iam --seeds 0..200 --set bug=stale-cache
//! ```
//!
//! Parameters (`--set key=value`):
//! - `mode` = `log` (default) | `gossip` | `swim` — see [`propagation`] and [`swim`];
//! - `bug` = `none` | `stale-cache` | `out-of-order` | `ack-before-persist` — see [`Bug`];
//! - `bound_ms` — the propagation bound checker (2) enforces when the network stays
//!   connected (default 1000);
//! - `tick_ms` — local time between propagation rounds (default 10).
//!
//! Files, one concept each: [`store`] (the policy-store model and log entries), [`catalog`]
//! (the universe, its policies, requests, evaluation with the engine), [`msg`], [`persist`]
//! (the view in the LSM), [`propagation`], [`node`], [`model`] (the checker's change log),
//! [`checker`], [`rumours`] (the dissemination rules), [`metrics`] (what a run measures), [`sweep`] (summed per fault setting).

pub mod catalog;
pub mod checker;
pub mod metrics;
pub mod model;
pub mod msg;
pub mod node;
pub mod persist;
pub mod propagation;
pub mod rumours;
pub mod store;
pub mod sweep;
pub mod swim;

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{FaultSource, RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::faults::{schedule, swarm, Fault, FaultPlan};
use crate::node::NodeId;
use crate::time::{ms, NANOS_PER_MS};
use crate::workload::{check_params, OpFor, Workload};
use catalog::{
    BUCKETS, BUCKET_POLICIES, GROUPS, IDENTITY_POLICIES, REQUESTS, ROLES, TRUST_POLICIES, USERS,
};
use checker::{FaultSpan, WindowRules};
use msg::IamOp;
use node::{IamNode, NodeConfig, LEADER};
use store::Change;

/// How changes propagate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The leader ships its log to every follower, with acks and retransmission.
    Log,
    /// Push rumours plus push-pull anti-entropy between random peers.
    Gossip,
    /// Push rumours, with anti-entropy piggybacked on an embedded SWIM failure detector's
    /// messages (see [`swim`]).
    Swim,
}

/// The planted bugs, one precaution removed each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The correct protocol.
    None,
    /// Decisions are cached and the cache is never invalidated when the view changes: a node
    /// keeps deciding on the view it first decided on. Caught by `iam-decision-matches`.
    StaleCache,
    /// Entries are applied as they arrive, without checking that their predecessor is there:
    /// a lost or reordered message leaves a view that claims a version without holding every
    /// change before it. Caught by `iam-decision-matches` (the view's digest).
    OutOfOrder,
    /// Followers acknowledge entries written but not synced: a crash may lose what they
    /// acknowledged. Caught by `iam-ack-durable` (needs crashes).
    AckBeforePersist,
}

impl Bug {
    /// Parse the `bug` parameter.
    pub fn parse(s: &str) -> Option<Bug> {
        match s {
            "none" => Some(Bug::None),
            "stale-cache" => Some(Bug::StaleCache),
            "out-of-order" => Some(Bug::OutOfOrder),
            "ack-before-persist" => Some(Bug::AckBeforePersist),
            _ => None,
        }
    }
}

/// One change in this many client operations (the rest are authorization requests): 100
/// changes and 2,000 requests in the default 2,100 operations.
pub const CHANGE_EVERY_OPS: u64 = 21;

/// The IAM workload.
#[derive(Debug)]
pub struct Iam {
    nodes: u32,
    node: NodeConfig,
    rules: WindowRules,
}

fn param_u64(
    config: &RunConfig,
    key: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, SimError> {
    match config.params.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(SimError::Param {
                workload: Iam::NAME,
                key: key.into(),
                detail: format!(
                    "'{v}': expected an integer in {}..={}",
                    range.start(),
                    range.end()
                ),
            }),
        },
    }
}

/// The spans of a run's discrete faults, as the world will draw them.
fn fault_spans(
    config: &RunConfig,
    nodes: u32,
    bound_ns: u64,
) -> Result<(Vec<FaultSpan>, bool, &'static str), SimError> {
    let resolved = config.resolve(&Iam::defaults())?;
    let root = DetRng::new(config.seed);
    let plan = match &config.faults {
        FaultSource::Swarm => swarm::plan(&root),
        FaultSource::None => FaultPlan::none(),
        FaultSource::Plan(p) => (**p).clone(),
    };
    let fault_ms = resolved.fault_end_ns / NANOS_PER_MS;
    let sched = match &config.schedule {
        Some(s) => s.clone(),
        None => schedule::generate(&plan, nodes, fault_ms, &root),
    };
    let spans = sched
        .iter()
        .map(|f| {
            let start_ns = ms(f.at_ms);
            let len_ns = match f.fault {
                Fault::Partition { duration_ms, .. } | Fault::Pause { duration_ms, .. } => {
                    ms(duration_ms)
                }
                Fault::Crash { down_ms, .. } => ms(down_ms),
                Fault::ClockJump { .. } => bound_ns,
            };
            FaultSpan {
                start_ns,
                end_ns: (start_ns + len_ns).min(resolved.fault_end_ns),
            }
        })
        .collect();
    Ok((
        spans,
        plan.disk.any(),
        metrics::fault_setting(&plan, &sched),
    ))
}

fn draw_change(rng: &mut DetRng) -> Change {
    let mut pick = |n: usize| rng.below(n as u64) as u8;
    match pick(13) {
        0 => Change::AttachUserPolicy {
            user: pick(USERS),
            policy: pick(IDENTITY_POLICIES),
        },
        1 => Change::DetachUserPolicy {
            user: pick(USERS),
            policy: pick(IDENTITY_POLICIES),
        },
        2 => Change::AttachGroupPolicy {
            group: pick(GROUPS),
            policy: pick(IDENTITY_POLICIES),
        },
        3 => Change::DetachGroupPolicy {
            group: pick(GROUPS),
            policy: pick(IDENTITY_POLICIES),
        },
        4 => Change::AttachRolePolicy {
            role: pick(ROLES),
            policy: pick(IDENTITY_POLICIES),
        },
        5 => Change::DetachRolePolicy {
            role: pick(ROLES),
            policy: pick(IDENTITY_POLICIES),
        },
        6 => Change::AddUserToGroup {
            user: pick(USERS),
            group: pick(GROUPS),
        },
        7 => Change::RemoveUserFromGroup {
            user: pick(USERS),
            group: pick(GROUPS),
        },
        8 => Change::CreatePolicy {
            policy: pick(IDENTITY_POLICIES),
        },
        9 => Change::DeletePolicy {
            policy: pick(IDENTITY_POLICIES),
        },
        10 => Change::PutBucketPolicy {
            bucket: pick(BUCKETS),
            policy: pick(BUCKET_POLICIES),
        },
        11 => Change::DeleteBucketPolicy {
            bucket: pick(BUCKETS),
        },
        _ => Change::UpdateTrustPolicy {
            role: pick(ROLES),
            policy: pick(TRUST_POLICIES),
        },
    }
}

impl Workload for Iam {
    type Node = IamNode;
    type Summary = sweep::IamSummary;
    const NAME: &'static str = "iam";
    const SOMETIMES: &'static [crate::sometimes::Sometimes] = metrics::SOMETIMES;

    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 5,
            nodes_min: 2,
            ops: 2_100,
            op_gap_us: 900,
            fault_ms: 2_000,
            quiet_ms: 1_000,
        }
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(Self::NAME, config, &["bug", "mode", "bound_ms", "tick_ms"])?;
        if nodes > 64 {
            // Gossip's push picks peers through a 64-bit mask.
            return Err(SimError::Config(format!(
                "nodes = {nodes}: the iam workload runs at most 64 nodes"
            )));
        }
        let bug = match config.params.get("bug") {
            None => Bug::None,
            Some(v) => Bug::parse(v).ok_or_else(|| SimError::Param {
                workload: Self::NAME,
                key: "bug".into(),
                detail: format!(
                    "'{v}': expected none, stale-cache, out-of-order or ack-before-persist"
                ),
            })?,
        };
        let mode = match config.params.get("mode").map(String::as_str) {
            None | Some("log") => Mode::Log,
            Some("gossip") => Mode::Gossip,
            Some("swim") => Mode::Swim,
            Some(v) => {
                return Err(SimError::Param {
                    workload: Self::NAME,
                    key: "mode".into(),
                    detail: format!("'{v}': expected log, gossip or swim"),
                })
            }
        };
        let bound_ns = ms(param_u64(config, "bound_ms", 1_000, 1..=3_600_000)?);
        let tick_ns = ms(param_u64(config, "tick_ms", 10, 1..=60_000)?);
        let (faults, disk_faults, setting) = fault_spans(config, nodes, bound_ns)?;
        Ok(Iam {
            nodes,
            node: NodeConfig { mode, bug, tick_ns },
            rules: WindowRules {
                bound_ns,
                faults,
                disk_faults,
                setting,
            },
        })
    }

    fn build_node(&self, _id: NodeId) -> IamNode {
        IamNode::new(self.node)
    }

    fn next_op(&mut self, rng: &mut DetRng, index: u64) -> (NodeId, OpFor<Self>) {
        if index.is_multiple_of(CHANGE_EVERY_OPS) {
            // Ids grow with the index, so the leader's versions grow with them.
            let op = IamOp::Change {
                id: index + 1,
                change: draw_change(rng),
            };
            return (LEADER, op);
        }
        let node = rng.below(u64::from(self.nodes)) as NodeId;
        let req = rng.below(REQUESTS as u64) as u16;
        (node, IamOp::Authorize { req })
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        (0..self.nodes)
            .map(|n| (n, IamOp::Authorize { req: 0 }))
            .collect()
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<IamNode>>> {
        checker::checkers(self.nodes, self.rules.clone())
    }
}
