//! New connections as a resource: a cap on new connections per second (a managed
//! gateway's per-account limit, e.g. AWS API Gateway WebSocket's 500 per second per
//! account and Region, or a balancer's), against the handshake rate the deployment
//! needs in the steady state and at the peak of a failover storm.
//!
//! The cap is deployment-wide (`[target] max_new_connections_per_s`), so it is no
//! per-instance [`super::Resource`]: more instances do not lift it, and the answer
//! says so instead of adding any.
//!
//! **The seam for churn.** Today the steady handshake rate is what the sizing run
//! measured: reconnections after drops and proxy timeouts, short-polling connections
//! that keep-alive did not keep, chat POST connections. Users who come and go
//! (sessions, maximum connection durations) are workload keys of another change
//! (issue #13); once they exist, [`steady_handshakes_per_s`] is the one place that
//! adds their arrival rate (clients ÷ mean session length, or ÷ the maximum
//! connection duration) to the measured one — every check below takes the rate, not
//! the run. Numbers only.

/// The deployment's steady new connections per second: the sizing run's measured
/// handshakes (all simulated instances) × `scale` (deployment ÷ simulated instances).
/// Churn from session arrivals plugs in here (see the module doc).
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
