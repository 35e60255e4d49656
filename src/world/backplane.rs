//! The pub/sub backplane between instances: its nodes, their queues and what they
//! measured.
//!
//! With several instances every update (or chat message) crosses the backplane before
//! any instance can send it. The backplane has `backplane_nodes` nodes (shards); a
//! stream's updates all go to node `stream mod nodes` (one channel lives on one node, as
//! Redis Cluster's sharded pub/sub and Centrifugo's Redis sharding place a channel by its
//! name). Each node is a FIFO single server with a deterministic service time: one
//! update costs `1 + k` messages — its publish and one delivery to each of the `k`
//! instances subscribed to its stream (Redis documents PUBLISH as O(N+M), N the
//! subscribers) — so it holds the node for `(1 + k) / capacity`. An update's delay is
//! then `latency + queue wait + service`; with `capacity = "unlimited"` there is no queue
//! and the delay is `latency`, as before the backplane had a capacity.
//!
//! `k` is fixed by the scenario, not by where the clients happen to be: every instance
//! for a broadcast, one for a per-client stream (the instance its client is on), and
//! `min(room_size, instances)` for a chat room — an upper bound, every instance that may
//! hold a member subscribes.
//!
//! A node is a Lindley recursion (`start = max(arrival, free_at)`), so it needs no event
//! of its own, provided arrivals at a node are handed over in time order: the world
//! calls [`Backplane::cross`] at the arrival time itself.

use crate::engine::Nanos;
use crate::scenario::{Pattern, Scenario};
use crate::world::metrics::Window;

/// Most backplane nodes a scenario may have: Redis Cluster's specification gives 1,000
/// nodes as its suggested ceiling.
pub const MAX_NODES: u32 = 1000;

pub(super) struct Backplane {
    latency: Nanos,
    /// Service time of one update at a node, ns; 0 when the capacity is unlimited.
    service: Nanos,
    /// When each node is free again.
    free_at: Vec<Nanos>,
    /// Busy time of each node inside the window.
    busy_in_window: Vec<Nanos>,
    window: Window,
    /// Updates that arrived at a node in the window, and their waits summed.
    arrivals_in_window: u64,
    wait_sum_ns: u128,
}

/// Instances an update of the scenario's streams is delivered to by the backplane.
pub fn subscribers_per_update(sc: &Scenario) -> u32 {
    let instances = sc.server.instances;
    match sc.workload.pattern {
        Pattern::Broadcast => instances,
        Pattern::PerClient => 1,
        Pattern::Chat => sc.workload.room_size.clamp(1, instances),
    }
}

/// Service time of one update at a backplane node, ns: `(1 + k) / capacity`; 0 when the
/// capacity is unlimited. Theory reads the same figure.
pub fn service_time(sc: &Scenario) -> Nanos {
    match sc.server.backplane_capacity.per_second() {
        None => 0,
        Some(capacity) => {
            let messages = 1.0 + f64::from(subscribers_per_update(sc));
            ((messages * 1e9 / capacity).round() as Nanos).max(1)
        }
    }
}

/// The node of a stream's updates.
pub fn node_of(stream: u32, nodes: u32) -> u32 {
    stream % nodes.max(1)
}

/// Whether the scenario has a backplane: more than one instance (with one, an update
/// has nothing to cross).
pub fn exists(sc: &Scenario) -> bool {
    sc.server.instances > 1
}

impl Backplane {
    /// The scenario's backplane; `None` with one instance (nothing to cross).
    pub fn new(sc: &Scenario, window: Window) -> Option<Backplane> {
        exists(sc).then(|| {
            let nodes = sc.server.backplane_nodes.max(1) as usize;
            Backplane {
                latency: sc.server.backplane_latency,
                service: service_time(sc),
                free_at: vec![0; nodes],
                busy_in_window: vec![0; nodes],
                window,
                arrivals_in_window: 0,
                wait_sum_ns: 0,
            }
        })
    }

    /// Whether updates queue at a node (a finite capacity).
    pub fn queues(&self) -> bool {
        self.service > 0
    }

    /// The delay of an update with no queue: its latency.
    pub fn latency(&self) -> Nanos {
        self.latency
    }

    /// An update of `stream` reaches its node at `now` (calls come in time order): when
    /// every instance has it. Books the node's busy time and the update's wait.
    pub fn cross(&mut self, stream: u32, now: Nanos) -> Nanos {
        if self.window.contains(now) {
            self.arrivals_in_window += 1;
        }
        if self.service == 0 {
            return now + self.latency;
        }
        let node = node_of(stream, self.free_at.len() as u32) as usize;
        let start = now.max(self.free_at[node]);
        // Saturating: a hostile capacity (1 message/s, huge fan-out) must not overflow
        // the clock; an update due past the end is simply never published.
        let done = start.saturating_add(self.service);
        self.free_at[node] = done;
        let (from, to) = (start.max(self.window.start), done.min(self.window.end));
        if to > from {
            self.busy_in_window[node] = self.busy_in_window[node].saturating_add(to - from);
        }
        if self.window.contains(now) {
            self.wait_sum_ns += u128::from(start - now);
        }
        done.saturating_add(self.latency)
    }

    /// An update crosses a backplane without queues at `at` (chat messages, whose
    /// crossing is scheduled ahead): counted with a wait of 0.
    pub fn crossed_unqueued(&mut self, at: Nanos) {
        if self.window.contains(at) {
            self.arrivals_in_window += 1;
        }
    }

    /// The busiest node's share of the window spent serving (0 when unlimited).
    pub fn utilization(&self) -> f64 {
        let width = (self.window.end - self.window.start) as f64;
        let busiest = self.busy_in_window.iter().copied().max().unwrap_or(0);
        busiest as f64 / width
    }

    /// Mean wait in a node's queue of the updates that arrived in the window; `None`
    /// when none did.
    pub fn wait_mean_ns(&self) -> Option<f64> {
        (self.arrivals_in_window > 0)
            .then(|| self.wait_sum_ns as f64 / self.arrivals_in_window as f64)
    }
}

/// What the backplane measured, for the run's books: utilization of the busiest node
/// and the mean queue wait, `None` without a backplane (one instance).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BackplaneBooks {
    pub utilization: Option<f64>,
    pub wait_mean_ns: Option<f64>,
}

impl BackplaneBooks {
    pub(super) fn of(backplane: Option<&Backplane>) -> BackplaneBooks {
        match backplane {
            None => BackplaneBooks::default(),
            Some(b) => BackplaneBooks {
                utilization: Some(b.utilization()),
                wait_mean_ns: b.wait_mean_ns(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;
    use crate::scenario::BackplaneCapacity;

    fn scenario(pattern: Pattern, instances: u32, capacity: f64) -> Scenario {
        let mut sc = Scenario::reference();
        sc.workload.pattern = pattern;
        sc.workload.room_size = 10;
        sc.server.instances = instances;
        sc.server.backplane_capacity = BackplaneCapacity::PerSecond(capacity);
        sc
    }

    fn window() -> Window {
        Window {
            start: 0,
            end: 10 * NS_PER_S,
            bucket: NS_PER_S,
        }
    }

    #[test]
    fn an_update_costs_its_publish_and_one_delivery_per_subscribed_instance() {
        // Broadcast to 4 instances: 5 messages at 1,000/s = 5 ms.
        assert_eq!(
            service_time(&scenario(Pattern::Broadcast, 4, 1000.0)),
            5_000_000
        );
        // Per-client: 2 messages.
        assert_eq!(
            service_time(&scenario(Pattern::PerClient, 4, 1000.0)),
            2_000_000
        );
        // Chat, rooms of 10 on 4 instances: at most 4 subscribed.
        assert_eq!(service_time(&scenario(Pattern::Chat, 4, 1000.0)), 5_000_000);
        let mut sc = scenario(Pattern::Broadcast, 4, 1000.0);
        sc.server.backplane_capacity = BackplaneCapacity::Unlimited;
        assert_eq!(service_time(&sc), 0);
    }

    #[test]
    fn a_node_is_a_fifo_single_server_and_nodes_are_independent() {
        let mut sc = scenario(Pattern::PerClient, 2, 1000.0); // 2 ms per update
        sc.server.backplane_nodes = 2;
        sc.server.backplane_latency = 1_000_000;
        let mut b = Backplane::new(&sc, window()).unwrap();
        assert!(b.queues());
        // Two updates of stream 0 at once: the second waits 2 ms.
        assert_eq!(b.cross(0, 0), 3_000_000);
        assert_eq!(b.cross(2, 0), 5_000_000);
        // Stream 1 is on the other node: no wait.
        assert_eq!(b.cross(1, 0), 3_000_000);
        // Node 0 idle again by 10 ms.
        assert_eq!(b.cross(0, 10_000_000), 13_000_000);
        assert_eq!(b.wait_mean_ns(), Some(2_000_000.0 / 4.0));
        // Busiest node: 6 ms in a 10 s window.
        assert!((b.utilization() - 6e-3 / 10.0).abs() < 1e-12);
    }

    #[test]
    fn one_instance_has_no_backplane_and_unlimited_only_delays() {
        let sc = scenario(Pattern::Broadcast, 1, 1000.0);
        assert!(Backplane::new(&sc, window()).is_none());
        assert_eq!(BackplaneBooks::of(None), BackplaneBooks::default());
        let mut sc = scenario(Pattern::Broadcast, 3, 1000.0);
        sc.server.backplane_capacity = BackplaneCapacity::Unlimited;
        let mut b = Backplane::new(&sc, window()).unwrap();
        assert!(!b.queues());
        assert_eq!(b.cross(0, 5), 5 + sc.server.backplane_latency);
        assert_eq!(b.utilization(), 0.0);
        assert_eq!(b.wait_mean_ns(), Some(0.0));
    }
}
