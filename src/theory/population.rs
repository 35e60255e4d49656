//! Clients that come and go: the handshake rate when sessions end (churn) or a gateway
//! closes connections for their age (`[workload] session`, `max_connection_duration`).
//!
//! A client's connection lives until its user leaves (exponential session of mean `S`,
//! memoryless, so the remaining session at any instant is again exponential of mean `S`)
//! or until it reaches the gateway's age limit `M`, whichever comes first:
//! `E[min(Exp(S), M)] = S·(1 − e^{−M/S})` (without churn `M`, without a limit `S`). A new
//! user connects at once; after a gateway close the client reconnects after its
//! technique's gap `g` (SSE's `retry`; 0 for the others, whose next request or first
//! reconnection attempt leaves at once), which happens with probability `e^{−M/S}`.
//! So, by the renewal–reward theorem, `H = N / (S·(1 − e^{−M/S}) + e^{−M/S}·g)` — the
//! issue's `N / S` under churn alone. Techniques whose every request already opens a new
//! connection keep their own rate.

use crate::engine::time::secs;
use crate::scenario::{Scenario, Technique};

use super::Prediction;
use super::inputs::Inputs;

/// Do clients leave or connections age out in this scenario?
pub(super) fn churns(sc: &Scenario) -> bool {
    sc.workload.session.is_some() || sc.workload.max_connection_duration.is_some()
}

/// Why the other formulas say nothing under churn.
pub(super) const WHY_NOT: &str = "clients churn or a gateway closes connections for their \
     age: this formula assumes clients and connections that last the whole run";

/// Handshakes per second under churn, given the technique's own rate `own` (new
/// connections its requests open anyway).
pub(super) fn handshakes(sc: &Scenario, inp: &Inputs, own: f64) -> Prediction {
    if own > 0.0 {
        return Prediction::some(
            "handshakes_per_s",
            own,
            "every request already opens its own connection: churn adds none",
            vec![("H (handshakes/s)", own)],
        );
    }
    let s = sc.workload.session.map(secs);
    let m = sc.workload.max_connection_duration.map(secs);
    let gap = reopen_gap_s(sc);
    let (life, p_age) = match (s, m) {
        (Some(s), Some(m)) => (s * (1.0 - (-m / s).exp()), (-m / s).exp()),
        (Some(s), None) => (s, 0.0),
        (None, Some(m)) => (m, 1.0),
        (None, None) => (f64::INFINITY, 0.0),
    };
    let cycle = life + p_age * gap;
    let mut inputs = vec![("N", inp.n)];
    if let Some(s) = s {
        inputs.push(("S = mean session (s)", s));
    }
    if let Some(m) = m {
        inputs.push(("M = max connection duration (s)", m));
        inputs.push(("g = reconnection gap (s)", gap));
    }
    Prediction::some(
        "handshakes_per_s",
        inp.n / cycle,
        "renewal: H = N / (S·(1 − e^{−M/S}) + e^{−M/S}·g); churn alone N/S, age limit alone N/(M + g)",
        inputs,
    )
}

/// Seconds between a connection closed by its age (or a session's end) and the next one:
/// for SSE the delay in effect once a stream has been open — the server's `retry:` field
/// if it sends one, else the client's first delay (`[sse] retry` or the browser's); the
/// other techniques reopen at once.
pub fn reopen_gap_s(sc: &Scenario) -> f64 {
    if sc.technique == Technique::Sse {
        secs(
            sc.sse
                .server_retry
                .unwrap_or_else(|| crate::techniques::Sse::first_retry(sc)),
        )
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;

    #[test]
    fn churn_alone_is_n_over_the_mean_session() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.workload.session = Some(60 * NS_PER_S);
        let inp = Inputs::new(&sc);
        let h = handshakes(&sc, &inp, 0.0).value.unwrap();
        assert!((h - sc.workload.clients as f64 / 60.0).abs() < 1e-9);
        // An age limit as well: S·(1 − e^{−M/S}) = 60·(1 − e^{−1/2}).
        sc.workload.max_connection_duration = Some(30 * NS_PER_S);
        let h = handshakes(&sc, &inp, 0.0).value.unwrap();
        let want = sc.workload.clients as f64 / (60.0 * (1.0 - (-0.5f64).exp()));
        assert!((h - want).abs() < 1e-9);
        // SSE waits `retry` after a gateway close, with probability e^{−M/S}.
        sc.technique = Technique::Sse;
        let h = handshakes(&sc, &inp, 0.0).value.unwrap();
        let life = 60.0 * (1.0 - (-0.5f64).exp()) + (-0.5f64).exp() * 3.0;
        assert!((h - sc.workload.clients as f64 / life).abs() < 1e-9);
    }
}
