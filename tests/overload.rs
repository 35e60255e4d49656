//! Honest numbers at the edges (issue #13, items 1 and 2), as a user meets them: a
//! handshake storm longer than the warm-up leaves nothing delivered — latency cells
//! empty (not 0), `n/a` in the table, a warning naming the causes; a server that refuses
//! connections is called overloaded, with the refusal count, before any other word; and
//! `rtsim merge` of shards says all of it, and the steady-state warnings, as `run` does.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

/// SSE over TLS 1.3, 4,000 clients arriving within 100 ms on one core: 4,000 × 1.07 ms
/// of handshake CPU ≈ 4.3 s of backlog, against a 1 s warm-up and a 2 s window. Every
/// push created in the window waits behind the storm past the window's end.
const STORM: &str = r#"
name = "storm"
description = "a connection storm longer than the warm-up"
seed = 3
duration = "2s"
warmup = "1s"
techniques = ["sse"]

[workload]
clients = 4_000
rate = 0.5
start_window = "100ms"

[network]
tls = "1.3"
rtt = "50ms"

[server]
cores = 1
"#;

/// 300 short-polling clients for 100 slots: 200 refused, again and again.
const REFUSALS: &str = r#"
name = "refusals"
description = "more clients than connection slots"
seed = 3
duration = "10s"
warmup = "5s"
techniques = ["short-polling"]

[workload]
clients = 300
rate = 0.2

[network]
rtt = "50ms"

[server]
max_connections = 100
"#;

fn run(dir: &Path, name: &str, text: &str, extra: &[&str]) -> (String, String) {
    let file = dir.join(format!("{name}.toml"));
    fs::write(&file, text).unwrap();
    let out = dir.join(name);
    let output = Command::cargo_bin("rtsim")
        .unwrap()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The first data line of `results.csv`, cell by header name.
fn csv_row(path: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let cells: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    header.into_iter().zip(cells).collect()
}

fn cell<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(k, _)| k == name).expect(name).1
}

#[test]
fn a_storm_past_the_warm_up_delivers_nothing_and_says_why() {
    let tmp = TempDir::new().unwrap();
    let (stdout, stderr) = run(tmp.path(), "storm", STORM, &[]);
    let out = tmp.path().join("storm");
    let row = csv_row(&out.join("results.csv"));
    assert_eq!(cell(&row, "deliveries"), "0");
    assert!(cell(&row, "in_flight").parse::<f64>().unwrap() > 0.0);
    for m in [
        "latency_mean_s",
        "latency_p50_s",
        "latency_p99_s",
        "latency_max_s",
    ] {
        assert_eq!(cell(&row, m), "", "{m} must be empty, not 0");
    }
    // An SSE stream answers no poll: no empty share either.
    assert_eq!(cell(&row, "empty_response_fraction"), "");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert!(json["rows"][0]["latency_mean_s"].is_null(), "{json}");
    assert!(json["rows"][0]["latency_p99_s"].is_null(), "{json}");

    let table = fs::read_to_string(out.join("table.md")).unwrap();
    assert!(table.contains("n/a (nothing delivered"), "{table}");
    assert!(table.contains("overloaded: CPU 100%"), "{table}");
    assert!(!table.contains("real-time"), "{table}");
    assert!(stdout.contains("n/a (nothing delivered"), "{stdout}");

    assert!(stderr.contains("warning: sse"), "{stderr}");
    assert!(
        stderr.contains("nothing delivered in the measured window"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the CPU is saturated (ρ = 1.00, mean queue wait"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the connection storm outlasts the warm-up: 4,000 handshakes × 1.07 ms"),
        "{stderr}"
    );
    assert!(stderr.contains("rows overloaded"), "{stderr}");

    // `table` and `explain` from the folder say the same.
    let explained = Command::cargo_bin("rtsim")
        .unwrap()
        .args(["explain", out.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(explained.stdout).unwrap();
    assert!(text.contains("simulated: n/a"), "{text}");
    assert!(
        text.contains("no sample in the measured window (nothing was delivered"),
        "{text}"
    );
}

#[test]
fn a_row_with_refusals_is_called_overloaded_with_its_count() {
    let tmp = TempDir::new().unwrap();
    let (stdout, stderr) = run(tmp.path(), "refusals", REFUSALS, &[]);
    let out = tmp.path().join("refusals");
    let row = csv_row(&out.join("results.csv"));
    let refused: f64 = cell(&row, "rejected_connections").parse().unwrap();
    assert!(refused > 0.0);
    let count = {
        // 1234567 → "1,234,567", as the table writes it.
        let digits = format!("{}", refused.round() as u64);
        let mut s = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                s.push(',');
            }
            s.push(c);
        }
        s
    };
    let table = fs::read_to_string(out.join("table.md")).unwrap();
    let line = table
        .lines()
        .find(|l| l.starts_with("| Short polling"))
        .unwrap();
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    assert!(
        cells[3].starts_with(&format!("overloaded: {count} refused — ")),
        "{line}"
    );
    assert!(cells[4].starts_with("overloaded: "), "{line}");
    assert!(
        stdout.contains(&format!("overloaded: {count} refused")),
        "{stdout}"
    );
    assert!(stderr.contains("1 of 1 rows overloaded"), "{stderr}");
    assert!(stderr.contains(&format!("{count} refused")), "{stderr}");

    // --quiet keeps the list off stderr.
    let (_, quiet) = run(tmp.path(), "refusals-quiet", REFUSALS, &["--quiet"]);
    assert!(!quiet.contains("overloaded"), "{quiet}");
}

/// Long polling with λ·timeout = 0.3 and a 10 s warm-up (its timeout waves outlast it)
/// beside steady SSE, at two core counts: four rows to split into shards.
const WAVES: &str = r#"
name = "waves"
description = "a start-up transient, split into shards"
seed = 3
duration = "300s"
warmup = "10s"
techniques = ["long-polling", "sse"]

[workload]
clients = 1_000
rate = 0.01

[long-polling]
timeout = "30s"

[sweep]
"server.cores" = [1, 2]
"#;

/// The lines of stderr that warn or note (not progress or file locations).
fn caveat_lines(stderr: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: ") || l.starts_with("note: ") || l.starts_with("  "))
        .collect();
    lines.sort_unstable();
    lines
}

#[test]
fn a_merged_result_warns_as_the_single_run_does() {
    let tmp = TempDir::new().unwrap();
    let (_, whole) = run(tmp.path(), "whole", WAVES, &[]);
    assert!(
        whole.contains("warning: long-polling") && whole.contains("start-up transient"),
        "{whole}"
    );
    run(tmp.path(), "s0", WAVES, &["--shard", "0/2"]);
    run(tmp.path(), "s1", WAVES, &["--shard", "1/2"]);
    let merged = Command::cargo_bin("rtsim")
        .unwrap()
        .arg("merge")
        .arg(tmp.path().join("s0"))
        .arg(tmp.path().join("s1"))
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .output()
        .unwrap();
    assert!(merged.status.success(), "{merged:?}");
    let said = String::from_utf8(merged.stderr).unwrap();
    assert_eq!(caveat_lines(&said), caveat_lines(&whole), "{said}");

    // The same for the overloaded list and the no-sample warning.
    let (_, storm) = run(
        tmp.path(),
        "storm-whole",
        STORM,
        &["--set", "replications=2"],
    );
    run(
        tmp.path(),
        "storm-s0",
        STORM,
        &["--set", "replications=2", "--shard", "0/2"],
    );
    run(
        tmp.path(),
        "storm-s1",
        STORM,
        &["--set", "replications=2", "--shard", "1/2"],
    );
    let merged = Command::cargo_bin("rtsim")
        .unwrap()
        .arg("merge")
        .arg(tmp.path().join("storm-s0"))
        .arg(tmp.path().join("storm-s1"))
        .arg("--out")
        .arg(tmp.path().join("storm-merged"))
        .output()
        .unwrap();
    assert!(merged.status.success(), "{merged:?}");
    let said = String::from_utf8(merged.stderr).unwrap();
    assert!(
        said.contains("nothing delivered in the measured window"),
        "{said}"
    );
    assert!(said.contains("rows overloaded"), "{said}");
    assert_eq!(caveat_lines(&said), caveat_lines(&storm), "{said}");
}
