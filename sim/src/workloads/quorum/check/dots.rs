//! Dot uniqueness: a coordinator never hands out the same dot twice.
//!
//! A write's *dot* is its writer and the writer's counter in its clock — the one event of the
//! clock that is new. Vector clocks (and the dotted version vectors of Riak, which Dynamo's
//! successors use) rest on each dot naming one write: two versions with one dot compare as
//! the same event, so a merge keeps whichever it saw first and the replicas that saw different
//! ones never agree, however often anti-entropy exchanges them. The promise is checked where it
//! is made: every `Store` a coordinator sends names the dot of its version, and a second
//! version (another key, value or timestamp) under a dot already seen fails the run at once,
//! long before convergence could notice.

use std::collections::BTreeMap;

use crate::check::Checker;
use crate::hash::hash_of;
use crate::node::NodeId;
use crate::time::fmt_nanos;
use crate::workloads::quorum::msg::Msg;
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::vclock::fmt_counter;

/// The dot-uniqueness checker.
#[derive(Debug, Default)]
pub struct Dots {
    /// (writer, counter) → (key, hash of the version, when first seen).
    seen: BTreeMap<(u32, u64), (u32, u64, u64)>,
}

impl Dots {
    /// A fresh checker.
    pub fn new() -> Dots {
        Dots::default()
    }
}

impl Checker<QuorumNode> for Dots {
    fn name(&self) -> &'static str {
        "quorum-dots"
    }

    fn deliver(&mut self, t_ns: u64, from: NodeId, _to: NodeId, msg: &Msg) -> Result<(), String> {
        let Msg::Store { key, version, .. } = msg else {
            return Ok(());
        };
        let dot = (version.writer, version.clock.get(version.writer));
        let h = hash_of(&**version);
        match self.seen.get(&dot) {
            None => {
                self.seen.insert(dot, (*key, h, t_ns));
                Ok(())
            }
            Some(&(k, first, _)) if k == *key && first == h => Ok(()),
            Some(&(k, _, at)) => Err(format!(
                "n{from} handed out dot n{}:{} twice: for key {k} (first sent at {}) and for key {key} ({version:?}) — two writes that compare as one event",
                dot.0,
                fmt_counter(dot.1),
                fmt_nanos(at),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::quorum::vclock::{Entry, VClock};
    use crate::workloads::quorum::version::Version;

    fn store(key: u32, counter: u64, value: u64) -> Msg {
        let clock = VClock::from_entries(vec![Entry {
            actor: 3,
            counter,
            ts_ns: 5,
        }]);
        Msg::Store {
            req: 1,
            key,
            version: Box::new(Version {
                clock,
                ts_ns: 5,
                writer: 3,
                value: Some(value),
            }),
            hint_for: None,
        }
    }

    #[test]
    fn one_version_sent_to_many_replicas_passes() {
        let mut d = Dots::new();
        for to in 0..3 {
            d.deliver(10, 3, to, &store(7, (1 << 40) | 14, 262))
                .unwrap();
        }
        d.deliver(11, 3, 0, &store(7, (1 << 40) | 15, 336)).unwrap();
    }

    #[test]
    fn a_second_version_under_one_dot_fails_and_names_it() {
        let mut d = Dots::new();
        d.deliver(10, 3, 0, &store(7, (1 << 40) | 14, 262)).unwrap();
        let e = d
            .deliver(11, 3, 1, &store(7, (1 << 40) | 14, 336))
            .unwrap_err();
        assert!(e.contains("n3:1.14 twice"), "{e}");
        let mut other = Dots::new();
        other.deliver(10, 3, 0, &store(7, 9, 262)).unwrap();
        assert!(
            other.deliver(12, 3, 0, &store(8, 9, 262)).is_err(),
            "another key, same dot"
        );
    }
}
