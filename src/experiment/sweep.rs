//! Sweep expansion: `[sweep]` axes × techniques → planned rows.
//!
//! Row order: for each technique in `techniques` order, each combination of the *shared*
//! keys (first key outermost, last key fastest), then each combination of that technique's
//! own keys (`short-polling.*`, `long-polling.*`, `sse.*`, `websocket.*`), which multiply
//! only that technique's rows. A row's other-technique keys read `""`.
//!
//! Two stable ids (SHA-256, first 8 bytes little-endian):
//! - `random_point` hashes the shared sweep values only, so all techniques at one shared
//!   point draw the same random numbers (common random numbers);
//! - `row_id` hashes the technique and all of its sweep values, so adding sweep points
//!   later does not renumber existing rows.

use sha2::{Digest, Sha256};

use crate::scenario::Technique;

use super::document::{Axis, RawExperiment, technique_of};
use super::error::{ExperimentError, Problem};
use super::validate::Ctx;
use super::{PlannedRow, SweepAxis};

/// Most rows one experiment may plan.
pub(crate) const MAX_ROWS: u64 = 100_000;

/// Checks each sweep value on its own, as if it were written at its key; the error points
/// at the array element.
pub(crate) fn check_values(ctx: &Ctx, raw: &RawExperiment) -> Result<(), ExperimentError> {
    let mut probe = without_sweep(raw);
    for axis in &raw.sweep {
        for v in &axis.values {
            probe.set_path(&axis.key, v).map_err(|p| ctx.err(p))?;
        }
    }
    Ok(())
}

/// The experiment without its `[sweep]`, cheap to clone once per row.
fn without_sweep(raw: &RawExperiment) -> RawExperiment {
    RawExperiment {
        sweep: Vec::new(),
        ..raw.clone()
    }
}

/// The public view of the axes.
pub(crate) fn public_axes(raw: &RawExperiment) -> Vec<SweepAxis> {
    raw.sweep
        .iter()
        .map(|a| SweepAxis {
            key: a.key.clone(),
            values: a.values.iter().map(|v| v.to_toml()).collect(),
        })
        .collect()
}

/// Plans every row, validating each one.
pub(crate) fn expand(
    ctx: &mut Ctx,
    raw: &RawExperiment,
    techniques: &[Technique],
) -> Result<Vec<PlannedRow>, ExperimentError> {
    let shared: Vec<&Axis> = raw
        .sweep
        .iter()
        .filter(|a| technique_of(&a.key).is_none())
        .collect();
    let shared_count = count(&shared);
    let mut total: u64 = 0;
    for &t in techniques {
        let own: Vec<&Axis> = own_axes(raw, t);
        total = total.saturating_add(shared_count.saturating_mul(count(&own)));
    }
    if total > MAX_ROWS {
        let loc = raw
            .sweep
            .first()
            .map(|a| a.key_loc.clone())
            .unwrap_or_default();
        return Err(ctx.err(
            Problem::new(
                &loc,
                format!("a sweep of at most {MAX_ROWS} rows (techniques × combinations)"),
                format!("{total} rows"),
            )
            .title("the sweep is too large"),
        ));
    }
    for axis in &raw.sweep {
        if let Some(t) = technique_of(&axis.key) {
            if !techniques.contains(&t) {
                let pos = ctx.sources.position(&axis.key_loc);
                let line = format!(
                    "{pos}: warning: sweep key `{}` has no effect: {t} is not in `techniques`",
                    axis.key
                );
                if !ctx.warnings.contains(&line) {
                    ctx.warnings.push(line);
                }
            }
        }
    }

    let unswept = without_sweep(raw);
    let mut rows = Vec::new();
    for &t in techniques {
        let own = own_axes(raw, t);
        for shared_pick in combinations(&shared) {
            let random_point = hash(
                b"rtsim-point",
                shared
                    .iter()
                    .zip(&shared_pick)
                    .map(|(a, &i)| (a.key.as_str(), a.values[i].render_plain())),
            );
            for own_pick in combinations(&own) {
                let mut point = unswept.clone();
                let mut chosen: Vec<(&Axis, usize)> = Vec::new();
                chosen.extend(shared.iter().copied().zip(shared_pick.iter().copied()));
                chosen.extend(own.iter().copied().zip(own_pick.iter().copied()));
                for (axis, i) in &chosen {
                    let mut value = axis.values[*i].clone();
                    value.loc.swept = true;
                    point.set_path(&axis.key, &value).map_err(|p| ctx.err(p))?;
                }
                let filled = ctx.fill(&point)?;
                let scenario = ctx.scenario(&filled, t, random_point)?;
                let sweep: Vec<(String, String)> = raw
                    .sweep
                    .iter()
                    .map(|a| {
                        let value = chosen
                            .iter()
                            .find(|(c, _)| std::ptr::eq(*c, a))
                            .map_or(String::new(), |(c, i)| c.values[*i].render_plain());
                        (a.key.clone(), value)
                    })
                    .collect();
                let row_id = hash(
                    format!("rtsim-row\0{t}").as_bytes(),
                    sweep
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.as_str(), v.clone())),
                );
                rows.push(PlannedRow {
                    technique: t,
                    sweep,
                    scenario,
                    row_id,
                });
            }
        }
    }
    Ok(rows)
}

fn own_axes(raw: &RawExperiment, t: Technique) -> Vec<&Axis> {
    raw.sweep
        .iter()
        .filter(|a| technique_of(&a.key) == Some(t))
        .collect()
}

fn count(axes: &[&Axis]) -> u64 {
    axes.iter()
        .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64))
}

/// All index combinations, first axis outermost. One empty combination when no axes.
fn combinations(axes: &[&Axis]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for axis in axes {
        let mut next = Vec::with_capacity(out.len() * axis.values.len());
        for prefix in &out {
            for i in 0..axis.values.len() {
                let mut c = prefix.clone();
                c.push(i);
                next.push(c);
            }
        }
        out = next;
    }
    out
}

/// SHA-256 over a tag and (key, value) pairs; the first 8 bytes, little-endian.
fn hash<'a>(tag: &[u8], pairs: impl Iterator<Item = (&'a str, String)>) -> u64 {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0u8]);
    for (k, v) in pairs {
        h.update(k.as_bytes());
        h.update([0u8]);
        h.update(v.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
