//! Streams: where each client stands on its stream of updates, who listens, and what
//! fan-out, delivery and retention do to it.
//!
//! A client's [`Feed`] is its cursor (the first stream position it has not received)
//! and its own stream's head; its [`Listening`], how far the server has pushed on its
//! open stream or response, and its place in the list of listeners (clients with an open stream or a held long poll, in fan-out
//! order). [`Streams`] owns the origin and that list; it alone moves cursors — on a
//! delivery, a retention expiry or a skip to the head — and counts what they deliver or
//! lose.

use crate::engine::Nanos;
use crate::scenario::Pattern;
use crate::world::metrics::{Recorder, Window};
use crate::world::origin::{Origin, Record};

/// A [`Listening`]'s top bit: the client has had a stream open before.
const SUBSCRIBED: u32 = 1 << 31;
/// The place of a client in no listener list (the other 31 bits all set).
const NOT_LISTENING: u32 = SUBSCRIBED - 1;

/// Where one client stands on its stream: what a poll reads. 16 bytes, in the
/// client's hot cache line.
#[derive(Clone, Copy, Debug)]
pub(super) struct Feed {
    /// First stream position the client has not received.
    cursor: u64,
    /// With per-client streams: the head of this client's own stream, mirrored here so
    /// that "anything new?" — asked by ~97 % empty polls — needs no look at the origin
    /// (one cache miss fewer per poll at 10^6 clients).
    own_head: u64,
}

impl Feed {
    pub const NEW: Feed = Feed {
        cursor: 0,
        own_head: 0,
    };

    #[inline]
    pub fn cursor(&self) -> u64 {
        self.cursor
    }
}

/// A client's open stream or held response: how far the server has pushed, its place
/// among listeners, whether it has subscribed before. 12 bytes, in the client's cold
/// record (a poll never reads it): packed to 4-byte alignment and the flag folded into
/// the index, so that the record with its outage and refusals takes 24 bytes, not 32
/// (160 MB less at 10^7 clients on two workers). Clients are at most 10^8, so an index
/// needs 31 bits.
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
pub(super) struct Listening {
    /// First stream position the server has not yet sent on the open stream/response.
    pushed: u64,
    /// Index in the listener list (or [`NOT_LISTENING`]) in the low 31 bits; the top
    /// bit ([`SUBSCRIBED`]) says the client has had a stream open before (a
    /// reconnection, not a first connection).
    place: u32,
}

const _: () = assert!(std::mem::size_of::<Listening>() == 12);

impl Listening {
    pub const NEW: Listening = Listening {
        pushed: 0,
        place: NOT_LISTENING,
    };

    /// Index in the listener list, or [`NOT_LISTENING`].
    #[inline]
    fn listener(&self) -> u32 {
        self.place & NOT_LISTENING
    }

    #[inline]
    fn set_listener(&mut self, index: u32) {
        debug_assert!(index <= NOT_LISTENING);
        self.place = (self.place & SUBSCRIBED) | index;
    }

    #[inline]
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn subscribed(&self) -> bool {
        self.place & SUBSCRIBED != 0
    }

    /// A stream opened: from now on a reconnection is not a first subscription.
    pub fn subscribe(&mut self) {
        self.place |= SUBSCRIBED;
    }

    #[inline]
    pub fn is_listening(&self) -> bool {
        self.listener() != NOT_LISTENING
    }
}

/// The feeds of every client, by client id (the world's client table).
pub(super) trait Feeds {
    fn feed(&mut self, c: u32) -> &mut Feed;
    fn listening(&mut self, c: u32) -> &mut Listening;
}

/// The clients an update on a stream goes to, in fan-out order (owned: fan-out runs
/// technique code that may change who listens).
pub(super) enum Recipients {
    /// Broadcast: a snapshot of the listener list.
    Listeners(std::vec::IntoIter<u32>),
    /// Per-client or chat: the stream's subscribers but the sender.
    Subscribers {
        range: std::ops::Range<u32>,
        sender: u32,
    },
}

impl Iterator for Recipients {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            Recipients::Listeners(clients) => clients.next(),
            Recipients::Subscribers { range, sender } => range.find(|&c| c != *sender),
        }
    }
}

pub(super) struct Streams {
    origin: Origin,
    pattern: Pattern,
    /// Clients with an open stream or a held long poll (fan-out order).
    listeners: Vec<u32>,
}

impl Streams {
    pub fn new(origin: Origin, pattern: Pattern) -> Self {
        Streams {
            origin,
            pattern,
            listeners: Vec::new(),
        }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The client now waits for updates at the server (held long poll, open stream).
    pub fn listen(&mut self, feeds: &mut (impl Feeds + ?Sized), c: u32) {
        let feed = feeds.listening(c);
        if feed.listener() == NOT_LISTENING {
            let index = u32::try_from(self.listeners.len())
                .ok()
                .filter(|&i| i < NOT_LISTENING)
                .expect("fewer than 2^31 - 1 listeners (clients are at most 10^8)");
            feed.set_listener(index);
            self.listeners.push(c);
        }
    }

    /// The client no longer waits (the last listener takes its place in the list).
    #[inline]
    pub fn unlisten(&mut self, feeds: &mut (impl Feeds + ?Sized), c: u32) {
        if self.listeners.is_empty() {
            // Nobody listens (always so with short polling): the client's cold record,
            // a cache miss at 10^6+ clients, need not be read to know it.
            return;
        }
        self.unlisten_listener(feeds, c);
    }

    #[inline(never)]
    fn unlisten_listener(&mut self, feeds: &mut (impl Feeds + ?Sized), c: u32) {
        let feed = feeds.listening(c);
        let i = feed.listener();
        if i == NOT_LISTENING {
            return;
        }
        feed.set_listener(NOT_LISTENING);
        self.listeners.swap_remove(i as usize);
        if let Some(&moved) = self.listeners.get(i as usize) {
            feeds.listening(moved).set_listener(i);
        }
    }

    /// An update becomes visible at the servers: appended to its stream. Returns whom
    /// to tell, in fan-out order (each still to be checked for listening when its turn
    /// comes: a technique may stop listening meanwhile, as an answered long poll does).
    pub fn publish(
        &mut self,
        feeds: &mut (impl Feeds + ?Sized),
        stream: u32,
        record: Record,
    ) -> Recipients {
        self.origin.append(stream, record);
        match self.pattern {
            Pattern::Broadcast => Recipients::Listeners(self.listeners.clone().into_iter()),
            Pattern::PerClient => {
                feeds.feed(stream).own_head += 1;
                Recipients::Subscribers {
                    range: self.origin.subscribers(stream),
                    sender: record.sender,
                }
            }
            Pattern::Chat => Recipients::Subscribers {
                range: self.origin.subscribers(stream),
                sender: record.sender,
            },
        }
    }

    /// Head of the client's stream (one past the newest update).
    #[inline]
    pub fn head(&self, c: u32, feed: &Feed) -> u64 {
        if self.pattern == Pattern::PerClient {
            debug_assert_eq!(feed.own_head, self.origin.head(c));
            return feed.own_head;
        }
        self.origin.head(self.origin.stream_of(c))
    }

    /// Everything on the client's stream before `upto` has arrived: record deliveries.
    /// (The test for nothing new, true for most answers to a poll, is inlined into the
    /// caller; the rest is not.)
    #[inline]
    pub fn deliver(&mut self, c: u32, feed: &mut Feed, upto: u64, now: Nanos, rec: &mut Recorder) {
        if upto > feed.cursor {
            self.deliver_new(c, feed, upto, now, rec);
        }
    }

    #[inline(never)]
    fn deliver_new(&mut self, c: u32, feed: &mut Feed, upto: u64, now: Nanos, rec: &mut Recorder) {
        let cursor = feed.cursor;
        for r in self.origin.for_client(c, cursor, upto) {
            rec.delivery(now, r.created);
        }
        feed.cursor = upto;
        self.origin.received(c, upto);
    }

    /// Applies retention, as of `now`, to what the client has pending; lost records
    /// are counted. (The test for nothing pending, true at nearly every poll, is
    /// inlined into the caller; the rest is not.)
    #[inline]
    pub fn expire(
        &self,
        c: u32,
        feed: &mut Feed,
        listening: &mut Listening,
        now: Nanos,
        rec: &mut Recorder,
    ) {
        if self.pattern == Pattern::PerClient && feed.cursor == feed.own_head {
            return; // nothing pending, nothing to expire
        }
        let new = self.expired_to(c, feed.cursor, now, rec);
        feed.cursor = new;
        listening.pushed = listening.pushed.max(new);
    }

    /// Where the client's cursor moves from `cursor` once retention is applied.
    #[inline(never)]
    fn expired_to(&self, c: u32, cursor: u64, now: Nanos, rec: &mut Recorder) -> u64 {
        self.origin
            .expire(c, cursor, now, |r| rec.lost(r.created, 1))
    }

    /// Everything pending for the client is given up (a WebSocket without resume
    /// reconnects; a first subscription starts from now): counted as lost.
    pub fn skip_to_head(
        &mut self,
        c: u32,
        feed: &mut Feed,
        listening: &mut Listening,
        rec: &mut Recorder,
    ) {
        let stream = self.origin.stream_of(c);
        let head = self.origin.head(stream);
        for r in self.origin.for_client(c, feed.cursor, head) {
            rec.lost(r.created, 1);
        }
        feed.cursor = head;
        listening.pushed = head;
        self.origin.received(c, head);
    }

    /// A new user takes the client's place (churn): what the old one had pending is
    /// lost, and the new one has never subscribed.
    pub fn new_user(
        &mut self,
        c: u32,
        feed: &mut Feed,
        listening: &mut Listening,
        rec: &mut Recorder,
    ) {
        self.skip_to_head(c, feed, listening, rec);
        listening.place &= !SUBSCRIBED;
    }

    /// The server has written everything before `upto` to the client's stream.
    #[inline]
    pub fn pushed(&self, listening: &mut Listening, upto: u64) {
        listening.pushed = upto;
    }

    /// Updates in stream positions [from, to) meant for `c`.
    #[inline]
    pub fn count_for(&self, c: u32, from: u64, to: u64) -> u64 {
        self.origin.count_for_client(c, from, to)
    }

    /// Stream positions in [from, to) holding updates meant for `c` (not its own chat
    /// messages).
    pub fn positions_for(&self, c: u32, from: u64, to: u64) -> impl Iterator<Item = u64> + '_ {
        let stream = self.origin.stream_of(c);
        (from..to).filter(move |&seq| self.origin.record(stream, seq).sender != c)
    }

    /// Pairs still pending for the client at the end of the run (`end`): retention
    /// applied first, so what had already fallen out of it counts as lost, not in
    /// flight.
    pub fn in_flight_at_end(
        &self,
        c: u32,
        feed: &mut Feed,
        listening: &mut Listening,
        end: Nanos,
        window: &Window,
        rec: &mut Recorder,
    ) -> u64 {
        self.expire(c, feed, listening, end, rec);
        let head = self.head(c, feed);
        self.origin
            .for_client(c, feed.cursor, head)
            .filter(|r| window.contains(r.created) && r.created < end)
            .count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Retention;
    use crate::world::origin::ORIGIN;

    /// A client table of feeds alone.
    impl Feeds for [(Feed, Listening)] {
        fn feed(&mut self, c: u32) -> &mut Feed {
            &mut self[c as usize].0
        }
        fn listening(&mut self, c: u32) -> &mut Listening {
            &mut self[c as usize].1
        }
    }

    fn streams(pattern: Pattern, clients: u32) -> (Streams, Vec<(Feed, Listening)>) {
        let origin = Origin::new(pattern, clients, 3, Retention::Count(100));
        (
            Streams::new(origin, pattern),
            vec![(Feed::NEW, Listening::NEW); clients as usize],
        )
    }

    fn update(created: Nanos) -> Record {
        Record {
            created,
            sender: ORIGIN,
        }
    }

    #[test]
    fn unlisten_moves_the_last_listener_into_the_gap() {
        let (mut s, mut feeds) = streams(Pattern::Broadcast, 4);
        for c in [0, 1, 2, 3] {
            s.listen(feeds.as_mut_slice(), c);
        }
        s.listen(feeds.as_mut_slice(), 2); // already listening: no second entry
        s.unlisten(feeds.as_mut_slice(), 1);
        assert_eq!(s.listeners, vec![0, 3, 2]);
        assert_eq!(feeds[3].1.listener(), 1);
        assert!(!feeds[1].1.is_listening());
        s.unlisten(feeds.as_mut_slice(), 1); // not listening: nothing happens
        s.unlisten(feeds.as_mut_slice(), 2); // the last one: nothing moves
        assert_eq!(s.listeners, vec![0, 3]);
        for (i, &c) in s.listeners.iter().enumerate() {
            assert_eq!(feeds[c as usize].1.listener(), i as u32);
        }
    }

    #[test]
    fn broadcast_fans_out_in_listener_order_from_a_snapshot() {
        let (mut s, mut feeds) = streams(Pattern::Broadcast, 4);
        for c in [2, 0, 3] {
            s.listen(feeds.as_mut_slice(), c);
        }
        let to = s.publish(feeds.as_mut_slice(), 0, update(5));
        // Changes to the list while fanning out do not change the fan-out.
        s.unlisten(feeds.as_mut_slice(), 2);
        assert_eq!(to.collect::<Vec<_>>(), vec![2, 0, 3]);
    }

    #[test]
    fn chat_fans_out_to_the_room_but_the_sender() {
        let (mut s, mut feeds) = streams(Pattern::Chat, 7);
        let message = Record {
            created: 1,
            sender: 4,
        };
        let to = s.publish(feeds.as_mut_slice(), 1, message);
        assert_eq!(to.collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(s.positions_for(4, 0, 1).count(), 0);
        assert_eq!(s.positions_for(5, 0, 1).collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn delivery_moves_the_cursor_and_records_latency() {
        let window = Window {
            start: 0,
            end: 1_000,
            bucket: 1_000,
        };
        let mut rec = Recorder::new(window);
        let (mut s, mut feeds) = streams(Pattern::PerClient, 2);
        s.publish(feeds.as_mut_slice(), 1, update(10));
        s.publish(feeds.as_mut_slice(), 1, update(20));
        assert_eq!(s.head(1, &feeds[1].0), 2);
        assert_eq!(s.head(0, &feeds[0].0), 0);
        s.deliver(1, &mut feeds[1].0, 2, 30, &mut rec);
        assert_eq!(feeds[1].0.cursor(), 2);
        assert_eq!(rec.deliveries, 2);
        assert_eq!(rec.latency_mean_ns(), 15.0);
        s.deliver(1, &mut feeds[1].0, 1, 40, &mut rec); // nothing new
        assert_eq!(rec.deliveries, 2);
    }
}
