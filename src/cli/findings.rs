//! What `report.html` says beyond the rows, made here because the reports may not call
//! theory or the simulator: `run`'s warnings (diagnosis, overload, start-up transients),
//! `explain`'s verdict for each row, and one client per technique traced through the
//! representative row's scenario. `rtsim run` and `rtsim explain` print the same words.

use std::sync::atomic::AtomicBool;

use crate::diagnosis::{self, Overload};
use crate::engine::time::NS_PER_S;
use crate::experiment::Plan;
use crate::report::html::Findings;
use crate::report::trace::{TraceOptions, svg};
use crate::report::{self, Results};
use crate::results::Row;
use crate::runner;

/// Simulated span of each trace in the report (`rtsim trace`'s default `--until`).
const TRACE_SPAN_S: u64 = 20;

/// A row as warnings name it: technique and sweep point.
pub(super) fn label(row: &Row) -> String {
    format!("{} {}", row.technique, runner::describe_point(&row.sweep))
}

/// What `run`, `merge` and `course` say of finished rows besides the table, computed once
/// per run: `run` prints it and `report.html` shows it.
pub(super) struct Caveats {
    /// Every row's warnings (no sample, partly unsampled metrics).
    pub warnings: Vec<String>,
    /// One line per row that was overloaded, lost updates or left tabs stalled.
    pub flagged: Vec<String>,
    /// The rows' steady-state warnings (`steady::warnings`).
    pub transients: Vec<String>,
}

impl Caveats {
    pub fn of(plan: &Plan, rows: &[Row]) -> Caveats {
        let (warnings, flagged) = caveat_lines(plan, rows);
        Caveats {
            warnings,
            flagged,
            transients: super::steady::warnings(plan, rows),
        }
    }
}

/// Every row's warnings (no sample, partly unsampled metrics), then one line per row
/// that was overloaded, lost updates or left tabs stalled.
fn caveat_lines(plan: &Plan, rows: &[Row]) -> (Vec<String>, Vec<String>) {
    let mut warnings = Vec::new();
    // Looked up, not zipped: a merged result's rows need not be in the plan's order.
    for row in rows {
        if let Some(planned) = plan.row_for(row.technique, &row.sweep) {
            warnings.extend(diagnosis::warnings(row, &planned.scenario, &label(row)));
        }
    }
    let overloaded = rows
        .iter()
        .filter_map(|row| Overload::of(row).map(|o| format!("{}: {}", label(row), o.summary())))
        .collect();
    (warnings, overloaded)
}

/// `explain`'s heading and text for `row`; `None` when the plan has no such row.
pub(super) fn verdict(plan: &Plan, row: &Row, markdown: bool) -> Option<(String, String)> {
    let planned = plan.row_for(row.technique, &row.sweep)?;
    let title = format!(
        "{} — {}",
        row.technique.title(),
        runner::describe_point(&row.sweep)
    );
    let steadiness = crate::steady::detect_row(&row.timeseries, &planned.scenario);
    let text = crate::theory::explain(
        &planned.scenario,
        &row.mean,
        row.ci95.as_ref(),
        &steadiness,
        markdown,
    );
    Some((title, text))
}

/// The report's findings: warnings (as `run` prints them, every flagged row listed),
/// each row's verdict, a trace per technique present.
pub(super) fn findings(
    plan: &Plan,
    results: &Results,
    caveats: &Caveats,
    stop: &AtomicBool,
) -> Findings {
    let rows = results.rows();
    let mut warnings = caveats.warnings.clone();
    warnings.extend(caveats.flagged.iter().map(|l| {
        format!(
            "overloaded, losing updates or with stalled tabs (latency covers what was \
             delivered): {l}"
        )
    }));
    warnings.extend(caveats.transients.iter().cloned());
    let verdicts = rows
        .iter()
        .filter_map(|r| verdict(plan, r, false))
        .collect();
    let traces = report::representative_rows(rows)
        .into_iter()
        .filter_map(|row| {
            let planned = plan.row_for(row.technique, &row.sweep)?;
            let mut sc = planned.scenario.clone();
            sc.workload.clients = 1;
            sc.warmup = 0;
            sc.duration = TRACE_SPAN_S * NS_PER_S;
            sc.replication = 0;
            let trace = crate::sim::simulate_traced(&sc, stop)
                .map(|(_, trace)| svg(&trace, &TraceOptions::for_scenario(&sc)))
                .map_err(|e| e.to_string());
            Some((row.technique.title().to_string(), trace))
        })
        .collect();
    Findings {
        warnings,
        verdicts,
        traces,
    }
}
