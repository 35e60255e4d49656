//! rtsim-live: the simulator measured against real sockets.
//!
//! A reference server that speaks the four techniques exactly as the model describes them
//! (`server.rs`), a load generator that plays the simulator's own clients and update times
//! against it (`client.rs`) through an in-process delaying relay that counts bytes
//! (`relay.rs`), and `validate`, which puts the measured figures beside the simulated ones
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
pub mod validate;
pub mod wire;

/// The soft limit on open file descriptors (`ulimit -n`), read from `/proc/self/limits`.
pub fn fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}
