//! `rtsim run`'s steady-state warnings: every row's time series through the MSER-5
//! detector (`crate::steady`), a line per row whose measured window still holds the
//! start-up transient, and one note for rows too short to tell.

use crate::engine::time::secs;
use crate::experiment::Plan;
use crate::results::Row;
use crate::runner;
use crate::steady::{self, Steadiness};

/// The warnings (one line each) for `rows` of `plan`; empty when every row is steady.
pub(super) fn warnings(plan: &Plan, rows: &[Row]) -> Vec<String> {
    let mut out = vec![];
    let mut unchecked = 0;
    for row in rows {
        let Some(planned) = plan
            .rows
            .iter()
            .find(|p| p.technique == row.technique && p.sweep == row.sweep)
        else {
            continue;
        };
        let warmup_s = secs(planned.scenario.warmup);
        match steady::detect(&row.timeseries, warmup_s) {
            Steadiness::Steady => {}
            Steadiness::TooFewBuckets { .. } => unchecked += 1,
            Steadiness::Transient(t) => out.push(format!(
                "warning: {} {}: {}",
                row.technique,
                runner::describe_point(&row.sweep),
                t.sentence(warmup_s)
            )),
        }
    }
    if unchecked > 0 {
        out.push(format!(
            "note: steady state not checked for {unchecked} row(s): fewer than {} time-series \
             buckets over warm-up + duration (lengthen the run or shorten timeseries_bucket)",
            steady::MIN_BATCHES * steady::BATCH
        ));
    }
    out
}
