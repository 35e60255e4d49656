//! The `rtsim-live` executable: `rtsim validate` runs it (it sits beside `rtsim` in
//! `target/release` once built with `cargo build --release -p rtsim-live`); it can also be
//! run on its own with the same arguments.
//!
//! `validate` exit codes: 0 every check passed, 1 some check failed (the table says which),
//! 2 bad input or a refused scale, 3 the real run itself failed. `calibrate`: 0 the preset
//! is written, 2 bad input, 1 a measurement failed (nothing is written then).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rtsim_live::calibrate;
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
    /// Example: rtsim validate live/experiments/loopback.toml
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
    /// Measure a server running on this machine (memory per idle connection, held long
    /// poll, SSE stream and WebSocket; CPU per request, handshake and push; header sizes)
    /// and write models/servers/NAME.toml with each figure, its method, K and the date.
    ///
    /// Examples:
    ///   rtsim calibrate reference --url http://127.0.0.1:8080 --command "target/release/rtsim-live serve --port 8080"
    ///   rtsim calibrate myserver --url http://127.0.0.1:3000 --pid 4242 --sse-path /stream --ws-path /socket
    #[command(verbatim_doc_comment)]
    Calibrate {
        /// The preset's name (models/servers/NAME.toml).
        name: String,
        /// Where the server listens: http://127.0.0.1:PORT or http://localhost:PORT.
        #[arg(long)]
        url: String,
        /// The PID of the running server (measured in that one process).
        #[arg(long, conflicts_with = "command", required_unless_present = "command")]
        pid: Option<u32>,
        /// A command that starts the server (split on spaces, no shell): a fresh process
        /// for each memory measurement, as the method requires.
        #[arg(long)]
        command: Option<String>,
        /// Connections per memory figure (at least 1,000; within `ulimit -n`).
        #[arg(long, default_value_t = 1_000)]
        k: u32,
        /// Requests for the CPU-per-request figure (and publishes for CPU per push).
        #[arg(long, default_value_t = 20_000)]
        requests: u32,
        /// Short-poll path; {i} is the connection's index.
        #[arg(long, default_value = "/poll/{i}?since=0")]
        poll_path: String,
        /// Long-poll path (held by the server).
        #[arg(long, default_value = "/hold/{i}?since=0")]
        hold_path: String,
        /// SSE path.
        #[arg(long, default_value = "/events/{i}")]
        sse_path: String,
        /// WebSocket path.
        #[arg(long, default_value = "/ws/{i}")]
        ws_path: String,
        /// POST path that publishes an update for client {i} ("none": no push figure).
        #[arg(long, default_value = "/publish/{i}")]
        publish_path: String,
        /// Folder of server presets.
        #[arg(long, default_value = "models/servers")]
        models: PathBuf,
        /// Replace an existing preset of that name.
        #[arg(long)]
        force: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run the reference server alone on 127.0.0.1 (for calibrate, or to look at it with
    /// curl); it stops by itself after --lifetime.
    Serve {
        /// Port on 127.0.0.1 (0: any free one; the address is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Client streams it serves (/poll/0 … /poll/N-1).
        #[arg(long, default_value_t = 20_000)]
        clients: u32,
        /// Bytes of each update body.
        #[arg(long, default_value_t = 143)]
        payload: u64,
        /// How long a long poll is held.
        #[arg(long, default_value = "30s")]
        hold: humantime::Duration,
        /// SSE heartbeat interval.
        #[arg(long, default_value = "15s")]
        heartbeat: humantime::Duration,
        /// When it stops (at most 1 h).
        #[arg(long, default_value = "10min")]
        lifetime: humantime::Duration,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Thousands of connections (calibrate's K, a served K) need more descriptors than the
    // usual soft limit of 1,024: take the hard limit, as `ulimit -n $(ulimit -Hn)` would.
    rtsim_live::raise_fd_limit();
    match cli.command {
        Command::Serve {
            port,
            clients,
            payload,
            hold,
            heartbeat,
            lifetime,
        } => {
            let config = rtsim_live::server::Config {
                payload: payload.max(rtsim_live::plan::MIN_PAYLOAD),
                response_header_bytes: None,
                long_poll_timeout: hold.as_nanos() as u64,
                sse_heartbeat: Some(heartbeat.as_nanos() as u64),
                // The model's default `[server] empty_body`: `[]`.
                empty_body: rtsim::scenario::Scenario::reference().server.empty_body,
                tls: None,
                http2: false,
            };
            let served = rtsim_live::run::serve(port, config, clients, *lifetime, |addr| {
                println!("listening on http://{addr}");
                let _ = std::io::Write::flush(&mut std::io::stdout());
            });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Calibrate {
            name,
            url,
            pid,
            command,
            k,
            requests,
            poll_path,
            hold_path,
            sse_path,
            ws_path,
            publish_path,
            models,
            force,
            quiet,
        } => {
            let server = match (pid, command) {
                (Some(pid), _) => calibrate::Server::Pid(pid),
                (None, Some(c)) => calibrate::Server::Command(c),
                (None, None) => unreachable!("clap requires one"),
            };
            let options = calibrate::Options {
                name,
                url,
                server,
                k,
                requests: requests.max(1),
                paths: calibrate::Paths {
                    poll: poll_path,
                    hold: hold_path,
                    sse: sse_path,
                    ws: ws_path,
                    publish: (publish_path != "none").then_some(publish_path),
                },
                models,
                force,
                quiet,
            };
            match calibrate_cmd(&options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    let bad_input = matches!(
                        e,
                        calibrate::CalibrateError::NotLoopback(_)
                            | calibrate::CalibrateError::TooManyForFds { .. }
                            | calibrate::CalibrateError::ServerFds { .. }
                            | calibrate::CalibrateError::TooFew(_)
                            | calibrate::CalibrateError::BadName(_)
                            | calibrate::CalibrateError::Exists(_)
                    );
                    ExitCode::from(if bad_input { 2 } else { 1 })
                }
            }
        }
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
        if !quiet {
            eprintln!(
                "{}: the relay kept time within {:.1} ms (p99){}",
                row.technique.name(),
                row.real.relay_late_p99_s * 1e3,
                if row.real.prioritized {
                    ""
                } else {
                    " at normal priority (not root)"
                }
            );
        }
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

/// Measures, then writes the preset: nothing is written unless every figure was measured.
fn calibrate_cmd(o: &calibrate::Options) -> Result<(), calibrate::CalibrateError> {
    let file = calibrate::destination(o)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| calibrate::CalibrateError::Step {
            what: "starting the runtime".into(),
            why: e.to_string(),
        })?;
    // Bounded: every step has its own timeout; this is the whole measurement's.
    let figures = rt
        .block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1_800), calibrate::measure(o)).await
        })
        .map_err(|_| calibrate::CalibrateError::Step {
            what: "calibrate".into(),
            why: "did not finish within 30 min".into(),
        })??;
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    let text = calibrate::preset_text(o, &figures);
    calibrate::write_preset(&file, &text)?;
    if !o.quiet {
        for f in &figures {
            eprintln!("{:24} {:>12.6} {}  ({})", f.key, f.value, f.unit, f.method);
        }
        eprintln!("written: {}", file.display());
    }
    Ok(())
}
