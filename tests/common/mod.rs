//! What the command-line tests share: the binary under test, writing a file, the files
//! whose bytes a run's determinism is judged by, and the sizing tests' coarse search.

#![allow(dead_code)] // each test file uses its own subset

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `rtsim` binary cargo built for these tests.
pub fn rtsim() -> Command {
    Command::cargo_bin("rtsim").expect("binary")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write");
    path
}

/// The files that must be byte-identical between two runs of one experiment.
pub const RESULT_FILES: [&str; 6] = [
    "results.csv",
    "results.json",
    "table.md",
    "timeseries.csv",
    "experiment.toml",
    "report.html",
];

/// A coarser sizing search than the command's (5 % brackets, a 200-client pilot, one
/// worker), to keep the sizing tests quick under debug builds.
pub fn coarse_sizing_options() -> rtsim::sizing::Options {
    rtsim::sizing::Options {
        jobs: 1,
        tolerance: 0.05,
        pilot_clients: 200,
        ..rtsim::sizing::Options::default()
    }
}
