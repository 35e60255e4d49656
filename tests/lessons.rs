//! Every lesson, run as written: its claims hold and it draws the chart of its question.
//!
//! `tests/experiments.rs` runs each lesson shortened; this one runs each as a student
//! would (full size, every replication — the lessons are sized to take seconds), so
//! a lesson whose text says something its numbers do not is a failing test, not a
//! surprise in class:
//!
//! - every `[[claims]]` of the lesson holds (`claims.json`), and every lesson but the
//!   sizing inputs makes at least one claim;
//! - its published rows are steady state: the run prints no start-up-transient warning
//!   (MSER-5, judged before any injected fault) and no note that it could not tell;
//! - for every swept key, some chart in `charts/index.json` has that key (or its
//!   results.csv column) on its x axis; a lesson without a sweep draws the trade-off
//!   table, which is its question;
//! - the README's images are what the code draws today.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

fn lessons() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("experiments/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // The file name, not the path: a checkout in a folder named after sizing
        // would otherwise lose every lesson.
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("sizing"))
        })
        .collect();
    files.sort();
    files
}

/// The swept keys of a lesson, as dotted paths.
fn swept(file: &Path) -> Vec<String> {
    let doc: toml::Table = fs::read_to_string(file).unwrap().parse().unwrap();
    let mut keys = Vec::new();
    fn walk(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(t, &key, out),
                _ => out.push(key),
            }
        }
    }
    if let Some(s) = doc.get("sweep").and_then(|s| s.as_table()) {
        walk(s, "", &mut keys);
    }
    keys
}

/// README images: (lesson file stem, chart file in its output, file in docs/img/).
const README_IMAGES: [(&str, &str, &str); 4] = [
    (
        "07-poll-interval",
        "latency-vs-interval.png",
        "latency-vs-interval.png",
    ),
    (
        "06-scale",
        "requests-vs-clients.png",
        "requests-vs-clients.png",
    ),
    (
        "05-sse-vs-websocket-chat",
        "custom-1.png",
        "chat-latency-p99.png",
    ),
    ("08-faults", "timeseries.png", "faults-timeseries.png"),
];

/// The results.csv column a swept key is drawn under (clients and the interval have
/// their own columns).
fn columns_of(key: &str) -> Vec<&str> {
    match key {
        "workload.clients" => vec![key, "clients"],
        "short-polling.interval" => vec![key, "poll_interval_s"],
        _ => vec![key],
    }
}

#[test]
fn every_lesson_keeps_its_claims_and_draws_its_question() {
    let files = lessons();
    assert!(files.len() >= 9, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let tmp = TempDir::new().unwrap();
        let out = tmp.path().join(&name);
        let ran = Command::cargo_bin("rtsim")
            .unwrap()
            .arg("run")
            .arg(file)
            .args(["--quiet", "--jobs", "2", "--out"])
            .arg(&out)
            .assert()
            .success();
        // Published rows are steady state: `rtsim run` says nothing about a transient, a
        // warm-up shorter than predicted, or too few buckets to tell (these lines are
        // printed even with --quiet).
        let stderr = String::from_utf8_lossy(&ran.get_output().stderr).into_owned();
        for line in stderr.lines() {
            if line.contains("start-up transient")
                || line.contains("MSER-5 sees no transient")
                || line.contains("steady state not checked")
            {
                failures.push(format!("{name}: not steady state as published: {line}"));
            }
        }

        let claims: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("claims.json")).unwrap()).unwrap();
        let claims = claims.as_array().unwrap();
        if claims.is_empty() {
            failures.push(format!("{name}: makes no [[claims]]"));
        }
        for c in claims {
            if c["held"] != serde_json::Value::Bool(true) {
                failures.push(format!(
                    "{name}: claim does not hold: {} ({})",
                    c["says"], c["detail"]
                ));
            }
        }

        let index: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("charts/index.json")).unwrap())
                .unwrap();
        let charts = index.as_array().unwrap();
        for chart in charts {
            let stem = chart["stem"].as_str().unwrap();
            for ext in ["svg", "png"] {
                let f = out.join(format!("charts/{stem}.{ext}"));
                if !f.is_file() {
                    failures.push(format!("{name}: {} listed but missing", f.display()));
                }
            }
        }
        let keys = swept(file);
        if keys.is_empty() && !charts.iter().any(|c| c["stem"] == "tradeoff-table") {
            failures.push(format!("{name}: no sweep and no trade-off table"));
        }
        for key in &keys {
            let found = charts.iter().any(|c| {
                c["x"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| columns_of(key).contains(&x.as_str().unwrap()))
            });
            if !found {
                failures.push(format!("{name}: no chart along the swept key `{key}`"));
            }
        }
        // The README shows today's pictures (byte for byte: charts are deterministic).
        for (lesson, chart, image) in README_IMAGES {
            if lesson == name {
                let root = Path::new(env!("CARGO_MANIFEST_DIR"));
                let shown = fs::read(root.join("docs/img").join(image)).unwrap_or_default();
                if fs::read(out.join("charts").join(chart)).unwrap() != shown {
                    failures.push(format!(
                        "docs/img/{image} is older than the code that draws it: \
                         regenerate it (docs/img/README.md)"
                    ));
                }
            }
        }
        // The lesson's own [[charts]] are drawn (its question, in its words).
        let doc: toml::Table = fs::read_to_string(file).unwrap().parse().unwrap();
        let declared = doc
            .get("charts")
            .and_then(|c| c.as_array())
            .map_or(0, |a| a.len());
        let custom = charts
            .iter()
            .filter(|c| c["stem"].as_str().unwrap().starts_with("custom-"))
            .count();
        if declared != custom {
            failures.push(format!(
                "{name}: {declared} [[charts]] declared, {custom} drawn"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
