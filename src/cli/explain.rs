//! `rtsim explain`: each row's numbers against theory's, in words (`findings::verdict`).

use super::*;

// ------------------------------------------------------------------- explain

pub(super) fn explain(a: args::ExplainArgs) -> Result<(), Failure> {
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
