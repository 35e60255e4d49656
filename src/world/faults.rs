//! Faults: network drops, instance crashes and rolling deploys.
//!
//! Each client's network drops as a Poisson process (mean gap `disconnect_every`) for
//! `outage`; all clients together make one merged process, so a million clients cost
//! one pending event, not a million. Crashes are scheduled: an instance goes down at a
//! given time for a given downtime. A rolling deploy drains the instances one at a time
//! from a given one: instance `j` of the order starts draining at `at + j·(drain +
//! downtime)`, so each is back before the next one drains; with `jitter` each of its
//! connections is closed at a uniform time within the drain period (this part's own
//! random stream draws it). What a fault breaks is the world's to work out; this part
//! decides when faults happen and to whom.

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Fault, FaultKind, Scenario};
use crate::world::clock::Clock;
use crate::world::event::Event;

pub(super) struct Faults {
    rng: RandomStream,
    /// Jittered drain closes (their own stream: a deploy never shifts the drops).
    deploy_rng: RandomStream,
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
            deploy_rng: RandomStream::new(
                sc.seed,
                sc.random_point,
                sc.replication,
                Purpose::Deploy,
            ),
            disconnect_every: sc.network.disconnect_every,
            outage: sc.network.outage,
            clients: sc.workload.clients,
            instances: sc.server.instances,
            crashes: sc.faults.clone(),
        }
    }

    /// Whether clients' networks can drop (the only way a client goes offline).
    #[inline]
    pub fn drops(&self) -> bool {
        self.disconnect_every.is_some()
    }

    /// No fault process can act on a client (no drops, no crashes).
    pub fn none(&self) -> bool {
        !self.drops() && self.crashes.is_empty()
    }

    /// Schedules the first drop and every crash.
    pub fn start(&mut self, clock: &mut Clock) {
        if self.disconnect_every.is_some() && self.clients > 0 {
            let gap = self.drop_gap();
            clock.schedule(gap, Event::Drop);
        }
        for (index, fault) in self.crashes.iter().enumerate() {
            if fault.instance >= self.instances {
                continue;
            }
            match fault.kind {
                FaultKind::Crash => {
                    let crash = Event::Crash {
                        instance: fault.instance,
                        downtime: fault.downtime,
                    };
                    clock.schedule(fault.at, crash);
                }
                FaultKind::Deploy => {
                    let step = fault.drain.saturating_add(fault.downtime);
                    for j in 0..self.instances {
                        let drain = Event::Drain {
                            instance: (fault.instance + j) % self.instances,
                            fault: index as u32,
                        };
                        let at = fault.at.saturating_add(step.saturating_mul(j as Nanos));
                        clock.schedule(at, drain);
                    }
                }
            }
        }
    }

    /// The deploy of fault number `fault`: (drain period, jitter, downtime).
    pub fn deploy(&self, fault: u32) -> (Nanos, bool, Nanos) {
        let f = &self.crashes[fault as usize];
        (f.drain, f.jitter, f.downtime)
    }

    /// When, within a drain period of `drain`, a jittered drain closes one connection
    /// (an offset from the drain's start, uniform over the period).
    pub fn drain_offset(&mut self, drain: Nanos) -> Nanos {
        ((self.deploy_rng.uniform() * drain as f64) as Nanos).min(drain)
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
        sc.faults.push(Fault::crash(NS_PER_S, 0, NS_PER_S));
        assert!(!Faults::new(&sc).none());
    }

    #[test]
    fn crashes_of_instances_that_do_not_exist_are_not_scheduled() {
        let mut sc = Scenario::reference();
        sc.network.disconnect_every = None;
        sc.server.instances = 2;
        sc.faults = [1, 5]
            .map(|instance| Fault::crash(NS_PER_S, instance, NS_PER_S))
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
