//! What one instance can run out of, and whether a sizing run stayed within it.
//!
//! A sizing run lifts an instance's slot and memory limits, so it measures *demand*
//! (peak connections, peak memory, CPU utilization, p99) instead of refusals. That demand
//! is a [`Load`]; [`Limits`] holds what an instance may use — its `max_connections` and
//! `memory_limit`, the `[target]` utilization and p99 — and compares the two as
//! demand ÷ limit per [`Resource`]: ≤ 1 holds. A run that stays within every limit can
//! still leave updates undelivered — lost by a reconnect without `resume`, a session's
//! end or retention, or never sent to a tab the browser stalled: that is its own kind,
//! [`Resource::Unserved`] with its [`Cause`], which more instances cannot fix. Numbers
//! only; the words for a resource are the report's (`report::sizing`).

use crate::engine::time::secs;
use crate::experiment::Target;
use crate::results::RunMetrics;
use crate::scenario::{Scenario, Technique};

/// The limits an instance can run out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Connection slots, `max_connections` per instance.
    Slots,
    /// `memory_limit` per instance.
    Memory,
    /// CPU at the target utilization.
    Cpu,
    /// The `[target] latency_p99`.
    Latency,
    /// Updates never delivered while every other limit held (see [`Load::unserved`]):
    /// not load, so neither fewer clients per instance nor more instances fix it.
    Unserved(Cause),
}

/// Why a run that kept its limits left updates undelivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// Sent while a WebSocket without `[websocket] resume` was reconnecting (after a
    /// crash, a deploy, `max_connection_duration`): it starts again from "now".
    ReconnectWithoutResume,
    /// Pending for a user whose `[workload] session` ended.
    SessionEnd,
    /// Fell out of `[server] retention` before the client came back for it.
    Retention,
    /// Meant for tabs the browser stalled (`[workload] tabs` beyond its connections
    /// per origin): they receive nothing.
    StalledTabs,
}

impl Resource {
    /// The resources measured as demand ÷ limit ([`Limits::ratios`]).
    pub const ALL: [Resource; 4] = [
        Resource::Slots,
        Resource::Memory,
        Resource::Cpu,
        Resource::Latency,
    ];

    /// Whether more instances (fewer clients each) can relieve it.
    pub fn instances_help(self) -> bool {
        !matches!(self, Resource::Unserved(_))
    }
}

/// What one sizing simulation measured, per instance.
#[derive(Clone, Debug)]
pub struct Load {
    /// Clients per instance (the busiest instance's share when it does not divide).
    pub clients_per_instance: u64,
    /// Instances simulated.
    pub instances: u32,
    pub connections_peak: f64,
    pub memory_peak_bytes: f64,
    pub cpu_utilization: f64,
    pub latency_p99_s: f64,
    /// Warm-up the run used, seconds.
    pub warmup_s: f64,
    /// Window over which its clients started, seconds.
    pub start_window_s: f64,
    /// Measured simulated seconds.
    pub duration_s: f64,
    /// The run's own totals (all simulated instances together).
    pub totals: RunMetrics,
}

impl Load {
    /// The load of `clients` clients on `instances` instances, from the metrics of the
    /// run of `sc`: peaks divided evenly among the instances (they are alike).
    pub fn from_run(clients: u64, instances: u32, sc: &Scenario, metrics: RunMetrics) -> Load {
        let k = instances as f64;
        Load {
            clients_per_instance: clients.div_ceil(instances as u64),
            instances,
            connections_peak: metrics.connections_peak / k,
            memory_peak_bytes: metrics.server_memory_peak_bytes / k,
            cpu_utilization: metrics.cpu_utilization,
            latency_p99_s: metrics.latency_p99_s,
            warmup_s: secs(sc.warmup),
            start_window_s: secs(sc.workload.start_window),
            duration_s: secs(sc.duration),
            totals: metrics,
        }
    }

    /// Pairs created in the window but never delivered, beyond what a healthy system
    /// leaves in flight at the end (those created within its slowest delivery, plus
    /// 1 % and three Poisson standard deviations): clients stuck disconnected, a queue
    /// growing without bound, retention losses, tabs stalled in their browser. The p99
    /// over *all* pairs then exceeds any target.
    pub fn unserved(&self) -> bool {
        let m = &self.totals;
        if m.published_pairs <= 0.0 {
            return false;
        }
        let tail = m.published_pairs * (m.latency_max_s / self.duration_s.max(1e-9)).min(1.0);
        // Three standard deviations of a Poisson count: small runs are noisy.
        let slack = 0.01 * m.published_pairs + 3.0 * (tail + 1.0).sqrt();
        m.lost + m.in_flight + m.stalled_pairs > tail + slack
    }
}

/// The limits of one instance and the target, as numbers.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: f64,
    pub memory_limit_bytes: f64,
    pub utilization: f64,
    pub latency_p99_s: Option<f64>,
    /// What loses updates in this scenario, should a run lose them.
    pub loss: Cause,
}

impl Limits {
    pub fn new(sc: &Scenario, target: &Target) -> Limits {
        Limits {
            max_connections: sc.server.max_connections as f64,
            memory_limit_bytes: sc.server.memory_limit as f64,
            utilization: target.utilization,
            latency_p99_s: target.latency_p99.map(secs),
            loss: loss_cause(sc),
        }
    }

    /// Demand over limit, per resource (≤ 1 is within the limit).
    pub fn ratios(&self, load: &Load) -> [(Resource, f64); 4] {
        let ratio = |demand: f64, limit: f64| {
            if limit > 0.0 {
                demand / limit
            } else if demand > 0.0 {
                f64::INFINITY
            } else {
                0.0
            }
        };
        [
            (
                Resource::Slots,
                ratio(load.connections_peak, self.max_connections),
            ),
            (
                Resource::Memory,
                ratio(load.memory_peak_bytes, self.memory_limit_bytes),
            ),
            (Resource::Cpu, ratio(load.cpu_utilization, self.utilization)),
            (
                Resource::Latency,
                // Nothing delivered (no p99) is no latency evidence either way;
                // `Load::unserved` judges a run that left pairs undelivered.
                self.latency_p99_s
                    .filter(|_| !load.latency_p99_s.is_nan())
                    .map_or(0.0, |t| ratio(load.latency_p99_s, t)),
            ),
        ]
    }

    /// Demand over limit of one resource.
    pub fn ratio(&self, load: &Load, resource: Resource) -> f64 {
        self.ratios(load)
            .into_iter()
            .find(|(r, _)| *r == resource)
            .map_or(f64::NAN, |(_, x)| x)
    }

    /// `None` when every limit holds; otherwise the most exceeded resource. A run that
    /// kept every limit but left clients unserved (see [`Load::unserved`]) misses the
    /// target even if its delivered pairs were quick: [`Resource::Unserved`] with its
    /// cause when tabs were stalled or updates lost, else (a backlog still queued at
    /// the end) the latency target.
    pub fn exceeded(&self, load: &Load) -> Option<Resource> {
        let mut worst: Option<(Resource, f64)> = None;
        for (r, x) in self.ratios(load) {
            if x > 1.0 && worst.is_none_or(|(_, w)| x > w) {
                worst = Some((r, x));
            }
        }
        worst.map(|(r, _)| r).or_else(|| self.unserved(load))
    }

    /// Why `load` left clients unserved, if it did.
    fn unserved(&self, load: &Load) -> Option<Resource> {
        if !load.unserved() {
            return None;
        }
        let m = &load.totals;
        Some(if m.stalled_per_user > 0.0 {
            Resource::Unserved(Cause::StalledTabs)
        } else if m.lost > m.in_flight {
            Resource::Unserved(self.loss)
        } else {
            Resource::Latency
        })
    }

    /// The resource closest to its limit (the first of equals), for a load that keeps
    /// them all: what would run out first with more clients.
    pub fn closest(&self, load: &Load) -> Resource {
        self.ratios(load)
            .into_iter()
            .fold((Resource::Slots, f64::NEG_INFINITY), |a, b| {
                if b.1 > a.1 { b } else { a }
            })
            .0
    }
}

/// What loses updates in `sc`: a WebSocket without `resume` on every reconnect, else
/// a session's end when users come and go, else retention.
fn loss_cause(sc: &Scenario) -> Cause {
    if sc.technique == Technique::Websocket && !sc.websocket.resume {
        Cause::ReconnectWithoutResume
    } else if sc.workload.session.is_some() {
        Cause::SessionEnd
    } else {
        Cause::Retention
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_connections: 100.0,
            memory_limit_bytes: 1000.0,
            utilization: 0.5,
            latency_p99_s: Some(1.0),
            loss: Cause::ReconnectWithoutResume,
        }
    }

    fn load() -> Load {
        Load {
            clients_per_instance: 1,
            instances: 1,
            connections_peak: 90.0,
            memory_peak_bytes: 900.0,
            cpu_utilization: 0.4,
            latency_p99_s: 0.5,
            warmup_s: 0.0,
            start_window_s: 0.0,
            duration_s: 10.0,
            totals: RunMetrics::default(),
        }
    }

    #[test]
    fn the_most_exceeded_limit_is_named() {
        let limits = limits();
        let mut load = load();
        assert_eq!(limits.exceeded(&load), None);
        load.connections_peak = 150.0;
        load.cpu_utilization = 0.9;
        assert_eq!(limits.exceeded(&load), Some(Resource::Cpu));
        load.latency_p99_s = 3.0;
        assert_eq!(limits.exceeded(&load), Some(Resource::Latency));
    }

    #[test]
    fn the_closest_limit_is_named_when_all_hold() {
        let limits = limits();
        let mut load = load();
        // Slots and memory at 90 %, CPU at 80 %, latency at 50 %: the first of equals.
        assert_eq!(limits.closest(&load), Resource::Slots);
        load.cpu_utilization = 0.49;
        assert_eq!(limits.closest(&load), Resource::Cpu);
    }

    #[test]
    fn a_zero_limit_is_exceeded_by_any_demand() {
        let mut limits = limits();
        limits.max_connections = 0.0;
        let mut load = load();
        assert_eq!(limits.ratios(&load)[0], (Resource::Slots, f64::INFINITY));
        load.connections_peak = 0.0;
        assert_eq!(limits.ratios(&load)[0], (Resource::Slots, 0.0));
        // No latency target: latency never binds on p99 alone.
        limits.latency_p99_s = None;
        load.latency_p99_s = 1e9;
        assert_eq!(limits.ratios(&load)[3], (Resource::Latency, 0.0));
    }

    #[test]
    fn clients_left_unserved_miss_the_latency_target() {
        let limits = limits();
        let mut load = load();
        load.totals.published_pairs = 10_000.0;
        load.totals.latency_max_s = 0.1; // 1 % of the 10 s window still on its way
        load.totals.in_flight = 150.0;
        assert!(!load.unserved(), "within the tail and its slack");
        assert_eq!(limits.exceeded(&load), None);
        load.totals.lost = 500.0;
        assert!(load.unserved());
        // Lost, not late: the cause, which more instances cannot fix.
        let lost = Resource::Unserved(Cause::ReconnectWithoutResume);
        assert_eq!(limits.exceeded(&load), Some(lost));
        assert!(!lost.instances_help());
        // Stalled tabs say so whatever else went missing.
        load.totals.stalled_per_user = 1.0;
        assert_eq!(
            limits.exceeded(&load),
            Some(Resource::Unserved(Cause::StalledTabs))
        );
        // A backlog still on its way at the end is the latency target's.
        load.totals.stalled_per_user = 0.0;
        load.totals.lost = 0.0;
        load.totals.in_flight = 700.0;
        assert_eq!(limits.exceeded(&load), Some(Resource::Latency));
        assert!(Resource::Latency.instances_help());
    }

    #[test]
    fn the_cause_of_losses_follows_the_scenario() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.websocket.resume = false;
        assert_eq!(loss_cause(&sc), Cause::ReconnectWithoutResume);
        sc.websocket.resume = true;
        assert_eq!(loss_cause(&sc), Cause::Retention);
        sc.workload.session = Some(60 * crate::engine::NS_PER_S);
        assert_eq!(loss_cause(&sc), Cause::SessionEnd);
        sc.technique = Technique::Sse;
        sc.websocket.resume = false;
        assert_eq!(loss_cause(&sc), Cause::SessionEnd);
    }

    #[test]
    fn a_run_splits_its_peaks_among_alike_instances() {
        let sc = Scenario::reference();
        let metrics = RunMetrics {
            connections_peak: 300.0,
            server_memory_peak_bytes: 3000.0,
            cpu_utilization: 0.25,
            ..RunMetrics::default()
        };
        let load = Load::from_run(1001, 3, &sc, metrics);
        assert_eq!(load.clients_per_instance, 334);
        assert_eq!(load.connections_peak, 100.0);
        assert_eq!(load.memory_peak_bytes, 1000.0);
        assert_eq!(load.cpu_utilization, 0.25);
        assert_eq!(load.totals.connections_peak, 300.0);
    }
}
