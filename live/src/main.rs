//! The `rtsim-live` executable: `rtsim validate` runs it (it sits beside `rtsim` in
//! `target/release` once built with `cargo build --release -p rtsim-live`); it can also be
//! run on its own with the same arguments.
//!
//! Exit codes: 0 every check passed, 1 some check failed (the table says which), 2 bad
//! input or a refused scale, 3 the real run itself failed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rtsim_live::plan::Limits;
use rtsim_live::validate::{self, ValidateError};

#[derive(Parser)]
#[command(
    name = "rtsim-live",
    version,
    about = "rtsim against real sockets on 127.0.0.1"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate an experiment and run it for real against the reference server at the same
    /// scale (through a delaying relay on 127.0.0.1); print both side by side with a
    /// tolerance per metric, and write validation.csv.
    ///
    /// Example: rtsim validate experiments/validate-loopback.toml
    Validate {
        /// The experiment file.
        file: PathBuf,
        /// Folder for validation.csv [default: output/<name>-validation].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a key, as for `rtsim run` (`--set workload.clients=100`).
        #[arg(long, value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A tolerance table of your own (the shipped one: live/tolerances.toml).
        #[arg(long, value_name = "FILE")]
        tolerances: Option<PathBuf>,
        /// Print only the table.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate {
            file,
            out,
            set,
            tolerances,
            quiet,
        } => match validate_cmd(&file, out, &set, tolerances, quiet) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e:#}");
                let code = match e.downcast_ref::<ValidateError>() {
                    Some(ValidateError::Run { .. } | ValidateError::Sim { .. }) => 3,
                    _ => 2,
                };
                ExitCode::from(code)
            }
        },
    }
}

/// A folder name made of the experiment's name: letters, digits, `-`, `_` kept.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-');
    if s.is_empty() {
        "experiment".into()
    } else {
        s.into()
    }
}

fn validate_cmd(
    file: &std::path::Path,
    out: Option<PathBuf>,
    set: &[String],
    tolerances: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<bool> {
    let exp = rtsim::experiment::load(file, set).map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &exp.warnings {
        eprintln!("{w}");
    }
    let checks = match &tolerances {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            validate::tolerances(&text, &path.display().to_string())?
        }
        None => validate::tolerances(validate::DEFAULT_TOLERANCES, "live/tolerances.toml")?,
    };
    if exp.replications > 1 && !quiet {
        eprintln!(
            "note: validate compares replication 0 only (the real run replays its random draws)"
        );
    }
    let out = out
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}-validation", slug(&exp.name))));
    let say = |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    };
    let rows = validate::run(&exp, &Limits::for_this_machine(), &say)?;
    for row in &rows {
        if row.real.errors > 0 {
            eprintln!(
                "warning: {}: {} client errors in the real run (first: {})",
                row.technique.name(),
                row.real.errors,
                row.real.first_error.as_deref().unwrap_or("?")
            );
        }
    }
    let lines = validate::compare(&rows, &checks);
    print!("{}", validate::table(&lines));
    validate::write_csv(&out, &lines)
        .with_context(|| format!("writing {}", out.join("validation.csv").display()))?;
    say(&format!(
        "written: {}",
        out.join("validation.csv").display()
    ));
    let clean = rows.iter().all(|r| r.real.errors == 0);
    Ok(clean && lines.iter().all(|l| l.pass))
}
