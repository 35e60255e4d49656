//! HPACK (RFC 7541), as sizes: how many bytes a header block takes, never the bytes
//! themselves.
//!
//! An [`Encoder`] holds one direction's dynamic table (§2.3.2, §4) and encodes a header
//! list field by field, as the examples of RFC 7541 Appendix C do: a field found whole in
//! the static or dynamic table is one indexed reference (§6.1); otherwise a literal
//! (§6.2) with the name as an index when the name is known (the static table first), its
//! value — and a new name — as a string literal, Huffman-coded when that is shorter
//! (§5.2, Appendix B). Which literals are added to the dynamic table is the encoder's
//! choice ([`Indexing`]); entries cost their name and value plus 32 bytes (§4.1) and the
//! oldest are evicted when the table is full (§4.4). Tests check every figure of
//! Appendix C.

/// RFC 7541 Appendix A: the static table, index 1 to 61.
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// RFC 7541 Appendix B: the length in bits of the Huffman code of each octet (the code
/// of EOS, 30 bits, is never sent). Only lengths are needed: sizes, not bytes.
#[rustfmt::skip]
const HUFFMAN_BITS: [u8; 256] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0–15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16–31
     6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6, //  ' ' … '/'
     5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, //  '0' … '?'
    13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, //  '@' … 'O'
     7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, //  'P' … '_'
    15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, //  '`' … 'o'
     6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, //  'p' … 127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128–143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144–159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160–175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176–191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192–207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208–223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224–239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240–255
];

/// The size of the dynamic table when the peer has not set one
/// (`SETTINGS_HEADER_TABLE_SIZE`, RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: u64 = 4096;

/// Bytes of an integer `value` with an `prefix`-bit prefix (§5.1): one byte below
/// 2^prefix − 1, then one per 7 bits of what is left.
pub fn integer_bytes(value: u64, prefix: u32) -> u64 {
    let max = (1u64 << prefix) - 1;
    if value < max {
        return 1;
    }
    let mut rest = value - max;
    let mut bytes = 2;
    while rest >= 128 {
        rest >>= 7;
        bytes += 1;
    }
    bytes
}

/// Bytes of `s` Huffman-coded (Appendix B): its codes' bits, padded to a whole octet.
pub fn huffman_bytes(s: &str) -> u64 {
    let bits: u64 = s.bytes().map(|b| u64::from(HUFFMAN_BITS[b as usize])).sum();
    bits.div_ceil(8)
}

/// Bytes of a string literal (§5.2): the length (7-bit prefix) and the octets, Huffman
/// coded when that is shorter (as RFC 7541's Appendix C.4 and C.6 encoders, and
/// nghttp2's and Chromium's, choose); raw when `huffman` is off.
pub fn string_bytes(s: &str, huffman: bool) -> u64 {
    let raw = s.len() as u64;
    let len = if huffman {
        huffman_bytes(s).min(raw)
    } else {
        raw
    };
    integer_bytes(len, 7) + len
}

/// What the encoder does with a field it must send as a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexing {
    /// Literal with incremental indexing (§6.2.1): the field joins the dynamic table, and
    /// the next time it is one indexed byte.
    Incremental,
    /// Literal without indexing (§6.2.2): sent as is, the table unchanged (for values
    /// that change every time, such as a `:path` with a cursor or a `date`).
    Without,
}

/// One direction's HPACK encoder: its dynamic table (newest first) and its limit.
#[derive(Clone, Debug)]
pub struct Encoder {
    table: std::collections::VecDeque<(String, String)>,
    size: u64,
    max_size: u64,
    huffman: bool,
}

impl Encoder {
    /// A fresh encoder (a new connection) with a dynamic table of `max_size` bytes;
    /// string literals Huffman-coded when shorter (`huffman`) or raw.
    pub fn new(max_size: u64, huffman: bool) -> Self {
        Encoder {
            table: std::collections::VecDeque::new(),
            size: 0,
            max_size,
            huffman,
        }
    }

    /// Bytes the dynamic table holds (§4.1).
    pub fn table_size(&self) -> u64 {
        self.size
    }

    /// Bytes of the header block of `fields`, each with the indexing it asks for; the
    /// dynamic table is updated as a decoder would see it.
    pub fn block(&mut self, fields: &[(&str, &str, Indexing)]) -> u64 {
        fields
            .iter()
            .map(|&(name, value, indexing)| self.field(name, value, indexing))
            .sum()
    }

    /// Bytes of one field.
    pub fn field(&mut self, name: &str, value: &str, indexing: Indexing) -> u64 {
        if let Some(index) = self.find(|n, v| n == name && v == value) {
            // §6.1: an indexed header field, 7-bit prefix.
            return integer_bytes(index, 7);
        }
        let name_index = self.find(|n, _| n == name);
        // §6.2.1: 6-bit prefix; §6.2.2: 4-bit prefix. Index 0 = a new name, sent as a
        // string literal after the first byte.
        let prefix = match indexing {
            Indexing::Incremental => 6,
            Indexing::Without => 4,
        };
        let name_bytes = match name_index {
            Some(index) => integer_bytes(index, prefix),
            None => 1 + string_bytes(name, self.huffman),
        };
        let bytes = name_bytes + string_bytes(value, self.huffman);
        if indexing == Indexing::Incremental {
            self.insert(name, value);
        }
        bytes
    }

    /// The index of the first entry that matches: the static table (1–61), then the
    /// dynamic table from its newest entry (62 on).
    fn find(&self, matches: impl Fn(&str, &str) -> bool) -> Option<u64> {
        if let Some(i) = STATIC_TABLE.iter().position(|&(n, v)| matches(n, v)) {
            return Some(i as u64 + 1);
        }
        self.table
            .iter()
            .position(|(n, v)| matches(n, v))
            .map(|i| i as u64 + 1 + STATIC_TABLE.len() as u64)
    }

    /// §4.4: evict from the oldest until the new entry fits; an entry larger than the
    /// table empties it and is not added.
    fn insert(&mut self, name: &str, value: &str) {
        let entry = name.len() as u64 + value.len() as u64 + 32;
        while self.size + entry > self.max_size {
            let Some((n, v)) = self.table.pop_back() else {
                break;
            };
            self.size -= n.len() as u64 + v.len() as u64 + 32;
        }
        if entry <= self.max_size {
            self.table.push_front((name.to_string(), value.to_string()));
            self.size += entry;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Indexing::Incremental as Inc;

    #[test]
    fn the_huffman_code_lengths_are_a_complete_prefix_code() {
        // Kraft's equality: a complete prefix code (with EOS, 30 bits) sums to exactly 1.
        // One wrong length in the transcription of Appendix B breaks it.
        let units: u64 = HUFFMAN_BITS
            .iter()
            .map(|&b| 1u64 << (30 - u32::from(b)))
            .sum();
        assert_eq!(units + 1, 1 << 30);
    }

    #[test]
    fn integers_follow_section_5_1() {
        // C.1.1: 10 with a 5-bit prefix, one byte; C.1.2: 1337, three bytes; C.1.3: 42
        // on an 8-bit prefix, one byte.
        assert_eq!(integer_bytes(10, 5), 1);
        assert_eq!(integer_bytes(1337, 5), 3);
        assert_eq!(integer_bytes(42, 8), 1);
        assert_eq!(integer_bytes(31, 5), 2);
        assert_eq!(integer_bytes(30, 5), 1);
        assert_eq!(integer_bytes(126, 7), 1);
        assert_eq!(integer_bytes(127, 7), 2);
    }

    #[test]
    fn huffman_strings_of_appendix_c_4_and_c_6() {
        assert_eq!(huffman_bytes("www.example.com"), 12);
        assert_eq!(huffman_bytes("no-cache"), 6);
        assert_eq!(huffman_bytes("custom-key"), 8);
        assert_eq!(huffman_bytes("custom-value"), 9);
        assert_eq!(huffman_bytes("302"), 2);
        assert_eq!(huffman_bytes("private"), 5);
        assert_eq!(huffman_bytes("Mon, 21 Oct 2013 20:13:21 GMT"), 22);
        assert_eq!(huffman_bytes("https://www.example.com"), 17);
        assert_eq!(huffman_bytes("gzip"), 3);
        assert_eq!(
            huffman_bytes("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            45
        );
    }

    /// The three requests of C.3 (raw) and C.4 (Huffman), on one connection.
    fn requests(huffman: bool) -> (Vec<u64>, Vec<u64>) {
        let mut e = Encoder::new(DEFAULT_TABLE_SIZE, huffman);
        let first = [
            (":method", "GET", Inc),
            (":scheme", "http", Inc),
            (":path", "/", Inc),
            (":authority", "www.example.com", Inc),
        ];
        let mut second = first.to_vec();
        second.push(("cache-control", "no-cache", Inc));
        let third = [
            (":method", "GET", Inc),
            (":scheme", "https", Inc),
            (":path", "/index.html", Inc),
            (":authority", "www.example.com", Inc),
            ("custom-key", "custom-value", Inc),
        ];
        let mut sizes = vec![];
        let mut tables = vec![];
        for block in [&first[..], &second[..], &third[..]] {
            sizes.push(e.block(block));
            tables.push(e.table_size());
        }
        (sizes, tables)
    }

    #[test]
    fn requests_of_appendix_c_3_and_c_4() {
        assert_eq!(requests(false), (vec![20, 14, 29], vec![57, 110, 164]));
        assert_eq!(requests(true), (vec![17, 12, 24], vec![57, 110, 164]));
    }

    /// The three responses of C.5 (raw) and C.6 (Huffman): a 256-byte table, so entries
    /// are evicted.
    fn responses(huffman: bool) -> (Vec<u64>, Vec<u64>) {
        let mut e = Encoder::new(256, huffman);
        let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        let date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
        let loc = "https://www.example.com";
        let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        let blocks: [Vec<(&str, &str, Indexing)>; 3] = [
            vec![
                (":status", "302", Inc),
                ("cache-control", "private", Inc),
                ("date", date1, Inc),
                ("location", loc, Inc),
            ],
            vec![
                (":status", "307", Inc),
                ("cache-control", "private", Inc),
                ("date", date1, Inc),
                ("location", loc, Inc),
            ],
            vec![
                (":status", "200", Inc),
                ("cache-control", "private", Inc),
                ("date", date2, Inc),
                ("location", loc, Inc),
                ("content-encoding", "gzip", Inc),
                ("set-cookie", cookie, Inc),
            ],
        ];
        let mut sizes = vec![];
        let mut tables = vec![];
        for block in &blocks {
            sizes.push(e.block(block));
            tables.push(e.table_size());
        }
        (sizes, tables)
    }

    #[test]
    fn responses_of_appendix_c_5_and_c_6_with_eviction() {
        assert_eq!(responses(false), (vec![70, 8, 98], vec![222, 222, 215]));
        assert_eq!(responses(true), (vec![54, 8, 79], vec![222, 222, 215]));
    }

    #[test]
    fn a_field_without_indexing_leaves_the_table_alone() {
        let mut e = Encoder::new(DEFAULT_TABLE_SIZE, true);
        // `:path` (static name 4) with a 4-bit prefix: one byte, then the value.
        let n = e.field(":path", "/messages?since=1234", Indexing::Without);
        assert_eq!(n, 1 + 1 + huffman_bytes("/messages?since=1234"));
        assert_eq!(e.table_size(), 0);
        // Index 28 (`content-length`) does not fit a 4-bit prefix: two bytes.
        assert_eq!(e.field("content-length", "2", Indexing::Without), 2 + 2);
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it() {
        let mut e = Encoder::new(100, false);
        e.field("a", "b", Inc);
        assert_eq!(e.table_size(), 34);
        let big = "x".repeat(200);
        e.field("cookie", &big, Inc);
        assert_eq!(e.table_size(), 0);
        // Not in the table: the second time it is a literal again.
        assert_eq!(e.field("cookie", &big, Inc), 1 + 2 + 200);
    }
}
