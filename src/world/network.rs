//! The network: per-client round-trip times, and whether a client's network is up
//! (its outage).
//!
//! There is no bandwidth limit: a message takes exactly half its client's RTT to cross.
//! The byte size of everything on the wire is in `crate::wire`.

use crate::engine::{Nanos, RandomStream};
use crate::scenario::Rtt;

/// One client's network: its round-trip time (in the client's hot cache line).
#[derive(Clone, Copy, Debug)]
pub(super) struct Link {
    rtt: Nanos,
}

impl Link {
    pub fn new(rtt: Nanos) -> Self {
        Link { rtt }
    }

    #[inline]
    pub fn rtt(&self) -> Nanos {
        self.rtt
    }

    /// Half the round trip: how long a message takes one way.
    #[inline]
    pub fn one_way(&self) -> Nanos {
        self.rtt / 2
    }
}

/// One client's network outage: read only when a connection opens or the network
/// drops (in the client's cold record).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Outage {
    /// The network is down until then (0 = up).
    down_until: Nanos,
}

impl Outage {
    #[inline]
    pub fn is_down(&self, now: Nanos) -> bool {
        self.down_until > now
    }

    /// The network drops at `now` until `until`. Returns false if it was down already:
    /// the outage then just lasts longer.
    pub fn drop_until(&mut self, now: Nanos, until: Nanos) -> bool {
        if self.is_down(now) {
            self.down_until = self.down_until.max(until);
            return false;
        }
        self.down_until = until;
        true
    }
}

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

    #[test]
    fn a_drop_while_down_extends_the_outage() {
        assert_eq!(Link::new(100).one_way(), 50);
        let mut link = Outage::default();
        assert!(link.drop_until(10, 30));
        assert!(link.is_down(29) && !link.is_down(30));
        assert!(!link.drop_until(20, 25)); // shorter: the outage still ends at 30
        assert!(link.is_down(29));
        assert!(!link.drop_until(20, 40));
        assert!(link.is_down(39) && !link.is_down(40));
    }
}
