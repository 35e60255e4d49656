//! Results read back from a run's folder, so `rtsim table`, `plot` and `explain` can work
//! without simulating again: `results.csv` (rows and their theory cells), then the time
//! series of `timeseries.csv` beside it when there is one.

use std::collections::BTreeMap;
use std::path::Path;

use super::Results;
use super::csv::parse_results_csv;
use super::error::ReportError;
use super::timeseries::{RowKey, read_timeseries_csv, row_key};
use crate::results::TimePoint;

/// Reads `results.csv` back into rows, their `theory_<metric>` cells and the swept keys
/// (the columns between `poll_interval_s` and `replications`). Metric cells left empty
/// read as NaN; `published_pairs` and `events` are not in the file and read as 0. A
/// row's `ci95` is `Some` when any of its `_ci95` cells is filled. Time series come from
/// `timeseries.csv` in the same folder when it exists (else they are empty).
pub fn read_results_csv(path: &Path) -> Result<(Results, Vec<String>), ReportError> {
    let (results, sweep_keys) = parse_results_csv(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let ts_path = path.with_file_name("timeseries.csv");
    if !ts_path.is_file() {
        return Ok((results, sweep_keys));
    }
    let mut series: BTreeMap<RowKey, Vec<TimePoint>> = read_timeseries_csv(&ts_path, &sweep_keys)?;
    let theory: Vec<_> = (0..results.rows().len())
        .filter_map(|i| results.theory(i).copied())
        .collect();
    let mut rows = results.into_rows();
    for row in &mut rows {
        if let Some(points) = series.remove(&row_key(row, &sweep_keys)) {
            row.timeseries = points;
        }
    }
    Ok((Results::new(rows, theory), sweep_keys))
}

#[cfg(test)]
mod tests {
    use super::super::{results_csv, testdata, timeseries_csv};
    use super::*;
    use crate::columns::PREDICTED;
    use crate::scenario::Technique;

    #[test]
    fn round_trips_through_read_results_csv() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = testdata::sweep();
        rows[1].ci95 = None;
        let mut theory = vec![[None; PREDICTED.len()]; rows.len()];
        theory[0][2] = Some(1.5);
        theory[3][0] = Some(0.125);
        let results = Results::new(rows.clone(), theory);
        let keys = testdata::keys();
        let path = dir.path().join("results.csv");
        std::fs::write(&path, results_csv(&results, &keys)).unwrap();
        std::fs::write(
            dir.path().join("timeseries.csv"),
            timeseries_csv(&rows, &keys),
        )
        .unwrap();
        let (back, back_keys) = read_results_csv(&path).unwrap();
        assert_eq!(back_keys, keys);
        assert_eq!(back, results);
    }

    #[test]
    fn without_timeseries_rows_have_empty_series() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![testdata::row(Technique::Websocket, 10, None)];
        let path = dir.path().join("results.csv");
        std::fs::write(&path, results_csv(&Results::unannotated(rows.clone()), &[])).unwrap();
        let (back, keys) = read_results_csv(&path).unwrap();
        assert!(keys.is_empty());
        assert!(back.rows()[0].timeseries.is_empty());
        assert_eq!(back.rows()[0].mean, rows[0].mean);
        // No theory cell filled: no annotation.
        assert_eq!(back.theory(0), None);
    }

    #[test]
    fn bad_files_are_reported_with_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.csv");
        let rows = vec![testdata::row(Technique::Sse, 10, None)];
        let mut text = results_csv(&Results::unannotated(rows), &[]);
        text = text.replacen("\nsse,", "\ncomet,", 1);
        std::fs::write(&path, text).unwrap();
        let err = format!(
            "{:#}",
            anyhow::Error::from(read_results_csv(&path).unwrap_err())
        );
        assert!(err.contains("line 2") && err.contains("comet"), "{err}");
    }
}
