//! The quorum checkers on a recorded history, from either runtime.
//!
//! In a simulator run the world feeds its checkers as the operations happen. A real run
//! (`seedbed cluster test`) records the same events as JSON lines
//! ([`seedbed_nodes::quorum::history`]) and hands them here afterwards: the *same* checker
//! values, fed the same calls (`invoke`, `complete`, `lost`, `finish`) in time order.
//!
//! Only the checkers that judge the client history run here: durability, convergence,
//! per-key linearizability, staleness and regular-register semantics. The two that hold the
//! protocol to the messages it *delivered* — [`super::quorums`] and
//! [`super::hints`] — need the world's view of the network, which a real run does not
//! have (nodes talk to each other over TCP, not through the recorder); they stay
//! simulator-only, and so does [`super::coverage`].
//!
//! Unlike a simulator run, which stops at its first violation, a history is checked to the
//! end: each checker reports its first violation and is then left out, so one run shows every
//! property it broke.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::{Checker, Violation};
use crate::metrics::{Metrics, Traffic};
use crate::node::OpId;
use crate::workloads::quorum::check;
use crate::workloads::quorum::history::{HistoryLine, INVOKE, LOST, NEMESIS, REJECTED, REPLY};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::params::Params;

/// What checking a history found.
#[derive(Debug, Default)]
pub struct HistoryVerdict {
    /// The checkers that ran, by name.
    pub checkers: Vec<&'static str>,
    /// Each failed checker's first violation, in the order they happened.
    pub violations: Vec<Violation>,
    /// What the checkers measured (staleness counters, linearizability counts).
    pub metrics: Metrics,
    /// Operations invoked.
    pub invoked: u64,
    /// Operations answered.
    pub replied: u64,
    /// Operations whose outcome is unknown (`lost`).
    pub lost: u64,
    /// Operations that never started (`rejected`).
    pub rejected: u64,
}

impl HistoryVerdict {
    /// Whether every checker passed.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The staleness table of this history, rendered as `sim sweep` prints it.
    pub fn staleness_table(&self) -> String {
        check::staleness::render(&check::staleness::table_of_run(&self.metrics.scalars))
    }

    /// Keys checked for linearizability, and how many were not linearizable.
    pub fn linearizability(&self, p: &Params) -> (u64, u64) {
        let prefix = check::prefix(p);
        let get = |k: &str| self.metrics.get(&format!("{prefix}/{k}")).unwrap_or(0.0) as u64;
        (get("lin_keys"), get("lin_bad_keys"))
    }
}

/// The checkers that judge a client history alone (see the module docs), for a store with
/// parameters `p`; `enforce_lin` makes a key that is not linearizable a violation.
pub fn history_checkers(p: &Arc<Params>, enforce_lin: bool) -> Vec<Box<dyn Checker<QuorumNode>>> {
    let prefix = check::prefix(p);
    vec![
        Box::new(check::durability::Durability::new(p.mode)),
        Box::new(check::convergence::Convergence::new(p.n, p.ring.ranges())),
        Box::new(check::linearizable::Linearizable::new(
            prefix.clone(),
            enforce_lin,
        )),
        Box::new(check::staleness::Staleness::new(p.mode, prefix)),
        Box::new(check::regular::Regular::new(
            p.mode, p.n, p.r, p.w, p.sloppy,
        )),
    ]
}

/// Feed `lines` (in time order) to [`history_checkers`]. A malformed history — an `invoke`
/// without its operation, a `reply` without its answer or for an operation never invoked, a
/// repeated id, time running backwards, an unknown event — is an error naming the line
/// (1-based), not a verdict.
pub fn check_history(
    p: &Arc<Params>,
    lines: &[HistoryLine],
    enforce_lin: bool,
) -> Result<HistoryVerdict, String> {
    let mut checkers = history_checkers(p, enforce_lin);
    let mut v = HistoryVerdict {
        checkers: checkers.iter().map(|c| c.name()).collect(),
        ..HistoryVerdict::default()
    };
    // A checker that failed hears nothing more (a simulator run would have stopped there).
    let mut failed = vec![false; checkers.len()];
    let mut each =
        |v: &mut HistoryVerdict,
         t_ns: u64,
         f: &mut dyn FnMut(&mut dyn Checker<QuorumNode>) -> Result<(), String>| {
            for (c, failed) in checkers.iter_mut().zip(failed.iter_mut()) {
                if *failed {
                    continue;
                }
                if let Err(message) = f(c.as_mut()) {
                    *failed = true;
                    v.violations.push(Violation {
                        checker: c.name().to_string(),
                        at_ns: t_ns,
                        message,
                    });
                }
            }
        };
    // op → still open?
    let mut ops: BTreeMap<OpId, bool> = BTreeMap::new();
    let mut last_t = 0;
    for (i, l) in lines.iter().enumerate() {
        let at = |what: &str| format!("history line {}: {what}", i + 1);
        if l.t_ns < last_t {
            return Err(at(&format!(
                "time runs backwards ({} after {})",
                l.t_ns, last_t
            )));
        }
        last_t = l.t_ns;
        if l.event == NEMESIS {
            continue;
        }
        let (Some(op_id), Some(node)) = (l.op_id, l.node) else {
            return Err(at(&format!("a '{}' line needs op_id and node", l.event)));
        };
        let t = l.t_ns;
        match l.event.as_str() {
            INVOKE => {
                let Some(op) = &l.op else {
                    return Err(at("an invoke without its op"));
                };
                if ops.insert(op_id, true).is_some() {
                    return Err(at(&format!("op {op_id} is invoked twice")));
                }
                v.invoked += 1;
                each(&mut v, t, &mut |c| c.invoke(t, op_id, node, op));
            }
            REPLY | LOST => {
                match ops.get_mut(&op_id) {
                    Some(open @ true) => *open = false,
                    Some(false) => return Err(at(&format!("op {op_id} ends twice"))),
                    None => return Err(at(&format!("op {op_id} ends but was never invoked"))),
                }
                if l.event == LOST {
                    v.lost += 1;
                    each(&mut v, t, &mut |c| {
                        c.lost(t, op_id);
                        Ok(())
                    });
                    continue;
                }
                let Some(reply) = &l.reply else {
                    return Err(at("a reply without its answer"));
                };
                v.replied += 1;
                each(&mut v, t, &mut |c| c.complete(t, op_id, reply));
            }
            REJECTED => {
                if ops.insert(op_id, false).is_some() {
                    return Err(at(&format!("op {op_id} is rejected after it began")));
                }
                v.rejected += 1;
            }
            other => {
                return Err(at(&format!(
                    "unknown event '{other}' (expected {INVOKE}, {REPLY}, {LOST}, {REJECTED} or {NEMESIS})"
                )))
            }
        }
    }
    each(&mut v, last_t, &mut |c| c.finish(last_t));
    // Measurements come from every checker, failed or not, as after a simulator run.
    for c in &checkers {
        c.metrics(&Traffic::default(), &mut v.metrics);
    }
    Ok(v)
}

/// Every operation id a checker's message names (`op 17`), in order of first mention.
pub fn ops_named(message: &str) -> Vec<OpId> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(i) = rest.find("op ") {
        let after = &rest[i + 3..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        // A word ending in "op" ("loop 3") is not a mention.
        let word_start = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric();
        if word_start && !digits.is_empty() {
            if let Ok(id) = digits.parse() {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        rest = &rest[i + 3..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::quorum::msg::{Op, Reply};
    use crate::workloads::quorum::ring::Ring;
    use crate::workloads::quorum::vclock::VClock;
    use crate::workloads::quorum::version::{Mode, Siblings, Version};
    use crate::workloads::quorum::Bug;

    fn params() -> Arc<Params> {
        Arc::new(Params {
            n: 3,
            r: 2,
            w: 2,
            mode: Mode::VClock,
            bug: Bug::None,
            sloppy: true,
            gossip: true,
            ring: Ring::new(3, 8, 3),
            timeout_ns: 1,
            phase_tries: 3,
            client_retries: 2,
            backoff_ns: 1,
            concurrency: 64,
            ae_every_ns: 1,
            handoff_every_ns: 1,
            sync: seedbed_nodes::quorum::SyncMode::Always,
            group_delay_ns: 0,
        })
    }

    fn version(value: u64, counter: u64) -> Version {
        let mut clock = VClock::default();
        clock.tick(0, counter, counter);
        Version {
            value: Some(value),
            clock,
            ts_ns: counter,
            writer: 0,
        }
    }

    fn sibs(vs: &[Version]) -> Siblings {
        let mut s = Siblings::default();
        for v in vs {
            s.add(v.clone(), Mode::VClock);
        }
        s
    }

    #[test]
    fn a_lost_acknowledged_write_fails_durability_and_names_the_ops() {
        let v1 = version(1, 1);
        let h = vec![
            HistoryLine::invoke(10, 0, 1, 0, Op::Put { key: 5, value: 1 }),
            HistoryLine::reply(20, 0, 1, 0, Reply::Written(v1.clone(), 0b011)),
            HistoryLine::nemesis(25, "kill n1".into()),
            HistoryLine::invoke(30, 1, 2, 2, Op::Get { key: 5, all: true }),
            HistoryLine::reply(
                40,
                1,
                2,
                2,
                Reply::Got(Siblings::default(), vec![(2, Siblings::default())]),
            ),
        ];
        let v = check_history(&params(), &h, false).unwrap();
        assert!(!v.passed());
        let d = &v.violations[0];
        assert_eq!(d.checker, "quorum-durability");
        assert!(d.message.contains("is lost"), "{}", d.message);
        assert_eq!(ops_named(&d.message), vec![1, 2]);
        assert_eq!((v.invoked, v.replied), (2, 2));
    }

    #[test]
    fn a_history_whose_reads_see_the_acknowledged_writes_passes() {
        let v1 = version(1, 1);
        let v2 = version(2, 2);
        let h = vec![
            HistoryLine::invoke(10, 0, 1, 0, Op::Put { key: 5, value: 1 }),
            HistoryLine::reply(20, 0, 1, 0, Reply::Written(v1.clone(), 0b011)),
            HistoryLine::invoke(21, 0, 2, 1, Op::Put { key: 5, value: 2 }),
            HistoryLine::lost(30, 0, 2, 1, "no answer"),
            HistoryLine::rejected(31, 0, 3, 1, Op::Delete { key: 5 }, "refused"),
            HistoryLine::invoke(40, 1, 4, 2, Op::Get { key: 5, all: false }),
            HistoryLine::reply(
                50,
                1,
                4,
                2,
                Reply::Got(
                    sibs(std::slice::from_ref(&v2)),
                    vec![(2, sibs(std::slice::from_ref(&v2)))],
                ),
            ),
        ];
        let v = check_history(&params(), &h, true).unwrap();
        assert!(v.passed(), "{:?}", v.violations);
        assert_eq!((v.invoked, v.replied, v.lost, v.rejected), (3, 2, 1, 1));
        assert_eq!(v.linearizability(&params()), (1, 0));
        assert!(v.staleness_table().contains("N=3 R=2 W=2"));
    }

    #[test]
    fn a_malformed_history_is_an_error_naming_the_line() {
        let reply = HistoryLine::reply(20, 0, 1, 0, Reply::Failed);
        let e = check_history(&params(), &[reply], false).unwrap_err();
        assert!(e.contains("line 1") && e.contains("never invoked"), "{e}");
        let inv = HistoryLine::invoke(10, 0, 1, 0, Op::Digest);
        let e = check_history(&params(), &[inv.clone(), inv], false).unwrap_err();
        assert!(e.contains("line 2") && e.contains("twice"), "{e}");
        let mut back = HistoryLine::nemesis(5, "heal".into());
        let late = HistoryLine::nemesis(9, "kill n0".into());
        back.event = "teleport".into();
        let e = check_history(&params(), &[late, back], false).unwrap_err();
        assert!(e.contains("backwards"), "{e}");
    }
}
