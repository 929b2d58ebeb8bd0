//! The register's checker: every completed operation must fit one total order of stamps that
//! respects real time.
//!
//! For a register whose writes carry unique stamps, linearizability comes down to three rules,
//! each checked as the operation completes:
//! 1. **No going back.** Let `floor` be the highest stamp among operations that completed
//!    before this one was invoked (acknowledged writes, and values returned by reads). A read
//!    must return a stamp `>= floor`; a write's stamp must be `> floor`.
//! 2. **No phantoms.** A read's `(stamp, value)` must be the initial state or a write that was
//!    invoked, with that write's value.
//! 3. **Unique stamps.** Two writes never get the same stamp.
//!
//! Writes that timed out or were lost with a crash may or may not have happened; they raise no
//! floor, and a read may return them.

use std::collections::BTreeMap;

use super::msg::{RegOp, RegReply, Stamp};
use super::node::RegisterNode;
use crate::check::Checker;
use crate::node::{NodeId, OpId};
use crate::time::fmt_nanos;

/// The checker's name.
pub const NAME: &str = "register-linearizable";

/// Operations followed at once, at most (the world's client rate bounds it far lower).
pub const OPS_TRACKED_MAX: usize = 1 << 20;

#[derive(Debug)]
struct Open {
    op: RegOp,
    floor: Stamp,
    invoked_ns: u64,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct LinearizableRegister {
    /// Highest stamp of any completed operation.
    high: Stamp,
    open: BTreeMap<OpId, Open>,
    /// Value of every invoked write (values are unique).
    written: BTreeMap<u64, OpId>,
    /// Stamp → value of every acknowledged write.
    stamps: BTreeMap<Stamp, u64>,
}

impl Checker<RegisterNode> for LinearizableRegister {
    fn name(&self) -> &'static str {
        NAME
    }

    fn invoke(&mut self, t_ns: u64, op_id: OpId, _node: NodeId, op: &RegOp) -> Result<(), String> {
        if self.open.len() >= OPS_TRACKED_MAX {
            return Err(format!("more than {OPS_TRACKED_MAX} operations open"));
        }
        if let RegOp::Write(v) = op {
            if self.written.insert(*v, op_id).is_some() {
                return Err(format!(
                    "value {v} written twice: the workload must write unique values"
                ));
            }
        }
        self.open.insert(
            op_id,
            Open {
                op: *op,
                floor: self.high,
                invoked_ns: t_ns,
            },
        );
        Ok(())
    }

    fn complete(&mut self, _t_ns: u64, op_id: OpId, reply: &RegReply) -> Result<(), String> {
        let Some(open) = self.open.remove(&op_id) else {
            return Ok(());
        };
        let when = fmt_nanos(open.invoked_ns);
        match (open.op, *reply) {
            (_, RegReply::TimedOut) => {}
            (RegOp::Write(v), RegReply::Written(stamp)) => {
                if stamp <= open.floor {
                    return Err(format!(
                        "write({v}) (op {op_id}, invoked {when}) got stamp {stamp:?}, not above {:?} which completed before it began",
                        open.floor
                    ));
                }
                if let Some(other) = self.stamps.insert(stamp, v) {
                    return Err(format!("writes of {other} and {v} share stamp {stamp:?}"));
                }
                self.high = self.high.max(stamp);
            }
            (RegOp::Read, RegReply::Read { stamp, value }) => {
                if stamp < open.floor {
                    return Err(format!(
                        "stale read: op {op_id} (invoked {when}) returned {value} with stamp {stamp:?}, but stamp {:?} completed before the read began",
                        open.floor
                    ));
                }
                let known = stamp == Stamp::default() && value == 0;
                if !known && !self.written.contains_key(&value) {
                    return Err(format!(
                        "read op {op_id} returned {value}, which no write wrote"
                    ));
                }
                if let Some(&v) = self.stamps.get(&stamp) {
                    if v != value {
                        return Err(format!(
                            "read op {op_id} returned {value} for stamp {stamp:?}, which wrote {v}"
                        ));
                    }
                }
                self.high = self.high.max(stamp);
            }
            (op, r) => {
                return Err(format!(
                    "op {op_id} {op:?} got the wrong kind of reply {r:?}"
                ))
            }
        }
        Ok(())
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        self.open.remove(&op_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(counter: u64) -> Stamp {
        Stamp {
            counter,
            writer: 0,
            nonce: counter,
        }
    }

    #[test]
    fn catches_a_read_older_than_a_completed_write() {
        let mut c = LinearizableRegister::default();
        c.invoke(0, 1, 0, &RegOp::Write(5)).unwrap();
        c.complete(1, 1, &RegReply::Written(s(1))).unwrap();
        c.invoke(2, 2, 1, &RegOp::Read).unwrap();
        let e = c
            .complete(
                3,
                2,
                &RegReply::Read {
                    stamp: Stamp::default(),
                    value: 0,
                },
            )
            .unwrap_err();
        assert!(e.contains("stale read"), "{e}");
    }

    #[test]
    fn concurrent_read_may_see_either_and_phantoms_fail() {
        let mut c = LinearizableRegister::default();
        c.invoke(0, 1, 0, &RegOp::Write(5)).unwrap();
        c.invoke(0, 2, 1, &RegOp::Read).unwrap();
        c.complete(
            1,
            2,
            &RegReply::Read {
                stamp: Stamp::default(),
                value: 0,
            },
        )
        .unwrap();
        c.complete(2, 1, &RegReply::Written(s(1))).unwrap();
        c.invoke(3, 3, 1, &RegOp::Read).unwrap();
        let e = c
            .complete(
                4,
                3,
                &RegReply::Read {
                    stamp: s(2),
                    value: 99,
                },
            )
            .unwrap_err();
        assert!(e.contains("no write wrote"), "{e}");
    }
}
