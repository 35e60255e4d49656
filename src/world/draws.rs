//! Random draws a technique asks the world for: poll jitter and reconnect backoff.
//!
//! Each is one stream shared by every client (keyed by purpose, like every stream of a
//! run), so it belongs to the world, not to a technique: a draw's value depends on the
//! order in which all clients ask.

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Backoff, Scenario};

pub(super) struct Draws {
    jitter: RandomStream,
    backoff: RandomStream,
}

impl Draws {
    pub fn new(sc: &Scenario) -> Self {
        let stream = |p| RandomStream::new(sc.seed, sc.random_point, sc.replication, p);
        Draws {
            jitter: stream(Purpose::Jitter),
            backoff: stream(Purpose::Backoff),
        }
    }

    /// Uniform in [0, n).
    pub fn jitter_below(&mut self, n: u64) -> u64 {
        self.jitter.below(n)
    }

    /// Exponential backoff with jitter for the n-th consecutive failure (n ≥ 1):
    /// min(max, initial·2^(n−1)) × (1 − jitter·U). The caller says whose policy it is.
    pub fn backoff(&mut self, b: &Backoff, attempt: u32) -> Nanos {
        let exp = b
            .initial
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(40));
        let delay = exp.min(b.max) as f64;
        let u = self.backoff.uniform();
        (delay * (1.0 - b.jitter * u)).round() as Nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_only_shortens_it() {
        let sc = Scenario::reference();
        let mut draws = Draws::new(&sc);
        let policy = Backoff {
            initial: 100,
            max: 1_000,
            jitter: 0.5,
        };
        for attempt in 0u32..70 {
            let cap = (100u64 << attempt.saturating_sub(1).min(40)).min(1_000);
            for _ in 0..200 {
                let d = draws.backoff(&policy, attempt);
                assert!(d <= cap, "attempt {attempt}: {d} > {cap}");
                assert!(d as f64 >= cap as f64 * 0.5 - 0.5, "attempt {attempt}: {d}");
            }
        }
        let exact = Backoff {
            jitter: 0.0,
            ..policy
        };
        assert_eq!(draws.backoff(&exact, 1), 100);
        assert_eq!(draws.backoff(&exact, 3), 400);
        assert_eq!(draws.backoff(&exact, 50), 1_000);
    }

    #[test]
    fn jitter_stays_below_its_bound() {
        let mut draws = Draws::new(&Scenario::reference());
        assert!((0..1_000).all(|_| draws.jitter_below(7) < 7));
    }
}
