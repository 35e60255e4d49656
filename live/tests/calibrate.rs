//! `rtsim-live calibrate` against the reference server (`rtsim-live serve`), and its
//! clear refusals: nothing listening, a 404, a PID that is not the server, K beyond
//! `ulimit -n`. Nothing is written when it fails. Every server started here stops by
//! itself (`--lifetime`) and is killed when its test ends.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rtsim-live");

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The reference server, killed on drop.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(port: u16) -> Serve {
    let child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--lifetime", "3min"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Serve(child)
}

fn calibrate(models: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("calibrate")
        .arg("test-server")
        .args(["--quiet", "--models"])
        .arg(models)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn calibrates_the_reference_server_into_a_preset_rtsim_loads() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models/servers");
    let port = free_port();
    let command = format!("{BIN} serve --port {port} --lifetime 3min");
    let out = calibrate(
        &models,
        &[
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--command",
            &command,
            "--k",
            "1000",
            "--requests",
            "5000",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let preset = std::fs::read_to_string(models.join("test-server.toml")).unwrap();
    assert!(preset.contains("K = 1000"), "{preset}");
    assert!(
        preset.contains("a fresh server process for each kind"),
        "{preset}"
    );
    let bytes = |key: &str| -> f64 {
        let line = preset
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap();
        line.split('"')
            .nth(1)
            .unwrap()
            .trim_end_matches('B')
            .parse()
            .unwrap()
    };
    // hyper's per-connection buffers: a few KiB to a few tens of KiB, never zero.
    let per_connection = bytes("memory_per_connection");
    assert!(
        (1_000.0..100_000.0).contains(&per_connection),
        "{per_connection}"
    );
    // The preset is a server preset like the shipped ones.
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        "name = \"t\"\ntechniques = [\"sse\"]\n[server]\npreset = \"test-server\"\n",
    )
    .unwrap();
    let loaded = rtsim::experiment::load(&exp, &[]).expect("the measured preset loads");
    assert_eq!(
        loaded.base.server.memory_per_connection as f64,
        per_connection
    );
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
    let port = free_port();
    let server = serve(port);
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
        stderr(&too_many).contains("ulimit -n"),
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
