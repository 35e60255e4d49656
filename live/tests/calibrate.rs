//! `rtsim-live calibrate` against the reference server (`rtsim-live serve`), and its
//! clear refusals: nothing listening, a 404, a PID that is not the server (or no process
//! at all), K beyond the limit on open files. Nothing is written when it fails.
//!
//! `memory_per_connection_agrees_with_proc` runs calibrate on the reference server (a
//! fresh `rtsim-live serve` per memory figure, as the method requires) with K = 1,000 and
//! K = 5,000, then measures the same figure independently: a server of its own, K plain
//! blocking sockets (no tokio, no hyper) each carrying one short poll, and the server's
//! resident set read from `/proc/PID/smaps_rollup` (exact, page by page), where calibrate
//! reads `VmRSS` from `/proc/PID/status` (the kernel's running counters). The two must
//! agree within 10 %. The K = 1,000 preset then goes back into the simulator: `validate`
//! with it (a short SSE and WebSocket run on real sockets) must pass every check of the
//! tolerance table.
//!
//! Every server started here stops by itself (`--lifetime`) and is killed when its test
//! ends; every wait is bounded.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rtsim-live");

/// A free port on 127.0.0.1 (bound, then released), never the same one twice in this
/// process: the tests run in parallel, and the kernel may hand a released port out again.
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The reference server, killed on drop.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The command line of a reference server on `port` that stops by itself.
fn serve_command(port: u16) -> String {
    format!("{BIN} serve --port {port} --clients 10000 --lifetime 3min")
}

/// The reference server on a free port, and the port. A released port can be taken
/// (by another test's server, or as the local port of one of the K client connections)
/// before the server binds it: then the server exits, and another port is tried — a
/// connect alone could reach someone else's listener.
fn serve() -> (Serve, u16) {
    for _ in 0..5 {
        let port = free_port();
        let command = serve_command(port);
        let mut words = command.split_whitespace();
        let mut child = Command::new(words.next().unwrap())
            .args(words)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let listening = loop {
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Listening, and still alive a moment later: the listener is ours.
                std::thread::sleep(Duration::from_millis(200));
                break child.try_wait().unwrap().is_none();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "serve never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if listening {
            return (Serve(child), port);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("serve could not bind a free port in 5 tries");
}

/// `rtsim-live calibrate test-server --models MODELS ARGS`, bounded by a minute.
fn calibrate(models: &Path, args: &[&str]) -> Output {
    let mut all = vec!["test-server", "--models", models.to_str().unwrap()];
    all.extend_from_slice(args);
    calibrate_within(&all, Duration::from_secs(60))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn nothing_listening_is_a_clear_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = calibrate(
        dir.path(),
        &[
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--pid",
            &std::process::id().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing listens on 127.0.0.1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_server_that_answers_404_a_wrong_pid_and_too_large_a_k_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = serve();
    let url = format!("http://127.0.0.1:{port}");
    let pid = server.0.id().to_string();

    let not_found = calibrate(
        dir.path(),
        &["--url", &url, "--pid", &pid, "--sse-path", "/nope/{i}"],
    );
    assert_eq!(not_found.status.code(), Some(1));
    let e = stderr(&not_found);
    assert!(e.contains("404") && e.contains("--sse-path"), "{e}");

    let me = std::process::id().to_string();
    let wrong_pid = calibrate(dir.path(), &["--url", &url, "--pid", &me]);
    assert_eq!(wrong_pid.status.code(), Some(1));
    let e = stderr(&wrong_pid);
    assert!(
        e.contains("does not hold the socket listening on port"),
        "{e}"
    );

    let too_many = calibrate(
        dir.path(),
        &["--url", &url, "--pid", &pid, "--k", "100000000"],
    );
    assert_eq!(too_many.status.code(), Some(2));
    assert!(
        stderr(&too_many).contains("ulimit -Hn"),
        "{}",
        stderr(&too_many)
    );

    let remote = calibrate(dir.path(), &["--url", "http://10.0.0.1:80", "--pid", &pid]);
    assert_eq!(remote.status.code(), Some(2));
    assert!(
        stderr(&remote).contains("127.0.0.1 or localhost only"),
        "{}",
        stderr(&remote)
    );

    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// Runs `rtsim-live calibrate ARGS`, killed if it has not finished in `limit`.
fn calibrate_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .arg("calibrate")
        .args(args)
        .arg("--quiet")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rtsim-live calibrate starts");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("calibrate did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// A `"12345B"` figure of a preset, in bytes.
fn bytes_of(preset: &toml::Table, key: &str) -> f64 {
    let text = preset[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string"));
    text.strip_suffix('B')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} = {text:?} is not in bytes"))
}

/// The exact resident set of `pid` (`Rss:` in `/proc/PID/smaps_rollup`), in bytes.
fn smaps_rss(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let kb: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Rss:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("an Rss line");
    kb * 1024.0
}

/// One connection to the reference server with one request answered; `accept` asks for
/// an event stream (whose answer does not end: only its head is read).
fn connection(port: u16, path: &str, accept: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let accept = accept.map_or(String::new(), |a| format!("accept: {a}\r\n"));
    // One write: `write!` on the bare stream sends each piece of the format as its own
    // segment, and a request that arrives in pieces leaves the server holding more per
    // connection (12.3–13.7 kB against 11.65 kB whole, here and on CI) than calibrate's
    // clients, which send it whole, see.
    let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{accept}\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("an answer");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{path} answered 200");
    s
}

/// What `/proc` shows per connection: RSS delta over `k` connections opened by `open`, ÷ k,
/// after the same warm-up and settling time as calibrate's. Returns (baseline, per).
fn proc_per_connection(k: u32, open: impl Fn(u16, u32) -> TcpStream) -> (f64, f64) {
    let (server, port) = serve();
    for i in 0..8 {
        drop(connection(port, &format!("/poll/{i}?since=0"), None));
    }
    std::thread::sleep(Duration::from_millis(500));
    let before = smaps_rss(server.0.id());
    let held: Vec<TcpStream> = (0..k).map(|i| open(port, i)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let after = smaps_rss(server.0.id());
    drop(held);
    (before, (after - before) / f64::from(k))
}

/// Room for `k` connections in this process and in the servers it starts; `false` (with
/// a message) where the hard limit is too low, which CI does not accept.
fn room_for(k: u32) -> bool {
    let soft = rtsim_live::raise_fd_limit().unwrap_or(1024);
    if soft >= u64::from(k) + 256 {
        return true;
    }
    let msg = format!(
        "skipped: K = {k} connections need {} open files, and this process's hard limit \
         (ulimit -Hn) is {soft}",
        k + 256
    );
    assert!(std::env::var_os("CI").is_none(), "{msg} (CI must run it)");
    eprintln!("{msg}");
    false
}

/// Calibrates the reference server with `k` connections; returns the preset's text.
fn calibrate_reference(k: u32, models: &Path) -> String {
    let port = free_port();
    let out = calibrate_within(
        &[
            "reference",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--command",
            &serve_command(port),
            "--k",
            &k.to_string(),
            "--requests",
            "2000",
            "--models",
            models.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "calibrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(models.join("reference.toml")).expect("the preset is written")
}

#[test]
fn memory_per_connection_agrees_with_proc() {
    for k in [1_000, 5_000] {
        if !room_for(k) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let models = dir.path().join("models/servers");
        let text = calibrate_reference(k, &models);
        let preset: toml::Table = text.parse().expect("the preset is TOML");
        assert!(text.contains(&format!("K = {k}")), "{text}");
        assert!(
            text.contains("a fresh server process for each kind"),
            "{text}"
        );
        let measured = bytes_of(&preset, "memory_per_connection");
        // The median of three fresh servers: /proc's figure moves by a few percent with
        // the machine's load (always upwards: allocator arenas, late frees), calibrate's
        // does not, and one busy moment should not decide the test.
        let mut procs: Vec<f64> = (0..3)
            .map(|_| {
                proc_per_connection(k, |port, i| {
                    connection(port, &format!("/poll/{i}?since=0"), None)
                })
                .1
            })
            .collect();
        procs.sort_by(f64::total_cmp);
        let proc = procs[1];
        let diff = measured / proc - 1.0;
        eprintln!(
            "K = {k}: calibrate {measured:.0} B per keep-alive connection, /proc (smaps_rollup) {proc:.0} B: {:+.1} %",
            diff * 100.0
        );
        assert!(
            diff.abs() <= 0.10,
            "K = {k}: calibrate measured {measured:.0} B per connection, /proc shows {proc:.0} B ({:+.1} %)",
            diff * 100.0
        );
        for key in [
            "memory_per_request",
            "memory_per_stream",
            "request_cpu",
            "tcp_accept_cpu",
            "push_cpu",
            "base_memory",
        ] {
            assert!(preset.contains_key(key), "{key} is in the preset:\n{text}");
        }
        if k == 1_000 {
            preset_predicts_streams_and_validates(&preset, dir.path());
        }
    }
}

/// The preset back in the simulator: `validate` with it passes every check.
fn preset_predicts_streams_and_validates(preset: &toml::Table, dir: &Path) {
    // validate with the calibrated preset: SSE and WebSocket for 20 s on real sockets.
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/loopback.toml");
    let file = dir.join("calibrated.toml");
    std::fs::copy(&scenario, &file).unwrap();
    let set: Vec<String> = [
        "server.preset=\"reference\"",
        "techniques=[\"sse\",\"websocket\"]",
        "warmup=5s",
        "duration=15s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let exp = rtsim::experiment::load(&file, &set).expect("the calibrated preset loads");
    assert_eq!(
        exp.base.server.memory_per_connection as f64,
        bytes_of(preset, "memory_per_connection"),
        "the simulator reads the measured figure"
    );
    let limits = rtsim_live::plan::Limits::for_this_machine();
    let rows = rtsim_live::validate::run(&exp, &limits, &|m| eprintln!("{m}")).expect("it runs");
    let checks = rtsim_live::validate::tolerances(
        rtsim_live::validate::DEFAULT_TOLERANCES,
        "live/tolerances.toml",
    )
    .unwrap();
    let lines = rtsim_live::validate::compare(&rows, &checks);
    let table = rtsim_live::validate::table(&lines);
    eprintln!("{table}");
    assert!(rows.iter().all(|r| r.real.errors == 0), "{table}");
    assert!(lines.iter().all(|l| l.pass), "{table}");
}

#[test]
fn a_pid_of_no_process_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = serve();
    // pid_max is at most 2^22 on Linux: this PID cannot exist.
    let out = calibrate(
        dir.path(),
        &[
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--pid",
            "4194305",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no process 4194305 on this machine"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
