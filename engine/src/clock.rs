//! Time, injected. Engine code never reads the wall clock itself: it asks a [`Clock`], which is
//! the real clock on a real disk and the world's virtual clock inside the simulator. That one
//! seam is what makes a run reproducible from its seed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic nanoseconds since an arbitrary start; for durations and timeouts.
    fn now_nanos(&self) -> u64;

    /// Milliseconds since the Unix epoch; for timestamps that leave the node (UUIDv7 version
    /// ids, TTL expiry). May jump (the simulator skews and jumps it on purpose).
    fn unix_millis(&self) -> u64;
}

/// A shared clock handle.
pub type ClockHandle = Arc<dyn Clock>;

/// The machine's clocks.
#[derive(Debug)]
pub struct RealClock {
    start: Instant,
}

impl RealClock {
    /// A real clock whose monotonic time starts now.
    pub fn new() -> Self {
        RealClock {
            start: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn unix_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// Virtual time that moves only when someone advances it: the simulator's world, or the `sim`
/// disk charging latency.
#[derive(Debug, Default)]
pub struct VirtualClock {
    nanos: AtomicU64,
    /// Wall-clock offset: `unix_millis = epoch_millis + nanos / 1e6 + skew`.
    epoch_millis: u64,
}

/// 2026-01-01T00:00:00Z, the default start of virtual wall-clock time: a fixed date keeps traces
/// identical from run to run.
pub const VIRTUAL_EPOCH_MILLIS: u64 = 1_767_225_600_000;

impl VirtualClock {
    /// A clock at virtual time zero whose wall clock reads [`VIRTUAL_EPOCH_MILLIS`].
    pub fn new() -> Self {
        VirtualClock {
            nanos: AtomicU64::new(0),
            epoch_millis: VIRTUAL_EPOCH_MILLIS,
        }
    }

    /// Move time forward by `delta_nanos`.
    pub fn advance(&self, delta_nanos: u64) {
        self.nanos.fetch_add(delta_nanos, Ordering::AcqRel);
    }

    /// Set time to `nanos`; time never goes backwards, so an earlier value is ignored.
    pub fn advance_to(&self, nanos: u64) {
        self.nanos.fetch_max(nanos, Ordering::AcqRel);
    }
}

impl Clock for VirtualClock {
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }

    fn unix_millis(&self) -> u64 {
        self.epoch_millis + self.now_nanos() / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_forward() {
        let c = VirtualClock::new();
        assert_eq!(c.now_nanos(), 0);
        c.advance(1_500_000);
        c.advance_to(1_000);
        assert_eq!(c.now_nanos(), 1_500_000);
        assert_eq!(c.unix_millis(), VIRTUAL_EPOCH_MILLIS + 1);
    }

    #[test]
    fn real_clock_is_monotonic() {
        let c = RealClock::new();
        let a = c.now_nanos();
        let b = c.now_nanos();
        assert!(b >= a);
        assert!(c.unix_millis() > VIRTUAL_EPOCH_MILLIS / 2);
    }
}
