//! rtsim measured, not assumed (issue #15): the simulator against real sockets.
//!
//! `validate_loopback_scenario` runs `live/experiments/loopback.toml` — 200 clients, RTT
//! 100 ms, 0.05 updates/s per client — for real (the reference server of `rtsim-live`
//! through its delaying relay on 127.0.0.1) and in simulation, and asserts every line of
//! the shipped tolerance table (`live/tolerances.toml`): short polling's rate, empty
//! share, latency mean and p99 and bytes each way within 3 %, long polling's rate within
//! 5 %, SSE and WebSocket latency within 5 ms and bytes per update within 3 %. It takes
//! the scenario's 180 s of wall-clock time (the four techniques run together) and is
//! bounded by a hard deadline. A run whose relay could not keep time (the machine busy
//! with other work: its p99 lateness above 2 ms) is measured once more before the verdict
//! stands. `with_tls_1_3_bytes_per_update_match_the_tls_record_model` runs SSE and WebSocket
//! in TLS 1.3 for 20 s (~25 s) and requires the bytes per update on the wire to equal the
//! record model's. The other tests check the refusals and the CLI's hand-off.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use rtsim_live::plan::{Limits, Plan, Refused};
use rtsim_live::validate;

fn loopback(set: &[&str]) -> rtsim::experiment::Experiment {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("live/experiments/loopback.toml");
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    rtsim::experiment::load(&file, &set).expect("the loopback scenario loads")
}

/// Runs `f` on a thread of its own and fails the test if it has not finished in `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no result within {limit:?}: the run hangs"))
}

/// The relay's timing error beyond which a run measured the machine's load, not the
/// techniques: every real latency carries it on top.
const BUSY_MACHINE_S: f64 = 0.002;

fn latest_lateness(rows: &[validate::Compared]) -> f64 {
    rows.iter()
        .map(|r| r.real.relay_late_p99_s)
        .fold(0.0, f64::max)
}

#[test]
fn validate_loopback_scenario() {
    let run = || {
        let exp = loopback(&[]);
        within(Duration::from_secs(300), move || {
            validate::run(&exp, &Limits::for_this_machine(), &|m| eprintln!("{m}"))
                .expect("the loopback scenario runs")
        })
    };
    let checks =
        validate::tolerances(validate::DEFAULT_TOLERANCES, "live/tolerances.toml").unwrap();
    let all_pass =
        |rows: &[validate::Compared]| validate::compare(rows, &checks).iter().all(|l| l.pass);
    let mut rows = run();
    if !all_pass(&rows) && latest_lateness(&rows) > BUSY_MACHINE_S {
        // Too busy to keep time: one more try, then the verdict stands (with the reason).
        eprintln!(
            "the relay ran {:.1} ms late (p99): the machine is busy; measuring once more",
            latest_lateness(&rows) * 1e3
        );
        rows = run();
    }
    for row in &rows {
        assert_eq!(
            row.real.errors,
            0,
            "{}: client errors, first: {:?}",
            row.technique.name(),
            row.real.first_error
        );
        assert!(
            row.real.deliveries > 100.0,
            "{}: too few deliveries to compare",
            row.technique.name()
        );
    }
    let lines = validate::compare(&rows, &checks);
    let table = validate::table(&lines);
    eprintln!("{table}");
    assert!(lines.len() >= 15, "every check of the table ran:\n{table}");
    let busy = latest_lateness(&rows);
    assert!(
        lines.iter().all(|l| l.pass),
        "outside tolerance (the relay kept time within {:.1} ms at p99{}):\n{table}",
        busy * 1e3,
        if busy > BUSY_MACHINE_S {
            ": the machine was too busy to measure, twice in a row"
        } else {
            ""
        }
    );
}

/// With TLS 1.3 (rustls, a certificate made at run time), SSE and WebSocket bytes per
/// update on the wire are the record model's (`rtsim::wire`: 22 B a record, one record a
/// write): the relay counts ciphertext, and it must equal the simulated figure to 0.1 %.
/// Heartbeats are pushed out of the 20 s window so that every byte counted belongs to an
/// update; ~25 s of wall-clock time.
#[test]
fn with_tls_1_3_bytes_per_update_match_the_tls_record_model() {
    let exp = loopback(&[
        "network.tls=\"1.3\"",
        "network.proxy_idle_timeout=\"off\"",
        "techniques=[\"sse\",\"websocket\"]",
        "sse.heartbeat=1h",
        "websocket.heartbeat=1h",
        "warmup=5s",
        "duration=20s",
    ]);
    let plain = loopback(&[
        "network.proxy_idle_timeout=\"off\"",
        "techniques=[\"sse\",\"websocket\"]",
        "sse.heartbeat=1h",
        "websocket.heartbeat=1h",
        "warmup=5s",
        "duration=20s",
    ]);
    let rows = within(Duration::from_secs(120), move || {
        validate::run(&exp, &Limits::for_this_machine(), &|m| eprintln!("{m}"))
            .expect("the TLS scenario runs")
    });
    let checks =
        validate::tolerances(validate::DEFAULT_TOLERANCES, "live/tolerances.toml").unwrap();
    let lines = validate::compare(&rows, &checks);
    let table = validate::table(&lines);
    eprintln!("{table}");
    // The same rows without TLS, simulated: what the records add on top.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let plain_sim = |technique| {
        let rows = plain.plan().rows;
        let row = rows.iter().find(|r| r.technique == technique).unwrap();
        let m = rtsim::sim::try_simulate(&row.scenario, &stop)
            .unwrap()
            .metrics;
        m.bytes_down_per_s * row.scenario.duration as f64 / 1e9 / m.deliveries
    };
    for row in &rows {
        let name = row.technique.name();
        assert_eq!(row.real.errors, 0, "{name}: {:?}", row.real.first_error);
        assert!(row.real.deliveries > 100.0, "{name}: too few deliveries");
        let line = lines
            .iter()
            .find(|l| l.technique == row.technique && l.metric == "bytes_down_per_delivery")
            .expect("a bytes-per-update line");
        assert!(
            (line.real / line.simulated - 1.0).abs() < 0.001,
            "{name}: {} B per update on the wire, the record model says {} B\n{table}",
            line.real,
            line.simulated
        );
        let without = plain_sim(row.technique);
        eprintln!(
            "{name}: {:.2} B per update in TLS 1.3 (model {:.2} B), {without:.2} B without TLS",
            line.real, line.simulated
        );
        assert!(
            line.real >= without + 22.0 * 0.9,
            "{name}: {} B per update in TLS, {without} B without: the records are missing",
            line.real
        );
    }
    assert!(lines.iter().all(|l| l.pass), "{table}");
}

/// HTTP/2 for real (issue #14): short polling and SSE over TLS 1.3 with ALPN h2, hyper's
/// h2 crate on both ends (`live/experiments/loopback-h2.toml`, `http2_stack = "hyper"`),
/// 5 s warm-up and 15 s measured (~20 s of wall-clock time). Bytes per poll up and down
/// and bytes per update must be the model's within the shipped tolerances (measured on
/// 2026-12-06: 212.3 B up per poll against 215.3 modelled, the live path being a little
/// shorter than the modelled one; 70.8 B down against 70.5; 189.0 B per update against
/// 189.0). The server answers an empty poll with no body, so `empty_body = 0`; heartbeats
/// are moved out of the window (see docs/calibration.md for what they do under h2).
#[test]
fn over_http2_bytes_per_poll_and_per_update_match_the_model() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("live/experiments/loopback-h2.toml");
    let set: Vec<String> = [
        "techniques=[\"short-polling\",\"sse\"]",
        "warmup=5s",
        "duration=15s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let exp = rtsim::experiment::load(&file, &set).expect("the HTTP/2 scenario loads");
    let rows = within(Duration::from_secs(90), move || {
        validate::run(&exp, &Limits::for_this_machine(), &|m| eprintln!("{m}"))
            .expect("the HTTP/2 scenario runs")
    });
    let checks =
        validate::tolerances(validate::DEFAULT_TOLERANCES, "live/tolerances.toml").unwrap();
    let lines = validate::compare(&rows, &checks);
    let table = validate::table(&lines);
    eprintln!("{table}");
    for row in &rows {
        let name = row.technique.name();
        assert_eq!(row.real.errors, 0, "{name}: {:?}", row.real.first_error);
        assert!(row.real.deliveries > 30.0, "{name}: too few deliveries");
    }
    let bytes: Vec<_> = lines
        .iter()
        .filter(|l| l.metric.starts_with("bytes_"))
        .collect();
    assert!(bytes.len() >= 5, "{table}");
    for l in &bytes {
        assert!(
            l.pass,
            "{} {} outside tolerance:\n{table}",
            l.technique.name(),
            l.metric
        );
    }
    // HPACK at work: a poll's head goes up in far fewer bytes than its 700 B of HTTP/1.1.
    let up = bytes
        .iter()
        .find(|l| l.metric == "bytes_up_per_request")
        .expect("bytes up per poll");
    assert!(up.real < 300.0, "{} B up per poll\n{table}", up.real);
}

#[test]
fn scales_and_settings_the_reference_server_cannot_honour_are_refused() {
    let limits = Limits::for_this_machine();
    let plan = |set: &[&str]| Plan::new(&loopback(set).plan().rows[0].scenario, &limits);
    assert!(plan(&[]).is_ok());
    let too_many = plan(&["workload.clients=100000"]).unwrap_err();
    assert!(
        matches!(
            too_many,
            Refused::TooLarge {
                what: "workload.clients",
                ..
            }
        ),
        "{too_many}"
    );
    assert!(
        too_many.to_string().contains("lower workload.clients"),
        "{too_many}"
    );
    let long = plan(&["duration=1h"]).unwrap_err();
    assert!(long.to_string().contains("warm-up + duration"), "{long}");
    // TLS is served (rustls, live/src/tls.rs): both versions the model counts.
    assert!(plan(&["network.tls=\"1.3\""]).is_ok());
    assert!(plan(&["network.tls=\"1.2\""]).is_ok());
    // HTTP/2 is served by hyper's h2: the model must encode as it does.
    let h2 = plan(&["network.http=2"]).unwrap_err();
    assert!(
        matches!(
            h2,
            Refused::Unsupported {
                key: "network.http2_stack",
                ..
            }
        ),
        "{h2}"
    );
    assert!(plan(&["network.http=2", "network.http2_stack=\"hyper\""]).is_ok());
    let rtt =
        plan(&["network.rtt={distribution=\"lognormal\",median=\"50ms\",sigma=0.5}"]).unwrap_err();
    assert!(
        matches!(
            rtt,
            Refused::Unsupported {
                key: "network.rtt",
                ..
            }
        ),
        "{rtt}"
    );
    let idle = plan(&["server.keepalive_timeout=1s"]).unwrap_err();
    assert!(
        idle.to_string().contains("server.keepalive_timeout"),
        "{idle}"
    );
    let tight = Limits {
        fd_limit: 100,
        ..limits
    };
    let fds = Plan::new(&loopback(&[]).plan().rows[0].scenario, &tight).unwrap_err();
    assert!(fds.to_string().contains("ulimit -n"), "{fds}");
}

/// Keys the reference server or its clients do not implement are refused by name, not
/// silently run as something else (a user with 7 tabs run as 7 users, a 204 as a 200).
#[test]
fn keys_the_reference_server_does_not_implement_are_refused_by_name() {
    let limits = Limits::for_this_machine();
    let refused_key = |technique: &str, set: &str| {
        let t = format!("techniques=[\"{technique}\"]");
        match Plan::new(&loopback(&[&t, set]).plan().rows[0].scenario, &limits) {
            Err(Refused::Unsupported { key, .. }) => key,
            other => panic!("{technique} {set}: {other:?}"),
        }
    };
    for (technique, set, key) in [
        ("sse", "workload.tabs=7", "workload.tabs"),
        (
            "short-polling",
            "workload.join=\"poisson\"",
            "workload.join",
        ),
        (
            "long-polling",
            "workload.session=\"5min\"",
            "workload.session",
        ),
        (
            "sse",
            "workload.max_connection_duration=\"10min\"",
            "workload.max_connection_duration",
        ),
        (
            "short-polling",
            "server.empty_answer=204",
            "server.empty_answer",
        ),
        (
            "long-polling",
            "server.empty_body=\"1B\"",
            "server.empty_body",
        ),
        ("sse", "sse.server_retry=\"5s\"", "sse.server_retry"),
        (
            "websocket",
            "websocket.heartbeat_by=\"client-message\"",
            "websocket.heartbeat_by",
        ),
    ] {
        assert_eq!(refused_key(technique, set), key, "{technique} {set}");
    }
    let e = Plan::new(
        &loopback(&["techniques=[\"sse\"]", "workload.tabs=7"])
            .plan()
            .rows[0]
            .scenario,
        &limits,
    )
    .unwrap_err();
    assert!(e.to_string().contains("workload.tabs = 7"), "{e}");
}

/// A poll with nothing new is answered with the model's own `empty_body` (`[]` by
/// default): the files set no other, and the server writes exactly that many bytes.
#[test]
fn the_reference_server_answers_nothing_new_with_the_models_empty_body() {
    let model = rtsim::scenario::Scenario::reference().server.empty_body;
    assert_eq!(model, 2, "the model's default is `[]`");
    for file in ["loopback.toml", "loopback-h2.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("live/experiments")
            .join(file);
        let exp = rtsim::experiment::load(&path, &[]).unwrap();
        let sc = &exp.plan().rows[0].scenario;
        assert_eq!(sc.server.empty_body, model, "{file}");
        let plan = Plan::new(sc, &Limits::for_this_machine()).unwrap();
        let body = rtsim_live::wire::empty_answer_body(plan.empty_body);
        assert_eq!(body, b"[]", "{file}");
    }
}

#[test]
fn heads_smaller_than_the_server_can_write_are_refused_with_the_minimum() {
    let exp = loopback(&[
        "network.response_header_bytes=20B",
        "duration=1s",
        "warmup=1s",
    ]);
    let err = within(Duration::from_secs(30), move || {
        let plan = Plan::new(&exp.plan().rows[0].scenario, &Limits::for_this_machine()).unwrap();
        rtsim_live::run::measure(plan).unwrap_err().to_string()
    });
    assert!(
        err.contains("network.response_header_bytes = 20 B"),
        "{err}"
    );
    assert!(err.contains("at least"), "{err}");
}

#[test]
fn a_tolerance_table_with_an_unknown_metric_or_two_tolerances_is_refused() {
    let unknown = "[[check]]\ntechnique = \"sse\"\nmetrics = [\"latency_mean\"]\nabsolute = 0.005\nwhy = \"\"\n";
    let err = validate::tolerances(unknown, "t.toml")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown metric \"latency_mean\""), "{err}");
    let both = "[[check]]\ntechnique = \"sse\"\nmetrics = [\"latency_mean_s\"]\nabsolute = 0.005\nrelative = 0.1\nwhy = \"\"\n";
    let err = validate::tolerances(both, "t.toml")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("exactly one of"), "{err}");
}

#[test]
fn rtsim_validate_says_how_to_build_the_live_tools_when_they_are_missing() {
    Command::cargo_bin("rtsim")
        .unwrap()
        .env("RTSIM_LIVE", "/nonexistent/rtsim-live")
        .args(["validate", "live/experiments/loopback.toml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "cargo build --release -p rtsim-live",
        ));
}
