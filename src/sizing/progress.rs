//! The overall progress of `rtsim size` across every technique and round, and its ETA:
//! estimated events (`sim::estimate`) done against estimated events planned. Numbers
//! only, for the progress bar; never part of the answer.
//!
//! The plan grows as the searches learn: before the pilots finish only the pilots are
//! known; each round then adds its runs and the runs the searches will most likely ask
//! for later (`Searcher::forecast_events`). The rate is the estimated events of the runs
//! finished per wall second since the start (before any finished: the estimate's own
//! [`EVENTS_PER_WORKER_S`] per worker), and the ETA counts down between finished runs.

use crate::sim::EVENTS_PER_WORKER_S;

/// Estimated events planned and done, and when the last run finished.
#[derive(Clone, Debug, PartialEq)]
pub struct Overall {
    planned: f64,
    done: f64,
    /// Seconds since the start when `done` last grew (0 before any run finished).
    done_at_s: f64,
    /// Events per wall second assumed before any run has finished.
    prior_rate: f64,
}

impl Overall {
    /// Nothing planned yet, `workers` worker threads.
    pub fn new(workers: usize) -> Overall {
        Overall {
            planned: 0.0,
            done: 0.0,
            done_at_s: 0.0,
            prior_rate: EVENTS_PER_WORKER_S * workers.max(1) as f64,
        }
    }

    /// A round starts: the whole sizing is now estimated at `planned` events.
    pub fn plan(&mut self, planned: f64) {
        self.planned = planned.max(self.done);
    }

    /// A run estimated at `events` events finished `elapsed_s` seconds after the start.
    pub fn ran(&mut self, events: f64, elapsed_s: f64) {
        self.done += events;
        self.done_at_s = elapsed_s;
        self.planned = self.planned.max(self.done);
    }

    pub fn planned(&self) -> f64 {
        self.planned
    }

    pub fn done(&self) -> f64 {
        self.done
    }

    /// Estimated events per wall second.
    pub fn rate(&self) -> f64 {
        if self.done > 0.0 && self.done_at_s > 0.0 {
            self.done / self.done_at_s
        } else {
            self.prior_rate
        }
    }

    /// Seconds left, `elapsed_s` seconds after the start: what is planned and not done
    /// at [`Self::rate`], counted from the last finished run, never below 0.
    pub fn eta_s(&self, elapsed_s: f64) -> f64 {
        let left = (self.planned - self.done).max(0.0) / self.rate();
        (left - (elapsed_s - self.done_at_s).max(0.0)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_any_run_the_eta_is_the_plan_at_the_estimates_own_rate() {
        let mut o = Overall::new(2);
        o.plan(11e6 * 10.0);
        // 110 M events at 2 × 5.5 M/s: 10 s, counting down from the start.
        assert!((o.eta_s(0.0) - 10.0).abs() < 1e-9);
        assert!((o.eta_s(4.0) - 6.0).abs() < 1e-9);
        assert_eq!(o.eta_s(30.0), 0.0);
    }

    #[test]
    fn after_runs_the_eta_is_what_is_left_at_the_rate_so_far() {
        let mut o = Overall::new(2);
        o.plan(100.0);
        o.ran(25.0, 5.0); // 5 events/s
        assert_eq!(o.rate(), 5.0);
        // 75 left at 5/s = 15 s from t = 5 s; 2 s later, 13 s.
        assert!((o.eta_s(5.0) - 15.0).abs() < 1e-9);
        assert!((o.eta_s(7.0) - 13.0).abs() < 1e-9);
        // The plan grows with the next round; the done events stay.
        o.plan(200.0);
        assert!((o.eta_s(5.0) - 35.0).abs() < 1e-9);
        // Done beyond the plan (a forecast fell short): nothing left, not negative.
        o.ran(300.0, 10.0);
        assert_eq!(o.planned(), o.done());
        assert_eq!(o.eta_s(10.0), 0.0);
    }
}
