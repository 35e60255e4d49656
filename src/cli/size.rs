//! `rtsim size FILE`: the sizing search (`crate::sizing`) run from the command line, its
//! table, files and chart.

use super::*;
use crate::sizing::progress::Overall;

// ------------------------------------------------------------------- size

pub(super) fn size(a: args::SizeArgs) -> Result<(), Failure> {
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
    let bar = SizeBar::new(a.quiet, options.jobs, started);
    let progress = |p: &crate::sizing::Progress| bar.hear(p, started.elapsed().as_secs_f64());
    let rows = crate::sizing::size(&exp, &options, &progress);
    bar.finish();
    let rows = rows.map_err(|e| usage(anyhow!(e)))?;
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
    if !a.quiet {
        say!("{markdown}");
        eprintln!(
            "sized {} technique{} in {:.1} s; {}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64(),
            csv_path.display()
        );
    }
    Ok(())
}

/// The overall progress of `rtsim size`: one bar across every technique and round
/// (estimated events done of planned, and the ETA: `sizing::progress::Overall`), drawn
/// on stderr only when it is a terminal, with a line per round and per finished run
/// above it; nothing at all under `--quiet`.
struct SizeBar {
    /// `None` under `--quiet`.
    bar: Option<ProgressBar>,
    overall: Arc<std::sync::Mutex<(Overall, Instant)>>,
}

impl SizeBar {
    fn new(quiet: bool, jobs: usize, started: Instant) -> SizeBar {
        let overall = Arc::new(std::sync::Mutex::new((Overall::new(jobs), started)));
        let bar = (!quiet).then(|| {
            // Redrawn every second: the ETA counts down between finished runs.
            let shared = overall.clone();
            let message = move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let o = shared.lock().unwrap_or_else(|e| e.into_inner());
                let _ = w.write_str(&report::sizing::overall_message(
                    &o.0,
                    o.1.elapsed().as_secs_f64(),
                ));
            };
            let bar = ProgressBar::new(1);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} sizing [{elapsed_precise}] {bar:30} {overall}",
                )
                .expect("valid template")
                .with_key("overall", message),
            );
            bar.enable_steady_tick(std::time::Duration::from_secs(1));
            bar
        });
        SizeBar { bar, overall }
    }

    /// A round started or a run finished, `elapsed_s` seconds after the start.
    fn hear(&self, p: &crate::sizing::Progress, elapsed_s: f64) {
        let Some(bar) = &self.bar else { return };
        let mut o = self.overall.lock().unwrap_or_else(|e| e.into_inner());
        let line = match p {
            crate::sizing::Progress::Round {
                round,
                runs,
                events,
                planned_events,
            } => {
                o.0.plan(*planned_events);
                report::sizing::round_line(*round, *runs, *events, &o.0, elapsed_s)
            }
            crate::sizing::Progress::Ran(run) => {
                o.0.ran(run.estimated_events, elapsed_s);
                report::sizing::progress_line(run)
            }
        };
        // Positions in thousands of estimated events: the bar's length is a u64.
        bar.set_length((o.0.planned() / 1e3).ceil().max(1.0) as u64);
        bar.set_position((o.0.done() / 1e3) as u64);
        drop(o);
        bar.suspend(|| eprintln!("{line}"));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
