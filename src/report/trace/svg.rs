//! [`svg`]: the trace as a hand-written SVG — vertical lanes, sloped arrows from (lane,
//! sent) to (lane, arrives), a time axis on the left; time drawn to scale inside an
//! exchange and compressed where nothing happens (the axis shows how long the pause was).

use super::*;
use crate::report::html::escape as xml_escape;

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
