//! Short polling as a renewal process.
//!
//! One client's *cycle* runs from one request's arrival at the server (where the
//! snapshot "everything since X" is taken) to the next one's. After-response
//! (`setTimeout`): `C = T + J + r + W + s` — interval, jitter `J ~ U[0, j]`, the response's
//! and the next request's trips, queue wait and service `s = s_r (+ s_p if the response
//! carries updates)`. When the idle connection would expire before the next request
//! reaches the server (`T + J + r ≥ K = min(keep-alive, proxy idle)`), the poll pays a
//! new connection: `+ (1 + TLS round trips)·r + s_h + W`. Fixed-rate (`setInterval`):
//! `C = T + J` (ticks every interval whatever the response time).
//!
//! From the cycle: rate `N/E[C]` (renewal–reward), empty fraction `E[e^{−λC}]` (no
//! Poisson arrival in the cycle), latency = residual to the next snapshot
//! `E[C²]/(2E[C])` + wait + service + `d` (+ backplane), connections by Little's law.

use crate::engine::time::secs;
use crate::scenario::{PollSchedule, Scenario};

use super::inputs::{Cpu, Inputs, Jobs, closed_loop_wait, cpu};
use super::{Prediction, censored_mean};

/// The steady state for a given mean queue wait `w`.
struct State {
    /// Cycle moments E[C], E[C²], E[C³] and the longest cycle.
    ec: f64,
    ec2: f64,
    ec3: f64,
    c_max: f64,
    /// Share of responses without updates.
    empty: f64,
    /// Share of polls that open a new connection.
    f_new: f64,
    /// Mean time per cycle without an open connection.
    closed: f64,
    /// Requests and handshakes per second (all clients).
    rate: f64,
    hs: f64,
    /// Mean request service (s_r + (1 − e)·s_p).
    s_avg: f64,
    cpu: Cpu,
}

/// Jitter grid: midpoints of `m` equal slices of [0, j] (one point at 0 without jitter).
fn jitter_grid(j: f64) -> Vec<f64> {
    if j <= 0.0 {
        return vec![0.0];
    }
    let m = 256;
    (0..m).map(|i| (i as f64 + 0.5) / m as f64 * j).collect()
}

/// Cycle length for one jitter value, mean RTT `r`: (cycle, opens a new connection,
/// time without a connection).
fn cycle(sc: &Scenario, inp: &Inputs, r: f64, jit: f64, s: f64, w: f64) -> (f64, bool, f64) {
    let t = secs(sc.short_polling.interval);
    match sc.short_polling.schedule {
        PollSchedule::AfterResponse => {
            let new = t + jit + r >= inp.k;
            let mut c = t + jit + r + s + w;
            let mut closed = 0.0;
            if new {
                c += (1.0 + inp.tls_rt) * r + inp.s_h + w;
                // Idle until keep-alive closes it or the next poll gives it up, then
                // closed until the next SYN reaches the server.
                let d = r / 2.0;
                closed = (d + t + jit) - inp.k.min(d + t + jit) + d;
            }
            (c, new, closed)
        }
        PollSchedule::FixedRate => (t + jit, false, 0.0),
    }
}

fn state(sc: &Scenario, inp: &Inputs, w: f64) -> State {
    let grid = jitter_grid(secs(sc.short_polling.jitter));
    let m = grid.len() as f64;
    let first = |x: f64| {
        if inp.poisson {
            (-inp.lambda * x).exp()
        } else {
            (1.0 - inp.lambda * x).max(0.0)
        }
    };
    // Two passes: the empty fraction sets the mean service, which (barely) sets the cycle.
    let mut empty = first(secs(sc.short_polling.interval) + inp.r);
    let mut st = None;
    for _ in 0..2 {
        let s_avg = inp.s_r + (1.0 - empty) * inp.s_p;
        let (mut ec, mut ec2, mut ec3, mut c_max, mut e, mut f_new, mut closed) =
            (0.0, 0.0, 0.0, 0.0f64, 0.0, 0.0, 0.0);
        for &j in &grid {
            let (c, new, cl) = cycle(sc, inp, inp.r, j, s_avg, w);
            ec += c / m;
            ec2 += c * c / m;
            ec3 += c * c * c / m;
            e += first(c) / m;
            f_new += new as u8 as f64 / m;
            closed += cl / m;
            let r_max = inp.r_max.unwrap_or(inp.r);
            c_max = c_max.max(cycle(sc, inp, r_max, j, inp.s_r + inp.s_p, w).0);
        }
        empty = e;
        st = Some((ec, ec2, ec3, c_max, e, f_new, closed, s_avg));
    }
    let (ec, ec2, ec3, c_max, empty, f_new, closed, s_avg) = st.expect("two passes");
    let rate = inp.n / ec;
    let hs = rate * f_new;
    let cpu = cpu(
        inp,
        &[
            Jobs {
                rate: rate * empty,
                service: inp.s_r,
            },
            Jobs {
                rate: rate * (1.0 - empty),
                service: inp.s_r + inp.s_p,
            },
            Jobs {
                rate: hs,
                service: inp.s_h,
            },
        ],
    );
    State {
        ec,
        ec2,
        ec3,
        c_max,
        empty,
        f_new,
        closed,
        rate,
        hs,
        s_avg,
        cpu,
    }
}

/// The mean queue wait `W` solving `W = W_q(N/E[C(W)])` (after-response: a longer wait
/// lengthens the cycle and lowers the load — a closed loop with one solution, found by
/// bisection); fixed-rate: the load does not depend on `W`.
fn solve(sc: &Scenario, inp: &Inputs) -> Option<State> {
    if sc.short_polling.schedule == PollSchedule::FixedRate {
        let s = state(sc, inp, 0.0);
        let w = s.cpu.wait?;
        return Some(state(sc, inp, w));
    }
    let w = closed_loop_wait(|w| state(sc, inp, w).cpu.wait, 1e6)?;
    Some(state(sc, inp, w))
}

/// Predictions for short polling.
///
/// - `requests_per_s = N / E[C]` (renewal–reward; fixed-rate `N/(T + j/2)`).
/// - `empty_response_fraction = E[e^{−λC}]`: a response is empty when no Poisson update
///   arrived since the previous snapshot, one cycle earlier (periodic updates of period
///   `P = 1/λ` with random phase: `max(0, 1 − C/P)`).
/// - `latency_mean_s`: residual `E[C²]/(2E[C])` + `W + s_r + s_p + d + b`, corrected for
///   the finite window by [`censored_mean`].
/// - `latency_max_s`: the longest cycle + `W + s_r + s_p + d + b`.
/// - `connections_mean = N·(1 − E[closed]/E[C])` (Little): `N` while keep-alive holds.
/// - memory: `base + connections·m_conn + (N/E[C])·(W + s)·m_req`.
/// - bytes: up `R·(h_req + o) + H·hs_up`, down `R·((1−e)·h_resp + e·h_empty + o) +
///   N·λ·payload + H·hs_down`, `H` the handshakes per second, `o` the TLS record overhead
///   of one write (one record per write: exact while every answer fits in 16 KiB).
/// - CPU: `ρ = (R·s + H·s_h)/(c·I)`; queue wait from M/G/c with arrivals approximated as
///   Poisson (a superposition of many independent periodic pollers).
pub(super) fn predict(sc: &Scenario, inp: &Inputs) -> Vec<Prediction> {
    let t = secs(sc.short_polling.interval);
    let j = secs(sc.short_polling.jitter);
    let fixed = sc.short_polling.schedule == PollSchedule::FixedRate;
    if fixed && t + j >= inp.k {
        let why = "fixed-rate polling with ticks further apart than keep-alive/proxy idle: \
                   connection reuse alternates, no closed form here";
        return super::PREDICTED
            .iter()
            .map(|m| Prediction::none(m, "—", why))
            .collect();
    }
    let Some(st) = solve(sc, inp) else {
        let why = "CPU saturated (ρ ≥ 1): no steady state";
        return super::PREDICTED
            .iter()
            .map(|m| Prediction::none(m, "—", why))
            .collect();
    };
    let w = st.cpu.wait.unwrap_or(0.0);
    if fixed && inp.r + st.s_avg + w >= t {
        let why =
            "fixed-rate polling whose response takes longer than the interval: ticks are skipped";
        return super::PREDICTED
            .iter()
            .map(|m| Prediction::none(m, "—", why))
            .collect();
    }
    let mut basic = inp.basic();
    basic.extend([("T (s)", t), ("jitter j (s)", j), ("W (s)", w)]);
    let cyc_words = if fixed {
        "C = T + J, J ~ U[0, j]"
    } else if st.f_new > 0.0 {
        "C = T + J + r + s + W + [new connection]·((1 + TLS round trips)·r + s_h + W)"
    } else {
        "C = T + J + r + s_r + (1−e)·s_p + W, J ~ U[0, j]"
    };
    let mut out = vec![];
    let mut ins = basic.clone();
    ins.extend([("E[C] (s)", st.ec)]);
    out.push(Prediction::some(
        "requests_per_s",
        st.rate,
        format!("renewal-reward: N / E[C], {cyc_words}"),
        ins,
    ));

    let mut ins = vec![("λ", inp.lambda), ("E[C] (s)", st.ec)];
    if inp.poisson {
        out.push(Prediction::some(
            "empty_response_fraction",
            st.empty,
            "P(no Poisson update in one cycle) = E[exp(−λ·C)]",
            ins,
        ));
    } else {
        ins.push(("P = 1/λ (s)", 1.0 / inp.lambda));
        out.push(Prediction::some(
            "empty_response_fraction",
            st.empty,
            "periodic updates, random phase: E[max(0, 1 − C/P)]",
            ins,
        ));
    }

    let a = w + inp.s_r + inp.s_p + inp.d + inp.b;
    let res = st.ec2 / (2.0 * st.ec);
    let res2 = st.ec3 / (3.0 * st.ec);
    let el = res + a;
    let el2 = res2 + 2.0 * a * res + a * a;
    let mut ins = basic.clone();
    ins.extend([
        ("E[C] (s)", st.ec),
        ("residual E[C²]/(2E[C]) (s)", res),
        ("backplane b (s)", inp.b),
        ("window D (s)", inp.window),
        ("steady-state mean (s)", el),
    ]);
    let rtt_note = if inp.rtt_constant {
        ""
    } else {
        " (mean RTT: linear, exact in expectation)"
    };
    out.push(Prediction::some(
        "latency_mean_s",
        censored_mean(inp.window, el, el2),
        format!(
            "E[C²]/(2E[C]) + W + s_r + s_p + d + b, then window censoring (D·E[L] − E[L²])/(D − E[L]){rtt_note}"
        ),
        ins,
    ));

    let d_max = inp.r_max.map(|x| x / 2.0);
    match d_max {
        Some(d_max) => out.push(Prediction::some(
            "latency_max_s",
            st.c_max + w + inp.s_r + inp.s_p + d_max + inp.b,
            "longest cycle + W + s_r + s_p + d_max + b (an update just after a snapshot)",
            vec![("C_max (s)", st.c_max), ("d_max (s)", d_max), ("W (s)", w)],
        )),
        None => out.push(Prediction::none(
            "latency_max_s",
            "C_max + W + s + d_max",
            "RTT distribution without an upper bound: the largest latency has no closed form",
        )),
    }

    let conns = inp.n * (1.0 - st.closed / st.ec);
    out.push(Prediction::some(
        "connections_mean",
        conns,
        if st.f_new > 0.0 {
            "Little: N·(1 − E[time without a connection per cycle]/E[C])"
        } else {
            "keep-alive holds (T + j + r < min(keep-alive, proxy idle)): N"
        },
        vec![
            ("N", inp.n),
            ("E[closed] (s)", st.closed),
            ("E[C] (s)", st.ec),
            ("K (s)", inp.k),
        ],
    ));

    let busy = st.rate * (w + st.s_avg);
    out.push(Prediction::some(
        "server_memory_mean_bytes",
        inp.mem_base + conns * inp.mem_conn + busy * inp.mem_req,
        "I·base + connections·(m_conn + stack) + (R·(W + s))·m_req  (Little: requests in service)",
        vec![
            ("I·base (B)", inp.mem_base),
            ("connections", conns),
            ("m_conn + stack (B)", inp.mem_conn),
            ("requests in service", busy),
            ("m_req (B)", inp.mem_req),
        ],
    ));

    out.extend(http_bytes(inp, st.rate, st.empty, st.hs));
    out.push(Prediction::some(
        "handshakes_per_s",
        st.hs,
        "H = R·P(the poll needs a new connection): keep-alive or the proxy closed the idle one",
        vec![("R (req/s)", st.rate), ("k (s)", inp.k)],
    ));
    out.push(Prediction::some(
        "cpu_utilization",
        st.cpu.rho,
        "ρ = (R·(s_r + (1−e)·s_p) + H·s_h) / (c·I)",
        vec![
            ("R (req/s)", st.rate),
            ("e", st.empty),
            ("H (handshakes/s)", st.hs),
            ("s_h (s)", inp.s_h),
            ("c", inp.cores as f64),
            ("I", inp.instances),
        ],
    ));
    out.push(queue_prediction(
        inp,
        &st.cpu,
        "arrivals ≈ Poisson (many independent pollers)",
    ));
    out
}

/// The `queue_wait_mean_s` prediction from a solved CPU queue.
pub(super) fn queue_prediction(inp: &Inputs, cpu: &Cpu, arrivals: &str) -> Prediction {
    match cpu.wait {
        Some(w) => Prediction::some(
            "queue_wait_mean_s",
            w,
            format!("{}; {arrivals}", cpu.method.describe()),
            vec![
                ("λ per instance (jobs/s)", cpu.lambda),
                ("E[S] (s)", cpu.es),
                ("E[S²] (s²)", cpu.es2),
                ("c", inp.cores as f64),
                ("ρ", cpu.rho),
            ],
        ),
        None => Prediction::none(
            "queue_wait_mean_s",
            cpu.method.describe(),
            format!(
                "CPU saturated (ρ = {:.3} ≥ 1): the queue grows without bound",
                cpu.rho
            ),
        ),
    }
}

/// Bytes each way of request/response polling (short and long polling alike): every
/// request carries its headers up and its response's head down (an empty answer's head
/// and body for a share `e` of them), the payload comes down once per update, every
/// message is one TLS write (`o` bytes of record overhead, one record while it fits in
/// 16 KiB), and every handshake adds its share of TCP and TLS bytes. Under HTTP/2 the
/// heads are HPACK blocks of a warm connection, and each new connection adds its first
/// request's and answer's literals and the preface (`first_up`, `first_down`).
pub(super) fn http_bytes(inp: &Inputs, rate: f64, empty: f64, hs: f64) -> [Prediction; 2] {
    let payload_rate = inp.n * inp.lambda * inp.payload;
    let o = inp.tls_rec;
    let answers = rate * ((1.0 - empty) * inp.resp_hdr + empty * inp.empty_answer + o);
    let h2 = inp.framing.is_h2();
    let mut down_inputs = vec![
        ("R (req/s)", rate),
        ("e (empty share)", empty),
        ("h_resp (B)", inp.resp_hdr),
        ("h_empty: empty answer (B)", inp.empty_answer),
        ("o: TLS record overhead (B)", o),
        ("N·λ·payload (B/s)", payload_rate),
        ("H (handshakes/s)", hs),
        ("handshake bytes down (B)", inp.hs_down),
    ];
    let mut up_inputs = vec![
        ("R (req/s)", rate),
        ("h_req (B)", inp.req_hdr),
        ("o: TLS record overhead (B)", o),
        ("H (handshakes/s)", hs),
        ("handshake bytes up (B)", inp.hs_up),
    ];
    let (down_formula, up_formula) = if h2 {
        down_inputs.push((
            "first_down: first answer's literals + preface (B)",
            inp.first_down,
        ));
        up_inputs.push((
            "first_up: first request's literals + preface (B)",
            inp.first_up,
        ));
        (
            "R·((1−e)·h_resp + e·h_empty + o) + N·λ·payload + H·(SYN-ACK + ¾ TLS + first_down) \
             [HTTP/2: h_resp, h_empty, h_req are warm HPACK blocks in frames]",
            "R·(h_req + o) + H·(SYN + ACK + ¼ TLS + first_up)",
        )
    } else {
        (
            "R·((1−e)·h_resp + e·h_empty + o) + N·λ·payload + H·(SYN-ACK + ¾ TLS)",
            "R·(h_req + o) + H·(SYN + ACK + ¼ TLS)",
        )
    };
    [
        Prediction::some(
            "bytes_down_per_s",
            answers + payload_rate + hs * (inp.hs_down + inp.first_down),
            down_formula,
            down_inputs,
        ),
        Prediction::some(
            "bytes_up_per_s",
            rate * (inp.req_hdr + o) + hs * (inp.hs_up + inp.first_up),
            up_formula,
            up_inputs,
        ),
    ]
}
