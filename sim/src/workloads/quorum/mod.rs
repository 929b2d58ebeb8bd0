//! `quorum`: a Dynamo-style replicated key-value store on the real LSM, with the checkers that
//! say what it does and does not guarantee. See `docs/quorum.md` for the tour.
//!
//! ```text
//! seedbed sim run   --workload quorum --seed 1
//! seedbed sim sweep --workload quorum --seeds 0..200          # + the staleness table
//! seedbed sim sweep --workload quorum --seeds 0..200 --set bug=no-vclock-merge
//! ```
//!
//! The node — what a real runtime would run too — lives in `seedbed-nodes` (`nodes/src/quorum/`)
//! and is re-exported here: [`ring`] (consistent hashing, preference lists), [`vclock`] and
//! [`version`] (causality, siblings, last-writer-wins), [`store`] (the LSM on the node's
//! disk), [`merkle`] (hash trees over ranges), [`node`] (boot, replica), [`coordinator`] (R/W
//! quorums, sloppy quorum), [`read_repair`], [`handoff`], [`anti_entropy`], [`client`]
//! (retries, backoff, reconciliation), [`membership`] (the seam for gossip), [`msg`],
//! [`params`]. What only the simulator needs lives here: the workload (operation mix, key
//! distribution, parameters), [`check`] (the checkers), [`summary`] (the staleness table and
//! heatmap of a sweep).
//!
//! Parameters (`--set key=value`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `n` | 3 | replicas per key |
//! | `r`, `w` | `any` | read and write quorums; `any` draws each from 1..=N per seed |
//! | `mode` | `vclock` | `vclock` (siblings) or `lww` (last writer wins by skewed clocks) |
//! | `keys` | 32 | key space |
//! | `dist` | `zipf` | `zipf` (s = 1) or `uniform` |
//! | `mix` | `50:45:5` | get:put:delete weights |
//! | `timeout_ms` | 20 | a phase's deadline (local time) |
//! | `retries` | 2 | client retries after a failure |
//! | `backoff_ms` | 5 | the client's first backoff (doubles, plus jitter) |
//! | `concurrency` | 64 | operations a node runs at once |
//! | `vnodes` | 8 | ring tokens per node |
//! | `sloppy` | `true` | sloppy quorum with hinted handoff |
//! | `membership` | `local` | `local` (a timeout detector) or `gossip` (an embedded SWIM member: coordinators skip members it holds failed) |
//! | `sync` | `always` | `always` (each replica write syncs its WAL) or `group` (group commit: one sync per group, acknowledgements held until it) |
//! | `group_us` | 200 | `sync=group`: local time from a group's first write to its sync |
//! | `lin` | `measure` | `measure` or `enforce` (fail runs that are not linearizable) |
//! | `bug` | `none` | a planted bug, see [`Bug`] |

pub mod check;
pub mod summary;

// The node's code lives in `seedbed-nodes` (a real runtime drives it too); its modules are
// re-exported here so the workload reads as one folder.
pub use seedbed_nodes::quorum::{
    anti_entropy, client, coordinator, handoff, history, membership, merkle, msg, node, params,
    read_repair, ring, store, vclock, version, Bug,
};

use std::collections::BTreeSet;
use std::sync::Arc;

use seedbed_engine::rng::DetRng;

use crate::check::Checker;
use crate::config::{Resolved, RunConfig, WorkloadDefaults};
use crate::error::SimError;
use crate::node::NodeId;
use crate::time::ms;
use crate::workload::{check_params, OpFor, Workload};
use msg::Op;
use node::QuorumNode;
use params::{Params, SyncMode};
use ring::Ring;
use version::Mode;

/// How clients pick keys.
#[derive(Clone, Debug)]
enum KeyDist {
    Uniform,
    /// Cumulative weights of a Zipf(1) distribution over the keys.
    Zipf(Vec<f64>),
}

/// The quorum workload.
#[derive(Debug)]
pub struct Quorum {
    nodes: u32,
    p: Arc<Params>,
    keys: u32,
    dist: KeyDist,
    /// get, put, delete weights.
    mix: [u32; 3],
    enforce_lin: bool,
    written: BTreeSet<u32>,
}

fn param_err(key: &str, detail: String) -> SimError {
    SimError::Param {
        workload: Quorum::NAME,
        key: key.into(),
        detail,
    }
}

fn num<T>(config: &RunConfig, key: &str, default: T, lo: T, hi: T) -> Result<T, SimError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match config.params.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<T>() {
            Ok(x) if x >= lo && x <= hi => Ok(x),
            _ => Err(param_err(
                key,
                format!("'{v}': expected a number in {lo}..={hi}"),
            )),
        },
    }
}

impl Quorum {
    /// The protocol settings every node of the run shares (what a recorded history is checked
    /// against: [`check::history`]).
    pub fn params(&self) -> &Arc<Params> {
        &self.p
    }

    fn quorum_param(
        config: &RunConfig,
        key: &str,
        n: u32,
        rng: &mut DetRng,
    ) -> Result<u32, SimError> {
        match config.params.get(key).map(String::as_str) {
            None | Some("any") => Ok(1 + rng.below(u64::from(n)) as u32),
            Some(_) => num(config, key, 1, 1, n),
        }
    }
}

/// The quiet period with `membership=gossip`, virtual milliseconds (see
/// [`Quorum::defaults_for`]).
pub const GOSSIP_QUIET_MS: u64 = 3_000;

/// How long after the faults stop a cluster with parameters `p` needs, at most, before every
/// range agrees and no hint is held (when the convergence checker probes), for a run of `ops`
/// client operations. Each step waits for the one before it:
/// 1. membership: every live node believed up again — the local detector's suspicion
///    ([`membership::SUSPECT_NS`]), or with gossip one SWIM push-pull round, in which a member
///    held failed hears of it and refutes;
/// 2. handoff: every hint delivered — a holder sends at most
///    [`handoff::HINTS_PER_ROUND_MAX`] per round and cannot hold more hints than there were
///    writes, plus one round for the first tick and one exchange for the acknowledgement;
/// 3. anti-entropy: what the handoff brought to one replica spread to the others
///    ([`anti_entropy::converge_bound_ns`]: N − 1 cycles of round-robin peers).
///
/// An exchange is two request round trips, each within the coordinator's `timeout_ns`, plus a
/// group-commit delay. The sum gets 0.1 % and a millisecond for clock-rate skew.
pub fn settle_ns(p: &Params, ops: u64) -> u64 {
    let membership_ns = if p.gossip {
        let g = seedbed_nodes::gossip::params::Params::default();
        g.period_ns * u64::from(g.push_pull_periods)
    } else {
        membership::SUSPECT_NS
    };
    let exchange_ns = 2 * p.timeout_ns + p.group_delay_ns;
    let hint_rounds = ops.div_ceil(handoff::HINTS_PER_ROUND_MAX as u64) + 1;
    let handoff_ns = hint_rounds * p.handoff_every_ns + exchange_ns;
    let ae_ns = anti_entropy::converge_bound_ns(p.n, p.ae_every_ns, exchange_ns);
    let raw = membership_ns + handoff_ns + ae_ns;
    raw + raw / 1_000 + ms(1)
}

impl Workload for Quorum {
    type Node = QuorumNode;
    type Summary = summary::StalenessSummary;
    const NAME: &'static str = "quorum";
    const SOMETIMES: &'static [crate::sometimes::Sometimes] = check::coverage::SOMETIMES;

    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 5,
            nodes_min: 3,
            ops: 1_000,
            op_gap_us: 1_000,
            fault_ms: 1_000,
            quiet_ms: 2_000,
        }
    }

    /// With `membership=gossip` the cluster needs longer to settle ([`settle_ns`]: a SWIM
    /// push-pull round before a member held failed is believed up again), so its quiet period
    /// is longer too. Either default holds the settle time within three quarters of the quiet
    /// period (where the world would clamp the probes), leaving the liveness probes the rest.
    fn defaults_for(config: &RunConfig) -> WorkloadDefaults {
        let mut d = Self::defaults();
        if config.params.get("membership").map(String::as_str) == Some("gossip") {
            d.quiet_ms = GOSSIP_QUIET_MS;
        }
        d
    }

    fn new(config: &RunConfig, nodes: u32) -> Result<Self, SimError> {
        check_params(
            Self::NAME,
            config,
            &[
                "n",
                "r",
                "w",
                "mode",
                "keys",
                "dist",
                "mix",
                "timeout_ms",
                "retries",
                "backoff_ms",
                "concurrency",
                "vnodes",
                "sloppy",
                "membership",
                "lin",
                "sync",
                "group_us",
                "bug",
            ],
        )?;
        let n: u32 = num(config, "n", 3, 1, 64)?;
        if n > nodes {
            return Err(param_err(
                "n",
                format!("{n} replicas need at least {n} nodes, not {nodes}"),
            ));
        }
        let mut nrw = DetRng::new(config.seed).fork("quorum/nrw");
        let r = Self::quorum_param(config, "r", n, &mut nrw)?;
        let w = Self::quorum_param(config, "w", n, &mut nrw)?;
        let mode = match config.params.get("mode").map(String::as_str) {
            None | Some("vclock") => Mode::VClock,
            Some("lww") => Mode::Lww,
            Some(v) => return Err(param_err("mode", format!("'{v}': expected vclock or lww"))),
        };
        let bug = match config.params.get("bug") {
            None => Bug::None,
            Some(v) => Bug::parse(v).ok_or_else(|| {
                param_err(
                    "bug",
                    format!("'{v}': expected one of {}", Bug::NAMES.join(", ")),
                )
            })?,
        };
        let keys: u32 = num(config, "keys", 32, 1, 1 << 20)?;
        let dist = match config.params.get("dist").map(String::as_str) {
            None | Some("zipf") => {
                let mut cdf = Vec::with_capacity(keys as usize);
                let mut sum = 0.0;
                for i in 0..keys {
                    sum += 1.0 / f64::from(i + 1);
                    cdf.push(sum);
                }
                for c in &mut cdf {
                    *c /= sum;
                }
                KeyDist::Zipf(cdf)
            }
            Some("uniform") => KeyDist::Uniform,
            Some(v) => {
                return Err(param_err(
                    "dist",
                    format!("'{v}': expected zipf or uniform"),
                ))
            }
        };
        let mix = match config.params.get("mix") {
            None => [50, 45, 5],
            Some(v) => {
                let parts: Vec<Option<u32>> = v.split(':').map(|x| x.parse().ok()).collect();
                match parts.as_slice() {
                    [Some(g), Some(p), Some(d)] if g + p + d > 0 && g + p + d <= 1_000_000 => {
                        [*g, *p, *d]
                    }
                    _ => {
                        return Err(param_err(
                            "mix",
                            format!("'{v}': expected get:put:delete weights like 50:45:5"),
                        ))
                    }
                }
            }
        };
        let sloppy = match config.params.get("sloppy").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => {
                return Err(param_err(
                    "sloppy",
                    format!("'{v}': expected true or false"),
                ))
            }
        };
        let gossip = match config.params.get("membership").map(String::as_str) {
            None | Some("local") => false,
            Some("gossip") => true,
            Some(v) => {
                return Err(param_err(
                    "membership",
                    format!("'{v}': expected local or gossip"),
                ))
            }
        };
        let enforce_lin = match config.params.get("lin").map(String::as_str) {
            None | Some("measure") => false,
            Some("enforce") => true,
            Some(v) => {
                return Err(param_err(
                    "lin",
                    format!("'{v}': expected measure or enforce"),
                ))
            }
        };
        let sync = match config.params.get("sync") {
            None => SyncMode::Always,
            Some(v) => SyncMode::parse(v)
                .ok_or_else(|| param_err("sync", format!("'{v}': expected always or group")))?,
        };
        let group_delay_ns: u64 = num(config, "group_us", 200, 0, 1_000_000)? * 1_000;
        let vnodes = num(config, "vnodes", 8, 1, 256)?;
        let p = Params {
            n,
            r,
            w,
            mode,
            bug,
            sloppy,
            gossip,
            ring: Ring::new(nodes, vnodes, n),
            timeout_ns: ms(num(config, "timeout_ms", 20, 1, 10_000)?),
            phase_tries: 3,
            client_retries: num(config, "retries", 2, 0, 10)?,
            backoff_ns: ms(num(config, "backoff_ms", 5, 1, 10_000)?),
            concurrency: num(config, "concurrency", 64, 1, 1 << 16)?,
            ae_every_ns: ms(10),
            handoff_every_ns: ms(20),
            sync,
            group_delay_ns,
        };
        Ok(Quorum {
            nodes,
            p: Arc::new(p),
            keys,
            dist,
            mix,
            enforce_lin,
            written: BTreeSet::new(),
        })
    }

    fn build_node(&self, id: NodeId) -> QuorumNode {
        QuorumNode::new(self.p.clone(), id, self.nodes)
    }

    fn next_op(&mut self, rng: &mut DetRng, index: u64) -> (NodeId, OpFor<Self>) {
        let node = rng.below(u64::from(self.nodes)) as NodeId;
        let key = match &self.dist {
            KeyDist::Uniform => rng.below(u64::from(self.keys)) as u32,
            KeyDist::Zipf(cdf) => {
                let u = rng.unit();
                (cdf.partition_point(|&c| c < u) as u32).min(self.keys - 1)
            }
        };
        let total = self.mix.iter().sum::<u32>();
        let pick = rng.below(u64::from(total)) as u32;
        let op = if pick < self.mix[0] {
            Op::Get { key, all: false }
        } else if pick < self.mix[0] + self.mix[1] {
            self.written.insert(key);
            // Values are unique (index + 1), so a read says exactly which write it saw.
            Op::Put {
                key,
                value: index + 1,
            }
        } else {
            self.written.insert(key);
            Op::Delete { key }
        };
        (node, op)
    }

    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        let mut ops: Vec<(NodeId, Op)> = (0..self.nodes).map(|n| (n, Op::Digest)).collect();
        for &key in &self.written {
            ops.push((key % self.nodes, Op::Get { key, all: true }));
        }
        ops
    }

    fn settle_ns(&self, run: &Resolved) -> Option<u64> {
        Some(settle_ns(&self.p, run.ops))
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<QuorumNode>>> {
        let prefix = check::prefix(&self.p);
        vec![
            Box::new(check::durability::Durability::new(self.p.mode)),
            Box::new(check::dots::Dots::new()),
            Box::new(check::context::Context::new(self.p.mode)),
            Box::new(check::siblings::SiblingsConcurrent::new(self.p.mode)),
            Box::new(check::convergence::Convergence::new(
                self.p.n,
                self.p.ring.ranges(),
            )),
            Box::new(check::linearizable::Linearizable::new(
                prefix.clone(),
                self.enforce_lin,
            )),
            Box::new(check::staleness::Staleness::new(self.p.mode, prefix)),
            Box::new(check::quorums::WriteQuorum::new(self.p.clone())),
            Box::new(check::quorums::ReadQuorum::new(self.p.clone())),
            Box::new(check::regular::Regular::new(
                self.p.mode,
                self.p.n,
                self.p.r,
                self.p.w,
                self.p.sloppy,
            )),
            Box::new(check::hints::Hints::new(self.p.mode, self.p.sloppy)),
            Box::new(check::life::RequestLife::new(&self.p)),
            Box::new(check::standins::StandIns::new(self.p.clone())),
            Box::new(check::available::Availability::new(self.p.clone())),
            Box::new(check::coverage::Coverage::new(self.p.mode)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default quiet periods hold the settle time within three quarters of them (the
    /// world's clamp), with and without gossip, so the bound is never cut short.
    #[test]
    fn default_quiet_period_holds_the_settle_time() {
        for membership in ["local", "gossip"] {
            let mut config = RunConfig::new("quorum", 0);
            config.params.insert("membership".into(), membership.into());
            let d = Quorum::defaults_for(&config);
            let q = Quorum::new(&config, d.nodes).expect("default params parse");
            let settle = settle_ns(&q.p, d.ops);
            assert!(
                4 * settle <= 3 * ms(d.quiet_ms),
                "{membership}: settle {settle} ns against a quiet period of {} ms",
                d.quiet_ms
            );
        }
    }

    /// Round-robin anti-entropy: a version on one of three replicas reaches both others
    /// within two cycles, so the bound is two cycles plus two exchanges.
    #[test]
    fn convergence_bound_counts_n_minus_one_cycles() {
        let b = anti_entropy::converge_bound_ns(3, ms(10), ms(1));
        assert_eq!(b, 2 * (24 * ms(10) + ms(1)));
        assert_eq!(anti_entropy::converge_bound_ns(1, ms(10), ms(1)), 0);
    }
}
