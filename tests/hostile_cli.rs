//! The command line and its files against a hostile user (issue #19): every case ends in
//! a result or a clean error, quickly.
//!
//! - plans: a 10^5-value sweep axis is planned or refused without quadratic work;
//! - names are not paths: `name = "/abs"`, `".."`, `"../x"` stay inside `output/`;
//! - output folders: checked before simulating, replaced as a whole (no stale file
//!   survives), and a kill at any moment leaves the old results or the new ones;
//! - every command validates what it reads: `[[charts]]` columns, `results.csv` cells,
//!   shard files, a path that is not a results folder;
//! - small ones: a closed stdout, `--jobs` beyond reason, invalid UTF-8, range messages.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use tempfile::TempDir;

mod common;
use common::{RESULT_FILES, rtsim, write};

/// A run of well under a second.
const TINY: &str = r#"
name = "tiny"
seed = 3
duration = "5s"
warmup = "1s"
techniques = ["sse", "short-polling"]

[workload]
clients = 20
rate = 0.5
"#;

/// A chart of its own, so its output has files [`TINY`]'s has not.
const TINY_CHART: &str = "\n[[charts]]\nx = \"clients\"\ny = \"requests_per_s\"\n";

fn run_into(file: &Path, out: &Path) {
    rtsim()
        .args([
            "run",
            path(file),
            "--out",
            path(out),
            "--quiet",
            "--jobs",
            "1",
        ])
        .assert()
        .success();
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Every file under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

// ------------------------------------------------------------------- plans

/// `[sweep] "workload.clients" = [1, 2, …, n]`.
fn long_axis(n: usize, techniques: &str) -> String {
    let values: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    format!(
        "name = \"big\"\ntechniques = {techniques}\n[sweep]\n\"workload.clients\" = [{}]\n",
        values.join(", ")
    )
}

#[test]
fn a_sweep_of_100000_values_is_refused_or_planned_without_quadratic_work() {
    // Four techniques: 4 × 10^5 rows, over the row limit: refused (this took minutes
    // when each value was compared with every earlier one).
    let all = r#"["short-polling", "long-polling", "sse", "websocket"]"#;
    let err = rtsim::experiment::load_str("big.toml", &long_axis(100_000, all), &[])
        .expect_err("over the row limit")
        .to_string();
    assert!(err.contains("the sweep is too large"), "{err}");
    // A duplicate at the very end is still found.
    let mut text = long_axis(100_000, all);
    text = text.replace("100000]", "100000, 99999]");
    let err = rtsim::experiment::load_str("big.toml", &text, &[])
        .expect_err("duplicate")
        .to_string();
    assert!(err.contains("duplicate value"), "{err}");
}

#[test]
fn a_sweep_of_100000_rows_is_planned() {
    let exp = rtsim::experiment::load_str("big.toml", &long_axis(100_000, r#"["sse"]"#), &[])
        .expect("within the row limit");
    assert_eq!(exp.plan().rows.len(), 100_000);
}

// ------------------------------------------------------------------- output folders

#[test]
fn a_name_never_leaves_output() {
    let tmp = TempDir::new().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    let abs = tmp.path().join("abs");
    for (name, folder) in [
        (abs.display().to_string(), abs.display().to_string()),
        ("..".to_string(), "experiment".to_string()),
        ("../x".to_string(), "x".to_string()),
    ] {
        let text = TINY.replace("name = \"tiny\"", &format!("name = {name:?}"));
        let file = write(tmp.path(), "named.toml", &text);
        rtsim()
            .current_dir(&work)
            .args(["run", path(&file), "--quiet", "--jobs", "1"])
            .assert()
            .success();
        let slug = folder.trim_start_matches('/').replace('/', "-");
        let out = work.join("output").join(&slug);
        assert!(
            out.join("results.csv").is_file(),
            "{name}: {}",
            out.display()
        );
    }
    // Nothing beside `output/` in the working folder, nothing at the absolute path, no
    // `x` next to it.
    let entries: Vec<_> = fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("output")]);
    assert!(!abs.exists());
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn an_output_path_that_is_a_file_fails_before_simulating() {
    let tmp = TempDir::new().unwrap();
    // A run that would take minutes: failing fast proves nothing was simulated.
    let file = write(
        tmp.path(),
        "heavy.toml",
        "name = \"heavy\"\nduration = \"3600s\"\n[workload]\nclients = 1000000\n",
    );
    let target = write(tmp.path(), "a-file", "keep me");
    rtsim()
        .args(["run", path(&file), "--out", path(&target), "--quiet"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a folder"));
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    // Inside a file: the folder cannot be created.
    rtsim()
        .args(["run", path(&file), "--out"])
        .arg(target.join("sub"))
        .arg("--quiet")
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot create"));
    // A folder of the user's own is not replaced.
    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).unwrap();
    write(&mine, "notes.txt", "mine");
    rtsim()
        .args(["run", path(&file), "--out", path(&mine), "--quiet"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an rtsim output folder"));
    assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn a_run_replaces_its_folder_whole() {
    let tmp = TempDir::new().unwrap();
    let with_chart = write(tmp.path(), "a.toml", &format!("{TINY}{TINY_CHART}"));
    let without = write(tmp.path(), "b.toml", TINY);
    let out = tmp.path().join("out");
    run_into(&with_chart, &out);
    assert!(out.join("charts/custom-1.png").is_file());
    // A file the user put there is not rtsim's: it survives (only files rtsim wrote,
    // listed in `.rtsim-files`, are replaced).
    write(&out, "notes.txt", "mine");
    run_into(&without, &out);
    let files = listing(&out);
    assert!(!files.iter().any(|f| f.contains("custom-1")), "{files:?}");
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert!(files.contains(&"results.csv".to_string()));
}

/// Runs alternating between two experiments into one folder, each killed (SIGKILL)
/// after a different short delay: after every kill the folder is absent or equals one
/// of the two complete outputs, file set and bytes; never a mix. The next complete run
/// leaves no leftover beside it.
#[test]
fn a_kill_at_any_moment_leaves_old_or_new_results_never_a_mix() {
    let tmp = TempDir::new().unwrap();
    let files = [
        write(tmp.path(), "a.toml", &format!("{TINY}{TINY_CHART}")),
        write(tmp.path(), "b.toml", &TINY.replace("seed = 3", "seed = 4")),
    ];
    let references: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let out = tmp.path().join(format!("ref{i}"));
            run_into(f, &out);
            out
        })
        .collect();
    let snapshot = |dir: &Path| -> (Vec<String>, Vec<Vec<u8>>) {
        let mut names = listing(dir);
        names.retain(|n| n != "timing.json");
        let bytes = RESULT_FILES
            .iter()
            .map(|f| fs::read(dir.join(f)).unwrap_or_default())
            .collect();
        (names, bytes)
    };
    let expected: Vec<_> = references.iter().map(|r| snapshot(r)).collect();
    assert_ne!(expected[0], expected[1]);

    let out = tmp.path().join("out");
    let started = Instant::now();
    let mut kills = 0;
    for i in 0..40u64 {
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
        let mut child = Process::new(env!("CARGO_BIN_EXE_rtsim"))
            .args(["run", path(&files[(i % 2) as usize]), "--out", path(&out)])
            .args(["--quiet", "--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis((i * 37) % 250));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        if out.exists() {
            let got = snapshot(&out);
            assert!(
                expected.contains(&got),
                "after run {i}: a mix of old and new: {:?}",
                got.0
            );
        }
    }
    assert!(kills > 0, "no run was killed before it finished");
    run_into(&files[0], &out);
    assert_eq!(snapshot(&out), expected[0]);
    let beside: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out."))
        .collect();
    assert!(beside.is_empty(), "leftovers: {beside:?}");
}

// ------------------------------------------------------------------- reading

#[test]
fn chart_columns_are_checked_before_simulating() {
    let tmp = TempDir::new().unwrap();
    let file = write(
        tmp.path(),
        "c.toml",
        &format!("{TINY}\n[[charts]]\nx = \"nope\"\ny = \"requests_per_s\"\n"),
    );
    rtsim()
        .args(["check", path(&file)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`charts.x`: no column `nope`"))
        .stderr(predicate::str::contains("c.toml:13:5"));
    let out = tmp.path().join("out");
    rtsim()
        .args(["run", path(&file), "--out", path(&out), "--quiet"])
        .assert()
        .code(2);
    assert!(!out.exists());
}

#[test]
fn results_read_back_are_checked_cell_by_cell() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    let good = tmp.path().join("good");
    run_into(&file, &good);
    let csv = fs::read_to_string(good.join("results.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cases = [
        ("latency_p99_s", "NaN", "not a finite number"),
        ("requests_per_s", "inf", "not a finite number"),
        ("latency_mean_s", "1e309", "not a finite number"),
        ("latency_p99_s", "-1", "negative"),
        ("deliveries", "-5", "negative"),
        ("clients", "0", "clients is 0"),
        ("replications", "0", "replications is 0"),
    ];
    for (n, (column, value, message)) in cases.into_iter().enumerate() {
        let bad = tmp.path().join(format!("bad{n}"));
        fs::create_dir(&bad).unwrap();
        for f in ["experiment.toml", "timeseries.csv"] {
            fs::copy(good.join(f), bad.join(f)).unwrap();
        }
        let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
        let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
        cells[col(column)] = value.to_string();
        lines[2] = cells.join(",");
        write(&bad, "results.csv", &(lines.join("\n") + "\n"));
        for command in ["table", "plot", "explain"] {
            rtsim()
                .args([command, path(&bad)])
                .assert()
                .code(2)
                .stderr(predicate::str::contains("results.csv"))
                .stderr(predicate::str::contains("line 3"))
                .stderr(predicate::str::contains(column))
                .stderr(predicate::str::contains(message));
        }
    }
}

#[test]
fn a_path_that_is_not_a_results_folder_is_an_error() {
    for source in ["/dev/null", "/no/such/folder"] {
        for command in ["table", "explain"] {
            rtsim()
                .args([command, source])
                .timeout(Duration::from_secs(30))
                .assert()
                .code(2)
                .stderr(predicate::str::contains(source));
        }
    }
}

#[test]
fn merge_checks_what_each_shard_says() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    let shard = tmp.path().join("s0");
    rtsim()
        .args([
            "run",
            path(&file),
            "--shard",
            "0/2",
            "--out",
            path(&shard),
            "--quiet",
        ])
        .assert()
        .success();
    let text = fs::read_to_string(shard.join("shard.json")).unwrap();
    let shard_json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(!shard_json["runs"].as_array().unwrap().is_empty());
    let first_id = shard_json["runs"][0]["id"].as_u64().unwrap();
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|j| j["rtsim_version"] = "9.9.9".into()),
            "written by rtsim 9.9.9",
        ),
        (
            Box::new(|j| j["shard"]["index"] = 5.into()),
            "shard 5/2 is not a shard",
        ),
        (
            Box::new(|j| j["shard"]["count"] = 0.into()),
            "shard 0/0 is not a shard",
        ),
        (
            Box::new(move |j| j["runs"][0]["id"] = (first_id ^ 1).into()),
            "the plan says",
        ),
        (
            Box::new(|j| j["runs"][0]["row"] = 1000.into()),
            "not in the experiment's plan",
        ),
    ];
    for (n, (mutate, message)) in cases.into_iter().enumerate() {
        let mut j = shard_json.clone();
        mutate(&mut j);
        let dir = tmp.path().join(format!("bad{n}"));
        fs::create_dir(&dir).unwrap();
        write(&dir, "shard.json", &j.to_string());
        rtsim()
            .args(["merge", path(&dir), "--out"])
            .arg(tmp.path().join(format!("merged{n}")))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

/// A change made to a good shard file.
type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

// ------------------------------------------------------------------- small ones

/// Runs `args` with stdout a pipe closed before anything is read.
fn with_closed_stdout(args: &[&str]) -> std::process::ExitStatus {
    let mut child = Process::new(env!("CARGO_BIN_EXE_rtsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    status
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    run_into(&file, &out);
    for args in [
        vec!["explain", path(&out)],
        vec!["table", path(&out)],
        vec!["check", path(&file)],
        vec!["trace", path(&file), "--clients", "2", "--until", "5s"],
        vec!["--help"],
        vec!["run", "--help"],
    ] {
        let status = with_closed_stdout(&args);
        assert!(
            matches!(status.code(), Some(0 | 141)),
            "{args:?}: {status:?}"
        );
    }
}

#[test]
fn jobs_are_capped_with_a_note() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    rtsim()
        .args(["run", path(&file), "--quiet", "--jobs", "10000", "--out"])
        .arg(tmp.path().join("out"))
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stderr(predicate::str::contains("note: --jobs 10000 capped at"));
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("latin1.toml");
    fs::write(&file, b"name = \"x\"\n# caf\xe9\n").unwrap();
    rtsim()
        .args(["check", path(&file)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("latin1.toml:2:6"))
        .stderr(predicate::str::contains("0xE9"));
}

#[test]
fn range_messages_say_the_keys_range() {
    for value in ["1000000000000", "-3"] {
        rtsim()
            .args(["check", "--set", &format!("workload.clients={value}")])
            .arg("experiments/00-default.toml")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("from 1 to 100,000,000"))
            .stderr(predicate::str::contains("4294967295").not());
    }
}
