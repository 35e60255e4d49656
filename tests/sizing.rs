//! `rtsim size`: the limiting resource is named right for cases limited by slots, CPU,
//! memory and latency; instances needed are monotone in clients; cost is instances ×
//! hours × price; the scaled representative instance agrees with a full simulation;
//! faults are refused; `rtsim size` writes the same `sizing.csv` for any `--jobs`. Scenarios
//! are small (this runs unoptimized under `cargo test`).

mod common;

use common::coarse_sizing_options as options;
use rtsim::experiment::{self, Target};
use rtsim::report::sizing::{sizing_csv, sizing_markdown};
use rtsim::scenario::{Concurrency, Pattern, Scenario, Technique, Tls};
use rtsim::sizing::{self, HOURS_PER_MONTH, Method, Options, Resource, Searcher, size_technique};

const S: u64 = 1_000_000_000;

fn target() -> Target {
    Target::only_utilization(0.7)
}

/// A cheap base: short run, no TLS, constant RTT.
fn base(technique: Technique, clients: u32) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = technique;
    sc.workload.clients = clients;
    sc.network.tls = Tls::None;
    sc.duration = 4 * S;
    sc.warmup = 2 * S;
    sc.short_polling.interval = S;
    sc.workload.start_window = sc.short_polling.interval; // phases spread over one interval
    sc
}

#[test]
fn a_million_sse_clients_on_100k_slots_need_ten_instances() {
    let mut sc = base(Technique::Sse, 1_000_000);
    sc.server.max_connections = 100_000;
    sc.workload.rate = 0.001;
    sc.sse.heartbeat = None;
    sc.duration = S;
    sc.warmup = S;
    let r = size_technique(&sc, &target(), &options()).unwrap();
    assert_eq!(r.limiting_resource, Resource::Slots, "{r:?}");
    assert!(r.instances_needed.unwrap() >= 10, "{r:?}");
    assert!(r.instances_needed.unwrap() <= 11, "{r:?}");
    assert!(r.max_clients_per_instance <= 100_000);
    assert!(r.max_clients_per_instance >= 95_000, "{r:?}");
    assert_eq!(r.method, Method::ScaledRepresentative);
    // One open stream per client, wherever it is.
    assert!((r.connections_per_instance * r.instances_needed.unwrap() as f64) >= 1e6 * 0.999);
}

/// Short polling every second with 5 ms of CPU per request on 2 cores: about 280
/// clients per instance at 70 %.
fn cpu_bound(clients: u32) -> Scenario {
    let mut sc = base(Technique::ShortPolling, clients);
    sc.server.cores = 2;
    sc.server.request_cpu = 5_000_000;
    sc
}

#[test]
fn heavy_requests_make_short_polling_cpu_bound() {
    let mut t = target();
    t.instance_hour_cost = Some(0.34);
    let r = size_technique(&cpu_bound(2000), &t, &options()).unwrap();
    assert_eq!(r.limiting_resource, Resource::Cpu, "{r:?}");
    let k = r.instances_needed.unwrap();
    assert!((6..=9).contains(&k), "{r:?}");
    assert!(r.cpu_utilization <= 0.7, "{r:?}");
    // Cost is instances × 730 h × price.
    let cost = r.monthly_cost.unwrap();
    assert!(
        (cost - k as f64 * HOURS_PER_MONTH * 0.34).abs() < 1e-9,
        "{cost}"
    );
}

#[test]
fn instances_needed_is_monotone_in_clients() {
    let mut last = 0;
    for n in [100, 400, 1000, 2500] {
        let r = size_technique(&cpu_bound(n), &target(), &options()).unwrap();
        let k = r.instances_needed.unwrap();
        assert!(k >= last, "{n} clients: {k} < {last}");
        last = k;
    }
    assert!(last > 1);
}

#[test]
fn thread_stacks_make_thread_per_connection_memory_bound() {
    let mut sc = base(Technique::Websocket, 500);
    sc.server.concurrency = Concurrency::ThreadPerConnection;
    sc.server.thread_stack = 32 << 20;
    sc.server.memory_limit = 2 << 30;
    sc.server.max_connections = 10_000;
    let r = size_technique(&sc, &target(), &options()).unwrap();
    assert_eq!(r.limiting_resource, Resource::Memory, "{r:?}");
    // (2 GiB − 256 MiB) / ~32 MiB ≈ 55 clients per instance ⇒ 10 instances.
    assert!((50..=56).contains(&r.max_clients_per_instance), "{r:?}");
    assert!((9..=11).contains(&r.instances_needed.unwrap()), "{r:?}");
}

#[test]
fn a_latency_target_short_polling_cannot_meet_is_reported() {
    let mut sc = base(Technique::ShortPolling, 1000);
    sc.short_polling.interval = 3 * S;
    let mut t = target();
    t.latency_p99 = Some(S);
    let r = size_technique(&sc, &t, &options()).unwrap();
    assert_eq!(r.limiting_resource, Resource::Latency);
    assert_eq!(r.instances_needed, None);
    assert!(r.latency_p99_s > 1.0, "{r:?}");
    assert!(!r.notes.is_empty());
}

/// Per-instance measurements of the representative (2 instances × 2,000 clients,
/// scaled) agree with a full simulation of 4 instances × 2,000 clients: per-instance
/// figures within 3 %, scaled totals within 3 %, p99 within 10 % (a tail statistic of a
/// different random sample).
#[test]
fn the_scaled_representative_matches_a_full_simulation() {
    for (technique, pattern) in [
        (Technique::LongPolling, Pattern::PerClient),
        (Technique::Websocket, Pattern::Chat),
        (Technique::Sse, Pattern::Broadcast),
    ] {
        let mut sc = base(technique, 8000);
        sc.workload.pattern = pattern;
        sc.workload.rate = match pattern {
            Pattern::Broadcast => 2.0,
            _ => 0.2,
        };
        sc.duration = 10 * S;
        sc.warmup = 5 * S;
        let opts = options();
        let t = target();
        let mut s = Searcher::new(&sc, &t, &opts);
        let full = s.measure(8000, 4).unwrap();
        let (rep, method) = s.deployment(8000, 4).unwrap();
        assert_eq!(method, Method::ScaledRepresentative);
        assert_eq!(rep.instances, 2);
        assert_eq!(rep.clients_per_instance, 2000);
        let close = |what: &str, a: f64, b: f64, tol: f64| {
            let rel = (a - b).abs() / b.abs().max(1e-12);
            assert!(
                rel <= tol,
                "{technique} {what}: representative {a} vs full {b}"
            );
        };
        close(
            "connections/instance",
            rep.connections_peak,
            full.connections_peak,
            0.03,
        );
        close(
            "memory/instance",
            rep.memory_peak_bytes,
            full.memory_peak_bytes,
            0.03,
        );
        close("cpu", rep.cpu_utilization, full.cpu_utilization, 0.03);
        let scale = 4.0 / 2.0;
        close(
            "requests/s",
            rep.totals.requests_per_s * scale,
            full.totals.requests_per_s,
            0.03,
        );
        close(
            "bytes down/s",
            rep.totals.bytes_down_per_s * scale,
            full.totals.bytes_down_per_s,
            0.03,
        );
        close("p99", rep.latency_p99_s, full.latency_p99_s, 0.10);
    }
}

#[test]
fn faults_are_refused_with_a_reason() {
    let text = r#"
name = "crashy"
duration = "5s"
warmup = "2s"
techniques = ["sse"]
[workload]
clients = 100
[[faults]]
at = "3s"
instance = 0
downtime = "1s"
[target]
utilization = 0.7
"#;
    let exp = experiment::load_str("crashy.toml", text, &[]).unwrap();
    let err = sizing::size(&exp, &options(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("[[faults]]"), "{err}");
}

/// The chat example end to end at a small size: every technique is sized, the CSV has
/// one line each and the table names what runs out first.
#[test]
fn the_chat_example_sizes_every_technique() {
    let exp = experiment::load(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/experiments/09-sizing-chat.toml"
        )),
        &[
            "workload.clients=3000".into(),
            "duration=\"4s\"".into(),
            "warmup=\"2s\"".into(),
            "server.cores=1".into(),
            "server.max_connections=1500".into(),
        ],
    )
    .unwrap();
    assert_eq!(exp.target.latency_p99, Some(S / 2));
    let rows = sizing::size(&exp, &options(), &|_| {}).unwrap();
    assert_eq!(rows.len(), 4);
    let csv = String::from_utf8(sizing_csv(&rows)).unwrap();
    assert_eq!(csv.lines().count(), 5);
    let table = sizing_markdown(&rows, &exp.target);
    assert!(table.contains("runs out first"), "{table}");
    for r in &rows {
        if let Some(k) = r.instances_needed {
            let cost = r.monthly_cost.unwrap();
            let compute = k as f64 * HOURS_PER_MONTH * 0.34;
            assert!((cost - compute - r.egress_gb_per_month * 0.09).abs() < 1e-6);
        }
    }
}

/// A small deployment for the command line: two techniques, a few hundred clients.
const SMALL_SIZING: &str = r#"
name = "small-sizing"
duration = "4s"
warmup = "2s"
techniques = ["long-polling", "websocket"]
[workload]
clients = 400
rate = 0.2
[network]
tls = "none"
[target]
latency_p99 = "1s"
utilization = 0.7
instance_hour_cost = 0.34
"#;

fn rtsim_size(
    file: &std::path::Path,
    out: &std::path::Path,
    jobs: &str,
) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("rtsim")
        .unwrap()
        .args([
            "size",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ])
        .assert()
}

#[test]
fn the_command_prints_the_table_and_writes_the_same_csv_for_any_jobs() {
    use predicates::prelude::*;
    let tmp = tempfile::TempDir::new().unwrap();
    let file = tmp.path().join("small.toml");
    std::fs::write(&file, SMALL_SIZING).unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    rtsim_size(&file, &one, "1")
        .success()
        .stdout(predicate::str::starts_with(
            "Sizing for 400 clients: p99 ≤ 1 s, CPU ≤ 70%",
        ))
        .stdout(predicate::str::contains("- WebSockets: "))
        .stderr(predicate::str::contains(
            "  long-polling          400 clients on 1 instance(s), warm-up",
        ))
        .stderr(predicate::str::contains("sized 2 techniques in"))
        // The overall line of each round, with the ETA; no bar drawn off a terminal.
        .stderr(predicate::str::contains("round 2: "))
        .stderr(predicate::str::contains(" events done in "))
        .stderr(predicate::str::contains(", ETA ~"))
        .stderr(predicate::str::contains("sizing [").not());
    rtsim_size(&file, &two, "2").success();
    let csv = std::fs::read(one.join("sizing.csv")).unwrap();
    assert_eq!(csv, std::fs::read(two.join("sizing.csv")).unwrap());
    for f in ["sizing.json", "sizing.md", "charts/sizing-instances.svg"] {
        let a = std::fs::read(one.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(a, std::fs::read(two.join(f)).unwrap(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("sizing.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 3);
}

/// The overall progress: every round states the whole sizing's planned events (runs
/// done, its own, and what the searches will most likely ask for later), which never
/// fall below what is done; the runs reported are the rounds' runs, each with its cost.
/// With the speculative deployment run on a second worker the forecast is exact here:
/// the last round's plan is what was run in all.
#[test]
fn progress_plans_events_across_every_round_and_reports_each_run() {
    use std::sync::Mutex;
    let exp = experiment::load_str("small.toml", SMALL_SIZING, &[]).unwrap();
    let heard = Mutex::new(Vec::new());
    let opts = Options {
        jobs: 2,
        ..options()
    };
    sizing::size(&exp, &opts, &|p| heard.lock().unwrap().push(*p)).unwrap();
    let heard = heard.into_inner().unwrap();
    let (mut done, mut round_runs, mut ran, mut last_plan) = (0.0, 0, 0, 0.0);
    let mut rounds = 0;
    for p in &heard {
        match p {
            sizing::Progress::Round {
                round,
                runs,
                events,
                planned_events,
            } => {
                rounds += 1;
                assert_eq!(*round, rounds);
                assert!(
                    *planned_events >= done + events - 1e-6,
                    "round {round}: {planned_events} < {done} + {events}"
                );
                assert!(*planned_events >= last_plan - 1e-6, "the plan only grows");
                last_plan = *planned_events;
                round_runs += runs;
            }
            sizing::Progress::Ran(run) => {
                ran += 1;
                done += run.estimated_events;
                assert!(run.cost.events > 0);
                assert!(
                    run.cost.cpu.is_none_or(|c| c <= run.cost.wall * 2),
                    "{:?}",
                    run.cost
                );
            }
        }
    }
    assert!(rounds >= 2, "pilots, then the searches' runs: {rounds}");
    assert_eq!(ran, round_runs);
    assert!(
        (last_plan - done).abs() <= 1e-6 * done,
        "the last round's plan {last_plan} is what ran: {done}"
    );
}

#[test]
fn the_command_is_silent_on_stderr_under_quiet() {
    let tmp = tempfile::TempDir::new().unwrap();
    let file = tmp.path().join("small.toml");
    std::fs::write(&file, SMALL_SIZING).unwrap();
    let out = tmp.path().join("out");
    let assert = assert_cmd::Command::cargo_bin("rtsim")
        .unwrap()
        .args([
            "size",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let output = assert.get_output();
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(out.join("sizing.csv").exists());
}

#[test]
fn the_command_refuses_faults_with_exit_code_2_and_writes_nothing() {
    use predicates::prelude::*;
    let tmp = tempfile::TempDir::new().unwrap();
    let file = tmp.path().join("crashy.toml");
    let crashy = SMALL_SIZING.replace(
        "[target]",
        "[[faults]]\nat = \"3s\"\ninstance = 0\ndowntime = \"1s\"\n[target]",
    );
    std::fs::write(&file, crashy).unwrap();
    let out = tmp.path().join("out");
    rtsim_size(&file, &out, "1")
        .code(2)
        .stderr(predicate::str::contains(
            "error: `rtsim size` sizes the steady state",
        ))
        .stderr(predicate::str::contains("has 1 scheduled [[faults]]"));
    assert!(!out.join("sizing.csv").exists());
}

/// A WebSocket deployment whose steady state fits one instance, sized N+1 (two
/// instances): when one crashes, its 1,500 clients reconnect onto the survivor. With
/// backoff jitter 0 they all come back in the same instant, 1,500 TLS handshakes queue
/// on 2 cores (~0.8 s of work) and p99 through the storm breaks the 1.3 s target, so
/// the plan adds an instance; with full jitter they spread over the first second and
/// two instances survive. The storm's peak is reported either way.
const FAILOVER: &str = r#"
name = "failover"
duration = "10s"
warmup = "3s"
techniques = ["websocket"]
[workload]
clients = 3000
rate = 0.5
[network]
tls = "1.3"
rtt = "50ms"
[server]
cores = 2
tls_handshake_cpu = "1ms"
[websocket]
heartbeat = "25s"
backoff = { initial = "1s", max = "30s", jitter = 0.0 }
resume = true
[target]
latency_p99 = "1.3s"
utilization = 0.7
redundancy = "n+1"
"#;

fn failover_row(jitter: &str) -> sizing::Sizing {
    let text = FAILOVER.replace("jitter = 0.0", &format!("jitter = {jitter}"));
    let exp = experiment::load_str("failover.toml", &text, &[]).unwrap();
    let mut rows = sizing::size(&exp, &options(), &|_| {}).unwrap();
    rows.pop().unwrap()
}

#[test]
fn n_plus_1_without_jitter_fails_the_storm_and_with_jitter_survives() {
    use rtsim::sizing::FailoverCheck;
    let herd = failover_row("0.0");
    assert_eq!(herd.instances_needed, Some(1), "{herd:?}");
    let Some(FailoverCheck::Checked { plan, storm, tried }) = &herd.failover else {
        panic!("checked: {:?}", herd.failover)
    };
    assert_eq!((plan.instances, plan.lost), (2, 1));
    // Two instances broke the latency target through the storm ...
    let first = &tried[0];
    assert_eq!(first.failure.instances, 2);
    assert_eq!(first.failed_on, Some(Resource::Latency), "{first:?}");
    assert!(first.latency_p99_s > 1.3, "{first:?}");
    // ... all 1,500 refugees in one bucket of 250 ms: ≥ 1,500 × 4 handshakes/s.
    assert!(first.handshakes_per_s_peak >= 5_000.0, "{first:?}");
    assert!(first.cpu_peak > 0.9, "{first:?}");
    // ... so the plan adds instances until the survivors hold it.
    assert!(storm.survived() && storm.failure.instances > 2, "{storm:?}");

    let spread = failover_row("1.0");
    let Some(FailoverCheck::Checked { storm, tried, .. }) = &spread.failover else {
        panic!("checked: {:?}", spread.failover)
    };
    assert!(tried.is_empty(), "{tried:?}");
    assert_eq!(storm.failure.instances, 2);
    assert!(storm.survived(), "{storm:?}");
    assert!(storm.latency_p99_s < 1.3, "{storm:?}");
    // Spread over a second: a fraction of the herd's peak.
    assert!(storm.handshakes_per_s_peak < first.handshakes_per_s_peak / 2.0);
    // The verdict and the peak are columns.
    let csv = String::from_utf8(sizing_csv(&[herd, spread])).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows[0][col("redundancy")], "n+1");
    assert_eq!(rows[0][col("failover_verdict")], "survives");
    assert_eq!(rows[1][col("instances_planned")], "2");
    assert!(!rows[1][col("storm_handshakes_per_s_peak")].is_empty());
}

/// The managed bill is the price table's arithmetic on the simulated counts: the
/// WebSocket row's messages are its deliveries plus the chat messages its clients send
/// (32 KB units), its connection-minutes the mean open connections, priced at $1.00
/// and $0.25 per million; SSE is not spoken by API Gateway WebSocket.
#[test]
fn managed_cost_is_the_price_tables_arithmetic_on_the_simulated_counts() {
    let text = r#"
name = "managed"
duration = "4s"
warmup = "2s"
techniques = ["sse", "websocket"]
[workload]
clients = 300
pattern = "chat"
room_size = 10
rate = 0.2
payload = "100B"
[network]
tls = "none"
[target]
utilization = 0.7
instance_hour_cost = 0.34
bandwidth_cost_per_gb = 0.09
managed = "aws-apigw-websocket"
"#;
    let exp = experiment::load_str("managed.toml", text, &[]).unwrap();
    let rows = sizing::size(&exp, &options(), &|_| {}).unwrap();
    assert!(rows[0].managed.is_none(), "SSE: {:?}", rows[0].managed);
    let ws = &rows[1];
    let m = ws.managed.as_ref().expect("WebSockets are priced");
    // The deployment run's own counts (one instance holds 300).
    let mut sc = exp.base.clone();
    sc.technique = rtsim::scenario::Technique::Websocket;
    let searcher = Searcher::new(&sc, &exp.target, &options());
    let run = searcher.scenario(300, 1).unwrap();
    let out = rtsim::runner::run_scenarios(std::slice::from_ref(&run), 1, &|_, _| {})
        .unwrap()
        .pop()
        .unwrap();
    let month = HOURS_PER_MONTH * 3600.0;
    let deliveries_per_s = out.metrics.deliveries / (run.duration as f64 / S as f64);
    let messages = (deliveries_per_s + 300.0 * 0.2) * month;
    assert!(
        (m.messages_per_month - messages).abs() < 1e-6 * messages,
        "{m:?}"
    );
    // The first billion messages a month at $1.00 per million, the rest at $0.80.
    let tiered = messages.min(1e9) / 1e6 * 1.00 + (messages - 1e9).max(0.0) / 1e6 * 0.80;
    assert!((m.messages_cost - tiered).abs() < 1e-9 * messages);
    let minutes = out.metrics.connections_mean * HOURS_PER_MONTH * 60.0;
    assert!((m.connection_minutes_per_month - minutes).abs() < 1e-6 * minutes);
    assert!((m.connections_cost - minutes / 1e6 * 0.25).abs() < 1e-9 * minutes);
    assert!((m.egress_cost - ws.egress_gb_per_month * 0.09).abs() < 1e-9);
    // The self-hosted split adds up.
    let total = ws.instance_cost.unwrap() + ws.egress_cost.unwrap();
    assert!((ws.monthly_cost.unwrap() - total).abs() < 1e-9);
    assert!((ws.instance_cost.unwrap() - HOURS_PER_MONTH * 0.34).abs() < 1e-9);
}

/// A deployment-wide cap on new connections: the steady WebSocket state opens almost
/// none, but the failover storm's peak exceeds 1,000/s, and the answer says so (more
/// instances cannot lift an account's cap).
#[test]
fn a_storm_above_the_new_connection_cap_is_named() {
    let text = FAILOVER.replace(
        "redundancy = \"n+1\"",
        "redundancy = \"n+1\"\nmax_new_connections_per_s = 1000",
    );
    let exp = experiment::load_str("failover.toml", &text, &[]).unwrap();
    let r = sizing::size(&exp, &options(), &|_| {})
        .unwrap()
        .pop()
        .unwrap();
    assert!(r.new_connections_cap_use < 0.1, "{r:?}");
    assert!(
        r.notes.iter().any(|n| matches!(
            n,
            sizing::Note::OverConnectionCap { storm: true, cap, .. } if *cap == 1000.0
        )),
        "{:?}",
        r.notes
    );
    let md = sizing_markdown(&[r], &exp.target);
    assert!(md.contains("the failover storm peaks at"), "{md}");
}

fn deploy_row(target_extra: &str) -> sizing::Sizing {
    let text = FAILOVER
        .replace("jitter = 0.0", "jitter = 1.0")
        .replace("redundancy = \"n+1\"", target_extra);
    let exp = experiment::load_str("deploy.toml", &text, &[]).unwrap();
    let mut rows = sizing::size(&exp, &options(), &|_| {}).unwrap();
    rows.pop().unwrap()
}

/// The deploy check (issue #17 item 3) on the N+1 plan of the failover example (two
/// instances of 1,500 clients): with no drain period, an instance's 1,500 clients are
/// cut at once and come back within the backoff's first second — a storm of thousands
/// of handshakes/s; with a 20 s drain and jittered closes they leave at ~75/s and the
/// other instance holds the target. One instance alone: a deploy is downtime, and the
/// check fails.
#[test]
fn a_rolling_deploy_storms_without_a_drain_and_survives_a_jittered_one() {
    use rtsim::sizing::DeployCheck;
    let cut = deploy_row("redundancy = \"n+1\"\ndeploy_drain = \"0s\"");
    let Some(DeployCheck::Checked {
        storm: cut_storm, ..
    }) = &cut.deploy
    else {
        panic!("checked: {:?}", cut.deploy)
    };
    assert_eq!(cut_storm.failure.instances, 2);
    assert!(cut_storm.handshakes_per_s_peak >= 1_000.0, "{cut_storm:?}");
    let drained = deploy_row("redundancy = \"n+1\"\ndeploy_drain = \"20s\"\ndeploy_jitter = true");
    let Some(DeployCheck::Checked { storm, .. }) = &drained.deploy else {
        panic!("checked: {:?}", drained.deploy)
    };
    assert!(storm.survived(), "{storm:?}");
    // 1,500 closes over 20 s: ~75/s, ~19 per 250 ms bucket; the peak bucket stays far
    // below the cut's.
    assert!(storm.handshakes_per_s_peak < 400.0, "{storm:?}");
    assert!(storm.handshakes_per_s_peak < cut_storm.handshakes_per_s_peak / 4.0);
    let csv = String::from_utf8(sizing_csv(&[cut, drained])).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows[1][col("deploy_drain_s")], "20");
    assert_eq!(rows[1][col("deploy_jitter")], "true");
    assert_eq!(rows[1][col("deploy_verdict")], "survives");
    assert!(!rows[0][col("deploy_handshakes_per_s_peak")].is_empty());

    // One instance: downtime.
    let alone = deploy_row("deploy_drain = \"5s\"\ndeploy_jitter = true");
    let Some(DeployCheck::Checked { storm, .. }) = &alone.deploy else {
        panic!("checked: {:?}", alone.deploy)
    };
    assert_eq!(storm.failure.instances, 1);
    assert!(!storm.survived(), "{storm:?}");
}
