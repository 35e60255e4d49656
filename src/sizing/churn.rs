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

/// The deployment's steady new connections per second: the sizing run's measured
/// handshakes (all simulated instances) × `scale` (deployment ÷ simulated instances).
pub fn steady_handshakes_per_s(measured_handshakes_per_s: f64, scale: f64) -> f64 {
    measured_handshakes_per_s * scale
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

    #[test]
    fn the_cap_is_a_ratio_of_the_rate() {
        assert_eq!(steady_handshakes_per_s(100.0, 5.0), 500.0);
        assert_eq!(cap_use(250.0, Some(500.0)), 0.5);
        assert!(cap_use(250.0, None).is_nan());
        assert!(cap_use(600.0, Some(500.0)) > 1.0);
    }
}
