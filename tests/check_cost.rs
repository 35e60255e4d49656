//! `rtsim check` tells the cost of a plan in time and memory (issue #13, item 6): an
//! estimated wall time, stated as an estimate, and the memory of the workers the run
//! would get against the memory available. The refusal itself is tested with a given
//! amount of memory in `src/cli/cost.rs` (this machine's memory is not the test's).

use assert_cmd::Command;

#[test]
fn check_prints_wall_time_and_memory_for_the_jobs() {
    let out = Command::cargo_bin("rtsim")
        .unwrap()
        .args(["check", "experiments/00-default.toml", "--jobs", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let wall = text
        .lines()
        .find(|l| l.starts_with("estimated wall time: ~"))
        .expect("a wall-time line");
    assert!(wall.contains("with 1 worker (an estimate"), "{wall}");
    let memory = text
        .lines()
        .find(|l| l.starts_with("estimated memory: ~"))
        .expect("a memory line");
    assert!(memory.contains("for 1 worker;"), "{memory}");
    if cfg!(target_os = "linux") {
        assert!(memory.contains("available (MemAvailable)"), "{memory}");
    }
    assert_eq!(text.lines().last(), Some("ok"), "{text}");
}

#[test]
fn check_says_not_ok_for_a_run_over_the_budget() {
    let out = Command::cargo_bin("rtsim")
        .unwrap()
        .args([
            "check",
            "experiments/00-default.toml",
            "--jobs",
            "1",
            "--set",
            "duration=\"100h\"",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("note: a short-polling run would take"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("not ok: `run` refuses"),
        "{text}"
    );
}
