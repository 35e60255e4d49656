//! The column list: every column rtsim writes, named once.
//!
//! `results.csv`'s header (which is also the key order of each `results.json` row), the
//! per-bucket columns of `timeseries.csv`, the metrics theory predicts (its
//! `theory_<metric>` columns), the unit of every column, and the names charts use — the
//! built-in ones and an experiment's `[[charts]]` — all come from here. The CSV and JSON
//! writers, the CSV readers, the aggregator, theory and the charts read this module;
//! none of them spells a column name of its own.
//!
//! Column names are a public contract (the README lists them): scripts and notebooks
//! read them.
//!
//! A `results.csv` line is, in order:
//! `technique`, `clients`, `poll_interval_s`, one column per swept key (its dotted path),
//! `replications`, every metric of [`METRICS`] (each followed by `<name>_ci95` when it
//! carries a confidence interval), then `theory_<metric>` for each of [`PREDICTED`].

use crate::engine::time::secs;
use crate::results::{Row, RunMetrics, TimePoint};
use crate::units::text::{parse_duration, parse_size};

/// What a column's numbers measure: how a chart writes its ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count or a rate of counts (`10k`, `1.5M`).
    Count,
    /// A duration (`250 ms`, `3 s`, `2 min`).
    Seconds,
    /// Simulated time since the start of a run: always written in seconds, so a time
    /// axis never mixes units.
    Time,
    Bytes,
    BytesPerSecond,
    /// A share between 0 and 1, written as a percentage.
    Fraction,
}

/// One measured metric of a run: a field of [`RunMetrics`] with its column name.
pub struct Metric {
    name: &'static str,
    has_ci: bool,
    unit: Unit,
    get: fn(&RunMetrics) -> f64,
    set: fn(&mut RunMetrics, f64),
}

impl Metric {
    /// The column name, which is also the field name in [`RunMetrics`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Carries a `<name>_ci95` column (every `_s`, `_per_s`, `_bytes`, `_fraction`
    /// metric).
    pub fn has_ci(&self) -> bool {
        self.has_ci
    }

    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// This metric's value in `m`.
    pub fn get(&self, m: &RunMetrics) -> f64 {
        (self.get)(m)
    }

    /// Sets this metric's value in `m`.
    pub fn set(&self, m: &mut RunMetrics, v: f64) {
        (self.set)(m, v)
    }
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Metric({})", self.name)
    }
}

/// Two metrics are the same column when they have the same name (names are unique).
impl PartialEq for Metric {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

macro_rules! metrics {
    ($(#[$doc:meta])* $list:ident: $($field:ident : $ci:expr, $unit:ident;)*) => {
        $(#[$doc])*
        pub const $list: &[Metric] = &[
            $(Metric {
                name: stringify!($field),
                has_ci: $ci,
                unit: Unit::$unit,
                get: |m| m.$field,
                set: |m, v| m.$field = v,
            }),*
        ];
    };
}

metrics! {
    /// Every metric column of `results.csv`, in output order.
    METRICS:
    requests_per_s: true, Count;
    empty_response_fraction: true, Fraction;
    latency_mean_s: true, Seconds;
    latency_p50_s: true, Seconds;
    latency_p99_s: true, Seconds;
    latency_max_s: true, Seconds;
    connections_mean: false, Count;
    connections_peak: false, Count;
    server_memory_mean_bytes: true, Bytes;
    server_memory_peak_bytes: true, Bytes;
    cpu_utilization: false, Fraction;
    queue_wait_mean_s: true, Seconds;
    bytes_down_per_s: true, BytesPerSecond;
    bytes_up_per_s: true, BytesPerSecond;
    overhead_fraction: true, Fraction;
    handshakes_per_s: true, Count;
    deliveries: false, Count;
    lost: false, Count;
    in_flight: false, Count;
    stalled_pairs: false, Count;
    rejected_connections: false, Count;
    proxy_timeouts: false, Count;
    reconnects: false, Count;
    streams_failed: false, Count;
    connections_per_user: false, Count;
    memory_per_user_bytes: true, Bytes;
    stalled_per_user: false, Count;
    instances_needed: false, Count;
    backplane_utilization: false, Fraction;
    backplane_wait_mean_s: true, Seconds;
}

metrics! {
    /// The fields of [`RunMetrics`] that are aggregated over replications but not
    /// written: bookkeeping (the conservation check) and cost (events processed).
    UNWRITTEN:
    published_pairs: false, Count;
    events: false, Count;
}

/// The metric named `name`, if it is a column of `results.csv`.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// The metrics theory predicts, in the order of their `theory_<metric>` columns (each a
/// name in [`METRICS`]).
pub const PREDICTED: [&str; 16] = [
    "requests_per_s",
    "empty_response_fraction",
    "latency_mean_s",
    "latency_max_s",
    "connections_mean",
    "server_memory_mean_bytes",
    "bytes_down_per_s",
    "bytes_up_per_s",
    "cpu_utilization",
    "queue_wait_mean_s",
    "handshakes_per_s",
    "connections_per_user",
    "memory_per_user_bytes",
    "stalled_per_user",
    "backplane_utilization",
    "backplane_wait_mean_s",
];

/// The `theory_<metric>` cells of one row, aligned with [`PREDICTED`]; `None` where no
/// closed form applies.
pub type TheoryCells = [Option<f64>; PREDICTED.len()];

/// The name of the column that holds theory's prediction of `metric`.
pub fn theory_name(metric: &str) -> String {
    format!("theory_{metric}")
}

/// One per-bucket column of `timeseries.csv`: a field of [`TimePoint`].
pub struct PointColumn {
    name: &'static str,
    unit: Unit,
    get: fn(&TimePoint) -> Option<f64>,
    set: fn(&mut TimePoint, Option<f64>),
}

impl PointColumn {
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// This column's value in `p`; `None` where the bucket has none.
    pub fn get(&self, p: &TimePoint) -> Option<f64> {
        (self.get)(p)
    }

    /// Sets this column in `p`; `None` is stored as NaN in a field that is always there.
    pub fn set(&self, p: &mut TimePoint, v: Option<f64>) {
        (self.set)(p, v)
    }
}

macro_rules! point_columns {
    ($($field:ident : $unit:ident $(, $optional:ident)?;)*) => {
        /// The per-bucket columns of `timeseries.csv`, in output order, after the
        /// columns that say which row a line belongs to.
        pub const POINT_COLUMNS: &[PointColumn] = &[
            $(point_columns!(@one $field, $unit $(, $optional)?)),*
        ];
    };
    (@one $field:ident, $unit:ident) => {
        PointColumn {
            name: stringify!($field),
            unit: Unit::$unit,
            get: |p| Some(p.$field),
            set: |p, v| p.$field = v.unwrap_or(f64::NAN),
        }
    };
    (@one $field:ident, $unit:ident, optional) => {
        PointColumn {
            name: stringify!($field),
            unit: Unit::$unit,
            get: |p| p.$field,
            set: |p, v| p.$field = v,
        }
    };
}

point_columns! {
    time_s: Time;
    connections: Count;
    requests_per_s: Count;
    handshakes_per_s: Count;
    deliveries_per_s: Count;
    server_memory_bytes: Bytes;
    cpu_utilization: Fraction;
    latency_mean_s: Seconds, optional;
}

/// The per-bucket column named `name`.
pub fn point_column(name: &str) -> Option<&'static PointColumn> {
    POINT_COLUMNS.iter().find(|c| c.name == name)
}

/// One column of `results.csv`. Sweep columns borrow their dotted key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Column<'k> {
    Technique,
    Clients,
    /// The short-polling interval in seconds; empty for the other techniques.
    PollInterval,
    /// A swept key, its values as written (`3s`, `event-loop`).
    Sweep(&'k str),
    Replications,
    /// The mean of a metric over replications.
    Mean(&'static Metric),
    /// The half-width of a metric's 95 % confidence interval.
    Ci(&'static Metric),
    /// Theory's prediction of `PREDICTED[i]`.
    Theory(usize),
}

/// Every column of `results.csv`, in order, for the given swept keys.
pub fn result_columns(sweep_keys: &[String]) -> Vec<Column<'_>> {
    let mut cols = vec![Column::Technique, Column::Clients, Column::PollInterval];
    cols.extend(sweep_keys.iter().map(|k| Column::Sweep(k)));
    cols.push(Column::Replications);
    for m in METRICS {
        cols.push(Column::Mean(m));
        if m.has_ci {
            cols.push(Column::Ci(m));
        }
    }
    cols.extend((0..PREDICTED.len()).map(Column::Theory));
    cols
}

/// The column of `results.csv` named `name` (as in the header), if there is one.
pub fn result_column<'k>(name: &str, sweep_keys: &'k [String]) -> Option<Column<'k>> {
    result_columns(sweep_keys)
        .into_iter()
        .find(|c| c.name() == name)
}

impl Column<'_> {
    /// The header name.
    pub fn name(&self) -> String {
        match self {
            Column::Technique => "technique".to_string(),
            Column::Clients => "clients".to_string(),
            Column::PollInterval => "poll_interval_s".to_string(),
            Column::Sweep(key) => key.to_string(),
            Column::Replications => "replications".to_string(),
            Column::Mean(m) => m.name.to_string(),
            Column::Ci(m) => format!("{}_ci95", m.name),
            Column::Theory(i) => theory_name(PREDICTED[*i]),
        }
    }

    /// What the column's numbers measure; `None` for text columns and swept keys (whose
    /// unit is that of their values: see [`Cell::quantity`]).
    pub fn unit(&self) -> Option<Unit> {
        match self {
            Column::Technique | Column::Sweep(_) => None,
            Column::Clients | Column::Replications => Some(Unit::Count),
            Column::PollInterval => Some(Unit::Seconds),
            Column::Mean(m) | Column::Ci(m) => Some(m.unit),
            Column::Theory(i) => metric(PREDICTED[*i]).map(|m| m.unit),
        }
    }

    /// The column's cell in `row`, whose closed-form predictions are `theory` (`None`
    /// when none were made).
    pub fn cell(&self, row: &Row, theory: Option<&TheoryCells>) -> Cell {
        match self {
            Column::Technique => Cell::Text(row.technique.name().to_string()),
            Column::Clients => Cell::Int(u64::from(row.clients)),
            Column::PollInterval => Cell::opt(row.poll_interval_s),
            Column::Sweep(key) => Cell::Text(row.sweep_value(key).to_string()),
            Column::Replications => Cell::Int(u64::from(row.replications)),
            Column::Mean(m) => Cell::num(m.get(&row.mean)),
            Column::Ci(m) => Cell::opt(row.ci95.as_ref().map(|c| m.get(c))),
            Column::Theory(i) => Cell::opt(theory.and_then(|t| t[*i])),
        }
    }
}

/// One cell of a result line, before it becomes CSV text, a JSON value or a point on a
/// chart.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(u64),
    /// A finite number. Non-finite numbers become [`Cell::Empty`].
    Num(f64),
    Empty,
}

impl Cell {
    /// A number, or [`Cell::Empty`] if it is not finite.
    pub fn num(v: f64) -> Cell {
        if v.is_finite() {
            Cell::Num(v)
        } else {
            Cell::Empty
        }
    }

    /// A number that may be missing.
    pub fn opt(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::num)
    }

    /// The cell as a quantity for a chart axis, and its unit when the cell says it:
    /// numbers as they are; text as the quantity it spells — a plain number, a duration
    /// in seconds (`"250ms"`) or a size in bytes (`"64KiB"`), read by the crate's one
    /// parser of units — else `None` (`"event-loop"`, an empty cell).
    pub fn quantity(&self) -> Option<(f64, Option<Unit>)> {
        match self {
            Cell::Int(i) => Some((*i as f64, None)),
            Cell::Num(v) => Some((*v, None)),
            Cell::Empty => None,
            Cell::Text(text) => {
                let text = text.trim();
                if let Ok(v) = text.parse::<f64>() {
                    Some((v, Some(Unit::Count)))
                } else if let Ok(ns) = parse_duration(text) {
                    Some((secs(ns), Some(Unit::Seconds)))
                } else if let Ok(bytes) = parse_size(text) {
                    Some((bytes as f64, Some(Unit::Bytes)))
                } else {
                    None
                }
            }
        }
    }
}

/// One chart of named columns: `y` against `x`, one line per value of `series` (default:
/// one per technique). Column names are those of `results.csv` (see [`result_column`]);
/// an axis may also add columns (`"bytes_down_per_s + bytes_up_per_s"`). An experiment's
/// `[[charts]]` tables are read into these, and the built-in charts are made of them.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSpec {
    pub x: String,
    pub y: String,
    pub series: Option<String>,
    pub log_x: bool,
    pub log_y: bool,
    pub title: Option<String>,
    /// The axis labels; `None` for the column's words (`crate::report::charts`).
    pub x_label: Option<String>,
    pub y_label: Option<String>,
    /// Theory's prediction of `y` as a dashed line beside each series, when `y` is one
    /// predicted metric.
    pub theory: bool,
    /// The techniques whose rows are drawn.
    pub techniques: Vec<crate::scenario::Technique>,
}

impl ChartSpec {
    /// `y` against `x`, linear axes, every technique, the column's words as labels.
    pub fn of(x: &str, y: &str) -> ChartSpec {
        ChartSpec {
            x: x.to_string(),
            y: y.to_string(),
            series: None,
            log_x: false,
            log_y: false,
            title: None,
            x_label: None,
            y_label: None,
            theory: false,
            techniques: crate::scenario::Technique::ALL.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys() -> Vec<String> {
        vec!["workload.clients".into(), "server.preset".into()]
    }

    #[test]
    fn every_column_appears_exactly_once() {
        let keys = keys();
        let names: Vec<String> = result_columns(&keys).iter().map(Column::name).collect();
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let with_ci = METRICS.iter().filter(|m| m.has_ci).count();
        assert_eq!(
            names.len(),
            3 + keys.len() + 1 + METRICS.len() + with_ci + PREDICTED.len()
        );
        // Written and unwritten metrics are disjoint; theory predicts written metrics.
        for m in UNWRITTEN {
            assert!(metric(m.name).is_none(), "{}", m.name);
        }
        for p in PREDICTED {
            assert!(metric(p).is_some(), "{p}");
        }
        let points: BTreeSet<&str> = POINT_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(points.len(), POINT_COLUMNS.len());
    }

    #[test]
    fn every_header_name_finds_its_column() {
        let keys = keys();
        for c in result_columns(&keys) {
            assert_eq!(result_column(&c.name(), &keys), Some(c), "{}", c.name());
        }
        assert_eq!(result_column("no_such_column", &keys), None);
        assert_eq!(
            result_column("theory_latency_mean_s", &keys),
            Some(Column::Theory(2))
        );
    }

    #[test]
    fn getters_and_setters_address_the_same_field() {
        let mut m = RunMetrics::default();
        for (i, c) in METRICS.iter().chain(UNWRITTEN).enumerate() {
            c.set(&mut m, i as f64 + 0.5);
        }
        for (i, c) in METRICS.iter().chain(UNWRITTEN).enumerate() {
            assert_eq!(c.get(&m), i as f64 + 0.5, "{}", c.name);
        }
        // Every field of RunMetrics is listed (serde sees the same names).
        let value = serde_json::to_value(&m).unwrap();
        let fields: BTreeSet<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let listed: BTreeSet<&str> = METRICS.iter().chain(UNWRITTEN).map(|c| c.name).collect();
        assert_eq!(fields, listed);

        let mut p = TimePoint::default();
        for (i, c) in POINT_COLUMNS.iter().enumerate() {
            c.set(&mut p, Some(i as f64));
        }
        for (i, c) in POINT_COLUMNS.iter().enumerate() {
            assert_eq!(c.get(&p), Some(i as f64), "{}", c.name);
        }
        point_column("latency_mean_s").unwrap().set(&mut p, None);
        assert_eq!(p.latency_mean_s, None);
        point_column("connections").unwrap().set(&mut p, None);
        assert!(p.connections.is_nan());
    }

    #[test]
    fn text_cells_are_quantities_in_the_crates_units() {
        let q = |s: &str| Cell::Text(s.into()).quantity();
        assert_eq!(q("1000"), Some((1000.0, Some(Unit::Count))));
        assert_eq!(q("250ms"), Some((0.25, Some(Unit::Seconds))));
        assert_eq!(q(" 3s "), Some((3.0, Some(Unit::Seconds))));
        assert_eq!(q("64KiB"), Some((65536.0, Some(Unit::Bytes))));
        assert_eq!(q("1.5GB"), Some((1.5e9, Some(Unit::Bytes))));
        assert_eq!(q("event-loop"), None);
        assert_eq!(q(""), None);
        assert_eq!(Cell::Empty.quantity(), None);
        assert_eq!(Cell::num(f64::NAN), Cell::Empty);
        assert_eq!(Cell::Int(7).quantity(), Some((7.0, None)));
    }
}
