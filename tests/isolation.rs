//! No technique's keys are read outside it: changing every key of one technique's section
//! (`[short-polling]`, `[long-polling]`, `[sse]`, `[websocket]`) leaves every other
//! technique's runs byte-identical — the same metrics and time series, bit for bit.
//!
//! The scenarios are built to reach the code paths where a leak once hid: clients that
//! start over a window (all techniques used to start within the short-polling interval),
//! refused connections and 503s (long polling's backoff used to be WebSocket's), network
//! drops and a crash (reconnection), a proxy idle timeout, and chat upstream over HTTP
//! POSTs (whose retry used WebSocket's backoff too). Each changed section must change its
//! own technique's results, so the test cannot pass by changing nothing.

use rtsim::experiment::load_str;
use rtsim::scenario::Technique;
use rtsim::sim::simulate;

/// Every key of each technique's section, set away from its default.
const CHANGES: [(Technique, &[&str]); 4] = [
    (
        Technique::ShortPolling,
        &[
            "short-polling.interval=\"7s\"",
            "short-polling.jitter=\"400ms\"",
            "short-polling.schedule=\"fixed-rate\"",
        ],
    ),
    (
        Technique::LongPolling,
        &[
            "long-polling.timeout=\"11s\"",
            "long-polling.reconnect_delay=\"300ms\"",
            "long-polling.backoff={ initial = \"2s\", max = \"9s\", jitter = 0.9 }",
        ],
    ),
    (
        Technique::Sse,
        &["sse.heartbeat=\"4s\"", "sse.retry=\"700ms\""],
    ),
    (
        Technique::Websocket,
        &[
            "websocket.heartbeat=\"6s\"",
            "websocket.heartbeat_timeout=\"3s\"",
            "websocket.backoff={ initial = \"3s\", max = \"5s\", jitter = 0.1 }",
            "websocket.resume=true",
        ],
    ),
];

/// Per-client notifications on a deployment too small for everyone: refusals, drops,
/// a crash and a proxy that cuts quiet connections.
const CROWDED: &str = r#"
duration = "40s"
warmup = "10s"
[workload]
clients = 300
rate = 0.2
start_window = "5s"
[network]
rtt = { distribution = "lognormal", median = "60ms", sigma = 0.5 }
proxy_idle_timeout = "9s"
disconnect_every = "40s"
outage = "1s"
[server]
instances = 2
cores = 1
max_connections = 120
[[faults]]
at = "25s"
instance = 1
downtime = "3s"
"#;

/// Chat rooms: short polling, long polling and SSE send chat as HTTP POSTs on a second
/// connection; slots are short, so some POST connections are refused and retried.
const CHAT: &str = r#"
duration = "40s"
warmup = "10s"
[workload]
clients = 120
pattern = "chat"
room_size = 6
rate = 0.3
[network]
rtt = "40ms"
disconnect_every = "30s"
[server]
cores = 1
max_connections = 150
"#;

/// Each run of the experiment, as text that changes if any bit of a result changes.
fn runs(text: &str, sets: &[String]) -> Vec<(Technique, String)> {
    let exp = load_str("isolation.toml", text, sets).unwrap_or_else(|e| panic!("{e}"));
    exp.plan()
        .rows
        .iter()
        .map(|row| {
            let out = simulate(&row.scenario);
            let bits = format!("{:?}\n{:?}", out.metrics, out.timeseries);
            (row.technique, bits)
        })
        .collect()
}

fn check(text: &str) {
    let base = runs(text, &[]);
    for (changed, keys) in CHANGES {
        let sets: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let after = runs(text, &sets);
        assert_eq!(base.len(), after.len());
        let mut own_changed = false;
        for ((t, before), (t2, now)) in base.iter().zip(&after) {
            assert_eq!(t, t2);
            if *t == changed {
                own_changed |= before != now;
            } else {
                assert!(
                    before == now,
                    "changing [{changed}] keys changed {t}'s results"
                );
            }
        }
        assert!(
            own_changed,
            "changing [{changed}] keys did not change {changed}'s own results: the \
             scenario does not exercise them"
        );
    }
}

#[test]
fn technique_keys_do_not_leak_under_refusals_drops_and_crashes() {
    check(CROWDED);
}

#[test]
fn technique_keys_do_not_leak_into_chat_upstream() {
    check(CHAT);
}

/// Clients that come and go: Poisson joins, sessions that end (a new user takes the
/// place) and a gateway that closes connections for their age, on a crowded deployment.
/// The join and session draws are the population's, the same whatever a technique's keys.
const CHURN: &str = r#"
duration = "40s"
warmup = "10s"
[workload]
clients = 300
rate = 0.2
join = "poisson"
join_rate = 60
session = "20s"
max_connection_duration = "12s"
[network]
rtt = { distribution = "lognormal", median = "60ms", sigma = 0.5 }
proxy_idle_timeout = "9s"
[server]
instances = 2
cores = 1
max_connections = 200
"#;

#[test]
fn technique_keys_do_not_leak_into_joins_churn_and_gateway_closes() {
    check(CHURN);
}
