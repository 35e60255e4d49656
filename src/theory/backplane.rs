//! The backplane's closed forms: utilization of its busiest node and the mean wait of an
//! update in a node's queue.
//!
//! Each node is a FIFO single server with deterministic service `D = (1 + k)/capacity`
//! (`world/backplane.rs`). Node `j` receives the updates of the streams `s` with
//! `s mod S = j`: all of them for a broadcast (one stream), `⌈N/S⌉` or `⌊N/S⌋` of the `N`
//! per-client streams otherwise, so `λ_j = λ·n_j/N` with `λ` the total update rate.
//! Its utilization is `ρ_j = λ_j·D`. With Poisson updates every node sees a thinned
//! Poisson stream, an M/D/1 queue, whose mean wait is Pollaczek–Khinchine's
//! `W_j = ρ_j·D / (2(1 − ρ_j))` ([`super::queueing::mg1_wait`]); the mean over updates is
//! `Σ λ_j·W_j / λ`. Periodic sources have no closed form for the wait.

use super::Prediction;
use super::queueing::mg1_wait;
use crate::engine::time::secs;
use crate::scenario::{Arrivals, Pattern, Scenario};
use crate::world::backplane::{service_time, subscribers_per_update};

const UTILIZATION: &str = "backplane_utilization";
const WAIT: &str = "backplane_wait_mean_s";

/// Per node: its share of the update rate (`n_j/N`).
fn node_shares(sc: &Scenario) -> Vec<f64> {
    let nodes = sc.server.backplane_nodes.max(1) as u64;
    match sc.workload.pattern {
        // One stream, on node 0.
        Pattern::Broadcast => vec![1.0],
        Pattern::PerClient | Pattern::Chat => {
            let clients = u64::from(sc.workload.clients.max(1));
            let n = if sc.workload.pattern == Pattern::Chat {
                clients.div_ceil(u64::from(sc.workload.room_size.max(1)))
            } else {
                clients
            };
            (0..nodes.min(n))
                .map(|j| {
                    // Streams s < n with s mod nodes = j.
                    let count = (n - j).div_ceil(nodes);
                    count as f64 / n as f64
                })
                .collect()
        }
    }
}

/// Total update rate entering the backplane, per second.
fn total_rate(sc: &Scenario) -> f64 {
    match sc.workload.pattern {
        Pattern::Broadcast => sc.workload.rate,
        Pattern::PerClient | Pattern::Chat => sc.workload.rate * f64::from(sc.workload.clients),
    }
}

/// The two backplane predictions.
pub(super) fn predict(sc: &Scenario) -> Vec<Prediction> {
    if sc.server.instances <= 1 {
        let why = "one instance: no backplane";
        return vec![
            Prediction::none(UTILIZATION, "—", why),
            Prediction::none(WAIT, "—", why),
        ];
    }
    if sc.server.backplane_capacity.per_second().is_none() {
        let inputs = vec![("b (s)", secs(sc.server.backplane_latency))];
        return vec![
            Prediction::some(
                UTILIZATION,
                0.0,
                "unlimited capacity: no queue",
                inputs.clone(),
            ),
            Prediction::some(WAIT, 0.0, "unlimited capacity: no queue", inputs),
        ];
    }
    let d = secs(service_time(sc));
    let lambda = total_rate(sc);
    let shares = node_shares(sc);
    let busiest = shares.iter().copied().fold(0.0, f64::max);
    let rho_max = lambda * busiest * d;
    let k = f64::from(subscribers_per_update(sc));
    let inputs = vec![
        ("λ updates/s", lambda),
        ("k instances subscribed", k),
        ("D = (1+k)/capacity (s)", d),
        ("S nodes", f64::from(sc.server.backplane_nodes)),
        ("busiest node's share", busiest),
    ];
    let utilization = Prediction::some(
        UTILIZATION,
        rho_max.min(1.0),
        "busiest node: ρ = λ·share·D (capped at 1: beyond it the queue grows)",
        inputs.clone(),
    );
    let wait = if sc.workload.arrivals != Arrivals::Poisson {
        Prediction::none(
            WAIT,
            "M/D/1 per node",
            "periodic sources: the queue is not M/D/1",
        )
    } else if rho_max >= 1.0 {
        Prediction::none(
            WAIT,
            "M/D/1 per node",
            "a backplane node is at or above saturation (ρ ≥ 1): its queue grows for as long as the run lasts",
        )
    } else {
        let sum: f64 = shares
            .iter()
            .map(|&share| {
                let lambda_j = lambda * share;
                share * mg1_wait(lambda_j, d, d * d).unwrap_or(f64::NAN)
            })
            .sum();
        Prediction::some(
            WAIT,
            sum,
            "Σ_j (λ_j/λ)·ρ_j·D/(2(1−ρ_j)): Pollaczek–Khinchine for M/D/1 per node",
            inputs,
        )
    };
    vec![utilization, wait]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::BackplaneCapacity;

    #[test]
    fn streams_spread_over_nodes_by_remainder() {
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::PerClient;
        sc.workload.clients = 10;
        sc.server.backplane_nodes = 4;
        // Streams 0..10 mod 4: nodes get 3, 3, 2, 2.
        assert_eq!(node_shares(&sc), vec![0.3, 0.3, 0.2, 0.2]);
        sc.workload.pattern = Pattern::Broadcast;
        assert_eq!(node_shares(&sc), vec![1.0]);
    }

    /// The simulated backplane against Pollaczek–Khinchine: a broadcast to 4 instances
    /// (D = 5 ms per update at 1,000 messages/s) at ρ = 0.5 and 0.8, 6 replications of
    /// 200 s. Utilization within 2 % of λD; the mean wait within its 95 % interval over
    /// replications plus 3 % of the M/D/1 figure (the window starts after a 10 s warm-up,
    /// so the empty start barely shows).
    #[test]
    fn simulated_backplane_matches_md1() {
        use crate::engine::NS_PER_S;
        use crate::scenario::Technique;
        for (rate, rho) in [(100.0, 0.5), (160.0, 0.8)] {
            let mut sc = Scenario::reference();
            sc.technique = Technique::Websocket;
            sc.workload.clients = 8;
            sc.workload.pattern = Pattern::Broadcast;
            sc.workload.rate = rate;
            sc.server.instances = 4;
            sc.server.backplane_capacity = BackplaneCapacity::PerSecond(1000.0);
            sc.duration = 200 * NS_PER_S;
            sc.warmup = 10 * NS_PER_S;
            let p = predict(&sc);
            let (u_th, w_th) = (p[0].value.unwrap(), p[1].value.unwrap());
            assert!((u_th - rho).abs() < 1e-12);
            let (mut us, mut ws) = (vec![], vec![]);
            for r in 0..6 {
                sc.replication = r;
                let m = crate::sim::simulate(&sc).metrics;
                us.push(m.backplane_utilization);
                ws.push(m.backplane_wait_mean_s);
            }
            let (u, _) = crate::stats::mean_ci(&us);
            let (w, h) = crate::stats::mean_ci(&ws);
            let h = h.unwrap();
            assert!(
                (u - u_th).abs() <= 0.02 * u_th,
                "ρ {rho}: utilization {u} vs {u_th}"
            );
            assert!(
                (w - w_th).abs() <= h + 0.03 * w_th,
                "ρ {rho}: wait {w} ± {h} vs P-K {w_th}"
            );
        }
    }

    #[test]
    fn md1_wait_at_half_load() {
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::Broadcast;
        sc.workload.rate = 100.0;
        sc.server.instances = 4;
        // 5 messages per update at 1,000/s: D = 5 ms, ρ = 0.5, W = ρD/(2(1−ρ)) = 2.5 ms.
        sc.server.backplane_capacity = BackplaneCapacity::PerSecond(1000.0);
        let p = predict(&sc);
        assert!((p[0].value.unwrap() - 0.5).abs() < 1e-12);
        assert!((p[1].value.unwrap() - 0.0025).abs() < 1e-12);
        sc.workload.rate = 250.0;
        let p = predict(&sc);
        assert_eq!(p[0].value, Some(1.0));
        assert_eq!(p[1].value, None);
    }
}
