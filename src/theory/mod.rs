//! Closed-form predictions beside the simulation.
//!
//! For a [`Scenario`], [`predict`] computes what queueing theory and renewal arguments say
//! the main metrics should be — request rate, empty responses, latency, connections,
//! memory, bytes, CPU and queue wait — each with its formula in words and symbols, the
//! numbers plugged in, and, when no closed form applies, the reason. [`explain`] puts the
//! predictions beside simulated metrics and says why they differ when they do.
//!
//! The formulas predict the simulator's exact semantics (read the technique files), in
//! the steady state, with these tools:
//! - renewal–reward theorem: a client that repeats a cycle of mean length `E[C]` makes
//!   `1/E[C]` requests per second; an update arriving at a random time waits for the next
//!   snapshot on average `E[C²]/(2E[C])` (the residual life; Kleinrock vol. 1, §5.2);
//! - Little's law `L = λW`: open connections, requests in service, held long polls;
//! - PASTA (Poisson arrivals see time averages): the share of updates that arrive while
//!   a long poll is not held is the share of time it is not held;
//! - Erlang C, Pollaczek–Khinchine and friends for the CPU queue (see [`queueing`]).
//!
//! Inputs common to all formulas: mean RTT `r` (for a log-normal RTT
//! `E[r] = median·exp(σ²/2)`, truncated when bounds are set — an approximation wherever
//! a formula is not linear in `r`), one-way delay `d = r/2`, request CPU `s_r`, push CPU
//! `s_p`, handshake CPU `s_h`, `N` clients, `λ` updates per second reaching each client.

pub mod queueing;

mod backplane;
mod explain;
mod inputs;
mod long_polling;
pub(crate) mod population;
mod short_polling;
mod streams;
mod tabs;
mod warmup;

pub use explain::explain;
pub use warmup::{WarmupNeed, needed_warmup};

use crate::columns::{PREDICTED, TheoryCells};
use crate::scenario::{Pattern, Scenario, Technique};
use inputs::Inputs;

/// One predicted metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The predicted metric, one of the column list's `PREDICTED`, e.g.
    /// `"requests_per_s"`.
    pub metric: &'static str,
    /// The prediction; `None` when no closed form applies.
    pub value: Option<f64>,
    /// The formula, in words and symbols.
    pub formula: String,
    /// The numbers plugged in, with their symbols.
    pub inputs: Vec<(String, f64)>,
    /// When `value` is `None`: why no closed form applies.
    pub why_none: Option<String>,
}

impl Prediction {
    fn some(
        metric: &'static str,
        value: f64,
        formula: impl Into<String>,
        inputs: Vec<(&str, f64)>,
    ) -> Self {
        Prediction {
            metric,
            value: Some(value),
            formula: formula.into(),
            inputs: inputs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            why_none: None,
        }
    }

    fn none(metric: &'static str, formula: impl Into<String>, why: impl Into<String>) -> Self {
        Prediction {
            metric,
            value: None,
            formula: formula.into(),
            inputs: vec![],
            why_none: Some(why.into()),
        }
    }
}

/// Closed-form predictions for every metric in [`PREDICTED`], in that order.
/// The value predicted for `metric` among `predictions`; `None` where it has no closed form.
pub fn value_of(predictions: &[Prediction], metric: &str) -> Option<f64> {
    predictions
        .iter()
        .find(|p| p.metric == metric)
        .and_then(|p| p.value)
}

pub fn predict(sc: &Scenario) -> Vec<Prediction> {
    let why_not = if !sc.faults.is_empty() {
        Some(
            "faults configured (instance crashes): reconnect storms have no closed form"
                .to_string(),
        )
    } else if sc.network.disconnect_every.is_some() {
        Some(
            "network drops configured (disconnect_every): reconnect gaps have no closed form here"
                .to_string(),
        )
    } else if sc.workload.pattern == Pattern::Chat {
        Some(
            "chat: messages travel upstream on their own requests or frames and fan out to rooms; \
             no closed form here"
                .to_string(),
        )
    } else if sc.workload.rate <= 0.0 {
        Some("no updates (rate 0)".to_string())
    } else {
        None
    };
    let mut out = match why_not {
        Some(_) => vec![],
        None => {
            let inp = Inputs::new(sc);
            let mut out = match sc.technique {
                Technique::ShortPolling => short_polling::predict(sc, &inp),
                Technique::LongPolling => long_polling::predict(sc, &inp),
                Technique::Sse | Technique::Websocket => streams::predict(sc, &inp),
            };
            // A user's tabs in one browser: the per-client formulas assume every client
            // is served on a connection of its own.
            if tabs::stalls(sc) {
                out.clear();
            } else if tabs::changes_connections(sc) {
                let shared_handshakes = sc.workload.tabs > 1;
                out.retain(|p| match p.metric {
                    "connections_mean" | "server_memory_mean_bytes" => false,
                    "handshakes_per_s" => !shared_handshakes,
                    _ => true,
                });
            }
            out.extend(tabs::predict(sc, &inp));
            out.extend(backplane::predict(sc));
            out
        }
    };
    if population::churns(sc) && !out.is_empty() {
        // Churn or an age limit: only the handshake rate has a closed form.
        let own = value_of(&out, "handshakes_per_s").unwrap_or(0.0);
        out = vec![population::handshakes(sc, &Inputs::new(sc), own)];
        let reason = population::WHY_NOT.to_string();
        return PREDICTED
            .iter()
            .map(|&m| match out.iter().position(|p| p.metric == m) {
                Some(i) => out.swap_remove(i),
                None => Prediction::none(m, "—", reason.clone()),
            })
            .collect();
    }
    // Every metric once, in the fixed order.
    let reason = why_not.unwrap_or_else(|| {
        if tabs::stalls(sc) {
            "some tabs wait in the browser for a connection or a stream (tabs beyond its \
             places): the per-client formulas assume every client is served"
                .to_string()
        } else if tabs::changes_connections(sc) {
            "HTTP/2: a user's requests share one connection; the per-client formulas of \
             connections, memory and handshakes do not apply"
                .to_string()
        } else {
            "not predicted for this technique".to_string()
        }
    });
    PREDICTED
        .iter()
        .map(|&m| match out.iter().position(|p| p.metric == m) {
            Some(i) => out.swap_remove(i),
            None => Prediction::none(m, "—", reason.clone()),
        })
        .collect()
}

/// The `theory_<metric>` cells of one scenario: [`predict`]'s values, aligned with
/// [`PREDICTED`].
pub fn theory_cells(sc: &Scenario) -> TheoryCells {
    let mut cells = [None; PREDICTED.len()];
    for (cell, p) in cells.iter_mut().zip(predict(sc)) {
        *cell = p.value;
    }
    cells
}

/// Annotates result rows with theory: the `theory_<metric>` cells of each row's
/// scenario, in the rows' order. The reports write them beside the simulated numbers;
/// the runner that made the rows knows nothing of theory.
pub fn annotate<'a>(scenarios: impl IntoIterator<Item = &'a Scenario>) -> Vec<TheoryCells> {
    scenarios.into_iter().map(theory_cells).collect()
}

/// Mean of a latency as the simulator measures it over a finite window.
///
/// Only updates created in the window count, and only once delivered: one created at
/// `u` with latency `L` counts iff `L ≤ D − (u − start)`. With update times uniform over
/// the window and `L` independent of them and never longer than `D`,
/// `E_obs[L] = ∫₀ᴰ E[L·1{L ≤ x}] dx / ∫₀ᴰ P(L ≤ x) dx = (D·E[L] − E[L²]) / (D − E[L])`:
/// right-censoring by the end of the run favours short latencies. Exact for any law of `L`.
pub fn censored_mean(d: f64, el: f64, el2: f64) -> f64 {
    if d <= el {
        el
    } else {
        (d * el - el2) / (d - el)
    }
}

/// Fan-out of one broadcast update to `n` listeners on `cores` workers, each push taking
/// `s_p`: the k-th push (0-based) finishes at `(⌊k/c⌋ + 1)·s_p`, so the mean extra wait is
/// `s_p·(1/n)·Σ ⌊k/c⌋` ≈ `(n − 1)/2 · s_p/c`. Returns (mean, max) extra wait.
pub fn fan_out_wait(n: f64, cores: f64, s_p: f64) -> (f64, f64) {
    let n = n.round().max(1.0);
    let c = cores.max(1.0);
    let full = (n / c).floor();
    let rest = n - full * c;
    // Σ_{k<n} ⌊k/c⌋ = c·(0 + 1 + … + (full−1)) + rest·full.
    let sum = c * full * (full - 1.0) / 2.0 + rest * full;
    (s_p * sum / n, s_p * ((n - 1.0) / c).floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn censoring_shortens_the_observed_mean() {
        // L uniform on [0, C]: E = C/2, E[L²] = C²/3; with D = 10·C the mean is
        // C·(5 − 1/3)/(10 − 1/2).
        let c = 3.0;
        let m = censored_mean(10.0 * c, c / 2.0, c * c / 3.0);
        assert!((m - c * (5.0 - 1.0 / 3.0) / 9.5).abs() < 1e-12);
        // A constant latency is not biased.
        assert!((censored_mean(100.0, 0.5, 0.25) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fan_out_of_a_burst() {
        // 8 pushes on 8 cores: none waits.
        assert_eq!(fan_out_wait(8.0, 8.0, 1.0), (0.0, 0.0));
        // 4 pushes on 1 core: waits 0,1,2,3.
        assert_eq!(fan_out_wait(4.0, 1.0, 1.0), (1.5, 3.0));
        // 10 on 4: ⌊k/4⌋ = 0,0,0,0,1,1,1,1,2,2 → 8/10.
        assert_eq!(fan_out_wait(10.0, 4.0, 1.0), (0.8, 2.0));
    }

    #[test]
    fn every_metric_is_predicted_once_in_order() {
        for t in Technique::ALL {
            let mut sc = Scenario::reference();
            sc.technique = t;
            let p = predict(&sc);
            let names: Vec<_> = p.iter().map(|p| p.metric).collect();
            assert_eq!(names, PREDICTED);
            for p in &p {
                assert!(
                    p.value.is_some() || p.why_none.is_some(),
                    "{t} {}",
                    p.metric
                );
            }
        }
        let mut sc = Scenario::reference();
        sc.workload.pattern = Pattern::Chat;
        assert!(predict(&sc).iter().all(|p| p.value.is_none()));
        assert_eq!(theory_cells(&sc), [None; PREDICTED.len()]);
    }

    /// Every formula `explain` prints reads as written: its brackets close, in order
    /// (long polling's CPU formula once lacked its opening one).
    #[test]
    fn every_formula_has_balanced_brackets() {
        use crate::scenario::Http;
        for t in Technique::ALL {
            for http in [Http::V1_1, Http::V2] {
                for tabs in [1, 7] {
                    let mut sc = Scenario::reference();
                    sc.technique = t;
                    sc.network.http = http;
                    sc.workload.tabs = tabs;
                    for p in predict(&sc) {
                        let mut open = Vec::new();
                        for ch in p.formula.chars() {
                            match ch {
                                '(' | '[' | '{' => open.push(ch),
                                ')' | ']' | '}' => {
                                    let want = match ch {
                                        ')' => '(',
                                        ']' => '[',
                                        _ => '{',
                                    };
                                    assert_eq!(
                                        open.pop(),
                                        Some(want),
                                        "{t} {http:?} {}: {}",
                                        p.metric,
                                        p.formula
                                    );
                                }
                                _ => {}
                            }
                        }
                        assert!(open.is_empty(), "{t} {}: {}", p.metric, p.formula);
                    }
                }
            }
        }
    }

    #[test]
    fn annotation_is_each_scenarios_predictions_in_order() {
        let scenarios: Vec<Scenario> = Technique::ALL
            .into_iter()
            .map(|t| {
                let mut sc = Scenario::reference();
                sc.technique = t;
                sc
            })
            .collect();
        let table = annotate(&scenarios);
        assert_eq!(table.len(), scenarios.len());
        for (sc, cells) in scenarios.iter().zip(&table) {
            let values: Vec<Option<f64>> = predict(sc).into_iter().map(|p| p.value).collect();
            assert_eq!(cells.to_vec(), values);
        }
        // Short polling's request rate has a closed form at the reference point.
        assert!(table[0][0].is_some());
        assert!(annotate(&[]).is_empty());
    }
}
