//! The checkers' own order on versions: when one version has seen another.
//!
//! Every checker that decides "this read still holds that write, or a successor" or "this
//! version supersedes that one" asks here, never the node's [`Version::covers`] /
//! [`Siblings::covers`] / [`VClock::descends`]: a checker that judged with the code it judges
//! would pass whatever that code gets wrong (`covers -> true` makes every write look kept).
//! Written from the definitions, on the clock's raw entries and the versions' fields:
//!
//! - **Vector clocks** (Lamport 1978; Fidge, Mattern 1988; Dynamo §4.4): clock `a` *dominates*
//!   `b` when for every actor, `b`'s counter is at most `a`'s — an actor a clock has no entry
//!   for counts 0. A version has seen another when its clock dominates the other's (equal
//!   clocks included: the same write).
//! - **Last writer wins** (Cassandra; Dynamo §4.4 mentions it as the simple alternative): the
//!   version with the greater `(timestamp, writer)` wins. Ties — one writer, one timestamp, as
//!   when its clock jumped back — are broken by the rest of the version (its clock's entries in
//!   order, then its value: a tombstone below any value), a total order every replica applies
//!   alike, so a version has seen another when it is not below it in that order.

use crate::workloads::quorum::vclock::VClock;
use crate::workloads::quorum::version::{Mode, Siblings, Version};

/// `actor`'s counter in `c`: the largest among its entries for `actor`, 0 when it has none.
fn counter_of(c: &VClock, actor: u32) -> u64 {
    c.entries()
        .iter()
        .filter(|e| e.actor == actor)
        .map(|e| e.counter)
        .max()
        .unwrap_or(0)
}

/// Whether clock `a` dominates clock `b`: no actor's counter in `b` exceeds its counter in
/// `a` (equal clocks dominate each other).
pub fn dominates(a: &VClock, b: &VClock) -> bool {
    b.entries()
        .iter()
        .all(|e| e.counter <= counter_of(a, e.actor))
}

/// An actor whose counter in `b` exceeds its counter in `a` — why `a` does not dominate `b`:
/// (actor, `a`'s counter, `b`'s counter).
pub fn missing(a: &VClock, b: &VClock) -> Option<(u32, u64, u64)> {
    b.entries().iter().find_map(|e| {
        let have = counter_of(a, e.actor);
        (e.counter > have).then_some((e.actor, have, e.counter))
    })
}

/// A last-writer-wins rank: `(timestamp, writer, clock entries as (actor, counter, time),
/// value)`, compared lexicographically (a tombstone, `None`, ranks below every value).
type LwwRank = (u64, u32, Vec<(u32, u64, u64)>, Option<u64>);

/// The last-writer-wins rank of a version.
fn lww_rank(v: &Version) -> LwwRank {
    let clock = v
        .clock
        .entries()
        .iter()
        .map(|e| (e.actor, e.counter, e.ts_ns))
        .collect();
    (v.ts_ns, v.writer, clock, v.value)
}

/// Whether version `a` has seen version `b` in `mode`: its clock dominates `b`'s (vector
/// clocks), or it is not below `b` in the last-writer-wins order.
pub fn covers(a: &Version, b: &Version, mode: Mode) -> bool {
    match mode {
        Mode::VClock => dominates(&a.clock, &b.clock),
        Mode::Lww => lww_rank(a) >= lww_rank(b),
    }
}

/// Whether some version of `s` has seen `v` (it is stored there, or superseded).
pub fn set_covers(s: &Siblings, v: &Version, mode: Mode) -> bool {
    s.versions().iter().any(|x| covers(x, v, mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::quorum::vclock::Entry;

    fn vc(pairs: &[(u32, u64)]) -> VClock {
        VClock::from_entries(
            pairs
                .iter()
                .map(|&(actor, counter)| Entry {
                    actor,
                    counter,
                    ts_ns: 7,
                })
                .collect(),
        )
    }

    fn ver(clock: &[(u32, u64)], ts_ns: u64, writer: u32, value: Option<u64>) -> Version {
        Version {
            clock: vc(clock),
            ts_ns,
            writer,
            value,
        }
    }

    #[test]
    fn dominance_is_entrywise_with_absent_actors_at_zero() {
        let a = vc(&[(0, 2), (1, 1)]);
        let b = vc(&[(0, 1)]);
        let c = vc(&[(1, 2)]);
        let empty = VClock::default();
        assert!(dominates(&a, &b) && !dominates(&b, &a));
        assert!(dominates(&a, &a), "a clock dominates itself");
        assert!(!dominates(&a, &c) && !dominates(&c, &a), "concurrent");
        assert!(dominates(&a, &empty) && dominates(&empty, &empty));
        assert!(!dominates(&empty, &b));
        // An entry with counter 0 is the same as no entry.
        let zero = VClock::from_entries(vec![Entry {
            actor: 5,
            counter: 0,
            ts_ns: 1,
        }]);
        assert!(dominates(&empty, &zero) && dominates(&zero, &empty));
        // Actors the dominated clock lacks do not matter; a larger counter anywhere does.
        assert!(dominates(&vc(&[(0, 3), (4, 9)]), &vc(&[(0, 3)])));
        assert!(!dominates(&vc(&[(0, 3), (4, 9)]), &vc(&[(0, 4)])));
        assert!(!dominates(&vc(&[(0, 3)]), &vc(&[(0, 3), (2, 1)])));
        assert_eq!(
            missing(&vc(&[(0, 3)]), &vc(&[(0, 3), (2, 1)])),
            Some((2, 0, 1))
        );
        assert_eq!(missing(&a, &b), None);
        assert_eq!(missing(&b, &a), Some((0, 1, 2)));
    }

    #[test]
    fn vclock_mode_covers_by_dominance_only() {
        let old = ver(&[(0, 1)], 900, 0, Some(1));
        let new = ver(&[(0, 1), (1, 1)], 100, 1, Some(2)); // an older timestamp: irrelevant
        let other = ver(&[(2, 1)], 950, 2, Some(3));
        assert!(covers(&new, &old, Mode::VClock) && !covers(&old, &new, Mode::VClock));
        assert!(covers(&old, &old, Mode::VClock));
        assert!(!covers(&new, &other, Mode::VClock) && !covers(&other, &new, Mode::VClock));
        let mut s = Siblings::default();
        s.add(new.clone(), Mode::VClock);
        s.add(other.clone(), Mode::VClock);
        assert!(set_covers(&s, &old, Mode::VClock));
        assert!(set_covers(&s, &other, Mode::VClock));
        let third = ver(&[(3, 1)], 1, 3, None);
        assert!(!set_covers(&s, &third, Mode::VClock));
        assert!(!set_covers(&Siblings::default(), &old, Mode::VClock));
    }

    #[test]
    fn lww_mode_orders_by_timestamp_then_writer_then_the_rest() {
        let early = ver(&[(0, 1)], 100, 0, Some(1));
        let late = ver(&[(0, 1)], 200, 0, Some(2));
        assert!(covers(&late, &early, Mode::Lww) && !covers(&early, &late, Mode::Lww));
        // The clock does not decide: a later timestamp wins over a descendant clock.
        let descendant = ver(&[(0, 2), (1, 1)], 150, 1, Some(3));
        assert!(covers(&late, &descendant, Mode::Lww));
        assert!(!covers(&descendant, &late, Mode::Lww));
        // Equal timestamps: the greater writer.
        let w1 = ver(&[(1, 1)], 100, 1, Some(4));
        let w2 = ver(&[(2, 1)], 100, 2, Some(5));
        assert!(covers(&w2, &w1, Mode::Lww) && !covers(&w1, &w2, Mode::Lww));
        // One writer, one timestamp: the clock's entries, then the value, break the tie.
        let a = ver(&[(0, 1)], 100, 0, Some(9));
        let b = ver(&[(0, 2)], 100, 0, Some(1));
        assert!(covers(&b, &a, Mode::Lww) && !covers(&a, &b, Mode::Lww));
        let tomb = ver(&[(0, 1)], 100, 0, None);
        assert!(covers(&a, &tomb, Mode::Lww) && !covers(&tomb, &a, Mode::Lww));
        assert!(covers(&a, &a, Mode::Lww), "a version covers itself");
    }
}
