//! Every shipped lesson in `experiments/` stays valid and runnable.
//!
//! For each `experiments/*.toml`: `rtsim check` accepts it, and a quick run (a few
//! simulated seconds, 200 clients, one replication) writes a `results.csv` with one line
//! per planned row. The real runs are left to the reader: this test only shortens them,
//! it never stands in for them.
//!
//! The expected row count is computed here from the file itself, independently of the
//! simulator: Σ over techniques of (product of the shared sweep axes) × (product of that
//! technique's own axes), with `workload.clients` pinned by `--set` (which drops its axis).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// The quick mode: short, small, one replication. Every experiment must accept it.
const QUICK: [&str; 4] = [
    "duration=5s",
    "warmup=2s",
    "workload.clients=200",
    "replications=1",
];

/// Sweep keys the quick mode pins with `--set` (their axes disappear).
const PINNED: [&str; 1] = ["workload.clients"];

const ALL_TECHNIQUES: [&str; 4] = ["short-polling", "long-polling", "sse", "websocket"];

fn rtsim() -> Command {
    Command::cargo_bin("rtsim").expect("the rtsim binary")
}

fn experiments() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("experiments/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Rows the quick run of `file` must produce.
fn expected_rows(file: &Path) -> usize {
    let text = fs::read_to_string(file).expect("readable experiment");
    let doc: toml::Table = text.parse().expect("valid TOML");
    let techniques: Vec<String> = match doc.get("techniques") {
        Some(v) => v
            .as_array()
            .expect("techniques is an array")
            .iter()
            .map(|t| t.as_str().expect("technique name").to_string())
            .collect(),
        None => ALL_TECHNIQUES.iter().map(|t| t.to_string()).collect(),
    };
    let mut shared = 1;
    let mut own = vec![1; techniques.len()];
    if let Some(sweep) = doc.get("sweep").and_then(|s| s.as_table()) {
        for (key, values) in flatten(sweep, "") {
            if PINNED.contains(&key.as_str()) {
                continue;
            }
            let section = key.split_once('.').map_or("", |(s, _)| s);
            if ALL_TECHNIQUES.contains(&section) {
                if let Some(i) = techniques.iter().position(|t| t == section) {
                    own[i] *= values;
                }
            } else {
                shared *= values;
            }
        }
    }
    own.iter().map(|o| shared * o).sum()
}

/// `[sweep]` entries as (dotted key, number of values); dotted TOML keys nest tables.
fn flatten(table: &toml::Table, prefix: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => out.extend(flatten(t, &key)),
            toml::Value::Array(a) => out.push((key, a.len())),
            other => panic!("sweep `{key}` is not an array: {other}"),
        }
    }
    out
}

#[test]
fn every_experiment_has_a_description_and_passes_check() {
    let files = experiments();
    assert!(
        files.len() >= 9,
        "one experiment per lesson: found only {files:?}"
    );
    for file in &files {
        let doc: toml::Table = fs::read_to_string(file)
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let description = doc
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or_default();
        assert!(
            description.split_whitespace().count() >= 20,
            "{}: the description should state the question and what to look for",
            file.display()
        );
        rtsim()
            .arg("check")
            .arg(file)
            .assert()
            .success()
            .stdout(predicates::str::contains("ok"));
    }
}

#[test]
fn every_experiment_runs_in_quick_mode() {
    for file in experiments() {
        let tmp = TempDir::new().unwrap();
        let out = tmp.path().join("out");
        let mut cmd = rtsim();
        cmd.arg("run").arg(&file);
        for set in QUICK {
            cmd.args(["--set", set]);
        }
        cmd.args(["--quiet", "--jobs", "2", "--out"])
            .arg(&out)
            .assert()
            .success();
        let csv = fs::read_to_string(out.join("results.csv"))
            .unwrap_or_else(|e| panic!("{}: no results.csv: {e}", file.display()));
        let rows = csv.lines().count() - 1; // minus the header
        assert_eq!(
            rows,
            expected_rows(&file),
            "{}: rows in results.csv",
            file.display()
        );
        assert!(
            out.join("timeseries.csv").exists(),
            "{}: no timeseries.csv",
            file.display()
        );
    }
}
