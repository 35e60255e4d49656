//! `rtsim run FOLDER`: every lesson of a folder into `<out>/<lesson>/`, under one progress
//! bar, with the course's `index.html`; stale files of earlier runs removed (`output.rs`).

use super::*;

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
pub(super) fn run_folder(a: args::RunArgs) -> Result<(), Failure> {
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
        let caveats = findings::Caveats::of(plan, results.rows());
        let meta = metadata(exp, plan, wall, &results, &caveats);
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
        for line in caveats.warnings.iter().chain(&caveats.transients) {
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
