//! A rolling deploy checked by simulation: `[target] deploy_drain` (and `deploy_jitter`)
//! ask whether the plan's instances hold the target while they are redeployed one at a
//! time. The plan (the steady state's count, or the redundancy check's) runs at steady
//! state; [`failover::CRASH_AFTER`] into the measured window a `[[faults]]` deploy
//! drains instance 0, then 1, … — each admits no new connection, closes its connections
//! within the drain period (at uniform random times with jitter, else all at its end),
//! stops for [`RESTART`] and is back before the next one drains — and the clients
//! reconnect onto the others with their technique's own behaviour. The window covers
//! the whole deploy plus [`TAIL`].
//!
//! The run is read like a failover storm ([`failover::storm`]) with one instance out:
//! at most one instance is out at a time, so the others are held to the target as the
//! survivors of one crash (a little conservative: an instance is out only part of the
//! time). With one instance, a deploy is downtime: nothing can take its clients, and
//! the check says it fails (clients go unserved), which is the honest answer.
//!
//! Numbers only; the words are `report::sizing`'s.

use super::failover::{self, CRASH_AFTER, Failure, STORM_BUCKET, Storm};
use super::limits::Limits;
use crate::engine::{NS_PER_S, Nanos};
use crate::results::RunOutput;
use crate::scenario::{Fault, FaultKind, Scenario};

/// How long each redeployed instance is down between its drain and its return.
pub const RESTART: Nanos = 5 * NS_PER_S;
/// Measured time after the last instance is back.
pub const TAIL: Nanos = 5 * NS_PER_S;

/// What the deploy check asks: drain period and jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deploy {
    pub drain: Nanos,
    pub jitter: bool,
}

/// The outcome of the deploy check.
#[derive(Clone, Debug, PartialEq)]
pub enum DeployCheck {
    /// Simulated on `storm.failure.instances` instances (one out at a time).
    Checked { deploy: Deploy, storm: Storm },
    /// The deploy run would take `events` events, beyond the per-run limit.
    TooLarge {
        deploy: Deploy,
        instances: u32,
        events: f64,
    },
}

impl DeployCheck {
    pub fn deploy(&self) -> Deploy {
        match self {
            DeployCheck::Checked { deploy, .. } | DeployCheck::TooLarge { deploy, .. } => *deploy,
        }
    }

    /// `Some(true)` when the plan held the target through the deploy, `None` when not
    /// checked.
    pub fn survived(&self) -> Option<bool> {
        match self {
            DeployCheck::Checked { storm, .. } => Some(storm.survived()),
            DeployCheck::TooLarge { .. } => None,
        }
    }
}

/// `sc` (a sizing run of the deployment on `instances`, limits lifted) with a rolling
/// deploy starting [`CRASH_AFTER`] into the measured window, and a window long enough
/// for every instance to drain, restart and be back, plus [`TAIL`].
pub fn deploy_scenario(mut sc: Scenario, deploy: Deploy) -> Scenario {
    let k = sc.server.instances.max(1) as Nanos;
    let mut fault = Fault::crash(sc.warmup + CRASH_AFTER, 0, RESTART);
    fault.kind = FaultKind::Deploy;
    fault.drain = deploy.drain;
    fault.jitter = deploy.jitter;
    sc.faults = vec![fault];
    sc.duration = CRASH_AFTER
        .saturating_add(k.saturating_mul(deploy.drain.saturating_add(RESTART)))
        .saturating_add(TAIL);
    sc.timeseries_bucket = STORM_BUCKET;
    sc
}

/// Reads the deploy run of `sc` (from [`deploy_scenario`]) against the limits: the
/// others hold the target with one instance out.
pub fn storm(sc: &Scenario, output: &RunOutput, limits: &Limits) -> Storm {
    let failure = Failure {
        instances: sc.server.instances,
        lost: 1.min(sc.server.instances.saturating_sub(1)),
    };
    failover::storm(failure, sc, output, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_every_instance_drained_and_back() {
        let mut sc = Scenario::reference();
        sc.server.instances = 3;
        sc.warmup = 10 * NS_PER_S;
        let d = deploy_scenario(
            sc,
            Deploy {
                drain: 20 * NS_PER_S,
                jitter: true,
            },
        );
        assert_eq!(d.faults.len(), 1);
        assert_eq!(d.faults[0].kind, FaultKind::Deploy);
        assert_eq!(d.faults[0].at, 11 * NS_PER_S);
        // 1 s + 3 × (20 s + 5 s) + 5 s.
        assert_eq!(d.duration, 81 * NS_PER_S);
    }
}
