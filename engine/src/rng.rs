//! Randomness, injected and seeded. Engine code takes a [`DetRng`] instead of reading OS
//! randomness, so that a run is a function of its seed.
//!
//! Sub-streams: [`DetRng::fork`] derives an independent generator for a named component
//! (`"node/3/disk"`, `"net"`). ChaCha has 2^64 streams per key, so a fork is a different
//! stream of the same key rather than a reseed from the parent's output: adding a component,
//! or drawing more numbers in one, never reshuffles the choices of another.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic random number generator (ChaCha8) with named sub-streams.
#[derive(Clone, Debug)]
pub struct DetRng {
    seed: u64,
    inner: ChaCha8Rng,
}

/// FNV-1a, 64-bit: a stable hash for stream names (std's hasher is randomised per process).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A seed for a process on a real machine: wall-clock nanoseconds mixed with the process id.
///
/// For the real runtimes only (the `seedbed` command on a disk, the server, a cluster node),
/// which print or log it so a run can be redone; the simulator never calls it — its seeds come
/// from the command line and its streams from [`DetRng::fork`].
pub fn os_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

impl DetRng {
    /// The root generator of a run.
    pub fn new(seed: u64) -> Self {
        DetRng {
            seed,
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The seed this generator (or its root) was made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// An independent generator for the component called `name`; the same seed and name always
    /// give the same stream, whatever else has been drawn.
    pub fn fork(&self, name: &str) -> DetRng {
        let mut inner = ChaCha8Rng::seed_from_u64(self.seed);
        inner.set_stream(stable_hash(name.as_bytes()));
        DetRng {
            seed: self.seed,
            inner,
        }
    }

    /// A uniform number in `0..n` (`n > 0`), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "DetRng::below(0)");
        // Lemire's multiply-shift with rejection.
        loop {
            let x = self.inner.next_u64();
            let m = u128::from(x) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number in `lo..=hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "DetRng::range_inclusive({lo}, {hi})");
        if lo == 0 && hi == u64::MAX {
            return self.inner.next_u64();
        }
        lo + self.below(hi - lo + 1)
    }
}

impl RngCore for DetRng {
    fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.inner.fill_bytes(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = DetRng::new(7);
        let mut b = DetRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(DetRng::new(8).next_u64(), DetRng::new(7).next_u64());
    }

    #[test]
    fn forks_are_independent_of_parent_draws() {
        let mut parent = DetRng::new(42);
        let before = parent.fork("disk").next_u64();
        for _ in 0..10 {
            parent.next_u64();
        }
        assert_eq!(parent.fork("disk").next_u64(), before);
        assert_ne!(parent.fork("net").next_u64(), before);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = DetRng::new(1);
        for n in [1, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }
}
