//! Drawing with plotters: a [`Figure`] (or the trade-off table image) becomes an SVG and a
//! PNG of [`SIZE`], each written atomically.
//!
//! Text uses DejaVu Sans embedded from the `dejavu` crate (registered once as
//! `sans-serif`), so no fontconfig is needed. On a log axis, values of 0 are drawn on
//! the axis floor and the legend says so; error bars are the 95 % CI when the rows
//! have one; reference lines are long dashes, theory short ones.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::builtin::Legend;
use super::figure::{Figure, Panel};
use super::scale::{log_ticks, range, tick};
use super::{FONT, SIZE};
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
            .position(match p.legend {
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0x99, 0x99, 0x99))
            .draw()?;
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
