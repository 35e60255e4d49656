//! `rtsim size` says what it found: updates lost or stalled are their own verdict (not a
//! broken p99) and add no instance; the cost is the redundancy plan's; connections closed
//! by `max_connection_duration` count as handshakes; the table, notes, CSV and JSON
//! agree. Scenarios are small (this runs unoptimized under `cargo test`).

mod common;

use common::coarse_sizing_options as options;
use rtsim::experiment;
use rtsim::report::sizing::{sizing_csv, sizing_markdown};
use rtsim::sizing::{self, Cause, FailoverCheck, Note, Resource};

fn size(text: &str) -> (Vec<sizing::Sizing>, experiment::Experiment) {
    let exp = experiment::load_str("verdicts.toml", text, &[]).unwrap();
    let rows = sizing::size(&exp, &options(), &|_| {}).unwrap();
    (rows, exp)
}

/// A WebSocket deployment whose steady state fits one instance, sized N+1, backoff
/// spread over a second (so the survivors' CPU is not the problem) and no `resume`:
/// the crashed instance's clients lose what was published while they reconnected.
const NO_RESUME: &str = r#"
name = "no-resume"
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
backoff = { initial = "1s", max = "30s", jitter = 1.0 }
resume = false
[target]
latency_p99 = "1.3s"
utilization = 0.7
redundancy = "n+1"
"#;

#[test]
fn a_failover_losing_updates_without_resume_names_the_cause_and_adds_no_instance() {
    let (mut rows, exp) = size(NO_RESUME);
    let r = rows.pop().unwrap();
    assert_eq!(r.instances_needed, Some(1), "{r:?}");
    let Some(FailoverCheck::Checked { plan, storm, tried }) = &r.failover else {
        panic!("checked: {:?}", r.failover)
    };
    let lost = Resource::Unserved(Cause::ReconnectWithoutResume);
    assert_eq!(storm.failed_on, Some(lost), "{storm:?}");
    // The delivered updates were quick: the p99 target is not what broke ...
    assert!(storm.latency_p99_s < 1.3, "{storm:?}");
    // ... and instances cannot bring lost updates back: none added.
    assert!(tried.is_empty(), "{tried:?}");
    assert_eq!(storm.failure.instances, plan.instances);
    let text = sizing_markdown(std::slice::from_ref(&r), &exp.target);
    assert!(
        text.contains("updates lost by reconnects without resume"),
        "{text}"
    );
    assert!(text.contains("more instances cannot help"), "{text}");
    assert!(!text.contains("breaks the p99 latency target"), "{text}");
    let csv = String::from_utf8(sizing_csv(&[r])).unwrap();
    assert!(csv.contains(",lost-on-reconnect,"), "{csv}");
}

#[test]
fn a_connection_lifetime_without_resume_loses_updates_at_any_load() {
    let text = NO_RESUME
        .replace("redundancy = \"n+1\"", "")
        .replace("rate = 0.5", "rate = 0.5\nmax_connection_duration = \"3s\"");
    let (mut rows, exp) = size(&text);
    let r = rows.pop().unwrap();
    assert_eq!(r.instances_needed, None, "{r:?}");
    let lost = Resource::Unserved(Cause::ReconnectWithoutResume);
    assert_eq!(r.limiting_resource, lost);
    assert!(
        matches!(
            r.notes[..],
            [Note::Unserved {
                cause: Cause::ReconnectWithoutResume,
                ..
            }]
        ),
        "{:?}",
        r.notes
    );
    // The pilot alone decided: fewer clients would lose updates just the same.
    assert_eq!(r.simulations, 1);
    let md = sizing_markdown(&[r], &exp.target);
    assert!(md.contains("| lost-on-reconnect |"), "{md}");
    assert!(md.contains("[websocket] resume = true"), "{md}");
    assert!(!md.contains("a floor set by the technique"), "{md}");
}

#[test]
fn stalled_tabs_are_their_own_verdict() {
    let text = r#"
name = "tabs"
duration = "6s"
warmup = "2s"
techniques = ["sse"]
[workload]
clients = 700
rate = 0.5
tabs = 7
[network]
rtt = "50ms"
tls = "none"
http = "1.1"
[target]
latency_p99 = "1s"
"#;
    let (mut rows, _) = size(text);
    let r = rows.pop().unwrap();
    assert_eq!(r.instances_needed, None, "{r:?}");
    assert_eq!(r.limiting_resource, Resource::Unserved(Cause::StalledTabs));
}

#[test]
fn the_cost_is_the_redundancy_plans() {
    // With resume and jitter the survivor holds: 1 → 2 (n+1), and 2 are bought.
    let text = NO_RESUME
        .replace("resume = false", "resume = true")
        .replace(
            "redundancy = \"n+1\"",
            "redundancy = \"n+1\"\ninstance_hour_cost = 1.0\nbackplane_node_hour_cost = 0.2",
        );
    let (mut rows, exp) = size(&text);
    let r = rows.pop().unwrap();
    assert_eq!(r.instances_needed, Some(1), "{r:?}");
    let planned = r.failover.as_ref().unwrap().instances();
    assert_eq!(planned, 2, "{:?}", r.failover);
    let per_instance = sizing::HOURS_PER_MONTH * 1.0;
    assert_eq!(r.instance_cost, Some(2.0 * per_instance));
    assert_eq!(r.monthly_cost, Some(2.0 * per_instance));
    let md = sizing_markdown(std::slice::from_ref(&r), &exp.target);
    assert!(md.contains("($1,460 for 2 instances)"), "{md}");
    // An unlimited backplane has nothing to price, whatever the node price.
    assert!(!md.contains("not priced"), "{md}");
    let csv = String::from_utf8(sizing_csv(&[r])).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(at("instances_planned"), "2");
    assert_eq!(at("instance_cost"), "1460");
}

#[test]
fn a_gateways_connection_lifetime_beyond_the_run_counts_against_the_cap() {
    // 3,000 clients, a 2 h limit no run lasts: 3,000 / 7,200 s = 0.417 new
    // connections/s, above a cap of 0.1/s.
    let text = NO_RESUME
        .replace("resume = false", "resume = true")
        // 0.1 updates/s per client: 788 million messages a month, within the first tier.
        .replace("rate = 0.5", "rate = 0.1\nmax_connection_duration = \"2h\"")
        .replace(
            "redundancy = \"n+1\"",
            "max_new_connections_per_s = 0.1\nmanaged = \"aws-apigw-websocket\"",
        );
    let (mut rows, exp) = size(&text);
    let r = rows.pop().unwrap();
    // Bought from API Gateway: its own 2 h closes are the scenario's (not counted twice),
    // within its quota of 500/s; egress unpriced makes the total a lower bound.
    let md = sizing_markdown(std::slice::from_ref(&r), &exp.target);
    assert!(md.contains("| ≥ $"), "{md}");
    assert!(md.contains("egress not priced"), "{md}");
    assert!(
        md.contains("closes every connection after 2 h, so the deployment bought from"),
        "{md}"
    );
    assert!(md.contains("within its quota of 500/s"), "{md}");
    assert_eq!(r.managed.as_ref().unwrap().age_closes_per_s, 0.0);
    assert!(
        r.handshakes_per_s >= 3000.0 / 7200.0,
        "{}",
        r.handshakes_per_s
    );
    assert!(
        r.new_connections_cap_use > 4.0,
        "{}",
        r.new_connections_cap_use
    );
    assert!(
        r.notes
            .iter()
            .any(|n| matches!(n, Note::OverConnectionCap { storm: false, .. })),
        "{:?}",
        r.notes
    );
}

#[test]
fn absurd_target_values_are_refused_with_what_was_expected() {
    let refused = |set: &str| {
        let over = vec![set.to_string()];
        experiment::load_str("verdicts.toml", NO_RESUME, &over)
            .unwrap_err()
            .to_string()
    };
    for cap in ["-1", "0"] {
        let e = refused(&format!("target.max_new_connections_per_s={cap}"));
        assert!(e.contains("new connections per second above 0"), "{e}");
        assert!(!e.contains("cost"), "{e}");
    }
    let e = refused("target.survive_loss=0.999999");
    assert!(e.contains("at most 0.99"), "{e}");
    for price in ["1e308", "-1"] {
        let e = refused(&format!("target.instance_hour_cost={price}"));
        assert!(e.contains("a price in dollars from 0 to 10,000"), "{e}");
    }
    // Sensible values pass.
    let over = vec![
        "target.survive_loss=0.5".to_string(),
        "target.max_new_connections_per_s=500".to_string(),
        "target.instance_hour_cost=0.34".to_string(),
    ];
    experiment::load_str("verdicts.toml", NO_RESUME, &over).unwrap();
}

/// SSE sized N+1 whose crashed clients come back after EventSource's `retry` (3 s): the
/// storm's updates arrive late while the survivors' CPU stays low, so the p99 target
/// breaks whatever the instance count. The check stops at the plan, not at
/// `failover::MAX_ADDED` instances more, and says why.
const LATE_WITHOUT_LOAD: &str = r#"
name = "late-without-load"
duration = "20s"
warmup = "10s"
techniques = ["sse"]
[workload]
clients = 3000
pattern = "broadcast"
rate = 2.0
payload = "200B"
[network]
rtt = "50ms"
tls = "1.3"
[server]
preset = "event-loop"
cores = 4
max_connections = 2_500
[target]
latency_p99 = "1s"
utilization = 0.7
redundancy = "n+1"
"#;

#[test]
fn a_failover_late_by_the_reconnect_delay_alone_adds_no_instance() {
    let (mut rows, exp) = size(LATE_WITHOUT_LOAD);
    let r = rows.pop().unwrap();
    let Some(FailoverCheck::Checked { plan, storm, tried }) = &r.failover else {
        panic!("checked: {:?}", r.failover)
    };
    assert_eq!(storm.failed_on, Some(Resource::Latency), "{storm:?}");
    assert!(storm.late_without_load, "{storm:?}");
    assert!(storm.cpu_peak < 0.7, "{storm:?}");
    assert!(storm.latency_p99_s > 1.0, "{storm:?}");
    // Stopped at the plan: no instance added for a cause instances cannot fix.
    assert_eq!(
        storm.failure.instances, plan.instances,
        "{storm:?} {tried:?} {plan:?}"
    );
    assert!(tried.is_empty(), "{tried:?}");
    let md = sizing_markdown(&[r], &exp.target);
    assert!(md.contains("reconnect delay, not load"), "{md}");
    assert!(md.contains("FAILS"), "{md}");
}

/// The same deployment drained one instance at a time (a rolling deploy, closes jittered
/// over the drain): the drained clients' updates wait for EventSource's `retry`, not for
/// CPU, and the deploy line says so.
#[test]
fn a_deploy_late_by_the_reconnect_delay_alone_says_so() {
    let text = LATE_WITHOUT_LOAD.replace(
        "redundancy = \"n+1\"",
        "deploy_drain = \"5s\"\ndeploy_jitter = true",
    );
    let (mut rows, exp) = size(&text);
    let r = rows.pop().unwrap();
    let Some(sizing::DeployCheck::Checked { storm, .. }) = &r.deploy else {
        panic!("checked: {:?}", r.deploy)
    };
    assert_eq!(storm.failed_on, Some(Resource::Latency), "{storm:?}");
    assert!(storm.late_without_load, "{storm:?}");
    let md = sizing_markdown(&[r], &exp.target);
    assert!(md.contains("reconnect delay, not load"), "{md}");
}
