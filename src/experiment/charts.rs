//! `[[charts]]` checked against the column list when the experiment is read, so a chart
//! naming no column is refused before anything is simulated (not after the run, when
//! it is drawn).
//!
//! Also here: `[[claims]]` read into [`ClaimSpec`]s (a column, exactly one comparison).
//!
//! `x` and `y` are a `results.csv` column or several joined by `+` (as the charts read
//! them, `crate::columns::result_column`), swept keys included; `series` is
//! `technique` or a sweepable key (one not swept in this run draws one line).

use crate::columns::{result_column, result_columns};
use crate::report::claims::{ClaimSpec, Comparison};
use crate::scenario::Technique;

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

/// Removes the `[[charts]]` whose x or y names a key a `--set` pinned to one value (its
/// sweep is gone, so the lesson's chart of it has nothing to draw) and the `[[claims]]`
/// that rise or fall along it (nothing to compare, which is not a claim that failed),
/// and says which, one warning each. Only `--set` is forgiven: the same chart in a file without the sweep is
/// refused by [`check`], since there the file itself is wrong.
pub(crate) fn drop_pinned(filled: &mut Filled, pinned: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    filled.charts.retain(|(_, chart)| {
        let named = [&chart.x.v, &chart.y.v]
            .into_iter()
            .flat_map(|axis| axis.split('+').map(str::trim))
            .find(|term| pinned.iter().any(|k| k == term));
        match named {
            Some(key) => {
                let title = chart.title.v.as_deref().unwrap_or("untitled");
                warnings.push(format!(
                    "--set: warning: the chart \"{title}\" is not drawn: `{key}` is no longer swept"
                ));
                false
            }
            None => true,
        }
    });
    filled.claims.retain(|(_, claim)| {
        let along = [&claim.rises_along.v, &claim.falls_along.v]
            .into_iter()
            .flatten()
            .find(|k| pinned.contains(k));
        match along {
            Some(key) => {
                warnings.push(format!(
                    "--set: warning: the claim \"{}\" is not checked: `{key}` is no longer swept",
                    claim.says.v
                ));
                false
            }
            None => true,
        }
    });
    warnings
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

/// Each `[[claims]]` table as a [`ClaimSpec`]: its metric a column, exactly one
/// comparison, a technique named by its name, an axis that is swept.
pub(crate) fn claims(filled: &Filled, raw: &RawExperiment) -> Result<Vec<ClaimSpec>, Problem> {
    let swept: Vec<String> = raw.sweep.iter().map(|a| a.key.clone()).collect();
    let mut out = Vec::new();
    for (loc, c) in &filled.claims {
        axis(&c.metric, "claims.metric", &swept)?;
        let technique =
            |v: &Val<Option<String>>, key: &str| -> Result<Option<Technique>, Problem> {
                match &v.v {
                    None => Ok(None),
                    Some(name) => Technique::from_name(name).map(Some).ok_or_else(|| {
                        Problem::new(
                            &v.loc,
                            "a technique: short-polling, long-polling, sse or websocket",
                            format!("\"{name}\""),
                        )
                        .for_key(key)
                    }),
                }
            };
        let along = |v: &Val<Option<String>>, key: &str| -> Result<Option<String>, Problem> {
            match &v.v {
                // Sweepable, not necessarily swept: `--set` may pin the axis (the claim
                // then has no row to compare, and says so).
                Some(k) if !sweepable_keys().contains(k) => Err(Problem::new(
                    &v.loc,
                    "a sweepable key such as \"workload.rate\"",
                    format!("\"{k}\""),
                )
                .for_key(key)),
                other => Ok(other.clone()),
            }
        };
        let mut found = Vec::new();
        if let Some(x) = c.below.v {
            found.push(Comparison::Below(x));
        }
        if let Some(x) = c.above.v {
            found.push(Comparison::Above(x));
        }
        if let Some(t) = technique(&c.below_technique, "claims.below_technique")? {
            found.push(Comparison::BelowTechnique(t));
        }
        if let Some(t) = technique(&c.above_technique, "claims.above_technique")? {
            found.push(Comparison::AboveTechnique(t));
        }
        if let Some(f) = c.within_theory.v {
            found.push(Comparison::WithinTheory(f));
        }
        if let Some(k) = along(&c.rises_along, "claims.rises_along")? {
            found.push(Comparison::RisesAlong(k));
        }
        if let Some(k) = along(&c.falls_along, "claims.falls_along")? {
            found.push(Comparison::FallsAlong(k));
        }
        if found.len() != 1 {
            return Err(Problem::new(
                loc,
                "exactly one of below, above, below_technique, above_technique, within_theory, rises_along, falls_along",
                format!("{} of them", found.len()),
            )
            .title("`[[claims]]`: a claim makes one comparison".to_string()));
        }
        let only = match &c.only.v {
            None => None,
            Some(text) => {
                let parsed = text
                    .split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()));
                match parsed {
                    Some((k, v)) if sweepable_keys().contains(&k) => Some((k, v)),
                    _ => {
                        return Err(Problem::new(
                            &c.only.loc,
                            "`KEY = VALUE` with a sweepable key, e.g. \"server.preset = event-loop\"",
                            format!("\"{text}\""),
                        )
                        .for_key("claims.only"));
                    }
                }
            }
        };
        out.push(ClaimSpec {
            says: c.says.v.clone(),
            only,
            metric: c.metric.v.clone(),
            techniques: c.techniques.v.clone(),
            comparison: found.remove(0),
        });
    }
    Ok(out)
}
