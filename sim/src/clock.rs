//! Each node's own clock: the world's virtual time seen through a skew, a drift and jumps.
//!
//! Real machines disagree about the time. A node's local clock reads
//! `LOCAL_BOOT_NS + global + global * drift_ppm / 1e6 + offset`, where `offset` starts at the
//! node's skew and moves when the fault injector jumps the clock. Protocol code that compares
//! timestamps from two nodes, or trusts a lease, meets that disagreement here.
//!
//! Every clock starts at [`LOCAL_BOOT_NS`] (an hour), not at zero, so that a negative skew or a
//! backward jump moves it back without pinning it at zero. A clock pinned at zero stands still
//! until the world catches up — no real clock does that, and it made every local deadline
//! ("resend in 50 ms", "visible again in 200 ms", "my lease ends in 180 ms") wait for seconds
//! (issue #20: the events workload's outbox, queue and worker leases all stalled on it).
//!
//! [`NodeClock`] also implements the engine's [`Clock`] trait, so engine code running inside a
//! node (the LSM's TTL checks, UUIDv7 version ids) reads the node's skewed time, not the world's.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use seedbed_engine::clock::{Clock, VIRTUAL_EPOCH_MILLIS};

/// What every node's clock reads at world time zero, before its skew: one hour (the machines
/// have been up a while). Larger than any skew and backward jump a plan can draw, so local
/// time never reaches zero; see the module docs.
pub const LOCAL_BOOT_NS: u64 = 3_600 * 1_000_000_000;

/// Bound on drift: ±1000 ppm is a terrible crystal (86 s a day); anything beyond is a config typo.
pub const DRIFT_PPM_MAX: i64 = 1_000;

/// The world's time, shared read-only with every node's clock.
///
/// An atomic only because the engine's [`Clock`] trait demands `Send + Sync`; the simulator is
/// strictly sequential and is the only writer.
#[derive(Debug, Default)]
pub struct GlobalTime {
    nanos: AtomicU64,
}

impl GlobalTime {
    /// Time zero.
    pub fn new() -> Self {
        GlobalTime::default()
    }

    /// The world's time in nanoseconds.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.nanos.load(Ordering::Relaxed)
    }

    /// Move to `t_ns`; time never goes backwards.
    #[inline]
    pub fn set(&self, t_ns: u64) {
        assert!(t_ns >= self.now_ns(), "world time went backwards");
        self.nanos.store(t_ns, Ordering::Relaxed);
    }
}

/// One node's clock; see the module docs.
#[derive(Debug)]
pub struct NodeClock {
    global: Arc<GlobalTime>,
    drift_ppm: i64,
    offset_ns: AtomicI64,
}

impl NodeClock {
    /// A clock `skew_ns` ahead of (negative: behind) the world that gains `drift_ppm` parts per
    /// million.
    pub fn new(global: Arc<GlobalTime>, skew_ns: i64, drift_ppm: i64) -> Self {
        assert!(
            drift_ppm.abs() <= DRIFT_PPM_MAX,
            "drift {drift_ppm} ppm beyond ±{DRIFT_PPM_MAX}"
        );
        NodeClock {
            global,
            drift_ppm,
            offset_ns: AtomicI64::new(skew_ns),
        }
    }

    /// The node's local time in nanoseconds: [`LOCAL_BOOT_NS`] plus the world's time, skewed,
    /// drifted and jumped (never negative: a clock jumped back beyond its boot reads zero).
    pub fn local_ns(&self) -> u64 {
        self.local_at(self.global.now_ns())
    }

    /// What the node's clock reads when the world's reads `global_ns`.
    pub fn local_at(&self, global_ns: u64) -> u64 {
        let g = i128::from(global_ns);
        let drift = g * i128::from(self.drift_ppm) / 1_000_000;
        let local = i128::from(LOCAL_BOOT_NS)
            + g
            + drift
            + i128::from(self.offset_ns.load(Ordering::Relaxed));
        u64::try_from(local.max(0)).unwrap_or(u64::MAX)
    }

    /// How long in world time a local delay of `local_ns` lasts on this clock (a fast clock
    /// fires its timers early).
    pub fn to_global_delay(&self, local_ns: u64) -> u64 {
        let d = i128::from(local_ns) * 1_000_000 / (1_000_000 + i128::from(self.drift_ppm));
        u64::try_from(d.max(0)).unwrap_or(u64::MAX)
    }

    /// Step the clock by `delta_ns` (NTP correcting it, or an operator setting it wrong).
    pub fn jump(&self, delta_ns: i64) {
        self.offset_ns.fetch_add(delta_ns, Ordering::Relaxed);
    }

    /// The drift in parts per million.
    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }
}

impl Clock for NodeClock {
    fn now_nanos(&self) -> u64 {
        self.local_ns()
    }

    /// The wall clock: [`VIRTUAL_EPOCH_MILLIS`] at local time [`LOCAL_BOOT_NS`] (so a node
    /// without skew reads the epoch at world time zero, as before the boot offset).
    fn unix_millis(&self) -> u64 {
        let since_boot_ms = (i128::from(self.local_ns()) - i128::from(LOCAL_BOOT_NS)) / 1_000_000;
        u64::try_from((i128::from(VIRTUAL_EPOCH_MILLIS) + since_boot_ms).max(0)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_drift_and_jumps_compose() {
        let g = Arc::new(GlobalTime::new());
        let c = NodeClock::new(g.clone(), 5_000, 100);
        assert_eq!(c.local_ns(), LOCAL_BOOT_NS + 5_000);
        assert_eq!(c.unix_millis(), VIRTUAL_EPOCH_MILLIS);
        g.set(1_000_000_000);
        // 1 s + 100 ppm (100 µs) + 5 µs skew.
        assert_eq!(
            c.local_ns(),
            LOCAL_BOOT_NS + 1_000_000_000 + 100_000 + 5_000
        );
        c.jump(-2_000_000_000);
        let back = c.local_ns();
        assert_eq!(back, LOCAL_BOOT_NS - 1_000_000_000 + 100_000 + 5_000);
        g.set(1_010_000_000);
        // A clock jumped back keeps running (it is not pinned at zero).
        assert_eq!(c.local_ns() - back, 10_000_000 + 1_000);
        c.jump(-(LOCAL_BOOT_NS as i64) * 2);
        assert_eq!(c.local_ns(), 0, "a clock jumped before zero reads zero");
        assert!(
            c.to_global_delay(1_000_000) < 1_000_000,
            "fast clock fires early"
        );
    }
}
