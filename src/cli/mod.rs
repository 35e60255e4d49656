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

/// `println!` that ends the command quietly (exit 141) when stdout's reader has gone,
/// where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {
        output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

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

/// What the reports say about a run besides its rows; `results` give the HTML report's
/// findings (warnings, verdicts, traces).
fn metadata(exp: &Experiment, plan: &Plan, wall_time_s: f64, results: &Results) -> Metadata {
    let transients = steady::warnings(plan, results.rows());
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
        findings: findings::findings(plan, results, &transients, interrupt_flag()),
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

/// One progress bar over every lesson of a folder: its length is set once, the
/// lessons' runs count into it, and it ends after the last.
struct CourseBar(Bar);

impl runner::Progress for CourseBar {
    fn finished_run(&self, events: u64) {
        runner::Progress::finished_run(&self.0, events);
    }
}

/// `rtsim run FOLDER`: every experiment of the folder (in file-name order) into
/// `<out>/<slug of its name>/`, under one progress bar. Each lesson's folder is
/// replaced as a single run replaces it (files rtsim did not write survive).
fn run_folder(a: args::RunArgs) -> Result<(), Failure> {
    if a.shard.is_some() {
        return Err(usage(anyhow!(
            "--shard applies to one experiment file, not a folder"
        )));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.file)
        .with_context(|| format!("cannot list {}", a.file.display()))
        .map_err(usage)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    let mut lessons = Vec::new();
    for file in &files {
        let exp = load(file, &a.set)?;
        if exp.target.latency_p99.is_some() {
            eprintln!(
                "{}: skipped (an input for `rtsim size`: it has a [target] latency)",
                file.display()
            );
            continue;
        }
        let plan = exp.plan();
        within_budget(plan.rows.iter().map(|r| &r.scenario), a.allow_large)?;
        lessons.push((file.clone(), exp, plan));
    }
    if lessons.is_empty() {
        return Err(usage(anyhow!(
            "{}: no experiment files (*.toml)",
            a.file.display()
        )));
    }
    let root = a.out.clone().unwrap_or_else(|| PathBuf::from("output"));
    let total: usize = lessons.iter().map(|(_, _, p)| run_count(p, None)).sum();
    let bar = CourseBar(Bar::new());
    bar.0.bar.set_length(total as u64);
    let started = Instant::now();
    let mut pages = Vec::new();
    for (file, exp, plan) in &lessons {
        let out = root.join(output::slug(&exp.name));
        let staging = output::Staging::prepare(&out)?;
        bar.0.bar.set_prefix(exp.name.clone());
        let lesson_started = Instant::now();
        let workers = jobs(a.jobs, run_count(plan, None));
        let completed = if a.quiet {
            execute_with(plan, workers, None, &runner::Silent)?
        } else {
            execute_with(plan, workers, None, &bar)?
        };
        let wall = lesson_started.elapsed().as_secs_f64();
        let results = annotate(plan, runner::rows(plan, &completed)?);
        let meta = metadata(exp, plan, wall, &results);
        report::write_all(staging.dir(), &results, &meta).context("writing results")?;
        write_timing(staging.dir(), wall, &completed)?;
        staging.commit()?;
        let verdicts = report::claims::check(&results, &meta.sweep_keys, &meta.claims);
        pages.push(report::html::Lesson {
            name: exp.name.clone(),
            description: exp.description.clone(),
            href: format!("{}/{}", output::slug(&exp.name), report::html::FILE_NAME),
            claims_held: verdicts.iter().filter(|v| v.held).count(),
            claims: verdicts.len(),
        });
        let failed: Vec<_> = verdicts.into_iter().filter(|v| !v.held).collect();
        for v in &failed {
            bar.0.bar.suspend(|| {
                eprintln!(
                    "{}: claim does not hold: {} ({})",
                    file.display(),
                    v.says,
                    v.detail
                )
            });
        }
        // What a single `rtsim run` of the file would warn of, even with --quiet: metrics
        // without a sample, then steady state; the overloaded rows are in its table.
        let mut said = findings::caveat_lines(plan, results.rows()).0;
        said.extend(steady::warnings(plan, results.rows()));
        for line in &said {
            bar.0
                .bar
                .suspend(|| eprintln!("{}: {line}", file.display()));
        }
        if !a.quiet {
            bar.0.bar.suspend(|| {
                eprintln!(
                    "{}: {} runs in {:.1} s into {}",
                    file.display(),
                    completed.len(),
                    wall,
                    out.display()
                )
            });
        }
    }
    bar.0.bar.finish_and_clear();
    output::write_course_index(&root, &report::html::index(&pages))?;
    if !a.quiet {
        eprintln!(
            "{} lessons in {:.1} s; results in {}",
            lessons.len(),
            started.elapsed().as_secs_f64(),
            root.display()
        );
    }
    Ok(())
}

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
    let meta = metadata(&exp, &plan, wall, &results);
    report::write_all(staging.dir(), &results, &meta).context("writing results")?;
    write_timing(staging.dir(), wall, &completed)?;
    staging.commit()?;
    let done = format!(
        "{} runs in {:.1} s; results in {}",
        completed.len(),
        wall,
        out.display()
    );
    tell_results(&plan, &results, &meta, a.quiet, &done)
}

/// What `rtsim run` and `rtsim merge` say of finished results, in this order: claims
/// that do not hold (even with `quiet`: the lesson's text is wrong), the trade-off table,
/// the caveats of rows without samples or overloaded, the `done` line, then the
/// steady-state warnings (`steady::warnings`). One function, so a merged result says
/// what the single run would have said.
fn tell_results(
    plan: &Plan,
    results: &Results,
    meta: &Metadata,
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
    caveats(plan, results.rows(), quiet);
    if !quiet {
        eprintln!("{done}");
    }
    for w in steady::warnings(plan, results.rows()) {
        eprintln!("{w}");
    }
    Ok(())
}

/// Most overloaded rows listed after a run; the rest are counted.
const OVERLOADED_LISTED: usize = 8;

/// On stderr: a warning for each row whose metrics had no sample (always), then, unless
/// `quiet`, the rows that were overloaded or lost updates (`crate::diagnosis`).
fn caveats(plan: &Plan, rows: &[Row], quiet: bool) {
    let (warnings, flagged) = findings::caveat_lines(plan, rows);
    for w in &warnings {
        eprintln!("{w}");
    }
    if quiet {
        return;
    }
    if flagged.is_empty() {
        return;
    }
    eprintln!(
        "{} of {} rows overloaded or losing updates (their latency covers what was delivered):",
        flagged.len(),
        rows.len()
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

// ------------------------------------------------------------------- check

fn check(a: args::CheckArgs) -> Result<(), Failure> {
    let exp = load(&a.file, &a.set)?;
    let plan = exp.plan();
    say!("{}: {}", exp.name, a.file.display());
    if !exp.description.is_empty() {
        say!("  {}", exp.description.trim());
    }
    say!(
        "{} rows × {} replications = {} runs (seed {})",
        plan.rows.len(),
        plan.replications,
        plan.rows.len() * plan.replications as usize,
        exp.seed
    );
    let mut total_events = 0.0;
    let mut peak_memory: f64 = 0.0;
    let mut over_budget = false;
    for row in &plan.rows {
        let est = crate::sim::estimate(&row.scenario);
        if let Err(over) = crate::sim::Budget::DEFAULT.admit(&row.scenario) {
            say!("  note: {over}");
            over_budget = true;
        }
        total_events += est.events * plan.replications as f64;
        peak_memory = peak_memory.max(est.memory_bytes);
        say!(
            "  {:14} {:40} ~{:>8} events/run, ~{} memory",
            row.technique.name(),
            runner::describe_point(&row.sweep),
            crate::units::human::count(est.events),
            crate::units::human::bytes(est.memory_bytes, true)
        );
    }
    for w in steady::predicted_warmups(&plan) {
        say!("  {w}");
    }
    say!(
        "estimated work: ~{} simulated events in all; ~{} of memory per worker thread",
        crate::units::human::count(total_events),
        crate::units::human::bytes(peak_memory, true)
    );
    // The machine: time for the workers the run would get, their memory against what
    // is available.
    let workers = jobs(a.jobs, run_count(&plan, None));
    let cost = cost::Cost::of(&plan, workers);
    say!("{}", cost.wall_line());
    let available = cost::available_memory();
    match available {
        Some(bytes) => say!(
            "estimated memory: ~{} for {} worker{}; {} available (MemAvailable)",
            crate::units::human::bytes(cost.memory_bytes, true),
            workers,
            if workers == 1 { "" } else { "s" },
            crate::units::human::bytes(bytes, true)
        ),
        None => say!(
            "estimated memory: ~{} for {} worker{}; memory available unknown on this \
             system (not checked)",
            crate::units::human::bytes(cost.memory_bytes, true),
            workers,
            if workers == 1 { "" } else { "s" }
        ),
    }
    if let Some(why) = cost::refusal(&plan, &cost, available) {
        return Err(usage(anyhow!(why)));
    }
    if over_budget {
        say!("not ok: `run` refuses the runs noted above unless given --allow-large");
    } else {
        say!("ok");
    }
    Ok(())
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

// ------------------------------------------------------------------- size

fn size(a: args::SizeArgs) -> Result<(), Failure> {
    let exp = load(&a.file, &a.set)?;
    within_budget([&exp.base], a.allow_large)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_out(&exp.name));
    let staging = output::Staging::prepare(&out)?;
    let options = crate::sizing::Options {
        jobs: jobs(a.jobs, usize::MAX),
        ..Default::default()
    };
    let started = Instant::now();
    // (runs done, their estimated events): the rate behind the ETA.
    let done = std::sync::Mutex::new((0usize, 0.0f64));
    let progress = |p: &crate::sizing::Progress| {
        let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            crate::sizing::Progress::Round {
                round,
                runs,
                events,
            } => {
                let elapsed = started.elapsed().as_secs_f64();
                let rate = (done.0 > 0 && elapsed > 0.0).then(|| done.1 / elapsed);
                eprintln!(
                    "{}",
                    report::sizing::round_line(*round, *runs, *events, done.0, rate, elapsed)
                );
            }
            crate::sizing::Progress::Ran(run) => {
                done.0 += 1;
                done.1 += run.estimated_events;
                eprintln!("{}", report::sizing::progress_line(run));
            }
        }
    };
    let rows = crate::sizing::size(&exp, &options, &progress).map_err(|e| usage(anyhow!(e)))?;
    let markdown = report::sizing::sizing_markdown(&rows, &exp.target);
    let dir = staging.dir();
    report::write_atomic(
        &dir.join(report::sizing::CSV_FILE_NAME),
        &report::sizing::sizing_csv(&rows),
    )?;
    report::write_atomic(
        &dir.join(report::sizing::JSON_FILE_NAME),
        report::sizing::sizing_json(&rows, &exp.name, &exp.target).as_bytes(),
    )?;
    report::write_atomic(
        &dir.join(report::sizing::MARKDOWN_FILE_NAME),
        markdown.as_bytes(),
    )?;
    report::draw_sizing_chart(dir, &rows).context("drawing the sizing chart")?;
    let csv_path = staging.target().join(report::sizing::CSV_FILE_NAME);
    staging.commit()?;
    say!("{markdown}");
    eprintln!(
        "sized {} techniques in {:.1} s; {}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        csv_path.display()
    );
    Ok(())
}

// ------------------------------------------------------------------- trace

/// Most clients a trace follows: beyond this a sequence diagram is unreadable.
const TRACE_MAX_CLIENTS: u32 = 50;
/// Longest simulated span a trace covers.
const TRACE_MAX_UNTIL: std::time::Duration = std::time::Duration::from_secs(600);

fn trace(a: args::TraceArgs) -> Result<(), Failure> {
    use crate::report::trace as render;
    use crate::scenario::Technique;
    if a.clients == 0 || a.clients > TRACE_MAX_CLIENTS {
        return Err(usage(anyhow!(
            "--clients {}: a trace follows 1 to {TRACE_MAX_CLIENTS} clients \
             (it is a tiny run for reading message by message; use `rtsim run` for load)",
            a.clients
        )));
    }
    if a.until.is_zero() || a.until > TRACE_MAX_UNTIL {
        return Err(usage(anyhow!(
            "--until {}: a trace covers more than 0 and at most 10min of simulated time",
            humantime::format_duration(a.until)
        )));
    }
    let exp = load(&a.file, &a.set)?;
    let technique = match &a.technique {
        None => exp.base.technique,
        Some(name) => Technique::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Technique::ALL.iter().map(|t| t.name()).collect();
            usage(anyhow!(
                "--technique {name}: expected one of {}",
                names.join(", ")
            ))
        })?,
    };
    let mut sc = exp.base.clone();
    sc.technique = technique;
    sc.workload.clients = a.clients;
    sc.warmup = 0;
    sc.duration = a.until.as_nanos() as u64;
    sc.replication = 0;
    within_budget([&sc], a.allow_large)?;
    let (_, trace) = crate::sim::simulate_traced(&sc, interrupt_flag()).map_err(|e| match e {
        crate::sim::SimError::Interrupted => Failure {
            status: EXIT_INTERRUPTED,
            error: anyhow!("interrupted; nothing was written"),
        },
        stuck => usage(stuck),
    })?;
    let options = render::TraceOptions::for_scenario(&sc);
    let text = match a.format {
        args::TraceFormat::Text => render::text(&trace, &options),
        args::TraceFormat::Mermaid => render::mermaid(&trace, &options),
        args::TraceFormat::Svg => render::svg(&trace, &options),
    };
    match &a.out {
        Some(path) => report::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => output::write_stdout(format_args!("{text}"))?,
    }
    Ok(())
}

// ------------------------------------------------------------------- shards

const SHARD_FILE: &str = "shard.json";

/// What one `run --shard K/N` writes: enough to rebuild the plan and every run it did.
#[derive(Serialize, Deserialize)]
struct ShardFile {
    rtsim_version: String,
    experiment: String,
    shard: Shard,
    runs: Vec<Completed>,
}

fn write_shard(
    dir: &Path,
    exp: &Experiment,
    shard: Shard,
    runs: &[Completed],
) -> anyhow::Result<()> {
    let file = ShardFile {
        rtsim_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: exp.resolved_toml.clone(),
        shard,
        runs: runs.to_vec(),
    };
    let text = serde_json::to_string(&file)?;
    report::write_atomic(&dir.join(SHARD_FILE), text.as_bytes())?;
    Ok(())
}

/// A shard file's own fields: written by this version of rtsim, a shard `K/N` with
/// 0 ≤ K < N.
fn check_shard_header(path: &Path, s: &ShardFile) -> anyhow::Result<()> {
    let ours = env!("CARGO_PKG_VERSION");
    if s.rtsim_version != ours {
        return Err(anyhow!(
            "{} was written by rtsim {}, this is rtsim {ours}: rerun the shard with this \
             version (results are only reproducible within one version)",
            path.display(),
            s.rtsim_version
        ));
    }
    if s.shard.count == 0 || s.shard.index >= s.shard.count {
        return Err(anyhow!(
            "{}: shard {}/{} is not a shard (expected K/N with 0 ≤ K < N)",
            path.display(),
            s.shard.index,
            s.shard.count
        ));
    }
    Ok(())
}

/// Every run of a shard belongs to the plan (its row and replication exist, its id is
/// the one that row and replication have) and to that shard.
fn check_shard_runs(path: &Path, s: &ShardFile, plan: &Plan) -> anyhow::Result<()> {
    for c in &s.runs {
        let planned = plan
            .rows
            .get(c.row)
            .filter(|_| c.replication < plan.replications);
        let Some(planned) = planned else {
            return Err(anyhow!(
                "{}: run of row {} replication {} is not in the experiment's plan \
                 ({} rows × {} replications)",
                path.display(),
                c.row,
                c.replication,
                plan.rows.len(),
                plan.replications
            ));
        };
        let expected = runner::run_id(planned.row_id, c.replication);
        if c.id != expected {
            return Err(anyhow!(
                "{}: run of row {} replication {} has id {:016x}, the plan says {expected:016x}",
                path.display(),
                c.row,
                c.replication,
                c.id
            ));
        }
        if c.id % u64::from(s.shard.count) != u64::from(s.shard.index) {
            return Err(anyhow!(
                "{}: run {:016x} does not belong to shard {}/{}",
                path.display(),
                c.id,
                s.shard.index,
                s.shard.count
            ));
        }
    }
    Ok(())
}

fn merge(a: args::MergeArgs) -> Result<(), Failure> {
    let mut shards = Vec::new();
    for dir in &a.dirs {
        let path = dir.join(SHARD_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map_err(usage)?;
        let shard: ShardFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a shard file", path.display()))
            .map_err(usage)?;
        check_shard_header(&path, &shard).map_err(usage)?;
        shards.push((path, shard));
    }
    let (first_path, first) = shards
        .first()
        .ok_or_else(|| usage(anyhow!("no shard folder given")))?;
    for (path, s) in &shards[1..] {
        if s.experiment != first.experiment {
            return Err(usage(anyhow!(
                "{} and {} come from different experiments",
                first_path.display(),
                path.display()
            )));
        }
        if s.shard.count != first.shard.count {
            return Err(usage(anyhow!(
                "{} is shard {}/{} but {} is shard {}/{}: shards of one split share N",
                first_path.display(),
                first.shard.index,
                first.shard.count,
                path.display(),
                s.shard.index,
                s.shard.count
            )));
        }
    }
    let exp = experiment::load_str("experiment.toml", &first.experiment, &[]).map_err(usage)?;
    let plan = exp.plan();
    for (path, s) in &shards {
        check_shard_runs(path, s, &plan).map_err(usage)?;
    }
    let mut runs: Vec<Completed> = shards.iter().flat_map(|(_, s)| s.runs.clone()).collect();
    runs.sort_by_key(|c| (c.row, c.replication));
    runs.dedup_by_key(|c| (c.row, c.replication));
    let rows = runner::rows(&plan, &runs).map_err(|e| {
        usage(anyhow!(
            "the shards do not cover the whole plan ({e}); are all {} shards here?",
            first.shard.count
        ))
    })?;
    let results = annotate(&plan, rows);
    let mut meta = metadata(&exp, &plan, 0.0, &results);
    meta.resolved_experiment = first.experiment.clone();
    let out = a.out.unwrap_or_else(|| output::default_out(&exp.name));
    let staging = output::Staging::prepare(&out)?;
    let out = staging.target().to_path_buf();
    report::write_all(staging.dir(), &results, &meta).context("writing results")?;
    staging.commit()?;
    let done = format!("merged {} runs into {}", runs.len(), out.display());
    tell_results(&plan, &results, &meta, false, &done)
}

// ------------------------------------------------------------------- explain

fn explain(a: args::ExplainArgs) -> Result<(), Failure> {
    let markdown = a.format == args::TextFormat::Markdown;
    // The plan (scenarios) and the rows (simulated numbers), from a folder or a run.
    let (plan, rows) = if a.source.is_dir() {
        let path = a.source.join("experiment.toml");
        let resolved = std::fs::read_to_string(&path)
            .with_context(|| path.display().to_string())
            .map_err(usage)?;
        let exp = experiment::load_str("experiment.toml", &resolved, &a.set).map_err(usage)?;
        (exp.plan(), read_rows(&a.source)?.0.into_rows())
    } else {
        run_quietly(&source_file(&a.source)?, &a.set, a.jobs)?
    };
    for row in &rows {
        let Some((title, text)) = findings::verdict(&plan, row, markdown) else {
            continue;
        };
        if markdown {
            say!("## {title}\n");
        } else {
            say!("== {title}");
        }
        say!("{text}");
    }
    Ok(())
}
