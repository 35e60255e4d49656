//! `results.csv`: one line per technique × sweep point, columns as the README lists them.
//!
//! Header: `technique`, `clients`, `poll_interval_s`, one column per swept key (its
//! dotted path), `replications`, then every metric of [`METRICS`] in order, each
//! followed by `<name>_ci95` when it carries a confidence interval. Empty cells mean
//! "does not apply" (`poll_interval_s` outside short polling, a CI with one
//! replication, a latency when nothing was delivered).
//!
//! [`read_results_csv`] reads the file back (and `timeseries.csv` beside it) so charts
//! and tables can be redrawn without simulating again.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};

use super::{Exporter, Metadata, result_cells, result_columns};
use crate::results::{METRICS, Row, RunMetrics, TimePoint};
use crate::scenario::Technique;

/// Writes `results.csv`.
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn file_name(&self) -> &'static str {
        "results.csv"
    }
    fn serialize(&self, rows: &[Row], meta: &Metadata) -> Vec<u8> {
        results_csv(rows, &meta.sweep_keys).into_bytes()
    }
}

/// A CSV writer into memory with `\n` line ends and minimal quoting.
pub(crate) fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

/// The finished text of an in-memory CSV writer.
pub(crate) fn finish(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// The text of `results.csv`.
pub fn results_csv(rows: &[Row], sweep_keys: &[String]) -> String {
    let mut w = writer();
    w.write_record(result_columns(sweep_keys))
        .expect("writing to memory cannot fail");
    for row in rows {
        let cells = result_cells(row, sweep_keys);
        w.write_record(cells.iter().map(|c| c.to_csv()))
            .expect("writing to memory cannot fail");
    }
    finish(w)
}

/// Column index by name.
pub(crate) struct Columns(BTreeMap<String, usize>);

impl Columns {
    pub(crate) fn new(header: &csv::StringRecord) -> Columns {
        Columns(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.to_string(), i))
                .collect(),
        )
    }

    pub(crate) fn index(&self, name: &str) -> anyhow::Result<usize> {
        self.0
            .get(name)
            .copied()
            .with_context(|| format!("missing column `{name}`"))
    }

    fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }
}

/// A number cell: empty reads as `None`.
pub(crate) fn parse_opt(record: &csv::StringRecord, i: usize) -> anyhow::Result<Option<f64>> {
    let s = record.get(i).unwrap_or("").trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .map(Some)
        .with_context(|| format!("`{s}` is not a number"))
}

/// Where a record starts, for error messages.
pub(crate) fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// Reads `results.csv` back into rows and the swept keys (the columns between
/// `poll_interval_s` and `replications`). Metric cells left empty read as NaN;
/// `published_pairs` and `events` are not in the file and read as 0. A row's
/// `ci95` is `Some` when any of its `_ci95` cells is filled. Time series come from
/// `timeseries.csv` in the same folder when it exists (else they are empty).
pub fn read_results_csv(path: &Path) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let read = || -> anyhow::Result<(Vec<Row>, Vec<String>)> {
        let mut reader = csv::ReaderBuilder::new().from_path(path)?;
        let header = reader.headers()?.clone();
        let names: Vec<&str> = header.iter().collect();
        let first = names.iter().position(|h| *h == "poll_interval_s");
        let last = names.iter().position(|h| *h == "replications");
        let (Some(first), Some(last)) = (first, last) else {
            bail!("not an rtsim results file: needs `poll_interval_s` and `replications` columns");
        };
        if last < first {
            bail!("`replications` must come after `poll_interval_s`");
        }
        let sweep_keys: Vec<String> = names[first + 1..last]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols = Columns::new(&header);
        let technique_col = cols.index("technique")?;
        let clients_col = cols.index("clients")?;
        let sweep_cols: Vec<usize> = (first + 1..last).collect();
        let metric_cols = METRICS
            .iter()
            .map(|m| Ok((cols.index(m.name)?, cols.get(&format!("{}_ci95", m.name)))))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Theory columns are optional (older files have none).
        let theory_cols: Vec<Option<usize>> = crate::theory::PREDICTED
            .iter()
            .map(|m| cols.get(&format!("theory_{m}")))
            .collect();

        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record?;
            let line = line_of(&record);
            let parse = || -> anyhow::Result<Row> {
                let name = record.get(technique_col).unwrap_or("");
                let technique = Technique::from_name(name)
                    .with_context(|| format!("unknown technique `{name}`"))?;
                let clients = record.get(clients_col).unwrap_or("").trim();
                let clients: u32 = clients
                    .parse()
                    .with_context(|| format!("clients `{clients}` is not a count"))?;
                let replications = record.get(last).unwrap_or("").trim();
                let replications: u32 = replications
                    .parse()
                    .with_context(|| format!("replications `{replications}` is not a count"))?;
                let mut mean = RunMetrics::default();
                let mut ci = RunMetrics::default();
                let mut any_ci = false;
                for (m, (col, ci_col)) in METRICS.iter().zip(&metric_cols) {
                    (m.set)(&mut mean, parse_opt(&record, *col)?.unwrap_or(f64::NAN));
                    if let Some(ci_col) = ci_col {
                        let v = parse_opt(&record, *ci_col)?;
                        any_ci |= v.is_some();
                        (m.set)(&mut ci, v.unwrap_or(f64::NAN));
                    }
                }
                Ok(Row {
                    technique,
                    clients,
                    poll_interval_s: parse_opt(&record, first)?,
                    sweep: sweep_keys
                        .iter()
                        .zip(&sweep_cols)
                        .map(|(k, c)| (k.clone(), record.get(*c).unwrap_or("").to_string()))
                        .collect(),
                    replications,
                    mean,
                    ci95: any_ci.then_some(ci),
                    timeseries: Vec::new(),
                    theory: {
                        let theory: Vec<Option<f64>> = theory_cols
                            .iter()
                            .map(|c| c.map_or(Ok(None), |c| parse_opt(&record, c)))
                            .collect::<anyhow::Result<_>>()?;
                        // All empty reads as "not computed".
                        if theory.iter().all(Option::is_none) {
                            Vec::new()
                        } else {
                            theory
                        }
                    },
                })
            };
            rows.push(parse().with_context(|| format!("line {line}"))?);
        }
        Ok((rows, sweep_keys))
    };
    let (mut rows, sweep_keys) = read().with_context(|| format!("reading {}", path.display()))?;

    let ts_path = path.with_file_name("timeseries.csv");
    if ts_path.is_file() {
        let mut series: BTreeMap<super::timeseries::RowKey, Vec<TimePoint>> =
            super::timeseries::read_timeseries_csv(&ts_path, &sweep_keys)?;
        for row in &mut rows {
            let key = super::timeseries::row_key(row, &sweep_keys);
            if let Some(points) = series.remove(&key) {
                row.timeseries = points;
            }
        }
    }
    Ok((rows, sweep_keys))
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;
    use crate::scenario::Technique;

    #[test]
    fn header_matches_the_contract() {
        let csv = results_csv(&[], &["workload.clients".to_string()]);
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
             deliveries,lost,in_flight,rejected_connections,proxy_timeouts,reconnects,\
             instances_needed,\
             theory_requests_per_s,theory_empty_response_fraction,theory_latency_mean_s,\
             theory_latency_max_s,theory_connections_mean,theory_server_memory_mean_bytes,\
             theory_bytes_down_per_s,theory_bytes_up_per_s,theory_cpu_utilization,\
             theory_queue_wait_mean_s\n"
        );
    }

    #[test]
    fn lines_are_deterministic_and_readable() {
        let mut row = testdata::row(Technique::Sse, 100_000, None);
        row.ci95 = None;
        row.mean.latency_mean_s = f64::NAN;
        let csv = results_csv(&[row], &testdata::keys());
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("sse,100000,,100000,,3,33333.5,,0.995,,,,1.5,,3.1,,3.3,,30000,31000,"),
            "{line}"
        );
        assert!(line.ends_with(",1000,0,3,0,0,2,1,,,,,,,,,,"), "{line}");
    }

    #[test]
    fn round_trips_through_read_results_csv() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = testdata::sweep();
        rows[1].ci95 = None;
        let keys = testdata::keys();
        let path = dir.path().join("results.csv");
        std::fs::write(&path, results_csv(&rows, &keys)).unwrap();
        std::fs::write(
            dir.path().join("timeseries.csv"),
            super::super::timeseries_csv(&rows, &keys),
        )
        .unwrap();
        let (back, back_keys) = read_results_csv(&path).unwrap();
        assert_eq!(back_keys, keys);
        assert_eq!(back, rows);
    }

    #[test]
    fn without_timeseries_rows_have_empty_series() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![testdata::row(Technique::Websocket, 10, None)];
        let path = dir.path().join("results.csv");
        std::fs::write(&path, results_csv(&rows, &[])).unwrap();
        let (back, keys) = read_results_csv(&path).unwrap();
        assert!(keys.is_empty());
        assert!(back[0].timeseries.is_empty());
        assert_eq!(back[0].mean, rows[0].mean);
    }

    #[test]
    fn bad_files_are_reported_with_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.csv");
        let mut text = results_csv(&[testdata::row(Technique::Sse, 10, None)], &[]);
        text = text.replacen("\nsse,", "\ncomet,", 1);
        std::fs::write(&path, text).unwrap();
        let err = format!("{:#}", read_results_csv(&path).unwrap_err());
        assert!(err.contains("line 2") && err.contains("comet"), "{err}");
    }
}
