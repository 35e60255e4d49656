//! The charts rtsim draws, as data.
//!
//! Every panel of a chart is a [`ChartSpec`] — the very data an experiment's `[[charts]]`
//! table is read into: `y` against `x` by column name, log or linear — plus how a
//! built-in chart dresses it ([`Look`]: axis labels for people, a theory overlay, a
//! p50–p99 band, reference lines) and which rows it shows ([`Rows`]). An experiment's
//! chart is the same thing with the plain look and every row. `figure.rs` turns either
//! into a picture, by one path.

use super::select::{Along, first_rows_held, held_fixed, varies};
use crate::columns::ChartSpec;
use crate::results::Row;

/// One chart file (`<stem>.svg` and `<stem>.png`): a title over panels side by side.
pub(super) struct Chart {
    pub(super) stem: String,
    pub(super) title: String,
    pub(super) panels: Vec<PanelSpec>,
}

/// One panel: what it plots, from which rows, dressed how. `spec.title` is the panel's
/// caption.
pub(super) struct PanelSpec {
    pub(super) spec: ChartSpec,
    pub(super) rows: Rows,
    pub(super) look: Look,
}

/// Which rows a panel draws, and how they make lines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Rows {
    /// Every row that has both values, one line per value of `spec.series` (per
    /// technique by default): an experiment's `[[charts]]`.
    Every,
    /// One line per technique along an axis, every other sweep value held at the
    /// technique's representative point (`select.rs`). `spec.x` is the axis's column.
    Along(Along),
    /// The time series of each technique's first row; `spec.x` and `spec.y` name
    /// `timeseries.csv` columns.
    FirstSeries,
}

/// Where a panel's legend sits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Legend {
    UpperLeft,
    UpperRight,
    LowerRight,
}

/// A shaded band around each line, between two columns (`latency_p50_s` to
/// `latency_p99_s`); the line's legend then says what it and the band are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Band {
    pub(super) low: &'static str,
    pub(super) high: &'static str,
    /// Follows the technique's name in the legend: `"mean (band: p50–p99)"`.
    pub(super) legend: &'static str,
}

/// How a panel is dressed. [`Look::default`] is an experiment chart's: column names on
/// the axes, the legend upper left, markers on every point, nothing more.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Look {
    pub(super) x_label: Option<&'static str>,
    pub(super) y_label: Option<&'static str>,
    /// A fixed y range (shares: 0–100 %, with room for markers at 100 %).
    pub(super) y_range: Option<(f64, f64)>,
    pub(super) legend: Legend,
    /// Theory's prediction of `y` (its `theory_` column) as a thin dashed line per
    /// technique.
    pub(super) theory: bool,
    pub(super) band: Option<Band>,
    /// Techniques that have no position along the axis (the interval of a technique that
    /// does not poll) as a dashed horizontal line at their representative row's value.
    pub(super) references: bool,
    pub(super) markers: bool,
}

impl Default for Look {
    fn default() -> Look {
        Look {
            x_label: None,
            y_label: None,
            y_range: None,
            legend: Legend::UpperLeft,
            theory: false,
            band: None,
            references: false,
            markers: true,
        }
    }
}

/// A fraction's y range: 0–100 %, with room for markers at 100 %.
const SHARE: Option<(f64, f64)> = Some((0.0, 1.04));

fn spec(x: &str, y: &str, (log_x, log_y): (bool, bool), caption: Option<&str>) -> ChartSpec {
    ChartSpec {
        x: x.to_string(),
        y: y.to_string(),
        series: None,
        log_x,
        log_y,
        title: caption.map(str::to_string),
    }
}

/// A panel of one line per technique along `along`.
fn along(along: Along, y: &str, log_y: bool, caption: Option<&str>, look: Look) -> PanelSpec {
    PanelSpec {
        spec: spec(along.column(), y, (true, log_y), caption),
        rows: Rows::Along(along),
        look,
    }
}

fn requests_vs_clients(held: &str) -> Chart {
    Chart {
        stem: "requests-vs-clients".into(),
        title: format!("HTTP requests per second vs clients{held}"),
        panels: vec![along(
            Along::Clients,
            "requests_per_s",
            true,
            None,
            Look {
                x_label: Some("clients"),
                y_label: Some("requests per second (req/s)"),
                theory: true,
                ..Look::default()
            },
        )],
    }
}

fn latency_vs_interval(held: &str) -> Chart {
    Chart {
        stem: "latency-vs-interval".into(),
        title: format!("Update latency vs short-polling interval{held}"),
        panels: vec![along(
            Along::Interval,
            "latency_mean_s",
            true,
            None,
            Look {
                x_label: Some("short-polling interval"),
                y_label: Some("latency, creation → arrival"),
                theory: true,
                band: Some(Band {
                    low: "latency_p50_s",
                    high: "latency_p99_s",
                    legend: "mean (band: p50–p99)",
                }),
                references: true,
                ..Look::default()
            },
        )],
    }
}

fn connections_memory_vs_clients(held: &str) -> Chart {
    let look = |y_label| Look {
        x_label: Some("clients"),
        y_label: Some(y_label),
        ..Look::default()
    };
    Chart {
        stem: "connections-memory-vs-clients".into(),
        title: format!("Connections and memory vs clients{held}"),
        panels: vec![
            along(
                Along::Clients,
                "connections_mean",
                true,
                Some("Open connections (time-weighted mean)"),
                look("open TCP connections"),
            ),
            along(
                Along::Clients,
                "server_memory_mean_bytes",
                true,
                Some("Server memory (mean, all instances)"),
                look("server memory"),
            ),
        ],
    }
}

fn bytes_vs_clients(held: &str) -> Chart {
    Chart {
        stem: "bytes-vs-clients".into(),
        title: format!("Bytes on the wire vs clients{held}"),
        panels: vec![
            along(
                Along::Clients,
                "bytes_down_per_s + bytes_up_per_s",
                true,
                Some("Bytes per second, down + up"),
                Look {
                    x_label: Some("clients"),
                    y_label: Some("bytes per second"),
                    ..Look::default()
                },
            ),
            along(
                Along::Clients,
                "overhead_fraction",
                false,
                Some("Overhead: share of bytes that are not payload"),
                Look {
                    x_label: Some("clients"),
                    y_label: Some("overhead share of bytes"),
                    y_range: SHARE,
                    legend: Legend::LowerRight,
                    ..Look::default()
                },
            ),
        ],
    }
}

fn empty_fraction_vs_interval(held: &str) -> Chart {
    Chart {
        stem: "empty-fraction-vs-interval".into(),
        title: format!("Share of empty responses vs short-polling interval{held}"),
        panels: vec![along(
            Along::Interval,
            "empty_response_fraction",
            false,
            None,
            Look {
                x_label: Some("short-polling interval"),
                y_label: Some("responses without an update"),
                y_range: SHARE,
                legend: Legend::LowerRight,
                references: true,
                ..Look::default()
            },
        )],
    }
}

fn timeseries(held: &str) -> Chart {
    let panel = |y: &str, caption, y_label, legend| PanelSpec {
        spec: spec("time_s", y, (false, false), Some(caption)),
        rows: Rows::FirstSeries,
        look: Look {
            x_label: Some("simulated time"),
            y_label: Some(y_label),
            legend,
            markers: false,
            ..Look::default()
        },
    };
    Chart {
        stem: "timeseries".into(),
        title: format!(
            "Over simulated time (first replication of each technique's first row{held})"
        ),
        panels: vec![
            panel(
                "connections",
                "Open connections",
                "open TCP connections",
                Legend::LowerRight,
            ),
            panel(
                "handshakes_per_s",
                "New connections per second",
                "handshakes per second",
                Legend::UpperRight,
            ),
        ],
    }
}

/// The built-in charts the rows support, in drawing order: a chart along an axis only
/// when the rows take two values or more along it; the time series always. Titles say
/// what each chart holds fixed.
pub(super) fn builtin(rows: &[Row], sweep_keys: &[String]) -> Vec<Chart> {
    let clients = varies(rows, Along::Clients);
    let interval = varies(rows, Along::Interval);
    let along_clients = held_fixed(rows, sweep_keys, Along::Clients);
    let along_interval = held_fixed(rows, sweep_keys, Along::Interval);
    let mut charts = Vec::new();
    if clients {
        charts.push(requests_vs_clients(&along_clients));
    }
    if interval {
        charts.push(latency_vs_interval(&along_interval));
    }
    if clients {
        charts.push(connections_memory_vs_clients(&along_clients));
        charts.push(bytes_vs_clients(&along_clients));
    }
    if interval {
        charts.push(empty_fraction_vs_interval(&along_interval));
    }
    charts.push(timeseries(&first_rows_held(rows)));
    charts
}

/// An experiment's `n`-th `[[charts]]` table (from 1), as `custom-<n>`: one panel of
/// every row, its title the spec's (or `"<y> vs <x>"`).
pub(super) fn custom(n: usize, spec: &ChartSpec) -> Chart {
    Chart {
        stem: format!("custom-{n}"),
        title: spec
            .title
            .clone()
            .unwrap_or_else(|| format!("{} vs {}", spec.y, spec.x)),
        panels: vec![PanelSpec {
            spec: ChartSpec {
                title: None,
                ..spec.clone()
            },
            rows: Rows::Every,
            look: Look::default(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{point_column, result_column};
    use crate::report::testdata;

    #[test]
    fn every_built_in_panel_names_real_columns() {
        let rows = testdata::headline();
        let keys = testdata::keys();
        let charts = builtin(&rows, &keys);
        let stems: Vec<&str> = charts.iter().map(|c| c.stem.as_str()).collect();
        assert_eq!(
            stems,
            [
                "requests-vs-clients",
                "latency-vs-interval",
                "connections-memory-vs-clients",
                "bytes-vs-clients",
                "empty-fraction-vs-interval",
                "timeseries"
            ]
        );
        for chart in &charts {
            for p in &chart.panels {
                for axis in [&p.spec.x, &p.spec.y] {
                    for term in axis.split('+').map(str::trim) {
                        let known = match p.rows {
                            Rows::FirstSeries => point_column(term).is_some(),
                            _ => result_column(term, &keys).is_some(),
                        };
                        assert!(known, "{}: `{term}`", chart.stem);
                    }
                }
                if let Some(band) = p.look.band {
                    assert!(result_column(band.low, &keys).is_some());
                    assert!(result_column(band.high, &keys).is_some());
                }
            }
        }
    }

    #[test]
    fn unswept_axes_leave_only_the_time_series() {
        let rows = vec![testdata::row(crate::scenario::Technique::Sse, 1000, None)];
        let charts = builtin(&rows, &[]);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].stem, "timeseries");
        assert_eq!(
            charts[0].title,
            "Over simulated time (first replication of each technique's first row, 1,000 clients)"
        );
    }

    #[test]
    fn an_experiment_chart_is_a_plain_spec() {
        let spec = ChartSpec {
            x: "clients".into(),
            y: "connections_mean".into(),
            series: None,
            log_x: true,
            log_y: false,
            title: None,
        };
        let chart = custom(2, &spec);
        assert_eq!(chart.stem, "custom-2");
        assert_eq!(chart.title, "connections_mean vs clients");
        assert_eq!(chart.panels[0].spec, spec);
        assert_eq!(chart.panels[0].rows, Rows::Every);
        assert_eq!(chart.panels[0].look, Look::default());
    }
}
