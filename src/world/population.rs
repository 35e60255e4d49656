//! Who is online: when each client joins the run, when its session ends (churn: a new
//! user takes its place at once, so the population stays `clients`), and how long a
//! gateway lets a connection live. The same for every technique: its draws come from its
//! own random streams, keyed like every stream of a run, and read no technique's keys.
//!
//! - `join = "uniform"` draws each client's start uniformly in [0, `start_window`) from
//!   the `Phase` stream — exactly the draws rtsim has always made;
//! - `join = "all-at-once"` starts every client at time 0;
//! - `join = "poisson"` starts clients one after another at exponential gaps of mean
//!   1/`join_rate` (the `Session` stream);
//! - `session` is the mean of an exponential session length: memoryless, so the
//!   clients present at any time have the same remaining-life distribution and the
//!   population is in its steady mix from the start;
//! - `max_connection_duration`: a gateway closes every connection this long after the
//!   server accepted it (AWS API Gateway does so for WebSockets after 2 h, see
//!   `docs/model.md`).

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Join, Scenario};

pub(super) struct Population {
    join: Join,
    start_window: Nanos,
    /// Mean gap between Poisson joins (ns), and the time of the last one.
    join_gap: f64,
    last_join: f64,
    /// Start phases (`uniform`).
    phases: RandomStream,
    /// Session lengths and Poisson join gaps.
    sessions: RandomStream,
    /// Mean session length (ns), when clients churn.
    session_mean: Option<Nanos>,
    max_connection_duration: Option<Nanos>,
}

impl Population {
    pub fn new(sc: &Scenario) -> Self {
        let stream = |p| RandomStream::new(sc.seed, sc.random_point, sc.replication, p);
        let w = &sc.workload;
        Population {
            join: w.join,
            start_window: w.start_window,
            join_gap: 1e9 / w.join_rate,
            last_join: 0.0,
            phases: stream(Purpose::Phase),
            sessions: stream(Purpose::Session),
            session_mean: w.session,
            max_connection_duration: w.max_connection_duration,
        }
    }

    /// Nothing but the technique and the network acts on a client: no session ends and
    /// no gateway closes a connection (what the clock's shortcut relies on).
    pub fn quiet(&self) -> bool {
        self.session_mean.is_none() && self.max_connection_duration.is_none()
    }

    /// When the next client joins (clients ask in their order, once each).
    pub fn next_join(&mut self) -> Nanos {
        match self.join {
            Join::AllAtOnce => 0,
            Join::Uniform => {
                let window = self.start_window.max(1);
                (self.phases.uniform() * window as f64) as Nanos
            }
            Join::Poisson => {
                self.last_join += self.sessions.exponential(self.join_gap);
                self.last_join.min(Nanos::MAX as f64 / 2.0) as Nanos
            }
        }
    }

    /// How long the session starting now lasts; `None` without churn.
    pub fn session_length(&mut self) -> Option<Nanos> {
        let mean = self.session_mean?;
        let len = self.sessions.exponential(mean as f64).round() as Nanos;
        Some(len.max(1))
    }

    /// How long a gateway lets a connection live; `None` = for ever.
    pub fn max_connection_duration(&self) -> Option<Nanos> {
        self.max_connection_duration
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;

    impl Population {
        fn join_times(&mut self, n: u32) -> Vec<Nanos> {
            (0..n).map(|_| self.next_join()).collect()
        }
    }

    fn population(edit: impl FnOnce(&mut Scenario)) -> Population {
        let mut sc = Scenario::reference();
        edit(&mut sc);
        Population::new(&sc)
    }

    #[test]
    fn uniform_joins_fall_in_the_start_window() {
        let mut p = population(|sc| sc.workload.start_window = 2 * NS_PER_S);
        let t = p.join_times(10_000);
        assert!(t.iter().all(|&x| x < 2 * NS_PER_S));
        let mean = t.iter().map(|&x| x as f64).sum::<f64>() / 1e4 / 1e9;
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
        assert!(p.quiet());
    }

    #[test]
    fn poisson_joins_arrive_at_the_rate() {
        let mut p = population(|sc| {
            sc.workload.join = Join::Poisson;
            sc.workload.join_rate = 50.0;
        });
        let t = p.join_times(10_000);
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        // 10,000 joins at 50/s take 200 s ± 2 s (σ = √n / rate = 2 s).
        let last = t[9_999] as f64 / 1e9;
        assert!((last - 200.0).abs() < 6.0, "last join at {last} s");
    }

    #[test]
    fn all_at_once_is_time_zero_and_sessions_have_their_mean() {
        let mut p = population(|sc| {
            sc.workload.join = Join::AllAtOnce;
            sc.workload.session = Some(60 * NS_PER_S);
        });
        assert!(p.join_times(5).iter().all(|&t| t == 0));
        assert!(!p.quiet());
        let n = 20_000;
        let mean = (0..n)
            .map(|_| p.session_length().unwrap() as f64)
            .sum::<f64>()
            / n as f64
            / 1e9;
        // σ of the mean = 60 / √20000 = 0.42 s.
        assert!((mean - 60.0).abs() < 1.5, "mean session {mean} s");
    }
}
