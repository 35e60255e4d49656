//! SSE and WebSockets: one open stream per client, updates pushed as they happen.
//!
//! With an idle server an update reaches its client `b + s_p + d` after creation
//! (backplane, push CPU, one-way trip). A broadcast update fans out to every listener on
//! the instance: the k-th push (0-based) of a burst on `c` workers waits `⌊k/c⌋·s_p`.
//! Heartbeats (an SSE comment written by the server; a WebSocket ping from the client,
//! answered with a pong) cost `s_p` each and some bytes, `N/heartbeat` per second.

use crate::engine::time::secs;
use crate::scenario::{HeartbeatBy, Scenario, Technique};
use crate::wire::h2::FRAME_HEADER;
use crate::wire::{Framing, SSE_HEARTBEAT_TEXT, sse_event_text, ws_frame_header};

use super::inputs::{Inputs, Jobs, cpu};
use super::short_polling::queue_prediction;
use super::{Prediction, fan_out_wait};

/// `P(K ≤ k)` for `K ~ Poisson(mean)`: a direct sum for moderate means, the normal
/// approximation with continuity correction for large ones.
fn poisson_cdf(k: f64, mean: f64) -> f64 {
    if k < 0.0 {
        return 0.0;
    }
    if mean <= 0.0 {
        return 1.0;
    }
    if mean > 500.0 {
        let z = (k + 0.5 - mean) / mean.sqrt();
        return 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    }
    if k > mean + 40.0 * mean.sqrt() + 40.0 {
        return 1.0;
    }
    let mut term = (-mean).exp();
    let mut sum = term;
    let mut i = 0.0;
    while i < k {
        i += 1.0;
        term *= mean / i;
        sum += term;
    }
    sum.min(1.0)
}

/// Mean bytes of one SSE event created in the window, in its chunk or DATA frame
/// (`framing`). The event id is the update's
/// sequence number in its stream, `K ~ Poisson(λ_s·t)` at creation time `t`; the size
/// only changes when `K` gains a decimal digit, so
/// `E[bytes] = (1/D)∫ Σ_m bytes(10^m)·P(10^m ≤ K_t < 10^{m+1}) dt` over the window.
pub(super) fn mean_sse_event_bytes(
    stream_rate: f64,
    start: f64,
    duration: f64,
    payload: u64,
    framing: &Framing,
) -> f64 {
    let steps = 200;
    let mut total = 0.0;
    for i in 0..steps {
        let t = start + (i as f64 + 0.5) / steps as f64 * duration;
        let mean = stream_rate * t;
        let mut below = 0.0;
        for m in 0..19 {
            let lo = if m == 0 { 0u64 } else { 10u64.pow(m) };
            let hi = 10f64.powi(m as i32 + 1);
            let cdf = poisson_cdf(hi - 1.0, mean);
            let bytes = framing.stream_chunk(sse_event_text(lo, payload));
            total += bytes as f64 * (cdf - below);
            below = cdf;
            if below >= 1.0 {
                break;
            }
        }
    }
    total / steps as f64
}

/// Heartbeats one client sends inside the window [w0, w1): beats at `φ + offset + k·h`,
/// `k ≥ 1`, with the start phase `φ ~ U[0, t_sp)` (every client starts within one
/// short-polling interval). All clients beat in step, so the count over a short window is
/// not `D/h` but depends on where the window edges fall: averaged over φ numerically.
/// (Approximately `(w1 − w0)/h` once the window spans many heartbeats.)
fn beats_in_window(t_sp: f64, offset: f64, h: f64, w0: f64, w1: f64) -> f64 {
    // #{k ≥ 1 : x + k·h < t}
    let before = |x: f64, t: f64| (((t - x) / h).ceil() - 1.0).max(0.0);
    let m = 2000;
    (0..m)
        .map(|i| {
            let x = (i as f64 + 0.5) / m as f64 * t_sp + offset;
            before(x, w1) - before(x, w0)
        })
        .sum::<f64>()
        / m as f64
}

/// Predictions for SSE and WebSockets.
///
/// - `requests_per_s = 0`, `empty_response_fraction = 0`: the stream opens once (in the
///   warm-up) and never ends without a fault.
/// - `latency_mean_s = b + s_p + W + d` (+ fan-out `(1/n)Σ⌊k/c⌋·s_p` for broadcast, n the
///   listeners per instance); exact with an idle server and a constant RTT.
/// - `connections_mean = N`; memory `I·base + N·(m_conn + stack + m_stream)`.
/// - bytes: every write carries `o` bytes of TLS record overhead. SSE down
///   `N·λ·(E[event bytes] + o) + (N/hb)·(8 + o)`; WebSocket down
///   `N·λ·(frame header + payload + o)` plus, per beat, the server's ping `2 + o` (up: the
///   browser's masked pong `6 + o`), or with `client-message` heartbeats the server's
///   answer `2 + m + o` (up: the page's masked message `6 + m + o`); the heartbeat count
///   in the window follows the clients' start phases (`beats_in_window`).
/// - CPU: `ρ = (N·λ + N/hb)·s_p/(c·I)`; wait: M/G/c (per-client Poisson pushes), or the
///   fan-out order (broadcast).
pub(super) fn predict(sc: &Scenario, inp: &Inputs) -> Vec<Prediction> {
    let ws = sc.technique == Technique::Websocket;
    let hb = if ws {
        sc.websocket.heartbeat
    } else {
        sc.sse.heartbeat
    }
    .map(secs);
    // Heartbeats follow each client's start phase: (writes down, frames up) per s.
    let (beats, pings) = match hb {
        None => (0.0, 0.0),
        Some(h) => {
            let open = inp.s_h + (1.5 + inp.tls_rt) * inp.r; // stream request reaches the server
            let t_sp = secs(sc.short_polling.interval);
            let (w0, w1) = (secs(sc.warmup), secs(sc.warmup) + inp.window);
            let per =
                |offset: f64| inp.n * beats_in_window(t_sp, open + offset, h, w0, w1) / inp.window;
            if ws && sc.websocket.heartbeat_by == HeartbeatBy::ServerPing {
                // The server's ping timer starts when the upgrade arrives; the pong leaves
                // the client one way after the ping.
                (per(0.0), per(inp.d))
            } else if ws {
                // The page's message leaves one way after the 101, the answer leaves the
                // server one way after the message.
                (per(2.0 * inp.d), per(inp.d))
            } else {
                (per(0.0), 0.0)
            }
        }
    };
    let updates = inp.n * inp.lambda; // pushes per second
    let per_instance = inp.n / inp.instances;
    let (fan_mean, fan_max) = if inp.broadcast {
        fan_out_wait(per_instance, inp.cores as f64, inp.s_p)
    } else {
        (0.0, 0.0)
    };
    let cpu = cpu(
        inp,
        &[
            Jobs {
                rate: updates,
                service: inp.s_p,
            },
            Jobs {
                rate: beats,
                service: inp.s_p,
            },
        ],
    );
    let mut out = vec![
        Prediction::some(
            "requests_per_s",
            0.0,
            "one stream per client, opened during the warm-up: 0",
            vec![],
        ),
        Prediction::some(
            "empty_response_fraction",
            0.0,
            "no poll responses on a stream: 0",
            vec![],
        ),
    ];
    let wait = if inp.broadcast {
        // Burst pushes wait the fan-out order; heartbeats (spread out) do not wait.
        Some(updates * fan_mean / (updates + beats))
    } else {
        cpu.wait
    };
    match wait {
        None => {
            for m in ["latency_mean_s", "latency_max_s", "queue_wait_mean_s"] {
                out.push(Prediction::none(
                    m,
                    "—",
                    "CPU saturated (ρ ≥ 1): no steady state",
                ));
            }
        }
        Some(w) => {
            let w_push = if inp.broadcast { fan_mean } else { w };
            let mut ins = vec![
                ("b (s)", inp.b),
                ("s_p (s)", inp.s_p),
                ("W (s)", w_push),
                ("d = r/2 (s)", inp.d),
            ];
            if inp.broadcast {
                ins.push(("listeners per instance n", per_instance));
                ins.push(("c", inp.cores as f64));
            }
            out.push(Prediction::some(
                "latency_mean_s",
                inp.b + inp.s_p + w_push + inp.d,
                if inp.broadcast {
                    "b + s_p + (1/n)Σ⌊k/c⌋·s_p (fan-out order) + d"
                } else {
                    "b + s_p + W + d (push as soon as published)"
                },
                ins,
            ));
            match inp.r_max {
                Some(r_max) => out.push(Prediction::some(
                    "latency_max_s",
                    inp.b + inp.s_p + if inp.broadcast { fan_max } else { w } + r_max / 2.0,
                    if inp.broadcast {
                        "b + s_p + ⌊(n−1)/c⌋·s_p (last of the fan-out) + d_max"
                    } else {
                        "b + s_p + W + d_max (idle server: the wait is the mean one)"
                    },
                    vec![("d_max (s)", r_max / 2.0), ("fan-out max (s)", fan_max)],
                )),
                None => out.push(Prediction::none(
                    "latency_max_s",
                    "b + s_p + W + d_max",
                    "RTT distribution without an upper bound: the largest latency has no closed form",
                )),
            }
            if inp.broadcast {
                out.push(Prediction::some(
                    "queue_wait_mean_s",
                    w,
                    "fan-out order: burst pushes wait (1/n)Σ⌊k/c⌋·s_p, heartbeats ≈ 0; mean over jobs",
                    vec![
                        ("pushes/s", updates),
                        ("heartbeats/s", beats),
                        ("burst wait (s)", fan_mean),
                    ],
                ));
            } else {
                out.push(queue_prediction(
                    inp,
                    &cpu,
                    "arrivals Poisson (per-client Poisson updates) plus heartbeats",
                ));
            }
        }
    }
    out.push(Prediction::some(
        "connections_mean",
        inp.n,
        "one long-lived connection per client: N",
        vec![("N", inp.n)],
    ));
    out.push(Prediction::some(
        "server_memory_mean_bytes",
        inp.mem_base + inp.n * (inp.mem_conn + inp.mem_stream),
        "I·base + N·(m_conn + stack + m_stream)",
        vec![
            ("I·base (B)", inp.mem_base),
            ("N", inp.n),
            ("m_conn + stack (B)", inp.mem_conn),
            ("m_stream (B)", inp.mem_stream),
        ],
    ));
    let payload = sc.workload.payload;
    let o = inp.tls_rec;
    if ws {
        // RFC 8441: every frame in an HTTP/2 DATA frame (`wire/rfc8441.rs`).
        let tunnel = sc.websocket.over_http2 && sc.network.http == crate::scenario::Http::V2;
        let ws_frame_header = |p: u64, masked: bool| {
            ws_frame_header(p, masked) + if tunnel { FRAME_HEADER } else { 0 }
        };
        let frame = (ws_frame_header(payload, false) + payload) as f64 + o;
        let (down_beat, up_beat, words) = match sc.websocket.heartbeat_by {
            HeartbeatBy::ServerPing => (
                ws_frame_header(0, false) as f64 + o,
                ws_frame_header(0, true) as f64 + o,
                (
                    "(N/heartbeat)·(ping + o)",
                    "(N/heartbeat)·(masked pong + o)",
                ),
            ),
            HeartbeatBy::ClientMessage => {
                let m = sc.websocket.heartbeat_message;
                (
                    (ws_frame_header(m, false) + m) as f64 + o,
                    (ws_frame_header(m, true) + m) as f64 + o,
                    (
                        "(N/heartbeat)·(answer frame + o)",
                        "(N/heartbeat)·(masked heartbeat frame + o)",
                    ),
                )
            }
        };
        out.push(Prediction::some(
            "bytes_down_per_s",
            updates * frame + beats * down_beat,
            format!(
                "N·λ·(frame header{} + payload + o) + {}",
                if tunnel { " + 9 (DATA, RFC 8441)" } else { "" },
                words.0
            ),
            vec![
                ("N·λ", updates),
                ("frame + o (B)", frame),
                ("o: TLS record overhead (B)", o),
                ("beats/s", beats),
                ("heartbeat down (B)", down_beat),
            ],
        ));
        out.push(Prediction::some(
            "bytes_up_per_s",
            pings * up_beat,
            words.1.to_string(),
            vec![("beats/s", pings), ("heartbeat up (B)", up_beat)],
        ));
    } else {
        let start = secs(sc.warmup);
        let event = mean_sse_event_bytes(inp.lambda, start, inp.window, payload, &inp.framing) + o;
        let beat = inp.framing.stream_chunk(SSE_HEARTBEAT_TEXT) as f64 + o;
        out.push(Prediction::some(
            "bytes_down_per_s",
            updates * event + beats * beat,
            "N·λ·(E[event bytes (id digits grow with the stream)] + o) + (N/heartbeat)·(comment + o)",
            vec![
                ("N·λ", updates),
                ("E[event] + o (B)", event),
                ("o: TLS record overhead (B)", o),
                ("N/heartbeat", beats),
                ("heartbeat + o (B)", beat),
            ],
        ));
        out.push(Prediction::some(
            "bytes_up_per_s",
            0.0,
            "nothing goes up on an open SSE stream: 0",
            vec![],
        ));
    }
    out.push(Prediction::some(
        "handshakes_per_s",
        0.0,
        "a stream stays open: no new connection once every client has connected",
        vec![("N", inp.n)],
    ));
    out.push(Prediction::some(
        "cpu_utilization",
        cpu.rho,
        "ρ = (N·λ + N/heartbeat)·s_p / (c·I)",
        vec![
            ("N·λ", updates),
            ("N/heartbeat", beats),
            ("s_p (s)", inp.s_p),
            ("c", inp.cores as f64),
            ("I", inp.instances),
        ],
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_cdf_values() {
        assert!((poisson_cdf(0.0, 1.0) - (-1.0f64).exp()).abs() < 1e-12);
        assert!((poisson_cdf(2.0, 2.0) - 5.0 * (-2.0f64).exp()).abs() < 1e-12);
        assert!((poisson_cdf(1000.0, 1000.0) - 0.5).abs() < 0.02);
    }

    #[test]
    fn sse_event_bytes_grow_with_ids() {
        use crate::scenario::{Http, Scenario};
        use crate::wire::sse_event_bytes;
        let mut sc = Scenario::reference();
        let chunks = Framing::new(&sc.network, true);
        // Few updates per stream: one-digit ids.
        let small = mean_sse_event_bytes(0.01, 10.0, 60.0, 200, &chunks);
        assert!((small - sse_event_bytes(0, 200) as f64).abs() < 1e-6);
        // A busy broadcast stream: ids of 4 digits.
        let big = mean_sse_event_bytes(100.0, 20.0, 50.0, 200, &chunks);
        assert!((big - sse_event_bytes(1000, 200) as f64).abs() < 1e-6);
        // HTTP/2: a DATA frame's 9 bytes instead of the chunk's framing.
        sc.network.http = Http::V2;
        let frames = Framing::new(&sc.network, true);
        let h2 = mean_sse_event_bytes(100.0, 20.0, 50.0, 200, &frames);
        assert!((h2 - (sse_event_text(1000, 200) + 9) as f64).abs() < 1e-6);
    }
}
