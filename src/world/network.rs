//! The network: per-client round-trip times and the byte sizes of everything on the wire.
//!
//! There is no bandwidth limit: a message takes exactly half its client's RTT to cross.
//! Bytes are counted at the application and TLS level (HTTP headers, bodies, SSE and
//! WebSocket framing, TCP/TLS handshakes); per-segment TCP/IP headers and ACKs of data
//! segments are not modelled.

use crate::engine::{Nanos, RandomStream};
use crate::scenario::Rtt;

/// Draws one client's round-trip time. Log-normal draws outside [min, max] are redrawn
/// (truncation), so the distribution keeps its shape inside the bounds.
pub fn draw_rtt(model: &Rtt, rng: &mut RandomStream) -> Nanos {
    match *model {
        Rtt::Constant(rtt) => rtt,
        Rtt::LogNormal {
            median,
            sigma,
            min,
            max,
        } => {
            let lo = min.unwrap_or(0);
            let hi = max.unwrap_or(Nanos::MAX);
            for _ in 0..1000 {
                let x = rng.lognormal(median as f64, sigma).round() as Nanos;
                if (lo..=hi).contains(&x) {
                    return x.max(2);
                }
            }
            // Bounds that almost never hold (validated against, but be safe): clamp.
            median.clamp(lo, hi).max(2)
        }
    }
}

/// RFC 6455 §5.2 frame header: 2 bytes, +2 for 126–65,535 B of payload, +8 above that,
/// +4 for the masking key on client→server frames.
pub fn ws_frame_header(payload: u64, masked: bool) -> u64 {
    let base = if payload <= 125 {
        2
    } else if payload <= 65_535 {
        4
    } else {
        10
    };
    base + if masked { 4 } else { 0 }
}

/// Decimal digits of `n` (for SSE `id:` lines).
fn decimal_digits(n: u64) -> u64 {
    n.checked_ilog10().map_or(1, |d| d as u64 + 1)
}

/// HTTP/1.1 chunked-encoding overhead for one chunk of `len` bytes:
/// hex length + CRLF before, CRLF after (RFC 9112 §7.1).
pub fn chunk_overhead(len: u64) -> u64 {
    let hex = if len == 0 {
        1
    } else {
        len.ilog2() as u64 / 4 + 1
    };
    hex + 4
}

/// One SSE event with an id, sent as its own chunk: `id: <n>\n` + `data: <payload>\n\n`
/// (WHATWG HTML §9.2 event-stream grammar). Returns the bytes on the wire.
pub fn sse_event_bytes(id: u64, payload: u64) -> u64 {
    let event = 4 + decimal_digits(id) + 1 + 6 + payload + 2;
    event + chunk_overhead(event)
}

/// An SSE comment heartbeat `:\n\n` in its own chunk.
pub fn sse_heartbeat_bytes() -> u64 {
    3 + chunk_overhead(3)
}

/// The `Last-Event-ID: <n>\r\n` header a reconnecting EventSource adds.
pub fn last_event_id_header_bytes(id: u64) -> u64 {
    15 + decimal_digits(id) + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Purpose;

    #[test]
    fn websocket_frame_headers_follow_rfc_6455() {
        assert_eq!(ws_frame_header(0, false), 2);
        assert_eq!(ws_frame_header(125, false), 2);
        assert_eq!(ws_frame_header(126, false), 4);
        assert_eq!(ws_frame_header(65_535, false), 4);
        assert_eq!(ws_frame_header(65_536, false), 10);
        assert_eq!(ws_frame_header(0, true), 6); // empty client ping
        assert_eq!(ws_frame_header(200, true), 8);
        assert_eq!(ws_frame_header(100_000, true), 14);
    }

    #[test]
    fn sse_event_sizes() {
        // "id: 7\n" (6) + "data: " (6) + 200 + "\n\n" (2) = 214 = 0xd6 → "d6\r\n" + "\r\n".
        assert_eq!(sse_event_bytes(7, 200), 214 + 6);
        // ":\n\n" = 3 → "3\r\n" … "\r\n" = 5.
        assert_eq!(sse_heartbeat_bytes(), 8);
        assert_eq!(chunk_overhead(15), 5);
        assert_eq!(chunk_overhead(16), 6);
        assert_eq!(last_event_id_header_bytes(42), 19);
    }

    #[test]
    fn rtt_truncation_holds() {
        let model = Rtt::LogNormal {
            median: 80_000_000,
            sigma: 1.0,
            min: Some(40_000_000),
            max: Some(100_000_000),
        };
        let mut rng = RandomStream::new(1, 0, 0, Purpose::Rtt);
        for _ in 0..10_000 {
            let r = draw_rtt(&model, &mut rng);
            assert!((40_000_000..=100_000_000).contains(&r));
        }
    }
}
