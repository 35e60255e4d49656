//! Redundancy checked by simulating the failure: the plan's instances run at steady
//! state, some crash at once, their clients reconnect onto the survivors with each
//! technique's own reconnect behaviour (WebSocket backoff and its jitter, SSE `retry`,
//! a poll's next request), and the survivors must hold the target through the storm.
//!
//! `[target] redundancy = "n+1"` asks for one spare instance beyond the steady state's
//! count and checks it by crashing one; `"n+2"` two spares, two crashed at once.
//! `[target] survive_loss = f` asks to survive losing a share `f` of the instances at
//! once (a zone): the plan is the smallest `k` with `k − ⌈f·k⌉` at least the steady
//! count, checked by crashing `⌈f·k⌉`. When the survivors do not hold the target, an
//! instance is added and the failure simulated again, up to [`MAX_ADDED`] times.
//!
//! The failure run is a **full** simulation of every instance (a crash breaks the
//! symmetry that makes two representative instances exact; see the `sizing` module
//! doc), with the limits lifted as in every sizing run. The crash comes
//! [`CRASH_AFTER`] into the measured window and the crashed instances never come back
//! within the run, so the window holds one second of steady state, the storm and the
//! survivors' new steady state. What the survivors are held to, per survivor:
//!
//! - slots and memory: the run's peak open connections and memory ÷ survivors (the
//!   memory peak may include the crashed instances' idle base before the crash: a
//!   little conservative);
//! - CPU: the window's mean utilization of the survivors ≤ `[target] utilization`;
//! - latency: the window's p99 ≤ `[target] latency_p99` and no clients left unserved.
//!
//! The storm is reported beside the verdict: the busiest bucket's handshakes/s (all
//! survivors) and CPU utilization (survivors only), the mean CPU queue wait over the
//! window and the window's p99 and maximum latency. Numbers only; the words are
//! `report::sizing`'s.

use super::limits::{Limits, Load, Resource};
use crate::engine::time::secs;
use crate::engine::{NS_PER_S, Nanos};
use crate::experiment::Target;
use crate::results::RunOutput;
use crate::scenario::{Fault, Scenario};

/// How far into the measured window the instances crash.
pub const CRASH_AFTER: Nanos = NS_PER_S;
/// Time-series bucket of a failure run: short, so the storm's peak is sharp.
pub const STORM_BUCKET: Nanos = NS_PER_S / 4;
/// Instances added, at most, when the survivors do not hold the target.
pub const MAX_ADDED: u32 = 3;

/// The failure a plan is checked against: `instances` in all, `lost` crash at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub instances: u32,
    pub lost: u32,
}

/// The plan for `needed` steady-state instances at the target's redundancy: `None`
/// when the target asks for none.
pub fn plan(needed: u32, target: &Target) -> Option<Failure> {
    let spares = target.redundancy.spares();
    match target.survive_loss {
        None if spares == 0 => None,
        None => Some(Failure {
            instances: needed + spares,
            lost: spares,
        }),
        Some(f) => {
            // The smallest k whose survivors after losing ⌈f·k⌉ (at least `spares`)
            // still number `needed`.
            let mut k = needed + spares.max(1);
            loop {
                let lost = lost_share(k, f).max(spares);
                if k - lost >= needed {
                    return Some(Failure { instances: k, lost });
                }
                k += 1;
            }
        }
    }
}

/// ⌈f·k⌉ instances, at least one and fewer than `k`.
fn lost_share(k: u32, f: f64) -> u32 {
    ((f * k as f64 - 1e-9).ceil() as u32).clamp(1, k.saturating_sub(1).max(1))
}

/// The same failure with one more instance (as many lost; a share recomputed).
pub fn with_one_more(failure: Failure, target: &Target) -> Failure {
    let instances = failure.instances + 1;
    let lost = match target.survive_loss {
        Some(f) => lost_share(instances, f).max(target.redundancy.spares()),
        None => failure.lost,
    };
    Failure { instances, lost }
}

/// `sc` (a sizing run of the deployment on `failure.instances`, limits lifted) with
/// instances `0..lost` crashing [`CRASH_AFTER`] into the measured window, for good.
pub fn failure_scenario(mut sc: Scenario, failure: Failure) -> Scenario {
    let at = sc.warmup + CRASH_AFTER;
    // Never back within the run.
    let downtime = sc.duration + CRASH_AFTER;
    sc.faults = (0..failure.lost)
        .map(|instance| Fault::crash(at, instance, downtime))
        .collect();
    sc.timeseries_bucket = STORM_BUCKET;
    sc
}

/// What the failure run measured, and the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Storm {
    pub failure: Failure,
    /// Handshakes per second of the busiest bucket after the crash (all survivors).
    pub handshakes_per_s_peak: f64,
    /// Survivors' CPU utilization in the busiest bucket after the crash.
    pub cpu_peak: f64,
    /// Survivors' mean CPU utilization over the window.
    pub cpu_mean: f64,
    /// Mean wait of a CPU job for a core, over the window.
    pub queue_wait_mean_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
    /// The limit the survivors broke (`None`: they held the target).
    pub failed_on: Option<Resource>,
    /// The p99 target broke while the survivors' CPU stayed under the target utilization
    /// at its busiest and a CPU job waited under a tenth of the target on average: the
    /// clients' own reconnect delay (EventSource's `retry`, a WebSocket's backoff), not
    /// load, made the storm's updates late, so more instances cannot help.
    pub late_without_load: bool,
}

impl Storm {
    pub fn survived(&self) -> bool {
        self.failed_on.is_none()
    }
}

/// Reads the failure run of `sc` (from [`failure_scenario`]) against the limits.
pub fn storm(failure: Failure, sc: &Scenario, output: &RunOutput, limits: &Limits) -> Storm {
    let m = &output.metrics;
    let k = failure.instances as f64;
    let survivors = (failure.instances - failure.lost).max(1) as f64;
    let crash_s = secs(sc.warmup + CRASH_AFTER);
    let after = output
        .timeseries
        .iter()
        .filter(|p| p.time_s + 1e-9 >= crash_s);
    let (mut handshakes, mut cpu) = (0.0f64, 0.0f64);
    for p in after {
        handshakes = handshakes.max(p.handshakes_per_s);
        // Bucket utilization counts every instance's cores; only survivors work.
        cpu = cpu.max(p.cpu_utilization * k / survivors);
    }
    let cpu_mean = m.cpu_utilization * k / survivors;
    let load = Load {
        clients_per_instance: (sc.workload.clients as f64 / survivors).ceil() as u64,
        instances: failure.instances - failure.lost,
        connections_peak: m.connections_peak / survivors,
        memory_peak_bytes: m.server_memory_peak_bytes / survivors,
        cpu_utilization: cpu_mean,
        latency_p99_s: m.latency_p99_s,
        warmup_s: secs(sc.warmup),
        start_window_s: secs(sc.workload.start_window),
        duration_s: secs(sc.duration),
        totals: m.clone(),
    };
    let failed_on = limits.exceeded(&load);
    let late_without_load = failed_on == Some(Resource::Latency)
        && cpu < limits.utilization
        && limits
            .latency_p99_s
            .is_some_and(|t| m.queue_wait_mean_s < 0.1 * t);
    Storm {
        failure,
        handshakes_per_s_peak: handshakes,
        cpu_peak: cpu,
        cpu_mean,
        queue_wait_mean_s: m.queue_wait_mean_s,
        latency_p99_s: m.latency_p99_s,
        latency_max_s: m.latency_max_s,
        failed_on,
        late_without_load,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Redundancy;

    fn target(redundancy: Redundancy, survive_loss: Option<f64>) -> Target {
        Target {
            redundancy,
            survive_loss,
            ..Target::only_utilization(0.7)
        }
    }

    #[test]
    fn plans_add_spares_or_survive_a_share() {
        assert_eq!(plan(3, &target(Redundancy::None, None)), None);
        assert_eq!(
            plan(3, &target(Redundancy::NPlus1, None)),
            Some(Failure {
                instances: 4,
                lost: 1
            })
        );
        assert_eq!(
            plan(1, &target(Redundancy::NPlus2, None)),
            Some(Failure {
                instances: 3,
                lost: 2
            })
        );
        // A third of the instances (a zone of three): 4 needed → 6, losing 2.
        assert_eq!(
            plan(4, &target(Redundancy::None, Some(1.0 / 3.0))),
            Some(Failure {
                instances: 6,
                lost: 2
            })
        );
        // Half: 1 needed → 2, losing 1.
        assert_eq!(
            plan(1, &target(Redundancy::None, Some(0.5))),
            Some(Failure {
                instances: 2,
                lost: 1
            })
        );
        let f = with_one_more(
            Failure {
                instances: 6,
                lost: 2,
            },
            &target(Redundancy::None, Some(1.0 / 3.0)),
        );
        assert_eq!(
            f,
            Failure {
                instances: 7,
                lost: 3
            }
        );
    }

    #[test]
    fn the_failure_scenario_crashes_for_good_inside_the_window() {
        let sc = Scenario::reference();
        let f = failure_scenario(
            sc.clone(),
            Failure {
                instances: 3,
                lost: 2,
            },
        );
        assert_eq!(f.faults.len(), 2);
        assert!(f.faults.iter().all(|x| x.at == sc.warmup + CRASH_AFTER));
        assert!(f.faults[0].at + f.faults[0].downtime > sc.warmup + sc.duration);
        assert_eq!(f.timeseries_bucket, STORM_BUCKET);
    }
}
