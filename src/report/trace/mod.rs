//! Renderers for a message [`Trace`] (`rtsim trace`): the seed's sequence diagrams,
//! drawn from what the simulator actually sent.
//!
//! Three outputs, all plain text and deterministic (the golden tests compare them byte
//! for byte):
//!
//! - [`text`]: a sequence diagram for the terminal. Lanes for the client, the proxy
//!   (when there is one) and the server; one line per message in the order it left
//!   (`sent`), with the simulated time on the left, an arrow from the lane that sends it
//!   (`├───>│`, `│<───┤`) and the label on the right. Notes (a timer, the network going
//!   down, a crash) put a `●` on their lane. A dotted row (`┊`) marks a pause of a second
//!   or more.
//! - [`mermaid`]: a Mermaid `sequenceDiagram` to paste into Markdown, one arrow line per
//!   message, each label prefixed with its time (`t=5.491s`).
//! - [`svg`]: the same diagram as a hand-written SVG: vertical lanes, sloped arrows from
//!   (lane, sent) to (lane, arrives), a time axis on the left. Time is drawn to scale
//!   inside an exchange and compressed where nothing happens (the axis shows how long the
//!   pause was).
//!
//! A message's `lane` is where it starts: `Client` for requests, `Server` for replies and
//! pushes, `Proxy` for what the proxy does itself (its 504 to a held request, the FIN
//! that closes an idle connection, towards the client and towards the server). An
//! update's creation is a note on the server's lane. Up messages end at the server,
//! Down messages at the client. With several clients every line names its client (`c3`).
//!
//! Over 600 lines on purpose: the three renderers share one reading of a trace (lanes,
//! time order, pauses, labels) kept here beside them; split per format, each file would
//! import most of the others' helpers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::engine::Nanos;
use crate::scenario::{Pattern, Scenario, Technique, Tls};
use crate::units::human;
use crate::world::trace::{Direction, Lane, Trace, TraceMessage};

mod svg;
pub use svg::svg;

/// What the renderers print around the messages.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceOptions {
    /// The heading, e.g. `SSE · 1 client · 20 s simulated · seed 1`.
    pub title: String,
    /// Further heading lines: the settings that shape the trace.
    pub details: Vec<String>,
    /// Draw a proxy lane between client and server (it is drawn anyway when a message or
    /// note belongs to the proxy).
    pub proxy: bool,
}

impl TraceOptions {
    /// Heading and lanes for a traced run of `sc` (its `duration` is the traced span).
    pub fn for_scenario(sc: &Scenario) -> TraceOptions {
        let clients = sc.workload.clients;
        let title = format!(
            "{} · {} client{} · {} simulated · seed {}",
            sc.technique.title(),
            clients,
            if clients == 1 { "" } else { "s" },
            dur(sc.duration),
            sc.seed
        );
        let mut line = Vec::new();
        line.push(match sc.network.tls {
            Tls::None => "no TLS".to_string(),
            Tls::V1_2 => "TLS 1.2".to_string(),
            Tls::V1_3 => "TLS 1.3".to_string(),
        });
        line.push(match sc.technique {
            Technique::ShortPolling => {
                format!("poll every {}", dur(sc.short_polling.interval))
            }
            Technique::LongPolling => format!("poll timeout {}", dur(sc.long_polling.timeout)),
            Technique::Sse => match sc.sse.heartbeat {
                Some(h) => format!("heartbeat every {}", dur(h)),
                None => "no heartbeat".to_string(),
            },
            Technique::Websocket => match sc.websocket.heartbeat {
                Some(h) => format!("ping every {}", dur(h)),
                None => "no ping".to_string(),
            },
        });
        line.push(match sc.network.proxy_idle_timeout {
            Some(t) => format!("proxy closes idle connections after {}", dur(t)),
            None => "no proxy".to_string(),
        });
        let mut second = Vec::new();
        let rate = human::sig(sc.workload.rate, 3, true);
        second.push(match sc.workload.pattern {
            Pattern::PerClient => format!("updates: {rate}/s per client"),
            Pattern::Broadcast => format!("updates: {rate}/s to every client"),
            Pattern::Chat => format!(
                "chat: each client posts {rate}/s to a room of {}",
                sc.workload.room_size
            ),
        });
        if let Some(every) = sc.network.disconnect_every {
            second.push(format!(
                "the network drops about every {} for {}",
                dur(every),
                dur(sc.network.outage)
            ));
        }
        if !sc.faults.is_empty() {
            second.push(format!("{} scheduled crash(es)", sc.faults.len()));
        }
        TraceOptions {
            title,
            details: vec![line.join(" · "), second.join(" · ")],
            proxy: sc.network.proxy_idle_timeout.is_some(),
        }
    }
}

/// A duration for headings: `50 ms`, `20 s`, `1.5 min`.
fn dur(ns: Nanos) -> String {
    human::duration(ns as f64 / 1e9, true)
}

/// Simulated time in seconds with millisecond resolution (`5.491`), by integer rounding.
fn secs(ns: Nanos) -> String {
    let ms = (ns + 500_000) / 1_000_000;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Messages in the order they left; simultaneous ones keep their recorded order.
fn in_time_order(trace: &Trace) -> Vec<&TraceMessage> {
    let mut v: Vec<&TraceMessage> = trace.messages.iter().collect();
    v.sort_by_key(|m| m.sent);
    v
}

/// Client ids in the trace, ascending.
fn clients(trace: &Trace) -> Vec<u32> {
    let mut ids: Vec<u32> = trace.messages.iter().map(|m| m.client).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The RTT line: each client's round trip, read off its messages (two one-way trips).
fn rtt_line(trace: &Trace) -> Option<String> {
    let mut rtts: BTreeMap<u32, Nanos> = BTreeMap::new();
    for m in &trace.messages {
        if m.direction != Direction::Note {
            rtts.entry(m.client)
                .or_insert(2 * m.arrives.saturating_sub(m.sent));
        }
    }
    let first = *rtts.values().next()?;
    if rtts.len() == 1 {
        let (c, rtt) = rtts.iter().next()?;
        return Some(format!(
            "client {c}: RTT {} (one way {})",
            dur(*rtt),
            dur(rtt / 2)
        ));
    }
    if rtts.values().all(|&r| r == first) {
        return Some(format!("every client: RTT {}", dur(first)));
    }
    let each: Vec<String> = rtts
        .iter()
        .map(|(c, r)| format!("c{c} {}", dur(*r)))
        .collect();
    Some(format!("RTT: {}", each.join(", ")))
}

fn show_proxy(trace: &Trace, opts: &TraceOptions) -> bool {
    opts.proxy || trace.messages.iter().any(|m| m.lane == Lane::Proxy)
}

/// Where a message starts and ends (notes start and end on their lane).
fn ends(m: &TraceMessage) -> (Lane, Lane) {
    match m.direction {
        Direction::Up => (m.lane, Lane::Server),
        Direction::Down => (m.lane, Lane::Client),
        Direction::Note => (m.lane, m.lane),
    }
}

fn heading(trace: &Trace, opts: &TraceOptions) -> Vec<String> {
    let mut lines = vec![opts.title.clone()];
    lines.extend(rtt_line(trace));
    lines.extend(opts.details.iter().filter(|d| !d.is_empty()).cloned());
    lines
}

// ------------------------------------------------------------------- text

/// Columns between two neighbouring lanes in [`text`].
const TEXT_GAP: usize = 24;
/// A pause at least this long gets a dotted row in [`text`].
const TEXT_PAUSE: Nanos = 1_000_000_000;

/// The trace as a terminal sequence diagram (see the module docs).
pub fn text(trace: &Trace, opts: &TraceOptions) -> String {
    let proxy = show_proxy(trace, opts);
    let col = |lane: Lane| match (lane, proxy) {
        (Lane::Client, _) => 0,
        (Lane::Proxy, _) => TEXT_GAP,
        (Lane::Server, true) => 2 * TEXT_GAP,
        (Lane::Server, false) => TEXT_GAP,
    };
    let lanes: Vec<Lane> = if proxy {
        vec![Lane::Client, Lane::Proxy, Lane::Server]
    } else {
        vec![Lane::Client, Lane::Server]
    };
    let width = col(Lane::Server) + 1;
    let messages = in_time_order(trace);
    let multi = clients(trace).len() > 1;
    let time_w = messages
        .iter()
        .map(|m| secs(m.sent).len() + 2)
        .max()
        .unwrap_or(0)
        .max(9);
    let client_w = if multi {
        messages
            .iter()
            .map(|m| format!("c{}", m.client).len())
            .max()
            .unwrap_or(2)
            + 2
    } else {
        0
    };

    let mut out = String::new();
    for line in heading(trace, opts) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');

    // Lane names: "client" from its lane, "proxy" centred, "server" ending on its lane.
    let mut names = vec![' '; width + 8];
    let put = |row: &mut Vec<char>, at: usize, s: &str| {
        for (i, ch) in s.chars().enumerate() {
            row[at + i] = ch;
        }
    };
    put(&mut names, 0, "client");
    if proxy {
        put(&mut names, col(Lane::Proxy) - 2, "proxy");
    }
    put(&mut names, col(Lane::Server) - 5, "server");
    let names: String = names.into_iter().collect();
    let row_line = |out: &mut String, time: &str, client: &str, lanes: &str, label: &str| {
        let line = format!("{time:>time_w$}  {client:<client_w$}{lanes}  {label}");
        out.push_str(line.trim_end());
        out.push('\n');
    };
    row_line(&mut out, "time", if multi { "who" } else { "" }, &names, "");

    let blank = |fill: char| -> Vec<char> {
        let mut row = vec![' '; width];
        for &l in &lanes {
            row[col(l)] = fill;
        }
        row
    };
    let mut last: Option<Nanos> = None;
    for m in messages {
        if let Some(prev) = last
            && m.sent >= prev + TEXT_PAUSE
        {
            let row: String = blank('┊').into_iter().collect();
            row_line(&mut out, "", "", &row, "");
        }
        last = Some(m.sent);
        let mut row = blank('│');
        let (from, to) = ends(m);
        let (a, b) = (col(from), col(to));
        match m.direction {
            Direction::Note => row[a] = '●',
            _ if a < b => {
                row[a] = '├';
                for ch in row.iter_mut().take(b - 1).skip(a + 1) {
                    *ch = if *ch == '│' { '┼' } else { '─' };
                }
                row[b - 1] = '>';
            }
            _ => {
                row[a] = '┤';
                for ch in row.iter_mut().take(a).skip(b + 2) {
                    *ch = if *ch == '│' { '┼' } else { '─' };
                }
                row[b + 1] = '<';
            }
        }
        let row: String = row.into_iter().collect();
        let who = if multi {
            format!("c{}", m.client)
        } else {
            String::new()
        };
        row_line(
            &mut out,
            &format!("{} s", secs(m.sent)),
            &who,
            &row,
            &m.label,
        );
    }
    if trace.messages.is_empty() {
        out.push_str("(no messages)\n");
    }
    out
}

// ------------------------------------------------------------------- mermaid

/// Mermaid treats `;` and `#` specially and `<`/`>` as HTML; `#…;` entities are safe.
fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The trace as a Mermaid `sequenceDiagram` (see the module docs).
pub fn mermaid(trace: &Trace, opts: &TraceOptions) -> String {
    let proxy = show_proxy(trace, opts);
    let ids = clients(trace);
    let multi = ids.len() > 1;
    let client_id = |c: u32| {
        if multi {
            format!("C{c}")
        } else {
            "Client".to_string()
        }
    };
    let lane_id = |lane: Lane, c: u32| match lane {
        Lane::Client => client_id(c),
        Lane::Proxy => "Proxy".to_string(),
        Lane::Server => "Server".to_string(),
    };
    let mut out = String::from("sequenceDiagram\n");
    for line in heading(trace, opts) {
        let _ = writeln!(out, "    %% {line}");
    }
    if multi {
        for &c in &ids {
            let _ = writeln!(out, "    participant C{c} as Client {c}");
        }
    } else {
        out.push_str("    participant Client\n");
    }
    if proxy {
        out.push_str("    participant Proxy\n");
    }
    out.push_str("    participant Server\n");
    for m in in_time_order(trace) {
        let label = mermaid_escape(&format!("t={}s {}", secs(m.sent), m.label));
        let (from, to) = ends(m);
        let (from, to) = (lane_id(from, m.client), lane_id(to, m.client));
        let _ = match m.direction {
            Direction::Note => writeln!(out, "    Note over {from}: {label}"),
            Direction::Up => writeln!(out, "    {from}->>{to}: {label}"),
            Direction::Down => writeln!(out, "    {from}-->>{to}: {label}"),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trace {
        let mut t = Trace::default();
        t.message(0, true, 48_000_000, 73_000_000, "SYN (TCP connect)".into());
        t.message(0, false, 74_000_000, 99_000_000, "SYN-ACK".into());
        t.note(0, Lane::Proxy, 10_000_000_000, "proxy: idle timeout".into());
        t.messages.push(TraceMessage {
            sent: 10_000_000_000,
            arrives: 10_025_000_000,
            client: 0,
            direction: Direction::Down,
            lane: Lane::Proxy,
            label: "HTTP/1.1 504 Gateway Timeout <proxy> & co".into(),
        });
        t
    }

    fn opts() -> TraceOptions {
        TraceOptions {
            title: "Long polling".into(),
            details: vec!["TLS 1.3".into()],
            proxy: true,
        }
    }

    #[test]
    fn text_draws_arrows_from_the_sending_lane() {
        let out = text(&sample(), &opts());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Long polling");
        assert_eq!(lines[1], "client 0: RTT 50 ms (one way 25 ms)");
        let syn = lines.iter().find(|l| l.contains("SYN (TCP")).unwrap();
        assert!(syn.starts_with("  0.048 s  ├"), "{syn}");
        assert!(syn.contains("┼") && syn.contains(">│  SYN"), "{syn}");
        let gw = lines.iter().find(|l| l.contains("504")).unwrap();
        // From the proxy lane to the client, the server lane untouched.
        assert!(
            gw.contains("│<") && gw.contains("┤") && !gw.contains("┼"),
            "{gw}"
        );
        assert!(out.contains("●"));
        assert!(out.contains("┊"), "a 10 s pause gets a dotted row");
    }

    #[test]
    fn mermaid_has_one_line_per_message() {
        let out = mermaid(&sample(), &opts());
        assert!(out.starts_with("sequenceDiagram\n"));
        assert!(out.contains("    Client->>Server: t=0.048s SYN (TCP connect)\n"));
        assert!(out.contains("    Server-->>Client: t=0.074s SYN-ACK\n"));
        assert!(out.contains("    Note over Proxy: t=10.000s proxy: idle timeout\n"));
        assert!(out.contains(
            "Proxy-->>Client: t=10.000s HTTP/1.1 504 Gateway Timeout #lt;proxy#gt; & co"
        ));
    }

    #[test]
    fn svg_escapes_and_draws_each_message() {
        let out = svg(&sample(), &opts());
        assert!(out.starts_with("<svg"));
        assert_eq!(out.matches("<line class=\"msg").count(), 3);
        assert!(out.contains("&lt;proxy&gt; &amp; co"));
        assert!(out.contains("later</text>"), "the 10 s pause is compressed");
    }

    #[test]
    fn several_clients_are_named() {
        let mut t = sample();
        t.message(7, true, 50_000_000, 90_000_000, "GET /ws".into());
        assert!(text(&t, &opts()).contains(" c7  "));
        assert!(mermaid(&t, &opts()).contains("C7->>Server"));
        assert!(svg(&t, &opts()).contains("c7: GET /ws"));
    }
}
