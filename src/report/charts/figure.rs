//! The figure model — what a chart file shows, before any pixel — and the one path that
//! builds it from a [`Chart`] (built-in or an experiment's `[[charts]]`) and the rows.
//!
//! A panel's axes are columns of `results.csv` by name, looked up in the column list
//! (`crate::columns::result_column`), or several of them added up
//! (`"bytes_down_per_s + bytes_up_per_s"`). Each point is what the CSV holds: an empty
//! cell is no point, a swept value is the quantity it spells.

use super::builtin::{Chart, Legend, PanelSpec, Rows};
use super::select::{Along, first_rows, has_positions, slice};
use super::technique_color;
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
    pub(super) legend: Legend,
}

pub(super) struct Axis {
    pub(super) label: String,
    pub(super) log: bool,
    pub(super) unit: Unit,
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
    /// Drawn dashed and thin: the closed-form prediction beside the simulated points, or
    /// every other value of an experiment chart's series.
    pub(super) dashed: bool,
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
            dashed: false,
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
) -> Result<Figure, ChartError> {
    let panels = chart
        .panels
        .iter()
        .map(|p| panel(p, results, sweep_keys))
        .collect::<Result<_, _>>()?;
    Ok(Figure {
        title: chart.title.clone(),
        panels,
    })
}

fn panel(p: &PanelSpec, results: &Results, sweep_keys: &[String]) -> Result<Panel, ChartError> {
    let (series, x_unit, y_unit) = match p.rows {
        Rows::FirstSeries => {
            let column = |name: &str| {
                point_column(name).ok_or_else(|| ChartError::NoPointColumn(name.to_string()))
            };
            let (x, y) = (column(&p.spec.x)?, column(&p.spec.y)?);
            let series = first_rows(results.rows())
                .into_iter()
                .map(|i| {
                    let r = &results.rows()[i];
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
                    Series::line(r.technique, points, p.look.markers)
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            (series, x.unit(), y.unit())
        }
        Rows::Along(_) | Rows::Every => {
            let (Some(x), Some(y)) = (
                Expr::parse(&p.spec.x, sweep_keys),
                Expr::parse(&p.spec.y, sweep_keys),
            ) else {
                return Err(no_row_has_both(p));
            };
            let series = match p.rows {
                Rows::Along(along_axis) => along_lines(p, results, along_axis, &x, &y),
                _ => series_lines(p, results, &x, &y),
            };
            if series.is_empty() && p.rows == Rows::Every {
                return Err(no_row_has_both(p));
            }
            (series, x.unit(results), y.unit(results))
        }
    };
    Ok(Panel {
        title: p.spec.title.clone().unwrap_or_default(),
        x: Axis {
            label: p.look.x_label.unwrap_or(&p.spec.x).to_string(),
            log: p.spec.log_x,
            unit: x_unit,
        },
        y: Axis {
            label: p.look.y_label.unwrap_or(&p.spec.y).to_string(),
            log: p.spec.log_y,
            unit: y_unit,
        },
        y_range: p.look.y_range,
        series,
        legend: p.look.legend,
    })
}

fn no_row_has_both(p: &PanelSpec) -> ChartError {
    ChartError::NoRows {
        x: p.spec.x.clone(),
        y: p.spec.y.clone(),
    }
}

/// One line per technique along `along`, then theory's dashed lines, then reference
/// lines, as the look asks.
fn along_lines(p: &PanelSpec, results: &Results, along: Along, x: &Expr, y: &Expr) -> Vec<Series> {
    let rows = results.rows();
    let band = p.look.band.map(|b| {
        let column = |name| Expr {
            terms: vec![result_column(name, &[]).expect("a band names metric columns")],
        };
        (column(b.low), column(b.high), b.legend)
    });
    let mut series: Vec<Series> = Technique::ALL
        .into_iter()
        .map(|t| {
            let line = slice(rows, t, along);
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
            if let Some((low, high, legend)) = &band {
                s.label = format!("{} {legend}", t.title());
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
    if let Some(theory) = y.theory().filter(|_| p.look.theory) {
        let theory = Expr {
            terms: vec![theory],
        };
        series.extend(
            Technique::ALL
                .into_iter()
                .map(|t| {
                    let points: Vec<Pt> = slice(rows, t, along)
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
                        dashed: true,
                    }
                })
                .filter(|s| s.points.len() >= 2),
        );
    }
    if p.look.references {
        series.extend(
            Technique::ALL
                .into_iter()
                .filter(|&t| !has_positions(rows, t, along))
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
                        dashed: false,
                    })
                }),
        );
    }
    series
}

/// Every row with both values, one line per value of `spec.series` (default: per
/// technique), in order of first appearance. A technique keeps its colour; with a
/// series key, every other value of it is drawn dashed.
fn series_lines(p: &PanelSpec, results: &Results, x: &Expr, y: &Expr) -> Vec<Series> {
    let series_key = p.spec.series.as_deref().unwrap_or("technique");
    let mut values: Vec<String> = Vec::new();
    let mut groups: Vec<(String, Technique, bool, Vec<Pt>)> = Vec::new();
    for (i, row) in results.rows().iter().enumerate() {
        let (Some(px), Some(py)) = (x.value(results, i), y.value(results, i)) else {
            continue;
        };
        let (label, dashed) = if series_key == "technique" {
            (row.technique.title().to_string(), false)
        } else {
            let v = row.sweep_value(series_key).to_string();
            let k = values.iter().position(|x| *x == v).unwrap_or_else(|| {
                values.push(v.clone());
                values.len() - 1
            });
            (
                format!("{}, {series_key} = {v}", row.technique.title()),
                k % 2 == 1,
            )
        };
        let point = Pt {
            x: px,
            y: py,
            err: y.ci(results, i),
        };
        match groups.iter_mut().find(|(l, _, _, _)| *l == label) {
            Some((_, _, _, pts)) => pts.push(point),
            None => groups.push((label, row.technique, dashed, vec![point])),
        }
    }
    groups
        .into_iter()
        .map(|(label, technique, dashed, mut points)| {
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            Series {
                label,
                color: technique_color(technique),
                points,
                band: Vec::new(),
                reference: None,
                markers: p.look.markers,
                dashed,
            }
        })
        .collect()
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
