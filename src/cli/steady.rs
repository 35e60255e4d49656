//! Steady state in words: `rtsim run`'s and `rtsim merge`'s warnings (every row's time
//! series through the MSER-5 detector, `crate::steady::detect_row`, up to the first
//! injected fault: a line per row whose measured window still holds the start-up
//! transient, one note for rows too short to tell) and `rtsim check`'s
//! prediction of the warm-up each row needs (`theory::needed_warmup`).

use crate::engine::time::secs;
use crate::experiment::Plan;
use crate::results::Row;
use crate::runner;
use crate::steady::{self, Steadiness};
use crate::theory::needed_warmup;

/// `rtsim check`'s lines: each row whose warm-up is shorter than predicted, or one line
/// saying every warm-up suffices.
pub(super) fn predicted_warmups(plan: &Plan) -> Vec<String> {
    let mut out = vec![];
    let mut longest: f64 = 0.0;
    for row in &plan.rows {
        let need = needed_warmup(&row.scenario);
        let warmup_s = secs(row.scenario.warmup);
        longest = longest.max(need.seconds);
        if need.seconds > warmup_s {
            out.push(format!(
                "warning: {} {}: warm-up {warmup_s} s is shorter than the {} s predicted — {}",
                row.technique,
                runner::describe_point(&row.sweep),
                need.seconds,
                need.why
            ));
        }
    }
    if out.is_empty() {
        out.push(format!(
            "warm-up: long enough for every row (the longest predicted need is {longest} s)"
        ));
    }
    out
}

/// The warnings (one line each) for `rows` of `plan`; empty when every row is steady.
pub(super) fn warnings(plan: &Plan, rows: &[Row]) -> Vec<String> {
    let mut out = vec![];
    let mut unchecked = 0;
    // Rows whose window before the first fault is too short to judge, and that fault.
    let mut cut_short: (usize, f64) = (0, f64::INFINITY);
    for row in rows {
        let Some(planned) = plan.row_for(row.technique, &row.sweep) else {
            continue;
        };
        let warmup_s = secs(planned.scenario.warmup);
        let predicted = needed_warmup(&planned.scenario);
        let unseen = |out: &mut Vec<String>| {
            if predicted.seconds > warmup_s {
                out.push(format!(
                    "note: {} {}: MSER-5 sees no transient, but the warm-up {warmup_s} s is \
                     shorter than the {} s predicted ({}); the run may be too short to show it",
                    row.technique,
                    runner::describe_point(&row.sweep),
                    predicted.seconds,
                    predicted.why
                ));
            }
        };
        match steady::detect_row(&row.timeseries, &planned.scenario) {
            Steadiness::Steady => unseen(&mut out),
            Steadiness::TooFewBuckets {
                before_fault_s: None,
                ..
            } => {
                unchecked += 1;
                unseen(&mut out);
            }
            Steadiness::TooFewBuckets {
                before_fault_s: Some(at),
                ..
            } => {
                cut_short = (cut_short.0 + 1, cut_short.1.min(at));
                unseen(&mut out);
            }
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
    if cut_short.0 > 0 {
        out.push(format!(
            "note: steady state not checked for {} row(s): the start-up is judged before the \
             first fault in the measured window (at {} s), and the run has no window before \
             it or fewer than {} time-series buckets up to it (move the fault later or \
             shorten timeseries_bucket)",
            cut_short.0,
            cut_short.1,
            steady::MIN_BATCHES * steady::BATCH
        ));
    }
    out
}
