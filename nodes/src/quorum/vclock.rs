//! Vector clocks: which versions of a key descend from which.
//!
//! A clock maps an *actor* (the node that coordinated a write) to a counter. Clock `a`
//! *descends* `b` when every counter in `b` is at most the same actor's counter in `a`: whoever
//! wrote `a` had seen `b`. Two clocks where neither descends the other are *concurrent*: their
//! versions are kept side by side as siblings (see [`super::version`]).
//!
//! **Pruning.** A clock holds at most [`VCLOCK_ENTRIES_MAX`] entries; beyond that the entry
//! with the oldest timestamp goes (Riak's `small_vclock` rule). Pruning can make a descendant
//! look concurrent (a spurious sibling, harmless), never the reverse as long as an actor's entry
//! is only dropped from clocks that are already long superseded. With at most one actor per node
//! and [`VCLOCK_ENTRIES_MAX`] above the cluster size, default runs never prune; a unit test
//! exercises the rule.

use serde::{Deserialize, Serialize};

/// Entries a clock keeps at most.
pub const VCLOCK_ENTRIES_MAX: usize = 10;

/// One actor's entry: its counter and the coordinator's local time when it last ticked (used
/// only to choose what to prune).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The actor (a node id).
    pub actor: u32,
    /// How many writes (roughly) this actor coordinated; strictly grows per actor.
    pub counter: u64,
    /// The actor's local clock at its last tick, in nanoseconds.
    pub ts_ns: u64,
}

/// A vector clock, entries sorted by actor. Printed as `[n0:1.7 n2:2.3]`: actor, then the
/// counter as `epoch.sequence` (coordinators put their boot epoch in the high bits). On a
/// wire, a list of entries, sorted and deduplicated when read ([`VClock::from_entries`]).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "Vec<Entry>", into = "Vec<Entry>")]
pub struct VClock {
    entries: Vec<Entry>,
}

impl VClock {
    /// The entries, sorted by actor.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Build from entries (any order); duplicate actors keep the larger counter.
    pub fn from_entries(mut entries: Vec<Entry>) -> VClock {
        entries.sort();
        let mut c = VClock::default();
        for e in entries {
            c.observe(e);
        }
        c
    }

    /// `actor`'s counter (0 if absent).
    pub fn get(&self, actor: u32) -> u64 {
        match self.entries.binary_search_by_key(&actor, |e| e.actor) {
            Ok(i) => self.entries[i].counter,
            Err(_) => 0,
        }
    }

    fn observe(&mut self, e: Entry) {
        match self.entries.binary_search_by_key(&e.actor, |x| x.actor) {
            Ok(i) => {
                let x = &mut self.entries[i];
                if e.counter > x.counter {
                    *x = e;
                }
            }
            Err(i) => self.entries.insert(i, e),
        }
    }

    /// Whether `self` has seen everything `other` has (`self >= other`).
    pub fn descends(&self, other: &VClock) -> bool {
        other.entries.iter().all(|e| self.get(e.actor) >= e.counter)
    }

    /// Whether neither clock descends the other. Only tests ask (the protocol keeps siblings
    /// by [`VClock::descends`] alone).
    #[cfg(test)]
    pub fn concurrent(&self, other: &VClock) -> bool {
        !self.descends(other) && !other.descends(self)
    }

    /// The least clock descending both.
    pub fn merge(&mut self, other: &VClock) {
        for &e in &other.entries {
            self.observe(e);
        }
    }

    /// Tick `actor` to at least `counter_min` (and above its current counter), stamping `ts_ns`;
    /// then prune to [`VCLOCK_ENTRIES_MAX`].
    pub fn tick(&mut self, actor: u32, counter_min: u64, ts_ns: u64) -> u64 {
        let counter = (self.get(actor) + 1).max(counter_min);
        match self.entries.binary_search_by_key(&actor, |x| x.actor) {
            Ok(i) => {
                self.entries[i].counter = counter;
                self.entries[i].ts_ns = ts_ns;
            }
            Err(i) => self.entries.insert(
                i,
                Entry {
                    actor,
                    counter,
                    ts_ns,
                },
            ),
        }
        self.prune(actor);
        counter
    }

    /// Drop the oldest entries (never `keep`) until at most [`VCLOCK_ENTRIES_MAX`] remain.
    fn prune(&mut self, keep: u32) {
        while self.entries.len() > VCLOCK_ENTRIES_MAX {
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.actor != keep)
                .min_by_key(|(_, e)| (e.ts_ns, e.actor))
                .map(|(i, _)| i)
                .expect("more than one entry, so one is not `keep`");
            self.entries.remove(oldest);
        }
    }
}

/// A counter as `epoch.n` (the boot epoch in the high bits, see the coordinator), or `n` when
/// its epoch is 0.
pub fn fmt_counter(counter: u64) -> String {
    if counter >> 40 > 0 {
        format!("{}.{}", counter >> 40, counter & ((1 << 40) - 1))
    } else {
        counter.to_string()
    }
}

impl std::fmt::Display for VClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[")?;
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "n{}:{}", e.actor, fmt_counter(e.counter))?;
        }
        write!(f, "]")
    }
}

impl std::fmt::Debug for VClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl From<Vec<Entry>> for VClock {
    fn from(entries: Vec<Entry>) -> VClock {
        VClock::from_entries(entries)
    }
}

impl From<VClock> for Vec<Entry> {
    fn from(c: VClock) -> Vec<Entry> {
        c.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(pairs: &[(u32, u64)]) -> VClock {
        VClock::from_entries(
            pairs
                .iter()
                .map(|&(actor, counter)| Entry {
                    actor,
                    counter,
                    ts_ns: counter,
                })
                .collect(),
        )
    }

    #[test]
    fn descends_and_concurrency() {
        let a = vc(&[(0, 2), (1, 1)]);
        let b = vc(&[(0, 1)]);
        let c = vc(&[(1, 2)]);
        assert!(a.descends(&b) && !b.descends(&a));
        assert!(a.concurrent(&c));
        assert!(a.descends(&VClock::default()));
        let mut m = a.clone();
        m.merge(&c);
        assert!(m.descends(&a) && m.descends(&c));
        assert_eq!(m.to_string(), "[n0:2 n1:2]");
    }

    #[test]
    fn tick_grows_and_respects_minimum() {
        let mut a = vc(&[(3, 5)]);
        assert_eq!(a.tick(3, 0, 9), 6);
        assert_eq!(a.tick(3, 100, 9), 100);
        assert_eq!(a.tick(4, 0, 9), 1);
    }

    #[test]
    fn pruning_drops_the_oldest_but_never_the_ticking_actor() {
        let mut a = VClock::default();
        for actor in 0..(VCLOCK_ENTRIES_MAX as u32 + 3) {
            a.tick(actor, 0, 1_000 - u64::from(actor));
        }
        assert_eq!(a.entries().len(), VCLOCK_ENTRIES_MAX);
        let last = VCLOCK_ENTRIES_MAX as u32 + 2;
        assert_eq!(
            a.get(last),
            1,
            "the ticking actor stays though it is oldest"
        );
        assert_eq!(a.get(last - 1), 0, "the oldest others went");
    }
}
