//! Long polling as a renewal–reward process.
//!
//! A cycle runs from one request's arrival at the server to the next one's. If an update
//! is already pending (it arrived in the previous *gap*, while no request was held), the
//! answer is immediate; otherwise the server holds the request for
//! `H = min(X, timeout)`, `X ~ Exp(λ)` (memoryless: nothing pending at arrival), so
//! `E[H] = (1 − e^{−λ·timeout})/λ`. After the answer comes the gap: the answer's CPU,
//! its trip down, `reconnect_delay`, the next request's trip up —
//! `g₀ = r + δ (+ a new connection's (1 + TLS)·r + s_h when r + δ ≥ keep-alive)`.
//!
//! Gaps by cycle type (the snapshot is taken when the answer starts):
//! immediate `s_r + s_p + W + g₀`, update `s_p + W + g₀`, timeout `g₀`. The chance that
//! the next request finds something pending is `p = 1 − E[e^{−λ·gap}]` (solved as a
//! fixed point). Then `E[cycle] = (1 − p)·E[H] + E[gap]`.

use crate::engine::time::secs;
use crate::scenario::Scenario;

use super::inputs::{Cpu, Inputs, Jobs, closed_loop_wait, cpu};
use super::short_polling::{http_bytes, queue_prediction};
use super::{Prediction, censored_mean, fan_out_wait};

struct State {
    /// Probability a request finds an update pending.
    p: f64,
    /// e^{−λ·timeout}.
    q: f64,
    eh: f64,
    ecycle: f64,
    /// Gap moments and the longest gap.
    eg: f64,
    eg2: f64,
    eg3: f64,
    g_max: f64,
    new: bool,
    closed: f64,
    rate: f64,
    hs: f64,
    cpu: Cpu,
}

fn state(sc: &Scenario, inp: &Inputs, w: f64) -> State {
    let lambda = inp.lambda;
    let timeout = secs(sc.long_polling.timeout);
    let delta = secs(sc.long_polling.reconnect_delay);
    let new = inp.r + delta >= inp.k;
    let g0_of = |r: f64| {
        r + delta
            + if new {
                (1.0 + inp.tls_rt) * r + inp.s_h + w
            } else {
                0.0
            }
    };
    let g0 = g0_of(inp.r);
    let q = (-lambda * timeout).exp();
    let eh = (1.0 - q) / lambda;
    let gaps = [inp.s_r + inp.s_p + w + g0, inp.s_p + w + g0, g0];
    let weights = |p: f64| [p, (1.0 - p) * (1.0 - q), (1.0 - p) * q];
    let mut p = 1.0 - (-lambda * g0).exp();
    for _ in 0..100 {
        let wt = weights(p);
        p = 1.0
            - (0..3)
                .map(|i| wt[i] * (-lambda * gaps[i]).exp())
                .sum::<f64>();
    }
    let wt = weights(p);
    let moment = |k: i32| (0..3).map(|i| wt[i] * gaps[i].powi(k)).sum::<f64>();
    let (eg, eg2, eg3) = (moment(1), moment(2), moment(3));
    let ecycle = (1.0 - p) * eh + eg;
    let rate = inp.n / ecycle;
    let hs = if new { rate } else { 0.0 };
    let d = inp.d;
    let closed = if new {
        2.0 * d + delta - inp.k.min(d + delta)
    } else {
        0.0
    };
    let cpu = cpu(
        inp,
        &[
            Jobs {
                rate: rate * p,
                service: inp.s_r + inp.s_p,
            },
            Jobs {
                rate: rate * (1.0 - p),
                service: inp.s_r,
            },
            Jobs {
                rate: rate * (1.0 - p) * (1.0 - q),
                service: inp.s_p,
            },
            Jobs {
                rate: hs,
                service: inp.s_h,
            },
        ],
    );
    let g_max = inp.s_r + inp.s_p + w + g0_of(inp.r_max.unwrap_or(inp.r));
    State {
        p,
        q,
        eh,
        ecycle,
        eg,
        eg2,
        eg3,
        g_max,
        new,
        closed,
        rate,
        hs,
        cpu,
    }
}

/// Predictions for long polling.
///
/// - `requests_per_s = N / E[cycle]` (renewal–reward; one request per cycle).
/// - `empty_response_fraction = (1 − p)·e^{−λ·timeout}`: held and nothing came.
/// - `latency_mean_s`: by PASTA a share `f = E[gap]/E[cycle]` of updates arrives in a gap
///   and waits the residual `E[gap²]/(2E[gap])` plus `s_r + s_p + W + d`; the others are
///   answered at once: `s_p + W + d` (+ the broadcast fan-out wait); `+ b` for the
///   backplane; then window censoring ([`censored_mean`]).
/// - `latency_max_s`: the longest gap + `s_r + s_p + W + d_max + b`.
/// - `connections_mean = N` while keep-alive outlives `r + δ` (else Little).
/// - memory: `base + conn·m_conn + N·(held share)·m_stream + N·(busy share)·m_req`, held
///   share `(1 − p)(E[H] + (1 − e)(s_p + W))/E[cycle]`, busy share `p(s_r + s_p + W)/E[cycle]`.
/// - bytes: up `R·(h_req + o)`, down `R·((1−e)·h_resp + e·h_empty + o) + N·λ·payload`
///   (+ handshakes), `o` the TLS record overhead of one write.
/// - CPU: per cycle `s_r`, plus `s_p` when the answer carries updates.
pub(super) fn predict(sc: &Scenario, inp: &Inputs) -> Vec<Prediction> {
    let timeout = secs(sc.long_polling.timeout);
    let delta = secs(sc.long_polling.reconnect_delay);
    if !inp.poisson {
        let why = "periodic updates: holds are not exponential, the renewal formulas assume Poisson updates";
        let mut out: Vec<Prediction> = super::PREDICTED
            .iter()
            .filter(|&&m| m != "connections_mean")
            .map(|m| Prediction::none(m, "—", why))
            .collect();
        if inp.r + delta < inp.k {
            out.push(Prediction::some(
                "connections_mean",
                inp.n,
                "one keep-alive connection per client: N",
                vec![("N", inp.n)],
            ));
        }
        return out;
    }
    // Broadcast answers come in synchronized bursts: the queue is not M/G/c; use the
    // fan-out order for the latency and leave the wait out of the cycle.
    let st = if inp.broadcast {
        state(sc, inp, 0.0)
    } else {
        match closed_loop_wait(|w| state(sc, inp, w).cpu.wait, 1e6) {
            Some(w) => state(sc, inp, w),
            None => {
                let why = "CPU saturated (ρ ≥ 1): no steady state";
                return super::PREDICTED
                    .iter()
                    .map(|m| Prediction::none(m, "—", why))
                    .collect();
            }
        }
    };
    let w = if inp.broadcast {
        0.0
    } else {
        st.cpu.wait.unwrap_or(0.0)
    };
    let held_time = (1.0 - st.p) * st.eh;
    let mut basic = inp.basic();
    basic.extend([
        ("timeout (s)", timeout),
        ("reconnect_delay δ (s)", delta),
        ("E[H] = (1−e^{−λ·timeout})/λ (s)", st.eh),
        ("p = P(update pending at arrival)", st.p),
        ("E[gap] (s)", st.eg),
        ("W (s)", w),
    ]);
    let mut out = vec![];
    out.push(Prediction::some(
        "requests_per_s",
        st.rate,
        "renewal-reward: N / E[cycle], E[cycle] = (1−p)·(1−e^{−λ·timeout})/λ + E[gap], gap ≈ r + δ (+ service)",
        {
            let mut v = basic.clone();
            v.push(("E[cycle] (s)", st.ecycle));
            v
        },
    ));
    out.push(Prediction::some(
        "empty_response_fraction",
        (1.0 - st.p) * st.q,
        "P(nothing pending at arrival)·P(no update during the hold) = (1−p)·e^{−λ·timeout}",
        vec![("p", st.p), ("λ", inp.lambda), ("timeout (s)", timeout)],
    ));

    let held_clients = inp.n * (held_time / st.ecycle) / inp.instances;
    let (fan_mean, fan_max) = if inp.broadcast {
        fan_out_wait(held_clients, inp.cores as f64, inp.s_p)
    } else {
        (0.0, 0.0)
    };
    let f = st.eg / st.ecycle;
    let a_h = inp.b + inp.s_p + w + inp.d + fan_mean;
    let a_g = inp.b + inp.s_r + inp.s_p + w + inp.d;
    let res = st.eg2 / (2.0 * st.eg);
    let res2 = st.eg3 / (3.0 * st.eg);
    let el = (1.0 - f) * a_h + f * (a_g + res);
    let el2 = (1.0 - f) * a_h * a_h + f * (a_g * a_g + 2.0 * a_g * res + res2);
    let mut ins = basic.clone();
    ins.extend([
        ("f = E[gap]/E[cycle]", f),
        ("residual E[gap²]/(2E[gap]) (s)", res),
        ("broadcast fan-out wait (s)", fan_mean),
        ("backplane b (s)", inp.b),
        ("steady-state mean (s)", el),
    ]);
    out.push(Prediction::some(
        "latency_mean_s",
        censored_mean(inp.window, el, el2),
        "(1−f)·(s_p + W + d) + f·(E[gap²]/(2E[gap]) + s_r + s_p + W + d) + b, f = E[gap]/E[cycle] (PASTA), \
         then window censoring",
        ins,
    ));
    match inp.r_max {
        Some(r_max) => out.push(Prediction::some(
            "latency_max_s",
            (st.g_max + inp.s_r + inp.s_p + w + r_max / 2.0 + inp.b)
                .max(inp.s_p + r_max / 2.0 + fan_max + inp.b),
            "longest gap (s_r + s_p + W + r + δ) + s_r + s_p + W + d_max + b",
            vec![("longest gap (s)", st.g_max), ("d_max (s)", r_max / 2.0)],
        )),
        None => out.push(Prediction::none(
            "latency_max_s",
            "longest gap + s + d_max",
            "RTT distribution without an upper bound: the largest latency has no closed form",
        )),
    }
    let conns = inp.n * (1.0 - st.closed / st.ecycle);
    out.push(Prediction::some(
        "connections_mean",
        conns,
        if st.new {
            "Little: N·(1 − E[time without a connection per cycle]/E[cycle])"
        } else {
            "one keep-alive connection per client (r + δ < min(keep-alive, proxy idle)): N"
        },
        vec![
            ("N", inp.n),
            ("E[closed] (s)", st.closed),
            ("E[cycle] (s)", st.ecycle),
        ],
    ));
    let held_share = (1.0 - st.p) * (st.eh + (1.0 - st.q) * (inp.s_p + w)) / st.ecycle;
    let busy_share = st.p * (inp.s_r + inp.s_p + w) / st.ecycle;
    out.push(Prediction::some(
        "server_memory_mean_bytes",
        inp.mem_base
            + conns * inp.mem_conn
            + inp.n * held_share * inp.mem_stream
            + inp.n * busy_share * inp.mem_req,
        "I·base + conn·(m_conn + stack) + N·held share·m_stream + N·busy share·m_req (Little)",
        vec![
            ("I·base (B)", inp.mem_base),
            ("connections", conns),
            ("m_conn + stack (B)", inp.mem_conn),
            ("held share", held_share),
            ("m_stream (B)", inp.mem_stream),
            ("busy share", busy_share),
            ("m_req (B)", inp.mem_req),
        ],
    ));
    out.extend(http_bytes(inp, st.rate, (1.0 - st.p) * st.q, st.hs));
    out.push(Prediction::some(
        "handshakes_per_s",
        st.hs,
        "H = R when each poll finds its connection closed (gap r + δ ≥ keep-alive), else 0",
        vec![("R (req/s)", st.rate), ("k (s)", inp.k)],
    ));
    out.push(Prediction::some(
        "cpu_utilization",
        st.cpu.rho,
        "ρ = (R·(s_r + (1 − e)·s_p) + H·s_h) / (c·I)",
        vec![
            ("R (req/s)", st.rate),
            ("e", (1.0 - st.p) * st.q),
            ("c", inp.cores as f64),
            ("I", inp.instances),
        ],
    ));
    if inp.broadcast {
        out.push(Prediction::none(
            "queue_wait_mean_s",
            "—",
            "broadcast long polling: every held client is answered at once and comes back at once; \
             the CPU sees synchronized bursts, not a Poisson stream",
        ));
    } else {
        out.push(queue_prediction(
            inp,
            &st.cpu,
            "arrivals ≈ Poisson (answers at Poisson update instants, requests one gap later)",
        ));
    }
    out
}
