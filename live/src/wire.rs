//! The reference server's bytes: update bodies of exactly `payload` bytes, and request and
//! response heads padded to exactly the experiment's `request_header_bytes` and
//! `response_header_bytes`.
//!
//! Head sizes are inputs of the model, not something it predicts: padding the real heads
//! to the configured sizes (an `x-pad` header) makes the real run carry the heads the
//! simulation assumes, so that what the validation compares is everything else — how many
//! messages each technique sends, when, and the framing the model derives from the
//! specifications (chunked encoding, SSE events, WebSocket frames). A head that cannot be
//! made that small is refused ([`HeadTooSmall`]).
//!
//! hyper writes a head as the start line, each header as `name: value\r\n` (lower-case
//! names, in insertion order) and a blank line; the server turns off its `date` header,
//! and adds `transfer-encoding: chunked` to a stream. `tests/live.rs` checks these sums
//! against the bytes the relay counts.

use rtsim::engine::Nanos;

/// The padding header's name; its value is as many `x` as the head needs.
pub const PAD: &str = "x-pad";
/// `x-pad: ` + `\r\n`.
const PAD_OVERHEAD: u64 = 9;
/// Every request names a host.
pub const HOST: &str = "rtsim";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{key} = {configured} B is smaller than the reference server's smallest {what} head \
     ({minimum} B); set it to at least {minimum} B"
)]
pub struct HeadTooSmall {
    pub key: &'static str,
    pub what: &'static str,
    pub configured: u64,
    pub minimum: u64,
}

fn header_len(name: &str, value_len: u64) -> u64 {
    name.len() as u64 + 2 + value_len + 2
}

/// The `x-pad` value that brings a head of `natural` bytes (padding header included, its
/// value empty) to `configured`.
fn pad_to(
    natural: u64,
    configured: u64,
    key: &'static str,
    what: &'static str,
) -> Result<String, HeadTooSmall> {
    if natural > configured {
        return Err(HeadTooSmall {
            key,
            what,
            configured,
            minimum: natural,
        });
    }
    Ok("x".repeat((configured - natural) as usize))
}

/// A `GET path` request head: request line, `host`, `x-pad` (+ `extra` header bytes, e.g.
/// `accept: text/event-stream`).
pub fn request_pad(path: &str, extra: u64, configured: u64) -> Result<String, HeadTooSmall> {
    let natural = "GET ".len() as u64
        + path.len() as u64
        + " HTTP/1.1\r\n".len() as u64
        + header_len("host", HOST.len() as u64)
        + extra
        + PAD_OVERHEAD
        + 2;
    pad_to(
        natural,
        configured,
        "network.request_header_bytes",
        "request",
    )
}

/// The bytes of one `name: value` header line.
pub fn header_bytes(name: &str, value: &str) -> u64 {
    header_len(name, value.len() as u64)
}

/// A `200 OK` answer to a poll: `content-length`, `x-pad`.
pub fn poll_response_pad(body_len: u64, configured: u64) -> Result<String, HeadTooSmall> {
    let natural = "HTTP/1.1 200 OK\r\n".len() as u64
        + header_len("content-length", body_len.to_string().len() as u64)
        + PAD_OVERHEAD
        + 2;
    pad_to(
        natural,
        configured,
        "network.response_header_bytes",
        "poll response",
    )
}

/// The `200 OK` head that opens an event stream: `content-type: text/event-stream`,
/// `cache-control: no-cache`, `x-pad`, and hyper's `transfer-encoding: chunked`.
pub fn stream_response_pad(configured: u64) -> Result<String, HeadTooSmall> {
    let natural = "HTTP/1.1 200 OK\r\n".len() as u64
        + header_bytes("content-type", "text/event-stream")
        + header_bytes("cache-control", "no-cache")
        + PAD_OVERHEAD
        + header_bytes("transfer-encoding", "chunked")
        + 2;
    pad_to(
        natural,
        configured,
        "network.response_header_bytes",
        "event-stream",
    )
}

/// One update's body, exactly `payload` bytes: `{"seq":…,"born_ns":…,"p":"xx…"}`. The
/// plan refuses payloads below `plan::MIN_PAYLOAD`, which fits any position and birth time
/// a bounded run can produce.
pub fn update_body(seq: u64, born: Nanos, payload: u64) -> Vec<u8> {
    let head = format!("{{\"seq\":{seq},\"born_ns\":{born},\"p\":\"");
    let fill = (payload as usize).saturating_sub(head.len() + 2);
    let mut body = Vec::with_capacity(payload as usize);
    body.extend_from_slice(head.as_bytes());
    body.resize(body.len() + fill, b'x');
    body.extend_from_slice(b"\"}");
    debug_assert_eq!(body.len() as u64, payload, "payload below MIN_PAYLOAD");
    body
}

/// The birth time written in an update's body.
pub fn born_of(body: &[u8]) -> Option<Nanos> {
    let key = b"\"born_ns\":";
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&body[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// One SSE event `id: <seq>\ndata: <body>\n\n` (WHATWG HTML §9.2), sent as its own chunk.
pub fn sse_event(seq: u64, body: &[u8]) -> Vec<u8> {
    let mut event = format!("id: {seq}\ndata: ").into_bytes();
    event.extend_from_slice(body);
    event.extend_from_slice(b"\n\n");
    event
}

/// The SSE comment heartbeat.
pub const SSE_HEARTBEAT: &[u8] = b":\n\n";

/// The body of a poll's answer with nothing new, exactly `bytes` long as the model counts
/// it (`[server] empty_body`): nothing for 0, else an empty JSON array `[]` padded with
/// spaces inside. The plan refuses 1 B (no JSON fits).
pub fn empty_answer_body(bytes: u64) -> Vec<u8> {
    if bytes == 0 {
        return Vec::new();
    }
    let mut body = vec![b' '; bytes.max(2) as usize];
    body[0] = b'[';
    *body.last_mut().expect("at least 2 B") = b']';
    body
}

/// Is `body` an answer with nothing new ([`empty_answer_body`])? Update bodies are JSON
/// objects, never arrays.
pub fn is_empty_answer(body: &[u8]) -> bool {
    body.is_empty()
        || (body.first() == Some(&b'[')
            && body.last() == Some(&b']')
            && body[1..body.len() - 1].iter().all(|&b| b == b' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_bodies_are_exactly_the_payload_and_carry_their_birth() {
        for payload in [48, 143, 200, 1000] {
            let body = update_body(123_456, 599_999_999_999, payload);
            assert_eq!(body.len() as u64, payload);
            assert_eq!(born_of(&body), Some(599_999_999_999));
            assert!(!body.contains(&b'\n'));
        }
    }

    #[test]
    fn empty_answers_are_the_models_size_and_read_as_no_update() {
        assert_eq!(empty_answer_body(0), b"");
        assert_eq!(empty_answer_body(2), b"[]");
        assert_eq!(empty_answer_body(5), b"[   ]");
        for bytes in [0, 2, 5, 64] {
            let body = empty_answer_body(bytes);
            assert_eq!(body.len() as u64, bytes);
            assert!(is_empty_answer(&body));
        }
        assert!(!is_empty_answer(&update_body(1, 2, 48)));
        assert!(!is_empty_answer(b"[1]"));
    }

    #[test]
    fn heads_pad_to_the_configured_size_or_say_the_minimum() {
        let pad = request_pad("/poll/7?since=12", 0, 149).unwrap();
        // "GET /poll/7?since=12 HTTP/1.1\r\n" (31) + "host: rtsim\r\n" (13) + 9 + 2 = 55.
        assert_eq!(pad.len(), 149 - 55);
        let err = request_pad("/poll/7?since=12", 0, 50).unwrap_err();
        assert_eq!(err.minimum, 55);
        assert!(err.to_string().contains("at least 55 B"), "{err}");
    }
}
