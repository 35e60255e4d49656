//! `[[charts]]` checked against the column list when the experiment is read, so a chart
//! naming no column is refused before anything is simulated (not after the run, when
//! it is drawn).
//!
//! `x` and `y` are a `results.csv` column or several joined by `+` (as the charts read
//! them, `crate::columns::result_column`), swept keys included; `series` is
//! `technique` or a sweepable key (one not swept in this run draws one line).

use crate::columns::{result_column, result_columns};

use super::document::{RawExperiment, closest, sweepable_keys};
use super::error::Problem;
use super::schema::Val;
use super::validate::Filled;

/// The first `[[charts]]` value that names no column, as a problem at that value.
pub(crate) fn check(filled: &Filled, raw: &RawExperiment) -> Result<(), Problem> {
    let swept: Vec<String> = raw.sweep.iter().map(|a| a.key.clone()).collect();
    for (_, chart) in &filled.charts {
        axis(&chart.x, "charts.x", &swept)?;
        axis(&chart.y, "charts.y", &swept)?;
        if let Some(series) = &chart.series.v {
            let valid = series == "technique" || sweepable_keys().contains(series);
            if !valid {
                let mut p = Problem::new(
                    &chart.series.loc,
                    "\"technique\" or a sweepable key such as \"workload.clients\"",
                    format!("\"{series}\""),
                )
                .title(format!("`charts.series`: no series `{series}`"));
                let keys = sweepable_keys();
                let candidates = keys.iter().map(String::as_str).chain(["technique"]);
                if let Some(best) = closest(series, candidates) {
                    p = p.help(format!("did you mean `{best}`?"));
                }
                return Err(p);
            }
        }
    }
    Ok(())
}

/// Each `+`-separated term of an axis is a column of `results.csv`.
fn axis(value: &Val<String>, key: &str, swept: &[String]) -> Result<(), Problem> {
    for term in value.v.split('+').map(str::trim) {
        if result_column(term, swept).is_some() {
            continue;
        }
        let names: Vec<String> = result_columns(swept).iter().map(|c| c.name()).collect();
        let mut p = Problem::new(
            &value.loc,
            "a column of results.csv (or several joined by `+`)",
            format!("\"{}\"", value.v),
        )
        .title(format!("`{key}`: no column `{term}`"));
        p = match closest(term, names.iter().map(String::as_str)) {
            Some(best) => p.help(format!("did you mean `{best}`?")),
            None if sweepable_keys().iter().any(|k| k == term) => p.help(format!(
                "`{term}` is a column only when it is swept (in [sweep])"
            )),
            None => p.help(format!("columns: {}", names.join(", "))),
        };
        return Err(p);
    }
    Ok(())
}
