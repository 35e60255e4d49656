//! Charts (plotters, no system fonts): SVG and PNG, 1280×720, into `DIR/charts/`.
//!
//! | file stem | drawn when | shows |
//! |---|---|---|
//! | `requests-vs-clients` | clients swept | HTTP requests/s vs clients, log–log |
//! | `latency-vs-interval` | short-polling interval swept | short-polling latency (mean, p50–p99 band) vs interval; other techniques as dashed reference lines |
//! | `connections-memory-vs-clients` | clients swept | open connections and server memory vs clients |
//! | `bytes-vs-clients` | clients swept | bytes/s on the wire (down + up) and overhead share vs clients |
//! | `empty-fraction-vs-interval` | short-polling interval swept | share of empty responses vs interval |
//! | `timeseries` | always | connections and handshakes/s over time, each technique's first row |
//! | `tradeoff-table` | always | the trade-off table as an image |
//!
//! A line follows one technique along one axis with every other sweep value held at the
//! technique's representative point ([`super::representative_row`]). Colours are the
//! Okabe–Ito palette, one per technique everywhere; legend names are
//! [`Technique::title`]; error bars are the 95 % CI when the rows have one. Text uses
//! DejaVu Sans embedded from the `dejavu` crate (registered once as `sans-serif`), so
//! no fontconfig is needed. Values of 0 on a log axis are drawn on the axis floor and
//! say so in the legend.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::table::{HEADINGS, table_cells};
use super::{representative_row, with_temp_file, write_atomic};
use crate::results::Row;
use crate::scenario::Technique;
use crate::units::human;

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (1280, 720);

const FONT: &str = "sans-serif";

/// Okabe–Ito colour of a technique (colour-blind safe).
pub fn technique_color(t: Technique) -> RGBColor {
    match t {
        Technique::ShortPolling => RGBColor(0xE6, 0x9F, 0x00),
        Technique::LongPolling => RGBColor(0x56, 0xB4, 0xE9),
        Technique::Sse => RGBColor(0x00, 0x9E, 0x73),
        Technique::Websocket => RGBColor(0xCC, 0x79, 0xA7),
    }
}

/// Registers DejaVu Sans (regular and bold) as `sans-serif`, once per process.
fn ensure_fonts() -> anyhow::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("could not load the embedded DejaVu Sans font"))
    }
}

/// How tick labels of an axis are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Count,
    Seconds,
    /// Simulated time: always seconds, so a time axis never mixes units.
    Time,
    Bytes,
    BytesPerSecond,
    Fraction,
}

fn tick(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count => human::si(v),
        Unit::Seconds => human::duration(v, true),
        Unit::Time => format!("{} s", human::si(v)),
        Unit::Bytes => human::bytes(v, true),
        Unit::BytesPerSecond => format!("{}/s", human::bytes(v, true)),
        Unit::Fraction => human::percent(v),
    }
}

struct Axis {
    label: String,
    log: bool,
    unit: Unit,
}

impl Axis {
    fn new(label: &str, log: bool, unit: Unit) -> Axis {
        Axis {
            label: label.to_string(),
            log,
            unit,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Pt {
    x: f64,
    y: f64,
    /// Half-width of the 95 % CI.
    err: Option<f64>,
}

struct Series {
    label: String,
    color: RGBColor,
    points: Vec<Pt>,
    /// `(x, low, high)`: a shaded band.
    band: Vec<(f64, f64, f64)>,
    /// A dashed horizontal reference line at this y, across the whole x range.
    reference: Option<f64>,
    markers: bool,
    /// Drawn dashed and thin: the closed-form prediction beside the simulated points.
    dashed: bool,
}

impl Series {
    fn line(t: Technique, points: Vec<Pt>) -> Series {
        Series {
            label: t.title().to_string(),
            color: technique_color(t),
            points,
            band: Vec::new(),
            reference: None,
            markers: true,
            dashed: false,
        }
    }
}

struct Panel {
    title: String,
    x: Axis,
    y: Axis,
    /// Fixed y range (fractions: 0–100 %, with room for markers at 100 %).
    y_range: Option<(f64, f64)>,
    series: Vec<Series>,
    legend: SeriesLabelPosition,
}

struct Figure {
    title: String,
    panels: Vec<Panel>,
}

/// The axis a line follows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Along {
    Clients,
    Interval,
}

impl Along {
    fn x(self, r: &Row) -> Option<f64> {
        match self {
            Along::Clients => Some(f64::from(r.clients)),
            Along::Interval => r.poll_interval_s,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Along::Clients => "workload.clients",
            Along::Interval => "short-polling.interval",
        }
    }

    /// `a` and `b` are the same sweep point except along this axis.
    fn same_elsewhere(self, a: &Row, b: &Row) -> bool {
        let other = |r: &Row| -> Vec<(String, String)> {
            r.sweep
                .iter()
                .filter(|(k, _)| k != self.key())
                .cloned()
                .collect()
        };
        (self == Along::Clients || a.clients == b.clients)
            && (self == Along::Interval || a.poll_interval_s == b.poll_interval_s)
            && other(a) == other(b)
    }
}

/// The rows of `t` along `along`, other values held at `t`'s representative point,
/// sorted by x (first row wins on equal x).
fn slice(rows: &[Row], t: Technique, along: Along) -> Vec<&Row> {
    let Some(rep) = representative_row(rows, t) else {
        return Vec::new();
    };
    let mut out: Vec<&Row> = rows
        .iter()
        .filter(|r| r.technique == t && along.x(r).is_some() && along.same_elsewhere(r, rep))
        .collect();
    out.sort_by(|a, b| along.x(a).unwrap().total_cmp(&along.x(b).unwrap()));
    out.dedup_by(|a, b| along.x(a) == along.x(b));
    out
}

/// Distinct values of `along` over `rows`.
fn distinct(rows: &[Row], along: Along) -> usize {
    let mut xs: Vec<f64> = rows.iter().filter_map(|r| along.x(r)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.len()
}

/// One line per technique of `metric` (mean, CI half-width) along `along`.
fn lines(rows: &[Row], along: Along, metric: impl Fn(&Row) -> (f64, Option<f64>)) -> Vec<Series> {
    Technique::ALL
        .into_iter()
        .map(|t| {
            let points = slice(rows, t, along)
                .into_iter()
                .map(|r| {
                    let (y, err) = metric(r);
                    Pt {
                        x: along.x(r).unwrap(),
                        y,
                        err,
                    }
                })
                .filter(|p| p.y.is_finite())
                .collect();
            Series::line(t, points)
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The closed-form predictions (`theory_<name>` of each row) along `along`, one dashed
/// line per technique that has them.
fn theory_lines(results: &super::Results, along: Along, name: &str) -> Vec<Series> {
    let rows = results.rows();
    let Some(i) = crate::columns::PREDICTED.iter().position(|m| *m == name) else {
        return Vec::new();
    };
    Technique::ALL
        .into_iter()
        .map(|t| {
            let points: Vec<Pt> = slice(rows, t, along)
                .into_iter()
                .filter_map(|r| {
                    let k = rows.iter().position(|x| std::ptr::eq(x, r))?;
                    let y = results.theory(k)?[i]?;
                    Some(Pt {
                        x: along.x(r)?,
                        y,
                        err: None,
                    })
                })
                .filter(|p| p.y.is_finite())
                .collect();
            Series {
                label: format!("{} (theory)", t.title()),
                color: technique_color(t),
                points,
                band: Vec::new(),
                reference: None,
                markers: false,
                dashed: true,
            }
        })
        .filter(|s| s.points.len() >= 2)
        .collect()
}

/// A metric's mean and CI half-width.
fn metric(r: &Row, get: fn(&crate::results::RunMetrics) -> f64) -> (f64, Option<f64>) {
    (
        get(&r.mean),
        r.ci95.as_ref().map(get).filter(|e| e.is_finite()),
    )
}

/// What a chart along `along` holds fixed, for its title: `" (short polling every
/// 3 s; network.rtt = 80ms)"` or `" (100,000 clients)"`. Values are those of the
/// representative rows; swept keys other than clients and interval are listed too.
fn context(rows: &[Row], sweep_keys: &[String], along: Along) -> String {
    let mut parts = Vec::new();
    let sp = representative_row(rows, Technique::ShortPolling);
    match along {
        Along::Clients => {
            if let Some(i) = sp.and_then(|r| r.poll_interval_s) {
                parts.push(format!("short polling every {}", human::duration(i, true)));
            }
        }
        Along::Interval => {
            if let Some(r) = sp {
                parts.push(format!(
                    "{} clients",
                    human::thousands(f64::from(r.clients))
                ));
            }
        }
    }
    let reps = super::representative_rows(rows);
    for key in sweep_keys {
        if key == Along::Clients.key() || key == Along::Interval.key() {
            continue;
        }
        let value = reps
            .iter()
            .map(|r| r.sweep_value(key))
            .find(|v| !v.is_empty());
        if let Some(v) = value {
            parts.push(format!("{key} = {v}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn requests_figure(results: &super::Results, ctx: &str) -> Figure {
    let rows = results.rows();
    Figure {
        title: format!("HTTP requests per second vs clients{}", ctx),
        panels: vec![Panel {
            title: String::new(),
            x: Axis::new("clients", true, Unit::Count),
            y: Axis::new("requests per second (req/s)", true, Unit::Count),
            y_range: None,
            series: {
                let mut series = lines(rows, Along::Clients, |r| metric(r, |m| m.requests_per_s));
                series.extend(theory_lines(results, Along::Clients, "requests_per_s"));
                series
            },
            legend: SeriesLabelPosition::UpperLeft,
        }],
    }
}

/// Dashed reference lines of the techniques that do not poll, from their
/// representative rows.
fn references(rows: &[Row], get: fn(&crate::results::RunMetrics) -> f64) -> Vec<Series> {
    Technique::ALL
        .into_iter()
        .filter(|t| *t != Technique::ShortPolling)
        .filter_map(|t| representative_row(rows, t))
        .filter(|r| get(&r.mean).is_finite())
        .map(|r| Series {
            label: format!("{} (reference)", r.technique.title()),
            color: technique_color(r.technique),
            points: Vec::new(),
            band: Vec::new(),
            reference: Some(get(&r.mean)),
            markers: false,
            dashed: false,
        })
        .collect()
}

fn latency_figure(results: &super::Results, ctx: &str) -> Figure {
    let rows = results.rows();
    let mut series = Vec::new();
    let sp = slice(rows, Technique::ShortPolling, Along::Interval);
    let mut line = Series::line(
        Technique::ShortPolling,
        sp.iter()
            .map(|r| {
                let (y, err) = metric(r, |m| m.latency_mean_s);
                Pt {
                    x: r.poll_interval_s.unwrap(),
                    y,
                    err,
                }
            })
            .filter(|p| p.y.is_finite())
            .collect(),
    );
    line.label = "Short polling mean (band: p50–p99)".to_string();
    line.band = sp
        .iter()
        .map(|r| {
            (
                r.poll_interval_s.unwrap(),
                r.mean.latency_p50_s,
                r.mean.latency_p99_s,
            )
        })
        .filter(|(_, lo, hi)| lo.is_finite() && hi.is_finite())
        .collect();
    series.push(line);
    // Only short-polling rows have an interval: the theory line is short polling's.
    series.extend(theory_lines(results, Along::Interval, "latency_mean_s"));
    series.extend(references(rows, |m| m.latency_mean_s));
    Figure {
        title: format!("Update latency vs short-polling interval{}", ctx),
        panels: vec![Panel {
            title: String::new(),
            x: Axis::new("short-polling interval", true, Unit::Seconds),
            y: Axis::new("latency, creation → arrival", true, Unit::Seconds),
            y_range: None,
            series,
            legend: SeriesLabelPosition::UpperLeft,
        }],
    }
}

fn connections_memory_figure(rows: &[Row], ctx: &str) -> Figure {
    Figure {
        title: format!("Connections and memory vs clients{}", ctx),
        panels: vec![
            Panel {
                title: "Open connections (time-weighted mean)".to_string(),
                x: Axis::new("clients", true, Unit::Count),
                y: Axis::new("open TCP connections", true, Unit::Count),
                y_range: None,
                series: lines(rows, Along::Clients, |r| metric(r, |m| m.connections_mean)),
                legend: SeriesLabelPosition::UpperLeft,
            },
            Panel {
                title: "Server memory (mean, all instances)".to_string(),
                x: Axis::new("clients", true, Unit::Count),
                y: Axis::new("server memory", true, Unit::Bytes),
                y_range: None,
                series: lines(rows, Along::Clients, |r| {
                    metric(r, |m| m.server_memory_mean_bytes)
                }),
                legend: SeriesLabelPosition::UpperLeft,
            },
        ],
    }
}

fn bytes_figure(rows: &[Row], ctx: &str) -> Figure {
    Figure {
        title: format!("Bytes on the wire vs clients{}", ctx),
        panels: vec![
            Panel {
                title: "Bytes per second, down + up".to_string(),
                x: Axis::new("clients", true, Unit::Count),
                y: Axis::new("bytes per second", true, Unit::BytesPerSecond),
                y_range: None,
                series: lines(rows, Along::Clients, |r| {
                    let m = &r.mean;
                    let err = r
                        .ci95
                        .as_ref()
                        .map(|c| c.bytes_down_per_s + c.bytes_up_per_s);
                    (m.bytes_down_per_s + m.bytes_up_per_s, err)
                }),
                legend: SeriesLabelPosition::UpperLeft,
            },
            Panel {
                title: "Overhead: share of bytes that are not payload".to_string(),
                x: Axis::new("clients", true, Unit::Count),
                y: Axis::new("overhead share of bytes", false, Unit::Fraction),
                y_range: Some((0.0, 1.04)),
                series: lines(rows, Along::Clients, |r| metric(r, |m| m.overhead_fraction)),
                legend: SeriesLabelPosition::LowerRight,
            },
        ],
    }
}

fn empty_fraction_figure(rows: &[Row], ctx: &str) -> Figure {
    let mut series: Vec<Series> = lines(rows, Along::Interval, |r| {
        metric(r, |m| m.empty_response_fraction)
    });
    series.extend(references(rows, |m| m.empty_response_fraction));
    Figure {
        title: format!("Share of empty responses vs short-polling interval{}", ctx),
        panels: vec![Panel {
            title: String::new(),
            x: Axis::new("short-polling interval", true, Unit::Seconds),
            y: Axis::new("responses without an update", false, Unit::Fraction),
            y_range: Some((0.0, 1.04)),
            series,
            legend: SeriesLabelPosition::LowerRight,
        }],
    }
}

fn timeseries_figure(rows: &[Row]) -> Figure {
    let firsts: Vec<&Row> = Technique::ALL
        .into_iter()
        .filter_map(|t| rows.iter().find(|r| r.technique == t))
        .collect();
    let series = |get: fn(&crate::results::TimePoint) -> f64| -> Vec<Series> {
        firsts
            .iter()
            .map(|r| Series {
                markers: false,
                ..Series::line(
                    r.technique,
                    r.timeseries
                        .iter()
                        .map(|p| Pt {
                            x: p.time_s,
                            y: get(p),
                            err: None,
                        })
                        .filter(|p| p.x.is_finite() && p.y.is_finite())
                        .collect(),
                )
            })
            .filter(|s| !s.points.is_empty())
            .collect()
    };
    let mut clients: Vec<u32> = firsts.iter().map(|r| r.clients).collect();
    clients.dedup();
    let at = if clients.len() == 1 {
        format!(", {} clients", human::thousands(f64::from(clients[0])))
    } else {
        String::new()
    };
    Figure {
        title: format!("Over simulated time (first replication of each technique's first row{at})"),
        panels: vec![
            Panel {
                title: "Open connections".to_string(),
                x: Axis::new("simulated time", false, Unit::Time),
                y: Axis::new("open TCP connections", false, Unit::Count),
                y_range: None,
                series: series(|p| p.connections),
                legend: SeriesLabelPosition::LowerRight,
            },
            Panel {
                title: "New connections per second".to_string(),
                x: Axis::new("simulated time", false, Unit::Time),
                y: Axis::new("handshakes per second", false, Unit::Count),
                y_range: None,
                series: series(|p| p.handshakes_per_s),
                legend: SeriesLabelPosition::UpperRight,
            },
        ],
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
fn range(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> (f64, f64) {
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
        if span <= 0.0 {
            (lo, lo + 1.0)
        } else if from_zero {
            (lo, hi + span * 0.08)
        } else {
            (lo, hi)
        }
    }
}

/// Ticks of a log axis over `lo..hi`: labelled (`bold`) and grid-only (`light`).
///
/// Labels go on the swept values themselves when `data` has 2–10 distinct ones (an x
/// axis of clients 1k, 10k, 100k or intervals 1 s, 3 s, 10 s, 30 s). Otherwise on
/// 1-2-5 × 10ⁿ (1-10-100 × 1024ⁿ for bytes, so labels read `1 KiB`, `10 KiB`, `1 MiB`),
/// thinned to whole powers when that gives more than ten.
fn log_ticks(lo: f64, hi: f64, unit: Unit, data: &[f64]) -> (Vec<f64>, Vec<f64>) {
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
    let all = over(mults);
    let bold: Vec<f64> = if all.len() > 10 {
        let powers: Vec<f64> = all.iter().filter(|(_, p)| *p).map(|(v, _)| *v).collect();
        let step = powers.len().div_ceil(10);
        powers.into_iter().step_by(step).collect()
    } else {
        all.into_iter().map(|(v, _)| v).collect()
    };
    (bold, light)
}

type Fallible = anyhow::Result<()>;

fn draw_figure<DB>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let area = root.titled(&fig.title, (FONT, 26))?;
    let n = fig.panels.len().max(1);
    for (panel, area) in fig.panels.iter().zip(area.split_evenly((1, n))) {
        draw_panel(&area, panel)?;
    }
    Ok(())
}

fn draw_panel<DB>(area: &DrawingArea<DB, Shift>, p: &Panel) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let xs = p.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|q| q.x)
            .chain(s.band.iter().map(|b| b.0))
    });
    let (x0, x1) = range(xs, p.x.log, false);
    let ys = p.series.iter().flat_map(|s| {
        s.points
            .iter()
            .flat_map(|q| {
                let e = q.err.unwrap_or(0.0);
                [q.y - e, q.y + e]
            })
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            .chain(s.reference)
    });
    let (y0, y1) = p.y_range.unwrap_or_else(|| range(ys, p.y.log, true));
    let x_data: Vec<f64> = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.x))
        .collect();
    let log_x = || {
        let (bold, light) = log_ticks(x0, x1, p.x.unit, &x_data);
        (x0..x1)
            .log_scale()
            .with_key_points(bold)
            .with_light_points(light)
    };
    let log_y = || {
        let (bold, light) = log_ticks(y0, y1, p.y.unit, &[]);
        (y0..y1)
            .log_scale()
            .with_key_points(bold)
            .with_light_points(light)
    };
    let frame = (x0, x1, y0);
    match (p.x.log, p.y.log) {
        (true, true) => plot(area, p, log_x(), log_y(), frame),
        (true, false) => plot(area, p, log_x(), y0..y1, frame),
        (false, true) => plot(area, p, x0..x1, log_y(), frame),
        (false, false) => plot(area, p, x0..x1, y0..y1, frame),
    }
}

fn plot<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    x_range: X,
    y_range: Y,
    (x0, x1, y_floor): (f64, f64, f64),
) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(18)
        .x_label_area_size(60)
        .y_label_area_size(100);
    if !p.title.is_empty() {
        builder.caption(&p.title, (FONT, 20));
    }
    let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
    let (xu, yu) = (p.x.unit, p.y.unit);
    let x_fmt = move |v: &f64| tick(xu, *v);
    let y_fmt = move |v: &f64| tick(yu, *v);
    chart
        .configure_mesh()
        .x_desc(p.x.label.as_str())
        .y_desc(p.y.label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        .bold_line_style(RGBColor(0xCC, 0xCC, 0xCC))
        .draw()?;

    // On a log axis, zero or negative values sit on the axis floor.
    let clamp = |y: f64| if p.y.log && y <= y_floor { y_floor } else { y };
    let mut legend = false;
    for s in &p.series {
        let color = s.color;
        if !s.band.is_empty() {
            let mut outline: Vec<(f64, f64)> =
                s.band.iter().map(|&(x, lo, _)| (x, clamp(lo))).collect();
            outline.extend(s.band.iter().rev().map(|&(x, _, hi)| (x, clamp(hi))));
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.2).filled(),
            )))?;
        }
        let floored = p.y.log && s.points.iter().any(|q| q.y <= y_floor && q.y <= 0.0);
        let mut label = s.label.clone();
        if floored {
            label.push_str(" (0 drawn on the axis floor)");
        }
        let style = color.stroke_width(3);
        let series = if let Some(y) = s.reference {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x0, clamp(y)), (x1, clamp(y))],
                12,
                8,
                color.stroke_width(2),
            )))?
        } else if s.dashed {
            let pts: Vec<(f64, f64)> = s.points.iter().map(|q| (q.x, clamp(q.y))).collect();
            chart.draw_series(std::iter::once(DashedPathElement::new(
                pts,
                6,
                5,
                color.stroke_width(2),
            )))?
        } else {
            let pts: Vec<(f64, f64)> = s.points.iter().map(|q| (q.x, clamp(q.y))).collect();
            chart.draw_series(LineSeries::new(pts, style))?
        };
        if !label.is_empty() {
            legend = true;
            series.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
        }
        for q in &s.points {
            if let Some(e) = q.err.filter(|e| *e > 0.0) {
                let (lo, hi) = (clamp(q.y - e), clamp(q.y + e));
                let bar = color.stroke_width(2);
                chart.draw_series([PathElement::new(vec![(q.x, lo), (q.x, hi)], bar)])?;
                chart.draw_series([lo, hi].map(|y| {
                    EmptyElement::at((q.x, y)) + PathElement::new(vec![(-6, 0), (6, 0)], bar)
                }))?;
            }
        }
        if s.markers {
            chart.draw_series(
                s.points
                    .iter()
                    .map(|q| Circle::new((q.x, clamp(q.y)), 5, color.filled())),
            )?;
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(p.legend.clone())
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0x99, 0x99, 0x99))
            .draw()?;
    }
    Ok(())
}

/// Greedy word wrap to `width` pixels.
fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: u32,
) -> anyhow::Result<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        lines.extend(wrap_line(root, paragraph, style, width)?);
    }
    Ok(lines)
}

fn wrap_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: u32,
) -> anyhow::Result<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        let (w, _) = root
            .estimate_text_size(&candidate, style)
            .map_err(|e| anyhow!("measuring text: {e}"))?;
        if w > width && !current.is_empty() {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    Ok(lines)
}

/// The trade-off table as a picture.
fn draw_table<DB>(root: &DrawingArea<DB, Shift>, rows: &[Row]) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let margin = 32i32;
    let title = TextStyle::from((FONT, 28, FontStyle::Bold).into_font()).color(&BLACK);
    let head = TextStyle::from((FONT, 18, FontStyle::Bold).into_font()).color(&BLACK);
    let body = TextStyle::from((FONT, 17).into_font()).color(&BLACK);
    let small = TextStyle::from((FONT, 15).into_font()).color(&RGBColor(0x44, 0x44, 0x44));
    root.draw_text(
        "Trade-off table, regenerated from measured numbers",
        &title,
        (margin, margin),
    )?;
    let (mut lines, caption) = table_cells(rows);
    // The word of a measured cell on a line of its own, its numbers under it.
    for cells in &mut lines {
        for cell in &mut cells[2..4] {
            *cell = cell.replacen(": ", ":\n", 1);
        }
    }
    let fractions = [0.13, 0.13, 0.32, 0.22, 0.20];
    let inner = w as i32 - 2 * margin;
    let mut xs = vec![margin];
    for f in fractions {
        let last = *xs.last().unwrap();
        xs.push(last + (f * f64::from(inner)) as i32);
    }
    let pad = 10;
    let line_h = 24;
    let mut y = margin + 56;

    let mut draw_row = |cells: &[String],
                        style: &TextStyle,
                        fill: Option<RGBColor>,
                        mark: Option<RGBColor>|
     -> anyhow::Result<()> {
        let wrapped = cells
            .iter()
            .enumerate()
            .map(|(i, c)| wrap(root, c, style, (xs[i + 1] - xs[i] - 2 * pad) as u32))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1) as i32;
        let h = n * line_h + 2 * pad;
        if let Some(fill) = fill {
            root.draw(&Rectangle::new(
                [(xs[0], y), (*xs.last().unwrap(), y + h)],
                fill.filled(),
            ))?;
        }
        if let Some(mark) = mark {
            root.draw(&Rectangle::new(
                [(xs[0], y), (xs[0] + 6, y + h)],
                mark.filled(),
            ))?;
        }
        for (i, cell) in wrapped.iter().enumerate() {
            for (j, text) in cell.iter().enumerate() {
                root.draw_text(text, style, (xs[i] + pad + 4, y + pad + j as i32 * line_h))?;
            }
        }
        y += h;
        root.draw(&PathElement::new(
            vec![(xs[0], y), (*xs.last().unwrap(), y)],
            RGBColor(0xBB, 0xBB, 0xBB).stroke_width(1),
        ))?;
        Ok(())
    };
    let headings: Vec<String> = HEADINGS.iter().map(|s| s.to_string()).collect();
    draw_row(&headings, &head, Some(RGBColor(0xEE, 0xEE, 0xEE)), None)?;
    let reps: Vec<Technique> = super::representative_rows(rows)
        .iter()
        .map(|r| r.technique)
        .collect();
    for (cells, t) in lines.iter().zip(reps) {
        draw_row(cells, &body, None, Some(technique_color(t)))?;
    }
    if lines.is_empty() {
        draw_row(&["No results.".to_string()], &body, None, None)?;
    }
    let caption = caption.trim_matches('*');
    let mut cy = y + 20;
    for text in wrap(root, caption, &small, inner as u32)? {
        root.draw_text(&text, &small, (margin, cy))?;
        cy += 20;
    }
    Ok(())
}

/// What one chart file shows.
enum Drawing<'a> {
    Figure(Figure),
    Table(&'a [Row]),
}

impl Drawing<'_> {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Fallible
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        match self {
            Drawing::Figure(f) => draw_figure(root, f),
            Drawing::Table(rows) => draw_table(root, rows),
        }
    }
}

/// Draws `drawing` as `dir/stem.svg` and `dir/stem.png`, each written atomically.
fn render(dir: &Path, stem: &str, drawing: &Drawing) -> anyhow::Result<Vec<PathBuf>> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        drawing.draw(&root)?;
        root.present()?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let png_path = dir.join(format!("{stem}.png"));
    with_temp_file(&png_path, |_file, tmp| {
        let root = BitMapBackend::new(tmp, SIZE).into_drawing_area();
        drawing.draw(&root)?;
        root.present()?;
        Ok(())
    })?;
    Ok(vec![svg_path, png_path])
}

/// A column of a result row as a number, by its public name (see
/// [`crate::columns::result_column`]): swept values as the quantity they spell.
fn column_value(
    results: &super::Results,
    i: usize,
    sweep_keys: &[String],
    name: &str,
) -> Option<f64> {
    let column = crate::columns::result_column(name, sweep_keys)?;
    column
        .cell(&results.rows()[i], results.theory(i))
        .quantity()
        .map(|(v, _)| v)
}

/// How a column's ticks are written, from its name's unit suffix.
fn unit_of(name: &str) -> Unit {
    if name.ends_with("_bytes") {
        Unit::Bytes
    } else if name.ends_with("bytes_down_per_s") || name.ends_with("bytes_up_per_s") {
        Unit::BytesPerSecond
    } else if name.ends_with("_fraction") || name.ends_with("utilization") {
        Unit::Fraction
    } else if name.ends_with("_s") || name.ends_with("interval") || name.ends_with("timeout") {
        Unit::Seconds
    } else {
        Unit::Count
    }
}

/// One chart an experiment asks for in a `[[charts]]` table: `y` against `x`, one line
/// per value of `series` (default: per technique). Columns are named as in results.csv.
fn custom_figure(
    results: &super::Results,
    sweep_keys: &[String],
    spec: &crate::columns::ChartSpec,
) -> anyhow::Result<Figure> {
    let rows = results.rows();
    let series_key = spec.series.as_deref().unwrap_or("technique");
    // Series values in order of appearance: the second, fourth… are drawn dashed.
    let mut values: Vec<String> = Vec::new();
    let mut groups: Vec<(String, Technique, bool, Vec<Pt>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let (Some(x), Some(y)) = (
            column_value(results, i, sweep_keys, &spec.x),
            column_value(results, i, sweep_keys, &spec.y),
        ) else {
            continue;
        };
        let (label, dashed) = if series_key == "technique" {
            (row.technique.title().to_string(), false)
        } else {
            let v = row
                .sweep
                .iter()
                .find(|(k, _)| k == series_key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let k = values.iter().position(|x| *x == v).unwrap_or_else(|| {
                values.push(v.clone());
                values.len() - 1
            });
            (
                format!("{}, {series_key} = {v}", row.technique.title()),
                k % 2 == 1,
            )
        };
        let err = crate::columns::metric(&spec.y)
            .filter(|m| m.has_ci())
            .and_then(|m| row.ci95.as_ref().map(|c| m.get(c)))
            .filter(|e| e.is_finite());
        match groups.iter_mut().find(|(l, _, _, _)| *l == label) {
            Some((_, _, _, pts)) => pts.push(Pt { x, y, err }),
            None => groups.push((label, row.technique, dashed, vec![Pt { x, y, err }])),
        }
    }
    if groups.is_empty() {
        anyhow::bail!(
            "chart {:?}: no row has both `{}` and `{}` (use results.csv column names)",
            spec.title.as_deref().unwrap_or(""),
            spec.x,
            spec.y
        );
    }
    // A technique keeps its colour everywhere; series values alternate solid/dashed.
    let series = groups
        .into_iter()
        .map(|(label, technique, dashed, mut points)| {
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            Series {
                label,
                color: technique_color(technique),
                points,
                band: Vec::new(),
                reference: None,
                markers: true,
                dashed,
            }
        })
        .collect();
    Ok(Figure {
        title: spec
            .title
            .clone()
            .unwrap_or_else(|| format!("{} vs {}", spec.y, spec.x)),
        panels: vec![Panel {
            title: String::new(),
            x: Axis::new(&spec.x, spec.log_x, unit_of(&spec.x)),
            y: Axis::new(&spec.y, spec.log_y, unit_of(&spec.y)),
            y_range: None,
            series,
            legend: SeriesLabelPosition::UpperLeft,
        }],
    })
}

/// Draws the experiment's own `[[charts]]` into `dir/charts/custom-<n>.{svg,png}`.
pub fn draw_custom_charts(
    dir: &Path,
    results: &super::Results,
    sweep_keys: &[String],
    specs: &[crate::columns::ChartSpec],
) -> anyhow::Result<Vec<PathBuf>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    ensure_fonts()?;
    let out = dir.join("charts");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        let figure = custom_figure(results, sweep_keys, spec)?;
        files.extend(render(
            &out,
            &format!("custom-{}", n + 1),
            &Drawing::Figure(figure),
        )?);
    }
    Ok(files)
}

/// Draws every chart that the sweep supports into `dir/charts/` (created if missing),
/// as SVG and PNG; returns the files written. Charts along an axis that was not swept
/// are skipped; the time series and the table image are always drawn.
pub fn draw_charts(
    dir: &Path,
    results: &super::Results,
    sweep_keys: &[String],
) -> anyhow::Result<Vec<PathBuf>> {
    let rows = results.rows();
    // Which axes vary is read from the rows; the keys name what the titles hold fixed.
    let along_clients = context(rows, sweep_keys, Along::Clients);
    let along_interval = context(rows, sweep_keys, Along::Interval);
    ensure_fonts()?;
    let out = dir.join("charts");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let sp: Vec<Row> = rows
        .iter()
        .filter(|r| r.technique == Technique::ShortPolling)
        .cloned()
        .collect();
    let clients_swept = distinct(rows, Along::Clients) >= 2;
    let interval_swept = distinct(&sp, Along::Interval) >= 2;

    let mut drawings: Vec<(&str, Drawing)> = Vec::new();
    if clients_swept {
        drawings.push((
            "requests-vs-clients",
            Drawing::Figure(requests_figure(results, &along_clients)),
        ));
    }
    if interval_swept {
        drawings.push((
            "latency-vs-interval",
            Drawing::Figure(latency_figure(results, &along_interval)),
        ));
    }
    if clients_swept {
        drawings.push((
            "connections-memory-vs-clients",
            Drawing::Figure(connections_memory_figure(rows, &along_clients)),
        ));
        drawings.push((
            "bytes-vs-clients",
            Drawing::Figure(bytes_figure(rows, &along_clients)),
        ));
    }
    if interval_swept {
        drawings.push((
            "empty-fraction-vs-interval",
            Drawing::Figure(empty_fraction_figure(rows, &along_interval)),
        ));
    }
    drawings.push(("timeseries", Drawing::Figure(timeseries_figure(rows))));
    drawings.push(("tradeoff-table", Drawing::Table(rows)));

    let mut written = Vec::new();
    for (stem, drawing) in &drawings {
        written.extend(render(&out, stem, drawing).with_context(|| format!("chart {stem}"))?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;

    fn hex(t: Technique) -> String {
        let c = technique_color(t);
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// Elements of `tag` in `svg` whose attributes mention `color`.
    fn count(svg: &str, tag: &str, color: &str) -> usize {
        svg.split(&format!("<{tag}"))
            .skip(1)
            .filter(|el| el.split('>').next().unwrap_or("").contains(color))
            .count()
    }

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
    }

    #[test]
    fn writes_svg_and_png_for_a_sweep() {
        let dir = tempfile::tempdir().unwrap();
        // Set RTSIM_KEEP_CHARTS=DIR to keep the pictures for a look.
        let keep = std::env::var_os("RTSIM_KEEP_CHARTS").map(PathBuf::from);
        let dir_path = keep.as_deref().unwrap_or(dir.path());
        let mut rows = testdata::headline();
        for r in &mut rows {
            r.ci95 = None;
        }
        let files = draw_charts(
            dir_path,
            &super::super::Results::unannotated(rows.clone()),
            &testdata::keys(),
        )
        .unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for stem in [
            "requests-vs-clients",
            "latency-vs-interval",
            "connections-memory-vs-clients",
            "bytes-vs-clients",
            "empty-fraction-vs-interval",
            "timeseries",
            "tradeoff-table",
        ] {
            assert!(names.contains(&format!("{stem}.svg")), "{stem}.svg");
            assert!(names.contains(&format!("{stem}.png")), "{stem}.png");
        }
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            if f.extension().unwrap() == "png" {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
            } else {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("<svg"), "{}", f.display());
                assert!(text.trim_end().ends_with("</svg>"), "{}", f.display());
                assert_eq!(
                    text.matches("<text").count(),
                    text.matches("</text>").count()
                );
            }
        }

        // requests vs clients: one line (+ its legend swatch) and one marker per row.
        let svg = std::fs::read_to_string(dir_path.join("charts/requests-vs-clients.svg")).unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .map(|t| {
                t.split('>')
                    .nth(1)
                    .unwrap_or("")
                    .trim_end_matches("</text")
                    .trim()
            })
            .collect();
        assert!(texts.contains(&"requests per second (req/s)"));
        assert!(
            texts.contains(&"10k") && texts.contains(&"100k"),
            "{texts:?}"
        );
        assert!(texts.iter().all(|t| !t.contains(".0")), "{texts:?}");
        for t in Technique::ALL {
            let color = hex(t);
            assert_eq!(count(&svg, "polyline", &color), 2, "{t} lines");
            // Short polling is shown at 3 s only: 3 client counts per technique.
            assert_eq!(count(&svg, "circle", &color), 3, "{t} markers");
            assert!(texts.iter().any(|x| x.starts_with(t.title())), "{t} legend");
        }
        assert!(
            texts.contains(&"SSE (0 drawn on the axis floor)"),
            "{texts:?}"
        );
    }

    #[test]
    fn unswept_axes_are_skipped_but_table_and_timeseries_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = Technique::ALL
            .into_iter()
            .map(|t| {
                let i = (t == Technique::ShortPolling).then_some(3.0);
                testdata::row(t, 1000, i)
            })
            .collect();
        let files = draw_charts(
            dir.path(),
            &super::super::Results::unannotated(rows.clone()),
            &[],
        )
        .unwrap();
        let mut names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "timeseries.png",
                "timeseries.svg",
                "tradeoff-table.png",
                "tradeoff-table.svg"
            ]
        );
        let leftovers = std::fs::read_dir(dir.path().join("charts"))
            .unwrap()
            .count();
        assert_eq!(leftovers, 4, "no temporary files remain");
    }

    #[test]
    fn error_bars_when_ci_present() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = [1000, 10_000]
            .into_iter()
            .map(|n| testdata::row(Technique::Sse, n, None))
            .collect();
        draw_charts(
            dir.path(),
            &super::super::Results::unannotated(rows.clone()),
            &testdata::keys(),
        )
        .unwrap();
        let svg =
            std::fs::read_to_string(dir.path().join("charts/requests-vs-clients.svg")).unwrap();
        // line + legend + 2 points × (bar + 2 caps)
        assert_eq!(count(&svg, "polyline", &hex(Technique::Sse)), 2 + 2 * 3);
    }

    #[test]
    fn charts_are_byte_identical_across_runs() {
        let rows = testdata::headline();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let files_a = draw_charts(
            a.path(),
            &super::super::Results::unannotated(rows.clone()),
            &testdata::keys(),
        )
        .unwrap();
        let files_b = draw_charts(
            b.path(),
            &super::super::Results::unannotated(rows.clone()),
            &testdata::keys(),
        )
        .unwrap();
        assert_eq!(files_a.len(), files_b.len());
        for (fa, fb) in files_a.iter().zip(&files_b) {
            assert_eq!(fa.file_name(), fb.file_name());
            assert!(
                std::fs::read(fa).unwrap() == std::fs::read(fb).unwrap(),
                "{}",
                fa.display()
            );
        }
    }

    #[test]
    fn titles_say_what_is_held_fixed() {
        let mut rows = testdata::headline();
        let mut keys = testdata::keys();
        keys.push("network.rtt".to_string());
        for r in &mut rows {
            r.sweep
                .push(("network.rtt".to_string(), "80ms".to_string()));
        }
        assert_eq!(
            context(&rows, &keys, Along::Clients),
            " (short polling every 3 s; network.rtt = 80ms)"
        );
        assert_eq!(
            context(&rows, &keys, Along::Interval),
            " (100,000 clients; network.rtt = 80ms)"
        );
    }

    #[test]
    fn empty_input_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        let files = draw_charts(dir.path(), &super::super::Results::default(), &[]).unwrap();
        assert_eq!(files.len(), 4);
    }

    #[test]
    fn experiment_charts_are_drawn_from_named_columns() {
        let dir = tempfile::tempdir().unwrap();
        let rows = testdata::sweep();
        let spec = crate::columns::ChartSpec {
            x: "clients".into(),
            y: "connections_mean".into(),
            series: None,
            log_x: true,
            log_y: true,
            title: Some("Open connections".into()),
        };
        let files = draw_custom_charts(
            dir.path(),
            &super::super::Results::unannotated(rows.clone()),
            &[],
            std::slice::from_ref(&spec),
        )
        .unwrap();
        assert_eq!(files.len(), 2);
        let svg = std::fs::read_to_string(dir.path().join("charts/custom-1.svg")).unwrap();
        assert!(svg.contains("Open connections"));
        // One line per technique present in the rows.
        for t in Technique::ALL {
            if rows.iter().any(|r| r.technique == t) {
                assert!(count(&svg, "polyline", &hex(t)) >= 1, "{t}");
            }
        }
        let bad = crate::columns::ChartSpec {
            y: "no_such_column".into(),
            ..spec
        };
        assert!(
            draw_custom_charts(
                dir.path(),
                &super::super::Results::unannotated(rows.clone()),
                &[],
                &[bad]
            )
            .is_err()
        );
        let results = super::super::Results::unannotated(rows.clone());
        assert_eq!(
            column_value(&results, 0, &[], "clients"),
            Some(f64::from(rows[0].clients))
        );
    }
}
