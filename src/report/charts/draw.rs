//! Drawing with plotters: a [`Figure`] (or the trade-off table image) becomes an SVG and a
//! PNG of [`SIZE`], each written atomically.
//!
//! Text uses DejaVu Sans embedded from the `dejavu` crate (registered once as
//! `sans-serif`), so no fontconfig is needed. The layout: the title (wrapped when long)
//! on top, the panels (side by side, or two by two), and one legend for the whole figure
//! in a strip under them — outside every plot area, so it never covers data. Each
//! legend swatch is drawn as its line is (solid, dashed, dotted; theory short-dashed and
//! thin, references long-dashed; a marker when the line has them; a band's shade).
//! Axes get a margin so markers on the first and last values are drawn whole; linear
//! axes get round ticks, log axes ticks near every point. On a log axis, values of 0
//! are drawn on the axis floor and a note under the legend says so; error bars are the
//! 95 % CI when the rows have one; time series mark the warm-up end and faults.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::figure::{Figure, Panel, Stroke};
use super::scale::{linear_tick, log_ticks, range, tick};
use super::table::wrap;
use super::{FONT, SIZE};
use crate::columns::Unit;
use crate::report::{ChartError, ReportError, with_temp_file, write_atomic};
use crate::results::Row;

/// Registers DejaVu Sans (regular and bold) as `sans-serif`, once per process.
pub(super) fn ensure_fonts() -> Result<(), ReportError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(ReportError::Font) }
}

pub(super) type Fallible = Result<(), ChartError>;

/// One legend entry: how its swatch is drawn.
struct Entry {
    label: String,
    color: RGBColor,
    stroke: Stroke,
    weight: u32,
    marker: bool,
    band: bool,
}

const LEGEND_FONT: u32 = 16;
const LEGEND_ROW: i32 = 24;
const SWATCH: i32 = 40;

/// The legend of a figure: every labelled series of every panel, once.
fn entries(fig: &Figure) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for s in fig.panels.iter().flat_map(|p| &p.series) {
        if s.label.is_empty() {
            continue;
        }
        if let Some(e) = out.iter_mut().find(|e| e.label == s.label) {
            e.band |= !s.band.is_empty();
            e.marker |= s.markers;
            continue;
        }
        out.push(Entry {
            label: s.label.clone(),
            color: s.color,
            stroke: s.stroke,
            weight: s.weight,
            marker: s.markers,
            band: !s.band.is_empty(),
        });
    }
    out
}

/// The series drawn on a log axis's floor because their value is 0, for the note.
fn floored(fig: &Figure) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in fig.panels.iter().filter(|p| p.y.log) {
        for s in &p.series {
            let zero = s.points.iter().any(|q| q.y <= 0.0) || s.reference.is_some_and(|y| y <= 0.0);
            if zero && !out.contains(&s.label) {
                out.push(s.label.clone());
            }
        }
    }
    out
}

/// Entries placed left to right in rows of `width` pixels: (row, x) of each.
fn layout<DB: DrawingBackend<ErrorType: 'static>>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    width: i32,
) -> Result<Vec<(i32, i32)>, ChartError> {
    let style = TextStyle::from((FONT, LEGEND_FONT).into_font());
    let mut places = Vec::new();
    let (mut row, mut x) = (0, 0);
    for e in entries {
        let (w, _) = area.estimate_text_size(&e.label, &style)?;
        let w = SWATCH + 8 + w as i32 + 28;
        if x > 0 && x + w > width {
            row += 1;
            x = 0;
        }
        places.push((row, x));
        x += w;
    }
    Ok(places)
}

/// A line segment drawn as `stroke` draws.
/// Whether the path turns back on itself at `b` by more than 120°, where a mitred join
/// of a thick line would reach far beyond the vertex.
fn sharp_turn(a: (i32, i32), b: (i32, i32), c: (i32, i32)) -> bool {
    let (ux, uy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    let (vx, vy) = (f64::from(c.0 - b.0), f64::from(c.1 - b.1));
    let (lu, lv) = (ux.hypot(uy), vx.hypot(vy));
    lu > 0.0 && lv > 0.0 && (ux * vx + uy * vy) / (lu * lv) < -0.5
}

fn stroke_path<DB: DrawingBackend<ErrorType: 'static>, C>(
    target: &mut ChartContext<'_, DB, C>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    (stroke, weight): (Stroke, u32),
) -> Fallible
where
    C: CoordTranslate<From = (f64, f64)>,
{
    let (dash, gap, width) = dashes(stroke, weight);
    let color = ink(color, stroke);
    if dash == 0 {
        // A thick polyline is filled with mitred joins, and a near-reversal (a spike one
        // bucket wide) mitres out of the plot, across the title or the legend. Split the
        // path at such turns and round the tip instead.
        let pixels: Vec<(i32, i32)> = points
            .iter()
            .map(|p| target.as_coord_spec().translate(p))
            .collect();
        let mut start = 0;
        for i in 1..points.len().saturating_sub(1) {
            if width > 1 && sharp_turn(pixels[i - 1], pixels[i], pixels[i + 1]) {
                let part = points[start..=i].to_vec();
                target.draw_series(std::iter::once(PathElement::new(
                    part,
                    color.stroke_width(width),
                )))?;
                target.draw_series(std::iter::once(Circle::new(
                    points[i],
                    width / 2,
                    color.filled(),
                )))?;
                start = i;
            }
        }
        target.draw_series(std::iter::once(PathElement::new(
            points[start..].to_vec(),
            color.stroke_width(width),
        )))?;
    } else {
        target.draw_series(std::iter::once(DashedPathElement::new(
            points,
            dash,
            gap,
            color.stroke_width(width),
        )))?;
    }
    Ok(())
}

/// (dash, gap, width) in pixels; dash 0 is a solid line. A measured line is `weight`
/// pixels wider than the thinnest: lines drawn first are wider, so where two lines
/// coincide (SSE and WebSockets often do) the first still shows around the second.
fn dashes(stroke: Stroke, weight: u32) -> (u32, u32, u32) {
    let width = [3, 4, 5, 7][weight.min(3) as usize];
    match stroke {
        Stroke::Solid => (0, 0, width),
        Stroke::Dashed => (10, 6, width),
        Stroke::Dotted => (3, 5, width),
        Stroke::Theory => (6, 5, 2),
        Stroke::Reference => (14, 8, 2),
    }
}

/// A marker's radius for a line of `weight`.
fn radius(weight: u32) -> u32 {
    [5, 6, 8, 10][weight.min(3) as usize]
}

/// The colour a line is drawn in: theory in a darker shade of its technique's colour,
/// so that its dashes show on top of the measured line they follow.
fn ink(color: RGBColor, stroke: Stroke) -> RGBColor {
    match stroke {
        Stroke::Theory => RGBColor(color.0 / 2, color.1 / 2, color.2 / 2),
        _ => color,
    }
}

fn draw_legend<DB: DrawingBackend<ErrorType: 'static>>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    note: &str,
) -> Fallible {
    let (w, _) = area.dim_in_pixel();
    let places = layout(area, entries, w as i32 - 40)?;
    let rows = places.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let style = TextStyle::from((FONT, LEGEND_FONT).into_font());
    for ((row, x), e) in places.iter().zip(entries) {
        let (x, y) = (20 + x, 8 + row * LEGEND_ROW + LEGEND_ROW / 2);
        if e.band {
            area.draw(&Rectangle::new(
                [(x, y - 8), (x + SWATCH, y + 8)],
                e.color.mix(0.2).filled(),
            ))?;
        }
        let (dash, gap, width) = dashes(e.stroke, e.weight);
        let color = ink(e.color, e.stroke);
        let line = vec![(x, y), (x + SWATCH, y)];
        if dash == 0 {
            area.draw(&PathElement::new(line, color.stroke_width(width)))?;
        } else {
            area.draw(&DashedPathElement::new(
                line,
                dash,
                gap,
                color.stroke_width(width),
            ))?;
        }
        if e.marker {
            area.draw(&Circle::new(
                (x + SWATCH / 2, y),
                radius(e.weight),
                e.color.filled(),
            ))?;
        }
        area.draw(&Text::new(
            e.label.clone(),
            (x + SWATCH + 8, y - 9),
            style.clone(),
        ))?;
    }
    if !note.is_empty() {
        let y = 8 + rows * LEGEND_ROW + 2;
        area.draw(&Text::new(
            note.to_string(),
            (20, y),
            TextStyle::from((FONT, 15).into_font()).color(&RGBColor(0x55, 0x55, 0x55)),
        ))?;
    }
    Ok(())
}

fn draw_figure<DB>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (width, height) = root.dim_in_pixel();
    // The title, wrapped to the width.
    let title_style = TextStyle::from((FONT, 26).into_font());
    let lines = wrap(root, &fig.title, &title_style, width - 60)?;
    let title_h = 14 + 32 * lines.len() as u32;
    for (i, line) in lines.iter().enumerate() {
        let (w, _) = root.estimate_text_size(line, &title_style)?;
        root.draw(&Text::new(
            line.clone(),
            (((width - w) / 2) as i32, 10 + 32 * i as i32),
            title_style.clone(),
        ))?;
    }
    // The legend strip under the panels.
    let entries = entries(fig);
    let places = layout(root, &entries, width as i32 - 40)?;
    let rows = places.iter().map(|p| p.0 + 1).max().unwrap_or(0) as u32;
    let floor = floored(fig);
    let mut notes: Vec<String> = Vec::new();
    for p in &fig.panels {
        if !p.note.is_empty() && !notes.contains(&p.note) {
            notes.push(p.note.clone());
        }
    }
    if !floor.is_empty() {
        notes.push(format!(
            "On a log axis a value of 0 is drawn on the axis floor: {}.",
            floor.join(", ")
        ));
    }
    let note = notes.join("  ");
    let legend_h = 16 + rows * LEGEND_ROW as u32 + if note.is_empty() { 0 } else { 24 };
    let (_, body) = root.split_vertically(title_h);
    let (plots, legend) = body.split_vertically(height - title_h - legend_h);
    let n = fig.panels.len().max(1);
    let grid = if n <= 2 { (1, n) } else { (n.div_ceil(2), 2) };
    for (panel, area) in fig.panels.iter().zip(plots.split_evenly(grid)) {
        draw_panel(&area, panel)?;
    }
    draw_legend(&legend, &entries, &note)
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
    let categories = p.x.categories.len();
    let (x0, x1) = if categories > 0 {
        (0.5, categories as f64 + 0.5)
    } else {
        range(xs, p.x.log, false)
    };
    let ys: Vec<f64> = p
        .series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .flat_map(|q| {
                    let e = q.err.unwrap_or(0.0);
                    [q.y - e, q.y + e]
                })
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
                .chain(s.reference)
        })
        .collect();
    let (y0, y1) = p
        .y_range
        .unwrap_or_else(|| range(ys.iter().copied(), p.y.log, true));
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
    // Linear axes keep plotters' own round ticks (a 1-2-5 step, at least a tenth of
    // the span, so the margin under 0 never gets a negative tick of its own).
    let lin_x = || x0..x1;
    let log_y = || {
        let (bold, light) = log_ticks(y0, y1, p.y.unit, &[]);
        (y0..y1)
            .log_scale()
            .with_key_points(bold)
            .with_light_points(light)
    };
    let lin_y = || y0..y1;
    let frame = (x0, x1, y0, y1);
    match (p.x.log, p.y.log) {
        (true, true) => plot(area, p, log_x(), log_y(), frame),
        (true, false) => plot(area, p, log_x(), lin_y(), frame),
        (false, true) => plot(area, p, lin_x(), log_y(), frame),
        (false, false) => plot(area, p, lin_x(), lin_y(), frame),
    }
}

fn plot<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    x_range: X,
    y_range: Y,
    (x0, x1, y_floor, y_top): (f64, f64, f64, f64),
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
    let x_labels = if p.x.categories.is_empty() {
        8
    } else {
        p.x.categories.len() * 2 + 1
    };
    let (xu, yu) = (p.x.unit, p.y.unit);
    let (x_log, y_log) = (p.x.log, p.y.log);
    let label = move |unit, log, v: f64| {
        if log {
            tick(unit, v)
        } else {
            linear_tick(unit, v)
        }
    };
    let categories = p.x.categories.clone();
    // -0 and 1e-17 are written as 0; a categorical axis names its whole positions.
    let clean = |v: f64| if v.abs() < 1e-12 { 0.0 } else { v };
    // Whole things (instances, clients) get no tick between two whole numbers.
    let whole = p.x.unit == Unit::Count
        && p.series
            .iter()
            .flat_map(|s| &s.points)
            .all(|q| q.x.fract() == 0.0);
    let x_fmt = move |v: &f64| {
        if whole && !x_log && v.fract().abs() > 1e-9 {
            String::new()
        } else if categories.is_empty() {
            label(xu, x_log, clean(*v))
        } else if (v - v.round()).abs() > 0.01 {
            String::new()
        } else {
            let i = v.round() as usize;
            categories
                .get(i.wrapping_sub(1))
                .cloned()
                .unwrap_or_default()
        }
    };
    let y_fmt = move |v: &f64| label(yu, y_log, clean(*v));
    chart
        .configure_mesh()
        .x_desc(p.x.label.as_str())
        .y_desc(p.y.label.as_str())
        .x_labels(x_labels)
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        .bold_line_style(RGBColor(0xCC, 0xCC, 0xCC))
        .draw()?;

    // On a log axis, zero or negative values sit on the axis floor.
    let clamp = |y: f64| if p.y.log && y <= y_floor { y_floor } else { y };
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
        if let Some(y) = s.reference {
            stroke_path(
                &mut chart,
                vec![(x0, clamp(y)), (x1, clamp(y))],
                color,
                (s.stroke, s.weight),
            )?;
        } else {
            let pts: Vec<(f64, f64)> = s.points.iter().map(|q| (q.x, clamp(q.y))).collect();
            stroke_path(&mut chart, pts, color, (s.stroke, s.weight))?;
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
                    .map(|q| Circle::new((q.x, clamp(q.y)), radius(s.weight), color.filled())),
            )?;
        }
    }
    // Time marks: a grey dashed line each, its label at the top, stepped down so that
    // neighbouring labels do not overlap.
    let grey = RGBColor(0x44, 0x44, 0x44);
    let mark_style = TextStyle::from((FONT, 14).into_font()).color(&grey);
    for (i, m) in p
        .marks
        .iter()
        .filter(|m| m.at_s >= x0 && m.at_s <= x1)
        .enumerate()
    {
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(m.at_s, y_floor), (m.at_s, y_top)],
            5,
            4,
            grey.stroke_width(1),
        )))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((m.at_s, y_top))
                + Text::new(m.label.clone(), (4, 4 + 17 * i as i32), mark_style.clone()),
        ))?;
    }
    Ok(())
}

/// What one chart file shows.
pub(super) enum Drawing<'a> {
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
            Drawing::Table(rows) => super::table::draw_table(root, rows),
        }
    }
}

/// Draws `drawing` as `dir/stem.svg` and `dir/stem.png`, each written atomically.
pub(super) fn render(
    dir: &Path,
    stem: &str,
    drawing: &Drawing,
) -> Result<Vec<PathBuf>, ReportError> {
    let failed = |source| ReportError::Chart {
        stem: stem.to_string(),
        source,
    };
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        drawing.draw(&root).map_err(failed)?;
        root.present().map_err(|e| failed(e.into()))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let png_path = dir.join(format!("{stem}.png"));
    with_temp_file(&png_path, |_file, tmp| {
        let root = BitMapBackend::new(tmp, SIZE).into_drawing_area();
        drawing.draw(&root).map_err(failed)?;
        root.present().map_err(|e| failed(e.into()))
    })?;
    Ok(vec![svg_path, png_path])
}
