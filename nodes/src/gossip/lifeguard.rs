//! Lifeguard (Dadgar, Phillips, Currey: "Lifeguard: Local Health Awareness for More Accurate
//! Failure Detection", 2018), as switchable options so their effect can be measured.
//!
//! SWIM assumes a member that misses an acknowledgement is the one at fault. When the *prober*
//! is the slow one (a stalled process, a saturated CPU), it suspects healthy members and its
//! suspicions go unrefuted because it processes refutations late. Lifeguard's answers:
//! - **Local health awareness** ([`Awareness`]): a node counts evidence that it is itself
//!   unhealthy (failed probes, missing nacks from relays, having to refute a suspicion about
//!   itself) in a score `0..max`, and stretches its probe period and probe timeout by
//!   `score + 1`. A sick node probes less and waits longer, so it accuses less.
//! - **Dynamic suspicion** ([`suspicion_timeout_ns`]): a suspicion starts with a long timeout
//!   that shrinks, logarithmically, as other members independently confirm it. A lone (perhaps
//!   sick) accuser waits long; a suspicion many confirm expires fast.
//! - **Buddy system**: a ping to a suspect carries the suspicion first, so the suspect hears
//!   of it, and refutes, at once.

use crate::time::NANOS_PER_MS;

/// Which Lifeguard options are on (`--set lifeguard=off`, or one by one: `lha`, `dsus`,
/// `buddy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifeguard {
    /// Local health awareness (and the nacks it needs).
    pub lha: bool,
    /// Suspicion timeouts that shrink with confirmations.
    pub dynamic_suspicion: bool,
    /// Suspicions ride first on pings to the suspect.
    pub buddy: bool,
}

impl Lifeguard {
    /// Every option on (memberlist's default).
    pub const ON: Lifeguard = Lifeguard {
        lha: true,
        dynamic_suspicion: true,
        buddy: true,
    };
    /// Plain SWIM.
    pub const OFF: Lifeguard = Lifeguard {
        lha: false,
        dynamic_suspicion: false,
        buddy: false,
    };
}

/// The local health score (memberlist's "awareness"); see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Awareness {
    score: u32,
    max: u32,
}

impl Awareness {
    /// A healthy node whose score can reach `max - 1` (delays up to `max` times longer).
    pub fn new(max: u32) -> Self {
        assert!(max >= 1, "awareness max must be at least 1");
        Awareness { score: 0, max }
    }

    /// Add `delta` (clamped to `0..max`).
    pub fn apply(&mut self, delta: i32) {
        let s = i64::from(self.score) + i64::from(delta);
        self.score = s.clamp(0, i64::from(self.max - 1)) as u32;
    }

    /// The current score.
    pub fn score(&self) -> u32 {
        self.score
    }

    /// Scale a delay by `score + 1`.
    pub fn scale(&self, ns: u64) -> u64 {
        ns * u64::from(self.score + 1)
    }
}

/// memberlist's suspicion timeout: `mult · max(1, log₁₀ n) · period`, the shortest a
/// suspicion lasts (and, without dynamic suspicion, how long every suspicion lasts).
pub fn suspicion_min_ns(mult: u32, nodes: u32, period_ns: u64) -> u64 {
    let scale = f64::from(nodes.max(1)).log10().max(1.0);
    (f64::from(mult) * scale * period_ns as f64) as u64
}

/// Lifeguard's timeout after `confirmations` independent confirmations, with `k` expected:
/// `max(min, max − (max − min) · ln(c + 1) / ln(k + 1))`. With `k = 0` it is `min` at once.
pub fn suspicion_timeout_ns(min_ns: u64, max_ns: u64, k: u32, confirmations: u32) -> u64 {
    assert!(min_ns <= max_ns);
    if k == 0 {
        return min_ns;
    }
    let frac = (f64::from(confirmations) + 1.0).ln() / (f64::from(k) + 1.0).ln();
    let raw = max_ns as f64 - frac * (max_ns - min_ns) as f64;
    (raw.max(min_ns as f64)) as u64
}

/// Milliseconds, for printing timeouts.
pub fn as_ms(ns: u64) -> f64 {
    ns as f64 / NANOS_PER_MS as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_shrink_with_confirmations_to_the_minimum() {
        let min = suspicion_min_ns(4, 100, 1_000);
        assert_eq!(min, 8_000);
        let max = 6 * min;
        assert_eq!(suspicion_timeout_ns(min, max, 2, 0), max);
        let one = suspicion_timeout_ns(min, max, 2, 1);
        assert!(one < max && one > min, "{one}");
        assert_eq!(suspicion_timeout_ns(min, max, 2, 2), min);
        assert_eq!(suspicion_timeout_ns(min, max, 2, 9), min);
        assert_eq!(suspicion_timeout_ns(min, max, 0, 0), min);
    }

    #[test]
    fn awareness_is_clamped() {
        let mut a = Awareness::new(8);
        a.apply(-3);
        assert_eq!(a.score(), 0);
        a.apply(20);
        assert_eq!((a.score(), a.scale(10)), (7, 80));
        a.apply(-1);
        assert_eq!(a.score(), 6);
    }
}
