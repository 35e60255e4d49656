//! Scales and ticks: the range an axis covers and where its labelled ticks go, and how a
//! tick is written for people (`10k`, `250 ms`, `1 MiB/s`, `50%`; on linear byte axes,
//! whose ticks are round decimal numbers, `500 kB/s`).
//!
//! Log axes get whole decades, or the swept values themselves when there are a few, so
//! an axis of clients reads `1k, 10k, 100k` and one of intervals `1 s, 3 s, 10 s, 30 s`.
//! Everything is plain arithmetic on the values (no logarithms), so charts are the same
//! bytes on every platform.

use crate::columns::Unit;
use crate::units::human;

/// A tick label: the value in the column's unit, for people.
pub(super) fn tick(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count => human::si(v),
        Unit::Seconds => human::duration(v, true),
        Unit::Time => format!("{} s", human::si(v)),
        Unit::Bytes => human::bytes(v, true),
        Unit::BytesPerSecond => format!("{}/s", human::bytes(v, true)),
        Unit::Fraction => human::percent(v),
    }
}

/// A tick label on a linear axis. Plotters puts linear ticks on round decimal values
/// (500,000, 1,000,000), so bytes are written in decimal units there (`500 kB/s`,
/// `1 MB/s`): in binary units the same ticks would read `488 KiB/s`, `977 KiB/s`.
pub(super) fn linear_tick(unit: Unit, v: f64) -> String {
    let decimal = |v: f64| {
        let text = human::si(v);
        match text.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => format!("{} {c}B", &text[..i]),
            _ => format!("{text} B"),
        }
    };
    match unit {
        Unit::Bytes => decimal(v),
        Unit::BytesPerSecond => format!("{}/s", decimal(v)),
        _ => tick(unit, v),
    }
}

/// The largest power of ten ≤ `v` (v > 0), by repeated multiplication.
fn decade_floor(v: f64) -> f64 {
    let mut p = 1.0;
    while p > v {
        p /= 10.0;
    }
    while p * 10.0 <= v {
        p *= 10.0;
    }
    p
}

/// The smallest power of ten ≥ `v` (v > 0).
fn decade_ceil(v: f64) -> f64 {
    let p = decade_floor(v);
    if p >= v { p } else { p * 10.0 }
}

/// Axis range over `values`. On a log axis (positive values only): a quarter beyond the
/// data each way, widened to whole decades when no power of ten would fall inside (the
/// only ticks a log axis gets). Otherwise from 0 (or the minimum, if `from_zero` is
/// false) to a little above the maximum.
pub(super) fn range(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> (f64, f64) {
    let values: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    if log {
        let pos: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
        let (lo, hi) = pos.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
        if pos.is_empty() {
            return (0.1, 10.0);
        }
        let (lo, hi) = (lo / 1.25, hi * 1.25);
        if decade_ceil(lo) <= hi {
            (lo, hi)
        } else {
            (decade_floor(lo), decade_ceil(hi))
        }
    } else {
        let (mut lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        if values.is_empty() {
            return (0.0, 1.0);
        }
        if from_zero {
            lo = lo.min(0.0);
        }
        let span = hi - lo;
        // A margin each way, so a marker on the first or last value is drawn whole.
        if span <= 0.0 {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - pad * 0.05, lo + pad)
        } else if from_zero {
            (lo - span * 0.03, hi + span * 0.08)
        } else {
            (lo - span * 0.05, hi + span * 0.05)
        }
    }
}

/// Ticks of a log axis over `lo..hi`: labelled (`bold`) and grid-only (`light`).
///
/// Labels go on the swept values themselves when `data` has 2–10 distinct ones (an x
/// axis of clients 1k, 10k, 100k or intervals 1 s, 3 s, 10 s, 30 s). Otherwise on
/// 1-2-5 × 10ⁿ (1-10-100 × 1024ⁿ for bytes, so labels read `1 KiB`, `10 KiB`, `1 MiB`),
/// thinned to whole powers when that gives more than ten.
pub(super) fn log_ticks(lo: f64, hi: f64, unit: Unit, data: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let bytes = matches!(unit, Unit::Bytes | Unit::BytesPerSecond);
    let (base, mults, light_mults): (f64, &[f64], &[f64]) = if bytes {
        (
            1024.0,
            &[1.0, 10.0, 100.0],
            &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0],
        )
    } else {
        (
            10.0,
            &[1.0, 2.0, 5.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        )
    };
    let over = |ms: &[f64]| -> Vec<(f64, bool)> {
        let mut p = 1.0;
        while p > lo {
            p /= base;
        }
        while p * base <= lo {
            p *= base;
        }
        let mut out = Vec::new();
        while p <= hi {
            for (i, m) in ms.iter().enumerate() {
                let v = p * m;
                if v >= lo && v <= hi {
                    out.push((v, i == 0));
                }
            }
            p *= base;
        }
        out
    };
    let light: Vec<f64> = over(light_mults).into_iter().map(|(v, _)| v).collect();
    let mut swept: Vec<f64> = data
        .iter()
        .copied()
        .filter(|v| *v >= lo && *v <= hi)
        .collect();
    swept.sort_by(f64::total_cmp);
    swept.dedup();
    if (2..=10).contains(&swept.len()) {
        return (swept, light);
    }
    let mut all = over(mults);
    if all.len() < 3 && bytes {
        // Within one or two powers of 1024 (1 GiB to 4 GiB): 1-2-3-5-7 steps, so every
        // point has a labelled tick near it.
        all = over(&[
            1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0, 50.0, 70.0, 100.0, 200.0, 300.0, 500.0,
            700.0,
        ]);
    }
    if all.len() < 3 && !bytes {
        all = over(&[1.0, 2.0, 3.0, 5.0, 7.0]);
    }
    let bold: Vec<f64> = if all.len() > 10 {
        let powers: Vec<f64> = all.iter().filter(|(_, p)| *p).map(|(v, _)| *v).collect();
        let step = powers.len().div_ceil(10);
        powers.into_iter().step_by(step).collect()
    } else {
        all.into_iter().map(|(v, _)| v).collect()
    };
    (bold, light)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades() {
        assert_eq!(decade_floor(3500.0), 1000.0);
        assert_eq!(decade_ceil(3500.0), 10_000.0);
        assert_eq!(decade_ceil(1000.0), 1000.0);
        assert_eq!(
            range([1000.0, 100_000.0].into_iter(), true, true),
            (800.0, 125_000.0)
        );
        assert_eq!(range([0.0, 5.0].into_iter(), true, true), (1.0, 10.0));
        assert_eq!(range([2.0, 5.0].into_iter(), true, true), (1.0, 10.0));
    }

    #[test]
    fn log_ticks_are_human() {
        let (bold, _) = log_ticks(0.8, 37.5, Unit::Seconds, &[1.0, 3.0, 10.0, 30.0, 3.0]);
        assert_eq!(bold, [1.0, 3.0, 10.0, 30.0]);
        let (bold, light) = log_ticks(0.032, 37.5, Unit::Seconds, &[]);
        let labels: Vec<String> = bold.iter().map(|v| tick(Unit::Seconds, *v)).collect();
        assert_eq!(
            labels,
            [
                "50 ms", "100 ms", "200 ms", "500 ms", "1 s", "2 s", "5 s", "10 s", "20 s"
            ]
        );
        assert!(light.len() > bold.len());
        let (bold, _) = log_ticks(0.8, 1.25e6, Unit::Count, &[]);
        let labels: Vec<String> = bold.iter().map(|v| tick(Unit::Count, *v)).collect();
        assert_eq!(labels, ["1", "10", "100", "1k", "10k", "100k", "1M"]);
        let (bold, _) = log_ticks(500.0, 2.0e7, Unit::BytesPerSecond, &[]);
        let labels: Vec<String> = bold
            .iter()
            .map(|v| tick(Unit::BytesPerSecond, *v))
            .collect();
        assert_eq!(
            labels,
            ["1 KiB/s", "10 KiB/s", "100 KiB/s", "1 MiB/s", "10 MiB/s"]
        );
        assert_eq!(range(std::iter::empty(), false, true), (0.0, 1.0));
        assert_eq!(tick(Unit::Time, 70.0), "70 s");
        assert_eq!(tick(Unit::Fraction, 0.5), "50%");
        // One power of 1024 in range: 1-2-3-5-7 steps instead of a single tick.
        let gib = 1024.0 * 1024.0 * 1024.0;
        let (bold, _) = log_ticks(0.9 * gib, 4.5 * gib, Unit::Bytes, &[]);
        let labels: Vec<String> = bold.iter().map(|v| tick(Unit::Bytes, *v)).collect();
        assert_eq!(labels, ["1 GiB", "2 GiB", "3 GiB"]);
        assert_eq!(linear_tick(Unit::BytesPerSecond, 500_000.0), "500 kB/s");
        assert_eq!(linear_tick(Unit::Bytes, 1_500_000.0), "1.5 MB");
        assert_eq!(linear_tick(Unit::Bytes, 0.0), "0 B");
        assert_eq!(linear_tick(Unit::Seconds, 0.25), tick(Unit::Seconds, 0.25));
    }
}
