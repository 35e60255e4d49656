//! `rtsim size` says what it found: updates lost or stalled are their own verdict (not a
//! broken p99) and add no instance; the cost is the redundancy plan's; connections closed
//! by `max_connection_duration` count as handshakes; the table, notes, CSV and JSON
//! agree. Scenarios are small (this runs unoptimized under `cargo test`).

use rtsim::experiment;
use rtsim::report::sizing::{sizing_csv, sizing_markdown};
use rtsim::sizing::{self, Cause, FailoverCheck, Note, Options, Resource};

/// Coarser search than the command's, to keep debug builds quick.
fn options() -> Options {
    Options {
        jobs: 1,
        tolerance: 0.05,
        pilot_clients: 200,
        ..Options::default()
    }
}

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
    let text = sizing_markdown(&[r.clone()], &exp.target);
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
