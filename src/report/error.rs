//! What can go wrong writing reports or reading them back. Each error says where
//! (the file, the line, the chart) and keeps its cause as its `source`, so the command
//! line prints the whole chain: `reading out/results.csv: line 2: unknown technique
//! `comet``.

use std::path::PathBuf;

/// A report could not be written, drawn or read back.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be created, written, flushed or renamed into place.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A results file could not be read back.
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// A chart could not be drawn.
    #[error("chart {stem}")]
    Chart {
        stem: String,
        #[source]
        source: ChartError,
    },
    #[error("could not load the embedded DejaVu Sans font")]
    Font,
}

impl ReportError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl Fn(std::io::Error) -> Self {
        let path = path.into();
        move |source| ReportError::Io {
            action,
            path: path.clone(),
            source,
        }
    }
}

/// What is wrong with a results file as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error("not an rtsim results file: needs `poll_interval_s` and `replications` columns")]
    NotResults,
    #[error("`replications` must come after `poll_interval_s`")]
    OutOfOrder,
    #[error("missing column `{0}`")]
    MissingColumn(String),
    #[error("line {line}")]
    Line {
        line: u64,
        #[source]
        source: CellError,
    },
}

/// What is wrong with one cell of a results file.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("unknown technique `{0}`")]
    Technique(String),
    #[error("{column} `{text}` is not a count")]
    Count { column: String, text: String },
    #[error("{column} `{text}` is not a number")]
    Number {
        column: String,
        text: String,
        #[source]
        source: std::num::ParseFloatError,
    },
    /// NaN, an infinity, or a number too large for `f64` (`1e309`): rtsim never writes one.
    #[error("{column} `{text}` is not a finite number")]
    NotFinite { column: String, text: String },
    /// Below zero where every value measures an amount.
    #[error("{column} `{text}` is negative; it measures an amount (0 or more)")]
    Negative { column: String, text: String },
    /// Zero clients or replications: a row has at least one of each.
    #[error("{column} is 0; a row has at least 1")]
    Zero { column: String },
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("no row has both `{x}` and `{y}` (use results.csv column names)")]
    NoRows { x: String, y: String },
    #[error("no time-series column `{0}`")]
    NoPointColumn(String),
    /// plotters failed (a backend error, a layout that does not fit).
    #[error("plotting")]
    Plot(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl<E> From<plotters::drawing::DrawingAreaErrorKind<E>> for ChartError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        ChartError::Plot(Box::new(e))
    }
}
