//! A node's clock: the machine's monotonic clock plus an offset that `seedbed cluster skew`
//! sets, as the simulator skews each node's clock.
//!
//! The offset shifts what the node *reads* (`Ctx::local_ns`, the timestamps its versions carry
//! and last-writer-wins compares), not how fast time passes: timers are durations and run on
//! the unshifted monotonic clock, so a skewed node still probes and retries on time — the same
//! split as the simulator's clock, where skew moves readings and drift moves rates.
//!
//! The base is `CLOCK_MONOTONIC` read directly: one clock for every process on the machine
//! (unlike `Instant`, whose zero is private to a process), so the nodes of a cluster read the
//! same time — as the simulator's nodes read one virtual time — until someone skews one, and a
//! restarted node does not start again from zero (its last-writer-wins timestamps would lose
//! to its own older writes).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use seedbed_engine::clock::{Clock, RealClock};

/// `CLOCK_MONOTONIC` in nanoseconds: shared by every process on the machine, never jumps.
pub fn machine_mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the value we pass and keeps no pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_MONOTONIC is always available on Linux");
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The machine's clock shifted by a settable offset; see the module docs.
#[derive(Debug, Default)]
pub struct SkewedClock {
    base: RealClock,
    offset_ns: AtomicI64,
}

impl SkewedClock {
    /// A clock with no offset, its monotonic time starting now.
    pub fn new() -> Arc<Self> {
        Arc::new(SkewedClock::default())
    }

    /// Set the offset (nanoseconds, either sign).
    pub fn set_offset_ns(&self, offset_ns: i64) {
        self.offset_ns.store(offset_ns, Ordering::Relaxed);
    }

    /// The offset in nanoseconds.
    pub fn offset_ns(&self) -> i64 {
        self.offset_ns.load(Ordering::Relaxed)
    }
}

impl Clock for SkewedClock {
    fn now_nanos(&self) -> u64 {
        machine_mono_ns().saturating_add_signed(self.offset_ns())
    }

    fn unix_millis(&self) -> u64 {
        self.base
            .unix_millis()
            .saturating_add_signed(self.offset_ns() / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_moves_readings_in_both_directions() {
        let c = SkewedClock::new();
        let before = c.now_nanos();
        c.set_offset_ns(300_000_000);
        assert!(c.now_nanos() >= before + 300_000_000);
        c.set_offset_ns(-300_000_000);
        let back = c.now_nanos();
        assert!(back < before + 300_000_000 && back > 0);
        let other = SkewedClock::new();
        assert!(
            other.now_nanos() >= before,
            "every clock reads the machine's time"
        );
    }
}
