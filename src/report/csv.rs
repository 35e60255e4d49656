//! `results.csv`: one line per technique × sweep point, columns as the column list
//! (`crate::columns::result_columns`) gives them — the README lists them.
//!
//! Header: `technique`, `clients`, `poll_interval_s`, one column per swept key (its
//! dotted path), `replications`, then every metric in order, each followed by
//! `<name>_ci95` when it carries a confidence interval, then the `theory_<metric>`
//! columns. Empty cells mean "does not apply" (`poll_interval_s` outside short polling, a
//! CI with one replication, a latency when nothing was delivered, no closed form).
//!
//! [`parse_results_csv`] reads the file back; `read.rs` adds the time series beside it.

use std::path::Path;

use super::csv_io::{Header, finish, line_of, parse_amount, record, text, writer};
use super::error::{CellError, ReadError};
use super::{Exporter, Metadata, Results};
use crate::columns::{Column, METRICS, PREDICTED, TheoryCells, result_columns, theory_name};
use crate::results::{Row, RunMetrics};
use crate::scenario::Technique;

/// Writes `results.csv`.
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn file_name(&self) -> &'static str {
        "results.csv"
    }
    fn serialize(&self, results: &Results, meta: &Metadata) -> Vec<u8> {
        results_csv(results, &meta.sweep_keys).into_bytes()
    }
}

/// The text of `results.csv`.
pub fn results_csv(results: &Results, sweep_keys: &[String]) -> String {
    let columns = result_columns(sweep_keys);
    let mut w = writer();
    record(&mut w, columns.iter().map(|c| c.name()));
    for (i, row) in results.rows().iter().enumerate() {
        let theory = results.theory(i);
        record(&mut w, columns.iter().map(|c| text(&c.cell(row, theory))));
    }
    finish(w)
}

/// Reads `results.csv` into rows, their theory cells and the swept keys (the columns
/// between `poll_interval_s` and `replications`). Metric cells left empty read as NaN;
/// the unwritten metrics (`published_pairs`, `events`) read as 0. A row's `ci95` is
/// `Some` when any of its `_ci95` cells is filled. Theory columns are optional (older
/// files have none). Time series are left empty.
pub(super) fn parse_results_csv(path: &Path) -> Result<(Results, Vec<String>), ReadError> {
    let mut reader = csv::ReaderBuilder::new().from_path(path)?;
    let header = reader.headers()?.clone();
    let names: Vec<&str> = header.iter().collect();
    let position = |c: Column| names.iter().position(|h| *h == c.name());
    let first = position(Column::PollInterval);
    let last = position(Column::Replications);
    let (Some(first), Some(last)) = (first, last) else {
        return Err(ReadError::NotResults);
    };
    if last < first {
        return Err(ReadError::OutOfOrder);
    }
    let sweep_keys: Vec<String> = names[first + 1..last]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cols = Header::new(&header);
    let technique_col = cols.index(&Column::Technique.name())?;
    let clients_col = cols.index(&Column::Clients.name())?;
    let sweep_cols: Vec<usize> = (first + 1..last).collect();
    let metric_cols = METRICS
        .iter()
        .map(|m| {
            Ok((
                cols.index(m.name())?,
                cols.get(&format!("{}_ci95", m.name())),
            ))
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    let theory_cols: Vec<Option<usize>> = PREDICTED
        .iter()
        .map(|m| cols.get(&theory_name(m)))
        .collect();

    let mut rows = Vec::new();
    let mut theory = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = line_of(&record);
        let count = |col: usize, column: Column| -> Result<u32, CellError> {
            let text = record.get(col).unwrap_or("").trim();
            match text.parse() {
                Ok(0) => Err(CellError::Zero {
                    column: column.name(),
                }),
                Ok(n) => Ok(n),
                Err(_) => Err(CellError::Count {
                    column: column.name(),
                    text: text.to_string(),
                }),
            }
        };
        let parse = || -> Result<(Row, TheoryCells), CellError> {
            let name = record.get(technique_col).unwrap_or("");
            let technique =
                Technique::from_name(name).ok_or_else(|| CellError::Technique(name.to_string()))?;
            let clients = count(clients_col, Column::Clients)?;
            let replications = count(last, Column::Replications)?;
            let mut mean = RunMetrics::default();
            let mut ci = RunMetrics::default();
            let mut any_ci = false;
            for (m, (col, ci_col)) in METRICS.iter().zip(&metric_cols) {
                let v = parse_amount(&record, *col, m.name())?;
                m.set(&mut mean, v.unwrap_or(f64::NAN));
                if let Some(ci_col) = ci_col {
                    let v = parse_amount(&record, *ci_col, &format!("{}_ci95", m.name()))?;
                    any_ci |= v.is_some();
                    m.set(&mut ci, v.unwrap_or(f64::NAN));
                }
            }
            let mut cells: TheoryCells = [None; PREDICTED.len()];
            for (cell, col) in cells.iter_mut().zip(&theory_cols) {
                if let Some(col) = col {
                    *cell = parse_amount(&record, *col, names[*col])?;
                }
            }
            let row = Row {
                technique,
                clients,
                poll_interval_s: parse_amount(&record, first, "poll_interval_s")?,
                sweep: sweep_keys
                    .iter()
                    .zip(&sweep_cols)
                    .map(|(k, c)| (k.clone(), record.get(*c).unwrap_or("").to_string()))
                    .collect(),
                replications,
                mean,
                ci95: any_ci.then_some(ci),
                timeseries: Vec::new(),
                unsampled: Vec::new(),
            };
            Ok((row, cells))
        };
        let (row, cells) = parse().map_err(|source| ReadError::Line { line, source })?;
        rows.push(row);
        theory.push(cells);
    }
    Ok((Results::new(rows, theory), sweep_keys))
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;

    fn unannotated(rows: Vec<Row>) -> Results {
        Results::unannotated(rows)
    }

    #[test]
    fn header_matches_the_contract() {
        let csv = results_csv(&Results::default(), &["workload.clients".to_string()]);
        assert_eq!(
            csv,
            "technique,clients,poll_interval_s,workload.clients,replications,\
             requests_per_s,requests_per_s_ci95,\
             empty_response_fraction,empty_response_fraction_ci95,\
             latency_mean_s,latency_mean_s_ci95,latency_p50_s,latency_p50_s_ci95,\
             latency_p99_s,latency_p99_s_ci95,latency_max_s,latency_max_s_ci95,\
             connections_mean,connections_peak,\
             server_memory_mean_bytes,server_memory_mean_bytes_ci95,\
             server_memory_peak_bytes,server_memory_peak_bytes_ci95,\
             cpu_utilization,queue_wait_mean_s,queue_wait_mean_s_ci95,\
             bytes_down_per_s,bytes_down_per_s_ci95,bytes_up_per_s,bytes_up_per_s_ci95,\
             overhead_fraction,overhead_fraction_ci95,handshakes_per_s,handshakes_per_s_ci95,\
             deliveries,lost,in_flight,stalled_pairs,rejected_connections,proxy_timeouts,reconnects,\
             streams_failed,\
             connections_per_user,memory_per_user_bytes,memory_per_user_bytes_ci95,\
             stalled_per_user,instances_needed,backplane_utilization,backplane_wait_mean_s,\
             backplane_wait_mean_s_ci95,\
             theory_requests_per_s,theory_empty_response_fraction,theory_latency_mean_s,\
             theory_latency_max_s,theory_connections_mean,theory_server_memory_mean_bytes,\
             theory_bytes_down_per_s,theory_bytes_up_per_s,theory_cpu_utilization,\
             theory_queue_wait_mean_s,theory_handshakes_per_s,theory_connections_per_user,\
             theory_memory_per_user_bytes,theory_stalled_per_user,\
             theory_backplane_utilization,theory_backplane_wait_mean_s\n"
        );
    }

    #[test]
    fn lines_are_deterministic_and_readable() {
        let mut row = testdata::row(Technique::Sse, 100_000, None);
        row.ci95 = None;
        row.mean.latency_mean_s = f64::NAN;
        let csv = results_csv(&unannotated(vec![row]), &testdata::keys());
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("sse,100000,,100000,,3,33333.5,,0.995,,,,1.5,,3.1,,3.3,,30000,31000,"),
            "{line}"
        );
        assert!(
            line.ends_with(",1000,0,3,0,0,0,2,0,1,3250,,0,1,0.375,0.00025,,,,,,,,,,,,,,,,,"),
            "{line}"
        );
    }

    #[test]
    fn theory_cells_follow_the_metrics() {
        let row = testdata::row(Technique::ShortPolling, 1000, Some(3.0));
        let mut cells = [None; PREDICTED.len()];
        cells[0] = Some(333.25);
        cells[9] = Some(0.5);
        let csv = results_csv(&Results::new(vec![row], vec![cells]), &[]);
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.ends_with(",1,0.375,0.00025,0.00025,333.25,,,,,,,,,0.5,,,,,,"),
            "{line}"
        );
    }
}
