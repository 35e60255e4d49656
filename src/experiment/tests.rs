//! Tests of the public experiment API: defaults, presets, errors (with line, column,
//! expected and found), sweeps, `--set`, the resolved copy, and a no-panic property test.

use super::*;
use crate::scenario::{Concurrency, Pattern, Retention, Rtt, Tls};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// The example experiment of the README (every section, most keys).
const README_EXAMPLE: &str = r#"
name = "polling-waste"                 # also the default output folder name
description = "Why short polling is wasteful"
seed = 1
duration = "120s"                      # measured simulated time
warmup = "10s"                         # simulated before measuring
replications = 5
techniques = ["short-polling", "long-polling", "sse", "websocket"]   # default: all four

[workload]
clients = 100_000
pattern = "per-client"                 # broadcast | per-client | chat
rate = 0.01
arrivals = "poisson"
payload = "200B"

[network]
rtt = { distribution = "lognormal", median = "80ms", sigma = 0.5 }   # or rtt = "80ms"
tls = "1.3"
request_header_bytes = "500B"
response_header_bytes = "300B"

[server]
preset = "event-loop"                  # a file under models/servers/, then overridden below
instances = 1
cores = 8

[short-polling]
interval = "3s"

[long-polling]
timeout = "30s"

[sse]
heartbeat = "15s"

[websocket]
heartbeat = "25s"

[sweep]                                # cartesian product; a technique's own keys only
"workload.clients" = [1_000, 10_000, 100_000, 1_000_000]      # multiply that technique's runs
"short-polling.interval" = ["1s", "3s", "10s", "30s"]
"#;

fn ok(text: &str) -> Experiment {
    load_str("exp.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ExperimentError {
    match load_str("exp.toml", text, &[]) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the error's position and that its rendering says where, expected and found.
fn check(e: &ExperimentError, line: usize, column: usize, expected: &str, found: &str) {
    let shown = e.to_string();
    assert_eq!((e.line(), e.column()), (line, column), "{shown}");
    assert!(
        e.expected().contains(expected),
        "expected {expected:?} in:\n{shown}"
    );
    assert!(e.found().contains(found), "found {found:?} in:\n{shown}");
    assert!(
        shown.contains(&format!("{}:{line}:{column}", e.file())),
        "{shown}"
    );
    assert!(
        shown.contains("expected ") && shown.contains(", found "),
        "{shown}"
    );
}

#[test]
fn empty_file_gets_every_default() {
    let e = ok("");
    assert_eq!(e.name, "exp");
    assert_eq!(e.seed, 1);
    assert_eq!(e.replications, 1);
    assert_eq!(e.techniques, Technique::ALL.to_vec());
    let s = &e.base;
    assert_eq!(s.technique, Technique::ShortPolling);
    assert_eq!(
        (s.duration, s.warmup, s.timeseries_bucket),
        (60 * S, 10 * S, S)
    );
    assert_eq!(s.workload.clients, 1000);
    assert_eq!(s.workload.pattern, Pattern::PerClient);
    assert_eq!(s.workload.rate, 0.1);
    assert_eq!(s.workload.payload, 200);
    assert_eq!(s.workload.room_size, 10);
    assert_eq!(s.network.rtt, Rtt::Constant(50 * MS));
    assert_eq!(s.network.tls, Tls::V1_3);
    assert_eq!(s.network.request_header_bytes, 700);
    assert_eq!(s.network.response_header_bytes, 171);
    assert_eq!(s.network.tls_handshake_bytes, 4096);
    assert_eq!(s.network.tcp_handshake_bytes, 172);
    assert_eq!(s.network.ws_handshake_request_bytes, 230);
    assert_eq!(s.network.ws_handshake_response_bytes, 159);
    assert_eq!(s.network.proxy_idle_timeout, Some(60 * S));
    assert_eq!(s.network.disconnect_every, None);
    assert_eq!(s.network.outage, 2 * S);
    // event-loop preset values
    assert_eq!(s.server.cores, 8);
    assert_eq!(s.server.concurrency, Concurrency::EventLoop);
    assert_eq!(s.server.tls_handshake_cpu, MS);
    assert_eq!(s.server.memory_per_connection, 3250);
    assert_eq!(s.server.memory_limit, 16 << 30);
    assert_eq!(s.server.max_connections, 1_000_000);
    assert_eq!(s.server.keepalive_timeout, 75 * S);
    assert_eq!(s.server.retention, Retention::Duration(300 * S));
    assert_eq!(s.server.backplane_latency, MS);
    assert_eq!(s.short_polling.interval, 3 * S);
    assert_eq!(s.long_polling.timeout, 30 * S);
    assert_eq!(s.sse.heartbeat, Some(15 * S));
    assert_eq!(s.sse.retry, None);
    assert_eq!(crate::techniques::Sse::first_retry(s), 3 * S);
    assert_eq!(s.websocket.heartbeat, Some(25 * S));
    assert_eq!(s.websocket.heartbeat_timeout, 20 * S);
    assert_eq!(s.websocket.backoff.initial, S);
    assert_eq!(s.websocket.backoff.max, 30 * S);
    assert_eq!(s.websocket.backoff.jitter, 0.5);
    assert!(!s.websocket.resume);
    assert_eq!(s.target_utilization, 0.7);
    assert_eq!(e.target.utilization, 0.7);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    assert_eq!(e.plan().rows.len(), 4);
}

#[test]
fn design_example_loads_and_plans() {
    let e = ok(README_EXAMPLE);
    assert_eq!(e.name, "polling-waste");
    assert_eq!(e.replications, 5);
    assert_eq!(e.base.network.request_header_bytes, 500);
    let plan = e.plan();
    assert_eq!(
        plan.sweep_keys,
        ["workload.clients", "short-polling.interval"]
    );
    // short polling 4 × 4, the others 4 each
    assert_eq!(plan.rows.len(), 16 + 4 + 4 + 4);
    assert_eq!(plan.replications, 5);
}

#[test]
fn sweep_order_and_technique_own_keys() {
    let e = ok(r#"
techniques = ["long-polling", "short-polling"]
[sweep]
"short-polling.interval" = ["1s", "3s"]
"workload.clients" = [10, 20]
"long-polling.timeout" = ["5s", "20s", "40s"]
"workload.rate" = [0.5, 2]
"#);
    let plan = e.plan();
    let show: Vec<String> = plan
        .rows
        .iter()
        .map(|r| {
            let vals: Vec<&str> = r.sweep.iter().map(|(_, v)| v.as_str()).collect();
            format!("{} {}", r.technique, vals.join(","))
        })
        .collect();
    let expected = [
        "long-polling ,10,5s,0.5",
        "long-polling ,10,20s,0.5",
        "long-polling ,10,40s,0.5",
        "long-polling ,10,5s,2",
        "long-polling ,10,20s,2",
        "long-polling ,10,40s,2",
        "long-polling ,20,5s,0.5",
        "long-polling ,20,20s,0.5",
        "long-polling ,20,40s,0.5",
        "long-polling ,20,5s,2",
        "long-polling ,20,20s,2",
        "long-polling ,20,40s,2",
        "short-polling 1s,10,,0.5",
        "short-polling 3s,10,,0.5",
        "short-polling 1s,10,,2",
        "short-polling 3s,10,,2",
        "short-polling 1s,20,,0.5",
        "short-polling 3s,20,,0.5",
        "short-polling 1s,20,,2",
        "short-polling 3s,20,,2",
    ];
    assert_eq!(show, expected);
    assert_eq!(
        plan.sweep_keys,
        [
            "short-polling.interval",
            "workload.clients",
            "long-polling.timeout",
            "workload.rate"
        ]
    );
    let r = &plan.rows[4];
    assert_eq!(r.scenario.long_polling.timeout, 20 * S);
    assert_eq!(r.scenario.workload.clients, 10);
    assert_eq!(r.scenario.workload.rate, 2.0);
    assert_eq!(plan.rows[13].scenario.short_polling.interval, 3 * S);
}

#[test]
fn random_point_is_shared_across_techniques() {
    let plan = ok(README_EXAMPLE).plan();
    let point = |t: Technique, clients: u32| -> Vec<u64> {
        plan.rows
            .iter()
            .filter(|r| r.technique == t && r.scenario.workload.clients == clients)
            .map(|r| r.scenario.random_point)
            .collect()
    };
    for clients in [1_000, 10_000, 100_000, 1_000_000] {
        let sse = point(Technique::Sse, clients);
        assert_eq!(sse.len(), 1);
        for t in Technique::ALL {
            for p in point(t, clients) {
                assert_eq!(p, sse[0], "{t} at {clients}");
            }
        }
    }
    assert_ne!(point(Technique::Sse, 1_000), point(Technique::Sse, 10_000));
    let ids: std::collections::BTreeSet<u64> = plan.rows.iter().map(|r| r.row_id).collect();
    assert_eq!(ids.len(), plan.rows.len(), "row ids are unique");
}

#[test]
fn row_ids_survive_adding_sweep_values() {
    let before =
        ok("[sweep]\n\"workload.clients\" = [10, 100]\n\"short-polling.interval\" = [\"1s\"]\n")
            .plan();
    let after =
        ok("[sweep]\n\"workload.clients\" = [5, 10, 100]\n\"short-polling.interval\" = [\"1s\", \"2s\"]\n")
            .plan();
    for row in &before.rows {
        let same = after
            .rows
            .iter()
            .find(|r| r.row_id == row.row_id)
            .unwrap_or_else(|| panic!("row {:?} lost its id", row.sweep));
        assert_eq!(same.sweep, row.sweep);
        assert_eq!(same.scenario, row.scenario);
    }
}

#[test]
fn base_scenario_is_unswept_first_technique() {
    let e = ok(
        "techniques = [\"sse\", \"websocket\"]\n[workload]\nclients = 7\n[sweep]\n\"workload.clients\" = [1, 2]\n",
    );
    assert_eq!(e.base.technique, Technique::Sse);
    assert_eq!(e.base.workload.clients, 7);
    assert_eq!(e.base.random_point, 0);
    assert_eq!(
        e.sweep[0].values,
        vec![toml::Value::Integer(1), toml::Value::Integer(2)]
    );
}

#[test]
fn syntax_error() {
    let e = err("seed = 1\nduration = \n");
    check(&e, 2, 12, "", "");
    assert!(e.message().contains("syntax"), "{e}");
}

#[test]
fn unknown_key_names_valid_keys() {
    let e = err("[workload]\nclients = 5\npayloads = \"1B\"\n");
    check(
        &e,
        3,
        1,
        "clients, pattern, rate, arrivals, payload, room_size",
        "`payloads`",
    );
    assert!(e.to_string().contains("did you mean `payload`?"), "{e}");
    let e = err("[servers]\ncores = 1\n");
    check(&e, 1, 2, "workload, network, server", "`servers`");
}

#[test]
fn bad_units_point_at_the_value() {
    let e = err("[short-polling]\ninterval = \"3x\"\n");
    check(&e, 2, 12, "a duration", "\"3x\"");
    assert!(e.message().contains("short-polling.interval"), "{e}");
    let e = err("[workload]\npayload = 200\n");
    check(&e, 2, 11, "a size", "integer 200");
    assert!(e.to_string().contains("\"200B\""), "{e}");
    let e = err("duration = \"off\"\n");
    check(&e, 1, 12, "a duration", "\"off\"");
}

#[test]
fn range_errors() {
    let cases: &[(&str, usize, usize, &str, &str)] = &[
        (
            "[short-polling]\ninterval = \"0s\"\n",
            2,
            12,
            "above zero",
            "0s",
        ),
        (
            "[long-polling]\ntimeout = \"0ms\"\n",
            2,
            11,
            "above zero",
            "0s",
        ),
        ("duration = \"0s\"\n", 1, 12, "above zero", "0s"),
        ("warmup = \"2min\"\n", 1, 10, "no longer than", "2min"),
        (
            "[workload]\nclients = 0\n",
            2,
            11,
            "from 1 to 100,000,000",
            "0",
        ),
        (
            "[workload]\nclients = 100_000_001\n",
            2,
            11,
            "from 1 to 100,000,000",
            "100000001",
        ),
        ("[workload]\nclients = 60_000_000\n", 2, 11, "16GiB", "GiB"),
        ("replications = 0\n", 1, 16, "from 1 to 1000", "0"),
        ("replications = 1001\n", 1, 16, "from 1 to 1000", "1001"),
        ("[workload]\nrate = 0\n", 2, 8, "above 0", "0"),
        ("[workload]\nrate = -1.5\n", 2, 8, "above 0", "-1.5"),
        ("[workload]\nrate = nan\n", 2, 8, "finite", "NaN"),
        ("[workload]\nrate = inf\n", 2, 8, "finite", "inf"),
        (
            "[workload]\npattern = \"chat\"\nroom_size = 1\n",
            3,
            13,
            "at least 2",
            "room_size = 1",
        ),
        ("[server]\ninstances = 0\n", 2, 13, "at least 1", "0"),
        ("[server]\ncores = 0\n", 2, 9, "at least 1", "0"),
        (
            "[websocket]\nbackoff = { jitter = 1.5 }\n",
            2,
            22,
            "from 0 to 1",
            "1.5",
        ),
        (
            "[network]\nrtt = { distribution = \"lognormal\", median = \"80ms\", sigma = -0.1 }\n",
            2,
            7,
            "sigma of 0 or more",
            "-0.1",
        ),
        (
            "techniques = [\"sse\", \"comet\"]\n",
            1,
            22,
            "\"websocket\"",
            "\"comet\"",
        ),
        ("[target]\nutilization = 1.5\n", 2, 15, "at most 1", "1.5"),
        (
            "[network]\nproxy_idle_timeout = \"0s\"\n",
            2,
            22,
            "or \"off\"",
            "0s",
        ),
        (
            "[[faults]]\nat = \"5s\"\ninstance = 1\ndowntime = \"1s\"\n",
            3,
            12,
            "from 0 to 0",
            "1",
        ),
        (
            "[[faults]]\nat = \"5s\"\n",
            1,
            1,
            "`instance`",
            "without one",
        ),
        ("[[charts]]\nx = \"clients\"\n", 1, 1, "`y`", "without one"),
    ];
    for &(text, line, col, expected, found) in cases {
        let e = err(text);
        check(&e, line, col, expected, found);
    }
}

#[test]
fn memory_estimate_is_stated() {
    let e = err("[workload]\nclients = 80_000_000\n");
    let shown = e.to_string();
    assert!(shown.contains("24.4 GiB"), "{shown}");
    assert!(shown.contains("200 B of client state"), "{shown}");
}

#[test]
fn unknown_preset_lists_available_ones() {
    let e = err("[server]\npreset = \"evented\"\n");
    check(
        &e,
        2,
        10,
        "\"event-loop\", \"rtsim-live\", \"thread-per-connection\"",
        "\"evented\"",
    );
    let e = err("[network]\npreset = \"5g\"\n");
    check(&e, 2, 10, "\"3g\", \"desktop\", \"mobile-4g\"", "\"5g\"");
}

#[test]
fn presets_load_and_experiment_keys_override() {
    let e = ok(
        "[server]\npreset = \"thread-per-connection\"\nmax_connections = 2000\n[network]\npreset = \"desktop\"\n",
    );
    let s = &e.base.server;
    assert_eq!(s.concurrency, Concurrency::ThreadPerConnection);
    assert_eq!(s.thread_stack, 1 << 20);
    assert_eq!(s.max_connections, 2000);
    assert_eq!(s.memory_per_connection, 3000);
    assert_eq!(
        e.base.network.rtt,
        Rtt::LogNormal {
            median: 40 * MS,
            sigma: 0.5,
            min: None,
            max: None
        }
    );
    let e = ok("[network]\npreset = \"3g\"\nrtt = \"10ms\"\n");
    assert_eq!(e.base.network.rtt, Rtt::Constant(10 * MS));
    let e = ok("[network]\npreset = \"mobile-4g\"\n");
    assert!(matches!(e.base.network.rtt, Rtt::LogNormal { median, .. } if median == 150 * MS));
}

#[test]
fn user_presets_next_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models/servers")).unwrap();
    std::fs::write(
        dir.path().join("models/servers/tiny.toml"),
        "cores = 1\nmax_connections = 10\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/servers/bad.toml"),
        "cores = 1\ncorez = 2\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("exp")).unwrap();
    let file = dir.path().join("exp/e.toml");
    std::fs::write(&file, "[server]\npreset = \"tiny\"\n").unwrap();
    let e = load(&file, &[]).unwrap();
    assert_eq!(e.base.server.cores, 1);
    assert_eq!(e.base.server.max_connections, 10);
    // keys the user preset leaves out come from event-loop
    assert_eq!(e.base.server.memory_per_connection, 3250);
    // errors inside a preset point into the preset file
    std::fs::write(&file, "[server]\npreset = \"bad\"\n").unwrap();
    let e = load(&file, &[]).unwrap_err();
    assert!(e.file().ends_with("bad.toml"), "{e}");
    check(&e, 2, 1, "cores", "`corez`");
    // a missing file
    let e = load(&dir.path().join("nope.toml"), &[]).unwrap_err();
    assert!(e.to_string().contains("nope.toml"), "{e}");
}

#[test]
fn a_figure_no_preset_gives_is_an_error_not_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models/servers")).unwrap();
    // The user's own event-loop preset replaces the built-in one and leaves a figure out.
    let event_loop = include_str!("../../models/servers/event-loop.toml")
        .replace("memory_per_connection = \"3250B\"", "");
    std::fs::write(
        dir.path().join("models/servers/event-loop.toml"),
        event_loop,
    )
    .unwrap();
    std::fs::write(dir.path().join("models/servers/tiny.toml"), "cores = 1\n").unwrap();
    let file = dir.path().join("e.toml");
    std::fs::write(&file, "[server]\npreset = \"tiny\"\n").unwrap();
    let e = load(&file, &[]).unwrap_err();
    check(
        &e,
        2,
        10,
        "a value for `server.memory_per_connection`",
        "none in [server] or the server preset \"tiny\" nor \"event-loop\"",
    );
    assert!(e.to_string().contains("models/servers/tiny.toml"), "{e}");
    // Written in the experiment, it is enough.
    std::fs::write(
        &file,
        "[server]\npreset = \"tiny\"\nmemory_per_connection = \"1KiB\"\n",
    )
    .unwrap();
    assert_eq!(
        load(&file, &[]).unwrap().base.server.memory_per_connection,
        1024
    );
}

#[test]
fn sweep_errors_point_at_the_element() {
    let e = err("[sweep]\n\"workload.clients\" = [10, 0, 30]\n");
    check(&e, 2, 27, "from 1 to 100,000,000", "0");
    let e = err("[sweep]\n\"short-polling.interval\" = [\"1s\",\n  \"3q\"]\n");
    check(&e, 3, 3, "a duration", "\"3q\"");
    let e = err("[sweep]\n\"workload.clientz\" = [1]\n");
    check(&e, 2, 1, "dotted key", "`workload.clientz`");
    let e = err("warmup = \"20s\"\n[sweep]\nduration = [\"30s\", \"15s\"]\n");
    check(&e, 3, 20, "no longer than", "20s");
    let e = err("[sweep]\n\"server.preset\" = [\"event-loop\", \"nope\"]\n");
    check(&e, 2, 34, "thread-per-connection", "\"nope\"");
}

#[test]
fn long_poll_timeout_over_proxy_idle_is_a_warning() {
    let e = ok("[long-polling]\ntimeout = \"90s\"\n");
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    assert!(
        e.warnings[0].starts_with("exp.toml:2:11: warning:"),
        "{:?}",
        e.warnings
    );
    assert!(e.warnings[0].contains("504"));
    let e = ok("techniques = [\"sse\"]\n[long-polling]\ntimeout = \"90s\"\n");
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    let e = ok("[sse]\nheartbeat = \"off\"\n");
    assert!(
        e.warnings[0].contains("sse.heartbeat (off)"),
        "{:?}",
        e.warnings
    );
}

#[test]
fn set_overrides() {
    let sets: Vec<String> = [
        "workload.clients=5000",
        "short-polling.interval=10s",
        "network.tls=1.2",
        "server.preset=thread-per-connection",
        "seed=42",
        "network.rtt={distribution=\"lognormal\", median=\"30ms\", sigma=0.2}",
        "sweep.\"workload.clients\"=[1,2]",
        "sse.heartbeat=off",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let e = load_str("exp.toml", README_EXAMPLE, &sets).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.base.workload.clients, 5000);
    assert_eq!(e.base.short_polling.interval, 10 * S);
    assert_eq!(e.base.network.tls, Tls::V1_2);
    assert_eq!(e.base.server.concurrency, Concurrency::ThreadPerConnection);
    assert_eq!(e.seed, 42);
    assert!(matches!(e.base.network.rtt, Rtt::LogNormal { median, .. } if median == 30 * MS));
    assert_eq!(e.base.sse.heartbeat, None);
    // the interval sweep is pinned by --set; the clients sweep is replaced by [1, 2]
    assert_eq!(e.plan().rows.len(), 2 * 4);
    assert_eq!(e.plan().sweep_keys, ["workload.clients"]);
}

#[test]
fn set_pins_a_swept_key() {
    let sets = vec!["workload.clients=500".to_string()];
    let e = load_str("exp.toml", README_EXAMPLE, &sets).unwrap();
    let plan = e.plan();
    assert_eq!(plan.sweep_keys, ["short-polling.interval"]);
    assert_eq!(plan.rows.len(), 4 + 1 + 1 + 1);
    assert!(plan.rows.iter().all(|r| r.scenario.workload.clients == 500));
    assert!(
        e.warnings[0].contains("replaces the sweep of `workload.clients`"),
        "{:?}",
        e.warnings
    );
}

#[test]
fn set_pinning_a_charted_key_drops_its_charts_and_claims() {
    // A lesson charts and claims along its swept key; pinning that key with --set must
    // run the one point (with a warning per chart and claim), not refuse the lesson.
    let text = "techniques = [\"short-polling\"]\n[sweep]\n\"workload.rate\" = [0.1, 0.2]\n\
        [[charts]]\nx = \"workload.rate\"\ny = \"requests_per_s\"\ntitle = \"Rate\"\n\
        [[charts]]\nx = \"clients\"\ny = \"requests_per_s\"\n\
        [[claims]]\nsays = \"more with rate\"\nmetric = \"requests_per_s\"\nrises_along = \"workload.rate\"\n\
        [[claims]]\nsays = \"some\"\nmetric = \"requests_per_s\"\nabove = 0.0\n";
    let e = load_str("exp.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((e.charts.len(), e.claims.len()), (2, 2));
    let e = load_str("exp.toml", text, &["workload.rate=0.3".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((e.charts.len(), e.claims.len()), (1, 1));
    assert_eq!(e.charts[0].x, "clients");
    assert_eq!(e.claims[0].says, "some");
    let said = e.warnings.join("\n");
    assert!(said.contains("the chart \"Rate\" is not drawn"), "{said}");
    assert!(
        said.contains("the claim \"more with rate\" is not checked"),
        "{said}"
    );
    // The resolved experiment written beside the results loads again (no chart of a
    // key that is no longer swept).
    load_str("experiment.toml", &e.resolved_toml, &[]).unwrap_or_else(|e| panic!("{e}"));
    // In the file itself, a chart of an unswept key is still an error.
    let unswept = text.replace("[sweep]\n\"workload.rate\" = [0.1, 0.2]\n", "");
    assert!(load_str("exp.toml", &unswept, &[]).is_err());
}

#[test]
fn set_errors_name_set() {
    let bad = |s: &str| load_str("exp.toml", "", &[s.to_string()]).unwrap_err();
    let e = bad("workload.clients=abc");
    assert_eq!(e.file(), "--set");
    assert!(e.to_string().contains("--set:1:"), "{e}");
    assert!(e.expected().contains("whole number"), "{e}");
    let e = bad("workload.clientz=3");
    assert_eq!(e.file(), "--set");
    check(&e, 1, 10, "clients", "`clientz`");
    let e = bad("nothing");
    assert_eq!(e.file(), "--set");
    assert!(e.expected().contains("PATH=VALUE"), "{e}");
    let e = bad("workload.clients=0");
    check(&e, 1, 18, "from 1", "0");
}

#[test]
fn resolved_toml_round_trips() {
    for (text, sets) in [
        (README_EXAMPLE, vec![]),
        ("", vec![]),
        (
            "[server]\npreset = \"thread-per-connection\"\n[network]\npreset = \"3g\"\n[[faults]]\nat = \"30s\"\ninstance = 0\ndowntime = \"5s\"\n[[charts]]\nx = \"clients\"\ny = \"requests_per_s\"\nlog_x = true\n[target]\nlatency_p99 = \"200ms\"\ninstance_hour_cost = 0.1\n",
            vec!["websocket.backoff={initial=\"2s\"}".to_string()],
        ),
        (
            "[server]\ncores = 3\n[sweep]\n\"server.preset\" = [\"event-loop\", \"thread-per-connection\"]\n\"network.rtt\" = [\"10ms\", { distribution = \"lognormal\", median = \"80ms\", sigma = 0.5 }]\n",
            vec![],
        ),
    ] {
        let a = load_str("exp.toml", text, &sets).unwrap_or_else(|e| panic!("{e}"));
        let b = load_str("exp.toml", &a.resolved_toml, &[])
            .unwrap_or_else(|e| panic!("{e}\n{}", a.resolved_toml));
        assert_eq!(a.plan(), b.plan(), "{}", a.resolved_toml);
        assert_eq!(a.base, b.base);
        assert_eq!(a.target, b.target);
        assert_eq!(a.charts, b.charts);
        assert_eq!(a.resolved_toml, b.resolved_toml);
    }
}

#[test]
fn swept_preset_changes_preset_values_only() {
    let e = ok(
        "[server]\ncores = 3\n[sweep]\n\"server.preset\" = [\"event-loop\", \"thread-per-connection\"]\n",
    );
    let plan = e.plan();
    assert_eq!(plan.rows[0].scenario.server.max_connections, 1_000_000);
    assert_eq!(plan.rows[1].scenario.server.max_connections, 10_000);
    assert!(plan.rows.iter().all(|r| r.scenario.server.cores == 3));
    assert!(e.resolved_toml.contains("preset = \"event-loop\""));
}

#[test]
fn charts_and_target() {
    let e = ok(
        "[[charts]]\nx = \"clients\"\ny = \"latency_p99_s\"\nseries = \"technique\"\nlog_y = true\ntitle = \"Tail\"\n[[charts]]\nx = \"clients\"\ny = \"requests_per_s\"\nx_label = \"users\"\ny_label = \"asks per second\"\ntheory = true\ntechniques = [\"sse\"]\n[target]\nlatency_p99 = \"250ms\"\nutilization = 0.5\nbandwidth_cost_per_gb = 0.09\n",
    );
    assert_eq!(
        e.charts,
        vec![
            ChartSpec {
                x: "clients".into(),
                y: "latency_p99_s".into(),
                series: Some("technique".into()),
                log_x: false,
                log_y: true,
                title: Some("Tail".into()),
                ..ChartSpec::of("clients", "latency_p99_s")
            },
            ChartSpec {
                x_label: Some("users".into()),
                y_label: Some("asks per second".into()),
                theory: true,
                techniques: vec![Technique::Sse],
                ..ChartSpec::of("clients", "requests_per_s")
            }
        ]
    );
    assert_eq!(
        e.target,
        Target {
            latency_p99: Some(250 * MS),
            utilization: 0.5,
            instance_hour_cost: None,
            bandwidth_cost_per_gb: Some(0.09),
            backplane_node_hour_cost: None,
            redundancy: Default::default(),
            survive_loss: None,
            managed: None,
            max_new_connections_per_s: None,
            deploy_drain: None,
            deploy_jitter: false,
        }
    );
    assert_eq!(e.base.target_utilization, 0.5);
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_text(text in "\\PC{0,200}") {
            let _ = load_str("p.toml", &text, &[]);
        }

        #[test]
        fn toml_like_text(text in "(\\[[a-z-]{1,12}\\]\n)?([a-z_\".-]{1,20} = (\"[0-9a-zA-Z. ]{0,8}\"|-?[0-9_.e]{1,12}|\\[[0-9\", ]{0,12}\\]|\\{[a-z=\" 0-9,]{0,20}\\}|off|true)\n){0,6}") {
            let _ = load_str("p.toml", &text, &[]);
        }

        #[test]
        fn mutated_example(at in 0usize..2000, len in 0usize..6, insert in "\\PC{0,4}") {
            let mut text = README_EXAMPLE.to_string();
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(at..end.max(at), &insert);
            let _ = load_str("p.toml", &text, &[]);
        }

        #[test]
        fn random_sets(set in "[a-z_.-]{0,20}=?\\PC{0,12}") {
            let _ = load_str("p.toml", "", &[set]);
        }
    }
}

#[test]
fn a_deploy_reads_its_keys_and_warns_of_downtime_with_one_instance() {
    let text = "[[faults]]\nat = \"20s\"\nkind = \"deploy\"\ninstance = 0\ndowntime = \"2s\"\ndrain = \"30s\"\njitter = true\n";
    let e = ok(&format!("[server]\ninstances = 3\n{text}"));
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    let f = &e.base.faults[0];
    assert_eq!(f.kind, crate::scenario::FaultKind::Deploy);
    assert_eq!((f.drain, f.jitter), (30 * crate::engine::NS_PER_S, true));
    // One instance: the deploy is downtime, and the file is told so.
    let e = ok(text);
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    assert!(e.warnings[0].contains("downtime"), "{:?}", e.warnings);
    // A crash has no drain.
    let e = ok(
        "[server]\ninstances = 2\n[[faults]]\nat = \"20s\"\ninstance = 0\ndowntime = \"2s\"\ndrain = \"5s\"\n",
    );
    assert!(e.warnings[0].contains("deploy"), "{:?}", e.warnings);
}
