//! rtsim-live: the simulator measured against real sockets.
//!
//! A reference server that speaks the four techniques exactly as the model describes them
//! (`server.rs`), a load generator that plays the simulator's own clients and update times
//! against it (`client.rs`) through an in-process delaying relay that counts bytes
//! (`relay.rs`), in TLS when the experiment asks for it (`tls.rs`), and `validate`, which puts the measured figures beside the simulated ones
//! with a tolerance per metric (`validate.rs`, `tolerances.toml`). Everything listens and
//! connects on 127.0.0.1 only, every loop is bounded by the run's deadline, and every task
//! stops by itself.
//!
//! This is a workspace member of its own so that the simulator's binary never links tokio:
//! the `rtsim` binary runs the `rtsim-live` executable beside it for `rtsim validate`, and
//! the root package's tests reach this library as a dev-dependency (ARCHITECTURE.md).

pub mod books;
pub mod calibrate;
pub mod client;
pub mod clock;
pub mod plan;
pub mod preset;
pub mod procfs;
pub mod relay;
pub mod run;
pub mod server;
pub mod tls;
pub mod validate;
pub mod wire;

/// The soft limit on open file descriptors (`ulimit -n`) of this process.
pub fn fd_limit() -> Option<u64> {
    fd_limit_of("self")
}

/// The soft limit on open file descriptors of process `pid` (`"self"` for this one), read
/// from `/proc/PID/limits`.
pub fn fd_limit_of(pid: &str) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// Raises this process's soft limit on open file descriptors to its hard limit (what
/// `ulimit -n $(ulimit -Hn)` does in a shell; no privilege needed), so that K = 5,000
/// connections fit where the soft limit is the usual 1,024. Processes started from here
/// inherit it. Returns the soft limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    // SAFETY: getrlimit and setrlimit read and write the one struct passed, which lives on
    // this stack frame for the whole call.
    #[allow(unsafe_code)]
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    fd_limit()
}

/// The hard limit on open file descriptors of this process (`ulimit -Hn`).
pub fn fd_hard_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let hard = line.split_whitespace().nth(4)?;
    if hard == "unlimited" {
        Some(u64::MAX)
    } else {
        hard.parse().ok()
    }
}
