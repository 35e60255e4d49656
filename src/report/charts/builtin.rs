//! The charts rtsim draws, as data.
//!
//! Every panel of a chart is a [`ChartSpec`] — the very data an experiment's `[[charts]]`
//! table is read into: `y` against `x` by column name, log or linear, axis labels, a
//! theory line — plus how a built-in chart dresses it ([`Look`]: a p50–p99 band,
//! reference lines, a fixed range) and which rows it shows ([`Rows`]). An experiment's
//! chart is the same thing with the plain look and every row. `figure.rs` turns either
//! into a picture, by one path.
//!
//! Which built-in charts a run gets follows from what it swept: along clients, requests,
//! connections, memory and bytes; along the short-polling interval, latency and the
//! empty share; along **any other swept key**, an overview of latency, requests,
//! connections and bytes against it; and one time-series chart per sweep point, every
//! row of that point a line, with the end of the warm-up and each fault marked.

use super::select::{Along, Positions, held_fixed, point_title, points, varies};
use super::words;
use crate::columns::ChartSpec;
use crate::results::Row;

/// One chart file (`<stem>.svg` and `<stem>.png`): a title over panels (side by side,
/// or two by two for four).
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
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Rows {
    /// Every row that has both values, one line per value of `spec.series` (per
    /// technique by default): an experiment's `[[charts]]`.
    Every,
    /// One line per technique along an axis, every other sweep value held at the
    /// technique's representative point (`select.rs`). `spec.x` is the axis's column.
    Along(Along),
    /// The time series of these rows (indices), one line each; `spec.x` and `spec.y`
    /// name `timeseries.csv` columns.
    Series(Vec<usize>),
}

/// A shaded band around each line, between two columns (`latency_p50_s` to
/// `latency_p99_s`); the line's legend then says what it and the band are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Band {
    pub(super) low: &'static str,
    pub(super) high: &'static str,
    /// What the line and the band are, for the note under the legend.
    pub(super) legend: &'static str,
}

/// How a panel is dressed. [`Look::default`] is an experiment chart's: markers on every
/// point, nothing more.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Look {
    /// A fixed y range (shares: 0–100 %, with room for markers at 0 and 100 %).
    pub(super) y_range: Option<(f64, f64)>,
    pub(super) band: Option<Band>,
    /// Techniques that have no position along the axis (the interval of a technique that
    /// does not poll) as a long-dashed horizontal line at their representative row's
    /// value.
    pub(super) references: bool,
    pub(super) markers: bool,
    /// Vertical lines at the end of the warm-up and at each fault (time series).
    pub(super) marks: bool,
}

impl Default for Look {
    fn default() -> Look {
        Look {
            y_range: None,
            band: None,
            references: false,
            markers: true,
            marks: false,
        }
    }
}

/// A fraction's y range: 0–100 %, with room for markers at 0 and 100 %.
const SHARE: Option<(f64, f64)> = Some((-0.03, 1.04));

/// A spec with the column words as labels (filled in by `figure.rs` when `None`).
fn spec(x: &str, y: &str, (log_x, log_y): (bool, bool), caption: Option<&str>) -> ChartSpec {
    ChartSpec {
        log_x,
        log_y,
        title: caption.map(str::to_string),
        ..ChartSpec::of(x, y)
    }
}

/// A panel of one line per technique along `along`.
fn along(
    along: &Along,
    y: &str,
    (log_x, log_y): (bool, bool),
    caption: Option<&str>,
    theory: bool,
    look: Look,
) -> PanelSpec {
    let mut s = spec(along.column(), y, (log_x, log_y), caption);
    s.theory = theory;
    s.x_label = Some(words::label(along.key()));
    PanelSpec {
        spec: s,
        rows: Rows::Along(along.clone()),
        look,
    }
}

const LATENCY_BAND: Look = Look {
    y_range: None,
    band: Some(Band {
        low: "latency_p50_s",
        high: "latency_p99_s",
        legend: "Latency: the line is the mean, the shaded band runs from p50 to p99.",
    }),
    references: true,
    markers: true,
    marks: false,
};

const REFERENCES: Look = Look {
    y_range: None,
    band: None,
    references: true,
    markers: true,
    marks: false,
};

fn requests_vs_clients(held: &str) -> Chart {
    Chart {
        stem: "requests-vs-clients".into(),
        title: format!("How many HTTP requests per second do N clients send?{held}"),
        panels: vec![along(
            &Along::Clients,
            "requests_per_s",
            (true, true),
            None,
            true,
            Look::default(),
        )],
    }
}

fn latency_vs_interval(held: &str) -> Chart {
    Chart {
        stem: "latency-vs-interval".into(),
        title: format!("How stale is polled data at each poll interval?{held}"),
        panels: vec![along(
            &Along::Interval,
            "latency_mean_s",
            (true, true),
            None,
            true,
            LATENCY_BAND,
        )],
    }
}

fn connections_memory_vs_clients(held: &str) -> Chart {
    Chart {
        stem: "connections-memory-vs-clients".into(),
        title: format!("What do open connections cost as clients grow?{held}"),
        panels: vec![
            along(
                &Along::Clients,
                "connections_mean",
                (true, true),
                Some("Open connections (time-weighted mean)"),
                true,
                Look::default(),
            ),
            along(
                &Along::Clients,
                "server_memory_mean_bytes",
                (true, true),
                Some("Server memory (mean, all instances)"),
                true,
                Look::default(),
            ),
        ],
    }
}

fn bytes_vs_clients(held: &str) -> Chart {
    Chart {
        stem: "bytes-vs-clients".into(),
        title: format!("How many bytes cross the wire, and how many are overhead?{held}"),
        panels: vec![
            along(
                &Along::Clients,
                "bytes_down_per_s + bytes_up_per_s",
                (true, true),
                Some("Bytes per second, down + up"),
                false,
                Look::default(),
            ),
            along(
                &Along::Clients,
                "overhead_fraction",
                (true, false),
                Some("Overhead: share of bytes that are not payload"),
                false,
                Look {
                    y_range: SHARE,
                    ..Look::default()
                },
            ),
        ],
    }
}

fn empty_fraction_vs_interval(held: &str) -> Chart {
    Chart {
        stem: "empty-fraction-vs-interval".into(),
        title: format!("How many polls come back empty at each interval?{held}"),
        panels: vec![along(
            &Along::Interval,
            "empty_response_fraction",
            (true, false),
            None,
            true,
            Look {
                y_range: SHARE,
                ..REFERENCES
            },
        )],
    }
}

/// Whether an axis's positive values span a factor of 20 or more: then it is drawn
/// on a log scale.
fn wide(rows: &[Row], along: &Along) -> bool {
    let at = Positions::of(rows, along);
    if at.categorical() {
        return false;
    }
    let xs: Vec<f64> = at.x.into_iter().flatten().collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(0.0, f64::max);
    lo > 0.0 && hi / lo >= 20.0
}

/// The overview along any other swept key: latency, requests, connections and bytes.
fn overview(rows: &[Row], key: &str, held: &str) -> Chart {
    let axis = Along::of_key(key);
    let log_x = wide(rows, &axis);
    let stem: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Chart {
        stem: format!("along-{stem}"),
        title: format!(
            "What changes with the {}?{held}",
            words::label(key).split(" (").next().unwrap_or(key)
        ),
        panels: vec![
            along(
                &axis,
                "latency_mean_s",
                (log_x, false),
                Some("Latency, creation → arrival"),
                true,
                LATENCY_BAND,
            ),
            along(
                &axis,
                "requests_per_s",
                (log_x, false),
                Some("HTTP requests per second"),
                true,
                REFERENCES,
            ),
            along(
                &axis,
                "connections_mean",
                (log_x, false),
                Some("Open connections"),
                true,
                REFERENCES,
            ),
            along(
                &axis,
                "bytes_down_per_s + bytes_up_per_s",
                (log_x, false),
                Some("Bytes per second, down + up"),
                false,
                REFERENCES,
            ),
        ],
    }
}

fn timeseries(stem: String, point: &str, group: Vec<usize>) -> Chart {
    let panel = |y: &str, caption: &str| PanelSpec {
        spec: spec("time_s", y, (false, false), Some(caption)),
        rows: Rows::Series(group.clone()),
        look: Look {
            markers: false,
            marks: true,
            ..Look::default()
        },
    };
    Chart {
        stem,
        title: format!("What happens over time? ({point}; first replication)"),
        panels: vec![
            panel("connections", "Open connections"),
            panel("handshakes_per_s", "New connections per second"),
        ],
    }
}

/// The built-in charts the rows support, in drawing order: a chart along an axis only
/// when the rows take two values or more along it; the time series always (one chart
/// per sweep point: `timeseries`, or `timeseries-1`, `-2`… when there are several).
/// Titles ask the chart's question and say what is held fixed.
pub(super) fn builtin(rows: &[Row], sweep_keys: &[String]) -> Vec<Chart> {
    let clients = varies(rows, &Along::Clients);
    let interval = varies(rows, &Along::Interval);
    let along_clients = held_fixed(rows, sweep_keys, &Along::Clients);
    let along_interval = held_fixed(rows, sweep_keys, &Along::Interval);
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
    for key in sweep_keys {
        let axis = Along::of_key(key);
        if matches!(axis, Along::Key(_)) && varies(rows, &axis) {
            charts.push(overview(rows, key, &held_fixed(rows, sweep_keys, &axis)));
        }
    }
    let groups = points(rows);
    let several = groups.len() > 1;
    for (n, group) in groups.into_iter().enumerate() {
        let stem = if several {
            format!("timeseries-{}", n + 1)
        } else {
            "timeseries".to_string()
        };
        let point = point_title(rows, &group);
        charts.push(timeseries(stem, &point, group));
    }
    if charts.iter().all(|c| !c.stem.starts_with("timeseries")) {
        charts.push(timeseries("timeseries".into(), "no rows", Vec::new()));
    }
    charts
}

/// An experiment's `n`-th `[[charts]]` table (from 1), as `custom-<n>`: one panel of
/// every row, its title the spec's (or `"<y> vs <x>"` in words).
pub(super) fn custom(n: usize, spec: &ChartSpec) -> Chart {
    Chart {
        stem: format!("custom-{n}"),
        title: spec
            .title
            .clone()
            .unwrap_or_else(|| format!("{} vs {}", words::label(&spec.y), words::label(&spec.x))),
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
                "timeseries-1",
                "timeseries-2",
                "timeseries-3",
            ]
        );
        for chart in &charts {
            for p in &chart.panels {
                for axis in [&p.spec.x, &p.spec.y] {
                    for term in axis.split('+').map(str::trim) {
                        let known = match p.rows {
                            Rows::Series(_) => point_column(term).is_some(),
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
    fn any_swept_key_gets_its_chart() {
        let mut rows = testdata::sweep();
        let mut keys = testdata::keys();
        keys.push("network.rtt".into());
        for (i, r) in rows.iter_mut().enumerate() {
            let rtt = if i % 2 == 0 { "40ms" } else { "300ms" };
            r.sweep.push(("network.rtt".into(), rtt.into()));
        }
        let charts = builtin(&rows, &keys);
        let chart = charts
            .iter()
            .find(|c| c.stem == "along-network-rtt")
            .expect("a chart along the RTT");
        assert!(
            chart
                .title
                .starts_with("What changes with the round-trip time?")
        );
        assert_eq!(chart.panels.len(), 4);
        assert!(chart.panels.iter().all(|p| p.spec.x == "network.rtt"));
    }

    #[test]
    fn unswept_axes_leave_only_the_time_series() {
        let rows = vec![testdata::row(crate::scenario::Technique::Sse, 1000, None)];
        let charts = builtin(&rows, &[]);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].stem, "timeseries");
        assert_eq!(
            charts[0].title,
            "What happens over time? (1,000 clients; first replication)"
        );
    }

    #[test]
    fn an_experiment_chart_is_a_plain_spec() {
        let spec = ChartSpec {
            log_x: true,
            ..ChartSpec::of("clients", "connections_mean")
        };
        let chart = custom(2, &spec);
        assert_eq!(chart.stem, "custom-2");
        assert_eq!(chart.title, "open TCP connections (mean) vs clients");
        assert_eq!(chart.panels[0].spec, spec);
        assert_eq!(chart.panels[0].rows, Rows::Every);
        assert_eq!(chart.panels[0].look, Look::default());
    }
}
