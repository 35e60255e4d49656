//! Which rows a built-in chart shows.
//!
//! A line follows one technique along one axis — clients, or the short-polling interval —
//! with every other sweep value held at the technique's representative point
//! ([`representative_row`]): a sweep of clients × intervals × presets draws one line per
//! technique, not one per combination. The chart's title says what was held fixed.

use crate::columns::Cell;
use crate::report::{representative_row, representative_rows};
use crate::results::Row;
use crate::scenario::Technique;
use crate::units::human;

/// The axis a line follows: clients, the short-polling interval, or any other swept key.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Along {
    Clients,
    Interval,
    /// A swept key other than `workload.clients` and `short-polling.interval`: its
    /// values as the quantity they spell (`150ms`, `4`), or, when one of them is not a
    /// quantity (`event-loop`, `off`, an inline table), as categories in sweep order.
    Key(String),
}

impl Along {
    /// The axis of a swept key.
    pub(super) fn of_key(key: &str) -> Along {
        match key {
            "workload.clients" => Along::Clients,
            "short-polling.interval" => Along::Interval,
            other => Along::Key(other.to_string()),
        }
    }

    /// The results.csv column of this axis.
    pub(super) fn column(&self) -> &str {
        match self {
            Along::Clients => "clients",
            Along::Interval => "poll_interval_s",
            Along::Key(k) => k,
        }
    }

    /// The sweep key that moves a row along this axis.
    pub(super) fn key(&self) -> &str {
        match self {
            Along::Clients => "workload.clients",
            Along::Interval => "short-polling.interval",
            Along::Key(k) => k,
        }
    }

    /// `a` and `b` are the same sweep point except along this axis.
    fn same_elsewhere(&self, a: &Row, b: &Row) -> bool {
        let other = |r: &Row| -> Vec<(String, String)> {
            r.sweep
                .iter()
                .filter(|(k, _)| k != self.key())
                .cloned()
                .collect()
        };
        (*self == Along::Clients || a.clients == b.clients)
            && (*self == Along::Interval || a.poll_interval_s == b.poll_interval_s)
            && other(a) == other(b)
    }
}

/// Keys whose values are names that look like numbers (protocol versions: `"1.1"`,
/// `"2"`): categories, never a numeric axis from 1.1 to 2.
const NAMED_VERSIONS: [&str; 2] = ["network.http", "network.tls"];

/// Where each row sits along an axis: `None` for a row that has no position (the
/// interval of a technique that does not poll, another technique's key). Categorical
/// axes put their values at 1, 2, 3… and keep their names for the ticks.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Positions {
    pub(super) x: Vec<Option<f64>>,
    /// The names of the categories at 1, 2, 3…; empty for a numeric axis.
    pub(super) categories: Vec<String>,
}

impl Positions {
    pub(super) fn of(rows: &[Row], along: &Along) -> Positions {
        let key = match along {
            Along::Clients => {
                return Positions {
                    x: rows.iter().map(|r| Some(f64::from(r.clients))).collect(),
                    categories: Vec::new(),
                };
            }
            Along::Interval => {
                return Positions {
                    x: rows.iter().map(|r| r.poll_interval_s).collect(),
                    categories: Vec::new(),
                };
            }
            Along::Key(k) => k,
        };
        let texts: Vec<&str> = rows.iter().map(|r| r.sweep_value(key)).collect();
        let quantity = |t: &str| Cell::Text(t.to_string()).quantity().map(|(v, _)| v);
        let numeric = !NAMED_VERSIONS.contains(&key.as_str())
            && texts
                .iter()
                .filter(|t| !t.is_empty())
                .all(|t| quantity(t).is_some());
        if numeric {
            return Positions {
                x: texts
                    .iter()
                    .map(|t| (!t.is_empty()).then(|| quantity(t)).flatten())
                    .collect(),
                categories: Vec::new(),
            };
        }
        let mut categories: Vec<String> = Vec::new();
        let x = texts
            .iter()
            .map(|t| {
                if t.is_empty() {
                    return None;
                }
                let i = categories.iter().position(|c| c == t).unwrap_or_else(|| {
                    categories.push(t.to_string());
                    categories.len() - 1
                });
                Some((i + 1) as f64)
            })
            .collect();
        Positions {
            x,
            categories: short_categories(&categories),
        }
    }

    /// Whether the axis is a list of names rather than a quantity.
    pub(super) fn categorical(&self) -> bool {
        !self.categories.is_empty()
    }
}

/// Category names for ticks: inline tables (`{ initial = "1s", jitter = 0.0 }`) keep only
/// the fields in which the values differ (`jitter = 0.0`, `jitter = 1.0`).
fn short_categories(values: &[String]) -> Vec<String> {
    let fields = |v: &str| -> Option<Vec<String>> {
        let inner = v.trim().strip_prefix('{')?.strip_suffix('}')?;
        Some(
            inner
                .split(',')
                .map(|f| f.trim().replace('"', ""))
                .filter(|f| !f.is_empty())
                .collect(),
        )
    };
    let split: Vec<Option<Vec<String>>> = values.iter().map(|v| fields(v)).collect();
    if values.len() < 2 || split.iter().any(Option::is_none) {
        return values.to_vec();
    }
    let split: Vec<Vec<String>> = split.into_iter().map(Option::unwrap_or_default).collect();
    split
        .iter()
        .map(|f| {
            let differing: Vec<&str> = f
                .iter()
                .filter(|field| !split.iter().all(|other| other.contains(field)))
                .map(String::as_str)
                .collect();
            if differing.is_empty() {
                f.join(", ")
            } else {
                differing.join(", ")
            }
        })
        .collect()
}

/// The rows of `t` along `along` (their indices in `rows`), other values held at `t`'s
/// representative point, sorted by x (first row wins on equal x).
pub(super) fn slice(rows: &[Row], t: Technique, along: &Along, at: &Positions) -> Vec<usize> {
    let Some(rep) = representative_row(rows, t) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            let r = &rows[i];
            r.technique == t && at.x[i].is_some() && along.same_elsewhere(r, rep)
        })
        .collect();
    let x = |i: &usize| at.x[*i].expect("filtered on x");
    out.sort_by(|a, b| x(a).total_cmp(&x(b)));
    out.dedup_by(|a, b| x(a) == x(b));
    out
}

/// Whether `rows` take at least two values along `along` (else a chart along it has
/// nothing to show).
pub(super) fn varies(rows: &[Row], along: &Along) -> bool {
    let mut xs: Vec<f64> = Positions::of(rows, along).x.into_iter().flatten().collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.len() >= 2
}

/// Whether any row of `t` has a position along `along` (else `t` can only be a
/// reference line on a chart along it).
pub(super) fn has_positions(rows: &[Row], t: Technique, at: &Positions) -> bool {
    rows.iter()
        .zip(&at.x)
        .any(|(r, x)| r.technique == t && x.is_some())
}

/// What a chart along `along` holds fixed, for its title: `" (short polling every
/// 3 s; network.rtt = 80ms)"` or `" (100,000 clients)"`. Values are those of the
/// representative rows; swept keys other than clients and interval are listed too.
pub(super) fn held_fixed(rows: &[Row], sweep_keys: &[String], along: &Along) -> String {
    let mut parts = Vec::new();
    let sp = representative_row(rows, Technique::ShortPolling);
    match along {
        Along::Clients => {
            if let Some(i) = sp.and_then(|r| r.poll_interval_s) {
                parts.push(format!("short polling every {}", human::duration(i, true)));
            }
        }
        Along::Interval | Along::Key(_) => {
            if let Some(r) = sp.or_else(|| representative_rows(rows).first().copied()) {
                parts.push(format!(
                    "{} clients",
                    human::thousands(f64::from(r.clients))
                ));
            }
            if let (Along::Key(_), Some(i)) = (along, sp.and_then(|r| r.poll_interval_s)) {
                parts.push(format!("short polling every {}", human::duration(i, true)));
            }
        }
    }
    let reps = representative_rows(rows);
    for key in sweep_keys {
        if key == Along::Clients.key() || key == Along::Interval.key() || key == along.key() {
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

/// Whether `key` is a technique's own (`sse.heartbeat`): it multiplies only that
/// technique's rows, so it does not split a sweep point.
pub(super) fn own_key(key: &str) -> bool {
    Technique::ALL.iter().any(|t| {
        key.strip_prefix(t.name())
            .is_some_and(|k| k.starts_with('.'))
    })
}

/// The rows grouped by sweep point — clients and every shared swept key; a technique's
/// own keys do not split a point — in order of first appearance: each group is one
/// time-series chart, every row of it a line.
pub(super) fn points(rows: &[Row]) -> Vec<Vec<usize>> {
    let point = |r: &Row| -> (u32, Vec<(String, String)>) {
        let shared = r
            .sweep
            .iter()
            .filter(|(k, _)| !own_key(k) && k != "workload.clients")
            .cloned()
            .collect();
        (r.clients, shared)
    };
    type Point = (u32, Vec<(String, String)>);
    let mut groups: Vec<(Point, Vec<usize>)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let p = point(r);
        match groups.iter_mut().find(|(q, _)| *q == p) {
            Some((_, members)) => members.push(i),
            None => groups.push((p, vec![i])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// What a time-series chart's title says of its sweep point: `"1,000 clients"`, then
/// every shared swept key's value (`"server.preset = event-loop"`).
pub(super) fn point_title(rows: &[Row], group: &[usize]) -> String {
    let Some(&first) = group.first() else {
        return String::new();
    };
    let r = &rows[first];
    let mut parts = vec![format!(
        "{} clients",
        human::thousands(f64::from(r.clients))
    )];
    for (k, v) in &r.sweep {
        if !own_key(k) && k != "workload.clients" && !v.is_empty() {
            parts.push(format!("{k} = {v}"));
        }
    }
    parts.join("; ")
}

/// How a row's line is told apart from the other rows of its technique in one group: its
/// own swept keys (`"sse.heartbeat = off"`), or the shared ones if those differ.
pub(super) fn own_values(r: &Row, rows: &[Row]) -> String {
    r.sweep
        .iter()
        .filter(|(k, v)| own_key(k) && !v.is_empty())
        .map(|(k, v)| {
            // Inline tables shortened to what differs, as on a categorical axis.
            let at = Positions::of(rows, &Along::Key(k.clone()));
            let i = at.x[rows.iter().position(|x| std::ptr::eq(x, r)).unwrap_or(0)];
            let short = match i {
                Some(i) if at.categorical() => at.categories[i as usize - 1].clone(),
                _ => v.clone(),
            };
            if short.contains('=') {
                format!("{k}: {short}")
            } else {
                format!("{k} = {short}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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
            held_fixed(&rows, &keys, &Along::Clients),
            " (short polling every 3 s; network.rtt = 80ms)"
        );
        assert_eq!(
            held_fixed(&rows, &keys, &Along::Interval),
            " (100,000 clients; network.rtt = 80ms)"
        );
    }

    #[test]
    fn a_slice_holds_the_other_values_at_the_representative_point() {
        let rows = testdata::headline();
        // Short polling along clients: at 3 s only.
        let at = Positions::of(&rows, &Along::Clients);
        let sp = slice(&rows, Technique::ShortPolling, &Along::Clients, &at);
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
        let at = Positions::of(&rows, &Along::Interval);
        let sp = slice(&rows, Technique::ShortPolling, &Along::Interval, &at);
        assert_eq!(sp.len(), 4);
        assert!(sp.iter().all(|&i| rows[i].clients == 100_000));
        assert!(slice(&rows, Technique::Sse, &Along::Interval, &at).is_empty());
        assert!(varies(&rows, &Along::Clients) && varies(&rows, &Along::Interval));
        let at = Positions::of(&rows, &Along::Interval);
        assert!(!has_positions(&rows, Technique::Sse, &at));
        // One time-series group per client count (the interval is short polling's own).
        let groups = points(&rows);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].len(), 4 + 3);
        assert_eq!(point_title(&rows, &groups[0]), "1,000 clients");
    }

    #[test]
    fn categories_keep_what_differs() {
        let values = [
            r#"{ initial = "1s", max = "30s", jitter = 0.0 }"#.to_string(),
            r#"{ initial = "1s", max = "30s", jitter = 1.0 }"#.to_string(),
        ];
        assert_eq!(short_categories(&values), ["jitter = 0.0", "jitter = 1.0"]);
        let mut rows = testdata::sweep();
        for (i, r) in rows.iter_mut().enumerate() {
            let v = if i % 2 == 0 {
                "event-loop"
            } else {
                "thread-per-connection"
            };
            r.sweep.push(("server.preset".into(), v.into()));
        }
        let at = Positions::of(&rows, &Along::of_key("server.preset"));
        assert_eq!(at.categories, ["event-loop", "thread-per-connection"]);
        assert_eq!(at.x[0], Some(1.0));
        assert_eq!(at.x[1], Some(2.0));
        assert!(own_key("sse.heartbeat") && !own_key("server.preset"));
    }

    #[test]
    fn protocol_versions_are_names_not_quantities() {
        let mut rows = testdata::sweep();
        for (i, r) in rows.iter_mut().enumerate() {
            let v = if i % 2 == 0 { "1.1" } else { "2" };
            r.sweep.push(("network.http".into(), v.into()));
        }
        let at = Positions::of(&rows, &Along::of_key("network.http"));
        assert_eq!(at.categories, ["1.1", "2"]);
        assert_eq!((at.x[0], at.x[1]), (Some(1.0), Some(2.0)));
    }
}
