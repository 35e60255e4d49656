//! Simulated time: an integer count of nanoseconds since the start of a run.
//!
//! Integers make event order exact and platform-independent: two events scheduled for the
//! same instant really are simultaneous, and no rounding drifts a clock over 10^11 steps.
//! A u64 of nanoseconds spans 584 years of simulated time.

/// Simulated time or a duration, in nanoseconds.
pub type Nanos = u64;

pub const NS_PER_US: Nanos = 1_000;
pub const NS_PER_MS: Nanos = 1_000_000;
pub const NS_PER_S: Nanos = 1_000_000_000;

/// Seconds as f64, for reporting only (never for ordering).
pub fn secs(t: Nanos) -> f64 {
    t as f64 / NS_PER_S as f64
}

/// Converts seconds to nanoseconds, rounding to the nearest nanosecond and saturating.
pub fn from_secs_f64(s: f64) -> Nanos {
    if s.is_nan() || s <= 0.0 {
        0
    } else if s >= u64::MAX as f64 / NS_PER_S as f64 {
        u64::MAX
    } else {
        (s * NS_PER_S as f64).round() as Nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(from_secs_f64(1.5), 1_500_000_000);
        assert_eq!(secs(250 * NS_PER_MS), 0.25);
        assert_eq!(from_secs_f64(-1.0), 0);
        assert_eq!(from_secs_f64(f64::INFINITY), u64::MAX);
    }
}
