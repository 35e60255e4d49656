//! The simulator checked against closed-form theory (`rtsim::theory`), each comparison
//! with a stated tolerance: exact where the model is deterministic, a few standard
//! errors where it is statistical. Scenarios are small so the file runs in seconds
//! unoptimised; a failure here means the simulator or the formula is wrong — investigate,
//! do not loosen the tolerance.

use rtsim::engine::NS_PER_S;
use rtsim::results::RunMetrics;
use rtsim::scenario::{Http, PollSchedule, Scenario, ServiceTime, Technique, Tls};
use rtsim::sim::simulate;
use rtsim::steady::Steadiness;
use rtsim::theory::{Prediction, explain, predict};

const S: u64 = NS_PER_S;

fn scenario(t: Technique, clients: u32) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = t;
    sc.workload.clients = clients;
    sc
}

fn prediction(sc: &Scenario, metric: &str) -> Prediction {
    predict(sc)
        .into_iter()
        .find(|p| p.metric == metric)
        .expect("metric predicted")
}

fn value(sc: &Scenario, metric: &str) -> f64 {
    prediction(sc, metric)
        .value
        .unwrap_or_else(|| panic!("{metric} has no prediction"))
}

/// A number the prediction plugged in, by the start of its label.
fn input(sc: &Scenario, metric: &str, label: &str) -> f64 {
    let p = prediction(sc, metric);
    p.inputs
        .iter()
        .find(|(k, _)| k.starts_with(label))
        .unwrap_or_else(|| panic!("{metric}: no input {label} in {:?}", p.inputs))
        .1
}

fn run(sc: &Scenario) -> RunMetrics {
    simulate(sc).metrics
}

fn assert_rel(what: &str, sim: f64, pred: f64, tol: f64) {
    let rel = (sim - pred).abs() / pred.abs();
    assert!(
        rel <= tol,
        "{what}: simulated {sim}, predicted {pred}, |rel| {rel:.4} > {tol}"
    );
}

fn assert_within(what: &str, sim: f64, pred: f64, tol: f64) {
    assert!(
        (sim - pred).abs() <= tol,
        "{what}: simulated {sim}, predicted {pred}, |diff| {} > {tol}",
        (sim - pred).abs()
    );
}

/// After-response short polling, keep-alive warm: N/C requests per second (±1 %), an
/// empty fraction e^{−λC} (± 3 binomial standard errors), a mean latency
/// C/2 + s + d (± 3 standard errors of a uniform residual, Var = C²/12) and a maximum of
/// one cycle + s + d.
#[test]
fn short_polling_after_response() {
    let sc = scenario(Technique::ShortPolling, 1000);
    let m = run(&sc);
    assert_rel(
        "requests/s",
        m.requests_per_s,
        value(&sc, "requests_per_s"),
        0.01,
    );

    let c = input(&sc, "requests_per_s", "E[C]");
    let p = value(&sc, "empty_response_fraction");
    let responses = m.requests_per_s * secs(sc.duration);
    let se = (p * (1.0 - p) / responses).sqrt();
    assert_within("empty fraction", m.empty_response_fraction, p, 3.0 * se);

    let se = (c * c / 12.0 / m.deliveries).sqrt();
    assert_within(
        "latency mean",
        m.latency_mean_s,
        value(&sc, "latency_mean_s"),
        3.0 * se,
    );

    let max = value(&sc, "latency_max_s");
    // The histogram reports the top of the bucket (0.1 % resolution); with thousands of
    // deliveries some update lands within 2 % of a cycle after a snapshot.
    assert!(
        m.latency_max_s <= max * 1.001,
        "max {} > {max}",
        m.latency_max_s
    );
    assert!(
        m.latency_max_s >= max - 0.02 * c,
        "max {} ≪ {max}",
        m.latency_max_s
    );

    assert_eq!(m.connections_mean, sc.workload.clients as f64);
    assert_rel(
        "cpu",
        m.cpu_utilization,
        value(&sc, "cpu_utilization"),
        0.02,
    );
}

/// Fixed-rate polling every second over a whole number of seconds: every client makes
/// exactly one poll per second in the window, so the rate is N/T and every poll's bytes
/// are exactly request headers up, response headers down, plus the payload it carries
/// (or the empty answer's `[]`), each message in one TLS 1.3 record (+22 B).
#[test]
fn short_polling_fixed_rate_and_bytes_per_poll() {
    let mut sc = scenario(Technique::ShortPolling, 200);
    sc.short_polling.schedule = PollSchedule::FixedRate;
    sc.short_polling.interval = S;
    sc.workload.start_window = sc.short_polling.interval; // phases spread over one interval
    sc.warmup = 5 * S;
    sc.duration = 30 * S;
    let m = run(&sc);
    let d = secs(sc.duration);
    assert_rel(
        "requests/s",
        m.requests_per_s,
        value(&sc, "requests_per_s"),
        0.01,
    );
    assert_eq!(m.requests_per_s * d, 200.0 * 30.0);
    assert_eq!(m.handshakes_per_s, 0.0);

    let polls = m.requests_per_s * d;
    let up = m.bytes_up_per_s * d;
    let down = m.bytes_down_per_s * d;
    let payload = ((1.0 - m.overhead_fraction) * (up + down)).round();
    assert_eq!(sc.network.tls, Tls::V1_3);
    assert_eq!(
        up / polls,
        sc.network.request_header_bytes as f64 + 22.0,
        "request bytes per poll"
    );
    // Every answer: its head and one record; the empty ones also `[]`.
    let heads = polls * (sc.network.response_header_bytes as f64 + 22.0);
    let empties = (down - payload - heads) / sc.server.empty_body as f64;
    assert!(
        (empties - m.empty_response_fraction * polls).abs() <= 1.0,
        "empty answers {empties} vs {} × {polls}",
        m.empty_response_fraction
    );
    assert_eq!(payload % sc.workload.payload as f64, 0.0, "whole payloads");
    // Payload delivered: N·λ·D updates (Poisson count, ± 3 SE).
    let expected = 200.0 * sc.workload.rate * d;
    let carried = payload / sc.workload.payload as f64;
    assert_within("updates carried", carried, expected, 3.0 * expected.sqrt());
    assert_rel(
        "bytes up/s",
        m.bytes_up_per_s,
        value(&sc, "bytes_up_per_s"),
        1e-9,
    );
}

/// Polling every 10 s against a 5 s keep-alive: every poll opens a connection; the cycle
/// gains a handshake, and connections follow Little's law.
#[test]
fn short_polling_without_keep_alive() {
    let mut sc = scenario(Technique::ShortPolling, 200);
    sc.short_polling.interval = 10 * S;
    sc.workload.start_window = sc.short_polling.interval; // phases spread over one interval
    sc.server.keepalive_timeout = 5 * S;
    sc.warmup = 20 * S;
    sc.duration = 100 * S;
    let m = run(&sc);
    assert_rel(
        "requests/s",
        m.requests_per_s,
        value(&sc, "requests_per_s"),
        0.01,
    );
    assert_rel("handshakes/s", m.handshakes_per_s, m.requests_per_s, 0.01);
    assert_rel(
        "connections",
        m.connections_mean,
        value(&sc, "connections_mean"),
        0.01,
    );
    assert_rel(
        "bytes up/s",
        m.bytes_up_per_s,
        value(&sc, "bytes_up_per_s"),
        0.01,
    );
}

/// HTTP/2: bytes per poll from the warm HPACK block (exact, no handshake in the window),
/// every poll on a new connection paying its first request's literals and the preface
/// (±1 %, as over HTTP/1.1), and SSE events in DATA frames (± 3 standard errors of the
/// update count).
#[test]
fn http2_bytes_follow_the_hpack_blocks() {
    let mut sc = scenario(Technique::ShortPolling, 200);
    sc.network.http = Http::V2;
    sc.short_polling.schedule = PollSchedule::FixedRate;
    sc.short_polling.interval = S;
    sc.workload.start_window = S;
    sc.warmup = 5 * S;
    sc.duration = 30 * S;
    let m = run(&sc);
    assert_eq!(m.handshakes_per_s, 0.0);
    // 9 (HEADERS frame) + 31 (warm block) + 22 (TLS 1.3 record) per poll.
    assert_eq!(m.bytes_up_per_s, 200.0 * 62.0);
    let up = value(&sc, "bytes_up_per_s");
    assert_rel("HTTP/2 bytes up/s", m.bytes_up_per_s, up, 1e-9);
    let down = value(&sc, "bytes_down_per_s");
    let expected = 200.0 * sc.workload.rate * secs(sc.duration);
    let tol = 3.0 * expected.sqrt() / expected * 0.5; // payload is under half the bytes down
    assert_rel("HTTP/2 bytes down/s", m.bytes_down_per_s, down, tol);

    let mut sc = scenario(Technique::ShortPolling, 200);
    sc.network.http = Http::V2;
    sc.short_polling.interval = 10 * S;
    sc.workload.start_window = sc.short_polling.interval;
    sc.server.keepalive_timeout = 5 * S;
    sc.warmup = 20 * S;
    sc.duration = 100 * S;
    let m = run(&sc);
    assert_rel("handshakes/s", m.handshakes_per_s, m.requests_per_s, 0.01);
    let first = input(&sc, "bytes_up_per_s", "first_up");
    assert_eq!(first, (460 - 31 + 79 + 22) as f64);
    let up = value(&sc, "bytes_up_per_s");
    assert_rel(
        "HTTP/2 bytes up/s, no keep-alive",
        m.bytes_up_per_s,
        up,
        0.01,
    );

    let mut sc = scenario(Technique::Sse, 200);
    sc.network.http = Http::V2;
    let m = run(&sc);
    let expected = 200.0 * sc.workload.rate * secs(sc.duration);
    let tol = 3.0 * expected.sqrt() / expected;
    let down = value(&sc, "bytes_down_per_s");
    assert_rel("HTTP/2 SSE bytes down/s", m.bytes_down_per_s, down, tol);
}

/// SSE and WebSocket with an idle server and a constant RTT: every update arrives
/// exactly d + s_p after creation; N open connections; memory exactly
/// base + N·(per connection + per stream).
#[test]
fn streams_deliver_in_one_way_plus_push() {
    for t in [Technique::Sse, Technique::Websocket] {
        let sc = scenario(t, 200);
        let m = run(&sc);
        let exact = value(&sc, "latency_mean_s");
        assert_eq!(exact, 0.025 + 10e-6);
        assert_rel(&format!("{t} latency mean"), m.latency_mean_s, exact, 1e-9);
        assert_rel(&format!("{t} latency max"), m.latency_max_s, exact, 0.001);
        assert_eq!(m.connections_mean, 200.0, "{t}");
        let s = &sc.server;
        let memory = s.base_memory + 200 * (s.memory_per_connection + s.memory_per_stream);
        assert_eq!(value(&sc, "server_memory_mean_bytes"), memory as f64);
        assert_rel(
            &format!("{t} memory"),
            m.server_memory_mean_bytes,
            memory as f64,
            1e-12,
        );
        assert_eq!(m.requests_per_s, 0.0);
        // Heartbeat bytes follow the start phases; only the update count is random.
        let expected = 200.0 * sc.workload.rate * secs(sc.duration);
        let tol = 3.0 * expected.sqrt() / expected;
        assert_rel(
            &format!("{t} bytes up/s"),
            m.bytes_up_per_s.max(1e-300),
            value(&sc, "bytes_up_per_s").max(1e-300),
            1e-9,
        );
        assert_rel(
            &format!("{t} bytes down/s"),
            m.bytes_down_per_s,
            value(&sc, "bytes_down_per_s"),
            tol,
        );
    }
}

/// A single-core queue fed by per-client Poisson updates over SSE (each a push job):
/// exactly Poisson arrivals at the CPU. At ρ = 0.5, M/M/1 `W_q = ρ/(μ − λ)` and M/D/1
/// `W_q = ρ s/(2(1 − ρ))`, within 5 %.
#[test]
fn single_core_queue_at_half_load() {
    for service in [ServiceTime::Exponential, ServiceTime::Deterministic] {
        let mut sc = scenario(Technique::Sse, 100);
        sc.workload.rate = 10.0; // 1000 pushes/s
        sc.server.cores = 1;
        sc.server.push_cpu = 500_000; // 0.5 ms → ρ = 0.5
        sc.server.service = service;
        sc.network.tls = Tls::None;
        sc.network.proxy_idle_timeout = None;
        sc.sse.heartbeat = None;
        sc.warmup = 5 * S;
        sc.duration = 100 * S;
        let m = run(&sc);
        let rho = value(&sc, "cpu_utilization");
        assert!((rho - 0.5).abs() < 1e-12);
        let textbook = match service {
            ServiceTime::Exponential => 0.5 / (2000.0 - 1000.0),
            ServiceTime::Deterministic => 0.5 * 0.0005 / (2.0 * 0.5),
        };
        assert_rel("formula", value(&sc, "queue_wait_mean_s"), textbook, 1e-12);
        assert_rel(
            &format!("{service:?} queue wait"),
            m.queue_wait_mean_s,
            textbook,
            0.05,
        );
        assert_rel("utilization", m.cpu_utilization, rho, 0.02);
    }
}

/// Long polling, renewal–reward: requests/s = N / ((1−p)(1 − e^{−λ·timeout})/λ + gap),
/// within 3 %, once the warm-up has outlived the first timeouts.
#[test]
fn long_polling_request_rate() {
    let mut sc = scenario(Technique::LongPolling, 1000);
    sc.long_polling.timeout = 10 * S;
    sc.warmup = 30 * S;
    sc.duration = 120 * S;
    let m = run(&sc);
    assert_rel(
        "requests/s",
        m.requests_per_s,
        value(&sc, "requests_per_s"),
        0.03,
    );
    let p = value(&sc, "empty_response_fraction");
    let responses = m.requests_per_s * secs(sc.duration);
    let se = (p * (1.0 - p) / responses).sqrt();
    assert_within("empty fraction", m.empty_response_fraction, p, 3.0 * se);
    assert_rel(
        "latency mean",
        m.latency_mean_s,
        value(&sc, "latency_mean_s"),
        0.01,
    );
    assert_eq!(m.connections_mean, 1000.0);
}

/// Breaking an assumption: a CPU at ρ = 0.95 and a long poll held 90 s behind a 60 s
/// proxy. The formulas still give numbers; `explain` must say why they are off.
#[test]
fn explain_names_broken_assumptions() {
    let mut sc = scenario(Technique::Sse, 100);
    sc.workload.rate = 19.0;
    sc.server.cores = 1;
    sc.server.push_cpu = 500_000; // ρ = 1900 × 0.0005 = 0.95
    sc.network.tls = Tls::None;
    sc.network.proxy_idle_timeout = None;
    sc.sse.heartbeat = None;
    sc.warmup = 5 * S;
    sc.duration = 20 * S;
    let m = run(&sc);
    let text = explain(&sc, &m, None, &Steadiness::Steady, false);
    let queue = text
        .split("\nqueue_wait_mean_s")
        .nth(1)
        .expect("queue line");
    assert!(queue.contains("saturation"), "{text}");

    let mut sc = scenario(Technique::LongPolling, 100);
    sc.workload.rate = 0.005;
    sc.long_polling.timeout = 90 * S;
    sc.warmup = 10 * S;
    sc.duration = 200 * S;
    let m = run(&sc);
    assert!(m.proxy_timeouts > 0.0);
    let text = explain(&sc, &m, None, &Steadiness::Steady, true);
    let line = text
        .lines()
        .find(|l| l.starts_with("| `requests_per_s`"))
        .expect("row");
    assert!(
        line.contains("differs") && line.contains("proxy timeouts"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("| `empty_response_fraction`"))
        .expect("row");
    assert!(line.contains("proxy timeouts"), "{text}");
}

fn secs(ns: u64) -> f64 {
    ns as f64 / S as f64
}
