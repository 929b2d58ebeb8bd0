//! A latency histogram in the style of HdrHistogram: fixed memory, about 1.6% precision.
//!
//! Values below 128 ns get a bucket each; above that, every power of two is split into 64
//! buckets, so a bucket is at most 1/64 of its value wide. That is 3,776 counters (30 KiB)
//! covering 0 ns to 584 years, whatever the number of samples: a benchmark running for an hour
//! at a million IOPS needs no more memory than one running for a second.

/// Values below this are exact.
const EXACT_NS: u64 = 128;
/// Buckets per power of two above [`EXACT_NS`].
const SUB_BUCKETS: u64 = 64;
/// Bucket count: the exact range plus 57 halvings of 64 buckets.
const BUCKETS: usize = (EXACT_NS + 57 * SUB_BUCKETS) as usize;

/// Counts of latencies in nanoseconds.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max_ns: 0,
        }
    }
}

fn bucket_of(value_ns: u64) -> usize {
    if value_ns < EXACT_NS {
        return value_ns as usize;
    }
    let msb = 63 - u64::from(value_ns.leading_zeros()); // >= 7
    let shift = msb - 6; // top 7 bits kept: top in [64, 128)
    let top = value_ns >> shift;
    debug_assert!((SUB_BUCKETS..2 * SUB_BUCKETS).contains(&top));
    (EXACT_NS + (shift - 1) * SUB_BUCKETS + (top - SUB_BUCKETS)) as usize
}

/// The middle of a bucket's range, the value reported for samples in it.
fn value_of(bucket: usize) -> u64 {
    let b = bucket as u64;
    if b < EXACT_NS {
        return b;
    }
    let shift = (b - EXACT_NS) / SUB_BUCKETS + 1;
    let top = (b - EXACT_NS) % SUB_BUCKETS + SUB_BUCKETS;
    let low = top << shift;
    low + (1u64 << shift) / 2
}

impl Histogram {
    /// Count one latency.
    pub fn record(&mut self, value_ns: u64) {
        let b = bucket_of(value_ns);
        self.counts[b] += 1;
        self.total += 1;
        self.max_ns = self.max_ns.max(value_ns);
    }

    /// Add every latency `other` recorded.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency at quantile `q` (0..=1) in microseconds; 0 for an empty histogram.
    pub fn quantile_us(&self, q: f64) -> f64 {
        assert!((0.0..=1.0).contains(&q), "quantile {q} outside 0..=1");
        if self.total == 0 {
            return 0.0;
        }
        // The smallest value with at least ceil(q * n) samples at or below it.
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return value_of(bucket).min(self.max_ns) as f64 / 1000.0;
            }
        }
        unreachable!("rank <= total")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_within_two_percent() {
        let mut last = 0;
        let mut v = 1u64;
        while v < u64::MAX / 3 {
            let b = bucket_of(v);
            assert!(b >= last, "bucket order at {v}");
            assert!(b < BUCKETS);
            last = b;
            let reported = value_of(b) as f64;
            let err = (reported - v as f64).abs() / v as f64;
            assert!(err <= 1.0 / 64.0, "value {v} reported as {reported}");
            v = v + v / 8 + 1;
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.quantile_us(0.5);
        let p99 = h.quantile_us(0.99);
        let p999 = h.quantile_us(0.999);
        assert!((p50 - 500.0).abs() / 500.0 < 0.02, "p50 {p50}");
        assert!((p99 - 990.0).abs() / 990.0 < 0.02, "p99 {p99}");
        assert!((p999 - 999.0).abs() / 999.0 < 0.02, "p99.9 {p999}");
        assert!(h.quantile_us(1.0) <= 1000.0);
        assert_eq!(Histogram::default().quantile_us(0.5), 0.0);
    }
}
