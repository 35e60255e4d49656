//! Theory beside simulation: for every predicted metric, the formula, the inputs, the
//! predicted and simulated values, their relative difference, and — when they differ by
//! more than the confidence interval or the metric's tolerance — the assumption of the
//! formula that the scenario breaks.

use std::fmt::Write;

use crate::columns::metric;
use crate::engine::time::secs;
use crate::results::RunMetrics;
use crate::scenario::{Arrivals, Pattern, PollSchedule, Rtt, Scenario, Technique};
use crate::steady::Steadiness;

use super::{Prediction, predict, value_of};

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
    let rho_pred = value_of(predicted, "cpu_utilization").unwrap_or(0.0);
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
            if sc.short_polling.schedule == PollSchedule::AfterResponse
                && sc.short_polling.jitter == 0
            {
                add(
                    "after-response polls without jitter are not Poisson arrivals: each client \
                     polls at a fixed cycle (interval + RTT + its own service and wait) from a \
                     phase that never mixes, and a poll that waited is answered later, so that \
                     client's next poll comes later and no longer meets the one it queued behind \
                     — the polls space themselves apart, while clients that start bunched keep \
                     meeting every cycle. The M/G/c wait is then only an order of magnitude, in \
                     either direction; `short-polling.jitter` mixes the phases"
                        .into(),
                    &["queue_wait_mean_s"],
                );
            }
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

/// Half the simulated clock's tick (1 ns): a time below it is 0 to the simulation.
const HALF_TICK_S: f64 = 0.5e-9;

fn fmt(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if v.is_nan() {
        "n/a".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.4e}")
    } else {
        format!("{v:.6}")
    }
}

/// A time in seconds: as [`fmt`], but 0 below half the clock's 1 ns tick (a queue wait
/// of 5·10⁻¹⁴ s from an M/M/c formula at low load is no wait the simulation can have).
fn fmt_s(v: f64) -> String {
    if v != 0.0 && v.abs() < HALF_TICK_S {
        "0 (< 1 ns)".into()
    } else {
        fmt(v)
    }
}

/// An input of a formula, by its label: times (`… (s)`) as [`fmt_s`].
fn fmt_input(label: &str, v: f64) -> String {
    if label.ends_with("(s)") {
        fmt_s(v)
    } else {
        fmt(v)
    }
}

/// Which bound a difference is judged against: the widest of three.
#[derive(Clone, Copy, PartialEq)]
enum Tolerance {
    /// The 95 % confidence interval over replications.
    Interval(f64),
    /// The metric's relative tolerance times the prediction.
    Relative(f64, f64),
    /// The metric's absolute floor (below it a relative difference means nothing).
    Floor(f64),
}

impl Tolerance {
    fn of(metric: &str, predicted: f64, ci: Option<f64>) -> Tolerance {
        let (rel_tol, abs_tol) = default_tolerance(metric);
        let relative = rel_tol * predicted.abs();
        let ci = ci.unwrap_or(0.0);
        if ci >= relative && ci >= abs_tol && ci > 0.0 {
            Tolerance::Interval(ci)
        } else if relative >= abs_tol {
            Tolerance::Relative(rel_tol, relative)
        } else {
            Tolerance::Floor(abs_tol)
        }
    }

    fn width(self) -> f64 {
        match self {
            Tolerance::Interval(w) | Tolerance::Relative(_, w) | Tolerance::Floor(w) => w,
        }
    }

    /// The bound in words, in the units the difference is shown in.
    fn describe(self, seconds: bool) -> String {
        let f = |v: f64| if seconds { fmt_s(v) } else { fmt(v) };
        match self {
            Tolerance::Interval(w) => format!("the 95 % interval ±{}", f(w)),
            Tolerance::Relative(r, _) => {
                format!("±{} %", crate::units::human::sig(100.0 * r, 3, true))
            }
            Tolerance::Floor(w) => format!("the absolute floor ±{}", f(w)),
        }
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
    // Why a metric may have no sample (nothing delivered, no CPU work).
    let no_sample = crate::diagnosis::why_no_sample(simulated, sc);
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
        let seconds = p.metric.ends_with("_s") && !p.metric.ends_with("_per_s");
        let show = |v: f64| if seconds { fmt_s(v) } else { fmt(v) };
        let (verdict, pred_s, rel_s) = match p.value {
            None => (
                format!("no closed form: {}", p.why_none.as_deref().unwrap_or("—")),
                "—".to_string(),
                "—".to_string(),
            ),
            // Nothing to compare: the window held no sample of this metric.
            Some(v) if sim.is_nan() => {
                let why = match p.metric {
                    "empty_response_fraction" => "no response was sent".to_string(),
                    "queue_wait_mean_s" => "no CPU work was done".to_string(),
                    _ if no_sample.is_empty() => "nothing was delivered".to_string(),
                    _ => format!("nothing was delivered: {}", no_sample.join("; ")),
                };
                let verdict =
                    format!("no sample in the measured window ({why}): nothing to compare");
                (verdict, show(v), "—".to_string())
            }
            Some(v) => {
                let ci = ci95
                    .and_then(|c| metric_value(c, p.metric))
                    .filter(|&c| c > 0.0);
                let tol = Tolerance::of(p.metric, v, ci);
                let diff = sim - v;
                // Both below the clock's tick: the same value to the simulation.
                let same = seconds && v.abs() < HALF_TICK_S && sim.abs() < HALF_TICK_S;
                // The difference in the terms of the bound it is judged by: relative
                // unless the absolute floor governs (or the prediction is 0).
                let rel_s = if same || diff == 0.0 {
                    "0".to_string()
                } else if matches!(tol, Tolerance::Floor(_)) || v == 0.0 {
                    format!(
                        "{}{} abs",
                        if diff > 0.0 { "+" } else { "-" },
                        show(diff.abs())
                    )
                } else {
                    format!("{:+.2} %", 100.0 * diff / v)
                };
                let verdict = if same || diff.abs() <= tol.width() {
                    format!("agrees (within {})", tol.describe(seconds))
                } else {
                    let why: Vec<&str> = causes
                        .iter()
                        .filter(|c| c.affects.contains(&p.metric))
                        .map(|c| c.text.as_str())
                        .collect();
                    if why.is_empty() {
                        format!(
                            "DIFFERS beyond {}: no broken assumption found — suspect the simulator or the formula",
                            tol.describe(seconds)
                        )
                    } else {
                        format!(
                            "differs beyond {}: {}",
                            tol.describe(seconds),
                            why.join("; ")
                        )
                    }
                };
                (verdict, show(v), rel_s)
            }
        };
        let inputs = p
            .inputs
            .iter()
            .map(|(k, v)| format!("{k} = {}", fmt_input(k, *v)))
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
                show(sim),
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
                show(sim)
            );
            let _ = writeln!(s, "  verdict:   {verdict}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simulated metrics equal to theory's predictions (0 where none is made).
    fn as_predicted(sc: &Scenario) -> RunMetrics {
        let mut m = RunMetrics::default();
        for p in predict(sc) {
            if let Some(v) = p.value {
                metric(p.metric).unwrap().set(&mut m, v);
            }
        }
        m
    }

    /// The text block of one metric in the plain-text explanation.
    fn block<'a>(text: &'a str, metric: &str) -> &'a str {
        let start = text.find(&format!("\n{metric}\n")).expect(metric);
        let rest = &text[start + 1..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        &rest[..end]
    }

    fn verdict(block: &str) -> &str {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix("verdict:"))
            .unwrap()
            .trim()
    }

    /// At ρ ≈ 5 %, the M/G/c wait is ~10⁻¹⁴ s — below the simulation's 1 ns tick. It
    /// prints as 0, and 0 simulated beside it is no difference at all (not −100 %).
    #[test]
    fn times_below_the_clock_tick_print_as_zero() {
        let mut sc = Scenario::reference();
        sc.workload.clients = 100_000;
        sc.server.instances = 4;
        let mut m = as_predicted(&sc);
        let w = value_of(&predict(&sc), "queue_wait_mean_s").unwrap();
        assert!(w > 0.0 && w < HALF_TICK_S, "{w}");
        m.queue_wait_mean_s = 0.0;
        let text = explain(&sc, &m, None, &Steadiness::Steady, false);
        let b = block(&text, "queue_wait_mean_s");
        assert!(b.contains("predicted: 0 (< 1 ns)"), "{b}");
        assert!(b.contains("difference: 0\n"), "{b}");
        assert!(!b.contains("e-1"), "{b}");
        assert!(
            !text.contains("W (s) = 4") && !text.contains("W (s) = 5"),
            "{text}"
        );
    }

    /// Where the absolute floor governs, the difference is shown in absolute terms: no
    /// "−100.00 % … agrees".
    #[test]
    fn agrees_only_beside_a_difference_within_the_bound_shown() {
        let mut sc = Scenario::reference();
        sc.workload.clients = 100_000;
        let mut m = as_predicted(&sc);
        let w = value_of(&predict(&sc), "queue_wait_mean_s").unwrap();
        // A prediction above the tick, a simulated 0: within the 0.1 µs floor.
        assert!(w > 1e-9 && w < 1e-7, "{w}");
        m.queue_wait_mean_s = 0.0;
        let text = explain(&sc, &m, None, &Steadiness::Steady, false);
        let b = block(&text, "queue_wait_mean_s");
        assert!(!b.contains('%'), "{b}");
        assert!(b.contains(" abs"), "{b}");
        assert!(
            verdict(b).starts_with("agrees (within the absolute floor"),
            "{b}"
        );
        // Off by 10 % of a rate with a 2 % tolerance: never "agrees".
        m.requests_per_s *= 1.10;
        let text = explain(&sc, &m, None, &Steadiness::Steady, false);
        let b = block(&text, "requests_per_s");
        assert!(b.contains("difference: +10.00 %"), "{b}");
        assert!(verdict(b).starts_with("DIFFERS beyond ±2 %"), "{b}");
    }

    /// After-response polling without jitter: the queue wait differs from M/G/c because
    /// the polls space themselves apart, and explain says so instead of suspecting the
    /// simulator. With jitter the assumption holds and a difference is a real suspect.
    #[test]
    fn after_response_polls_without_jitter_are_not_poisson() {
        let mut sc = Scenario::reference();
        sc.workload.clients = 100_000;
        sc.server.instances = 1;
        sc.server.cores = 3;
        sc.network.rtt = Rtt::Constant(40_000_000);
        let mut m = as_predicted(&sc);
        // The case: microseconds predicted, nanoseconds simulated.
        assert!(m.queue_wait_mean_s > 1e-6, "{}", m.queue_wait_mean_s);
        assert!(m.cpu_utilization < 0.8, "{}", m.cpu_utilization);
        m.queue_wait_mean_s = 9e-9;
        let text = explain(&sc, &m, None, &Steadiness::Steady, false);
        let v = verdict(block(&text, "queue_wait_mean_s"));
        assert!(v.starts_with("differs beyond"), "{v}");
        assert!(v.contains("space themselves apart"), "{v}");
        assert!(!v.contains("suspect"), "{v}");
        sc.short_polling.jitter = 500_000_000;
        let m2 = {
            let mut m2 = as_predicted(&sc);
            m2.queue_wait_mean_s = 9e-9;
            m2
        };
        let v = explain(&sc, &m2, None, &Steadiness::Steady, false);
        assert!(!v.contains("space themselves apart"), "{v}");
    }

    /// No sample is not a number to compare: the verdict says why it is missing.
    #[test]
    fn a_metric_without_a_sample_is_na_with_its_reason() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Sse;
        let mut m = as_predicted(&sc);
        m.latency_mean_s = f64::NAN;
        m.latency_max_s = f64::NAN;
        m.empty_response_fraction = f64::NAN;
        m.cpu_utilization = 1.0;
        let text = explain(&sc, &m, None, &Steadiness::Steady, false);
        let b = block(&text, "latency_mean_s");
        assert!(b.contains("simulated: n/a"), "{b}");
        assert!(verdict(b).contains("nothing was delivered"), "{b}");
        assert!(verdict(b).contains("the CPU is saturated (ρ = 1.00"), "{b}");
        let b = block(&text, "empty_response_fraction");
        assert!(verdict(b).contains("no response was sent"), "{b}");
        assert!(!text.contains("agrees") || !b.contains("agrees"), "{b}");
    }
}
