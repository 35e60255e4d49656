//! The CSV dialect `results.csv` and `timeseries.csv` share: written into memory with
//! `\n` line ends and minimal quoting, cells spelled as the column list's [`Cell`]s say,
//! and read back by column name with the line of any bad cell.

use std::collections::BTreeMap;

use super::error::{CellError, ReadError};
use super::machine_number;
use crate::columns::Cell;

/// A CSV writer into memory with `\n` line ends and minimal quoting.
pub(super) fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

/// Writes one record into an in-memory writer (which cannot fail).
pub(super) fn record<I, T>(w: &mut csv::Writer<Vec<u8>>, fields: I)
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    w.write_record(fields)
        .expect("writing to memory cannot fail");
}

/// The finished text of an in-memory CSV writer.
pub(super) fn finish(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// A cell's CSV spelling: numbers for machines, empty for [`Cell::Empty`].
pub(super) fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Num(v) => machine_number(*v),
        Cell::Empty => String::new(),
    }
}

/// Column index by header name.
pub(super) struct Header(BTreeMap<String, usize>);

impl Header {
    pub(super) fn new(header: &csv::StringRecord) -> Header {
        Header(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.to_string(), i))
                .collect(),
        )
    }

    /// The index of a column the file must have.
    pub(super) fn index(&self, name: &str) -> Result<usize, ReadError> {
        self.get(name)
            .ok_or_else(|| ReadError::MissingColumn(name.to_string()))
    }

    /// The index of a column the file may have.
    pub(super) fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }
}

/// A number cell of the column named `column`: empty reads as `None`; anything else must
/// be a finite number (the writers leave a missing value empty, never `NaN` or `inf`).
pub(super) fn parse_opt(
    record: &csv::StringRecord,
    i: usize,
    column: &str,
) -> Result<Option<f64>, CellError> {
    let s = record.get(i).unwrap_or("").trim();
    if s.is_empty() {
        return Ok(None);
    }
    let v = s.parse::<f64>().map_err(|source| CellError::Number {
        column: column.to_string(),
        text: s.to_string(),
        source,
    })?;
    if !v.is_finite() {
        return Err(CellError::NotFinite {
            column: column.to_string(),
            text: s.to_string(),
        });
    }
    Ok(Some(v))
}

/// A cell measuring an amount (a rate, a time, bytes, a count, a fraction): as
/// [`parse_opt`], and not negative.
pub(super) fn parse_amount(
    record: &csv::StringRecord,
    i: usize,
    column: &str,
) -> Result<Option<f64>, CellError> {
    let v = parse_opt(record, i, column)?;
    if v.is_some_and(|v| v < 0.0) {
        return Err(CellError::Negative {
            column: column.to_string(),
            text: record.get(i).unwrap_or("").trim().to_string(),
        });
    }
    Ok(v)
}

/// Where a record starts, for error messages.
pub(super) fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}
