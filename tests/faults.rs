//! Timeouts, drops, reconnection and crashes, each against what it should cost.

use rtsim::engine::{NS_PER_MS, NS_PER_S};
use rtsim::scenario::*;
use rtsim::sim::simulate;

fn base(technique: Technique, clients: u32) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = technique;
    sc.workload.clients = clients;
    sc.duration = 120 * NS_PER_S;
    sc.warmup = 100 * NS_PER_S;
    sc
}

/// A 90 s long-poll hold behind a 60 s proxy: every hold dies with a 504 at 60 s, so
/// requests arrive at about N/60 s (plus the re-connection); a 30 s hold sees none.
#[test]
fn long_poll_longer_than_the_proxy_timeout_dies_with_504s() {
    let n = 600;
    let mut sc = base(Technique::LongPolling, n);
    sc.workload.rate = 0.0005; // almost never an update: holds end by timeout
    sc.long_polling.timeout = 90 * NS_PER_S;
    sc.network.proxy_idle_timeout = Some(60 * NS_PER_S);
    let m = simulate(&sc).metrics;
    assert!(m.proxy_timeouts > 0.0);
    // Cycle ≈ 60 s + a new connection (1 + 1 TLS RTT + request 0.5 RTT ≈ 0.125 s) +
    // the 504's way back; updates shorten some cycles (λ·60 = 3 %).
    let expected = n as f64 / 60.2;
    assert!(
        (m.requests_per_s - expected).abs() / expected < 0.06,
        "requests/s {} vs ≈ {expected:.2}",
        m.requests_per_s
    );
    assert!(
        m.handshakes_per_s > 0.9 * expected,
        "every 504 costs a new connection"
    );

    sc.long_polling.timeout = 30 * NS_PER_S;
    let m = simulate(&sc).metrics;
    assert_eq!(m.proxy_timeouts, 0.0);
    assert_eq!(m.handshakes_per_s, 0.0);
}

/// SSE resumes from Last-Event-ID: drops lose nothing while retention holds, but the
/// latency tail grows by the outage and the retry delay.
#[test]
fn sse_loses_nothing_under_drops_but_its_tail_grows() {
    let mut sc = base(Technique::Sse, 300);
    sc.workload.rate = 0.5;
    let calm = simulate(&sc).metrics;
    sc.network.disconnect_every = Some(60 * NS_PER_S);
    sc.network.outage = 2 * NS_PER_S;
    let m = simulate(&sc).metrics;
    assert_eq!(m.lost, 0.0);
    assert!(m.reconnects > 0.0);
    assert!(m.deliveries + m.in_flight == m.published_pairs);
    // An update published just after a drop waits for the outage (2 s) and the
    // EventSource retry (3 s) before it is replayed.
    assert!(m.latency_max_s > 4.9, "max latency {}", m.latency_max_s);
    assert!(m.latency_p99_s > 10.0 * calm.latency_p99_s);
}

/// WebSocket without resume: what is published while a client is away is lost. Each
/// client drops every D = 20 s on average and is away for the outage (2 s), a backoff
/// (initial 1 s × (1 − 0.5·U), mean 0.75 s) and a reconnection (TCP + TLS + Upgrade ≈
/// 2.5 RTT + CPU ≈ 0.13 s): the lost share is ≈ E[away]/(D + E[away]) ≈ 12.6 %.
#[test]
fn websocket_without_resume_loses_what_was_sent_while_away() {
    let mut sc = base(Technique::Websocket, 400);
    sc.workload.rate = 0.5;
    sc.websocket.heartbeat = None; // the break is seen when the network returns
    sc.network.proxy_idle_timeout = None;
    sc.network.disconnect_every = Some(20 * NS_PER_S);
    sc.network.outage = 2 * NS_PER_S;
    let m = simulate(&sc).metrics;
    let away = 2.0 + 0.75 + 0.13;
    let expected = away / (20.0 + away);
    let fraction = m.lost / m.published_pairs;
    assert!(
        (fraction - expected).abs() / expected < 0.15,
        "lost fraction {fraction:.4} vs expected {expected:.4}"
    );

    sc.websocket.resume = true;
    let m = simulate(&sc).metrics;
    assert_eq!(m.lost, 0.0, "resume replays what was retained");
    assert_eq!(m.deliveries + m.in_flight, m.published_pairs);
}

/// A silent break (no close) is only noticed by the page's own heartbeat: with messages
/// every 25 s and a 20 s timeout, clients stay away ~45 s, and lose accordingly more.
/// The server's RFC 6455 pings are invisible to the page: with them, as without any
/// heartbeat, the browser's error when the network returns is all there is.
#[test]
fn silent_breaks_are_found_by_heartbeats() {
    let mut sc = base(Technique::Websocket, 300);
    sc.workload.rate = 0.5;
    sc.network.proxy_idle_timeout = None;
    sc.network.disconnect_every = Some(200 * NS_PER_S);
    sc.websocket.heartbeat_by = HeartbeatBy::ClientMessage;
    let with_heartbeat = simulate(&sc).metrics;
    sc.websocket.heartbeat_by = HeartbeatBy::ServerPing;
    let server_pings = simulate(&sc).metrics;
    sc.websocket.heartbeat = None;
    let without = simulate(&sc).metrics;
    assert!(
        with_heartbeat.lost > 5.0 * without.lost,
        "heartbeat detection ({}) should lose far more than an immediate error ({})",
        with_heartbeat.lost,
        without.lost
    );
    assert_eq!(server_pings.lost, without.lost);
}

fn crash_peak(jitter: f64) -> (f64, f64) {
    let mut sc = base(Technique::Websocket, 2000);
    sc.duration = 30 * NS_PER_S;
    sc.warmup = 10 * NS_PER_S;
    sc.timeseries_bucket = 100 * NS_PER_MS;
    sc.server.instances = 2;
    sc.websocket.backoff.jitter = jitter;
    sc.faults = vec![Fault::crash(20 * NS_PER_S, 0, 5 * NS_PER_S)];
    let out = simulate(&sc);
    let during = |lo: f64, hi: f64| {
        out.timeseries
            .iter()
            .filter(|p| p.time_s >= lo && p.time_s < hi)
            .map(|p| p.handshakes_per_s)
            .fold(0.0, f64::max)
    };
    (during(15.0, 20.0), during(20.0, 25.0))
}

/// A crash sends every client of the instance back at once (a thundering herd of
/// handshakes); jittered backoff spreads it and lowers the peak.
#[test]
fn a_crash_makes_a_handshake_storm_that_jitter_flattens() {
    let (before, storm) = crash_peak(0.0);
    assert_eq!(before, 0.0, "no handshakes in steady state");
    // About 1,000 clients reconnect within one 100 ms bucket: ≥ 5,000 handshakes/s.
    assert!(storm > 5_000.0, "peak {storm}");
    let (_, jittered) = crash_peak(0.5);
    assert!(
        jittered < 0.5 * storm,
        "jitter should flatten the storm: {jittered} vs {storm}"
    );
}

/// A handshake stuck in an overloaded server's CPU queue past the proxy's idle timeout
/// is closed by the proxy; the client must notice and try again, not wait forever.
#[test]
fn handshakes_cut_by_the_proxy_are_retried() {
    for t in Technique::ALL {
        let mut sc = base(t, 3000);
        sc.warmup = 5 * NS_PER_S;
        sc.duration = 30 * NS_PER_S;
        sc.server.cores = 1;
        sc.server.tls_handshake_cpu = 5 * NS_PER_MS; // 3,000 handshakes = 15 s of CPU
        sc.network.proxy_idle_timeout = Some(4 * NS_PER_S);
        sc.sse.heartbeat = Some(2 * NS_PER_S);
        sc.websocket.heartbeat = Some(2 * NS_PER_S);
        sc.long_polling.timeout = 3 * NS_PER_S;
        let m = simulate(&sc).metrics;
        assert!(m.proxy_timeouts > 0.0, "{t}: no handshake was cut");
        assert!(m.reconnects > 0.0, "{t}: cut handshakes were never retried");
        assert_eq!(
            m.deliveries + m.lost + m.in_flight,
            m.published_pairs,
            "{t}"
        );
    }
}

/// A keep-alive timeout shorter than the trip back: the server closes the connection
/// while its response is still on the wire. TCP delivers the data before the FIN, so
/// the client gets its answer and opens a new connection for every poll.
#[test]
fn keepalive_shorter_than_the_trip_back_still_delivers_the_response() {
    let n = 200;
    let mut sc = base(Technique::ShortPolling, n);
    sc.network.rtt = Rtt::Constant(100 * NS_PER_MS);
    sc.server.keepalive_timeout = 10 * NS_PER_MS;
    for quiet in [true, false] {
        // With and without a fault process (drops far apart), so both the early-arrival
        // path and the event-by-event path are exercised.
        sc.network.disconnect_every = (!quiet).then_some(1_000_000 * NS_PER_S);
        let m = simulate(&sc).metrics;
        // Each cycle: 3 s + TCP (1 RTT) + TLS 1.3 (1 RTT) + request and response (1
        // RTT) + the handshake CPU and request CPU.
        let cycle = 3.0 + 0.3 + 0.001_07;
        let expected = n as f64 / cycle;
        assert!(
            (m.requests_per_s - expected).abs() / expected < 0.02,
            "quiet {quiet}: requests/s {} vs ≈ {expected:.2}",
            m.requests_per_s
        );
        assert!(
            (m.handshakes_per_s - expected).abs() / expected < 0.02,
            "quiet {quiet}: one handshake per poll, got {} /s",
            m.handshakes_per_s
        );
    }
}

/// Refused clients are demand too: 1,000 SSE clients against one instance with 400
/// slots need ⌈1000 / 400⌉ = 3 instances, not the one whose slots were full; with
/// memory the limit instead, what the refused streams would hold counts.
#[test]
fn instances_needed_counts_the_clients_that_were_refused() {
    let n = 1000;
    let mut sc = base(Technique::Sse, n);
    sc.server.max_connections = 400;
    let m = simulate(&sc).metrics;
    assert!(m.rejected_connections > 0.0);
    assert_eq!(m.connections_peak, 400.0, "the slots were full");
    assert_eq!(m.instances_needed, 3.0);

    // Memory for the base and 250 streams per instance: 1,000 streams need 4.
    let mut sc = base(Technique::Sse, n);
    let per_stream = sc.server.memory_per_connection + sc.server.memory_per_stream;
    sc.server.memory_limit = sc.server.base_memory + 250 * per_stream;
    let m = simulate(&sc).metrics;
    assert!(m.rejected_connections > 0.0);
    assert_eq!(m.instances_needed, 4.0);

    // Enough of both: nothing refused, one instance.
    let m = simulate(&base(Technique::Sse, n)).metrics;
    assert_eq!(m.rejected_connections, 0.0);
    assert_eq!(m.instances_needed, 1.0);
}

/// A rolling deploy of 2 instances × 1,000 WebSocket clients from `at` = 15 s: each
/// instance drained for `drain`, down 2 s, clients back at once (no backoff jitter).
/// Returns the run's metrics and the peak handshakes/s of a 100 ms bucket while the
/// deploy runs.
fn deploy_peak(drain: u64, jitter: bool) -> (rtsim::results::RunMetrics, f64) {
    let mut sc = base(Technique::Websocket, 2000);
    sc.duration = 40 * NS_PER_S;
    sc.warmup = 10 * NS_PER_S;
    sc.timeseries_bucket = 100 * NS_PER_MS;
    sc.server.instances = 2;
    sc.websocket.backoff.jitter = 0.0;
    sc.faults = vec![Fault {
        kind: FaultKind::Deploy,
        drain: drain * NS_PER_S,
        jitter,
        ..Fault::crash(15 * NS_PER_S, 0, 2 * NS_PER_S)
    }];
    let out = simulate(&sc);
    let peak = out
        .timeseries
        .iter()
        .filter(|p| p.time_s >= 15.0)
        .map(|p| p.handshakes_per_s)
        .fold(0.0, f64::max);
    (out.metrics, peak)
}

/// A deploy without a drain period (or with one but no jitter: every connection is cut
/// at its end) sends an instance's 1,000 clients back within one bucket; a 10 s drain
/// with jitter closes them uniformly over it — 100 closes/s, so ~10 per 100 ms bucket
/// (Poisson-like; the peak of ~200 buckets stays under 40, i.e. 400/s) — a storm no
/// more. Either way every client reconnects: instance 0's 1,000, then all 2,000 from
/// instance 1 (least connections put everyone there while 0 drained).
#[test]
fn a_deploy_without_drain_or_jitter_storms_and_a_jittered_drain_does_not() {
    let (at_once, cut) = deploy_peak(0, false);
    assert!(cut > 5_000.0, "no drain: peak {cut}/s");
    let (at_end, cut_at_end) = deploy_peak(10, false);
    assert!(
        cut_at_end > 5_000.0,
        "drain without jitter: peak {cut_at_end}/s"
    );
    let (spread, jittered) = deploy_peak(10, true);
    assert!(jittered < 400.0, "jittered drain: peak {jittered}/s");
    assert!(
        jittered > 50.0,
        "jittered drain: the closes happen ({jittered}/s)"
    );
    for m in [&at_once, &at_end, &spread] {
        assert!(
            (2_900.0..=3_100.0).contains(&m.reconnects),
            "reconnects {}",
            m.reconnects
        );
    }
    // The storm is what costs: queueing for the CPU is worse when all come at once.
    assert!(at_once.queue_wait_mean_s > spread.queue_wait_mean_s);
}

/// One instance: a deploy is downtime (nobody else takes its clients), and the clients
/// come back once it restarts.
#[test]
fn a_deploy_of_one_instance_is_downtime() {
    let mut sc = base(Technique::Websocket, 200);
    sc.duration = 30 * NS_PER_S;
    sc.warmup = 5 * NS_PER_S;
    sc.faults = vec![Fault {
        kind: FaultKind::Deploy,
        drain: 0,
        ..Fault::crash(10 * NS_PER_S, 0, 3 * NS_PER_S)
    }];
    let m = simulate(&sc).metrics;
    assert!(m.reconnects >= 200.0, "reconnects {}", m.reconnects);
    // Clients retried while it was down: refused connections.
    assert!(m.rejected_connections > 0.0, "{m:?}");
}
