//! How the HTTP version frames what the model sends: one place that turns a request, an
//! answer or a stream chunk into bytes under HTTP/1.1 or HTTP/2 (before TLS records,
//! which the world adds to every write).
//!
//! Callers give HTTP/1.1 byte counts (what every head is configured as) and say what part
//! of them is body; under HTTP/2 the heads become HEADERS frames of HPACK blocks
//! ([`h2::Blocks`]) and bodies DATA frames.

use super::h2::{self, Blocks};
use super::sse_chunk_bytes;
use crate::scenario::{Http, Http2Stack, Network};

/// The framing of one scenario's HTTP messages.
#[derive(Clone, Copy, Debug)]
pub struct Framing {
    /// HTTP/2's header blocks; `None` under HTTP/1.1.
    h2: Option<Blocks>,
    /// The configured HTTP/1.1 request head (a longer one carries extra fields).
    request_head: u64,
    /// Whose HTTP/2 (its connection preface).
    stack: Http2Stack,
    /// The technique frames its own messages inside an HTTP/2 stream (RFC 8441): the
    /// connection still opens with HTTP/2's preface.
    tunnel: bool,
}

impl Framing {
    /// The scenario's framing for a technique whose requests can travel over HTTP/2
    /// (`h2_capable`: a WebSocket's Upgrade cannot, without RFC 8441).
    pub fn new(net: &Network, h2_capable: bool) -> Self {
        let h2 = (net.http == Http::V2 && h2_capable).then(|| {
            Blocks::new(
                net.request_header_bytes,
                net.response_header_bytes,
                net.http2_stack,
            )
        });
        Framing {
            h2,
            request_head: net.request_header_bytes,
            stack: net.http2_stack,
            tunnel: false,
        }
    }

    /// The same, for a technique that tunnels over HTTP/2 when `tunnel` (and
    /// `[network] http = "2"`): its messages are sized by the technique, the connection's
    /// preface here.
    pub fn with_tunnel(mut self, tunnel: bool) -> Self {
        self.tunnel = tunnel;
        self
    }

    /// The connection speaks HTTP/2, framed here or by a tunnel.
    pub fn speaks_h2(&self) -> bool {
        self.h2.is_some() || self.tunnel
    }

    /// The technique frames its own messages in HTTP/2 streams (RFC 8441).
    pub fn tunnels(&self) -> bool {
        self.tunnel && self.h2.is_none()
    }

    /// HTTP/2 is spoken.
    pub fn is_h2(&self) -> bool {
        self.h2.is_some()
    }

    /// A request of `h1` bytes under HTTP/1.1, `body` of them body; `warm`: a request
    /// went up on the same connection before.
    #[inline]
    pub fn request(&self, h1: u64, body: u64, warm: bool) -> u64 {
        match &self.h2 {
            None => h1,
            Some(blocks) => {
                let extra = h1.saturating_sub(body + self.request_head);
                h2::headers_frames(blocks.request(warm) + h2::extra_field_bytes(extra))
                    + h2::data_frames(body)
            }
        }
    }

    /// An answer of `h1` bytes under HTTP/1.1, `body` of them body (a 204 when
    /// `no_content`); `warm`: an answer came down on the same connection before.
    #[inline]
    pub fn answer(&self, h1: u64, body: u64, no_content: bool, warm: bool) -> u64 {
        match &self.h2 {
            None => h1,
            Some(blocks) => {
                h2::headers_frames(blocks.response(warm, no_content)) + h2::data_frames(body)
            }
        }
    }

    /// Stream text (SSE events or fields) of `text` bytes written at once: one HTTP/1.1
    /// chunk, or HTTP/2 DATA frames. Nothing costs nothing.
    #[inline]
    pub fn stream_chunk(&self, text: u64) -> u64 {
        match &self.h2 {
            None => sse_chunk_bytes(text),
            Some(_) => h2::data_frames(text),
        }
    }

    /// What opening a connection sends besides TCP and TLS: HTTP/2's preface and
    /// SETTINGS (with RFC 8441's parameter for a tunnel), (up, down); nothing under
    /// HTTP/1.1.
    pub fn connection_preface(&self) -> (u64, u64) {
        if self.speaks_h2() {
            // RFC 8441 §3: a client opens a socket with the extended CONNECT only after
            // the server's SETTINGS carried SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
            let connect_protocol = if self.tunnels() {
                super::rfc8441::ENABLE_CONNECT_PROTOCOL_SETTING
            } else {
                0
            };
            (
                h2::client_preface_bytes(self.stack),
                h2::server_preface_bytes(self.stack) + connect_protocol,
            )
        } else {
            (0, 0)
        }
    }

    /// The version's name as a trace writes it.
    pub fn version(&self) -> &'static str {
        if self.speaks_h2() {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn reference() -> Scenario {
        Scenario::reference()
    }

    #[test]
    fn http_1_1_is_the_byte_counts_as_given() {
        let sc = reference();
        let f = Framing::new(&sc.network, true);
        assert!(!f.is_h2());
        assert_eq!(f.request(719, 0, true), 719);
        assert_eq!(f.answer(173, 2, false, false), 173);
        assert_eq!(f.stream_chunk(3), 8);
        assert_eq!(f.connection_preface(), (0, 0));
    }

    #[test]
    fn http_2_frames_heads_and_bodies() {
        let mut sc = reference();
        sc.network.http = Http::V2;
        let b = Blocks::new(700, 171, Http2Stack::ChromiumNginx);
        let f = Framing::new(&sc.network, true);
        assert_eq!(f.request(700, 0, false), 9 + b.request_cold);
        assert_eq!(f.request(700, 0, true), 9 + b.request_warm);
        // A Last-Event-ID line (19 B in HTTP/1.1) as a literal: 18 B.
        assert_eq!(f.request(719, 0, false), 9 + b.request_cold + 18);
        // A chat POST: its body in a DATA frame.
        assert_eq!(f.request(900, 200, true), 9 + b.request_warm + 9 + 200);
        assert_eq!(f.answer(173, 2, false, true), 9 + b.response_warm + 9 + 2);
        assert_eq!(f.answer(160, 0, true, true), 9 + b.no_content_warm);
        assert_eq!(f.stream_chunk(3), 12);
        assert_eq!(f.stream_chunk(0), 0);
        assert_eq!(f.connection_preface(), (79, 49));
        // A technique that cannot use HTTP/2 keeps HTTP/1.1.
        assert!(!Framing::new(&sc.network, false).is_h2());
        // An RFC 8441 tunnel frames its own messages; the server's SETTINGS carry one
        // more parameter (SETTINGS_ENABLE_CONNECT_PROTOCOL): 49 + 6.
        let t = Framing::new(&sc.network, false).with_tunnel(true);
        assert!(t.tunnels() && t.speaks_h2() && !t.is_h2());
        assert_eq!(t.request(230, 0, false), 230);
        assert_eq!(t.connection_preface(), (79, 55));
        assert!(!f.tunnels());
    }
}
