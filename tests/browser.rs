//! `report.html` in a real browser: Debian's headless Chromium, driven over the DevTools
//! protocol (a WebSocket on 127.0.0.1). The page must load with no console error (a
//! script, a blocked fetch, a parse error would log one), every chart and trace must be
//! laid out visible with a size, and a screenshot of the first chart must hold drawing
//! (not the blank background).
//!
//! Without Chromium the tests say they were skipped and why — unless
//! `RTSIM_REQUIRE_CHROMIUM=1` (set by `.ci/run`), where a missing browser fails them.
//! `RTSIM_CHROMIUM` names the executable if it is not `chromium` on the `PATH`.
//!
//! Every browser is killed when its handle drops (a failed assertion included), and every
//! wait is bounded by [`DEADLINE`].

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{rtsim, write};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Longest any step may take (start, load, evaluate, screenshot), on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// The browser to use, or why there is none (then the test is skipped, or fails in CI).
fn chromium() -> Option<PathBuf> {
    let required = std::env::var("RTSIM_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let named = std::env::var_os("RTSIM_CHROMIUM").map(PathBuf::from);
    if let Some(named) = named {
        return if named.is_file() {
            Some(named)
        } else if required {
            panic!("RTSIM_CHROMIUM={}: no such file", named.display())
        } else {
            eprintln!(
                "SKIPPED: RTSIM_CHROMIUM={} is no file, so report.html was not opened in a \
                 browser",
                named.display()
            );
            None
        };
    }
    let found = {
        ["chromium", "chromium-browser"].iter().find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
    };
    match found {
        Some(path) => Some(path),
        None if required => panic!(
            "RTSIM_REQUIRE_CHROMIUM=1 but no chromium on the PATH (nor RTSIM_CHROMIUM): \
             install it with `apt-get install -y chromium`"
        ),
        None => {
            eprintln!(
                "SKIPPED: no chromium on the PATH (nor RTSIM_CHROMIUM), so report.html was \
                 not opened in a browser; install it with `apt-get install -y chromium` \
                 (CI sets RTSIM_REQUIRE_CHROMIUM=1, where this fails instead)"
            );
            None
        }
    }
}

/// A headless Chromium and a DevTools connection to its one page; killed on drop.
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    /// Console errors, exceptions and error log entries seen so far.
    errors: Vec<String>,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole process group: Chromium's renderers and helpers too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn start(executable: &Path) -> Browser {
        let profile = TempDir::new().unwrap();
        let child = Command::new(executable)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--hide-scrollbars",
                "--window-size=1200,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", executable.display()));
        // From here the browser is killed on drop, whatever fails next.
        let mut browser = Browser {
            child,
            socket: unconnected(),
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        let port_file = browser._profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                break port;
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                panic!("chromium exited at start: {status}");
            }
            assert!(started.elapsed() < DEADLINE, "chromium did not start");
            std::thread::sleep(Duration::from_millis(100));
        };
        let page = loop {
            let list: Value = serde_json::from_str(&http_get(port, "/json/list")).unwrap();
            let page = list.as_array().and_then(|targets| {
                targets
                    .iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
            });
            if let Some(page) = page {
                break page;
            }
            assert!(started.elapsed() < DEADLINE, "chromium opened no page");
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let (socket, _) = tungstenite::client(page.as_str(), stream).unwrap();
        browser.socket = socket;
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(domain, json!({}));
        }
        browser
    }

    /// Sends a command and returns its result, noting the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(message.into()).unwrap();
        let started = Instant::now();
        loop {
            let reply = self.next_message();
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method}: {error}");
                }
                return reply["result"].clone();
            }
            assert!(started.elapsed() < DEADLINE, "{method}: no answer");
        }
    }

    /// Reads one message; an event that says something went wrong is kept in `errors`.
    fn next_message(&mut self) -> Value {
        let text = match self.socket.read().expect("DevTools connection") {
            tungstenite::Message::Text(t) => t.to_string(),
            _ => return Value::Null,
        };
        let m: Value = serde_json::from_str(&text).unwrap();
        let p = &m["params"];
        match m["method"].as_str() {
            Some("Runtime.consoleAPICalled")
                if matches!(p["type"].as_str(), Some("error" | "assert")) =>
            {
                self.errors
                    .push(format!("console.{}: {}", p["type"], p["args"]));
            }
            Some("Runtime.exceptionThrown") => {
                self.errors
                    .push(format!("exception: {}", p["exceptionDetails"]));
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", p["entry"]["text"]));
            }
            _ => {}
        }
        m
    }

    /// Opens `file` and waits for its load event; then lets late errors arrive.
    fn open(&mut self, file: &Path) {
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.call("Page.navigate", json!({"url": url}));
        let started = Instant::now();
        while self.next_message()["method"] != "Page.loadEventFired" {
            assert!(started.elapsed() < DEADLINE, "{url} did not load");
        }
        // A round trip after the load, so errors logged during it have arrived.
        self.evaluate("document.readyState");
    }

    /// The value of a JavaScript expression in the page (DevTools evaluates it even
    /// though the page's own policy forbids scripts).
    fn evaluate(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// A PNG screenshot of the page region `(x, y, width, height)` in CSS pixels,
    /// decoded to RGBA rows.
    fn screenshot(&mut self, clip: (f64, f64, f64, f64)) -> (u32, u32, Vec<u8>) {
        let (x, y, width, height) = clip;
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": x, "y": y, "width": width, "height": height, "scale": 1}}),
        );
        let bytes = data_encoding::BASE64
            .decode(r["data"].as_str().unwrap().as_bytes())
            .unwrap();
        let mut decoder = png::Decoder::new(bytes.as_slice());
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("screenshot in {other:?}"),
        };
        (info.width, info.height, rgba)
    }
}

/// A placeholder until the page's socket is open (never read from).
fn unconnected() -> tungstenite::WebSocket<TcpStream> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    tungstenite::WebSocket::from_raw_socket(stream, tungstenite::protocol::Role::Client, None)
}

/// `GET path` from the DevTools HTTP endpoint; the body (read to its `Content-Length`:
/// the endpoint keeps the connection open).
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return body.to_string();
            }
        }
        let n = stream.read(&mut chunk).unwrap();
        if n == 0 {
            return String::new();
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// A lesson with a sweep (so along-the-axis charts are drawn), a chart of its own, a
/// claim, and a description an attacker wrote.
const LESSON: &str = r#"
name = "browser <b>check</b>"
description = "Does it render? </p><script>console.error('injected')</script>"
seed = 5
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

[[claims]]
says = "SSE's p99 is below short polling's"
metric = "latency_p99_s"
techniques = ["sse"]
below_technique = "short-polling"
"#;

/// Share of pixels that differ from the region's most common colour (the background).
fn drawn_share(rgba: &[u8]) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for p in rgba.chunks(4) {
        *counts.entry([p[0], p[1], p[2]]).or_insert(0usize) += 1;
    }
    let total: usize = counts.values().sum();
    let background = counts.values().copied().max().unwrap_or(0);
    (total - background) as f64 / total.max(1) as f64
}

#[test]
fn the_report_renders_without_errors_and_every_chart_is_visible() {
    let Some(executable) = chromium() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let lessons = tmp.path().join("lessons");
    std::fs::create_dir(&lessons).unwrap();
    write(&lessons, "01-check.toml", LESSON);
    let out = tmp.path().join("course");
    rtsim()
        .arg("run")
        .arg(&lessons)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    let page = out.join("browser-b-check-b/report.html");
    assert!(page.is_file(), "no report at {}", page.display());

    let mut browser = Browser::start(&executable);
    browser.open(&page);
    assert!(browser.errors.is_empty(), "{:#?}", browser.errors);
    // The author's markup is text: no script element, the heading says it literally.
    assert_eq!(browser.evaluate("document.scripts.length"), json!(0));
    assert_eq!(
        browser.evaluate("document.querySelector('h1').textContent"),
        json!("browser <b>check</b>")
    );
    // Every chart and trace is laid out, visible, and at least 300 × 150 px.
    let figures = browser.evaluate(
        "Array.from(document.querySelectorAll('figure.chart svg, figure.trace svg')).map(s => {
            const r = s.getBoundingClientRect();
            const st = getComputedStyle(s);
            return {id: s.parentElement.id || s.parentElement.className,
                    x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height,
                    visible: st.visibility === 'visible' && st.display !== 'none'
                             && parseFloat(st.opacity) > 0};
        })",
    );
    let figures = figures.as_array().unwrap();
    let charts = std::fs::read_to_string(page.with_file_name("charts/index.json")).unwrap();
    let drawn = serde_json::from_str::<Value>(&charts).unwrap();
    assert_eq!(
        figures.len(),
        drawn.as_array().unwrap().len() + 4,
        "every chart plus a trace per technique: {figures:#?}"
    );
    for f in figures {
        assert!(f["visible"] == true, "hidden: {f}");
        assert!(
            f["w"].as_f64().unwrap() >= 300.0 && f["h"].as_f64().unwrap() >= 150.0,
            "too small to read: {f}"
        );
    }
    // A screenshot of the first chart is a drawing, not the background: axes, text and
    // lines cover a few per cent of it (a blank SVG or a broken image covers none).
    let first = &figures[0];
    let clip = (
        first["x"].as_f64().unwrap(),
        first["y"].as_f64().unwrap(),
        first["w"].as_f64().unwrap(),
        first["h"].as_f64().unwrap(),
    );
    let (w, h, rgba) = browser.screenshot(clip);
    assert!(w >= 300 && h >= 150, "{w} × {h}");
    let share = drawn_share(&rgba);
    assert!(
        share > 0.02,
        "the first chart's screenshot is {:.2} % drawn: blank",
        share * 100.0
    );
    // The technique colours are there (short polling's orange, E69F00, within a margin
    // for anti-aliasing).
    let orange = rgba.chunks(4).filter(|p| {
        p[0].abs_diff(0xE6) < 24 && p[1].abs_diff(0x9F) < 24 && p[2].abs_diff(0x00) < 24
    });
    assert!(
        orange.count() > 20,
        "no short-polling line in the first chart"
    );

    // The course's index opens cleanly too.
    browser.open(&out.join("index.html"));
    assert!(browser.errors.is_empty(), "{:#?}", browser.errors);
    assert_eq!(
        browser.evaluate("document.querySelectorAll('ol.lessons a').length"),
        json!(1)
    );
}

/// The check above can fail: a page whose script the policy blocks, and one that logs an
/// error, are both caught.
#[test]
fn the_console_check_catches_an_error() {
    let Some(executable) = chromium() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let blocked = write(
        tmp.path(),
        "blocked.html",
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">\
         <p>x</p><script>document.title = 'ran'</script>",
    );
    let logs = write(
        tmp.path(),
        "logs.html",
        "<!DOCTYPE html><p>x</p><script>console.error('broken')</script>",
    );
    let mut browser = Browser::start(&executable);
    browser.open(&blocked);
    assert!(!browser.errors.is_empty(), "a blocked script went unseen");
    browser.errors.clear();
    browser.open(&logs);
    assert!(
        browser.errors.iter().any(|e| e.contains("broken")),
        "{:#?}",
        browser.errors
    );
}
