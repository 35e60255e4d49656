//! Bytes on the wire: the size of every protocol element the simulation counts.
//!
//! Bytes are counted at the application and TLS level (HTTP headers, bodies, SSE and
//! WebSocket framing, TCP/TLS handshakes); per-segment TCP/IP headers and ACKs of data
//! segments are not modelled. These are pure functions of the protocol specifications,
//! at the bottom of the crate: the world, the techniques and the theory all read them.

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
}
