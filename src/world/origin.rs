//! The origin: where updates are born and where undelivered ones wait.
//!
//! Every update is appended to a *stream*, an append-only log numbered by sequence:
//! one global stream (`broadcast`), one per client (`per-client`) or one per room
//! (`chat`). A client's progress is a cursor — the sequence number of the first update
//! it has not yet received — which is exactly what `?since=` or `Last-Event-ID` tell a
//! real server. What lies between the cursor and the head of the stream is pending.
//!
//! Retention (a duration or a count) bounds what the origin keeps: pending updates that
//! fall out of it are lost, and counted as lost.

use std::collections::VecDeque;

use crate::engine::Nanos;
use crate::engine::prefetch::prefetch;
use crate::scenario::{Pattern, Retention};

/// `sender` of an update created by the origin itself (not a chat message).
pub const ORIGIN: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// When the update was created (for chat: when the sender sent it).
    pub created: Nanos,
    /// The chat client that sent it, or [`ORIGIN`].
    pub sender: u32,
}

/// An append-only log. Records before `base` were trimmed (single-subscriber streams
/// drop what their one subscriber has received).
#[derive(Default)]
struct Stream {
    base: u64,
    records: Records,
}

impl Stream {
    fn head(&self) -> u64 {
        self.base + self.records.len() as u64
    }
}

/// A stream's retained records, oldest first. With per-client streams there is one
/// stream per client, and nearly all hold no record or one (an update waits a poll
/// interval at most, at ~0.01 updates/s per client): those keep it inline, and only a
/// stream holding two or more allocates. A `VecDeque` in every stream cost 32 bytes
/// and, once a first record came, a heap block it kept for the rest of the run — about
/// 90 bytes per client at 10^7 clients (#18). The inline record is the origin's (its
/// creation time alone: 8 bytes fewer per stream); a chat message, which names its
/// sender, goes to the heap even alone.
#[derive(Default)]
enum Records {
    #[default]
    Empty,
    /// One update created by the origin ([`ORIGIN`] is its sender), at this time.
    One(Nanos),
    // Boxed on purpose: inline, the deque's 32 bytes would make every stream 40.
    #[allow(clippy::box_collection)]
    Many(Box<VecDeque<Record>>),
}

// 24 bytes a stream (see the note above): 240 MB at 10^7 clients.
const _: () = assert!(std::mem::size_of::<Stream>() <= 24);

impl Records {
    fn len(&self) -> usize {
        match self {
            Records::Empty => 0,
            Records::One(_) => 1,
            Records::Many(v) => v.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th record retained (0 = the oldest).
    fn get(&self, i: usize) -> Record {
        match self {
            Records::One(created) if i == 0 => Record {
                created: *created,
                sender: ORIGIN,
            },
            Records::Many(v) => v[i],
            _ => panic!("record {i} of {} retained", self.len()),
        }
    }

    fn push_back(&mut self, record: Record) {
        match self {
            Records::Empty if record.sender == ORIGIN => *self = Records::One(record.created),
            Records::Empty => *self = Records::Many(Box::new(VecDeque::from([record]))),
            Records::One(created) => {
                let first = Record {
                    created: *created,
                    sender: ORIGIN,
                };
                *self = Records::Many(Box::new(VecDeque::from([first, record])));
            }
            Records::Many(v) => v.push_back(record),
        }
    }

    /// Drops the oldest record; an emptied stream gives its heap block back.
    fn pop_front(&mut self) {
        match self {
            Records::Empty => {}
            Records::One(_) => *self = Records::Empty,
            Records::Many(v) => {
                v.pop_front();
                if v.is_empty() {
                    *self = Records::Empty;
                }
            }
        }
    }
}

pub struct Origin {
    pattern: Pattern,
    room_size: u32,
    clients: u32,
    retention: Retention,
    streams: Vec<Stream>,
}

/// The streams go back to the thread for its next run (`engine/hugepages.rs`).
impl Drop for Origin {
    fn drop(&mut self) {
        crate::engine::hugepages::give_back(std::mem::take(&mut self.streams));
    }
}

impl Origin {
    pub fn new(pattern: Pattern, clients: u32, room_size: u32, retention: Retention) -> Self {
        let n = match pattern {
            Pattern::Broadcast => 1,
            Pattern::PerClient => clients as usize,
            Pattern::Chat => clients.div_ceil(room_size) as usize,
        };
        Origin {
            pattern,
            room_size,
            clients,
            retention,
            streams: {
                // On huge pages: with per-client streams, 320 MB at 10^7 clients,
                // touched at random.
                let mut streams = crate::engine::hugepages::huge_vec(n);
                streams.extend((0..n).map(|_| Stream::default()));
                streams
            },
        }
    }

    /// The stream a client subscribes to.
    #[inline]
    pub fn stream_of(&self, client: u32) -> u32 {
        match self.pattern {
            Pattern::Broadcast => 0,
            Pattern::PerClient => client,
            Pattern::Chat => client / self.room_size,
        }
    }

    /// The clients subscribed to `stream`, as a range of ids.
    pub fn subscribers(&self, stream: u32) -> std::ops::Range<u32> {
        match self.pattern {
            Pattern::Broadcast => 0..self.clients,
            Pattern::PerClient => stream..stream + 1,
            Pattern::Chat => {
                let first = stream * self.room_size;
                first..(first + self.room_size).min(self.clients)
            }
        }
    }

    /// How many clients must receive an update on `stream` sent by `sender`.
    pub fn recipients(&self, stream: u32, sender: u32) -> u64 {
        let subs = self.subscribers(stream);
        subs.len() as u64 - subs.contains(&sender) as u64
    }

    /// Sequence number the next update on this stream will get.
    #[inline]
    pub fn head(&self, stream: u32) -> u64 {
        self.streams[stream as usize].head()
    }

    /// Starts loading a stream's record (a hint for what an upcoming event touches).
    #[inline]
    pub fn prefetch_stream(&self, stream: u32) {
        if let Some(s) = self.streams.get(stream as usize) {
            prefetch(s);
        }
    }

    /// Starts loading the client's own stream, when streams are per client (the others
    /// are few and stay in cache).
    #[inline]
    pub fn prefetch_own_stream(&self, client: u32) {
        if self.pattern == Pattern::PerClient {
            self.prefetch_stream(client);
        }
    }

    /// The one client subscribed to `stream`, when streams are per client.
    #[inline]
    pub fn single_subscriber(&self, stream: u32) -> Option<u32> {
        (self.pattern == Pattern::PerClient).then_some(stream)
    }

    /// Appends an update; returns its sequence number.
    pub fn append(&mut self, stream: u32, record: Record) -> u64 {
        let s = &mut self.streams[stream as usize];
        s.records.push_back(record);
        s.head() - 1
    }

    #[inline]
    pub fn record(&self, stream: u32, seq: u64) -> Record {
        let s = &self.streams[stream as usize];
        s.records.get((seq - s.base) as usize)
    }

    /// Records in [from, to) that `client` must receive (not its own chat messages).
    pub fn for_client(&self, client: u32, from: u64, to: u64) -> impl Iterator<Item = Record> + '_ {
        let stream = self.stream_of(client);
        (from..to)
            .map(move |seq| self.record(stream, seq))
            .filter(move |r| r.sender != client)
    }

    /// Number of records in [from, to) that `client` must receive.
    #[inline]
    pub fn count_for_client(&self, client: u32, from: u64, to: u64) -> u64 {
        match self.pattern {
            Pattern::Chat => self.for_client(client, from, to).count() as u64,
            _ => to.saturating_sub(from),
        }
    }

    /// The client has received everything before `upto`: a stream with a single
    /// subscriber forgets it (keeps memory flat in long runs).
    pub fn received(&mut self, client: u32, upto: u64) {
        if self.pattern == Pattern::PerClient {
            let s = &mut self.streams[client as usize];
            while s.base < upto && !s.records.is_empty() {
                s.records.pop_front();
                s.base += 1;
            }
        }
    }

    /// Applies retention to what `client` has pending from `cursor`: returns the new
    /// cursor, calling `lost` for every record (meant for this client) that fell out.
    /// Duration retention stops at the first record still retained, so it is exact when
    /// creation times are in stream order (origin updates) and conservative for chat.
    pub fn expire(
        &self,
        client: u32,
        cursor: u64,
        now: Nanos,
        mut lost: impl FnMut(Record),
    ) -> u64 {
        let stream = self.stream_of(client);
        let head = self.head(stream);
        let keep_from = match self.retention {
            Retention::Count(k) => head.saturating_sub(k).max(cursor),
            Retention::Duration(d) => {
                let cutoff = now.saturating_sub(d);
                let mut c = cursor;
                while c < head && self.record(stream, c).created < cutoff {
                    c += 1;
                }
                c
            }
        };
        for r in self.for_client(client, cursor, keep_from) {
            lost(r);
        }
        keep_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(created: Nanos, sender: u32) -> Record {
        Record { created, sender }
    }

    #[test]
    fn chat_rooms_exclude_the_sender() {
        let mut o = Origin::new(Pattern::Chat, 25, 10, Retention::Count(100));
        assert_eq!(o.stream_of(23), 2);
        assert_eq!(o.subscribers(2), 20..25);
        assert_eq!(o.recipients(2, 23), 4);
        assert_eq!(o.recipients(0, ORIGIN), 10);
        o.append(0, rec(1, 3));
        o.append(0, rec(2, 4));
        assert_eq!(o.count_for_client(3, 0, 2), 1);
        assert_eq!(o.count_for_client(5, 0, 2), 2);
    }

    #[test]
    fn per_client_streams_trim_what_was_received() {
        let mut o = Origin::new(Pattern::PerClient, 2, 10, Retention::Count(100));
        for t in 0..5 {
            o.append(1, rec(t, ORIGIN));
        }
        o.received(1, 3);
        assert_eq!(o.head(1), 5);
        assert_eq!(o.record(1, 3).created, 3);
    }

    #[test]
    fn a_stream_keeps_its_order_from_inline_to_heap_and_back() {
        // Against a plain deque: every mix of appends and trims, through none, one
        // (inline) and many (on the heap) records retained, the origin's and senders'.
        let mut o = Origin::new(Pattern::PerClient, 1, 10, Retention::Count(100));
        let mut reference = VecDeque::new();
        let mut base = 0;
        let mut x = 7u64;
        for step in 0..2_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if x >> 62 != 0 {
                let sender = if x & 1 == 0 {
                    ORIGIN
                } else {
                    (x >> 8) as u32 % 5
                };
                assert_eq!(
                    o.append(0, rec(step, sender)),
                    base + reference.len() as u64
                );
                reference.push_back(rec(step, sender));
            } else {
                let upto = base + (x >> 32) % (reference.len() as u64 + 1);
                o.received(0, upto);
                while base < upto {
                    reference.pop_front();
                    base += 1;
                }
            }
            assert_eq!(o.head(0), base + reference.len() as u64);
            for (k, record) in reference.iter().enumerate() {
                assert_eq!(o.record(0, base + k as u64), *record);
            }
        }
    }

    #[test]
    fn retention_by_count_and_duration() {
        let mut o = Origin::new(Pattern::Broadcast, 1, 10, Retention::Count(2));
        for t in [10, 20, 30, 40] {
            o.append(0, rec(t, ORIGIN));
        }
        let mut lost = vec![];
        assert_eq!(o.expire(0, 0, 100, |r| lost.push(r.created)), 2);
        assert_eq!(lost, vec![10, 20]);

        let mut o = Origin::new(Pattern::Broadcast, 1, 10, Retention::Duration(25));
        for t in [10, 20, 30, 40] {
            o.append(0, rec(t, ORIGIN));
        }
        let mut lost = vec![];
        // now 50, cutoff 25: records at 10 and 20 are gone.
        assert_eq!(o.expire(0, 1, 50, |r| lost.push(r.created)), 2);
        assert_eq!(lost, vec![20]);
    }
}
