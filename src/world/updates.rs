//! Update sources and the backplane: when updates (or chat messages) are born, and how
//! long they take to reach every instance.
//!
//! Updates come from one merged Poisson process or from periodic sources (one for the
//! broadcast stream, one per client otherwise). With several instances an update
//! crosses the pub/sub backplane (`backplane.rs`) before any of them can send it. This
//! part also keeps
//! the count every result is checked against: the (update, recipient) pairs created in
//! the measured window, and how many of them have not reached the origin's log yet.

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Arrivals, Pattern, Scenario};
use crate::world::backplane::{Backplane, BackplaneBooks};
use crate::world::clock::Clock;
use crate::world::event::Event;
use crate::world::metrics::Window;

pub(super) struct Updates {
    rng: RandomStream,
    pattern: Pattern,
    arrivals: Arrivals,
    /// Per source (periodic) or in total (broadcast), per second: see [`Updates::total_rate`].
    rate: f64,
    clients: u32,
    /// The backplane; `None` with a single instance.
    backplane: Option<Backplane>,
    window: Window,
    /// (update, recipient) pairs created in the window.
    published_pairs: u64,
    /// Window pairs created but not yet published: chat messages on their way up, and
    /// updates crossing the backplane.
    pairs_in_transit: u64,
}

impl Updates {
    pub fn new(sc: &Scenario, window: Window) -> Self {
        Updates {
            rng: RandomStream::new(sc.seed, sc.random_point, sc.replication, Purpose::Updates),
            pattern: sc.workload.pattern,
            arrivals: sc.workload.arrivals,
            rate: sc.workload.rate,
            clients: sc.workload.clients,
            backplane: Backplane::new(sc, window),
            window,
            published_pairs: 0,
            pairs_in_transit: 0,
        }
    }

    /// Schedules the first update of every source.
    pub fn start(&mut self, clock: &mut Clock) {
        match self.arrivals {
            Arrivals::Poisson => {
                let gap = self.poisson_gap();
                clock.schedule(gap, Event::UpdateTick);
            }
            Arrivals::Periodic => {
                let period = self.period();
                let sources = match self.pattern {
                    Pattern::Broadcast => 1,
                    Pattern::PerClient | Pattern::Chat => self.clients,
                };
                for source in 0..sources {
                    let phase = (self.rng.uniform() * period as f64) as Nanos;
                    clock.schedule(phase, Event::SourceTick { source });
                }
            }
        }
    }

    /// The merged process fires: schedules the next one and returns the source of this
    /// update (the broadcast stream, or the client whose stream it is or who sends).
    pub fn tick(&mut self, clock: &mut Clock) -> u32 {
        let source = match self.pattern {
            Pattern::Broadcast => 0,
            _ => self.rng.below(self.clients as u64) as u32,
        };
        let gap = self.poisson_gap();
        clock.schedule_in(gap, Event::UpdateTick);
        source
    }

    /// A periodic source fires: schedules its next update.
    pub fn source_tick(&mut self, clock: &mut Clock, source: u32) {
        let period = self.period();
        clock.schedule_in(period, Event::SourceTick { source });
    }

    /// Total rate of the merged update process, per second.
    fn total_rate(&self) -> f64 {
        match self.pattern {
            Pattern::Broadcast => self.rate,
            Pattern::PerClient | Pattern::Chat => self.rate * self.clients as f64,
        }
    }

    fn poisson_gap(&mut self) -> Nanos {
        let mean_ns = 1e9 / self.total_rate();
        (self.rng.exponential(mean_ns).round() as Nanos).max(1)
    }

    /// Gap between periodic updates of one source.
    fn period(&self) -> Nanos {
        ((1e9 / self.rate).round() as Nanos).max(1)
    }

    /// Updates are chat messages that clients send (rather than born at the origin).
    pub fn sent_by_clients(&self) -> bool {
        self.pattern == Pattern::Chat
    }

    /// The backplane's delay without a queue (0 with one instance).
    pub fn backplane_latency(&self) -> Nanos {
        self.backplane.as_ref().map_or(0, Backplane::latency)
    }

    /// Whether there is a backplane to cross (several instances).
    pub fn has_backplane(&self) -> bool {
        self.backplane.is_some()
    }

    /// Whether updates queue at the backplane's nodes (a finite capacity).
    pub fn backplane_queues(&self) -> bool {
        self.backplane.as_ref().is_some_and(Backplane::queues)
    }

    /// An update of `stream` enters the backplane now (calls in time order): when every
    /// instance has it. `now` itself with one instance.
    pub fn cross_backplane(&mut self, stream: u32, now: Nanos) -> Nanos {
        match self.backplane.as_mut() {
            Some(b) => b.cross(stream, now),
            None => now,
        }
    }

    /// A chat message crosses a backplane without queues at `at` (0 wait); nothing with
    /// one instance.
    pub fn crossed_unqueued(&mut self, at: Nanos) {
        if let Some(b) = self.backplane.as_mut() {
            b.crossed_unqueued(at);
        }
    }

    /// What the backplane measured.
    pub fn backplane_books(&self) -> BackplaneBooks {
        BackplaneBooks::of(self.backplane.as_ref())
    }

    /// An update for `pairs` recipients was created now: it counts if inside the window,
    /// and is in transit until published.
    pub fn created(&mut self, now: Nanos, pairs: impl FnOnce() -> u64) {
        if self.window.contains(now) {
            let pairs = pairs();
            self.published_pairs += pairs;
            self.pairs_in_transit += pairs;
        }
    }

    /// An update created at `created` for `pairs` recipients reached the origin's log
    /// (or was lost before): no longer in transit.
    pub fn arrived(&mut self, created: Nanos, pairs: impl FnOnce() -> u64) {
        if self.window.contains(created) {
            self.pairs_in_transit -= pairs();
        }
    }

    pub fn published_pairs(&self) -> u64 {
        self.published_pairs
    }

    /// Window pairs created but not yet published (upstream or on the backplane).
    pub fn pairs_in_transit(&self) -> u64 {
        self.pairs_in_transit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;

    fn updates(pattern: Pattern, arrivals: Arrivals, clients: u32) -> Updates {
        let mut sc = Scenario::reference();
        sc.workload.pattern = pattern;
        sc.workload.arrivals = arrivals;
        sc.workload.clients = clients;
        sc.workload.rate = 2.0;
        let window = Window {
            start: NS_PER_S,
            end: 10 * NS_PER_S,
            bucket: NS_PER_S,
        };
        Updates::new(&sc, window)
    }

    #[test]
    fn periodic_sources_start_within_one_period() {
        let mut u = updates(Pattern::PerClient, Arrivals::Periodic, 50);
        let mut clock = Clock::new(100 * NS_PER_S, true);
        u.start(&mut clock);
        let mut sources = vec![];
        while let Some(Event::SourceTick { source }) = clock.next() {
            assert!(clock.now() < NS_PER_S / 2, "a phase beyond the period");
            sources.push(source);
        }
        sources.sort();
        assert_eq!(sources, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn pairs_count_in_the_window_until_they_arrive() {
        let mut u = updates(Pattern::Broadcast, Arrivals::Poisson, 10);
        u.created(0, || 10); // warm-up: not counted
        u.created(2 * NS_PER_S, || 10);
        assert_eq!((u.published_pairs(), u.pairs_in_transit()), (10, 10));
        u.arrived(2 * NS_PER_S, || 10);
        assert_eq!((u.published_pairs(), u.pairs_in_transit()), (10, 0));
    }
}
