//! Portable, value-stable random streams.
//!
//! Every stream is a ChaCha8 generator (a named algorithm whose output is fixed by its
//! specification, unlike `StdRng`). Its 256-bit key is derived from the experiment seed;
//! its 64-bit stream id from (sweep point, replication, purpose) — never from the order
//! in which runs execute or from a thread. The technique is deliberately *not* part of
//! the key: at one point and replication, every technique draws the same update times,
//! RTTs and start phases (common random numbers), so differences between techniques are
//! differences of technique, not of luck.
//!
//! Variates are computed with `libm` from 53-bit uniforms we take ourselves, because
//! `f64::ln`/`exp` are documented as platform-dependent: the same seed gives the same
//! bits on every platform. Golden values are pinned in the tests below.

use rand::{Rng, SeedableRng, rngs::ChaCha8Rng};
use sha2::{Digest, Sha256};

/// What a stream is used for. Adding a purpose never changes the others' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// Client round-trip times.
    Rtt = 1,
    /// Client start phases.
    Phase = 2,
    /// Update (or chat message) creation times and targets.
    Updates = 3,
    /// Server service times (exponential service).
    Service = 4,
    /// Poll jitter.
    Jitter = 5,
    /// Reconnection backoff jitter.
    Backoff = 6,
    /// Network drops and outages.
    Drops = 7,
    /// Load-balancer and other tie-breaking choices.
    Balancer = 8,
    /// Session lengths (churn) and Poisson join times.
    Session = 9,
    /// When a draining instance closes each connection (a deploy with jitter).
    Deploy = 10,
}

/// One independent random stream.
pub struct RandomStream {
    rng: ChaCha8Rng,
}

impl RandomStream {
    /// The stream for (seed, point, replication, purpose).
    pub fn new(seed: u64, point: u64, replication: u32, purpose: Purpose) -> Self {
        let key: [u8; 32] = Sha256::new()
            .chain_update(b"rtsim-seed-v1")
            .chain_update(seed.to_le_bytes())
            .finalize()
            .into();
        let id: [u8; 32] = Sha256::new()
            .chain_update(b"rtsim-stream-v1")
            .chain_update(point.to_le_bytes())
            .chain_update(replication.to_le_bytes())
            .chain_update([purpose as u8])
            .finalize()
            .into();
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(u64::from_le_bytes(id[..8].try_into().expect("8 bytes")));
        RandomStream { rng }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n) (n > 0), by Lemire's multiply-shift with rejection,
    /// so it is exactly uniform.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Exponential variate with the given mean.
    #[inline]
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - U is in (0, 1]: the log is finite.
        -mean * libm::log(1.0 - self.uniform())
    }

    /// Standard normal variate (Box–Muller, one of the pair).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }

    /// Log-normal variate with the given median and shape σ.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.standard_normal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_value_stable() {
        // Golden values: if these change, every published result changes. Do not update
        // them without a version bump and a note.
        let mut s = RandomStream::new(1, 0, 0, Purpose::Updates);
        let got: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        let mut again = RandomStream::new(1, 0, 0, Purpose::Updates);
        let expected: Vec<u64> = (0..3).map(|_| again.next_u64()).collect();
        assert_eq!(got, expected);
        let mut s = RandomStream::new(1, 0, 0, Purpose::Rtt);
        let x = s.exponential(1.0);
        assert_eq!(format!("{x:.12}"), GOLDEN_EXP);
    }

    const GOLDEN_EXP: &str = "0.576170344098";

    #[test]
    fn purposes_points_and_replications_are_independent() {
        let first = |p, r, purpose| RandomStream::new(7, p, r, purpose).next_u64();
        let a = first(0, 0, Purpose::Rtt);
        assert_ne!(a, first(1, 0, Purpose::Rtt));
        assert_ne!(a, first(0, 1, Purpose::Rtt));
        assert_ne!(a, first(0, 0, Purpose::Phase));
        assert_ne!(a, RandomStream::new(8, 0, 0, Purpose::Rtt).next_u64());
    }

    #[test]
    fn uniform_and_below_stay_in_range() {
        let mut s = RandomStream::new(3, 0, 0, Purpose::Jitter);
        for _ in 0..10_000 {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!(s.below(7) < 7);
        }
    }

    #[test]
    fn exponential_mean_is_right() {
        // Mean of 200k draws of Exp(mean 2): standard error 2/sqrt(200k) = 0.0045;
        // 5 standard errors of tolerance.
        let mut s = RandomStream::new(3, 0, 0, Purpose::Service);
        let n = 200_000;
        let mean = (0..n).map(|_| s.exponential(2.0)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.023, "mean {mean}");
    }

    #[test]
    fn lognormal_median_is_right() {
        let mut s = RandomStream::new(3, 0, 0, Purpose::Rtt);
        let mut v: Vec<f64> = (0..100_001).map(|_| s.lognormal(0.08, 0.5)).collect();
        v.sort_by(f64::total_cmp);
        let median = v[50_000];
        // Median standard error ≈ 1.2533·σ·m/√n ≈ 0.00016; allow 5 of them.
        assert!((median - 0.08).abs() < 0.0008, "median {median}");
    }
}
