//! `timeseries.csv`: the first replication of every row, one line per time bucket, so a
//! reconnect storm or a ramp-up can be plotted.
//!
//! Columns: `technique`, one column per swept key (the row's sweep values), `clients`,
//! `poll_interval_s`, `time_s`, `connections`, `requests_per_s`, `handshakes_per_s`,
//! `deliveries_per_s`, `server_memory_bytes`, `cpu_utilization`, `latency_mean_s`
//! (empty for a bucket in which nothing was delivered). The columns before `time_s`
//! identify the row of `results.csv` a line belongs to.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use super::csv::{Columns, finish, line_of, parse_opt, writer};
use super::{Cell, Exporter, Metadata, sweep_value};
use crate::results::{Row, TimePoint};

/// Writes `timeseries.csv`.
pub struct TimeseriesExporter;

impl Exporter for TimeseriesExporter {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }
    fn serialize(&self, rows: &[Row], meta: &Metadata) -> Vec<u8> {
        timeseries_csv(rows, &meta.sweep_keys).into_bytes()
    }
}

/// The per-bucket columns, after the row-identifying ones.
const POINT_COLUMNS: [&str; 8] = [
    "time_s",
    "connections",
    "requests_per_s",
    "handshakes_per_s",
    "deliveries_per_s",
    "server_memory_bytes",
    "cpu_utilization",
    "latency_mean_s",
];

/// The header of `timeseries.csv`.
pub fn timeseries_columns(sweep_keys: &[String]) -> Vec<String> {
    let mut cols = vec!["technique".to_string()];
    cols.extend(sweep_keys.iter().cloned());
    cols.push("clients".to_string());
    cols.push("poll_interval_s".to_string());
    cols.extend(POINT_COLUMNS.iter().map(|s| s.to_string()));
    cols
}

/// The text of `timeseries.csv`.
pub fn timeseries_csv(rows: &[Row], sweep_keys: &[String]) -> String {
    let mut w = writer();
    w.write_record(timeseries_columns(sweep_keys))
        .expect("writing to memory cannot fail");
    for row in rows {
        let mut ident = vec![row.technique.name().to_string()];
        ident.extend(sweep_keys.iter().map(|k| sweep_value(row, k).to_string()));
        ident.push(row.clients.to_string());
        ident.push(Cell::opt(row.poll_interval_s).to_csv());
        for p in &row.timeseries {
            let values = [
                Cell::num(p.time_s),
                Cell::num(p.connections),
                Cell::num(p.requests_per_s),
                Cell::num(p.handshakes_per_s),
                Cell::num(p.deliveries_per_s),
                Cell::num(p.server_memory_bytes),
                Cell::num(p.cpu_utilization),
                Cell::opt(p.latency_mean_s),
            ];
            let record = ident.iter().cloned().chain(values.iter().map(Cell::to_csv));
            w.write_record(record)
                .expect("writing to memory cannot fail");
        }
    }
    finish(w)
}

/// What ties a `timeseries.csv` line to its row: technique, sweep values, clients and
/// poll interval, all as written.
pub(crate) type RowKey = (String, Vec<String>, String, String);

pub(crate) fn row_key(row: &Row, sweep_keys: &[String]) -> RowKey {
    (
        row.technique.name().to_string(),
        sweep_keys
            .iter()
            .map(|k| sweep_value(row, k).to_string())
            .collect(),
        row.clients.to_string(),
        Cell::opt(row.poll_interval_s).to_csv(),
    )
}

/// Reads `timeseries.csv`, grouping its lines by the row they belong to.
pub(crate) fn read_timeseries_csv(
    path: &Path,
    sweep_keys: &[String],
) -> anyhow::Result<BTreeMap<RowKey, Vec<TimePoint>>> {
    let read = || -> anyhow::Result<BTreeMap<RowKey, Vec<TimePoint>>> {
        let mut reader = ::csv::ReaderBuilder::new().from_path(path)?;
        let cols = Columns::new(&reader.headers()?.clone());
        let technique = cols.index("technique")?;
        let sweep: Vec<usize> = sweep_keys
            .iter()
            .map(|k| cols.index(k))
            .collect::<anyhow::Result<_>>()?;
        let clients = cols.index("clients")?;
        let interval = cols.index("poll_interval_s")?;
        let point: Vec<usize> = POINT_COLUMNS
            .iter()
            .map(|c| cols.index(c))
            .collect::<anyhow::Result<_>>()?;
        let mut out: BTreeMap<RowKey, Vec<TimePoint>> = BTreeMap::new();
        for record in reader.records() {
            let record = record?;
            let text = |i: usize| record.get(i).unwrap_or("").to_string();
            let key = (
                text(technique),
                sweep.iter().map(|&i| text(i)).collect(),
                text(clients),
                text(interval),
            );
            let num = |i: usize| -> anyhow::Result<f64> {
                Ok(parse_opt(&record, point[i])?.unwrap_or(f64::NAN))
            };
            let p = (|| -> anyhow::Result<TimePoint> {
                Ok(TimePoint {
                    time_s: num(0)?,
                    connections: num(1)?,
                    requests_per_s: num(2)?,
                    handshakes_per_s: num(3)?,
                    deliveries_per_s: num(4)?,
                    server_memory_bytes: num(5)?,
                    cpu_utilization: num(6)?,
                    latency_mean_s: parse_opt(&record, point[7])?,
                })
            })()
            .with_context(|| format!("line {}", line_of(&record)))?;
            out.entry(key).or_default().push(p);
        }
        Ok(out)
    };
    read().with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;
    use crate::scenario::Technique;

    #[test]
    fn header_and_lines() {
        let rows = vec![testdata::row(Technique::ShortPolling, 100_000, Some(3.0))];
        let csv = timeseries_csv(&rows, &["short-polling.interval".to_string()]);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "technique,short-polling.interval,clients,poll_interval_s,time_s,connections,\
             requests_per_s,handshakes_per_s,deliveries_per_s,server_memory_bytes,\
             cpu_utilization,latency_mean_s"
        );
        assert_eq!(
            lines.next().unwrap(),
            "short-polling,3s,100000,3,0,100,10,1,5,1000000,0.125,"
        );
        assert_eq!(
            lines.next().unwrap(),
            "short-polling,3s,100000,3,1,101,10,1,5,1000000,0.125,0.05"
        );
        assert_eq!(csv.lines().count(), 1 + 5);
    }

    #[test]
    fn reads_back_grouped_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let rows = testdata::sweep();
        let keys = testdata::keys();
        let path = dir.path().join("timeseries.csv");
        std::fs::write(&path, timeseries_csv(&rows, &keys)).unwrap();
        let back = read_timeseries_csv(&path, &keys).unwrap();
        assert_eq!(back.len(), rows.len());
        for row in &rows {
            assert_eq!(back[&row_key(row, &keys)], row.timeseries);
        }
    }
}
