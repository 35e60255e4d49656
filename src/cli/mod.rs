//! The command line: raw arguments (`args.rs`) → a loaded experiment → runner → reports.
//!
//! Errors in what the user gave (a bad file, a bad `--set`) print the full message with
//! file, line and column and exit with status 2; failures while writing exit with 1; an
//! interrupted run exits with 130 and writes nothing.
//!
//! The command line is where the layers meet: it asks the runner for rows, asks theory
//! to annotate them (the runner and the reports never call theory), hands both to the
//! reports, and owns the progress bar the runner reports to.

mod args;
mod cost;
mod findings;
mod live;
mod output;
mod steady;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::experiment::{self, Experiment, ExperimentError, Plan};
use crate::report::{self, Metadata, Results};
use crate::results::Row;
use crate::runner::{self, Completed, RunError, RunOptions, Shard};

pub use args::{Cli, Command};
/// What memory the system has available (Linux: `MemAvailable`) and what runs held at
/// once need: for the engine benchmark's refusal too.
pub use cost::{available_memory, memory_at_once};

/// `println!` that ends the command quietly (exit 141) when stdout's reader has gone,
/// where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {
        output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

// After `say!`, so that the commands' own files can use it.
mod check;
mod course;
mod explain;
mod shards;
mod size;
mod trace_cmd;

use self::check::check;
use self::course::run_folder;
use self::explain::explain;
use self::shards::{SHARD_FILE, merge, write_shard};
use self::size::size;
use self::trace_cmd::trace;

/// Exit status for bad input.
const EXIT_USAGE: u8 = 2;
/// Exit status for a run stopped by Ctrl-C (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;
/// Exit status when stdout's reader went away (128 + SIGPIPE, as a shell reports it).
const EXIT_CLOSED_PIPE: u8 = 141;

/// A failure with its exit status.
struct Failure {
    status: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            status: 1,
            error: e.into(),
        }
    }
}

impl Failure {
    /// What is printed: reports with a heading of their own (an experiment error with
    /// its snippet, an interruption) as they are, anything else as `error: …` with its
    /// causes.
    fn message(&self) -> String {
        if self.error.is::<ExperimentError>() || self.error.is::<Stopped>() {
            self.error.to_string()
        } else {
            format!("error: {:#}", self.error)
        }
    }
}

/// Bad input: exit status 2.
fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        status: EXIT_USAGE,
        error: error.into(),
    }
}

/// A run stopped by Ctrl-C before every run finished.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted: {finished} of {total} runs finished; nothing was written.\nRows that had finished:\n{}",
    if rows.is_empty() { "  (none)".to_string() } else { rows.join("\n") }
)]
struct Stopped {
    finished: usize,
    total: usize,
    /// Rows with every replication done, one line each.
    rows: Vec<String>,
}

/// The progress bar of a run: runs done out of all, simulated events per second of wall
/// time, and the time left. The runner reports to it from its worker threads.
struct Bar {
    bar: ProgressBar,
    started: Instant,
    events: AtomicU64,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}  ETA {eta}",
            )
            .expect("valid template"),
        );
        Bar {
            bar,
            started: Instant::now(),
            events: AtomicU64::new(0),
        }
    }
}

impl runner::Progress for Bar {
    fn started(&self, runs: usize) {
        self.bar.set_length(runs as u64);
    }

    fn finished_run(&self, events: u64) {
        let total = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let rate = total as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar
            .set_message(format!("{:.1} M events/s", rate / 1e6));
        self.bar.inc(1);
    }

    fn stopped(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => return live::run("validate", &a.args),
        Command::Calibrate(a) => return live::run("calibrate", &a.args),
        Command::Run(a) => run(a),
        Command::Check(a) => check(a),
        Command::Table(a) => table(a),
        Command::Plot(a) => plot(a),
        Command::Merge(a) => merge(a),
        Command::Explain(a) => explain(a),
        Command::Size(a) => size(a),
        Command::Trace(a) => trace(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.error.is::<output::ClosedPipe>() => ExitCode::from(EXIT_CLOSED_PIPE),
        Err(f) => {
            eprintln!("{}", f.message().trim_end());
            ExitCode::from(f.status)
        }
    }
}

/// Loads and validates an experiment, printing its warnings.
fn load(file: &Path, set: &[String]) -> Result<Experiment, Failure> {
    let exp = experiment::load(file, set).map_err(usage)?;
    for w in &exp.warnings {
        eprintln!("{w}");
    }
    Ok(exp)
}

/// What the reports say about a run besides its rows; `results` and `caveats` (computed
/// once by the caller, which prints them too) give the HTML report's findings
/// (warnings, verdicts, traces).
fn metadata(
    exp: &Experiment,
    plan: &Plan,
    wall_time_s: f64,
    results: &Results,
    caveats: &findings::Caveats,
) -> Metadata {
    Metadata {
        name: exp.name.clone(),
        description: exp.description.clone(),
        rtsim_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: exp.seed,
        replications: plan.replications,
        wall_time_s,
        resolved_experiment: exp.resolved_toml.clone(),
        sweep_keys: plan.sweep_keys.clone(),
        notes: Vec::new(),
        charts: exp.charts.clone(),
        marks: report::time_marks(&exp.base),
        claims: exp.claims.clone(),
        findings: findings::findings(plan, results, caveats, interrupt_flag()),
    }
}

/// Worker threads: `--jobs` (all cores by default), capped at the number of runs and of
/// cores, with a note when the flag asked for more (more threads than either only
/// costs time).
fn jobs(flag: Option<usize>, runs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores.min(runs).max(1);
    match flag {
        None | Some(0) => cap,
        Some(j) if j > cap => {
            eprintln!(
                "note: --jobs {j} capped at {cap} ({} runs, {cores} cores)",
                runs
            );
            cap
        }
        Some(j) => j,
    }
}

/// Runs in the plan (or in this shard of it).
fn run_count(plan: &Plan, shard: Option<Shard>) -> usize {
    runner::runs(plan, shard).len()
}

/// The rows (with their theory cells) and sweep keys of a finished run's `results.csv`.
fn read_rows(dir: &Path) -> Result<(Results, Vec<String>), Failure> {
    report::read_results_csv(&dir.join("results.csv")).map_err(usage)
}

/// What `table` and `explain` read when it is not a results folder: an experiment file
/// (a regular file). Anything else (`/dev/null`, a missing path, a socket) is an error,
/// not an empty experiment to run with every default.
fn source_file(path: &Path) -> Result<PathBuf, Failure> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else if path.exists() {
        Err(usage(anyhow!(
            "{}: neither a results folder nor an experiment file",
            path.display()
        )))
    } else {
        Err(usage(anyhow!(
            "{}: no such results folder or experiment file",
            path.display()
        )))
    }
}

/// The rows annotated with theory's predictions for each row's scenario.
fn annotate(plan: &Plan, rows: Vec<Row>) -> Results {
    let theory = crate::theory::annotate(plan.rows.iter().map(|p| &p.scenario));
    Results::new(rows, theory)
}

/// Runs an experiment file quietly and writes nothing (for commands that only show
/// results): its plan and its rows.
fn run_quietly(
    file: &Path,
    set: &[String],
    jobs_flag: Option<usize>,
) -> Result<(Plan, Vec<Row>), Failure> {
    let plan = load(file, set)?.plan();
    let completed = execute(&plan, jobs(jobs_flag, run_count(&plan, None)), true, None)?;
    let rows = runner::rows(&plan, &completed)?;
    Ok((plan, rows))
}

/// Refuses, before anything is allocated for them, scenarios whose estimated events or
/// memory exceed the run budget — unless `--allow-large`.
fn within_budget<'a>(
    scenarios: impl IntoIterator<Item = &'a crate::scenario::Scenario>,
    allow_large: bool,
) -> Result<(), Failure> {
    if allow_large {
        return Ok(());
    }
    for sc in scenarios {
        crate::sim::Budget::DEFAULT.admit(sc).map_err(usage)?;
    }
    Ok(())
}

/// Raised by Ctrl-C; the handler is installed on first use (one per process). The
/// simulation looks at it every 65,536 events, so a run stops within milliseconds.
fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let raised = flag.clone();
        let _ = ctrlc::set_handler(move || raised.store(true, Ordering::Relaxed));
        flag
    })
}

/// Runs the plan with a progress bar and Ctrl-C handling.
fn execute(
    plan: &Plan,
    jobs: usize,
    quiet: bool,
    shard: Option<Shard>,
) -> Result<Vec<Completed>, Failure> {
    if quiet {
        execute_with(plan, jobs, shard, &runner::Silent)
    } else {
        execute_with(plan, jobs, shard, &Bar::new())
    }
}

/// Runs the plan, reporting to `progress`, with Ctrl-C handling.
fn execute_with(
    plan: &Plan,
    jobs: usize,
    shard: Option<Shard>,
    progress: &dyn runner::Progress,
) -> Result<Vec<Completed>, Failure> {
    let interrupt = interrupt_flag();
    let options = RunOptions { jobs, shard };
    let outcome = runner::execute(plan, &options, interrupt, progress);
    outcome.map_err(|e| match e {
        // The scenario cannot be simulated as written: bad input.
        e @ RunError::Stuck { .. } => usage(e),
        RunError::Interrupted(stopped) => {
            let mut finished: Vec<usize> = stopped.completed.iter().map(|c| c.row).collect();
            finished.dedup();
            let rows = finished
                .into_iter()
                .filter(|&r| {
                    stopped.completed.iter().filter(|c| c.row == r).count()
                        == plan.replications as usize
                })
                .map(|r| {
                    let row = &plan.rows[r];
                    format!("  {} {}", row.technique, runner::describe_point(&row.sweep))
                })
                .collect();
            Failure {
                status: EXIT_INTERRUPTED,
                error: Stopped {
                    finished: stopped.completed.len(),
                    total: stopped.total_runs,
                    rows,
                }
                .into(),
            }
        }
        other => other.into(),
    })
}

fn write_timing(dir: &Path, wall_time_s: f64, completed: &[Completed]) -> anyhow::Result<()> {
    let events: f64 = completed.iter().map(|c| c.output.metrics.events).sum();
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "wall_time_s": wall_time_s,
        "runs": completed.len(),
        "events": events,
        "events_per_s": events / wall_time_s.max(1e-9),
    }))?;
    report::write_atomic(&dir.join("timing.json"), text.as_bytes())?;
    Ok(())
}

// ------------------------------------------------------------------- run

fn run(a: args::RunArgs) -> Result<(), Failure> {
    if a.file.is_dir() {
        return run_folder(a);
    }
    let exp = load(&a.file, &a.set)?;
    let plan = exp.plan();
    within_budget(plan.rows.iter().map(|r| &r.scenario), a.allow_large)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_out(&exp.name));
    // Checked (and the staging folder made) before any simulating.
    let staging = output::Staging::prepare(&out)?;
    let out = staging.target().to_path_buf();
    let workers = jobs(a.jobs, run_count(&plan, a.shard));
    if !a.allow_large {
        let cost = cost::Cost::of(&plan, workers);
        if let Some(why) = cost::refusal(&plan, &cost, cost::available_memory()) {
            return Err(usage(anyhow!(why)));
        }
    }
    let started = Instant::now();
    let completed = execute(&plan, workers, a.quiet, a.shard)?;
    let wall = started.elapsed().as_secs_f64();
    if let Some(shard) = a.shard {
        write_shard(staging.dir(), &exp, shard, &completed)?;
        staging.commit()?;
        if !a.quiet {
            eprintln!(
                "shard {}/{}: {} runs written to {}",
                shard.index,
                shard.count,
                completed.len(),
                out.join(SHARD_FILE).display()
            );
        }
        return Ok(());
    }
    let results = annotate(&plan, runner::rows(&plan, &completed)?);
    let caveats = findings::Caveats::of(&plan, results.rows());
    let meta = metadata(&exp, &plan, wall, &results, &caveats);
    report::write_all(staging.dir(), &results, &meta).context("writing results")?;
    write_timing(staging.dir(), wall, &completed)?;
    staging.commit()?;
    let done = format!(
        "{} runs in {:.1} s; results in {}",
        completed.len(),
        wall,
        out.display()
    );
    tell_results(&results, &meta, &caveats, a.quiet, &done)
}

/// What `rtsim run` and `rtsim merge` say of finished results, in this order: claims
/// that do not hold (even with `quiet`: the lesson's text is wrong), the trade-off table,
/// the caveats of rows without samples, overloaded or with stalled tabs, the `done`
/// line, then the steady-state warnings (`caveats.transients`). One function, so a
/// merged result says what the single run would have said.
fn tell_results(
    results: &Results,
    meta: &Metadata,
    caveats: &findings::Caveats,
    quiet: bool,
    done: &str,
) -> Result<(), Failure> {
    for v in report::claims::check(results, &meta.sweep_keys, &meta.claims) {
        if !v.held {
            eprintln!("claim does not hold: {} ({})", v.says, v.detail);
        }
    }
    if !quiet {
        say!("{}", report::tradeoff_table(results.rows()));
    }
    print_caveats(caveats, results.rows().len(), quiet);
    if !quiet {
        eprintln!("{done}");
    }
    for w in &caveats.transients {
        eprintln!("{w}");
    }
    Ok(())
}

/// Most overloaded rows listed after a run; the rest are counted.
const OVERLOADED_LISTED: usize = 8;

/// On stderr: a warning for each row whose metrics had no sample (always), then, unless
/// `quiet`, the rows that were overloaded, lost updates or left tabs stalled
/// (`crate::diagnosis`), of `rows` in all.
fn print_caveats(caveats: &findings::Caveats, rows: usize, quiet: bool) {
    let flagged = &caveats.flagged;
    for w in &caveats.warnings {
        eprintln!("{w}");
    }
    if quiet || flagged.is_empty() {
        return;
    }
    eprintln!(
        "{} of {rows} rows overloaded, losing updates or with stalled tabs (their latency \
         covers what was delivered):",
        flagged.len(),
    );
    for line in flagged.iter().take(OVERLOADED_LISTED) {
        eprintln!("  {line}");
    }
    if flagged.len() > OVERLOADED_LISTED {
        eprintln!(
            "  … and {} more (see results.csv)",
            flagged.len() - OVERLOADED_LISTED
        );
    }
}

// ------------------------------------------------------------------- table

fn table(a: args::TableArgs) -> Result<(), Failure> {
    let rows = if a.source.is_dir() {
        read_rows(&a.source)?.0.into_rows()
    } else {
        run_quietly(&source_file(&a.source)?, &a.set, a.jobs)?.1
    };
    say!("{}", report::tradeoff_table(&rows));
    Ok(())
}

// ------------------------------------------------------------------- plot

fn plot(a: args::PlotArgs) -> Result<(), Failure> {
    let (results, keys) = read_rows(&a.dir)?;
    // The experiment's own [[charts]] and time marks, from the resolved copy the run wrote.
    let resolved = a.dir.join("experiment.toml");
    let exp = match std::fs::read_to_string(&resolved) {
        Ok(text) => {
            Some(experiment::load_str(&resolved.display().to_string(), &text, &[]).map_err(usage)?)
        }
        Err(_) => None,
    };
    let marks = exp
        .as_ref()
        .map(|e| report::time_marks(&e.base))
        .unwrap_or_default();
    let cx = report::ChartContext {
        sweep_keys: &keys,
        marks: &marks,
    };
    let specs = exp.map(|e| e.charts).unwrap_or_default();
    let files = report::draw_all(&a.dir, &results, cx, &specs).context("drawing charts")?;
    for f in files {
        say!("{}", f.display());
    }
    Ok(())
}
