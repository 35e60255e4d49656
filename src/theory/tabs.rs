//! A user's tabs in one browser (`[workload] tabs`, `world/pool.rs`): connections,
//! memory and stalled requests per user, in closed form where the browser's limits make
//! one.
//!
//! With `T` tabs per user, `P` places (6 HTTP/1.1 connections per origin, or
//! `max_concurrent_streams` HTTP/2 streams per connection), and a technique whose every
//! tab holds its request open (SSE, long polling: a tab always has one outstanding):
//!
//! - served tabs `min(T, P)`, stalled `max(0, T − P)` — for SSE the stalled tabs wait for
//!   good; for long polling they take turns (an answered poll's connection goes to the
//!   longest waiting tab), and at any instant `T − P` wait;
//! - connections per user: HTTP/1.1 `min(T, P)`, HTTP/2 `1`; handshakes at start: the
//!   same numbers;
//! - memory per user (SSE): HTTP/1.1 `min(T, P)·(m_conn + stack + m_stream)`, HTTP/2
//!   `m_conn + stack + min(T, P)·(m_h2 + m_stream)`.
//!
//! Short polling holds a connection per tab while keep-alive lasts (`min(T, P)` over
//! HTTP/1.1, 1 over HTTP/2) and stalls nothing while `T ≤ P`; beyond, how often it
//! waits depends on the interleaving of polls: no closed form here. WebSockets are not
//! counted by the browser against the 6: `T` connections, none stalled — unless they
//! ride HTTP/2 (RFC 8441, `[websocket] over_http2`): then every tab's socket is a stream
//! of the user's one connection, and they count as SSE streams do over HTTP/2.

use super::Prediction;
use super::inputs::Inputs;
use crate::scenario::{Http, Scenario, Technique};

/// Does the browser count the technique's connections (WebSockets only as RFC 8441
/// streams of the user's HTTP/2 connection)?
fn pooled(sc: &Scenario) -> bool {
    sc.technique != Technique::Websocket || rfc8441(sc)
}

/// WebSockets over HTTP/2 (RFC 8441).
fn rfc8441(sc: &Scenario) -> bool {
    sc.technique == Technique::Websocket && sc.websocket.over_http2 && sc.network.http == Http::V2
}

/// The browser's limit for this scenario: (places per user, over HTTP/2).
fn places(sc: &Scenario) -> (f64, bool) {
    let h2 = sc.network.http == Http::V2 && pooled(sc);
    let places = if h2 {
        sc.server.max_concurrent_streams
    } else {
        sc.workload.browser.connections_per_origin()
    };
    (f64::from(places), h2)
}

/// Does the browser change what the per-client formulas assume: a user's requests
/// sharing one HTTP/2 connection, or tabs beyond its places? (The per-client formulas of
/// connections and memory then no longer apply.)
pub(super) fn changes_connections(sc: &Scenario) -> bool {
    let (_, h2) = places(sc);
    h2 || stalls(sc)
}

/// Do some of a user's tabs wait in the browser? (Then every per-client formula, which
/// assumes each client is served, no longer applies.)
pub(super) fn stalls(sc: &Scenario) -> bool {
    let (places, _) = places(sc);
    pooled(sc) && f64::from(sc.workload.tabs) > places
}

/// Predictions of `connections_per_user`, `memory_per_user_bytes`, `stalled_per_user`
/// (and, when the browser changes them, `connections_mean` and
/// `server_memory_mean_bytes` for all users).
pub(super) fn predict(sc: &Scenario, inp: &Inputs) -> Vec<Prediction> {
    let t = f64::from(sc.workload.tabs.max(1));
    let users = inp.n / t;
    let (p, h2) = places(sc);
    let served = t.min(p);
    let stalled = (t - p).max(0.0);
    let mut out = Vec::new();
    let holds_open = matches!(sc.technique, Technique::Sse | Technique::LongPolling) || rfc8441(sc);
    let conns = match sc.technique {
        Technique::Websocket if h2 => Some((
            1.0,
            "RFC 8441: one HTTP/2 connection carries every tab's socket: 1",
        )),
        Technique::Websocket => Some((t, "T: browsers do not count WebSockets in the 6")),
        Technique::Sse | Technique::LongPolling if h2 => {
            Some((1.0, "HTTP/2: one connection carries every tab's stream: 1"))
        }
        Technique::Sse | Technique::LongPolling => {
            Some((served, "HTTP/1.1: one connection per served tab: min(T, 6)"))
        }
        // A tab's connection lives between polls only while keep-alive holds.
        Technique::ShortPolling if secs_gap(sc) < inp.k && !stalls(sc) => Some(if h2 {
            (1.0, "HTTP/2, keep-alive holds: 1")
        } else {
            (t, "HTTP/1.1, keep-alive holds: T (T ≤ 6)")
        }),
        Technique::ShortPolling => None,
    };
    let inputs = |extra: Vec<(&'static str, f64)>| {
        let mut v = vec![("T", t), ("places per user", p)];
        v.extend(extra);
        v
    };
    match conns {
        Some((value, formula)) => {
            out.push(Prediction::some(
                "connections_per_user",
                value,
                formula,
                inputs(vec![]),
            ));
            if changes_connections(sc) {
                out.push(Prediction::some(
                    "connections_mean",
                    users * value,
                    "users × connections per user",
                    inputs(vec![("users", users)]),
                ));
            }
        }
        None => out.push(Prediction::none(
            "connections_per_user",
            "—",
            "short polling: whether a tab's connection outlives the gap between polls, \
             or waits for another's, depends on how the tabs' polls interleave",
        )),
    }
    if sc.technique == Technique::Sse || rfc8441(sc) {
        let m_h2 = sc.server.memory_per_h2_stream as f64;
        let (value, formula) = if h2 {
            (
                inp.mem_conn + served * (m_h2 + inp.mem_stream),
                "m_conn + stack + min(T, P)·(m_h2 + m_stream)",
            )
        } else {
            (
                served * (inp.mem_conn + inp.mem_stream),
                "min(T, 6)·(m_conn + stack + m_stream)",
            )
        };
        let extra = vec![
            ("m_conn + stack (B)", inp.mem_conn),
            ("m_h2 (B)", m_h2),
            ("m_stream (B)", inp.mem_stream),
        ];
        out.push(Prediction::some(
            "memory_per_user_bytes",
            value,
            formula,
            inputs(extra.clone()),
        ));
        if changes_connections(sc) {
            out.push(Prediction::some(
                "server_memory_mean_bytes",
                inp.mem_base + users * value,
                "I·base + users × memory per user",
                inputs(extra),
            ));
        }
    }
    if holds_open {
        out.push(Prediction::some(
            "stalled_per_user",
            stalled,
            "every tab holds a request or socket open: max(0, T − P)",
            inputs(vec![]),
        ));
    } else if !stalls(sc) {
        out.push(Prediction::some(
            "stalled_per_user",
            0.0,
            "no tab beyond the browser's places: 0",
            inputs(vec![]),
        ));
    }
    out
}

/// Longest gap between a short poller's requests, in seconds (interval + jitter).
fn secs_gap(sc: &Scenario) -> f64 {
    crate::engine::time::secs(sc.short_polling.interval + sc.short_polling.jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(sc: &Scenario, metric: &str) -> Option<f64> {
        super::super::value_of(&predict(sc, &Inputs::new(sc)), metric)
    }

    #[test]
    fn seven_sse_tabs_over_http1_stall_one_and_over_http2_none() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Sse;
        sc.workload.tabs = 7;
        sc.workload.clients = 70;
        assert_eq!(value(&sc, "connections_per_user"), Some(6.0));
        assert_eq!(value(&sc, "stalled_per_user"), Some(1.0));
        assert_eq!(value(&sc, "connections_mean"), Some(60.0));
        sc.network.http = Http::V2;
        sc.server.max_concurrent_streams = 100;
        assert_eq!(value(&sc, "connections_per_user"), Some(1.0));
        assert_eq!(value(&sc, "stalled_per_user"), Some(0.0));
        sc.server.max_concurrent_streams = 4;
        assert_eq!(value(&sc, "stalled_per_user"), Some(3.0));
        let s = &sc.server;
        let conn = s.memory_per_connection as f64;
        assert_eq!(
            value(&sc, "memory_per_user_bytes"),
            Some(conn + 4.0 * (s.memory_per_h2_stream + s.memory_per_stream) as f64)
        );
    }

    #[test]
    fn rfc8441_sockets_count_as_http2_streams_and_plain_ones_do_not() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.workload.tabs = 3;
        sc.workload.clients = 60;
        sc.network.http = Http::V2;
        sc.server.max_concurrent_streams = 2;
        // Without RFC 8441: one connection per tab, none waits.
        assert_eq!(value(&sc, "connections_per_user"), Some(3.0));
        assert_eq!(value(&sc, "stalled_per_user"), Some(0.0));
        assert_eq!(value(&sc, "memory_per_user_bytes"), None);
        sc.websocket.over_http2 = true;
        assert_eq!(value(&sc, "connections_per_user"), Some(1.0));
        assert_eq!(value(&sc, "stalled_per_user"), Some(1.0));
        // A tab waits: the per-client formulas are withdrawn.
        assert!(stalls(&sc));
        sc.server.max_concurrent_streams = 100;
        assert!(!stalls(&sc) && changes_connections(&sc));
        let s = &sc.server;
        assert_eq!(
            value(&sc, "memory_per_user_bytes"),
            Some(
                (s.memory_per_connection + 3 * (s.memory_per_h2_stream + s.memory_per_stream))
                    as f64
            )
        );
        assert_eq!(value(&sc, "connections_mean"), Some(20.0));
    }
}
