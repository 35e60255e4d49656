//! Theory beside simulation: for every predicted metric, the formula, the inputs, the
//! predicted and simulated values, their relative difference, and — when they differ by
//! more than the confidence interval or the metric's tolerance — the assumption of the
//! formula that the scenario breaks.

use std::fmt::Write;

use crate::columns::metric;
use crate::engine::time::secs;
use crate::results::RunMetrics;
use crate::scenario::{Arrivals, Pattern, Rtt, Scenario, Technique};
use crate::steady::Steadiness;

use super::{Prediction, predict};

/// Default tolerance for a metric when no confidence interval is given:
/// (relative, absolute floor).
fn default_tolerance(metric: &str) -> (f64, f64) {
    match metric {
        "requests_per_s" => (0.02, 1e-9),
        "empty_response_fraction" => (0.0, 0.03),
        "latency_mean_s" => (0.05, 1e-6),
        "latency_max_s" => (0.10, 1e-6),
        "connections_mean" => (0.01, 1e-9),
        "server_memory_mean_bytes" => (0.01, 1.0),
        "bytes_down_per_s" | "bytes_up_per_s" => (0.03, 1e-9),
        "cpu_utilization" => (0.05, 1e-6),
        "queue_wait_mean_s" => (0.10, 1e-7),
        "handshakes_per_s" => (0.03, 1e-9),
        _ => (0.05, 0.0),
    }
}

fn metric_value(m: &RunMetrics, name: &str) -> Option<f64> {
    metric(name).map(|c| c.get(m))
}

/// An assumption of the formulas this run breaks, and the metrics it can move.
struct Cause {
    text: String,
    affects: &'static [&'static str],
}

const ALL: &[&str] = &super::PREDICTED;
const QUEUE: &[&str] = &[
    "requests_per_s",
    "latency_mean_s",
    "latency_max_s",
    "server_memory_mean_bytes",
    "cpu_utilization",
    "queue_wait_mean_s",
];
const LATENCY: &[&str] = &["latency_mean_s", "latency_max_s", "queue_wait_mean_s"];

fn causes(
    sc: &Scenario,
    sim: &RunMetrics,
    predicted: &[Prediction],
    steadiness: &Steadiness,
) -> Vec<Cause> {
    let mut out = vec![];
    let mut add =
        |text: String, affects: &'static [&'static str]| out.push(Cause { text, affects });
    if !sc.faults.is_empty() || sc.network.disconnect_every.is_some() {
        add("faults present (crashes or network drops)".into(), ALL);
    }
    if sim.rejected_connections > 0.0 {
        add(
            format!(
                "{} rejected connections (slots or memory exhausted)",
                sim.rejected_connections
            ),
            ALL,
        );
    }
    let rho_pred = predicted
        .iter()
        .find(|p| p.metric == "cpu_utilization")
        .and_then(|p| p.value)
        .unwrap_or(0.0);
    let rho = rho_pred.max(sim.cpu_utilization);
    if rho > 0.8 {
        add(
            format!(
                "queueing near saturation (ρ = {rho:.2} > 0.8): queue formulas are approximate and the \
                 simulated mean converges slowly"
            ),
            QUEUE,
        );
    }
    let proxy = sc.network.proxy_idle_timeout.map(secs);
    let keepalive = secs(sc.server.keepalive_timeout);
    let rtt = match sc.network.rtt {
        Rtt::Constant(r) => secs(r),
        Rtt::LogNormal { median, .. } => secs(median),
    };
    match sc.technique {
        Technique::LongPolling => {
            let timeout = secs(sc.long_polling.timeout);
            if let Some(p) = proxy.filter(|&p| timeout >= p) {
                add(
                    format!(
                        "proxy timeouts: long-poll timeout {timeout} s ≥ proxy_idle_timeout {p} s — holds end \
                         with a 504 and a new connection"
                    ),
                    ALL,
                );
            }
            if sc.long_polling.reconnect_delay > 0 {
                add(
                    format!(
                        "reconnect gaps: reconnect_delay {} s between polls",
                        secs(sc.long_polling.reconnect_delay)
                    ),
                    ALL,
                );
            }
        }
        Technique::ShortPolling => {
            let t = secs(sc.short_polling.interval) + secs(sc.short_polling.jitter);
            if t + rtt >= keepalive || proxy.is_some_and(|p| t + rtt >= p) {
                add(
                    format!(
                        "keep-alive expiry: interval + jitter + RTT = {:.3} s ≥ keep-alive {keepalive} s or \
                         proxy idle {proxy:?} s — polls pay new connections",
                        t + rtt
                    ),
                    ALL,
                );
            }
        }
        Technique::Sse | Technique::Websocket => {
            let hb = if sc.technique == Technique::Sse {
                sc.sse.heartbeat
            } else {
                sc.websocket.heartbeat
            }
            .map(secs);
            if let Some(p) = proxy {
                if hb.is_none_or(|h| h >= p) {
                    add(
                        format!(
                            "keep-alive expiry: heartbeat {hb:?} s does not beat proxy idle {p} s — silent \
                             streams are cut and reconnect"
                        ),
                        ALL,
                    );
                }
            }
            if sc.workload.pattern == Pattern::Broadcast {
                add(
                    "fan-out order for broadcast: pushes of one update queue behind each other"
                        .into(),
                    LATENCY,
                );
            }
        }
    }
    if sim.proxy_timeouts > 0.0 && sc.technique != Technique::LongPolling {
        add(
            format!("{} proxy timeouts in the window", sim.proxy_timeouts),
            ALL,
        );
    }
    if sim.reconnects > 0.0 {
        add(
            format!(
                "reconnect gaps: {} reconnections in the window",
                sim.reconnects
            ),
            ALL,
        );
    }
    if sc.technique == Technique::LongPolling && sc.workload.pattern == Pattern::Broadcast {
        add(
            "fan-out order for broadcast: held polls are answered in a burst and return together"
                .into(),
            QUEUE,
        );
    }
    // A start-up transient in the window: the MSER-5 detector's finding, not a guess.
    if let Steadiness::Transient(t) = steadiness {
        add(t.sentence(secs(sc.warmup)), ALL);
    }
    if !matches!(sc.network.rtt, Rtt::Constant(_)) {
        add(
            "RTT distribution not constant: formulas use the mean RTT (exact only where linear in r)".into(),
            ALL,
        );
    }
    if sc.workload.arrivals == Arrivals::Periodic {
        add(
            "periodic updates: their phase against the poll cycle is not Poisson-random for one run".into(),
            &["empty_response_fraction", "latency_mean_s", "latency_max_s"],
        );
    }
    if sc.workload.pattern == Pattern::Chat {
        add(
            "chat pattern: upstream messages, no closed form".into(),
            ALL,
        );
    }
    out
}

fn fmt(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.4e}")
    } else {
        format!("{v:.6}")
    }
}

/// Predictions beside simulated metrics, one entry per predicted metric: formula, inputs,
/// predicted, simulated, relative difference, and a one-line reason when they differ by
/// more than the 95 % interval (`ci95`, when given) or the metric's default tolerance.
/// As a Markdown table with `markdown`, as plain text otherwise. `steadiness` is what the
/// MSER-5 detector says of the row's time series (`crate::steady::detect`).
pub fn explain(
    sc: &Scenario,
    simulated: &RunMetrics,
    ci95: Option<&RunMetrics>,
    steadiness: &Steadiness,
    markdown: bool,
) -> String {
    let predicted = predict(sc);
    let causes = causes(sc, simulated, &predicted, steadiness);
    let mut s = String::new();
    if markdown {
        let _ = writeln!(
            s,
            "| metric | formula | inputs | predicted | simulated | rel. diff | verdict |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(
            s,
            "Theory beside simulation — {} , {} clients",
            sc.technique, sc.workload.clients
        );
    }
    for p in &predicted {
        let sim = metric_value(simulated, p.metric).unwrap_or(f64::NAN);
        let (verdict, pred_s, rel_s) = match p.value {
            None => (
                format!("no closed form: {}", p.why_none.as_deref().unwrap_or("—")),
                "—".to_string(),
                "—".to_string(),
            ),
            Some(v) => {
                let (rel_tol, abs_tol) = default_tolerance(p.metric);
                let ci = ci95
                    .and_then(|c| metric_value(c, p.metric))
                    .filter(|&c| c > 0.0);
                let tol = ci.unwrap_or(0.0).max(rel_tol * v.abs()).max(abs_tol);
                let diff = sim - v;
                let rel = if v != 0.0 { diff / v } else { f64::NAN };
                let rel_s = if rel.is_nan() {
                    format!("{diff:+.3e} abs")
                } else {
                    format!("{:+.2} %", 100.0 * rel)
                };
                let verdict = if diff.abs() <= tol {
                    format!("agrees (tolerance ±{})", fmt(tol))
                } else {
                    let why: Vec<&str> = causes
                        .iter()
                        .filter(|c| c.affects.contains(&p.metric))
                        .map(|c| c.text.as_str())
                        .collect();
                    if why.is_empty() {
                        format!(
                            "DIFFERS beyond ±{}: no broken assumption found — suspect the simulator or the formula",
                            fmt(tol)
                        )
                    } else {
                        format!("differs beyond ±{}: {}", fmt(tol), why.join("; "))
                    }
                };
                (verdict, fmt(v), rel_s)
            }
        };
        let inputs = p
            .inputs
            .iter()
            .map(|(k, v)| format!("{k} = {}", fmt(*v)))
            .collect::<Vec<_>>()
            .join("; ");
        if markdown {
            let esc = |t: &str| t.replace('|', "\\|");
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                p.metric,
                esc(&p.formula),
                esc(&inputs),
                pred_s,
                fmt(sim),
                rel_s,
                esc(&verdict)
            );
        } else {
            let _ = writeln!(s, "\n{}", p.metric);
            let _ = writeln!(s, "  formula:   {}", p.formula);
            if !inputs.is_empty() {
                let _ = writeln!(s, "  inputs:    {inputs}");
            }
            let _ = writeln!(
                s,
                "  predicted: {pred_s}   simulated: {}   difference: {rel_s}",
                fmt(sim)
            );
            let _ = writeln!(s, "  verdict:   {verdict}");
        }
    }
    s
}
