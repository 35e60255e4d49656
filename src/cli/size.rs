//! `rtsim size FILE`: the sizing search (`crate::sizing`) run from the command line, its
//! table, files and chart.

use super::*;

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
