//! Faults: network drops and instance crashes.
//!
//! Each client's network drops as a Poisson process (mean gap `disconnect_every`) for
//! `outage`; all clients together make one merged process, so a million clients cost
//! one pending event, not a million. Crashes are scheduled: an instance goes down at a
//! given time for a given downtime. What a fault breaks is the world's to work out; this
//! part decides when faults happen and to whom.

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Fault, Scenario};
use crate::world::clock::Clock;
use crate::world::event::Event;

pub(super) struct Faults {
    rng: RandomStream,
    disconnect_every: Option<Nanos>,
    outage: Nanos,
    clients: u32,
    instances: u32,
    crashes: Vec<Fault>,
}

impl Faults {
    pub fn new(sc: &Scenario) -> Self {
        Faults {
            rng: RandomStream::new(sc.seed, sc.random_point, sc.replication, Purpose::Drops),
            disconnect_every: sc.network.disconnect_every,
            outage: sc.network.outage,
            clients: sc.workload.clients,
            instances: sc.server.instances,
            crashes: sc.faults.clone(),
        }
    }

    /// No fault process can act on a client (no drops, no crashes).
    pub fn none(&self) -> bool {
        self.disconnect_every.is_none() && self.crashes.is_empty()
    }

    /// Schedules the first drop and every crash.
    pub fn start(&mut self, clock: &mut Clock) {
        if self.disconnect_every.is_some() && self.clients > 0 {
            let gap = self.drop_gap();
            clock.schedule(gap, Event::Drop);
        }
        for fault in &self.crashes {
            if fault.instance < self.instances {
                let crash = Event::Crash {
                    instance: fault.instance,
                    downtime: fault.downtime,
                };
                clock.schedule(fault.at, crash);
            }
        }
    }

    /// The merged drop process fires: schedules the next drop and returns the client
    /// whose network drops now, and for how long.
    pub fn drop(&mut self, clock: &mut Clock) -> (u32, Nanos) {
        let c = self.rng.below(self.clients as u64) as u32;
        let gap = self.drop_gap();
        clock.schedule_in(gap, Event::Drop);
        (c, self.outage)
    }

    /// Gap of the merged drop process: each client drops as a Poisson process with mean
    /// `disconnect_every`, so all N together at N times the rate.
    fn drop_gap(&mut self) -> Nanos {
        let every = self.disconnect_every.unwrap_or(Nanos::MAX) as f64;
        let mean = every / self.clients as f64;
        (self.rng.exponential(mean).round() as Nanos).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;

    #[test]
    fn a_world_without_fault_processes_is_quiet() {
        let mut sc = Scenario::reference();
        sc.network.disconnect_every = None;
        sc.faults.clear();
        assert!(Faults::new(&sc).none());
        sc.faults.push(Fault {
            at: NS_PER_S,
            instance: 0,
            downtime: NS_PER_S,
        });
        assert!(!Faults::new(&sc).none());
    }

    #[test]
    fn crashes_of_instances_that_do_not_exist_are_not_scheduled() {
        let mut sc = Scenario::reference();
        sc.network.disconnect_every = None;
        sc.server.instances = 2;
        sc.faults = [1, 5]
            .map(|instance| Fault {
                at: NS_PER_S,
                instance,
                downtime: NS_PER_S,
            })
            .to_vec();
        let mut clock = Clock::new(10 * NS_PER_S, false);
        Faults::new(&sc).start(&mut clock);
        let crash = Event::Crash {
            instance: 1,
            downtime: NS_PER_S,
        };
        assert_eq!(clock.next(), Some(crash));
        assert_eq!(clock.next(), None);
    }
}
