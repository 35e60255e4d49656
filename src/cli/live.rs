//! `rtsim validate` and `rtsim calibrate`: handed to the `rtsim-live` executable.
//!
//! Real sockets need an async runtime and an HTTP stack; the simulator does not, so they
//! live in a workspace member of their own (`live/`, package `rtsim-live`) and this binary
//! never links them. These commands run the `rtsim-live` found beside this executable
//! (or named by `RTSIM_LIVE`) with the same arguments, and exit with its status.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where `rtsim-live` is: `$RTSIM_LIVE`, or beside this executable.
fn live_executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RTSIM_LIVE") {
        return Some(PathBuf::from(path));
    }
    let me = std::env::current_exe().ok()?;
    let name = format!("rtsim-live{}", std::env::consts::EXE_SUFFIX);
    Some(me.parent()?.join(name))
}

/// Runs `rtsim-live <command> <args…>` and returns its exit status.
pub(super) fn run(command: &str, args: &[OsString]) -> ExitCode {
    let Some(path) = live_executable().filter(|p| p.is_file()) else {
        eprintln!(
            "error: `rtsim {command}` runs real sockets through the separate `rtsim-live` \
             executable, which is not built.\n  Build it beside rtsim with:  cargo build \
             --release -p rtsim-live\n  (or point RTSIM_LIVE at it)"
        );
        return ExitCode::from(super::EXIT_USAGE);
    };
    match std::process::Command::new(&path)
        .arg(command)
        .args(args)
        .status()
    {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1), // killed by a signal
        },
        Err(e) => {
            eprintln!("error: could not run {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}
