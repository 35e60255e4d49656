//! A lesson's claims, checked against its results: `claims.json` and the lines `rtsim
//! run` prints.
//!
//! A lesson's text makes claims ("SSE's p99 stays below short polling's at every RTT");
//! each `[[claims]]` table states one as a comparison on a `results.csv` column, so a
//! lesson whose numbers stop saying what its text says is caught — by `rtsim run`,
//! which prints every claim that does not hold, and by the test suite, which runs every
//! lesson and fails on one (`tests/claims.rs`).
//!
//! A claim holds when **every** row it selects (its `techniques`, with a value) passes,
//! and at least one row was compared: a claim about nothing does not hold. Rows are
//! compared only with rows of the same sweep point (same clients and shared swept
//! values; a technique's own keys do not split a point).

use crate::columns::{Column, result_column};
use crate::report::Results;
use crate::results::Row;
use crate::scenario::Technique;

/// What a claim compares a row's value with.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// Below a number (in the column's unit: seconds, bytes, a share).
    Below(f64),
    Above(f64),
    /// Below the same column of this technique at the same sweep point.
    BelowTechnique(Technique),
    AboveTechnique(Technique),
    /// Within this relative distance of theory's prediction (`theory_<metric>`).
    WithinTheory(f64),
    /// Strictly increasing along this swept key, every other value held.
    RisesAlong(String),
    FallsAlong(String),
}

/// One `[[claims]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimSpec {
    /// The sentence of the lesson the claim checks.
    pub says: String,
    /// A `results.csv` column.
    pub metric: String,
    pub techniques: Vec<Technique>,
    /// Only the rows where this swept key has this value (`("server.preset",
    /// "event-loop")`).
    pub only: Option<(String, String)>,
    pub comparison: Comparison,
}

/// A claim checked: whether it held, and the first row that broke it (or what was
/// compared).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub says: String,
    pub held: bool,
    pub detail: String,
}

/// Checks every claim against the results (`sweep_keys` are the swept columns).
pub fn check(results: &Results, sweep_keys: &[String], claims: &[ClaimSpec]) -> Vec<Verdict> {
    claims
        .iter()
        .map(|c| {
            let (held, detail) = match result_column(&c.metric, sweep_keys) {
                None => (false, format!("no column `{}`", c.metric)),
                Some(column) => judge(results, column, c),
            };
            Verdict {
                says: c.says.clone(),
                held,
                detail,
            }
        })
        .collect()
}

/// Where a row is: clients and every swept value but a technique's own.
fn point(r: &Row) -> (u32, Vec<(String, String)>) {
    let own = |k: &str| {
        Technique::ALL.iter().any(|t| {
            k.strip_prefix(t.name())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let shared = r.sweep.iter().filter(|(k, _)| !own(k)).cloned().collect();
    (r.clients, shared)
}

fn describe(r: &Row) -> String {
    let mut parts = vec![
        r.technique.title().to_string(),
        format!("{} clients", r.clients),
    ];
    parts.extend(
        r.sweep
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} = {v}")),
    );
    parts.join(", ")
}

fn judge(results: &Results, column: Column, c: &ClaimSpec) -> (bool, String) {
    let rows = results.rows();
    let value = |i: usize| -> Option<f64> {
        column
            .cell(&rows[i], results.theory(i))
            .quantity()
            .map(|(v, _)| v)
    };
    let selected: Vec<usize> = (0..rows.len())
        .filter(|&i| c.techniques.contains(&rows[i].technique) && value(i).is_some())
        .filter(|&i| {
            c.only
                .as_ref()
                .is_none_or(|(k, v)| rows[i].sweep_value(k) == v)
        })
        .collect();
    let mut compared = 0;
    for &i in &selected {
        let v = value(i).expect("selected rows have a value");
        let here = describe(&rows[i]);
        let broken = match &c.comparison {
            Comparison::Below(x) => (v >= *x).then(|| format!("{here}: {v} is not below {x}")),
            Comparison::Above(x) => (v <= *x).then(|| format!("{here}: {v} is not above {x}")),
            Comparison::BelowTechnique(t) | Comparison::AboveTechnique(t) => {
                let below = matches!(c.comparison, Comparison::BelowTechnique(_));
                let others: Vec<usize> = (0..rows.len())
                    .filter(|&j| rows[j].technique == *t && point(&rows[j]) == point(&rows[i]))
                    .collect();
                let mut broken = None;
                for j in others {
                    let Some(w) = value(j) else { continue };
                    let ok = if below { v < w } else { v > w };
                    if !ok && broken.is_none() {
                        broken = Some(format!(
                            "{here}: {v} is not {} {} ({w})",
                            if below { "below" } else { "above" },
                            t.title()
                        ));
                    }
                }
                broken
            }
            Comparison::WithinTheory(f) => {
                let theory = crate::columns::PREDICTED
                    .iter()
                    .position(|p| *p == c.metric)
                    .and_then(|k| {
                        Column::Theory(k)
                            .cell(&rows[i], results.theory(i))
                            .quantity()
                    })
                    .map(|(t, _)| t);
                match theory {
                    None => continue,
                    Some(t) => ((v - t).abs() > f * t.abs()).then(|| {
                        format!(
                            "{here}: {v} is not within {:.1} % of theory's {t}",
                            f * 100.0
                        )
                    }),
                }
            }
            Comparison::RisesAlong(key) | Comparison::FallsAlong(key) => {
                let rises = matches!(c.comparison, Comparison::RisesAlong(_));
                // The next row along `key`, everything else the same.
                let at = |r: &Row| {
                    crate::columns::Cell::Text(r.sweep_value(key).to_string())
                        .quantity()
                        .map(|(x, _)| x)
                };
                let Some(x) = at(&rows[i]) else { continue };
                let same_else = |r: &Row| {
                    let rest = |r: &Row| -> Vec<(String, String)> {
                        r.sweep.iter().filter(|(k, _)| k != key).cloned().collect()
                    };
                    r.technique == rows[i].technique
                        && (key == "workload.clients" || r.clients == rows[i].clients)
                        && rest(r) == rest(&rows[i])
                };
                let next = (0..rows.len())
                    .filter(|&j| same_else(&rows[j]))
                    .filter_map(|j| Some((at(&rows[j])?, j)))
                    .filter(|(xj, _)| *xj > x)
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                match next.and_then(|(_, j)| Some((j, value(j)?))) {
                    None => continue,
                    Some((j, w)) => {
                        let ok = if rises { w > v } else { w < v };
                        (!ok).then(|| {
                            format!(
                                "{here}: {v}, then {w} at {key} = {}: not {}",
                                rows[j].sweep_value(key),
                                if rises { "rising" } else { "falling" }
                            )
                        })
                    }
                }
            }
        };
        if let Some(b) = broken {
            return (false, b);
        }
        compared += 1;
    }
    if compared == 0 {
        (false, "no row to compare".to_string())
    } else {
        (true, format!("{compared} rows compared"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    fn claim(metric: &str, techniques: &[Technique], comparison: Comparison) -> ClaimSpec {
        ClaimSpec {
            says: "s".into(),
            metric: metric.into(),
            techniques: techniques.to_vec(),
            only: None,
            comparison,
        }
    }

    #[test]
    fn claims_hold_or_name_the_row_that_breaks_them() {
        let rows = testdata::sweep();
        let results = Results::unannotated(rows);
        let keys = testdata::keys();
        let sp = Technique::ShortPolling;
        let v = check(
            &results,
            &keys,
            &[
                claim("requests_per_s", &[sp], Comparison::Above(0.0)),
                claim("requests_per_s", &[sp], Comparison::Below(0.0)),
                claim("no_such", &[sp], Comparison::Below(0.0)),
                claim(
                    "requests_per_s",
                    &[Technique::Sse],
                    Comparison::WithinTheory(0.1),
                ),
                claim(
                    "requests_per_s",
                    &[sp],
                    Comparison::RisesAlong("workload.clients".into()),
                ),
                claim(
                    "requests_per_s",
                    &[sp],
                    Comparison::FallsAlong("workload.clients".into()),
                ),
            ],
        );
        let held: Vec<bool> = v.iter().map(|v| v.held).collect();
        assert_eq!(held, [true, false, false, false, true, false], "{v:?}");
        assert!(
            v[1].detail.starts_with("Short polling, 1000 clients"),
            "{}",
            v[1].detail
        );
        assert_eq!(v[3].detail, "no row to compare");
    }

    #[test]
    fn techniques_compare_at_the_same_point() {
        let mut rows = testdata::sweep();
        for r in &mut rows {
            r.mean.latency_p99_s = match r.technique {
                Technique::ShortPolling => 3.0,
                _ => 0.1,
            };
        }
        let results = Results::unannotated(rows);
        let keys = testdata::keys();
        let push = [Technique::Sse, Technique::Websocket];
        let v = check(
            &results,
            &keys,
            &[
                claim(
                    "latency_p99_s",
                    &push,
                    Comparison::BelowTechnique(Technique::ShortPolling),
                ),
                claim(
                    "latency_p99_s",
                    &push,
                    Comparison::AboveTechnique(Technique::ShortPolling),
                ),
            ],
        );
        assert!(v[0].held, "{v:?}");
        assert!(!v[1].held);
    }
}
