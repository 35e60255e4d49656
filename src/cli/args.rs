//! Command-line arguments as clap parses them (raw), before any file is read.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::runner::Shard;

#[derive(Parser, Debug)]
#[command(
    name = "rtsim",
    version,
    about = "Deterministic simulator of short polling, long polling, SSE and WebSockets",
    long_about = "rtsim simulates clients, servers, connections, CPU, memory and bytes on the \
wire for the four ways of getting fresh data to clients, and regenerates the classic \
trade-off table with measured numbers.",
    after_help = "Examples:\n  rtsim run experiments/default.toml\n  rtsim check experiments/polling-waste.toml\n  rtsim table output/default\n  rtsim trace experiments/default.toml --technique sse --until 20s"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an experiment: every technique × sweep point × replication.
    #[command(after_help = "Examples:\n  rtsim run experiments/default.toml\n  rtsim run experiments/scale.toml --jobs 2 --out /tmp/scale\n  rtsim run experiments/default.toml --set workload.clients=10000 --set replications=3\n  rtsim run experiments/scale.toml --shard 0/4 --out shards/0   # then: rtsim merge shards/*")]
    Run(RunArgs),
    /// Validate an experiment and print its plan (rows, runs, estimated work).
    #[command(after_help = "Example:\n  rtsim check experiments/default.toml --set workload.clients=1000000")]
    Check(CheckArgs),
    /// Print the trade-off table (Markdown) from a results folder, or by running a file.
    #[command(after_help = "Examples:\n  rtsim table output/default\n  rtsim table experiments/default.toml")]
    Table(TableArgs),
    /// Redraw the charts from DIR/results.csv and DIR/timeseries.csv (no simulation).
    #[command(after_help = "Example:\n  rtsim plot output/default")]
    Plot(PlotArgs),
    /// Merge shard folders (from `run --shard K/N`) into the files one run would write.
    #[command(after_help = "Example:\n  rtsim merge shards/0 shards/1 shards/2 shards/3 --out output/scale")]
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The experiment file (TOML).
    pub file: PathBuf,
    /// Output folder [default: output/<name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores]. Results are identical for any value.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Override a key: --set workload.clients=5000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// No progress bar and no table on stdout.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only shard K of N (runs are assigned by a hash of their parameters).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    pub file: PathBuf,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// A results folder (with results.csv) or an experiment file to run.
    pub source: PathBuf,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    pub dir: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard folders written by `rtsim run --shard K/N`.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder [default: output/<name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Output format of text reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Text,
    Markdown,
}
