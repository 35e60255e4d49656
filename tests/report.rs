//! `report.html`: every part is on the page, every chart inlined, hostile text shown
//! and never run, and the course's `index.html` for a folder run.

mod common;

use std::fs;
use std::path::Path;

use common::{rtsim, write};
use tempfile::TempDir;

/// A small lesson whose description, chart title and claim are hostile HTML.
const HOSTILE: &str = r#"
name = "hostile"
description = "Does </p><script>alert('description')</script> run? <img src=x onerror=alert(1)>"
seed = 3
duration = "10s"
warmup = "2s"
replications = 1

[workload]
clients = 20
rate = 0.5

[sweep]
"workload.clients" = [10, 20]

[[charts]]
x = "clients"
y = "requests_per_s"
title = "<script>alert('chart')</script> requests & more"

[[claims]]
says = "<script>alert('claim')</script>SSE beats short polling"
metric = "latency_p99_s"
techniques = ["sse"]
below_technique = "short-polling"
"#;

/// Runs `lesson` into `tmp/out` and returns the folder.
fn run(tmp: &Path, lesson: &str) -> std::path::PathBuf {
    let file = write(tmp, "lesson.toml", lesson);
    let out = tmp.join("out");
    rtsim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    out
}

/// The stems `charts/index.json` lists.
fn chart_stems(out: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("charts/index.json")).unwrap()).unwrap();
    index
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stem"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_report_has_every_part_and_runs_no_hostile_text() {
    let tmp = TempDir::new().unwrap();
    let out = run(tmp.path(), HOSTILE);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    // Nothing the author wrote became markup.
    assert!(!html.contains("<script"), "a script element on the page");
    assert!(!html.contains("<img"), "an img element on the page");
    for shown in [
        "&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;",
        "&lt;script&gt;alert(&#39;claim&#39;)&lt;/script&gt;",
    ] {
        assert!(html.contains(shown), "{shown} not shown as text");
    }
    // The chart title went through plotters' own escaping.
    assert!(html.contains("&lt;script&gt;alert("), "chart title");
    for id in [
        "question", "table", "charts", "warnings", "claims", "explain", "traces",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    // Every chart drawn is on the page, as inline SVG, in drawing order.
    let stems = chart_stems(&out);
    assert!(stems.contains(&"custom-1".to_string()), "{stems:?}");
    let mut at = 0;
    for stem in &stems {
        let figure = format!("<figure class=\"chart\" id=\"chart-{stem}\">\n<svg");
        let found = html[at..]
            .find(&figure)
            .unwrap_or_else(|| panic!("chart {stem} missing or out of order"));
        at += found + figure.len();
    }
    assert_eq!(html.matches("<figure class=\"chart\"").count(), stems.len());
    // A trace per technique, an explanation per row, the claim's verdict.
    assert_eq!(html.matches("<figure class=\"trace\">").count(), 4);
    let rows = fs::read_to_string(out.join("results.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(html.matches("<details class=\"verdict\">").count(), rows);
    assert!(html.contains("1 of 1 held.") || html.contains("0 of 1 held."));
    // The trade-off table: one line per technique.
    assert!(html.contains("<table class=\"tradeoff\">"));
    for t in ["Short polling", "Long polling", "SSE", "WebSockets"] {
        assert!(html.contains(&format!("<tr><td>{t}</td>")), "{t}");
    }
    // rtsim lists it among the files it wrote, so a rerun replaces it.
    let manifest = fs::read_to_string(out.join(".rtsim-files")).unwrap();
    assert!(manifest.lines().any(|l| l == "report.html"), "{manifest}");
}

#[test]
fn an_overloaded_run_says_so_on_the_page() {
    // 2,000 clients polling every 100 ms on one core that a request keeps busy 1 ms:
    // 20,000 requests/s against 1,000/s of capacity.
    let lesson = r#"
name = "overloaded"
seed = 1
duration = "6s"
warmup = "1s"
replications = 1
techniques = ["short-polling"]

[workload]
clients = 2000

[short-polling]
interval = "100ms"

[server]
cores = 1
request_cpu = "1ms"
"#;
    let tmp = TempDir::new().unwrap();
    let out = run(tmp.path(), lesson);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let warnings = &html[html.find("<section id=\"warnings\">").unwrap()..];
    let warnings = &warnings[..warnings.find("</section>").unwrap()];
    assert!(
        warnings.contains("overloaded, losing updates or with stalled tabs"),
        "{warnings}"
    );
    assert!(html.contains("no description"));
}

#[test]
fn a_course_index_is_not_written_over_a_page_of_the_users() {
    let tmp = TempDir::new().unwrap();
    let lessons = tmp.path().join("lessons");
    fs::create_dir(&lessons).unwrap();
    write(&lessons, "01.toml", HOSTILE);
    let out = tmp.path().join("course");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("index.html"), "<p>my own page</p>").unwrap();
    rtsim()
        .arg("run")
        .arg(&lessons)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success()
        .stderr(predicates::str::contains("was not written by rtsim"));
    assert_eq!(
        fs::read_to_string(out.join("index.html")).unwrap(),
        "<p>my own page</p>"
    );
    assert!(out.join("hostile/report.html").is_file());
    // Once the user's page is gone, the index is written, escaped, and rewritten after.
    fs::remove_file(out.join("index.html")).unwrap();
    for _ in 0..2 {
        rtsim()
            .arg("run")
            .arg(&lessons)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .assert()
            .success();
        let index = fs::read_to_string(out.join("index.html")).unwrap();
        assert!(index.contains("href=\"hostile/report.html\""), "{index}");
        assert!(!index.contains("<script"), "{index}");
    }
}
