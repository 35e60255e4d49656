//! The wire as it really is, end to end: TLS records around every write, the bodies of
//! empty and error answers, browser-faithful heartbeats and EventSource failures, and the
//! short-polling figures measured on loopback with real aiohttp clients and server.
//!
//! Each test runs whole simulations and compares their byte counts with the protocol
//! arithmetic of `src/wire/` (whose unit tests pin the RFC numbers): exact where every
//! write in the window is known, with a stated tolerance where the comparison is with a
//! measurement.

use rtsim::engine::NS_PER_S;
use rtsim::results::RunMetrics;
use std::sync::atomic::AtomicBool;

use rtsim::scenario::{
    Browser, EmptyAnswer, Fault, HeartbeatBy, Pattern, PollSchedule, Rtt, Scenario, SseFailure,
    Technique, Tls,
};
use rtsim::sim::{simulate, simulate_traced};

const S: u64 = NS_PER_S;
const MS: u64 = NS_PER_S / 1000;

fn run(sc: &Scenario) -> RunMetrics {
    simulate(sc).metrics
}

/// WebSockets pushing per-client updates, no heartbeats: in the window every byte down
/// is an update's frame (the handshakes are over in the warm-up).
fn websocket_updates(tls: Tls, payload: u64) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::Websocket;
    sc.workload.clients = 100;
    sc.workload.rate = 0.5;
    sc.workload.payload = payload;
    sc.websocket.heartbeat = None;
    sc.network.tls = tls;
    sc.warmup = 5 * S;
    sc.duration = 20 * S;
    sc
}

#[test]
fn bytes_per_update_over_tls_are_plain_plus_one_record_each() {
    let d = 20.0;
    let frame = 4.0 + 200.0; // RFC 6455: 200 B of payload take a 4-byte header.
    let plain = run(&websocket_updates(Tls::None, 200));
    let updates = plain.bytes_down_per_s * d / frame;
    assert!(updates > 500.0 && updates.fract() == 0.0, "{updates}");
    for (tls, record) in [(Tls::V1_3, 22.0), (Tls::V1_2, 29.0)] {
        let m = run(&websocket_updates(tls, 200));
        // Same updates at the same times (common random numbers): only the records differ.
        assert_eq!(m.deliveries, plain.deliveries);
        assert_eq!(
            m.bytes_down_per_s * d,
            updates * (frame + record),
            "{tls:?}"
        );
        assert_eq!(m.bytes_up_per_s, 0.0);
    }
}

#[test]
fn a_write_above_16_kib_takes_several_records() {
    // 40,000 B of payload + a 4-byte header: ⌈40,004 / 16,384⌉ = 3 records.
    let d = 20.0;
    let frame = 40_004.0;
    let plain = run(&websocket_updates(Tls::None, 40_000));
    let updates = plain.bytes_down_per_s * d / frame;
    assert!(updates > 500.0 && updates.fract() == 0.0, "{updates}");
    let m = run(&websocket_updates(Tls::V1_3, 40_000));
    assert_eq!(m.bytes_down_per_s * d, updates * (frame + 3.0 * 22.0));
}

/// Fixed-rate short polling every second with TLS off: every poll in the window is one
/// request and one answer, so the bytes are exact.
fn polling(answer: EmptyAnswer) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::ShortPolling;
    sc.workload.clients = 200;
    sc.network.tls = Tls::None;
    sc.short_polling.schedule = PollSchedule::FixedRate;
    sc.short_polling.interval = S;
    sc.workload.start_window = S;
    sc.server.empty_answer = answer;
    sc.warmup = 5 * S;
    sc.duration = 30 * S;
    sc
}

#[test]
fn empty_answers_carry_their_body_or_are_204s() {
    let d = 30.0;
    let ok = run(&polling(EmptyAnswer::Ok));
    let none = run(&polling(EmptyAnswer::NoContent));
    let polls = ok.requests_per_s * d;
    assert_eq!(polls, 200.0 * 30.0);
    assert_eq!(none.requests_per_s, ok.requests_per_s);
    assert_eq!(none.empty_response_fraction, ok.empty_response_fraction);
    let empties = (ok.empty_response_fraction * polls).round();
    assert!(empties > 1000.0);
    // `[]` is 2 bytes; a 204 head is 11 bytes shorter than a 200 head with a
    // Content-Length (the status text grows by 8, the 19-byte header line goes).
    let diff = (ok.bytes_down_per_s - none.bytes_down_per_s) * d;
    assert!(
        (diff - empties * (2.0 + 11.0)).abs() <= 13.0,
        "{diff} vs {empties}"
    );
    assert_eq!(ok.bytes_up_per_s, none.bytes_up_per_s);
}

/// SSE clients whose streams do not all fit in memory: most requests are answered 503.
fn sse_without_memory(on_failure: SseFailure) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::Sse;
    sc.workload.clients = 10;
    sc.warmup = 0;
    sc.duration = 60 * S;
    sc.sse.on_failure = on_failure;
    let s = &mut sc.server;
    s.memory_limit = s.base_memory + 10 * s.memory_per_connection + 2 * s.memory_per_stream;
    sc
}

#[test]
fn a_503_fails_the_eventsource_for_good() {
    let m = run(&sse_without_memory(SseFailure::Stop));
    // Ten requests, a few streams, the rest failed; nobody asks again.
    let failed = m.streams_failed;
    assert!(failed >= 5.0, "{failed}");
    assert_eq!(m.requests_per_s * 60.0, 10.0);
    assert_eq!(m.rejected_connections, failed);
    assert_eq!(m.reconnects, 0.0);
    // Each 503 came down with nginx's page after the head (TLS 1.3: one record).
    assert!(m.bytes_down_per_s * 60.0 >= failed * (171.0 + 190.0 + 22.0));

    // With `reopen` the page tries again with new EventSources, after its backoff.
    let m = run(&sse_without_memory(SseFailure::Reopen));
    assert!(
        m.requests_per_s * 60.0 > 10.0 + failed,
        "{}",
        m.requests_per_s
    );
    assert!(m.streams_failed > failed);
}

/// When an SSE client reconnects after its instance crashes at 10 s (the reset reaches
/// it one way, 25 ms, later): its SYN leaves after EventSource's reconnection delay.
fn reconnect_delay_after_a_crash(sc: &mut Scenario) -> f64 {
    sc.technique = Technique::Sse;
    sc.workload.clients = 1;
    sc.sse.heartbeat = None;
    sc.warmup = 0;
    sc.duration = 30 * S;
    sc.faults = vec![Fault::crash(10 * S, 0, S)];
    let (_, trace) = simulate_traced(sc, &AtomicBool::new(false)).unwrap();
    let syn = trace
        .messages
        .iter()
        .find(|m| m.sent > 10 * S && m.label.starts_with("SYN"))
        .expect("a reconnection");
    (syn.sent - 10 * S - 25 * MS) as f64 / S as f64
}

#[test]
fn eventsource_waits_its_browsers_delay_or_the_servers_retry() {
    let mut sc = Scenario::reference();
    assert_eq!(sc.workload.browser, Browser::Chromium);
    assert_eq!(reconnect_delay_after_a_crash(&mut sc), 3.0);
    sc.workload.browser = Browser::Webkit;
    assert_eq!(reconnect_delay_after_a_crash(&mut sc), 3.0);
    sc.workload.browser = Browser::Firefox;
    assert_eq!(reconnect_delay_after_a_crash(&mut sc), 5.0);
    sc.sse.retry = Some(2 * S);
    assert_eq!(reconnect_delay_after_a_crash(&mut sc), 2.0);
    // The server's `retry:` field, sent when the stream opened, wins.
    sc.sse.server_retry = Some(7 * S);
    assert_eq!(reconnect_delay_after_a_crash(&mut sc), 7.0);
}

/// WebSockets with heartbeats only (no updates): the bytes are the heartbeats'.
fn heartbeats(by: HeartbeatBy) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::Websocket;
    sc.workload.clients = 100;
    sc.workload.pattern = Pattern::Broadcast;
    sc.workload.rate = 1e-9;
    sc.websocket.heartbeat = Some(5 * S);
    sc.websocket.heartbeat_by = by;
    sc.warmup = 5 * S;
    sc.duration = 20 * S;
    sc
}

#[test]
fn heartbeats_go_the_way_browsers_send_them() {
    // Server pings: an empty unmasked ping down (2 + 22), the browser's masked pong up
    // (6 + 22), one each per beat.
    let m = run(&heartbeats(HeartbeatBy::ServerPing));
    let down = m.bytes_down_per_s * 20.0 / 24.0;
    let up = m.bytes_up_per_s * 20.0 / 28.0;
    assert_eq!(down.fract(), 0.0);
    assert_eq!(up.fract(), 0.0);
    assert!(
        (down - 400.0).abs() <= 100.0 && (up - down).abs() <= 100.0,
        "{down} {up}"
    );
    // The page's own 4-byte message up (6 + 4 + 22), the server's answer down (2 + 4 + 22).
    let m = run(&heartbeats(HeartbeatBy::ClientMessage));
    let up = m.bytes_up_per_s * 20.0 / 32.0;
    let down = m.bytes_down_per_s * 20.0 / 28.0;
    assert_eq!(up.fract(), 0.0);
    assert_eq!(down.fract(), 0.0);
    assert!(
        (up - 400.0).abs() <= 100.0 && (up - down).abs() <= 100.0,
        "{down} {up}"
    );
}

/// Short polling as measured on loopback through a delaying relay with real aiohttp
/// clients and server (HTTP/1.1, no TLS): 200 clients polling 1 s after each response,
/// 100 ms RTT, 0.05 updates/s per client, 149 B request heads, 158 B response heads,
/// 143 B JSON bodies per update; the server answers `[]` when nothing is new. Measured:
/// 181.5 req/s, 30,477 B/s down, 26,914 B/s up. The model must stay within 2 %.
#[test]
fn short_polling_matches_the_loopback_measurement() {
    let mut sc = Scenario::reference();
    sc.technique = Technique::ShortPolling;
    sc.workload.clients = 200;
    sc.workload.rate = 0.05;
    sc.workload.payload = 143;
    sc.network.rtt = Rtt::Constant(100 * MS);
    sc.network.tls = Tls::None;
    sc.network.request_header_bytes = 149;
    sc.network.response_header_bytes = 158;
    sc.short_polling.interval = S;
    sc.short_polling.schedule = PollSchedule::AfterResponse;
    assert_eq!(sc.server.empty_answer, EmptyAnswer::Ok);
    assert_eq!(sc.server.empty_body, 2); // `[]`
    let m = run(&sc);
    for (what, sim, measured) in [
        ("requests/s", m.requests_per_s, 181.5),
        ("bytes down/s", m.bytes_down_per_s, 30_477.0),
        ("bytes up/s", m.bytes_up_per_s, 26_914.0),
    ] {
        let rel = (sim - measured).abs() / measured;
        assert!(
            rel <= 0.02,
            "{what}: simulated {sim}, measured {measured} ({rel:.4})"
        );
    }
}
