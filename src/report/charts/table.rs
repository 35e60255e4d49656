//! The trade-off table as a picture (`charts/tradeoff-table.svg` and `.png`): the same
//! cells as `table.md`, wrapped to fit, each technique's line marked with its colour.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::draw::Fallible;
use super::{FONT, technique_color};
use crate::report::ChartError;
use crate::report::representative_rows;
use crate::report::table::{HEADINGS, table_cells};
use crate::results::Row;
use crate::scenario::Technique;

/// Greedy word wrap to `width` pixels.
pub(super) fn wrap<DB: DrawingBackend<ErrorType: 'static>>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: u32,
) -> Result<Vec<String>, ChartError> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        lines.extend(wrap_line(root, paragraph, style, width)?);
    }
    Ok(lines)
}

fn wrap_line<DB: DrawingBackend<ErrorType: 'static>>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: u32,
) -> Result<Vec<String>, ChartError> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        let (w, _) = root.estimate_text_size(&candidate, style)?;
        if w > width && !current.is_empty() {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    Ok(lines)
}

/// The trade-off table as a picture.
pub(super) fn draw_table<DB>(root: &DrawingArea<DB, Shift>, rows: &[Row]) -> Fallible
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let margin = 32i32;
    let title = TextStyle::from((FONT, 28, FontStyle::Bold).into_font()).color(&BLACK);
    let head = TextStyle::from((FONT, 18, FontStyle::Bold).into_font()).color(&BLACK);
    let body = TextStyle::from((FONT, 17).into_font()).color(&BLACK);
    let small = TextStyle::from((FONT, 15).into_font()).color(&RGBColor(0x44, 0x44, 0x44));
    root.draw_text(
        "Trade-off table, regenerated from measured numbers",
        &title,
        (margin, margin),
    )?;
    let (mut lines, caption) = table_cells(rows);
    // The word of a measured cell on a line of its own, its numbers under it.
    for cells in &mut lines {
        for cell in &mut cells[2..4] {
            *cell = cell.replacen(": ", ":\n", 1);
        }
    }
    let fractions = [0.13, 0.13, 0.32, 0.22, 0.20];
    let inner = w as i32 - 2 * margin;
    let mut xs = vec![margin];
    for f in fractions {
        let last = *xs.last().unwrap();
        xs.push(last + (f * f64::from(inner)) as i32);
    }
    let pad = 10;
    let line_h = 24;
    let mut y = margin + 56;

    let mut draw_row = |cells: &[String],
                        style: &TextStyle,
                        fill: Option<RGBColor>,
                        mark: Option<RGBColor>|
     -> Fallible {
        let wrapped = cells
            .iter()
            .enumerate()
            .map(|(i, c)| wrap(root, c, style, (xs[i + 1] - xs[i] - 2 * pad) as u32))
            .collect::<Result<Vec<_>, _>>()?;
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1) as i32;
        let h = n * line_h + 2 * pad;
        if let Some(fill) = fill {
            root.draw(&Rectangle::new(
                [(xs[0], y), (*xs.last().unwrap(), y + h)],
                fill.filled(),
            ))?;
        }
        if let Some(mark) = mark {
            root.draw(&Rectangle::new(
                [(xs[0], y), (xs[0] + 6, y + h)],
                mark.filled(),
            ))?;
        }
        for (i, cell) in wrapped.iter().enumerate() {
            for (j, text) in cell.iter().enumerate() {
                root.draw_text(text, style, (xs[i] + pad + 4, y + pad + j as i32 * line_h))?;
            }
        }
        y += h;
        root.draw(&PathElement::new(
            vec![(xs[0], y), (*xs.last().unwrap(), y)],
            RGBColor(0xBB, 0xBB, 0xBB).stroke_width(1),
        ))?;
        Ok(())
    };
    let headings: Vec<String> = HEADINGS.iter().map(|s| s.to_string()).collect();
    draw_row(&headings, &head, Some(RGBColor(0xEE, 0xEE, 0xEE)), None)?;
    let reps: Vec<Technique> = representative_rows(rows)
        .iter()
        .map(|r| r.technique)
        .collect();
    for (cells, t) in lines.iter().zip(reps) {
        draw_row(cells, &body, None, Some(technique_color(t)))?;
    }
    if lines.is_empty() {
        draw_row(&["No results.".to_string()], &body, None, None)?;
    }
    let caption = caption.trim_matches('*');
    let mut cy = y + 20;
    for text in wrap(root, caption, &small, inner as u32)? {
        root.draw_text(&text, &small, (margin, cy))?;
        cy += 20;
    }
    Ok(())
}
