//! The figure model — what a chart file shows, before any pixel — and the one path that
//! builds it from a [`Chart`] (built-in or an experiment's `[[charts]]`) and the rows.
//!
//! A panel's axes are columns of `results.csv` by name, looked up in the column list
//! (`crate::columns::result_column`), or several of them added up
//! (`"bytes_down_per_s + bytes_up_per_s"`). Each point is what the CSV holds: an empty
//! cell is no point, a swept value is the quantity it spells.

use super::builtin::{Chart, PanelSpec, Rows};
use super::select::{Along, Positions, has_positions, own_values, slice};
use super::{TimeMark, technique_color, words};
use crate::columns::{Cell, Column, PREDICTED, Unit, point_column, result_column};
use crate::report::{ChartError, Results, representative_index};
use crate::scenario::Technique;

use plotters::style::RGBColor;

pub(super) struct Figure {
    pub(super) title: String,
    pub(super) panels: Vec<Panel>,
}

pub(super) struct Panel {
    /// Caption over the panel; empty for none.
    pub(super) title: String,
    pub(super) x: Axis,
    pub(super) y: Axis,
    pub(super) y_range: Option<(f64, f64)>,
    pub(super) series: Vec<Series>,
    /// Vertical lines across the panel (the end of the warm-up, a crash).
    pub(super) marks: Vec<TimeMark>,
    /// What the panel's shading means, for the note under the legend; empty for none.
    pub(super) note: String,
}

pub(super) struct Axis {
    pub(super) label: String,
    pub(super) log: bool,
    pub(super) unit: Unit,
    /// Names of the categories at 1, 2, 3… on a categorical axis; empty otherwise.
    pub(super) categories: Vec<String>,
}

/// How a line is drawn, and its legend swatch with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Stroke {
    /// A measured line (thick).
    Solid,
    /// A second line of the same technique (thick, dashed).
    Dashed,
    /// A third one (thick, dotted).
    Dotted,
    /// Theory's closed form (thin, short dashes).
    Theory,
    /// A reference level (long dashes).
    Reference,
}

impl Stroke {
    /// The k-th line of one technique in a chart.
    fn nth(k: usize) -> Stroke {
        [Stroke::Solid, Stroke::Dashed, Stroke::Dotted][k % 3]
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Pt {
    pub(super) x: f64,
    pub(super) y: f64,
    /// Half-width of the 95 % CI.
    pub(super) err: Option<f64>,
}

pub(super) struct Series {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<Pt>,
    /// `(x, low, high)`: a shaded band.
    pub(super) band: Vec<(f64, f64, f64)>,
    /// A dashed horizontal reference line at this y, across the whole x range.
    pub(super) reference: Option<f64>,
    pub(super) markers: bool,
    pub(super) stroke: Stroke,
    /// Extra width of the line and its markers: 3 for the first technique down to 0 for
    /// the last, so coinciding lines stay visible.
    pub(super) weight: u32,
}

/// The weight of a technique's lines before [`weigh`] (see [`Series::weight`]).
fn weight(_: Technique) -> u32 {
    0
}

/// Gives the measured lines of a panel their weights: with n techniques drawn, the
/// first gets n − 1 and the last 0, so each line is wider than those drawn over it.
fn weigh(mut series: Vec<Series>) -> Vec<Series> {
    let key = |c: RGBColor| (c.0, c.1, c.2);
    let measured = |s: &Series| matches!(s.stroke, Stroke::Solid | Stroke::Dashed | Stroke::Dotted);
    let mut present: Vec<(u8, u8, u8)> = Vec::new();
    for s in series.iter().filter(|s| measured(s)) {
        if !present.contains(&key(s.color)) {
            present.push(key(s.color));
        }
    }
    for s in series.iter_mut().filter(|s| measured(s)) {
        let rank = present.iter().position(|c| *c == key(s.color)).unwrap_or(0);
        s.weight = (present.len() - 1 - rank) as u32;
    }
    series
}

impl Series {
    fn line(t: Technique, points: Vec<Pt>, markers: bool) -> Series {
        Series {
            label: t.title().to_string(),
            color: technique_color(t),
            points,
            band: Vec::new(),
            reference: None,
            markers,
            stroke: Stroke::Solid,
            weight: weight(t),
        }
    }
}

/// An axis of a panel: one column of `results.csv`, or several added up.
struct Expr<'k> {
    terms: Vec<Column<'k>>,
}

impl<'k> Expr<'k> {
    /// `None` when a term is not a column.
    fn parse(text: &str, sweep_keys: &'k [String]) -> Option<Expr<'k>> {
        let terms = text
            .split('+')
            .map(|t| result_column(t.trim(), sweep_keys))
            .collect::<Option<Vec<_>>>()?;
        Some(Expr { terms })
    }

    /// Row `i`'s value: the sum of its terms' cells; `None` if one is empty or not a
    /// quantity.
    fn value(&self, results: &Results, i: usize) -> Option<f64> {
        let row = &results.rows()[i];
        self.terms.iter().try_fold(0.0, |sum, c| {
            let (v, _) = c.cell(row, results.theory(i)).quantity()?;
            Some(sum + v)
        })
    }

    /// Row `i`'s 95 % half-width: the sum of its terms' (each a metric with a CI);
    /// `None` when a term has none.
    fn ci(&self, results: &Results, i: usize) -> Option<f64> {
        let row = &results.rows()[i];
        self.terms.iter().try_fold(0.0, |sum, c| match c {
            Column::Mean(m) if m.has_ci() => match Column::Ci(m).cell(row, None) {
                Cell::Num(v) => Some(sum + v),
                _ => None,
            },
            _ => None,
        })
    }

    /// The unit of the first term; a swept key's is that of its values (a duration, a
    /// size or a count).
    fn unit(&self, results: &Results) -> Unit {
        let first = self.terms[0];
        first.unit().unwrap_or_else(|| {
            results
                .rows()
                .iter()
                .find_map(|r| first.cell(r, None).quantity().and_then(|(_, u)| u))
                .unwrap_or(Unit::Count)
        })
    }

    /// The column of theory's prediction, when the axis is one predicted metric.
    fn theory(&self) -> Option<Column<'static>> {
        match self.terms.as_slice() {
            [Column::Mean(m)] => PREDICTED
                .iter()
                .position(|p| *p == m.name())
                .map(Column::Theory),
            _ => None,
        }
    }
}

/// The figure of `chart` over `results`.
pub(super) fn figure(
    chart: &Chart,
    results: &Results,
    sweep_keys: &[String],
    marks: &[TimeMark],
) -> Result<Figure, ChartError> {
    let panels = chart
        .panels
        .iter()
        .map(|p| panel(p, results, sweep_keys, marks))
        .collect::<Result<_, _>>()?;
    Ok(Figure {
        title: chart.title.clone(),
        panels,
    })
}

fn panel(
    p: &PanelSpec,
    results: &Results,
    sweep_keys: &[String],
    marks: &[TimeMark],
) -> Result<Panel, ChartError> {
    let mut categories = Vec::new();
    let (series, x_unit, y_unit) = match &p.rows {
        Rows::Series(group) => {
            let column = |name: &str| {
                point_column(name).ok_or_else(|| ChartError::NoPointColumn(name.to_string()))
            };
            let (x, y) = (column(&p.spec.x)?, column(&p.spec.y)?);
            (time_lines(p, results, group, x, y), x.unit(), y.unit())
        }
        Rows::Along(_) | Rows::Every => {
            let (Some(x), Some(y)) = (
                Expr::parse(&p.spec.x, sweep_keys),
                Expr::parse(&p.spec.y, sweep_keys),
            ) else {
                return Err(no_row_has_both(p));
            };
            // A swept key's values as positions: quantities, or categories in order.
            let along = match (&p.rows, x.terms.as_slice()) {
                (Rows::Along(a), _) => a.clone(),
                (_, [Column::Sweep(k)]) => Along::of_key(k),
                _ => Along::Clients,
            };
            let at = match (&p.rows, x.terms.as_slice()) {
                (Rows::Along(_), _) | (_, [Column::Sweep(_)]) => {
                    Some(Positions::of(results.rows(), &along))
                }
                _ => None,
            };
            if let Some(at) = &at {
                categories = at.categories.clone();
            }
            let xs = XValues {
                expr: &x,
                at: at.as_ref(),
            };
            let series = match &p.rows {
                Rows::Along(_) => along_lines(p, results, &along, &xs, &y),
                _ => series_lines(p, results, &xs, &y),
            };
            if series.is_empty() && p.rows == Rows::Every {
                return Err(no_row_has_both(p));
            }
            (series, x.unit(results), y.unit(results))
        }
    };
    let series = weigh(series);
    let label = |given: &Option<String>, column: &str| {
        given.clone().unwrap_or_else(|| words::label(column))
    };
    let categorical = !categories.is_empty();
    Ok(Panel {
        title: p.spec.title.clone().unwrap_or_default(),
        x: Axis {
            label: label(&p.spec.x_label, &p.spec.x),
            log: p.spec.log_x && !categorical,
            unit: x_unit,
            categories,
        },
        y: Axis {
            label: label(&p.spec.y_label, &p.spec.y),
            log: p.spec.log_y,
            unit: y_unit,
            categories: Vec::new(),
        },
        y_range: p.look.y_range,
        series,
        marks: if p.look.marks {
            marks.to_vec()
        } else {
            Vec::new()
        },
        note: p.look.band.map_or(String::new(), |b| b.legend.to_string()),
    })
}

/// The x of each row: its position on a swept key's axis when there is one, else the
/// column's value.
struct XValues<'a, 'k> {
    expr: &'a Expr<'k>,
    at: Option<&'a Positions>,
}

impl XValues<'_, '_> {
    fn value(&self, results: &Results, i: usize) -> Option<f64> {
        match self.at {
            Some(at) => at.x.get(i).copied().flatten(),
            None => self.expr.value(results, i),
        }
    }
}

/// One line per row of `group` over simulated time. A technique with several rows in
/// the group draws them solid, dashed, dotted, each labelled by its own swept values.
fn time_lines(
    p: &PanelSpec,
    results: &Results,
    group: &[usize],
    x: &crate::columns::PointColumn,
    y: &crate::columns::PointColumn,
) -> Vec<Series> {
    let rows = results.rows();
    let mut seen: Vec<Technique> = Vec::new();
    group
        .iter()
        .filter(|&&i| p.spec.techniques.contains(&rows[i].technique))
        .map(|&i| {
            let r = &rows[i];
            let k = seen.iter().filter(|t| **t == r.technique).count();
            seen.push(r.technique);
            let points = r
                .timeseries
                .iter()
                .filter_map(|q| {
                    Some(Pt {
                        x: x.get(q)?,
                        y: y.get(q)?,
                        err: None,
                    })
                })
                .filter(|q| q.x.is_finite() && q.y.is_finite())
                .collect();
            let mut s = Series::line(r.technique, points, p.look.markers);
            let own = own_values(r, rows);
            if !own.is_empty() {
                s.label = format!("{}, {own}", r.technique.title());
            }
            s.stroke = Stroke::nth(k);
            s
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

fn no_row_has_both(p: &PanelSpec) -> ChartError {
    ChartError::NoRows {
        x: p.spec.x.clone(),
        y: p.spec.y.clone(),
    }
}

/// One line per technique along `along`, then theory's dashed lines, then reference
/// lines, as the look asks.
fn along_lines(
    p: &PanelSpec,
    results: &Results,
    along: &Along,
    x: &XValues,
    y: &Expr,
) -> Vec<Series> {
    let rows = results.rows();
    let owned;
    let at = match x.at {
        Some(at) => at,
        None => {
            owned = Positions::of(rows, along);
            &owned
        }
    };
    let shown = |t: &Technique| p.spec.techniques.contains(t);
    let band = p.look.band.map(|b| {
        let column = |name| Expr {
            terms: vec![result_column(name, &[]).expect("a band names metric columns")],
        };
        (column(b.low), column(b.high))
    });
    let mut series: Vec<Series> = Technique::ALL
        .into_iter()
        .filter(shown)
        .map(|t| {
            let line = slice(rows, t, along, at);
            let points = line
                .iter()
                .filter_map(|&i| {
                    Some(Pt {
                        x: x.value(results, i)?,
                        y: y.value(results, i)?,
                        err: y.ci(results, i),
                    })
                })
                .collect();
            let mut s = Series::line(t, points, p.look.markers);
            if let Some((low, high)) = &band {
                s.band = line
                    .iter()
                    .filter_map(|&i| {
                        Some((
                            x.value(results, i)?,
                            low.value(results, i)?,
                            high.value(results, i)?,
                        ))
                    })
                    .collect();
            }
            s
        })
        .filter(|s| !s.points.is_empty() || !s.band.is_empty())
        .collect();
    if let Some(theory) = y.theory().filter(|_| p.spec.theory) {
        let theory = Expr {
            terms: vec![theory],
        };
        series.extend(
            Technique::ALL
                .into_iter()
                .filter(shown)
                .map(|t| {
                    let points: Vec<Pt> = slice(rows, t, along, at)
                        .into_iter()
                        .filter_map(|i| {
                            Some(Pt {
                                x: x.value(results, i)?,
                                y: theory.value(results, i)?,
                                err: None,
                            })
                        })
                        .collect();
                    Series {
                        label: format!("{} (theory)", t.title()),
                        color: technique_color(t),
                        points,
                        band: Vec::new(),
                        reference: None,
                        markers: false,
                        stroke: Stroke::Theory,
                        weight: 0,
                    }
                })
                .filter(|s| s.points.len() >= 2),
        );
    }
    if p.look.references {
        series.extend(
            Technique::ALL
                .into_iter()
                .filter(shown)
                .filter(|&t| !has_positions(rows, t, at))
                .filter_map(|t| representative_index(rows, t))
                .filter_map(|i| {
                    let t = rows[i].technique;
                    Some(Series {
                        label: format!("{} (reference)", t.title()),
                        color: technique_color(t),
                        points: Vec::new(),
                        band: Vec::new(),
                        reference: Some(y.value(results, i)?),
                        markers: false,
                        stroke: Stroke::Reference,
                        weight: 0,
                    })
                }),
        );
    }
    series
}

/// Every row with both values, one line per value of `spec.series` (default: per
/// technique), in order of first appearance. A technique keeps its colour; with a
/// series key, every other value of it is drawn dashed.
fn series_lines(p: &PanelSpec, results: &Results, x: &XValues, y: &Expr) -> Vec<Series> {
    let series_key = p.spec.series.as_deref().unwrap_or("technique");
    let theory = y
        .theory()
        .filter(|_| p.spec.theory)
        .map(|c| Expr { terms: vec![c] });
    let mut values: Vec<String> = Vec::new();
    // (label, technique, k-th value of the series key, points, theory points)
    type Group = (String, Technique, usize, Vec<Pt>, Vec<Pt>);
    let mut groups: Vec<Group> = Vec::new();
    for (i, row) in results.rows().iter().enumerate() {
        if !p.spec.techniques.contains(&row.technique) {
            continue;
        }
        let Some(px) = x.value(results, i) else {
            continue;
        };
        let py = y.value(results, i);
        let predicted = theory.as_ref().and_then(|t| t.value(results, i));
        if py.is_none() && predicted.is_none() {
            continue;
        }
        let (label, k) = if series_key == "technique" {
            (row.technique.title().to_string(), 0)
        } else {
            let v = row.sweep_value(series_key).to_string();
            let k = values.iter().position(|x| *x == v).unwrap_or_else(|| {
                values.push(v.clone());
                values.len() - 1
            });
            (
                format!(
                    "{}, {} = {v}",
                    row.technique.title(),
                    words::label(series_key)
                ),
                k,
            )
        };
        let group = match groups.iter().position(|g| g.0 == label) {
            Some(g) => g,
            None => {
                groups.push((label, row.technique, k, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        if let Some(py) = py {
            groups[group].3.push(Pt {
                x: px,
                y: py,
                err: y.ci(results, i),
            });
        }
        if let Some(t) = predicted {
            groups[group].4.push(Pt {
                x: px,
                y: t,
                err: None,
            });
        }
    }
    let mut lines = Vec::new();
    let mut theories = Vec::new();
    for (label, technique, k, mut points, mut predicted) in groups {
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        predicted.sort_by(|a, b| a.x.total_cmp(&b.x));
        if predicted.len() >= 2 {
            theories.push(Series {
                label: format!("{label} (theory)"),
                color: technique_color(technique),
                points: predicted,
                band: Vec::new(),
                reference: None,
                markers: false,
                stroke: Stroke::Theory,
                weight: 0,
            });
        }
        if !points.is_empty() {
            lines.push(Series {
                label,
                color: technique_color(technique),
                points,
                band: Vec::new(),
                reference: None,
                markers: p.look.markers,
                stroke: Stroke::nth(k),
                weight: weight(technique),
            });
        }
    }
    lines.extend(theories);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::TheoryCells;
    use crate::report::testdata;

    fn keys() -> Vec<String> {
        testdata::keys()
    }

    #[test]
    fn sums_add_cells_and_their_intervals() {
        let rows = vec![testdata::row(Technique::Sse, 100_000, None)];
        let results = Results::unannotated(rows.clone());
        let keys = keys();
        let e = Expr::parse("bytes_down_per_s + bytes_up_per_s", &keys).unwrap();
        let m = &rows[0].mean;
        assert_eq!(
            e.value(&results, 0),
            Some(m.bytes_down_per_s + m.bytes_up_per_s)
        );
        let c = rows[0].ci95.as_ref().unwrap();
        assert_eq!(
            e.ci(&results, 0),
            Some(c.bytes_down_per_s + c.bytes_up_per_s)
        );
        assert_eq!(e.unit(&results), Unit::BytesPerSecond);
        assert!(Expr::parse("bytes_down_per_s + nothing", &keys).is_none());
        // A swept value is the quantity it spells, in its own unit.
        let clients = Expr::parse("workload.clients", &keys).unwrap();
        assert_eq!(clients.value(&results, 0), Some(100_000.0));
        assert_eq!(clients.unit(&results), Unit::Count);
        // Counts carry no interval.
        assert_eq!(
            Expr::parse("deliveries", &keys).unwrap().ci(&results, 0),
            None
        );
    }

    #[test]
    fn theory_is_read_from_the_annotation() {
        let rows = vec![testdata::row(Technique::ShortPolling, 1000, Some(3.0))];
        let mut cells: TheoryCells = [None; PREDICTED.len()];
        cells[2] = Some(1.75);
        let results = Results::new(rows, vec![cells]);
        let keys = keys();
        let y = Expr::parse("latency_mean_s", &keys).unwrap();
        let theory = Expr {
            terms: vec![y.theory().unwrap()],
        };
        assert_eq!(theory.value(&results, 0), Some(1.75));
        assert_eq!(Expr::parse("latency_p50_s", &keys).unwrap().theory(), None);
        let direct = Expr::parse("theory_latency_mean_s", &keys).unwrap();
        assert_eq!(direct.value(&results, 0), Some(1.75));
        assert_eq!(direct.unit(&results), Unit::Seconds);
    }
}
