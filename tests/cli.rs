//! The command line as a user drives it: every command on a good file, every class of
//! bad input, byte-identical results for any `--jobs` and across shards, and the seed's
//! headline numbers from the default experiment.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use tempfile::TempDir;

mod common;
use common::{RESULT_FILES, rtsim, write};

const SMALL: &str = r#"
name = "small"
description = "a tiny experiment for tests"
seed = 7
duration = "20s"
warmup = "5s"
replications = 2

[workload]
clients = 200
pattern = "per-client"
rate = 0.2

[network]
rtt = "50ms"

[sweep]
"workload.clients" = [100, 200]
"short-polling.interval" = ["1s", "3s"]
"#;

#[test]
fn run_writes_every_output_and_prints_the_table() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    rtsim()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("| Short polling"))
        .stdout(predicate::str::contains("| WebSockets"));
    for f in RESULT_FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(out.join("timing.json").is_file());
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    // 2 client counts × (2 intervals for short polling + 1 for each other technique).
    assert_eq!(csv.lines().count(), 1 + 2 * (2 + 3), "{csv}");
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with(
        "technique,clients,poll_interval_s,workload.clients,short-polling.interval,replications,requests_per_s,requests_per_s_ci95"
    ), "{header}");
    let charts = fs::read_dir(out.join("charts")).unwrap().count();
    assert!(charts >= 4, "only {charts} chart files");
}

#[test]
fn check_prints_the_plan() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    rtsim()
        .args(["check", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "10 rows × 2 replications = 20 runs",
        ))
        .stdout(predicate::str::contains("events/run"));
}

#[test]
fn table_and_plot_work_from_a_results_folder() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    rtsim()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let table = fs::read_to_string(out.join("table.md")).unwrap();
    rtsim()
        .args(["table"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(table.trim()));
    fs::remove_dir_all(out.join("charts")).unwrap();
    rtsim().args(["plot"]).arg(&out).assert().success();
    assert!(out.join("charts").read_dir().unwrap().count() >= 4);
}

/// Each class of bad input: non-zero exit, file:line:col in the message, nothing written.
#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let cases: [(&str, &str, &str); 5] = [
        (
            "unknown key",
            "[workload]\nclients = 10\nclient_count = 5\n",
            "small.toml:3:1",
        ),
        (
            "wrong type",
            "[workload]\nclients = \"many\"\n",
            "small.toml:2:11",
        ),
        (
            "bad unit",
            "duration = \"3 fortnights\"\n",
            "small.toml:1:12",
        ),
        (
            "negative value",
            "[workload]\nrate = -1.0\n",
            "small.toml:2:8",
        ),
        (
            "zero interval",
            "[short-polling]\ninterval = \"0s\"\n",
            "small.toml:2:12",
        ),
    ];
    for (what, text, location) in cases {
        let tmp = TempDir::new().unwrap();
        let file = write(tmp.path(), "small.toml", text);
        let out = tmp.path().join("out");
        rtsim()
            .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(location).from_utf8())
            .stderr(predicate::str::contains("expected"));
        assert!(!out.exists(), "{what}: output written after an error");
    }
    // A missing file.
    rtsim()
        .args(["run", "/nonexistent/experiment.toml", "--quiet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/experiment.toml"));
}

#[test]
fn set_overrides_keys_and_reports_bad_values() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    rtsim()
        .args(["check", file.to_str().unwrap(), "--set", "replications=3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("× 3 replications"));
    rtsim()
        .args([
            "check",
            file.to_str().unwrap(),
            "--set",
            "workload.rate=fast",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--set"));
}

fn run_into(file: &Path, out: &Path, extra: &[&str]) {
    rtsim()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn assert_same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let x = fs::read(a.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let y = fs::read(b.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn results_are_byte_identical_for_any_jobs() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    run_into(&file, &one, &["--jobs", "1"]);
    run_into(&file, &two, &["--jobs", "2"]);
    assert_same_files(&one, &two, &RESULT_FILES);
    let charts: Vec<String> = fs::read_dir(one.join("charts"))
        .unwrap()
        .map(|e| format!("charts/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let charts: Vec<&str> = charts.iter().map(String::as_str).collect();
    assert_same_files(&one, &two, &charts);
}

#[test]
fn shards_merge_into_the_unsharded_results() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let whole = tmp.path().join("whole");
    run_into(&file, &whole, &[]);
    let s0 = tmp.path().join("s0");
    let s1 = tmp.path().join("s1");
    run_into(&file, &s0, &["--shard", "0/2"]);
    run_into(&file, &s1, &["--shard", "1/2"]);
    let merged = tmp.path().join("merged");
    rtsim()
        .args(["merge"])
        .arg(&s0)
        .arg(&s1)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same_files(&whole, &merged, &RESULT_FILES);
    // One shard alone does not cover the plan.
    rtsim()
        .args(["merge"])
        .arg(&s0)
        .arg("--out")
        .arg(tmp.path().join("partial"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("do not cover"));
}

/// The seed's headline: 100,000 clients polling every 3 s send about 33,000 requests/s
/// (N / (T + RTT + service) for after-response polling), nearly all of them empty.
#[test]
fn default_experiment_reproduces_the_headline() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("default");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    rtsim()
        .arg("run")
        .arg(root.join("experiments/00-default.toml"))
        .args([
            "--quiet",
            "--set",
            "techniques=[\"short-polling\"]",
            "--set",
            "duration=\"12s\"",
            "--set",
            "warmup=\"6s\"",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let get = |name: &str| -> f64 {
        let i = header.iter().position(|h| *h == name).unwrap();
        row[i].parse().unwrap()
    };
    assert_eq!(get("clients"), 100_000.0);
    // Mean RTT of the default log-normal (median 50 ms, σ 0.5) is 50·e^(σ²/2) = 56.7 ms.
    let expected = 100_000.0 / (3.0 + 0.0567 + 0.00005);
    let rate = get("requests_per_s");
    assert!(
        (rate - expected).abs() / expected < 0.01,
        "requests/s {rate}, expected {expected:.0} within 1 %"
    );
    assert!(get("empty_response_fraction") > 0.95);
    assert!(get("latency_max_s") > 2.9 && get("latency_max_s") < 3.5);
}

/// `rtsim run FOLDER` runs every lesson into `<out>/<name>/`; a rerun removes the files
/// the previous run wrote and this one did not (a `[[charts]]` taken out), and keeps
/// the files rtsim never wrote.
#[test]
fn a_folder_of_lessons_runs_into_one_folder_each_and_reruns_clean() {
    let tmp = TempDir::new().unwrap();
    let lessons = tmp.path().join("lessons");
    fs::create_dir(&lessons).unwrap();
    let chart = "\n[[charts]]\nx = \"clients\"\ny = \"requests_per_s\"\n";
    write(
        &lessons,
        "01-a.toml",
        &format!("{}{chart}", SMALL.replace("\"small\"", "\"a\"")),
    );
    write(&lessons, "02-b.toml", &SMALL.replace("\"small\"", "\"b\""));
    let sized = "name = \"s\"\n[workload]\nclients = 100\n[target]\nlatency_p99 = \"1s\"\n";
    write(&lessons, "03-sizing.toml", sized);
    let out = tmp.path().join("course");
    let run_course = || {
        rtsim()
            .arg("run")
            .arg(&lessons)
            .args(["--out"])
            .arg(&out)
            .args(["--jobs", "2", "--quiet"])
            .assert()
            .success()
    };
    run_course().stderr(predicate::str::contains("03-sizing.toml: skipped"));
    for name in ["a", "b"] {
        assert!(out.join(name).join("results.csv").is_file(), "{name}");
        assert!(out.join(name).join("claims.json").is_file(), "{name}");
    }
    assert!(!out.join("s").exists(), "sizing inputs are not run");
    assert!(out.join("a/charts/custom-1.png").is_file());
    // The user's own files, beside and inside charts/.
    fs::write(out.join("a/notes.txt"), "mine").unwrap();
    fs::write(out.join("a/charts/my-drawing.svg"), "<svg/>").unwrap();
    // The chart is taken out of the lesson: its picture must go with it.
    write(&lessons, "01-a.toml", &SMALL.replace("\"small\"", "\"a\""));
    run_course();
    assert!(
        !out.join("a/charts/custom-1.png").exists(),
        "stale chart left behind"
    );
    assert!(
        !out.join("a/charts/custom-1.svg").exists(),
        "stale chart left behind"
    );
    assert_eq!(fs::read_to_string(out.join("a/notes.txt")).unwrap(), "mine");
    assert!(out.join("a/charts/my-drawing.svg").is_file());
    let manifest = fs::read_to_string(out.join("a/.rtsim-files")).unwrap();
    assert!(manifest.lines().any(|l| l == "results.csv"), "{manifest}");
    assert!(manifest.lines().any(|l| l == "report.html"), "{manifest}");
    // The course's index links each lesson's report.
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("href=\"a/report.html\""), "{index}");
    assert!(index.contains("href=\"b/report.html\""), "{index}");
    assert!(!manifest.contains("notes.txt"), "{manifest}");
}
