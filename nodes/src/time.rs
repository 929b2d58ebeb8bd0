//! Time as nanoseconds in a plain `u64`, and the conversions protocol code and the simulator
//! share. (Which clock the nanoseconds come from is the runtime's business: virtual time in the
//! simulator, the monotonic clock in a real process.)

/// Nanoseconds in a microsecond.
pub const NANOS_PER_US: u64 = 1_000;
/// Nanoseconds in a millisecond.
pub const NANOS_PER_MS: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// `ms` milliseconds in nanoseconds, saturating.
pub const fn ms(ms: u64) -> u64 {
    ms.saturating_mul(NANOS_PER_MS)
}

/// `us` microseconds in nanoseconds, saturating.
pub const fn us(us: u64) -> u64 {
    us.saturating_mul(NANOS_PER_US)
}

/// A virtual time as `seconds.micros` for people (`1.250300s`).
pub fn fmt_nanos(t_ns: u64) -> String {
    format!(
        "{}.{:06}s",
        t_ns / NANOS_PER_SEC,
        (t_ns % NANOS_PER_SEC) / NANOS_PER_US
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_and_micros() {
        assert_eq!(fmt_nanos(ms(1250) + us(300) + 7), "1.250300s");
        assert_eq!(ms(u64::MAX), u64::MAX);
    }
}
