//! Which rows a built-in chart shows.
//!
//! A line follows one technique along one axis — clients, or the short-polling interval —
//! with every other sweep value held at the technique's representative point
//! ([`representative_row`]): a sweep of clients × intervals × presets draws one line per
//! technique, not one per combination. The chart's title says what was held fixed.

use crate::report::{representative_row, representative_rows};
use crate::results::Row;
use crate::scenario::Technique;
use crate::units::human;

/// The axis a line follows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Along {
    Clients,
    Interval,
}

impl Along {
    /// The results.csv column of this axis.
    pub(super) fn column(self) -> &'static str {
        match self {
            Along::Clients => "clients",
            Along::Interval => "poll_interval_s",
        }
    }

    /// The row's position on this axis; `None` for a row that has none (the interval of
    /// a technique that does not poll).
    pub(super) fn x(self, r: &Row) -> Option<f64> {
        match self {
            Along::Clients => Some(f64::from(r.clients)),
            Along::Interval => r.poll_interval_s,
        }
    }

    /// The sweep key that moves a row along this axis.
    fn key(self) -> &'static str {
        match self {
            Along::Clients => "workload.clients",
            Along::Interval => "short-polling.interval",
        }
    }

    /// `a` and `b` are the same sweep point except along this axis.
    fn same_elsewhere(self, a: &Row, b: &Row) -> bool {
        let other = |r: &Row| -> Vec<(String, String)> {
            r.sweep
                .iter()
                .filter(|(k, _)| k != self.key())
                .cloned()
                .collect()
        };
        (self == Along::Clients || a.clients == b.clients)
            && (self == Along::Interval || a.poll_interval_s == b.poll_interval_s)
            && other(a) == other(b)
    }
}

/// The rows of `t` along `along` (their indices in `rows`), other values held at `t`'s
/// representative point, sorted by x (first row wins on equal x).
pub(super) fn slice(rows: &[Row], t: Technique, along: Along) -> Vec<usize> {
    let Some(rep) = representative_row(rows, t) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            let r = &rows[i];
            r.technique == t && along.x(r).is_some() && along.same_elsewhere(r, rep)
        })
        .collect();
    let x = |i: &usize| along.x(&rows[*i]).expect("filtered on x");
    out.sort_by(|a, b| x(a).total_cmp(&x(b)));
    out.dedup_by(|a, b| x(a) == x(b));
    out
}

/// Whether `rows` take at least two values along `along` (else a chart along it has
/// nothing to show).
pub(super) fn varies(rows: &[Row], along: Along) -> bool {
    let mut xs: Vec<f64> = rows.iter().filter_map(|r| along.x(r)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.len() >= 2
}

/// Whether any row of `t` has a position along `along` (else `t` can only be a
/// reference line on a chart along it).
pub(super) fn has_positions(rows: &[Row], t: Technique, along: Along) -> bool {
    rows.iter()
        .any(|r| r.technique == t && along.x(r).is_some())
}

/// What a chart along `along` holds fixed, for its title: `" (short polling every
/// 3 s; network.rtt = 80ms)"` or `" (100,000 clients)"`. Values are those of the
/// representative rows; swept keys other than clients and interval are listed too.
pub(super) fn held_fixed(rows: &[Row], sweep_keys: &[String], along: Along) -> String {
    let mut parts = Vec::new();
    let sp = representative_row(rows, Technique::ShortPolling);
    match along {
        Along::Clients => {
            if let Some(i) = sp.and_then(|r| r.poll_interval_s) {
                parts.push(format!("short polling every {}", human::duration(i, true)));
            }
        }
        Along::Interval => {
            if let Some(r) = sp {
                parts.push(format!(
                    "{} clients",
                    human::thousands(f64::from(r.clients))
                ));
            }
        }
    }
    let reps = representative_rows(rows);
    for key in sweep_keys {
        if key == Along::Clients.key() || key == Along::Interval.key() {
            continue;
        }
        let value = reps
            .iter()
            .map(|r| r.sweep_value(key))
            .find(|v| !v.is_empty());
        if let Some(v) = value {
            parts.push(format!("{key} = {v}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// Each technique's first row (its index), in [`Technique::ALL`] order: whose time
/// series the time-series chart shows.
pub(super) fn first_rows(rows: &[Row]) -> Vec<usize> {
    Technique::ALL
        .into_iter()
        .filter_map(|t| rows.iter().position(|r| r.technique == t))
        .collect()
}

/// What the time-series chart's title says of its rows: `", 1,000 clients"` when the
/// first rows (in order) show one client count.
pub(super) fn first_rows_held(rows: &[Row]) -> String {
    let mut clients: Vec<u32> = first_rows(rows).iter().map(|&i| rows[i].clients).collect();
    clients.dedup();
    if clients.len() == 1 {
        format!(", {} clients", human::thousands(f64::from(clients[0])))
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    #[test]
    fn titles_say_what_is_held_fixed() {
        let mut rows = testdata::headline();
        let mut keys = testdata::keys();
        keys.push("network.rtt".to_string());
        for r in &mut rows {
            r.sweep
                .push(("network.rtt".to_string(), "80ms".to_string()));
        }
        assert_eq!(
            held_fixed(&rows, &keys, Along::Clients),
            " (short polling every 3 s; network.rtt = 80ms)"
        );
        assert_eq!(
            held_fixed(&rows, &keys, Along::Interval),
            " (100,000 clients; network.rtt = 80ms)"
        );
    }

    #[test]
    fn a_slice_holds_the_other_values_at_the_representative_point() {
        let rows = testdata::headline();
        // Short polling along clients: at 3 s only.
        let sp = slice(&rows, Technique::ShortPolling, Along::Clients);
        let xs: Vec<(u32, Option<f64>)> = sp
            .iter()
            .map(|&i| (rows[i].clients, rows[i].poll_interval_s))
            .collect();
        assert_eq!(
            xs,
            [
                (1_000, Some(3.0)),
                (10_000, Some(3.0)),
                (100_000, Some(3.0))
            ]
        );
        // Along the interval: at the largest client count.
        let sp = slice(&rows, Technique::ShortPolling, Along::Interval);
        assert_eq!(sp.len(), 4);
        assert!(sp.iter().all(|&i| rows[i].clients == 100_000));
        assert!(slice(&rows, Technique::Sse, Along::Interval).is_empty());
        assert!(varies(&rows, Along::Clients) && varies(&rows, Along::Interval));
        assert!(!has_positions(&rows, Technique::Sse, Along::Interval));
        assert_eq!(first_rows(&rows).len(), 4);
        assert_eq!(first_rows_held(&rows), ", 1,000 clients");
    }
}
