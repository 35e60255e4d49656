//! Golden tests for `rtsim trace`: the message sequence of one client of each technique.
//!
//! Runs are deterministic, so the text diagrams are compared byte for byte with the
//! snapshots in `tests/snapshots/trace-<technique>[-<variant>].txt`. Variants:
//!
//! | variant | settings | what it must show |
//! |---|---|---|
//! | (none) | the reference values below, 20 s | SYN, TLS, `GET /messages?since=…`, `101 Switching Protocols`, `Accept: text/event-stream`, `id:`/`data:`, heartbeats, empty replies |
//! | `proxy` | proxy idle timeout 10 s, long-poll timeout 30 s, rare updates | the proxy's 504 to a held long poll; streams cut by the proxy |
//! | `heartbeat` | as `proxy`, with 5 s heartbeats (SSE, WebSockets) | heartbeats and pings keeping the stream alive |
//! | `disconnect` | the network drops about every 8 s | `Last-Event-ID` on the SSE reconnect |
//!
//! When a snapshot differs the test prints a line diff. After an intended change, rewrite
//! the snapshots with `RTSIM_UPDATE_SNAPSHOTS=1 cargo test --test trace` (refused when
//! `CI=true`) and review them with `git diff tests/snapshots`.
//!
//! The Mermaid and SVG renderings are checked for shape: one arrow line (or `<line>`) per
//! message of the text diagram, a Note per note, and well-formed SVG.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

const TECHNIQUES: [&str; 4] = ["short-polling", "long-polling", "sse", "websocket"];

/// The reference values: per-client updates at 0.2/s, a constant 50 ms RTT, TLS 1.3.
const EXPERIMENT: &str = r#"
name = "trace-golden"
description = "One client of each technique at the reference values."
seed = 1
duration = "20s"
warmup = "0s"
replications = 1
techniques = ["short-polling", "long-polling", "sse", "websocket"]

[workload]
clients = 1
pattern = "per-client"
rate = 0.2
arrivals = "poisson"
payload = "200B"

[network]
rtt = "50ms"
tls = "1.3"

[server]
preset = "event-loop"
instances = 1

[short-polling]
interval = "3s"

[long-polling]
timeout = "30s"

[sse]
heartbeat = "15s"

[websocket]
heartbeat = "25s"
"#;

const PROXY: [&str; 3] = [
    "network.proxy_idle_timeout=10s",
    "long-polling.timeout=30s",
    "workload.rate=0.05",
];
const HEARTBEAT: [&str; 5] = [
    "network.proxy_idle_timeout=10s",
    "long-polling.timeout=30s",
    "workload.rate=0.05",
    "sse.heartbeat=5s",
    "websocket.heartbeat=5s",
];
const DISCONNECT: [&str; 1] = ["network.disconnect_every=8s"];

struct Fixture {
    _dir: TempDir,
    file: PathBuf,
}

fn fixture() -> Fixture {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("trace-golden.toml");
    fs::write(&file, EXPERIMENT).expect("write experiment");
    Fixture { _dir: dir, file }
}

fn rtsim() -> Command {
    Command::cargo_bin("rtsim").expect("binary")
}

/// `rtsim trace FILE --technique T --set …` plus `extra` arguments; returns stdout.
fn trace(file: &Path, technique: &str, sets: &[&str], extra: &[&str]) -> String {
    let mut cmd = rtsim();
    cmd.arg("trace").arg(file).args(["--technique", technique]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.args(extra);
    let out = cmd.output().expect("run rtsim");
    assert!(
        out.status.success(),
        "rtsim trace {technique} {sets:?} {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("snapshots")
        .join(format!("{name}.txt"))
}

fn updating() -> bool {
    let want = std::env::var("RTSIM_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if want && ci {
        panic!(
            "RTSIM_UPDATE_SNAPSHOTS=1 is refused under CI=true: snapshots are reviewed, not regenerated, in CI"
        );
    }
    want
}

/// A line diff (longest common subsequence): `-` expected, `+` actual, ` ` both.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}

/// Compares `actual` with the stored snapshot `name` (or rewrites it when updating).
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if updating() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        eprintln!("updated {}", path.display());
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} is missing ({e}).\nCreate it with RTSIM_UPDATE_SNAPSHOTS=1 cargo test --test trace, then review it.\nOutput was:\n{actual}",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "trace differs from snapshot {}\n(- snapshot, + now)\n{}\nIf the change is intended: RTSIM_UPDATE_SNAPSHOTS=1 cargo test --test trace, then review git diff tests/snapshots",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// Message rows (arrows) and note rows of a text diagram.
fn rows(text: &str) -> (usize, usize) {
    let arrows = text
        .lines()
        .filter(|l| l.contains('├') || l.contains('┤'))
        .count();
    let notes = text.lines().filter(|l| l.contains('●')).count();
    (arrows, notes)
}

fn assert_shows(text: &str, what: &[&str], name: &str) {
    for w in what {
        assert!(text.contains(w), "{name} should show `{w}`:\n{text}");
    }
}

#[test]
fn reference_traces_match_snapshots() {
    let f = fixture();
    for t in TECHNIQUES {
        let text = trace(&f.file, t, &[], &[]);
        assert_snapshot(&format!("trace-{t}"), &text);
        assert_shows(
            &text,
            &[
                "client 0: RTT 50 ms",
                "SYN (TCP connect)",
                "TLS 1.3 ClientHello",
            ],
            t,
        );
    }
}

#[test]
fn reference_traces_show_each_protocol() {
    let f = fixture();
    let get = |t| trace(&f.file, t, &[], &[]);
    assert_shows(
        &get("short-polling"),
        &[
            "update id 0 created",
            "GET /messages?since=0",
            "[no update]",
            "[1 update: id 0]",
        ],
        "short polling",
    );
    assert_shows(
        &get("long-polling"),
        &[
            "update id 0 created",
            "GET /messages?since=1",
            "[1 update: id 0]",
        ],
        "long polling",
    );
    assert_shows(
        &get("sse"),
        &[
            "Accept: text/event-stream",
            "Content-Type: text/event-stream",
            "id: 0  data:",
            ": heartbeat",
        ],
        "SSE",
    );
    assert_shows(
        &get("websocket"),
        &[
            "Upgrade: websocket",
            "HTTP/1.1 101 Switching Protocols",
            "frame: update 0",
        ],
        "WebSockets",
    );
}

#[test]
fn proxy_traces_match_snapshots() {
    let f = fixture();
    for t in TECHNIQUES {
        let text = trace(&f.file, t, &PROXY, &[]);
        assert_snapshot(&format!("trace-{t}-proxy"), &text);
    }
    let lp = trace(&f.file, "long-polling", &PROXY, &[]);
    assert_shows(
        &lp,
        &[
            "proxy: idle timeout",
            "HTTP/1.1 504 Gateway Timeout [no update] (from the proxy)",
            "FIN (the proxy closes its connection to the server)",
            "proxy closes idle connections after 10 s",
        ],
        "long polling behind a 10 s proxy",
    );
    let sse = trace(&f.file, "sse", &PROXY, &[]);
    assert_shows(
        &sse,
        &[
            "proxy: idle timeout",
            "FIN (the proxy closes the idle connection)",
            "FIN (the proxy closes its connection to the server)",
            "connection lost",
        ],
        "SSE behind a 10 s proxy",
    );
}

#[test]
fn heartbeat_traces_match_snapshots() {
    let f = fixture();
    for t in ["sse", "websocket"] {
        let text = trace(&f.file, t, &HEARTBEAT, &[]);
        assert_snapshot(&format!("trace-{t}-heartbeat"), &text);
        assert!(
            !text.contains("proxy: idle timeout"),
            "5 s heartbeats keep a {t} stream open through a 10 s proxy:\n{text}"
        );
    }
    let ws = trace(&f.file, "websocket", &HEARTBEAT, &[]);
    assert_shows(&ws, &["ping", "pong"], "WebSockets with 5 s pings");
}

#[test]
fn disconnect_traces_match_snapshots() {
    let f = fixture();
    for t in TECHNIQUES {
        let text = trace(&f.file, t, &DISCONNECT, &[]);
        assert_snapshot(&format!("trace-{t}-disconnect"), &text);
        assert_shows(&text, &["network down for 2.0 s"], t);
    }
    let sse = trace(&f.file, "sse", &DISCONNECT, &[]);
    assert_shows(&sse, &["Last-Event-ID: "], "SSE reconnecting");
}

#[test]
fn mermaid_has_one_line_per_message() {
    let f = fixture();
    for (t, sets) in [
        ("long-polling", &PROXY[..]),
        ("sse", &DISCONNECT[..]),
        ("websocket", &HEARTBEAT[..]),
    ] {
        let text = trace(&f.file, t, sets, &[]);
        let mermaid = trace(&f.file, t, sets, &["--format", "mermaid"]);
        assert!(mermaid.starts_with("sequenceDiagram\n"), "{mermaid}");
        assert!(mermaid.contains("    participant Client\n"));
        assert!(mermaid.contains("    participant Server\n"));
        let arrows = mermaid.lines().filter(|l| l.contains("->>")).count();
        let notes = mermaid
            .lines()
            .filter(|l| l.trim_start().starts_with("Note over "))
            .count();
        assert_eq!((arrows, notes), rows(&text), "{t}:\n{mermaid}");
        assert!(mermaid.contains("Client->>Server: t=0.048s SYN (TCP connect)"));
        assert!(mermaid.contains("Server-->>Client: t=0.074s SYN-ACK"));
        for line in mermaid.lines().skip(1) {
            assert!(line.starts_with("    "), "indented: {line}");
            assert!(!line.contains(';'), "no statement separators: {line}");
        }
    }
}

/// A small XML well-formedness check: tags balance, attributes are quoted, `&` only
/// starts an entity.
fn check_xml(s: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#39;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "bare & in text: {}",
                &ent[..ent.len().min(20)]
            );
        }
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "< inside a tag: {tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(top, name.trim(), "</{name}> closes <{top}>");
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            let name = tag.split_whitespace().next().expect("tag name");
            stack.push(name.to_string());
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn svg_is_valid_with_one_arrow_per_message() {
    let f = fixture();
    let out_dir = TempDir::new().unwrap();
    for (t, sets) in [
        ("short-polling", &[][..]),
        ("long-polling", &PROXY[..]),
        ("sse", &DISCONNECT[..]),
        ("websocket", &HEARTBEAT[..]),
    ] {
        let text = trace(&f.file, t, sets, &[]);
        let path = out_dir.path().join(format!("{t}.svg"));
        let stdout = trace(
            &f.file,
            t,
            sets,
            &["--format", "svg", "--out", path.to_str().unwrap()],
        );
        assert!(stdout.is_empty(), "--out writes nothing to stdout");
        let svg = fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{t}");
        assert!(svg.trim_end().ends_with("</svg>"), "{t}");
        check_xml(&svg);
        let (arrows, notes) = rows(&text);
        assert_eq!(svg.matches("<line class=\"msg").count(), arrows, "{t}");
        assert_eq!(svg.matches("<circle class=\"note\"").count(), notes, "{t}");
        let lanes = if svg.contains(">proxy</text>") { 3 } else { 2 };
        assert_eq!(svg.matches("<line class=\"lane\"").count(), lanes);
        // A real XML parser, when one is at hand.
        if let Ok(out) = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])",
            ])
            .arg(&path)
            .output()
        {
            assert!(
                out.status.success(),
                "{t}: python's XML parser rejects the SVG: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn several_clients_are_labelled() {
    let f = fixture();
    let text = trace(&f.file, "sse", &[], &["--clients", "3"]);
    assert!(text.contains("SSE · 3 clients"), "{text}");
    assert!(text.contains("every client: RTT 50 ms"), "{text}");
    for c in ["c0", "c1", "c2"] {
        assert!(
            text.lines().any(|l| l.contains(&format!(" {c}  "))),
            "{c}:\n{text}"
        );
    }
    let mermaid = trace(
        &f.file,
        "sse",
        &[],
        &["--clients", "3", "--format", "mermaid"],
    );
    assert!(mermaid.contains("participant C2 as Client 2"), "{mermaid}");
}

#[test]
fn default_technique_is_the_experiments_first() {
    let f = fixture();
    let mut cmd = rtsim();
    let out = cmd.arg("trace").arg(&f.file).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Short polling · 1 client · 20 s simulated"),
        "{text}"
    );
}

#[test]
fn refuses_big_runs_and_unknown_techniques() {
    let f = fixture();
    for (args, needle) in [
        (&["--clients", "51"][..], "1 to 50 clients"),
        (&["--clients", "0"][..], "1 to 50 clients"),
        (&["--until", "11min"][..], "at most 10min"),
        (
            &["--technique", "carrier-pigeon"][..],
            "expected one of short-polling",
        ),
    ] {
        let out = rtsim()
            .arg("trace")
            .arg(&f.file)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn until_shortens_the_trace() {
    let f = fixture();
    let text = trace(&f.file, "short-polling", &[], &["--until", "5s"]);
    assert!(text.contains("5 s simulated"), "{text}");
    assert!(!text.contains(" 6.249 s"), "{text}");
}
