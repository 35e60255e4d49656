//! Hostile inputs on the simulation side (issue #19): every case ends quickly in a result
//! or a clean error — zero delays cannot loop at one instant, Ctrl-C stops a single long
//! run, durations and memory sizes cannot wrap, and runs beyond the budget are refused
//! before anything is allocated for them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use rtsim::engine::NS_PER_S;
use rtsim::scenario::{Scenario, Technique};
use rtsim::sim::{SimError, try_simulate};
use tempfile::TempDir;

fn rtsim() -> Command {
    Command::cargo_bin("rtsim").unwrap()
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("hostile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `rtsim run FILE --set …` must exit 2 within seconds, name `needle`, write nothing.
fn refused(text: &str, set: &[&str], needle: &str) {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), text);
    let out = tmp.path().join("out");
    let mut cmd = rtsim();
    cmd.args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .timeout(Duration::from_secs(20));
    for s in set {
        cmd.args(["--set", s]);
    }
    cmd.assert()
        .code(2)
        .stderr(predicate::str::contains(needle).from_utf8());
    assert!(!out.exists(), "{set:?}: output written after an error");
}

const ONE_SSE_CLIENT: &str = "techniques = [\"sse\"]\nduration = \"10s\"\nwarmup = \"1s\"\n\
                              [workload]\nclients = 1\n";

#[test]
fn timers_that_could_loop_at_one_instant_are_refused() {
    for (set, key) in [
        (
            ["network.disconnect_every=\"1s\"", "sse.retry=\"0s\""],
            "sse.retry",
        ),
        (
            ["network.disconnect_every=\"1s\"", "sse.retry=\"1ns\""],
            "sse.retry",
        ),
        (
            ["network.disconnect_every=\"1ns\"", "sse.retry=\"3s\""],
            "network.disconnect_every",
        ),
        (
            ["sse.heartbeat=\"1ns\"", "sse.retry=\"3s\""],
            "sse.heartbeat",
        ),
        (
            ["websocket.heartbeat=\"1ns\"", "techniques=[\"websocket\"]"],
            "websocket.heartbeat",
        ),
        (
            ["timeseries_bucket=\"1ns\"", "sse.retry=\"3s\""],
            "timeseries_bucket",
        ),
    ] {
        refused(ONE_SSE_CLIENT, &set, key);
    }
}

#[test]
fn a_world_stuck_at_one_instant_is_a_typed_error_naming_the_keys() {
    // Past the key checks (a scenario built by hand): a zero retry while the network is
    // down reconnects forever at one instant.
    let mut sc = Scenario::reference();
    sc.technique = Technique::Sse;
    sc.workload.clients = 1;
    sc.network.disconnect_every = Some(NS_PER_S);
    sc.sse.retry = Some(0);
    let started = Instant::now();
    match try_simulate(&sc, &AtomicBool::new(false)) {
        Err(e @ SimError::Stuck { .. }) => assert!(e.to_string().contains("sse.retry"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // A raised stop flag abandons the run (looked at every 65,536 events).
    let mut sc = Scenario::reference();
    sc.workload.clients = 10_000;
    assert_eq!(
        try_simulate(&sc, &AtomicBool::new(true)).unwrap_err(),
        SimError::Interrupted
    );
}

#[test]
fn durations_that_would_wrap_the_clock_are_refused() {
    refused(
        "duration = \"18446744073709551615ns\"\nwarmup = \"15s\"\n",
        &[],
        "100 years",
    );
    refused("", &["duration=\"99y\"", "warmup=\"99y\""], "584 years");
}

#[test]
fn memory_sizes_that_would_wrap_the_books_are_refused() {
    refused(
        "[workload]\nclients = 60\n[server]\nmemory_per_connection = \"1000000000000000000B\"\n\
         memory_limit = \"18000000000000000000B\"\n",
        &[],
        "4 EiB",
    );
}

#[test]
fn runs_beyond_the_budget_are_refused_before_they_start() {
    let small = "duration = \"10s\"\nwarmup = \"1s\"\n[workload]\nclients = 10\n";
    refused(small, &["workload.rate=1e30"], "--allow-large");
    refused(
        small,
        &["workload.arrivals=\"periodic\"", "workload.rate=1e9"],
        "--allow-large",
    );
    refused(small, &["duration=\"1000000000s\""], "timeseries_bucket");
}

/// A single long run (one replication, one job) stops within a couple of seconds of
/// SIGINT, exits 130 and writes nothing.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_single_long_run() {
    let tmp = TempDir::new().unwrap();
    let file = write(
        tmp.path(),
        "techniques = [\"short-polling\"]\nduration = \"100000s\"\nreplications = 1\n\
         [workload]\nclients = 1000\n",
    );
    let out = tmp.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rtsim"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(5) {
            child.kill().unwrap();
            panic!("still running 5 s after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    assert!(!out.exists(), "results written after Ctrl-C");
}
