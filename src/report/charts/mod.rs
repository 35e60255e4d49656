//! Charts (plotters, no system fonts): SVG and PNG, 1280×720, into `DIR/charts/`.
//!
//! | file stem | drawn when | shows |
//! |---|---|---|
//! | `requests-vs-clients` | clients swept | HTTP requests/s vs clients, log–log, theory dashed |
//! | `latency-vs-interval` | short-polling interval swept | short-polling latency (mean, p50–p99 band) vs interval, theory dashed; other techniques as reference lines |
//! | `connections-memory-vs-clients` | clients swept | open connections and server memory vs clients |
//! | `bytes-vs-clients` | clients swept | bytes/s on the wire (down + up) and overhead share vs clients |
//! | `empty-fraction-vs-interval` | short-polling interval swept | share of empty responses vs interval, theory dashed |
//! | `along-<key>` | any other key swept | latency, requests/s, connections, bytes/s against it |
//! | `timeseries[-n]` | always, one per sweep point | connections and handshakes/s over time, every row of the point, warm-up end and faults marked |
//! | `tradeoff-table` | always | the trade-off table as an image |
//! | `custom-<n>` | the experiment has `[[charts]]` | its n-th chart |
//! | `sizing-instances` | `rtsim size`, a technique sized | instances needed vs clients per technique (`sizing.rs`) |
//!
//! `charts/index.json` lists them ([`ChartEntry`]): what a test, a notebook or a report
//! reads to find the chart of a question.
//!
//! The built-in charts are data (`builtin.rs`): each panel is a
//! [`ChartSpec`] — what an experiment's `[[charts]]` table is read into — plus how it is
//! dressed. Both kinds go the same way: rows are selected (`select.rs`), a figure is
//! built by column name from the column list (`figure.rs`), scaled (`scale.rs`) and
//! drawn (`draw.rs`). The table image has its own drawing (`table.rs`).
//!
//! Colours are the Okabe–Ito palette, one per technique everywhere; legend names are
//! [`Technique::title`].

mod builtin;
mod draw;
mod figure;
mod scale;
mod select;
mod sizing;
mod table;
mod words;

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use self::draw::{Drawing, ensure_fonts, render};
use crate::columns::ChartSpec;
use crate::report::{ReportError, Results};
use crate::scenario::Technique;

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (1280, 720);

/// The embedded font's family name.
const FONT: &str = "sans-serif";

/// Okabe–Ito colour of a technique (colour-blind safe).
pub fn technique_color(t: Technique) -> RGBColor {
    match t {
        Technique::ShortPolling => RGBColor(0xE6, 0x9F, 0x00),
        Technique::LongPolling => RGBColor(0x56, 0xB4, 0xE9),
        Technique::Sse => RGBColor(0x00, 0x9E, 0x73),
        Technique::Websocket => RGBColor(0xCC, 0x79, 0xA7),
    }
}

/// A moment marked on every time-series panel: a vertical line and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeMark {
    /// Simulated seconds since the start of the warm-up (as `time_s`).
    pub at_s: f64,
    pub label: String,
}

/// The marks of a run: the end of its warm-up, and each instance crash and restart.
pub fn time_marks(scenario: &crate::scenario::Scenario) -> Vec<TimeMark> {
    use crate::engine::time::secs;
    let mut marks = vec![TimeMark {
        at_s: secs(scenario.warmup),
        label: "warm-up ends".to_string(),
    }];
    for f in &scenario.faults {
        marks.push(TimeMark {
            at_s: secs(f.at),
            label: format!("instance {} crashes", f.instance),
        });
        marks.push(TimeMark {
            at_s: secs(f.at.saturating_add(f.downtime)),
            label: format!("instance {} back", f.instance),
        });
    }
    marks
}

/// What the charts are told besides the rows: the swept keys (columns of
/// `results.csv`) and the moments to mark on time series.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChartContext<'a> {
    pub sweep_keys: &'a [String],
    pub marks: &'a [TimeMark],
}

/// The folder charts go into, created if missing.
fn charts_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    ensure_fonts()?;
    let out = dir.join("charts");
    std::fs::create_dir_all(&out).map_err(ReportError::io("creating", &out))?;
    Ok(out)
}

/// One chart drawn, as `charts/index.json` lists it: its file stem, its title, and the
/// columns of each panel's x and y axes — so a test, a notebook or the HTML report can
/// find the chart of a question without reading pictures.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChartEntry {
    pub stem: String,
    pub title: String,
    /// `x` column of each panel.
    pub x: Vec<String>,
    /// `y` column (or sum) of each panel.
    pub y: Vec<String>,
}

fn entry(chart: &builtin::Chart) -> ChartEntry {
    ChartEntry {
        stem: chart.stem.clone(),
        title: chart.title.clone(),
        x: chart.panels.iter().map(|p| p.spec.x.clone()).collect(),
        y: chart.panels.iter().map(|p| p.spec.y.clone()).collect(),
    }
}

/// Draws the built-in charts, the experiment's `[[charts]]` and the table image, and
/// writes `charts/index.json` listing them in drawing order; returns the files written.
pub fn draw_all(
    dir: &Path,
    results: &Results,
    cx: ChartContext,
    specs: &[ChartSpec],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = draw_charts(dir, results, cx)?;
    files.extend(draw_custom_charts(dir, results, cx, specs)?);
    let index = chart_index(results, cx, specs);
    let path = dir.join("charts").join("index.json");
    let text = serde_json::to_string_pretty(&index).expect("plain data serializes");
    crate::report::write_atomic(&path, format!("{text}\n").as_bytes())?;
    files.push(path);
    Ok(files)
}

/// The charts [`draw_all`] draws, in drawing order, as `charts/index.json` lists them:
/// built-in, `[[charts]]`, the table image. Each is `charts/<stem>.svg` (and `.png`).
pub fn chart_index(results: &Results, cx: ChartContext, specs: &[ChartSpec]) -> Vec<ChartEntry> {
    let mut index: Vec<ChartEntry> = builtin::builtin(results.rows(), cx.sweep_keys)
        .iter()
        .map(entry)
        .collect();
    index.extend(
        specs
            .iter()
            .enumerate()
            .map(|(n, spec)| entry(&builtin::custom(n + 1, spec))),
    );
    index.push(ChartEntry {
        stem: "tradeoff-table".into(),
        title: "The trade-off table".into(),
        x: Vec::new(),
        y: Vec::new(),
    });
    index
}

/// Builds and draws one chart into `out`.
fn draw(
    out: &Path,
    chart: &builtin::Chart,
    results: &Results,
    cx: ChartContext,
) -> Result<Vec<PathBuf>, ReportError> {
    let figure = figure::figure(chart, results, cx.sweep_keys, cx.marks).map_err(|source| {
        ReportError::Chart {
            stem: chart.stem.clone(),
            source,
        }
    })?;
    render(out, &chart.stem, &Drawing::Figure(figure))
}

/// Draws every chart that the sweep supports into `dir/charts/` (created if missing),
/// as SVG and PNG; returns the files written. Charts along an axis that was not swept
/// are skipped; the time series and the table image are always drawn.
pub fn draw_charts(
    dir: &Path,
    results: &Results,
    cx: ChartContext,
) -> Result<Vec<PathBuf>, ReportError> {
    let out = charts_dir(dir)?;
    let mut written = Vec::new();
    for chart in builtin::builtin(results.rows(), cx.sweep_keys) {
        written.extend(draw(&out, &chart, results, cx)?);
    }
    written.extend(render(
        &out,
        "tradeoff-table",
        &Drawing::Table(results.rows()),
    )?);
    Ok(written)
}

/// Draws the experiment's own `[[charts]]` into `dir/charts/custom-<n>.{svg,png}`.
/// Their columns are named as in `results.csv` (`sweep_keys` are its swept columns).
pub fn draw_custom_charts(
    dir: &Path,
    results: &Results,
    cx: ChartContext,
    specs: &[ChartSpec],
) -> Result<Vec<PathBuf>, ReportError> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let out = charts_dir(dir)?;
    let mut files = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        files.extend(draw(&out, &builtin::custom(n + 1, spec), results, cx)?);
    }
    Ok(files)
}

/// Draws the sizing chart (instances against clients, per technique) into
/// `dir/charts/sizing-instances.{svg,png}`; nothing when no technique could be sized.
pub fn draw_sizing_chart(
    dir: &Path,
    rows: &[crate::sizing::Sizing],
) -> Result<Vec<PathBuf>, ReportError> {
    if rows.iter().all(|r| r.instances_needed.is_none()) {
        return Ok(Vec::new());
    }
    let out = charts_dir(dir)?;
    render(&out, sizing::STEM, &Drawing::Figure(sizing::figure(rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of every `<text>` element of an SVG, in order.
    fn svg_texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .map(|t| {
                t.split('>')
                    .nth(1)
                    .unwrap_or("")
                    .trim_end_matches("</text")
                    .trim()
            })
            .collect()
    }
    use crate::report::testdata;
    use crate::results::Row;

    fn cx(keys: &[String]) -> ChartContext<'_> {
        ChartContext {
            sweep_keys: keys,
            marks: &[],
        }
    }

    fn hex(t: Technique) -> String {
        let c = technique_color(t);
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// Elements of `tag` in `svg` whose attributes mention `color`.
    fn count(svg: &str, tag: &str, color: &str) -> usize {
        svg.split(&format!("<{tag}"))
            .skip(1)
            .filter(|el| el.split('>').next().unwrap_or("").contains(color))
            .count()
    }

    #[test]
    fn writes_svg_and_png_for_a_sweep() {
        let dir = tempfile::tempdir().unwrap();
        // Set RTSIM_KEEP_CHARTS=DIR to keep the pictures for a look.
        let keep = std::env::var_os("RTSIM_KEEP_CHARTS").map(PathBuf::from);
        let dir_path = keep.as_deref().unwrap_or(dir.path());
        let mut rows = testdata::headline();
        for r in &mut rows {
            r.ci95 = None;
        }
        let keys = testdata::keys();
        let files = draw_charts(dir_path, &Results::unannotated(rows.clone()), cx(&keys)).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for stem in [
            "requests-vs-clients",
            "latency-vs-interval",
            "connections-memory-vs-clients",
            "bytes-vs-clients",
            "empty-fraction-vs-interval",
            "timeseries-1",
            "timeseries-3",
            "tradeoff-table",
        ] {
            assert!(names.contains(&format!("{stem}.svg")), "{stem}.svg");
            assert!(names.contains(&format!("{stem}.png")), "{stem}.png");
        }
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            if f.extension().unwrap() == "png" {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
            } else {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("<svg"), "{}", f.display());
                assert!(text.trim_end().ends_with("</svg>"), "{}", f.display());
                assert_eq!(
                    text.matches("<text").count(),
                    text.matches("</text>").count()
                );
            }
        }

        // requests vs clients: one line (+ its legend swatch) and one marker per row.
        let svg = std::fs::read_to_string(dir_path.join("charts/requests-vs-clients.svg")).unwrap();
        let texts = svg_texts(&svg);
        assert!(texts.contains(&"HTTP requests per second (req/s)"));
        assert!(
            texts.contains(&"10k") && texts.contains(&"100k"),
            "{texts:?}"
        );
        assert!(texts.iter().all(|t| !t.contains(".0")), "{texts:?}");
        for t in Technique::ALL {
            let color = hex(t);
            assert_eq!(count(&svg, "polyline", &color), 2, "{t} lines");
            // Short polling is shown at 3 s only: 3 client counts per technique, and
            // the legend's swatch has its marker.
            assert_eq!(count(&svg, "circle", &color), 3 + 1, "{t} markers");
            assert!(texts.iter().any(|x| x.starts_with(t.title())), "{t} legend");
        }
        assert!(
            texts.iter().any(
                |t| t.starts_with("On a log axis a value of 0 is drawn on the axis floor: SSE")
            ),
            "{texts:?}"
        );
    }

    #[test]
    fn unswept_axes_are_skipped_but_table_and_timeseries_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = Technique::ALL
            .into_iter()
            .map(|t| {
                let i = (t == Technique::ShortPolling).then_some(3.0);
                testdata::row(t, 1000, i)
            })
            .collect();
        let files = draw_charts(
            dir.path(),
            &Results::unannotated(rows.clone()),
            ChartContext::default(),
        )
        .unwrap();
        let mut names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "timeseries.png",
                "timeseries.svg",
                "tradeoff-table.png",
                "tradeoff-table.svg"
            ]
        );
        let leftovers = std::fs::read_dir(dir.path().join("charts"))
            .unwrap()
            .count();
        assert_eq!(leftovers, 4, "no temporary files remain");
    }

    #[test]
    fn error_bars_when_ci_present() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = [1000, 10_000]
            .into_iter()
            .map(|n| testdata::row(Technique::Sse, n, None))
            .collect();
        let keys = testdata::keys();
        draw_charts(dir.path(), &Results::unannotated(rows.clone()), cx(&keys)).unwrap();
        let svg =
            std::fs::read_to_string(dir.path().join("charts/requests-vs-clients.svg")).unwrap();
        // line + legend + 2 points × (bar + 2 caps)
        assert_eq!(count(&svg, "polyline", &hex(Technique::Sse)), 2 + 2 * 3);
    }

    #[test]
    fn charts_are_byte_identical_across_runs() {
        let rows = testdata::headline();
        let keys = testdata::keys();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let files_a =
            draw_charts(a.path(), &Results::unannotated(rows.clone()), cx(&keys)).unwrap();
        let files_b =
            draw_charts(b.path(), &Results::unannotated(rows.clone()), cx(&keys)).unwrap();
        assert_eq!(files_a.len(), files_b.len());
        for (fa, fb) in files_a.iter().zip(&files_b) {
            assert_eq!(fa.file_name(), fb.file_name());
            assert!(
                std::fs::read(fa).unwrap() == std::fs::read(fb).unwrap(),
                "{}",
                fa.display()
            );
        }
    }

    #[test]
    fn empty_input_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        let files = draw_charts(dir.path(), &Results::default(), ChartContext::default()).unwrap();
        assert_eq!(files.len(), 4);
    }

    #[test]
    fn experiment_charts_are_drawn_from_named_columns() {
        let dir = tempfile::tempdir().unwrap();
        let rows = testdata::sweep();
        let spec = ChartSpec {
            log_x: true,
            log_y: true,
            title: Some("Open connections".into()),
            ..ChartSpec::of("clients", "connections_mean")
        };
        let files = draw_custom_charts(
            dir.path(),
            &Results::unannotated(rows.clone()),
            ChartContext::default(),
            std::slice::from_ref(&spec),
        )
        .unwrap();
        assert_eq!(files.len(), 2);
        let svg = std::fs::read_to_string(dir.path().join("charts/custom-1.svg")).unwrap();
        assert!(svg.contains("Open connections"));
        // One line per technique present in the rows.
        for t in Technique::ALL {
            if rows.iter().any(|r| r.technique == t) {
                assert!(count(&svg, "polyline", &hex(t)) >= 1, "{t}");
            }
        }
        let bad = ChartSpec {
            y: "no_such_column".into(),
            ..spec
        };
        let results = Results::unannotated(rows);
        let err =
            draw_custom_charts(dir.path(), &results, ChartContext::default(), &[bad]).unwrap_err();
        assert_eq!(
            format!("{:#}", anyhow::Error::from(err)),
            "chart custom-1: no row has both `clients` and `no_such_column` \
             (use results.csv column names)"
        );
    }

    #[test]
    fn experiment_charts_read_swept_values_and_sums() {
        let dir = tempfile::tempdir().unwrap();
        let rows = testdata::sweep();
        let keys = testdata::keys();
        let spec = ChartSpec {
            series: Some("workload.clients".into()),
            log_y: true,
            ..ChartSpec::of(
                "short-polling.interval",
                "bytes_down_per_s + bytes_up_per_s",
            )
        };
        let results = Results::unannotated(rows);
        draw_custom_charts(dir.path(), &results, cx(&keys), &[spec]).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("charts/custom-1.svg")).unwrap();
        assert!(svg.contains("bytes per second, both ways vs short-polling interval"));
        // Intervals (`1s`, `3s`) are durations: seconds on the axis.
        let texts = svg_texts(&svg);
        assert!(
            texts.contains(&"1 s") && texts.contains(&"3 s"),
            "{texts:?}"
        );
        // One series per client count, short polling only (the others have no interval).
        assert!(svg.contains("Short polling, clients = 1000"));
        assert!(svg.contains("Short polling, clients = 100000"));
    }
}
