//! Property tests: random valid scenarios (tiny sizes) never panic, every run accounts
//! for every (update, recipient) pair (delivered + lost + in flight = published), the
//! quiet-world shortcut changes nothing but the event count where no two events share a
//! nanosecond (also in [`wider`] worlds: memory limits, backplanes, joins, 204 answers,
//! and, with tabs, browsers that share connections), and no technique's settings change
//! another technique's run.

use proptest::prelude::*;
use rtsim::engine::{NS_PER_MS, NS_PER_S};
use rtsim::results::RunMetrics;
use rtsim::scenario::*;
use rtsim::sim::{simulate, simulate_every_step};

fn technique() -> impl Strategy<Value = Technique> {
    prop::sample::select(Technique::ALL.to_vec())
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop::sample::select(vec![Pattern::Broadcast, Pattern::PerClient, Pattern::Chat])
}

fn seconds(lo: u64, hi: u64) -> impl Strategy<Value = u64> {
    (lo * 1000..=hi * 1000).prop_map(|ms| ms * NS_PER_MS)
}

/// A tiny run: `technique` for `clients` clients (seed `seed`), 3 s of warm-up and
/// `measured_s` measured.
fn tiny(technique: Technique, seed: u64, clients: u32, measured_s: u64) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = technique;
    sc.seed = seed;
    sc.duration = measured_s * NS_PER_S;
    sc.warmup = 3 * NS_PER_S;
    sc.workload.clients = clients;
    sc
}

/// The run with the quiet-world shortcut and the event-by-event run of one world.
struct Compared {
    /// Their metrics, the event counts set aside (the shortcut's run has no more
    /// events than the other).
    fast: RunMetrics,
    every: RunMetrics,
    /// The event counts: the shortcut's run, the event-by-event one.
    events: (f64, f64),
    /// Events of the event-by-event run at the same nanosecond as the one before.
    simultaneous: u64,
}

/// Both runs of `sc` without its fault processes (the shortcut needs a world without
/// them).
fn compare(sc: &Scenario) -> Compared {
    let mut sc = sc.clone();
    sc.network.disconnect_every = None;
    sc.faults.clear();
    let mut fast = simulate(&sc).metrics;
    let reference = simulate_every_step(&sc);
    let mut every = reference.output.metrics;
    let events = (fast.events, every.events);
    assert!(events.0 <= events.1);
    fast.events = 0.0;
    every.events = 0.0;
    Compared {
        fast,
        every,
        events,
        simultaneous: reference.simultaneous,
    }
}

/// The two runs' metrics of [`compare`].
fn fast_and_every_step(sc: &Scenario) -> (RunMetrics, RunMetrics) {
    let runs = compare(sc);
    (runs.fast, runs.every)
}

/// The shortcut's promise, as a property: where no two events of the event-by-event
/// run share a nanosecond, both runs' results are identical. Where some do, they run
/// in the order they were scheduled, which a step taken early changes
/// (`with_simultaneous_events_only_their_order_differs`) — and even continuous round
/// trips meet such a tie now and then (two of a few thousand events on one nanosecond
/// of some 10^10: about one world in 30,000): then both runs must still account for
/// every (update, recipient) pair.
fn shortcut_changes_nothing(sc: &Scenario) -> Result<(), TestCaseError> {
    let Compared {
        fast,
        every,
        simultaneous,
        ..
    } = compare(sc);
    if simultaneous == 0 {
        prop_assert_eq!(fast, every);
    } else {
        for m in [&fast, &every] {
            prop_assert_eq!(
                m.deliveries + m.lost + m.in_flight + m.stalled_pairs,
                m.published_pairs,
                "{:?}",
                m
            );
        }
    }
    Ok(())
}

/// A log-normal round trip with this median and σ, unbounded.
fn lognormal(median: u64, sigma: f64) -> Rtt {
    Rtt::LogNormal {
        median,
        sigma,
        min: None,
        max: None,
    }
}

/// The shortcut's run of `sc` (a world without faults) is the event-by-event one, in
/// fewer events: its metrics.
fn same_in_fewer_events(sc: &Scenario) -> RunMetrics {
    let runs = compare(sc);
    assert_eq!(runs.fast, runs.every);
    assert!(runs.events.0 < runs.events.1);
    runs.fast
}

prop_compose! {
    fn scenario()(
        technique in technique(),
        pattern in pattern(),
        periodic in any::<bool>(),
        clients in 1u32..40,
        tabs in prop::sample::select(vec![1u32, 1, 1, 3, 8]),
        rate in 0.05f64..3.0,
        room_size in 2u32..6,
        rtt in seconds(0, 1),
        lognormal in any::<bool>(),
        tls in prop::sample::select(vec![Tls::None, Tls::V1_2, Tls::V1_3]),
        http2 in any::<bool>(),
        instances in 1u32..4,
        cores in 1u32..4,
        exponential in any::<bool>(),
        max_connections in 1u64..60,
        keepalive in seconds(1, 20),
        proxy in prop::option::of(seconds(2, 40)),
        drops in prop::option::of(seconds(2, 30)),
        outage in seconds(0, 5),
        retention_count in prop::option::of(1u64..5),
        interval in seconds(1, 8),
        jitter in prop::option::of(seconds(0, 2)),
        fixed_rate in any::<bool>(),
        lp_timeout in seconds(1, 40),
        heartbeat in prop::option::of(seconds(1, 20)),
        resume in any::<bool>(),
        crash in prop::option::of((seconds(0, 20), seconds(1, 10))),
        seed in any::<u64>(),
    ) -> Scenario {
        let mut sc = tiny(technique, seed, clients, 20);
        sc.workload = Workload {
            clients,
            pattern,
            rate,
            arrivals: if periodic { Arrivals::Periodic } else { Arrivals::Poisson },
            payload: 100,
            room_size,
            tabs,
            ..sc.workload.clone()
        };
        sc.network.rtt = if lognormal {
            Rtt::LogNormal { median: rtt.max(1_000), sigma: 0.7, min: None, max: None }
        } else {
            Rtt::Constant(rtt)
        };
        sc.network.tls = tls;
        sc.network.http = if http2 { Http::V2 } else { Http::V1_1 };
        sc.network.proxy_idle_timeout = proxy;
        sc.network.disconnect_every = drops;
        sc.network.outage = outage;
        sc.server.instances = instances;
        sc.server.cores = cores;
        sc.server.service = if exponential { ServiceTime::Exponential } else { ServiceTime::Deterministic };
        sc.server.max_connections = max_connections;
        sc.server.keepalive_timeout = keepalive;
        if let Some(k) = retention_count {
            sc.server.retention = Retention::Count(k);
        }
        sc.short_polling.interval = interval;
        sc.short_polling.jitter = jitter.unwrap_or(0);
        sc.short_polling.schedule = if fixed_rate { PollSchedule::FixedRate } else { PollSchedule::AfterResponse };
        sc.long_polling.timeout = lp_timeout;
        sc.sse.heartbeat = heartbeat;
        sc.websocket.heartbeat = heartbeat;
        sc.websocket.resume = resume;
        sc.faults = crash
            .map(|(at, downtime)| vec![Fault::crash(at, 0, downtime)])
            .unwrap_or_default();
        sc
    }
}

prop_compose! {
    /// Every technique's own settings, all different from the reference's.
    fn technique_settings()(
        interval in seconds(1, 8),
        jitter in seconds(0, 2),
        fixed_rate in any::<bool>(),
        lp_timeout in seconds(1, 40),
        lp_delay in seconds(0, 2),
        backoff in (seconds(0, 3), seconds(3, 30), 0.0f64..1.0),
        sse_heartbeat in prop::option::of(seconds(1, 20)),
        sse_retry in seconds(0, 5),
        ws_heartbeat in prop::option::of(seconds(1, 20)),
        ws_timeout in seconds(1, 10),
        resume in any::<bool>(),
    ) -> Scenario {
        let mut sc = Scenario::reference();
        let (initial, max, jitter_fraction) = backoff;
        let backoff = Backoff { initial, max, jitter: jitter_fraction };
        sc.short_polling = ShortPolling {
            interval,
            jitter,
            schedule: if fixed_rate { PollSchedule::FixedRate } else { PollSchedule::AfterResponse },
        };
        sc.long_polling = LongPolling { timeout: lp_timeout, reconnect_delay: lp_delay, backoff: backoff.clone() };
        sc.sse = Sse {
            heartbeat: sse_heartbeat,
            retry: Some(sse_retry),
            server_retry: Some(sse_retry + 1_000_000),
            on_failure: SseFailure::Stop,
            reopen_backoff: backoff.clone(),
        };
        sc.websocket = WebSocket {
            heartbeat: ws_heartbeat,
            heartbeat_timeout: ws_timeout,
            heartbeat_by: HeartbeatBy::ClientMessage,
            heartbeat_message: 16,
            backoff,
            resume,
            over_http2: false,
        };
        sc
    }
}

prop_compose! {
    /// [`scenario`] with what it leaves at the reference varied too: a memory limit that
    /// binds, HTTP/2 stream limits that make tabs wait, how clients join, empty answers as 204, a backplane (with a queue), the
    /// balancer, thread-per-connection servers, retention by age, and every technique's
    /// own settings but short polling's.
    fn wider()(
        sc in scenario(),
        settings in technique_settings(),
        memory_limit in prop::option::of(1u64..30),
        join in prop::sample::select(vec![Join::AllAtOnce, Join::Uniform, Join::Poisson]),
        no_content in any::<bool>(),
        backplane in prop::option::of((seconds(0, 1), prop::option::of(20.0f64..500.0), 1u32..3)),
        round_robin in any::<bool>(),
        threads in any::<bool>(),
        retention in prop::option::of(seconds(1, 10)),
        over_http2 in any::<bool>(),
        streams in prop::sample::select(vec![1u32, 2, 4, 100]),
    ) -> Scenario {
        let mut sc = sc;
        // Few HTTP/2 streams per user: a tab's requests wait for one.
        sc.server.max_concurrent_streams = streams;
        sc.long_polling = settings.long_polling;
        sc.sse = settings.sse;
        sc.websocket = settings.websocket;
        sc.websocket.over_http2 = over_http2 && sc.network.http == Http::V2;
        // A zero reconnection delay over a zero round trip to a crashed instance retries
        // forever at one instant: the run stops with an error naming the key (the
        // world's stuck check), which `simulate` turns into a panic. Not what is tested
        // here.
        for delay in [
            &mut sc.long_polling.backoff.initial,
            &mut sc.sse.reopen_backoff.initial,
            &mut sc.websocket.backoff.initial,
        ] {
            *delay = (*delay).max(NS_PER_MS);
        }
        sc.sse.retry = sc.sse.retry.map(|r| r.max(NS_PER_MS));
        if let Some(k) = memory_limit {
            let s = &sc.server;
            sc.server.memory_limit = s.base_memory + k * (s.memory_per_connection + s.memory_per_stream);
        }
        sc.workload.join = join;
        sc.workload.join_rate = 20.0;
        if join == Join::AllAtOnce {
            // Clients that start at one instant with one round trip (or the tabs of one
            // user, which share theirs) make a world of ties, whose order the shortcut
            // may change (`with_simultaneous_events_only_their_order_differs`).
            sc.network.rtt = Rtt::LogNormal { median: 50 * NS_PER_MS, sigma: 0.7, min: None, max: None };
            sc.workload.tabs = 1;
        }
        if no_content {
            sc.server.empty_answer = EmptyAnswer::NoContent;
        }
        if let Some((latency, capacity, nodes)) = backplane {
            sc.server.backplane_latency = latency.max(1);
            sc.server.backplane_capacity =
                capacity.map_or(BackplaneCapacity::Unlimited, BackplaneCapacity::PerSecond);
            sc.server.backplane_nodes = nodes;
        }
        if round_robin {
            sc.server.balancer = Balancer::RoundRobin;
        }
        if threads {
            sc.server.concurrency = Concurrency::ThreadPerConnection;
        }
        if let Some(age) = retention {
            sc.server.retention = Retention::Duration(age);
        }
        sc
    }
}

prop_compose! {
    /// Saturated worlds: one core per instance, polls every 50 ms – 2 s, CPU per request
    /// up to 20 ms, keep-alive of seconds, proxies that cut queued requests, connection
    /// and memory limits that refuse — with round trips drawn from a continuous
    /// distribution, one per client (one tab per user: a user's tabs share its round
    /// trip; no chat: a client's POST and poll share it too, and over HTTP/2 both wait
    /// for the same handshake), so that no two events fall on the same nanosecond (see
    /// `with_simultaneous_events_only_their_order_differs`).
    fn overloaded()(
        technique in technique(),
        pattern in prop::sample::select(vec![Pattern::Broadcast, Pattern::PerClient]),
        clients in 20u32..300,
        interval in 50u64..2000,
        request_cpu in prop::sample::select(vec![50u64, 500, 2_000, 20_000]),
        proxy in prop::option::of(seconds(1, 10)),
        keepalive in seconds(1, 10),
        http2 in any::<bool>(),
        memory_limit in prop::option::of(1u64..100),
        max_connections in prop::option::of(5u64..200),
        seed in any::<u64>(),
    ) -> Scenario {
        let mut sc = tiny(technique, seed, clients, 15);
        sc.workload.rate = 0.5;
        sc.workload.pattern = pattern;
        sc.network.rtt = Rtt::LogNormal { median: 40 * NS_PER_MS, sigma: 0.7, min: None, max: None };
        sc.network.http = if http2 { Http::V2 } else { Http::V1_1 };
        sc.network.proxy_idle_timeout = proxy;
        sc.server.keepalive_timeout = keepalive;
        sc.server.cores = 1;
        sc.server.request_cpu = request_cpu * 1_000;
        if let Some(k) = memory_limit {
            sc.server.memory_limit = sc.server.base_memory + k * 20_000;
        }
        if let Some(m) = max_connections {
            sc.server.max_connections = m;
        }
        sc.short_polling.interval = interval * NS_PER_MS;
        sc
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_pair_is_accounted_for(sc in scenario()) {
        let m = simulate(&sc).metrics;
        prop_assert_eq!(m.deliveries + m.lost + m.in_flight + m.stalled_pairs, m.published_pairs, "{:?}", m);
        prop_assert!(m.connections_peak <= (sc.server.max_connections * sc.server.instances as u64) as f64);
        prop_assert!(m.cpu_utilization <= 1.0 + 1e-9);
        // A share is in [0, 1], or has no sample (NaN) — never a 0 that means "none".
        prop_assert!(m.empty_response_fraction.is_nan() || (0.0..=1.0).contains(&m.empty_response_fraction));
        prop_assert!(m.overhead_fraction.is_nan() || (0.0..=1.0).contains(&m.overhead_fraction));
        if m.deliveries > 0.0 {
            prop_assert!(m.latency_p50_s <= m.latency_p99_s * 1.001 + 1e-9);
            prop_assert!(m.latency_p99_s <= m.latency_max_s * 1.001 + 1e-9);
        } else {
            // Nothing delivered is not zero latency.
            for v in [m.latency_mean_s, m.latency_p50_s, m.latency_p99_s, m.latency_max_s] {
                prop_assert!(v.is_nan(), "{:?}", m);
            }
        }
    }

    /// In a world without faults, a client step nothing else can observe is taken early
    /// or folded into the next (short polling: the poll timer, the response's arrival).
    /// That must change nothing but the number of events — and, where events share a
    /// nanosecond, their order ([`shortcut_changes_nothing`]).
    #[test]
    fn steps_taken_early_change_nothing_but_the_event_count(sc in scenario()) {
        shortcut_changes_nothing(&sc)?;
    }

    /// No technique's keys are read outside it: giving every other technique other
    /// settings leaves a technique's run identical, bit for bit.
    #[test]
    fn other_techniques_settings_change_nothing(sc in scenario(), others in technique_settings()) {
        let mut changed = sc.clone();
        changed.short_polling = others.short_polling;
        changed.long_polling = others.long_polling;
        changed.sse = others.sse;
        changed.websocket = others.websocket;
        match sc.technique {
            Technique::ShortPolling => changed.short_polling = sc.short_polling.clone(),
            Technique::LongPolling => changed.long_polling = sc.long_polling.clone(),
            Technique::Sse => changed.sse = sc.sse.clone(),
            Technique::Websocket => changed.websocket = sc.websocket.clone(),
        }
        prop_assert_eq!(simulate(&changed), simulate(&sc));
    }

    /// The shortcut's promise, in worlds with more of the model switched on.
    #[test]
    fn steps_taken_early_change_nothing_in_wider_worlds(sc in wider()) {
        shortcut_changes_nothing(&sc)?;
    }

    /// … and in saturated ones: CPU queues, proxies cutting queued requests, refusals.
    #[test]
    fn steps_taken_early_change_nothing_under_overload(sc in overloaded()) {
        shortcut_changes_nothing(&sc)?;
    }

    #[test]
    fn every_pair_is_accounted_for_in_wider_worlds(sc in wider()) {
        let m = simulate(&sc).metrics;
        prop_assert_eq!(m.deliveries + m.lost + m.in_flight + m.stalled_pairs, m.published_pairs, "{:?}", m);
    }
}

/// `clients` short pollers (seed `seed`) polling every `interval_ms` over a constant
/// round trip of `rtt_ms`, updates at 0.5/s, keep-alive 1 s: 3 s of warm-up, 15 s measured.
fn short_pollers(seed: u64, clients: u32, rtt_ms: u64, interval_ms: u64) -> Scenario {
    let mut sc = tiny(Technique::ShortPolling, seed, clients, 15);
    sc.workload.rate = 0.5;
    sc.network.rtt = Rtt::Constant(rtt_ms * NS_PER_MS);
    sc.server.keepalive_timeout = NS_PER_S;
    sc.short_polling.interval = interval_ms * NS_PER_MS;
    sc
}

/// A tab's answer may hand its connection, idle again, to another tab of the same user
/// waiting for one (`[workload] tabs` beyond the browser's 6 connections per origin):
/// that is a step of another client, so the answer's arrival must not be taken early.
/// (A property run found this case: taken early, its requests/s and latencies moved.)
#[test]
fn a_tab_answer_that_hands_its_connection_over_is_not_taken_early() {
    let mut sc = short_pollers(3208926797733195731, 7, 48, 200);
    sc.workload.tabs = 7;
    sc.network.http = Http::V1_1;
    let (fast, every) = fast_and_every_step(&sc);
    assert!(
        fast.stalled_per_user > 0.0,
        "a tab must wait for a connection"
    );
    assert_eq!(fast, every);
}

/// An answer taken early leaves the server when its request arrives, but the memory its
/// request holds is given back at the departure's time (`src/world/releases.rs`).
/// Here that memory decides admissions: every poll opens a connection (keep-alive is
/// shorter than the interval) against a memory limit that the requests in service push
/// the instance over, and exponential CPU times send answers out of their requests'
/// order. The run is the event-by-event one, refusals and peaks included.
#[test]
fn answers_taken_early_keep_their_memory_until_they_leave() {
    let mut sc = short_pollers(11, 40, 30, 200);
    sc.network.rtt = lognormal(30 * NS_PER_MS, 0.5);
    sc.server.instances = 1;
    sc.server.cores = 2;
    sc.server.service = ServiceTime::Exponential;
    sc.server.request_cpu = 5 * NS_PER_MS;
    sc.server.keepalive_timeout = 150 * NS_PER_MS;
    let connection = sc.server.memory_per_connection;
    sc.server.memory_limit =
        sc.server.base_memory + 25 * connection + 2 * sc.server.memory_per_request;
    let Compared {
        fast,
        every,
        events,
        ..
    } = compare(&sc);
    assert!(fast.rejected_connections > 0.0, "{fast:?}");
    assert!(fast.requests_per_s > 50.0, "{fast:?}");
    assert_eq!(fast, every);
    assert!(events.0 < 0.8 * events.1);
}

/// A long poll's answer arrives on the client's clock when it leaves the server; the
/// next request then goes on the kept-alive connection. Here keep-alive is shorter than
/// the round trip, so that connection can never carry it: the client must open a new
/// one, which is not its business alone (the connection's slot and memory are the
/// instance's), and a timer due at the arrival does it then. Refusals come from a
/// connection limit that the reconnecting clients keep meeting. Fails if the arrival
/// taken early opens the connection itself, ahead of the queue's time.
#[test]
fn a_long_poll_answer_taken_early_leaves_its_reconnection_to_the_arrival() {
    let mut sc = tiny(Technique::LongPolling, 29, 30, 15);
    sc.workload.rate = 0.5;
    sc.network.rtt = lognormal(400 * NS_PER_MS, 0.3);
    sc.server.instances = 1;
    sc.server.keepalive_timeout = 200 * NS_PER_MS;
    sc.server.max_connections = 24;
    sc.long_polling.timeout = 2 * NS_PER_S;
    let m = same_in_fewer_events(&sc);
    assert!(m.handshakes_per_s > 5.0, "{m:?}");
    assert!(m.rejected_connections > 0.0, "{m:?}");
}

/// Pushed events reach the client on its clock when they leave the server — unless
/// something may overtake them. Here a core near saturation (exponential push CPU)
/// holds pushes in bursts for longer than the proxy's 300 ms timeout: such a push
/// travels as an event, and a push queued after it, leaving when the queue has
/// drained, must not be delivered before it (TCP delivers in order). Fails if it is
/// taken early (checked by mutation). The other guard, that no idle check can close
/// the socket before the arrival, is argued in `World::push_arrives`; this case does
/// not reach it.
#[test]
fn a_push_that_may_be_overtaken_is_not_delivered_early() {
    let mut sc = tiny(Technique::Websocket, 2, 30, 15);
    sc.workload.rate = 2.0;
    sc.workload.pattern = Pattern::PerClient;
    sc.network.rtt = lognormal(80 * NS_PER_MS, 0.5);
    sc.network.proxy_idle_timeout = Some(300 * NS_PER_MS);
    sc.server.instances = 1;
    sc.server.cores = 1;
    sc.server.service = ServiceTime::Exponential;
    sc.server.push_cpu = 25 * NS_PER_MS;
    sc.websocket.heartbeat = Some(500 * NS_PER_MS);
    sc.websocket.heartbeat_by = HeartbeatBy::ClientMessage;
    let m = same_in_fewer_events(&sc);
    assert!(m.deliveries > 100.0, "{m:?}");
}

/// The shortcut's one visible trace: a step taken early schedules what follows it
/// earlier than the event-by-event run would, and the queue runs simultaneous events in
/// the order they were scheduled. With constant round trips and a saturated single core,
/// requests of different clients reach the server on the same nanosecond (a busy
/// period's finishes are a lattice of the service time), and the two runs may serve
/// such a pair in the other order; so may the tabs of one user, which share its round
/// trip. Both orders are valid; here what is counted is identical, and waits and
/// latencies differ in their last digits only. In a world made of ties — every client
/// joining at one instant with one round trip, behind a connection limit — the order
/// decides who is refused first, and metrics can move by several per cent (a case of
/// 19 such clients: empty answers 6.7 % against 5.9 %, mean latency 2.68 s against
/// 2.55 s).
#[test]
fn with_simultaneous_events_only_their_order_differs() {
    let mut sc = short_pollers(4461182299287208879, 111, 40, 55);
    sc.workload.pattern = Pattern::PerClient;
    sc.server.cores = 1;
    sc.server.request_cpu = 500_000;
    let Compared {
        fast,
        every,
        simultaneous,
        ..
    } = compare(&sc);
    assert!(simultaneous > 0, "this case has ties");
    assert_ne!(fast.queue_wait_mean_s, every.queue_wait_mean_s);
    let mut same = fast.clone();
    // Latencies within 1 ms (of ~69 ms), the mean wait within 1 µs, mean memory within
    // 1 byte (of 268 MB).
    for (m, e, within) in [
        (&mut same.latency_mean_s, every.latency_mean_s, 1e-3),
        (&mut same.latency_p50_s, every.latency_p50_s, 1e-3),
        (&mut same.queue_wait_mean_s, every.queue_wait_mean_s, 1e-6),
        (
            &mut same.server_memory_mean_bytes,
            every.server_memory_mean_bytes,
            1.0,
        ),
        (
            &mut same.memory_per_user_bytes,
            every.memory_per_user_bytes,
            1.0,
        ),
    ] {
        assert!((*m - e).abs() < within, "{m} against {e}");
        *m = e;
    }
    assert_eq!(same, every);
    // Under continuous round trips no two events share an instant, and nothing differs.
    sc.network.rtt = Rtt::LogNormal {
        median: 40 * NS_PER_MS,
        sigma: 0.7,
        min: None,
        max: None,
    };
    let runs = compare(&sc);
    assert_eq!(runs.simultaneous, 0);
    assert_eq!(runs.fast, runs.every);
}

/// The property tests above compare results exactly only where the event-by-event run
/// has no simultaneous events: enough of the worlds each generator makes must be such,
/// or the comparison would test little. (Constant round trips, the tabs of one user,
/// joins at one instant make ties; log-normal round trips rarely do.)
#[test]
fn most_generated_worlds_have_no_simultaneous_events() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    fn share_without_ties(strategy: impl Strategy<Value = Scenario>) -> f64 {
        let mut runner = TestRunner::deterministic();
        let n = 200;
        let without = (0..n)
            .filter(|_| {
                let sc = strategy.new_tree(&mut runner).unwrap().current();
                compare(&sc).simultaneous == 0
            })
            .count();
        without as f64 / n as f64
    }
    // The same 200 worlds on every run (a fixed seed): 55 %, 37 % and 99 % of them
    // without a tie when this test was written.
    let shares = [
        share_without_ties(scenario()),
        share_without_ties(wider()),
        share_without_ties(overloaded()),
    ];
    assert!(shares[0] >= 0.5, "{shares:?}");
    assert!(shares[1] >= 0.3, "{shares:?}");
    assert!(shares[2] >= 0.95, "{shares:?}");
}
