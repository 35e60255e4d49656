//! Reports: what a run leaves on disk.
//!
//! `rtsim run` hands the aggregated [`Row`]s, annotated with theory's predictions (a
//! [`Results`]), and a [`Metadata`] record to [`write_all`], which writes, into one output
//! folder:
//!
//! | file | written by | contents |
//! |---|---|---|
//! | `results.csv` | [`csv`] | one line per technique × sweep point (the README's columns) |
//! | `results.json` | [`json`] | the same rows, same keys, plus run metadata |
//! | `table.md` | [`table`] | the trade-off table regenerated from the numbers |
//! | `timeseries.csv` | [`timeseries`] | per-bucket series of every row's first replication |
//! | `experiment.toml` | here | the resolved experiment |
//! | `claims.json` | [`claims`] | each `[[claims]]` of the lesson: held or not, and why |
//! | `charts/*.svg`, `charts/*.png` | [`charts`] | plots of the above |
//! | `report.html` | [`html`] | one self-contained page: question, table, charts, warnings, claims, verdicts, traces |
//!
//! Text outputs share one shape, borrowed from hyperfine's `export` module: a small
//! [`Exporter`] trait turns rows into bytes, and [`write_atomic`] puts those bytes on disk
//! through a temporary file in the target folder and a rename, so an interrupted run
//! never leaves a half-written file. `rtsim plot DIR` and `rtsim table DIR` read rows back
//! with [`read_results_csv`] instead of simulating again.
//!
//! Which columns each file has, in which order and under which names, is the column
//! list's (`crate::columns`); the exporters only spell cells. The reports know nothing
//! of theory: its predictions arrive as cells beside the rows.
//!
//! Numbers for machines use Rust's shortest round-trip `{}` formatting (`0.1`, `3`,
//! `1234.5`): deterministic and lossless. Numbers for people go through
//! `crate::units::human`.

pub mod charts;
pub mod claims;
pub mod csv;
mod csv_io;
mod error;
pub mod html;
pub mod json;
mod read;
pub mod sizing;
pub mod table;
pub mod timeseries;
pub mod trace;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::columns::{ChartSpec, TheoryCells};
use crate::results::Row;
use crate::scenario::Technique;

pub use self::charts::{
    ChartContext, ChartEntry, TimeMark, draw_all, draw_charts, draw_custom_charts,
    draw_sizing_chart, time_marks,
};
pub use self::csv::results_csv;
pub use self::error::{CellError, ChartError, ReadError, ReportError};
pub use self::json::results_json;
pub use self::read::read_results_csv;
pub use self::table::{RULES_MD, tradeoff_table};
pub use self::timeseries::timeseries_csv;

/// What the reports are made from: result rows in plan order and, beside them, the
/// closed-form predictions of each (the `theory_<metric>` cells).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results {
    rows: Vec<Row>,
    theory: Vec<TheoryCells>,
}

impl Results {
    /// `rows` annotated with `theory`: one entry per row, in the same order, or none at
    /// all (every `theory_` cell is then empty). A table where no row has a prediction
    /// is kept as none, so a file read back equals the rows it was written from.
    ///
    /// # Panics
    /// If `theory` is neither empty nor as long as `rows`: a caller's bug.
    pub fn new(rows: Vec<Row>, theory: Vec<TheoryCells>) -> Results {
        assert!(
            theory.is_empty() || theory.len() == rows.len(),
            "{} theory entries for {} rows",
            theory.len(),
            rows.len()
        );
        let theory = if theory.iter().flatten().all(Option::is_none) {
            Vec::new()
        } else {
            theory
        };
        Results { rows, theory }
    }

    /// Rows without predictions.
    pub fn unannotated(rows: Vec<Row>) -> Results {
        Results::new(rows, Vec::new())
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }

    /// The `theory_<metric>` cells of row `i`; `None` when no prediction was made.
    pub fn theory(&self, i: usize) -> Option<&TheoryCells> {
        self.theory.get(i)
    }
}

/// What a run was, for `results.json` and `experiment.toml`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub description: String,
    pub rtsim_version: String,
    pub seed: u64,
    pub replications: u32,
    /// Wall-clock seconds the run took. It differs between two runs of the same
    /// experiment, so it is written to `timing.json`, never into `results.json`: results
    /// stay byte-identical for any `--jobs` and across shards.
    pub wall_time_s: f64,
    /// The resolved experiment as TOML text (defaults and presets filled in).
    pub resolved_experiment: String,
    /// Swept dotted keys, in sweep order.
    pub sweep_keys: Vec<String>,
    pub notes: Vec<String>,
    /// The experiment's own `[[charts]]`, drawn beside the standard ones.
    pub charts: Vec<ChartSpec>,
    /// Moments marked on the time series (warm-up end, faults); not written.
    pub marks: Vec<charts::TimeMark>,
    /// The lesson's claims, checked into `claims.json`.
    pub claims: Vec<claims::ClaimSpec>,
    /// What `report.html` says beyond the rows (warnings, verdicts, traces); not
    /// written elsewhere.
    pub findings: html::Findings,
}

/// Turns result rows into the bytes of one output file.
pub trait Exporter {
    /// File name inside the output folder.
    fn file_name(&self) -> &'static str;
    /// The whole file.
    fn serialize(&self, results: &Results, meta: &Metadata) -> Vec<u8>;
}

/// Writes the resolved experiment as given (`experiment.toml`).
pub struct ExperimentExporter;

impl Exporter for ExperimentExporter {
    fn file_name(&self) -> &'static str {
        "experiment.toml"
    }
    fn serialize(&self, _results: &Results, meta: &Metadata) -> Vec<u8> {
        let mut text = meta.resolved_experiment.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.into_bytes()
    }
}

/// Every text exporter `rtsim run` uses, in writing order.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::CsvExporter),
        Box::new(json::JsonExporter),
        Box::new(table::MarkdownExporter),
        Box::new(timeseries::TimeseriesExporter),
        Box::new(ExperimentExporter),
    ]
}

/// Writes every output of a run into `dir` (created if missing): the text files of
/// [`exporters`], then the charts (the built-in ones, then the experiment's
/// `[[charts]]`). Each file is written atomically.
pub fn write_all(dir: &Path, results: &Results, meta: &Metadata) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::io("creating", dir))?;
    for exporter in exporters() {
        let path = dir.join(exporter.file_name());
        write_atomic(&path, &exporter.serialize(results, meta))?;
    }
    let cx = charts::ChartContext {
        sweep_keys: &meta.sweep_keys,
        marks: &meta.marks,
    };
    charts::draw_all(dir, results, cx, &meta.charts)?;
    let verdicts = claims::check(results, &meta.sweep_keys, &meta.claims);
    let text = serde_json::to_string_pretty(&verdicts).expect("plain data serializes");
    write_atomic(&dir.join("claims.json"), format!("{text}\n").as_bytes())?;
    // The page last: it inlines the charts just drawn.
    let mut inline = Vec::new();
    for entry in charts::chart_index(results, cx, &meta.charts) {
        let path = dir.join("charts").join(format!("{}.svg", entry.stem));
        let svg = std::fs::read_to_string(&path).map_err(ReportError::io("reading", &path))?;
        inline.push(html::InlineChart { entry, svg });
    }
    let page = html::HtmlExporter {
        charts: inline,
        verdicts,
    };
    write_atomic(&dir.join(page.file_name()), &page.serialize(results, meta))?;
    Ok(())
}

/// Writes `contents` to `path` all at once: a temporary file in the same folder, then a
/// rename over `path`. Readers see the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    with_temp_file(path, |file, _tmp_path| {
        file.write_all(contents)
            .map_err(ReportError::io("writing", path))
    })
}

/// Creates a temporary file beside `path` with the same extension (image encoders pick
/// the format from it), lets `fill` write it (through the handle or by its path), then
/// flushes it to disk and renames it to `path`. On error the temporary file is removed.
pub(crate) fn with_temp_file(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rtsim-").suffix(&suffix);
    #[cfg(unix)]
    {
        // tempfile creates files 0600; results are meant to be shared (umask applies).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(ReportError::io("creating a temporary file in", &dir))?;
    let tmp_path = tmp.path().to_path_buf();
    fill(tmp.as_file_mut(), &tmp_path)?;
    tmp.as_file_mut()
        .sync_all()
        .map_err(ReportError::io("flushing", path))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .map_err(ReportError::io("renaming into", path))?;
    Ok(())
}

/// A number for machines: shortest round-trip decimal, no exponent, `-0` as `0`,
/// integers without `.0`. Always a valid JSON number for finite input.
pub fn machine_number(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    format!("{v}")
}

/// Short-polling interval the trade-off table and charts prefer (the seed's 3 s).
pub const REFERENCE_POLL_INTERVAL_S: f64 = 3.0;

/// The row that stands for `technique` when one number per technique is wanted: the
/// largest client count, then (short polling) the interval closest to
/// [`REFERENCE_POLL_INTERVAL_S`], then the first in row order.
pub fn representative_row(rows: &[Row], technique: Technique) -> Option<&Row> {
    representative_index(rows, technique).map(|i| &rows[i])
}

/// The index in `rows` of [`representative_row`].
pub fn representative_index(rows: &[Row], technique: Technique) -> Option<usize> {
    let max_clients = rows
        .iter()
        .filter(|r| r.technique == technique)
        .map(|r| r.clients)
        .max()?;
    let distance = |r: &Row| {
        r.poll_interval_s
            .map_or(0.0, |i| (i - REFERENCE_POLL_INTERVAL_S).abs())
    };
    let mut best: Option<usize> = None;
    for (i, r) in rows.iter().enumerate() {
        if r.technique != technique || r.clients != max_clients {
            continue;
        }
        if best.is_none_or(|b| distance(r) < distance(&rows[b])) {
            best = Some(i);
        }
    }
    best
}

/// One representative row per technique present, in [`Technique::ALL`] order.
pub fn representative_rows(rows: &[Row]) -> Vec<&Row> {
    Technique::ALL
        .into_iter()
        .filter_map(|t| representative_row(rows, t))
        .collect()
}

#[cfg(test)]
pub(crate) mod testdata {
    //! Fake rows for the exporters' tests (no simulator needed).

    use crate::columns::METRICS;
    use crate::results::{Row, RunMetrics, TimePoint};
    use crate::scenario::Technique;

    /// Metrics with distinct, round-trippable values; `k` shifts them.
    pub fn metrics(k: f64) -> RunMetrics {
        RunMetrics {
            requests_per_s: 33_333.5 * k,
            empty_response_fraction: 0.995,
            latency_mean_s: 1.6 * k,
            latency_p50_s: 1.5 * k,
            latency_p99_s: 3.1 * k,
            latency_max_s: 3.3 * k,
            connections_mean: 30_000.0 * k,
            connections_peak: 31_000.0 * k,
            server_memory_mean_bytes: 1.5 * 1024.0 * 1024.0 * 1024.0 * k,
            server_memory_peak_bytes: 1.75 * 1024.0 * 1024.0 * 1024.0 * k,
            cpu_utilization: 0.25,
            queue_wait_mean_s: 0.000_125,
            backplane_utilization: 0.375,
            backplane_wait_mean_s: 0.000_25,
            bytes_down_per_s: 1.0e7 * k,
            bytes_up_per_s: 2.0e7 * k,
            overhead_fraction: 0.98,
            handshakes_per_s: 12.5 * k,
            deliveries: 1_000.0 * k,
            lost: 0.0,
            in_flight: 3.0,
            stalled_pairs: 0.0,
            rejected_connections: 0.0,
            proxy_timeouts: 0.0,
            reconnects: 2.0,
            streams_failed: 0.0,
            connections_per_user: 1.0,
            memory_per_user_bytes: 3_250.0,
            stalled_per_user: 0.0,
            instances_needed: 1.0,
            published_pairs: 0.0,
            events: 0.0,
        }
    }

    /// A CI record as the aggregator makes it: only `has_ci` metrics are filled.
    pub fn ci(k: f64) -> RunMetrics {
        let full = metrics(k);
        let mut ci = RunMetrics::default();
        for m in METRICS.iter().filter(|m| m.has_ci()) {
            m.set(&mut ci, m.get(&full));
        }
        ci
    }

    pub fn series(k: f64) -> Vec<TimePoint> {
        (0..5)
            .map(|i| TimePoint {
                time_s: f64::from(i),
                connections: 100.0 * k + f64::from(i),
                requests_per_s: 10.0 * k,
                handshakes_per_s: if i == 2 { 50.0 } else { 1.0 },
                deliveries_per_s: 5.0,
                server_memory_bytes: 1.0e6 * k,
                cpu_utilization: 0.125,
                latency_mean_s: if i == 0 { None } else { Some(0.05 * k) },
            })
            .collect()
    }

    /// A row at `clients`, short polling at `interval` (if given), with a CI.
    pub fn row(technique: Technique, clients: u32, interval: Option<f64>) -> Row {
        let k = f64::from(clients) / 100_000.0;
        let interval_text = interval.map_or(String::new(), |i| format!("{i}s"));
        Row {
            technique,
            clients,
            poll_interval_s: interval,
            sweep: vec![
                ("workload.clients".to_string(), clients.to_string()),
                ("short-polling.interval".to_string(), interval_text),
            ],
            replications: 3,
            mean: metrics(k),
            ci95: Some(ci(k * 0.01)),
            timeseries: series(k),
            unsampled: Vec::new(),
        }
    }

    /// A sweep shaped like the seed's headline experiment: 1k, 10k and 100k clients,
    /// short polling every 1, 3, 10 and 30 s; numbers roughly what the model gives.
    pub fn headline() -> Vec<Row> {
        let mut rows = Vec::new();
        for clients in [1_000, 10_000, 100_000] {
            for t in Technique::ALL {
                let intervals: &[Option<f64>] = if t == Technique::ShortPolling {
                    &[Some(1.0), Some(3.0), Some(10.0), Some(30.0)]
                } else {
                    &[None]
                };
                for &i in intervals {
                    let mut r = row(t, clients, i);
                    shape(&mut r);
                    rows.push(r);
                }
            }
        }
        rows
    }

    fn shape(r: &mut Row) {
        let n = f64::from(r.clients);
        let m = &mut r.mean;
        let (conns, handshakes) = match r.technique {
            Technique::ShortPolling => {
                let i = r.poll_interval_s.unwrap();
                m.requests_per_s = n / (i + 0.1);
                m.empty_response_fraction = 1.0 - 0.005 * i.min(100.0) / 3.0;
                m.connections_mean = 0.3 * n;
                m.latency_mean_s = i / 2.0 + 0.1;
                m.latency_p50_s = i / 2.0 + 0.08;
                m.latency_p99_s = i + 0.1;
                m.overhead_fraction = 0.99;
                m.bytes_down_per_s = m.requests_per_s * 300.0;
                m.bytes_up_per_s = m.requests_per_s * 700.0;
                (0.3 * n, n / 60.0)
            }
            Technique::LongPolling => {
                m.requests_per_s = n * 0.012;
                m.empty_response_fraction = 0.2;
                m.connections_mean = n;
                m.latency_mean_s = 0.045;
                m.latency_p99_s = 0.6;
                m.overhead_fraction = 0.8;
                m.bytes_down_per_s = n * 4.0;
                m.bytes_up_per_s = n * 8.0;
                (n, n / 600.0)
            }
            Technique::Sse => {
                m.requests_per_s = 0.0;
                m.empty_response_fraction = 0.0;
                m.connections_mean = n;
                m.latency_mean_s = 0.04;
                m.latency_p99_s = 0.12;
                m.overhead_fraction = 0.2;
                m.bytes_down_per_s = n * 0.3;
                m.bytes_up_per_s = n * 0.05;
                (n, 0.0)
            }
            Technique::Websocket => {
                m.requests_per_s = 0.5;
                m.empty_response_fraction = 0.0;
                m.connections_mean = n;
                m.latency_mean_s = 0.04;
                m.latency_p99_s = f64::NAN;
                m.overhead_fraction = 0.1;
                m.bytes_down_per_s = n * 0.25;
                m.bytes_up_per_s = n * 0.02;
                (n, 0.0)
            }
        };
        m.server_memory_mean_bytes = n * 12_288.0;
        if let Some(ci) = &mut r.ci95 {
            ci.requests_per_s = m.requests_per_s * 0.05;
            ci.latency_mean_s = m.latency_mean_s * 0.1;
        }
        r.timeseries = (0..70)
            .map(|s| {
                let t = f64::from(s);
                let ramp = (t / 10.0).min(1.0);
                // A reconnect storm at 40 s for the persistent techniques.
                let storm = handshakes == 0.0 && s == 40;
                TimePoint {
                    time_s: t,
                    connections: conns * ramp * if storm { 0.6 } else { 1.0 },
                    requests_per_s: m.requests_per_s,
                    handshakes_per_s: if s < 10 {
                        n / 10.0
                    } else if storm {
                        0.4 * n
                    } else {
                        handshakes
                    },
                    deliveries_per_s: n * 0.1,
                    server_memory_bytes: m.server_memory_mean_bytes * ramp,
                    cpu_utilization: 0.1,
                    latency_mean_s: Some(m.latency_mean_s),
                }
            })
            .collect();
    }

    /// Sweep keys of [`row`].
    pub fn keys() -> Vec<String> {
        vec![
            "workload.clients".to_string(),
            "short-polling.interval".to_string(),
        ]
    }

    /// Four techniques × two client counts, short polling at 1 s and 3 s.
    pub fn sweep() -> Vec<Row> {
        let mut rows = Vec::new();
        for clients in [1_000, 100_000] {
            for t in Technique::ALL {
                if t == Technique::ShortPolling {
                    for i in [1.0, 3.0] {
                        rows.push(row(t, clients, Some(i)));
                    }
                } else {
                    rows.push(row(t, clients, None));
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_numbers_are_shortest_round_trip() {
        assert_eq!(machine_number(3.0), "3");
        assert_eq!(machine_number(0.1), "0.1");
        assert_eq!(machine_number(-0.0), "0");
        assert_eq!(machine_number(1e-7), "0.0000001");
        assert_eq!(machine_number(33333.5), "33333.5");
        assert_eq!(machine_number(1.0 / 3.0), "0.3333333333333333");
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.csv");
        write_atomic(&path, b"old\n").unwrap();
        write_atomic(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["results.csv".to_string()]);
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.md");
        write_atomic(&path, b"old").unwrap();
        let err = with_temp_file(&path, |f, _| {
            f.write_all(b"half").unwrap();
            Err(ReportError::io("writing", &path)(std::io::Error::other(
                "interrupted",
            )))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn representative_is_largest_clients_and_interval_nearest_3s() {
        let rows = testdata::sweep();
        let sp = representative_row(&rows, Technique::ShortPolling).unwrap();
        assert_eq!((sp.clients, sp.poll_interval_s), (100_000, Some(3.0)));
        let reps = representative_rows(&rows);
        assert_eq!(reps.len(), 4);
        assert!(reps.iter().all(|r| r.clients == 100_000));
    }

    #[test]
    fn write_all_writes_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        // Set RTSIM_KEEP_REPORT=DIR to keep the outputs for a look.
        let keep = std::env::var_os("RTSIM_KEEP_REPORT").map(PathBuf::from);
        let dir = keep.as_deref().unwrap_or(tmp.path());
        let rows = testdata::headline();
        let meta = Metadata {
            name: "t".into(),
            resolved_experiment: "name = \"t\"".into(),
            sweep_keys: testdata::keys(),
            ..Metadata::default()
        };
        write_all(dir, &Results::unannotated(rows), &meta).unwrap();
        for f in [
            "results.csv",
            "results.json",
            "table.md",
            "timeseries.csv",
            "experiment.toml",
            "charts/tradeoff-table.png",
            "charts/timeseries-1.svg",
            "charts/requests-vs-clients.png",
            "report.html",
        ] {
            assert!(dir.join(f).is_file(), "{f} missing");
        }
        let leftovers = std::fs::read_dir(dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("charts")).unwrap())
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".rtsim-")
            })
            .count();
        assert_eq!(leftovers, 0);
        assert_eq!(
            std::fs::read_to_string(dir.join("experiment.toml")).unwrap(),
            "name = \"t\"\n"
        );
    }
}
