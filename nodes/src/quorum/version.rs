//! Versions and sibling sets: what a replica stores for one key.
//!
//! A [`Version`] is one write: a value (or a tombstone for a delete), the vector clock the
//! coordinator gave it, and the coordinator's local timestamp. A replica keeps a [`Siblings`]
//! set per key: the versions no other version in the set descends.
//!
//! Two merge rules, chosen per run ([`Mode`]):
//! - **vector clocks**: a new version replaces those it descends, is dropped if one in the set
//!   descends it, and is otherwise kept beside them as a sibling. Nothing acknowledged is lost;
//!   concurrency shows up as siblings for the client to reconcile.
//! - **last writer wins**: the set holds one version, the one with the greatest
//!   `(timestamp, writer)`. Timestamps come from skewed node clocks, so a write that happened
//!   later in real time can lose to an earlier one — the lost update `docs/quorum.md` shows.
//!
//! The byte encoding (little-endian) is what goes into the LSM: `count:u16` then per version
//! `tag:u8 (0 tombstone, 1 value)` `value:u64` `ts_ns:u64` `writer:u32` `entries:u8` and per
//! entry `actor:u32 counter:u64 ts_ns:u64`.

use serde::{Deserialize, Serialize};

use super::vclock::{Entry, VClock};

/// How concurrent writes are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Vector clocks and siblings (Dynamo, Riak).
    VClock,
    /// Last writer wins by the coordinator's (skewed) local timestamp (Cassandra).
    Lww,
}

/// One write of a key. Printed as `value@clock` (`del@clock` for a tombstone).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version {
    /// Its causal history.
    pub clock: VClock,
    /// The coordinator's local clock when it wrote, in nanoseconds (LWW order, client tie-break).
    pub ts_ns: u64,
    /// The coordinating node.
    pub writer: u32,
    /// The value; `None` is a tombstone (a delete).
    pub value: Option<u64>,
}

impl Version {
    /// Whether this version has seen `other` (by clock in [`Mode::VClock`], by
    /// `(ts_ns, writer)` order in [`Mode::Lww`]).
    ///
    /// LWW ties — equal timestamps from one writer, as when a clock jumped back or reads 0 —
    /// are broken by the rest of the version (clock, then value), a total order: without it
    /// each replica would keep whichever tied version reached it first and never converge.
    pub fn covers(&self, other: &Version, mode: Mode) -> bool {
        match mode {
            Mode::VClock => self.clock.descends(&other.clock),
            Mode::Lww => {
                (self.ts_ns, self.writer, &self.clock, self.value)
                    >= (other.ts_ns, other.writer, &other.clock, other.value)
            }
        }
    }
}

/// Versions of one key that no other in the set supersedes, in a canonical order. Printed as
/// `{v1, v2}`. On a wire, a list of versions put back in the canonical order when read (as
/// [`Siblings::decode`] does with stored bytes).
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<Version>", into = "Vec<Version>")]
pub struct Siblings {
    versions: Vec<Version>,
}

/// Why stored bytes are not a sibling set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("sibling set does not decode: {0}")]
pub struct DecodeError(pub &'static str);

impl Siblings {
    /// The versions, in canonical order.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// A set of one.
    pub fn one(v: Version) -> Siblings {
        Siblings { versions: vec![v] }
    }

    /// Add `v` by `mode`'s rule; true when the set changed: dropped if a version here covers
    /// it, otherwise it replaces every version it covers. With vector clocks what neither
    /// covers stays as a sibling; last-writer-wins is a total order, so the set keeps one.
    pub fn add(&mut self, v: Version, mode: Mode) -> bool {
        if self.covers(&v, mode) {
            return false;
        }
        self.versions.retain(|s| !v.covers(s, mode));
        let at = self.versions.binary_search(&v).unwrap_or_else(|i| i);
        self.versions.insert(at, v);
        true
    }

    /// Add every version of `other`; true when the set changed.
    pub fn merge(&mut self, other: &Siblings, mode: Mode) -> bool {
        let mut changed = false;
        for v in &other.versions {
            changed |= self.add(v.clone(), mode);
        }
        changed
    }

    /// The clock that descends every version: the context a client's next put carries.
    pub fn context(&self) -> VClock {
        let mut c = VClock::default();
        for v in &self.versions {
            c.merge(&v.clock);
        }
        c
    }

    /// Whether some version here covers `v` (it is stored, or causally superseded).
    pub fn covers(&self, v: &Version, mode: Mode) -> bool {
        self.versions.iter().any(|s| s.covers(v, mode))
    }

    /// The client's reconciliation rule: the version with the greatest `(ts_ns, writer)`
    /// (a tombstone counts as a version). `None` when there is no version.
    pub fn reconciled(&self) -> Option<&Version> {
        self.versions.iter().max_by_key(|v| (v.ts_ns, v.writer))
    }

    /// The stored bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&(self.versions.len() as u16).to_le_bytes());
        for v in &self.versions {
            out.push(u8::from(v.value.is_some()));
            out.extend_from_slice(&v.value.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&v.ts_ns.to_le_bytes());
            out.extend_from_slice(&v.writer.to_le_bytes());
            let es = v.clock.entries();
            assert!(es.len() <= usize::from(u8::MAX), "clock is pruned");
            out.push(es.len() as u8);
            for e in es {
                out.extend_from_slice(&e.actor.to_le_bytes());
                out.extend_from_slice(&e.counter.to_le_bytes());
                out.extend_from_slice(&e.ts_ns.to_le_bytes());
            }
        }
    }

    /// Parse stored bytes; every length is checked.
    pub fn decode(mut b: &[u8]) -> Result<Siblings, DecodeError> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
            if b.len() < n {
                return Err(DecodeError("truncated"));
            }
            let (h, t) = b.split_at(n);
            *b = t;
            Ok(h)
        }
        fn u64_of(b: &mut &[u8]) -> Result<u64, DecodeError> {
            Ok(u64::from_le_bytes(take(b, 8)?.try_into().expect("8 bytes")))
        }
        fn u32_of(b: &mut &[u8]) -> Result<u32, DecodeError> {
            Ok(u32::from_le_bytes(take(b, 4)?.try_into().expect("4 bytes")))
        }
        let count = u16::from_le_bytes(take(&mut b, 2)?.try_into().expect("2 bytes"));
        let mut versions = Vec::with_capacity(usize::from(count).min(64));
        for _ in 0..count {
            let tag = take(&mut b, 1)?[0];
            let value = u64_of(&mut b)?;
            let value = match tag {
                0 => None,
                1 => Some(value),
                _ => return Err(DecodeError("bad value tag")),
            };
            let ts_ns = u64_of(&mut b)?;
            let writer = u32_of(&mut b)?;
            let n = take(&mut b, 1)?[0];
            let mut entries = Vec::with_capacity(usize::from(n));
            for _ in 0..n {
                entries.push(Entry {
                    actor: u32_of(&mut b)?,
                    counter: u64_of(&mut b)?,
                    ts_ns: u64_of(&mut b)?,
                });
            }
            versions.push(Version {
                clock: VClock::from_entries(entries),
                ts_ns,
                writer,
                value,
            });
        }
        if !b.is_empty() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(Siblings::from(versions))
    }
}

impl From<Vec<Version>> for Siblings {
    /// The versions in the canonical order (as read from a disk or a wire; not merged).
    fn from(mut versions: Vec<Version>) -> Siblings {
        versions.sort();
        Siblings { versions }
    }
}

impl From<Siblings> for Vec<Version> {
    fn from(s: Siblings) -> Vec<Version> {
        s.versions
    }
}

/// `value@clock/writer@local-time`: e.g. `55@[n1:1.20 n4:1.9]/n1@48.123ms`, `del@...` for a
/// tombstone. The timestamp is what last-writer-wins compares.
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value {
            Some(v) => write!(f, "{v}@{}", self.clock)?,
            None => write!(f, "del@{}", self.clock)?,
        }
        let ms = self.ts_ns / 1_000_000;
        let us = (self.ts_ns / 1_000) % 1_000;
        write!(f, "/n{}@{ms}.{us:03}ms", self.writer)
    }
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Debug for Siblings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{")?;
        for (i, v) in self.versions.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{v}")?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(actor: u32, counter: u64, value: Option<u64>, base: Option<&VClock>) -> Version {
        let mut clock = base.cloned().unwrap_or_default();
        clock.tick(actor, counter, counter);
        Version {
            clock,
            ts_ns: counter,
            writer: actor,
            value,
        }
    }

    #[test]
    fn concurrent_writes_become_siblings_and_a_descendant_replaces_them() {
        let mut s = Siblings::default();
        let a = ver(0, 1, Some(1), None);
        let b = ver(1, 1, Some(2), None);
        assert!(s.add(a.clone(), Mode::VClock));
        assert!(s.add(b.clone(), Mode::VClock));
        assert_eq!(s.versions().len(), 2);
        assert!(
            !s.add(a.clone(), Mode::VClock),
            "a duplicate changes nothing"
        );
        let c = ver(2, 1, None, Some(&s.context()));
        assert!(s.add(c.clone(), Mode::VClock));
        assert_eq!(s.versions(), std::slice::from_ref(&c));
        assert!(s.covers(&a, Mode::VClock) && s.covers(&b, Mode::VClock));
        assert!(!s.add(a, Mode::VClock), "an old version stays superseded");
    }

    #[test]
    fn lww_keeps_the_greatest_timestamp() {
        let mut s = Siblings::default();
        s.add(ver(0, 5, Some(1), None), Mode::Lww);
        assert!(!s.add(ver(1, 3, Some(2), None), Mode::Lww));
        assert_eq!(s.versions()[0].value, Some(1));
        assert!(s.add(ver(1, 9, Some(3), None), Mode::Lww));
        assert_eq!(s.versions().len(), 1);
    }

    #[test]
    fn lww_ties_break_the_same_way_everywhere() {
        let a = ver(0, 5, Some(1), None);
        let mut b = ver(0, 5, Some(2), None);
        b.clock.tick(0, 0, 5); // same writer and timestamp, a later clock
        let (mut x, mut y) = (Siblings::default(), Siblings::default());
        x.add(a.clone(), Mode::Lww);
        x.add(b.clone(), Mode::Lww);
        y.add(b, Mode::Lww);
        y.add(a, Mode::Lww);
        assert_eq!(x, y, "arrival order does not decide");
    }

    #[test]
    fn encoding_round_trips_and_rejects_garbage() {
        let mut s = Siblings::default();
        s.add(ver(0, 1, Some(7), None), Mode::VClock);
        s.add(ver(3, 2, None, None), Mode::VClock);
        let mut b = Vec::new();
        s.encode(&mut b);
        assert_eq!(Siblings::decode(&b).unwrap(), s);
        assert!(Siblings::decode(&b[..b.len() - 1]).is_err());
        let mut bad = b.clone();
        bad[2] = 9;
        assert_eq!(Siblings::decode(&bad), Err(DecodeError("bad value tag")));
        b.push(0);
        assert_eq!(Siblings::decode(&b), Err(DecodeError("trailing bytes")));
    }
}
