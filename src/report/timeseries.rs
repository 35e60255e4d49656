//! `timeseries.csv`: the first replication of every row, one line per time bucket, so a
//! reconnect storm or a ramp-up can be plotted.
//!
//! Columns: `technique`, one column per swept key (the row's sweep values), `clients`,
//! `poll_interval_s`, then the column list's per-bucket columns
//! (`crate::columns::POINT_COLUMNS`): `time_s`, `connections`, `requests_per_s`,
//! `handshakes_per_s`, `deliveries_per_s`, `server_memory_bytes`, `cpu_utilization`,
//! `latency_mean_s` (empty for a bucket in which nothing was delivered). The columns
//! before `time_s` identify the row of `results.csv` a line belongs to.

use std::collections::BTreeMap;
use std::path::Path;

use super::csv_io::{Header, finish, line_of, parse_opt, record, text, writer};
use super::error::{ReadError, ReportError};
use super::{Exporter, Metadata, Results};
use crate::columns::{Cell, Column, POINT_COLUMNS};
use crate::results::{Row, TimePoint};

/// Writes `timeseries.csv`.
pub struct TimeseriesExporter;

impl Exporter for TimeseriesExporter {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }
    fn serialize(&self, results: &Results, meta: &Metadata) -> Vec<u8> {
        timeseries_csv(results.rows(), &meta.sweep_keys).into_bytes()
    }
}

/// The header of `timeseries.csv`: the columns that say which row a line belongs to,
/// then the column list's per-bucket columns.
pub fn timeseries_columns(sweep_keys: &[String]) -> Vec<String> {
    identity_columns(sweep_keys)
        .iter()
        .map(Column::name)
        .chain(POINT_COLUMNS.iter().map(|c| c.name().to_string()))
        .collect()
}

/// The `results.csv` columns that say which row a line belongs to, in file order.
fn identity_columns(sweep_keys: &[String]) -> Vec<Column<'_>> {
    let mut cols = vec![Column::Technique];
    cols.extend(sweep_keys.iter().map(|k| Column::Sweep(k)));
    cols.push(Column::Clients);
    cols.push(Column::PollInterval);
    cols
}

/// The text of `timeseries.csv`.
pub fn timeseries_csv(rows: &[Row], sweep_keys: &[String]) -> String {
    let mut w = writer();
    record(&mut w, timeseries_columns(sweep_keys));
    for row in rows {
        let (technique, sweep, clients, interval) = row_key(row, sweep_keys);
        let mut ident = vec![technique];
        ident.extend(sweep);
        ident.push(clients);
        ident.push(interval);
        for p in &row.timeseries {
            let values = POINT_COLUMNS.iter().map(|c| text(&Cell::opt(c.get(p))));
            record(&mut w, ident.iter().cloned().chain(values));
        }
    }
    finish(w)
}

/// What ties a `timeseries.csv` line to its row: technique, sweep values, clients and
/// poll interval, all as written.
pub(super) type RowKey = (String, Vec<String>, String, String);

pub(super) fn row_key(row: &Row, sweep_keys: &[String]) -> RowKey {
    let cell = |c: Column| text(&c.cell(row, None));
    (
        cell(Column::Technique),
        sweep_keys.iter().map(|k| cell(Column::Sweep(k))).collect(),
        cell(Column::Clients),
        cell(Column::PollInterval),
    )
}

/// Reads `timeseries.csv`, grouping its lines by the row they belong to.
pub(super) fn read_timeseries_csv(
    path: &Path,
    sweep_keys: &[String],
) -> Result<BTreeMap<RowKey, Vec<TimePoint>>, ReportError> {
    let read = || -> Result<BTreeMap<RowKey, Vec<TimePoint>>, ReadError> {
        let mut reader = ::csv::ReaderBuilder::new().from_path(path)?;
        let cols = Header::new(&reader.headers()?.clone());
        let ident: Vec<usize> = identity_columns(sweep_keys)
            .iter()
            .map(|c| cols.index(&c.name()))
            .collect::<Result<_, _>>()?;
        let (technique, rest) = ident.split_first().expect("technique comes first");
        let (sweep, ends) = rest.split_at(sweep_keys.len());
        let (clients, interval) = (ends[0], ends[1]);
        let point: Vec<usize> = POINT_COLUMNS
            .iter()
            .map(|c| cols.index(c.name()))
            .collect::<Result<_, _>>()?;
        let mut out: BTreeMap<RowKey, Vec<TimePoint>> = BTreeMap::new();
        for record in reader.records() {
            let record = record?;
            let text = |i: usize| record.get(i).unwrap_or("").to_string();
            let key = (
                text(*technique),
                sweep.iter().map(|&i| text(i)).collect(),
                text(clients),
                text(interval),
            );
            let mut p = TimePoint::default();
            for (c, &i) in POINT_COLUMNS.iter().zip(&point) {
                let v = parse_opt(&record, i, c.name()).map_err(|source| ReadError::Line {
                    line: line_of(&record),
                    source,
                })?;
                c.set(&mut p, v);
            }
            out.entry(key).or_default().push(p);
        }
        Ok(out)
    };
    read().map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })
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
