//! HTTP/2 end to end (`[network] http = "2"`): what a poll costs once HPACK's dynamic
//! table is warm, what a connection's first request costs, SSE events in DATA frames,
//! WebSockets left on HTTP/1.1 or carried as RFC 8441 streams of the user's connection,
//! and the key on the command line.
//!
//! Byte counts are compared with the arithmetic of `src/wire/` (whose unit tests pin
//! RFC 7541's and RFC 9113's numbers): exact where every write in the window is known.

mod common;

use common::{rtsim, write};
use predicates::prelude::*;
use rtsim::engine::NS_PER_S;
use rtsim::results::RunMetrics;
use rtsim::scenario::{EmptyAnswer, Http, Http2Stack, PollSchedule, Scenario, Technique, Tls};
use rtsim::sim::simulate;
use rtsim::wire::h2::{Blocks, client_preface_bytes};

const S: u64 = NS_PER_S;
const MS: u64 = NS_PER_S / 1000;

fn run(sc: &Scenario) -> RunMetrics {
    simulate(sc).metrics
}

/// Fixed-rate short polling every second with TLS off, 200 clients, 30 s measured: every
/// poll in the window is one request and one answer on a kept-alive connection.
fn polling(http: Http) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::ShortPolling;
    sc.workload.clients = 200;
    sc.network.tls = Tls::None;
    sc.network.http = http;
    sc.short_polling.schedule = PollSchedule::FixedRate;
    sc.short_polling.interval = S;
    sc.workload.start_window = S;
    sc.server.empty_answer = EmptyAnswer::Ok;
    sc.warmup = 5 * S;
    sc.duration = 30 * S;
    sc
}

#[test]
fn a_poll_on_a_warm_http2_connection_sends_a_few_dozen_bytes_up() {
    let d = 30.0;
    let h1 = run(&polling(Http::V1_1));
    let h2 = run(&polling(Http::V2));
    let polls = h1.requests_per_s * d;
    assert_eq!(polls, 200.0 * 30.0);
    // Same polls, same answers (common random numbers): only the framing differs.
    assert_eq!(h2.requests_per_s, h1.requests_per_s);
    assert_eq!(h2.deliveries, h1.deliveries);
    assert_eq!(
        h1.handshakes_per_s, 0.0,
        "every connection was opened in the warm-up"
    );
    let b = Blocks::new(700, 171, Http2Stack::ChromiumNginx);
    // HTTP/1.1: the 700-byte head every time. HTTP/2: a 9-byte HEADERS frame and the
    // HPACK block of a warm connection (every field indexed but `:path`): 31 bytes.
    assert_eq!(h1.bytes_up_per_s * d, polls * 700.0);
    assert_eq!(b.request_warm, 31);
    assert_eq!(h2.bytes_up_per_s * d, polls * (9.0 + 31.0));
    assert!(
        h2.bytes_up_per_s * 15.0 < h1.bytes_up_per_s,
        "far fewer bytes up"
    );
    // Down: a HEADERS frame of the warm answer block and a DATA frame header instead of
    // the 171-byte head, on every answer (the body and payload are the same bytes).
    let per_answer = 171.0 - (9.0 + b.response_warm as f64 + 9.0);
    assert_eq!(
        (h1.bytes_down_per_s - h2.bytes_down_per_s) * d,
        polls * per_answer
    );
}

#[test]
fn the_first_request_of_a_connection_pays_its_whole_head_and_the_preface() {
    // Keep-alive shorter than the interval: every poll opens a new connection, so every
    // request is the first of its connection and HPACK's table is empty each time.
    let d = 30.0;
    let mut h1 = polling(Http::V1_1);
    h1.server.keepalive_timeout = 500 * MS;
    let mut h2 = h1.clone();
    h2.network.http = Http::V2;
    let (h1, h2) = (run(&h1), run(&h2));
    let polls = h1.requests_per_s * d;
    assert_eq!(
        h1.handshakes_per_s, h1.requests_per_s,
        "one connection per poll"
    );
    // TCP: SYN and ACK up (172 − 60 B), the same for both.
    let tcp_up = 172.0 - 60.0;
    assert_eq!(h1.bytes_up_per_s * d, polls * (tcp_up + 700.0));
    let b = Blocks::new(700, 171, Http2Stack::ChromiumNginx);
    let cold = 9.0 + b.request_cold as f64 + client_preface_bytes(Http2Stack::ChromiumNginx) as f64;
    assert_eq!(h2.bytes_up_per_s * d, polls * (tcp_up + cold));
    // The whole head under HPACK is still smaller than HTTP/1.1's text (Huffman, static
    // names), but not by much: the saving is in the repeats.
    assert!(b.request_cold < 700 && b.request_cold > 400, "{b:?}");
}

#[test]
fn sse_events_travel_in_data_frames() {
    let mut sc = Scenario::reference();
    sc.technique = Technique::Sse;
    sc.workload.clients = 100;
    sc.workload.rate = 0.2;
    sc.sse.heartbeat = None;
    sc.network.tls = Tls::None;
    sc.warmup = 5 * S;
    sc.duration = 20 * S;
    let h1 = run(&sc);
    sc.network.http = Http::V2;
    let h2 = run(&sc);
    assert_eq!(h2.deliveries, h1.deliveries);
    assert!(h1.deliveries > 300.0);
    // Ids below 100 and 200 B of payload: 214–215 B of text, whose chunk framing is
    // "d6\r\n" … "\r\n" (6 B); a DATA frame's header is 9 B. Each push is one event
    // (one instance, no backplane), so HTTP/2 costs 3 B more per event; the pushes at the
    // window's edges may differ from the deliveries by a few.
    let extra = (h2.bytes_down_per_s - h1.bytes_down_per_s) * 20.0;
    let per_event = extra / h1.deliveries;
    assert!((per_event - 3.0).abs() < 0.05, "{per_event}");
    assert_eq!(h2.bytes_up_per_s, 0.0);
}

#[test]
fn websockets_stay_on_http_1_1() {
    let mut sc = Scenario::reference();
    sc.technique = Technique::Websocket;
    sc.workload.clients = 50;
    sc.warmup = 5 * S;
    sc.duration = 10 * S;
    let h1 = run(&sc);
    sc.network.http = Http::V2;
    let h2 = run(&sc);
    assert_eq!(h2.bytes_down_per_s, h1.bytes_down_per_s);
    assert_eq!(h2.bytes_up_per_s, h1.bytes_up_per_s);
}

#[test]
fn the_key_is_set_from_the_command_line_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "e.toml",
        "name = \"h2\"\nduration = \"10s\"\nwarmup = \"5s\"\n\
         techniques = [\"short-polling\", \"websocket\"]\n[workload]\nclients = 10\n",
    );
    let path = file.to_str().unwrap();
    rtsim()
        .args(["check", path, "--set", "network.http=2"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "unless [websocket] over_http2 = true",
        ));
    rtsim()
        .args(["check", path, "--set", "network.http=\"1.1\""])
        .assert()
        .success();
    rtsim()
        .args(["check", path, "--set", "network.http=3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("one of \"1.1\", \"2\""))
        .stderr(predicate::str::contains("--set:1:"));
}

#[test]
fn a_trace_shows_the_preface_and_http2_answers() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "e.toml",
        "name = \"h2\"\ntechniques = [\"short-polling\", \"sse\"]\n[network]\nhttp = \"2\"\n",
    );
    for technique in ["short-polling", "sse"] {
        let out = rtsim()
            .args(["trace", file.to_str().unwrap(), "--technique", technique])
            .args(["--until", "5s"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("HTTP/2 preface + SETTINGS (79 B; 49 B back)"),
            "{text}"
        );
        assert!(text.contains("HTTP/2 200 OK"), "{text}");
        assert!(!text.contains("HTTP/1.1"), "{text}");
    }
}

/// RFC 8441 end to end: with `[websocket] over_http2` under HTTP/2, every update's bytes
/// on the wire are its RFC 6455 frame (a 4-byte header for a 200-byte payload) + the
/// 9-byte DATA frame header (RFC 9113 §4.1) + one TLS 1.3 record (22 B); the socket opens
/// with the extended CONNECT's HEADERS and a 200 HEADERS instead of the Upgrade and its
/// 101, after the connection preface.
#[test]
fn websockets_over_http2_put_every_frame_in_a_data_frame() {
    use rtsim::wire::rfc8441::Tunnel;
    use rtsim::wire::ws_frame_header;
    let mut sc = Scenario::reference();
    sc.technique = Technique::Websocket;
    sc.workload.clients = 200;
    sc.network.tls = Tls::V1_3;
    sc.network.http = Http::V2;
    sc.websocket.heartbeat = None;
    sc.warmup = 5 * S;
    sc.duration = 30 * S;
    let per_update = |m: &RunMetrics| m.bytes_down_per_s * 30.0 / m.deliveries;
    let h1 = run(&sc);
    sc.websocket.over_http2 = true;
    let h2 = run(&sc);
    assert_eq!(h2.deliveries, h1.deliveries);
    assert!(h2.deliveries > 100.0);
    let payload = sc.workload.payload;
    let frame = ws_frame_header(payload, false) + payload;
    assert_eq!(frame, 204);
    assert!((per_update(&h1) - (frame + 22) as f64).abs() < 1e-9);
    assert!(
        (per_update(&h2) - (frame + 9 + 22) as f64).abs() < 1e-9,
        "{} B per update",
        per_update(&h2)
    );
    // The handshake, counted when sockets open (all in the warm-up here): the tunnel's
    // HEADERS are smaller than the Upgrade's text.
    let t = Tunnel::new(&sc.network);
    assert!(t.connect < sc.network.ws_handshake_request_bytes);
    assert!(t.accepted < sc.network.ws_handshake_response_bytes);
    // Heartbeats too ride in DATA frames: a server ping 2 + 9 + 22, a masked pong 6 + 9 + 22.
    sc.websocket.heartbeat = Some(S);
    sc.workload.rate = 1e-9;
    let beats = run(&sc);
    let pings = 200.0 * 30.0;
    assert!(
        (beats.bytes_down_per_s * 30.0 / pings - 33.0).abs() < 0.01 * 33.0,
        "{} B down per beat",
        beats.bytes_down_per_s * 30.0 / pings
    );
    assert!((beats.bytes_up_per_s * 30.0 / pings - 37.0).abs() < 0.01 * 37.0);
}

#[test]
fn websockets_over_http2_without_http2_are_refused_where_the_key_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "ws.toml",
        "techniques = [\"websocket\"]\n[websocket]\nover_http2 = true\n",
    );
    rtsim()
        .args(["check", file.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("ws.toml:3:"))
        .stderr(predicate::str::contains("network.http = \"2\""));
}

/// RFC 8441 sockets of one user share its connection: bytes up in a window that holds
/// every handshake are one TCP handshake and one preface per user, and one extended
/// CONNECT per tab — HPACK-cold for the connection's first (and for a tab that asked
/// while the connection was still opening), warm for the others.
#[test]
fn rfc8441_sockets_share_the_connection_and_its_hpack_table() {
    use rtsim::wire::rfc8441::Tunnel;
    let (users, tabs) = (20u64, 3u64);
    let mut sc = Scenario::reference();
    sc.technique = Technique::Websocket;
    sc.workload.clients = (users * tabs) as u32;
    sc.workload.tabs = tabs as u32;
    sc.workload.rate = 1e-9;
    sc.network.tls = Tls::None;
    sc.network.http = Http::V2;
    sc.websocket.over_http2 = true;
    sc.websocket.heartbeat = None;
    sc.warmup = 0;
    sc.duration = 20 * S;
    let m = run(&sc);
    let t = Tunnel::new(&sc.network);
    let tcp_up = sc.network.tcp_handshake_bytes - 60;
    let per_user = tcp_up + client_preface_bytes(sc.network.http2_stack) + t.connect;
    let up = (m.bytes_up_per_s * 20.0).round() as u64;
    // The other tabs: k warm CONNECTs, the rest cold.
    let others = users * (tabs - 1);
    let cold_all = users * per_user + others * t.connect;
    assert!(t.connect_warm < t.connect);
    let saved = cold_all - up;
    assert_eq!(saved % (t.connect - t.connect_warm), 0, "{up} B up, {t:?}");
    let warm = saved / (t.connect - t.connect_warm);
    // Tabs start within 1 s, a connection is ready after ~2 round trips (0.1 s): most
    // tabs find it open.
    assert!(
        warm <= others && warm >= others / 2,
        "{warm} warm of {others}"
    );
    assert_eq!(m.handshakes_per_s * 20.0, users as f64);
}

#[test]
fn a_trace_of_rfc8441_shows_the_extended_connect_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "ws.toml",
        "techniques = [\"websocket\"]\n[network]\nhttp = \"2\"\n\
         [websocket]\nover_http2 = true\n[workload]\ntabs = 2\n",
    );
    let out = rtsim()
        .args(["trace", file.to_str().unwrap(), "--clients", "2"])
        .args(["--until", "5s"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // One connection for both tabs; the server's SETTINGS carry
    // SETTINGS_ENABLE_CONNECT_PROTOCOL (49 + 6 B).
    assert_eq!(text.matches("SYN (TCP connect)").count(), 1, "{text}");
    assert!(
        text.contains("HTTP/2 preface + SETTINGS (79 B; 55 B back)"),
        "{text}"
    );
    assert_eq!(
        text.matches("CONNECT :protocol=websocket").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("HTTP/2 200").count(), 2, "{text}");
    assert!(text.contains("a new stream on the user's HTTP/2 connection"));
    assert!(!text.contains("Upgrade") && !text.contains("101"), "{text}");
}
