//! Bytes on the wire: the size of every protocol element the simulation counts.
//!
//! Bytes are counted at the application and TLS level (HTTP headers, bodies, SSE and
//! WebSocket framing, TLS records around every application write, TCP/TLS handshakes);
//! per-segment TCP/IP headers and ACKs of data segments are not modelled. These are pure
//! functions of the protocol specifications, at the bottom of the crate: the world, the
//! techniques and the theory all read them. Sources: `docs/wire.md`.
//!
//! HTTP/2 lives in submodules: `hpack` (header compression, RFC 7541), `h2` (frames and
//! the modelled header sets, RFC 9113), and `framing`, which turns a message into bytes
//! under either version.

pub mod framing;
pub mod h2;
pub mod hpack;
pub mod rfc8441;

pub use framing::Framing;

use crate::scenario::Tls;

/// The most plaintext one TLS record carries: 2^14 bytes (RFC 8446 §5.1, RFC 5246
/// §6.2.1). A larger write is split into several records, each with its own overhead.
pub const TLS_MAX_RECORD_PLAINTEXT: u64 = 1 << 14;

/// Bytes a TLS record adds to the application data it carries.
///
/// - TLS 1.3 (RFC 8446 §5.2): a 5-byte record header, the 1-byte inner content type
///   appended to the plaintext (`TLSInnerPlaintext`, no padding), and the AEAD tag:
///   16 bytes for every TLS 1.3 cipher suite but `TLS_AES_128_CCM_8_SHA256`
///   (RFC 8446 §5.4 bounds the expansion; the 16-byte tags are RFC 5116's). 5 + 1 + 16 = 22.
/// - TLS 1.2 with AES-GCM (RFC 5246 §6.2.3.3, RFC 5288 §3): the 5-byte header, an 8-byte
///   explicit nonce and the 16-byte tag. 5 + 8 + 16 = 29. (CBC suites, with their IV,
///   MAC and padding, cost more; they are not modelled.)
/// - No TLS: nothing.
pub fn tls_record_overhead(tls: Tls) -> u64 {
    match tls {
        Tls::None => 0,
        Tls::V1_2 => 5 + 8 + 16,
        Tls::V1_3 => 5 + 1 + 16,
    }
}

/// TLS records one application write of `len` bytes takes: ⌈len / 2^14⌉ (a write of
/// nothing sends nothing).
pub fn tls_records(len: u64) -> u64 {
    len.div_ceil(TLS_MAX_RECORD_PLAINTEXT)
}

/// Bytes on the wire of one application write of `plain` bytes (a request, a response,
/// a stream chunk, a frame) under `tls`: the plaintext plus every record's overhead.
pub fn tls_write_bytes(tls: Tls, plain: u64) -> u64 {
    plain + tls_records(plain) * tls_record_overhead(tls)
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

/// The text of one SSE event with an id: `id: <n>\n` + `data: <payload>\n\n` (WHATWG
/// HTML §9.2 event-stream grammar), before chunked framing.
pub fn sse_event_text(id: u64, payload: u64) -> u64 {
    4 + decimal_digits(id) + 1 + 6 + payload + 2
}

/// One SSE event with an id, sent as its own chunk. Returns the bytes on the wire.
pub fn sse_event_bytes(id: u64, payload: u64) -> u64 {
    sse_chunk_bytes(sse_event_text(id, payload))
}

/// Events (or fields) of `text` bytes written together, as one chunk: what a server
/// writes for a replay or a burst of events that were waiting. Nothing costs nothing.
pub fn sse_chunk_bytes(text: u64) -> u64 {
    if text == 0 {
        0
    } else {
        text + chunk_overhead(text)
    }
}

/// The `retry: <ms>\n\n` field a server sends to set EventSource's reconnection delay
/// (WHATWG HTML §9.2.6: the field takes effect when its line is parsed).
pub fn sse_retry_field_text(retry_ms: u64) -> u64 {
    7 + decimal_digits(retry_ms) + 2
}

/// The text of an SSE comment heartbeat: `:\n\n`.
pub const SSE_HEARTBEAT_TEXT: u64 = 3;

/// An SSE comment heartbeat `:\n\n` in its own chunk.
pub fn sse_heartbeat_bytes() -> u64 {
    sse_chunk_bytes(SSE_HEARTBEAT_TEXT)
}

/// The `Last-Event-ID: <n>\r\n` header a reconnecting EventSource adds.
pub fn last_event_id_header_bytes(id: u64) -> u64 {
    15 + decimal_digits(id) + 2
}

/// A `204 No Content` head, from a `200 OK` head of `ok_head` bytes carrying
/// `Content-Length: 0`: the status text grows from `OK` to `No Content` (+8) and the
/// `Content-Length: 0\r\n` line (19) goes, since a server must not send one with a
/// 204 (RFC 9110 §8.6, §15.3.5).
pub fn no_content_head_bytes(ok_head: u64) -> u64 {
    (ok_head + 8).saturating_sub(19)
}

/// The body nginx writes with its own 503 answer (`server_tokens off`): the page and
/// tail of `ngx_http_special_response.c` (nginx/nginx, `src/http/`).
pub const NGINX_503_BODY: &str = "<html>\r\n\
<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
<body>\r\n\
<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n\
<hr><center>nginx</center>\r\n\
</body>\r\n\
</html>\r\n";

/// The body nginx writes with a 504 when the upstream does not answer in time.
pub const NGINX_504_BODY: &str = "<html>\r\n\
<head><title>504 Gateway Time-out</title></head>\r\n\
<body>\r\n\
<center><h1>504 Gateway Time-out</h1></center>\r\n\
<hr><center>nginx</center>\r\n\
</body>\r\n\
</html>\r\n";

/// Bytes of an error answer: a head of `head` bytes and `body`.
pub fn error_answer_bytes(head: u64, body: &str) -> u64 {
    head + body.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_record_overhead_follows_the_rfcs() {
        // RFC 8446 §5.2: 5 header + 1 content type + 16 tag.
        assert_eq!(tls_record_overhead(Tls::V1_3), 22);
        // RFC 5246 §6.2.3.3 with RFC 5288 AES-GCM: 5 header + 8 explicit nonce + 16 tag.
        assert_eq!(tls_record_overhead(Tls::V1_2), 29);
        assert_eq!(tls_record_overhead(Tls::None), 0);
        assert_eq!(TLS_MAX_RECORD_PLAINTEXT, 16_384);
    }

    #[test]
    fn large_writes_split_into_records_of_at_most_16_kib() {
        assert_eq!(tls_records(0), 0);
        assert_eq!(tls_records(1), 1);
        assert_eq!(tls_records(16_384), 1);
        assert_eq!(tls_records(16_385), 2);
        assert_eq!(tls_records(1 << 20), 64);
        assert_eq!(tls_write_bytes(Tls::V1_3, 0), 0);
        assert_eq!(tls_write_bytes(Tls::V1_3, 700), 722);
        assert_eq!(tls_write_bytes(Tls::V1_2, 700), 729);
        assert_eq!(tls_write_bytes(Tls::V1_3, 16_385), 16_385 + 44);
        assert_eq!(tls_write_bytes(Tls::None, 16_385), 16_385);
        // An empty client ping (6 B) becomes a 28-byte record: the "several hundred
        // percent" the TLS overhead adds to heartbeats.
        assert_eq!(tls_write_bytes(Tls::V1_3, 6), 28);
    }

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
    fn sse_events_written_together_share_one_chunk() {
        let three = sse_event_text(7, 200) + sse_event_text(8, 200) + sse_event_text(9, 200);
        assert_eq!(three, 3 * 214);
        // 642 = 0x282: "282\r\n" + … + "\r\n" = 7 bytes of framing, once.
        assert_eq!(sse_chunk_bytes(three), 642 + 7);
        assert!(sse_chunk_bytes(three) < 3 * sse_event_bytes(8, 200));
        assert_eq!(sse_chunk_bytes(0), 0);
        // "retry: 5000\n\n" = 13.
        assert_eq!(sse_retry_field_text(5000), 13);
    }

    #[test]
    fn empty_and_error_answers() {
        assert_eq!(no_content_head_bytes(171), 160);
        assert_eq!(no_content_head_bytes(5), 0);
        assert_eq!(NGINX_503_BODY.len(), 190);
        assert_eq!(NGINX_504_BODY.len(), 160);
        assert_eq!(error_answer_bytes(171, NGINX_504_BODY), 331);
    }
}
