//! New connections as a resource: a cap on new connections per second (a managed
//! gateway's per-account limit, e.g. AWS API Gateway WebSocket's 500 per second per
//! account and Region, or a balancer's), against the handshake rate the deployment
//! needs in the steady state and at the peak of a failover storm.
//!
//! The cap is deployment-wide (`[target] max_new_connections_per_s`), so it is no
//! per-instance [`super::Resource`]: more instances do not lift it, and the answer
//! says so instead of adding any.
//!
//! **Churn.** The steady handshake rate is what the sizing run measured: reconnections
//! after drops and proxy timeouts, short-polling connections that keep-alive did not
//! keep, chat POST connections — and, since the sizing runs simulate the experiment's
//! whole `[workload]`, users who come and go (`session`) and connections a gateway
//! closes at `max_connection_duration`. Theory's `handshakes_per_s` (N ÷ mean session,
//! see `docs/model.md`) checks that measurement in `tests/steady_state.rs`. Every check
//! below takes the rate, not the run. Numbers only.
//!
//! **Ages a run cannot see.** A `max_connection_duration` at least as long as a sizing
//! run (warm-up and window: AWS API Gateway's 2 h against a run of seconds) closes no
//! connection in it, so the measured rate lacks those closes. They are added from the
//! closed form instead ([`unseen_age_closes_per_s`]): with mean session `S` and age
//! limit `M`, `N / (S·(1 − e^{−M/S}) + e^{−M/S}·g) − N / S` (`N / (M + g)` without
//! sessions; `g` is SSE's reconnection gap, 0 for the others), the renewal rate of
//! `theory::population` less the churn the run did measure.

use super::limits::Load;
use crate::engine::time::secs;
use crate::scenario::Scenario;

/// The deployment's steady new connections per second: the sizing run's measured
/// handshakes (all simulated instances) × `scale` (deployment ÷ simulated instances).
pub fn steady_handshakes_per_s(measured_handshakes_per_s: f64, scale: f64) -> f64 {
    measured_handshakes_per_s * scale
}

/// New connections per second of the deployment's `sc.workload.clients` that
/// `max_connection_duration` closes but the sizing run of `load` was too short to see
/// (0 when it is off or the run lasted at least that long; see the module doc).
pub fn unseen_age_closes_per_s(sc: &Scenario, load: &Load) -> f64 {
    let Some(m) = sc.workload.max_connection_duration.map(secs) else {
        return 0.0;
    };
    if m < load.warmup_s + load.duration_s {
        return 0.0;
    }
    let n = f64::from(sc.workload.clients);
    let gap = crate::theory::population::reopen_gap_s(sc);
    match sc.workload.session.map(secs) {
        Some(s) => {
            let p_age = (-m / s).exp();
            n / (s * (1.0 - p_age) + p_age * gap) - n / s
        }
        None => n / (m + gap),
    }
}

/// Handshakes per second ÷ the cap (NaN without a cap): above 1, the cap refuses
/// connections whatever the instance count.
pub fn cap_use(handshakes_per_s: f64, cap: Option<f64>) -> f64 {
    match cap {
        Some(c) if c > 0.0 => handshakes_per_s / c,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Technique;

    #[test]
    fn the_cap_is_a_ratio_of_the_rate() {
        assert_eq!(steady_handshakes_per_s(100.0, 5.0), 500.0);
        assert_eq!(cap_use(250.0, Some(500.0)), 0.5);
        assert!(cap_use(250.0, None).is_nan());
        assert!(cap_use(600.0, Some(500.0)) > 1.0);
    }

    fn load(warmup_s: f64, duration_s: f64) -> Load {
        Load {
            clients_per_instance: 0,
            instances: 1,
            connections_peak: 0.0,
            memory_peak_bytes: 0.0,
            cpu_utilization: 0.0,
            latency_p99_s: 0.0,
            warmup_s,
            start_window_s: 0.0,
            duration_s,
            totals: Default::default(),
        }
    }

    #[test]
    fn a_gateways_two_hours_count_though_no_run_lasts_them() {
        use crate::engine::NS_PER_S;
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.workload.clients = 100_000;
        sc.workload.max_connection_duration = Some(7200 * NS_PER_S);
        // 100,000 / 7,200 s = 13.9 new connections per second.
        let h = unseen_age_closes_per_s(&sc, &load(10.0, 30.0));
        assert!((h - 100_000.0 / 7200.0).abs() < 1e-9, "{h}");
        // A run longer than the limit measured them itself.
        assert_eq!(unseen_age_closes_per_s(&sc, &load(200.0, 7100.0)), 0.0);
        // With sessions, only what the age limit adds to the churn N / S.
        sc.workload.session = Some(3600 * NS_PER_S);
        let (s, m) = (3600.0, 7200.0);
        let p = f64::exp(-m / s);
        let want = 100_000.0 / (s * (1.0 - p)) - 100_000.0 / s;
        let h = unseen_age_closes_per_s(&sc, &load(10.0, 30.0));
        assert!((h - want).abs() < 1e-9 && h > 0.0, "{h} {want}");
        sc.workload.max_connection_duration = None;
        assert_eq!(unseen_age_closes_per_s(&sc, &load(10.0, 30.0)), 0.0);
    }
}
