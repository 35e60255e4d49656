//! WebSockets over HTTP/2 (RFC 8441) as sizes: the extended CONNECT that opens a socket on
//! an HTTP/2 stream, its `200` answer, and the DATA frame around every WebSocket frame.
//!
//! The HTTP/1.1 handshake is configured in bytes (`ws_handshake_request_bytes`,
//! `ws_handshake_response_bytes`); as for polls (`h2.rs`), those bytes are read as a
//! modelled header set: the Upgrade request of RFC 6455 §4.1 (request line, `Host`,
//! `Upgrade`, `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version`), then `Origin`
//! and a browser's fields as they fit, and a `cookie` filler that makes the text exactly
//! the configured size; the `101` of §4.2.2 (`Upgrade`, `Connection`,
//! `Sec-WebSocket-Accept`) and a `server` filler. Over HTTP/2 (RFC 8441 §4–§5) the
//! request becomes HEADERS with `:method CONNECT`, `:protocol websocket`, `:scheme`,
//! `:path`, `:authority` and the remaining fields — no `Upgrade`, `Connection` (RFC 9113
//! §8.2.2 forbids them), nor `Sec-WebSocket-Key` (RFC 8441 §5: the key and its accept
//! are not used) — and the answer is HEADERS with `:status 200` and the filler. The
//! socket is a stream of the user's multiplexed connection: the first handshake on it
//! meets a fresh HPACK table each way (`cold`), a later one (another tab's socket, a
//! reconnection) finds the fields its predecessors indexed (`warm`), as `h2.rs` sizes
//! polls.

use super::h2::{AUTHORITY, FRAME_HEADER, USER_AGENT, filler, headers_frames, line};
use super::hpack::{DEFAULT_TABLE_SIZE, Encoder, Indexing};
use crate::scenario::{Http2Stack, Network};

/// The server's SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8, value 1: RFC 8441 §3), one more
/// 6-byte parameter in its SETTINGS frame (RFC 9113 §6.5.1): without it a browser does
/// not use the extended CONNECT.
pub const ENABLE_CONNECT_PROTOCOL_SETTING: u64 = 6;

/// The socket's path.
const WS_PATH: &str = "/ws";
/// RFC 6455 §1.3's example key and its accept value: 24 and 28 characters, as every
/// key (16 random bytes in base64) and accept (a SHA-1 in base64) are.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Fields a browser adds to its handshake, in Chromium's order, as far as they fit.
const BROWSER_FIELDS: [(&str, &str); 5] = [
    ("origin", "https://app.example.com"),
    ("pragma", "no-cache"),
    ("cache-control", "no-cache"),
    ("user-agent", USER_AGENT),
    ("accept-language", "en-US,en;q=0.9"),
];

/// The first of `fields` that fit in `head` beyond `fixed`, then a `filler_name` field
/// of what is left (at least one character), all with incremental indexing.
fn fill(
    head: u64,
    fixed: u64,
    fields: &[(&'static str, &'static str)],
    filler_name: &'static str,
) -> Vec<(&'static str, String, Indexing)> {
    let mut used = fixed;
    let mut out = Vec::new();
    for &(name, value) in fields {
        if used + line(name, value) + line(filler_name, "x") > head {
            break;
        }
        used += line(name, value);
        out.push((name, value.to_string(), Indexing::Incremental));
    }
    let empty = line(filler_name, "");
    if head > used + empty {
        out.push((
            filler_name,
            filler(head - used - empty),
            Indexing::Incremental,
        ));
    }
    out
}

/// The HTTP/1.1 Upgrade request's fixed text: `GET /ws HTTP/1.1`, `Host`, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, the blank line.
pub fn upgrade_request_fixed() -> u64 {
    (4 + WS_PATH.len() as u64 + 11)
        + line("host", AUTHORITY)
        + line("upgrade", "websocket")
        + line("connection", "Upgrade")
        + line("sec-websocket-key", KEY)
        + line("sec-websocket-version", "13")
        + 2
}

/// The HTTP/1.1 `101` answer's fixed text: the status line, `Upgrade`, `Connection`,
/// `Sec-WebSocket-Accept`, the blank line.
pub fn upgrade_response_fixed() -> u64 {
    "HTTP/1.1 101 Switching Protocols\r\n".len() as u64
        + line("upgrade", "websocket")
        + line("connection", "Upgrade")
        + line("sec-websocket-accept", ACCEPT)
        + 2
}

/// The extended CONNECT's fields for an HTTP/1.1 handshake of `h1` bytes. Chromium's
/// policy indexes no pseudo-header but `:authority` (as `h2.rs` says).
pub fn connect_fields(h1: u64) -> Vec<(&'static str, String, Indexing)> {
    let mut fields = vec![
        (":method", "CONNECT".to_string(), Indexing::Without),
        (":authority", AUTHORITY.to_string(), Indexing::Incremental),
        (":scheme", "https".to_string(), Indexing::Without),
        (":path", WS_PATH.to_string(), Indexing::Without),
        (":protocol", "websocket".to_string(), Indexing::Without),
        (
            "sec-websocket-version",
            "13".to_string(),
            Indexing::Incremental,
        ),
    ];
    fields.extend(fill(h1, upgrade_request_fixed(), &BROWSER_FIELDS, "cookie"));
    fields
}

/// The `200` answer's fields for an HTTP/1.1 `101` of `h1` bytes.
pub fn accept_fields(h1: u64) -> Vec<(&'static str, String, Indexing)> {
    let mut fields = vec![(":status", "200".to_string(), Indexing::Incremental)];
    fields.extend(fill(h1, upgrade_response_fixed(), &[], "server"));
    fields
}

/// The handshake's frames over HTTP/2, and the DATA frame every WebSocket frame rides in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// The extended CONNECT: one HEADERS frame (CONTINUATION beyond 16 KiB), on a
    /// fresh HPACK table.
    pub connect: u64,
    /// The `200`: one HEADERS frame, the stream left open, on a fresh table.
    pub accepted: u64,
    /// The extended CONNECT on a connection that has carried one before.
    pub connect_warm: u64,
    /// The `200` on a connection that has carried one before.
    pub accepted_warm: u64,
}

impl Tunnel {
    /// The handshake of `net`'s configured sizes under its HTTP/2 stack, cold and warm.
    pub fn new(net: &Network) -> Self {
        Tunnel::of(
            net.ws_handshake_request_bytes,
            net.ws_handshake_response_bytes,
            net.http2_stack,
        )
    }

    pub fn of(request_h1: u64, response_h1: u64, stack: Http2Stack) -> Self {
        // (cold, warm): the same block twice on one table.
        let blocks = |fields: Vec<(&'static str, String, Indexing)>| {
            let mut e = Encoder::new(DEFAULT_TABLE_SIZE, true);
            let mut block = || {
                fields
                    .iter()
                    .map(|(n, v, i)| e.field(n, v, super::h2::indexing(stack, n, v, *i)))
                    .sum::<u64>()
            };
            let cold = block();
            (headers_frames(cold), headers_frames(block()))
        };
        let (connect, connect_warm) = blocks(connect_fields(request_h1));
        let (accepted, accepted_warm) = blocks(accept_fields(response_h1));
        Tunnel {
            connect,
            accepted,
            connect_warm,
            accepted_warm,
        }
    }

    /// The extended CONNECT and its `200`, (up, down); `warm`: the connection has
    /// carried a handshake before.
    pub fn handshake(&self, warm_up: bool, warm_down: bool) -> (u64, u64) {
        (
            if warm_up {
                self.connect_warm
            } else {
                self.connect
            },
            if warm_down {
                self.accepted_warm
            } else {
                self.accepted
            },
        )
    }

    /// A WebSocket frame of `frame` bytes (header included) in its DATA frame (RFC 8441
    /// §5: the stream's DATA carries the RFC 6455 frames as they are, masks included).
    pub fn data(frame: u64) -> u64 {
        frame + FRAME_HEADER
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hpack::{huffman_bytes, string_bytes};
    use crate::wire::ws_frame_header;

    /// The HTTP/1.1 text of the modelled handshake, rebuilt from the fields.
    fn h1_request(h1: u64) -> u64 {
        upgrade_request_fixed()
            + connect_fields(h1)
                .iter()
                .filter(|(n, _, _)| !n.starts_with(':') && *n != "sec-websocket-version")
                .map(|(n, v, _)| line(n, v))
                .sum::<u64>()
    }

    #[test]
    fn the_modelled_handshake_is_the_configured_http_1_1_size() {
        // RFC 6455 §4.1's request: 18 + 23 + 20 + 21 + 45 + 27 + 2 = 156 B fixed.
        assert_eq!(upgrade_request_fixed(), 156);
        // RFC 6455 §4.2.2's answer: 34 + 20 + 21 + 52 + 2 = 129 B fixed.
        assert_eq!(upgrade_response_fixed(), 129);
        for h1 in [167, 189, 230, 500, 900, 4000] {
            assert_eq!(h1_request(h1), h1, "request of {h1} B");
        }
    }

    #[test]
    fn the_extended_connect_and_its_answer_field_by_field() {
        // The defaults: a 230-byte Upgrade, a 159-byte 101.
        let t = Tunnel::of(230, 159, Http2Stack::ChromiumNginx);
        let fields = connect_fields(230);
        let names: Vec<_> = fields.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(
            names,
            [
                ":method",
                ":authority",
                ":scheme",
                ":path",
                ":protocol",
                "sec-websocket-version",
                "origin",
                "pragma",
                "cookie"
            ]
        );
        // RFC 7541: :method with static name 2 (§6.2.2, 4-bit prefix: 1 B) + "CONNECT"
        // (Huffman 7 B, §5.2); :authority static name 1 (6-bit prefix) + value; :scheme
        // https is static entry 7 (§6.1, 1 B); :path static name 4 + "/ws"; :protocol
        // (RFC 8441 §4) is in no static table: a new name; sec-websocket-version, origin
        // and pragma: new names; cookie: static name 32.
        let s = |v: &str| string_bytes(v, true);
        let cookie = &fields[8].1;
        let expected = (1 + s("CONNECT"))
            + (1 + s(AUTHORITY))
            + 1
            + (1 + s("/ws"))
            + (1 + s(":protocol") + s("websocket"))
            + (1 + s("sec-websocket-version") + s("13"))
            + (1 + s("origin") + s("https://app.example.com"))
            + (1 + s("pragma") + s("no-cache"))
            + (1 + s(cookie));
        assert_eq!(s("CONNECT"), 8);
        assert_eq!(huffman_bytes(":protocol"), 7);
        assert_eq!(t.connect, 9 + expected);
        // The answer: :status 200 is static entry 8 (1 B), then the `server` filler with
        // static name 54 (6-bit prefix: 1 B).
        let server = &accept_fields(159)[1].1;
        assert_eq!(server.len(), 159 - 129 - 10);
        assert_eq!(t.accepted, 9 + 1 + 1 + s(server));
        // Both far smaller than the HTTP/1.1 handshake.
        assert!(t.connect < 230 && t.accepted < 159, "{t:?}");
        // Warm (another socket on the same connection): the incrementally indexed
        // fields become 1-byte references to the dynamic table (RFC 7541 §6.1: indices
        // 62–66, below the 7-bit prefix's 127), the rest is sent as before: :method and
        // :path literal without indexing, :scheme static, :protocol with its literal
        // name.
        let warm =
            (1 + s("CONNECT")) + 1 + 1 + (1 + s("/ws")) + (1 + s(":protocol") + s("websocket")) + 4;
        assert_eq!(t.connect_warm, 9 + warm);
        assert_eq!(t.accepted_warm, 9 + 1 + 1);
        assert_eq!(t.handshake(true, false), (t.connect_warm, t.accepted));
    }

    #[test]
    fn every_websocket_frame_rides_in_a_data_frame() {
        // RFC 9113 §4.1: 9 bytes of frame header; RFC 6455 §5.2: 2 B server header for a
        // payload ≤ 125 B, 4 B to 65,535 B, +4 of mask from the client.
        assert_eq!(Tunnel::data(ws_frame_header(200, false) + 200), 200 + 4 + 9);
        assert_eq!(Tunnel::data(ws_frame_header(100, false) + 100), 100 + 2 + 9);
        // An empty ping from the server, the browser's masked pong.
        assert_eq!(Tunnel::data(ws_frame_header(0, false)), 11);
        assert_eq!(Tunnel::data(ws_frame_header(0, true)), 15);
    }

    #[test]
    fn hypers_stack_indexes_differently_but_a_fresh_table_costs_alike() {
        // On a fresh table only the prefix width differs (6 vs 4 bits): within a few bytes.
        let chromium = Tunnel::of(230, 159, Http2Stack::ChromiumNginx);
        let hyper = Tunnel::of(230, 159, Http2Stack::Hyper);
        assert!(
            chromium.connect.abs_diff(hyper.connect) <= 4,
            "{chromium:?} {hyper:?}"
        );
        assert_eq!(chromium.accepted, hyper.accepted);
    }
}
