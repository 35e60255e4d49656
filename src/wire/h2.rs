//! HTTP/2 (RFC 9113) as sizes: frames, the connection preface, and the header blocks of
//! the modelled requests and answers under HPACK ([`super::hpack`]).
//!
//! rtsim's heads are configured as HTTP/1.1 byte counts (`request_header_bytes`,
//! `response_header_bytes`). Under HTTP/2 the same heads are the *modelled header sets*
//! below — a browser's `fetch` of `/messages?since=…` and a JSON answer — with a filler
//! field (`cookie` up, `server` down) that makes their HTTP/1.1 text exactly the
//! configured size. Their HPACK blocks are computed once per scenario by running the
//! encoder: on a fresh connection (the first request pays every field as a literal) and
//! again on the same connection (every field already in the dynamic table is one byte).
//! What is modelled, field by field, is in `docs/wire.md` (*HTTP/2*).

use super::hpack::{DEFAULT_TABLE_SIZE, Encoder, Indexing};
use crate::scenario::Http2Stack;

/// Every frame's header: length (24 bits), type, flags, stream id (RFC 9113 §4.1).
pub const FRAME_HEADER: u64 = 9;

/// The largest frame payload before a peer raises `SETTINGS_MAX_FRAME_SIZE` (§4.2,
/// §6.5.2): 2^14. A larger body or header block takes several frames.
pub const MAX_FRAME_PAYLOAD: u64 = 1 << 14;

/// The client connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (§3.4).
pub const CLIENT_MAGIC: u64 = 24;

/// A SETTINGS frame with `n` parameters, 6 bytes each (§6.5.1); `n = 0` is an ACK.
pub fn settings_frame(n: u64) -> u64 {
    FRAME_HEADER + 6 * n
}

/// A WINDOW_UPDATE frame (§6.9): a 4-byte increment.
pub const WINDOW_UPDATE_FRAME: u64 = FRAME_HEADER + 4;

/// What the client sends when a connection opens, before or with its first request:
/// the magic, a SETTINGS frame of four parameters, a connection WINDOW_UPDATE, and the
/// ACK of the server's SETTINGS. 24 + 33 + 13 + 9 = 79 for both stacks: Chromium's four
/// are HEADER_TABLE_SIZE, ENABLE_PUSH, INITIAL_WINDOW_SIZE, MAX_HEADER_LIST_SIZE; hyper's
/// client (1.x, `proto/h2/client.rs`) sends ENABLE_PUSH, INITIAL_WINDOW_SIZE,
/// MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE.
pub fn client_preface_bytes(_stack: Http2Stack) -> u64 {
    CLIENT_MAGIC + settings_frame(4) + WINDOW_UPDATE_FRAME + settings_frame(0)
}

/// What the server sends when a connection opens: SETTINGS, a connection WINDOW_UPDATE,
/// and the ACK of the client's SETTINGS. nginx's three parameters
/// (MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE): 27 + 13 + 9 = 49;
/// hyper's server (1.x, `proto/h2/server.rs`) four (those three and
/// MAX_HEADER_LIST_SIZE): 33 + 13 + 9 = 55.
pub fn server_preface_bytes(stack: Http2Stack) -> u64 {
    let parameters = match stack {
        Http2Stack::ChromiumNginx => 3,
        Http2Stack::Hyper => 4,
    };
    settings_frame(parameters) + WINDOW_UPDATE_FRAME + settings_frame(0)
}

/// A header block of `block` bytes as frames: one HEADERS frame, and CONTINUATION frames
/// for what exceeds the frame size (§6.2, §6.10).
pub fn headers_frames(block: u64) -> u64 {
    block + FRAME_HEADER * block.div_ceil(MAX_FRAME_PAYLOAD).max(1)
}

/// A body of `len` bytes as DATA frames (§6.1); nothing for no body (END_STREAM then
/// rides on the HEADERS frame).
pub fn data_frames(len: u64) -> u64 {
    len + FRAME_HEADER * len.div_ceil(MAX_FRAME_PAYLOAD)
}

/// The origin and the poll the modelled request asks for (a representative cursor).
pub const AUTHORITY: &str = "app.example.com";
pub const POLL_PATH: &str = "/messages?since=1234";

/// The browser's `User-Agent` (Chromium 131 on Linux), in polls and WebSocket handshakes.
pub(super) const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
                                     Gecko) Chrome/131.0.0.0 Safari/537.36";

/// The fields a browser's same-origin `fetch` sends besides the pseudo-headers, in
/// Chromium's order (lower-case, as HTTP/2 sends them; HTTP/1.1's capitals cost the same
/// bytes). A head smaller than all of them keeps the first that fit.
const REQUEST_FIELDS: [(&str, &str); 11] = [
    (
        "sec-ch-ua",
        "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"",
    ),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("user-agent", USER_AGENT),
    ("accept", "*/*"),
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-dest", "empty"),
    ("referer", "https://app.example.com/"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-US,en;q=0.9"),
];

/// The fields of a JSON answer besides `:status`; `content-length` and `date` change from
/// answer to answer, so the modelled server sends them without indexing.
const RESPONSE_FIELDS: [(&str, &str, Indexing); 3] = [
    (
        "content-type",
        "application/json; charset=utf-8",
        Indexing::Incremental,
    ),
    ("content-length", "2", Indexing::Without),
    ("date", DATE, Indexing::Without),
];

/// A representative `date` (RFC 9110 §5.6.7's IMF-fixdate), and the one of an answer a
/// second later: the value changes from answer to answer, at the same length and
/// Huffman size.
const DATE: &str = "Sat, 05 Dec 2026 20:47:28 GMT";
const NEXT_DATE: &str = "Sat, 05 Dec 2026 20:47:29 GMT";

/// What `stack`'s encoder does with a literal field the modelled policy would send with
/// `modelled` indexing.
///
/// - `chromium-nginx`: the modelled policy (Chromium's up: everything but `:path`;
///   down: everything but `content-length` and `date`).
/// - `hyper`: the `h2` crate's (0.4, `hpack/table.rs` `Table::index` and
///   `hpack/header.rs` `skip_value_index`, a rule it says it borrows from nghttp2): never
///   index `:path`, `age`, `authorization`, `content-length`, `etag`,
///   `if-modified-since`, `if-none-match`, `location`, `cookie`, `set-cookie`, nor a field
///   whose table entry would exceed 3/4 of the table; index every other field (`date`
///   included, whatever its value does).
pub(super) fn indexing(stack: Http2Stack, name: &str, value: &str, modelled: Indexing) -> Indexing {
    match stack {
        Http2Stack::ChromiumNginx => modelled,
        Http2Stack::Hyper => {
            const NEVER: [&str; 10] = [
                ":path",
                "age",
                "authorization",
                "content-length",
                "etag",
                "if-modified-since",
                "if-none-match",
                "location",
                "cookie",
                "set-cookie",
            ];
            let entry = name.len() as u64 + value.len() as u64 + 32;
            if NEVER.contains(&name) || entry * 4 > DEFAULT_TABLE_SIZE * 3 {
                Indexing::Without
            } else {
                Indexing::Incremental
            }
        }
    }
}

/// `fields` with the indexing `stack` gives them.
fn under(
    stack: Http2Stack,
    fields: Vec<(&'static str, String, Indexing)>,
) -> Vec<(&'static str, String, Indexing)> {
    fields
        .into_iter()
        .map(|(n, v, i)| {
            let i = indexing(stack, n, &v, i);
            (n, v, i)
        })
        .collect()
}

/// The characters a filler value repeats: a session cookie's or a server banner's
/// alphabet (its Huffman codes average about 6.3 bits).
const FILLER: &str = "Zm9vYmFyLXNlc3Npb24tdG9rZW4tMDEyMzQ1Njc4OQ_abcdefghijklmnopqrstuvwxyz-";

/// One header line of HTTP/1.1 text: `Name: value\r\n`.
pub(super) fn line(name: &str, value: &str) -> u64 {
    name.len() as u64 + 2 + value.len() as u64 + 2
}

/// A filler value of `len` characters.
pub(super) fn filler(len: u64) -> String {
    FILLER.chars().cycle().take(len as usize).collect()
}

/// The fields that make an HTTP/1.1 head of `head` bytes, beyond `fixed` bytes already
/// taken: the first of `fields` that fit, then a `filler_name` field with what is left
/// (when at least one character is). Exact for any head at least `fixed` + a filler line
/// of one character; a smaller one keeps only what fits.
fn fill<'a>(
    head: u64,
    fixed: u64,
    fields: &[(&'a str, &'a str, Indexing)],
    filler_name: &'a str,
) -> (Vec<(&'a str, String, Indexing)>, u64) {
    let mut used = fixed;
    let mut out = vec![];
    for &(name, value, indexing) in fields {
        if used + line(name, value) > head {
            break;
        }
        used += line(name, value);
        out.push((name, value.to_string(), indexing));
    }
    let empty_filler = line(filler_name, "");
    // Too little left for a filler line: give up the last field, so the filler (longer
    // by that field) makes the size exact.
    if head > used && head <= used + empty_filler {
        if let Some((name, value, _)) = out.pop() {
            used -= line(name, &value);
        }
    }
    if head > used + empty_filler {
        let len = head - used - empty_filler;
        out.push((filler_name, filler(len), Indexing::Incremental));
        used = head;
    }
    (out, used)
}

/// The modelled request's fields for an HTTP/1.1 head of `head` bytes:
/// `GET <path> HTTP/1.1\r\n`, `Host:`, `Connection: keep-alive` (HTTP/1.1 only, RFC 9113
/// §8.2.2 forbids it in HTTP/2), the browser's fields, a `cookie` filler, the blank line.
pub fn request_fields(head: u64) -> Vec<(&'static str, String, Indexing)> {
    // The request line, Host, Connection, the blank line.
    let fixed = 4 + POLL_PATH.len() as u64 + 11 + line("host", AUTHORITY) + 24 + 2;
    // Chromium's pseudo-header order: method, authority, scheme, path. Only
    // `:authority` is indexed: `:path` changes with every poll.
    let mut fields = vec![
        (":method", "GET".to_string(), Indexing::Incremental),
        (":authority", AUTHORITY.to_string(), Indexing::Incremental),
        (":scheme", "https".to_string(), Indexing::Incremental),
        (":path", POLL_PATH.to_string(), Indexing::Without),
    ];
    let browser: Vec<_> = REQUEST_FIELDS
        .iter()
        .map(|&(n, v)| (n, v, Indexing::Incremental))
        .collect();
    fields.extend(fill(head, fixed, &browser, "cookie").0);
    fields
}

/// The modelled answer's fields for an HTTP/1.1 head of `head` bytes: `HTTP/1.1 200
/// OK\r\n`, `Content-Type`, `Content-Length`, `Date`, a `server` filler, the blank line.
/// `no_content`: a 204, without `content-length`.
pub fn response_fields(head: u64, no_content: bool) -> Vec<(&'static str, String, Indexing)> {
    let fixed = 17 + 2;
    let status = if no_content { "204" } else { "200" };
    let mut fields = vec![(":status", status.to_string(), Indexing::Incremental)];
    let (filled, _) = fill(head, fixed, &RESPONSE_FIELDS, "server");
    fields.extend(
        filled
            .into_iter()
            .filter(|(name, _, _)| !(no_content && *name == "content-length")),
    );
    fields
}

fn encode(e: &mut Encoder, fields: &[(&str, String, Indexing)]) -> u64 {
    fields.iter().map(|(n, v, i)| e.field(n, v, *i)).sum()
}

/// The HPACK block sizes of the modelled heads: on a new connection (`cold`) and on one
/// that has carried the same head before (`warm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocks {
    pub request_cold: u64,
    pub request_warm: u64,
    pub response_cold: u64,
    pub response_warm: u64,
    pub no_content_cold: u64,
    pub no_content_warm: u64,
}

impl Blocks {
    /// The blocks for HTTP/1.1 heads of `request_head` and `response_head` bytes, with
    /// the default dynamic table (4,096 B each way) and Huffman coding, indexed as
    /// `stack` indexes. A warm answer carries the next second's `date`.
    pub fn new(request_head: u64, response_head: u64, stack: Http2Stack) -> Self {
        let request = under(stack, request_fields(request_head));
        let mut up = Encoder::new(DEFAULT_TABLE_SIZE, true);
        let request_cold = encode(&mut up, &request);
        let request_warm = encode(&mut up, &request);
        let ok = under(stack, response_fields(response_head, false));
        let none = under(stack, response_fields(response_head, true));
        let later = |fields: &[(&'static str, String, Indexing)]| -> Vec<_> {
            fields
                .iter()
                .map(|(n, v, i)| match *n {
                    "date" => (*n, NEXT_DATE.to_string(), *i),
                    _ => (*n, v.clone(), *i),
                })
                .collect()
        };
        let mut down = Encoder::new(DEFAULT_TABLE_SIZE, true);
        let no_content_cold = encode(&mut down.clone(), &none);
        let response_cold = encode(&mut down, &ok);
        let response_warm = encode(&mut down, &later(&ok));
        let no_content_warm = encode(&mut down, &later(&none));
        Blocks {
            request_cold,
            request_warm,
            response_cold,
            response_warm,
            no_content_cold,
            no_content_warm,
        }
    }

    /// The request block: cold or warm.
    pub fn request(&self, warm: bool) -> u64 {
        if warm {
            self.request_warm
        } else {
            self.request_cold
        }
    }

    /// The answer block: cold or warm, a 200 or a 204.
    pub fn response(&self, warm: bool, no_content: bool) -> u64 {
        match (warm, no_content) {
            (false, false) => self.response_cold,
            (true, false) => self.response_warm,
            (false, true) => self.no_content_cold,
            (true, true) => self.no_content_warm,
        }
    }
}

/// Header fields a head carries beyond the modelled set (SSE's `Last-Event-ID`), given
/// as their HTTP/1.1 bytes `extra` (`Name: value\r\n`): a literal without indexing with a
/// new name, not Huffman-coded — one byte of representation, one length byte each for
/// name and value instead of `: ` and CRLF: `extra − 1`. (An upper bound: Huffman would
/// save about a fifth.)
pub fn extra_field_bytes(extra: u64) -> u64 {
    extra.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hpack::huffman_bytes;

    fn h1_request(head: u64) -> u64 {
        // Rebuild the HTTP/1.1 text size from the fields: the filler makes it exact.
        let fields = request_fields(head);
        let fixed = 4 + POLL_PATH.len() as u64 + 11 + line("host", AUTHORITY) + 24 + 2;
        fixed
            + fields
                .iter()
                .filter(|(n, _, _)| !n.starts_with(':'))
                .map(|(n, v, _)| line(n, v))
                .sum::<u64>()
    }

    #[test]
    fn frames_follow_rfc_9113() {
        assert_eq!(FRAME_HEADER, 9);
        assert_eq!(headers_frames(30), 39);
        assert_eq!(headers_frames(0), 9);
        assert_eq!(headers_frames(16_385), 16_385 + 18);
        assert_eq!(data_frames(0), 0);
        assert_eq!(data_frames(2), 11);
        assert_eq!(data_frames(16_384), 16_393);
        assert_eq!(data_frames(40_000), 40_000 + 27);
        assert_eq!(
            CLIENT_MAGIC,
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".len() as u64
        );
        assert_eq!(client_preface_bytes(Http2Stack::ChromiumNginx), 79);
        assert_eq!(server_preface_bytes(Http2Stack::ChromiumNginx), 49);
        assert_eq!(client_preface_bytes(Http2Stack::Hyper), 79);
        assert_eq!(server_preface_bytes(Http2Stack::Hyper), 55);
    }

    #[test]
    fn the_modelled_heads_are_exactly_the_configured_http_1_1_sizes() {
        for head in (95..2_000).chain([4000, 16_000]) {
            assert_eq!(h1_request(head), head, "request head {head}");
        }
    }

    #[test]
    fn a_repeated_poll_sends_every_field_but_its_path_as_one_byte() {
        let b = Blocks::new(700, 171, Http2Stack::ChromiumNginx);
        let path = 1 + 1 + huffman_bytes(POLL_PATH);
        // :method GET and :scheme https are static entries 2 and 7; :authority, the 11
        // browser fields and the cookie are dynamic entries after the first request.
        assert_eq!(b.request_warm, 1 + 1 + 1 + path + 11 + 1);
        assert_eq!(b.request_warm, 31);
        // The first request pays the literals: far more, yet less than the HTTP/1.1 text.
        assert!(b.request_cold > 400 && b.request_cold < 700, "{b:?}");
        // The answer: :status 200 (static 8), content-type and server indexed after the
        // first; content-length and date literals every time.
        let length = 2 + 1 + 1;
        let date = 2 + 1 + huffman_bytes("Sat, 05 Dec 2026 20:47:28 GMT");
        assert_eq!(b.response_warm, 1 + 1 + length + date + 1);
        assert!(b.response_cold > b.response_warm + 40);
        assert_eq!(b.no_content_warm, b.response_warm - length);
        // The figures `docs/wire.md` quotes.
        assert_eq!(
            (b.request_cold, b.response_cold, b.no_content_cold),
            (460, 88, 84)
        );
        assert_eq!(b.response_warm, 32);
    }

    #[test]
    fn a_cookie_too_big_for_the_table_is_sent_every_time() {
        // A 16 KB head: the cookie entry exceeds the 4,096-byte table (RFC 7541 §4.4).
        let b = Blocks::new(16_000, 171, Http2Stack::ChromiumNginx);
        assert!(b.request_warm > 10_000, "{b:?}");
        let again = {
            let fields = request_fields(16_000);
            let mut e = Encoder::new(DEFAULT_TABLE_SIZE, true);
            encode(&mut e, &fields);
            encode(&mut e, &fields);
            encode(&mut e, &fields)
        };
        assert_eq!(
            again, b.request_warm,
            "the second request is the steady state"
        );
    }

    #[test]
    fn tiny_heads_keep_the_pseudo_headers() {
        let b = Blocks::new(0, 0, Http2Stack::ChromiumNginx);
        assert!(b.request_warm > 0 && b.response_warm == 1);
        assert_eq!(extra_field_bytes(19), 18);
        assert_eq!(extra_field_bytes(0), 0);
    }
}
