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
    after_help = "Examples:\n  rtsim run experiments/00-default.toml\n  rtsim check experiments/01-polling-waste.toml\n  rtsim table output/default\n  rtsim trace experiments/00-default.toml --technique sse --until 20s"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an experiment: every technique × sweep point × replication.
    #[command(
        after_help = "Examples:\n  rtsim run experiments/00-default.toml\n  rtsim run experiments/06-scale.toml --jobs 2 --out /tmp/scale\n  rtsim run experiments/00-default.toml --set workload.clients=10000 --set replications=3\n  rtsim run experiments/06-scale.toml --shard 0/4 --out shards/0   # then: rtsim merge shards/*"
    )]
    Run(RunArgs),
    /// Validate an experiment and print its plan (rows, runs, estimated work).
    #[command(
        after_help = "Example:\n  rtsim check experiments/00-default.toml --set workload.clients=1000000"
    )]
    Check(CheckArgs),
    /// Print the trade-off table (Markdown) from a results folder, or by running a file.
    #[command(
        after_help = "Examples:\n  rtsim table output/default\n  rtsim table experiments/00-default.toml"
    )]
    Table(TableArgs),
    /// Redraw the charts from DIR/results.csv and DIR/timeseries.csv (no simulation).
    #[command(after_help = "Example:\n  rtsim plot output/default")]
    Plot(PlotArgs),
    /// Merge shard folders (from `run --shard K/N`) into the files one run would write.
    #[command(
        after_help = "Example:\n  rtsim merge shards/0 shards/1 shards/2 shards/3 --out output/scale"
    )]
    Merge(MergeArgs),
    /// Put every result beside its closed form: formula, numbers plugged in, predicted,
    /// simulated, difference, and why they differ when they do.
    #[command(
        after_help = "Examples:\n  rtsim explain experiments/00-default.toml\n  rtsim explain output/default --format markdown > explain.md"
    )]
    Explain(ExplainArgs),
    /// Size a deployment: per technique, instances needed, what runs out first, memory,
    /// bandwidth, monthly cost and max clients per instance at the [target].
    #[command(
        after_help = "Examples:\n  rtsim size experiments/10-sizing-notifications.toml\n  rtsim size experiments/09-sizing-chat.toml --jobs 2 --out /tmp/chat\n  rtsim size experiments/09-sizing-chat.toml --set workload.clients=500000"
    )]
    Size(SizeArgs),
    /// Print every message of a tiny run (one client, 20 s) as a sequence diagram.
    #[command(
        after_help = "Examples:\n  rtsim trace experiments/00-default.toml --technique sse\n  rtsim trace experiments/00-default.toml --technique long-polling --until 45s --set network.proxy_idle_timeout=10s\n  rtsim trace experiments/00-default.toml --technique websocket --format mermaid > ws.md\n  rtsim trace experiments/08-faults.toml --technique sse --clients 3 --format svg --out sse.svg"
    )]
    Trace(TraceArgs),
    /// Simulate an experiment and run it for real against the reference server at the same
    /// scale, on 127.0.0.1 through a delaying relay; print both side by side with a
    /// tolerance per metric and write validation.csv. Needs the separate `rtsim-live`
    /// executable: cargo build --release -p rtsim-live.
    #[command(
        after_help = "Options: --out DIR, --set PATH=VALUE, --tolerances FILE, --quiet (rtsim validate --help shows them once rtsim-live is built).\n\nExample:\n  rtsim validate live/experiments/loopback.toml --out output/validation",
        disable_help_flag = true
    )]
    Validate(LiveArgs),
    /// Measure a server running on this machine (memory per idle connection, held long
    /// poll, SSE stream and WebSocket; CPU per request, handshake and push; header sizes)
    /// and write models/servers/NAME.toml. Needs the separate `rtsim-live` executable:
    /// cargo build --release -p rtsim-live.
    #[command(
        after_help = "Options: NAME --url http://127.0.0.1:PORT (--pid PID | --command CMD) [--k 1000] [--requests 5000] [--sse-path P] [--ws-path P] [--poll-path P] [--hold-path P] [--publish-path P|none] [--models DIR] [--force] (rtsim calibrate --help shows them once rtsim-live is built).\n\nExample:\n  rtsim calibrate reference --url http://127.0.0.1:8080 --command \"target/release/rtsim-live serve --port 8080\"",
        disable_help_flag = true
    )]
    Calibrate(LiveArgs),
}

/// Arguments handed as they are to the `rtsim-live` executable.
#[derive(clap::Args, Debug)]
pub struct LiveArgs {
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The experiment file (TOML), or a folder of them: `rtsim run experiments/` runs
    /// every lesson into `<out>/<name>/` (inputs for `rtsim size`, with a `[target]`
    /// latency, are skipped).
    pub file: PathBuf,
    /// Output folder [default: output/<name>/; for a folder of lessons, output/].
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
    /// Run even if a run's estimated events or memory exceed the budget (10^10 events,
    /// 8 GiB per run).
    #[arg(long)]
    pub allow_large: bool,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    pub file: PathBuf,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Worker threads the run would use [default: all cores]: sets the wall-time and
    /// memory estimates.
    #[arg(long, short)]
    pub jobs: Option<usize>,
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

#[derive(clap::Args, Debug)]
pub struct SizeArgs {
    /// The experiment file (TOML), with a [target] section.
    pub file: PathBuf,
    /// Output folder for sizing.csv [default: output/<name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores]. Results are identical for any value.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// No progress bar, no progress lines and no table on stdout.
    #[arg(long, short)]
    pub quiet: bool,
    /// Override a key: --set workload.clients=5000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Run even if a run's estimated events or memory exceed the budget (10^10 events,
    /// 8 GiB per run).
    #[arg(long)]
    pub allow_large: bool,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The experiment file (TOML); its unswept scenario is traced.
    pub file: PathBuf,
    /// short-polling, long-polling, sse or websocket [default: the experiment's first].
    #[arg(long, short)]
    pub technique: Option<String>,
    /// Clients to trace (at most 50).
    #[arg(long, default_value_t = 1)]
    pub clients: u32,
    /// Simulated time to trace, from the start (no warm-up; at most 10min).
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub until: std::time::Duration,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a key: --set network.proxy_idle_timeout=10s (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Run even if a run's estimated events or memory exceed the budget (10^10 events,
    /// 8 GiB per run).
    #[arg(long)]
    pub allow_large: bool,
}

/// How `rtsim trace` draws the messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// A sequence diagram for the terminal.
    Text,
    /// A Mermaid sequenceDiagram to paste into Markdown.
    Mermaid,
    /// An SVG drawing with lanes and a time axis.
    Svg,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// A results folder (results.csv + experiment.toml) or an experiment file to run.
    pub source: PathBuf,
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

/// Output format of text reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Text,
    Markdown,
}
