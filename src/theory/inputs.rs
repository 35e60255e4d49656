//! The numbers every formula starts from, derived once from a [`Scenario`] and converted
//! to seconds and bytes as `f64`; and the CPU queue shared by all techniques.

use crate::engine::time::secs;
use crate::scenario::{
    Arrivals, Concurrency, EmptyAnswer, Pattern, Rtt, Scenario, ServiceTime, Technique,
};
use crate::wire::h2::{Blocks, client_preface_bytes, headers_frames, server_preface_bytes};
use crate::wire::{Framing, no_content_head_bytes, tls_record_overhead};

use super::queueing::{WaitMethod, mgc_wait};

pub(super) struct Inputs {
    /// Clients.
    pub n: f64,
    /// Mean RTT (s).
    pub r: f64,
    /// Whether every client has the same RTT.
    pub rtt_constant: bool,
    /// Largest RTT a client can draw, if bounded (s).
    pub r_max: Option<f64>,
    /// One-way delay `r/2` (s).
    pub d: f64,
    /// Updates reaching each client per second.
    pub lambda: f64,
    pub poisson: bool,
    pub broadcast: bool,
    /// Request, push and handshake CPU (s).
    pub s_r: f64,
    pub s_p: f64,
    pub s_h: f64,
    /// TLS round trips before the first request.
    pub tls_rt: f64,
    pub cores: u32,
    pub instances: f64,
    pub exponential: bool,
    pub payload: f64,
    /// A request's head on a connection that has carried one before: HTTP/1.1's text,
    /// or HTTP/2's HEADERS frame of an HPACK block whose fields are indexed.
    pub req_hdr: f64,
    /// An answer's framing besides its payload, likewise (HTTP/2: the HEADERS frame and
    /// one DATA frame header).
    pub resp_hdr: f64,
    /// Bytes of an answer with nothing new: a `200` head and its empty body, or a `204`.
    pub empty_answer: f64,
    /// What a connection's first request and first answer add, up and down: HTTP/2's
    /// heads sent whole (HPACK's table is empty) and its preface and SETTINGS, one more
    /// TLS write each way; 0 under HTTP/1.1.
    pub first_up: f64,
    pub first_down: f64,
    /// How stream text (SSE events, heartbeats) is framed: chunks or DATA frames.
    pub framing: Framing,
    /// TLS record overhead per application write (B), 0 without TLS (`wire/mod.rs`).
    pub tls_rec: f64,
    /// Handshake bytes up and down per new connection (TCP + TLS).
    pub hs_up: f64,
    pub hs_down: f64,
    /// Backplane delay before an update is visible at the servers (s), 0 with 1 instance.
    pub b: f64,
    /// An idle connection closes after this long: min(keep-alive, proxy idle) (s).
    pub k: f64,
    /// Measured window (s).
    pub window: f64,
    /// Memory per open connection, idle (incl. thread stack), and what a request or a
    /// held poll/stream adds (bytes).
    pub mem_conn: f64,
    pub mem_req: f64,
    pub mem_stream: f64,
    pub mem_base: f64,
}

/// Mean of a log-normal with the given median and σ, truncated to [lo, hi]:
/// `E[X | lo ≤ X ≤ hi] = m·e^{σ²/2}·[Φ(β−σ) − Φ(α−σ)] / [Φ(β) − Φ(α)]` with
/// `α = ln(lo/m)/σ`, `β = ln(hi/m)/σ` (untruncated: `m·e^{σ²/2}`).
pub(super) fn lognormal_mean(median: f64, sigma: f64, lo: Option<f64>, hi: Option<f64>) -> f64 {
    if sigma <= 0.0 {
        return median;
    }
    let phi = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    let a = lo
        .filter(|&l| l > 0.0)
        .map_or(f64::NEG_INFINITY, |l| (l / median).ln() / sigma);
    let b = hi.map_or(f64::INFINITY, |h| (h / median).ln() / sigma);
    let mass = phi(b) - phi(a);
    if mass <= 0.0 {
        return median;
    }
    median * (sigma * sigma / 2.0).exp() * (phi(b - sigma) - phi(a - sigma)) / mass
}

impl Inputs {
    pub fn new(sc: &Scenario) -> Self {
        let (r, rtt_constant, r_max) = match sc.network.rtt {
            Rtt::Constant(x) => (secs(x), true, Some(secs(x))),
            Rtt::LogNormal {
                median,
                sigma,
                min,
                max,
            } => (
                lognormal_mean(secs(median), sigma, min.map(secs), max.map(secs)),
                false,
                max.map(secs),
            ),
        };
        let w = &sc.workload;
        let s = &sc.server;
        let net = &sc.network;
        let tls = net.tls.round_trips();
        let tcp = net.tcp_handshake_bytes;
        let syn_ack = tcp.min(60);
        let tls_bytes = if tls > 0 { net.tls_handshake_bytes } else { 0 };
        let stack = match s.concurrency {
            Concurrency::EventLoop => 0,
            Concurrency::ThreadPerConnection => s.thread_stack,
        };
        let proxy = net.proxy_idle_timeout.map(secs);
        let framing = Framing::new(net, sc.technique != Technique::Websocket);
        let empty_h1 = match s.empty_answer {
            EmptyAnswer::Ok => net.response_header_bytes + s.empty_body,
            EmptyAnswer::NoContent => no_content_head_bytes(net.response_header_bytes),
        };
        let no_content = s.empty_answer == EmptyAnswer::NoContent;
        let empty_body = if no_content { 0 } else { s.empty_body };
        let rec = tls_record_overhead(net.tls);
        let (req_hdr, resp_hdr, first_up, first_down) = if framing.is_h2() {
            let b = Blocks::new(
                net.request_header_bytes,
                net.response_header_bytes,
                net.http2_stack,
            );
            let (up, down) = (
                client_preface_bytes(net.http2_stack),
                server_preface_bytes(net.http2_stack),
            );
            (
                headers_frames(b.request_warm),
                headers_frames(b.response_warm) + crate::wire::h2::FRAME_HEADER,
                b.request_cold - b.request_warm + up + rec,
                b.response(false, no_content) - b.response(true, no_content) + down + rec,
            )
        } else {
            (net.request_header_bytes, net.response_header_bytes, 0, 0)
        };
        Inputs {
            n: w.clients as f64,
            r,
            rtt_constant,
            r_max,
            d: r / 2.0,
            lambda: w.rate,
            poisson: w.arrivals == Arrivals::Poisson,
            broadcast: w.pattern == Pattern::Broadcast,
            s_r: secs(s.request_cpu),
            s_p: secs(s.push_cpu),
            s_h: secs(s.tcp_accept_cpu + if tls > 0 { s.tls_handshake_cpu } else { 0 }),
            tls_rt: tls as f64,
            cores: s.cores,
            instances: s.instances as f64,
            exponential: s.service == ServiceTime::Exponential,
            payload: w.payload as f64,
            req_hdr: req_hdr as f64,
            resp_hdr: resp_hdr as f64,
            empty_answer: framing.answer(empty_h1, empty_body, no_content, true) as f64,
            first_up: first_up as f64,
            first_down: first_down as f64,
            framing,
            tls_rec: rec as f64,
            hs_up: ((tcp - syn_ack) + tls_bytes / 4) as f64,
            hs_down: (syn_ack + tls_bytes - tls_bytes / 4) as f64,
            b: if s.instances > 1 {
                secs(s.backplane_latency)
            } else {
                0.0
            },
            k: secs(s.keepalive_timeout).min(proxy.unwrap_or(f64::INFINITY)),
            window: secs(sc.duration),
            mem_conn: (s.memory_per_connection + stack) as f64,
            mem_req: s.memory_per_request as f64,
            mem_stream: s.memory_per_stream as f64,
            mem_base: (s.base_memory * s.instances as u64) as f64,
        }
    }

    /// The standard inputs list for formulas that use the RTT and service times.
    pub fn basic(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("N", self.n),
            ("λ (updates/s per client)", self.lambda),
            ("r = E[RTT] (s)", self.r),
            ("d = r/2 (s)", self.d),
            ("s_r (s)", self.s_r),
            ("s_p (s)", self.s_p),
        ]
    }
}

/// A class of CPU jobs: total arrivals per second (all instances) and mean service (s).
#[derive(Clone, Copy, Debug)]
pub(super) struct Jobs {
    pub rate: f64,
    pub service: f64,
}

/// The CPU queue of one instance fed by the given job classes (split evenly over the
/// instances), treated as M/G/c: utilisation `ρ = Σ λ_j s_j / (c·I)` and the mean wait.
pub(super) struct Cpu {
    pub rho: f64,
    /// Mean wait; `None` at or above saturation.
    pub wait: Option<f64>,
    pub method: WaitMethod,
    /// Job arrivals per second per instance, E[S], E[S²].
    pub lambda: f64,
    pub es: f64,
    pub es2: f64,
}

pub(super) fn cpu(inp: &Inputs, jobs: &[Jobs]) -> Cpu {
    let lambda: f64 = jobs.iter().map(|j| j.rate).sum::<f64>() / inp.instances;
    let work: f64 = jobs.iter().map(|j| j.rate * j.service).sum::<f64>() / inp.instances;
    // Deterministic services: E[S²] = Σ w_j s_j²; exponential: Σ w_j 2 s_j².
    let k = if inp.exponential { 2.0 } else { 1.0 };
    let sq: f64 = jobs
        .iter()
        .map(|j| j.rate * j.service * j.service)
        .sum::<f64>()
        / inp.instances;
    let (es, es2) = if lambda > 0.0 {
        (work / lambda, k * sq / lambda)
    } else {
        (0.0, 0.0)
    };
    let rho = work / inp.cores as f64;
    let result = mgc_wait(inp.cores, lambda, es, es2);
    Cpu {
        rho,
        wait: result.map(|(w, _)| w),
        method: result.map_or(WaitMethod::ErlangC, |(_, m)| m),
        lambda,
        es,
        es2,
    }
}

/// Solves the closed loop `W = W_q(load(W))` of a client population whose cycle grows
/// with the queue wait `W` (so its load falls): `wait_at(W)` is the queue's mean wait when
/// clients see `W` (`None` when saturated). The difference `W − wait_at(W)` increases
/// with `W`, so bisection finds the one solution. `None` if none below `limit`.
pub(super) fn closed_loop_wait(wait_at: impl Fn(f64) -> Option<f64>, limit: f64) -> Option<f64> {
    let f = |w: f64| wait_at(w).map_or(f64::NEG_INFINITY, |q| w - q);
    if f(0.0) >= 0.0 {
        return Some(0.0);
    }
    let mut lo = 0.0;
    let mut hi = 1e-3;
    while f(hi) < 0.0 {
        hi *= 2.0;
        if hi > limit {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_means() {
        let m = lognormal_mean(0.08, 0.5, None, None);
        assert!((m - 0.08 * (0.125f64).exp()).abs() < 1e-12);
        // Symmetric truncation in log space around the median pulls the mean down.
        let t = lognormal_mean(0.08, 0.5, Some(0.04), Some(0.16));
        assert!(t < m && t > 0.04 && t < 0.16);
    }
}
