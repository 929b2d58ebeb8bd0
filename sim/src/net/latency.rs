//! Latency distributions for one network link.

use seedbed_engine::rng::DetRng;
use serde::{Deserialize, Serialize};

use crate::time::us;

/// How long a message takes on a link, drawn per message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Always the same delay.
    Fixed {
        /// The delay in microseconds.
        us: u64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Shortest delay in microseconds.
        min_us: u64,
        /// Longest delay in microseconds.
        max_us: u64,
    },
    /// Mostly uniform, with a slow tail: with probability `tail_p` the delay is uniform between
    /// `max_us` and `tail_max_us` (a congested switch, a GC pause on the far side).
    Tail {
        /// Shortest delay in microseconds.
        min_us: u64,
        /// Longest ordinary delay in microseconds.
        max_us: u64,
        /// Probability of a tail delay.
        tail_p: f64,
        /// Longest tail delay in microseconds.
        tail_max_us: u64,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform {
            min_us: 100,
            max_us: 1_000,
        }
    }
}

impl Latency {
    /// Check bounds; `what` names the link in the error.
    pub fn validate(&self, what: &str) -> Result<(), String> {
        match *self {
            Latency::Fixed { .. } => Ok(()),
            Latency::Uniform { min_us, max_us } if min_us > max_us => {
                Err(format!("{what}: latency min_us {min_us} > max_us {max_us}"))
            }
            Latency::Uniform { .. } => Ok(()),
            Latency::Tail {
                min_us,
                max_us,
                tail_p,
                tail_max_us,
            } => {
                if min_us > max_us || max_us > tail_max_us {
                    Err(format!("{what}: latency needs min_us <= max_us <= tail_max_us, got {min_us}, {max_us}, {tail_max_us}"))
                } else if !(0.0..=1.0).contains(&tail_p) {
                    Err(format!("{what}: tail_p {tail_p} is not a probability"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// This distribution with every delay multiplied by `factor` (a slow link).
    pub fn scaled(&self, factor: u64) -> Latency {
        match *self {
            Latency::Fixed { us } => Latency::Fixed { us: us * factor },
            Latency::Uniform { min_us, max_us } => Latency::Uniform {
                min_us: min_us * factor,
                max_us: max_us * factor,
            },
            Latency::Tail {
                min_us,
                max_us,
                tail_p,
                tail_max_us,
            } => Latency::Tail {
                min_us: min_us * factor,
                max_us: max_us * factor,
                tail_p,
                tail_max_us: tail_max_us * factor,
            },
        }
    }

    /// One delay in nanoseconds.
    #[inline]
    pub fn sample_ns(&self, rng: &mut DetRng) -> u64 {
        match *self {
            Latency::Fixed { us: d } => us(d),
            Latency::Uniform { min_us, max_us } => rng.range_inclusive(us(min_us), us(max_us)),
            Latency::Tail {
                min_us,
                max_us,
                tail_p,
                tail_max_us,
            } => {
                if rng.chance(tail_p) {
                    rng.range_inclusive(us(max_us), us(tail_max_us))
                } else {
                    rng.range_inclusive(us(min_us), us(max_us))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_stay_in_bounds() {
        let mut rng = DetRng::new(3);
        let l = Latency::Tail {
            min_us: 10,
            max_us: 20,
            tail_p: 0.1,
            tail_max_us: 1_000,
        };
        let mut tails = 0;
        for _ in 0..10_000 {
            let d = l.sample_ns(&mut rng);
            assert!((10_000..=1_000_000).contains(&d));
            tails += usize::from(d > 20_000);
        }
        assert!((500..1_500).contains(&tails), "tail share off: {tails}");
        assert!(Latency::Uniform {
            min_us: 5,
            max_us: 1
        }
        .validate("l")
        .is_err());
    }
}
