//! The chart of `rtsim size`: instances against clients, one line per technique.
//!
//! Sizing simulates one deployment (N clients) per technique and finds how many clients
//! one instance holds (`max_clients_per_instance`). For `n ≤ N` clients the instances
//! needed are then ⌈n / max⌉ — a staircase, drawn solid — and the simulated deployment
//! is a marker at N (it can sit a step higher: the backplane and the balancer cost
//! headroom the one-instance search did not see). Where the search stopped at N (one
//! instance holds everyone) the line is flat at 1 over the whole range: exact, since
//! the capacity is at least N. A technique that meets the target at no size has no
//! line; its legend entry says so. Nothing is drawn beyond N, where nothing was
//! simulated.

use super::figure::{Axis, Figure, Panel, Pt, Series, Stroke};
use super::technique_color;
use crate::columns::Unit;
use crate::sizing::Sizing;

/// The file stem of the sizing chart.
pub const STEM: &str = "sizing-instances";

/// Points on the staircase ⌈n / max⌉ for `n` from 0 to `clients`.
fn staircase(clients: u64, max: u64) -> Vec<Pt> {
    let pt = |x: u64, y: u64| Pt {
        x: x as f64,
        y: y as f64,
        err: None,
    };
    let mut points = vec![pt(0, 1)];
    let mut k = 1;
    while k * max < clients {
        points.push(pt(k * max, k));
        points.push(pt(k * max, k + 1));
        k += 1;
    }
    points.push(pt(clients, k));
    points
}

/// The figure: instances needed against clients, per technique.
pub(super) fn figure(rows: &[Sizing]) -> Figure {
    let mut series = Vec::new();
    for r in rows {
        let color = technique_color(r.technique);
        let title = r.technique.title();
        let Some(k) = r.instances_needed else {
            series.push(Series {
                label: format!("{title}: meets the target at no size"),
                color,
                points: Vec::new(),
                band: Vec::new(),
                reference: None,
                markers: false,
                stroke: Stroke::Dashed,
                weight: 0,
            });
            continue;
        };
        let max = r.max_clients_per_instance.max(1);
        let label = if r.at_cap {
            format!("{title}: one instance holds ≥ all")
        } else {
            format!("{title}: ⌈n / {max}⌉")
        };
        series.push(Series {
            label,
            color,
            points: staircase(r.clients, max),
            band: Vec::new(),
            reference: None,
            markers: false,
            stroke: Stroke::Solid,
            weight: 0,
        });
        series.push(Series {
            label: format!("{title}: simulated deployment ({k})"),
            color,
            points: vec![Pt {
                x: r.clients as f64,
                y: k as f64,
                err: None,
            }],
            band: Vec::new(),
            reference: None,
            markers: true,
            stroke: Stroke::Solid,
            weight: 0,
        });
    }
    let y_max = rows
        .iter()
        .filter_map(|r| r.instances_needed)
        .max()
        .unwrap_or(1) as f64;
    Figure {
        title: "Instances needed against clients (staircase: ⌈n / max clients per instance⌉; \
                marker: the simulated deployment)"
            .to_string(),
        panels: vec![Panel {
            title: String::new(),
            x: Axis {
                label: "clients".to_string(),
                log: false,
                unit: Unit::Count,
                categories: Vec::new(),
            },
            y: Axis {
                label: "instances".to_string(),
                log: false,
                unit: Unit::Count,
                categories: Vec::new(),
            },
            y_range: Some((0.0, y_max + 1.0)),
            series,
            marks: Vec::new(),
            note: String::new(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staircase_steps_at_each_multiple_of_max() {
        let ys: Vec<(f64, f64)> = staircase(250, 100).iter().map(|p| (p.x, p.y)).collect();
        assert_eq!(
            ys,
            [
                (0.0, 1.0),
                (100.0, 1.0),
                (100.0, 2.0),
                (200.0, 2.0),
                (200.0, 3.0),
                (250.0, 3.0)
            ]
        );
        // Exactly on a multiple: no step up at the end.
        let last = *staircase(200, 100).last().unwrap();
        assert_eq!((last.x, last.y), (200.0, 2.0));
        // At the cap: flat at one instance.
        assert_eq!(staircase(50, 50).len(), 2);
    }
}
