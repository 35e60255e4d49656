//! The network: per-client round-trip times.
//!
//! There is no bandwidth limit: a message takes exactly half its client's RTT to cross.
//! The byte size of everything on the wire is in `crate::wire`.

use crate::engine::{Nanos, RandomStream};
use crate::scenario::Rtt;

/// Draws one client's round-trip time. Log-normal draws outside [min, max] are redrawn
/// (truncation), so the distribution keeps its shape inside the bounds.
pub fn draw_rtt(model: &Rtt, rng: &mut RandomStream) -> Nanos {
    match *model {
        Rtt::Constant(rtt) => rtt,
        Rtt::LogNormal {
            median,
            sigma,
            min,
            max,
        } => {
            let lo = min.unwrap_or(0);
            let hi = max.unwrap_or(Nanos::MAX);
            for _ in 0..1000 {
                let x = rng.lognormal(median as f64, sigma).round() as Nanos;
                if (lo..=hi).contains(&x) {
                    return x.max(2);
                }
            }
            // Bounds that almost never hold (validated against, but be safe): clamp.
            median.clamp(lo, hi).max(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Purpose;

    #[test]
    fn rtt_truncation_holds() {
        let model = Rtt::LogNormal {
            median: 80_000_000,
            sigma: 1.0,
            min: Some(40_000_000),
            max: Some(100_000_000),
        };
        let mut rng = RandomStream::new(1, 0, 0, Purpose::Rtt);
        for _ in 0..10_000 {
            let r = draw_rtt(&model, &mut rng);
            assert!((40_000_000..=100_000_000).contains(&r));
        }
    }
}
