//! The trade-off table (`table.md` and stdout), regenerated from measured numbers.
//!
//! One line per technique, at its representative point
//! ([`super::representative_row`]: the largest client count and, for short polling, the
//! interval closest to 3 s); a caption under the table says which point. Columns are
//! the seed's: Technique | Direction | Connection cost | Latency | Best for.
//!
//! The qualitative words come from the numbers by the rules in [`RULES_MD`] — nothing
//! is hard-coded per technique except what is a property of the protocol (who may
//! speak first, what a held connection is called) and the advice in "Best for".

use super::{Exporter, Metadata, REFERENCE_POLL_INTERVAL_S, Results, representative_rows};
use crate::diagnosis::Overload;
use crate::results::Row;
use crate::scenario::Technique;
use crate::units::human;

/// Writes `table.md`.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn file_name(&self) -> &'static str {
        "table.md"
    }
    fn serialize(&self, results: &Results, _meta: &Metadata) -> Vec<u8> {
        tradeoff_table(results.rows()).into_bytes()
    }
}

/// More than this share of empty responses is "wasteful".
pub const WASTEFUL_EMPTY_FRACTION: f64 = 0.5;
/// ... and when each client makes an empty request at least this often (per second):
/// a long poll that times out empty every 30 s is not a stream of wasted requests.
pub const WASTEFUL_EMPTY_REQUESTS_PER_CLIENT_S: f64 = 0.1;
/// From this many open connections per client on, a connection is held per client.
pub const HELD_CONNECTIONS_PER_CLIENT: f64 = 0.5;
/// A p99 latency below this is "real-time".
pub const REAL_TIME_P99_S: f64 = 0.5;
/// A p99 latency below this (and not real-time) is "near-real-time".
pub const NEAR_REAL_TIME_P99_S: f64 = 2.0;

/// How the table's words follow from the numbers (Markdown, for the README).
pub const RULES_MD: &str = "\
How `rtsim table` words its cells (thresholds in `src/report/table.rs`):

- **Direction** is a property of the protocol, not a measurement: with short and long
  polling only the client speaks first (`client → server`); an SSE stream carries only
  server pushes (`server → client`); a WebSocket carries frames both ways
  (`bidirectional`).
- **Connection cost**, from the row's numbers, first rule that matches:
  1. `empty_response_fraction` > 0.5 and empty responses per client per second
     (`requests_per_s × empty_response_fraction / clients`) ≥ 0.1 — more than half
     the answers are empty and each client gets one at least every 10 s →
     **wasteful (many empty hits)**;
  2. `connections_mean / clients` ≥ 0.5 → a connection is held per client, named by
     what the protocol holds on it: long polling **one conn per waiting client**, SSE
     **one open response/client**, WebSockets **persistent socket/client**, short
     polling **one kept-alive conn per client**;
  3. otherwise **light (few conns, few empty hits)**.

  The cell then shows requests/s, the empty share (`no responses` when none was
  sent), open connections per client and mean server memory.
- **Latency**, from `latency_p99_s` (creation → arrival): below 0.5 s **real-time**;
  below 2 s **near-real-time**; otherwise **poor (stale)**; **n/a (nothing delivered)**
  when no (update, recipient) pair was delivered in the window — the latency cells of
  `results.csv` are then empty, never 0. The cell then shows the mean and p99.
- **Overload comes first.** A row with refused connections (`rejected_connections` >
  0) or a saturated CPU (`cpu_utilization` ≥ 0.95) starts both cells with
  **overloaded:** and the facts (`overloaded: 702,651 refused, CPU 100%, 12 lost — …`);
  a row that only lost updates (`lost` > 0) starts them with **updates lost:**; a row
  whose users' tabs waited in the browser for a connection or stream
  (`stalled_per_user` > 0 or `stalled_pairs` > 0) starts them with **tabs stalled:**
  (`tabs stalled: 1.0 stalled tabs/user (6,466 updates never sent) — …`). The latency
  cell then says which share of the window's updates was delivered (delivered ÷
  (delivered + lost + in flight + stalled)): its latency describes those only.
  `rtsim run` lists such rows on stderr after the table.
- **Best for** is advice, written per technique.
";

/// Who may send first: a property of the protocol.
fn direction(t: Technique) -> &'static str {
    match t {
        Technique::ShortPolling | Technique::LongPolling => "client → server",
        Technique::Sse => "server → client",
        Technique::Websocket => "bidirectional",
    }
}

/// What the protocol keeps open per client, when it keeps something open.
fn held_per_client(t: Technique) -> &'static str {
    match t {
        Technique::ShortPolling => "one kept-alive conn per client",
        Technique::LongPolling => "one conn per waiting client",
        Technique::Sse => "one open response/client",
        Technique::Websocket => "persistent socket/client",
    }
}

/// Advice, not measurement.
fn best_for(t: Technique) -> &'static str {
    match t {
        Technique::ShortPolling => "rare updates, dead-simple needs",
        Technique::LongPolling => "fallback, legacy infra",
        Technique::Sse => "feeds, notifications, dashboards",
        Technique::Websocket => "chat, games, collaboration",
    }
}

/// The connection-cost word of a row (rules in [`RULES_MD`]).
pub fn connection_word(row: &Row) -> &'static str {
    let m = &row.mean;
    let per_client = m.connections_mean / f64::from(row.clients.max(1));
    let empty_per_client_s =
        m.requests_per_s * m.empty_response_fraction / f64::from(row.clients.max(1));
    if m.empty_response_fraction > WASTEFUL_EMPTY_FRACTION
        && empty_per_client_s >= WASTEFUL_EMPTY_REQUESTS_PER_CLIENT_S
    {
        "wasteful (many empty hits)"
    } else if per_client >= HELD_CONNECTIONS_PER_CLIENT {
        held_per_client(row.technique)
    } else {
        "light (few conns, few empty hits)"
    }
}

/// The latency word of a row (rules in [`RULES_MD`]).
pub fn latency_word(row: &Row) -> &'static str {
    let p99 = row.mean.latency_p99_s;
    if !p99.is_finite() {
        "n/a"
    } else if p99 < REAL_TIME_P99_S {
        "real-time"
    } else if p99 < NEAR_REAL_TIME_P99_S {
        "near-real-time"
    } else {
        "poor (stale)"
    }
}

/// `overloaded: 702,651 refused, CPU 100% — ` (or `updates lost: 12 lost — `) for a row
/// with a caveat, before any other word; empty otherwise.
fn caveat(row: &Row) -> String {
    Overload::of(row).map_or(String::new(), |o| {
        format!("{}: {} — ", o.heading(), o.facts())
    })
}

fn connection_cell(row: &Row) -> String {
    let m = &row.mean;
    let per_client = m.connections_mean / f64::from(row.clients.max(1));
    let empty = if m.empty_response_fraction.is_finite() {
        format!("{} empty", human::percent(m.empty_response_fraction))
    } else {
        "no responses".to_string()
    };
    format!(
        "{}{}: {} req/s, {empty}; {} conns/client, {} memory",
        caveat(row),
        connection_word(row),
        human::count(m.requests_per_s),
        human::sig(per_client, 2, false),
        human::bytes(m.server_memory_mean_bytes, false),
    )
}

fn latency_cell(row: &Row) -> String {
    let m = &row.mean;
    let overload = Overload::of(row);
    if !m.latency_p99_s.is_finite() {
        let mut s = format!("{}n/a (nothing delivered", caveat(row));
        if m.in_flight > 0.0 {
            s.push_str(&format!("; {} in flight", human::thousands(m.in_flight)));
        }
        if m.stalled_pairs > 0.0 {
            s.push_str(&format!(
                "; {} never sent to stalled tabs",
                human::thousands(m.stalled_pairs)
            ));
        }
        s.push(')');
        return s;
    }
    let share = overload
        .as_ref()
        .map(Overload::delivered_share)
        .filter(|x| x.is_finite())
        .map_or(String::new(), |x| {
            format!("{} of updates delivered — ", human::percent(x))
        });
    let head = overload.map_or(String::new(), |o| format!("{}: ", o.heading()));
    format!(
        "{head}{share}{}: mean {}, p99 {}",
        latency_word(row),
        human::duration(m.latency_mean_s, false),
        human::duration(m.latency_p99_s, false),
    )
}

/// The caption line: which sweep point the table shows.
fn caption(reps: &[&Row]) -> String {
    let mut parts = Vec::new();
    let mut clients: Vec<u32> = reps.iter().map(|r| r.clients).collect();
    clients.dedup();
    if clients.len() == 1 {
        parts.push(format!(
            "{} clients",
            human::thousands(f64::from(clients[0]))
        ));
    } else {
        for r in reps {
            parts.push(format!(
                "{} at {} clients",
                r.technique.title(),
                human::thousands(f64::from(r.clients))
            ));
        }
    }
    for r in reps {
        if let Some(i) = r.poll_interval_s {
            parts.push(format!("short polling every {}", human::duration(i, true)));
        }
    }
    let mut others: Vec<(&str, &str)> = Vec::new();
    for r in reps {
        for (k, v) in &r.sweep {
            let shown = k == "workload.clients" || k == "short-polling.interval";
            if !shown && !v.is_empty() && !others.contains(&(k.as_str(), v.as_str())) {
                others.push((k, v));
            }
        }
    }
    parts.extend(others.iter().map(|(k, v)| format!("{k} = {v}")));
    let mut reps_n: Vec<u32> = reps.iter().map(|r| r.replications).collect();
    reps_n.sort_unstable();
    reps_n.dedup();
    let n = reps_n
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("/");
    let plural = if reps_n == [1] { "" } else { "s" };
    parts.push(format!("mean of {n} replication{plural}"));
    format!(
        "*Measured at {} (each technique at its largest client count, short polling at the \
         interval nearest {}). Cost and latency words are derived from these numbers by \
         fixed thresholds (see the README).*",
        parts.join("; "),
        human::duration(REFERENCE_POLL_INTERVAL_S, true)
    )
}

/// One table line per technique: `[technique, direction, cost, latency, best for]`.
pub fn table_cells(rows: &[Row]) -> (Vec<[String; 5]>, String) {
    let reps = representative_rows(rows);
    let lines = reps
        .iter()
        .map(|r| {
            [
                r.technique.title().to_string(),
                direction(r.technique).to_string(),
                connection_cell(r),
                latency_cell(r),
                best_for(r.technique).to_string(),
            ]
        })
        .collect();
    (lines, caption(&reps))
}

/// Column headings of the trade-off table.
pub const HEADINGS: [&str; 5] = [
    "Technique",
    "Direction",
    "Connection cost",
    "Latency",
    "Best for",
];

/// The trade-off table as Markdown: padded columns, a caption line under it.
pub fn tradeoff_table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "*No results.*\n".to_string();
    }
    let (lines, caption) = table_cells(rows);
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .chain([HEADINGS[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let render = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = render(&HEADINGS);
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&format!("|-{}-|\n", rules.join("-|-")));
    for l in &lines {
        let cells: Vec<&str> = l.iter().map(String::as_str).collect();
        out.push_str(&render(&cells));
    }
    out.push('\n');
    out.push_str(&caption);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata;
    use super::*;

    #[test]
    fn snapshot() {
        assert_eq!(tradeoff_table(&testdata::headline()), SNAPSHOT);
    }

    const SNAPSHOT: &str = "\
| Technique     | Direction       | Connection cost                                                                           | Latency                                  | Best for                         |
|---------------|-----------------|-------------------------------------------------------------------------------------------|------------------------------------------|----------------------------------|
| Short polling | client → server | wasteful (many empty hits): 32,258 req/s, 99.5% empty; 0.30 conns/client, 1.14 GiB memory | poor (stale): mean 1.60 s, p99 3.10 s    | rare updates, dead-simple needs  |
| Long polling  | client → server | one conn per waiting client: 1,200 req/s, 20% empty; 1.0 conns/client, 1.14 GiB memory    | near-real-time: mean 45.0 ms, p99 600 ms | fallback, legacy infra           |
| SSE           | server → client | one open response/client: 0 req/s, 0% empty; 1.0 conns/client, 1.14 GiB memory            | real-time: mean 40.0 ms, p99 120 ms      | feeds, notifications, dashboards |
| WebSockets    | bidirectional   | persistent socket/client: 0.5 req/s, 0% empty; 1.0 conns/client, 1.14 GiB memory          | n/a (nothing delivered; 3 in flight)     | chat, games, collaboration       |

*Measured at 100,000 clients; short polling every 3 s; mean of 3 replications (each technique \
at its largest client count, short polling at the interval nearest 3 s). Cost and latency \
words are derived from these numbers by fixed thresholds (see the README).*
";

    #[test]
    fn words_follow_thresholds() {
        let mut r = testdata::row(Technique::LongPolling, 100, None);
        r.mean.empty_response_fraction = 0.51;
        assert_eq!(connection_word(&r), "wasteful (many empty hits)");
        r.mean.empty_response_fraction = 0.5;
        r.mean.connections_mean = 50.0;
        assert_eq!(connection_word(&r), "one conn per waiting client");
        r.mean.connections_mean = 49.0;
        assert_eq!(connection_word(&r), "light (few conns, few empty hits)");
        r.mean.latency_p99_s = 0.499;
        assert_eq!(latency_word(&r), "real-time");
        r.mean.latency_p99_s = 0.5;
        assert_eq!(latency_word(&r), "near-real-time");
        r.mean.latency_p99_s = 2.0;
        assert_eq!(latency_word(&r), "poor (stale)");
        r.mean.latency_p99_s = f64::NAN;
        assert_eq!(latency_word(&r), "n/a");
    }

    /// websocket-cost.toml's one-instance short-polling row: most clients refused, the
    /// few connected ones served fast. The cells say "overloaded" and the refusals before
    /// any "light" or "real-time".
    #[test]
    fn an_overloaded_row_says_so_first() {
        let mut r = testdata::row(Technique::ShortPolling, 100_000, Some(3.0));
        r.mean.rejected_connections = 702_651.0;
        r.mean.connections_mean = 28_000.0;
        r.mean.requests_per_s = 9_378.0;
        r.mean.empty_response_fraction = 0.97;
        r.mean.latency_p99_s = 0.062;
        r.mean.deliveries = 280.0;
        r.mean.in_flight = 720.0;
        r.mean.lost = 0.0;
        let (lines, _) = table_cells(&[r]);
        let cost = &lines[0][2];
        assert!(
            cost.starts_with("overloaded: 702,651 refused — light (few conns, few empty hits)"),
            "{cost}"
        );
        let latency = &lines[0][3];
        assert!(
            latency.starts_with("overloaded: 28% of updates delivered — real-time"),
            "{latency}"
        );
    }

    /// `rtsim run experiments/12-tabs.toml --set workload.tabs=7 --set network.http=1.1`:
    /// the seventh SSE tab of every user never gets a connection. The served tabs'
    /// real-time latency is shown with the share of updates it covers.
    #[test]
    fn stalled_tabs_are_said_before_the_latency_word() {
        let mut r = testdata::row(Technique::Sse, 2_520, None);
        r.mean.empty_response_fraction = f64::NAN;
        r.mean.requests_per_s = 0.0;
        r.mean.connections_mean = 2_160.0;
        r.mean.latency_mean_s = 0.0223;
        r.mean.latency_p99_s = 0.0593;
        r.mean.deliveries = 39_500.0;
        r.mean.lost = 0.0;
        r.mean.in_flight = 34.0;
        r.mean.stalled_per_user = 1.0;
        r.mean.stalled_pairs = 6_466.0;
        let (lines, _) = table_cells(&[r.clone()]);
        assert!(
            lines[0][2].starts_with(
                "tabs stalled: 1.0 stalled tabs/user (6,466 updates never sent) — one open"
            ),
            "{}",
            lines[0][2]
        );
        assert_eq!(
            lines[0][3],
            "tabs stalled: 85.9% of updates delivered — real-time: mean 22.3 ms, p99 59.3 ms"
        );
        // Nothing delivered at all: the stalled tabs' pairs are not called in flight.
        r.mean.deliveries = 0.0;
        r.mean.in_flight = 0.0;
        r.mean.latency_p99_s = f64::NAN;
        let (lines, _) = table_cells(&[r]);
        assert!(
            lines[0][3].ends_with("n/a (nothing delivered; 6,466 never sent to stalled tabs)"),
            "{}",
            lines[0][3]
        );
    }

    #[test]
    fn nothing_delivered_and_no_responses_are_not_zeros() {
        let mut r = testdata::row(Technique::Sse, 1_000_000, None);
        r.mean.cpu_utilization = 1.0;
        r.mean.latency_mean_s = f64::NAN;
        r.mean.latency_p99_s = f64::NAN;
        r.mean.empty_response_fraction = f64::NAN;
        r.mean.deliveries = 0.0;
        r.mean.lost = 0.0;
        r.mean.in_flight = 264_023.0;
        let (lines, _) = table_cells(&[r]);
        assert!(
            lines[0][2].starts_with("overloaded: CPU 100% — "),
            "{}",
            lines[0][2]
        );
        assert!(
            lines[0][2].contains("req/s, no responses;"),
            "{}",
            lines[0][2]
        );
        assert_eq!(
            lines[0][3],
            "overloaded: CPU 100% — n/a (nothing delivered; 264,023 in flight)"
        );
    }

    #[test]
    fn the_readme_states_these_rules() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(RULES_MD),
            "README.md's table rules differ from RULES_MD"
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(tradeoff_table(&[]), "*No results.*\n");
    }
}
