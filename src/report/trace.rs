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

// ------------------------------------------------------------------- svg

/// Pixels an exchange's one-way trip gets (the shortest in the trace).
const SVG_ONE_WAY_PX: f64 = 40.0;
/// Least vertical room between two distinct instants (a label's height).
const SVG_MIN_STEP: f64 = 18.0;
/// Most vertical room for a pause; longer pauses are compressed and marked on the axis.
const SVG_MAX_STEP: f64 = 56.0;
const SVG_WIDTH: f64 = 900.0;
const SVG_AXIS_X: f64 = 96.0;
const SVG_CLIENT_X: f64 = 190.0;
const SVG_SERVER_X: f64 = 750.0;

/// Okabe–Ito colours (colour-blind safe): requests, replies/pushes, the proxy, notes.
const COLOR_UP: &str = "#0072B2";
const COLOR_DOWN: &str = "#D55E00";
const COLOR_PROXY: &str = "#CC79A7";
const COLOR_NOTE: &str = "#555555";

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A long pause drawn shorter than to scale: from `y0` to `y1`, `length` of time.
struct Pause {
    y0: f64,
    y1: f64,
    length: Nanos,
}

/// The vertical position of every instant in the trace: to scale within an exchange, a
/// fixed height for long pauses. Also returns the compressed pauses.
fn time_axis(trace: &Trace, top: f64) -> (BTreeMap<Nanos, f64>, Vec<Pause>) {
    let one_way = trace
        .messages
        .iter()
        .filter(|m| m.direction != Direction::Note && m.arrives > m.sent)
        .map(|m| m.arrives - m.sent)
        .min()
        .unwrap_or(25_000_000);
    let px_per_ns = SVG_ONE_WAY_PX / one_way as f64;
    let mut instants: Vec<Nanos> = trace
        .messages
        .iter()
        .flat_map(|m| [m.sent, m.arrives])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let mut y = BTreeMap::new();
    let mut pauses = Vec::new();
    let mut at = top;
    let mut prev: Option<Nanos> = None;
    for t in instants {
        if let Some(p) = prev {
            let gap = t - p;
            let natural = gap as f64 * px_per_ns;
            let step = natural.clamp(SVG_MIN_STEP, SVG_MAX_STEP);
            if natural > SVG_MAX_STEP {
                pauses.push(Pause {
                    y0: at,
                    y1: at + step,
                    length: gap,
                });
            }
            at += step;
        }
        y.insert(t, at);
        prev = Some(t);
    }
    (y, pauses)
}

/// The trace as an SVG sequence diagram (see the module docs).
pub fn svg(trace: &Trace, opts: &TraceOptions) -> String {
    let proxy = show_proxy(trace, opts);
    let x = |lane: Lane| match lane {
        Lane::Client => SVG_CLIENT_X,
        Lane::Proxy => (SVG_CLIENT_X + SVG_SERVER_X) / 2.0,
        Lane::Server => SVG_SERVER_X,
    };
    let multi = clients(trace).len() > 1;
    let head = heading(trace, opts);
    let lanes_top = 30.0 + 18.0 * head.len() as f64;
    let top = lanes_top + 50.0;
    let (ys, pauses) = time_axis(trace, top);
    let bottom = ys.values().copied().fold(top, f64::max) + 24.0;
    let height = bottom + 30.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height:.0}" viewBox="0 0 {SVG_WIDTH} {height:.0}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        "<title>{}</title>",
        xml_escape(&format!("rtsim trace: {}", opts.title))
    );
    s.push_str("<defs>\n");
    for (id, color) in [
        ("up", COLOR_UP),
        ("down", COLOR_DOWN),
        ("proxy", COLOR_PROXY),
    ] {
        let _ = writeln!(
            s,
            r#"<marker id="arrow-{id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"#
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{SVG_WIDTH}" height="{height:.0}" fill="white"/>"#
    );
    for (i, line) in head.iter().enumerate() {
        let (size, weight) = if i == 0 { (15, "bold") } else { (12, "normal") };
        let _ = writeln!(
            s,
            r#"<text x="16" y="{}" font-size="{size}" font-weight="{weight}">{}</text>"#,
            24 + 18 * i,
            xml_escape(line)
        );
    }

    // Lanes with their names.
    let mut lanes = vec![(Lane::Client, "client")];
    if proxy {
        lanes.push((Lane::Proxy, "proxy"));
    }
    lanes.push((Lane::Server, "server"));
    for (lane, name) in lanes {
        let lx = x(lane);
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{lanes_top:.1}" width="90" height="26" rx="5" fill="#f2f2f2" stroke="#333333"/>"##,
            lx - 45.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{lx:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{name}</text>"#,
            lanes_top + 17.0
        );
        let _ = writeln!(
            s,
            r##"<line class="lane" x1="{lx:.1}" y1="{:.1}" x2="{lx:.1}" y2="{bottom:.1}" stroke="#999999" stroke-width="1.5"/>"##,
            lanes_top + 26.0
        );
    }

    // Time axis: seconds at each send, a break mark for every compressed pause.
    let _ = writeln!(
        s,
        r##"<line class="axis" x1="{SVG_AXIS_X}" y1="{top:.1}" x2="{SVG_AXIS_X}" y2="{bottom:.1}" stroke="#333333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{:.1}" text-anchor="end" font-weight="bold">time</text>"#,
        SVG_AXIS_X - 8.0,
        top - 14.0
    );
    for pause in &pauses {
        let mid = (pause.y0 + pause.y1) / 2.0;
        let _ = writeln!(
            s,
            r#"<path class="pause" d="M{:.1},{:.1} l10,-4 M{:.1},{:.1} l10,-4" stroke="white" stroke-width="4"/>"#,
            SVG_AXIS_X - 5.0,
            mid,
            SVG_AXIS_X - 5.0,
            mid + 5.0
        );
        let _ = writeln!(
            s,
            r##"<path class="pause" d="M{:.1},{:.1} l10,-4 M{:.1},{:.1} l10,-4" stroke="#333333"/>"##,
            SVG_AXIS_X - 5.0,
            mid - 1.0,
            SVG_AXIS_X - 5.0,
            mid + 4.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" fill="#777777" font-style="italic">{} later</text>"##,
            SVG_AXIS_X - 10.0,
            mid + 4.0,
            xml_escape(&dur(pause.length))
        );
    }
    let mut last_tick = f64::NEG_INFINITY;
    for m in in_time_order(trace) {
        let y = ys[&m.sent];
        if y - last_tick < 12.0 {
            continue;
        }
        last_tick = y;
        let _ = writeln!(
            s,
            r##"<line class="tick" x1="{:.1}" y1="{y:.1}" x2="{SVG_AXIS_X}" y2="{y:.1}" stroke="#333333"/>"##,
            SVG_AXIS_X - 4.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{} s</text>"#,
            SVG_AXIS_X - 8.0,
            y + 4.0,
            secs(m.sent)
        );
    }

    // Messages: one sloped <line class="msg"> each; notes: a dot and a label.
    for m in in_time_order(trace) {
        let (from, to) = ends(m);
        let (y0, y1) = (ys[&m.sent], ys[&m.arrives]);
        let label = if multi {
            format!("c{}: {}", m.client, m.label)
        } else {
            m.label.clone()
        };
        let label = xml_escape(&label);
        let time = secs(m.sent);
        if m.direction == Direction::Note {
            let nx = x(from);
            let _ = writeln!(
                s,
                r#"<circle class="note" cx="{nx:.1}" cy="{y0:.1}" r="4.5" fill="{COLOR_NOTE}"/>"#
            );
            let (tx, anchor) = if from == Lane::Server {
                (nx - 9.0, "end")
            } else {
                (nx + 9.0, "start")
            };
            let _ = writeln!(
                s,
                r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" fill="{COLOR_NOTE}" font-style="italic" stroke="white" stroke-width="3" paint-order="stroke">{label}</text>"#,
                y0 + 4.0
            );
            continue;
        }
        let (kind, color) = match (m.direction, from) {
            (_, Lane::Proxy) => ("proxy", COLOR_PROXY),
            (Direction::Up, _) => ("up", COLOR_UP),
            _ => ("down", COLOR_DOWN),
        };
        let (x0, x1) = (x(from), x(to));
        let _ = writeln!(
            s,
            r#"<line class="msg {kind}" x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="{color}" stroke-width="1.6" marker-end="url(#arrow-{kind})"><title>{time} s → {} s: {label}</title></line>"#,
            secs(m.arrives)
        );
        // The label runs along the arrow, just above it, always left to right.
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let ((lx, ly), (rx, ry)) = if x0 <= x1 {
            ((x0, y0), (x1, y1))
        } else {
            ((x1, y1), (x0, y0))
        };
        let angle = (ry - ly).atan2(rx - lx).to_degrees();
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{:.1}" transform="rotate({angle:.2} {cx:.1} {cy:.1})" text-anchor="middle" fill="{color}" stroke="white" stroke-width="3" paint-order="stroke">{label}</text>"#,
            cy - 5.0
        );
    }
    if trace.messages.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">(no messages)</text>"#,
            SVG_WIDTH / 2.0,
            top + 10.0
        );
    }
    s.push_str("</svg>\n");
    s
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
